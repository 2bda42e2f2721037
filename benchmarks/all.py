"""Every benchmark, one after another, into one report: ``results/BENCHMARKS.md``.

Runs ``overhead``, ``host_lr``, ``schedule_eval``, ``scaling``, ``hyperparams`` and (where tensorflow-datasets
is installed) ``end_to_end``, and writes the machine, the
versions, the exact command, and a table per benchmark (medians, spreads, ratios) to ``--out``,
with all the figures as JSON beside it (``--json``). All but ``end_to_end`` need jax, flax and
optax only: their batches are synthetic.
Usage: ``python -m benchmarks.all [--quick] [--out results/BENCHMARKS.md] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import pathlib
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks import (
    end_to_end,
    host_lr,
    hparam_overhead,
    hyperparams,
    overhead,
    scaling,
    schedule_eval,
)
from benchmarks.timing import machine, markdown_table, write_json

DEFAULT_OUT = "results/BENCHMARKS.md"

TITLES = {
    "overhead": "Schedule overhead in the train step (`python -m benchmarks.overhead`)",
    "host_lr": "In-graph LR against the host-driven LR (`python -m benchmarks.host_lr`)",
    "schedule_eval": "Evaluating schedules (`python -m benchmarks.schedule_eval`)",
    "scaling": "Data-parallel scaling (`python -m benchmarks.scaling`)",
    "hparam_overhead": "Three scheduled hyperparameters and a plateau in the train step (`python -m benchmarks.hparam_overhead`)",
    "hyperparams": "Scheduled hyperparameters against `optax.inject_hyperparams` (`python -m benchmarks.hyperparams`)",
    "end_to_end": "The harness end to end against its step alone (`python -m benchmarks.end_to_end`)",
}


def _git_commit() -> str:
    """The checked-out commit (with '+ changes' when the tree is dirty), or 'unknown'."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" + uncommitted changes" if dirty else "")


def default_suite(quick: bool) -> dict[str, Callable[[], dict[str, Any]]]:
    """Benchmark name -> a call that runs it and returns its report."""
    return {
        "overhead": lambda: overhead.run(quick),
        "host_lr": lambda: host_lr.run(quick),
        "schedule_eval": lambda: schedule_eval.run(quick),
        "scaling": lambda: scaling.run(quick),
        "hyperparams": lambda: hyperparams.run(quick),
        "hparam_overhead": lambda: hparam_overhead.run(quick),
        # The harness itself, on its real data: only where tensorflow-datasets is installed.
        **(
            {"end_to_end": lambda: end_to_end.run(quick)}
            if importlib.util.find_spec("tensorflow_datasets") is not None
            else {}
        ),
    }


MARKDOWN = {
    "overhead": overhead.to_markdown,
    "host_lr": host_lr.to_markdown,
    "schedule_eval": schedule_eval.to_markdown,
    "scaling": scaling.to_markdown,
    "hyperparams": hyperparams.to_markdown,
    "hparam_overhead": hparam_overhead.to_markdown,
    "end_to_end": end_to_end.to_markdown,
}


def run_all(suite: dict[str, Callable[[], dict[str, Any]]]) -> dict[str, Any]:
    """Runs each benchmark of ``suite`` in turn; returns their reports, how long each took and
    the commit they ran (read first: the tree may change while they run)."""
    commit = _git_commit()
    reports, seconds = {}, {}
    for name, benchmark in suite.items():
        print(f"running {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        reports[name] = benchmark()
        seconds[name] = round(time.perf_counter() - started, 1)
    return {"commit": commit, "reports": reports, "seconds": seconds}


def headlines(reports: dict[str, dict[str, Any]]) -> list[list[str]]:
    """The one-line figures of each benchmark that ran: [figure, value]."""
    rows = []
    if "overhead" in reports:
        rows.append(
            [
                "train step with warmup + cosine / with constant LR (worst preset, paired, 95% CI)",
                f"{reports['overhead']['ratio']:.4f} ({reports['overhead']['ratio_low']:.4f} to "
                f"{reports['overhead']['ratio_high']:.4f}): a 1% cost "
                f"{reports['overhead']['verdict']}",
            ]
        )
    if "host_lr" in reports:
        r = reports["host_lr"]
        rows.append(
            [
                "in-graph LR / host-driven LR, steps per second (worst preset)",
                f"{r['in_graph_over_host']:.2f}x",
            ]
        )
        rows.append(
            [
                f"in-graph with {r['steps_per_call']} steps per call / host-driven (worst preset)",
                f"{r['scan_over_host']:.2f}x",
            ]
        )
    if "schedule_eval" in reports:
        ratios = [row["ratio"] for row in reports["schedule_eval"]["rows"] if "ratio" in row]
        if ratios:
            rows.append(
                [
                    "schedule evaluation, warmup_jax / optax (range over schedules)",
                    f"{min(ratios):.2f} to {max(ratios):.2f}",
                ]
            )
    if "scaling" in reports and reports["scaling"]["rows"]:
        last = reports["scaling"]["rows"][-1]
        if last["speedup_vs_1"] and last["devices"] > 1:
            rows.append(
                [
                    f"steps per second on {last['devices']} devices / on 1",
                    f"{last['speedup_vs_1']:.2f}x",
                ]
            )
    if "hyperparams" in reports:
        r = reports["hyperparams"]
        rows.append(
            [
                "AdamW with scheduled LR, b1 and weight decay in the step / inject_hyperparams set "
                "from Python",
                f"{r['scheduled_over_host']:.2f}x (/ constants: {r['scheduled_over_constant']:.3f}x)",
            ]
        )
    if "hparam_overhead" in reports:
        r = reports["hparam_overhead"]
        rows.append(
            [
                "train step with b1, b2, weight decay on schedules and a plateau / constants "
                "(worst preset, paired, 95% CI; target 1.02)",
                f"{r['ratio']:.4f} (upper end {r['ratio_high']:.4f}): "
                + ("met" if r["met"] else "not met on every preset"),
            ]
        )
    if "end_to_end" in reports:
        for row in reports["end_to_end"]["rows"]:
            rows.append(
                [
                    f"harness end to end / its compiled step alone, {row['preset']} "
                    f"(target {row['target']})",
                    f"{row['ratio']:.3f}",
                ]
            )
            if "k10_over_k1" in row:
                rows.append(
                    [
                        f"harness end to end, --steps_per_call 10 / 1, {row['preset']} "
                        f"(target {end_to_end.SCAN_TARGET}x)",
                        f"{row['k10_over_k1']:.2f}x",
                    ]
                )
    return rows


def to_markdown(result: dict[str, Any], command: str, quick: bool) -> str:
    """BENCHMARKS.md: what ran where, the headline figures, then each benchmark's table."""
    info = machine()
    reports = result["reports"]
    again = result.get("measured_again")
    parts = [
        "# Benchmarks",
        f"Generated by `{command}` on {datetime.date.today().isoformat()} "
        f"(commit {result['commit']}){' (quick: fewer repetitions)' if quick else ''}"
        + (
            f"; {', '.join(again['benchmarks'])} measured again by `{again['command']}` "
            f"(commit {again['commit']}) on a quieter machine."
            if again
            else "."
        ),
        markdown_table(
            ["machine", ""],
            [
                ["platform", info["platform"]],
                ["CPU cores", info["cpu_count"]],
                ["backend, devices", f"{info['backend']}, {info['devices']}"],
                ["Python", info["python"]],
                ["jax, flax, optax", f"{info['jax']}, {info['flax']}, {info['optax']}"],
            ],
        ),
        "Medians over repetitions; spread (±) = (90th - 10th percentile) / median. A and B of "
        "each comparison alternate in one process, so load changes hit both alike. Batches are "
        "synthetic random bytes resident on the device (end_to_end: the harness itself, on its real "
        "data). Seconds per benchmark: "
        + ", ".join(f"{name} {s:g}" for name, s in result["seconds"].items())
        + ".",
    ]
    if headline_rows := headlines(reports):
        parts += ["## Headline figures", markdown_table(["figure", "value"], headline_rows)]
    for name, report in reports.items():
        parts += [f"## {TITLES.get(name, name)}", MARKDOWN[name](report)]
    return "\n\n".join(parts) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.all", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="fewer repetitions in every benchmark (minutes)"
    )
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help=f"the markdown report (default: {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--json", metavar="PATH", help="also write every figure as JSON (default: beside --out)"
    )
    parser.add_argument(
        "--only",
        metavar="NAMES",
        help="comma-separated benchmarks to measure again (e.g. end_to_end, after a run on a "
        "busy machine); the others are kept from the JSON beside --out",
    )
    args = parser.parse_args(argv)
    command = "python -m benchmarks.all " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    out = pathlib.Path(args.out)
    suite = default_suite(args.quick)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in suite]
        if unknown:
            parser.error(
                f"--only: unknown benchmark {', '.join(unknown)}; choose from {', '.join(suite)}"
            )
        try:
            previous = json.loads(pathlib.Path(args.json or out.with_suffix(".json")).read_text())
        except (OSError, ValueError) as error:
            parser.error(f"--only needs the report of a whole run to update: {error}")
        fresh = run_all({n: suite[n] for n in names})
        result = {
            "commit": previous["commit"],
            "reports": {**previous["reports"], **fresh["reports"]},
            "seconds": {**previous["seconds"], **fresh["seconds"]},
            "measured_again": {
                "benchmarks": names,
                "command": command.strip(),
                "commit": fresh["commit"],
            },
        }
        command = previous["command"]
    else:
        result = run_all(suite)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_markdown(result, command.strip(), args.quick))
    write_json(args.json or str(out.with_suffix(".json")), {"command": command.strip(), **result})
    print(out.read_text())


if __name__ == "__main__":
    main()

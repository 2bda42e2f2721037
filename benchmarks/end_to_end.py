"""The harness end to end against its compiled step alone: does the device wait for the host?

*End to end*: ``train.loop.run`` as ``python -m train`` runs it, on the embedded data set, fresh
batches every step (made and placed ahead by ``train.prefetch``), logging on (``metrics.jsonl``,
TensorBoard) every ``log_every`` steps; its steady-state steps per second is the median over its
log intervals (fetch to fetch, so logging counts) after the first two (compilation, warm-up).
*Step alone*: the same jitted ``train_step`` in the same process, on one batch already on the
device, timed over calls of ``log_every`` steps. Each round runs one then the other, so load
changes hit both; the ratio is end to end / step alone per round, and its median over rounds.
A second comparison: end to end with ``--steps_per_call 10`` against 1.

Unlike the other benchmarks this one needs tensorflow-datasets and the prepared data set (it is
the harness itself); it prepares it on first use under ``--data_dir``.
Usage: ``python -m benchmarks.end_to_end [--quick] [--data_dir DIR] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import jax

from benchmarks.timing import machine, markdown_table, write_json

# preset -> (steps per run, log_every, rounds). log_every steps make one timed interval.
FULL = {"tiny": (4000, 200, 5), "small": (60, 5, 3)}
QUICK = {"tiny": (1200, 100, 2), "small": (30, 5, 1)}
SKIPPED_INTERVALS = 2  # compilation and warm-up
TARGETS = {"tiny": 0.9, "small": 0.98}
SCAN_TARGET = 1.5  # steps_per_call 10 over 1, end to end, on tiny


def _interval_rates(workdir: pathlib.Path, tokens_per_step: int) -> list[float]:
    """Steps per second of each log interval of the run in ``workdir``, the first ones skipped."""
    from train.logging import read_metrics  # noqa: PLC0415  (needs the harness's imports)

    rates, last = [], None
    for row in read_metrics(workdir):
        rate = row["train/tokens_per_sec"]
        if rate != last:  # one value per interval, on each of its rows
            rates.append(rate / tokens_per_step)
            last = rate
    return rates[SKIPPED_INTERVALS:]


def harness_rate(config: Any) -> float:
    """Median steady-state steps per second of one real run of ``config``."""
    from train.loop import run  # noqa: PLC0415

    run(config)
    return statistics.median(_interval_rates(pathlib.Path(config.workdir), config.tokens_per_step))


def step_alone_rate(config: Any, steps: int, calls: int) -> float:
    """Median steps per second of the compiled step alone on a device-resident batch."""
    from benchmarks.common import Setup  # noqa: PLC0415
    from train.model import ByteTransformer  # noqa: PLC0415
    from train.schedule import make_schedule  # noqa: PLC0415
    from train.step import make_train_step  # noqa: PLC0415

    model = ByteTransformer(config.model, config.seq_len, norm=config.norm)
    bench = Setup(config, model, make_schedule(config))
    k = config.steps_per_call
    step = make_train_step(model, bench.schedule, k)
    state, batch = bench.state(), bench.batch(k)
    state, _ = jax.block_until_ready(step(state, batch))  # compile
    seconds = []
    for _ in range(calls):
        start = time.perf_counter()
        for _ in range(steps // k):
            state, metrics = step(state, batch)
        jax.block_until_ready(metrics)
        seconds.append(time.perf_counter() - start)
    return steps / statistics.median(seconds)


def _config(preset: str, workdir: pathlib.Path, data: dict[str, Any], **overrides: Any) -> Any:
    from train.config import make_config  # noqa: PLC0415

    steps, log_every, _ = overrides.pop("plan")
    config = make_config(
        preset,
        str(workdir),
        steps=steps,
        log_every=log_every,
        eval_every=steps,
        checkpoint_every=steps,
        progress=False,
        **data,
        **overrides,
    )
    config.validate()
    return config


def measure(
    preset: str, plan: tuple[int, int, int], data: dict[str, Any], scan: bool
) -> dict[str, Any]:
    """One preset: end to end against the step alone, per round; and ``steps_per_call`` 10."""
    steps, log_every, rounds = plan
    calls = steps // log_every - SKIPPED_INTERVALS
    per_round = []
    with tempfile.TemporaryDirectory(prefix="warmup_jax_e2e_") as scratch:
        for r in range(rounds):
            config = _config(preset, pathlib.Path(scratch) / f"k1_{r}", data, plan=plan)
            end_to_end = harness_rate(config)
            alone = step_alone_rate(config, log_every, calls)
            entry = {"end_to_end": end_to_end, "step_alone": alone, "ratio": end_to_end / alone}
            if scan:
                scanned = _config(
                    preset,
                    pathlib.Path(scratch) / f"k10_{r}",
                    data,
                    plan=plan,
                    steps_per_call=10,
                )
                entry["end_to_end_k10"] = harness_rate(scanned)
                entry["k10_over_k1"] = entry["end_to_end_k10"] / end_to_end
            per_round.append(entry)
    row: dict[str, Any] = {
        "preset": preset,
        "steps_per_run": steps,
        "log_every": log_every,
        "rounds": per_round,
    }
    for key in ("end_to_end", "step_alone", "ratio", "end_to_end_k10", "k10_over_k1"):
        if key in per_round[0]:
            row[key] = statistics.median(entry[key] for entry in per_round)
    row["target"] = TARGETS.get(preset)
    return row


def run(
    quick: bool = False,
    presets: Sequence[str] = ("tiny", "small"),
    plan: dict[str, tuple[int, int, int]] | None = None,
    data_dir: str | None = None,
    source_dir: str | None = None,
) -> dict[str, Any]:
    """Measures each preset (and ``steps_per_call`` 10 against 1 on ``tiny``); ``plan`` maps a
    preset to (steps per run, log_every, rounds); ``data_dir`` and ``source_dir`` as the harness's
    flags (None: its defaults)."""
    plan = plan or (QUICK if quick else FULL)
    data = {"data_dir": data_dir, "source_dir": source_dir}
    rows = [measure(p, plan[p], data, scan=p == "tiny") for p in presets]
    return {"benchmark": "end_to_end", "quick": quick, "machine": machine(), "rows": rows}


def to_markdown(report: dict[str, Any]) -> str:
    """The report as a table, with the targets."""
    table = []
    for row in report["rows"]:
        scan = (
            f"{row['end_to_end_k10']:,.1f} ({row['k10_over_k1']:.2f}x; target {SCAN_TARGET}x)"
            if "k10_over_k1" in row
            else "-"
        )
        met = "met" if row["target"] is not None and row["ratio"] >= row["target"] else "not met"
        table.append(
            [
                row["preset"],
                f"{row['end_to_end']:,.1f}",
                f"{row['step_alone']:,.1f}",
                f"{row['ratio']:.3f} (target {row['target']}: {met})",
                scan,
                f"{len(row['rounds'])} x {row['steps_per_run']} steps, log every {row['log_every']}",
            ]
        )
    return (
        "Steady-state training steps per second of `python -m train`'s loop (fresh batches, made "
        "and placed ahead by a prefetch thread; metrics logged every interval) against its "
        "compiled `train_step` alone on a device-resident batch, in the same process, one after "
        "the other in each round; medians over the log intervals (the first two skipped) and "
        "then over rounds.\n\n"
        + markdown_table(
            [
                "preset",
                "end to end (steps/s)",
                "step alone (steps/s)",
                "end to end / alone",
                "end to end, --steps_per_call 10",
                "rounds",
            ],
            table,
        )
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.end_to_end", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer rounds")
    parser.add_argument(
        "--data_dir", help="where the prepared data set is (default: the harness's)"
    )
    parser.add_argument("--presets", default="tiny,small", help="comma-separated presets")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    report = run(args.quick, tuple(args.presets.split(",")), data_dir=args.data_dir)
    print(to_markdown(report))
    write_json(args.json, report)
    if args.json:
        print(json.dumps({r["preset"]: r["ratio"] for r in report["rows"]}))


if __name__ == "__main__":
    main()

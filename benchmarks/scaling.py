"""Steps per second on 1, 2, 4 and 8 devices, data parallel as the harness runs it.

Each device count runs in its own subprocess: on a CPU-only machine the devices are forced host
devices (``XLA_FLAGS=--xla_force_host_platform_device_count=N``), which share the machine's cores,
so the figures show the cost of sharding and how the cores are shared out, not what more hardware
would give; on a machine with accelerators the first N real devices are used and counts above the
number present are skipped. The step is the harness's ``train_step`` with the state replicated and
the batch split over a ``data`` mesh axis (``train.distributed``); the global batch is the
preset's (strong scaling; it must divide by N), a synthetic device-resident batch. Processes run
one after another, not interleaved: compare the figures of one report, not across reports.

Usage: ``python -m benchmarks.scaling [--quick] [--preset small] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from benchmarks.timing import markdown_table, ms, write_json

DEVICE_COUNTS = (1, 2, 4, 8)
# (steps per timed call, or None to calibrate to TARGET_S; timed calls)
FULL = (None, 30)
QUICK = (None, 8)
# Seconds one timed call should last.
TARGET_S = {"quick": 0.05, "full": 0.2}
RESULT_PREFIX = "SCALING_RESULT "


def _accelerator_count() -> int:
    """The number of non-CPU devices, asked in a subprocess so this process's jax stays unset."""
    probe = "import jax; d = jax.devices(); print(0 if d[0].platform == 'cpu' else len(d))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def worker(
    preset: str, num_devices: int, inner: int | None, repeats: int, target_s: float = 0.2
) -> dict[str, Any]:
    """In this process: steps per second of ``train_step`` on the first ``num_devices`` devices.

    ``inner`` steps per timed call; None calibrates it so that a call lasts about ``target_s``.
    """
    import jax

    from benchmarks.common import calibrate, setup
    from benchmarks.timing import interleaved, machine, summarize
    from train.distributed import batch_sharding, check_batch_size, make_mesh, replicated
    from train.step import make_train_step

    devices = jax.devices()
    if len(devices) < num_devices:
        raise SystemExit(f"asked for {num_devices} devices, found {len(devices)}")
    mesh = make_mesh(devices[:num_devices])
    bench = setup(preset)
    check_batch_size(bench.config.batch_size, mesh)
    train_step = make_train_step(bench.model, bench.schedule)
    holder = [bench.state(sharding=replicated(mesh))]
    batch = bench.batch(sharding=batch_sharding(mesh))

    def run(n: int) -> Any:
        state = holder[0]
        for _ in range(n):
            state, metrics = train_step(state, batch)
        holder[0] = state
        return state, metrics

    if inner is None:
        inner = calibrate(run, target_s)
    seconds = interleaved({"step": lambda: run(inner)}, repeats=repeats)["step"]
    summary = summarize([t / inner for t in seconds])
    return {
        "devices": num_devices,
        "device_kind": devices[0].device_kind,
        "platform": devices[0].platform,
        "global_batch": bench.config.batch_size,
        "steps_per_timed_call": inner,
        "seconds_per_step": summary,
        "steps_per_s": 1.0 / summary["median"],
        "machine": machine(),
    }


def _run_worker(
    preset: str, n: int, inner: int | None, repeats: int, target_s: float, forced_cpu: bool
) -> dict[str, Any]:
    env = dict(os.environ)
    if forced_cpu:
        flags = env.get("XLA_FLAGS", "")
        env["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={n}".strip()
        env["JAX_PLATFORMS"] = "cpu"
    command = [
        sys.executable,
        "-m",
        "benchmarks.scaling",
        "--worker",
        str(n),
        "--preset",
        preset,
        "--plan",
        str(inner or 0),
        str(repeats),
        "--target_s",
        str(target_s),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"the {n}-device worker failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
        )
    line = [x for x in done.stdout.splitlines() if x.startswith(RESULT_PREFIX)][-1]
    return json.loads(line[len(RESULT_PREFIX) :])


def run(
    quick: bool = False,
    preset: str = "small",
    counts: Sequence[int] = DEVICE_COUNTS,
    plan: tuple[int | None, int] | None = None,
) -> dict[str, Any]:
    """Runs one worker per device count; returns the report.

    ``plan``: (steps per timed call or None to calibrate, timed calls).
    """
    inner, repeats = plan or (QUICK if quick else FULL)
    target_s = TARGET_S["quick" if quick else "full"]
    accelerators = _accelerator_count()
    forced_cpu = accelerators == 0
    usable = [n for n in counts if forced_cpu or n <= accelerators]
    skipped = [n for n in counts if n not in usable]
    rows = [_run_worker(preset, n, inner, repeats, target_s, forced_cpu) for n in usable]
    # Every worker saw the same machine; its device count is the row's.
    machine_info = rows[0].pop("machine") if rows else None
    single = rows[0]["steps_per_s"] if rows and rows[0]["devices"] == 1 else None
    for row in rows:
        row.pop("machine", None)
        row["speedup_vs_1"] = row["steps_per_s"] / single if single else None
    return {
        "benchmark": "scaling",
        "quick": quick,
        "preset": preset,
        "forced_cpu_devices": forced_cpu,
        "skipped_device_counts": skipped,
        "machine": machine_info,
        "rows": rows,
    }


def to_markdown(report: dict[str, Any]) -> str:
    """The report as a table."""
    table = [
        [
            row["devices"],
            f"{row['platform']} ({row['device_kind']})",
            row["global_batch"],
            f"{ms(row['seconds_per_step']['median'])} (±{row['seconds_per_step']['spread']:.0%})",
            f"{row['steps_per_s']:,.1f}",
            f"{row['speedup_vs_1']:.2f}x" if row["speedup_vs_1"] else "n/a",
        ]
        for row in report["rows"]
    ]
    if report["forced_cpu_devices"]:
        note = (
            "Forced host CPU devices (`--xla_force_host_platform_device_count`), all sharing this "
            f"machine's {report['machine']['cpu_count'] if report['machine'] else '?'} cores: "
            "the figures show the cost of sharding and how XLA spreads a step over the cores "
            "(one CPU device may not use them all), not what more hardware would give."
        )
    else:
        note = "Real accelerator devices."
        if report["skipped_device_counts"]:
            note += f" Skipped (not present): {report['skipped_device_counts']} devices."
    return (
        f"Steps per second of the `{report['preset']}` preset's `train_step`, data parallel "
        "(replicated state, batch split over the devices), same global batch at every count; "
        "one process per count, median over timed calls (spread: 10th to 90th percentile over "
        f"the median). {note}\n\n"
        + markdown_table(
            ["devices", "device", "global batch", "time per step", "steps/s", "vs 1 device"], table
        )
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scaling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (about a minute)")
    parser.add_argument(
        "--preset",
        default="small",
        choices=("tiny", "small"),
        help="the model and batch to run (default: small)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    # Internal: one measurement in this process (what run() starts per device count).
    parser.add_argument("--worker", type=int, metavar="N", help=argparse.SUPPRESS)
    parser.add_argument(
        "--plan", type=int, nargs=2, metavar=("STEPS", "CALLS"), help=argparse.SUPPRESS
    )
    parser.add_argument("--target_s", type=float, default=TARGET_S["full"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        inner, repeats = args.plan or (0, FULL[1])
        result = worker(args.preset, args.worker, inner or None, repeats, args.target_s)
        print(RESULT_PREFIX + json.dumps(result), flush=True)
        return
    report = run(args.quick, args.preset)
    write_json(args.json, report)
    print(to_markdown(report))


if __name__ == "__main__":
    main()

"""Does a schedule inside the compiled step cost anything? Warmup + cosine against a constant LR.

The harness's jitted ``train_step`` (``train.step.make_train_step``) is built twice per preset,
identical except for the schedule: the preset's linear warmup + cosine decay (A) and a constant
learning rate (B). One timed call runs ``inner`` steps back to back on a synthetic batch that stays
on the device, then waits for the result (``inner`` is calibrated so that a call lasts about
``TARGET_S``: many steps on a GPU, one on a slow CPU); A and B alternate in one process
(``interleaved``) after untimed warm-up calls. Reported: the median time per step of each, the
spread, and the ratio A / B (1.00 = no cost).

Usage: ``python -m benchmarks.overhead [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

import warmup_jax as wj
from benchmarks.common import PRESET_NAMES, Setup, calibrate, setup
from benchmarks.timing import interleaved, machine, markdown_table, ms, summarize, write_json
from train.state import make_optimizer
from train.step import make_train_step

# preset -> (steps per timed call, or None to calibrate to TARGET_S; timed rounds).
FULL = {"tiny": (None, 200), "small": (None, 100)}
QUICK = {"tiny": (None, 40), "small": (None, 25)}
# Seconds one timed call should last: long enough that timer and Python noise vanish.
TARGET_S = {"quick": 0.05, "full": 0.2}


def _runner(bench: Setup, schedule: wj.Schedule) -> Callable[[int], Any]:
    """``run(n)``: ``n`` train steps with ``schedule``, on its own state, without waiting."""
    train_step = make_train_step(bench.model, schedule)
    holder = [bench.state(make_optimizer(bench.config, schedule))]
    batch = bench.batch()

    def run(n: int) -> Any:
        state = holder[0]
        for _ in range(n):
            state, metrics = train_step(state, batch)
        holder[0] = state
        return state, metrics

    return run


def measure(
    preset: str, inner: int | None, repeats: int, target_s: float = 0.2, warmup: int = 2
) -> dict[str, Any]:
    """Seconds per step with the preset's warmup + cosine schedule and with a constant LR.

    ``inner`` steps per timed call; None calibrates it so that a call lasts about ``target_s``.
    """
    bench = setup(preset)
    constant = wj.constant_schedule(bench.config.peak_lr)
    runs = {
        "warmup_cosine": _runner(bench, bench.schedule),
        "constant": _runner(bench, constant),
    }
    if inner is None:
        inner = calibrate(runs["warmup_cosine"], target_s)
    times = interleaved(
        {name: (lambda run=run: run(inner)) for name, run in runs.items()},
        repeats=repeats,
        warmup=warmup,
    )
    per_step = {name: [t / inner for t in samples] for name, samples in times.items()}
    row = {
        "preset": preset,
        "schedule": bench.schedule.to_config(),
        "steps_per_timed_call": inner,
        "warmup_cosine": summarize(per_step["warmup_cosine"]),
        "constant": summarize(per_step["constant"]),
    }
    row["ratio"] = row["warmup_cosine"]["median"] / row["constant"]["median"]
    return row


def run(
    quick: bool = False,
    presets: Sequence[str] = PRESET_NAMES,
    plan: dict[str, tuple[int | None, int]] | None = None,
) -> dict[str, Any]:
    """Measures every preset; ``plan`` maps preset -> (steps per timed call or None, rounds)."""
    plan = plan or (QUICK if quick else FULL)
    target_s = TARGET_S["quick" if quick else "full"]
    rows = [measure(preset, *plan[preset], target_s=target_s) for preset in presets]
    return {
        "benchmark": "overhead",
        "quick": quick,
        "machine": machine(),
        "rows": rows,
        # The headline: the worst (largest) per-preset ratio of medians.
        "ratio": max(row["ratio"] for row in rows),
    }


def to_markdown(report: dict[str, Any]) -> str:
    """The report as a table."""
    table = [
        [
            row["preset"],
            f"{ms(row['warmup_cosine']['median'])} (±{row['warmup_cosine']['spread']:.0%})",
            f"{ms(row['constant']['median'])} (±{row['constant']['spread']:.0%})",
            f"{row['ratio']:.3f}",
            f"{row['warmup_cosine']['n']} x {row['steps_per_timed_call']}",
        ]
        for row in report["rows"]
    ]
    return (
        "Time per step of the jitted `train_step` with the preset's linear warmup + cosine decay "
        "(the LR computed from `state.step` inside the step) and with a constant LR; median over "
        "interleaved timed calls (spread: 10th to 90th percentile over the median); "
        "ratio = warmup + cosine / constant (1.000 = free). Synthetic batch resident on the "
        f"device. Worst ratio: **{report['ratio']:.3f}**.\n\n"
        + markdown_table(
            ["preset", "warmup + cosine", "constant LR", "ratio", "calls x steps"], table
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.overhead", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (about a minute)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    report = run(args.quick)
    write_json(args.json, report)
    print(to_markdown(report))


if __name__ == "__main__":
    main()

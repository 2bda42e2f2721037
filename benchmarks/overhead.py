"""Does a schedule inside the compiled step cost anything? Warmup + cosine against a constant LR.

The harness's jitted ``train_step`` (``train.step.make_train_step``) is built twice per preset,
identical except for the schedule: the preset's linear warmup + cosine decay (A) and a constant
learning rate (B), each with its own train state. One timed call runs ``inner`` steps back to back
on a synthetic batch that stays on the device, then waits for the result. ``inner`` is calibrated
so that a call lasts about ``TARGET_S`` (a few milliseconds: one step of ``tiny`` on a CPU, a few
on a GPU, one long step of ``small`` on a CPU): most of the noise on a shared machine is load
that changes from one call to the next, so many short pairs beat a few long calls.

The timing is paired (``timing.paired``): each round times A and B back to back, A first in even
rounds and B first in odd ones, for a time budget per preset. Each pair gives a log ratio
``log(a_i / b_i)``; the ratio A / B is ``exp`` of their 20% trimmed mean, with a 95% bootstrap
confidence interval over the pairs (``timing.paired_ratio``: 2000 resamples, seed 0, stratified
by order). The verdict: a 1% cost is ruled out (CI upper bound < 1.01), visible (lower bound
> 1.01), or not resolved, with the number of pairs that would resolve it. The per-side medians,
spreads and the ratio of medians are kept too.

Usage: ``python -m benchmarks.overhead [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import warmup_jax as wj
from benchmarks.common import PRESET_NAMES, Setup, calibrate, setup
from benchmarks.timing import (
    describe_verdict,
    machine,
    markdown_table,
    ms,
    paired,
    paired_ratio,
    summarize,
    trimmed_mean,
    verdict,
    write_json,
)
from train.state import make_optimizer
from train.step import make_train_step

# preset -> (steps per timed call, or None to calibrate to TARGET_S; most pairs; seconds of timed
# pairs, or None for no limit). The budget ends the run, the most pairs bound it on a fast device.
FULL = {"tiny": (None, 50_000, 60.0), "small": (None, 5_000, 200.0)}
QUICK = {"tiny": (None, 20_000, 12.0), "small": (None, 2_000, 15.0)}
# Seconds one timed call should last: short, so that the two calls of a pair see the same load.
TARGET_S = {"quick": 0.002, "full": 0.002}
# The cost the verdict is about: warmup + cosine / constant = 1.01, one percent.
COST = 1.01


def _runner(bench: Setup, schedule: wj.Schedule, config: Any = None) -> Callable[[int], Any]:
    """``run(n)``: ``n`` train steps with ``schedule`` (and the optimizer of ``config``, default
    the preset's), on its own state, without waiting."""
    train_step = make_train_step(bench.model, schedule)
    holder = [bench.state(make_optimizer(config or bench.config, schedule))]
    batch = bench.batch()

    def run(n: int) -> Any:
        state = holder[0]
        for _ in range(n):
            state, metrics = train_step(state, batch)
        holder[0] = state
        return state, metrics

    return run


def schedule_pair(bench: Setup) -> dict[str, Callable[[int], Any]]:
    """A: the preset's warmup + cosine; B: a constant LR (the comparison of this benchmark)."""
    return {
        "warmup_cosine": _runner(bench, bench.schedule),
        "constant": _runner(bench, wj.constant_schedule(bench.config.peak_lr)),
    }


def measure(
    preset: str,
    inner: int | None,
    pairs: int,
    budget_s: float | None = None,
    target_s: float = TARGET_S["full"],
    warmup: int = 2,
    cost: float = COST,
    pair: Callable[[Setup], dict[str, Callable[[int], Any]]] = schedule_pair,
) -> dict[str, Any]:
    """Warmup + cosine against a constant LR for ``preset``, timed in pairs.

    ``inner`` steps per timed call (None: calibrated so that a call lasts about ``target_s``); at
    most ``pairs`` pairs, for at most ``budget_s`` seconds (None: no limit) after ``warmup``
    untimed rounds. Returns the paired ratio (``ratio``, ``low``, ``high``, ``pairs`` and the rest
    of ``paired_ratio`` under ``paired``), the ``verdict`` about ``cost``, the per-side
    ``summarize`` of the seconds per step and their ``ratio_of_medians``, and ``first_call_factor``:
    how much faster (< 1) or slower the first call of a round runs than the second, which the
    alternating order cancels.
    """
    bench = setup(preset)
    runs = pair(bench)
    a, b = runs  # A / B is the ratio
    if inner is None:
        inner = calibrate(runs[a], target_s)
    started = time.perf_counter()
    times = paired(
        lambda: runs[a](inner),
        lambda: runs[b](inner),
        pairs=pairs,
        warmup=warmup,
        budget_s=budget_s,
    )
    timed_s = time.perf_counter() - started
    estimate = paired_ratio(times["a"], times["b"], strata=times["a_first"])
    logs = np.log(np.asarray(times["a"]) / np.asarray(times["b"]))
    a_first = np.asarray(times["a_first"], dtype=bool)
    first_call_factor = (
        float(np.exp((trimmed_mean(logs[a_first]) - trimmed_mean(logs[~a_first])) / 2))
        if a_first.any() and (~a_first).any()
        else None
    )
    per_step = {a: [t / inner for t in times["a"]], b: [t / inner for t in times["b"]]}
    row: dict[str, Any] = {
        "preset": preset,
        "schedule": bench.schedule.to_config(),
        "steps_per_timed_call": inner,
        "pairs": estimate["n"],
        "seconds_timed": round(timed_s, 2),
        "ratio": estimate["ratio"],
        "low": estimate["low"],
        "high": estimate["high"],
        "paired": estimate,
        "verdict": verdict(estimate, cost),
        "first_call_factor": first_call_factor,
        a: summarize(per_step[a]),
        b: summarize(per_step[b]),
    }
    row["ratio_of_medians"] = row[a]["median"] / row[b]["median"]
    return row


def overall(rows: Sequence[dict[str, Any]]) -> str:
    """The presets' verdicts together: visible if one shows the cost, ruled out if all rule it
    out, not resolved otherwise."""
    outcomes = [row["verdict"]["outcome"] for row in rows]
    if "visible" in outcomes:
        return "visible"
    if all(outcome == "ruled out" for outcome in outcomes):
        return "ruled out"
    return "not resolved"


def run(
    quick: bool = False,
    presets: Sequence[str] = PRESET_NAMES,
    plan: dict[str, tuple[int | None, int, float | None]] | None = None,
) -> dict[str, Any]:
    """Measures every preset; ``plan`` maps preset -> (steps per timed call or None, most pairs,
    seconds of pairs or None)."""
    plan = plan or (QUICK if quick else FULL)
    target_s = TARGET_S["quick" if quick else "full"]
    rows = [measure(preset, *plan[preset], target_s=target_s) for preset in presets]
    # The headline: the worst (largest) per-preset paired ratio, with its interval.
    worst = max(rows, key=lambda row: row["ratio"])
    return {
        "benchmark": "overhead",
        "quick": quick,
        "machine": machine(),
        "cost": COST,
        "rows": rows,
        "ratio": worst["ratio"],
        "ratio_low": worst["low"],
        "ratio_high": worst["high"],
        "ratio_preset": worst["preset"],
        "verdict": overall(rows),
    }


def _percent(cost: float) -> str:
    return f"{(cost - 1) * 100:g}%"


def to_markdown(report: dict[str, Any]) -> str:
    """The report as a table, then one verdict line per preset."""
    table = [
        [
            row["preset"],
            f"{row['ratio']:.4f}",
            f"{row['low']:.4f} to {row['high']:.4f}",
            row["verdict"]["outcome"],
            f"{row['pairs']:,} x {row['steps_per_timed_call']}",
            f"{ms(row['warmup_cosine']['median'])} (±{row['warmup_cosine']['spread']:.0%})",
            f"{ms(row['constant']['median'])} (±{row['constant']['spread']:.0%})",
            f"{row['ratio_of_medians']:.3f}",
        ]
        for row in report["rows"]
    ]
    cost = report["cost"]
    lines = [
        f"- {row['preset']}: {describe_verdict(row['paired'], cost)}." for row in report["rows"]
    ]
    return (
        "Time per step of the jitted `train_step` with the preset's linear warmup + cosine decay "
        "(the LR computed from `state.step` inside the step) against a constant LR, timed in "
        "pairs: each round times both back to back, in alternating order. Ratio = warmup + cosine "
        "/ constant (1.000 = free): exp of the 20% trimmed mean of the per-pair log ratios, with "
        "a 95% bootstrap CI over the pairs (2000 resamples, seed 0). Per-side medians over the "
        "same calls (spread: 10th to 90th percentile over the median) and their ratio, for "
        f"comparison. Synthetic batch resident on the device. A {_percent(cost)} cost "
        f"is **{report['verdict']}**; worst ratio: **{report['ratio']:.4f}** "
        f"({report['ratio_low']:.4f} to {report['ratio_high']:.4f}, {report['ratio_preset']}).\n\n"
        + markdown_table(
            [
                "preset",
                "ratio (paired)",
                "95% CI",
                f"{_percent(cost)} cost",
                "pairs x steps",
                "warmup + cosine",
                "constant LR",
                "ratio of medians",
            ],
            table,
        )
        + "\n\n"
        + "\n".join(lines)
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.overhead", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a shorter time budget per preset (under a minute)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    report = run(args.quick)
    write_json(args.json, report)
    print(to_markdown(report))


if __name__ == "__main__":
    main()

"""What scheduled hyperparameters and a plateau multiplier cost in the train step.

The harness's jitted ``train_step`` twice per preset, with the preset's warmup + cosine LR in
both: (A) AdamW's ``b1``, ``b2`` and ``weight_decay`` on schedules (``--hparam``, evaluated from
the optimizer's count inside the step) and a plateau multiplier (``--plateau``), and (B) the
same three as constants and no plateau. Timed in pairs with a bootstrap confidence interval,
exactly as ``benchmarks.overhead`` (``overhead.measure``); the target is A / B at most 1.02.

Usage: ``python -m benchmarks.hparam_overhead [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks import overhead
from benchmarks.common import PRESET_NAMES, Setup
from benchmarks.timing import machine, markdown_table, ms, write_json

HYPERPARAMS = {
    "b1": "linear_warmup(peak_value=0.95, warmup_steps=warmup_steps, init_value=0.85)",
    "b2": "cosine_decay(0.99, steps, end_value=0.95)",
    "weight_decay": "cosine_decay(0.1, steps)",
}
PLATEAU = "patience=2,factor=0.5"
TARGET = 1.02


def hyperparams_pair(bench: Setup) -> dict[str, Callable[[int], Any]]:
    """A: three scheduled hyperparameters and a plateau; B: constants."""
    scheduled = dataclasses.replace(bench.config, hyperparams=HYPERPARAMS, plateau=PLATEAU)
    return {
        "scheduled": overhead._runner(bench, bench.schedule, scheduled),
        "constants": overhead._runner(bench, bench.schedule),
    }


def run(
    quick: bool = False,
    presets: Sequence[str] = PRESET_NAMES,
    plan: dict[str, tuple[int | None, int, float | None]] | None = None,
) -> dict[str, Any]:
    """Measures every preset, as ``overhead.run`` does."""
    plan = plan or (overhead.QUICK if quick else overhead.FULL)
    target_s = overhead.TARGET_S["quick" if quick else "full"]
    rows = [
        overhead.measure(p, *plan[p], target_s=target_s, cost=TARGET, pair=hyperparams_pair)
        for p in presets
    ]
    worst = max(rows, key=lambda row: row["ratio"])
    return {
        "benchmark": "hparam_overhead",
        "quick": quick,
        "machine": machine(),
        "hyperparams": HYPERPARAMS,
        "plateau": PLATEAU,
        "target": TARGET,
        "rows": rows,
        "ratio": worst["ratio"],
        "ratio_high": worst["high"],
        "met": all(row["high"] <= TARGET for row in rows),
    }


def _outcome(row: dict[str, Any], target: float) -> str:
    """met (the CI's upper end at most ``target``), not met (its lower end above), or not
    resolved."""
    if row["high"] <= target:
        return "met"
    return "not met" if row["low"] > target else "not resolved"


def to_markdown(report: dict[str, Any]) -> str:
    """The report as a table."""
    table = [
        [
            row["preset"],
            f"{row['ratio']:.4f}",
            f"{row['low']:.4f} to {row['high']:.4f}",
            _outcome(row, report["target"]),
            f"{row['pairs']:,} x {row['steps_per_timed_call']}",
            f"{ms(row['scheduled']['median'])}",
            f"{ms(row['constants']['median'])}",
        ]
        for row in report["rows"]
    ]
    return (
        "Time per step of the jitted `train_step` with AdamW's b1, b2 and weight decay on "
        f"schedules ({', '.join(f'`{k}={v}`' for k, v in report['hyperparams'].items())}) and "
        f"`--plateau {report['plateau']}`, against the same step with the three as constants "
        "and no plateau; timed in pairs as the schedule overhead above (ratio: exp of the 20% "
        f"trimmed mean of the per-pair log ratios, 95% bootstrap CI). Target: at most "
        f"{report['target']} (met when the CI's upper end is below it).\n\n"
        + markdown_table(
            [
                "preset",
                "ratio (paired)",
                "95% CI",
                f"<= {report['target']}",
                "pairs x steps",
                "scheduled",
                "constants",
            ],
            table,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.hparam_overhead", description=__doc__
    )
    parser.add_argument("--quick", action="store_true", help="a shorter time budget per preset")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    report = run(args.quick)
    print(to_markdown(report))
    write_json(args.json, report)


if __name__ == "__main__":
    main()

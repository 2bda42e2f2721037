"""How fast are the schedules themselves? Each one over 10 million steps with ``jit(vmap(...))``.

Compared with optax's own equivalent where one exists; the ratio is ours / optax (below 1 is
faster). Usage: ``python -m benchmarks.schedule_eval [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import optax

import warmup_jax as wj
from benchmarks.timing import interleaved, machine, markdown_table, ms, summarize, write_json

PEAK, WARMUP, TOTAL = 3e-4, 10_000, 10_000_000


def pairs() -> dict[str, tuple[object, object | None]]:
    """Schedule name -> (ours, optax's equivalent or None)."""
    return {
        "linear warmup": (wj.linear_warmup(PEAK, WARMUP), optax.linear_schedule(0.0, PEAK, WARMUP)),
        "exponential warmup": (wj.exponential_warmup(PEAK, WARMUP), None),
        "warmup + cosine (transformers)": (
            wj.cosine_schedule_with_warmup(PEAK, WARMUP, TOTAL),
            optax.warmup_cosine_decay_schedule(0.0, PEAK, WARMUP, TOTAL),
        ),
        "with_warmup(cosine_decay)": (
            wj.with_warmup(wj.cosine_decay(PEAK, TOTAL - WARMUP), WARMUP),
            optax.warmup_cosine_decay_schedule(0.0, PEAK, WARMUP, TOTAL),
        ),
        "linear decay": (wj.linear_decay(PEAK, TOTAL), optax.linear_schedule(PEAK, 0.0, TOTAL)),
        "polynomial decay": (
            wj.polynomial_decay(PEAK, TOTAL, power=2.0),
            optax.polynomial_schedule(PEAK, 0.0, 2.0, TOTAL),
        ),
        "exponential decay": (
            wj.exponential_decay(PEAK, 100_000, 0.5),
            optax.exponential_decay(PEAK, 100_000, 0.5),
        ),
        "inverse sqrt (transformers)": (wj.inverse_sqrt_schedule(PEAK, WARMUP), None),
        "warmup-stable-decay": (
            wj.wsd_schedule(PEAK, WARMUP, TOTAL // 5, num_training_steps=TOTAL),
            None,
        ),
        "radam warmup": (wj.radam_warmup(PEAK), None),
        "cyclic, re-warmup": (
            wj.cyclic_schedule(PEAK, 1_000_000, warmup_steps=WARMUP, cycle_decay=0.8),
            None,
        ),
    }


def run(quick: bool) -> dict:
    """Times every pair; returns the report."""
    steps = jnp.arange(TOTAL if not quick else TOTAL // 10, dtype=jnp.int32)
    repeats = 7 if quick else 21
    rows = []
    for name, (ours, theirs) in pairs().items():
        candidates = {"ours": lambda f=jax.jit(jax.vmap(ours)): f(steps)}
        if theirs is not None:
            candidates["optax"] = lambda f=jax.jit(jax.vmap(theirs)): f(steps)
        times = interleaved(candidates, repeats=repeats)
        row = {"schedule": name, "ours": summarize(times["ours"])}
        if theirs is not None:
            row["optax"] = summarize(times["optax"])
            row["ratio"] = row["ours"]["median"] / row["optax"]["median"]
        rows.append(row)
    return {
        "benchmark": "schedule_eval",
        "steps": int(steps.shape[0]),
        "repeats": repeats,
        "machine": machine(),
        "rows": rows,
    }


def to_markdown(report: dict) -> str:
    """The report as a table."""
    table = []
    for row in report["rows"]:
        theirs = row.get("optax")
        table.append(
            [
                row["schedule"],
                f"{ms(row['ours']['median'])} (±{row['ours']['spread']:.0%})",
                f"{ms(theirs['median'])} (±{theirs['spread']:.0%})" if theirs else "n/a",
                f"{row['ratio']:.2f}" if theirs else "n/a",
            ]
        )
    return (
        f"Evaluating each schedule at {report['steps']:,} steps in one `jit(vmap(schedule))` call; "
        f"median of {report['repeats']} interleaved runs (spread: 10th to 90th percentile over the "
        "median); ratio = ours / optax.\n\n"
        + markdown_table(["schedule", "warmup_jax", "optax", "ratio"], table)
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.schedule_eval", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1M steps and fewer repeats (seconds)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    report = run(args.quick)
    write_json(args.json, report)
    print(to_markdown(report))


if __name__ == "__main__":
    main()

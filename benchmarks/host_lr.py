"""The LR inside the compiled step against the LR written from Python before every step.

Three ways to train the same model on the same data, steps per second for each:

* ``in-graph``: the harness's ``train_step`` (``train.step.make_train_step``); the warmup + cosine
  LR is computed from ``state.step`` inside the jitted step. One call per step.
* ``host-driven``: the pattern ported from PyTorch (``scheduler.step()``): the optimizer is wrapped
  in ``optax.inject_hyperparams``, and before every step Python computes the LR (transformers'
  warmup + cosine formula in ``math``, from a Python step counter, so nothing is read back from
  the device) and writes it into ``opt_state.hyperparams["learning_rate"]``; the jitted step is
  otherwise the same (same model, loss, clipping, AdamW, donation). One call per step.
* ``in-graph, K per call``: the harness's ``train_step`` with ``steps_per_call`` K: K steps in one
  ``lax.scan``, one call per K steps. Only an in-graph schedule allows this: a host-driven LR can
  change only between calls.

Each timed call runs ``n`` steps back to back and waits for the last result; ``n``, a multiple of
K, is calibrated so that a call of the in-graph variant lasts about ``TARGET_S`` (many steps on a
GPU, few on a slow CPU). The three alternate in one process after untimed warm-up calls. Every
variant trains on synthetic batches already on the device (the same bytes for the one-step
variants; K batches stacked for scan), so the figures compare the step and its LR mechanism, not
input pipelines.

Usage: ``python -m benchmarks.host_lr [--quick] [--steps_per_call K] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import optax

from benchmarks.common import PRESET_NAMES, Setup, calibrate, setup
from benchmarks.timing import interleaved, machine, markdown_table, summarize, write_json
from train.model import next_byte_loss
from train.step import make_train_step

DEFAULT_STEPS_PER_CALL = 10
# preset -> (steps per timed call, or None to calibrate to TARGET_S; timed rounds). Steps per
# call are rounded up to a multiple of K.
FULL = {"tiny": (None, 60), "small": (None, 30)}
QUICK = {"tiny": (None, 12), "small": (None, 6)}
# Seconds one timed call of the one-step-per-call variants should last.
TARGET_S = {"quick": 0.1, "full": 0.5}

CANDIDATES = ("in_graph", "host_driven", "in_graph_scan")


def host_lr_function(bench: Setup) -> Callable[[int], float]:
    """The preset's schedule as a PyTorch user writes it: transformers' lr_lambda, Python floats."""
    peak = bench.config.peak_lr
    warmup = bench.config.num_warmup_steps
    total = bench.config.steps

    def lr(step: int) -> float:
        if step < warmup:
            return peak * step / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        return peak * max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))

    return lr


def host_driven_optimizer(bench: Setup) -> optax.GradientTransformation:
    """The harness's optimizer (clip, then AdamW) with its LR as an injected hyperparameter."""
    config = bench.config

    def make(learning_rate: float) -> optax.GradientTransformation:
        return optax.chain(
            optax.clip_by_global_norm(config.grad_clip),
            optax.adamw(
                learning_rate, b1=config.b1, b2=config.b2, weight_decay=config.weight_decay
            ),
        )

    return optax.inject_hyperparams(make)(learning_rate=config.peak_lr)


def host_driven_train_step(bench: Setup) -> Callable[..., Any]:
    """``train_step`` without a schedule: AdamW reads the LR from the optimizer state."""
    loss_and_grad = jax.value_and_grad(functools.partial(next_byte_loss, bench.model))

    def train_step(state, batch):
        loss, grads = loss_and_grad(state.params, batch)
        lr = state.opt_state.hyperparams["learning_rate"]
        metrics = {"learning_rate": lr, "loss": loss, "grad_norm": optax.tree.norm(grads)}
        return state.apply_gradients(grads=grads), metrics

    return jax.jit(train_step, donate_argnums=0)


def runners(bench: Setup, k: int) -> dict[str, Callable[[int], Any]]:
    """The three variants, each ``run(n)``: ``n`` steps (a multiple of ``k``) on its own state,
    returning the last outputs without waiting for them."""
    batch = bench.batch()

    in_graph_step = make_train_step(bench.model, bench.schedule)
    in_graph = {"state": bench.state()}

    def run_in_graph(n: int) -> Any:
        state = in_graph["state"]
        for _ in range(n):
            state, metrics = in_graph_step(state, batch)
        in_graph["state"] = state
        return state, metrics

    host_step = host_driven_train_step(bench)
    lr_at = host_lr_function(bench)
    host = {"state": bench.state(host_driven_optimizer(bench)), "step": 0}

    def run_host_driven(n: int) -> Any:
        state, step = host["state"], host["step"]
        for _ in range(n):
            # What a PyTorch port does in place of scheduler.step(): a Python float, every step.
            state.opt_state.hyperparams["learning_rate"] = lr_at(step)
            state, metrics = host_step(state, batch)
            step += 1
        host["state"], host["step"] = state, step
        return state, metrics

    scan_step = make_train_step(bench.model, bench.schedule, steps_per_call=k)
    scan_batch = bench.batch(steps_per_call=k)
    scanned = {"state": bench.state()}

    def run_in_graph_scan(n: int) -> Any:
        state = scanned["state"]
        for _ in range(n // k):
            state, metrics = scan_step(state, scan_batch)
        scanned["state"] = state
        return state, metrics

    return {
        "in_graph": run_in_graph,
        "host_driven": run_host_driven,
        "in_graph_scan": run_in_graph_scan,
    }


def candidates(bench: Setup, n: int, k: int) -> dict[str, Callable[[], Any]]:
    """The three variants, each a callable running ``n`` steps and returning the last outputs."""
    if n % k:
        raise ValueError(f"steps per timed call ({n}) must be a multiple of --steps_per_call ({k})")
    return {name: (lambda run=run: run(n)) for name, run in runners(bench, k).items()}


def measure(
    preset: str, n: int | None, repeats: int, k: int, target_s: float = 0.5, warmup: int = 2
) -> dict[str, Any]:
    """Steps per second of the three variants on ``preset``.

    ``n`` steps per timed call (rounded up to a multiple of ``k``); None calibrates it on the
    in-graph variant so that one of its calls lasts about ``target_s``.
    """
    bench = setup(preset)
    runs = runners(bench, k)
    n = calibrate(runs["in_graph"], target_s, multiple=k) if n is None else -(-n // k) * k
    times = interleaved(
        {name: (lambda run=run: run(n)) for name, run in runs.items()},
        repeats=repeats,
        warmup=warmup,
    )
    row: dict[str, Any] = {"preset": preset, "steps_per_timed_call": n, "steps_per_call": k}
    for name in CANDIDATES:
        summary = summarize(times[name])
        # Steps per second at the median, and the spread of the timings it comes from.
        row[name] = {"steps_per_s": n / summary["median"], "seconds_per_call": summary}
    rate = {name: row[name]["steps_per_s"] for name in CANDIDATES}
    row["in_graph_over_host"] = rate["in_graph"] / rate["host_driven"]
    row["scan_over_in_graph"] = rate["in_graph_scan"] / rate["in_graph"]
    row["scan_over_host"] = rate["in_graph_scan"] / rate["host_driven"]
    return row


def run(
    quick: bool = False,
    steps_per_call: int = DEFAULT_STEPS_PER_CALL,
    presets: Sequence[str] = PRESET_NAMES,
    plan: dict[str, tuple[int | None, int]] | None = None,
) -> dict[str, Any]:
    """Measures every preset; ``plan`` maps preset -> (steps per timed call or None, rounds)."""
    plan = plan or (QUICK if quick else FULL)
    k = steps_per_call
    target_s = TARGET_S["quick" if quick else "full"]
    rows = [measure(preset, *plan[preset], k=k, target_s=target_s) for preset in presets]
    return {
        "benchmark": "host_lr",
        "quick": quick,
        "steps_per_call": k,
        "machine": machine(),
        "rows": rows,
        # Headlines: the smallest speed-ups over all presets.
        "in_graph_over_host": min(row["in_graph_over_host"] for row in rows),
        "scan_over_host": min(row["scan_over_host"] for row in rows),
    }


def _rate(cell: dict[str, Any]) -> str:
    return f"{cell['steps_per_s']:,.1f} (±{cell['seconds_per_call']['spread']:.0%})"


def to_markdown(report: dict[str, Any]) -> str:
    """The report as a table."""
    k = report["steps_per_call"]
    table = [
        [
            row["preset"],
            _rate(row["in_graph"]),
            _rate(row["host_driven"]),
            _rate(row["in_graph_scan"]),
            f"{row['in_graph_over_host']:.2f}x",
            f"{row['scan_over_in_graph']:.2f}x",
            f"{row['scan_over_host']:.2f}x",
        ]
        for row in report["rows"]
    ]
    return (
        "Training steps per second (median over interleaved timed calls of "
        f"{', '.join(str(r['steps_per_timed_call']) for r in report['rows'])} steps; spread: "
        "10th to 90th percentile of the call times over the median). *in-graph*: the harness's "
        "`train_step`, LR from `state.step` inside the jit. *host-driven*: "
        "`optax.inject_hyperparams`, the LR computed in Python and written into the optimizer "
        "state before every call (the PyTorch `scheduler.step()` pattern). "
        f"*scan, K={k}*: the in-graph step with `--steps_per_call {k}` (`lax.scan`). Same model, "
        "optimizer and synthetic device-resident batches for all three.\n\n"
        + markdown_table(
            [
                "preset",
                "in-graph (steps/s)",
                "host-driven (steps/s)",
                f"scan, K={k} (steps/s)",
                "in-graph / host",
                "scan / in-graph",
                "scan / host",
            ],
            table,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.host_lr",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (about a minute)")
    parser.add_argument(
        "--steps_per_call",
        type=int,
        default=DEFAULT_STEPS_PER_CALL,
        metavar="K",
        help=f"steps per call for the lax.scan variant (default: {DEFAULT_STEPS_PER_CALL})",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.steps_per_call < 1:
        parser.error(f"--steps_per_call must be at least 1, got {args.steps_per_call}")
    report = run(args.quick, args.steps_per_call)
    write_json(args.json, report)
    print(to_markdown(report))


if __name__ == "__main__":
    main()

"""Scheduled hyperparameters inside the compiled step against ``optax.inject_hyperparams`` set
from Python before every step, and against constants.

Three ways to run the same AdamW step (global-norm clipping, then AdamW) on a small MLP, steps per
second for each:

* ``scheduled``: :func:`warmup_jax.scheduled` with the learning rate (warmup + cosine), ``b1``
  (a linear warmup from 0.85 to 0.95) and ``weight_decay`` (a cosine decay from 0.1) on
  warmup_jax schedules, evaluated from the optimizer's count inside the jitted step.
* ``host_driven``: ``optax.inject_hyperparams(optax.adamw)``; before every step Python computes
  the three values (closed forms in ``math`` from a Python step counter, so nothing is read back
  from the device) and writes them into ``opt_state.hyperparams``, the pattern ported from
  PyTorch's ``scheduler.step()``.
* ``constant``: plain ``optax.adamw`` with the three values fixed (the floor).

Each timed call runs ``n`` steps back to back and waits for the last result; the candidates
alternate in one process after untimed warm-up calls (:func:`benchmarks.timing.interleaved`).

Usage: ``python -m benchmarks.hyperparams [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

import warmup_jax as wj
from benchmarks.timing import interleaved, machine, markdown_table, summarize, write_json

CANDIDATES = ("scheduled", "host_driven", "constant")
TOTAL_STEPS = 1000
WARMUP_STEPS = 100
PEAK_LR = 1e-3
# (hidden width, steps per timed call, timed rounds)
FULL = {"width": 256, "steps": 200, "repeats": 30}
QUICK = {"width": 64, "steps": 50, "repeats": 8}


def schedules() -> dict[str, wj.Schedule]:
    """The three scheduled hyperparameters."""
    return {
        "learning_rate": wj.cosine_schedule_with_warmup(PEAK_LR, WARMUP_STEPS, TOTAL_STEPS),
        "b1": wj.linear_warmup(0.95, WARMUP_STEPS, init_value=0.85),
        "weight_decay": wj.cosine_decay(0.1, TOTAL_STEPS),
    }


def host_values(step: int) -> dict[str, float]:
    """The same three values as a PyTorch port computes them: Python floats from a Python step."""
    if step < WARMUP_STEPS:
        lr = PEAK_LR * step / WARMUP_STEPS
    else:
        progress = (step - WARMUP_STEPS) / (TOTAL_STEPS - WARMUP_STEPS)
        lr = PEAK_LR * max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))
    b1 = 0.85 + 0.1 * min(step, WARMUP_STEPS) / WARMUP_STEPS
    wd = 0.1 * 0.5 * (1.0 + math.cos(math.pi * min(step, TOTAL_STEPS) / TOTAL_STEPS))
    return {"learning_rate": lr, "b1": b1, "weight_decay": wd}


def mlp(width: int, seed: int = 0) -> tuple[dict[str, jax.Array], jax.Array, jax.Array]:
    """Parameters of a 3-layer MLP and a fixed batch (inputs, targets) on the device."""
    keys = jax.random.split(jax.random.key(seed), 5)
    sizes = [(32, width), (width, width), (width, 1)]
    params = {
        f"w{i}": jax.random.normal(k, s) / math.sqrt(s[0])
        for i, (k, s) in enumerate(zip(keys, sizes))
    }
    x = jax.random.normal(keys[3], (128, 32))
    y = jax.random.normal(keys[4], (128, 1))
    return params, x, y


def loss(params: dict[str, jax.Array], x: jax.Array, y: jax.Array) -> jax.Array:
    h = jnp.tanh(x @ params["w0"])
    h = jnp.tanh(h @ params["w1"])
    return jnp.mean((h @ params["w2"] - y) ** 2)


def optimizers() -> dict[str, optax.GradientTransformation]:
    """The three candidates' optimizers (each clipped first)."""
    constants = host_values(WARMUP_STEPS)
    clip = optax.clip_by_global_norm(1.0)
    return {
        "scheduled": optax.chain(clip, wj.scheduled(optax.adamw, **schedules())),
        "host_driven": optax.chain(clip, optax.inject_hyperparams(optax.adamw)(**host_values(0))),
        "constant": optax.chain(clip, optax.adamw(**constants)),
    }


def runners(width: int) -> dict[str, Callable[[int], Any]]:
    """Each candidate as ``run(n)``: ``n`` steps on its own state, returning the last loss."""
    params, x, y = mlp(width)
    grad = jax.value_and_grad(loss)
    out: dict[str, Callable[[int], Any]] = {}
    for name, opt in optimizers().items():

        def step(carry: Any, opt: optax.GradientTransformation = opt) -> Any:
            p, s = carry
            value, g = grad(p, x, y)
            updates, s = opt.update(g, s, p)
            return (optax.apply_updates(p, updates), s), value

        jitted = jax.jit(step, donate_argnums=0)
        box = {"carry": (jax.tree.map(jnp.copy, params), opt.init(params)), "step": 0}

        if name == "host_driven":

            def run(n: int, jitted: Any = jitted, box: dict[str, Any] = box) -> Any:
                carry, step_index = box["carry"], box["step"]
                for _ in range(n):
                    # What a PyTorch port does in place of scheduler.step(): Python floats.
                    hyperparams = carry[1][1].hyperparams
                    for key, value in host_values(step_index).items():
                        hyperparams[key] = value
                    carry, value = jitted(carry)
                    step_index += 1
                box["carry"], box["step"] = carry, step_index
                return value

        else:

            def run(n: int, jitted: Any = jitted, box: dict[str, Any] = box) -> Any:
                carry = box["carry"]
                for _ in range(n):
                    carry, value = jitted(carry)
                box["carry"] = carry
                return value

        out[name] = run
    return out


def measure(width: int, steps: int, repeats: int, warmup: int = 2) -> dict[str, Any]:
    """Steps per second of the three candidates, ``steps`` steps per timed call."""
    runs = runners(width)
    times = interleaved(
        {name: (lambda run=run: run(steps)) for name, run in runs.items()},
        repeats=repeats,
        warmup=warmup,
    )
    row: dict[str, Any] = {"width": width, "steps_per_timed_call": steps}
    for name in CANDIDATES:
        summary = summarize(times[name])
        row[name] = {"steps_per_s": steps / summary["median"], "seconds_per_call": summary}
    rate = {name: row[name]["steps_per_s"] for name in CANDIDATES}
    row["scheduled_over_host"] = rate["scheduled"] / rate["host_driven"]
    row["scheduled_over_constant"] = rate["scheduled"] / rate["constant"]
    return row


def run(quick: bool = False, plan: dict[str, int] | None = None) -> dict[str, Any]:
    """The report: one row measured with ``plan`` (``width``, ``steps``, ``repeats``)."""
    plan = plan or (QUICK if quick else FULL)
    row = measure(plan["width"], plan["steps"], plan["repeats"])
    return {
        "benchmark": "hyperparams",
        "quick": quick,
        "machine": machine(),
        "scheduled": {k: v.to_config() for k, v in schedules().items()},
        "rows": [row],
        "scheduled_over_host": row["scheduled_over_host"],
        "scheduled_over_constant": row["scheduled_over_constant"],
    }


def _rate(cell: dict[str, Any]) -> str:
    return f"{cell['steps_per_s']:,.1f} (±{cell['seconds_per_call']['spread']:.0%})"


def to_markdown(report: dict[str, Any]) -> str:
    """The report as a table."""
    table = [
        [
            row["width"],
            _rate(row["scheduled"]),
            _rate(row["host_driven"]),
            _rate(row["constant"]),
            f"{row['scheduled_over_host']:.2f}x",
            f"{row['scheduled_over_constant']:.3f}x",
        ]
        for row in report["rows"]
    ]
    return (
        "AdamW steps per second on an MLP (median over interleaved timed calls of "
        f"{', '.join(str(r['steps_per_timed_call']) for r in report['rows'])} steps; spread: "
        "10th to 90th percentile of the call times over the median). *scheduled*: "
        "`warmup_jax.scheduled(optax.adamw, learning_rate=..., b1=..., weight_decay=...)`, the "
        "three schedules evaluated from the optimizer's count inside the jit. *host-driven*: "
        "`optax.inject_hyperparams(optax.adamw)`, the three values computed in Python and written "
        "into the optimizer state before every step. *constant*: `optax.adamw` with fixed "
        "values.\n\n"
        + markdown_table(
            [
                "MLP width",
                "scheduled (steps/s)",
                "host-driven (steps/s)",
                "constant (steps/s)",
                "scheduled / host",
                "scheduled / constant",
            ],
            table,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.hyperparams",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a smaller MLP, fewer repetitions")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    report = run(args.quick)
    write_json(args.json, report)
    print(to_markdown(report))


if __name__ == "__main__":
    main()

"""Learning-rate warmup for a Flax NNX model, with the learning rate read inside ``jit``.

Training often starts with a *warmup*: the learning rate (LR) climbs from 0 to its peak over the
first steps of training, then slowly decays. This example trains a tiny two-layer network
(``flax.nnx``) on made-up regression data with such a schedule from ``warmup_jax`` and shows:

* how to plug a ``warmup_jax`` schedule into ``optax`` and ``nnx.Optimizer``;
* how to log the LR each update used, computed inside the compiled train step from the
  optimizer's step counter (which lives on the device, so no Python integer is passed in and
  the step compiles once, not once per step);
* that the loss goes down while the LR warms up and then decays.

The whole recipe::

    import jax.numpy as jnp
    import optax
    import warmup_jax
    from flax import nnx

    schedule = warmup_jax.cosine_schedule_with_warmup(
        peak_value=1e-2, num_warmup_steps=30, num_training_steps=300
    )
    optimizer = nnx.Optimizer(model, optax.adamw(learning_rate=schedule), wrt=nnx.Param)

    @nnx.jit
    def train_step(model, optimizer, x, y):
        lr = schedule(optimizer.step[...].astype(jnp.int32))  # read before the update
        loss, grads = nnx.value_and_grad(loss_fn)(model, x, y)
        optimizer.update(model, grads)
        return loss, lr

Run it from the repository root (a few seconds on a laptop CPU; no downloads)::

    python -m examples.nnx_warmup --steps 300 --peak_lr 1e-2 --warmup_steps 30
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import warmup_jax

NUM_FEATURES = 8
NUM_EXAMPLES = 256
HIDDEN = 32


class MLP(nnx.Module):
    """Two dense layers with a GELU in between: ``float32[batch, in] -> float32[batch, 1]``."""

    def __init__(self, num_features: int, hidden: int, *, rngs: nnx.Rngs) -> None:
        self.hidden = nnx.Linear(num_features, hidden, rngs=rngs)
        self.out = nnx.Linear(hidden, 1, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.out(nnx.gelu(self.hidden(x)))


def make_data(seed: int, num_examples: int = NUM_EXAMPLES) -> tuple[jax.Array, jax.Array]:
    """Synthetic regression data from a fixed seed: ``y = sin(x @ w) + small noise``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(num_examples, NUM_FEATURES)).astype(np.float32)
    w = rng.normal(size=(NUM_FEATURES, 1)).astype(np.float32) / np.sqrt(NUM_FEATURES)
    y = np.sin(2.0 * x @ w) + 0.05 * rng.normal(size=(num_examples, 1)).astype(np.float32)
    return jnp.asarray(x), jnp.asarray(y, dtype=jnp.float32)


def loss_fn(model: MLP, x: jax.Array, y: jax.Array) -> jax.Array:
    """Mean squared error."""
    return jnp.mean((model(x) - y) ** 2)


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
      history: ``(loss, lr)`` per step, in order: the loss before update ``i`` and the learning
        rate update ``i`` used.
      model: the trained model.
      optimizer: the ``nnx.Optimizer``; ``optimizer.step`` counts the updates, on the device.
      schedule: the learning-rate schedule.
      num_traces: how many times ``train_step`` was traced (1 means it compiled once).
    """

    history: list[tuple[float, float]]
    model: MLP
    optimizer: nnx.Optimizer
    schedule: warmup_jax.Schedule
    num_traces: int


def train(
    steps: int = 300,
    peak_lr: float = 1e-2,
    warmup_steps: int = 30,
    seed: int = 0,
    log_every: int = 0,
) -> TrainResult:
    """Trains the MLP for ``steps`` full-batch AdamW updates with a warmup-then-cosine LR.

    Args:
      steps: number of updates; the cosine reaches 0 at this step.
      peak_lr: the learning rate at the end of the warmup.
      warmup_steps: updates spent climbing linearly from 0 to ``peak_lr``.
      seed: seeds both the data and the model's initial weights.
      log_every: print ``step, loss, lr`` every this many steps (and the last one); 0 is silent.
    """
    schedule = warmup_jax.cosine_schedule_with_warmup(peak_lr, warmup_steps, steps)
    model = MLP(NUM_FEATURES, HIDDEN, rngs=nnx.Rngs(seed))
    optimizer = nnx.Optimizer(model, optax.adamw(learning_rate=schedule), wrt=nnx.Param)
    x, y = make_data(seed)

    num_traces = 0

    @nnx.jit
    def train_step(
        model: MLP, optimizer: nnx.Optimizer, x: jax.Array, y: jax.Array
    ) -> tuple[jax.Array, jax.Array]:
        nonlocal num_traces
        num_traces += 1  # a Python side effect: runs when jit traces, not on every call
        # optimizer.step is an on-device uint32 counter; optax counts in int32, so give the
        # schedule the same integer type optax gives it. Read it before the update, so that
        # this is the LR the update below uses.
        lr = schedule(optimizer.step[...].astype(jnp.int32))
        loss, grads = nnx.value_and_grad(loss_fn)(model, x, y)
        optimizer.update(model, grads)
        return loss, lr

    on_device = []  # kept as device arrays so the loop does not wait for each step
    for step in range(steps):
        loss, lr = train_step(model, optimizer, x, y)
        on_device.append((loss, lr))
        if log_every and (step % log_every == 0 or step == steps - 1):
            print(f"step {step:5d}  loss {float(loss):.5f}  lr {float(lr):.3e}")
    history = [(float(loss), float(lr)) for loss, lr in jax.device_get(on_device)]
    return TrainResult(history, model, optimizer, schedule, num_traces)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command-line flags (``--help`` lists them)."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.nnx_warmup",
        description=(
            "Train a tiny Flax NNX MLP on synthetic data with a warmup_jax "
            "warmup-then-cosine learning rate, logging the LR each update used."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=300,
        help="number of training updates; the cosine decay reaches 0 just after the last one",
    )
    parser.add_argument(
        "--peak_lr", type=float, default=1e-2, help="learning rate reached at the end of warmup"
    )
    parser.add_argument(
        "--warmup_steps",
        type=int,
        default=30,
        help="updates spent raising the LR linearly from 0 to --peak_lr",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the data and the weights")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    if not 0 <= args.warmup_steps <= args.steps:
        parser.error(f"--warmup_steps must be in [0, --steps], got {args.warmup_steps}")
    try:  # the schedule's own checks (a peak that is not a positive finite number, ...)
        warmup_jax.cosine_schedule_with_warmup(args.peak_lr, args.warmup_steps, args.steps)
    except ValueError as error:
        parser.error(str(error).replace("peak_value", "--peak_lr"))
    return args


def main(argv: Sequence[str] | None = None) -> list[tuple[float, float]]:
    """Command-line entry point: trains, prints about ten ``step, loss, lr`` lines.

    Returns:
      the ``(loss, lr)`` of every step.
    """
    args = parse_args(argv)
    result = train(
        steps=args.steps,
        peak_lr=args.peak_lr,
        warmup_steps=args.warmup_steps,
        seed=args.seed,
        log_every=max(1, args.steps // 10),
    )
    first, last = result.history[0][0], result.history[-1][0]
    print(
        f"loss {first:.5f} -> {last:.5f} in {args.steps} steps; "
        f"train_step compiled {result.num_traces} time(s)"
    )
    return result.history


if __name__ == "__main__":
    main()

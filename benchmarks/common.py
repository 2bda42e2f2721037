"""What the step benchmarks share: a preset's model, optimizer, state and a synthetic batch.

Only ``train.config``, ``train.model``, ``train.state`` and ``train.step`` are imported: the
benchmarks need neither tensorflow-datasets nor the prepared data set. A batch is random bytes,
which costs the step exactly what real text costs (the model's work does not depend on the values).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

import warmup_jax
from train.config import RunConfig, make_config
from train.model import ByteTransformer
from train.schedule import make_schedule
from train.state import TrainState, create_train_state, make_optimizer

PRESET_NAMES = ("tiny", "small")
MAX_STEPS_PER_CALL = 2000


@dataclasses.dataclass
class Setup:
    """One preset's pieces, built as ``python -m train`` builds them."""

    config: RunConfig
    model: ByteTransformer
    schedule: warmup_jax.Schedule

    def state(
        self, optimizer: optax.GradientTransformation | None = None, sharding: Any = None
    ) -> TrainState:
        """A fresh train state (seed 0) with ``optimizer`` (default: AdamW with the schedule)."""
        if optimizer is None:
            optimizer = make_optimizer(self.config, self.schedule)
        return create_train_state(self.config, self.model, optimizer, sharding)

    def batch(self, steps_per_call: int = 1, sharding: Any = None, seed: int = 0) -> jax.Array:
        """Random bytes shaped like the loop's batches, placed on the device(s) once.

        ``[batch, seq_len + 1]``, or ``[steps_per_call, batch, seq_len + 1]`` when
        ``steps_per_call`` > 1.
        """
        shape = (self.config.batch_size, self.config.seq_len + 1)
        if steps_per_call > 1:
            shape = (steps_per_call, *shape)
        tokens = jax.random.randint(jax.random.key(seed), shape, 0, 256, dtype=jnp.int32)
        return jax.device_put(tokens.astype(jnp.uint8), sharding)


def setup(preset: str, **overrides: Any) -> Setup:
    """The preset's config (its default warmup + cosine schedule), model and schedule."""
    config = make_config(
        preset, "/nonexistent-benchmarks-write-nothing", progress=False, **overrides
    )
    config.validate()
    model = ByteTransformer(config.model, config.seq_len, norm=config.norm)
    return Setup(config, model, make_schedule(config))


def steps_per_second(seconds_per_call: dict[str, float], steps_per_call: int) -> float:
    """Steps per second from a ``summarize`` dict of seconds per timed call."""
    return steps_per_call / seconds_per_call["median"]


def calibrate(run: Callable[[int], Any], target_s: float, multiple: int = 1) -> int:
    """How many steps one timed call should run so that it lasts about ``target_s`` seconds.

    ``run(n)`` runs ``n`` steps (a multiple of ``multiple``) and returns something to wait for.
    It is called twice with ``multiple`` steps: once to compile, once to time. The answer is a
    multiple of ``multiple``, at least ``multiple`` and at most ``MAX_STEPS_PER_CALL``: a tiny
    step on a GPU takes well under a millisecond, a ``small`` step on a laptop CPU a tenth of a
    second, and a call of one fast step would time the timer.
    """
    jax.block_until_ready(run(multiple))
    start = time.perf_counter()
    jax.block_until_ready(run(multiple))
    per_step = (time.perf_counter() - start) / multiple
    steps = max(1, round(target_s / per_step / multiple)) * multiple
    return min(steps, max(multiple, MAX_STEPS_PER_CALL // multiple * multiple))

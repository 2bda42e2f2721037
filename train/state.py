"""The training state (its step count on the device) and the optimizer built from a schedule."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from flax.training import train_state

import warmup_jax
from train.config import RunConfig
from train.model import ByteTransformer

TrainState = train_state.TrainState


def make_optimizer(
    config: RunConfig, schedule: warmup_jax.Schedule
) -> optax.GradientTransformation:
    """Global-norm gradient clipping, then AdamW whose learning rate is ``schedule``."""
    return optax.chain(
        optax.clip_by_global_norm(config.grad_clip),
        optax.adamw(
            learning_rate=schedule,
            b1=config.b1,
            b2=config.b2,
            weight_decay=config.weight_decay,
        ),
    )


def create_train_state(
    config: RunConfig,
    model: ByteTransformer,
    optimizer: optax.GradientTransformation,
    sharding: jax.sharding.Sharding | None = None,
) -> TrainState:
    """A fresh state from ``config.seed``, made in one jitted call.

    ``step`` is a strongly typed int32 device array from the start: ``TrainState.create``'s Python
    int would make ``train_step`` compile again after its first call and trip
    ``jax.transfer_guard("disallow")``.
    """

    def init() -> TrainState:
        dummy = jnp.zeros((1, config.seq_len), jnp.int32)
        params = model.init(jax.random.key(config.seed), dummy)["params"]
        state = TrainState.create(apply_fn=model.apply, params=params, tx=optimizer)
        return state.replace(step=jnp.zeros((), jnp.int32))

    return jax.jit(init, out_shardings=sharding)()

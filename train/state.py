"""The training state (its step count on the device) and the optimizer built from a schedule."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax.training import train_state

import warmup_jax
from train.config import RunConfig
from train.model import ByteTransformer
from train.param_groups import frozen_mask, make_groups, weight_decay_mask
from train.schedule import make_hyperparams, plateau_settings
from train.token_clock import scale_by_token_clock

TrainState = train_state.TrainState


def make_optimizer(
    config: RunConfig, schedule: warmup_jax.Schedule
) -> optax.GradientTransformation:
    """Global-norm gradient clipping, then AdamW whose learning rate is ``schedule``.

    AdamW decays every parameter but those ``--no_decay`` matches (a ``mask``). With
    ``--lr_mult``, ``--freeze`` or ``--layer_decay``, one AdamW per parameter group
    (``train.param_groups``, ``optax.partition`` underneath); frozen parameters get no update
    and stay out of the clipping's norm. With ``--hparam``, AdamW's other hyperparameters follow
    their schedules too (evaluated from the optimizer's count inside the step,
    ``warmup_jax.hyperparam_schedules``); with ``--plateau``, a last multiplier
    (``warmup_jax.scale_by_plateau``) scales the update, so the learning rate is
    ``schedule(step) * plateau_scale``. With the schedule in tokens (``config.clock_batch_size``),
    the same AdamW evaluates the schedule at the clock step (``train.token_clock``) instead of
    its count of updates.
    """
    groups = make_groups(config)
    mask = None if groups is not None else weight_decay_mask(config)

    def adamw(learning_rate: Any, weight_decay: float) -> optax.GradientTransformation:
        if config.clock_batch_size is None:
            return optax.adamw(
                learning_rate, b1=config.b1, b2=config.b2, weight_decay=weight_decay, mask=mask
            )
        return optax.chain(  # optax.adamw's own chain, with the clock's learning rate
            optax.scale_by_adam(b1=config.b1, b2=config.b2),
            optax.add_decayed_weights(weight_decay, mask),
            scale_by_token_clock(learning_rate, config.batch_size, config.clock_batch_size),
        )

    hyperparams = make_hyperparams(config, schedule, mask)
    if groups is not None:
        update = groups.optimizer(adamw, schedule, weight_decay=config.weight_decay)
    elif hyperparams is not None:
        update = hyperparams.transformation()
    else:
        update = adamw(schedule, config.weight_decay)
    clip = optax.clip_by_global_norm(config.grad_clip)
    if config.freeze:
        clip = optax.masked(clip, functools.partial(frozen_mask, groups))
    plateau = plateau_settings(config)
    return optax.chain(
        clip,
        update,
        *([warmup_jax.scale_by_plateau(plateau)] if plateau is not None else []),
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

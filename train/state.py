"""The training state (its step count on the device) and the optimizer built from a schedule."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from flax.training import train_state

import warmup_jax
from train.config import RunConfig
from train.model import ByteTransformer
from train.schedule import make_hyperparams, plateau_settings
from train.token_clock import scale_by_token_clock

TrainState = train_state.TrainState


def make_optimizer(
    config: RunConfig, schedule: warmup_jax.Schedule
) -> optax.GradientTransformation:
    """Global-norm gradient clipping, then AdamW whose learning rate is ``schedule``.

    With ``--hparam``, AdamW's other hyperparameters follow their schedules too (evaluated from
    the optimizer's count inside the step, ``warmup_jax.hyperparam_schedules``); with
    ``--plateau``, a last multiplier (``warmup_jax.scale_by_plateau``) scales the update, so the
    learning rate is ``schedule(step) * plateau_scale``. Without either, the plain AdamW.
    With the schedule in tokens (``config.clock_batch_size``), the same AdamW evaluates the
    schedule at the clock step (``train.token_clock``) instead of its count of updates.
    """
    hyperparams = make_hyperparams(config, schedule)
    if config.clock_batch_size is not None:  # the schedule follows the tokens seen
        adamw = optax.chain(  # optax.adamw's own chain, with the clock's learning rate
            optax.scale_by_adam(b1=config.b1, b2=config.b2),
            optax.add_decayed_weights(config.weight_decay),
            scale_by_token_clock(schedule, config.batch_size, config.clock_batch_size),
        )
    elif hyperparams is not None:
        adamw = hyperparams.transformation()
    else:
        adamw = optax.adamw(
            learning_rate=schedule,
            b1=config.b1,
            b2=config.b2,
            weight_decay=config.weight_decay,
        )
    plateau = plateau_settings(config)
    return optax.chain(
        optax.clip_by_global_norm(config.grad_clip),
        adamw,
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

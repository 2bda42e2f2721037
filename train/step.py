"""The compiled steps: ``train_step`` (LR from ``state.step``, inside the jit) and ``eval_step``."""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

import warmup_jax
from train.model import ByteTransformer, next_byte_loss
from train.state import TrainState

Metrics = dict[str, jax.Array]


def make_train_step(
    model: ByteTransformer, schedule: warmup_jax.Schedule, steps_per_call: int = 1
) -> Callable[[TrainState, jax.Array], tuple[TrainState, Metrics]]:
    """The jitted ``train_step(state, batch) -> (state, metrics)``; ``state`` is donated.

    ``metrics`` holds ``learning_rate`` (= ``schedule(state.step)``, the LR this update used),
    ``loss`` (before the update) and ``grad_norm`` (before clipping). With ``steps_per_call`` K > 1,
    ``batch`` is ``[K, batch, seq_len + 1]``, the K updates run in one ``lax.scan`` and each metric
    comes back stacked as ``[K]``: one call and one host read for K steps.
    """
    loss_and_grad = jax.value_and_grad(functools.partial(next_byte_loss, model))

    def one_step(state: TrainState, batch: jax.Array) -> tuple[TrainState, Metrics]:
        # The same value optax's adamw applies: its own count advances with state.step.
        lr = schedule(state.step)
        loss, grads = loss_and_grad(state.params, batch)
        metrics = {"learning_rate": lr, "loss": loss, "grad_norm": optax.tree.norm(grads)}
        return state.apply_gradients(grads=grads), metrics

    if steps_per_call == 1:

        def train_step(state: TrainState, batch: jax.Array) -> tuple[TrainState, Metrics]:
            return one_step(state, batch)

    else:

        def train_step(state: TrainState, batch: jax.Array) -> tuple[TrainState, Metrics]:
            return jax.lax.scan(one_step, state, batch, length=steps_per_call)

    return jax.jit(train_step, donate_argnums=0)


def make_eval_step(model: ByteTransformer) -> Callable[[dict, jax.Array], jax.Array]:
    """The jitted ``eval_step(params, batches) -> mean loss`` over ``[n, batch, seq_len + 1]``."""

    def eval_step(params: dict, batches: jax.Array) -> jax.Array:
        losses = jax.lax.map(lambda b: next_byte_loss(model, params, b), batches)
        return jnp.mean(losses)

    return jax.jit(eval_step)

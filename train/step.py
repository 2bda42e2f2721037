"""The compiled steps: ``train_step`` (LR from ``state.step``, inside the jit) and ``eval_step``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

import warmup_jax
from train import token_clock
from train.model import ByteTransformer, next_byte_loss
from train.state import TrainState

Metrics = dict[str, jax.Array]


class Windows(NamedTuple):
    """A training split held on the device and where the next steps' windows start: the step
    cuts its own batch, ``tokens[starts[step % C, :, None] + arange(window)]``, so no batch is
    copied in per step. ``starts`` is ``int32[C, batch]`` for the chunk of C steps holding the
    current step (steps ``c * C`` to ``c * C + C - 1``)."""

    tokens: jax.Array
    starts: jax.Array


def cut(windows: Windows, step: jax.Array, window: int) -> jax.Array:
    """Step ``step``'s batch from ``windows``: ``uint8[batch, window]``."""
    starts = jax.lax.dynamic_index_in_dim(
        windows.starts, step % windows.starts.shape[0], keepdims=False
    )
    # One slice per row: cheaper on CPU than the equivalent gather of an index grid.
    return jax.vmap(lambda start: jax.lax.dynamic_slice(windows.tokens, (start,), (window,)))(
        starts
    )


def make_train_step(
    model: ByteTransformer,
    schedule: warmup_jax.Schedule,
    steps_per_call: int = 1,
    clock_batch_size: int | None = None,
    group_rates: dict[str, warmup_jax.Schedule] | None = None,
) -> Callable[[TrainState, jax.Array | Windows], tuple[TrainState, Metrics]]:
    """The jitted ``train_step(state, batch) -> (state, metrics)``; ``state`` is donated.

    ``metrics`` holds ``learning_rate`` (= ``schedule(state.step)``, the LR this update used),
    ``loss`` (before the update) and ``grad_norm`` (before clipping). With ``steps_per_call`` K > 1,
    ``batch`` is ``[K, batch, seq_len + 1]``, the K updates run in one ``lax.scan`` and each metric
    comes back stacked as ``[K]``: one call and one host read for K steps. ``batch`` may also be
    ``Windows`` (data on the device): each update then cuts its own batch at its own step.
    With ``clock_batch_size`` (a schedule in tokens), the learning rate is
    ``schedule(examples_seen // clock_batch_size)`` (``train.token_clock``), as the optimizer's.
    ``group_rates`` (parameter groups, ``train.param_groups``): each group's learning rate, at
    the same step, in ``learning_rate/<group>``.
    """
    loss_and_grad = jax.value_and_grad(functools.partial(next_byte_loss, model))
    window = model.max_len + 1  # seq_len inputs and the byte after each

    def one_step(state: TrainState, batch: jax.Array) -> tuple[TrainState, Metrics]:
        # The step optax's adamw evaluates the schedule at: its own count advances with
        # state.step; with a token clock, the clock's.
        at = (
            state.step
            if clock_batch_size is None
            else token_clock.clock_step(state.opt_state, clock_batch_size)
        )
        lr = schedule(at)
        rates = {f"learning_rate/{g}": rate(at) for g, rate in (group_rates or {}).items()}
        scale = warmup_jax.plateau_scale(state.opt_state)
        loss, grads = loss_and_grad(state.params, batch)
        new_state = state.apply_gradients(grads=grads)
        metrics = {"learning_rate": lr, "loss": loss, "grad_norm": optax.tree.norm(grads)}
        # --hparam: the values this update used, logged as train/NAME.
        hyperparams = warmup_jax.hyperparams_at(new_state.opt_state)
        metrics.update({k: v for k, v in hyperparams.items() if k != "learning_rate"})
        metrics.update(rates)
        if scale is not None:  # --plateau: the update used lr * scale
            metrics.update({k: v * scale for k, v in rates.items()}, learning_rate=lr * scale)
            metrics["plateau_scale"] = scale
        return new_state, metrics

    def train_step(state: TrainState, batch: jax.Array | Windows) -> tuple[TrainState, Metrics]:
        if isinstance(batch, Windows):
            windows = batch
            if steps_per_call == 1:
                return one_step(state, cut(windows, state.step, window))
            return jax.lax.scan(
                lambda s, _: one_step(s, cut(windows, s.step, window)),
                state,
                None,
                length=steps_per_call,
            )
        if steps_per_call == 1:
            return one_step(state, batch)
        return jax.lax.scan(one_step, state, batch, length=steps_per_call)

    return jax.jit(train_step, donate_argnums=0)


def make_eval_step(model: ByteTransformer) -> Callable[[dict, jax.Array], jax.Array]:
    """The jitted ``eval_step(params, batches) -> mean loss`` over ``[n, batch, seq_len + 1]``."""

    def eval_step(params: dict, batches: jax.Array) -> jax.Array:
        losses = jax.lax.map(lambda b: next_byte_loss(model, params, b), batches)
        return jnp.mean(losses)

    return jax.jit(eval_step)

"""A learning rate that follows the data seen, so a resumed run may change its batch size.

With ``--steps`` and the warmup given in tokens (``--steps 2e6tok --warmup_steps 10%``) the run's
schedule is a function of the tokens it has trained on, not of its optimizer steps. The train
state counts the sequences seen (``examples_seen``, int32, on the device, in the optimizer state);
the schedule is evaluated at the *clock step*

    clock_step = examples_seen // clock_batch_size

where ``clock_batch_size`` is the batch the durations were resolved at (the first run's). At that
batch the clock step is the optimizer step and the run is bit-identical to one whose schedule is
given in steps; resumed at twice the batch, the clock advances two steps per update and the
learning rate continues from the token count reached instead of jumping. Sequences have
``seq_len`` tokens and ``seq_len`` cannot change on a resume, so counting sequences counts tokens
(and an int32 count of sequences reaches 2**31 * seq_len tokens).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

import warmup_jax


class TokenClockState(NamedTuple):
    """``examples_seen``: the sequences trained on before this update (int32)."""

    examples_seen: jax.Array


def scale_by_token_clock(
    schedule: warmup_jax.Schedule, examples_per_step: int, clock_batch_size: int
) -> optax.GradientTransformation:
    """``updates * -schedule(examples_seen // clock_batch_size)``, then ``examples_seen +=
    examples_per_step``: optax's ``scale_by_learning_rate(schedule)`` with a clock of sequences
    instead of a count of updates (the same operations, so the same bits when the two agree)."""
    if examples_per_step < 1 or clock_batch_size < 1:
        raise ValueError(
            f"examples_per_step ({examples_per_step}) and clock_batch_size ({clock_batch_size}) "
            "must be at least 1"
        )

    def init(params: optax.Params) -> TokenClockState:
        del params
        return TokenClockState(examples_seen=jnp.zeros([], jnp.int32))

    def update(
        updates: optax.Updates, state: TokenClockState, params: optax.Params | None = None
    ) -> tuple[optax.Updates, TokenClockState]:
        del params
        step_size = -1 * schedule(state.examples_seen // clock_batch_size)
        updates = jax.tree.map(lambda g: jnp.array(step_size, dtype=g.dtype) * g, updates)
        return updates, TokenClockState(state.examples_seen + examples_per_step)

    return optax.GradientTransformation(init, update)


def _is_state(node: object) -> bool:
    return isinstance(node, TokenClockState)


def examples_seen(opt_state: optax.OptState) -> jax.Array | None:
    """The sequences seen, from the first ``TokenClockState`` in ``opt_state`` (None: no clock)."""
    for node in jax.tree.leaves(opt_state, is_leaf=_is_state):
        if _is_state(node):
            return node.examples_seen
    return None


def clock_step(opt_state: optax.OptState, clock_batch_size: int) -> jax.Array:
    """``examples_seen // clock_batch_size``: the step the schedule is evaluated at."""
    seen = examples_seen(opt_state)
    if seen is None:
        raise ValueError("the optimizer state has no token clock (scale_by_token_clock)")
    return seen // clock_batch_size

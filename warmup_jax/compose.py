"""Putting schedules together: a warmup in front, schedules in sequence, products of factors."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import optax

from warmup_jax import _checks
from warmup_jax._schedule import Schedule, evaluate, float_dtype, register
from warmup_jax.decays import constant, decay_by_shape
from warmup_jax.warmups import warmup

ScheduleLike = Callable[[Any], Any]


def _schedule_list(name: str, schedules: Any) -> list[ScheduleLike]:
    if isinstance(schedules, (str, bytes)) or not isinstance(schedules, Sequence) or not schedules:
        raise ValueError(f"{name} must be a non-empty list of schedules, got {schedules!r}.")
    for i, schedule in enumerate(schedules):
        if not callable(schedule):
            raise ValueError(
                f"{name}[{i}] must be a schedule (a callable step -> lr), got {schedule!r}."
            )
    return list(schedules)


@register
def join(schedules: Sequence[ScheduleLike], boundaries: Sequence[int]) -> Schedule:
    """Schedules one after another, each on its own clock (``optax.join_schedules``, serializable).

    ``schedules[i]`` runs from ``boundaries[i - 1]`` as ``schedules[i](step - boundaries[i - 1])``.

    >>> from warmup_jax import linear_warmup, linear_decay
    >>> s = join([linear_warmup(1.0, 2), linear_decay(1.0, 2)], [2])
    >>> [float(s(i)) for i in range(5)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    schedules = _schedule_list("schedules", schedules)
    if isinstance(boundaries, (str, bytes)) or not isinstance(boundaries, Sequence):
        raise ValueError(f"boundaries must be a list of step numbers, got {boundaries!r}.")
    bounds = [_checks.integer(f"boundaries[{i}]", b, minimum=1) for i, b in enumerate(boundaries)]
    if len(bounds) != len(schedules) - 1:
        raise ValueError(
            f"boundaries must have one entry fewer than schedules ({len(schedules) - 1}), "
            f"got {len(bounds)}."
        )
    if any(b >= c for b, c in zip(bounds, bounds[1:])):
        raise ValueError(f"boundaries must be strictly increasing, got {bounds}.")
    first = schedules[0]
    warmup_steps = first.warmup_steps if isinstance(first, Schedule) else 0
    return Schedule(optax.join_schedules(schedules, bounds), warmup_steps=warmup_steps)


@register
def with_warmup(
    schedule: ScheduleLike,
    warmup_steps: int,
    strategy: str = "linear",
    init_value: float | None = None,
    one_step_ahead: bool = False,
) -> Schedule:
    """A warmup up to ``schedule(0)``, then ``schedule`` on its own clock.

    Step ``s < warmup_steps`` is the warmup; step ``s >= warmup_steps`` is
    ``schedule(s - warmup_steps)``, so the warmup ends exactly on the schedule's first value.
    ``schedule`` may be any optax schedule; only warmup_jax schedules can be saved with
    ``to_config``.

    Args:
      schedule: what follows the warmup; ``schedule(0)`` must be > 0.
      warmup_steps: an integer >= 1.
      strategy: ``"linear"`` or ``"exponential"``.
      init_value: the value at step 0 (default 0 for linear, ``schedule(0) / 1000`` for
        exponential).
      one_step_ahead: evaluate the warmup at ``step + 1`` (see :func:`warmup_jax.linear_warmup`).

    >>> from warmup_jax import cosine_decay
    >>> s = with_warmup(cosine_decay(1.0, 100), 10)
    >>> [round(float(s(i)), 4) for i in (0, 5, 10, 60, 110)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    if not callable(schedule):
        raise ValueError(f"schedule must be a schedule (a callable step -> lr), got {schedule!r}.")
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, minimum=1)
    peak = evaluate(schedule, 0)
    if not peak > 0:
        raise ValueError(f"schedule(0) must be > 0 to warm up to, got {peak!r}.")
    ramp = warmup(peak, warmup_steps, strategy, init_value, one_step_ahead)
    return Schedule(
        optax.join_schedules([ramp, schedule], [warmup_steps]), warmup_steps=ramp.warmup_steps
    )


@register
def multiply(factors: Sequence[ScheduleLike | float]) -> Schedule:
    """The product of schedules and numbers, step by step (big_vision's ``"*"`` of factors).

    ``warmup_steps`` is the longest warmup among the factors.

    >>> from warmup_jax import constant, linear_warmup, inverse_sqrt_decay
    >>> s = multiply([3e-4, linear_warmup(1.0, 100), inverse_sqrt_decay(1.0, 100)])
    >>> round(float(s(50)), 8)  # 3e-4 * 0.5 / sqrt(1.5)
    0.00012247
    """
    if isinstance(factors, (str, bytes)) or not isinstance(factors, Sequence) or not factors:
        raise ValueError(
            f"factors must be a non-empty list of schedules or numbers, got {factors!r}."
        )
    fns = []
    for i, factor in enumerate(factors):
        if callable(factor):
            fns.append(factor)
        else:
            value = _checks.non_negative(f"factors[{i}]", factor)
            fns.append(lambda step, value=value: value)

    def fn(step: jax.Array) -> jax.Array:
        value = jnp.ones(jnp.shape(step), float_dtype())
        for f in fns:
            value = value * f(step)
        return value

    warmup_steps = max((f.warmup_steps for f in factors if isinstance(f, Schedule)), default=0)
    return Schedule(fn, warmup_steps=warmup_steps)


@register
def warmup_stable_decay(
    peak_value: float,
    warmup_steps: int,
    stable_steps: int,
    decay_steps: int,
    warmup: str = "linear",
    decay: str = "linear",
    init_value: float | None = None,
    final_value: float = 0.0,
) -> Schedule:
    """Warmup-stable-decay (the "trapezoid" of MiniCPM and Hägele et al. 2024).

    Warm up to ``peak_value`` over ``warmup_steps``, hold it for ``stable_steps``, then decay to
    ``final_value`` over ``decay_steps`` with the shape ``decay`` (``"linear"``, ``"cosine"`` or
    ``"1-sqrt"``); ``final_value`` after that.

    >>> s = warmup_stable_decay(1.0, 2, 3, 2)
    >>> [float(s(i)) for i in range(8)]
    [0.0, 0.5, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0]
    """
    stage = globals()["warmup"]  # the parameter ``warmup`` shadows the warmup() constructor
    peak_value = _checks.positive("peak_value", peak_value)
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, minimum=0)
    stable_steps = _checks.integer("stable_steps", stable_steps, minimum=0)
    decay_steps = _checks.integer("decay_steps", decay_steps, minimum=1)
    final_value = _checks.number("final_value", final_value, minimum=0.0, maximum=peak_value)
    tail = decay_by_shape(decay, peak_value, decay_steps, final_value)
    if warmup_steps + stable_steps + decay_steps > _checks.MAX_STEP:
        raise ValueError(
            f"warmup_steps + stable_steps + decay_steps must be at most {_checks.MAX_STEP}, got "
            f"{warmup_steps + stable_steps + decay_steps}."
        )
    if warmup_steps:
        stages = [(stage(peak_value, warmup_steps, warmup, init_value), warmup_steps)]
    else:
        _checks.choice("warmup", warmup, ("linear", "exponential"))
        stages = []
    if stable_steps:
        stages.append((constant(peak_value), stable_steps))
    stages.append((tail, decay_steps))
    parts = [part for part, _ in stages]
    bounds = list(itertools.accumulate(length for _, length in stages[:-1]))
    return Schedule(optax.join_schedules(parts, bounds), warmup_steps=warmup_steps)

"""Schedules for continuing and restarting: warm restarts with re-warmup, and rewarmup.

* :func:`cyclic_schedule`: SGDR-style cycles (Loshchilov & Hutter) with a warmup in every cycle or
  only before the first, growing cycles (``cycle_mul``), decaying peaks (``cycle_decay``) and a
  limit on the number of cycles (``cycle_limit``), over a cosine, linear or polynomial decay. With
  the warmup only in front it gives timm's ``CosineLRScheduler`` values.
* :func:`rewarmup`: continue a finished (or stable-phase) run: from a given step, warm up from the
  learning rate the run had there to a new peak, then follow a new decay.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from warmup_jax import _checks
from warmup_jax._curves import half_cosine_parts
from warmup_jax._pieces import DEFAULT_EXPONENTIAL_START, WARMUP_TYPES
from warmup_jax._schedule import Schedule, end_of, evaluate, float_dtype, register, settles_at
from warmup_jax._steps import index_dtype
from warmup_jax.decays import constant
from warmup_jax.warmups import warmup_ramp

CYCLE_DECAY_TYPES = ("cosine", "linear", "polynomial")
# Growing cycles are tabulated; more than this many before step 2**31 is a cycle_mul too close to 1.
MAX_TABULATED_CYCLES = 10_000


def _cycle_table(first: int, mul: float, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Start steps (float64) and lengths of cycles 0, 1, ... until the limit or step 2**31."""
    starts, lengths = [0.0], [float(first)]
    last = _checks.max_step()
    while (limit is None or len(starts) < limit) and starts[-1] + lengths[-1] <= last:
        if len(starts) >= MAX_TABULATED_CYCLES:
            raise ValueError(
                f"cycle_mul={mul} gives more than {MAX_TABULATED_CYCLES} cycles before step "
                f"{last}; use cycle_mul=1, a larger cycle_mul, or a cycle_limit."
            )
        starts.append(starts[-1] + lengths[-1])
        lengths.append(lengths[-1] * mul)
    return np.asarray(starts), np.asarray(lengths)


@register
def cyclic_schedule(
    peak_value: float,
    first_cycle_steps: int,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int | None = None,
    warmup_steps: int = 0,
    warmup_type: str = "linear",
    warmup_every_cycle: bool = True,
    decay_type: str = "cosine",
    end_value: float = 0.0,
    init_value: float | None = None,
    power: float = 1.0,
) -> Schedule:
    r"""Warm restarts: cycles that each decay from a peak, optionally warming up again each time.

    Cycle ``i`` (from 0) lasts ``first_cycle_steps * cycle_mul**i`` steps and peaks at
    ``peak_value * cycle_decay**i``. Within a cycle, with ``p`` the fraction of its decay done:

    .. math:: v = v_{end} + (v_{peak} \gamma^i - v_{end}) \cdot c(p), \quad
       c(p) = \tfrac12(1 + \cos \pi p) \;|\; 1 - p \;|\; (1 - p)^{power}

    With ``warmup_every_cycle=True`` each cycle starts with ``warmup_steps`` of warmup from
    ``init_value`` to its own peak and decays over the rest of the cycle; with ``False`` a single
    warmup to ``peak_value`` runs before the first cycle and the cycles start after it (timm's
    ``warmup_prefix=True``). After ``cycle_limit`` cycles the value stays at ``end_value``
    (``end_step`` is that step; ``None`` without a limit).

    Exact values: ``peak_i`` is ``peak_value * cycle_decay**i`` rounded once (from float64); a
    cycle that starts on a whole step starts exactly at ``peak_i`` (or exactly at its warmup's
    ``init_value``), the last step of each warmup is exactly ``peak_i``, and every step from the
    end of the last cycle on is exactly ``end_value``. With ``cycle_mul`` a cycle may start
    between two steps (timm's convention); its first step is then the first whole step after the
    start, already a little past the peak. Positions within a cycle are differences of integers,
    so the decay keeps its relative precision near each cycle's end, however long the cycle.

    Args:
      peak_value: the first cycle's peak; > 0.
      first_cycle_steps: the first cycle's length, warmup included when it warms up every cycle.
      cycle_mul: each cycle is this many times longer than the one before; >= 1.
      cycle_decay: each cycle's peak is this fraction of the one before; in (0, 1].
      cycle_limit: the number of cycles, or ``None`` for as many as fit before step 2**31.
      warmup_steps: warmup length (0 for none).
      warmup_type: ``"linear"`` or ``"exponential"``.
      warmup_every_cycle: warm up at the start of every cycle, or only once before the first.
      decay_type: ``"cosine"``, ``"linear"`` or ``"polynomial"``.
      end_value: the value each cycle decays to, and the value after the last; in [0, peak_value].
      init_value: where each warmup starts (default 0 for linear, peak / 1000 for exponential).
      power: the exponent of the polynomial decay.

    >>> s = cyclic_schedule(1.0, 4, cycle_decay=0.5, cycle_limit=2, decay_type="linear")
    >>> [float(s(i)) for i in range(10)]
    [1.0, 0.75, 0.5, 0.25, 0.5, 0.375, 0.25, 0.125, 0.0, 0.0]
    >>> s = cyclic_schedule(1.0, 4, warmup_steps=2, cycle_limit=2, decay_type="linear")
    >>> [float(s(i)) for i in range(9)]
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.5, 1.0, 0.5, 0.0]
    >>> s.end_step
    8
    """
    peak_value = _checks.positive("peak_value", peak_value)
    first = _checks.integer("first_cycle_steps", first_cycle_steps, minimum=1)
    mul = _checks.number("cycle_mul", cycle_mul, minimum=1.0, maximum=1e3)
    gamma = _checks.number(
        "cycle_decay", cycle_decay, minimum=0.0, maximum=1.0, min_inclusive=False
    )
    if cycle_limit is not None:
        cycle_limit = _checks.integer("cycle_limit", cycle_limit, minimum=1)
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, minimum=0)
    warmup_type = _checks.choice("warmup_type", warmup_type, WARMUP_TYPES)
    warmup_every_cycle = _checks.flag("warmup_every_cycle", warmup_every_cycle)
    decay_type = _checks.choice("decay_type", decay_type, CYCLE_DECAY_TYPES)
    power = _checks.positive("power", power)
    end_value = _checks.non_negative("end_value", end_value, maximum=peak_value)
    every = warmup_every_cycle and warmup_steps > 0
    if every and warmup_steps >= first:
        raise ValueError(
            f"warmup_steps ({warmup_steps}) must be shorter than first_cycle_steps ({first}) when "
            "every cycle warms up: a cycle needs steps left to decay."
        )
    if init_value is not None:
        init_value = _checks.number("init_value", init_value, minimum=0.0, maximum=peak_value)
    init_fraction = None if init_value is None else init_value / peak_value
    if warmup_type == "exponential":
        init_fraction = DEFAULT_EXPONENTIAL_START if init_fraction is None else init_fraction
        if not init_fraction > 0:
            raise ValueError("init_value must be > 0 for an exponential warmup.")
    else:
        init_fraction = 0.0 if init_fraction is None else init_fraction

    offset = 0 if every else warmup_steps  # cycles start after a warmup run only once
    last = _checks.max_step()
    if mul == 1.0:
        table = None
        n_cycles = cycle_limit
        most_cycles = cycle_limit or -(-(last - offset + 1) // first)
    else:
        starts, lengths = _cycle_table(first, mul, cycle_limit)
        n_cycles = len(starts) if cycle_limit is not None else None
        most_cycles = len(starts)
        ends = starts + lengths
        first_steps = np.ceil(starts - 1e-9).astype(np.int64)  # a cycle's first whole step
        # The next cycle's first whole step, kept within the step counter (the last cycle may
        # end past it; its fraction below then carries the rest).
        next_steps = np.minimum(np.ceil(ends - 1e-9).astype(np.int64), last)
        table = (
            jnp.asarray(np.clip(first_steps, 0, last), index_dtype()),
            jnp.asarray(next_steps, index_dtype()),
            jnp.asarray(first_steps - starts, float_dtype()),  # fractions in [0, 1)
            jnp.asarray(next_steps - ends, float_dtype()),
            jnp.asarray(lengths, float_dtype()),
        )
    end = (
        None
        if n_cycles is None
        else (n_cycles * first if table is None else int(np.ceil(starts[-1] + lengths[-1] - 1e-9)))
    )
    if end is not None and offset + end > last:
        end = None  # the last cycle outlasts the step counter
    # Each cycle's peak, peak_value * cycle_decay**i, rounded once from float64.
    peaks = None
    if gamma != 1.0 and most_cycles <= MAX_TABULATED_CYCLES:
        peaks = jnp.asarray(peak_value * gamma ** np.arange(most_cycles), float_dtype())
    log_gamma = math.log(gamma)
    log_init = math.log(init_fraction) if warmup_type == "exponential" else 0.0
    prefix = warmup_ramp(peak_value, offset, warmup_type, init_value, False) if offset else None
    dtype = float_dtype()
    skip = float(warmup_steps) if every else 0.0  # steps of each cycle before its decay

    def fn(step: jax.Array) -> jax.Array:
        t = jnp.maximum(step - offset, 0)
        # Where in its cycle the step is: ``done`` steps since the decay began, ``remaining``
        # until the cycle ends, each from a difference of integers (exact near its own end),
        # plus the fraction a cycle starts or ends between two steps.
        total: float | jax.Array
        if table is None:
            index = t // first
            inside = t - index * first
            position = inside.astype(dtype)
            done = position - skip
            remaining = (first - inside).astype(dtype)
            total = float(first) - skip  # a constant: divisions by it become multiplications
        else:
            first_steps_, next_steps_, start_fraction, end_fraction, lengths_ = table
            index = jnp.clip(
                jnp.searchsorted(first_steps_, t, side="right") - 1, 0, len(starts) - 1
            )
            position = (t - first_steps_[index]).astype(dtype) + start_fraction[index]
            done = position - skip
            remaining = (next_steps_[index] - t).astype(dtype) - end_fraction[index]
            total = lengths_[index] - skip
        if peaks is not None:
            peak = peaks[jnp.minimum(index, most_cycles - 1)]
        else:
            peak = jnp.where(
                index == 0, peak_value, peak_value * jnp.exp(log_gamma * index.astype(dtype))
            )
        if every:
            fraction = position * (1.0 / warmup_steps)
            if warmup_type == "linear":
                ramp = init_fraction + (1.0 - init_fraction) * fraction
            else:
                ramp = jnp.exp(log_init * (1.0 - fraction))
            warm = jnp.minimum(peak * ramp, peak)
            warm = jnp.where(position <= 0, peak * init_fraction, warm)
        done = jnp.clip(done, 0.0, total)
        remaining = jnp.clip(remaining, 0.0, total)
        left = remaining * (1.0 / total) if table is None else remaining / total
        if decay_type == "cosine":
            curve = half_cosine_parts(done, remaining, total)
        elif decay_type == "linear":
            curve = left
        else:
            curve = left**power
        value = end_value + (peak - end_value) * curve
        value = jnp.where(done <= 0, peak, value)
        if every:
            value = jnp.where(position < warmup_steps, warm, value)
        if end is not None:
            value = jnp.where(t >= end, end_value, value)
        if prefix is not None:
            value = jnp.where(step < offset, prefix(step), value)
        return value

    return Schedule(fn, warmup_steps=warmup_steps, end_step=None if end is None else offset + end)


@register
def rewarmup(
    schedule: Any,
    at_step: int,
    peak_value: float,
    warmup_steps: int,
    decay_schedule: Any = None,
    warmup_type: str = "linear",
) -> Schedule:
    r"""Continue training with a fresh warmup: ``schedule`` until ``at_step``, then a new phase.

    .. math:: v(s) = \begin{cases} f(s) & s < a \\
       \operatorname{warmup}(s - a) \text{ from } f(a) \text{ to } v_{peak} & a \le s < a + W \\
       g(s - a - W) & s \ge a + W \end{cases}

    From ``at_step`` (a) the value climbs from ``schedule(at_step)`` (the value the run had
    reached there) to ``peak_value`` over ``warmup_steps``, then follows ``decay_schedule`` (g) on
    its own clock (it should start at ``peak_value``), or stays at ``peak_value`` when
    ``decay_schedule`` is ``None``. Steps before ``at_step`` are unchanged, so the values a
    checkpoint was trained with stay the same.

    Args:
      schedule: the schedule the run used so far (any schedule).
      at_step: the first step of the new phase; >= 1.
      peak_value: the new peak; > 0.
      warmup_steps: the length of the new warmup; >= 1.
      decay_schedule: what follows the new peak (for example ``cosine_decay(peak_value, 5000)``).
      warmup_type: ``"linear"``, or ``"exponential"`` (needs ``schedule(at_step) > 0``).

    >>> from warmup_jax import linear_schedule_with_warmup
    >>> old = linear_schedule_with_warmup(1.0, 0, 4)
    >>> s = rewarmup(old, 3, peak_value=0.5, warmup_steps=2)
    >>> [float(s(i)) for i in range(7)]
    [1.0, 0.75, 0.5, 0.25, 0.375, 0.5, 0.5]
    """
    _checks.schedule("schedule", schedule)
    at_step = _checks.integer("at_step", at_step, minimum=1)
    peak_value = _checks.positive("peak_value", peak_value)
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, minimum=1)
    warmup_type = _checks.choice("warmup_type", warmup_type, WARMUP_TYPES)
    if decay_schedule is not None:
        _checks.schedule("decay_schedule", decay_schedule)
    ramp_end = _checks.step_count_sum("at_step + warmup_steps", at_step + warmup_steps)
    start = evaluate(schedule, at_step)
    if start > peak_value:
        raise ValueError(
            f"the run's value at step {at_step} ({start:.6g}) is above the new peak_value "
            f"({peak_value:.6g}): a rewarmup climbs; use a decay for going down."
        )
    if warmup_type == "exponential" and not start > 0:
        raise ValueError(
            f"an exponential rewarmup needs a value > 0 at step {at_step} to start from, "
            f"but the schedule is {start} there; use warmup_type='linear'."
        )
    ramp = warmup_ramp(peak_value, warmup_steps, warmup_type, start, False)
    after = constant(peak_value) if decay_schedule is None else decay_schedule
    rest, rest_holds = end_of(after), settles_at(after)
    end = None if rest is None else ramp_end + rest
    if end is not None:
        _checks.step_count_sum("at_step + warmup_steps + the decay's end_step", end)
    fn = optax.join_schedules([schedule, ramp, after], [at_step, ramp_end])
    holds = None if rest_holds is None else ramp_end + rest_holds
    return Schedule(fn, warmup_steps=ramp_end, end_step=end, holds_from=holds)

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


class _Cycles:
    """Cycles of ``first`` steps, each ``mul`` times longer than the one before, up to ``limit``
    cycles (or as many as start before the last step): which cycle a step is in, and where.

    Positions come from differences of integers (exact near each cycle's start and end, however
    long the cycle), plus the fraction by which a cycle starts or ends between two steps when
    ``mul`` is not 1 (timm's and Keras' convention of real-valued cycle starts).
    """

    def __init__(self, first: int, mul: float, limit: int | None) -> None:
        last = _checks.max_step()
        self.first = first
        self.table = None
        if mul == 1.0:
            self.count = limit
            self.most = limit or -(-(last + 1) // first)
            self.end = None if limit is None else limit * first
        else:
            starts, lengths = _cycle_table(first, mul, limit)
            self.count = len(starts) if limit is not None else None
            self.most = len(starts)
            ends = starts + lengths
            self.end = None if limit is None else int(np.ceil(ends[-1] - 1e-9))
            first_steps = np.ceil(starts - 1e-9).astype(np.int64)  # a cycle's first whole step
            # The next cycle's first whole step, kept within the step counter (the last cycle
            # may end past it; its fraction below then carries the rest).
            next_steps = np.minimum(np.ceil(ends - 1e-9).astype(np.int64), last)
            self.table = (
                jnp.asarray(np.clip(first_steps, 0, last), index_dtype()),
                jnp.asarray(next_steps, index_dtype()),
                jnp.asarray(first_steps - starts, float_dtype()),  # fractions in [0, 1)
                jnp.asarray(next_steps - ends, float_dtype()),
                jnp.asarray(lengths, float_dtype()),
            )

    def locate(self, t: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, float | jax.Array]:
        """``(index, done, remaining, length)`` of the cycle holding step ``t >= 0``: its index
        from 0, the steps since it began and until it ends (floats), and its length."""
        dtype = float_dtype()
        if self.table is None:
            index = t // self.first
            inside = t - index * self.first
            remaining = (self.first - inside).astype(dtype)
            return index, inside.astype(dtype), remaining, float(self.first)
        first_steps, next_steps, start_fraction, end_fraction, lengths = self.table
        index = jnp.clip(jnp.searchsorted(first_steps, t, side="right") - 1, 0, self.most - 1)
        done = (t - first_steps[index]).astype(dtype) + start_fraction[index]
        remaining = (next_steps[index] - t).astype(dtype) - end_fraction[index]
        return index, done, remaining, lengths[index]


def _powers(value: float, ratio: float, count: int, what: str) -> jax.Array | None:
    """``value * ratio**i`` for the ``count`` cycles, each rounded once from float64 (``None``
    when there are too many to tabulate); refuses growth past float32's range."""
    last = _checks.max_step()
    if ratio > 1.0 and value > 0:
        top = math.log(value) + (count - 1) * math.log(ratio)
        if top > math.log(float(np.finfo(np.float32).max)):
            raise ValueError(
                f"{what}={ratio!r} grows the peak past float32's range within the {count} "
                f"cycles that fit before step {last}; give a cycle limit."
            )
    if ratio == 1.0 or count > MAX_TABULATED_CYCLES:
        return None
    return jnp.asarray(value * ratio ** np.arange(count), float_dtype())


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
      cycle_decay: each cycle's peak is this multiple of the one before; > 0 (above 1 the peaks
        grow, as Keras' ``m_mul`` allows; the last peak must fit float32).
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
    gamma = _checks.positive("cycle_decay", cycle_decay)
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
    cycles = _Cycles(first, mul, cycle_limit)
    end = cycles.end
    if end is not None and offset + end > last:
        end = None  # the last cycle outlasts the step counter
    peaks = _powers(peak_value, gamma, cycles.most, "cycle_decay")
    most_cycles = cycles.most
    log_gamma = math.log(gamma)
    log_init = math.log(init_fraction) if warmup_type == "exponential" else 0.0
    prefix = warmup_ramp(peak_value, offset, warmup_type, init_value, False) if offset else None
    dtype = float_dtype()
    skip = float(warmup_steps) if every else 0.0  # steps of each cycle before its decay
    constant_length = cycles.table is None

    def fn(step: jax.Array) -> jax.Array:
        t = jnp.maximum(step - offset, 0)
        index, position, remaining, length = cycles.locate(t)
        done = position - skip  # steps since this cycle's decay began
        total = length - skip
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
        # A constant total: its division becomes a multiplication (see _pieces.over).
        left = remaining * (1.0 / total) if constant_length else remaining / total
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
def cosine_decay_restarts(
    init_value: float,
    first_decay_steps: int,
    t_mul: float = 2.0,
    m_mul: float = 1.0,
    alpha: float = 0.0,
) -> Schedule:
    r"""Keras' ``CosineDecayRestarts`` (SGDR), with Keras' arguments and values.

    .. math:: v(s) = v_{init} \cdot \left((1 - \alpha)\, m^i \cdot \tfrac12 (1 + \cos \pi f)
       + \alpha\right)

    with ``i`` the cycle (from 0), ``f`` the fraction of it done, cycle ``i`` lasting
    ``first_decay_steps * t_mul**i`` steps. Keras' conventions: ``alpha`` is the floor as a
    fraction of ``init_value``, the same in every cycle, and ``m_mul`` scales each cycle's
    height above it (``m_mul`` above 1 grows it). A cycle that starts between two steps (``t_mul``
    not 1) starts where Keras' closed form puts it; cycle starts are found exactly, where Keras'
    float arithmetic can put a step just before a restart. It never settles (``end_step`` None).

    Args:
      init_value: Keras' ``initial_learning_rate``; >= 0.
      first_decay_steps: the first cycle's length; an integer >= 1.
      t_mul: each cycle is this many times longer than the one before; >= 1.
      m_mul: each cycle's height is this multiple of the one before; > 0.
      alpha: the floor, as a fraction of ``init_value``; in [0, 1].

    >>> s = cosine_decay_restarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    >>> [round(float(s(k)), 4) for k in (0, 5, 10, 20, 30)]
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """
    init_value = _checks.non_negative("init_value", init_value)
    first = _checks.integer("first_decay_steps", first_decay_steps, minimum=1)
    t_mul = _checks.number("t_mul", t_mul, minimum=1.0, maximum=1e3)
    m_mul = _checks.positive("m_mul", m_mul)
    alpha = _checks.number("alpha", alpha, minimum=0.0, maximum=1.0)
    cycles = _Cycles(first, t_mul, None)
    heights = _powers(1.0, m_mul, cycles.most, "m_mul")
    if m_mul > 1.0:
        _powers(init_value or 1.0, m_mul, cycles.most, "m_mul")  # the values must fit too
    log_m = math.log(m_mul)
    floor = init_value * alpha
    span = init_value * (1.0 - alpha)

    def fn(step: jax.Array) -> jax.Array:
        t = jnp.maximum(step, 0)
        index, done, remaining, length = cycles.locate(t)
        done = jnp.clip(done, 0.0, length)
        remaining = jnp.clip(remaining, 0.0, length)
        if heights is not None:
            height = heights[jnp.minimum(index, cycles.most - 1)]
        else:
            height = jnp.exp(log_m * index.astype(float_dtype()))
        return floor + span * height * half_cosine_parts(done, remaining, length)

    return Schedule(fn, warmup_steps=0, end_step=None)


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

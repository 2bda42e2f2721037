"""Decays: schedules that start at ``init_value`` at step 0 and go down from there.

Named and shaped as optax users expect (``init_value``, ``decay_steps``, ``end_value``,
``transition_steps``, ``decay_rate``, ``staircase``, ``boundaries``, in optax's order), with two
differences: the end of each decay is exact (the value at ``decay_steps`` and after is exactly
``end_value``), and bad settings raise ``ValueError`` instead of quietly becoming a constant
schedule. Put a warmup in front with :func:`warmup_jax.with_warmup`; chain with ``>>`` or
:func:`warmup_jax.join`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from warmup_jax import _checks
from warmup_jax._pieces import DECAY_TYPES, as_float, curve, curve_at_end, decay, pin
from warmup_jax._schedule import Schedule, float_dtype, register
from warmup_jax._steps import index_dtype

# More cycles than this are noise in float32 (and 2 pi c s would overflow it).
MAX_CYCLES = 1e6
# exponential_decay(staircase=True) tabulates the values of its first drops, up to this many.
_POWER_TABLE = 10_000


def _decay_args(init_value: Any, decay_steps: Any, end_value: Any) -> tuple[float, int, float]:
    return (
        _checks.non_negative("init_value", init_value),
        _checks.integer("decay_steps", decay_steps, minimum=1),
        _checks.non_negative("end_value", end_value),
    )


def _decay_schedule(init: float, steps: int, end: float, factor: Any, end_value: float) -> Schedule:
    return Schedule(
        decay(init, steps, end, factor, end_value=end_value), warmup_steps=0, end_step=steps
    )


@register
def constant(value: float) -> Schedule:
    r"""The same value at every step.

    .. math:: v(s) = value

    >>> float(constant(3e-4)(10**9))
    0.0003000000142492354
    >>> constant(3e-4).end_step
    0
    """
    value = _checks.non_negative("value", value)
    return Schedule(
        lambda step: jnp.full(jnp.shape(step), value, float_dtype()), warmup_steps=0, end_step=0
    )


@register
def cosine_decay(
    init_value: float,
    decay_steps: int,
    end_value: float = 0.0,
    exponent: float = 1.0,
    num_cycles: float = 0.5,
) -> Schedule:
    r"""Cosine decay from ``init_value`` to ``end_value`` over ``decay_steps``, then constant.

    .. math:: v(s) = v_{end} + (v_{init} - v_{end}) \cdot
       \left(\tfrac12 \left(1 + \cos(2\pi c \min(s, D) / D)\right)\right)^{e}

    With the default ``num_cycles`` c = 0.5 this is optax's ``cosine_decay_schedule`` with
    ``alpha = end_value / init_value``, ending exactly at ``end_value``; ``exponent`` e is optax's
    ``exponent``. Other values of c follow transformers' ``num_cycles`` and end wherever the cosine
    is at ``s = D`` (for c = 1 back at ``init_value``).

    >>> s = cosine_decay(1.0, 100, end_value=0.1)
    >>> [round(float(s(i)), 4) for i in (0, 50, 100, 200)]
    [1.0, 0.55, 0.1, 0.1]
    >>> round(float(cosine_decay(1.0, 100, exponent=2.0)(50)), 4)
    0.25
    """
    init_value, decay_steps, end_value = _decay_args(init_value, decay_steps, end_value)
    exponent = _checks.positive("exponent", exponent)
    num_cycles = _checks.number(
        "num_cycles", num_cycles, minimum=0.0, maximum=MAX_CYCLES, min_inclusive=False
    )
    factor = curve("cosine", decay_steps, exponent=exponent, num_cycles=num_cycles)
    at_end = curve_at_end("cosine", exponent=exponent, num_cycles=num_cycles)
    final = end_value + (init_value - end_value) * at_end
    return _decay_schedule(init_value, decay_steps, end_value, factor, final)


@register
def polynomial_decay(
    init_value: float,
    decay_steps: int,
    end_value: float = 0.0,
    power: float = 1.0,
    cycle: bool = False,
) -> Schedule:
    r"""Polynomial decay from ``init_value`` to ``end_value`` over ``decay_steps``, then constant.

    .. math:: v(s) = v_{end} + (v_{init} - v_{end}) \cdot (1 - \min(s, D) / D)^{power}

    optax's ``polynomial_schedule`` going down from ``init_value``. With ``cycle=True``, Keras'
    ``PolynomialDecay(cycle=True)``: past ``D`` the decay restarts over a longer horizon,
    ``D \lceil s / D \rceil`` (``D`` at step 0), so the value jumps up after each multiple of
    ``D`` and never settles (``end_step`` is ``None``).

    >>> s = polynomial_decay(1.0, 10, power=2.0)
    >>> [round(float(s(i)), 4) for i in (0, 5, 10, 11)]
    [1.0, 0.25, 0.0, 0.0]
    >>> round(float(polynomial_decay(0.05, 10, 0.001, cycle=True)(15)), 6)  # Keras' own test
    0.01325
    """
    init_value, decay_steps, end_value = _decay_args(init_value, decay_steps, end_value)
    power = _checks.positive("power", power)
    cycle = _checks.flag("cycle", cycle)
    if not cycle:
        factor = curve("polynomial", decay_steps, power=power)
        return _decay_schedule(init_value, decay_steps, end_value, factor, end_value)

    def fn(step: jax.Array) -> jax.Array:
        step = jnp.maximum(step, 0)
        # s in (m - 1) D + (0, D]: m = ceil(s / D), 1 at step 0; the horizon is m D.
        m = jnp.maximum((step - 1) // decay_steps + 1, 1)  # no int32 overflow near 2**31
        inside = step - (m - 1) * decay_steps  # in (0, D], exactly
        left = as_float(decay_steps - inside) / (as_float(m) * decay_steps)  # 1 - s / (m D)
        return end_value + (init_value - end_value) * left**power

    return Schedule(pin(fn, until=(0, init_value)), warmup_steps=0, end_step=None)


@register
def linear_decay(init_value: float, decay_steps: int, end_value: float = 0.0) -> Schedule:
    r"""Linear decay from ``init_value`` to ``end_value`` over ``decay_steps``, then constant.

    .. math:: v(s) = v_{end} + (v_{init} - v_{end}) \cdot (1 - \min(s, D) / D)

    optax's ``linear_schedule(init_value, end_value, transition_steps)`` with exact ends.

    >>> [float(linear_decay(1.0, 4)(i)) for i in range(6)]
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    init_value, decay_steps, end_value = _decay_args(init_value, decay_steps, end_value)
    factor = curve("linear", decay_steps)
    return _decay_schedule(init_value, decay_steps, end_value, factor, end_value)


@register
def one_minus_sqrt_decay(init_value: float, decay_steps: int, end_value: float = 0.0) -> Schedule:
    r"""The "1-sqrt" cooldown from ``init_value`` to ``end_value`` over ``decay_steps``.

    .. math:: v(s) = v_{end} + (v_{init} - v_{end}) \cdot \left(1 - \sqrt{\min(s, D) / D}\right)

    The decay shape that Hägele et al. (2024) found best for the final phase of a
    warmup-stable-decay run.

    >>> [round(float(one_minus_sqrt_decay(1.0, 4)(i)), 4) for i in range(5)]
    [1.0, 0.5, 0.2929, 0.134, 0.0]
    """
    init_value, decay_steps, end_value = _decay_args(init_value, decay_steps, end_value)
    factor = curve("1-sqrt", decay_steps)
    return _decay_schedule(init_value, decay_steps, end_value, factor, end_value)


def _at_bound(fn: Any, bound: float, step: int) -> bool:
    value = np.asarray(jnp.asarray(fn(jnp.asarray(step, index_dtype())), float_dtype()))
    return bool(value == np.asarray(jnp.asarray(bound, float_dtype())))


def _first_step_at(fn: Any, bound: float, low: int, high: int) -> int:
    """The first step in ``[low, high]`` from which the monotone ``fn`` equals ``bound``."""
    while low < high:
        middle = (low + high) // 2
        if _at_bound(fn, bound, middle):
            high = middle
        else:
            low = middle + 1
    return low


@register
def exponential_decay(
    init_value: float,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> Schedule:
    r"""Exponential decay (or growth), optax's ``exponential_decay`` with the same arguments.

    .. math:: v(s) = v_{init} \cdot r^{\max(s - s_0, 0) / T}, \quad
       \text{bounded by } v_{end}

    With ``staircase=True`` the exponent is ``floor(max(s - s_0, 0) / T)``: the value changes by
    ``decay_rate`` once every ``transition_steps`` steps. A ``decay_rate`` above 1 grows the value;
    it then needs ``end_value`` as its ceiling. ``end_step`` is the first step at the bound, or
    ``None`` without one.

    Args:
      init_value: the value at step 0 (and until ``transition_begin``); >= 0.
      transition_steps: T, an integer >= 1.
      decay_rate: r, the factor per ``transition_steps``; > 0.
      transition_begin: s_0, the step the decay starts at; an integer >= 0.
      staircase: change in steps instead of continuously.
      end_value: a floor (``decay_rate < 1``, in [0, init_value]) or a ceiling
        (``decay_rate > 1``, >= init_value; required there).

    >>> s = exponential_decay(1.0, 2, 0.5, staircase=True)
    >>> [float(s(i)) for i in range(6)]
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    >>> exponential_decay(1.0, 1, 0.5, end_value=0.25).end_step
    2
    """
    init_value = _checks.non_negative("init_value", init_value)
    transition_steps = _checks.integer("transition_steps", transition_steps, minimum=1)
    decay_rate = _checks.positive("decay_rate", decay_rate)
    begin = _checks.integer("transition_begin", transition_begin, minimum=0)
    staircase = _checks.flag("staircase", staircase)
    growing = decay_rate > 1.0
    if end_value is None:
        if growing and init_value > 0:
            raise ValueError(
                f"a decay_rate above 1 ({decay_rate!r}) grows the value without bound: give "
                "end_value, the ceiling it stops at."
            )
    elif growing:
        end_value = _checks.number("end_value", end_value, minimum=init_value)
    else:
        end_value = _checks.non_negative("end_value", end_value, maximum=init_value)
    log_rate = math.log(decay_rate)
    bound = end_value
    # The exponent never needs to go past the bound (one unit of margin): exp() then stays
    # finite, and init * exp(...) can't become 0 * inf when the value grows.
    limit = (
        None
        if bound is None or bound == 0.0 or init_value == 0.0
        else (math.log(bound / init_value) + (1.0 if growing else -1.0))
    )

    # With staircase, the first drops' values init * r**n come from a table, each rounded once
    # from float64: exact powers stay exact (torch's StepLR values, bit for bit).
    drops = (_checks.max_step() - begin) // transition_steps + 1
    table = None
    if staircase and init_value > 0:
        with np.errstate(over="ignore"):  # past float64's range only beyond a ceiling: clipped
            powers = init_value * decay_rate ** np.arange(
                min(drops, _POWER_TABLE), dtype=np.float64
            )
        if bound is not None:
            powers = np.minimum(powers, bound) if growing else np.maximum(powers, bound)
        table = jnp.asarray(powers, float_dtype())  # on the device once, not at every call

    def raw(step: jax.Array) -> jax.Array:
        count = jnp.maximum(step - begin, 0)
        exponent = as_float(count // transition_steps if staircase else count)
        if not staircase:
            exponent = exponent * (1.0 / transition_steps)
        # exp(p log r), with log r exact in float64: float32's r ** p carries r's rounding
        # error times p (6e-5 relative at r = 0.99, p = 20000), this one about 2e-6 at most.
        power = log_rate * exponent
        if limit is not None:
            power = jnp.minimum(power, limit) if growing else jnp.maximum(power, limit)
        value = init_value * jnp.exp(power)
        if bound is not None:
            value = jnp.minimum(value, bound) if growing else jnp.maximum(value, bound)
        if table is not None:
            n = count // transition_steps
            tabulated = table[jnp.minimum(n, len(table) - 1)]
            value = jnp.where(n < len(table), tabulated, value)
        return jnp.where(count <= 0, init_value, value)

    end: int | None
    if decay_rate == 1.0 or init_value == 0.0 or init_value == bound:
        end = 0
    elif bound is None or bound == 0.0:
        end = None  # it approaches 0 and never holds a value
    elif not _at_bound(raw, bound, _checks.max_step()):
        end = None  # it reaches its bound only after the last step
    else:  # the value is monotone: the first step at the bound, by bisection
        end = _first_step_at(raw, bound, begin, _checks.max_step())
    fn = raw if end is None or bound is None else pin(raw, since=(end, bound))
    if init_value == 0.0:  # 0 times any power is 0 (and never 0 * inf)
        fn = lambda step: jnp.zeros(jnp.shape(step), float_dtype())  # noqa: E731
    return Schedule(fn, warmup_steps=0, end_step=end)


@register
def piecewise_constant(boundaries: Sequence[int], values: Sequence[float]) -> Schedule:
    r"""``values[i]`` on the steps from ``boundaries[i - 1]`` up to (not including) ``boundaries[i]``.

    .. math:: v(s) = values_i \quad\text{for } b_{i-1} \le s < b_i \quad (b_{-1} = -\infty,\;
       b_n = \infty)

    ``len(values) == len(boundaries) + 1``; boundaries strictly increasing integers >= 1.
    ``end_step`` is the last boundary.

    >>> s = piecewise_constant([10, 20], [1.0, 0.1, 0.01])
    >>> [float(s(i)) for i in (0, 9, 10, 19, 20)]
    [1.0, 1.0, 0.10000000149011612, 0.10000000149011612, 0.009999999776482582]
    """
    if isinstance(boundaries, (str, bytes)) or not isinstance(boundaries, Sequence):
        raise ValueError(
            f"boundaries must be a list of step numbers, got {_checks.describe(boundaries)}."
        )
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValueError(f"values must be a list of numbers, got {_checks.describe(values)}.")
    bounds = [_checks.integer(f"boundaries[{i}]", b, minimum=1) for i, b in enumerate(boundaries)]
    levels = [_checks.non_negative(f"values[{i}]", v) for i, v in enumerate(values)]
    if len(levels) != len(bounds) + 1:
        raise ValueError(
            f"values must have one more entry than boundaries ({len(bounds) + 1}), got {len(levels)}."
        )
    if any(b >= c for b, c in zip(bounds, bounds[1:], strict=False)):
        raise ValueError(
            f"boundaries must be strictly increasing, got {_checks.shorten(str(bounds))}."
        )
    bounds_array = np.asarray(bounds, np.int64)
    levels_array = np.asarray(levels)

    def fn(step: jax.Array) -> jax.Array:
        if not bounds:
            return jnp.full(jnp.shape(step), levels[0], float_dtype())
        index = jnp.searchsorted(jnp.asarray(bounds_array, step.dtype), step, side="right")
        return jnp.asarray(levels_array, float_dtype())[index]

    return Schedule(fn, warmup_steps=0, end_step=bounds[-1] if bounds else 0)


@register
def inverse_sqrt_decay(init_value: float, timescale: float) -> Schedule:
    r"""Inverse square root decay from ``init_value``; it never settles (``end_step`` is None).

    .. math:: v(s) = v_{init} \cdot \sqrt{\frac{\tau}{\max(s, 0) + \tau}}

    The "rsqrt" schedule of the Transformer paper and of big_vision, started at step 0.

    >>> s = inverse_sqrt_decay(1.0, 100)
    >>> [round(float(s(i)), 4) for i in (0, 300, 9900)]
    [1.0, 0.5, 0.1]
    """
    init_value = _checks.non_negative("init_value", init_value)
    timescale = _checks.positive("timescale", timescale)
    # s * (1 / tau), not s / tau: XLA rewrites the division into this multiplication anyway, and
    # written out, a 1 / tau below float32's range flushes to 0 harmlessly (v = init) instead of
    # making (s + tau) / tau collapse to 0.
    rate = 1.0 / timescale

    def fn(step: jax.Array) -> jax.Array:
        shifted = as_float(jnp.maximum(step, 0)) * rate + 1.0
        return jnp.where(step <= 0, init_value, init_value / jnp.sqrt(shifted))

    return Schedule(fn, warmup_steps=0, end_step=None)


@register
def inverse_time_decay(
    init_value: float, decay_steps: int, decay_rate: float, staircase: bool = False
) -> Schedule:
    r"""Inverse time decay, Keras' ``InverseTimeDecay`` with the same arguments.

    .. math:: v(s) = \frac{v_{init}}{1 + r \cdot p}, \qquad p = s / D
       \;\text{(} \lfloor s / D \rfloor \text{ with staircase)}

    It never settles (``end_step`` is ``None``) unless ``decay_rate`` is 0.

    >>> s = inverse_time_decay(1.0, 10, 0.5)
    >>> [float(s(i)) for i in (0, 10, 20)]
    [1.0, 0.6666666865348816, 0.5]
    >>> float(inverse_time_decay(1.0, 10, 0.5, staircase=True)(19))
    0.6666666865348816
    """
    init_value = _checks.non_negative("init_value", init_value)
    decay_steps = _checks.integer("decay_steps", decay_steps, minimum=1)
    decay_rate = _checks.non_negative("decay_rate", decay_rate)
    staircase = _checks.flag("staircase", staircase)
    rate = decay_rate / decay_steps

    def fn(step: jax.Array) -> jax.Array:
        step = jnp.maximum(step, 0)
        if staircase:
            denominator = 1.0 + decay_rate * as_float(step // decay_steps)
        else:
            denominator = 1.0 + rate * as_float(step)
        return init_value / denominator

    constant = decay_rate == 0.0 or init_value == 0.0
    return Schedule(
        pin(fn, until=(0, init_value)), warmup_steps=0, end_step=0 if constant else None
    )


@register
def noam_schedule(
    d_model: int, warmup_steps: int, scale: float = 1.0, step_offset: int = 0
) -> Schedule:
    r"""The Transformer paper's schedule ("Noam"): a linear warmup, then an inverse square root.

    .. math:: v(k) = c \cdot d^{-1/2} \cdot \min\left(s^{-1/2},\; s \cdot W^{-3/2}\right),
       \qquad s = k + \text{step\_offset}

    Vaswani et al. (2017) count steps from 1; here ``step_offset=0`` keeps the formula as
    written (0 at step 0), and ``step_offset=1`` is praxis' ``TransformerSchedule`` (and
    tensor2tensor's), whose update 0 already gets ``(1) W^{-3/2}``. The peak,
    ``c d^{-1/2} W^{-1/2}``, is exact at ``s = W``; it never settles (``end_step`` is None).

    Args:
      d_model: d, the model width; an integer >= 1.
      warmup_steps: W; an integer >= 1.
      scale: c, a constant factor; > 0.
      step_offset: added to the step; 0 or 1 (praxis).

    >>> s = noam_schedule(512, 4000)
    >>> float(s(0)), round(float(s(4000)), 8), round(float(s(16000)), 8)
    (0.0, 0.00069877, 0.00034939)
    """
    d_model = _checks.integer("d_model", d_model, minimum=1)
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, minimum=1)
    scale = _checks.positive("scale", scale)
    step_offset = _checks.integer("step_offset", step_offset, minimum=0, maximum=1)
    base = scale * d_model**-0.5
    slope = base * warmup_steps**-1.5
    peak = base * warmup_steps**-0.5
    full = warmup_steps - step_offset  # the step k at which s = W

    def fn(step: jax.Array) -> jax.Array:
        s = as_float(jnp.maximum(step, 0)) + float(step_offset)
        rising = slope * s
        falling = base * jax.lax.rsqrt(jnp.maximum(s, 1.0))
        return jnp.where(step <= full, jnp.minimum(rising, peak), falling)

    return Schedule(pin(fn, at={full: peak}), warmup_steps=full, end_step=None)


def decay_by_type(
    decay_type: str, init_value: float, decay_steps: int, end_value: float
) -> Schedule:
    """The decay of shape ``decay_type`` (one of :data:`DECAY_TYPES`)."""
    decay_type = _checks.choice("decay_type", decay_type, DECAY_TYPES)
    builder = {"linear": linear_decay, "cosine": cosine_decay, "1-sqrt": one_minus_sqrt_decay}
    return builder[decay_type](init_value, decay_steps, end_value)


__all__ = [
    "DECAY_TYPES",
    "constant",
    "cosine_decay",
    "exponential_decay",
    "inverse_sqrt_decay",
    "inverse_time_decay",
    "noam_schedule",
    "linear_decay",
    "one_minus_sqrt_decay",
    "piecewise_constant",
    "polynomial_decay",
]

"""Decays: schedules that start at ``init_value`` at step 0 and go down from there.

Named and shaped as optax users expect, with two differences: the end of each decay is exact (the
value at ``decay_steps`` and after is exactly ``final_value``), and bad settings raise
``ValueError`` instead of quietly becoming a constant schedule. Put a warmup in front with
:func:`warmup_jax.with_warmup`; chain with :func:`warmup_jax.join`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from warmup_jax import _checks
from warmup_jax._curves import half_cosine, one_minus_sqrt
from warmup_jax._schedule import Schedule, float_dtype, register

DECAY_SHAPES = ("linear", "cosine", "1-sqrt")
# More cycles than this are noise in float32 (and 2 pi c s would overflow it).
MAX_CYCLES = 1e6


def _ends_exactly(
    init_value: float, final_value: float, decay_steps: int, curve, end_value: float | None = None
):
    """``final + (init - final) * curve(elapsed)`` with exact values at step 0 and ``decay_steps``.

    ``curve`` takes the elapsed steps (an integer array in [0, decay_steps]) and goes from 1 at 0
    towards 0 at ``decay_steps``. Rounding in ``final + (init - final)`` can miss ``init`` by an ulp
    and XLA may compute ``s / D`` as ``s * (1 / D)``: the ends are pinned with ``where``.
    """
    if end_value is None:
        end_value = final_value

    def fn(step: jax.Array) -> jax.Array:
        value = final_value + (init_value - final_value) * curve(jnp.clip(step, 0, decay_steps))
        value = jnp.where(step <= 0, init_value, value)
        return jnp.where(step >= decay_steps, end_value, value)

    return fn


def _fraction(decay_steps: int):
    """``elapsed -> elapsed / decay_steps`` in the float dtype."""
    return lambda elapsed: elapsed.astype(float_dtype()) / decay_steps


def _decay_args(init_value, decay_steps, final_value):
    return (
        _checks.non_negative("init_value", init_value),
        _checks.integer("decay_steps", decay_steps, minimum=1),
        _checks.non_negative("final_value", final_value),
    )


@register
def constant(value: float) -> Schedule:
    """The same learning rate at every step.

    >>> float(constant(3e-4)(10**9))
    0.0003000000142492354
    """
    value = _checks.non_negative("value", value)
    return Schedule(lambda step: jnp.full(jnp.shape(step), value, float_dtype()))


@register
def cosine_decay(
    init_value: float, decay_steps: int, final_value: float = 0.0, num_cycles: float = 0.5
) -> Schedule:
    r"""Cosine decay from ``init_value`` to ``final_value`` over ``decay_steps``, then constant.

    .. math:: lr(s) = final + (init - final) \cdot \tfrac12 (1 + \cos(2\pi c \min(s, D) / D))

    ``num_cycles`` c = 0.5 (the default) is the usual half cosine, ending exactly at
    ``final_value``; other values follow transformers' ``num_cycles`` and end wherever the cosine
    is at ``s = D`` (for c = 1 back at ``init_value``).

    >>> s = cosine_decay(1.0, 100, final_value=0.1)
    >>> [round(float(s(i)), 4) for i in (0, 50, 100, 200)]
    [1.0, 0.55, 0.1, 0.1]
    """
    init_value, decay_steps, final_value = _decay_args(init_value, decay_steps, final_value)
    num_cycles = _checks.number(
        "num_cycles", num_cycles, minimum=0.0, maximum=MAX_CYCLES, min_inclusive=False
    )
    if num_cycles == 0.5:
        curve = lambda elapsed: half_cosine(elapsed, decay_steps)  # noqa: E731
        end = final_value
    else:
        fraction = _fraction(decay_steps)
        curve = lambda elapsed: (
            0.5 * (1.0 + jnp.cos((2.0 * math.pi * num_cycles) * fraction(elapsed)))
        )  # noqa: E731
        end = final_value + (init_value - final_value) * 0.5 * (
            1.0 + math.cos(2.0 * math.pi * num_cycles)
        )
    return Schedule(_ends_exactly(init_value, final_value, decay_steps, curve, end))


@register
def polynomial_decay(
    init_value: float, decay_steps: int, final_value: float = 0.0, power: float = 1.0
) -> Schedule:
    r"""Polynomial decay: ``final + (init - final) * (1 - min(s, D) / D) ** power``.

    >>> s = polynomial_decay(1.0, 10, power=2.0)
    >>> [round(float(s(i)), 4) for i in (0, 5, 10, 11)]
    [1.0, 0.25, 0.0, 0.0]
    """
    init_value, decay_steps, final_value = _decay_args(init_value, decay_steps, final_value)
    power = _checks.positive("power", power)
    remaining = _fraction(decay_steps)
    curve = lambda elapsed: remaining(decay_steps - elapsed) ** power  # noqa: E731
    return Schedule(_ends_exactly(init_value, final_value, decay_steps, curve))


@register
def linear_decay(init_value: float, decay_steps: int, final_value: float = 0.0) -> Schedule:
    """Linear decay from ``init_value`` to ``final_value`` over ``decay_steps``, then constant.

    >>> [float(linear_decay(1.0, 4)(i)) for i in range(6)]
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    init_value, decay_steps, final_value = _decay_args(init_value, decay_steps, final_value)
    remaining = _fraction(decay_steps)
    return Schedule(
        _ends_exactly(init_value, final_value, decay_steps, lambda e: remaining(decay_steps - e))
    )


@register
def one_minus_sqrt_decay(init_value: float, decay_steps: int, final_value: float = 0.0) -> Schedule:
    r"""The "1-sqrt" cooldown: ``final + (init - final) * (1 - sqrt(min(s, D) / D))``.

    The decay shape that Hägele et al. (2024) found best for the final phase of a
    warmup-stable-decay run.

    >>> [round(float(one_minus_sqrt_decay(1.0, 4)(i)), 4) for i in range(5)]
    [1.0, 0.5, 0.2929, 0.134, 0.0]
    """
    init_value, decay_steps, final_value = _decay_args(init_value, decay_steps, final_value)
    curve = lambda elapsed: one_minus_sqrt(elapsed, decay_steps)  # noqa: E731
    return Schedule(_ends_exactly(init_value, final_value, decay_steps, curve))


@register
def exponential_decay(
    init_value: float,
    decay_rate: float,
    transition_steps: int = 1,
    staircase: bool = False,
    final_value: float | None = None,
) -> Schedule:
    r"""Exponential decay: ``init * decay_rate ** (s / transition_steps)``, floored at ``final_value``.

    With ``staircase=True`` the exponent is ``floor(s / transition_steps)``: the value drops by
    ``decay_rate`` once every ``transition_steps`` steps.

    Args:
      init_value: the value at step 0; >= 0.
      decay_rate: the factor per ``transition_steps``; in (0, 1].
      transition_steps: an integer >= 1.
      staircase: drop in steps instead of continuously.
      final_value: an optional floor, in [0, init_value].

    >>> s = exponential_decay(1.0, 0.5, transition_steps=2, staircase=True)
    >>> [float(s(i)) for i in range(6)]
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """
    init_value = _checks.non_negative("init_value", init_value)
    decay_rate = _checks.number(
        "decay_rate", decay_rate, minimum=0.0, maximum=1.0, min_inclusive=False
    )
    transition_steps = _checks.integer("transition_steps", transition_steps, minimum=1)
    if not isinstance(staircase, bool):
        raise ValueError(f"staircase must be True or False, got {staircase!r}.")
    floor = (
        0.0
        if final_value is None
        else _checks.number("final_value", final_value, minimum=0.0, maximum=init_value)
    )
    log_rate = math.log(decay_rate)

    def fn(step: jax.Array) -> jax.Array:
        step = jnp.maximum(step, 0)
        exponent = (step // transition_steps if staircase else step).astype(float_dtype())
        if not staircase:
            exponent = exponent / transition_steps
        value = init_value * jnp.exp(log_rate * exponent)
        return jnp.where(step <= 0, init_value, jnp.maximum(value, floor))

    return Schedule(fn)


@register
def step_decay(init_value: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """PyTorch's StepLR: ``init * gamma ** floor(s / step_size)``.

    >>> s = step_decay(1.0, 3, gamma=0.5)
    >>> [float(s(i)) for i in (0, 2, 3, 6, 9)]
    [1.0, 1.0, 0.5, 0.25, 0.125]
    """
    init_value = _checks.non_negative("init_value", init_value)
    step_size = _checks.integer("step_size", step_size, minimum=1)
    gamma = _checks.number("gamma", gamma, minimum=0.0, maximum=1.0)

    def fn(step: jax.Array) -> jax.Array:
        drops = (jnp.maximum(step, 0) // step_size).astype(float_dtype())
        return init_value * gamma**drops

    return Schedule(fn)


@register
def piecewise_constant(boundaries: Sequence[int], values: Sequence[float]) -> Schedule:
    """``values[i]`` on the steps from ``boundaries[i - 1]`` up to (not including) ``boundaries[i]``.

    ``len(values) == len(boundaries) + 1``; boundaries strictly increasing integers >= 1.

    >>> s = piecewise_constant([10, 20], [1.0, 0.1, 0.01])
    >>> [float(s(i)) for i in (0, 9, 10, 19, 20)]
    [1.0, 1.0, 0.10000000149011612, 0.10000000149011612, 0.009999999776482582]
    """
    if isinstance(boundaries, (str, bytes)) or not isinstance(boundaries, Sequence):
        raise ValueError(f"boundaries must be a list of step numbers, got {boundaries!r}.")
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValueError(f"values must be a list of learning rates, got {values!r}.")
    bounds = [_checks.integer(f"boundaries[{i}]", b, minimum=1) for i, b in enumerate(boundaries)]
    levels = [_checks.non_negative(f"values[{i}]", v) for i, v in enumerate(values)]
    if len(levels) != len(bounds) + 1:
        raise ValueError(
            f"values must have one more entry than boundaries ({len(bounds) + 1}), got {len(levels)}."
        )
    if any(b >= c for b, c in zip(bounds, bounds[1:])):
        raise ValueError(f"boundaries must be strictly increasing, got {bounds}.")

    def fn(step: jax.Array) -> jax.Array:
        value = jnp.full(jnp.shape(step), levels[0], float_dtype())
        for boundary, level in zip(bounds, levels[1:]):
            value = jnp.where(step >= boundary, level, value)
        return value

    return Schedule(fn)


@register
def inverse_sqrt_decay(init_value: float, timescale: float) -> Schedule:
    r"""Inverse square root decay: ``init * sqrt(timescale / (s + timescale))``.

    The "rsqrt" schedule of the Transformer paper and of big_vision, started at step 0.

    >>> s = inverse_sqrt_decay(1.0, 100)
    >>> [round(float(s(i)), 4) for i in (0, 300, 9900)]
    [1.0, 0.5, 0.1]
    """
    init_value = _checks.non_negative("init_value", init_value)
    timescale = _checks.positive("timescale", timescale)

    def fn(step: jax.Array) -> jax.Array:
        shifted = jnp.maximum(step, 0).astype(float_dtype()) / timescale + 1.0
        return jnp.where(step <= 0, init_value, init_value / jnp.sqrt(shifted))

    return Schedule(fn)


def decay_by_shape(shape: str, init_value: float, decay_steps: int, final_value: float) -> Schedule:
    """The decay named ``shape`` (one of :data:`DECAY_SHAPES`)."""
    shape = _checks.choice("decay", shape, DECAY_SHAPES)
    builder = {"linear": linear_decay, "cosine": cosine_decay, "1-sqrt": one_minus_sqrt_decay}[
        shape
    ]
    return builder(init_value, decay_steps, final_value)

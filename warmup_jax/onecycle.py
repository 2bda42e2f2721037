"""Piecewise interpolation and the one-cycle policy, with optax's signatures and values.

* :func:`piecewise_interpolate` is ``optax.piecewise_interpolate_schedule``: at each boundary the
  value is multiplied by its scale, and between boundaries it moves linearly or along a half
  cosine from one accumulated value to the next.
* :func:`linear_onecycle` and :func:`cosine_onecycle` are optax's one-cycle schedules (Smith &
  Topin, "Super-Convergence", 2017) built on it, as optax builds them.

Exact ends: every boundary gives exactly its accumulated value (computed in float64, rounded
once), and the last one holds from its step on. Where optax silently merges two boundaries that
land on the same step, these raise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from warmup_jax import _checks
from warmup_jax._curves import half_cosine
from warmup_jax._pieces import as_float
from warmup_jax._schedule import Schedule, float_dtype, register

INTERPOLATE_TYPES = ("linear", "cosine")


def _pairs(boundaries_and_scales: Any) -> list[tuple[int, float]]:
    """``[(step, scale), ...]`` from a ``{step: scale}`` dict or a list of pairs, checked."""
    if boundaries_and_scales is None:
        return []
    if isinstance(boundaries_and_scales, (str, bytes)) or not isinstance(
        boundaries_and_scales, Sequence
    ):
        raise ValueError(
            "boundaries_and_scales must be a dict {step: scale} or a list of [step, scale] "
            f"pairs, got {_checks.describe(boundaries_and_scales)}."
        )
    pairs = []
    for i, pair in enumerate(boundaries_and_scales):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(
                f"boundaries_and_scales[{i}] must be a [step, scale] pair, got "
                f"{_checks.describe(pair)}."
            )
        step = _checks.integer(f"boundaries_and_scales[{i}] step", pair[0], minimum=0)
        scale = _checks.non_negative(f"boundaries_and_scales[{i}] scale", pair[1])
        pairs.append((step, scale))
    steps = [step for step, _ in pairs]
    if any(a >= b for a, b in zip(steps, steps[1:], strict=False)):
        raise ValueError(
            f"the boundaries of boundaries_and_scales must be distinct, got "
            f"{_checks.shorten(str(steps))}."
        )
    return pairs


@register
def piecewise_interpolate(
    interpolate_type: str, init_value: float, boundaries_and_scales: Any = None
) -> Schedule:
    r"""optax's ``piecewise_interpolate_schedule``: accumulated scales, interpolated between.

    .. math:: v_0 = v_{init},\; v_j = v_{j-1} \cdot c_j; \qquad
       v(s) = v_{j} + (v_{j+1} - v_j)\, g\!\left(\frac{s - b_j}{b_{j+1} - b_j}\right)
       \;\; (b_j \le s < b_{j+1})

    with ``b_0 = 0``, ``g(p) = p`` (linear) or ``(1 - \cos \pi p) / 2`` (cosine), and ``v`` the
    last accumulated value from the last boundary on. As in optax, a boundary at step 0 is a
    jump before the first step, and negative steps are step 0.

    Args:
      interpolate_type: ``"linear"`` or ``"cosine"``.
      init_value: the value at step 0; >= 0.
      boundaries_and_scales: ``{step: scale}`` (or ``[[step, scale], ...]``): at each step
        (an integer >= 0) the value has been multiplied by its scale (>= 0).

    >>> s = piecewise_interpolate("linear", 1.0, {4: 0.1, 8: 0.01})  # optax's own example
    >>> [round(float(s(k)), 6) for k in range(0, 11, 2)]
    [1.0, 0.55, 0.1, 0.0505, 0.001, 0.001]
    """
    interpolate_type = _checks.choice("interpolate_type", interpolate_type, INTERPOLATE_TYPES)
    init_value = _checks.non_negative("init_value", init_value)
    pairs = _pairs(boundaries_and_scales)
    bounds = [0] + [step for step, _ in pairs]
    values = [init_value]
    for i, (_, scale) in enumerate(pairs):
        values.append(_checks.non_negative(f"the value after boundary {i}", values[-1] * scale))
    # Segments of nonzero length: [b_j, b_j+1) from v_j to v_j+1.
    segments = [
        (bounds[j], bounds[j + 1], values[j], values[j + 1])
        for j in range(len(bounds) - 1)
        if bounds[j + 1] > bounds[j]
    ]
    last_bound, last_value = bounds[-1], values[-1]
    cosine = interpolate_type == "cosine"

    def segment(step: jax.Array, start: int, stop: int, a: float, b: float) -> jax.Array:
        length = stop - start
        done = jnp.clip(step - start, 0, length)
        left = length - done
        near_start = done <= left
        # From the nearer end, so that a climb from a small a to a large b keeps a's digits.
        if cosine:  # v_j+1 + (v_j - v_j+1) * (1 + cos(pi p)) / 2, exact near both ends
            return jnp.where(
                near_start,
                a + (b - a) * half_cosine(left, length),
                b + (a - b) * half_cosine(done, length),
            )
        return jnp.where(
            near_start,
            a + (b - a) * (as_float(done) * (1.0 / length)),
            b - (b - a) * (as_float(left) * (1.0 / length)),
        )

    def fn(step: jax.Array) -> jax.Array:
        step = jnp.maximum(step, 0)
        value = jnp.full(jnp.shape(step), last_value, float_dtype())
        for start, stop, a, b in reversed(segments):
            inside = (step >= start) & (step < stop)
            value = jnp.where(inside, segment(step, start, stop, a, b), value)
            value = jnp.where(step == start, a, value)
        return jnp.where(step >= last_bound, last_value, value)

    return Schedule(fn, warmup_steps=0, end_step=last_bound)


def _onecycle_steps(transition_steps: Any, marks: list[tuple[str, float]]) -> tuple[int, list[int]]:
    steps = _checks.integer("transition_steps", transition_steps, minimum=1)
    points = []
    for name, pct in marks:
        pct = _checks.number(name, pct, minimum=0.0, maximum=1.0)
        points.append(int(pct * steps))
    if any(a >= b for a, b in zip(points, [*points[1:], steps], strict=True)):
        raise ValueError(
            f"{', '.join(name for name, _ in marks)} times transition_steps ({steps}) must give "
            f"distinct whole steps before transition_steps, in order; got {points} (optax "
            "would silently merge them)."
        )
    return steps, points


def _factors(name: str, value: Any) -> float:
    return _checks.positive(name, value)


@register
def linear_onecycle(
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    pct_final: float = 0.85,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    r"""optax's ``linear_onecycle_schedule``: up, down, then down again, linearly.

    .. math:: v: \; \frac{p}{d} \xrightarrow{[0,\, a T]} p \xrightarrow{[a T,\, b T]} \frac{p}{d}
       \xrightarrow{[b T,\, T]} \frac{p}{d \cdot f}

    with ``p = peak_value``, ``d = div_factor``, ``f = final_div_factor``, ``a = pct_start``,
    ``b = pct_final`` and the phase ends ``int(a T)``, ``int(b T)`` as optax computes them;
    ``p / (d f)`` from ``T = transition_steps`` on.

    >>> s = linear_onecycle(10, 1000, 0.3, 0.7, 10, 100)  # optax's own test
    >>> [round(float(s(k)), 4) for k in range(12)]
    [100.0, 400.0, 700.0, 1000.0, 775.0, 550.0, 325.0, 100.0, 67.0, 34.0, 1.0, 1.0]
    """
    steps, (start, final) = _onecycle_steps(
        transition_steps, [("pct_start", pct_start), ("pct_final", pct_final)]
    )
    peak_value = _checks.positive("peak_value", peak_value)
    div, final_div = (
        _factors("div_factor", div_factor),
        _factors("final_div_factor", final_div_factor),
    )
    return piecewise_interpolate(
        "linear",
        peak_value / div,
        [[start, div], [final, 1.0 / div], [steps, 1.0 / final_div]],
    )


@register
def cosine_onecycle(
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    r"""optax's ``cosine_onecycle_schedule``: a half cosine up to the peak, one down to the end.

    .. math:: v: \; \frac{p}{d} \xrightarrow{[0,\, a T]} p \xrightarrow{[a T,\, T]}
       \frac{p}{d \cdot f}

    with ``p = peak_value``, ``d = div_factor``, ``f = final_div_factor``, ``a = pct_start``
    (the peak at ``int(a T)``, as optax computes it); ``p / (d f)`` from ``T`` on.

    >>> s = cosine_onecycle(10, 1.0, pct_start=0.2, div_factor=10, final_div_factor=10)
    >>> [round(float(s(k)), 4) for k in (0, 1, 2, 6, 10)]
    [0.1, 0.55, 1.0, 0.505, 0.01]
    """
    steps, (start,) = _onecycle_steps(transition_steps, [("pct_start", pct_start)])
    peak_value = _checks.positive("peak_value", peak_value)
    div, final_div = (
        _factors("div_factor", div_factor),
        _factors("final_div_factor", final_div_factor),
    )
    return piecewise_interpolate(
        "cosine", peak_value / div, [[start, div], [steps, 1.0 / (div * final_div)]]
    )


__all__ = ["INTERPOLATE_TYPES", "cosine_onecycle", "linear_onecycle", "piecewise_interpolate"]

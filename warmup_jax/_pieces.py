"""The building blocks every schedule is made of: warmup ramps, decay curves, exact ends.

The native constructors and the transformers family build on the same three functions, so a
ramp or a decay is written once and its ends are pinned one way:

* :func:`pin` makes a step function exact where rounding could miss: a value at and before a
  first step, at single steps, and at and after a last step (``jnp.where`` on integer steps, so
  nothing depends on how XLA rounds ``s / n``; it may compute it as ``s * (1 / n)``).
* :func:`ramp` is a warmup from ``init`` to ``peak`` (linear or geometric), exactly ``peak``
  from its last step on.
* :func:`decay` is ``end + (init - end) * curve(elapsed)``, exactly ``init`` at step 0 and,
  unless it is told to follow its formula past the end, exactly its end value from the end on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp

from warmup_jax._curves import half_cosine, one_minus_sqrt, periodic_cosine
from warmup_jax._schedule import float_dtype

StepFn = Callable[[jax.Array], jax.Array]

WARMUP_TYPES = ("linear", "exponential")
DECAY_TYPES = ("linear", "cosine", "1-sqrt")
# An exponential warmup starts at peak / 1000 unless told otherwise: three decades, as in the
# "geometric" warmups of the large-batch literature.
DEFAULT_EXPONENTIAL_START = 1e-3


def as_float(x: jax.Array) -> jax.Array:
    """An integer array in the float dtype (float32, float64 under x64)."""
    return x.astype(float_dtype())


def over(x: jax.Array, n: float) -> jax.Array:
    """``x / n`` for a constant ``n``, computed as ``x * (1 / n)``.

    XLA compiles a division by a constant into that multiplication in every compiled program,
    but divides exactly where it folds a scalar eagerly: written out, a schedule gives the same
    bits for a step whether it is a Python int, an array or traced under ``jit``.
    """
    return as_float(x) * (1.0 / n)


def pin(
    fn: StepFn,
    *,
    until: tuple[int, float] | None = None,
    at: Mapping[int, float] | None = None,
    since: tuple[int, float] | None = None,
) -> StepFn:
    """``fn`` with exact values: ``until=(s0, v)`` for every step <= s0, ``at={s: v}`` at single
    steps, ``since=(s1, v)`` for every step >= s1 (applied in that order, the last one winning)."""
    points = dict(at or {})

    def pinned(step: jax.Array) -> jax.Array:
        value = fn(step)
        if until is not None:
            value = jnp.where(step <= until[0], until[1], value)
        for where, exact in points.items():
            value = jnp.where(step == where, exact, value)
        if since is not None:
            value = jnp.where(step >= since[0], since[1], value)
        return value

    return pinned


def progress(step: jax.Array, steps: int, ahead: bool) -> jax.Array:
    """``s / steps`` with ``s = step`` (or ``step + 1``) clipped to ``[0, steps]``, in floats."""
    if ahead:
        step = jnp.clip(step, -1, steps - 1) + 1
    return over(jnp.clip(step, 0, steps), steps)


def ramp(peak: float, steps: int, init: float, warmup_type: str, ahead: bool) -> StepFn:
    r"""A warmup over ``steps`` steps from ``init`` to ``peak``; ``peak`` from step ``steps - ahead``.

    linear: :math:`init + (peak - init)\,p`; exponential: :math:`init\,(peak / init)^p`, with
    ``p`` from :func:`progress`. Rounding may put a ramp step a hair above the peak; the ramp is
    capped there, so it never overshoots.
    """
    full = steps - int(ahead)
    if warmup_type == "linear":
        # A ramp from above the peak (optax allows one) comes down to it instead.
        toward = jnp.minimum if init <= peak else jnp.maximum

        def linear(step: jax.Array) -> jax.Array:
            return toward(init + (peak - init) * progress(step, steps, ahead), peak)

        return pin(linear, since=(full, peak))
    log_ratio = math.log(peak / init)

    def geometric(step: jax.Array) -> jax.Array:
        return jnp.minimum(init * jnp.exp(log_ratio * progress(step, steps, ahead)), peak)

    return pin(geometric, until=None if ahead else (0, init), since=(full, peak))


Curve = Callable[[jax.Array], jax.Array]


def curve(
    decay_type: str,
    length: int,
    *,
    power: float = 1.0,
    exponent: float = 1.0,
    num_cycles: float = 0.5,
) -> Curve:
    """``elapsed -> factor`` going from 1 at 0 towards 0 at ``length``, for integer ``elapsed``.

    ``"linear"``: ``(L - e) / L``; ``"polynomial"``: its ``power``; ``"cosine"``: the half cosine
    ``(0.5 (1 + cos(pi e / L))) ** exponent``, or with ``num_cycles`` c other than 0.5
    transformers' ``0.5 (1 + cos(2 pi c e / L))``; ``"1-sqrt"``: ``1 - sqrt(e / L)``. Each is
    computed from the remaining steps where that avoids cancellation (see :mod:`._curves`).
    """
    if decay_type == "linear":
        return lambda e: over(length - e, length)
    if decay_type == "polynomial":
        return lambda e: over(length - e, length) ** power
    if decay_type == "1-sqrt":
        return lambda e: one_minus_sqrt(e, length)
    if num_cycles == 0.5:
        base: Curve = lambda e: half_cosine(e, length)  # noqa: E731
    else:
        base = lambda e: periodic_cosine(e, length, num_cycles)  # noqa: E731
    return base if exponent == 1.0 else (lambda e: base(e) ** exponent)


def curve_at_end(decay_type: str, *, exponent: float = 1.0, num_cycles: float = 0.5) -> float:
    """The curve's value at ``elapsed == length``, in float64."""
    if decay_type != "cosine" or num_cycles == 0.5:
        return 0.0
    return (0.5 * (1.0 + math.cos(2.0 * math.pi * num_cycles))) ** exponent


def decay(
    init: float,
    length: int,
    end: float,
    factor: Curve,
    *,
    end_value: float | None = None,
    hold: bool = True,
) -> StepFn:
    """``end + (init - end) * factor(elapsed)``: exactly ``init`` at step <= 0 and, when ``hold``,
    exactly ``end_value`` (default ``end``) from ``length`` on. Without ``hold`` the formula goes
    on past the end (``factor`` must be defined there) and the caller pins what it needs."""
    if end_value is None:
        end_value = end

    def fn(step: jax.Array) -> jax.Array:
        elapsed = jnp.clip(step, 0, length) if hold else jnp.maximum(step, 0)
        return end + (init - end) * factor(elapsed)

    if hold:
        return pin(fn, until=(0, init), since=(length, end_value))
    return pin(fn, until=(0, init))


def then(first: StepFn, length: int, following: StepFn) -> StepFn:
    """``first`` on steps below ``length``, then ``following(step - length)``."""
    if length <= 0:
        return following

    def fn(step: jax.Array) -> jax.Array:
        return jnp.where(step < length, first(step), following(step - length))

    return fn

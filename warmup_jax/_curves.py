"""Decay curves computed to float32's relative precision, also near their zeros.

The textbook forms cancel in float32 where a decay approaches 0: ``0.5 * (1 + cos(x))`` as ``cos``
nears -1 (a value of 1e-6 comes out about 10% off), ``1 - sqrt(p)`` as ``p`` nears 1, and
``cos(2 pi c s / L)`` once ``s`` is large enough for the angle to lose its low bits. Here each
curve is written in a form with no such subtraction, from the elapsed and remaining steps, which
integer arithmetic gives exactly.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from warmup_jax._schedule import float_dtype

# mulmod's float32 quotient estimate stays within 0.1 of the truth for multipliers up to this.
_MAX_EXACT_MULTIPLIER = 2**19
_MAX_MODULUS = 2**31 - 1


def _f(x: jax.Array) -> jax.Array:
    return x.astype(float_dtype())


def mulmod(a: jax.Array, k: int, n: int) -> jax.Array:
    """``(a * k) mod n`` exactly, for an integer array ``a``, ``1 <= k <= 2**19`` and ``n < 2**31``.

    ``a`` is reduced mod ``n`` first. The quotient ``q`` of ``(a mod n) * k / n`` is estimated in
    float32 (error below 0.1, so off by at most one) and ``a * k - q * n`` computed in wrapping
    uint32 arithmetic. Below ``n`` it is the answer. Otherwise the estimate was one off: one too
    low when the estimate sat just below a whole number (fraction >= 1/2), so ``n`` is taken
    away; one too high when it sat just above one, so ``n`` is added back.
    """
    a = jnp.mod(a, n)
    estimate = _f(a) * (k / n)
    quotient = jnp.floor(estimate)
    n32 = jnp.uint32(n)
    remainder = a.astype(jnp.uint32) * jnp.uint32(k) - quotient.astype(jnp.uint32) * n32
    fixed = jnp.where(estimate - quotient >= 0.5, remainder - n32, remainder + n32)
    return jnp.where(remainder < n32, remainder, fixed).astype(a.dtype)


def can_reduce_exactly(k: float, n: int) -> bool:
    """Whether :func:`mulmod` is exact for multiplier ``k`` and modulus ``n``."""
    return float(k).is_integer() and 1 <= k <= _MAX_EXACT_MULTIPLIER and 1 <= n <= _MAX_MODULUS


def half_cosine_parts(done: jax.Array, remaining: jax.Array, total: jax.Array | float) -> jax.Array:
    """``0.5 * (1 + cos(pi * done / total))`` given ``done + remaining == total`` (floats).

    The same function is ``sin(pi/2 * remaining / total)**2``, exact near the end where the value
    goes to 0; in the first half (value at least 1/2) it is ``sin(pi/2 * done / total + pi/2)**2``.
    One sine either way.
    """
    scale = 0.5 * math.pi / total
    angle = jnp.where(done <= remaining, scale * done + 0.5 * math.pi, scale * remaining)
    return jnp.sin(angle) ** 2


def half_cosine(elapsed: jax.Array, length: int) -> jax.Array:
    """``0.5 * (1 + cos(pi * elapsed / length))`` for integer ``elapsed`` (see above).

    >>> import jax.numpy as jnp
    >>> [round(float(v), 6) for v in half_cosine(jnp.arange(5), 4)]
    [1.0, 0.853553, 0.5, 0.146447, 0.0]
    """
    return half_cosine_parts(_f(elapsed), _f(length - elapsed), float_dtype().type(length))


def periodic_cosine(elapsed: jax.Array, length: int, num_cycles: float) -> jax.Array:
    """transformers' ``0.5 * (1 + cos(2 pi num_cycles * elapsed / length))`` for integer ``elapsed``.

    When ``2 * num_cycles`` is a whole number k, the angle is reduced exactly:
    ``k * elapsed mod 2 * length`` gives the position in the current half period, so the value is
    exact near every zero and any distance past the end. Otherwise the plain formula is used.
    """
    k = 2.0 * num_cycles
    if k == 1.0:  # the half cosine, mirrored past its end: reduced by reflection alone
        period = 2 * length
        if period <= jnp.iinfo(elapsed.dtype).max:
            elapsed = jnp.mod(elapsed, period)
        # (otherwise every step is already below 2 * length)
        mirrored = jnp.where(elapsed > length, length - (elapsed - length), elapsed)
        return half_cosine(mirrored, length)
    if can_reduce_exactly(k, 2 * length):
        position = mulmod(elapsed, int(k), 2 * length)
        position = jnp.where(position > length, 2 * length - position, position)
        return half_cosine(position, length)
    return 0.5 * (1.0 + jnp.cos((math.pi * k / length) * _f(elapsed)))


def one_minus_sqrt(elapsed: jax.Array, length: int) -> jax.Array:
    """``1 - sqrt(elapsed / length)``, accurate at both ends.

    Near the start ``sqrt(p)`` is small and the plain form is exact enough; near the end it is
    written ``q / (1 + sqrt(p))`` with ``q = (length - elapsed) / length`` the remaining fraction,
    which has no cancellation.

    >>> import jax.numpy as jnp
    >>> [round(float(v), 6) for v in one_minus_sqrt(jnp.asarray([0, 1, 4]), 4)]
    [1.0, 0.5, 0.0]
    """
    p = _f(elapsed) * (1.0 / length)  # see warmup_jax._pieces.over
    q = _f(length - elapsed) * (1.0 / length)
    root = jnp.sqrt(jnp.maximum(p, 0.0))
    return jnp.where(p <= q, 1.0 - root, q / (1.0 + root))

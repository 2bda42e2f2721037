"""HuggingFace transformers' schedules, by the same names, with the same values at every step.

Each ``get_X(optimizer, ...)`` of ``transformers.optimization`` is ``X(peak_value, ...)`` here:
the optimizer is replaced by its learning rate ``peak_value``, every other argument keeps its name
and default, and the value at step ``s`` is ``peak_value * lr_lambda(s)`` with transformers' own
``lr_lambda``, up to float32 rounding (``LambdaLR`` computes in float64). Past
``num_training_steps`` the values also follow transformers' formulas (a half cosine, for example,
rises again there), so a run ported from PyTorch sees the same numbers; ``end_step`` is
``num_training_steps``.

The family is a thin layer over the native pieces (:mod:`warmup_jax._pieces`): the same warmup
ramps and decay curves as :func:`warmup_jax.linear_warmup` or :func:`warmup_jax.cosine_decay`, and
the same pinning of exact ends. Two options are added to every schedule with a warmup, named as
everywhere in warmup_jax: ``warmup_type="exponential"`` (a geometric warmup from
``peak_value / 1000`` in place of the linear one) and ``warmup_one_step_ahead=True`` (the warmup
evaluated at ``step + 1``, so that update 0 is not wasted at learning rate 0). The last warmup
step reaches exactly ``peak_value`` and the value at ``num_training_steps`` is exactly the
formula's value there.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from warmup_jax import _checks
from warmup_jax._curves import (
    can_reduce_exactly,
    half_cosine,
    mulmod,
    one_minus_sqrt,
    periodic_cosine,
)
from warmup_jax._pieces import (
    DEFAULT_EXPONENTIAL_START,
    WARMUP_TYPES,
    StepFn,
    as_float,
    curve,
    decay,
    over,
    pin,
    ramp,
    then,
)
from warmup_jax._schedule import Schedule, float_dtype, register
from warmup_jax.decays import MAX_CYCLES

WSD_WARMUP_TYPES = ("linear", "cosine", "1-sqrt", "exponential")
WSD_DECAY_TYPES = ("linear", "cosine", "1-sqrt")


def _warmup_steps(num_warmup_steps: Any) -> int:
    return _checks.integer("num_warmup_steps", num_warmup_steps, minimum=0)


def _steps(num_warmup_steps: Any, num_training_steps: Any) -> tuple[int, int]:
    """Checked ``(num_warmup_steps, num_training_steps)``: the warmup fits inside training."""
    warmup = _warmup_steps(num_warmup_steps)
    total = _checks.integer("num_training_steps", num_training_steps, minimum=1)
    if total < warmup:
        raise ValueError(
            f"num_training_steps must be >= num_warmup_steps ({warmup}), got {total}: the warmup "
            "cannot be longer than training."
        )
    return warmup, total


def _with_warmup(
    peak_value: float,
    num_warmup_steps: int,
    warmup_type: Any,
    warmup_one_step_ahead: Any,
    after: StepFn,
    *,
    end_step: int | None,
    holds_from: int | None,
    pinned: dict[int, float] | None = None,
) -> Schedule:
    """A warmup of ``num_warmup_steps`` to ``peak_value``, then ``after(step - W)``; ``pinned``
    maps steps to exact values (the end of training, computed in float64 from the formula)."""
    warmup_type = _checks.choice("warmup_type", warmup_type, WARMUP_TYPES)
    ahead = _checks.flag("warmup_one_step_ahead", warmup_one_step_ahead)
    fn = after
    if num_warmup_steps:
        init = 0.0 if warmup_type == "linear" else peak_value * DEFAULT_EXPONENTIAL_START
        warm = ramp(peak_value, num_warmup_steps, init, warmup_type, ahead)
        fn = then(warm, num_warmup_steps, after)
    if pinned:
        fn = pin(fn, at=pinned)
    return Schedule(
        fn,
        warmup_steps=num_warmup_steps,
        end_step=end_step,
        holds_from=holds_from,
    )


def _cosine_at_end(num_warmup_steps: int, num_training_steps: int, num_cycles: float) -> float:
    """transformers' cosine factor ``0.5 * (1 + cos(pi * num_cycles * 2 * p))`` at step ``T``."""
    progress = (num_training_steps - num_warmup_steps) / max(
        1, num_training_steps - num_warmup_steps
    )
    if num_cycles == 0.5 and progress == 1.0:
        return 0.0  # cos(pi) is -1; float64 leaves 6e-17 behind
    return 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))


def _periodic(length: int, num_cycles: float) -> Callable[[jax.Array], jax.Array]:
    """transformers' cosine factor after ``elapsed`` steps, for any ``elapsed >= 0`` (past the end
    too), exact near its zeros (see :func:`warmup_jax._curves.periodic_cosine`)."""
    return lambda elapsed: jnp.maximum(0.0, periodic_cosine(elapsed, length, num_cycles))


def _cycles(num_cycles: Any) -> float:
    return _checks.number(
        "num_cycles", num_cycles, minimum=0.0, maximum=MAX_CYCLES, min_inclusive=False
    )


def _constant(value: float) -> StepFn:
    return lambda step: jnp.full(jnp.shape(step), value, float_dtype())


@register
def constant_schedule(peak_value: float) -> Schedule:
    r"""transformers' ``get_constant_schedule``: ``peak_value`` at every step.

    .. math:: v(s) = v_{peak}

    >>> float(constant_schedule(0.5)(123))
    0.5
    """
    peak_value = _checks.positive("peak_value", peak_value)
    return Schedule(_constant(peak_value), warmup_steps=0, end_step=0)


@register
def constant_schedule_with_warmup(
    peak_value: float,
    num_warmup_steps: int,
    warmup_type: str = "linear",
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    r"""transformers' ``get_constant_schedule_with_warmup``: warmup, then ``peak_value``.

    .. math:: v(s) = v_{peak} \cdot \min(1, s / W)

    >>> [float(constant_schedule_with_warmup(1.0, 4)(i)) for i in range(6)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    num_warmup_steps = _warmup_steps(num_warmup_steps)
    ahead = int(warmup_one_step_ahead is True and num_warmup_steps > 0)
    return _with_warmup(
        peak_value,
        num_warmup_steps,
        warmup_type,
        warmup_one_step_ahead,
        _constant(peak_value),
        end_step=num_warmup_steps,
        holds_from=num_warmup_steps - ahead,
    )


@register
def linear_schedule_with_warmup(
    peak_value: float,
    num_warmup_steps: int,
    num_training_steps: int,
    warmup_type: str = "linear",
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    r"""transformers' ``get_linear_schedule_with_warmup``: warmup, then linear down to 0.

    .. math:: v(s) = v_{peak} \cdot \begin{cases} s / \max(1, W) & s < W \\
       \max\left(0, \frac{T - s}{\max(1, T - W)}\right) & s \ge W \end{cases}

    >>> s = linear_schedule_with_warmup(1.0, 2, 6)
    >>> [float(s(i)) for i in range(8)]
    [0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    num_warmup_steps, num_training_steps = _steps(num_warmup_steps, num_training_steps)
    length = num_training_steps - num_warmup_steps
    after = decay(peak_value, length, 0.0, curve("linear", length)) if length else _constant(0.0)
    return _with_warmup(
        peak_value,
        num_warmup_steps,
        warmup_type,
        warmup_one_step_ahead,
        after,
        end_step=num_training_steps,
        holds_from=num_training_steps,
        pinned={num_training_steps: 0.0},
    )


@register
def cosine_schedule_with_warmup(
    peak_value: float,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    warmup_type: str = "linear",
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    r"""transformers' ``get_cosine_schedule_with_warmup``: warmup, then a cosine.

    .. math:: v(s) = v_{peak} \cdot \max\left(0, \tfrac12 \left(1 + \cos(2 \pi c\, p)\right)\right),
       \quad p = \frac{s - W}{\max(1, T - W)} \quad (s \ge W)

    The default ``num_cycles`` c = 0.5 is a half cosine down to exactly 0 at ``T``.

    >>> s = cosine_schedule_with_warmup(5e-5, 100, 1000)
    >>> [float(s(i)) for i in (0, 50, 100, 1000)]
    [0.0, 2.499999936844688e-05, 4.999999873689376e-05, 0.0]
    >>> round(float(s(550)), 10)
    2.5e-05
    """
    peak_value = _checks.positive("peak_value", peak_value)
    num_warmup_steps, num_training_steps = _steps(num_warmup_steps, num_training_steps)
    num_cycles = _cycles(num_cycles)
    length = max(1, num_training_steps - num_warmup_steps)
    after = decay(peak_value, length, 0.0, _periodic(length, num_cycles), hold=False)
    end = peak_value * max(0.0, _cosine_at_end(num_warmup_steps, num_training_steps, num_cycles))
    return _with_warmup(
        peak_value,
        num_warmup_steps,
        warmup_type,
        warmup_one_step_ahead,
        after,
        end_step=num_training_steps,
        holds_from=None,
        pinned={num_training_steps: end},
    )


@register
def cosine_with_hard_restarts_schedule_with_warmup(
    peak_value: float,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: int = 1,
    warmup_type: str = "linear",
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    r"""transformers' ``get_cosine_with_hard_restarts_schedule_with_warmup``.

    .. math:: v(s) = v_{peak} \cdot \tfrac12 \left(1 + \cos\left(\pi \cdot ((c\, p) \bmod 1)\right)
       \right), \quad p = \frac{s - W}{\max(1, T - W)} < 1; \qquad v(s) = 0 \quad (p \ge 1)

    After the warmup, ``num_cycles`` half cosines from ``peak_value`` to 0, each restarting at
    ``peak_value``; 0 from ``num_training_steps`` on. The position in the cycle,
    ``(num_cycles * p) % 1``, is computed in exact integer arithmetic, so restarts land on the exact
    step (float32 would put ``0.99999994`` where 1 belongs and skip a restart). One departure:
    transformers computes it in float64, which can also land just below a whole number, at a
    restart step where ``num_cycles * step`` is a multiple of ``T - W`` (for example step 15 of
    ``num_cycles=22`` over 22 steps); transformers then gives almost 0 there, this gives the
    restart's ``peak_value``, the formula's exact value.

    >>> s = cosine_with_hard_restarts_schedule_with_warmup(1.0, 0, 8, num_cycles=2)
    >>> [round(float(s(i)), 4) for i in range(9)]
    [1.0, 0.8536, 0.5, 0.1464, 1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    num_warmup_steps, num_training_steps = _steps(num_warmup_steps, num_training_steps)
    num_cycles = _checks.integer("num_cycles", num_cycles, minimum=1)
    length = max(1, num_training_steps - num_warmup_steps)
    exact = can_reduce_exactly(num_cycles, length)

    def factor(elapsed: jax.Array) -> jax.Array:
        done = elapsed >= length
        elapsed = jnp.clip(elapsed, 0, length - 1)
        if exact:  # (num_cycles * elapsed) mod length in integers: restarts on the exact step
            value = half_cosine(mulmod(elapsed, num_cycles, length), length)
        else:
            value = 0.5 * (
                1.0 + jnp.cos(math.pi * jnp.mod(over(elapsed, length / num_cycles), 1.0))
            )
        return jnp.where(done, 0.0, jnp.maximum(0.0, value))

    # With T == W transformers' progress is 0 at step T (a restart at the peak): nothing to pin.
    pinned = {num_training_steps: 0.0} if num_training_steps > num_warmup_steps else {}
    return _with_warmup(
        peak_value,
        num_warmup_steps,
        warmup_type,
        warmup_one_step_ahead,
        decay(peak_value, length, 0.0, factor, hold=False),
        end_step=num_training_steps,
        holds_from=num_training_steps + int(num_training_steps == num_warmup_steps),
        pinned=pinned,
    )


@register
def polynomial_decay_schedule_with_warmup(
    peak_value: float,
    num_warmup_steps: int,
    num_training_steps: int,
    lr_end: float = 1e-7,
    power: float = 1.0,
    warmup_type: str = "linear",
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    r"""transformers' ``get_polynomial_decay_schedule_with_warmup``.

    .. math:: v(s) = (v_{peak} - lr_{end}) \left(1 - \frac{s - W}{T - W}\right)^{power} + lr_{end}
       \quad (W \le s \le T), \qquad v(s) = lr_{end} \quad (s > T)

    >>> s = polynomial_decay_schedule_with_warmup(1.0, 0, 4, lr_end=0.0, power=2.0)
    >>> [float(s(i)) for i in range(6)]
    [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    num_warmup_steps, num_training_steps = _steps(num_warmup_steps, num_training_steps)
    lr_end = _checks.non_negative("lr_end", lr_end)
    if not lr_end < peak_value:
        raise ValueError(f"lr_end ({lr_end}) must be smaller than peak_value ({peak_value}).")
    power = _checks.positive("power", power)
    length = num_training_steps - num_warmup_steps
    after = (
        decay(peak_value, length, lr_end, curve("polynomial", length, power=power))
        if length
        else _constant(lr_end)
    )
    return _with_warmup(
        peak_value,
        num_warmup_steps,
        warmup_type,
        warmup_one_step_ahead,
        after,
        end_step=num_training_steps,
        holds_from=num_training_steps,
        pinned={num_training_steps: lr_end},
    )


@register
def inverse_sqrt_schedule(
    peak_value: float,
    num_warmup_steps: int,
    timescale: float | None = None,
    warmup_type: str = "linear",
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    r"""transformers' ``get_inverse_sqrt_schedule``: warmup, then an inverse square root decay.

    .. math:: v(s) = \frac{v_{peak}}{\sqrt{(s + \tau - W) / \tau}} \quad (s \ge W)

    The decay starts at exactly ``peak_value``; ``timescale`` (tau) defaults to
    ``num_warmup_steps`` (or 10,000 when that is 0). It never settles: ``end_step`` is None.

    >>> s = inverse_sqrt_schedule(1.0, 100)
    >>> [float(s(i)) for i in (50, 100, 400)]
    [0.5, 1.0, 0.5]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    num_warmup_steps = _warmup_steps(num_warmup_steps)
    if timescale is None:
        timescale = num_warmup_steps or 10_000
    timescale = _checks.positive("timescale", timescale)
    # (e + tau) / tau as 1 + e * (1 / tau): see warmup_jax.inverse_sqrt_decay.
    rate = 1.0 / timescale

    def after(elapsed: jax.Array) -> jax.Array:
        shifted = as_float(jnp.maximum(elapsed, 0)) * rate + 1.0
        return jnp.where(elapsed <= 0, peak_value, peak_value / jnp.sqrt(shifted))

    return _with_warmup(
        peak_value,
        num_warmup_steps,
        warmup_type,
        warmup_one_step_ahead,
        after,
        end_step=None,
        holds_from=None,
    )


@register
def cosine_with_min_lr_schedule_with_warmup(
    peak_value: float,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
    warmup_type: str = "linear",
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    r"""transformers' ``get_cosine_with_min_lr_schedule_with_warmup``: a cosine down to a floor.

    .. math:: v(s) = v_{peak} \cdot \max\left(0, \tfrac12 (1 + \cos(2\pi c\, p)) (1 - r) + r\right),
       \quad p = \frac{s - W}{\max(1, T - W)} \quad (s \ge W)

    Give exactly one of ``min_lr`` (a learning rate) or ``min_lr_rate`` (r, a fraction of
    ``peak_value``).

    >>> s = cosine_with_min_lr_schedule_with_warmup(1.0, 0, 10, min_lr=0.1)
    >>> [round(float(s(i)), 4) for i in (0, 5, 10)]
    [1.0, 0.55, 0.1]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    num_warmup_steps, num_training_steps = _steps(num_warmup_steps, num_training_steps)
    num_cycles = _cycles(num_cycles)
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError("give only one of min_lr or min_lr_rate, not both.")
    if min_lr is not None:
        min_lr = _checks.non_negative("min_lr", min_lr, maximum=peak_value)
        rate = min_lr / peak_value
    elif min_lr_rate is not None:
        rate = _checks.number("min_lr_rate", min_lr_rate, minimum=0.0, maximum=1.0)
    else:
        raise ValueError(
            "one of min_lr (a learning rate) or min_lr_rate (a fraction of peak_value) is required."
        )
    length = max(1, num_training_steps - num_warmup_steps)
    cosine = _periodic(length, num_cycles)

    def after(elapsed: jax.Array) -> jax.Array:
        factor = jnp.maximum(0.0, cosine(jnp.maximum(elapsed, 0)) * (1.0 - rate) + rate)
        return jnp.where(elapsed <= 0, peak_value, peak_value * factor)

    cosine_end = _cosine_at_end(num_warmup_steps, num_training_steps, num_cycles)
    end = peak_value * max(0.0, cosine_end * (1.0 - rate) + rate)
    return _with_warmup(
        peak_value,
        num_warmup_steps,
        warmup_type,
        warmup_one_step_ahead,
        after,
        end_step=num_training_steps,
        holds_from=None,
        pinned={num_training_steps: end},
    )


def _wsd_warmup(kind: str, progress: jax.Array) -> jax.Array:
    """transformers' WSD warmup factor at ``progress`` in [0, 1] (plus our exponential one)."""
    if kind == "linear":
        return progress
    if kind == "cosine":  # 0.5 (1 - cos(pi p)) as sin(pi p / 2)**2: exact near 0
        return jnp.sin((0.5 * math.pi) * progress) ** 2
    if kind == "1-sqrt":
        return 1.0 - jnp.sqrt(1.0 - progress)
    return jnp.exp(math.log(DEFAULT_EXPONENTIAL_START) * (1.0 - progress))


def _wsd_decay(kind: str, elapsed: jax.Array, length: int, num_cycles: float) -> jax.Array:
    """transformers' WSD decay factor after ``elapsed`` of ``length`` decay steps."""
    if kind == "cosine":
        return periodic_cosine(elapsed, length, num_cycles)
    if kind == "1-sqrt":
        return one_minus_sqrt(elapsed, length)
    return curve("linear", length)(elapsed)


@register
def wsd_schedule(
    peak_value: float,
    num_warmup_steps: int,
    num_decay_steps: int,
    num_training_steps: int | None = None,
    num_stable_steps: int | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio: float = 0.0,
    num_cycles: float = 0.5,
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    r"""transformers' ``get_wsd_schedule``: warmup, a stable phase at ``peak_value``, a decay.

    .. math:: v(s) = v_{peak} \cdot \begin{cases} w(s / W) (1 - r) + r & s < W \\ 1 & W \le s <
       W + S \\ d((s - W - S) / D) (1 - r) + r & W + S \le s < W + S + D \\ r & \text{after}
       \end{cases}

    Give ``num_training_steps`` (the stable phase is what is left) or ``num_stable_steps`` (which
    wins when both are given, with a warning, as in transformers). ``warmup_type`` (w) is
    ``"linear"``, ``"cosine"``, ``"1-sqrt"`` or ``"exponential"``; ``decay_type`` (d) is
    ``"linear"``, ``"cosine"`` or ``"1-sqrt"``. Both phases go between ``min_lr_ratio * peak_value``
    and ``peak_value``; after the decay the value stays at ``min_lr_ratio * peak_value`` (r).

    >>> s = wsd_schedule(1.0, 2, 2, num_training_steps=7, decay_type="linear")
    >>> [float(s(i)) for i in range(8)]
    [0.0, 0.5, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    num_warmup_steps = _checks.integer("num_warmup_steps", num_warmup_steps, minimum=0)
    num_decay_steps = _checks.integer("num_decay_steps", num_decay_steps, minimum=0)
    warmup_type = _checks.choice("warmup_type", warmup_type, WSD_WARMUP_TYPES)
    decay_type = _checks.choice("decay_type", decay_type, WSD_DECAY_TYPES)
    ratio = _checks.number("min_lr_ratio", min_lr_ratio, minimum=0.0, maximum=1.0)
    num_cycles = _cycles(num_cycles)
    if num_training_steps is None and num_stable_steps is None:
        raise ValueError(
            "give num_training_steps or num_stable_steps: the stable phase needs a length."
        )
    if num_stable_steps is not None:
        if num_training_steps is not None:
            warnings.warn(
                "Both num_training_steps and num_stable_steps are given; num_stable_steps is used.",
                stacklevel=3,
            )
        num_stable_steps = _checks.integer("num_stable_steps", num_stable_steps, minimum=0)
    else:
        num_training_steps = _checks.integer("num_training_steps", num_training_steps, minimum=1)
        num_stable_steps = num_training_steps - num_warmup_steps - num_decay_steps
        if num_stable_steps < 0:
            raise ValueError(
                f"num_training_steps ({num_training_steps}) must be at least num_warmup_steps + "
                f"num_decay_steps ({num_warmup_steps + num_decay_steps})."
            )
    ahead = int(_checks.flag("warmup_one_step_ahead", warmup_one_step_ahead))
    decay_start = num_warmup_steps + num_stable_steps
    decay_end = _checks.step_count_sum(
        "num_warmup_steps + num_stable_steps + num_decay_steps", decay_start + num_decay_steps
    )
    decay_length = max(1, num_decay_steps)

    def fn(step: jax.Array) -> jax.Array:
        step = jnp.maximum(step, 0)
        progress = over(jnp.minimum(step, num_warmup_steps) + ahead, max(1, num_warmup_steps))
        warm = jnp.maximum(0.0, _wsd_warmup(warmup_type, progress) * (1.0 - ratio) + ratio)
        elapsed = jnp.clip(step - decay_start, 0, decay_length)
        cool = _wsd_decay(decay_type, elapsed, decay_length, num_cycles)
        cool = jnp.maximum(0.0, cool * (1.0 - ratio) + ratio)
        multiplier = jnp.where(step < num_warmup_steps, warm, cool)
        return peak_value * multiplier

    # The stable phase is exactly the peak, the end exactly the floor.
    exact = pin(fn, since=(decay_end, peak_value * ratio))

    def stable(step: jax.Array) -> jax.Array:
        value = exact(step)
        in_stable = (step >= num_warmup_steps) & (step < decay_start)
        return jnp.where(in_stable, peak_value, value)

    return Schedule(stable, warmup_steps=num_warmup_steps, end_step=decay_end, holds_from=decay_end)


# transformers' SchedulerType names -> constructors.
_BY_NAME: dict[str, Callable[..., Schedule]] = {
    "linear": linear_schedule_with_warmup,
    "cosine": cosine_schedule_with_warmup,
    "cosine_with_restarts": cosine_with_hard_restarts_schedule_with_warmup,
    "polynomial": polynomial_decay_schedule_with_warmup,
    "constant": constant_schedule,
    "constant_with_warmup": constant_schedule_with_warmup,
    "inverse_sqrt": inverse_sqrt_schedule,
    "cosine_with_min_lr": cosine_with_min_lr_schedule_with_warmup,
    "warmup_stable_decay": wsd_schedule,
}
SCHEDULE_NAMES: tuple[str, ...] = tuple(_BY_NAME)
# Like transformers.get_scheduler, these are passed only to the schedules that take them.
_OPTIONAL_ARGUMENTS = (
    "num_warmup_steps",
    "num_training_steps",
    "warmup_type",
    "warmup_one_step_ahead",
)


def schedule_by_name(name: str, peak_value: float, **kwargs: Any) -> Schedule:
    r"""transformers' ``get_scheduler``: the schedule called ``name`` (a ``SchedulerType`` value).

    .. math:: v = \operatorname{X}(v_{peak}, \ldots) \quad\text{for the constructor X named by}
       \text{ name}

    ``num_warmup_steps``, ``num_training_steps``, ``warmup_type`` and ``warmup_one_step_ahead``
    are dropped for schedules that have no use for them (``"constant"`` takes none of them), as
    ``get_scheduler`` does; any other argument a schedule does not take is an error.

    >>> schedule_by_name("cosine", 1e-3, num_warmup_steps=10, num_training_steps=100).name
    'cosine_schedule_with_warmup'
    >>> schedule_by_name("constant", 1e-3, num_warmup_steps=10).name
    'constant_schedule'

    ``"reduce_lr_on_plateau"`` (transformers' ``get_reduce_on_plateau_schedule``, a torch
    ``ReduceLROnPlateau``) is the constant ``peak_value``: its step-driven part. The drops come
    from the metric, through :mod:`warmup_jax.plateau` (``scale_by_plateau`` and
    ``update_plateau`` with ``PlateauSettings(convention="torch")``, whose defaults are torch's),
    which multiplies this constant. ``num_warmup_steps`` and ``num_training_steps`` are dropped,
    as ``get_scheduler`` does; ReduceLROnPlateau's own arguments belong to ``PlateauSettings``.
    It is not in ``SCHEDULE_NAMES``, which lists the schedules that are a function of the step.

    >>> schedule_by_name("reduce_lr_on_plateau", 1e-3, num_training_steps=100).name
    'constant_schedule'
    """
    if name == "reduce_lr_on_plateau":
        unknown = sorted(set(kwargs) - set(_OPTIONAL_ARGUMENTS))
        if unknown:
            raise ValueError(
                f"schedule 'reduce_lr_on_plateau' does not take {_checks.shorten(', '.join(unknown))}"
                "; its settings (factor, patience, threshold, threshold_mode, cooldown, min_scale, "
                "mode) go to warmup_jax.plateau.PlateauSettings, which drives the drops from the "
                "validation metric."
            )
        return constant_schedule(peak_value)
    name = _checks.choice("name", name, SCHEDULE_NAMES)
    constructor = _BY_NAME[name]
    parameters = inspect.signature(constructor).parameters
    accepted = set(parameters) - {"peak_value"}
    for key in _OPTIONAL_ARGUMENTS:
        if key in kwargs and key not in accepted:
            del kwargs[key]
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(
            f"schedule {name!r} does not take {_checks.shorten(', '.join(unknown))}; it takes: "
            f"{', '.join(sorted(accepted)) or 'nothing but peak_value'}."
        )
    missing = [
        key
        for key, parameter in parameters.items()
        if key != "peak_value"
        and parameter.default is inspect.Parameter.empty
        and key not in kwargs
    ]
    if missing:
        raise ValueError(f"schedule {name!r} requires {', '.join(missing)}; please provide it.")
    return constructor(peak_value, **kwargs)

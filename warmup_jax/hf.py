"""HuggingFace transformers' schedules, by the same names, with the same values at every step.

Each ``get_X(optimizer, ...)`` of ``transformers.optimization`` is ``X(peak_value, ...)`` here:
the optimizer is replaced by its learning rate ``peak_value``, every other argument keeps its name
and default, and the value at step ``s`` is ``peak_value * lr_lambda(s)`` with transformers' own
``lr_lambda``, up to float32 rounding (``LambdaLR`` computes in float64). Past
``num_training_steps`` the values also follow transformers' formulas (a half cosine, for example,
rises again there), so a run ported from PyTorch sees the same numbers.

Three things are added: ``warmup_type="exponential"`` (a geometric warmup from
``peak_value / 1000`` in place of the linear one), ``warmup_one_step_ahead=True`` (the warmup
evaluated at ``step + 1``, so that update 0 is not wasted at learning rate 0) and exact endpoints: the last warmup step reaches exactly
``peak_value`` and the value at ``num_training_steps`` is exactly the formula's value there.
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
from warmup_jax._schedule import Schedule, float_dtype, register
from warmup_jax._curves import (
    can_reduce_exactly,
    half_cosine,
    mulmod,
    one_minus_sqrt,
    periodic_cosine,
)
from warmup_jax.decays import MAX_CYCLES
from warmup_jax.warmups import DEFAULT_EXPONENTIAL_START

WARMUP_TYPES = ("linear", "exponential")
WSD_TYPES = ("linear", "cosine", "1-sqrt")

Fn = Callable[[jax.Array], jax.Array]


def _f(x: jax.Array) -> jax.Array:
    return x.astype(float_dtype())


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


def _warmup_multiplier(num_warmup_steps: int, warmup_type: str) -> Fn:
    """The warmup part of the multiplier, for steps in [0, num_warmup_steps)."""
    warmup_type = _checks.choice("warmup_type", warmup_type, WARMUP_TYPES)
    denominator = max(1, num_warmup_steps)
    if warmup_type == "linear":
        return lambda step: _f(step) / denominator
    log_start = math.log(DEFAULT_EXPONENTIAL_START)
    return lambda step: jnp.exp(log_start * (1.0 - _f(step) / denominator))


def _schedule(
    one_step_ahead: bool,
    peak_value: float,
    num_warmup_steps: int,
    warmup_type: str,
    after_warmup: Fn,
    pinned: dict[int, float] | None = None,
) -> Schedule:
    """``peak * multiplier``: warmup below ``num_warmup_steps``, ``after_warmup`` from there.

    ``one_step_ahead`` evaluates the warmup at ``step + 1`` (update 0 then already moves the
    weights, as with ``pytorch_warmup``). ``pinned`` maps steps to exact learning rates, computed in float64 from the formula: the
    warmup's end (exactly ``peak_value``) and ``num_training_steps``, where float32 division could
    otherwise land an ulp off.
    """
    warm = _warmup_multiplier(num_warmup_steps, warmup_type)
    if not isinstance(one_step_ahead, bool):
        raise ValueError(f"warmup_one_step_ahead must be True or False, got {one_step_ahead!r}.")
    ahead = int(one_step_ahead)
    pinned = dict(pinned or {})
    pinned.setdefault(num_warmup_steps, peak_value)

    def fn(step: jax.Array) -> jax.Array:
        step = jnp.maximum(step, 0)
        warming = warm(jnp.minimum(step, num_warmup_steps) + ahead)
        multiplier = jnp.where(step < num_warmup_steps, warming, after_warmup(step))
        lr = peak_value * multiplier
        for pinned_step, value in pinned.items():
            lr = jnp.where(step == pinned_step, value, lr)
        return lr

    return Schedule(fn, warmup_steps=num_warmup_steps)


def _cosine_at_end(num_warmup_steps: int, num_training_steps: int, num_cycles: float) -> float:
    """transformers' cosine factor ``0.5 * (1 + cos(pi * num_cycles * 2 * p))`` at step ``T``."""
    progress = (num_training_steps - num_warmup_steps) / max(1, num_training_steps - num_warmup_steps)
    if num_cycles == 0.5 and progress == 1.0:
        return 0.0  # cos(pi) is -1; float64 leaves 6e-17 behind
    return 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))


def _cosine(elapsed: jax.Array, length: int, num_cycles: float) -> jax.Array:
    """The same factor at ``progress = elapsed / length``, accurate near its zeros
    (see :func:`warmup_jax._curves.periodic_cosine`)."""
    return periodic_cosine(elapsed, length, num_cycles)


def _cycles(num_cycles: Any) -> float:
    return _checks.number(
        "num_cycles", num_cycles, minimum=0.0, maximum=MAX_CYCLES, min_inclusive=False
    )


@register
def constant_schedule(peak_value: float) -> Schedule:
    """transformers' ``get_constant_schedule``: ``peak_value`` at every step.

    >>> float(constant_schedule(0.5)(123))
    0.5
    """
    peak_value = _checks.positive("peak_value", peak_value)
    return Schedule(lambda step: jnp.full(jnp.shape(step), peak_value, float_dtype()))


@register
def constant_schedule_with_warmup(
    peak_value: float,
    num_warmup_steps: int,
    warmup_type: str = "linear",
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    """transformers' ``get_constant_schedule_with_warmup``: warmup, then ``peak_value``.

    >>> [float(constant_schedule_with_warmup(1.0, 4)(i)) for i in range(6)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    num_warmup_steps = _warmup_steps(num_warmup_steps)
    return _schedule(
        warmup_one_step_ahead,
        peak_value,
        num_warmup_steps,
        warmup_type,
        lambda step: jnp.ones_like(_f(step)),
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

    Multiplier after the warmup: ``max(0, (T - s) / max(1, T - W))``.

    >>> s = linear_schedule_with_warmup(1.0, 2, 6)
    >>> [float(s(i)) for i in range(8)]
    [0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    num_warmup_steps, num_training_steps = _steps(num_warmup_steps, num_training_steps)
    denominator = max(1, num_training_steps - num_warmup_steps)
    after = lambda step: jnp.maximum(0.0, _f(num_training_steps - step) / denominator)  # noqa: E731
    return _schedule(
        warmup_one_step_ahead,
        peak_value,
        num_warmup_steps,
        warmup_type,
        after,
        {num_training_steps: 0.0},
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

    Multiplier after the warmup, with ``p = (s - W) / max(1, T - W)``:
    ``max(0, 0.5 * (1 + cos(pi * num_cycles * 2 * p)))``; the default ``num_cycles=0.5`` is a half
    cosine down to exactly 0 at ``T``.

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

    def after(step: jax.Array) -> jax.Array:
        return jnp.maximum(0.0, _cosine(step - num_warmup_steps, length, num_cycles))

    end = peak_value * max(0.0, _cosine_at_end(num_warmup_steps, num_training_steps, num_cycles))
    return _schedule(
        warmup_one_step_ahead,
        peak_value,
        num_warmup_steps,
        warmup_type,
        after,
        {num_training_steps: end},
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

    After the warmup, ``num_cycles`` half cosines from ``peak_value`` to 0, each restarting at
    ``peak_value``; 0 from ``num_training_steps`` on. The position in the cycle,
    ``(num_cycles * p) % 1``, is computed in exact integer arithmetic, so restarts land on the exact
    step (float32 would put ``0.99999994`` where 1 belongs and skip a restart).

    >>> s = cosine_with_hard_restarts_schedule_with_warmup(1.0, 0, 8, num_cycles=2)
    >>> [round(float(s(i)), 4) for i in range(9)]
    [1.0, 0.8536, 0.5, 0.1464, 1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    num_warmup_steps, num_training_steps = _steps(num_warmup_steps, num_training_steps)
    num_cycles = _checks.integer("num_cycles", num_cycles, minimum=1)
    length = max(1, num_training_steps - num_warmup_steps)
    exact = can_reduce_exactly(num_cycles, length)

    def after(step: jax.Array) -> jax.Array:
        elapsed = step - num_warmup_steps
        done = elapsed >= length
        elapsed = jnp.clip(elapsed, 0, length - 1)
        if exact:  # (num_cycles * elapsed) mod length in integers: restarts on the exact step
            factor = half_cosine(mulmod(elapsed, num_cycles, length), length)
        else:
            factor = 0.5 * (
                1.0 + jnp.cos(math.pi * jnp.mod(_f(elapsed) * num_cycles / length, 1.0))
            )
        return jnp.where(done, 0.0, jnp.maximum(0.0, factor))

    # With T == W transformers' progress is 0 at step T (a restart at the peak), so pin T only after it.
    pinned = {num_training_steps: 0.0} if num_training_steps > num_warmup_steps else {}
    return _schedule(
        warmup_one_step_ahead, peak_value, num_warmup_steps, warmup_type, after, pinned
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

    After the warmup: ``(peak - lr_end) * (1 - (s - W) / (T - W)) ** power + lr_end``, and
    ``lr_end`` after ``T``.

    >>> s = polynomial_decay_schedule_with_warmup(1.0, 0, 4, lr_end=0.0, power=2.0)
    >>> [float(s(i)) for i in range(6)]
    [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    num_warmup_steps, num_training_steps = _steps(num_warmup_steps, num_training_steps)
    lr_end = _checks.number("lr_end", lr_end, minimum=0.0)
    if not lr_end < peak_value:
        raise ValueError(f"lr_end ({lr_end}) must be smaller than peak_value ({peak_value}).")
    power = _checks.positive("power", power)
    decay_steps = num_training_steps - num_warmup_steps

    def after(step: jax.Array) -> jax.Array:
        # (T - s) / (T - W) rather than 1 - (s - W) / (T - W): no cancellation near the end.
        remaining = _f(num_training_steps - jnp.minimum(step, num_training_steps)) / max(
            1, decay_steps
        )
        decayed = (peak_value - lr_end) * jnp.maximum(remaining, 0.0) ** power + lr_end
        return jnp.where(step > num_training_steps, lr_end, decayed) / peak_value

    return _schedule(
        warmup_one_step_ahead,
        peak_value,
        num_warmup_steps,
        warmup_type,
        after,
        {num_training_steps: lr_end},
    )


@register
def inverse_sqrt_schedule(
    peak_value: float,
    num_warmup_steps: int,
    timescale: int | None = None,
    warmup_type: str = "linear",
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    r"""transformers' ``get_inverse_sqrt_schedule``: warmup, then ``1 / sqrt((s + shift) / timescale)``.

    ``shift = timescale - W``, so the decay starts at exactly ``peak_value``; ``timescale``
    defaults to ``num_warmup_steps`` (or 10,000 when that is 0).

    >>> s = inverse_sqrt_schedule(1.0, 100)
    >>> [float(s(i)) for i in (50, 100, 400)]
    [0.5, 1.0, 0.5]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    num_warmup_steps = _warmup_steps(num_warmup_steps)
    if timescale is None:
        timescale = num_warmup_steps or 10_000
    timescale = _checks.positive("timescale", timescale)

    def after(step: jax.Array) -> jax.Array:
        shifted = (_f(step - num_warmup_steps) + timescale) / timescale
        return 1.0 / jnp.sqrt(shifted)

    return _schedule(warmup_one_step_ahead, peak_value, num_warmup_steps, warmup_type, after)


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

    Give exactly one of ``min_lr`` (a learning rate) or ``min_lr_rate`` (a fraction of
    ``peak_value``). After the warmup the multiplier is
    ``max(0, cosine * (1 - min_lr_rate) + min_lr_rate)``.

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
        min_lr = _checks.number("min_lr", min_lr, minimum=0.0, maximum=peak_value)
        min_lr_rate = min_lr / peak_value
    elif min_lr_rate is not None:
        min_lr_rate = _checks.number("min_lr_rate", min_lr_rate, minimum=0.0, maximum=1.0)
    else:
        raise ValueError(
            "one of min_lr (a learning rate) or min_lr_rate (a fraction of peak_value) is required."
        )
    rate = min_lr_rate

    length = max(1, num_training_steps - num_warmup_steps)

    def after(step: jax.Array) -> jax.Array:
        cosine = _cosine(step - num_warmup_steps, length, num_cycles)
        return jnp.maximum(0.0, cosine * (1.0 - rate) + rate)

    cosine_end = _cosine_at_end(num_warmup_steps, num_training_steps, num_cycles)
    end = peak_value * max(0.0, cosine_end * (1.0 - rate) + rate)
    return _schedule(
        warmup_one_step_ahead,
        peak_value,
        num_warmup_steps,
        warmup_type,
        after,
        {num_training_steps: end},
    )


def _wsd_warmup(kind: str, progress: jax.Array) -> jax.Array:
    """transformers' WSD warmup factor at ``progress`` in [0, 1] (plus our exponential one)."""
    if kind == "linear":
        return progress
    if kind == "cosine":
        return 0.5 * (1.0 - jnp.cos(math.pi * progress))
    if kind == "1-sqrt":
        return 1.0 - jnp.sqrt(1.0 - progress)
    return jnp.exp(math.log(DEFAULT_EXPONENTIAL_START) * (1.0 - progress))


def _wsd_decay(kind: str, elapsed: jax.Array, length: int, num_cycles: float) -> jax.Array:
    """transformers' WSD decay factor after ``elapsed`` of ``length`` decay steps."""
    if kind == "linear":
        return _f(length - elapsed) / length
    if kind == "cosine":
        return _cosine(elapsed, length, num_cycles)
    return one_minus_sqrt(elapsed, length)


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

    Give ``num_training_steps`` (the stable phase is what is left) or ``num_stable_steps`` (which
    wins when both are given, with a warning, as in transformers). ``warmup_type`` is
    ``"linear"``, ``"cosine"``, ``"1-sqrt"`` or ``"exponential"``; ``decay_type`` is ``"linear"``,
    ``"cosine"`` or ``"1-sqrt"``. Both phases go between ``min_lr_ratio * peak_value`` and
    ``peak_value``; after the decay the value stays at ``min_lr_ratio * peak_value``.

    >>> s = wsd_schedule(1.0, 2, 2, num_training_steps=7, decay_type="linear")
    >>> [float(s(i)) for i in range(8)]
    [0.0, 0.5, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    num_warmup_steps = _checks.integer("num_warmup_steps", num_warmup_steps, minimum=0)
    num_decay_steps = _checks.integer("num_decay_steps", num_decay_steps, minimum=0)
    warmup_type = _checks.choice("warmup_type", warmup_type, WSD_TYPES + ("exponential",))
    decay_type = _checks.choice("decay_type", decay_type, WSD_TYPES)
    min_lr_ratio = _checks.number("min_lr_ratio", min_lr_ratio, minimum=0.0, maximum=1.0)
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
    if not isinstance(warmup_one_step_ahead, bool):
        raise ValueError(
            f"warmup_one_step_ahead must be True or False, got {warmup_one_step_ahead!r}."
        )
    ahead = int(warmup_one_step_ahead)
    decay_start = num_warmup_steps + num_stable_steps
    decay_end = decay_start + num_decay_steps
    if decay_end > _checks.MAX_STEP:
        raise ValueError(
            f"the schedule must end by step {_checks.MAX_STEP}, but it ends at {decay_end}."
        )
    ratio = min_lr_ratio

    def fn(step: jax.Array) -> jax.Array:
        step = jnp.maximum(step, 0)
        warm = _wsd_warmup(
            warmup_type, _f(jnp.minimum(step, num_warmup_steps) + ahead) / max(1, num_warmup_steps)
        )
        warm = jnp.maximum(0.0, warm * (1.0 - ratio) + ratio)
        cool = _wsd_decay(decay_type, step - decay_start, max(1, num_decay_steps), num_cycles)
        cool = jnp.maximum(0.0, cool * (1.0 - ratio) + ratio)
        multiplier = jnp.where(
            step < num_warmup_steps,
            warm,
            jnp.where(step < decay_start, 1.0, jnp.where(step < decay_end, cool, ratio)),
        )
        lr = peak_value * multiplier
        # The stable phase is exactly the peak, the end exactly the floor.
        lr = jnp.where((step >= num_warmup_steps) & (step < decay_start), peak_value, lr)
        return jnp.where(step >= decay_end, peak_value * ratio, lr)

    return Schedule(fn, warmup_steps=num_warmup_steps)


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
    """transformers' ``get_scheduler``: the schedule called ``name`` (a ``SchedulerType`` value).

    ``num_warmup_steps``, ``num_training_steps``, ``warmup_type`` and ``warmup_one_step_ahead``
    are dropped for schedules that have no use for them (``"constant"`` takes none of them), as ``get_scheduler`` does; any
    other argument a schedule does not take is an error.

    >>> schedule_by_name("cosine", 1e-3, num_warmup_steps=10, num_training_steps=100).name
    'cosine_schedule_with_warmup'
    >>> schedule_by_name("constant", 1e-3, num_warmup_steps=10).name
    'constant_schedule'
    """
    if name == "reduce_lr_on_plateau":
        raise ValueError(
            "'reduce_lr_on_plateau' depends on the validation loss, not on the step, so it cannot "
            "live inside the compiled train step; pick one of: " + ", ".join(SCHEDULE_NAMES) + "."
        )
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
            f"schedule {name!r} does not take {', '.join(unknown)}; it takes: "
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

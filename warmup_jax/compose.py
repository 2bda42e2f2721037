"""Putting schedules together: a warmup in front, schedules in sequence, products of factors.

``a >> b`` (:func:`then`) and ``a * b`` (:func:`product`) on schedules are :func:`join` and
:func:`multiply`, kept flat: ``a >> b >> c`` is one ``join`` of three schedules, however long the
chain, so nothing that reads or evaluates it recurses along it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from warmup_jax import _checks
from warmup_jax._pieces import WARMUP_TYPES, pin
from warmup_jax._schedule import (
    Schedule,
    end_of,
    evaluate,
    float_dtype,
    latest,
    register,
    settles_at,
)
from warmup_jax.decays import constant, decay_by_type, exponential_decay
from warmup_jax.warmups import warmup_ramp

ScheduleLike = Callable[[Any], Any]


def _sequence(name: str, value: Any, what: str) -> list[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise ValueError(
            f"{name} must be a non-empty list of {what}, got {_checks.describe(value)}."
        )
    return list(value)


def _boundaries(boundaries: Any, count: int) -> list[int]:
    if isinstance(boundaries, (str, bytes)) or not isinstance(boundaries, Sequence):
        raise ValueError(
            f"boundaries must be a list of step numbers, got {_checks.describe(boundaries)}."
        )
    bounds = [_checks.integer(f"boundaries[{i}]", b, minimum=1) for i, b in enumerate(boundaries)]
    if len(bounds) != count:
        raise ValueError(
            f"boundaries must have one entry fewer than schedules ({count}), got {len(bounds)}."
        )
    if any(b >= c for b, c in zip(bounds, bounds[1:], strict=False)):
        raise ValueError(
            f"boundaries must be strictly increasing, got {_checks.shorten(str(bounds))}."
        )
    return bounds


@register
def join(schedules: Sequence[ScheduleLike], boundaries: Sequence[int]) -> Schedule:
    r"""Schedules one after another, each on its own clock (``optax.join_schedules``, serializable).

    .. math:: v(s) = f_i(s - b_{i-1}) \quad\text{for } b_{i-1} \le s < b_i \quad (b_{-1} = 0)

    ``schedules[i]`` runs from ``boundaries[i - 1]`` as ``schedules[i](step - boundaries[i - 1])``;
    ``end_step`` is the last boundary plus the last schedule's ``end_step``.

    >>> from warmup_jax import linear_warmup, linear_decay
    >>> s = join([linear_warmup(1.0, 2), linear_decay(1.0, 2)], [2])
    >>> [float(s(i)) for i in range(5)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    >>> s.end_step
    4
    """
    schedules = _sequence("schedules", schedules, "schedules")
    for i, schedule in enumerate(schedules):
        _checks.schedule(f"schedules[{i}]", schedule)
    bounds = _boundaries(boundaries, len(schedules) - 1)
    first, last = schedules[0], schedules[-1]
    offset = bounds[-1] if bounds else 0
    rest, rest_holds = end_of(last), settles_at(last)
    end = None if rest is None else offset + rest
    if end is not None:
        _checks.step_count_sum("the last boundary plus the last schedule's end_step", end)
    holds = None if rest_holds is None else offset + rest_holds
    warmup_steps = first.warmup_steps if isinstance(first, Schedule) else 0
    return Schedule(
        _joined(schedules, bounds), warmup_steps=warmup_steps, end_step=end, holds_from=holds
    )


def _joined(schedules: list[Any], bounds: list[int]) -> Callable[[jax.Array], jax.Array]:
    """``optax.join_schedules`` when traced; on concrete steps only the pieces the steps fall in
    are evaluated, so a chain of thousands of pieces is quick to print, plot or table."""
    traced = optax.join_schedules(schedules, bounds)
    starts = [0, *bounds]

    def fn(step: jax.Array) -> jax.Array:
        if isinstance(step, jax.core.Tracer):
            return traced(step)
        host = np.asarray(step)
        piece = np.searchsorted(np.asarray(bounds, np.int64), host, side="right")
        if host.ndim == 0:
            k = int(piece)
            return jnp.asarray(schedules[k](step - starts[k]), float_dtype())
        out = np.empty(host.shape, float_dtype())
        for k in np.unique(piece):
            where = piece == k
            part = schedules[k](jnp.asarray(host[where] - starts[k], step.dtype))
            out[where] = np.asarray(part)
        return jnp.asarray(out)

    return fn


def then(first: Any, following: Any) -> Schedule:
    """``first >> following``: ``following`` starts where ``first`` ends (its ``end_step``).

    A number on the right is a :func:`warmup_jax.constant`. Chains stay one flat :func:`join`.

    >>> from warmup_jax import linear_warmup, cosine_decay
    >>> s = linear_warmup(1.0, 10) >> cosine_decay(1.0, 90)
    >>> s.name, s.arguments["boundaries"], s.end_step
    ('join', [10], 100)
    """
    return sequence([first, following])


def _link(value: Any) -> Schedule:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return constant(value)
    if not isinstance(value, Schedule):
        raise ValueError(
            f"'>>' joins warmup_jax schedules (or a number after one), got "
            f"{_checks.describe(value)}."
        )
    return value


def sequence(parts: Sequence[Any]) -> Schedule:
    """``parts[0] >> parts[1] >> ...`` as one flat :func:`join` (joins among the parts are opened
    up), each part starting where the one before it ends."""
    schedules: list[Any] = []
    bounds: list[int] = []
    offset = 0
    for i, part in enumerate(parts):
        part = _link(part)
        if i:
            previous = _link(parts[i - 1])
            length = previous.end_step
            if length is None or length == 0:
                what = "never ends" if length is None else "holds one value from step 0"
                raise ValueError(
                    f"{_checks.shorten(repr(previous), 80)} {what}, so nothing can follow it with "
                    "'>>'. Give it a length (e.g. cosine_decay(1e-3, 1000)), or place the next "
                    "schedule yourself with join([first, second], [boundary])."
                )
            offset += length
            bounds.append(offset)
        if part.name == "join":
            inner = part.arguments
            schedules += inner["schedules"]
            bounds += [offset + b for b in inner["boundaries"]]
        else:
            schedules.append(part)
    return join(schedules, bounds)


def product(left: Any, right: Any) -> Schedule:
    """``left * right`` for schedules and numbers: one flat :func:`multiply` of all factors.

    >>> from warmup_jax import constant, linear_warmup
    >>> s = 3e-4 * linear_warmup(1.0, 100) * constant(0.5)
    >>> s.name, len(s.arguments["factors"])
    ('multiply', 3)
    """
    factors: list[Any] = []
    for side in (left, right):
        if isinstance(side, Schedule) and side.name == "multiply":
            factors += side.arguments["factors"]
        elif isinstance(side, Schedule) or (
            isinstance(side, (int, float)) and not isinstance(side, bool)
        ):
            factors.append(side)
        else:
            raise ValueError(
                f"'*' multiplies warmup_jax schedules and numbers, got {_checks.describe(side)}."
            )
    return multiply(factors)


@register
def with_warmup(
    schedule: ScheduleLike,
    warmup_steps: int,
    warmup_type: str = "linear",
    init_value: float | None = None,
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    r"""A warmup up to ``schedule(0)``, then ``schedule`` on its own clock.

    .. math:: v(s) = \operatorname{warmup}(s) \text{ up to } f(0) \quad (s < W), \qquad
       v(s) = f(s - W) \quad (s \ge W)

    Step ``s < warmup_steps`` is the warmup; step ``s >= warmup_steps`` is
    ``schedule(s - warmup_steps)``, so the warmup ends exactly on the schedule's first value.
    ``schedule`` may be any optax schedule; only warmup_jax schedules can be saved with
    ``to_config``.

    Args:
      schedule: what follows the warmup; ``schedule(0)`` must be > 0.
      warmup_steps: W, an integer >= 1.
      warmup_type: ``"linear"`` or ``"exponential"``.
      init_value: the value at step 0 (default 0 for linear, ``schedule(0) / 1000`` for
        exponential).
      warmup_one_step_ahead: evaluate the warmup at ``step + 1`` (see
        :func:`warmup_jax.linear_warmup`).

    >>> from warmup_jax import cosine_decay
    >>> s = with_warmup(cosine_decay(1.0, 100), 10)
    >>> [round(float(s(i)), 4) for i in (0, 5, 10, 60, 110)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    _checks.schedule("schedule", schedule)
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, minimum=1)
    peak = evaluate(schedule, 0)
    if not peak > 0:
        raise ValueError(f"schedule(0) must be > 0 to warm up to, got {peak!r}.")
    ramp = warmup_ramp(peak, warmup_steps, warmup_type, init_value, warmup_one_step_ahead)
    rest, rest_holds = end_of(schedule), settles_at(schedule)
    end = None if rest is None else warmup_steps + rest
    if end is not None:
        _checks.step_count_sum("warmup_steps plus the schedule's end_step", end)
    return Schedule(
        optax.join_schedules([ramp, schedule], [warmup_steps]),
        warmup_steps=ramp.warmup_steps,
        end_step=end,
        holds_from=None if rest_holds is None else warmup_steps + rest_holds,
    )


@register
def multiply(factors: Sequence[ScheduleLike | float]) -> Schedule:
    r"""The product of schedules and numbers, step by step (big_vision's ``"*"`` of factors).

    .. math:: v(s) = \prod_i f_i(s)

    ``warmup_steps`` is the longest warmup among the factors, ``end_step`` the latest end
    (``None`` if any factor never settles).

    >>> from warmup_jax import constant, linear_warmup, inverse_sqrt_decay
    >>> s = multiply([3e-4, linear_warmup(1.0, 100), inverse_sqrt_decay(1.0, 100)])
    >>> round(float(s(50)), 8)  # 3e-4 * 0.5 / sqrt(1.5)
    0.00012247
    """
    factors = _sequence("factors", factors, "schedules or numbers")
    fns: list[Any] = []
    ends: list[int | None] = []
    for i, factor in enumerate(factors):
        if callable(factor):
            fns.append(factor)
            ends.append(end_of(factor))
        else:
            value = _checks.non_negative(f"factors[{i}]", factor)
            fns.append(lambda step, value=value: value)
            ends.append(0)

    def fn(step: jax.Array) -> jax.Array:
        value = jnp.ones(jnp.shape(step), float_dtype())
        for f in fns:
            value = value * f(step)
        return value

    warmup_steps = max((f.warmup_steps for f in factors if isinstance(f, Schedule)), default=0)
    holds = latest([settles_at(f) for f in factors])
    end = latest(ends)
    _check_product(fns, sorted({0, warmup_steps, end or 0}))
    return Schedule(fn, warmup_steps=warmup_steps, end_step=end, holds_from=holds)


def _check_product(fns: list[Any], steps: list[int]) -> None:
    """Refuses a product that float32 cannot hold at the steps that matter (the start, the end
    of the warmup, the end): one that overflows, or that underflows to 0 from nonzero factors."""
    tiny = float(np.finfo(np.float32).tiny)
    for step in steps:
        values = [float(evaluate(f, step)) for f in fns]
        product = float(np.prod(np.asarray(values, np.float64)))
        if not abs(product) <= float(np.finfo(np.float32).max):
            raise ValueError(
                f"the factors multiply to {product:.4g} at step {step}, beyond float32's range."
            )
        if 0.0 < abs(product) < tiny:
            raise ValueError(
                f"the factors multiply to {product:.4g} at step {step}, below float32's smallest "
                f"normal number ({tiny:.4g}): it would compute as 0."
            )


@register
def warmup_stable_decay(
    peak_value: float,
    warmup_steps: int,
    stable_steps: int,
    decay_steps: int,
    warmup_type: str = "linear",
    decay_type: str = "linear",
    init_value: float | None = None,
    end_value: float = 0.0,
) -> Schedule:
    r"""Warmup-stable-decay (the "trapezoid" of MiniCPM and Hägele et al. 2024).

    .. math:: v(s) = \begin{cases} \operatorname{warmup}(s) & s < W \\ v_{peak} & W \le s < W + S
       \\ \operatorname{decay}(s - W - S) & W + S \le s \end{cases}

    Warm up to ``peak_value`` over ``warmup_steps`` (``warmup_type`` ``"linear"`` or
    ``"exponential"``), hold it for ``stable_steps``, then decay to ``end_value`` over
    ``decay_steps`` with the shape ``decay_type`` (``"linear"``, ``"cosine"`` or ``"1-sqrt"``);
    ``end_value`` after that.

    >>> s = warmup_stable_decay(1.0, 2, 3, 2)
    >>> [float(s(i)) for i in range(8)]
    [0.0, 0.5, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0]
    >>> s.end_step
    7
    """
    peak_value = _checks.positive("peak_value", peak_value)
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, minimum=0)
    stable_steps = _checks.integer("stable_steps", stable_steps, minimum=0)
    decay_steps = _checks.integer("decay_steps", decay_steps, minimum=1)
    end_value = _checks.non_negative("end_value", end_value, maximum=peak_value)
    tail = decay_by_type(decay_type, peak_value, decay_steps, end_value)
    end = _checks.step_count_sum(
        "warmup_steps + stable_steps + decay_steps", warmup_steps + stable_steps + decay_steps
    )
    if warmup_steps:
        ramp = warmup_ramp(peak_value, warmup_steps, warmup_type, init_value, False)
        stages = [(ramp, warmup_steps)]
    else:
        _checks.choice("warmup_type", warmup_type, WARMUP_TYPES)
        stages = []
    if stable_steps:
        stages.append((constant(peak_value), stable_steps))
    stages.append((tail, decay_steps))
    parts = [part for part, _ in stages]
    bounds = list(itertools.accumulate(length for _, length in stages[:-1]))
    return Schedule(optax.join_schedules(parts, bounds), warmup_steps=warmup_steps, end_step=end)


@register
def tri_stage(
    peak_value: float,
    warmup_steps: int,
    hold_steps: int,
    decay_steps: int,
    init_lr_scale: float = 0.01,
    final_lr_scale: float = 0.01,
) -> Schedule:
    r"""fairseq's tri-stage schedule (``TriStageLRSchedule``): warm up, hold, decay exponentially.

    .. math:: v(s) = \begin{cases} v_0 + (v_{peak} - v_0)\, s / W & s < W \\ v_{peak} & W \le s
       < W + H \\ v_{peak} \cdot c^{(s - W - H) / D} & W + H \le s \le W + H + D \\ c \cdot
       v_{peak} & \text{after} \end{cases}

    with ``v_0 = init_lr_scale * peak_value`` and ``c = final_lr_scale``; fairseq's
    ``step_update(k)`` sets the value update ``k`` uses, which is step ``k`` here.

    Args:
      peak_value: fairseq's ``lr``; > 0.
      warmup_steps: W; an integer >= 0.
      hold_steps: H; an integer >= 0.
      decay_steps: D; an integer >= 1.
      init_lr_scale: where the warmup starts, as a fraction of the peak; in [0, 1].
      final_lr_scale: where the decay ends, as a fraction of the peak; in (0, 1].

    >>> s = tri_stage(1.0, 2, 2, 2, init_lr_scale=0.5, final_lr_scale=0.25)
    >>> [float(s(k)) for k in range(8)]
    [0.5, 0.75, 1.0, 1.0, 1.0, 0.5, 0.25, 0.25]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, minimum=0)
    hold_steps = _checks.integer("hold_steps", hold_steps, minimum=0)
    decay_steps = _checks.integer("decay_steps", decay_steps, minimum=1)
    init_scale = _checks.number("init_lr_scale", init_lr_scale, minimum=0.0, maximum=1.0)
    final_scale = _checks.number(
        "final_lr_scale", final_lr_scale, minimum=0.0, maximum=1.0, min_inclusive=False
    )
    end = _checks.step_count_sum(
        "warmup_steps + hold_steps + decay_steps", warmup_steps + hold_steps + decay_steps
    )
    init = _checks.non_negative("init_lr_scale * peak_value", init_scale * peak_value)
    final = _checks.positive("final_lr_scale * peak_value", final_scale * peak_value)
    parts: list[tuple[Any, int]] = []
    if warmup_steps:
        parts.append((linear_warmup_ramp(peak_value, warmup_steps, init), warmup_steps))
    if hold_steps:
        parts.append((constant(peak_value), hold_steps))
    tail = (
        constant(peak_value)
        if final_scale == 1.0
        else exponential_decay(peak_value, decay_steps, final_scale, end_value=final)
    )
    parts.append((tail, decay_steps))
    bounds = list(itertools.accumulate(length for _, length in parts[:-1]))
    joined = optax.join_schedules([part for part, _ in parts], bounds)
    exact = pin(joined, since=(end, final))
    return Schedule(exact, warmup_steps=warmup_steps, end_step=end)


def linear_warmup_ramp(peak: float, steps: int, init: float) -> Schedule:
    """A linear warmup from ``init`` (0 or a normal float32) to ``peak`` over ``steps``."""
    return warmup_ramp(peak, steps, "linear", init, False)

"""PyTorch's schedulers (``torch.optim.lr_scheduler``), by their names, with torch's values.

Each scheduler class ``X`` is the function ``x`` in snake case: ``StepLR(optimizer, 30)`` is
``step_lr(lr, 30)``, where ``lr`` is the optimizer's learning rate (``CyclicLR`` and ``OneCycleLR``
set the LR themselves and take no ``lr``), then torch's own argument names and defaults. Step
``k`` here is the learning rate torch uses for update ``k``: what ``scheduler.get_last_lr()``
says after ``k`` calls of ``scheduler.step()``. The values are torch's closed forms
(``_get_closed_form_lr`` where torch has one), computed in float32 and exact at their ends;
where torch's step-by-step (chainable) recursion differs from its closed form, the docstring
says so. ``one_cycle_momentum`` and ``cyclic_momentum`` give the momentum (or Adam's ``b1``)
that ``OneCycleLR`` and ``CyclicLR`` set at each step, as a second schedule.

The family is a thin layer over the native schedules (``exponential_decay``,
``piecewise_constant``, ``linear_warmup``, ``polynomial_decay``, ``cyclic_schedule``, ``join``,
...) and the shared pieces of :mod:`warmup_jax._pieces`.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from warmup_jax import _checks
from warmup_jax._curves import half_cosine_parts, periodic_cosine
from warmup_jax._pieces import as_float, decay, pin
from warmup_jax._schedule import Schedule, register
from warmup_jax.compose import join, multiply
from warmup_jax.cycles import cyclic_schedule
from warmup_jax.decays import (
    constant,
    exponential_decay,
    linear_decay,
    piecewise_constant,
    polynomial_decay,
)
from warmup_jax.warmups import linear_warmup

ANNEAL_STRATEGIES = ("cos", "linear")
CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


def _lr(lr: Any) -> float:
    return _checks.non_negative("lr", lr)


def _gamma(gamma: Any, *, maximum: float = 1.0) -> float:
    return _checks.number("gamma", gamma, minimum=0.0, maximum=maximum)


@register
def step_lr(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r"""torch's ``StepLR``: ``lr`` times ``gamma`` once every ``step_size`` steps.

    .. math:: v(k) = lr \cdot \gamma^{\lfloor k / s \rfloor}

    ``exponential_decay(lr, step_size, gamma, staircase=True)``, whose first drops come from a
    float64 table, so powers like ``0.5**n`` are exact. ``gamma`` above 1 (torch accepts it)
    grows without bound and is refused.

    >>> s = step_lr(0.05, 3, gamma=0.1)
    >>> [round(float(s(k)), 8) for k in (0, 2, 3, 6)]
    [0.05, 0.05, 0.005, 0.0005]
    """
    lr = _lr(lr)
    step_size = _checks.integer("step_size", step_size, minimum=1)
    gamma = _gamma(gamma)
    if gamma == 0.0 or lr == 0.0:
        return piecewise_constant([step_size], [lr, 0.0])
    return exponential_decay(lr, step_size, gamma, staircase=True)


@register
def multi_step_lr(lr: float, milestones: Sequence[int], gamma: float = 0.1) -> Schedule:
    r"""torch's ``MultiStepLR``: ``lr`` times ``gamma`` at each milestone.

    .. math:: v(k) = lr \cdot \gamma^{\#\{m \in \text{milestones} : m \le k\}}

    As in torch, a milestone given twice decays twice, and their order does not matter.

    >>> s = multi_step_lr(0.05, [2, 5, 9], gamma=0.1)
    >>> [round(float(s(k)), 8) for k in (0, 1, 2, 5, 9)]
    [0.05, 0.05, 0.005, 0.0005, 5e-05]
    """
    lr = _lr(lr)
    if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Sequence):
        raise ValueError(f"milestones must be a list of steps, got {_checks.describe(milestones)}.")
    steps = [_checks.integer(f"milestones[{i}]", m, minimum=0) for i, m in enumerate(milestones)]
    gamma = _gamma(gamma)
    counts = collections.Counter(steps)
    before = counts.pop(0, 0)  # a milestone at 0 has already decayed at update 0
    bounds = sorted(counts)
    values, drops = [lr * gamma**before], before
    for bound in bounds:
        drops += counts[bound]
        values.append(lr * gamma**drops)
    return piecewise_constant(bounds, [_checks.non_negative("lr * gamma", v) for v in values])


@register
def constant_lr(lr: float, factor: float = 1.0 / 3, total_iters: int = 5) -> Schedule:
    r"""torch's ``ConstantLR``: ``lr`` times ``factor`` for ``total_iters`` steps, then ``lr``.

    .. math:: v(k) = lr \cdot (f \text{ if } k < T \text{ else } 1)

    >>> s = constant_lr(0.05, factor=0.5, total_iters=4)
    >>> [float(s(k)) for k in (0, 3, 4)]
    [0.02500000037252903, 0.02500000037252903, 0.05000000074505806]
    """
    lr = _lr(lr)
    factor = _checks.number("factor", factor, minimum=0.0, maximum=1.0)
    total_iters = _checks.integer("total_iters", total_iters, minimum=0)
    if total_iters == 0:
        return constant(lr)
    return piecewise_constant([total_iters], [_checks.non_negative("lr * factor", lr * factor), lr])


@register
def linear_lr(
    lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5
) -> Schedule:
    r"""torch's ``LinearLR``: ``lr`` times a factor going linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` steps (the usual PyTorch warmup), then ``end_factor``.

    .. math:: v(k) = lr \cdot \left(f_0 + (f_1 - f_0) \frac{\min(k, T)}{T}\right)

    ``linear_warmup(lr * end_factor, total_iters, init_value=lr * start_factor)``, which may also
    ramp down. torch's chainable recursion multiplies by
    ``1 + (f_1 - f_0) / (T f_0 + (k - 1)(f_1 - f_0))`` at each step: the same values, up to its
    accumulated float64 rounding.

    >>> s = linear_lr(0.05, start_factor=0.5, total_iters=4)
    >>> [round(float(s(k)), 6) for k in range(6)]
    [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05]
    """
    lr = _lr(lr)
    start = _checks.number(
        "start_factor", start_factor, minimum=0.0, maximum=1.0, min_inclusive=False
    )
    end = _checks.number("end_factor", end_factor, minimum=0.0, maximum=1.0)
    total_iters = _checks.integer("total_iters", total_iters, minimum=1)
    begin = _checks.non_negative("lr * start_factor", lr * start)
    finish = _checks.non_negative("lr * end_factor", lr * end)
    if lr == 0.0:
        return constant(0.0)
    if finish == 0.0:
        return linear_decay(begin, total_iters, 0.0)
    return linear_warmup(finish, total_iters, init_value=begin)


@register
def exponential_lr(lr: float, gamma: float) -> Schedule:
    r"""torch's ``ExponentialLR``: ``lr`` times ``gamma`` at every step.

    .. math:: v(k) = lr \cdot \gamma^{k}

    ``exponential_decay(lr, 1, gamma, staircase=True)``: the first 10,000 powers exact from a
    float64 table. ``gamma`` above 1 grows without bound and is refused.

    >>> s = exponential_lr(1.0, 0.5)
    >>> [float(s(k)) for k in range(4)]
    [1.0, 0.5, 0.25, 0.125]
    """
    lr = _lr(lr)
    gamma = _gamma(gamma)
    if gamma == 0.0 or lr == 0.0:
        return piecewise_constant([1], [lr, 0.0])
    return exponential_decay(lr, 1, gamma, staircase=True)


@register
def polynomial_lr(lr: float, total_iters: int = 5, power: float = 1.0) -> Schedule:
    r"""torch's ``PolynomialLR``: ``lr`` down to 0 over ``total_iters`` steps, then 0.

    .. math:: v(k) = lr \cdot \left(1 - \frac{\min(k, T)}{T}\right)^{p}

    ``polynomial_decay(lr, total_iters, 0.0, power)``. torch's chainable recursion multiplies
    by ratios of consecutive factors: the same values, up to its float64 rounding.

    >>> s = polynomial_lr(1.0, total_iters=4, power=2.0)
    >>> [float(s(k)) for k in range(6)]
    [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    lr = _lr(lr)
    total_iters = _checks.integer("total_iters", total_iters, minimum=1)
    power = _checks.positive("power", power)
    if lr == 0.0:
        return constant(0.0)
    return polynomial_decay(lr, total_iters, 0.0, power)


@register
def cosine_annealing_lr(lr: float, T_max: int, eta_min: float = 0.0) -> Schedule:  # noqa: N803
    r"""torch's ``CosineAnnealingLR``: a half cosine from ``lr`` to ``eta_min`` over ``T_max``.

    .. math:: v(k) = \eta_{min} + (lr - \eta_{min}) \cdot \tfrac12 \left(1 + \cos \frac{\pi k}
       {T_{max}}\right)

    torch's closed form at every step, also past ``T_max``, where it climbs back (period
    ``2 T_max``); ``end_step`` is ``T_max``. torch's default, chainable ``step()`` follows a
    recursion that only approximates this (its values drift by float64 rounding, and differ
    when other schedulers change the LR in between); ``step(epoch)`` uses this closed form.

    >>> s = cosine_annealing_lr(1.0, 10, eta_min=0.1)
    >>> [round(float(s(k)), 4) for k in (0, 5, 10, 15, 20)]
    [1.0, 0.55, 0.1, 0.55, 1.0]
    """
    lr = _lr(lr)
    t_max = _checks.integer("T_max", T_max, minimum=1)
    eta_min = _checks.non_negative("eta_min", eta_min)
    factor = lambda elapsed: periodic_cosine(elapsed, t_max, 0.5)  # noqa: E731
    fn = pin(decay(lr, t_max, eta_min, factor, hold=False), at={t_max: eta_min})
    return Schedule(fn, warmup_steps=0, end_step=t_max, holds_from=None)


@register
def cosine_annealing_warm_restarts(
    lr: float,
    T_0: int,  # noqa: N803
    T_mult: int = 1,  # noqa: N803
    eta_min: float = 0.0,
) -> Schedule:
    r"""torch's ``CosineAnnealingWarmRestarts`` (SGDR): half cosines restarting at ``lr``.

    .. math:: v(k) = \eta_{min} + (lr - \eta_{min}) \cdot \tfrac12 \left(1 + \cos \frac{\pi
       T_{cur}}{T_i}\right), \qquad T_i = T_0 T_{mult}^i

    ``cyclic_schedule(lr, T_0, cycle_mul=T_mult, end_value=eta_min)``. ``T_mult`` must be an
    integer, as in torch, so every restart is on a whole step.

    >>> s = cosine_annealing_warm_restarts(1.0, 4, T_mult=2)
    >>> [round(float(s(k)), 4) for k in (0, 2, 4, 8, 12)]
    [1.0, 0.5, 1.0, 0.5, 1.0]
    """
    lr = _checks.positive("lr", lr)
    t_0 = _checks.integer("T_0", T_0, minimum=1)
    t_mult = _checks.integer("T_mult", T_mult, minimum=1, maximum=1000)
    eta_min = _checks.non_negative("eta_min", eta_min, maximum=lr)
    return cyclic_schedule(lr, t_0, cycle_mul=float(t_mult), end_value=eta_min)


def _cyclic_arguments(
    base_lr: Any,
    max_lr: Any,
    step_size_up: Any,
    step_size_down: Any,
    mode: Any,
    gamma: Any,
) -> tuple[float, float, int, int, str, float]:
    base_lr = _checks.non_negative("base_lr", base_lr)
    max_lr = _checks.non_negative("max_lr", max_lr)
    up = _checks.integer("step_size_up", step_size_up, minimum=1)
    down = (
        up
        if step_size_down is None
        else _checks.integer("step_size_down", step_size_down, minimum=1)
    )
    _checks.step_count_sum("step_size_up + step_size_down", up + down)
    mode = _checks.choice("mode", mode, CYCLIC_MODES)
    gamma = _checks.number("gamma", gamma, minimum=0.0, maximum=1.0, min_inclusive=False)
    return base_lr, max_lr, up, down, mode, gamma


def _cyclic(
    low: float, high: float, up: int, down: int, mode: str, gamma: float, sign: float
) -> Any:
    """CyclicLR's value ``start + sign * (high - low) * triangle * scale`` at each step."""
    total = up + down
    log_gamma = math.log(gamma)
    start = low if sign > 0 else high

    def fn(step: jax.Array) -> jax.Array:
        k = jnp.maximum(step, 0)
        cycle = k // total  # torch's cycle - 1
        inside = k - cycle * total  # exact: the position in the cycle
        rising = inside <= up
        triangle = jnp.where(
            rising, as_float(inside) * (1.0 / up), as_float(total - inside) * (1.0 / down)
        )
        scale: float | jax.Array
        if mode == "triangular":
            scale = 1.0
        elif mode == "triangular2":
            scale = jnp.exp2(-as_float(cycle))  # 1 / 2**(torch's cycle - 1)
        else:
            scale = jnp.exp(log_gamma * as_float(k))  # gamma**iterations
        return start + sign * (high - low) * triangle * scale

    return fn


@register
def cyclic_lr(
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    cycle_momentum: bool = True,
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
) -> Schedule:
    r"""torch's ``CyclicLR`` (Smith, "Cyclical Learning Rates", 2017): a triangle wave.

    .. math:: v(k) = b + (m - b) \cdot \operatorname{tri}(k) \cdot \operatorname{scale}(k)

    ``tri`` rises from 0 to 1 over ``step_size_up`` steps and falls back over
    ``step_size_down``; ``scale`` is 1 (``"triangular"``), halves every cycle
    (``"triangular2"``) or is ``gamma**k`` (``"exp_range"``). The position in the cycle is
    computed from integers, where torch divides floats. torch's ``scale_fn``/``scale_mode`` (a
    Python callable) has no JSON form and is not offered. The momentum arguments belong to
    :func:`cyclic_momentum`; they are checked here too, so both take the same arguments.

    >>> s = cyclic_lr(1.0, 5.0, step_size_up=4)  # torch's own test
    >>> [float(s(k)) for k in range(11)]
    [1.0, 2.0, 3.0, 4.0, 5.0, 4.0, 3.0, 2.0, 1.0, 2.0, 3.0]
    """
    low, high, up, down, mode, gamma = _cyclic_arguments(
        base_lr, max_lr, step_size_up, step_size_down, mode, gamma
    )
    _momentum_arguments(cycle_momentum, base_momentum, max_momentum, needed=False)
    fn = _cyclic(low, high, up, down, mode, gamma, 1.0)
    return Schedule(pin(fn, until=(0, low)), warmup_steps=0, end_step=None)


@register
def cyclic_momentum(
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    cycle_momentum: bool = True,
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
) -> Schedule:
    r"""The momentum (SGD's ``momentum``, Adam's ``b1``) that torch's ``CyclicLR`` sets: the
    inverse of :func:`cyclic_lr`'s wave, between ``max_momentum`` and ``base_momentum``.

    .. math:: \mu(k) = \mu_{max} - (\mu_{max} - \mu_{base}) \cdot \operatorname{tri}(k) \cdot
       \operatorname{scale}(k)

    Takes :func:`cyclic_lr`'s arguments; ``cycle_momentum=False`` has no momentum schedule
    (torch leaves the optimizer's own) and is refused.

    >>> s = cyclic_momentum(1.0, 5.0, step_size_up=4, base_momentum=0.8, max_momentum=0.9)
    >>> [round(float(s(k)), 4) for k in (0, 2, 4, 6, 8)]
    [0.9, 0.85, 0.8, 0.85, 0.9]
    """
    _, _, up, down, mode, gamma = _cyclic_arguments(
        base_lr, max_lr, step_size_up, step_size_down, mode, gamma
    )
    low, high = _momentum_arguments(cycle_momentum, base_momentum, max_momentum, needed=True)
    fn = _cyclic(low, high, up, down, mode, gamma, -1.0)
    return Schedule(pin(fn, until=(0, high)), warmup_steps=0, end_step=None)


def _momentum_arguments(
    cycle_momentum: Any, base_momentum: Any, max_momentum: Any, *, needed: bool
) -> tuple[float, float]:
    cycle_momentum = _checks.flag("cycle_momentum", cycle_momentum)
    base = _checks.non_negative("base_momentum", base_momentum)
    high = _checks.non_negative("max_momentum", max_momentum)
    if needed and not cycle_momentum:
        raise ValueError(
            "cycle_momentum=False: torch then leaves the optimizer's momentum as it is, so "
            "there is no momentum schedule to give."
        )
    return base, high


def _phases(total: int, pct_start: float, three_phase: bool) -> list[tuple[float, float]]:
    """OneCycleLR's phases as ``(start_step, end_step)`` floats, exactly as torch computes them."""
    first = float(pct_start * total) - 1
    if three_phase:
        second = float(2 * pct_start * total) - 2
        return [(0.0, first), (first, second), (second, float(total - 1))]
    return [(0.0, first), (first, float(total - 1))]


def _one_cycle_arguments(
    max_lr: Any,
    total_steps: Any,
    epochs: Any,
    steps_per_epoch: Any,
    pct_start: Any,
    anneal_strategy: Any,
    div_factor: Any,
    final_div_factor: Any,
    three_phase: Any,
) -> tuple[float, int, float, str, float, float, bool]:
    max_lr = _checks.positive("max_lr", max_lr)
    if total_steps is not None:
        total = _checks.integer("total_steps", total_steps, minimum=1)
    elif epochs is not None and steps_per_epoch is not None:
        epochs = _checks.integer("epochs", epochs, minimum=1)
        steps_per_epoch = _checks.integer("steps_per_epoch", steps_per_epoch, minimum=1)
        total = _checks.integer("epochs * steps_per_epoch", epochs * steps_per_epoch, minimum=1)
    else:
        raise ValueError(
            "give total_steps, or both epochs and steps_per_epoch (as torch's OneCycleLR needs)."
        )
    pct_start = _checks.number("pct_start", pct_start, minimum=0.0, maximum=1.0)
    strategy = _checks.choice("anneal_strategy", anneal_strategy, ANNEAL_STRATEGIES)
    div = _checks.positive("div_factor", div_factor)
    final_div = _checks.positive("final_div_factor", final_div_factor)
    three_phase = _checks.flag("three_phase", three_phase)
    for i, (start, end) in enumerate(_phases(total, pct_start, three_phase)):
        if not end > start:
            raise ValueError(
                f"pct_start={pct_start!r} with total_steps={total} gives phase {i + 1} no "
                f"length (it would run from step {start:g} to {end:g}; torch divides by zero "
                "there): choose a pct_start between them."
            )
    return max_lr, total, pct_start, strategy, div, final_div, three_phase


def _one_cycle(
    total: int,
    pct_start: float,
    strategy: str,
    three_phase: bool,
    levels: list[tuple[float, float]],
) -> Any:
    """OneCycleLR's annealing of ``levels[i] = (start, end)`` over phase ``i``, at each step."""
    phases = _phases(total, pct_start, three_phase)
    last_phase = len(phases) - 1

    def anneal(step: jax.Array, i: int) -> jax.Array:
        start_step, end_step = phases[i]
        a, b = levels[i]
        length = end_step - start_step
        done = as_float(step) - start_step  # steps into the phase
        remaining = end_step - as_float(step)
        near_start = done <= remaining
        # Each value from the nearer end, so that neither a nor b is lost by cancellation.
        if strategy == "linear":  # the slope in float64: torch's whole-number values stay exact
            slope = (b - a) / length
            return jnp.where(near_start, a + slope * done, b - slope * remaining)
        # end + (start - end) (1 + cos(pi pct)) / 2, with the half cosines kept exact near 0
        from_start = a + (b - a) * half_cosine_parts(remaining, done, length)
        from_end = b + (a - b) * half_cosine_parts(done, remaining, length)
        return jnp.where(near_start, from_start, from_end)

    def fn(step: jax.Array) -> jax.Array:
        k = jnp.clip(step, 0, total - 1)  # torch's last used step; it raises past total_steps
        value = anneal(k, last_phase)
        for i in reversed(range(last_phase)):
            # torch's phase test, step <= end_step, on whole steps: step <= floor(end_step).
            value = jnp.where(k <= math.floor(phases[i][1]), anneal(k, i), value)
        return value

    return pin(fn, until=(0, levels[0][0]), since=(total - 1, levels[-1][1]))


def _one_cycle_levels(
    max_lr: float, div: float, final_div: float, three_phase: bool
) -> list[tuple[float, float]]:
    initial = max_lr / div
    minimum = _checks.positive("max_lr / div_factor / final_div_factor", initial / final_div)
    if three_phase:
        return [(initial, max_lr), (max_lr, initial), (initial, minimum)]
    return [(initial, max_lr), (max_lr, minimum)]


@register
def one_cycle_lr(
    max_lr: float,
    total_steps: int | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    cycle_momentum: bool = True,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    r"""torch's ``OneCycleLR`` (Smith & Topin, "Super-Convergence"): up to ``max_lr`` and down.

    .. math:: v: \; \frac{m}{d} \xrightarrow{[0,\, aT - 1]} m \xrightarrow{[aT - 1,\, T - 1]}
       \frac{m}{d f} \quad\text{(two phases)}, \qquad \text{or } \frac{m}{d} \to m \to \frac{m}
       {d} \to \frac{m}{d f} \;\text{(three)}

    with ``m = max_lr``, ``d = div_factor``, ``f = final_div_factor``, ``a = pct_start``,
    ``T = total_steps``, each phase annealed by a half cosine (``"cos"``) or linearly, with
    torch's phase ends (``pct_start * T - 1``, ...). torch raises past ``total_steps``; here the
    last value, exactly ``m / (d f)``, holds from the last update (``T - 1``) on, which is
    ``end_step``. The momentum arguments belong to :func:`one_cycle_momentum`.

    >>> s = one_cycle_lr(25.0, total_steps=10, final_div_factor=2, anneal_strategy="linear")
    >>> [float(s(k)) for k in range(10)]  # torch's own test
    [1.0, 13.0, 25.0, 21.5, 18.0, 14.5, 11.0, 7.5, 4.0, 0.5]
    """
    max_lr, total, pct_start, strategy, div, final_div, three = _one_cycle_arguments(
        max_lr,
        total_steps,
        epochs,
        steps_per_epoch,
        pct_start,
        anneal_strategy,
        div_factor,
        final_div_factor,
        three_phase,
    )
    _momentum_arguments(cycle_momentum, base_momentum, max_momentum, needed=False)
    levels = _one_cycle_levels(max_lr, div, final_div, three)
    fn = _one_cycle(total, pct_start, strategy, three, levels)
    return Schedule(fn, warmup_steps=max(0, math.floor(pct_start * total - 1)), end_step=total - 1)


@register
def one_cycle_momentum(
    max_lr: float,
    total_steps: int | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    cycle_momentum: bool = True,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    r"""The momentum (SGD's ``momentum``, Adam's ``b1``) that torch's ``OneCycleLR`` sets.

    .. math:: \mu: \; \mu_{max} \to \mu_{base} \to \mu_{max} \quad\text{(two phases)}, \qquad
       \mu_{max} \to \mu_{base} \to \mu_{max} \to \mu_{max} \;\text{(three)}

    against :func:`one_cycle_lr`'s phases, annealed the same way; takes its arguments.
    ``cycle_momentum=False`` has no momentum schedule (torch leaves the optimizer's own) and is
    refused.

    >>> s = one_cycle_momentum(25.0, total_steps=10, final_div_factor=2, anneal_strategy="linear",
    ...                        base_momentum=1, max_momentum=22)
    >>> [float(s(k)) for k in range(10)]  # torch's own test
    [22.0, 11.5, 1.0, 4.0, 7.0, 10.0, 13.0, 16.0, 19.0, 22.0]
    """
    max_lr, total, pct_start, strategy, div, final_div, three = _one_cycle_arguments(
        max_lr,
        total_steps,
        epochs,
        steps_per_epoch,
        pct_start,
        anneal_strategy,
        div_factor,
        final_div_factor,
        three_phase,
    )
    base, high = _momentum_arguments(cycle_momentum, base_momentum, max_momentum, needed=True)
    levels = [(high, base), (base, high)] + ([(high, high)] if three else [])
    fn = _one_cycle(total, pct_start, strategy, three, levels)
    return Schedule(fn, warmup_steps=0, end_step=total - 1)


@register
def sequential_lr(schedulers: Sequence[Any], milestones: Sequence[int]) -> Schedule:
    r"""torch's ``SequentialLR``: each scheduler from its own step 0, starting at its milestone.

    .. math:: v(k) = f_i(k - m_{i-1}) \quad\text{for } m_{i-1} \le k < m_i \quad (m_{-1} = 0)

    This is :func:`warmup_jax.join` (torch restarts the next scheduler at its milestone with
    ``_update_lr(0)``, the same thing).

    >>> s = sequential_lr([linear_lr(1.0, 0.5, total_iters=2), exponential_lr(1.0, 0.5)], [2])
    >>> [float(s(k)) for k in range(5)]
    [0.5, 0.75, 1.0, 0.5, 0.25]
    """
    for name, value in (("schedulers", schedulers), ("milestones", milestones)):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValueError(f"{name} must be a list, got {_checks.describe(value)}.")
    if not schedulers or len(milestones) != len(schedulers) - 1:
        raise ValueError(
            f"milestones must have one entry fewer than schedulers ({len(schedulers)}), got "
            f"{len(milestones)}."
        )
    try:
        return join(schedulers, milestones)
    except ValueError as error:  # in torch's words
        message = str(error).replace("boundaries", "milestones").replace("schedules", "schedulers")
        raise ValueError(message) from None


@register
def chained_scheduler(lr: float, schedulers: Sequence[Any]) -> Schedule:
    r"""torch's ``ChainedScheduler``: every scheduler's factor on ``lr``, step by step.

    .. math:: v(k) = lr \cdot \prod_i \frac{f_i(k)}{lr}

    Each scheduler is built on the same ``lr``, as torch's are on the same optimizer. Exact for
    torch's multiplicative (chainable) schedulers, all of the above but
    :func:`cosine_annealing_lr`, whose recursion adds rather than multiplies: chained with
    others, torch's values for it differ from this product (torch's own caveat).

    >>> s = chained_scheduler(1.0, [constant_lr(1.0, 0.5, 2), exponential_lr(1.0, 0.5)])
    >>> [float(s(k)) for k in range(4)]
    [0.5, 0.25, 0.25, 0.125]
    """
    lr = _checks.positive("lr", lr)
    if (
        isinstance(schedulers, (str, bytes))
        or not isinstance(schedulers, Sequence)
        or not schedulers
    ):
        raise ValueError(
            f"schedulers must be a non-empty list of schedules, got {_checks.describe(schedulers)}."
        )
    for i, scheduler in enumerate(schedulers):
        _checks.schedule(f"schedulers[{i}]", scheduler)
    return multiply([lr, *[multiply([1.0 / lr, s]) for s in schedulers]])


__all__ = [
    "ANNEAL_STRATEGIES",
    "CYCLIC_MODES",
    "chained_scheduler",
    "constant_lr",
    "cosine_annealing_lr",
    "cosine_annealing_warm_restarts",
    "cyclic_lr",
    "cyclic_momentum",
    "exponential_lr",
    "linear_lr",
    "multi_step_lr",
    "one_cycle_lr",
    "one_cycle_momentum",
    "polynomial_lr",
    "sequential_lr",
    "step_lr",
]

"""Warmups: ramps from a small value up to the peak.

Two families:

* Ramps to a peak (:func:`linear_warmup`, :func:`exponential_warmup`, :func:`warmup`,
  :func:`from_epochs`): ``init_value`` at step 0, exactly ``peak_value`` (bit for bit) from step
  ``warmup_steps`` on.
* Factors on a base value (:func:`untuned_linear_warmup`, :func:`untuned_exponential_warmup`,
  :func:`radam_warmup`), from Ma & Yarats, "On the adequacy of untuned warmup for adaptive
  optimization" (AAAI 2021), with the same values at every optimizer update as the
  ``pytorch_warmup`` package: update ``k`` (counted from 0) gets that package's factor for its
  iteration ``t = k + 1``.

The warmup shape is chosen with ``warmup_type`` (``"linear"`` or ``"exponential"``) wherever a
function offers the choice, and ``warmup_one_step_ahead=True`` evaluates a warmup at ``step + 1``
so that update 0 already moves the weights (as ``pytorch_warmup`` does).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from warmup_jax import _checks
from warmup_jax._pieces import DEFAULT_EXPONENTIAL_START, WARMUP_TYPES, pin, ramp
from warmup_jax._schedule import Schedule, end_of, float_dtype, latest, register, settles_at
from warmup_jax._steps import index_dtype

# A float32 factor 1 - e with 0 <= e <= 2**-25 rounds to exactly 1.0.
_FLOAT32_HALF_ULP_BELOW_ONE = 2.0**-25
_FLOAT32_TINY = float(np.finfo(np.float32).tiny)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _warmup_schedule(
    peak: float, steps: int, init: float, warmup_type: str, ahead: bool
) -> Schedule:
    return Schedule(
        ramp(peak, steps, init, warmup_type, ahead),
        warmup_steps=steps - int(ahead),
        end_step=steps,
        holds_from=steps - int(ahead),
    )


@register
def linear_warmup(
    peak_value: float,
    warmup_steps: int,
    init_value: float = 0.0,
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    r"""Linear warmup from ``init_value`` to ``peak_value``, then constant at ``peak_value``.

    .. math:: v(s) = v_{init} + (v_{peak} - v_{init}) \cdot \min(s, W) / W

    Step ``warmup_steps`` and every later step give exactly ``peak_value``; negative steps give
    ``init_value``. ``end_step`` is ``warmup_steps``. An ``init_value`` above the peak is
    allowed, as optax's linear schedules allow it: the ramp then comes down to the peak.

    Args:
      peak_value: the value at the end of warmup; finite and > 0.
      warmup_steps: W, the number of warmup steps; an integer >= 1.
      init_value: the value at step 0; >= 0.
      warmup_one_step_ahead: evaluate the ramp at ``step + 1``, so that update 0 already moves
        the weights (as ``pytorch_warmup`` does) and the peak is reached one step early. Off by
        default, which keeps transformers' values.

    >>> s = linear_warmup(1.0, 4)
    >>> [float(s(i)) for i in range(6)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    >>> [float(linear_warmup(1.0, 4, warmup_one_step_ahead=True)(i)) for i in range(5)]
    [0.25, 0.5, 0.75, 1.0, 1.0]
    >>> s.warmup_steps, s.end_step
    (4, 4)
    """
    peak_value = _checks.positive("peak_value", peak_value)
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, minimum=1)
    init_value = _checks.non_negative("init_value", init_value)
    ahead = _checks.flag("warmup_one_step_ahead", warmup_one_step_ahead)
    return _warmup_schedule(peak_value, warmup_steps, init_value, "linear", ahead)


def _exponential_start(peak_value: float, init_value: Any) -> float:
    if init_value is None:
        init_value = peak_value * DEFAULT_EXPONENTIAL_START
    init_value = _checks.number(
        "init_value",
        init_value,
        minimum=0.0,
        maximum=peak_value,
        min_inclusive=False,
        max_inclusive=False,
    )
    if init_value < _FLOAT32_TINY or peak_value / init_value > _FLOAT32_MAX:
        # init * exp(...) would be 0 * inf in float32.
        raise ValueError(
            f"init_value must be at least {_FLOAT32_TINY:.4g} and peak_value / init_value at most "
            f"{_FLOAT32_MAX:.4g} (float32's range), got init_value={init_value!r}."
        )
    return init_value


@register
def exponential_warmup(
    peak_value: float,
    warmup_steps: int,
    init_value: float | None = None,
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    r"""Geometric warmup: equal ratios per step from ``init_value`` up to ``peak_value``.

    .. math:: v(s) = v_{init} \cdot (v_{peak} / v_{init})^{\min(s, W) / W}

    Step ``warmup_steps`` and every later step give exactly ``peak_value``. Compared with a linear
    warmup it spends longer at small values, then climbs fast.

    Args:
      peak_value: the value at the end of warmup; finite and > 0.
      warmup_steps: W, the number of warmup steps; an integer >= 1.
      init_value: the value at step 0, in (0, peak_value); defaults to ``peak_value / 1000``.
      warmup_one_step_ahead: evaluate the ramp at ``step + 1`` (see :func:`linear_warmup`).

    >>> s = exponential_warmup(1.0, 3, init_value=0.001)
    >>> [round(float(s(i)), 6) for i in range(5)]
    [0.001, 0.01, 0.1, 1.0, 1.0]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, minimum=1)
    init_value = _exponential_start(peak_value, init_value)
    ahead = _checks.flag("warmup_one_step_ahead", warmup_one_step_ahead)
    return _warmup_schedule(peak_value, warmup_steps, init_value, "exponential", ahead)


@register
def log_warmup(peak_value: float, warmup_steps: int, init_value: float = 0.0) -> Schedule:
    r"""DeepSpeed's logarithmic warmup (``WarmupLR(warmup_type="log")``), then ``peak_value``.

    .. math:: v(s) = v_{init} + (v_{peak} - v_{init}) \cdot \frac{\log(s + 1)}{\log W}
       \quad (s < W)

    DeepSpeed's convention, kept as it is: step ``s`` gets ``log(s + 1) / log(W)``, so the peak
    arrives at step ``W - 1`` (``warmup_steps`` is ``W - 1``) and stays from there; update 0 gets
    ``init_value``. ``warmup_steps`` is DeepSpeed's ``warmup_num_steps``, at least 2.

    Args:
      peak_value: DeepSpeed's ``warmup_max_lr``; > 0.
      warmup_steps: W, DeepSpeed's ``warmup_num_steps``; an integer >= 2.
      init_value: DeepSpeed's ``warmup_min_lr``; in [0, peak_value].

    >>> s = log_warmup(1.0, 100)
    >>> [round(float(s(k)), 4) for k in (0, 9, 98, 99, 1000)]
    [0.0, 0.5, 0.9978, 1.0, 1.0]
    """
    peak_value = _checks.positive("peak_value", peak_value)
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, minimum=2)
    init_value = _checks.non_negative("init_value", init_value, maximum=peak_value)
    scale = (peak_value - init_value) / math.log(warmup_steps)
    full = warmup_steps - 1

    def climb(step: jax.Array) -> jax.Array:
        done = jnp.clip(step, 0, full).astype(float_dtype())
        return jnp.minimum(init_value + scale * jnp.log1p(done), peak_value)

    fn = pin(climb, until=(0, init_value), since=(full, peak_value))
    return Schedule(fn, warmup_steps=full, end_step=full)


def warmup_ramp(
    peak_value: float,
    warmup_steps: int,
    warmup_type: str,
    init_value: float | None,
    warmup_one_step_ahead: bool,
) -> Schedule:
    """The warmup of shape ``warmup_type`` (``init_value=None``: that shape's default start)."""
    warmup_type = _checks.choice("warmup_type", warmup_type, WARMUP_TYPES)
    if warmup_type == "linear":
        init = 0.0 if init_value is None else init_value
        return linear_warmup(peak_value, warmup_steps, init, warmup_one_step_ahead)
    return exponential_warmup(peak_value, warmup_steps, init_value, warmup_one_step_ahead)


@register
def warmup(
    peak_value: float,
    warmup_steps: int,
    warmup_type: str = "linear",
    init_value: float | None = None,
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    r"""A warmup to ``peak_value`` of the shape ``warmup_type``: ``"linear"`` or ``"exponential"``.

    .. math:: v(s) = v_{init} + (v_{peak} - v_{init}) \, p \quad\text{or}\quad
       v_{init} (v_{peak} / v_{init})^{p}, \qquad p = \min(s, W) / W

    ``init_value=None`` means 0 for linear and ``peak_value / 1000`` for exponential; see
    :func:`linear_warmup` and :func:`exponential_warmup`.

    >>> float(warmup(2.0, 10, "linear")(5))
    1.0
    >>> float(warmup(2.0, 10, "exponential")(10))
    2.0
    """
    return warmup_ramp(peak_value, warmup_steps, warmup_type, init_value, warmup_one_step_ahead)


@register
def from_epochs(
    peak_value: float,
    warmup_epochs: float,
    steps_per_epoch: int,
    warmup_type: str = "linear",
    init_value: float | None = None,
    warmup_one_step_ahead: bool = False,
) -> Schedule:
    r""":func:`warmup` with its length in epochs: ``round(warmup_epochs * steps_per_epoch)`` steps.

    .. math:: W = \operatorname{round}(E \cdot n_{epoch}), \qquad v(s) = \operatorname{warmup}(s; W)

    ``warmup_epochs`` may be fractional (0.5 epochs); the product is rounded to the nearest step
    and must be at least 1.

    >>> from_epochs(1e-3, 2, 50).warmup_steps
    100
    """
    steps_per_epoch = _checks.integer("steps_per_epoch", steps_per_epoch, minimum=1)
    warmup_epochs = _checks.positive("warmup_epochs", warmup_epochs)
    warmup_steps = round(warmup_epochs * steps_per_epoch)
    if not 1 <= warmup_steps <= _checks.max_step():
        raise ValueError(
            f"warmup_epochs * steps_per_epoch must round to a step count in [1, "
            f"{_checks.max_step()}], got {warmup_epochs!r} * {steps_per_epoch} = "
            f"{warmup_epochs * steps_per_epoch!r}."
        )
    return warmup_ramp(peak_value, warmup_steps, warmup_type, init_value, warmup_one_step_ahead)


def _base_fn(base: Any) -> Any:
    if callable(base):
        return base
    return lambda step: base


def _factor_schedule(fn: Any, base: Any, full_step: int | None) -> Schedule:
    """A warmup factor on ``base``: it ends when both the factor and ``base`` have settled.

    ``full_step`` is the first update at factor 1, or ``None`` when that lies past the last
    step (``warmup_steps`` is then the last step).
    """
    base_end = 0 if not callable(base) else end_of(base)
    return Schedule(
        fn,
        warmup_steps=_checks.max_step() if full_step is None else full_step,
        end_step=latest([full_step, base_end]),
        holds_from=latest([full_step, settles_at(base)]),
    )


def _beta2(b2: Any, minimum: float) -> float:
    return _checks.number(
        "b2", b2, minimum=minimum, maximum=1.0, min_inclusive=False, max_inclusive=False
    )


def _period(name: str, value: float) -> int:
    """pytorch_warmup's ``int(c / (1 - b2))``, checked to fit a step counter."""
    tau = int(value)
    if not 1 <= tau <= _checks.max_step():
        raise ValueError(
            f"b2 gives a warmup period {name} = {value!r}, outside [1, {_checks.max_step()}]."
        )
    return tau


@register
def untuned_linear_warmup(base: Any, b2: float = 0.999) -> Schedule:
    r"""Untuned linear warmup: ``base`` times ``min(1, t / tau)`` with ``tau = int(2 / (1 - b2))``.

    .. math:: v(k) = base(k) \cdot \min\!\left(1, \frac{k + 1}{\tau}\right),
       \qquad \tau = \left\lfloor \frac{2}{1 - b_2} \right\rfloor

    ``t = step + 1``, so the first update already moves the weights. ``tau`` is computed as in
    ``pytorch_warmup`` (in Python floats: ``int(2 / (1 - 0.999)) == 1999``).

    Args:
      base: the value to warm up: a number >= 0 or any schedule.
      b2: Adam's second-moment decay rate, in (0, 1).

    >>> s = untuned_linear_warmup(1.0, b2=0.999)  # tau = int(1999.9999999999982) = 1999
    >>> round(float(s(0)), 8), float(s(1997)) < 1.0, float(s(1998)), s.warmup_steps
    (0.00050025, True, 1.0, 1998)
    """
    base = _checks.schedule_or_number("base", base)
    b2 = _beta2(b2, 0.0)
    tau = _period("tau", 2.0 / (1.0 - b2))
    base_fn = _base_fn(base)

    def fn(step: jax.Array) -> jax.Array:
        # t in floats: step + 1 would overflow int32 at the last step.
        t = jnp.maximum(step, 0).astype(float_dtype()) + 1.0
        factor = jnp.where(t >= tau, 1.0, t * (1.0 / tau))
        return base_fn(step) * factor

    return _factor_schedule(fn, base, tau - 1)


@register
def untuned_exponential_warmup(base: Any, b2: float = 0.999) -> Schedule:
    r"""Untuned exponential warmup: ``base`` times ``1 - exp(-t / tau)``, ``tau = int(1 / (1 - b2))``.

    .. math:: v(k) = base(k) \cdot \left(1 - e^{-(k + 1) / \tau}\right),
       \qquad \tau = \left\lfloor \frac{1}{1 - b_2} \right\rfloor

    ``t = step + 1``. The factor is computed as ``-expm1(-t / tau)`` (no cancellation near 0) and is
    exactly 1 from the first step at which float32 rounds it to 1; ``warmup_steps`` is that step.

    Args:
      base: the value to warm up: a number >= 0 or any schedule.
      b2: Adam's second-moment decay rate, in (0, 1).

    >>> s = untuned_exponential_warmup(1.0, b2=0.9)  # tau = 10
    >>> round(float(s(0)), 6), float(s(s.warmup_steps)), s.warmup_steps
    (0.095163, 1.0, 173)
    """
    base = _checks.schedule_or_number("base", base)
    b2 = _beta2(b2, 0.0)
    tau = _period("tau", 1.0 / (1.0 - b2))
    # exp(-t / tau) <= 2**-25 from t = ceil(25 ln(2) tau) on.
    t_full = math.ceil(-math.log(_FLOAT32_HALF_ULP_BELOW_ONE) * tau)
    base_fn = _base_fn(base)

    full = t_full - 1 if t_full - 1 <= _checks.max_step() else None

    def fn(step: jax.Array) -> jax.Array:
        t = jnp.maximum(step, 0).astype(float_dtype()) + 1.0
        factor = -jnp.expm1(t * (-1.0 / tau))
        return base_fn(step) * jnp.where(t >= float(t_full), 1.0, factor)

    return _factor_schedule(fn, base, full)


class _RAdamRectifier:
    r"""RAdam's variance rectification term as a warmup factor, computed stably.

    ``rho(t) = r_inf - 2 t b2^t / (1 - b2^t)`` cancels badly in float32 for small ``t``: both terms
    are about ``2 / (1 - b2)``. With ``L = -log(b2)`` and ``x = t L`` it is exactly

        rho(t) = A + (2 / L) h(x),  A = r_inf - 2 / L,  h(x) = 1 - x / expm1(x),

    where ``A`` is a constant computed once in float64 and ``h`` is evaluated by its series
    ``x/2 - x^2/12 + x^4/720 - x^6/30240 + x^8/1209600`` for ``x < 1`` (truncation error below
    float32's resolution) and directly above, where nothing cancels.

    What is left is ``rho - 4`` near the first updates, where rho is just above 4 (for ``b2``
    near 0.6 it never gets far from it): there the factor's first updates come from a table
    computed in float64, up to the first update from which the float32 formula is within
    ``TABLE_TOLERANCE`` of the float64 value (a few dozen updates for ``b2`` near 0.6, none for
    the usual 0.999).
    """

    TABLE_TOLERANCE = 2.5e-7  # relative; float32 rounds to 6e-8
    MAX_TABLE = 100_000

    def __init__(self, b2: float) -> None:
        self.b2 = b2
        self.r_inf = 2.0 / (1.0 - b2) - 1.0
        self.log_b2 = -math.log(b2)
        self.constant = self.r_inf - 2.0 / self.log_b2
        self.offset = self._offset()
        self.full_step: int | None = self._full_step()
        self.table = self._table()

    def rho64(self, t: float) -> float:
        """pytorch_warmup's rho in float64 (used only to find constants)."""
        b2t = self.b2**t
        return self.r_inf - 2.0 * t * b2t / (1.0 - b2t)

    def factor64(self, k: int) -> float:
        rho = self.rho64(k + self.offset)
        return math.sqrt(
            (rho - 4.0) * (rho - 2.0) * self.r_inf / ((self.r_inf - 4.0) * (self.r_inf - 2.0) * rho)
        )

    def _offset(self) -> int:
        """The smallest t >= 1 with rho(t) > 4 (pytorch_warmup's ``get_offset``)."""
        t = 1
        while self.rho64(t) <= 4.0:
            t += 1
        return t

    def _full_step(self) -> int | None:
        """The first update k whose factor rounds to 1.0 in float32 (factor is increasing in k);
        ``None`` when that is past the last step."""
        low, high = 0, _checks.max_step()
        if 1.0 - self.factor64(high) > _FLOAT32_HALF_ULP_BELOW_ONE:
            return None
        while low < high:
            mid = (low + high) // 2
            if 1.0 - self.factor64(mid) <= _FLOAT32_HALF_ULP_BELOW_ONE:
                high = mid
            else:
                low = mid + 1
        return low

    def _table(self) -> np.ndarray | None:
        """float64 factors of the first updates, where the float32 formula is not exact enough."""
        count = min(self.MAX_TABLE, self.full_step or self.MAX_TABLE)
        steps = np.arange(count, dtype=np.int64)
        t = (steps + self.offset).astype(np.float64)
        b2t = self.b2**t
        rho = self.r_inf - 2.0 * t * b2t / (1.0 - b2t)
        r_inf = self.r_inf
        exact = np.sqrt((rho - 4.0) * (rho - 2.0) * r_inf / ((r_inf - 4.0) * (r_inf - 2.0) * rho))
        # Compiled and op by op: XLA may round the two a few ulps apart.
        index = jnp.asarray(steps, index_dtype())
        error = np.maximum(
            np.abs(np.asarray(jax.jit(self.formula)(index), np.float64) - exact),
            np.abs(np.asarray(self.formula(index), np.float64) - exact),
        )
        bad = np.nonzero(error > self.TABLE_TOLERANCE * exact)[0]
        if bad.size == 0:
            return None
        return exact[: int(bad[-1]) + 1]

    def __call__(self, step: jax.Array) -> jax.Array:
        factor = self.formula(step)
        if self.table is not None:
            size = len(self.table)
            k = jnp.clip(step, 0, size - 1)
            factor = jnp.where(step < size, jnp.asarray(self.table, float_dtype())[k], factor)
        if self.full_step is not None:
            factor = jnp.where(step >= self.full_step, 1.0, factor)
        return factor

    def formula(self, step: jax.Array) -> jax.Array:
        """The factor by the stable formula (see the class docstring), without the table."""
        k = jnp.maximum(step, 0)
        # k + offset in floats: in int32 it would wrap at the last steps.
        x = (k.astype(float_dtype()) + float(self.offset)) * self.log_b2
        small = jnp.minimum(x, 1.0)
        x2 = small * small
        series = small * (
            0.5
            - small * (1.0 / 12.0)
            + x2 * small * (1.0 / 720.0 - x2 * (1.0 / 30240.0) + x2 * x2 * (1.0 / 1209600.0))
        )
        direct = 1.0 - jnp.maximum(x, 1.0) / jnp.expm1(jnp.maximum(x, 1.0))
        h = jnp.where(x < 1.0, series, direct)
        rho = self.constant + (2.0 / self.log_b2) * h
        squared = (
            jnp.maximum(rho - 4.0, 0.0)
            * (1.0 / (self.r_inf - 4.0))
            * (rho - 2.0)
            * (1.0 / (self.r_inf - 2.0))
            * self.r_inf
            / rho
        )
        return jnp.minimum(jnp.sqrt(squared), 1.0)


@register
def radam_warmup(base: Any, b2: float = 0.999) -> Schedule:
    r"""RAdam warmup: ``base`` times RAdam's rectification term, so Adam behaves like RAdam.

    .. math::
       f_k = \sqrt{\frac{(r - 4)(r - 2)\, r_\infty}{(r_\infty - 4)(r_\infty - 2)\, r}},\quad
       r = \rho(k + d),\quad \rho(t) = r_\infty - \frac{2 t b_2^t}{1 - b_2^t},\quad
       r_\infty = \frac{2}{1 - b_2} - 1

    with ``d`` the smallest ``t >= 1`` with ``rho(t) > 4``, as in ``pytorch_warmup.RAdamWarmup``.
    Computed without float32 cancellation (see ``_RAdamRectifier``); exactly 1 from the first
    update at which float32 rounds the factor to 1 (``warmup_steps``).

    Args:
      base: the value to warm up: a number >= 0 or any schedule.
      b2: Adam's second-moment decay rate, in (0.6, 1) (below 0.6 rho never exceeds 4).

    >>> s = radam_warmup(1.0, b2=0.999)
    >>> round(float(s(0)), 5), round(float(s(1000)), 5), float(s(s.warmup_steps))
    (0.01731, 0.64664, 1.0)
    """
    base = _checks.schedule_or_number("base", base)
    b2 = _beta2(b2, 0.6)
    _period("r_inf", 2.0 / (1.0 - b2))
    rectifier = _RAdamRectifier(b2)
    base_fn = _base_fn(base)

    def fn(step: jax.Array) -> jax.Array:
        return base_fn(step) * rectifier(step)

    return _factor_schedule(fn, base, rectifier.full_step)


__all__ = [
    "WARMUP_TYPES",
    "exponential_warmup",
    "from_epochs",
    "linear_warmup",
    "log_warmup",
    "radam_warmup",
    "untuned_exponential_warmup",
    "untuned_linear_warmup",
    "warmup",
]

"""Plain-Python float64 transcriptions of the schedules warmup_jax promises to reproduce.

Nothing here imports warmup_jax, jax or torch: every function below is a line-by-line copy of the
upstream lambda (a scalar ``step -> factor`` function in Python floats), so the tests compare the
library against the upstream code itself, not against a second reading of the same spec.

Sources (read from the stored public copies of the repositories):

* huggingface/transformers, ``src/transformers/optimization.py``. Transcribed from the newest
  stored version (the one with ``from __future__ import annotations``, ``int | None`` hints,
  ``GreedyLR`` and ``SchedulerType.GREEDY``; the stored index lists it by file id 52356072093, no
  commit hash given). The lambdas are identical in the stored versions at commits
  ``005edacb6b5dabbf0843e92c6623de9e07ca6241`` and ``ad1fc9639f2e7b6808a2ca982c0a9b3134d76ee8``
  (the latter predates ``get_wsd_schedule`` and the ``*_lr_rate`` variant).
  ``SchedulerType`` is in ``src/transformers/trainer_utils.py``.
* Tony-Y/pytorch_warmup, ``pytorch_warmup/base.py`` (commit
  ``156e48a155af60a819a15d09b3f7328d6b3f9571``; same ``warmup_factor``/``dampen`` in
  ``d3bee18bce5ffe4e08dc92fa062c591e3d1f017f``), ``pytorch_warmup/untuned.py`` (commit
  ``2cf7a79e953f15c562569b25c2d29b9ae6ba1589``) and ``pytorch_warmup/radam.py`` (commits
  ``2cf7a79e953f15c562569b25c2d29b9ae6ba1589`` and ``666101774f1f82e4be0a880d7d0b7d1bc6dcd6a4``,
  identical formulas).

How a step maps onto the upstream functions:

* transformers: ``LambdaLR`` sets ``lr = base_lr * lr_lambda(last_epoch)``; the optimizer's first
  update runs with ``last_epoch == 0`` and every ``scheduler.step()`` adds 1. So optax's update
  count ``k`` (0 for the first update) is ``current_step`` and ``lr(k) = peak * lambda(k)``.
* pytorch_warmup: ``BaseWarmup.__init__`` calls ``self.dampen()`` with ``last_step = -1``, i.e.
  ``warmup_factor(step=0)``, *before* the first ``optimizer.step()``; each
  ``with warmup.dampening():`` after an update advances ``step`` by 1. So update ``k`` (from 0) runs
  with ``warmup_factor(step=k)``, which is the paper's omega at iteration ``t = k + 1``
  (``LinearWarmup``: ``min(1, (k + 1) / tau)``; ``RAdamWarmup``: ``rho(k + offset)``).
"""

from __future__ import annotations

import math
import warnings
from functools import partial
from typing import Callable

# ---------------------------------------------------------------------------------------------
# huggingface/transformers  src/transformers/optimization.py
# ---------------------------------------------------------------------------------------------

# SchedulerType values (src/transformers/trainer_utils.py, newest stored version). The last three
# are not step -> lr functions of the same kind (ReduceLROnPlateau and GreedyLR react to metrics;
# "cosine_warmup_with_min_lr" is get_cosine_with_min_lr_schedule_with_warmup_lr_rate) and are not in
# warmup_jax's SCHEDULE_NAMES per api.md.
SCHEDULER_TYPE_VALUES = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "reduce_lr_on_plateau",
    "cosine_with_min_lr",
    "cosine_warmup_with_min_lr",
    "warmup_stable_decay",
    "greedy",  # only on the newest main (GreedyLR); absent from released versions before it
)
METRIC_DRIVEN_SCHEDULER_TYPES = ("reduce_lr_on_plateau", "greedy")
API_SCHEDULE_NAMES = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "cosine_with_min_lr",
    "warmup_stable_decay",
)


def _get_constant_lambda(_=None):
    return 1


def _get_constant_schedule_with_warmup_lr_lambda(current_step: int, *, num_warmup_steps: int):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1.0, num_warmup_steps))
    return 1.0


def _get_linear_schedule_with_warmup_lr_lambda(
    current_step: int, *, num_warmup_steps: int, num_training_steps: int
):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    return max(
        0.0,
        float(num_training_steps - current_step)
        / float(max(1, num_training_steps - num_warmup_steps)),
    )


def _get_cosine_schedule_with_warmup_lr_lambda(
    current_step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: float
):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(
        max(1, num_training_steps - num_warmup_steps)
    )
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))


def _get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda(
    current_step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: int
):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(
        max(1, num_training_steps - num_warmup_steps)
    )
    if progress >= 1.0:
        return 0.0
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((float(num_cycles) * progress) % 1.0))))


def _get_polynomial_decay_schedule_with_warmup_lr_lambda(
    current_step: int,
    *,
    num_warmup_steps: int,
    num_training_steps: int,
    lr_end: float,
    power: float,
    lr_init: int,
):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    elif current_step > num_training_steps:
        return lr_end / lr_init  # as LambdaLR multiplies by lr_init
    else:
        lr_range = lr_init - lr_end
        decay_steps = num_training_steps - num_warmup_steps
        pct_remaining = 1 - (current_step - num_warmup_steps) / decay_steps
        decay = lr_range * pct_remaining**power + lr_end
        return decay / lr_init  # as LambdaLR multiplies by lr_init


def _get_inverse_sqrt_schedule_lr_lambda(
    current_step: int, *, num_warmup_steps: int, timescale: int | None = None
):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    shift = timescale - num_warmup_steps
    decay = 1.0 / math.sqrt((current_step + shift) / timescale)
    return decay


# Upstream reuses the name _get_cosine_schedule_with_warmup_lr_lambda for this second definition
# (it shadows the first one at module level; get_cosine_schedule_with_warmup bound the first one
# via partial before the shadowing, so both behave as written). Renamed here only to keep both.
def _get_cosine_schedule_with_warmup_lr_lambda_min_lr(
    current_step: int,
    *,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float,
    min_lr_rate: float = 0.0,
):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(
        max(1, num_training_steps - num_warmup_steps)
    )
    factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
    factor = factor * (1 - min_lr_rate) + min_lr_rate
    return max(0, factor)


def _get_cosine_with_min_lr_schedule_with_warmup_lr_rate_lambda(
    current_step: int,
    *,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float,
    min_lr_rate: float = 0.0,
    warmup_lr_rate: float | None = None,
):
    current_step = float(current_step)
    num_warmup_steps = float(num_warmup_steps)
    num_training_steps = float(num_training_steps)

    if current_step < num_warmup_steps:
        if warmup_lr_rate is None:
            return (current_step + 1.0) / max(1.0, num_warmup_steps)
        else:
            warmup_lr_rate = float(warmup_lr_rate)
            return warmup_lr_rate + (1.0 - warmup_lr_rate) * (current_step) / (
                max(1, num_warmup_steps - 1)
            )
    progress = (current_step - num_warmup_steps + 1.0) / (
        max(1.0, num_training_steps - num_warmup_steps)
    )
    factor = 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * progress))
    factor = factor * (1 - min_lr_rate) + min_lr_rate
    return max(0, factor)


def _get_wsd_scheduler_lambda(
    current_step: int,
    *,
    num_warmup_steps: int,
    num_stable_steps: int,
    num_decay_steps: int,
    warmup_type: str,
    decay_type: str,
    min_lr_ratio: float,
    num_cycles: float,
):
    if current_step < num_warmup_steps:
        progress = float(current_step) / float(max(1, num_warmup_steps))
        if warmup_type == "linear":
            factor = progress
        elif warmup_type == "cosine":
            factor = 0.5 * (1.0 - math.cos(math.pi * progress))
        elif warmup_type == "1-sqrt":
            factor = 1.0 - math.sqrt(1.0 - progress)
        factor = factor * (1.0 - min_lr_ratio) + min_lr_ratio
        return max(0.0, factor)

    if current_step < num_warmup_steps + num_stable_steps:
        return 1.0

    if current_step < num_warmup_steps + num_stable_steps + num_decay_steps:
        progress = float(current_step - num_warmup_steps - num_stable_steps) / float(
            max(1, num_decay_steps)
        )
        if decay_type == "linear":
            factor = 1.0 - progress
        elif decay_type == "cosine":
            factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
        elif decay_type == "1-sqrt":
            factor = 1.0 - math.sqrt(progress)
        factor = factor * (1.0 - min_lr_ratio) + min_lr_ratio
        return max(0.0, factor)
    return min_lr_ratio


# --- The get_* constructors, minus the optimizer: each returns the lr_lambda (step -> factor) ---
# ``lr_init`` (optimizer.defaults["lr"]) is the peak learning rate, called ``peak_value`` here.
# Argument checks are copied from upstream (same exception type and condition).


def get_constant_schedule() -> Callable[[int], float]:
    return _get_constant_lambda


def get_constant_schedule_with_warmup(num_warmup_steps: int) -> Callable[[int], float]:
    return partial(_get_constant_schedule_with_warmup_lr_lambda, num_warmup_steps=num_warmup_steps)


def get_linear_schedule_with_warmup(num_warmup_steps, num_training_steps) -> Callable[[int], float]:
    return partial(
        _get_linear_schedule_with_warmup_lr_lambda,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
    )


def get_cosine_schedule_with_warmup(
    num_warmup_steps: int, num_training_steps: int, num_cycles: float = 0.5
) -> Callable[[int], float]:
    return partial(
        _get_cosine_schedule_with_warmup_lr_lambda,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        num_cycles=num_cycles,
    )


def get_cosine_with_hard_restarts_schedule_with_warmup(
    num_warmup_steps: int, num_training_steps: int, num_cycles: int = 1
) -> Callable[[int], float]:
    return partial(
        _get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        num_cycles=num_cycles,
    )


def get_polynomial_decay_schedule_with_warmup(
    peak_value, num_warmup_steps, num_training_steps, lr_end=1e-7, power=1.0
) -> Callable[[int], float]:
    lr_init = peak_value
    if not (lr_init > lr_end):
        raise ValueError(f"lr_end ({lr_end}) must be smaller than initial lr ({lr_init})")
    return partial(
        _get_polynomial_decay_schedule_with_warmup_lr_lambda,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        lr_end=lr_end,
        power=power,
        lr_init=lr_init,
    )


def get_inverse_sqrt_schedule(
    num_warmup_steps: int, timescale: int | None = None
) -> Callable[[int], float]:
    # Note (upstream): adapted from google-research/big_vision utils.py#L930.
    if timescale is None:
        timescale = num_warmup_steps or 10_000
    return partial(
        _get_inverse_sqrt_schedule_lr_lambda, num_warmup_steps=num_warmup_steps, timescale=timescale
    )


def get_cosine_with_min_lr_schedule_with_warmup(
    peak_value: float,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
) -> Callable[[int], float]:
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError("Only one of min_lr or min_lr_rate should be set")
    elif min_lr is not None:
        min_lr_rate = min_lr / peak_value
    elif min_lr_rate is None:
        raise ValueError(
            "One of min_lr or min_lr_rate should be set through the `lr_scheduler_kwargs`"
        )
    return partial(
        _get_cosine_schedule_with_warmup_lr_lambda_min_lr,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        num_cycles=num_cycles,
        min_lr_rate=min_lr_rate,
    )


def get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    peak_value: float,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
    warmup_lr_rate: float | None = None,
) -> Callable[[int], float]:
    """SchedulerType "cosine_warmup_with_min_lr" (not part of warmup_jax's API per api.md)."""
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError("Only one of min_lr or min_lr_rate should be set")
    elif min_lr is not None:
        min_lr_rate = min_lr / peak_value
    elif min_lr_rate is None:
        raise ValueError(
            "One of min_lr or min_lr_rate should be set through the `lr_scheduler_kwargs`"
        )
    return partial(
        _get_cosine_with_min_lr_schedule_with_warmup_lr_rate_lambda,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        num_cycles=num_cycles,
        min_lr_rate=min_lr_rate,
        warmup_lr_rate=warmup_lr_rate,
    )


def get_wsd_schedule(
    num_warmup_steps: int,
    num_decay_steps: int,
    num_training_steps: int | None = None,
    num_stable_steps: int | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio: float = 0,
    num_cycles: float = 0.5,
) -> Callable[[int], float]:
    if num_training_steps is None and num_stable_steps is None:
        raise ValueError("Either num_training_steps or num_stable_steps must be specified.")

    if num_training_steps is not None and num_stable_steps is not None:
        warnings.warn(
            "Both num_training_steps and num_stable_steps are specified. num_stable_steps will be used."
        )

    if warmup_type not in ["linear", "cosine", "1-sqrt"]:
        raise ValueError(
            f"Unknown warmup type: {warmup_type}, expected 'linear', 'cosine' or '1-sqrt'"
        )

    if decay_type not in ["linear", "cosine", "1-sqrt"]:
        raise ValueError(
            f"Unknown decay type: {decay_type}, expected 'linear', 'cosine' or '1-sqrt'"
        )

    if num_stable_steps is None:
        num_stable_steps = num_training_steps - num_warmup_steps - num_decay_steps

    return partial(
        _get_wsd_scheduler_lambda,
        num_warmup_steps=num_warmup_steps,
        num_stable_steps=num_stable_steps,
        num_decay_steps=num_decay_steps,
        warmup_type=warmup_type,
        decay_type=decay_type,
        min_lr_ratio=min_lr_ratio,
        num_cycles=num_cycles,
    )


_NAME_TO_REFERENCE = {
    "linear": get_linear_schedule_with_warmup,
    "cosine": get_cosine_schedule_with_warmup,
    "cosine_with_restarts": get_cosine_with_hard_restarts_schedule_with_warmup,
    "polynomial": get_polynomial_decay_schedule_with_warmup,
    "constant": get_constant_schedule,
    "constant_with_warmup": get_constant_schedule_with_warmup,
    "inverse_sqrt": get_inverse_sqrt_schedule,
    "cosine_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup,
    "cosine_warmup_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup_lr_rate,
    "warmup_stable_decay": get_wsd_schedule,
}
# The reference get_* functions above that, like upstream, read optimizer.defaults["lr"].
_NEEDS_PEAK = ("polynomial", "cosine_with_min_lr", "cosine_warmup_with_min_lr")


def get_scheduler(
    name: str,
    peak_value: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: dict | None = None,
    *,
    inverse_sqrt_takes_kwargs: bool = True,
) -> Callable[[int], float]:
    """transformers.get_scheduler's dispatch, returning the lr_lambda.

    ``inverse_sqrt_takes_kwargs``: the newest main passes ``scheduler_specific_kwargs`` on to
    ``get_inverse_sqrt_schedule`` (so ``timescale`` can be set); earlier releases (e.g. the stored
    ``005edacb``) call ``schedule_func(optimizer, num_warmup_steps=num_warmup_steps)`` and drop them.
    """
    if name not in _NAME_TO_REFERENCE:
        if name in METRIC_DRIVEN_SCHEDULER_TYPES:
            raise NotImplementedError(f"{name} is driven by metrics, not by the step")
        raise ValueError(f"{name!r} is not a valid SchedulerType")
    schedule_func = _NAME_TO_REFERENCE[name]
    if name in _NEEDS_PEAK:
        schedule_func = partial(schedule_func, peak_value)

    if name == "constant":
        return schedule_func()

    if scheduler_specific_kwargs is None:
        scheduler_specific_kwargs = {}

    # All other schedulers require `num_warmup_steps`
    if num_warmup_steps is None:
        raise ValueError(f"{name} requires `num_warmup_steps`, please provide that argument.")

    if name == "constant_with_warmup":
        return schedule_func(num_warmup_steps=num_warmup_steps)

    if name == "inverse_sqrt":
        if inverse_sqrt_takes_kwargs:
            return schedule_func(num_warmup_steps=num_warmup_steps, **scheduler_specific_kwargs)
        return schedule_func(num_warmup_steps=num_warmup_steps)

    # wsd scheduler requires either num_training_steps or num_stable_steps
    if name == "warmup_stable_decay":
        return schedule_func(
            num_warmup_steps=num_warmup_steps,
            num_training_steps=num_training_steps,
            **scheduler_specific_kwargs,
        )

    # All other schedulers require `num_training_steps`
    if num_training_steps is None:
        raise ValueError(f"{name} requires `num_training_steps`, please provide that argument.")

    return schedule_func(
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        **scheduler_specific_kwargs,
    )


# ---------------------------------------------------------------------------------------------
# Tony-Y/pytorch_warmup
# ---------------------------------------------------------------------------------------------


# pytorch_warmup/base.py : LinearWarmup.warmup_factor
def linear_warmup_factor(step, warmup_period):
    return min(1.0, (step + 1) / warmup_period)


# pytorch_warmup/base.py : ExponentialWarmup.warmup_factor
def exponential_warmup_factor(step, warmup_period):
    return 1.0 - math.exp(-(step + 1) / warmup_period)


# pytorch_warmup/untuned.py : UntunedLinearWarmup.__init__.warmup_period_fn
def untuned_linear_warmup_period(beta2):
    return int(2.0 / (1.0 - beta2))


# pytorch_warmup/untuned.py : UntunedExponentialWarmup.__init__.warmup_period_fn
def untuned_exponential_warmup_period(beta2):
    return int(1.0 / (1.0 - beta2))


# pytorch_warmup/radam.py : rho_inf_fn
def rho_inf_fn(beta2):
    return 2.0 / (1 - beta2) - 1


# pytorch_warmup/radam.py : rho_fn
def rho_fn(t, beta2, rho_inf):
    b2t = beta2**t
    rho_t = rho_inf - 2 * t * b2t / (1 - b2t)
    return rho_t


# pytorch_warmup/radam.py : get_offset
def get_offset(beta2, rho_inf):
    if not beta2 > 0.6:
        raise ValueError("beta2 ({}) must be greater than 0.6".format(beta2))
    offset = 1
    while True:
        if rho_fn(offset, beta2, rho_inf) > 4:
            return offset
        offset += 1


# pytorch_warmup/radam.py : RAdamWarmup.warmup_factor
def radam_warmup_factor(step, beta2, rho_inf, offset):
    rho = rho_fn(step + offset, beta2, rho_inf)
    numerator = (rho - 4) * (rho - 2) * rho_inf
    denominator = (rho_inf - 4) * (rho_inf - 2) * rho
    return math.sqrt(numerator / denominator)


# The three classes' per-update factors (update k from 0, see the module docstring).
def untuned_linear_factor(beta2: float) -> Callable[[int], float]:
    """UntunedLinearWarmup: LinearWarmup with warmup_period = int(2 / (1 - beta2))."""
    return partial(linear_warmup_factor, warmup_period=untuned_linear_warmup_period(beta2))


def untuned_exponential_factor(beta2: float) -> Callable[[int], float]:
    """UntunedExponentialWarmup: ExponentialWarmup with warmup_period = int(1 / (1 - beta2))."""
    return partial(
        exponential_warmup_factor, warmup_period=untuned_exponential_warmup_period(beta2)
    )


def radam_factor(beta2: float) -> Callable[[int], float]:
    """RAdamWarmup: params beta2, rho_inf = rho_inf_fn(beta2), offset = get_offset(**params)."""
    params = dict(beta2=beta2, rho_inf=rho_inf_fn(beta2))
    params["offset"] = get_offset(**params)
    return partial(radam_warmup_factor, **params)


# ---------------------------------------------------------------------------------------------
# Helpers for the tests
# ---------------------------------------------------------------------------------------------


def values(peak_value: float, factor: Callable[[int], float], steps) -> list[float]:
    """``peak_value * factor(step)`` in float64 for every step (LambdaLR's ``base_lr * lambda``)."""
    return [peak_value * factor(int(s)) for s in steps]

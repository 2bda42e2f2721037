"""The run's schedules, from its ``RunConfig`` (imports warmup_jax, not flax): the learning rate's,
those of the optimizer's other hyperparameters (``--hparam``), and the plateau's settings."""

from __future__ import annotations

import math
from typing import Any

import warmup_jax
from train.config import RunConfig
from warmup_jax.expressions import looks_like_expression


def _required_defaults(config: RunConfig) -> dict[str, Any]:
    """Values for the arguments that two schedules require and transformers leaves to the user."""
    if config.schedule == "cosine_with_min_lr" and not {"min_lr", "min_lr_rate"} & set(
        config.schedule_kwargs
    ):
        return {"min_lr_rate": 0.1}
    if config.schedule == "warmup_stable_decay":
        return {"num_decay_steps": math.ceil(0.2 * config.steps)}
    return {}


# torch's OneCycleLR, which also cycles Adam's b1 (--hparam b1=... overrides that).
ONE_CYCLE = "one_cycle"


def _variables(config: RunConfig) -> dict[str, Any]:
    """The names a schedule expression may use for the run's values."""
    return {
        "peak": config.effective_peak_lr,
        "steps": config.steps,
        "warmup_steps": config.num_warmup_steps,
        "decay_steps": config.steps - config.num_warmup_steps,
    }


def _one_cycle_kwargs(config: RunConfig) -> dict[str, Any]:
    """``--schedule_kwargs`` for ``one_cycle``: torch's OneCycleLR arguments (pct_start, ...)."""
    return dict(config.schedule_kwargs)


def make_hyperparams(
    config: RunConfig, schedule: warmup_jax.Schedule, mask: Any = None
) -> warmup_jax.HyperparamSchedules | None:
    """AdamW's hyperparameters with their schedules (``--hparam NAME=EXPR``), or None when every
    one but the learning rate is a constant (the plain optimizer, as before ``--hparam``).

    ``--schedule one_cycle`` puts ``b1`` on torch's OneCycleLR momentum cycle unless ``--hparam``
    gives b1. A name AdamW does not take is a ``ValueError`` naming the ones it takes.
    ``mask``: AdamW's weight-decay mask (``--no_decay``), passed on as it is.
    """
    scheduled = {
        name: warmup_jax.parse(text, _variables(config))
        for name, text in config.hyperparams.items()
    }
    if "learning_rate" in scheduled:
        raise ValueError(
            "--hparam learning_rate: the learning rate's schedule is --schedule (or "
            "--peak_lr and the warmup flags)"
        )
    if config.schedule == ONE_CYCLE and "b1" not in scheduled:
        scheduled["b1"] = warmup_jax.one_cycle_momentum(
            config.effective_peak_lr, config.steps, **_one_cycle_kwargs(config)
        )
    if not scheduled:
        return None
    constants = {"b1": config.b1, "b2": config.b2, "weight_decay": config.weight_decay}
    if mask is not None:
        constants["mask"] = mask
    return warmup_jax.hyperparam_schedules(
        "adamw", learning_rate=schedule, **{**constants, **scheduled}
    )


def plateau_settings(config: RunConfig) -> warmup_jax.PlateauSettings | None:
    """``--plateau``'s settings, None without it."""
    if config.plateau is None:
        return None
    return warmup_jax.PlateauSettings.parse(config.plateau)


def make_schedule(config: RunConfig) -> warmup_jax.Schedule:
    """The run's learning-rate schedule: ``schedule_by_name(config.schedule, ...)``.

    ``config.schedule_kwargs`` (``--schedule_kwargs``) add or override arguments, as transformers'
    ``lr_scheduler_kwargs`` do; "cosine_with_min_lr" defaults to ``min_lr_rate=0.1`` and
    "warmup_stable_decay" to a decay over the last 20% of the steps.
    ``--no_lr_schedule`` gives ``constant_schedule(peak_lr)``, the no-warmup baseline.
    A ``--schedule`` that is a schedule expression (``warmup_jax.parse``) is the learning rate
    itself, with the names ``peak``, ``steps``, ``warmup_steps`` and ``decay_steps`` defined.
    The peak is ``config.effective_peak_lr`` (``--peak_lr``, scaled by ``--scale_lr``).
    """
    peak = config.effective_peak_lr
    if config.no_lr_schedule:
        return warmup_jax.constant_schedule(peak)
    if config.schedule == ONE_CYCLE:
        return warmup_jax.one_cycle_lr(peak, config.steps, **_one_cycle_kwargs(config))
    if looks_like_expression(config.schedule):
        return warmup_jax.parse(config.schedule, _variables(config))
    kwargs: dict[str, Any] = dict(
        num_warmup_steps=config.num_warmup_steps,
        num_training_steps=config.steps,
        warmup_type=config.warmup_type,
        warmup_one_step_ahead=config.warmup_one_step_ahead,
    )
    kwargs.update(_required_defaults(config))
    kwargs.update(config.schedule_kwargs)
    return warmup_jax.schedule_by_name(config.schedule, peak, **kwargs)

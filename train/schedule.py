"""The run's learning-rate schedule, from its ``RunConfig`` (imports warmup_jax, not flax)."""

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
    if looks_like_expression(config.schedule):
        variables = {
            "peak": peak,
            "steps": config.steps,
            "warmup_steps": config.num_warmup_steps,
            "decay_steps": config.steps - config.num_warmup_steps,
        }
        return warmup_jax.parse(config.schedule, variables)
    kwargs: dict[str, Any] = dict(
        num_warmup_steps=config.num_warmup_steps,
        num_training_steps=config.steps,
        warmup_type=config.warmup_type,
        warmup_one_step_ahead=config.warmup_one_step_ahead,
    )
    kwargs.update(_required_defaults(config))
    kwargs.update(config.schedule_kwargs)
    return warmup_jax.schedule_by_name(config.schedule, peak, **kwargs)

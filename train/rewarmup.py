"""Continuing a run with a fresh warmup: the schedule of ``--rewarmup_steps``.

A finished run (or one in the stable phase of a warmup-stable-decay schedule) can train on with a
new warmup: from step ``S`` (``--rewarmup_from``, by default the newest checkpoint's step) the
learning rate climbs from what the run had there to ``--rewarmup_peak_lr`` over ``--rewarmup_steps``,
then decays until the new ``--steps``. The steps before ``S`` keep the schedule stored in the
checkpoint, so the new schedule agrees with everything already trained; it is stored with every
later checkpoint, which is how a later resume with the same flags finds the same schedule again.
"""

from __future__ import annotations

import pathlib
from typing import Any

import warmup_jax
from train.checkpoint import Checkpoints
from train.config import ConfigError, RunConfig

# Decay shapes the new phase can take after its warmup, by --schedule name; others decay as a cosine.
_DECAYS = {"linear": warmup_jax.linear_decay, "cosine": warmup_jax.cosine_decay}
_HOLDS = ("constant", "constant_with_warmup", "warmup_stable_decay")


def rewarmup_schedule(config: RunConfig, workdir: pathlib.Path) -> warmup_jax.Schedule:
    """The schedule of a run continued with ``--rewarmup_steps`` in ``workdir``.

    Raises:
      ConfigError: when there is no checkpoint to continue, the rewarmup would start after the
        newest checkpoint, or ``--steps`` leaves no room for the new warmup.
    """
    with Checkpoints(workdir, config.keep_checkpoints, read_only=True) as checkpoints:
        latest, saved_meta = None, None
        # Newest first; a damaged checkpoint is skipped here and set aside later by the resume.
        for step in sorted(checkpoints.all_steps(), reverse=True):
            try:
                latest, saved_meta = step, checkpoints.read_meta(step)
                break
            except Exception:  # noqa: BLE001  (orbax raises many kinds for a damaged folder)
                continue
        if saved_meta is None:
            raise ConfigError(
                f"--rewarmup_steps continues an earlier run, but {workdir} holds no readable "
                "checkpoint; train without it first"
            )
        saved = warmup_jax.from_config(saved_meta["schedule"])
    same_rewarmup = saved.name == "rewarmup" and config.rewarmup_from in (
        None,
        saved.arguments["at_step"],
    )
    if same_rewarmup:  # A resume of a run that was already continued: keep its starting point.
        previous, at_step = saved.arguments["schedule"], saved.arguments["at_step"]
    else:
        previous, at_step = saved, config.rewarmup_from or latest
    if at_step > latest:
        raise ConfigError(
            f"--rewarmup_from {at_step} is after the newest checkpoint (step {latest}): the run "
            "has not been trained that far"
        )
    decay_steps = config.steps - at_step - config.rewarmup_steps
    if decay_steps < 0:
        raise ConfigError(
            f"--steps ({config.steps}) must be at least the rewarmup's start ({at_step}) plus "
            f"--rewarmup_steps ({config.rewarmup_steps}): raise --steps to train on"
        )
    peak = config.rewarmup_peak_lr or config.effective_peak_lr
    if config.schedule in _HOLDS or decay_steps == 0:
        decay = None  # hold the new peak (a stable phase)
    else:
        decay = _DECAYS.get(config.schedule, warmup_jax.cosine_decay)(peak, decay_steps)
    try:
        return warmup_jax.rewarmup(
            previous, at_step, peak, config.rewarmup_steps, decay, config.warmup_type
        )
    except ValueError as error:
        raise ConfigError(f"cannot rewarm up: {error}") from None


def accept_rewarmup(saved_meta: dict[str, Any], schedule: warmup_jax.Schedule) -> dict[str, Any]:
    """``saved_meta`` as the resume check should see it when ``schedule`` continues that run.

    Where the checkpoint's schedule is exactly the one ``schedule`` rewarms up from, the change
    is the one asked for: the check then compares against ``schedule`` itself, and every other
    setting is still checked as usual.
    """
    if schedule.name != "rewarmup":
        return saved_meta
    base = schedule.arguments["schedule"]
    if warmup_jax.from_config(saved_meta["schedule"]) != base:
        return saved_meta
    return {**saved_meta, "schedule": schedule.to_config()}

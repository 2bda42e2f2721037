"""What a checkpoint records about the run that wrote it, and the check that a resume is exact.

Each checkpoint holds, beside the state, a JSON ``meta``: the schedule's ``to_config()``, the run
config and the data fingerprint. Batches are a pure function of (seed, step), so a run that
matches all three continues bit-identically; ``check_resume`` names every setting that differs.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import warmup_jax
from train.config import BEFORE_THE_SETTING, PRESET, RESUME_KEYS, ConfigError, RunConfig

_MISSING = "<absent>"
META_KEYS = ("schedule", "config", "data_fingerprint")


class ResumeError(ConfigError):
    """The checkpoint in the workdir belongs to a different run than the one asked for."""


def make_meta(
    config: RunConfig,
    schedule_config: dict[str, Any],
    data_fingerprint: str,
    hyperparams: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON stored beside the state: what a later run must match to resume.

    ``hyperparams``: the other scheduled hyperparameters (``--hparam``), ``{name: to_config()}``;
    left out when there are none.
    """
    meta = {
        "schedule": schedule_config,
        "config": config.to_dict(),
        "data_fingerprint": data_fingerprint,
    }
    if hyperparams:
        meta["hyperparams"] = hyperparams
    return meta


def meta_problem(meta: Any) -> str | None:
    """What is wrong with a checkpoint's meta (edited by hand, or from another program), or
    None when it has the form ``make_meta`` writes."""
    if not isinstance(meta, dict):
        return f"it is a JSON {type(meta).__name__}, not an object"
    missing = [key for key in META_KEYS if key not in meta]
    if missing:
        return f"it has no {', '.join(missing)}"
    if not isinstance(meta["config"], dict) or not isinstance(meta["schedule"], dict):
        return "its config and schedule must be JSON objects"
    if not isinstance(meta["data_fingerprint"], str):
        return "its data_fingerprint must be a string"
    if not isinstance(meta.get("schedule_changes", []), list):
        return "its schedule_changes must be a list"
    return None


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [1, {"c": 2}]}}`` -> ``{"a.b[0]": 1, "a.b[1].c": 2}``."""
    if isinstance(d, list) and d:
        out: dict[str, Any] = {}
        for i, v in enumerate(d):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    if not isinstance(d, dict) or not d:
        return {prefix: d}
    out = {}
    for k, v in d.items():
        out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    # Through JSON first, so a tuple now and the list it was saved as compare equal.
    a, b = _flatten(json.loads(json.dumps(saved))), _flatten(json.loads(json.dumps(now)))
    return [
        f"  {k}: {a.get(k, _MISSING)!r} in the checkpoint, {b.get(k, _MISSING)!r} now"
        for k in sorted(set(a) | set(b))
        if a.get(k, _MISSING) != b.get(k, _MISSING)
    ]


def _current_form(config: Any) -> Any:
    """A checkpoint's schedule config as today's ``to_config()`` writes it: a config saved by
    warmup_jax 0.1.0, with its older argument names, compares equal to the same schedule now."""
    try:
        return warmup_jax.from_config(config).to_config()
    except (ValueError, TypeError):
        return config  # unreadable: compared as it is, so the difference is reported


def check_resume(
    saved: dict[str, Any],
    now: dict[str, Any],
    where: str,
    allow_schedule_change: bool = False,
) -> list[str]:
    """Raises ``ResumeError`` listing every difference that would make a resume inexact.

    ``saved`` and ``now`` are ``make_meta`` dicts; ``where`` names the checkpoint in the message.
    Settings that do not change the numbers (logging cadence, workdir, steps per call) may change,
    and so may ``batch_size`` when the schedule follows the tokens seen (``clock_batch_size``).
    With ``allow_schedule_change`` (``--allow_schedule_change``) a changed schedule is accepted;
    the returned lines say what changed in it (empty when nothing did).
    """
    problem = meta_problem(saved)
    if problem is not None:
        raise ResumeError(
            f"cannot resume from {where}: its meta (the settings it was trained with) is not "
            f"what this harness writes: {problem}. Restore the file, or pass a new --workdir."
        )
    problems = []
    schedule_changes = _differences(_current_form(saved["schedule"]), now["schedule"])
    if schedule_changes and not allow_schedule_change:
        problems.append(
            "the learning-rate schedule changed:\n"
            + "\n".join(schedule_changes)
            + "\n(to change it on purpose, add --allow_schedule_change)"
        )
    saved_hyperparams = saved.get("hyperparams") or {}
    now_hyperparams = now.get("hyperparams") or {}
    if not isinstance(saved_hyperparams, dict) or set(saved_hyperparams) != set(now_hyperparams):
        # Another set of scheduled names is another optimizer state: it cannot be restored.
        names = sorted(saved_hyperparams) if isinstance(saved_hyperparams, dict) else "?"
        problems.append(
            f"the scheduled hyperparameters (--hparam) changed: {names or 'none'} in the "
            f"checkpoint, {sorted(now_hyperparams) or 'none'} now"
        )
    else:
        changes = _differences(
            {k: _current_form(v) for k, v in saved_hyperparams.items()}, now_hyperparams
        )
        if changes and not allow_schedule_change:
            problems.append(
                "the schedule of a hyperparameter (--hparam) changed:\n"
                + "\n".join(changes)
                + "\n(to change it on purpose, add --allow_schedule_change)"
            )
        schedule_changes += [f"{line} (--hparam)" for line in changes]
    saved_config = dict(saved["config"])
    if "warmup" in saved_config and "warmup_type" not in saved_config:  # 0.1.0's name
        saved_config["warmup_type"] = saved_config.pop("warmup")
    # A setting added since the checkpoint was written has, there, the value it had before.
    defaults = {
        f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()
        for f in dataclasses.fields(RunConfig)
        if f.default is not PRESET
        and (f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING)
    }
    defaults.update(BEFORE_THE_SETTING)
    keys = RESUME_KEYS
    clock = now["config"].get("clock_batch_size")
    if clock is not None and saved_config.get("clock_batch_size") == clock:
        # The schedule follows the tokens seen (train/token_clock.py): the batch may change.
        keys = tuple(k for k in keys if k != "batch_size")
    changed = _differences(
        {k: saved_config.get(k, defaults.get(k, _MISSING)) for k in keys},
        {k: now["config"].get(k, _MISSING) for k in keys},
    )
    if changed:
        problems.append("run settings changed:\n" + "\n".join(changed))
        if clock is None and any(line.startswith("  batch_size:") for line in changed):
            problems.append(
                "--batch_size may change on a resume only when the schedule is in tokens "
                "(--steps and the warmup as durations of data, e.g. --steps 2e6tok "
                "--warmup_steps 10%), so the learning rate can follow the tokens seen"
            )
    if saved["data_fingerprint"] != now["data_fingerprint"]:
        problems.append(
            "the training data changed (fingerprint "
            f"{saved['data_fingerprint']} in the checkpoint, {now['data_fingerprint']} now)"
        )
    if problems:
        raise ResumeError(
            f"refusing to resume from {where}: "
            + "; ".join(problems)
            + "\nRerun with the original flags to continue this run, "
            "or pass a new --workdir to start another."
        )
    return schedule_changes

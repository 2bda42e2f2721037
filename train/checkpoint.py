"""Orbax checkpoints under ``WORKDIR/checkpoints/<step>/``, and the check that a resume is exact.

Each checkpoint holds the ``TrainState`` (parameters, optimizer state, step) and a JSON ``meta``
item: the schedule's ``to_config()``, the run config and the data fingerprint. Batches are a pure
function of (seed, step), so nothing else is needed to continue bit-identically.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import jax
import orbax.checkpoint as ocp

from train.config import RESUME_KEYS, ConfigError, RunConfig
from train.state import TrainState

_MISSING = "<absent>"


class ResumeError(ConfigError):
    """The checkpoint in the workdir belongs to a different run than the one asked for."""


def make_meta(
    config: RunConfig, schedule_config: dict[str, Any], data_fingerprint: str
) -> dict[str, Any]:
    """The JSON stored beside the state: what a later run must match to resume."""
    return {
        "schedule": schedule_config,
        "config": config.to_dict(),
        "data_fingerprint": data_fingerprint,
    }


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, dict):
        return {prefix: d}
    out: dict[str, Any] = {}
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


def check_resume(saved: dict[str, Any], now: dict[str, Any], where: str) -> None:
    """Raises ``ResumeError`` listing every difference that would make a resume inexact.

    ``saved`` and ``now`` are ``make_meta`` dicts; ``where`` names the checkpoint in the message.
    Settings that do not change the numbers (logging cadence, workdir, steps per call) may change.
    """
    problems = []
    changed = _differences(saved["schedule"], now["schedule"])
    if changed:
        problems.append("the learning-rate schedule changed:\n" + "\n".join(changed))
    changed = _differences(
        {k: saved["config"].get(k, _MISSING) for k in RESUME_KEYS},
        {k: now["config"].get(k, _MISSING) for k in RESUME_KEYS},
    )
    if changed:
        problems.append("run settings changed:\n" + "\n".join(changed))
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


class Checkpoints:
    """An orbax ``CheckpointManager`` on ``WORKDIR/checkpoints``, keeping the newest ``keep``."""

    def __init__(self, workdir: pathlib.Path, keep: int) -> None:
        self.directory = workdir.resolve() / "checkpoints"
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True),
        )

    def latest_step(self) -> int | None:
        """The step of the newest complete checkpoint, None when there is none."""
        return self._manager.latest_step()

    def save(self, step: int, state: TrainState, meta: dict[str, Any]) -> None:
        """Starts saving ``state`` and ``meta`` as checkpoint ``step`` (ends in the background)."""
        self._manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)
            ),
        )

    def read_meta(self, step: int) -> dict[str, Any]:
        """The ``meta`` of checkpoint ``step``, without loading the state."""
        return self._manager.restore(
            step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())
        ).meta

    def restore(self, step: int, like: TrainState) -> TrainState:
        """Checkpoint ``step``'s state, with the shapes, dtypes and shardings of ``like``."""
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
        restored = self._manager.restore(
            step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract))
        )
        return restored.state

    def close(self) -> None:
        """Waits for pending saves, then releases the manager."""
        self._manager.wait_until_finished()
        self._manager.close()

    def __enter__(self) -> Checkpoints:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

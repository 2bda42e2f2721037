"""Orbax checkpoints under ``WORKDIR/checkpoints/<step>/``, and the check that a resume is exact.

Each checkpoint holds the ``TrainState`` (parameters, optimizer state, step) and a JSON ``meta``
item: the schedule's ``to_config()``, the run config and the data fingerprint. Batches are a pure
function of (seed, step), so nothing else is needed to continue bit-identically.

Orbax's own options do the bookkeeping: each save is written into a temporary folder and renamed
when complete (a run killed mid-save leaves only that folder, which the next run's manager cleans
up, ``cleanup_tmp_directories``), saves run in the background (``enable_async_checkpointing``),
and the newest ``keep`` are kept (``preservation_policy=LatestN``), older ones deleted only after
a newer one is committed. What orbax does not do is here: a checkpoint damaged later (a truncated
or missing file) is found on resume, moved aside with what failed, and the run continues from the
newest good one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pathlib
import traceback
from collections.abc import Callable
from typing import Any

import jax
import orbax.checkpoint as ocp
from jax.experimental import multihost_utils

from train import faults
from train.config import ConfigError
from train.resume_check import ResumeError, check_resume, meta_problem
from train.state import TrainState

# Where damaged checkpoints are moved, beside checkpoints/.
DAMAGED_DIR = "damaged_checkpoints"
# The full error of a failed save, beside checkpoints/.
WRITE_ERROR_FILE = "checkpoint_write_error.txt"
log = logging.getLogger(__name__)


class DamagedCheckpointsError(ConfigError):
    """Every checkpoint in the workdir is damaged: there is nothing to resume from."""


class Checkpoints:
    """Orbax checkpoints in ``WORKDIR/checkpoints``, the newest ``keep`` kept (by orbax).

    Create it only while holding the workdir's lock (or ``read_only``): orbax deletes leftover
    temporary folders when it starts, and another run's save in progress looks just the same. A save that cannot
    be written (disk full, no permission) raises ``WriteError``: from ``save`` itself when the
    folder refuses a test write, else (saves finish in the background) from the first ``poll``,
    ``save`` or ``close`` after the failure.
    """

    def __init__(self, workdir: pathlib.Path, keep: int, *, read_only: bool = False) -> None:
        self.workdir = workdir.resolve()
        self.directory = self.workdir / "checkpoints"
        self._pending: int | None = None
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(
                preservation_policy=ocp.checkpoint_managers.LatestN(keep),
                cleanup_tmp_directories=not read_only,  # without the lock, leave them be
                enable_async_checkpointing=True,
                create=False,
                read_only=read_only,
            ),
        )

    def latest_step(self) -> int | None:
        """The step of the newest complete checkpoint, None when there is none."""
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        """The steps of all complete checkpoints, oldest first."""
        return sorted(self._manager.all_steps())

    def save(self, step: int, state: TrainState, meta: dict[str, Any]) -> None:
        """Starts saving ``state`` and ``meta`` as checkpoint ``step`` (ends in the background).

        First waits for the previous save and raises ``WriteError`` if it failed.
        """
        self.wait()
        self._check_writable(step)
        try:
            self._manager.save(
                step,
                args=ocp.args.Composite(
                    state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)
                ),
                force=True,  # Orbax would silently skip a step older than one it listed.
            )
        except Exception as e:  # noqa: BLE001  (orbax wraps OSErrors in several types)
            raise self._write_error(step, e) from e
        self._pending = step

    def poll(self) -> None:
        """If the save in progress has ended, checks it (``wait``) now, so a failed save stops
        the run at the next log interval. Never blocks; with several processes it does nothing
        (checking takes all of them at the same time)."""
        if self._pending is None or jax.process_count() > 1:
            return
        if not self._manager.is_saving_in_progress():
            self.wait()

    def _check_writable(self, step: int) -> None:
        """Writes and deletes a small file first: orbax reports a folder it cannot create only
        after minutes of waiting in its threads."""
        probe = self.directory / f".write-test-{os.getpid()}"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(bytes(4096))
            probe.unlink()
        except OSError as e:
            with contextlib.suppress(OSError):
                probe.unlink(missing_ok=True)
            raise self._write_error(step, e) from e

    def wait(self) -> None:
        """Waits for the save in progress; raises ``WriteError`` when it failed (the older
        checkpoints are then untouched). A save that ended is read back: its meta must parse."""
        if self._pending is None:
            return
        step, self._pending = self._pending, None
        try:
            self._manager.wait_until_finished()
            self._manager.check_for_errors()
            self._manager.reload()
            if step not in self._manager.all_steps():
                raise FileNotFoundError(f"{self.directory / str(step)} was not committed")
            self.read_meta(step)
        except Exception as e:  # noqa: BLE001
            raise self._write_error(step, e) from e

    def _write_error(self, step: int, error: BaseException) -> faults.WriteError:
        self._manager.reload()
        older = [s for s in self.all_steps() if s < step]
        if not older:
            kept = "there is no older checkpoint"
        elif len(older) == 1:
            kept = f"the older checkpoint (step {older[0]}) is intact"
        else:
            kept = f"the older checkpoints (steps {', '.join(map(str, older))}) are intact"
        report = self.workdir / WRITE_ERROR_FILE
        try:  # Best effort: the disk may be full.
            report.write_text("".join(traceback.format_exception(error)))
            more = f" (the whole error: {report})"
        except OSError:
            more = ""
        return faults.WriteError(
            f"could not write the checkpoint of step {step} to {self.directory}: "
            f"{faults.reason(error)}{more}. Stopped; {kept}. Free some disk space or make the "
            "workdir writable, then run the same command again to continue."
        )

    def read_meta(self, step: int) -> Any:
        """The ``meta`` of checkpoint ``step``, without loading the state."""
        return self._manager.restore(
            step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())
        ).meta

    def saved_setting(self, name: str) -> Any:
        """Run setting ``name`` as the newest checkpoint whose meta reads back holds it (None
        without one): what a resume must know before it can build its schedule."""
        for step in reversed(self.all_steps()):
            try:
                config = self.read_meta(step)["config"]
            except Exception:  # noqa: BLE001, S112  (damaged: resume reports it)
                continue
            return config.get(name) if isinstance(config, dict) else None
        return None

    def restore(self, step: int, like: TrainState) -> TrainState:
        """Checkpoint ``step``'s state, with the shapes, dtypes and shardings of ``like``."""
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
        restored = self._manager.restore(
            step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract))
        )
        return restored.state

    def resume(
        self,
        like: TrainState,
        meta: dict[str, Any],
        allow_schedule_change: bool = False,
        adjust_saved: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> tuple[int | None, TrainState, dict[str, Any]]:
        """``(step, state, meta)`` to continue from: the newest checkpoint that reads back whole,
        or ``(None, like, meta)`` in a workdir without one.

        Each checkpoint's meta is checked against ``meta`` (``check_resume``; ``adjust_saved``
        may rewrite it first, for ``--rewarmup_steps``): a difference is a refusal
        (``ResumeError``), not damage. A checkpoint whose meta or state cannot be read (a
        truncated or missing file) is damaged: a warning names its step, it is moved to
        ``WORKDIR/damaged_checkpoints/`` with ``WHY_DAMAGED.txt``, and the next older one is
        tried. When none can be read, nothing is moved and ``DamagedCheckpointsError`` lists
        them. The returned meta carries ``schedule_changes``: each change made with
        ``allow_schedule_change``, with its step, the earlier schedule and what changed.
        """
        damaged: list[tuple[int, BaseException]] = []
        for step in reversed(self.all_steps()):
            try:
                saved = self.read_meta(step)
            except Exception as e:  # noqa: BLE001  (JSON, file and tensorstore errors)
                damaged.append((step, e))
                continue
            checked = adjust_saved(saved) if adjust_saved and meta_problem(saved) is None else saved
            changes = check_resume(
                checked, meta, str(self.directory / str(step)), allow_schedule_change
            )
            try:
                state = self.restore(step, like)
            except Exception as e:  # noqa: BLE001
                damaged.append((step, e))
                continue
            self._set_aside(damaged, step)
            steps_now = meta["config"].get("steps")
            clocked = meta["config"].get("clock_batch_size") is not None  # steps at that batch
            if isinstance(steps_now, int) and step > steps_now and not clocked:
                raise ResumeError(
                    f"the newest checkpoint is at step {step}, past --steps {steps_now}: "
                    "raise --steps to train on, or pass a new --workdir"
                )
            history = list(saved.get("schedule_changes", []))
            if changes:
                log.warning(
                    "resuming from step %d with a changed learning-rate schedule "
                    "(--allow_schedule_change):\n%s",
                    step,
                    "\n".join(changes),
                )
                history.append(
                    {"step": step, "previous_schedule": saved["schedule"], "changes": changes}
                )
            return step, state, {**meta, "schedule_changes": history}
        if damaged:
            raise DamagedCheckpointsError(
                f"no checkpoint in {self.directory} can be read:\n"
                + "\n".join(f"  step {s}: {faults.first_line(e)}" for s, e in damaged)
                + "\nMove the folder away to start this run again from step 0."
            )
        return None, like, meta

    def _set_aside(self, damaged: list[tuple[int, BaseException]], resumed: int) -> None:
        """Moves each damaged checkpoint to ``WORKDIR/damaged_checkpoints/`` with why it failed."""
        for step, error in damaged:
            target = self.workdir / DAMAGED_DIR / str(step)
            n = 1
            while target.exists():
                n += 1
                target = self.workdir / DAMAGED_DIR / f"{step}-{n}"
            if jax.process_index() == 0:  # Process 0 moves files; the others wait for it.
                target.parent.mkdir(exist_ok=True)
                os.rename(self.directory / str(step), target)
                (target / "WHY_DAMAGED.txt").write_text("".join(traceback.format_exception(error)))
            log.warning(
                "the checkpoint of step %d is damaged (%s); moved it to %s (what failed: "
                "%s/WHY_DAMAGED.txt). Resuming from step %d, the newest good checkpoint.",
                step,
                faults.first_line(error),
                target,
                target,
                resumed,
            )
        if damaged:
            if jax.process_count() > 1:
                multihost_utils.sync_global_devices("train: damaged checkpoints moved")
            self._manager.reload()

    def close(self) -> None:
        """Waits for the save in progress (``WriteError`` if it failed), then releases orbax."""
        try:
            self.wait()
        finally:
            self._manager.close()

    def __enter__(self) -> Checkpoints:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc is None:
            self.close()
            return
        # Already failing: report a failed save too, but do not hide the first error.
        try:
            self.close()
        except faults.WriteError as e:
            log.error("%s", e)

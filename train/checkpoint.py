"""Orbax checkpoints under ``WORKDIR/checkpoints/<step>/``, and the check that a resume is exact.

Each checkpoint holds the ``TrainState`` (parameters, optimizer state, step) and a JSON ``meta``
item: the schedule's ``to_config()``, the run config and the data fingerprint. Batches are a pure
function of (seed, step), so nothing else is needed to continue bit-identically.

Orbax writes each checkpoint into a temporary folder and renames it when complete, so a run killed
mid-save leaves no half checkpoint behind, only a temporary folder that the next run deletes. A
checkpoint damaged later (a truncated or missing file) is found on resume, moved aside, and the
run continues from the newest good one.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import pathlib
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import jax
import orbax.checkpoint as ocp
from jax.experimental import multihost_utils

import warmup_jax
from train import faults
from train.config import RESUME_KEYS, ConfigError, RunConfig
from train.state import TrainState

_MISSING = "<absent>"
# Where damaged checkpoints are moved, beside checkpoints/.
DAMAGED_DIR = "damaged_checkpoints"
# The full error of a failed save, beside checkpoints/.
WRITE_ERROR_FILE = "checkpoint_write_error.txt"
# Orbax's suffix of a checkpoint folder still being written.
TMP_SUFFIX = ".orbax-checkpoint-tmp"
log = logging.getLogger(__name__)


class ResumeError(ConfigError):
    """The checkpoint in the workdir belongs to a different run than the one asked for."""


class DamagedCheckpointsError(ConfigError):
    """Every checkpoint in the workdir is damaged: there is nothing to resume from."""


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
    Settings that do not change the numbers (logging cadence, workdir, steps per call) may change.
    With ``allow_schedule_change`` (``--allow_schedule_change``) a changed schedule is accepted;
    the returned lines say what changed in it (empty when nothing did).
    """
    problems = []
    schedule_changes = _differences(_current_form(saved["schedule"]), now["schedule"])
    if schedule_changes and not allow_schedule_change:
        problems.append(
            "the learning-rate schedule changed:\n"
            + "\n".join(schedule_changes)
            + "\n(to change it on purpose, add --allow_schedule_change)"
        )
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
    return schedule_changes


def resume(
    checkpoints: Checkpoints,
    like: TrainState,
    meta: dict[str, Any],
    allow_schedule_change: bool = False,
    adjust_saved: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> tuple[int | None, TrainState, dict[str, Any]]:
    """``(step, state, meta)`` to continue from: the newest good checkpoint, or ``(None, like,
    meta)`` in a workdir without one.

    Refuses (``ResumeError``) a checkpoint of another run, as ``check_resume`` does; damaged
    checkpoints are skipped with a warning (``Checkpoints.restore_newest_good``).
    ``adjust_saved`` may rewrite a checkpoint's meta before the check (``--rewarmup_steps``).
    The returned meta, stored in every later checkpoint, carries ``schedule_changes``: the
    list of changes made with ``allow_schedule_change``, each with its step, the earlier
    schedule and what changed, oldest first.
    """
    changes: list[str] = []

    def check(step: int, saved: dict[str, Any]) -> None:
        if adjust_saved is not None:
            saved = adjust_saved(saved)
        changes[:] = check_resume(
            saved, meta, str(checkpoints.directory / str(step)), allow_schedule_change
        )

    found = checkpoints.restore_newest_good(like, check)
    if found is None:
        return None, like, meta
    step, state, saved = found
    steps_now = meta["config"].get("steps")
    if isinstance(steps_now, int) and step > steps_now:
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
        history.append({"step": step, "previous_schedule": saved["schedule"], "changes": changes})
    return step, state, {**meta, "schedule_changes": history}


class Checkpoints:
    """Orbax checkpoints in ``WORKDIR/checkpoints``: the newest ``keep`` are kept.

    Nothing is written until the first ``save``. Old checkpoints are deleted here, not by orbax's
    ``max_to_keep``, and only once a newer checkpoint has been committed and read back, so a
    failed or damaged save never costs the checkpoints before it. A save that cannot be written
    (disk full, no permission) raises ``WriteError``: from ``save`` itself when the folder refuses
    a test write, else (saves finish in the background) from the first ``poll``, ``save`` or
    ``close`` after the failure.
    """

    def __init__(self, workdir: pathlib.Path, keep: int) -> None:
        self.workdir = workdir.resolve()
        self.directory = self.workdir / "checkpoints"
        self.keep = keep
        self._pending: int | None = None
        faults.install_save_pause_from_env()
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=None, create=False),
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
        with _stderr_captured() as printed:
            try:
                self._manager.save(
                    step,
                    args=ocp.args.Composite(
                        state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)
                    ),
                    force=True,  # Orbax would silently skip a step older than one it listed.
                )
            except Exception as e:  # noqa: BLE001  (orbax wraps OSErrors in several types)
                raise self._write_error(step, e, printed.text(e)) from e
        self._pending = step

    def poll(self) -> None:
        """If the save in progress has ended, checks it (``wait``) now: a failed save then stops
        the run at the next log interval rather than at the next checkpoint. Never blocks.

        With several processes it does nothing (checking takes all of them at the same time).
        """
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
            with open(probe, "wb") as f:
                f.write(bytes(4096))
            probe.unlink()
        except OSError as e:
            with contextlib.suppress(OSError):
                probe.unlink()
            raise self._write_error(step, e, "".join(traceback.format_exception(e))) from e

    def wait(self) -> None:
        """Waits for the save in progress; once it is committed, deletes checkpoints past ``keep``.

        Raises ``WriteError`` when that save failed; the older checkpoints are then untouched.
        """
        if self._pending is None:
            return
        step, self._pending = self._pending, None
        with _stderr_captured() as printed:  # Orbax logs a failed save at length.
            try:
                self._manager.wait_until_finished()
                self._manager.check_for_errors()
                self._manager.reload()
                # Read back: the checkpoint is listed as complete and its meta parses.
                if step not in self._manager.all_steps():
                    raise FileNotFoundError(f"{self.directory / str(step)} was not committed")
                self.read_meta(step)
            except Exception as e:  # noqa: BLE001
                raise self._write_error(step, e, printed.text(e)) from e
        for old in self.all_steps()[: -self.keep]:
            self._manager.delete(old)

    def _write_error(self, step: int, error: BaseException, details: str) -> faults.WriteError:
        self._manager.reload()
        older = [s for s in self.all_steps() if s < step]
        if not older:
            kept = "there is no older checkpoint"
        elif len(older) == 1:
            kept = f"the older checkpoint (step {older[0]}) is intact"
        else:
            kept = f"the older checkpoints (steps {', '.join(map(str, older))}) are intact"
        # The failed writes' futures are garbage-collected later, each logging the error again.
        logging.getLogger("asyncio").addFilter(_drop_unretrieved)
        report = self.workdir / WRITE_ERROR_FILE
        try:  # Best effort: the disk may be full.
            report.write_text(details)
            more = f" (the whole error: {report})"
        except OSError:
            more = ""
        return faults.WriteError(
            f"could not write the checkpoint of step {step} to {self.directory}: "
            f"{_reason(error)}{more}. Stopped; {kept}. Free some disk space or make the "
            "workdir writable, then run the same command again to continue."
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

    def restore_newest_good(
        self, like: TrainState, check: Callable[[int, dict[str, Any]], None]
    ) -> tuple[int, TrainState, dict[str, Any]] | None:
        """The newest checkpoint that reads back whole: ``(step, state, meta)``, or None if none.

        ``check(step, meta)`` runs on each checkpoint's meta before its state is read and may
        raise (``ResumeError``): that is a refusal, not damage. A checkpoint whose meta or state
        cannot be read (a truncated or missing file) is damaged: a warning names its step, it is
        moved to ``WORKDIR/damaged_checkpoints/`` (never deleted, never counted as one of the
        kept) and the next older one is tried. When none can be read, nothing is moved and
        ``DamagedCheckpointsError`` says what is wrong with each.
        """
        self.remove_incomplete()
        damaged: list[tuple[int, str, str]] = []
        for step in reversed(self.all_steps()):
            # A failed read makes orbax's threads print hundreds of lines of tracebacks: they go
            # into the damaged checkpoint's folder instead of the terminal.
            with _stderr_captured() as printed:
                try:
                    meta = self.read_meta(step)
                except Exception as e:  # noqa: BLE001  (JSON, file and tensorstore errors)
                    damaged.append((step, _first_line(e), printed.text(e)))
                    continue
            check(step, meta)
            with _stderr_captured() as printed:
                try:
                    state = self.restore(step, like)
                except Exception as e:  # noqa: BLE001
                    damaged.append((step, _first_line(e), printed.text(e)))
                    continue
            for bad, why, details in damaged:
                moved = self._quarantine(bad, details)
                log.warning(
                    "the checkpoint of step %d is damaged (%s); moved it to %s (what failed: "
                    "%s/WHY_DAMAGED.txt). Resuming from step %d, the newest good checkpoint.",
                    bad,
                    why,
                    moved,
                    moved,
                    step,
                )
            if damaged:
                if jax.process_count() > 1:  # Process 0 moved them: all see that before going on.
                    multihost_utils.sync_global_devices("train: damaged checkpoints moved")
                self._manager.reload()
            return step, state, meta
        if damaged:
            raise DamagedCheckpointsError(
                f"no checkpoint in {self.directory} can be read:\n"
                + "\n".join(f"  step {s}: {why}" for s, why, _ in damaged)
                + "\nMove the folder away to start this run again from step 0."
            )
        return None

    def _quarantine(self, step: int, details: str) -> pathlib.Path:
        """Moves checkpoint ``step`` to ``WORKDIR/damaged_checkpoints/`` with why it failed."""
        target = self.workdir / DAMAGED_DIR / str(step)
        n = 1
        while target.exists():
            n += 1
            target = self.workdir / DAMAGED_DIR / f"{step}-{n}"
        if distributed_main():
            target.parent.mkdir(exist_ok=True)
            os.rename(self.directory / str(step), target)
            (target / "WHY_DAMAGED.txt").write_text(details)
        return target

    def remove_incomplete(self) -> None:
        """Deletes the temporary folders of saves that never finished (the run was killed).

        Call it only while holding the workdir's lock: another run's save in progress looks
        just the same.
        """
        if not distributed_main() or not self.directory.is_dir():
            return
        for path in self.directory.glob(f"*{TMP_SUFFIX}*"):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)

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


class _Captured:
    def __init__(self, file: Any) -> None:
        self._file = file
        self.consumed = False

    def text(self, error: BaseException) -> str:
        """What was printed while captured, then ``error`` with its traceback (the printed
        text is then not passed on to stderr)."""
        self.consumed = True
        # Orbax's other reads fail a moment later, in their own threads: wait until they are
        # done printing (the file stops growing), for at most a few seconds.
        size, deadline = -1, time.monotonic() + 3
        while time.monotonic() < deadline:
            now = os.fstat(self._file.fileno()).st_size
            if now == size:
                break
            size = now
            time.sleep(0.2)
        self._file.flush()
        self._file.seek(0)
        printed = self._file.read().decode(errors="replace")
        trace = "".join(traceback.format_exception(error))
        return f"{trace}\nPrinted while reading it:\n{printed}"


@contextlib.contextmanager
def _stderr_captured() -> Iterator[_Captured]:
    """Sends file descriptor 2 (where orbax's and tensorstore's threads print) to a temporary
    file; unless ``text()`` took it, what was printed is passed on to stderr afterwards."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        captured = _Captured(tmp)
        try:
            yield captured
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if not captured.consumed:
                tmp.seek(0)
                sys.stderr.write(tmp.read().decode(errors="replace"))
                sys.stderr.flush()


def _drop_unretrieved(record: logging.LogRecord) -> bool:
    return "exception was never retrieved" not in record.getMessage()


# What an I/O failure while saving usually is; tensorstore puts these words in its messages.
_WRITE_ERRNOS = (
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EFBIG,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.EIO,
)


def _reason(error: BaseException) -> str:
    """The operating system's reason for a failed write, e.g. "No space left on device [errno
    28]", found in ``error``'s chain or text; else its first line."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno:
            return f"{seen.strerror or os.strerror(seen.errno)} [errno {seen.errno}]"
        seen = seen.__cause__ or seen.__context__
    text = str(error)
    for code in _WRITE_ERRNOS:
        if os.strerror(code) in text:
            return f"{os.strerror(code)} [errno {code}]"
    return _first_line(error)


def _first_line(error: BaseException) -> str:
    """A short description of ``error`` (tensorstore messages run to hundreds of lines)."""
    text = str(error).strip().splitlines()
    first = text[0] if text else type(error).__name__
    if len(first) > 200:
        first = first[:200] + "..."
    return f"{type(error).__name__}: {first}"


def distributed_main() -> bool:
    """True in process 0 (or a single process): the one that moves and deletes files."""
    return jax.process_index() == 0

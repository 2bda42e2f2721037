"""What a run does when something goes wrong: the errors that stop it, and SIGTERM/SIGINT.

Exit statuses of ``python -m train`` (also in its ``--help``):

====  =======================================================================================
0     finished (or stopped by ``--stop_after``)
2     bad flags or settings, a refused resume, or a workdir another run is using: nothing was
      trained and nothing written to the workdir
3     a non-finite loss or gradient (``NonFiniteError``): stopped; the last good checkpoint is
      kept and no checkpoint holding NaN is written
4     a checkpoint or the metrics could not be written (``WriteError``: disk full, no
      permission): stopped; the older checkpoints are intact
130   stopped by SIGINT (Ctrl-C) after finishing the step and writing a checkpoint
143   stopped by SIGTERM (preemption) after finishing the step and writing a checkpoint
====  =======================================================================================

After 3, 4, 130 or 143, running the same command again continues from the newest good checkpoint
(after 3, lower the learning rate and add ``--allow_schedule_change``). Tests and the reliability
report cause these faults from the outside (``experiments/fault_launcher.py``).
"""

from __future__ import annotations

import errno
import functools
import math
import os
import signal
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

# Exit statuses (see the module docstring).
EXIT_NON_FINITE = 3
EXIT_WRITE_ERROR = 4
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def signal_exit_status(signum: int) -> int:
    """The status a shell reports for a process ended by ``signum``: 128 + its number."""
    return 128 + int(signum)


class RunStopped(RuntimeError):
    """A fault stopped the run; ``python -m train`` prints the message and exits with
    ``exit_status``. Whatever the last good checkpoint held is intact."""

    exit_status = 1


class NonFiniteError(RunStopped):
    """A loss, gradient norm or evaluation came out NaN or infinite (the run diverged)."""

    exit_status = EXIT_NON_FINITE

    def __init__(self, message: str, step: int, learning_rate: float) -> None:
        super().__init__(message)
        self.step = step
        self.learning_rate = learning_rate


class WriteError(RunStopped):
    """A checkpoint or ``metrics.jsonl`` could not be written (disk full, permissions, ...)."""

    exit_status = EXIT_WRITE_ERROR

    @classmethod
    def from_os_error(cls, error: OSError) -> WriteError:
        """The error for a file of the run that could not be created or written."""
        where = f" {error.filename}" if error.filename else ""
        reason = error.strerror or str(error)
        return cls(
            f"could not write{where}: {reason}. Nothing of the run was lost; make the workdir "
            "writable (or free some disk space), then run the same command again."
        )


def _is_bad(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def first_non_finite(rows: Sequence[dict[str, Any]]) -> int | None:
    """The index of the first row holding a NaN or infinite number, None when all are finite.

    The rows are the ones the loop already fetched for logging: checking them costs no extra
    device-to-host transfer.
    """
    for i, row in enumerate(rows):
        if any(_is_bad(v) for v in row.values()):
            return i
    return None


def non_finite_error(row: dict[str, Any], last_checkpoint: int | None) -> NonFiniteError:
    """The error for the first bad ``row``, naming its step, its LR and the values."""
    step, lr = row["step"], row["train/learning_rate"]
    names = {
        "train/loss": "loss",
        "train/grad_norm": "gradient norm",
        "val/loss": "validation loss",
    }
    shown = [k for k in names if k in row] + [
        k for k, v in row.items() if k not in names and _is_bad(v)
    ]
    values = ", ".join(f"{names.get(k, k)} {row[k]}" for k in shown)
    if last_checkpoint is None:
        kept = "there is no checkpoint yet, so a new run starts from step 0"
    else:
        kept = (
            f"the last good checkpoint (step {last_checkpoint}) is kept and no checkpoint "
            "holding NaN was written"
        )
    return NonFiniteError(
        f"training diverged at step {step} (learning rate {lr:.6g}): {values}. "
        f"Stopped; {kept}. {_what_to_do(last_checkpoint)}",
        step,
        lr,
    )


def _what_to_do(last_checkpoint: int | None) -> str:
    if last_checkpoint is None:
        return (
            "Lower --peak_lr or lengthen the warmup, then run again (the same --workdir starts "
            "over from step 0)."
        )
    return (
        "Lower --peak_lr or lengthen the warmup, then run again with --allow_schedule_change "
        f"to continue from the checkpoint of step {last_checkpoint} (or use a new --workdir)."
    )


def non_finite_state_error(last_row: dict[str, Any], last_checkpoint: int | None) -> NonFiniteError:
    """The error for a state that turned non-finite in the update of ``last_row``'s step."""
    step, lr = last_row["step"], last_row["train/learning_rate"]
    kept = (
        "there is no checkpoint yet"
        if last_checkpoint is None
        else f"the last good checkpoint (step {last_checkpoint}) is kept"
    )
    return NonFiniteError(
        f"training diverged at step {step} (learning rate {lr:.6g}): its update left NaN or "
        f"infinite numbers in the parameters or the optimizer state. Stopped before writing a "
        f"checkpoint of them; {kept}. {_what_to_do(last_checkpoint)}",
        step,
        lr,
    )


@functools.cache
def _all_finite_fn() -> Callable[[Any], Any]:
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415

    def all_finite(leaves: list[Any]) -> Any:
        checks = [jnp.all(jnp.isfinite(x)) for x in leaves if jnp.issubdtype(x.dtype, jnp.inexact)]
        return jnp.all(jnp.stack(checks)) if checks else jnp.asarray(True)

    return jax.jit(all_finite)


def all_finite(tree: Any) -> bool:
    """Whether every float in ``tree`` (a train state) is finite: one reduction on the device and
    one boolean read back, done only before a checkpoint is written."""
    import jax  # noqa: PLC0415

    import warmup_jax  # noqa: PLC0415

    # The plateau's best metric starts at +-inf (nothing measured yet): not a diverged number.
    plateau = lambda x: isinstance(x, warmup_jax.PlateauState)  # noqa: E731
    leaves = [
        leaf
        for node in jax.tree.leaves(tree, is_leaf=plateau)
        for leaf in (jax.tree.leaves(node._replace(best=None)) if plateau(node) else [node])
    ]
    # A flat list, not the TrainState: its static fields (apply_fn, tx) are new objects in every
    # run, which would make jit compile again each time.
    return bool(jax.device_get(_all_finite_fn()(leaves)))


def _any_process(flag: bool) -> bool:
    """``flag`` or-ed over all processes (a collective: every process must call it)."""
    import jax  # noqa: PLC0415

    if jax.process_count() == 1:
        return flag
    import numpy as np  # noqa: PLC0415
    from jax.experimental import multihost_utils  # noqa: PLC0415

    everyone = multihost_utils.process_allgather(np.asarray([flag], np.int32))
    return bool(np.asarray(everyone).any())


class StopSignals:
    """While entered, SIGTERM and SIGINT ask the loop to stop at the next step boundary.

    ``received`` holds the first signal's number (None until one arrives). The loop then
    finishes the step, writes a checkpoint and returns. The handlers that were in place before are
    put back as soon as one signal arrived, so a second Ctrl-C (or SIGTERM) acts at once, without
    waiting for the checkpoint. Outside the main thread (where Python cannot handle signals) it
    does nothing.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}
        self._processes = 1

    def __enter__(self) -> StopSignals:
        import jax  # noqa: PLC0415

        self._processes = jax.process_count()
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        del frame
        self.received = signum
        self._restore()
        # os.write, not print: the handler may interrupt a print in progress.
        os.write(
            2,
            f"\nreceived {signal.Signals(signum).name}: finishing the current step and writing a "
            "checkpoint (send it again to stop at once, without one)\n".encode(),
        )

    @property
    def name(self) -> str | None:
        """The received signal's name ("SIGTERM"), None before one arrived."""
        return None if self.received is None else signal.Signals(self.received).name

    def stop_requested(self, at_fetch: bool) -> bool:
        """Whether the loop should stop after this step.

        With one process, as soon as a signal arrived. With several, the processes must stop at
        the same step, so they agree only at ``at_fetch`` points (the log intervals, reached by
        all at the same steps): one process's signal then stops them all.
        """
        if self._processes == 1:
            return self.received is not None
        return at_fetch and _any_process(self.received is not None)

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def __exit__(self, *exc_info: object) -> None:
        self._restore()


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


def reason(error: BaseException) -> str:
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
    return first_line(error)


def first_line(error: BaseException) -> str:
    """A short description of ``error`` (tensorstore messages run to hundreds of lines)."""
    text = str(error).strip().splitlines()
    first = text[0] if text else type(error).__name__
    if len(first) > 200:
        first = first[:200] + "..."
    return f"{type(error).__name__}: {first}"

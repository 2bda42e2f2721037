"""``python -m train`` with a fault caused on purpose, from the outside, at a chosen moment.

The harness itself holds no test hooks. This launcher, used by the reliability tests and by
``experiments/reliability_report.py``, wraps it before it runs:

* ``--signal-at-step STEP:SIGNAME``: once the step that reaches ``STEP`` has been dispatched, the
  process sends itself that signal (a real signal, through the harness's real handler).
* ``--pause-in-save STEP``: orbax's background thread stops just before committing checkpoint
  ``STEP`` (all its files written into the temporary folder, not yet renamed), prints
  ``PAUSED_IN_SAVE`` on stderr and waits forever, so that the caller can SIGKILL the process in
  the middle of a save. This patches a private orbax method, which only test code may do.

Everything after ``--`` is passed to ``python -m train``::

    python -m experiments.fault_launcher --signal-at-step 13:SIGTERM -- --preset tiny
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

PAUSED_IN_SAVE = "fault launcher: paused inside the save of checkpoint"


def signalling(make: Any, spec: str) -> Any:
    """``make`` (``train.step.make_train_step``) whose steps send ``SIGNAME`` once the run's step
    count reaches ``STEP`` (``spec`` is ``"STEP:SIGNAME"``; steps counted from where the run
    started, a resumed one included)."""
    import jax  # noqa: PLC0415

    at, name = spec.split(":")
    target, signum = int(at), signal.Signals[name]

    def make_train_step(model: Any, schedule: Any, steps_per_call: int = 1, *more: Any) -> Any:
        step_fn = make(model, schedule, steps_per_call, *more)
        reached: list[int] = []

        def counted(state: Any, batch: Any) -> Any:
            if not reached:  # the step the run starts from, read once
                reached.append(int(jax.device_get(state.step)))
            result = step_fn(state, batch)
            before = reached[0]
            reached[0] += steps_per_call
            if before < target <= reached[0]:
                os.kill(os.getpid(), signum)
            return result

        return counted

    return make_train_step


def signal_at_step(spec: str) -> None:
    """Makes ``train.loop`` send the signal of ``spec`` (see ``signalling``)."""
    import train.loop  # noqa: PLC0415

    train.loop.make_train_step = signalling(train.loop.make_train_step, spec)  # type: ignore[assignment]


def pause_in_save(step: str) -> None:
    """Makes orbax stop forever just before it commits checkpoint ``step``."""
    from orbax.checkpoint._src.path import atomicity  # noqa: PLC0415  (private: test only)

    cls = atomicity.AtomicRenameTemporaryPath
    original = cls.finalize
    out = os.dup(2)

    async def finalize(self: Any, *args: Any, **kwargs: Any) -> None:
        if self.get_final().name == step:
            os.write(out, f"{PAUSED_IN_SAVE} {step}: {self.get()}\n".encode())
            while True:
                time.sleep(3600)
        await original(self, *args, **kwargs)

    cls.finalize = finalize  # type: ignore[method-assign]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    ours, theirs = argv[:split], argv[split + 1 :]
    parser = argparse.ArgumentParser(prog="python -m experiments.fault_launcher")
    parser.add_argument("--signal-at-step", metavar="STEP:SIGNAME")
    parser.add_argument("--pause-in-save", metavar="STEP")
    args = parser.parse_args(ours)
    if args.signal_at_step:
        signal_at_step(args.signal_at_step)
    if args.pause_in_save:
        pause_in_save(args.pause_in_save)
    from train.__main__ import main as train_main  # noqa: PLC0415
    from train.faults import EXIT_WRITE_ERROR  # noqa: PLC0415

    status = train_main(theirs)
    if status == EXIT_WRITE_ERROR:  # as python -m train does
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status


if __name__ == "__main__":
    sys.exit(main())

"""``python -m train``: train the byte-level transformer with a warmup_jax learning-rate schedule.

The flags come from ``RunConfig``'s own field definitions (``train.config.add_flags``); this module
adds the few that are not settings of the run (``--allow_schedule_change``, the multi-process
flags), turns them into a ``RunConfig`` and calls ``train.loop.run``. Bad input of any kind ends
with a message and exit status 2 (4 for a workdir that cannot be written), never a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys
from collections.abc import Sequence

from train import distributed
from train.config import AUTO, ConfigError, RunConfig, add_flags, from_flags, resolve_lengths
from train.faults import EXIT_WRITE_ERROR, RunStopped, WriteError, signal_exit_status

EPILOG = (
    "Exit status: 0 done (or stopped by --stop_after); 2 bad flags or settings, a refused "
    "resume or a workdir in use by another run (nothing written); 3 the loss or gradient became "
    "NaN or infinite (stopped, last good checkpoint kept); 4 a checkpoint or metrics.jsonl could "
    "not be written, e.g. disk full or a read-only workdir (stopped, older checkpoints intact); "
    "130 or 143 stopped by SIGINT (Ctrl-C) or SIGTERM after finishing the step and writing a "
    "checkpoint. After 3, 4, 130 and 143 the same command continues from the newest good "
    "checkpoint."
)
# Schedule arguments the run's own flags set: giving them in --schedule_kwargs would contradict.
_SET_BY_FLAGS = {
    "peak_value": "--peak_lr",
    "num_training_steps": "--steps",
    "num_warmup_steps": "--warmup_steps or --warmup_ratio",
    "warmup_type": "--warmup_type",
    "warmup_one_step_ahead": "--warmup_one_step_ahead",
    "max_lr": "--peak_lr",  # one_cycle's
    "total_steps": "--steps",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m train`` (every flag explained in ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m train",
        description=(
            "Train a small byte-level transformer language model with a warmup_jax learning-rate "
            "schedule. By default it learns from the .py files of this machine's Python standard "
            "library (prepared once into a cache, no download). Running the same command again "
            "with the same --workdir resumes from the newest checkpoint."
        ),
        epilog=EPILOG,
    )
    groups = add_flags(parser)
    groups["run"].add_argument(
        "--allow_schedule_change",
        action="store_true",
        help="resume even though the learning-rate schedule flags (--peak_lr, --steps, the "
        "warmup, --schedule) differ from the checkpoint's: the new schedule applies from the "
        "checkpoint's step on, and what changed is printed and recorded in later checkpoints "
        "(without this flag such a resume is refused)",
    )
    distributed.add_flags(parser)
    return parser


def _problems(args: argparse.Namespace, config: RunConfig) -> str | None:
    """What contradicts in the flags, as a sentence (None: nothing)."""
    from warmup_jax import SCHEDULE_NAMES  # noqa: PLC0415  (--help stays quick)
    from warmup_jax.expressions import looks_like_expression  # noqa: PLC0415

    if config.no_lr_schedule:
        given = [
            f
            for f in ("schedule", "schedule_kwargs", "warmup_type", "warmup_steps", "warmup_ratio")
            if getattr(args, f) is not None
        ]
        if given:
            return (
                "--no_lr_schedule means a constant LR with no warmup; it cannot be combined "
                "with " + ", ".join(f"--{f}" for f in given)
            )
    from train.schedule import ONE_CYCLE  # noqa: PLC0415

    expression = looks_like_expression(config.schedule)
    names = (*SCHEDULE_NAMES, ONE_CYCLE)
    if not expression and config.schedule not in names:
        return (
            f"unknown schedule {config.schedule[:80]!r}; choose one of "
            f"{', '.join(names)}, or give a schedule expression such as "
            "'linear_warmup(peak, warmup_steps) >> cosine_decay(peak, decay_steps)'"
        )
    if expression and config.schedule_kwargs:
        return "--schedule_kwargs applies to a schedule name; put the arguments in the expression"
    clash = sorted(set(config.schedule_kwargs) & set(_SET_BY_FLAGS))
    if clash:
        return (
            f"--schedule_kwargs sets {', '.join(clash)}, which the run sets itself: use "
            + ", ".join(_SET_BY_FLAGS[name] for name in clash)
            + " instead"
        )
    if config.schedule == ONE_CYCLE and (args.warmup_steps or args.warmup_ratio):
        return (
            "--schedule one_cycle has its own warmup (pct_start in --schedule_kwargs, 0.3 by "
            "default); leave out --warmup_steps and --warmup_ratio"
        )
    given = sorted(name for name in config.hyperparams if getattr(args, name, None) is not None)
    if given:
        return (
            f"--hparam schedules {', '.join(given)}, also given as a constant by "
            + ", ".join(f"--{name}" for name in given)
            + ": give one or the other"
        )
    if config.wandb and importlib.util.find_spec("wandb") is None:
        return "--wandb needs the wandb package, which is not installed: pip install wandb"
    if not config.wandb and (args.wandb_mode or args.wandb_project):
        return "--wandb_mode and --wandb_project only apply together with --wandb"
    return None


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> RunConfig:
    """Turns parsed flags into a ``RunConfig``; contradictions end in ``parser.error`` (exit 2)."""
    from train.schedule import make_hyperparams, make_schedule  # noqa: PLC0415  (imports jax)

    try:
        config = resolve_lengths(from_flags(args), train_tokens=None)
        config.validate()
        problem = _problems(args, config)
        if problem is not None:
            parser.error(problem)
        if config.lengths_resolved and config.peak_lr != AUTO:  # else once they are known
            make_hyperparams(config, make_schedule(config))
    except ValueError as e:  # ConfigError, or warmup_jax's message for schedule arguments.
        parser.error(str(e))
    return config


def _find_peak_lr(config: RunConfig, parser: argparse.ArgumentParser) -> RunConfig:
    """``--peak_lr auto``: the LR range test (``train.lr_find``) from the run's initialization,
    written to (or, on a resume, read back from) ``WORKDIR/lr_find.json``; the run then trains
    at its suggestion, recorded as ``peak_lr_found`` in the run config."""
    import dataclasses  # noqa: PLC0415

    import jax  # noqa: PLC0415

    from train.lr_find import JSON_FILE, find_or_load, summary_line  # noqa: PLC0415

    if jax.process_count() > 1:
        parser.exit(2, f"{parser.prog}: error: --peak_lr auto runs on one process only\n")
    result = find_or_load(config, config.workdir)
    line = summary_line(result)
    if result["suggested_lr"] is None:
        parser.exit(2, f"{parser.prog}: error: --peak_lr auto: {line}\n")
    print(f"--peak_lr auto: {line}", flush=True)
    found = {
        "suggested_lr": result["suggested_lr"],
        "suggested_by": result["suggested_by"],
        "file": JSON_FILE,
    }
    config = dataclasses.replace(config, peak_lr=result["suggested_lr"], peak_lr_found=found)
    config.validate()
    return config


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m train``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # Before config_from_args: building the schedule starts JAX, and jax.distributed must be first.
    distributed.start(args, parser)
    config = config_from_args(args, parser)
    # Imported after parsing: --help and bad flags answer without loading tfds, orbax, matplotlib.
    from train.loop import run  # noqa: PLC0415

    try:
        if config.peak_lr == AUTO:
            config = _find_peak_lr(config, parser)
        summary = run(config, allow_schedule_change=args.allow_schedule_change)
    except ConfigError as e:  # Found only once the data or the checkpoint is read.
        parser.exit(2, f"{parser.prog}: error: {e}\n")
    except RunStopped as e:  # A fault; the message says what is intact and what to do.
        print(f"{parser.prog}: stopped: {e}", file=sys.stderr)
        return e.exit_status
    except OSError as e:  # The workdir (or a file in it) cannot be written: as a failed save.
        print(f"{parser.prog}: stopped: {WriteError.from_os_error(e)}", file=sys.stderr)
        return EXIT_WRITE_ERROR
    if not distributed.is_main_process():  # Process 0 reports for the whole run.
        return signal_exit_status(getattr(signal, summary["signal"])) if "signal" in summary else 0
    if "final_val_loss" in summary:
        print(
            f"done: {summary['steps']} steps, validation loss {summary['final_val_loss']:.4f} "
            f"(perplexity {summary['final_perplexity']:.3f}); outputs in {config.workdir}"
        )
    elif "signal" in summary:
        print(
            f"stopped by {summary['signal']} after step {summary['steps']}, with a checkpoint "
            f"of it in {config.workdir}/checkpoints; run the same command again to continue",
            file=sys.stderr,
        )
        return signal_exit_status(getattr(signal, summary["signal"]))
    else:
        print(f"stopped after step {summary['steps']}; run the same command again to resume")
    return 0


if __name__ == "__main__":
    status = main()
    if status == EXIT_WRITE_ERROR:
        # Orbax's threads of the failed save can wait minutes for it before the process may end;
        # everything of the run is already closed and the message printed.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)

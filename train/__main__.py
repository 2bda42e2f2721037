"""``python -m train``: train the byte-level transformer with a warmup_jax learning-rate schedule.

Parses the flags into a ``RunConfig`` and calls ``train.loop.run``. Bad flags end with a message
and exit status 2, as argparse does.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import math
import os
import signal
import sys
from collections.abc import Callable, Sequence

import warmup_jax
from warmup_jax.expressions import looks_like_expression
from train import distributed
from train.config import PRESETS, ConfigError, RunConfig, make_config
from train.faults import EXIT_WRITE_ERROR, RunStopped, signal_exit_status
from train.state import make_schedule


def _checked(
    convert: Callable[[str], float], ok: Callable[[float], bool], requirement: str, noun: str
) -> Callable[[str], float]:
    """An argparse ``type`` that converts the text, then insists on ``requirement``."""

    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
        return value

    return parse


_positive_int = _checked(int, lambda v: v >= 1, "at least 1", "a whole number")
_non_negative_int = _checked(int, lambda v: v >= 0, "0 or more", "a whole number")
_positive_float = _checked(
    float, lambda v: 0 < v < math.inf, "a positive finite number", "a number"
)
_RUN_DEFAULTS = {f.name: f.default for f in dataclasses.fields(RunConfig)}
_ratio = _checked(float, lambda v: 0 <= v < 1, "in [0, 1)", "a number")


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except RecursionError:
        raise argparse.ArgumentTypeError("not valid JSON: nested too deeply") from None
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not valid JSON ({e}): {text[:80]!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(
            f"expected a JSON object like '{{\"num_cycles\": 2}}', got {text!r}"
        )
    return value


def _default(field: str) -> str:
    """'(default: X)' from RunConfig's own default, so --help never goes stale."""
    return f"(default: {_RUN_DEFAULTS[field]})"


def _schedule_name_or_expression(text: str) -> str:
    if looks_like_expression(text):
        return text  # parsed with the run's numbers in config_from_args, which reports errors
    if text not in warmup_jax.SCHEDULE_NAMES:
        raise argparse.ArgumentTypeError(
            f"unknown schedule {text!r}; choose one of {', '.join(warmup_jax.SCHEDULE_NAMES)}, "
            "or give a schedule expression such as "
            "'linear_warmup(peak, warmup_steps) >> cosine_decay(peak, decay_steps)'"
        )
    return text


def _by_preset(field: str) -> str:
    """'default: tiny X, small Y' from the presets, so --help never goes stale."""

    def show(value: object) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    return "default: " + ", ".join(
        f"{name} {show(p[field])}" for name, p in sorted(PRESETS.items())
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m train`` (every flag explained in ``--help``)."""
    p = argparse.ArgumentParser(
        prog="python -m train",
        description=(
            "Train a small byte-level transformer language model with a warmup_jax learning-rate "
            "schedule. By default it learns from the .py files of this machine's Python standard "
            "library (prepared once into a cache, no download). Running the same command again "
            "with the same --workdir resumes from the newest checkpoint."
        ),
        epilog=(
            "Exit status: 0 done (or stopped by --stop_after); 2 bad flags or settings, a "
            "refused resume or a workdir in use by another run (nothing written); 3 the loss or "
            "gradient became NaN or infinite (stopped, last good checkpoint kept); 4 a "
            "checkpoint or metrics.jsonl could not be written, e.g. disk full (stopped, older "
            "checkpoints intact); 130 or 143 stopped by SIGINT (Ctrl-C) or SIGTERM after "
            "finishing the step and writing a checkpoint. After 3, 4, 130 and 143 the same "
            "command continues from the newest good checkpoint."
        ),
    )
    run = p.add_argument_group("run")
    run.add_argument(
        "--workdir",
        default=None,
        help="folder for checkpoints, metrics.jsonl, tb/, lr.png, loss.png and "
        "summary.json (default: runs/PRESET)",
    )
    run.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="small",
        help="model size and default settings: 'tiny' for tests (milliseconds per "
        "step), 'small' for a real run of a few minutes on a laptop CPU (default: small)",
    )
    run.add_argument(
        "--steps",
        type=_positive_int,
        help="total optimizer steps of the run (the schedule's num_training_steps); "
        + _by_preset("steps"),
    )
    run.add_argument(
        "--batch_size", type=_positive_int, help="sequences per step; " + _by_preset("batch_size")
    )
    run.add_argument(
        "--seq_len", type=_positive_int, help="bytes per sequence; " + _by_preset("seq_len")
    )
    run.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="seeds the initial weights and which windows of text each step sees "
        + _default("seed"),
    )
    run.add_argument(
        "--stop_after",
        type=_positive_int,
        help="stop once this many steps are done, as if the job were killed "
        "(to try resuming: run the same command again without it)",
    )
    run.add_argument(
        "--allow_schedule_change",
        action="store_true",
        help="resume even though the learning-rate schedule flags (--peak_lr, --steps, the "
        "warmup, --schedule) differ from the checkpoint's: the new schedule applies from the "
        "checkpoint's step on, and what changed is printed and recorded in later checkpoints "
        "(without this flag such a resume is refused)",
    )

    lr = p.add_argument_group("learning rate")
    lr.add_argument(
        "--peak_lr",
        type=_positive_float,
        help="the highest learning rate, reached at the end of warmup; " + _by_preset("peak_lr"),
    )
    lr.add_argument(
        "--schedule",
        type=_schedule_name_or_expression,
        default=None,
        metavar="NAME_OR_EXPRESSION",
        help="the schedule's shape after warmup, by its transformers name ("
        + ", ".join(warmup_jax.SCHEDULE_NAMES)
        + ") "
        + _default("schedule")
        + "; or a quoted schedule expression that gives the learning rate itself, where "
        "peak, steps, warmup_steps and decay_steps name the run's values, e.g. "
        "'linear_warmup(peak, warmup_steps) >> cosine_decay(peak, decay_steps, "
        "end_value=0.01 * peak)' or 'peak * linear_warmup(1.0, 100) * inverse_sqrt_decay(1.0, "
        "1000)': the same calls as in Python (python -m warmup_jax list shows them all)",
    )
    lr.add_argument(
        "--schedule_kwargs",
        type=_json_object,
        help="extra arguments of the schedule as a JSON object, like transformers' "
        "lr_scheduler_kwargs, e.g. '{\"num_cycles\": 2}' for cosine_with_restarts "
        "(cosine_with_min_lr defaults to min_lr_rate 0.1; warmup_stable_decay "
        "decays over the last 20%% of the steps unless num_decay_steps is given)",
    )
    warm = lr.add_mutually_exclusive_group()
    warm.add_argument(
        "--warmup_steps", type=_non_negative_int, help="steps of warmup from 0 up to --peak_lr"
    )
    warm.add_argument(
        "--warmup_ratio",
        type=_ratio,
        help="warmup as a fraction of --steps, rounded up " + _default("warmup_ratio"),
    )
    lr.add_argument(
        "--warmup_type",
        choices=warmup_jax.WARMUP_TYPES,
        default=None,
        help="shape of the warmup: linear (a straight line from 0), or exponential from "
        "peak/1000 " + _default("warmup_type"),
    )
    lr.add_argument(
        "--warmup_one_step_ahead",
        action="store_true",
        help="evaluate the warmup at step + 1, so the first update already moves the weights "
        "(as pytorch_warmup does) instead of using learning rate 0",
    )
    lr.add_argument(
        "--scale_lr",
        choices=warmup_jax.SCALING_RULES,
        help="scale --peak_lr from --base_batch_size to --batch_size: 'linear' (Goyal et al.; "
        "needs a longer warmup as the batch grows) or 'sqrt' (usual for Adam)",
    )
    lr.add_argument(
        "--base_batch_size",
        type=_positive_int,
        help="the batch size at which --peak_lr was tuned (with --scale_lr)",
    )
    lr.add_argument(
        "--rewarmup_steps",
        type=_positive_int,
        help="continue a finished (or stable-phase) run in --workdir with a fresh warmup of "
        "this many steps, from the learning rate it had to --rewarmup_peak_lr, then a decay "
        "until the new --steps; recorded with every later checkpoint",
    )
    lr.add_argument(
        "--rewarmup_peak_lr",
        type=_positive_float,
        help="the new peak of --rewarmup_steps (default: --peak_lr)",
    )
    lr.add_argument(
        "--rewarmup_from",
        type=_positive_int,
        help="the step where the rewarmup starts (default: the newest checkpoint's step)",
    )
    lr.add_argument(
        "--no_lr_schedule",
        action="store_true",
        help="no warmup and no decay: a constant --peak_lr from the first step (the "
        "baseline that shows what warmup is for)",
    )

    opt = p.add_argument_group("optimizer (AdamW after gradient clipping)")
    opt.add_argument(
        "--weight_decay",
        type=float,
        help="AdamW's decoupled weight decay " + _default("weight_decay"),
    )
    opt.add_argument(
        "--grad_clip",
        type=_positive_float,
        help="clip gradients to this global norm before AdamW " + _default("grad_clip"),
    )

    cadence = p.add_argument_group("logging, evaluation and checkpoints")
    cadence.add_argument(
        "--log_every",
        type=_positive_int,
        help="steps between reads of the metrics from the device (every step's "
        "values are still logged); " + _by_preset("log_every"),
    )
    cadence.add_argument(
        "--eval_every",
        type=_positive_int,
        help="steps between validation loss measurements (and always at the end); "
        + _by_preset("eval_every"),
    )
    cadence.add_argument(
        "--eval_batches",
        type=_positive_int,
        help="validation batches averaged per measurement; " + _by_preset("eval_batches"),
    )
    cadence.add_argument(
        "--checkpoint_every",
        type=_positive_int,
        help="steps between checkpoints (and always at the end); " + _by_preset("checkpoint_every"),
    )
    cadence.add_argument(
        "--keep_checkpoints",
        type=_positive_int,
        help="how many of the newest checkpoints to keep " + _default("keep_checkpoints"),
    )
    cadence.add_argument(
        "--steps_per_call",
        type=_positive_int,
        help="optimizer steps per compiled call (lax.scan): fewer Python round "
        "trips; --steps and the intervals above must be multiples " + _default("steps_per_call"),
    )
    cadence.add_argument("--no_progress", action="store_true", help="no progress bar")

    data = p.add_argument_group("data")
    data.add_argument(
        "--dataset",
        help="a TensorFlow Datasets text data set by name, e.g. tiny_shakespeare "
        "(downloaded and prepared on first use); default: the Python sources",
    )
    data.add_argument(
        "--text_key",
        help="the feature of --dataset that holds the text (default: 'text', or its "
        "only text feature)",
    )
    data.add_argument(
        "--source_dir",
        help="train on the .py files under this folder instead of the standard library",
    )
    data.add_argument(
        "--data_dir",
        help="where prepared data sets are cached (default: "
        "~/.cache/warmup_jax/tensorflow_datasets, shared by all runs)",
    )

    wb = p.add_argument_group("Weights & Biases (optional: pip install wandb)")
    wb.add_argument("--wandb", action="store_true", help="also log to Weights & Biases")
    wb.add_argument("--wandb_project", help="the W&B project " + _default("wandb_project"))
    wb.add_argument(
        "--wandb_mode",
        choices=("online", "offline"),
        help="'offline' writes the W&B run under the workdir for a later 'wandb sync' "
        "and needs no network (default: W&B's own, i.e. $WANDB_MODE or online)",
    )
    distributed.add_flags(p)
    return p


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> RunConfig:
    """Turns parsed flags into a ``RunConfig``; contradictions end in ``parser.error`` (exit 2)."""
    if args.no_lr_schedule:
        given = [
            f
            for f in ("schedule", "schedule_kwargs", "warmup_type", "warmup_steps", "warmup_ratio")
            if getattr(args, f) is not None
        ]
        if given:
            parser.error(
                "--no_lr_schedule means a constant LR with no warmup; it cannot be combined with "
                + ", ".join(f"--{f}" for f in given)
            )
    if args.wandb and importlib.util.find_spec("wandb") is None:
        parser.error(
            "--wandb needs the wandb package, which is not installed: pip install wandb"
        )
    if not args.wandb and (args.wandb_mode or args.wandb_project):
        parser.error("--wandb_mode and --wandb_project only apply together with --wandb")
    config = make_config(
        args.preset,
        args.workdir or f"runs/{args.preset}",
        steps=args.steps,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        seed=args.seed,
        stop_after=args.stop_after,
        peak_lr=args.peak_lr,
        schedule=args.schedule,
        schedule_kwargs=args.schedule_kwargs,
        warmup_steps=args.warmup_steps,
        warmup_ratio=args.warmup_ratio,
        warmup_type=args.warmup_type,
        no_lr_schedule=args.no_lr_schedule,
        warmup_one_step_ahead=args.warmup_one_step_ahead or None,
        scale_lr=args.scale_lr,
        base_batch_size=args.base_batch_size,
        rewarmup_steps=args.rewarmup_steps,
        rewarmup_peak_lr=args.rewarmup_peak_lr,
        rewarmup_from=args.rewarmup_from,
        weight_decay=args.weight_decay,
        grad_clip=args.grad_clip,
        log_every=args.log_every,
        eval_every=args.eval_every,
        eval_batches=args.eval_batches,
        checkpoint_every=args.checkpoint_every,
        keep_checkpoints=args.keep_checkpoints,
        steps_per_call=args.steps_per_call,
        progress=False if args.no_progress else None,
        dataset=args.dataset,
        text_key=args.text_key,
        source_dir=args.source_dir,
        data_dir=args.data_dir,
        wandb=args.wandb,
        wandb_project=args.wandb_project,
        wandb_mode=args.wandb_mode,
    )
    try:
        config.validate()
        make_schedule(config)
    except ValueError as e:  # ConfigError, or warmup_jax's message for schedule arguments.
        parser.error(str(e))
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
        summary = run(config, allow_schedule_change=args.allow_schedule_change)
    except ConfigError as e:  # Found only once the data or the checkpoint is read.
        parser.exit(2, f"{parser.prog}: error: {e}\n")
    except RunStopped as e:  # A fault; the message says what is intact and what to do.
        print(f"{parser.prog}: stopped: {e}", file=sys.stderr)
        return e.exit_status
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

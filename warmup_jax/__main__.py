"""Look at a schedule before training with it: ``python -m warmup_jax table|plot|list``.

Examples::

    python -m warmup_jax table cosine_schedule_with_warmup peak_value=3e-4 num_warmup_steps=100 num_training_steps=1000
    python -m warmup_jax table cosine 3e-4 num_warmup_steps=100 num_training_steps=1000 --steps 0 50 100 1000
    python -m warmup_jax plot exponential_warmup peak_value=1e-3 warmup_steps=500 --until 1000 --out warmup.png
    python -m warmup_jax plot --config run/schedule.json --out lr.png
    python -m warmup_jax plot "3e-4 * linear_warmup(1.0, 1000) * inverse_sqrt_decay(1.0, 10000)" --until 20000

Bad input of any kind ends with a message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import warmup_jax
from warmup_jax._checks import max_step, shorten
from warmup_jax._schedule import Schedule
from warmup_jax.expressions import _shown, callables, looks_like_expression

_MAX_PLOT_POINTS = 200_000


def _parse_value(text: str) -> Any:
    """``3e-4`` -> 3e-4, ``100`` -> 100, ``null`` -> None, ``[1,2]`` -> [1, 2], else the text."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def build_schedule(name: str | None, arguments: Sequence[str], config: str | None) -> Schedule:
    """The schedule the command line describes: a config file, or a name with arguments.

    ``name`` is a constructor (``cosine_decay``) or a transformers scheduler name (``cosine``);
    ``arguments`` are ``key=value`` pairs, and for a transformers name the first may be the bare
    peak learning rate.
    """
    if config is not None:
        if name is not None or arguments:
            raise ValueError(
                "give either --config FILE or a schedule name with arguments, not both."
            )
        path = Path(config)
        if not path.is_file():  # a folder, a FIFO or a device would fail or hang
            what = "does not exist" if not path.exists() else "is not a regular file"
            raise ValueError(f"cannot read --config {config}: it {what}.")
        try:
            text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is fine
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise ValueError(f"cannot read --config {config}: {reason}.") from None
        return warmup_jax.from_config(text)
    if name is None:
        raise ValueError("name a schedule (see `python -m warmup_jax list`) or give --config FILE.")
    if looks_like_expression(name):
        if arguments:
            raise ValueError(
                "a schedule expression takes no key=value arguments: put them in its calls."
            )
        return warmup_jax.parse(name)
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for item in arguments:
        key, sep, value = item.partition("=")
        if sep:
            keywords[key.strip()] = _parse_value(value)
        elif keywords:
            raise ValueError(f"positional argument {item!r} must come before key=value arguments.")
        else:
            positional.append(_parse_value(item))
    transformers = name in warmup_jax.SCHEDULE_NAMES
    if name in warmup_jax.registered_names():
        constructor = getattr(warmup_jax, name)
        try:
            inspect.signature(constructor).bind(*positional, **keywords)
        except TypeError as error:
            # "constant" and "warmup_stable_decay" are also transformers names: their
            # arguments decide which one is meant.
            if not transformers:
                raise ValueError(f"{name}(): {shorten(str(error), 200)}") from None
        else:
            return constructor(*positional, **keywords)
    if transformers:
        if len(positional) == 1 and "peak_value" not in keywords:
            keywords["peak_value"] = positional.pop()
        if positional or "peak_value" not in keywords:
            raise ValueError(
                f"{name!r} needs the peak learning rate: `{name} 3e-4 ...` or peak_value=3e-4."
            )
        if "name" in keywords:
            raise ValueError(f"{name!r} takes no argument called 'name'.")
        return warmup_jax.schedule_by_name(name, **keywords)
    raise ValueError(
        f"unknown schedule {shorten(repr(name))}; run `python -m warmup_jax list` to see them all."
    )


def _horizon(schedule: Schedule) -> int:
    """A sensible last step to show: where the schedule ends, if it does."""
    return min(schedule.end_step or max(10 * schedule.warmup_steps, 1000), max_step())


def _values(schedule: Schedule, steps: np.ndarray) -> np.ndarray:
    """The schedule at ``steps`` (int64): checked on the host, so a step past what the schedule
    can give raises ValueError instead of wrapping."""
    return np.asarray(schedule(steps), dtype=np.float64)


def _plot_steps(until: int) -> np.ndarray:
    if until + 1 <= _MAX_PLOT_POINTS:
        return np.arange(until + 1)
    return np.unique(np.linspace(0, until, _MAX_PLOT_POINTS).astype(np.int64))


def write_plot(schedule: Schedule, until: int, path: Path, log_scale: bool = False) -> None:
    """Writes a PNG of the schedule's value at every step from 0 to ``until``."""
    import matplotlib  # noqa: PLC0415  (only plots need it)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    steps = _plot_steps(until)
    values = _values(schedule, steps)
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=120)
    axes.plot(steps, values, linewidth=1.5)
    if schedule.warmup_steps and schedule.warmup_steps <= until:
        axes.axvline(schedule.warmup_steps, color="grey", linestyle=":", linewidth=1)
        axes.annotate(
            " warmup ends", (schedule.warmup_steps, axes.get_ylim()[1]), va="top", color="grey"
        )
    if log_scale:
        axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel("learning rate")
    axes.set_title(textwrap.fill(repr(schedule), 110), fontsize=7)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m warmup_jax",
        description="Print or plot a learning-rate schedule before you train with it.",
        epilog="Run `python -m warmup_jax list` for every schedule name and its arguments.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "name",
        nargs="?",
        help="a schedule: a constructor such as cosine_decay, or a transformers name such as cosine",
    )
    common.add_argument(
        "arguments",
        nargs="*",
        metavar="key=value",
        help="the schedule's arguments, e.g. peak_value=3e-4 num_warmup_steps=100",
    )
    common.add_argument(
        "--config",
        metavar="FILE",
        help="a JSON file written by schedule.to_config() (instead of a name)",
    )
    common.add_argument(
        "--until",
        type=int,
        metavar="STEP",
        help="the last step to show (default: the end of training, if the schedule knows it)",
    )
    table = commands.add_parser(
        "table", parents=[common], help="print the learning rate at chosen steps"
    )
    table.add_argument(
        "--steps",
        type=int,
        nargs="+",
        metavar="STEP",
        help="the steps to print (default: 11 evenly spaced steps up to --until, and the end of warmup)",
    )
    table.add_argument(
        "--json",
        action="store_true",
        help='print JSON lines {"step": ..., "lr": ...} instead of a table',
    )
    plot = commands.add_parser(
        "plot", parents=[common], help="write a PNG plot of the learning rate at every step"
    )
    plot.add_argument(
        "--out",
        default="schedule.png",
        metavar="PNG",
        help="where to write the plot (default: schedule.png)",
    )
    plot.add_argument("--log", action="store_true", help="logarithmic learning-rate axis")
    commands.add_parser("list", help="list every schedule name with its arguments")
    return parser


def _list() -> str:
    lines = [
        "Schedules (python -m warmup_jax table NAME key=value ..., or the call as an expression):"
    ]
    for name in warmup_jax.registered_names():
        lines.append(f"  {name}{_shown(inspect.signature(getattr(warmup_jax, name)))}")
    lines.append("Also callable in expressions (values, not table names):")
    for name, function in sorted(callables().items()):
        if name not in warmup_jax.registered_names():
            lines.append(f"  {name}{_shown(inspect.signature(function))}")
    lines.append("Operators: a >> b runs b after a ends; a * b multiplies schedules and numbers.")
    lines.append(
        "transformers scheduler names (python -m warmup_jax table NAME PEAK_LR key=value ...):"
    )
    lines.append("  " + ", ".join(warmup_jax.SCHEDULE_NAMES))
    return "\n".join(lines)


_PLOT_HINT = "pip install matplotlib"


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status (2 for bad input)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        print(_list())
        return 0
    try:
        schedule = build_schedule(args.name, args.arguments, args.config)
    except ValueError as error:
        parser.error(str(error))
    if args.command == "plot":
        try:
            import matplotlib  # noqa: F401, PLC0415
        except ImportError:
            parser.error(
                f"plot needs matplotlib, which is not installed; add it with: {_PLOT_HINT}"
            )
    until = args.until if args.until is not None else _horizon(schedule)
    if not 0 <= until <= max_step():
        parser.error(f"--until must be a step in [0, {max_step()}], got {shorten(str(until))}.")
    if args.command == "plot":
        path = Path(args.out)
        if path.suffix.lower() != ".png":
            path = path.with_name(path.name + ".png")  # what matplotlib would write
        try:
            write_plot(schedule, until, path, log_scale=args.log)
        except ValueError as error:
            parser.error(str(error))
        except OSError as error:
            parser.error(f"cannot write {path}: {error.strerror or error}.")
        print(f"wrote {path} (steps 0 to {until})")
        return 0
    if args.steps:
        steps = np.asarray(args.steps)
        if any(step < 0 for step in args.steps):
            parser.error("--steps must all be >= 0.")
    else:
        marks = np.linspace(0, until, 11).round().astype(np.int64)
        extra = [schedule.warmup_steps] if schedule.warmup_steps <= until else []
        steps = np.unique(np.concatenate([marks, extra]).astype(np.int64))
    try:
        values = _values(schedule, steps)
    except ValueError as error:
        parser.error(str(error))
    if args.json:
        for step, value in zip(steps, values, strict=True):
            print(json.dumps({"step": int(step), "lr": float(value)}))
        return 0
    print(f"# {shorten(repr(schedule), 2000)}")
    print(f"{'step':>12}  learning rate")
    for step, value in zip(steps, values, strict=True):
        print(f"{int(step):>12}  {value:.9g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m train.lr_find``: an LR range test, to choose ``--peak_lr`` before a run.

From the run's own initialization (same flags, seed, model and data as ``python -m train``), it
trains for up to ``--num_steps`` steps while the learning rate grows geometrically from
``--min_lr`` to ``--max_lr``::

    lr_i = min_lr * (max_lr / min_lr) ** (i / (num_steps - 1)),   i = 0 .. num_steps - 1

(Smith 2017, "Cyclical Learning Rates for Training Neural Networks"; fastai's ``lr_find``). The
optimizer is the run's AdamW after gradient clipping (its ``--b1``, ``--b2``, ``--weight_decay``,
``--grad_clip``; ``--hparam`` schedules and ``--plateau`` are left out: only the LR moves), the
batches are the run's first ``num_steps`` batches, and the steps run as a few compiled
``lax.scan`` calls (``train.step.make_train_step``). Step i's loss is the training loss of its
batch before update i, the update that uses ``lr_i`` (as fastai pairs them).

The losses are smoothed as fastai does, by an exponential moving average with bias correction
(``beta = --smoothing``)::

    avg_i = beta * avg_{i-1} + (1 - beta) * loss_i,  avg_{-1} = 0;   smooth_i = avg_i / (1 - beta ** (i + 1))

and the test stops after the first step whose smoothed loss is above ``--stop_factor`` times the
best smoothed loss so far, or is not finite. Three suggestions come from the smoothed curve, with
fastai's trimming (its first ``num_steps // 10`` points and its last 5 are left out, and
everything from the first non-finite value on):

* ``steepest``: the LR where the smoothed loss falls fastest per unit of log LR;
* ``valley``: fastai's default since 2.5, the middle of the longest valley (see ``valley``);
* ``minimum_over_10``: a tenth of the LR at the lowest smoothed loss.

``suggested_lr`` is the steepest point's when the run's schedule has a warmup, else the valley's
(``suggestion_for``; measured in results/lr_find.md). Outputs in ``--out`` (default: the run's
workdir): ``lr_find.json`` and ``lr_find.png``, and a printed line with the flag to use.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import pathlib
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from train import config as config_lib
from train.config import ConfigError, RunConfig

JSON_FILE, PNG_FILE = "lr_find.json", "lr_find.png"


def suggestion_for(config: RunConfig) -> str:
    """The suggestion recommended for the run ``config`` trains: the steepest point when its
    schedule starts with a warmup (``--warmup_steps`` or ``--warmup_ratio`` above 0, or
    ``one_cycle``), else the valley (``--no_lr_schedule``, no warmup, or a schedule expression,
    whose shape is not looked into)."""
    from warmup_jax.expressions import looks_like_expression  # noqa: PLC0415

    if config.no_lr_schedule or looks_like_expression(config.schedule):
        return SUGGESTED_WITHOUT
    if config.schedule == "one_cycle":
        return SUGGESTED_WITH_WARMUP
    warmup = config.warmup_steps if config.warmup_steps is not None else config.warmup_ratio
    return SUGGESTED_WITH_WARMUP if warmup not in (0, 0.0) else SUGGESTED_WITHOUT


# fastai's trimming before the suggestions: lr_find's lrs[num_it // 10 : -5].
SKIP_END = 5
# The recommended suggestion, by whether the run that follows has a warmup. fastai made "valley"
# its default in 2.5 (2021) because steepest descent is decided by one noisy pair of neighbouring
# points (and early spikes), and minimum/10 by where the divergence happens to begin. Measured on
# this harness (results/lr_find.md: 2 seeds of lr_find, training at seed 0's suggestions): with a
# warmup the steepest point trained best (1.572, better than the grid's best 1.616; the valley
# 1.839), without one the valley (1.664 against the steepest's 1.688).
SUGGESTED_WITH_WARMUP, SUGGESTED_WITHOUT = "steepest", "valley"
SUGGESTION_NAMES = ("steepest", "valley", "minimum_over_10")
DEFAULTS = dict(min_lr=1e-7, max_lr=10.0, num_steps=100, smoothing=0.98, stop_factor=4.0)
MAX_STEPS = 100_000


# -- the pure parts: LRs, smoothing, stopping, suggestions ------------------------------------


def range_lrs(min_lr: float, max_lr: float, num_steps: int) -> np.ndarray:
    """The test's learning rates in float64: ``min_lr * (max_lr / min_lr) ** (i / (num_steps - 1))``."""
    i = np.arange(num_steps, dtype=np.float64)
    return min_lr * (max_lr / min_lr) ** (i / (num_steps - 1))


def range_schedule(min_lr: float, max_lr: float, num_steps: int) -> Any:
    """The same LRs as a ``warmup_jax`` schedule, evaluated in the compiled step (in float32):
    an exponential warmup from ``min_lr`` over ``num_steps - 1`` steps, ``max_lr`` after."""
    import warmup_jax  # noqa: PLC0415

    return warmup_jax.exponential_warmup(max_lr, num_steps - 1, init_value=min_lr)


def smooth_losses(losses: Sequence[float], beta: float) -> np.ndarray:
    """fastai's bias-corrected EMA: ``avg_i = beta * avg_{i-1} + (1 - beta) * loss_i`` from
    ``avg_{-1} = 0``, and ``smooth_i = avg_i / (1 - beta ** (i + 1))``. A non-finite loss makes
    every later smoothed value non-finite."""
    avg = 0.0
    out = np.empty(len(losses), dtype=np.float64)
    for i, loss in enumerate(losses):
        avg = beta * avg + (1.0 - beta) * float(loss)
        out[i] = avg / (1.0 - beta ** (i + 1))
    return out


def stop_index(smoothed: Sequence[float], stop_factor: float) -> int | None:
    """The first step whose smoothed loss is not finite or exceeds ``stop_factor`` times the best
    (lowest) smoothed loss up to and including it; None when no step does."""
    best = math.inf
    for i, value in enumerate(smoothed):
        if not math.isfinite(value):
            return i
        best = min(best, value)
        if value > stop_factor * best:
            return i
    return None


def steepest(lrs: np.ndarray, losses: np.ndarray) -> tuple[float, int]:
    """fastai's ``steep``: ``g_i = (loss_{i+1} - loss_i) / (log lr_{i+1} - log lr_i)``; the LR
    ``lrs[argmin g]`` (the left end of the steepest descent) and that index."""
    lrs, losses = np.asarray(lrs, np.float64), np.asarray(losses, np.float64)
    if len(losses) < 2:
        raise ValueError("steepest descent needs at least 2 points")
    grads = np.diff(losses) / np.diff(np.log(lrs))
    i = int(np.argmin(grads))
    return float(lrs[i]), i


def valley(lrs: np.ndarray, losses: np.ndarray) -> tuple[float, int]:
    """fastai's ``valley`` (fastai/callback/schedule.py, after Zachary Mueller's gist), step by
    step: ``lds[i]`` is the length of the longest strictly decreasing sequence of losses ending at
    point i (``lds[i] = 1 + max lds[j]`` over ``j < i`` with ``loss_i < loss_j``); the valley ends
    at the first point with the largest ``lds`` (``max_end``) and starts ``lds[max_end]`` points
    before it (``max_start``; it may be -1, as in fastai); with ``s = (max_end - max_start) / 3``
    the suggestion is the point ``max_start + int(s) + int(s / 2)``.

    That index is about halfway through the valley (1/3 + 1/6 of it: the middle of its middle
    third), although the method is often described as "2/3 of the way down the valley"; this is
    fastai's code, not the description. Returns the LR there and its index.
    """
    losses = np.asarray(losses, np.float64)
    n = len(losses)
    if n < 1:
        raise ValueError("the valley needs at least 1 point")
    lds = [1] * n
    max_start, max_end = 0, 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    # max(..., 0): for a valley of 2 points from the first one fastai's index is -1, which
    # Python reads as the last point; the first is meant.
    idx = max(max_start + int(sections) + int(sections / 2), 0)
    return float(lrs[idx]), idx


def minimum_over_10(lrs: np.ndarray, losses: np.ndarray) -> tuple[float, int]:
    """fastai's ``minimum``: a tenth of the LR at the lowest loss; and the index of that lowest
    loss (where the plot marks it)."""
    losses = np.asarray(losses, np.float64)
    if len(losses) < 1:
        raise ValueError("the minimum needs at least 1 point")
    i = int(np.argmin(losses))
    return float(lrs[i]) / 10.0, i


def suggest(
    lrs: Sequence[float],
    smoothed: Sequence[float],
    num_steps: int,
    skip_start: int | None = None,
    skip_end: int = SKIP_END,
) -> dict[str, dict[str, Any]] | None:
    """The three suggestions from a (possibly stopped) smoothed curve, fastai's way.

    The points kept are ``[skip_start : len - skip_end]`` (``skip_start`` defaults to
    ``num_steps // 10``), up to the first non-finite one. Each suggestion is ``{"lr", "index",
    "at_lr", "smoothed_loss"}``: ``index`` into the whole curve of the point the heuristic picked,
    ``at_lr`` and ``smoothed_loss`` that point's LR and loss (for ``minimum_over_10``, ``lr`` is a
    tenth of ``at_lr``). None when fewer than 2 points remain (the loss diverged too early: start
    lower with --min_lr, or give more --num_steps).
    """
    lrs, smoothed = np.asarray(lrs, np.float64), np.asarray(smoothed, np.float64)
    start = num_steps // 10 if skip_start is None else skip_start
    end = len(smoothed) - skip_end
    kept_lrs, kept = lrs[start:end], smoothed[start:end]
    bad = np.flatnonzero(~np.isfinite(kept))
    if len(bad):
        kept_lrs, kept = kept_lrs[: bad[0]], kept[: bad[0]]
    if len(kept) < 2:
        return None
    found = {}
    for name, heuristic in (
        ("steepest", steepest),
        ("valley", valley),
        ("minimum_over_10", minimum_over_10),
    ):
        lr, i = heuristic(kept_lrs, kept)
        found[name] = {
            "lr": lr,
            "index": start + i,
            "at_lr": float(kept_lrs[i]),
            "smoothed_loss": float(kept[i]),
        }
    return found


# -- the test itself --------------------------------------------------------------------------


def check_settings(
    min_lr: float, max_lr: float, num_steps: int, smoothing: float, stop_factor: float
) -> None:
    """Raises ``ConfigError`` (naming the flag) for settings that cannot make an LR range test."""
    if not (math.isfinite(min_lr) and min_lr > 0):
        raise ConfigError(f"--min_lr must be a positive number, got {min_lr!r}")
    if not (math.isfinite(max_lr) and max_lr > min_lr):
        raise ConfigError(
            f"--max_lr must be a finite number above --min_lr ({min_lr:g}), got {max_lr!r}"
        )
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 10:
        raise ConfigError(
            f"--num_steps must be a whole number of at least 10 (the suggestions leave out the "
            f"first tenth and the last 5 points), got {num_steps!r}"
        )
    if num_steps > MAX_STEPS:
        raise ConfigError(f"--num_steps must be at most {MAX_STEPS}, got {num_steps}")
    if not (math.isfinite(smoothing) and 0 <= smoothing < 1):
        raise ConfigError(
            f"--smoothing is the EMA's beta: a number in [0, 1) (0: no smoothing), got {smoothing!r}"
        )
    if not (math.isfinite(stop_factor) and stop_factor > 1):
        raise ConfigError(
            f"--stop_factor must be a number above 1 (stop once the smoothed loss exceeds this "
            f"many times its best), got {stop_factor!r}"
        )


def _json_number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def find_lr(
    config: RunConfig,
    min_lr: float = DEFAULTS["min_lr"],
    max_lr: float = DEFAULTS["max_lr"],
    num_steps: int = DEFAULTS["num_steps"],
    smoothing: float = DEFAULTS["smoothing"],
    stop_factor: float = DEFAULTS["stop_factor"],
    steps_per_call: int | None = None,
) -> dict[str, Any]:
    """Runs the LR range test of ``config``'s run and returns what ``lr_find.json`` holds.

    Writes nothing. Keys: ``lr``, ``loss``, ``smoothed_loss`` (one per step run, non-finite values
    as None), ``steps_run``, ``stopped_at_step`` (the step that met the stopping rule, None if
    none did), ``stop_reason``, ``suggestions`` (``suggest``'s dict, or None), ``suggested_lr``
    (the LR of ``suggestion_for(config)``, or None when there is no suggestion), ``suggested_by``,
    ``settings`` (the arguments), ``config`` (``config.to_dict()``), ``data`` and
    ``wall_time_s``. ``steps_per_call`` (default ``ceil(num_steps / 4)``): steps per compiled
    call; the stopping rule is checked between calls, so up to that many steps past the stop are
    computed and dropped.

    Raises ``ConfigError`` for bad settings or data that cannot make the run.
    """
    check_settings(min_lr, max_lr, num_steps, smoothing, stop_factor)
    started = time.perf_counter()
    import jax  # noqa: PLC0415

    from train import data as data_lib  # noqa: PLC0415
    from train.loop import DEVICE_DATA_LIMIT, load_data  # noqa: PLC0415
    from train.model import ByteTransformer  # noqa: PLC0415
    from train.state import create_train_state, make_optimizer  # noqa: PLC0415
    from train.step import Windows, make_train_step  # noqa: PLC0415

    data = load_data(config)
    resolve = getattr(config_lib, "resolve_lengths", None)
    if resolve is not None and not getattr(config, "lengths_resolved", True):
        config = resolve(config, len(data.train))
    schedule = range_schedule(min_lr, max_lr, num_steps)
    k = steps_per_call or math.ceil(num_steps / 4)
    calls = math.ceil(num_steps / k)
    total = calls * k  # the last call may run past num_steps at max_lr; those steps are dropped
    # Only the learning rate moves: the run's AdamW without --hparam schedules or --plateau.
    plain = dataclasses.replace(config, hyperparams={}, plateau=None, schedule="constant")
    model = ByteTransformer(config.model, config.seq_len, norm=getattr(config, "norm", "pre"))
    state = create_train_state(config, model, make_optimizer(plain, schedule))
    train_step = make_train_step(model, schedule, k)
    tokens = data.train
    data_lib.train_batch(tokens, config.seed, 0, 1, config.seq_len)  # refuses too short a split
    on_device = tokens.nbytes <= DEVICE_DATA_LIMIT
    if on_device:
        windows = Windows(
            jax.device_put(tokens),
            jax.device_put(
                data_lib.train_starts(
                    len(tokens), config.seed, 0, total, config.batch_size, config.seq_len
                )
            ),
        )

    losses: list[float] = []
    lrs_in_step: list[float] = []
    stopped: int | None = None
    for call in range(calls):
        batch = (
            windows
            if on_device
            else data_lib.train_batches(
                tokens, config.seed, call * k, k, config.batch_size, config.seq_len
            )
        )
        state, metrics = train_step(state, batch)
        fetched = jax.device_get(metrics)
        losses += [float(x) for x in np.atleast_1d(fetched["loss"])]
        lrs_in_step += [float(x) for x in np.atleast_1d(fetched["learning_rate"])]
        stopped = stop_index(smooth_losses(losses[:num_steps], smoothing), stop_factor)
        if stopped is not None:
            break
    steps_run = num_steps if stopped is None else stopped + 1
    losses = losses[:steps_run]
    smoothed = smooth_losses(losses, smoothing)
    lrs = range_lrs(min_lr, max_lr, num_steps)[:steps_run]
    # The compiled step's float32 LRs are the formula's to float32 rounding (tests check it).
    suggestions = suggest(lrs, smoothed, num_steps)
    if stopped is None:
        reason = f"reached --num_steps {num_steps} (--max_lr {max_lr:g})"
    elif not math.isfinite(smoothed[stopped]):
        reason = f"the loss became non-finite at step {stopped} (LR {lrs[stopped]:.3g})"
    else:
        reason = (
            f"the smoothed loss {smoothed[stopped]:.4g} at step {stopped} (LR {lrs[stopped]:.3g}) "
            f"exceeded {stop_factor:g} x its best, {float(np.nanmin(smoothed)):.4g}"
        )
    suggested = suggestion_for(config)
    return {
        "lr": [float(x) for x in lrs],
        "lr_in_step": lrs_in_step[:steps_run],
        "loss": [_json_number(x) for x in losses],
        "smoothed_loss": [_json_number(x) for x in smoothed],
        "steps_run": steps_run,
        "stopped_at_step": stopped,
        "stop_reason": reason,
        "suggestions": suggestions,
        "suggested_lr": suggestions[suggested]["lr"] if suggestions else None,
        "suggested_by": suggested,
        "settings": {
            "min_lr": min_lr,
            "max_lr": max_lr,
            "num_steps": num_steps,
            "smoothing": smoothing,
            "stop_factor": stop_factor,
            "skip_start": num_steps // 10,
            "skip_end": SKIP_END,
            "steps_per_call": k,
        },
        "config": config.to_dict(),
        "data": {"name": data.name, "fingerprint": data.fingerprint},
        "wall_time_s": round(time.perf_counter() - started, 2),
    }


def summary_line(result: dict[str, Any]) -> str:
    """``suggested --peak_lr 1.1e-02 (steepest; valley 3.2e-03, minimum/10 4.0e-03)``, or why
    there is no suggestion."""
    s = result["suggestions"]
    if not s:
        return (
            f"no suggestion: {result['stop_reason']} after {result['steps_run']} steps, too few "
            "points for the heuristics; start lower (--min_lr) or give more --num_steps"
        )
    names = {"steepest": "steepest", "valley": "valley", "minimum_over_10": "minimum/10"}
    others = ", ".join(
        f"{label} {s[name]['lr']:.1e}"
        for name, label in names.items()
        if name != result["suggested_by"]
    )
    return f"suggested --peak_lr {result['suggested_lr']:.1e} ({result['suggested_by']}; {others})"


def plot(result: dict[str, Any], path: pathlib.Path) -> None:
    """lr_find.png: the loss per step (faint) and its smoothed curve against the LR (log x), each
    suggestion marked at the point it picked (minimum/10 also as a dashed line at its LR)."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    lrs = np.array(result["lr"])
    raw = np.array([np.nan if x is None else x for x in result["loss"]], dtype=np.float64)
    smoothed = np.array(
        [np.nan if x is None else x for x in result["smoothed_loss"]], dtype=np.float64
    )
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.plot(lrs, raw, color="tab:blue", alpha=0.25, linewidth=0.8, label="loss per step")
    ax.plot(lrs, smoothed, color="tab:blue", label="smoothed (EMA, bias-corrected)")
    finite = smoothed[np.isfinite(smoothed)]
    shown = raw[: max(1, len(raw) - SKIP_END)]
    shown = shown[np.isfinite(shown)]
    if len(finite):
        # From the lowest loss to the start (or the highest smoothed loss before the last 5
        # points): the divergence at the end would squash the curve.
        low = float(min(finite.min(), shown.min() if len(shown) else np.inf))
        high = float(max(finite[0], finite[: max(1, len(finite) - SKIP_END)].max()))
        pad = 0.05 * (high - low or 1.0)
        ax.set_ylim(low - pad, high + 3 * pad)
    markers = {"steepest": ("tab:orange", "v"), "valley": ("tab:green", "o")}
    markers["minimum_over_10"] = ("tab:red", "s")
    for name, found in (result["suggestions"] or {}).items():
        color, marker = markers[name]
        chosen = " (suggested)" if name == result["suggested_by"] else ""
        label = f"{name.replace('_over_', '/')}: {found['lr']:.2g}{chosen}"
        ax.plot(
            [found["at_lr"]],
            [found["smoothed_loss"]],
            marker=marker,
            color=color,
            markersize=10 if chosen else 7,
            linestyle="none",
            label=label,
        )
        if name == "minimum_over_10":
            ax.axvline(found["lr"], color=color, linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss (nats per byte)")
    cfg = result["config"]
    ax.set_title(
        f"LR range test: {cfg['preset']} preset{', Post-LN' if cfg.get('norm') == 'post' else ''}, "
        f"seed {cfg['seed']}, "
        f"{result['steps_run']} of {result['settings']['num_steps']} steps"
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_outputs(result: dict[str, Any], out: str | pathlib.Path) -> tuple[pathlib.Path, ...]:
    """Writes ``lr_find.json`` and ``lr_find.png`` into ``out`` (created); returns their paths."""
    out = pathlib.Path(out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    json_path, png_path = out / JSON_FILE, out / PNG_FILE
    json_path.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
    plot(result, png_path)
    return json_path, png_path


# The settings the LR range test depends on: an lr_find.json made with the same ones (and the same
# test settings) is this run's test, whatever its --peak_lr, --steps or intervals.
SAME_TEST_KEYS = (
    "preset", "model", "batch_size", "seq_len", "seed", "b1", "b2", "weight_decay", "grad_clip",
    "dataset", "text_key", "norm",
)  # fmt: skip


def _same_test(saved: dict[str, Any], config: RunConfig, settings: dict[str, Any]) -> bool:
    mine = config.to_dict()
    return all(saved["settings"].get(k) == v for k, v in settings.items()) and all(
        saved["config"].get(k) == mine.get(k) for k in SAME_TEST_KEYS
    )


def find_or_load(config: RunConfig, out: str | pathlib.Path, **settings: Any) -> dict[str, Any]:
    """``find_lr(config, **settings)``, written to ``out`` (``write_outputs``); or, when ``out``
    already holds an ``lr_find.json`` of the same test (the ``SAME_TEST_KEYS`` of the config and
    the same ``settings``), that one, without training: a resumed ``--peak_lr auto`` run then
    gets the same peak it started with."""
    settings = {**DEFAULTS, **settings}
    path = pathlib.Path(out).expanduser() / JSON_FILE
    if path.exists():
        try:
            saved = json.loads(path.read_text())
            if _same_test(saved, config, settings):
                return saved
        except (ValueError, KeyError, TypeError, AttributeError):
            pass  # not ours, or damaged: run the test again
    result = find_lr(config, **settings)
    write_outputs(result, out)
    return result


# -- the command line -------------------------------------------------------------------------


def _float(text: str, positive: bool = False) -> float:
    """A finite number from the command line (above 0 with ``positive``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text[:80]!r}") from None
    if not math.isfinite(value) or (positive and not value > 0):
        kind = "positive" if positive else "finite"
        raise argparse.ArgumentTypeError(f"must be a {kind} number, got {text[:80]!r}")
    return value


def _positive_float(text: str) -> float:
    return _float(text, positive=True)


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:80]!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The command line: every flag of ``python -m train``, and the test's own."""
    parser = argparse.ArgumentParser(
        prog="python -m train.lr_find",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit status: 0 done; 1 the loss diverged too early for a suggestion (the JSON "
        "and the plot are still written); 2 bad flags or settings.",
    )
    config_lib.add_flags(parser)
    test = parser.add_argument_group("the LR range test")
    test.add_argument(
        "--min_lr",
        type=_positive_float,
        default=DEFAULTS["min_lr"],
        help="the learning rate of the first step (default: %(default)g)",
    )
    test.add_argument(
        "--max_lr",
        type=_positive_float,
        default=DEFAULTS["max_lr"],
        help="the learning rate of the last step, if the loss has not diverged before "
        "(default: %(default)g)",
    )
    test.add_argument(
        "--num_steps",
        type=_whole,
        default=DEFAULTS["num_steps"],
        help="steps from --min_lr to --max_lr, at least 10 (default: %(default)s)",
    )
    test.add_argument(
        "--smoothing",
        type=_float,
        default=DEFAULTS["smoothing"],
        help="beta of the loss's exponential moving average, in [0, 1) (default: %(default)g)",
    )
    test.add_argument(
        "--stop_factor",
        type=_float,
        default=DEFAULTS["stop_factor"],
        help="stop once the smoothed loss exceeds this many times its best, above 1 "
        "(default: %(default)g)",
    )
    test.add_argument(
        "--out",
        metavar="DIR",
        help="folder for lr_find.json and lr_find.png (default: the run's --workdir)",
    )
    return parser


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> RunConfig:
    """The run's ``RunConfig`` from the flags, checked; bad values end in ``parser.error``."""
    try:
        check_settings(args.min_lr, args.max_lr, args.num_steps, args.smoothing, args.stop_factor)
        config = config_lib.from_flags(args)
        resolve = getattr(config_lib, "resolve_lengths", None)
        if resolve is not None:
            config = resolve(config, train_tokens=None)
        config.validate()
    except ValueError as error:  # ConfigError included
        parser.error(str(error))
    return config


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m train.lr_find``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    config = config_from_args(args, parser)
    try:
        result = find_lr(
            config, args.min_lr, args.max_lr, args.num_steps, args.smoothing, args.stop_factor
        )
    except ConfigError as error:  # found once the data is read
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    out = args.out if args.out is not None else config.workdir
    json_path, png_path = write_outputs(result, out)
    print(
        f"lr_find: {result['steps_run']} steps in {result['wall_time_s']:.1f} s; {result['stop_reason']}"
    )
    print(summary_line(result))
    print(f"outputs: {json_path}, {png_path}")
    return 0 if result["suggestions"] else 1


if __name__ == "__main__":
    sys.exit(main())

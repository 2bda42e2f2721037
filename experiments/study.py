"""The warmup study: which learning-rate strategies train, at which peak LRs, and how well.

``python -m experiments.study --out DIR`` trains the ``small`` preset on the embedded Python-source data
over a grid of peak learning rates, for five strategies:

* ``constant``: the peak LR from the first step (no warmup, no decay);
* ``cosine``: cosine decay from the peak at step 0 (no warmup);
* ``linear_warmup_cosine``: linear warmup (10% of the steps) then cosine decay (transformers');
* ``exponential_warmup_cosine``: the same with an exponential warmup from ``peak / 1000``;
* ``untuned_linear_warmup_cosine``: Ma & Yarats' untuned linear warmup
  (``warmup_jax.untuned_linear_warmup``, a length of ``2 / (1 - b2)`` steps from Adam's ``b2``)
  over a cosine decay from step 0.

Each (strategy, peak LR, seed) is a real harness run (``train.loop.run``) in its own workdir under
``DIR/runs/``, so it leaves the usual metrics, plots and ``summary.json``. A run that already has
its result is not run again: stop the study at any time and start it again to continue.

A run **diverged** when a loss became non-finite (the harness stops such a run) or when its final
validation loss is above its initial loss (the training loss of step 0, before any update:
about ln 256 = 5.55 for this model). The study writes ``study.json`` (one record per run),
``study.md`` (tables) and ``study.png`` (validation loss against peak LR, the LR curves, and the
training loss at the largest peak LR) into ``DIR``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import pathlib
import platform
import shlex
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.timing import markdown_table
from train.config import ConfigError, RunConfig, make_config

STUDY_JSON, STUDY_MD, STUDY_PNG = "study.json", "study.md", "study.png"
# Written into a run's workdir when the harness stopped it for a non-finite value: its result.
STOPPED_FILE = "study_stopped.json"

FULL_PEAK_LRS = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)
FULL_SEEDS = (0, 1)
# --quick: every strategy once at a peak LR where no warmup fails, in short runs (a few minutes).
QUICK_PEAK_LRS = (1.0,)
QUICK_SEEDS = (0,)
QUICK_STEPS = 200


@dataclasses.dataclass(frozen=True)
class Strategy:
    """One way to set the learning rate, as the harness's settings for a peak LR."""

    name: str
    label: str
    warmup: str  # "none", "linear", "exponential" or "untuned_linear"
    schedule: str  # the shape after warmup: "constant" or "cosine"
    settings: Callable[[RunConfig], dict[str, Any]]


def _untuned(config: RunConfig) -> dict[str, Any]:
    # A schedule expression: the harness defines ``peak`` and ``steps``; tau follows Adam's b2.
    return {
        "schedule": f"untuned_linear_warmup(cosine_decay(peak, steps), b2={config.b2!r})",
        "warmup_steps": 0,
    }


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy(
            "constant",
            "constant, no warmup",
            "none",
            "constant",
            lambda c: {"no_lr_schedule": True, "warmup_steps": 0},
        ),
        Strategy(
            "cosine",
            "cosine, no warmup",
            "none",
            "cosine",
            lambda c: {"schedule": "cosine", "warmup_steps": 0},
        ),
        Strategy(
            "linear_warmup_cosine",
            "linear warmup + cosine",
            "linear",
            "cosine",
            lambda c: {"schedule": "cosine", "warmup_type": "linear"},
        ),
        Strategy(
            "exponential_warmup_cosine",
            "exponential warmup + cosine",
            "exponential",
            "cosine",
            lambda c: {"schedule": "cosine", "warmup_type": "exponential"},
        ),
        Strategy(
            "untuned_linear_warmup_cosine",
            "untuned linear warmup + cosine",
            "untuned_linear",
            "cosine",
            _untuned,
        ),
    )
}


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One point of the grid."""

    strategy: str
    peak_lr: float
    seed: int

    @property
    def name(self) -> str:
        return f"{self.strategy}/lr={self.peak_lr:g}/seed={self.seed}"


def make_grid(
    strategies: Sequence[str], peak_lrs: Sequence[float], seeds: Sequence[int]
) -> list[RunSpec]:
    """Every strategy at every peak LR and seed, in an order that fills the table evenly."""
    for name in strategies:
        if name not in STRATEGIES:
            raise ConfigError(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}")
    return [RunSpec(s, lr, seed) for seed in seeds for lr in peak_lrs for s in strategies]


# The grids of results/ were measured with weight decay on every parameter, before the harness's
# --no_decay (default: biases and LayerNorms): the studies keep that, so they reproduce.
STUDY_SETTINGS = {"no_decay": "none"}


def run_config(
    spec: RunSpec, out: pathlib.Path, preset: str, overrides: dict[str, Any]
) -> RunConfig:
    """The harness settings of one run; its workdir is ``out/runs/PRESET_STEPSsteps/...``."""
    base = make_config(preset, "unused", **overrides)
    strategy = STRATEGIES[spec.strategy]
    values = {**STUDY_SETTINGS, **overrides}
    values.update(strategy.settings(base))
    values.update(peak_lr=spec.peak_lr, seed=spec.seed, progress=False)
    workdir = (
        out
        / "runs"
        / f"{preset}_{base.steps}steps"
        / spec.strategy
        / f"lr{spec.peak_lr:g}_seed{spec.seed}"
    )
    config = make_config(preset, str(workdir), **values)
    config.validate()
    return config


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _json_number(value: Any) -> float | None:
    """JSON has no NaN or infinity: non-finite values are written as null."""
    return float(value) if _finite(value) else None


def record(spec: RunSpec, config: RunConfig) -> dict[str, Any] | None:
    """The study's record of a finished run, from its workdir; None if it has no result yet."""
    from train.logging import read_metrics  # noqa: PLC0415
    from train.schedule import make_schedule  # noqa: PLC0415

    workdir = pathlib.Path(config.workdir)
    summary_path, stopped_path = workdir / "summary.json", workdir / STOPPED_FILE
    if not summary_path.exists() and not stopped_path.exists():
        return None
    rows = read_metrics(workdir)
    train_losses = [r["train/loss"] for r in rows]
    initial = train_losses[0] if rows and rows[0]["step"] == 0 else None
    strategy = STRATEGIES[spec.strategy]
    result: dict[str, Any] = {
        "name": spec.name,
        "strategy": spec.strategy,
        "label": strategy.label,
        "peak_lr": spec.peak_lr,
        "warmup_steps": make_schedule(config).warmup_steps,
        "warmup": strategy.warmup,
        "schedule": strategy.schedule,
        "seed": spec.seed,
        "preset": config.preset,
        "steps": config.steps,
        "initial_loss": _json_number(initial),
        "max_train_loss": _json_number(max(train_losses[1:], default=None)),
        "workdir": str(workdir),
    }
    if summary_path.exists():
        summary = json.loads(summary_path.read_text())
        final = summary["final_val_loss"]
        non_finite = not _finite(final) or not all(_finite(x) for x in train_losses)
        result.update(
            final_val_loss=_json_number(final),
            final_perplexity=_json_number(summary["final_perplexity"]) if _finite(final) else None,
            stopped_at_step=None,
            wall_time_s=summary["wall_time_s"],
            schedule_config=summary["schedule"],
        )
        above_start = _finite(final) and initial is not None and final > initial
    else:
        stopped = json.loads(stopped_path.read_text())
        non_finite, above_start = True, False
        result.update(
            final_val_loss=None,
            final_perplexity=None,
            stopped_at_step=stopped["step"],
            wall_time_s=stopped["wall_time_s"],
            schedule_config=make_schedule(config).to_config(),
        )
    result["non_finite"] = non_finite
    result["diverged"] = bool(non_finite or above_start)
    return result


def byte_frequency_loss(config: RunConfig) -> float:
    """For scale: the validation loss (nats per byte) of predicting every byte by its frequency in
    the training split (add-one smoothed), the best a model that ignores context can do."""
    import numpy as np  # noqa: PLC0415

    from train.loop import load_data  # noqa: PLC0415

    data = load_data(config)
    counts = np.bincount(data.train, minlength=256).astype(np.float64) + 1.0
    log_p = np.log(counts / counts.sum())
    seen = np.bincount(data.validation, minlength=256)
    return float(-(seen * log_p).sum() / seen.sum())


def run_one(spec: RunSpec, config: RunConfig, keep_checkpoints: bool) -> dict[str, Any]:
    """Runs (or finishes) one grid point through the harness and returns its record."""
    import jax  # noqa: PLC0415

    from train import faults  # noqa: PLC0415
    from train.loop import run  # noqa: PLC0415

    existing = record(spec, config)
    if existing is not None:
        return existing
    workdir = pathlib.Path(config.workdir)
    started = time.perf_counter()
    try:
        summary = run(config)
    except faults.NonFiniteError as e:
        # A diverged run: the harness refuses to go on; its result is where and how it stopped.
        (workdir / STOPPED_FILE).write_text(
            json.dumps(
                {
                    "reason": "non-finite",
                    "step": e.step,
                    "learning_rate": e.learning_rate,
                    "message": str(e),
                    "wall_time_s": round(time.perf_counter() - started, 2),
                },
                indent=2,
            )
            + "\n"
        )
    else:
        if summary.get("stopped_early"):
            raise KeyboardInterrupt(f"stopped at step {summary['steps']}")  # Resumable later.
    finally:
        jax.clear_caches()  # Every run compiles its own step; do not keep them all.
    if not keep_checkpoints:
        shutil.rmtree(workdir / "checkpoints", ignore_errors=True)
    result = record(spec, config)
    assert result is not None
    return result


def progress_line(
    index: int, total: int, name: str, result: dict[str, Any], done_before: bool
) -> str:
    """``[3/70] linear/lr0.003_seed0: val loss 1.6161 (201 s)``: one run's line in the log."""
    loss = result["final_val_loss"]
    return (
        f"[{index}/{total}] {name}: "
        + (
            f"val loss {loss:.4f}"
            if loss is not None
            else f"non-finite at step {result['stopped_at_step']}"
        )
        + (" DIVERGED" if result["diverged"] else "")
        + (" (done before)" if done_before else f" ({result['wall_time_s']:.0f} s)")
    )


def run_study(
    out: str | pathlib.Path,
    grid: Sequence[RunSpec],
    preset: str = "small",
    overrides: dict[str, Any] | None = None,
    keep_checkpoints: bool = False,
    log: Callable[[str], None] = print,
    command: str | None = None,
) -> list[dict[str, Any]]:
    """Runs every grid point not yet done and writes study.json, study.md and study.png.

    The reports are rewritten after every run that trained, so a long study stopped half-way
    still has reports of what it finished. ``overrides`` are harness settings for every run (e.g.
    ``steps``, ``data_dir``); ``command`` is the command line that study.md names. Returns the
    records, in grid order.
    """
    out = pathlib.Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    overrides = dict(overrides or {})
    configs = [run_config(spec, out, preset, overrides) for spec in grid]  # All checked first.
    records: list[dict[str, Any]] = []
    top = header(command)
    baseline: float | None = None
    for index, (spec, config) in enumerate(zip(grid, configs, strict=True), 1):
        done_before = record(spec, config) is not None
        result = run_one(spec, config, keep_checkpoints)
        records.append(result)
        log(progress_line(index, len(grid), spec.name, result, done_before))
        if index == len(grid) or not done_before:
            if baseline is None:  # Once: the data set is the same for every run.
                baseline = byte_frequency_loss(config)
            write_reports(out, records, top, baseline)
    return records


# --------------------------------------------------------------------------------------------
# Reports


def _groups(records: Sequence[dict[str, Any]]) -> dict[tuple[str, float], list[dict[str, Any]]]:
    groups: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["strategy"], r["peak_lr"]), []).append(r)
    return groups


def _order(records: Sequence[dict[str, Any]]) -> tuple[list[str], list[float]]:
    strategies = [s for s in STRATEGIES if any(r["strategy"] == s for r in records)]
    return strategies, sorted({r["peak_lr"] for r in records})


def _mean_loss(runs: Sequence[dict[str, Any]]) -> float | None:
    """Mean final validation loss of the runs that did not diverge (None if all did)."""
    losses = [r["final_val_loss"] for r in runs if not r["diverged"]]
    return statistics.fmean(losses) if losses else None


def summarize(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per strategy: the best peak LR (lowest mean loss over seeds, no seed diverged), the largest
    peak LR at which no seed diverged, and the divergence count; and warmup against no warmup."""
    strategies, _ = _order(records)
    groups = _groups(records)
    per_strategy = {}
    for s in strategies:
        cells = {lr: runs for (name, lr), runs in groups.items() if name == s}
        stable = {lr: runs for lr, runs in cells.items() if not any(r["diverged"] for r in runs)}
        best_lr = min(stable, key=lambda lr: _mean_loss(stable[lr])) if stable else None
        per_strategy[s] = {
            "best_peak_lr": best_lr,
            "best_mean_val_loss": _mean_loss(stable[best_lr]) if best_lr is not None else None,
            "best_mean_perplexity": (
                statistics.fmean(r["final_perplexity"] for r in stable[best_lr])
                if best_lr is not None
                else None
            ),
            "largest_stable_peak_lr": max(stable) if stable else None,
            "diverged_runs": sum(r["diverged"] for runs in cells.values() for r in runs),
            "runs": sum(len(runs) for runs in cells.values()),
        }
    no_warmup = [s for s in strategies if STRATEGIES[s].warmup == "none"]
    warmup = [s for s in strategies if STRATEGIES[s].warmup != "none"]

    def best(names: list[str]) -> str | None:
        found = [n for n in names if per_strategy[n]["best_mean_perplexity"] is not None]
        return min(found, key=lambda n: per_strategy[n]["best_mean_perplexity"]) if found else None

    best_warm, best_cold = best(warmup), best(no_warmup)
    comparison = None
    if best_warm and best_cold:
        warm = per_strategy[best_warm]["best_mean_perplexity"]
        cold = per_strategy[best_cold]["best_mean_perplexity"]
        comparison = {
            "best_warmup": best_warm,
            "best_no_warmup": best_cold,
            # Positive: the best warmup run ends at a lower perplexity than the best without.
            "perplexity_reduction": (cold - warm) / cold,
        }
    return {"strategies": per_strategy, "warmup_vs_no_warmup": comparison}


def _fmt_lr(lr: float | None) -> str:
    return "-" if lr is None else f"{lr:g}"


def _cell(runs: Sequence[dict[str, Any]], key: str) -> str:
    ok = [r[key] for r in runs if not r["diverged"] and r[key] is not None]
    diverged = sum(r["diverged"] for r in runs)
    if not runs:
        return "-"
    if not ok:
        return f"**diverged ({diverged}/{len(runs)})**"
    text = f"{statistics.fmean(ok):.3f}"
    if len(ok) > 1:
        text += f" ({min(ok):.3f}-{max(ok):.3f})"
    if diverged:
        text += f" **{diverged}/{len(runs)} diverged**"
    return text


def _num(value: float | None) -> str:
    """A loss for a table: 2 decimals, or 3 significant digits when huge; 'nan' for non-finite."""
    if value is None:
        return "nan"
    return f"{value:.2f}" if abs(value) < 1e4 else f"{value:.3g}"


def to_markdown(
    records: Sequence[dict[str, Any]], header: str = "", baseline: float | None = None
) -> str:
    """study.md: the grid as tables, a per-strategy summary and every run.

    ``baseline`` (``byte_frequency_loss``) is quoted for scale.
    """
    strategies, lrs = _order(records)
    groups = _groups(records)
    label = {s: STRATEGIES[s].label for s in strategies}
    first = records[0]
    seeds = sorted({r["seed"] for r in records})
    parts = [
        "# Warmup study",
        header,
        f"Preset `{first['preset']}`, {first['steps']} steps per run, seeds {seeds}, "
        f"{len(records)} runs. Warmup steps: "
        + ", ".join(
            f"{label[s]}: {next(r['warmup_steps'] for r in records if r['strategy'] == s)}"
            for s in strategies
        )
        + ".",
        "**Diverged** means a loss became non-finite (the harness stops the run) or the final "
        "validation loss is above the initial loss (the training loss of step 0, before any "
        "update). Means are over the seeds that did not diverge; (min-max) over those seeds."
        + (
            f" For scale: predicting each byte by its frequency alone gives {baseline:.3f} "
            f"(perplexity {math.exp(baseline):.2f}); a run ending near it learned little more."
            if baseline is not None
            else ""
        ),
        "## Final validation loss (nats per byte)",
        markdown_table(
            ["strategy"] + [f"peak {lr:g}" for lr in lrs],
            [
                [label[s]] + [_cell(groups.get((s, lr), []), "final_val_loss") for lr in lrs]
                for s in strategies
            ],
        ),
        "## Final validation perplexity",
        markdown_table(
            ["strategy"] + [f"peak {lr:g}" for lr in lrs],
            [
                [label[s]] + [_cell(groups.get((s, lr), []), "final_perplexity") for lr in lrs]
                for s in strategies
            ],
        ),
        "## Largest training loss after step 0 (loss spikes)",
        markdown_table(
            ["strategy"] + [f"peak {lr:g}" for lr in lrs],
            [
                [label[s]]
                + [
                    " / ".join(_num(r["max_train_loss"]) for r in groups.get((s, lr), [])) or "-"
                    for lr in lrs
                ]
                for s in strategies
            ],
        ),
    ]
    summary = summarize(records)
    rows = []
    for s in strategies:
        d = summary["strategies"][s]
        rows.append(
            [
                label[s],
                _fmt_lr(d["best_peak_lr"]),
                "-" if d["best_mean_val_loss"] is None else f"{d['best_mean_val_loss']:.4f}",
                "-" if d["best_mean_perplexity"] is None else f"{d['best_mean_perplexity']:.3f}",
                _fmt_lr(d["largest_stable_peak_lr"]),
                f"{d['diverged_runs']}/{d['runs']}",
            ]
        )
    parts += [
        "## Per strategy",
        markdown_table(
            [
                "strategy",
                "best peak LR",
                "its mean val loss",
                "its mean perplexity",
                "largest peak LR with no divergence",
                "diverged runs",
            ],
            rows,
        ),
    ]
    comparison = summary["warmup_vs_no_warmup"]
    if comparison:
        parts.append(
            f"Best with warmup: {label[comparison['best_warmup']]}; best without: "
            f"{label[comparison['best_no_warmup']]}; with warmup the perplexity is "
            f"{abs(comparison['perplexity_reduction']):.2%} "
            f"{'lower' if comparison['perplexity_reduction'] >= 0 else 'higher'} "
            "(each at its own best peak LR)."
        )
    parts += [
        "## Every run",
        markdown_table(
            [
                "run",
                "warmup steps",
                "initial loss",
                "max train loss",
                "final val loss",
                "perplexity",
                "diverged",
                "wall time (s)",
            ],
            [
                [
                    r["name"],
                    r["warmup_steps"],
                    "-" if r["initial_loss"] is None else f"{r['initial_loss']:.4f}",
                    _num(r["max_train_loss"]),
                    "-" if r["final_val_loss"] is None else f"{r['final_val_loss']:.4f}",
                    "-" if r["final_perplexity"] is None else f"{r['final_perplexity']:.4g}",
                    ("yes, non-finite at step " + str(r["stopped_at_step"]))
                    if r["stopped_at_step"] is not None
                    else ("yes" if r["diverged"] else "no"),
                    f"{r['wall_time_s']:.0f}",
                ]
                for r in records
            ],
        ),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def plot(
    records: Sequence[dict[str, Any]], path: pathlib.Path, baseline: float | None = None
) -> None:
    """study.png: validation loss against peak LR, LR curves (whole run and warmup), and the
    training loss of every strategy at the largest peak LR (seed of the first run).

    ``baseline`` (``byte_frequency_loss``) is drawn as a reference line."""
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from train.logging import read_metrics  # noqa: PLC0415
    from train.schedule import make_schedule  # noqa: PLC0415

    strategies, lrs = _order(records)
    groups = _groups(records)
    colors = dict(zip(STRATEGIES, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    (ax_loss, ax_lr), (ax_train, ax_warm) = axes

    initial = [r["initial_loss"] for r in records if r["initial_loss"] is not None]
    ceiling = max(initial) if initial else math.log(256)
    for s in strategies:
        xs, means = [], []
        for lr in lrs:
            runs = groups.get((s, lr), [])
            mean = _mean_loss(runs)
            if mean is not None:
                xs.append(lr)
                means.append(mean)
            for r in runs:
                if r["diverged"]:
                    y = min(r["final_val_loss"] or math.inf, ceiling + 0.4)
                    ax_loss.scatter([lr], [y], marker="x", s=60, color=colors[s], zorder=3)
                else:
                    ax_loss.scatter([lr], [r["final_val_loss"]], s=12, color=colors[s], alpha=0.6)
        ax_loss.plot(xs, means, "o-", color=colors[s], label=STRATEGIES[s].label)
    ax_loss.axhline(ceiling, color="gray", linestyle="--", linewidth=1)
    ax_loss.text(lrs[0], ceiling, " initial loss: above it = diverged (x)", va="bottom", fontsize=8)
    if baseline is not None:
        ax_loss.axhline(baseline, color="gray", linestyle=":", linewidth=1)
        ax_loss.text(lrs[0], baseline, " byte frequencies alone", va="bottom", fontsize=8)
    ax_loss.set_xscale("log")
    ax_loss.set_xlabel("peak learning rate")
    ax_loss.set_ylabel("final validation loss (nats per byte)")
    ax_loss.set_title("Final validation loss (mean over seeds; x = diverged)")
    ax_loss.grid(alpha=0.3, which="both")
    ax_loss.legend(fontsize=8)

    # LR curves as a fraction of the peak: the same for every peak.
    first = records[0]
    steps = first["steps"]
    xs = jnp.arange(steps, dtype=jnp.int32)
    longest_warmup = max(r["warmup_steps"] for r in records) or steps // 10
    for s in strategies:
        run = next(r for r in records if r["strategy"] == s)
        config = run_config(
            RunSpec(s, 1.0, run["seed"]), pathlib.Path("/unused"), run["preset"], {"steps": steps}
        )
        values = jax.device_get(jax.vmap(make_schedule(config))(xs))
        ax_lr.plot(xs, values, color=colors[s], label=STRATEGIES[s].label)
        window = int(min(steps, 2 * longest_warmup))
        ax_warm.plot(xs[:window], values[:window], color=colors[s], label=STRATEGIES[s].label)
    ax_lr.set_title("Learning rate / peak over the run")
    ax_warm.set_title("The warmups (log scale)")
    ax_warm.set_yscale("log")
    for ax in (ax_lr, ax_warm):
        ax.set_xlabel("step")
        ax.set_ylabel("learning rate / peak")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)

    top = lrs[-1]
    seed = first["seed"]
    for s in strategies:
        run = next((r for r in groups.get((s, top), []) if r["seed"] == seed), None)
        if run is None:
            continue
        rows = read_metrics(run["workdir"])
        ax_train.plot(
            [r["step"] for r in rows],
            [r["train/loss"] for r in rows],
            color=colors[s],
            linewidth=0.8,
            label=STRATEGIES[s].label + (" (diverged)" if run["diverged"] else ""),
        )
    ax_train.set_yscale("log")
    ax_train.set_xlabel("step")
    ax_train.set_ylabel("training loss (log scale)")
    ax_train.set_title(f"Training loss at peak LR {top:g} (seed {seed})")
    ax_train.grid(alpha=0.3, which="both")
    ax_train.legend(fontsize=8)

    fig.suptitle(f"Warmup study: {first['preset']} preset, {steps} steps per run")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(
    out: pathlib.Path,
    records: Sequence[dict[str, Any]],
    header: str = "",
    baseline: float | None = None,
) -> None:
    """Writes study.json, study.md (``header`` under its title) and study.png into ``out``."""
    (out / STUDY_JSON).write_text(json.dumps(list(records), indent=2) + "\n")
    (out / STUDY_MD).write_text(to_markdown(records, header, baseline))
    plot(records, out / STUDY_PNG, baseline)


def header(command: str | None = None) -> str:
    """The command (if known) and the machine, for study.md."""
    import jax  # noqa: PLC0415

    devices = jax.devices()
    machine = (
        f"Machine: {platform.platform()}, Python {platform.python_version()}, "
        f"jax {jax.__version__}, {len(devices)} x {devices[0].device_kind} "
        f"({jax.default_backend()})."
    )
    return (f"Command: `{command}`\n\n" if command else "") + machine


# --------------------------------------------------------------------------------------------
# Command line


def _float_list(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if not values or any(not v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"peak LRs must be positive numbers, got {text!r}")
    return values


def _int_list(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"seeds must be integers >= 0, got {text!r}")
    return values


def _strategy_list(text: str) -> list[str]:
    names = [x.strip() for x in text.split(",") if x.strip()]
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown strategy {', '.join(unknown) or text!r}; choose from {', '.join(STRATEGIES)}"
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    """The study's command line."""
    parser = argparse.ArgumentParser(
        prog="python -m experiments.study",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True, help="folder for the runs and the reports")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a reduced grid: every strategy once at peak LR {QUICK_PEAK_LRS[0]:g}, "
        f"{QUICK_STEPS}-step runs, seed 0 (a few minutes on a CPU)",
    )
    parser.add_argument(
        "--preset",
        default="small",
        choices=("tiny", "small"),
        help="model and run length (default: small)",
    )
    parser.add_argument(
        "--peak_lrs",
        type=_float_list,
        metavar="LR,LR,...",
        help="peak learning rates (default: " + ",".join(f"{x:g}" for x in FULL_PEAK_LRS) + ")",
    )
    parser.add_argument(
        "--seeds",
        type=_int_list,
        metavar="S,S,...",
        help="seeds (default: " + ",".join(map(str, FULL_SEEDS)) + ")",
    )
    parser.add_argument(
        "--strategies",
        type=_strategy_list,
        metavar="NAME,...",
        help="strategies to run (default: all: " + ", ".join(STRATEGIES) + ")",
    )
    parser.add_argument(
        "--steps",
        type=int,
        help=f"steps per run (default: the preset's; {QUICK_STEPS} with --quick)",
    )
    parser.add_argument(
        "--data_dir", help="where the prepared data set is cached (default: the per-user cache)"
    )
    parser.add_argument(
        "--keep_checkpoints",
        action="store_true",
        help="keep each finished run's checkpoints (by default deleted to save disk; "
        "metrics, plots and summary.json stay)",
    )
    return parser


def plan_from_args(args: argparse.Namespace) -> tuple[list[RunSpec], dict[str, Any]]:
    """The grid and the harness overrides the flags ask for (--quick picks the reduced grid)."""
    peak_lrs = args.peak_lrs or (QUICK_PEAK_LRS if args.quick else FULL_PEAK_LRS)
    seeds = args.seeds or (QUICK_SEEDS if args.quick else FULL_SEEDS)
    steps = args.steps or (QUICK_STEPS if args.quick else None)
    grid = make_grid(args.strategies or list(STRATEGIES), peak_lrs, seeds)
    return grid, {"steps": steps, "data_dir": args.data_dir}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m experiments.study``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        grid, overrides = plan_from_args(args)
        started = time.perf_counter()
        command = "python -m experiments.study " + " ".join(
            shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
        )
        run_study(args.out, grid, args.preset, overrides, args.keep_checkpoints, command=command)
    except ValueError as e:  # ConfigError, or a schedule's own message.
        parser.error(str(e))
    except KeyboardInterrupt:
        print("stopped; run the same command again to continue where it stopped", file=sys.stderr)
        return 130
    out = pathlib.Path(args.out)
    print(
        f"done in {time.perf_counter() - started:.0f} s: {out / STUDY_MD}, {out / STUDY_JSON}, "
        f"{out / STUDY_PNG}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

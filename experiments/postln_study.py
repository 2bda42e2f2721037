"""The Post-LN study: is warmup essential for a Post-LN transformer, as Xiong et al. report?

Xiong et al. 2020 ("On Layer Normalization in the Transformer Architecture") show that at
initialization the expected gradient of a Post-LN transformer's last layers does not shrink with
the depth L, while a Pre-LN transformer's shrinks like ``1 / sqrt(L)``; so Post-LN needs a
learning-rate warmup (without one it trains poorly or diverges) and Pre-LN does not. Liu et al.
2020 (RAdam; and "Understanding the Difficulty of Training Transformers") make the same point.
This study asks the question on our harness: a grid over

    {Pre-LN, Post-LN} x {no warmup (a constant LR), linear warmup + cosine} x peak LRs x seeds

where "no warmup" and "linear warmup + cosine" are ``experiments.study``'s ``constant`` and
``linear_warmup_cosine`` strategies (the warmup is 10% of the steps), and the model is deeper than
the ``small`` preset: 6 layers of width 64 (4 heads, MLP 256) by default, trained for 500 steps.
Why 6: the paper's models have 6 to 12 layers and its argument is about depth (the Pre-LN /
Post-LN gradient ratio at the last layer grows like ``sqrt(L)``). Why width 64 and 500 steps: the
budget. On the 2-core CPU a 6-layer model of width 128 runs 4,900 tokens/s (0.42 s a step), so 32
runs of the preset's 1000 steps would take about 4 hours; at width 64 it runs 10,100 tokens/s
(0.20 s a step; both measured with this module, 100-step runs), and 32 runs of 500 steps take
about an hour, within the 2-hour budget (``DEFAULT_GRID_MINUTES``). Everything else is the
``small`` preset: batch 16 x 128 bytes of the
Python sources, AdamW (b2 0.95, weight decay 0.1) after clipping to norm 1.

Each run is a real harness run (``train.loop.run``) with ``--norm pre|post``, in its own workdir
under ``OUT/runs/`` (results are kept there: stop the study at any time and run the same command
again to continue). The reports go next to ``OUT``: ``OUT.md`` (tables and a plain reading
computed from the numbers), ``OUT.json`` (one record per run) and ``OUT.png``; with the default
``--out results/warmup_study_postln`` that is ``results/warmup_study_postln.md`` and so on.

A run **diverged** as in ``experiments.study`` (a non-finite loss, or a final validation loss above
the initial loss); it **failed** when it diverged or ended no better than predicting each byte by
its frequency alone (``experiments.study.byte_frequency_loss``): it learned no context.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import pathlib
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.timing import markdown_table
from experiments import study
from train.config import ConfigError, ModelConfig, RunConfig, make_config

NORMS = ("pre", "post")
NORM_LABELS = {"pre": "Pre-LN", "post": "Post-LN"}
STRATEGIES = ("constant", "linear_warmup_cosine")  # no warmup; linear warmup + cosine
STRATEGY_LABELS = {
    "constant": "no warmup (constant)",
    "linear_warmup_cosine": "linear warmup + cosine",
}

DEFAULT_OUT = "results/warmup_study_postln"
DEFAULT_PRESET = "small"
DEFAULT_MODEL = ModelConfig(d_model=64, num_layers=6, num_heads=4, mlp_dim=256)
FULL_STEPS = 500
FULL_PEAK_LRS = (3e-4, 1e-3, 3e-3, 1e-2)
FULL_SEEDS = (0, 1)
# --quick: each of the four cells once, at a peak LR where the small Pre-LN model trains with or
# without warmup, in 200-step runs (a few minutes on a CPU).
QUICK_PEAK_LRS = (3e-3,)
QUICK_SEEDS = (0,)
QUICK_STEPS = 200
# The budget of the default grid on the 2-core CPU; the estimate is about 60 to 80 minutes (see
# the module's docstring).
DEFAULT_GRID_MINUTES = 120


def has_norm_setting() -> bool:
    """Whether the harness's ``RunConfig`` has the ``norm`` setting (``--norm pre|post``)."""
    return "norm" in {f.name for f in dataclasses.fields(RunConfig)}


@dataclasses.dataclass(frozen=True)
class PostLNSpec:
    """One point of the grid."""

    norm: str
    strategy: str
    peak_lr: float
    seed: int

    @property
    def name(self) -> str:
        return f"{self.norm}/{self.strategy}/lr={self.peak_lr:g}/seed={self.seed}"

    @property
    def study_spec(self) -> study.RunSpec:
        """The same point without the norm, for ``experiments.study``'s machinery."""
        return study.RunSpec(self.strategy, self.peak_lr, self.seed)


def make_grid(
    norms: Sequence[str], strategies: Sequence[str], peak_lrs: Sequence[float], seeds: Sequence[int]
) -> list[PostLNSpec]:
    """Every (norm, strategy) cell at every peak LR and seed; seed-major, so a study stopped
    half-way has the whole table for its first seeds."""
    for norm in norms:
        if norm not in NORMS:
            raise ConfigError(f"unknown norm {norm!r}; choose from {', '.join(NORMS)}")
    for name in strategies:
        if name not in study.STRATEGIES:
            raise ConfigError(
                f"unknown strategy {name!r}; choose from {', '.join(study.STRATEGIES)}"
            )
    return [
        PostLNSpec(norm, s, lr, seed)
        for seed in seeds
        for lr in peak_lrs
        for norm in norms
        for s in strategies
    ]


def _shape_name(model: ModelConfig) -> str:
    return f"L{model.num_layers}_d{model.d_model}_h{model.num_heads}_mlp{model.mlp_dim}"


def run_config(
    spec: PostLNSpec,
    out: pathlib.Path,
    preset: str,
    model: ModelConfig,
    overrides: dict[str, Any],
) -> RunConfig:
    """The harness settings of one run, checked; its workdir is
    ``out/runs/PRESET_SHAPE_STEPSsteps/NORM/STRATEGY/lrLR_seedSEED``.

    Raises ``ConfigError`` for a Post-LN run while the harness has no ``norm`` setting.
    """
    values = {**study.STUDY_SETTINGS, **overrides, "model": model}
    if has_norm_setting():
        values["norm"] = spec.norm
    elif spec.norm != "pre":
        raise ConfigError(
            "this harness has no --norm setting yet (RunConfig.norm), so it cannot train a "
            "Post-LN model; only --norms pre can run"
        )
    base = make_config(preset, "unused", **values)
    values.update(study.STRATEGIES[spec.strategy].settings(base))
    values.update(peak_lr=spec.peak_lr, seed=spec.seed, progress=False)
    workdir = (
        out
        / "runs"
        / f"{preset}_{_shape_name(model)}_{base.steps}steps"
        / spec.norm
        / spec.strategy
        / f"lr{spec.peak_lr:g}_seed{spec.seed}"
    )
    config = make_config(preset, str(workdir), **values)
    config.validate()
    return config


def record(spec: PostLNSpec, config: RunConfig) -> dict[str, Any] | None:
    """``experiments.study.record`` with the norm, the model's shape and the gradient norm at
    step 0 (before clipping: Xiong et al.'s quantity); None if the run has no result yet."""
    from train.logging import read_metrics  # noqa: PLC0415

    result = study.record(spec.study_spec, config)
    if result is None:
        return None
    rows = read_metrics(config.workdir)
    first = rows[0] if rows and rows[0]["step"] == 0 else None
    grad = first.get("train/grad_norm") if first else None
    result.update(
        name=spec.name,
        norm=spec.norm,
        label=f"{NORM_LABELS[spec.norm]}, {STRATEGY_LABELS.get(spec.strategy, spec.strategy)}",
        model=dataclasses.asdict(config.model),
        initial_grad_norm=study._json_number(grad),
    )
    return result


def run_one(spec: PostLNSpec, config: RunConfig, keep_checkpoints: bool) -> dict[str, Any]:
    """Runs (or finishes) one grid point through the harness and returns its record."""
    existing = record(spec, config)
    if existing is not None:
        return existing
    study.run_one(spec.study_spec, config, keep_checkpoints)
    result = record(spec, config)
    assert result is not None
    return result


def report_paths(out: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path, pathlib.Path]:
    """``OUT.md``, ``OUT.json`` and ``OUT.png``: the reports sit next to the runs' folder."""
    return tuple(out.with_name(out.name + suffix) for suffix in (".md", ".json", ".png"))


def run_study(
    out: str | pathlib.Path,
    grid: Sequence[PostLNSpec],
    preset: str = DEFAULT_PRESET,
    model: ModelConfig = DEFAULT_MODEL,
    overrides: dict[str, Any] | None = None,
    keep_checkpoints: bool = False,
    log: Callable[[str], None] = print,
    command: str | None = None,
) -> list[dict[str, Any]]:
    """Runs every grid point not yet done and writes the reports (``report_paths(out)``) after
    every run that trained. ``overrides``: harness settings for every run (``steps``,
    ``data_dir``, ...). Returns the records in grid order."""
    out = pathlib.Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    overrides = dict(overrides or {})
    configs = [run_config(spec, out, preset, model, overrides) for spec in grid]  # checked first
    records: list[dict[str, Any]] = []
    top = study.header(command)
    baseline: float | None = None
    for index, (spec, config) in enumerate(zip(grid, configs, strict=True), 1):
        done_before = record(spec, config) is not None
        result = run_one(spec, config, keep_checkpoints)
        records.append(result)
        log(study.progress_line(index, len(grid), spec.name, result, done_before))
        if index == len(grid) or not done_before:
            if baseline is None:  # once: every run has the same data
                baseline = study.byte_frequency_loss(config)
            write_reports(out, records, top, baseline)
    return records


# --------------------------------------------------------------------------------------------
# Reading the results


def failed(run: dict[str, Any], baseline: float | None) -> bool:
    """Diverged, or ended no better than the byte frequencies alone (``baseline``)."""
    if run["diverged"] or run["final_val_loss"] is None:
        return True
    return baseline is not None and run["final_val_loss"] >= baseline


Cell = tuple[str, str]  # (norm, strategy)


def _cells(records: Sequence[dict[str, Any]]) -> list[Cell]:
    present = {(r["norm"], r["strategy"]) for r in records}
    return [(n, s) for n in NORMS for s in study.STRATEGIES if (n, s) in present]


def _runs(records: Sequence[dict[str, Any]], cell: Cell, lr: float) -> list[dict[str, Any]]:
    return [r for r in records if (r["norm"], r["strategy"]) == cell and r["peak_lr"] == lr]


def _label(cell: Cell) -> str:
    return f"{NORM_LABELS[cell[0]]}, {STRATEGY_LABELS.get(cell[1], cell[1])}"


def _mean_ok(runs: Sequence[dict[str, Any]], baseline: float | None) -> float | None:
    """Mean final validation loss of the runs that did not fail; None if all did (or none ran)."""
    ok = [r["final_val_loss"] for r in runs if not failed(r, baseline)]
    return statistics.fmean(ok) if ok else None


def summarize(records: Sequence[dict[str, Any]], baseline: float | None) -> dict[str, Any]:
    """Per cell: the best peak LR (lowest mean loss, no seed failed), its mean loss, failed runs;
    per peak LR: which cells failed in every seed and which trained in every seed; and the
    paper's claim checked at each peak LR (``paper_pattern_at``)."""
    cells = _cells(records)
    lrs = sorted({r["peak_lr"] for r in records})
    per_cell = {}
    for cell in cells:
        means = {}
        for lr in lrs:
            runs = _runs(records, cell, lr)
            if runs and not any(failed(r, baseline) for r in runs):
                means[lr] = statistics.fmean(r["final_val_loss"] for r in runs)
        best = min(means, key=means.get) if means else None
        all_runs = [r for r in records if (r["norm"], r["strategy"]) == cell]
        per_cell["/".join(cell)] = {
            "label": _label(cell),
            "best_peak_lr": best,
            "best_mean_val_loss": means.get(best) if best is not None else None,
            "failed_runs": sum(failed(r, baseline) for r in all_runs),
            "diverged_runs": sum(bool(r["diverged"]) for r in all_runs),
            "runs": len(all_runs),
        }
    pattern = []
    cold, warm = ("post", "constant"), ("post", "linear_warmup_cosine")
    pre_cold = ("pre", "constant")
    for lr in lrs:
        post_cold, post_warm, pre = (
            _runs(records, cold, lr),
            _runs(records, warm, lr),
            _runs(records, pre_cold, lr),
        )
        if not (post_cold and post_warm and pre):
            continue
        pattern.append(
            {
                "peak_lr": lr,
                "post_no_warmup_failed": sum(failed(r, baseline) for r in post_cold),
                "post_no_warmup_runs": len(post_cold),
                "post_warmup_trained": all(not failed(r, baseline) for r in post_warm),
                "pre_no_warmup_trained": all(not failed(r, baseline) for r in pre),
                "post_no_warmup_loss": _mean_ok(post_cold, baseline),
                "post_warmup_loss": _mean_ok(post_warm, baseline),
                "pre_no_warmup_loss": _mean_ok(pre, baseline),
            }
        )
    for p in pattern:
        p["as_the_paper"] = (
            p["post_no_warmup_failed"] == p["post_no_warmup_runs"]
            and p["post_warmup_trained"]
            and p["pre_no_warmup_trained"]
        )
    return {"cells": per_cell, "paper_pattern_at": pattern}


def warmup_gain(records: Sequence[dict[str, Any]], norm: str, lr: float, baseline: float | None):
    """Mean loss without warmup minus with warmup at ``lr`` (positive: warmup helped); None if
    either cell has no run that did not fail."""
    cold = _mean_ok(_runs(records, (norm, "constant"), lr), baseline)
    warm = _mean_ok(_runs(records, (norm, "linear_warmup_cosine"), lr), baseline)
    return None if cold is None or warm is None else cold - warm


def plain_reading(records: Sequence[dict[str, Any]], baseline: float | None) -> list[str]:
    """Sentences computed from the numbers (a first draft for the write-up, not a conclusion)."""
    summary = summarize(records, baseline)
    lines = []
    for cell in summary["cells"].values():
        best = cell["best_peak_lr"]
        lines.append(
            f"{cell['label']}: "
            + (
                f"best at peak LR {best:g} (mean final val loss {cell['best_mean_val_loss']:.3f})"
                if best is not None
                else "no peak LR at which every seed trained"
            )
            + f"; {cell['failed_runs']}/{cell['runs']} runs failed"
            + (f" ({cell['diverged_runs']} diverged)" if cell["diverged_runs"] else "")
            + "."
        )
    pattern = summary["paper_pattern_at"]
    if pattern:
        matches = [p["peak_lr"] for p in pattern if p["as_the_paper"]]
        if matches:
            lines.append(
                "As the paper reports: at peak LR "
                + ", ".join(f"{lr:g}" for lr in matches)
                + " Post-LN without warmup failed in every seed while Post-LN with warmup and "
                "Pre-LN without warmup trained."
            )
        else:
            lines.append(
                "Not as the paper reports: at no peak LR of this grid did Post-LN without warmup "
                "fail in every seed while Post-LN with warmup and Pre-LN without warmup trained."
            )
        for p in pattern:
            if p["post_no_warmup_failed"] and not p["as_the_paper"]:
                lines.append(
                    f"At peak LR {p['peak_lr']:g} Post-LN without warmup failed in "
                    f"{p['post_no_warmup_failed']}/{p['post_no_warmup_runs']} seeds; Post-LN with "
                    f"warmup {'trained' if p['post_warmup_trained'] else 'failed too'}, Pre-LN "
                    f"without warmup {'trained' if p['pre_no_warmup_trained'] else 'failed too'}."
                )
    lrs = sorted({r["peak_lr"] for r in records})
    gains = {norm: {lr: warmup_gain(records, norm, lr, baseline) for lr in lrs} for norm in NORMS}
    both = [lr for lr in lrs if gains["pre"][lr] is not None and gains["post"][lr] is not None]
    if both:
        larger = [lr for lr in both if gains["post"][lr] > gains["pre"][lr]]
        lines.append(
            "What warmup gains (final val loss without warmup minus with, where both trained): "
            + "; ".join(
                f"peak {lr:g}: Pre-LN {gains['pre'][lr]:+.3f}, Post-LN {gains['post'][lr]:+.3f}"
                for lr in both
            )
            + f". Warmup gains more for Post-LN at {len(larger)} of these {len(both)} peak LRs."
        )
    return lines


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def to_markdown(
    records: Sequence[dict[str, Any]],
    header: str = "",
    baseline: float | None = None,
    image: str | None = None,
) -> str:
    """The report: the grid as tables, a plain reading, every run."""
    cells = _cells(records)
    lrs = sorted({r["peak_lr"] for r in records})
    first = records[0]
    m = first["model"]
    seeds = sorted({r["seed"] for r in records})

    def grid_table(key: str) -> str:
        return markdown_table(
            ["norm, warmup"] + [f"peak {lr:g}" for lr in lrs],
            [[_label(c)] + [study._cell(_runs(records, c, lr), key) for lr in lrs] for c in cells],
        )

    summary = summarize(records, baseline)
    parts = [
        "# Warmup study: Pre-LN and Post-LN",
        header,
        f"Preset `{first['preset']}` with a {m['num_layers']}-layer model (width {m['d_model']}, "
        f"{m['num_heads']} heads, MLP {m['mlp_dim']}), {first['steps']} steps per run, seeds "
        f"{seeds}, {len(records)} runs. Warmup steps: "
        + ", ".join(
            f"{STRATEGY_LABELS.get(s, s)}: {next(r['warmup_steps'] for r in records if r['strategy'] == s)}"
            for s in dict.fromkeys(r["strategy"] for r in records)
        )
        + ".",
        "**Diverged**: a loss became non-finite (the harness stops the run) or the final "
        "validation loss is above the initial loss. **Failed**: diverged, or a final validation "
        "loss no better than predicting each byte by its frequency"
        + (f" ({baseline:.3f})" if baseline is not None else "")
        + ". Means are over the seeds that did not diverge; (min-max) over those seeds.",
        f"![Post-LN study]({image})" if image else "",
        "## Plain reading (computed from the numbers below)",
        "\n".join(f"- {line}" for line in plain_reading(records, baseline)),
        "## Final validation loss (nats per byte)",
        grid_table("final_val_loss"),
        "## Largest training loss after step 0 (loss spikes), seed by seed",
        markdown_table(
            ["norm, warmup"] + [f"peak {lr:g}" for lr in lrs],
            [
                [_label(c)]
                + [
                    " / ".join(study._num(r["max_train_loss"]) for r in _runs(records, c, lr))
                    or "-"
                    for lr in lrs
                ]
                for c in cells
            ],
        ),
        "## Gradient norm at step 0 (before clipping), mean over seeds",
        "The same for every peak LR of a cell (the same initial model and batch); the paper's "
        "argument is that Post-LN's is larger.",
        markdown_table(
            ["norm"] + ["gradient norm at step 0"],
            [
                [
                    NORM_LABELS[norm],
                    _fmt(
                        statistics.fmean(
                            r["initial_grad_norm"]
                            for r in records
                            if r["norm"] == norm and r["initial_grad_norm"] is not None
                        )
                    ),
                ]
                for norm in NORMS
                if any(r["norm"] == norm and r["initial_grad_norm"] is not None for r in records)
            ],
        ),
        "## Per cell",
        markdown_table(
            ["norm, warmup", "best peak LR", "its mean val loss", "failed runs", "diverged runs"],
            [
                [
                    c["label"],
                    "-" if c["best_peak_lr"] is None else f"{c['best_peak_lr']:g}",
                    _fmt(c["best_mean_val_loss"], 4),
                    f"{c['failed_runs']}/{c['runs']}",
                    f"{c['diverged_runs']}/{c['runs']}",
                ]
                for c in summary["cells"].values()
            ],
        ),
        "## Every run",
        markdown_table(
            [
                "run",
                "warmup steps",
                "initial loss",
                "max train loss",
                "final val loss",
                "failed",
                "wall time (s)",
            ],  # fmt: skip
            [
                [
                    r["name"],
                    r["warmup_steps"],
                    _fmt(r["initial_loss"], 4),
                    study._num(r["max_train_loss"]),
                    _fmt(r["final_val_loss"], 4),
                    (
                        f"yes, non-finite at step {r['stopped_at_step']}"
                        if r["stopped_at_step"] is not None
                        else ("yes" if failed(r, baseline) else "no")
                    ),
                    f"{r['wall_time_s']:.0f}",
                ]
                for r in records
            ],
        ),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def _focus_lr(records: Sequence[dict[str, Any]], baseline: float | None) -> float:
    """The peak LR the curves are drawn at: where warmup gains most for Post-LN (a failed cell
    counts as the initial loss), else the largest."""
    lrs = sorted({r["peak_lr"] for r in records})

    def loss(cell: Cell, lr: float) -> float | None:
        runs = _runs(records, cell, lr)
        if not runs:
            return None
        mean = _mean_ok(runs, baseline)
        return mean if mean is not None else math.log(256)

    gains = {}
    for lr in lrs:
        cold, warm = loss(("post", "constant"), lr), loss(("post", "linear_warmup_cosine"), lr)
        if cold is not None and warm is not None:
            gains[lr] = cold - warm
    return max(gains, key=gains.get) if gains else lrs[-1]


def plot(
    records: Sequence[dict[str, Any]], path: pathlib.Path, baseline: float | None = None
) -> None:
    """The figure: final validation loss against peak LR for the four cells (x = failed); the
    training loss and the gradient norm (before clipping) over the steps at one peak LR
    (``_focus_lr``), seed of the first run."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    from train.logging import read_metrics  # noqa: PLC0415

    cells = _cells(records)
    lrs = sorted({r["peak_lr"] for r in records})
    colors = {"pre": "tab:blue", "post": "tab:red"}
    styles = {"constant": "--", "linear_warmup_cosine": "-"}
    fig, (ax_loss, ax_train, ax_grad) = plt.subplots(1, 3, figsize=(18, 5.5))
    initial = [r["initial_loss"] for r in records if r["initial_loss"] is not None]
    ceiling = max(initial) if initial else math.log(256)
    for cell in cells:
        xs, ys = [], []
        for lr in lrs:
            runs = _runs(records, cell, lr)
            mean = _mean_ok(runs, baseline)
            if mean is not None:
                xs.append(lr)
                ys.append(mean)
            for r in runs:
                y = r["final_val_loss"]
                if failed(r, baseline):
                    y = min(y if y is not None else math.inf, ceiling + 0.3)
                    ax_loss.scatter([lr], [y], marker="x", s=60, color=colors[cell[0]], zorder=3)
        ax_loss.plot(
            xs,
            ys,
            marker="o",
            linestyle=styles.get(cell[1], ":"),
            color=colors[cell[0]],
            label=_label(cell),
        )
    ax_loss.axhline(ceiling, color="gray", linestyle="--", linewidth=1)
    if baseline is not None:
        ax_loss.axhline(baseline, color="gray", linestyle=":", linewidth=1)
        ax_loss.text(lrs[0], baseline, " byte frequencies alone", va="bottom", fontsize=8)
    ax_loss.set_xscale("log")
    ax_loss.set_xlabel("peak learning rate")
    ax_loss.set_ylabel("final validation loss (nats per byte)")
    ax_loss.set_title("Final validation loss (mean of the seeds that trained; x = failed)")
    ax_loss.grid(alpha=0.3, which="both")
    ax_loss.legend(fontsize=8)

    focus = _focus_lr(records, baseline)
    seed = records[0]["seed"]
    for cell in cells:
        run = next((r for r in _runs(records, cell, focus) if r["seed"] == seed), None)
        if run is None:
            continue
        rows = read_metrics(run["workdir"])
        steps = np.array([r["step"] for r in rows])
        loss = np.array([r["train/loss"] for r in rows], dtype=np.float64)
        grad = np.array([r.get("train/grad_norm", np.nan) for r in rows], dtype=np.float64)
        style = dict(color=colors[cell[0]], linestyle=styles.get(cell[1], ":"), linewidth=0.9)
        ax_train.plot(steps, loss, label=_label(cell), **style)
        ax_grad.plot(steps, grad, label=_label(cell), **style)
    ax_train.set_ylim(0, ceiling * 1.5)
    ax_train.set_title(f"Training loss at peak LR {focus:g} (seed {seed})")
    ax_train.set_ylabel("training loss (nats per byte)")
    ax_grad.set_yscale("log")
    ax_grad.set_title(f"Gradient norm before clipping (to 1) at peak LR {focus:g}")
    ax_grad.set_ylabel("global gradient norm")
    for ax in (ax_train, ax_grad):
        ax.set_xlabel("step")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    m = records[0]["model"]
    fig.suptitle(
        f"Pre-LN vs Post-LN, with and without warmup: {m['num_layers']} layers x width "
        f"{m['d_model']}, {records[0]['steps']} steps per run"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(
    out: pathlib.Path,
    records: Sequence[dict[str, Any]],
    header: str = "",
    baseline: float | None = None,
) -> None:
    """Writes ``OUT.md``, ``OUT.json`` and ``OUT.png`` (see ``report_paths``)."""
    md, js, png = report_paths(out)
    js.write_text(
        json.dumps({"byte_frequency_loss": baseline, "runs": list(records)}, indent=2) + "\n"
    )
    md.write_text(to_markdown(records, header, baseline, image=png.name))
    plot(records, png, baseline)


# --------------------------------------------------------------------------------------------
# Command line


def _names(choices: Sequence[str], what: str) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        names = [x.strip() for x in text.split(",") if x.strip()]
        unknown = [n for n in names if n not in choices]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(unknown) or repr(text)}; choose from "
                + ", ".join(choices)
            )
        return names

    return parse


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The study's command line."""
    parser = argparse.ArgumentParser(
        prog="python -m experiments.postln_study",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help="folder for the runs; the reports are OUT.md, OUT.json and OUT.png "
        f"(default: {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a reduced grid: the four cells once at peak LR {QUICK_PEAK_LRS[0]:g}, seed 0, "
        f"{QUICK_STEPS}-step runs (a few minutes on a CPU)",
    )
    parser.add_argument(
        "--preset", default=DEFAULT_PRESET, choices=("tiny", "small"),
        help=f"batch, sequence length, steps and intervals (default: {DEFAULT_PRESET})",
    )  # fmt: skip
    for name, value in dataclasses.asdict(DEFAULT_MODEL).items():
        if name == "vocab_size":
            continue
        parser.add_argument(
            f"--{name}",
            type=_positive_int,
            default=value,
            help=f"the model's {name} (default: {value})",
        )
    parser.add_argument(
        "--norms",
        type=_names(NORMS, "norm"),
        metavar="NORM,...",
        help="LayerNorm placements (default: pre,post)",
    )
    parser.add_argument(
        "--strategies",
        type=_names(tuple(study.STRATEGIES), "strategy"),
        metavar="NAME,...",
        help="experiments.study's strategies (default: " + ",".join(STRATEGIES) + ")",
    )
    parser.add_argument(
        "--peak_lrs",
        type=study._float_list,
        metavar="LR,LR,...",
        help="peak learning rates (default: " + ",".join(f"{x:g}" for x in FULL_PEAK_LRS) + ")",
    )
    parser.add_argument(
        "--seeds",
        type=study._int_list,
        metavar="S,S,...",
        help="seeds (default: " + ",".join(map(str, FULL_SEEDS)) + ")",
    )
    parser.add_argument(
        "--steps",
        type=_positive_int,
        help=f"steps per run (default: {FULL_STEPS}; {QUICK_STEPS} with --quick)",
    )
    parser.add_argument(
        "--data_dir", help="where the prepared data set is cached (default: the per-user cache)"
    )
    parser.add_argument(
        "--keep_checkpoints",
        action="store_true",
        help="keep each finished run's checkpoints (by default deleted; metrics and summary stay)",
    )
    return parser


def plan_from_args(
    args: argparse.Namespace,
) -> tuple[list[PostLNSpec], ModelConfig, dict[str, Any]]:
    """The grid, the model's shape and the harness overrides the flags ask for."""
    if args.d_model % args.num_heads:
        raise ConfigError(
            f"--d_model ({args.d_model}) must be a multiple of --num_heads ({args.num_heads})"
        )
    model = ModelConfig(
        d_model=args.d_model,
        num_layers=args.num_layers,
        num_heads=args.num_heads,
        mlp_dim=args.mlp_dim,
    )
    grid = make_grid(
        args.norms or list(NORMS),
        args.strategies or list(STRATEGIES),
        args.peak_lrs or (QUICK_PEAK_LRS if args.quick else FULL_PEAK_LRS),
        args.seeds or (QUICK_SEEDS if args.quick else FULL_SEEDS),
    )
    steps = args.steps or (QUICK_STEPS if args.quick else FULL_STEPS)
    return grid, model, {"steps": steps, "data_dir": args.data_dir}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m experiments.postln_study``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        grid, model, overrides = plan_from_args(args)
        command = "python -m experiments.postln_study " + " ".join(
            shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
        )
        run_study(
            args.out, grid, args.preset, model, overrides, args.keep_checkpoints, command=command
        )
    except ValueError as e:  # ConfigError, or a schedule's own message
        parser.error(str(e))
    except KeyboardInterrupt:
        print("stopped; run the same command again to continue where it stopped", file=sys.stderr)
        return 130
    md, js, png = report_paths(pathlib.Path(args.out))
    print(f"done in {time.perf_counter() - started:.0f} s: {md}, {js}, {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

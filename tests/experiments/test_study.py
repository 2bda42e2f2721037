"""The warmup study's machinery on the tiny preset: real harness runs, records, reports, resume."""

from __future__ import annotations

import json
import math

import pytest

import warmup_jax as wj
from experiments import study
from train.logging import read_metrics

# LR 10 without warmup ends above the initial loss; LR 1000 makes the loss non-finite within a few
# steps (the harness stops the run); the untuned warmup at a sane LR trains.
GRID = [
    study.RunSpec("constant", 10.0, 0),
    study.RunSpec("constant", 1000.0, 0),
    study.RunSpec("untuned_linear_warmup_cosine", 3e-3, 0),
]


def _strict_json(text: str):
    def refuse(name: str):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def finished(source_dir, data_dir, text_data, tmp_path_factory):
    del text_data  # Prepared before the study starts.
    out = tmp_path_factory.mktemp("study")
    overrides = {"source_dir": str(source_dir), "data_dir": str(data_dir)}
    lines: list[str] = []
    records = study.run_study(out, GRID, preset="tiny", overrides=overrides, log=lines.append)
    return out, overrides, records, lines


def test_study_json_has_a_record_per_run_with_the_promised_fields(finished):
    out, _, records, _ = finished
    on_disk = _strict_json((out / study.STUDY_JSON).read_text())
    assert on_disk == records
    assert [r["name"] for r in on_disk] == [
        "constant/lr=10/seed=0",
        "constant/lr=1000/seed=0",
        "untuned_linear_warmup_cosine/lr=0.003/seed=0",
    ]
    for r in on_disk:
        assert {
            "name", "peak_lr", "warmup_steps", "warmup", "schedule", "seed", "final_val_loss",
            "final_perplexity", "initial_loss", "diverged",
        } <= set(r)  # fmt: skip
    assert [(r["warmup"], r["schedule"], r["warmup_steps"]) for r in on_disk] == [
        ("none", "constant", 0),
        ("none", "constant", 0),
        ("untuned_linear", "cosine", 38),  # tau = int(2 / (1 - b2)) = 39 with the harness's b2 0.95
    ]


def test_divergence_flag_final_loss_above_initial(finished):
    _, _, records, _ = finished
    r = records[0]
    assert r["non_finite"] is False and r["stopped_at_step"] is None
    assert r["final_val_loss"] > r["initial_loss"]
    assert r["diverged"] is True
    # The initial loss is the training loss of step 0, before any update: about ln 256.
    assert r["initial_loss"] == pytest.approx(math.log(256), abs=0.1)


def test_divergence_flag_non_finite_run_is_recorded_not_raised(finished):
    out, _, records, _ = finished
    r = records[1]
    assert r["non_finite"] is True and r["diverged"] is True
    assert r["final_val_loss"] is None and r["final_perplexity"] is None
    assert isinstance(r["stopped_at_step"], int) and r["stopped_at_step"] < 40
    stopped = json.loads(
        (
            out / "runs" / "tiny_40steps" / "constant" / "lr1000_seed0" / study.STOPPED_FILE
        ).read_text()
    )
    assert stopped["step"] == r["stopped_at_step"] and "diverged" in stopped["message"]


def test_a_healthy_run_is_not_flagged_and_its_lrs_are_the_untuned_warmup(finished):
    _, _, records, _ = finished
    r = records[2]
    assert r["diverged"] is False and r["non_finite"] is False
    assert r["final_val_loss"] < r["initial_loss"]
    assert r["final_perplexity"] == pytest.approx(math.exp(r["final_val_loss"]))
    expected = wj.untuned_linear_warmup(wj.cosine_decay(3e-3, 40), b2=0.95)
    rows = read_metrics(r["workdir"])
    # Within one float32 rounding: XLA may fuse the product differently inside the train step.
    assert [row["train/learning_rate"] for row in rows] == pytest.approx(
        [float(expected(s)) for s in range(40)], rel=1e-6
    )


def test_reports_are_written(finished):
    out, _, _, _ = finished
    md = (out / study.STUDY_MD).read_text()
    # Columns: peak 0.003, 10, 1000.
    assert "| constant, no warmup | - | **diverged (1/1)** | **diverged (1/1)** |" in md
    assert "Warmup steps: constant, no warmup: 0, untuned linear warmup + cosine: 38." in md
    assert "predicting each byte by its frequency alone gives" in md
    assert (out / study.STUDY_PNG).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_finished_runs_are_not_run_again(finished):
    out, overrides, records, lines = finished
    assert not any("done before" in line for line in lines)
    summary = (
        out
        / "runs"
        / "tiny_40steps"
        / "untuned_linear_warmup_cosine"
        / "lr0.003_seed0"
        / "summary.json"
    )
    before = summary.stat().st_mtime_ns
    again: list[str] = []
    assert study.run_study(out, GRID, "tiny", overrides, log=again.append) == records
    assert len(again) == 3 and all(line.endswith("(done before)") for line in again)
    assert summary.stat().st_mtime_ns == before
    # Checkpoints of finished runs are removed unless asked to keep them.
    assert not (summary.parent / "checkpoints").exists()


def test_quick_grid_has_warmup_and_no_warmup_at_the_same_high_peak():
    args = study.build_parser().parse_args(["--out", "unused", "--quick"])
    grid, overrides = study.plan_from_args(args)
    assert overrides["steps"] == study.QUICK_STEPS
    high = max(spec.peak_lr for spec in grid)
    warmups = {study.STRATEGIES[s.strategy].warmup for s in grid if s.peak_lr == high}
    assert "none" in warmups and warmups - {"none"}
    assert {s.strategy for s in grid} == set(study.STRATEGIES)


def test_full_grid_spans_the_peak_lrs_for_every_strategy_and_two_seeds():
    args = study.build_parser().parse_args(["--out", "unused"])
    grid, overrides = study.plan_from_args(args)
    assert overrides["steps"] is None  # The preset's.
    assert len(grid) == len(study.STRATEGIES) * len(study.FULL_PEAK_LRS) * 2
    assert min(study.FULL_PEAK_LRS) <= 1e-3 and max(study.FULL_PEAK_LRS) >= 3e-2


def test_unknown_strategy_is_refused_with_the_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        study.build_parser().parse_args(["--out", "x", "--strategies", "cosine,warmupp"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown strategy 'warmupp'; choose from constant, cosine, linear_warmup_cosine," in err


def _fake_record(strategy: str, peak_lr: float, loss: float) -> dict:
    s = study.STRATEGIES[strategy]
    return {
        "name": study.RunSpec(strategy, peak_lr, 0).name,
        "strategy": strategy,
        "label": s.label,
        "peak_lr": peak_lr,
        "warmup_steps": 0 if s.warmup == "none" else 10,
        "warmup": s.warmup,
        "schedule": s.schedule,
        "seed": 0,
        "preset": "tiny",
        "steps": 100,
        "initial_loss": 5.5,
        "max_train_loss": 5.0,
        "workdir": "unused",
        "final_val_loss": loss,
        "final_perplexity": math.exp(loss),
        "stopped_at_step": None,
        "wall_time_s": 1.0,
        "schedule_config": None,
        "non_finite": False,
        "diverged": False,
    }


@pytest.mark.parametrize(
    ("warm_loss", "expected"),
    [
        (1.0, "with warmup the perplexity is 39.35% lower"),  # 1 - e^-0.5
        (2.0, "with warmup the perplexity is 64.87% higher"),  # e^0.5 - 1
    ],
)
def test_summary_line_says_lower_or_higher_in_words(warm_loss, expected):
    records = [
        _fake_record("cosine", 1e-3, 1.5),
        _fake_record("linear_warmup_cosine", 1e-3, warm_loss),
    ]
    summary = study.summarize(records)["warmup_vs_no_warmup"]
    assert summary["best_warmup"] == "linear_warmup_cosine"
    assert summary["perplexity_reduction"] == pytest.approx(1 - math.exp(warm_loss - 1.5))
    md = study.to_markdown(records)
    assert (
        "Best with warmup: linear warmup + cosine; best without: cosine, no warmup; "
        f"{expected} (each at its own best peak LR)." in md
    )

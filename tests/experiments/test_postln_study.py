"""The Post-LN study's machinery: a 2-run tiny grid through the harness, the reading, the CLI."""

from __future__ import annotations

import json
import math

import pytest

from experiments import postln_study as ps
from train.config import ModelConfig

HAS_NORM = ps.has_norm_setting()
needs_norm = pytest.mark.skipif(
    not HAS_NORM, reason="the harness has no RunConfig.norm (--norm) yet"
)
TINY_MODEL = ModelConfig(d_model=32, num_layers=2, num_heads=2, mlp_dim=64)
# With the harness's --norm: Pre-LN and Post-LN at the same LR and seed; without it, the two
# strategies of Pre-LN (what can run today).
GRID = (
    [ps.PostLNSpec("pre", "constant", 3e-3, 0), ps.PostLNSpec("post", "constant", 3e-3, 0)]
    if HAS_NORM
    else [
        ps.PostLNSpec("pre", "constant", 3e-3, 0),
        ps.PostLNSpec("pre", "linear_warmup_cosine", 3e-3, 0),
    ]
)


def _strict_json(text: str):
    def refuse(name: str):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def finished(source_dir, data_dir, text_data, tmp_path_factory):
    del text_data  # prepared before the study starts
    out = tmp_path_factory.mktemp("postln") / "study"
    overrides = {"source_dir": str(source_dir), "data_dir": str(data_dir), "steps": 20}
    lines: list[str] = []
    records = ps.run_study(out, GRID, "tiny", TINY_MODEL, overrides, log=lines.append)
    return out, overrides, records, lines


@pytest.mark.slow  # a real grid; the resumable grid is tested by test_study, Post-LN by test_post_ln
def test_records_carry_the_norm_and_the_model(finished):
    out, _, records, _ = finished
    md, js, png = ps.report_paths(out)
    on_disk = _strict_json(js.read_text())
    assert on_disk["runs"] == records
    assert on_disk["byte_frequency_loss"] > 0
    assert [r["name"] for r in records] == [s.name for s in GRID]
    for r, spec in zip(records, GRID, strict=True):
        assert r["norm"] == spec.norm and r["strategy"] == spec.strategy
        assert r["model"]["num_layers"] == 2 and r["steps"] == 20
        assert r["initial_grad_norm"] > 0 and math.isfinite(r["initial_grad_norm"])
        assert r["initial_loss"] == pytest.approx(math.log(256), abs=0.1)
        assert r["diverged"] is False  # 3e-3 trains the tiny model either way
        assert "/runs/tiny_L2_d32_h2_mlp64_20steps/" in r["workdir"]


@pytest.mark.slow  # a real grid; the resumable grid is tested by test_study, Post-LN by test_post_ln
def test_reports_are_written_next_to_the_runs_folder(finished):
    out, _, _, _ = finished
    md, js, png = ps.report_paths(out)
    assert (md.name, js.name, png.name) == ("study.md", "study.json", "study.png")
    text = md.read_text()
    assert text.startswith("# Warmup study: Pre-LN and Post-LN")
    assert "## Plain reading (computed from the numbers below)" in text
    assert "2-layer model (width 32, 2 heads, MLP 64), 20 steps per run" in text
    assert "![Post-LN study](study.png)" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow  # a real grid; the resumable grid is tested by test_study, Post-LN by test_post_ln
def test_finished_runs_are_not_run_again(finished):
    out, overrides, records, lines = finished
    assert not any("done before" in line for line in lines)
    again: list[str] = []
    assert ps.run_study(out, GRID, "tiny", TINY_MODEL, overrides, log=again.append) == records
    assert len(again) == 2 and all(line.endswith("(done before)") for line in again)


@needs_norm
@pytest.mark.slow  # a real grid; the resumable grid is tested by test_study, Post-LN by test_post_ln
def test_post_ln_runs_train_a_post_ln_model(finished):
    _, _, records, _ = finished
    pre, post = records
    summary = json.loads((__import__("pathlib").Path(post["workdir"]) / "summary.json").read_text())
    assert summary["config"]["norm"] == "post"
    # Same seed, batch and parameters' initial values; another model: another first loss.
    assert post["initial_loss"] != pre["initial_loss"]
    assert post["final_val_loss"] < post["initial_loss"]


def test_run_config_applies_the_strategy_and_the_model(tmp_path):
    spec = ps.PostLNSpec("pre", "linear_warmup_cosine", 1e-3, 1)
    config = ps.run_config(spec, tmp_path, "small", ps.DEFAULT_MODEL, {})
    assert config.model == ps.DEFAULT_MODEL and config.peak_lr == 1e-3 and config.seed == 1
    assert config.num_warmup_steps == 100 and not config.no_lr_schedule
    cold = ps.run_config(
        ps.PostLNSpec("pre", "constant", 1e-3, 1), tmp_path, "small", ps.DEFAULT_MODEL, {}
    )
    assert cold.no_lr_schedule and cold.num_warmup_steps == 0
    if HAS_NORM:
        assert config.norm == "pre"
        post = ps.run_config(
            ps.PostLNSpec("post", "constant", 1e-3, 1), tmp_path, "small", ps.DEFAULT_MODEL, {}
        )
        assert post.norm == "post" and post.workdir != cold.workdir


# -- the reading, on made-up records -------------------------------------------------------


def _record(norm, strategy, lr, seed, loss, diverged=False):
    return {
        "name": f"{norm}/{strategy}/lr={lr:g}/seed={seed}",
        "norm": norm,
        "strategy": strategy,
        "peak_lr": lr,
        "seed": seed,
        "final_val_loss": loss,
        "diverged": diverged,
        "stopped_at_step": None,
        "initial_loss": 5.55,
        "max_train_loss": 5.0,
        "warmup_steps": 0 if strategy == "constant" else 100,
        "wall_time_s": 1.0,
        "model": {"num_layers": 6, "d_model": 128, "num_heads": 4, "mlp_dim": 512},
        "preset": "small",
        "steps": 1000,
        "initial_grad_norm": 1.0 if norm == "pre" else 3.0,
    }


def _paper_like(post_cold_loss: float, diverged: bool = False) -> list[dict]:
    records = []
    for seed in (0, 1):
        for lr in (1e-3, 1e-2):
            records += [
                _record("pre", "constant", lr, seed, 1.7),
                _record("pre", "linear_warmup_cosine", lr, seed, 1.6),
                _record("post", "linear_warmup_cosine", lr, seed, 1.8),
            ]
            # Post-LN without warmup: fine at 1e-3, the given loss at 1e-2.
            loss = 1.9 if lr == 1e-3 else post_cold_loss
            records.append(_record("post", "constant", lr, seed, loss, diverged and lr == 1e-2))
    return records


def test_failed_means_diverged_or_no_better_than_byte_frequencies():
    assert ps.failed(_record("post", "constant", 1e-3, 0, 3.3), baseline=3.2)
    assert ps.failed(_record("post", "constant", 1e-3, 0, 3.2), baseline=3.2)
    assert not ps.failed(_record("post", "constant", 1e-3, 0, 3.1), baseline=3.2)
    assert ps.failed(_record("post", "constant", 1e-3, 0, 1.0, diverged=True), baseline=3.2)
    assert ps.failed(_record("post", "constant", 1e-3, 0, None), baseline=None)


def test_reading_finds_the_papers_pattern_where_it_is():
    records = _paper_like(3.4)  # stuck at the byte frequencies at 1e-2
    summary = ps.summarize(records, baseline=3.2)
    assert [p["as_the_paper"] for p in summary["paper_pattern_at"]] == [False, True]
    cell = summary["cells"]["post/constant"]
    assert cell["best_peak_lr"] == 1e-3 and cell["failed_runs"] == 2 and cell["runs"] == 4
    lines = ps.plain_reading(records, baseline=3.2)
    assert any(line.startswith("As the paper reports: at peak LR 0.01 Post-LN") for line in lines)
    assert ps._focus_lr(records, 3.2) == 1e-2


def test_reading_says_so_when_the_pattern_is_not_there():
    records = _paper_like(2.0)  # Post-LN without warmup trains at every LR
    lines = ps.plain_reading(records, baseline=3.2)
    assert any(line.startswith("Not as the paper reports") for line in lines)
    gains = next(line for line in lines if line.startswith("What warmup gains"))
    # Pre-LN: 1.7 - 1.6 = +0.100 at both; Post-LN: 1.9 - 1.8 and 2.0 - 1.8.
    assert "peak 0.001: Pre-LN +0.100, Post-LN +0.100" in gains
    assert "peak 0.01: Pre-LN +0.100, Post-LN +0.200" in gains
    assert "Warmup gains more for Post-LN at 1 of these 2 peak LRs." in gains


def test_markdown_of_made_up_records():
    md = ps.to_markdown(_paper_like(math.inf, diverged=True), "header", baseline=3.2)
    assert "| Post-LN, no warmup (constant) | 1.900 (1.900-1.900) | **diverged (2/2)** |" in md
    assert "| Pre-LN | 1.000 |" in md and "| Post-LN | 3.000 |" in md


# -- the grids and the command line --------------------------------------------------------


def test_full_grid_is_the_issues_grid():
    args = ps.build_parser().parse_args([])
    grid, model, overrides = ps.plan_from_args(args)
    assert model == ps.DEFAULT_MODEL and model.num_layers >= 6
    assert overrides["steps"] == ps.FULL_STEPS == 500
    assert {(s.norm, s.strategy) for s in grid} == {
        (n, s) for n in ("pre", "post") for s in ("constant", "linear_warmup_cosine")
    }
    assert len({s.peak_lr for s in grid}) >= 4 and {s.seed for s in grid} == {0, 1}
    assert len(grid) == 2 * 2 * len(ps.FULL_PEAK_LRS) * 2
    assert args.out == "results/warmup_study_postln"


def test_quick_grid_is_each_cell_once_in_short_runs():
    args = ps.build_parser().parse_args(["--quick"])
    grid, _, overrides = ps.plan_from_args(args)
    assert overrides["steps"] == ps.QUICK_STEPS and len(grid) == 4


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--norms", "pre,mid"], "unknown norm mid"),
        (["--strategies", "warmupp"], "unknown strategy warmupp"),
        (["--num_layers", "0"], "must be at least 1"),
        (["--d_model", "30", "--num_heads", "4"], "multiple of --num_heads"),
        (["--peak_lrs", "0"], "positive"),
    ],
)
def test_bad_input_is_exit_2_with_a_message(flags, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        ps.main(["--out", str(tmp_path / "s"), *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "s").exists()

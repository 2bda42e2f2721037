"""The LR range test: its LRs, smoothing, stopping rule and suggestions, and the command line."""

from __future__ import annotations

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from train import data as data_lib
from train import lr_find
from train.config import make_config
from train.model import ByteTransformer, next_byte_loss


def _strict_json(text: str):
    def refuse(name: str):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


# -- the pure parts ----------------------------------------------------------------------------


def test_lrs_are_geometric_from_min_to_max():
    lrs = lr_find.range_lrs(1e-7, 10.0, 100)
    assert len(lrs) == 100
    assert lrs[0] == 1e-7 and lrs[-1] == pytest.approx(10.0, rel=1e-14)
    assert list(lrs) == [1e-7 * (10.0 / 1e-7) ** (i / 99) for i in range(100)]
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], (1e8) ** (1 / 99), rtol=1e-12)


def test_the_compiled_schedule_gives_the_same_lrs_to_float32_precision():
    schedule = lr_find.range_schedule(1e-7, 10.0, 100)
    values = jax.device_get(jax.vmap(schedule)(jnp.arange(103, dtype=jnp.int32)))
    np.testing.assert_allclose(values[:100], lr_find.range_lrs(1e-7, 10.0, 100), rtol=2e-6)
    # Past the last step (padding of the last compiled call): max_lr.
    np.testing.assert_allclose(values[100:], 10.0, rtol=1e-6)


def test_smoothing_is_the_bias_corrected_ema():
    losses = np.random.default_rng(0).uniform(1.0, 6.0, size=50)
    beta = 0.98
    got = lr_find.smooth_losses(losses, beta)
    # A numpy transcription of the closed form: sum_j (1 - b) b^(i-j) loss_j / (1 - b^(i+1)).
    i = np.arange(50)
    weights = np.where(i[None, :] <= i[:, None], (1 - beta) * beta ** (i[:, None] - i[None, :]), 0)
    expected = weights @ losses / (1 - beta ** (i + 1))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[0] == pytest.approx(losses[0], rel=1e-12)  # the bias correction's point
    np.testing.assert_array_equal(lr_find.smooth_losses(losses, 0.0), losses)
    with_nan = lr_find.smooth_losses([1.0, 2.0, math.nan, 1.0], 0.5)
    assert np.all(np.isfinite(with_nan[:2])) and np.all(np.isnan(with_nan[2:]))


def test_stop_rule_is_the_first_step_above_factor_times_the_best_so_far():
    assert lr_find.stop_index([5.0, 4.0, 2.0, 3.0, 7.9, 8.0], 4.0) is None
    assert lr_find.stop_index([5.0, 4.0, 2.0, 3.0, 8.1, 9.0], 4.0) == 4
    # The best so far, not the best overall: 8.5 > 4 x 2.0 before the curve reaches 1.0.
    assert lr_find.stop_index([5.0, 2.0, 8.5, 1.0], 4.0) == 2
    assert lr_find.stop_index([5.0, 4.0, math.inf, 1.0], 4.0) == 2
    assert lr_find.stop_index([5.0, math.nan], 100.0) == 1
    assert lr_find.stop_index([5.0, 6.0], 1.1) == 1


LRS = 10.0 ** np.arange(10)  # equal steps of log LR: the slope is the loss difference / ln 10


def test_steepest_is_the_left_end_of_the_steepest_descent():
    losses = np.array([5.0, 5.0, 4.0, 2.0, 1.5, 1.4, 3.0, 4.0, 5.0, 6.0])
    assert lr_find.steepest(LRS, losses) == (100.0, 2)  # 4.0 -> 2.0 is the largest drop


def test_valley_by_hand():
    # Longest strictly decreasing run: 5 (index 2), 4, 3, 2, 1, 0 (index 7); lds[7] = 6, so
    # max_end 7, max_start 1, sections 2, index 1 + 2 + 1 = 4.
    losses = np.array([5.0, 5.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0, 2.0, 3.0])
    assert lr_find.valley(LRS, losses) == (1e4, 4)


def test_valley_picks_about_half_way_down_a_long_valley_as_fastai_does():
    lrs = lr_find.range_lrs(1e-6, 1.0, 40)
    losses = np.concatenate([np.full(5, 5.0), np.linspace(4.9, 1.0, 30), np.linspace(2, 6, 5)])
    # lds peaks at index 34 (31 decreasing points from index 4), max_start 3, sections 31/3:
    # 3 + 10 + 5 = 18, i.e. 15 points into a 31-point valley.
    assert lr_find.valley(lrs, losses) == (float(lrs[18]), 18)


def test_valley_of_two_falling_points_is_the_first_point():
    assert lr_find.valley(np.array([1e-3, 1e-2]), np.array([2.0, 1.0])) == (1e-3, 0)


def test_minimum_over_10():
    losses = np.array([5.0, 4.0, 3.0, 1.0, 2.0, 8.0, 9.0, 9.0, 9.0, 9.0])
    assert lr_find.minimum_over_10(LRS, losses) == (100.0, 3)


def test_suggest_leaves_out_the_first_tenth_the_last_five_and_what_follows_a_nan():
    n = 40
    lrs = lr_find.range_lrs(1e-6, 1.0, n)
    # A spike at the very start (fastai skips it), a minimum at 25, a rise, then 5 points the
    # suggestions never see (the lowest loss of all is among them).
    losses = np.concatenate(
        [[0.5, 0.5, 0.5], np.linspace(5.0, 1.0, 23), np.linspace(1.2, 3.0, 9), np.full(5, 0.1)]
    )
    found = lr_find.suggest(lrs, losses, n)
    assert found["minimum_over_10"]["index"] == 25
    assert found["minimum_over_10"]["lr"] == pytest.approx(lrs[25] / 10, rel=1e-12)
    assert found["minimum_over_10"]["at_lr"] == lrs[25]
    assert all(n // 10 <= f["index"] < n - 5 for f in found.values())
    assert found["valley"]["lr"] == lr_find.valley(lrs[4:35], losses[4:35])[0]
    assert found["steepest"]["lr"] == lr_find.steepest(lrs[4:35], losses[4:35])[0]
    # A NaN at 20: only points 4 to 19 count.
    with_nan = losses.copy()
    with_nan[20] = np.nan
    found = lr_find.suggest(lrs, with_nan, n)
    assert found["minimum_over_10"]["index"] == 19
    # Too few points left: no suggestion.
    assert lr_find.suggest(lrs[:8], losses[:8], n) is None


# -- a real test on the tiny preset, through the command line --------------------------------


@pytest.fixture(scope="module")
def cli_run(tiny, source_dir, data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("lr_find")
    argv = [
        "--preset", "tiny", "--source_dir", str(source_dir), "--data_dir", str(data_dir),
        "--workdir", str(out / "run"), "--num_steps", "30", "--min_lr", "1e-5",
        "--max_lr", "100", "--seed", "3", "--out", str(out),
    ]  # fmt: skip
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = lr_find.main(argv)
    config = tiny(out / "run", seed=3)
    return out, status, printed.getvalue(), config


def test_json_has_every_step_and_the_suggestions(cli_run):
    out, status, _, _ = cli_run
    result = _strict_json((out / lr_find.JSON_FILE).read_text())
    n = result["steps_run"]
    assert status == (0 if result["suggestions"] else 1)
    assert len(result["lr"]) == len(result["loss"]) == len(result["smoothed_loss"]) == n
    assert result["lr"] == [float(x) for x in lr_find.range_lrs(1e-5, 100.0, 30)[:n]]
    np.testing.assert_allclose(result["lr_in_step"], result["lr"], rtol=2e-6)
    assert result["settings"] == {
        "min_lr": 1e-5, "max_lr": 100.0, "num_steps": 30, "smoothing": 0.98, "stop_factor": 4.0,
        "skip_start": 3, "skip_end": 5, "steps_per_call": 8,
    }  # fmt: skip
    assert result["config"]["seed"] == 3 and result["config"]["preset"] == "tiny"
    assert result["suggested_by"] == "steepest"  # tiny's schedule has a warmup (10%)
    if result["suggestions"]:
        assert set(result["suggestions"]) == {"steepest", "valley", "minimum_over_10"}
        assert result["suggested_lr"] == result["suggestions"]["steepest"]["lr"]


def test_the_losses_are_the_runs_and_the_smoothing_and_stop_are_applied(cli_run):
    out, _, _, config = cli_run
    result = _strict_json((out / lr_find.JSON_FILE).read_text())
    losses = [math.nan if x is None else x for x in result["loss"]]
    smoothed = lr_find.smooth_losses(losses, 0.98)
    np.testing.assert_allclose(
        [math.nan if x is None else x for x in result["smoothed_loss"]], smoothed, rtol=1e-12
    )
    # Step 0's loss: the run's initial model (seed 3) on the run's first batch.
    from train.loop import load_data

    model = ByteTransformer(config.model, config.seq_len)
    params = model.init(jax.random.key(3), jnp.zeros((1, config.seq_len), jnp.int32))["params"]
    batch = data_lib.train_batch(load_data(config).train, 3, 0, config.batch_size, config.seq_len)
    assert losses[0] == pytest.approx(float(next_byte_loss(model, params, batch)), rel=1e-5)
    # Up to LR 100 the tiny model's loss blows up: the test stopped at the first step the rule
    # names and kept nothing after it.
    stopped = result["stopped_at_step"]
    assert stopped is not None and stopped == result["steps_run"] - 1
    assert lr_find.stop_index(smoothed, 4.0) == stopped
    assert "exceeded 4 x its best" in result["stop_reason"] or "non-finite" in result["stop_reason"]


def test_png_and_the_printed_line(cli_run):
    out, status, printed, _ = cli_run
    assert (out / lr_find.PNG_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = _strict_json((out / lr_find.JSON_FILE).read_text())
    if status == 0:
        s = result["suggestions"]
        line = (
            f"suggested --peak_lr {result['suggested_lr']:.1e} (steepest; valley "
            f"{s['valley']['lr']:.1e}, minimum/10 {s['minimum_over_10']['lr']:.1e})"
        )
        assert line in printed.splitlines()
    else:
        assert "no suggestion" in printed
    assert str(out / lr_find.JSON_FILE) in printed


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--min_lr", "0"], "--min_lr"),
        (["--min_lr", "-1e-3"], "--min_lr"),
        (["--min_lr", "1", "--max_lr", "0.1"], "--max_lr must be a finite number above"),
        (["--min_lr", "1e-3", "--max_lr", "1e-3"], "--max_lr must be a finite number above"),
        (["--max_lr", "inf"], "--max_lr"),
        (["--num_steps", "9"], "at least 10"),
        (["--num_steps", "ten"], "expected a whole number"),
        (["--smoothing", "1"], "--smoothing"),
        (["--smoothing", "-0.1"], "--smoothing"),
        (["--stop_factor", "1"], "--stop_factor"),
        (["--stop_factor", "nan"], "--stop_factor"),
        (["--batch_size", "0"], "--batch_size"),
        (["--preset", "huge"], "--preset"),
    ],
)
def test_bad_input_is_exit_2_with_a_message(flags, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        lr_find.main(["--workdir", str(tmp_path), *flags])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / lr_find.JSON_FILE).exists()


def test_find_lr_refuses_bad_settings_before_any_work(tiny, tmp_path):
    with pytest.raises(ValueError, match="--num_steps"):
        lr_find.find_lr(tiny(tmp_path), num_steps=5)


def test_find_or_load_reuses_the_same_test_and_reruns_another(cli_run, monkeypatch):
    out, _, _, config = cli_run
    saved = _strict_json((out / lr_find.JSON_FILE).read_text())
    settings = dict(min_lr=1e-5, max_lr=100.0, num_steps=30)

    def must_not_run(*args, **kwargs):
        raise AssertionError("find_lr ran although lr_find.json holds this test")

    monkeypatch.setattr(lr_find, "find_lr", must_not_run)
    # Another --peak_lr or --steps is the same test.
    again = config.__class__(**{**config.__dict__, "peak_lr": 0.5, "steps": 80})
    assert lr_find.find_or_load(again, out, **settings) == saved

    calls = []
    monkeypatch.setattr(lr_find, "find_lr", lambda c, **s: calls.append((c.seed, s)) or saved)
    monkeypatch.setattr(lr_find, "write_outputs", lambda result, out: None)
    lr_find.find_or_load(config.__class__(**{**config.__dict__, "seed": 4}), out, **settings)
    lr_find.find_or_load(config, out, **{**settings, "num_steps": 40})
    assert [seed for seed, _ in calls] == [4, 3]
    assert calls[1][1]["num_steps"] == 40 and calls[1][1]["smoothing"] == 0.98


@pytest.mark.parametrize(
    ("overrides", "suggested"),
    [
        ({}, "steepest"),  # --warmup_ratio 0.1
        ({"warmup_steps": 5}, "steepest"),
        ({"warmup_steps": "10%"}, "steepest"),
        ({"warmup_steps": 0}, "valley"),
        ({"warmup_ratio": 0.0}, "valley"),
        ({"no_lr_schedule": True}, "valley"),
        ({"schedule": "one_cycle"}, "steepest"),
        ({"schedule": "constant_schedule(peak)"}, "valley"),
    ],
)
def test_the_suggestion_follows_whether_the_run_warms_up(overrides, suggested):
    assert lr_find.suggestion_for(make_config("tiny", "x", **overrides)) == suggested

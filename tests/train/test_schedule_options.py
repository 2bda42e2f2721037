"""Schedule options of the harness: expressions, one step ahead, peak scaling, rewarmup."""

from __future__ import annotations

import json
import pathlib

import jax.numpy as jnp
import numpy as np
import pytest

import warmup_jax
from train.__main__ import main
from train.config import ConfigError
from train.loop import run


def _rows(workdir: pathlib.Path) -> list[dict]:
    return [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]


def _lrs(workdir: pathlib.Path) -> np.ndarray:
    return np.asarray([row["train/learning_rate"] for row in _rows(workdir)], np.float32)


def _expected(schedule, steps: int) -> np.ndarray:
    import jax

    return np.asarray(jax.jit(schedule)(jnp.arange(steps, dtype=jnp.int32)))


def test_expression_schedule_is_the_learning_rate(tiny, tmp_path):
    text = "linear_warmup(peak, warmup_steps) >> cosine_decay(peak, decay_steps, end_value=0.01)"
    config = tiny(
        tmp_path / "run",
        schedule=text,
        steps=20,
        warmup_steps=4,
        checkpoint_every=10,
        eval_every=10,
    )
    run(config)
    expected = warmup_jax.linear_warmup(3e-3, 4) >> warmup_jax.cosine_decay(3e-3, 16, 0.01)
    np.testing.assert_array_equal(_lrs(tmp_path / "run"), _expected(expected, 20))


def test_one_step_ahead_and_scaled_peak(tiny, tmp_path):
    config = tiny(
        tmp_path / "run",
        steps=20,
        warmup_steps=4,
        warmup_one_step_ahead=True,
        scale_lr="sqrt",
        base_batch_size=16,
        checkpoint_every=10,
        eval_every=10,
    )
    run(config)
    peak = 3e-3 * (4 / 16) ** 0.5  # batch 4 from a peak tuned at batch 16
    expected = warmup_jax.cosine_schedule_with_warmup(peak, 4, 20, warmup_one_step_ahead=True)
    lrs = _lrs(tmp_path / "run")
    np.testing.assert_array_equal(lrs, _expected(expected, 20))
    assert lrs[0] == np.float32(peak / 4) and lrs[3] == np.float32(peak)


def test_scale_lr_needs_a_base_batch_size(tiny, tmp_path):
    with pytest.raises(ConfigError, match="--scale_lr and --base_batch_size go together"):
        tiny(tmp_path, scale_lr="linear").validate()


def test_rewarmup_continues_a_finished_run_and_resumes_exactly(tiny, tmp_path):
    first = dict(steps=20, warmup_steps=4, checkpoint_every=10, eval_every=10)
    more = dict(
        steps=40,
        warmup_steps=4,
        checkpoint_every=10,
        eval_every=10,
        rewarmup_steps=5,
        rewarmup_peak_lr=1e-3,
    )
    run(tiny(tmp_path / "a", **first))
    original = _rows(tmp_path / "a")
    # Without the option, training on with more steps changes the schedule: refused.
    with pytest.raises(ConfigError, match="the learning-rate schedule changed"):
        run(tiny(tmp_path / "a", steps=40, warmup_steps=4, checkpoint_every=10, eval_every=10))
    run(tiny(tmp_path / "a", **more, stop_after=30))
    run(tiny(tmp_path / "a", **more))  # resumed at step 30 with the stored rewarmup schedule
    rows = _rows(tmp_path / "a")
    assert [row["step"] for row in rows] == list(range(40))
    assert rows[:20] == original  # the finished part is untouched
    old = warmup_jax.cosine_schedule_with_warmup(3e-3, 4, 20)
    expected = warmup_jax.rewarmup(old, 20, 1e-3, 5, warmup_jax.cosine_decay(1e-3, 15))
    lrs = _lrs(tmp_path / "a")
    np.testing.assert_array_equal(lrs, _expected(expected, 40))
    assert lrs[20] == 0.0 and lrs[25] == np.float32(1e-3)
    stored = json.loads((tmp_path / "a" / "summary.json").read_text())["schedule"]
    assert stored["schedule"] == "rewarmup" and stored["arguments"]["at_step"] == 20


@pytest.mark.slow
def test_interrupted_rewarmup_equals_an_uninterrupted_one(tiny, tmp_path):
    first = dict(steps=20, warmup_steps=4, checkpoint_every=10, eval_every=10)
    more = dict(first, steps=40, rewarmup_steps=5, rewarmup_peak_lr=1e-3)
    for name, stops in (("a", [30]), ("b", [])):
        run(tiny(tmp_path / name, **first))
        for stop in stops:
            run(tiny(tmp_path / name, **more, stop_after=stop))
        run(tiny(tmp_path / name, **more))

    def numbers(name):
        return [
            (r["step"], r["train/learning_rate"], r["train/loss"]) for r in _rows(tmp_path / name)
        ]

    assert numbers("a") == numbers("b")


def test_rewarmup_without_a_checkpoint_is_refused(tiny, tmp_path):
    with pytest.raises(ConfigError, match="holds no readable checkpoint; train without it first"):
        run(tiny(tmp_path / "empty", rewarmup_steps=5))


def test_cli_rejects_a_malformed_expression_with_its_position(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "--schedule",
                "linear_warmup(peak, 10) >> cosine_decay(peak, 90",
                "--workdir",
                "/tmp/never-written",
            ]
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "expected ',' or ')', found the end at column 49" in err
    assert not pathlib.Path("/tmp/never-written").exists()

"""--hparam and --plateau in the harness: logged every step, checked on resume, exact resume."""

from __future__ import annotations

import numpy as np
import pytest

import warmup_jax
from train import __main__ as cli
from train.logging import read_metrics
from train.loop import run
from train.resume_check import ResumeError

B1 = "linear_warmup(peak_value=0.95, warmup_steps=10, init_value=0.85)"
WD = "cosine_decay(0.1, steps)"
TIMING = "train/tokens_per_sec"


def _numbers(rows):
    return [{k: v for k, v in r.items() if k != TIMING} for r in rows]


def _config(argv):
    parser = cli.build_parser()
    return cli.config_from_args(parser.parse_args(argv), parser)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--hparam", "beta1=constant(0.9)"],
            "adamw takes no hyperparameter 'beta1'; it takes: b1, b2",
        ),
        (["--hparam", "b1"], "--hparam: expected NAME=EXPRESSION"),
        (
            ["--hparam", "b1=constant(0.9)", "--hparam", "b1=constant(0.8)"],
            "--hparam gives b1 more than once",
        ),
        (
            ["--hparam", "b1=constant(0.9)", "--b1", "0.8"],
            "--hparam schedules b1, also given as a constant by --b1",
        ),
        (["--hparam", "learning_rate=constant(0.1)"], "the learning rate's schedule is --schedule"),
        (["--hparam", "b1=cosine_typo(1, 2)"], "cosine_typo"),
        (["--plateau", "patience=-1"], "patience"),
        (["--plateau", "factor=2"], "factor"),
        (["--plateau", "speed=3"], "speed"),
        (
            ["--schedule", "one_cycle", "--warmup_steps", "3"],
            "--schedule one_cycle has its own warmup",
        ),
    ],
)
def test_bad_hyperparameter_flags_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        _config(["--preset", "tiny", *argv])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.fixture(scope="module")
def scheduled_run(tiny, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hparams")
    config = tiny(
        workdir,
        eval_every=5,
        checkpoint_every=10,
        hyperparams={"b1": B1, "weight_decay": WD},
        plateau="patience=1,factor=0.5,threshold=10",  # never an improvement: drops on schedule
    )
    run(config)
    return config, read_metrics(workdir)


def test_every_scheduled_hyperparameter_is_logged_every_step(scheduled_run):
    config, rows = scheduled_run
    steps = np.arange(config.steps)
    b1 = warmup_jax.parse(B1)
    wd = warmup_jax.parse(WD, {"steps": config.steps})
    # To a few float32 ulps: inside the fused update XLA may contract a + b * t into one
    # multiply-add and evaluate cos with another approximation than in a lone call.
    np.testing.assert_allclose([r["train/b1"] for r in rows], b1(steps), rtol=1e-6, atol=0)
    np.testing.assert_allclose(
        [r["train/weight_decay"] for r in rows], wd(steps), rtol=1e-6, atol=0
    )


def test_the_plateau_halves_the_lr_after_two_bad_evaluations(scheduled_run):
    config, rows = scheduled_run
    scale = [r["train/plateau_scale"] for r in rows]
    # Evaluations after steps 5, 10, 15, ...: torch's rule drops once 2 > patience bad ones
    # are counted, then again every 2 (no cooldown).
    assert scale[:10] == [1.0] * 10 and scale[10:20] == [0.5] * 10
    assert scale[20:30] == [0.25] * 10 and scale[30:] == [0.125] * 10
    schedule = warmup_jax.cosine_schedule_with_warmup(3e-3, 4, config.steps)
    expected = [np.float32(float(schedule(s))) * np.float32(scale[s]) for s in range(config.steps)]
    assert [r["train/learning_rate"] for r in rows] == [float(x) for x in expected]


def test_a_run_stopped_between_evaluations_resumes_bit_identical(scheduled_run, tmp_path):
    config, rows = scheduled_run
    again = config.__class__(**{**config.__dict__, "workdir": str(tmp_path), "stop_after": 25})
    assert run(again)["stopped_early"]
    resumed = run(config.__class__(**{**again.__dict__, "stop_after": None}))
    assert resumed["resumed_from_step"] == 20
    assert _numbers(read_metrics(tmp_path)) == _numbers(rows)


def test_a_changed_hyperparameter_schedule_is_refused_unless_allowed(scheduled_run, tmp_path):
    config, _ = scheduled_run
    first = config.__class__(**{**config.__dict__, "workdir": str(tmp_path), "stop_after": 10})
    run(first)
    changed = config.__class__(
        **{
            **first.__dict__,
            "stop_after": 20,
            "hyperparams": {"b1": "constant(0.9)", "weight_decay": WD},
        }
    )
    with pytest.raises(ResumeError, match=r"the schedule of a hyperparameter \(--hparam\) changed"):
        run(changed)
    assert run(changed, allow_schedule_change=True)["steps"] == 20
    fewer = config.__class__(**{**first.__dict__, "stop_after": 30, "hyperparams": {"b1": B1}})
    with pytest.raises(ResumeError, match=r"scheduled hyperparameters \(--hparam\) changed"):
        run(fewer, allow_schedule_change=True)


def test_one_cycle_cycles_b1_as_torch_does(tiny, tmp_path):
    config = tiny(tmp_path, schedule="one_cycle", warmup_steps=0)
    run(config)
    rows = read_metrics(tmp_path)
    steps = np.arange(config.steps)
    lr = warmup_jax.one_cycle_lr(3e-3, config.steps)
    b1 = warmup_jax.one_cycle_momentum(3e-3, config.steps)
    np.testing.assert_allclose([r["train/learning_rate"] for r in rows], lr(steps), rtol=1e-6)
    np.testing.assert_allclose([r["train/b1"] for r in rows], b1(steps), rtol=1e-6, atol=0)

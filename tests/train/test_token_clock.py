"""A schedule in tokens follows the tokens seen: a resume may change --batch_size (#15, item 3)."""

from __future__ import annotations

import dataclasses
import json

import jax.numpy as jnp
import numpy as np
import optax
import pytest

import warmup_jax
from train import __main__ as cli
from train.config import schedule_in_tokens
from train.loop import run
from train.resume_check import ResumeError
from train.token_clock import clock_step, examples_seen, scale_by_token_clock

# tiny: 4 sequences of 32 bytes a step, 40 steps; checkpoints and evaluations every 20.
TOKENS = ["--steps", "5120tok", "--warmup_steps", "1280tok"]  # 40 steps, warmup 10, at batch 4
SCHEDULE = warmup_jax.cosine_schedule_with_warmup(3e-3, 10, 40)


def _config(argv):
    parser = cli.build_parser()
    return cli.config_from_args(parser.parse_args(["--preset", "tiny", *argv]), parser)


def _rows(workdir):
    return [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(
    ("argv", "why_not"),
    [
        (TOKENS, None),
        (["--steps", "5120tok"], None),  # the default warmup is --warmup_ratio, a share
        (["--steps", "160ex", "--warmup_steps", "10%"], None),
        (["--steps", "2ep"], None),
        (["--steps", "40"], "--steps counts optimizer steps"),
        (["--steps", "40st"], "--steps counts optimizer steps"),
        (["--steps", "5120tok", "--warmup_steps", "10"], "--warmup_steps counts optimizer"),
        (["--steps", "5120tok", "--warmup_steps", "10st"], "--warmup_steps counts optimizer"),
        (["--steps", "5120tok", "--hparam", "b1=0.9"], "--hparam"),
        (["--steps", "5120tok", "--schedule", "one_cycle"], "one_cycle"),
        (
            ["--steps", "5120tok", "--schedule", "constant_schedule(peak)"],
            "a schedule expression's lengths are in optimizer steps",
        ),
        (
            [
                "--steps",
                "5120tok",
                "--schedule",
                "warmup_stable_decay",
                "--schedule_kwargs",
                '{"num_decay_steps": 8}',
            ],
            "--schedule_kwargs num_decay_steps counts optimizer steps",
        ),
    ],
)
def test_which_schedules_are_in_tokens(argv, why_not):
    config = _config(argv)
    reason = schedule_in_tokens(config)
    if why_not is None:
        # Epochs are resolved once the data is read, and the clock's batch with them.
        assert reason is None
        assert config.clock_batch_size == (4 if config.lengths_resolved else None)
    else:
        assert reason is not None and why_not in reason and config.clock_batch_size is None


def test_the_clock_gives_optax_adamws_updates_bit_for_bit_at_the_first_batch():
    params = {"w": jnp.linspace(-1.0, 1.0, 6, dtype=jnp.float32).reshape(2, 3)}
    plain = optax.adamw(SCHEDULE, b1=0.9, b2=0.95, weight_decay=0.1)
    clocked = optax.chain(
        optax.scale_by_adam(b1=0.9, b2=0.95),
        optax.add_decayed_weights(0.1),
        scale_by_token_clock(SCHEDULE, 4, 4),
    )
    a, b = plain.init(params), clocked.init(params)
    for step in range(14):
        grads = {"w": jnp.sin(params["w"] * (step + 1))}
        ua, a = plain.update(grads, a, params)
        ub, b = clocked.update(grads, b, params)
        np.testing.assert_array_equal(ua["w"], ub["w"])
    assert int(examples_seen(b)) == 14 * 4 and int(clock_step(b, 4)) == 14


def test_the_clock_counts_sequences_at_any_batch():
    clocked = scale_by_token_clock(SCHEDULE, 6, 4)  # batch 6, schedule steps of 4 sequences
    state = clocked.init({})
    for n in range(5):
        assert int(clock_step(state, 4)) == 6 * n // 4
        _, state = clocked.update({}, state)
    with pytest.raises(ValueError, match="no token clock"):
        clock_step(optax.adamw(1e-3).init({}), 4)
    with pytest.raises(ValueError, match="clock_batch_size"):
        scale_by_token_clock(SCHEDULE, 4, 0)


def test_a_run_in_tokens_is_the_run_in_steps_when_the_batch_stays(tiny, tmp_path):
    in_tokens = run(tiny(tmp_path / "tok", steps="5120tok", warmup_steps="1280tok"))
    in_steps = run(tiny(tmp_path / "st", steps=40, warmup_steps=10))
    assert in_tokens["config"]["clock_batch_size"] == 4
    assert in_steps["config"]["clock_batch_size"] is None
    assert in_tokens["final_val_loss"] == in_steps["final_val_loss"]
    assert in_tokens["tokens_seen"] == in_steps["tokens_seen"] == 5120
    a, b = _rows(tmp_path / "tok"), _rows(tmp_path / "st")
    assert [r["train/learning_rate"] for r in a] == [r["train/learning_rate"] for r in b]
    assert [r["train/loss"] for r in a] == [r["train/loss"] for r in b]
    assert [r["train/tokens_seen"] for r in a] == [128 * (s + 1) for s in range(40)]


@pytest.mark.parametrize(
    ("new_batch", "steps_after"),
    [  # 80 sequences left: 80 / 8, 80 / 2, ceil(80 / 6)
        (8, 10),
        pytest.param(2, 40, marks=pytest.mark.slow),
        pytest.param(6, 14, marks=pytest.mark.slow),
    ],
)
def test_a_resume_at_another_batch_has_the_lr_of_its_token_count(
    tiny, tmp_path, new_batch, steps_after
):
    first = tiny(tmp_path, steps="5120tok", warmup_steps="1280tok", stop_after=20)
    assert run(first)["steps"] == 20
    resumed = dataclasses.replace(first, batch_size=new_batch, stop_after=None)
    summary = run(resumed)
    assert summary["steps"] == 20 + steps_after
    assert summary["config"]["clock_batch_size"] == 4  # the first run's, kept
    assert summary["config"]["steps"] == 40  # the schedule's steps, of 4 sequences
    seen = 80 + steps_after * new_batch  # sequences; the last step may pass 160 by < a batch
    assert summary["tokens_seen"] == seen * 32 and 160 <= seen < 160 + new_batch
    rows = _rows(tmp_path)
    assert [r["step"] for r in rows] == list(range(20 + steps_after))
    for r in rows:
        s = r["step"]
        before = 4 * s if s < 20 else 80 + new_batch * (s - 20)  # sequences before the update
        lr = float(SCHEDULE(jnp.int32(before // 4)))
        assert r["train/learning_rate"] == pytest.approx(lr, rel=1e-6, abs=1e-12), s
        assert r["train/tokens_seen"] == (before + (4 if s < 20 else new_batch)) * 32
    # No jump at the change: the LR at step 20 is the schedule's at 80 sequences, as it would be.
    assert rows[20]["train/learning_rate"] == pytest.approx(float(SCHEDULE(20)), rel=1e-6)


@pytest.mark.slow  # three runs; one resume at another batch is in the default run
def test_a_second_resume_at_the_new_batch_continues(tiny, tmp_path):
    first = tiny(tmp_path, steps="5120tok", warmup_steps="1280tok", stop_after=20)
    run(first)
    run(dataclasses.replace(first, batch_size=2, stop_after=40))  # 20 of 40 steps left, stop
    summary = run(dataclasses.replace(first, batch_size=2, stop_after=None))
    assert summary["steps"] == 60 and summary["tokens_seen"] == 160 * 32
    assert summary["resumed_from_step"] == 40


def test_changing_the_batch_is_refused_when_the_schedule_counts_steps(tiny, tmp_path):
    first = tiny(tmp_path, stop_after=20)
    run(first)
    with pytest.raises(ResumeError) as info:
        run(dataclasses.replace(first, batch_size=8, stop_after=None))
    message = str(info.value)
    assert "batch_size: 4 in the checkpoint, 8 now" in message
    assert "--batch_size may change on a resume only when the schedule is in tokens" in message


def test_steps_left_must_fit_steps_per_call(tiny, tmp_path):
    first = tiny(tmp_path, steps="5120tok", warmup_steps="1280tok", stop_after=20)
    run(first)
    with pytest.raises(Exception, match="14 steps left, not a multiple of --steps_per_call"):
        run(
            dataclasses.replace(first, batch_size=6, stop_after=None, steps_per_call=4, log_every=4)
        )

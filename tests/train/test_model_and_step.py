"""The model, the train state, and the compiled train_step / eval_step."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import warmup_jax
from train import data
from train.model import ByteTransformer, next_byte_loss
from train.schedule import make_schedule
from train.state import create_train_state, make_optimizer
from train.step import make_eval_step, make_train_step


@pytest.fixture
def setup(tiny, tmp_path):
    config = tiny(tmp_path, steps=20, warmup_steps=5)
    model = ByteTransformer(config.model, config.seq_len)
    schedule = make_schedule(config)
    state = create_train_state(config, model, make_optimizer(config, schedule))
    return config, model, schedule, state


def _batch(text_data, config, step):
    return jax.device_put(
        data.train_batch(text_data.train, config.seed, step, config.batch_size, config.seq_len)
    )


def test_model_is_causal_and_starts_near_uniform(setup):
    config, model, _, state = setup
    tokens = jnp.asarray(np.random.default_rng(0).integers(0, 256, (2, config.seq_len)), jnp.int32)
    logits = model.apply({"params": state.params}, tokens)
    assert logits.shape == (2, config.seq_len, 256)
    changed = tokens.at[:, -1].set((tokens[:, -1] + 1) % 256)
    changed_logits = model.apply({"params": state.params}, changed)
    np.testing.assert_array_equal(logits[:, :-1], changed_logits[:, :-1])
    assert not np.array_equal(logits[:, -1], changed_logits[:, -1])
    loss = next_byte_loss(model, state.params, jnp.concatenate([tokens, tokens[:, :1]], axis=1))
    assert abs(float(loss) - math.log(256)) < 0.1


def test_state_step_is_a_strongly_typed_int32_device_array(setup):
    *_, state = setup
    assert isinstance(state.step, jax.Array)
    assert state.step.dtype == jnp.int32 and state.step.shape == ()
    assert not state.step.aval.weak_type


def test_train_step_returns_the_schedule_lr_of_each_step_and_keeps_optax_in_step(
    setup, text_data, compile_log
):
    config, model, schedule, state = setup
    train_step = make_train_step(model, schedule)
    lrs, losses = [], []
    for step in range(config.steps):  # Warmup (0..4), peak, then the cosine decay.
        state, metrics = train_step(state, _batch(text_data, config, step))
        lrs.append(float(metrics["learning_rate"]))
        losses.append(float(metrics["loss"]))
        assert np.isfinite(float(metrics["grad_norm"])) and float(metrics["grad_norm"]) > 0
    assert lrs == [float(schedule(s)) for s in range(config.steps)]
    assert lrs[0] == 0.0 and lrs[5] == pytest.approx(config.peak_lr)
    assert int(state.step) == config.steps
    # adamw applies schedule(its own count); it must be the same step as state.step.
    counts = [
        int(x) for x in jax.tree.leaves(state.opt_state) if getattr(x, "dtype", None) == jnp.int32
    ]
    assert counts and all(c == config.steps for c in counts)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert compile_log.count("train_step") == 1


def test_steady_state_steps_make_no_implicit_transfers(setup, text_data):
    config, model, schedule, state = setup
    train_step = make_train_step(model, schedule)
    state, _ = train_step(state, _batch(text_data, config, 0))
    with jax.transfer_guard("disallow"):
        for step in range(1, 6):
            state, metrics = train_step(state, _batch(text_data, config, step))
        # The guard is live: a numpy batch (an implicit host-to-device copy) is refused.
        host = data.train_batch(text_data.train, config.seed, 6, config.batch_size, config.seq_len)
        with pytest.raises(Exception, match="[Dd]isallowed host-to-device transfer"):
            train_step(state, host)
    assert float(metrics["learning_rate"]) == float(schedule(5))


def test_steps_per_call_matches_single_steps(setup, text_data, tiny, tmp_path):
    config, model, schedule, state = setup
    single = make_train_step(model, schedule)
    scanned = make_train_step(model, schedule, steps_per_call=4)
    state_b = jax.tree.map(jnp.copy, state)
    singles = []
    for step in range(8):
        state, m = single(state, _batch(text_data, config, step))
        singles.append(jax.device_get(m))
    stacked = []
    for first in (0, 4):
        batches = data.train_batches(
            text_data.train, config.seed, first, 4, config.batch_size, config.seq_len
        )
        state_b, m = scanned(state_b, jax.device_put(batches))
        assert m["loss"].shape == (4,)
        stacked.append(jax.device_get(m))
    for key in ("learning_rate", "loss", "grad_norm"):
        want = np.array([m[key] for m in singles])
        got = np.concatenate([m[key] for m in stacked])
        if key == "learning_rate":
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_array_equal(got, want)
    assert int(state_b.step) == 8


def test_eval_step_is_the_mean_loss_of_the_batches(setup, text_data):
    config, model, _, state = setup
    batches = data.eval_batches(text_data.validation, 3, config.batch_size, config.seq_len)
    got = float(make_eval_step(model)(state.params, jax.device_put(batches)))
    want = np.mean([float(next_byte_loss(model, state.params, jnp.asarray(b))) for b in batches])
    assert got == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, warmup_jax.cosine_schedule_with_warmup(3e-3, 4, 40)),
        ({"warmup_steps": 7}, warmup_jax.cosine_schedule_with_warmup(3e-3, 7, 40)),
        (
            {"warmup_ratio": 0.25, "schedule": "linear"},
            warmup_jax.linear_schedule_with_warmup(3e-3, 10, 40),
        ),
        (
            {"warmup_type": "exponential"},
            warmup_jax.cosine_schedule_with_warmup(3e-3, 4, 40, warmup_type="exponential"),
        ),
        ({"no_lr_schedule": True}, warmup_jax.constant_schedule(3e-3)),
        (
            {"schedule": "cosine_with_restarts", "schedule_kwargs": {"num_cycles": 3}},
            warmup_jax.cosine_with_hard_restarts_schedule_with_warmup(3e-3, 4, 40, num_cycles=3),
        ),
        (
            {"schedule": "cosine_with_min_lr"},
            warmup_jax.cosine_with_min_lr_schedule_with_warmup(3e-3, 4, 40, min_lr_rate=0.1),
        ),
        (
            {"schedule": "warmup_stable_decay"},
            warmup_jax.wsd_schedule(3e-3, 4, num_decay_steps=8, num_training_steps=40),
        ),
    ],
)
def test_make_schedule_maps_flags_to_schedule_by_name(tiny, tmp_path, overrides, expected):
    schedule = make_schedule(tiny(tmp_path, **overrides))
    assert schedule == expected
    steps = jnp.arange(40, dtype=jnp.int32)
    np.testing.assert_array_equal(jax.jit(schedule)(steps), jax.jit(expected)(steps))

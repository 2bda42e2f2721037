"""Scheduled hyperparameters (issue 14): values at exact steps, bit-for-bit equal to plain optax
with those values as constants, under jit and lax.scan, through a restore, and as JSON."""

import json
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import warmup_jax as wj
from warmup_jax.hyperparams import (
    HyperparamSchedules,
    ScheduledHyperparamsState,
    hyperparam_schedules,
    hyperparams_at,
    scheduled,
)

LR = wj.cosine_schedule_with_warmup(1e-2, 3, 12)
B1 = wj.linear_warmup(0.95, 4, init_value=0.85)
WD = wj.cosine_decay(0.1, 10)
MOMENTUM = wj.one_cycle_momentum(0.1, total_steps=12)


def params_and_grads(steps=12):
    key = jax.random.key(0)
    params = {"w": jax.random.normal(key, (3, 4)), "b": jnp.zeros(4)}
    grads = [
        jax.tree.map(lambda p, i=i: jnp.sin(p * (i + 1.0)) + 0.1 * i, params) for i in range(steps)
    ]
    return params, grads


def exactly_equal(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


CASES = {
    "adamw": (optax.adamw, dict(learning_rate=LR, b1=B1, weight_decay=WD, b2=0.999)),
    "sgd": (optax.sgd, dict(learning_rate=LR, momentum=MOMENTUM, nesterov=True)),
    "adam": (optax.adam, dict(learning_rate=1e-3, b2=wj.linear_decay(0.999, 6, end_value=0.99))),
}


@pytest.mark.parametrize("name", CASES)
def test_each_update_equals_plain_optax_with_the_values_as_constants(name):
    factory, hyperparams = CASES[name]
    opt = scheduled(factory, **hyperparams)
    update = jax.jit(opt.update)
    params, grads = params_and_grads()
    state = opt.init(params)
    for step, g in enumerate(grads):
        values = {
            k: float(v(step)) if isinstance(v, wj.Schedule) else v for k, v in hyperparams.items()
        }
        plain = factory(**values)
        # both compiled (XLA fuses the same way; eager and jitted can differ in the last bit)
        expected, expected_inner = jax.jit(plain.update)(g, state.inner_state, params)
        updates, state = update(g, state, params)
        exactly_equal(updates, expected)
        exactly_equal(state.inner_state, expected_inner)
        assert int(state.count) == step + 1
        for k in state.hyperparams:
            assert float(state.hyperparams[k]) == values[k]
        params = optax.apply_updates(params, updates)


def test_values_at_exact_steps():
    spec = hyperparam_schedules("adamw", learning_rate=LR, b1=B1, weight_decay=WD, b2=0.999)
    assert spec.names == ("b1", "learning_rate", "weight_decay")
    values = jax.jit(spec.values)(jnp.int32(2))
    assert float(values["b1"]) == pytest.approx(0.9, rel=1e-7)
    assert float(values["learning_rate"]) == pytest.approx(1e-2 * 2 / 3, rel=1e-7)
    assert float(values["weight_decay"]) == float(WD(2))
    opt = spec.transformation()
    params, grads = params_and_grads(5)
    state = opt.init(params)
    assert float(hyperparams_at(state)["b1"]) == float(np.float32(0.85))  # at init: step 0
    for g in grads:
        _, state = opt.update(g, state, params)
    # after update 4 (the 5th), the values it used: step 4, the end of b1's warmup
    assert float(hyperparams_at(state)["b1"]) == float(np.float32(0.95))
    assert float(hyperparams_at(state)["learning_rate"]) == float(LR(4))
    assert set(hyperparams_at(state)) == set(spec.names)


def test_scan_equals_a_python_loop_and_a_restore_resumes_bit_identically():
    opt = optax.chain(
        optax.clip_by_global_norm(1.0),
        scheduled("adamw", learning_rate=LR, b1=B1, weight_decay=WD),
    )
    params, grads = params_and_grads()
    stacked = jax.tree.map(lambda *g: jnp.stack(g), *grads)

    def body(carry, g):
        params, state = carry
        updates, state = opt.update(g, state, params)
        return (optax.apply_updates(params, updates), state), hyperparams_at(state)

    run = jax.jit(lambda carry, gs: jax.lax.scan(body, carry, gs))
    (p_scan, s_scan), logged = run((params, opt.init(params)), stacked)
    np.testing.assert_array_equal(np.asarray(logged["b1"]), np.asarray(B1(jnp.arange(12))))
    carry = (params, opt.init(params))
    step = jax.jit(body)
    for g in grads:
        carry, _ = step(carry, g)
    exactly_equal(carry, (p_scan, s_scan))
    # a restore: the state's leaves through numpy (as orbax writes them), then 7 more steps
    half = jax.tree.map(lambda g: g[:5], stacked)
    rest = jax.tree.map(lambda g: g[5:], stacked)
    saved, _ = run((params, opt.init(params)), half)
    leaves, treedef = jax.tree.flatten(saved)
    restored = jax.tree.unflatten(treedef, [jnp.asarray(np.asarray(x)) for x in leaves])
    resumed, _ = run(restored, rest)
    exactly_equal(resumed, (p_scan, s_scan))
    inner = s_scan[1]
    assert isinstance(inner, ScheduledHyperparamsState)
    assert inner.count.dtype == jnp.int32 and int(inner.count) == 12


def test_low_precision_params_keep_their_dtype():
    opt = scheduled(optax.adamw, learning_rate=LR, b1=B1, weight_decay=WD)
    params = {"w": jnp.ones(3, jnp.bfloat16)}
    state = opt.init(params)
    updates, new_state = jax.jit(opt.update)({"w": jnp.ones(3, jnp.bfloat16)}, state, params)
    assert updates["w"].dtype == jnp.bfloat16
    assert jax.tree.structure(new_state) == jax.tree.structure(state)
    for a, b in zip(jax.tree.leaves(new_state), jax.tree.leaves(state)):
        assert a.dtype == b.dtype


def test_config_round_trip_json_and_pickle():
    spec = hyperparam_schedules(optax.adamw, learning_rate=LR, b1=B1, weight_decay=WD, b2=0.999)
    config = spec.to_config()
    assert config["optimizer"] == "adamw"
    assert config["hyperparams"]["b2"] == 0.999
    assert config["hyperparams"]["b1"] == B1.to_config()
    text = json.dumps(config)
    again = HyperparamSchedules.from_config(text)
    assert again.to_config() == config
    assert again == hyperparam_schedules("adamw", **spec.hyperparams)
    assert pickle.loads(pickle.dumps(again)).to_config() == config
    # the rebuilt optimizer computes the same
    params, grads = params_and_grads(3)
    a, b = spec.transformation(), again.transformation()
    sa, sb = a.init(params), b.init(params)
    for g in grads:
        ua, sa = a.update(g, sa, params)
        ub, sb = b.update(g, sb, params)
        exactly_equal(ua, ub)


def test_unknown_hyperparameter_names_the_ones_the_optimizer_takes():
    with pytest.raises(ValueError, match=r"sgd takes no hyperparameter 'b1'; it takes: .*momentum"):
        scheduled(optax.sgd, learning_rate=0.1, b1=B1)
    with pytest.raises(ValueError, match=r"adamw takes no hyperparameter 'beta1', 'wd'"):
        hyperparam_schedules("adamw", beta1=B1, wd=0.1)


@pytest.mark.parametrize(
    "optimizer, message",
    [
        ("no_such_optimizer", r"optax has no 'no_such_optimizer'"),
        ("_src.alias", r"must be the name of an optax optimizer factory"),
        ("tree", r"is not an optimizer factory"),
        (3, r"optimizer must be an optax optimizer factory or its name"),
    ],
)
def test_unknown_optimizer(optimizer, message):
    with pytest.raises(ValueError, match=message):
        hyperparam_schedules(optimizer, learning_rate=0.1)


def test_what_has_no_json_form_is_a_type_error():
    def my_factory(learning_rate: float) -> optax.GradientTransformation:
        return optax.sgd(learning_rate)

    spec = hyperparam_schedules(my_factory, learning_rate=LR)
    assert spec.transformation().init(jnp.zeros(1)) is not None
    with pytest.raises(TypeError, match="not an optax optimizer factory"):
        spec.to_config()
    with pytest.raises(TypeError, match="no JSON form"):
        hyperparam_schedules("sgd", learning_rate=optax.constant_schedule(0.1)).to_config()


@pytest.mark.parametrize(
    "config, message",
    [
        ({"optimizer": "adamw"}, r"config must be a dict"),
        ("{", r"not valid JSON"),
        ({"optimizer": "adamw", "hyperparams": {"b1": {"schedule": "nope"}}}, r"unknown schedule"),
        ({"optimizer": "sgd", "hyperparams": {"b1": 0.9}}, r"sgd takes no hyperparameter 'b1'"),
    ],
)
def test_bad_configs(config, message):
    with pytest.raises(ValueError, match=message):
        HyperparamSchedules.from_config(config)


def test_hyperparams_at_without_a_scheduled_optimizer_is_empty():
    assert hyperparams_at(optax.sgd(0.1).init(jnp.zeros(2))) == {}


def test_with_the_plateau_multiplier():
    from warmup_jax.plateau import PlateauSettings, plateau_scale, scale_by_plateau, update_plateau

    settings = PlateauSettings(patience=0, factor=0.5)
    opt = optax.chain(scheduled("sgd", learning_rate=LR), scale_by_plateau(settings))
    params = jnp.ones(2)
    state = update_plateau(update_plateau(opt.init(params), 1.0, settings), 2.0, settings)
    assert float(plateau_scale(state)) == 0.5
    updates, state = opt.update(jnp.ones(2), state, params)
    np.testing.assert_allclose(np.asarray(updates), -0.5 * float(LR(0)), rtol=1e-7)

"""Reduce-on-plateau (issue 14): each convention gives its library's published test values.

* torch: ``test_reduce_lr_on_plateau1`` .. ``8`` of pytorch/pytorch
  ``test/optim/test_lrscheduler.py`` (the optimizer's lr is 0.5; ``targets[e]`` is the lr after
  ``scheduler.step(metrics[e])``; torch compares with atol 1e-5). ``min_lr=[0.4, 0.3]`` with lr
  0.5 is ``min_scale`` 0.8 and 0.6.
* keras: keras-team/keras ``keras/src/callbacks/reduce_lr_on_plateau_test.py`` (Adam(0.1); the
  validation losses of its tiny model are replaced by small decreasing numbers, which none of
  its ``min_delta`` thresholds, 10 or 100, counts as an improvement after the first).
* optax: google-deepmind/optax ``optax/contrib/_reduce_on_plateau_test.py`` (factor 0.1,
  patience 5, rtol 1e-4, cooldown 5, min_scale 0.01), and, since optax is installed, the same
  sequence of states as ``optax.contrib.reduce_on_plateau`` on random metrics.

torch's and Keras' step functions are transcribed below (``_torch_reference``,
``_keras_reference``, from torch/optim/lr_scheduler.py ``ReduceLROnPlateau.step`` and
keras/src/callbacks/reduce_lr_on_plateau.py ``on_epoch_end``) and compared on random sequences.
"""

import functools
import json
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import warmup_jax as wj
from warmup_jax.plateau import (
    PlateauSettings,
    PlateauState,
    plateau_init,
    plateau_scale,
    plateau_update,
    scale_by_plateau,
    update_plateau,
)


@functools.partial(jax.jit, static_argnums=0)
def trajectory(settings, metrics):
    """The state after each evaluation (stacked), in one compiled ``lax.scan``."""

    def body(state, metric):
        state = plateau_update(state, metric, settings)
        return state, state

    return jax.lax.scan(body, plateau_init(settings), jnp.asarray(metrics, jnp.float32))[1]


def run(settings, metrics):
    """The scale after each evaluation (float64 numpy), and the whole trajectory."""
    states = trajectory(settings, metrics)
    return np.asarray(states.scale, np.float64), states


# (name, settings, metrics, targets, epochs): pytorch/pytorch test/optim/test_lrscheduler.py.
TORCH = [
    (
        "test_reduce_lr_on_plateau1",
        dict(threshold_mode="abs", mode="min", threshold=0.01, patience=5, cooldown=5),
        [10 - i * 0.0167 for i in range(20)],
        [[0.5] * 20],
        10,
    ),
    (
        "test_reduce_lr_on_plateau2",
        dict(patience=5, cooldown=0, threshold_mode="abs", mode="min", threshold=0.1),
        [10 - i * 0.0165 for i in range(22)],
        [[0.5] * 6 + [0.05] * 7 + [0.005] * 7 + [0.0005] * 2],
        22,
    ),
    (
        "test_reduce_lr_on_plateau3",
        dict(mode="max", patience=5, cooldown=5, threshold_mode="abs"),
        [-0.8] * 2 + [-0.234] * 20,
        [[0.5] * (2 + 6) + [0.05] * (5 + 6) + [0.005] * 4],
        22,
    ),
    (
        "test_reduce_lr_on_plateau4",
        dict(mode="max", patience=3, threshold_mode="rel", threshold=0.1),
        [1.5 * (1.025**i) for i in range(20)],
        [[0.5] * 20],
        20,
    ),
    (
        "test_reduce_lr_on_plateau5",
        dict(mode="max", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5),
        [1.5 * (1.005**i) for i in range(20)],
        [[0.5] * 6 + [0.05] * (5 + 6) + [0.005] * 4],
        20,
    ),
    (
        "test_reduce_lr_on_plateau6",
        dict(mode="min", threshold_mode="rel", threshold=0.1),
        [1.5 * (0.85**i) for i in range(20)],
        [[0.5] * 20],
        20,
    ),
    (
        "test_reduce_lr_on_plateau7",
        dict(mode="min", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5),
        [1] * 7 + [0.6] + [0.5] * 12,
        [[0.5] * 6 + [0.05] * (5 + 6) + [0.005] * 4],
        20,
    ),
    (
        "test_reduce_lr_on_plateau8",  # min_lr=[0.4, 0.3]: two param groups, two floors
        dict(mode="max", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5),
        [1.5 * (1.005**i) for i in range(20)],
        [[0.5] * 6 + [0.4] * 14, [0.5] * 6 + [0.3] * 14],
        20,
    ),
]


@pytest.mark.parametrize("name, kwargs, metrics, targets, epochs", TORCH, ids=[t[0] for t in TORCH])
def test_torch_published_values(name, kwargs, metrics, targets, epochs):
    floors = [0.4 / 0.5, 0.3 / 0.5] if name.endswith("8") else [0.0]
    for target, floor in zip(targets, floors):
        settings = PlateauSettings(**kwargs, min_scale=floor, convention="torch")
        scales, _ = run(settings, metrics[:epochs])
        np.testing.assert_allclose(0.5 * scales, target[:epochs], rtol=1e-6, atol=0)


def test_torch_default_is_the_default_convention():
    assert PlateauSettings().convention == "torch"
    assert PlateauSettings().threshold_mode == "rel"
    assert PlateauSettings(convention="keras").threshold_mode == "abs"


@pytest.mark.parametrize(
    "name, kwargs, epochs, lr",
    [
        ("test_reduces_lr_with_model_fit", dict(patience=1, factor=0.1, threshold=100), 2, 0.01),
        (
            "test_honors_min_lr",  # min_lr=0.005 with Adam(0.1)
            dict(patience=1, factor=0.1, threshold=10, min_scale=0.05),
            4,
            0.005,
        ),
        ("test_cooldown", dict(patience=1, factor=0.1, threshold=100, cooldown=2), 4, 0.001),
    ],
)
def test_keras_published_values(name, kwargs, epochs, lr):
    # keras-team/keras keras/src/callbacks/reduce_lr_on_plateau_test.py
    settings = PlateauSettings(**kwargs, convention="keras")
    assert settings.threshold_mode == "abs"  # Keras' min_delta
    losses = [1.0 - 0.1 * e for e in range(epochs)]
    scales, _ = run(settings, losses)
    np.testing.assert_allclose(0.1 * scales[-1], lr, rtol=1e-6)


OPTAX = PlateauSettings(
    factor=0.1, patience=5, threshold=1e-4, cooldown=5, min_scale=0.01, convention="optax"
)


def _state(best, plateau_count, scale, cooldown_count):
    return PlateauState(
        scale=jnp.asarray(scale, jnp.float32),
        best=jnp.asarray(best, jnp.float32),
        num_bad=jnp.asarray(plateau_count, jnp.int32),
        cooldown_counter=jnp.asarray(cooldown_count, jnp.int32),
        count=jnp.asarray(0, jnp.int32),
    )


def _check(state, scale, best, num_bad, cooldown):
    np.testing.assert_allclose(float(state.scale), scale, rtol=1e-6)
    np.testing.assert_allclose(float(state.best), best, rtol=1e-6)
    assert int(state.num_bad) == num_bad
    assert int(state.cooldown_counter) == cooldown


def test_optax_learning_rate_reduced_after_cooldown_period_is_over():
    # optax/contrib/_reduce_on_plateau_test.py
    state = plateau_init(OPTAX)
    for _ in range(OPTAX.patience + 1):
        state = plateau_update(state, 1.0, OPTAX)
    _check(state, 0.1, 1.0, 0, OPTAX.cooldown)
    state = plateau_update(state, 1.0, OPTAX)
    _check(state, 0.1, 1.0, 0, OPTAX.cooldown - 1)


def test_optax_learning_rate_is_not_reduced():
    state = plateau_update(_state(1.0, 3, 0.1, 0), 0.1, OPTAX)
    _check(state, 0.1, 0.1, 0, 0)


def test_optax_learning_rate_not_reduced_during_cooldown():
    state = plateau_update(_state(1.0, 0, 0.1, 3), 2.0, OPTAX)
    _check(state, 0.1, 1.0, 0, 2)


def test_optax_learning_rate_not_reduced_after_end_scale_is_reached():
    state = _state(1.0, 0, 0.01, 0)
    for _ in range(OPTAX.patience + 1):
        state = plateau_update(state, 0.1, OPTAX)
    _check(state, 0.01, 0.1, 0, OPTAX.cooldown)


# --- references: each library's step, transcribed, in Python floats --------------------------


def _better(a, best, mode, threshold_mode, threshold):
    if mode == "min":
        return a < best * (1 - threshold) if threshold_mode == "rel" else a < best - threshold
    return a > best * (threshold + 1) if threshold_mode == "rel" else a > best + threshold


def _torch_reference(s, metrics):
    # torch/optim/lr_scheduler.py ReduceLROnPlateau.step and _reduce_lr (lr = 1, min_lr =
    # min_scale; eps is left out, see warmup_jax.plateau)
    best = np.inf if s.mode == "min" else -np.inf
    bad = cooldown_counter = 0
    lr, out = 1.0, []
    for current in metrics:
        if _better(current, best, s.mode, s.threshold_mode, s.threshold):
            best, bad = current, 0
        else:
            bad += 1
        if cooldown_counter > 0:
            cooldown_counter -= 1
            bad = 0
        if bad > s.patience:
            lr = max(lr * s.factor, s.min_scale)
            cooldown_counter, bad = s.cooldown, 0
        out.append((lr, best, bad, cooldown_counter))
    return out


def _keras_reference(s, metrics):
    # keras/src/callbacks/reduce_lr_on_plateau.py ReduceLROnPlateau.on_epoch_end
    best = np.inf if s.mode == "min" else -np.inf
    wait = cooldown_counter = 0
    lr, out = 1.0, []
    for current in metrics:
        if cooldown_counter > 0:
            cooldown_counter -= 1
            wait = 0
        if _better(current, best, s.mode, s.threshold_mode, s.threshold):
            best, wait = current, 0
        elif not cooldown_counter > 0:
            wait += 1
            if wait >= s.patience and lr > np.float32(s.min_scale):
                # the optimizer's learning rate is a float32 variable
                lr = float(np.float32(max(lr * s.factor, s.min_scale)))
                cooldown_counter, wait = s.cooldown, 0
        out.append((lr, best, wait, cooldown_counter))
    return out


def _metrics(seed, n=60):
    """A noisy, mostly flat loss with repeats (plateaus), exactly representable in float32."""
    rng = np.random.default_rng(seed)
    steps = rng.choice([-0.25, 0.0, 0.0, 0.125, 0.5], size=n)
    return [float(v) for v in np.float32(4.0 + np.cumsum(steps))]


SETTINGS = [
    dict(patience=0, min_scale=1e-3),  # a floor: 60 drops of 0.1 would leave float32's range
    dict(patience=1, cooldown=2),
    dict(patience=2, factor=0.5, min_scale=0.1),
    dict(patience=3, cooldown=1, threshold=0.1, threshold_mode="abs"),
    dict(patience=2, threshold=0.05, threshold_mode="rel", mode="max"),
    dict(patience=1, cooldown=3, factor=0.5, min_scale=0.2, threshold=0.0),
]


@pytest.mark.parametrize("kwargs", SETTINGS)
@pytest.mark.parametrize("convention", ["torch", "keras"])
def test_every_state_equals_the_transcribed_reference(kwargs, convention):
    kwargs = {"threshold_mode": "rel", **kwargs}
    settings = PlateauSettings(**kwargs, convention=convention)
    reference = _torch_reference if convention == "torch" else _keras_reference
    for seed in range(4):
        metrics = _metrics(seed)
        lr, best, bad, cooldown = map(np.asarray, zip(*reference(settings, metrics)))
        states = trajectory(settings, metrics)
        np.testing.assert_allclose(np.asarray(states.scale), lr, rtol=1e-6)
        np.testing.assert_array_equal(np.asarray(states.best), best)
        np.testing.assert_array_equal(np.asarray(states.num_bad), bad)
        np.testing.assert_array_equal(np.asarray(states.cooldown_counter), cooldown)


@pytest.mark.parametrize(
    "kwargs", [s for s in SETTINGS if s.get("mode", "min") == "min" and s.get("threshold") != 0]
)
def test_optax_convention_equals_optax_contrib_reduce_on_plateau(kwargs):
    kwargs = {"threshold_mode": "rel", "threshold": 1e-4, **kwargs}
    settings = PlateauSettings(**kwargs, convention="optax")
    rtol = settings.threshold if settings.threshold_mode == "rel" else 0.0
    atol = settings.threshold if settings.threshold_mode == "abs" else 0.0
    theirs = optax.contrib.reduce_on_plateau(
        factor=settings.factor,
        patience=settings.patience,
        rtol=rtol,
        atol=atol,
        cooldown=settings.cooldown,
        min_scale=settings.min_scale,
    )
    params = jnp.zeros([], jnp.float32)

    @jax.jit
    def their_trajectory(metrics):
        def body(state, metric):
            _, state = theirs.update(params, state, value=metric)
            return state, state

        return jax.lax.scan(body, theirs.init(params), metrics)[1]

    for seed in range(4):
        metrics = jnp.asarray(_metrics(seed), jnp.float32)
        their, ours = their_trajectory(metrics), trajectory(settings, metrics)
        np.testing.assert_array_equal(np.asarray(ours.scale), np.asarray(their.scale))
        np.testing.assert_array_equal(np.asarray(ours.best), np.asarray(their.best_value))
        np.testing.assert_array_equal(np.asarray(ours.num_bad), np.asarray(their.plateau_count))
        np.testing.assert_array_equal(
            np.asarray(ours.cooldown_counter), np.asarray(their.cooldown_count)
        )


def test_patience_counts_differ_by_convention():
    # patience=2: torch drops on the 3rd bad evaluation, keras and optax on the 2nd.
    metrics = [1.0, 1.0, 1.0, 1.0]
    first_drop = {}
    for convention in ("torch", "keras", "optax"):
        scales, _ = run(PlateauSettings(patience=2, convention=convention), metrics)
        first_drop[convention] = int(np.argmax(scales < 1.0))
    assert first_drop == {"torch": 3, "keras": 2, "optax": 2}


def test_jit_scan_and_a_resume_are_bit_identical():
    settings = PlateauSettings(patience=1, factor=0.5, cooldown=1)
    metrics = jnp.asarray(_metrics(0, 30), jnp.float32)

    def body(state, metric):
        state = plateau_update(state, metric, settings)
        return state, state.scale

    final, scanned = jax.lax.scan(body, plateau_init(settings), metrics)
    state = plateau_init(settings)
    for metric in metrics[:5]:  # eager calls agree with the compiled scan
        state = plateau_update(state, metric, settings)
    np.testing.assert_array_equal(float(state.scale), np.asarray(scanned)[4])
    # resume: the state's leaves through numpy (as a checkpoint stores them), then on
    half, _ = jax.lax.scan(body, plateau_init(settings), metrics[:13])
    restored = PlateauState(*(jnp.asarray(np.asarray(leaf)) for leaf in half))
    resumed, _ = jax.lax.scan(body, restored, metrics[13:])
    for a, b in zip(jax.tree.leaves(resumed), jax.tree.leaves(final)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert all(leaf.dtype in (jnp.float32, jnp.int32) for leaf in jax.tree.leaves(final))


def test_multiplier_on_a_schedule_keeps_its_shape():
    schedule = wj.cosine_schedule_with_warmup(1e-3, 10, 100)
    settings = PlateauSettings(patience=0, factor=0.5)
    state = plateau_update(plateau_update(plateau_init(settings), 1.0, settings), 1.0, settings)
    steps = jnp.arange(100)
    np.testing.assert_allclose(
        np.asarray(schedule(steps) * state.scale), 0.5 * np.asarray(schedule(steps)), rtol=1e-7
    )


def test_scale_by_plateau_in_a_chain_and_update_plateau():
    settings = PlateauSettings(patience=0, factor=0.5)
    opt = optax.chain(optax.sgd(0.1), scale_by_plateau(settings))
    params = jnp.ones(3)
    opt_state = opt.init(params)
    assert float(plateau_scale(opt_state)) == 1.0
    step = jax.jit(lambda s, m: update_plateau(s, m, settings))
    opt_state = step(step(opt_state, 1.0), 1.0)  # an improvement, then a bad evaluation
    assert float(plateau_scale(opt_state)) == 0.5
    updates, _ = opt.update(jnp.ones(3), opt_state, params)
    np.testing.assert_allclose(np.asarray(updates), -0.05, rtol=1e-7)
    assert plateau_scale({"no": jnp.ones(2)}) is None


def test_settings_config_round_trip_and_pickle():
    settings = PlateauSettings(patience=2, factor=0.5, cooldown=1, convention="keras")
    config = settings.to_config()
    assert config == {
        "factor": 0.5,
        "patience": 2,
        "threshold": 1e-4,
        "threshold_mode": "abs",
        "cooldown": 1,
        "min_scale": 0.0,
        "mode": "min",
        "convention": "keras",
    }
    assert PlateauSettings.from_config(json.dumps(config)) == settings
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert hash(PlateauSettings.from_config(config)) == hash(settings)
    parsed = PlateauSettings.parse("patience=2, factor=0.5, cooldown=1, mode=keras")
    assert parsed == settings
    assert PlateauSettings.parse("") == PlateauSettings()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(factor=0.0), r"factor must be a finite number in \(0, 1\)"),
        (dict(factor=1.5), r"factor must be a finite number in \(0, 1\)"),
        (dict(patience=-1), r"patience must be an integer in \[0, "),
        (dict(patience=2.0), r"patience must be an integer"),
        (dict(cooldown=-2), r"cooldown must be an integer in \[0, "),
        (dict(threshold=-0.1), r"threshold must be a finite number in \[0, inf\)"),
        (dict(threshold_mode="relative"), r"threshold_mode must be one of 'rel', 'abs'"),
        (dict(min_scale=1.5), r"min_scale must be a finite number in \[0, 1\]"),
        (dict(mode="minimize"), r"mode must be one of 'min', 'max'"),
        (dict(convention="fastai"), r"convention must be one of 'torch', 'keras', 'optax'"),
    ],
)
def test_bad_settings_name_the_parameter_and_range(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PlateauSettings(**kwargs)


@pytest.mark.parametrize(
    "config, message",
    [
        ({"patience": 2, "factr": 0.5}, r"unknown setting \['factr'\]; the settings are: factor"),
        ("[1, 2]", r"plateau config must be a dict"),
        ("{", r"not valid JSON"),
    ],
)
def test_bad_configs(config, message):
    with pytest.raises(ValueError, match=message):
        PlateauSettings.from_config(config)
    with pytest.raises(ValueError, match="is not NAME=VALUE"):
        PlateauSettings.parse("patience")

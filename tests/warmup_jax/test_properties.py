"""Property-based tests: random settings keep the promises; arbitrary input never slips through.

Every public constructor gets arbitrary numbers (zero, negative, huge, NaN, inf, floats where
integers belong, the wrong type). Each call must either raise ``ValueError`` with a message or
return a schedule whose values are finite and non-negative at every step from 0 to 2**31 - 1
(sampled: the start, the warmup boundary, the end of training, random steps, the last int32 step)
and that holds one value from where it says it settles; warmups must be monotone and exactly at
their peak from their last step on.

Hypothesis runs derandomized (the ``warmup_jax`` profile in conftest.py), so CI sees the same
examples on every run; every failure it ever found is also kept below as an explicit test.
"""

import inspect
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import warmup_jax as wj
from warmup_jax._schedule import settles_at

LAST = 2**31 - 1
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

anything_numeric = st.one_of(
    st.integers(min_value=-5, max_value=2**33),
    st.sampled_from(
        [
            0,
            1,
            2,
            10,
            1000,
            LAST,
            0.0,
            -0.0,
            0.5,
            1.5,
            10.0,
            -1.0,
            1e-30,
            1e38,
            1e39,
            math.nan,
            math.inf,
            -math.inf,
            True,
            None,
            "3",
            [1],
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=1e-8, max_value=10.0),
)
choice_or_junk = lambda *good: st.sampled_from(list(good) + ["", "Linear", None, 3])  # noqa: E731

# Parameters that are not plain numbers: a strategy each.
SPECIAL = {
    "warmup_type": choice_or_junk("linear", "exponential", "cosine", "1-sqrt"),
    "decay_type": choice_or_junk("linear", "cosine", "1-sqrt", "polynomial"),
    "staircase": st.sampled_from([True, False, 1, "no"]),
    "warmup_one_step_ahead": st.sampled_from([True, False, 1, "no"]),
    "warmup_every_cycle": st.sampled_from([True, False, 0]),
    "schedule": st.builds(
        lambda v, n: wj.cosine_decay(v, n), st.floats(1e-6, 1.0), st.integers(1, 10**6)
    ),
    "decay_schedule": st.one_of(
        st.none(),
        st.builds(lambda v, n: wj.linear_decay(v, n), st.floats(1e-6, 1.0), st.integers(1, 10**6)),
    ),
    "boundaries": st.lists(anything_numeric, max_size=3),
    "milestones": st.lists(anything_numeric, max_size=3),
    "interpolate_type": choice_or_junk("linear", "cosine"),
    "anneal_strategy": choice_or_junk("cos", "linear"),
    "mode": choice_or_junk("triangular", "triangular2", "exp_range"),
    "cycle": st.sampled_from([True, False, 1]),
    "three_phase": st.sampled_from([True, False, "yes"]),
    "cycle_momentum": st.sampled_from([True, False, None]),
    "boundaries_and_scales": st.one_of(
        st.dictionaries(st.integers(-2, 10**6), anything_numeric, max_size=3),
        st.lists(st.lists(anything_numeric, min_size=2, max_size=2), max_size=3),
        anything_numeric,
    ),
    "schedulers": st.lists(
        st.builds(lambda v, n: wj.linear_decay(v, n), st.floats(1e-3, 1.0), st.integers(1, 100)),
        min_size=1,
        max_size=3,
    ),
    "values": st.lists(anything_numeric, min_size=1, max_size=4),
}
# Constructors whose arguments need a fixed shape to be meaningful.
SHAPED = {
    "join": lambda draw: dict(
        schedules=[wj.linear_warmup(1e-3, 10), wj.constant(1e-3)],
        boundaries=[draw(anything_numeric)],
    ),
    "multiply": lambda draw: dict(factors=[draw(anything_numeric), wj.linear_warmup(1.0, 100)]),
    "untuned_linear_warmup": lambda draw: dict(
        base=draw(anything_numeric), b2=draw(anything_numeric)
    ),
    "sequential_lr": lambda draw: dict(
        schedulers=[wj.linear_lr(0.1, 0.5, total_iters=5), wj.exponential_lr(0.1, 0.9)],
        milestones=[draw(anything_numeric)],
    ),
}
WARMUPS = {"linear_warmup", "exponential_warmup", "warmup", "from_epochs", "log_warmup"}


def _check_settles(schedule):
    """From where the schedule says it settles, every step has the same value."""
    start = settles_at(schedule)
    if start is None:
        return
    assert schedule.end_step is not None and start >= 0
    steps = np.unique(np.clip([start, start + 1, start + 2, start + 1000, LAST], 0, LAST))
    got = np.asarray(schedule(jnp.asarray(steps, dtype=jnp.int32)))
    assert np.all(got == got[0]), f"{schedule!r}: changes after settling at {start}: {got}"


def _steps(schedule) -> np.ndarray:
    w = schedule.warmup_steps
    marks = [0, 1, 2, w - 1, w, w + 1, 10**3, 10**6, 10**9, LAST - 1, LAST]
    for key in ("num_training_steps", "decay_steps", "num_decay_steps"):
        value = schedule.arguments.get(key)
        if isinstance(value, int):
            marks += [value - 1, value, value + 1]
    marks += list(np.random.default_rng(w).integers(0, LAST, 20))
    return np.unique(np.clip(np.asarray(marks, dtype=np.int64), 0, LAST)).astype(np.int32)


def _check_values(schedule):
    steps = _steps(schedule)
    got = np.asarray(schedule(jnp.asarray(steps)))
    assert np.all(np.isfinite(got)), (
        f"{schedule!r}: non-finite value at steps {steps[~np.isfinite(got)]}"
    )
    assert np.all(got >= 0), f"{schedule!r}: negative value at steps {steps[got < 0]}"


def _check_warmup(schedule):
    w = schedule.warmup_steps
    peak = np.float32(schedule.arguments["peak_value"])
    ramp = np.asarray(schedule(jnp.arange(0, min(w, 4096) + 2)))
    # Monotone toward the peak: up, or down from an init_value above it (optax allows that).
    direction = 1 if ramp[0] <= peak else -1
    assert np.all(direction * np.diff(ramp) >= 0), f"{schedule!r}: warmup not monotone"
    ends = np.asarray(schedule(jnp.asarray([w, min(w + 1, LAST), LAST], dtype=jnp.int32)))
    np.testing.assert_array_equal(ends, peak)


@pytest.mark.filterwarnings("ignore:Both num_training_steps and num_stable_steps")
@pytest.mark.parametrize("name", sorted(wj.registered_names()))
@FUZZ
@given(data=st.data())
def test_arbitrary_arguments_raise_value_error_or_give_a_sound_schedule(name, data):
    constructor = getattr(wj, name)
    if name in SHAPED:
        kwargs = SHAPED[name](data.draw)
    else:
        kwargs = {}
        for parameter in inspect.signature(constructor).parameters.values():
            strategy = SPECIAL.get(parameter.name, anything_numeric)
            if parameter.default is not inspect.Parameter.empty:
                strategy = st.one_of(st.just(parameter.default), strategy)
            kwargs[parameter.name] = data.draw(strategy, label=parameter.name)
    try:
        schedule = constructor(**kwargs)
    except ValueError as error:
        assert str(error), "a ValueError must say what is wrong"
        return
    except UserWarning:
        return
    _check_values(schedule)
    _check_settles(schedule)
    if name in WARMUPS:
        _check_warmup(schedule)


@settings(max_examples=60, deadline=None)
@given(
    peak=st.floats(1e-8, 10.0),
    warmup_steps=st.integers(1, 10**6),
    warmup_type=st.sampled_from(["linear", "exponential"]),
    data=st.data(),
)
def test_random_warmups_are_monotone_and_exact(peak, warmup_steps, warmup_type, data):
    init = data.draw(st.one_of(st.none(), st.floats(0.0, 1.0).map(lambda f: f * peak)))
    if init is not None:  # 0, or a normal float32 (denormals are refused)
        assume(init == 0.0 or init >= float(np.finfo(np.float32).tiny))
    if warmup_type == "exponential" and init is not None:
        assume(peak * 1e-12 < init < peak)
    schedule = wj.warmup(peak, warmup_steps, warmup_type, init)
    steps = np.unique(
        np.concatenate(
            [
                np.linspace(0, warmup_steps, 64).astype(np.int64),
                [warmup_steps - 1, warmup_steps, LAST],
            ]
        )
    ).astype(np.int32)
    got = np.asarray(schedule(jnp.asarray(steps)))
    assert np.all(np.diff(got) >= 0)
    assert got[-1] == got[-2] == np.float32(peak)
    assert np.all(got <= np.float32(peak))


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(
        ["linear", "cosine", "cosine_with_restarts", "polynomial", "cosine_with_min_lr"]
    ),
    peak=st.floats(1e-6, 1.0),
    warmup_steps=st.integers(0, 10**5),
    decay_steps=st.integers(0, 10**7),
)
def test_random_hf_schedules_peak_exactly_and_stay_in_range(name, peak, warmup_steps, decay_steps):
    extra = {"cosine_with_min_lr": {"min_lr_rate": 0.1}, "polynomial": {"lr_end": 0.0}}.get(
        name, {}
    )
    total = warmup_steps + decay_steps
    assume(total >= 1)
    schedule = wj.schedule_by_name(
        name, peak, num_warmup_steps=warmup_steps, num_training_steps=total, **extra
    )
    steps = np.unique(
        np.asarray([0, max(warmup_steps - 1, 0), warmup_steps, total // 2, total, LAST])
    )
    got = np.asarray(schedule(jnp.asarray(steps, dtype=jnp.int32)))
    assert np.all(np.isfinite(got)) and np.all(got >= 0) and np.all(got <= np.float32(peak))
    if decay_steps > 0 or name in ("cosine", "cosine_with_restarts", "cosine_with_min_lr"):
        assert got[list(steps).index(warmup_steps)] == np.float32(peak)


# Every failure hypothesis has found, kept as a test of its own.


@pytest.mark.parametrize("steps", [jnp.asarray(1), jnp.arange(4), "jit"])
def test_found_inverse_sqrt_with_a_huge_timescale_is_finite_for_arrays_and_under_jit(steps):
    # Found: timescale=1e38 gave 1.0 for a scalar step but inf for arrays and under jit (XLA
    # turns x / 1e38 into x * 1e-38, a denormal that is flushed to 0).
    schedule = wj.inverse_sqrt_schedule(1, 0, timescale=1e38)
    got = jax.jit(schedule)(jnp.arange(4)) if isinstance(steps, str) else schedule(steps)
    np.testing.assert_array_equal(np.asarray(got), np.ones(np.shape(got), np.float32))
    native = wj.inverse_sqrt_decay(1.0, 1e38)
    np.testing.assert_array_equal(np.asarray(jax.jit(native)(jnp.arange(4))), np.ones(4))


def test_found_num_training_steps_none_is_a_value_error():
    with pytest.raises(ValueError, match="num_training_steps must be an integer"):
        wj.linear_schedule_with_warmup(1.0, 10, None)


def test_found_wsd_with_both_lengths_warns_as_transformers_does():
    with pytest.warns(UserWarning, match="num_stable_steps is used"):
        wj.wsd_schedule(1.0, 0, 1, num_training_steps=5, num_stable_steps=1)


def test_found_exponential_warmup_start_below_float32s_range_is_refused():
    with pytest.raises(ValueError, match="init_value must be at least 1.175e-38"):
        wj.exponential_warmup(1.0, 10, init_value=1e-45)


@pytest.mark.parametrize(
    "maker", [wj.untuned_linear_warmup, wj.untuned_exponential_warmup, wj.radam_warmup]
)
def test_found_untuned_warmups_do_not_overflow_at_the_last_step(maker):
    got = np.asarray(jax.jit(maker(1.0, 0.99))(jnp.asarray([LAST - 1, LAST], jnp.int32)))
    np.testing.assert_array_equal(got, [1.0, 1.0])

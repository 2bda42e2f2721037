"""Warmups: exact ends, pinned values, monotone ramps, epochs and steps, tracing."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import warmup_jax as wj
from tests.warmup_jax.conftest import values, x64

PEAKS = [1e-3, 3e-4, 0.1, 7.77e-5, 1.0, 123.456]
LENGTHS = [1, 2, 3, 7, 100, 999, 10_000]


@pytest.mark.parametrize("strategy", ["linear", "exponential"])
@pytest.mark.parametrize("peak", PEAKS)
@pytest.mark.parametrize("length", LENGTHS)
def test_warmup_reaches_the_peak_bit_for_bit(strategy, peak, length):
    schedule = wj.warmup(peak, length, strategy)
    after = values(schedule, [length, length + 1, 2 * length + 5, 2**31 - 1])
    assert after.dtype == np.float32
    np.testing.assert_array_equal(after, np.float32(peak))


@pytest.mark.parametrize("strategy", ["linear", "exponential"])
@pytest.mark.parametrize("length", LENGTHS)
def test_warmup_is_monotone_and_never_overshoots(strategy, length):
    peak = 3e-4
    ramp = values(wj.warmup(peak, length, strategy), np.arange(length + 3))
    assert np.all(np.diff(ramp) >= 0)
    assert np.all(ramp[:length] <= np.float32(peak))
    if length > 1:
        assert ramp[length - 1] < np.float32(peak)


def test_linear_warmup_values():
    schedule = wj.linear_warmup(2.0, 8, init_value=0.4)
    np.testing.assert_allclose(
        values(schedule, range(10)), [0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.0], rtol=1e-6
    )
    assert float(schedule(0)) == np.float32(0.4)
    assert float(wj.linear_warmup(2.0, 8)(0)) == 0.0


def test_exponential_warmup_values():
    schedule = wj.exponential_warmup(1e-2, 4)
    expected = [1e-5 * 1000 ** (s / 4) for s in range(4)] + [1e-2]
    np.testing.assert_allclose(values(schedule, range(5)), expected, rtol=2e-6)
    assert values(schedule, [0])[0] == np.float32(1e-5)  # default init: peak / 1000
    custom = wj.exponential_warmup(1.0, 2, init_value=0.25)
    np.testing.assert_allclose(values(custom, [0, 1, 2]), [0.25, 0.5, 1.0], rtol=1e-6)


def test_warmup_steps_one():
    for strategy in ("linear", "exponential"):
        schedule = wj.warmup(0.5, 1, strategy)
        assert schedule.warmup_steps == 1
        first = 0.0 if strategy == "linear" else 0.5e-3
        np.testing.assert_allclose(values(schedule, [0, 1, 2]), [first, 0.5, 0.5], rtol=1e-6)


def test_negative_steps_give_the_initial_value():
    np.testing.assert_array_equal(values(wj.linear_warmup(1.0, 10, 0.1), [-5, -1]), np.float32(0.1))


def test_warmup_defaults_by_strategy():
    assert (
        wj.warmup(1.0, 10) == wj.linear_warmup(1.0, 10, 0.0) or float(wj.warmup(1.0, 10)(0)) == 0.0
    )
    np.testing.assert_array_equal(
        values(wj.warmup(1.0, 10, "exponential"), range(12)),
        values(wj.exponential_warmup(1.0, 10), range(12)),
    )


@pytest.mark.parametrize("epochs, per_epoch", [(1, 100), (2, 37), (0.5, 1000), (3, 1)])
@pytest.mark.parametrize("strategy", ["linear", "exponential"])
def test_epochs_equal_steps(epochs, per_epoch, strategy):
    by_epochs = wj.from_epochs(1e-3, epochs, per_epoch, strategy)
    by_steps = wj.warmup(1e-3, round(epochs * per_epoch), strategy)
    steps = np.arange(round(epochs * per_epoch) + 10)
    np.testing.assert_array_equal(values(by_epochs, steps), values(by_steps, steps))
    assert by_epochs.warmup_steps == round(epochs * per_epoch)


def test_matches_optax_linear_schedule():
    ours = wj.linear_warmup(1e-3, 50, init_value=1e-5)
    theirs = optax.linear_schedule(1e-5, 1e-3, 50)
    steps = np.arange(80)
    # optax computes (init - end) * (1 - frac) + end, which misses init by 8e-6 relative.
    np.testing.assert_allclose(values(ours, steps), values(theirs, steps), rtol=1e-5)
    assert values(ours, [0])[0] == np.float32(1e-5)


def test_same_values_under_jit_vmap_and_scan():
    # Compiled code is compared with compiled code: eager op-by-op evaluation may round
    # differently, since XLA folds constants (c1 * (c2 * x) -> (c1 * c2) * x) when it compiles.
    schedule = wj.cosine_schedule_with_warmup(1e-3, 10, 100)
    steps = jnp.arange(100, dtype=jnp.int32)
    direct = values(schedule, steps)
    np.testing.assert_array_equal(np.asarray(jax.jit(jax.vmap(schedule))(steps)), direct)

    def body(step, _):
        return step + 1, schedule(step)

    _, scanned = jax.jit(lambda: jax.lax.scan(body, jnp.int32(0), None, length=100))()
    np.testing.assert_array_equal(np.asarray(scanned), direct)
    np.testing.assert_allclose(np.asarray(schedule(steps)), direct, rtol=1e-5)  # eager
    assert float(schedule(10)) == float(np.float32(1e-3))  # Python int works too
    assert float(schedule(np.int64(10))) == float(np.float32(1e-3))


def test_is_warmup_complete_is_jittable():
    schedule = wj.linear_warmup(1.0, 5)
    flags = np.asarray(jax.jit(schedule.is_warmup_complete)(jnp.arange(8)))
    assert flags.tolist() == [False] * 5 + [True] * 3


def test_float64_under_x64():
    with x64():
        schedule = wj.linear_warmup(1.0, 3)
        value = schedule(jnp.asarray(1, dtype=jnp.int64))
        assert value.dtype == jnp.float64
        assert float(value) == 1.0 / 3.0
        assert wj.cosine_schedule_with_warmup(1.0, 1, 10)(5).dtype == jnp.float64


def test_usable_as_optax_learning_rate():
    schedule = wj.linear_warmup(0.1, 2)
    optimizer = optax.sgd(learning_rate=schedule)
    params = jnp.array([1.0])
    state = optimizer.init(params)
    moved = []
    for _ in range(3):
        updates, state = optimizer.update(jnp.array([1.0]), state, params)
        moved.append(float(updates[0]))
    np.testing.assert_allclose(moved, [0.0, -0.05, -0.1], rtol=1e-6)


class TestUntunedWarmups:
    """Ma & Yarats' untuned warmups against pytorch_warmup's formulas (see also test_reference)."""

    def test_linear_period_follows_python_float_rounding(self):
        # int(2 / (1 - 0.999)) is 1999, not 2000, in pytorch_warmup; we keep that.
        schedule = wj.untuned_linear_warmup(1.0, b2=0.999)
        got = values(schedule, [0, 1, 1997, 1998, 5000])
        np.testing.assert_allclose(got, [1 / 1999, 2 / 1999, 1998 / 1999, 1.0, 1.0], rtol=1e-6)
        assert got[3] == 1.0 and schedule.warmup_steps == 1998

    def test_exponential_factor(self):
        schedule = wj.untuned_exponential_warmup(2.0, b2=0.99)
        assert int(1 / (1 - 0.99)) == 99  # 1 / 0.010000000000000009 in Python floats
        steps = np.array([0, 1, 10, 99, 1000])
        expected = 2.0 * (1.0 - np.exp(-(steps + 1) / 99))
        np.testing.assert_allclose(values(schedule, steps), expected, rtol=1e-6)
        full = schedule.warmup_steps
        assert values(schedule, [full - 1])[0] < 2.0 <= values(schedule, [full])[0]

    def test_radam_factor_is_stable_in_float32(self):
        for b2 in (0.999, 0.99, 0.95, 0.9):
            r_inf = 2 / (1 - b2) - 1

            def rho(t, b2=b2, r_inf=r_inf):
                return r_inf - 2 * t * b2**t / (1 - b2**t)

            offset = next(t for t in range(1, 100) if rho(t) > 4)
            steps = np.array([0, 1, 2, 3, 10, 50, 200, 1000, 3000])
            r = np.array([rho(k + offset) for k in steps])
            expected = np.sqrt((r - 4) * (r - 2) * r_inf / ((r_inf - 4) * (r_inf - 2) * r))
            got = values(wj.radam_warmup(1.0, b2), steps)
            # A naive float32 evaluation is off by ~1e-4 relative at the first steps.
            np.testing.assert_allclose(got, expected, rtol=5e-7)

    @pytest.mark.parametrize(
        "maker", [wj.untuned_linear_warmup, wj.untuned_exponential_warmup, wj.radam_warmup]
    )
    def test_factor_is_monotone_ends_at_one_and_scales_a_schedule(self, maker):
        factor = maker(1.0, 0.99)
        steps = np.arange(0, factor.warmup_steps + 50)
        ramp = values(factor, steps)
        assert np.all(np.diff(ramp) >= 0)
        assert ramp[factor.warmup_steps] == 1.0 and ramp[factor.warmup_steps - 1] < 1.0
        base = wj.cosine_decay(1e-3, 10_000)
        scaled = maker(base, 0.99)
        np.testing.assert_allclose(values(scaled, steps), ramp * values(base, steps), rtol=1e-6)
        assert values(maker(1.0, 0.99), [2**31 - 1])[0] == 1.0


class TestOneStepAhead:
    """The first update is not wasted at LR 0: the warmup is evaluated at step + 1."""

    @pytest.mark.parametrize("strategy", ["linear", "exponential"])
    def test_warmups_shift_by_one_and_keep_an_exact_peak(self, strategy):
        plain = values(wj.warmup(1e-3, 10, strategy), np.arange(0, 13))
        ahead = wj.warmup(1e-3, 10, strategy, warmup_one_step_ahead=True)
        got = values(ahead, np.arange(0, 13))
        np.testing.assert_array_equal(got[:-1], plain[1:])
        assert got[0] > 0 and got[9] == np.float32(1e-3) and ahead.warmup_steps == 9

    def test_with_warmup_and_from_epochs(self):
        schedule = wj.with_warmup(wj.cosine_decay(1.0, 100), 4, warmup_one_step_ahead=True)
        np.testing.assert_allclose(values(schedule, [0, 1, 3, 4]), [0.25, 0.5, 1.0, 1.0], rtol=1e-6)
        by_epochs = wj.from_epochs(1.0, 2, 2, warmup_one_step_ahead=True)
        assert values(by_epochs, [0])[0] == 0.25

    @pytest.mark.parametrize("name", ["linear", "cosine", "constant_with_warmup", "inverse_sqrt"])
    def test_transformers_schedules_take_it_as_an_option(self, name):
        kwargs = dict(num_warmup_steps=4, num_training_steps=20)
        plain = wj.schedule_by_name(name, 1.0, **kwargs)
        ahead = wj.schedule_by_name(name, 1.0, warmup_one_step_ahead=True, **kwargs)
        got, base = values(ahead, np.arange(25)), values(plain, np.arange(25))
        np.testing.assert_allclose(got[:4], [0.25, 0.5, 0.75, 1.0], rtol=1e-6)
        np.testing.assert_array_equal(got[4:], base[4:])  # only the warmup moves

    def test_wsd_and_default_off(self):
        schedule = wj.wsd_schedule(1.0, 4, 2, num_stable_steps=2, warmup_one_step_ahead=True)
        np.testing.assert_allclose(values(schedule, [0, 3, 4]), [0.25, 1.0, 1.0], rtol=1e-6)
        assert float(wj.cosine_schedule_with_warmup(1.0, 4, 20)(0)) == 0.0
        with pytest.raises(ValueError, match="warmup_one_step_ahead must be True or False"):
            wj.linear_schedule_with_warmup(1.0, 4, 20, warmup_one_step_ahead="yes")


def test_a_linear_warmup_may_start_above_its_peak_as_optax_allows():
    schedule = wj.linear_warmup(1.0, 4, init_value=3.0)
    np.testing.assert_array_equal(values(schedule, range(6)), [3.0, 2.5, 2.0, 1.5, 1.0, 1.0])
    theirs = optax.warmup_constant_schedule(3.0, 1.0, 4)
    np.testing.assert_allclose(values(schedule, range(10)), values(theirs, range(10)), rtol=1e-6)

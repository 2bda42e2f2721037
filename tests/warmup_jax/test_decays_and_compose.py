"""Decays and composition: pinned values, optax equivalents, chaining, exact ends."""

import math

import numpy as np
import optax
import pytest

import warmup_jax as wj
from tests.warmup_jax.conftest import values

STEPS = np.arange(0, 1200)


def test_cosine_decay_matches_optax():
    ours = wj.cosine_decay(1e-3, 1000, end_value=1e-4)
    theirs = optax.cosine_decay_schedule(1e-3, 1000, alpha=0.1)
    np.testing.assert_allclose(values(ours, STEPS), values(theirs, STEPS), rtol=2e-6, atol=1e-12)
    assert values(ours, [1000, 5000])[0] == np.float32(1e-4)


def test_cosine_decay_cycles():
    full = wj.cosine_decay(1.0, 100, num_cycles=1.0)
    np.testing.assert_allclose(values(full, [0, 50, 100, 150]), [1.0, 0.0, 1.0, 1.0], atol=1e-6)


def test_linear_and_polynomial_decay_match_optax():
    np.testing.assert_allclose(
        values(wj.linear_decay(2.0, 500, end_value=0.5), STEPS),
        values(optax.linear_schedule(2.0, 0.5, 500), STEPS),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        values(wj.polynomial_decay(2.0, 500, end_value=0.5, power=2.0), STEPS),
        values(optax.polynomial_schedule(2.0, 0.5, 2.0, 500), STEPS),
        rtol=1e-6,
    )


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize(
    "rate, end, begin", [(0.5, 0.01, 0), (0.5, None, 0), (0.9, 0.2, 150), (1.5, 20.0, 0)]
)
def test_exponential_decay_matches_optax_with_the_same_arguments(staircase, rate, end, begin):
    # optax's own argument order: (init_value, transition_steps, decay_rate, transition_begin, ...)
    ours = wj.exponential_decay(1.0, 100, rate, begin, staircase, end)
    theirs = optax.exponential_decay(1.0, 100, rate, begin, staircase, end)
    np.testing.assert_allclose(values(ours, STEPS), values(theirs, STEPS), rtol=2e-6)
    if end is not None:  # the first step at the bound, found exactly
        got = values(ours, np.arange(0, 3000))
        first = int(np.argmax(got == np.float32(end)))
        assert ours.end_step == first and got[first - 1] != np.float32(end)
    else:
        assert ours.end_step is None


def test_exponential_growth_needs_a_ceiling():
    with pytest.raises(ValueError, match="grows the value without bound: give end_value"):
        wj.exponential_decay(1.0, 10, 2.0)
    with pytest.raises(ValueError, match=r"end_value must be a finite number in \[1, inf\)"):
        wj.exponential_decay(1.0, 10, 2.0, end_value=0.5)


def test_piecewise_constant_matches_optax():
    pieces = wj.piecewise_constant([100, 300], [1.0, 0.5, 0.05])
    theirs = optax.piecewise_constant_schedule(1.0, {100: 0.5, 300: 0.1})
    np.testing.assert_allclose(values(pieces, STEPS), values(theirs, STEPS), rtol=1e-6)
    assert pieces.end_step == 300


def test_staircase_exponential_decay_is_a_step_decay():
    steps = wj.exponential_decay(1.0, 250, 0.1, staircase=True)
    np.testing.assert_allclose(
        values(steps, [0, 249, 250, 499, 500, 1000]), [1, 1, 0.1, 0.1, 0.01, 1e-4], rtol=1e-6
    )


def test_inverse_sqrt_decay():
    got = values(wj.inverse_sqrt_decay(1.0, 100), [0, 100, 300, 9900])
    np.testing.assert_allclose(got, [1.0, 1 / math.sqrt(2), 0.5, 0.1], rtol=1e-6)


def test_one_minus_sqrt_decay_ends_exactly():
    schedule = wj.one_minus_sqrt_decay(1.0, 100, end_value=0.1)
    np.testing.assert_allclose(
        values(schedule, [0, 25, 100, 101]), [1.0, 0.55, 0.1, 0.1], rtol=1e-6
    )
    assert values(schedule, [100])[0] == np.float32(0.1)


def test_with_warmup_matches_optax_warmup_cosine():
    ours = wj.with_warmup(wj.cosine_decay(1e-3, 900, end_value=1e-5), 100)
    theirs = optax.warmup_cosine_decay_schedule(0.0, 1e-3, 100, 1000, end_value=1e-5)
    np.testing.assert_allclose(values(ours, STEPS), values(theirs, STEPS), rtol=3e-6, atol=1e-12)
    assert values(ours, [100])[0] == np.float32(1e-3)
    assert ours.warmup_steps == 100


@pytest.mark.parametrize("strategy", ["linear", "exponential"])
def test_with_warmup_chains_a_step_decay(strategy):
    schedule = wj.with_warmup(wj.exponential_decay(0.1, 50, 0.5, staircase=True), 20, strategy)
    got = values(schedule, [0, 19, 20, 69, 70, 120])
    # The warmup climbs to schedule(0), the float32 value 0.1f, and starts at a thousandth of it.
    peak = float(np.float32(0.1))
    assert got[0] == (0.0 if strategy == "linear" else np.float32(peak / 1000))
    assert got[1] < np.float32(0.1)
    np.testing.assert_allclose(got[2:], [0.1, 0.1, 0.05, 0.025], rtol=1e-6)


def test_with_warmup_takes_any_optax_schedule_but_cannot_save_it():
    schedule = wj.with_warmup(optax.cosine_decay_schedule(1.0, 100), 10)
    np.testing.assert_allclose(values(schedule, [0, 5, 10, 110]), [0.0, 0.5, 1.0, 0.0], atol=1e-7)
    with pytest.raises(TypeError, match="with_warmup.schedule.*has no JSON form"):
        schedule.to_config()


def test_with_warmup_refuses_a_schedule_that_starts_at_zero():
    with pytest.raises(ValueError, match=r"schedule\(0\) must be > 0"):
        wj.with_warmup(wj.constant(0.0), 10)


def test_join_and_multiply():
    joined = wj.join([wj.constant(1.0), wj.linear_decay(1.0, 10), wj.constant(0.1)], [5, 15])
    np.testing.assert_allclose(
        values(joined, [0, 4, 5, 10, 14, 15, 99]), [1, 1, 1, 0.5, 0.1, 0.1, 0.1], rtol=1e-6
    )
    product = wj.multiply(
        [2.0, wj.linear_warmup(1.0, 10), wj.exponential_decay(1.0, 20, 0.5, staircase=True)]
    )
    np.testing.assert_allclose(values(product, [0, 5, 10, 20]), [0.0, 1.0, 2.0, 1.0], rtol=1e-6)
    assert product.warmup_steps == 10


@pytest.mark.parametrize("decay", ["linear", "cosine", "1-sqrt"])
def test_warmup_stable_decay(decay):
    schedule = wj.warmup_stable_decay(1.0, 10, 20, 10, decay_type=decay, end_value=0.1)
    got = values(schedule, [0, 5, 10, 29, 30, 40, 50])
    np.testing.assert_allclose(got[:5], [0.0, 0.5, 1.0, 1.0, 1.0], rtol=1e-6)
    assert got[5] == np.float32(0.1) and got[6] == np.float32(0.1)
    assert schedule.warmup_steps == 10
    without_phases = wj.warmup_stable_decay(1.0, 0, 0, 4, decay_type="linear")
    np.testing.assert_allclose(
        values(without_phases, range(6)), [1, 0.75, 0.5, 0.25, 0, 0], rtol=1e-6
    )


def test_half_cosine_keeps_its_relative_precision_near_zero():
    # 0.5 * (1 + cos(pi * p)) in float32 loses most digits as the value nears 0; ours does not.
    total = 10**7
    schedule = wj.cosine_decay(1.0, total)
    steps = np.array([total - 1000, total - 10, total - 1])
    expected = np.sin(0.5 * np.pi * (total - steps) / total) ** 2  # even float64 cancels in 1 + cos
    np.testing.assert_allclose(values(schedule, steps), expected, rtol=1e-5)


def test_noam_peaks_exactly_at_warmup_steps():
    for offset in (0, 1):
        schedule = wj.noam_schedule(512, 4000, scale=2.0, step_offset=offset)
        peak = np.float32(2.0 * 512**-0.5 * 4000**-0.5)
        got = values(schedule, [4000 - offset - 1, 4000 - offset, 4000 - offset + 1])
        assert got[1] == peak and got[0] < peak and got[2] < peak
    assert float(wj.noam_schedule(512, 4000)(0)) == 0.0


def test_log_warmup_follows_deepspeed():
    schedule = wj.log_warmup(1e-3, 10, init_value=1e-5)
    expected = [1e-5 + (1e-3 - 1e-5) * math.log(k + 1) / math.log(10) for k in range(10)]
    np.testing.assert_allclose(values(schedule, range(10)), expected, rtol=1e-6)
    assert values(schedule, [9])[0] == np.float32(1e-3) and schedule.warmup_steps == 9
    with pytest.raises(ValueError, match=r"warmup_steps must be an integer in \[2,"):
        wj.log_warmup(1e-3, 1)

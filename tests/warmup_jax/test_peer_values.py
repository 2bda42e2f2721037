"""The new native shapes against the values the peer libraries' own test suites pin.

Every case cites the peer test (file and test name) whose numbers it reproduces. Where the peer
test computes its expectation with a Python formula, that formula is transcribed here as a
float64 reference function, cited next to it. Sources:

* optax (google-deepmind/optax), ``optax/schedules/_schedule_test.py`` (older copies:
  ``optax/_src/schedule_test.py``): ``PiecewiseInterpolateTest``, ``OneCycleTest``,
  ``CosineDecayTest``, ``ExponentialTest``. Every transcribed number was also checked against
  optax 0.2.8's own functions with the same arguments.
* Keras (keras-team/keras), ``keras/src/optimizers/schedules/learning_rate_schedule_test.py``:
  ``LinearDecayTest``, ``SqrtDecayTest`` (PolynomialDecay, with and without ``cycle``),
  ``InverseTimeDecayTest``, ``CosineDecayRestartsTest``; the formulas transcribed from that file
  and from ``keras/src/optimizers/schedules/learning_rate_schedule.py`` were checked against
  Keras 3.15.1 (``KERAS_BACKEND=jax``) at every step used here. Keras computes in float32: with
  t_mul 1 its own output drifts up to ~4e-6 relative from its test's float64 formula past step
  ~2800, and under ``jax.jit`` PolynomialDecay(power=0.5) gives NaN from decay_steps on (eagerly
  it gives the end value); the float64 formulas are the reference here.
* DeepSpeed (deepspeedai/DeepSpeed, formerly microsoft/DeepSpeed),
  ``tests/unit/runtime/test_lr_schedulers.py`` (``TestLrSchedule.test_lr_warmup_schedule``,
  ``test_lr_scheduler_preserves_tensor_lr``, ``test_warmup_lr_inherits_per_group_lr_when_max_
  unspecified``, ``test_warmup_cosine_lr_linear_warmup_type_produces_linear_ratios``) and
  ``deepspeed/runtime/lr_schedules.py`` (``WarmupLR._get_gamma``).
* praxis (google/praxis), ``praxis/schedules_test.py`` (``test_transformer_schedule_values``,
  ``test_transformer_schedule_peak``, ``test_transformer_schedule_linear``) and
  ``praxis/schedules.py`` (``Transformer.value_at``).
* fairseq (facebookresearch/fairseq), ``fairseq/optim/lr_scheduler/tri_stage_lr_scheduler.py``
  (``TriStageLRSchedule._decide_stage`` / ``step_update``).

Step conventions (step k of warmup_jax is the value the k-th update, counted from 0, uses):

* DeepSpeed: our step k is ``WarmupLR.get_lr()`` with ``last_batch_iteration == k``, i.e. after
  k + 1 calls of ``scheduler.step()`` on a fresh scheduler; the log ramp reaches the peak at
  k = warmup_num_steps - 1, the linear ramp at k = warmup_num_steps.
* praxis: ``Transformer.value_at(k)`` uses ``k + 1``, hence ``step_offset=1``; the peak is at
  k = warmup_steps - 1.
* fairseq: our step k is ``step_update(k)``; the decay stage includes its last step
  (``<=``), the warmup and hold stages exclude theirs (``<``).
* Keras PolynomialDecay(cycle=True): at every multiple of decay_steps the value is the end value;
  the next cycle starts one step later.

Schedules are built inside the tests (never at import time) and evaluated on int32 step arrays
under ``jax.jit``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import warmup_jax as wj


def _at(schedule, steps) -> np.ndarray:
    """The schedule at each step, one jitted call on an int32 array, as numpy."""
    return np.asarray(jax.jit(schedule)(jnp.asarray(steps, dtype=jnp.int32)))


def _close(got, expected, rtol: float = 2e-6) -> None:
    """float32 (ours) against the peer's float64/float32 numbers."""
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-7 * np.max(np.abs(expected)))


# ------------------------------------------------------------------------------------------------
# optax: optax/schedules/_schedule_test.py
# ------------------------------------------------------------------------------------------------


# PiecewiseInterpolateTest.test_linear_piecewise: ('linear', 200., {5: 1.5, 10: 0.25}), 13 steps
_OPTAX_LINEAR_PIECEWISE = [200.0, 220.0, 240.0, 260.0, 280.0, 300.0, 255.0, 210.0, 165.0, 120.0]
_OPTAX_LINEAR_PIECEWISE += [75.0, 75.0, 75.0]


@pytest.mark.parametrize(
    "interpolate_type, init_value, boundaries_and_scales, expected",
    [
        pytest.param(
            # PiecewiseInterpolateTest.test_linear_piecewise
            "linear",
            200.0,
            {5: 1.5, 10: 0.25},
            _OPTAX_LINEAR_PIECEWISE,
            id="optax-test_linear_piecewise",
        ),
        pytest.param(
            # the same case, as the list of [step, scale] pairs the spec also accepts
            "linear",
            200.0,
            [[5, 1.5], [10, 0.25]],
            _OPTAX_LINEAR_PIECEWISE,
            id="optax-test_linear_piecewise-as-pairs",
        ),
        pytest.param(
            # PiecewiseInterpolateTest.test_cos_piecewise (the dict is unsorted on purpose)
            "cosine",
            400.0,
            {5: 1.2, 3: 0.6, 7: 1.0},
            [400.0, 360.0, 280.0, 240.0, 264.0, 288.0, 288.0, 288.0, 288.0],
            id="optax-test_cos_piecewise",
        ),
        pytest.param(
            # PiecewiseInterpolateTest.test_empty_dict
            "linear",
            13.0,
            {},
            [13.0, 13.0, 13.0, 13.0, 13.0],
            id="optax-test_empty_dict",
        ),
    ],
)
def test_piecewise_interpolate_optax(interpolate_type, init_value, boundaries_and_scales, expected):
    schedule = wj.piecewise_interpolate(interpolate_type, init_value, boundaries_and_scales)
    _close(_at(schedule, np.arange(len(expected))), expected)


def test_piecewise_interpolate_without_boundaries_optax():
    # PiecewiseInterpolateTest.test_no_dict: optax's boundaries_and_scales defaults to None.
    schedule = wj.piecewise_interpolate("cosine", 17.0)
    _close(_at(schedule, np.arange(3)), [17.0, 17.0, 17.0])


def test_piecewise_interpolate_rejects_what_optax_rejects():
    # PiecewiseInterpolateTest.test_invalid_type and test_invalid_scale
    with pytest.raises(ValueError):
        wj.piecewise_interpolate("linar", 13.0, {})
    with pytest.raises(ValueError):
        wj.piecewise_interpolate("", 13.0, {5: 3.0})
    with pytest.raises(ValueError):
        wj.piecewise_interpolate(None, 13.0, {})
    with pytest.raises(ValueError):
        wj.piecewise_interpolate("linear", 13.0, {5: -3})


def test_linear_onecycle_optax():
    # OneCycleTest.test_linear (the value also pinned by the issue)
    schedule = wj.linear_onecycle(
        transition_steps=10,
        peak_value=1000,
        pct_start=0.3,
        pct_final=0.7,
        div_factor=10.0,
        final_div_factor=100.0,
    )
    expected = [100.0, 400.0, 700.0, 1000.0, 775.0, 550.0, 325.0, 100.0, 67.0, 34.0, 1.0, 1.0]
    _close(_at(schedule, np.arange(12)), expected)


def test_cosine_onecycle_optax():
    # OneCycleTest.test_cosine
    schedule = wj.cosine_onecycle(
        transition_steps=5,
        peak_value=1000.0,
        pct_start=0.4,
        div_factor=10.0,
        final_div_factor=100.0,
    )
    expected = [100.0, 550.0, 1000.0, 750.25, 250.75, 1.0, 1.0]
    _close(_at(schedule, np.arange(7)), expected)


def test_onecycles_reject_nonpositive_transition_steps_optax():
    # OneCycleTest.test_nonpositive_transition_steps
    with pytest.raises(ValueError):
        wj.cosine_onecycle(transition_steps=0, peak_value=5.0)
    with pytest.raises(ValueError):
        wj.linear_onecycle(transition_steps=0, peak_value=5.0)


def _optax_cosine_multipliers(fractions, alpha=0.0):
    # CosineDecayTest: 0.5 + 0.5 * cos(pi * fraction), then (1 - alpha) * m + alpha
    m = 0.5 + 0.5 * np.cos(np.pi * np.asarray(fractions, dtype=np.float64))
    return (1.0 - alpha) * m + alpha


@pytest.mark.parametrize(
    "decay_steps, alpha, fractions",
    [
        # CosineDecayTest.test_decay_count_smaller_count
        pytest.param(
            10,
            0.0,
            [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
            id="optax-test_decay_count_smaller_count",
        ),
        # CosineDecayTest.test_decay_count_greater_count
        pytest.param(
            5, 0.0, [0.0, 0.2, 0.4, 0.6, 0.8] + [1.0] * 7, id="optax-test_decay_count_greater_count"
        ),
        # CosineDecayTest.test_decay_count_greater_count_with_alpha
        pytest.param(
            5,
            0.1,
            [0.0, 0.2, 0.4, 0.6, 0.8] + [1.0] * 7,
            id="optax-test_decay_count_greater_count_with_alpha",
        ),
    ],
)
def test_cosine_decay_optax(decay_steps, alpha, fractions):
    init_value = 0.1
    # optax's alpha is our end_value / init_value
    schedule = wj.cosine_decay(init_value, decay_steps, end_value=alpha * init_value)
    expected = init_value * _optax_cosine_multipliers(fractions, alpha)
    _close(_at(schedule, np.arange(len(fractions))), expected)


def test_cosine_decay_with_exponent_optax():
    # CosineDecayTest.test_with_exponent: cosine_decay_schedule(0.1, 100, alpha=0.0, exponent=2)
    schedule = wj.cosine_decay(0.1, 100, end_value=0.0, exponent=2.0)
    expected = [0.1, 0.09516553580760956, 0.025, 0.0021446612663567066, 0.0]
    got = _at(schedule, [0, 10, 50, 75, 100])
    _close(got, expected)
    assert got[-1] == 0.0


def _optax_exponential_expected(
    init_value, transition_steps, decay_rate, transition_begin, staircase, num_steps, end_value=None
):
    # ExponentialTest.test_exponential / test_end_value_with_staircase: init_value before
    # transition_begin, then init * rate ** p(count), p = count / T (floored with staircase),
    # clipped by np.maximum (rate < 1) or np.minimum (otherwise) against end_value.
    def staircased(count):
        p = count / transition_steps
        return np.floor(p) if staircase else p

    values = [init_value] * transition_begin + [
        init_value * np.power(decay_rate, staircased(count)) for count in range(num_steps)
    ]
    values = np.asarray(values, dtype=np.float64)
    if end_value is not None:
        values = (
            np.maximum(values, end_value) if decay_rate < 1.0 else np.minimum(values, end_value)
        )
    return values


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize("transition_begin", [0, 5])
def test_exponential_growth_optax(staircase, transition_begin):
    # ExponentialTest.test_exponential: init 1, T = 2, decay_rate 2 (growth), 15 steps after
    # transition_begin. optax lets this grow without bound; warmup_jax needs a ceiling, so the
    # test gives one (1e3) above the largest value reached here (128): the values are optax's.
    schedule = wj.exponential_decay(
        init_value=1.0,
        transition_steps=2,
        decay_rate=2.0,
        transition_begin=transition_begin,
        staircase=staircase,
        end_value=1e3,
    )
    expected = _optax_exponential_expected(1.0, 2, 2.0, transition_begin, staircase, 15)
    _close(_at(schedule, np.arange(15 + transition_begin)), expected)


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize(
    "decay_rate, end_value",
    [
        pytest.param(0.2, 0.1, id="decay-floor"),
        pytest.param(2.0, 3.0, id="growth-ceiling"),
        # decay_rate 1 with end_value 0.1 below init 1: optax clips with np.minimum whenever
        # decay_rate >= 1, so its test (and optax 0.2.8) gives 0.1 at every step, even before
        # transition_begin.
        pytest.param(1.0, 0.1, id="rate1-end-below-init"),
    ],
)
def test_exponential_end_value_with_staircase_optax(decay_rate, end_value, staircase):
    # ExponentialTest.test_end_value_with_staircase: init 1, T = 2, transition_begin 3, 11 steps
    schedule = wj.exponential_decay(
        init_value=1.0,
        transition_steps=2,
        decay_rate=decay_rate,
        transition_begin=3,
        staircase=staircase,
        end_value=end_value,
    )
    expected = _optax_exponential_expected(1.0, 2, decay_rate, 3, staircase, 11, end_value)
    _close(_at(schedule, np.arange(11 + 3)), expected)


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_rate_one_is_constant_optax(staircase):
    # ExponentialTest.test_constant_schedule: decay_rate 1 over 15 steps gives init_value
    schedule = wj.exponential_decay(
        init_value=1.0, transition_steps=15, decay_rate=1.0, staircase=staircase
    )
    _close(_at(schedule, np.arange(15)), [1.0] * 15)


def test_exponential_halving_optax():
    # ExponentialTest.test_immutable_count: exponential_decay(32., 1, 0.5) -> [32, 16, 8, 4, 2]
    schedule = wj.exponential_decay(init_value=32.0, transition_steps=1, decay_rate=0.5)
    _close(_at(schedule, np.arange(5)), [32.0, 16.0, 8.0, 4.0, 2.0])


# ------------------------------------------------------------------------------------------------
# Keras: keras/src/optimizers/schedules/learning_rate_schedule_test.py
# ------------------------------------------------------------------------------------------------


def _keras_polynomial_decay(step, init, decay_steps, end, power=1.0, cycle=False):
    """float64 transcription of Keras PolynomialDecay.__call__
    (keras/src/optimizers/schedules/learning_rate_schedule.py)."""
    if cycle:
        # the first multiple of decay_steps that is >= step; 1 at step 0
        multiplier = 1.0 if step == 0 else math.ceil(step / decay_steps)
        decay_steps = decay_steps * multiplier
    else:
        step = min(step, decay_steps)
    p = step / decay_steps
    return (init - end) * (1.0 - p) ** power + end


@pytest.mark.parametrize(
    "step, init, end, power, cycle, expected",
    [
        # LinearDecayTest.test_halfway
        pytest.param(5, 0.05, 0.0, 1.0, False, 0.05 * 0.5, id="keras-LinearDecay-test_halfway"),
        # LinearDecayTest.test_end
        pytest.param(10, 0.05, 0.001, 1.0, False, 0.001, id="keras-LinearDecay-test_end"),
        # LinearDecayTest.test_halfway_with_end
        pytest.param(
            5,
            0.05,
            0.001,
            1.0,
            False,
            (0.05 + 0.001) * 0.5,
            id="keras-LinearDecay-test_halfway_with_end",
        ),
        # LinearDecayTest.test_beyond_end
        pytest.param(15, 0.05, 0.001, 1.0, False, 0.001, id="keras-LinearDecay-test_beyond_end"),
        # LinearDecayTest.test_beyond_end_with_cycle (the 0.01325)
        pytest.param(
            15, 0.05, 0.001, 1.0, True, 0.01325, id="keras-LinearDecay-test_beyond_end_with_cycle"
        ),
        # SqrtDecayTest.test_halfway
        pytest.param(5, 0.05, 0.0, 0.5, False, 0.05 * 0.5**0.5, id="keras-SqrtDecay-test_halfway"),
        # SqrtDecayTest.test_end
        pytest.param(10, 0.05, 0.001, 0.5, False, 0.001, id="keras-SqrtDecay-test_end"),
        # SqrtDecayTest.test_halfway_with_end
        pytest.param(
            5,
            0.05,
            0.001,
            0.5,
            False,
            (0.05 - 0.001) * 0.5**0.5 + 0.001,
            id="keras-SqrtDecay-test_halfway_with_end",
        ),
        # SqrtDecayTest.test_beyond_end
        pytest.param(15, 0.05, 0.001, 0.5, False, 0.001, id="keras-SqrtDecay-test_beyond_end"),
        # SqrtDecayTest.test_beyond_end_with_cycle
        pytest.param(
            15,
            0.05,
            0.001,
            0.5,
            True,
            (0.05 - 0.001) * 0.25**0.5 + 0.001,
            id="keras-SqrtDecay-test_beyond_end_with_cycle",
        ),
        # SqrtDecayTest.test_begin_with_cycle: PolynomialDecay(0.001, 10, cycle=True) at step 0;
        # Keras's default end_learning_rate is 0.0001 (warmup_jax's end_value defaults to 0).
        pytest.param(
            0, 0.001, 0.0001, 1.0, True, 0.001, id="keras-SqrtDecay-test_begin_with_cycle"
        ),
    ],
)
def test_polynomial_decay_keras(step, init, end, power, cycle, expected):
    schedule = wj.polynomial_decay(init, 10, end_value=end, power=power, cycle=cycle)
    _close(_at(schedule, [step]), [expected])
    # and the transcribed Keras formula agrees with the test's own expectation
    assert math.isclose(
        _keras_polynomial_decay(step, init, 10, end, power, cycle), expected, rel_tol=1e-12
    )


@pytest.mark.parametrize("cycle", [False, True])
@pytest.mark.parametrize(
    "init, end, power",
    [(0.05, 0.001, 1.0), (0.05, 0.001, 0.5), (0.001, 0.0001, 1.0), (0.05, 0.0, 2.0)],
)
def test_polynomial_decay_every_step_keras(init, end, power, cycle):
    # The settings of LinearDecayTest / SqrtDecayTest (decay_steps 10) at every step of four and
    # a half cycles, against the float64 transcription of PolynomialDecay.__call__.
    steps = np.arange(46)
    schedule = wj.polynomial_decay(init, 10, end_value=end, power=power, cycle=cycle)
    expected = [_keras_polynomial_decay(int(s), init, 10, end, power, cycle) for s in steps]
    got = _at(schedule, steps)
    _close(got, expected)
    if cycle:  # every multiple of decay_steps (but 0) is at the end value; the next step is not
        np.testing.assert_allclose(got[[10, 20, 30, 40]], end, rtol=2e-6, atol=1e-9)
        assert np.all(got[[11, 21, 31, 41]] > got[[10, 20, 30, 40]])


def _keras_inverse_time_decay(step, init, decay_steps, decay_rate, staircase=False):
    """InverseTimeDecayTest.test_decay: init / (1 + i / k * decay_rate);
    InverseTimeDecayTest.test_staircase: init / (1 + decay_rate * (i // k))."""
    if staircase:
        return init / (1.0 + decay_rate * (step // decay_steps))
    return init / (1.0 + step / decay_steps * decay_rate)


@pytest.mark.parametrize(
    "staircase",
    [pytest.param(False, id="keras-test_decay"), pytest.param(True, id="keras-test_staircase")],
)
def test_inverse_time_decay_keras(staircase):
    # InverseTimeDecayTest: initial_lr 0.1, k = 10, decay_rate 0.96, steps 0..k (the test's
    # range), continued to step 35 with the same formula (InverseTimeDecay.__call__'s).
    steps = np.arange(36)
    schedule = wj.inverse_time_decay(0.1, 10, 0.96, staircase=staircase)
    expected = [_keras_inverse_time_decay(int(s), 0.1, 10, 0.96, staircase) for s in steps]
    _close(_at(schedule, steps), expected)


def _keras_cosine_decay_restarts(step, decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
    """CosineDecayRestartsTest.np_cosine_decay_restarts, verbatim in float64 (the multiplier of
    initial_learning_rate)."""
    fac = 1.0
    while step >= decay_steps:
        step -= decay_steps
        decay_steps *= t_mul
        fac *= m_mul
    completed_fraction = step / decay_steps
    decay = fac * 0.5 * (1.0 + math.cos(math.pi * completed_fraction))
    return (1.0 - alpha) * decay + alpha


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({}, id="keras-test_decay"),
        pytest.param({"alpha": 0.1}, id="keras-test_alpha"),
        pytest.param({"m_mul": 0.9}, id="keras-test_mmul"),
        pytest.param({"t_mul": 1.0}, id="keras-test_tmul"),
    ],
)
def test_cosine_decay_restarts_keras(kwargs):
    # CosineDecayRestartsTest: initial_lr 1.0, first_decay_steps 1000, steps range(0, 1500, 250)
    # (one jitted call on every step up to the fourth restart, t_mul 2: 1000, 3000, 7000; the
    # test's own steps are a slice of it)
    schedule = wj.cosine_decay_restarts(1.0, 1000, **kwargs)
    steps = np.arange(0, 8000)
    got = _at(schedule, steps)
    expected = np.array([_keras_cosine_decay_restarts(int(s), 1000, **kwargs) for s in steps])
    _close(got[0:1500:250], expected[0:1500:250])
    _close(got, expected)


@pytest.mark.parametrize(
    "init, first, kwargs",
    [
        # CosineDecayRestartsTest.test_config's settings (m_mul above 1): 0.05, 10, alpha 0.1,
        # t_mul 3.0, m_mul 4.0; restarts at 10, 40, 130, 400.
        pytest.param(
            0.05, 10, {"alpha": 0.1, "t_mul": 3.0, "m_mul": 4.0}, id="keras-test_config-mmul4"
        ),
        # Keras's defaults (t_mul 2.0, m_mul 1.0, alpha 0.0) on a short first period
        pytest.param(1.0, 10, {}, id="keras-defaults-first10"),
        # a non-integer t_mul and m_mul above 1 with alpha
        pytest.param(1.0, 10, {"t_mul": 1.5, "m_mul": 1.5, "alpha": 0.2}, id="tmul1.5-mmul1.5"),
    ],
)
def test_cosine_decay_restarts_every_step_keras(init, first, kwargs):
    steps = np.arange(0, 400)
    schedule = wj.cosine_decay_restarts(init, first, **kwargs)
    expected = [init * _keras_cosine_decay_restarts(int(s), first, **kwargs) for s in steps]
    _close(_at(schedule, steps), expected)


# ------------------------------------------------------------------------------------------------
# DeepSpeed: tests/unit/runtime/test_lr_schedulers.py, deepspeed/runtime/lr_schedules.py
# ------------------------------------------------------------------------------------------------


def _deepspeed_warmup_lr(
    last_batch_iteration, warmup_min_lr, warmup_max_lr, warmup_num_steps, warmup_type
):
    """float64 transcription of WarmupLR.get_lr() / WarmupLR._get_gamma() for
    last_batch_iteration >= 0 (deepspeed/runtime/lr_schedules.py)."""
    warmup_num_steps = max(2, warmup_num_steps)
    inverse_log_warm_up = 1.0 / math.log(warmup_num_steps)
    if last_batch_iteration < warmup_num_steps:
        if warmup_type == "log":
            gamma = inverse_log_warm_up * math.log(last_batch_iteration + 1)
        else:  # "linear"
            gamma = last_batch_iteration / warmup_num_steps
    else:
        gamma = 1.0
    return warmup_min_lr + (warmup_max_lr - warmup_min_lr) * gamma


@pytest.mark.parametrize("warmup_type", ["log", "linear"])
@pytest.mark.parametrize("warmup_num_steps", [10, 15, 19, 33])
def test_warmup_lr_deepspeed(warmup_num_steps, warmup_type):
    # TestLrSchedule.test_lr_warmup_schedule: WarmupLR(warmup_min_lr=0.1, warmup_max_lr=0.2,
    # warmup_num_steps, warmup_type); step_lrs[k] is read after the (k + 1)-th scheduler.step(),
    # so it is the LR at last_batch_iteration k = our step k; 2 * warmup_num_steps steps.
    # The test asserts step_lrs[0] == min, step_lrs[warmup_num_steps] == max and every later
    # value == max; the transcribed formula pins every step in between.
    lo, hi, w = 0.1, 0.2, warmup_num_steps
    if warmup_type == "log":
        schedule = wj.log_warmup(hi, w, init_value=lo)
    else:
        schedule = wj.linear_warmup(hi, w, init_value=lo)
    steps = np.arange(2 * w)
    got = _at(schedule, steps)
    expected = [_deepspeed_warmup_lr(int(s), lo, hi, w, warmup_type) for s in steps]
    _close(got, expected)
    assert got[0] == np.float32(lo)
    np.testing.assert_array_equal(got[w:], np.float32(hi))
    if warmup_type == "log":  # log(w) / log(w): the log ramp is at the peak one step earlier
        np.testing.assert_allclose(got[w - 1], hi, rtol=2e-6)
    else:  # (w - 1) / w: the linear ramp is not
        assert got[w - 1] < np.float32(hi)


def test_log_warmup_published_values_deepspeed():
    # test_lr_scheduler_preserves_tensor_lr, id "WarmupLR": WarmupLR(warmup_num_steps=10) on an
    # optimizer with lr 0.1 (warmup_max_lr inherits it, warmup_min_lr 0): 0.0 before training,
    # 0.1 * log(2) / log(10) after scheduler.step(1) (last_batch_iteration 1 = our step 1).
    schedule = wj.log_warmup(0.1, 10)
    got = _at(schedule, [0, 1])
    assert got[0] == 0.0
    _close(got[1:], [0.1 * math.log(2) / math.log(10)])
    # test_warmup_lr_inherits_per_group_lr_when_max_unspecified: scheduler.step(10) gives each
    # group's own lr (0.1 and 0.2): gamma == 1 from last_batch_iteration 10 on.
    assert _at(wj.log_warmup(0.1, 10), [10])[0] == np.float32(0.1)
    assert _at(wj.log_warmup(0.2, 10), [10])[0] == np.float32(0.2)


def test_linear_warmup_ratios_deepspeed():
    # test_warmup_cosine_lr_linear_warmup_type_produces_linear_ratios: with warmup_min_ratio 0 and
    # warmup_type "linear", the ratio at scheduler.step(step) is step / warmup_num_steps, 0..9.
    steps = np.arange(10)
    _close(_at(wj.linear_warmup(1.0, 10), steps), steps / 10.0)


# ------------------------------------------------------------------------------------------------
# praxis: praxis/schedules_test.py, praxis/schedules.py
# ------------------------------------------------------------------------------------------------


def _praxis_transformer(step, warmup_steps=4000, model_dim=512):
    """float64 transcription of praxis Transformer.value_at (worker_replicas 1, no decay_end):
    model_dim ** -0.5 * min((step + 1) * warmup_steps ** -1.5, (step + 1) ** -0.5)."""
    s = step + 1.0
    return model_dim**-0.5 * min(s * warmup_steps**-1.5, s**-0.5)


_PRAXIS_VALUES = [  # test_transformer_schedule_values (warmup_steps 4000, model_dim 512)
    (0, 1.74693e-07),
    (1000, 0.000174867),
    (2000, 0.00034956),
    (3000, 0.000524253),
    (4000, 0.000698684),
    (4500, 0.000658735),
    (5000, 0.000624937),
]


def test_noam_schedule_praxis_published_values():
    schedule = wj.noam_schedule(512, 4000, scale=1.0, step_offset=1)
    steps = [c for c, _ in _PRAXIS_VALUES]
    got = _at(schedule, steps)
    # praxis prints six significant digits (its float32 output rounded): 0.000174867 is 2.9e-6
    # below the exact 0.00017486750..., so the literal numbers allow 5e-6 relative ...
    _close(got, [v for _, v in _PRAXIS_VALUES], rtol=5e-6)
    # ... and the float64 transcription of value_at the usual tolerance.
    _close(got, [_praxis_transformer(c) for c in steps])


def test_noam_schedule_praxis_every_step():
    steps = np.concatenate([np.arange(0, 12_000), [2**20, 2**31 - 1]])
    schedule = wj.noam_schedule(512, 4000, scale=1.0, step_offset=1)
    _close(_at(schedule, steps), [_praxis_transformer(int(s)) for s in steps])


def test_noam_schedule_praxis_peak_and_linear_ramp():
    schedule = wj.noam_schedule(512, 4000, scale=1.0, step_offset=1)
    # test_transformer_schedule_peak: v(4000) > v(3990) and v(4000) > v(4010)
    v = _at(schedule, [3990, 4000, 4010])
    assert v[1] > v[0] and v[1] > v[2]
    # with step + 1, the maximum itself is at step 3999 (= warmup_steps - 1)
    around = _at(schedule, np.arange(3990, 4010))
    assert int(np.argmax(around)) + 3990 == 3999
    # test_transformer_schedule_linear: 2 * v(step) == v(step - 10) + v(step + 10) before 4000
    for step in range(300, 4000, 200):
        a, b, c = _at(schedule, [step - 10, step, step + 10])
        np.testing.assert_allclose(2.0 * b, a + c, rtol=2e-6)


# ------------------------------------------------------------------------------------------------
# fairseq: fairseq/optim/lr_scheduler/tri_stage_lr_scheduler.py
# ------------------------------------------------------------------------------------------------


def _fairseq_tri_stage(
    num_updates, peak_lr, warmup_steps, hold_steps, decay_steps, init_lr_scale, final_lr_scale
):
    """float64 transcription of TriStageLRSchedule.__init__ + _decide_stage + step_update."""
    init_lr = init_lr_scale * peak_lr
    final_lr = final_lr_scale * peak_lr
    warmup_rate = (peak_lr - init_lr) / warmup_steps if warmup_steps != 0 else 0
    decay_factor = -math.log(final_lr_scale) / decay_steps
    # _decide_stage
    if num_updates < warmup_steps:
        return init_lr + warmup_rate * num_updates  # stage 0
    offset = warmup_steps
    if num_updates < offset + hold_steps:
        return peak_lr  # stage 1
    offset += hold_steps
    if num_updates <= offset + decay_steps:
        return peak_lr * math.exp(-decay_factor * (num_updates - offset))  # stage 2
    return final_lr  # stage 3


@pytest.mark.parametrize(
    "peak, warmup, hold, decay, init_scale, final_scale",
    [
        pytest.param(0.5, 4, 3, 5, 0.01, 0.05, id="small"),
        pytest.param(1.0, 10, 5, 10, 0.01, 0.01, id="fairseq-default-scales"),
        pytest.param(3e-4, 7, 0, 9, 0.1, 0.2, id="no-hold"),
        # fairseq's dataclass config defaults warmup_steps and hold_steps to 0
        pytest.param(1.0, 0, 3, 4, 0.1, 0.1, id="no-warmup"),
    ],
)
def test_tri_stage_fairseq(peak, warmup, hold, decay, init_scale, final_scale):
    schedule = wj.tri_stage(
        peak, warmup, hold, decay, init_lr_scale=init_scale, final_lr_scale=final_scale
    )
    total = warmup + hold + decay
    steps = np.arange(total + 8)
    expected = [
        _fairseq_tri_stage(int(s), peak, warmup, hold, decay, init_scale, final_scale)
        for s in steps
    ]
    got = _at(schedule, steps)
    _close(got, expected)
    if warmup > 0:
        assert got[0] == np.float32(init_scale * peak)  # stage 0 starts at init_lr exactly
        assert got[warmup - 1] < np.float32(peak)  # peak only at warmup_steps (stage 1 or 2)
    assert got[warmup] == np.float32(peak)  # first step of hold, or step 0 of the decay
    np.testing.assert_array_equal(got[warmup : warmup + hold], np.float32(peak))
    # stage 3 (from warmup + hold + decay + 1) holds final_lr
    np.testing.assert_allclose(got[total:], final_scale * peak, rtol=2e-6)

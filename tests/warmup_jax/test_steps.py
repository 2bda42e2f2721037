"""Steps of every kind give the right value or a ValueError: never a wrapped or made-up value."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import warmup_jax as wj
from tests.warmup_jax.conftest import x64

LAST = 2**31 - 1
INTEGER_DTYPES = [
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
]


def hf_linear():
    return wj.linear_schedule_with_warmup(3e-4, 100, 1000)


@pytest.mark.parametrize("dtype", INTEGER_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("step", [0, 30, 99, 100, 120, 127, 999, 1000, 30000])
def test_every_integer_dtype_gives_the_value_of_the_same_python_int(dtype, step):
    # Compared mode by mode: XLA folds constants differently in a compiled program than op by
    # op, which can move a value by an ulp between eager and jit (never at the pinned ends).
    schedule = hf_linear()
    if step > np.iinfo(dtype).max:
        pytest.skip("not representable")
    assert np.asarray(schedule(dtype(step))) == np.asarray(schedule(step))  # numpy scalar
    int32 = np.asarray([step], np.int32)
    assert schedule(np.asarray([step], dtype))[0] == schedule(int32)[0]  # numpy array
    device = jnp.asarray(np.asarray([step], dtype))  # a jax array (uint64 -> uint32 without x64)
    assert schedule(device)[0] == schedule(jnp.asarray(int32))[0]
    assert jax.jit(schedule)(device)[0] == jax.jit(schedule)(jnp.asarray(int32))[0]  # traced


def test_the_values_reported_broken_in_0_1_0():
    schedule = hf_linear()
    # uint32 30000 gave 1431.6 (4.8 million times the peak): T - step wrapped in uint32.
    assert float(schedule(np.uint32(30000))) == 0.0
    assert float(jax.jit(schedule)(jnp.uint32(30000))) == 0.0
    # uint8 / int8 120 gave wrong values: arithmetic in the step's own 8 bits.
    right = float(schedule(120))
    assert right == pytest.approx(3e-4 * 880 / 900)
    assert float(schedule(np.uint8(120))) == right
    assert float(schedule(np.int8(120))) == right
    assert float(jax.jit(schedule)(jnp.int8(120))) == right


@pytest.mark.parametrize("step", [2**31, 2**40, 2**63 - 1, 2**64, 10**30])
def test_python_and_numpy_ints_past_int32_on_a_settled_schedule_give_its_end_value(step):
    schedule = hf_linear()  # 0.0 from step 1000 on
    assert float(schedule(step)) == 0.0
    if step < 2**63:
        assert float(schedule(np.int64(step))) == 0.0
    if step < 2**64:
        assert float(schedule(np.uint64(step))) == 0.0
    np.testing.assert_array_equal(schedule([5, step]), [schedule(np.asarray([5]))[0], 0.0])


@pytest.mark.parametrize("step", [2**31, np.int64(2**31), np.uint32(2**31), 2**31 + 0.5, math.inf])
def test_steps_past_int32_on_a_schedule_that_still_changes_are_refused(step):
    schedule = wj.inverse_sqrt_decay(1.0, 100)  # changes at every step, forever
    with pytest.raises(ValueError, match=r"is past 2147483647 .*still changes there"):
        schedule(step)
    # 0.1.0 silently wrapped np.int64(2**31) to a negative step and returned the start value.


def test_traced_steps_past_int32_give_nan_where_the_schedule_still_changes():
    changing, settled = wj.inverse_sqrt_decay(1.0, 100), hf_linear()
    steps = jnp.asarray([5, 2**31, 2**32 - 1], jnp.uint32)
    got = np.asarray(jax.jit(changing)(steps))
    assert got[0] == jax.jit(changing)(5) and np.isnan(got[1:]).all()
    np.testing.assert_array_equal(np.asarray(jax.jit(settled)(steps)), [jax.jit(settled)(5), 0, 0])


def test_nan_steps_raise_when_concrete_and_give_nan_when_traced():
    schedule = hf_linear()
    for step in (math.nan, np.float32("nan"), np.asarray([1.0, math.nan])):
        with pytest.raises(ValueError, match="NaN"):
            schedule(step)
    got = np.asarray(jax.jit(schedule)(jnp.asarray([0.0, jnp.nan, 5.0])))
    assert np.isnan(got[1])  # 0.1.0 gave the step-0 value here
    assert got[0] == 0.0 and got[2] == jax.jit(schedule)(5)


def test_infinite_steps():
    settled, changing = hf_linear(), wj.inverse_sqrt_decay(1.0, 100)
    assert float(settled(math.inf)) == 0.0
    assert float(settled(-math.inf)) == 0.0  # before the start: the warmup's first value
    assert float(jax.jit(settled)(jnp.inf)) == 0.0
    assert np.isnan(float(jax.jit(changing)(jnp.inf)))
    assert float(jax.jit(changing)(-jnp.inf)) == 1.0
    with pytest.raises(ValueError, match="still changes"):
        changing(math.inf)


@pytest.mark.parametrize(
    "schedule",
    [
        wj.linear_warmup(1.0, 10),
        wj.cosine_schedule_with_warmup(1.0, 10, 100),
        wj.exponential_decay(1.0, 3, 0.5, staircase=True),
        wj.cyclic_schedule(1.0, 7, warmup_steps=2),
    ],
    ids=lambda s: s.name,
)
@pytest.mark.parametrize("step", [2.0, 2.7, 2.999, 13.5, 99.9])
def test_float_steps_are_floored(schedule, step):
    whole = math.floor(step)
    assert np.asarray(schedule(step)) == np.asarray(schedule(whole))
    assert np.asarray(schedule(np.float32(step))) == np.asarray(schedule(whole))
    traced = jax.jit(schedule)(jnp.asarray([step], jnp.float32))
    assert np.asarray(traced)[0] == np.asarray(jax.jit(schedule)(jnp.asarray([whole])))[0]


def test_a_fractional_step_is_not_rounded_up():
    # The survivor of a mutation test: nothing checked that floats floor instead of round.
    assert float(wj.linear_warmup(1.0, 10)(2.7)) == pytest.approx(0.2)


def test_negative_steps_are_before_the_start():
    warm = wj.linear_warmup(1.0, 10, init_value=0.1)
    for step in (-1, -5, -(2**31), -(2**70), np.int64(-(2**40)), -0.5):
        assert np.asarray(warm(step)) == np.float32(0.1)
    cyclic = wj.cyclic_schedule(1.0, 10, warmup_steps=3, warmup_every_cycle=False)
    np.testing.assert_array_equal(
        np.asarray(jax.jit(cyclic)(jnp.asarray([-(2**31), -1, 0], jnp.int32))), [0, 0, 0]
    )


@pytest.mark.parametrize("step", [True, np.bool_(False), 1 + 2j, "3", None, [1, "a"]])
def test_steps_that_are_not_numbers_are_refused(step):
    with pytest.raises(ValueError, match="a step must be an integer or a float"):
        hf_linear()(step)


def test_a_traced_bool_step_is_refused():
    with pytest.raises(ValueError, match="a step must be an integer or a float"):
        jax.jit(hf_linear())(jnp.asarray(True))


def test_a_device_step_is_not_copied_to_the_host():
    schedule = hf_linear()
    step = jnp.asarray(150, jnp.int32)
    expected = schedule(150)
    compiled = jax.jit(schedule)
    compiled(step)  # compile outside the guard
    with jax.transfer_guard("disallow"):
        got = compiled(step)
    assert np.asarray(got) == np.asarray(expected)


class TestX64:
    """Under jax_enable_x64: int64 steps and lengths beyond 2**31 - 1."""

    def test_int64_steps_past_int32(self):
        with x64():
            schedule = wj.inverse_sqrt_decay(1.0, 1.0)
            step = 2**40
            got = schedule(jnp.asarray(step, jnp.int64))
            assert got.dtype == jnp.float64
            assert float(got) == pytest.approx(1 / math.sqrt(step + 1), rel=1e-12)
            assert float(jax.jit(schedule)(np.int64(step))) == float(got)
            with pytest.raises(ValueError, match=r"is past 9007199254740991"):
                schedule(2**60)

    def test_lengths_past_int32(self):
        with x64():
            warm = wj.linear_warmup(1.0, 2**33)
            assert float(warm(2**32)) == 0.5 and float(warm(2**33)) == 1.0
            assert warm.end_step == 2**33
            hf = wj.cosine_schedule_with_warmup(1.0, 2**32, 2**34)
            assert float(hf(2**32)) == 1.0 and float(hf(2**34)) == 0.0
            assert float(hf(2**32 + 3 * 2**31)) == pytest.approx(0.5, rel=1e-12)
            chained = wj.parse("linear_warmup(1.0, 3000000000) >> linear_decay(1.0, 3000000000)")
            assert chained.end_step == 6_000_000_000
            assert float(jax.jit(chained)(jnp.asarray(4_500_000_000))) == 0.5

    def test_refused_without_x64(self):
        with pytest.raises(
            ValueError, match=r"warmup_steps must be an integer in \[1, 2147483647\]"
        ):
            wj.linear_warmup(1.0, 2**33)

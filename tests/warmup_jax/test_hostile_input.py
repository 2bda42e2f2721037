"""Input a library must survive: deep or huge configs, pickling, odd number types, tiny peaks.

Each test here failed on warmup_jax 0.1.0 (a RecursionError, a pickling error, a silently wrong
value or a 2 MB message) and passes now.
"""

import concurrent.futures
import copy
import json
import multiprocessing
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import warmup_jax as wj
from tests.warmup_jax.conftest import values
from tests.warmup_jax.test_config import EXAMPLES

STEPS = np.concatenate([np.arange(0, 300), [1000, 10_000, 2**31 - 1]])


def _nested_config(depth: int) -> dict:
    config = {"schedule": "constant", "arguments": {"value": 1.0}}
    for _ in range(depth):
        config = {"schedule": "with_warmup", "arguments": {"schedule": config, "warmup_steps": 1}}
    return config


@pytest.mark.parametrize("depth", [wj.MAX_DEPTH + 1, 500, 100_000])
def test_a_deeply_nested_config_is_a_value_error(depth):
    config = _nested_config(depth)
    with pytest.raises(ValueError, match=f"schedules nest at most {wj.MAX_DEPTH} levels deep"):
        wj.from_config(config)
    # The same as JSON text (written by hand: json.dumps itself recurses).
    text = (
        '{"schedule": "with_warmup", "arguments": {"schedule": ' * depth
        + '{"schedule": "constant", "arguments": {"value": 1.0}}'
        + ', "warmup_steps": 1}}' * depth
    )
    with pytest.raises(ValueError, match="nest"):
        wj.from_config(text)


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1"])
def test_deeply_nested_json_text_is_a_value_error(text):
    with pytest.raises(ValueError, match="config: "):
        wj.from_config(text)


def test_nesting_up_to_the_limit_works_and_past_it_is_refused_in_python_too():
    schedule = wj.constant(0.5)
    for _ in range(wj.MAX_DEPTH - 1):
        schedule = wj.multiply([schedule, 2.0])
    assert wj.from_config(schedule.to_json()) == schedule
    assert pickle.loads(pickle.dumps(schedule)) == schedule
    assert float(jax.jit(schedule)(jnp.asarray(7))) == 0.5 * 2.0 ** (wj.MAX_DEPTH - 1)
    with pytest.raises(ValueError, match="nest at most"):
        wj.multiply([schedule])


@pytest.mark.parametrize(
    "config, message",
    [
        ("not json", "not valid JSON"),
        ("1" * 10_000, "not valid JSON"),  # past Python's int-string limit
        ({"schedule": "constant", "arguments": {"value": {"x": 1}}}, "must be a dict"),
        ({"schedule": "constant", "arguments": {1: 2}}, "must be a dict"),
        ({"schedule": "x" * 100_000}, "unknown schedule"),
        ({"schedule": "constant", "arguments": {"value": "y" * 100_000}}, "value must be"),
        ({"schedule": "join", "arguments": {"schedules": [[[[]]]], "boundaries": []}}, "schedule"),
        (None, "must be a dict"),
    ],
)
def test_junk_configs_are_short_value_errors(config, message):
    with pytest.raises(ValueError, match=message) as error:
        wj.from_config(config)
    assert len(str(error.value)) < 1000


def test_an_error_deep_in_a_config_says_where():
    config = wj.join([wj.linear_warmup(1.0, 10), wj.cosine_decay(1.0, 90)], [10]).to_config()
    config["arguments"]["schedules"][1]["arguments"]["decay_steps"] = -3
    with pytest.raises(ValueError, match=r"config\.join\.schedules\[1\]: .*decay_steps must be"):
        wj.from_config(config)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_schedule_pickles_to_an_equal_schedule_with_the_same_values(name):
    schedule = getattr(wj, name)(**EXAMPLES[name])
    for copied in (pickle.loads(pickle.dumps(schedule)), copy.deepcopy(schedule)):
        assert copied == schedule and copied.end_step == schedule.end_step
        np.testing.assert_array_equal(values(copied, STEPS), values(schedule, STEPS))


def _value_at(schedule, step):
    return float(schedule(step))


def test_schedules_go_through_multiprocessing():
    schedule = wj.cosine_schedule_with_warmup(1e-3, 10, 100) >> wj.constant(1e-5)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        got = pool.submit(_value_at, schedule, 50).result(timeout=120)
    assert got == float(schedule(50))


@pytest.mark.parametrize("peak", [0.0, 1e-50, 1e-40, 1e-38, -1e-30])
def test_a_peak_that_float32_makes_zero_or_denormal_is_refused(peak):
    with pytest.raises(ValueError, match="peak_value must be"):
        wj.linear_warmup(peak, 10)
    with pytest.raises(ValueError, match="peak_value must be"):
        wj.cosine_schedule_with_warmup(peak, 10, 100)


def test_the_smallest_normal_float32_peak_is_accepted():
    tiny = float(np.finfo(np.float32).tiny)
    assert float(wj.linear_warmup(tiny, 10)(10)) == tiny


@pytest.mark.parametrize(
    "peak, steps",
    [
        (np.float32(1e-3), np.int64(100)),
        (np.float64(1e-3), np.int32(100)),
        (jnp.asarray(1e-3), jnp.asarray(100)),
        (np.asarray(1e-3), np.asarray(100, np.uint16)),
    ],
)
def test_numpy_and_jax_scalars_are_accepted_where_a_python_number_is(peak, steps):
    schedule = wj.cosine_schedule_with_warmup(peak, steps, 1000)
    python = wj.cosine_schedule_with_warmup(float(peak), int(steps), 1000)
    assert schedule == python
    assert type(schedule.arguments["num_warmup_steps"]) is int
    json.dumps(schedule.to_config())  # plain Python numbers only
    joined = wj.piecewise_constant(np.asarray([10, 20]), jnp.asarray([1.0, 0.5, 0.25]))
    assert joined == wj.piecewise_constant([10, 20], [1.0, 0.5, 0.25])


def test_a_traced_value_as_an_argument_is_a_clear_error():
    @jax.jit
    def build(peak):
        return wj.linear_warmup(peak, 10)(5)

    with pytest.raises(ValueError, match="must be a concrete number, got a traced value"):
        build(1.0)

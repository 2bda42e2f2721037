"""Every schedule knows where it ends (``end_step``) from the moment it is built."""

import jax.numpy as jnp
import numpy as np
import pytest

import warmup_jax as wj
from tests.warmup_jax.conftest import values
from tests.warmup_jax.test_config import EXAMPLES
from warmup_jax._schedule import _REGISTRY, Schedule, register

LAST = 2**31 - 1

# The end of each example in test_config.EXAMPLES, worked out by hand from its arguments.
EXPECTED_END = {
    "linear_warmup": 10,
    "exponential_warmup": 10,
    "warmup": 10,
    "from_epochs": 30,  # round(1.5 * 20)
    "with_warmup": 110,  # 10 + cosine_decay(..., 100)
    "untuned_linear_warmup": 300,  # the base, linear_decay(1e-3, 300), ends after tau - 1 = 199
    "untuned_exponential_warmup": 329,  # tau = int(1 / 0.05) = 19; ceil(25 ln 2 * 19) - 1
    "radam_warmup": None,  # set from the schedule's own warmup_steps below
    "constant": 0,
    "cosine_decay": 100,
    "linear_decay": 100,
    "polynomial_decay": 100,
    "one_minus_sqrt_decay": 100,
    "exponential_decay": None,  # decays towards 0 forever
    "piecewise_constant": 60,
    "inverse_sqrt_decay": None,
    "join": 100,
    "multiply": None,  # inverse_sqrt_decay never settles
    "warmup_stable_decay": 100,
    "cyclic_schedule": None,  # no cycle_limit
    "rewarmup": 210,  # 100 + 10 + cosine_decay(5e-4, 100)
    "constant_schedule": 0,
    "constant_schedule_with_warmup": 10,
    "linear_schedule_with_warmup": 100,
    "cosine_schedule_with_warmup": 100,
    "cosine_with_hard_restarts_schedule_with_warmup": 100,
    "polynomial_decay_schedule_with_warmup": 100,
    "inverse_sqrt_schedule": None,
    "cosine_with_min_lr_schedule_with_warmup": 100,
    "wsd_schedule": 100,
    "piecewise_interpolate": 150,
    "linear_onecycle": 200,
    "cosine_onecycle": 200,
    "inverse_time_decay": None,
    "cosine_decay_restarts": None,
    "log_warmup": 49,  # DeepSpeed's convention: the peak at warmup_num_steps - 1
    "noam_schedule": None,
    "tri_stage": 90,
    "step_lr": None,
    "multi_step_lr": 80,
    "constant_lr": 40,
    "linear_lr": 40,
    "exponential_lr": None,
    "polynomial_lr": 150,
    "cosine_annealing_lr": 100,  # T_max; torch's closed form climbs back after it
    "cosine_annealing_warm_restarts": None,
    "cyclic_lr": None,
    "cyclic_momentum": None,
    "one_cycle_lr": 299,  # the last update torch allows
    "one_cycle_momentum": 299,
    "sequential_lr": None,
    "chained_scheduler": None,
}
# Ends that are the end of training, past which the formula goes on (transformers, torch).
GOES_ON = {
    name
    for name in EXAMPLES
    if "schedule" in name and name not in ("cyclic_schedule", "noam_schedule")
} | {"cosine_annealing_lr"}


def test_every_constructor_has_an_expected_end():
    assert set(EXPECTED_END) == set(EXAMPLES) == set(wj.registered_names())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_end_step(name):
    schedule = getattr(wj, name)(**EXAMPLES[name])
    expected = EXPECTED_END[name]
    if name == "radam_warmup":
        expected = schedule.warmup_steps
    assert schedule.end_step == expected
    if expected is None or name in GOES_ON - {"linear_schedule_with_warmup"}:
        return
    # Native schedules hold their final value from end_step on, and not one step earlier
    # (unless the last phase is flat).
    steps = [expected, expected + 1, expected + 1000, LAST]
    after = values(schedule, steps)
    assert np.all(after == after[0])


@pytest.mark.parametrize(
    "schedule, end",
    [
        (wj.cyclic_schedule(1.0, 100, cycle_mul=2.0, cycle_limit=3), 700),
        (
            wj.cyclic_schedule(1.0, 100, cycle_limit=3, warmup_steps=10, warmup_every_cycle=False),
            310,
        ),
        (wj.cyclic_schedule(1.0, 100, cycle_limit=2, warmup_steps=10), 200),
        (wj.rewarmup(wj.linear_schedule_with_warmup(1.0, 10, 100), 100, 0.5, 10), 110),
        (wj.exponential_decay(1.0, 1, 0.5, end_value=0.25), 2),
        (wj.exponential_decay(1.0, 10, 0.5, transition_begin=5, end_value=0.25), 25),
        (wj.exponential_decay(1.0, 10, 0.5, staircase=True, end_value=0.3), 20),
        (wj.exponential_decay(1.0, 10, 2.0, end_value=4.0), 20),
        (wj.exponential_decay(1.0, 10, 1.0), 0),
        (wj.linear_warmup(1.0, 10, warmup_one_step_ahead=True), 10),
        (wj.multiply([2.0, wj.linear_warmup(1.0, 10), wj.linear_decay(1.0, 50)]), 50),
        (wj.with_warmup(wj.inverse_sqrt_decay(1.0, 10), 5), None),
        (wj.wsd_schedule(1.0, 10, 20, num_stable_steps=30), 60),
        (wj.cosine_with_hard_restarts_schedule_with_warmup(1.0, 5, 5), 5),
    ],
)
def test_end_step_of_more_settings(schedule, end):
    assert schedule.end_step == end
    assert wj.from_config(schedule.to_config()).end_step == end


def test_chains_start_each_part_where_the_one_before_it_ends():
    chained = wj.cyclic_schedule(1.0, 100, cycle_limit=2) >> wj.constant(0.5)
    assert chained == wj.join(
        [wj.cyclic_schedule(1.0, 100, cycle_limit=2), wj.constant(0.5)], [200]
    )
    np.testing.assert_array_equal(values(chained, [199, 200, 10_000])[1:], [0.5, 0.5])
    hf = wj.cosine_schedule_with_warmup(1.0, 10, 100) >> wj.constant(0.1)
    assert hf.arguments["boundaries"] == [100] and hf.end_step == 100


def test_a_new_constructor_cannot_forget_its_end():
    with pytest.raises(TypeError, match="end_step"):
        Schedule(lambda step: step, warmup_steps=0)


def test_a_constructor_defined_outside_the_library_chains_by_its_own_end_step():
    @register
    def square_ramp_for_test(peak_value: float, steps: int) -> Schedule:
        def fn(step):
            done = jnp.clip(step, 0, steps).astype(jnp.float32) / steps
            return peak_value * done * done

        return Schedule(fn, warmup_steps=steps, end_step=steps)

    try:
        chained = square_ramp_for_test(1.0, 4) >> wj.linear_decay(1.0, 4)
        expected = [0, 1 / 16, 0.25, 9 / 16, 1, 0.75, 0.5, 0.25, 0]
        np.testing.assert_allclose(values(chained, range(9)), expected)
        assert chained.end_step == 8
    finally:
        del _REGISTRY["square_ramp_for_test"]

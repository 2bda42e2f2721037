"""Configs written by warmup_jax 0.1.0 load under today's names and give the same values.

``legacy_0_1_0/configs.json`` was written by 0.1.0 itself (``legacy_0_1_0/make_fixtures.py``):
53 schedules of every constructor, with 0.1.0's argument names (``final_value``, ``strategy``,
``warmup``, ``decay``, ``one_step_ahead``, ``step_decay``) and the float32 value 0.1.0 computed at
each of about 180 steps. A harness checkpoint stores such a config, so a resumed run must see the
same schedule.

Where a formula was rewritten since (the transformers family now builds on the native ramps and
decays, XLA folds their constants in another order, ``step_decay`` became ``exponential_decay``
with ``staircase=True``), values may differ in their last bits: at most ``MAX_ULPS`` units in the
last place (4e-6 relative), or, near 0, a millionth of the schedule's peak (0.1.0's cyclic linear
and polynomial decays computed ``1 - progress``, which loses its digits there). The ends are exact: the end of the warmup, and every step from where
the schedule settles. (Step 0 of the transformers family's exponential warmup is now exactly
``peak / 1000`` rounded once, where 0.1.0 computed ``peak * exp(log(1e-3))``, an ulp away.)
"""

import json
import pathlib

import jax
import numpy as np
import pytest

import warmup_jax as wj
from warmup_jax._schedule import settles_at

FIXTURES = json.loads(
    (pathlib.Path(__file__).with_name("legacy_0_1_0") / "configs.json").read_text()
)
CASES = FIXTURES["cases"]
MAX_ULPS = 40
OLD_NAMES = {"final_value", "strategy", "one_step_ahead", "warmup", "decay", "step_size", "gamma"}


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.view(np.int32).astype(np.int64) - b.view(np.int32).astype(np.int64))


def _names(config):
    """Every argument name in a config, nested ones included."""
    names = set(config["arguments"])
    for value in config["arguments"].values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                names |= _names(item)
    return names


def test_the_fixtures_come_from_0_1_0_and_use_its_old_names():
    assert FIXTURES["warmup_jax"] == "0.1.0" and len(CASES) == 53
    used = set().union(*(_names(case["config"]) for case in CASES))
    assert OLD_NAMES - {"step_size", "gamma"} <= used
    assert {case["config"]["schedule"] for case in CASES} >= {"step_decay", "cyclic_schedule"}


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{i}-{case['config']['schedule']}" for i, case in enumerate(CASES)]
)
def test_a_0_1_0_config_loads_to_the_same_values(case):
    schedule = wj.from_config(case["config"])
    steps = np.asarray(case["steps"], np.int32)
    expected = np.asarray(case["values"], np.float32)
    got = np.asarray(jax.jit(schedule)(steps), np.float32)
    # Within MAX_ULPS, or (near 0, where 0.1.0's 1 - progress lost its digits and today's
    # remaining-steps forms keep them) within a millionth of the schedule's largest value.
    close = (_ulps(got, expected) <= MAX_ULPS) | (
        np.abs(got.astype(np.float64) - expected) <= 1e-6 * float(expected.max())
    )
    assert close.all(), (steps[~close], got[~close], expected[~close])
    exact = steps == schedule.warmup_steps
    if settles_at(schedule) is not None:
        exact |= steps >= settles_at(schedule)
    np.testing.assert_array_equal(got[exact], expected[exact])
    # Saved again, it uses today's names only, and loads to the same schedule.
    config = schedule.to_config()
    assert not _names(config) & OLD_NAMES
    assert wj.from_config(json.loads(json.dumps(config))) == schedule


def test_old_and_new_names_of_one_schedule_give_one_schedule():
    old = {
        "schedule": "with_warmup",
        "arguments": {
            "schedule": {
                "schedule": "cosine_decay",
                "arguments": {"init_value": 1e-3, "decay_steps": 900, "final_value": 1e-5},
            },
            "warmup_steps": 100,
            "strategy": "exponential",
            "init_value": None,
            "one_step_ahead": True,
        },
    }
    new = wj.with_warmup(
        wj.cosine_decay(1e-3, 900, end_value=1e-5),
        100,
        warmup_type="exponential",
        warmup_one_step_ahead=True,
    )
    assert wj.from_config(old) == new
    assert wj.from_config(
        {"schedule": "step_decay", "arguments": {"init_value": 1.0, "step_size": 10, "gamma": 0.5}}
    ) == wj.exponential_decay(1.0, 10, 0.5, staircase=True)


def test_an_old_name_next_to_its_new_name_is_refused():
    config = {
        "schedule": "linear_decay",
        "arguments": {"init_value": 1.0, "decay_steps": 10, "end_value": 0.0, "final_value": 0.1},
    }
    with pytest.raises(ValueError, match="does not fit its arguments"):
        wj.from_config(config)

"""Durations ("10%", "2ep", "375Mtok", "1e5ex", "500st") wherever a length goes."""

import inspect
import json
import pickle
import threading
from fractions import Fraction

import numpy as np
import pytest

import warmup_jax as wj
from warmup_jax import durations
from warmup_jax.durations import LENGTH_PARAMETERS, TrainingLength, to_steps, training_length

from .conftest import values

LENGTH = TrainingLength(total_steps=1000, steps_per_epoch=5, tokens_per_step=4, examples_per_step=8)
STEPS = np.concatenate([np.arange(0, 1200), [5000, 10**6, 2**31 - 1]])

# Valid integer arguments for every constructor that has a length parameter.
EXAMPLES = {
    "constant_lr": dict(lr=1.0, factor=0.5, total_iters=50),
    "constant_schedule_with_warmup": dict(peak_value=1.0, num_warmup_steps=100),
    "cosine_annealing_lr": dict(lr=1.0, T_max=300),
    "cosine_annealing_warm_restarts": dict(lr=1.0, T_0=100, T_mult=2),
    "cosine_decay": dict(init_value=1.0, decay_steps=300),
    "cosine_decay_restarts": dict(init_value=1.0, first_decay_steps=100),
    "cosine_onecycle": dict(transition_steps=400, peak_value=1.0),
    "cosine_schedule_with_warmup": dict(
        peak_value=1.0, num_warmup_steps=100, num_training_steps=1000
    ),
    "cosine_with_hard_restarts_schedule_with_warmup": dict(
        peak_value=1.0, num_warmup_steps=100, num_training_steps=1000, num_cycles=2
    ),
    "cosine_with_min_lr_schedule_with_warmup": dict(
        peak_value=1.0, num_warmup_steps=100, num_training_steps=1000, min_lr_rate=0.1
    ),
    "cyclic_lr": dict(base_lr=0.1, max_lr=1.0, step_size_up=100, step_size_down=50),
    "cyclic_momentum": dict(base_lr=0.1, max_lr=1.0, step_size_up=100, step_size_down=50),
    "cyclic_schedule": dict(peak_value=1.0, first_cycle_steps=200, warmup_steps=20),
    "exponential_decay": dict(
        init_value=1.0, transition_steps=100, decay_rate=0.5, transition_begin=50
    ),
    "exponential_warmup": dict(peak_value=1.0, warmup_steps=100),
    "inverse_sqrt_decay": dict(init_value=1.0, timescale=100),
    "inverse_sqrt_schedule": dict(peak_value=1.0, num_warmup_steps=100, timescale=200),
    "inverse_time_decay": dict(init_value=1.0, decay_steps=100, decay_rate=0.5),
    "join": dict(schedules=[wj.constant(1.0), wj.cosine_decay(0.5, 200)], boundaries=[100]),
    "linear_decay": dict(init_value=1.0, decay_steps=300),
    "linear_lr": dict(lr=1.0, total_iters=100),
    "linear_onecycle": dict(transition_steps=400, peak_value=1.0),
    "linear_schedule_with_warmup": dict(
        peak_value=1.0, num_warmup_steps=100, num_training_steps=1000
    ),
    "linear_warmup": dict(peak_value=1.0, warmup_steps=100),
    "log_warmup": dict(peak_value=1.0, warmup_steps=100),
    "multi_step_lr": dict(lr=1.0, milestones=[100, 300]),
    "noam_schedule": dict(d_model=64, warmup_steps=100),
    "one_cycle_lr": dict(max_lr=1.0, total_steps=1000),
    "one_cycle_momentum": dict(max_lr=1.0, total_steps=1000),
    "one_minus_sqrt_decay": dict(init_value=1.0, decay_steps=300),
    "piecewise_constant": dict(boundaries=[100, 300], values=[1.0, 0.5, 0.1]),
    "piecewise_interpolate": dict(
        interpolate_type="linear", init_value=1.0, boundaries_and_scales={100: 0.5, 300: 0.1}
    ),
    "polynomial_decay": dict(init_value=1.0, decay_steps=300, power=2.0),
    "polynomial_decay_schedule_with_warmup": dict(
        peak_value=1.0, num_warmup_steps=100, num_training_steps=1000
    ),
    "polynomial_lr": dict(lr=1.0, total_iters=100),
    "rewarmup": dict(
        schedule=wj.cosine_decay(1.0, 1000), at_step=500, peak_value=1.0, warmup_steps=50
    ),
    "sequential_lr": dict(
        schedulers=[wj.linear_lr(1.0, total_iters=100), wj.cosine_annealing_lr(1.0, 300)],
        milestones=[100],
    ),
    "step_lr": dict(lr=1.0, step_size=100),
    "tri_stage": dict(peak_value=1.0, warmup_steps=100, hold_steps=200, decay_steps=300),
    "warmup": dict(peak_value=1.0, warmup_steps=100),
    "warmup_stable_decay": dict(
        peak_value=1.0, warmup_steps=100, stable_steps=200, decay_steps=300
    ),
    "with_warmup": dict(schedule=wj.cosine_decay(1.0, 900), warmup_steps=100),
    "wsd_schedule": dict(
        peak_value=1.0, num_warmup_steps=100, num_decay_steps=200, num_training_steps=1000
    ),
}
# Integer parameters that are not lengths in steps (counts, flags, factors).
NOT_LENGTHS = {
    "T_mult",
    "cycle_limit",
    "d_model",
    "epochs",
    "num_cycles",
    "step_offset",
    "steps_per_epoch",
}


def _as_duration(steps: int, k: int) -> str:
    """``steps`` in one of the units, exactly, under LENGTH."""
    unit = k % 6
    if unit == 0:
        return f"{steps / 10:g}%"
    if unit == 1:
        return f"{steps / 5:g}ep"
    if unit == 2:
        return f"{4 * steps}tok"
    if unit == 3:
        return f"{8 * steps / 1000:g}Kex"
    if unit == 4:
        return f"{steps}st"
    return f"{4 * steps:.3e}tok"


def _with_durations(kwargs):
    given, k = {}, 0
    for key, value in kwargs.items():
        if key not in LENGTH_PARAMETERS or value is None:
            given[key] = value
        elif isinstance(value, dict):
            given[key] = {_as_duration(step, k + i): v for i, (step, v) in enumerate(value.items())}
        elif isinstance(value, list):
            given[key] = [_as_duration(step, k + i) for i, step in enumerate(value)]
        else:
            given[key] = _as_duration(value, k)
        k += 1
    return given


def _length_parameters(name):
    return [p for p in inspect.signature(getattr(wj, name)).parameters if p in LENGTH_PARAMETERS]


def test_every_int_parameter_is_classified():
    for name in wj.registered_names():
        for parameter in inspect.signature(getattr(wj, name)).parameters.values():
            annotation = str(parameter.annotation)
            if "int" in annotation.replace("interpolate", ""):
                assert parameter.name in LENGTH_PARAMETERS | NOT_LENGTHS, (name, parameter.name)


def test_every_constructor_with_a_length_is_covered():
    with_lengths = {name for name in wj.registered_names() if _length_parameters(name)}
    assert with_lengths == set(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_durations_give_the_schedule_of_the_steps_they_resolve_to(name):
    constructor = getattr(wj, name)
    plain = constructor(**EXAMPLES[name])
    given = _with_durations(EXAMPLES[name])
    with training_length(LENGTH):
        made = constructor(**given)
    np.testing.assert_array_equal(values(made, STEPS), values(plain, STEPS))
    assert made.arguments == plain.arguments
    assert made == plain and hash(made) == hash(plain)
    assert made.warmup_steps == plain.warmup_steps and made.end_step == plain.end_step
    # The config records the durations as given; the arguments are the steps.
    config = made.to_config()
    recorded = {k: v for k, v in given.items() if k in LENGTH_PARAMETERS and v is not None}
    assert set(config["durations"]) == set(recorded)
    assert config["arguments"] == plain.to_config()["arguments"]
    assert "durations" not in plain.to_config()
    # Reloads without any context, to the same values and the same record.
    text = json.dumps(config)
    again = wj.from_config(text)
    assert again.to_config() == config
    np.testing.assert_array_equal(values(again, STEPS), values(plain, STEPS))
    # Pickles with the record.
    unpickled = pickle.loads(pickle.dumps(made))
    assert unpickled.to_config() == config and unpickled.durations == made.durations


def test_int_schedules_keep_their_config_and_pickle():
    s = wj.cosine_schedule_with_warmup(1e-3, 10, 100)
    assert s.to_json() == (
        '{"arguments": {"num_cycles": 0.5, "num_training_steps": 100, "num_warmup_steps": 10, '
        '"peak_value": 0.001, "warmup_one_step_ahead": false, "warmup_type": "linear"}, '
        '"schedule": "cosine_schedule_with_warmup"}'
    )
    assert s.durations == {}
    assert len(s.__reduce__()[1]) == 2  # the pickle of a schedule in steps is unchanged


def test_the_issue_example():
    length = TrainingLength(total_steps=10_000, tokens_per_step=2**19)
    with training_length(length):
        s = wj.linear_warmup(3e-4, "375Mtok") >> wj.cosine_decay(3e-4, "90%")
    assert s.arguments["boundaries"] == [715]  # 375e6 / 524288 = 715.26
    assert s.end_step == 715 + 9000
    assert sorted(durations.units(s)) == ["%", "tok"]
    parsed = wj.parse(
        "linear_warmup(peak_value=peak, warmup_steps='375Mtok') >> cosine_decay(peak, 90%)",
        {"peak": 3e-4},
        length=length,
    )
    assert parsed.to_config() == s.to_config()


# -- rounding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "length", "steps"),
    [
        ("10%", TrainingLength(total_steps=1005), 101),  # exactly 100.5: halves go up
        ("10%", TrainingLength(total_steps=1004), 100),  # 100.4
        ("10%", TrainingLength(total_steps=1006), 101),  # 100.6
        ("0.1%", TrainingLength(total_steps=1005), 1),  # 1.005
        ("0.01%", TrainingLength(total_steps=1000), 1),  # 0.1 steps: never 0
        ("0%", TrainingLength(total_steps=1000), 0),
        ("100%", TrainingLength(total_steps=1000), 1000),
        ("1280tok", TrainingLength(tokens_per_step=512), 3),  # 2.5
        ("1279tok", TrainingLength(tokens_per_step=512), 2),
        ("1tok", TrainingLength(tokens_per_step=10**6), 1),
        ("0tok", TrainingLength(tokens_per_step=10), 0),
        ("2ep", TrainingLength(steps_per_epoch=390.625), 781),  # 781.25
        ("0.5ep", TrainingLength(steps_per_epoch=Fraction(1001, 2)), 250),  # 250.25
        ("1ep", TrainingLength(steps_per_epoch=Fraction(1001, 2)), 501),  # 500.5
        ("1e5ex", TrainingLength(examples_per_step=256), 391),  # 390.625
        ("2.5st", None, 3),
        ("1.5Kst", None, 1500),
        ("1_000st", None, 1000),
        (" 2 ep ", TrainingLength(steps_per_epoch=3), 6),
        ("5ktok", TrainingLength(tokens_per_step=1000), 5),
        ("1Btok", TrainingLength(tokens_per_step=10**6), 1000),
        ("1Gtok", TrainingLength(tokens_per_step=10**6), 1000),
        ("1Ttok", TrainingLength(tokens_per_step=10**9), 1000),
        ("5e6tok", TrainingLength(tokens_per_step=1000), 5000),
        (".5ep", TrainingLength(steps_per_epoch=10), 5),
        (7, None, 7),
    ],
)
def test_rounding(duration, length, steps):
    assert to_steps(duration, length) == steps


def test_a_warmup_asked_for_is_never_zero_steps():
    with training_length(tokens_per_step=4096):
        s = wj.linear_warmup(1.0, "100tok")
    assert s.warmup_steps == 1
    with training_length(total_steps=10), pytest.raises(ValueError, match="warmup_steps"):
        wj.linear_warmup(1.0, "0%")  # asked for none: refused as 0 steps are
    with training_length(total_steps=10):
        assert wj.warmup_stable_decay(1.0, "0%", "50%", "50%").warmup_steps == 0


def test_rounding_is_exact_not_float():
    # 0.7 * 45 is 31.499999999999996 in floats; the rule rounds the exact 31.5 up.
    assert 0.7 * 45 < 31.5
    assert to_steps("70%", TrainingLength(total_steps=45)) == 32


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "field"),
    [
        ("10%", "total_steps"),
        ("2ep", "steps_per_epoch"),
        ("1Mtok", "tokens_per_step"),
        ("1e5ex", "examples_per_step"),
    ],
)
def test_missing_context_names_the_parameter_and_what_is_missing(duration, field):
    with pytest.raises(ValueError, match=rf"warmup_steps='{duration}'.*needs {field}"):
        wj.linear_warmup(1.0, duration)
    if field == "total_steps":
        other = TrainingLength(tokens_per_step=3)
    else:
        other = TrainingLength(total_steps=5)
    with pytest.raises(ValueError, match=f"the training length has no {field}"):
        to_steps(duration, other, name="warmup_steps")
    with training_length(other), pytest.raises(ValueError, match=f"decay_steps.*{field}"):
        wj.cosine_decay(1.0, duration)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("ten%", "duration such as"),
        ("10 percent", "duration such as"),
        ("2epochs", "duration such as"),
        ("0.1", "needs its unit"),
        ("1e3", "needs its unit"),
        ("500", "needs its unit"),
        ("-5%", "not be negative"),
        ("-2ep", "not be negative"),
        ("nan%", "finite"),
        ("inf", "finite"),
        ("infst", "finite"),
        ("150%", "at most 100%"),
        ("3Kep", "go before tok"),
        ("5K%", "go before tok"),
        ("1e4000tok", "duration such as"),  # exponents have at most three digits
        ("1e300tok", "past the last step"),
        ("9" * 70 + "st", "duration such as"),
        ("", "duration such as"),
        ("%", "duration such as"),
        ("10%%", "duration such as"),
        ("1.2.3st", "duration such as"),
    ],
)
def test_malformed_durations(bad, message):
    length = TrainingLength(total_steps=1000, steps_per_epoch=5, tokens_per_step=7)
    with training_length(length), pytest.raises(ValueError, match=message) as error:
        wj.cosine_decay(1.0, bad)
    assert "decay_steps" in str(error.value)


@pytest.mark.parametrize("bad", [1.5, 100.0, float("nan"), float("inf"), True, None, b"10%"])
def test_other_values_are_refused_as_before(bad):
    with training_length(total_steps=1000), pytest.raises(ValueError, match="warmup_steps"):
        wj.linear_warmup(1.0, bad)


def test_huge_and_negative_ints_are_refused():
    with pytest.raises(ValueError):
        to_steps(-1)
    with pytest.raises(ValueError):
        to_steps(2**40)
    with pytest.raises(ValueError, match="past the last step"):
        to_steps("1Tst")


@pytest.mark.parametrize(
    "fields",
    [
        dict(total_steps=0),
        dict(total_steps=1.5),
        dict(steps_per_epoch=0),
        dict(steps_per_epoch=-1.0),
        dict(steps_per_epoch=float("nan")),
        dict(steps_per_epoch=float("inf")),
        dict(tokens_per_step=1.5),
        dict(tokens_per_step=0),
        dict(examples_per_step=True),
        dict(examples_per_step="8"),
    ],
)
def test_bad_training_lengths(fields):
    (name,) = fields
    with pytest.raises(ValueError, match=name):
        TrainingLength(**fields)


def test_training_length_blocks_nest_and_end():
    assert durations.current_length() is None
    with training_length(total_steps=100) as outer:
        assert durations.current_length() is outer
        with training_length(total_steps=200):
            assert wj.linear_warmup(1.0, "10%").warmup_steps == 20
        assert wj.linear_warmup(1.0, "10%").warmup_steps == 10
    assert durations.current_length() is None
    with pytest.raises(ValueError, match="not both"):
        with training_length(TrainingLength(total_steps=3), total_steps=4):
            pass
    with pytest.raises(ValueError, match="TrainingLength"):
        with training_length({"total_steps": 3}):  # type: ignore[arg-type]
            pass


def test_training_length_is_per_thread():
    seen = []
    with training_length(total_steps=100):
        thread = threading.Thread(target=lambda: seen.append(durations.current_length()))
        thread.start()
        thread.join()
    assert seen == [None]


# -- expressions ----------------------------------------------------------------------------


def test_expressions_take_durations_quoted_or_not():
    length = TrainingLength(total_steps=1000, steps_per_epoch=50, tokens_per_step=10)
    unquoted = wj.parse(
        "linear_warmup(1.0, 10%) >> cosine_decay(1.0, 2ep) >> linear_decay(1.0, 5Ktok) "
        ">> constant(0.5) * step_lr(1.0, 1e2st)",
        length=length,
    )
    quoted = wj.parse(
        "linear_warmup(1.0, '10%') >> cosine_decay(1.0, \"2ep\") >> linear_decay(1.0, '5Ktok')"
        " >> constant(0.5) * step_lr(1.0, '1e2st')",
        length=length,
    )
    assert unquoted.to_config() == quoted.to_config()
    assert unquoted.arguments["boundaries"] == [100, 200, 700]
    with training_length(length):
        assert wj.parse("linear_warmup(1.0, w)", {"w": "10%"}).warmup_steps == 100


def test_expression_errors_point_at_the_call():
    with pytest.raises(ValueError, match=r"(?s)warmup_steps='10%'.*total_steps.*column 1"):
        wj.parse("linear_warmup(1.0, 10%)")
    with pytest.raises(ValueError, match="column"):
        wj.parse("linear_warmup(1.0, 2epochs)", length=TrainingLength(steps_per_epoch=2))
    # '%' outside a duration is still not an operator
    with pytest.raises(ValueError, match="unexpected character"):
        wj.parse("linear_warmup(1.0, 10 % 3)")


# -- configs --------------------------------------------------------------------------------


def test_a_hand_written_config_resolves_against_the_given_length():
    config = {"schedule": "linear_warmup", "arguments": {"peak_value": 1.0, "warmup_steps": "2ep"}}
    with pytest.raises(ValueError, match=r"config: .*warmup_steps='2ep'.*steps_per_epoch"):
        wj.from_config(config)
    s = wj.from_config(config, length=TrainingLength(steps_per_epoch=30))
    assert s.warmup_steps == 60 and s.durations == {"warmup_steps": "2ep"}
    with training_length(steps_per_epoch=30):
        assert wj.from_config(json.dumps(config)) == s


@pytest.mark.parametrize(
    "record",
    [
        "10%",
        {"init_value": "10%"},
        {"nonexistent": "10%"},
        {"warmup_steps": "ten"},
        {"warmup_steps": 3.5},
        {"warmup_steps": {"a": 1}},
    ],
)
def test_bad_durations_records_are_refused(record):
    config = {
        "schedule": "linear_warmup",
        "arguments": {"peak_value": 1.0, "warmup_steps": 10, "init_value": 0.0},
        "durations": record,
    }
    with pytest.raises(ValueError, match="config"):
        wj.from_config(config)


def test_the_record_does_not_change_values_when_the_context_changes():
    with training_length(total_steps=1000):
        s = wj.linear_warmup(1.0, "10%")
    with training_length(total_steps=50):  # the steps resolved at build time are kept
        again = wj.from_config(s.to_config())
    assert again.warmup_steps == 100


def test_schedule_by_name_takes_durations():
    with training_length(total_steps=1000):
        s = wj.schedule_by_name("cosine", 1e-3, num_warmup_steps="5%", num_training_steps="100%")
    assert s == wj.cosine_schedule_with_warmup(1e-3, 50, 1000)
    assert s.durations == {"num_warmup_steps": "5%", "num_training_steps": "100%"}


def test_boundaries_and_scales_with_durations_are_sorted_by_step():
    with training_length(total_steps=1000):
        s = wj.piecewise_interpolate("linear", 1.0, {"5%": 2.0, "50%": 0.5, 100: 0.9})
    assert s.arguments["boundaries_and_scales"] == [[50, 2.0], [100, 0.9], [500, 0.5]]


def test_from_epochs_is_unchanged():
    s = wj.from_epochs(1e-3, 2, 50)
    assert s.warmup_steps == 100 and s.durations == {}
    with training_length(steps_per_epoch=50):
        in_epochs = wj.warmup(1e-3, "2ep")
    np.testing.assert_array_equal(values(s, STEPS), values(in_epochs, STEPS))

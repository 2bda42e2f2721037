"""Bad settings raise ValueError naming the parameter, the value and what is accepted."""

import math

import pytest

import warmup_jax as wj

CASES = [
    # (constructor, kwargs, message fragment)
    (
        wj.linear_warmup,
        dict(peak_value=1.0, warmup_steps=0),
        r"warmup_steps must be an integer in \[1, 2147483647\], got 0",
    ),
    (
        wj.linear_warmup,
        dict(peak_value=1.0, warmup_steps=-5),
        r"warmup_steps must be an integer in \[1, .*got -5",
    ),
    (
        wj.linear_warmup,
        dict(peak_value=1.0, warmup_steps=10.0),
        r"warmup_steps must be an integer .* got 10.0 \(of type float\)",
    ),
    (
        wj.linear_warmup,
        dict(peak_value=1.0, warmup_steps=True),
        r"warmup_steps must be an integer .*got True",
    ),
    (
        wj.linear_warmup,
        dict(peak_value=1.0, warmup_steps=2**31),
        r"warmup_steps must be an integer in \[1, 2147483647\], got 2147483648",
    ),
    (
        wj.linear_warmup,
        dict(peak_value=0.0, warmup_steps=10),
        r"peak_value must be a finite number in \(0, inf\), got 0.0",
    ),
    (wj.linear_warmup, dict(peak_value=-1e-3, warmup_steps=10), r"peak_value must be .*got -0.001"),
    (
        wj.linear_warmup,
        dict(peak_value=math.nan, warmup_steps=10),
        r"peak_value must be a finite number .*got nan",
    ),
    (
        wj.linear_warmup,
        dict(peak_value=math.inf, warmup_steps=10),
        r"peak_value must be a finite number .*got inf",
    ),
    (
        wj.linear_warmup,
        dict(peak_value=1e39, warmup_steps=10),
        r"peak_value must be .*float32 can hold, got 1e\+39",
    ),
    (
        wj.linear_warmup,
        dict(peak_value="1e-3", warmup_steps=10),
        r"peak_value must be .*got '1e-3' \(of type str\)",
    ),
    (
        wj.linear_warmup,
        dict(peak_value=1.0, warmup_steps=10, init_value=-0.1),
        r"init_value must be a finite number in \[0, inf\), got -0.1",
    ),
    (
        wj.linear_warmup,
        dict(peak_value=1.0, warmup_steps=10, init_value=1e-40),
        r"init_value must be 0 or at least 1.175e-38",
    ),
    (
        wj.exponential_warmup,
        dict(peak_value=1.0, warmup_steps=10, init_value=0.0),
        r"init_value must be a finite number in \(0, 1\), got 0.0",
    ),
    (
        wj.exponential_warmup,
        dict(peak_value=1.0, warmup_steps=10, init_value=1.0),
        r"init_value must be a finite number in \(0, 1\), got 1.0",
    ),
    (
        wj.warmup,
        dict(peak_value=1.0, warmup_steps=10, warmup_type="cosine"),
        r"warmup_type must be one of 'linear', 'exponential', got 'cosine'",
    ),
    (
        wj.from_epochs,
        dict(peak_value=1.0, warmup_epochs=1, steps_per_epoch=0),
        r"steps_per_epoch must be an integer in \[1, .*got 0",
    ),
    (
        wj.from_epochs,
        dict(peak_value=1.0, warmup_epochs=0.001, steps_per_epoch=100),
        r"warmup_epochs \* steps_per_epoch must round to a step count in \[1, ",
    ),
    (
        wj.from_epochs,
        dict(peak_value=1.0, warmup_epochs=-1, steps_per_epoch=100),
        r"warmup_epochs must be a finite number in \(0, inf\)",
    ),
    (
        wj.with_warmup,
        dict(schedule=0.1, warmup_steps=10),
        r"schedule must be a schedule \(a callable step -> value\), got 0.1",
    ),
    (
        wj.untuned_linear_warmup,
        dict(base=1.0, b2=1.0),
        r"b2 must be a finite number in \(0, 1\), got 1.0",
    ),
    (
        wj.untuned_exponential_warmup,
        dict(base=-1.0),
        r"base must be a finite number in \[0, inf\), got -1.0",
    ),
    (wj.radam_warmup, dict(base=1.0, b2=0.5), r"b2 must be a finite number in \(0.6, 1\), got 0.5"),
    (
        wj.untuned_linear_warmup,
        dict(base=1.0, b2=1 - 1e-12),
        r"b2 gives a warmup period tau = .* outside \[1, 2147483647\]",
    ),
    (
        wj.cosine_decay,
        dict(init_value=1.0, decay_steps=0),
        r"decay_steps must be an integer in \[1, ",
    ),
    (
        wj.cosine_decay,
        dict(init_value=1.0, decay_steps=10, num_cycles=0),
        r"num_cycles must be a finite number in \(0, 1e\+06\], got 0.0",
    ),
    (
        wj.cosine_schedule_with_warmup,
        dict(peak_value=1.0, num_warmup_steps=1, num_training_steps=10, num_cycles=1e38),
        r"num_cycles must be a finite number in \(0, 1e\+06\], got 1e\+38",
    ),
    (
        wj.polynomial_decay,
        dict(init_value=1.0, decay_steps=10, power=-1),
        r"power must be a finite number in \(0, inf\), got -1.0",
    ),
    (
        wj.exponential_decay,
        dict(init_value=1.0, transition_steps=1, decay_rate=0.0),
        r"decay_rate must be a finite number in \(0, inf\), got 0.0",
    ),
    (
        wj.exponential_decay,
        dict(init_value=1.0, transition_steps=1, decay_rate=0.5, end_value=2.0),
        r"end_value must be a finite number in \[0, 1\], got 2.0",
    ),
    (
        wj.exponential_decay,
        dict(init_value=1.0, transition_steps=1, decay_rate=0.5, staircase="yes"),
        r"staircase must be True or False, got 'yes'",
    ),
    (
        wj.exponential_decay,
        dict(init_value=1.0, transition_steps=0, decay_rate=0.5),
        r"transition_steps must be an integer in \[1, ",
    ),
    (
        wj.exponential_decay,
        dict(init_value=1.0, transition_steps=1, decay_rate=0.5, transition_begin=-1),
        r"transition_begin must be an integer in \[0, ",
    ),
    (
        wj.piecewise_constant,
        dict(boundaries=[10, 5], values=[1, 2, 3]),
        r"boundaries must be strictly increasing, got \[10, 5\]",
    ),
    (
        wj.piecewise_constant,
        dict(boundaries=[10], values=[1]),
        r"values must have one more entry than boundaries \(2\), got 1",
    ),
    (
        wj.inverse_sqrt_decay,
        dict(init_value=1.0, timescale=0),
        r"timescale must be a finite number in \(0, inf\), got 0.0",
    ),
    (
        wj.join,
        dict(schedules=[wj.constant(1.0)], boundaries=[5]),
        r"boundaries must have one entry fewer than schedules \(0\), got 1",
    ),
    (
        wj.join,
        dict(schedules=[], boundaries=[]),
        r"schedules must be a non-empty list of schedules",
    ),
    (
        wj.multiply,
        dict(factors=[1.0, "x"]),
        r"factors\[1\] must be a finite number in \[0, inf\), got 'x'",
    ),
    (
        wj.warmup_stable_decay,
        dict(peak_value=1.0, warmup_steps=1, stable_steps=1, decay_steps=1, decay_type="exp"),
        r"decay_type must be one of 'linear', 'cosine', '1-sqrt', got 'exp'",
    ),
    (
        wj.cosine_schedule_with_warmup,
        dict(peak_value=1e-3, num_warmup_steps=200, num_training_steps=100),
        r"num_training_steps must be >= num_warmup_steps \(200\), got 100",
    ),
    (
        wj.cosine_schedule_with_warmup,
        dict(peak_value=1e-3, num_warmup_steps=-1, num_training_steps=100),
        r"num_warmup_steps must be an integer in \[0, ",
    ),
    (
        wj.cosine_schedule_with_warmup,
        dict(peak_value=1e-3, num_warmup_steps=10, num_training_steps=100, warmup_type="cosine"),
        r"warmup_type must be one of 'linear', 'exponential', got 'cosine'",
    ),
    (
        wj.cosine_with_hard_restarts_schedule_with_warmup,
        dict(peak_value=1e-3, num_warmup_steps=1, num_training_steps=10, num_cycles=1.5),
        r"num_cycles must be an integer",
    ),
    (
        wj.polynomial_decay_schedule_with_warmup,
        dict(peak_value=1e-3, num_warmup_steps=1, num_training_steps=10, lr_end=1e-2),
        r"lr_end \(0.01\) must be smaller than peak_value \(0.001\)",
    ),
    (
        wj.cosine_with_min_lr_schedule_with_warmup,
        dict(peak_value=1e-3, num_warmup_steps=1, num_training_steps=10),
        r"one of min_lr .* or min_lr_rate .* is required",
    ),
    (
        wj.cosine_with_min_lr_schedule_with_warmup,
        dict(
            peak_value=1e-3, num_warmup_steps=1, num_training_steps=10, min_lr=1e-5, min_lr_rate=0.1
        ),
        r"give only one of min_lr or min_lr_rate",
    ),
    (
        wj.wsd_schedule,
        dict(peak_value=1e-3, num_warmup_steps=10, num_decay_steps=10),
        r"give num_training_steps or num_stable_steps",
    ),
    (
        wj.wsd_schedule,
        dict(peak_value=1e-3, num_warmup_steps=10, num_decay_steps=10, num_training_steps=15),
        r"num_training_steps \(15\) must be at least num_warmup_steps \+ num_decay_steps \(20\)",
    ),
    (
        wj.wsd_schedule,
        dict(
            peak_value=1e-3,
            num_warmup_steps=10,
            num_decay_steps=10,
            num_stable_steps=5,
            decay_type="exp",
        ),
        r"decay_type must be one of",
    ),
    (
        wj.schedule_by_name,
        dict(name="cosine_annealing", peak_value=1e-3),
        r"name must be one of 'linear', 'cosine'",
    ),
    (
        wj.schedule_by_name,
        dict(name="cosine", peak_value=1e-3, num_warmup_steps=10),
        r"schedule 'cosine' requires num_training_steps",
    ),
    (
        wj.schedule_by_name,
        dict(name="cosine", peak_value=1e-3, num_warmup_steps=1, num_training_steps=9, lr_end=0.0),
        r"schedule 'cosine' does not take lr_end; it takes: ",
    ),
    (
        wj.schedule_by_name,
        dict(name="reduce_lr_on_plateau", peak_value=1e-3, patience=2),
        r"does not take patience; its settings .* go to warmup_jax.plateau.PlateauSettings",
    ),
]


@pytest.mark.parametrize(
    "constructor, kwargs, message",
    CASES,
    ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(CASES)],
)
def test_bad_setting_raises_a_value_error_that_says_what_is_wrong(constructor, kwargs, message):
    with pytest.raises(ValueError, match=message):
        constructor(**kwargs)


def test_wrong_keyword_is_a_type_error_naming_the_schedule():
    with pytest.raises(
        TypeError, match=r"linear_warmup\(\): missing a required argument: 'peak_value'"
    ):
        wj.linear_warmup(peak=1.0, warmup_steps=10)


def test_both_stable_and_training_steps_warns_like_transformers():
    with pytest.warns(UserWarning, match="num_stable_steps is used"):
        schedule = wj.wsd_schedule(1.0, 1, 1, num_training_steps=100, num_stable_steps=2)
    assert float(schedule(3)) == 1.0 and float(schedule(4)) == 0.0
    with pytest.raises(
        TypeError, match=r"linear_warmup\(\): got an unexpected keyword argument 'peek'"
    ):
        wj.linear_warmup(1.0, 10, peek=1.0)

"""Every schedule saves to JSON and comes back with the same value at every step."""

import json

import numpy as np
import pytest

import warmup_jax as wj
from tests.warmup_jax.conftest import values

EXAMPLES = {
    "linear_warmup": dict(peak_value=1e-3, warmup_steps=10, init_value=1e-5),
    "exponential_warmup": dict(peak_value=1e-3, warmup_steps=10),
    "warmup": dict(peak_value=1e-3, warmup_steps=10, warmup_type="exponential"),
    "from_epochs": dict(peak_value=1e-3, warmup_epochs=1.5, steps_per_epoch=20),
    "with_warmup": dict(
        schedule=wj.cosine_decay(1e-3, 100), warmup_steps=10, warmup_type="exponential"
    ),
    "untuned_linear_warmup": dict(base=wj.linear_decay(1e-3, 300), b2=0.99),
    "untuned_exponential_warmup": dict(base=1e-3, b2=0.95),
    "radam_warmup": dict(base=1e-3, b2=0.99),
    "constant": dict(value=3e-4),
    "cosine_decay": dict(init_value=1e-3, decay_steps=100, end_value=1e-5, num_cycles=0.75),
    "linear_decay": dict(init_value=1e-3, decay_steps=100),
    "polynomial_decay": dict(init_value=1e-3, decay_steps=100, power=0.5),
    "one_minus_sqrt_decay": dict(init_value=1e-3, decay_steps=100),
    "exponential_decay": dict(
        init_value=1e-3, transition_steps=7, decay_rate=0.9, transition_begin=3, staircase=True
    ),
    "piecewise_constant": dict(boundaries=(20, 60), values=(1e-3, 5e-4, 1e-4)),
    "inverse_sqrt_decay": dict(init_value=1e-3, timescale=50),
    "join": dict(
        schedules=[wj.linear_warmup(1e-3, 10), wj.cosine_decay(1e-3, 90)], boundaries=[10]
    ),
    "multiply": dict(factors=[3e-4, wj.linear_warmup(1.0, 10), wj.inverse_sqrt_decay(1.0, 10)]),
    "warmup_stable_decay": dict(
        peak_value=1e-3, warmup_steps=10, stable_steps=50, decay_steps=40, decay_type="1-sqrt"
    ),
    "cyclic_schedule": dict(
        peak_value=1e-3,
        first_cycle_steps=30,
        cycle_mul=1.5,
        cycle_decay=0.8,
        warmup_steps=5,
        warmup_type="exponential",
    ),
    "rewarmup": dict(
        schedule=wj.linear_schedule_with_warmup(1e-3, 10, 100),
        at_step=100,
        peak_value=5e-4,
        warmup_steps=10,
        decay_schedule=wj.cosine_decay(5e-4, 100),
    ),
    "constant_schedule": dict(peak_value=1e-3),
    "constant_schedule_with_warmup": dict(peak_value=1e-3, num_warmup_steps=10),
    "linear_schedule_with_warmup": dict(
        peak_value=1e-3, num_warmup_steps=10, num_training_steps=100
    ),
    "cosine_schedule_with_warmup": dict(
        peak_value=1e-3, num_warmup_steps=10, num_training_steps=100, warmup_type="exponential"
    ),
    "cosine_with_hard_restarts_schedule_with_warmup": dict(
        peak_value=1e-3, num_warmup_steps=10, num_training_steps=100, num_cycles=3
    ),
    "polynomial_decay_schedule_with_warmup": dict(
        peak_value=1e-3, num_warmup_steps=10, num_training_steps=100, power=2.0
    ),
    "inverse_sqrt_schedule": dict(peak_value=1e-3, num_warmup_steps=10),
    "cosine_with_min_lr_schedule_with_warmup": dict(
        peak_value=1e-3, num_warmup_steps=10, num_training_steps=100, min_lr=1e-5
    ),
    "wsd_schedule": dict(
        peak_value=1e-3,
        num_warmup_steps=10,
        num_decay_steps=20,
        num_training_steps=100,
        decay_type="1-sqrt",
    ),
    # Shapes from optax, Keras, DeepSpeed, the Transformer paper and fairseq.
    "piecewise_interpolate": dict(
        interpolate_type="cosine", init_value=1e-3, boundaries_and_scales={50: 0.1, 150: 0.5}
    ),
    "linear_onecycle": dict(transition_steps=200, peak_value=1e-3, pct_final=0.7),
    "cosine_onecycle": dict(transition_steps=200, peak_value=1e-3, pct_start=0.25),
    "inverse_time_decay": dict(init_value=1e-3, decay_steps=10, decay_rate=0.5, staircase=True),
    "cosine_decay_restarts": dict(
        init_value=1e-3, first_decay_steps=20, t_mul=1.5, m_mul=1.2, alpha=0.1
    ),
    "log_warmup": dict(peak_value=1e-3, warmup_steps=50, init_value=1e-5),
    "noam_schedule": dict(d_model=256, warmup_steps=40, scale=2.0, step_offset=1),
    "tri_stage": dict(peak_value=1e-3, warmup_steps=20, hold_steps=30, decay_steps=40),
    # The PyTorch family.
    "step_lr": dict(lr=0.1, step_size=30, gamma=0.5),
    "multi_step_lr": dict(lr=0.1, milestones=[30, 80, 80], gamma=0.1),
    "constant_lr": dict(lr=0.1, factor=0.25, total_iters=40),
    "linear_lr": dict(lr=0.1, start_factor=0.1, end_factor=1.0, total_iters=40),
    "exponential_lr": dict(lr=0.1, gamma=0.99),
    "polynomial_lr": dict(lr=0.1, total_iters=150, power=2.0),
    "cosine_annealing_lr": dict(lr=0.1, T_max=100, eta_min=1e-3),
    "cosine_annealing_warm_restarts": dict(lr=0.1, T_0=20, T_mult=2, eta_min=1e-3),
    "cyclic_lr": dict(base_lr=1e-4, max_lr=1e-2, step_size_up=20, mode="triangular2"),
    "cyclic_momentum": dict(base_lr=1e-4, max_lr=1e-2, step_size_up=20, step_size_down=30),
    "one_cycle_lr": dict(max_lr=1e-2, total_steps=300, three_phase=True),
    "one_cycle_momentum": dict(max_lr=1e-2, total_steps=300, anneal_strategy="linear"),
    "sequential_lr": dict(
        schedulers=[wj.linear_lr(0.1, 0.1, total_iters=10), wj.exponential_lr(0.1, 0.98)],
        milestones=[10],
    ),
    "chained_scheduler": dict(
        lr=0.1, schedulers=[wj.constant_lr(0.1, 0.5, 5), wj.exponential_lr(0.1, 0.99)]
    ),
}


def test_every_registered_schedule_has_an_example():
    assert set(EXAMPLES) == set(wj.registered_names())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_round_trip_through_json_gives_identical_values(name):
    schedule = getattr(wj, name)(**EXAMPLES[name])
    text = json.dumps(schedule.to_config())
    rebuilt = wj.from_config(json.loads(text))
    assert rebuilt == schedule
    assert rebuilt.to_config() == json.loads(text)
    assert rebuilt.warmup_steps == schedule.warmup_steps
    assert rebuilt.end_step == schedule.end_step
    steps = np.concatenate([np.arange(0, 400), [10_000, 2**31 - 1]])
    np.testing.assert_array_equal(values(rebuilt, steps), values(schedule, steps))
    assert wj.from_config(schedule.to_json()) == schedule


def test_config_names_the_constructor_and_its_arguments():
    config = wj.cosine_schedule_with_warmup(5e-5, 100, 1000).to_config()
    assert config == {
        "schedule": "cosine_schedule_with_warmup",
        "arguments": {
            "peak_value": 5e-5,
            "num_warmup_steps": 100,
            "num_training_steps": 1000,
            "num_cycles": 0.5,
            "warmup_type": "linear",
            "warmup_one_step_ahead": False,
        },
    }
    # with_warmup's own argument is called "schedule": arguments live apart from the name.
    nested = wj.with_warmup(wj.linear_decay(1.0, 10), 5).to_config()
    assert nested == {
        "schedule": "with_warmup",
        "arguments": {
            "schedule": {
                "schedule": "linear_decay",
                "arguments": {"init_value": 1.0, "decay_steps": 10, "end_value": 0.0},
            },
            "warmup_steps": 5,
            "warmup_type": "linear",
            "init_value": None,
            "warmup_one_step_ahead": False,
        },
    }


def test_different_settings_are_not_equal():
    assert wj.linear_warmup(1e-3, 10) != wj.linear_warmup(1e-3, 11)
    assert wj.linear_warmup(1e-3, 10) == wj.linear_warmup(1e-3, 10)
    assert len({wj.linear_warmup(1e-3, 10), wj.linear_warmup(1e-3, 10)}) == 1


@pytest.mark.parametrize(
    "config, message",
    [
        ({"arguments": {"peak_value": 1.0}}, "must be a dict {'schedule': NAME"),
        ({"schedule": "linear_warmup", "peak_value": 1.0}, "must be a dict {'schedule': NAME"),
        ({"schedule": "no_such_schedule"}, "unknown schedule 'no_such_schedule'"),
        (
            {"schedule": "linear_warmup", "arguments": {"peak_value": 1.0}},
            "does not fit its arguments",
        ),
        (
            {
                "schedule": "linear_warmup",
                "arguments": {"peak_value": 1.0, "warmup_steps": 5, "bogus": 1},
            },
            "does not fit its arguments",
        ),
        (
            {"schedule": "linear_warmup", "arguments": {"peak_value": -1.0, "warmup_steps": 5}},
            "peak_value must be",
        ),
        ([1, 2], "must be a dict"),
    ],
)
def test_bad_configs_are_refused_with_a_message(config, message):
    with pytest.raises(ValueError, match=message):
        wj.from_config(config)


def test_configs_written_before_an_argument_existed_still_load():
    old = {"schedule": "linear_warmup", "arguments": {"peak_value": 1.0, "warmup_steps": 4}}
    assert wj.from_config(old) == wj.linear_warmup(1.0, 4)

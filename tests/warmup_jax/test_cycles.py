"""Warm restarts with re-warmup, and rewarmup for continued training."""

import math

import numpy as np
import pytest

import warmup_jax as wj
from tests.warmup_jax.conftest import values


def timm_cosine(
    t,
    *,
    t_initial,
    lr_max,
    lr_min=0.0,
    cycle_mul=1.0,
    cycle_decay=1.0,
    cycle_limit=1,
    warmup_t=0,
    warmup_lr_init=0.0,
    warmup_prefix=True,
):
    """timm.scheduler.CosineLRScheduler._get_lr (k_decay=1) for one parameter group, in float64."""
    if t < warmup_t:
        return warmup_lr_init + t * (lr_max - warmup_lr_init) / warmup_t
    if warmup_prefix:
        t = t - warmup_t
    if cycle_mul != 1:
        i = math.floor(math.log(1 - t / t_initial * (1 - cycle_mul), cycle_mul))
        t_i = cycle_mul**i * t_initial
        t_curr = t - (1 - cycle_mul**i) / (1 - cycle_mul) * t_initial
    else:
        i = t // t_initial
        t_i = t_initial
        t_curr = t - (t_initial * i)
    if i >= cycle_limit:
        return lr_min
    peak = lr_max * cycle_decay**i
    return lr_min + 0.5 * (peak - lr_min) * (1 + math.cos(math.pi * t_curr / t_i))


@pytest.mark.parametrize(
    "settings",
    [
        dict(t_initial=100, cycle_mul=1.0, cycle_decay=0.5, cycle_limit=4),
        dict(t_initial=50, cycle_mul=2.0, cycle_decay=0.7, cycle_limit=4, lr_min=1e-5),
        dict(
            t_initial=30,
            cycle_mul=1.5,
            cycle_decay=0.9,
            cycle_limit=5,
            warmup_t=10,
            warmup_lr_init=1e-5,
        ),
        dict(t_initial=64, cycle_mul=1.0, cycle_decay=1.0, cycle_limit=3, warmup_t=16),
    ],
)
def test_matches_timm_cosine_scheduler(settings):
    peak = 1e-3
    schedule = wj.cyclic_schedule(
        peak,
        settings["t_initial"],
        cycle_mul=settings["cycle_mul"],
        cycle_decay=settings["cycle_decay"],
        cycle_limit=settings["cycle_limit"],
        warmup_steps=settings.get("warmup_t", 0),
        warmup_every_cycle=False,
        end_value=settings.get("lr_min", 0.0),
        init_value=settings.get("warmup_lr_init", 0.0),
    )
    steps = np.arange(0, 1000)
    expected = [timm_cosine(int(t), lr_max=peak, **settings) for t in steps]
    np.testing.assert_allclose(values(schedule, steps), expected, rtol=2e-6, atol=2e-9)


def test_restarts_are_exact_at_cycle_boundaries():
    schedule = wj.cyclic_schedule(1.0, 10, cycle_mul=2.0, cycle_decay=0.5, cycle_limit=3)
    # Cycles start at 0, 10 and 30 and end at 70.
    got = values(schedule, [0, 9, 10, 29, 30, 69, 70, 10**9])
    assert got[0] == 1.0 and got[2] == 0.5 and got[4] == 0.25
    assert 0 < got[1] < 0.1 and 0 < got[3] < 0.01 and 0 < got[5] < 0.001
    assert got[6] == 0.0 and got[7] == 0.0


@pytest.mark.parametrize("strategy", ["linear", "exponential"])
def test_every_cycle_warms_up_to_its_own_decayed_peak(strategy):
    schedule = wj.cyclic_schedule(
        1.0,
        20,
        cycle_decay=0.5,
        warmup_steps=5,
        warmup_type=strategy,
        cycle_limit=3,
        decay_type="linear",
        end_value=0.0,
    )
    got = values(schedule, np.arange(0, 62))
    start = 0.0 if strategy == "linear" else 1e-3
    for cycle in range(3):
        peak = 0.5**cycle
        first = 20 * cycle
        assert got[first] == np.float32(start * peak)
        assert got[first + 5] == np.float32(peak)  # the warmup ends exactly on this cycle's peak
        assert np.all(np.diff(got[first : first + 6]) > 0)
        np.testing.assert_allclose(
            got[first + 5 : first + 20], peak * (1 - np.arange(15) / 15), rtol=1e-6
        )
    assert got[60] == 0.0 and got[61] == 0.0
    assert schedule.warmup_steps == 5


def test_polynomial_cycles_and_unlimited_cycles_stay_finite():
    schedule = wj.cyclic_schedule(1.0, 7, cycle_decay=0.9, decay_type="polynomial", power=2.0)
    got = values(schedule, [0, 3, 7, 14, 2**31 - 1])
    np.testing.assert_allclose(got[:4], [1.0, (4 / 7) ** 2, 0.9, 0.81], rtol=1e-6)
    assert np.isfinite(got[4]) and got[4] >= 0


def test_cycle_errors():
    with pytest.raises(
        ValueError, match=r"warmup_steps \(10\) must be shorter than first_cycle_steps \(10\)"
    ):
        wj.cyclic_schedule(1.0, 10, warmup_steps=10)
    with pytest.raises(
        ValueError, match=r"cycle_mul must be a finite number in \[1, 1000\], got 0.5"
    ):
        wj.cyclic_schedule(1.0, 10, cycle_mul=0.5)
    with pytest.raises(ValueError, match=r"more than 10000 cycles before step"):
        wj.cyclic_schedule(1.0, 1, cycle_mul=1.0001)
    with pytest.raises(
        ValueError, match=r"decay_type must be one of 'cosine', 'linear', 'polynomial'"
    ):
        wj.cyclic_schedule(1.0, 10, decay_type="step")


class TestRewarmup:
    def test_continues_a_finished_run_from_its_last_learning_rate(self):
        old = wj.cosine_schedule_with_warmup(1e-3, 100, 1000)
        new = wj.rewarmup(
            old, 1000, peak_value=5e-4, warmup_steps=50, decay_schedule=wj.cosine_decay(5e-4, 450)
        )
        steps = np.arange(0, 1600)
        got, before = values(new, steps), values(old, steps)
        np.testing.assert_array_equal(got[:1000], before[:1000])  # the past is unchanged
        assert got[1000] == before[1000] == 0.0
        assert got[1050] == np.float32(5e-4)
        np.testing.assert_allclose(got[1025], 2.5e-4, rtol=1e-6)
        assert got[1500] == 0.0
        assert new.warmup_steps == 1050

    def test_from_a_stable_phase_and_exponential(self):
        old = wj.wsd_schedule(1e-3, 10, 10, num_stable_steps=1000)
        new = wj.rewarmup(old, 500, peak_value=2e-3, warmup_steps=4, warmup_type="exponential")
        got = values(new, [499, 500, 502, 504, 10_000])
        np.testing.assert_allclose(got, [1e-3, 1e-3, math.sqrt(2) * 1e-3, 2e-3, 2e-3], rtol=1e-6)
        assert got[3] == np.float32(2e-3)

    def test_round_trips_and_refuses_bad_settings(self):
        old = wj.linear_schedule_with_warmup(1e-3, 10, 100)
        new = wj.rewarmup(old, 100, 1e-3, 10, decay_schedule=wj.linear_decay(1e-3, 90))
        assert wj.from_config(new.to_config()) == new
        with pytest.raises(ValueError, match=r"is above the new peak_value"):
            wj.rewarmup(old, 50, peak_value=1e-4, warmup_steps=10)
        with pytest.raises(ValueError, match=r"exponential rewarmup needs a value > 0 at step 100"):
            wj.rewarmup(old, 100, 1e-3, 10, warmup_type="exponential")


def test_peaks_may_grow_as_keras_m_mul_allows_but_must_fit_float32():
    schedule = wj.cyclic_schedule(1.0, 10, cycle_decay=1.5, cycle_limit=3)
    np.testing.assert_array_equal(values(schedule, [0, 10, 20]), np.float32([1.0, 1.5, 2.25]))
    with pytest.raises(ValueError, match="grows the peak past float32's range"):
        wj.cyclic_schedule(1.0, 10, cycle_decay=1.5)  # as many cycles as fit before 2**31


def test_keras_restarts_restart_on_whole_steps_at_their_heights():
    schedule = wj.cosine_decay_restarts(2.0, 10, t_mul=2.0, m_mul=1.5, alpha=0.25)
    # Cycles start at 0, 10, 30, 70: the floor is 0.25 * 2.0, the heights grow by 1.5.
    got = values(schedule, [0, 10, 30, 70])
    np.testing.assert_allclose(
        got, [2.0, 0.5 + 1.5 * 1.5, 0.5 + 1.5 * 2.25, 0.5 + 1.5 * 3.375], rtol=1e-6
    )
    assert schedule.end_step is None

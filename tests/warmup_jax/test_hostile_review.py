"""What a hostile review of the library found, each kept as a test (all failed before the fix)."""

import array
import collections
import enum
import fractions
import math
import os
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import warmup_jax as wj
from warmup_jax.__main__ import main
from warmup_jax.warmups import _RAdamRectifier

LAST = 2**31 - 1


class TestExponentialDecay:
    def test_a_zero_start_stays_zero_even_when_growing(self):
        for schedule in (
            wj.exponential_decay(0.0, 1, 2.0),
            wj.exponential_decay(0.0, 1, 2.0, 0, False, 1.0),
        ):
            np.testing.assert_array_equal(np.asarray(jax.jit(schedule)(jnp.arange(300))), 0.0)
            assert schedule.end_step == 0

    def test_growth_to_a_ceiling_never_overflows_into_nan(self):
        schedule = wj.exponential_decay(1e-30, 1, 2.0, end_value=1.0)
        got = np.asarray(jax.jit(schedule)(jnp.asarray([0, 50, 99, 100, 200, LAST])))
        assert np.isfinite(got).all() and got[-1] == 1.0 and got[-2] == 1.0

    @pytest.mark.parametrize(
        "args",
        [
            (0.37, 10, 0.999999999, 0, False, 0.3699991777033282),
            (0.1, 350, 2.0, 494, False, 0.2),
            (0.37, 10, 0.99999999, 0, True, 0.3699999778),
        ],
    )
    def test_end_step_is_the_first_step_at_the_bound_and_it_is_exact_there(self, args):
        schedule = wj.exponential_decay(*args)
        end, bound = schedule.end_step, np.float32(args[-1])
        for evaluate in (schedule, jax.jit(schedule)):
            assert np.asarray(evaluate(end)) == bound
            assert np.asarray(evaluate(end + 1)) == bound
        # The first step at the bound, not a later one: the one before is not at it yet.
        assert np.asarray(schedule(end - 1)) != bound


def test_sequences_of_any_kind_count_towards_the_depth_limit():
    schedule = wj.constant(1.0)
    with pytest.raises(ValueError, match="nest at most"):
        for _ in range(100):
            schedule = wj.multiply(collections.deque([schedule]))


class TestWrappingATransformersSchedule:
    """transformers' cosine goes on past num_training_steps; a wrapper must not claim it holds."""

    def test_values_past_int32_are_refused_not_made_up(self):
        cosine = wj.cosine_schedule_with_warmup(1.0, 0, 100)
        for wrapped in (2.0 * cosine, wj.linear_warmup(1.0, 10) >> cosine, wj.multiply([cosine])):
            with pytest.raises(ValueError, match="still changes"):
                wrapped(2**40)
        assert np.isnan(float(jax.jit(wj.multiply([cosine]))(jnp.uint32(2**32 - 1))))

    def test_but_a_settled_one_still_gives_its_end_value(self):
        linear = wj.linear_schedule_with_warmup(1.0, 0, 100)
        assert float((2.0 * linear)(2**40)) == 0.0


def test_untuned_exponential_warmup_with_b2_near_1_works():
    schedule = wj.untuned_exponential_warmup(1.0, b2=0.999999995)
    assert float(schedule(0)) == pytest.approx(5e-9, rel=1e-3)
    assert schedule.end_step is None  # its factor reaches 1 only past the last step


class TestRAdam:
    def test_no_int32_wrap_near_the_last_step(self):
        schedule = wj.radam_warmup(1.0, b2=1 - 1e-9)
        got = np.asarray(jax.jit(schedule)(jnp.asarray([LAST - 6, LAST - 5, LAST - 2], jnp.int32)))
        assert np.all(got > 0.8) and np.all(np.diff(got) >= 0)
        assert schedule.end_step is None

    @pytest.mark.parametrize(
        "b2", [0.6000001, 0.61, 0.65, 0.7, 0.8, 0.9, 0.99, 0.999, 0.9999, 0.99999]
    )
    def test_within_4e_7_of_pytorch_warmups_float64_values(self, b2):
        # pytorch_warmup's own formula (rho_fn, get_offset, radam factor) in float64.
        r_inf = 2.0 / (1.0 - b2) - 1.0

        def rho(t):
            return r_inf - 2.0 * t * b2**t / (1.0 - b2**t)

        offset = 1
        while rho(offset) <= 4:
            offset += 1
        rectifier = _RAdamRectifier(b2)
        last = min(rectifier.full_step or 200_000, 200_000)
        steps = np.unique(np.concatenate([np.arange(min(last, 3000)), np.linspace(0, last, 500)]))
        steps = steps.astype(np.int64)
        expected = np.asarray(
            [
                min(1.0, math.sqrt((r - 4) * (r - 2) * r_inf / ((r_inf - 4) * (r_inf - 2) * r)))
                for r in (rho(int(k) + offset) for k in steps)
            ]
        )
        schedule = wj.radam_warmup(1.0, b2)
        for got in (jax.jit(schedule)(jnp.asarray(steps, jnp.int32)), schedule(steps)):
            np.testing.assert_allclose(np.asarray(got, np.float64), expected, rtol=4e-7, atol=0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: wj.constant(3e38) * wj.constant(3e38),
        lambda: 1e-30 * wj.constant(1e-30),
        lambda: wj.parse("1e30 * 1e30 * constant(1.0)"),
    ],
)
def test_a_product_float32_cannot_hold_is_refused(make):
    with pytest.raises(ValueError, match="float32"):
        make()


@pytest.mark.parametrize(
    "config",
    [
        {"schedule": "constant", "arguments": {(1, 2): 3}},
        "self",
    ],
)
def test_odd_python_configs_are_value_errors(config):
    if config == "self":
        config = {"schedule": "constant"}
        config["arguments"] = {"value": config}
    with pytest.raises(ValueError) as error:
        wj.from_config(config)
    assert len(str(error.value)) < 600


class Size(enum.IntEnum):
    TEN = 10


@pytest.mark.parametrize(
    "odd, plain",
    [
        (lambda: wj.constant(fractions.Fraction(1, 4)), lambda: wj.constant(0.25)),
        (lambda: wj.linear_warmup(1.0, Size.TEN), lambda: wj.linear_warmup(1.0, 10)),
        (lambda: wj.constant(np.longdouble(0.5)), lambda: wj.constant(0.5)),
        (
            lambda: wj.piecewise_constant(range(1, 3), collections.deque([1.0, 0.5, 0.25])),
            lambda: wj.piecewise_constant([1, 2], [1.0, 0.5, 0.25]),
        ),
        (
            lambda: wj.piecewise_constant(array.array("i", [1, 2]), (1.0, 0.5, 0.25)),
            lambda: wj.piecewise_constant([1, 2], [1.0, 0.5, 0.25]),
        ),
    ],
)
def test_arguments_of_any_number_or_sequence_type_are_stored_plain(odd, plain):
    schedule, expected = odd(), plain()
    assert schedule == expected and hash(schedule) == hash(expected)
    assert schedule.to_json() == expected.to_json() and repr(schedule) == repr(expected)
    assert wj.parse(repr(schedule)) == expected


def test_equal_schedules_around_a_plain_callable_hash_equal():
    plain = optax.constant_schedule(1.0)
    assert hash(wj.with_warmup(plain, 10)) == hash(wj.with_warmup(plain, 10))


def test_an_unknown_huge_keyword_gives_a_short_message():
    with pytest.raises(ValueError) as error:
        wj.parse("constant(value=1, " + "x" * 100_000 + "=1)")
    assert len(str(error.value)) < 1000


@pytest.mark.parametrize(
    "make",
    [
        lambda: wj.with_warmup(lambda step: np.ones(3), 10),
        lambda: wj.rewarmup(lambda step: None, 10, 1.0, 5),
        lambda: wj.with_warmup(lambda step: 1 / 0, 10),
    ],
)
def test_a_users_callable_that_misbehaves_is_a_value_error(make):
    with pytest.raises(ValueError, match="the schedule failed at step"):
        make()


@pytest.mark.parametrize(
    "make",
    [
        lambda: wj.cosine_decay(1e-40, 10),
        lambda: wj.linear_decay(1.0, 10, end_value=1e-40),
        lambda: wj.piecewise_constant([5], [1.0, 1e-40]),
        lambda: wj.constant(1e-39),
    ],
)
def test_denormal_values_are_refused_everywhere(make):
    with pytest.raises(ValueError, match="float32's smallest normal number"):
        make()


class TestPrecisionNearZero:
    def test_transformers_cosine_over_a_billion_steps(self):
        total = 2**30 + 1
        schedule = wj.cosine_schedule_with_warmup(1.0, 0, total)
        for left in (1, 100, 10_000):
            expected = math.sin(0.5 * math.pi * left / total) ** 2
            got = float(jax.jit(schedule)(jnp.int32(total - left)))
            assert got == pytest.approx(expected, rel=1e-6)

    @pytest.mark.parametrize("decay_type", ["cosine", "linear", "polynomial"])
    def test_long_cycles(self, decay_type):
        length = 2**30 - 1
        schedule = wj.cyclic_schedule(1.0, length, decay_type=decay_type, power=2.0)
        for left in (1, 100, 10_000):
            p = left / length
            expected = {
                "cosine": math.sin(0.5 * math.pi * p) ** 2,
                "linear": p,
                "polynomial": p * p,
            }
            got = float(jax.jit(schedule)(jnp.int32(length - left)))
            assert got == pytest.approx(expected[decay_type], rel=1e-5)

    def test_wsd_cosine_warmup(self):
        schedule = wj.wsd_schedule(1.0, 10_000, 10, num_stable_steps=5, warmup_type="cosine")
        assert float(schedule(1)) == pytest.approx(0.5 * (1 - math.cos(math.pi / 10_000)), rel=1e-6)


def test_cyclic_peaks_are_rounded_once():
    schedule = wj.cyclic_schedule(1.0, 10, cycle_decay=0.1, cycle_limit=5)
    got = np.asarray(jax.jit(schedule)(jnp.asarray([0, 10, 20, 30, 40])))
    np.testing.assert_array_equal(got, np.float32([1.0, 0.1, 0.01, 0.001, 0.0001]))


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16, jnp.float8_e4m3fn])
def test_low_precision_float_steps_are_floored(dtype):
    schedule = wj.linear_warmup(1.0, 10)
    step = jnp.asarray([3.5], dtype)
    assert float(schedule(step)[0]) == float(schedule(3)) == float(jax.jit(schedule)(step)[0])


class TestExpressionsAreStillPython:
    def test_leading_numbers_multiply_first(self):
        ramp = wj.linear_warmup(1.0, 10)
        assert wj.parse("2 * 3 * linear_warmup(1.0, 10)") == 2 * 3 * ramp
        assert wj.parse("linear_warmup(1.0, 10) * 2 * 3") == ramp * 2 * 3

    def test_the_empty_tuple(self):
        assert wj.parse("piecewise_constant((), [1.0])") == wj.piecewise_constant([], [1.0])

    def test_leading_zeros_are_refused(self):
        with pytest.raises(ValueError, match="leading zeros"):
            wj.parse("linear_warmup(1.0, 010)")
        assert wj.parse("constant(0)") == wj.constant(0) and wj.parse("constant(0.5)")


class TestCli:
    def _exit(self, argv, capsys):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        return exit_info.value.code, capsys.readouterr().err

    def test_a_transformers_name_with_a_clashing_keyword(self, capsys):
        argv = ["table", "cosine", "3e-4", "name=x", "num_warmup_steps=1", "num_training_steps=10"]
        code, err = self._exit(argv, capsys)
        assert code == 2 and "takes no argument called 'name'" in err

    def test_names_that_are_both_pick_by_their_arguments(self, capsys):
        argv = ["table", "--json", "constant", "3e-4", "num_warmup_steps=10", "--steps", "5"]
        assert main(argv) == 0  # transformers' constant ignores the warmup, as get_scheduler does
        argv = [
            "table",
            "--json",
            "warmup_stable_decay",
            "1.0",
            "num_warmup_steps=2",
            "num_decay_steps=2",
            "num_training_steps=8",
            'decay_type="linear"',
            "--steps",
            "1",
        ]
        assert main(argv) == 0
        assert '"lr": 0.5' in capsys.readouterr().out

    def test_list_keeps_table_names_apart_from_helpers(self, capsys):
        main(["list"])
        out = capsys.readouterr().out
        helpers = out.split("Also callable in expressions")[1]
        assert "schedule_by_name(" in helpers and "scale_peak_lr(" in helpers
        assert "schedule_by_name(" not in out.split("Also callable in expressions")[0]

    def test_plot_reports_the_file_it_wrote(self, tmp_path, capsys):
        pytest.importorskip("matplotlib")
        assert main(["plot", "linear_warmup", "1.0", "10", "--out", str(tmp_path / "lr")]) == 0
        assert f"wrote {tmp_path / 'lr.png'}" in capsys.readouterr().out
        assert (tmp_path / "lr.png").is_file()

    def test_the_default_horizon_of_a_huge_warmup(self, capsys):
        argv = ["table", "inverse_sqrt_schedule", "1.0", "num_warmup_steps=1000000000", "--json"]
        assert main(argv) == 0
        assert '"step": 2147483647' in capsys.readouterr().out

    @pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
    def test_a_fifo_as_config_does_not_hang(self, tmp_path, capsys):
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        code, err = self._exit(["table", "--config", str(fifo)], capsys)
        assert code == 2 and "is not a regular file" in err

    def test_a_config_with_a_byte_order_mark_loads(self, tmp_path, capsys):
        path = pathlib.Path(tmp_path / "schedule.json")
        path.write_bytes(b"\xef\xbb\xbf" + wj.constant(0.5).to_json().encode())
        assert main(["table", "--config", str(path), "--json", "--steps", "3"]) == 0
        assert '"lr": 0.5' in capsys.readouterr().out


def test_a_legacy_step_decay_with_a_bool_gamma_is_refused():
    config = {
        "schedule": "step_decay",
        "arguments": {"init_value": 1.0, "step_size": 5, "gamma": False},
    }
    with pytest.raises(ValueError, match="decay_rate must be"):
        wj.from_config(config)


def test_hard_restarts_restart_on_the_exact_step_where_transformers_float64_does_not():
    # transformers: (22 * (15 / 22)) % 1 is 0.9999999999999982 in float64, a factor of ~0.
    schedule = wj.cosine_with_hard_restarts_schedule_with_warmup(1.0, 0, 22, num_cycles=22)
    assert float(schedule(15)) == 1.0


def test_polynomial_decay_cycle_does_not_overflow_int32_near_the_last_step():
    # ceil(s / D) was computed as (s + D - 1) // D, which wraps in int32 for s near 2**31.
    schedule = wj.polynomial_decay(1.0, 2, cycle=True)
    last = 2**31 - 1
    expected = 1.0 / 2**31  # m = 2**30, horizon 2**31: 1 - s / (m D)
    assert float(schedule(last)) == pytest.approx(expected, rel=1e-6)
    assert float(jax.jit(schedule)(jnp.int32(last))) == pytest.approx(expected, rel=1e-6)

"""Schedule expressions: the same schedule objects as Python, round trips, errors with positions."""

import numpy as np
import pytest

import warmup_jax as wj
from tests.warmup_jax.conftest import values
from warmup_jax.__main__ import main

STEPS = np.arange(0, 1200)


@pytest.mark.parametrize(
    "text, python",
    [
        (
            "linear_warmup(100) >> cosine(900, final=0.01)",
            wj.with_warmup(wj.cosine_decay(1.0, 900, 0.01), 100),
        ),
        (
            "constant(3e-4) * linear_warmup(100) * rsqrt(1000)",
            wj.multiply(
                [wj.constant(3e-4), wj.linear_warmup(1.0, 100), wj.inverse_sqrt_decay(1.0, 1000)]
            ),
        ),
        (
            "exponential_warmup(50, init=1e-6) >> linear(950, init=2e-3)",
            wj.with_warmup(wj.linear_decay(2e-3, 950), 50, "exponential", 1e-6),
        ),
        (
            "linear_warmup(10, peak=1e-3) >> cosine(90, init=1e-3) >> constant(1e-5)",
            wj.join(
                [
                    wj.join([wj.linear_warmup(1e-3, 10), wj.cosine_decay(1e-3, 90)], [10]),
                    wj.constant(1e-5),
                ],
                [100],
            ),
        ),
        (
            "cosine_schedule_with_warmup(3e-4, 100, 1000)",
            wj.cosine_schedule_with_warmup(3e-4, 100, 1000),
        ),
        (
            "wsd_schedule(1e-3, num_warmup_steps=10, num_decay_steps=100, num_stable_steps=500, decay_type='1-sqrt')",
            wj.wsd_schedule(1e-3, 10, 100, num_stable_steps=500, decay_type="1-sqrt"),
        ),
        (
            "2e-3 * (linear_warmup(100, ahead=true) >> poly(900, power=2))",
            wj.multiply(
                [
                    2e-3,
                    wj.with_warmup(
                        wj.polynomial_decay(1.0, 900, power=2.0), 100, one_step_ahead=True
                    ),
                ]
            ),
        ),
        ("step(300, gamma=0.5, init=0.1)", wj.step_decay(0.1, 300, 0.5)),
        ("exponential(0.5, every=100, staircase=true)", wj.exponential_decay(1.0, 0.5, 100, True)),
        (
            "piecewise_constant([100, 500], [1e-3, 1e-4, 1e-5])",
            wj.piecewise_constant([100, 500], [1e-3, 1e-4, 1e-5]),
        ),
        (
            "with_warmup(sqrt_cooldown(1000), 1e2)",
            wj.with_warmup(wj.one_minus_sqrt_decay(1.0, 1000), 100),
        ),
        ("3e-4", wj.constant(3e-4)),
    ],
)
def test_expression_builds_the_same_schedule_as_python(text, python):
    schedule = wj.parse(text)
    assert schedule == python
    np.testing.assert_array_equal(values(schedule, STEPS), values(python, STEPS))
    rebuilt = wj.from_config(schedule.to_config())  # expression -> schedule -> config -> schedule
    np.testing.assert_array_equal(values(rebuilt, STEPS), values(python, STEPS))


def test_variables():
    schedule = wj.parse(
        "linear_warmup(warmup) >> cosine(steps - 0, init=peak)".replace(" - 0", ""),
        {"peak": 1e-3, "warmup": 10, "steps": 90},
    )
    assert schedule == wj.with_warmup(wj.cosine_decay(1e-3, 90), 10)


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("cosine(100", "expected ',' or ')', found the end", 11),
        ("cosine(100))", "expected '>>', '*' or the end, found ')'", 12),
        ("cosine(100) >>", "expected a number, a name or '(', found the end", 15),
        ("cosine(100) $ 2", "unexpected character '$'", 13),
        ("cosin(100)", "unknown schedule 'cosin'; use one of: ", 1),
        ("cosine(100, fnal=0.1)", "cosine(): got an unexpected keyword argument 'fnal'", 1),
        ("cosine(steps=100, 5)", "positional argument after a keyword argument", 19),
        ("cosine(100, final=1, final=2)", "argument 'final' given twice", 22),
        ("linear_warmup(0)", "warmup_steps must be an integer in [1, ", 1),
        (
            "rsqrt(100) >> cosine(10)",
            "inverse_sqrt_decay never ends, so nothing can follow it with '>>'",
            12,
        ),
        ("cosine(100) * 'x'", "cannot multiply by 'x'", 13),
        ("cosine(peak)", "unknown name 'peak'", 8),
        ("", "expected a schedule, found nothing", 1),
        ("'cosine'", "expected a schedule, got 'cosine'", 1),
        ("cosine(10, init=-)", "expected a number after '-'", 18),
    ],
)
def test_malformed_expressions_say_where_and_what_was_expected(text, message, column):
    with pytest.raises(ValueError) as error:
        wj.parse(text)
    text_lines = str(error.value).splitlines()
    assert message in text_lines[0]
    assert text_lines[0].endswith(f"at column {column}")
    assert text_lines[1] == "  " + text
    assert text_lines[2] == "  " + " " * (column - 1) + "^"


def test_no_python_is_evaluated():
    with pytest.raises(ValueError, match="unknown schedule '__import__'"):
        wj.parse("__import__('os')")
    with pytest.raises(ValueError, match="unexpected character '.'|expected"):
        wj.parse("cosine(100).to_config()")


def test_the_cli_takes_an_expression(capsys):
    assert (
        main(["table", "linear_warmup(10) >> cosine(90)", "--json", "--steps", "5", "10", "100"])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines] == [
        '{"step": 5, "lr": 0.5}',
        '{"step": 10, "lr": 1.0}',
        '{"step": 100, "lr": 0.0}',
    ]
    with pytest.raises(SystemExit):
        main(["table", "cosine(10", "--steps", "1"])
    assert "expected ',' or ')'" in capsys.readouterr().err


def test_scale_peak_lr():
    assert wj.scale_peak_lr(0.1, 8192, 256) == pytest.approx(3.2)
    assert wj.scale_peak_lr(1e-3, 64, 256, rule="sqrt") == pytest.approx(5e-4)
    with pytest.raises(ValueError, match="rule must be one of 'linear', 'sqrt', got 'cube'"):
        wj.scale_peak_lr(0.1, 512, 256, rule="cube")
    with pytest.raises(ValueError, match=r"batch_size must be an integer in \[1, "):
        wj.scale_peak_lr(0.1, 0, 256)


def test_lengths_let_finite_schedules_be_chained():
    from warmup_jax.expressions import length_of

    cyclic = wj.cyclic_schedule(1.0, 100, cycle_mul=2.0, cycle_limit=3)
    assert length_of(cyclic) == 700
    assert (
        length_of(
            wj.cyclic_schedule(1.0, 100, cycle_limit=3, warmup_steps=10, warmup_every_cycle=False)
        )
        == 310
    )
    assert length_of(wj.cyclic_schedule(1.0, 100)) is None
    old = wj.linear_schedule_with_warmup(1.0, 10, 100)
    assert length_of(wj.rewarmup(old, 100, 0.5, 10, decay=wj.linear_decay(0.5, 50))) == 160
    assert length_of(wj.rewarmup(old, 100, 0.5, 10)) == 110
    assert length_of(wj.warmup_stable_decay(1.0, 10, 20, 30)) == 60
    chained = wj.parse("cyclic_schedule(1.0, 100, cycle_limit=2) >> constant(0.5)")
    np.testing.assert_array_equal(values(chained, [199, 200, 10_000])[1:], [0.5, 0.5])

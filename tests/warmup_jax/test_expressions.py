"""Schedule expressions: the Python calls, as text; the same objects, errors with a short window."""

import numpy as np
import pytest

import warmup_jax as wj
from tests.warmup_jax.conftest import values
from tests.warmup_jax.test_config import EXAMPLES
from warmup_jax.__main__ import main

STEPS = np.arange(0, 1200)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_python_call_pasted_as_text_is_the_same_schedule(name):
    # A schedule's repr is the Python call that makes it (nested schedules included), and the
    # expression language accepts exactly that text.
    schedule = getattr(wj, name)(**EXAMPLES[name])
    assert wj.parse(repr(schedule)) == schedule
    assert wj.parse("wj." + repr(schedule)) == schedule
    assert wj.parse("warmup_jax." + repr(schedule)) == schedule


@pytest.mark.parametrize(
    "text, python",
    [
        (
            "linear_warmup(peak_value=0.95, warmup_steps=50, init_value=0.85)",
            wj.linear_warmup(peak_value=0.95, warmup_steps=50, init_value=0.85),
        ),
        ("linear_warmup(0.95, 50)", wj.linear_warmup(0.95, 50)),
        (
            "linear_warmup(1e-3, 100) >> cosine_decay(1e-3, 900, end_value=1e-5)",
            wj.linear_warmup(1e-3, 100) >> wj.cosine_decay(1e-3, 900, end_value=1e-5),
        ),
        (
            "3e-4 * linear_warmup(1.0, 100) * inverse_sqrt_decay(1.0, 1000)",
            3e-4 * wj.linear_warmup(1.0, 100) * wj.inverse_sqrt_decay(1.0, 1000),
        ),
        (
            "with_warmup(linear_decay(2e-3, 950), 50, warmup_type='exponential', init_value=1e-6)",
            wj.with_warmup(wj.linear_decay(2e-3, 950), 50, "exponential", 1e-6),
        ),
        (
            "linear_warmup(1e-3, 10) >> cosine_decay(1e-3, 90) >> constant(1e-5)",
            wj.join(
                [wj.linear_warmup(1e-3, 10), wj.cosine_decay(1e-3, 90), wj.constant(1e-5)],
                [10, 100],
            ),
        ),
        ("linear_warmup(1e-3, 10) >> 1e-5", wj.linear_warmup(1e-3, 10) >> 1e-5),
        (
            "cosine_schedule_with_warmup(3e-4, 100, 1000)",
            wj.cosine_schedule_with_warmup(3e-4, 100, 1000),
        ),
        (
            "schedule_by_name('cosine', 3e-4, num_warmup_steps=100, num_training_steps=1000)",
            wj.cosine_schedule_with_warmup(3e-4, 100, 1000),
        ),
        (
            "wsd_schedule(1e-3, num_warmup_steps=10, num_decay_steps=100, num_stable_steps=500, "
            "decay_type='1-sqrt')",
            wj.wsd_schedule(1e-3, 10, 100, num_stable_steps=500, decay_type="1-sqrt"),
        ),
        (
            "exponential_decay(0.1, 300, 0.5, staircase=True)",
            wj.exponential_decay(0.1, 300, 0.5, staircase=True),
        ),
        (
            "piecewise_constant((100, 200), [1e-3, 1e-4, 1e-5])",
            wj.piecewise_constant([100, 200], [1e-3, 1e-4, 1e-5]),
        ),
        ("constant(2 * 3e-4 * 0.5)", wj.constant(2 * 3e-4 * 0.5)),
        ("linear_warmup(1.0, 1_000,)", wj.linear_warmup(1.0, 1000)),
        ("constant(scale_peak_lr(1e-3, 1024, 256, rule='sqrt'))", wj.constant(2e-3)),
        ("constant(-(-1.0))", wj.constant(1.0)),
    ],
)
def test_expressions_are_python_calls(text, python):
    schedule = wj.parse(text)
    assert schedule == python
    np.testing.assert_array_equal(values(schedule, STEPS), values(python, STEPS))


def test_variables_are_values():
    schedule = wj.parse(
        "linear_warmup(peak, warmup_steps) >> cosine_decay(peak, decay_steps, end_value=0.1 * peak)",
        {"peak": 1e-3, "warmup_steps": 10, "decay_steps": 90},
    )
    assert schedule == wj.linear_warmup(1e-3, 10) >> wj.cosine_decay(1e-3, 90, end_value=1e-4)


def test_numbers_mean_what_they_mean_in_python():
    # 1e3 is a float in Python, and a step count must be an integer: refused, as in Python.
    with pytest.raises(ValueError, match=r"warmup_steps must be an integer .*got 1000.0"):
        wj.parse("linear_warmup(1.0, 1e3)")
    with pytest.raises(ValueError, match=r"warmup_steps must be an integer .*got 1000.0"):
        wj.linear_warmup(1.0, 1e3)
    assert wj.parse("linear_warmup(1.0, 1000)").arguments["warmup_steps"] == 1000
    assert isinstance(wj.parse("constant(3)").arguments["value"], int)


@pytest.mark.parametrize(
    "text, message, column",
    [
        (
            "inverse_sqrt_decay(1.0, 100) >> cosine_decay(1.0, 10)",
            "never ends, so nothing can follow it with '>>'",
            30,
        ),
        ("constant(1.0) >> cosine_decay(1.0, 10)", "holds one value from step 0", 15),
        ("cosine_decay(1.0, 100) * 'x'", "'*' multiplies warmup_jax schedules and numbers", 1),
        ("cosine_decay(peak, 100)", "unknown name 'peak'", 14),
        ("", "expected a schedule, found nothing", 1),
        ("'cosine'", "expected a schedule, got 'cosine'", 1),
        ("cosine_decay(1.0, 10, end_value=-)", "expected a number, a name or '('", 34),
        ("cosine_decay(1.0, 10", "expected ',' or ')', found the end", 21),
        ("linear_warmup(1.0, 10) @ 2", "unexpected character '@'", 24),
        ("linear_warmup(1.0, 10))", "expected '>>', '*' or the end, found ')'", 23),
        ("- constant(1.0)", "'-' applies to numbers only", 1),
        ("constant(1.0, value=2.0)", "multiple values for argument 'value'", 1),
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


def test_a_call_with_the_wrong_arguments_shows_the_python_signature():
    # 0.1.0 read linear_warmup(50) as 50 warmup steps to a peak of 1; Python reads 50 as the peak.
    with pytest.raises(ValueError) as error:
        wj.parse("linear_warmup(50)")
    first = str(error.value).splitlines()[0]
    assert "missing a required argument: 'warmup_steps'" in first
    assert (
        "it takes linear_warmup(peak_value, warmup_steps, init_value=0.0, "
        "warmup_one_step_ahead=False)" in first
    )


@pytest.mark.parametrize(
    "old, new",
    [
        ("cosine(900, final=0.01)", "cosine_decay(init_value, decay_steps, end_value=0.0)"),
        ("rsqrt(1000)", "inverse_sqrt_decay(init_value, timescale)"),
        ("step(300, gamma=0.5)", "staircase=True"),
        ("poly(10)", "polynomial_decay"),
    ],
)
def test_the_short_forms_of_0_1_0_say_what_replaced_them(old, new):
    with pytest.raises(ValueError, match="of warmup_jax 0.1.0 is now") as error:
        wj.parse(old)
    assert new in str(error.value)


def test_an_error_in_a_long_expression_quotes_a_short_window():
    text = "linear_warmup(1.0, 10) >> " * 40_000 + "constant(1.0) $"
    assert len(text) > 1_000_000
    with pytest.raises(ValueError) as error:
        wj.parse(text)
    message = str(error.value)
    assert len(message) < 300
    lines = message.splitlines()
    assert "unexpected character '$'" in lines[0]
    assert lines[1].startswith("  ...") and lines[1].endswith("constant(1.0) $")
    assert lines[2].index("^") == lines[1].index("$")


@pytest.mark.parametrize(
    "text",
    [
        "(" * 500 + "constant(1)" + ")" * 500,
        "[" * 500 + "]" * 500,
        "constant(" * 500 + "1" + ")" * 500,
        "-" * 5000 + "1",
    ],
)
def test_deep_nesting_is_a_value_error_not_a_recursion_error(text):
    with pytest.raises(ValueError, match=f"nest more than {wj.expressions.MAX_NESTING} deep"):
        wj.parse(text)


@pytest.mark.parametrize("links", [300, 500, 10_000])
def test_long_chains_parse_evaluate_print_compare_and_serialize(links):
    text = " >> ".join(f"linear_warmup({i + 1}.0, 2)" for i in range(links))
    schedule = wj.parse(text)
    assert schedule.name == "join" and len(schedule.arguments["schedules"]) == links
    assert schedule.end_step == 2 * links
    assert float(schedule(2 * links)) == float(links)  # the last link's peak
    assert float(schedule(1)) == 0.5 and float(schedule(3)) == 1.0  # links 1 and 2, halfway
    config = schedule.to_config()
    assert wj.from_config(schedule.to_json()) == schedule
    assert wj.from_config(config) == schedule
    assert len(repr(schedule)) > links
    assert hash(schedule) == hash(wj.from_config(config))


def test_no_python_is_evaluated():
    with pytest.raises(ValueError, match="unknown schedule '__import__'"):
        wj.parse("__import__('os')")
    with pytest.raises(ValueError, match="expected '>>', '\\*' or the end, found '.'"):
        wj.parse("constant(1.0).to_config()")
    with pytest.raises(ValueError, match="expected '\\(' after wj.Schedule"):
        wj.parse("wj.Schedule")
    with pytest.raises(ValueError, match="unknown schedule 'evaluate'"):
        wj.parse("wj.evaluate(1)")


def test_the_cli_takes_an_expression(capsys):
    expression = "linear_warmup(1.0, 10) >> cosine_decay(1.0, 90)"
    assert main(["table", expression, "--json", "--steps", "5", "10", "100"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        '{"step": 5, "lr": 0.5}',
        '{"step": 10, "lr": 1.0}',
        '{"step": 100, "lr": 0.0}',
    ]
    with pytest.raises(SystemExit) as exit_:
        main(["table", "cosine_decay(1.0, 10", "--steps", "1"])
    assert exit_.value.code == 2
    assert "expected ',' or ')'" in capsys.readouterr().err


def test_scale_peak_lr():
    assert wj.scale_peak_lr(0.1, 8192, 256) == pytest.approx(3.2)
    assert wj.scale_peak_lr(1e-3, 64, 256, rule="sqrt") == pytest.approx(5e-4)
    with pytest.raises(ValueError, match="rule must be one of 'linear', 'sqrt', got 'cube'"):
        wj.scale_peak_lr(0.1, 512, 256, rule="cube")
    with pytest.raises(ValueError, match=r"batch_size must be an integer in \[1, "):
        wj.scale_peak_lr(0.1, 0, 256)


def test_a_syntax_error_is_reported_before_a_bad_call_as_in_python():
    # linear_warmup(10) is a bad call, but Python would first refuse the unclosed bracket.
    with pytest.raises(ValueError, match="expected ',' or '\\)', found the end at column 31"):
        wj.parse("linear_warmup(10) >> cosine(90")

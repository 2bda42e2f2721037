"""Length flags in the units people think in: --warmup_steps 10%, 2ep, 1280tok; --steps 3ep."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

import warmup_jax
from train import __main__ as cli
from train.config import resolve_lengths
from train.loop import run
from train.schedule import make_schedule


def _config(argv):
    parser = cli.build_parser()
    return cli.config_from_args(parser.parse_args(argv), parser)


@pytest.mark.parametrize(
    ("flag", "steps"),
    [
        ("10%", 4),
        ("25%", 10),
        ("1280tok", 10),
        ("1281tok", 10),
        ("24ex", 6),
        ("7st", 7),
        ("0.1%", 1),
    ],
)
def test_warmup_durations_resolve_to_steps_and_are_recorded(flag, steps):
    # tiny: 40 steps of 4 x 32 = 128 tokens, 4 examples.
    config = _config(["--preset", "tiny", "--warmup_steps", flag])
    assert config.warmup_steps == steps and config.durations == {"warmup_steps": flag}
    assert make_schedule(config) == warmup_jax.cosine_schedule_with_warmup(3e-3, steps, 40)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "10%"], "argument --steps: cannot be a share of the run itself"),
        (
            ["--warmup_steps", "ten"],
            "argument --warmup_steps: the value must be a step count or a duration",
        ),
        (["--warmup_steps", "-5"], "must be at least 0"),
        (["--warmup_steps", "200%"], "--warmup_steps"),
        (
            ["--warmup_steps", "6000tok"],
            "the warmup (47 steps) is longer than the run (--steps 40)",
        ),
    ],
)
def test_bad_durations_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        _config(["--preset", "tiny", *argv])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_epochs_are_the_training_split_over_tokens_per_step(tiny, text_data, tmp_path):
    config = tiny(tmp_path, steps="0.05ep", warmup_steps="0.01ep", eval_every=2, log_every=2)
    assert not config.lengths_resolved
    per_epoch = Fraction(len(text_data.train), config.tokens_per_step)
    expected_steps = int(per_epoch * Fraction(5, 100) + Fraction(1, 2))
    expected_warmup = max(1, int(per_epoch * Fraction(1, 100) + Fraction(1, 2)))
    resolved = resolve_lengths(config, len(text_data.train))
    assert (resolved.steps, resolved.warmup_steps) == (expected_steps, expected_warmup)
    # checkpoint/eval cadence must divide the resolved run: the run checks it, then trains.
    summary = run(
        tiny(
            tmp_path,
            steps="0.05ep",
            warmup_steps="0.01ep",
            eval_every=1,
            log_every=1,
            checkpoint_every=1,
        )
    )
    assert summary["steps"] == expected_steps
    saved = json.loads((tmp_path / "summary.json").read_text())["config"]
    assert saved["steps"] == expected_steps and saved["warmup_steps"] == expected_warmup
    assert saved["durations"] == {"steps": "0.05ep", "warmup_steps": "0.01ep"}
    assert summary["schedule"]["arguments"]["num_warmup_steps"] == expected_warmup

"""--peak_lr auto: the LR range test runs first, the run trains at its suggestion, and says so."""

from __future__ import annotations

import json

import pytest

from train import __main__ as cli


def _argv(workdir, source_dir, data_dir, *extra):
    return [
        "--preset", "tiny", "--no_progress", "--workdir", str(workdir),
        "--source_dir", str(source_dir), "--data_dir", str(data_dir), *extra,
    ]  # fmt: skip


def test_peak_lr_auto_trains_at_the_suggestion_and_records_it(
    tmp_path, source_dir, data_dir, capsys
):
    argv = _argv(tmp_path, source_dir, data_dir, "--peak_lr", "auto", "--stop_after", "20")
    assert cli.main(argv) == 0
    found = json.loads((tmp_path / "lr_find.json").read_text())
    out = capsys.readouterr().out
    assert "--peak_lr auto: suggested --peak_lr" in out
    # Resumed: the same test is read back, not run again, so the peak (and the schedule) agree.
    assert cli.main(_argv(tmp_path, source_dir, data_dir, "--peak_lr", "auto")) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["resumed_from_step"] == 20
    assert summary["config"]["peak_lr"] == found["suggested_lr"]
    assert summary["config"]["peak_lr_found"] == {
        "suggested_lr": found["suggested_lr"],
        "suggested_by": found["suggested_by"],
        "file": "lr_find.json",
    }
    assert summary["schedule"]["arguments"]["peak_value"] == found["suggested_lr"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--peak_lr", "automatic"], "--peak_lr: expected a number or 'auto', got 'automatic'"),
        (["--norm", "sideways"], "--norm: must be one of pre, post, got 'sideways'"),
    ],
)
def test_bad_peak_lr_or_norm_exit_2(argv, message, capsys):
    parser = cli.build_parser()
    with pytest.raises(SystemExit) as info:
        cli.config_from_args(parser.parse_args(["--preset", "tiny", *argv]), parser)
    assert info.value.code == 2
    assert message in capsys.readouterr().err

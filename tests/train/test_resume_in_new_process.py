"""The user's way to resume: kill the job, run the same command again (separate processes)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from train.logging import read_metrics

pytestmark = pytest.mark.slow


def _train(workdir, source_dir, data_dir, *extra):
    cmd = [
        sys.executable,
        "-m",
        "train",
        "--preset",
        "tiny",
        "--workdir",
        str(workdir),
        "--source_dir",
        str(source_dir),
        "--data_dir",
        str(data_dir),
        "--no_progress",
        *extra,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


def test_same_command_again_resumes_bit_identically(tmp_path, source_dir, data_dir, text_data):
    whole = _train(tmp_path / "whole", source_dir, data_dir)
    assert whole.returncode == 0, whole.stderr
    assert "done: 40 steps" in whole.stdout

    stopped = _train(tmp_path / "again", source_dir, data_dir, "--stop_after", "30")
    assert stopped.returncode == 0, stopped.stderr
    assert "run the same command again to resume" in stopped.stdout
    resumed = _train(tmp_path / "again", source_dir, data_dir)
    assert resumed.returncode == 0, resumed.stderr

    def numbers(workdir):
        return [
            {k: v for k, v in r.items() if k != "train/tokens_per_sec"}
            for r in read_metrics(workdir)
        ]

    assert numbers(tmp_path / "again") == numbers(tmp_path / "whole")
    summary = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert summary["resumed_from_step"] == 20
    assert (
        summary["final_val_loss"]
        == json.loads((tmp_path / "whole" / "summary.json").read_text())["final_val_loss"]
    )

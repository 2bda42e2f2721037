"""Data parallel over devices and processes: the same numbers on every topology, and checkpoints
that move between topologies.

Each run is ``python -m train`` in a subprocess on the CPU, with fake devices
(``--xla_force_host_platform_device_count``) and, for several processes, ``jax.distributed`` on
127.0.0.1 with gloo collectives. Every subprocess has a timeout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

from train import data, distributed
from train.__main__ import main
from train.logging import read_metrics

TIMEOUT_S = 180
# 20 steps; checkpoints every 5 so a run can stop and move to another topology at 5, 10, 15.
RUN_FLAGS = (
    "--preset", "tiny", "--steps", "20", "--batch_size", "8", "--log_every", "5",
    "--eval_every", "10", "--checkpoint_every", "5", "--no_progress",
)  # fmt: skip


def _env(devices: int) -> dict[str, str]:
    env = dict(os.environ)
    env["JAX_PLATFORMS"] = "cpu"
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    return env


def _command(workdir: pathlib.Path, source_dir, data_dir, extra) -> list[str]:
    return [
        sys.executable, "-m", "train", *RUN_FLAGS, "--workdir", str(workdir),
        "--source_dir", str(source_dir), "--data_dir", str(data_dir), *extra,
    ]  # fmt: skip


def train_on(workdir, source_dir, data_dir, *extra, devices=1) -> subprocess.CompletedProcess:
    """``python -m train`` in one process with ``devices`` CPU devices."""
    return subprocess.run(
        _command(workdir, source_dir, data_dir, extra),
        env=_env(devices),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_in_processes(
    workdir, source_dir, data_dir, *extra, processes=2, devices=2, last_also=()
) -> list[subprocess.CompletedProcess]:
    """The same command as ``processes`` processes of ``devices`` devices each, on 127.0.0.1.

    ``last_also``: flags added to the last process's command only.
    """
    join = ("--coordinator_address", f"127.0.0.1:{_free_port()}", "--num_processes", str(processes))
    procs = [
        subprocess.Popen(
            _command(
                workdir,
                source_dir,
                data_dir,
                (*extra, *join, "--process_id", str(i), *(last_also if i == processes - 1 else ())),
            ),
            env=_env(devices),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    results = []
    try:
        for proc in procs:
            stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
            results.append(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
    finally:
        for proc in procs:
            if proc.poll() is None:  # A hung process (e.g. its peer died): end it, then fail.
                proc.kill()
                proc.wait()
    return results


def _ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


def _series(workdir: pathlib.Path) -> dict[str, list]:
    rows = read_metrics(workdir)
    return {
        "step": [r["step"] for r in rows],
        "lr": [r["train/learning_rate"] for r in rows],
        "loss": [r["train/loss"] for r in rows],
        "val": [(r["step"], r["val/loss"]) for r in rows if "val/loss" in r],
    }


def assert_same_run(got: pathlib.Path, want: pathlib.Path) -> None:
    """One row per step, identical LRs, losses equal up to float reduction order (rel. 1e-4)."""
    a, b = _series(got), _series(want)
    assert a["step"] == b["step"] == list(range(20))
    assert a["lr"] == b["lr"]
    np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-4)
    assert [s for s, _ in a["val"]] == [s for s, _ in b["val"]] == [9, 19]
    np.testing.assert_allclose([v for _, v in a["val"]], [v for _, v in b["val"]], rtol=1e-4)
    summary_a = json.loads((got / "summary.json").read_text())
    summary_b = json.loads((want / "summary.json").read_text())
    assert math.isclose(summary_a["final_val_loss"], summary_b["final_val_loss"], rel_tol=1e-4)


@pytest.fixture(scope="module")
def one_device(tmp_path_factory, source_dir, data_dir, text_data) -> pathlib.Path:
    """The reference: the whole run on one CPU device, in one process."""
    del text_data  # The data set is prepared before any subprocess reads it.
    workdir = tmp_path_factory.mktemp("one_device")
    result = train_on(workdir, source_dir, data_dir, devices=1)
    _ok(result)
    assert "done: 20 steps" in result.stdout
    return workdir


def test_two_processes_of_two_devices_train_as_one_device(
    tmp_path, source_dir, data_dir, one_device
):
    """The default run's guard of the promise: many devices and many processes, one result."""
    first, second = train_in_processes(tmp_path / "two", source_dir, data_dir)
    _ok(first)
    _ok(second)
    assert "done: 20 steps" in first.stdout
    assert "done:" not in second.stdout  # Only process 0 reports...
    # ...and writes: one metrics row per step and one TensorBoard file (two writers make two).
    assert_same_run(tmp_path / "two", one_device)
    assert len(list((tmp_path / "two" / "tb").glob("events.out.tfevents.*"))) == 1
    assert (tmp_path / "two" / "lr.png").exists()


@pytest.mark.slow
def test_eight_devices_train_as_one_device(tmp_path, source_dir, data_dir, one_device):
    _ok(train_on(tmp_path / "eight", source_dir, data_dir, devices=8))
    assert_same_run(tmp_path / "eight", one_device)


@pytest.mark.slow
def test_checkpoint_moves_between_topologies(tmp_path, source_dir, data_dir, one_device):
    """2 processes x 2 devices -> 1 process of 8 devices -> 4 devices -> 1 device."""
    workdir = tmp_path / "moving"
    for result in train_in_processes(workdir, source_dir, data_dir, "--stop_after", "5"):
        _ok(result)
    for devices, stop in ((8, 10), (4, 15), (1, None)):
        extra = ("--stop_after", str(stop)) if stop else ()
        result = train_on(workdir, source_dir, data_dir, *extra, devices=devices)
        _ok(result)
        resumed_at = (stop or 20) - 5
        rows = [r for r in read_metrics(workdir) if r["step"] >= resumed_at]
        # The same step, and the same LR at the next step as the run that never moved.
        reference = {r["step"]: r for r in read_metrics(one_device)}
        assert rows[0]["step"] == resumed_at
        assert rows[0]["train/learning_rate"] == reference[resumed_at]["train/learning_rate"]
    assert json.loads((workdir / "summary.json").read_text())["resumed_from_step"] == 15
    assert_same_run(workdir, one_device)


def test_processes_started_with_different_settings_refuse_to_run(tmp_path, source_dir, data_dir):
    results = train_in_processes(
        tmp_path / "w", source_dir, data_dir, last_also=("--steps", "40", "--checkpoint_every", "5")
    )
    for result in results:
        assert result.returncode == 2, result.stderr
        assert (
            "error: the run settings, schedule or training data differs between processes "
            "(process 0 vs [1]); start every process with the same flags and the same data"
        ) in result.stderr
    assert not (tmp_path / "w" / "checkpoints").exists()


def test_a_data_error_in_process_0_ends_every_process(tmp_path):
    """Process 0 reads (and prepares) the data first; its error must not leave the others stuck."""
    lone = tmp_path / "one_file"
    lone.mkdir()
    (lone / "a.py").write_text("x = 1\n")
    results = train_in_processes(tmp_path / "w", lone, tmp_path / "tfds")
    for result in results:
        assert result.returncode == 2, result.stderr
        assert f"found 1 .py files under {lone}; need at least 2" in result.stderr


def test_batch_that_does_not_divide_over_the_devices_exits_2(tmp_path, source_dir, data_dir):
    result = train_on(tmp_path / "w", source_dir, data_dir, "--batch_size", "12", devices=8)
    assert result.returncode == 2, result.stderr
    assert (
        "error: --batch_size 12 does not divide evenly over 8 devices: each device takes an "
        "equal share of the batch, so use a multiple of 8, e.g. 8 or 16"
    ) in result.stderr
    assert not (tmp_path / "w" / "checkpoints").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--num_processes", "2", "--process_id", "0"],
            "--coordinator_address, --num_processes and --process_id go together "
            "(missing --coordinator_address)",
        ),
        (
            ["--coordinator_address", "127.0.0.1", "--num_processes", "2", "--process_id", "0"],
            "--coordinator_address must be HOST:PORT, e.g. 127.0.0.1:1234, got '127.0.0.1'",
        ),
        (
            [
                "--coordinator_address",
                "127.0.0.1:99999",
                "--num_processes",
                "2",
                "--process_id",
                "0",
            ],
            "--coordinator_address must be HOST:PORT",
        ),
        (
            ["--coordinator_address", "h:1", "--num_processes", "0", "--process_id", "0"],
            "--num_processes must be at least 1, got 0",
        ),
        (
            ["--coordinator_address", "h:1", "--num_processes", "2", "--process_id", "2"],
            "--process_id must be between 0 and --num_processes - 1 = 1, got 2",
        ),
    ],
)
def test_bad_distributed_flags_exit_2_before_joining(flags, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--preset", "tiny", *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_process_makes_exactly_its_rows_of_the_global_batch(text_data):
    whole = data.train_batch(text_data.train, seed=3, step=7, batch_size=8, seq_len=16)
    rows = np.array([2, 3, 6, 7])
    part = data.train_batch(text_data.train, seed=3, step=7, batch_size=8, seq_len=16, rows=rows)
    np.testing.assert_array_equal(part, whole[rows])
    stacked = data.train_batches(text_data.train, 3, 7, 2, 8, 16, rows=rows)
    np.testing.assert_array_equal(stacked[0], part)
    evals = data.eval_batches(text_data.validation, 2, 8, 16)
    np.testing.assert_array_equal(
        data.eval_batches(text_data.validation, 2, 8, 16, rows=rows), evals[:, rows]
    )


def test_one_process_holds_every_row_and_put_gives_the_global_batch():
    import jax

    mesh = distributed.make_mesh()
    shard = distributed.row_shard(mesh, (3, 8, 5), leading_axes=1)
    np.testing.assert_array_equal(shard.rows, np.arange(8))
    local = np.arange(3 * 8 * 5, dtype=np.uint8).reshape(3, 8, 5)
    placed = shard.put(local)
    assert placed.sharding == distributed.batch_sharding(mesh, leading_axes=1)
    np.testing.assert_array_equal(jax.device_get(placed), local)


def test_without_distributed_flags_start_does_nothing():
    args = argparse.Namespace(coordinator_address=None, num_processes=None, process_id=None)
    distributed.start(args, argparse.ArgumentParser())
    assert distributed.is_main_process()

"""Faults a long run survives (issue 6): kills, damaged checkpoints, signals, NaN, full disks, a
second run, bad flags. Each test causes the fault for real and checks that nothing is lost: the run
continues to the very numbers of a run that never stopped, and metrics.jsonl stays valid.

Most runs share two tiny 40-step runs made once: ``reference`` (never interrupted) and ``base``
(stopped after step 20, checkpoints at 10 and 20), which tests copy and then break.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import threading
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import fault_launcher
from train import __main__ as cli
from train import faults
from train import loop as loop_lib
from train.checkpoint import DAMAGED_DIR, WRITE_ERROR_FILE, Checkpoints
from train.lock import LOCK_FILE, WorkdirBusyError, WorkdirLock
from train.logging import METRICS_FILE, RunLogger, read_metrics
from train.loop import run
from train.model import ByteTransformer
from train.resume_check import ResumeError, check_resume, make_meta
from train.schedule import make_schedule
from train.state import create_train_state, make_optimizer

TIMING = "train/tokens_per_sec"
TIMEOUT_S = 240


def numbers(rows):
    """The rows without their wall-clock column: what must match bit for bit."""
    return [{k: v for k, v in r.items() if k != TIMING} for r in rows]


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def strict_rows(workdir: pathlib.Path) -> list[dict]:
    """metrics.jsonl as strict JSON lines: whole lines only, no NaN, one row per step from 0."""
    text = (workdir / METRICS_FILE).read_text()
    assert text.endswith("\n"), "a torn last line"
    rows = [json.loads(line, parse_constant=_reject_constant) for line in text.splitlines()]
    assert [r["step"] for r in rows] == list(range(len(rows)))
    return rows


def checkpoint_steps(workdir: pathlib.Path) -> list[int]:
    return sorted(int(p.name) for p in (workdir / "checkpoints").iterdir() if p.name.isdigit())


def argv(workdir, source_dir, data_dir, *extra) -> list[str]:
    """The command line of every run here: tiny preset, a checkpoint every 10 steps."""
    return [
        "--preset", "tiny", "--workdir", str(workdir), "--source_dir", str(source_dir),
        "--data_dir", str(data_dir), "--no_progress", "--checkpoint_every", "10", *extra,
    ]  # fmt: skip


def spawn(args: list[str], *faults: str) -> subprocess.Popen:
    """``python -m train ARGS`` in a new process, with ``faults`` caused from the outside
    (``experiments/fault_launcher.py``: ``--signal-at-step 13:SIGTERM``, ...)."""
    return subprocess.Popen(
        [sys.executable, "-m", "experiments.fault_launcher", *faults, "--", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(proc: subprocess.Popen, marker: str) -> str:
    """Reads the process's stderr until a line holds ``marker``; fails on exit or timeout."""
    timer = threading.Timer(TIMEOUT_S, proc.kill)
    timer.start()
    try:
        for line in proc.stderr:
            if marker in line:
                # Keep draining: a full pipe would stall the process.
                threading.Thread(target=proc.stderr.read, daemon=True).start()
                return line
    finally:
        timer.cancel()
    raise AssertionError(f"the run ended (status {proc.wait()}) before printing {marker!r}")


@pytest.fixture(scope="module")
def reference(tiny, tmp_path_factory):
    """The rows of a tiny run that was never interrupted."""
    workdir = tmp_path_factory.mktemp("reference")
    run(tiny(workdir, checkpoint_every=10))
    return numbers(strict_rows(workdir))


@pytest.fixture(scope="module")
def base(tiny, tmp_path_factory):
    """A workdir stopped after step 20 (checkpoints 10 and 20), for tests to copy and break."""
    workdir = tmp_path_factory.mktemp("base")
    run(tiny(workdir, checkpoint_every=10, stop_after=20))
    assert checkpoint_steps(workdir) == [10, 20]
    return workdir


@pytest.fixture
def copy_of_base(base, tmp_path):
    workdir = tmp_path / "run"
    shutil.copytree(base, workdir)
    return workdir


# SIGKILL --------------------------------------------------------------------------------------


def test_sigkill_while_writing_a_checkpoint_loses_nothing(
    reference, tmp_path, source_dir, data_dir, capsys
):
    """Killed while orbax writes checkpoint 20 (files written, not yet committed); meanwhile a
    second run on the workdir is refused; the same command then resumes from checkpoint 10 and
    ends with the numbers of a run that never stopped."""
    workdir = tmp_path / "run"
    args = argv(workdir, source_dir, data_dir)
    proc = spawn(args, "--pause-in-save", "20")
    try:
        wait_for_line(proc, fault_launcher.PAUSED_IN_SAVE)
        with pytest.raises(SystemExit) as refused:  # A second run while the first one lives.
            cli.main(args)
        assert refused.value.code == 2
        err = capsys.readouterr().err
        assert f"the workdir {workdir} is in use by run pid {proc.pid} on host" in err
        assert "pass another --workdir" in err
    finally:
        proc.kill()
        proc.wait(timeout=TIMEOUT_S)
    assert proc.returncode == -signal.SIGKILL
    assert (workdir / "checkpoints" / "20.orbax-checkpoint-tmp").is_dir()  # The unfinished save.
    assert checkpoint_steps(workdir) == [10]
    assert json.loads((workdir / LOCK_FILE).read_text())["pid"] == proc.pid  # Left by the dead.

    assert cli.main(args) == 0  # The same command.
    assert numbers(strict_rows(workdir)) == reference
    assert json.loads((workdir / "summary.json").read_text())["resumed_from_step"] == 10
    assert sorted(p.name for p in (workdir / "checkpoints").iterdir()) == ["20", "30", "40"]
    assert not (workdir / LOCK_FILE).exists()


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(reference, tmp_path, source_dir, data_dir):
    """Five kills at random moments of training (checkpoints every 5 steps, so some land in a
    save), then the same command until it completes."""
    workdir = tmp_path / "run"
    args = argv(workdir, source_dir, data_dir, "--checkpoint_every", "5", "--log_every", "1")
    rng = np.random.default_rng(6)
    for _ in range(5):
        before = len(read_metrics(workdir))
        proc = spawn(args)
        while len(read_metrics(workdir)) <= before and proc.poll() is None:  # Training again.
            time.sleep(0.005)
        try:
            proc.wait(timeout=float(rng.uniform(0.0, 0.5)))
            break  # Finished before the kill.
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        rows = read_metrics(workdir)
        assert [r["step"] for r in rows] == list(range(len(rows)))
    assert cli.main(args) == 0
    assert numbers(strict_rows(workdir)) == reference


# SIGTERM / SIGINT -----------------------------------------------------------------------------


def test_sigterm_finishes_the_step_writes_a_checkpoint_and_the_same_command_continues(
    reference, tmp_path, source_dir, data_dir
):
    workdir = tmp_path / "run"
    args = argv(workdir, source_dir, data_dir)
    proc = spawn(args, "--signal-at-step", "13:SIGTERM")
    _, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 143, err
    assert "received SIGTERM: finishing the current step and writing a checkpoint" in err
    assert (
        f"stopped by SIGTERM after step 13, with a checkpoint of it in {workdir}/checkpoints; "
        "run the same command again to continue" in err
    )
    assert checkpoint_steps(workdir) == [10, 13]
    assert numbers(strict_rows(workdir)) == reference[:13]
    assert not (workdir / LOCK_FILE).exists()

    assert cli.main(args) == 0
    assert numbers(strict_rows(workdir)) == reference
    assert json.loads((workdir / "summary.json").read_text())["resumed_from_step"] == 13


def test_sigint_stops_with_a_checkpoint_and_status_130(
    reference, copy_of_base, source_dir, data_dir, monkeypatch, capsys
):
    monkeypatch.setattr(
        loop_lib,
        "make_train_step",
        fault_launcher.signalling(loop_lib.make_train_step, "27:SIGINT"),
    )
    before = signal.getsignal(signal.SIGINT)
    assert cli.main(argv(copy_of_base, source_dir, data_dir)) == 130
    assert "stopped by SIGINT after step 27, with a checkpoint" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is before  # The handlers are put back.
    assert checkpoint_steps(copy_of_base) == [10, 20, 27]
    assert numbers(strict_rows(copy_of_base)) == reference[:27]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_from_outside_stops_cleanly(reference, tmp_path, source_dir, data_dir, signum):
    """The real thing: another process sends the signal while the run trains."""
    workdir = tmp_path / "run"
    args = argv(workdir, source_dir, data_dir, "--steps", "400", "--log_every", "1")
    proc = spawn(args)
    timer = threading.Timer(TIMEOUT_S, proc.kill)
    timer.start()
    while not read_metrics(workdir):  # Training has begun.
        assert proc.poll() is None
        time.sleep(0.01)
    os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=TIMEOUT_S)
    timer.cancel()
    assert proc.returncode == 128 + signum, err
    stopped = checkpoint_steps(workdir)[-1]
    assert f"stopped by {signal.Signals(signum).name} after step {stopped}" in err
    assert len(strict_rows(workdir)) == stopped < 400


# Damaged checkpoints --------------------------------------------------------------------------


# After a failed read, orbax's remaining reads end in "Event loop is closed" in its own threads.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_damaged_newest_checkpoint_is_skipped_with_a_warning(reference, copy_of_base, tiny, caplog):
    """A truncated data file in checkpoint 20: the run says so, moves it aside, resumes from 10
    and ends exactly like the run that never stopped."""
    data_files = sorted((copy_of_base / "checkpoints" / "20" / "state" / "d").iterdir())
    biggest = max(data_files, key=lambda p: p.stat().st_size)
    half = biggest.stat().st_size // 2
    os.truncate(biggest, half)
    with caplog.at_level(logging.WARNING, logger="train.checkpoint"):
        summary = run(tiny(copy_of_base, checkpoint_every=10))
    moved = copy_of_base / DAMAGED_DIR / "20"
    assert "the checkpoint of step 20 is damaged (ValueError: OUT_OF_RANGE" in caplog.text
    assert f"moved it to {moved}" in caplog.text
    assert "Resuming from step 10, the newest good checkpoint." in caplog.text
    assert "Traceback" in (moved / "WHY_DAMAGED.txt").read_text()
    assert (moved / "state" / "d" / biggest.name).stat().st_size == half  # Kept, not repaired.
    assert summary["resumed_from_step"] == 10
    assert numbers(strict_rows(copy_of_base)) == reference
    assert checkpoint_steps(copy_of_base) == [20, 30, 40]


def _saved_state_and_meta(tiny, workdir):
    config = tiny(workdir)
    model = ByteTransformer(config.model, config.seq_len)
    state = create_train_state(config, model, make_optimizer(config, make_schedule(config)))
    return state, make_meta(config, make_schedule(config).to_config(), "fingerprint")


def test_missing_file_falls_back_and_keep_never_deletes_the_last_good_one(tiny, tmp_path, caplog):
    """keep=2 with checkpoints 10 and 20, 20's meta file gone: 20 is moved aside, 10 restored, and
    the next saves delete 10 only once two newer good checkpoints exist."""
    state, meta = _saved_state_and_meta(tiny, tmp_path)
    with Checkpoints(tmp_path, keep=2) as checkpoints:
        for step in (10, 20):
            checkpoints.save(step, state.replace(step=jnp.asarray(step, jnp.int32)), meta)
    (tmp_path / "checkpoints" / "20" / "meta" / "metadata").unlink()

    with Checkpoints(tmp_path, keep=2) as checkpoints:
        with caplog.at_level(logging.WARNING, logger="train.checkpoint"):
            step, restored, _ = checkpoints.resume(state, meta)
        assert step == 10 and int(restored.step) == 10
        assert "the checkpoint of step 20 is damaged (FileNotFoundError" in caplog.text
        assert checkpoints.all_steps() == [10]
        checkpoints.save(20, state, meta)
        checkpoints.wait()
        assert checkpoints.all_steps() == [10, 20]
        checkpoints.save(30, state, meta)
    assert checkpoint_steps(tmp_path) == [20, 30]
    assert (tmp_path / DAMAGED_DIR / "20" / "state").is_dir()


def test_when_every_checkpoint_is_damaged_nothing_is_moved_and_the_message_lists_them(
    tiny, tmp_path, copy_of_base, source_dir, data_dir, capsys
):
    for step in (10, 20):
        (copy_of_base / "checkpoints" / str(step) / "state" / "_METADATA").write_text("{")
    with pytest.raises(SystemExit) as info:
        cli.main(argv(copy_of_base, source_dir, data_dir))
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert f"no checkpoint in {copy_of_base / 'checkpoints'} can be read:" in err
    assert "step 20: JSONDecodeError" in err and "step 10: JSONDecodeError" in err
    assert checkpoint_steps(copy_of_base) == [10, 20]
    assert not (copy_of_base / DAMAGED_DIR).exists()


# Non-finite loss ------------------------------------------------------------------------------


def test_divergence_stops_naming_step_and_lr_and_keeps_the_last_good_checkpoint(
    copy_of_base, tiny, reference, source_dir, data_dir, capsys
):
    """Continued from step 20 with peak LR 1e30, the loss is NaN at step 21."""
    args = argv(copy_of_base, source_dir, data_dir, "--peak_lr", "1e30", "--allow_schedule_change")
    assert cli.main(args) == faults.EXIT_NON_FINITE == 3
    err = capsys.readouterr().err
    lr = float(make_schedule(tiny(copy_of_base, peak_lr=1e30))(21))
    assert (
        f"training diverged at step 21 (learning rate {lr:.6g}): loss nan, gradient norm nan" in err
    )
    assert "the last good checkpoint (step 20) is kept and no checkpoint holding NaN" in err
    assert checkpoint_steps(copy_of_base) == [10, 20]
    rows = numbers(strict_rows(copy_of_base))  # Strict JSON: no NaN written.
    assert rows[:20] == reference[:20] and len(rows) == 21  # Step 20 was still finite.


def test_no_checkpoint_is_written_from_a_state_holding_nan(tiny, tmp_path, monkeypatch):
    """Finite metrics but a NaN parameter after update 9: checkpoint 10 is refused."""
    make = loop_lib.make_train_step

    def poisoned(model, schedule, steps_per_call=1, *more):
        inner = make(model, schedule, steps_per_call, *more)

        def step(state, batch):
            state, metrics = inner(state, batch)
            poison = jnp.where(state.step >= 10, jnp.nan, 0.0)
            params = jax.tree.map(lambda p: p + poison, state.params)
            return state.replace(params=params), metrics

        return jax.jit(step, donate_argnums=0)

    monkeypatch.setattr(loop_lib, "make_train_step", poisoned)
    with pytest.raises(faults.NonFiniteError, match="training diverged at step 9 .* left NaN"):
        run(tiny(tmp_path, checkpoint_every=10, eval_every=40))
    assert not (tmp_path / "checkpoints").exists()
    assert len(strict_rows(tmp_path)) == 10
    assert faults.all_finite({"a": jnp.ones(3), "n": jnp.arange(3)})
    assert not faults.all_finite({"a": jnp.array([1.0, jnp.inf])})


# Disk full, unwritable workdir ----------------------------------------------------------------


def test_disk_full_while_saving_is_a_clear_error_and_older_checkpoints_survive(
    copy_of_base, tiny, monkeypatch
):
    """The disk fills while orbax commits checkpoint 30 (its write raises ENOSPC)."""
    from orbax.checkpoint._src.path import atomicity

    commit = atomicity.AtomicRenameTemporaryPath.finalize

    async def full(self):
        if self.get_final().name == "30":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        await commit(self)

    monkeypatch.setattr(atomicity.AtomicRenameTemporaryPath, "finalize", full)
    with pytest.raises(faults.WriteError) as info:
        run(tiny(copy_of_base, checkpoint_every=10))
    message = str(info.value)
    assert info.value.exit_status == 4
    assert (
        f"could not write the checkpoint of step 30 to {copy_of_base / 'checkpoints'}: "
        "No space left on device [errno 28]"
    ) in message
    assert "the older checkpoints (steps 10, 20) are intact" in message
    assert "No space left on device" in (copy_of_base / WRITE_ERROR_FILE).read_text()
    assert checkpoint_steps(copy_of_base) == [10, 20]
    assert not (copy_of_base / LOCK_FILE).exists()
    # Found at a log interval after the failed save (every 5 steps; when exactly depends on when
    # orbax's thread gets to it). The rows past step 20 go when a run resumes.
    assert len(strict_rows(copy_of_base)) in (35, 40)
    state, _ = _saved_state_and_meta(tiny, copy_of_base)
    with Checkpoints(copy_of_base, keep=3) as checkpoints:
        assert int(checkpoints.restore(20, like=state).step) == 20


@pytest.mark.slow
def test_a_real_write_failure_from_the_kernel(reference, copy_of_base, source_dir, data_dir):
    """A file-size limit (ulimit -f) makes the kernel refuse checkpoint 30's data, as a full disk
    does: exit status 4 at once, then the same command without the limit finishes exactly."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    args = argv(copy_of_base, source_dir, data_dir)
    failed = subprocess.run(
        [sys.executable, "-m", "train", *args],
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert failed.returncode == 4, failed.stderr
    assert "could not write the checkpoint of step 30" in failed.stderr
    assert "File too large [errno 27]" in failed.stderr
    assert checkpoint_steps(copy_of_base) == [10, 20]
    assert cli.main(args) == 0
    assert numbers(strict_rows(copy_of_base)) == reference


def _make_unwritable(path: pathlib.Path) -> str:
    """Makes ``path`` refuse new files: chmod for a normal user, the immutable flag for root."""
    if os.geteuid() != 0:
        path.chmod(0o555)
        return "chmod"
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i")
    return "chattr"


def _make_writable(path: pathlib.Path, how: str) -> None:
    if how == "chmod":
        path.chmod(0o755)
    else:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_unwritable_checkpoint_folder_is_a_clear_error(tiny, tmp_path):
    state, meta = _saved_state_and_meta(tiny, tmp_path)
    checkpoints = Checkpoints(tmp_path, keep=3)
    checkpoints.save(10, state, meta)
    checkpoints.wait()
    how = _make_unwritable(tmp_path / "checkpoints")
    try:
        with pytest.raises(faults.WriteError) as info:
            checkpoints.save(20, state, meta)
            checkpoints.wait()
    finally:
        _make_writable(tmp_path / "checkpoints", how)
        checkpoints.close()
    assert "could not write the checkpoint of step 20" in str(info.value)
    assert "Operation not permitted [errno 1]" in str(info.value) or "Permission denied" in str(
        info.value
    )
    assert "the older checkpoint (step 10) is intact" in str(info.value)
    with Checkpoints(tmp_path, keep=3) as again:
        assert again.all_steps() == [10]
        assert int(again.restore(10, like=state).step) == 0


def test_metrics_that_cannot_be_written_are_a_clear_error(tiny, tmp_path):
    logger = RunLogger(tiny(tmp_path), tmp_path, start_step=0)

    class Full:
        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def close(self):
            pass

    logger._jsonl = Full()
    row = {"step": 0, "train/learning_rate": 0.0, "train/loss": 5.0, "train/grad_norm": 1.0}
    with pytest.raises(
        faults.WriteError, match=r"could not append to .*metrics.jsonl: \[Errno 28\]"
    ):
        logger.write([row])
    logger.close()


# The lock -------------------------------------------------------------------------------------


def test_lock_refuses_a_second_holder_and_is_released(tmp_path):
    with WorkdirLock(tmp_path):
        record = json.loads((tmp_path / LOCK_FILE).read_text())
        assert record["pid"] == os.getpid() and record["host"]
        with pytest.raises(WorkdirBusyError, match=f"in use by run pid {os.getpid()} on host"):
            with WorkdirLock(tmp_path):
                pass
    assert not (tmp_path / LOCK_FILE).exists()
    with WorkdirLock(tmp_path):  # Free again.
        pass


def test_lock_of_a_killed_run_does_not_block(tmp_path, caplog):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import pathlib, sys, time\n"
            "from train.lock import WorkdirLock\n"
            f"with WorkdirLock(pathlib.Path({str(tmp_path)!r})):\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(WorkdirBusyError):
        with WorkdirLock(tmp_path):
            pass
    holder.kill()
    holder.wait()
    with caplog.at_level(logging.WARNING, logger="train.lock"):
        with WorkdirLock(tmp_path):
            assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert f"from a run pid {holder.pid} on host" in caplog.text
    assert "ended without releasing it" in caplog.text


# Changed schedule on resume -------------------------------------------------------------------


def test_schedule_change_is_refused_unless_allowed_and_then_recorded(
    copy_of_base, tiny, reference, source_dir, data_dir, capsys, caplog
):
    args = argv(copy_of_base, source_dir, data_dir, "--peak_lr", "1e-3", "--warmup_steps", "2")
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert "refusing to resume from" in err and "the learning-rate schedule changed:" in err
    assert "arguments.peak_value: 0.003 in the checkpoint, 0.001 now" in err
    assert "arguments.num_warmup_steps: 4 in the checkpoint, 2 now" in err
    assert "(to change it on purpose, add --allow_schedule_change)" in err
    assert checkpoint_steps(copy_of_base) == [10, 20]

    with caplog.at_level(logging.WARNING, logger="train.checkpoint"):
        assert cli.main([*args, "--allow_schedule_change"]) == 0
    assert "resuming from step 20 with a changed learning-rate schedule" in caplog.text
    assert "arguments.peak_value: 0.003 in the checkpoint, 0.001 now" in caplog.text
    rows = strict_rows(copy_of_base)
    assert numbers(rows[:20]) == reference[:20]
    new = make_schedule(tiny(copy_of_base, peak_lr=1e-3, warmup_steps=2))
    assert [r["train/learning_rate"] for r in rows[20:]] == [float(new(s)) for s in range(20, 40)]

    with Checkpoints(copy_of_base, keep=3) as checkpoints:
        saved = checkpoints.read_meta(40)
    (change,) = saved["schedule_changes"]
    assert change["step"] == 20
    assert change["previous_schedule"]["arguments"]["peak_value"] == 0.003
    assert "  arguments.peak_value: 0.003 in the checkpoint, 0.001 now" in change["changes"]
    # The same new flags resume without the flag from now on; the old ones are refused.
    now = make_meta(
        tiny(copy_of_base, peak_lr=1e-3, warmup_steps=2), new.to_config(), saved["data_fingerprint"]
    )
    assert check_resume(saved, now, "x") == []
    with pytest.raises(ResumeError):
        check_resume(saved, {**now, "schedule": make_schedule(tiny(copy_of_base)).to_config()}, "x")


# Bad command-line input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--steps", "-5"], "argument --steps: must be at least 1, got -5"),
        (["--steps", "0"], "argument --steps: must be at least 1, got 0"),
        (
            ["--steps", "ten"],
            "argument --steps: the value must be a step count or a duration such as",
        ),
        (["--peak_lr", "fast"], "argument --peak_lr: expected a number or 'auto', got 'fast'"),
        (
            ["--warmup_steps", "50"],
            "the warmup (50 steps) is longer than the run (--steps 40): give --warmup_steps at "
            "most 40",
        ),
        (["--schedule", "cosinus"], "unknown schedule 'cosinus'; choose one of linear, cosine"),
        (["--dataset", "no_such_dataset"], "is not a TensorFlow Datasets data set"),
        (
            ["--batch_size", "5"],
            "--batch_size 5 does not divide evenly over 2 devices: each device takes an equal "
            "share of the batch, so use a multiple of 2, e.g. 4 or 6",
        ),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    extra, message, tmp_path, source_dir, data_dir, monkeypatch, capsys
):
    # One CPU device here: pretend there are two, for the batch-size check.
    check = loop_lib.check_batch_size
    monkeypatch.setattr(
        loop_lib,
        "check_batch_size",
        lambda batch_size, mesh: check(batch_size, type("Mesh", (), {"shape": {"data": 2}})()),
    )
    workdir = tmp_path / "never"
    args = argv(workdir, source_dir, data_dir, *extra)
    if "--dataset" in extra:  # --source_dir is for the Python sources only
        at = args.index("--source_dir")
        del args[at : at + 2]
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert not workdir.exists()

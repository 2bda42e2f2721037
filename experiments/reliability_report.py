"""Faults, caused for real: what ``python -m train`` does and whether anything is lost.

Every scenario runs the training CLI in subprocesses (tiny preset, 40 steps) and breaks it the way
life does: SIGKILL in the middle of writing a checkpoint and at random moments, a truncated or
missing checkpoint file, SIGTERM and SIGINT from another process, a loss that turns NaN, a file
system that refuses writes, a second run on the same workdir, a changed schedule, bad flags. It
then runs the same command again and compares the per-step numbers with a run that was never
interrupted. The report says, per fault, how it was caused, what the program did (exit status and
its own words) and what was lost.

Usage: ``python -m experiments.reliability_report [--out results/RELIABILITY.md] [--kills 5]``.
Exits with status 1 if any scenario broke a promise.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import pathlib
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from experiments.fault_launcher import PAUSED_IN_SAVE
from train import data as data_lib
from train import faults
from train.checkpoint import DAMAGED_DIR
from train.lock import LOCK_FILE

TIMING = "train/tokens_per_sec"
TIMEOUT_S = 300
# A few real standard-library files: enough text for the tiny preset, prepared in a second.
SOURCE_FILES = (
    "bisect.py", "colorsys.py", "fnmatch.py", "glob.py", "heapq.py", "shlex.py", "string.py",
    "textwrap.py", "json/decoder.py",
)  # fmt: skip
# The program's own lines in its output (the rest is absl and XLA chatter).
OWN_PREFIXES = (
    "python -m train:", "WARNING:train", "received SIG", "stopped by", "done:", "stopped after",
)  # fmt: skip


# Lines that continue a multi-line message of the program.
CONTINUATIONS = ("  ", "(", "Rerun", "Move the folder")


@dataclasses.dataclass
class Outcome:
    """One run of ``python -m train``."""

    args: list[str]
    status: int
    seconds: float
    lines: list[str]  # The program's own messages.
    text: str = ""  # Everything it printed.

    def said(self) -> str:
        return "\n".join(self.lines)


@dataclasses.dataclass
class Scenario:
    """One fault: how it was caused, what the program did, what was lost, and whether every
    promise held."""

    fault: str
    caused: str
    brief: str  # How it was caused, in a few words, for the summary table.
    did: list[str] = dataclasses.field(default_factory=list)
    outcome: str = ""  # What the program did, in a few words.
    statuses: list[int] = dataclasses.field(default_factory=list)  # Exit statuses, in order.
    lost: str = ""
    checks: list[tuple[str, bool]] = dataclasses.field(default_factory=list)
    outputs: list[Outcome] = dataclasses.field(default_factory=list)

    def ran(self, outcome: Outcome) -> Outcome:
        self.outputs.append(outcome)
        self.statuses.append(outcome.status)
        return outcome

    def check(self, what: str, ok: bool) -> bool:
        self.checks.append((what, bool(ok)))
        return bool(ok)

    @property
    def ok(self) -> bool:
        return all(ok for _, ok in self.checks)


class Lab:
    """Runs the CLI on a small data set in a scratch folder and reads what it left."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        self.source_dir = root / "python_sources"
        self.data_dir = root / "tensorflow_datasets"
        for name in SOURCE_FILES:
            (self.source_dir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(data_lib.stdlib_dir() / name, self.source_dir / name)
        data_lib.load_stdlib(self.data_dir, self.source_dir)  # Prepared once, before any run.
        self.count = 0
        self._references: dict[tuple[str, ...], list[dict[str, Any]]] = {}

    def reference(self, *extra: str) -> list[dict[str, Any]]:
        """The numbers of an uninterrupted run with these extra flags (run once, then kept)."""
        if extra not in self._references:
            workdir = self.workdir("reference")
            outcome = self.run(self.argv(workdir, *extra))
            if outcome.status != 0:
                raise RuntimeError(f"the reference run failed:\n{outcome.text}")
            self._references[extra] = numbers(metrics_state(workdir)[1])
        return self._references[extra]

    def workdir(self, name: str) -> pathlib.Path:
        self.count += 1
        return self.root / f"{self.count:02d}_{name}"

    def argv(self, workdir: pathlib.Path, *extra: str) -> list[str]:
        return [
            "--preset", "tiny", "--workdir", str(workdir), "--source_dir", str(self.source_dir),
            "--data_dir", str(self.data_dir), "--no_progress", "--checkpoint_every", "10", *extra,
        ]  # fmt: skip

    @staticmethod
    def command(args: Sequence[str]) -> list[str]:
        return [sys.executable, "-m", "train", *args]

    def run(
        self,
        args: list[str],
        env: dict[str, str] | None = None,
        preexec: Callable[[], None] | None = None,
    ) -> Outcome:
        start = time.perf_counter()
        done = subprocess.run(
            self.command(args),
            env={**os.environ, **(env or {})},
            preexec_fn=preexec,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        text = done.stdout + done.stderr
        return Outcome(args, done.returncode, time.perf_counter() - start, own_lines(text), text)

    def spawn(self, args: list[str], fault: Sequence[str] = ()) -> subprocess.Popen:
        """Starts the run in the background, through ``experiments.fault_launcher`` with the
        launcher's flags ``fault`` (e.g. ``("--pause-in-save", "20")``)."""
        command = [sys.executable, "-m", "experiments.fault_launcher", *fault, "--", *args]
        return subprocess.Popen(
            command if fault else self.command(args),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )


def own_lines(text: str) -> list[str]:
    """The program's messages, each with its indented continuation lines joined on."""
    lines: list[str] = []
    within = False
    for line in text.splitlines():
        if line.strip().startswith(OWN_PREFIXES):
            lines.append(line.strip())
            within = True
        elif within and line.startswith(CONTINUATIONS):
            lines[-1] += " " + line.strip()
        else:
            within = False
    return lines


def wait_for_line(proc: subprocess.Popen, marker: str) -> bool:
    """Reads the process's stderr up to a line holding ``marker``, then keeps draining it in a
    thread (a full pipe would stall the process)."""
    deadline = time.monotonic() + TIMEOUT_S
    found = False
    for line in proc.stderr:
        if marker in line:
            found = True
            break
        if time.monotonic() > deadline:
            break
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    return found


def metrics_state(workdir: pathlib.Path) -> tuple[bool, list[dict[str, Any]]]:
    """(valid, rows): valid means strict JSON lines, whole lines, one row per step from 0."""
    path = workdir / "metrics.jsonl"
    if not path.exists():
        return True, []
    text = path.read_text()

    def reject(name: str) -> None:
        raise ValueError(name)

    try:
        rows = [json.loads(line, parse_constant=reject) for line in text.splitlines()]
    except ValueError:
        return False, []
    valid = (not text or text.endswith("\n")) and [r["step"] for r in rows] == list(
        range(len(rows))
    )
    return valid, rows


def numbers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != TIMING} for r in rows]


def checkpoints(workdir: pathlib.Path) -> list[str]:
    folder = workdir / "checkpoints"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def compare(s: Scenario, workdir: pathlib.Path, reference: list[dict[str, Any]]) -> None:
    """Checks the finished run against the uninterrupted one and says what was lost."""
    valid, rows = metrics_state(workdir)
    s.check("metrics.jsonl is valid JSON lines with one row per step", valid)
    same = numbers(rows) == reference
    s.check("every step's loss, LR and gradient norm equal the uninterrupted run's", same)
    s.lost = (
        f"nothing: all {len(rows)} steps' losses, LRs and gradient norms are bit-identical to "
        "the run that was never interrupted"
        if same
        else f"DIFFERENT from the uninterrupted run ({len(rows)} rows)"
    )


def last_message(outcome: Outcome) -> str:
    return outcome.lines[-1] if outcome.lines else "(no message)"


# The scenarios ---------------------------------------------------------------------------------


def sigkill_in_save(lab: Lab) -> Scenario:
    s = Scenario(
        "SIGKILL while a checkpoint is being written",
        "the run was held (`python -m experiments.fault_launcher --pause-in-save 20`) inside orbax's save of "
        "checkpoint 20, after its files were written into the temporary folder and before the "
        "rename that commits it; then `kill -9`",
        "`kill -9` inside the save of checkpoint 20",
    )
    workdir = lab.workdir("sigkill_in_save")
    args = lab.argv(workdir)
    proc = lab.spawn(args, ("--pause-in-save", "20"))
    s.check("the run reached the middle of the save", wait_for_line(proc, PAUSED_IN_SAVE))
    proc.kill()
    s.statuses.append(proc.wait())
    left = checkpoints(workdir)
    valid, rows = metrics_state(workdir)
    s.did.append(
        f"killed (status {proc.returncode}); on disk: checkpoints/{{{', '.join(left)}}}, "
        f"{len(rows)} metric rows, the dead run's lock file"
    )
    s.check(
        "only checkpoint 10 is complete; 20 is an uncommitted temporary folder",
        left == ["10", "20.orbax-checkpoint-tmp"],
    )
    s.check("metrics.jsonl valid right after the kill", valid)
    again = lab.run(args)
    s.ran(again)
    summary = json.loads((workdir / "summary.json").read_text())
    s.did.append(
        f"the same command: status {again.status}; deleted the temporary folder, took over the "
        f"dead run's lock, resumed from step {summary['resumed_from_step']}: "
        + " / ".join(again.lines)
    )
    s.check("the same command resumes from checkpoint 10", summary["resumed_from_step"] == 10)
    s.check("no temporary folder left", not any(".orbax" in n for n in checkpoints(workdir)))
    s.outcome = "resumed from checkpoint 10"
    compare(s, workdir, lab.reference())
    return s


def sigkill_random(lab: Lab, kills: int, seed: int) -> Scenario:
    extra = ("--steps", "200", "--log_every", "1", "--checkpoint_every", "5")
    s = Scenario(
        f"SIGKILL at {kills} random moments",
        f"a 200-step run with a checkpoint every 5 steps; `kill -9` a random 0-1 s (seed {seed}) "
        f"after it logged its first step, {kills} times on one workdir, each time starting the "
        "same command again",
        f"`kill -9` {kills} times at random moments",
    )
    workdir = lab.workdir("sigkill_random")
    args = lab.argv(workdir, *extra)
    rng = np.random.default_rng(seed)
    moments = []
    done = 0
    while done < kills:
        before = len(metrics_state(workdir)[1])
        proc = lab.spawn(args)
        deadline = time.monotonic() + TIMEOUT_S
        while (
            len(metrics_state(workdir)[1]) <= before
            and proc.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.005)
        delay = float(rng.uniform(0.0, 1.0))
        try:
            proc.wait(timeout=delay)
            moments.append("it finished first")
            break
        except subprocess.TimeoutExpired:
            proc.kill()
            s.statuses.append(proc.wait())
        done += 1
        valid, rows = metrics_state(workdir)
        names = checkpoints(workdir)
        complete = [int(n) for n in names if n.isdigit()]
        moments.append(
            f"{len(rows)} rows, newest checkpoint {max(complete) if complete else 'none'}"
            + (" and a save in progress" if len(complete) < len(names) else "")
        )
        s.check(f"metrics.jsonl valid after kill {done}", valid)
    s.did.append("killed with, on disk: " + "; ".join(moments))
    final = lab.run(args)
    s.ran(final)
    s.did.append(f"the same command: status {final.status}: " + " / ".join(final.lines))
    s.check("the last run finishes", final.status == 0)
    s.outcome = "each run resumed from the newest complete checkpoint"
    compare(s, workdir, lab.reference(*extra))
    return s


def damaged(lab: Lab, how: str) -> Scenario:
    truncate = how == "truncated"
    s = Scenario(
        f"newest checkpoint damaged ({how} file)",
        "a run stopped after step 30 (checkpoints 10, 20, 30); then "
        + (
            "the largest data file of checkpoint 30 was cut to half its size"
            if truncate
            else "checkpoint 30's `meta/metadata` file was deleted"
        ),
        "half of a data file cut off" if truncate else "a metadata file deleted",
    )
    workdir = lab.workdir(f"damaged_{how}")
    args = lab.argv(workdir)
    lab.run([*args, "--stop_after", "30"])
    step_dir = workdir / "checkpoints" / "30"
    if truncate:
        biggest = max((step_dir / "state" / "d").iterdir(), key=lambda p: p.stat().st_size)
        os.truncate(biggest, biggest.stat().st_size // 2)
    else:
        (step_dir / "meta" / "metadata").unlink()
    again = lab.run(args)
    s.ran(again)
    warning = next((line for line in again.lines if "is damaged" in line), "")
    s.did.append(f"status {again.status}; {warning}")
    s.check("a warning names step 30", "the checkpoint of step 30 is damaged" in warning)
    s.check(
        "the damaged checkpoint was moved aside, not deleted",
        (workdir / DAMAGED_DIR / "30" / "WHY_DAMAGED.txt").exists(),
    )
    summary = json.loads((workdir / "summary.json").read_text())
    s.check("resumed from checkpoint 20", summary["resumed_from_step"] == 20)
    s.did.append(f"resumed from step 20; checkpoints now {', '.join(checkpoints(workdir))}")
    s.outcome = "warned, moved it aside, resumed from 20"
    compare(s, workdir, lab.reference())
    return s


def signal_from_outside(lab: Lab, signum: signal.Signals) -> Scenario:
    extra = ("--steps", "400", "--log_every", "1")
    s = Scenario(
        f"{signum.name} ({'preemption' if signum == signal.SIGTERM else 'Ctrl-C'})",
        f"another process sent {signum.name} while the run trained (a 400-step run logging every "
        "step; sent 0.3 s after its first row appeared)",
        f"`kill -{signum.name[3:]}` while training",
    )
    workdir = lab.workdir(signum.name.lower())
    args = lab.argv(workdir, *extra)
    proc = lab.spawn(args)
    deadline = time.monotonic() + TIMEOUT_S
    while not metrics_state(workdir)[1] and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(0.3)  # Into the training.
    os.kill(proc.pid, signum)
    err = proc.communicate(timeout=TIMEOUT_S)[1]
    s.statuses.append(proc.returncode)
    stopped = [int(c) for c in checkpoints(workdir) if c.isdigit()]
    valid, rows = metrics_state(workdir)
    s.did.append(f"status {proc.returncode}: " + " / ".join(own_lines(err)))
    s.check(f"exit status {128 + signum}", proc.returncode == 128 + signum)
    s.check(
        "wrote a checkpoint of the step it stopped at",
        bool(stopped) and stopped[-1] == len(rows) and f"after step {stopped[-1]}" in err,
    )
    s.check("metrics.jsonl valid after the stop", valid)
    again = lab.run(args)
    s.ran(again)
    summary = json.loads((workdir / "summary.json").read_text())
    s.did.append(
        f"the same command: status {again.status}, resumed from step {summary['resumed_from_step']}"
    )
    s.outcome = f"finished step {stopped[-1] if stopped else '?'}, checkpointed it, exited"
    compare(s, workdir, lab.reference(*extra))
    return s


def non_finite(lab: Lab) -> Scenario:
    s = Scenario(
        "loss becomes NaN",
        "a run stopped after step 20 was continued with `--peak_lr 1e30 --allow_schedule_change` "
        "(the LR jumps to ~5.9e29, the loss is NaN from step 21); then the original command",
        "peak LR 1e30 from step 20 on",
    )
    workdir = lab.workdir("nan")
    args = lab.argv(workdir)
    lab.run([*args, "--stop_after", "20"])
    blown = lab.run([*args, "--peak_lr", "1e30", "--allow_schedule_change"])
    s.ran(blown)
    s.did.append(f"status {blown.status}: {last_message(blown)}")
    s.check("exit status 3", blown.status == faults.EXIT_NON_FINITE)
    s.check(
        "the message names step 21 and its LR",
        "training diverged at step 21 (learning rate 5.43578e+29)" in blown.text,
    )
    s.check("no checkpoint past step 20", checkpoints(workdir) == ["10", "20"])
    valid, rows = metrics_state(workdir)
    s.check(
        "metrics.jsonl valid, no NaN in it (its rows end at the last finite step, 20)",
        valid and len(rows) == 21,
    )
    again = lab.run(args)  # Back to the original flags.
    s.ran(again)
    s.did.append(f"the original command: status {again.status}, resumed from step 20")
    s.outcome = "stopped at step 21 naming its LR; checkpoint 20 kept"
    compare(s, workdir, lab.reference())
    return s


def _set_rlimit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def disk_full(lab: Lab) -> Scenario:
    s = Scenario(
        "disk full while saving",
        "a run stopped after step 20, then continued under a 64 KiB file-size limit "
        "(`ulimit -f`): the kernel refuses checkpoint 30's data files as it would on a full "
        "disk; then the same command without the limit",
        "`ulimit -f 64`: the kernel refuses the write",
    )
    workdir = lab.workdir("disk_full")
    args = lab.argv(workdir)
    lab.run([*args, "--stop_after", "20"])
    full = lab.run(args, preexec=_set_rlimit)
    s.ran(full)
    s.did.append(f"status {full.status} after {full.seconds:.1f} s: {last_message(full)}")
    s.check("exit status 4", full.status == faults.EXIT_WRITE_ERROR)
    s.check(
        "the message gives the reason and the intact checkpoints",
        "File too large [errno 27]" in full.text and "(steps 10, 20) are intact" in full.text,
    )
    s.check(
        "checkpoints 10 and 20 intact",
        [c for c in checkpoints(workdir) if c.isdigit()] == ["10", "20"],
    )
    s.check("metrics.jsonl valid", metrics_state(workdir)[0])
    again = lab.run(args)
    s.ran(again)
    s.did.append(f"the same command without the limit: status {again.status}, resumed from 20")
    s.outcome = "stopped with the reason; 10 and 20 intact"
    compare(s, workdir, lab.reference())
    return s


def unwritable(lab: Lab) -> Scenario:
    root = os.geteuid() == 0
    how = "`chattr +i` (root ignores permissions)" if root else "`chmod 555`"
    s = Scenario(
        "unwritable workdir while saving",
        f"a run stopped after step 20; then its checkpoints folder was made unwritable with {how} "
        "and the run continued; then made writable and the same command run again",
        "checkpoints folder made read-only",
    )
    workdir = lab.workdir("unwritable")
    args = lab.argv(workdir)
    lab.run([*args, "--stop_after", "20"])
    folder = workdir / "checkpoints"
    if root:
        locked = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    else:
        folder.chmod(0o555)
        locked = True
    if not locked:
        s.did.append("skipped: this file system does not support chattr +i")
        return s
    try:
        refused = lab.run(args)
    finally:
        if root:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        else:
            folder.chmod(0o755)
    s.ran(refused)
    s.did.append(f"status {refused.status} after {refused.seconds:.1f} s: {last_message(refused)}")
    s.check("exit status 4", refused.status == faults.EXIT_WRITE_ERROR)
    s.check("checkpoints 10 and 20 intact", checkpoints(workdir) == ["10", "20"])
    again = lab.run(args)
    s.ran(again)
    s.did.append(f"made writable again, the same command: status {again.status}")
    s.outcome = "stopped with the reason; 10 and 20 intact"
    compare(s, workdir, lab.reference())
    return s


def two_runs(lab: Lab) -> Scenario:
    s = Scenario(
        "two runs on one workdir",
        "a second `python -m train` on the same workdir while the first was running (held inside "
        "a save by `experiments/fault_launcher.py --pause-in-save`); then the first was killed with `kill -9` and the command run "
        "again",
        "the same command started twice",
    )
    workdir = lab.workdir("two_runs")
    args = lab.argv(workdir)
    first = lab.spawn(args, ("--pause-in-save", "20"))
    wait_for_line(first, PAUSED_IN_SAVE)
    second = lab.run(args)
    s.ran(second)
    s.did.append(f"the second run: status {second.status}: {last_message(second)}")
    s.check("the second run is refused with status 2", second.status == 2)
    s.check("the message names the first run's pid", f"run pid {first.pid}" in second.text)
    first.kill()
    s.statuses.append(first.wait())
    holder = json.loads((workdir / LOCK_FILE).read_text())
    s.did.append(f"the first run killed; its lock file stays (pid {holder['pid']})")
    again = lab.run(args)
    s.ran(again)
    s.did.append(f"the same command: status {again.status}: " + " / ".join(again.lines))
    s.check("a lock left by a killed run does not block", again.status == 0)
    s.outcome = "the second refused, naming the first"
    compare(s, workdir, lab.reference())
    return s


def schedule_change(lab: Lab) -> Scenario:
    s = Scenario(
        "resume with a changed schedule",
        "a run stopped after step 20 was continued with `--peak_lr 1e-3 --warmup_steps 2`, "
        "first without, then with `--allow_schedule_change`",
        "other --peak_lr and --warmup_steps",
    )
    workdir = lab.workdir("schedule_change")
    args = lab.argv(workdir)
    lab.run([*args, "--stop_after", "20"])
    changed = [*args, "--peak_lr", "1e-3", "--warmup_steps", "2"]
    refused = lab.run(changed)
    s.ran(refused)
    s.did.append(f"without the flag: status {refused.status}: " + " ".join(refused.lines))
    s.check(
        "refused with status 2, listing the changes",
        refused.status == 2
        and "peak_value: 0.003 in the checkpoint, 0.001 now" in refused.text
        and "num_warmup_steps: 4 in the checkpoint, 2 now" in refused.text,
    )
    allowed = lab.run([*changed, "--allow_schedule_change"])
    s.ran(allowed)
    s.did.append(f"with the flag: status {allowed.status}: " + " ".join(allowed.lines))
    s.check(
        "allowed with the flag, saying what changed",
        allowed.status == 0 and "with a changed learning-rate schedule" in allowed.text,
    )
    valid, rows = metrics_state(workdir)
    s.check("steps 0-19 untouched", numbers(rows[:20]) == lab.reference()[:20])
    meta = json.loads((workdir / "checkpoints" / "40" / "meta" / "metadata").read_text())
    change = meta["schedule_changes"][0]
    s.check("the change is recorded in the checkpoint", change["step"] == 20)
    s.did.append(
        f"checkpoint 40's meta records at step {change['step']}: "
        + "; ".join(c.strip() for c in change["changes"])
    )
    s.lost = "nothing: steps 0-19 as before; from step 20 the new schedule, on purpose"
    s.check("metrics.jsonl valid", valid)
    s.outcome = "refused, listing the changes; allowed with the flag"
    return s


BAD_INPUT = (
    ("--steps", "-5"),
    ("--steps", "0"),
    ("--steps", "ten"),
    ("--peak_lr", "fast"),
    ("--warmup_steps", "50"),
    ("--schedule", "cosinus"),
    ("--dataset", "no_such_dataset"),
    ("--batch_size", "3"),
)


def bad_input(lab: Lab) -> Scenario:
    s = Scenario(
        "bad command-line input",
        "each flag below on the tiny preset (40 steps), with a workdir that does not exist; "
        "`--batch_size 3` on 2 devices (XLA_FLAGS=--xla_force_host_platform_device_count=2)",
        "8 kinds of bad flags",
    )
    for flag in BAD_INPUT:
        workdir = lab.workdir("bad_input")
        env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
        outcome = lab.run(lab.argv(workdir, *flag), env=env)
        s.ran(outcome)
        message = last_message(outcome).replace("python -m train: error: ", "")
        s.did.append(f"`{' '.join(flag)}`: status {outcome.status}: {message}")
        s.check(f"`{' '.join(flag)}`: status 2", outcome.status == 2)
        s.check(f"`{' '.join(flag)}`: nothing written", not workdir.exists())
    s.lost = "nothing: no workdir was created"
    s.outcome = "said what is wrong and what is accepted"
    return s


# The report ------------------------------------------------------------------------------------


def render(scenarios: list[Scenario], seconds: float) -> str:
    import jax
    import orbax.checkpoint

    lines = [
        "# Reliability: faults caused for real",
        "",
        f"Generated by `python -m experiments.reliability_report` on {datetime.date.today().isoformat()} "
        f"({platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, jax {jax.__version__}, orbax-checkpoint "
        f"{orbax.checkpoint.__version__}; {seconds:.0f} s in all). Each scenario runs `python -m "
        "train --preset tiny` (40 steps, a checkpoint every 10, unless it says otherwise) in "
        "subprocesses, causes the fault, runs the same command again, and compares every "
        "step's loss, learning rate and gradient norm with a run of the same flags that was "
        "never interrupted. The fault launcher (`experiments/fault_launcher.py`, outside the harness) only holds a run at a "
        "chosen moment; every fault itself is real (signals, truncated files, kernel errors). "
        "`$SCRATCH` stands for the scratch folder the runs used.",
        "",
        "| fault | caused by | what the program did | exit statuses | lost | checks |",
        "|---|---|---|---|---|---|",
    ]
    for s in scenarios:
        statuses = ", ".join(map(str, s.statuses)) or "-"
        kept = sum(ok for _, ok in s.checks)
        mark = f"{kept}/{len(s.checks)} ok" if s.ok else f"**{len(s.checks) - kept} FAILED**"
        lines.append(
            f"| {s.fault} | {s.brief} | {s.outcome} | {statuses} | "
            f"{s.lost.split(':')[0] or '-'} | {mark} |"
        )
    lines += [
        "",
        "Exit statuses: 0 done; 2 bad input, refused resume or workdir in use (nothing written); "
        "3 non-finite loss or gradient; 4 a checkpoint or the metrics could not be written; "
        "130 and 143 stopped by SIGINT and SIGTERM after writing a checkpoint; -9 killed.",
    ]
    for s in scenarios:
        lines += ["", f"## {s.fault}", "", f"**Caused by:** {s.caused}.", "", "**What it did:**"]
        lines += [""] + [f"- {d}" for d in s.did]
        lines += ["", f"**Lost:** {s.lost or '-'}.", "", "**Checked:**", ""]
        lines += [f"- [{'x' if ok else ' '}] {what}" for what, ok in s.checks]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Runs every scenario and writes the report; returns 1 if a promise was broken."""
    parser = argparse.ArgumentParser(
        prog="python -m experiments.reliability_report", description=__doc__
    )
    parser.add_argument("--out", default="results/RELIABILITY.md", help="the report (Markdown)")
    parser.add_argument("--kills", type=int, default=5, help="random SIGKILLs (default: 5)")
    parser.add_argument("--seed", type=int, default=6, help="seed of the kill moments")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    root = pathlib.Path(tempfile.mkdtemp(prefix="reliability_"))
    try:
        lab = Lab(root)
        steps = [
            ("SIGKILL in a save", lambda: sigkill_in_save(lab)),
            ("SIGKILL at random", lambda: sigkill_random(lab, args.kills, args.seed)),
            ("truncated", lambda: damaged(lab, "truncated")),
            ("missing", lambda: damaged(lab, "missing")),
            ("SIGTERM", lambda: signal_from_outside(lab, signal.SIGTERM)),
            ("SIGINT", lambda: signal_from_outside(lab, signal.SIGINT)),
            ("NaN", lambda: non_finite(lab)),
            ("disk full", lambda: disk_full(lab)),
            ("unwritable", lambda: unwritable(lab)),
            ("two runs", lambda: two_runs(lab)),
            ("schedule change", lambda: schedule_change(lab)),
            ("bad input", lambda: bad_input(lab)),
        ]
        scenarios = []
        for name, make in steps:
            t = time.perf_counter()
            scenario = make()
            scenarios.append(scenario)
            print(
                f"{'ok  ' if scenario.ok else 'FAIL'} {name} ({time.perf_counter() - t:.0f} s)",
                flush=True,
            )
        out = pathlib.Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        report = render(scenarios, time.perf_counter() - started)
        out.write_text(report.replace(str(root), "$SCRATCH"))
        print(f"wrote {out}")
        return 0 if all(s.ok for s in scenarios) else 1
    finally:
        if args.keep:
            print(f"scratch folder kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

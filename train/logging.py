"""Where metrics go: ``metrics.jsonl``, TensorBoard event files, optional W&B, a progress bar.

A row is one optimizer step: ``{"step": s, "train/learning_rate": ..., "train/loss": ...}``, where
``train/learning_rate`` is the LR update ``s`` used (``schedule(s)``) and ``train/loss`` the loss
before it. A row that also has ``val/loss`` measured the model right after update ``s``.
The loop hands rows over only at log intervals; nothing here touches the device.

``metrics.jsonl`` survives crashes: each interval's rows go out as whole lines in one write, and a
resumed run first drops a torn last line and the rows past its checkpoint (rewriting the file into
a temporary one, then renaming it over), so the file always ends with one row per step.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pathlib
from collections.abc import Sequence
from typing import Any

import tqdm
from tensorboardX import SummaryWriter

from train import faults
from train.config import RunConfig

Row = dict[str, Any]
METRICS_FILE = "metrics.jsonl"
# Lines of metrics.jsonl that are not rows, kept when a resume rewrites it.
DAMAGED_METRICS_FILE = "metrics.jsonl.damaged"
log = logging.getLogger(__name__)


def _is_row(value: Any) -> bool:
    """Whether ``value`` is a row this harness writes: a step and the LR and loss it trained with."""
    return (
        isinstance(value, dict)
        and type(value.get("step")) is int
        and value["step"] >= 0
        and all(
            isinstance(value.get(key), (int, float)) and not isinstance(value.get(key), bool)
            for key in ("train/learning_rate", "train/loss")
        )
    )


def parse_metrics(path: pathlib.Path) -> tuple[list[Row], list[bytes]]:
    """The rows of the metrics file ``path``, and its damaged lines (every line that is not a row:
    not UTF-8, not JSON, or JSON without a step, LR and loss), empty lines aside."""
    if not path.exists():
        return [], []
    rows, damaged = [], []
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            row = None
        if _is_row(row):
            rows.append(row)
        else:
            damaged.append(line)
    return rows, damaged


def read_metrics(workdir: str | os.PathLike[str]) -> list[Row]:
    """The rows of ``WORKDIR/metrics.jsonl``, without its damaged lines (see ``parse_metrics``)."""
    return parse_metrics(pathlib.Path(workdir) / METRICS_FILE)[0]


def write_atomically(path: pathlib.Path, text: str) -> None:
    """Writes ``text`` to ``path`` so that a crash leaves either the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _truncate_metrics(workdir: pathlib.Path, start_step: int) -> None:
    """Keeps only rows before ``start_step``: a resumed run writes the later ones again.

    Damaged lines (a torn last line of a killed run, a line edited by hand) are not dropped: they
    are appended to ``WORKDIR/metrics.jsonl.damaged``, with a warning that names it.
    """
    path = workdir / METRICS_FILE
    rows, damaged = parse_metrics(path)
    if damaged:
        aside = workdir / DAMAGED_METRICS_FILE
        with open(aside, "ab") as f:
            f.write(b"".join(line + b"\n" for line in damaged))
            f.flush()
            os.fsync(f.fileno())
        log.warning(
            "%s had %d line(s) that are not metric rows (a line torn by a killed run, or edited "
            "by hand); moved them to %s",
            path,
            len(damaged),
            aside,
        )
    if path.exists():
        kept = [r for r in rows if r["step"] < start_step]
        write_atomically(path, "".join(json.dumps(r) + "\n" for r in kept))


def _start_wandb(config: RunConfig, workdir: pathlib.Path) -> Any:
    try:
        import wandb  # noqa: PLC0415  (optional: only --wandb needs it)
    except ImportError as e:
        raise RuntimeError(
            "--wandb needs the wandb package, which is not installed: pip install wandb"
        ) from e
    # The id lives in the workdir so a resumed run continues the same W&B run.
    id_file = workdir / "wandb_run_id"
    if id_file.exists():
        run_id = id_file.read_text().strip()
    else:
        run_id = wandb.util.generate_id()
        id_file.write_text(run_id)
    return wandb.init(
        project=config.wandb_project,
        id=run_id,
        resume="allow",
        dir=str(workdir),
        config=config.to_dict(),
        mode=config.wandb_mode,
    )


# Metrics whose TensorBoard point is the last step's value, not the interval's mean (and those
# whose names start so: each parameter group's train/learning_rate/<group>).
LAST_VALUE = ("train/learning_rate", "train/tokens_seen")


def tensorboard_points(rows: Sequence[Row]) -> list[tuple[str, float, int]]:
    """What TensorBoard gets of one log interval's rows: ``(tag, value, step)``.

    One point per metric per interval, at its last step, as flax's examples write summaries:
    the mean of each training metric over the interval (loss, gradient norm, throughput), the
    LRs and the tokens seen of the last step, and every validation value at its own step. A point per step would cost
    the loop about 60 us per metric per step (tensorboardX writes through a process queue),
    more than a whole ``tiny`` step; ``metrics.jsonl`` keeps every step.
    """
    last = rows[-1]["step"]
    points = []
    for key in rows[-1]:
        if key == "step" or key.startswith("val/"):
            continue
        values = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
        if not values:
            continue
        value = values[-1] if key.startswith(LAST_VALUE) else sum(values) / len(values)
        points.append((key, float(value), last))
    for r in rows:
        for key, value in r.items():
            if key.startswith("val/") and isinstance(value, (int, float)):
                points.append((key, float(value), r["step"]))
    return points


class RunLogger:
    """Writes rows to every sink and keeps the progress bar; ``start_step`` > 0 means resumed.

    ``total_steps``: the progress bar's end (default ``config.steps``; a run whose schedule is in
    tokens and whose batch changed takes another number of steps)."""

    def __init__(
        self,
        config: RunConfig,
        workdir: pathlib.Path,
        start_step: int,
        total_steps: int | None = None,
    ) -> None:
        self.workdir = workdir
        # First: if W&B cannot start, nothing else has been opened or rewritten.
        self._wandb = _start_wandb(config, workdir) if config.wandb else None
        _truncate_metrics(workdir, start_step)
        # Unbuffered: each write() below is one system call of whole lines.
        self._jsonl = open(workdir / METRICS_FILE, "ab", buffering=0)  # noqa: SIM115
        # purge_step makes TensorBoard drop events a killed run wrote after the checkpoint.
        self._tb = SummaryWriter(str(workdir / "tb"), purge_step=start_step or None)
        self._bar = tqdm.tqdm(
            total=total_steps or config.steps,
            initial=start_step,
            unit="step",
            dynamic_ncols=True,
            disable=not config.progress,
        )

    def write(self, rows: Sequence[Row]) -> None:
        """Records rows of consecutive steps and advances the progress bar past the last one."""
        if not rows:
            return
        self._append_lines("".join(json.dumps(row) + "\n" for row in rows).encode())
        for key, value, step in tensorboard_points(rows):
            self._tb.add_scalar(key, value, step)
        if self._wandb is not None:
            for row in rows:
                self._wandb.log({k: v for k, v in row.items() if k != "step"}, step=row["step"])
        last = rows[-1]
        self._bar.update(last["step"] + 1 - self._bar.n)
        postfix = {
            "loss": f"{last['train/loss']:.3f}",
            "lr": f"{last['train/learning_rate']:.3g}",
            "tok/s": f"{last.get('train/tokens_per_sec', math.nan):,.0f}",
        }
        if "val/loss" in last:
            postfix["val"] = f"{last['val/loss']:.3f}"
        self._bar.set_postfix(postfix, refresh=True)

    def _append_lines(self, data: bytes) -> None:
        try:
            view = memoryview(data)
            while view:  # A regular file takes it all at once; the loop is for the odd case.
                view = view[self._jsonl.write(view) :]
        except OSError as e:
            raise faults.WriteError(
                f"could not append to {self.workdir / METRICS_FILE}: {e}. Stopped; the "
                "checkpoints are intact. Free some disk space or make the workdir writable, "
                "then run the same command again to continue."
            ) from e

    def __enter__(self) -> RunLogger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Flushes and closes every sink."""
        self._bar.close()
        self._jsonl.close()
        self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()

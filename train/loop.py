"""The training loop: data -> ``train_step`` -> metrics at log intervals -> checkpoints -> outputs.

``run(config)`` starts fresh in an empty workdir and otherwise resumes from the newest checkpoint
(after checking that the schedule and the settings that shape the numbers are unchanged). It leaves
``metrics.jsonl``, ``tb/``, ``checkpoints/``, ``lr.png``, ``loss.png`` and ``summary.json``.
"""

from __future__ import annotations

import json
import math
import pathlib
import time
from typing import Any

import jax
import numpy as np

from train import data as data_lib
from train.checkpoint import Checkpoints, check_resume, make_meta
from train.config import RunConfig
from train.distributed import batch_sharding, check_batch_size, make_mesh, replicated
from train.logging import RunLogger, read_metrics
from train.model import ByteTransformer
from train.plots import plot_loss, plot_lr
from train.rewarmup import accept_rewarmup, rewarmup_schedule
from train.state import create_train_state, make_optimizer, make_schedule
from train.step import make_eval_step, make_train_step


def load_data(config: RunConfig) -> data_lib.TextData:
    """The run's data: the embedded Python-source set, or ``config.dataset`` from TFDS."""
    if config.dataset is None:
        return data_lib.load_stdlib(config.data_dir, config.source_dir)
    return data_lib.load_tfds(config.dataset, config.data_dir, config.text_key)


def _host_batch(tokens: np.ndarray, config: RunConfig, step: int) -> np.ndarray:
    """The bytes for the call starting at ``step``: one batch, or ``steps_per_call`` stacked."""
    if config.steps_per_call == 1:
        return data_lib.train_batch(tokens, config.seed, step, config.batch_size, config.seq_len)
    return data_lib.train_batches(
        tokens, config.seed, step, config.steps_per_call, config.batch_size, config.seq_len
    )


def _is_due(step: int, every: int, last: int) -> bool:
    return step % every == 0 or step == last


def _rows(
    firsts: list[int], metrics: list[dict[str, np.ndarray]], tokens_per_sec: float
) -> list[dict[str, Any]]:
    """One row per step from the fetched metrics of the calls that began at steps ``firsts``."""
    rows = []
    for first, values in zip(firsts, metrics):
        columns = {k: np.atleast_1d(v) for k, v in values.items()}
        for k in range(len(columns["loss"])):
            rows.append(
                {
                    "step": first + k,
                    "train/learning_rate": float(columns["learning_rate"][k]),
                    "train/loss": float(columns["loss"][k]),
                    "train/grad_norm": float(columns["grad_norm"][k]),
                    "train/tokens_per_sec": tokens_per_sec,
                }
            )
    return rows


def _eval_row(loss: jax.Array) -> dict[str, float]:
    value = float(jax.device_get(loss))
    return {"val/loss": value, "val/perplexity": math.exp(value)}


def run(config: RunConfig) -> dict[str, Any]:
    """Trains (or resumes) the run described by ``config``; returns what summary.json holds.

    Raises ``ConfigError`` for settings that cannot work with the data, and its subclass
    ``ResumeError`` when the workdir holds a checkpoint of a different run.
    """
    started = time.perf_counter()
    workdir = pathlib.Path(config.workdir).expanduser().resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    schedule = make_schedule(config)
    if config.rewarmup_steps is not None:
        schedule = rewarmup_schedule(config, workdir)
        print(f"rewarmup: {schedule!r}", flush=True)
    data = load_data(config)
    mesh = make_mesh()
    check_batch_size(config.batch_size, mesh)
    val_batches = jax.device_put(
        data_lib.eval_batches(
            data.validation, config.eval_batches, config.batch_size, config.seq_len
        ),
        batch_sharding(mesh, leading_axes=1),
    )

    model = ByteTransformer(config.model, config.seq_len)
    state = create_train_state(config, model, make_optimizer(config, schedule), replicated(mesh))
    meta = make_meta(config, schedule.to_config(), data.fingerprint)
    k = config.steps_per_call
    train_step = make_train_step(model, schedule, k)
    eval_step = make_eval_step(model)
    step_sharding = batch_sharding(mesh, leading_axes=1 if k > 1 else 0)

    with Checkpoints(workdir, config.keep_checkpoints) as checkpoints:
        latest = checkpoints.latest_step()
        if latest is not None:
            saved = checkpoints.read_meta(latest)
            if config.rewarmup_steps is not None:
                saved = accept_rewarmup(saved, schedule)
            check_resume(saved, meta, str(checkpoints.directory / str(latest)))
            state = checkpoints.restore(latest, like=state)
        start = latest or 0
        end = config.steps if config.stop_after is None else min(config.steps, config.stop_after)
        end = max(start, end)
        final_eval: dict[str, float] | None = None
        pending: list[tuple[int, dict[str, jax.Array]]] = []
        with RunLogger(config, workdir, start) as logger:
            since = time.perf_counter()
            step = start
            while step < end:
                batch = jax.device_put(_host_batch(data.train, config, step), step_sharding)
                # Any implicit host<->device copy in the step (a Python scalar argument, a host
                # step count) would raise here instead of silently syncing every step.
                with jax.transfer_guard("disallow"):
                    state, metrics = train_step(state, batch)
                pending.append((step, metrics))
                step += k
                at_eval = _is_due(step, config.eval_every, config.steps)
                at_checkpoint = _is_due(step, config.checkpoint_every, config.steps)
                if not (at_eval or at_checkpoint or step == end or step % config.log_every == 0):
                    continue
                fetched = jax.device_get([m for _, m in pending])  # The interval's one host read.
                seconds = time.perf_counter() - since
                tokens_per_sec = (step - pending[0][0]) * config.tokens_per_step / seconds
                rows = _rows([first for first, _ in pending], fetched, tokens_per_sec)
                pending = []
                if at_eval:
                    final_eval = _eval_row(eval_step(state.params, val_batches))
                    rows[-1].update(final_eval)
                logger.write(rows)
                if at_checkpoint:
                    checkpoints.save(step, state, meta)
                since = time.perf_counter()

    rows = read_metrics(workdir)
    if rows:
        title = f"{config.preset}: {schedule.to_config()['schedule']}, peak LR {config.peak_lr:g}"
        plot_lr(rows, workdir / "lr.png", title)
        plot_loss(rows, workdir / "loss.png", title)
    if end < config.steps:
        return {"steps": end, "stopped_early": True}
    if final_eval is None:  # Already complete when started: measure the final model again.
        final_eval = _eval_row(eval_step(state.params, val_batches))
    summary = {
        "final_val_loss": final_eval["val/loss"],
        "final_perplexity": final_eval["val/perplexity"],
        "steps": config.steps,
        "tokens_seen": config.steps * config.tokens_per_step,
        "resumed_from_step": start if latest is not None else None,
        "wall_time_s": round(time.perf_counter() - started, 2),
        "num_params": int(sum(x.size for x in jax.tree.leaves(state.params))),
        "data": {"name": data.name, "fingerprint": data.fingerprint},
        "schedule": schedule.to_config(),
        "config": config.to_dict(),
    }
    (workdir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary

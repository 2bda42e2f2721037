"""The training loop: data -> ``train_step`` -> metrics at log intervals -> checkpoints -> outputs.

``run(config)`` starts fresh in an empty workdir and otherwise resumes from the newest checkpoint
(after checking that the schedule and the settings that shape the numbers are unchanged). It leaves
``metrics.jsonl``, ``tb/``, ``checkpoints/``, ``lr.png``, ``loss.png`` and ``summary.json``.

Faults (train/faults.py): bad settings are found before anything is written; the workdir is
locked while a run trains; SIGTERM/SIGINT finish the step and checkpoint; a non-finite metric
stops the run before it can reach a checkpoint; a failed save stops it with the older checkpoints
intact; a damaged newest checkpoint is skipped.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import time
from typing import Any

import jax
import numpy as np

import warmup_jax
from train import data as data_lib
from train import faults, token_clock
from train.checkpoint import Checkpoints
from train.config import ConfigError, RunConfig, resolve_lengths, schedule_in_tokens
from train.distributed import (
    check_batch_size,
    check_same_run,
    is_main_process,
    main_process_first,
    make_mesh,
    replicated,
    row_shard,
)
from train.lock import WorkdirLock
from train.logging import RunLogger, read_metrics, write_atomically
from train.model import ByteTransformer
from train.param_groups import check_paths, group_learning_rates, make_groups
from train.plots import plot_loss, plot_lr
from train.prefetch import Prefetcher
from train.resume_check import make_meta
from train.rewarmup import accept_rewarmup, rewarmup_schedule
from train.schedule import make_hyperparams, make_schedule, plateau_settings
from train.state import create_train_state, make_optimizer
from train.step import Windows, make_eval_step, make_train_step


def load_data(config: RunConfig) -> data_lib.TextData:
    """The run's data: the embedded Python-source set, or ``config.dataset`` from TFDS."""
    if config.dataset is None:
        return data_lib.load_stdlib(config.data_dir, config.source_dir)
    return data_lib.load_tfds(config.dataset, config.data_dir, config.text_key)


def _host_batch(
    tokens: np.ndarray, config: RunConfig, step: int, rows: np.ndarray | None = None
) -> np.ndarray:
    """The bytes for the call starting at ``step``: one batch, or ``steps_per_call`` stacked.

    ``rows``: only these rows of each batch (this process's share of a data-parallel batch).
    """
    if config.steps_per_call == 1:
        return data_lib.train_batch(
            tokens, config.seed, step, config.batch_size, config.seq_len, rows
        )
    return data_lib.train_batches(
        tokens, config.seed, step, config.steps_per_call, config.batch_size, config.seq_len, rows
    )


# A training split up to this size is held on the devices and the step cuts its own batches.
DEVICE_DATA_LIMIT = 256 * 2**20
# Steps whose window starts are copied to the devices at once (a multiple of steps_per_call).
CHUNK_STEPS = 512


class _HostBatches(Prefetcher):
    """Each call's batch, cut on the host and placed on the devices by the prefetch thread."""

    def __init__(
        self, tokens: np.ndarray, config: RunConfig, mesh: Any, start: int, end: int
    ) -> None:
        k = config.steps_per_call
        shape = (config.batch_size, config.seq_len + 1)
        shard = row_shard(mesh, (k, *shape) if k > 1 else shape, int(k > 1))
        super().__init__(
            lambda first: shard.put(_host_batch(tokens, config, first, shard.rows)),
            start,
            end,
            k,
        )

    def next(self, step: int) -> Any:  # type: ignore[override]
        del step
        return super().next()


class _DeviceBatches(Prefetcher):
    """The split on the devices, and the window starts of ``CHUNK_STEPS`` steps at a time (made
    and placed by the prefetch thread): the step cuts its batch itself (``train.step.cut``)."""

    def __init__(
        self, tokens: np.ndarray, config: RunConfig, mesh: Any, start: int, end: int
    ) -> None:
        self.chunk = CHUNK_STEPS // config.steps_per_call * config.steps_per_call
        # Every process holds the whole split; each device gets a copy.
        self.tokens = jax.make_array_from_process_local_data(replicated(mesh), tokens, tokens.shape)
        shard = row_shard(mesh, (self.chunk, config.batch_size), leading_axes=1)
        self._current: Windows | None = None
        super().__init__(
            lambda first: shard.put(
                data_lib.train_starts(
                    len(tokens),
                    config.seed,
                    first,
                    self.chunk,
                    config.batch_size,
                    config.seq_len,
                    shard.rows,
                )
            ),
            start // self.chunk * self.chunk,
            end,
            self.chunk,
        )

    def next(self, step: int) -> Windows:  # type: ignore[override]
        if self._current is None or step % self.chunk == 0:
            self._current = Windows(self.tokens, super().next())
        return self._current


def _batches(
    tokens: np.ndarray, config: RunConfig, mesh: Any, start: int, end: int
) -> _HostBatches | _DeviceBatches:
    """What the loop feeds the step for calls ``start`` to ``end``: the split on the devices
    when it is small enough (``DEVICE_DATA_LIMIT``), else batches cut on the host; the same
    bytes either way."""
    if tokens.nbytes <= DEVICE_DATA_LIMIT:
        return _DeviceBatches(tokens, config, mesh, start, end)
    return _HostBatches(tokens, config, mesh, start, end)


class _QuietLogger:
    """Stands in for ``RunLogger`` in processes other than 0: only process 0 writes outputs."""

    def write(self, rows: Any) -> None:
        del rows

    def __enter__(self) -> _QuietLogger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


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
            row: dict[str, Any] = {"step": first + k}
            row.update({f"train/{name}": float(column[k]) for name, column in columns.items()})
            row["train/tokens_per_sec"] = tokens_per_sec
            rows.append(row)
    return rows


def _eval_row(loss: jax.Array) -> dict[str, float]:
    value = float(jax.device_get(loss))
    return {"val/loss": value, "val/perplexity": math.exp(value)}


def _saved_clock_batch_size(workdir: pathlib.Path) -> int | None:
    """The batch a schedule in tokens was resolved at, from the workdir's newest checkpoint."""
    if not (workdir / "checkpoints").is_dir():
        return None
    with Checkpoints(workdir, 1, read_only=True) as checkpoints:
        saved = checkpoints.saved_setting("clock_batch_size")
    return saved if isinstance(saved, int) and not isinstance(saved, bool) and saved > 0 else None


def _examples_seen(state: Any) -> int:
    """The sequences a restored state has trained on (0 without a token clock)."""
    seen = token_clock.examples_seen(state.opt_state)
    return 0 if seen is None else int(np.asarray(seen.addressable_data(0)))


def _steps_left(config: RunConfig, seen: int) -> int:
    """Steps at ``--batch_size`` until a schedule in tokens has seen its ``--steps``' sequences
    (``steps * clock_batch_size``); the last may take up to a batch more."""
    assert config.clock_batch_size is not None
    left = max(0, -(-(config.steps * config.clock_batch_size - seen) // config.batch_size))
    if left % config.steps_per_call:
        raise ConfigError(
            f"at --batch_size {config.batch_size} the run has {left} steps left, not a multiple "
            f"of --steps_per_call ({config.steps_per_call}): choose another --steps_per_call "
            "or --batch_size"
        )
    return left


def run(config: RunConfig, *, allow_schedule_change: bool = False) -> dict[str, Any]:
    """Trains (or resumes) the run described by ``config``; returns what summary.json holds.

    Raises ``ConfigError`` for settings that cannot work with the data (before anything is
    written), its subclass ``ResumeError`` when the workdir holds a checkpoint of a different run
    (a changed schedule is accepted with ``allow_schedule_change``), ``WorkdirBusyError`` while
    another run uses the workdir, and ``faults.RunStopped`` (``NonFiniteError``, ``WriteError``)
    when a fault stops the run. Stopped by SIGTERM or SIGINT, it returns ``{"steps": N,
    "stopped_early": True, "signal": "SIGTERM"}`` after writing checkpoint N.
    """
    started = time.perf_counter()
    workdir = pathlib.Path(config.workdir).expanduser().resolve()
    # Process 0 prepares a data set missing from a shared cache before the others read it.
    data = main_process_first(lambda: load_data(config))
    if schedule_in_tokens(config) is None:
        # A resume measures the durations at the batch of the first run, whatever it is now.
        saved = _saved_clock_batch_size(workdir)
        if saved is not None:
            config = dataclasses.replace(config, clock_batch_size=saved)
    if not config.lengths_resolved or config.durations:
        config = resolve_lengths(config, len(data.train))
        config.validate()
        if is_main_process():
            at = config.clock_batch_size
            print(
                "lengths: "
                + ", ".join(
                    f"--{k} {v} = {getattr(config, k)} steps" for k, v in config.durations.items()
                )
                + (
                    f" (steps of {at} sequences: the schedule follows the tokens seen)"
                    if at
                    else ""
                ),
                flush=True,
            )
    schedule = make_schedule(config)
    if config.rewarmup_steps is not None:
        schedule = rewarmup_schedule(config, workdir)
        print(f"rewarmup: {schedule!r}", flush=True)
    check_same_run(config.to_dict(), schedule.to_config(), data.fingerprint)
    mesh = make_mesh()
    check_batch_size(config.batch_size, mesh)
    model = ByteTransformer(config.model, config.seq_len, norm=config.norm)
    shapes = jax.eval_shape(model.init, jax.random.key(0), np.zeros((1, config.seq_len), np.int32))
    check_paths(config, shapes["params"])
    groups = make_groups(config)
    # Every check of the settings is done: only now may the workdir be created.
    workdir.mkdir(parents=True, exist_ok=True)
    # Each process makes only the rows its own devices hold (all of them with one process).
    val_shard = row_shard(
        mesh, (config.eval_batches, config.batch_size, config.seq_len + 1), leading_axes=1
    )
    val_batches = val_shard.put(
        data_lib.eval_batches(
            data.validation, config.eval_batches, config.batch_size, config.seq_len, val_shard.rows
        )
    )

    state = create_train_state(config, model, make_optimizer(config, schedule), replicated(mesh))
    hyperparams = make_hyperparams(config, schedule)
    meta = make_meta(
        config,
        schedule.to_config(),
        data.fingerprint,
        {
            name: hyperparams.hyperparams[name].to_config()
            for name in hyperparams.names
            if name != "learning_rate"  # the schedule's own entry
        }
        if hyperparams is not None
        else None,
    )
    plateau = plateau_settings(config)
    update_plateau = jax.jit(warmup_jax.update_plateau, static_argnums=2)
    k = config.steps_per_call
    train_step = make_train_step(
        model,
        schedule,
        k,
        config.clock_batch_size,
        None if groups is None else group_learning_rates(groups, schedule, shapes["params"]),
    )
    eval_step = make_eval_step(model)

    with (
        WorkdirLock(workdir, enabled=is_main_process()),
        Checkpoints(workdir, config.keep_checkpoints) as checkpoints,
    ):
        latest, state, meta = checkpoints.resume(
            state,
            meta,
            allow_schedule_change,
            (lambda saved: accept_rewarmup(saved, schedule))
            if config.rewarmup_steps is not None
            else None,
        )
        start = latest or 0
        seen = _examples_seen(state) if latest is not None else 0
        last = start + _steps_left(config, seen) if config.clock_batch_size else config.steps
        end = last if config.stop_after is None else min(last, config.stop_after)
        end = max(start, end)
        final_eval: dict[str, float] | None = None
        pending: list[tuple[int, dict[str, jax.Array]]] = []
        main = is_main_process()
        stopped_by: str | None = None
        with (
            RunLogger(config, workdir, start, last) if main else _QuietLogger() as logger,
            faults.StopSignals() as signals,
            _batches(data.train, config, mesh, start, end) as batches,
        ):
            since = time.perf_counter()
            step = start
            while step < end:
                batch = batches.next(step)
                # Any implicit host<->device copy in the step (a Python scalar argument, a host
                # step count) would raise here instead of silently syncing every step.
                with jax.transfer_guard("disallow"):
                    state, metrics = train_step(state, batch)
                pending.append((step, metrics))
                step += k
                at_eval = _is_due(step, config.eval_every, last)
                at_checkpoint = _is_due(step, config.checkpoint_every, last)
                stop = signals.stop_requested(at_fetch=False)
                if not (
                    at_eval or at_checkpoint or stop or step == end or step % config.log_every == 0
                ):
                    continue
                fetched = jax.device_get([m for _, m in pending])  # The interval's one host read.
                # From fetch to fetch: the interval's logging, evaluation and saving count too.
                now = time.perf_counter()
                seconds, since = now - since, now
                tokens_per_sec = (step - pending[0][0]) * config.tokens_per_step / seconds
                rows = _rows([first for first, _ in pending], fetched, tokens_per_sec)
                pending = []
                if config.clock_batch_size is not None:
                    for row in rows:  # after the row's update
                        examples = seen + (row["step"] + 1 - start) * config.batch_size
                        row["train/tokens_seen"] = examples * config.seq_len
                if at_eval:
                    val_loss = eval_step(state.params, val_batches)
                    final_eval = _eval_row(val_loss)
                    rows[-1].update(final_eval)
                    if plateau is not None:  # counts this evaluation; saved with the state
                        opt_state = update_plateau(state.opt_state, val_loss, plateau)
                        state = state.replace(opt_state=opt_state)
                # Checked on the rows already fetched: no extra host sync in the hot path.
                bad = faults.first_non_finite(rows)
                if bad is not None:
                    logger.write(rows[:bad])
                    checkpoints.wait()
                    raise faults.non_finite_error(rows[bad], checkpoints.latest_step())
                logger.write(rows)
                checkpoints.poll()  # Has the last save failed? Then stop now.
                stop = stop or signals.stop_requested(at_fetch=True)
                if at_checkpoint or stop:
                    if not faults.all_finite(state):  # The last update overflowed.
                        checkpoints.wait()
                        raise faults.non_finite_state_error(rows[-1], checkpoints.latest_step())
                    checkpoints.save(step, state, meta)
                if stop:
                    checkpoints.wait()
                    stopped_by = signals.name
                    end = step
                    break

    rows = read_metrics(workdir) if main else []
    if rows:
        title = f"{config.preset}: {schedule.to_config()['schedule']}, peak LR {config.peak_lr:g}"
        plot_lr(rows, workdir / "lr.png", title)
        plot_loss(rows, workdir / "loss.png", title)
    if stopped_by is not None and end < last:
        return {"steps": end, "stopped_early": True, "signal": stopped_by}
    if end < last:
        return {"steps": end, "stopped_early": True}
    if final_eval is None:  # Already complete when started: measure the final model again.
        final_eval = _eval_row(eval_step(state.params, val_batches))
    summary = {
        "final_val_loss": final_eval["val/loss"],
        "final_perplexity": final_eval["val/perplexity"],
        "steps": last,
        "tokens_seen": (seen + (last - start) * config.batch_size) * config.seq_len,
        "resumed_from_step": start if latest is not None else None,
        "wall_time_s": round(time.perf_counter() - started, 2),
        "num_params": int(sum(x.size for x in jax.tree.leaves(state.params))),
        "data": {"name": data.name, "fingerprint": data.fingerprint},
        "schedule": schedule.to_config(),
        "param_groups": None if groups is None else groups.to_config(),
        "config": config.to_dict(),
    }
    if main:
        write_atomically(workdir / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary

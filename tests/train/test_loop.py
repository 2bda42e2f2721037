"""End-to-end runs of the tiny preset: logging, one compile, exact resume, refusals, other data."""

from __future__ import annotations

import json
import logging
import math
import pathlib

import jax
import pytest
import tensorflow_datasets as tfds

import warmup_jax
from tests.train.conftest import CompileLog
from train import __main__ as cli
from train import loop as loop_lib
from train.logging import read_metrics
from train.loop import run

TIMING = "train/tokens_per_sec"  # Wall-clock throughput: the one column that differs run to run.


def _numbers(rows):
    return [{k: v for k, v in r.items() if k != TIMING} for r in rows]


@pytest.fixture(scope="module")
def reference(tiny, tmp_path_factory):
    """One whole tiny run (40 steps, warmup 4, eval and checkpoint every 20), compiles logged."""
    workdir = tmp_path_factory.mktemp("reference")
    jax.clear_caches()
    compiles = CompileLog()
    jax_logger = logging.getLogger("jax")
    jax_logger.addHandler(compiles)
    try:
        with jax.log_compiles(True):
            summary = run(tiny(workdir))
    finally:
        jax_logger.removeHandler(compiles)
    return workdir, summary, read_metrics(workdir), compiles


def test_every_step_is_logged_once_with_the_schedule_lr(reference):
    _, _, rows, _ = reference
    assert [r["step"] for r in rows] == list(range(40))
    schedule = warmup_jax.cosine_schedule_with_warmup(
        3e-3, num_warmup_steps=4, num_training_steps=40
    )
    assert [r["train/learning_rate"] for r in rows] == [float(schedule(s)) for s in range(40)]
    assert all(r["train/grad_norm"] > 0 and r[TIMING] > 0 for r in rows)
    assert [r["step"] for r in rows if "val/loss" in r] == [19, 39]


def test_run_leaves_summary_plots_tensorboard_and_checkpoints(reference):
    workdir, summary, rows, _ = reference
    on_disk = json.loads((workdir / "summary.json").read_text())
    assert on_disk["final_val_loss"] == summary["final_val_loss"] == rows[-1]["val/loss"]
    assert on_disk["final_perplexity"] == pytest.approx(math.exp(summary["final_val_loss"]))
    assert on_disk["steps"] == 40 and on_disk["resumed_from_step"] is None
    assert on_disk["schedule"]["schedule"] == "cosine_schedule_with_warmup"
    for name in ("lr.png", "loss.png"):
        assert (workdir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list((workdir / "tb").glob("events.out.tfevents.*"))
    assert sorted(p.name for p in (workdir / "checkpoints").iterdir()) == ["20", "40"]
    # It learns: the validation loss falls well below uniform guessing (ln 256 = 5.55).
    assert rows[-1]["val/loss"] < rows[19]["val/loss"] < math.log(256)


def test_train_step_compiles_once_across_warmup_and_decay(reference):
    _, _, _, compiles = reference
    assert compiles.count("train_step") == 1
    assert compiles.count("eval_step") == 1


def test_same_seed_and_flags_give_bit_identical_runs(reference, tiny, tmp_path):
    _, summary, rows, _ = reference
    again = run(tiny(tmp_path))
    assert _numbers(read_metrics(tmp_path)) == _numbers(rows)
    assert again["final_val_loss"] == summary["final_val_loss"]


def test_stop_after_a_checkpoint_then_resume_is_exact(reference, tiny, tmp_path):
    _, summary, rows, _ = reference
    stopped = run(tiny(tmp_path, stop_after=25))
    assert stopped == {"steps": 25, "stopped_early": True}
    assert [r["step"] for r in read_metrics(tmp_path)] == list(range(25))
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["20"]
    assert not (tmp_path / "summary.json").exists()
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('{"step": 25, "train/lo')  # A row torn by the kill.

    resumed = run(tiny(tmp_path))
    assert resumed["resumed_from_step"] == 20
    assert _numbers(read_metrics(tmp_path)) == _numbers(rows)  # Steps 20..24 rewritten, once each.
    assert resumed["final_val_loss"] == summary["final_val_loss"]
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 40

    # Once complete, running again trains nothing and reports the same result.
    assert run(tiny(tmp_path))["final_val_loss"] == summary["final_val_loss"]
    assert _numbers(read_metrics(tmp_path)) == _numbers(rows)


def test_steps_per_call_gives_the_same_run(reference, tiny, tmp_path):
    _, summary, rows, _ = reference
    result = run(tiny(tmp_path, steps_per_call=5))
    assert _numbers(read_metrics(tmp_path)) == _numbers(rows)
    assert result["final_val_loss"] == summary["final_val_loss"]


@pytest.mark.parametrize(
    ("where", "chunk", "steps_per_call"),
    [
        ("host", None, 1),
        pytest.param("host", None, 5, marks=pytest.mark.slow),
        ("device", 8, 1),
        pytest.param("device", 6, 2, marks=pytest.mark.slow),
    ],
)
def test_batches_cut_on_the_host_or_the_device_give_the_same_run(
    reference, tiny, tmp_path, monkeypatch, where, chunk, steps_per_call
):
    """The split on the device (the step cuts its batch; window starts copied in chunks, here
    small enough to cross chunk boundaries) or batches cut on the host: the same bytes."""
    _, summary, rows, _ = reference
    if where == "host":
        monkeypatch.setattr(loop_lib, "DEVICE_DATA_LIMIT", 0)
    else:
        monkeypatch.setattr(loop_lib, "CHUNK_STEPS", chunk)
    made = []
    for kind in ("_HostBatches", "_DeviceBatches"):
        cls = getattr(loop_lib, kind)
        monkeypatch.setattr(
            loop_lib, kind, type(kind, (cls,), {"__init__": _recording(cls, made, kind)})
        )
    result = run(
        tiny(
            tmp_path,
            steps_per_call=steps_per_call,
            stop_after=26 // steps_per_call * steps_per_call,
        )
    )
    run(tiny(tmp_path, steps_per_call=steps_per_call))  # resumed from 20: inside a chunk
    assert made == [f"_{where.capitalize()}Batches"] * 2
    assert result["stopped_early"]
    assert _numbers(read_metrics(tmp_path)) == _numbers(rows)
    assert (
        json.loads((tmp_path / "summary.json").read_text())["final_val_loss"]
        == summary["final_val_loss"]
    )


def _recording(cls, made, kind):
    def __init__(self, *args, **kwargs):
        made.append(kind)
        cls.__init__(self, *args, **kwargs)

    return __init__


def test_changed_schedule_on_resume_exits_2_and_says_what_changed(
    reference, source_dir, data_dir, capsys
):
    workdir, *_ = reference
    before = (workdir / "metrics.jsonl").read_text()
    argv = [
        "--preset",
        "tiny",
        "--workdir",
        str(workdir),
        "--source_dir",
        str(source_dir),
        "--data_dir",
        str(data_dir),
        "--no_progress",
    ]
    with pytest.raises(SystemExit) as info:
        cli.main([*argv, "--schedule", "linear", "--warmup_steps", "8"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "refusing to resume" in err and str(workdir / "checkpoints" / "40") in err
    assert (
        "schedule: 'cosine_schedule_with_warmup' in the checkpoint, "
        "'linear_schedule_with_warmup' now" in err
    )
    assert "num_warmup_steps: 4 in the checkpoint, 8 now" in err
    assert (workdir / "metrics.jsonl").read_text() == before


@pytest.mark.slow  # two full runs
def test_missing_or_empty_workdir_starts_fresh(tiny, tmp_path):
    missing = tmp_path / "not" / "there"
    result = run(tiny(missing, steps=10, checkpoint_every=5, eval_every=10))
    assert result["resumed_from_step"] is None
    assert [r["step"] for r in read_metrics(missing)] == list(range(10))

    empty = tmp_path / "empty"
    (empty / "checkpoints").mkdir(parents=True)
    (empty / "metrics.jsonl").write_text(
        '{"step": 0, "train/loss": 99.0}\n'
    )  # No checkpoint: stale.
    result = run(tiny(empty, steps=10, checkpoint_every=5, eval_every=10))
    assert result["resumed_from_step"] is None
    assert all(r["train/loss"] != 99.0 for r in read_metrics(empty))
    assert len(read_metrics(empty)) == 10


def test_dataset_flag_reads_a_tfds_text_dataset(tiny, tmp_path):
    with tfds.testing.mock_data(num_examples=40):
        result = run(
            tiny(
                tmp_path / "run",
                dataset="tiny_shakespeare",
                data_dir=str(tmp_path / "tfds"),
                steps=10,
                eval_every=10,
                checkpoint_every=10,
            )
        )
    assert result["data"]["name"] == "tiny_shakespeare"
    assert math.isfinite(result["final_val_loss"])
    assert len(read_metrics(tmp_path / "run")) == 10


def test_workdir_is_resolved_to_an_absolute_path(tiny, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run(tiny(pathlib.Path("relative"), steps=5, checkpoint_every=5, eval_every=5))
    assert (tmp_path / "relative" / "checkpoints" / "5").is_dir()

"""The metrics sinks: metrics.jsonl rewrite on resume, TensorBoard, the optional W&B."""

from __future__ import annotations

import json
import sys
import types

import pytest

from train.logging import RunLogger, read_metrics


def _rows(first, last):
    return [
        {
            "step": s,
            "train/learning_rate": 0.1 * s,
            "train/loss": 5.0 - 0.01 * s,
            "train/tokens_per_sec": 1.0,
        }
        for s in range(first, last)
    ]


def test_rows_go_to_jsonl_and_tensorboard(tiny, tmp_path):
    logger = RunLogger(tiny(tmp_path), tmp_path, start_step=0)
    logger.write(_rows(0, 5))
    logger.write([{**_rows(5, 6)[0], "val/loss": 4.0}])
    logger.close()
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        *_rows(0, 5),
        {**_rows(5, 6)[0], "val/loss": 4.0},
    ]
    events = list((tmp_path / "tb").glob("events.out.tfevents.*"))
    assert len(events) == 1 and b"train/learning_rate" in events[0].read_bytes()


def test_resume_drops_rows_from_the_checkpoint_on(tiny, tmp_path):
    logger = RunLogger(tiny(tmp_path), tmp_path, start_step=0)
    logger.write(_rows(0, 8))
    logger.close()
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('{"step": 8, "tra')
    logger = RunLogger(tiny(tmp_path), tmp_path, start_step=5)
    assert [r["step"] for r in read_metrics(tmp_path)] == [0, 1, 2, 3, 4]
    logger.write(_rows(5, 10))
    logger.close()
    assert read_metrics(tmp_path) == _rows(0, 10)
    # The torn line was kept aside, not dropped.
    assert (tmp_path / "metrics.jsonl.damaged").read_bytes() == b'{"step": 8, "tra\n'


DAMAGED_LINES = [
    b"this is not JSON",
    b'{"step": 2, "train/loss": \xff\xfe}',  # not UTF-8
    b'{"step": 3, "train/loss": 4.9}',  # no learning rate: plots could not draw it
    b"[1, 2, 3]",
    b'{"step": "4", "train/learning_rate": 0.1, "train/loss": 4.9}',
]


def test_damaged_lines_are_kept_aside_with_a_warning_that_names_the_file(tiny, tmp_path, caplog):
    good = _rows(0, 6)
    lines = [json.dumps(r).encode() for r in good]
    mixed = lines[:2] + DAMAGED_LINES[:2] + lines[2:4] + DAMAGED_LINES[2:] + lines[4:]
    (tmp_path / "metrics.jsonl").write_bytes(b"\n".join(mixed) + b"\n")
    assert read_metrics(tmp_path) == good  # Reading never trips on them.
    with caplog.at_level("WARNING"):
        RunLogger(tiny(tmp_path), tmp_path, start_step=5).close()
    aside = tmp_path / "metrics.jsonl.damaged"
    assert aside.read_bytes() == b"".join(line + b"\n" for line in DAMAGED_LINES)
    assert "had 5 line(s) that are not metric rows" in caplog.text and str(aside) in caplog.text
    assert read_metrics(tmp_path) == good[:5]
    assert b"not JSON" not in (tmp_path / "metrics.jsonl").read_bytes()


def test_wandb_missing_is_a_clear_error(tiny, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # Makes "import wandb" fail.
    with pytest.raises(RuntimeError, match="--wandb needs the wandb package"):
        RunLogger(tiny(tmp_path, wandb=True), tmp_path, start_step=0)


def test_wandb_offline_gets_every_row_and_keeps_its_run_id(tiny, tmp_path, monkeypatch):
    calls = {"init": [], "log": [], "finish": 0}

    class Run:
        def log(self, values, step):
            calls["log"].append((step, values))

        def finish(self):
            calls["finish"] += 1

    def init(**kwargs):
        calls["init"].append(kwargs)
        return Run()

    fake = types.SimpleNamespace(
        init=init, util=types.SimpleNamespace(generate_id=lambda: "run123")
    )
    monkeypatch.setitem(sys.modules, "wandb", fake)
    for start in (0, 2):
        logger = RunLogger(
            tiny(tmp_path, wandb=True, wandb_mode="offline"), tmp_path, start_step=start
        )
        logger.write(_rows(start, 4))
        logger.close()
    assert [c["mode"] for c in calls["init"]] == ["offline", "offline"]
    assert [c["id"] for c in calls["init"]] == ["run123", "run123"]
    assert calls["init"][0]["dir"] == str(tmp_path) and calls["finish"] == 2
    assert [s for s, _ in calls["log"]] == [0, 1, 2, 3, 2, 3]
    assert calls["log"][0][1] == {k: v for k, v in _rows(0, 1)[0].items() if k != "step"}

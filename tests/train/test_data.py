"""The Python-source TFDS builder, the --dataset path and the (seed, step) batch sampler."""

from __future__ import annotations

import pathlib
import tempfile

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tests.train.conftest import SOURCE_FILES
from train import data
from train.config import ConfigError


def test_split_is_by_file_deterministic_and_covers_every_file():
    names = [f"pkg/mod_{i}.py" for i in range(200)]
    train, validation = data.split_files(names)
    assert sorted(train + validation) == sorted(names)
    assert not set(train) & set(validation)
    assert 5 <= len(validation) <= 40  # About 10%.
    # A file's side depends only on its own name, not on which other files exist.
    train_half, validation_half = data.split_files(names[::2])
    assert set(validation_half) == set(validation) & set(names[::2])
    assert set(train_half) == set(train) & set(names[::2])


def test_split_of_few_files_keeps_both_sides_non_empty():
    for n in (2, 3, 5):
        train, validation = data.split_files([f"m{i}.py" for i in range(n)])
        assert len(train) >= 1 and len(validation) >= 1 and len(train) + len(validation) == n
    with pytest.raises(ValueError, match="at least 2"):
        data.split_files(["only.py"])


def test_prepared_array_record_data_holds_exactly_the_source_bytes(
    text_data: data.TextData, source_dir: pathlib.Path, data_dir: pathlib.Path
):
    train, validation = data.split_files(list(SOURCE_FILES))

    def stream(names):
        return b"".join((source_dir / n).read_bytes() + b"\0" for n in sorted(names))

    assert text_data.train.dtype == np.uint8
    assert text_data.train.tobytes() == stream(train)
    assert text_data.validation.tobytes() == stream(validation)
    files = list(data_dir.rglob("*.array_record*"))
    assert {f.name.split(".")[0] for f in files} == {
        "python_stdlib-train",
        "python_stdlib-validation",
    }


def test_second_load_reuses_the_prepared_data(
    text_data: data.TextData, source_dir: pathlib.Path, data_dir: pathlib.Path, monkeypatch
):
    def fail(*args, **kwargs):
        raise AssertionError("prepared again")

    monkeypatch.setattr(data.PythonStdlib, "download_and_prepare", fail)
    again = data.load_stdlib(data_dir, source_dir)
    assert again.fingerprint == text_data.fingerprint


def test_default_builder_reads_the_running_stdlib():
    config = data._config_for(None)
    assert pathlib.Path(config.source_dir) == data.stdlib_dir()
    files = data.list_source_files(data.stdlib_dir())
    assert any(f.name == "textwrap.py" for f in files)
    assert not any("site-packages" in f.parts for f in files)


def test_default_data_dir_is_a_per_user_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert data.default_data_dir() == tmp_path / "warmup_jax" / "tensorflow_datasets"


def test_batches_are_a_pure_function_of_seed_and_step(text_data: data.TextData):
    tokens = text_data.train
    a = data.train_batch(tokens, 3, 7, 4, 32)
    assert a.shape == (4, 33) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, data.train_batch(tokens, 3, 7, 4, 32))
    assert not np.array_equal(a, data.train_batch(tokens, 3, 8, 4, 32))
    assert not np.array_equal(a, data.train_batch(tokens, 4, 7, 4, 32))
    # Each row is a contiguous window of the stream.
    stream = tokens.tobytes()
    assert all(row.tobytes() in stream for row in a)
    stacked = data.train_batches(tokens, 3, 6, 3, 4, 32)
    np.testing.assert_array_equal(stacked[1], a)


def test_eval_batches_do_not_depend_on_the_run_seed(text_data: data.TextData):
    a = data.eval_batches(text_data.validation, 2, 4, 32)
    assert a.shape == (2, 4, 33)
    np.testing.assert_array_equal(a, data.eval_batches(text_data.validation, 2, 4, 32))
    assert not np.array_equal(a[0], a[1])


def test_too_short_split_is_a_clear_error():
    with pytest.raises(ValueError, match="seq_len"):
        data.train_batch(np.zeros(10, np.uint8), 0, 0, 2, 32)


def test_tfds_dataset_by_name_with_mock_data(tmp_path, monkeypatch):
    scratch = tmp_path / "temp"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    with tfds.testing.mock_data(num_examples=12):
        loaded = data.load_tfds("tiny_shakespeare", data_dir=tmp_path)
        assert list(scratch.iterdir()) == []  # Nothing left behind by tfds.
        expected = tfds.data_source("tiny_shakespeare", split="train", data_dir=str(tmp_path))
        texts = [expected[i]["text"] for i in range(len(expected))]
    assert loaded.name == "tiny_shakespeare"
    want = b"".join(t.encode() + b"\0" for t in texts)
    assert loaded.train.tobytes() == want
    assert len(loaded.validation) > 0


def test_tfds_unknown_text_key_is_a_clear_error(tmp_path):
    with (
        tfds.testing.mock_data(num_examples=3),
        pytest.raises(ConfigError, match="--text_key 'body'.*features: \\['text'\\]"),
    ):
        data.load_tfds("tiny_shakespeare", data_dir=tmp_path, text_key="body")


def test_preparing_leaves_nothing_in_the_temp_dir(
    source_dir: pathlib.Path, tmp_path: pathlib.Path, monkeypatch
):
    # tfds 4.9 makes an empty temp folder for every unprepared data set and never removes it.
    scratch = tmp_path / "temp"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    loaded = data.load_stdlib(tmp_path / "fresh_data_dir", source_dir)
    assert len(loaded.train) > 0
    assert list(scratch.iterdir()) == []
    assert tempfile.gettempdir() == str(scratch)  # Restored.

"""Byte-level text data through tensorflow-datasets (without TensorFlow), and the batch sampler.

The default data set is built on the spot from the Python standard library's own ``.py`` files found
on the running machine: real text that every Python installation carries, so a run needs no
download. It is written once with ``file_format="array_record"`` into a per-user data dir and read
back with ``as_data_source()``. ``--dataset NAME`` reads any TFDS text data set instead.

A split is held in memory as one flat ``uint8`` array (documents joined by a 0 byte). A batch is a
pure function of ``(seed, step)``: a resumed run sees exactly the batches it would have seen.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import functools
import hashlib
import os
import pathlib
import sys
import sysconfig
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import tensorflow_datasets as tfds

from train.config import ConfigError

# Joins documents in the flat token stream; it never occurs in text, so the model can learn it as
# "end of file".
DOC_SEPARATOR = 0
# Every eval batch comes from this seed, not the run's, so validation losses of runs with different
# seeds are measured on the same windows.
EVAL_SEED = 20_261_124
VALIDATION_FRACTION = 0.1


def default_data_dir() -> pathlib.Path:
    """The per-user cache all runs share: ``$XDG_CACHE_HOME/warmup_jax/tensorflow_datasets``."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(cache) / "warmup_jax" / "tensorflow_datasets"


def stdlib_dir() -> pathlib.Path:
    """The running interpreter's standard library directory."""
    return pathlib.Path(sysconfig.get_paths()["stdlib"])


def list_source_files(root: pathlib.Path) -> list[pathlib.Path]:
    """All ``.py`` files under ``root``, installed third-party packages left out, sorted."""
    skip = {"site-packages", "dist-packages", "__pycache__"}
    files = [
        p
        for p in root.rglob("*.py")
        if p.is_file() and not skip.intersection(p.relative_to(root).parts)
    ]
    return sorted(files)


def _hash_fraction(name: str) -> float:
    """A stable number in [0, 1) for a file name (Python's own hash() is salted per process)."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:15], 16) / 16**15


def split_files(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Splits relative file names into (train, validation) by a hash of each name.

    About ``VALIDATION_FRACTION`` of the files go to validation, always at least one to each side
    when there are two or more files, and a file's side never depends on which other files exist.
    """
    if len(names) < 2:
        raise ConfigError(
            f"need at least 2 source files to split into train and validation, got {len(names)}"
        )
    ranked = sorted(names, key=lambda n: (_hash_fraction(n), n))
    validation = [n for n in ranked if _hash_fraction(n) < VALIDATION_FRACTION]
    validation = validation or ranked[:1]
    if len(validation) == len(names):
        validation = validation[:1]
    chosen = set(validation)
    return sorted(n for n in names if n not in chosen), sorted(validation)


@dataclasses.dataclass
class PythonSourceConfig(tfds.core.BuilderConfig):
    """Which directory of ``.py`` files the builder reads (the running stdlib unless given)."""

    source_dir: str = ""


@contextlib.contextmanager
def _tidy_temp_dirs() -> Iterator[None]:
    """Removes what tfds leaves in the temp dir while it builds a data set.

    tfds 4.9 makes an empty ``/tmp/tmp*tfds`` folder each time it meets an unprepared data set
    (``DatasetInfo.initialize_from_bucket``) and never deletes it.
    """
    previous = tempfile.tempdir
    with tempfile.TemporaryDirectory(prefix="warmup_jax_data_") as scratch:
        tempfile.tempdir = scratch
        try:
            yield
        finally:
            tempfile.tempdir = previous


def _config_for(source_dir: str | os.PathLike[str] | None) -> PythonSourceConfig:
    """A builder config named after its source, so different sources never share prepared files."""
    if source_dir is None:
        impl = sys.implementation.name
        version = "_".join(str(v) for v in sys.version_info[:3])
        return PythonSourceConfig(
            name=f"{impl}_{version}",
            source_dir=str(stdlib_dir()),
            description=f"The .py files of the {impl} {'.'.join(version.split('_'))} stdlib.",
        )
    path = pathlib.Path(source_dir).resolve()
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    return PythonSourceConfig(
        name=f"dir_{digest}", source_dir=str(path), description=f"The .py files under {path}."
    )


class PythonStdlib(tfds.core.GeneratorBasedBuilder):
    """Python source files as text, split by file into train and validation; no download."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release."}
    BUILDER_CONFIG_CLASS = PythonSourceConfig
    # The running interpreter's stdlib, so tfds.builder("python_stdlib") finds it by name.
    BUILDER_CONFIGS = [_config_for(None)]

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description="Python source files, one example per file, as raw bytes.",
            features=tfds.features.FeaturesDict(
                {"text": tfds.features.Text(), "path": tfds.features.Text()}
            ),
            homepage="https://docs.python.org/3/library/",
        )

    def _split_generators(self, dl_manager: Any) -> dict[str, Iterator[tuple[str, dict[str, Any]]]]:
        del dl_manager  # Nothing to download: the files are on this machine.
        root = pathlib.Path(self.builder_config.source_dir)
        names = [p.relative_to(root).as_posix() for p in list_source_files(root)]
        train, validation = split_files(names)
        return {
            "train": self._generate_examples(root, train),
            "validation": self._generate_examples(root, validation),
        }

    def _generate_examples(
        self, root: pathlib.Path, names: Sequence[str]
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        for name in names:
            # Raw bytes: a byte-level model needs no decoding, and a few stdlib files are not UTF-8.
            yield name, {"text": (root / name).read_bytes(), "path": name}


@dataclasses.dataclass(frozen=True)
class TextData:
    """The flat byte streams of a data set's train and validation splits."""

    name: str
    train: np.ndarray
    validation: np.ndarray

    @functools.cached_property
    def fingerprint(self) -> str:
        """A short hash of both splits: a resumed run must train on the very same bytes."""
        h = hashlib.sha256()
        for split in (self.train, self.validation):
            h.update(len(split).to_bytes(8, "little"))
            h.update(split.tobytes())
        return h.hexdigest()[:16]


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, np.ndarray) and value.dtype == np.uint8:
        return value.tobytes()
    return bytes(np.asarray(value).item())


def flatten_split(
    source: Sequence[Any], text_key: str, order_key: str | None = None, max_bytes: int | None = None
) -> np.ndarray:
    """Joins the ``text_key`` of every record into one ``uint8`` array, 0 between documents.

    Records are taken in ``order_key`` order when given (``as_data_source`` returns records in
    hashed-key order, which would tie the stream to the key hash), else in index order.
    ``max_bytes`` caps memory for very large data sets.
    """
    records: list[tuple[Any, bytes]] = []
    total = 0
    for i in range(len(source)):
        item = source[i]
        text = _as_bytes(item[text_key])
        records.append((_as_bytes(item[order_key]) if order_key else i, text))
        total += len(text) + 1
        if max_bytes is not None and total >= max_bytes and order_key is None:
            break
    records.sort(key=lambda r: r[0])
    stream = bytearray()
    for _, text in records:
        stream += text
        stream.append(DOC_SEPARATOR)
    if max_bytes is not None:
        del stream[max_bytes:]
    return np.frombuffer(bytes(stream), dtype=np.uint8)


def load_stdlib(
    data_dir: str | os.PathLike[str] | None = None,
    source_dir: str | os.PathLike[str] | None = None,
) -> TextData:
    """Prepares (first time only) and reads the Python-source data set.

    Args:
      data_dir: where prepared data sets live; the per-user cache when None.
      source_dir: the directory of ``.py`` files; the running standard library when None.
    """
    config = _config_for(source_dir)
    found = len(list_source_files(pathlib.Path(config.source_dir)))
    if found < 2:
        raise ConfigError(
            f"found {found} .py files under {config.source_dir}; "
            "need at least 2 (some go to validation)"
        )
    with _tidy_temp_dirs():
        builder = PythonStdlib(
            # By name when it is the class's own config (tfds refuses an equal custom one).
            config=config.name if source_dir is None else config,
            data_dir=str(data_dir or default_data_dir()),
            file_format="array_record",
        )
        if not builder.is_prepared():
            builder.download_and_prepare()
    sources = builder.as_data_source()
    return TextData(
        name=f"python_stdlib/{config.name}",
        train=flatten_split(sources["train"], "text", order_key="path"),
        validation=flatten_split(sources["validation"], "text", order_key="path"),
    )


def _text_feature(features: Any, text_key: str | None, name: str) -> str:
    """The text feature of a data set: ``text_key``, else "text", else its only Text feature."""
    keys = list(features.keys()) if hasattr(features, "keys") else []
    if text_key is not None:
        if text_key not in keys:
            raise ConfigError(
                f"--text_key {text_key!r} is not a feature of {name}; its features: {keys}"
            )
        return text_key
    if "text" in keys:
        return "text"
    texts = [k for k in keys if isinstance(features[k], tfds.features.Text)]
    if len(texts) == 1:
        return texts[0]
    raise ConfigError(
        f"cannot tell which feature of {name} holds the text (features: {keys}); pass --text_key"
    )


def load_tfds(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    text_key: str | None = None,
    max_bytes: int | None = 256 * 2**20,
) -> TextData:
    """Reads any TFDS text data set by name with ``tfds.data_source`` (prepared on first use).

    Evaluates on the "validation" split, or on "test" when there is none. ``max_bytes`` caps how
    much of each split is held in memory.
    """
    with _tidy_temp_dirs():  # tfds leaves a temp folder each time it meets unprepared data.
        return _load_tfds(name, data_dir, text_key, max_bytes)


def _load_tfds(
    name: str,
    data_dir: str | os.PathLike[str] | None,
    text_key: str | None,
    max_bytes: int | None,
) -> TextData:
    data_dir = str(data_dir or default_data_dir())
    kwargs: dict[str, Any] = dict(data_dir=data_dir, builder_kwargs={"file_format": "array_record"})
    try:
        train = tfds.data_source(name, split="train", **kwargs)  # Downloads and prepares if needed.
    except tfds.core.registered.DatasetNotFoundError:
        close = difflib.get_close_matches(
            name, tfds.list_builders(with_community_datasets=False), n=3
        )
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(
            f"--dataset {name!r} is not a TensorFlow Datasets data set{hint} (the names are "
            "listed at https://www.tensorflow.org/datasets/catalog/overview; leave out --dataset "
            "to train on the Python sources)"
        ) from None
    splits = set(tfds.builder(name, data_dir=data_dir).info.splits.keys())
    if splits and "validation" not in splits and "test" not in splits:
        raise ConfigError(
            f"{name} has neither a 'validation' nor a 'test' split (splits: {sorted(splits)})"
        )
    eval_split = "test" if splits and "validation" not in splits else "validation"
    validation = tfds.data_source(name, split=eval_split, **kwargs)
    features = getattr(getattr(train, "dataset_info", None), "features", None)
    key = _text_feature(features, text_key, name) if features is not None else text_key or "text"
    return TextData(
        name=name,
        train=flatten_split(train, key, max_bytes=max_bytes),
        validation=flatten_split(validation, key, max_bytes=max_bytes),
    )


def _check_long_enough(tokens: np.ndarray, seq_len: int, split: str) -> None:
    if len(tokens) < seq_len + 1:
        raise ConfigError(
            f"the {split} split has {len(tokens)} bytes, fewer than seq_len + 1 = {seq_len + 1}; "
            "use a shorter --seq_len or a larger data set"
        )


def _starts(
    num_tokens: int,
    rng: np.random.Generator,
    batch_size: int,
    seq_len: int,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    # All starts are drawn, then only ``rows`` are kept: row r is the same for any ``rows``.
    starts = rng.integers(0, num_tokens - seq_len, size=batch_size)
    return starts if rows is None else starts[rows]


def _windows(
    tokens: np.ndarray,
    rng: np.random.Generator,
    batch_size: int,
    seq_len: int,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    starts = _starts(len(tokens), rng, batch_size, seq_len, rows)
    return tokens[starts[:, None] + np.arange(seq_len + 1)]


def train_starts(
    num_tokens: int,
    seed: int,
    first_step: int,
    num_steps: int,
    batch_size: int,
    seq_len: int,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Where each window of ``num_steps`` consecutive steps' batches starts: ``int32[num_steps,
    len(rows)]``. ``train_batch`` of step s is exactly ``tokens[starts[s - first_step, :, None] +
    arange(seq_len + 1)]``: the same draws, so the batches can be cut on the device instead."""
    return np.stack(
        [
            _starts(num_tokens, np.random.default_rng([seed, step]), batch_size, seq_len, rows)
            for step in range(first_step, first_step + num_steps)
        ]
    ).astype(np.int32)


def train_batch(
    tokens: np.ndarray,
    seed: int,
    step: int,
    batch_size: int,
    seq_len: int,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """The batch of training step ``step``: ``uint8[batch_size, seq_len + 1]`` random windows.

    A pure function of its arguments, so a resumed run gets the same bytes. ``rows`` (indices
    into the batch) gives only those rows, exactly as they are in the whole batch: how each
    process of a data-parallel run makes just its own share.
    """
    _check_long_enough(tokens, seq_len, "train")
    return _windows(tokens, np.random.default_rng([seed, step]), batch_size, seq_len, rows)


def train_batches(
    tokens: np.ndarray,
    seed: int,
    first_step: int,
    num_steps: int,
    batch_size: int,
    seq_len: int,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """The batches of ``num_steps`` consecutive steps: ``uint8[num_steps, batch, seq_len + 1]``."""
    return np.stack(
        [
            train_batch(tokens, seed, first_step + k, batch_size, seq_len, rows)
            for k in range(num_steps)
        ]
    )


def eval_batches(
    tokens: np.ndarray,
    num_batches: int,
    batch_size: int,
    seq_len: int,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """The fixed validation windows: ``uint8[num_batches, batch_size, seq_len + 1]``.

    ``rows`` selects rows of every batch, as in ``train_batch``.
    """
    _check_long_enough(tokens, seq_len, "validation")
    return np.stack(
        [
            _windows(tokens, np.random.default_rng([EVAL_SEED, i]), batch_size, seq_len, rows)
            for i in range(num_batches)
        ]
    )

"""Shared fixtures: a small Python-source data set prepared once per session, tiny run configs."""

from __future__ import annotations

import logging
import pathlib
import shutil
from collections.abc import Iterator

import pytest

from train import data
from train.config import RunConfig, make_config

# A few real stdlib files (one in a subpackage): enough text for the tiny preset, fast to prepare.
SOURCE_FILES = (
    "bisect.py",
    "colorsys.py",
    "fnmatch.py",
    "glob.py",
    "heapq.py",
    "shlex.py",
    "string.py",
    "textwrap.py",
    "json/decoder.py",
)


@pytest.fixture(scope="session")
def source_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("python_sources")
    for name in SOURCE_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data.stdlib_dir() / name, root / name)
    return root


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return tmp_path_factory.mktemp("tensorflow_datasets")


@pytest.fixture(scope="session")
def text_data(source_dir: pathlib.Path, data_dir: pathlib.Path) -> data.TextData:
    return data.load_stdlib(data_dir, source_dir)


@pytest.fixture(scope="session")
def tiny(source_dir: pathlib.Path, data_dir: pathlib.Path, text_data: data.TextData):
    """``tiny(workdir, **overrides)``: a tiny-preset config on the session's small data set."""
    del text_data  # Prepared before any run starts.

    def make(workdir: pathlib.Path, **overrides) -> RunConfig:
        values = dict(source_dir=str(source_dir), data_dir=str(data_dir), progress=False)
        values.update(overrides)
        return make_config("tiny", str(workdir), **values)

    return make


class CompileLog(logging.Handler):
    """Collects the names of the functions XLA compiles while ``jax.log_compiles`` is on."""

    PREFIX = "Finished XLA compilation of "

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.compiled: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(self.PREFIX):
            self.compiled.append(message[len(self.PREFIX) :].split(" ")[0])

    def count(self, name: str) -> int:
        return self.compiled.count(f"jit({name})")


@pytest.fixture
def compile_log() -> Iterator[CompileLog]:
    """Records XLA compilations (after clearing JAX's caches, so each counts from zero)."""
    import jax

    jax.clear_caches()
    handler = CompileLog()
    logger = logging.getLogger("jax")
    logger.addHandler(handler)
    try:
        with jax.log_compiles(True):
            yield handler
    finally:
        logger.removeHandler(handler)

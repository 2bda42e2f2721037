"""The experiments run the real harness: the same prepared data set as the harness's tests."""

from tests.train.conftest import data_dir, source_dir, text_data  # noqa: F401  (fixtures)

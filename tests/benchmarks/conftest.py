"""``benchmarks.end_to_end`` runs the real harness: the prepared data set of the harness's tests."""

from tests.train.conftest import data_dir, source_dir, text_data  # noqa: F401  (fixtures)

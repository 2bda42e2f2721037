"""The benchmarks' figures and reports, from real (tiny, few-repetition) measurements.

Timings themselves are never asserted: only that every figure is what its definition says, and
that the reports show them.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import jax
import pytest

from benchmarks import all as all_benchmarks
from benchmarks import host_lr, overhead, scaling
from benchmarks.common import MAX_STEPS_PER_CALL, setup
from tests.train.conftest import CompileLog


@pytest.fixture(scope="module")
def overhead_report():
    # The tiny preset measured twice: two real rows, so "worst preset" has something to pick from.
    return overhead.run(presets=("tiny", "tiny"), plan={"tiny": (2, 3)})


@pytest.fixture(scope="module")
def host_lr_report():
    # Steps per timed call calibrated (None) to the quick target duration.
    return host_lr.run(quick=True, steps_per_call=2, presets=("tiny",), plan={"tiny": (None, 2)})


def test_overhead_ratio_is_the_worst_presets_ratio_of_medians(overhead_report):
    rows = overhead_report["rows"]
    assert len(rows) == 2
    for row in rows:
        assert row["warmup_cosine"]["n"] == row["constant"]["n"] == 3
        assert row["ratio"] == row["warmup_cosine"]["median"] / row["constant"]["median"]
        assert row["schedule"]["schedule"] == "cosine_schedule_with_warmup"
    assert overhead_report["ratio"] == max(row["ratio"] for row in rows)


def test_overhead_markdown_and_json(overhead_report, tmp_path):
    text = overhead.to_markdown(overhead_report)
    assert f"Worst ratio: **{overhead_report['ratio']:.3f}**" in text
    assert f"| {overhead_report['rows'][0]['ratio']:.3f} | 3 x 2 |" in text
    path = tmp_path / "deep" / "overhead.json"
    from benchmarks.timing import write_json

    write_json(str(path), overhead_report)
    assert json.loads(path.read_text())["ratio"] == overhead_report["ratio"]


def test_host_lr_figures_follow_from_the_timings(host_lr_report):
    (row,) = host_lr_report["rows"]
    assert row["steps_per_call"] == 2
    n = row["steps_per_timed_call"]
    assert n % 2 == 0 and 2 <= n <= MAX_STEPS_PER_CALL  # Calibrated: a multiple of K.
    rate = {}
    for name in host_lr.CANDIDATES:
        timings = row[name]["seconds_per_call"]
        assert timings["n"] == 2
        rate[name] = row[name]["steps_per_s"]
        assert rate[name] == n / timings["median"]
    assert row["in_graph_over_host"] == rate["in_graph"] / rate["host_driven"]
    assert row["scan_over_in_graph"] == rate["in_graph_scan"] / rate["in_graph"]
    assert host_lr_report["scan_over_host"] == row["scan_over_host"]
    text = host_lr.to_markdown(host_lr_report)
    assert f"| {row['in_graph_over_host']:.2f}x | {row['scan_over_in_graph']:.2f}x |" in text


def test_host_driven_pattern_applies_the_same_learning_rates():
    """Fair comparison: the host's Python formula gives the in-graph schedule's values."""
    bench = setup("tiny")
    lr_at = host_lr.host_lr_function(bench)
    for step in (0, 1, 3, 4, 5, 20, 39, 40):
        assert lr_at(step) == pytest.approx(float(bench.schedule(step)), rel=1e-6, abs=1e-12)


def test_host_driven_step_writes_the_lr_it_trains_with_and_compiles_at_most_twice():
    bench = setup("tiny")
    calls = host_lr.candidates(bench, n=4, k=2)
    jax.clear_caches()
    compiles = CompileLog()
    jax_logger = logging.getLogger("jax")
    jax_logger.addHandler(compiles)
    try:
        with jax.log_compiles(True):
            for _ in range(3):
                _, metrics = calls["host_driven"]()
    finally:
        jax_logger.removeHandler(compiles)
    # 12 steps: the metrics of step 11 report the LR Python wrote before it.
    lr_at = host_lr.host_lr_function(bench)
    assert float(metrics["learning_rate"]) == pytest.approx(lr_at(11), rel=1e-6)
    # The first call's LR is an array from init, later ones Python floats: two signatures.
    assert compiles.count("train_step") <= 2


def test_scaling_runs_one_process_per_device_count():
    report = scaling.run(preset="tiny", counts=(1, 2), plan=(2, 2))
    assert report["forced_cpu_devices"] is True and report["skipped_device_counts"] == []
    assert [row["devices"] for row in report["rows"]] == [1, 2]
    single = report["rows"][0]["steps_per_s"]
    for row in report["rows"]:
        assert row["platform"] == "cpu" and row["global_batch"] == 4
        assert row["steps_per_s"] == 1 / row["seconds_per_step"]["median"]
        assert row["speedup_vs_1"] == row["steps_per_s"] / single
    text = scaling.to_markdown(report)
    assert "Forced host CPU devices" in text
    assert "| 2 | cpu (cpu) | 4 |" in text


def test_all_writes_the_report_with_machine_command_and_every_table(
    overhead_report, host_lr_report, tmp_path, monkeypatch
):
    suite = {"overhead": lambda: overhead_report, "host_lr": lambda: host_lr_report}
    monkeypatch.setattr(all_benchmarks, "default_suite", lambda quick: suite)
    # The commit that ran, read before the benchmarks: a commit made meanwhile is not it.
    commits = iter(["1111111", "2222222"])
    monkeypatch.setattr(all_benchmarks, "_git_commit", lambda: next(commits))
    out = tmp_path / "results" / "BENCHMARKS.md"
    all_benchmarks.main(["--quick", "--out", str(out)])
    text = out.read_text()
    assert "Generated by `python -m benchmarks.all --quick --out " in text
    assert "(commit 1111111) (quick: fewer repetitions)." in text
    assert f"| jax, flax, optax | {jax.__version__}, " in text
    assert f"| {overhead_report['ratio']:.3f} |" in text  # The headline figure.
    assert f"| {host_lr_report['in_graph_over_host']:.2f}x |" in text
    assert "## Schedule overhead in the train step" in text and "## In-graph LR" in text
    figures = json.loads(out.with_suffix(".json").read_text())
    assert figures["reports"]["overhead"]["ratio"] == overhead_report["ratio"]
    assert figures["command"].startswith("python -m benchmarks.all --quick")
    assert figures["commit"] == "1111111"
    assert set(figures["seconds"]) == {"overhead", "host_lr"}


def test_benchmarks_need_neither_tfds_nor_the_data_set():
    """The lent GPU machine has jax, flax and optax but no tensorflow-datasets or tensorboardX."""
    code = (
        "import sys; import benchmarks.all, benchmarks.common, train.distributed; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow_datasets', 'tensorboardX', 'tensorflow') or m in ('train.data', "
        "'train.logging')]; print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr

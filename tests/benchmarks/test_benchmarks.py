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
import numpy as np
import pytest

from benchmarks import all as all_benchmarks
from benchmarks import host_lr, overhead, scaling, timing
from benchmarks.common import MAX_STEPS_PER_CALL, setup
from tests.train.conftest import CompileLog


@pytest.fixture(scope="module")
def overhead_report():
    # The tiny preset measured twice: two real rows, so "worst preset" has something to pick from.
    return overhead.run(presets=("tiny", "tiny"), plan={"tiny": (2, 6, None)})


@pytest.fixture(scope="module")
def host_lr_report():
    # Steps per timed call calibrated (None) to the quick target duration.
    return host_lr.run(quick=True, steps_per_call=2, presets=("tiny",), plan={"tiny": (None, 2)})


@pytest.mark.slow  # a measured benchmark run; the paired statistics are tested without one
def test_overhead_ratio_is_the_worst_presets_paired_ratio(overhead_report):
    rows = overhead_report["rows"]
    assert len(rows) == 2
    for row in rows:
        assert row["pairs"] == row["warmup_cosine"]["n"] == row["constant"]["n"] == 6
        assert row["low"] <= row["ratio"] <= row["high"]
        assert row["ratio_of_medians"] == row["warmup_cosine"]["median"] / row["constant"]["median"]
        assert row["schedule"]["schedule"] == "cosine_schedule_with_warmup"
        assert row["verdict"]["outcome"] in ("ruled out", "visible", "not resolved")
    worst = max(rows, key=lambda row: row["ratio"])
    assert overhead_report["ratio"] == worst["ratio"]
    assert (overhead_report["ratio_low"], overhead_report["ratio_high"]) == (
        worst["low"],
        worst["high"],
    )


@pytest.mark.slow  # a measured benchmark run; the paired statistics are tested without one
def test_overhead_markdown_and_json(overhead_report, tmp_path):
    text = overhead.to_markdown(overhead_report)
    assert f"worst ratio: **{overhead_report['ratio']:.4f}**" in text
    row = overhead_report["rows"][0]
    assert f"| {row['ratio']:.4f} | {row['low']:.4f} to {row['high']:.4f} |" in text
    assert "| 6 x 2 |" in text
    path = tmp_path / "deep" / "overhead.json"
    from benchmarks.timing import write_json

    write_json(str(path), overhead_report)
    assert json.loads(path.read_text())["ratio"] == overhead_report["ratio"]


def test_paired_alternates_the_order_and_stops_on_the_clock_after_even_rounds():
    now = [0.0]
    calls = []

    def clock():
        return now[0]

    def call(name, seconds):
        def run():
            calls.append(name)
            now[0] += seconds

        return run

    times = timing.paired(
        call("a", 2.0), call("b", 1.0), pairs=100, warmup=1, budget_s=10.0, clock=clock
    )
    assert calls[:2] == ["a", "b"]  # The untimed warm-up round.
    assert calls[2:6] == ["a", "b", "b", "a"]
    assert times["a_first"] == [True, False, True, False]  # 12 s after 4 rounds: stop.
    assert times["a"] == [2.0] * 4 and times["b"] == [1.0] * 4


def test_paired_ratio_recovers_a_known_ratio_and_its_interval_covers_it():
    rng = np.random.default_rng(1)
    load = np.exp(rng.normal(0, 0.3, 400))  # Shared load: cancels inside each pair.
    b = 1e-3 * load * np.exp(rng.normal(0, 0.005, 400))
    a = 1.02 * 1e-3 * load * np.exp(rng.normal(0, 0.005, 400))
    estimate = timing.paired_ratio(a, b)
    assert estimate["n"] == 400
    assert estimate["low"] < 1.02 < estimate["high"]
    assert estimate["high"] - estimate["low"] < 0.003  # Resolves far better than 1%.
    assert timing.verdict(estimate, 1.01)["outcome"] == "visible"
    assert timing.verdict(timing.paired_ratio(b, b * 1.001), 1.01)["outcome"] == "ruled out"
    assert timing.paired_ratio(a, b) == estimate  # Seeded: the same times, the same report.


def test_verdict_not_resolved_estimates_the_pairs_needed():
    estimate = {"ratio": 1.005, "low": 0.995, "high": 1.015, "n": 100}
    judged = timing.verdict(estimate, 1.01)
    assert judged["outcome"] == "not resolved"
    # Half-width above the ratio log(1.015/1.005) must shrink to log(1.01/1.005).
    half, distance = np.log(1.015 / 1.005), np.log(1.01 / 1.005)
    assert judged["pairs_needed"] == int(np.ceil(100 * (half / distance) ** 2))
    text = timing.describe_verdict({**estimate, "confidence": 0.95}, 1.01)
    assert "not resolved; about" in text and "pairs" in text


def test_paired_ratio_refuses_bad_times():
    with pytest.raises(ValueError, match="equally long"):
        timing.paired_ratio([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="positive"):
        timing.paired_ratio([1.0, 0.0], [1.0, 1.0])


def test_trimmed_mean():
    assert timing.trimmed_mean([1, 2, 3, 4, 100], 0.2) == 3.0
    assert timing.trimmed_mean([1, 2, 3], 0.0) == 2.0
    assert timing.trimmed_mean([1, 5], 0.5) == 3.0  # Nothing left: the median.


@pytest.mark.slow  # a measured benchmark run; the paired statistics are tested without one
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


@pytest.mark.slow  # a measured benchmark run; the paired statistics are tested without one
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
    assert f"| {overhead_report['ratio']:.4f} ({overhead_report['ratio_low']:.4f} to " in text
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


def test_all_only_measures_again_and_keeps_the_rest(
    overhead_report, host_lr_report, tmp_path, monkeypatch
):
    suite = {"overhead": lambda: overhead_report, "host_lr": lambda: host_lr_report}
    monkeypatch.setattr(all_benchmarks, "default_suite", lambda quick: suite)
    commits = iter(["1111111", "3333333"])
    monkeypatch.setattr(all_benchmarks, "_git_commit", lambda: next(commits))
    out = tmp_path / "BENCHMARKS.md"
    all_benchmarks.main(["--out", str(out)])
    again = {**host_lr_report, "in_graph_over_host": 9.99}
    suite["host_lr"] = lambda: again
    all_benchmarks.main(["--out", str(out), "--only", "host_lr"])
    figures = json.loads(out.with_suffix(".json").read_text())
    assert figures["reports"]["overhead"] == json.loads(json.dumps(overhead_report))
    assert figures["reports"]["host_lr"]["in_graph_over_host"] == 9.99
    assert figures["commit"] == "1111111" and figures["command"].startswith(
        "python -m benchmarks.all --out"
    )
    assert figures["measured_again"]["benchmarks"] == ["host_lr"]
    text = out.read_text()
    assert (
        "host_lr measured again by `python -m benchmarks.all --out" in text
        and "(commit 3333333)" in text
    )
    assert "| 9.99x |" in text
    with pytest.raises(SystemExit):
        all_benchmarks.main(["--out", str(out), "--only", "nope"])


@pytest.mark.slow  # a measured benchmark run; the paired statistics are tested without one
def test_hparam_overhead_pairs_scheduled_hyperparameters_and_a_plateau_against_constants():
    import warmup_jax
    from benchmarks import hparam_overhead

    bench = setup("tiny")
    runs = hparam_overhead.hyperparams_pair(bench)
    state, metrics = jax.block_until_ready(runs["scheduled"](1))
    assert set(warmup_jax.hyperparams_at(state.opt_state)) == {
        "learning_rate",
        "b1",
        "b2",
        "weight_decay",
    }
    assert warmup_jax.plateau_scale(state.opt_state) is not None
    plain, _ = jax.block_until_ready(runs["constants"](1))
    assert warmup_jax.hyperparams_at(plain.opt_state) == {}
    report = hparam_overhead.run(presets=("tiny",), plan={"tiny": (2, 4, None)})
    (row,) = report["rows"]
    assert row["pairs"] == 4 and row["low"] <= row["ratio"] <= row["high"]
    assert report["met"] == (row["high"] <= 1.02)
    assert (
        f"| tiny | {row['ratio']:.4f} | {row['low']:.4f} to {row['high']:.4f} |"
        in hparam_overhead.to_markdown(report)
    )

"""``benchmarks.end_to_end``: the figures follow from real (tiny, short) harness runs."""

from __future__ import annotations

import statistics

import pytest

from benchmarks import end_to_end


@pytest.fixture(scope="module")
def report(source_dir, data_dir, text_data):
    del text_data  # prepared first
    return end_to_end.run(
        presets=("tiny",),
        plan={"tiny": (40, 10, 2)},
        data_dir=str(data_dir),
        source_dir=str(source_dir),
    )


@pytest.mark.slow  # a measured benchmark run; the arithmetic is tested below
def test_ratios_are_medians_of_the_rounds(report):
    (row,) = report["rows"]
    assert row["preset"] == "tiny" and row["target"] == 0.9 and len(row["rounds"]) == 2
    for entry in row["rounds"]:
        assert entry["ratio"] == entry["end_to_end"] / entry["step_alone"]
        assert entry["k10_over_k1"] == entry["end_to_end_k10"] / entry["end_to_end"]
    for key in ("end_to_end", "step_alone", "ratio", "k10_over_k1"):
        assert row[key] == statistics.median(entry[key] for entry in row["rounds"])


def test_the_interval_rates_are_the_logged_throughput_without_the_first_intervals(tmp_path):
    from train.logging import METRICS_FILE

    rows = [
        {"step": s, "train/learning_rate": 0.1, "train/loss": 1.0, "train/tokens_per_sec": rate}
        for s, rate in zip(range(8), [100.0, 100.0, 50.0, 50.0, 400.0, 400.0, 800.0, 800.0])
    ]
    import json

    (tmp_path / METRICS_FILE).write_text("".join(json.dumps(r) + "\n" for r in rows))
    # Four intervals of two steps; the first two skipped; 10 tokens per step.
    assert end_to_end._interval_rates(tmp_path, 10) == [40.0, 80.0]


@pytest.mark.slow  # a measured benchmark run; the arithmetic is tested below
def test_markdown_names_the_targets(report):
    text = end_to_end.to_markdown(report)
    row = report["rows"][0]
    assert (
        f"| tiny | {row['end_to_end']:,.1f} | {row['step_alone']:,.1f} | {row['ratio']:.3f} (target 0.9:"
        in text
    )
    assert f"({row['k10_over_k1']:.2f}x; target 1.5x)" in text

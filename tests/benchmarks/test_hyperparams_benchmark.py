"""benchmarks/hyperparams.py: the figures follow from the timings (speed is never asserted)."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

import warmup_jax as wj
from benchmarks import hyperparams


@pytest.fixture(scope="module")
def report():
    return hyperparams.run(quick=True, plan={"width": 8, "steps": 3, "repeats": 2})


def test_figures_follow_from_the_timings(report):
    (row,) = report["rows"]
    assert row["steps_per_timed_call"] == 3
    for name in hyperparams.CANDIDATES:
        cell = row[name]
        assert cell["seconds_per_call"]["n"] == 2
        assert cell["steps_per_s"] == 3 / cell["seconds_per_call"]["median"]
    rate = {name: row[name]["steps_per_s"] for name in hyperparams.CANDIDATES}
    assert row["scheduled_over_host"] == rate["scheduled"] / rate["host_driven"]
    assert row["scheduled_over_constant"] == rate["scheduled"] / rate["constant"]
    assert report["scheduled_over_host"] == row["scheduled_over_host"]
    assert set(report["scheduled"]) == {"learning_rate", "b1", "weight_decay"}
    json.dumps(report)  # the report is JSON


def test_markdown_shows_the_figures(report):
    text = hyperparams.to_markdown(report)
    row = report["rows"][0]
    assert f"{row['scheduled_over_host']:.2f}x" in text
    assert f"{row['scheduled']['steps_per_s']:,.1f}" in text
    assert "| MLP width |" in text


def test_host_values_are_the_schedules_values():
    schedules = hyperparams.schedules()
    for step in (0, 1, 50, 99, 100, 101, 550, 999, 1000):
        host = hyperparams.host_values(step)
        for name, schedule in schedules.items():
            np.testing.assert_allclose(host[name], float(schedule(step)), rtol=2e-6, atol=1e-9)


def test_scheduled_and_host_driven_train_alike():
    runs = hyperparams.runners(8)
    losses = {name: float(jax.block_until_ready(runs[name](5))) for name in runs}
    np.testing.assert_allclose(losses["scheduled"], losses["host_driven"], rtol=1e-4)
    assert isinstance(hyperparams.schedules()["b1"], wj.Schedule)

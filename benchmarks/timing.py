"""Interleaved A/B timing: the way to compare two programs on a shared, noisy machine.

Every repetition runs each candidate once, in a rotating order, so drifts in machine load hit all
candidates alike; we report medians (robust to the odd slow run), the spread between the 10th and
90th percentiles, and ratios of medians.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jax
import numpy as np


def interleaved(
    candidates: Mapping[str, Callable[[], Any]], repeats: int, warmup: int = 2
) -> dict[str, list[float]]:
    """Seconds per call of each candidate over ``repeats`` rounds, candidates interleaved.

    Each call's result is waited for with ``jax.block_until_ready``; ``warmup`` untimed rounds
    first take compilation and caches out of the measurement.
    """
    names = list(candidates)
    for _ in range(warmup):
        for name in names:
            jax.block_until_ready(candidates[name]())
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            jax.block_until_ready(candidates[name]())
            times[name].append(time.perf_counter() - start)
    return times


def summarize(samples: list[float]) -> dict[str, float]:
    """Median, 10th and 90th percentiles and the relative spread (p90 - p10) / median."""
    p10, p90 = np.percentile(samples, [10, 90])
    median = statistics.median(samples)
    return {
        "median": median,
        "p10": float(p10),
        "p90": float(p90),
        "spread": float((p90 - p10) / median) if median else 0.0,
        "n": len(samples),
    }


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import flax
    import optax

    devices = jax.devices()
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": __import__("os").cpu_count(),
        "jax": jax.__version__,
        "flax": flax.__version__,
        "optax": optax.__version__,
        "backend": jax.default_backend(),
        "devices": f"{len(devices)} x {devices[0].device_kind}",
    }


def write_json(path: str | None, report: dict[str, Any]) -> None:
    """Writes ``report`` as JSON to ``path`` (if given), creating folders."""
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(report, indent=2) + "\n")


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"

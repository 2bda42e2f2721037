"""Interleaved A/B timing: the way to compare two programs on a shared, noisy machine.

Every repetition runs each candidate once, in a rotating order, so drifts in machine load hit all
candidates alike; we report medians (robust to the odd slow run), the spread between the 10th and
90th percentiles, and ratios of medians.

For a ratio that must resolve a percent, ``paired`` keeps the two calls of each round together as
a pair measured within milliseconds, and ``paired_ratio`` estimates the ratio from the per-pair
log ratios with a bootstrap confidence interval over the pairs: load that changes between rounds
(the dominant noise on a shared machine) cancels inside each pair instead of widening both sides'
distributions. ``verdict`` says whether the interval rules a given cost out, shows it, or cannot
tell yet (and about how many pairs would).
"""

from __future__ import annotations

import json
import math
import platform
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
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


def paired(
    a: Callable[[], Any],
    b: Callable[[], Any],
    pairs: int,
    warmup: int = 2,
    budget_s: float | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[Any]]:
    """Rounds that each time one call of ``a`` and one of ``b`` back to back: the pairs.

    Round ``i`` runs A then B when ``i`` is even and B then A when it is odd, so that whatever the
    first call of a round pays (or gains) over the second cancels between rounds; ``a_first``
    records it. Each call's result is waited for with ``jax.block_until_ready``; ``warmup``
    untimed rounds come first. At most ``pairs`` rounds; with ``budget_s``, the rounds stop once
    that many seconds have passed since the first timed one, after an even number of rounds (as
    many of each order), and at least two. The stopping rule looks at the clock only, never at the
    times, so it biases nothing. Returns ``{"a": seconds, "b": seconds, "a_first": bools}``, one
    entry per round.
    """
    for _ in range(warmup):
        jax.block_until_ready(a())
        jax.block_until_ready(b())
    out: dict[str, list[Any]] = {"a": [], "b": [], "a_first": []}
    started = clock()
    for round_index in range(pairs):
        if budget_s is not None and round_index >= 2 and round_index % 2 == 0:
            if clock() - started >= budget_s:
                break
        a_first = round_index % 2 == 0
        for name, call in (("a", a), ("b", b)) if a_first else (("b", b), ("a", a)):
            start = clock()
            jax.block_until_ready(call())
            out[name].append(clock() - start)
        out["a_first"].append(a_first)
    return out


def trimmed_mean(values: Any, trim: float = 0.2, axis: int = -1) -> Any:
    """Mean along ``axis`` after dropping the ``floor(trim * n)`` lowest and highest values.

    ``trim`` = 0 is the mean; when nothing would be left (``2 * floor(trim * n) >= n``), the
    median.
    """
    values = np.sort(np.asarray(values, dtype=float), axis=axis)
    n = values.shape[axis]
    cut = int(math.floor(trim * n))
    if 2 * cut >= n:
        return np.median(values, axis=axis)
    return np.take(values, np.arange(cut, n - cut), axis=axis).mean(axis=axis)


def paired_ratio(
    a: Sequence[float],
    b: Sequence[float],
    strata: Sequence[Any] | None = None,
    resamples: int = 2000,
    confidence: float = 0.95,
    trim: float = 0.2,
    seed: int = 0,
) -> dict[str, Any]:
    """The ratio A / B from paired times, with a percentile-bootstrap confidence interval.

    Each pair gives a log ratio ``r_i = log(a_i / b_i)``; the ratio is ``exp(trimmed_mean(r))``,
    ``trim`` of the pairs dropped at each end (20%: see ``benchmarks/README.md`` for why not the
    median or the mean). The interval: the pairs resampled with replacement ``resamples`` times
    and the estimate's ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles over the
    resamples, from a generator seeded with ``seed``, so the same times always give the same
    report. ``strata`` (one label a pair, e.g. ``paired``'s ``a_first``) resamples each label's
    pairs among themselves, so every resample keeps as many pairs of each order as were measured
    and an order effect that cancels in the estimate does not widen the interval.

    Returns ratio, low and high (the interval), n (pairs), log_sd (the standard deviation of the
    ``r_i``), and the settings: confidence, trim, resamples, seed.
    """
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a_arr.ndim != 1 or a_arr.shape != b_arr.shape or a_arr.size == 0:
        raise ValueError(
            f"need two equally long, non-empty lists of times: {a_arr.shape}, {b_arr.shape}"
        )
    if not (np.all(a_arr > 0) and np.all(b_arr > 0)):
        raise ValueError("times must be positive")
    logs = np.log(a_arr / b_arr)
    n = logs.size
    labels = np.zeros(n, dtype=int) if strata is None else np.asarray(strata)
    if labels.shape != (n,):
        raise ValueError(f"need one stratum label per pair: {labels.shape} for {n} pairs")
    groups = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    rng = np.random.default_rng(seed)
    estimates = np.empty(resamples)
    chunk = max(1, 2_000_000 // n)  # Resamples at a time: memory stays about 16 MB.
    for first in range(0, resamples, chunk):
        count = min(chunk, resamples - first)
        picks = np.concatenate(
            [group[rng.integers(0, group.size, size=(count, group.size))] for group in groups],
            axis=1,
        )
        estimates[first : first + count] = trimmed_mean(logs[picks], trim, axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(estimates, [tail, 1 - tail])
    return {
        "ratio": float(np.exp(trimmed_mean(logs, trim))),
        "low": float(np.exp(low)),
        "high": float(np.exp(high)),
        "n": int(n),
        "log_sd": float(np.std(logs, ddof=1)) if n > 1 else 0.0,
        "confidence": confidence,
        "trim": trim,
        "resamples": resamples,
        "seed": seed,
    }


def verdict(estimate: Mapping[str, Any], cost: float = 1.01) -> dict[str, Any]:
    """What ``estimate`` (a ``paired_ratio``) says about a cost of ``cost`` (1.01: one percent).

    ``outcome``: ``"ruled out"`` when the interval's upper end is below ``cost``, ``"visible"``
    when its lower end is above it, ``"not resolved"`` otherwise. For the last, ``pairs_needed``
    estimates the pairs in all that would settle it, the interval's width shrinking as
    1 / sqrt(pairs): the half of the interval on the side of ``cost`` (in log space) must shrink
    to the distance from the ratio to ``cost``. None when the ratio is exactly ``cost`` (no
    number of pairs would settle it) or the outcome is settled.
    """
    ratio, low, high, n = estimate["ratio"], estimate["low"], estimate["high"], estimate["n"]
    out: dict[str, Any] = {"cost": cost, "pairs_needed": None}
    if high < cost:
        out["outcome"] = "ruled out"
    elif low > cost:
        out["outcome"] = "visible"
    else:
        out["outcome"] = "not resolved"
        distance = abs(math.log(ratio / cost))
        half = math.log(high / ratio) if ratio < cost else math.log(ratio / low)
        if distance > 0:
            out["pairs_needed"] = max(n + 1, math.ceil(n * (half / distance) ** 2))
    return out


def describe_verdict(estimate: Mapping[str, Any], cost: float = 1.01) -> str:
    """One sentence: the ratio, its interval, and what they say about a cost of ``cost``."""
    judged = verdict(estimate, cost)
    percent = f"{(cost - 1) * 100:g}%"
    head = (
        f"{estimate['ratio']:.4f} ({estimate['confidence']:.0%} CI {estimate['low']:.4f} to "
        f"{estimate['high']:.4f}, {estimate['n']} pairs): "
    )
    if judged["outcome"] == "ruled out":
        return head + f"a {percent} cost is ruled out (upper bound < {cost:g})"
    if judged["outcome"] == "visible":
        return head + f"a {percent} cost is visible (lower bound > {cost:g})"
    if judged["pairs_needed"] is None:
        return head + f"a {percent} cost is not resolved, and the ratio is {cost:g} itself"
    return head + (
        f"a {percent} cost is not resolved; about {judged['pairs_needed']:,} pairs "
        f"({judged['pairs_needed'] - estimate['n']:,} more) would resolve it"
    )


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

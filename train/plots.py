"""``lr.png`` (the LR of every step) and ``loss.png`` (train and validation loss) from metrics."""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # Files only: no display on servers and CI.
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from train.logging import Row  # noqa: E402


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` steps (fewer at the start): the trend under the noise."""
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(0, idx - window)
    return (cumsum[idx] - cumsum[lo]) / (idx - lo)


# Per-step metrics that are not hyperparameters: lr.png leaves them to loss.png and the logs.
_NOT_HYPERPARAMETERS = ("train/loss", "train/grad_norm", "train/tokens_per_sec")


def plot_lr(rows: Sequence[Row], path: pathlib.Path, title: str) -> None:
    """Saves the per-step learning rate as a line plot, and below it every other scheduled
    hyperparameter (``--hparam``: ``train/b1``, ...) and the plateau's multiplier, one panel each."""
    steps = [r["step"] for r in rows]
    others = [
        key
        for key in rows[-1]
        if key.startswith("train/")
        and key != "train/learning_rate"
        and key not in _NOT_HYPERPARAMETERS
    ]
    fig, axes = plt.subplots(
        1 + len(others), 1, figsize=(7, 4 + 2 * len(others)), sharex=True, squeeze=False
    )
    for ax, key in zip(axes[:, 0], ["train/learning_rate", *others]):
        ax.plot(steps, [r.get(key, np.nan) for r in rows], color="tab:blue")
        ax.set_ylabel(key.removeprefix("train/").replace("_", " "))
        ax.grid(alpha=0.3)
    axes[0, 0].set_title(title)
    axes[-1, 0].set_xlabel("step")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_loss(rows: Sequence[Row], path: pathlib.Path, title: str) -> None:
    """Saves train loss (raw and smoothed) and validation loss against the step."""
    steps = np.array([r["step"] for r in rows])
    loss = np.array([r["train/loss"] for r in rows])
    evals = [(r["step"], r["val/loss"]) for r in rows if "val/loss" in r]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, loss, color="tab:blue", alpha=0.25, linewidth=0.8, label="train (per step)")
    window = max(1, len(steps) // 50)
    ax.plot(steps, _smooth(loss, window), color="tab:blue", label=f"train (mean of {window} steps)")
    if evals:
        ax.plot(*zip(*evals), "o-", color="tab:orange", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats per byte)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

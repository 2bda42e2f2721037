"""Draws docs/one_cycle.png: torch's OneCycleLR as warmup_jax gives it, LR and momentum.

.venv/bin/python docs/one_cycle_plot.py
"""

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import warmup_jax as wj  # noqa: E402

ARGUMENTS = dict(
    max_lr=1e-2, total_steps=1000, pct_start=0.3, base_momentum=0.85, max_momentum=0.95
)


def main() -> None:
    steps = np.arange(ARGUMENTS["total_steps"])
    lr = np.asarray(wj.one_cycle_lr(**ARGUMENTS)(steps))
    momentum = np.asarray(wj.one_cycle_momentum(**ARGUMENTS)(steps))
    figure, left = plt.subplots(figsize=(8, 4.5), dpi=120)
    left.plot(steps, lr, color="tab:blue", linewidth=1.5, label="learning rate")
    left.set_xlabel("step")
    left.set_ylabel("learning rate", color="tab:blue")
    right = left.twinx()
    right.plot(steps, momentum, color="tab:orange", linewidth=1.5, label="momentum (Adam's b1)")
    right.set_ylabel("momentum (Adam's b1)", color="tab:orange")
    calls = ", ".join(f"{k}={v!r}" for k, v in ARGUMENTS.items())
    left.set_title(f"one_cycle_lr / one_cycle_momentum({calls})", fontsize=7)
    left.grid(alpha=0.3)
    figure.tight_layout()
    path = pathlib.Path(__file__).with_name("one_cycle.png")
    figure.savefig(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

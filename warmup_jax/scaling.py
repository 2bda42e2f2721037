"""Scaling the peak learning rate with the batch size."""

from __future__ import annotations

import math

from warmup_jax import _checks

SCALING_RULES = ("linear", "sqrt")


def scale_peak_lr(
    base_lr: float, batch_size: int, base_batch_size: int, rule: str = "linear"
) -> float:
    r"""The peak learning rate for ``batch_size``, given one that works at ``base_batch_size``.

    .. math:: lr = lr_{base} \cdot \frac{B}{B_{base}} \quad\text{or}\quad
       lr_{base} \cdot \sqrt{\frac{B}{B_{base}}}

    * ``"linear"`` (Goyal et al. 2017, "Accurate, Large Minibatch SGD"):
      ``base_lr * batch_size / base_batch_size``. Meant for SGD; it needs a warmup that grows with
      the scale-up: Goyal et al. warm up linearly over 5 epochs for batch 8k (from base 256), and
      without a warmup the early steps at the scaled rate diverge.
    * ``"sqrt"`` (Krizhevsky 2014; Hoffer et al. 2017; the usual rule for Adam):
      ``base_lr * sqrt(batch_size / base_batch_size)``. A warmup still helps; a few percent of
      training is common.

    >>> scale_peak_lr(0.1, 8192, 256)
    3.2
    >>> scale_peak_lr(1e-3, 1024, 256, rule="sqrt")
    0.002
    """
    base_lr = _checks.positive("base_lr", base_lr)
    batch_size = _checks.integer("batch_size", batch_size, minimum=1)
    base_batch_size = _checks.integer("base_batch_size", base_batch_size, minimum=1)
    rule = _checks.choice("rule", rule, SCALING_RULES)
    ratio = batch_size / base_batch_size
    return base_lr * (ratio if rule == "linear" else math.sqrt(ratio))

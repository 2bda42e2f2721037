"""Configs written by warmup_jax 0.1.0, read under today's names.

0.1.0 named some arguments differently (``final_value`` for optax's ``end_value``, ``strategy``
and ``warmup`` for the warmup shape, ``decay`` for the decay shape, ``one_step_ahead``) and had
``step_decay``, which is ``exponential_decay`` with ``staircase=True``. A checkpoint stores its
schedule's config, so these old configs must keep loading to the same schedule. Each rule below
renames an argument only when the old name is present; today's configs pass through unchanged.
"""

from __future__ import annotations

from typing import Any

_ONE_STEP_AHEAD = {"one_step_ahead": "warmup_one_step_ahead"}
_STRATEGY = {"strategy": "warmup_type", **_ONE_STEP_AHEAD}
_END = {"final_value": "end_value"}
_SHAPES = {"warmup": "warmup_type", "decay": "decay_type", **_END}

# 0.1.0 argument name -> today's, per constructor.
RENAMED: dict[str, dict[str, str]] = {
    "linear_warmup": _ONE_STEP_AHEAD,
    "exponential_warmup": _ONE_STEP_AHEAD,
    "warmup": _STRATEGY,
    "from_epochs": _STRATEGY,
    "with_warmup": _STRATEGY,
    "cosine_decay": _END,
    "polynomial_decay": _END,
    "linear_decay": _END,
    "one_minus_sqrt_decay": _END,
    "exponential_decay": _END,
    "warmup_stable_decay": _SHAPES,
    "cyclic_schedule": _SHAPES,
    "rewarmup": {"strategy": "warmup_type", "decay": "decay_schedule"},
}


def _step_decay(arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """0.1.0's ``step_decay(init_value, step_size, gamma)``: ``init * gamma ** (s // step_size)``."""
    init, size, gamma = (
        arguments.get("init_value"),
        arguments.get("step_size"),
        arguments.get("gamma", 0.1),
    )
    if isinstance(gamma, (int, float)) and not isinstance(gamma, bool) and gamma == 0:
        # one drop to 0 at step_size: exponential_decay needs a rate > 0
        return "piecewise_constant", {"boundaries": [size], "values": [init, 0.0]}
    return "exponential_decay", {
        "init_value": init,
        "transition_steps": size,
        "decay_rate": gamma,
        "staircase": True,
    }


def upgrade(name: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(name, arguments)`` of a config node, with 0.1.0 names replaced by today's."""
    if name == "step_decay" and set(arguments) <= {"init_value", "step_size", "gamma"}:
        return _step_decay(arguments)
    renames = RENAMED.get(name)
    if not renames or not set(renames) & set(arguments):
        return name, arguments
    upgraded = {}
    for key, value in arguments.items():
        new = renames.get(key, key)
        if new in upgraded:  # both the old and the new name: let the constructor refuse it
            return name, arguments
        upgraded[new] = value
    return name, upgraded

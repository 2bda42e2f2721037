"""Argument validation with messages a person can act on.

Every check names the parameter, shows the value it got and says what is accepted, so that a bad
setting deep inside a config file is found from the message alone. Where optax quietly turns a bad
setting into a constant schedule, these checks raise ``ValueError`` instead.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

# The largest step a schedule promises correct values for: the int32 step counter's maximum.
MAX_STEP = 2**31 - 1
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _describe(value: Any) -> str:
    return f"{value!r} (of type {type(value).__name__})"


def integer(name: str, value: Any, *, minimum: int = 0, maximum: int = MAX_STEP) -> int:
    """Returns ``value`` as an ``int`` if it is an integer in ``[minimum, maximum]``, else raises.

    Floats are refused even when whole (``10.0``): a float where a step count belongs is usually
    a unit mix-up (epochs for steps, a ratio for a count), and failing early says so.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{name} must be an integer in [{minimum}, {maximum}], got {_describe(value)}."
        )
    value = int(value)
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be an integer in [{minimum}, {maximum}], got {value}.")
    return value


def number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
) -> float:
    """Returns ``value`` as a finite ``float`` inside the given range, else raises ``ValueError``.

    Values beyond float32's range are refused too: schedules compute in float32, where they would
    become ``inf``.
    """
    low = "-inf" if minimum is None else f"{minimum:g}"
    high = "inf" if maximum is None else f"{maximum:g}"
    accepted = (
        f"a finite number in {'[' if min_inclusive else '('}{low}, "
        f"{high}{']' if max_inclusive and maximum is not None else ')'}"
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be {accepted}, got {_describe(value)}.")
    value = float(value)
    if not math.isfinite(value) or abs(value) > _FLOAT32_MAX:
        raise ValueError(f"{name} must be {accepted} that float32 can hold, got {value!r}.")
    too_low = minimum is not None and (value < minimum or (not min_inclusive and value == minimum))
    too_high = maximum is not None and (value > maximum or (not max_inclusive and value == maximum))
    if too_low or too_high:
        raise ValueError(f"{name} must be {accepted}, got {value!r}.")
    return value


def positive(name: str, value: Any) -> float:
    """A finite number > 0 (a peak learning rate, a timescale)."""
    return number(name, value, minimum=0.0, min_inclusive=False)


def non_negative(name: str, value: Any) -> float:
    """A finite number >= 0 (an initial or final learning rate)."""
    return number(name, value, minimum=0.0)


def choice(name: str, value: Any, accepted: Iterable[str]) -> str:
    """Returns ``value`` if it is one of ``accepted``, else raises with the accepted list."""
    accepted = tuple(accepted)
    if value not in accepted:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, accepted))}, got {_describe(value)}."
        )
    return value


def schedule_or_number(name: str, value: Any) -> Any:
    """A base LR: a finite number >= 0 or a callable schedule."""
    if callable(value):
        return value
    return non_negative(name, value)

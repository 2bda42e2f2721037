"""Argument validation with messages a person can act on.

Every check names the parameter, shows the value it got and says what is accepted, so that a bad
setting deep inside a config file is found from the message alone. Where optax quietly turns a bad
setting into a constant schedule, these checks raise ``ValueError`` instead.

Constructors receive plain Python values: :func:`warmup_jax._schedule.register` turns numpy and
concrete jax scalars into Python numbers before a constructor sees them.
"""

from __future__ import annotations

import difflib
import math
import numbers
import reprlib
from collections.abc import Iterable
from typing import Any

import jax
import numpy as np

# The largest step a schedule promises correct values for: the int32 step counter's maximum, or,
# under ``jax_enable_x64``, one below 2**53 (float64 holds every integer up to 2**53 exactly). Both
# are one below a power of two, which float steps can be compared with exactly.
MAX_STEP = 2**31 - 1
MAX_STEP_X64 = 2**53 - 1
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_TINY = float(np.finfo(np.float32).tiny)  # the smallest normal float32
_MAX_SHOWN = 60  # characters of a bad value quoted in a message


def max_step() -> int:
    """The last step schedules support: ``2**31 - 1``, or ``2**53 - 1`` under ``jax_enable_x64``."""
    return MAX_STEP_X64 if jax.config.read("jax_enable_x64") else MAX_STEP


def shorten(text: str, limit: int = _MAX_SHOWN) -> str:
    """``text``, cut in the middle to at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    half = (limit - 5) // 2
    return f"{text[:half]} ... {text[-half:]}"


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlong = 3, 40, 40, 40


def safe_repr(value: Any) -> str:
    """A short ``repr``: bounded in depth and length, safe for containers that contain
    themselves and for objects whose ``repr`` fails."""
    try:
        return shorten(_REPR.repr(value))
    except Exception:  # noqa: BLE001  (a user object's __repr__ may raise anything)
        return f"<{type(value).__name__} object>"


def describe(value: Any) -> str:
    """A short ``repr`` of ``value`` with its type, for error messages."""
    return f"{safe_repr(value)} (of type {type(value).__name__})"


def integer(name: str, value: Any, *, minimum: int = 0, maximum: int | None = None) -> int:
    """Returns ``value`` as an ``int`` if it is an integer in ``[minimum, maximum]``, else raises.

    ``maximum`` defaults to :func:`max_step`. Floats are refused even when whole (``10.0``): a
    float where a step count belongs is usually a unit mix-up (epochs for steps, a ratio for a
    count), and failing early says so.
    """
    if maximum is None:
        maximum = max_step()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{name} must be an integer in [{minimum}, {maximum}], got {describe(value)}."
        )
    value = int(value)
    if not minimum <= value <= maximum:
        raise ValueError(
            f"{name} must be an integer in [{minimum}, {maximum}], got {shorten(str(value))}."
        )
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
        raise ValueError(f"{name} must be {accepted}, got {describe(value)}.")
    try:
        value = float(value)
    except OverflowError:  # an int beyond float64
        raise ValueError(f"{name} must be {accepted}, got {shorten(str(value))}.") from None
    if not math.isfinite(value) or abs(value) > _FLOAT32_MAX:
        raise ValueError(f"{name} must be {accepted} that float32 can hold, got {value!r}.")
    too_low = minimum is not None and (value < minimum or (not min_inclusive and value == minimum))
    too_high = maximum is not None and (value > maximum or (not max_inclusive and value == maximum))
    if too_low or too_high:
        raise ValueError(f"{name} must be {accepted}, got {value!r}.")
    return value


def positive(name: str, value: Any, *, maximum: float | None = None) -> float:
    """A finite number > 0 that float32 holds as a normal number (a peak learning rate, a scale).

    A value below float32's smallest normal number (about 1.2e-38) is refused: float32 turns it
    into 0 or a denormal that XLA flushes to 0, and the schedule would silently be 0.
    """
    value = number(name, value, minimum=0.0, maximum=maximum, min_inclusive=False)
    if value < _FLOAT32_TINY:
        raise ValueError(
            f"{name} must be at least {_FLOAT32_TINY:.4g} (float32's smallest normal number; "
            f"smaller values compute as 0), got {value!r}."
        )
    return value


def non_negative(name: str, value: Any, *, maximum: float | None = None) -> float:
    """A finite number >= 0 (an initial or final learning rate): 0, or a normal float32.

    Like a peak, a value between 0 and 1.2e-38 is refused: float32 holds it only as a denormal,
    which XLA flushes to 0, so the schedule would not be what it says.
    """
    value = number(name, value, minimum=0.0, maximum=maximum)
    if 0.0 < value < _FLOAT32_TINY:
        raise ValueError(
            f"{name} must be 0 or at least {_FLOAT32_TINY:.4g} (float32's smallest normal "
            f"number; smaller values compute as 0), got {value!r}."
        )
    return value


def flag(name: str, value: Any) -> bool:
    """``True`` or ``False`` (not 1, not "yes")."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {describe(value)}.")
    return value


def choice(name: str, value: Any, accepted: Iterable[str]) -> str:
    """Returns ``value`` if it is one of ``accepted``, else raises with the accepted list."""
    accepted = tuple(accepted)
    if not isinstance(value, str) or value not in accepted:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, accepted))}, got {describe(value)}."
        )
    return value


def schedule(name: str, value: Any) -> Any:
    """A schedule: any callable ``step -> value``."""
    if not callable(value):
        raise ValueError(
            f"{name} must be a schedule (a callable step -> value), got {describe(value)}."
        )
    return value


def schedule_or_number(name: str, value: Any) -> Any:
    """A base value: a finite number >= 0 or a callable schedule."""
    if callable(value):
        return value
    return non_negative(name, value)


def step_count_sum(what: str, total: int) -> int:
    """Checks that a schedule's phases, added up, end by :func:`max_step`."""
    if total > max_step():
        raise ValueError(f"{what} must be at most {max_step()}, got {total}.")
    return total


def unknown(what: str, name: Any, known: Iterable[str]) -> str:
    """``unknown schedule 'x'; did you mean ...?`` with the closest known names, not all of them."""
    known = sorted(known)
    close = (
        difflib.get_close_matches(str(name)[:100], known, n=3, cutoff=0.6)
        if isinstance(name, str)
        else []
    )
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    return (
        f"unknown {what} {shorten(repr(name))}; {hint}there are {len(known)}: "
        "`python -m warmup_jax list` shows them all with their arguments"
    )

"""Turning whatever a user passes as a step into the integer index a schedule computes with.

A schedule computes with a signed integer step (int32, or int64 under ``jax_enable_x64``) that
lies in ``[-1, max_step()]``: every schedule treats all negative steps alike (as before the
start), and inside that range no ``step - boundary`` or ``step + 1`` can wrap around. Getting
there without ever making up a value:

* Integer steps of any width and signedness (``uint32`` 30000, ``int8`` 120, Python ints past
  2**31) are compared in their own type or in Python, never wrapped into int32.
* Float steps are floored (a learning rate belongs to a whole update): ``s(2.7) == s(2)``.
* A step past ``max_step()`` gives the value at ``max_step()`` when the schedule holds one value
  from some step on (``holds_from``), which is then the right value. When the schedule still
  changes, a concrete step raises ``ValueError`` and a traced or on-device step gives NaN.
* A NaN step raises ``ValueError`` when concrete and gives NaN when traced; bools, complex numbers
  and strings are refused.

Python numbers and numpy values are checked on the host. jax arrays (traced or not) stay on the
device: they are checked with ``where``, so nothing is copied to the host.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from warmup_jax import _checks


def index_dtype() -> Any:
    """int32, or int64 under ``jax_enable_x64``."""
    return jnp.asarray(0).dtype


def _kind_error(step: Any, dtype: Any) -> ValueError:
    return ValueError(
        f"a step must be an integer or a float (a float is floored), got "
        f"{_checks.describe(step)} of dtype {dtype}."
    )


def _beyond_message(step: Any, last: int) -> str:
    hint = (
        ""
        if jax.config.read("jax_enable_x64")
        else (" (the int32 step counter's last step; enable jax_enable_x64 for longer runs)")
    )
    return (
        f"step {_checks.shorten(str(step))} is past {last}{hint}, and this schedule still "
        "changes there, so it has no value to give."
    )


def _host(step: Any, holds_from: int | None) -> jax.Array:
    """A Python or numpy step (scalar or array) -> the index array, checked on the host."""
    last = _checks.max_step()
    if isinstance(step, bool) or isinstance(step, np.bool_):
        raise _kind_error(step, type(step).__name__)
    if isinstance(step, int):  # Python ints of any size, compared exactly
        if step > last and holds_from is None:
            raise ValueError(_beyond_message(step, last))
        return jnp.asarray(min(max(step, -1), last), index_dtype())
    if isinstance(step, float):
        if math.isnan(step):
            raise ValueError("the step is NaN; a schedule needs a step number.")
        floored = -1.0 if step < -1 else math.floor(min(step, float(last) + 1))
        if floored > last and holds_from is None:
            raise ValueError(_beyond_message(step, last))
        return jnp.asarray(min(int(floored), last), index_dtype())
    try:
        try:
            array = np.asarray(step)
        except OverflowError:  # Python ints past 64 bits: keep them as objects
            array = np.asarray(step, dtype=object)
    except (TypeError, ValueError, OverflowError):
        raise _kind_error(step, type(step).__name__) from None
    if array.dtype == object:  # a list with Python ints beyond int64, or other objects
        items = array.ravel().tolist()
        if not all(isinstance(i, numbers.Real) and not isinstance(i, bool) for i in items):
            raise _kind_error(step, "object")
        array = np.asarray([float(max(min(i, 2.0**64), -2.0)) for i in items]).reshape(array.shape)
    kind = "f" if jnp.issubdtype(array.dtype, jnp.floating) else array.dtype.kind
    if kind == "f":  # float16, bfloat16 and float8 included
        array = array.astype(np.float64)  # holds every step up to max_step() exactly
        if np.isnan(array).any():
            raise ValueError("a step is NaN; a schedule needs step numbers.")
        array = np.floor(np.clip(array, -1.0, float(last) + 1))
    elif kind not in "iu":
        raise _kind_error(step, array.dtype)
    beyond = array > last
    if beyond.any() and holds_from is None:
        raise ValueError(_beyond_message(array[beyond].flat[0], last))
    clipped = np.where(beyond, last, np.where(array < -1, -1, array))
    return jnp.asarray(clipped.astype(np.int64), index_dtype())


def _device(step: jax.Array, holds_from: int | None) -> tuple[jax.Array, jax.Array | None]:
    """A jax array (traced or concrete) -> the index array, and where the value must be NaN."""
    last = _checks.max_step()
    dtype = index_dtype()
    kind = "f" if jnp.issubdtype(step.dtype, jnp.floating) else step.dtype.kind
    if kind == "b":
        raise _kind_error(step, step.dtype)
    if kind == "f":  # float16, bfloat16 and float8 included
        # max_step() + 1 is a power of two, so the float dtype holds it exactly.
        invalid = jnp.isnan(step)
        if float(jnp.finfo(step.dtype).max) >= last + 1:
            beyond = step >= float(last + 1)
        else:  # float16 and float8: only +inf is past the last step
            beyond = jnp.isposinf(step)
        inside = jnp.where(beyond | invalid, 0.0, jnp.maximum(jnp.floor(step), -1.0))
        index = jnp.where(beyond, jnp.asarray(last, dtype), inside.astype(dtype))
        return index, (invalid | beyond) if holds_from is None else invalid
    if kind not in "iu":
        raise _kind_error(step, step.dtype)
    info = jnp.iinfo(step.dtype)
    if info.max <= last:  # fits: only negatives need a floor
        index = step.astype(dtype)
        return (jnp.maximum(index, -1) if info.min < 0 else index), None
    beyond = step > jnp.asarray(last, step.dtype)
    low = jnp.maximum(step, -1) if info.min < 0 else step
    index = jnp.where(beyond, jnp.asarray(last, step.dtype), low).astype(dtype)
    return index, (beyond if holds_from is None else None)


def prepare(step: Any, holds_from: int | None) -> tuple[jax.Array, jax.Array | None]:
    """``(index, invalid)``: the step as an index in ``[-1, max_step()]``, and a mask of the
    elements whose value must be NaN (``None`` when there are none)."""
    if isinstance(step, jax.Array):
        return _device(step, holds_from)
    return _host(step, holds_from), None

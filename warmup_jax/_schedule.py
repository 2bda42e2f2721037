"""The schedule object: a jittable ``step -> lr`` callable that remembers how it was made.

Every public constructor in warmup_jax is decorated with :func:`register`. The decorator records the
constructor's name and the arguments it was called with, so :meth:`Schedule.to_config` can write
them as JSON and :func:`from_config` can call the same constructor again with the same arguments:
the rebuilt schedule is the same function, value for value, nested schedules included.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
StepFn = Callable[[Array], Array]

_REGISTRY: dict[str, Callable[..., "Schedule"]] = {}
_CONFIG_KEY = "schedule"  # the constructor's name; its arguments go under _ARGUMENTS_KEY
_ARGUMENTS_KEY = "arguments"


def float_dtype() -> Any:
    """float32, or float64 when ``jax_enable_x64`` is on."""
    return jnp.asarray(0.0).dtype


def as_step(step: Any) -> Array:
    """Turns a Python/numpy/jax step into an integer jax array (int32, int64 under x64).

    Float steps are accepted (``jnp.arange`` in float, a step from a float config) and floored,
    since a learning rate belongs to a whole update.
    """
    step = jnp.asarray(step)
    if not jnp.issubdtype(step.dtype, jnp.integer):
        step = jnp.floor(step).astype(jnp.asarray(0).dtype)
    return step


class Schedule:
    """A learning-rate schedule: an ``optax.Schedule`` with a JSON config.

    Call it on a step (a Python int or an integer array, traced or not; arrays are evaluated
    elementwise) to get the learning rate as a float32 array (float64 under x64). Pass it straight to
    an optax optimizer: ``optax.adamw(learning_rate=schedule)``.

    Schedules are made by the constructors in :mod:`warmup_jax` (for example
    :func:`warmup_jax.cosine_schedule_with_warmup`), never directly.
    """

    __slots__ = ("_fn", "_name", "_arguments", "_warmup_steps", "__weakref__")

    def __init__(self, fn: StepFn, *, warmup_steps: int = 0) -> None:
        self._fn = fn
        self._warmup_steps = int(warmup_steps)
        # Filled in by @register with the public constructor that made this schedule.
        self._name: str | None = None
        self._arguments: dict[str, Any] = {}

    def __call__(self, step: Any) -> Array:
        value = self._fn(as_step(step))
        return jnp.asarray(value, dtype=float_dtype())

    @property
    def name(self) -> str:
        """The name of the constructor that made this schedule."""
        return self._name or "<unregistered>"

    @property
    def arguments(self) -> dict[str, Any]:
        """The arguments the constructor was called with (defaults filled in)."""
        return dict(self._arguments)

    @property
    def warmup_steps(self) -> int:
        """Steps until the warmup is over: the first step at full value (0 with no warmup)."""
        return self._warmup_steps

    def is_warmup_complete(self, step: Any) -> Array:
        """Whether ``step`` is past the warmup (``step >= warmup_steps``); jittable."""
        return as_step(step) >= self._warmup_steps

    def to_config(self) -> dict[str, Any]:
        """A JSON-serializable dict that :func:`warmup_jax.from_config` turns back into this schedule.

        The form is ``{"schedule": CONSTRUCTOR_NAME, "arguments": {NAME: VALUE, ...}}``, with
        nested schedules in the same form.

        Raises:
          TypeError: if the schedule holds something that is not a number, string, list or
            warmup_jax schedule (for example a plain optax schedule passed to ``with_warmup``).
        """
        arguments = {
            key: _encode(value, f"{self.name}.{key}") for key, value in self._arguments.items()
        }
        return {_CONFIG_KEY: self.name, _ARGUMENTS_KEY: arguments}

    def to_json(self) -> str:
        """The config as a JSON string with sorted keys (stable for comparisons and files)."""
        return json.dumps(self.to_config(), sort_keys=True)

    def __eq__(self, other: object) -> bool:
        """Schedules are equal when their configs are (``2 == 2.0``, as in Python)."""
        if not isinstance(other, Schedule):
            return NotImplemented
        if self is other:
            return True
        try:
            return self.to_config() == other.to_config()
        except TypeError:
            return False

    def __hash__(self) -> int:
        try:
            return hash(_freeze(self.to_config()))
        except TypeError:
            return id(self)

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self._arguments.items())
        return f"{self.name}({arguments})"


def _freeze(value: Any) -> Any:
    """A hashable copy of a config (dicts and lists become tuples)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _encode(value: Any, where: str) -> Any:
    if isinstance(value, Schedule):
        return value.to_config()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_encode(v, where) for v in value]
    if isinstance(value, (jax.Array, np.ndarray)) and np.ndim(value) == 0:
        return _encode(np.asarray(value).item(), where)
    raise TypeError(
        f"{where} is {value!r}, which has no JSON form. Only warmup_jax schedules, numbers, "
        "strings and lists can be saved; build the schedule from warmup_jax constructors "
        "(e.g. warmup_jax.cosine_decay instead of optax.cosine_decay_schedule) to save it."
    )


def _decode(value: Any) -> Any:
    if isinstance(value, Mapping) and isinstance(value.get(_CONFIG_KEY), str):
        return from_config(value)
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def from_config(config: Mapping[str, Any] | str) -> Schedule:
    """Rebuilds a schedule from :meth:`Schedule.to_config` output (a dict or its JSON string).

    >>> import warmup_jax
    >>> s = warmup_jax.cosine_schedule_with_warmup(1e-3, 10, 100)
    >>> warmup_jax.from_config(s.to_config()) == s
    True

    Raises:
      ValueError: for a config that is not a dict with a known ``"schedule"`` name, or whose
        arguments the constructor refuses.
    """
    if isinstance(config, str):
        config = json.loads(config)
    if (
        not isinstance(config, Mapping)
        or not isinstance(config.get(_CONFIG_KEY), str)
        or not isinstance(config.get(_ARGUMENTS_KEY, {}), Mapping)
        or set(config) - {_CONFIG_KEY, _ARGUMENTS_KEY}
    ):
        raise ValueError(
            f"a schedule config must be a dict {{{_CONFIG_KEY!r}: NAME, {_ARGUMENTS_KEY!r}: "
            f"{{...}}}}, got {config!r}."
        )
    name = config[_CONFIG_KEY]
    if name not in _REGISTRY:
        raise ValueError(
            f"unknown schedule {name!r} in config; known schedules: {', '.join(sorted(_REGISTRY))}."
        )
    arguments = {k: _decode(v) for k, v in config.get(_ARGUMENTS_KEY, {}).items()}
    try:
        return _REGISTRY[name](**arguments)
    except TypeError as error:
        raise ValueError(f"config for {name!r} does not fit its arguments: {error}") from None


def registered_names() -> tuple[str, ...]:
    """Names of every constructor :func:`from_config` knows."""
    return tuple(sorted(_REGISTRY))


F = TypeVar("F", bound=Callable[..., Schedule])


def register(constructor: F) -> F:
    """Makes ``constructor`` a public, serializable schedule constructor.

    The returned function calls ``constructor`` and stamps the schedule it returns with the
    constructor's name and its bound arguments (defaults filled in), which is all
    :func:`from_config` needs to make it again.
    """
    signature = inspect.signature(constructor)
    name = constructor.__name__

    @functools.wraps(constructor)
    def build(*args: Any, **kwargs: Any) -> Schedule:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{name}(): {error}") from None
        bound.apply_defaults()
        schedule = constructor(*bound.args, **bound.kwargs)
        stamped = Schedule(schedule._fn, warmup_steps=schedule._warmup_steps)
        stamped._name = name
        stamped._arguments = dict(bound.arguments)
        return stamped

    if name in _REGISTRY:
        raise RuntimeError(f"two schedule constructors named {name!r}")
    _REGISTRY[name] = build
    return build  # type: ignore[return-value]


def evaluate(schedule: Callable[[Any], Any], step: Any) -> float:
    """The value of any schedule at a concrete step, as a Python float."""
    value = float(np.asarray(schedule(step)))
    if not math.isfinite(value):
        raise ValueError(f"the schedule's value at step {step} is {value}, not a finite number.")
    return value

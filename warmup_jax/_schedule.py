"""The schedule object: a jittable ``step -> value`` callable that remembers how it was made.

Every public constructor in warmup_jax is decorated with :func:`register`. The decorator records the
constructor's name and the arguments it was called with, so :meth:`Schedule.to_config` can write
them as JSON, :func:`from_config` can call the same constructor again with the same arguments, and
pickling does the same: the rebuilt schedule is the same function, value for value, nested
schedules included. Each constructor also says, when it builds a schedule, where its warmup ends
and where the schedule ends (``end_step``), so nothing has to look schedules up by name.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import jax
import jax.numpy as jnp
import numpy as np

from warmup_jax import _checks, _legacy, _steps, durations

Array = jax.Array
StepFn = Callable[[Array], Array]

_REGISTRY: dict[str, Callable[..., Schedule]] = {}
_CONFIG_KEY = "schedule"  # the constructor's name; its arguments go under _ARGUMENTS_KEY
_ARGUMENTS_KEY = "arguments"
# Present only for schedules built from durations ("10%", "2ep", ...): {argument: as given}. The
# arguments hold the steps they resolved to, so the config rebuilds without any context.
_DURATIONS_KEY = "durations"
# Schedules nest (a warmup around a join of decays, ...) at most this deep. Configs and
# expressions from untrusted text are refused beyond it with a ValueError, so nothing that reads,
# prints, compares or evaluates a schedule can run out of stack. Long chains (a >> b >> c ...)
# are flat, not deep: a 10,000-link chain is one join of depth 2.
MAX_DEPTH = 32
_SAME = object()


def float_dtype() -> Any:
    """float32, or float64 when ``jax_enable_x64`` is on."""
    return jnp.asarray(0.0).dtype


class Schedule:
    """A schedule: an ``optax.Schedule`` (``step -> value``) with a JSON config.

    Call it on a step (a Python int or float, a numpy or jax integer or float array of any width,
    traced or not; arrays are evaluated elementwise, floats floored) to get the value as a float32
    array (float64 under x64). Pass it straight to an optax optimizer:
    ``optax.adamw(learning_rate=schedule)``. ``a >> b`` runs ``b`` after ``a`` ends
    (:func:`warmup_jax.join`), and ``a * b`` multiplies (:func:`warmup_jax.multiply`).

    Schedules are made by the constructors in :mod:`warmup_jax` (for example
    :func:`warmup_jax.cosine_schedule_with_warmup`), never directly. They pickle, compare equal
    when their configs are equal, and hash accordingly.
    """

    __slots__ = (
        "_fn",
        "_name",
        "_arguments",
        "_durations",
        "_warmup_steps",
        "_end_step",
        "_holds_from",
        "_depth",
        "__weakref__",
    )

    def __init__(
        self,
        fn: StepFn,
        *,
        warmup_steps: int,
        end_step: int | None,
        holds_from: int | None | object = _SAME,
    ) -> None:
        self._fn = fn
        self._warmup_steps = int(warmup_steps)
        self._end_step = None if end_step is None else int(end_step)
        holds = self._end_step if holds_from is _SAME else holds_from
        # The first step from which the value never changes again (None: it keeps changing).
        # Usually end_step; the transformers family ends at num_training_steps but follows its
        # formulas past it, so there it can differ.
        self._holds_from: int | None = None if holds is None else int(holds)  # type: ignore[call-overload]
        # Filled in by @register with the public constructor that made this schedule.
        self._name: str | None = None
        self._arguments: dict[str, Any] = {}
        self._durations: dict[str, Any] = {}
        self._depth = 1

    def __call__(self, step: Any) -> Array:
        index, invalid = _steps.prepare(step, self._holds_from)
        value = jnp.asarray(self._fn(index), dtype=float_dtype())
        if invalid is not None:
            value = jnp.where(invalid, jnp.nan, value)
        return value

    @property
    def name(self) -> str:
        """The name of the constructor that made this schedule."""
        return self._name or "<unregistered>"

    @property
    def arguments(self) -> dict[str, Any]:
        """The arguments the constructor was called with (defaults filled in)."""
        return dict(self._arguments)

    @property
    def durations(self) -> dict[str, Any]:
        """The length arguments that were given as durations, as given (``{"warmup_steps":
        "10%"}``); :attr:`arguments` holds the steps they resolved to. Empty for steps."""
        return dict(self._durations)

    @property
    def warmup_steps(self) -> int:
        """Steps until the warmup is over: the first step at full value (0 with no warmup)."""
        return self._warmup_steps

    @property
    def end_step(self) -> int | None:
        """The step at which the schedule ends, or ``None`` when it never settles.

        From ``end_step`` on the value stays at the schedule's final value; ``a >> b`` starts
        ``b`` there. For the transformers family it is ``num_training_steps`` (the end of
        training), past which transformers' own formulas go on (a half cosine rises again).
        """
        return self._end_step

    def is_warmup_complete(self, step: Any) -> Array:
        """Whether ``step`` is past the warmup (``step >= warmup_steps``); jittable."""
        index, _ = _steps.prepare(step, 0)
        return index >= self._warmup_steps

    def to_config(self) -> dict[str, Any]:
        """A JSON-serializable dict that :func:`warmup_jax.from_config` turns back into this schedule.

        The form is ``{"schedule": CONSTRUCTOR_NAME, "arguments": {NAME: VALUE, ...}}``, with
        nested schedules in the same form. A schedule given durations (``"10%"``, ``"2ep"``, see
        :mod:`warmup_jax.durations`) has the steps they resolved to among its arguments and the
        durations as given under ``"durations": {NAME: DURATION, ...}``.

        Raises:
          TypeError: if the schedule holds something that is not a number, string, list or
            warmup_jax schedule (for example a plain optax schedule passed to ``with_warmup``).
        """
        return self._config(record=True)

    def _config(self, record: bool) -> dict[str, Any]:
        """The config, with the durations records (``record``) or without (for ``==``)."""
        if self._name is None:
            raise TypeError("only schedules made by warmup_jax's constructors have a config.")
        arguments = {
            key: _encode(value, f"{self.name}.{key}", record)
            for key, value in self._arguments.items()
        }
        config = {_CONFIG_KEY: self.name, _ARGUMENTS_KEY: arguments}
        if record and self._durations:
            config[_DURATIONS_KEY] = dict(self._durations)
        return config

    def to_json(self) -> str:
        """The config as a JSON string with sorted keys (stable for comparisons and files)."""
        return json.dumps(self.to_config(), sort_keys=True)

    def __eq__(self, other: object) -> bool:
        """Schedules are equal when their configs are (``2 == 2.0``, as in Python), durations
        records aside: ``"10%"`` of 1000 steps and ``100`` are the same schedule."""
        if not isinstance(other, Schedule):
            return NotImplemented
        if self is other:
            return True
        try:
            return self._config(record=False) == other._config(record=False)
        except TypeError:  # holds a plain callable: compare what was passed
            return self._name == other._name and self._arguments == other._arguments

    def __hash__(self) -> int:
        try:
            return hash(_freeze(self._config(record=False)))
        except TypeError:  # holds a plain callable: hash what __eq__ compares
            return hash((self._name, _freeze(self._arguments)))

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self._arguments.items())
        return f"{self.name}({arguments})"

    def __reduce__(self) -> tuple[Any, ...]:
        if self._name is None:
            raise TypeError("only schedules made by warmup_jax's constructors can be pickled.")
        if self._durations:
            return (_rebuild, (self._name, self._arguments, self._durations))
        return (_rebuild, (self._name, self._arguments))

    def __rshift__(self, other: Any) -> Schedule:
        from warmup_jax.compose import then  # noqa: PLC0415  (compose builds on this module)

        return then(self, other)

    def __mul__(self, other: Any) -> Schedule:
        from warmup_jax.compose import product  # noqa: PLC0415

        return product(self, other)

    def __rmul__(self, other: Any) -> Schedule:
        from warmup_jax.compose import product  # noqa: PLC0415

        return product(other, self)


def _rebuild(
    name: str, arguments: dict[str, Any], record: dict[str, Any] | None = None
) -> Schedule:
    """Unpickling: the constructor ``name`` called again with ``arguments`` (steps), and the
    durations they were resolved from, if any, recorded again."""
    made = _REGISTRY[name](**arguments)
    if record:
        made._durations = dict(record)
    return made


def _freeze(value: Any) -> Any:
    """A hashable copy of a config or of arguments (dicts and lists become tuples; a schedule
    stands for itself, and any other callable by its identity, as ``==`` compares them)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Schedule):
        return value
    if callable(value):
        return ("<callable>", id(value))
    return value


def _encode(value: Any, where: str, record: bool = True) -> Any:
    if isinstance(value, Schedule):
        return value._config(record)
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, list):
        return [_encode(v, where, record) for v in value]
    raise TypeError(
        f"{where} is {_checks.safe_repr(value)}, which has no JSON form. Only warmup_jax "
        "schedules, numbers, strings and lists can be saved; build the schedule from warmup_jax "
        "constructors (e.g. warmup_jax.cosine_decay instead of optax.cosine_decay_schedule) to "
        "save it."
    )


def _too_deep(where: str) -> ValueError:
    return ValueError(
        f"{_checks.shorten(where, 200)}: schedules nest at most {MAX_DEPTH} levels deep."
    )


def _decode(value: Any, where: str, depth: int, lists: int = 0) -> Any:
    """An argument's value from a config: nested schedules rebuilt, at ``depth`` schedules deep
    (``lists``: how many lists it is in; a list of pairs is the deepest any argument takes)."""
    if isinstance(value, Mapping):
        return _decode_schedule(value, where, depth)
    if isinstance(value, list):
        if lists >= 2:
            raise ValueError(f"{where}: lists nested three deep; no schedule takes them.")
        return [_decode(v, f"{where}[{i}]", depth, lists + 1) for i, v in enumerate(value)]
    return value


def _decode_schedule(config: Any, where: str, depth: int) -> Schedule:
    if depth > MAX_DEPTH:
        raise _too_deep(where)
    arguments = config.get(_ARGUMENTS_KEY, {}) if isinstance(config, Mapping) else None
    name = config.get(_CONFIG_KEY) if isinstance(config, Mapping) else None
    if (
        not isinstance(name, str)
        or not isinstance(arguments, Mapping)
        or set(config) - {_CONFIG_KEY, _ARGUMENTS_KEY, _DURATIONS_KEY}
        or not all(isinstance(key, str) for key in arguments)
    ):
        shown = _checks.safe_repr(config)
        raise ValueError(
            f"{where}: a schedule config must be a dict {{{_CONFIG_KEY!r}: NAME, "
            f"{_ARGUMENTS_KEY!r}: {{ARGUMENT: VALUE, ...}}}}, got {shown}."
        )
    name, arguments = _legacy.upgrade(name, dict(arguments))
    if name not in _REGISTRY:
        raise ValueError(f"{where}: {_checks.unknown('schedule', name, _REGISTRY)}.")
    record = None
    if _DURATIONS_KEY in config:
        record = durations.check_record(config[_DURATIONS_KEY], arguments, f"{where}.{name}")
    decoded = {
        k: _decode(v, f"{where}.{name}.{_checks.shorten(k)}", depth + 1)
        for k, v in arguments.items()
    }
    try:
        made = _REGISTRY[name](**decoded)
        if record:
            made._durations = record
        return made
    except TypeError as error:
        raise ValueError(
            f"{where}: the config for {name!r} does not fit its arguments: "
            f"{_checks.shorten(str(error), 200)}"
        ) from None
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def from_config(
    config: Mapping[str, Any] | str | bytes, *, length: durations.TrainingLength | None = None
) -> Schedule:
    """Rebuilds a schedule from :meth:`Schedule.to_config` output (a dict or its JSON text).

    Configs written by warmup_jax 0.1.0, with its argument names (``final_value``, ``strategy``,
    ...), load to the same schedule under today's names.

    A config written by :meth:`Schedule.to_config` holds steps, so it needs no context even when
    the schedule was given durations. A config written by hand may give a duration as an argument
    (``"warmup_steps": "10%"``): it is resolved against ``length``, or the current
    :func:`warmup_jax.training_length` block when ``length`` is ``None``.

    >>> import warmup_jax
    >>> s = warmup_jax.cosine_schedule_with_warmup(1e-3, 10, 100)
    >>> warmup_jax.from_config(s.to_config()) == s
    True

    Raises:
      ValueError: for anything that is not such a config: not JSON, not a dict with a known
        ``"schedule"`` name, arguments the constructor refuses, or nesting deeper than
        ``MAX_DEPTH``. The message says where in the config the problem is.
    """
    if isinstance(config, (str, bytes)):
        try:
            config = json.loads(config)
        except RecursionError:
            raise ValueError(f"config: nested too deeply (at most {MAX_DEPTH} levels).") from None
        except ValueError as error:
            raise ValueError(
                f"config: not valid JSON: {_checks.shorten(str(error), 200)}"
            ) from None
    try:
        with durations.using(length):
            return _decode_schedule(config, "config", 1)
    except RecursionError:  # a Python dict nested past what even the depth check can walk
        raise _too_deep("config") from None


def registered_names() -> tuple[str, ...]:
    """Names of every constructor :func:`from_config` knows."""
    return tuple(sorted(_REGISTRY))


def _plain(value: Any, where: str, depth: int = 0) -> tuple[Any, int]:
    """``value`` as plain Python (numpy, jax and other numbers as ``int``/``float``, any sequence
    as a list, ``str`` subclasses as ``str``), and how deep it nests schedules.

    Only plain values are stored, so a config, a ``repr`` and a hash see exactly what the
    constructor saw, and nothing can nest deeper than the depth check sees.
    """
    if depth > MAX_DEPTH:
        raise _too_deep(where)
    if isinstance(value, Schedule):
        return value, value._depth
    if isinstance(value, (np.generic, np.ndarray, jax.Array)):
        try:
            value = np.asarray(jax.device_get(value)).tolist()
        except Exception:  # noqa: BLE001  (a tracer: jax raises one of several errors)
            raise ValueError(
                f"{where} must be a concrete number, got a traced value; build schedules "
                "outside jax.jit and pass them in."
            ) from None
    if isinstance(value, bool) or value is None:
        return value, 0
    if isinstance(value, numbers.Integral):
        return int(value), 0
    if isinstance(value, numbers.Real):
        return float(value), 0
    if isinstance(value, str):
        return str(value), 0
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        items = [_plain(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
        return [v for v, _ in items], max((d for _, d in items), default=0)
    if isinstance(value, Mapping):  # {step: scale}: stored as its [key, value] pairs, by key
        pairs = list(value.items())
        try:
            pairs.sort(key=lambda pair: pair[0])
        except TypeError:
            pass  # keys that do not compare: the constructor will refuse them
        return _plain([list(pair) for pair in pairs], where, depth)
    if callable(value):
        return value, 1
    return value, 0


F = TypeVar("F", bound=Callable[..., Schedule])


def register(constructor: F) -> F:
    """Makes ``constructor`` a public, serializable schedule constructor.

    The returned function turns numpy and concrete jax numbers among its arguments into Python
    ones, calls ``constructor`` and stamps the schedule it returns with the constructor's name
    and its bound arguments (defaults filled in), which is all :func:`from_config` and pickling
    need to make it again.
    """
    signature = inspect.signature(constructor)
    name = constructor.__name__

    @functools.wraps(constructor)
    def build(*args: Any, **kwargs: Any) -> Schedule:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{name}(): {_checks.shorten(str(error), 200)}") from None
        bound.apply_defaults()
        arguments, depth = {}, 0
        for key, value in bound.arguments.items():
            arguments[key], inner = _plain(value, f"{name}(): {key}")
            depth = max(depth, inner)
        if depth + 1 > MAX_DEPTH:
            raise _too_deep(f"{name}()")
        arguments, record = durations.resolve_arguments(arguments)
        made = constructor(**arguments)
        stamped = Schedule(
            made._fn,
            warmup_steps=made._warmup_steps,
            end_step=made._end_step,
            holds_from=made._holds_from,
        )
        stamped._name = name
        stamped._arguments = arguments
        stamped._durations = record
        stamped._depth = depth + 1
        return stamped

    if name in _REGISTRY:
        raise RuntimeError(f"two schedule constructors named {name!r}")
    _REGISTRY[name] = build
    return build  # type: ignore[return-value]


def evaluate(schedule: Callable[[Any], Any], step: int) -> float:
    """The value of any schedule at a concrete step, as a Python float; ``ValueError`` when the
    schedule (perhaps a user's own callable) fails or gives anything but one finite number."""
    try:
        value = float(np.asarray(schedule(step)))
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001  (a user's callable may raise anything)
        raise ValueError(
            f"the schedule failed at step {step} ({type(error).__name__}: "
            f"{_checks.shorten(str(error))}); it must map a step to one number."
        ) from None
    if not math.isfinite(value):
        raise ValueError(f"the schedule's value at step {step} is {value}, not a finite number.")
    return value


def end_of(schedule: Any) -> int | None:
    """``schedule.end_step`` for a warmup_jax schedule; ``None`` for any other callable."""
    return schedule.end_step if isinstance(schedule, Schedule) else None


def settles_at(schedule: Any) -> int | None:
    """The first step from which ``schedule`` never changes: 0 for a number, ``None`` when it
    keeps changing or is a callable we know nothing about."""
    if isinstance(schedule, Schedule):
        return schedule._holds_from
    if isinstance(schedule, (int, float)) and not isinstance(schedule, bool):
        return 0
    return None


def latest(values: list[int | None]) -> int | None:
    """The largest of ``values``, or ``None`` if any is ``None`` (some part never settles)."""
    return None if any(v is None for v in values) else max(v for v in values if v is not None)

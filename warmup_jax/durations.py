"""Durations: lengths in the units people think in, resolved to steps when a schedule is built.

Every length argument of every constructor (``warmup_steps``, ``decay_steps``,
``num_training_steps``, ``boundaries``, ``milestones``, ``T_0``, ... : the names in
:data:`LENGTH_PARAMETERS`) takes either a step count (an ``int``, as always) or a duration string:

==================  ===========================================  ===============================
form                meaning                                      needs
==================  ===========================================  ===============================
``"10%"``           a share of training: 10% of the total steps  ``total_steps``
``"2ep"``           epochs (``"0.5ep"`` too)                     ``steps_per_epoch``
``"375Mtok"``       tokens (``"5e6tok"``, ``"1.5Gtok"``)         ``tokens_per_step``
``"1e5ex"``         examples (``"20Kex"``)                       ``examples_per_step``
``"500st"``         steps (``"1.5Kst"``; or the int ``500``)     nothing
==================  ===========================================  ===============================

Grammar: ``NUMBER [MULTIPLIER] UNIT``, optionally with spaces around and between, where NUMBER
is a non-negative decimal (``2``, ``0.5``, ``1_000``, ``5e6``), MULTIPLIER is one of ``K``
(or ``k``, 1e3), ``M`` (1e6), ``G`` or ``B`` (1e9) and ``T`` (1e12), allowed before ``tok``,
``ex`` and ``st``, and UNIT is ``%``, ``ep``, ``tok``, ``ex`` or ``st``. A share is at most
``100%``.

A duration is resolved against a :class:`TrainingLength` (total steps, steps per epoch, tokens per
step, examples per step): the one passed explicitly (``length=`` of :func:`to_steps`,
:func:`warmup_jax.parse` and :func:`warmup_jax.from_config`), or else the one of the innermost
``with training_length(...):`` block around the call::

    with warmup_jax.training_length(total_steps=10_000, tokens_per_step=2**19):
        s = warmup_jax.linear_warmup(3e-4, "375Mtok") >> warmup_jax.cosine_decay(3e-4, "90%")

**Rounding**, one rule for every unit: the exact value (computed in rational arithmetic, so
``"10%"`` of 1005 steps is exactly 100.5) is rounded to the nearest step, halves up
(100.5 -> 101), and a positive duration never rounds to 0 steps: it gets at least 1 (so a warmup
that was asked for always warms up). ``"0%"`` is 0 steps. The result must fit the step counter.

**What the config records**: a schedule built from durations stores the resolved steps as its
arguments, as if they had been given as ints, and the durations as given under
``"durations"`` in :meth:`~warmup_jax.Schedule.to_config`::

    {"schedule": "linear_warmup",
     "arguments": {"peak_value": 0.0003, "warmup_steps": 715, ...},
     "durations": {"warmup_steps": "375Mtok"}}

so :func:`warmup_jax.from_config` rebuilds the same values with no context, pickling keeps the
record, and a schedule built from ints has exactly the config it always had. Two schedules with
the same resolved arguments compare equal whatever units they were written in.

A duration with no context for it (``"10%"`` and no ``total_steps``), a malformed one, a negative,
NaN or infinite one, or one beyond the step counter raises ``ValueError`` naming the parameter.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import math
import numbers
import re
from collections.abc import Iterator, Mapping
from fractions import Fraction
from typing import Any

from warmup_jax import _checks

# Every constructor parameter that is a length or a position in steps. The registration in
# warmup_jax._schedule resolves durations given to any parameter of these names.
LENGTH_PARAMETERS = frozenset(
    {
        "warmup_steps",
        "decay_steps",
        "stable_steps",
        "hold_steps",
        "transition_steps",
        "transition_begin",
        "first_cycle_steps",
        "first_decay_steps",
        "at_step",
        "timescale",
        "boundaries",
        "boundaries_and_scales",
        "num_warmup_steps",
        "num_training_steps",
        "num_decay_steps",
        "num_stable_steps",
        "step_size",
        "step_size_up",
        "step_size_down",
        "total_iters",
        "total_steps",
        "T_max",
        "T_0",
        "milestones",
    }
)

# unit -> (what it is called, the TrainingLength field it needs)
DURATION_UNITS: dict[str, tuple[str, str | None]] = {
    "%": ("a share of training", "total_steps"),
    "ep": ("in epochs", "steps_per_epoch"),
    "tok": ("in tokens", "tokens_per_step"),
    "ex": ("in examples", "examples_per_step"),
    "st": ("in steps", None),
}
_MULTIPLIERS = {"": 1, "K": 10**3, "k": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}
_MAX_TEXT = 64
_DIGITS = r"[0-9](?:_?[0-9])*"
_DURATION = re.compile(
    rf"""\s*(?P<sign>[-+]?)\s*
    (?P<number>(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][-+]?[0-9]{{1,3}})?)
    \s*(?P<multiplier>[kKMGBT]?)\s*(?P<unit>%|ep|tok|ex|st)?\s*""",
    re.VERBOSE,
)
EXAMPLES = '"10%", "2ep", "375Mtok", "5e6tok", "1e5ex", "500st" or an int'
_BARE = (
    " (a duration needs its unit; steps are an int, like 1000, or a string with st, like "
    '"1000st" or "1Kst"; a share of training is "10%")'
)


@dataclasses.dataclass(frozen=True)
class Duration:
    """A parsed duration: ``amount`` (exact) in ``unit`` (``"%"``, ``"ep"``, ``"tok"``, ``"ex"``
    or ``"st"``), and the ``text`` it was parsed from."""

    amount: Fraction
    unit: str
    text: str

    @property
    def kind(self) -> str:
        """What the unit is: ``"a share of training"``, ``"in epochs"``, ``"in tokens"``, ..."""
        return DURATION_UNITS[self.unit][0]


def _malformed(name: str, value: Any, why: str = "") -> ValueError:
    return ValueError(
        f"{name} must be a step count or a duration such as {EXAMPLES}, got "
        f"{_checks.safe_repr(value)}{why}."
    )


def parse_duration(text: str, name: str = "duration") -> Duration:
    """Parses a duration string (see the module docstring for the grammar).

    >>> d = parse_duration("375Mtok")
    >>> d.amount, d.unit, d.kind
    (Fraction(375000000, 1), 'tok', 'in tokens')
    >>> parse_duration("1.5Kst").amount
    Fraction(1500, 1)

    Raises:
      ValueError: naming ``name``, for anything that is not a duration, a negative one or a
        share above 100%.
    """
    if not isinstance(text, str):
        raise _malformed(name, text)
    match = _DURATION.fullmatch(text) if len(text) <= _MAX_TEXT else None
    if match is None:
        lowered = text.strip().lower()
        hint = ""
        if any(word in lowered for word in ("nan", "inf")):
            hint = " (a duration must be a finite number)"
        raise _malformed(name, text, hint)
    multiplier, unit = match.group("multiplier"), match.group("unit")
    if unit is None:  # "3" where a step count goes is a mistake (a str), not a unit left out
        raise _malformed(name, text, _BARE)
    if multiplier and unit not in ("tok", "ex", "st"):
        raise _malformed(name, text, f" (K, M, G, B and T go before tok, ex or st, not {unit})")
    amount = Fraction(match.group("number").replace("_", "")) * _MULTIPLIERS[multiplier]
    if match.group("sign") == "-" and amount != 0:
        raise ValueError(f"{name} must not be negative, got {_checks.safe_repr(text)}.")
    if unit == "%" and amount > 100:
        raise ValueError(
            f"{name} is a share of training, at most 100%, got {_checks.safe_repr(text)}."
        )
    return Duration(amount, unit, text)


def _exact(value: Any) -> Fraction | None:
    """A real number exactly as a fraction (a float's binary value); ``None`` for NaN or inf."""
    if isinstance(value, numbers.Integral):
        return Fraction(int(value))
    if isinstance(value, Fraction):
        return value
    number = float(value)
    return Fraction(number) if math.isfinite(number) else None


def _positive_number(name: str, value: Any, *, whole: bool) -> Fraction | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number > 0 or None, got {_checks.describe(value)}.")
    if whole and not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= 1 or None, got {_checks.describe(value)}.")
    exact = _exact(value)
    if exact is None:
        raise ValueError(f"{name} must be a finite number > 0, got {_checks.safe_repr(value)}.")
    if exact <= 0 or exact > _checks.MAX_STEP_X64:
        raise ValueError(
            f"{name} must be > 0 and at most {_checks.MAX_STEP_X64}, got {_checks.safe_repr(value)}."
        )
    return exact


@dataclasses.dataclass(frozen=True)
class TrainingLength:
    """What durations are resolved against; every field is optional, and a duration that needs a
    missing one raises.

    Args:
      total_steps: the steps of the whole run (for ``"10%"``); an integer >= 1.
      steps_per_epoch: steps in one epoch (for ``"2ep"``); a number > 0, possibly fractional
        (``fractions.Fraction(split_tokens, tokens_per_step)`` keeps it exact).
      tokens_per_step: tokens in one optimizer step, the global batch (for ``"375Mtok"``); an
        integer >= 1.
      examples_per_step: examples in one optimizer step (for ``"1e5ex"``); an integer >= 1.

    >>> length = TrainingLength(total_steps=1000, steps_per_epoch=50, tokens_per_step=1024)
    >>> length.steps("10%"), length.steps("2ep"), length.steps("1Mtok"), length.steps(7)
    (100, 100, 977, 7)
    """

    total_steps: int | None = None
    steps_per_epoch: float | Fraction | None = None
    tokens_per_step: int | None = None
    examples_per_step: int | None = None

    def __post_init__(self) -> None:
        if self.total_steps is not None:
            _checks.integer("total_steps", self.total_steps, minimum=1)
        _positive_number("steps_per_epoch", self.steps_per_epoch, whole=False)
        _positive_number("tokens_per_step", self.tokens_per_step, whole=True)
        _positive_number("examples_per_step", self.examples_per_step, whole=True)

    def steps(self, value: Any, name: str = "duration") -> int:
        """``value`` (an int step count or a duration string) in steps; see :func:`to_steps`."""
        return to_steps(value, self, name=name)


_CURRENT: contextvars.ContextVar[TrainingLength | None] = contextvars.ContextVar(
    "warmup_jax_training_length", default=None
)


def current_length() -> TrainingLength | None:
    """The :class:`TrainingLength` of the innermost ``with training_length(...)``, or ``None``."""
    return _CURRENT.get()


@contextlib.contextmanager
def training_length(
    length: TrainingLength | None = None,
    /,
    *,
    total_steps: int | None = None,
    steps_per_epoch: float | Fraction | None = None,
    tokens_per_step: int | None = None,
    examples_per_step: int | None = None,
) -> Iterator[TrainingLength]:
    """A block in which constructors resolve durations against this training length.

    Pass a :class:`TrainingLength` or its fields. Blocks nest; the innermost one applies, whole
    (its missing fields are not taken from an outer block). The context is a ``contextvars``
    variable, so threads and asyncio tasks each see their own.

    >>> import warmup_jax
    >>> with warmup_jax.training_length(total_steps=200, steps_per_epoch=20):
    ...     s = warmup_jax.linear_warmup(1.0, "1ep") >> warmup_jax.cosine_decay(1.0, "90%")
    >>> s.end_step, s.to_config()["arguments"]["schedules"][1]["durations"]
    (200, {'decay_steps': '90%'})
    """
    fields = {
        "total_steps": total_steps,
        "steps_per_epoch": steps_per_epoch,
        "tokens_per_step": tokens_per_step,
        "examples_per_step": examples_per_step,
    }
    if length is not None:
        if not isinstance(length, TrainingLength):
            raise ValueError(
                f"training_length() takes a TrainingLength or its fields, got "
                f"{_checks.describe(length)}."
            )
        if any(v is not None for v in fields.values()):
            raise ValueError("training_length() takes a TrainingLength or its fields, not both.")
    else:
        length = TrainingLength(**fields)  # type: ignore[arg-type]
    token = _CURRENT.set(length)
    try:
        yield length
    finally:
        _CURRENT.reset(token)


@contextlib.contextmanager
def using(length: TrainingLength | None) -> Iterator[None]:
    """``training_length(length)`` when a length is given, else nothing (for ``length=``)."""
    if length is None:
        yield
        return
    with training_length(length):
        yield


def _round(exact: Fraction, name: str, shown: str) -> int:
    """Nearest step, halves up; a positive value gives at least 1 step."""
    steps = math.floor(exact + Fraction(1, 2))
    if exact > 0:
        steps = max(steps, 1)
    if steps > _checks.max_step():
        raise ValueError(
            f"{name}={shown} is {_checks.shorten(str(steps))} steps, past the last step {_checks.max_step()} the step "
            "counter holds."
        )
    return steps


def is_duration(value: Any) -> bool:
    """Whether ``value`` is a duration string (a length not given as an int)."""
    return isinstance(value, str)


def to_steps(value: Any, length: TrainingLength | None = None, *, name: str = "duration") -> int:
    """A length in steps: an int as it is, a duration string resolved against ``length`` (or,
    when it is ``None``, the current :func:`training_length` block), rounded by the module's rule.

    .. math:: \\text{steps} = \\max\\left(1, \\left\\lfloor x + \\tfrac12 \\right\\rfloor\\right)
       \\text{ for } x > 0, \\qquad x = \\frac{p}{100} N,\\ e\\, n_{ep},\\ \\frac{t}{t_{step}},\\
       \\frac{m}{m_{step}} \\text{ or } s

    Args:
      value: an integer step count or a duration string (``"10%"``, ``"2ep"``, ``"375Mtok"``,
        ``"1e5ex"``, ``"500st"``).
      length: what to resolve against; defaults to the current context.
      name: the parameter's name, for error messages.

    >>> to_steps("2ep", TrainingLength(steps_per_epoch=390.625))
    781
    >>> to_steps("1280tok", TrainingLength(tokens_per_step=512))  # 2.5 steps, halves up
    3
    >>> to_steps("1tok", TrainingLength(tokens_per_step=512))  # never 0 steps
    1

    Raises:
      ValueError: naming ``name``, for a malformed duration or one whose context is missing.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return _checks.integer(name, value, minimum=0)
    duration = parse_duration(value, name)
    shown = _checks.safe_repr(value)
    kind, field = DURATION_UNITS[duration.unit]
    if field is None:
        return _round(duration.amount, name, shown)
    if length is None:
        length = current_length()
    per = None if length is None else getattr(length, field)
    if per is None:
        where = (
            "there is no training length"
            if length is None
            else f"the training length has no {field}"
        )
        raise ValueError(
            f"{name}={shown} is {kind}, which needs {field}, but {where}: build the schedule "
            f"inside `with warmup_jax.training_length({field}=...):`, or pass "
            f"length=warmup_jax.TrainingLength({field}=...) to parse() or from_config()."
        )
    per = _exact(per)
    assert per is not None  # checked by TrainingLength
    if duration.unit == "%":
        exact = duration.amount / 100 * per
    elif duration.unit == "ep":
        exact = duration.amount * per
    else:
        exact = duration.amount / per
    return _round(exact, name, shown)


def _resolve_item(value: Any, name: str, length: TrainingLength | None) -> tuple[Any, bool]:
    if isinstance(value, str):
        return to_steps(value, length, name=name), True
    return value, False


def resolve_arguments(
    arguments: Mapping[str, Any], length: TrainingLength | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A constructor's arguments with every duration in a length parameter
    resolved to steps, and the record ``{parameter: value as given}`` of those that held one.

    A length parameter holds a step count, a list of them (``boundaries``, ``milestones``) or a
    list of ``[step, value]`` pairs (``boundaries_and_scales``, re-sorted by step afterwards);
    strings anywhere a step goes are durations. Arguments without durations come back as they are.
    """
    resolved = dict(arguments)
    record: dict[str, Any] = {}
    for key, value in arguments.items():
        if key not in LENGTH_PARAMETERS:
            continue
        where = key  # the parser and from_config say which schedule it is
        if isinstance(value, str):
            resolved[key] = to_steps(value, length, name=where)
            record[key] = value
        elif isinstance(value, list) and any(
            isinstance(item, str) or (isinstance(item, list) and item and isinstance(item[0], str))
            for item in value
        ):
            items = []
            for i, item in enumerate(value):
                if isinstance(item, list) and item:
                    first, _ = _resolve_item(item[0], f"{where}[{i}]", length)
                    items.append([first, *item[1:]])
                else:
                    items.append(_resolve_item(item, f"{where}[{i}]", length)[0])
            if key == "boundaries_and_scales":
                try:
                    items.sort(key=lambda pair: pair[0])
                except TypeError:
                    pass  # the constructor refuses what does not compare
            resolved[key] = items
            record[key] = value
    return resolved, record


def check_record(record: Any, arguments: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A ``"durations"`` record read from a config, checked: a dict from argument names to the
    durations (or lists holding them) given for them."""
    if not isinstance(record, Mapping):
        raise ValueError(
            f"{where}: durations must be a dict {{ARGUMENT: DURATION}}, got "
            f"{_checks.safe_repr(record)}."
        )
    checked: dict[str, Any] = {}
    for key, value in record.items():
        if not isinstance(key, str) or key not in arguments or key not in LENGTH_PARAMETERS:
            raise ValueError(
                f"{where}: durations names {_checks.safe_repr(key)}, which is not a length "
                "argument of this schedule's config."
            )
        name = f"{where}.durations.{key}"
        if isinstance(value, str):
            parse_duration(value, name)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                first = item[0] if isinstance(item, list) and item else item
                if isinstance(first, str):
                    parse_duration(first, f"{name}[{i}]")
                elif isinstance(first, list) or isinstance(first, Mapping):
                    raise ValueError(f"{name}[{i}]: not a duration, got {_checks.safe_repr(item)}.")
        else:
            raise ValueError(f"{name}: not a duration, got {_checks.safe_repr(value)}.")
        checked[key] = value
    return checked


def units(schedule: Any) -> frozenset[str]:
    """The duration units (``"%"``, ``"ep"``, ``"tok"``, ``"ex"``, ``"st"``) a schedule and the
    schedules inside it were given, from their configs' ``"durations"`` records.

    >>> import warmup_jax
    >>> with warmup_jax.training_length(tokens_per_step=100):
    ...     s = warmup_jax.linear_warmup(1.0, "1Ktok") >> warmup_jax.cosine_decay(1.0, 90)
    >>> sorted(units(s))
    ['tok']
    """
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if key == "durations" and isinstance(item, Mapping):
                    for given in item.values():
                        collect(given)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    def collect(given: Any) -> None:
        if isinstance(given, str):
            found.add(parse_duration(given).unit)
        elif isinstance(given, list):
            for item in given:
                collect(item[0] if isinstance(item, list) and item else item)

    walk(schedule.to_config() if hasattr(schedule, "to_config") else schedule)
    return frozenset(found)


__all__ = [
    "DURATION_UNITS",
    "LENGTH_PARAMETERS",
    "Duration",
    "TrainingLength",
    "current_length",
    "is_duration",
    "parse_duration",
    "resolve_arguments",
    "to_steps",
    "training_length",
    "units",
]

"""Schedule expressions: a small, safe text form for schedules in config files and on command lines.

::

    linear_warmup(1000) >> cosine(99000, final=0.01)
    constant(3e-4) * linear_warmup(1000) * rsqrt(10000)
    cosine_schedule_with_warmup(3e-4, 100, 1000)

* ``a >> b`` runs ``b`` after ``a`` (each on its own clock, :func:`warmup_jax.join`). A warmup
  whose ``peak`` is not given warms up to wherever ``b`` starts (:func:`warmup_jax.with_warmup`).
* ``a * b`` multiplies, step by step (:func:`warmup_jax.multiply`); ``*`` binds tighter than ``>>``.
* Calls take numbers, quoted strings, ``true``/``false``/``none``, lists ``[1, 2]``, nested
  expressions, and the variables passed to :func:`parse` (such as ``peak``), positionally or as
  ``name=value``.
* Names: every warmup_jax constructor with its own arguments, plus the short forms below, whose
  values default to 1 so that they read as factors (big_vision's convention):

  ==========================================================  ====================================
  ``constant(value=1)``                                        :func:`warmup_jax.constant`
  ``linear_warmup(steps, peak=none, init=0, ahead=false)``     :func:`warmup_jax.linear_warmup`
  ``exponential_warmup(steps, peak=none, init=none, ahead=false)``  :func:`warmup_jax.exponential_warmup`
  ``cosine(steps, final=0, init=1, cycles=0.5)``               :func:`warmup_jax.cosine_decay`
  ``linear(steps, final=0, init=1)``                           :func:`warmup_jax.linear_decay`
  ``poly(steps, power=1, final=0, init=1)``                    :func:`warmup_jax.polynomial_decay`
  ``sqrt_cooldown(steps, final=0, init=1)``                    :func:`warmup_jax.one_minus_sqrt_decay`
  ``exponential(rate, every=1, staircase=false, final=none, init=1)``  :func:`warmup_jax.exponential_decay`
  ``step(every, gamma=0.1, init=1)``                           :func:`warmup_jax.step_decay`
  ``rsqrt(timescale, init=1)``                                 :func:`warmup_jax.inverse_sqrt_decay`
  ==========================================================  ====================================

Nothing is evaluated as Python: the text is tokenized and parsed by the grammar

::

    chain   := product (">>" product)*
    product := atom ("*" atom)*
    atom    := ["-"] NUMBER | STRING | NAME | NAME "(" [arg ("," arg)*] ")" | "[" [chain ("," chain)*] "]"
             | "(" chain ")"
    arg     := [NAME "="] chain

and a malformed expression raises ``ValueError`` showing the position and what was expected.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import warmup_jax
from warmup_jax._schedule import Schedule
from warmup_jax.compose import join, multiply, with_warmup
from warmup_jax.decays import (
    constant,
    cosine_decay,
    exponential_decay,
    inverse_sqrt_decay,
    linear_decay,
    one_minus_sqrt_decay,
    polynomial_decay,
    step_decay,
)
from warmup_jax.warmups import exponential_warmup, linear_warmup

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<op>>>|[-*(),=\[\]])
    )""",
    re.VERBOSE,
)


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str  # number, name, string, op, end
    text: str
    position: int
    value: Any = None


@dataclasses.dataclass(frozen=True)
class _BareWarmup:
    """A warmup without a peak: a 0-to-1 factor alone, "warm up to what follows" before ``>>``."""

    steps: int
    strategy: str
    init: float | None
    ahead: bool

    def as_factor(self) -> Schedule:
        return _warmup(1.0, self.steps, self.strategy, self.init, self.ahead)


def _number(text: str) -> int | float:
    value = float(text)
    if "." not in text and value.is_integer() and abs(value) < 2**63:
        return int(value)  # 1000 and 1e5 are step counts; 3e-4 and 1.0 stay floats
    return value


def _warmup_form(strategy: str) -> Callable[..., Any]:
    def build(steps, peak=None, init=None, ahead=False):
        if peak is None:
            bare = _BareWarmup(steps, strategy, init, ahead)
            bare.as_factor()  # checks the arguments now, so errors point at this call
            return bare
        return _warmup(peak, steps, strategy, init, ahead)

    return build


def _warmup(peak: Any, steps: Any, strategy: str, init: Any, ahead: Any) -> Schedule:
    if strategy == "linear":
        return linear_warmup(peak, steps, 0.0 if init is None else init, ahead)
    return exponential_warmup(peak, steps, init, ahead)


def _short_forms() -> dict[str, Callable[..., Any]]:
    return {
        "constant": lambda value=1.0: constant(value),
        "linear_warmup": _warmup_form("linear"),
        "exponential_warmup": _warmup_form("exponential"),
        "cosine": lambda steps, final=0.0, init=1.0, cycles=0.5: cosine_decay(
            init, steps, final, cycles
        ),
        "linear": lambda steps, final=0.0, init=1.0: linear_decay(init, steps, final),
        "poly": lambda steps, power=1.0, final=0.0, init=1.0: polynomial_decay(
            init, steps, final, power
        ),
        "sqrt_cooldown": lambda steps, final=0.0, init=1.0: one_minus_sqrt_decay(
            init, steps, final
        ),
        "exponential": lambda rate, every=1, staircase=False, final=None, init=1.0: (
            exponential_decay(init, rate, every, staircase, final)
        ),
        "step": lambda every, gamma=0.1, init=1.0: step_decay(init, every, gamma),
        "rsqrt": lambda timescale, init=1.0: inverse_sqrt_decay(init, timescale),
    }


_SHORT_FORMS = _short_forms()
_KEYWORDS = {"true": True, "false": False, "none": None, "True": True, "False": False, "None": None}


def length_of(schedule: Any) -> int | None:
    """The number of steps after which a schedule stays constant, when its arguments say so."""
    if isinstance(schedule, _BareWarmup):
        return schedule.steps
    if not isinstance(schedule, Schedule):
        return None
    arguments = schedule.arguments
    name = schedule.name
    if name == "with_warmup":
        rest = length_of(arguments["schedule"])
        return None if rest is None else arguments["warmup_steps"] + rest
    if name == "join":
        rest = length_of(arguments["schedules"][-1])
        return None if rest is None else arguments["boundaries"][-1] + rest
    if name == "multiply":
        lengths = [length_of(f) for f in arguments["factors"] if callable(f)]
        return None if not lengths or None in lengths else max(lengths)
    if name == "rewarmup":
        decay = arguments["decay"]
        rest = 0 if decay is None else length_of(decay)
        end = arguments["at_step"] + arguments["warmup_steps"]
        return None if rest is None else end + rest
    if name == "cyclic_schedule" and arguments["cycle_limit"] is not None:
        first, mul, count = (
            arguments["first_cycle_steps"],
            arguments["cycle_mul"],
            arguments["cycle_limit"],
        )
        cycles = first * count if mul == 1 else first * (mul**count - 1) / (mul - 1)
        prefix = 0 if arguments["warmup_every_cycle"] else arguments["warmup_steps"]
        return prefix + math.ceil(cycles - 1e-9)
    if name == "warmup_stable_decay":
        return arguments["warmup_steps"] + arguments["stable_steps"] + arguments["decay_steps"]
    for key in ("num_training_steps", "decay_steps"):
        if isinstance(arguments.get(key), int):
            return arguments[key]
    if name in ("linear_warmup", "exponential_warmup", "warmup", "from_epochs"):
        return schedule.warmup_steps
    return None


class _Parser:
    def __init__(self, text: str, variables: Mapping[str, Any]) -> None:
        self.text = text
        self.variables = dict(variables)
        self.tokens = self._tokenize()
        self.index = 0

    # -- errors -----------------------------------------------------------------------------
    def error(self, message: str, position: int) -> ValueError:
        pointer = " " * position + "^"
        return ValueError(
            f"schedule expression: {message} at column {position + 1}\n  {self.text}\n  {pointer}"
        )

    # -- tokens -----------------------------------------------------------------------------
    def _tokenize(self) -> list[_Token]:
        tokens, position = [], 0
        while True:
            while position < len(self.text) and self.text[position].isspace():
                position += 1
            if position >= len(self.text):
                tokens.append(_Token("end", "", position))
                return tokens
            match = _TOKEN.match(self.text, position)
            if not match or match.end() == position:
                raise self.error(f"unexpected character {self.text[position]!r}", position)
            kind = match.lastgroup
            text = match.group(kind)
            start = match.start(kind)
            value = None
            if kind == "number":
                value = _number(text)
            elif kind == "string":
                value = text[1:-1]
            tokens.append(_Token(kind, text, start, value))
            position = match.end()

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def take(self, text: str | None = None) -> _Token | None:
        token = self.current
        if text is None or (token.kind == "op" and token.text == text):
            self.index += 1
            return token
        return None

    def expect(self, text: str, what: str) -> _Token:
        token = self.take(text)
        if token is None:
            found = "the end" if self.current.kind == "end" else repr(self.current.text)
            raise self.error(f"expected {what}, found {found}", self.current.position)
        return token

    # -- grammar ----------------------------------------------------------------------------
    def parse(self) -> Any:
        if self.current.kind == "end":
            raise self.error("expected a schedule, found nothing", 0)
        value = self.chain()
        if self.current.kind != "end":
            raise self.error(
                f"expected '>>', '*' or the end, found {self.current.text!r}", self.current.position
            )
        return value

    def chain(self) -> Any:
        start = self.current.position
        value = self.product()
        while (token := self.take(">>")) is not None:
            right = self.product()
            value = self.then(value, right, start, token.position)
        return value

    def product(self) -> Any:
        factors = [self.atom()]
        positions = []
        while (token := self.take("*")) is not None:
            positions.append(token.position)
            factors.append(self.atom())
        if len(factors) == 1:
            return factors[0]
        cleaned = []
        for factor, position in zip(factors, [None, *positions]):
            if isinstance(factor, _BareWarmup):
                factor = factor.as_factor()
            if not (callable(factor) or isinstance(factor, (int, float))) or isinstance(
                factor, bool
            ):
                raise self.error(f"cannot multiply by {factor!r}", position or 0)
            cleaned.append(factor)
        return multiply(cleaned)

    def then(self, left: Any, right: Any, start: int, position: int) -> Schedule:
        right = self.as_schedule(right, position)
        if isinstance(left, _BareWarmup):
            return with_warmup(right, left.steps, left.strategy, left.init, left.ahead)
        left = self.as_schedule(left, start)
        length = length_of(left)
        if length is None:
            raise self.error(
                f"{left.name} never ends, so nothing can follow it with '>>' (give it a length, "
                "e.g. cosine(1000))",
                position,
            )
        return join([left, right], [length])

    def as_schedule(self, value: Any, position: int) -> Schedule:
        if isinstance(value, _BareWarmup):
            return value.as_factor()
        if isinstance(value, Schedule):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return constant(value)
            except ValueError as error:
                raise self.error(str(error), position) from None
        raise self.error(f"expected a schedule, got {value!r}", position)

    def atom(self) -> Any:
        token = self.current
        if token.kind in ("number", "string"):
            self.index += 1
            return token.value
        if self.take("-"):
            number = self.current
            if number.kind != "number":
                raise self.error("expected a number after '-'", number.position)
            self.index += 1
            return -number.value
        if self.take("("):
            value = self.chain()
            self.expect(")", "')'")
            return value
        if self.take("["):
            items = []
            if not self.take("]"):
                items.append(self.chain())
                while self.take(","):
                    items.append(self.chain())
                self.expect("]", "',' or ']'")
            return items
        if token.kind == "name":
            self.index += 1
            if self.current.kind == "op" and self.current.text == "(":
                return self.call(token)
            if token.text in _KEYWORDS:
                return _KEYWORDS[token.text]
            if token.text in self.variables:
                return self.variables[token.text]
            known = sorted(self.variables) + ["true", "false", "none"]
            raise self.error(
                f"unknown name {token.text!r}; a value here is a number, a quoted string, "
                f"a schedule call like cosine(1000), or one of: {', '.join(known)}",
                token.position,
            )
        found = "the end" if token.kind == "end" else repr(token.text)
        raise self.error(f"expected a number, a name or '(', found {found}", token.position)

    def call(self, name: _Token) -> Any:
        function = _SHORT_FORMS.get(name.text)
        if function is None and name.text in warmup_jax.registered_names():
            function = getattr(warmup_jax, name.text)
        if function is None:
            raise self.error(
                f"unknown schedule {name.text!r}; use one of: "
                f"{', '.join(sorted(set(_SHORT_FORMS) | set(warmup_jax.registered_names())))}",
                name.position,
            )
        self.expect("(", "'('")
        args, kwargs = [], {}
        if not self.take(")"):
            while True:
                if (
                    self.current.kind == "name"
                    and self.tokens[self.index + 1].kind == "op"
                    and self.tokens[self.index + 1].text == "="
                ):
                    key = self.current
                    self.index += 2
                    if key.text in kwargs:
                        raise self.error(f"argument {key.text!r} given twice", key.position)
                    kwargs[key.text] = self.argument(self.chain())
                else:
                    if kwargs:
                        raise self.error(
                            "positional argument after a keyword argument", self.current.position
                        )
                    args.append(self.argument(self.chain()))
                if self.take(")"):
                    break
                self.expect(",", "',' or ')'")
        try:
            inspect.signature(function).bind(*args, **kwargs)
        except TypeError as error:
            raise self.error(f"{name.text}(): {error}", name.position) from None
        try:
            return function(*args, **kwargs)
        except ValueError as error:
            raise self.error(f"{name.text}(): {error}", name.position) from None

    @staticmethod
    def argument(value: Any) -> Any:
        return value.as_factor() if isinstance(value, _BareWarmup) else value


def parse(text: str, variables: Mapping[str, Any] | None = None) -> Schedule:
    """Turns a schedule expression into a schedule (see the module docstring for the language).

    Args:
      text: the expression, e.g. ``"linear_warmup(1000) >> cosine(99000, final=0.01)"``.
      variables: names the expression may use as values, e.g. ``{"peak": 3e-4, "steps": 10000}``.

    Raises:
      ValueError: for a malformed expression or bad arguments; the message shows where.

    >>> s = parse("constant(3e-4) * linear_warmup(100) * rsqrt(100)")
    >>> round(float(s(50)), 10), round(float(s(300)), 10)  # 3e-4 * 0.5 / sqrt(1.5), 3e-4 / sqrt(4)
    (0.0001224745, 0.00015)
    >>> s = parse("linear_warmup(10) >> cosine(90, init=peak)", {"peak": 1e-3})
    >>> s.name, float(s(10)), float(s(100))
    ('with_warmup', 0.0010000000474974513, 0.0)
    """
    if not isinstance(text, str):
        raise ValueError(f"a schedule expression must be a string, got {text!r}.")
    parser = _Parser(text, variables or {})
    return parser.as_schedule(parser.parse(), 0)


def looks_like_expression(text: str) -> bool:
    """Whether a command-line value is an expression rather than a plain schedule name."""
    return any(mark in text for mark in "(*>")

"""Schedule expressions: the Python calls of warmup_jax, as safe text for configs and command lines.

An expression is what you would write in Python after ``import warmup_jax as wj``, so any Python
call can be pasted into ``parse`` or a ``--schedule`` flag, with the same arguments and meaning::

    linear_warmup(3e-4, 1000) >> cosine_decay(3e-4, 99000, end_value=3e-6)
    3e-4 * linear_warmup(1.0, 1000) * inverse_sqrt_decay(1.0, 10000)
    wj.cosine_schedule_with_warmup(3e-4, num_warmup_steps=100, num_training_steps=1000)
    with_warmup(cosine_decay(peak, decay_steps), warmup_steps, warmup_type="exponential")

* ``a >> b`` runs ``b`` after ``a`` ends (``Schedule.__rshift__``: a :func:`warmup_jax.join` at
  ``a.end_step``); ``a * b`` multiplies schedules and numbers (:func:`warmup_jax.multiply`), and
  two numbers multiply to a number. ``*`` binds tighter than ``>>``, as in Python.
* Calls take numbers (``1000`` is an int, ``1e3`` and ``3e-4`` are floats, as in Python),
  durations wherever a length goes (``10%``, ``2ep``, ``375Mtok``, ``1e5ex``, ``500st``, quoted
  or not; see :mod:`warmup_jax.durations`, and pass ``length=`` to :func:`parse`),
  quoted strings, ``True``/``False``/``None`` (or ``true``/``false``/``none``), lists ``[1, 2]``,
  tuples, dicts ``{4: 0.1}``, nested expressions and the variables passed to :func:`parse` (such as ``peak``),
  positionally or as ``name=value``. A call may be written ``wj.NAME(...)`` or
  ``warmup_jax.NAME(...)``.
* Names: every public constructor (``python -m warmup_jax list`` shows them with their
  arguments), :func:`warmup_jax.schedule_by_name` and :func:`warmup_jax.scale_peak_lr`.

Nothing is evaluated as Python: the text is tokenized and parsed by the grammar

::

    chain   := product (">>" product)*
    product := unary ("*" unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | DURATION | STRING | NAME | call | "[" [items] "]" | "(" chain ["," [items]] ")"
             | "{" [chain ":" chain ("," chain ":" chain)* [","]] "}"
    call    := [("wj" | "warmup_jax") "."] NAME "(" [arg ("," arg)* [","]] ")"
    arg     := [NAME "="] chain
    items   := chain ("," chain)* [","]

Brackets nest at most ``MAX_NESTING`` deep, and a malformed expression raises ``ValueError``
quoting a short window of the text around the column and saying what was expected.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

from warmup_jax import _checks
from warmup_jax._schedule import _REGISTRY, Schedule
from warmup_jax.compose import product, sequence
from warmup_jax.decays import constant
from warmup_jax.durations import TrainingLength, using
from warmup_jax.hf import schedule_by_name
from warmup_jax.scaling import scale_peak_lr

MAX_NESTING = 64
_WINDOW = 40  # characters of context on each side of an error's column

_TOKEN = re.compile(
    r"""(?:
        (?P<duration>(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9_]+)?
            (?:%|[kKMGBT]?(?:tok|ex|st)(?![A-Za-z0-9_])|ep(?![A-Za-z0-9_])))
      | (?P<number>(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9_]+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<string>'[^'\n]*'|"[^"\n]*")
      | (?P<op>>>|[-*(),=.\[\]{}:])
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"True": True, "False": False, "None": None, "true": True, "false": False, "none": None}
_PREFIXES = ("wj", "warmup_jax")
_HELPERS: dict[str, Callable[..., Any]] = {
    "schedule_by_name": schedule_by_name,
    "scale_peak_lr": scale_peak_lr,
}
# warmup_jax 0.1.0's expression-only short forms, and what to write instead.
_OLD_FORMS = {
    "cosine": "cosine_decay(init_value, decay_steps, end_value=0.0)",
    "linear": "linear_decay(init_value, decay_steps, end_value=0.0)",
    "poly": "polynomial_decay(init_value, decay_steps, end_value=0.0, power=1.0)",
    "sqrt_cooldown": "one_minus_sqrt_decay(init_value, decay_steps, end_value=0.0)",
    "exponential": "exponential_decay(init_value, transition_steps, decay_rate)",
    "step": "exponential_decay(init_value, transition_steps, decay_rate, staircase=True)",
    "rsqrt": "inverse_sqrt_decay(init_value, timescale)",
}


def callables() -> dict[str, Callable[..., Any]]:
    """Every name an expression can call, with the function it calls."""
    return {**dict(_REGISTRY), **_HELPERS}


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str  # number, name, string, op, end
    text: str
    position: int
    value: Any = None


def window(text: str, position: int) -> tuple[str, int]:
    """At most ``2 * _WINDOW`` characters of ``text`` around ``position``, and the position in it."""
    start = max(0, position - _WINDOW)
    end = min(len(text), position + _WINDOW)
    prefix = "..." if start > 0 else ""
    suffix = "..." if end < len(text) else ""
    shown = prefix + text[start:end].replace("\n", " ").replace("\t", " ") + suffix
    return shown, len(prefix) + position - start


@dataclasses.dataclass(frozen=True)
class _Node:
    """A piece of the parsed expression; ``position`` is where it starts in the text."""

    kind: str  # value, name, call, list, chain, product, negate
    position: int
    value: Any = None  # a value's value, a name's or a call's name
    items: tuple[Any, ...] = ()  # list items, chain parts, factors, positional arguments
    keywords: tuple[tuple[str, Any], ...] = ()  # a call's keyword arguments
    positions: tuple[int, ...] = ()  # where each '>>' of a chain is


class _Parser:
    """Text -> a tree of ``_Node`` (every syntax error first, as Python does) -> its value."""

    def __init__(self, text: str, variables: Mapping[str, Any]) -> None:
        self.text = text
        self.variables = dict(variables)
        self.depth = 0
        self.tokens = self._tokenize()
        self.index = 0

    # -- errors -----------------------------------------------------------------------------
    def error(self, message: str, position: int) -> ValueError:
        shown, column = window(self.text, position)
        return ValueError(
            f"schedule expression: {message} at column {position + 1}\n  {shown}\n  {' ' * column}^"
        )

    # -- tokens -----------------------------------------------------------------------------
    def _tokenize(self) -> list[_Token]:
        tokens, position, text = [], 0, self.text
        while True:
            while position < len(text) and text[position].isspace():
                position += 1
            if position >= len(text):
                tokens.append(_Token("end", "", position))
                return tokens
            match = _TOKEN.match(text, position)
            if not match:
                raise self.error(f"unexpected character {text[position]!r}", position)
            kind = match.lastgroup or "op"
            token_text = match.group(kind)
            value: Any = None
            if kind == "number":
                value = self._number(token_text, position)
            elif kind == "string":
                value = token_text[1:-1]
            elif kind == "duration":  # 10%, 2ep, 375Mtok: the string "10%", "2ep", ...
                kind, value = "string", token_text
            tokens.append(_Token(kind, token_text, position, value))
            position = match.end()

    def _number(self, text: str, position: int) -> int | float:
        if re.fullmatch(r"0[0_]*[1-9][0-9_]*", text):
            raise self.error("leading zeros in an integer are not allowed (as in Python)", position)
        try:
            if any(mark in text for mark in ".eE"):
                return float(text)
            return int(text)
        except ValueError:
            raise self.error(f"{_checks.shorten(text)} is not a number", position) from None

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def peek_op(self, text: str, ahead: int = 0) -> bool:
        token = self.tokens[min(self.index + ahead, len(self.tokens) - 1)]
        return token.kind == "op" and token.text == text

    def take(self, text: str) -> _Token | None:
        if self.peek_op(text):
            self.index += 1
            return self.tokens[self.index - 1]
        return None

    def found(self) -> str:
        return "the end" if self.current.kind == "end" else repr(_checks.shorten(self.current.text))

    def expect(self, text: str, what: str) -> _Token:
        token = self.take(text)
        if token is None:
            raise self.error(f"expected {what}, found {self.found()}", self.current.position)
        return token

    def enter(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"brackets nest more than {MAX_NESTING} deep", position)

    # -- grammar: text -> tree --------------------------------------------------------------
    def parse(self) -> _Node:
        if self.current.kind == "end":
            raise self.error("expected a schedule, found nothing", 0)
        node = self.chain()
        if self.current.kind != "end":
            raise self.error(
                f"expected '>>', '*' or the end, found {self.found()}", self.current.position
            )
        return node

    def chain(self) -> _Node:
        start = self.current.position
        parts = [self.product()]
        positions = []
        while (token := self.take(">>")) is not None:
            positions.append(token.position)
            parts.append(self.product())
        if len(parts) == 1:
            return parts[0]
        return _Node("chain", start, items=tuple(parts), positions=tuple(positions))

    def product(self) -> _Node:
        start = self.current.position
        factors = [self.unary()]
        while self.take("*") is not None:
            factors.append(self.unary())
        if len(factors) == 1:
            return factors[0]
        return _Node("product", start, items=tuple(factors))

    def unary(self) -> _Node:
        token = self.take("-")
        if token is None:
            return self.atom()
        self.enter(token.position)
        node = _Node("negate", token.position, items=(self.unary(),))
        self.depth -= 1
        return node

    def items(self, closing: str) -> list[_Node]:
        nodes = []
        while not self.peek_op(closing):
            nodes.append(self.chain())
            if not self.take(","):
                break
        return nodes

    def atom(self) -> _Node:
        token = self.current
        if token.kind in ("number", "string"):
            self.index += 1
            return _Node("value", token.position, token.value)
        if self.take("("):
            self.enter(token.position)
            if self.take(")"):  # (), the empty tuple
                self.depth -= 1
                return _Node("list", token.position)
            node = self.chain()
            if self.take(","):
                node = _Node("list", token.position, items=(node, *self.items(")")))
            self.expect(")", "')'")
            self.depth -= 1
            return node
        if self.take("["):
            self.enter(token.position)
            nodes = self.items("]")
            self.expect("]", "',' or ']'")
            self.depth -= 1
            return _Node("list", token.position, items=tuple(nodes))
        if self.take("{"):  # {key: value, ...}, e.g. optax's boundaries_and_scales
            self.enter(token.position)
            entries: list[_Node] = []
            while not self.peek_op("}"):
                key = self.chain()
                self.expect(":", "':'")
                entries.append(_Node("list", key.position, items=(key, self.chain())))
                if not self.take(","):
                    break
            self.expect("}", "',' or '}'")
            self.depth -= 1
            return _Node("dict", token.position, items=tuple(entries))
        if token.kind == "name":
            self.index += 1
            if token.text in _PREFIXES and self.peek_op("."):
                self.index += 1
                name = self.current
                if name.kind != "name":
                    raise self.error(f"expected a name after '{token.text}.'", name.position)
                self.index += 1
                if not self.peek_op("("):
                    raise self.error(f"expected '(' after {token.text}.{name.text}", name.position)
                return self.call(name)
            if self.peek_op("("):
                return self.call(token)
            if token.text in _KEYWORDS:
                return _Node("value", token.position, _KEYWORDS[token.text])
            return _Node("name", token.position, token.text)
        raise self.error(f"expected a number, a name or '(', found {self.found()}", token.position)

    def call(self, name: _Token) -> _Node:
        opening = self.expect("(", "'('")
        self.enter(opening.position)
        args: list[_Node] = []
        keywords: dict[str, _Node] = {}
        while not self.peek_op(")"):
            if self.current.kind == "name" and self.peek_op("=", 1):
                key = self.current
                self.index += 2
                if key.text in keywords:
                    shown = _checks.shorten(repr(key.text))
                    raise self.error(f"argument {shown} given twice", key.position)
                keywords[key.text] = self.chain()
            else:
                if keywords:
                    raise self.error(
                        "positional argument after a keyword argument", self.current.position
                    )
                args.append(self.chain())
            if not self.take(","):
                break
        self.expect(")", "',' or ')'")
        self.depth -= 1
        return _Node(
            "call", name.position, name.text, items=tuple(args), keywords=tuple(keywords.items())
        )

    # -- evaluation: tree -> value ----------------------------------------------------------
    def evaluate(self, node: _Node) -> Any:
        kind = node.kind
        if kind == "value":
            return node.value
        if kind == "name":
            if node.value in self.variables:
                return self.variables[node.value]
            known = sorted(self.variables) + ["True", "False", "None"]
            raise self.error(
                f"unknown name {_checks.shorten(repr(node.value))}; a value here is a number, a "
                f"quoted string, a schedule call like cosine_decay(1e-3, 1000), or one of: "
                f"{', '.join(known)}",
                node.position,
            )
        if kind == "list":
            return [self.evaluate(item) for item in node.items]
        if kind == "dict":
            entries = [self.evaluate(entry) for entry in node.items]
            try:
                return dict(entries)
            except TypeError:  # a key that cannot be one (a list, a schedule)
                raise self.error("a dict key must be a number or a string", node.position) from None
        if kind == "negate":
            value = self.evaluate(node.items[0])
            if not _is_number(value):
                raise self.error("'-' applies to numbers only", node.position)
            return -value
        if kind == "chain":
            parts = [self.evaluate(part) for part in node.items]
            try:
                return sequence(parts)
            except ValueError as error:
                raise self.error(str(error), node.positions[0]) from None
        if kind == "product":
            return self.multiply([self.evaluate(f) for f in node.items], node.position)
        return self.call_function(node)

    def multiply(self, factors: list[Any], position: int) -> Any:
        """``a * b * c`` left to right, as Python does: numbers multiply to a number, and a
        schedule times anything is ``Schedule.__mul__`` (one flat ``multiply``)."""
        value = factors[0]
        for factor in factors[1:]:
            if _is_number(value) and _is_number(factor):
                value = value * factor
                continue
            for side in (value, factor):
                if not (isinstance(side, Schedule) or _is_number(side)):
                    raise self.error(
                        "'*' multiplies warmup_jax schedules and numbers, got "
                        f"{_checks.describe(side)}",
                        position,
                    )
            try:
                value = product(value, factor)
            except ValueError as error:
                raise self.error(str(error), position) from None
        return value

    def call_function(self, node: _Node) -> Any:
        name = node.value
        function = callables().get(name)
        if function is None:
            hint = _OLD_FORMS.get(name)
            if hint:
                message = (
                    f"unknown schedule {_checks.shorten(repr(name))}; the short form "
                    f"{name}(...) of warmup_jax 0.1.0 is now {hint}"
                )
            else:
                message = _checks.unknown("schedule", name, callables())
            raise self.error(message, node.position)
        args = [self.evaluate(arg) for arg in node.items]
        kwargs = {key: self.evaluate(value) for key, value in node.keywords}
        signature = inspect.signature(function)
        try:
            signature.bind(*args, **kwargs)
        except TypeError as error:
            raise self.error(
                f"{name}(): {_checks.shorten(str(error), 200)}; it takes {name}{_shown(signature)}",
                node.position,
            ) from None
        try:
            return function(*args, **kwargs)
        except ValueError as error:
            raise self.error(
                f"{name}(): {_checks.shorten(str(error), 500)}", node.position
            ) from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shown(signature: inspect.Signature) -> str:
    """A signature without its annotations: ``(peak_value, warmup_steps, init_value=0.0)``."""
    parts = []
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_KEYWORD:
            parts.append(f"**{parameter.name}")
        elif parameter.default is parameter.empty:
            parts.append(parameter.name)
        else:
            parts.append(f"{parameter.name}={parameter.default!r}")
    return f"({', '.join(parts)})"


def parse(
    text: str,
    variables: Mapping[str, Any] | None = None,
    *,
    length: TrainingLength | None = None,
) -> Schedule:
    """Turns a schedule expression into a schedule (see the module docstring for the language).

    Args:
      text: the expression, e.g. ``"linear_warmup(1e-3, 1000) >> cosine_decay(1e-3, 9000)"``.
      variables: names the expression may use as values, e.g. ``{"peak": 3e-4, "steps": 10000}``.
      length: what durations (``10%``, ``2ep``, ``375Mtok``) are resolved against; ``None``: the
        current :func:`warmup_jax.training_length` block, if any.

    Raises:
      ValueError: for a malformed expression or bad arguments; the message shows where.

    >>> s = parse("3e-4 * linear_warmup(1.0, 100) * inverse_sqrt_decay(1.0, 100)")
    >>> round(float(s(50)), 10), round(float(s(300)), 10)  # 3e-4 * 0.5 / sqrt(1.5), 3e-4 / sqrt(4)
    (0.0001224745, 0.00015)
    >>> s = parse("linear_warmup(peak, 10) >> cosine_decay(peak, 90)", {"peak": 1e-3})
    >>> s.name, float(s(10)), float(s(100))
    ('join', 0.0010000000474974513, 0.0)
    >>> from warmup_jax import TrainingLength
    >>> s = parse("linear_warmup(1.0, 10%) >> cosine_decay(1.0, '2ep')",
    ...           length=TrainingLength(total_steps=1000, steps_per_epoch=450))
    >>> s.arguments["boundaries"], s.end_step
    ([100], 1000)
    """
    if not isinstance(text, str):
        raise ValueError(f"a schedule expression must be a string, got {_checks.describe(text)}.")
    if variables is not None and not isinstance(variables, Mapping):
        raise ValueError(f"variables must be a dict of names, got {_checks.describe(variables)}.")
    parser = _Parser(text, variables or {})
    tree = parser.parse()
    with using(length):
        value = parser.evaluate(tree)
    if isinstance(value, Schedule):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return constant(value)
        except ValueError as error:
            raise parser.error(str(error), 0) from None
    raise parser.error(f"expected a schedule, got {_checks.describe(value)}", 0)


def looks_like_expression(text: str) -> bool:
    """Whether a command-line value is an expression rather than a plain schedule name."""
    return any(mark in text for mark in "(*>")

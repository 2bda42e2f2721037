"""Parameter groups: per-group learning rates, schedules, weight decay and freezing, in optax terms.

Groups are chosen by regular expressions on each parameter's **path**: the keys from the root of
the parameter tree to the leaf, joined by ``/`` (dict keys as they are, list and tuple indices as
numbers, dataclass and flax-struct fields by name), e.g. ``"encoder/layers_3/attn/kernel"`` for
flax's ``{"params": ...}``-less tree or ``"blocks/0/mlp/bias"`` for a list of blocks. Patterns
are matched with :func:`re.search`, so ``"embed"`` matches anywhere; anchor with ``^`` and ``$``.
:func:`param_paths` lists a tree's paths.

* :class:`Rule`: a pattern and what its parameters get: an LR multiplier (``lr_mult``), a
  schedule of their own (``schedule``, which replaces the base learning rate; ``lr_mult``
  still multiplies it), a weight-decay multiplier (``wd_mult``), or no update at all
  (``frozen``). The **first** rule whose pattern matches a path decides; unmatched parameters are
  in the ``"default"`` group (the base learning rate and weight decay).
* :class:`LayerDecay`: layer-wise LR decay as in BEiT, ELECTRA and timm: the parameters of layer
  ``l`` get ``factor ** (num_layers - l)`` times their group's LR, the layer found by a regex
  group (``layers_(\\d+)``) or a function of the path.
* ``no_decay``: a pattern for parameters without weight decay; :data:`DEFAULT_NO_DECAY` is the
  standard AdamW set (biases, norms' scales and offsets, embeddings). :func:`decay_mask` is the
  same as a mask for a plain ``optax.adamw(..., mask=decay_mask)``.

:meth:`ParamGroups.optimizer` builds the optimizer: one instance of an optax optimizer factory
(``optax.adamw``, ``optax.lion``, ...) per group with that group's learning rate and weight
decay, and a stateless transform that outputs ``-0.0`` for frozen groups, put together with
``optax.partition`` (``optax.multi_transform`` in older optax) on labels computed from the
update tree's paths. It is a plain ``optax.GradientTransformation``: jittable, and its state is
an ordinary pytree. A group at ``0.1x`` gets bit for bit the update of the same factory at
``0.1x`` the learning rate, because it *is* that factory, applied to its leaves only (optax
optimizers act leaf by leaf). :meth:`ParamGroups.to_config` records every rule as JSON.

>>> import jax, jax.numpy as jnp, optax
>>> from warmup_jax.groups import LayerDecay, ParamGroups, Rule
>>> params = {"embed": {"embedding": jnp.ones((4, 2))},
...           "layers_0": {"kernel": jnp.ones((2, 2)), "bias": jnp.ones(2)},
...           "layers_1": {"kernel": jnp.ones((2, 2)), "bias": jnp.ones(2)},
...           "head": {"kernel": jnp.ones((2, 3))}}
>>> groups = ParamGroups(
...     rules=[Rule("^embed/", frozen=True, name="embed"), Rule("^head/", lr_mult=10.0, name="head")],
...     layer_decay=LayerDecay(0.5, num_layers=2),
...     no_decay=r"bias$",
... )
>>> for path, group in groups.assign(params).items():
...     print(f"{path:16} {group.label:24} lr x{group.lr_mult:<5} wd x{group.wd_mult}")
embed/embedding  embed                    lr x0.0   wd x0.0
head/kernel      head/layer_2             lr x10.0  wd x1.0
layers_0/bias    default/layer_0/no_decay lr x0.25  wd x0.0
layers_0/kernel  default/layer_0          lr x0.25  wd x1.0
layers_1/bias    default/layer_1/no_decay lr x0.5   wd x0.0
layers_1/kernel  default/layer_1          lr x0.5   wd x1.0
>>> tx = groups.optimizer(optax.adamw, learning_rate=1e-3, weight_decay=0.1)
>>> state = tx.init(params)
>>> updates, state = tx.update(jax.tree.map(jnp.ones_like, params), state, params)
>>> float(updates["embed"]["embedding"][0, 0]), round(float(updates["head"]["kernel"][0, 0]), 6)
(-0.0, -0.011)
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from warmup_jax import _checks
from warmup_jax._schedule import Schedule, from_config

DEFAULT_GROUP = "default"
# The standard AdamW no-decay set, case-insensitive: biases (flax/equinox "bias", haiku "b"),
# norms (any parameter of a module whose name has "norm" in it or starts with "ln", and flax's
# "scale" / haiku's "offset" leaves), and embeddings ("embedding", "embeddings", "embed_tokens",
# GPT-2's "wte" / "wpe").
DEFAULT_NO_DECAY = (
    r"(?i)(?:^|/)(?:bias|b|scale|offset)$|(?:^|/)[^/]*norm[^/]*/|(?:^|/)ln[^/]*/"
    r"|embed|(?:^|/)(?:wte|wpe)(?:/|$)"
)
_PARTITION = getattr(optax, "partition", None) or optax.multi_transform


def _key_text(key: Any) -> str:
    for attribute in ("key", "name", "idx"):
        if hasattr(key, attribute):
            return str(getattr(key, attribute))
    return str(key)


def path_text(keypath: Sequence[Any]) -> str:
    """A jax key path (from ``jax.tree_util.tree_flatten_with_path``) as ``"a/b/0/kernel"``."""
    return "/".join(_key_text(key) for key in keypath)


def param_paths(params: Any) -> list[str]:
    """The path of every leaf of ``params``, in the tree's order.

    >>> param_paths({"dense": {"kernel": 1, "bias": 2}, "blocks": [3, 4]})
    ['blocks/0', 'blocks/1', 'dense/bias', 'dense/kernel']
    """
    leaves, _ = jax.tree_util.tree_flatten_with_path(params)
    return [path_text(keypath) for keypath, _ in leaves]


def _compile(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise ValueError(
            f"{where}: the pattern must be a regular expression string, got "
            f"{_checks.describe(pattern)}."
        )
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ValueError(
            f"{where}: {_checks.safe_repr(pattern)} is not a valid regular expression ({error})."
        ) from None


def _multiplier(value: Any, where: str) -> float:
    try:
        return _checks.number(where, value, minimum=0.0)
    except ValueError as error:
        raise ValueError(f"{error} A multiplier is a finite number >= 0.") from None


@dataclasses.dataclass(frozen=True)
class Rule:
    """What the parameters whose path matches ``pattern`` get (the first matching rule decides).

    Args:
      pattern: a regular expression, matched with :func:`re.search` against the path.
      lr_mult: a multiplier on the group's learning rate (``>= 0``).
      wd_mult: a multiplier on the weight decay (``>= 0``; 0: no weight decay).
      schedule: the group's own learning rate (a warmup_jax schedule or a number), replacing
        the base one; ``lr_mult`` and layer decay still multiply it. ``None``: the base one.
      frozen: no update at all and no optimizer state (nothing else may be set then).
      name: the group's label (in logs, in the optimizer state); defaults to the pattern.

    >>> Rule("embed", lr_mult=0.1).to_config()
    {'pattern': 'embed', 'lr_mult': 0.1, 'wd_mult': 1.0, 'schedule': None, 'frozen': False, 'name': None}
    """

    pattern: str
    lr_mult: float = 1.0
    wd_mult: float = 1.0
    schedule: Any = None
    frozen: bool = False
    name: str | None = None

    def __post_init__(self) -> None:
        where = f"rule {_checks.safe_repr(self.name or self.pattern)}"
        _compile(self.pattern, where)
        object.__setattr__(self, "lr_mult", _multiplier(self.lr_mult, f"{where}: lr_mult"))
        object.__setattr__(self, "wd_mult", _multiplier(self.wd_mult, f"{where}: wd_mult"))
        _checks.flag(f"{where}: frozen", self.frozen)
        if self.schedule is not None:
            _checks.schedule_or_number(f"{where}: schedule", self.schedule)
        if self.frozen and (
            self.lr_mult != 1.0 or self.wd_mult != 1.0 or self.schedule is not None
        ):
            raise ValueError(
                f"{where}: a frozen rule gets no update, so it takes no lr_mult, wd_mult or "
                "schedule."
            )
        if self.name is not None and (not isinstance(self.name, str) or not self.name):
            raise ValueError(f"{where}: name must be a non-empty string or None.")
        if self.label == DEFAULT_GROUP:
            raise ValueError(f"{where}: {DEFAULT_GROUP!r} is the unmatched parameters' group.")

    @property
    def label(self) -> str:
        """The group's name: ``name``, or the pattern."""
        return self.name or self.pattern

    def matches(self, path: str) -> bool:
        """Whether ``path`` is in this rule's group (``re.search``)."""
        return re.search(self.pattern, path) is not None

    def to_config(self) -> dict[str, Any]:
        """The rule as JSON-serializable values (a schedule as its config)."""
        schedule = self.schedule
        if isinstance(schedule, Schedule):
            schedule = schedule.to_config()
        elif schedule is not None and not isinstance(schedule, (int, float)):
            raise TypeError(
                f"rule {self.label!r}: its schedule {_checks.safe_repr(schedule)} has no JSON "
                "form; use a warmup_jax schedule to record it."
            )
        return {
            "pattern": self.pattern,
            "lr_mult": self.lr_mult,
            "wd_mult": self.wd_mult,
            "schedule": schedule,
            "frozen": self.frozen,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Rule:
        """The rule :meth:`to_config` describes."""
        if not isinstance(config, Mapping) or "pattern" not in config:
            raise ValueError(f"a rule config must be a dict with a pattern, got {config!r}.")
        fields = dict(config)
        unknown = set(fields) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"rule config: unknown fields {sorted(unknown)}.")
        if isinstance(fields.get("schedule"), Mapping):
            fields["schedule"] = from_config(fields["schedule"])
        return cls(**fields)


@dataclasses.dataclass(frozen=True)
class LayerDecay:
    r"""Layer-wise learning-rate decay (BEiT, ELECTRA, timm's ``layer_decay``).

    .. math:: \text{lr}_l = \text{lr} \cdot f^{\,L - l}

    Layer ``num_layers`` (the top, usually the head) keeps its group's LR; each layer below gets
    ``factor`` times the LR of the one above it.

    Args:
      factor: f, in (0, 1] (1: no decay).
      num_layers: L, the index of the top layer; layer indices are in ``[0, L]``.
      layer: how a parameter's layer is found: a regular expression whose first group is the
        index (``re.search`` on the path; the default finds ``layers_3`` or ``layer_3`` as a
        path component), or a function ``path -> index`` (``None``: unmatched).
      unmatched_layer: the layer of parameters ``layer`` does not place (``None``: ``L``, the
        top, i.e. no decay; 0 for embeddings below the first block, for example).

    >>> decay = LayerDecay(0.5, num_layers=3)
    >>> [decay.multiplier(decay.layer_of(p)) for p in ("layers_0/kernel", "layers_2/bias", "head/kernel")]
    [0.125, 0.5, 1.0]
    """

    factor: float
    num_layers: int
    layer: str | Callable[[str], int | None] = r"(?:^|/)layers?_(\d+)(?:/|$)"
    unmatched_layer: int | None = None

    def __post_init__(self) -> None:
        factor = _checks.number(
            "layer decay: factor", self.factor, minimum=0.0, maximum=1.0, min_inclusive=False
        )
        object.__setattr__(self, "factor", factor)
        _checks.integer("layer decay: num_layers", self.num_layers, minimum=0)
        if isinstance(self.layer, str):
            pattern = _compile(self.layer, "layer decay")
            if pattern.groups < 1:
                raise ValueError(
                    f"layer decay: the pattern {self.layer!r} must have a group that captures "
                    r"the layer index, like 'layers_(\d+)'."
                )
        elif not callable(self.layer):
            raise ValueError(
                "layer decay: layer must be a regular expression or a function path -> index, "
                f"got {_checks.describe(self.layer)}."
            )
        if self.unmatched_layer is not None:
            _checks.integer(
                "layer decay: unmatched_layer",
                self.unmatched_layer,
                minimum=0,
                maximum=self.num_layers,
            )

    def layer_of(self, path: str) -> int:
        """The layer index of the parameter at ``path``."""
        if isinstance(self.layer, str):
            match = re.search(self.layer, path)
            found: Any = None if match is None else int(match.group(1))
        else:
            found = self.layer(path)
        if found is None:
            return self.num_layers if self.unmatched_layer is None else self.unmatched_layer
        if isinstance(found, bool) or not isinstance(found, int):
            raise ValueError(
                f"layer decay: the layer of {path!r} must be an int, got {_checks.describe(found)}."
            )
        if not 0 <= found <= self.num_layers:
            raise ValueError(
                f"layer decay: {path!r} is in layer {found}, outside [0, num_layers="
                f"{self.num_layers}]."
            )
        return found

    def multiplier(self, layer: int) -> float:
        """``factor ** (num_layers - layer)``, in Python floats."""
        return self.factor ** (self.num_layers - layer)

    def to_config(self) -> dict[str, Any]:
        """JSON-serializable values; a layer function is recorded by its qualified name."""
        layer: Any = self.layer
        if not isinstance(layer, str):
            module = getattr(layer, "__module__", "?")
            layer = {"function": f"{module}.{getattr(layer, '__qualname__', repr(layer))}"}
        return {
            "factor": self.factor,
            "num_layers": self.num_layers,
            "layer": layer,
            "unmatched_layer": self.unmatched_layer,
        }


class Group(NamedTuple):
    """What one parameter gets: its group's ``label``, the LR multiplier (rule times layer
    decay), its own schedule (or ``None``), the weight-decay multiplier, and whether it is
    frozen."""

    label: str
    lr_mult: float
    schedule: Any
    wd_mult: float
    frozen: bool


def _scaled(base: Any, factor: float) -> Any:
    """``factor * base`` for a number, a warmup_jax schedule or any callable; ``base`` at 1."""
    if factor == 1.0:
        return base
    if isinstance(base, Schedule) or (
        isinstance(base, (int, float)) and not isinstance(base, bool)
    ):
        return factor * base
    return lambda step: factor * base(step)


def _frozen() -> optax.GradientTransformation:
    """No update and no state: every update is ``-0.0``, so ``p + u`` is ``p`` bit for bit
    (``-0.0 + -0.0`` is ``-0.0``, where ``optax.set_to_zero``'s ``+0.0`` would turn it into
    ``+0.0``)."""

    def init(params: Any) -> optax.EmptyState:
        del params
        return optax.EmptyState()

    def update(updates: Any, state: Any, params: Any = None) -> tuple[Any, Any]:
        del params
        return jax.tree_util.tree_map(lambda u: jnp.full_like(u, -0.0), updates), state

    return optax.GradientTransformation(init, update)


@dataclasses.dataclass(frozen=True)
class ParamGroups:
    """Rules, layer decay and the no-decay pattern for a parameter tree (see the module
    docstring).

    Args:
      rules: the rules, tried in order; the first match decides.
      layer_decay: layer-wise LR decay for every group that is not frozen, or ``None``.
      no_decay: parameters whose path matches get no weight decay (on top of their rule's
        ``wd_mult``); :data:`DEFAULT_NO_DECAY` is the standard set, ``None`` none.
    """

    rules: Sequence[Rule] = ()
    layer_decay: LayerDecay | None = None
    no_decay: str | None = None

    def __post_init__(self) -> None:
        rules = tuple(self.rules)
        for i, rule in enumerate(rules):
            if not isinstance(rule, Rule):
                raise ValueError(f"rules[{i}] must be a Rule, got {_checks.describe(rule)}.")
        labels = [rule.label for rule in rules]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"two rules have the same name {repeated[0]!r}; name them apart.")
        object.__setattr__(self, "rules", rules)
        if self.layer_decay is not None and not isinstance(self.layer_decay, LayerDecay):
            raise ValueError(
                f"layer_decay must be a LayerDecay or None, got {_checks.describe(self.layer_decay)}."
            )
        if self.no_decay is not None:
            _compile(self.no_decay, "no_decay")

    def group_of(self, path: str) -> Group:
        """The group of the parameter at ``path``."""
        rule = next((r for r in self.rules if r.matches(path)), None)
        if rule is not None and rule.frozen:
            return Group(rule.label, 0.0, None, 0.0, True)
        label = DEFAULT_GROUP if rule is None else rule.label
        lr_mult = 1.0 if rule is None else rule.lr_mult
        wd_mult = 1.0 if rule is None else rule.wd_mult
        if self.layer_decay is not None:
            layer = self.layer_decay.layer_of(path)
            lr_mult *= self.layer_decay.multiplier(layer)
            label = f"{label}/layer_{layer}"
        if self.no_decay is not None and re.search(self.no_decay, path):
            wd_mult = 0.0
            label = f"{label}/no_decay"
        return Group(label, lr_mult, None if rule is None else rule.schedule, wd_mult, False)

    def assign(self, params: Any) -> dict[str, Group]:
        """``{path: group}`` for every leaf of ``params``."""
        return {path: self.group_of(path) for path in param_paths(params)}

    def labels(self, tree: Any) -> Any:
        """A tree like ``tree`` with each leaf's group label (``optax.partition``'s labels)."""
        return jax.tree_util.tree_map_with_path(
            lambda keypath, _: self.group_of(path_text(keypath)).label, tree
        )

    def unmatched(self, params: Any) -> list[str]:
        """The labels of the rules that match no path of ``params`` (likely typos)."""
        paths = param_paths(params)
        return [rule.label for rule in self.rules if not any(rule.matches(p) for p in paths)]

    def learning_rates(self, learning_rate: Any, params: Any) -> dict[str, Any]:
        """``{label: learning rate}`` (a number or a schedule) of each non-frozen group of
        ``params``, for logging every group's LR."""
        rates = {}
        for group in self.assign(params).values():
            if not group.frozen:
                base = learning_rate if group.schedule is None else group.schedule
                rates[group.label] = _scaled(base, group.lr_mult)
        return rates

    def optimizer(
        self,
        factory: Callable[..., optax.GradientTransformation],
        learning_rate: Any,
        *,
        weight_decay: float | None = None,
        **kwargs: Any,
    ) -> optax.GradientTransformation:
        """One ``factory(learning_rate=..., weight_decay=..., **kwargs)`` per group, partitioned.

        Args:
          factory: an optax optimizer, e.g. ``optax.adamw``.
          learning_rate: the base learning rate: a number or a schedule.
          weight_decay: the base weight decay, passed to ``factory`` times each group's
            ``wd_mult``; ``None``: the factory takes none (then no rule may set ``wd_mult``).
          kwargs: passed to every call of ``factory`` (``b1``, ``b2``, ``eps``, ...).

        Labels are computed from the paths of the tree given to ``init`` and ``update``, so the
        same optimizer works for any tree and under ``jit``.
        """
        if weight_decay is None:
            for rule in self.rules:
                if rule.wd_mult != 1.0:
                    raise ValueError(
                        f"rule {rule.label!r} sets wd_mult, but the optimizer has no "
                        "weight_decay; pass weight_decay=."
                    )
        else:
            weight_decay = _checks.non_negative("weight_decay", weight_decay)

        def transform(group: Group) -> optax.GradientTransformation:
            if group.frozen:
                return _frozen()
            base = learning_rate if group.schedule is None else group.schedule
            arguments = dict(kwargs, learning_rate=_scaled(base, group.lr_mult))
            if weight_decay is not None:
                arguments["weight_decay"] = weight_decay * group.wd_mult
            return factory(**arguments)

        made: dict[Group, optax.GradientTransformation] = {}

        def partitioned(tree: Any) -> optax.GradientTransformation:
            transforms = {}
            for keypath, _ in jax.tree_util.tree_flatten_with_path(tree)[0]:
                group = self.group_of(path_text(keypath))
                if group not in made:
                    # Schedules are built (and checked at concrete steps) on the host, also when
                    # init or update is being traced by jit.
                    with jax.ensure_compile_time_eval():
                        made[group] = transform(group)
                transforms[group.label] = made[group]
            return _PARTITION(transforms, self.labels(tree))

        def init(params: Any) -> Any:
            return partitioned(params).init(params)

        def update(updates: Any, state: Any, params: Any = None, **extra: Any) -> Any:
            return partitioned(updates).update(updates, state, params, **extra)

        return optax.GradientTransformationExtraArgs(init, update)

    def to_config(self) -> dict[str, Any]:
        """Every rule, the layer decay and the no-decay pattern, as JSON-serializable values."""
        return {
            "rules": [rule.to_config() for rule in self.rules],
            "layer_decay": None if self.layer_decay is None else self.layer_decay.to_config(),
            "no_decay": self.no_decay,
        }

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, layer: Callable[[str], int | None] | None = None
    ) -> ParamGroups:
        """The groups :meth:`to_config` describes (``layer``: the layer function, when the
        config records one by name)."""
        if not isinstance(config, Mapping) or set(config) - {"rules", "layer_decay", "no_decay"}:
            raise ValueError(
                "a parameter groups config is a dict with rules, layer_decay and no_decay, got "
                f"{_checks.safe_repr(config)}."
            )
        decay = config.get("layer_decay")
        layer_decay = None
        if decay is not None:
            decay = dict(decay)
            if isinstance(decay.get("layer"), Mapping):
                if layer is None:
                    raise ValueError(
                        f"the config's layer decay finds layers with the function "
                        f"{decay['layer'].get('function')}; pass it as layer=."
                    )
                decay["layer"] = layer
            layer_decay = LayerDecay(**decay)
        return cls(
            rules=[Rule.from_config(rule) for rule in config.get("rules", [])],
            layer_decay=layer_decay,
            no_decay=config.get("no_decay"),
        )


def decay_mask(params: Any, no_decay: str = DEFAULT_NO_DECAY) -> Any:
    r"""The standard AdamW weight-decay mask: ``True`` (decay) for every leaf but biases, norms
    and embeddings (paths matching ``no_decay``).

    .. math:: m(p) = [\, \text{path}(p) \not\sim \text{no\_decay} \,]

    Use it as ``optax.adamw(lr, weight_decay=0.1, mask=decay_mask)``.

    >>> import jax.numpy as jnp
    >>> params = {"dense": {"kernel": jnp.ones((2, 2)), "bias": jnp.ones(2)},
    ...           "LayerNorm_0": {"scale": jnp.ones(2)}, "embed": {"embedding": jnp.ones((5, 2))}}
    >>> decay_mask(params)
    {'LayerNorm_0': {'scale': False}, 'dense': {'bias': False, 'kernel': True}, 'embed': {'embedding': False}}
    """
    pattern = _compile(no_decay, "no_decay")
    return jax.tree_util.tree_map_with_path(
        lambda keypath, _: pattern.search(path_text(keypath)) is None, params
    )


def layer_multipliers(factor: float, num_layers: int) -> list[float]:
    r"""``[factor ** (num_layers - l) for l in 0..num_layers]``, the layer-decay multipliers.

    .. math:: m_l = f^{\,L - l}

    >>> layer_multipliers(0.5, 3)
    [0.125, 0.25, 0.5, 1.0]
    """
    decay = LayerDecay(factor, num_layers)
    return [decay.multiplier(layer) for layer in range(num_layers + 1)]


__all__ = [
    "DEFAULT_GROUP",
    "DEFAULT_NO_DECAY",
    "Group",
    "LayerDecay",
    "ParamGroups",
    "Rule",
    "decay_mask",
    "layer_multipliers",
    "param_paths",
    "path_text",
]

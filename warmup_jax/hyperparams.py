"""Any numeric hyperparameter of an optax optimizer on a schedule, evaluated inside the step.

:func:`scheduled` builds an optax optimizer (``optax.adamw``, ``optax.sgd``, any factory) whose
arguments may be warmup_jax schedules: ``b1``, ``b2``, ``momentum``, ``weight_decay``, ``eps``,
the learning rate, any float the factory takes. At every update each schedule is evaluated at the
optimizer's own step count (an int32 array in its state, as optax's ``count``), and the factory's
transformation is rebuilt with those values for that one update, as
:func:`optax.inject_hyperparams` does, except that no value is ever set from Python: everything
is computed on the device, so it works under ``jit``, ``lax.scan`` and sharding, and the state is
a plain pytree of arrays that orbax saves and restores.

.. math:: u_t = \\operatorname{factory}(h_1(t), h_2(t), \\ldots).\\mathrm{update}(g_t)

for the update ``t = 0, 1, ...`` (the optimizer's ``count``), where each ``h_i`` is a schedule or a
constant. The result of an update equals, bit for bit, the plain optax optimizer built with the
values at ``t`` as Python floats.

:class:`HyperparamSchedules` is the same set of schedules as data: its JSON config
(:meth:`HyperparamSchedules.to_config`) names the optax factory and holds every schedule, so the
whole optimizer goes into a run's config and comes back with :meth:`HyperparamSchedules.from_config`.
:func:`hyperparams_at` reads the values the last update used, for logging.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from warmup_jax import _checks
from warmup_jax._schedule import Schedule, _encode, float_dtype, from_config

Array = jax.Array
Factory = Callable[..., optax.GradientTransformation]

_OPTIMIZER_KEY = "optimizer"
_HYPERPARAMS_KEY = "hyperparams"


class ScheduledHyperparamsState(NamedTuple):
    """The state of a :func:`scheduled` optimizer: a pytree of arrays only.

    Attributes:
      count: updates done so far (int32, shape ``()``); update ``t`` evaluates every schedule at
        ``t`` and then increments it (saturating at the int32 maximum, as optax's counts).
      hyperparams: ``{name: value}`` for every scheduled hyperparameter: the values the last
        update used (at init, the values at step 0).
      inner_state: the state of the wrapped optax transformation.
    """

    count: Array  # type: ignore[assignment]
    hyperparams: dict[str, Array]
    inner_state: optax.OptState


def _factory_name(factory: Any) -> str | None:
    """The name under which ``optax`` exposes ``factory`` (``"adamw"``), or None."""
    name = getattr(factory, "__name__", None)
    if isinstance(name, str) and getattr(optax, name, None) is factory:
        return name
    return None


def _resolve(name: str) -> Factory:
    """An optax optimizer factory by its name: ``"adamw"``, or a dotted path such as
    ``"contrib.muon"`` inside ``optax``."""
    target: Any = optax
    parts = name.split(".") if isinstance(name, str) else []
    if not parts or any(not part.isidentifier() or part.startswith("_") for part in parts):
        raise ValueError(
            f"optimizer must be the name of an optax optimizer factory (e.g. 'adamw', 'sgd'), "
            f"got {_checks.describe(name)}."
        )
    for part in parts:
        target = getattr(target, part, None)
        if target is None:
            raise ValueError(
                f"optimizer: optax has no {name!r}; give the name of an optax optimizer factory "
                "such as 'adamw', 'adam', 'sgd', 'lion' or 'contrib.muon'."
            )
    if not callable(target) or inspect.isclass(target):
        raise ValueError(f"optimizer: optax.{name} is not an optimizer factory.")
    return target


def accepted_names(factory: Factory) -> tuple[str, ...] | None:
    """The keyword arguments ``factory`` takes (None when it takes any, via ``**kwargs``)."""
    parameters = inspect.signature(factory).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return tuple(
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    )


@dataclasses.dataclass(frozen=True, eq=False)
class HyperparamSchedules:
    """An optax optimizer factory and its arguments, some of them warmup_jax schedules.

    Made by :func:`hyperparam_schedules` (which checks the names); :meth:`transformation` is the
    optimizer, :meth:`values` the scheduled values at a step, :meth:`to_config` the JSON form.

    Attributes:
      optimizer: the factory: the name of an optax one (``"adamw"``), or a callable.
      hyperparams: ``{argument: value}``; values that are :class:`warmup_jax.Schedule` are
        evaluated at the step count inside every update, anything else is passed as it is.
    """

    optimizer: str | Factory
    hyperparams: Mapping[str, Any]

    @property
    def factory(self) -> Factory:
        """The optimizer factory (looked up in optax when :attr:`optimizer` is a name)."""
        return _resolve(self.optimizer) if isinstance(self.optimizer, str) else self.optimizer

    @property
    def names(self) -> tuple[str, ...]:
        """The scheduled hyperparameters' names, sorted."""
        return tuple(sorted(k for k, v in self.hyperparams.items() if isinstance(v, Schedule)))

    def values(self, step: Any) -> dict[str, Array]:
        r"""``{name: schedule(step)}`` for every scheduled hyperparameter; jittable.

        .. math:: \{ name_i: h_i(step) \}

        >>> import warmup_jax as wj
        >>> spec = hyperparam_schedules("sgd", learning_rate=0.1,
        ...                             momentum=wj.linear_warmup(0.9, 10, init_value=0.5))
        >>> {k: round(float(v), 4) for k, v in spec.values(5).items()}
        {'momentum': 0.7}
        """
        return {name: self.hyperparams[name](step) for name in self.names}

    def transformation(self) -> optax.GradientTransformationExtraArgs:
        """The optimizer: ``factory(**hyperparams)`` with schedules evaluated in every update."""
        return _transformation(self.factory, dict(self.hyperparams), self.names)

    def to_config(self) -> dict[str, Any]:
        """``{"optimizer": NAME, "hyperparams": {NAME: VALUE or schedule config}}``, as JSON.

        Raises:
          TypeError: if the factory is not one of optax's (it has no name to save), or a value is
            neither a number, string, list, None nor a warmup_jax schedule.
        """
        name = self.optimizer if isinstance(self.optimizer, str) else _factory_name(self.optimizer)
        if name is None:
            raise TypeError(
                f"{_checks.safe_repr(self.optimizer)} is not an optax optimizer factory, so it has "
                "no name to save; give optax's factory (or its name, e.g. 'adamw')."
            )
        return {
            _OPTIMIZER_KEY: name,
            _HYPERPARAMS_KEY: {
                key: _encode(value, f"{name}.{key}") for key, value in self.hyperparams.items()
            },
        }

    def to_json(self) -> str:
        """The config as JSON text with sorted keys."""
        return json.dumps(self.to_config(), sort_keys=True)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | str | bytes) -> HyperparamSchedules:
        """Rebuilds :meth:`to_config`'s output (a dict or its JSON text); ``ValueError`` on
        anything else, or on a name the optimizer does not take."""
        if isinstance(config, (str, bytes)):
            try:
                config = json.loads(config)
            except ValueError as error:
                raise ValueError(
                    f"config: not valid JSON: {_checks.shorten(str(error), 200)}"
                ) from None
        if (
            not isinstance(config, Mapping)
            or set(config) != {_OPTIMIZER_KEY, _HYPERPARAMS_KEY}
            or not isinstance(config[_HYPERPARAMS_KEY], Mapping)
        ):
            raise ValueError(
                f"config must be a dict {{{_OPTIMIZER_KEY!r}: NAME, {_HYPERPARAMS_KEY!r}: "
                f"{{ARGUMENT: VALUE, ...}}}}, got {_checks.safe_repr(config)}."
            )
        hyperparams = {
            str(key): from_config(value) if isinstance(value, Mapping) else value
            for key, value in config[_HYPERPARAMS_KEY].items()
        }
        return hyperparam_schedules(config[_OPTIMIZER_KEY], **hyperparams)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HyperparamSchedules):
            return NotImplemented
        return self.optimizer == other.optimizer and dict(self.hyperparams) == dict(
            other.hyperparams
        )

    def __hash__(self) -> int:
        return hash((self.optimizer, tuple(sorted(self.hyperparams))))


def hyperparam_schedules(optimizer: str | Factory, /, **hyperparams: Any) -> HyperparamSchedules:
    r"""``optimizer``'s arguments, each a constant or a warmup_jax schedule, checked.

    .. math:: h_i(t) = \begin{cases} schedule_i(t) & \text{a schedule} \\ c_i & \text{a constant}
       \end{cases}

    Args:
      optimizer: an optax optimizer factory or its name in optax (``"adamw"``, ``"sgd"``,
        ``"contrib.muon"``); a name is what :meth:`HyperparamSchedules.to_config` saves.
      **hyperparams: the factory's keyword arguments. :class:`warmup_jax.Schedule` values are
        scheduled; anything else (numbers, ``mask`` callables, plain optax schedules, which
        optax itself then evaluates) is passed as it is.

    Raises:
      ValueError: for a name the factory does not take (the message lists the ones it does), or
        an unknown optax name.

    >>> import warmup_jax as wj
    >>> spec = hyperparam_schedules("adamw", learning_rate=1e-3,
    ...                             weight_decay=wj.cosine_decay(0.1, 1000))
    >>> spec.names
    ('weight_decay',)
    >>> hyperparam_schedules("adamw", beta1=0.9)
    Traceback (most recent call last):
    ...
    ValueError: adamw takes no hyperparameter 'beta1'; it takes: b1, b2, eps, eps_root, learning_rate, mask, mu_dtype, nesterov, weight_decay.
    """
    factory = _resolve(optimizer) if isinstance(optimizer, str) else optimizer
    if not callable(factory):
        raise ValueError(
            f"optimizer must be an optax optimizer factory or its name, got "
            f"{_checks.describe(optimizer)}."
        )
    accepted = accepted_names(factory)
    unknown = sorted(set(hyperparams) - set(accepted)) if accepted is not None else []
    if unknown:
        name = getattr(factory, "__name__", "the optimizer")
        raise ValueError(
            f"{name} takes no hyperparameter {', '.join(map(repr, unknown))}; it takes: "
            f"{', '.join(sorted(accepted or ()))}."
        )
    return HyperparamSchedules(optimizer, dict(hyperparams))


def scheduled(
    optimizer: str | Factory, /, **hyperparams: Any
) -> optax.GradientTransformationExtraArgs:
    r"""An optax optimizer whose warmup_jax-schedule arguments are evaluated inside every update.

    .. math:: u_t = \operatorname{optimizer}(h_1(t), \ldots).\mathrm{update}(g_t), \quad
       t = \text{the optimizer's count}

    ``scheduled(optax.adamw, learning_rate=lr, b1=b1, weight_decay=wd, b2=0.999)`` is
    ``optax.adamw`` with ``lr``, ``b1`` and ``wd`` read at the optimizer's own int32 step count
    (in its state, :class:`ScheduledHyperparamsState`) and ``b2`` fixed. Works under ``jit``,
    ``lax.scan`` and sharding; the state is a pytree of arrays. Arguments as in
    :func:`hyperparam_schedules`, which also gives the JSON form.

    >>> import jax.numpy as jnp, optax, warmup_jax as wj
    >>> b1 = wj.linear_warmup(0.95, 10, init_value=0.85)
    >>> opt = scheduled(optax.adam, learning_rate=0.1, b1=b1)
    >>> params = jnp.zeros(2)
    >>> state = opt.init(params)
    >>> updates, state = opt.update(jnp.ones(2), state, params)
    >>> int(state.count), round(float(hyperparams_at(state)["b1"]), 4)
    (1, 0.85)
    """
    return hyperparam_schedules(optimizer, **hyperparams).transformation()


def _float_dtype(tree: Any) -> Any:
    """The widest float dtype among ``tree``'s leaves (the default float when it has none)."""
    dtypes = [
        jnp.result_type(leaf)
        for leaf in jax.tree.leaves(tree)
        if jnp.issubdtype(jnp.result_type(leaf), jnp.floating)
    ]
    return jnp.result_type(*dtypes) if dtypes else float_dtype()


def _transformation(
    factory: Factory, hyperparams: dict[str, Any], names: tuple[str, ...]
) -> optax.GradientTransformationExtraArgs:
    constants = {k: v for k, v in hyperparams.items() if k not in names}

    def evaluate(count: Array, dtype: Any) -> dict[str, Array]:
        return {name: hyperparams[name](count).astype(dtype) for name in names}

    def inner(values: dict[str, Array]) -> optax.GradientTransformationExtraArgs:
        return optax.with_extra_args_support(factory(**constants, **values))

    def init(params: Any) -> ScheduledHyperparamsState:
        count = jnp.zeros([], jnp.int32)
        values = evaluate(count, _float_dtype(params))
        return ScheduledHyperparamsState(count, values, inner(values).init(params))

    def update(
        updates: Any, state: ScheduledHyperparamsState, params: Any = None, **extra_args: Any
    ) -> tuple[Any, ScheduledHyperparamsState]:
        values = evaluate(state.count, _float_dtype(updates))
        updates, inner_state = inner(values).update(
            updates, state.inner_state, params, **extra_args
        )
        return updates, ScheduledHyperparamsState(
            optax.safe_increment(state.count), values, inner_state
        )

    return optax.GradientTransformationExtraArgs(init, update)


def hyperparams_at(opt_state: Any) -> dict[str, Array]:
    r"""The scheduled hyperparameters' values that the last update used, by name; jittable.

    .. math:: \{ name_i: h_i(t - 1) \} \text{ after update } t - 1 \ (\text{at init: } h_i(0))

    Finds every :class:`ScheduledHyperparamsState` inside ``opt_state`` (the optimizer may sit in
    an ``optax.chain``); ``{}`` when there is none.

    >>> import jax.numpy as jnp, optax, warmup_jax as wj
    >>> opt = optax.chain(optax.clip_by_global_norm(1.0),
    ...                   scheduled("sgd", learning_rate=wj.cosine_decay(0.1, 100)))
    >>> {k: float(v) for k, v in hyperparams_at(opt.init(jnp.zeros(3))).items()}
    {'learning_rate': 0.10000000149011612}
    """
    found: dict[str, Array] = {}

    def visit(node: Any) -> Any:
        if isinstance(node, ScheduledHyperparamsState):
            found.update(node.hyperparams)
        return node

    jax.tree.map(visit, opt_state, is_leaf=lambda x: isinstance(x, ScheduledHyperparamsState))
    return found

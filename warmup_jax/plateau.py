"""Reduce-on-plateau as a multiplier: a jittable update from a metric, its state a pytree.

The learning rate (or any schedule) is multiplied by a ``scale`` that starts at 1 and drops by
``factor`` when a metric (a validation loss, say) has not improved for ``patience`` evaluations:

.. math:: lr(t) = schedule(t) \\cdot scale, \\qquad scale \\leftarrow \\max(scale \\cdot factor,
   min\\_scale) \\text{ on a plateau}

so a warmup and a decay keep their shape under the plateau's drops. :func:`plateau_update` is a
pure function of a :class:`PlateauState` (a NamedTuple of arrays that orbax checkpoints with the
train state) and the metric; it runs inside ``jit``. :func:`scale_by_plateau` multiplies an
optax optimizer's updates by the scale it holds in the optimizer's state (for optax's optimizers,
where the learning rate is the last factor, the same as multiplying the learning rate), and
:func:`update_plateau` updates every such state inside an optimizer state or a train state.

Three libraries count patience differently; ``convention`` picks one (``"torch"`` by default):

* ``"torch"`` (``torch.optim.lr_scheduler.ReduceLROnPlateau.step``): a metric better than the
  best resets the bad count, otherwise it grows by one; in cooldown the cooldown counter drops by
  one and the bad count is set to 0; the scale drops when the bad count EXCEEDS ``patience``
  (``patience=2``: on the 3rd bad evaluation in a row), then the cooldown starts and the bad count
  is 0. ``best`` follows improvements in cooldown too.
* ``"keras"`` (``keras.callbacks.ReduceLROnPlateau.on_epoch_end``): in cooldown the counter drops
  by one and the wait is set to 0, first; then an improvement sets ``best`` and the wait to 0, and
  otherwise, unless still in cooldown (the decremented counter still above 0), the wait grows and
  the scale drops when it REACHES ``patience``, only while the scale is above ``min_scale`` (at
  the floor nothing is reset). Keras' threshold is absolute (``min_delta``), so
  ``threshold_mode`` defaults to ``"abs"`` here.
* ``"optax"`` (``optax.contrib.reduce_on_plateau``, ``accumulation_size=1``): an improvement sets
  ``best`` and the count to 0, otherwise the count grows; if the cooldown counter (before this
  evaluation) is above 0, it drops by one and the count is 0; otherwise the scale drops when the
  count EQUALS ``patience`` (so ``patience=0`` drops on every improvement, as optax does), and the
  cooldown counter is set to ``cooldown`` on a drop and to 0 otherwise. The scale is floored at
  ``min_scale`` after every evaluation.

Improvement is, as torch's ``threshold_mode`` (optax's ``rtol``/``atol``, Keras' ``min_delta``):
``metric < best * (1 - threshold)`` (``"rel"``) or ``metric < best - threshold`` (``"abs"``) in
``mode="min"``, and ``metric > best * (1 + threshold)`` or ``metric > best + threshold`` in
``mode="max"``; ``best`` starts at ``+inf`` (``-inf`` for ``"max"``). torch's ``min_lr`` is
``min_scale`` times the base learning rate; torch's ``eps`` (drops smaller than 1e-8 in learning
rate are skipped) has no equivalent on a scale and is left out; so is optax's
``accumulation_size`` (feed the mean of the metric).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from warmup_jax import _checks
from warmup_jax._schedule import float_dtype

Array = jax.Array

CONVENTIONS = ("torch", "keras", "optax")
MODES = ("min", "max")
THRESHOLD_MODES = ("rel", "abs")


@dataclasses.dataclass(frozen=True)
class PlateauSettings:
    """When and how far the plateau multiplier drops; hashable (a static argument to ``jit``).

    Attributes:
      factor: the drop, ``scale <- scale * factor``; in (0, 1). torch's and Keras' default 0.1.
      patience: evaluations without improvement tolerated; an integer >= 0 (counted as
        ``convention`` says). Default 10.
      threshold: how much better than ``best`` a metric must be to count as an improvement; a
        number >= 0. Default 1e-4.
      threshold_mode: ``"rel"`` or ``"abs"``; default ``"rel"`` (``"abs"`` for Keras).
      cooldown: evaluations after a drop during which bad evaluations are not counted; >= 0.
      min_scale: the floor of the scale, in [0, 1]. Default 0.
      mode: ``"min"`` (the metric should go down, a loss) or ``"max"`` (an accuracy).
      convention: ``"torch"`` (drop when bad evaluations exceed ``patience``), ``"keras"`` or
        ``"optax"`` (when they reach it); see :mod:`warmup_jax.plateau`.

    >>> PlateauSettings(patience=2, factor=0.5).to_config()["patience"]
    2
    >>> PlateauSettings(factor=1.0)
    Traceback (most recent call last):
    ...
    ValueError: factor must be a finite number in (0, 1), got 1.0.
    """

    factor: float = 0.1
    patience: int = 10
    threshold: float = 1e-4
    threshold_mode: str | None = None
    cooldown: int = 0
    min_scale: float = 0.0
    mode: str = "min"
    convention: str = "torch"

    def __post_init__(self) -> None:
        convention = _checks.choice("convention", self.convention, CONVENTIONS)
        threshold_mode = self.threshold_mode
        if threshold_mode is None:
            threshold_mode = "abs" if convention == "keras" else "rel"
        checked = {
            "factor": _checks.number(
                "factor",
                self.factor,
                minimum=0.0,
                maximum=1.0,
                min_inclusive=False,
                max_inclusive=False,
            ),
            "patience": _checks.integer("patience", self.patience, minimum=0),
            "threshold": _checks.non_negative("threshold", self.threshold),
            "threshold_mode": _checks.choice("threshold_mode", threshold_mode, THRESHOLD_MODES),
            "cooldown": _checks.integer("cooldown", self.cooldown, minimum=0),
            "min_scale": _checks.non_negative("min_scale", self.min_scale, maximum=1.0),
            "mode": _checks.choice("mode", self.mode, MODES),
            "convention": convention,
        }
        for key, value in checked.items():
            object.__setattr__(self, key, value)

    def to_config(self) -> dict[str, Any]:
        """The settings as a JSON-serializable dict (every field, defaults filled in)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | str | bytes) -> PlateauSettings:
        """Settings from :meth:`to_config` output (or its JSON text); ``ValueError`` for
        unknown keys or bad values."""
        if isinstance(config, (str, bytes)):
            try:
                config = json.loads(config)
            except ValueError as error:
                raise ValueError(
                    f"plateau config: not valid JSON: {_checks.shorten(str(error), 200)}"
                ) from None
        if not isinstance(config, Mapping):
            raise ValueError(f"plateau config must be a dict, got {_checks.describe(config)}.")
        fields = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(config) - set(fields), key=str)
        if unknown:
            raise ValueError(
                f"plateau config: unknown setting {_checks.safe_repr(unknown)}; the settings "
                f"are: {', '.join(fields)}."
            )
        return cls(**config)

    @classmethod
    def parse(cls, text: str) -> PlateauSettings:
        """Settings from ``"patience=2,factor=0.5,threshold=0.01,cooldown=1,convention=keras"``.

        Numbers are read as int or float; ``mode=torch|keras|optax`` is accepted for
        ``convention`` (``mode=min|max`` stays the direction).

        >>> PlateauSettings.parse("patience=2,factor=0.5,mode=keras").convention
        'keras'
        """
        values: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in str(text).split(","))):
            key, sep, raw = item.partition("=")
            key, raw = key.strip(), raw.strip()
            if not sep or not key:
                raise ValueError(f"plateau settings: {item!r} is not NAME=VALUE.")
            if key == "mode" and raw in CONVENTIONS:
                key = "convention"
            value: Any = raw
            for kind in (int, float):
                try:
                    value = kind(raw)
                    break
                except ValueError:
                    continue
            if key in values:
                raise ValueError(f"plateau settings: {key} is given twice.")
            values[key] = value
        return cls.from_config(values)


class PlateauState(NamedTuple):
    """The plateau's state: arrays only, so it checkpoints and restores with the train state.

    Attributes:
      scale: the multiplier (float32; float64 under x64), 1 at the start.
      best: the best metric so far (``+inf`` for ``mode="min"``, ``-inf`` for ``"max"`` at the
        start).
      num_bad: evaluations without improvement counted towards ``patience`` (int32).
      cooldown_counter: evaluations of cooldown left (int32).
      count: evaluations seen (int32).
    """

    scale: Array
    best: Array
    num_bad: Array
    cooldown_counter: Array
    count: Array  # type: ignore[assignment]


def plateau_init(settings: PlateauSettings | None = None) -> PlateauState:
    r"""The state before the first evaluation: scale 1, no best yet, no bad evaluations.

    .. math:: scale = 1,\ best = \pm\infty,\ num\_bad = cooldown\_counter = count = 0

    >>> float(plateau_init().scale), float(plateau_init().best)
    (1.0, inf)
    """
    settings = PlateauSettings() if settings is None else settings
    worst = jnp.inf if settings.mode == "min" else -jnp.inf
    zero = jnp.zeros([], jnp.int32)
    return PlateauState(
        scale=jnp.ones([], float_dtype()),
        best=jnp.asarray(worst, float_dtype()),
        num_bad=zero,
        cooldown_counter=zero,
        count=zero,
    )


def _improved(metric: Array, best: Array, settings: PlateauSettings) -> Array:
    threshold = settings.threshold
    if settings.mode == "min":
        if settings.threshold_mode == "rel":
            return metric < best * (1.0 - threshold)
        return metric < best - threshold
    if settings.threshold_mode == "rel":
        return metric > best * (1.0 + threshold)
    return metric > best + threshold


def plateau_update(state: PlateauState, metric: Any, settings: PlateauSettings) -> PlateauState:
    r"""The state after one evaluation of ``metric``; jittable (``settings`` is static).

    .. math:: scale \leftarrow \max(scale \cdot factor, min\_scale) \text{ when the bad
       evaluations pass } patience \text{ (as the convention counts them)}

    >>> s = PlateauSettings(patience=1, factor=0.5)
    >>> state = plateau_init(s)
    >>> for loss in [1.0, 1.0, 1.0]:  # torch: the 2nd bad evaluation in a row drops the scale
    ...     state = plateau_update(state, loss, s)
    >>> float(state.scale), int(state.num_bad)
    (0.5, 0)
    """
    metric = jnp.asarray(metric).astype(state.best.dtype)
    improved = _improved(metric, state.best, settings)
    best = jnp.where(improved, metric, state.best)
    bad, cooldown_counter, scale = state.num_bad, state.cooldown_counter, state.scale
    zero = jnp.zeros_like(bad)
    cooldown = jnp.asarray(settings.cooldown, jnp.int32)
    floor = jnp.asarray(settings.min_scale, scale.dtype)
    lowered = jnp.maximum(scale * jnp.asarray(settings.factor, scale.dtype), floor)

    if settings.convention == "torch":
        bad = jnp.where(improved, zero, optax.safe_increment(bad))
        in_cooldown = cooldown_counter > 0
        cooldown_counter = jnp.where(in_cooldown, cooldown_counter - 1, cooldown_counter)
        bad = jnp.where(in_cooldown, zero, bad)
        drop = bad > settings.patience
        scale = jnp.where(drop, lowered, scale)
        cooldown_counter = jnp.where(drop, cooldown, cooldown_counter)
        bad = jnp.where(drop, zero, bad)
    elif settings.convention == "keras":
        in_cooldown = cooldown_counter > 0
        cooldown_counter = jnp.where(in_cooldown, cooldown_counter - 1, cooldown_counter)
        bad = jnp.where(in_cooldown, zero, bad)
        counts = ~improved & ~(cooldown_counter > 0)
        bad = jnp.where(improved, zero, jnp.where(counts, optax.safe_increment(bad), bad))
        drop = counts & (bad >= settings.patience) & (scale > floor)
        scale = jnp.where(drop, lowered, scale)
        cooldown_counter = jnp.where(drop, cooldown, cooldown_counter)
        bad = jnp.where(drop, zero, bad)
    else:  # optax
        current = jnp.where(improved, zero, optax.safe_increment(bad))
        in_cooldown = cooldown_counter > 0
        hit = ~in_cooldown & (current == settings.patience)
        bad = jnp.where(in_cooldown | hit, zero, current)
        scale = jnp.maximum(jnp.where(hit, scale * settings.factor, scale), floor)
        cooldown_counter = jnp.where(
            in_cooldown, cooldown_counter - 1, jnp.where(hit, cooldown, zero)
        )
    return PlateauState(
        scale=scale.astype(state.scale.dtype),
        best=best,
        num_bad=bad.astype(jnp.int32),
        cooldown_counter=cooldown_counter.astype(jnp.int32),
        count=optax.safe_increment(state.count),
    )


def scale_by_plateau(settings: PlateauSettings | None = None) -> optax.GradientTransformation:
    r"""An optax transformation that multiplies updates by the plateau scale in its state.

    .. math:: u \leftarrow scale \cdot u

    Chain it after an optimizer (``optax.chain(optax.adamw(schedule), scale_by_plateau(s))``):
    for optax's optimizers, whose last factor is the learning rate, that is the learning rate
    ``schedule(t) * scale``. The state (a :class:`PlateauState`) is not changed by ``update``;
    :func:`update_plateau` changes it from a metric.

    >>> import jax.numpy as jnp, optax
    >>> opt = optax.chain(optax.sgd(0.1), scale_by_plateau())
    >>> state = update_plateau(opt.init(jnp.zeros(1)), 1.0, PlateauSettings(patience=0))
    >>> state = update_plateau(state, 1.0, PlateauSettings(patience=0))
    >>> updates, _ = opt.update(jnp.ones(1), state)
    >>> float(plateau_scale(state)), round(float(updates[0]), 6)
    (0.10000000149011612, -0.01)
    """
    settings = PlateauSettings() if settings is None else settings

    def init(params: Any) -> PlateauState:
        del params
        return plateau_init(settings)

    def update(updates: Any, state: PlateauState, params: Any = None) -> tuple[Any, PlateauState]:
        del params
        updates = jax.tree.map(lambda u: (state.scale * u).astype(u.dtype), updates)
        return updates, state

    return optax.GradientTransformation(init, update)


def _is_state(node: Any) -> bool:
    return isinstance(node, PlateauState)


def update_plateau(tree: Any, metric: Any, settings: PlateauSettings) -> Any:
    r"""``tree`` (an optimizer state, a train state, any pytree) with every :class:`PlateauState`
    in it updated by :func:`plateau_update`; jittable.

    .. math:: state_i \leftarrow \operatorname{plateau\_update}(state_i, metric)

    >>> state = update_plateau({"plateau": plateau_init()}, 0.5, PlateauSettings())
    >>> float(state["plateau"].best)
    0.5
    """

    def visit(node: Any) -> Any:
        return plateau_update(node, metric, settings) if _is_state(node) else node

    return jax.tree.map(visit, tree, is_leaf=_is_state)


def plateau_scale(tree: Any) -> Array | None:
    r"""The scale of the first :class:`PlateauState` in ``tree`` (None when there is none).

    .. math:: scale

    >>> float(plateau_scale({"opt": (plateau_init(),)}))
    1.0
    """
    for node in jax.tree.leaves(tree, is_leaf=_is_state):
        if _is_state(node):
            return node.scale
    return None

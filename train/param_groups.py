"""Parameter groups from the run's flags (``--lr_mult``, ``--freeze``, ``--layer_decay``,
``--no_decay``), built with ``warmup_jax.groups`` (``optax.partition`` underneath).

Parameter paths are those of the model's ``params`` tree joined by ``/``:
``embed/embedding`` (tied with the output layer), ``positions``, ``block_0/attn/query/kernel``,
``block_0/ln_attn/scale``, ``ln_final/bias``. Rules are tried in order, ``--freeze`` first,
then each ``--lr_mult`` as given; the first whose regular expression matches (``re.search``)
decides. Without ``--lr_mult``, ``--freeze`` and ``--layer_decay`` there are no groups: AdamW
with a weight-decay mask from ``--no_decay``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import jax

import warmup_jax
from train.config import NO_DECAY_NONE, ConfigError, RunConfig
from warmup_jax.groups import LayerDecay, ParamGroups, Rule, decay_mask, param_paths, path_text

_BLOCK = re.compile(r"^block_(\d+)/")
_EMBEDDINGS = ("embed/", "positions")


def harness_layer(path: str) -> int | None:
    """The layer of a parameter for ``--layer_decay``: 0 for the embeddings, ``i + 1`` for block
    ``i``, None (the top: the full LR) for the rest (the final LayerNorm)."""
    if path.startswith(_EMBEDDINGS):
        return 0
    match = _BLOCK.match(path)
    return None if match is None else int(match.group(1)) + 1


def frozen_name(regex: str) -> str:
    """The group name of ``--freeze REGEX``."""
    return f"frozen:{regex}"


def no_decay_pattern(config: RunConfig) -> str | None:
    """``--no_decay`` as a pattern, None for ``none`` (decay everything)."""
    return None if config.no_decay == NO_DECAY_NONE else config.no_decay


def has_groups(config: RunConfig) -> bool:
    """Whether the flags ask for parameter groups (beyond the weight-decay mask)."""
    return bool(config.lr_mult or config.freeze or config.layer_decay is not None)


def make_groups(config: RunConfig) -> ParamGroups | None:
    """The run's ``ParamGroups``; None without ``--lr_mult``, ``--freeze`` or ``--layer_decay``."""
    if not has_groups(config):
        return None
    rules = [Rule(regex, frozen=True, name=frozen_name(regex)) for regex in config.freeze]
    rules += [Rule(regex, lr_mult=factor) for regex, factor in config.lr_mult.items()]
    layer_decay = None
    if config.layer_decay is not None:
        # Layers 0 (embeddings) to num_layers + 1 (the top): block i gets f ** (L - i).
        layer_decay = LayerDecay(
            config.layer_decay, num_layers=config.model.num_layers + 1, layer=harness_layer
        )
    return ParamGroups(rules=rules, layer_decay=layer_decay, no_decay=no_decay_pattern(config))


def weight_decay_mask(config: RunConfig) -> Callable[[Any], Any] | None:
    """AdamW's ``mask`` for ``--no_decay`` (True: decayed), None to decay everything."""
    pattern = no_decay_pattern(config)
    return None if pattern is None else functools.partial(decay_mask, no_decay=pattern)


def check_paths(config: RunConfig, params: Any) -> None:
    """Raises ``ConfigError`` when a group's regular expression matches no parameter, listing
    the parameter paths (a typo would otherwise leave the group silently empty)."""
    paths = param_paths(params)
    given = [("--freeze", regex) for regex in config.freeze]
    given += [("--lr_mult", regex) for regex in config.lr_mult]
    if no_decay_pattern(config) is not None:
        given.append(("--no_decay", config.no_decay))
    unmatched = [
        f"{flag} {regex!r}" for flag, regex in given if not any(re.search(regex, p) for p in paths)
    ]
    if unmatched:
        raise ConfigError(
            f"{', '.join(unmatched)} matches no parameter; the model's parameters are: "
            + ", ".join(paths)
        )
    if has_groups(config) and config.hyperparams:
        raise ConfigError(
            "--hparam cannot be combined with --lr_mult, --freeze or --layer_decay yet: give "
            "the groups or the scheduled hyperparameters"
        )


def group_learning_rates(
    groups: ParamGroups, schedule: warmup_jax.Schedule, params: Any
) -> dict[str, Any]:
    """``{group: learning rate}`` of each group that is updated, for ``train/learning_rate/
    <group>``; the groups that differ only in weight decay (``.../no_decay``) are one."""
    rates: dict[str, Any] = {}
    for label, rate in groups.learning_rates(schedule, params).items():
        rates.setdefault(label.removesuffix("/no_decay"), rate)
    return rates


def frozen_mask(groups: ParamGroups | None, params: Any) -> Any:
    """A tree like ``params``: True for the parameters that are updated (``--freeze`` leaves
    them out of the gradient clipping's norm, as frozen torch parameters have no gradient)."""
    if groups is None:
        return jax.tree.map(lambda _: True, params)
    return jax.tree_util.tree_map_with_path(
        lambda keypath, _: not groups.group_of(path_text(keypath)).frozen, params
    )

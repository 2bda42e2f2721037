"""The run's settings: one ``RunConfig`` dataclass, each setting defined once, and the presets.

Every field of ``RunConfig`` carries its own definition (``setting(...)``): its help text, its
command-line group, the values it accepts, whether a resumed run must keep it (``resume``) and
whether all processes of a multi-process run must agree on it (``agree``). From that one place
come the flags of ``python -m train`` (``add_flags`` / ``from_flags``, a small generator over the
dataclass), the checks of ``RunConfig.validate``, the resume check's list (``RESUME_KEYS``) and
the multi-process check's (``MAY_DIFFER``). Presets give the size-dependent defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import pathlib
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

VOCAB_SIZE = 256  # Bytes.


class ConfigError(ValueError):
    """A setting that cannot make a run; its message tells the user what to change.

    ``python -m train`` prints it and exits with status 2, as for a bad flag.
    """


# -- what a setting accepts: each check turns a value into the setting or raises ValueError ------


def _integer(minimum: int, maximum: int | None = None) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {value!r}")
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be at most {maximum}, got {value}")
        return value

    check.description = (  # type: ignore[attr-defined]
        f"a whole number >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
    )
    return check


def _number(
    minimum: float, maximum: float = math.inf, *, low_open: bool = False, high_open: bool = False
) -> Callable[[Any], float]:
    low, high = ("(" if low_open else "["), (")" if high_open or maximum == math.inf else "]")
    accepted = f"a finite number in {low}{minimum:g}, {maximum:g}{high}"

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r}")
        value = float(value)
        too_low = value < minimum or (low_open and value == minimum)
        too_high = value > maximum or (high_open and value == maximum)
        if not math.isfinite(value) or too_low or too_high:
            raise ValueError(f"must be {accepted}, got {value!r}")
        return value

    check.description = accepted  # type: ignore[attr-defined]
    return check


def _choice(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    check.description = " or ".join(choices)  # type: ignore[attr-defined]
    check.choices = choices  # type: ignore[attr-defined]
    return check


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must not be empty, got {value!r}")
    return value


def _folder(value: Any) -> str:
    """A folder that exists or can be created: not a file, and not under one."""
    text = _text(value)
    path = pathlib.Path(text).expanduser()
    for place in (path, *path.parents):
        try:
            is_file = place.exists() and not place.is_dir()
        except OSError:  # not ours to read: the run reports it when it writes there
            continue
        if is_file:
            what = "is a file" if place == path else f"is under {place}, which is a file"
            raise ValueError(f"{text!r} {what}, not a folder: give a folder's path")
    return text


def _hyperparameter(value: Any) -> tuple[str, str]:
    """``"NAME=EXPR"`` -> ``(NAME, EXPR)``: a hyperparameter and the schedule expression it follows."""
    name, sep, expression = _text(value).partition("=")
    name, expression = name.strip(), expression.strip()
    if not sep or not name.isidentifier() or not expression:
        raise ValueError(
            f"expected NAME=EXPRESSION, e.g. 'b1=linear_warmup(peak_value=0.95, warmup_steps=50, "
            f"init_value=0.85)', got {str(value)[:80]!r}"
        )
    return name, expression


def _hyperparameters(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(f"expected {{NAME: EXPRESSION}}, got {value!r}")
    return {name: _hyperparameter(f"{name}={text}")[1] for name, text in value.items()}


def _regex(value: Any) -> str:
    """A regular expression on parameter paths (``block_0/attn/query/kernel``), compiled to check."""
    text = _text(value)
    try:
        re.compile(text)
    except re.error as error:
        raise ValueError(f"is not a regular expression ({error}): {text[:80]!r}") from None
    return text


def _lr_mult(value: Any) -> tuple[str, float]:
    """``"REGEX=FACTOR"`` -> ``(REGEX, FACTOR)`` (split at the last ``=``)."""
    regex, sep, factor = _text(value).rpartition("=")
    if not sep or not regex:
        raise ValueError(f"expected REGEX=FACTOR, e.g. '^embed/=0.1', got {str(value)[:80]!r}")
    try:
        number = NON_NEGATIVE_FLOAT(float(factor))
    except ValueError as error:
        reason = error if "finite" in str(error) else f"must be a number, got {factor[:80]!r}"
        raise ValueError(f"{regex[:80]!r}={factor[:80]}: the factor {reason}") from None
    return _regex(regex), number


def _lr_mults(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected {{REGEX: FACTOR}}, got {value!r}")
    return dict(_lr_mult(f"{regex}={factor}") for regex, factor in value.items())


def _regexes(value: Any) -> list[str]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list of regular expressions, got {value!r}")
    return [_regex(v) for v in value]


def _no_decay(value: Any) -> str:
    return NO_DECAY_NONE if _text(value).strip() == NO_DECAY_NONE else _regex(value)


def _plateau(value: Any) -> str:
    from warmup_jax.plateau import PlateauSettings  # noqa: PLC0415  (imports jax)

    PlateauSettings.parse(_text(value))  # raises ValueError naming the setting
    return value


def _json_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a JSON object like '{{\"num_cycles\": 2}}', got {value!r}")
    return dict(value)


POSITIVE_INT = _integer(1)
NON_NEGATIVE_INT = _integer(0)


def _length(minimum: int, shares: bool = True) -> Callable[[Any], int | str]:
    """Steps (a whole number >= ``minimum``) or a duration: ``"10%"`` of the run (when
    ``shares``), ``"2ep"`` (epochs of the training split), ``"1280tok"``, ``"1e5ex"``,
    ``"500st"`` (``warmup_jax.durations``); a duration is kept as text until the run resolves
    it (``resolve_lengths``)."""
    steps = _integer(minimum)

    def check(value: Any) -> int | str:
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            value = int(value)
        if not isinstance(value, str):
            return steps(value)
        from warmup_jax.durations import parse_duration  # noqa: PLC0415

        duration = parse_duration(value.strip(), name="the value")
        if duration.unit == "%" and not shares:
            raise ValueError(f"cannot be a share of the run itself, got {value!r}")
        return duration.text

    check.takes_text = True  # type: ignore[attr-defined]  (the flag's text goes to check as is)
    return check


AUTO = "auto"


def _peak_lr(value: Any) -> float | str:
    """A positive finite number, or ``"auto"`` (found by the LR range test before the run)."""
    if isinstance(value, str) and value.strip() == AUTO:
        return AUTO
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"expected a number or 'auto', got {value[:80]!r}") from None
    return POSITIVE_FLOAT(value)


_peak_lr.takes_text = True  # type: ignore[attr-defined]


# --no_decay's default: biases and the LayerNorms' scales and offsets of the harness's model.
NO_DECAY_DEFAULT = r"(?:^|/)bias$|(?:^|/)ln_[^/]*/"
NO_DECAY_NONE = "none"
# What a checkpoint written before a setting existed was trained with, where that is not the
# setting's default: weight decay on every parameter, before --no_decay.
BEFORE_THE_SETTING = {"no_decay": NO_DECAY_NONE}

# The settings that are lengths, in the order they are resolved (--steps first: "10%" of it).
LENGTHS = ("steps", "warmup_steps", "rewarmup_steps", "rewarmup_from")
SEED = _integer(0, 2**32 - 1)  # jax.random.key takes a 32-bit seed
POSITIVE_FLOAT = _number(0.0, low_open=True)
NON_NEGATIVE_FLOAT = _number(0.0)
RATIO = _number(0.0, 1.0, high_open=True)
BETA = _number(0.0, 1.0, high_open=True)


def setting(
    default: Any,
    help: str,  # noqa: A002  (argparse's name)
    *,
    group: str,
    check: Callable[[Any], Any] | None = None,
    resume: bool = False,
    agree: bool = True,
    flag: str | None = "",
    exclusive: str | None = None,
    metavar: str | None = None,
    repeat: bool = False,
) -> Any:
    """A ``RunConfig`` field with its definition.

    ``check`` turns a value into the setting or raises ``ValueError`` (used for flags and for
    ``validate``); ``resume``: a resumed run must keep it; ``agree``: every process of a
    multi-process run must have the same value; ``flag``: the flag's name (``""``: ``--NAME``;
    ``None``: no flag); ``exclusive``: flags of the same name exclude each other; ``repeat``:
    the flag may be given several times, ``check`` turns each into a ``(key, value)`` of the
    field's dict.
    """
    metadata = dict(
        help=help,
        group=group,
        check=check,
        resume=resume,
        agree=agree,
        flag=flag,
        exclusive=exclusive,
        metavar=metavar,
        repeat=repeat,
    )
    if isinstance(default, (dict, list)):
        kind = type(default)
        return dataclasses.field(default_factory=lambda: kind(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


PRESET = object()  # the default comes from the preset (see PRESETS)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Shape of the byte-level decoder-only transformer."""

    d_model: int
    num_layers: int
    num_heads: int
    mlp_dim: int
    vocab_size: int = VOCAB_SIZE


RUN, LR, OPTIMIZER, CADENCE, DATA, WANDB = (
    "run",
    "learning rate",
    "optimizer (AdamW after gradient clipping)",
    "logging, evaluation and checkpoints",
    "data",
    "Weights & Biases (optional: pip install wandb)",
)


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything one training run depends on. ``python -m train`` builds it from its flags.

    Build it with ``make_config(preset, workdir, **overrides)``.
    """

    workdir: str = setting(
        PRESET,
        "folder for checkpoints, metrics.jsonl, tb/, lr.png, loss.png and summary.json "
        "(default: runs/PRESET)",
        group=RUN,
        check=_folder,
        agree=False,
    )
    preset: str = setting(
        "small",
        "model size and default settings: 'tiny' for tests (milliseconds per step), 'small' "
        "for a real run of a few minutes on a laptop CPU",
        group=RUN,
        check=_choice("small", "tiny"),
        resume=True,
    )
    model: ModelConfig = setting(PRESET, "the model's shape", group=RUN, resume=True, flag=None)
    norm: str = setting(
        "pre",
        "where the LayerNorms sit: 'pre' (before each sublayer, GPT-2's) or 'post' (after each "
        "residual sum, the original Transformer's; it needs a warmup, Xiong et al. 2020)",
        group=RUN,
        check=_choice("pre", "post"),
        resume=True,
    )
    steps: int = setting(
        PRESET,
        "total optimizer steps of the run (the schedule's num_training_steps), or a duration: "
        "'3ep' (epochs of the training split), '2e6tok', '1e5ex'",
        group=RUN,
        check=_length(1, shares=False),
    )
    batch_size: int = setting(
        PRESET,
        "sequences per step (the global batch, over all devices)",
        group=RUN,
        check=POSITIVE_INT,
        resume=True,
    )
    seq_len: int = setting(PRESET, "bytes per sequence", group=RUN, check=POSITIVE_INT, resume=True)
    seed: int = setting(
        0,
        "seeds the initial weights and which windows of text each step sees",
        group=RUN,
        check=SEED,
        resume=True,
    )
    stop_after: int | None = setting(
        None,
        "stop once this many steps are done, as if the job were killed (to try resuming: run "
        "the same command again without it)",
        group=RUN,
        check=POSITIVE_INT,
    )
    peak_lr: float = setting(
        PRESET,
        "the highest learning rate, reached at the end of warmup; 'auto' runs the LR range "
        "test (python -m train.lr_find) first and trains at its suggestion, recorded in the "
        "run config (peak_lr_found) and WORKDIR/lr_find.json",
        group=LR,
        check=_peak_lr,
    )
    peak_lr_found: dict = setting(
        {},
        "what --peak_lr auto found: the suggested LR, the heuristic and lr_find.json",
        group=LR,
        flag=None,
    )
    schedule: str = setting(
        "cosine",
        "the schedule's shape after warmup, by its transformers name (linear, cosine, "
        "cosine_with_restarts, polynomial, constant, constant_with_warmup, inverse_sqrt, "
        "cosine_with_min_lr, warmup_stable_decay); or a quoted schedule expression that gives "
        "the learning rate itself, where peak, steps, warmup_steps and decay_steps name the "
        "run's values, e.g. 'linear_warmup(peak, warmup_steps) >> cosine_decay(peak, "
        "decay_steps, end_value=0.01 * peak)': the same calls as in Python (python -m "
        "warmup_jax list shows them all)",
        group=LR,
        check=_text,
        metavar="NAME_OR_EXPRESSION",
    )
    schedule_kwargs: dict[str, Any] = setting(
        {},
        "extra arguments of the schedule as a JSON object, like transformers' "
        "lr_scheduler_kwargs, e.g. '{\"num_cycles\": 2}' for cosine_with_restarts "
        "(cosine_with_min_lr defaults to min_lr_rate 0.1; warmup_stable_decay decays over the "
        "last 20%% of the steps unless num_decay_steps is given); --steps, the warmup flags and "
        "--peak_lr set their own arguments",
        group=LR,
        check=_json_object,
        metavar="JSON",
    )
    warmup_steps: int | None = setting(
        None,
        "steps of warmup from 0 up to --peak_lr, or a duration: '10%%' of the run, '2ep' "
        "(epochs of the training split), '1280tok', '1e5ex' (resolved to steps, rounded to the "
        "nearest, never 0 for a positive duration; both go in the run config)",
        group=LR,
        check=_length(0),
        exclusive="warmup",
    )
    warmup_ratio: float = setting(
        0.1,
        "warmup as a fraction of --steps, rounded up",
        group=LR,
        check=RATIO,
        exclusive="warmup",
    )
    warmup_type: str = setting(
        "linear",
        "shape of the warmup: linear (a straight line from 0), or exponential from peak/1000",
        group=LR,
        check=_choice("linear", "exponential"),
    )
    warmup_one_step_ahead: bool = setting(
        False,
        "evaluate the warmup at step + 1, so the first update already moves the weights (as "
        "pytorch_warmup does) instead of using learning rate 0",
        group=LR,
    )
    scale_lr: str | None = setting(
        None,
        "scale --peak_lr from --base_batch_size to --batch_size: 'linear' (Goyal et al.; needs "
        "a longer warmup as the batch grows) or 'sqrt' (usual for Adam)",
        group=LR,
        check=_choice("linear", "sqrt"),
    )
    base_batch_size: int | None = setting(
        None,
        "the batch size at which --peak_lr was tuned (with --scale_lr)",
        group=LR,
        check=POSITIVE_INT,
    )
    rewarmup_steps: int | None = setting(
        None,
        "continue a finished (or stable-phase) run in --workdir with a fresh warmup of this "
        "many steps, from the learning rate it had to --rewarmup_peak_lr, then a decay until "
        "the new --steps; recorded with every later checkpoint (steps or a duration, as "
        "--warmup_steps)",
        group=LR,
        check=_length(1),
    )
    rewarmup_peak_lr: float | None = setting(
        None,
        "the new peak of --rewarmup_steps (default: --peak_lr)",
        group=LR,
        check=POSITIVE_FLOAT,
    )
    rewarmup_from: int | None = setting(
        None,
        "the step where the rewarmup starts (default: the newest checkpoint's step; steps or "
        "a duration, as --warmup_steps)",
        group=LR,
        check=_length(1),
    )
    no_lr_schedule: bool = setting(
        False,
        "no warmup and no decay: a constant --peak_lr from the first step (the baseline that "
        "shows what warmup is for)",
        group=LR,
    )
    weight_decay: float = setting(
        0.1,
        "AdamW's decoupled weight decay",
        group=OPTIMIZER,
        check=NON_NEGATIVE_FLOAT,
        resume=True,
    )
    b1: float = setting(
        0.9, "AdamW's first-moment decay rate", group=OPTIMIZER, check=BETA, resume=True
    )
    b2: float = setting(
        0.95, "AdamW's second-moment decay rate", group=OPTIMIZER, check=BETA, resume=True
    )
    lr_mult: dict = setting(
        {},
        "multiply the learning rate of the parameters whose path matches REGEX (re.search on "
        "paths like block_0/attn/query/kernel, embed/embedding) by FACTOR; repeat for several, "
        "the first match wins, e.g. --lr_mult '^embed/=0.1'; each group's LR is logged as "
        "train/learning_rate/REGEX",
        group=OPTIMIZER,
        check=_lr_mults,
        metavar="REGEX=FACTOR",
        repeat=True,
        resume=True,
    )
    freeze: list = setting(
        [],
        "no update at all for the parameters whose path matches REGEX (they stay bit-identical "
        "and get no optimizer state); repeat for several",
        group=OPTIMIZER,
        check=_regexes,
        metavar="REGEX",
        repeat=True,
        resume=True,
    )
    layer_decay: float | None = setting(
        None,
        "layer-wise LR decay as in BEiT and timm: block i gets FACTOR ** (num_layers - i) times "
        "the LR, the embeddings FACTOR ** (num_layers + 1), the final LayerNorm the full LR",
        group=OPTIMIZER,
        check=_number(0.0, 1.0, low_open=True),
        metavar="FACTOR",
        resume=True,
    )
    no_decay: str = setting(
        NO_DECAY_DEFAULT,
        "no weight decay for the parameters whose path matches this regular expression "
        "(default: biases and LayerNorms, as transformers' Trainer); 'none': decay every "
        "parameter",
        group=OPTIMIZER,
        check=_no_decay,
        metavar="REGEX",
        resume=True,
    )
    grad_clip: float = setting(
        1.0,
        "clip gradients to this global norm before AdamW",
        group=OPTIMIZER,
        check=POSITIVE_FLOAT,
        resume=True,
    )
    hyperparams: dict = setting(
        {},
        "put an AdamW hyperparameter (b1, b2, eps, weight_decay) on a schedule, evaluated in "
        "the compiled step from the step count; repeat for several, e.g. --hparam "
        "'b1=linear_warmup(peak_value=0.95, warmup_steps=50, init_value=0.85)' --hparam "
        "'weight_decay=cosine_decay(0.1, steps)' (expressions as for --schedule, with peak, "
        "steps, warmup_steps and decay_steps); logged every step as train/NAME",
        group=OPTIMIZER,
        check=_hyperparameters,
        flag="hparam",  # checked on resume by their schedules, as the learning rate's
        metavar="NAME=EXPR",
        repeat=True,
    )
    plateau: str | None = setting(
        None,
        "reduce the learning rate on a plateau of the validation loss, measured every "
        "--eval_every steps: 'patience=2,factor=0.5[,threshold=1e-4,threshold_mode=rel,"
        "cooldown=0,min_scale=0,mode=torch|keras|optax]' (mode: whose rule counts patience; "
        "torch reduces once the bad evaluations exceed patience, keras and optax once they "
        "reach it); a multiplier on the schedule, logged as train/plateau_scale",
        group=LR,
        check=_plateau,
        resume=True,
        metavar="SETTINGS",
    )
    log_every: int = setting(
        PRESET,
        "steps between reads of the metrics from the device (every step's values are still logged)",
        group=CADENCE,
        check=POSITIVE_INT,
    )
    eval_every: int = setting(
        PRESET,
        "steps between validation loss measurements (and always at the end)",
        group=CADENCE,
        check=POSITIVE_INT,
    )
    eval_batches: int = setting(
        PRESET,
        "validation batches averaged per measurement",
        group=CADENCE,
        check=POSITIVE_INT,
    )
    checkpoint_every: int = setting(
        PRESET,
        "steps between checkpoints (and always at the end)",
        group=CADENCE,
        check=POSITIVE_INT,
    )
    keep_checkpoints: int = setting(
        3, "how many of the newest checkpoints to keep", group=CADENCE, check=POSITIVE_INT
    )
    steps_per_call: int = setting(
        1,
        "optimizer steps per compiled call (lax.scan): fewer Python round trips; --steps and "
        "the intervals above must be multiples",
        group=CADENCE,
        check=POSITIVE_INT,
    )
    progress: bool = setting(
        True, "no progress bar", group=CADENCE, agree=False, flag="no_progress"
    )
    dataset: str | None = setting(
        None,
        "a TensorFlow Datasets text data set by name, e.g. tiny_shakespeare (downloaded and "
        "prepared on first use); default: the Python sources",
        group=DATA,
        check=_text,
        resume=True,
    )
    text_key: str | None = setting(
        None,
        "the feature of --dataset that holds the text (default: 'text', or its only text feature)",
        group=DATA,
        check=_text,
    )
    source_dir: str | None = setting(
        None,
        "train on the .py files under this folder instead of the standard library",
        group=DATA,
        check=_folder,
        agree=False,
    )
    data_dir: str | None = setting(
        None,
        "where prepared data sets are cached (default: ~/.cache/warmup_jax/tensorflow_datasets, "
        "shared by all runs)",
        group=DATA,
        check=_folder,
        agree=False,
    )
    wandb: bool = setting(False, "also log to Weights & Biases", group=WANDB, agree=False)
    wandb_project: str = setting(
        "warmup_jax", "the W&B project", group=WANDB, check=_text, agree=False
    )
    wandb_mode: str | None = setting(
        None,
        "'offline' writes the W&B run under the workdir for a later 'wandb sync' and needs no "
        "network (default: W&B's own, i.e. $WANDB_MODE or online)",
        group=WANDB,
        check=_choice("online", "offline"),
        agree=False,
    )

    durations: dict = setting(
        {},
        "the length settings given as durations, as given ({'warmup_steps': '10%'}): filled "
        "when the run resolves them to steps",
        group=RUN,
        flag=None,
    )

    clock_batch_size: int | None = setting(
        None,
        "the batch size a schedule given in tokens was resolved at (the first run's); the "
        "learning rate is then the schedule at examples_seen // clock_batch_size, so "
        "--batch_size may change on a resume (train/token_clock.py). None: the schedule counts "
        "optimizer steps",
        group=RUN,
        flag=None,
        resume=True,
    )

    @property
    def lengths_resolved(self) -> bool:
        """Whether every length setting is in steps (no duration left to resolve)."""
        return not any(isinstance(getattr(self, name), str) for name in LENGTHS)

    @property
    def num_warmup_steps(self) -> int:
        """``--warmup_steps`` if given, else ``ceil(warmup_ratio * steps)`` as transformers does."""
        if self.warmup_steps is not None:
            return self.warmup_steps
        return math.ceil(self.warmup_ratio * self.steps)

    @property
    def effective_peak_lr(self) -> float:
        """``peak_lr``, scaled to the batch size when ``--scale_lr`` asks for it."""
        if self.scale_lr is None:
            return self.peak_lr
        import warmup_jax  # noqa: PLC0415  (config.py stays import-light for the CLI)

        return warmup_jax.scale_peak_lr(
            self.peak_lr, self.batch_size, self.base_batch_size, self.scale_lr
        )

    @property
    def tokens_per_step(self) -> int:
        """Predicted tokens per optimizer step."""
        return self.batch_size * self.seq_len

    def validate(self) -> None:
        """Raises ``ConfigError``, naming the flag, for settings that cannot make a run."""
        for field in dataclasses.fields(self):
            check = field.metadata.get("check")
            value = getattr(self, field.name)
            if check is not None and value is not None:
                try:
                    check(value)
                except ValueError as error:
                    flag = field.metadata["flag"] or field.name
                    raise ConfigError(f"--{flag} {error}") from None
        if not self.lengths_resolved or self.peak_lr == AUTO:  # checked again once known
            return
        if self.num_warmup_steps > self.steps:
            raise ConfigError(
                f"the warmup ({self.num_warmup_steps} steps) is longer than the run "
                f"(--steps {self.steps}): give --warmup_steps at most {self.steps}, or a "
                "--warmup_ratio below 1"
            )
        if (self.scale_lr is None) != (self.base_batch_size is None):
            raise ConfigError(
                "--scale_lr and --base_batch_size go together: the rule scales --peak_lr from "
                "the batch size it was tuned at (--base_batch_size) to --batch_size"
            )
        if self.rewarmup_steps is None and (
            self.rewarmup_peak_lr is not None or self.rewarmup_from is not None
        ):
            raise ConfigError("--rewarmup_peak_lr and --rewarmup_from need --rewarmup_steps")
        if self.text_key is not None and self.dataset is None:
            raise ConfigError(
                "--text_key names a feature of --dataset, but no --dataset is given (the "
                "default data, the Python sources, has no features to choose)"
            )
        if self.dataset is not None and self.source_dir is not None:
            raise ConfigError("--source_dir is for the Python sources; leave it out with --dataset")
        k = self.steps_per_call
        for name in ("steps", "log_every", "eval_every", "checkpoint_every", "stop_after"):
            value = getattr(self, name)
            if value is not None and value % k:
                raise ConfigError(
                    f"--{name} ({value}) must be a multiple of --steps_per_call ({k}): "
                    "metrics, evaluations and checkpoints happen between calls"
                )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (stored in checkpoints and summary.json)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunConfig:
        """The inverse of ``to_dict``; reads 0.1.0's ``warmup`` as today's ``warmup_type``.

        Raises ``ConfigError`` for a dict that is not one (a hand-edited or damaged file).
        """
        if not isinstance(d, Mapping):
            raise ConfigError(f"a run config must be a JSON object, got {type(d).__name__}")
        d = dict(d)
        if "warmup" in d and "warmup_type" not in d:
            d["warmup_type"] = d.pop("warmup")
        try:
            d["model"] = ModelConfig(**d["model"])
            return cls(**d)
        except (KeyError, TypeError) as error:
            raise ConfigError(f"not a run config: {error}") from None


def _fields() -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(RunConfig)


# A resumed run must keep these (the schedule is checked separately, by its to_config()).
RESUME_KEYS = tuple(f.name for f in _fields() if f.metadata["resume"])
# Settings that may differ between processes: where files are, and what only process 0 does.
MAY_DIFFER = tuple(f.name for f in _fields() if not f.metadata["agree"])

PRESETS: dict[str, dict[str, Any]] = {
    # For tests: a step takes a few milliseconds on one CPU core.
    "tiny": dict(
        model=ModelConfig(d_model=32, num_layers=1, num_heads=2, mlp_dim=64),
        steps=40,
        batch_size=4,
        seq_len=32,
        peak_lr=3e-3,
        log_every=5,
        eval_every=20,
        eval_batches=2,
        checkpoint_every=20,
    ),
    # The README's default run: about 2 minutes on a 2-core CPU, validation loss 5.5 -> ~1.6.
    "small": dict(
        model=ModelConfig(d_model=192, num_layers=3, num_heads=4, mlp_dim=768),
        steps=1000,
        batch_size=16,
        seq_len=128,
        peak_lr=3e-3,
        log_every=10,
        eval_every=100,
        eval_batches=8,
        checkpoint_every=250,
    ),
}


def make_config(preset: str, workdir: str, **overrides: Any) -> RunConfig:
    """A ``RunConfig`` from a preset, with ``overrides`` (None values keep the preset's) on top."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    values = dict(PRESETS[preset])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return RunConfig(workdir=workdir, preset=preset, **values)


# -- the command line, generated from the fields ----------------------------------------------


def _value_type(field: dataclasses.Field) -> Any:
    """``int`` for ``int | None`` and so on (the annotation without its ``None``)."""
    hint = typing.get_type_hints(RunConfig)[field.name]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return typing.get_origin(hint) or hint


def _parser_of(field: dataclasses.Field) -> Callable[[str], Any]:
    """The argparse ``type`` of a field: text -> value, checked, or ``ArgumentTypeError``."""
    kind = _value_type(field)
    check = field.metadata["check"]

    def parse(text: str) -> Any:
        try:
            if getattr(check, "takes_text", False):
                value: Any = text
            elif kind is int:
                value = int(text)
            elif kind is float:
                value = float(text)
            elif kind is dict:
                value = json.loads(text)
            else:
                value = text
        except RecursionError:
            raise argparse.ArgumentTypeError("not valid JSON: nested too deeply") from None
        except ValueError as error:
            if kind is dict:
                raise argparse.ArgumentTypeError(
                    f"not valid JSON ({error}): {text[:80]!r}"
                ) from None
            noun = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text[:80]!r}") from None
        if check is not None:
            try:
                value = check(value)
            except ValueError as error:
                raise argparse.ArgumentTypeError(str(error)) from None
        return value

    parse.__name__ = field.name  # argparse names the type in some messages
    return parse


def _repeated_parser(field: dataclasses.Field) -> Callable[[str], Any]:
    """The argparse ``type`` of one occurrence of a repeatable flag: text -> ``(key, value)``."""
    single = {"hyperparams": _hyperparameter, "lr_mult": _lr_mult, "freeze": _regex}[field.name]

    def parse(text: str) -> Any:
        try:
            return single(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = field.name
    return parse


def _default_text(field: dataclasses.Field) -> str:
    if field.default is PRESET:
        return "default: " + ", ".join(
            f"{name} {_show(values[field.name])}"
            for name, values in sorted(PRESETS.items())
            if field.name in values
        )
    default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
    return f"default: {_show(default)}"


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def add_flags(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """Adds one flag per ``RunConfig`` setting to ``parser``, in groups, with their help;
    returns the groups by title (``"run"``, ``"learning rate"``, ...)."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    exclusive: dict[str, argparse._MutuallyExclusiveGroup] = {}
    for field in _fields():
        meta = field.metadata
        if meta["flag"] is None:
            continue
        if meta["group"] not in groups:
            groups[meta["group"]] = parser.add_argument_group(meta["group"])
        group: Any = groups[meta["group"]]
        if meta["exclusive"]:
            if meta["exclusive"] not in exclusive:
                exclusive[meta["exclusive"]] = group.add_mutually_exclusive_group()
            group = exclusive[meta["exclusive"]]
        name = "--" + (meta["flag"] or field.name)
        help_text = meta["help"].replace("%", "%%") if "%%" not in meta["help"] else meta["help"]
        if _value_type(field) is bool:
            # A flag switches the default off or on: --no_progress, --wandb.
            action = "store_false" if field.default else "store_true"
            group.add_argument(name, dest=field.name, action=action, default=None, help=help_text)
            continue
        if meta["repeat"]:
            group.add_argument(
                name,
                dest=field.name,
                type=_repeated_parser(field),
                action="append",
                default=None,
                metavar=meta["metavar"],
                help=help_text,
            )
            continue
        check = meta["check"]
        choices = getattr(check, "choices", None)
        if field.default is not None and "(default" not in help_text:
            help_text += f" ({_default_text(field)})"
        group.add_argument(
            name,
            dest=field.name,
            type=_parser_of(field),
            default=None,
            metavar=meta["metavar"] or (None if choices else field.name.upper()),
            choices=choices,
            help=help_text,
        )
    return groups


def from_flags(args: argparse.Namespace) -> RunConfig:
    """The ``RunConfig`` the parsed flags describe: the preset's values, the flags on top."""
    values = {
        f.name: getattr(args, f.name)
        for f in _fields()
        if f.metadata["flag"] is not None and f.name not in ("preset", "workdir")
    }
    for f in _fields():
        if f.metadata["repeat"] and values.get(f.name) is not None:
            given = values[f.name]  # (key, value) pairs for a dict, or the values of a list
            listed = not isinstance(f.default_factory(), dict)  # type: ignore[misc]
            seen = given if listed else [key for key, _ in given]
            twice = sorted({key for key in seen if seen.count(key) > 1})
            if twice:
                raise ConfigError(
                    f"--{f.metadata['flag'] or f.name} gives {', '.join(twice)} more than once"
                )
            values[f.name] = list(given) if listed else dict(given)
    preset = args.preset or "small"
    workdir = args.workdir if args.workdir is not None else f"runs/{preset}"
    return make_config(preset, workdir, **values)


# Units of a duration that measure data: with --steps in one of them the schedule can follow the
# tokens seen (``schedule_in_tokens``).
DATA_UNITS = ("tok", "ex", "ep")


def given_lengths(config: RunConfig) -> dict[str, str]:
    """The length settings given as durations, as given: ``{"warmup_steps": "10%"}``."""
    strings = {name: getattr(config, name) for name in LENGTHS}
    return {**config.durations, **{k: v for k, v in strings.items() if isinstance(v, str)}}


def schedule_in_tokens(config: RunConfig) -> str | None:
    """None when the run's learning rate can follow the tokens seen (``train/token_clock.py``),
    so that a resume may change ``--batch_size``; else why not, as a phrase.

    That needs ``--steps`` in tokens, examples or epochs, and every other length of the schedule
    a duration of data or a share of the run (``--warmup_steps 10%``, ``--warmup_ratio``):
    nothing counted in optimizer steps.
    """
    from warmup_jax.durations import parse_duration  # noqa: PLC0415
    from warmup_jax.expressions import looks_like_expression  # noqa: PLC0415

    given = given_lengths(config)
    if "steps" not in given or parse_duration(given["steps"]).unit not in DATA_UNITS:
        return "--steps counts optimizer steps (give it in tokens: --steps 2e6tok)"
    warmup = given.get("warmup_steps")
    if (warmup is None and config.warmup_steps) or (
        warmup is not None and parse_duration(warmup).unit == "st"
    ):
        return "--warmup_steps counts optimizer steps (give it in tokens or as a share: 10%)"
    if config.rewarmup_steps is not None:
        return "--rewarmup_steps starts at a checkpoint's step"
    if config.hyperparams or config.schedule == "one_cycle":
        return "the schedules of --hparam (and one_cycle's b1) count optimizer steps"
    if looks_like_expression(config.schedule):
        return "a schedule expression's lengths are in optimizer steps"
    in_steps = sorted(k for k in config.schedule_kwargs if k.endswith("_steps"))
    if in_steps:
        return f"--schedule_kwargs {', '.join(in_steps)} counts optimizer steps"
    return None


def resolve_lengths(config: RunConfig, train_tokens: int | None) -> RunConfig:
    """``config`` with every length setting in steps, and the durations as given in
    ``durations`` (``{"warmup_steps": "10%"}``).

    Against ``warmup_jax.TrainingLength``: ``steps`` first (its total), steps per epoch =
    ``train_tokens`` (the training split's size) / tokens per step, tokens and examples per step
    from the batch. ``train_tokens`` None: only durations without epochs can be resolved.
    Resolving again (another batch, the data known) starts from the durations as given.
    When the schedule is in tokens (``schedule_in_tokens``) the batch is ``clock_batch_size``,
    set to ``batch_size`` on a fresh run and kept from the checkpoint on a resume, so the
    schedule's steps stay those of the first run whatever the batch is now.
    Raises ``ConfigError`` naming the flag when one cannot be.
    """
    from fractions import Fraction  # noqa: PLC0415

    import warmup_jax  # noqa: PLC0415

    values = {name: getattr(config, name) for name in LENGTHS}
    given = given_lengths(config)
    if not given or (train_tokens is None and any(v.endswith("ep") for v in given.values())):
        return config  # nothing to do, or epochs: resolved once the data is known
    clock = config.clock_batch_size
    if clock is None and schedule_in_tokens(config) is None:
        clock = config.batch_size
    batch = clock or config.batch_size  # the batch the durations are measured at
    tokens_per_step = batch * config.seq_len
    per_epoch = None if train_tokens is None else Fraction(train_tokens, tokens_per_step)
    length = warmup_jax.TrainingLength(
        steps_per_epoch=per_epoch,
        tokens_per_step=tokens_per_step,
        examples_per_step=batch,
    )
    try:
        for name in LENGTHS:
            if name in given:
                values[name] = warmup_jax.to_steps(given[name], length, name=f"--{name}")
            if name == "steps":
                length = dataclasses.replace(length, total_steps=values["steps"])
    except ValueError as error:
        raise ConfigError(str(error)) from None
    if clock is not None and values["steps"] * clock >= 2**31:
        raise ConfigError(
            f"--steps {given['steps']} is {values['steps'] * clock} sequences, more than the "
            "int32 count of sequences seen can hold (2**31 - 1)"
        )
    return dataclasses.replace(config, **values, durations=given, clock_batch_size=clock)

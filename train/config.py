"""The run's settings: one ``RunConfig`` dataclass, and the ``tiny`` and ``small`` presets."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

VOCAB_SIZE = 256  # Bytes.


class ConfigError(ValueError):
    """A setting that cannot make a run; its message tells the user what to change.

    ``python -m train`` prints it and exits with status 2, as for a bad flag.
    """


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Shape of the byte-level decoder-only transformer."""

    d_model: int
    num_layers: int
    num_heads: int
    mlp_dim: int
    vocab_size: int = VOCAB_SIZE


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything one training run depends on. ``python -m train`` builds it from its flags.

    Build it with ``make_config(preset, workdir, **overrides)``.
    """

    workdir: str
    preset: str
    # Set by the preset (see PRESETS), each overridable by its flag.
    model: ModelConfig
    steps: int
    batch_size: int
    seq_len: int
    peak_lr: float
    log_every: int
    eval_every: int
    eval_batches: int
    checkpoint_every: int
    seed: int = 0
    # Learning rate schedule (warmup_jax.schedule_by_name).
    schedule: str = "cosine"
    schedule_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    warmup_type: str = "linear"
    warmup_steps: int | None = None
    warmup_ratio: float = 0.1
    no_lr_schedule: bool = False
    warmup_one_step_ahead: bool = False
    # Peak scaling with the batch size (warmup_jax.scale_peak_lr): "linear" or "sqrt".
    scale_lr: str | None = None
    base_batch_size: int | None = None
    # Continuing a finished or stable-phase run with a fresh warmup (warmup_jax.rewarmup).
    rewarmup_steps: int | None = None
    rewarmup_peak_lr: float | None = None
    rewarmup_from: int | None = None
    # Optimizer (optax.adamw after global-norm clipping).
    weight_decay: float = 0.1
    b1: float = 0.9
    b2: float = 0.95
    grad_clip: float = 1.0
    # Cadence.
    steps_per_call: int = 1
    keep_checkpoints: int = 3
    stop_after: int | None = None
    # Data.
    dataset: str | None = None
    data_dir: str | None = None
    source_dir: str | None = None
    text_key: str | None = None
    # Weights & Biases.
    wandb: bool = False
    wandb_project: str = "warmup_jax"
    wandb_mode: str | None = None
    progress: bool = True

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
        for name in (
            "steps",
            "batch_size",
            "seq_len",
            "steps_per_call",
            "log_every",
            "eval_every",
            "eval_batches",
            "checkpoint_every",
            "keep_checkpoints",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if self.seed < 0:
            raise ConfigError(f"--seed must be 0 or more, got {self.seed}")
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
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        """The inverse of ``to_dict``; reads 0.1.0's ``warmup`` as today's ``warmup_type``."""
        d = dict(d)
        if "warmup" in d and "warmup_type" not in d:
            d["warmup_type"] = d.pop("warmup")
        d["model"] = ModelConfig(**d["model"])
        return cls(**d)


# Fields that change what the model computes from step to step: a resumed run must keep them.
# The schedule is checked separately (by its to_config()), so it can say exactly what changed.
RESUME_KEYS = (
    "model",
    "batch_size",
    "seq_len",
    "seed",
    "weight_decay",
    "b1",
    "b2",
    "grad_clip",
    "dataset",
)

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

"""warmup_jax: exact, jittable, serializable learning-rate warmup and decay schedules for JAX.

Every constructor returns a :class:`Schedule`, an ``optax.Schedule`` (``step -> value``) that runs
inside ``jit``/``vmap``/``scan``, knows where it ends (``end_step``), pickles, and saves itself as
JSON with ``to_config()``:

>>> import optax, warmup_jax
>>> schedule = warmup_jax.cosine_schedule_with_warmup(3e-4, num_warmup_steps=100, num_training_steps=1000)
>>> optimizer = optax.adamw(learning_rate=schedule)
>>> warmup_jax.from_config(schedule.to_config()) == schedule
True

The native functions use optax's argument names and order (``init_value``, ``peak_value``,
``end_value``, ``warmup_steps``, ``decay_steps``, ``transition_steps``, ``decay_rate``, ...); a
warmup's shape is ``warmup_type`` and a decay's ``decay_type`` wherever there is a choice. The
transformers family keeps transformers' names (``num_warmup_steps``, ``num_training_steps``, ...).
"""

from importlib import metadata as _metadata

from warmup_jax._pieces import DECAY_TYPES, WARMUP_TYPES
from warmup_jax._schedule import MAX_DEPTH, Schedule, from_config, registered_names
from warmup_jax.compose import join, multiply, tri_stage, warmup_stable_decay, with_warmup
from warmup_jax.cycles import CYCLE_DECAY_TYPES, cosine_decay_restarts, cyclic_schedule, rewarmup
from warmup_jax.decays import (
    constant,
    cosine_decay,
    exponential_decay,
    inverse_sqrt_decay,
    inverse_time_decay,
    linear_decay,
    noam_schedule,
    one_minus_sqrt_decay,
    piecewise_constant,
    polynomial_decay,
)
from warmup_jax.durations import TrainingLength, to_steps, training_length
from warmup_jax.expressions import parse
from warmup_jax.groups import LayerDecay, ParamGroups, Rule, decay_mask
from warmup_jax.hf import (
    SCHEDULE_NAMES,
    WSD_DECAY_TYPES,
    WSD_WARMUP_TYPES,
    constant_schedule,
    constant_schedule_with_warmup,
    cosine_schedule_with_warmup,
    cosine_with_hard_restarts_schedule_with_warmup,
    cosine_with_min_lr_schedule_with_warmup,
    inverse_sqrt_schedule,
    linear_schedule_with_warmup,
    polynomial_decay_schedule_with_warmup,
    schedule_by_name,
    wsd_schedule,
)
from warmup_jax.hyperparams import (
    HyperparamSchedules,
    ScheduledHyperparamsState,
    hyperparam_schedules,
    hyperparams_at,
    scheduled,
)
from warmup_jax.onecycle import (
    INTERPOLATE_TYPES,
    cosine_onecycle,
    linear_onecycle,
    piecewise_interpolate,
)
from warmup_jax.plateau import (
    PlateauSettings,
    PlateauState,
    plateau_init,
    plateau_scale,
    plateau_update,
    scale_by_plateau,
    update_plateau,
)
from warmup_jax.scaling import SCALING_RULES, scale_peak_lr
from warmup_jax.torch_family import (
    ANNEAL_STRATEGIES,
    CYCLIC_MODES,
    chained_scheduler,
    constant_lr,
    cosine_annealing_lr,
    cosine_annealing_warm_restarts,
    cyclic_lr,
    cyclic_momentum,
    exponential_lr,
    linear_lr,
    multi_step_lr,
    one_cycle_lr,
    one_cycle_momentum,
    polynomial_lr,
    sequential_lr,
    step_lr,
)
from warmup_jax.warmups import (
    exponential_warmup,
    from_epochs,
    linear_warmup,
    log_warmup,
    radam_warmup,
    untuned_exponential_warmup,
    untuned_linear_warmup,
    warmup,
)

try:
    __version__ = _metadata.version("warmup_jax")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "ANNEAL_STRATEGIES",
    "CYCLE_DECAY_TYPES",
    "CYCLIC_MODES",
    "DECAY_TYPES",
    "INTERPOLATE_TYPES",
    "MAX_DEPTH",
    "SCALING_RULES",
    "SCHEDULE_NAMES",
    "WARMUP_TYPES",
    "WSD_DECAY_TYPES",
    "WSD_WARMUP_TYPES",
    "HyperparamSchedules",
    "LayerDecay",
    "ParamGroups",
    "PlateauSettings",
    "PlateauState",
    "Rule",
    "Schedule",
    "ScheduledHyperparamsState",
    "TrainingLength",
    "chained_scheduler",
    "constant",
    "constant_lr",
    "constant_schedule",
    "constant_schedule_with_warmup",
    "cosine_annealing_lr",
    "cosine_annealing_warm_restarts",
    "cosine_decay",
    "cosine_decay_restarts",
    "cosine_onecycle",
    "cosine_schedule_with_warmup",
    "cosine_with_hard_restarts_schedule_with_warmup",
    "cosine_with_min_lr_schedule_with_warmup",
    "cyclic_lr",
    "cyclic_momentum",
    "cyclic_schedule",
    "decay_mask",
    "exponential_decay",
    "exponential_lr",
    "exponential_warmup",
    "from_config",
    "from_epochs",
    "hyperparam_schedules",
    "hyperparams_at",
    "inverse_sqrt_decay",
    "inverse_sqrt_schedule",
    "inverse_time_decay",
    "join",
    "linear_decay",
    "linear_lr",
    "linear_onecycle",
    "linear_schedule_with_warmup",
    "linear_warmup",
    "log_warmup",
    "multi_step_lr",
    "multiply",
    "noam_schedule",
    "one_cycle_lr",
    "one_cycle_momentum",
    "one_minus_sqrt_decay",
    "parse",
    "piecewise_constant",
    "piecewise_interpolate",
    "plateau_init",
    "plateau_scale",
    "plateau_update",
    "polynomial_decay",
    "polynomial_decay_schedule_with_warmup",
    "polynomial_lr",
    "radam_warmup",
    "registered_names",
    "rewarmup",
    "scale_by_plateau",
    "scale_peak_lr",
    "schedule_by_name",
    "scheduled",
    "sequential_lr",
    "step_lr",
    "to_steps",
    "training_length",
    "tri_stage",
    "untuned_exponential_warmup",
    "untuned_linear_warmup",
    "update_plateau",
    "warmup",
    "warmup_stable_decay",
    "with_warmup",
    "wsd_schedule",
]

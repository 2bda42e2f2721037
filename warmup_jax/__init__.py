"""warmup_jax: exact, jittable, serializable learning-rate warmup and decay schedules for JAX.

Every constructor returns a :class:`Schedule`, an ``optax.Schedule`` (``step -> lr``) that runs
inside ``jit``/``vmap``/``scan`` and saves itself as JSON with ``to_config()``:

>>> import optax, warmup_jax
>>> schedule = warmup_jax.cosine_schedule_with_warmup(3e-4, num_warmup_steps=100, num_training_steps=1000)
>>> optimizer = optax.adamw(learning_rate=schedule)
>>> warmup_jax.from_config(schedule.to_config()) == schedule
True
"""

from warmup_jax._schedule import Schedule, from_config, registered_names
from warmup_jax.cycles import cyclic_schedule, rewarmup
from warmup_jax.expressions import parse
from warmup_jax.scaling import SCALING_RULES, scale_peak_lr
from warmup_jax.compose import join, multiply, warmup_stable_decay, with_warmup
from warmup_jax.decays import (
    DECAY_SHAPES,
    constant,
    cosine_decay,
    exponential_decay,
    inverse_sqrt_decay,
    linear_decay,
    one_minus_sqrt_decay,
    piecewise_constant,
    polynomial_decay,
    step_decay,
)
from warmup_jax.hf import (
    SCHEDULE_NAMES,
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
from warmup_jax.warmups import (
    STRATEGIES,
    exponential_warmup,
    from_epochs,
    linear_warmup,
    radam_warmup,
    untuned_exponential_warmup,
    untuned_linear_warmup,
    warmup,
)

__version__ = "0.1.0"

__all__ = [
    "DECAY_SHAPES",
    "SCALING_RULES",
    "SCHEDULE_NAMES",
    "STRATEGIES",
    "Schedule",
    "constant",
    "constant_schedule",
    "constant_schedule_with_warmup",
    "cosine_decay",
    "cosine_schedule_with_warmup",
    "cosine_with_hard_restarts_schedule_with_warmup",
    "cosine_with_min_lr_schedule_with_warmup",
    "cyclic_schedule",
    "exponential_decay",
    "exponential_warmup",
    "from_config",
    "from_epochs",
    "inverse_sqrt_decay",
    "inverse_sqrt_schedule",
    "join",
    "linear_decay",
    "linear_schedule_with_warmup",
    "linear_warmup",
    "multiply",
    "one_minus_sqrt_decay",
    "parse",
    "piecewise_constant",
    "polynomial_decay",
    "polynomial_decay_schedule_with_warmup",
    "radam_warmup",
    "registered_names",
    "rewarmup",
    "scale_peak_lr",
    "schedule_by_name",
    "step_decay",
    "untuned_exponential_warmup",
    "untuned_linear_warmup",
    "warmup",
    "warmup_stable_decay",
    "with_warmup",
    "wsd_schedule",
]

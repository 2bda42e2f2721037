"""warmup_jax against transcriptions of the upstream code it promises to reproduce.

``reference.py`` (next to this file) holds float64 copies of transformers' ``lr_lambda``s and of
pytorch_warmup's warmup factors. Here every warmup_jax schedule is evaluated on whole arrays of
steps and compared with ``peak_value * lambda(step)``:

* small settings at every step from 0 to the end of the schedule and some way past it;
* large settings at sampled steps: 0, 1, the warmup boundary +-1, the end +-1, a spread of steps in
  between, and up to 2**31 - 1 (the int32 step counter's maximum) where the upstream formula is
  still meaningful in float32 there (a cosine far past its end is not: its phase runs into the
  hundreds of millions of radians).

Exactness promises that need no reference (the value at ``num_training_steps`` and at the end of
warmup) are checked bit for bit, both eagerly and under ``jax.jit``.
"""

from __future__ import annotations

import importlib.util
import math
import pathlib
import sys
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import warmup_jax
from tests.warmup_jax.conftest import x64


def _load_reference():
    # Loaded by path under a distinct name: tests/warmup_jax has no __init__.py (a package named
    # warmup_jax there would shadow the library), and a bare "import reference" could collide
    # with another test directory's module of that name.
    name = "_warmup_jax_test_reference"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, pathlib.Path(__file__).with_name("reference.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ref = _load_reference()

MAX_STEP = 2**31 - 1

# Tolerances. The library computes in float32, the reference in float64 (as LambdaLR does).
# * RTOL = 2e-6 is about 17 float32 ulps (2**-23 = 1.19e-7): a formula of a handful of correctly
#   rounded float32 operations (an int->float conversion, a division, a cos/sqrt/exp, the final
#   multiply by peak) accumulates a few ulps; 2e-6 leaves room for that and nothing more. A float32
#   implementation that cancels badly (e.g. RAdam's rho computed as r_inf - 2t b2^t/(1-b2^t)) is
#   off by 1e-4..1e-3 and fails.
# * ATOL = ATOL_REL * peak_value with ATOL_REL = 1e-6: values that are a tiny fraction of the peak
#   come out of formulas whose intermediate quantities are of order 1 (1 + cos(x) near x = pi,
#   1 - p near p = 1, max(0, (T - s) / (T - W)) after rounding T to float32 at T ~ 2**31), so their
#   error is a few float32 ulps *of the peak*, not of the value. 1e-6 * peak is ~8 ulps of peak.
# * For cosines the phase x = 2 pi c p carries a relative error of a few ulps, i.e. an absolute
#   error growing with x; the absolute tolerance is scaled by max(1, 2 c p_max) (1 for the
#   default half cosine over [0, 1]).
RTOL = 2e-6
ATOL_REL = 1e-6


# ------------------------------------------------------------------------------------------------
# Evaluation helpers
# ------------------------------------------------------------------------------------------------


def _bucket(n: int) -> int:
    return max(1024, 1 << (n - 1).bit_length())


def lib_values(schedule, steps, *, jit: bool = False) -> np.ndarray:
    """The schedule on an int32 array of ``steps`` (padded to a power-of-two length so that eager
    evaluation reuses the per-primitive compilations across tests)."""
    steps = np.asarray(steps, dtype=np.int64)
    assert steps.ndim == 1 and steps.size and steps.min() >= 0 and steps.max() <= MAX_STEP
    padded = np.zeros(_bucket(steps.size), dtype=np.int32)
    padded[: steps.size] = steps
    fn = jax.jit(schedule) if jit else schedule
    out = np.asarray(fn(jnp.asarray(padded)))
    assert out.dtype == (np.float64 if jax.config.jax_enable_x64 else np.float32), out.dtype
    return out[: steps.size]


def ref_values(peak_value: float, factor, steps) -> np.ndarray:
    return np.asarray(ref.values(peak_value, factor, steps), dtype=np.float64)


def assert_matches(
    got, expected, steps, *, peak_value: float, atol_scale: float = 1.0, what: str = ""
):
    atol = ATOL_REL * peak_value * atol_scale
    got = np.asarray(got, dtype=np.float64)
    bad = ~np.isclose(got, expected, rtol=RTOL, atol=atol)
    if bad.any():
        steps = np.asarray(steps)
        rows = [
            f"  step {int(s)}: expected {e!r}, got {g!r} (rel err {abs(g - e) / max(abs(e), 1e-300):.3g})"
            for s, e, g in zip(steps[bad][:12], expected[bad][:12], got[bad][:12])
        ]
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} steps differ beyond rtol={RTOL}, atol={atol:.3g}:\n"
            + "\n".join(rows)
        )
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=atol)


def sampled_steps(
    marks, *, upto: int, seed: int = 0, n_random: int = 48, n_log: int = 24
) -> np.ndarray:
    """Steps 0, 1, each mark +-1 and +-10**k, random and log-spaced steps up to ``upto``, and ``upto``."""
    rng = np.random.default_rng(seed)
    steps = {0, 1, 2, upto, max(upto - 1, 0)}
    for mark in marks:
        steps.update({mark - 2, mark - 1, mark, mark + 1, mark + 2})
        # where a float32 formula of progress cancels, the error shows a few decades from a mark
        steps.update(mark + sign * 10**k for k in range(1, 7) for sign in (-1, 1))
    steps.update(int(x) for x in rng.integers(0, upto + 1, size=n_random))
    steps.update(int(x) for x in np.geomspace(1, max(upto, 2), n_log))
    return np.array(sorted(s for s in steps if 0 <= s <= min(upto, MAX_STEP)), dtype=np.int64)


def dense_steps(end: int) -> np.ndarray:
    """Every step from 0 to ``end``, then as far again past it (at least 8 more)."""
    return np.arange(0, end + max(8, end // 2 + 1) + 1, dtype=np.int64)


# ------------------------------------------------------------------------------------------------
# transformers schedules: settings
# ------------------------------------------------------------------------------------------------

# api name -> (reference get_* function, whether it takes peak_value like optimizer.defaults["lr"])
HF = {
    "constant_schedule": (ref.get_constant_schedule, False),
    "constant_schedule_with_warmup": (ref.get_constant_schedule_with_warmup, False),
    "linear_schedule_with_warmup": (ref.get_linear_schedule_with_warmup, False),
    "cosine_schedule_with_warmup": (ref.get_cosine_schedule_with_warmup, False),
    "cosine_with_hard_restarts_schedule_with_warmup": (
        ref.get_cosine_with_hard_restarts_schedule_with_warmup,
        False,
    ),
    "polynomial_decay_schedule_with_warmup": (ref.get_polynomial_decay_schedule_with_warmup, True),
    "inverse_sqrt_schedule": (ref.get_inverse_sqrt_schedule, False),
    "cosine_with_min_lr_schedule_with_warmup": (
        ref.get_cosine_with_min_lr_schedule_with_warmup,
        True,
    ),
    "wsd_schedule": (ref.get_wsd_schedule, False),
}


def make_pair(name: str, peak_value: float, kwargs: dict):
    """(warmup_jax schedule, reference lambda) built from the same arguments."""
    factory, takes_peak = HF[name]
    schedule = getattr(warmup_jax, name)(peak_value, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        factor = factory(peak_value, **kwargs) if takes_peak else factory(**kwargs)
    return schedule, factor


def schedule_end(name: str, kwargs: dict) -> int:
    """The step where the schedule's last phase ends (a horizon for open-ended ones)."""
    if name == "wsd_schedule":
        nws, nds = kwargs["num_warmup_steps"], kwargs["num_decay_steps"]
        nss = kwargs.get("num_stable_steps")
        if nss is None:
            nss = kwargs["num_training_steps"] - nws - nds
        return nws + nss + nds
    if "num_training_steps" in kwargs:
        return kwargs["num_training_steps"]
    if name == "inverse_sqrt_schedule":
        return max(4 * kwargs["num_warmup_steps"], 64)
    return max(2 * kwargs.get("num_warmup_steps", 0), 32)


def cosine_phase_scale(name: str, kwargs: dict, max_step: int) -> float:
    """max(1, 2 c p_max): how far the cosine phase runs, in half turns (see ATOL_REL)."""
    if name in ("cosine_schedule_with_warmup", "cosine_with_min_lr_schedule_with_warmup"):
        nws, nts = kwargs["num_warmup_steps"], kwargs["num_training_steps"]
        p_max = max(0, max_step - nws) / max(1, nts - nws)
        return max(1.0, 2.0 * kwargs.get("num_cycles", 0.5) * p_max)
    if name == "cosine_with_hard_restarts_schedule_with_warmup":
        return max(1.0, float(kwargs.get("num_cycles", 1)))
    if name == "wsd_schedule" and kwargs.get("decay_type", "cosine") == "cosine":
        return max(1.0, 2.0 * kwargs.get("num_cycles", 0.5))
    return 1.0


def hf_id(case) -> str:
    name, peak, kwargs = case
    short = name.replace("_schedule_with_warmup", "").replace("_schedule", "")
    return f"{short}-{peak:g}-" + "-".join(
        f"{k.replace('num_', '')}={v}" for k, v in kwargs.items()
    )


# (api name, peak_value, kwargs): small enough to check every step.
SMALL_CASES = [
    ("constant_schedule", 1e-3, {}),
    ("constant_schedule", 0.7, {}),
    ("constant_schedule_with_warmup", 1e-3, dict(num_warmup_steps=0)),
    ("constant_schedule_with_warmup", 1e-3, dict(num_warmup_steps=1)),
    ("constant_schedule_with_warmup", 3e-4, dict(num_warmup_steps=7)),
    ("constant_schedule_with_warmup", 1.0, dict(num_warmup_steps=100)),
    ("linear_schedule_with_warmup", 1e-3, dict(num_warmup_steps=0, num_training_steps=1)),
    ("linear_schedule_with_warmup", 1e-3, dict(num_warmup_steps=0, num_training_steps=10)),
    ("linear_schedule_with_warmup", 1e-3, dict(num_warmup_steps=1, num_training_steps=1)),
    ("linear_schedule_with_warmup", 1e-3, dict(num_warmup_steps=1, num_training_steps=2)),
    ("linear_schedule_with_warmup", 5e-5, dict(num_warmup_steps=3, num_training_steps=10)),
    ("linear_schedule_with_warmup", 1.0, dict(num_warmup_steps=10, num_training_steps=10)),
    ("linear_schedule_with_warmup", 2e-5, dict(num_warmup_steps=7, num_training_steps=100)),
    ("linear_schedule_with_warmup", 6e-4, dict(num_warmup_steps=100, num_training_steps=1000)),
    ("cosine_schedule_with_warmup", 1e-3, dict(num_warmup_steps=0, num_training_steps=10)),
    ("cosine_schedule_with_warmup", 5e-5, dict(num_warmup_steps=3, num_training_steps=10)),
    ("cosine_schedule_with_warmup", 1.0, dict(num_warmup_steps=5, num_training_steps=5)),
    ("cosine_schedule_with_warmup", 3e-4, dict(num_warmup_steps=10, num_training_steps=100)),
    ("cosine_schedule_with_warmup", 3e-4, dict(num_warmup_steps=100, num_training_steps=1000)),
    (
        "cosine_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100, num_cycles=0.25),
    ),
    (
        "cosine_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100, num_cycles=1.0),
    ),
    (
        "cosine_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100, num_cycles=1.5),
    ),
    (
        "cosine_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=4, num_training_steps=60, num_cycles=3.0),
    ),
    (
        "cosine_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=4, num_training_steps=61, num_cycles=0.7),
    ),
    (
        "cosine_with_hard_restarts_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=0, num_training_steps=10),
    ),
    (
        "cosine_with_hard_restarts_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=5, num_training_steps=100, num_cycles=1),
    ),
    (
        "cosine_with_hard_restarts_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=5, num_training_steps=105, num_cycles=2),
    ),
    (
        "cosine_with_hard_restarts_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=3, num_training_steps=33, num_cycles=3),
    ),
    (
        "cosine_with_hard_restarts_schedule_with_warmup",
        2e-4,
        dict(num_warmup_steps=10, num_training_steps=307, num_cycles=7),
    ),
    (
        "cosine_with_hard_restarts_schedule_with_warmup",
        1.0,
        dict(num_warmup_steps=0, num_training_steps=9, num_cycles=4),
    ),
    (
        "cosine_with_hard_restarts_schedule_with_warmup",
        1.0,
        dict(num_warmup_steps=2, num_training_steps=2, num_cycles=2),
    ),
    (
        "polynomial_decay_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=0, num_training_steps=10),
    ),
    (
        "polynomial_decay_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100),
    ),
    (
        "polynomial_decay_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100, lr_end=0.0, power=2.0),
    ),
    (
        "polynomial_decay_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100, lr_end=1e-5, power=0.5),
    ),
    (
        "polynomial_decay_schedule_with_warmup",
        0.5,
        dict(num_warmup_steps=3, num_training_steps=50, lr_end=0.01, power=3.0),
    ),
    (
        "polynomial_decay_schedule_with_warmup",
        2e-5,
        dict(num_warmup_steps=100, num_training_steps=1000, lr_end=1e-7, power=1.0),
    ),
    ("inverse_sqrt_schedule", 1e-3, dict(num_warmup_steps=0)),
    ("inverse_sqrt_schedule", 1e-3, dict(num_warmup_steps=1)),
    ("inverse_sqrt_schedule", 1e-3, dict(num_warmup_steps=10)),
    ("inverse_sqrt_schedule", 1e-3, dict(num_warmup_steps=10, timescale=3)),
    ("inverse_sqrt_schedule", 1e-3, dict(num_warmup_steps=10, timescale=50)),
    ("inverse_sqrt_schedule", 1.0, dict(num_warmup_steps=0, timescale=7)),
    ("inverse_sqrt_schedule", 4e-4, dict(num_warmup_steps=400)),
    (
        "cosine_with_min_lr_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100, min_lr_rate=0.1),
    ),
    (
        "cosine_with_min_lr_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100, min_lr_rate=0.0),
    ),
    (
        "cosine_with_min_lr_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=0, num_training_steps=50, min_lr=1e-5),
    ),
    (
        "cosine_with_min_lr_schedule_with_warmup",
        3e-4,
        dict(num_warmup_steps=7, num_training_steps=90, num_cycles=1.0, min_lr_rate=0.5),
    ),
    (
        "cosine_with_min_lr_schedule_with_warmup",
        3e-4,
        dict(num_warmup_steps=7, num_training_steps=90, num_cycles=0.3, min_lr=3e-6),
    ),
    ("wsd_schedule", 1e-3, dict(num_warmup_steps=10, num_decay_steps=20, num_training_steps=100)),
    ("wsd_schedule", 1e-3, dict(num_warmup_steps=10, num_decay_steps=20, num_stable_steps=70)),
    ("wsd_schedule", 1e-3, dict(num_warmup_steps=0, num_decay_steps=20, num_training_steps=50)),
    ("wsd_schedule", 1e-3, dict(num_warmup_steps=10, num_decay_steps=0, num_training_steps=50)),
    ("wsd_schedule", 1e-3, dict(num_warmup_steps=10, num_decay_steps=40, num_training_steps=50)),
    (
        "wsd_schedule",
        1e-3,
        dict(num_warmup_steps=8, num_decay_steps=16, num_stable_steps=0, min_lr_ratio=0.1),
    ),
    (
        "wsd_schedule",
        2e-4,
        dict(
            num_warmup_steps=16,
            num_decay_steps=32,
            num_training_steps=128,
            warmup_type="cosine",
            decay_type="linear",
            min_lr_ratio=0.05,
        ),
    ),
    (
        "wsd_schedule",
        2e-4,
        dict(
            num_warmup_steps=16,
            num_decay_steps=32,
            num_training_steps=128,
            warmup_type="1-sqrt",
            decay_type="1-sqrt",
            min_lr_ratio=0.0,
        ),
    ),
    (
        "wsd_schedule",
        2e-4,
        dict(
            num_warmup_steps=16,
            num_decay_steps=33,
            num_training_steps=99,
            warmup_type="linear",
            decay_type="cosine",
            min_lr_ratio=0.2,
            num_cycles=1.0,
        ),
    ),
    (
        "wsd_schedule",
        1.0,
        dict(
            num_warmup_steps=5,
            num_decay_steps=9,
            num_stable_steps=3,
            warmup_type="cosine",
            decay_type="1-sqrt",
            min_lr_ratio=0.3,
        ),
    ),
    (
        "wsd_schedule",
        1.0,
        dict(
            num_warmup_steps=5,
            num_decay_steps=9,
            num_stable_steps=3,
            warmup_type="1-sqrt",
            decay_type="cosine",
            num_cycles=0.25,
        ),
    ),
]


@pytest.mark.parametrize("case", SMALL_CASES, ids=hf_id)
def test_transformers_every_step(case):
    name, peak, kwargs = case
    schedule, factor = make_pair(name, peak, kwargs)
    steps = dense_steps(schedule_end(name, kwargs))
    assert_matches(
        lib_values(schedule, steps),
        ref_values(peak, factor, steps),
        steps,
        peak_value=peak,
        atol_scale=cosine_phase_scale(name, kwargs, int(steps[-1])),
        what=hf_id(case),
    )


# (api name, peak_value, kwargs, how far to sample): large settings at sampled steps.
# "far" = up to 2**31 - 1; a number = up to that step.
LARGE_CASES = [
    ("constant_schedule", 3e-4, {}, "far"),
    ("constant_schedule_with_warmup", 3e-4, dict(num_warmup_steps=10_000), "far"),
    ("constant_schedule_with_warmup", 3e-4, dict(num_warmup_steps=2**30), "far"),
    (
        "linear_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=2_000, num_training_steps=1_000_000),
        "far",
    ),
    (
        "linear_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=0, num_training_steps=MAX_STEP),
        "far",
    ),
    (
        "linear_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=1_000_000, num_training_steps=MAX_STEP),
        "far",
    ),
    (
        "linear_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=2**30, num_training_steps=MAX_STEP),
        "far",
    ),
    (
        "linear_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=MAX_STEP - 5, num_training_steps=MAX_STEP),
        "far",
    ),
    (
        "cosine_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=2_000, num_training_steps=1_000_000),
        1_500_000,
    ),
    (
        "cosine_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=0, num_training_steps=MAX_STEP),
        "far",
    ),
    (
        "cosine_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=123_457, num_training_steps=MAX_STEP),
        "far",
    ),
    (
        "cosine_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10_000, num_training_steps=1_000_000, num_cycles=2.5),
        1_200_000,
    ),
    (
        "cosine_with_hard_restarts_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=2_000, num_training_steps=1_000_000, num_cycles=3),
        "far",
    ),
    (
        "cosine_with_hard_restarts_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=0, num_training_steps=MAX_STEP, num_cycles=5),
        "far",
    ),
    (
        "cosine_with_hard_restarts_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=1000, num_training_steps=2**30 + 1000, num_cycles=7),
        "far",
    ),
    (
        "polynomial_decay_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=2_000, num_training_steps=1_000_000),
        "far",
    ),
    (
        "polynomial_decay_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=0, num_training_steps=MAX_STEP, lr_end=1e-6, power=2.0),
        "far",
    ),
    (
        "polynomial_decay_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=5000, num_training_steps=10**9, lr_end=0.0, power=0.5),
        "far",
    ),
    ("inverse_sqrt_schedule", 1e-3, dict(num_warmup_steps=4_000), "far"),
    ("inverse_sqrt_schedule", 1e-3, dict(num_warmup_steps=0), "far"),
    ("inverse_sqrt_schedule", 1e-3, dict(num_warmup_steps=100_000, timescale=10_000), "far"),
    ("inverse_sqrt_schedule", 1e-3, dict(num_warmup_steps=100, timescale=2**30), "far"),
    (
        "cosine_with_min_lr_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=2_000, num_training_steps=1_000_000, min_lr_rate=0.1),
        1_500_000,
    ),
    (
        "cosine_with_min_lr_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=0, num_training_steps=MAX_STEP, min_lr=1e-5),
        "far",
    ),
    (
        "wsd_schedule",
        1e-3,
        dict(num_warmup_steps=2_000, num_decay_steps=100_000, num_training_steps=1_000_000),
        "far",
    ),
    (
        "wsd_schedule",
        1e-3,
        dict(
            num_warmup_steps=2**20,
            num_decay_steps=2**29,
            num_training_steps=MAX_STEP,
            decay_type="1-sqrt",
            min_lr_ratio=0.01,
        ),
        "far",
    ),
    (
        "wsd_schedule",
        1e-3,
        dict(
            num_warmup_steps=2**20,
            num_decay_steps=2**29,
            num_stable_steps=2**30,
            warmup_type="cosine",
            decay_type="linear",
            min_lr_ratio=0.1,
        ),
        "far",
    ),
]


def _large_marks(name: str, kwargs: dict) -> list[int]:
    marks = [kwargs.get("num_warmup_steps", 0)]
    if "num_training_steps" in kwargs:
        marks.append(kwargs["num_training_steps"])
    if name == "wsd_schedule":
        end = schedule_end(name, kwargs)
        marks += [end - kwargs["num_decay_steps"], end]
    if name == "cosine_with_hard_restarts_schedule_with_warmup":
        nws, nts, c = (
            kwargs["num_warmup_steps"],
            kwargs["num_training_steps"],
            kwargs.get("num_cycles", 1),
        )
        marks += [nws + (nts - nws) * i // c for i in range(1, c)]
    if name == "inverse_sqrt_schedule" and kwargs.get("timescale"):
        marks.append(kwargs["timescale"])
    return marks


@pytest.mark.parametrize("case", LARGE_CASES, ids=lambda c: hf_id(c[:3]) + f"-upto={c[3]}")
def test_transformers_sampled_steps(case):
    name, peak, kwargs, upto = case
    upto = MAX_STEP if upto == "far" else upto
    schedule, factor = make_pair(name, peak, kwargs)
    steps = sampled_steps(_large_marks(name, kwargs), upto=upto, seed=len(kwargs) + upto % 1000)
    assert_matches(
        lib_values(schedule, steps),
        ref_values(peak, factor, steps),
        steps,
        peak_value=peak,
        atol_scale=cosine_phase_scale(name, kwargs, int(steps[-1])),
        what=hf_id(case[:3]),
    )


def test_cosine_rises_again_past_the_end_like_transformers():
    # transformers does not clamp the cosine at num_training_steps: with num_cycles=0.5 the factor
    # at progress 1.5 is 0.5 * (1 + cos(1.5 pi)) = 0.5.
    schedule = warmup_jax.cosine_schedule_with_warmup(1.0, 0, 100)
    factor = ref.get_cosine_schedule_with_warmup(0, 100)
    assert factor(150) == pytest.approx(0.5)
    assert float(schedule(150)) == pytest.approx(0.5, rel=RTOL)


# ------------------------------------------------------------------------------------------------
# Endpoint exactness (no reference needed: bit for bit in float32)
# ------------------------------------------------------------------------------------------------

# (api name, peak, kwargs, the exact float64 value at the schedule's end)
END_CASES = [
    ("linear_schedule_with_warmup", 1e-3, dict(num_warmup_steps=10, num_training_steps=100), 0.0),
    (
        "linear_schedule_with_warmup",
        3e-4,
        dict(num_warmup_steps=0, num_training_steps=MAX_STEP),
        0.0,
    ),
    (
        "linear_schedule_with_warmup",
        3e-4,
        dict(num_warmup_steps=777, num_training_steps=1_000_003),
        0.0,
    ),
    ("cosine_schedule_with_warmup", 1e-3, dict(num_warmup_steps=10, num_training_steps=100), 0.0),
    (
        "cosine_schedule_with_warmup",
        3e-4,
        dict(num_warmup_steps=777, num_training_steps=1_000_003),
        0.0,
    ),
    (
        "cosine_schedule_with_warmup",
        3e-4,
        dict(num_warmup_steps=0, num_training_steps=MAX_STEP),
        0.0,
    ),
    (
        "cosine_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100, num_cycles=1.0),
        1e-3,
    ),
    (
        "cosine_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100, num_cycles=1.5),
        0.0,
    ),
    (
        "cosine_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100, num_cycles=2.0),
        1e-3,
    ),
    (
        "cosine_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100, num_cycles=0.25),
        5e-4,
    ),
    (
        "cosine_with_hard_restarts_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100, num_cycles=3),
        0.0,
    ),
    (
        "cosine_with_hard_restarts_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=0, num_training_steps=MAX_STEP, num_cycles=2),
        0.0,
    ),
    (
        "polynomial_decay_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100),
        1e-7,
    ),
    (
        "polynomial_decay_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100, lr_end=3e-5, power=2.0),
        3e-5,
    ),
    (
        "polynomial_decay_schedule_with_warmup",
        0.37,
        dict(num_warmup_steps=3, num_training_steps=1_000_003, lr_end=1e-4, power=0.5),
        1e-4,
    ),
    (
        "cosine_with_min_lr_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=10, num_training_steps=100, min_lr_rate=0.1),
        1e-4,
    ),
    (
        "cosine_with_min_lr_schedule_with_warmup",
        3e-4,
        dict(num_warmup_steps=10, num_training_steps=1_000_003, min_lr=3e-6),
        3e-6,
    ),
    (
        "wsd_schedule",
        1e-3,
        dict(num_warmup_steps=10, num_decay_steps=20, num_training_steps=100),
        0.0,
    ),
    (
        "wsd_schedule",
        1e-3,
        dict(num_warmup_steps=10, num_decay_steps=20, num_training_steps=100, min_lr_ratio=0.1),
        1e-4,
    ),
    (
        "wsd_schedule",
        7e-4,
        dict(
            num_warmup_steps=10,
            num_decay_steps=999,
            num_stable_steps=5,
            decay_type="1-sqrt",
            min_lr_ratio=0.3,
        ),
        2.1e-4,
    ),
    (
        "wsd_schedule",
        7e-4,
        dict(
            num_warmup_steps=10,
            num_decay_steps=999,
            num_stable_steps=5,
            decay_type="linear",
            min_lr_ratio=0.3,
        ),
        2.1e-4,
    ),
]


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("case", END_CASES, ids=lambda c: hf_id(c[:3]))
def test_value_at_end_is_exact(case, jit):
    name, peak, kwargs, exact = case
    schedule, factor = make_pair(name, peak, kwargs)
    end = schedule_end(name, kwargs)
    formula = np.float32(peak * factor(end))
    # Sanity check of the case itself: the formula's value is the analytic one, in float32.
    assert formula == np.float32(exact), (formula, exact)
    got = lib_values(schedule, [end], jit=jit)[0]
    assert got == formula, (
        f"{hf_id(case[:3])} at step {end}: expected exactly {formula!r}, got {got!r}"
    )


WARMUP_END_CASES = [
    (name, peak, kwargs)
    for name, peak, kwargs in SMALL_CASES + [c[:3] for c in LARGE_CASES]
    if kwargs.get("num_warmup_steps", 0) >= 1
    # at num_warmup_steps == num_training_steps transformers' linear decay is already at 0 there
    and not (
        name == "linear_schedule_with_warmup"
        and kwargs["num_warmup_steps"] == kwargs["num_training_steps"]
    )
    # transformers divides by zero there (decay_steps == 0)
    and not (
        name == "polynomial_decay_schedule_with_warmup"
        and kwargs["num_warmup_steps"] == kwargs["num_training_steps"]
    )
    # a WSD schedule with no stable and no decay steps is at its floor at num_warmup_steps
    and not (name == "wsd_schedule" and schedule_end(name, kwargs) == kwargs["num_warmup_steps"])
]


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("case", WARMUP_END_CASES, ids=hf_id)
def test_warmup_end_is_exactly_peak(case, jit):
    name, peak, kwargs = case
    schedule, factor = make_pair(name, peak, kwargs)
    nws = kwargs["num_warmup_steps"]
    assert factor(nws) == pytest.approx(1.0, rel=1e-12)  # the case is sane
    got = lib_values(schedule, [nws - 1, nws], jit=jit)
    assert got[1] == np.float32(peak), (
        f"{hf_id(case)}: value at step {nws} is {got[1]!r}, not {np.float32(peak)!r}"
    )
    assert got[0] <= np.float32(peak)
    assert schedule.warmup_steps == nws


# ------------------------------------------------------------------------------------------------
# warmup_type="exponential"
# ------------------------------------------------------------------------------------------------

EXPONENTIAL_CASES = [
    ("constant_schedule_with_warmup", 1e-3, dict(num_warmup_steps=50)),
    ("linear_schedule_with_warmup", 1e-3, dict(num_warmup_steps=50, num_training_steps=200)),
    ("cosine_schedule_with_warmup", 3e-4, dict(num_warmup_steps=37, num_training_steps=300)),
    (
        "cosine_with_hard_restarts_schedule_with_warmup",
        3e-4,
        dict(num_warmup_steps=37, num_training_steps=300, num_cycles=2),
    ),
    (
        "polynomial_decay_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=20, num_training_steps=100, power=2.0),
    ),
    ("inverse_sqrt_schedule", 1e-3, dict(num_warmup_steps=64)),
    (
        "cosine_with_min_lr_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=20, num_training_steps=100, min_lr_rate=0.1),
    ),
    ("wsd_schedule", 1e-3, dict(num_warmup_steps=20, num_decay_steps=30, num_training_steps=100)),
]


@pytest.mark.parametrize("case", EXPONENTIAL_CASES, ids=hf_id)
def test_exponential_warmup_type(case):
    """Below num_warmup_steps: exponential_warmup from peak/1000 (warmup_jax's documented
    ``init * (peak / init) ** (s / W)``); from num_warmup_steps on: transformers' values."""
    name, peak, kwargs = case
    schedule = getattr(warmup_jax, name)(peak, warmup_type="exponential", **kwargs)
    _, factor = make_pair(name, peak, kwargs)
    nws = kwargs["num_warmup_steps"]
    steps = dense_steps(schedule_end(name, kwargs))
    got = lib_values(schedule, steps)
    init = peak / 1000.0
    expected = ref_values(peak, factor, steps)
    warm = steps < nws
    expected[warm] = init * (peak / init) ** (steps[warm] / nws)
    assert_matches(
        got,
        expected,
        steps,
        peak_value=peak,
        atol_scale=cosine_phase_scale(name, kwargs, int(steps[-1])),
        what=hf_id(case) + "-exponential",
    )
    assert got[nws] == np.float32(peak)
    assert np.all(np.diff(got[: nws + 1]) > 0)
    # and the same ramp as warmup_jax.exponential_warmup itself
    np.testing.assert_allclose(
        got[:nws], lib_values(warmup_jax.exponential_warmup(peak, nws), steps[:nws]), rtol=RTOL
    )


# ------------------------------------------------------------------------------------------------
# Argument validation that transformers does (same exception type)
# ------------------------------------------------------------------------------------------------


def test_polynomial_lr_end_must_be_below_peak():
    with pytest.raises(ValueError):
        ref.get_polynomial_decay_schedule_with_warmup(1e-3, 10, 100, lr_end=1e-3)
    with pytest.raises(ValueError, match="lr_end"):
        warmup_jax.polynomial_decay_schedule_with_warmup(1e-3, 10, 100, lr_end=1e-3)
    with pytest.raises(ValueError, match="lr_end"):
        warmup_jax.polynomial_decay_schedule_with_warmup(1e-3, 10, 100, lr_end=2e-3)


@pytest.mark.parametrize(
    "kwargs", [dict(), dict(min_lr=1e-5, min_lr_rate=0.1)], ids=["neither", "both"]
)
def test_cosine_with_min_lr_needs_exactly_one_floor(kwargs):
    with pytest.raises(ValueError):
        ref.get_cosine_with_min_lr_schedule_with_warmup(1e-3, 10, 100, **kwargs)
    with pytest.raises(ValueError, match="min_lr"):
        warmup_jax.cosine_with_min_lr_schedule_with_warmup(1e-3, 10, 100, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(num_warmup_steps=10, num_decay_steps=20),
        dict(num_warmup_steps=10, num_decay_steps=20, num_training_steps=100, warmup_type="bogus"),
        dict(num_warmup_steps=10, num_decay_steps=20, num_training_steps=100, decay_type="bogus"),
        dict(
            num_warmup_steps=10,
            num_decay_steps=20,
            num_training_steps=100,
            decay_type="exponential",
        ),
    ],
    ids=["no-length", "bad-warmup-type", "bad-decay-type", "exponential-decay-type"],
)
def test_wsd_validation(kwargs):
    with pytest.raises(ValueError):
        ref.get_wsd_schedule(**kwargs)
    with pytest.raises(ValueError):
        warmup_jax.wsd_schedule(1e-3, **kwargs)


def test_wsd_both_lengths_uses_num_stable_steps_with_a_warning():
    kwargs = dict(
        num_warmup_steps=10, num_decay_steps=20, num_training_steps=500, num_stable_steps=30
    )
    with pytest.warns(UserWarning):
        ref.get_wsd_schedule(**kwargs)
    with pytest.warns(UserWarning):
        schedule = warmup_jax.wsd_schedule(1e-3, **kwargs)
    factor = ref.get_wsd_schedule(**{**kwargs, "num_training_steps": None})
    steps = dense_steps(60)
    assert_matches(
        lib_values(schedule, steps),
        ref_values(1e-3, factor, steps),
        steps,
        peak_value=1e-3,
        what="wsd both lengths",
    )


# ------------------------------------------------------------------------------------------------
# schedule_by_name (transformers.get_scheduler)
# ------------------------------------------------------------------------------------------------

# name -> scheduler_specific_kwargs for the test (get_scheduler's extra kwargs)
BY_NAME_KWARGS = {
    "linear": {},
    "cosine": dict(num_cycles=0.75),
    "cosine_with_restarts": dict(num_cycles=3),
    "polynomial": dict(lr_end=1e-5, power=2.0),
    "constant": {},
    "constant_with_warmup": {},
    "inverse_sqrt": dict(timescale=25),
    "cosine_with_min_lr": dict(min_lr_rate=0.1),
    "warmup_stable_decay": dict(num_decay_steps=30, decay_type="linear", min_lr_ratio=0.05),
}


def test_schedule_names_are_the_api_scheduler_types():
    assert set(warmup_jax.SCHEDULE_NAMES) == set(ref.API_SCHEDULE_NAMES)
    assert len(warmup_jax.SCHEDULE_NAMES) == len(set(warmup_jax.SCHEDULE_NAMES))
    assert set(ref.API_SCHEDULE_NAMES) <= set(ref.SCHEDULER_TYPE_VALUES)
    # int(2 / (1 - 0.999)) in Python floats (pytorch_warmup's untuned linear period)
    assert ref.untuned_linear_warmup_period(0.999) == 1999


@pytest.mark.parametrize("name", ref.API_SCHEDULE_NAMES)
def test_schedule_by_name(name):
    peak, nws, nts = 1e-3, 10, 100
    extra = BY_NAME_KWARGS[name]
    schedule = warmup_jax.schedule_by_name(
        name, peak, num_warmup_steps=nws, num_training_steps=nts, **extra
    )
    factor = ref.get_scheduler(
        name, peak, num_warmup_steps=nws, num_training_steps=nts, scheduler_specific_kwargs=extra
    )
    steps = dense_steps(nts)
    got = lib_values(schedule, steps)
    assert_matches(
        got,
        ref_values(peak, factor, steps),
        steps,
        peak_value=peak,
        atol_scale=3.0 if name == "cosine_with_restarts" else 2.0,
        what=f"schedule_by_name({name!r})",
    )
    # the config round trip gives the same function
    rebuilt = warmup_jax.from_config(schedule.to_config())
    assert rebuilt == schedule
    np.testing.assert_array_equal(lib_values(rebuilt, steps), got)


@pytest.mark.parametrize("name", ["constant", "constant_with_warmup", "inverse_sqrt"])
def test_schedule_by_name_drops_unused_step_counts(name):
    # get_scheduler ignores num_training_steps for these (and num_warmup_steps for "constant")
    a = warmup_jax.schedule_by_name(name, 1e-3, num_warmup_steps=10, num_training_steps=100)
    b = warmup_jax.schedule_by_name(name, 1e-3, num_warmup_steps=10)
    steps = dense_steps(40)
    np.testing.assert_array_equal(lib_values(a, steps), lib_values(b, steps))
    factor = ref.get_scheduler(name, 1e-3, num_warmup_steps=10, num_training_steps=100)
    assert_matches(
        lib_values(a, steps), ref_values(1e-3, factor, steps), steps, peak_value=1e-3, what=name
    )


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("linear", dict(num_training_steps=100)),  # transformers: "requires `num_warmup_steps`"
        ("cosine", dict(num_warmup_steps=10)),  # transformers: "requires `num_training_steps`"
        ("cosine_with_min_lr", dict(num_warmup_steps=10, num_training_steps=100)),  # no floor given
        ("warmup_stable_decay", dict(num_warmup_steps=10, num_decay_steps=5)),  # no length
        (
            "linear",
            dict(num_warmup_steps=10, num_training_steps=100, num_cycles=2),
        ),  # not its argument
        ("no_such_schedule", dict(num_warmup_steps=10, num_training_steps=100)),
    ],
)
def test_schedule_by_name_errors(name, kwargs):
    if name in ref._NAME_TO_REFERENCE or name == "no_such_schedule":
        # the reference get_scheduler fails too (ValueError, or TypeError for a foreign kwarg)
        extra = {
            k: v for k, v in kwargs.items() if k not in ("num_warmup_steps", "num_training_steps")
        }
        with pytest.raises((ValueError, TypeError)):
            ref.get_scheduler(
                name, 1e-3, kwargs.get("num_warmup_steps"), kwargs.get("num_training_steps"), extra
            )
    with pytest.raises(ValueError):
        warmup_jax.schedule_by_name(name, 1e-3, **kwargs)


# ------------------------------------------------------------------------------------------------
# pytorch_warmup: untuned linear / exponential and RAdam warmups
# ------------------------------------------------------------------------------------------------

B2S = (0.999, 0.99, 0.98, 0.9)
WARMUPS = {
    "untuned_linear_warmup": ref.untuned_linear_factor,
    "untuned_exponential_warmup": ref.untuned_exponential_factor,
    "radam_warmup": ref.radam_factor,
}


def test_untuned_periods_are_pythons():
    # Python's float arithmetic, not the real numbers: 1 - 0.999 = 0.0010000000000000009.
    assert [ref.untuned_linear_warmup_period(b) for b in B2S] == [1999, 199, 99, 20]
    assert [ref.untuned_exponential_warmup_period(b) for b in B2S] == [999, 99, 49, 10]
    assert int(2 / (1 - 0.999)) == 1999


@pytest.mark.parametrize("b2", B2S)
@pytest.mark.parametrize("kind", list(WARMUPS))
@pytest.mark.parametrize("base", [1.0, 3e-4])
def test_pytorch_warmup_factors(kind, b2, base):
    factor = WARMUPS[kind](b2)
    schedule = getattr(warmup_jax, kind)(base, b2=b2)
    dense = np.arange(0, 12_000, dtype=np.int64)
    far = sampled_steps([12_000], upto=MAX_STEP, seed=int(b2 * 1000))
    steps = np.union1d(dense, far)
    assert_matches(
        lib_values(schedule, steps),
        ref_values(base, factor, steps),
        steps,
        peak_value=base,
        what=f"{kind}(base={base}, b2={b2})",
    )


@pytest.mark.parametrize("b2", B2S)
def test_untuned_linear_reaches_base_at_tau(b2):
    # update k uses t = k + 1: the factor is 1 first at k = tau - 1, and (tau - 1) / tau just before
    tau = ref.untuned_linear_warmup_period(b2)
    schedule = warmup_jax.untuned_linear_warmup(1.0, b2=b2)
    got = lib_values(schedule, [0, tau - 2, tau - 1, tau])
    np.testing.assert_allclose(got[:2], [1 / tau, (tau - 1) / tau], rtol=RTOL)
    assert got[2] == 1.0 and got[3] == 1.0


@pytest.mark.parametrize("b2", B2S)
def test_radam_first_update(b2):
    # RAdamWarmup's first update (step 0) uses rho(offset) with the smallest offset whose rho > 4
    params = dict(beta2=b2, rho_inf=ref.rho_inf_fn(b2))
    offset = ref.get_offset(**params)
    assert ref.rho_fn(offset, **params) > 4
    assert offset == 1 or ref.rho_fn(offset - 1, **params) <= 4
    expected = ref.radam_warmup_factor(0, offset=offset, **params)
    got = lib_values(warmup_jax.radam_warmup(1.0, b2=b2), [0])[0]
    np.testing.assert_allclose(got, expected, rtol=RTOL)


def test_radam_beta2_must_exceed_0_6():
    with pytest.raises(ValueError):
        ref.get_offset(0.6, ref.rho_inf_fn(0.6))
    with pytest.raises(ValueError, match="b2"):
        warmup_jax.radam_warmup(1.0, b2=0.6)


@pytest.mark.parametrize("kind", list(WARMUPS))
def test_pytorch_warmup_on_a_schedule(kind):
    # the warmup factor multiplies a scheduled base lr: update k gets base(k) * factor(k)
    peak, total, b2 = 1e-3, 30_000, 0.999
    base = warmup_jax.linear_schedule_with_warmup(peak, 0, total)
    schedule = getattr(warmup_jax, kind)(base, b2=b2)
    base_factor = ref.get_linear_schedule_with_warmup(0, total)
    warm = WARMUPS[kind](b2)
    steps = np.union1d(np.arange(0, 4000), sampled_steps([total], upto=total + 100))
    expected = np.array([peak * base_factor(int(s)) * warm(int(s)) for s in steps])
    assert_matches(
        lib_values(schedule, steps), expected, steps, peak_value=peak, what=f"{kind} on linear"
    )


# ------------------------------------------------------------------------------------------------
# Scalars and jit agree with the array evaluation
# ------------------------------------------------------------------------------------------------

JIT_CASES = [c for c in SMALL_CASES if c[0] != "constant_schedule"][::4] + [
    (
        "cosine_with_hard_restarts_schedule_with_warmup",
        1e-3,
        dict(num_warmup_steps=3, num_training_steps=33, num_cycles=3),
    ),
]


@pytest.mark.parametrize("case", JIT_CASES, ids=hf_id)
def test_jit_and_scalar_steps_match_reference(case):
    name, peak, kwargs = case
    schedule, factor = make_pair(name, peak, kwargs)
    steps = dense_steps(schedule_end(name, kwargs))
    expected = ref_values(peak, factor, steps)
    scale = cosine_phase_scale(name, kwargs, int(steps[-1]))
    assert_matches(
        lib_values(schedule, steps, jit=True),
        expected,
        steps,
        peak_value=peak,
        atol_scale=scale,
        what=hf_id(case) + " (jit)",
    )
    for i in (0, len(steps) // 3, len(steps) - 1):
        s = int(steps[i])
        for step in (s, np.int32(s), np.int64(s)):
            assert math.isclose(
                float(schedule(step)), expected[i], rel_tol=RTOL, abs_tol=ATOL_REL * peak * scale
            )


# ------------------------------------------------------------------------------------------------
# warmup_jax's own warmups against transformers' linear warmup (same convention: lr(0) = 0)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("peak,warmup_steps", [(1e-3, 1), (1e-3, 7), (3e-4, 100), (1.0, 2**30)])
def test_linear_warmup_is_transformers_constant_with_warmup(peak, warmup_steps):
    # linear_warmup(peak, W) with init 0 is get_constant_schedule_with_warmup(W): s / W, then 1
    factor = ref.get_constant_schedule_with_warmup(warmup_steps)
    if warmup_steps < 1000:
        steps = dense_steps(warmup_steps)
    else:
        steps = sampled_steps([warmup_steps], upto=MAX_STEP)
    for schedule in (
        warmup_jax.linear_warmup(peak, warmup_steps),
        warmup_jax.warmup(peak, warmup_steps, "linear"),
    ):
        got = lib_values(schedule, steps)
        assert_matches(
            got, ref_values(peak, factor, steps), steps, peak_value=peak, what="linear_warmup"
        )
        assert got[np.searchsorted(steps, warmup_steps)] == np.float32(peak)


# ------------------------------------------------------------------------------------------------
# Under x64 the same formulas in float64: a much tighter check that the transcription is exact
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", SMALL_CASES[::3], ids=hf_id)
def test_transformers_float64_under_x64(case):
    # float64 throughout (the library's Python-float constants, int64 steps): the only
    # differences left are reassociation and libm-vs-XLA cos/sqrt, a few float64 ulps.
    name, peak, kwargs = case
    with x64():
        schedule, factor = make_pair(name, peak, kwargs)
        steps = dense_steps(schedule_end(name, kwargs))
        got = np.asarray(jax.jit(schedule)(jnp.asarray(steps)))
    assert got.dtype == np.float64
    expected = ref_values(peak, factor, steps)
    scale = cosine_phase_scale(name, kwargs, int(steps[-1]))
    np.testing.assert_allclose(
        got, expected, rtol=1e-12, atol=1e-14 * peak * scale, err_msg=hf_id(case)
    )


def test_reduce_lr_on_plateau_by_name_is_the_constant_the_plateau_multiplies():
    # transformers' get_scheduler drops the step arguments for this name, as we do.
    got = warmup_jax.schedule_by_name(
        "reduce_lr_on_plateau", 1e-3, num_warmup_steps=10, num_training_steps=100
    )
    assert got == warmup_jax.constant_schedule(1e-3)

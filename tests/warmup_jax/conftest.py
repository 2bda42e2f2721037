"""Helpers shared by the schedule tests, and the hypothesis profile every run uses."""

import contextlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import settings

# Derandomized: every run draws the same examples, so CI cannot turn red or green by chance.
settings.register_profile("warmup_jax", derandomize=True, database=None, print_blob=True)
settings.load_profile("warmup_jax")


def values(schedule, steps) -> np.ndarray:
    """The schedule at each step, evaluated in one jitted call, as float32 numpy."""
    return np.asarray(jax.jit(schedule)(jnp.asarray(steps, dtype=jnp.int32)))


def x64():
    """A context in which jax computes in 64 bits (``jax.enable_x64`` from jax 0.7 on, the
    ``jax.experimental`` one before it)."""
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(True)
    from jax.experimental import enable_x64  # noqa: PLC0415  (jax < 0.7)

    return enable_x64(True)


@contextlib.contextmanager
def no_x64():
    """The opposite of :func:`x64`, for tests that must run in 32 bits."""
    with contextlib.ExitStack() as stack:
        if jax.config.jax_enable_x64:
            if hasattr(jax, "enable_x64"):
                stack.enter_context(jax.enable_x64(False))
            else:
                from jax.experimental import disable_x64  # noqa: PLC0415

                stack.enter_context(disable_x64())
        yield


@pytest.fixture
def at():
    return values

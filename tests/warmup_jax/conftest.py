"""Helpers shared by the schedule tests."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest


def values(schedule, steps) -> np.ndarray:
    """The schedule at each step, evaluated in one jitted call, as float32 numpy."""
    return np.asarray(jax.jit(schedule)(jnp.asarray(steps, dtype=jnp.int32)))


@pytest.fixture
def at():
    return values

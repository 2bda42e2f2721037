"""The precise curve building blocks: exact integer reduction, no cancellation near zeros."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import warmup_jax as wj
from tests.warmup_jax.conftest import values
from warmup_jax._curves import mulmod, one_minus_sqrt, periodic_cosine


@pytest.mark.parametrize("n", [7, 1000, 2**30 + 3, 2**31 - 1])
@pytest.mark.parametrize("k", [1, 3, 5, 1000, 2**19])
def test_mulmod_is_exact(n, k):
    rng = np.random.default_rng(n + k)
    a = np.concatenate([rng.integers(0, 2**31 - 1, 500), [0, 1, n - 1, 2**31 - 1]]).astype(np.int64)
    got = np.asarray(mulmod(jnp.asarray(a, jnp.int32), k, n)).astype(np.int64)
    np.testing.assert_array_equal(got, (a * k) % n)


def test_periodic_cosine_is_exact_far_past_the_end_and_at_every_zero():
    length = 1000
    steps = np.array([0, 500, 1000, 1500, 2000, 10**9, 10**9 + 500, 2**31 - 1])
    got = np.asarray(periodic_cosine(jnp.asarray(steps, jnp.int32), length, 0.5))
    expected = [0.5 * (1 + math.cos(math.pi * s / length)) for s in steps.tolist()]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)
    assert got[2] == 0.0 and got[4] == 1.0 and got[5] == 1.0


def test_one_minus_sqrt_keeps_both_ends():
    length = 2**29
    got = np.asarray(one_minus_sqrt(jnp.asarray([1, length // 2, length - 1], jnp.int32), length))
    p = np.array([1, length // 2, length - 1]) / length
    np.testing.assert_allclose(got, 1 - np.sqrt(p), rtol=1e-6)


def test_hard_restarts_land_on_the_exact_step_for_a_two_billion_step_run():
    total = 2**31 - 1
    schedule = wj.cosine_with_hard_restarts_schedule_with_warmup(1.0, 0, total, num_cycles=5)
    # Cycle c starts at the first step s with 5 s >= c * total.
    starts = [math.ceil(c * total / 5) for c in range(1, 5)]
    before = values(schedule, [s - 1 for s in starts])
    at = values(schedule, starts)
    np.testing.assert_array_equal(at, np.float32(1.0))
    assert np.all(before < 1e-9)

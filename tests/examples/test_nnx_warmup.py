"""``examples/nnx_warmup.py``: the LR logged inside the jitted NNX step is the schedule's."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import warmup_jax
from examples import nnx_warmup

STEPS = 40
WARMUP = 10
PEAK = 1e-2


@pytest.fixture(scope="module")
def result() -> nnx_warmup.TrainResult:
    return nnx_warmup.train(steps=STEPS, peak_lr=PEAK, warmup_steps=WARMUP, seed=0)


def lrs_of(result: nnx_warmup.TrainResult) -> np.ndarray:
    # float32 -> Python float -> float32 is exact, so these are the step's float32 bits.
    return np.array([lr for _, lr in result.history], dtype=np.float32)


def test_lr_is_the_schedule_bit_for_bit(result: nnx_warmup.TrainResult) -> None:
    """Every step's LR equals ``schedule(step)`` evaluated under ``jit``, bit for bit.

    The reference is the jitted schedule because that is how optax evaluates it inside the
    update. Outside jit the same step can come out an ulp away (XLA folds the constants of a
    compiled program, e.g. ``peak * (s * (1 / W))`` into ``s * (peak / W)``); the next test
    bounds that.
    """
    schedule = warmup_jax.cosine_schedule_with_warmup(PEAK, WARMUP, STEPS)
    jitted = jax.jit(schedule)
    expected = np.array([jitted(jnp.int32(i)) for i in range(STEPS)], dtype=np.float32)
    got = lrs_of(result)
    assert got.dtype == expected.dtype == np.float32
    np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))


def test_lr_matches_the_eager_schedule(result: nnx_warmup.TrainResult) -> None:
    """Exact at the fixed points (0 at step 0, the peak at the end of warmup), else within 1 ulp."""
    schedule = warmup_jax.cosine_schedule_with_warmup(PEAK, WARMUP, STEPS)
    eager = np.array([schedule(i) for i in range(STEPS)], dtype=np.float32)
    got = lrs_of(result)
    assert got[0] == 0.0
    assert got[WARMUP] == np.float32(PEAK) == eager[WARMUP]
    assert got.max() == np.float32(PEAK)
    assert np.all(np.diff(got[: WARMUP + 1]) > 0)  # warming up
    assert np.all(np.diff(got[WARMUP:]) < 0)  # decaying
    np.testing.assert_array_max_ulp(got, eager, maxulp=1)


def test_loss_goes_down(result: nnx_warmup.TrainResult) -> None:
    losses = [loss for loss, _ in result.history]
    assert len(losses) == STEPS
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0]


def test_train_step_compiles_once_across_the_warmup_boundary(
    result: nnx_warmup.TrainResult,
) -> None:
    assert result.num_traces == 1


def test_step_count_is_on_device(result: nnx_warmup.TrainResult) -> None:
    count = result.optimizer.step[...]
    assert isinstance(result.optimizer.step, nnx.Variable)
    assert isinstance(count, jax.Array)
    assert jnp.issubdtype(count.dtype, jnp.integer)
    assert int(count) == STEPS


def test_first_update_uses_the_reported_lr_of_zero() -> None:
    """At step 0 the reported LR is 0, and the update really used 0: the weights did not move
    (AdamW's weight decay is scaled by the LR too)."""
    fresh = nnx_warmup.MLP(nnx_warmup.NUM_FEATURES, nnx_warmup.HIDDEN, rngs=nnx.Rngs(3))
    result = nnx_warmup.train(steps=1, peak_lr=PEAK, warmup_steps=1, seed=3)
    assert [lr for _, lr in result.history] == [0.0]
    assert int(result.optimizer.step[...]) == 1
    jax.tree.map(np.testing.assert_array_equal, nnx.state(fresh), nnx.state(result.model))


def test_main_runs_from_flags(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--steps", "12", "--warmup_steps", "3", "--peak_lr", "0.02", "--seed", "1"]
    history = nnx_warmup.main(argv)
    assert len(history) == 12
    assert history[0][1] == 0.0
    assert history[3][1] == np.float32(0.02)
    out = capsys.readouterr().out
    assert "step     0" in out and "step    11" in out
    assert "compiled 1 time(s)" in out


def test_main_help_and_bad_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        nnx_warmup.main(["--help"])
    assert exit_info.value.code == 0
    assert "--warmup_steps" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        nnx_warmup.main(["--steps", "5", "--warmup_steps", "6"])
    assert exit_info.value.code == 2
    for peak in ("nan", "inf", "-1", "1e-50"):
        with pytest.raises(SystemExit) as exit_info:
            nnx_warmup.main(["--peak_lr", peak])
        assert exit_info.value.code == 2
        assert "--peak_lr must be" in capsys.readouterr().err

"""Checkpoints: exact round trip of the state, and the resume check's messages."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from train.checkpoint import Checkpoints
from train.config import RunConfig
from train.model import ByteTransformer
from train.resume_check import ResumeError, check_resume, make_meta
from train.schedule import make_schedule
from train.state import create_train_state, make_optimizer


def _meta(config, fingerprint="abc"):
    return make_meta(config, make_schedule(config).to_config(), fingerprint)


def test_state_and_meta_round_trip_exactly(tiny, tmp_path):
    config = tiny(tmp_path)
    model = ByteTransformer(config.model, config.seq_len)
    optimizer = make_optimizer(config, make_schedule(config))
    state = create_train_state(config, model, optimizer)
    state = state.replace(
        step=jnp.asarray(7, jnp.int32),
        params=jax.tree.map(lambda x: x + 0.5, state.params),
    )
    checkpoints = Checkpoints(tmp_path, keep=2)
    for step in (3, 7, 9):
        checkpoints.save(step, state, _meta(config))
    checkpoints.close()

    again = Checkpoints(tmp_path, keep=2)
    assert again.latest_step() == 9
    assert sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir()) == [7, 9]
    assert again.read_meta(9) == _meta(config)
    fresh = create_train_state(config, model, optimizer)
    restored = again.restore(9, like=fresh)
    again.close()
    assert restored.step.dtype == jnp.int32 and int(restored.step) == 7
    assert not restored.step.aval.weak_type
    for a, b in zip(jax.tree.leaves(restored.params), jax.tree.leaves(state.params)):
        np.testing.assert_array_equal(a, b)
    assert jax.tree.structure(restored.opt_state) == jax.tree.structure(state.opt_state)


def test_empty_checkpoint_dir_has_no_latest_step(tmp_path):
    checkpoints = Checkpoints(tmp_path, keep=3)
    assert checkpoints.latest_step() is None
    checkpoints.close()


def test_same_run_may_resume_with_other_cadence(tiny, tmp_path):
    saved = _meta(tiny(tmp_path))
    check_resume(
        saved,
        _meta(tiny(tmp_path / "elsewhere", log_every=1, eval_every=10, steps_per_call=2)),
        "ckpt",
    )


def test_changed_schedule_is_refused_with_what_changed(tiny, tmp_path):
    saved = _meta(tiny(tmp_path))
    with pytest.raises(ResumeError) as info:
        check_resume(saved, _meta(tiny(tmp_path, steps=60, peak_lr=1e-3)), "WORK/checkpoints/20")
    message = str(info.value)
    assert "refusing to resume from WORK/checkpoints/20" in message
    assert "learning-rate schedule changed" in message
    assert "num_training_steps: 40 in the checkpoint, 60 now" in message
    assert "peak_value: 0.003 in the checkpoint, 0.001 now" in message
    assert "num_warmup_steps: 4 in the checkpoint, 6 now" in message


def test_switching_schedule_kind_names_both(tiny, tmp_path):
    saved = _meta(tiny(tmp_path))
    with pytest.raises(
        ResumeError,
        match="schedule: 'cosine_schedule_with_warmup' in the checkpoint, 'constant_schedule' now",
    ):
        check_resume(saved, _meta(tiny(tmp_path, no_lr_schedule=True)), "x")


def test_changed_model_seed_or_data_is_refused(tiny, tmp_path):
    saved = _meta(tiny(tmp_path))
    with pytest.raises(
        ResumeError, match=r"run settings changed:\n  seed: 0 in the checkpoint, 1 now"
    ):
        check_resume(saved, _meta(tiny(tmp_path, seed=1)), "x")
    with pytest.raises(ResumeError, match="batch_size: 4 in the checkpoint, 8 now"):
        check_resume(saved, _meta(tiny(tmp_path, batch_size=8)), "x")
    with pytest.raises(ResumeError, match="training data changed"):
        check_resume(saved, _meta(tiny(tmp_path), fingerprint="other"), "x")


def test_a_checkpoint_written_by_0_1_0_resumes_under_todays_names(tiny, tmp_path):
    # 0.1.0 saved the run's schedule with its names (final_value, strategy) and the run config
    # with "warmup" for today's "warmup_type": the same run must still resume.
    config = tiny(tmp_path, schedule="linear_warmup(peak, 4) >> cosine_decay(peak, 36)")
    now = _meta(config)
    old = json.loads(json.dumps(now))
    old["schedule"]["arguments"]["schedules"][1]["arguments"]["final_value"] = old["schedule"][
        "arguments"
    ]["schedules"][1]["arguments"].pop("end_value")
    old["config"]["warmup"] = old["config"].pop("warmup_type")
    assert check_resume(old, now, "old") == []
    assert RunConfig.from_dict(old["config"]) == config
    old["schedule"]["arguments"]["schedules"][1]["arguments"]["final_value"] = 1e-4
    with pytest.raises(ResumeError, match="end_value: 0.0001 in the checkpoint, 0.0 now"):
        check_resume(old, now, "old")


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda m: m.pop("data_fingerprint"), "it has no data_fingerprint"),
        (lambda m: m.update(config=None), "its config and schedule must be JSON objects"),
        (lambda m: m.update(schedule_changes=5), "its schedule_changes must be a list"),
        (lambda m: m.update(data_fingerprint=7), "its data_fingerprint must be a string"),
    ],
)
def test_a_hand_edited_meta_is_refused_with_what_is_wrong(tiny, tmp_path, edit, problem):
    config = tiny(tmp_path)
    saved = _meta(config)
    edit(saved)
    with pytest.raises(ResumeError, match="its meta .* is not what this harness writes") as info:
        check_resume(saved, _meta(config), "ckpt 10")
    assert problem in str(info.value)


def test_a_meta_that_is_a_json_list_is_refused_through_resume(tiny, tmp_path):
    config = tiny(tmp_path)
    model = ByteTransformer(config.model, config.seq_len)
    state = create_train_state(config, model, make_optimizer(config, make_schedule(config)))
    with Checkpoints(tmp_path, keep=2) as checkpoints:
        checkpoints.save(10, state, _meta(config))
    # Replace the meta item on disk by a JSON list, as a hand edit might.
    meta_file = tmp_path / "checkpoints" / "10" / "meta" / "metadata"
    assert json.loads(meta_file.read_text())["data_fingerprint"] == "abc"
    meta_file.write_text("[1, 2, 3]")
    with Checkpoints(tmp_path, keep=2) as checkpoints:
        with pytest.raises(ResumeError, match="it is a JSON list, not an object"):
            checkpoints.resume(state, _meta(config))


def test_a_checkpoint_from_before_norm_and_plateau_existed_resumes(tiny, tmp_path):
    # Settings added later (--norm, --plateau) are absent from older checkpoints: there they had
    # their defaults, so the same run still resumes, and a changed one is still refused.
    config = tiny(tmp_path)
    old = _meta(config)
    del old["config"]["norm"], old["config"]["plateau"]
    assert check_resume(old, _meta(config), "old") == []
    with pytest.raises(ResumeError, match="norm: 'pre' in the checkpoint, 'post' now"):
        check_resume(old, _meta(tiny(tmp_path, norm="post")), "old")

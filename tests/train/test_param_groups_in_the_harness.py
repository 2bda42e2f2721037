"""Parameter groups in the harness: --lr_mult, --freeze, --layer_decay, --no_decay (#15, item 5)."""

from __future__ import annotations

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from train import __main__ as cli
from train.checkpoint import Checkpoints
from train.config import NO_DECAY_DEFAULT, ConfigError
from train.loop import run
from train.model import ByteTransformer
from train.param_groups import harness_layer
from train.resume_check import ResumeError, check_resume, make_meta
from train.schedule import make_schedule
from train.state import create_train_state, make_optimizer
from warmup_jax.groups import param_paths, path_text


def _config(argv):
    parser = cli.build_parser()
    return cli.config_from_args(parser.parse_args(["--preset", "tiny", *argv]), parser)


def _rows(workdir):
    return [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]


def _state(config):
    model = ByteTransformer(config.model, config.seq_len, norm=config.norm)
    return create_train_state(config, model, make_optimizer(config, make_schedule(config)))


def _flat(params):
    return {path_text(k): np.asarray(v) for k, v in jax.tree_util.tree_flatten_with_path(params)[0]}


def test_the_flags_become_the_run_config():
    config = _config(
        ["--lr_mult", "^embed/=0.1", "--lr_mult", "mlp=2", "--freeze", "positions"]
        + ["--layer_decay", "0.75", "--no_decay", "bias$"]
    )
    assert config.lr_mult == {"^embed/": 0.1, "mlp": 2.0}
    assert config.freeze == ["positions"] and config.layer_decay == 0.75
    assert config.no_decay == "bias$"
    assert _config([]).no_decay == NO_DECAY_DEFAULT and _config([]).lr_mult == {}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lr_mult", "embed"], "argument --lr_mult: expected REGEX=FACTOR"),
        (["--lr_mult", "embed=x"], "the factor must be a number, got 'x'"),
        (["--lr_mult", "embed=-1"], "must be a finite number in [0, inf), got -1.0"),
        (["--lr_mult", "embed=nan"], "must be a finite number"),
        (["--lr_mult", "(=2"], "argument --lr_mult: is not a regular expression"),
        (["--freeze", "["], "argument --freeze: is not a regular expression"),
        (["--layer_decay", "0"], "must be a finite number in (0, 1], got 0.0"),
        (["--layer_decay", "1.5"], "must be a finite number in (0, 1]"),
        (["--no_decay", "*"], "argument --no_decay: is not a regular expression"),
        (["--no_decay", ""], "argument --no_decay: must not be empty"),  # "" matches everything
        (["--freeze", ""], "argument --freeze: must not be empty"),
        (["--lr_mult", "a=1", "--lr_mult", "a=2"], "--lr_mult gives a more than once"),
        (["--freeze", "a", "--freeze", "a"], "--freeze gives a more than once"),
    ],
)
def test_bad_group_flags_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        _config(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_regex_that_matches_nothing_is_refused_with_the_paths(tiny, tmp_path):
    for overrides, named in [
        (dict(lr_mult={"^encoder/": 0.1}), "--lr_mult '^encoder/'"),
        (dict(freeze=["typo"]), "--freeze 'typo'"),
        (dict(no_decay="nothing_here"), "--no_decay 'nothing_here'"),
    ]:
        with pytest.raises(ConfigError) as info:
            run(tiny(tmp_path / "w", **overrides))
        message = str(info.value)
        assert message.startswith(f"{named} matches no parameter; the model's parameters are: ")
        assert "block_0/attn/query/kernel, " in message and "embed/embedding" in message
        assert not (tmp_path / "w").exists()  # refused before anything was written


def test_groups_and_hparam_are_refused_together(tiny, tmp_path):
    config = tiny(tmp_path, lr_mult={"^embed/": 0.1}, hyperparams={"b1": "constant_schedule(0.9)"})
    with pytest.raises(ConfigError, match="--hparam cannot be combined with --lr_mult"):
        run(config)


def test_frozen_parameters_stay_bit_identical(tiny, tmp_path):
    config = tiny(tmp_path, freeze=["^embed/", "^block_0/ln_"])
    initial = _flat(_state(config).params)
    summary = run(config)
    with Checkpoints(tmp_path, 1, read_only=True) as checkpoints:
        final = _flat(checkpoints.restore(summary["steps"], _state(config)).params)
    frozen = [p for p in initial if p.startswith(("embed/", "block_0/ln_"))]
    assert frozen == [
        "block_0/ln_attn/bias",
        "block_0/ln_attn/scale",
        "block_0/ln_mlp/bias",
        "block_0/ln_mlp/scale",
        "embed/embedding",
    ]
    for path in initial:
        if path in frozen:
            np.testing.assert_array_equal(final[path], initial[path], err_msg=path)
        else:
            assert not np.array_equal(final[path], initial[path]), path


def _updates(config, steps=3):
    """The optimizer's updates for ``steps`` steps of the same made-up gradients."""
    state = _state(config)
    tx = make_optimizer(config, make_schedule(config))
    opt_state, out = tx.init(state.params), []
    for step in range(steps):
        grads = jax.tree.map(lambda p, s=step: jnp.cos(p * (s + 2)) * 0.01, state.params)
        updates, opt_state = tx.update(grads, opt_state, state.params)
        out.append(_flat(updates))
    return out, state.params


def test_a_group_at_a_tenth_gets_adamw_at_a_tenth_of_the_lr_bit_for_bit(tiny, tmp_path):
    config = tiny(tmp_path, lr_mult={"^block_0/mlp_in/": 0.1}, no_decay="none")
    grouped, params = _updates(config)
    schedule = make_schedule(config)
    reference = optax.chain(
        optax.clip_by_global_norm(config.grad_clip),
        optax.adamw(0.1 * schedule, b1=config.b1, b2=config.b2, weight_decay=config.weight_decay),
    )
    opt_state = reference.init(params)
    for step, got in enumerate(grouped):
        grads = jax.tree.map(lambda p, s=step: jnp.cos(p * (s + 2)) * 0.01, params)
        updates, opt_state = reference.update(grads, opt_state, params)
        want = _flat(updates)
        for path in ("block_0/mlp_in/kernel", "block_0/mlp_in/bias"):
            np.testing.assert_array_equal(got[path], want[path], err_msg=f"{path} at {step}")
    assert np.any(want["block_0/mlp_in/kernel"] != 0)  # step 2: past the warmup's LR of 0


def test_no_decay_defaults_to_biases_and_layernorms(tiny, tmp_path):
    # A constant LR and zero gradients: Adam's part is 0, so an update is -lr * wd * p exactly
    # where there is weight decay, and 0 where there is none.
    config = tiny(tmp_path, no_lr_schedule=True)
    state = _state(config)
    tx = make_optimizer(config, make_schedule(config))
    zeros = jax.tree.map(jnp.zeros_like, state.params)
    updates, _ = tx.update(zeros, tx.init(state.params), state.params)
    got, params = _flat(updates), _flat(state.params)
    undecayed = sorted(p for p in got if not np.any(got[p]))
    assert undecayed == sorted(
        p for p in param_paths(state.params) if p.endswith("/bias") or "ln_" in p
    )
    assert "embed/embedding" not in undecayed and "positions" not in undecayed
    lr, wd = config.peak_lr, config.weight_decay
    np.testing.assert_allclose(
        got["embed/embedding"], -lr * wd * params["embed/embedding"], rtol=1e-6
    )
    # --no_decay none: every parameter decays.
    everything = dataclasses.replace(config, no_decay="none")
    tx = make_optimizer(everything, make_schedule(everything))
    updates, _ = tx.update(zeros, tx.init(state.params), state.params)
    zero_now = {p for p, v in _flat(updates).items() if not np.any(v)}
    assert zero_now == {p for p, v in params.items() if not np.any(v)}  # biases start at 0
    assert "block_0/ln_attn/scale" not in zero_now


def test_each_groups_lr_is_logged_every_step(tiny, tmp_path):
    config = tiny(tmp_path, lr_mult={"^embed/": 0.1}, freeze=["positions"], layer_decay=0.5)
    run(config)
    rows = _rows(tmp_path)
    assert len(rows) == 40
    # tiny has 1 block: layers 0 (embeddings), 1 (block_0), 2 (the top: ln_final).
    expected = {
        "train/learning_rate/^embed//layer_0": 0.1 * 0.5**2,
        "train/learning_rate/default/layer_1": 0.5,
        "train/learning_rate/default/layer_2": 1.0,
    }
    for row in rows:
        groups = {k: v for k, v in row.items() if k.startswith("train/learning_rate/")}
        assert set(groups) == set(expected), row["step"]  # the frozen group has no LR
        for key, factor in expected.items():
            assert groups[key] == pytest.approx(factor * row["train/learning_rate"], rel=1e-6)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["param_groups"]["layer_decay"]["factor"] == 0.5
    assert [r["name"] for r in summary["param_groups"]["rules"]] == ["frozen:positions", None]


@pytest.mark.parametrize(
    ("path", "layer"),
    [
        ("embed/embedding", 0),
        ("positions", 0),
        ("block_0/attn/query/kernel", 1),
        ("block_11/mlp_out/bias", 12),
        ("ln_final/scale", None),
    ],
)
def test_the_layer_of_each_parameter(path, layer):
    assert harness_layer(path) == layer


def test_the_resume_check_covers_the_groups(tiny, tmp_path):
    def meta(config):
        return make_meta(config, make_schedule(config).to_config(), "abc")

    saved = meta(tiny(tmp_path, lr_mult={"^embed/": 0.1}))
    assert check_resume(saved, meta(tiny(tmp_path, lr_mult={"^embed/": 0.1})), "x") == []
    for changed, line in [
        (dict(lr_mult={"^embed/": 0.2}), "lr_mult.^embed/: 0.1 in the checkpoint, 0.2 now"),
        (dict(lr_mult={"^embed/": 0.1}, freeze=["positions"]), "freeze"),
        (dict(lr_mult={"^embed/": 0.1}, layer_decay=0.9), "layer_decay: None in the"),
        (dict(lr_mult={"^embed/": 0.1}, no_decay="none"), "no_decay:"),
    ]:
        with pytest.raises(ResumeError, match="run settings changed") as info:
            check_resume(saved, meta(tiny(tmp_path, **changed)), "x")
        assert line in str(info.value)
    # A checkpoint from before --no_decay existed decayed every parameter: it resumes with
    # --no_decay none, and is refused (not silently changed) under the new default.
    old = meta(tiny(tmp_path))
    for name in ("no_decay", "lr_mult", "freeze", "layer_decay"):
        del old["config"][name]
    assert check_resume(old, meta(tiny(tmp_path, no_decay="none")), "old") == []
    with pytest.raises(ResumeError, match="no_decay: 'none' in the checkpoint"):
        check_resume(old, meta(tiny(tmp_path)), "old")

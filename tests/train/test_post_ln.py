"""The model's ``norm`` option: Pre-LN unchanged to the bit, Post-LN where the original put it."""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import warmup_jax as wj
from train import data
from train.config import PRESETS, ModelConfig
from train.model import Block, ByteTransformer
from train.state import TrainState
from train.step import make_train_step

TINY = PRESETS["tiny"]["model"]
TWO_LAYERS = dataclasses.replace(TINY, num_layers=2)
TOKENS = (jnp.arange(2 * 16, dtype=jnp.int32).reshape(2, 16) * 37) % 256


# A copy of train/model.py's Block and ByteTransformer as they were before the norm option (git
# 033bc20): Pre-LN must stay this model, parameters and outputs alike.
class OldBlock(nn.Module):
    config: ModelConfig

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array) -> jax.Array:
        cfg = self.config
        h = nn.LayerNorm(name="ln_attn")(x)
        h = nn.MultiHeadDotProductAttention(
            num_heads=cfg.num_heads, qkv_features=cfg.d_model, name="attn"
        )(h, mask=mask)
        x = x + h
        h = nn.LayerNorm(name="ln_mlp")(x)
        h = nn.Dense(cfg.mlp_dim, name="mlp_in")(h)
        h = nn.gelu(h)
        h = nn.Dense(cfg.d_model, name="mlp_out")(h)
        return x + h


class OldByteTransformer(nn.Module):
    config: ModelConfig
    max_len: int

    @nn.compact
    def __call__(self, tokens: jax.Array) -> jax.Array:
        cfg = self.config
        embed = nn.Embed(
            cfg.vocab_size, cfg.d_model, embedding_init=nn.initializers.normal(0.02), name="embed"
        )
        positions = self.param(
            "positions", nn.initializers.normal(0.02), (self.max_len, cfg.d_model)
        )
        x = embed(tokens) + positions[: tokens.shape[-1]]
        mask = nn.make_causal_mask(tokens)
        for i in range(cfg.num_layers):
            x = OldBlock(cfg, name=f"block_{i}")(x, mask)
        x = nn.LayerNorm(name="ln_final")(x)
        return embed.attend(x)


def _init_apply(model: nn.Module) -> tuple[dict, jax.Array]:
    params = model.init(jax.random.key(0), TOKENS)["params"]
    return params, model.apply({"params": params}, TOKENS)


def _shapes(params: dict) -> dict:
    return jax.tree.map(lambda x: x.shape, params)


def test_pre_ln_is_bit_identical_to_the_model_before_the_option():
    old_params, old_out = _init_apply(OldByteTransformer(TWO_LAYERS, 16))
    for model in (ByteTransformer(TWO_LAYERS, 16), ByteTransformer(TWO_LAYERS, 16, norm="pre")):
        params, out = _init_apply(model)
        assert _shapes(params) == _shapes(old_params)
        jax.tree.map(np.testing.assert_array_equal, params, old_params)
        np.testing.assert_array_equal(out, old_out)


def test_pre_ln_outputs_match_values_saved_before_the_change():
    # Made with the code of git 033bc20 (before the norm option), on this CPU: ByteTransformer(
    # tiny's shape with 2 layers, max_len 16), init with jax.random.key(0), applied to TOKENS.
    _, out = _init_apply(ByteTransformer(TWO_LAYERS, 16))
    np.testing.assert_allclose(
        out[0, 0, :4], [0.077150255, -0.20562065, -0.09901448, 0.0080548255], rtol=1e-5
    )
    np.testing.assert_allclose(
        out[1, 15, -4:], [0.164765, -0.00481315, -0.09833244, -0.12105694], rtol=1e-5
    )
    assert float(out.sum()) == pytest.approx(-4.2610015869140625, abs=1e-3)
    assert float(jnp.abs(out).sum()) == pytest.approx(752.6627807617188, rel=1e-5)


def test_post_ln_has_the_same_parameters_but_no_final_layernorm():
    pre, _ = _init_apply(ByteTransformer(TWO_LAYERS, 16))
    post, _ = _init_apply(ByteTransformer(TWO_LAYERS, 16, norm="post"))
    expected = _shapes(pre)
    del expected["ln_final"]  # Post-LN's blocks end in a LayerNorm already
    assert _shapes(post) == expected
    # Same names, same initializers, same keys: the same initial values.
    jax.tree.map(np.testing.assert_array_equal, post, {k: v for k, v in pre.items() if k in post})


def test_post_ln_computes_something_else():
    _, pre = _init_apply(ByteTransformer(TWO_LAYERS, 16))
    _, post = _init_apply(ByteTransformer(TWO_LAYERS, 16, norm="post"))
    assert pre.shape == post.shape == (2, 16, 256)
    assert not np.allclose(pre, post, atol=1e-3)


def test_a_post_ln_block_ends_normalized_a_pre_ln_block_does_not():
    x = 3.0 + 2.0 * jax.random.normal(jax.random.key(1), (2, 16, TINY.d_model))
    mask = nn.make_causal_mask(jnp.zeros((2, 16), jnp.int32))
    for norm, normalized in (("post", True), ("pre", False)):
        block = Block(TINY, norm=norm)
        params = block.init(jax.random.key(0), x, mask)
        y = block.apply(params, x, mask)
        # Fresh LayerNorms: scale 1, bias 0, so LN(...) has mean 0 and variance 1 per position.
        is_normal = np.allclose(y.mean(-1), 0.0, atol=1e-4) and np.allclose(
            y.var(-1), 1.0, atol=1e-2
        )
        assert is_normal == normalized, norm


@pytest.mark.parametrize("norm", ["Post", "mid", "", None])
def test_an_unknown_norm_is_a_value_error_naming_the_choices(norm):
    for make in (lambda: ByteTransformer(TINY, 16, norm=norm), lambda: Block(TINY, norm=norm)):
        with pytest.raises(ValueError, match="'pre'.*'post'"):
            make()


def test_post_ln_trains_on_tiny(text_data: data.TextData):
    import optax

    seq_len, batch_size, k = 32, 8, 30
    model = ByteTransformer(TINY, seq_len, norm="post")
    params = model.init(jax.random.key(0), jnp.zeros((1, seq_len), jnp.int32))["params"]
    schedule = wj.linear_warmup(3e-3, 5)
    state = TrainState.create(
        apply_fn=model.apply, params=params, tx=optax.adamw(schedule, b1=0.9, b2=0.95)
    )
    state = state.replace(step=jnp.zeros((), jnp.int32))
    batches = data.train_batches(text_data.train, 0, 0, k, batch_size, seq_len)
    _, metrics = make_train_step(model, schedule, k)(state, jnp.asarray(batches))
    losses = np.asarray(metrics["loss"])
    assert np.all(np.isfinite(losses))
    assert losses[-5:].mean() < losses[:5].mean() - 0.3, losses

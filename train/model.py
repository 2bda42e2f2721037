"""A small decoder-only transformer over bytes (vocabulary 256), in Flax linen."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from train.config import ModelConfig


class Block(nn.Module):
    """A pre-LayerNorm transformer block: causal self-attention, then an MLP."""

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


class ByteTransformer(nn.Module):
    """Maps ``int[batch, length]`` bytes to ``float32[batch, length, 256]`` next-byte logits."""

    config: ModelConfig
    max_len: int

    @nn.compact
    def __call__(self, tokens: jax.Array) -> jax.Array:
        cfg = self.config
        # GPT-2's small init: the tied output layer then starts near uniform (loss ~ ln 256).
        embed = nn.Embed(
            cfg.vocab_size, cfg.d_model, embedding_init=nn.initializers.normal(0.02), name="embed"
        )
        positions = self.param(
            "positions", nn.initializers.normal(0.02), (self.max_len, cfg.d_model)
        )
        length = tokens.shape[-1]
        x = embed(tokens) + positions[:length]
        mask = nn.make_causal_mask(tokens)
        for i in range(cfg.num_layers):
            x = Block(cfg, name=f"block_{i}")(x, mask)
        x = nn.LayerNorm(name="ln_final")(x)
        # Tied input and output embeddings: fewer parameters for the same quality at this size.
        return embed.attend(x)


def next_byte_loss(model: ByteTransformer, params: dict, batch: jax.Array) -> jax.Array:
    """Mean cross-entropy (nats per byte) of predicting ``batch[:, 1:]`` from ``batch[:, :-1]``."""
    tokens = batch.astype(jnp.int32)
    logits = model.apply({"params": params}, tokens[:, :-1])
    return optax.softmax_cross_entropy_with_integer_labels(logits, tokens[:, 1:]).mean()

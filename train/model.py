"""A small decoder-only transformer over bytes (vocabulary 256), in Flax linen.

Two placements of the LayerNorms (``norm``):

* ``"pre"`` (the default; GPT-2's): each sublayer sees a normalized copy of the residual stream,
  which itself is never normalized until a last LayerNorm before the output layer::

      x = x + attn(LN(x));  x = x + mlp(LN(x));  ...;  logits = embed^T LN_final(x)

* ``"post"`` (the original Transformer's, Vaswani et al. 2017): the sum of the residual and the
  sublayer is normalized, so there is no last LayerNorm::

      x = LN(x + attn(x));  x = LN(x + mlp(x));  ...;  logits = embed^T x

Xiong et al. 2020 ("On Layer Normalization in the Transformer Architecture") show that at
initialization the gradients of Post-LN's last layers are large, so it needs a learning-rate
warmup, while Pre-LN trains without one. Both use the same parameter names (``ln_attn`` and
``ln_mlp`` are the LayerNorms of the attention and MLP sublayers, wherever they sit); Post-LN has
no ``ln_final``.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from train.config import ModelConfig

NORMS = ("pre", "post")


def check_norm(norm: str) -> str:
    """``norm`` if it is one of ``NORMS``, else a ``ValueError`` that names the choices."""
    if norm not in NORMS:
        raise ValueError(
            f"norm must be 'pre' (LayerNorm before each sublayer, the default) or 'post' "
            f"(LayerNorm after each residual sum, the original Transformer's), got {norm!r}"
        )
    return norm


class Block(nn.Module):
    """A transformer block: causal self-attention, then an MLP, each with a residual connection.

    ``norm="pre"``: ``x + f(LN(x))`` for each sublayer f; ``norm="post"``: ``LN(x + f(x))``.
    """

    config: ModelConfig
    norm: str = "pre"

    def __post_init__(self) -> None:
        check_norm(self.norm)
        super().__post_init__()

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array) -> jax.Array:
        cfg = self.config
        attention = nn.MultiHeadDotProductAttention(
            num_heads=cfg.num_heads, qkv_features=cfg.d_model, name="attn"
        )
        ln_attn, ln_mlp = nn.LayerNorm(name="ln_attn"), nn.LayerNorm(name="ln_mlp")

        def mlp(h: jax.Array) -> jax.Array:
            h = nn.Dense(cfg.mlp_dim, name="mlp_in")(h)
            h = nn.gelu(h)
            return nn.Dense(cfg.d_model, name="mlp_out")(h)

        if self.norm == "post":
            x = ln_attn(x + attention(x, mask=mask))
            return ln_mlp(x + mlp(x))
        h = ln_attn(x)
        x = x + attention(h, mask=mask)
        return x + mlp(ln_mlp(x))


class ByteTransformer(nn.Module):
    """Maps ``int[batch, length]`` bytes to ``float32[batch, length, 256]`` next-byte logits.

    ``norm``: ``"pre"`` (default) or ``"post"``, where the LayerNorms sit (see the module's
    docstring); anything else is a ``ValueError``.
    """

    config: ModelConfig
    max_len: int
    norm: str = "pre"

    def __post_init__(self) -> None:
        check_norm(self.norm)
        super().__post_init__()

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
            x = Block(cfg, self.norm, name=f"block_{i}")(x, mask)
        if self.norm == "pre":
            # Post-LN's blocks already end in a LayerNorm.
            x = nn.LayerNorm(name="ln_final")(x)
        # Tied input and output embeddings: fewer parameters for the same quality at this size.
        return embed.attend(x)


def next_byte_loss(model: ByteTransformer, params: dict, batch: jax.Array) -> jax.Array:
    """Mean cross-entropy (nats per byte) of predicting ``batch[:, 1:]`` from ``batch[:, :-1]``."""
    tokens = batch.astype(jnp.int32)
    logits = model.apply({"params": params}, tokens[:, :-1])
    return optax.softmax_cross_entropy_with_integer_labels(logits, tokens[:, 1:]).mean()

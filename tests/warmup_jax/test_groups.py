"""Parameter groups: LR multipliers, own schedules, weight decay, freezing, layer decay, masks."""

import json
import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import warmup_jax as wj
from warmup_jax.groups import (
    DEFAULT_NO_DECAY,
    LayerDecay,
    ParamGroups,
    Rule,
    decay_mask,
    layer_multipliers,
    param_paths,
)


def _params(seed=0):
    keys = jax.random.split(jax.random.PRNGKey(seed), 8)
    normal = jax.random.normal
    return {
        "embed": {"embedding": normal(keys[0], (10, 4))},
        "encoder": {
            f"layers_{i}": {
                "attn": {"kernel": normal(keys[1 + 2 * i], (4, 4)), "bias": jnp.zeros(4)},
                "LayerNorm_0": {"scale": jnp.ones(4), "bias": normal(keys[2 + 2 * i], (4,))},
            }
            for i in range(3)
        },
        "head": {"kernel": normal(keys[7], (4, 2)), "bias": jnp.full((2,), -0.0)},
    }


def _grads(params, seed):
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.PRNGKey(100 + seed), len(leaves))
    return jax.tree_util.tree_unflatten(
        tree, [jax.random.normal(k, x.shape) for k, x in zip(keys, leaves, strict=True)]
    )


def _run(tx, params, steps=5):
    """``steps`` jitted updates; the params after each and the updates of the last."""
    state = tx.init(params)

    @jax.jit
    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state, updates

    history = []
    for i in range(steps):
        params, state, updates = step(params, state, _grads(params, i))
        history.append((params, updates))
    return history


def _leaves_under(tree, prefix):
    return {
        path: leaf
        for path, leaf in zip(param_paths(tree), jax.tree_util.tree_leaves(tree), strict=True)
        if path.startswith(prefix)
    }


def test_paths():
    assert param_paths(_params())[:3] == [
        "embed/embedding",
        "encoder/layers_0/LayerNorm_0/bias",
        "encoder/layers_0/LayerNorm_0/scale",
    ]
    assert param_paths([{"w": 1}, (2, 3)]) == ["0/w", "1/0", "1/1"]


def test_frozen_parameters_stay_bit_identical():
    params = _params()
    groups = ParamGroups(rules=[Rule(r"^embed/", frozen=True), Rule(r"^head/", frozen=True)])
    schedule = wj.cosine_schedule_with_warmup(1e-2, 2, 10)
    tx = groups.optimizer(optax.adamw, schedule, weight_decay=0.1)
    for after, _ in _run(tx, params):
        for prefix in ("embed/", "head/"):
            before, now = _leaves_under(params, prefix), _leaves_under(after, prefix)
            for path in before:
                # bit for bit, the -0.0 of head/bias included
                assert np.asarray(now[path]).tobytes() == np.asarray(before[path]).tobytes(), path
    assert not np.array_equal(
        after["encoder"]["layers_0"]["attn"]["kernel"],
        params["encoder"]["layers_0"]["attn"]["kernel"],
    )
    # frozen groups hold no optimizer state
    state = tx.init(params)
    frozen_state = state.inner_states["^embed/"]
    assert jax.tree_util.tree_leaves(frozen_state) == []


@pytest.mark.parametrize("lr", [1e-3, wj.linear_warmup(1e-2, 3) >> wj.cosine_decay(1e-2, 10)])
def test_a_group_at_a_tenth_gets_exactly_adamw_at_a_tenth(lr):
    # Bit for bit: the group's transformation is optax.adamw itself, at 0.1 * lr (computed the
    # same way as the reference's: 0.1 * lr in Python floats, or the same warmup_jax product
    # schedule), and adamw works leaf by leaf, so partitioning changes no arithmetic.
    params = _params()
    groups = ParamGroups(rules=[Rule(r"^embed/|^head/", lr_mult=0.1, name="slow")])
    tx = groups.optimizer(optax.adamw, lr, weight_decay=0.05, b2=0.95)
    tenth = optax.adamw(0.1 * lr, weight_decay=0.05, b2=0.95)
    full = optax.adamw(lr, weight_decay=0.05, b2=0.95)
    got, want_tenth, want_full = _run(tx, params), _run(tenth, params), _run(full, params)
    for (p, u), (pt, ut), (pf, uf) in zip(got, want_tenth, want_full, strict=True):
        for prefix, (want_p, want_u) in (
            ("embed/", (pt, ut)),
            ("head/", (pt, ut)),
            ("encoder/", (pf, uf)),
        ):
            for tree, want in ((p, want_p), (u, want_u)):
                a, b = _leaves_under(tree, prefix), _leaves_under(want, prefix)
                for path in a:
                    np.testing.assert_array_equal(np.asarray(a[path]), np.asarray(b[path]), path)


def test_own_schedule_and_weight_decay_multiplier():
    params = _params()
    own = wj.linear_warmup(5e-3, 4)
    groups = ParamGroups(
        rules=[Rule(r"^head/", schedule=own, wd_mult=0.0), Rule(r"^embed/", wd_mult=2.0)]
    )
    tx = groups.optimizer(optax.adamw, 1e-3, weight_decay=0.1)
    ref_head = optax.adamw(own, weight_decay=0.0)
    ref_embed = optax.adamw(1e-3, weight_decay=0.2)
    for (p, _), (ph, _), (pe, _) in zip(
        _run(tx, params), _run(ref_head, params), _run(ref_embed, params), strict=True
    ):
        for prefix, want in (("head/", ph), ("embed/", pe)):
            a, b = _leaves_under(p, prefix), _leaves_under(want, prefix)
            for path in a:
                np.testing.assert_array_equal(np.asarray(a[path]), np.asarray(b[path]), path)
    rates = groups.learning_rates(1e-3, params)
    assert rates["^head/"] is own and rates["^embed/"] == 1e-3 and rates["default"] == 1e-3


def test_first_matching_rule_wins_and_unmatched_get_the_default():
    groups = ParamGroups(
        rules=[Rule("attn", lr_mult=0.5, name="attn"), Rule("layers_1", lr_mult=0.1, name="l1")]
    )
    assigned = groups.assign(_params())
    assert assigned["encoder/layers_1/attn/kernel"].label == "attn"
    assert assigned["encoder/layers_1/LayerNorm_0/scale"].label == "l1"
    assert assigned["embed/embedding"].label == "default"
    assert assigned["embed/embedding"].lr_mult == 1.0
    assert groups.unmatched(_params()) == []
    assert ParamGroups(rules=[Rule("nothing_here")]).unmatched(_params()) == ["nothing_here"]


def test_layer_decay_multipliers_are_exact():
    decay = LayerDecay(0.65, num_layers=4, layer=r"layers_(\d+)", unmatched_layer=None)
    groups = ParamGroups(rules=[Rule("^head/", lr_mult=2.0, name="head")], layer_decay=decay)
    assigned = groups.assign(_params())
    for i in range(3):
        group = assigned[f"encoder/layers_{i}/attn/kernel"]
        assert group.lr_mult == 0.65 ** (4 - i)
        assert group.label == f"default/layer_{i}"
    assert assigned["head/kernel"].lr_mult == 2.0  # unmatched: the top layer, 0.65 ** 0
    assert layer_multipliers(0.5, 3) == [0.125, 0.25, 0.5, 1.0]
    # a function that puts embeddings at layer 0
    by_function = LayerDecay(
        0.5,
        num_layers=4,
        layer=lambda path: 0 if path.startswith("embed") else None,
        unmatched_layer=4,
    )
    assert ParamGroups(layer_decay=by_function).group_of("embed/embedding").lr_mult == 0.0625
    # and the optimizer's updates follow them: at layer_0 the update is adamw at 0.65**4 * lr
    tx = groups.optimizer(optax.adamw, 1e-2, weight_decay=0.0)
    reference = optax.adamw(0.65**4 * 1e-2, weight_decay=0.0)
    got, want = _run(tx, _params(), 2)[-1][1], _run(reference, _params(), 2)[-1][1]
    np.testing.assert_array_equal(
        got["encoder"]["layers_0"]["attn"]["kernel"], want["encoder"]["layers_0"]["attn"]["kernel"]
    )


def test_layer_outside_the_range_is_refused():
    decay = LayerDecay(0.5, num_layers=1)
    with pytest.raises(ValueError, match="layers_2.*outside"):
        decay.layer_of("encoder/layers_2/kernel")


def test_the_standard_decay_mask():
    mask = decay_mask(_params())
    assert mask["embed"]["embedding"] is False
    layer = mask["encoder"]["layers_0"]
    assert layer["attn"]["kernel"] is True and layer["attn"]["bias"] is False
    assert layer["LayerNorm_0"]["scale"] is False and layer["LayerNorm_0"]["bias"] is False
    assert mask["head"] == {"kernel": True, "bias": False}
    for path, decays in {
        "transformer/h/0/ln_1/scale": False,
        "transformer/wte/embedding": False,
        "transformer/h/0/mlp/c_fc/kernel": True,
        "mlp/linear/w": True,
        "mlp/linear/b": False,
        "block/norm1/weight": False,
        "block/RMSNorm_0/scale": False,
        "lm_head/kernel": True,
        "model/embed_tokens/weight": False,
    }.items():
        assert (re.search(DEFAULT_NO_DECAY, path) is None) == decays, path
    # as adamw's mask: biases keep their value under weight decay with zero gradients
    params = _params()
    tx = optax.adamw(1e-1, weight_decay=0.5, mask=decay_mask)
    state = tx.init(params)
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    updates, _ = tx.update(zeros, state, params)
    assert np.all(np.asarray(updates["head"]["bias"]) == 0)
    assert np.any(np.asarray(updates["head"]["kernel"]) != 0)


def test_no_decay_in_groups_matches_adamw_with_the_mask():
    params = _params()
    groups = ParamGroups(no_decay=DEFAULT_NO_DECAY)
    tx = groups.optimizer(optax.adamw, 1e-2, weight_decay=0.3)
    reference = optax.adamw(1e-2, weight_decay=0.3, mask=decay_mask)
    for (p, _), (q, _) in zip(_run(tx, params), _run(reference, params), strict=True):
        for a, b in zip(jax.tree_util.tree_leaves(p), jax.tree_util.tree_leaves(q), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_config_round_trip():
    own = wj.cosine_decay(1e-3, 100)
    groups = ParamGroups(
        rules=[
            Rule("^embed/", frozen=True, name="embed"),
            Rule("^head/", lr_mult=10.0, schedule=own, wd_mult=0.0),
        ],
        layer_decay=LayerDecay(0.75, num_layers=3),
        no_decay=DEFAULT_NO_DECAY,
    )
    config = json.loads(json.dumps(groups.to_config()))
    again = ParamGroups.from_config(config)
    assert again == groups
    assert again.assign(_params()) == groups.assign(_params())
    function = LayerDecay(0.5, 2, layer=lambda path: None)
    recorded = ParamGroups(layer_decay=function).to_config()
    assert "function" in recorded["layer_decay"]["layer"]
    with pytest.raises(ValueError, match="pass it as layer="):
        ParamGroups.from_config(recorded)
    assert ParamGroups.from_config(recorded, layer=function.layer).layer_decay.num_layers == 2


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Rule("embed(", lr_mult=0.1), r"rule 'embed\(': .*not a valid regular"),
        (lambda: Rule("embed", lr_mult=-1.0), "rule 'embed': lr_mult"),
        (lambda: Rule("embed", lr_mult=float("nan")), "rule 'embed': lr_mult"),
        (lambda: Rule("embed", lr_mult="x"), "rule 'embed': lr_mult"),
        (lambda: Rule("embed", wd_mult=float("inf"), name="e"), "rule 'e': wd_mult"),
        (lambda: Rule("embed", frozen=True, lr_mult=0.1), "frozen"),
        (lambda: Rule("embed", frozen=1), "frozen"),
        (lambda: Rule(3), "regular expression"),
        (lambda: Rule("x", name="default"), "default"),
        (lambda: ParamGroups(rules=[Rule("a", name="n"), Rule("b", name="n")]), "same name"),
        (lambda: ParamGroups(rules=["embed"]), "must be a Rule"),
        (lambda: ParamGroups(no_decay="(("), "no_decay"),
        (lambda: LayerDecay(1.5, 3), "factor"),
        (lambda: LayerDecay(0.0, 3), "factor"),
        (lambda: LayerDecay(0.5, -1), "num_layers"),
        (lambda: LayerDecay(0.5, 3, layer="layers_[0-9]+"), "group"),
        (lambda: LayerDecay(0.5, 3, unmatched_layer=4), "unmatched_layer"),
        (
            lambda: ParamGroups(rules=[Rule("a", wd_mult=0.0)]).optimizer(optax.adam, 1e-3),
            "weight_decay",
        ),
    ],
)
def test_bad_rules_are_value_errors_naming_the_rule(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_works_under_jit_and_for_other_factories():
    params = _params()
    groups = ParamGroups(rules=[Rule("^embed/", lr_mult=0.1)])
    tx = groups.optimizer(optax.sgd, 0.1, momentum=0.9)
    state = jax.jit(tx.init)(params)
    grads = _grads(params, 0)
    updates, state = jax.jit(tx.update)(grads, state, params)
    np.testing.assert_allclose(
        np.asarray(updates["embed"]["embedding"]),
        np.asarray(-0.1 * 0.1 * grads["embed"]["embedding"]),
        rtol=1e-6,
    )

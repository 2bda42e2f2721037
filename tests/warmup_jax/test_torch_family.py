"""The PyTorch family (issue 13) gives the values torch's own test suite expects.

What this pins: ``wj.step_lr``, ``wj.multi_step_lr``, ``wj.constant_lr``, ``wj.linear_lr``,
``wj.exponential_lr``, ``wj.polynomial_lr``, ``wj.cosine_annealing_lr``,
``wj.cosine_annealing_warm_restarts``, ``wj.cyclic_lr`` / ``wj.cyclic_momentum``,
``wj.one_cycle_lr`` / ``wj.one_cycle_momentum``, ``wj.sequential_lr`` and
``wj.chained_scheduler``, against the expected lists of pytorch's
``test/optim/test_lrscheduler.py`` (class ``TestLRScheduler``). Each case's id is the name of the
torch test it comes from; where torch builds its list programmatically (``[0.05] * 3 + ...``,
list comprehensions, its ``annealing_cos`` helper, the loop of
``test_CosineAnnealingWarmRestarts_lr1``) the same expression is transcribed here. A few cases
marked "derived" are not in torch's suite (torch's defaults, ``epochs``/``steps_per_epoch``, a
fractional phase end); their expressions follow torch's closed forms.

Every list was checked against a real torch 2.13 (CPU, float64) by driving the torch scheduler
with the same arguments and reading ``scheduler.get_last_lr()[0]`` and the optimizer's
``momentum`` (SGD) / ``betas[0]`` (Adam) after k calls of ``scheduler.step()``. Where torch's
published list and the real torch differ, the real torch is kept and a comment says so.

Step mapping: warmup_jax step k is torch's LR after k calls of ``scheduler.step()``
(``last_epoch == k``), i.e. the LR used for update k; so entry k of torch's list (read before the
(k+1)-th ``step()``) is ``schedule(k)``.

torch's test optimizer has two param groups, lr 0.05 and lr 0.5; its second list is usually
``[x * epochs for x in single_targets]`` with ``epochs = 10``. Both groups are pinned here as two
cases (``-lr0.05`` and ``-lr0.5``).

Values are compared in float32 against torch's float64 with
``rtol=2e-6, atol=1e-7 * max(abs(expected))``; where torch's value is exact in float32 (25.0,
0.5, 0.25, ...) the value at the phase ends (first, peak, boundary, last steps) must be exact.
"""

import math
from bisect import bisect_right

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import warmup_jax as wj

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def values(schedule, n) -> np.ndarray:
    """The schedule at steps 0 .. n-1, in one jitted call."""
    return np.asarray(jax.jit(schedule)(jnp.arange(n, dtype=jnp.int32)))


def values_at(schedule, steps) -> np.ndarray:
    """The schedule at the given steps, in one jitted call."""
    return np.asarray(jax.jit(schedule)(jnp.asarray(steps, dtype=jnp.int32)))


def assert_torch_close(got, expected):
    """float32 ``got`` against torch's float64 ``expected``."""
    expected = np.asarray(expected, dtype=np.float64)
    assert got.dtype == np.float32, got.dtype
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(
        got, expected, rtol=2e-6, atol=1e-7 * float(np.max(np.abs(expected)))
    )


def assert_exact_at(got, expected, steps):
    """At each of ``steps`` where torch's float64 value is exact in float32, equality."""
    for k in steps:
        v = float(expected[k])
        if float(np.float32(v)) == v:
            assert got[k] == np.float32(v), f"step {k}: got {got[k]!r}, torch gives exactly {v!r}"


def build(spec, lr=None):
    """A schedule from ``(function name, keyword arguments)``; ``lr`` is the optimizer's LR,
    passed first (None for CyclicLR / OneCycleLR, which set the LR themselves).
    ``sequential_lr`` / ``chained_scheduler`` take their sub-schedules as specs."""
    name, kwargs = spec
    kwargs = dict(kwargs)
    if "schedulers" in kwargs:
        kwargs["schedulers"] = [build(s, lr) for s in kwargs["schedulers"]]
    if name == "sequential_lr":
        return wj.sequential_lr(kwargs["schedulers"], kwargs["milestones"])
    if lr is None:
        return getattr(wj, name)(**kwargs)
    return getattr(wj, name)(lr, **kwargs)


def evaluate_all(cases):
    """``{key: (make, steps)}`` -> ``{key: values or the exception}``: every schedule is built,
    then all are evaluated in ONE jitted call, each on its own int32 steps (one compilation for
    a whole parametrized list instead of one per case keeps this file fast). A schedule that
    fails to build keeps its exception; if the joint call fails, each is evaluated on its own
    (``values_at``) so the failure lands on its own case."""
    results, built = {}, {}
    for key, (make, steps) in cases.items():
        try:
            built[key] = (make(), jnp.asarray(steps, dtype=jnp.int32))
        except Exception as error:  # noqa: BLE001  (re-raised by the case's own test)
            results[key] = error
    try:
        joint = jax.jit(lambda ks: {key: s(ks[key]) for key, (s, _) in built.items()})
        out = joint({key: steps for key, (_, steps) in built.items()})
        results.update({key: np.asarray(v) for key, v in out.items()})
    except Exception:  # noqa: BLE001
        for key, (schedule, steps) in built.items():
            try:
                results[key] = values_at(schedule, steps)
            except Exception as error:  # noqa: BLE001
                results[key] = error
    return results


def result(results, key) -> np.ndarray:
    got = results[key]
    if isinstance(got, Exception):
        raise got
    return got


def _groups(torch_test, spec, group0, group1, ends=(0,), lrs=(0.05, 0.5)):
    """torch's two param groups (lr 0.05 and 0.5) as two cases; ``group1=None``: one group."""
    cases = [pytest.param(spec, lrs[0], group0, ends, id=f"{torch_test}-lr{lrs[0]}")]
    if group1 is not None:
        cases.append(pytest.param(spec, lrs[1], group1, ends, id=f"{torch_test}-lr{lrs[1]}"))
    return cases


def annealing_cos(start, end, pct):
    # torch: the helper inside test_onecycle_lr_cosine_annealing (and OneCycleLR._annealing_cos).
    cos_out = math.cos(math.pi * pct) + 1
    return end + (start - end) / 2.0 * cos_out


def _warm_restarts_lr1(base_lr, T_mult, iters=100, eta_min=1e-10, T_i=10):
    # torch: test_CosineAnnealingWarmRestarts_lr1, its loop as written (one group at a time).
    T_cur = 0
    targets = [base_lr]
    for _ in range(1, iters, 1):
        T_cur += 1
        if T_cur >= T_i:
            T_cur = T_cur - T_i
            T_i = int(T_mult) * T_i
        targets += [eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2]
    return targets


def _warm_restarts_lr3(base_lr, T_curs, T_is, eta_min=1e-10):
    # torch: test_CosineAnnealingWarmRestarts_lr3, targets for one group.
    return [base_lr] + [
        eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2
        for T_cur, T_i in zip(T_curs, T_is, strict=True)
    ]


def _cos_anneal(base_lr, T_max, epochs, eta_min=1e-10):
    # torch: test_cos_anneal_lr's list; for test_closed_form_cos_anneal_lr the same formula is
    # CosineAnnealingLR._get_closed_form_lr, which torch compares against (periodic past T_max).
    return [
        eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * x / T_max)) / 2
        for x in range(epochs)
    ]


# ---------------------------------------------------------------------------------------------
# Expected lists: the LR-factor family (an optimizer LR `lr` first)
# ---------------------------------------------------------------------------------------------

# test_step_lr (12 entries; torch checks the first epochs = 10, the real torch gives all 12)
STEP_LR = [0.05] * 3 + [0.005] * 3 + [0.0005] * 3 + [0.00005] * 3
# test_get_last_lr_step_lr (optimizer lr 0.1, one group)
GET_LAST_LR_STEP_LR = [0.1] * 3 + [0.01] * 3 + [0.001] * 3 + [0.0001]
# test_closed_form_step_lr: StepLR._get_closed_form_lr over 20 epochs
CLOSED_FORM_STEP_LR = [0.05 * 0.1 ** (k // 3) for k in range(20)]
# test_multi_step_lr (12 entries; torch checks 10, the real torch gives all 12)
MULTI_STEP_LR = [0.05] * 2 + [0.005] * 3 + [0.0005] * 4 + [0.00005] * 3
# test_closed_form_multi_step_lr: MultiStepLR._get_closed_form_lr over 20 epochs
CLOSED_FORM_MULTI_STEP_LR = [0.05 * 0.1 ** bisect_right([2, 5, 9], k) for k in range(20)]
# test_constantlr
CONSTANTLR = [0.025] * 5 + [0.05] * 5
# test_closed_form_constantlr: ConstantLR._get_closed_form_lr (factor 1/3, total_iters 4)
CLOSED_FORM_CONSTANTLR = [0.05 * (1.0 / 3 + (k >= 4) * (1 - 1.0 / 3)) for k in range(20)]
# test_linearlr (start_factor = 1/2, iters = 4, epochs = 10)
LINEARLR = [x * 0.05 for x in [1.0 / 2 + i * (1 - 1.0 / 2) / 4 for i in range(4)]] + [0.05] * (
    10 - 4
)
# test_get_last_lr_linearlr (start_factor = 1/4, end_factor = 3/5, iters = 4, epochs = 10)
GET_LAST_LR_LINEARLR = [
    x * 0.05 for x in [1.0 / 4 + i * (3.0 / 5 - 1.0 / 4) / 4 for i in range(4)]
] + [0.05 * (3.0 / 5)] * (10 - 4)
# test_closed_form_linearlr: LinearLR._get_closed_form_lr (1/3 -> 0.7 over 4 iters), 20 epochs
CLOSED_FORM_LINEARLR = [0.05 * (1.0 / 3 + (0.7 - 1.0 / 3) * min(4, k) / 4) for k in range(20)]
# test_exp_lr
EXP_LR = [0.05 * (0.9**x) for x in range(10)]
# test_closed_form_exp_lr: ExponentialLR._get_closed_form_lr over 20 epochs
CLOSED_FORM_EXP_LR = [0.05 * 0.9**k for k in range(20)]
# test_poly_lr (power = 0.9, total_iters = 5, epochs = 10)
POLY_LR = [(1.0 - x / 5) ** 0.9 * 0.05 for x in range(5)] + [0.0] * (10 - 5)
# test_closed_form_poly_lr: PolynomialLR(power=0.9) with its default total_iters = 5, 20 epochs
CLOSED_FORM_POLY_LR = [0.05 * (1.0 - min(5, k) / 5) ** 0.9 for k in range(20)]

# test_sequentiallr1 (epochs = 19)
SEQUENTIALLR1 = (
    [0.05, 0.04, 0.032]
    + [0.05 for x in range(4)]
    + [0.05 * 0.1 for x in range(4)]
    + [0.05 * 0.01 for x in range(4)]
    + [0.05 * 0.001 for x in range(4)]
)
# test_sequentiallr2 (epochs = 13)
SEQUENTIALLR2 = [0.005, 0.005, 0.005] + [0.05 * 0.9**x for x in range(10)]
# test_sequentiallr3 (epochs = 12); test_get_last_lr_sequentiallr: the same, and x * 10 for 0.5
SEQUENTIALLR3 = (
    [0.005, 0.005, 0.005] + [0.05, 0.04, 0.032] + [0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005]
)
# test_sequentiallr5: a ChainedScheduler inside a SequentialLR
SEQUENTIALLR5 = [0.0005, 0.0014, 0.0023, 0.0032, 0.0041] + [0.025, 0.025, 0.025, 0.025, 0.025]
# test_sequentiallr_does_not_alias_lr_and_initial_lr (optimizer lr 2.0)
SEQUENTIALLR_NO_ALIAS = [0.2, 0.55, 0.9, 1.25, 1.6, 1.25, 0.9, 0.55]

# test_chained_lr1 (12 entries, torch checks 10; the real torch gives all 12)
CHAINED_LR1 = [0.05] * 3 + [0.005] * 3 + [0.0005] * 3 + [0.00005] * 3
# test_chained_lr2 (12 entries, torch checks 10; the real torch gives all 12)
CHAINED_LR2 = [0.02, 0.03, 0.04] + [0.05] * 9
# test_chained_lr3: torch's list has 14 entries but torch checks only epochs = 10 of them, and
# entry 10 of the published list (0.0005) is NOT what torch gives: milestone 10 makes it 0.00005
# in the real torch 2.13. So the list is cut at the 10 entries torch checks.
CHAINED_LR3 = ([0.02, 0.03, 0.04, 0.05] + [0.005] * 4 + [0.0005] * 3 + [0.00005] * 3)[:10]
# test_chained_lr4 (epochs = 9)
CHAINED_LR4 = (
    [0.05 * 0.2 * 0.9**x for x in range(3)]
    + [0.05 * 0.2 * 0.9**3 * 0.1]
    + [0.05 * 0.9**x * 0.1 for x in range(4, 6)]
    + [0.05 * 0.9**x * 0.01 for x in range(6, 9)]
)


def _poly_lr(lr, total_iters=5, power=0.9, epochs=10):
    # torch: the poly_lr helper inside test_chained_lr5
    return [(lr * ((1.0 - x / total_iters) ** power)) for x in range(total_iters)] + [0.0] * (
        epochs - total_iters
    )


# test_chained_lr5 (const_factor = 0.1)
CHAINED_LR5 = [x * 0.1 for x in _poly_lr(lr=0.05)]
CHAINED_LR5_HALF = [x * 0.1 for x in _poly_lr(0.5)]

# The test_compound_* tests step several schedulers on one optimizer, which is what
# ChainedScheduler does: they are pinned through wj.chained_scheduler.
# test_compound_step_and_multistep_lr
COMPOUND_STEP_MULTISTEP = [0.05] * 2 + [0.005] * 1 + [5e-4] * 2 + [5e-5] + [5e-6] * 3 + [5e-8]
# test_compound_step_and_exp_lr (12 entries, torch checks 10; the real torch gives all 12)
COMPOUND_STEP_EXP = (
    [0.05 * (0.9**x) for x in range(3)]
    + [0.005 * (0.9**x) for x in range(3, 6)]
    + [0.0005 * (0.9**x) for x in range(6, 9)]
    + [0.00005 * (0.9**x) for x in range(9, 12)]
)
# test_compound_exp_and_multistep_lr (11 entries)
COMPOUND_EXP_MULTISTEP = (
    [0.05 * (0.9**x) for x in range(2)]
    + [0.005 * (0.9**x) for x in range(2, 5)]
    + [0.0005 * (0.9**x) for x in range(5, 9)]
    + [0.00005 * (0.9**x) for x in range(9, 11)]
)
# test_compound_exp_and_linearlr (start_factor 0.4, end_factor 0.9, iters 4; 11 entries)
COMPOUND_EXP_LINEARLR = [0.05 * (0.9**x) * (0.4 + x / 4 * (0.9 - 0.4)) for x in range(4)] + [
    0.05 * (0.9**x) * 0.9 for x in range(4, 11)
]
# test_compound_step_and_constantlr (12 entries)
COMPOUND_STEP_CONSTANTLR = (
    [0.05 * 0.4] * 3 + [0.005 * 0.4] + [0.005] * 2 + [0.0005] * 3 + [0.00005] * 3
)
# test_compound_linearlr_and_multistep_lr (start_factor 0.4, iters 4; 11 entries)
COMPOUND_LINEARLR_MULTISTEP = [
    x * (0.4 + i / 4 * (1 - 0.4)) if i < 4 else x
    for i, x in enumerate([0.05] * 2 + [0.005] * 3 + [0.0005] * 4 + [0.00005] * 2)
]


# The cosine compounds, as functions of the base LR. torch's second list is x * 10 of the lr 0.05
# one, which also multiplies eta_min by 10 (about 9e-10 off what torch gives for lr 0.5); the
# same formula with base 0.5 is kept for the lr 0.5 group.
def _compound_cosanneal_step(base):
    # test_compound_cosanneal_and_step_lr
    return [x * 0.1 ** (i // 3) for i, x in enumerate(_cos_anneal(base, 10, 10))]


def _compound_cosanneal_multistep(base):
    # test_compound_cosanneal_and_multistep_lr
    multipliers = [1] * 2 + [0.1] * 3 + [0.01] * 4 + [0.001]
    return [x * y for x, y in zip(_cos_anneal(base, 10, 10), multipliers, strict=True)]


def _compound_cosanneal_linearlr(base):
    # test_compound_cosanneal_and_linearlr (start_factor 0.4, iters 4)
    return [
        x * (0.4 + i / 4 * (1 - 0.4)) if i < 4 else x
        for i, x in enumerate(_cos_anneal(base, 10, 10))
    ]


def _compound_cosanneal_exp(base):
    # test_compound_cosanneal_and_exp_lr (gamma 0.1: values down to 1e-12)
    return [x * 0.1**i for i, x in enumerate(_cos_anneal(base, 10, 10))]


def _ten(xs):
    # torch: targets[1] = [x * epochs for x in single_targets], epochs = 10 (the lr 0.5 group)
    return [x * 10 for x in xs]


def _chained(*specs):
    return ("chained_scheduler", {"schedulers": list(specs)})


STEP3 = ("step_lr", {"step_size": 3, "gamma": 0.1})
MULTI_2_5_9 = ("multi_step_lr", {"milestones": [2, 5, 9], "gamma": 0.1})
EXP09 = ("exponential_lr", {"gamma": 0.9})
COS10 = ("cosine_annealing_lr", {"T_max": 10, "eta_min": 1e-10})
LIN04 = ("linear_lr", {"start_factor": 0.4, "total_iters": 4})

LR_CASES = [
    # StepLR
    *_groups("test_step_lr", STEP3, STEP_LR, _ten(STEP_LR), ends=(0, 3, 6, 9, 11)),
    *_groups(
        "test_get_last_lr_step_lr",
        ("step_lr", {"step_size": 3, "gamma": 0.1}),
        GET_LAST_LR_STEP_LR,
        None,
        lrs=(0.1,),
    ),
    *_groups("test_closed_form_step_lr", STEP3, CLOSED_FORM_STEP_LR, _ten(CLOSED_FORM_STEP_LR)),
    # MultiStepLR
    *_groups(
        "test_multi_step_lr", MULTI_2_5_9, MULTI_STEP_LR, _ten(MULTI_STEP_LR), ends=(0, 2, 5, 9)
    ),
    *_groups(
        "test_closed_form_multi_step_lr",
        MULTI_2_5_9,
        CLOSED_FORM_MULTI_STEP_LR,
        _ten(CLOSED_FORM_MULTI_STEP_LR),
    ),
    # ConstantLR
    *_groups(
        "test_constantlr",
        ("constant_lr", {"factor": 1.0 / 2, "total_iters": 5}),
        CONSTANTLR,
        _ten(CONSTANTLR),
        ends=(0, 4, 5, 9),
    ),
    *_groups(
        "test_closed_form_constantlr",
        ("constant_lr", {"factor": 1.0 / 3, "total_iters": 4}),
        CLOSED_FORM_CONSTANTLR,
        _ten(CLOSED_FORM_CONSTANTLR),
        ends=(0, 3, 4, 19),
    ),
    # LinearLR
    *_groups(
        "test_linearlr",
        ("linear_lr", {"start_factor": 1.0 / 2, "total_iters": 4}),
        LINEARLR,
        _ten(LINEARLR),
        ends=(0, 4, 9),
    ),
    *_groups(
        "test_get_last_lr_linearlr",
        ("linear_lr", {"start_factor": 1.0 / 4, "end_factor": 3.0 / 5, "total_iters": 4}),
        GET_LAST_LR_LINEARLR,
        _ten(GET_LAST_LR_LINEARLR),
        ends=(0, 4, 9),
    ),
    *_groups(
        "test_closed_form_linearlr",
        ("linear_lr", {"start_factor": 1.0 / 3, "end_factor": 0.7, "total_iters": 4}),
        CLOSED_FORM_LINEARLR,
        _ten(CLOSED_FORM_LINEARLR),
        ends=(0, 4, 19),
    ),
    # ExponentialLR
    *_groups("test_exp_lr", EXP09, EXP_LR, _ten(EXP_LR)),
    *_groups("test_closed_form_exp_lr", EXP09, CLOSED_FORM_EXP_LR, _ten(CLOSED_FORM_EXP_LR)),
    # PolynomialLR
    *_groups(
        "test_poly_lr",
        ("polynomial_lr", {"total_iters": 5, "power": 0.9}),
        POLY_LR,
        _ten(POLY_LR),
        ends=(0, 5, 9),
    ),
    *_groups(
        "test_closed_form_poly_lr",
        ("polynomial_lr", {"power": 0.9}),
        CLOSED_FORM_POLY_LR,
        _ten(CLOSED_FORM_POLY_LR),
        ends=(0, 5, 19),
    ),
    # CosineAnnealingLR
    *_groups(
        # torch's second list is x * 10 of the first, which multiplies eta_min by 10 too; the
        # real torch with lr 0.5 gives the formula with base_lr 0.5 (about 9e-10 apart).
        "test_cos_anneal_lr",
        COS10,
        _cos_anneal(0.05, 10, 10),
        _cos_anneal(0.5, 10, 10),
    ),
    *_groups(
        # torch's closed form goes on past T_max as a cosine of period 2 * T_max (back up to
        # lr at 2 * T_max); the real torch's recursive form does the same.
        "test_closed_form_cos_anneal_lr",
        ("cosine_annealing_lr", {"T_max": 5, "eta_min": 1e-10}),
        _cos_anneal(0.05, 5, 20),
        _cos_anneal(0.5, 5, 20),
        ends=(0, 5, 10, 15),
    ),
    # CosineAnnealingWarmRestarts
    *(
        case
        for T_mult, restarts in [(1, range(0, 100, 10)), (2, (0, 10, 30, 70)), (4, (0, 10, 50))]
        for case in _groups(
            f"test_CosineAnnealingWarmRestarts_lr1[T_mult={T_mult}]",
            (
                "cosine_annealing_warm_restarts",
                {"T_0": 10, "T_mult": T_mult, "eta_min": 1e-10},
            ),
            _warm_restarts_lr1(0.05, T_mult),
            _warm_restarts_lr1(0.5, T_mult),
            ends=(*restarts, 99),
        )
    ),
    # SequentialLR
    *_groups(
        "test_sequentiallr1",
        (
            "sequential_lr",
            {
                "schedulers": [
                    ("exponential_lr", {"gamma": 0.8}),
                    ("step_lr", {"gamma": 0.1, "step_size": 4}),
                ],
                "milestones": [3],
            },
        ),
        SEQUENTIALLR1,
        None,
    ),
    *_groups(
        "test_sequentiallr2",
        (
            "sequential_lr",
            {
                "schedulers": [
                    ("constant_lr", {"factor": 0.1, "total_iters": 3}),
                    ("exponential_lr", {"gamma": 0.9}),
                ],
                "milestones": [3],
            },
        ),
        SEQUENTIALLR2,
        None,
    ),
    *_groups(
        # test_sequentiallr3 (lr 0.05); test_get_last_lr_sequentiallr gives x * 10 for lr 0.5
        "test_sequentiallr3",
        (
            "sequential_lr",
            {
                "schedulers": [
                    ("constant_lr", {"factor": 0.1, "total_iters": 3}),
                    ("exponential_lr", {"gamma": 0.8}),
                    ("step_lr", {"gamma": 0.1, "step_size": 2}),
                ],
                "milestones": [3, 6],
            },
        ),
        SEQUENTIALLR3,
        [x * 10 for x in SEQUENTIALLR3],
        ends=(0, 3, 6, 11),
    ),
    *_groups(
        "test_sequentiallr5",
        (
            "sequential_lr",
            {
                "schedulers": [
                    _chained(
                        ("linear_lr", {"start_factor": 0.1, "total_iters": 5}),
                        ("constant_lr", {"factor": 0.1, "total_iters": 5}),
                    ),
                    ("constant_lr", {"factor": 0.5, "total_iters": 5}),
                ],
                "milestones": [5],
            },
        ),
        SEQUENTIALLR5,
        None,
    ),
    *_groups(
        "test_sequentiallr_does_not_alias_lr_and_initial_lr",
        (
            "sequential_lr",
            {
                "schedulers": [
                    ("linear_lr", {"start_factor": 0.1, "end_factor": 0.8, "total_iters": 4}),
                    ("linear_lr", {"start_factor": 0.8, "end_factor": 0.1, "total_iters": 4}),
                ],
                "milestones": [4],
            },
        ),
        SEQUENTIALLR_NO_ALIAS,
        None,
        lrs=(2.0,),
        ends=(0, 4, 7),
    ),
    # ChainedScheduler
    *_groups("test_chained_lr1", _chained(STEP3), CHAINED_LR1, None),
    *_groups(
        "test_chained_lr2",
        _chained(("linear_lr", {"start_factor": 0.4, "total_iters": 3})),
        CHAINED_LR2,
        None,
    ),
    *_groups(
        "test_chained_lr3",
        _chained(
            ("linear_lr", {"start_factor": 0.4, "total_iters": 3}),
            ("multi_step_lr", {"milestones": [4, 8, 10], "gamma": 0.1}),
        ),
        CHAINED_LR3,
        None,
    ),
    *_groups(
        "test_chained_lr4",
        _chained(
            EXP09,
            ("constant_lr", {"factor": 0.2, "total_iters": 4}),
            STEP3,
        ),
        CHAINED_LR4,
        None,
    ),
    *_groups(
        "test_chained_lr5",
        _chained(
            ("polynomial_lr", {"power": 0.9, "total_iters": 5}),
            ("constant_lr", {"factor": 0.1}),
        ),
        CHAINED_LR5,
        CHAINED_LR5_HALF,
        ends=(5, 9),
    ),
    # Several schedulers on one optimizer (the test_compound_* tests) = ChainedScheduler
    *_groups(
        "test_compound_step_and_multistep_lr",
        _chained(STEP3, MULTI_2_5_9),
        COMPOUND_STEP_MULTISTEP,
        None,
    ),
    *_groups(
        "test_compound_step_and_exp_lr",
        _chained(STEP3, EXP09),
        COMPOUND_STEP_EXP,
        _ten(COMPOUND_STEP_EXP),
    ),
    *_groups(
        "test_compound_exp_and_multistep_lr",
        _chained(MULTI_2_5_9, EXP09),
        COMPOUND_EXP_MULTISTEP,
        _ten(COMPOUND_EXP_MULTISTEP),
    ),
    *_groups(
        "test_compound_exp_and_linearlr",
        _chained(("linear_lr", {"start_factor": 0.4, "end_factor": 0.9, "total_iters": 4}), EXP09),
        COMPOUND_EXP_LINEARLR,
        _ten(COMPOUND_EXP_LINEARLR),
    ),
    *_groups(
        "test_compound_step_and_constantlr",
        _chained(STEP3, ("constant_lr", {"factor": 0.4, "total_iters": 4})),
        COMPOUND_STEP_CONSTANTLR,
        _ten(COMPOUND_STEP_CONSTANTLR),
    ),
    *_groups(
        "test_compound_linearlr_and_multistep_lr",
        _chained(MULTI_2_5_9, LIN04),
        COMPOUND_LINEARLR_MULTISTEP,
        _ten(COMPOUND_LINEARLR_MULTISTEP),
    ),
    # In the cosine compounds the real torch differs from these lists by up to 7.3e-11
    # (absolute): CosineAnnealingLR's recursive form adds eta_min = 1e-10 after the other
    # schedulers scaled the LR down. That is far inside the tolerance (it is relative only at
    # cosanneal_and_exp's last steps, where the LR is ~1e-12 and atol governs), and these lists
    # are wj.chained_scheduler's product lr * prod(s_i(k) / lr).
    *(
        case
        for name, chain, f in [
            (
                "test_compound_cosanneal_and_step_lr",
                _chained(COS10, STEP3),
                _compound_cosanneal_step,
            ),
            (
                "test_compound_cosanneal_and_multistep_lr",
                _chained(COS10, MULTI_2_5_9),
                _compound_cosanneal_multistep,
            ),
            (
                "test_compound_cosanneal_and_linearlr",
                _chained(LIN04, COS10),
                _compound_cosanneal_linearlr,
            ),
            (
                "test_compound_cosanneal_and_exp_lr",
                _chained(COS10, ("exponential_lr", {"gamma": 0.1})),
                _compound_cosanneal_exp,
            ),
        ]  # fmt: skip
        for case in _groups(name, chain, f(0.05), f(0.5))
    ),
]


@pytest.fixture(scope="module")
def lr_family():
    return evaluate_all(
        {
            repr((spec, lr, len(expected))): (lambda spec=spec, lr=lr: build(spec, lr), np.arange(len(expected)))
            for spec, lr, expected, _ in (case.values for case in LR_CASES)
        }
    )  # fmt: skip


@pytest.mark.parametrize(("spec", "lr", "expected", "ends"), LR_CASES)
def test_lr_family_gives_torchs_lists(lr_family, spec, lr, expected, ends):
    # = values(build(spec, lr), len(expected)), jitted together with the other cases
    got = result(lr_family, repr((spec, lr, len(expected))))
    assert_torch_close(got, expected)
    assert_exact_at(got, expected, (*ends, len(expected) - 1))


# test_CosineAnnealingWarmRestarts_lr3: torch calls scheduler.step(epoch) with these epochs
# (out of order: it is the closed form at each epoch); T_mult = 3's epochs are fractional
# except 0 and 50, which are kept.
WARM_RESTARTS_LR3 = [
    (
        1,
        [0, 1, 2, 3, 4, 5, 12, 27, 3, 4, 5, 6, 13],
        [1, 2, 3, 4, 5, 2, 7, 3, 4, 5, 6, 3],
        [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10],
    ),
    (
        2,
        [0, 1, 2, 3, 4, 5, 25, 32, 33, 34, 80, 81, 3],
        [1, 2, 3, 4, 5, 15, 2, 3, 4, 10, 11, 3],
        [10, 10, 10, 10, 10, 20, 40, 40, 40, 80, 80, 10],
    ),
    (3, [0, 50], [10], [90]),
]
AT_STEPS_CASES = [
    pytest.param(
        ("cosine_annealing_warm_restarts", {"T_0": 10, "T_mult": T_mult, "eta_min": 1e-10}),
        lr,
        epochs,
        _warm_restarts_lr3(lr, T_curs, T_is),
        id=f"test_CosineAnnealingWarmRestarts_lr3[T_mult={T_mult}]-lr{lr}",
    )
    for T_mult, epochs, T_curs, T_is in WARM_RESTARTS_LR3
    for lr in (0.05, 0.5)
]


@pytest.fixture(scope="module")
def warm_restarts_at_epochs():
    return evaluate_all(
        {
            repr((spec, lr, steps)): (lambda spec=spec, lr=lr: build(spec, lr), steps)
            for spec, lr, steps, _ in (case.values for case in AT_STEPS_CASES)
        }
    )


@pytest.mark.parametrize(("spec", "lr", "steps", "expected"), AT_STEPS_CASES)
def test_warm_restarts_closed_form_at_torchs_epochs(
    warm_restarts_at_epochs, spec, lr, steps, expected
):
    # = values_at(build(spec, lr), steps), jitted together with the other cases
    got = result(warm_restarts_at_epochs, repr((spec, lr, steps)))
    assert_torch_close(got, expected)
    assert_exact_at(got, expected, [i for i, e in enumerate(steps) if e == 0])


# ---------------------------------------------------------------------------------------------
# CyclicLR: LR and momentum (torch sets `momentum` for SGD, `betas[0]` for Adam)
# ---------------------------------------------------------------------------------------------

# test_cycle_lr_triangular_mode_one_lr
TRIANGULAR_LR = [1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3]
TRIANGULAR_MOMENTUM = [5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3]
# test_cycle_lr_triangular2_mode_one_lr
TRIANGULAR2_LR = [1, 2, 3, 4, 5, 4, 3, 2, 1, 1.5, 2.0, 2.5, 3.0, 2.5, 2.0, 1.5, 1, 1.25, 1.50, 1.75, 2.00, 1.75]  # fmt: skip
TRIANGULAR2_MOMENTUM = [5.0, 4.0, 3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 5.0, 4.5, 4.0, 3.5, 3.0, 3.5, 4.0, 4.5, 5.0, 4.75, 4.5, 4.25, 4.0, 4.25]  # fmt: skip
# test_cycle_lr_exp_range_mode_one_lr / test_cycle_lr_exp_range_mode (gamma = 0.9)
EXP_RANGE_XS = [0, 0.25, 0.5, 0.75, 1, 0.75, 0.50, 0.25, 0, 0.25, 0.5, 0.75, 1]
# test_cycle_lr_triangular_mode_step_size_up_down
UP_DOWN_LR = [1.0, 2.0, 3.0, 4.0, 5.0, 13.0 / 3, 11.0 / 3, 9.0 / 3, 7.0 / 3, 5.0 / 3, 1.0]
UP_DOWN_MOMENTUM = [5.0, 4.0, 3.0, 2.0, 1.0, 5.0 / 3, 7.0 / 3, 3.0, 11.0 / 3, 13.0 / 3, 5.0]
# test_cycle_lr_triangular2_mode_step_size_up_down
UP_DOWN2_LR = [1.0, 3.0, 5.0, 13.0 / 3, 11.0 / 3, 9.0 / 3, 7.0 / 3, 5.0 / 3, 1.0, 2.0, 3.0, 8.0 / 3, 7.0 / 3, 6.0 / 3, 5.0 / 3, 4.0 / 3, 1.0, 3.0 / 2, 2.0, 11.0 / 6, 10.0 / 6, 9.0 / 6, 8.0 / 6, 7.0 / 6]  # fmt: skip
UP_DOWN2_MOMENTUM = [5.0, 3.0, 1.0, 5.0 / 3, 7.0 / 3, 3.0, 11.0 / 3, 13.0 / 3, 5.0, 4.0, 3.0, 10.0 / 3, 11.0 / 3, 4.0, 13.0 / 3, 14.0 / 3, 5.0, 4.5, 4.0, 25.0 / 6, 13.0 / 3, 4.5, 14.0 / 3, 29.0 / 6]  # fmt: skip
# test_cycle_lr_exp_range_mode_step_size_up_down (gamma = 0.9)
UP_DOWN_EXP_RANGE_XS = [0.0, 0.5, 1.0, 5.0 / 6, 4.0 / 6, 3.0 / 6, 2.0 / 6, 1.0 / 6, 0.0, 0.5, 1.0, 5.0 / 6, 4.0 / 6]  # fmt: skip


def _cyclic(base, top, **kwargs):
    # torch's tests use base_momentum = base_lr and max_momentum = max_lr throughout
    return {"base_lr": base, "max_lr": top, "base_momentum": base, "max_momentum": top, **kwargs}


CYCLIC_CASES = [
    pytest.param(
        _cyclic(1, 5, step_size_up=4, cycle_momentum=True, mode="triangular"),
        TRIANGULAR_LR,
        TRIANGULAR_MOMENTUM,
        (0, 4, 8, 10),
        id="test_cycle_lr_triangular_mode_one_lr",
    ),
    pytest.param(
        {
            "base_lr": 1,
            "max_lr": 5,
            "step_size_up": 4,
            "cycle_momentum": False,
            "mode": "triangular",
        },
        TRIANGULAR_LR,
        None,  # cycle_momentum=False: torch leaves the momentum alone
        (0, 4, 8, 10),
        id="test_cycle_lr_triangular_mode_one_lr_no_momentum",
    ),
    pytest.param(
        # the second param group of test_cycle_lr_triangular_mode (base [1, 2], max [5, 6])
        _cyclic(2, 6, step_size_up=4, cycle_momentum=True, mode="triangular"),
        [x + 1 for x in TRIANGULAR_LR],
        [x + 1 for x in TRIANGULAR_MOMENTUM],
        (0, 4, 8, 10),
        id="test_cycle_lr_triangular_mode-group2",
    ),
    pytest.param(
        _cyclic(1, 5, step_size_up=4, cycle_momentum=True, mode="triangular2"),
        TRIANGULAR2_LR,
        TRIANGULAR2_MOMENTUM,
        (0, 4, 8, 12, 16, 20, 21),
        id="test_cycle_lr_triangular2_mode_one_lr",
    ),
    pytest.param(
        # the second param group of test_cycle_lr_triangular2_mode (base [1, 3], max [5, 7])
        _cyclic(3, 7, step_size_up=4, cycle_momentum=True, mode="triangular2"),
        [x + 2 for x in TRIANGULAR2_LR],
        [x + 2 for x in TRIANGULAR2_MOMENTUM],
        (0, 4, 8, 12, 16, 20, 21),
        id="test_cycle_lr_triangular2_mode-group2",
    ),
    pytest.param(
        _cyclic(1, 5, step_size_up=4, cycle_momentum=True, mode="exp_range", gamma=0.9),
        [1 + x * (5 - 1) * 0.9**i for i, x in enumerate(EXP_RANGE_XS)],
        [5 - x * (5 - 1) * 0.9**i for i, x in enumerate(EXP_RANGE_XS)],
        (0, 8),
        id="test_cycle_lr_exp_range_mode_one_lr",
    ),
    pytest.param(
        # the second param group of test_cycle_lr_exp_range_mode (base 5, max 12)
        _cyclic(5, 12, step_size_up=4, cycle_momentum=True, mode="exp_range", gamma=0.9),
        [5 + x * (12 - 5) * 0.9**i for i, x in enumerate(EXP_RANGE_XS)],
        [12 - x * (12 - 5) * 0.9**i for i, x in enumerate(EXP_RANGE_XS)],
        (0, 8),
        id="test_cycle_lr_exp_range_mode-group2",
    ),
    pytest.param(
        _cyclic(1, 5, step_size_up=4, step_size_down=6, cycle_momentum=True, mode="triangular"),
        UP_DOWN_LR,
        UP_DOWN_MOMENTUM,
        (0, 4, 10),
        id="test_cycle_lr_triangular_mode_step_size_up_down",
    ),
    *(
        pytest.param(
            _cyclic(
                1 + delta,
                5 + delta,
                step_size_up=2,
                step_size_down=6,
                cycle_momentum=True,
                mode="triangular2",
            ),
            [x + delta for x in UP_DOWN2_LR],
            [x + delta for x in UP_DOWN2_MOMENTUM],
            (0, 2, 8, 10, 16, 18),
            id=f"test_cycle_lr_triangular2_mode_step_size_up_down-group{group}",
        )
        for group, delta in [(1, 0), (2, 2)]  # torch: deltas = [2 * i for i in range(2)]
    ),
    pytest.param(
        _cyclic(
            1, 5, step_size_up=2, step_size_down=6, cycle_momentum=True, mode="exp_range", gamma=0.9
        ),
        [1 + x * (5 - 1) * 0.9**i for i, x in enumerate(UP_DOWN_EXP_RANGE_XS)],
        [5 - x * (5 - 1) * 0.9**i for i, x in enumerate(UP_DOWN_EXP_RANGE_XS)],
        (0, 8),
        id="test_cycle_lr_exp_range_mode_step_size_up_down",
    ),
]


def _cycle_cases(name, cases, which):
    return {
        repr((name, case.values[0], len(case.values[which]))): (
            lambda kwargs=case.values[0]: getattr(wj, name)(**kwargs),
            np.arange(len(case.values[which])),
        )
        for case in cases
        if case.values[which] is not None
    }


@pytest.fixture(scope="module")
def cycles():
    # CyclicLR and OneCycleLR, LR and momentum, all in one jitted call
    return evaluate_all(
        {
            **_cycle_cases("cyclic_lr", CYCLIC_CASES, 1),
            **_cycle_cases("cyclic_momentum", CYCLIC_CASES, 2),
            **_cycle_cases("one_cycle_lr", ONE_CYCLE_CASES, 1),
            **_cycle_cases("one_cycle_momentum", ONE_CYCLE_CASES, 2),
        }
    )


@pytest.mark.parametrize(("kwargs", "lr_expected", "momentum_expected", "ends"), CYCLIC_CASES)
def test_cyclic_lr_gives_torchs_lists(cycles, kwargs, lr_expected, momentum_expected, ends):
    # = values(wj.cyclic_lr(**kwargs), len(lr_expected)), jitted together with the others
    got = result(cycles, repr(("cyclic_lr", kwargs, len(lr_expected))))
    assert_torch_close(got, lr_expected)
    assert_exact_at(got, lr_expected, ends)


@pytest.mark.parametrize(
    ("kwargs", "lr_expected", "momentum_expected", "ends"),
    [case for case in CYCLIC_CASES if case.values[2] is not None],
)
def test_cyclic_momentum_gives_torchs_lists(cycles, kwargs, lr_expected, momentum_expected, ends):
    # torch checks param_group["momentum"] (SGD); with Adam the same values go to betas[0].
    got = result(cycles, repr(("cyclic_momentum", kwargs, len(momentum_expected))))
    assert_torch_close(got, momentum_expected)
    assert_exact_at(got, momentum_expected, ends)


# ---------------------------------------------------------------------------------------------
# OneCycleLR: LR and momentum
# ---------------------------------------------------------------------------------------------

ONE_CYCLE_LINEAR = {
    "max_lr": 25,
    "final_div_factor": 2,
    "base_momentum": 1,
    "max_momentum": 22,
    "total_steps": 10,
    "anneal_strategy": "linear",
}
ONE_CYCLE_LINEAR_LR = [1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5]
ONE_CYCLE_LINEAR_MOMENTUM = [22, 11.5, 1, 4, 7, 10, 13, 16, 19, 22]
ONE_CYCLE_COS = {
    "max_lr": 25,
    "final_div_factor": 2,
    "base_momentum": 1,
    "max_momentum": 22,
    "total_steps": 10,
}

ONE_CYCLE_CASES = [
    pytest.param(
        # also test_cycle_lr_with_adam: the same lists, the momentum as Adam's betas[0]
        ONE_CYCLE_LINEAR,
        ONE_CYCLE_LINEAR_LR,
        ONE_CYCLE_LINEAR_MOMENTUM,
        (0, 2, 9),
        id="test_onecycle_lr_linear_annealing",
    ),
    pytest.param(
        {
            "max_lr": 25,
            "div_factor": 25,
            "base_momentum": 1,
            "max_momentum": 22,
            "total_steps": 10,
            "anneal_strategy": "linear",
            "pct_start": 0.4,
            "final_div_factor": 4,
            "three_phase": True,
        },
        [1, 9, 17, 25, 17, 9, 1, 0.75, 0.5, 0.25],
        [22, 15, 8, 1, 8, 15, 22, 22, 22, 22],
        (0, 3, 6, 9),
        id="test_onecycle_lr_linear_annealing_three_phases",
    ),
    pytest.param(
        # also test_onecycle_lr_legacy_state_dict (anneal_strategy="cos" given explicitly)
        ONE_CYCLE_COS,
        [1, 13, 25] + [annealing_cos(25, 0.5, i / 7.0) for i in range(1, 7)] + [0.5],
        [22, 11.5, 1] + [annealing_cos(1, 22, i / 7.0) for i in range(1, 7)] + [22],
        (0, 2, 9),
        id="test_onecycle_lr_cosine_annealing",
    ),
    pytest.param(
        # derived: total_steps = epochs * steps_per_epoch
        {
            **{k: v for k, v in ONE_CYCLE_LINEAR.items() if k != "total_steps"},
            "epochs": 2,
            "steps_per_epoch": 5,
        },
        ONE_CYCLE_LINEAR_LR,
        ONE_CYCLE_LINEAR_MOMENTUM,
        (0, 2, 9),
        id="derived-epochs_and_steps_per_epoch",
    ),
    pytest.param(
        # derived: torch's defaults (pct_start 0.3, cos, div_factor 25, final_div_factor 1e4,
        # momentum 0.85 .. 0.95), as OneCycleLR(max_lr=0.01, total_steps=10) in torch's
        # test_lr_scheduler_checkpoint. Phase 1 ends at step 0.3 * 10 - 1 = 2, phase 2 at 9.
        {"max_lr": 0.01, "total_steps": 10},
        [annealing_cos(0.01 / 25, 0.01, k / 2.0) for k in range(3)]
        + [annealing_cos(0.01, 0.01 / 25 / 1e4, (k - 2) / 7.0) for k in range(3, 10)],
        [annealing_cos(0.95, 0.85, k / 2.0) for k in range(3)]
        + [annealing_cos(0.85, 0.95, (k - 2) / 7.0) for k in range(3, 10)],
        (0, 2, 9),
        id="derived-defaults",
    ),
    pytest.param(
        # derived: a fractional phase end. torch's phase 1 ends at step 0.25 * 10 - 1 = 1.5
        # (a float), phase 2 runs from 1.5 to 9; linear: (end - start) * pct + start.
        {"max_lr": 1.0, "total_steps": 10, "pct_start": 0.25, "anneal_strategy": "linear"},
        [(1.0 - 0.04) * (k / 1.5) + 0.04 for k in range(2)]
        + [(0.04 / 1e4 - 1.0) * ((k - 1.5) / 7.5) + 1.0 for k in range(2, 10)],
        [(0.85 - 0.95) * (k / 1.5) + 0.95 for k in range(2)]
        + [(0.95 - 0.85) * ((k - 1.5) / 7.5) + 0.85 for k in range(2, 10)],
        (),
        id="derived-fractional_phase_end",
    ),
]


@pytest.mark.parametrize(("kwargs", "lr_expected", "momentum_expected", "ends"), ONE_CYCLE_CASES)
def test_one_cycle_lr_gives_torchs_lists(cycles, kwargs, lr_expected, momentum_expected, ends):
    got = result(cycles, repr(("one_cycle_lr", kwargs, len(lr_expected))))
    assert_torch_close(got, lr_expected)
    assert_exact_at(got, lr_expected, ends)


@pytest.mark.parametrize(("kwargs", "lr_expected", "momentum_expected", "ends"), ONE_CYCLE_CASES)
def test_one_cycle_momentum_gives_torchs_lists(
    cycles, kwargs, lr_expected, momentum_expected, ends
):
    # torch checks param_group["momentum"] (SGD) and, in test_cycle_lr_with_adam, betas[0].
    got = result(cycles, repr(("one_cycle_momentum", kwargs, len(momentum_expected))))
    assert_torch_close(got, momentum_expected)
    assert_exact_at(got, momentum_expected, ends)


def test_the_published_one_cycle_values_are_exact_at_the_phase_ends():
    # From the issue: the linear two-phase case, exactly at its first, peak and last steps.
    lr = values(wj.one_cycle_lr(**ONE_CYCLE_LINEAR), 10)
    momentum = values(wj.one_cycle_momentum(**ONE_CYCLE_LINEAR), 10)
    assert (lr[0], lr[2], lr[9]) == (1.0, 25.0, 0.5)
    assert (momentum[0], momentum[2], momentum[9]) == (22.0, 1.0, 22.0)


@pytest.mark.parametrize("anneal_strategy", ["linear", "cos"])
def test_one_cycle_past_total_steps_holds_its_final_value(anneal_strategy):
    # api13.md: k >= total_steps gives the final value. (torch itself extrapolates the last
    # phase at k == total_steps, e.g. -3.0 for the linear case, and raises past it; that step
    # is never used by an update.)
    kwargs = {**ONE_CYCLE_LINEAR, "anneal_strategy": anneal_strategy}
    steps = [9, 10, 11, 1000]
    lr = values_at(wj.one_cycle_lr(**kwargs), steps)
    momentum = values_at(wj.one_cycle_momentum(**kwargs), steps)
    np.testing.assert_array_equal(lr, np.float32(0.5))
    np.testing.assert_array_equal(momentum, np.float32(22.0))


# ---------------------------------------------------------------------------------------------
# Settings torch refuses (ValueError in torch 2.13 too)
# ---------------------------------------------------------------------------------------------

ERROR_CASES = [
    # test_onecycle_lr_cannot_calculate_total_steps
    pytest.param(("one_cycle_lr", {"max_lr": 1e-3}), None, "total_steps", id="test_onecycle_lr_cannot_calculate_total_steps"),
    pytest.param(("one_cycle_momentum", {"max_lr": 1e-3}), None, "total_steps", id="test_onecycle_lr_cannot_calculate_total_steps-momentum"),
    pytest.param(("one_cycle_lr", {"max_lr": 1e-3, "epochs": 2}), None, "steps_per_epoch", id="onecycle-epochs_without_steps_per_epoch"),
    pytest.param(("one_cycle_lr", {"max_lr": 1e-3, "total_steps": 0}), None, "total_steps", id="onecycle-total_steps_0"),
    # test_onecycle_lr_invalid_pct_start
    pytest.param(("one_cycle_lr", {"max_lr": 1e-3, "total_steps": 10, "pct_start": 1.1}), None, "pct_start", id="test_onecycle_lr_invalid_pct_start"),
    pytest.param(("one_cycle_lr", {"max_lr": 1e-3, "total_steps": 10, "pct_start": -0.1}), None, "pct_start", id="onecycle-pct_start_negative"),
    pytest.param(("one_cycle_momentum", {"max_lr": 1e-3, "total_steps": 10, "pct_start": 1.1}), None, "pct_start", id="test_onecycle_lr_invalid_pct_start-momentum"),
    # test_onecycle_lr_invalid_anneal_strategy
    pytest.param(("one_cycle_lr", {"max_lr": 1e-3, "total_steps": 10, "anneal_strategy": "CATS"}), None, "anneal_strategy", id="test_onecycle_lr_invalid_anneal_strategy"),
    pytest.param(("one_cycle_lr", {"max_lr": 1e-3, "total_steps": 10, "anneal_strategy": "foo"}), None, "anneal_strategy", id="onecycle-anneal_strategy_foo"),
    pytest.param(("one_cycle_momentum", {"max_lr": 1e-3, "total_steps": 10, "anneal_strategy": "foo"}), None, "anneal_strategy", id="onecycle-anneal_strategy_foo-momentum"),
    # test_cycle_lr_invalid_mode
    pytest.param(("cyclic_lr", {"base_lr": 0, "max_lr": 0, "mode": "CATS"}), None, "mode", id="test_cycle_lr_invalid_mode"),
    pytest.param(("cyclic_momentum", {"base_lr": 0, "max_lr": 0, "mode": "CATS"}), None, "mode", id="test_cycle_lr_invalid_mode-momentum"),
    # test_linearlr_start_factor_limits1 / 2; end_factor outside [0, 1] (LinearLR's check)
    pytest.param(("linear_lr", {"start_factor": 0.0, "total_iters": 4}), 0.05, "start_factor", id="test_linearlr_start_factor_limits1"),
    pytest.param(("linear_lr", {"start_factor": 1.1, "total_iters": 4}), 0.05, "start_factor", id="test_linearlr_start_factor_limits2"),
    pytest.param(("linear_lr", {"end_factor": 1.5}), 0.05, "end_factor", id="linearlr-end_factor_above_1"),
    pytest.param(("linear_lr", {"end_factor": -0.1}), 0.05, "end_factor", id="linearlr-end_factor_negative"),
    # ConstantLR's check: factor in [0, 1]
    pytest.param(("constant_lr", {"factor": 1.5}), 0.05, "factor", id="constantlr-factor_above_1"),
    pytest.param(("constant_lr", {"factor": -0.1}), 0.05, "factor", id="constantlr-factor_negative"),
    # CosineAnnealingWarmRestarts' checks: T_0 a positive int, T_mult an int >= 1
    pytest.param(("cosine_annealing_warm_restarts", {"T_0": 0}), 0.05, "T_0", id="warm_restarts-T_0_zero"),
    pytest.param(("cosine_annealing_warm_restarts", {"T_0": -1}), 0.05, "T_0", id="warm_restarts-T_0_negative"),
    pytest.param(("cosine_annealing_warm_restarts", {"T_0": 2.5}), 0.05, "T_0", id="warm_restarts-T_0_not_int"),
    pytest.param(("cosine_annealing_warm_restarts", {"T_0": 10, "T_mult": 0}), 0.05, "T_mult", id="warm_restarts-T_mult_zero"),
    pytest.param(("cosine_annealing_warm_restarts", {"T_0": 10, "T_mult": 0.5}), 0.05, "T_mult", id="warm_restarts-T_mult_below_1"),
    pytest.param(("cosine_annealing_warm_restarts", {"T_0": 10, "T_mult": 1.5}), 0.05, "T_mult", id="warm_restarts-T_mult_not_int"),
    # SequentialLR's check: one milestone fewer than schedulers
    pytest.param(("sequential_lr", {"schedulers": [("constant_lr", {}), ("constant_lr", {})], "milestones": []}), 0.05, "milestones", id="sequentiallr-too_few_milestones"),
    pytest.param(("sequential_lr", {"schedulers": [("constant_lr", {}), ("constant_lr", {})], "milestones": [2, 3]}), 0.05, "milestones", id="sequentiallr-too_many_milestones"),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "lr", "match"), ERROR_CASES)
def test_settings_torch_refuses_raise_value_error(spec, lr, match):
    with pytest.raises(ValueError, match=match):
        build(spec, lr)

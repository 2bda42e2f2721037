"""Cross-check against the real packages: torch's schedulers, transformers, pytorch_warmup, timm
and, when it installs, Keras.

The test suite compares warmup_jax with formulas transcribed from these packages' sources; this
script compares with the packages themselves, driving a real ``torch.optim.AdamW`` through their
schedulers step by step and reading the learning rate each update used. It needs an environment
with torch, transformers, pytorch_warmup and timm next to warmup_jax (not part of this project's
dependencies), and optionally keras (with its jax backend), for example::

    python -m venv /tmp/xvenv && /tmp/xvenv/bin/pip install torch transformers pytorch-warmup keras -e .
    /tmp/xvenv/bin/pip install --no-deps timm   # its torchvision requirement would replace torch
    /tmp/xvenv/bin/python -m benchmarks.crosscheck_pytorch --out results/CROSSCHECK.md

timm's package imports torchvision at import time; only its scheduler modules are needed, so when
the package will not import they are loaded from its files directly.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import pathlib
import sys
import types
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import warmup_jax as wj


def _timm_cosine():
    try:
        from timm.scheduler.cosine_lr import CosineLRScheduler

        return CosineLRScheduler
    except Exception:  # noqa: BLE001  (torchvision missing or broken: load the two files alone)
        folder = (
            pathlib.Path(importlib.util.find_spec("timm").submodule_search_locations[0])
            / "scheduler"
        )
        package = types.ModuleType("timm_scheduler_files")
        package.__path__ = [str(folder)]
        sys.modules["timm_scheduler_files"] = package
        for name in ("scheduler", "cosine_lr"):
            spec = importlib.util.spec_from_file_location(
                f"timm_scheduler_files.{name}", folder / f"{name}.py"
            )
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        return sys.modules["timm_scheduler_files.cosine_lr"].CosineLRScheduler


def _optimizer(lr: float, b2: float = 0.999):
    import torch

    return torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=lr, betas=(0.9, b2))


def transformers_lrs(name: str, peak: float, steps: int, **kwargs) -> np.ndarray:
    """The LR each of ``steps`` updates used under ``transformers.get_scheduler(name, ...)``."""
    from transformers import get_scheduler

    optimizer = _optimizer(peak)
    specific = {
        k: v for k, v in kwargs.items() if k not in ("num_warmup_steps", "num_training_steps")
    }
    scheduler = get_scheduler(
        name,
        optimizer,
        num_warmup_steps=kwargs.get("num_warmup_steps"),
        num_training_steps=kwargs.get("num_training_steps"),
        scheduler_specific_kwargs=specific,
    )
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.asarray(lrs)


def pytorch_warmup_lrs(kind: str, base: float, b2: float, steps: int) -> np.ndarray:
    """The LR each update used with ``pytorch_warmup``'s warmup ``kind`` on a constant base LR."""
    import pytorch_warmup

    optimizer = _optimizer(base, b2)
    warmup = getattr(pytorch_warmup, kind)(optimizer)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        with warmup.dampening():
            pass
    return np.asarray(lrs)


def timm_lrs(steps: int, **kwargs) -> np.ndarray:
    """timm ``CosineLRScheduler``'s LR for updates 0..steps-1 (``t_in_epochs=False``)."""
    scheduler = _timm_cosine()(_optimizer(kwargs.pop("lr_max")), t_in_epochs=False, **kwargs)
    return np.asarray([scheduler._get_lr(t)[0] for t in range(steps)])


def torch_scheduler(name: str, steps: int, *, lr: float = 1e-3, sgd: bool = False, **kwargs):
    """``(lrs, momentums)`` of each of ``steps`` updates under ``torch.optim.lr_scheduler.<name>``:
    the LR (and SGD's momentum or Adam's b1) in the optimizer when the update runs."""
    import torch

    parameter = torch.nn.Parameter(torch.zeros(1))
    if sgd:
        optimizer = torch.optim.SGD([parameter], lr=lr, momentum=0.9)
    else:
        optimizer = torch.optim.AdamW([parameter], lr=lr)
    make = getattr(torch.optim.lr_scheduler, name)
    parts = kwargs.pop("schedulers", None)
    if parts is not None:  # SequentialLR / ChainedScheduler: (class name, kwargs) pairs
        kwargs["schedulers"] = [
            getattr(torch.optim.lr_scheduler, part)(optimizer, **part_kwargs)
            for part, part_kwargs in parts
        ]
        if name == "ChainedScheduler":
            kwargs["optimizer"] = optimizer
            scheduler = make(**kwargs)
        else:
            scheduler = make(optimizer, **kwargs)
    else:
        scheduler = make(optimizer, **kwargs)
    lrs, momentums = [], []
    for _ in range(steps):
        group = optimizer.param_groups[0]
        lrs.append(group["lr"])
        momentums.append(group["momentum"] if sgd else group["betas"][0])
        optimizer.step()
        scheduler.step()
    return np.asarray(lrs, np.float64), np.asarray(momentums, np.float64)


def keras_values(name: str, steps: int, **kwargs) -> np.ndarray:
    """``keras.optimizers.schedules.<name>(**kwargs)`` at steps 0..steps-1."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    schedule = getattr(keras.optimizers.schedules, name)(**kwargs)
    return np.asarray([float(schedule(step)) for step in range(steps)], np.float64)


def _keras_available() -> bool:
    os.environ.setdefault("KERAS_BACKEND", "jax")  # no TensorFlow here
    try:
        import keras  # noqa: F401, PLC0415
    except Exception:  # noqa: BLE001  (not installed, or no backend)
        return False
    return True


def _ours(schedule: Callable, steps: int) -> np.ndarray:
    return np.asarray(jax.jit(schedule)(jnp.arange(steps, dtype=jnp.int32)), dtype=np.float64)


def cases() -> list[tuple[Any, ...]]:
    """(description, theirs, ours, peak[, floor]) for every comparison."""
    out = []
    for name, extra in [
        ("linear", {}),
        ("cosine", {}),
        ("cosine", {"num_cycles": 1.5}),
        ("cosine_with_restarts", {"num_cycles": 3}),
        ("polynomial", {"power": 2.0, "lr_end": 1e-6}),
        ("constant", {}),
        ("constant_with_warmup", {}),
        ("inverse_sqrt", {}),
        ("cosine_with_min_lr", {"min_lr_rate": 0.1}),
        ("warmup_stable_decay", {"num_decay_steps": 300, "decay_type": "1-sqrt"}),
        (
            "warmup_stable_decay",
            {"num_decay_steps": 200, "warmup_type": "cosine", "min_lr_ratio": 0.05},
        ),
    ]:
        for warmup, total in [(100, 1000), (0, 500), (7, 7), (1, 2)]:
            if name == "warmup_stable_decay" and extra["num_decay_steps"] + warmup > total:
                continue
            if name == "polynomial" and warmup == total:
                continue  # transformers divides by zero there (we give lr_end)
            kwargs = dict(num_warmup_steps=warmup, num_training_steps=total, **extra)
            if name == "inverse_sqrt":
                kwargs.pop("num_training_steps")
            steps = total + 50
            out.append(
                (
                    f"transformers {name} {kwargs}",
                    lambda n=name, k=kwargs, s=steps: transformers_lrs(n, 3e-4, s, **k),
                    lambda n=name, k=kwargs, s=steps: _ours(wj.schedule_by_name(n, 3e-4, **k), s),
                    3e-4,
                )
            )
    for kind, ours in [
        ("UntunedLinearWarmup", wj.untuned_linear_warmup),
        ("UntunedExponentialWarmup", wj.untuned_exponential_warmup),
        ("RAdamWarmup", wj.radam_warmup),
    ]:
        for b2 in (0.999, 0.99, 0.98, 0.9):
            out.append(
                (
                    f"pytorch_warmup {kind} b2={b2}",
                    lambda k=kind, b=b2: pytorch_warmup_lrs(k, 1e-3, b, 4000),
                    lambda o=ours, b=b2: _ours(o(1e-3, b), 4000),
                    1e-3,
                )
            )
    for settings in [
        dict(t_initial=300, cycle_mul=1.0, cycle_decay=0.5, cycle_limit=3),
        dict(t_initial=200, cycle_mul=2.0, cycle_decay=0.7, cycle_limit=3, lr_min=1e-5),
        dict(
            t_initial=150,
            cycle_mul=1.5,
            cycle_decay=0.9,
            cycle_limit=4,
            warmup_t=20,
            warmup_lr_init=1e-6,
        ),
    ]:
        schedule = wj.cyclic_schedule(
            1e-3,
            settings["t_initial"],
            cycle_mul=settings["cycle_mul"],
            cycle_decay=settings["cycle_decay"],
            cycle_limit=settings["cycle_limit"],
            warmup_steps=settings.get("warmup_t", 0),
            warmup_every_cycle=False,
            end_value=settings.get("lr_min", 0.0),
            init_value=settings.get("warmup_lr_init", 0.0),
        )
        out.append(
            (
                f"timm CosineLRScheduler {settings} (warmup_prefix=True)",
                lambda s=settings: timm_lrs(2000, lr_max=1e-3, warmup_prefix=True, **s),
                lambda sc=schedule: _ours(sc, 2000),
                1e-3,
            )
        )
    out += torch_cases()
    if _keras_available():
        out += keras_cases()
    return out


def torch_cases() -> list[tuple[str, Callable[[], np.ndarray], Callable[[], np.ndarray], float]]:
    """torch.optim.lr_scheduler's classes against the PyTorch family (LR, and momentum)."""
    out = []
    n = 1200
    plain = [
        ("StepLR", dict(step_size=30, gamma=0.5), wj.step_lr),
        ("MultiStepLR", dict(milestones=[30, 80, 80], gamma=0.1), wj.multi_step_lr),
        ("ConstantLR", dict(factor=0.25, total_iters=40), wj.constant_lr),
        ("LinearLR", dict(start_factor=0.01, total_iters=100), wj.linear_lr),
        ("LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=100), wj.linear_lr),
        ("ExponentialLR", dict(gamma=0.995), wj.exponential_lr),
        ("PolynomialLR", dict(total_iters=150, power=2.0), wj.polynomial_lr),
        ("CosineAnnealingLR", dict(T_max=100, eta_min=1e-5), wj.cosine_annealing_lr),
        (
            "CosineAnnealingWarmRestarts",
            dict(T_0=50, T_mult=2, eta_min=1e-5),
            wj.cosine_annealing_warm_restarts,
        ),
    ]
    for name, kwargs, ours in plain:
        out.append(
            (
                f"torch {name} {kwargs}",
                lambda nm=name, k=kwargs: torch_scheduler(nm, n, lr=1e-3, **dict(k))[0],
                lambda o=ours, k=kwargs: _ours(o(1e-3, **k), n),
                1e-3,
            )
        )
    sequences = [
        (
            "SequentialLR",
            dict(
                schedulers=[
                    ("LinearLR", dict(start_factor=0.01, total_iters=50)),
                    ("ExponentialLR", dict(gamma=0.99)),
                ],
                milestones=[50],
            ),
            lambda: wj.sequential_lr(
                [wj.linear_lr(1e-3, 0.01, total_iters=50), wj.exponential_lr(1e-3, 0.99)], [50]
            ),
        ),
        (
            "ChainedScheduler",
            dict(
                schedulers=[
                    ("ConstantLR", dict(factor=0.5, total_iters=20)),
                    ("ExponentialLR", dict(gamma=0.99)),
                ]
            ),
            lambda: wj.chained_scheduler(
                1e-3, [wj.constant_lr(1e-3, 0.5, 20), wj.exponential_lr(1e-3, 0.99)]
            ),
        ),
    ]
    for name, kwargs, ours in sequences:
        out.append(
            (
                f"torch {name} {kwargs}",
                lambda nm=name, k=kwargs: torch_scheduler(nm, 400, lr=1e-3, **dict(k))[0],
                lambda o=ours: _ours(o(), 400),
                1e-3,
            )
        )
    cycled = [
        ("CyclicLR", dict(base_lr=1e-4, max_lr=1e-2, step_size_up=50, step_size_down=30)),
        ("CyclicLR", dict(base_lr=1e-4, max_lr=1e-2, step_size_up=40, mode="triangular2")),
        (
            "CyclicLR",
            dict(base_lr=1e-4, max_lr=1e-2, step_size_up=40, mode="exp_range", gamma=0.999),
        ),
        ("OneCycleLR", dict(max_lr=1e-2, total_steps=n)),
        (
            "OneCycleLR",
            dict(
                max_lr=1e-2,
                total_steps=n,
                anneal_strategy="linear",
                three_phase=True,
                pct_start=0.25,
            ),
        ),
        ("OneCycleLR", dict(max_lr=1e-2, total_steps=n, div_factor=10, final_div_factor=100)),
    ]
    for name, kwargs in cycled:
        lr_fn = wj.cyclic_lr if name == "CyclicLR" else wj.one_cycle_lr
        momentum_fn = wj.cyclic_momentum if name == "CyclicLR" else wj.one_cycle_momentum
        for sgd in (True, False):
            optimizer = "SGD" if sgd else "AdamW"
            out.append(
                (
                    f"torch {name} {kwargs} ({optimizer}), learning rate",
                    lambda nm=name, k=kwargs, g=sgd: torch_scheduler(nm, n, sgd=g, **dict(k))[0],
                    lambda f=lr_fn, k=kwargs: _ours(f(**k), n),
                    kwargs["max_lr"],
                )
            )
            out.append(
                (
                    f"torch {name} {kwargs} ({optimizer}), {'momentum' if sgd else 'b1'}",
                    lambda nm=name, k=kwargs, g=sgd: torch_scheduler(nm, n, sgd=g, **dict(k))[1],
                    lambda f=momentum_fn, k=kwargs: _ours(f(**k), n),
                    1.0,
                )
            )
    return out


def keras_cases() -> list[tuple[Any, ...]]:
    """keras.optimizers.schedules against warmup_jax's native shapes."""
    n = 600
    rows = [
        (
            "InverseTimeDecay",
            dict(initial_learning_rate=1e-3, decay_steps=10, decay_rate=0.5),
            lambda: wj.inverse_time_decay(1e-3, 10, 0.5),
        ),
        (
            "InverseTimeDecay",
            dict(initial_learning_rate=1e-3, decay_steps=10, decay_rate=0.5, staircase=True),
            lambda: wj.inverse_time_decay(1e-3, 10, 0.5, staircase=True),
        ),
        (
            "PolynomialDecay",
            dict(initial_learning_rate=0.05, decay_steps=10, end_learning_rate=0.001, cycle=True),
            lambda: wj.polynomial_decay(0.05, 10, 0.001, cycle=True),
        ),
        (
            "PolynomialDecay",
            dict(initial_learning_rate=0.05, decay_steps=100, end_learning_rate=0.001, power=0.5),
            lambda: wj.polynomial_decay(0.05, 100, 0.001, power=0.5),
        ),
        (
            "CosineDecayRestarts",
            dict(initial_learning_rate=1e-3, first_decay_steps=40),
            lambda: wj.cosine_decay_restarts(1e-3, 40),
        ),
        (
            "CosineDecayRestarts",
            dict(initial_learning_rate=1e-3, first_decay_steps=40, t_mul=1.5, m_mul=1.2, alpha=0.1),
            lambda: wj.cosine_decay_restarts(1e-3, 40, 1.5, 1.2, 0.1),
        ),
        (
            "ExponentialDecay",
            dict(initial_learning_rate=1e-3, decay_steps=25, decay_rate=0.5, staircase=True),
            lambda: wj.exponential_decay(1e-3, 25, 0.5, staircase=True),
        ),
    ]
    # Keras computes in float32 itself (its 0.5 (1 + cos) loses digits near 0, where ours keeps
    # them): values below 1% of the peak are compared absolutely, against 1% of the peak, so
    # the 1e-5 bound is 1e-7 of the peak there, about one float32 rounding of it.
    return [
        (
            f"keras {name} {kwargs}",
            lambda nm=name, k=kwargs: keras_values(nm, n, **k),
            lambda o=ours: _ours(o(), n),
            kwargs["initial_learning_rate"],
            1e-2,
        )
        for name, kwargs, ours in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.crosscheck_pytorch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", default="results/CROSSCHECK.md", help="the report to write")
    args = parser.parse_args()
    import torch
    import transformers

    rows, worst = [], 0.0
    for description, theirs_fn, ours_fn, peak, *floor in cases():
        theirs, ours = theirs_fn(), ours_fn()
        # float32 against float64: relative error, with values below 1e-6 * peak compared absolutely.
        error = np.abs(ours - theirs) / np.maximum(np.abs(theirs), (floor or [1e-6])[0] * peak)
        exact = np.mean(np.float32(theirs) == np.float32(ours))
        worst = max(worst, float(error.max()))
        rows.append(f"| {description} | {len(theirs)} | {error.max():.2e} | {exact:.1%} |")
    from importlib.metadata import version

    keras = f", keras {version('keras')}" if _keras_available() else " (keras did not import)"
    lines = [
        "# warmup_jax against the PyTorch packages (and Keras) themselves",
        "",
        f"Generated by `python -m benchmarks.crosscheck_pytorch` with torch {torch.__version__}, "
        f"transformers {transformers.__version__}, pytorch_warmup {version('pytorch-warmup')}, "
        f"timm {version('timm')}{keras}, jax {jax.__version__} (CPU, float32).",
        "",
        "Each row drives a real `torch.optim.AdamW` (or `SGD`, for momentum) through the package's "
        "scheduler and compares the learning rate (or momentum) of every update (or timm's "
        "`_get_lr(t)`, or a Keras schedule's value, for every t) with warmup_jax at the same step. "
        "Their values are float64 (Keras' float32); ours float32. The error is relative (absolute "
        "below 1e-6 of the peak; below 1% of it for Keras, whose own float32 loses digits near 0); 'equal "
        "in float32' counts steps where rounding theirs to float32 gives exactly our value.",
        "",
        f"**Worst error over all {len(rows)} comparisons: {worst:.2e}.**",
        "",
        "| comparison | updates | max error | equal in float32 |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
    ]
    path = pathlib.Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    print("\n".join(lines))
    if not math.isfinite(worst) or worst > 1e-5:
        sys.exit(f"a comparison differs by {worst:.2e} (more than float32 rounding)")


if __name__ == "__main__":
    main()

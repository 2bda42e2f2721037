"""Cross-check against the real PyTorch packages: transformers, pytorch_warmup and timm.

The test suite compares warmup_jax with formulas transcribed from these packages' sources; this
script compares with the packages themselves, driving a real ``torch.optim.AdamW`` through their
schedulers step by step and reading the learning rate each update used. It needs an environment
with torch, transformers, pytorch_warmup and timm next to warmup_jax (not part of this project's
dependencies), for example::

    python -m venv /tmp/xvenv && /tmp/xvenv/bin/pip install torch transformers timm pytorch-warmup -e .
    /tmp/xvenv/bin/python -m benchmarks.crosscheck_pytorch --out results/CROSSCHECK.md

timm's package imports torchvision at import time; only its scheduler modules are needed, so when
the package will not import they are loaded from its files directly.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import pathlib
import sys
import types
from collections.abc import Callable

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


def _ours(schedule: Callable, steps: int) -> np.ndarray:
    return np.asarray(jax.jit(schedule)(jnp.arange(steps, dtype=jnp.int32)), dtype=np.float64)


def cases() -> list[tuple[str, Callable[[], np.ndarray], Callable[[], np.ndarray], float]]:
    """(description, theirs, ours, peak) for every comparison."""
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
    return out


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
    for description, theirs_fn, ours_fn, peak in cases():
        theirs, ours = theirs_fn(), ours_fn()
        # float32 against float64: relative error, with values below 1e-6 * peak compared absolutely.
        error = np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-6 * peak)
        exact = np.mean(np.float32(theirs) == np.float32(ours))
        worst = max(worst, float(error.max()))
        rows.append(f"| {description} | {len(theirs)} | {error.max():.2e} | {exact:.1%} |")
    from importlib.metadata import version

    lines = [
        "# warmup_jax against the PyTorch packages themselves",
        "",
        f"Generated by `python -m benchmarks.crosscheck_pytorch` with torch {torch.__version__}, "
        f"transformers {transformers.__version__}, pytorch_warmup {version('pytorch-warmup')}, "
        f"timm {version('timm')}, jax {jax.__version__} (CPU, float32).",
        "",
        "Each row drives a real `torch.optim.AdamW` through the package's scheduler and compares the "
        "learning rate of every update (or timm's `_get_lr(t)` for every t) with warmup_jax at the "
        "same step. Their values are float64; ours float32. The error is relative (absolute below "
        "1e-6 of the peak); 'equal in float32' counts steps where rounding theirs to float32 gives "
        "exactly our value.",
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

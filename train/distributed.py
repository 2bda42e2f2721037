"""The device mesh and the shardings of the state and the batch (data parallel on a ``data`` axis).

One process for now; every array that crosses into ``train_step`` is placed through these helpers,
so running over many devices or hosts changes how the mesh is built, not the loop.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from train.config import ConfigError

DATA_AXIS = "data"


def make_mesh(devices: list[jax.Device] | None = None) -> Mesh:
    """A one-axis mesh named ``data`` over ``devices`` (all devices by default).

    Built directly rather than with ``jax.make_mesh``, whose default Explicit axis types break
    ordinary Flax layers.
    """
    return Mesh(np.array(devices if devices is not None else jax.devices()), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
    """Every device holds the whole array: parameters, optimizer state, the step."""
    return NamedSharding(mesh, PartitionSpec())


def batch_sharding(mesh: Mesh, leading_axes: int = 0) -> NamedSharding:
    """Rows split along ``data``, after ``leading_axes`` unsplit axes (steps, eval batches)."""
    return NamedSharding(mesh, PartitionSpec(*([None] * leading_axes), DATA_AXIS))


def check_batch_size(batch_size: int, mesh: Mesh) -> None:
    """Raises ``ConfigError`` unless the batch splits evenly over the ``data`` axis."""
    n = mesh.shape[DATA_AXIS]
    if batch_size % n:
        raise ConfigError(
            f"--batch_size {batch_size} does not divide evenly over {n} devices; "
            f"use a multiple of {n}"
        )

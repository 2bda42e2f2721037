"""Data parallel over every device of every process: the mesh, the shardings, ``jax.distributed``.

The mesh has one axis, ``data``, over ``jax.devices()`` (all devices of all processes). Parameters,
optimizer state and the step are replicated; the batch is split along ``data``. With several
processes (``--coordinator_address``, ``--num_processes``, ``--process_id``), ``start`` calls
``jax.distributed.initialize`` before anything else touches JAX, each process makes only the rows
of the global batch that its own devices hold (``RowShard``), and only process 0 writes metrics,
plots and the summary; every process takes part in checkpoints, as orbax requires.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import ipaddress
import json
from collections.abc import Callable
from typing import TypeVar

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from train.config import MAY_DIFFER, ConfigError

T = TypeVar("T")

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
    """Raises ``ConfigError`` unless the batch splits evenly over the ``data`` axis.

    ``--batch_size`` is the global batch: each of the n devices trains on ``batch_size / n`` rows.
    """
    n = mesh.shape[DATA_AXIS]
    if batch_size % n:
        where = f"{n} devices"
        if jax.process_count() > 1:
            where += f" ({jax.process_count()} processes)"
        lower, upper = (batch_size // n) * n, (batch_size // n + 1) * n
        options = f"{lower} or {upper}" if lower else str(upper)
        raise ConfigError(
            f"--batch_size {batch_size} does not divide evenly over {where}: each device takes "
            f"an equal share of the batch, so use a multiple of {n}, e.g. {options}"
        )


@dataclasses.dataclass(frozen=True)
class RowShard:
    """The rows of a data-parallel batch that this process makes, and how to assemble the whole.

    ``rows`` are the indices, along the ``data``-split axis, that this process's devices hold, in
    ascending order (with one process: all of them). A process makes just those rows and ``put``
    assembles the global array from every process's share, so the global batch is the same for
    any number of processes.
    """

    sharding: NamedSharding
    global_shape: tuple[int, ...]
    rows: np.ndarray

    def put(self, local: np.ndarray) -> jax.Array:
        """The global batch, from this process's rows (``len(rows)`` of them on the split axis)."""
        if jax.process_count() == 1:  # the same array, at half the host time
            return jax.device_put(local, self.sharding)
        return jax.make_array_from_process_local_data(self.sharding, local, self.global_shape)


def row_shard(mesh: Mesh, global_shape: tuple[int, ...], leading_axes: int = 0) -> RowShard:
    """The ``RowShard`` of a batch of ``global_shape`` split on axis ``leading_axes``."""
    sharding = batch_sharding(mesh, leading_axes)
    size = global_shape[leading_axes]
    rows: set[int] = set()
    for index in sharding.addressable_devices_indices_map(global_shape).values():
        rows.update(range(*index[leading_axes].indices(size)))
    return RowShard(sharding, tuple(global_shape), np.array(sorted(rows), dtype=np.int64))


def add_flags(parser: argparse.ArgumentParser) -> None:
    """Adds the flags of a run over several processes (hosts) to ``python -m train``."""
    group = parser.add_argument_group(
        "several processes or hosts (jax.distributed; leave out for one machine)",
        "Start the same command on every host, changing only --process_id. Each process uses "
        "all of its local devices; --batch_size stays the global batch.",
    )
    group.add_argument(
        "--coordinator_address",
        metavar="HOST:PORT",
        help="where process 0 listens for the others, e.g. 10.0.0.1:1234 (a free port on "
        "process 0's host, reachable from every host)",
    )
    group.add_argument(
        "--num_processes",
        type=int,
        metavar="N",
        help="how many processes take part in the run, usually one per host",
    )
    group.add_argument(
        "--process_id",
        type=int,
        metavar="I",
        help="this process's number, 0 to N-1; process 0 writes the metrics, plots and summary",
    )


def _check_flags(args: argparse.Namespace) -> str | None:
    """The problem with the distributed flags as a sentence, or None when they are usable."""
    given = {
        name: getattr(args, name)
        for name in ("coordinator_address", "num_processes", "process_id")
        if getattr(args, name) is not None
    }
    if not given:
        return None
    if len(given) < 3:
        missing = [f"--{n}" for n in ("coordinator_address", "num_processes", "process_id")]
        missing = [m for m in missing if m[2:] not in given]
        return (
            "--coordinator_address, --num_processes and --process_id go together "
            f"(missing {', '.join(missing)})"
        )
    host, sep, port = args.coordinator_address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return (
            f"--coordinator_address must be HOST:PORT, e.g. 127.0.0.1:1234, "
            f"got {args.coordinator_address!r}"
        )
    if args.num_processes < 1:
        return f"--num_processes must be at least 1, got {args.num_processes}"
    if not 0 <= args.process_id < args.num_processes:
        return (
            f"--process_id must be between 0 and --num_processes - 1 = {args.num_processes - 1}, "
            f"got {args.process_id}"
        )
    return None


def start(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Joins the run's other processes when the distributed flags are given, else does nothing.

    Must run before anything initializes a JAX backend (building the schedule does). Bad flags
    end in ``parser.error`` (exit status 2).
    """
    problem = _check_flags(args)
    if problem is not None:
        parser.error(problem)
    if args.coordinator_address is None:
        return
    initialize(args.coordinator_address, args.num_processes, args.process_id)


def initialize(coordinator_address: str, num_processes: int, process_id: int) -> None:
    """``jax.distributed.initialize``, with gloo for collectives between CPU processes.

    Blocks until all ``num_processes`` processes have connected to the coordinator (process 0).
    """
    # Gloo is already the CPU default in jax 0.10; set so that a new default cannot break CPU runs.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    host = coordinator_address.rpartition(":")[0].strip("[]")
    # JAX's coordinator listens on every interface by default; for a run that is all on this
    # machine (a loopback address), listen on loopback only.
    loopback = host == "localhost" or _is_loopback(host)
    jax.distributed.initialize(
        coordinator_address=coordinator_address,
        num_processes=num_processes,
        process_id=process_id,
        coordinator_bind_address=coordinator_address if loopback else None,
    )


def _is_loopback(host: str) -> bool:
    """True for a loopback IP address such as 127.0.0.1 or ::1 (False for names)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_main_process() -> bool:
    """True in process 0, the one that writes metrics, plots and the summary (and alone runs)."""
    return jax.process_index() == 0


def main_process_first(fn: Callable[[], T]) -> T:
    """``fn()`` in process 0 first, then in the others: e.g. preparing a data set in a shared cache.

    With one process it is just ``fn()``. When ``fn`` fails in process 0, the others are released
    all the same: they run ``fn`` and, started with the same flags, fail with the same message
    rather than wait for process 0 until a timeout.
    """
    if jax.process_count() == 1:
        return fn()
    result: T | None = None
    error: Exception | None = None
    if is_main_process():
        try:
            result = fn()
        except Exception as e:  # noqa: BLE001  (re-raised below, after releasing the others)
            error = e
    multihost_utils.sync_global_devices("train: process 0 went first")
    if error is not None:
        raise error
    return result if is_main_process() else fn()  # type: ignore[return-value]


def check_same_everywhere(what: str, value: str) -> None:
    """Raises ``ConfigError`` unless every process has the same ``value`` (e.g. a data fingerprint).

    Processes that differ would train on different numbers without any error, or hang.
    """
    if jax.process_count() == 1:
        return
    digest = np.frombuffer(hashlib.sha256(value.encode()).digest(), dtype=np.uint8)
    everyone = np.asarray(multihost_utils.process_allgather(digest))
    if not (everyone == everyone[0]).all():
        differs = [i for i in range(len(everyone)) if not (everyone[i] == everyone[0]).all()]
        raise ConfigError(
            f"the {what} differs between processes (process 0 vs {differs}); start every "
            "process with the same flags and the same data"
        )


def check_same_run(config: dict, schedule_config: dict, data_fingerprint: str) -> None:
    """Raises ``ConfigError`` unless every process runs the same settings, schedule and data.

    ``config`` is ``RunConfig.to_dict()``. A process started with, say, another --steps would
    otherwise hang at the first collective it skips, or train on other numbers.
    """
    same = {k: v for k, v in config.items() if k not in MAY_DIFFER}
    text = json.dumps([same, schedule_config, data_fingerprint], sort_keys=True, default=str)
    check_same_everywhere("run settings, schedule or training data", text)

"""Spreading a leading axis (training seeds, grid points) over the local devices with
``jax.sharding``: one ``Mesh`` axis, ``NamedSharding`` on the leading axis of every array,
and jit partitions the vmapped computation along it (no code changes in the step).

One device (the default on a CPU) behaves exactly as without sharding; results with more
devices are the same to within float rounding.
"""

import math

import equinox as eqx
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jaxtyping import PyTree


def mesh_for(n: int, axis: str = "batch", devices: int | None = None) -> Mesh | None:
    """A one-axis mesh over the largest number of local devices that divides ``n`` (so
    every device holds the same number of rows), or ``None`` when that is one device.
    ``devices`` caps how many local devices are used (default: all)."""
    local = jax.local_devices()
    if devices is not None:
        if devices < 1:
            raise ValueError(f"devices must be >= 1, got {devices}")
        local = local[:devices]
    d = math.gcd(n, len(local))
    return None if d <= 1 else Mesh(local[:d], (axis,))


def shard_leading(tree: PyTree, mesh: Mesh | None) -> PyTree:
    """Every array of ``tree`` with its leading axis split over ``mesh`` (unchanged when
    ``mesh`` is None)."""
    if mesh is None:
        return tree
    sharding = NamedSharding(mesh, PartitionSpec(mesh.axis_names[0]))
    arrays, static = eqx.partition(tree, eqx.is_array)
    return eqx.combine(jax.device_put(arrays, sharding), static)


def replicate(tree: PyTree, mesh: Mesh | None) -> PyTree:
    """Every array of ``tree`` copied to each device of ``mesh`` (unchanged when None)."""
    if mesh is None:
        return tree
    arrays, static = eqx.partition(tree, eqx.is_array)
    return eqx.combine(jax.device_put(arrays, NamedSharding(mesh, PartitionSpec())), static)


def devices_used(mesh: Mesh | None) -> int:
    return 1 if mesh is None else mesh.size


def initialize_processes(coordinator: str | None = None, num_processes: int | None = None,
                         process_id: int | None = None) -> int:
    """Join JAX's multi-controller runtime (``jax.distributed.initialize``) when a
    coordinator is named here or in ``JAX_COORDINATOR_ADDRESS`` (with ``JAX_NUM_PROCESSES``
    and ``JAX_PROCESS_ID``); CPU processes exchange arrays over gloo. Returns the number of
    processes (1: nothing to join)."""
    import os

    coordinator = coordinator or os.environ.get("JAX_COORDINATOR_ADDRESS")
    if not coordinator:
        return 1
    num_processes = num_processes or int(os.environ.get("JAX_NUM_PROCESSES", "0"))
    process_id = process_id if process_id is not None else int(os.environ.get("JAX_PROCESS_ID", "-1"))
    if num_processes < 1 or not 0 <= process_id < num_processes:
        raise ValueError(f"a coordinator needs --num-processes P >= 1 and --process-id K in [0, P), got P={num_processes}, "
                         f"K={process_id}")
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes, process_id=process_id)
    return jax.process_count()


def gather_processes(x):
    """Every process's ``x`` (NumPy arrays or a pytree of them, the same shapes in every
    process) concatenated along axis 0 in process order (``x`` itself with one process)."""
    if jax.process_count() == 1:
        return x
    from jax.experimental import multihost_utils

    return jax.tree.map(lambda a: np.asarray(multihost_utils.process_allgather(np.asarray(a), tiled=True)), x)

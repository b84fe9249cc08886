"""Spreading a leading axis (training seeds, grid points) over the local devices with
``jax.sharding``: one ``Mesh`` axis, ``NamedSharding`` on the leading axis of every array,
and jit partitions the vmapped computation along it (no code changes in the step).

One device (the default on a CPU) behaves exactly as without sharding; results with more
devices are the same to within float rounding.
"""

import math

import equinox as eqx
import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jaxtyping import PyTree


def mesh_for(n: int, axis: str = "batch") -> Mesh | None:
    """A one-axis mesh over the largest number of local devices that divides ``n`` (so
    every device holds the same number of rows), or ``None`` when that is one device."""
    devices = jax.local_devices()
    d = math.gcd(n, len(devices))
    return None if d <= 1 else Mesh(devices[:d], (axis,))


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

"""What a probe is (no TensorFlow needed).

A *probe* is one named piece of an algorithm's trace: an input, a hint (one value per
time step) or an output. Each has a stage, a location (node, edge or graph) and a type
(scalar, mask, mask_one, pointer, categorical). Each algorithm's table of probes is in
its registry entry (``eqgat.algorithms``); those of dm-clrs' algorithms mirror
``clrs.SPECS[name]`` (``tests/test_interop.py`` checks them against dm-clrs).
"""

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np


class Stage:
    INPUT = "input"
    OUTPUT = "output"
    HINT = "hint"


class Location:
    NODE = "node"
    EDGE = "edge"
    GRAPH = "graph"


class Type:
    SCALAR = "scalar"
    MASK = "mask"
    MASK_ONE = "mask_one"
    POINTER = "pointer"
    CATEGORICAL = "categorical"


class Probe(NamedTuple):
    """One probe of an algorithm: its name, stage, location, type and, for categorical
    probes, the number of categories (``dim``; 1 otherwise)."""

    name: str
    stage: str
    location: str
    type: str
    dim: int = 1


#: dm-clrs' own algorithms among the registered ones (``tests/test_interop.py`` checks
#: their probe tables against dm-clrs).
ALGORITHMS = ("bfs", "bellman_ford", "dfs")


def live_steps(length, num_steps: int):
    """``[b, num_steps]``: whether message-passing step t of each graph is live, i.e.
    predicts a real hint (step t predicts hint t + 1, so t < length - 1). ``length`` is
    ``[b]`` (NumPy or JAX; the result is the same kind of array)."""
    xp = np if isinstance(length, np.ndarray) else jnp
    return length[:, None] > xp.arange(num_steps)[None, :] + 1


#: dm-clrs' CLRS-30 splits (``clrs.CLRS30``): sample count, graph size and sampler seed.
CLRS30 = {
    "train": {"num_samples": 1000, "length": 16, "seed": 1},
    "val": {"num_samples": 32, "length": 16, "seed": 2},
    "test": {"num_samples": 32, "length": 64, "seed": 3},
}

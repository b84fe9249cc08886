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
    """When a probe is given: ``INPUT`` (before the algorithm runs), ``HINT`` (one value
    per step of its trace) or ``OUTPUT`` (its answer). Plain strings."""

    INPUT = "input"
    OUTPUT = "output"
    HINT = "hint"


class Location:
    """Where a probe lives: ``NODE`` (``[n]``), ``EDGE`` (``[i, j]``) or ``GRAPH`` (one
    value). Plain strings."""

    NODE = "node"
    EDGE = "edge"
    GRAPH = "graph"


class Type:
    """What a probe's values are: ``SCALAR`` (a float), ``MASK`` (0/1), ``MASK_ONE``
    (exactly one 1 over the nodes), ``POINTER`` (a node index per node) or
    ``CATEGORICAL`` (one-hot over ``dim`` classes). Plain strings."""

    SCALAR = "scalar"
    MASK = "mask"
    MASK_ONE = "mask_one"
    POINTER = "pointer"
    CATEGORICAL = "categorical"


class Probe(NamedTuple):
    """One probe of an algorithm (a ``NamedTuple``).

    **Arguments:**

    - `name`: the name its arrays go by (``batch.inputs[name]``, ...).
    - `stage`: a ``Stage``: input, hint or output.
    - `location`: a ``Location``: node, edge or graph.
    - `type`: a ``Type``: scalar, mask, mask_one, pointer or categorical.
    - `dim`: the number of categories of a categorical probe (1 otherwise).
    """

    name: str
    stage: str
    location: str
    type: str
    dim: int = 1


#: dm-clrs' own algorithms among the registered ones (``tests/test_interop.py`` checks
#: their probe tables against dm-clrs).
ALGORITHMS = ("bfs", "bellman_ford", "dfs")


def live_steps(length, num_steps: int):
    """Whether message-passing step t of each graph is live, i.e. predicts a real hint
    (step t predicts hint t + 1, so t < length - 1).

    **Arguments:**

    - `length`: the trace lengths ``[b]`` (NumPy or JAX).
    - `num_steps`: the steps to ask about (usually T - 1).

    **Returns:**

    A bool array ``[b, num_steps]``, of the same kind (NumPy or JAX) as `length`.
    """
    xp = np if isinstance(length, np.ndarray) else jnp
    return length[:, None] > xp.arange(num_steps)[None, :] + 1


#: dm-clrs' CLRS-30 splits (``clrs.CLRS30``): sample count, graph size and sampler seed.
CLRS30 = {
    "train": {"num_samples": 1000, "length": 16, "seed": 1},
    "val": {"num_samples": 32, "length": 16, "seed": 2},
    "test": {"num_samples": 32, "length": 64, "seed": 3},
}

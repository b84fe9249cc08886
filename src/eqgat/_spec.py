"""Probe specifications of the CLRS algorithms eqgat models (no TensorFlow needed).

A *probe* is one named piece of an algorithm's trace: an input, a hint (one value per
time step) or an output. Each has a stage, a location (node, edge or graph) and a type
(scalar, mask, mask_one, pointer, categorical). These tables mirror
``clrs.SPECS[name]`` for the algorithms below; ``tests/test_interop.py`` checks them
against dm-clrs so they cannot drift.
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


_I, _O, _H = Stage.INPUT, Stage.OUTPUT, Stage.HINT
_N, _E, _G = Location.NODE, Location.EDGE, Location.GRAPH
_S, _M, _M1, _P, _C = Type.SCALAR, Type.MASK, Type.MASK_ONE, Type.POINTER, Type.CATEGORICAL

_BFS = (
    Probe("pos", _I, _N, _S),
    Probe("s", _I, _N, _M1),
    Probe("A", _I, _E, _S),
    Probe("adj", _I, _E, _M),
    Probe("pi", _O, _N, _P),
    Probe("reach_h", _H, _N, _M),
    Probe("pi_h", _H, _N, _P),
)

SPECS: dict[str, tuple[Probe, ...]] = {
    "bfs": _BFS,
    "bellman_ford": (
        Probe("pos", _I, _N, _S),
        Probe("s", _I, _N, _M1),
        Probe("A", _I, _E, _S),
        Probe("adj", _I, _E, _M),
        Probe("pi", _O, _N, _P),
        Probe("pi_h", _H, _N, _P),
        Probe("d", _H, _N, _S),
        Probe("msk", _H, _N, _M),
    ),
    "dfs": (
        Probe("pos", _I, _N, _S),
        Probe("A", _I, _E, _S),
        Probe("adj", _I, _E, _M),
        Probe("pi", _O, _N, _P),
        Probe("pi_h", _H, _N, _P),
        Probe("color", _H, _N, _C, 3),
        Probe("d", _H, _N, _S),
        Probe("f", _H, _N, _S),
        Probe("s_prev", _H, _N, _P),
        Probe("s", _H, _N, _M1),
        Probe("u", _H, _N, _M1),
        Probe("v", _H, _N, _M1),
        Probe("s_last", _H, _N, _M1),
        Probe("time", _H, _G, _S),
    ),
    # the paper authors' fork (``eqgat.fork``): BFS with one hint per edge relaxation, and
    # DFS with only its pointer and colour hints
    "bfs_seq": _BFS,  # one hint per edge relaxation, BFS's probes
    "dfs_light": (
        Probe("pos", _I, _N, _S),
        Probe("A", _I, _E, _S),
        Probe("adj", _I, _E, _M),
        Probe("pi", _O, _N, _P),
        Probe("pi_h", _H, _N, _P),
        Probe("color", _H, _N, _C, 3),
    ),
    # nearest-seed label propagation, eqgat's own program (``eqgat.programs.labelprop``)
    "labelprop": (
        Probe("pos", _I, _N, _S),
        Probe("seeds", _I, _N, _M),
        Probe("adj", _I, _E, _M),
        Probe("label", _O, _N, _P),
        Probe("reached_h", _H, _N, _M),
        Probe("label_h", _H, _N, _P),
    ),
}

#: dm-clrs' own algorithms (``tests/test_interop.py`` checks their tables against it).
ALGORITHMS = ("bfs", "bellman_ford", "dfs")
#: Every algorithm eqgat can sample and train on.
TRAINABLE = ALGORITHMS + ("bfs_seq", "dfs_light")


def register_spec(algorithm: str, probes: tuple[Probe, ...]) -> None:
    """Make a user's algorithm's probes known (for programs beyond the tables above; a
    checkpoint of such a program registers its stored table when loaded). Re-registering
    the same probes is a no-op; different ones are an error."""
    if algorithm in SPECS and SPECS[algorithm] != tuple(probes):
        raise ValueError(f"algorithm {algorithm!r} is already registered with other probes")
    SPECS[algorithm] = tuple(probes)


def get_spec(algorithm: str) -> tuple[Probe, ...]:
    """The probes of ``algorithm``; a ``ValueError`` naming the known ones otherwise."""
    if algorithm not in SPECS:
        raise ValueError(
            f"unknown algorithm {algorithm!r}; eqgat knows {', '.join(SPECS)}"
        )
    return SPECS[algorithm]


def live_steps(length, num_steps: int):
    """``[b, num_steps]``: whether message-passing step t of each graph is live, i.e.
    predicts a real hint (step t predicts hint t + 1, so t < length - 1). ``length`` is
    ``[b]`` (NumPy or JAX; the result is the same kind of array)."""
    xp = np if isinstance(length, np.ndarray) else jnp
    return length[:, None] > xp.arange(num_steps)[None, :] + 1


def max_trace_length(algorithm: str, n: int) -> int:
    """An upper bound on the number of hint steps T of ``algorithm`` on ``n`` nodes.

    Traces are padded to this bucket so that a model compiles once per graph size.
    BFS and Bellman-Ford do at most n-1 rounds that change state plus one that does not,
    recording one hint per round and the initial state (T <= n + 1); DFS records three
    hints per node (T = 3n); ``dfs_light`` one per root, two per root's start and one per
    push and pop (T = 2n + roots <= 3n); ``bfs_seq`` one per edge out of a reached node
    in each of at most n rounds (T <= 1 + n³; ``time_bucket`` pads it far less).
    """
    get_spec(algorithm)
    if algorithm in ("dfs", "dfs_light"):
        return 3 * n
    if algorithm == "bfs_seq":
        return 1 + n**3
    return n + 1


def time_bucket(algorithm: str, n: int, T: int) -> int:
    """The padded trace length of a batch whose longest trace has T hints:
    ``max_trace_length`` (one compile per graph size), except for ``bfs_seq``, whose bound
    n³ is far above its traces: the next power of two >= T (at least 8), so a graph size
    compiles a few times, not once per batch."""
    if algorithm != "bfs_seq":
        return max(T, max_trace_length(algorithm, n))
    return min(max(8, 1 << (max(T, 1) - 1).bit_length()), max_trace_length(algorithm, n))


#: dm-clrs' CLRS-30 splits (``clrs.CLRS30``): sample count, graph size and sampler seed.
CLRS30 = {
    "train": {"num_samples": 1000, "length": 16, "seed": 1},
    "val": {"num_samples": 32, "length": 16, "seed": 2},
    "test": {"num_samples": 32, "length": 64, "seed": 3},
}

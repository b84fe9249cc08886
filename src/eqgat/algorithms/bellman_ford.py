"""Bellman-Ford (dm-clrs' ``bellman_ford``): one hint per round of relaxations, weighted
undirected graphs, a source."""

import numpy as np

from ..probes import Location, Probe, Stage, Type
from ..lang import Flag, GraphProgram, Minimum, Pointer, Scalar, edge, other, self_
from ._registry import Algorithm, Trace, graph_input_probes, graph_inputs, register_algorithm

_O, _H, _N = Stage.OUTPUT, Stage.HINT, Location.NODE

SPEC = (
    *graph_input_probes(source=True),
    Probe("pi", _O, _N, Type.POINTER),
    Probe("pi_h", _H, _N, Type.POINTER),
    Probe("d", _H, _N, Type.SCALAR),
    Probe("msk", _H, _N, Type.MASK),
)


def reference(A: np.ndarray, s: int) -> Trace:
    """Bellman-Ford from ``s``, one hint per round of relaxations from the start-of-round
    values (dm-clrs' ``bellman_ford``: an unreached node takes any offer, a reached one only
    a strictly shorter one)."""
    n = A.shape[0]
    d, pi, msk = np.zeros(n), np.arange(n), np.zeros(n)
    msk[s] = 1
    hints = []
    while True:
        prev_d, prev_msk = d.copy(), msk.copy()
        hints.append({"pi_h": pi.copy(), "d": prev_d.copy(), "msk": prev_msk.copy()})
        for u in range(n):
            for v in range(n):
                if prev_msk[u] == 1 and A[u, v] != 0:
                    if msk[v] == 0 or prev_d[u] + A[u, v] < d[v]:
                        d[v] = prev_d[u] + A[u, v]
                        pi[v] = u
                    msk[v] = 1
        if np.all(d == prev_d):
            return graph_inputs(A, s), hints, {"pi": pi.copy()}


PROGRAM = GraphProgram(
    algorithm="bellman_ford",
    hidden={"visit": Flag(start="s"), "dist": Scalar(), "pi": Pointer()},
    select=Minimum(expr=other.dist + edge.A, mask=other.visit, incumbent=self_.visit),
    update={"visit": other.visit, "dist": other.dist + edge.A, "pi": other.idx},
    probes={"msk": "visit", "d": "dist", "pi_h": "pi", "pi": "pi"},
    doc="Bellman-Ford (listing 1): every node takes the reached neighbour minimising "
        "dist + edge weight, unless its own distance is already at least as short.",
)


def trace_bound(n: int) -> int:
    """An upper bound on the hint steps on n nodes: at most n - 1 rounds that change
    state plus one that does not, and the initial state."""
    return n + 1


ALGORITHM = register_algorithm(Algorithm(
    "bellman_ford", SPEC, reference, directed=False, weighted=True, has_source=True, program=PROGRAM,
    trace_bound=trace_bound, doc="Bellman-Ford shortest paths (dm-clrs)"))

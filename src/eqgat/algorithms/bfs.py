"""Breadth-first search (dm-clrs' ``bfs``): one hint per round, undirected graphs, a source."""

import numpy as np

from ..probes import Location, Probe, Stage, Type
from ..lang import Flag, GraphProgram, Minimum, Pointer, other, self_
from ._registry import Algorithm, Trace, graph_input_probes, graph_inputs, register_algorithm

_O, _H, _N = Stage.OUTPUT, Stage.HINT, Location.NODE

SPEC = (
    *graph_input_probes(source=True),
    Probe("pi", _O, _N, Type.POINTER),
    Probe("reach_h", _H, _N, Type.MASK),
    Probe("pi_h", _H, _N, Type.POINTER),
)


def reference(A: np.ndarray, s: int) -> Trace:
    """Breadth-first search from ``s``, one hint per round (dm-clrs' ``bfs``)."""
    n = A.shape[0]
    reach, pi = np.zeros(n), np.arange(n)
    reach[s] = 1
    hints = []
    while True:
        prev = reach.copy()
        hints.append({"reach_h": prev.copy(), "pi_h": pi.copy()})
        for i in range(n):
            for j in range(n):
                if A[i, j] > 0 and prev[i] == 1:
                    if pi[j] == j and j != s:
                        pi[j] = i
                    reach[j] = 1
        if np.all(reach == prev):
            return graph_inputs(A, s), hints, {"pi": pi.copy()}


PROGRAM = GraphProgram(
    algorithm="bfs",
    hidden={"visit": Flag(start="s"), "pi": Pointer()},
    select=Minimum(expr=other.idx, mask=other.visit, keep=self_.visit),
    update={"visit": other.visit, "pi": other.idx},
    probes={"reach_h": "visit", "pi_h": "pi", "pi": "pi"},
    doc="Breadth-first search (listing 2): an unvisited node joins from its lowest-id "
        "visited neighbour; visited nodes keep their state.",
)


def trace_bound(n: int) -> int:
    """An upper bound on the hint steps on n nodes: at most n - 1 rounds that change
    state plus one that does not, and the initial state."""
    return n + 1


ALGORITHM = register_algorithm(Algorithm(
    "bfs", SPEC, reference, directed=False, weighted=False, has_source=True, program=PROGRAM,
    trace_bound=trace_bound, doc="breadth-first search (dm-clrs)"))

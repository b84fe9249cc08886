"""Breadth-first search (dm-clrs' ``bfs``): one hint per round, undirected graphs, a source."""

import numpy as np

from ..probes import Location, Probe, Stage, Type
from ..lang import Flag, GraphProgram, Minimum, Pointer, other, self_
from ._registry import (Algorithm, BatchTrace, Trace, graph_input_probes, graph_inputs, one_graph, padded,
                        register_algorithm)

_O, _H, _N = Stage.OUTPUT, Stage.HINT, Location.NODE

SPEC = (
    *graph_input_probes(source=True),
    Probe("pi", _O, _N, Type.POINTER),
    Probe("reach_h", _H, _N, Type.MASK),
    Probe("pi_h", _H, _N, Type.POINTER),
)


def traces(A: np.ndarray, sources: np.ndarray) -> BatchTrace:
    """Breadth-first search on a batch of graphs (``A`` ``[b, n, n]``, ``A[g, i, j] > 0``: i
    reaches j) from ``sources`` ``[b]``, one hint per round (dm-clrs' ``bfs``).

    dm-clrs loops over (sender i, receiver j) pairs in index order from the start-of-round
    reach; a node first reached in a round takes its lowest reached sender as parent (a
    reached node keeps its parent: the source its own, the others the one they got). Here a
    round is that rule on every graph and node at once. A graph that stops growing stays as
    it is (nothing changes it) until the last one stops."""
    A = np.asarray(A)
    b, n = A.shape[:2]
    incoming = np.ones((b, n, n + 1), dtype=bool)  # [b, j, i]: i reaches j; i = n: always (see below)
    incoming[:, :, :n] = (A > 0).transpose(0, 2, 1)
    reach = np.ones((b, n + 1), dtype=bool)  # node n: a sender every node has, last
    reach[:, :n] = False
    reach[np.arange(b), sources] = True
    pi = np.broadcast_to(np.arange(n), (b, n))
    reach_h, pi_h, grew = [], [], []
    while True:
        reach_h.append(reach[:, :n].copy())
        pi_h.append(pi)
        first = (incoming & reach[:, None, :]).argmax(2)  # the lowest reached sender; n: none
        new = (first < n) & ~reach_h[-1]
        grew.append(new.any(1))
        if not grew[-1].any():
            break
        pi = np.where(new, first, pi)
        reach[:, :n] |= new
    lengths = 1 + np.stack(grew).sum(0)  # the initial hint, then one per round that grew
    hints = padded({"reach_h": np.stack(reach_h, 1), "pi_h": np.stack(pi_h, 1)}, lengths)
    return graph_inputs(A, sources, copy=False), hints, {"pi": pi.astype(np.float64)}, lengths.astype(np.float64)


def reference(A: np.ndarray, s: int) -> Trace:
    """Breadth-first search from ``s``, one hint per round (dm-clrs' ``bfs``): ``traces`` on one graph."""
    return one_graph(traces, A, s)


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
    trace_bound=trace_bound, batch_reference=traces, doc="breadth-first search (dm-clrs)"))

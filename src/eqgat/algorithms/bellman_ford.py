"""Bellman-Ford (dm-clrs' ``bellman_ford``): one hint per round of relaxations, weighted
undirected graphs, a source."""

import numpy as np

from ..probes import Location, Probe, Stage, Type
from ..lang import Flag, GraphProgram, Minimum, Pointer, Scalar, edge, other, self_
from ._registry import (Algorithm, BatchTrace, Trace, graph_input_probes, graph_inputs, one_graph, padded,
                        register_algorithm)

_O, _H, _N = Stage.OUTPUT, Stage.HINT, Location.NODE

SPEC = (
    *graph_input_probes(source=True),
    Probe("pi", _O, _N, Type.POINTER),
    Probe("pi_h", _H, _N, Type.POINTER),
    Probe("d", _H, _N, Type.SCALAR),
    Probe("msk", _H, _N, Type.MASK),
)


def traces(A: np.ndarray, sources: np.ndarray) -> BatchTrace:
    """Bellman-Ford on a batch of weighted graphs (``A`` ``[b, n, n]``, 0: no edge) from
    ``sources`` ``[b]``, one hint per round of relaxations (dm-clrs' ``bellman_ford``).

    dm-clrs relaxes (u, v) pairs in index order from the start-of-round distances: an
    unreached v takes its first offer, and then (as a reached one does) only a strictly
    shorter one. So v ends the round with its least offer from its lowest sender offering
    it, unless it was reached and that offer is not strictly below its distance. A round
    stops a graph when no distance changed; it then stays as it is. (Exact while distances
    stay finite: an offer of inf is no offer.)"""
    A = np.asarray(A, dtype=np.float64)
    b, n = A.shape[:2]
    weights = np.where(A != 0, A, np.inf).transpose(0, 2, 1).copy()  # [b, v, u]: inf where no edge u -> v
    d, pi = np.zeros((b, n)), np.empty((b, n), dtype=np.int64)
    pi[:] = np.arange(n)
    msk = np.zeros((b, n), dtype=bool)
    msk[np.arange(b), sources] = True
    running = np.ones(b, dtype=bool)
    starts = np.arange(0, b * n * n, n).reshape(b, n)  # where each [b, v] row of offers starts, flat
    pi_h, d_h, msk_h, changed = [], [], [], []
    while running.any():
        pi_h.append(pi)
        d_h.append(d)
        msk_h.append(msk)
        incumbent = np.where(msk, d, np.inf)  # what an offer must beat: inf for an unreached node
        offers = incumbent[:, None, :] + weights  # [b, v, u]: inf from an unreached u
        best = offers.argmin(2)  # the lowest sender of the least offer
        offer = offers.reshape(-1).take(starts + best)  # its value (min over a short axis: ~5x argmin's time)
        take = offer < incumbent
        if not running.all():  # a graph that stopped is left as it is
            take &= running[:, None]
        new_d = np.where(take, offer, d)
        pi, msk = np.where(take, best, pi), msk | take
        running = (new_d != d).any(1)
        changed.append(running)
        d = new_d
    lengths = 1 + np.stack(changed).sum(0)  # the initial hint, then one per round that changed a distance
    hints = padded({"pi_h": np.stack(pi_h, 1), "d": np.stack(d_h, 1), "msk": np.stack(msk_h, 1)}, lengths)
    return graph_inputs(A, sources, copy=False), hints, {"pi": pi.astype(np.float64)}, lengths.astype(np.float64)


def reference(A: np.ndarray, s: int) -> Trace:
    """Bellman-Ford from ``s``, one hint per round of relaxations (dm-clrs'
    ``bellman_ford``): ``traces`` on one graph."""
    return one_graph(traces, A, s)


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
    trace_bound=trace_bound, batch_reference=traces, doc="Bellman-Ford shortest paths (dm-clrs)"))

"""``dfs_light``, the paper authors' fork: DFS with only its pointer and colour hints, one
change per hint; directed graphs, no source. Compiled for full attention
(``eqgat.compiler``'s depth-first backend)."""

import numpy as np

from ..probes import Location, Probe, Stage, Type
from ..lang import Colour, DepthFirst, Minimum, Pointer, edge, other
from . import dfs
from ._registry import (Algorithm, BatchTrace, Trace, graph_input_probes, graph_inputs, one_graph, padded,
                        register_algorithm)

_O, _H, _N = Stage.OUTPUT, Stage.HINT, Location.NODE

SPEC = (
    *graph_input_probes(source=False),
    Probe("pi", _O, _N, Type.POINTER),
    Probe("pi_h", _H, _N, Type.POINTER),
    Probe("color", _H, _N, Type.CATEGORICAL, 3),
)

WHITE, GREY, BLACK = 0, 1, 2


def dfs_light_trace(A: np.ndarray) -> tuple[list[dict[str, np.ndarray]], np.ndarray]:
    """``dfs_light`` on adjacency ``A``: the hints (``pi_h``, ``color`` as 0 white, 1
    grey, 2 black) and the output ``pi``. Roots in index order; each hint records one
    change: a new root (then its turning grey), a push (a node turns grey and gets its
    parent) or a pop (a node turns black)."""
    A = np.asarray(A)
    n = A.shape[0]
    color, pi, s_prev = np.full(n, WHITE), np.arange(n), np.arange(n)
    hints = []

    def push():
        hints.append({"pi_h": pi.copy(), "color": color.copy()})

    for s in range(n):
        if color[s] != WHITE:
            continue
        s_last = u = s
        push()
        while True:
            if color[u] == WHITE:
                color[u] = GREY
                push()
            for v in range(n):
                if A[u, v] != 0 and color[v] == WHITE:
                    pi[v], color[v] = u, GREY
                    s_prev[v], s_last = s_last, v
                    push()
                    break
            if s_last == u:
                color[u] = BLACK
                push()
                if s_prev[u] == u:
                    break
                pr = s_prev[s_last]
                s_prev[s_last] = s_last
                s_last = pr
            u = s_last
    return hints, pi


def traces(A: np.ndarray, sources=None) -> BatchTrace:
    """``dfs_light`` on a batch of directed graphs: DFS's searches (``dfs.search``, the same
    roots, pushes and pops) with only the pointer and colour hints, and without the steps
    that discover a node a push reached (already grey: nothing changes)."""
    searches = dfs.search(A)
    keep = searches.live & ~searches.pushed  # [b, 3n]
    lengths = keep.sum(1)
    order = np.argsort(~keep, axis=1, kind="stable")[:, : lengths.max()]  # each graph's kept steps, first
    kept = lambda x: np.take_along_axis(x, order[:, :, None], 1)  # noqa: E731
    hints = {"pi_h": kept(searches.history[dfs.PI]),
             "color": np.eye(3)[kept(searches.history[dfs.COLOR]).astype(np.int64)]}
    outputs = {"pi": searches.nodes[dfs.PI, :, : searches.n].copy()}
    return graph_inputs(A, copy=False), padded(hints, lengths), outputs, lengths.astype(np.float64)


def reference(A: np.ndarray, source=None) -> Trace:
    """``dfs_light``'s trace: ``traces`` on one graph (what the fork's loop,
    ``dfs_light_trace``, gives)."""
    return one_graph(traces, A, source)


PROGRAM = DepthFirst(
    algorithm="dfs_light",
    hidden={"colour": Colour(), "parent": Pointer()},
    next=Minimum(expr=other.idx, mask=(other.white, edge.adj)),
    root=Minimum(expr=other.idx, mask=other.white),
    probes={"color": "colour", "pi_h": "parent", "pi": "parent"},
    doc="Depth-first search with roots in index order (the fork's dfs_light): the cursor pushes its "
        "lowest-id white out-neighbour, or turns black and pops to its parent; when a tree is finished the "
        "lowest-id white node anywhere becomes the next root.",
)


def trace_bound(n: int) -> int:
    """An upper bound on the hint steps on n nodes: one hint per root, two per root's
    start and one per push and pop: 2n + roots <= 3n."""
    return 3 * n


ALGORITHM = register_algorithm(Algorithm(
    "dfs_light", SPEC, reference, directed=True, weighted=False, has_source=False, program=PROGRAM,
    trace_bound=trace_bound, sequential=True, batch_reference=traces,
    doc="DFS with pointer and colour hints only (the paper's fork)"))

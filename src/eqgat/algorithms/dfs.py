"""Depth-first search with dm-clrs' nine hints (``dfs``), directed graphs, no source."""

import functools

import numpy as np

from ..lang import Colour, DepthFirst, Minimum, Pointer, edge, other
from ..probes import Location, Probe, Stage, Type
from ._registry import (Algorithm, BatchTrace, Trace, graph_input_probes, graph_inputs, one_graph, padded,
                        register_algorithm)

_O, _H, _N, _G = Stage.OUTPUT, Stage.HINT, Location.NODE, Location.GRAPH

SPEC = (
    *graph_input_probes(source=False),
    Probe("pi", _O, _N, Type.POINTER),
    Probe("pi_h", _H, _N, Type.POINTER),
    Probe("color", _H, _N, Type.CATEGORICAL, 3),
    Probe("d", _H, _N, Type.SCALAR),
    Probe("f", _H, _N, Type.SCALAR),
    Probe("s_prev", _H, _N, Type.POINTER),
    Probe("s", _H, _N, Type.MASK_ONE),
    Probe("u", _H, _N, Type.MASK_ONE),
    Probe("v", _H, _N, Type.MASK_ONE),
    Probe("s_last", _H, _N, Type.MASK_ONE),
    Probe("time", _H, _G, Type.SCALAR),
)


#: What a graph's next hint step does: start a tree at the lowest white node (also where a
#: graph with no white node left stays), discover the node at the cursor (grey, its
#: discovery time), or scan the cursor's out-neighbours (push one, or finish the cursor).
ROOT, DISCOVER, SCAN = 0, 1, 2
#: The rows of ``Search.nodes`` (node-level state and hints) and ``Search.cursor``.
PI, COLOR, S_PREV, D, F = 0, 1, 2, 3, 4
S, U, V, S_LAST = 0, 1, 2, 3


@functools.lru_cache(maxsize=None)
def clock(ticks: int) -> np.ndarray:
    """The times dm-clrs' DFS reaches: 0, then ``time += 0.01`` ``ticks`` times, summed as
    it sums them (so the float64 values are its own, rounding included)."""
    times = [0.0]
    for _ in range(ticks):
        times.append(times[-1] + 0.01)
    return np.array(times)


class Search:
    """The depth-first searches of a batch of b graphs, one hint step at a time for all of
    them: each graph's step is one of dm-clrs' hints (a new root, a discovery, a push of a
    white out-neighbour, or a finish); ``mode`` says which kind each graph makes next.

    State: ``nodes`` ``[5, b, n + 1]`` (pi, colour, s_prev, d, f as float64, the hints'
    type), ``cursor`` ``[4, b]`` (s, u, v, s_last), ``ticks`` ``[b]`` (time =
    ``times[ticks]``); column n is scratch: a write meant for some graphs sends the others
    there. Step t's hint is kept in ``history`` ``[5, b, T, n]``, ``cursors`` ``[4, b, T]``
    and ``clocks`` ``[b, T]``; ``live[:, t]``: which graphs made one, ``pushed[:, t]``:
    which discovered a node a push had reached (already grey: ``dfs_light`` has no such hint)."""

    def __init__(self, A: np.ndarray, T: int):
        b, n = A.shape[:2]
        self.edge, self.rows, self.n = A != 0, np.arange(b), n
        self.nodes = np.zeros((5, b, n + 1))
        self.nodes[PI] = self.nodes[S_PREV] = np.arange(n + 1)
        self.cursor = np.zeros((4, b), dtype=np.int64)
        self.ticks, self.mode = np.zeros(b, dtype=np.int64), np.full(b, ROOT)
        self.times = clock(2 * n)
        self.history = np.empty((5, b, T, n))
        self.cursors, self.clocks = np.empty((4, b, T), dtype=np.int64), np.empty((b, T), dtype=np.int64)
        self.live, self.pushed = np.empty((b, T), dtype=bool), np.empty((b, T), dtype=bool)

    def step(self, t: int) -> None:
        """Hint step t of every graph still searching, kept in the history."""
        n, rows, nodes, cursor, mode = self.n, self.rows, self.nodes, self.cursor, self.mode
        white = nodes[COLOR, :, :n] == 0
        root = (mode == ROOT) & white.any(1)
        cursor[:, root] = white.argmax(1)[root]  # s = u = v = s_last = the lowest white node
        u, scan = cursor[U], mode == SCAN
        self.live[:, t], self.pushed[:, t] = root | (mode != ROOT), (mode == DISCOVER) & (u != cursor[S])
        out = self.edge[rows, u] & white
        nxt = out.argmax(1)
        push = scan & out[rows, nxt]
        finish, timed = scan ^ push, (mode == DISCOVER) | (scan ^ push)
        self.ticks += timed
        # discovered: u turns grey, d[u] = time; pushed: nxt turns grey with its parent u
        # (and stack link s_last = u); finished: u turns black, f[u] = time
        nodes[COLOR, rows, np.where(push, nxt, np.where(timed, u, n))] = 1 + finish
        nodes[[[PI], [S_PREV]], rows, np.where(push, nxt, n)] = u, cursor[S_LAST]
        nodes[D + finish, rows, np.where(timed, u, n)] = self.times[self.ticks]
        cursor[V] = np.where(push, nxt, np.where(finish, n - 1, cursor[V]))  # dm-clrs' loop variable
        cursor[S_LAST] = np.where(push, nxt, cursor[S_LAST])
        self.history[:, :, t], self.cursors[:, :, t], self.clocks[:, t] = nodes[:, :, :n], cursor, self.ticks
        self._then(root, push, finish)

    def _then(self, root, push, finish) -> None:
        """After the hint: a finished node pops (its stack link reset, the cursor back to
        the node below it) or, a root, ends its tree; then each graph's next mode."""
        rows, cursor, s_prev = self.rows, self.cursor, self.nodes[S_PREV]
        u, s_last = cursor[U], cursor[S_LAST]
        pop = finish & (s_prev[rows, u] != u)
        below = s_prev[rows, s_last].astype(np.int64)
        s_prev[rows, np.where(pop, s_last, self.n)] = s_last
        cursor[S_LAST] = np.where(pop, below, s_last)
        cursor[U] = np.where(push | pop, cursor[S_LAST], u)
        # ROOT (0) after a finished tree, DISCOVER after a root or a push, SCAN after a discovery or a pop
        self.mode = DISCOVER * (root | push) + SCAN * ((self.mode == DISCOVER) | pop)


def search(A: np.ndarray) -> Search:
    """The depth-first searches of the directed graphs ``A`` (``[b, n, n]``, ``A[g, u, v]
    != 0``: an edge u -> v), run to their end: roots in index order, the cursor pushing
    its lowest white out-neighbour. Each graph's search stays sequential (one hint per
    step); the graphs take their steps together, each scan an array operation over the
    nodes. Every search has ``trace_bound(n)`` = 3n steps: each node is reached (a root or
    a push), discovered and finished once."""
    A = np.asarray(A)
    n = A.shape[1]
    searches = Search(A, trace_bound(n))
    for t in range(trace_bound(n)):
        searches.step(t)
    if (searches.nodes[COLOR, :, :n] != 2).any():
        raise RuntimeError("a depth-first search took more than 3n hint steps")  # never: see above
    return searches


def traces(A: np.ndarray, sources=None) -> BatchTrace:
    """Depth-first search on a batch of directed graphs (``search``) with dm-clrs' hints
    (``dfs``): colours, discovery and finish times (time advances by 0.01), the stack
    (``s_prev``, ``s_last``) and the current root, node and neighbour (``v`` is n - 1 after
    a scan that found nothing: dm-clrs' loop variable)."""
    searches = search(A)
    history, cursor, n = searches.history, searches.cursors, searches.n
    cursors = np.zeros(cursor.shape + (n,))
    np.put_along_axis(cursors, cursor[..., None], 1.0, axis=3)  # one-hot s, u, v, s_last
    hints = {"pi_h": history[PI], "color": np.eye(3)[history[COLOR].astype(np.int64)], "d": history[D],
             "f": history[F], "s_prev": history[S_PREV], "s": cursors[S], "u": cursors[U], "v": cursors[V],
             "s_last": cursors[S_LAST], "time": searches.times[searches.clocks]}
    lengths = searches.live.sum(1)
    outputs = {"pi": searches.nodes[PI, :, :n].copy()}
    return graph_inputs(A, copy=False), padded(hints, lengths), outputs, lengths.astype(np.float64)


def reference(A: np.ndarray, source=None) -> Trace:
    """Depth-first search with dm-clrs' hints (``dfs``): ``traces`` on one graph."""
    return one_graph(traces, A, source)


def trace_bound(n: int) -> int:
    """An upper bound on the hint steps on n nodes: three hints per node: discovery,
    finish, and the push or root that reached it."""
    return 3 * n


PROGRAM = DepthFirst(
    algorithm="dfs",
    hidden={"colour": Colour(), "parent": Pointer()},
    next=Minimum(expr=other.idx, mask=(other.white, edge.adj)),
    root=Minimum(expr=other.idx, mask=other.white),
    trace="clrs",
    probes={"color": "colour", "pi_h": "parent", "pi": "parent", "s_prev": "stack", "d": "discovery",
            "f": "finish", "time": "clock", "s": "root", "u": "cursor", "v": "scanned", "s_last": "top"},
    doc="dm-clrs' depth-first search: roots in index order, the cursor pushes its lowest-id white "
        "out-neighbour or finishes and pops, with a discovery step after each push and root and all nine hints.",
)

ALGORITHM = register_algorithm(Algorithm(
    "dfs", SPEC, reference, directed=True, weighted=False, has_source=False, program=PROGRAM,
    trace_bound=trace_bound, sequential=True, batch_reference=traces, doc="depth-first search with dm-clrs' nine hints"))

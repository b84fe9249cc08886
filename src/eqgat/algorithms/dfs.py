"""Depth-first search with dm-clrs' nine hints (``dfs``), directed graphs, no source."""

import functools

import numpy as np

from ..probes import Location, Probe, Stage, Type
from ._registry import (Algorithm, BatchTrace, graph_input_probes, graph_inputs, one_graph, padded,
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
#: The rows of ``_Search.nodes``, ``_Search.times_at`` and ``_Search.cursor``.
PI, COLOR, S_PREV = 0, 1, 2
D, F = 0, 1
S, U, V, S_LAST = 0, 1, 2, 3


@functools.lru_cache(maxsize=None)
def clock(ticks: int) -> np.ndarray:
    """The times dm-clrs' DFS reaches: 0, then ``time += 0.01`` ``ticks`` times, summed as
    it sums them (so the float64 values are its own, rounding included)."""
    times = [0.0]
    for _ in range(ticks):
        times.append(times[-1] + 0.01)
    return np.array(times)


class _Search:
    """The depth-first searches of a batch of b graphs, one hint step at a time for all of
    them: each graph's step is one of dm-clrs' hints (a new root, a discovery, a push of a
    white out-neighbour, or a finish); ``mode`` says which kind each graph makes next.

    State: ``nodes`` ``[3, b, n + 1]`` (pi, colour, s_prev), ``times_at`` ``[2, b, n + 1]``
    (d, f), ``cursor`` ``[4, b]`` (s, u, v, s_last), ``ticks`` ``[b]`` (time = ``times[ticks]``).
    Column n is scratch: a write meant for some graphs sends the others there."""

    def __init__(self, A: np.ndarray):
        b, n = A.shape[:2]
        self.edge, self.rows, self.n = A != 0, np.arange(b), n
        self.nodes = np.zeros((3, b, n + 1), dtype=np.int64)
        self.nodes[PI] = self.nodes[S_PREV] = np.arange(n + 1)
        self.times_at = np.zeros((2, b, n + 1))
        self.cursor = np.zeros((4, b), dtype=np.int64)
        self.ticks, self.mode = np.zeros(b, dtype=np.int64), np.full(b, ROOT)
        self.times = clock(2 * n)

    def step(self) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """One hint step of every graph still searching: which graphs made one, and the
        hint (``nodes``, ``times_at``, ``cursor`` and ``ticks`` copied, without column n)."""
        n, rows, nodes, cursor, mode = self.n, self.rows, self.nodes, self.cursor, self.mode
        white = nodes[COLOR, :, :n] == 0
        root = (mode == ROOT) & white.any(1)
        cursor[:, root] = white.argmax(1)[root]  # s = u = v = s_last = the lowest white node
        u, scan = cursor[U], mode == SCAN
        out = self.edge[rows, u] & white
        nxt = out.argmax(1)
        push = scan & out[rows, nxt]
        finish, timed = scan ^ push, (mode == DISCOVER) | (scan ^ push)
        self.ticks += timed
        # discovered: u turns grey, d[u] = time; pushed: nxt turns grey with its parent u
        # (and stack link s_last = u); finished: u turns black, f[u] = time
        nodes[COLOR, rows, np.where(push, nxt, np.where(timed, u, n))] = 1 + finish
        nodes[[[PI], [S_PREV]], rows, np.where(push, nxt, n)] = u, cursor[S_LAST]
        self.times_at[finish * F, rows, np.where(timed, u, n)] = self.times[self.ticks]
        cursor[V] = np.where(push, nxt, np.where(finish, n - 1, cursor[V]))  # dm-clrs' loop variable
        cursor[S_LAST] = np.where(push, nxt, cursor[S_LAST])
        hint = nodes[:, :, :n].copy(), self.times_at[:, :, :n].copy(), cursor.copy(), self.ticks.copy()
        self._then(root, push, finish)
        return root | (mode != ROOT), hint

    def _then(self, root, push, finish) -> None:
        """After the hint: a finished node pops (its stack link reset, the cursor back to
        the node below it) or, a root, ends its tree; then each graph's next mode."""
        rows, cursor, s_prev = self.rows, self.cursor, self.nodes[S_PREV]
        u, s_last = cursor[U], cursor[S_LAST]
        pop = finish & (s_prev[rows, u] != u)
        below = s_prev[rows, s_last]
        s_prev[rows, np.where(pop, s_last, self.n)] = s_last
        cursor[S_LAST] = np.where(pop, below, s_last)
        cursor[U] = np.where(push | pop, cursor[S_LAST], u)
        # ROOT (0) after a finished tree, DISCOVER after a root or a push, SCAN after a discovery or a pop
        self.mode = DISCOVER * (root | push) + SCAN * ((self.mode == DISCOVER) | pop)


def traces(A: np.ndarray, sources=None) -> BatchTrace:
    """Depth-first search on a batch of directed graphs (``A`` ``[b, n, n]``, ``A[g, u, v]
    != 0``: an edge u -> v) with dm-clrs' hints (``dfs``): colours, discovery and finish
    times (time advances by 0.01), the stack (``s_prev``, ``s_last``) and the current root,
    node and neighbour (``v`` is n - 1 after a scan that found nothing: dm-clrs' loop
    variable). Roots in index order; the cursor pushes its lowest white out-neighbour.

    Each graph's search stays sequential (one hint per step); the graphs of the batch take
    their steps together, each scan an array operation over the nodes."""
    A = np.asarray(A)
    n = A.shape[1]
    search, steps, lengths = _Search(A), [], np.zeros(A.shape[0], dtype=np.int64)
    while True:
        live, hint = search.step()
        if not live.any():
            break
        lengths += live
        steps.append(hint)
    nodes, times_at, cursor, ticks = zip(*steps)
    nodes, times_at = np.stack(nodes, -2), np.stack(times_at, -2)  # [3 or 2, b, T, n]
    cursor, ticks = np.stack(cursor, -1), np.stack(ticks, -1)  # [4, b, T], [b, T]
    eye = np.eye(n)
    hints = {"pi_h": nodes[PI], "color": np.eye(3)[nodes[COLOR]], "d": times_at[D], "f": times_at[F],
             "s_prev": nodes[S_PREV], "s": eye[cursor[S]], "u": eye[cursor[U]], "v": eye[cursor[V]],
             "s_last": eye[cursor[S_LAST]], "time": search.times[ticks]}
    outputs = {"pi": search.nodes[PI, :, :n].astype(np.float64)}
    return graph_inputs(A), padded(hints, lengths), outputs, lengths.astype(np.float64)


reference = one_graph(traces)


def trace_bound(n: int) -> int:
    """An upper bound on the hint steps on n nodes: three hints per node: discovery,
    finish, and the push or root that reached it."""
    return 3 * n


ALGORITHM = register_algorithm(Algorithm(
    "dfs", SPEC, reference, directed=True, weighted=False, has_source=False,
    trace_bound=trace_bound, sequential=True, batch_reference=traces, doc="depth-first search with dm-clrs' nine hints"))

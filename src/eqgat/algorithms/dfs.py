"""Depth-first search with dm-clrs' nine hints (``dfs``), directed graphs, no source."""

import numpy as np

from ..probes import Location, Probe, Stage, Type
from ._registry import Algorithm, Trace, graph_input_probes, graph_inputs, register_algorithm

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


def reference(A: np.ndarray, source=None) -> Trace:
    """Depth-first search with dm-clrs' hints: colours, discovery and finish times (time
    advances by 0.01), the stack (``s_prev``, ``s_last``) and the current root, node and
    neighbour (``v`` keeps its last value after a scan that found nothing)."""
    n = A.shape[0]
    onehot = np.eye(n)
    color, pi = np.zeros(n, dtype=int), np.arange(n)
    d, f, s_prev = np.zeros(n), np.zeros(n), np.arange(n)
    time = 0.0
    hints = []

    def push(s, u, v, s_last):
        hints.append({"pi_h": pi.copy(), "color": np.eye(3)[color], "d": d.copy(), "f": f.copy(),
                      "s_prev": s_prev.copy(), "s": onehot[s], "u": onehot[u], "v": onehot[v],
                      "s_last": onehot[s_last], "time": np.array(time)})

    for s in range(n):
        if color[s] != 0:
            continue
        s_last = u = v = s
        push(s, u, v, s_last)
        while True:
            if color[u] == 0 or d[u] == 0.0:
                time += 0.01
                d[u], color[u] = time, 1
                push(s, u, v, s_last)
            for v in range(n):
                if A[u, v] != 0 and color[v] == 0:
                    pi[v], color[v] = u, 1
                    s_prev[v], s_last = s_last, v
                    push(s, u, v, s_last)
                    break
            if s_last == u:
                color[u] = 2
                time += 0.01
                f[u] = time
                push(s, u, v, s_last)
                if s_prev[u] == u:
                    break
                pr = s_prev[s_last]
                s_prev[s_last] = s_last
                s_last = pr
            u = s_last
    return graph_inputs(A), hints, {"pi": pi.copy()}


def trace_bound(n: int) -> int:
    """An upper bound on the hint steps on n nodes: three hints per node: discovery,
    finish, and the push or root that reached it."""
    return 3 * n


ALGORITHM = register_algorithm(Algorithm(
    "dfs", SPEC, reference, directed=True, weighted=False, has_source=False,
    trace_bound=trace_bound, sequential=True, doc="depth-first search with dm-clrs' nine hints"))

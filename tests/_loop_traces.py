"""The loop traces of BFS, Bellman-Ford and DFS: Python double loops over node pairs, as
dm-clrs' ``clrs/_src/algorithms/graphs.py`` writes them (eqgat's references before they
were vectorised). ``tests/test_traces.py`` checks the vectorised references against them."""

import numpy as np

from eqgat.algorithms import Trace, graph_inputs


def bfs(A: np.ndarray, s: int) -> Trace:
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


def bellman_ford(A: np.ndarray, s: int) -> Trace:
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


def dfs(A: np.ndarray, source=None) -> Trace:
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


#: The loop trace of each algorithm name.
LOOP_TRACES = {"bfs": bfs, "bellman_ford": bellman_ford, "dfs": dfs}

"""The loop traces of BFS, Bellman-Ford and DFS: Python double loops over node pairs, as
dm-clrs' ``clrs/_src/algorithms/graphs.py`` writes them (eqgat's references before they
were vectorised), and the fork's ``dfs_light`` (its loop, ``eqgat.data.fork.dfs_light_trace``).
``tests/test_traces.py`` checks the vectorised references against them."""

import numpy as np

from eqgat.algorithms import Trace, graph_inputs
from eqgat.data.fork import dfs_light_trace


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


def dfs_light(A: np.ndarray, source=None) -> Trace:
    """The fork's ``dfs_light`` loop, its colours one-hot."""
    hints, pi = dfs_light_trace(A)
    return graph_inputs(A), [{**h, "color": np.eye(3)[h["color"]]} for h in hints], {"pi": pi}


#: The loop trace of each algorithm name.
LOOP_TRACES = {"bfs": bfs, "bellman_ford": bellman_ford, "dfs": dfs, "dfs_light": dfs_light}


def stacked(traces: list[Trace], steps: int = 0):
    """Per-graph traces as a batch, as dm-clrs batches them: inputs and outputs stacked,
    hints ``[b, T, ...]`` zero-padded to the longest trace (or ``steps``), lengths."""
    T = max([steps] + [len(h) for _, h, _ in traces])
    stack = lambda dicts: {k: np.stack([np.asarray(d[k], np.float64) for d in dicts]) for k in dicts[0]}  # noqa: E731
    hints = {}
    for name in traces[0][1][0]:
        out = np.zeros((len(traces), T) + np.shape(traces[0][1][0][name]))
        for g, (_, h, _) in enumerate(traces):
            out[g, : len(h)] = np.stack([step[name] for step in h])
        hints[name] = out
    lengths = np.array([float(len(h)) for _, h, _ in traces])
    return stack([t[0] for t in traces]), hints, stack([t[2] for t in traces]), lengths


def dm_clrs_batch(name: str, *, n: int, count: int, seed: int, p, low: float = 0.0, high: float = 1.0):
    """``count`` graphs drawn as dm-clrs 2.0.3's samplers draw them (``_sample_data`` of
    ``DfsSampler`` (also ``dfs_light``'s), ``BfsSampler`` or ``BellmanFordSampler``, their
    ``_random_er_graph`` and ``choice`` calls, written out) and traced by the loops, batched
    without padding."""
    rng = np.random.RandomState(seed)
    directed, weighted, source = {"bfs": (False, False, True), "bellman_ford": (False, True, True),
                                  "dfs": (True, False, False), "dfs_light": (True, False, False)}[name]
    traces = []
    for _ in range(count):
        prob = rng.choice(p)
        mat = rng.binomial(1, prob, size=(n, n))
        if not directed:
            mat *= np.transpose(mat)
        if weighted:
            weights = rng.uniform(low=low, high=high, size=(n, n))
            if not directed:
                weights *= np.transpose(weights)
                weights = np.sqrt(weights + 1e-3)
            mat = mat.astype(float) * weights
        args = (mat, rng.choice(n)) if source else (mat, None)
        traces.append(LOOP_TRACES[name](*args))
    return stacked(traces)

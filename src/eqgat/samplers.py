"""CLRS data without TensorFlow: dm-clrs 2.0.3's graph samplers and the traces of BFS,
Bellman-Ford and DFS (plus the fork's ``bfs_seq`` and ``dfs_light``), reproduced in NumPy
draw for draw.

The same seed gives the same graphs, sources, traces and padding as ``clrs.build_sampler``
(``tests/test_samplers.py`` checks it against dm-clrs): one ``numpy.random.RandomState``
per sampler, drawn in dm-clrs' order (the edge probability, the Erdős–Rényi matrix, the
weights, the source), the same 1000-graph warm-up that fixes the padded trace length when
sampling on the fly, and a fixed dataset (drawn at construction) for ``num_samples > 0``.
``import clrs`` (TensorFlow, ~5 s) is never needed; ``eqgat.data`` uses this by default
and dm-clrs behind ``backend="clrs"``.
"""

from collections.abc import Callable

import numpy as np

from ._spec import Location, Stage, Type, get_spec

Trace = tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]], dict[str, np.ndarray]]


def _one_hot(i: int | np.integer, n: int) -> np.ndarray:
    x = np.zeros(n)
    x[i] = 1.0
    return x


def _inputs(A: np.ndarray, s: int | None = None) -> dict[str, np.ndarray]:
    """dm-clrs' graph inputs: ids i/n, the source (mask_one), the matrix and the adjacency
    with self loops (``probing.graph``)."""
    n = A.shape[0]
    out = {"pos": np.arange(n) / n, "A": np.array(A, dtype=np.float64),
           "adj": ((A + np.eye(n)) != 0).astype(np.float64)}
    if s is not None:
        out["s"] = _one_hot(s, n)
    return out


def bfs(A: np.ndarray, s: int) -> Trace:
    """Breadth-first search, one hint per round (dm-clrs' ``bfs``)."""
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
            return _inputs(A, s), hints, {"pi": pi.copy()}


def bellman_ford(A: np.ndarray, s: int) -> Trace:
    """Bellman-Ford, one hint per round of relaxations from the start-of-round values
    (dm-clrs' ``bellman_ford``: an unreached node takes any offer, a reached one only a
    strictly shorter one)."""
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
            return _inputs(A, s), hints, {"pi": pi.copy()}


def dfs(A: np.ndarray) -> Trace:
    """Depth-first search with dm-clrs' hints: colours, discovery and finish times (time
    advances by 0.01), the stack (``s_prev``, ``s_last``) and the current root, node and
    neighbour (``v`` keeps its last value after a scan that found nothing)."""
    n = A.shape[0]
    color, pi = np.zeros(n, dtype=int), np.arange(n)
    d, f, s_prev = np.zeros(n), np.zeros(n), np.arange(n)
    time = 0.0
    hints = []

    def push(s, u, v, s_last):
        hints.append({"pi_h": pi.copy(), "color": np.eye(3)[color], "d": d.copy(), "f": f.copy(),
                      "s_prev": s_prev.copy(), "s": _one_hot(s, n), "u": _one_hot(u, n), "v": _one_hot(v, n),
                      "s_last": _one_hot(s_last, n), "time": np.array(time)})

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
    return _inputs(A), hints, {"pi": pi.copy()}


def bfs_seq(A: np.ndarray, s: int) -> Trace:
    from .fork import bfs_seq_trace

    hints, pi = bfs_seq_trace(A, s)
    return _inputs(A, s), hints, {"pi": pi}


def dfs_light(A: np.ndarray) -> Trace:
    from .fork import dfs_light_trace

    hints, pi = dfs_light_trace(A)
    return _inputs(A), [{**h, "color": np.eye(3)[h["color"]]} for h in hints], {"pi": pi}


#: algorithm -> (trace function, directed graphs, weighted graphs, takes a source)
ALGORITHMS: dict[str, tuple[Callable[..., Trace], bool, bool, bool]] = {
    "bfs": (bfs, False, False, True),
    "bellman_ford": (bellman_ford, False, True, True),
    "dfs": (dfs, True, False, False),
    "bfs_seq": (bfs_seq, False, False, True),
    "dfs_light": (dfs_light, True, False, False),
}


class NumpySampler:
    """dm-clrs' ``build_sampler(algorithm, num_samples, length, seed, p, ...)`` without
    TensorFlow. ``next(batch_size)`` returns ``(inputs, hints, outputs, lengths)`` with a
    leading batch axis (hints ``[b, T, ...]``, T padded to the longest trace seen, as
    dm-clrs pads); ``next()`` returns the whole fixed dataset (``num_samples > 0``)."""

    def __init__(self, algorithm: str, *, num_samples: int, length: int, seed: int, p=(0.5,),
                 track_max_steps: bool = True, low: float = 0.0, high: float = 1.0):
        if algorithm not in ALGORITHMS:
            raise ValueError(f"no TensorFlow-free sampler for {algorithm!r}; use one of {', '.join(ALGORITHMS)}")
        self.algorithm, self.length, self.p, self.low, self.high = algorithm, length, tuple(p), low, high
        self._spec = get_spec(algorithm)
        self._rng = np.random.RandomState(seed)
        self._num_samples, self._track = num_samples, track_max_steps
        self.max_steps = 0
        if num_samples < 0:
            if track_max_steps:  # dm-clrs' warm-up: 1000 graphs fix the padded trace length
                self.max_steps = max(len(self._trace()[1]) for _ in range(1000))
        else:
            self._dataset = self._batch([self._trace() for _ in range(num_samples)], 0)

    def _graph(self) -> list:
        """One sample's arguments, drawn in dm-clrs' order."""
        _, directed, weighted, source = ALGORITHMS[self.algorithm]
        n, rng = self.length, self._rng
        p = rng.choice(self.p)
        mat = rng.binomial(1, p, size=(n, n))
        if not directed:
            mat *= np.transpose(mat)
        if weighted:
            w = rng.uniform(low=self.low, high=self.high, size=(n, n))
            if not directed:
                w *= np.transpose(w)
                w = np.sqrt(w + 1e-3)
            mat = mat.astype(float) * w
        return [mat, rng.choice(n)] if source else [mat]

    def _trace(self) -> Trace:
        return ALGORITHMS[self.algorithm][0](*self._graph())

    def _batch(self, traces: list[Trace], min_steps: int):
        T = max([min_steps] + [len(h) for _, h, _ in traces])
        inputs = {k: np.stack([t[0][k] for t in traces]).astype(np.float64) for k in traces[0][0]}
        outputs = {k: np.stack([t[2][k] for t in traces]).astype(np.float64) for k in traces[0][2]}
        hints = {}
        for p in self._spec:
            if p.stage != Stage.HINT:
                continue
            shape = {Location.NODE: (self.length,), Location.EDGE: (self.length,) * 2, Location.GRAPH: ()}[p.location]
            shape += (p.dim,) if p.type == Type.CATEGORICAL else ()
            x = np.zeros((len(traces), T) + shape)
            for b, (_, h, _) in enumerate(traces):
                x[b, : len(h)] = np.stack([step[p.name] for step in h])
            hints[p.name] = x
        lengths = np.array([float(len(h)) for _, h, _ in traces])
        return inputs, hints, outputs, lengths

    def next(self, batch_size: int | None = None):
        if not batch_size:
            if self._num_samples < 0:
                raise ValueError("an on-the-fly sampler (num_samples=-1) needs a batch size")
            return self._dataset
        if self._num_samples >= 0:
            raise NotImplementedError("batches drawn from a fixed dataset are not needed by eqgat")
        batch = self._batch([self._trace() for _ in range(batch_size)], self.max_steps if self._track else 0)
        if self._track:
            self.max_steps = max(self.max_steps, batch[1][next(iter(batch[1]))].shape[1])
        return batch

"""``bfs_seq``, the paper authors' fork: BFS whose trace has one hint per edge relaxation
(the trace grows with the number of edges, not the depth). BFS's probes and graphs."""

import numpy as np

from ._registry import Algorithm, Trace, graph_inputs, register_algorithm
from .bfs import SPEC


def bfs_seq_trace(A: np.ndarray, s: int) -> tuple[list[dict[str, np.ndarray]], np.ndarray]:
    """``bfs_seq`` on adjacency ``A`` (n×n, ``A[i, j] > 0``: i reaches j) from ``s``:
    the hints (``reach_h``, ``pi_h``) and the output ``pi``.

    One hint before the first round, then one per (sender i, receiver j) pair in index
    order with ``A[i, j] > 0`` and i reached at the start of the round; ``reach_h`` is that
    start-of-round copy, ``pi_h`` the current pointers. Stops after a round in which
    nothing new was reached."""
    A = np.asarray(A)
    n = A.shape[0]
    reach, pi = np.zeros(n), np.arange(n)
    reach[s] = 1
    hints = []
    while True:
        prev = reach.copy()
        if not hints:
            hints.append({"reach_h": prev.copy(), "pi_h": pi.copy()})
        for i in range(n):
            for j in range(n):
                if A[i, j] > 0 and prev[i] == 1:
                    if pi[j] == j and j != s:
                        pi[j] = i
                    reach[j] = 1
                    hints.append({"reach_h": prev.copy(), "pi_h": pi.copy()})
        if np.all(reach == prev):
            return hints, pi


def reference(A: np.ndarray, s: int) -> Trace:
    hints, pi = bfs_seq_trace(A, s)
    return graph_inputs(A, s), hints, {"pi": pi}


def trace_bound(n: int) -> int:
    """An upper bound on the hint steps on n nodes: one hint per edge out of a reached
    node in each of at most n rounds: 1 + n³ bounds it, far above typical traces, so
    batches pad to powers of two below it."""
    return 1 + n**3


ALGORITHM = register_algorithm(Algorithm(
    "bfs_seq", SPEC, reference, directed=False, weighted=False, has_source=True,
    trace_bound=trace_bound, pad_to_bound=False, sequential=True,
    doc="BFS with one hint per edge relaxation (the paper's fork)"))

"""The paper authors' two extra algorithms (their dm-clrs fork, table 13), written from
the algorithms' definitions:

- ``bfs_seq``: BFS whose trace has one hint per edge relaxation (the trace grows with
  the number of edges, not the depth);
- ``dfs_light``: DFS with only the ``pi_h`` and ``color`` hints, one change per hint.

``bfs_seq_trace`` and ``dfs_light_trace`` are the reference implementations (NumPy, no
TensorFlow). ``build_sampler`` wraps them in dm-clrs' own samplers (the ``bfs`` sampler's
undirected Erdős–Rényi graphs and source, the ``dfs`` sampler's directed ones), so their
data come in the same form, seeds and splits as every other algorithm's.
"""

from typing import Any

import numpy as np

from ._spec import get_spec

ALGORITHMS = ("bfs_seq", "dfs_light")

WHITE, GREY, BLACK = 0, 1, 2


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


def _clrs_spec(algorithm: str) -> dict[str, tuple[str, str, str]]:
    """eqgat's probe table in dm-clrs' form (name -> (stage, location, type))."""
    return {p.name: (p.stage, p.location, p.type) for p in get_spec(algorithm)}


def _probed(algorithm: str, A: np.ndarray, hints: list[dict], pi: np.ndarray, s: int | None):
    """dm-clrs' (output, probes) of a finished trace."""
    from clrs._src import probing

    n = A.shape[0]
    probes = probing.initialize(_clrs_spec(algorithm))
    inputs = {"pos": np.arange(n) * 1.0 / n, "A": np.copy(A), "adj": probing.graph(np.copy(A))}
    if s is not None:
        inputs["s"] = probing.mask_one(s, n)
    probing.push(probes, "input", next_probe=inputs)
    for h in hints:
        if "color" in h:
            h = {**h, "color": probing.array_cat(h["color"], 3)}
        probing.push(probes, "hint", next_probe=h)
    probing.push(probes, "output", next_probe={"pi": np.copy(pi)})
    probing.finalize(probes)
    return pi, probes


def _bfs_seq(A, s):
    return _probed("bfs_seq", A, *bfs_seq_trace(A, s), s)


def _dfs_light(A):
    return _probed("dfs_light", A, *dfs_light_trace(A), None)


def build_sampler(algorithm: str, *, num_samples: int, length: int, seed: int, p=(0.5,),
                  track_max_steps: bool = True) -> Any:
    """A dm-clrs sampler of ``algorithm``: dm-clrs' ``bfs`` sampler (undirected graphs and
    a source) for ``bfs_seq``, its ``dfs`` sampler (directed graphs) for ``dfs_light``."""
    from clrs._src import samplers

    if algorithm not in ALGORITHMS:
        raise ValueError(f"{algorithm!r} is not one of the fork's algorithms {ALGORITHMS}")
    cls, fn = (samplers.BfsSampler, _bfs_seq) if algorithm == "bfs_seq" else (samplers.DfsSampler, _dfs_light)
    return cls(fn, _clrs_spec(algorithm), num_samples, seed=seed, track_max_steps=track_max_steps, length=length, p=p)

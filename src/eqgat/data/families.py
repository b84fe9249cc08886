"""Graphs to verify compiled models on beyond the sampler: degenerate shapes, exact ties,
and every small graph.

A ``Case`` is a symmetric weight matrix (0 = no edge) and a source node. Weights are
exact in binary (integers, 0.25, 0.5, or one power of two everywhere), so path lengths
tie exactly; equal-weight families use the largest power of two ``w <= 1`` that keeps
every path shorter than ``value_bound`` (unit weights up to 16 nodes).
"""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Case:
    """One verification graph: ``family`` name, weights ``A`` (n×n, symmetric), ``source``."""

    family: str
    A: np.ndarray
    source: int

    @property
    def n(self) -> int:
        return self.A.shape[0]


def _sym(A: np.ndarray) -> np.ndarray:
    return np.maximum(A, A.T)


def _path(n: int, w: float) -> np.ndarray:
    A = np.zeros((n, n))
    for i in range(n - 1):
        A[i, i + 1] = A[i + 1, i] = w
    return A


def _grid(n: int, w: float) -> np.ndarray:
    """The first n nodes of a rows × cols grid (rows = floor(sqrt(n))), row-major."""
    rows = max(1, int(np.sqrt(n)))
    cols = -(-n // rows)
    A = np.zeros((n, n))
    for k in range(n):
        r, c = divmod(k, cols)
        if c + 1 < cols and k + 1 < n:
            A[k, k + 1] = A[k + 1, k] = w
        if k + cols < n:
            A[k, k + cols] = A[k + cols, k] = w
    return A


def equal_weight(n: int, value_bound: float = 16.0) -> float:
    """The largest power of two ``w <= 1`` with every simple path (n - 1 edges) below
    ``value_bound``."""
    w = 1.0
    while (n - 1) * w >= value_bound:
        w /= 2
    return w


FAMILIES = ("no edges", "two components", "path", "star", "complete", "grid",
            "integer weights 1-3", "weights 0.25/0.5")


def families(n: int, *, seed: int = 0, random_graphs: int = 6, value_bound: float = 16.0) -> list[Case]:
    """Every family at ``n`` nodes (``n >= 2``), from the sources that matter:

    - ``no edges``; ``two components`` (two paths; the source's half only is reachable);
    - ``path`` with the source at either end; ``star`` with the source at the centre or a
      leaf; ``complete``; ``grid`` from a corner, the middle and the last node;
    - ``integer weights 1-3`` and ``weights 0.25/0.5``: ``random_graphs`` Erdős–Rényi
      graphs each (edge probability 0.5; 4/n beyond 32 nodes, so paths stay short), random
      sources, drawn from ``numpy.random.default_rng([seed, n])``.
    """
    if n < 2:
        raise ValueError(f"families need at least 2 nodes, got {n}")
    w = equal_weight(n, value_bound)
    cases = [Case("no edges", np.zeros((n, n)), 0), Case("no edges", np.zeros((n, n)), n - 1)]
    half = n // 2
    two = np.zeros((n, n))
    two[:half, :half] = _path(half, w)
    two[half:, half:] = _path(n - half, w)
    cases += [Case("two components", two, 0), Case("two components", two, n - 1)]
    cases += [Case("path", _path(n, w), 0), Case("path", _path(n, w), n - 1)]
    star = np.zeros((n, n))
    star[0, 1:] = star[1:, 0] = w
    cases += [Case("star", star, 0), Case("star", star, n - 1)]
    complete = w * (np.ones((n, n)) - np.eye(n))
    cases += [Case("complete", complete, 0), Case("complete", complete, n // 2)]
    grid = _grid(n, w)
    cases += [Case("grid", grid, s) for s in sorted({0, n // 3, n - 1})]
    rng = np.random.default_rng([seed, n])
    p = 0.5 if n <= 32 else 4.0 / n
    for family, values in (("integer weights 1-3", (1.0, 2.0, 3.0)), ("weights 0.25/0.5", (0.25, 0.5))):
        for _ in range(random_graphs):
            edges = np.triu(rng.random((n, n)) < p, 1)
            A = _sym(np.where(edges, rng.choice(values, size=(n, n)), 0.0))
            cases.append(Case(family, A, int(rng.integers(n))))
    return cases


def exhaustive(max_n: int = 5) -> Iterator[Case]:
    """Every undirected simple graph on 1 to ``max_n`` nodes (labelled: all 2^(n(n-1)/2)
    edge sets), from every source, with unit weights."""
    for n in range(1, max_n + 1):
        pairs = list(itertools.combinations(range(n), 2))
        for bits in range(2 ** len(pairs)):
            A = np.zeros((n, n))
            for k, (i, j) in enumerate(pairs):
                if bits >> k & 1:
                    A[i, j] = A[j, i] = 1.0
            for s in range(n):
                yield Case(f"exhaustive n={n}", A, s)


# ------------------------------------------------------------------ directed graphs (DFS)

DIRECTED_FAMILIES = ("no edges", "components", "path", "reversed path", "out-star", "in-star", "cycle",
                     "complete", "complete with self-loops", "forward tournament", "weighted", "random")


def directed_families(n: int, *, seed: int = 0, random_graphs: int = 6) -> list[Case]:
    """Directed graphs on ``n`` nodes (``A[u, v] != 0``: an edge u -> v) for algorithms
    without a source (DFS); every case's ``source`` is 0:

    - ``no edges``: n trees of one node, each root found by the global choice;
    - ``components``: three groups (a path 0 -> 1 -> ..., an isolated node, a reversed
      path), so trees start in components the earlier ones cannot reach;
    - ``path`` 0 -> 1 -> ... and ``reversed path`` n-1 -> ... -> 0 (n roots, each finding
      its predecessors black); ``out-star`` from node 0 and from the last node; ``in-star``
      into node 0 and into the last node; ``cycle``;
    - ``complete`` with and without self-loops; ``forward tournament`` (i -> j for i < j);
    - ``weighted``: a random graph whose edges carry repeated weights 0.25-3 (DFS reads
      only A != 0); ``random``: ``random_graphs`` Erdős–Rényi graphs with self-loops, edge
      probability 0.5 and 1.5/n, from ``numpy.random.default_rng([seed, n])``.
    """
    if n < 1:
        raise ValueError(f"a graph needs at least one node, got {n}")
    cases = [Case("no edges", np.zeros((n, n)), 0)]
    comp = np.zeros((n, n))
    a, b = n // 3, n // 3 + 1  # [0, a) a path, node a alone, [b, n) a reversed path
    for i in range(a - 1):
        comp[i, i + 1] = 1.0
    for i in range(b, n - 1):
        comp[i + 1, i] = 1.0
    cases.append(Case("components", comp, 0))
    path = np.eye(n, k=1)
    cases += [Case("path", path, 0), Case("reversed path", path.T.copy(), 0)]
    for centre in sorted({0, n - 1}):
        out = np.zeros((n, n))
        out[centre] = 1.0
        out[centre, centre] = 0.0
        cases += [Case("out-star", out, 0), Case("in-star", out.T.copy(), 0)]
    cases.append(Case("cycle", np.roll(np.eye(n), 1, axis=1), 0))
    cases += [Case("complete", np.ones((n, n)) - np.eye(n), 0), Case("complete with self-loops", np.ones((n, n)), 0)]
    cases.append(Case("forward tournament", np.triu(np.ones((n, n)), 1), 0))
    rng = np.random.default_rng([seed, n])
    edges = rng.random((n, n)) < 0.5
    cases.append(Case("weighted", np.where(edges, rng.choice([0.25, 0.5, 1.0, 3.0], size=(n, n)), 0.0), 0))
    for k in range(random_graphs):
        p = 0.5 if k % 2 == 0 else min(1.0, 1.5 / n)
        cases.append(Case("random", (rng.random((n, n)) < p).astype(float), 0))
    return cases


def exhaustive_directed(max_n: int = 4) -> Iterator[Case]:
    """Every directed graph without self-loops on 1 to ``max_n`` nodes (labelled: all
    2^(n(n-1)) edge sets; 4,165 graphs up to 4 nodes)."""
    for n in range(1, max_n + 1):
        pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
        for bits in range(2 ** len(pairs)):
            A = np.zeros((n, n))
            for k, (i, j) in enumerate(pairs):
                if bits >> k & 1:
                    A[i, j] = 1.0
            yield Case(f"exhaustive n={n}", A, 0)

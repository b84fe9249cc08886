"""Concrete counterexamples for a refused model: graphs, within the certificate's
precondition, on which the model's hints or outputs differ from the reference trace.

The search runs the model itself (``eqgat.predict``) against the algorithm's reference on
graphs in order of size: every graph on up to 4 nodes (5 unweighted) from every source,
then small templates (a diamond whose two middle nodes offer the same key, a path, a star,
a triangle) placed into n nodes, up to N, with their tied nodes at adjacent ids, padded
with isolated nodes, with unit and heavy weights on the precondition's grid. The first
size with a miss gives the smallest graph found (fewest nodes, then edges). A graph file
(``write_graph``) holds its adjacency, weights and source;
``eqgat.workflows.verification.read_graph`` reads it back and
``python -m eqgat verify --checkpoint PATH --graph FILE`` reruns it.
"""

import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...algorithms import get_algorithm
from ...data.families import exhaustive
from ...probes import Type
from ..verification import graph_json, graph_misses


@dataclass
class Counterexample:
    """A graph the model misses, found while refuting an obligation.

    **Arguments:**

    - `algorithm`: the model's algorithm.
    - `A`: the n×n weights (0 = no edge; ids are dm-clrs' i/n).
    - `source`: the source node.
    - `miss`: the first difference from the reference trace, in words.
    - `obligation`: the obligation the certificate found violated.
    """

    algorithm: str
    A: np.ndarray
    source: int
    miss: str
    obligation: str = ""

    @property
    def n(self) -> int:
        return int(self.A.shape[0])

    @property
    def edges(self) -> int:
        return int(np.count_nonzero(np.triu(self.A, 1)))

    def describe(self) -> str:
        pairs = [(int(i), int(j), float(self.A[i, j])) for i, j in zip(*np.nonzero(np.triu(self.A, 1)))]
        shown = ", ".join(f"{i}-{j}" + ("" if w == 1.0 else f" ({w:g})") for i, j, w in pairs[:12])
        more = f", ... ({len(pairs)} edges)" if len(pairs) > 12 else ""
        return (f"{self.n} nodes (ids i/{self.n}), source {self.source}, edges {shown or 'none'}{more}; "
                f"the model misses: {self.miss}")

    def to_json(self) -> dict:
        return graph_json(self.algorithm, self.A, self.source, miss=self.miss, obligation=self.obligation)


def write_graph(path: str | Path, cx: "Counterexample") -> Path:
    """Write a counterexample as a graph file.

    **Arguments:**

    - `path`: the JSON file to write (folders are made).
    - `cx`: the ``Counterexample``.

    **Returns:**

    `path`; ``eqgat.workflows.verification.read_graph`` reads it back and
    ``python -m eqgat verify --checkpoint PATH --graph FILE`` reruns it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cx.to_json(), indent=1))
    return path


# ---------------------------------------------------------------------- the search


def _fits(alg, A: np.ndarray, source: int, pre) -> bool:
    """Whether a graph lies inside the precondition (its size, weights, distances)."""
    n = A.shape[0]
    if n > pre.max_nodes or np.any(np.diag(A) != 0):
        return False
    w = A[A != 0]
    if pre.grid is not None:
        if np.any(w >= pre.weight_bound) or np.any(np.abs(w / pre.grid - np.round(w / pre.grid)) > 0):
            return False
        _, hints, _ = alg.trace(A, source)
        scalars = [p.name for p in alg.spec if p.stage == "hint" and p.type == Type.SCALAR]
        if any(np.max(h[name]) >= pre.value_bound for h in hints for name in scalars):
            return False
    return True


def _weights(pre, alg) -> list[float]:
    """Edge weights to try: 1 and, for weighted algorithms, heavy ones on the grid."""
    if not alg.weighted or pre.grid is None:
        return [1.0]
    g, V = pre.grid, pre.value_bound
    heavy = [np.floor(V * f / g) * g for f in (0.25, 0.49, 0.5)]
    return sorted({1.0, *[w for w in heavy if g <= w < pre.weight_bound]})


def _small(alg, pre) -> list[tuple[int, list]]:
    """Every graph on up to 4 nodes (5 unweighted), from every source, in unit and heavy
    weights: (n, cases) by size."""
    top = 4 if alg.weighted else 5
    by_n: dict[int, list] = {}
    for c in exhaustive(top):
        if c.n < 2:
            continue
        for w in _weights(pre, alg):
            by_n.setdefault(c.n, []).append((c.A * w, c.source))
    return sorted(by_n.items())


def _templates(alg, pre):
    """Small shapes with two nodes that offer the receiver the same key: (name, edges, the
    two tied nodes, source); nodes 0..k-1."""
    ws = _weights(pre, alg)
    out = []
    for w1, w2 in itertools.product(ws, ws):
        out.append(("diamond", [(0, 1, w1), (0, 2, w1), (1, 3, w2), (2, 3, w2)], (1, 2), 0))
        out.append(("fork", [(0, 1, w1), (0, 2, w1), (1, 3, w2), (2, 3, w2), (3, 4, w2)], (1, 2), 0))
    for w in ws:
        out.append(("path", [(0, 1, w), (1, 2, w), (2, 3, w)], (1, 2), 0))
        out.append(("star", [(0, 1, w), (0, 2, w), (0, 3, w)], (1, 2), 0))
        out.append(("triangle", [(0, 1, w), (1, 2, w), (0, 2, w)], (1, 2), 0))
    return out


def _placed(n: int, template, k: int, flip: bool) -> tuple[np.ndarray, int]:
    """``template`` in n nodes: its tied pair at ids k, k + 1 (swapped with ``flip``), the
    others at the end (or the start when the pair is there), the rest isolated."""
    _, edges, (a, b), s = template
    nodes = sorted({u for e in edges for u in e[:2]})
    others = [u for u in nodes if u not in (a, b)]
    free = [i for i in range(n) if i not in (k, k + 1)]
    place = {a: k + (1 if flip else 0), b: k + (0 if flip else 1)}
    spots = free[::-1] if k < n // 2 else free
    for u, i in zip(others, spots):
        place[u] = i
    A = np.zeros((n, n))
    for u, v, w in edges:
        A[place[u], place[v]] = A[place[v], place[u]] = w
    return A, place[s]


def _sizes(N: int) -> list[int]:
    ladder = [6, 8, 12, 16, 17, 20, 24, 32, 40, 48, 64, 80, 96, 112, 128, 192, 256]
    return [n for n in ladder if n <= N] + ([N] if N not in ladder else [])


def candidates(alg, pre):
    """(n, cases) in order of size: the small graphs, then the placed templates."""
    yield from _small(alg, pre)
    temps = _templates(alg, pre)
    for n in _sizes(pre.max_nodes):
        cases = []
        for t in temps:
            for k in sorted({0, 1, n // 4, n // 2 - 1, n // 2, 3 * n // 4, n - 3, n - 2} & set(range(n - 1))):
                for flip in (False, True):
                    cases.append(_placed(n, t, k, flip))
        yield n, cases


def search(model, cert, *, seconds: int | float = 90.0) -> tuple[Counterexample | None, int]:
    """The smallest graph found, inside ``cert``'s precondition, that ``model`` misses
    (and how many graphs were tried), within ``seconds``."""
    alg = get_algorithm(cert.algorithm)
    if alg.reference is None:
        return None, 0
    pre = cert.precondition
    ob = cert.violated.name if cert.violated else ""
    t0, tried = time.time(), 0
    for n, cases in candidates(alg, pre):
        if time.time() - t0 > seconds:
            break
        cases = [(A, s) for A, s in cases if _fits(alg, A, s, pre)]
        for i in range(0, len(cases), 256):
            chunk = cases[i:i + 256]
            tried += len(chunk)
            found = [(np.count_nonzero(A), j, m) for j, ((A, s), m) in enumerate(zip(chunk, graph_misses(model, alg.name, chunk)))
                     if m is not None]
            if found:
                _, j, m = min(found)
                A, s = chunk[j]
                return Counterexample(alg.name, A, s, m, ob), tried
            if time.time() - t0 > seconds:
                break
    return None, tried

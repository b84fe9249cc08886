"""What a node can know in one GATv2 step per hint, and the hints no such model can decide.

Under teacher forcing, or hard (argmax) feedback of an exact model, processor step t reads
the ground-truth hints of step t. Messages travel only along the processor's graph
(``adj`` ∪ ``adjᵀ`` ∪ self-loops ∪ pointer-hint edges, which never leave a weakly connected
component of ``adj``), and graph-level features enter only the attention logits, which
matter only for a receiver with two or more candidates. So everything node k's hidden
state and its decoders' logits can depend on lies in its **view** at step t:

- its id k/n (dm-clrs' ``pos``);
- the ids, edges (``A``) and every node-level hint of its component, at steps 0..t;
- the graph-level hints at steps 0..t, if the component has more than one node.

(An over-approximation: the view holds all that any number of heads, layers or
message-passing steps per hint could gather.) Two tests then show that *no* parameters
make a model exact, for every instance the search meets:

- ``node_conflicts``: a node-level hint (categorical, mask, scalar) whose value at t+1
  differs between two instances in which the node has the same view at t;
- ``mask_one_cycle``: a mask_one hint is the argmax over nodes of per-node logits, each a
  function of the node's view, so the target node's view must outscore every other node's
  view; a cycle in these "must outscore" relations, gathered over instances, has no
  scores that satisfy it.

Ids are compared as fractions (2/4 = 4/8), so graphs of different sizes share views.
Soft re-prediction is outside this model: it feeds back softmax values whose
denominators sum over all nodes (``docs/dfs/analysis.md``).
"""

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ._spec import Location, Stage, Type, get_spec

View = tuple


@dataclass(frozen=True)
class Instance:
    """Node ``node`` of graph ``A`` at hint step ``t`` (``A`` as a tuple of rows)."""

    A: tuple
    t: int
    node: int

    def __str__(self) -> str:
        n = len(self.A)
        edges = [(i, j) for i in range(n) for j in range(n) if self.A[i][j]]
        return f"n = {n}, edges {edges or 'none'}, node {self.node} at hint {self.t}"


def components(A: np.ndarray) -> np.ndarray:
    """The weakly connected component of each node of ``A`` (a label per node)."""
    n = A.shape[0]
    label = np.arange(n)

    def root(i):
        while label[i] != i:
            i = label[i]
        return i

    for i, j in zip(*np.nonzero(np.asarray(A) + np.asarray(A).T)):
        a, b = root(i), root(j)
        if a != b:
            label[max(a, b)] = min(a, b)
    return np.array([root(i) for i in range(n)])


def _node_value(probe, x, n: int):
    """A hint value at one node, hashable and exact: a class, a bit, a pointer's target id,
    or a scalar rounded to 1e-9."""
    if probe.type == Type.CATEGORICAL:
        return int(np.argmax(x))
    if probe.type == Type.POINTER:
        return Fraction(int(x), n)
    if probe.type in (Type.MASK, Type.MASK_ONE):
        return int(x)
    return round(float(x), 9)


def trace(algo: str, A: np.ndarray, source: int = 0) -> list[dict[str, np.ndarray]]:
    """The ground-truth hints of ``algo`` on ``A`` (``eqgat.samplers``)."""
    from .samplers import ALGORITHMS

    fn, _, _, takes_source = ALGORITHMS[algo]
    _, hints, _ = fn(A, source) if takes_source else fn(A)
    return hints


def views(algo: str, A: np.ndarray, source: int = 0) -> tuple[list[list[View]], list[dict]]:
    """Every node's view at every hint step, ``views[t][k]``, and the hints."""
    spec = [p for p in get_spec(algo) if p.stage == Stage.HINT]
    node_probes = [p for p in spec if p.location == Location.NODE]
    graph_probes = [p for p in spec if p.location == Location.GRAPH]
    A = np.asarray(A)
    n = A.shape[0]
    hints = trace(algo, A, source)
    label = components(A)
    members = {c: [int(k) for k in np.nonzero(label == c)[0]] for c in set(label.tolist())}
    static = {c: (tuple(Fraction(k, n) for k in m), tuple(tuple(float(A[i, j]) for j in m) for i in m))
              for c, m in members.items()}
    history = {c: () for c in members}
    graph_history = ()
    out = []
    for h in hints:
        graph_history += (tuple(round(float(h[p.name]), 9) for p in graph_probes),)
        for c, m in members.items():
            history[c] += (tuple(tuple(_node_value(p, h[p.name][k], n) for p in node_probes) for k in m),)
        out.append([(Fraction(k, n), static[label[k]], history[label[k]],
                     graph_history if len(members[label[k]]) > 1 else None) for k in range(n)])
    return out, hints


def directed_graphs(n: int, *, self_loops: bool = False) -> Iterator[np.ndarray]:
    """Every directed graph on ``n`` nodes (2^(n(n-1)) of them without self-loops)."""
    cells = [(i, j) for i in range(n) for j in range(n) if self_loops or i != j]
    for bits in itertools.product((0, 1), repeat=len(cells)):
        A = np.zeros((n, n))
        for (i, j), b in zip(cells, bits):
            A[i, j] = b
        yield A


def random_graphs(n: int, count: int, *, seed: int, p: Iterable[float] = (0.1, 0.3, 0.5)) -> Iterator[np.ndarray]:
    """``count`` directed Erdős–Rényi graphs on ``n`` nodes (edge probabilities cycled)."""
    rng = np.random.default_rng(seed)
    ps = list(p)
    for k in range(count):
        A = (rng.random((n, n)) < ps[k % len(ps)]).astype(float)
        np.fill_diagonal(A, 0)
        yield A


def node_conflicts(algo: str, graphs: Iterable[np.ndarray], probe: str) -> Iterator[tuple[Instance, Instance, object, object]]:
    """Pairs of instances where a node has the same view at t but ``probe``'s value at
    t+1 differs (first witness per view): no model decides ``probe`` on both."""
    p = {q.name: q for q in get_spec(algo)}[probe]
    seen: dict[View, tuple[Instance, object]] = {}
    for A in graphs:
        vs, hints = views(algo, A)
        n = A.shape[0]
        key = tuple(map(tuple, A.astype(int)))
        for t in range(len(hints) - 1):
            for k in range(n):
                target = _node_value(p, hints[t + 1][probe][k], n)
                got = seen.setdefault(vs[t][k], (Instance(key, t, k), target))
                if got[1] != target:
                    yield got[0], Instance(key, t, k), got[1], target


def mask_one_cycle(algo: str, graphs: Iterable[np.ndarray], probe: str) -> list[tuple[Instance, Instance]] | None:
    """A cycle of "must outscore" relations for mask_one hint ``probe`` (each link: the
    target node at t+1 in one instance and a node it must beat there), or None if the
    instances admit scores. A cycle means no model predicts ``probe`` on all of them."""
    index: dict[View, int] = {}
    witness: dict[tuple[int, int], tuple[Instance, Instance]] = {}
    for A in graphs:
        vs, hints = views(algo, A)
        key = tuple(map(tuple, A.astype(int)))
        for t in range(len(hints) - 1):
            w = int(np.argmax(hints[t + 1][probe]))
            a = index.setdefault(vs[t][w], len(index))
            for k in range(A.shape[0]):
                if k != w:
                    b = index.setdefault(vs[t][k], len(index))
                    if a == b:  # the same view must win and lose at once
                        return [(Instance(key, t, w), Instance(key, t, k))]
                    witness.setdefault((a, b), (Instance(key, t, w), Instance(key, t, k)))
    cycle = find_cycle(list(witness))
    return None if cycle is None else [witness[link] for link in cycle]


def find_cycle(links: list[tuple[int, int]]) -> list[tuple[int, int]] | None:
    """A directed cycle among ``links`` (a -> b), as its links in order, or None."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not links:
        return None
    size = 1 + max(max(a, b) for a, b in links)
    rows, cols = zip(*links)
    m = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size)).tocsr()
    _, scc = connected_components(m, directed=True, connection="strong")
    sizes = np.bincount(scc)
    comp = int(np.argmax(sizes))
    if sizes[comp] < 2:
        return None
    out_edges: dict[int, list[int]] = {}
    for a, b in links:
        if scc[a] == comp and scc[b] == comp:
            out_edges.setdefault(a, []).append(b)
    start = next(iter(out_edges))
    parent, frontier = {start: None}, [start]
    while frontier:  # breadth-first from start until a link returns to start
        nxt = []
        for a in frontier:
            for b in out_edges.get(a, []):
                if b == start:
                    path = [a]
                    while parent[path[-1]] is not None:
                        path.append(parent[path[-1]])
                    path.reverse()
                    return list(zip(path, path[1:] + [start]))
                if b not in parent:
                    parent[b] = a
                    nxt.append(b)
        frontier = nxt
    raise AssertionError("a strong component of two or more nodes holds a cycle")

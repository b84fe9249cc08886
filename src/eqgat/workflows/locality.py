"""What a node can know in a GATv2 run of one processor call per hint, and the hints no
such model can decide.

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
message-passing steps per hint could gather. ``Views(algo, hops=m)`` is the finer view of
m message-passing steps per hint: a 1-WL refinement along the processor's graph.) Two
tests then show that *no* parameters make a model exact, for every instance the search
meets:

- ``node_conflicts``: a node-level hint (categorical, mask, scalar) whose value at t+1
  differs between two instances in which the node has the same view at t;
- ``choice_cycle``: a mask_one hint is the argmax over nodes of per-node logits, each a
  function of the node's view, so the target node's view must outscore every other node's
  view (a pointer hint: node i's target j must outscore every other j, each scored from
  both views and their edge); a cycle in these "must outscore" relations, gathered over
  instances, has no scores that satisfy it.

Ids are compared as fractions (2/4 = 4/8), so graphs of different sizes share views.
Soft re-prediction is outside this model: it feeds back softmax values whose
denominators sum over all nodes (``docs/dfs/analysis.md``).
"""

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..probes import Location, Stage, Type
from ..algorithms import get_algorithm, get_spec

@dataclass(frozen=True)
class Instance:
    """Node ``node`` of graph ``A`` at hint step ``t`` (``A`` as a tuple of rows), and for
    a pointer hint the candidate ``choice`` it points at."""

    A: tuple
    t: int
    node: int
    choice: int | None = None

    def __str__(self) -> str:
        n = len(self.A)
        edges = [(i, j) for i in range(n) for j in range(n) if self.A[i][j]]
        who = f"node {self.node}" + ("" if self.choice is None else f" pointing at {self.choice}")
        return f"n = {n}, edges {edges or 'none'}, {who} at hint {self.t}"


def components(A: np.ndarray) -> np.ndarray:
    """The weakly connected component of each node of ``A`` (labels 0, 1, ... in order of
    each component's lowest node)."""
    from scipy.sparse.csgraph import connected_components

    return connected_components(np.asarray(A) != 0, directed=True, connection="weak")[1]


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


def trace(algo: str, A: np.ndarray, source: int = 0) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]]]:
    """The inputs and ground-truth hints of ``algo`` on ``A`` (its registered reference)."""
    inputs, hints, _ = get_algorithm(algo).trace(A, source)
    return inputs, hints


def search_graphs(algo: str, max_nodes: int, random: int = 0, random_nodes=(5, 6, 8), seed: int = 0):
    """The graphs the obstruction search runs on: every directed graph of 2 to
    ``max_nodes`` nodes and ``random`` random graphs of each size in ``random_nodes``
    (seeded ``seed + n``); an undirected algorithm reads A + Aᵀ, so each such graph once."""
    directed = get_algorithm(algo).directed
    seen = set()
    for n in range(2, max_nodes + 1):
        for A in directed_graphs(n):
            A = A if directed else np.maximum(A, A.T)
            if directed or A.tobytes() not in seen:
                seen.add(A.tobytes())
                yield A
    for n in random_nodes:
        for A in random_graphs(n, random, seed=seed + n):
            yield A if directed else np.maximum(A, A.T)


class Views:
    """Views of nodes, comparable across every graph given to one ``Views``.

    ``hops=None``: the component view (everything in the node's weakly connected
    component so far: an upper bound for any number of message-passing steps).
    ``hops=m``: what m message-passing steps per hint can gather, as a 1-WL refinement:
    per step, a node's state is its own hints and state before, with the set of its
    neighbours' (hints, edge values both ways, states before), neighbours being the
    processor's graph at that hint (``adj`` both ways, self-loops, pointer-hint edges),
    and the graph hints when it has two or more candidates. Any heads, widths and
    attention weights compute a function of this (ids make neighbours distinct).
    ``full=True``: the processor attends over all nodes (dm-clrs' ``gatv2_full``; edges
    are then features only), so every node is every node's neighbour.
    """

    def __init__(self, algo: str, hops: int | None = None, *, full: bool = False):
        if hops is not None and hops < 1:
            raise ValueError(f"hops must be >= 1 (or None for the component view), got {hops}")
        if full and hops is None:
            raise ValueError("full attention reaches every node in one step: give hops")
        spec = get_spec(algo)
        self.algo, self.hops, self.full = algo, hops, full
        self.node_hints = [p for p in spec if p.stage == Stage.HINT and p.location == Location.NODE]
        self.graph_hints = [p for p in spec if p.stage == Stage.HINT and p.location == Location.GRAPH]
        self.node_inputs = [p for p in spec if p.stage == Stage.INPUT and p.location == Location.NODE]
        self.pointers = [p.name for p in self.node_hints if p.type == Type.POINTER]
        self._ids: dict = {}

    def _intern(self, x) -> int:
        return self._ids.setdefault(x, len(self._ids))

    def __call__(self, A: np.ndarray, source: int = 0) -> tuple[list[list], list[dict]]:
        """Every node's view at every hint step of ``A``, ``views[t][k]``, and the hints."""
        A = np.asarray(A)
        n = A.shape[0]
        inputs, hints = trace(self.algo, A, source)
        ids = [Fraction(k, n) for k in range(n)]
        own_inputs = [tuple(_node_value(p, inputs[p.name][k], n) for p in self.node_inputs) for k in range(n)]
        x = [[own_inputs[k] + tuple(_node_value(p, h[p.name][k], n) for p in self.node_hints) for k in range(n)]
             for h in hints]
        g = [tuple(round(float(h[p.name]), 9) for p in self.graph_hints) for h in hints]
        if self.hops is None:
            return self._component(A, ids, x, g), hints
        return self._refined(A, hints, ids, x, g), hints

    def _component(self, A, ids, x, g) -> list[list]:
        n = len(ids)
        label = components(A)
        members = {c: [int(k) for k in np.nonzero(label == c)[0]] for c in set(label.tolist())}
        static = {c: (tuple(ids[k] for k in m), tuple(tuple(float(A[i, j]) for j in m) for i in m))
                  for c, m in members.items()}
        history = {c: () for c in members}
        graph_history = ()
        out = []
        for t in range(len(x)):
            graph_history += (g[t],)
            for c, m in members.items():
                history[c] += (tuple(x[t][k] for k in m),)
            out.append([(ids[k], static[label[k]], history[label[k]],
                         graph_history if len(members[label[k]]) > 1 else None) for k in range(n)])
        return out

    def _refined(self, A, hints, ids, x, g) -> list[list]:
        n = len(ids)
        base = np.ones((n, n), bool) if self.full else (A + A.T + np.eye(n)) != 0
        state = [self._intern(("start", ids[k])) for k in range(n)]
        out = []
        for t, h in enumerate(hints):
            near = base.copy()
            for name in self.pointers:
                for k in range(n):
                    j = int(h[name][k])
                    near[k, j] = near[j, k] = True
            for _ in range(self.hops):
                state = [self._intern((ids[k], x[t][k], state[k],
                                       frozenset((ids[j], x[t][j], float(A[k, j]), float(A[j, k]),
                                                  tuple(int(h[q][k]) == j for q in self.pointers),
                                                  tuple(int(h[q][j]) == k for q in self.pointers), state[j])
                                                 for j in np.nonzero(near[k])[0]),
                                       g[t] if near[k].sum() > 1 else None))
                         for k in range(n)]
            out.append(list(state))
        return out


def views(algo: str, A: np.ndarray, source: int = 0, *, hops: int | None = None,
          full: bool = False) -> tuple[list[list], list[dict]]:
    """Every node's view at every hint step, ``views[t][k]``, and the hints (one graph;
    use one ``Views`` to compare views across graphs when ``hops`` is set)."""
    return Views(algo, hops, full=full)(A, source)


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


def node_conflicts(algo: str, graphs: Iterable[np.ndarray], probe: str, *, hops: int | None = None,
                   full: bool = False) -> Iterator[tuple[Instance, Instance, object, object]]:
    """Pairs of instances where a node has the same view at t but node-level hint
    ``probe`` (categorical, mask or scalar) differs at t+1 (first witness per view): no
    model decides ``probe`` on both. (Pointers and mask_one hints choose among nodes:
    ``choice_cycle``.)"""
    p = {q.name: q for q in get_spec(algo)}[probe]
    if p.type in (Type.POINTER, Type.MASK_ONE) or p.location != Location.NODE:
        raise ValueError(f"{probe} is a {p.type.name.lower()} {p.location.name.lower()} probe; "
                         "node_conflicts takes node-level categorical, mask and scalar hints")
    table = Views(algo, hops, full=full)
    seen: dict = {}
    for A in graphs:
        vs, hints = table(A)
        n = A.shape[0]
        key = tuple(map(tuple, A.astype(int)))
        for t in range(len(hints) - 1):
            for k in range(n):
                target = _node_value(p, hints[t + 1][probe][k], n)
                got = seen.setdefault(vs[t][k], (Instance(key, t, k), target))
                if got[1] != target:
                    yield got[0], Instance(key, t, k), got[1], target


def choice_cycle(algo: str, graphs: Iterable[np.ndarray], probe: str, *, hops: int | None = None,
                 full: bool = False) -> list[tuple[Instance, Instance]] | None:
    """A cycle of "must outscore" links for a hint that chooses a node, or None if the
    instances admit scores; a cycle means no model predicts ``probe`` on all of them.

    mask_one: the argmax over nodes k of a logit that is a function of k's view.
    pointer: node i points at the argmax over j of a logit that is a function of i's
    view, j's view and the edge values between them; each link then names node i at t
    (``Instance.node``) and, in the pair, the candidates it must rank.
    """
    p = {q.name: q for q in get_spec(algo)}[probe]
    if p.type not in (Type.POINTER, Type.MASK_ONE):
        raise ValueError(f"{probe} is a {p.type.name.lower()} probe; choice_cycle takes pointer and mask_one hints")
    table = Views(algo, hops, full=full)
    index: dict = {}
    witness: dict[tuple[int, int], tuple[Instance, Instance]] = {}
    for A in graphs:
        vs, hints = table(A)
        n = A.shape[0]
        key = tuple(map(tuple, A.astype(int)))
        for t in range(len(hints) - 1):
            target = hints[t + 1][probe]
            rows = [(None, int(np.argmax(target)))] if p.type == Type.MASK_ONE else \
                [(i, int(target[i])) for i in range(n)]
            for i, w in rows:
                def cand(j, i=i):
                    if i is None:
                        return vs[t][j]
                    return (vs[t][i], vs[t][j], float(A[i, j]), float(A[j, i]), i == j)
                a = index.setdefault(cand(w), len(index))
                for k in range(n):
                    if k == w:
                        continue
                    b = index.setdefault(cand(k), len(index))
                    win, lose = (Instance(key, t, w), Instance(key, t, k)) if i is None else \
                        (Instance(key, t, i, w), Instance(key, t, i, k))
                    if a == b:  # the same view must win and lose at once
                        return [(win, lose)]
                    witness.setdefault((a, b), (win, lose))
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

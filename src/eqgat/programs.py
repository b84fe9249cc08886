"""Graph programs for BFS, Bellman-Ford and nearest-seed label propagation, and the
depth-first search ``dfs_light`` (a ``DepthFirst`` program).

``labelprop`` is written only against the public language (``eqgat.lang``) and a probe
spec of its own: it is the check that the language is not BFS and Bellman-Ford in
disguise. Its plain-Python reference is ``labelprop_reference``.
"""

import numpy as np

from ._spec import SPECS
from .lang import Colour, DepthFirst, Flag, GraphProgram, Minimum, Pointer, Scalar, edge, other, self_

bfs = GraphProgram(
    algorithm="bfs",
    hidden={"visit": Flag(start="s"), "pi": Pointer()},
    select=Minimum(expr=other.idx, mask=other.visit, keep=self_.visit),
    update={"visit": other.visit, "pi": other.idx},
    probes={"reach_h": "visit", "pi_h": "pi", "pi": "pi"},
    doc="Breadth-first search (listing 2): an unvisited node joins from its lowest-id "
        "visited neighbour; visited nodes keep their state.",
)

bellman_ford = GraphProgram(
    algorithm="bellman_ford",
    hidden={"visit": Flag(start="s"), "dist": Scalar(), "pi": Pointer()},
    select=Minimum(expr=other.dist + edge.A, mask=other.visit, incumbent=self_.visit),
    update={"visit": other.visit, "dist": other.dist + edge.A, "pi": other.idx},
    probes={"msk": "visit", "d": "dist", "pi_h": "pi", "pi": "pi"},
    doc="Bellman-Ford (listing 1): every node takes the reached neighbour minimising "
        "dist + edge weight, unless its own distance is already at least as short.",
)

#: The probes of nearest-seed label propagation (not a dm-clrs algorithm; the table is in
#: ``eqgat._spec.SPECS`` with the others, so importing this module registers nothing).
LABELPROP_SPEC = SPECS["labelprop"]

labelprop = GraphProgram(
    algorithm="labelprop",
    hidden={"reached": Flag(start="seeds"), "label": Pointer()},
    select=Minimum(expr=other.label, mask=other.reached, keep=self_.reached),
    update={"reached": other.reached, "label": other.label},
    probes={"reached_h": "reached", "label_h": "label", "label": "label"},
    doc="Nearest-seed label propagation (multi-source BFS): each unlabelled node takes "
        "the smallest seed label among its labelled neighbours; labels never change once set.",
)

PROGRAMS = {"bfs": bfs, "bellman_ford": bellman_ford, "labelprop": labelprop}

dfs_light = DepthFirst(
    algorithm="dfs_light",
    hidden={"colour": Colour(), "parent": Pointer()},
    next=Minimum(expr=other.idx, mask=(other.white, edge.adj)),
    root=Minimum(expr=other.idx, mask=other.white),
    probes={"color": "colour", "pi_h": "parent", "pi": "parent"},
    doc="Depth-first search with roots in index order (the fork's dfs_light): the cursor pushes its "
        "lowest-id white out-neighbour, or turns black and pops to its parent; when a tree is finished the "
        "lowest-id white node anywhere becomes the next root.",
)

#: Sequential programs (``DepthFirst``), compiled by ``eqgat.compiler._dfs``.
SEQUENTIAL = {"dfs_light": dfs_light}


def labelprop_reference(adj: np.ndarray, seeds: np.ndarray):
    """Plain-Python nearest-seed label propagation: per round, each unlabelled node
    adjacent (either direction) to a labelled node takes the smallest label among them.

    Returns ``(label, hints)``: final labels (node indices) and the per-round
    ``(reached, label)`` states, the initial one first, until nothing changes.
    """
    n = adj.shape[0]
    label = list(range(n))
    reached = [bool(seeds[i]) for i in range(n)]
    hints = [(list(reached), list(label))]
    while True:
        new_r, new_l = list(reached), list(label)
        for i in range(n):
            if reached[i]:
                continue
            found = [label[j] for j in range(n) if j != i and reached[j] and (adj[i, j] or adj[j, i])]
            if found:
                new_r[i], new_l[i] = True, min(found)
        if new_r == reached:
            break
        reached, label = new_r, new_l
        hints.append((list(reached), list(label)))
    return np.array(label), hints


def labelprop_arrays(adj: np.ndarray, seeds: np.ndarray, *, pos: np.ndarray | None = None,
                     trace_length: int | None = None):
    """One ``labelprop`` graph as ``eqgat.data.Arrays`` with the reference trace as ground
    truth (hints padded to ``trace_length``, default n + 1)."""
    from .data import Arrays, check_graph

    adj = check_graph(adj)
    n = adj.shape[0]
    seeds = np.asarray(seeds, dtype=np.float64)
    if seeds.shape != (n,):
        raise ValueError(f"seeds must be a length-{n} mask, got shape {seeds.shape}")
    label, hints = labelprop_reference(adj, seeds)
    T = len(hints)
    Tp = trace_length or n + 1
    pad = lambda rows: np.concatenate([rows, np.repeat(rows[-1:] * 0, Tp - T, axis=0)])  # noqa: E731
    reached = pad(np.array([h[0] for h in hints], dtype=np.float64))
    labels = pad(np.array([h[1] for h in hints], dtype=np.float64))
    pos = np.arange(n) / n if pos is None else np.asarray(pos, dtype=np.float64)
    sym = ((adj + adj.T) > 0).astype(np.float64)
    return Arrays({"pos": pos[None], "seeds": seeds[None], "adj": sym[None]},
                  {"reached_h": reached[None], "label_h": labels[None]},
                  {"label": np.asarray(label, dtype=np.float64)[None]}, np.array([float(T)]))


def labelprop_batch(adj: np.ndarray, seeds: np.ndarray, *, pos: np.ndarray | None = None,
                    trace_length: int | None = None, dtype=np.float32):
    """A one-graph ``Batch`` of ``labelprop`` with the reference trace as ground truth."""
    from .data import to_batch

    return to_batch("labelprop", labelprop_arrays(adj, seeds, pos=pos, trace_length=trace_length), dtype)

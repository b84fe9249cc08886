"""Nearest-seed label propagation, eqgat's own program (multi-source BFS).

It is written only against the public language (``eqgat.lang``) and a probe spec of its
own: the check that the language is not BFS and Bellman-Ford in disguise. Its seeds are a
mask, not one source, so it has no sampler (``Algorithm.reference`` is None): its
plain-Python reference is ``labelprop_reference`` (``eqgat.programs.labelprop_batch``
builds a one-graph batch from it).
"""

import numpy as np

from ..probes import Location, Probe, Stage, Type
from ..lang import Flag, GraphProgram, Minimum, Pointer, other, self_
from ._registry import Algorithm, register_algorithm

_I, _O, _H, _N, _E = Stage.INPUT, Stage.OUTPUT, Stage.HINT, Location.NODE, Location.EDGE

SPEC = (
    Probe("pos", _I, _N, Type.SCALAR),
    Probe("seeds", _I, _N, Type.MASK),
    Probe("adj", _I, _E, Type.MASK),
    Probe("label", _O, _N, Type.POINTER),
    Probe("reached_h", _H, _N, Type.MASK),
    Probe("label_h", _H, _N, Type.POINTER),
)

PROGRAM = GraphProgram(
    algorithm="labelprop",
    hidden={"reached": Flag(start="seeds"), "label": Pointer()},
    select=Minimum(expr=other.label, mask=other.reached, keep=self_.reached),
    update={"reached": other.reached, "label": other.label},
    probes={"reached_h": "reached", "label_h": "label", "label": "label"},
    doc="Nearest-seed label propagation (multi-source BFS): each unlabelled node takes "
        "the smallest seed label among its labelled neighbours; labels never change once set.",
)


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


def trace_bound(n: int) -> int:
    """An upper bound on the hint steps on n nodes."""
    return n + 1


ALGORITHM = register_algorithm(Algorithm(
    "labelprop", SPEC, None, directed=False, program=PROGRAM, trace_bound=trace_bound,
    doc="nearest-seed label propagation (eqgat's own program; no sampler)"))

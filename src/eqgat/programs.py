"""The built-in programs, by name (each is defined in its algorithm's registry module,
``eqgat.algorithms``): ``bfs``, ``bellman_ford`` and ``labelprop`` (graph programs) and
the depth-first search ``dfs_light`` (a ``DepthFirst`` program).

``labelprop`` is written only against the public language (``eqgat.lang``) and a probe
spec of its own: it is the check that the language is not BFS and Bellman-Ford in
disguise. Its plain-Python reference is ``labelprop_reference``; ``labelprop_batch``
builds a one-graph batch with it as ground truth.
"""

import numpy as np

from .algorithms import registered
from .algorithms.bellman_ford import PROGRAM as bellman_ford
from .algorithms.bfs import PROGRAM as bfs
from .algorithms.dfs_light import PROGRAM as dfs_light
from .algorithms.labelprop import SPEC as LABELPROP_SPEC
from .algorithms.labelprop import PROGRAM as labelprop
from .algorithms.labelprop import labelprop_reference as labelprop_reference
from .lang import DepthFirst, GraphProgram

__all__ = ["bfs", "bellman_ford", "labelprop", "dfs_light", "LABELPROP_SPEC", "labelprop_reference",
           "labelprop_arrays", "labelprop_batch", "graph_programs", "sequential_programs"]


def graph_programs(*, sampled: bool = False) -> dict[str, GraphProgram]:
    """Every registered algorithm's ``GraphProgram``, by name (built-ins and a user's);
    ``sampled``: only those of algorithms with a reference trace (trainable)."""
    return {a.name: a.program for a in registered(compiled=True, sampled=sampled) if isinstance(a.program, GraphProgram)}


def sequential_programs() -> dict[str, DepthFirst]:
    """Every registered algorithm's ``DepthFirst`` program, by name."""
    return {a.name: a.program for a in registered(compiled=True) if isinstance(a.program, DepthFirst)}


#: The built-in graph programs and sequential programs, by name (a snapshot at import;
#: ``graph_programs()`` and ``sequential_programs()`` include algorithms registered later).
PROGRAMS = graph_programs()
SEQUENTIAL = sequential_programs()


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

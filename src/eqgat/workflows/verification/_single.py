"""Verifying a model on given graphs, strictly: every hint step and output must match the
reference trace (no near-tie exemption). ``verify --checkpoint PATH --graph FILE`` runs it
on one graph file (a certificate's counterexample)."""

import json
from dataclasses import dataclass, field
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from ...algorithms import get_algorithm
from ...data import concat, graph_arrays, to_batch
from ...nn import matches, postprocess, predict
from ...probes import Type, live_steps

#: The format tag of a graph file.
GRAPH_FORMAT = "eqgat-graph-v1"


def graph_misses(model, algorithm: str, cases: list[tuple[np.ndarray, int]]) -> list[str | None]:
    """The model against the reference on each graph, strictly.

    **Arguments:**

    - `model`: an eqgat ``Model`` of `algorithm`.
    - `algorithm`: a registered algorithm with a reference trace.
    - `cases`: ``(A, source)`` pairs: the n×n weights (0 = no edge) and the source.

    **Returns:**

    Per graph, None when every hint step and output matches the reference, else the
    first difference in words (probe, step, node, both values).
    """
    if not cases:
        return []
    first = [graph_arrays(algorithm, A, source=s) for A, s in cases]
    T = max(a.hints[next(iter(a.hints))].shape[1] for a in first)
    groups: dict[int, list[int]] = {}
    for k, (A, _) in enumerate(cases):
        groups.setdefault(A.shape[0], []).append(k)
    out: list[str | None] = [None] * len(cases)
    for ks in groups.values():
        arrays = [graph_arrays(algorithm, cases[k][0], source=cases[k][1], trace_length=T) for k in ks]
        for k, what in zip(ks, _batch_misses(model, algorithm, concat(arrays))):
            out[k] = what
    return out


def _batch_misses(model, algorithm: str, a) -> list[str | None]:
    batch = to_batch(algorithm, a)
    pred = predict(model, batch)
    ok = {k: np.asarray(v) for k, v in matches(model, pred, batch).items()}
    Tm1 = next(iter(pred.hints.values())).shape[1]
    live = live_steps(np.asarray(batch.length), Tm1)
    spec = {p.name: p for p in model.spec}
    out = []
    for b in range(a.lengths.shape[0]):
        what = None
        for t in range(Tm1):
            bad = [name for name, m in ok.items() if m.ndim == 2 and live[b, t] and not m[b, t]]
            if bad:
                name = bad[0]
                what = _diff(spec[name], np.asarray(pred.hints[name][b, t]), np.asarray(batch.hints[name][b, t + 1]),
                             f"hint {name} after step {t + 1}")
                break
        if what is None:
            bad = [name for name, m in ok.items() if m.ndim == 1 and not m[b]]
            if bad:
                name = bad[0]
                what = _diff(spec[name], np.asarray(pred.outputs[name][b]), np.asarray(batch.outputs[name][b]),
                             f"output {name}")
        out.append(what)
    return out


def _diff(probe, logits, truth, where: str) -> str:
    hard = np.asarray(postprocess(probe, jnp.asarray(logits), hard=True))
    truth = np.asarray(truth)
    if probe.type == Type.SCALAR:
        bad = np.flatnonzero(np.abs(hard - truth) > 1e-4 * np.abs(truth) + 1e-6)
    else:
        bad = np.flatnonzero(hard.reshape(-1) != truth.reshape(-1))
    if not bad.size:
        return f"{where} differs"
    k = int(bad[0])
    h, r = hard.reshape(-1)[k], truth.reshape(-1)[k]
    fmt = (lambda v: f"{v:.7g}") if probe.type == Type.SCALAR else (lambda v: f"{int(v)}")
    return f"{where}, node {k}: the model gives {fmt(h)}, the reference {fmt(r)}"


def read_graph(path: str | Path) -> tuple[str | None, np.ndarray, int]:
    """A graph file (JSON: ``weights`` or ``adjacency``, ``source``, optionally
    ``algorithm``).

    **Arguments:**

    - `path`: the file (what ``certify --counterexample FILE`` writes).

    **Returns:**

    ``(algorithm or None, A, source)``.
    """
    try:
        d = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not a graph file: {err}") from err
    if not isinstance(d, dict) or ("weights" not in d and "adjacency" not in d):
        raise ValueError(f"{path} is not a graph file (it needs 'weights' or 'adjacency', and 'source')")
    A = np.asarray(d.get("weights", d.get("adjacency")), dtype=np.float64)
    return d.get("algorithm"), A, int(d.get("source", 0))


def graph_json(algorithm: str, A: np.ndarray, source: int, **extra) -> dict:
    """A graph file's content (``read_graph`` reads it back).

    **Arguments:**

    - `algorithm`: the algorithm the graph is for.
    - `A`: the n×n weights (0 = no edge).
    - `source`: the source node.
    - `extra`: anything else to record (e.g. what the model misses).

    **Returns:**

    A JSON-ready dict: the algorithm, n, the 0/1 adjacency, the weights, the source and
    dm-clrs' ids i/n, plus `extra`.
    """
    A = np.asarray(A, dtype=np.float64)
    n = A.shape[0]
    return {"format": GRAPH_FORMAT, "algorithm": algorithm, "n": n, "source": int(source),
            "adjacency": (A != 0).astype(int).tolist(), "weights": A.tolist(), "ids": [i / n for i in range(n)],
            **extra}


@dataclass
class GraphReport:
    """``verify_graph``'s result: per probe, the hint steps (or outputs) that match.

    **Arguments:**

    - `algorithm`, `n`, `source`: the graph.
    - `rows`: ``(probe, correct, total)`` per probe.
    - `miss`: the first difference in words (None: exact).
    - `notes`: e.g. that the graph is larger than the model was compiled for.
    """

    algorithm: str
    n: int
    source: int
    rows: list[tuple[str, int, int]] = field(default_factory=list)
    miss: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.miss is None

    def __str__(self) -> str:
        lines = [f"verify {self.algorithm} on one graph: {self.n} nodes, source {self.source}",
                 f"{'probe':<8} {'correct':>8} {'total':>6}"]
        lines += [f"{p:<8} {c:>8} {t:>6}" for p, c, t in self.rows]
        lines += [f"note: {n}" for n in self.notes]
        lines.append("EXACT on this graph: every hint step and output matches the reference" if self.exact
                     else f"NOT EXACT on this graph: {self.miss}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"algorithm": self.algorithm, "n": self.n, "source": self.source, "exact": self.exact,
                "miss": self.miss, "notes": self.notes,
                "rows": [{"probe": p, "correct": c, "total": t} for p, c, t in self.rows]}


def verify_graph(model, A, source: int = 0) -> GraphReport:
    """Run ``model`` on one graph and compare every hint step and output with the
    reference trace, strictly (no near-tie exemption).

    **Arguments:**

    - `model`: an eqgat ``Model`` of a registered algorithm with a reference trace.
    - `A`: the n×n weights (0 = no edge).
    - `source`: the source node.

    **Returns:**

    A ``GraphReport``: ``.exact``, ``.miss`` (the first difference), per-probe rows.
    """
    algorithm = model.algorithm
    alg = get_algorithm(algorithm)
    if alg.reference is None:
        raise ValueError(f"{algorithm!r} has no reference trace to verify against")
    A = np.asarray(A, dtype=np.float64)
    n = A.shape[0]
    if not 0 <= source < n:
        raise ValueError(f"source {source} is not a node of a {n}-node graph")
    a = graph_arrays(algorithm, A, source=source)
    batch = to_batch(algorithm, a)
    pred = predict(model, batch)
    ok = {k: np.asarray(v) for k, v in matches(model, pred, batch).items()}
    live = live_steps(np.asarray(batch.length), next(iter(pred.hints.values())).shape[1])[0]
    rows = []
    for name, m in ok.items():
        if m.ndim == 2:
            rows.append((name, int((m[0] & live).sum()), int(live.sum())))
        else:
            rows.append((name, int(m[0]), 1))
    report = GraphReport(algorithm, n, source, rows, _batch_misses(model, algorithm, a)[0])
    size = getattr(model.config, "nb_nodes", None)
    if size is not None and size != n:
        report.notes.append(f"the model's pre-attention bias is {size} x {size}")
    return report

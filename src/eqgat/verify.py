"""``python -m eqgat verify``: run a compiled model on graphs and compare every hint step
and the output with dm-clrs' ground truth, with the margins by which it held.

Graph sets (``--graphs``):

- ``sampler``: two distributions per length: ``test`` (dm-clrs' test-split sampler
  settings: ids i/n, edge probability 0.5) and ``train`` (the training pipeline's edge
  probabilities 0.1-0.9 and random sorted ids);
- ``families``: ``eqgat.families`` at every length (degenerate shapes and exact ties);
- ``exhaustive``: every undirected graph on up to 5 nodes, from every source, unit weights.

Pointers and masks must be equal, scalars within 1e-4 relative. A miss counts as a
*near-tie* when dm-clrs' own float64 values have, at or before the missed step, two
candidates closer than the compiled model's resolution (``Constants.resolution``), or
exactly tied candidates whose ids are closer than ``1/max_nodes``: the documented limit
of one float logit. Every other miss makes the run fail.

Margins: the smallest attention-logit gap between the selected sender and the runner-up
(over selections with no near-tie), the smallest gate slack (``0.5 - |g - round(g)|`` for
the gate ``g = Σ_j α_ij msk_j``; 0.5 means exactly 0 or 1) and the largest float rounding
of a winning logit (3 ulps) relative to its gap.
"""

import functools
import json
import sys
from dataclasses import asdict, dataclass, field

import jax
import numpy as np

from .compiler import Compiled, compile_stages, graph_size
from ._evaluate import matches, predict
from .data import TRAIN_P, Arrays, Sampler, concat, derive_seed, graph_arrays, to_batch
from .families import directed_families, exhaustive, exhaustive_directed, families
from ._spec import live_steps
from .programs import PROGRAMS

DISTRIBUTIONS = {"test": dict(random_pos=False, p=(0.5,)), "train": dict(random_pos=True, p=TRAIN_P)}
GRAPHS = ("sampler", "families", "exhaustive")
#: Largest graph of ``--graphs exhaustive``: undirected (BFS, Bellman-Ford; every source) and
#: directed (``dfs_light``: 4,165 graphs).
EXHAUSTIVE_NODES = 5
EXHAUSTIVE_DIRECTED_NODES = 4
#: Algorithms ``verify`` has a compiled model of.
VERIFIABLE = ("bfs", "bellman_ford", "dfs_light")


@dataclass
class Row:
    """One probe on one group of graphs (a sampler distribution, a family, or exhaustive)."""

    length: int
    distribution: str
    probe: str
    correct: int
    total: int
    near_tie: int = 0  # misses on graphs with a near-tie at or before the miss

    @property
    def accuracy(self) -> float:
        return self.correct / max(self.total, 1)

    @property
    def misses(self) -> int:
        """Misses that are not near-ties."""
        return self.total - self.correct - self.near_tie


@dataclass
class Margins:
    """How far a run is from failure (see the module docstring)."""

    min_logit_gap: float = float("inf")
    min_gate_slack: float = 0.5
    max_rounding_ratio: float = 0.0
    selections: int = 0  # selections the gap was taken over
    near_tie_graphs: int = 0

    def update(self, other: "Margins") -> None:
        self.min_logit_gap = min(self.min_logit_gap, other.min_logit_gap)
        self.min_gate_slack = min(self.min_gate_slack, other.min_gate_slack)
        self.max_rounding_ratio = max(self.max_rounding_ratio, other.max_rounding_ratio)
        self.selections += other.selections
        self.near_tie_graphs += other.near_tie_graphs


@dataclass
class Report:
    """A verification run: its settings, rows and margins."""

    algorithm: str
    hidden_size: int
    graphs: str
    samples: int
    seed: int
    x64: bool
    max_nodes: int
    resolution: float
    scale: float | None = None  # None: the default constants; S: S x the smallest
    logit_scale: float = 0.0  # L
    mechanism: str = "general"
    rows: list[Row] = field(default_factory=list)
    margins: Margins = field(default_factory=Margins)

    @property
    def exact(self) -> bool:
        """Every miss is a near-tie within the documented resolution."""
        return all(r.misses == 0 for r in self.rows)

    @property
    def near_ties(self) -> int:
        return sum(r.near_tie for r in self.rows)

    def to_json(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k not in ("rows", "margins")}
        out.update(exact=self.exact, near_ties=self.near_ties, margins=asdict(self.margins),
                   rows=[dict(asdict(r), accuracy=r.accuracy) for r in self.rows])
        return out


# ------------------------------------------------------------------ ground-truth analysis


def _selections(algorithm: str, a: Arrays, t: int):
    """dm-clrs' candidates at transition t → t+1 from its float64 values.

    Returns ``(keys [b, i, j+1], ids [b, j+1], relevant [b, i])``: each receiver's
    candidate keys (inf where j is no candidate; the last column is a Bellman-Ford
    receiver's own value, the incumbent), the candidates' ids, and whether the
    receiver's new state comes from a selection.
    """
    A = a.inputs["A"]
    edge = np.swapaxes(A, 1, 2) != 0  # [b, i, j]: j sends to i (dm-clrs: A[j, i] != 0)
    pos = a.inputs["pos"]
    start = a.inputs["s"] != 0
    b, n = pos.shape
    if algorithm == "bfs":
        reached = a.hints["reach_h"][:, t] != 0
        edge = edge & ~np.eye(n, dtype=bool)[None]
        cand = edge & reached[:, None, :]
        keys = np.where(cand, pos[:, None, :], np.inf)
        inc = np.full((b, n, 1), np.inf)
        relevant = ~reached & ~start & cand.any(-1)
    elif algorithm == "bellman_ford":
        d, msk = a.hints["d"][:, t], a.hints["msk"][:, t] != 0
        cand = edge & msk[:, None, :]
        keys = np.where(cand, d[:, None, :] + np.swapaxes(A, 1, 2), np.inf)
        inc = np.where(msk, d, np.inf)[:, :, None]
        relevant = ~start & (msk | cand.any(-1))
    else:
        raise ValueError(f"verify compares with dm-clrs, which has bfs and bellman_ford programs; got {algorithm!r}")
    ids = np.concatenate([pos, np.full((b, 1), np.inf)], axis=1)
    return np.concatenate([keys, inc], axis=2), ids, relevant


def near_ties(algorithm: str, a: Arrays, resolution: float, max_nodes: int) -> np.ndarray:
    """``[b, T-1, n]``: receivers whose selection at step t is a near-tie in dm-clrs' own
    float64 values: another candidate (or the incumbent) within ``resolution`` of the
    least key but not equal to it, or exactly tied candidates with ids closer than
    ``1/max_nodes``."""
    return _near_ties_and_relevant(algorithm, a, resolution, max_nodes)[0]


def _near_ties_and_relevant(algorithm: str, a: Arrays, resolution: float, max_nodes: int):
    """``near_ties`` and, from the same pass over the steps, ``[b, T-1, n]``: whether each
    receiver's new state comes from a selection (``_selections``)."""
    b, T = a.lengths.shape[0], next(iter(a.hints.values())).shape[1]
    n = a.inputs["pos"].shape[1]
    out = np.zeros((b, max(1, T - 1), n), dtype=bool)
    selected = np.zeros_like(out)
    for t in range(T - 1):
        keys, ids, relevant = _selections(algorithm, a, t)
        least = keys.min(-1, keepdims=True)
        with np.errstate(invalid="ignore"):  # inf - inf where a receiver has no candidate
            diff = keys - least
        close = ((diff > 0) & (diff < resolution)).any(-1)
        tied = (diff == 0) & np.isfinite(keys)
        tied[..., -1] = False  # the incumbent wins its ties whatever its id
        tie_ids = np.where(tied, ids[:, None, :], np.nan)
        srt = np.sort(tie_ids, axis=-1)
        gaps = np.diff(srt, axis=-1)
        id_close = (np.nan_to_num(gaps, nan=np.inf) < 1.0 / max_nodes).any(-1)
        out[:, t] = relevant & (close | id_close)
        selected[:, t] = relevant
    return out, selected


def _close_ids(a: Arrays, gap: float) -> np.ndarray:
    """``[b, n]``: nodes with another node (neighbour or not) whose id is closer than
    ``gap``: the paper mechanism's detector cannot tell them apart."""
    pos = a.inputs["pos"]
    diff = np.abs(pos[:, :, None] - pos[:, None, :])
    n = pos.shape[1]
    return ((diff < gap) & ~np.eye(n, dtype=bool)[None]).any(-1)


def check_values(algorithm: str, a: Arrays, bound: float, where: str) -> None:
    """A clear error if dm-clrs' values exceed what the compiled model represents."""
    if algorithm == "bellman_ford":
        top = float(np.max(a.hints["d"], initial=0.0))
        if top >= bound:
            raise ValueError(f"{where}: distances reach {top:g}, beyond the compiled value bound {bound:g} "
                             "(eqgat.compiler.VALUE_BOUND)")


# ------------------------------------------------------------------ one batch


def _check(model, comp: Compiled, a: Arrays, dtype) -> tuple[dict[str, np.ndarray], np.ndarray, Margins]:
    """Per probe, which (graph, step) entries match; per graph, which steps' misses are
    near-ties; and the margins of this batch."""
    batch = to_batch(comp.plan.program.algorithm, a, dtype)
    pred = predict(model, batch, return_logits=True)
    ok = matches(model, pred, batch)
    const = comp.constants
    algorithm = comp.plan.program.algorithm
    nt, relevant = _near_ties_and_relevant(algorithm, a, const.resolution, const.max_nodes)  # [b, T-1, n]
    if comp.layout.mechanism == "paper":
        relevant = np.ones_like(relevant)  # every receiver's choice matters: kept ones must select themselves
        if comp.plan.incumbent:  # the self-selection detector resolves ids 1/M_SELECT apart
            nt = nt | _close_ids(a, 1.0 / const.M_select)[:, None, :]
    b, Tm1 = nt.shape[:2]
    live = live_steps(a.lengths, Tm1)
    step_nt = nt.any(-1) & live
    # a graph's misses from step t on are near-ties if it had a near-tie at or before t
    nt_upto = np.logical_or.accumulate(step_nt, axis=1)
    m = Margins(near_tie_graphs=int(step_nt.any(-1).sum()))
    logits = np.asarray(pred.logits[:, :, 0], dtype=np.float64)  # [b, T-1, i, j]
    if logits.shape[-1] < 2:  # one node: nothing to select between
        logits = np.concatenate([logits, np.full_like(logits, -np.inf)], axis=-1)
    top2 = -np.partition(-logits, 1, axis=-1)[..., :2]
    gap = top2[..., 0] - top2[..., 1]
    for t in range(Tm1):
        use = relevant[:, t] & ~nt[:, t] & live[:, t, None]
        if use.any():
            m.selections += int(use.sum())
            m.min_logit_gap = min(m.min_logit_gap, float(gap[:, t][use].min()))
            ulp = np.spacing(np.abs(top2[:, t, :, 0]).astype(dtype)).astype(np.float64)
            with np.errstate(divide="ignore"):  # a gap of 0 (a mixture) has no margin at all
                ratio = 3 * ulp / gap[:, t]
            m.max_rounding_ratio = max(m.max_rounding_ratio, float(ratio[use].max()))
    if comp.plan.flag:
        lay = comp.layout
        hidden = np.asarray(pred.hidden, dtype=np.float64)  # H after each step
        flag = np.concatenate([np.zeros_like(hidden[:, :1]), hidden[:, :-1]], axis=1)[..., lay.h(comp.plan.flag)]
        msk = flag + (a.inputs[comp.plan.start][:, None, :] if comp.plan.start else 0.0)
        g = np.einsum("btij,btj->bti", np.asarray(pred.alpha[:, :, 0], dtype=np.float64), msk)
        err = np.abs(g - np.round(g))[live[..., None] & ~nt]  # near-tie selections may mix (documented)
        if err.size:
            m.min_gate_slack = float(0.5 - err.max())
    return ok, nt_upto, m


def _count(rows: dict, groups: list[str], n: int, ok: dict, nt_upto: np.ndarray, lengths: np.ndarray):
    live = live_steps(lengths, nt_upto.shape[1])
    for name, m in ok.items():
        for g in sorted(set(groups)):
            sel = np.array([x == g for x in groups])
            row = rows.setdefault((n, g, name), Row(n, g, name, 0, 0))
            if m.ndim == 2:
                good, lv, nt = m[sel], live[sel], nt_upto[sel]
                row.correct += int(good.sum())
                row.total += int(lv.sum())
                row.near_tie += int((lv & ~good & nt).sum())
            else:
                good, nt = m[sel], nt_upto[sel].any(-1)
                row.correct += int(good.sum())
                row.total += int(good.size)
                row.near_tie += int((~good & nt).sum())


@functools.lru_cache(maxsize=4)
def exhaustive_arrays(algorithm: str) -> tuple[tuple[int, Arrays], ...]:
    """The reference traces of every graph of ``eqgat.families.exhaustive`` (directed
    algorithms: ``exhaustive_directed``), one ``Arrays`` per size (computed once per
    process: about 5000 graphs)."""
    by_n: dict[int, list] = {}
    cases = exhaustive_directed(EXHAUSTIVE_DIRECTED_NODES) if algorithm == "dfs_light" else exhaustive(EXHAUSTIVE_NODES)
    for c in cases:
        by_n.setdefault(c.n, []).append(graph_arrays(algorithm, c.A, source=c.source))
    return tuple((n, concat(arrays)) for n, arrays in by_n.items())


def _cases(algorithm: str, graphs: str, lengths, samples: int, seed: int, batch_size: int, bound: float):
    """Yield ``(n, groups, Arrays)``: batches of one graph size with a group name per graph."""
    if graphs == "sampler":
        for n in lengths:
            for d_i, (dist, kw) in enumerate(DISTRIBUTIONS.items()):
                sampler = Sampler(algorithm, n, min(batch_size, samples), seed=derive_seed(seed, n, d_i),
                                  warm_up=False, **kw)
                done = 0
                while done < samples:
                    a = sampler.next_arrays()
                    k = min(samples - done, a.lengths.shape[0])
                    a = Arrays(*({key: v[:k] for key, v in d.items()} for d in a[:3]), a.lengths[:k])
                    check_values(algorithm, a, bound, f"sampled graphs of {n} nodes")
                    done += k
                    yield n, [dist] * k, a
    elif graphs == "families":
        for n in lengths:
            if algorithm == "dfs_light":
                cases = directed_families(n, seed=derive_seed(seed, n))
            else:
                cases = families(n, seed=derive_seed(seed, n), value_bound=bound)
            arrays = [graph_arrays(algorithm, c.A, source=c.source) for c in cases]
            for c, a in zip(cases, arrays):
                check_values(algorithm, a, bound, f"family {c.family!r} at n={n}")
            yield n, [c.family for c in cases], concat(arrays)
    elif graphs == "exhaustive":
        for n, a in exhaustive_arrays(algorithm):
            yield n, ["exhaustive"] * a.lengths.shape[0], a
    else:
        raise ValueError(f"unknown --graphs {graphs!r}; use one of {', '.join(GRAPHS)}")


def verify(algorithm: str, hidden_size: int | None = None, lengths=(16, 64, 128), samples: int = 64, seed: int = 0, *,
           graphs: str = "sampler", max_nodes: int | None = None, batch_size: int = 64, x64: bool = False,
           model=None, scale: int | float | None = None, mechanism: str = "general",
           nodes: int | None = None) -> Report:
    """Verify the compiled ``algorithm`` (or ``model``, compiled with the same settings)
    on ``graphs``; see the module docstring. ``x64`` needs ``jax_enable_x64``. The
    paper's mechanism (``mechanism="paper"``, ``nodes=N``) runs on graphs of N nodes
    only: ``lengths`` must be N, and exhaustive graphs are those on N <= 5 nodes."""
    if algorithm not in VERIFIABLE:
        raise ValueError(f"verify runs a compiled model, and eqgat compiles {', '.join(VERIFIABLE)}; got {algorithm!r}")
    if graphs not in GRAPHS:
        raise ValueError(f"unknown --graphs {graphs!r}; use one of {', '.join(GRAPHS)}")
    if algorithm == "dfs_light":
        return verify_dfs_light(hidden_size, lengths, samples, seed, graphs=graphs, max_nodes=max_nodes,
                                batch_size=batch_size, x64=x64, model=model, scale=scale, mechanism=mechanism,
                                nodes=nodes)
    size = graph_size(mechanism, nodes, max_nodes)  # the largest graph; the paper's mechanism: N (--nodes)
    derive_seed(seed)  # a clear error for a seed out of range
    sizes = [EXHAUSTIVE_NODES] if graphs == "exhaustive" else list(lengths)
    if mechanism == "paper":
        if graphs == "exhaustive" and nodes > EXHAUSTIVE_NODES:
            raise ValueError(f"exhaustive graphs have at most {EXHAUSTIVE_NODES} nodes; a paper-mechanism model "
                             f"of --nodes {nodes} runs only on graphs of {nodes} nodes")
        if graphs == "exhaustive":
            sizes = [nodes]  # of every graph on up to EXHAUSTIVE_NODES nodes, those on exactly N
        if graphs != "exhaustive" and (wrong := [n for n in sizes if n != nodes]):
            raise ValueError(f"a paper-mechanism model runs on graphs of exactly --nodes {nodes} nodes (B is "
                             f"{nodes} x {nodes}); --lengths has {wrong}")
    if too_big := [n for n in sizes if n > size]:
        raise ValueError(f"graphs of {too_big} nodes are larger than --max-nodes {size}: the model's "
                         "tie-breaks are sized for at most --max-nodes nodes")
    if graphs != "exhaustive" and (small := [n for n in sizes if n < 2]):
        raise ValueError(f"--lengths must be >= 2 for {graphs} graphs, got {small}")
    comp = compile_stages(PROGRAMS[algorithm], hidden_size, max_nodes=max_nodes, x64=x64, scale=scale,
                          mechanism=mechanism, nodes=nodes)
    if model is None:
        model = comp.build()
    dtype = np.float64 if x64 else np.float32
    report = Report(algorithm, comp.layout.hidden_size, graphs, samples, seed, x64, size, comp.constants.resolution,
                    comp.constants.scale, comp.constants.L, mechanism)
    rows: dict = {}
    order: dict[str, int] = {}  # groups in the order they first appear
    for n, groups, a in _cases(algorithm, graphs, sizes, samples, seed, batch_size, comp.constants.value_bound):
        if mechanism == "paper" and n != nodes:
            continue  # exhaustive graphs of other sizes: not this model's
        for g in groups:
            order.setdefault(g, len(order))
        ok, nt_upto, m = _check(model, comp, a, dtype)
        report.margins.update(m)
        _count(rows, groups, n, ok, nt_upto, a.lengths)
    report.rows = [rows[k] for k in sorted(rows, key=lambda k: (k[0], order[k[1]], k[2]))]
    return report


# ------------------------------------------------------------------ the compiled dfs_light

#: Bytes of one float32 [b, T-1, heads, n, n] array a ``verify --algo dfs_light`` batch may
#: hold (the attention and the logits are two of them): sets its batch size per graph size.
DFS_BATCH_BYTES = 5e8


def _check_dfs(model, a: Arrays, max_nodes: int) -> tuple[dict[str, np.ndarray], np.ndarray, Margins]:
    """``_check`` for the compiled ``dfs_light`` (``eqgat.compiler._dfs``).

    Near-ties: graphs with two ids closer than ``1/max_nodes`` (every id is compared).
    Logit gaps: head 0 where the scan finds a node, head 1 where the cursor moves to the
    receiver, head 2 everywhere (the cursor, the lowest lower-id white node or the node
    itself). Gate slack: the distance of every flag of the state (grey, black, cursor,
    has-parent, found, begun) from 0 or 1."""
    from .compiler._dfs import read_state, slot_index

    batch = to_batch("dfs_light", a, np.float32)
    pred = predict(model, batch, return_logits=True)
    ok = matches(model, pred, batch)
    pos = a.inputs["pos"]
    b, n = pos.shape
    Tm1 = ok["color"].shape[1]
    live = live_steps(a.lengths, Tm1)
    gaps = np.diff(np.sort(pos, axis=1), axis=1)
    close = (gaps < 1.0 / max_nodes).any(axis=1) if n > 1 else np.zeros(b, dtype=bool)
    nt_upto = np.repeat(close[:, None], Tm1, axis=1) & live
    m = Margins(near_tie_graphs=int(close.sum()))
    if n < 2:
        return ok, nt_upto, m
    hidden = np.asarray(pred.hidden, dtype=np.float64)  # [b, T-1, n, s]: the state each step wrote
    logits = np.asarray(pred.logits[:, :, :3])  # [b, T-1, head, i, j], float32 (n = 128: ~100 MB per graph)
    top2 = -np.partition(-logits, 1, axis=-1)[..., :2].astype(np.float64)
    del logits
    gap = top2[..., 0] - top2[..., 1]  # [b, T-1, head, i]
    s = hidden.shape[-1]
    moved = hidden[..., slot_index("push", s)] + hidden[..., slot_index("popto", s)]
    decisive = np.stack([read_state(hidden, "found") > 0.5,  # the scan found a node
                         moved > 0.5,  # the cursor moved to this node (a push or a pop)
                         np.ones(hidden.shape[:3], dtype=bool)], axis=2)
    use = decisive & (live & ~close[:, None])[:, :, None, None]
    if use.any():
        m.selections = int(use.sum())
        m.min_logit_gap = float(gap[use].min())
        ulp = np.spacing(np.abs(top2[..., 0]).astype(np.float32)).astype(np.float64)
        with np.errstate(divide="ignore"):
            m.max_rounding_ratio = float((3 * ulp / gap)[use].max())
    ok_steps = (live & ~close[:, None])[..., None]
    err = 0.0
    for name in ("grey", "black", "cur", "hp", "found", "begun"):
        v = read_state(hidden, name)
        dev = np.abs(v - np.round(v))[np.broadcast_to(ok_steps, v.shape)]
        err = max(err, float(dev.max(initial=0.0)))
    m.min_gate_slack = 0.5 - err
    return ok, nt_upto, m


def verify_dfs_light(hidden_size: int | None = None, lengths=(16, 64, 128), samples: int = 64, seed: int = 0, *,
                     graphs: str = "sampler", max_nodes: int | None = None, batch_size: int = 64,
                     x64: bool = False, model=None, scale=None, mechanism: str = "general",
                     nodes: int | None = None) -> Report:
    """``verify`` for the compiled ``dfs_light`` (``eqgat.compiler.compile_dfs_light``)
    against the fork's reference trace (``eqgat.fork.dfs_light_trace``). Exact means: on
    every graph whose ids are at least ``1/max_nodes`` apart, every hint step and the
    output match."""
    from .compiler import DEFAULT_MAX_NODES, compile_dfs_light

    for what, given, default in (("--x64", x64, False), ("--scale", scale, None), ("--mechanism", mechanism, "general"),
                                 ("--nodes", nodes, None)):
        if given != default:
            raise ValueError(f"{what} is not available for the compiled dfs_light (float32, its own constants, "
                             "full attention)")
    size = DEFAULT_MAX_NODES if max_nodes is None else max_nodes
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"--max-nodes must be a positive integer, got {size!r}")
    sizes = [EXHAUSTIVE_DIRECTED_NODES] if graphs == "exhaustive" else list(lengths)
    if too_big := [n for n in sizes if n > size]:
        raise ValueError(f"graphs of {too_big} nodes are larger than --max-nodes {size}: the compiled model "
                         "tells ids apart down to 1/--max-nodes")
    if graphs == "sampler" and (small := [n for n in sizes if n < 2]):
        raise ValueError(f"--lengths must be >= 2 for sampled graphs, got {small}")
    derive_seed(seed)
    if model is None:
        model = compile_dfs_light(hidden_size, max_nodes=size)
    report = Report("dfs_light", model.hidden_size, graphs, samples, seed, False, size, 1.0 / size)
    rows: dict = {}
    order: dict[str, int] = {}
    for n, groups, a in _cases("dfs_light", graphs, sizes, samples, seed, batch_size, 0.0):
        for g in groups:
            order.setdefault(g, len(order))
        # attention and logits are [b, T-1, 4, n, n] per batch (T ~ 3n): at most ~0.5 GB of each at once
        T = a.hints["color"].shape[1]
        step = max(1, min(batch_size, int(DFS_BATCH_BYTES // (T * 4 * n * n * 4))))
        for k in range(0, len(groups), step):
            part = Arrays(*({key: v[k:k + step] for key, v in d.items()} for d in a[:3]), a.lengths[k:k + step])
            ok, nt_upto, m = _check_dfs(model, part, size)
            report.margins.update(m)
            _count(rows, groups[k:k + step], n, ok, nt_upto, part.lengths)
    report.rows = [rows[k] for k in sorted(rows, key=lambda k: (k[0], order[k[1]], k[2]))]
    return report


def format_table(report: Report) -> str:
    lines = [f"{'n':>5} {'graphs':<20} {'probe':<8} {'correct':>9} {'total':>7} {'accuracy':>9} {'near-ties':>9}"]
    for r in report.rows:
        acc = f"{100 * r.accuracy:>8.2f}%" if r.total else f"{'-':>9}"
        lines.append(f"{r.length:>5} {r.distribution:<20} {r.probe:<8} {r.correct:>9} {r.total:>7} {acc} {r.near_tie:>9}")
    m = report.margins
    if report.algorithm == "dfs_light":
        lines.append(f"resolution {report.resolution:.3g} (graphs with two ids closer than this are near-ties: the "
                     f"id comparisons are not claimed there); {m.near_tie_graphs} graph(s) with a near-tie")
    else:
        lines.append(f"resolution {report.resolution:.3g} (values closer than this may resolve by id or incumbency); "
                     f"{m.near_tie_graphs} graph(s) with a near-tie")
    lines.append(f"worst margins: logit gap {m.min_logit_gap:.4g} (over {m.selections} selections), "
                 f"gate slack {m.min_gate_slack:.4g}, rounding/gap {m.max_rounding_ratio:.3g}")
    return "\n".join(lines)


def main(args) -> int:
    with jax.enable_x64(args.x64):  # float64 for this run only, no global switch
        lengths = args.lengths if args.lengths is not None else ([args.nodes] if args.mechanism == "paper" and
                                                                 args.nodes else [16, 64, 128])
        report = verify(args.algo, args.hidden_size, lengths, args.samples, args.seed, graphs=args.graphs,
                        max_nodes=args.max_nodes, x64=args.x64, scale=args.scale, mechanism=args.mechanism,
                        nodes=args.nodes)
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2)
        print()
    else:
        what = f"{args.samples} graphs per length and distribution" if args.graphs == "sampler" else f"{args.graphs} graphs"
        print(f"verify {args.algo}, hidden size {report.hidden_size}, {what}, seed {args.seed}, "
              f"max nodes {report.max_nodes}, {'float64' if args.x64 else 'float32'}"
              + ("" if args.mechanism == "general" else f", the paper's mechanism at n = {args.nodes}")
              + ("" if args.scale is None else f", scale {args.scale:g} (L = {report.logit_scale:g})"))
        print("(hint rows count hint steps, output rows count graphs; every entry must match)")
        print(format_table(report))
        if report.exact and report.near_ties:
            where = ("on graphs with ids closer than 1/max-nodes" if args.algo == "dfs_light"
                     else "near-ties in dm-clrs' own values")
            print(f"EXACT up to resolution: {report.near_ties} miss(es), all {where}")
        elif report.exact:
            print("EXACT: every hint step and output matches " + ("the reference trace (eqgat.fork)" if
                                                                  args.algo == "dfs_light" else "dm-clrs"))
        else:
            print("NOT EXACT: misses beyond near-ties; see the rows below 100%")
    return 0 if report.exact else 1

"""``python -m eqgat verify``: run a compiled model on graphs and compare every hint step
and the output with dm-clrs' ground truth, with the margins by which it held.

Graph sets (``--graphs``):

- ``sampler``: two distributions per length: ``test`` (dm-clrs' test-split sampler
  settings: ids i/n, edge probability 0.5) and ``train`` (the training pipeline's edge
  probabilities 0.1-0.9 and random sorted ids);
- ``families``: ``eqgat.families`` at every length (degenerate shapes and exact ties);
- ``exhaustive``: every undirected graph on up to 5 nodes, from every source, unit weights
  (directed algorithms: every directed graph on up to 4 nodes); ``lengths`` sets the size.

Everything it needs to know about the algorithm comes from its registry entry
(``eqgat.algorithms``): the reference trace, the graphs it runs on and its program, from
which the near-tie analysis reads the selection (candidates, keys, incumbents).

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

from ._evaluate import matches, predict
from ._spec import Location, Stage, Type, live_steps
from .algorithms import Algorithm, get_algorithm
from .compiler import DEFAULT_MAX_NODES, Compiled, CompileOptions, compile_program, compile_stages, dfs_state
from .data import TRAIN_P, Arrays, Sampler, concat, derive_seed, graph_arrays, to_batch
from .families import directed_families, exhaustive, exhaustive_directed, families
from .lang import DepthFirst, GraphProgram, Pointer, Scalar

DISTRIBUTIONS = {"test": dict(random_pos=False, p=(0.5,)), "train": dict(random_pos=True, p=TRAIN_P)}
GRAPHS = ("sampler", "families", "exhaustive")
#: Default largest graph of ``--graphs exhaustive``: undirected (BFS, Bellman-Ford; every
#: source) and directed (``dfs_light``: 4,165 graphs).
EXHAUSTIVE_NODES = 5
EXHAUSTIVE_DIRECTED_NODES = 4
#: The largest ``exhaustive`` size eqgat enumerates: 6 undirected nodes (32,768 graphs, each
#: from every source), 4 directed (7 directed nodes would be 2**42 graphs).
EXHAUSTIVE_LIMIT = {False: 6, True: 4}


def verifiable() -> list[str]:
    """The registered algorithms ``verify`` runs: a program and a reference trace."""
    from .algorithms import names

    return names(sampled=True, compiled=True)


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
class VerifyReport:
    """A verification run: its settings, rows (one per graph group and probe) and margins.

    ``exact``: every miss is a near-tie within the documented resolution; ``misses``: the
    misses that are not; ``near_ties``: those that are; ``worst_gap``: the smallest
    attention-logit gap of a selection that decides something (``margins``)."""

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
    program: str = "GraphProgram"  # the program's type: what the resolution means
    rows: list[Row] = field(default_factory=list)
    margins: Margins = field(default_factory=Margins)

    @property
    def exact(self) -> bool:
        """Every miss is a near-tie within the documented resolution."""
        return all(r.misses == 0 for r in self.rows)

    @property
    def near_ties(self) -> int:
        return sum(r.near_tie for r in self.rows)

    @property
    def misses(self) -> int:
        return sum(r.misses for r in self.rows)

    @property
    def worst_gap(self) -> float:
        return self.margins.min_logit_gap

    def to_json(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k not in ("rows", "margins")}
        out.update(exact=self.exact, near_ties=self.near_ties, margins=asdict(self.margins),
                   rows=[dict(asdict(r), accuracy=r.accuracy) for r in self.rows])
        return out


# ------------------------------------------------------------------ ground-truth analysis


def _hint_of(program: GraphProgram) -> dict[str, str]:
    """component -> the hint probe that decodes it (what the reference trace records)."""
    spec = {p.name: p for p in get_algorithm(program.algorithm).spec}
    return {comp: probe for probe, comp in program.probes.items() if spec[probe].stage == Stage.HINT}


def _neighbours(plan, a: Arrays) -> np.ndarray:
    """``[b, i, j]``: j sends to i in the reference's graph. A selection over an edge
    input (``edge.A``) reads that input's non-zeros, self loops included (as dm-clrs'
    ``A[u, v] != 0``); otherwise the spec's edge mask input, without its self loops."""
    if plan.expr_edge:
        return np.swapaxes(a.inputs[plan.expr_edge[0][0]], 1, 2) != 0
    spec = get_algorithm(plan.program.algorithm).spec
    mask = next(p.name for p in spec if p.stage == Stage.INPUT and p.location == Location.EDGE and p.type == Type.MASK)
    n = a.inputs[mask].shape[1]
    return (np.swapaxes(a.inputs[mask], 1, 2) != 0) & ~np.eye(n, dtype=bool)[None]


def _value(a: Arrays, program: GraphProgram, hint: dict[str, str], name: str, t: int) -> np.ndarray:
    """``[b, j]``: the key part ``other.name`` at step t: the id, a scalar's value, or the
    id of the node a pointer points to."""
    pos = a.inputs[program.idx]
    if name == "idx":
        return pos
    x = a.hints[hint[name]][:, t]
    if isinstance(program.hidden[name], Pointer):
        return np.take_along_axis(pos, x.astype(int), axis=1)  # a Pointer: the id it points to
    return x


def _selections(plan, a: Arrays, t: int):
    """The reference's candidates at transition t → t+1, from its float64 values and the
    program's selection (``plan``: ``eqgat.compiler.analyse``).

    Returns ``(keys [b, i, j+1], ids [b, j+1], relevant [b, i])``: each receiver's
    candidate keys (inf where j is no candidate; the last column is an ``incumbent``
    receiver's own value), the candidates' ids, and whether the receiver's new state
    comes from a selection.
    """
    program = plan.program
    hint = _hint_of(program)
    pos = a.inputs[program.idx]
    b, n = pos.shape
    edge = _neighbours(plan, a)
    start = a.inputs[plan.start] != 0 if plan.start else np.zeros((b, n), dtype=bool)
    flag = a.hints[hint[plan.flag]][:, t] != 0 if plan.flag else np.zeros((b, n), dtype=bool)
    cand = edge & flag[:, None, :] if plan.mask else edge
    key = sum(c * _value(a, program, hint, name, t)[:, None, :] for name, c in plan.expr_other)
    key = key + sum(c * np.swapaxes(a.inputs[name], 1, 2) for name, c in plan.expr_edge)
    keys = np.where(cand, key, np.inf)
    if plan.incumbent:
        own = next(name for name, kind, _ in plan.updates if kind == "expr")
        inc = np.where(flag, a.hints[hint[own]][:, t], np.inf)[:, :, None]
        relevant = ~start & (flag | cand.any(-1))
    else:
        inc = np.full((b, n, 1), np.inf)
        relevant = ~start & cand.any(-1) & (~flag if plan.keep else True)
    ids = np.concatenate([pos, np.full((b, 1), np.inf)], axis=1)
    return np.concatenate([keys, inc], axis=2), ids, relevant


def _plan(plan_or_algorithm):
    """A graph program's ``Plan`` (``eqgat.compiler.analyse``), from itself or from a
    registered algorithm's name."""
    if not isinstance(plan_or_algorithm, str):
        return plan_or_algorithm
    from .compiler import analyse

    program = get_algorithm(plan_or_algorithm).program
    if not isinstance(program, GraphProgram):
        raise ValueError(f"{plan_or_algorithm!r} has no graph program (a GraphProgram) to read selections from")
    return analyse(program)


def near_ties(plan, a: Arrays, resolution: float, max_nodes: int) -> np.ndarray:
    """``[b, T-1, n]``: receivers whose selection at step t is a near-tie in the
    reference's own float64 values: another candidate (or the incumbent) within
    ``resolution`` of the least key but not equal to it, or exactly tied candidates with
    ids closer than ``1/max_nodes``. ``plan``: the program's ``eqgat.compiler.analyse``,
    or a registered algorithm's name."""
    return _near_ties_and_relevant(_plan(plan), a, resolution, max_nodes)[0]


def _near_ties_and_relevant(plan, a: Arrays, resolution: float, max_nodes: int):
    """``near_ties`` and, from the same pass over the steps, ``[b, T-1, n]``: whether each
    receiver's new state comes from a selection (``_selections``)."""
    b, T = a.lengths.shape[0], next(iter(a.hints.values())).shape[1]
    n = a.inputs["pos"].shape[1]
    out = np.zeros((b, max(1, T - 1), n), dtype=bool)
    selected = np.zeros_like(out)
    for t in range(T - 1):
        keys, ids, relevant = _selections(plan, a, t)
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


def check_values(plan, a: Arrays, bound: float, where: str) -> None:
    """A clear error if the reference's scalar values exceed what the compiled model
    represents (``plan``: the program's ``eqgat.compiler.analyse``, or a registered
    algorithm's name)."""
    plan = _plan(plan)
    hint = _hint_of(plan.program)
    for name, comp in plan.program.hidden.items():
        if isinstance(comp, Scalar) and name in hint:
            top = float(np.max(a.hints[hint[name]], initial=0.0))
            if top >= bound:
                raise ValueError(f"{where}: {hint[name]} reaches {top:g}, beyond the compiled value bound {bound:g} "
                                 "(eqgat.compiler.VALUE_BOUND)")


# ------------------------------------------------------------------ one batch


def check_batch(model, comp: Compiled, a: Arrays, dtype) -> tuple[dict[str, np.ndarray], np.ndarray, Margins]:
    """Per probe, which (graph, step) entries match; per graph, which steps' misses are
    near-ties; and the margins of this batch."""
    batch = to_batch(comp.plan.program.algorithm, a, dtype)
    pred = predict(model, batch, return_logits=True)
    ok = matches(model, pred, batch)
    const = comp.constants
    nt, relevant = _near_ties_and_relevant(comp.plan, a, const.resolution, const.max_nodes)  # [b, T-1, n]
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
def exhaustive_arrays(algorithm: str, max_n: int | None = None) -> tuple[tuple[int, Arrays], ...]:
    """The reference traces of every graph on up to ``max_n`` nodes (``eqgat.families``:
    ``exhaustive``, from every source, or for a directed algorithm
    ``exhaustive_directed``; default sizes ``EXHAUSTIVE_NODES`` and
    ``EXHAUSTIVE_DIRECTED_NODES``), one ``Arrays`` per size (computed once per process)."""
    alg = get_algorithm(algorithm)
    if alg.directed:
        cases = exhaustive_directed(EXHAUSTIVE_DIRECTED_NODES if max_n is None else max_n)
    else:
        cases = exhaustive(EXHAUSTIVE_NODES if max_n is None else max_n)
    by_n: dict[int, list] = {}
    for c in cases:
        by_n.setdefault(c.n, []).append(graph_arrays(algorithm, c.A, source=c.source))
    return tuple((n, concat(arrays)) for n, arrays in by_n.items())


def _family_cases(alg: Algorithm, n: int, seed: int, bound: float):
    """The graph families of size n for ``alg``'s kind of graph."""
    if alg.directed:
        return directed_families(n, seed=derive_seed(seed, n))
    return families(n, seed=derive_seed(seed, n), value_bound=bound)


def _cases(alg: Algorithm, graphs: str, lengths, samples: int, seed: int, batch_size: int, check=None,
           exhaustive_n: int | None = None):
    """Yield ``(n, groups, Arrays)``: batches of one graph size with a group name per graph.
    ``check(arrays, where)`` sees every batch first (a value-bound check)."""
    check = check or (lambda a, where: None)
    if graphs == "sampler":
        for n in lengths:
            for d_i, (dist, kw) in enumerate(DISTRIBUTIONS.items()):
                sampler = Sampler(alg.name, n, min(batch_size, samples), seed=derive_seed(seed, n, d_i),
                                  warm_up=False, **kw)
                done = 0
                while done < samples:
                    a = sampler.next_arrays()
                    k = min(samples - done, a.lengths.shape[0])
                    a = Arrays(*({key: v[:k] for key, v in d.items()} for d in a[:3]), a.lengths[:k])
                    check(a, f"sampled graphs of {n} nodes")
                    done += k
                    yield n, [dist] * k, a
    elif graphs == "families":
        for n in lengths:
            cases = _family_cases(alg, n, seed, getattr(check, "bound", 16.0))
            arrays = [graph_arrays(alg.name, c.A, source=c.source) for c in cases]
            for c, a in zip(cases, arrays, strict=True):
                check(a, f"family {c.family!r} at n={n}")
            yield n, [c.family for c in cases], concat(arrays)
    elif graphs == "exhaustive":
        for n, a in exhaustive_arrays(alg.name, exhaustive_n):
            yield n, ["exhaustive"] * a.lengths.shape[0], a
    else:
        raise ValueError(f"unknown --graphs {graphs!r}; use one of {', '.join(GRAPHS)}")


class _ValueCheck:
    """``check_values`` against ``bound`` as a ``_cases`` check (its ``bound`` also sizes
    the families' weights)."""

    def __init__(self, plan, bound: float):
        self.plan, self.bound = plan, bound

    def __call__(self, a: Arrays, where: str) -> None:
        check_values(self.plan, a, self.bound, where)


def _sizes(alg: Algorithm, graphs: str, lengths, size: int) -> list[int]:
    """The graph sizes a run covers (for ``exhaustive``: its largest), checked against the
    model's ``size``; a ``ValueError`` naming the bad ones."""
    default_exhaustive = EXHAUSTIVE_DIRECTED_NODES if alg.directed else EXHAUSTIVE_NODES
    if graphs == "exhaustive":
        sizes = [max(lengths) if lengths else default_exhaustive]
    else:
        sizes = list(lengths)
    if not sizes or any(not isinstance(n, (int, np.integer)) for n in sizes):
        raise ValueError(f"--lengths must be graph sizes (integers), got {lengths!r}")
    if too_big := [n for n in sizes if n > size]:
        raise ValueError(f"graphs of {too_big} nodes are larger than --max-nodes {size}: the model's "
                         "tie-breaks are sized for at most --max-nodes nodes")
    if graphs != "exhaustive" and (small := [n for n in sizes if n < 2]):
        raise ValueError(f"--lengths must be >= 2 for {graphs} graphs, got {small}")
    if graphs == "exhaustive" and not 1 <= sizes[0] <= EXHAUSTIVE_LIMIT[alg.directed]:
        kind = "directed" if alg.directed else "undirected"
        raise ValueError(f"--lengths {sizes[0]}: exhaustive {kind} graphs are enumerated on 1 to "
                         f"{EXHAUSTIVE_LIMIT[alg.directed]} nodes (every graph: the count doubles with each edge)")
    return sizes


def _run(report: "VerifyReport", batches, per_batch) -> "VerifyReport":
    """Fill ``report``'s rows and margins from ``per_batch(n, groups, arrays) -> [(groups
    part, ok, nt_upto, margins, lengths)]`` over ``batches`` of ``(n, groups, arrays)``."""
    rows: dict = {}
    order: dict[str, int] = {}  # groups in the order they first appear
    for n, groups, a in batches:
        for g in groups:
            order.setdefault(g, len(order))
        for part, ok, nt_upto, m, lengths in per_batch(n, groups, a):
            report.margins.update(m)
            _count(rows, part, n, ok, nt_upto, lengths)
    report.rows = [rows[k] for k in sorted(rows, key=lambda k: (k[0], order[k[1]], k[2]))]
    return report


def _verify_graph_program(alg: Algorithm, model, hidden_size, lengths, samples: int, seed: int, graphs: str,
                          options: CompileOptions, batch_size: int) -> "VerifyReport":
    """``verify`` of a compiled ``GraphProgram`` (module docstring)."""
    size = options.graph_size  # the largest graph; the paper's mechanism: N (--nodes)
    if options.mechanism == "paper":
        nodes = options.nodes
        if graphs == "exhaustive" and not lengths:
            if nodes > EXHAUSTIVE_NODES:
                raise ValueError(f"exhaustive graphs have at most {EXHAUSTIVE_NODES} nodes; a paper-mechanism model "
                                 f"of --nodes {nodes} runs only on graphs of {nodes} nodes")
            lengths = [nodes]  # of every graph on up to N nodes, those on exactly N
        if wrong := [n for n in lengths if n != nodes]:
            raise ValueError(f"a paper-mechanism model runs on graphs of exactly --nodes {nodes} nodes (B is "
                             f"{nodes} x {nodes}); --lengths has {wrong}")
    sizes = _sizes(alg, graphs, lengths, size)
    comp = compile_stages(alg.program, hidden_size, options=options)
    if model is None:
        model = comp.build()
    dtype = np.float64 if options.x64 else np.float32
    const = comp.constants
    report = VerifyReport(alg.name, comp.layout.hidden_size, graphs, samples, seed, options.x64, size, const.resolution,
                          const.scale, const.L, options.mechanism)

    def per_batch(n, groups, a):
        if options.mechanism == "paper" and n != options.nodes:
            return []  # exhaustive graphs of other sizes: not this model's
        return [(groups, *check_batch(model, comp, a, dtype), a.lengths)]

    batches = _cases(alg, graphs, sizes, samples, seed, batch_size, _ValueCheck(comp.plan, const.value_bound),
                     exhaustive_n=sizes[0] if graphs == "exhaustive" else None)
    return _run(report, batches, per_batch)


def verify_algorithm(algorithm: str, hidden_size: int | None = None, lengths=None, samples: int = 64,
                     seed: int = 0, *, graphs: str = "sampler", options: CompileOptions | None = None,
                     max_nodes: int | None = None, batch_size: int = 64, x64: bool = False, model=None,
                     scale: int | float | None = None, mechanism: str = "general",
                     nodes: int | None = None) -> "VerifyReport":
    """Compile the registered ``algorithm`` (or take ``model``, compiled with the same
    settings) and verify it on ``graphs`` against its reference trace; see the module
    docstring.

    **Arguments:**

    - `algorithm`: a registered algorithm with a program and a reference trace.
    - `hidden_size`: the compiled hidden size (default: the program's minimal size).
    - `lengths`: graph sizes (default 16, 64, 128; the paper's mechanism: ``nodes``);
      for ``exhaustive``, every graph on up to ``max(lengths)`` nodes (default 5
      undirected, 4 directed; the paper's mechanism: those on exactly ``nodes``).
    - `samples`, `seed`: graphs per length and distribution (``sampler``), and the seed.
    - `graphs`: ``"sampler"``, ``"families"`` or ``"exhaustive"``.
    - `options`: the ``CompileOptions`` (or the keywords ``max_nodes``, ``x64``, ``scale``,
      ``mechanism``, ``nodes``); ``x64`` needs ``jax_enable_x64``.
    - `batch_size`: graphs per batch.
    - `model`: a model compiled with these settings (default: compiled here).

    **Returns:**

    A ``VerifyReport``.
    """
    from .compiler import backend_for

    alg = get_algorithm(algorithm)
    if not (alg.compiled and alg.sampled):
        raise ValueError(f"verify runs a compiled model against a reference trace, and {algorithm!r} has "
                         f"{'no program' if not alg.compiled else 'no reference trace'}; verifiable: "
                         f"{', '.join(verifiable())}")
    if graphs not in GRAPHS:
        raise ValueError(f"unknown --graphs {graphs!r}; use one of {', '.join(GRAPHS)}")
    given = dict(max_nodes=max_nodes, x64=x64, scale=scale, mechanism=mechanism, nodes=nodes)
    if options is None:
        options = CompileOptions(**given)
    elif CompileOptions(**given).given():
        raise ValueError("give either options=CompileOptions(...) or the option keywords, not both")
    backend_for(alg.program).check(options)
    derive_seed(seed)  # a clear error for a seed out of range
    if lengths is None and graphs != "exhaustive":
        lengths = [options.nodes] if options.mechanism == "paper" else [16, 64, 128]
    lengths = list(lengths) if lengths is not None else []
    if graphs != "exhaustive" and not lengths:
        raise ValueError(f"--lengths: give the graph sizes for {graphs} graphs")
    run = _verify_depth_first if isinstance(alg.program, DepthFirst) else _verify_graph_program
    return run(alg, model, hidden_size, lengths, samples, seed, graphs, options, batch_size)


def verify(model, *, graphs: str = "sampler", lengths=None, samples: int | None = None, seed: int = 0,
           options: CompileOptions | None = None, batch_size: int = 64) -> "VerifyReport":
    """Verify a compiled ``model`` against its algorithm's reference trace, hint step by
    hint step, with the margins by which it held (module docstring).

    **Arguments:**

    - `model`: a model compiled from a registered algorithm's program (``model.algorithm``
      names it), e.g. ``eqgat.compile_algorithm(name)``.
    - `graphs`: ``"sampler"`` (dm-clrs' sampler at each length, two distributions),
      ``"families"`` (degenerate shapes and exact ties) or ``"exhaustive"`` (every graph).
    - `lengths`: graph sizes; for ``"exhaustive"``, every graph of up to ``max(lengths)``
      nodes. Default: 16, 64, 128 (up to the options' graph size; the paper's mechanism:
      its ``nb_nodes``); exhaustive: 5 nodes (4 for directed algorithms).
    - `samples`: graphs per length and distribution for ``"sampler"`` (default 64).
    - `seed`: the graphs' seed, any integer in [0, 2**63 - 1].
    - `options`: the ``CompileOptions`` the model was compiled with (default: the
      defaults, with the paper's mechanism at ``nb_nodes`` when the model has B, and
      float64 when its weights are float64).
    - `batch_size`: graphs per batch.

    **Returns:**

    A ``VerifyReport``: ``.exact``, ``.misses``, ``.near_ties``, ``.worst_gap``, its rows
    and margins.
    """
    config = model.config
    if options is None:
        x64 = any(getattr(x, "dtype", None) == np.float64 for x in jax.tree.leaves(model))
        options = (CompileOptions(mechanism="paper", nodes=config.nb_nodes, x64=x64) if config.use_pre_att_bias
                   else CompileOptions(x64=x64))
    if lengths is None and graphs != "exhaustive" and options.mechanism == "general":
        lengths = [n for n in (16, 64, 128) if n <= options.graph_size] or [options.graph_size]
    return verify_algorithm(config.algorithm, config.hidden_size, lengths, 64 if samples is None else samples, seed,
                            graphs=graphs, options=options, batch_size=batch_size, model=model)


# ------------------------------------------------------------------ depth-first programs

#: Bytes of one float32 [b, T-1, heads, n, n] array a depth-first verification batch may
#: hold (the attention and the logits are two of them): sets its batch size per graph size.
DFS_BATCH_BYTES = 5e8


def _check_depth_first(model, algorithm: str, a: Arrays, max_nodes: int):
    """``check_batch`` for a compiled ``DepthFirst`` program (``eqgat.compiler``'s depth-first
    backend).

    Near-ties: graphs with two ids closer than ``1/max_nodes`` (every id is compared).
    Logit gaps: head 0 where the scan finds a node, head 1 where the cursor moves to the
    receiver, head 2 everywhere (the cursor, the lowest lower-id white node or the node
    itself). Gate slack: the distance of every flag of the state (grey, black, cursor,
    has-parent, found, begun) from 0 or 1."""
    batch = to_batch(algorithm, a, np.float32)
    pred = predict(model, batch, return_logits=True)
    ok = matches(model, pred, batch)
    pos = a.inputs["pos"]
    b, n = pos.shape
    Tm1 = max(v.shape[1] for v in ok.values() if v.ndim == 2)
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
    moved = dfs_state(hidden, "push") + dfs_state(hidden, "popto")
    decisive = np.stack([dfs_state(hidden, "found") > 0.5,  # the scan found a node
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
        v = dfs_state(hidden, name)
        dev = np.abs(v - np.round(v))[np.broadcast_to(ok_steps, v.shape)]
        err = max(err, float(dev.max(initial=0.0)))
    m.min_gate_slack = 0.5 - err
    return ok, nt_upto, m


def _verify_depth_first(alg: Algorithm, model, hidden_size, lengths, samples: int, seed: int, graphs: str,
                        options: CompileOptions, batch_size: int) -> "VerifyReport":
    """``verify`` of a compiled ``DepthFirst`` program against its reference trace. Exact
    means: on every graph whose ids are at least ``1/max_nodes`` apart, every hint step
    and the output match."""
    size = options.graph_size
    sizes = _sizes(alg, graphs, lengths, size)
    if model is None:
        model = compile_program(alg.program, hidden_size, options=options)
    report = VerifyReport(alg.name, model.hidden_size, graphs, samples, seed, False, size, 1.0 / size,
                          program="DepthFirst")

    def per_batch(n, groups, a):
        # attention and logits are [b, T-1, 4, n, n] per batch (T ~ 3n): at most ~0.5 GB of each at once
        T = next(iter(a.hints.values())).shape[1]
        step = max(1, min(batch_size, int(DFS_BATCH_BYTES // (T * 4 * n * n * 4))))
        for k in range(0, len(groups), step):
            part = Arrays(*({key: v[k:k + step] for key, v in d.items()} for d in a[:3]), a.lengths[k:k + step])
            yield (groups[k:k + step], *_check_depth_first(model, alg.name, part, size), part.lengths)

    batches = _cases(alg, graphs, sizes, samples, seed, batch_size, exhaustive_n=sizes[0] if graphs == "exhaustive"
                     else None)
    return _run(report, batches, per_batch)


def format_table(report: VerifyReport) -> str:
    """``report`` as the table ``python -m eqgat verify`` prints."""
    lines = [f"{'n':>5} {'graphs':<20} {'probe':<8} {'correct':>9} {'total':>7} {'accuracy':>9} {'near-ties':>9}"]
    for r in report.rows:
        acc = f"{100 * r.accuracy:>8.2f}%" if r.total else f"{'-':>9}"
        lines.append(f"{r.length:>5} {r.distribution:<20} {r.probe:<8} {r.correct:>9} {r.total:>7} {acc} {r.near_tie:>9}")
    m = report.margins
    if report.program == "DepthFirst":
        lines.append(f"resolution {report.resolution:.3g} (graphs with two ids closer than this are near-ties: the "
                     f"id comparisons are not claimed there); {m.near_tie_graphs} graph(s) with a near-tie")
    else:
        lines.append(f"resolution {report.resolution:.3g} (values closer than this may resolve by id or incumbency); "
                     f"{m.near_tie_graphs} graph(s) with a near-tie")
    lines.append(f"worst margins: logit gap {m.min_logit_gap:.4g} (over {m.selections} selections), "
                 f"gate slack {m.min_gate_slack:.4g}, rounding/gap {m.max_rounding_ratio:.3g}")
    return "\n".join(lines)


def main(args) -> int:
    """``python -m eqgat verify``: run ``verify_algorithm`` from parsed flags and print it."""
    from .compiler import options_from_flags

    options = options_from_flags(args)
    with jax.enable_x64(options.x64):  # float64 for this run only, no global switch
        report = verify_algorithm(args.algo, args.hidden_size, args.lengths, args.samples, args.seed,
                                  graphs=args.graphs, options=options)
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2)
        print()
        return 0 if report.exact else 1
    what = f"{args.samples} graphs per length and distribution" if args.graphs == "sampler" else f"{args.graphs} graphs"
    print(f"verify {args.algo}, hidden size {report.hidden_size}, {what}, seed {args.seed}, "
          f"max nodes {report.max_nodes}, {'float64' if options.x64 else 'float32'}"
          + ("" if options.mechanism == "general" else f", the paper's mechanism at n = {options.nodes}")
          + ("" if options.scale is None else f", scale {options.scale:g} (L = {report.logit_scale:g})"))
    print("(hint rows count hint steps, output rows count graphs; every entry must match)")
    print(format_table(report))
    if report.exact and report.near_ties:
        where = ("on graphs with ids closer than 1/max-nodes" if report.program == "DepthFirst"
                 else "near-ties in the reference's own values")
        print(f"EXACT up to resolution: {report.near_ties} miss(es), all {where}")
    elif report.exact:
        print("EXACT: every hint step and output matches the reference trace")
    else:
        print("NOT EXACT: misses beyond near-ties; see the rows below 100%")
    return 0 if report.exact else 1

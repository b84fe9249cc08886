"""Verifying a compiled ``GraphProgram``: one batch against the reference, with its
near-ties and margins, and the whole run."""

import numpy as np

from ...nn import matches, predict
from ...probes import live_steps
from ...algorithms import Algorithm
from ...compiler import Compiled, CompileOptions, compile_stages
from ...data import Arrays, to_batch
from ._graphs import EXHAUSTIVE_NODES, _cases, _run, _sizes, _ValueCheck
from ._report import Margins, VerifyReport
from ._truth import _close_ids, _near_ties_and_relevant



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

"""What the reference trace says about each selection, from its own float64 values and the
program (``eqgat.compiler.analyse``): candidates, keys, incumbents, near-ties, and values
beyond what a compiled model represents."""

import numpy as np

from ...algorithms import get_algorithm
from ...probes import Location, Stage, Type
from ...data import Arrays
from ...lang import GraphProgram, Pointer, Scalar



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
    from ...compiler import analyse

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

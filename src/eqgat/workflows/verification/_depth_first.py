"""Verifying a compiled ``DepthFirst`` program (the depth-first backend): ids closer than
``1/max_nodes`` are its near-ties; the margins are each working head's logit gaps and the
state flags' distance from 0 or 1."""

import numpy as np

from ...nn import matches, predict
from ...probes import live_steps
from ...algorithms import Algorithm, get_algorithm
from ...compiler import CompileOptions, compile_program, dfs_state, dfs_trace_state
from ...data import Arrays, to_batch
from ._graphs import _cases, _run, _sizes
from ._report import Margins, VerifyReport


#: Bytes of one float32 [b, T-1, heads, n, n] array a depth-first verification batch may
#: hold (the attention and the logits are two of them): sets its batch size per graph size.
DFS_BATCH_BYTES = 5e8


def _check_depth_first(model, algorithm: str, a: Arrays, max_nodes: int):
    """``check_batch`` for a compiled ``DepthFirst`` program (``eqgat.compiler``'s depth-first
    backend).

    Near-ties: graphs with two ids closer than ``1/max_nodes`` (every id is compared).
    Logit gaps: the decisive selections of each working head (``_decisive``). Gate
    slack: the distance of every flag of the state from 0 or 1."""
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
    decisive, flags, state = _decisive(get_algorithm(algorithm).program.trace, hidden)
    k = decisive.shape[2]
    logits = np.asarray(pred.logits[:, :, :k])  # [b, T-1, head, i, j], float32 (n = 128: ~100 MB per graph)
    top2 = -np.partition(-logits, 1, axis=-1)[..., :2].astype(np.float64)
    del logits
    gap = top2[..., 0] - top2[..., 1]  # [b, T-1, head, i]
    use = decisive & (live & ~close[:, None])[:, :, None, None]
    if use.any():
        m.selections = int(use.sum())
        m.min_logit_gap = float(gap[use].min())
        ulp = np.spacing(np.abs(top2[..., 0]).astype(np.float32)).astype(np.float64)
        with np.errstate(divide="ignore"):
            m.max_rounding_ratio = float((3 * ulp / gap)[use].max())
    ok_steps = (live & ~close[:, None])[..., None]
    err = 0.0
    for name in flags:
        v = state(hidden, name)
        dev = np.abs(v - np.round(v))[np.broadcast_to(ok_steps, v.shape)]
        err = max(err, float(dev.max(initial=0.0)))
    m.min_gate_slack = 0.5 - err
    return ok, nt_upto, m


def _decisive(trace: str, hidden: np.ndarray):
    """Which heads' selections decide something (``[b, T-1, head, i]``), the state flags
    whose distance from 0 or 1 is the gate slack, and the reader of the state.

    ``"light"``: the scan where it finds a node, the moves head where the cursor moves to
    the receiver, the roots (the cursor or the lowest white node) and parent heads
    everywhere. ``"clrs"``: the scan where it finds a node, the cursor and the parent
    heads everywhere, the push and pop heads at their targets."""
    every = np.ones(hidden.shape[:3], dtype=bool)
    if trace == "clrs":
        st = dfs_trace_state
        decisive = [st(hidden, "found") > 0.5, every, st(hidden, "pushed") > 0.5, st(hidden, "popped") > 0.5, every]
        flags = ("found", "pfound", "pushed", "popped", "finish_pop", "start", "stay_B", "take_C", "finish_B")
        return np.stack(decisive, axis=2), flags, st
    moved = dfs_state(hidden, "pushed") + dfs_state(hidden, "popto")
    decisive = [dfs_state(hidden, "found") > 0.5, moved > 0.5, every, every]
    flags = ("cur", "found", "begun", "pushed", "popto", "newroot", "root0", "start", "finish")
    return np.stack(decisive, axis=2), flags, dfs_state


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
        # attention and logits are [b, T-1, heads, n, n] per batch (T ~ 3n): at most ~0.5 GB of each at once
        T = next(iter(a.hints.values())).shape[1]
        heads = model.processor.nb_heads
        step = max(1, min(batch_size, int(DFS_BATCH_BYTES // (T * heads * n * n * 4))))
        for k in range(0, len(groups), step):
            part = Arrays(*({key: v[k:k + step] for key, v in d.items()} for d in a[:3]), a.lengths[k:k + step])
            yield (groups[k:k + step], *_check_depth_first(model, alg.name, part, size), part.lengths)

    batches = _cases(alg, graphs, sizes, samples, seed, batch_size, exhaustive_n=sizes[0] if graphs == "exhaustive"
                     else None)
    return _run(report, batches, per_batch)

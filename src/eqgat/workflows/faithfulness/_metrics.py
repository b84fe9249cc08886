"""φ_external (eq. 24), φ_internal (eq. 25) and their correlation with accuracy."""

import jax
import numpy as np

from ...nn import Model, postprocess, predict
from ...probes import Type, live_steps


MARGINS = {Type.SCALAR: 0.5, Type.MASK: 0.1, Type.POINTER: 1e-6, Type.MASK_ONE: 0.1, Type.CATEGORICAL: 0.1}


def time_bins(batch, bins: int) -> np.ndarray:
    """Bin index of each (graph, step): step t of a trace with L hints (L - 1 steps) sits
    at normalised time t / (L - 2) in [0, 1] (a one-step trace at 0), in bin
    min(floor(τ·bins), bins - 1): every trace's first step falls in the first bin and its
    last in the last; -1 for steps past the trace."""
    L = np.asarray(batch.length)[:, None]
    t = np.arange(max(1, batch.trace_length - 1))[None, :]
    live = live_steps(np.asarray(batch.length), t.shape[1])
    tau = t / np.maximum(L - 2, 1)
    idx = np.minimum(np.floor(tau * bins).astype(int), bins - 1)
    return np.where(live, idx, -1)


def _step_mean(values: np.ndarray, bin_idx: np.ndarray) -> np.ndarray:
    """Mean over graphs of ``values`` ``[b, T-1]`` per raw step t, over live steps (NaN
    where no graph's trace reaches t)."""
    live = bin_idx >= 0
    count = live.sum(0)
    return np.where(count > 0, np.where(live, values, 0).sum(0) / np.maximum(count, 1), np.nan)


def _bin_mean(values: np.ndarray, bin_idx: np.ndarray, bins: int) -> np.ndarray:
    out = np.full(bins, np.nan)
    for k in range(bins):
        sel = bin_idx == k
        if sel.any():
            out[k] = float(values[sel].mean())
    return out


def external(model: Model, batch, *, margins=None, bins: int = 16,
             per_step: bool = False) -> dict[str, np.ndarray]:
    """φ_external (eq. 24) per hint probe over normalised time: the mean, over graphs and
    nodes, of |ŷ - y| < margin. The model runs on its own predictions (no teacher
    forcing), as at test time.

    **Arguments:**

    - `model`: an eqgat ``Model``.
    - `batch`: a ``Batch`` of its algorithm (``eval_graphs``).
    - `margins`: per probe ``Type``, overriding the paper's (``MARGINS``).
    - `bins`: bins of normalised time [0, 1] (``time_bins``).
    - `per_step`: per raw step t instead of per bin.

    **Returns:**

    ``{hint probe: curve}``, each ``[bins]`` (or ``[T-1]`` per step); NaN where no trace
    reaches.
    """
    margins = {**MARGINS, **(margins or {})}
    pred = predict(model, batch)
    spec = {p.name: p for p in model.spec}
    bidx = time_bins(batch, bins)
    out = {}
    for name, logits in pred.hints.items():
        p = spec[name]
        truth = np.asarray(batch.hints[name][:, 1:])
        if p.type == Type.POINTER:
            y = np.asarray(postprocess(p, logits, hard=True))
        elif p.type == Type.MASK:
            y = np.asarray(jax.nn.sigmoid(logits))
        elif p.type in (Type.MASK_ONE, Type.CATEGORICAL):
            y = np.asarray(jax.nn.softmax(logits, -1))
        else:
            y = np.asarray(logits)
        ok = np.abs(y - truth) < margins[p.type]
        step_ok = ok.reshape(ok.shape[:2] + (-1,)).mean(-1)  # [b, T-1]
        out[name] = _step_mean(step_ok, bidx) if per_step else _bin_mean(step_ok, bidx, bins)
    return out


def attention(model: Model, batch) -> np.ndarray:
    """The attention of every step, fed the ground-truth trace: ``[b, T-1, d, n, n]``."""
    return np.asarray(predict(model, batch, teacher_forcing=True).alpha)


def reference_heads(reference: Model) -> list[int]:
    """The heads of a compiled model that select something (any ω weight nonzero): all
    of a one-head model; heads 0-4 of the compiled CLRS ``dfs`` (heads 5-7 hold slots only)."""
    omega = np.asarray(reference.processor.omega)
    heads = [h for h in range(omega.shape[0]) if np.any(omega[h] != 0)]
    return heads or list(range(omega.shape[0]))


def internal(model: Model, reference: Model, batch, *, bins: int = 16) -> dict[str, np.ndarray]:
    """φ_internal: mean |α̂ - α*| per normalised time bin, over live steps and the pairs
    attention can use: the graph's edges (adj) plus self pairs, or every pair when either
    model attends over all nodes (``full_attention``).

    Learned heads are unordered, so each working head r of the reference
    (``reference_heads``) is matched with the learned head closest to it overall; the
    result averages over the reference's working heads (one head: the closest learned
    head, as before).

    **Arguments:**

    - `model`: the learned ``Model``.
    - `reference`: the compiled ``Model`` whose attention is α* (``reference_model``).
    - `batch`: the graphs, fed the ground-truth trace (teacher forcing) in both models.
    - `bins`: bins of normalised time.

    **Returns:**

    A dict: ``per_head`` ``[d, bins]`` (each learned head against the first working
    reference head), ``best_head`` (the matched learned head, an int for a one-head
    reference, else a list per reference head), ``reference_heads``, ``best``
    ``[bins]``, ``steps`` (per raw step t) and ``mean`` (a float).
    """
    a_hat, a_star = attention(model, batch), attention(reference, batch)
    n = a_hat.shape[-1]
    if model.config.full_attention or reference.config.full_attention:
        pairs = np.ones((a_hat.shape[0], n, n), dtype=bool)
    else:
        pairs = np.maximum(np.asarray(batch.inputs["adj"]), np.eye(n)[None]) > 0  # [b, n, n]
    count = pairs.sum((-1, -2))[:, None]
    bidx = time_bins(batch, bins)
    live = bidx >= 0
    refs = reference_heads(reference)
    matched, curves, steps, means, first = [], [], [], [], None
    for r in refs:
        # [b, T-1] per learned head: the distance to reference head r
        per_step = np.stack([(np.abs(a_hat[:, :, h] - a_star[:, :, r]) * pairs[:, None]).sum((-1, -2)) / count
                             for h in range(a_hat.shape[2])], axis=-1)
        overall = np.array([per_step[..., h][live].mean() for h in range(per_step.shape[-1])])
        h = int(np.argmin(overall))
        if first is None:
            first = np.stack([_bin_mean(per_step[..., k], bidx, bins) for k in range(per_step.shape[-1])])
        matched.append(h)
        curves.append(_bin_mean(per_step[..., h], bidx, bins))
        steps.append(_step_mean(per_step[..., h], bidx))
        means.append(float(overall[h]))
    return {"per_head": first, "best_head": matched[0] if len(refs) == 1 else matched,
            "reference_heads": refs, "best": np.mean(curves, axis=0), "steps": np.mean(steps, axis=0),
            "mean": float(np.mean(means))}


def correlation(x, y) -> dict:
    """Pearson r, its two-sided p-value and 95% interval (``scipy.stats.pearsonr``; the
    interval by Fisher's z).

    **Arguments:**

    - `x`, `y`: two series of one length.

    **Returns:**

    ``{"r", "p", "ci95": [low, high], "n"}``; NaN where undefined (n < 4 or a constant
    series).
    """
    from scipy.stats import pearsonr

    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    if n < 4 or np.std(x) == 0 or np.std(y) == 0:
        return {"r": float("nan"), "p": float("nan"), "ci95": [float("nan"), float("nan")], "n": n}
    res = pearsonr(x, y)
    ci = res.confidence_interval(0.95)
    return {"r": float(res.statistic), "p": float(res.pvalue), "ci95": [float(ci.low), float(ci.high)], "n": n}

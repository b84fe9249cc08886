"""Faithfulness metrics (paper section 4.3, eqs. 24-25) and their figures.

- φ_external (eq. 24): per hint step, the fraction of a model's trace predictions within a
  margin of the ground truth, by probe type (the paper's margins: scalars 0.5, masks 0.1
  on the predicted probability, pointers 1e-6 on the predicted node id), on a normalised
  time axis so traces of different lengths average together.
- φ_internal (eq. 25): per step, the mean |α̂ - α*| between a model's attention and the
  compiled model's on the same graphs fed the same (ground-truth) trace, over the graph's
  real edges (and self pairs; every pair under full attention). With several heads:
  each working head of the compiled model against its closest learned head.

Two references α*: the general mechanism's (``reference="general"``: a node keeps its
state through ReLU gates and attends to some neighbour) and the paper's
(``reference="paper"``: a node with nothing to update attends to itself, compiled at the
evaluation graphs' size). They differ on every kept node, so φ_internal depends on it.
"""

import json
from pathlib import Path

import jax
import numpy as np

from ..nn import postprocess
from ..data import EVAL_SPLITS, evaluation_batch
from ..nn import predict
from ..nn import Model
from ..probes import Type, live_steps

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


def _column_mean(curves: np.ndarray) -> np.ndarray:
    """Mean over seeds per time bin, NaN (silently) where no seed has a value."""
    count = np.sum(np.isfinite(curves), 0)
    return np.where(count > 0, np.nansum(curves, 0) / np.maximum(count, 1), np.nan)


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


#: What faithfulness can be scored on: dm-clrs' CLRS-30 splits (at their own graph size
#: or ``length``), or ``sampler``: fresh test-distribution graphs (p = 0.5, ids i/n).
SPLITS = EVAL_SPLITS


def eval_graphs(algo: str, split: str = "test", *, length: int | None = None, samples: int = 32, seed: int = 0):
    """The graphs faithfulness is scored on (``eqgat.data.evaluation_batch``).

    **Arguments:**

    - `algo`: the algorithm.
    - `split`: a CLRS-30 split (``"train"``, ``"val"``, ``"test"``) or ``"sampler"``
      (fresh test-distribution graphs: p = 0.5, ids i/n).
    - `length`: the graph size (default: the split's own; ``sampler``: 16).
    - `samples`, `seed`: the ``sampler`` graphs' count and seed (not used by a CLRS-30
      split).

    **Returns:**

    A ``Batch``.
    """
    if split == "sampler":
        return evaluation_batch(algo, split, length=length or None, samples=samples, seed=seed)
    return evaluation_batch(algo, split, length=length)


#: The compiled references φ_internal can be measured against.
REFERENCES = ("general", "paper")


def reference_model(algo: str, reference: str, nb_nodes: int) -> Model:
    """The compiled model whose attention is α*.

    **Arguments:**

    - `algo`: a registered algorithm with a program.
    - `reference`: ``"general"`` (state kept by ReLU gates) or ``"paper"`` (self-default
      through B = k·I; graph programs only).
    - `nb_nodes`: the graphs' size (the paper's B is n × n; the depth-first backend's
      ``max_nodes`` is at least this).

    **Returns:**

    The compiled ``Model``.
    """
    from ..algorithms import get_algorithm
    from ..compiler import DEFAULT_MAX_NODES, compile_program, compiled_algorithms
    from ..lang import DepthFirst

    if reference not in REFERENCES:
        raise ValueError(f"unknown reference {reference!r}; use one of {', '.join(REFERENCES)}")
    program = get_algorithm(algo).program
    if program is None:
        raise ValueError(f"no compiled {algo!r}; compiled algorithms: {', '.join(compiled_algorithms())}")
    if isinstance(program, DepthFirst):
        if reference == "paper":
            raise ValueError(f"{algo} has one compiled reference (full attention, the depth-first backend); "
                             "use reference='general'")
        return compile_program(program, max_nodes=max(DEFAULT_MAX_NODES, nb_nodes))
    if reference == "paper":
        return compile_program(program, mechanism="paper", nodes=nb_nodes)
    return compile_program(program)


def run(checkpoints: str | Path, algo: str, out: str | Path, *, split: str = "test", length: int | None = None,
        samples: int = 32, seed: int = 0, bins: int = 16, reference: str = "general") -> dict:
    """Score every ``seed*.eqx`` of a training run against the compiled model and write
    the results and figures (``python -m eqgat faithfulness``).

    **Arguments:**

    - `checkpoints`: a folder of ``seed*.eqx`` (a ``train`` run; ``seed*.json`` beside
      them give the test scores the correlations use).
    - `algo`: their algorithm.
    - `out`: the folder for ``faithfulness.json``, ``attention-best-vs-compiled.npz`` and
      the figures (``trace-accuracy.png``, ``attention-distance.png``,
      ``attention-heatmaps.png``, ``faithfulness-vs-accuracy.png``).
    - `split`, `length`, `samples`, `seed`: the graphs (``eval_graphs``).
    - `bins`: bins of normalised time.
    - `reference`: ``"general"`` or ``"paper"`` (``reference_model``).

    **Returns:**

    The summary written to ``faithfulness.json``: per seed its test score, φ_external
    and φ_internal curves and means, the compiled model's φ_external, and the
    correlations with the test score (with at least one scored seed).
    """
    from ..nn import load

    checkpoints, out = Path(checkpoints), Path(out)
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    paths = sorted(checkpoints.glob("seed*.eqx"), key=lambda p: int(p.stem[4:]) if p.stem[4:].isdigit() else 0)
    if not paths:
        raise ValueError(f"no seed*.eqx checkpoints in {checkpoints}")
    if reference not in REFERENCES:
        raise ValueError(f"unknown reference {reference!r}; use one of {', '.join(REFERENCES)}")
    batch = eval_graphs(algo, split, length=length, samples=samples, seed=seed)
    compiled = reference_model(algo, reference, batch.nb_nodes)
    rows = []
    for path in paths:
        model = load(path)
        if model.algorithm != algo:
            raise ValueError(f"{path} is a {model.algorithm} model, not {algo}")
        rec_path = path.with_suffix(".json")
        test = json.loads(rec_path.read_text()).get("test_score") if rec_path.exists() else None
        ext = external(model, batch, bins=bins)
        inn = internal(model, compiled, batch, bins=bins)
        rows.append({"checkpoint": str(path), "test_score": test,
                     "external": {k: v.tolist() for k, v in ext.items()},
                     "external_steps": {k: v.tolist() for k, v in external(model, batch, per_step=True).items()},
                     "internal_steps": inn["steps"].tolist(),
                     "external_mean": float(np.nanmean(np.concatenate(list(ext.values())))),
                     "internal": inn["best"].tolist(), "internal_mean": inn["mean"], "best_head": inn["best_head"]})
    ext_c = external(compiled, batch, bins=bins)
    graphs = {"split": split, "nb_nodes": batch.nb_nodes, "graphs": batch.batch_size}
    if split == "sampler":
        graphs.update(seed=seed, p=0.5)
    summary = {"algorithm": algo, "eval": graphs, "bins": bins, "reference": reference,
               "compiled_external": {k: v.tolist() for k, v in ext_c.items()}, "seeds": rows}
    scored = [r for r in rows if r["test_score"] is not None]
    if scored:
        t = [r["test_score"] for r in scored]
        summary["corr_internal_vs_test"] = correlation([r["internal_mean"] for r in scored], t)
        summary["corr_external_vs_test"] = correlation([r["external_mean"] for r in scored], t)
    out.mkdir(parents=True, exist_ok=True)
    (out / "faithfulness.json").write_text(json.dumps(summary, indent=2))
    best = min(rows, key=lambda r: r["internal_mean"])
    g = 0
    refs = reference_heads(compiled)
    learned_heads = best["best_head"] if isinstance(best["best_head"], list) else [best["best_head"]]
    a_best = attention(load(best["checkpoint"]), batch[g])[0][:, learned_heads]  # [T-1, heads, n, n]
    a_comp = attention(compiled, batch[g])[0][:, refs]
    np.savez(out / "attention-best-vs-compiled.npz", learned=a_best, compiled=a_comp, length=np.asarray(batch.length[g]))
    figures(summary, out, a_best, a_comp, int(batch.length[g]))
    return summary


def figures(summary: dict, out: Path, a_best=None, a_comp=None, length=None) -> list[Path]:
    """Draw the faithfulness figures of ``summary`` in ``out``: trace accuracy, attention
    distance, attention heatmaps (with ``a_best``/``a_comp``) and, when seeds were
    scored, faithfulness against accuracy. Returns the paths written."""
    import matplotlib.pyplot as plt  # figures are only saved: any backend (Agg when headless)

    x = (np.arange(summary["bins"]) + 0.5) / summary["bins"]
    drawn = [_trace_figure(plt, summary, x, out), _distance_figure(plt, summary, x, out)]
    if a_best is not None:
        drawn.append(_heatmap_figure(plt, a_best, a_comp, length, out))
    drawn.append(_correlation_figure(plt, summary, out))
    return [path for path in drawn if path is not None]


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def _trace_figure(plt, summary: dict, x: np.ndarray, out: Path) -> Path:
    """φ_external per hint probe, over normalised time and over steps."""
    rows = summary["seeds"]
    probes = list(rows[0]["external"])
    fig, axes = plt.subplots(2, len(probes), figsize=(5 * len(probes), 7.2), squeeze=False)
    for col, name in enumerate(probes):
        for row, (key, label) in enumerate((("external", "normalised time"), ("external_steps", "step t"))):
            ax = axes[row, col]
            curves = _ragged([r.get(key, {}).get(name, []) for r in rows])
            xs = x if key == "external" else np.arange(curves.shape[1])
            for c in curves:
                ax.plot(xs, c, color="C0", alpha=0.25, lw=1)
            ax.plot(xs, _column_mean(curves), color="C0", lw=2, label="learned (mean)")
            if key == "external":
                ax.plot(x, summary["compiled_external"][name], "k--", lw=1.5, label="compiled")
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlabel(label)
            ax.set_ylabel("φ_external")
            ax.set_title(f"{summary['algorithm']} {name} ({_graphs_text(summary)})", fontsize=9)
            ax.legend(fontsize=7)
    return _save(plt, fig, out / "trace-accuracy.png")


def _distance_figure(plt, summary: dict, x: np.ndarray, out: Path) -> Path:
    """φ_internal over normalised time and over steps."""
    rows = summary["seeds"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, key, xs, label in ((axes[0], "internal", x, "normalised time"),
                               (axes[1], "internal_steps", None, "step t")):
        curves = _ragged([r.get(key, []) for r in rows])
        xs = np.arange(curves.shape[1]) if xs is None else xs
        for c in curves:
            ax.plot(xs, c, color="C1", alpha=0.25, lw=1)
        ax.plot(xs, _column_mean(curves), color="C1", lw=2, label="learned (mean)")
        ax.axhline(0, color="k", ls="--", lw=1, label="compiled (ideal)")
        ax.set_xlabel(label)
        ax.set_ylabel("φ_internal = mean |α̂ - α*|")
        ax.legend(fontsize=7)
    fig.suptitle(f"{summary['algorithm']}: attention distance to the compiled model ({_graphs_text(summary)})")
    return _save(plt, fig, out / "attention-distance.png")


def _heatmap_figure(plt, a_best: np.ndarray, a_comp: np.ndarray, length: int, out: Path) -> Path:
    """The best-matching seed's attention beside the compiled model's, step by step."""
    if a_best.ndim == 3:  # results saved before heads were matched: one head
        a_best, a_comp = a_best[:, None], a_comp[:, None]
    steps = max(1, min(length - 1, a_best.shape[0], 6))
    heads = a_comp.shape[1]
    fig, axes = plt.subplots(2 * heads, steps, figsize=(2.6 * steps, 2.7 * 2 * heads), squeeze=False)
    for t in range(steps):
        for k in range(heads):
            for r, (a, name) in enumerate(((a_comp, "compiled"), (a_best, "best learned"))):
                ax = axes[2 * k + r, t]
                ax.imshow(a[t, k], vmin=0, vmax=1, cmap="magma")
                ax.set_title(f"{name}{f' head {k}' if heads > 1 else ''}, step {t}", fontsize=8)
                ax.set_xticks([])
                ax.set_yticks([])
    fig.suptitle("attention α (rows: receiver, columns: sender), best-matching seed vs compiled"
                 + (" (each compiled head with its closest learned head)" if heads > 1 else ""))
    return _save(plt, fig, out / "attention-heatmaps.png")


def _correlation_figure(plt, summary: dict, out: Path) -> Path | None:
    """Each seed's faithfulness against its test accuracy (None when no seed was scored)."""
    scored = [r for r in summary["seeds"] if r["test_score"] is not None]
    if not scored:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    t = [100 * r["test_score"] for r in scored]
    for ax, key, corr, label in ((axes[0], "external_mean", summary["corr_external_vs_test"], "φ_external (mean)"),
                                 (axes[1], "internal_mean", summary["corr_internal_vs_test"], "φ_internal (mean)")):
        ax.scatter([r[key] for r in scored], t)
        ax.xaxis.set_major_locator(plt.MaxNLocator(4))
        ax.set_xlabel(label)
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(f"r = {corr['r']:.2f}, 95% CI [{corr['ci95'][0]:.2f}, {corr['ci95'][1]:.2f}], n = {corr['n']}",
                     fontsize=9)
    fig.suptitle(f"{summary['algorithm']}: faithfulness vs accuracy across seeds")
    return _save(plt, fig, out / "faithfulness-vs-accuracy.png")


def _ragged(curves: list) -> np.ndarray:
    """Curves of different lengths as one NaN-padded array (at least one column)."""
    width = max([len(c) for c in curves] + [1])
    return np.array([list(c) + [np.nan] * (width - len(c)) for c in curves], dtype=float)


def _graphs_text(summary: dict) -> str:
    e = summary.get("eval", {})
    return f"{e.get('split', 'sampler')} graphs, n = {e.get('nb_nodes')}"


def replot(out: Path) -> list[Path]:
    """Redraw the figures from ``out``'s saved ``faithfulness.json`` and attention ``.npz``."""
    path = out / "faithfulness.json"
    if not path.exists():
        raise ValueError(f"{path} does not exist: run the faithfulness command first")
    summary = json.loads(path.read_text())
    att = np.load(out / "attention-best-vs-compiled.npz")
    return figures(summary, out, att["learned"], att["compiled"], int(att["length"]))

"""The faithfulness figures (trace accuracy, attention distance, heatmaps, faithfulness
against accuracy), drawn from a run's records."""

import json
from pathlib import Path

import numpy as np


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


def _column_mean(curves: np.ndarray) -> np.ndarray:
    """Mean over seeds per time bin, NaN (silently) where no seed has a value."""
    count = np.sum(np.isfinite(curves), 0)
    return np.where(count > 0, np.nansum(curves, 0) / np.maximum(count, 1), np.nan)


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

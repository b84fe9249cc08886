"""Plots of saved surfaces (never re-evaluated): contours with labelled levels, filled
contours on log-scaled levels, 3-D surfaces, 1-D curves, trajectories and side-by-side
comparisons (the paper's figures 15-16)."""

from pathlib import Path

import matplotlib.pyplot as plt  # figures are only saved: any backend (Agg when headless)
import numpy as np
from matplotlib import colors, ticker

from ._format import load_surface

MARKERS = {"origin": "*", "compiled": "*", "learned": "o", "init": "s"}


def _values(data, metric):
    key = f"value_{metric}"
    if key not in data:
        raise ValueError(f"surface has no metric {metric!r} (has {[k[6:] for k in data if k.startswith('value_')]})")
    return np.asarray(data[key], dtype=np.float64)


def _log_levels(Z, n=20):
    """Log-spaced levels: one per decade when the values span 4 decades or more (compiled
    minima sit many decades below their surroundings), else ``n`` geometric steps."""
    Zf = Z[np.isfinite(Z)]
    lo = max(float(Zf.min()) if Zf.size else 1e-6, 1e-8)
    hi = max(float(Zf.max()) if Zf.size else 1.0, lo * 1.001)
    d_lo, d_hi = np.floor(np.log10(lo)), np.ceil(np.log10(hi))
    if d_hi - d_lo >= 4:
        return 10.0 ** np.arange(d_lo, d_hi + 1)
    return np.geomspace(lo, hi, n)


def contour(ax, data, metric="loss", *, filled=False, title=None, marks=None):
    a, b, Z = data["a"], data["b"], _values(data, metric)
    A, B = np.meshgrid(a, b, indexing="ij")
    if len(a) < 2 or len(b) < 2:
        ax.text(0.5, 0.5, "grid too small to contour", ha="center", transform=ax.transAxes)
        return
    if filled:
        Zc = np.clip(Z, 1e-8, None)
        levels = _log_levels(Zc)
        cs = ax.contourf(A, B, Zc, levels=levels, norm=colors.LogNorm(), cmap="viridis")
        if levels[-1] >= 10 * levels[0]:
            cb = plt.colorbar(cs, ax=ax, ticks=ticker.LogLocator(numticks=12), format=ticker.LogFormatterSciNotation())
        else:  # less than a decade: label a few of the levels themselves
            cb = plt.colorbar(cs, ax=ax, ticks=levels[:: max(1, len(levels) // 5)], format="%.4g")
        cb.set_label(metric)
    elif metric == "loss":  # labelled levels of log10(loss): losses span many decades
        L = np.log10(np.clip(Z, 1e-8, None))
        cs = ax.contour(A, B, L, levels=12, cmap="viridis")
        ax.clabel(cs, inline=True, fontsize=6, fmt=lambda v: f"1e{v:.1f}")
    else:
        cs = ax.contour(A, B, Z, levels=12, cmap="viridis")
        ax.clabel(cs, inline=True, fontsize=6, fmt="%.3g")
    bad = int(np.sum(~np.isfinite(Z)))
    if bad:  # overflowed points (inf or NaN) are left blank on a grey background
        ax.set_facecolor("0.82")
        title = f"{title or metric} (grey: {bad} non-finite points)"
    for name, (x, y) in (marks or {}).items():
        ax.plot(x, y, MARKERS.get(name, "^"), ms=9, mec="k", label=name)
    if marks:
        ax.legend(fontsize=7, loc="upper right")
    ax.set_xlabel("δ")
    ax.set_ylabel("η")
    ax.set_title(title or metric, fontsize=9)


def surface3d(fig, pos, data, metric="loss", title=None):
    ax = fig.add_subplot(*pos, projection="3d")
    a, b, Z = data["a"], data["b"], _values(data, metric)
    A, B = np.meshgrid(a, b, indexing="ij")
    Zl = np.log10(np.clip(Z, 1e-8, None)) if metric == "loss" else Z
    ax.plot_surface(A, B, np.where(np.isfinite(Zl), Zl, np.nan), cmap="viridis", linewidth=0, antialiased=True)
    ax.set_xlabel("δ")
    ax.set_ylabel("η")
    ax.set_zlabel("log10 loss" if metric == "loss" else metric)
    ax.set_title(title or metric, fontsize=9)
    return ax


def marks_of(data, meta):
    """The models to mark: those whose (a, b) the surface stores, else its centre."""
    names = meta.get("coord_names") or []
    marks = {n: tuple(np.asarray(data[f"coord_{n}"])) for n in names if f"coord_{n}" in data}
    return marks or {"origin": (0.0, 0.0)}


def plot_surface(path, out, metric="loss", *, trajectory=None) -> Path:
    """One saved surface: contour, log-filled contour and 3-D view side by side."""
    data, meta = load_surface(path)
    fig = plt.figure(figsize=(15, 4.5))
    marks = marks_of(data, meta)
    ax = fig.add_subplot(1, 3, 1)
    contour(ax, data, metric, title=f"{metric} (labelled levels{', log10' if metric == 'loss' else ''})", marks=marks)
    if trajectory is not None:
        ax.plot(trajectory[:, 0], trajectory[:, 1], "r.-", lw=1, ms=3, label="trajectory")
    contour(fig.add_subplot(1, 3, 2), data, metric if metric == "loss" else metric, filled=metric == "loss",
            title=f"{metric} (log-scaled levels)" if metric == "loss" else metric, marks=marks)
    surface3d(fig, (1, 3, 3), data, metric, title="3-D")
    fig.suptitle(_title(meta))
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return out


def _title(meta) -> str:
    return (f"{meta.get('algorithm', '?')} {meta.get('model', '')}: {meta.get('metric_hint', '')}"
            f" directions seed {meta.get('directions_seed')}, {meta.get('normalization')}, "
            f"span [{', '.join(f'{x:.3g}' for x in meta.get('span', []))}]")


def plot_curve(ts, values: dict, out, *, title="") -> Path:
    fig, axes = plt.subplots(1, len(values), figsize=(5 * len(values), 3.5))
    for ax, (k, v) in zip(np.atleast_1d(axes), values.items()):
        ax.plot(ts, v, ".-")
        if k == "loss":
            ax.set_yscale("log")
        ax.set_xlabel("t (0 = first model, 1 = second)")
        ax.set_ylabel(k)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return Path(out)


def plot_compare(paths: dict, out, metric="loss") -> Path:
    """Columns: models (e.g. compiled, learned); rows: the surfaces given for each
    (e.g. general and local views)."""
    cols = list(paths)
    rows = max(len(v) for v in paths.values())
    fig, axes = plt.subplots(rows, len(cols), figsize=(6 * len(cols), 4.8 * rows), squeeze=False)
    for c, name in enumerate(cols):
        for r, p in enumerate(paths[name]):
            data, meta = load_surface(p)
            contour(axes[r, c], data, metric, filled=True, title=f"{name}: {meta.get('span_name', meta.get('span'))}",
                    marks=marks_of(data, meta))
    fig.suptitle(f"{metric} around each model (filter-normalised random directions)")
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return Path(out)

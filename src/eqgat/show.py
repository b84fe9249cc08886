"""``python -m eqgat show``: the compiled weights as labelled heatmaps (paper figs. 6-9).

Rows and columns are named by the compiler's layout (hidden components, node features,
edge features); at hidden size 128 only the named slots are drawn (the rest are zero).
"""

from pathlib import Path

import matplotlib.pyplot as plt  # figures are only saved: any backend (Agg when headless)
import numpy as np

from ._checkpoint import load, read_meta
from .compiler import Layout, compile_stages
from .programs import PROGRAMS


def _heat(ax, W, rows, cols, title):
    W = np.asarray(W, dtype=np.float64)
    lim = max(float(np.abs(W).max()), 1e-12)
    ax.imshow(np.sign(W) * np.log10(1 + np.abs(W)), cmap="RdBu_r", vmin=-np.log10(1 + lim), vmax=np.log10(1 + lim))
    ax.set_title(title, fontsize=9)
    ax.set_yticks(range(len(rows)), rows, fontsize=6)
    ax.set_xticks(range(len(cols)), cols, fontsize=6, rotation=90)
    for (r, c), v in np.ndenumerate(W):
        if v != 0:
            ax.text(c, r, f"{v:.3g}", ha="center", va="center", fontsize=5)


def compiled_checkpoint(path: str | Path):
    """The model saved at ``path`` by ``compile`` and the layout stored with it."""
    info = read_meta(path)["info"]
    if "layout" not in info:
        raise ValueError(f"{path} has no compiler layout in its JSON: only checkpoints written by "
                         "`python -m eqgat compile` can be drawn with named slots")
    return load(path), Layout.from_dict(info["layout"])


def draw(algorithm: str | None, hidden_size: int | None, out: str | Path, *,
         checkpoint: str | Path | None = None, max_nodes: int | None = None,
         scale: int | float | None = None, mechanism: str = "general", nodes: int | None = None) -> list[Path]:
    """Write ``out`` (main processor parameters) and ``out`` with ``-aux`` (encoders and
    decoders) for ``algorithm``'s program compiled at ``hidden_size`` (default: its minimal
    size), or for the compiled ``checkpoint`` (its weights and stored layout). Returns both
    paths. ``max_nodes``, ``scale``, ``mechanism`` and ``nodes`` are ``compile``'s."""
    if checkpoint is not None:
        model, lay = compiled_checkpoint(checkpoint)
        algorithm = model.algorithm
    else:
        stages = compile_stages(PROGRAMS[algorithm], hidden_size, max_nodes=max_nodes, scale=scale,
                                mechanism=mechanism, nodes=nodes)
        model, lay = stages.build(), stages.layout
    s = hidden_size = lay.hidden_size
    nV, nE, nH = len(lay.V), max(len(lay.E), 1), len(lay.H)
    Vn = [f"V:{n}" for n in lay.V]
    Hn = [f"H:{n}" for n in lay.H]
    C_idx = list(range(nV)) + [s + k for k in range(nH)]
    C_names = Vn + Hn
    proc = model.processor
    nz = len(lay.Z)
    zn = [f"ζ:{k}" for k in lay.Z]
    En = [f"E:{n}" for n in lay.E] or ["E:-"]
    panels = [
        (proc.W_val.weight[:nH][:, C_idx], Hn, C_names, "W_val (values ν)"),
        (proc.W_skip.weight[:nH][:, C_idx], Hn, C_names, "W_skip"),
        (proc.W_out.weight[:nz][:, C_idx], zn, C_names, "W_out (sender j)"),
        (proc.W_in.weight[:nz][:, C_idx], zn, C_names, "W_in (receiver i)"),
        (proc.W_edge.weight[:nz, :nE], zn, En, "W_edge"),
        (proc.omega[:, :nz], ["ω"], zn, "ω (attention head)"),
    ]
    if proc.W_info is not None:
        panels.append((proc.W_info.weight[:nH, :nE], Hn, En, "W_info (edge info)"))
    bias = np.stack([np.asarray(getattr(proc, f).bias[: max(nH, nz)]) for f in ("W_val", "W_skip", "W_out", "W_in")])
    panels.append((bias, ["b_val", "b_skip", "b_out", "b_in"], [str(k) for k in range(bias.shape[1])], "biases"))
    fig, axes = plt.subplots(2, (len(panels) + 1) // 2, figsize=(4 * ((len(panels) + 1) // 2), 8))
    for ax, (W, r, c, t) in zip(axes.flat, panels):
        _heat(ax, W, r, c, t)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(f"compiled {algorithm}, hidden size {hidden_size}: main parameters (log-scaled colour)")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150)
    plt.close(fig)

    aux = []
    for name, enc in model.encoders.items():
        w = np.asarray(enc.W.weight)
        if np.any(w):
            rows = [f"{'E' if enc.probe.location == 'edge' else 'V'}:{n}" for n in (lay.E if enc.probe.location == "edge" else lay.V)]
            aux.append((w[: len(rows)], rows, [name], f"encoder {name}"))
    h_cols = Vn + [f"H:{n}" for n in lay.H] + [f"H':{n}" for n in lay.H]
    h_idx = list(range(nV)) + [s + k for k in range(nH)] + [2 * s + k for k in range(nH)]
    for name, dec in model.decoders.items():
        if hasattr(dec, "W1"):
            aux.append((np.asarray(dec.W1.weight)[:3][:, h_idx], ["p1_0", "p1_1", "p1_2"], h_cols, f"{name} W1 (receiver)"))
            aux.append((np.asarray(dec.W2.weight)[:3][:, h_idx], ["p2_0", "p2_1", "p2_2"], h_cols, f"{name} W2 (sender)"))
            aux.append((np.asarray(dec.W3.weight)[:, :3], ["W3"], ["m0", "m1", "m2"], f"{name} W3 (eq. 31)"))
        else:
            aux.append((np.asarray(dec.W.weight)[:, h_idx], [name], h_cols, f"decoder {name}"))
    cols = 3
    fig, axes = plt.subplots((len(aux) + cols - 1) // cols, cols, figsize=(5 * cols, 2.2 * ((len(aux) + cols - 1) // cols)))
    for ax, (W, r, c, t) in zip(np.atleast_1d(axes).flat, aux):
        _heat(ax, W, r, c, t)
    for ax in list(np.atleast_1d(axes).flat)[len(aux):]:
        ax.axis("off")
    fig.suptitle(f"compiled {algorithm}, hidden size {hidden_size}: encoders and decoders")
    fig.tight_layout()
    aux_path = out.with_name(out.stem + "-aux" + out.suffix)
    fig.savefig(aux_path, dpi=150)
    plt.close(fig)
    return [out, aux_path]

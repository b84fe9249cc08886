"""``python -m eqgat show``: the compiled weights as labelled heatmaps (paper figs. 6-9).

Rows and columns are named by the compiler's layout (hidden components, node features,
edge features); at hidden size 128 only the named slots are drawn (the rest are zero).
"""

from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt  # figures are only saved: any backend (Agg when headless)
import numpy as np

from ..nn import load, read_meta
from ..nn import Model
from ..algorithms import get_algorithm
from ..compiler import CompileOptions, Layout, compile_artifact


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


def compiled_checkpoint(path: str | Path) -> tuple[Model, Layout]:
    """The model saved at ``path`` by ``compile`` and the layout of named directions
    stored with it (every backend stores one)."""
    info = read_meta(path)["info"]
    if "layout" not in info:
        raise ValueError(f"{path} has no compiler layout in its JSON: only checkpoints written by "
                         "`python -m eqgat compile` can be drawn with named slots (recompile an older one)")
    return load(path), Layout.from_dict(info["layout"])


def draw(algorithm: str | None, hidden_size: int | None, out: str | Path, *,
         checkpoint: str | Path | None = None, options: CompileOptions | None = None) -> list[Path]:
    """Write ``out`` (main processor parameters) and ``out`` with ``-aux`` (encoders and
    decoders) for the registered ``algorithm``'s program compiled at ``hidden_size``
    (default: its minimal size) with ``options``, or for the compiled ``checkpoint`` (its
    weights and stored layout). Returns both paths. Rows and columns are named by the
    layout (``Layout.named``): with several heads (a ``DepthFirst`` program's full
    attention), each head's block of slots and attention features."""
    if checkpoint is not None:
        model, lay = compiled_checkpoint(checkpoint)
        algorithm = model.algorithm
    else:
        alg = get_algorithm(algorithm)
        if alg.program is None:
            raise ValueError(f"{algorithm!r} has no program to compile and draw (Algorithm.program)")
        artifact = compile_artifact(alg.program, hidden_size, options)
        model, lay = artifact.model, artifact.layout
    names = SimpleNamespace(**lay.named())
    s = model.hidden_size
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _figure(_processor_panels(model, lay, names), out, 2, None,
            f"compiled {algorithm}, hidden size {s}: main parameters (log-scaled colour)")
    aux_path = out.with_name(out.stem + "-aux" + out.suffix)
    _figure(_probe_panels(model, names), aux_path, None, 3,
            f"compiled {algorithm}, hidden size {s}: encoders and decoders")
    return [out, aux_path]


def _figure(panels: list, path: Path, nrows: int | None, ncols: int | None, title: str) -> None:
    """``panels`` (W, row labels, column labels, title) as heatmaps in ``nrows`` rows (or
    ``ncols`` columns), saved at ``path``."""
    if nrows is not None:
        ncols = (len(panels) + 1) // 2
        fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 8))
    else:
        nrows = (len(panels) + ncols - 1) // ncols
        fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 2.2 * nrows))
    flat = list(np.atleast_1d(axes).flat)
    for ax, (W, r, c, t) in zip(flat, panels):
        _heat(ax, W, r, c, t)
    for ax in flat[len(panels):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def _processor_panels(model: Model, lay: Layout, names: SimpleNamespace) -> list:
    """The processor's matrices, ω and biases at the layout's named rows and columns."""
    s = model.hidden_size
    V_i = [i for _, i in names.V]
    H_i = [i for _, i in names.H]
    Z_i = [i for _, i in names.Z]
    E_i = [i for _, i in names.E] or [0]
    Hn = [f"H:{n}" for n, _ in names.H]
    C_idx = V_i + [s + k for k in H_i]
    C_names = [f"V:{n}" for n, _ in names.V] + Hn
    proc = model.processor
    zn = [f"ζ:{k}" for k, _ in names.Z]
    En = [f"E:{n}" for n, _ in names.E] or ["E:-"]
    omega = np.asarray(proc.omega)
    heads = sorted({h for _, h, _ in names.omega})
    om = np.zeros((len(heads), len(names.omega)))
    for col, (_, h, k) in enumerate(names.omega):
        om[heads.index(h), col] = omega[h, k]
    rows = lambda W: np.asarray(W)[H_i]  # noqa: E731
    zrows = lambda W: np.asarray(W)[Z_i]  # noqa: E731
    panels = [
        (rows(proc.W_val.weight)[:, C_idx], Hn, C_names, "W_val (values ν)"),
        (rows(proc.W_skip.weight)[:, C_idx], Hn, C_names, "W_skip"),
        (zrows(proc.W_out.weight)[:, C_idx], zn, C_names, "W_out (sender j)"),
        (zrows(proc.W_in.weight)[:, C_idx], zn, C_names, "W_in (receiver i)"),
        (zrows(proc.W_edge.weight)[:, E_i], zn, En, "W_edge"),
        (om, [f"ω head {h}" + (f" ({lay.heads[h]})" if lay.heads else "") for h in heads], zn,
         "ω (attention heads)"),
    ]
    if proc.W_info is not None:
        panels.append((rows(proc.W_info.weight)[:, E_i], Hn, En, "W_info (edge info)"))
    bias = np.stack([np.asarray(proc.W_val.bias)[H_i], np.asarray(proc.W_skip.bias)[H_i]])
    panels.append((bias, ["b_val", "b_skip"], Hn, "biases of the slots"))
    zbias = np.stack([np.asarray(proc.W_out.bias)[Z_i], np.asarray(proc.W_in.bias)[Z_i]])
    panels.append((zbias, ["b_out", "b_in"], zn, "biases of ζ"))
    return panels


def _probe_panels(model: Model, names: SimpleNamespace) -> list:
    """The encoders that write something, and every decoder, at the named directions."""
    s = model.hidden_size
    aux = []
    for name, enc in model.encoders.items():
        w = np.asarray(enc.W.weight)
        if np.any(w):
            where = names.E if enc.probe.location == "edge" else names.V
            cols = [name] if w.shape[1] == 1 else [f"{name}[{k}]" for k in range(w.shape[1])]  # a categorical's classes
            aux.append((w[[i for _, i in where]], [f"{'E' if enc.probe.location == 'edge' else 'V'}:{n}"
                                                   for n, _ in where], cols, f"encoder {name}"))
    h_cols = [f"V:{n}" for n, _ in names.V] + [f"H:{n}" for n, _ in names.H] + [f"H':{n}" for n, _ in names.H]
    H_i = [i for _, i in names.H]
    h_idx = [i for _, i in names.V] + [s + k for k in H_i] + [2 * s + k for k in H_i]
    for name, dec in model.decoders.items():
        if hasattr(dec, "W1"):
            aux.append((np.asarray(dec.W1.weight)[:3][:, h_idx], ["p1_0", "p1_1", "p1_2"], h_cols, f"{name} W1 (receiver)"))
            aux.append((np.asarray(dec.W2.weight)[:3][:, h_idx], ["p2_0", "p2_1", "p2_2"], h_cols, f"{name} W2 (sender)"))
            aux.append((np.asarray(dec.W3.weight)[:, :3], ["W3"], ["m0", "m1", "m2"], f"{name} W3 (eq. 31)"))
        else:
            W = dec.W_n if hasattr(dec, "W_n") else dec.W  # a graph decoder reads max_i h_i through W_n
            w = np.asarray(W.weight)[:, h_idx]
            rows = [name] if len(w) == 1 else [f"{name}[{k}]" for k in range(len(w))]
            aux.append((w, rows, h_cols, f"decoder {name}"))
    return aux

"""The compiled BFS minimum at two scales of its constants, for the README: ``compile
--scale 1`` and ``--scale 10`` (and the default constants), max |θ|, exactness, and the loss
and score surfaces around each on the same random filter-normalised directions (seed 0),
in the paper's general (±1) view and a fine (±0.01) one, and along the first direction
at radii 1e-6 .. 1: the radius out to which the model stays exact. Results in
``docs/scale/``.

    python docs/scale.py [--grid 41]
"""

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import matplotlib  # noqa: E402
import numpy as np  # noqa: E402

import eqgat  # noqa: E402
from eqgat import programs  # noqa: E402
from eqgat.compiler import compile_stages  # noqa: E402
from eqgat.workflows.landscapes import landscape_batch, metrics_on, surface_around  # noqa: E402
from landscape import along, random_direction  # noqa: E402
from eqgat import verify_algorithm as verify  # noqa: E402

OUT = Path(__file__).parent / "scale"
SCALES = {"scale 1": 1, "scale 10": 10, "default": None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grid", type=int, default=41)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    rows, grids = [], {}
    for name, S in SCALES.items():
        stages = compile_stages(programs.bfs, scale=S)
        model = stages.build()
        c = stages.constants
        leaves = jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))
        report = verify("bfs", None, (16, 64), samples=32, seed=0, scale=S)
        row = {"model": name, "scale": S, "L": c.L, "c": c.C_pointer, "G": c.G_flag, "resolution": c.resolution,
               "max_abs_theta": max(float(np.max(np.abs(np.asarray(x)))) for x in leaves),
               "norm_theta": float(np.sqrt(sum(float(np.sum(np.asarray(x, np.float64) ** 2)) for x in leaves))),
               "exact": report.exact, "min_logit_gap": report.margins.min_logit_gap}
        eqgat.save(OUT / f"bfs-{name.replace(' ', '')}.eqx", model, source="compiled", program="bfs", scale=S)
        for span in ("general", "fine"):
            lo, hi = (-1.0, 1.0) if span == "general" else (-0.01, 0.01)
            g = surface_around(model, f"compiled ({name})", "bfs", grid=(args.grid, args.grid), span=(span, (lo, hi)),
                               out=OUT / f"bfs-{name.replace(' ', '')}-{span}.npz", force=True, progress=False)
            grids[name, span] = (g, (lo, hi))
            mid = args.grid // 2
            row[f"{span}_loss_at_centre"] = float(g["loss"][mid, mid])
            row[f"{span}_loss_median"] = float(np.median(g["loss"]))
            row[f"{span}_score_100_fraction"] = float(np.mean(g["score"] >= 1.0 - 1e-9))
        # along d1 (the surface's first direction, key 0 split in two as surface_around does)
        d1 = random_direction(model, jax.random.split(jax.random.key(0))[0], bias="zero")
        metrics = eqx.filter_jit(metrics_on(landscape_batch("bfs")))
        radii = np.logspace(-6, 0, 25)
        line = []
        for r in radii:
            both = [metrics(along(model, [d1], [sgn * float(r)])) for sgn in (1, -1)]
            line.append({"radius": float(r), "loss": max(float(m["loss"]) for m in both),
                         "score": min(float(m["score"]) for m in both)})
        exact_upto = [p["radius"] for p in line if p["score"] >= 1 - 1e-9]
        row["exact_radius"] = max((r for r in exact_upto if all(q["score"] >= 1 - 1e-9 for q in line
                                                                if q["radius"] <= r)), default=0.0)
        row["line"] = line
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "line"}))
    (OUT / "scale.json").write_text(json.dumps({"grid": args.grid, "directions_seed": 0, "rows": rows}, indent=2))

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(SCALES)
    fig, axes = plt.subplots(2, 2 * len(names), figsize=(5.2 * len(names) * 2 / 2, 8.5))
    for i, name in enumerate(names):
        for j, span in enumerate(("general", "fine")):
            g, (lo, hi) = grids[name, span]
            for k, metric in enumerate(("loss", "score")):
                ax = axes[k, 2 * i + j]
                v = np.log10(np.maximum(g["loss"], 1e-12)) if metric == "loss" else 100 * g["score"]
                im = ax.imshow(v.T, origin="lower", extent=[lo, hi, lo, hi], cmap="viridis",
                               vmin=None if metric == "loss" else 0, vmax=None if metric == "loss" else 100)
                ax.set_title(f"{name}, {span}\n{'log10 loss' if metric == 'loss' else 'score %'}", fontsize=9)
                fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle("Compiled BFS (hidden 4) around its minimum at two constant scales and the default: same "
                 "filter-normalised directions (seed 0)", fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT / "bfs-scales.png", dpi=110)
    print(f"wrote {OUT / 'bfs-scales.png'}")


if __name__ == "__main__":
    main()

"""The two compiled mechanisms side by side, for the README: α* of the general mechanism
and of the paper's (self-default through B = k·I) on one graph, step by step, for BFS and
Bellman-Ford; how far apart the two α* are per step on the BFS sampler graphs (32 graphs
of 16 nodes, p = 0.5, ids i/n); and max |θ| per mechanism and scale. Results in
``docs/mechanisms/``.

    python docs/mechanisms.py
"""

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import matplotlib  # noqa: E402
import numpy as np  # noqa: E402

from eqgat import programs  # noqa: E402
from eqgat.compiler import compile_stages  # noqa: E402
from eqgat.data import graph_arrays, sample_graphs, to_batch  # noqa: E402
from eqgat.workflows.faithfulness import attention, internal  # noqa: E402

OUT = Path(__file__).parent / "mechanisms"
N = 8


def _graph(algo: str) -> np.ndarray:
    """A small connected graph with a branch, a cycle and (Bellman-Ford) unequal weights."""
    edges = [(0, 1, 0.3), (0, 2, 0.9), (1, 3, 0.2), (2, 3, 0.4), (3, 4, 0.5), (4, 5, 0.1), (2, 6, 0.6), (6, 7, 0.2),
             (5, 7, 0.3)]
    A = np.zeros((N, N))
    for i, j, w in edges:
        A[i, j] = A[j, i] = w if algo == "bellman_ford" else 1.0
    return A


def _max_theta(model) -> float:
    return max(float(np.max(np.abs(np.asarray(x)))) for x in jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array)))


def main():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    OUT.mkdir(exist_ok=True)
    results = {"graph_nodes": N, "max_abs_theta": [], "alpha_distance_bfs_sampler": None}
    for algo in ("bfs", "bellman_ford"):
        models = {m: compile_stages(programs.PROGRAMS[algo], mechanism=m, nodes=N if m == "paper" else None).build()
                  for m in ("general", "paper")}
        batch = to_batch(algo, graph_arrays(algo, _graph(algo), source=0), np.float32)
        T = int(batch.length[0]) - 1
        alphas = {m: attention(model, batch)[0, :T, 0] for m, model in models.items()}
        fig, axes = plt.subplots(2, T, figsize=(2.3 * T, 5), squeeze=False)
        for r, m in enumerate(("general", "paper")):
            for t in range(T):
                ax = axes[r, t]
                ax.imshow(alphas[m][t], cmap="Greys", vmin=0, vmax=1)
                ax.set_xticks(range(N))
                ax.set_yticks(range(N))
                ax.tick_params(labelsize=6)
                ax.set_title(f"{m}, step {t}", fontsize=8)
                if t == 0:
                    ax.set_ylabel("receiver i", fontsize=8)
                ax.set_xlabel("sender j", fontsize=8)
        fig.suptitle(f"{algo}: α* of the general mechanism (top) and the paper's (bottom), source 0, "
                     f"edges {[(i, j) for i in range(N) for j in range(i + 1, N) if _graph(algo)[i, j]]}", fontsize=8)
        fig.tight_layout()
        fig.savefig(OUT / f"alpha-{algo}.png", dpi=110)
        plt.close(fig)
        np.savez(OUT / f"alpha-{algo}.npz", general=alphas["general"], paper=alphas["paper"], A=_graph(algo))
        for mech in ("general", "paper"):
            for scale in (None, 1, 10):
                if mech == "paper" and scale is None:
                    continue  # the paper's mechanism uses the smallest constants (scale 1) by default
                for n in ((16, 64) if mech == "paper" else (128,)):
                    st = compile_stages(programs.PROGRAMS[algo], mechanism=mech, scale=scale,
                                        nodes=n if mech == "paper" else None, max_nodes=None if mech == "paper" else n)
                    results["max_abs_theta"].append(
                        {"algorithm": algo, "mechanism": mech, "scale": scale, "nodes": n if mech == "paper" else 128,
                         "L": st.constants.L, "c": st.constants.C_pointer, "max_abs_theta": _max_theta(st.build())})
    # how far apart the two α* are, per step, on the BFS sampler graphs
    batch = sample_graphs("bfs", 16, 32, seed=0)
    general = compile_stages(programs.bfs).build()
    paper = compile_stages(programs.bfs, mechanism="paper", nodes=16).build()
    d = internal(general, paper, batch)
    results["alpha_distance_bfs_sampler"] = {"mean": d["mean"], "per_step": d["steps"].tolist(),
                                             "graphs": "32 x 16 nodes, p = 0.5, ids i/n, seed 0"}
    (OUT / "mechanisms.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

"""The stability map: where the compiled minimum survives retraining (table 12 explained).

    PYTHONPATH=src python docs/stability/map.py [--steps 1000] [--runs 4] [--out out/stability-map]
                                                [--docs docs/stability] [--big]

For BFS and Bellman-Ford, under the general and the paper mechanism (n = 16), at the
compiled constants' scales S ∈ {1, 4, 16, 64} and the default, at the program's minimal
hidden size: ``--runs`` runs retrained from the compiled start with table 4's optimiser
(``eqgat.workflows.stability``), reporting the test accuracy after retraining (CLRS-30's
n = 64 test split; the paper mechanism's n = 16 graphs), φ_internal against the compiled
model along training, and max |θ| before and after. ``--big`` adds two points at hidden 128
(the paper's size). Then a data-order study: one compiled start (Bellman-Ford, general,
default scale), ``2 × --runs`` data orders, and their spread.

Every sweep resumes (``stability.run``), so the map can be built over several sessions;
``map.json`` (every number and setting), ``map.md`` (the table) and ``map.png`` go to
``--docs``.
"""

import argparse
import json
import time
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

import eqgat
from eqgat.workflows.stability import StabilityConfig, run
from eqgat.workflows.training import TrainConfig

ALGOS = {"bfs": "BFS", "bellman_ford": "Bellman-Ford"}
SCALES = (1, 4, 16, 64, None)  # None: the default constants
PAPER = {"bfs": (82.04, 15.55), "bellman_ford": (80.77, 14.83)}  # table 12, mean ± std in %
NODES = 16  # the paper mechanism's graph size (tables 8 and 9 train and test at 16)


def _max_abs(path: Path) -> float:
    leaves = jax.tree.leaves(eqx.filter(eqgat.load(path), eqx.is_inexact_array))
    return max(float(np.abs(np.asarray(x)).max()) for x in leaves)


def _point(algo: str, mechanism: str, scale, steps: int, runs: int, hidden: int | None, out: Path) -> dict:
    """One sweep of the map (resumed if already run) and its numbers."""
    name = f"{algo}-{mechanism}-S{scale or 'default'}" + (f"-h{hidden}" if hidden else "")
    cfg = StabilityConfig(TrainConfig(algo, steps=steps), runs=runs, scale=scale, hidden_size=hidden,
                          mechanism=mechanism, nodes=NODES if mechanism == "paper" else None,
                          every=max(1, steps // 5))
    t0 = time.time()
    s = run(cfg, out / name, parallel=runs, progress=False)
    saved = json.loads((out / name / "stability.json").read_text())
    runs_ = saved["runs"]
    trained = sorted((out / name / "groups").glob("*/seed*.eqx"))
    curves = np.array([[p["phi_internal"] for p in r["phi_internal"]] for r in runs_])  # [runs, points]
    return {"name": name, "algorithm": algo, "mechanism": mechanism, "scale": scale, "hidden": hidden,
            "steps": steps, "runs": len(runs_), "test_mean": s["test_mean"], "test_std": s["test_std"],
            "test_max": s["test_max"], "test_scores": [100 * r["test_score"] for r in runs_],
            "phi_steps": [p["step"] for p in runs_[0]["phi_internal"]],
            "phi_internal_mean": curves.mean(0).tolist(), "phi_internal_final": float(curves[:, -1].mean()),
            "max_abs_start": _max_abs(out / name / "compiled.eqx"),
            "max_abs_end": max(_max_abs(p) for p in trained) if trained else None,
            "relative_distance_mean": s["relative_distance_mean"], "test_split": saved["test_split"],
            "seconds": time.time() - t0}


def _within(p: dict) -> bool:
    mean, std = PAPER[p["algorithm"]]
    return abs(p["test_mean"] - mean) <= std


def _phi(x: float) -> str:
    """φ_internal as printed: below 1e-6 it is float32 rounding of the attention, not a
    distance (α is float32; its rounding is ~1e-7)."""
    return "< 1e-6" if x < 1e-6 else f"{x:.2g}"


def _table(points: list[dict]) -> list[str]:
    lines = ["| algorithm | mechanism | scale S | hidden | runs | test % (mean ± std) | φ_internal start → end | "
             "max abs θ start → end | within the paper's mean ± std |",
             "|---|---|---|---|---|---|---|---|---|"]
    for p in points:
        lines.append(
            f"| {ALGOS[p['algorithm']]} | {p['mechanism']} | {p['scale'] or 'default'} | {p['hidden'] or 'minimal'} | "
            f"{p['runs']} | {p['test_mean']:.2f} ± {p['test_std']:.2f} | {_phi(p['phi_internal_mean'][0])} → "
            f"{_phi(p['phi_internal_final'])} | {p['max_abs_start']:.4g} → {p['max_abs_end']:.4g} | "
            f"{'yes' if _within(p) else 'no'} |")
    return lines


def _figure(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, algo in zip(axes, ALGOS):
        mean, std = PAPER[algo]
        ax.axhspan(mean - std, mean + std, color="0.85", label="paper: mean ± std")
        for mech, marker in (("general", "o"), ("paper", "s")):
            ps = [p for p in points if p["algorithm"] == algo and p["mechanism"] == mech and not p["hidden"]]
            x = np.arange(len(ps))
            ax.errorbar(x, [p["test_mean"] for p in ps], [p["test_std"] for p in ps], marker=marker, capsize=3,
                        label=f"{mech} mechanism")
            ax.set_xticks(x, [str(p["scale"] or "default") for p in ps])
        ax.set_title(f"{ALGOS[algo]}: compiled → trained", fontsize=10)
        ax.set_xlabel("scale S of the compiled constants")
    axes[0].set_ylabel("test accuracy after retraining (%)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--out", default="out/stability-map")
    ap.add_argument("--docs", default="docs/stability")
    ap.add_argument("--big", action="store_true", help="two points at hidden 128 as well")
    ap.add_argument("--algos", default="bfs,bellman_ford")
    ap.add_argument("--report-only", action="store_true", help="remake map.md and map.png from map.json")
    args = ap.parse_args(argv)
    out, docs = Path(args.out), Path(args.docs)
    if args.report_only:
        saved = json.loads((docs / "map.json").read_text())
        points, order, settings = saved["points"], saved["data_order"], saved["settings"]
        args.steps, args.runs = settings["steps"], settings["runs"]
    else:
        points = []
        for algo in args.algos.split(","):
            for mechanism in ("general", "paper"):
                for scale in SCALES:
                    points.append(_point(algo, mechanism, scale, args.steps, args.runs, None, out))
                    print(_table([points[-1]])[-1], flush=True)
        order = _point("bellman_ford", "general", None, args.steps, 2 * args.runs, None, out / "data-order")
        order["name"] += " (data order)"
        if args.big:
            for algo in ("bfs", "bellman_ford"):
                points.append(_point(algo, "general", None, args.steps, args.runs, 128, out))
        settings = {"steps": args.steps, "runs": args.runs, "optimiser": "table 4 (Adam 1e-4, clip 1, batch 32)",
                    "train_lengths": "4,7,11,13,16 (paper mechanism: 16)", "out": args.out}
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "map.json").write_text(json.dumps({"settings": settings, "points": points, "data_order": order},
                                              indent=2))
    _figure(points, docs / "map.png")
    scores = np.array(order["test_scores"])
    md = [f"Settings: {args.steps} steps per run, {args.runs} runs per point (data orders {0}..{args.runs - 1}), "
          "table 4's optimiser, the program's minimal hidden size unless said.", "", *_table(points), "",
          f"Data-order study (Bellman-Ford, general mechanism, default scale, one compiled start, {order['runs']} "
          f"data orders): test {scores.mean():.2f} ± {scores.std():.2f} %, min {scores.min():.2f}, max "
          f"{scores.max():.2f}; per order: {', '.join(f'{x:.1f}' for x in scores)}.", "",
          "![test accuracy after retraining against the scale](map.png)"]
    (docs / "map.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

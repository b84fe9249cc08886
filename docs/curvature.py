"""Curvature and connectivity of compiled vs learned minima, for the README: for BFS and
Bellman-Ford, a learned model of the compiled architecture (``train``: 500 steps, Adam
1e-3, seed 0), the Hessian at both (top 3 eigenvalues, trace, spectral density) and a
trained one-bend curve from compiled to learned. Results in ``docs/curvature/``.

    python docs/curvature.py [--steps 500] [--curve-steps 1000]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).parent / "curvature"


def sh(*args):
    print("$", " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", *args], check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--curve-steps", type=int, default=1000)
    args = ap.parse_args()
    rows = []
    for algo in ("bfs", "bellman_ford"):
        run = OUT / f"learned-{algo}"
        ckpt = run / "seed0.eqx"
        if not ckpt.exists():
            hidden = {"bfs": "4", "bellman_ford": "6"}[algo]
            flags = ["--use-edge-info"] if algo == "bellman_ford" else []
            sh("eqgat", "train", "--algo", algo, "--steps", str(args.steps), "--lr", "1e-3", "--hidden-size", hidden,
               "--no-ln", *flags, "--val-every", "0", "--out", str(run))
        res = {}
        for name, spec in (("compiled", "compiled"), ("learned", str(ckpt))):
            out = OUT / f"hessian-{algo}-{name}"
            sh("landscape", "hessian", "--algo", algo, "--model", spec, "--density", "--out", str(out))
            res[name] = json.loads((out / "hessian.json").read_text())
        out = OUT / f"connect-{algo}"
        sh("landscape", "connect", "--algo", algo, "--a", "compiled", "--b", str(ckpt), "--steps", str(args.curve_steps),
           "--out", str(out))
        con = json.loads((out / "connect.json").read_text())
        test = json.loads((run / "summary.json").read_text())["test_scores"][0]
        rows.append((algo, res, con, test))
    print("| algorithm | model | loss | top eigenvalues | × |θ|² | trace ± s.e. |")
    print("|---|---|---|---|---|---|")
    for algo, res, con, test in rows:
        for name, r in res.items():
            eig = ", ".join(f"{x:.3g}" for x in r["top_eigenvalues"])
            norm = ", ".join(f"{x:.3g}" for x in r["top_eigenvalues_times_norm_squared"])
            print(f"| {algo} | {name} | {r['loss']:.3g} | {eig} | {norm} | {r['trace']:.3g} ± {r['trace_stderr']:.2g} |")
    print()
    for algo, res, con, test in rows:
        print(f"{algo}: learned test score {100 * test:.2f}%; loss barrier compiled -> learned: straight line "
              f"{con['barrier_line']:.4g}, trained curve {con['barrier_curve']:.4g}")


if __name__ == "__main__":
    main()

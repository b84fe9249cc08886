"""Curvature and connectivity of compiled vs learned minima, for the README: for BFS and
Bellman-Ford, a learned model of the compiled architecture (``train``: 500 steps, Adam
1e-3, seed 0), the Hessian at both (top 3 eigenvalues, trace, spectral density; each with
the rounding estimate of its Hessian-vector products, issue 30) and a trained one-bend
curve from compiled to learned. The compiled models' Hessian is taken three ways: float32
at the default scale (its products are rounding noise), float64 (``--x64``, the same
weights) and float32 at ``--scale 1`` (Bellman-Ford also in float64 there). Results in
``docs/curvature/``; paths relative to the repository root (run it from there).

    python docs/curvature.py [--steps 500] [--curve-steps 1000] [--hessian-only]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

OUT = Path("docs/curvature")
COMPILED = {"compiled": [], "compiled-x64": ["--x64"], "compiled-scale1": ["--scale", "1"]}
SMALL = ["--top-k", "3", "--iters", "30", "--samples", "30", "--density", "--density-iters", "30",
         "--density-runs", "4"]


def sh(*args):
    print("$", " ".join(args), flush=True)
    subprocess.run([sys.executable, "-W", "ignore::UserWarning", "-m", *args], check=True)


def measured(value: float, err: float, ok: bool) -> str:
    return f"{value:.3g} ± {err:.1g}" if ok else f"unresolved (~{err:.1g})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--curve-steps", type=int, default=1000)
    ap.add_argument("--hessian-only", action="store_true", help="skip training and the curves")
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
        runs = {name: ["--model", "compiled", *SMALL, *flags] for name, flags in COMPILED.items()}
        if algo == "bellman_ford":
            runs["compiled-scale1-x64"] = ["--model", "compiled", *SMALL, "--scale", "1", "--x64"]
        runs["learned"] = ["--model", str(ckpt), "--density"]  # 100 Lanczos steps, 100 probes
        res = {}
        for name, flags in runs.items():
            out = OUT / f"hessian-{algo}-{name}"
            sh("landscape", "hessian", "--algo", algo, *flags, "--out", str(out))
            res[name] = json.loads((out / "hessian.json").read_text())
        con = None
        if not args.hessian_only:
            out = OUT / f"connect-{algo}"
            sh("landscape", "connect", "--algo", algo, "--a", "compiled", "--b", str(ckpt), "--steps",
               str(args.curve_steps), "--out", str(out))
            con = json.loads((out / "connect.json").read_text())
        test = json.loads((run / "summary.json").read_text())["test_scores"][0]
        rows.append((algo, res, con, test))
    print("| algorithm | model | precision | loss | top 3 eigenvalues | × |θ|² (first) | trace (± rounding; s.e.) |")
    print("|---|---|---|---|---|---|---|")
    for algo, res, con, test in rows:
        for name, r in res.items():
            eig = ", ".join(measured(x, e, ok) for x, e, ok in zip(r["top_eigenvalues"], r["top_eigenvalues_rounding"],
                                                                  r["top_eigenvalues_resolved"]))
            norm = measured(r["top_eigenvalues_times_norm_squared"][0],
                            r["top_eigenvalues_times_norm_squared_rounding"][0], r["top_eigenvalues_resolved"][0])
            print(f"| {algo} | {r['model']} | {r['precision']} | "
                  f"{measured(r['loss'], r['loss_rounding'], r['loss_resolved'])} | {eig} | {norm} | "
                  f"{measured(r['trace'], r['trace_rounding'], r['trace_resolved'])}; s.e. {r['trace_stderr']:.2g} |")
    print()
    for algo, res, con, test in rows:
        if con is not None:
            print(f"{algo}: learned test score {100 * test:.2f}%; loss barrier compiled -> learned: straight line "
                  f"{con['barrier_line']:.4g}, trained curve {con['barrier_curve']:.4g}")


if __name__ == "__main__":
    main()

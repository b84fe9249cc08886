"""``python -m landscape stability``: retrain from the compiled initialisation with R data
orders and measure whether the compiled minimum survives (paper appendix C.5, table 12).

Runs are trained ``--parallel`` at a time in one vmapped program (seed axis); each group's
results are written as soon as it finishes, so an interrupted sweep resumes where it
stopped. Reported per run: CLRS-30 test accuracy, the distance travelled from the
compiled parameters (absolute and relative to |θ_compiled|), and φ_internal to the
compiled model along training.
"""

import json
from pathlib import Path

import equinox as eqx
import jax
import numpy as np


def _distance(models, compiled):
    """|θ_k - θ_compiled| per stacked run, and relative to |θ_compiled|."""
    pc = jax.tree.leaves(eqx.filter(compiled, eqx.is_inexact_array))
    pm = jax.tree.leaves(eqx.filter(models, eqx.is_inexact_array))
    sq = sum(np.sum((np.asarray(m) - np.asarray(c)[None]) ** 2, axis=tuple(range(1, m.ndim))) for m, c in zip(pm, pc))
    ref = np.sqrt(sum(float(np.sum(np.asarray(c, np.float64) ** 2)) for c in pc))
    d = np.sqrt(sq)
    return d, d / ref


def run(algo: str, runs: int, steps: int, out: Path, *, parallel: int = 4, seed: int = 0, every: int = 0,
        lr: float = 1e-4, progress: bool = True) -> dict:
    import eqgat
    from eqgat import programs
    from eqgat.data import Sampler
    from eqgat.faithfulness import internal
    from eqgat.train import TrainConfig, evaluate_models, train, unstack

    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "compiled.eqx"
    compiled = eqgat.compile_program(programs.PROGRAMS[algo])
    eqgat.save(ckpt, compiled, source="compiled", program=algo)
    probe = Sampler(algo, 16, 16, seed=10_000 + seed, random_pos=False, p=(0.5,)).next()
    every = every or max(1, steps // 5)
    results_path = out / "stability.json"
    done = json.loads(results_path.read_text())["runs"] if results_path.exists() else []
    done_seeds = {r["seed"] for r in done}
    groups = [list(range(seed + g, seed + min(g + parallel, runs))) for g in range(0, runs, parallel)]
    from tqdm.auto import tqdm

    for group in tqdm(groups, desc=f"stability {algo}", disable=not progress, unit="group"):
        if set(group) <= done_seeds:
            continue
        curve = {s: [] for s in group}

        def record(step, models):
            for k, s in enumerate(group):
                curve[s].append({"step": step, "phi_internal": internal(unstack(models, k), compiled, probe)["mean"]})

        record(0, jax.tree.map(lambda x: x[None] if eqx.is_array(x) else x, compiled))  # at the compiled point
        for s in group[1:]:
            curve[s] = list(curve[group[0]])
        cfg = TrainConfig(algo=algo, steps=steps, seed=group[0], seeds=len(group), init=str(ckpt), lr=lr,
                          val_every=0)
        res = train(cfg, test=True, progress=progress, callback=record, callback_every=every)
        dist, rel = _distance(res.models, compiled)
        for k, s in enumerate(group):
            done.append({"seed": s, "test_score": res.test_scores[k], "distance": float(dist[k]),
                         "relative_distance": float(rel[k]), "phi_internal": curve[s]})
        write(results_path, algo, runs, steps, lr, done)
    return summarize(done)


def write(path: Path, algo, runs, steps, lr, done) -> None:
    payload = {"algorithm": algo, "runs": done, "config": {"runs": runs, "steps": steps, "lr": lr,
               "init": "compiled (minimal hidden size)"}, "summary": summarize(done)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(path)


def summarize(done) -> dict:
    t = 100 * np.array([r["test_score"] for r in done])
    d = np.array([r["relative_distance"] for r in done])
    return {"n": len(done), "test_mean": float(t.mean()) if len(t) else None, "test_std": float(t.std()) if len(t) else None,
            "test_max": float(t.max()) if len(t) else None, "relative_distance_mean": float(d.mean()) if len(d) else None}


def add_command(sub) -> None:
    p = sub.add_parser("stability", help="retrain from the compiled initialisation with R data orders")
    p.add_argument("--algo", required=True, choices=["bfs", "bellman_ford"])
    p.add_argument("--runs", type=int, default=4)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--parallel", type=int, default=4, help="runs vmapped in one program")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None)
    p.set_defaults(fn=_cmd)


def _cmd(args) -> int:
    out = Path(args.out or f"out/stability-{args.algo}")
    s = run(args.algo, args.runs, args.steps, out, parallel=args.parallel, seed=args.seed, lr=args.lr)
    print(f"{args.algo}: compiled -> trained {args.steps} steps, {s['n']} runs: test {s['test_mean']:.2f}% ± "
          f"{s['test_std']:.2f}% (max {s['test_max']:.2f}%), mean relative distance travelled {s['relative_distance_mean']:.3g}")
    print(f"results: {out / 'stability.json'}")
    return 0

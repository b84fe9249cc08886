"""The stability runner (``python -m landscape stability``): retrain from the compiled
initialisation with R data orders and measure whether the compiled minimum survives (paper
appendix C.5, table 12). An eqgat workflow; ``landscape`` only hosts its command.

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
    from . import programs
    from ._checkpoint import save
    from .compiler import compile_program
    from .data import Sampler
    from .faithfulness import internal
    from .train import TrainConfig, train, unstack

    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "compiled.eqx"
    compiled = compile_program(programs.PROGRAMS[algo])
    save(ckpt, compiled, source="compiled", program=algo)
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

"""Accuracy check (not a unit test): dm-clrs' BaselineModel(gatv2) and eqgat trained side by
side on BFS at table 4's settings, on identical batches, from identical initial weights
(eqgat's model is converted from dm-clrs' initialisation with ``eqgat.workflows.interop.from_clrs``).
Both are then scored on the CLRS-30 test split (n=64, 32 graphs). The two should agree
within seed-to-seed noise; the spread across seeds says how large that noise is.

    python benchmarks/accuracy.py [--steps 2000] [--seeds 2]

Seed ``s`` initialises dm-clrs' model with ``s`` and seeds the graph stream with ``s``.
"""

import argparse
import time

from _common import LENGTHS, Data, clrs_model  # noqa: I001

import clrs
import equinox as eqx
import jax
import numpy as np
from tqdm.auto import tqdm

from eqgat.workflows import interop
from eqgat.data import CLRS30
from eqgat.data import clrs30_split
from eqgat.workflows.training import TrainConfig, evaluate_models, make_step, optimizer, stack

ALGO = "bfs"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args()
    cfg = TrainConfig(algo=ALGO, steps=args.steps)  # table 4: hidden 128
    opt = optimizer(cfg)
    step = make_step(cfg, opt)
    test = clrs30_split(ALGO, "test")
    split = CLRS30["test"]
    sampler, _ = clrs.build_sampler(ALGO, num_samples=split["num_samples"], length=split["length"], seed=split["seed"])
    test_fb = sampler.next()
    rows = []
    t_start = time.time()
    for seed in range(args.seeds):
        data = Data(ALGO, seed)
        fb, spec, _ = data.next(16)
        ref = clrs_model(fb, spec, seed=seed)
        models = stack([interop.from_clrs(ref)])
        states = eqx.filter_vmap(lambda m: opt.init(eqx.filter(m, eqx.is_inexact_array)))(models)
        key = jax.random.key(seed)
        t_ref = t_ours = 0.0
        for i in tqdm(range(args.steps), desc=f"seed {seed}: dm-clrs and eqgat", unit="step"):
            fb, _, batch = data.next(LENGTHS[i % len(LENGTHS)])
            t = time.perf_counter()
            ref_loss = jax.block_until_ready(ref.feedback(key, fb))  # dispatch is asynchronous
            t_ref += time.perf_counter() - t
            t = time.perf_counter()
            models, states, loss = step(models, states, stack([batch]))
            jax.block_until_ready(loss)
            t_ours += time.perf_counter() - t
        preds, _ = ref.predict(key, test_fb.features)
        ref_score = clrs.evaluate(test_fb.outputs, preds)["score"]
        our_score = float(evaluate_models(models, test)[0])
        rows.append((seed, ref_score, our_score, float(ref_loss), float(loss[0]), t_ref, t_ours))
        print(f"seed {seed}: test score dm-clrs {ref_score:.4f}, eqgat {our_score:.4f}; last loss "
              f"dm-clrs {float(ref_loss):.4f}, eqgat {float(loss[0]):.4f}; training time dm-clrs {t_ref:.0f} s, eqgat {t_ours:.0f} s")
    ref_s, our_s = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    print(f"BFS, {args.steps} steps, {args.seeds} seeds, {time.time() - t_start:.0f} s in all")
    print(f"test score dm-clrs: {100 * ref_s.mean():.2f}% ± {100 * ref_s.std():.2f}%")
    print(f"test score eqgat  : {100 * our_s.mean():.2f}% ± {100 * our_s.std():.2f}%")
    print(f"mean |difference| per seed: {100 * np.abs(ref_s - our_s).mean():.2f} points")


if __name__ == "__main__":
    main()

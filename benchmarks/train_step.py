"""dm-clrs' BaselineModel(gatv2) and eqgat trained on identical batches in one process
(table 4 settings: hidden 128, 1 head, Adam 1e-4, clip 1.0, encoded_decoded hints, soft
re-prediction, layer norm, xavier_on_scalars).

Prints ms per training step at n=16, batch 32 for each and their ratio; how many times
each compiled over a multi-length run (lengths 4, 7, 11, 13, 16 cycled); and eqgat's
samples per second with 1 seed and with 8 seeds trained at once. The last line is
``speedup vs dm-clrs: <eqgat throughput / dm-clrs throughput>x``. eqgat's step also
reports its matmul GFLOP/s (FLOPs counted from its jaxpr over the steps it executes,
``_flops.py``) beside a jitted 1024x1024 matmul measured in the same process.

    python benchmarks/train_step.py [--steps 20] [--multi-steps 200]
"""

import argparse
import time

from _common import LENGTHS, Data, clrs_model  # noqa: I001
from _flops import device_name, flops, matmul_gflops

import equinox as eqx
import jax
import numpy as np

from eqgat import batch_steps
from eqgat.workflows.training import TrainConfig, init_model, make_step, optimizer, stack

ALGO = "bfs"


class Compiles:
    """Counts XLA backend compiles, attributed to whoever is running (``compiles("x")`` before a call)."""

    def __init__(self):
        self.now, self.counts = None, {}
        jax.monitoring.register_event_duration_secs_listener(self._event)

    def _event(self, event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration" and self.now:
            self.counts[self.now] = self.counts.get(self.now, 0) + 1

    def __call__(self, who):
        self.now = who
        return self


def timed(fn):
    t = time.perf_counter()
    out = fn()
    jax.block_until_ready(out)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20, help="timed steps at n=16")
    ap.add_argument("--multi-steps", type=int, default=200, help="steps of the multi-length run")
    args = ap.parse_args()
    data = Data(ALGO, 0)
    fb, spec, _ = data.next(16)
    ref = clrs_model(fb, spec)
    cfg = TrainConfig(algo=ALGO, seeds=1)  # table 4: hidden 128
    step = make_step(cfg, opt := optimizer(cfg))

    def eqgat_state(seeds):
        models = stack([init_model(cfg, s) for s in range(seeds)])
        return models, eqx.filter_vmap(lambda m: opt.init(eqx.filter(m, eqx.is_inexact_array)))(models)

    models, states = eqgat_state(1)
    key = jax.random.key(0)

    # 1. identical n=16 batches
    t_ref, t_ours, work = [], [], []
    per_steps = {}  # matmul FLOPs of a step, by the message-passing steps it executes
    for i in range(args.steps + 1):
        fb, _, batch = data.next(16)
        t_ref.append(timed(lambda: ref.feedback(key, fb)))
        res = {}
        batches = stack([batch])
        t_ours.append(timed(lambda: res.setdefault("o", step(models, states, batches))))
        k = int(batch_steps(batch.length))
        if k not in per_steps:
            per_steps[k] = flops(step, models, states, batches, executed=lambda length: min(length, k))
        work.append(per_steps[k])
        models, states, _ = res["o"]
    ms_ref, ms_ours = 1000 * np.median(t_ref[1:]), 1000 * np.median(t_ours[1:])
    print(f"device {device_name()}; n=16, batch 32, median of {args.steps} steps after the first:")
    print(f"  dm-clrs BaselineModel(gatv2): {ms_ref:8.1f} ms/step ({32 / ms_ref * 1000:6.1f} graphs/s); first step {t_ref[0]:.1f} s")
    print(f"  eqgat                       : {ms_ours:8.1f} ms/step ({32 / ms_ours * 1000:6.1f} graphs/s); first step {t_ours[0]:.1f} s")
    rate = sum(work[1:]) / sum(t_ours[1:]) / 1e9
    print(f"  eqgat matmul work: {np.mean(work[1:]) / 1e9:.1f} GFLOP/step (the steps it executes, backward and "
          f"recompute included) = {rate:.0f} GFLOP/s; a jitted 1024x1024 matmul here: {matmul_gflops():.0f} GFLOP/s")

    # 2. XLA compiles over a multi-length run, counted from jax's compile events
    compiles = Compiles()
    t_ref, t_ours = [], []
    for i in range(args.multi_steps):
        fb, _, batch = data.next(LENGTHS[i % len(LENGTHS)])
        batches = stack([batch])
        compiles("dm-clrs")
        t_ref.append(timed(lambda: ref.feedback(key, fb)))
        compiles("eqgat")
        res = {}
        t_ours.append(timed(lambda: res.setdefault("o", step(models, states, batches))))
        compiles(None)
        models, states, _ = res["o"]
    print(f"{args.multi_steps}-step run over lengths {LENGTHS}: XLA compiles dm-clrs "
          f"{compiles.counts.get('dm-clrs', 0)} ({sum(t_ref):.0f} s in all), eqgat "
          f"{compiles.counts.get('eqgat', 0)} ({sum(t_ours):.0f} s in all); n=16 was compiled in part 1")

    # 3. eqgat seeds at once
    for seeds in (1, 8):
        models_k, states_k = eqgat_state(seeds)
        batches = [stack([data.next(16)[2] for _ in range(seeds)]) for _ in range(4)]
        res = {}
        timed(lambda: res.setdefault("o", step(models_k, states_k, batches[0])))
        t = []
        for bt in batches[1:]:
            r = {}
            t.append(timed(lambda: r.setdefault("o", step(models_k, states_k, bt))))
        print(f"  eqgat --seeds {seeds}: {np.median(t) * 1000:8.1f} ms/step, {32 * seeds / np.median(t):7.1f} graphs/s")
    print(f"speedup vs dm-clrs: {ms_ref / ms_ours:.2f}x")


if __name__ == "__main__":
    main()

"""The same 51×51 loss surface around the minimal compiled BFS model, two ways, in one
process: landscape's vectorised chunked evaluator, and a Python loop over grid points
that perturbs the parameters and calls a jitted loss per point (what Li et al.'s
loss-landscape tool does per point). Prints both times, the vectorised evaluator's matmul
GFLOP/s beside a jitted 1024x1024 matmul in the same process, and, as the bound on any
vectoriser, the time of one point evaluated alone inside one XLA program (no Python, no
dispatch); the last line is the ratio.

    python benchmarks/landscape_grid.py [--grid 51] [--chunk 16]
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402

import eqgat  # noqa: E402
import landscape  # noqa: E402
from eqgat import programs  # noqa: E402
from eqgat.workflows.landscapes import landscape_batch, metrics_on  # noqa: E402
from landscape._surface import evaluate_surface, grid_axes  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _flops import device_name, flops, matmul_gflops  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grid", type=int, default=51)
    ap.add_argument("--chunk", type=int, default=16)
    args = ap.parse_args()
    model = eqgat.compile_program(programs.bfs, 4)
    batch = landscape_batch("bfs")
    metrics = metrics_on(batch)
    d1 = landscape.random_direction(model, jax.random.key(1))
    d2 = landscape.random_direction(model, jax.random.key(2))
    a, b = grid_axes((-1, 1), (-1, 1), (args.grid, args.grid))

    t0 = time.perf_counter()
    vec = evaluate_surface(model, metrics, d1, d2, a, b, chunk=args.chunk, progress=False)["loss"]
    t_vec = time.perf_counter() - t0

    loss = eqx.filter_jit(lambda m: metrics(m)["loss"])
    params, static = eqx.partition(model, eqx.is_inexact_array)
    t0 = time.perf_counter()
    loop = np.zeros((len(a), len(b)))
    for i, ai in enumerate(a):
        for j, bj in enumerate(b):
            moved = jax.tree.map(lambda x, u, v: x + ai * u + bj * v, params, d1, d2)
            loop[i, j] = float(loss(eqx.combine(moved, static)))
    t_loop = time.perf_counter() - t0

    # one point alone, in one XLA program: lax.map runs the points of a chunk one by one
    from eqgat import batch_steps

    def at(c):
        return metrics(eqx.combine(jax.tree.map(lambda x, u, v: x + c[0] * u + c[1] * v, params, d1, d2), static))

    cs = jax.numpy.asarray(np.stack(np.meshgrid(a[:4], b[:4]), -1).reshape(-1, 2), jax.numpy.float32)
    one_by_one = jax.jit(lambda c: jax.lax.map(at, c))
    jax.block_until_ready(one_by_one(cs))
    t0 = time.perf_counter()
    jax.block_until_ready(one_by_one(cs))
    t_alone = (time.perf_counter() - t0) / len(cs)
    executed = int(batch_steps(batch.length))
    work = flops(jax.vmap(at), cs, executed=lambda length: min(length, executed)) / len(cs)

    both = np.isfinite(vec) & np.isfinite(loop)
    rel = np.abs(vec - loop)[both] / np.maximum(np.abs(loop[both]), 1e-6)
    n = len(a) * len(b)
    print(f"device {device_name()}; grid {len(a)}x{len(b)} = {n} points, minimal compiled BFS, 32 graphs of 16 nodes "
          f"({batch.trace_length} trace steps) per point")
    print(f"vectorised (chunks of {args.chunk}, one compile): {t_vec:.1f} s ({1000 * t_vec / n:.2f} ms/point)")
    print(f"per-point Python loop (jitted loss):            {t_loop:.1f} s ({1000 * t_loop / n:.2f} ms/point)")
    print(f"one point alone in one XLA program (lax.map):  {1000 * t_alone:.2f} ms/point: no vectoriser beats "
          f"the loop by more than {t_loop / n / t_alone:.1f}x unless a point itself gets cheaper")
    print(f"matmul work {work / 1e6:.1f} MFLOP/point: vectorised {work * n / t_vec / 1e9:.1f} GFLOP/s; "
          f"a jitted 1024x1024 matmul here: {matmul_gflops():.0f} GFLOP/s")
    print(f"surfaces: max relative difference {rel.max():.1e} over {both.sum()} finite points "
          f"({(~both).sum()} non-finite in either)")
    k = np.unravel_index(np.argmax(np.where(both, np.abs(vec - loop) / np.maximum(np.abs(loop), 1e-6), -1)), vec.shape)
    print(f"  worst at a={a[k[0]]:.3f}, b={b[k[1]]:.3f}: vectorised {vec[k]:.6g}, loop {loop[k]:.6g}; "
          f"median relative difference {np.median(rel):.1e}")
    print(f"speedup: {t_loop / t_vec:.2f}x")


if __name__ == "__main__":
    main()

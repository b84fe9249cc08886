"""Training batches per second for many seeds: drawn in the training process (``workers=0``,
the peer) and by worker processes (``eqgat.data.batches.SeedBatches``), side by side in one
process, on the same seeds and steps (the batches are identical, draw for draw).

On a GPU the host's samplers bound a training step once seeds are many (measured on an
H200: 15 seeds, 15 workers, 40-45 steps/s at table 4's settings); this isolates that cost.
Prints batches of all seeds per second for each worker count and the ratio to workers=0;
the last line is ``speedup vs in-process drawing: <best ratio>x (<workers> workers)``.

    python benchmarks/data_workers.py [--algo bfs] [--seeds 8] [--steps 40] [--workers 1,2]
"""

import argparse
import os
import time

import jax

from eqgat.data.batches import SeedBatches

LENGTHS = (4, 7, 11, 13, 16)


def rate(algo: str, seeds: int, steps: int, workers: int) -> float:
    """Steps (one batch per seed each) per second, after the first step (sampler warm-up,
    worker start-up) has been drawn."""
    with SeedBatches(algo, list(range(seeds)), LENGTHS, steps + 1, batch_size=32, workers=workers) as data:
        it = iter(data)
        jax.block_until_ready(next(it))
        t = time.perf_counter()
        for batch in it:
            jax.block_until_ready(batch)
        return steps / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--algo", default="bfs")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--workers", default="1,2", help="worker counts to compare with 0")
    args = ap.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    print(f"{args.algo}: {args.seeds} seeds x 32 graphs per step, lengths {LENGTHS}, {os.cpu_count()} CPU cores")
    base = rate(args.algo, args.seeds, args.steps, 0)
    print(f"  workers=0 (in-process, the peer): {base:.2f} steps/s")
    best = (1.0, 0)
    for w in counts:
        r = rate(args.algo, args.seeds, args.steps, w)
        print(f"  workers={w}: {r:.2f} steps/s ({r / base:.2f}x)")
        best = max(best, (r / base, w))
    print(f"speedup vs in-process drawing: {best[0]:.2f}x ({best[1]} workers)")


if __name__ == "__main__":
    main()

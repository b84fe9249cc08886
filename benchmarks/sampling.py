"""On-the-fly sampling speed: eqgat's TensorFlow-free sampler (``eqgat.data.samplers``) and
dm-clrs' ``clrs.build_sampler`` side by side in one process, on the same arguments (the
training distribution's edge probabilities ``TRAIN_P``, seed 0, ``num_samples=-1``) and so on
the same graphs and traces, draw for draw.

Prints, per algorithm and graph size, both samplers' graphs per second at batch 32 (the
fastest run of at least ``--chunk`` seconds in ``--seconds`` of runs each, the two samplers'
runs in turn, after construction and its 1000-graph warm-up, whose time is printed beside)
and their ratio. The last two lines are
``sampling dfs: min speedup vs dm-clrs <x>x`` (DFS at every size) and, last,
``sampling: min speedup vs dm-clrs <x>x`` (the smallest ratio of the BFS and Bellman-Ford rows).

    python benchmarks/sampling.py [--sizes 16,64] [--seconds 1.0] [--chunk 0.05]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import clrs  # noqa: E402

import eqgat  # noqa: E402
from eqgat.data import TRAIN_P  # noqa: E402
from eqgat.data.samplers import NumpySampler  # noqa: E402

ALGOS = ("bfs", "bellman_ford", "dfs")
BATCH = 32


def run(draw, seconds: float) -> float:
    """Graphs per second of ``draw()`` (one batch), over as many batches as take at least
    ``seconds``."""
    batches, t = 0, time.perf_counter()
    while True:
        draw()
        batches += 1
        elapsed = time.perf_counter() - t
        if elapsed >= seconds:
            return batches * BATCH / elapsed


def rates(draws, seconds: float, chunk: float) -> list[float]:
    """The best rate of each of ``draws`` over runs of at least ``chunk`` seconds, the
    samplers' runs taken in turn until each has run ``seconds`` (as ``timeit.repeat``: the
    fastest run is the one other processes on the machine disturbed least)."""
    best, spent = [0.0] * len(draws), [0.0] * len(draws)
    while min(spent) < seconds:
        for i, draw in enumerate(draws):
            t = time.perf_counter()
            best[i] = max(best[i], run(draw, chunk))
            spent[i] += time.perf_counter() - t
    return best


def built(make):
    """``make()`` and the seconds it took."""
    t = time.perf_counter()
    out = make()
    return out, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="16,64", help="graph sizes, comma-separated")
    ap.add_argument("--seconds", type=float, default=1.0, help="seconds each sampler is timed, per row")
    ap.add_argument("--chunk", type=float, default=0.05, help="seconds per timed run (at least one batch)")
    args = ap.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    kw = dict(num_samples=-1, seed=0, p=TRAIN_P)
    print(f"on-the-fly sampling, batch {BATCH}, p = TRAIN_P, {os.cpu_count()} CPU cores; graphs/s: the best run "
          f"of >= {args.chunk} s in {args.seconds} s of each; construction (1000-graph warm-up) in seconds")
    print(f"{'algorithm':<13}{'n':>4}{'eqgat':>11}{'dm-clrs':>11}{'speedup':>9}{'built eqgat':>13}{'dm-clrs':>9}")
    ratios = {}
    for algo in ALGOS:
        for n in sizes:
            ours, t_ours = built(lambda: NumpySampler(algo, length=n, **kw))
            (theirs, _), t_theirs = built(lambda: clrs.build_sampler(algo, length=n, **kw))
            r_ours, r_theirs = rates([lambda: ours.next(BATCH), lambda: theirs.next(BATCH)], args.seconds,
                                     args.chunk)
            ratios[algo, n] = r_ours / r_theirs
            print(f"{algo:<13}{n:>4}{r_ours:>11.0f}{r_theirs:>11.0f}{ratios[algo, n]:>8.2f}x"
                  f"{t_ours:>13.2f}{t_theirs:>9.2f}")
    print(f"sampling dfs: min speedup vs dm-clrs {min(ratios['dfs', n] for n in sizes):.2f}x")
    parallel = [r for (algo, _), r in ratios.items() if not eqgat.get_algorithm(algo).sequential]
    print(f"sampling: min speedup vs dm-clrs {min(parallel):.2f}x")


if __name__ == "__main__":
    main()

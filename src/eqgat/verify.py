"""``python -m eqgat verify``: run a compiled model on dm-clrs graphs and compare every
hint step and the output with dm-clrs' ground truth.

Two graph distributions per length: ``test`` (dm-clrs' test-split sampler settings:
ids i/n, edge probability 0.5) and ``train`` (the training pipeline's edge probabilities
0.1-0.9 and random sorted ids). Pointers and masks must be equal, scalars within 1e-4
relative.
"""

import json
import sys
from dataclasses import dataclass

import jax
import numpy as np

from ._compiler import compile_program
from ._evaluate import matches, predict
from .data import TRAIN_P, Sampler
from .programs import PROGRAMS

DISTRIBUTIONS = {"test": dict(random_pos=False, p=(0.5,)), "train": dict(random_pos=True, p=TRAIN_P)}


@dataclass
class Row:
    length: int
    distribution: str
    probe: str
    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / max(self.total, 1)


def verify(algorithm: str, hidden_size: int, lengths, samples: int, seed: int, *,
           batch_size: int = 16, x64: bool = False, model=None) -> list[Row]:
    """Per (length, distribution, probe): how many hint steps (or outputs) of
    ``samples`` graphs the compiled model gets exactly right."""
    if algorithm not in ("bfs", "bellman_ford"):
        raise ValueError(f"verify compares with dm-clrs, which has bfs and bellman_ford programs; got {algorithm!r}")
    if model is None:
        model = compile_program(PROGRAMS[algorithm], hidden_size, x64=x64)
    if x64:
        model = jax.tree.map(lambda x: x.astype(np.float64) if isinstance(x, jax.Array) else x, model)
    rows = []
    for n in lengths:
        for d_i, (dist, kw) in enumerate(DISTRIBUTIONS.items()):
            sampler = Sampler(algorithm, n, min(batch_size, samples), seed=seed * 1000 + n * 10 + d_i, **kw)
            counts: dict[str, list[int]] = {}
            done = 0
            while done < samples:
                batch = sampler.next()
                if x64:
                    batch = jax.tree.map(lambda x: x.astype(np.float64), batch)
                if samples - done < batch.batch_size:
                    batch = batch[: samples - done]
                ok = matches(model, predict(model, batch), batch)
                live = np.asarray(batch.length)[:, None] > np.arange(batch.trace_length - 1)[None, :] + 1
                for name, m in ok.items():
                    c = counts.setdefault(name, [0, 0])
                    c[0] += int(m.sum())
                    c[1] += int(live.sum()) if m.ndim == 2 else int(m.size)
                done += batch.batch_size
            rows += [Row(n, dist, name, c, t) for name, (c, t) in sorted(counts.items())]
    return rows


def format_table(rows: list[Row]) -> str:
    lines = [f"{'n':>5} {'graphs':<6} {'probe':<8} {'correct':>9} {'total':>7} {'accuracy':>9}"]
    for r in rows:
        lines.append(f"{r.length:>5} {r.distribution:<6} {r.probe:<8} {r.correct:>9} {r.total:>7} {100 * r.accuracy:>8.2f}%")
    return "\n".join(lines)


def main(args) -> int:
    if args.x64:
        jax.config.update("jax_enable_x64", True)
    rows = verify(args.algo, args.hidden_size, args.lengths, args.samples, args.seed, x64=args.x64)
    exact = all(r.correct == r.total for r in rows)
    if args.json:
        json.dump({"algorithm": args.algo, "hidden_size": args.hidden_size, "samples": args.samples,
                   "seed": args.seed, "x64": args.x64, "exact": exact,
                   "rows": [dict(r.__dict__, accuracy=r.accuracy) for r in rows]}, sys.stdout, indent=2)
        print()
    else:
        print(f"verify {args.algo}, hidden size {args.hidden_size}, {args.samples} graphs per length and "
              f"distribution, seed {args.seed}{', float64' if args.x64 else ', float32'}")
        print("(hint rows count hint steps, output rows count graphs; every entry must match)")
        print(format_table(rows))
        print("EXACT: every hint step and output matches dm-clrs" if exact else "NOT EXACT: see the rows below 100%")
    return 0 if exact else 1

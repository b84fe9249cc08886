"""Per-head φ_internal of learned DFS seeds against a compiled DFS, beside an untrained
model of the same architecture and uniform attention: for each working compiled head,
the closest learned head and its mean |α̂ - α*| over live steps and all node pairs
(teacher-forced hints, 32 test-distribution graphs of 16 nodes, seed 0).

    python docs/dfs/heads.py RUN_FOLDER                 # dfs_light: docs/dfs/faithfulness/heads.json
    python docs/dfs/heads.py RUN_FOLDER --algo dfs      # dfs: docs/dfs/faithfulness-dfs/heads.json
    python docs/dfs/heads.py RUN_FOLDER --algo dfs --out docs/dfs/faithfulness-dfs-table5   # elsewhere

RUN_FOLDER holds ``seed*.eqx`` (a ``train`` run). For ``dfs_light`` it was
``docs/dfs/train-full4``'s run (``--nb-heads 4 --full-attention --use-edge-info``, 500
steps); for ``dfs``, table 4's architecture (one head, attention along the edges).
"""
import argparse
import json
from pathlib import Path

import jax
import numpy as np

from eqgat import Model, load
from eqgat.compiler import dfs_layout, trace_layout
from eqgat.workflows.faithfulness import attention, eval_graphs, reference_heads, reference_model

parser = argparse.ArgumentParser()
parser.add_argument("run")
parser.add_argument("--algo", default="dfs_light", choices=["dfs_light", "dfs"])
parser.add_argument("--out", default=None, help="folder of heads.json (default: by --algo, above)")
args = parser.parse_args()
out_dir = Path(args.out or Path("docs/dfs") / ("faithfulness" if args.algo == "dfs_light" else "faithfulness-dfs"))
out_dir.mkdir(parents=True, exist_ok=True)

batch = eval_graphs(args.algo, "sampler", length=16, samples=32, seed=0)
comp = reference_model(args.algo, "general", 16)
layout = dfs_layout if args.algo == "dfs_light" else trace_layout
names = [layout(comp.hidden_size).heads[h] for h in reference_heads(comp)]
seeds = sorted(Path(args.run).glob("seed*.eqx"), key=lambda p: int(p.stem[4:]))
models = {"init(key 0)": Model(load(seeds[0]).config, key=jax.random.key(0))}
models.update({p.stem: load(p) for p in seeds})
a_star = attention(comp, batch)
n = a_star.shape[-1]
live = np.arange(a_star.shape[1])[None] < (np.asarray(batch.length) - 1)[:, None]
out = {}
for name, m in models.items():
    a_hat = attention(m, batch)
    row = []
    for r in reference_heads(comp):
        d = [np.abs(a_hat[:, :, h] - a_star[:, :, r]).mean((-1, -2))[live].mean() for h in range(a_hat.shape[2])]
        row.append((int(np.argmin(d)), round(float(min(d)), 4)))
    out[name] = row
    print(name, row, flush=True)
u = np.full_like(a_star[:, :, 0], 1.0 / n)
out["uniform"] = [round(float(np.abs(u - a_star[:, :, r]).mean((-1, -2))[live].mean()), 4) for r in reference_heads(comp)]
print("uniform", out["uniform"])
with open(out_dir / "heads.json", "w") as f:
    json.dump({"graphs": "sampler, n = 16, 32 graphs, seed 0", "compiled_heads": names, "run": args.run,
               "per_model": "[closest learned head, mean |α̂ - α*|] per compiled head", **out}, f, indent=2)

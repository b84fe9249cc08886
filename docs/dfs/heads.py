"""Per-head φ_internal of the table-13-style dfs_light seeds (docs/dfs/train-full4, trained
with --nb-heads 4 --full-attention --use-edge-info, 500 steps) against the compiled
dfs_light, beside an untrained model and uniform attention: for each working compiled
head, the closest learned head and its mean |α̂ - α*| over live steps and all pairs.

    python docs/dfs/heads.py RUN_FOLDER   # writes docs/dfs/faithfulness/heads.json
"""
import sys
import json

import jax
import numpy as np

from eqgat import Model, load
from eqgat.workflows.faithfulness import attention, eval_graphs, reference_heads, reference_model

RUN = sys.argv[1] if len(sys.argv) > 1 else "runs/dfs_light_full4"
batch = eval_graphs("dfs_light", "sampler", length=16, samples=32, seed=0)
comp = reference_model("dfs_light", "general", 16)
models = {"init(key 0)": Model(load(f"{RUN}/seed0.eqx").config, key=jax.random.key(0))}
for k in range(4):
    models[f"seed{k}"] = load(f"{RUN}/seed{k}.eqx")
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
    # uniform attention as a baseline
    out[name] = row
    print(name, row, flush=True)
u = np.full_like(a_star[:, :, 0], 1.0 / n)
out["uniform"] = [round(float(np.abs(u - a_star[:, :, r]).mean((-1, -2))[live].mean()), 4) for r in reference_heads(comp)]
print("uniform", out["uniform"])
with open("docs/dfs/faithfulness/heads.json", "w") as f:
    json.dump({"graphs": "sampler, n = 16, 32 graphs, seed 0", "compiled_heads": ["scan", "moves", "roots"],
               "per_model": "[closest learned head, mean |α̂ - α*|] per compiled head", **out}, f, indent=2)

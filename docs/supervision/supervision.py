"""The attention-supervision experiment: its table and figure (``docs/supervision/``).

    python docs/supervision/supervision.py --profile cpu [--out out/reproduce/cpu] [--seeds N] [--steps N]

1. ``reproduce supervision`` under the profile (resumable; W = 0 is table 5's run), unless
   ``--steps`` asks for a shorter budget: then the same rows are trained here with that
   step count and the page says so.
2. For every row (algorithm, W), from its seeds' checkpoints: the CLRS-30 test score
   (n = 64), the score on 32 test-distribution graphs of 128 nodes (sampler seed 0), and
   φ_internal / φ_external against the compiled model (``eqgat.workflows.faithfulness`` on
   the CLRS-30 test split).
3. ``supervision.json`` (every number, with the settings), ``supervision.md`` (the table)
   and ``supervision.png`` (score and φ_internal against W) in ``--docs``.
"""

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

import eqgat
from eqgat.workflows import faithfulness
from eqgat.workflows.reproduce import ENTRIES, get_profile, reproduce, train_config
from eqgat.workflows.training import train

ALGOS = {"bfs": "BFS", "bellman_ford": "Bellman-Ford"}


_ONLY: set[str] = set(ALGOS)  # --algos


def _rows():
    """(algorithm, W, experiment) of every row of the ``supervision`` entry (of ``--algos``)."""
    for row in ENTRIES["supervision"].rows:
        exp = row.experiment
        if exp.algo in _ONLY:
            yield exp.algo, float(exp.train.get("attention_supervision", 0.0)), exp


def _train_short(profile, out: Path, steps: int, seeds: int) -> None:
    """Every row's seeds trained for ``steps`` steps into ``out/runs/<key>`` (resumed)."""
    for algo, w, exp in _rows():
        folder = out / "runs" / exp.key
        if (folder / "summary.json").exists():
            continue
        cfg = dataclasses.replace(train_config(exp, profile, seeds=seeds), steps=steps)
        train(cfg, out=folder, resume=True, checkpoint_every=100)


def _row_numbers(algo: str, w: float, folder: Path, out: Path) -> dict:
    """The row's numbers from its checkpoints (mean and std over seeds)."""
    ckpts = sorted(folder.glob("seed*.eqx"), key=lambda p: int(p.stem[4:]))
    test = [json.loads(p.with_suffix(".json").read_text())["test_score"] for p in ckpts]
    big = eqgat.data.evaluation_batch(algo, "sampler", length=128, samples=32, seed=0)
    at128 = [float(eqgat.score(eqgat.load(p), big)) for p in ckpts]
    faith = faithfulness.run(folder, algo, out / "faithfulness" / folder.name, split="test")
    internal = [s["internal_mean"] for s in faith["seeds"]]
    external = [s["external_mean"] for s in faith["seeds"]]
    stat = lambda xs: {"mean": float(np.mean(xs)), "std": float(np.std(xs)), "values": list(map(float, xs))}  # noqa: E731
    return {"algorithm": algo, "W": w, "seeds": len(ckpts), "test_64": stat(100 * np.array(test)),
            "sampler_128": stat(100 * np.array(at128)), "phi_internal": stat(internal),
            "phi_external": stat(external)}


def _table(rows: list[dict]) -> list[str]:
    f = lambda s, k=2: f"{s['mean']:.{k}f} ± {s['std']:.{k}f}"  # noqa: E731
    lines = ["| algorithm | W | seeds | test (n = 64), % | n = 128, % | φ_internal | φ_external |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {ALGOS[r['algorithm']]} | {r['W']:g} | {r['seeds']} | {f(r['test_64'])} | "
                     f"{f(r['sampler_128'])} | {f(r['phi_internal'], 3)} | {f(r['phi_external'], 3)} |")
    return lines


def _figure(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for algo, name in ALGOS.items():
        rs = [r for r in rows if r["algorithm"] == algo]
        x = np.arange(len(rs))
        for ax, key, label in ((axes[0], "test_64", "test score, n = 64 (%)"),
                               (axes[1], "sampler_128", "score, n = 128 (%)"),
                               (axes[2], "phi_internal", "φ_internal (lower: closer to compiled)")):
            ax.errorbar(x, [r[key]["mean"] for r in rs], [r[key]["std"] for r in rs], marker="o", capsize=3,
                        label=name)
            ax.set_xticks(x, [f"{r['W']:g}" for r in rs])
            ax.set_xlabel("attention supervision W")
            ax.set_title(label, fontsize=10)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="cpu", choices=["smoke", "cpu", "paper"])
    ap.add_argument("--out", default=None, help="runs folder (default out/reproduce/<profile>, or "
                                                 "out/supervision-<steps> with --steps)")
    ap.add_argument("--seeds", type=int, default=None, help="the profile's first N seeds per row")
    ap.add_argument("--steps", type=int, default=None, help="a shorter budget than the profile's (said on the page)")
    ap.add_argument("--docs", default="docs/supervision")
    ap.add_argument("--algos", default=",".join(ALGOS), help="the rows of these algorithms only")
    args = ap.parse_args(argv)
    _ONLY.clear()
    _ONLY.update(args.algos.split(","))
    profile = get_profile(args.profile).limited(seeds=args.seeds)
    t0 = time.time()
    if args.steps:
        out = Path(args.out or f"out/supervision-{args.steps}")
        _train_short(profile, out, args.steps, profile.seeds)
        folders = {exp.key: out / "runs" / exp.key for _, _, exp in _rows()}
    else:
        out = Path(args.out or f"out/reproduce/{profile.name}")
        reproduce("supervision", profile, out)
        folders = {exp.key: out / "runs" / exp.key for _, _, exp in _rows()}
    rows = [_row_numbers(algo, w, folders[exp.key], out) for algo, w, exp in _rows()]
    docs = Path(args.docs)
    docs.mkdir(parents=True, exist_ok=True)
    steps = args.steps or train_config(next(_rows())[2], profile).steps
    settings = {"profile": profile.name, "seeds": profile.seeds, "steps": steps, "select": profile.select,
                "short_budget": bool(args.steps), "runs": str(out), "seconds": time.time() - t0}
    (docs / "supervision.json").write_text(json.dumps({"settings": settings, "rows": rows}, indent=2))
    _figure(rows, docs / "supervision.png")
    budget = (f"{steps} steps (shorter than the `{profile.name}` profile's, by `--steps`)" if args.steps
              else f"the `{profile.name}` profile ({steps} steps)")
    md = [f"Settings: {budget}, {profile.seeds} seeds per row, table 4 otherwise; mean ± std over seeds.", "",
          *_table(rows), "", "![score and φ_internal against W](supervision.png)"]
    (docs / "supervision.md").write_text("\n".join(md) + "\n")
    print("\n".join(_table(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

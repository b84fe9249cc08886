"""The `paper` profile of tables 5 and 12 on a lent GPU, inside a fixed time budget.

    PYTHONPATH=src python3 docs/reproduce/paper_gpu.py --budget 500 --seeds 16 --workers 14 --out OUT

The experiments run one after another in the order below (each in its own process, so a
row stopped at the deadline leaves the others intact): a row starts only while the time
left exceeds the longest row so far. Every row keeps the paper's settings (10,000 steps,
hidden 128, batch 32, lengths 4-16, CLRS-30's 64-node test split); only the seed count is
cut (``reproduce --seeds``), and a later run in the same folder adds the missing seeds.
Then ``reproduce --report-only`` writes table5.md / table12.md from what finished.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ORDER = [  # (entry, experiment): what a short budget should answer first
    ("table5", "bellman_ford"),  # cpu profile: -7.9 points, put down to the step budget
    ("table12", "bellman_ford-stability"),  # cpu profile: -49 points
    ("table5", "bfs"),
    ("table12", "bfs-stability"),
    ("table5", "dfs"),  # traces ~3n long: the most expensive row
]


def one(key: str, out: str, seeds: int, parallel: int, workers: int) -> None:
    from eqgat.workflows.reproduce import EXPERIMENTS, get_profile, run_experiment

    profile = get_profile(args.profile).limited(seeds=seeds, parallel=parallel)
    recs = run_experiment(EXPERIMENTS[key], profile, Path(out), workers=workers)
    print(json.dumps({"experiment": key, "scores": [r["test_score"] for r in recs]}), flush=True)


def main() -> int:
    t0 = time.time()
    longest, ran = 0.0, []
    for entry, key in ORDER:
        if args.only and key not in args.only:
            continue
        left = args.budget - (time.time() - t0)
        if left < max(longest, 30.0):
            print(f"[paper_gpu] {key}: not started ({left:.0f} s left, longest row so far {longest:.0f} s)", flush=True)
            continue
        t = time.time()
        cmd = [sys.executable, __file__, "--one", key, "--out", args.out, "--seeds", str(args.seeds),
               "--parallel", str(args.parallel or args.seeds), "--workers", str(args.workers),
               "--profile", args.profile]
        try:
            rc = subprocess.run(cmd, timeout=left).returncode
        except subprocess.TimeoutExpired:
            rc = "stopped at the deadline"
        longest = max(longest, time.time() - t)
        ran.append(entry)
        print(f"[paper_gpu] {key}: {time.time() - t:.0f} s, exit {rc}", flush=True)
    from eqgat.workflows.reproduce import reproduce

    for entry in dict.fromkeys(e for e, _ in ORDER):
        res = reproduce(entry, args.profile, args.out, seeds=args.seeds, report_only=True)
        for r in res["rows"]:
            print(f"[paper_gpu] {entry} {r['label']}: eqgat {r['eqgat_text']}  paper {r['paper_text']}", flush=True)
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=500.0, help="seconds for the training rows")
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--parallel", type=int, default=None, help="default: --seeds (one vmapped group per row)")
    ap.add_argument("--workers", type=int, default=14)
    ap.add_argument("--profile", default="paper", help="'smoke' to try the script")
    ap.add_argument("--out", default="out/reproduce/paper")
    ap.add_argument("--only", nargs="*", default=None, help="these experiments only (keys of ORDER)")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(args.one, args.out, args.seeds, args.parallel, args.workers)
        sys.exit(0)
    sys.exit(main())

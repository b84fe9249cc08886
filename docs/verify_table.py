"""Regenerate the README's verification table: runs ``python -m eqgat verify --json`` for
each compiled model and precision, saves each result in ``docs/verify/``, and prints a
Markdown table (cell: 100% when every hint step and output is exact, else the probes
below 100%).

    python docs/verify_table.py [--samples 64] [--seed 0]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

CONFIGS = [("bfs", 4, False), ("bfs", 128, False), ("bellman_ford", 4, False),
           ("bellman_ford", 128, False), ("bellman_ford", 4, True)]
LENGTHS = (16, 64, 128)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = Path(__file__).parent / "verify"
    out.mkdir(exist_ok=True)
    header = "| model | precision | " + " | ".join(f"n={n} {d}" for n in LENGTHS for d in ("test", "train")) + " |"
    lines = [header, "|" + "---|" * (2 + 2 * len(LENGTHS))]
    for algo, hidden, x64 in CONFIGS:
        cmd = [sys.executable, "-m", "eqgat", "verify", "--algo", algo, "--hidden-size", str(hidden),
               "--lengths", ",".join(map(str, LENGTHS)), "--samples", str(args.samples),
               "--seed", str(args.seed), "--json"] + (["--x64"] if x64 else [])
        res = subprocess.run(cmd, capture_output=True, text=True)
        data = json.loads(res.stdout)
        name = f"{algo}-h{hidden}-{'f64' if x64 else 'f32'}"
        (out / f"{name}.json").write_text(json.dumps(data, indent=2))
        cells = []
        for n in LENGTHS:
            for d in ("test", "train"):
                rows = [r for r in data["rows"] if r["length"] == n and r["distribution"] == d]
                bad = [f"{r['probe']} {r['correct']}/{r['total']}" for r in rows if r["correct"] != r["total"]]
                cells.append("100%" if not bad else ", ".join(bad))
        lines.append(f"| {algo}, hidden {hidden} | {'float64' if x64 else 'float32'} | " + " | ".join(cells) + " |")
        print(name, "exact" if data["exact"] else "not exact", file=sys.stderr)
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Copy a reproduce output folder's results into docs/ (pages, JSON, figures, per-seed
records and settings; not the checkpoints): ``python docs/reproduce/collect.py
out/reproduce/cpu docs/reproduce/cpu``."""

import shutil
import sys
from pathlib import Path

src, dst = Path(sys.argv[1]), Path(sys.argv[2])
for path in src.rglob("*"):
    if path.is_file() and not path.name.endswith((".eqx", ".eqx.json", ".npz", ".tmp")):
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        print(target)

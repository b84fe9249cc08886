#!/usr/bin/env bash
# The device checks of one lent GPU session (15 minutes in all), as one prepared script:
#   bash benchmarks/gpu_session.sh OUT [BUDGET_S]
# 1. benchmarks/train_step.py and benchmarks/landscape_grid.py (each prints its ratio last);
# 2. table 5's BFS row at the `paper` profile with as many of its 128 seeds as the budget
#    allows (docs/reproduce/paper_gpu.py: 15 sampler workers; a row stopped at the
#    deadline leaves its training state on the card, too large to bring back: ~600 MB for
#    128 seeds at hidden 128);
# 3. every output under OUT (the device's $OUT), with `nvidia-smi -L` naming the card.
# Record in docs/ what ran, on which card, the time per row and summary.json's data_wait.
set -uo pipefail
OUT=${1:?usage: gpu_session.sh OUT [BUDGET_S]}
BUDGET=${2:-420}
mkdir -p "$OUT"
export PYTHONPATH=src
{ nvidia-smi -L || true; } > "$OUT/device.txt" 2>&1
python benchmarks/train_step.py > "$OUT/train_step.txt" 2>&1
python benchmarks/landscape_grid.py > "$OUT/landscape_grid.txt" 2>&1
python docs/reproduce/paper_gpu.py --budget "$BUDGET" --seeds 128 --parallel 64 --workers 15 --only bfs \
    --out "$OUT/paper" > "$OUT/paper_bfs.txt" 2>&1
find "$OUT/paper" \( -name '*.eqx' -o -name 'step*-part*.*' \) -delete  # weights stay; the records come back
tail -n 3 "$OUT"/*.txt

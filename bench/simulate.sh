#!/usr/bin/env bash
# Time and peak memory of generating the demo sources (issue 2's benchmark).
#   bench/simulate.sh [SCALE ...]        default: 0.1 1
# Each scale is generated into bench/results/sim-<scale>/ for 2023-01-01..2026-11-28 and
# measured with /usr/bin/time -v; a summary line per scale goes to bench/results/simulate.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
scales=("${@:-0.1 1}")
mkdir -p bench/results
for scale in ${scales[@]}; do
  out="bench/results/sim-${scale}"
  rm -rf "$out"
  log="bench/results/simulate-${scale}.time"
  /usr/bin/time -v .venv/bin/cds simulate --scale "$scale" --end 2026-11-28 --out "$out" \
    > "bench/results/simulate-${scale}.out" 2> "$log"
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  line="scale ${scale}: wall ${wall}, peak RSS $((rss / 1024)) MB, $(du -sh "$out" | cut -f1) on disk"
  echo "$line" | tee -a bench/results/simulate.txt
done

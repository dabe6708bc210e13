#!/usr/bin/env bash
# Conversion benchmark (issue 6): a synthetic BF16 checkpoint shaped like
# DeepSeek-R1-Distill-Qwen-1.5B converted to q8_0, q4_0 and q4_k_m; prints wall time, input
# MB/s and peak RSS (GNU time) per type. usage: bench/convert_bench.sh [WORK_DIR] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-${TMPDIR:-/tmp}/r1-convert-bench}"
threads="${2:-0}"
mkdir -p "$work"
[ -f "$work/hf/model.safetensors" ] ||
  python3 bench/make_synthetic_checkpoint.py "$work/hf" tests/fixtures/models/tiny-r1-qwen2
in_bytes=$(stat -c %s "$work/hf/model.safetensors")
for t in q8_0 q4_0 q4_k_m; do
  /usr/bin/time -v build/bin/r1 convert "$work/hf" -o "$work/out-$t.gguf" --type "$t" --threads "$threads" -q -f \
    2> "$work/time-$t.txt"
  wall=$(grep "Elapsed (wall" "$work/time-$t.txt" | awk '{print $NF}')
  rss=$(grep "Maximum resident" "$work/time-$t.txt" | awk '{print $NF}')
  secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  echo "$t: ${wall} wall, $(awk -v b="$in_bytes" -v s="$secs" 'BEGIN { printf "%.0f", b / 1e6 / s }') MB/s input," \
       "peak RSS $((rss / 1024)) MiB, output $(( $(stat -c %s "$work/out-$t.gguf") / 1000000 )) MB"
  rm -f "$work/out-$t.gguf"
done

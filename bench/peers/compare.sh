#!/usr/bin/env bash
# r1 bench and llama-bench on the same GGUF files, alternating runs (these machines drift by
# 10-30% from minute to minute: alternation puts both under the same drift), best-of-N and
# median per side. Output: one Markdown row per file and test, ready for bench/RESULTS.md.
# Usage: bench/peers/compare.sh R1 LLAMA_BENCH "FILE..." [threads=2] [rounds=3] [extra r1 args...]
#   e.g. bench/peers/compare.sh build/bin/r1 ~/llama.cpp/build-r1-native/bin/llama-bench \
#        "q4_0.gguf q8_0.gguf" 2 3 --isa avx2
set -euo pipefail
r1="${1:?r1 binary}"; lb="${2:?llama-bench binary}"; files="${3:?files}"; t="${4:-2}"; rounds="${5:-3}"
shift $(( $# < 5 ? $# : 5 ))
extra=("$@")
pp="${PP:-512}"; tg="${TG:-128}"; depth="${DEPTH:-0}"
stats() { sort -g | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.2f (best %.2f)", m, v[NR]}'; }
for f in $files; do
  : > /tmp/cmp_r1_pp; : > /tmp/cmp_r1_tg; : > /tmp/cmp_lb_pp; : > /tmp/cmp_lb_tg
  for ((i = 0; i < rounds; i++)); do
    "$r1" bench -m "$f" -t "$t" -p "$pp" -n "$tg" -d "$depth" -r 1 --no-bandwidth --json "${extra[@]}" > /tmp/cmp_r1.json
    node -e 'const j=require("/tmp/cmp_r1.json"); console.log(j.pp_tps); console.error(j.tg_tps)' \
      >> /tmp/cmp_r1_pp 2>> /tmp/cmp_r1_tg
    "$lb" -m "$f" -t "$t" -p "$pp" -n "$tg" -d "$depth" -r 1 -o json > /tmp/cmp_lb.json 2>/dev/null
    node -e 'const j=require("/tmp/cmp_lb.json"); for (const r of j) (r.n_prompt > 0 ? console.log : console.error)(r.avg_ts)' \
      >> /tmp/cmp_lb_pp 2>> /tmp/cmp_lb_tg
  done
  echo "| $(basename "$f") | pp$pp d$depth | r1 $(stats < /tmp/cmp_r1_pp) | llama.cpp $(stats < /tmp/cmp_lb_pp) |"
  echo "| $(basename "$f") | tg$tg d$depth | r1 $(stats < /tmp/cmp_r1_tg) | llama.cpp $(stats < /tmp/cmp_lb_tg) |"
done

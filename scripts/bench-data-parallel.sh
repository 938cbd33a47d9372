#!/usr/bin/env bash
# Data-parallel scaling on this machine: global tokens/s of `jpeglm train` as one process and as 2 MPI ranks,
# the same model and per-rank batch, interleaved over ROUNDS rounds; prints every run and the medians.
# Usage: scripts/bench-data-parallel.sh DATA [JPEGLM] [STEPS] [ROUNDS]
#   DATA: a prepared folder (e.g. from `jpeglm prepare --profile fashion-mnist`); JPEGLM: the jpeglm executable
#   (default: builds Cli into bench-dp/bin). Needs mpirun (Debian: openmpi-bin).
set -euo pipefail
data="$1"
source "$(dirname "$0")/lib/jpeglm-bin.sh"
bench_setup bench-dp "${2:-}"
steps="${3:-40}"
rounds="${4:-3}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
args=(train --data "$data" --model-config small --device cpu --steps "$steps" --batch-tokens 1024 --context 512
      --lr 1e-3 --warmup 10 --val-every 100000 --checkpoint-every 100000)

# One line per run: "<label> <global tokens/s>", plus the ranks' split lines.
run() {
  local label="$1"; shift
  local out="$work/$label.log"
  "$@" > "$out" 2>&1 || { echo "$label failed:"; tail -5 "$out"; exit 1; }
  local tps
  tps=$(grep -o 'throughput: [0-9]* tokens/s' "$out" | grep -o '[0-9]*' | head -1 || true)
  [ -n "$tps" ] || { echo "$label: no 'throughput:' line in its output (a jpeglm without data-parallel training?):"; tail -5 "$out"; exit 1; }
  echo "$label $tps" >> "$work/results"
  echo "$label: $tps tokens/s"
  grep '^  rank' "$out" || true
  rm -rf "$work/run"
}

for ((i = 1; i <= rounds; i++)); do
  run "1-process" "$J" "${args[@]}" --out "$work/run"
  run "1-process-1-thread" env OPENBLAS_NUM_THREADS=1 "$J" "${args[@]}" --out "$work/run"
  run "2-ranks" mpirun --oversubscribe -np 2 -x OPENBLAS_NUM_THREADS=1 "$J" "${args[@]}" --out "$work/run"
done

echo
echo "medians over $rounds rounds ($steps steps, small preset, 1,024 tokens per rank per step; 2 ranks = 2,048 per step):"
for label in 1-process 1-process-1-thread 2-ranks; do
  grep "^$label " "$work/results" | awk '{print $2}' | sort -n | awk -v l="$label" '{a[NR]=$1} END {printf "  %-20s %6d tokens/s\n", l, a[int((NR+1)/2)]}'
done

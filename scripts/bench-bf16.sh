#!/usr/bin/env bash
# bf16 CPU training against float32, the loss side: `jpeglm train` with --device cpu and --device cpu-bf16 on
# the same prepared data, SEEDS seeds each, STEPS steps; compares the mean training loss of the last 50 steps
# (bf16's mean over seeds must lie within two standard deviations of float32's) and prints tokens/s medians.
# The speed side at the issue's shape (8 x 512, batch 4 x 1,024) is `jpeglm bench bf16`.
# Usage: scripts/bench-bf16.sh DATA [JPEGLM] [STEPS] [SEEDS] [MODEL] [BATCH_TOKENS] [CONTEXT]
#   DATA: a prepared folder (e.g. `jpeglm prepare --profile fashion-mnist`); JPEGLM: the jpeglm executable
#   (default: builds Cli into a temporary folder); MODEL: a preset or config.json (default base = 8 x 512).
set -euo pipefail
data="$1"
source "$(dirname "$0")/lib/jpeglm-bin.sh"
bench_setup bench-bf16 "${2:-}"
steps="${3:-500}"
seeds="${4:-3}"
model="${5:-base}"
batch="${6:-1024}"
context="${7:-512}"
echo "bench-bf16 $(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); model $model, $steps steps of $batch tokens (context $context), seeds 1..$seeds"
for ((seed = 1; seed <= seeds; seed++)); do
  for device in cpu cpu-bf16; do
    out="$work/$device-$seed"
    "$J" train --data "$data" --model-config "$model" --device "$device" --steps "$steps" --batch-tokens "$batch" \
      --context "$context" --lr 1e-3 --warmup 20 --val-every 0 --checkpoint-every 100000 --seed "$seed" --out "$out" \
      > "$out.log" 2>&1 || { echo "$device seed $seed failed:"; tail -5 "$out.log"; exit 1; }
    # loss.csv: step,loss,lr,grad_norm,tokens_per_s,... ; the mean loss of the last 50 steps and the median
    # tokens/s after the first ten steps (plain POSIX awk: no asort in Debian's mawk)
    loss=$(awk -F, -v n="$steps" 'NR > 1 && $1 > n - 50 { l += $2; c++ } END { printf "%.5f", l / c }' "$out/loss.csv")
    tps=$(awk -F, 'NR > 11 { print $5 }' "$out/loss.csv" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    echo "$device $seed $loss $tps" | tee -a "$work/results"
    rm -rf "$out"
  done
done
awk '{ n[$1]++; m[$1] += $3; q[$1] += $3 * $3; t[$1] += $4 }
  END {
    for (d in n) { mean[d] = m[d] / n[d]; sd[d] = n[d] > 1 ? sqrt((q[d] - n[d] * mean[d] ^ 2) / (n[d] - 1)) : 0 }
    diff = mean["cpu-bf16"] - mean["cpu"]
    gap = diff < 0 ? -diff : diff
    sds = sd["cpu"] > 0 ? gap / sd["cpu"] : 0
    verdict = gap <= 2 * sd["cpu"] ? "within 2 sd" : "NOT within 2 sd"
    f32 = t["cpu"] / n["cpu"]
    b16 = t["cpu-bf16"] / n["cpu-bf16"]
    printf "float32: last-50 loss %.4f +- %.4f (sd over %d seeds)\n", mean["cpu"], sd["cpu"], n["cpu"]
    printf "bf16:    last-50 loss %.4f +- %.4f; |bf16 - float32| = %.4f = %.2f sd of float32: %s\n", mean["cpu-bf16"], sd["cpu-bf16"], gap, sds, verdict
    printf "tokens/s (mean of the runs medians): float32 %.0f, bf16 %.0f: %.2fx\n", f32, b16, b16 / f32
  }' "$work/results"

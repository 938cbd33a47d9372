#!/usr/bin/env bash
# The Fashion-MNIST sample-quality study of docs/quality.md, end to end on the CPU (about 4 hours on a 2-core VM).
# Usage: scripts/quality-fmnist.sh [WORKDIR]   (needs Debian's dataset-fashion-mnist: /usr/share/datasets/fashion-mnist)
# Every figure of docs/quality.md comes from one of these commands; each run folder keeps its loss.csv and loss.png.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-quality-work}"
mkdir -p "$work" && cd "$work"
dotnet build "$root/Cli" -c Release -o bin >/dev/null
J=./bin/jpeglm
fm=/usr/share/datasets/fashion-mnist

# Data: the 60,000 training images for training, the 10,000 t10k test images as the held-out set (labels kept).
$J prepare --input $fm --output data-q25 --profile fashion-mnist --merges 320
$J prepare --input $fm --output data-px --profile fashion-mnist-pixels

# The main run (60-minute budget): the small preset with jpeg-scan-v1 structure embeddings.
$J train --data data-q25 --model-config small --out q60 --device cpu --steps 4000 --batch-tokens 2048 --context 512 \
  --lr 1e-3 --warmup 60 --val-every 250 --checkpoint-every 500 --structure jpeg-scan-v1

# Ablation at the previous sessions' 22-minute recipe, with and without structure embeddings. (The quoted base22
# was trained on that session's data — a random 2% of the training images held out, prepared by the code of the
# time — and measured with --data on that folder and --reference data-q25; here both use data-q25.)
$J train --data data-q25 --model-config small --out s22 --device cpu --steps 2000 --batch-tokens 2048 --context 512 \
  --lr 1e-3 --warmup 60 --val-every 100 --structure jpeg-scan-v1
$J train --data data-q25 --model-config small --out base22 --device cpu --steps 2000 --batch-tokens 2048 --context 512 \
  --lr 1e-3 --warmup 60 --val-every 100

# The pixel baseline at the main run's training FLOPs (4000 x 2048 x 33.67 MFLOP = 2.758e14; here 2052 x 38.31 MFLOP per step).
$J train --data data-px --model-config small --out px --device cpu --steps 3508 --batch-tokens 2052 --context 1026 \
  --lr 1e-3 --warmup 60 --val-every 250 --checkpoint-every 500

# Longer: 15% more steps than q60 (an ablation row).
$J train --data data-q25 --model-config small --out q60b --device cpu --steps 4600 --batch-tokens 2048 --context 512 \
  --lr 1e-3 --warmup 60 --val-every 250 --checkpoint-every 500 --structure jpeg-scan-v1

# The quality measure, one yardstick (the q25 data's classifier and held-out images) for every row.
for run in q60 q60b s22 base22; do
  $J eval --model $run --data data-q25 --samples 0 --max-docs 500 --quality --temperature 1 --save $run-T1 > $run-T1.txt
done
$J eval --model px --data data-px --reference data-q25 --samples 0 --max-docs 100 --quality --temperature 1 --save px-T1 > px-T1.txt
# The committed completions: q60 at its generation_config.json's completion temperature 0.7 (token healing is always
# on); the committed unconditional samples are q60-T1's (its unconditional temperature). Without --temperature,
# `eval --model q60` with the committed generation_config.json runs both at once.
for run in q60 q60b; do
  $J eval --model $run --data data-q25 --samples 0 --max-docs 500 --quality --temperature 0.7 --save $run-T07 > $run-T07.txt
done
$J eval --model px --data data-px --reference data-q25 --samples 0 --max-docs 100 --quality --quality-samples 0 --temperature 0.7 > px-c-T07.txt
# Completions under other settings (completions only).
for t in 0.5 0.7; do
  $J eval --model q60 --data data-q25 --samples 0 --max-docs 20 --quality --quality-samples 0 --temperature $t > q60-c-T$t.txt
done
$J eval --model q60 --data data-q25 --samples 0 --max-docs 20 --quality --quality-samples 0 --temperature 0.7 --best-of 4 > q60-c-T0.7-b4.txt
for p in "--temperature 0.7 --top-p 0.9" "--temperature 1 --top-p 0.9" "--temperature 0.7 --top-k 20" "--temperature 1 --top-k 10"; do
  $J eval --model q60 --data data-q25 --samples 0 --max-docs 20 --quality --quality-samples 0 $p > "q60-c-${p// /}.txt"
done
# The default completion setting over sampling seeds (the spread of the class-match figure).
for s in 1 2 3 4 5 6; do
  $J eval --model q60 --data data-q25 --samples 0 --max-docs 20 --quality --quality-samples 0 --temperature 0.7 --seed $s > q60-c-T0.7-seed$s.txt
done

# The acceptance run, committed as docs/quality/fmnist/model: q60's recipe with bf16 GEMMs (needs AVX512-BF16 and
# the native kernel that the Engine build compiles with gcc), 2.6x the steps in 54.5 minutes.
$J train --data data-q25 --model-config small --out q60bf --device cpu-bf16 --steps 10500 --batch-tokens 2048 --context 512 \
  --lr 1e-3 --warmup 60 --val-every 500 --checkpoint-every 500 --structure jpeg-scan-v1
$J eval --model q60bf --data data-q25 --samples 0 --max-docs 500 --quality --temperature 1 --save q60bf-T1 > q60bf-T1.txt
$J eval --model q60bf --data data-q25 --samples 0 --quality --quality-samples 0 --temperature 0.7 --save q60bf-c-T07 > q60bf-c-T07.txt
for s in 2 3 4 5 6; do
  $J eval --model q60bf --data data-q25 --samples 0 --quality --quality-samples 0 --temperature 0.7 --seed $s > q60bf-c-T07s$s.txt
done
for p in "--temperature 0.5" "--temperature 0.6" "--temperature 0.7 --top-p 0.9"; do
  for s in 1 2 3; do
    $J eval --model q60bf --data data-q25 --samples 0 --quality --quality-samples 0 $p --seed $s > "q60bf-c-${p// /}-s$s.txt"
  done
done

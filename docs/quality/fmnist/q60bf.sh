#!/usr/bin/env bash
# Issue 12, the q60 recipe with bf16 GEMMs (--device cpu-bf16): about 2x the tokens/s, so ~2.9x q60's tokens in 60 min.
cd /work/runs
echo -15 > /proc/self/autogroup
date -u +"start %F %T" > q60bf.time
/work/runs/bin-q60bf/jpeglm train --data data-q25 --model-config small --out q60bf --steps 10500 --batch-tokens 2048 \
  --context 512 --lr 1e-3 --warmup 60 --val-every 500 --checkpoint-every 500 --structure jpeg-scan-v1 --device cpu-bf16 > q60bf.log 2>&1
date -u +"end %F %T" >> q60bf.time

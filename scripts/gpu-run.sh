#!/usr/bin/env bash
# The one prepared GPU run (replaces gpu-check.sh): everything a scarce GPU session should gather, in one
# command of at most 8 minutes, into one output folder packed as one archive.
#
#   scripts/gpu-run.sh prepare --fashion DIR [--quick]
#       on a build machine: the self-contained jpeglm binary and the Fashion-MNIST token shards (smaller
#       than the IDX files) into .gpu/, then prints the run call. DIR holds Fashion-MNIST's IDX files.
#   scripts/gpu-run.sh run --out DIR [--device cuda|cpu] [--quick] [--train-minutes M] [--samples N]
#       on the GPU machine, from the repository root with .gpu/ carried along: library probe, gpu-check
#       (kernel resources, fp32 and bf16 parity per element, a training step and a sampling run against the
#       CPU, MFU of a 125M model at T=4,096 and a 350M model at T=12,288), compute-sanitizer memcheck and
#       racecheck on the small parity cases where the machine has it, a Fashion-MNIST training run for a
#       fixed number of minutes, N constrained samples and their quality measure (eval --json).
#   scripts/gpu-run.sh --device cpu --quick [--out DIR]
#       the rehearsal (CI runs it): prepare from the 64-image sample in testdata/, then run on the CPU (or on
#       the emulated device when JPEGLM_CUDA_EMULATOR is set), leaving the same files a GPU run leaves.
#
# JPEGLM=command overrides the binary (e.g. "dotnet path/jpeglm.dll"); nothing here names a machine's path.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

mode=rehearse
case "${1:-}" in prepare|run) mode=$1; shift ;; esac
out="" device=cuda quick=0 fashion="" minutes=3 samples=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --fashion) fashion=$2; shift 2 ;;
    --train-minutes) minutes=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    *) echo "gpu-run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

jpeglm() { ${JPEGLM:-"$root/.gpu/jpeglm"} "$@"; }

prepare() {
  local gpu=$1 source=$2
  if [ -z "${JPEGLM:-}" ]; then
    # Trimmed single-file self-contained build: the GPU machines have no .NET. TreatWarningsAsErrors is lifted
    # for the publish only (reflection-based JSON in LlamaConfig; gpu-check never reaches it).
    dotnet publish Cli -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true -p:PublishTrimmed=true \
      -p:InvariantGlobalization=true -p:TreatWarningsAsErrors=false -p:DebugType=none -p:GenerateDocumentationFile=false -o "$gpu" >/dev/null
    rm -f "$gpu"/*.xml "$gpu"/*.pdb
  fi
  mkdir -p "$gpu"
  rm -rf "$gpu/data"
  jpeglm prepare --input "$source" --output "$gpu/data" --profile fashion-mnist --val-fraction 0.02 >"$gpu/prepare.log"
  # A ~85M-parameter Llama (12 x 768, as GPT-2 small); vocab_size is filled in from the data.
  cat >"$gpu/fmnist-85m.json" <<'JSON'
{ "hidden_size": 768, "intermediate_size": 2048, "num_hidden_layers": 12, "num_attention_heads": 12,
  "num_key_value_heads": 12, "max_position_embeddings": 1024, "tie_word_embeddings": false }
JSON
  cat >"$gpu/fmnist-quick.json" <<'JSON'
{ "hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 2,
  "num_key_value_heads": 2, "max_position_embeddings": 256, "tie_word_embeddings": false }
JSON
}

run() {
  local out=$1 gpu=$2
  rm -rf "$out" && mkdir -p "$out"
  local started=$SECONDS status=0
  local summary="$out/summary.txt"
  : >"$summary"
  step() { printf '%-34s %-5s %s\n' "$1" "$2" "$3" | tee -a "$summary"; }

  # 1. What the machine has (the resolver prints its own candidates inside gpu-check too).
  { date -u; uname -a; command -v nvidia-smi >/dev/null && nvidia-smi -L || echo "nvidia-smi: not found"
    ldconfig -p 2>/dev/null | grep -E 'libcuda\.so|cublas|nvrtc' || true
    ls -d /usr/local/cuda*/lib64 2>/dev/null || true; } >"$out/probe.txt" 2>&1

  # 2. gpu-check: every stage in its own process (a fault in one leaves the next running).
  local check_args=(--out "$out/gpu-check")
  [ "$quick" = 1 ] && check_args+=(--quick)
  if jpeglm gpu-check "${check_args[@]}" >"$out/gpu-check.console.txt" 2>&1; then step gpu-check PASS "gpu-check/summary.txt"
  elif [ "$device" = cpu ] && [ -z "${JPEGLM_CUDA_EMULATOR:-}" ]; then
    step gpu-check SKIP "no CUDA device (--device cpu): probe and kernel resource report only"
  else step gpu-check FAIL "see gpu-check/summary.txt"; status=1; fi

  # 2b. NCCL with a one-rank communicator (no MPI): id, init, all-reduce and broadcast on device buffers.
  if [ "$device" = cuda ]; then
    if jpeglm gpu-check --nccl >"$out/nccl.txt" 2>&1; then step "nccl (one rank)" PASS "nccl.txt"
    else step "nccl (one rank)" FAIL "see nccl.txt"; status=1; fi
  else
    echo "nccl: not run (--device cpu)" >"$out/nccl.txt"
    step "nccl (one rank)" SKIP "--device cpu"
  fi

  # 3. compute-sanitizer on the small parity cases, where the machine has it.
  local sanitizer
  sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1 || true)
  if [ -n "$sanitizer" ] && [ "$device" = cuda ]; then
    for tool in memcheck racecheck; do
      if timeout 120 "$sanitizer" --tool "$tool" --error-exitcode 9 ${JPEGLM:-"$gpu/jpeglm"} gpu-check --stage bf16 --parity-seed 1 \
          --parity-case Attention --out "$out/sanitizer-$tool" >"$out/sanitizer-$tool.txt" 2>&1; then step "compute-sanitizer $tool" PASS "bf16 attention + parity cases"
      else step "compute-sanitizer $tool" FAIL "see sanitizer-$tool.txt"; status=1; fi
    done
  else
    echo "compute-sanitizer: not available on this machine (or --device cpu)" >"$out/sanitizer-memcheck.txt"
    cp "$out/sanitizer-memcheck.txt" "$out/sanitizer-racecheck.txt"
    step "compute-sanitizer" SKIP "not available"
  fi

  # 4. A real Fashion-MNIST training run for a fixed time: SIGINT makes train save a checkpoint and stop.
  local config="$gpu/fmnist-85m.json" train=(--steps 100000 --batch-tokens 65536 --context 1024 --lr 6e-4 --warmup 100 --val-every 100 --checkpoint-every 1000)
  if [ "$quick" = 1 ]; then config="$gpu/fmnist-quick.json"; train=(--batch-tokens 1024 --context 256 --steps 3 --warmup 1 --val-every 2); fi
  local train_device=$device
  [ "$device" = cpu ] && [ -n "${JPEGLM_CUDA_EMULATOR:-}" ] && train_device=cuda-fp32
  set +e
  timeout -s INT "$((minutes * 60))" ${JPEGLM:-"$gpu/jpeglm"} train --data "$gpu/data" --model-config "$config" --out "$out/run" \
    --device "$train_device" "${train[@]}" >"$out/train.txt" 2>&1
  local code=$?
  set -e
  if [ -f "$out/run/model.safetensors" ]; then step "train ${minutes} min ($train_device)" PASS "$(tail -1 "$out/run/loss.csv" 2>/dev/null)"
  else step "train ($train_device)" FAIL "exit $code, see train.txt"; status=1; fi

  # 5. Constrained samples and the quality measure on them.
  local n=$samples
  [ "$quick" = 1 ] && n=4
  if [ -f "$out/run/model.safetensors" ]; then
    if jpeglm sample --model "$out/run" --count "$n" --out "$out/samples" --device "$train_device" >"$out/sample.txt" 2>&1; then
      step "sample $n constrained" PASS "$(grep -ciE 'valid' "$out/sample.txt") lines of validity"
    else step "sample" FAIL "see sample.txt"; status=1; fi
    if jpeglm eval --model "$out/run" --data "$gpu/data" --samples "$n" --max-docs "$n" --json --device "$train_device" >"$out/eval.json" 2>"$out/eval.txt"; then
      step "eval (quality)" PASS "$(head -c 300 "$out/eval.json")"
    else step "eval" FAIL "see eval.txt"; status=1; fi
  fi

  step "elapsed" "" "$((SECONDS - started)) s"
  tar -czf "$out.tar.gz" -C "$(dirname "$out")" "$(basename "$out")"
  echo "== summary (archive: $out.tar.gz)"
  cat "$out/gpu-check/summary.txt" 2>/dev/null || true
  cat "$summary"
  return $status
}

case $mode in
  prepare)
    [ -n "$fashion" ] || { echo "gpu-run.sh prepare: --fashion DIR (Fashion-MNIST's IDX files) is required" >&2; exit 2; }
    prepare "$root/.gpu" "$fashion"
    echo "prepared .gpu/ ($(du -sh .gpu | cut -f1)); on the GPU machine, one call:"
    echo "  run(command=\"bash scripts/gpu-run.sh run --out \$OUT/gpu-run\", carry=[\".gpu\"], timeout_s=480)"
    ;;
  run)
    [ -n "$out" ] || { echo "gpu-run.sh run: --out DIR is required" >&2; exit 2; }
    run "$out" "$root/.gpu"
    ;;
  rehearse)
    [ "$device" = cpu ] || { echo "gpu-run.sh: the rehearsal runs with --device cpu (use 'prepare' and 'run' for a GPU)" >&2; exit 2; }
    work=${out:-$(mktemp -d)}
    mkdir -p "$work"
    sample="$work/fashion-sample"
    mkdir -p "$sample"
    cp testdata/tokens/fashion-64-images-idx3-ubyte.gz "$sample/train-images-idx3-ubyte.gz"
    cp testdata/tokens/fashion-64-labels-idx1-ubyte.gz "$sample/train-labels-idx1-ubyte.gz"
    prepare "$work/gpu" "$sample"
    minutes=2 samples=4
    run "$work/gpu-run" "$work/gpu"
    ;;
esac

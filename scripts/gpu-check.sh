#!/usr/bin/env bash
# Builds the self-contained, trimmed jpeglm binary into .gpu/ (ignored by git) and prints the exact `run`
# call a session with a lent GPU should make. The GPU machine has no .NET, so the binary travels in `carry`.
#
# usage: scripts/gpu-check.sh            build, then print the run call
#        scripts/gpu-check.sh --print    print the run call only
#
# Trimming: every type on the GPU path binds CUDA through function pointers from NativeLibrary.GetExport
# (no reflection, no DllImport resolver). TreatWarningsAsErrors is lifted for the publish only because
# Engine/Model/LlamaConfig.cs uses reflection-based System.Text.Json (IL2026), which gpu-check never calls.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--print" ]; then
  dotnet publish Cli -c Release -r linux-x64 --self-contained \
    -p:PublishSingleFile=true -p:PublishTrimmed=true -p:InvariantGlobalization=true \
    -p:TreatWarningsAsErrors=false -p:DebugType=none -p:GenerateDocumentationFile=false -o .gpu
  rm -f .gpu/*.xml .gpu/*.pdb
  echo "built: $(du -sh .gpu/jpeglm | cut -f1) .gpu/jpeglm"
  # The binary must start and report cleanly where there is no GPU (exit 1, "no CUDA driver found").
  ./.gpu/jpeglm gpu-check --out /tmp/jpeglm-gpu-check-local >/dev/null 2>&1 && rc=0 || rc=$?
  echo "local smoke run: exit $rc (1 expected without a GPU)"
fi

cat <<'CALL'

Run on the GPU machine (one call; prints the library layout first, then the checks, the table last):

  run(command="ldconfig -p | grep -E 'cuda|cublas|nvrtc'; ls /usr/local/cuda*/lib64 | head; nvidia-smi -L; set -o pipefail; ./.gpu/jpeglm gpu-check --out $OUT 2>&1 | tee $OUT/console.log",
      carry=[".gpu"], timeout_s=480)

If it runs out of time, rerun at once with `gpu-check --quick` (skips the 350M T=12288 run, shorter decode),
timeout_s=240; then call give_back. Record the table (date, commit, numbers) in docs/cuda.md.
If a library is not found, add e.g. `export JPEGLM_CUBLAS=/path/libcublas.so.13 JPEGLM_CUBLASLT=... JPEGLM_NVRTC=...;`
in front, from the ldconfig/ls lines, and fix Cuda/Interop/LibraryResolver.cs afterwards.
CALL

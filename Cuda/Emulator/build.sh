#!/bin/sh
# Builds the emulated device for the tests (run by tests/Cuda.Tests before it compiles) into OUT and
# writes OUT/emulator.env for them: LIBRARY=<the .so> and PRELOAD=<libasan, when the build uses ASan>.
# Without g++ it writes OUT/unavailable.txt with the reason instead and succeeds: the tests then skip.
# A compile error fails the build.
# usage: build.sh OUT
set -eu
out="$1"
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
rm -f "$out/unavailable.txt"
for tool in g++ make objcopy; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$tool not found (install build-essential to run the CUDA backend on the emulated device)" > "$out/unavailable.txt"
        rm -f "$out/emulator.env"
        exit 0
    fi
done
asan=$(g++ -print-file-name=libasan.so)
if [ -e "$asan" ] && [ "${JPEGLM_CUDAEMU_ASAN:-1}" = 1 ]; then
    flavor=1
    library="$out/libjpeglm-cudaemu.so"
    preload=$(readlink -f "$asan")
else
    flavor=0
    library="$out/libjpeglm-cudaemu-noasan.so"
    preload=
fi
# nice: the build machines are shared; make is incremental, so an unchanged tree costs a second.
nice make -s -C "$here" OUT="$out" ASAN="$flavor" -j"$(nproc 2>/dev/null || echo 2)"
printf 'LIBRARY=%s\nPRELOAD=%s\n' "$library" "$preload" > "$out/emulator.env.tmp"
mv "$out/emulator.env.tmp" "$out/emulator.env"

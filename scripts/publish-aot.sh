#!/usr/bin/env bash
# Publishes jpeglm ahead of time (.NET Native AOT): one native executable with every method compiled before it
# runs, so a command pays no JIT start-up. The JIT build (`dotnet Cli/bin/.../jpeglm.dll`) spends 0.2-0.3 CPU-s
# compiling the codec's hot methods before a short job gets going; for decoding a CIF clip that is more than the
# decoding itself. Output: .aot/jpeglm (or the folder given), beside libjpeglm_bf16.so and SkiaSharp's libraries.
#
# The instruction set is fixed at compile time: JPEGLM_AOT_ISA=native (the default) targets the CPU this runs on,
# which is what the codec's AVX-512 paths need; x86-64-v3 (AVX2) or x86-64-v2 give a binary for other machines
# (a binary refuses to start, with a message, on a CPU that lacks what it was built for).
#
# After publishing it checks the binary against the JIT build on the same inputs (byte-identical outputs):
# H.264 decode, JPEG encode and decode, check --json, and two samples of the committed Fashion-MNIST model.
# Usage: scripts/publish-aot.sh [out-dir]   (needs clang or gcc as the linker, which .NET's ILCompiler drives)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.aot}
isa=${JPEGLM_AOT_ISA:-native}
dotnet publish Cli -c Release -r linux-x64 -p:PublishAot=true -p:IlcInstructionSet="$isa" -o "$out" -nologo -v q
dotnet build Cli -c Release -m:1 -v q -nologo >/dev/null
aot="$out/jpeglm"
jit="dotnet Cli/bin/Release/net10.0/jpeglm.dll"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
same() { if cmp -s "$1" "$2"; then echo "  same: $3"; else echo "  DIFFERENT: $3" >&2; exit 1; fi; }
echo "self-check of $aot against the JIT build:"
stream=testdata/avc/x264/pan_kodim01.264
"$aot" decode "$stream" "$tmp/a.yuv" >/dev/null 2>&1
$jit decode "$stream" "$tmp/j.yuv" >/dev/null 2>&1
same "$tmp/a.yuv" "$tmp/j.yuv" "decode $stream"
photo=testdata/imaging/crop.ppm
"$aot" encode "$photo" "$tmp/a.jpg" --quality 25 >/dev/null 2>&1
$jit encode "$photo" "$tmp/j.jpg" --quality 25 >/dev/null 2>&1
same "$tmp/a.jpg" "$tmp/j.jpg" "encode $photo"
"$aot" decode "$tmp/j.jpg" "$tmp/a.ppm" >/dev/null 2>&1
$jit decode "$tmp/j.jpg" "$tmp/j.ppm" >/dev/null 2>&1
same "$tmp/a.ppm" "$tmp/j.ppm" "decode of that JPEG"
"$aot" check "$tmp/j.jpg" --json > "$tmp/a.json" || true
$jit check "$tmp/j.jpg" --json > "$tmp/j.json" || true
same "$tmp/a.json" "$tmp/j.json" "check --json"
model=docs/quality/fmnist/model
"$aot" sample --model "$model" --count 2 --seed 7 --device cpu --out "$tmp/a" >/dev/null 2>&1
$jit sample --model "$model" --count 2 --seed 7 --device cpu --out "$tmp/j" >/dev/null 2>&1
for f in "$tmp"/j/*.jpg; do same "$tmp/a/$(basename "$f")" "$f" "sample --seed 7 with $model: $(basename "$f")"; done
echo "published: $aot ($(du -h "$aot" | cut -f1), instruction set $isa)"

#!/bin/sh
# Samples random byte streams under the JPEG grammar constraint (JpegScanState, uniform over the
# allowed bytes), wraps them as complete interchange files, and decodes each with djpeg (libjpeg-turbo):
# every one must decode without a warning. Usage: scripts/check-sampled-with-djpeg.sh [OUT_DIR]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$(mktemp -d)}
mkdir -p "$out"
JPEGLM_SAMPLE_DIR=$out dotnet test "$root/tests/Codec.Tests" -c Release --filter "FullyQualifiedName~JpegScanCheckerSamplingTests" > "$out/test.log" 2>&1 || { cat "$out/test.log"; exit 1; }
fail=0; n=0
for f in "$out"/sampled-*.jpg; do
  n=$((n + 1))
  if ! djpeg -outfile /dev/null "$f" 2> "$out/djpeg.err" || [ -s "$out/djpeg.err" ]; then
    echo "djpeg: $f: $(cat "$out/djpeg.err")"; fail=$((fail + 1))
  fi
done
echo "$n sampled files, $fail rejected or warned by djpeg"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# Single-threaded H.264 decode speed: jpeglm decode against ffmpeg -threads 1 on the same
# files, in the same run. Prints frames/s (median of N runs) and the ratio.
# One timing method for both sides: user CPU seconds measured inside the process around the decode
# (process start-up excluded on both sides; output writing and, for jpeglm, JIT compilation included):
# jpeglm's `decode --time` "user" figure and ffmpeg's own `-benchmark` utime. CPU time stays
# meaningful on a shared, loaded machine; system time is left out on both sides because it is mostly
# the page-cache cost of writing the output file. (Whole-process times are not comparable: ffmpeg's
# start-up alone, loading its libraries, costs about 0.2 CPU-s, more than it spends decoding CIF.)
# Two builds of jpeglm are timed: the JIT build (`dotnet jpeglm.dll`, whose first decode in a process also
# compiles the codec's hot methods, 0.2-0.3 CPU-s) and the ahead-of-time build of scripts/publish-aot.sh
# (compiled before it runs, as ffmpeg is). JPEGLM_NO_AOT=1 skips the second.
# Usage: scripts/bench-avc-decode.sh [runs]   (needs ffmpeg; builds the CLI in Release)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
dotnet build Cli -c Release -m:1 -v q -nologo >/dev/null
builds=("dotnet Cli/bin/Release/net10.0/jpeglm.dll")
names=("JIT")
if [ "${JPEGLM_NO_AOT:-0}" != 1 ]; then
  if scripts/publish-aot.sh .aot >/dev/null 2>&1; then builds+=(".aot/jpeglm"); names+=("AOT"); else echo "AOT build failed (scripts/publish-aot.sh): timing the JIT build only" >&2; fi
fi
conf=${CONFORMANCE:-../shared/data/h264-conformance}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf 'load: %s\n' "$(uptime | sed 's/.*load average: //')"
printf '| stream | frames | build | jpeglm fps (user CPU) | ffmpeg -threads 1 fps (-benchmark utime) | ratio |\n| --- | --- | --- | --- | --- | --- |\n'
# The 15-frame paper-setting stream is repeated 20 times (concatenated Annex B streams are a valid
# stream of 20 IDR periods) so start-up costs do not dominate either decoder.
for i in $(seq 20); do cat testdata/avc/x264/pan_kodim01.264; done > "$tmp/pan_kodim01_x20.264"
# Every CIF (352x288) stream of the conformance set, then the paper-setting stream.
files=()
for f in "$conf"/*; do
  [ "$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$f" 2>/dev/null)" = "352,288" ] && files+=("$f")
done
files+=("$tmp/pan_kodim01_x20.264")
for f in "${files[@]}"; do
  [ -f "$f" ] || { echo "skip $f (absent)" >&2; continue; }
  frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$f")
  # Runs alternate between the builds and ffmpeg, so load changes touch every side alike.
  declare -A t=()
  for i in $(seq "$runs"); do
    for k in "${!builds[@]}"; do
      t[$k]+="$(${builds[$k]} decode "$f" "$tmp/o.yuv" --time | sed -n 's/.*user \([0-9.]*\) s.*/\1/p') "
    done
    t[ref]+="$(ffmpeg -benchmark -threads 1 -nostdin -i "$f" -f rawvideo -pix_fmt yuv420p -y "$tmp/r.yuv" 2>&1 | sed -n 's/.*utime=\([0-9.]*\)s.*/\1/p') "
  done
  ref=$(echo "${t[ref]}" | tr ' ' '\n' | grep . | median)
  for k in "${!builds[@]}"; do
    ours=$(echo "${t[$k]}" | tr ' ' '\n' | grep . | median)
    printf '| %s | %s | %s | %.0f | %.0f | %.2f |\n' "$(basename "$f")" "$frames" "${names[$k]}" "$(echo "$frames / $ours" | bc -l)" "$(echo "$frames / $ref" | bc -l)" "$(echo "$ref / $ours" | bc -l)"
  done
  unset t
done

#!/usr/bin/env bash
# Single-threaded H.264 decode speed: jpeglm decode against ffmpeg -threads 1 on the same
# files, in the same run. Prints frames/s (median of N runs) and the ratio.
# One timing method for both sides: user CPU seconds measured inside the process around the decode
# (process start-up excluded on both sides; output writing and, for jpeglm, JIT compilation included):
# jpeglm's `decode --time` "user" figure and ffmpeg's own `-benchmark` utime. CPU time stays
# meaningful on a shared, loaded machine; system time is left out on both sides because it is mostly
# the page-cache cost of writing the output file. (Whole-process times are not comparable: ffmpeg's
# start-up alone, loading its libraries, costs about 0.2 CPU-s, more than it spends decoding CIF.)
# Usage: scripts/bench-avc-decode.sh [runs]   (needs ffmpeg; builds the CLI in Release)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
dotnet build Cli -c Release -m:1 -v q -nologo >/dev/null
jpeglm="dotnet Cli/bin/Release/net10.0/jpeglm.dll"
conf=${CONFORMANCE:-../shared/data/h264-conformance}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf 'load: %s\n' "$(uptime | sed 's/.*load average: //')"
printf '| stream | frames | jpeglm fps (user CPU) | ffmpeg -threads 1 fps (-benchmark utime) | ratio |\n| --- | --- | --- | --- | --- |\n'
# The 15-frame paper-setting stream is repeated 20 times (concatenated Annex B streams are a valid
# stream of 20 IDR periods) so start-up costs do not dominate either decoder.
for i in $(seq 20); do cat testdata/avc/x264/pan_kodim01.264; done > "$tmp/pan_kodim01_x20.264"
files=("$conf/BA1_FT_C.264" "$tmp/pan_kodim01_x20.264")
for f in "${files[@]}"; do
  [ -f "$f" ] || { echo "skip $f (absent)" >&2; continue; }
  frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$f")
  ours=$(for i in $(seq "$runs"); do $jpeglm decode "$f" "$tmp/o.yuv" --time | sed -n 's/.*user \([0-9.]*\) s.*/\1/p'; done | median)
  ref=$(for i in $(seq "$runs"); do ffmpeg -benchmark -threads 1 -nostdin -i "$f" -f rawvideo -pix_fmt yuv420p -y "$tmp/r.yuv" 2>&1 | sed -n 's/.*utime=\([0-9.]*\)s.*/\1/p'; done | median)
  printf '| %s | %s | %.0f | %.0f | %.2f |\n' "$(basename "$f")" "$frames" "$(echo "$frames / $ours" | bc -l)" "$(echo "$frames / $ref" | bc -l)" "$(echo "$ref / $ours" | bc -l)"
done

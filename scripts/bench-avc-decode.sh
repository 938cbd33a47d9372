#!/usr/bin/env bash
# Single-threaded H.264 decode speed: jpeglm decode against ffmpeg -threads 1 on the same
# files, in the same run. Prints frames/s (median of N runs) and the ratio. Times are CPU seconds
# (user + sys), which stay meaningful on a shared, loaded machine: ffmpeg's whole process, and
# jpeglm's process CPU time from the start to the end of decoding (excluding .NET start-up, but
# including JIT compilation and writing the output).
# Usage: scripts/bench-avc-decode.sh [runs]   (needs ffmpeg; builds the CLI in Release)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
dotnet build Cli -c Release -v q -nologo >/dev/null
jpeglm="dotnet Cli/bin/Release/net10.0/jpeglm.dll"
conf=${CONFORMANCE:-../shared/data/h264-conformance}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_it() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'; }
printf '| stream | frames | jpeglm fps | ffmpeg -threads 1 fps | ratio |\n| --- | --- | --- | --- | --- |\n'
# The 15-frame paper-setting stream is repeated 20 times (concatenated Annex B streams are a valid
# stream of 20 IDR periods) so start-up costs do not dominate either decoder.
for i in $(seq 20); do cat testdata/avc/x264/pan_kodim01.264; done > "$tmp/pan_kodim01_x20.264"
files=("$conf/BA1_FT_C.264" "$tmp/pan_kodim01_x20.264")
for f in "${files[@]}"; do
  [ -f "$f" ] || { echo "skip $f (absent)" >&2; continue; }
  frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$f")
  # The in-process decode time (reported by decode --time) excludes .NET start-up.
  ours=$(for i in $(seq "$runs"); do $jpeglm decode "$f" "$tmp/o.yuv" --time | sed -n 's/.*cpu \([0-9.]*\) s.*/\1/p'; done | median)
  ref=$(for i in $(seq "$runs"); do time_it ffmpeg -threads 1 -nostdin -loglevel error -i "$f" -f rawvideo -pix_fmt yuv420p -y "$tmp/r.yuv"; done | median)
  printf '| %s | %s | %.0f | %.0f | %.2f |\n' "$(basename "$f")" "$frames" "$(echo "$frames / $ours" | bc -l)" "$(echo "$frames / $ref" | bc -l)" "$(echo "$ref / $ours" | bc -l)"
done

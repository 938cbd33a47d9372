#!/usr/bin/env bash
# Benchmarks our H.264 encoder against x264 at the AVC-LM settings (constrained baseline, CAVLC,
# QP 37, one macroblock per slice, 3 refs, full-pel search, single thread) on pans and zooms over
# Kodak photos (256x144, 3 fps, 15 frames, as the paper's clips), and prints bytes, luma PSNR
# (ffmpeg's psnr filter on the decoded yuv) and frames/s with our/x264 ratios. Speed: median of 3 runs of a 180-frame
# version of each clip (the 60-frame clip three times over), long enough that .NET's JIT warm-up
# (about a second) no longer dominates. Needs ffmpeg, x264 and a built CLI (dotnet build Cli -c Release).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jpeglm="${JPEGLM:-dotnet $root/Cli/bin/Release/net10.0/jpeglm.dll}"
kodak="${KODAK:-$root/../shared/data/kodak}"
[[ -d "$kodak" ]] || kodak=/work/shared/data/kodak
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
X264_ARGS=(--qp 37 --profile baseline --slice-max-mbs 1 --ref 3 --subme 0 --keyint 250 --threads 1)

make_clip() { # name image filter frames
  ffmpeg -nostdin -v error -y -loop 1 -i "$kodak/$2" -vf "$3,format=yuv420p" -r 3 -frames:v "$4" -strict -1 "$tmp/$1.y4m"
}
clips=(pan05 pan13 zoom23 zoom08)
for n in 15 60; do
  make_clip "pan05-$n" kodim05.png "crop=384:216:x='t*40':y='t*10',scale=256:144" $n
  make_clip "pan13-$n" kodim13.png "crop=432:243:x='t*25':y='t*6',scale=256:144" $n
  make_clip "zoom23-$n" kodim23.png "zoompan=z='1+0.03*on':d=1:s=256x144:fps=3" $n
  make_clip "zoom08-$n" kodim08.png "zoompan=z='1+0.04*on':x='iw/4':y='ih/4':d=1:s=256x144:fps=3" $n
done
for c in "${clips[@]}"; do
  body_start=$(( $(head -1 "$tmp/$c-60.y4m" | wc -c) + 1 ))
  { cat "$tmp/$c-60.y4m"; tail -c +$body_start "$tmp/$c-60.y4m"; tail -c +$body_start "$tmp/$c-60.y4m"; } > "$tmp/$c-180.y4m"
done

psnr_y() { # stream source: luma PSNR of the mean squared error over all frames (ffmpeg's psnr filter)
  ffmpeg -nostdin -v error -y -i "$1" -f rawvideo -pix_fmt yuv420p "$tmp/d.yuv"
  ffmpeg -nostdin -f rawvideo -s 256x144 -pix_fmt yuv420p -r 3 -i "$tmp/d.yuv" -r 3 -i "$2" -lavfi "[0:v][1:v]psnr" -f null - 2>&1 \
    | sed -n 's/.*PSNR y:\([0-9.inf]*\).*/\1/p' | tail -1
}
median() { sort -g | sed -n 2p; }
fps_ours() { for _ in 1 2 3; do $jpeglm encode "$1" "$tmp/s.h264" | sed -n 's/.*(\([0-9.]*\) frames\/s).*/\1/p'; done | median; }
fps_x264() { for _ in 1 2 3; do x264 "${X264_ARGS[@]}" -o "$tmp/x.h264" "$1" 2>&1 | tr '\r' '\n' | sed -n 's/^encoded [0-9]* frames, \([0-9.]*\) fps.*/\1/p'; done | median; }

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
echo "x264: $(x264 --version 2>/dev/null | head -1); settings: ${X264_ARGS[*]}"
printf '| clip | x264 bytes | our bytes | bytes ratio | x264 PSNR-Y | our PSNR-Y | ΔPSNR | x264 fps | our fps | speed ratio |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for c in "${clips[@]}"; do
  src="$tmp/$c-15.y4m"
  x264 "${X264_ARGS[@]}" -o "$tmp/x.h264" "$src" 2> /dev/null
  $jpeglm encode "$src" "$tmp/o.h264" > /dev/null
  xb=$(stat -c %s "$tmp/x.h264"); ob=$(stat -c %s "$tmp/o.h264")
  xp=$(psnr_y "$tmp/x.h264" "$src"); op=$(psnr_y "$tmp/o.h264" "$src")
  xf=$(fps_x264 "$tmp/$c-180.y4m"); of=$(fps_ours "$tmp/$c-180.y4m")
  awk -v c="$c" -v xb="$xb" -v ob="$ob" -v xp="$xp" -v op="$op" -v xf="$xf" -v of="$of" 'BEGIN {
    printf "| %s | %d | %d | %.3f | %.2f | %.2f | %+.2f | %.1f | %.1f | %.2f |\n", c, xb, ob, ob / xb, xp, op, op - xp, xf, of, of / xf }'
done

#!/usr/bin/env bash
# Benchmarks our H.264 encoder against x264 at the AVC-LM settings (constrained baseline, CAVLC,
# QP 37, one macroblock per slice, 3 refs, full-pel search, single thread) on pans and zooms over
# Kodak photos (256x144, 3 fps, 15 frames, as the paper's clips), and prints bytes, luma PSNR
# (ffmpeg's psnr filter on the decoded yuv) and frames/s with our/x264 ratios. Speed: median of 3 runs of a 180-frame
# version of each clip (the 60-frame clip three times over), long enough that .NET's JIT warm-up
# (about a second) no longer dominates. Needs ffmpeg, x264 and a built CLI (dotnet build Cli -c Release).
source "$(dirname "$0")/lib/avc-bench.sh"
X264_ARGS=(--qp 37 "${X264_ARGS[@]}")
clips=(pan05 pan13 zoom23 zoom08)
for n in 15 60; do kodak_pans_and_zooms $n "-$n"; done
for c in "${clips[@]}"; do
  body_start=$(( $(head -1 "$tmp/$c-60.y4m" | wc -c) + 1 ))
  { cat "$tmp/$c-60.y4m"; tail -c +$body_start "$tmp/$c-60.y4m"; tail -c +$body_start "$tmp/$c-60.y4m"; } > "$tmp/$c-180.y4m"
done

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

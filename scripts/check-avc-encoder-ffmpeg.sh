#!/usr/bin/env bash
# Encodes every case of testdata/avc-enc/cases.tsv with `jpeglm encode`, decodes the stream with
# ffmpeg and with our decoder, and checks that both equal the encoder's --recon output; also runs
# the grammar checker. With --write-md5 it rewrites the ffmpeg_md5 column (the golden decode MD5s
# the unit tests assert; '-' in the options column means the defaults). Needs ffmpeg and a built CLI (dotnet build Cli -c Release).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cases="$root/testdata/avc-enc/cases.tsv"
jpeglm="${JPEGLM:-dotnet $root/Cli/bin/Release/net10.0/jpeglm.dll}"
write=0
[[ "${1:-}" == "--write-md5" ]] && write=1
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail=0
out="$tmp/cases.tsv"
head -1 "$cases" > "$out"
echo "ffmpeg: $(ffmpeg -version | head -1)"
printf '%-28s %8s  %-32s %s\n' case bytes ffmpeg-md5 result
while IFS=$'\t' read -r -u 3 name clip options md5; do
  [[ "$name" == name ]] && continue
  opts="$options"
  [[ "$opts" == - ]] && opts=""
  # shellcheck disable=SC2086
  $jpeglm encode "$root/testdata/avc-enc/$clip" "$tmp/s.h264" --recon "$tmp/r.y4m" $opts > /dev/null
  ffmpeg -nostdin -v error -y -i "$tmp/s.h264" -f rawvideo -pix_fmt yuv420p "$tmp/ff.yuv"
  ffmpeg -nostdin -v error -y -i "$tmp/r.y4m" -f rawvideo -pix_fmt yuv420p "$tmp/rec.yuv"
  $jpeglm decode "$tmp/s.h264" "$tmp/ours.yuv" > /dev/null
  check="$($jpeglm check "$tmp/s.h264" | tail -1)"
  ff="$(md5sum < "$tmp/ff.yuv" | cut -d' ' -f1)"
  rec="$(md5sum < "$tmp/rec.yuv" | cut -d' ' -f1)"
  ours="$(md5sum < "$tmp/ours.yuv" | cut -d' ' -f1)"
  result=ok
  [[ "$ff" == "$rec" ]] || result="FFMPEG!=RECON"
  [[ "$ours" == "$rec" ]] || result="$result OURS!=RECON"
  [[ "$check" == *": valid,"* ]] || result="$result CHECK:$check"
  [[ $write == 1 || "$md5" == "$ff" ]] || result="$result MD5-CHANGED(was $md5)"
  [[ "$result" == ok ]] || fail=1
  printf '%-28s %8s  %-32s %s\n' "$name" "$(stat -c %s "$tmp/s.h264")" "$ff" "$result"
  printf '%s\t%s\t%s\t%s\n' "$name" "$clip" "$options" "$ff" >> "$out"
done 3< "$cases"
if [[ $write == 1 && $fail == 0 ]]; then cp "$out" "$cases"; echo "wrote $cases"; fi
exit $fail

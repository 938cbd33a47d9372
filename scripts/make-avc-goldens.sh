#!/usr/bin/env bash
# Makes the x264 "paper setting" golden streams in testdata/avc/x264/: slow pans over Kodak crops,
# 256x144, 3 fps, 5 s, baseline, QP 37, one macroblock per slice, with ffmpeg's decode MD5 beside
# each stream. Needs Debian ffmpeg with libx264 and ../shared/data/kodak.
set -euo pipefail
cd "$(dirname "$0")/.."
kodak=${KODAK:-../shared/data/kodak}
out=testdata/avc/x264
mkdir -p "$out"
make_one() { # name photo pan-filter
  local name=$1 photo=$2 pan=$3
  ffmpeg -loglevel error -y -loop 1 -framerate 3 -i "$kodak/$photo" -t 5 \
    -vf "$pan,fps=3,scale=256:144:force_original_aspect_ratio=decrease,pad=256:144:(ow-iw)/2:(oh-ih)/2" \
    -c:v libx264 -pix_fmt yuv420p -profile:v baseline -qp 37 -bf 0 -an -sn \
    -x264opts "slice-max-mbs=1" -trellis 0 -me_method dia -threads 1 -subq 0 -psy 0 \
    -mixed-refs 0 -fast-pskip 0 -partitions none -refs 3 -bsf:v h264_mp4toannexb \
    -f h264 "$out/$name.264"
  ffmpeg -loglevel error -i "$out/$name.264" -f rawvideo -pix_fmt yuv420p - | md5sum | cut -d' ' -f1 > "$out/$name.md5"
  echo "$name: $(stat -c %s "$out/$name.264") bytes, md5 $(cat "$out/$name.md5")"
}
make_one pan_kodim01 kodim01.png "crop=512:288:x='t*20':y=40"
make_one pan_kodim05 kodim05.png "crop=480:270:x=100:y='t*12'"
make_one diag_kodim23 kodim23.png "crop=512:288:x='t*16':y='t*8'"

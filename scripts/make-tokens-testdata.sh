#!/bin/sh
# Regenerates testdata/tokens/ and testdata/jpeg-check/ (see the README.md in each).
# Needs: ImageMagick convert, cjpeg (libjpeg-turbo 2.1.5), gcc, python3, dataset-fashion-mnist,
# and the Kodak photos in ../shared/data/kodak.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
kodak=${KODAK:-$root/../shared/data/kodak}
tmp=$(mktemp -d)
gcc -O2 "$root/../shared/tools/pillow-jpeg.c" -o "$tmp/pillow-jpeg" -ljpeg
tok=$root/testdata/tokens; chk=$root/testdata/jpeg-check
mkdir -p "$tok" "$chk"

# Paper profile: 256x256 crops, quality 25, 4:2:0, image-only (streamtype 2), restart every MCU.
i=0
for spec in "kodim01.png 100 50" "kodim05.png 300 200" "kodim15.png 0 0" "kodim23.png 400 100"; do
  set -- $spec
  convert "$kodak/$1" -crop "256x256+$2+$3" +repage -depth 8 "rgb:$tmp/c.rgb"
  "$tmp/pillow-jpeg" 256 256 25 2 1 "$tmp/c.rgb" > "$tok/paper-$i.jpg"
  i=$((i + 1))
done
"$tmp/pillow-jpeg" 256 256 25 1 1 "$tmp/c.rgb" > "$tok/paper-tables.jpg"

# Fashion-MNIST sample: the first 64 training images and labels, gzipped like the Debian files.
fm=/usr/share/datasets/fashion-mnist
python3 - "$fm" "$tok" <<'PY'
import gzip, sys
src, dst = sys.argv[1], sys.argv[2]
img = gzip.open(src + "/train-images-idx3-ubyte.gz").read()
lab = gzip.open(src + "/train-labels-idx1-ubyte.gz").read()
n = 64
with gzip.GzipFile(dst + "/fashion-64-images-idx3-ubyte.gz", "wb", mtime=0) as f:
    f.write(img[:4] + n.to_bytes(4, "big") + img[8:16] + img[16:16 + n * 784])
with gzip.GzipFile(dst + "/fashion-64-labels-idx1-ubyte.gz", "wb", mtime=0) as f:
    f.write(lab[:4] + n.to_bytes(4, "big") + lab[8:8 + n])
PY

# Grammar-checker vectors: various sizes, qualities, sampling, restart intervals, tables.
convert "$kodak/kodim03.png" -crop 72x56+300+200 +repage "$tmp/a.ppm"
convert "$kodak/kodim20.png" -crop 50x37+100+90 +repage "$tmp/b.ppm"
convert "$kodak/kodim08.png" -crop 64x64+10+10 +repage "$tmp/c.ppm"
n=0
emit() { out="$chk/$(printf %02d $n)-$1.jpg"; shift; "$@" > "$out"; n=$((n + 1)); }
emit a-q25-420-r1 cjpeg -quality 25 -sample 2x2 -restart 1B "$tmp/a.ppm"
emit a-q75-420-r1 cjpeg -quality 75 -sample 2x2 -restart 1B "$tmp/a.ppm"
emit a-q95-444-r1 cjpeg -quality 95 -sample 1x1 -restart 1B "$tmp/a.ppm"
emit a-q50-422-r3 cjpeg -quality 50 -sample 2x1 -restart 3B "$tmp/a.ppm"
emit a-q50-420-norst cjpeg -quality 50 -sample 2x2 "$tmp/a.ppm"
emit a-q10-420-opt cjpeg -quality 10 -optimize -restart 2B "$tmp/a.ppm"
emit a-grey-q25-r1 cjpeg -grayscale -quality 25 -restart 1B "$tmp/a.ppm"
emit a-grey-q90-r5 cjpeg -grayscale -quality 90 -restart 5B "$tmp/a.ppm"
emit b-q25-420-r1 cjpeg -quality 25 -sample 2x2 -restart 1B "$tmp/b.ppm"
emit b-q100-444-r7 cjpeg -quality 100 -sample 1x1 -restart 7B "$tmp/b.ppm"
emit b-q60-420-rows1 cjpeg -quality 60 -restart 1 "$tmp/b.ppm"
emit b-grey-opt-norst cjpeg -grayscale -optimize -quality 40 "$tmp/b.ppm"
emit c-q5-420-r1 cjpeg -quality 5 -sample 2x2 -restart 1B "$tmp/c.ppm"
emit c-q99-420-r9 cjpeg -quality 99 -sample 2x2 -restart 9B "$tmp/c.ppm"
emit c-q30-444-opt-r1 cjpeg -quality 30 -sample 1x1 -optimize -restart 1B "$tmp/c.ppm"
for spec in "a 72 56" "b 50 37" "c 64 64"; do
  set -- $spec
  convert "$tmp/$1.ppm" -depth 8 "rgb:$tmp/$1.rgb"
  emit "$1-pillow-q25-r1-full" "$tmp/pillow-jpeg" "$2" "$3" 25 0 1 "$tmp/$1.rgb"
  emit "$1-pillow-q25-r1-imageonly" "$tmp/pillow-jpeg" "$2" "$3" 25 2 1 "$tmp/$1.rgb"
done
emit c-pillow-q80-r4-imageonly "$tmp/pillow-jpeg" 64 64 80 2 4 "$tmp/c.rgb"
rm -rf "$tmp"

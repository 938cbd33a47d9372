#!/usr/bin/env bash
# Regenerates testdata/jpeg-dec/: small JPEGs made by cjpeg, ImageMagick and ffmpeg from crops of the
# Kodak photos and from synthetic images, plus manifest.txt with the SHA-256 of the pixels that
# `djpeg -dct int` (libjpeg-turbo 2.1.5) decodes from each. Tests read only the committed results.
# Needs: cjpeg/djpeg (libjpeg-turbo), ImageMagick `convert`, ffmpeg, python3, ../shared/data/kodak.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=testdata/jpeg-dec
KODAK=${KODAK:-../shared/data/kodak}
SRC=$(mktemp -d)
trap 'rm -rf "$SRC"' EXIT
rm -f "$OUT"/*.jpg "$OUT"/manifest.txt "$OUT"/expected/*
mkdir -p "$OUT/expected" "$OUT/bad" "$OUT/kodak"

# --- sources (binary PPM/PGM) ---
crop() { convert "$KODAK/$1.png" -crop "$2" +repage "$SRC/$3.ppm"; }
crop kodim03 257x131+200+150 k03_257x131
crop kodim23 64x64+300+120 k23_64
crop kodim05 5x130+400+100 k05_5x130
crop kodim05 130x5+300+300 k05_130x5
crop kodim12 1x1+100+100 k12_1x1
crop kodim12 3x3+200+100 k12_3x3
crop kodim12 4x4+200+100 k12_4x4
crop kodim12 5x5+200+100 k12_5x5
crop kodim19 37x29+150+200 k19_37x29
crop kodim20 96x80+250+250 k20_96x80
convert -size 48x40 pattern:checkerboard -depth 8 "$SRC/checker_48x40.ppm"
convert -size 40x33 gradient:red-blue -depth 8 "$SRC/grad_40x33.ppm"
convert -seed 7 -size 64x64 xc:gray50 +noise Random -depth 8 "$SRC/noise_64.ppm"
convert -size 32x24 xc:white -fill black -draw "rectangle 8,4 23,19" -depth 8 "$SRC/box_32x24.ppm"

# Progressive scan script with spectral selection and successive approximation on every band.
cat > "$SRC/scans.txt" <<'SCANS'
0,1,2: 0-0, 0, 1;
0: 1-5, 0, 2;
2: 1-63, 0, 1;
1: 1-63, 0, 1;
0: 6-63, 0, 2;
0: 1-63, 2, 1;
0,1,2: 0-0, 1, 0;
2: 1-63, 1, 0;
1: 1-63, 1, 0;
0: 1-63, 1, 0;
SCANS
# Sequential but non-interleaved: one scan per component.
cat > "$SRC/seq-separate.txt" <<'SCANS'
0: 0-63, 0, 0;
1: 0-63, 0, 0;
2: 0-63, 0, 0;
SCANS

cj() { local name=$1 src=$2; shift 2; cjpeg "$@" -outfile "$OUT/$name.jpg" "$SRC/$src.ppm"; }

# cjpeg: defaults, qualities, progressive, optimize, restart, sampling, grayscale, RGB, odd sizes.
cj cj_q75 k03_257x131 -quality 75
for q in 1 5 10 25 50 90 95 100; do cj cj_q$q k23_64 -quality $q; done
cj cj_q1_444 checker_48x40 -quality 1 -sample 1x1
cj cj_q100_444 checker_48x40 -quality 100 -sample 1x1
cj cj_q100_checker box_32x24 -quality 100
cj cj_prog k03_257x131 -quality 75 -progressive
cj cj_prog_q25 k20_96x80 -quality 25 -progressive
cj cj_prog_444 k19_37x29 -quality 80 -progressive -sample 1x1
cj cj_prog_scans k20_96x80 -quality 85 -scans "$SRC/scans.txt"
cj cj_prog_restart k03_257x131 -quality 60 -progressive -restart 2B
cj cj_seq_separate k20_96x80 -quality 70 -scans "$SRC/seq-separate.txt"
cj cj_opt k03_257x131 -quality 75 -optimize
cj cj_restart_rows k03_257x131 -quality 75 -restart 1
cj cj_restart_mcu_q25 k20_96x80 -quality 25 -restart 1B
cj cj_restart_7b k19_37x29 -quality 75 -restart 7B
cj cj_s444 k20_96x80 -sample 1x1
cj cj_s422 k03_257x131 -sample 2x1
cj cj_s440 k03_257x131 -sample 1x2
cj cj_s411 k03_257x131 -sample 4x1
cj cj_s420_odd k19_37x29 -sample 2x2
cj cj_s42_1 k19_37x29 -sample 4x2
cj cj_s3x1 k20_96x80 -sample 3x1
cj cj_s1x4 k19_37x29 -sample 1x4
cj cj_s_mixed k20_96x80 -sample 2x2,2x1,1x2
cj cj_s_mixed2 k19_37x29 -sample 2x1,1x1,2x1
cj cj_gray k03_257x131 -grayscale
cj cj_gray_prog k19_37x29 -grayscale -progressive
cj cj_gray_2x2 k19_37x29 -grayscale -sample 2x2
cj cj_rgb k20_96x80 -rgb
cj cj_1x1 k12_1x1
cj cj_1x1_prog k12_1x1 -progressive
cj cj_3x3 k12_3x3
cj cj_4x4 k12_4x4
cj cj_5x5 k12_5x5
cj cj_5x130 k05_5x130
cj cj_130x5 k05_130x5
cj cj_130x5_422 k05_130x5 -sample 2x1
cj cj_5x130_440 k05_5x130 -sample 1x2
cj cj_grad grad_40x33 -quality 90
cj cj_noise noise_64 -quality 95
cj cj_noise_prog noise_64 -quality 50 -progressive -sample 1x1

# ImageMagick (its own libjpeg settings: JFIF, optimized Huffman tables).
im() { local name=$1 src=$2; shift 2; convert "$SRC/$src.ppm" "$@" "$OUT/$name.jpg"; }
im im_q85 k03_257x131 -quality 85
im im_q92_422 k20_96x80 -quality 92 -sampling-factor 4:2:2
im im_prog k19_37x29 -quality 70 -interlace Plane
im im_cmyk k20_96x80 -colorspace CMYK -quality 80

# ffmpeg's own MJPEG encoder (not libjpeg): yuvj420p, yuvj422p, yuvj444p.
ff() { local name=$1 src=$2; shift 2; ffmpeg -v error -y -i "$SRC/$src.ppm" -c:v mjpeg "$@" -frames:v 1 -f image2 "$OUT/$name.jpg"; }
ff ff_420 k03_257x131 -pix_fmt yuvj420p -q:v 4
ff ff_422 k20_96x80 -pix_fmt yuvj422p -q:v 3
ff ff_444 k19_37x29 -pix_fmt yuvj444p -q:v 2
ff ff_422_odd k05_5x130 -pix_fmt yuvj422p -q:v 6

# Two whole Kodak photos, progressive q75 (the CI-visible real-photo cases).
for k in kodim07 kodim15; do
  cjpeg -quality 75 -progressive -outfile "$OUT/kodak/${k}_prog_q75.jpg" <(convert "$KODAK/$k.png" ppm:-)
done

# Unsupported / malformed inputs kept in the repository (the full corpus lives in ../shared).
cjpeg -arithmetic -outfile "$OUT/bad/arithmetic.jpg" "$SRC/k19_37x29.ppm"
B=../shared/data/jpeg-bad-inputs
for f in github_674/poc19min.jpg github_670/poc3min.jpg github_672/poc7_min.jpg github_389/68846842-f95e7180-06cd-11ea-9207-80b34a91f939.jpg \
         github_683/poc20min.jpg mozilla_891693_CVE-2013-6629_CVE-2013-6630/turbo-dht.jpg github_676/poc12min.jpg; do
  cp "$B/$f" "$OUT/bad/$(echo "$f" | tr '/' '_')"
done
cp "$(ls -S "$B"/lossless/*.jpg | tail -1)" "$OUT/bad/lossless.jpg"
cp "$(ls -S "$B"/12bit/* | tail -1)" "$OUT/bad/12bit.jpg"

# --- manifest: SHA-256 of djpeg -dct int pixel bytes (PNM payload without header) ---
pixels_sha() {
  djpeg -dct int -pnm "$1" | python3 -c '
import sys, hashlib
d = sys.stdin.buffer.read()
# Binary PNM header: magic, width, height, maxval separated by whitespace, then one whitespace byte.
fields, i = [], 0
while len(fields) < 4:
    while d[i:i+1].isspace(): i += 1
    j = i
    while not d[j:j+1].isspace(): j += 1
    fields.append(d[i:j]); i = j
i += 1
w, h = int(fields[1]), int(fields[2]); c = 1 if fields[0] == b"P5" else 3
print(hashlib.sha256(d[i:]).hexdigest(), w, h, c)'
}
{
  echo "# file sha256(pixels of djpeg -dct int -pnm) width height channels; made by scripts/make-jpeg-decoder-goldens.sh"
  for f in "$OUT"/*.jpg "$OUT"/kodak/*.jpg; do
    echo "${f#$OUT/} $(pixels_sha "$f")"
  done
} > "$OUT/manifest.txt"

# Two full expected outputs for readable diffs.
djpeg -dct int -pnm -outfile "$OUT/expected/cj_s420_odd.ppm" "$OUT/cj_s420_odd.jpg"
djpeg -dct int -pnm -outfile "$OUT/expected/cj_gray_prog.pgm" "$OUT/cj_gray_prog.jpg"
du -sh "$OUT"

# Shared by the H.264 encoder benchmarks (scripts/bench-avc-encode.sh, scripts/bench-avc-bdrate.sh): sourced, not run.
# Sets root, jpeglm (JPEGLM overrides: e.g. the ahead-of-time build), kodak and a temporary folder tmp (removed on
# exit); X264_ARGS are the AVC-LM settings without the QP. Defines the clip maker, the four Kodak pans and zooms,
# luma PSNR and the median of three.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
jpeglm="${JPEGLM:-dotnet $root/Cli/bin/Release/net10.0/jpeglm.dll}"
kodak="${KODAK:-$root/../shared/data/kodak}"
[[ -d "$kodak" ]] || kodak=/work/shared/data/kodak
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
X264_ARGS=(--profile baseline --slice-max-mbs 1 --ref 3 --subme 0 --keyint 250 --threads 1)

make_clip() { # name image filter frames: a 256x144, 3 fps Y4M clip of a Kodak photo through an ffmpeg filter
  ffmpeg -nostdin -v error -y -loop 1 -i "$kodak/$2" -vf "$3,format=yuv420p" -r 3 -frames:v "$4" -strict -1 "$tmp/$1.y4m"
}

kodak_pans_and_zooms() { # frames suffix: pan05 pan13 zoom23 zoom08, as the paper's clips (whole-pixel steps of the crop)
  make_clip "pan05$2" kodim05.png "crop=384:216:x='t*40':y='t*10',scale=256:144" "$1"
  make_clip "pan13$2" kodim13.png "crop=432:243:x='t*25':y='t*6',scale=256:144" "$1"
  make_clip "zoom23$2" kodim23.png "zoompan=z='1+0.03*on':d=1:s=256x144:fps=3" "$1"
  make_clip "zoom08$2" kodim08.png "zoompan=z='1+0.04*on':x='iw/4':y='ih/4':d=1:s=256x144:fps=3" "$1"
}

psnr_y() { # stream source: luma PSNR of the mean squared error over all frames (ffmpeg's psnr filter)
  ffmpeg -nostdin -v error -y -i "$1" -f rawvideo -pix_fmt yuv420p "$tmp/d.yuv"
  ffmpeg -nostdin -f rawvideo -s 256x144 -pix_fmt yuv420p -r 3 -i "$tmp/d.yuv" -r 3 -i "$2" -lavfi "[0:v][1:v]psnr" -f null - 2>&1 \
    | sed -n 's/.*PSNR y:\([0-9.inf]*\).*/\1/p' | tail -1
}

median() { sort -g | sed -n 2p; } # of three

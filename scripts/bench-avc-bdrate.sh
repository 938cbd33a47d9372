#!/usr/bin/env bash
# The stretch target of the H.264 encoder: Bjøntegaard delta rate (BD-rate) of our encoder against x264 at the
# AVC-LM settings (constrained baseline, CAVLC, one macroblock per slice, 3 refs, full-pel search, --threads 1)
# over QPs 27, 32, 37, 42, on 256x144 3-fps 15-frame clips made from the Kodak photos:
#   pan05 pan13 zoom23 zoom08   the pans and zooms of scripts/bench-avc-encode.sh (whole-pixel steps of the crop);
#   subpan19                    a slow sub-pixel pan (the crop moves 2.6 source pixels a frame, scaled by 0.59);
#   rotate21                    a slow rotation (0.02 rad a frame) about the centre;
#   fade15                      a brightness ramp (eq=brightness, +0.02 a frame) over a still photo;
#   shake03                     hand-held shake: a sub-pixel jitter of the crop (sines of 1.7 and 2.3 px).
# Rate: bytes of the stream; quality: luma PSNR of the mean squared error over all frames (ffmpeg's psnr filter).
# BD-rate: cubic through the four (PSNR, log rate) points of each encoder, integrated over the PSNR range both cover
# (Bjøntegaard, VCEG-M33); negative means fewer bits than x264 at equal PSNR. Speed: our frames/s against x264's on
# the same clips (whole-process wall time of each encode at QP 37, median of 3), JIT start-up included.
# Usage: scripts/bench-avc-bdrate.sh   (needs ffmpeg, x264, python3 and a built CLI: dotnet build Cli -c Release)
source "$(dirname "$0")/lib/avc-bench.sh"
qps=(27 32 37 42)

kodak_pans_and_zooms 15 ""
make_clip subpan19 kodim19.png "scale=768:-2,crop=432:243:x='100+n*2.6':y='60+n*0.7':exact=1,scale=256:144:flags=bicubic" 15
make_clip rotate21 kodim21.png "rotate=a='n*0.02':c=black,crop=432:243,scale=256:144" 15
make_clip fade15 kodim15.png "crop=432:243,scale=256:144,eq=brightness='n*0.02':eval=frame" 15
make_clip shake03 kodim03.png "crop=432:243:x='150+1.7*sin(n*1.3)':y='100+2.3*sin(n*0.9)':exact=1,scale=256:144:flags=bicubic" 15
clips=(pan05 pan13 zoom23 zoom08 subpan19 rotate21 fade15 shake03)

seconds() { local s; s=$(date +%s.%N); "$@" > /dev/null 2>&1; echo "$(date +%s.%N) - $s" | bc -l; }

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "x264: $(x264 --version 2>/dev/null | head -1); settings: --qp Q ${X264_ARGS[*]}; ours: jpeglm encode --qp Q"
points="$tmp/points.tsv"
for c in "${clips[@]}"; do
  src="$tmp/$c.y4m"
  for q in "${qps[@]}"; do
    x264 --qp "$q" "${X264_ARGS[@]}" -o "$tmp/x.h264" "$src" 2> /dev/null
    $jpeglm encode "$src" "$tmp/o.h264" --qp "$q" > /dev/null
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$q" "$(stat -c %s "$tmp/x.h264")" "$(psnr_y "$tmp/x.h264" "$src")" \
      "$(stat -c %s "$tmp/o.h264")" "$(psnr_y "$tmp/o.h264" "$src")" >> "$points"
  done
  xs=$(for _ in 1 2 3; do seconds x264 --qp 37 "${X264_ARGS[@]}" -o "$tmp/x.h264" "$src"; done | median)
  os=$(for _ in 1 2 3; do seconds $jpeglm encode "$src" "$tmp/o.h264" --qp 37; done | median)
  printf '%s\t%s\t%s\n' "$c" "$xs" "$os" >> "$tmp/speed.tsv"
done
python3 - "$points" "$tmp/speed.tsv" <<'PY'
import math, sys
def cubic(xs, ys):  # the cubic through four points (Gaussian elimination on the Vandermonde system)
    a = [[x ** p for p in range(4)] + [y] for x, y in zip(xs, ys)]
    for i in range(4):
        piv = max(range(i, 4), key=lambda r: abs(a[r][i])); a[i], a[piv] = a[piv], a[i]
        for r in range(4):
            if r != i:
                f = a[r][i] / a[i][i]; a[r] = [u - f * v for u, v in zip(a[r], a[i])]
    return [a[i][4] / a[i][i] for i in range(4)]
def integral(c, lo, hi):
    return sum(c[p] / (p + 1) * (hi ** (p + 1) - lo ** (p + 1)) for p in range(4))
def bd_rate(r1, p1, r2, p2):  # encoder 2 against encoder 1, percent
    c1, c2 = cubic(p1, [math.log(r) for r in r1]), cubic(p2, [math.log(r) for r in r2])
    lo, hi = max(min(p1), min(p2)), min(max(p1), max(p2))
    return (math.exp((integral(c2, lo, hi) - integral(c1, lo, hi)) / (hi - lo)) - 1) * 100
rows = {}
for line in open(sys.argv[1]):
    c, q, xb, xp, ob, op = line.split('\t')
    rows.setdefault(c, []).append((int(q), int(xb), float(xp), int(ob), float(op)))
speed = {c: (float(x), float(o)) for c, x, o in (l.split('\t') for l in open(sys.argv[2]))}
print('| clip | QP | x264 bytes | x264 PSNR-Y | our bytes | our PSNR-Y |')
print('|---|---:|---:|---:|---:|---:|')
for c, pts in rows.items():
    for q, xb, xp, ob, op in pts:
        print(f'| {c} | {q} | {xb} | {xp:.2f} | {ob} | {op:.2f} |')
print()
print('| clip | BD-rate (ours vs x264) | speed at QP 37 (ours / x264, whole process) |')
print('|---|---:|---:|')
bds, ratios = [], []
for c, pts in rows.items():
    bd = bd_rate([p[1] for p in pts], [p[2] for p in pts], [p[3] for p in pts], [p[4] for p in pts])
    x, o = speed[c]; bds.append(bd); ratios.append(x / o)
    print(f'| {c} | {bd:+.2f} % | {x / o:.2f}x ({o:.2f} s vs {x:.2f} s) |')
print(f'| **mean** | **{sum(bds) / len(bds):+.2f} %** | median {sorted(ratios)[len(ratios) // 2]:.2f}x |')
PY

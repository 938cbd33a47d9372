#!/usr/bin/env python3
"""Writes N random 256x256 crops of the Kodak photos as JPEGs exactly as the paper's Pillow settings do.

Use: scripts/kodak-crops.py N OUT_DIR [--seed S] [--quality Q] [--size PX] [--streamtype 2] [--restart 1]
Needs ImageMagick `convert` and the oracle built from /work/shared/tools/pillow-jpeg.c:
    gcc -O2 ../shared/tools/pillow-jpeg.c -o /tmp/pillow-jpeg -ljpeg
Files are named crop-00000.jpg ...; the crop list (image, x, y) goes to OUT_DIR/crops.tsv.
"""
import argparse, os, random, subprocess, sys, tempfile

p = argparse.ArgumentParser()
p.add_argument("n", type=int)
p.add_argument("out")
p.add_argument("--seed", type=int, default=1)
p.add_argument("--quality", type=int, default=25)
p.add_argument("--size", type=int, default=256)
p.add_argument("--streamtype", type=int, default=2)
p.add_argument("--restart", type=int, default=1)
p.add_argument("--kodak", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "kodak"))
p.add_argument("--oracle", default="/tmp/pillow-jpeg")
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
tmp = tempfile.mkdtemp()
photos = []
for name in sorted(f for f in os.listdir(a.kodak) if f.endswith(".png")):
    raw = os.path.join(tmp, name + ".rgb")
    ident = subprocess.run(["identify", "-format", "%w %h", os.path.join(a.kodak, name)], capture_output=True, text=True, check=True).stdout.split()
    subprocess.run(["convert", os.path.join(a.kodak, name), "-depth", "8", "rgb:" + raw], check=True)
    with open(raw, "rb") as f:
        photos.append((name, int(ident[0]), int(ident[1]), f.read()))
rng = random.Random(a.seed)
s = a.size
crop_path = os.path.join(tmp, "crop.rgb")
with open(os.path.join(a.out, "crops.tsv"), "w") as log:
    for i in range(a.n):
        name, w, h, px = photos[rng.randrange(len(photos))]
        x, y = rng.randrange(w - s + 1), rng.randrange(h - s + 1)
        crop = b"".join(px[((y + r) * w + x) * 3:((y + r) * w + x + s) * 3] for r in range(s))
        with open(crop_path, "wb") as f:
            f.write(crop)
        with open(os.path.join(a.out, "crop-%05d.jpg" % i), "wb") as f:
            subprocess.run([a.oracle, str(s), str(s), str(a.quality), str(a.streamtype), str(a.restart), crop_path], stdout=f, check=True)
        log.write("%s\t%d\t%d\n" % (name, x, y))

#!/usr/bin/env python3
"""Writes deterministic synthetic Y4M clips (moving shapes over gradients) for video experiments.

usage: make-synthetic-clips.py OUT_DIR [--count N] [--size W H] [--frames F] [--seed S]
Each clip: a smooth background gradient and one or two flat shapes (box or disc) moving in a straight
line, 3 fps, yuv420p (BT.601 limited range). Pure Python, no dependencies.
"""
import argparse
import os
import random


def clip(out, w, h, frames, rng):
    bg = [rng.randint(30, 200) for _ in range(3)]
    grad = (rng.uniform(-2, 2), rng.uniform(-2, 2))
    shapes = []
    for _ in range(rng.randint(1, 2)):
        shapes.append({
            "kind": rng.choice(["box", "disc"]),
            "x": rng.uniform(0, w), "y": rng.uniform(0, h),
            "vx": rng.uniform(-4, 4), "vy": rng.uniform(-4, 4),
            "r": rng.uniform(4, 10), "rgb": [rng.randint(0, 255) for _ in range(3)],
        })
    with open(out, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F3:1 Ip A1:1 C420jpeg\n".encode())
        for t in range(frames):
            rgb = [[None] * w for _ in range(h)]
            for y in range(h):
                for x in range(w):
                    d = grad[0] * x + grad[1] * y
                    c = [max(0, min(255, v + d)) for v in bg]
                    for s in shapes:
                        sx, sy = s["x"] + s["vx"] * t, s["y"] + s["vy"] * t
                        inside = (abs(x - sx) <= s["r"] and abs(y - sy) <= s["r"]) if s["kind"] == "box" \
                            else (x - sx) ** 2 + (y - sy) ** 2 <= s["r"] ** 2
                        if inside:
                            c = s["rgb"]
                    rgb[y][x] = c
            Y = bytearray(w * h)
            U = bytearray((w // 2) * (h // 2))
            V = bytearray((w // 2) * (h // 2))
            for y in range(h):
                for x in range(w):
                    r, g, b = rgb[y][x]
                    Y[y * w + x] = max(0, min(255, round(16 + 0.257 * r + 0.504 * g + 0.098 * b)))
            for y in range(0, h, 2):
                for x in range(0, w, 2):
                    px = [rgb[y + j][x + i] for j in (0, 1) for i in (0, 1)]
                    r, g, b = (sum(p[k] for p in px) / 4 for k in range(3))
                    U[(y // 2) * (w // 2) + x // 2] = max(0, min(255, round(128 - 0.148 * r - 0.291 * g + 0.439 * b)))
                    V[(y // 2) * (w // 2) + x // 2] = max(0, min(255, round(128 + 0.439 * r - 0.368 * g - 0.071 * b)))
            f.write(b"FRAME\n" + bytes(Y) + bytes(U) + bytes(V))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--size", type=int, nargs=2, default=[32, 32])
    p.add_argument("--frames", type=int, default=6)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    for i in range(a.count):
        clip(os.path.join(a.out, f"clip{i:05d}.y4m"), a.size[0], a.size[1], a.frames, rng)


if __name__ == "__main__":
    main()

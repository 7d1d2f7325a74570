"""How the next signature was chosen (issue 21): candidate match rules replayed in numpy on the
files and upload order of a `scripts/bench-accuracy --json FILE` run. Not the server: decoding
here is Pillow's (JPEG draft shrink, then a box filter to a 256 short side), close to libvips'
but not the same, so the figures guide the choice and the harness, once the server implements
it, measures it.

usage: .venv-bench/accuracy/bin/python scripts/bench_accuracy_candidates.py RUN.json [tune|held-out|all]

Hashes per file: the 64-bit pHash (the server's) of the whole picture, of its mirror image and of
its centre (15% off each side), and the 256-bit PDQ-shaped hash (`PerceptualHash256`: 64x64 area
average, DCT frequencies 1...16, median; PDQ's quality) of the same three. A rule: candidates by
pHash within PH (whole to whole, mirror to whole, centre to centre), confirmed by the 256-bit hash
of the same pair of variants within T, and both pictures' quality at least 50.
"""
import collections
import hashlib
import json
import pathlib
import sys

import numpy as np
from PIL import Image

FILES = pathlib.Path(__file__).resolve().parents[1] / ".cache/bench-accuracy/files"


def held_out(name):
    return hashlib.sha256(name.encode()).digest()[0] % 3 == 0


def area(n_in, n_out):
    w = np.zeros((n_out, n_in))
    s = n_in / n_out
    for o in range(n_out):
        lo, hi = o * s, (o + 1) * s
        for i in range(int(np.floor(lo)), min(n_in, int(np.ceil(hi)))):
            w[o, i] = max(0, min(hi, i + 1) - max(lo, i)) / s
    return w


def reduce(lum, n):
    return area(lum.shape[0], n) @ lum @ area(lum.shape[1], n).T


def dct(n, ks):
    return np.array([[np.cos(np.pi * k * (2 * x + 1) / (2 * n)) for x in range(n)] for k in ks])


D8, D16 = dct(32, range(8)), dct(64, range(1, 17))


def median_bits(c):
    f = c.flatten()
    return f > np.median(f)


def phash(lum):
    return median_bits(D8 @ np.clip(np.round(reduce(lum, 32)), 0, 255) @ D8.T)


def hash256(lum):
    r = reduce(lum, 64)
    return median_bits(D16 @ r @ D16.T), r


def quality(r):
    g = np.abs(np.trunc(np.diff(r, axis=0) * 100 / 255)).sum() + np.abs(np.trunc(np.diff(r, axis=1) * 100 / 255)).sum()
    return min(100, int(g) // 90)


def luminance(path):
    img = Image.open(path)
    w, h = img.size
    if min(w, h) > 256:
        img.draft("RGB", (w * 256 // min(w, h), h * 256 // min(w, h)))
    img = img.convert("RGB")
    w, h = img.size
    if min(w, h) > 256:
        img = img.resize((round(w * 256 / min(w, h)), round(h * 256 / min(w, h))), Image.BOX)
    return np.asarray(img.convert("L"), dtype=np.float64)


def features(path):
    lum = luminance(path)
    h, w = lum.shape
    dy, dx = round(h * 0.15), round(w * 0.15)
    out = {}
    for name, plane in (("whole", lum), ("mirror", lum[:, ::-1]), ("centre", lum[dy:h - dy, dx:w - dx])):
        out[f"ph_{name}"] = phash(plane)
        out[f"h256_{name}"], r = hash256(plane)
        if name == "whole":
            out["quality"] = quality(r)
    return out


def distance(a, b):
    return int(np.count_nonzero(a != b))


def main():
    run = json.loads(pathlib.Path(sys.argv[1]).read_text())
    which = sys.argv[2] if len(sys.argv) > 2 else "tune"
    keep = {"tune": lambda p: p.startswith("flat") or not held_out(p),
            "held-out": lambda p: p.startswith("flat") or held_out(p), "all": lambda p: True}[which]
    rows = [dict(r, **features(FILES / r["file"])) for r in run if keep(r["photo"])]
    original = {r["photo"]: i for i, r in enumerate(rows) if r["kind"] == "original"}
    pairs = (("whole", "whole"), ("mirror", "whole"), ("centre", "centre"))

    def evaluate(label, ph, t, variants):
        hits, totals, wrong = collections.Counter(), collections.Counter(), []
        for i, a in enumerate(rows):
            matches = []
            for j, b in enumerate(rows[:i]):
                if min(a["quality"], b["quality"]) < 50:
                    continue
                if any(distance(a[f"ph_{x}"], b[f"ph_{y}"]) <= ph and distance(a[f"h256_{x}"], b[f"h256_{y}"]) <= t
                       for x, y in pairs[:variants]):
                    matches.append(j)
            if a["kind"] not in ("original", "flat"):
                totals[a["kind"]] += 1
                hits[a["kind"]] += original[a["photo"]] in matches
            wrong += [(a["file"], rows[j]["file"]) for j in matches if rows[j]["photo"] != a["photo"]]
        n, h = sum(totals.values()), sum(hits.values())
        print(f"{label:44} recall {h}/{n} ({100 * h / n:.1f}%), false pairs {len(wrong)}  "
              + " ".join(f"{k}:{hits[k]}/{totals[k]}" for k in totals), flush=True)
        for pair in wrong:
            print("   false:", *pair)

    print(f"{which}: {len(original)} photographs, {len(rows)} uploads")
    evaluate("pHash <= 10 alone (quality >= 50)", 10, 256, 1)
    for ph, t, variants in ((10, 80, 2), (10, 70, 3), (10, 80, 3), (10, 90, 3), (12, 80, 3)):
        label = {1: "whole", 2: "whole+mirror", 3: "whole+mirror+centre"}[variants]
        evaluate(f"{label}: pHash <= {ph}, 256-bit <= {t}", ph, t, variants)


if __name__ == "__main__":
    main()

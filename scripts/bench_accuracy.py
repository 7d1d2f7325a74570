"""Near-duplicate accuracy on real photographs, run by scripts/bench-accuracy (which builds the
binary, installs the peers and unpacks the wallpaper packages first). Not a test: figures are
printed, never asserted.

The photographs come from packages installable here (README: sources and licences): Debian's
plasma-workspace-wallpapers and mate-backgrounds (photographs only, picked by name) and the sample
photos inside the scikit-learn, scikit-image and matplotlib wheels. Each is made an "original"
(upright, RGB, long side at most 1600 px, JPEG q95) and edited with seeded parameters into
copies people upload again: smaller, JPEG re-compressed, cropped 2-10%, brighter, lower contrast,
turned a few degrees, a caption box in a corner, grey, PNG or WebP, mirrored. Three flat or
near-flat pictures join them (each must match nothing).

One user uploads, through nginx and the real binary, the flats, then every original, then every
copy in a seeded order, and reads `similar` from each upload answer. The peers see the same files
in the same order: imagehash's `phash` (64 bits, threshold 10) and PDQ (`pdqhash`, 256 bits,
threshold 31, hashes of quality below 50 never match, as PDQ's README says). For each method:
recall (a copy whose answer names its original) per edit kind, and false matches: pairs (an
upload and an earlier upload of another photo named together) and uploads with at least one.

A third of the photographs, chosen by a hash of their names, is held out: `--set tune` runs only
the others (the set to tune on), `--set held-out` only those, `--set all` (default) prints the
held-out figures and those of the whole set.
"""
import argparse
import hashlib
import importlib.util
import io
import json
import math
import pathlib
import random
import subprocess
import sys
import tempfile

import imagehash
import numpy as np
import pdqhash
import requests
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from bench_common import BIN, sh, start_nginx, wait_for  # noqa: E402

CACHE = ROOT / ".cache/bench-accuracy"
SEED = 21
LONG_SIDE = 1600
PHASH_THRESHOLD = 10
PDQ_THRESHOLD = 31
PDQ_MIN_QUALITY = 50

# Photographs among the wallpapers (the others are drawings and renders), by package.
PLASMA = ["BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite",
          "OneStandsOut", "Path", "Volna", "summer_1am"]
MATE = ["Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops", "Storm",
        "TwoWings", "Wood", "YellowFlower"]
# skimage/data: photographs only (motorcycle_right is the stereo twin of motorcycle_left: left out).
SKIMAGE = ["astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png", "grass.png",
           "gravel.png", "hubble_deep_field.jpg", "ihc.png", "moon.png", "motorcycle_left.png", "page.png",
           "retina.jpg", "rocket.jpg"]


def package_dir(module):
    return pathlib.Path(importlib.util.find_spec(module).submodule_search_locations[0])


def sources(debs):
    """(name, path) of every photograph, in a fixed order."""
    out = []
    for name in PLASMA:
        images = debs / "plasma-workspace-wallpapers/usr/share/wallpapers" / name / "contents/images"
        out.append((f"plasma-{name}", max(images.iterdir(), key=lambda p: p.stat().st_size)))
    for name in MATE:
        out.append((f"mate-{name}", debs / "mate-backgrounds/usr/share/backgrounds/mate/nature" / f"{name}.jpg"))
    sklearn = package_dir("sklearn") / "datasets/images"
    out += [(f"sklearn-{n}", sklearn / f"{n}.jpg") for n in ("china", "flower")]
    out.append(("matplotlib-grace_hopper", package_dir("matplotlib") / "mpl-data/sample_data/grace_hopper.jpg"))
    skimage = package_dir("skimage") / "data"
    out += [(f"skimage-{n.split('.')[0]}", skimage / n) for n in SKIMAGE]
    return out


def held_out(name):
    """Fixed for good: a third of the photographs by the first byte of their name's SHA-256."""
    return hashlib.sha256(name.encode()).digest()[0] % 3 == 0


def jpeg(img, quality=90):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue(), "jpg"


def crop(img, rng, fraction):
    """Removes `fraction` of the width and of the height, split between the sides at random."""
    w, h = img.size
    dx, dy = round(w * fraction), round(h * fraction)
    left, top = rng.randint(0, dx), rng.randint(0, dy)
    return img.crop((left, top, w - (dx - left), h - (dy - top)))


def rotate(img, rng, degrees):
    """Turned by `degrees` either way, cropped to the largest upright rectangle of the same shape
    inside (what phone editors do), so no blank corners."""
    angle = degrees * rng.choice((-1, 1))
    turned = img.rotate(angle, resample=Image.BICUBIC)
    w, h = img.size
    a = math.radians(abs(angle))
    scale = 1 / (math.cos(a) + max(w / h, h / w) * math.sin(a))
    cw, ch = w * scale, h * scale
    return turned.crop((round((w - cw) / 2), round((h - ch) / 2), round((w + cw) / 2), round((h + ch) / 2)))


def caption(img, rng, share):
    """A white box with a dark copyright line in a random corner, `share` of the width wide."""
    img = img.copy()
    w, h = img.size
    bw, bh = round(w * share), round(w * share * 0.22)
    x = rng.choice((0, w - bw))
    y = rng.choice((0, h - bh))
    draw = ImageDraw.Draw(img)
    draw.rectangle((x, y, x + bw, y + bh), fill=(250, 250, 250))
    font = ImageFont.load_default(size=max(8, round(bh * 0.5)))
    draw.text((x + bh * 0.25, y + bh * 0.2), f"© 2024 Photo {rng.randint(10, 99)}", fill=(20, 20, 20), font=font)
    return img


# (kind, strength, edit(img, rng) -> (bytes, extension)).
EDITS = [
    ("smaller", "50%", lambda i, r: jpeg(i.resize((i.width // 2, i.height // 2), Image.LANCZOS))),
    ("smaller", "25%", lambda i, r: jpeg(i.resize((i.width // 4, i.height // 4), Image.LANCZOS))),
    ("jpeg", "q75", lambda i, r: jpeg(i, 75)),
    ("jpeg", "q50", lambda i, r: jpeg(i, 50)),
    ("jpeg", "q25", lambda i, r: jpeg(i, 25)),
    ("crop", "2%", lambda i, r: jpeg(crop(i, r, 0.02))),
    ("crop", "5%", lambda i, r: jpeg(crop(i, r, 0.05))),
    ("crop", "10%", lambda i, r: jpeg(crop(i, r, 0.10))),
    ("brighter", "+15%", lambda i, r: jpeg(ImageEnhance.Brightness(i).enhance(1.15))),
    ("brighter", "+30%", lambda i, r: jpeg(ImageEnhance.Brightness(i).enhance(1.30))),
    ("contrast", "-20%", lambda i, r: jpeg(ImageEnhance.Contrast(i).enhance(0.8))),
    ("contrast", "-40%", lambda i, r: jpeg(ImageEnhance.Contrast(i).enhance(0.6))),
    ("rotate", "2deg", lambda i, r: jpeg(rotate(i, r, 2))),
    ("rotate", "5deg", lambda i, r: jpeg(rotate(i, r, 5))),
    ("caption", "25% wide", lambda i, r: jpeg(caption(i, r, 0.25))),
    ("caption", "40% wide", lambda i, r: jpeg(caption(i, r, 0.40))),
    ("grey", "", lambda i, r: jpeg(i.convert("L"))),
    ("format", "png", lambda i, r: (png_bytes(i), "png")),
    ("format", "webp", lambda i, r: (webp_bytes(i), "webp")),
    ("mirror", "", lambda i, r: jpeg(ImageOps.mirror(i))),
]


def png_bytes(img):
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def webp_bytes(img):
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=80)
    return buf.getvalue()


def flats():
    """Pictures with (almost) nothing in them: each must match nothing."""
    grey = Image.new("RGB", (1200, 800), (128, 128, 128))
    blue = Image.new("RGB", (1600, 1000), (30, 60, 200))
    ramp = np.tile(np.linspace(100, 112, 1200), (800, 1))
    near = Image.fromarray(np.stack([ramp, ramp, ramp + 5], axis=-1).astype(np.uint8))
    return [("flat-grey", png_bytes(grey), "png"), ("flat-blue", jpeg(blue)[0], "jpg"),
            ("flat-ramp", jpeg(near, 95)[0], "jpg")]


def make_files(debs, which):
    """[(photo, kind, strength, path)] in upload order; files are made once and cached."""
    files = CACHE / "files"
    files.mkdir(parents=True, exist_ok=True)
    uploads = []
    for name, data, ext in flats():
        path = files / f"{name}.{ext}"
        if not path.exists():
            path.write_bytes(data)
        uploads.append((name, "flat", "", path))
    originals = []
    for name, src in sources(debs):
        if which == "tune" and held_out(name) or which == "held-out" and not held_out(name):
            continue
        path = files / f"{name}.orig.jpg"
        if not path.exists():
            img = ImageOps.exif_transpose(Image.open(src)).convert("RGB")
            if max(img.size) > LONG_SIDE:
                img.thumbnail((LONG_SIDE, LONG_SIDE), Image.LANCZOS)
            path.write_bytes(jpeg(img, 95)[0])
        originals.append((name, path))
        uploads.append((name, "original", "", path))
    copies = []
    for name, path in originals:
        img = Image.open(path).convert("RGB")
        for index, (kind, strength, edit) in enumerate(EDITS):
            rng = random.Random(f"{SEED}/{name}/{index}")
            tag = f"{kind}-{strength}".rstrip("-").replace("%", "pc").replace(" ", "_").replace("+", "p")
            existing = list(files.glob(f"{name}.{tag}.*"))
            if existing:
                copy = existing[0]
            else:
                data, ext = edit(img, rng)
                copy = files / f"{name}.{tag}.{ext}"
                copy.write_bytes(data)
            copies.append((name, kind, strength, copy))
    random.Random(SEED).shuffle(copies)
    return uploads + copies


class Server:
    """assetdedup serve behind nginx on 127.0.0.1, one user; stopped by PID."""

    def __init__(self, work):
        db = work / "db.sqlite"
        sh(str(BIN), "migrate", "up", "--db", str(db))
        sh(str(BIN), "user", "add", "photos", "--db", str(db))
        self.token = sh(str(BIN), "token", "issue", "photos", "--db", str(db)).strip().splitlines()[-1]
        sock = work / "app.sock"
        www = work / "www"
        (www / "app").mkdir(parents=True)
        self.procs = [subprocess.Popen([str(BIN), "serve", "--db", str(db), "--data", str(work / "data"),
                                        "--socket", str(sock), "--threads", "2",
                                        "--request-body-dir", str(work / "nginx-app/client_body")],
                                       stderr=subprocess.DEVNULL)]
        wait_for(sock)
        nginx, self.url = start_nginx(work, "app", sock, www)
        self.procs.append(nginx)
        self.session = requests.Session()

    def upload(self, path):
        with open(path, "rb") as f:
            r = self.session.post(f"{self.url}/api/v1/assets/upload",
                                  headers={"Authorization": f"Bearer {self.token}"},
                                  data={"provider_id": "pixverse"}, files={"file": (path.name, f)})
        if r.status_code not in (200, 201):
            sys.exit(f"bench-accuracy: upload of {path.name}: {r.status_code} {r.text[:300]}")
        return r.json()

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
            p.wait(timeout=30)


def peer_hashes(path):
    img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    ph = imagehash.phash(img)
    vector, quality = pdqhash.compute(np.asarray(img))
    return ph, np.packbits(vector.astype(np.uint8)), quality


def run(uploads):
    """For each upload and method, the indexes of earlier uploads it is said to match."""
    work = pathlib.Path(tempfile.mkdtemp(prefix="ad-accuracy-"))
    server = Server(work)
    results = []
    try:
        by_asset = {}
        seen_ph, seen_pdq = [], []
        for i, (photo, kind, strength, path) in enumerate(uploads):
            answer = server.upload(path)
            by_asset.setdefault(answer["asset_id"], i)
            ours = sorted({by_asset[s["asset_id"]] for s in answer["similar"] if s["asset_id"] in by_asset} - {i})
            ph, pdq, quality = peer_hashes(path)
            phash = [j for j, h in enumerate(seen_ph) if ph - h <= PHASH_THRESHOLD]
            pdqm = []
            if quality >= PDQ_MIN_QUALITY:
                pdqm = [j for j, (h, q) in enumerate(seen_pdq)
                        if q >= PDQ_MIN_QUALITY and int(np.unpackbits(h ^ pdq).sum()) <= PDQ_THRESHOLD]
            seen_ph.append(ph)
            seen_pdq.append((pdq, quality))
            results.append({"photo": photo, "kind": kind, "strength": strength, "file": path.name,
                            "server": ours, "phash": phash, "pdq": pdqm, "pdq_quality": quality,
                            "perceptual_hash": answer.get("perceptual_hash")})
            if (i + 1) % 100 == 0:
                print(f"  {i + 1}/{len(uploads)} uploads", file=sys.stderr, flush=True)
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(work)])
    return results


METHODS = [("server", "this server"), ("phash", f"imagehash pHash <= {PHASH_THRESHOLD}"),
           ("pdq", f"PDQ <= {PDQ_THRESHOLD}, quality >= {PDQ_MIN_QUALITY}")]


def report(results, title, keep):
    """Prints recall per edit kind and false matches for the uploads whose photo `keep` accepts."""
    original = {r["photo"]: i for i, r in enumerate(results) if r["kind"] == "original"}
    rows = [(i, r) for i, r in enumerate(results) if keep(r["photo"])]
    kinds = sorted({r["kind"] for _, r in rows if r["kind"] not in ("original", "flat")},
                   key=[e[0] for e in EDITS].index)
    photos = len({r["photo"] for _, r in rows if r["kind"] == "original"})
    print(f"\n{title}: {photos} photographs, {len(rows)} uploads")
    print(f"  {'recall by edit':24}" + "".join(f"{label:>34}" for _, label in METHODS))
    totals = {m: [0, 0] for m, _ in METHODS}
    for kind in kinds:
        cells = []
        for m, _ in METHODS:
            edits = [(i, r) for i, r in rows if r["kind"] == kind]
            hit = sum(original[r["photo"]] in r[m] for _, r in edits)
            totals[m][0] += hit
            totals[m][1] += len(edits)
            cells.append(f"{hit}/{len(edits)}")
        print(f"  {kind:24}" + "".join(f"{c:>34}" for c in cells))
    print(f"  {'all edits':24}" + "".join(
        f"{f'{h}/{n} ({100 * h / max(n, 1):.1f}%)':>34}" for h, n in totals.values()))
    pairs, bad_uploads, flat_hits = [], [], []
    for m, _ in METHODS:
        wrong = [(i, j) for i, r in rows for j in r[m] if results[j]["photo"] != r["photo"]]
        pairs.append(len(wrong))
        bad_uploads.append(len({i for i, _ in wrong}))
        flat_hits.append(sum(1 for i, j in wrong if "flat" in (results[i]["kind"], results[j]["kind"])))
    print(f"  {'false match pairs':24}" + "".join(f"{p:>34}" for p in pairs))
    print(f"  {'uploads with one':24}" + "".join(
        f"{f'{u}/{len(rows)} ({100 * u / max(len(rows), 1):.1f}%)':>34}" for u in bad_uploads))
    print(f"  {'pairs with a flat image':24}" + "".join(f"{p:>34}" for p in flat_hits))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--debs", type=pathlib.Path, required=True)
    parser.add_argument("--set", choices=("all", "tune", "held-out"), default="all")
    parser.add_argument("--json", type=pathlib.Path, help="write every upload's matches here")
    args = parser.parse_args()
    uploads = make_files(args.debs, args.set)
    print(f"bench-accuracy: {len(uploads)} uploads ({len(EDITS)} edits a photograph, seed {SEED})", flush=True)
    results = run(uploads)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.set == "all":
        report(results, "Held-out photographs (never tuned on)", lambda p: p.startswith("flat") or held_out(p))
        report(results, "Whole set", lambda p: True)
    else:
        report(results, f"Set {args.set}", lambda p: True)


if __name__ == "__main__":
    main()

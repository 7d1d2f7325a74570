"""scripts/bench-thumbnails: per image, GET /assets/{id} (baseline), then its thumbnail twice
(cold: decoded from the blob; cached: read from disk); medians and ratios to the baseline."""
import argparse
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "Tests/integration"))
import conftest  # noqa: E402  (the integration tests' real stack: nginx + serve)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--side", type=int, default=256, choices=[128, 256, 512])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-thumbnails-") as base:
        base = pathlib.Path(base)
        stack = conftest.Stack(base / "stack")
        try:
            token = stack.add_user("bench")
            ids = []
            for i in range(args.images):
                # A 12 MP photo-sized JPEG, different each time (the fractal's zoom).
                path = base / f"p{i}.jpg"
                subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                                f"mandelbrot=s=4000x3000:start_scale={3.0 - i * 0.05}", "-frames:v", "1",
                                "-q:v", "3", str(path)], check=True)
                r = stack.upload(token, path.read_bytes(), filename=path.name, mime="image/jpeg")
                assert r.status_code == 201, r.text
                ids.append(r.json()["asset_id"])

            def timed(url):
                start = time.perf_counter()
                r = stack.api("GET", url, token)
                assert r.status_code == 200, r.text
                return time.perf_counter() - start
            json_s, cold_s, cached_s = [], [], []
            for asset in ids:
                json_s.append(timed(f"/api/v1/assets/{asset}"))
                cold_s.append(timed(f"/api/v1/assets/{asset}/thumbnail?size={args.side}"))
                cached_s.append(timed(f"/api/v1/assets/{asset}/thumbnail?size={args.side}"))
        finally:
            stack.stop()
    base_ms = statistics.median(json_s) * 1000
    print(f"{args.images} images of 4000x3000, thumbnails of {args.side} px; medians:")
    print(f"  GET /assets/{{id}} (baseline)   {base_ms:8.2f} ms  1.0")
    for name, values in [("thumbnail, first (decode)", cold_s), ("thumbnail, cached", cached_s)]:
        ms = statistics.median(values) * 1000
        print(f"  {name:<28} {ms:8.2f} ms  {ms / base_ms:.1f}x baseline")


if __name__ == "__main__":
    main()

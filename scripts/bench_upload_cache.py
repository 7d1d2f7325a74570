"""scripts/bench-upload-cache: a re-run over an unchanged folder with the hash cache vs with
--no-cache, same folder, same server, same run. Prints the ratio (the first run for scale)."""
import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests/integration"))
from conftest import Stack  # noqa: E402  (the test stack: nginx + serve, stopped by PID)

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=3)
args = parser.parse_args()
upload = os.environ["ASSETDEDUP_UPLOAD_BIN"]
base = pathlib.Path(tempfile.mkdtemp(prefix="bench-upload-cache-", dir="/tmp"))
stack = None
try:
    stack = Stack(base / "stack")
    token_file = base / "token"
    token_file.write_text(stack.add_user("bench") + "\n")
    folder = base / "files"
    folder.mkdir()
    settled = time.time() - 3600  # older than the cache's 2 s "racily clean" window
    for i, size in enumerate([10_000] * 150 + [1_000_000] * 40 + [20_000_000] * 10):
        path = folder / f"f{i:03}.bin"
        path.write_bytes(os.urandom(size))
        os.utime(path, (settled, settled))
    env = {"PATH": os.environ["PATH"], "HOME": str(base), "XDG_CACHE_HOME": str(base / "cache"),
           "XDG_CONFIG_HOME": str(base / "config")}

    def run(*extra):
        started = time.monotonic()
        r = subprocess.run([upload, "--server", stack.base_url, "--token-file", str(token_file), "--provider",
                            "pixverse", "--jobs", "2", *extra, str(folder)], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"bench-upload-cache: assetdedup-upload failed ({r.returncode}): {r.stderr}")
        return time.monotonic() - started

    first = run()
    cached, uncached = [], []
    for _ in range(args.runs):
        uncached.append(run("--no-cache"))
        cached.append(run())
    print(f"first run {first:.2f} s; re-run, best of {args.runs}: cached {min(cached):.3f} s, "
          f"--no-cache {min(uncached):.3f} s; ratio {min(cached) / min(uncached):.3f}")
finally:
    if stack:
        stack.stop()
    shutil.rmtree(base, ignore_errors=True)

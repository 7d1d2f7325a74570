"""scripts/bench-upload: assetdedup-upload importing a folder of small files vs a shell loop of
sha256sum + curl check-by-hash + curl -F upload over the same files, same server, same run (a
user each, so both send every file); then a re-run after adding 10 files vs the first run.
Prints both ratios; checks both imports made every asset, so neither figure is of a failed run."""
import argparse
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests/integration"))
from conftest import Stack  # noqa: E402  (the test stack: nginx + serve, stopped by PID)

BASELINE = r"""
set -u
api="$1/api/v1"; auth="Authorization: Bearer $(cat "$2")"; shift 2
for f in "$@"; do
  sum=$(sha256sum "$f" | cut -d' ' -f1)
  if curl -sf -H "$auth" -H 'Content-Type: application/json' \
       -d "{\"sha256\":\"$sum\",\"provider_id\":\"pixverse\"}" "$api/assets/check-by-hash" \
       | grep -Eq '"exists": ?true'; then continue; fi
  curl -sf -o /dev/null -H "$auth" -F provider_id=pixverse -F "sha256=$sum" -F "file=@$f" "$api/assets/upload" \
    || echo "baseline: $f failed" >&2
done
"""

parser = argparse.ArgumentParser()
parser.add_argument("--files", type=int, default=2000)
parser.add_argument("--jobs", type=int, default=2)
parser.add_argument("--concurrency", type=int, default=4)
args = parser.parse_args()
upload = os.environ["ASSETDEDUP_UPLOAD_BIN"]
base = pathlib.Path(tempfile.mkdtemp(prefix="bench-upload-", dir="/tmp"))
stack = None
try:
    stack = Stack(base / "stack")
    folder = base / "files"
    folder.mkdir()
    rng = random.Random(23)
    for i in range(args.files):
        (folder / f"f{i:05}.bin").write_bytes(os.urandom(rng.randint(1_000, 50_000)))
    total_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    env = {"PATH": os.environ["PATH"], "HOME": str(base), "XDG_CACHE_HOME": str(base / "cache"),
           "XDG_CONFIG_HOME": str(base / "config")}

    def token_file(name):
        path = base / f"token-{name}"
        path.write_text(stack.add_user(name) + "\n")
        return path, path.read_text().strip()

    def assets(token):
        total, after = 0, None
        while True:
            r = stack.api("GET", "/api/v1/assets?limit=500" + (f"&after={after}" if after else ""), token)
            r.raise_for_status()
            total += len(r.json()["assets"])
            after = r.json().get("next_after")
            if not after:
                return total

    def timed(argv):
        started = time.monotonic()
        r = subprocess.run(argv, env=env, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        if r.returncode != 0 or "failed" in r.stderr:
            sys.exit(f"bench-upload: {argv[0]} failed ({r.returncode}): {r.stderr[-2000:]}")
        return elapsed

    shell_tokens, shell_token = token_file("shell")
    files = sorted(str(p) for p in folder.iterdir())
    baseline = timed(["bash", "-c", BASELINE, "baseline", stack.base_url, str(shell_tokens), *files])

    cli_tokens, cli_token = token_file("cli")
    cli = [upload, "--server", stack.base_url, "--token-file", str(cli_tokens), "--provider", "pixverse",
           "--jobs", str(args.jobs), "--concurrency", str(args.concurrency), "--no-progress", str(folder)]
    first = timed(cli)
    for i in range(10):
        (folder / f"added{i}.bin").write_bytes(os.urandom(rng.randint(1_000, 50_000)))
    rerun = timed(cli)

    counts = {"shell": assets(shell_token), "cli": assets(cli_token)}
    if counts["shell"] != args.files or counts["cli"] != args.files + 10:
        sys.exit(f"bench-upload: assets made {counts}, expected {args.files} and {args.files + 10}")
    print(f"{args.files} files, {total_mb:.0f} MB; --jobs {args.jobs} --concurrency {args.concurrency}")
    print(f"  baseline shell loop (sha256sum + curl check + curl -F)  {baseline:8.2f} s")
    print(f"  assetdedup-upload                                       {first:8.2f} s   ratio {first / baseline:.3f}")
    print(f"  re-run after adding 10 files                            {rerun:8.2f} s   "
          f"{rerun / first:.3f} of the first run")
finally:
    if stack:
        stack.stop()
    shutil.rmtree(base, ignore_errors=True)

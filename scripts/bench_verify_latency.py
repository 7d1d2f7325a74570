#!/usr/bin/env python3
"""The second half of scripts/bench-verify: serve's check-by-hash latency through nginx (wrk,
p50/p99) alone, then while `assetdedup verify --limit-rate MB/s` re-reads the same store's blobs.
The issue's goal: p99 < 10 ms while verify runs at its limit. Prints both and their ratio.

usage: scripts/bench_verify_latency.py DB DATA_DIR RATE_MB_S [SECONDS]
"""
import hashlib
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from bench_common import BIN, sh, start_nginx, wait_for, wrk  # noqa: E402


def main():
    db, data, rate = sys.argv[1], sys.argv[2], sys.argv[3]
    seconds = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    work = pathlib.Path(tempfile.mkdtemp(prefix="ad-bench-verify-"))
    procs = []  # (process, the signal that stops it)
    try:
        user = f"latency{os.getpid()}"
        sh(str(BIN), "user", "add", user, "--db", db)
        token = sh(str(BIN), "token", "issue", user, "--db", db).strip().splitlines()[-1]
        www = work / "www"
        (www / "app").mkdir(parents=True)
        sock = work / "app.sock"
        app = subprocess.Popen([str(BIN), "serve", "--db", db, "--data", data, "--socket", str(sock), "--threads", "2",
                                "--request-body-dir", str(work / "nginx-app/client_body")], stderr=subprocess.DEVNULL)
        procs.append((app, signal.SIGTERM))
        wait_for(sock)
        nginx, url = start_nginx(work, "app", sock, www)
        procs.append((nginx, signal.SIGQUIT))
        seed = work / "seed.bin"
        seed.write_bytes(os.urandom(4096))
        sh("curl", "-sf", "-H", f"Authorization: Bearer {token}", "-F", "provider_id=pixverse", "-F", f"file=@{seed}",
           f"{url}/api/v1/assets/upload")
        lua = work / "check.lua"
        lua.write_text(
            'wrk.method = "POST"\n'
            f'wrk.body = \'{{"sha256":"{hashlib.sha256(seed.read_bytes()).hexdigest()}","provider_id":"pixverse"}}\'\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {token}"\n')
        alone = wrk(f"{url}/api/v1/assets/check-by-hash", seconds, lua)
        verify = subprocess.Popen([str(BIN), "verify", "--db", db, "--data", data, "--since", "0", "--limit-rate", rate],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append((verify, signal.SIGTERM))
        during = wrk(f"{url}/api/v1/assets/check-by-hash", seconds, lua)
        running = verify.poll() is None
        print(f"check-by-hash (wrk -t2 -c32 -d{seconds}s, 2 serve threads):")
        for name, r in [("alone", alone), (f"during verify --limit-rate {rate}", during)]:
            print(f"  {name:32} {r[0]:8.0f} req/s  p50 {r[1]:6.2f} ms  p99 {r[2]:6.2f} ms  non-2xx {r[3]}")
        print(f"  p99 during / alone: {during[2] / alone[2]:.2f} (goal: p99 < 10 ms during)"
              + ("" if running else "  [verify finished before the end: use more SIZE_MB or a lower rate]"))
    finally:
        for proc, stop in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(stop)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

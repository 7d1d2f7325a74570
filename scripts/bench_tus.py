#!/usr/bin/env python3
"""A 1 GiB tus 1.0.0 upload to this server (nginx + `serve`, release, SQLite, local blobs) against
the tus servers on PyPI (aiohttp-tus; tuspyserver, asgi-tus and litestar-tus under uvicorn; each
with its file store), all on 127.0.0.1 in one run, with one client: the plain http.client loop
below (creation without a body, then PATCHes of --chunk-mib each on one connection), the same
requests and the same Upload-Metadata for every server. Runs alternate the servers' order (ours
first, then the others; then reversed); each upload sends new content (random first 64 bytes).
Prints per upload the wall time, MB/s, MB/s until the bytes are on the disk (the upload plus a
`sync` after it), the server's CPU (its processes: for ours serve + nginx) and the client's, the median and last PATCH's time, the disk's time to write and fdatasync one
chunk just before (`sync ms`), the load average, then the medians and the ratio ours / each of
theirs (goal >= 1.5x the fastest).

What each side does with the bytes: ours hashes them (SHA-256, checked at completion against the
`sha256` of the metadata: a mismatch is 422 and nothing is kept), stores the blob, records the
asset in SQLite and delivers it to the directory provider `pixverse` (a hard link) before the
last PATCH answers; nginx writes each PATCH body to a file first; the app records each append
once its bytes are in the page cache (an acknowledged offset survives a crash of the app) and
fdatasyncs every 64 MiB and the last append (a power loss takes back at most 64 MiB, docs/DESIGN.md).
Theirs write the chunks into a file and keep their offset in a JSON file: tuspyserver fsyncs
that JSON on every PATCH but not the bytes, the others fsync nothing; none checks a digest
(their stored file is hashed after the clock stops, to know the bytes arrived). Every server's
data is under one mktemp -d on the same disk; the page cache is flushed (sync) before each upload.

Not a test: numbers move with the machine's load (printed with each upload); read the ratios.
Run through scripts/bench-tus, which builds the binary and makes the servers' venvs.

usage: scripts/bench_tus.py bench --python KIND=PYTHON ... [--runs N] [--size-mib M] [--chunk-mib C]
                                  [--threads T] [--tmp DIR] [--skip KIND=WHY ...]
       scripts/bench_tus.py serve KIND --port P --dir D --max-body B   (one of theirs, in its venv)
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import pathlib
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parents[1]
OURS = "assetdedup"
# Theirs: the creation path each is mounted at.
THEIRS = {"aiohttp-tus": "/files", "tuspyserver": "/files", "asgi-tus": "/files", "litestar-tus": "/files"}
UPLOAD_TIMEOUT = 300  # seconds for one upload (1 GiB at under ~3.5 MB/s is cut)


# ---------------------------------------------------------------- theirs, run inside their venv

def serve(kind, port, directory, max_body):
    """One PyPI tus server on 127.0.0.1:port with its file store in `directory`, in the foreground.
    Request-size limits are raised to fit one chunk (aiohttp's default is 1 MiB, Litestar's ~9.5)."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if kind == "aiohttp-tus":
        from aiohttp import web
        from aiohttp_tus import setup_tus
        app = setup_tus(web.Application(client_max_size=max_body), upload_path=directory, upload_url="/files")
        web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
        return
    import uvicorn
    if kind == "tuspyserver":
        from fastapi import FastAPI
        from tuspyserver import create_tus_router
        app = FastAPI()
        app.include_router(create_tus_router(prefix="files", files_dir=str(directory)))
    elif kind == "asgi-tus":
        from asgi_tus import ASGITusApp, FileStorage, TusConfig
        app = ASGITusApp(FileStorage(str(directory)), TusConfig(upload_path="/files"))
    elif kind == "litestar-tus":
        from litestar import Litestar
        from litestar_tus import TUSConfig, TUSPlugin
        app = Litestar(plugins=[TUSPlugin(TUSConfig(path_prefix="/files", upload_dir=directory))],
                       request_max_body_size=max_body)
    else:
        sys.exit(f"bench_tus: unknown server {kind}")
    # uvicorn[standard]: uvloop and httptools when installed (its fastest setting).
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ---------------------------------------------------------------- the client, the same for all

def metadata_header(pairs):
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


def tus_upload(endpoint, path, size, chunk, headers, metadata):
    """Creation (no body), then PATCHes of `chunk` bytes on one keep-alive connection. Returns
    (seconds, last status, last body, each PATCH's seconds). Exits on any unexpected answer."""
    parts = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    deadline = time.monotonic() + UPLOAD_TIMEOUT
    start = time.perf_counter()
    conn.request("POST", parts.path, headers={**headers, "Tus-Resumable": "1.0.0", "Upload-Length": str(size),
                                             "Upload-Metadata": metadata_header(metadata), "Content-Length": "0"})
    response = conn.getresponse()
    body = response.read()
    if response.status != 201 or not response.getheader("Location"):
        sys.exit(f"bench_tus: creation at {endpoint} answered {response.status}: {body[:300]!r}")
    location = urllib.parse.urljoin(endpoint, response.getheader("Location"))
    loc = urllib.parse.urlsplit(location)
    if (loc.hostname, loc.port) != (parts.hostname, parts.port):
        sys.exit(f"bench_tus: {endpoint} gave an upload URL on another host: {location}")
    offset, status, patches = 0, None, []
    with open(path, "rb") as handle:
        while offset < size:
            if time.monotonic() > deadline:
                sys.exit(f"bench_tus: upload to {endpoint} took over {UPLOAD_TIMEOUT} s (at byte {offset})")
            data = handle.read(min(chunk, size - offset))
            patch_start = time.perf_counter()
            conn.putrequest("PATCH", loc.path, skip_accept_encoding=True)
            for name, value in [*headers.items(), ("Tus-Resumable", "1.0.0"),
                                ("Content-Type", "application/offset+octet-stream"),
                                ("Upload-Offset", str(offset)), ("Content-Length", str(len(data)))]:
                conn.putheader(name, value)
            conn.endheaders()
            conn.send(data)
            response = conn.getresponse()
            body = response.read()
            status = response.status
            patches.append(time.perf_counter() - patch_start)
            offset += len(data)
            if status not in (200, 201, 202, 204) or response.getheader("Upload-Offset") != str(offset):
                sys.exit(f"bench_tus: PATCH to {location} at {offset - len(data)} answered {status} "
                         f"(Upload-Offset {response.getheader('Upload-Offset')}): {body[:300]!r}")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed, status, body, patches


# ---------------------------------------------------------------- processes and measurements

def tree_cpu(pids):
    """utime + stime of `pids` and all their descendants (nginx's workers), from /proc."""
    parent, cpu = {}, {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = pathlib.Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total = 0.0
    for pid in cpu:
        p = pid
        while p and p not in pids:
            p = parent.get(p)
        if p:
            total += cpu[pid]
    return total


def self_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


def disk_probe(directory, chunk, count=3):
    """Median ms to write `chunk` bytes and fdatasync them on the data disk: what a PATCH made
    durable before it answers would pay (ours does so every 64 MiB; theirs never do for the
    bytes), and what moves with other processes' disk traffic."""
    path = directory / "probe.bin"
    data = os.urandom(chunk)
    times = []
    with open(path, "wb") as f:
        for _ in range(count):
            start = time.perf_counter()
            f.write(data)
            f.flush()
            os.fdatasync(f.fileno())
            times.append((time.perf_counter() - start) * 1e3)
    path.unlink()
    return statistics.median(times)


def fresh_content(path):
    with open(path, "r+b") as f:
        f.write(os.urandom(64))


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def bench(args):
    from bench_common import BIN, sh, start_nginx, wait_for, wait_for_port, free_port  # noqa: E402
    pythons = dict(item.split("=", 1) for item in args.python)
    skipped = dict(item.split("=", 1) for item in args.skip)
    theirs = [kind for kind in THEIRS if kind in pythons]
    size, chunk = args.size_mib << 20, args.chunk_mib << 20
    work = pathlib.Path(tempfile.mkdtemp(prefix="ad-bench-tus-", dir=args.tmp))
    fstype = sh("stat", "-f", "-c", "%T", str(work)).strip()
    if fstype == "tmpfs":
        sys.exit(f"bench_tus: {work} is on tmpfs; give --tmp a directory on a disk")
    procs = []
    try:
        # Ours: the stack as scripts/bench runs it.
        db = work / "db.sqlite"
        sh(str(BIN), "migrate", "up", "--db", str(db))
        sh(str(BIN), "user", "add", "bench", "--db", str(db))
        token = sh(str(BIN), "token", "issue", "bench", "--db", str(db)).strip().splitlines()[-1]
        www = work / "www"
        (www / "app").mkdir(parents=True)
        sock = work / "app.sock"
        app = subprocess.Popen([str(BIN), "serve", "--db", str(db), "--data", str(work / "data"), "--socket", str(sock),
                                "--threads", str(args.threads), "--request-body-dir",
                                str(work / "nginx-app/client_body")], stderr=subprocess.DEVNULL)
        procs.append(app)
        wait_for(sock)
        nginx, url = start_nginx(work, "app", sock, www)
        procs.append(nginx)
        servers = {OURS: {"endpoint": f"{url}/api/v1/tus", "pids": {app.pid, nginx.pid}, "dir": work / "data"}}
        for kind in theirs:
            port = free_port()
            directory = work / kind
            proc = subprocess.Popen([pythons[kind], str(pathlib.Path(__file__).resolve()), "serve", kind,
                                     "--port", str(port), "--dir", str(directory), "--max-body", str(chunk + (1 << 20))],
                                    stdout=subprocess.DEVNULL)
            procs.append(proc)
            try:
                wait_for_port(port, proc)
            except SystemExit:
                sys.exit(f"bench_tus: {kind} did not start on 127.0.0.1:{port} (exit {proc.poll()}; its error above)")
            servers[kind] = {"endpoint": f"http://127.0.0.1:{port}{THEIRS[kind]}", "pids": {proc.pid}, "dir": directory}

        big = work / "big.bin"
        with open(big, "wb") as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(1 << 20))
        size_mb = size / 1e6
        versions = {kind: sh(pythons[kind], "-c", f"import importlib.metadata as m, sys; print(m.version({kind!r}), "
                                                  "'py%d.%d' % sys.version_info[:2])").strip() for kind in theirs}
        print(f"tus upload of {args.size_mib} MiB in {args.chunk_mib} MiB PATCHes, one http.client connection per upload;"
              f" {os.cpu_count()} cores; data under {work} ({fstype})")
        print(f"  ours: nginx + serve --threads {args.threads} (release, SQLite, local blobs, provider pixverse,"
              " SHA-256 checked against the metadata)")
        for kind in theirs:
            print(f"  {kind} {versions[kind]}" + (" (aiohttp)" if kind == "aiohttp-tus" else " (uvicorn)"))
        for kind, why in skipped.items():
            print(f"  {kind}: not run: {why}")
        print(f"{'run':>3}  {'server':<13} {'wall s':>7} {'MB/s':>7} {'+sync MB/s':>10} {'server cpu s':>12}"
              f" {'client cpu s':>12}"
              f" {'PATCH ms med/last':>17} {'sync ms':>7} {'load 1m':>7}  answer")
        # One small upload to each first (not timed): imports, connections and caches warm.
        warm = work / "warm.bin"
        warm.write_bytes(os.urandom(2 * chunk))
        for kind, server in servers.items():
            fresh_content(warm)
            tus_upload(server["endpoint"], warm, 2 * chunk, chunk, {"Authorization": f"Bearer {token}"},
                       {"provider_id": "pixverse", "filename": f"warm-{kind}.bin", "filetype": "application/octet-stream",
                        "sha256": sha256_file(warm)})
            if kind != OURS:
                for stored in server["dir"].rglob("*"):
                    if stored.is_file() and stored.stat().st_size == 2 * chunk:
                        stored.unlink()
        results = {kind: [] for kind in servers}
        cpu = {kind: [] for kind in servers}
        flushed = {kind: [] for kind in servers}
        order = [OURS, *theirs]
        for n in range(1, args.runs + 1):
            for kind in (order if n % 2 else order[::-1]):
                fresh_content(big)
                digest = sha256_file(big)
                os.sync()
                sync_ms = disk_probe(work, chunk)
                server = servers[kind]
                metadata = {"provider_id": "pixverse", "filename": f"bench-{n}-{kind}.bin",
                            "filetype": "application/octet-stream", "sha256": digest}
                server_cpu, client_cpu, serve_cpu = tree_cpu(server["pids"]), self_cpu(), tree_cpu({app.pid})
                wall, status, body, patches = tus_upload(server["endpoint"], big, size, chunk,
                                                {"Authorization": f"Bearer {token}"}, metadata)
                server_cpu, client_cpu = tree_cpu(server["pids"]) - server_cpu, self_cpu() - client_cpu
                serve_cpu = tree_cpu({app.pid}) - serve_cpu
                load = os.getloadavg()[0]
                # Until the bytes are on the disk: theirs leave them in the page cache, ours
                # fdatasyncs the last append (and every 64 MiB), so its flush here is short.
                flush_start = time.perf_counter()
                os.sync()
                durable = wall + time.perf_counter() - flush_start
                if kind == OURS:
                    answer = json.loads(body)
                    if answer.get("sha256") != digest or answer.get("size") != size:
                        sys.exit(f"bench_tus: our answer does not match the content: {answer}")
                    note = (f"{status} {answer.get('status')}, sha256 checked by the server; cpu serve {serve_cpu:.2f}"
                            f" + nginx {server_cpu - serve_cpu:.2f}")
                else:
                    # The bytes arrived: the stored file (the one of this size) hashed after the clock.
                    stored = [p for p in server["dir"].rglob("*") if p.is_file() and p.stat().st_size == size]
                    if len(stored) != 1 or sha256_file(stored[0]) != digest:
                        sys.exit(f"bench_tus: {kind} did not store the content (files of {size} bytes: {stored})")
                    note = f"{status}, stored file's sha256 matches (checked after the clock)"
                    stored[0].unlink()
                results[kind].append(size_mb / wall)
                flushed[kind].append(size_mb / durable)
                cpu[kind].append(server_cpu)
                patch_ms = f"{statistics.median(patches[:-1] or patches) * 1e3:.0f}/{patches[-1] * 1e3:.0f}"
                print(f"{n:>3}  {kind:<13} {wall:>7.2f} {size_mb / wall:>7.0f} {size_mb / durable:>10.0f}"
                      f" {server_cpu:>12.2f} {client_cpu:>12.2f} {patch_ms:>17} {sync_ms:>7.0f} {load:>7.2f}  {note}",
                      flush=True)
        gib = size / (1 << 30)
        medians = {kind: statistics.median(v) for kind, v in results.items()}
        durables = {kind: statistics.median(v) for kind, v in flushed.items()}
        print("median MB/s, until synced, server CPU s per GiB: " + "; ".join(
            f"{kind} {medians[kind]:.0f}, {durables[kind]:.0f}, {statistics.median(cpu[kind]) / gib:.2f}"
            for kind in servers))
        if theirs:
            for kind in theirs:
                print(f"ratio ours/{kind}: {medians[OURS] / medians[kind]:.2f}"
                      f" (until synced: {durables[OURS] / durables[kind]:.2f})")
            fastest = max(theirs, key=medians.get)
            print(f"ratio ours/fastest of theirs ({fastest}): {medians[OURS] / medians[fastest]:.2f} (goal >= 1.5)")
            fastest = max(theirs, key=durables.get)
            print(f"until synced, ours/fastest of theirs ({fastest}): {durables[OURS] / durables[fastest]:.2f}")
    finally:
        stop(procs)
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--python", action="append", default=[], metavar="KIND=PYTHON",
                   help="a server of theirs to run, with the venv python it is installed in")
    b.add_argument("--skip", action="append", default=[], metavar="KIND=WHY", help="a server not run, and why")
    b.add_argument("--runs", type=int, default=3)
    b.add_argument("--size-mib", type=int, default=1024)
    b.add_argument("--chunk-mib", type=int, default=8)
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--tmp", default="/tmp", help="where the mktemp -d for every server's data goes (not tmpfs)")
    s = sub.add_parser("serve")
    s.add_argument("kind", choices=sorted(THEIRS))
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--dir", required=True)
    s.add_argument("--max-body", type=int, required=True)
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.kind, args.port, args.dir, args.max_body)
    else:
        # scripts/bench-tus's timeout sends SIGTERM: stop the servers and remove the data on the way out.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench_tus: stopped by SIGTERM (the time limit?)"))
        sys.path.insert(0, str(ROOT / "scripts"))
        bench(args)


if __name__ == "__main__":
    main()

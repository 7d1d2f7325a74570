"""The command-line uploader (`assetdedup-upload`, issue 23) against the real stack: a folder
with new files, a held file, system junk, a duplicate inside the folder and a file over the
resumable threshold (tus); outcomes checked through the API, a re-run sends nothing, `--dry-run`
sends nothing, a second provider goes by add-provider with zero file bytes, exit codes; the hash
cache (a re-run reads no unchanged file) and a big upload resumed after `kill -9`."""
import hashlib
import json
import os
import pathlib
import pty
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest

from conftest import ROOT, wait_until
from test_browser_e2e import log_request_sizes

UPLOAD_BIN = os.environ.get("ASSETDEDUP_UPLOAD_BIN", str(ROOT / ".build/release/assetdedup-upload"))
THRESHOLD = 100_000
CHUNK = 65_536
MIB = 1024 * 1024


def sha(data):
    return hashlib.sha256(data).hexdigest()


CLI_AGENT = "assetdedup/1"  # CurlTransport's User-Agent: the test's own requests are not counted


def requests_seen(stack):
    """The uploader's request lines nginx logged so far (method and path). nginx writes a log
    line just after the response leaves, so a marker request sent afterwards is waited for
    first: once it is in the log, every earlier request is too."""
    log = stack.dir / "nginx" / "access.log"
    marker = f"/api/v1/health?mark={uuid.uuid4().hex}"
    assert stack.api("GET", marker).status_code == 200
    deadline = time.monotonic() + 10
    while marker not in (text := log.read_text()):
        assert time.monotonic() < deadline, "the marker request never reached nginx's access log"
        time.sleep(0.01)
    lines = [line for line in text.splitlines() if line.endswith(f'"{CLI_AGENT}"')]
    return [m.groups() for line in lines if (m := re.search(r'"([A-Z]+) (\S+) HTTP/[\d.]+"', line))]


def run_upload(stack, token_file, *args, env=None, check_rc=None):
    full_env = {k: v for k, v in os.environ.items() if k != "ASSETDEDUP_TOKEN"}
    full_env["XDG_CONFIG_HOME"] = str(pathlib.Path(token_file).parent / "no-config")
    full_env["XDG_CACHE_HOME"] = str(pathlib.Path(token_file).parent / "cache")  # one hash cache per test
    full_env.update(env or {})
    argv = [UPLOAD_BIN, "--server", stack.base_url, "--token-file", str(token_file), *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=full_env)
    if check_rc is not None:
        assert result.returncode == check_rc, (result.returncode, result.stdout, result.stderr)
    return result


def by_path(summary, provider="pixverse"):
    return {pathlib.Path(f["path"]).name: f for f in summary["files"] if f.get("provider") in (provider, None)}


@pytest.fixture
def user(stack, tmp_path):
    token = stack.add_user("uploader")
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    return token, token_file


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    files = {
        "a.jpg": os.urandom(5_000),
        "b.bin": os.urandom(7_000),
        "held.bin": os.urandom(3_000),
        "big.bin": os.urandom(300_000),  # over THRESHOLD: tus, in 65536-byte PATCHes
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    files["c.bin"] = os.urandom(2_000)
    (root / "sub" / "c.bin").write_bytes(files["c.bin"])
    (root / "sub" / "copy-of-a.jpg").write_bytes(files["a.jpg"])  # a duplicate inside the folder
    for junk in (".DS_Store", "Thumbs.db", "desktop.ini", "._a.jpg", ".hidden"):
        (root / junk).write_bytes(b"junk " + junk.encode())
    (root / "link.bin").symlink_to(root / "b.bin")
    settle(root)
    return root, files


HOUR_AGO = time.time() - 3600


def settle(root):
    """Dates every file an hour back: written long before the run, so the hash cache may trust
    its digest next time (a file hashed within 2 s of its last write is read again)."""
    for path in pathlib.Path(root).rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, (HOUR_AGO, HOUR_AGO))


def asset_count(stack, token):
    total, after = 0, None
    while True:
        r = stack.api("GET", "/api/v1/assets?limit=500" + (f"&after={after}" if after else ""), token)
        assert r.status_code == 200, r.text
        body = r.json()
        total += len(body["assets"])
        after = body.get("next_after")
        if not after:
            return total


def test_upload_folder_rerun_dry_run_and_second_provider(stack, user, folder):
    token, token_file = user
    root, files = folder
    held = stack.upload(token, files["held.bin"], filename="held.bin")
    assert held.status_code == 201, held.text
    held_id = held.json()["asset_id"]
    assert asset_count(stack, token) == 1

    seen = len(requests_seen(stack))
    r = run_upload(stack, token_file, "--provider", "pixverse", "--json", "--jobs", "2",
                   "--resumable-threshold", str(THRESHOLD), "--chunk-size", str(CHUNK), str(root), check_rc=0)
    summary = json.loads(r.stdout)
    keys = {"path", "sha256", "size", "provider", "outcome", "asset_id", "reason", "similar", "bytes_sent"}
    assert all(set(f) == keys for f in summary["files"]), summary["files"]
    assert summary["error"] is None and summary["dry_run"] is False
    out = by_path(summary)
    for name in ("a.jpg", "b.bin", "c.bin", "big.bin"):
        assert out[name]["outcome"] == "new", out[name]
        assert out[name]["sha256"] == sha(files[name])
        assert out[name]["size"] == len(files[name])
        asset = stack.api("GET", f"/api/v1/assets/{out[name]['asset_id']}", token).json()
        assert asset["sha256"] == sha(files[name])
        assert stack.blob(sha(files[name])).read_bytes() == files[name]
    assert out["held.bin"]["outcome"] == "reused" and out["held.bin"]["asset_id"] == held_id
    assert out["held.bin"]["bytes_sent"] == 0
    assert out["copy-of-a.jpg"]["outcome"] == "reused"
    assert out["copy-of-a.jpg"]["asset_id"] == out["a.jpg"]["asset_id"]
    for junk in (".DS_Store", "Thumbs.db", "desktop.ini", "._a.jpg", ".hidden", "link.bin"):
        assert out[junk]["outcome"] == "skipped", out[junk]
    assert summary["counts"] == {"new": 4, "reused": 2, "added_provider": 0, "skipped": 6, "failed": 0}
    assert summary["bytes_sent"] == sum(len(files[n]) for n in ("a.jpg", "b.bin", "c.bin", "big.bin"))
    assert summary["files_hashed"] == 6 and summary["files_from_cache"] == 0
    assert summary["bytes_hashed"] == sum(len(d) for d in files.values()) + len(files["a.jpg"])
    assert asset_count(stack, token) == 5

    sent = requests_seen(stack)[seen:]
    uploads = [path for method, path in sent if method == "POST" and path == "/api/v1/assets/upload"]
    patches = [path for method, path in sent if method == "PATCH" and path.startswith("/api/v1/tus/")]
    assert len(uploads) == 3  # a, b, c: the copy and the held file send nothing
    assert len(patches) == -(-len(files["big.bin"]) // CHUNK)
    assert [m for m, p in sent if p == "/api/v1/tus"] == ["POST"]

    # A re-run reads no file (the hash cache answers) and sends none: everything is reused, one
    # batch check, nothing else.
    seen = len(requests_seen(stack))
    rerun = run_upload(stack, token_file, "--provider", "pixverse", "--json", "--verbose",
                       "--resumable-threshold", str(THRESHOLD), str(root), check_rc=0)
    again = json.loads(rerun.stdout)
    assert again["counts"]["reused"] == 6 and again["counts"]["new"] == 0
    assert again["bytes_sent"] == 0
    assert again["files_hashed"] == 0 and again["bytes_hashed"] == 0 and again["files_from_cache"] == 6
    assert not re.search(r"^hashed ", rerun.stderr, re.M), rerun.stderr
    assert len(re.findall(r"^cached ", rerun.stderr, re.M)) == 6, rerun.stderr
    assert requests_seen(stack)[seen:] == [("POST", "/api/v1/assets/check-by-hash/batch")]
    assert asset_count(stack, token) == 5

    # --dry-run: a new file is reported as new, nothing is sent, no asset is made.
    (root / "d.bin").write_bytes(os.urandom(4_000))
    seen = len(requests_seen(stack))
    dry = json.loads(run_upload(stack, token_file, "--provider", "pixverse", "--provider", "runway", "--json",
                                "--dry-run", str(root), check_rc=0).stdout)
    assert dry["dry_run"] is True
    assert dry["files_hashed"] == 1 and dry["files_from_cache"] == 6  # only the new file is read
    assert by_path(dry)["d.bin"]["outcome"] == "new"
    assert by_path(dry, "runway")["a.jpg"]["outcome"] == "added_provider"
    assert {p for _, p in requests_seen(stack)[seen:]} == {"/api/v1/assets/check-by-hash/batch"}
    assert asset_count(stack, token) == 5
    (root / "d.bin").unlink()

    # A second provider: content the user holds goes by add-provider, zero file bytes.
    seen = len(requests_seen(stack))
    second = json.loads(run_upload(stack, token_file, "--provider", "runway", "--json", str(root), check_rc=0).stdout)
    out = by_path(second, "runway")
    assert second["bytes_sent"] == 0
    for name in ("a.jpg", "b.bin", "c.bin", "big.bin", "held.bin"):
        assert out[name]["outcome"] == "added_provider", out[name]
        asset = stack.api("GET", f"/api/v1/assets/{out[name]['asset_id']}", token).json()
        assert "runway" in asset["uploaded_to_providers"], asset
    assert out["copy-of-a.jpg"]["outcome"] == "reused"
    sent = requests_seen(stack)[seen:]
    assert not [p for _, p in sent if p == "/api/v1/assets/upload" or p.startswith("/api/v1/tus")]
    assert len([p for m, p in sent if m == "POST" and p.endswith("/providers")]) == 5
    assert asset_count(stack, token) == 5


def test_new_content_for_two_providers_is_sent_once(stack, user, tmp_path):
    token, token_file = user
    root = tmp_path / "two"
    root.mkdir()
    small, big = os.urandom(2_000), os.urandom(150_000)
    (root / "small.bin").write_bytes(small)
    (root / "big.bin").write_bytes(big)
    seen = len(requests_seen(stack))
    summary = json.loads(run_upload(stack, token_file, "--provider", "pixverse", "--provider", "runway", "--json",
                                    "--resumable-threshold", str(THRESHOLD), "--chunk-size", str(CHUNK), str(root),
                                    check_rc=0).stdout)
    first, second = by_path(summary, "pixverse"), by_path(summary, "runway")
    for name in ("small.bin", "big.bin"):
        assert first[name]["outcome"] == "new"
        assert second[name]["outcome"] == "added_provider" and second[name]["bytes_sent"] == 0
        assert second[name]["asset_id"] == first[name]["asset_id"]
        asset = stack.api("GET", f"/api/v1/assets/{first[name]['asset_id']}", token).json()
        assert {"pixverse", "runway"} <= set(asset["uploaded_to_providers"]), asset
    assert summary["bytes_sent"] == len(small) + len(big)
    sent = requests_seen(stack)[seen:]
    assert len([p for m, p in sent if p == "/api/v1/assets/upload"]) == 1
    assert len([p for m, p in sent if p == "/api/v1/tus"]) == 1
    assert asset_count(stack, token) == 2


def test_plain_output_and_exit_codes(stack, user, tmp_path):
    token, token_file = user
    root = tmp_path / "plain"
    root.mkdir()
    (root / "one.bin").write_bytes(os.urandom(1_000))
    r = run_upload(stack, token_file, "--provider", "pixverse", str(root), check_rc=0)
    assert re.search(r"^new\tpixverse\t.*one\.bin\tasset \d+", r.stdout, re.M), r.stdout
    assert "new 1, reused 0, added_provider 0, skipped 0, failed 0" in r.stdout

    # Usage errors: 2.
    run_upload(stack, token_file, str(root), check_rc=2)  # no provider
    run_upload(stack, token_file, "--provider", "pixverse", check_rc=2)  # no path
    # A wrong token, an unknown provider: server errors, 2.
    bad = tmp_path / "bad-token"
    bad.write_text("nope\n")
    r = run_upload(stack, bad, "--provider", "pixverse", str(root), check_rc=2)
    assert "401" in r.stderr
    r = run_upload(stack, token_file, "--provider", "nowhere", str(root), check_rc=2)
    assert "nowhere" in r.stderr
    # No token anywhere: 2, and the message says where to put one.
    r = subprocess.run([UPLOAD_BIN, "--server", stack.base_url, "--provider", "pixverse", str(root)],
                       capture_output=True, text=True, timeout=60,
                       env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert r.returncode == 2 and "token" in r.stderr

    # The config file gives server and token.
    cfg = tmp_path / "cfg" / "assetdedup"
    cfg.mkdir(parents=True)
    (cfg / "upload.json").write_text(json.dumps({"server": stack.base_url, "token": token}))
    r = subprocess.run([UPLOAD_BIN, "--provider", "pixverse", str(root)], capture_output=True, text=True, timeout=60,
                       env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert r.returncode == 0, r.stderr
    assert "reused" in r.stdout

    # A missing path fails by name, the others go on: 1.
    (root / "two.bin").write_bytes(os.urandom(1_000))
    r = run_upload(stack, token_file, "--provider", "pixverse", str(root), str(root / "missing.bin"), check_rc=1)
    assert "missing.bin" in r.stderr
    assert re.search(r"^new\tpixverse\t.*two\.bin", r.stdout, re.M), r.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_unreadable_file_fails_by_name(stack, user, tmp_path):
    _, token_file = user
    root = tmp_path / "locked"
    root.mkdir()
    (root / "ok.bin").write_bytes(os.urandom(500))
    locked = root / "locked.bin"
    locked.write_bytes(os.urandom(500))
    locked.chmod(0)
    r = run_upload(stack, token_file, "--provider", "pixverse", "--json", str(root), check_rc=1)
    out = by_path(json.loads(r.stdout))
    assert out["locked.bin"]["outcome"] == "failed" and "locked.bin" in r.stderr
    assert out["ok.bin"]["outcome"] == "new"


def test_the_uploader_links_no_server_library():
    """The client product links libcurl and SQLite (its hash cache) only: no FastCGI, libpq,
    libvips, FFmpeg or cmark, so it builds and runs on a laptop without them."""
    libs = subprocess.run(["ldd", UPLOAD_BIN], capture_output=True, text=True, check=True).stdout
    for absent in ("libfcgi", "libpq", "libvips", "libavformat", "libavcodec", "libswscale", "libcmark"):
        assert absent not in libs, (absent, libs)
    assert "libcurl" in libs and "libsqlite3" in libs, libs


class FaultyServer:
    """A stand-in for the API that misbehaves on purpose: the first multipart upload is a 503
    with `Retry-After: 1`, and the second tus PATCH is read whole and then dropped without an
    answer (the client must ask HEAD for the offset and send that chunk again)."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        server = self
        self.lock = threading.Lock()
        self.log = []  # (method, path, time)
        self.tus = bytearray()
        self.multipart_calls = 0
        self.patches = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = bytearray()
                    while True:
                        size = int(self.rfile.readline().strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return bytes(data)
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length", "0")))

            def answer(self, status, obj=None, headers=()):
                data = json.dumps(obj).encode() if obj is not None else b""
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                if obj is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def record(self):
                import time
                with server.lock:
                    server.log.append((self.command, self.path, time.monotonic()))

            def do_POST(self):
                self.record()
                body = self.body()
                if self.path == "/api/v1/assets/check-by-hash/batch":
                    items = json.loads(body)["items"]
                    self.answer(200, {"results": [
                        {"sha256": i["sha256"], "exists": False, "asset_id": None, "uploaded_to_providers": []}
                        for i in items]})
                elif self.path == "/api/v1/assets/upload":
                    server.multipart_calls += 1
                    if server.multipart_calls == 1:
                        self.answer(503, {"error": {"code": "busy", "message": "try later"}}, [("Retry-After", "1")])
                    else:
                        self.answer(201, {"status": "created", "asset_id": 1})
                elif self.path == "/api/v1/tus":
                    assert self.headers["Tus-Resumable"] == "1.0.0"
                    server.tus_length = int(self.headers["Upload-Length"])
                    self.answer(201, None, [("Location", "/api/v1/tus/abc"), ("Upload-Offset", "0"),
                                            ("Tus-Resumable", "1.0.0")])
                else:
                    self.answer(404, {"error": {"code": "not_found", "message": self.path}})

            def do_HEAD(self):
                self.record()
                self.answer(204, None, [("Upload-Offset", str(len(server.tus))), ("Tus-Resumable", "1.0.0")])

            def do_PATCH(self):
                self.record()
                data = self.body()
                server.patches += 1
                if server.patches == 2:
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                assert int(self.headers["Upload-Offset"]) == len(server.tus)
                server.tus += data
                if len(server.tus) == server.tus_length:
                    self.answer(200, {"status": "created", "asset_id": 2})
                else:
                    self.answer(204, None, [("Upload-Offset", str(len(server.tus)))])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_retry_after_503_and_tus_resume_after_a_dropped_patch(tmp_path):
    server = FaultyServer()
    try:
        token_file = tmp_path / "token"
        token_file.write_text("t\n")
        root = tmp_path / "in"
        root.mkdir()
        small = os.urandom(1_000)
        big = os.urandom(200_000)
        (root / "small.bin").write_bytes(small)
        (root / "big.bin").write_bytes(big)
        r = subprocess.run(
            [UPLOAD_BIN, "--server", server.url, "--token-file", str(token_file), "--provider", "p", "--json",
             "--jobs", "1", "--resumable-threshold", "100000", "--chunk-size", "65536", str(root)],
            capture_output=True, text=True, timeout=120,
            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)})
        assert r.returncode == 0, (r.stdout, r.stderr)
        out = by_path(json.loads(r.stdout), "p")
        assert out["small.bin"]["outcome"] == "new" and out["small.bin"]["asset_id"] == 1
        assert out["big.bin"]["outcome"] == "new" and out["big.bin"]["asset_id"] == 2
        assert bytes(server.tus) == big
        uploads = [t for m, p, t in server.log if p == "/api/v1/assets/upload"]
        assert len(uploads) == 2 and uploads[1] - uploads[0] >= 0.9  # Retry-After: 1 was honoured
        methods = [m for m, p, _ in server.log if p.startswith("/api/v1/tus/")]
        # 4 chunks of 65536 for 200000 bytes, one sent twice, a HEAD between.
        assert methods == ["PATCH", "PATCH", "HEAD", "PATCH", "PATCH", "PATCH"], methods
    finally:
        server.stop()


def logged(stack, sizes):
    """nginx's size log once every request answered so far is in it: a marker request sent
    now is waited for (nginx writes a line just after the response leaves)."""
    marker = f"/api/v1/health?mark={uuid.uuid4().hex}"
    assert stack.api("GET", marker).status_code == 200
    return wait_until(lambda: (entries := sizes()) and any(e["uri"] == marker for e in entries) and entries,
                      what="the marker request in nginx's log")


def test_a_big_upload_killed_mid_way_resumes_from_head(stack, user, tmp_path):
    """`kill -9` of the uploader half-way through a tus upload: the next run finds the upload's
    URL in the hash cache, asks HEAD where the server is, and sends only the rest (measured in
    nginx's log of request sizes), no new upload made."""
    token, token_file = user
    sizes = log_request_sizes(stack)
    root = tmp_path / "big"
    root.mkdir()
    big = os.urandom(8 * MIB)
    (root / "big.bin").write_bytes(big)
    settle(root)
    env = {k: v for k, v in os.environ.items() if k != "ASSETDEDUP_TOKEN"}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "no-config"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    argv = [UPLOAD_BIN, "--server", stack.base_url, "--token-file", str(token_file), "--provider", "pixverse",
            "--json", "--resumable-threshold", str(MIB), "--chunk-size", str(MIB), str(root)]
    # 1 MiB/s: the upload takes 8 s, long enough to be killed in the middle.
    first = subprocess.Popen([*argv, "--limit-rate", str(MIB)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        cache = tmp_path / "cache" / "assetdedup" / "upload-cache.sqlite"

        def remembered():
            if not cache.exists():
                return None
            db = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
            try:
                row = db.execute("SELECT location FROM tus_uploads").fetchone()
            except sqlite3.OperationalError:  # the tables are not made yet
                return None
            finally:
                db.close()
            return row[0] if row else None

        location = urllib.parse.urlparse(wait_until(remembered, what="the uploader to remember its tus URL")).path

        def offset():
            r = stack.api("HEAD", location, token, headers={"Tus-Resumable": "1.0.0"})
            assert r.status_code in (200, 204), r.status_code
            return int(r.headers["Upload-Offset"])

        wait_until(lambda: offset() >= 2 * MIB, what="two chunks on the server")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    held = offset()
    assert 2 * MIB <= held < len(big)
    before = len(logged(stack, sizes))

    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (r.stdout, r.stderr)
    summary = json.loads(r.stdout)
    out = by_path(summary)["big.bin"]
    assert out["outcome"] == "new", out
    assert summary["files_hashed"] == 0  # the digest came from the cache too
    asset = stack.api("GET", f"/api/v1/assets/{out['asset_id']}", token).json()
    assert asset["sha256"] == sha(big)
    assert stack.blob(sha(big)).read_bytes() == big

    rerun = logged(stack, sizes)[before:]
    assert not [e for e in rerun if e["uri"] == "/api/v1/tus"], "a new upload was made"
    tus = [e for e in rerun if e["uri"] == location]
    head = next(e for e in tus if e["method"] == "HEAD")
    resumed_at = head["answered"]
    assert resumed_at >= held
    # Answered PATCHes only: the one killed mid-body may be logged late, as a 4xx.
    patches = [e for e in tus if e["method"] == "PATCH" and e["status"] < 300]
    assert patches[0]["offset"] == resumed_at
    rest = len(big) - resumed_at
    # $request_length is the request line and headers too: under 1 KiB a request here.
    assert rest <= sum(e["length"] for e in patches) < rest + 1024 * len(patches)
    assert out["bytes_sent"] == rest



def cli_env(token_file):
    env = {k: v for k, v in os.environ.items() if k != "ASSETDEDUP_TOKEN"}
    env["XDG_CONFIG_HOME"] = str(pathlib.Path(token_file).parent / "no-config")
    env["XDG_CACHE_HOME"] = str(pathlib.Path(token_file).parent / "cache")
    return env


def test_progress_on_a_tty_plain_lines_on_a_pipe_and_near_duplicates_named(stack, user, tmp_path):
    """stderr on a terminal (a pty) gets one progress line redrawn in place; on a pipe, plain
    lines with the same words. A picture near one already held is uploaded and its answer's
    near-duplicates are named, in the plain lines and in --json."""
    token, token_file = user
    media = tmp_path / "media"
    media.mkdir()
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "mandelbrot=s=512x384", "-frames:v", "1",
                    str(media / "original.png")], check=True)
    subprocess.run(["vips", "resize", str(media / "original.png"), str(tmp_path / "copy.jpg[Q=60]"), "0.5"], check=True)
    original = stack.upload(token, (media / "original.png").read_bytes(), filename="original.png", mime="image/png")
    assert original.status_code == 201, original.text
    tty_root = tmp_path / "tty"
    tty_root.mkdir()
    for i in range(3):
        (tty_root / f"f{i}.bin").write_bytes(os.urandom(20_000))
    (tty_root / "copy.jpg").write_bytes((tmp_path / "copy.jpg").read_bytes())

    master, slave = pty.openpty()
    argv = [UPLOAD_BIN, "--server", stack.base_url, "--token-file", str(token_file), "--provider", "pixverse",
            str(tty_root)]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                            env=cli_env(token_file))
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the uploader closed the terminal's last descriptor
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    stdout = proc.stdout.read().decode()
    assert proc.wait(timeout=60) == 0, (stdout, shown)
    text = shown.decode()
    assert "\r\x1b[K" in text, text
    assert re.search(r"\r\x1b\[Ksending: files 4/4, \d+\.\d kB of \d+\.\d kB, .*B/s, ETA \d+:\d\d", text), text
    assert text.endswith("\n")
    near = re.search(r"^new\tpixverse\t.*copy\.jpg\tasset \d+.*\tsimilar to asset (\d+)$", stdout, re.M)
    assert near and int(near.group(1)) == original.json()["asset_id"], stdout
    assert not re.search(r"f0\.bin.*similar", stdout)

    # A pipe: plain lines (no carriage return, no escape), each phase's end at least.
    pipe_root = tmp_path / "pipe"
    pipe_root.mkdir()
    (pipe_root / "one.bin").write_bytes(os.urandom(1_000))
    (pipe_root / "copy.jpg").write_bytes((tmp_path / "copy.jpg").read_bytes())
    r = run_upload(stack, token_file, "--provider", "runway", "--json", str(pipe_root), check_rc=0)
    assert "\r" not in r.stderr and "\x1b" not in r.stderr, r.stderr
    assert re.search(r"^hashing: files 2/2, \d+\.\d kB of \d+\.\d kB", r.stderr, re.M), r.stderr
    assert re.search(r"^sending: files 1/1, ", r.stderr, re.M), r.stderr
    out = by_path(json.loads(r.stdout), provider="runway")
    assert out["one.bin"]["outcome"] == "new" and out["one.bin"]["similar"] == []
    # copy.jpg is held (from the tty run): added to runway with zero bytes, no fresh answer of near-duplicates.
    assert out["copy.jpg"]["outcome"] == "added_provider"


class Lines:
    """A child's output lines as they come (a reader thread per stream), so a test waits on the
    line it needs instead of sleeping."""

    def __init__(self, stream):
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)
            self.cond.notify_all()

    def wait_for(self, pattern, timeout=60):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if line is not None and (m := re.search(pattern, line)):
                        return m
                left = deadline - time.monotonic()
                assert left > 0 and None not in self.lines, (pattern, self.lines)
                self.cond.wait(left)


def test_watch_uploads_files_once_they_stop_changing_and_ctrl_c_ends(stack, user, tmp_path):
    """--watch: a file written slowly (pauses shorter than the settle time) is sent once, whole;
    a file in a folder made after the watch began is found too; SIGINT ends the run, exit 0."""
    token, token_file = user
    root = tmp_path / "inbox"
    root.mkdir()
    argv = [UPLOAD_BIN, "--server", stack.base_url, "--token-file", str(token_file), "--provider", "pixverse",
            "--watch", "--settle-seconds", "2", str(root)]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=cli_env(token_file))
    try:
        out, err = Lines(proc.stdout), Lines(proc.stderr)
        err.wait_for(r"^watching ")
        parts = [os.urandom(50_000) for _ in range(4)]
        with open(root / "slow.bin", "wb") as f:
            for i, part in enumerate(parts):
                f.write(part)
                f.flush()
                if i < len(parts) - 1:
                    time.sleep(0.2)  # the writer's pace (under the settle time), not a wait for the uploader
        m = out.wait_for(r"^new\tpixverse\t.*/slow\.bin\tasset (\d+)\b")
        asset = stack.api("GET", f"/api/v1/assets/{m.group(1)}", token).json()
        assert asset["sha256"] == sha(b"".join(parts)), "a part-written file was sent"
        (root / "later").mkdir()
        (root / "later" / "inner.bin").write_bytes(b"inner")
        out.wait_for(r"^new\tpixverse\t.*/later/inner\.bin\tasset \d+\b")
        assert asset_count(stack, token) == 2
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        err.wait_for(r"^watch ended$")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_server_that_is_down_is_named_and_exits_2(tmp_path):
    """Nothing listening: the run stops at the check with the server named, exit 2, nothing
    remembered as done (the next run hashes from its cache and checks again)."""
    root = tmp_path / "down"
    root.mkdir()
    (root / "one.bin").write_bytes(os.urandom(100))
    token_file = tmp_path / "token"
    token_file.write_text("anything\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}"
    r = subprocess.run([UPLOAD_BIN, "--server", url, "--token-file", str(token_file), "--provider", "pixverse",
                        "--retries", "0", "--json", str(root)], capture_output=True, text=True, timeout=60,
                       env=cli_env(token_file))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert f"cannot reach {url}" in r.stderr
    summary = json.loads(r.stdout)
    assert summary["error"].startswith(f"cannot reach {url}") and summary["counts"]["new"] == 0


def test_a_server_that_goes_down_after_the_check_fails_the_files_by_name_and_exits_2(tmp_path):
    """The check is answered (nothing held), then nothing listens any more: the first upload
    fails `cannot reach`, the rest are not tried (`not sent`), each is named, exit 2."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"

    def answer_the_check_then_go():
        conn, _ = listener.accept()
        listener.close()  # before answering: every later connection is refused
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, body = data.split(b"\r\n\r\n", 1)
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            while len(body) < length:
                body += conn.recv(65536)
            items = json.loads(body)["items"]
            reply = json.dumps({"results": [{"sha256": i["sha256"], "exists": False, "asset_id": None,
                                             "uploaded_to_providers": []} for i in items]}).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(reply) + reply)

    server = threading.Thread(target=answer_the_check_then_go, daemon=True)
    server.start()
    root = tmp_path / "going"
    root.mkdir()
    for i in range(3):
        (root / f"f{i}.bin").write_bytes(os.urandom(1_000 + i))
    token_file = tmp_path / "token"
    token_file.write_text("anything\n")
    r = subprocess.run([UPLOAD_BIN, "--server", url, "--token-file", str(token_file), "--provider", "pixverse",
                        "--retries", "0", "--concurrency", "1", "--json", str(root)], capture_output=True, text=True,
                       timeout=60, env=cli_env(token_file))
    server.join(timeout=10)
    assert r.returncode == 2, (r.stdout, r.stderr)
    summary = json.loads(r.stdout)
    reasons = sorted(f["reason"] for f in summary["files"])
    assert [f["outcome"] for f in summary["files"]] == ["failed"] * 3
    assert reasons[0].startswith(f"cannot reach {url}: curl error 7"), reasons
    assert reasons[1:] == [f"not sent: cannot reach {url}"] * 2, reasons
    assert summary["error"] == reasons[0]
    for i in range(3):
        assert f"f{i}.bin" in r.stderr

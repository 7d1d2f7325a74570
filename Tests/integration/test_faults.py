"""Faults on the real stack: the app killed with SIGKILL at random points of uploads, the blob
volume full, the database locked by a long writer, nginx reloaded and restarted under the app,
nginx and serve disagreeing on the folder of upload bodies. After each, the store must be
consistent and the app must answer again."""
import hashlib
import os
import random
import signal
import socket
import sqlite3
import subprocess
import threading
import time

import pytest
import requests

import processes

from conftest import wait_until

ZERO = "0" * 64
KILL_RUNS = int(os.environ.get("ASSETDEDUP_KILL_RUNS", "50"))


def sha(data):
    return hashlib.sha256(data).hexdigest()


def multipart(provider, content, boundary="FAULTBOUNDARY", claim=None):
    head = f"--{boundary}\r\nContent-Disposition: form-data; name=\"provider_id\"\r\n\r\n{provider}\r\n"
    if claim:
        head += f"--{boundary}\r\nContent-Disposition: form-data; name=\"sha256\"\r\n\r\n{claim}\r\n"
    head += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\n"
             f"Content-Type: application/octet-stream\r\n\r\n")
    return head.encode() + content + f"\r\n--{boundary}--\r\n".encode()


def raw_post(port, token, body, content_type, send_bytes=None, timeout=10):
    """POSTs over a raw socket, sending only `send_bytes` of the body when given; returns the
    HTTP status (None when the connection broke first) and the response text."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        conn.sendall((f"POST /api/v1/assets/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                      f"Authorization: Bearer {token}\r\nContent-Type: {content_type}\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n").encode())
        try:
            conn.sendall(body if send_bytes is None else body[:send_bytes])
        except OSError:
            pass  # the server answered early (507, 413) and closed; read what it said
        if send_bytes is not None and send_bytes < len(body):
            return None, ""
        data = b""
        while True:
            try:
                piece = conn.recv(65536)
            except OSError:
                break
            if not piece:
                break
            data += piece
        if not data.startswith(b"HTTP/1.1 "):
            return None, data.decode(errors="replace")
        return int(data[9:12]), data.decode(errors="replace")
    finally:
        conn.close()


def assert_store_consistent(stack):
    """What a crash must never break: SQLite integrity, one row per (user, sha256), every row's
    blob present with the right bytes, every recorded provider upload really on the provider,
    and no temp file once the app has restarted."""
    assert stack.db.integrity_problems() == []
    assert stack.sql("SELECT user_id, sha256 FROM assets WHERE sha256 IS NOT NULL "
                       "GROUP BY user_id, sha256 HAVING count(*) > 1") == []
    for asset_id, digest, size in stack.sql("SELECT id, sha256, size FROM assets"):
        blob = stack.blob(digest)
        assert blob, f"asset {asset_id} has no blob {digest}"
        data = blob.read_bytes()
        assert (sha(data), len(data)) == (digest, size), f"blob of asset {asset_id} is damaged"
    rows = stack.sql("SELECT p.provider_id, p.provider_asset_id, a.sha256 FROM provider_uploads p "
                       "JOIN assets a ON a.id = p.asset_id")
    # A delivered job always has its provider_uploads row (one transaction).
    assert stack.sql("SELECT count(*) FROM deliveries d WHERE state = 'delivered' AND NOT EXISTS "
                       "(SELECT 1 FROM provider_uploads p WHERE p.asset_id = d.asset_id "
                       "AND p.provider_id = d.provider_id)") == [(0,)]
    for provider, provider_asset_id, digest in rows:
        path = stack.data_dir / "providers" / provider / provider_asset_id
        assert path.is_file(), f"provider_uploads says {provider}:{provider_asset_id} but there is no file"
        assert sha(path.read_bytes()) == digest
    assert stack.temp_files() == []


@pytest.mark.whole_stack
def test_kill_9_at_random_points_of_uploads(make_stack):
    stack = make_stack(threads=4)
    tokens = [stack.add_user(name) for name in ("alice", "bob")]
    rng = random.Random(int(os.environ.get("ASSETDEDUP_FAULT_SEED", "7")))
    pool = [rng.randbytes(rng.choice([0, 1, 1000, 70_000, 300_000, 1 << 20])) for _ in range(12)]
    acknowledged = []  # (token index, asset id, sha256) the app said it had stored
    outcomes = {"answered": 0, "cut": 0}
    for run in range(KILL_RUNS):
        results = []

        def one_upload():
            who = rng.randrange(2)
            content = rng.choice(pool)
            provider = rng.choice(["pixverse", "runway"])
            body = multipart(provider, content, claim=sha(content) if rng.random() < 0.5 else None)
            partial = rng.random() < 0.3
            send = rng.randrange(len(body)) if partial else None
            try:
                status, text = raw_post(stack.port, tokens[who], body, "multipart/form-data; boundary=FAULTBOUNDARY",
                                        send_bytes=send, timeout=5)
            except OSError:
                status, text = None, ""
            results.append((who, content, status, text))

        threads = [threading.Thread(target=one_upload) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0, 0.04))  # pacing: a random moment for the kill, not waiting for anything
        stack.stop_app(signal.SIGKILL)
        for t in threads:
            t.join(10)
        for who, content, status, text in results:
            # 202: the asset is stored and its delivery queued (a request thread may wait for
            # a delivery only while fewer than half of the 4 threads wait).
            if status in (200, 201, 202):
                body = text.split("\r\n\r\n", 1)[1]
                import json
                answer = json.loads(body)
                assert answer["sha256"] == sha(content)
                acknowledged.append((who, answer["asset_id"], answer["sha256"]))
                outcomes["answered"] += 1
            else:
                assert status in (None, 503), text  # cut off by the kill: nginx says 503 (app unreachable)
                outcomes["cut"] += 1
        stack.start_app()
        assert_store_consistent(stack)
    # Every upload the app acknowledged survived the crashes, for the user it was made for.
    for who, asset_id, digest in acknowledged:
        assert stack.sql("SELECT sha256, user_id FROM assets WHERE id = ?", asset_id) == [(digest, who + 1)]
    wait_until(lambda: stack.api("GET", "/api/v1/health").status_code == 200, what="health after the last restart")
    after = rng.randbytes(5000)
    assert stack.upload(tokens[0], after, "pixverse").status_code == 201
    # Every job queued before a kill is delivered after the restarts (leases of the dead
    # processes are taken over).
    wait_until(lambda: stack.sql("SELECT count(*) FROM deliveries WHERE state != 'delivered'") == [(0,)],
               what="every queued delivery to finish after the last restart")
    assert_store_consistent(stack)
    print(f"deliveries: {stack.sql('SELECT count(*) FROM deliveries')[0][0]}, all delivered; "
          f"re-sent after a kill: {stack.sql('SELECT count(*) FROM deliveries WHERE attempts > 1')[0][0]}")
    print(f"kill -9 runs: {KILL_RUNS}, uploads answered before a kill: {outcomes['answered']}, "
          f"cut off: {outcomes['cut']}, assets: {stack.sql('SELECT count(*) FROM assets')[0][0]}")
    assert outcomes["cut"] > 0, "the kills must hit uploads in flight"


@pytest.fixture
def small_volume(tmp_path):
    """An 8 MiB tmpfs, unmounted afterwards; skips where mounting is not permitted."""
    mounted = []

    def mount(path):
        path.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(path)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {result.stderr.strip()}")
        mounted.append(path)

    yield mount
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_disk_full_on_the_blob_volume_is_507_and_keeps_nothing(make_stack, small_volume):
    stack = make_stack()
    token = stack.add_user("alice")
    stack.stop_app()
    small_volume(stack.data_dir)
    stack.start_app()
    wait_until(lambda: stack.api("GET", "/api/v1/health").status_code == 200, what="health")

    big = os.urandom(12 << 20)  # more than the whole volume
    status, text = raw_post(stack.port, token, multipart("pixverse", big), "multipart/form-data; boundary=FAULTBOUNDARY")
    assert status == 507, text
    assert '"code":"insufficient_storage"' in text and "nothing was kept" in text
    assert stack.sql("SELECT count(*) FROM assets") == [(0,)]
    assert stack.blobs() == [] and stack.temp_files() == [] and stack.provider_files("pixverse") == []

    # A quarter of the volume fits as a blob, and its provider copy (a copy of its own) another.
    fits = os.urandom(2 << 20)
    r = stack.upload(token, fits, "pixverse")
    assert r.status_code == 201, r.text
    # Half of it is used now: a 6 MiB file cannot fit either, and is refused cleanly.
    status, text = raw_post(stack.port, token, multipart("pixverse", os.urandom(6 << 20)),
                            "multipart/form-data; boundary=FAULTBOUNDARY")
    assert status == 507, text
    assert stack.sql("SELECT count(*) FROM assets") == [(1,)]
    assert [p.name for p in stack.blobs()] == [sha(fits)]
    assert stack.temp_files() == []
    assert_store_consistent(stack)
    assert "storage full" in stack.app_log_path.read_text()
    stack.stop_app()


@pytest.mark.sqlite_only  # SQLite's write lock and busy timeout
def test_database_locked_by_a_long_writer_is_503_not_a_hang(make_stack):
    stack = make_stack(busy_timeout_ms=1500)
    token = stack.add_user("alice")
    content = os.urandom(50_000)
    writer = sqlite3.connect(stack.db.path, timeout=5, isolation_level=None)
    try:
        writer.execute("BEGIN EXCLUSIVE")  # in WAL mode: holds the write lock, readers go on
        started = time.monotonic()
        r = stack.upload(token, content, "pixverse")
        elapsed = time.monotonic() - started
        # A 503 while the writer still holds the lock is the proof it gave up rather than hung
        # (no upper bound to guess). The lower bound only says it waited out the busy timeout
        # first, which a loaded machine can only lengthen.
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "busy" and r.headers["Retry-After"] == "1"
        assert elapsed >= 1.0, f"answered after {elapsed:.2f} s; the busy timeout is 1.5 s"
        print(f"upload behind a held write lock: {r.status_code} after {elapsed:.2f} s")
        assert stack.temp_files() == []
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    r = stack.upload(token, content, "pixverse")
    assert r.status_code == 201, r.text
    assert stack.sql("SELECT count(*) FROM assets") == [(1,)]
    assert_store_consistent(stack)


@pytest.mark.sqlite_only  # SQLite's WAL readers beside a held write lock
def test_reads_do_not_wait_for_a_long_writer(make_stack):
    # Reads do not wait for the writer (WAL), not even a token's first use, which would stamp
    # last_used_at: that stamp is skipped rather than waited for. No stopwatch: with a 10 minute
    # busy timeout, the answer comes while the writer still holds its lock only if nothing waits
    # for it; the 60 s deadline is for a regression to fail, not a guess at how fast it is.
    stack = make_stack(busy_timeout_ms=600_000)
    fresh = stack.add_user("bob")  # never used yet: its first request wants to stamp last_used_at
    writer = sqlite3.connect(stack.db.path, timeout=5, isolation_level=None)
    answers = []
    done = threading.Event()

    def check():
        answers.append(stack.api("POST", "/api/v1/assets/check-by-hash", fresh, json={"sha256": ZERO}))
        done.set()

    thread = threading.Thread(target=check)
    try:
        writer.execute("BEGIN EXCLUSIVE")  # in WAL mode: holds the write lock, readers go on
        thread.start()
        answered_while_locked = done.wait(60)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        thread.join(120)
    assert answered_while_locked, "a read with a never-used token waited for the writer's lock"
    assert answers[0].status_code == 200 and answers[0].json()["exists"] is False


def checks_while(stack, token, action):
    """Runs `action` while a thread keeps asking check-by-hash; returns (ok, failures)."""
    stop = threading.Event()
    counts = {"ok": 0, "failed": []}

    def loop():
        session = requests.Session()
        while not stop.is_set():
            try:
                # One connection per request: an idle keep-alive connection that a retiring nginx
                # worker closes just as the client reuses it is HTTP's known race (clients retry
                # such a request on a new connection; requests does not for a POST). What this
                # checks is that no request nginx accepted is dropped.
                r = session.post(stack.base_url + "/api/v1/assets/check-by-hash", json={"sha256": ZERO},
                                 headers={"Authorization": f"Bearer {token}", "Connection": "close"}, timeout=5)
                if r.status_code == 200:
                    counts["ok"] += 1
                else:
                    counts["failed"].append(r.status_code)
            except requests.RequestException as error:
                counts["failed"].append(type(error).__name__)
                session = requests.Session()

    def answered():
        return counts["ok"] + len(counts["failed"])

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        # Events, not naps: checks are flowing before the action, and more answered after it.
        wait_until(lambda: answered() >= 3, timeout=30, what="checks before the action")
        action()
        after = answered()
        wait_until(lambda: answered() >= after + 3, timeout=30, what="checks after the action")
    finally:
        stop.set()
        thread.join(10)
    return counts["ok"], counts["failed"]


def worker_pids(master):
    """The pids of `master`'s child processes (nginx's workers), from /proc."""
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master and fields[0] != "Z":
            pids.add(int(entry))
    return pids


def test_nginx_reload_and_restart_leave_the_app_unaffected(stack):
    token = stack.add_user("alice")
    app_pid = stack.app.pid
    prefix = stack.dir / "nginx"
    conf = prefix / "nginx.conf"

    def reload():
        # Done when the workers that served before the reload have all exited: the checks go on
        # through the new ones (checks_while waits for more after this returns).
        before = worker_pids(stack.nginx.pid)
        assert before
        subprocess.run([processes.NGINX, "-p", str(prefix), "-c", str(conf), "-s", "reload"], check=True, timeout=10)
        wait_until(lambda: not before & worker_pids(stack.nginx.pid), timeout=60, what="the old nginx workers to exit")

    ok, failed = checks_while(stack, token, reload)
    assert ok > 0 and failed == [], f"a reload dropped requests: {failed[:5]}"
    print(f"checks during nginx -s reload: {ok} ok, {len(failed)} failed")

    # A full stop and start: requests fail while nginx is down, then work again.
    stack.stop_nginx()
    with pytest.raises(requests.ConnectionError):
        requests.get(stack.base_url + "/api/v1/health", timeout=2)
    stack.start_nginx()
    assert stack.app.pid == app_pid and stack.app.poll() is None, "the app was not restarted"
    content = os.urandom(10_000)
    assert stack.upload(token, content, "pixverse").status_code == 201
    r = stack.api("POST", "/api/v1/assets/check-by-hash", token, json={"sha256": sha(content)})
    assert r.json()["exists"] is True
    assert "error" not in stack.app_log_path.read_text().lower()


def test_hostile_requests_do_not_take_the_app_down(stack):
    """Each of these once crashed the whole process (every worker, every upload in flight)."""
    token = stack.add_user("alice")
    pid = stack.app.pid
    # An empty query piece: split(uri:) indexed an empty array. No token needed.
    for uri in ["/api/v1/health?=", "/api/v1/assets?=&limit=1", "/api/v1/health?&=&"]:
        r = stack.api("GET", uri, token)
        assert r.status_code in (200, 400), (uri, r.status_code)
    # A part header name with a byte >= 0x80: multipart-kit indexed a 128-entry table with it.
    body = (b'--B\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\xc3\xa9: x\r\n\r\nabc\r\n--B--\r\n')
    status, text = raw_post(stack.port, token, body, "multipart/form-data; boundary=B")
    assert status == 400 and "invalid_multipart" in text
    assert stack.app.poll() is None and stack.app.pid == pid, "the app died"
    assert stack.upload(token, b"still here", "pixverse").status_code == 201
    assert stack.temp_files() == []


def test_nginx_and_serve_body_folders_differing_is_503_not_500(make_stack, tmp_path):
    """A misconfiguration: nginx buffers upload bodies to its client_body_temp_path, serve reads
    them from another `--request-body-dir`. Every upload, multipart or resumable, answers
    503 `request_body_unavailable` (not a 500) and keeps nothing, the rest of the API works, and
    serve's log names the body file and what to check."""
    elsewhere = tmp_path / "serve-bodies"
    elsewhere.mkdir()
    stack = make_stack(serve_args=["--request-body-dir", str(elsewhere)])  # the last one counts
    token = stack.add_user("alice")
    r = stack.upload(token, os.urandom(10_000))
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "request_body_unavailable", r.text
    r = stack.api("POST", "/api/v1/uploads?provider_id=pixverse&filename=r.bin", token,
                  headers={"Upload-Complete": "?1", "Content-Type": "application/octet-stream"}, data=b"r" * 100)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "request_body_unavailable", r.text
    check = stack.api("POST", "/api/v1/assets/check-by-hash", token, json={"sha256": "ab" * 32})
    assert check.status_code == 200, check.text
    assert stack.sql("SELECT count(*) FROM assets")[0][0] == 0 and stack.blobs() == []
    log = stack.app_log_path.read_text()
    assert "is not inside --request-body-dir" in log and "check nginx client_body_temp_path" in log, log
    # serve could not tell at start: the folder it was given is a readable folder.
    assert "request body folder" not in log, log


def test_serve_warns_at_start_of_a_body_folder_it_cannot_use(make_stack, tmp_path):
    """A `--request-body-dir` that serve cannot create or read is a mismatch it can see at start:
    it warns then, and every upload answers 503 `request_body_unavailable`."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    stack = make_stack(serve_args=["--request-body-dir", str(blocker / "bodies")])
    log = stack.app_log_path.read_text()
    assert f"request body folder {blocker / 'bodies'} cannot be used (Not a directory)" in log, log
    assert "every upload will answer 503 request_body_unavailable" in log, log
    token = stack.add_user("alice")
    r = stack.upload(token, b"x" * 1000)
    assert r.status_code == 503 and r.json()["error"]["code"] == "request_body_unavailable", r.text
    assert "was not a folder serve could use when it started" in stack.app_log_path.read_text()

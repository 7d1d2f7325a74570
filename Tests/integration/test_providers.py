"""Provider adapters through the real binary: `sync` against a real HTTP provider on 127.0.0.1
(fake_provider.py) and a real folder, `whereis`. Request counts come from the server's log."""
import hashlib
import json
import os
import pathlib
import pty
import select
import signal
import subprocess
import sys
import threading
import urllib.request

import pytest

from conftest import BIN, run_cli, wait_until

FAKE = str(pathlib.Path(__file__).with_name("fake_provider.py"))
SECRET = "sk-test-7d41c0ffee-do-not-print"


class FakeProvider:
    """A running fake_provider.py; `control()` changes its answers, `requests()` reads its log."""

    def __init__(self, tmp_path, *args):
        self.proc = subprocess.Popen([sys.executable, FAKE, "--port", "0", *args],
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline().split()[1])
        self.url = f"http://127.0.0.1:{self.port}/upload"

    def _call(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        with urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{self.port}{path}", data=data, method="POST" if data else "GET")) as answer:
            return json.load(answer)

    def control(self, **settings):
        self._call("/_control", settings)

    def requests(self):
        return self._call("/_stats")["requests"]

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def provider(tmp_path):
    server = FakeProvider(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "data"
    (path / "blobs").mkdir(parents=True)
    return path


def seed(db, data, user_id, content, filename=None):
    """One asset row plus its blob file at data/blobs/sha256/ab/cd/<hex>; returns (id, sha256)."""
    sha = hashlib.sha256(content).hexdigest()
    blob = data / "blobs" / "sha256" / sha[:2] / sha[2:4] / sha
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(content)
    rows = db.sql("INSERT INTO assets (user_id, sha256, size, original_filename, mime_type) VALUES (?, ?, ?, ?, ?) "
                  "RETURNING id", user_id, sha, len(content), filename, "video/mp4")
    return rows[0][0], sha


def write_config(tmp_path, url, **http):
    entry = {"id": "runway", "kind": "http", "url": url, "id_path": "data.id", "timeout": 10,
             "backoff_initial": 0.05, "backoff_max": 0.2,
             "headers": [{"header": "Authorization", "env": "RUNWAY_TOKEN", "prefix": "Bearer "}]}
    entry.update(http)
    config = {"providers": [{"id": "pixverse", "kind": "directory", "path": "folder-provider"}, entry]}
    path = tmp_path / "assetdedup.json"
    path.write_text(json.dumps(config))
    return path


ENV = {**os.environ, "RUNWAY_TOKEN": SECRET}


def sync(db, data, config, *extra, check=False, env=None):
    """`sync` to runway; `env` adds a stack's blob storage (`stack.env`)."""
    return run_cli("sync", "--provider", "runway", "--config", str(config), "--data", str(data), *extra,
                   db=db, check=check, env={**(env or {}), **ENV})


def uploads(db, provider="runway"):
    return dict(db.sql("SELECT asset_id, provider_asset_id FROM provider_uploads WHERE provider_id = ?", provider))


def users(db, *names):
    for name in names:
        run_cli("user", "add", name, db=db)


def test_sync_pushes_each_missing_asset_exactly_once(db, data, tmp_path, provider):
    users(db, "alice", "bob")
    alice = [seed(db, data, 1, os.urandom(20_000 + i), f"clip{i}.mp4") for i in range(4)]
    shared = b"same bytes for two users" * 100
    a_shared, sha_shared = seed(db, data, 1, shared)
    b_shared, _ = seed(db, data, 2, shared)
    done_before, _ = seed(db, data, 2, b"already on runway")
    db.sql("INSERT INTO provider_uploads (asset_id, provider_id, provider_asset_id) VALUES (?, 'runway', 'old-1')",
           done_before)
    config = write_config(tmp_path, provider.url)

    first = sync(db, data, config, "--concurrency", "3", check=True)
    received = provider.requests()
    assert len(received) == 6, first.stdout
    assert sorted(r["sha256"] for r in received) == sorted([sha for _, sha in alice] + [sha_shared, sha_shared])
    assert all(r["complete"] and r["headers"]["Authorization"] == f"Bearer {SECRET}" for r in received)
    recorded = uploads(db)
    assert len(recorded) == 7 and recorded[done_before] == "old-1"
    assert sorted(v for k, v in recorded.items() if k != done_before) == sorted(f"fp-{r['n']}" for r in received)
    assert "sync runway: 6 uploaded, 0 already there, 0 failed" in first.stdout
    assert first.stdout.count("uploaded asset ") == 6  # plain lines: stdout is not a TTY

    second = sync(db, data, config, check=True)
    assert len(provider.requests()) == 6  # nothing sent twice
    assert "sync runway: 0 uploaded, 0 already there, 0 failed" in second.stdout
    assert uploads(db) == recorded
    assert SECRET not in first.stdout + first.stderr + second.stdout + second.stderr


def test_user_filter_and_default_directory_providers(db, data, tmp_path):
    users(db, "alice", "bob")
    a, sha_a = seed(db, data, 1, b"alice's file")
    b, _ = seed(db, data, 2, b"bob's file")
    out = run_cli("sync", "--provider", "pixverse", "--user", "alice", "--data", str(data), db=db).stdout
    assert "1 uploaded" in out
    assert uploads(db, "pixverse") == {a: f"{sha_a[:2]}/{sha_a}"}
    assert (data / "providers" / "pixverse" / sha_a[:2] / sha_a).read_bytes() == b"alice's file"
    again = run_cli("sync", "--provider", "pixverse", "--data", str(data), db=db).stdout
    assert "1 uploaded" in again and b in uploads(db, "pixverse")


def test_dry_run_contacts_nothing_and_writes_nothing(db, data, tmp_path, provider):
    users(db, "alice")
    ids = [seed(db, data, 1, os.urandom(1000))[0] for _ in range(3)]
    config = write_config(tmp_path, provider.url)
    before = db.dump()
    result = sync(db, data, config, "--dry-run", check=True)
    assert [f"would upload asset {i} " in result.stdout for i in ids] == [True] * 3
    assert "dry run: 3 assets" in result.stdout
    assert provider.requests() == []
    assert uploads(db) == {}
    assert db.dump() == before
    assert not (data / "providers").exists() and not (data / "tmp").exists()
    if db.sqlite:  # the sync lock lives beside the SQLite file
        assert not (tmp_path / f"{db.path.name}.sync-runway.lock").exists()


def test_failures_exit_nonzero_record_nothing_and_a_later_sync_completes(db, data, tmp_path, provider):
    users(db, "alice")
    ids = [seed(db, data, 1, os.urandom(5000))[0] for _ in range(2)]
    config = write_config(tmp_path, provider.url, max_attempts=3)
    provider.control(mode="500")
    failed = sync(db, data, config)
    assert failed.returncode == 1
    assert len(provider.requests()) == 6  # 3 attempts for each of the 2 assets
    assert uploads(db) == {}
    assert "0 uploaded, 0 already there, 2 failed" in failed.stdout
    assert "gave up after 3 attempts: HTTP 500" in failed.stdout
    provider.control(mode="ok")
    assert sync(db, data, config).returncode == 0
    assert sorted(uploads(db)) == ids


def test_client_errors_are_not_retried_and_never_print_the_secret(db, data, tmp_path, provider):
    users(db, "alice")
    seed(db, data, 1, os.urandom(5000))
    provider.control(mode="400")  # its answer echoes our request headers
    result = sync(db, data, write_config(tmp_path, provider.url))
    assert result.returncode == 1
    assert len(provider.requests()) == 1
    assert "HTTP 400" in result.stdout and "[redacted]" in result.stdout
    assert SECRET not in result.stdout + result.stderr
    assert uploads(db) == {}


def test_missing_blob_fails_that_asset_only(db, data, tmp_path, provider):
    users(db, "alice")
    good, _ = seed(db, data, 1, b"good")
    lost = db.sql("INSERT INTO assets (user_id, sha256, size) VALUES (1, ?, 3) RETURNING id", "ab" * 32)[0][0]
    db.sql("INSERT INTO assets (user_id, sha256, size) VALUES (1, NULL, 3)")
    result = sync(db, data, write_config(tmp_path, provider.url))
    assert result.returncode == 1
    assert f"asset {lost}: blob" in result.stdout and "missing" in result.stdout
    assert "1 assets have no sha256 yet" in result.stdout
    assert list(uploads(db)) == [good]
    assert len(provider.requests()) == 1


@pytest.mark.whole_stack
def test_sync_resumes_after_kill_9(db, data, tmp_path, provider):
    users(db, "alice")
    assets = dict(seed(db, data, 1, os.urandom(3000 + i)) for i in range(12))
    config = write_config(tmp_path, provider.url)
    provider.control(mode="slow", delay=0.4)
    proc = subprocess.Popen([BIN, "sync", "--provider", "runway", "--config", str(config), "--data", str(data),
                             "--concurrency", "2", "--db", str(db)], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: len(uploads(db)) >= 4, timeout=60, what="4 uploads recorded before the kill")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    recorded = uploads(db)
    assert 4 <= len(recorded) < 12
    answered = {f"fp-{r['n']}": r["sha256"] for r in provider.requests()}
    # Every recorded id is one the provider really issued, for that asset's bytes.
    assert all(answered[pid] == assets[aid] for aid, pid in recorded.items())

    provider.control(mode="ok")
    resumed = sync(db, data, config, "--concurrency", "2", check=True)
    final = uploads(db)
    assert sorted(final) == sorted(assets)
    assert {aid: final[aid] for aid in recorded} == recorded  # earlier records kept as they were
    received = provider.requests()
    assert {r["sha256"] for r in received} == set(assets.values())
    # Only uploads in flight at the kill (at most --concurrency) can have been sent twice.
    assert len(received) <= len(assets) + 2, resumed.stdout
    assert f"{12 - len(recorded)} uploaded" in resumed.stdout


@pytest.mark.whole_stack
def test_a_second_sync_to_the_same_provider_is_refused(db, data, tmp_path, provider):
    users(db, "alice")
    for i in range(3):
        seed(db, data, 1, os.urandom(100 + i))
    config = write_config(tmp_path, provider.url)
    provider.control(mode="slow", delay=1.0)
    first = subprocess.Popen([BIN, "sync", "--provider", "runway", "--config", str(config), "--data", str(data),
                              "--concurrency", "1", "--db", str(db)], env=ENV, stdout=subprocess.DEVNULL)
    try:
        wait_until(provider.requests, timeout=60, what="the first sync's first upload (it holds the lock)")
        second = sync(db, data, config)
        assert second.returncode == 1
        assert "another sync to runway is running" in second.stderr
    finally:
        first.wait(timeout=60)
    assert first.returncode == 0
    assert len(provider.requests()) == 3


def test_progress_bar_on_a_tty(db, data, tmp_path):
    users(db, "alice")
    for i in range(3):
        seed(db, data, 1, os.urandom(2000 + i))
    leader, follower = pty.openpty()
    proc = subprocess.Popen([BIN, "sync", "--provider", "pixverse", "--data", str(data), "--db", str(db)],
                            stdout=follower, stderr=follower)
    os.close(follower)
    output = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 10)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert proc.wait(timeout=10) == 0
    text = output.decode()
    assert "\r\x1b[K[" in text and "3/3 assets" in text
    assert "uploaded asset" not in text  # per-asset lines are for logs, the bar is for people
    assert "sync pixverse: 3 uploaded" in text


def test_config_problems_are_one_line_errors_naming_file_and_entry(db, data, tmp_path, provider):
    config = write_config(tmp_path, provider.url)
    env = {k: v for k, v in os.environ.items() if k != "RUNWAY_TOKEN"}
    result = run_cli("sync", "--provider", "runway", "--config", str(config), "--data", str(data),
                     db=db, check=False, env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {config}: provider 'runway' (providers[1]): header Authorization: "
        "environment variable RUNWAY_TOKEN is not set"]
    unknown = run_cli("sync", "--provider", "s3", "--config", str(config), "--data", str(data),
                      db=db, check=False, env=ENV)
    assert unknown.returncode == 1
    assert "no provider 's3' is configured (configured: pixverse, runway)" in unknown.stderr


def test_whereis_text_and_json(db, data, tmp_path, provider):
    users(db, "alice", "bob")
    content = b"one video, two owners"
    a, sha = seed(db, data, 1, content, "a.mp4")
    b, _ = seed(db, data, 2, content, "b.mp4")
    config = write_config(tmp_path, provider.url)
    run_cli("sync", "--provider", "pixverse", "--config", str(config), "--data", str(data), "--user", "alice",
            db=db, env=ENV)
    sync(db, data, config, check=True)

    text = run_cli("whereis", sha, db=db).stdout.splitlines()
    assert text[0] == f"asset {a} of alice (21 bytes, sha256 {sha}): 2 providers"
    assert text[1].split()[:2] == ["pixverse", f"{sha[:2]}/{sha}"]
    assert text[2].split()[:2] == ["runway", uploads(db)[a]]
    assert text[3] == f"asset {b} of bob (21 bytes, sha256 {sha}): 1 provider"
    assert text[4].split()[:2] == ["runway", uploads(db)[b]]

    only_bob = json.loads(run_cli("whereis", sha.upper(), "--user", "bob", "--json", db=db).stdout)
    assert [x["asset_id"] for x in only_bob["assets"]] == [b]
    assert only_bob["assets"][0]["user"] == "bob"
    assert [p["provider_id"] for p in only_bob["assets"][0]["providers"]] == ["runway"]
    assert only_bob["assets"][0]["providers"][0]["provider_asset_id"] == uploads(db)[b]

    by_id = json.loads(run_cli("whereis", str(a), "--json", db=db).stdout)["assets"]
    assert [(x["asset_id"], x["original_filename"], len(x["providers"])) for x in by_id] == [(a, "a.mp4", 2)]
    assert run_cli("whereis", str(a), "--user", "bob", db=db, check=False).stderr.strip() == \
        f"error: no asset {a} for user 'bob'"
    missing = run_cli("whereis", "0" * 64, db=db, check=False)
    assert missing.returncode == 1 and missing.stderr.strip() == f"error: no asset with sha256 {'0' * 64}"
    assert run_cli("whereis", "not-a-hash", db=db, check=False).returncode != 0


# Runs a command and prints its peak RSS in KiB. A small process of its own does the fork:
# Linux keeps ru_maxrss across exec, so a child forked from pytest would report pytest's size.
PEAK_RSS = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def test_http_upload_streams_in_constant_memory(db, data, tmp_path, provider):
    users(db, "alice")
    size = 96 * 1024 * 1024
    hasher, staging = hashlib.sha256(), tmp_path / "big"
    with open(staging, "wb") as out:
        for _ in range(size >> 20):
            chunk = os.urandom(1 << 20)
            hasher.update(chunk)
            out.write(chunk)
    sha = hasher.hexdigest()
    blob = data / "blobs" / "sha256" / sha[:2] / sha[2:4] / sha
    blob.parent.mkdir(parents=True)
    staging.rename(blob)
    aid = db.sql("INSERT INTO assets (user_id, sha256, size) VALUES (1, ?, ?) RETURNING id", sha, size)[0][0]
    config = write_config(tmp_path, provider.url, timeout=120)
    measured = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, BIN, "sync", "--provider", "runway", "--config", str(config),
         "--data", str(data), "--db", str(db)], env=ENV, capture_output=True, text=True, timeout=180)
    code, peak_kib = map(int, measured.stdout.split())
    assert code == 0, measured.stderr
    assert [(r["sha256"], r["file_size"]) for r in provider.requests()] == [(sha, size)]
    assert uploads(db) == {aid: "fp-1"}
    # The binary alone peaks near 30 MiB; holding the file would add 96 MiB.
    assert peak_kib < 64 * 1024, f"peak RSS {peak_kib} KiB for a {size >> 20} MiB upload"


# Deliveries: serve's delivery workers and `sync` are separate processes working one queue in
# the database; a lease on each (asset, provider) keeps them from both sending it.

def background(fn):
    """Runs fn() on a thread; returns a function that joins it and gives fn's result."""
    box = {}
    thread = threading.Thread(target=lambda: box.update(result=fn()), daemon=True)
    thread.start()

    def join(timeout=120):
        thread.join(timeout)
        assert not thread.is_alive(), "background call did not finish"
        return box["result"]
    return join


def leases(db):
    return db.sql("SELECT asset_id, provider_id, lease_owner FROM deliveries WHERE state = 'delivering'")


@pytest.mark.whole_stack
def test_sync_skips_an_asset_a_delivery_worker_is_sending(make_stack, tmp_path, provider):
    config = write_config(tmp_path, provider.url, headers=[])
    stack = make_stack(config=config)
    token = stack.add_user("alice")
    content = os.urandom(50_000)
    provider.control(mode="slow", delay=3)
    api = background(lambda: stack.upload(token, content, provider="runway"))
    wait_until(lambda: len(provider.requests()) == 1, what="the upload's delivery to reach the provider")
    # The asset row exists and is missing on runway: without the lease, sync would send it too.
    result = sync(stack.db, stack.data_dir, config, env=stack.env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "in progress elsewhere (serve/" in result.stdout
    assert "sync runway: 0 uploaded, 0 already there, 0 failed; 1 in progress elsewhere;" in result.stdout
    answer = api()
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "created"
    received = provider.requests()
    assert len(received) == 1 and received[0]["sha256"] == hashlib.sha256(content).hexdigest()
    assert stack.provider_uploads_count("runway") == 1
    assert leases(stack.db) == []
    # A later sync finds nothing left to send.
    again = sync(stack.db, stack.data_dir, config, check=True, env=stack.env)
    assert "sync runway: 0 uploaded, 0 already there, 0 failed;" in again.stdout
    assert len(provider.requests()) == 1


def test_api_upload_waits_for_a_sync_sending_the_same_asset(make_stack, tmp_path, provider):
    config = write_config(tmp_path, provider.url, headers=[])
    stack = make_stack(config=config)
    token = stack.add_user("alice")
    content = os.urandom(50_000)
    first = stack.upload(token, content, provider="pixverse")  # the asset, on the folder provider only
    assert first.status_code == 201, first.text
    provider.control(mode="slow", delay=2)
    syncing = background(lambda: sync(stack.db, stack.data_dir, config, env=stack.env))
    wait_until(lambda: len(provider.requests()) == 1, what="sync's upload to reach the provider")
    assert [lease[2].startswith("sync-runway ") for lease in leases(stack.db)] == [True]
    answer = stack.upload(token, content, provider="runway")  # waits for the sync's delivery
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "added_provider" and body["provider_asset_id"] == "fp-1"
    result = syncing()
    assert result.returncode == 0 and "sync runway: 1 uploaded" in result.stdout, result.stdout
    assert len(provider.requests()) == 1
    assert uploads(stack.db) == {first.json()["asset_id"]: "fp-1"}
    assert leases(stack.db) == []


@pytest.mark.whole_stack
def test_an_expired_lease_left_by_a_killed_sender_does_not_block(make_stack, tmp_path, provider):
    config = write_config(tmp_path, provider.url, headers=[])
    stack = make_stack(config=config)
    token = stack.add_user("alice")
    content = os.urandom(30_000)
    first = stack.upload(token, content, provider="pixverse")
    asset_id = first.json()["asset_id"]
    # What a `kill -9` mid-send on another host leaves: a lease nobody will complete or give back.
    stack.sql("INSERT INTO deliveries (asset_id, provider_id, state, attempts, next_attempt_at, lease_owner, "
              "lease_expires_at, idempotency_key, created_at, updated_at) VALUES (?, 'runway', 'delivering', 1, "
              "'2026-01-01T00:00:00.000Z', 'sync-runway otherhost pid 999 ab', '2026-01-01T00:00:00.000Z', "
              "'00112233445566778899aabbccddeeff', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
              asset_id)
    answer = stack.upload(token, content, provider="runway")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "added_provider"
    received = provider.requests()
    assert len(received) == 1 and received[0]["idempotency_key"] == "00112233445566778899aabbccddeeff"
    assert stack.provider_uploads_count("runway") == 1
    assert leases(stack.db) == []
    assert stack.sql("SELECT attempts FROM deliveries WHERE provider_id = 'runway'") == [(2,)]


def test_a_failed_delivery_is_retried_by_the_queue_or_queued_again_by_a_new_upload(make_stack, tmp_path, provider):
    config = write_config(tmp_path, provider.url, headers=[], max_attempts=1)
    stack = make_stack(config=config)
    token = stack.add_user("alice")
    provider.control(mode="500")
    answer = stack.upload(token, b"fails once" * 1000, provider="runway")
    assert answer.status_code == 502, answer.text
    error = answer.json()["error"]
    assert error["code"] == "provider_failed" and error["retryable"] is True
    assert "retried automatically" in error["message"]
    asset_id = stack.sql("SELECT id FROM assets")[0][0]
    state = stack.api("GET", f"/api/v1/assets/{asset_id}", token).json()["deliveries"]["runway"]
    assert state["state"] == "queued" and state["attempts"] == 1 and "HTTP 500" in state["last_error"]
    provider.control(mode="ok")
    # The queue tries again after its backoff; nobody has to upload again.
    wait_until(lambda: stack.provider_uploads_count("runway") == 1, what="the retry to deliver")
    result = sync(stack.db, stack.data_dir, config, check=True, env=stack.env)
    assert "sync runway: 0 uploaded" in result.stdout
    assert len([r for r in provider.requests() if "id" in r]) == 1

    # Not retryable (a 4xx): failed until a new upload of the same file queues it again.
    provider.control(mode="400")
    refused = stack.upload(token, b"refused once" * 1000, provider="runway")
    assert refused.status_code == 502 and refused.json()["error"]["retryable"] is False
    assert stack.sql("SELECT state FROM deliveries WHERE provider_id = 'runway' ORDER BY asset_id") == \
        [("delivered",), ("failed",)]
    provider.control(mode="ok")
    again = stack.upload(token, b"refused once" * 1000, provider="runway")
    assert again.status_code == 200 and again.json()["status"] == "added_provider", again.text
    assert stack.provider_uploads_count("runway") == 2

"""Resumable uploads (draft-ietf-httpbis-resumable-upload-15, no 104) on the real stack, through
nginx, with a plain HTTP client: create/append/HEAD/complete, a PATCH cut off mid-body, the app
killed with SIGKILL between and during appends, wrong offsets, other users' ids, expiry, digest
mismatch, reuse at creation and a full disk. Each ends by checking the asset row and blob bytes."""
import base64
import hashlib
import http.client
import json
import os
import pathlib
import signal
import socket
import subprocess
import threading

import pytest

from conftest import wait_until
from test_faults import assert_store_consistent, small_volume  # noqa: F401 (fixture)

PROBLEM = "https://iana.org/assignments/http-problem-types#"


def sha(data):
    return hashlib.sha256(data).hexdigest()


def digest_header(data):
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"


class Client:
    """http.client requests to the stack; answers (status, headers dict lower-case, body bytes)."""

    def __init__(self, stack, token):
        self.stack, self.token = stack, token

    def request(self, method, path, body=b"", headers=None, token=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=120)
        try:
            all_headers = {"Authorization": f"Bearer {token or self.token}", "Content-Length": str(len(body))}
            all_headers.update(headers or {})
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()

    def create(self, first, complete=False, length=None, digest=None, provider="pixverse", filename="clip.bin"):
        headers = {"Upload-Complete": "?1" if complete else "?0", "Content-Type": "video/mp4"}
        if length is not None:
            headers["Upload-Length"] = str(length)
        if digest is not None:
            headers["Repr-Digest"] = digest_header(digest)
        return self.request("POST", f"/api/v1/uploads?provider_id={provider}&filename={filename}", first, headers)

    def patch(self, location, offset, data, complete=False, token=None):
        headers = {"Content-Type": "application/partial-upload", "Upload-Offset": str(offset),
                   "Upload-Complete": "?1" if complete else "?0"}
        return self.request("PATCH", location, data, headers, token=token)

    def head(self, location, token=None):
        return self.request("HEAD", location, token=token)

    def offset(self, location):
        status, headers, _ = self.head(location)
        assert status == 204, status
        return int(headers["upload-offset"])


def upload_id(location):
    return location.rsplit("/", 1)[1]


def lock_released(stack, location):
    rows = stack.sql("SELECT lock_owner FROM upload_sessions WHERE id = ?", upload_id(location))
    return rows and rows[0][0] is None


def nginx_streams_bodies(stack):
    """Whether this nginx hands upload bodies to the app while they arrive. With buffering on
    (the shipped config) the app sees a request only once its whole body is in; a test that
    would wait for part of a body to reach the app has no event to wait for, so it does not."""
    conf = (stack.nginx_prefix / "nginx.conf").read_text()
    return "fastcgi_request_buffering off" in conf


def assert_asset(stack, content, filename=None):
    rows = stack.sql("SELECT sha256, size, original_filename FROM assets WHERE sha256 = ?", sha(content))
    assert len(rows) == 1, rows
    assert rows[0][1] == len(content)
    if filename:
        assert rows[0][2] == filename
    assert stack.blob(sha(content)).read_bytes() == content
    assert_store_consistent(stack)


def partial_files(stack):
    """The partial uploads the blob storage holds, as `<id>.partial` names."""
    if stack.bucket:
        ids = {key.split("/")[1] for key in stack.bucket.keys("uploads/")}
        return [pathlib.Path(f"{i}.partial") for i in sorted(ids)]
    root = stack.data_dir / "uploads"
    return sorted(root.iterdir()) if root.exists() else []


@pytest.fixture
def client(stack):
    return Client(stack, stack.add_user("alice"))


@pytest.mark.whole_stack
def test_create_append_head_complete(stack, client):
    content = os.urandom(3 << 20)
    status, headers, _ = client.create(content[:100_000], filename="movie.mp4")
    assert status == 201
    location = headers["location"]
    assert location.startswith("/api/v1/uploads/") and len(upload_id(location)) == 32
    assert headers["upload-offset"] == "100000" and headers["upload-complete"] == "?0"
    assert headers["upload-limit"].startswith("max-size=")
    status, headers, body = client.head(location)
    assert (status, headers["upload-offset"], headers["upload-complete"], body) == (204, "100000", "?0", b"")
    assert headers["cache-control"] == "no-store"
    status, headers, _ = client.patch(location, 100_000, content[100_000:2_000_000])
    assert (status, headers["upload-offset"]) == (204, "2000000")
    status, headers, body = client.patch(location, 2_000_000, content[2_000_000:], complete=True)
    assert status == 201, body
    answer = json.loads(body)
    assert answer["sha256"] == sha(content) and answer["size"] == len(content) and answer["status"] == "created"
    assert_asset(stack, content, "movie.mp4")
    assert partial_files(stack) == []
    assert stack.provider_uploads_count("pixverse") == 1
    status, headers, _ = client.head(location)
    assert headers["upload-complete"] == "?1" and headers["upload-offset"] == str(len(content))
    status, headers, body = client.patch(location, len(content), b"x", complete=True)
    assert status == 400 and json.loads(body)["type"] == PROBLEM + "completed-upload"
    status, _, _ = client.request("DELETE", location)
    assert status == 204


@pytest.mark.local_blobs_only  # watches the partial file grow
def test_a_patch_cut_mid_body_resumes_from_head(stack, client):
    content = os.urandom(4 << 20)
    _, headers, _ = client.create(content[:1000])
    location = headers["location"]
    sent = 1000 + (2 << 20)
    conn = socket.create_connection(("127.0.0.1", stack.port), timeout=30)
    head = (f"PATCH {location} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {client.token}\r\n"
            f"Content-Type: application/partial-upload\r\nUpload-Offset: 1000\r\nUpload-Complete: ?1\r\n"
            f"Content-Length: {len(content) - 1000}\r\n\r\n")
    conn.sendall(head.encode() + content[1000:sent])
    # Unbuffered nginx streams the body on: wait until the app has some of it, then cut. With
    # nginx buffering bodies the app never sees this request and HEAD keeps the old offset.
    partial = stack.data_dir / "uploads" / f"{upload_id(location)}.partial"
    if nginx_streams_bodies(stack):
        wait_until(lambda: partial.stat().st_size > 1000, timeout=60, what="the append to reach the app")
    conn.close()
    # The app notices the cut when its read fails; a PATCH meanwhile is 409 append_in_progress.
    offset = wait_until(lambda: lock_released(stack, location) and client.offset(location),
                        what="the cut append to end")
    assert 1000 <= offset <= sent
    status, _, body = client.patch(location, offset, content[offset:], complete=True)
    assert status == 201, body
    assert_asset(stack, content)


@pytest.mark.whole_stack
def test_kill_9_between_appends(stack, client):
    content = os.urandom(2 << 20)
    _, headers, _ = client.create(content[:500_000])
    location = headers["location"]
    assert client.patch(location, 500_000, content[500_000:1_000_000])[0] == 204
    stack.stop_app(signal.SIGKILL)
    stack.start_app()
    wait_until(stack._healthy, what="the app again")
    assert client.offset(location) == 1_000_000
    status, _, body = client.patch(location, 1_000_000, content[1_000_000:], complete=True)
    assert status == 201, body
    assert_asset(stack, content)


@pytest.mark.local_blobs_only  # watches the partial file grow
def test_kill_9_during_an_append_loses_at_most_that_append(stack, client):
    content = os.urandom(8 << 20)
    _, headers, _ = client.create(content[:1 << 20])
    location = headers["location"]
    partial = stack.data_dir / "uploads" / f"{upload_id(location)}.partial"
    conn = socket.create_connection(("127.0.0.1", stack.port), timeout=30)
    head = (f"PATCH {location} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {client.token}\r\n"
            f"Content-Type: application/partial-upload\r\nUpload-Offset: {1 << 20}\r\nUpload-Complete: ?0\r\n"
            f"Content-Length: {len(content) - (1 << 20)}\r\n\r\n")
    conn.sendall(head.encode() + content[1 << 20:3 << 20])
    # The app is in the middle of this append once the file grew past the recorded offset
    # (with nginx buffering bodies it only starts after the whole body: then kill before sending it).
    grew = lambda: partial.stat().st_size > (1 << 20)  # noqa: E731
    if nginx_streams_bodies(stack):
        wait_until(grew, timeout=60, what="the append to reach the file")
    stack.stop_app(signal.SIGKILL)
    conn.close()
    stack.start_app()
    wait_until(stack._healthy, what="the app again")
    offset = client.offset(location)
    assert offset == 1 << 20, "the killed append is not counted, the earlier bytes are"
    status, _, body = client.patch(location, offset, content[offset:], complete=True)
    assert status == 201, body
    assert_asset(stack, content)


def test_wrong_offset_and_concurrent_append_are_conflicts(stack, client):
    content = os.urandom(1 << 20)
    _, headers, _ = client.create(content[:1000])
    location = headers["location"]
    status, headers, body = client.patch(location, 999, content[999:2000])
    problem = json.loads(body)
    assert status == 409 and headers["content-type"] == "application/problem+json"
    assert problem["type"] == PROBLEM + "mismatching-upload-offset"
    assert (problem["expected-offset"], problem["provided-offset"], headers["upload-offset"]) == (1000, 999, "1000")
    # A second append while one is held open by a slow client: 409 (when the first reached the app).
    conn = socket.create_connection(("127.0.0.1", stack.port), timeout=30)
    head = (f"PATCH {location} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {client.token}\r\n"
            f"Content-Type: application/partial-upload\r\nUpload-Offset: 1000\r\nUpload-Complete: ?0\r\n"
            f"Content-Length: 5000\r\n\r\n")
    conn.sendall(head.encode() + content[1000:2000])
    # With nginx buffering bodies the app has not seen the first append at all: nothing to wait for.
    if nginx_streams_bodies(stack):
        wait_until(lambda: not lock_released(stack, location), timeout=60, what="the first append to lock")
        status, _, body = client.patch(location, 1000, content[1000:3000])
        assert status == 409 and json.loads(body)["error"]["code"] == "append_in_progress"
    conn.sendall(content[2000:6000])
    conn.recv(4096)
    conn.close()
    assert client.offset(location) == 6000
    status, _, body = client.patch(location, 6000, content[6000:], complete=True)
    assert status == 201, body
    assert_asset(stack, content)


def test_other_users_upload_is_404_like_an_unknown_one(stack, client):
    _, headers, _ = client.create(b"a" * 100)
    location = headers["location"]
    bob = stack.add_user("bob")
    unknown = "/api/v1/uploads/" + "0" * 32
    for method in ["PATCH", "DELETE"]:
        theirs = client.request(method, location, b"", {"Content-Type": "application/partial-upload",
                                                        "Upload-Offset": "100", "Upload-Complete": "?0"}, token=bob)
        none = client.request(method, unknown, b"", {"Content-Type": "application/partial-upload",
                                                     "Upload-Offset": "100", "Upload-Complete": "?0"})
        assert theirs[0] == none[0] == 404 and theirs[2] == none[2]
    assert client.head(location, token=bob)[0] == 404
    assert client.offset(location) == 100


def test_expired_uploads_are_swept_at_start(stack, client):
    _, headers, _ = client.create(os.urandom(1000))
    old = headers["location"]
    _, headers, _ = client.create(os.urandom(1000))
    fresh = headers["location"]
    stack.sql("UPDATE upload_sessions SET updated_at = '2000-01-01T00:00:00.000Z' WHERE id = ?", upload_id(old))
    stack.stop_app()
    stack.start_app()
    wait_until(stack._healthy, what="the app again")
    assert client.head(old)[0] == 404
    assert client.offset(fresh) == 1000
    assert [p.name for p in partial_files(stack)] == [f"{upload_id(fresh)}.partial"]
    assert "expired resumable upload" in stack.app_log_path.read_text()


def test_digest_mismatch_keeps_nothing(stack, client):
    content = os.urandom(100_000)
    _, headers, _ = client.create(content[:50_000], digest=b"something else")
    location = headers["location"]
    status, _, body = client.patch(location, 50_000, content[50_000:], complete=True)
    assert status == 422 and json.loads(body)["error"]["code"] == "sha256_mismatch"
    assert client.head(location)[0] == 404
    assert partial_files(stack) == [] and stack.sql("SELECT count(*) FROM assets") == [(0,)]
    assert stack.blobs() == []


def test_repr_digest_of_known_content_answers_at_creation(stack, client):
    content = os.urandom(200_000)
    assert stack.upload(client.token, content, "pixverse").status_code == 201
    status, headers, body = client.create(b"", digest=content)
    assert status == 200 and "location" not in headers
    assert json.loads(body)["status"] == "reused"
    status, headers, body = client.create(b"", digest=content, provider="runway")
    assert json.loads(body)["status"] == "added_provider"
    assert stack.provider_uploads_count("runway") == 1
    assert stack.sql("SELECT count(*) FROM upload_sessions") == [(0,)]
    assert_asset(stack, content)


@pytest.mark.local_blobs_only  # watches the partial file grow
def test_disk_full_during_an_append_is_507_and_resumable(make_stack, small_volume):  # noqa: F811
    stack = make_stack()
    client = Client(stack, stack.add_user("alice"))
    stack.stop_app()
    small_volume(stack.data_dir)
    stack.start_app()
    wait_until(stack._healthy, what="the app on the small volume")
    content = os.urandom(12 << 20)
    _, headers, _ = client.create(content[:4 << 20])
    location = headers["location"]
    status, _, body = client.patch(location, 4 << 20, content[4 << 20:])
    assert status == 507 and json.loads(body)["error"]["code"] == "insufficient_storage"
    assert client.offset(location) == 4 << 20
    assert (stack.data_dir / "uploads" / f"{upload_id(location)}.partial").stat().st_size == 4 << 20
    # Space is freed (the volume grows): the same append goes through from the same offset.
    subprocess.run(["mount", "-o", "remount,size=64m", str(stack.data_dir)], check=True)
    status, _, body = client.patch(location, 4 << 20, content[4 << 20:], complete=True)
    assert status == 201, body
    assert_asset(stack, content)
    stack.stop_app()

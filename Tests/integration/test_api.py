"""The HTTP API through a real nginx and the real app on 127.0.0.1, against a real store
(SQLite or PostgreSQL, conftest's Database) and real folders."""
import concurrent.futures
import hashlib
import json
import os
import socket
import threading

import pytest
import requests

from conftest import wait_until

# The first box of an ISO media file: content the server sniffs as a video.
MP4_BOX = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"

ZERO = "0" * 64


def sha(data):
    return hashlib.sha256(data).hexdigest()


def error_code(response):
    return response.json()["error"]["code"]


def test_health_needs_no_token(stack):
    r = stack.api("GET", "/api/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is True and body["schema_version"] == body["latest_schema_version"] >= 7


def test_tokens_missing_wrong_or_revoked_are_401(stack):
    token = stack.add_user("alice")
    body = {"sha256": ZERO}
    assert stack.api("POST", "/api/v1/assets/check-by-hash", json=body).status_code == 401
    r = stack.api("POST", "/api/v1/assets/check-by-hash", "adt_" + "0" * 64, json=body)
    assert r.status_code == 401 and error_code(r) == "unauthorized"
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert stack.api("POST", "/api/v1/assets/check-by-hash", token, json=body).status_code == 200
    from conftest import run_cli
    run_cli("token", "revoke", "1", db=stack.db)
    assert stack.api("POST", "/api/v1/assets/check-by-hash", token, json=body).status_code == 401


@pytest.mark.whole_stack
def test_upload_create_reuse_add_provider(stack):
    token = stack.add_user("alice")
    content = MP4_BOX + os.urandom(3 << 20)  # a video by its bytes, as its declared type says
    digest = sha(content)

    r = stack.upload(token, content, "pixverse", filename="clip.mp4", mime="video/mp4")
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] == "created" and created["sha256"] == digest and created["size"] == len(content)
    assert created["uploaded_to_providers"] == ["pixverse"] and created["media_type"] == "video"
    assert created["note"] == "New asset uploaded to pixverse"
    assert created["external_url"] is None and created["provider_asset_id"]
    asset_id = created["asset_id"]

    r = stack.upload(token, content, "pixverse")
    assert r.status_code == 200 and r.json()["status"] == "reused" and r.json()["asset_id"] == asset_id
    assert r.json()["note"] == "Reused existing asset (deduplicated by sha256, already on pixverse)"

    r = stack.upload(token, content, "runway", sha256=digest.upper())
    assert r.status_code == 200 and r.json()["status"] == "added_provider" and r.json()["asset_id"] == asset_id
    assert r.json()["note"] == "Reused existing asset (deduplicated by sha256, uploaded to runway)"
    assert r.json()["uploaded_to_providers"] == ["pixverse", "runway"]

    # The bytes really moved: one blob, one file per provider, all equal to the upload.
    assert [p.name for p in stack.blobs()] == [digest]
    for provider in ["pixverse", "runway"]:
        files = stack.provider_files(provider)
        assert len(files) == 1 and sha(files[0].read_bytes()) == digest
        assert stack.provider_uploads_count(provider) == 1
    assert stack.sql("SELECT count(*) FROM assets") == [(1,)]
    assert stack.temp_files() == []

    asset = stack.api("GET", f"/api/v1/assets/{asset_id}", token).json()
    assert asset["original_filename"] == "clip.mp4" and asset["mime_type"] == "video/mp4"
    assert set(asset["providers"]) == {"pixverse", "runway"}


def test_check_by_hash_answers_in_the_seed_wording(stack):
    token = stack.add_user("alice")
    content = b"hello world" * 1000
    digest = sha(content)
    check = lambda body: stack.api("POST", "/api/v1/assets/check-by-hash", token, json=body)

    r = check({"sha256": digest})
    assert r.json() == {"sha256": digest, "exists": False, "asset_id": None, "provider_id": None,
                        "uploaded_to_providers": [], "note": "No asset found with this hash"}
    asset_id = stack.upload(token, content, "pixverse").json()["asset_id"]
    assert check({"sha256": digest}).json()["note"] == "Asset exists"
    r = check({"sha256": digest.upper(), "provider_id": "pixverse"}).json()
    assert r["exists"] and r["asset_id"] == asset_id and r["note"] == "Asset already uploaded to pixverse"
    r = check({"sha256": digest, "provider_id": "runway"}).json()
    assert r["exists"] and r["note"] == "Asset exists but not uploaded to runway"
    assert r["uploaded_to_providers"] == ["pixverse"]


@pytest.mark.parametrize("body, status, code", [
    ({"sha256": "abc"}, 400, "invalid_sha256"),
    ({"sha256": "g" * 64}, 400, "invalid_sha256"),
    ({}, 400, "missing_field"),
    ({"sha256": 42}, 400, "invalid_field"),
    ({"sha256": ZERO, "provider_id": "Not A Slug"}, 400, "invalid_provider_id"),
    ({"sha256": ZERO, "provider_id": "nowhere"}, 422, "unknown_provider"),
])
def test_check_by_hash_rejects_bad_input(stack, body, status, code):
    token = stack.add_user("alice")
    r = stack.api("POST", "/api/v1/assets/check-by-hash", token, json=body)
    assert (r.status_code, error_code(r)) == (status, code)
    assert r.json()["error"]["message"]


def test_malformed_json_wrong_type_wrong_method_unknown_route(stack):
    token = stack.add_user("alice")
    url = "/api/v1/assets/check-by-hash"
    r = stack.api("POST", url, token, data="{not json", headers={"Content-Type": "application/json"})
    assert (r.status_code, error_code(r)) == (400, "invalid_json")
    r = stack.api("POST", url, token, data="sha256=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (r.status_code, error_code(r)) == (415, "unsupported_media_type")
    r = stack.api("GET", url, token)
    assert (r.status_code, error_code(r)) == (405, "method_not_allowed") and r.headers["Allow"] == "POST"
    r = stack.api("GET", "/api/v1/nothing-here", token)
    assert (r.status_code, error_code(r)) == (404, "not_found")
    r = stack.api("POST", url, token, data=b"{" + b" " * (2 << 20) + b"}", headers={"Content-Type": "application/json"})
    assert (r.status_code, error_code(r)) == (413, "payload_too_large")


def test_check_is_read_only(stack):
    token = stack.add_user("alice")
    content = os.urandom(1000)
    stack.upload(token, content, "pixverse")
    before = stack.dump()
    for _ in range(3):
        stack.api("POST", "/api/v1/assets/check-by-hash", token, json={"sha256": sha(content), "provider_id": "runway"})
        stack.api("POST", "/api/v1/assets/check-by-hash/batch", token, json={"items": [{"sha256": sha(content)}, {"sha256": ZERO}]})
        stack.api("POST", "/api/v1/assets/check-by-hash-batch", token, json={"hashes": [sha(content)]})
        stack.api("GET", "/api/v1/assets", token)
    assert stack.dump() == before, "no column of any row changed, last_accessed_at included"


def test_batch_answers_every_item_in_order(stack):
    token = stack.add_user("alice")
    content = os.urandom(500)
    asset_id = stack.upload(token, content, "pixverse").json()["asset_id"]
    items = [{"sha256": sha(content), "provider_id": "pixverse"}, {"sha256": "bad"}, {"sha256": ZERO},
             {"sha256": sha(content), "provider_id": "nowhere"}, {"sha256": sha(content).upper(), "provider_id": "runway"}]
    r = stack.api("POST", "/api/v1/assets/check-by-hash/batch", token, json={"items": items})
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 5
    assert results[0]["exists"] and results[0]["asset_id"] == asset_id
    assert results[1]["error"]["code"] == "invalid_sha256" and results[1]["sha256"] == "bad"
    assert results[2]["exists"] is False and "error" not in results[2]
    assert results[3]["error"]["code"] == "unknown_provider"
    assert results[4]["note"] == "Asset exists but not uploaded to runway"

    too_many = {"items": [{"sha256": ZERO}] * 1001}
    assert stack.api("POST", "/api/v1/assets/check-by-hash/batch", token, json=too_many).status_code == 413
    exactly = {"items": [{"sha256": ZERO}] * 1000}
    assert len(stack.api("POST", "/api/v1/assets/check-by-hash/batch", token, json=exactly).json()["results"]) == 1000


def test_seed_batch_alias(stack):
    token = stack.add_user("alice")
    content = os.urandom(500)
    asset_id = stack.upload(token, content, "pixverse").json()["asset_id"]
    r = stack.api("POST", "/api/v1/assets/check-by-hash-batch", token, json={"hashes": [sha(content), ZERO, "nope"]})
    assert r.status_code == 200
    body = r.json()
    assert body["found_count"] == 1
    assert body["results"][0] == {"sha256": sha(content), "exists": True, "asset_id": asset_id}
    assert body["results"][1] == {"sha256": ZERO, "exists": False, "asset_id": None}
    assert body["results"][2]["error"]["code"] == "invalid_sha256"


def test_users_are_isolated(stack):
    alice = stack.add_user("alice")
    bob = stack.add_user("bob")
    content = os.urandom(4000)
    alices = stack.upload(alice, content, "pixverse").json()["asset_id"]
    # Bob sees nothing of Alice's: not by hash, not by id, not in lists, and the same status
    # and body for her id as for an id that does not exist.
    r = stack.api("POST", "/api/v1/assets/check-by-hash", bob, json={"sha256": sha(content)})
    assert r.json()["exists"] is False and r.json()["asset_id"] is None
    theirs = stack.api("GET", f"/api/v1/assets/{alices}", bob)
    missing = stack.api("GET", "/api/v1/assets/999999", bob)
    assert theirs.status_code == missing.status_code == 404 and theirs.json() == missing.json()
    assert stack.api("GET", "/api/v1/assets", bob).json()["assets"] == []
    # Bob uploading the same file gets his own asset; the blob is stored once for both.
    r = stack.upload(bob, content, "pixverse")
    assert r.status_code == 201 and r.json()["asset_id"] != alices
    assert len(stack.blobs()) == 1
    assert stack.sql("SELECT count(*) FROM assets WHERE sha256 = ?", sha(content)) == [(2,)]


def test_list_is_paginated(stack):
    token = stack.add_user("alice")
    ids = [stack.upload(token, os.urandom(100), "pixverse").json()["asset_id"] for _ in range(5)]
    page = stack.api("GET", "/api/v1/assets?limit=2", token).json()
    seen = [a["asset_id"] for a in page["assets"]]
    while page["next_after"]:
        page = stack.api("GET", f"/api/v1/assets?limit=2&after={page['next_after']}", token).json()
        seen += [a["asset_id"] for a in page["assets"]]
    assert seen == ids
    for bad in ["limit=0", "limit=501", "limit=x", "after=-1"]:
        r = stack.api("GET", f"/api/v1/assets?{bad}", token)
        assert r.status_code == 400, bad


def test_providers_endpoint(stack):
    token = stack.add_user("alice")
    r = stack.api("GET", "/api/v1/providers", token)
    assert r.json() == {"providers": [{"id": "pixverse", "kind": "directory", "health": "ok"},
                                      {"id": "runway", "kind": "directory", "health": "ok"}]}


def assert_nothing_kept(stack):
    assert stack.sql("SELECT count(*) FROM assets") == [(0,)]
    assert stack.blobs() == []
    assert stack.temp_files() == []
    assert stack.provider_files("pixverse") == []


@pytest.mark.parametrize("case", ["mismatch", "unknown_provider", "no_file", "no_provider", "bad_claim", "not_multipart"])
def test_bad_uploads_keep_nothing(stack, case):
    token = stack.add_user("alice")
    content = os.urandom(1 << 20)
    url = "/api/v1/assets/upload"
    if case == "mismatch":
        r = stack.upload(token, content, "pixverse", sha256=ZERO)
        assert (r.status_code, error_code(r)) == (422, "sha256_mismatch")
        assert sha(content) in r.json()["error"]["message"]
    elif case == "unknown_provider":
        r = stack.upload(token, content, "nowhere")
        assert (r.status_code, error_code(r)) == (422, "unknown_provider")
    elif case == "no_file":
        r = stack.api("POST", url, token, files={"provider_id": (None, "pixverse")})
        assert (r.status_code, error_code(r)) == (400, "missing_field")
    elif case == "no_provider":
        r = stack.api("POST", url, token, files={"file": ("a.bin", content)})
        assert (r.status_code, error_code(r)) == (400, "missing_field")
    elif case == "bad_claim":
        r = stack.upload(token, content, "pixverse", sha256="xyz")
        assert (r.status_code, error_code(r)) == (400, "invalid_sha256")
    elif case == "not_multipart":
        r = stack.api("POST", url, token, data=content, headers={"Content-Type": "application/octet-stream"})
        assert (r.status_code, error_code(r)) == (415, "unsupported_media_type")
    # The answer can reach us a moment before the app has removed its temp file: wait for that.
    wait_until(lambda: stack.temp_files() == [], timeout=30, what="the upload's temp file to be removed")
    assert_nothing_kept(stack)


def test_malformed_multipart_is_400_and_keeps_nothing(stack):
    token = stack.add_user("alice")
    body = b"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc"  # never closed
    r = stack.api("POST", "/api/v1/assets/upload", token, data=body,
                  headers={"Content-Type": "multipart/form-data; boundary=XYZ"})
    assert (r.status_code, error_code(r)) == (400, "incomplete_body")
    garbage = b"--XYZ\r\nbroken header line without colon\r\n\r\nabc\r\n--XYZ--\r\n"
    r = stack.api("POST", "/api/v1/assets/upload", token, data=garbage,
                  headers={"Content-Type": "multipart/form-data; boundary=XYZ"})
    assert (r.status_code, error_code(r)) == (400, "invalid_multipart")
    assert_nothing_kept(stack)


def test_size_limits_at_app_and_nginx(make_stack):
    app_limited = make_stack(max_upload_bytes=1 << 20)
    token = app_limited.add_user("alice")
    r = app_limited.upload(token, os.urandom(2 << 20), "pixverse")
    assert (r.status_code, error_code(r)) == (413, "payload_too_large")
    assert_nothing_kept(app_limited)

    nginx_limited = make_stack(max_body_size="1m")
    token = nginx_limited.add_user("alice")
    r = nginx_limited.upload(token, os.urandom(2 << 20), "pixverse")
    assert r.status_code == 413
    assert_nothing_kept(nginx_limited)


@pytest.mark.whole_stack
def test_concurrent_uploads_of_one_file_make_one_asset(make_stack):
    stack = make_stack(threads=8)
    token = stack.add_user("alice")
    content = os.urandom(4 << 20)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: stack.upload(token, content, "pixverse"), range(8)))
    # 202 queued: at most half of the 8 request threads may wait for the one delivery at once.
    assert all(r.status_code in (200, 201, 202) for r in responses), [r.text for r in responses]
    assert len({r.json()["asset_id"] for r in responses}) == 1
    assert sorted(r.json()["status"] for r in responses).count("created") == 1
    wait_until(lambda: stack.provider_uploads_count("pixverse") == 1, what="the one delivery")
    assert stack.sql("SELECT count(*) FROM assets") == [(1,)]
    assert len(stack.blobs()) == 1
    assert stack.provider_uploads_count("pixverse") == 1
    assert len(stack.provider_files("pixverse")) == 1
    assert stack.temp_files() == []


def raw_upload_start(stack, token, total_file_bytes, sent_file_bytes):
    """Opens a raw connection, sends headers and part of a multipart upload, returns the socket."""
    boundary = "RAWBOUNDARY"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"provider_id\"\r\n\r\npixverse\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + total_file_bytes + len(tail)
    conn = socket.create_connection(("127.0.0.1", stack.port))
    conn.sendall((f"POST /api/v1/assets/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                  f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\r\n").encode())
    conn.sendall(head + os.urandom(sent_file_bytes))
    return conn


def test_client_disconnect_mid_upload_leaves_nothing(stack):
    """nginx holds the body until it is complete; a client that goes away mid-body never reaches
    the app, and nginx drops its body file."""
    token = stack.add_user("alice")
    conn = raw_upload_start(stack, token, 50 << 20, 5 << 20)
    wait_until(lambda: any(p.stat().st_size > 0 for p in stack.body_files()), what="nginx to buffer the body")
    conn.close()
    wait_until(lambda: not stack.body_files(), what="nginx to remove the body file")
    assert stack.sql("SELECT count(*) FROM assets") == [(0,)]
    assert stack.blobs() == [] and stack.temp_files() == []
    # The app is still fine.
    assert stack.upload(token, b"after", "pixverse").status_code == 201


@pytest.mark.whole_stack
def test_kill_9_mid_upload_then_restart(stack):
    """The app dies while an upload body is on its way: the client's finished body gets a JSON
    503 from nginx (retryable), nothing is kept anywhere, and the restarted app takes uploads."""
    token = stack.add_user("alice")
    conn = raw_upload_start(stack, token, 6 << 20, 5 << 20)
    wait_until(lambda: any(p.stat().st_size > 0 for p in stack.body_files()), what="nginx to buffer the body")
    import signal
    stack.stop_app(signal.SIGKILL)
    conn.sendall(os.urandom(1 << 20) + b"\r\n--RAWBOUNDARY--\r\n")
    conn.settimeout(30)
    answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 503") and b'"code":"unavailable"' in answer, answer
    conn.close()
    wait_until(lambda: not stack.body_files(), what="nginx to remove the body file")
    stack.start_app()
    assert stack.temp_files() == []
    assert stack.db.integrity_problems() == []
    assert stack.sql("SELECT count(*) FROM assets") == [(0,)]
    wait_until(lambda: stack.api("GET", "/api/v1/health").status_code == 200, what="health after restart")
    assert stack.upload(token, b"after restart", "pixverse").status_code == 201


def test_sigterm_lets_an_upload_in_flight_finish(make_stack, tmp_path):
    """SIGTERM while the app is inside an upload (pushing it to a slow provider): the app stops
    taking new requests but finishes that one (201) and exits 0."""
    from test_providers import FakeProvider, write_config
    provider = FakeProvider(tmp_path, "--mode", "slow", "--delay", "2")
    try:
        stack = make_stack(config=write_config(tmp_path, provider.url, headers=[]))
        token = stack.add_user("alice")
        content = os.urandom(8 << 20)
        result = {}
        sender = threading.Thread(target=lambda: result.update(r=stack.upload(token, content, "runway")))
        sender.start()
        wait_until(lambda: len(provider.requests()) == 1, what="the app to be sending to the provider")
        import signal
        stack.app.send_signal(signal.SIGTERM)
        sender.join(60)
        assert result["r"].status_code == 201, result["r"].text
        assert result["r"].json()["sha256"] == sha(content)
        assert stack.app.wait(timeout=15) == 0
    finally:
        provider.stop()


def test_provider_failure_is_502_and_a_later_upload_completes_it(make_stack, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the provider's folder should be")
    config = tmp_path / "providers.json"
    config.write_text(json.dumps({"providers": [
        {"id": "pixverse", "kind": "directory", "path": str(tmp_path / "pixverse")},
        {"id": "flaky", "kind": "directory", "path": str(blocker / "inside")},
    ]}))
    stack = make_stack(config=config)
    token = stack.add_user("alice")
    content = os.urandom(100_000)
    r = stack.upload(token, content, "flaky")
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "provider_failed" and r.json()["error"]["retryable"] is True
    # Asset and blob are kept, no upload is recorded.
    assert stack.sql("SELECT count(*) FROM assets") == [(1,)]
    assert len(stack.blobs()) == 1
    assert stack.provider_uploads_count("flaky") == 0
    health = {p["id"]: p["health"] for p in stack.api("GET", "/api/v1/providers", token).json()["providers"]}
    assert health == {"pixverse": "ok", "flaky": "unavailable"}

    blocker.unlink()
    # The upload asks for the queued retry at once; the queue may also have retried by itself.
    r = stack.upload(token, content, "flaky")
    assert r.status_code == 200 and r.json()["status"] in ("added_provider", "reused"), r.text
    assert stack.provider_uploads_count("flaky") == 1


def test_reports_are_for_admins_only(make_stack, tmp_path):
    www = tmp_path / "www"
    (www / "reports").mkdir(parents=True)
    (www / "reports" / "index.html").write_text("<h1>report</h1>")
    stack = make_stack(www=www)
    admin = stack.add_user("root", admin=True)
    user = stack.add_user("alice")
    url = stack.base_url + "/reports/"
    r = requests.get(url)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    assert requests.get(url, auth=("x", "adt_wrong")).status_code == 401
    assert requests.get(url, auth=("x", user)).status_code == 403
    assert requests.get(url, headers={"Authorization": f"Bearer {user}"}).status_code == 403
    r = requests.get(url, auth=("admin", admin))
    assert r.status_code == 200 and "report" in r.text
    assert requests.get(url, headers={"Authorization": f"Bearer {admin}"}).status_code == 200


def test_app_pages_have_security_headers(stack):
    r = requests.get(stack.base_url + "/app/")
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self' 'wasm-unsafe-eval'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert requests.get(stack.base_url + "/", allow_redirects=False).headers["Location"].endswith("/app/")


def test_an_oversized_text_field_is_refused_not_buffered(stack):
    token = stack.add_user("alice")
    r = stack.api("POST", "/api/v1/assets/upload", token,
                  files={"provider_id": (None, "p" * (8 << 20)), "file": ("a.bin", b"data")})
    assert (r.status_code, error_code(r)) == (400, "invalid_field")
    assert_nothing_kept(stack)

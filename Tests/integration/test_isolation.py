"""Isolation and secrets on the real stack: no user learns anything of another's assets (not by
status, body or timing), tokens exist only as hashes, secrets stay out of every log, admin pages
and size limits hold, and www/ pages carry their security headers."""
import base64
import hashlib
import os
import re
import statistics
import time

import requests

from conftest import run_cli
from test_faults import raw_post

ZERO = "0" * 64


def sha(data):
    return hashlib.sha256(data).hexdigest()


def without_hash(body):
    """A check answer with the asked-for hash blanked, to compare two answers' shapes."""
    if isinstance(body, dict):
        return {k: ("<hash>" if k == "sha256" else without_hash(v)) for k, v in body.items()}
    if isinstance(body, list):
        return [without_hash(v) for v in body]
    return body


def paired_medians(first, second, n=50):
    """Medians of n timings of each call, interleaved so that load on the machine hits both alike."""
    first(), second()  # warm up connection and caches
    times = ([], [])
    for _ in range(n):
        for call, out in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            call()
            out.append(time.perf_counter() - started)
    return statistics.median(times[0]), statistics.median(times[1])


def test_another_users_ids_and_hashes_look_exactly_like_missing_ones(stack):
    alice = stack.add_user("alice")
    bob = stack.add_user("bob")
    content = os.urandom(20_000)
    hers = stack.upload(alice, content, "pixverse").json()
    her_id, her_hash = hers["asset_id"], hers["sha256"]
    never = sha(b"never uploaded by anyone")
    never_id = her_id + 1000

    def both(method, path_for, body_for=None):
        theirs = stack.api(method, path_for(her_id, her_hash), bob, json=body_for and body_for(her_id, her_hash))
        missing = stack.api(method, path_for(never_id, never), bob, json=body_for and body_for(never_id, never))
        return theirs, missing

    # GET /assets/{id}: the same 404 and body.
    theirs, missing = both("GET", lambda i, h: f"/api/v1/assets/{i}")
    assert theirs.status_code == missing.status_code == 404
    # Same document and same length; byte order of keys is not stable (JSONEncoder without
    # .sortedKeys orders keys per dictionary instance), so compare parsed.
    assert theirs.json() == missing.json() and len(theirs.content) == len(missing.content)

    # Every hash lookup, with and without a provider: exists false, identical but for the hash.
    forms = [
        ("/api/v1/assets/check-by-hash", lambda i, h: {"sha256": h}),
        ("/api/v1/assets/check-by-hash", lambda i, h: {"sha256": h, "provider_id": "pixverse"}),
        ("/api/v1/assets/check-by-hash/batch", lambda i, h: {"items": [{"sha256": h}, {"sha256": h, "provider_id": "runway"}]}),
        ("/api/v1/assets/check-by-hash-batch", lambda i, h: {"hashes": [h, h.upper()]}),
    ]
    for path, body in forms:
        theirs, missing = both("POST", lambda i, h: path, body)
        assert theirs.status_code == missing.status_code == 200, path
        assert '"exists":true' not in theirs.text and f'"asset_id":{her_id}' not in theirs.text, (path, theirs.text)
        assert without_hash(theirs.json()) == without_hash(missing.json()), path

    # Listing: nothing of hers on any page, whatever `after` says.
    for after in ["", f"&after={her_id - 1}" if her_id > 1 else "", "&after=1"]:
        r = stack.api("GET", f"/api/v1/assets?limit=500{after}", bob)
        assert r.status_code == 200 and r.json()["assets"] == [] and r.json()["next_after"] is None

    # Uploading her content makes Bob his own asset, reported exactly like new content.
    r = stack.upload(bob, content, "pixverse")
    assert r.status_code == 201 and r.json()["status"] == "created" and r.json()["asset_id"] != her_id
    assert r.json()["note"] == "New asset uploaded to pixverse"
    # And Alice still sees only hers.
    assert [a["asset_id"] for a in stack.api("GET", "/api/v1/assets", alice).json()["assets"]] == [her_id]

    # Timing: another user's id/hash costs the same as a missing one (medians of 50, within 3x).
    session = requests.Session()
    auth = {"Authorization": f"Bearer {bob}"}
    url = stack.base_url + "/api/v1"
    other_hash = sha(os.urandom(10))
    stack.upload(alice, b"only alice has this" + os.urandom(8), "pixverse")
    alice_only = [a for a in stack.api("GET", "/api/v1/assets", alice).json()["assets"] if a["asset_id"] != her_id][0]
    timings = {}
    timings["get other's id"], timings["get missing id"] = paired_medians(
        lambda: session.get(f"{url}/assets/{alice_only['asset_id']}", headers=auth),
        lambda: session.get(f"{url}/assets/{never_id}", headers=auth))
    timings["check other's hash"], timings["check missing hash"] = paired_medians(
        lambda: session.post(f"{url}/assets/check-by-hash", json={"sha256": alice_only["sha256"]}, headers=auth),
        lambda: session.post(f"{url}/assets/check-by-hash", json={"sha256": other_hash}, headers=auth))
    print({k: f"{v * 1e3:.2f} ms" for k, v in timings.items()})
    for a, b in [("get other's id", "get missing id"), ("check other's hash", "check missing hash")]:
        ratio = max(timings[a], timings[b]) / min(timings[a], timings[b])
        assert ratio < 3, f"{a} vs {b}: {ratio:.1f}x"


def test_tokens_are_stored_only_as_hashes(stack):
    token = stack.add_user("alice")
    admin = stack.add_user("root", admin=True)
    for t in (token, admin):
        assert stack.api("GET", "/api/v1/assets", t).status_code == 200
    stored = [r[0] for r in stack.sql("SELECT token_sha256 FROM api_tokens ORDER BY id")]
    assert stored == [sha(token.encode()), sha(admin.encode())]
    # Not in the database file nor its WAL, in any spelling (SQLite: the file is ours to read;
    # PostgreSQL's storage is the cluster's, and the hashes above are what it was given).
    files = [p for p in stack.dir.glob("assetdedup.sqlite*") if p.is_file()]
    assert files or not stack.db.sqlite
    for path in files:
        data = path.read_bytes()
        for t in (token, admin):
            secret = t.removeprefix("adt_")
            for needle in (t, secret, secret.upper(), bytes.fromhex(secret).hex()):
                assert needle.encode() not in data, f"{path.name} holds a token"
            assert bytes.fromhex(secret) not in data


def test_secrets_never_reach_the_logs(make_stack, tmp_path):
    www = tmp_path / "www"
    (www / "reports").mkdir(parents=True)
    (www / "reports" / "index.html").write_text("<p>r</p>")
    stack = make_stack(www=www)
    token = stack.add_user("alice")
    admin = stack.add_user("root", admin=True)
    wrong = "adt_" + os.urandom(32).hex()
    # Requests that succeed, fail, error out and go through nginx's auth_request.
    stack.upload(token, os.urandom(3000), "pixverse")
    stack.upload(token, os.urandom(3000), "nowhere")
    stack.upload(token, os.urandom(3000), "pixverse", sha256=ZERO)
    stack.api("POST", "/api/v1/assets/check-by-hash", token, json={"sha256": "bad"})
    stack.api("POST", "/api/v1/assets/check-by-hash", wrong, json={"sha256": ZERO})
    stack.api("GET", "/api/v1/assets/1", wrong)
    requests.get(stack.base_url + "/reports/", auth=("x", admin))
    requests.get(stack.base_url + "/reports/", auth=("x", wrong))
    requests.get(stack.base_url + "/reports/", headers={"Authorization": f"Bearer {token}"})
    stack.stop_app()  # flush and close the app log
    logs = [stack.app_log_path, *(stack.dir / "nginx").glob("*.log")]
    assert any(p.name == "access.log" and p.stat().st_size > 0 for p in logs), "nginx wrote no access log"
    for path in logs:
        text = path.read_text(errors="replace")
        for secret in (token, admin, wrong):
            hexpart = secret.removeprefix("adt_")
            basic = base64.b64encode(f"x:{secret}".encode()).decode()
            for needle in (hexpart, basic):
                assert needle not in text, f"{path.name} holds a secret"


def test_reports_refused_without_an_admin_token(make_stack, tmp_path):
    www = tmp_path / "www"
    (www / "reports" / "history").mkdir(parents=True)
    (www / "reports" / "index.html").write_text("<h1>secret report</h1>")
    (www / "reports" / "duplicates.csv").write_text("sha256,user\n")
    stack = make_stack(www=www)
    admin = stack.add_user("root", admin=True)
    user = stack.add_user("alice")
    for path in ["/reports/", "/reports/index.html", "/reports/duplicates.csv", "/reports/history/"]:
        url = stack.base_url + path
        for kwargs in [{}, {"auth": ("x", user)}, {"headers": {"Authorization": f"Bearer {user}"}},
                       {"headers": {"Authorization": "Basic !!!notbase64"}}, {"auth": ("x", "")},
                       {"headers": {"Authorization": "Bearer"}}]:
            r = requests.get(url, **kwargs)
            assert r.status_code in (401, 403), (path, kwargs, r.status_code)
            assert "secret report" not in r.text and "sha256,user" not in r.text
    assert requests.get(stack.base_url + "/reports/", auth=("x", admin)).status_code == 200
    # A revoked admin token is refused like any unknown one.
    admin_token_id = stack.sql("SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.name = 'root'")[0][0]
    run_cli("token", "revoke", str(admin_token_id), db=stack.db)
    assert requests.get(stack.base_url + "/reports/", auth=("x", admin)).status_code == 401


def test_request_size_limits_at_app_and_nginx(make_stack):
    stack = make_stack(max_body_size="2m")
    token = stack.add_user("alice")
    check = "/api/v1/assets/check-by-hash"
    # App: JSON bodies over 1 MiB, batches over 1000 items, text fields over 4 KiB.
    r = stack.api("POST", check, token, data=b'{"sha256":"' + b"a" * (1 << 20) + b'"}',
                  headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large")
    r = stack.api("POST", check + "/batch", token, json={"items": [{"sha256": ZERO}] * 1001})
    assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large")
    r = stack.api("POST", "/api/v1/assets/check-by-hash-batch", token, json={"hashes": [ZERO] * 1001})
    assert r.status_code == 413
    r = stack.api("POST", "/api/v1/assets/upload", token, files={"provider_id": (None, "p" * 5000), "file": ("a", b"x")})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_field")
    # A huge text field or endless part headers are refused as soon as they pass the cap, not
    # after the whole body was collected in memory (HardeningTests counts the bytes read).
    big_field = (b'--B\r\nContent-Disposition: form-data; name="provider_id"\r\n\r\n' + b"p" * (1900 << 10)
                 + b"\r\n--B--\r\n")
    status, text = raw_post(stack.port, token, big_field, "multipart/form-data; boundary=B")
    assert status == 400 and "invalid_field" in text
    status, text = raw_post(stack.port, token, b"--B\r\nX-Endless: " + b"h" * (1900 << 10), "multipart/form-data; boundary=B")
    assert status == 400 and "invalid_multipart" in text
    # nginx: bodies over client_max_body_size and oversized headers never reach the app.
    r = stack.upload(token, os.urandom(3 << 20), "pixverse")
    assert r.status_code == 413
    r = stack.api("GET", "/api/v1/assets", token, headers={"X-Padding": "x" * (64 << 10)})
    assert r.status_code in (400, 431, 494)
    assert stack.sql("SELECT count(*) FROM assets") == [(0,)] and stack.temp_files() == []


def test_www_pages_carry_security_headers(stack):
    base = stack.base_url
    index = requests.get(base + "/app/")
    assert index.status_code == 200
    html = index.text
    # No inline script, no inline handlers, no inline style: the CSP would block them.
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html) and " style=" not in html
    assets = ["/app/", "/app/app.js", "/app/hash-worker.js", "/app/app.css"]
    if (stack.www / "app" / "sha256.wasm").exists():
        assets.append("/app/sha256.wasm")
    for path in assets:
        r = requests.get(base + path)
        assert r.status_code == 200, path
        csp = r.headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
        assert directives["script-src"] == "'self' 'wasm-unsafe-eval'", path
        assert directives["worker-src"] == "'self'" and directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'" and "unsafe-inline" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["Referrer-Policy"] == "no-referrer"
    if "/app/sha256.wasm" in assets:  # built by scripts/build-wasm, which scripts/test runs
        assert requests.get(base + "/app/sha256.wasm").headers["Content-Type"] == "application/wasm"
    # API answers are never cached and are not sniffed.
    r = requests.get(base + "/api/v1/health")
    assert r.headers["Cache-Control"] == "no-store" and r.headers["X-Content-Type-Options"] == "nosniff"
    # The reports' 401 also carries its strict CSP; no server version is advertised.
    r = requests.get(base + "/reports/")
    assert r.status_code == 401 and "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert re.fullmatch(r"nginx", r.headers["Server"])

"""The delivery queue through the real binary behind nginx: uploads answer 202 while a provider
hangs and never starve other requests; every asset reaches the provider exactly once, a
`kill -9` included (re-sends are Idempotency-Key replays); `Prefer: respond-async`;
`POST /assets/{id}/providers`. Counts come from the fake provider's own log."""
import hashlib
import json
import os
import random
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import wait_until
from test_providers import FakeProvider, write_config


@pytest.fixture
def provider(tmp_path):
    server = FakeProvider(tmp_path, "--hang", "600")
    yield server
    server.stop()


def stats(provider):
    return provider._call("/_stats")


def stored(provider):
    """sha256 -> how many times the provider stored it (replays not counted)."""
    return Counter(r["sha256"] for r in provider.requests() if "id" in r and not r.get("replay"))


def http_stack(make_stack, tmp_path, provider, threads=8, wait=30, workers=2):
    # The attempt timeout is longer than any hang in these tests: attempts end when the fake
    # provider is released, never by timing out.
    config = write_config(tmp_path, provider.url, headers=[], timeout=300, max_attempts=3)
    return make_stack(config=config, threads=threads,
                      serve_args=["--delivery-workers", str(workers), "--delivery-wait-seconds", str(wait)])


def deliveries_of(stack, token, asset_id):
    return stack.api("GET", f"/api/v1/assets/{asset_id}", token).json()["deliveries"]


@pytest.mark.whole_stack
def test_a_hanging_provider_starves_nothing_and_each_upload_is_delivered_once(make_stack, tmp_path, provider):
    provider.control(mode="hang")
    stack = http_stack(make_stack, tmp_path, provider, threads=8, wait=5)
    alice, bob = stack.add_user("alice"), stack.add_user("bob")
    files = [os.urandom(20_000 + i) for i in range(50)]
    hashes = [hashlib.sha256(f).hexdigest() for f in files]
    bob_hash = hashlib.sha256(b"bob's own file").hexdigest()

    done = threading.Event()
    checks = []  # (status, seconds, exists, started, ended)

    def check_loop():
        while not done.is_set():
            started = time.monotonic()
            try:
                answer = stack.api("POST", "/api/v1/assets/check-by-hash", bob,
                                   json={"sha256": random.choice([bob_hash, *hashes]), "provider_id": "runway"},
                                   timeout=30)
                ended = time.monotonic()
                checks.append((answer.status_code, ended - started, answer.json().get("exists"), started, ended))
            except Exception as error:  # a timeout or a reset is a failed check
                ended = time.monotonic()
                checks.append((repr(error), ended - started, None, started, ended))

    checker = threading.Thread(target=check_loop, daemon=True)
    checker.start()
    # No Prefer header: each upload may wait for its delivery, but only while fewer than half
    # of the 8 request threads wait; the others answer 202 at once.
    def timed_upload(content):
        started = time.monotonic()
        answer = stack.upload(alice, content, provider="runway")
        answer.started, answer.ended = started, time.monotonic()
        answer.seconds = answer.ended - started
        return answer

    upload_phase = time.monotonic()
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(timed_upload, files))
    upload_phase = time.monotonic() - upload_phase
    wait_until(lambda: stats(provider)["hanging"] == 2, what="both delivery workers to be stuck in the provider")
    wait_until(lambda: len(checks) >= 20, timeout=60, what="checks during the hang")
    done.set()
    checker.join(timeout=60)

    assert [a.status_code for a in answers] == [202] * 50, [a.text for a in answers if a.status_code != 202][:3]
    bodies = [a.json() for a in answers]
    assert {b["status"] for b in bodies} == {"queued"}
    assert {b["note"] for b in bodies} == {"Queued for delivery to runway"}
    assert sorted(b["sha256"] for b in bodies) == sorted(hashes)
    failed_checks = [c for c in checks if c[0] != 200]
    assert failed_checks == [], failed_checks[:5]
    slowest = max(c[1] for c in checks)
    # No starvation, as an ordering rather than a time limit: while an upload sat out its whole
    # delivery wait, checks were still answered (one began and ended inside that wait).
    waiting = [a for a in answers if a.seconds >= 5]
    starved = [a for a in waiting if not any(a.started <= c[3] and c[4] <= a.ended for c in checks)]
    assert not starved, f"{len(starved)} of {len(waiting)} waiting uploads saw no check answered meanwhile"
    assert not any(c[2] for c in checks)  # alice's hashes are not bob's
    waited = sum(1 for a in answers if a.seconds >= 5)
    print(f"\n50 uploads in {upload_phase:.1f} s: {waited} waited the full 5 s, {50 - waited} answered 202 at once "
          f"(slowest of those {max(a.seconds for a in answers if a.seconds < 5) * 1000:.0f} ms); "
          f"{len(checks)} checks during the hang, slowest {slowest * 1000:.0f} ms, "
          f"median {sorted(c[1] for c in checks)[len(checks) // 2] * 1000:.0f} ms")

    recovery = time.monotonic()
    provider.control(mode="ok")  # releases the two hanging requests too
    wait_until(lambda: stack.provider_uploads_count("runway") == 50, timeout=180,
               what="all 50 deliveries after the provider recovered")
    print(f"all 50 delivered {time.monotonic() - recovery:.2f} s after the provider recovered")
    counts = stored(provider)
    assert sorted(counts) == sorted(hashes) and set(counts.values()) == {1}
    rows = dict(stack.sql("SELECT state, count(*) FROM deliveries WHERE provider_id = 'runway' GROUP BY state"))
    assert rows == {"delivered": 50}
    keys = dict(stack.sql("SELECT a.sha256, d.idempotency_key FROM deliveries d JOIN assets a ON a.id = d.asset_id "
                            "WHERE d.provider_id = 'runway'"))
    for request in provider.requests():
        if "id" in request:
            assert request["idempotency_key"] == keys[request["sha256"]]
    ids = dict(stack.sql("SELECT a.sha256, u.provider_asset_id FROM provider_uploads u "
                           "JOIN assets a ON a.id = u.asset_id WHERE u.provider_id = 'runway'"))
    assert {r["sha256"]: r["id"] for r in provider.requests() if "id" in r and not r.get("replay")} == ids
    view = deliveries_of(stack, alice, bodies[0]["asset_id"])["runway"]
    assert view["state"] == "delivered" and view["last_error"] is None and view["attempts"] >= 1


@pytest.mark.whole_stack
def test_kill_9_during_deliveries_then_restart_stores_each_once(make_stack, tmp_path, provider):
    provider.control(mode="hang")
    stack = http_stack(make_stack, tmp_path, provider)
    alice = stack.add_user("alice")
    files = [os.urandom(10_000 + i) for i in range(10)]
    hashes = {hashlib.sha256(f).hexdigest() for f in files}
    for content in files:
        answer = stack.api("POST", "/api/v1/assets/upload", alice, headers={"Prefer": "respond-async"},
                           data={"provider_id": "runway"}, files={"file": ("f.bin", content)})
        assert answer.status_code == 202, answer.text
    wait_until(lambda: stats(provider)["hanging"] == 2, what="both workers inside the provider")
    in_flight = {r["sha256"] for r in provider.requests()}
    assert len(in_flight) == 2

    stack.stop_app(signal.SIGKILL)
    # The provider now answers the two requests the dead app sent: it stores both, and the app
    # never hears of it.
    provider.control(mode="ok")
    wait_until(lambda: stats(provider)["stored"] == 2, what="the provider to store the two in-flight uploads")
    assert stack.provider_uploads_count("runway") == 0

    restarted = time.monotonic()
    stack.start_app()  # its workers take over the dead process's leases at once (same host, pid gone)
    wait_until(lambda: stack.provider_uploads_count("runway") == 10, timeout=120, what="every delivery after restart")
    print(f"\nafter kill -9 and restart: all 10 delivered in {time.monotonic() - restarted:.2f} s; "
          f"{stats(provider)['stored']} stored, {sum(1 for r in provider.requests() if r.get('replay'))} replays")
    counts = stored(provider)
    assert set(counts) == hashes and set(counts.values()) == {1}
    replays = [r for r in provider.requests() if r.get("replay")]
    # The only re-sends are the two in flight at the kill, each with the same key as before.
    assert {r["sha256"] for r in replays} == in_flight and len(replays) == 2
    first_keys = {r["sha256"]: r["idempotency_key"] for r in provider.requests() if not r.get("replay")}
    assert all(r["idempotency_key"] == first_keys[r["sha256"]] for r in replays)
    # The provider's id for each re-sent one is the id it gave the first time.
    recorded = dict(stack.sql("SELECT a.sha256, u.provider_asset_id FROM provider_uploads u "
                                "JOIN assets a ON a.id = u.asset_id"))
    assert all(recorded[r["sha256"]] == r["id"] for r in replays)
    attempts = dict(stack.sql("SELECT a.sha256, d.attempts FROM deliveries d JOIN assets a ON a.id = d.asset_id"))
    assert {attempts[h] for h in in_flight} == {2} and {attempts[h] for h in hashes - in_flight} == {1}
    assert "taking over the deliveries of serve/" in stack.app_log_path.read_text()


def test_prefer_respond_async_is_202_at_once_then_queued_to_delivered(make_stack, tmp_path, provider):
    provider.control(mode="hang")
    stack = http_stack(make_stack, tmp_path, provider, threads=4)
    alice = stack.add_user("alice")
    content = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(30_000)  # a video by its bytes
    answer = stack.api("POST", "/api/v1/assets/upload", alice, headers={"Prefer": "respond-async"},
                       data={"provider_id": "runway"}, files={"file": ("clip.mp4", content, "video/mp4")})
    assert answer.status_code == 202, answer.text
    assert answer.headers["Preference-Applied"] == "respond-async"
    body = answer.json()
    assert body["status"] == "queued" and body["provider_asset_id"] is None
    assert body["uploaded_to_providers"] == [] and body["media_type"] == "video"
    assert body["deliveries"]["runway"]["state"] in ("queued", "delivering")
    wait_until(lambda: stats(provider)["hanging"] == 1, what="the delivery to reach the provider")
    during = deliveries_of(stack, alice, body["asset_id"])["runway"]
    assert during["state"] == "delivering" and during["attempts"] == 1

    provider.control(mode="ok")
    wait_until(lambda: deliveries_of(stack, alice, body["asset_id"])["runway"]["state"] == "delivered",
               what="the delivery to finish")
    view = stack.api("GET", f"/api/v1/assets/{body['asset_id']}", alice).json()
    assert view["providers"] == {"runway": "fp-1"} and view["uploaded_to_providers"] == ["runway"]
    # The same upload again is now a plain reuse, answered at once.
    again = stack.upload(alice, content, provider="runway")
    assert again.status_code == 200 and again.json()["status"] == "reused"
    assert stored(provider) == {hashlib.sha256(content).hexdigest(): 1}


def test_post_providers_sends_held_content_with_zero_client_bytes(make_stack, tmp_path, provider):
    stack = http_stack(make_stack, tmp_path, provider, threads=4)
    alice, bob = stack.add_user("alice"), stack.add_user("bob")
    content = os.urandom(200_000)
    sha = hashlib.sha256(content).hexdigest()
    first = stack.upload(alice, content, provider="pixverse")
    assert first.status_code == 201, first.text
    asset_id = first.json()["asset_id"]

    answer = stack.api("POST", f"/api/v1/assets/{asset_id}/providers", alice, json={"provider_id": "runway"})
    assert answer.status_code == 200, answer.text
    assert len(answer.request.body) < 64  # the request carried a tiny JSON body, no file
    body = answer.json()
    assert body["status"] == "added_provider" and body["provider_asset_id"] == "fp-1"
    assert body["uploaded_to_providers"] == ["pixverse", "runway"]
    assert body["deliveries"]["runway"]["state"] == "delivered"
    received = provider.requests()
    assert [(r["sha256"], r["file_size"]) for r in received] == [(sha, len(content))]
    again = stack.api("POST", f"/api/v1/assets/{asset_id}/providers", alice, json={"provider_id": "runway"})
    assert again.status_code == 200 and again.json()["status"] == "reused"
    assert len(provider.requests()) == 1

    # Another user's asset and a missing one: the same 404, byte for byte.
    others = stack.api("POST", f"/api/v1/assets/{asset_id}/providers", bob, json={"provider_id": "runway"})
    missing = stack.api("POST", "/api/v1/assets/987654/providers", bob, json={"provider_id": "runway"})
    assert others.status_code == missing.status_code == 404
    assert others.content == missing.content
    assert stack.api("POST", f"/api/v1/assets/{asset_id}/providers", alice,
                     json={"provider_id": "nowhere"}).status_code == 422
    assert stack.api("GET", f"/api/v1/assets/{asset_id}/providers", alice).status_code == 405
    assert len(provider.requests()) == 1

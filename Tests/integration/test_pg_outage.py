"""PostgreSQL restarting under a serving app: requests during the outage get a JSON 503 with
`Retry-After` (never a crash or a hang), connections come back by themselves, and no upload
acknowledged before, during or after the outage is lost.

The cluster is the run's own (`scripts/pg-cluster pause|resume ASSETDEDUP_TEST_PG_DIR`, which
scripts/test exports): stopping it stops every database on it, so this file must not run beside
other tests (the suite runs one test at a time)."""
import hashlib
import os
import subprocess

import pytest

from conftest import ROOT

pytestmark = pytest.mark.postgres_only
PG_DIR = os.environ.get("ASSETDEDUP_TEST_PG_DIR", "")


def pg_cluster(command):
    assert PG_DIR, "ASSETDEDUP_TEST_PG_DIR is not set (scripts/test sets it to the cluster's folder)"
    subprocess.run([str(ROOT / "scripts/pg-cluster"), command, PG_DIR], check=True, timeout=120)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def check(stack, token, digest):
    return stack.api("POST", "/api/v1/assets/check-by-hash", token, json={"sha256": digest}, timeout=30)


def test_a_database_restart_is_503_with_retry_after_then_recovers_losing_nothing(make_stack):
    threads = 4
    stack = make_stack(threads=threads)
    token = stack.add_user("alice")
    acknowledged = {}
    for i in range(4):
        content = os.urandom(10_000 + i)
        r = stack.upload(token, content)
        assert r.status_code in (201, 202), r.text
        acknowledged[sha(content)] = r.json()["asset_id"]

    pg_cluster("pause")
    try:
        during = os.urandom(20_000)
        # Every thread's connection meets the dead server: each answer is the JSON 503, at once.
        for _ in range(2 * threads):
            r = check(stack, token, next(iter(acknowledged)))
            assert r.status_code == 503, r.text
            assert r.headers.get("Retry-After") and r.json()["error"]["code"] == "busy"
        # An upload's token is checked by nginx first (auth_request); that check meets the outage,
        # so nginx answers its own JSON 503 `unavailable` before taking any body byte.
        r = stack.upload(token, during)
        assert r.status_code == 503, r.text
        assert r.headers.get("Retry-After") and r.json()["error"]["code"] in ("busy", "unavailable")
        assert stack.api("GET", "/api/v1/health").status_code == 503
    finally:
        pg_cluster("resume")

    # Connections come back by themselves: at most one failed call per connection that had not
    # yet seen the outage, each of them the same JSON 503; then every request answers.
    answered = 0
    for _ in range(2 * threads + 4):
        r = check(stack, token, next(iter(acknowledged)))
        if r.status_code == 200:
            answered += 1
            if answered == threads:
                break
        else:
            assert r.status_code == 503 and r.json()["error"]["code"] == "busy", r.text
    assert answered == threads, "the app did not recover after the database came back"
    r = stack.upload(token, during)
    assert r.status_code in (201, 202), r.text
    acknowledged[sha(during)] = r.json()["asset_id"]

    rows = dict(stack.sql("SELECT sha256, id FROM assets"))
    assert {h: rows.get(h) for h in acknowledged} == acknowledged
    for digest in acknowledged:
        assert check(stack, token, digest).json()["exists"] is True
    assert stack.app.poll() is None, "serve exited during the outage"

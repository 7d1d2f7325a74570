"""`assetdedup verify` (issue 24) on the real stack, both stores and both blob storages: a
flipped byte in a blob and in a directory provider's copy, a deleted copy and a truncated blob
are found, recorded and make the exit status 1; intact content is ok; --repair restores each from
a good copy; a run killed with -9 is continued by the next; http providers are asked at their
presence_url (a hanging one is unreachable within its timeout, exit 3); min_copies is listed and
enforced; serve's integrity job repairs on its own; an s3 provider's flipped object is found with
--deep, or by its stored SHA-256 without (moto)."""
import hashlib
import json
import os

import pytest
import re
import signal
import subprocess
import sys
import time

import pytest

import processes
import s3_support
from conftest import BIN, wait_until
from test_providers import FakeProvider


def sha(data):
    return hashlib.sha256(data).hexdigest()


def verify(stack, *args, check=False):
    return stack.cli("verify", "--data", str(stack.data_dir), *args, check=check)


def replace(path, data):
    """New bytes in place (copies are published read-only)."""
    path.chmod(0o644)
    path.write_bytes(data)


def replace_blob(stack, digest, data):
    if not stack.bucket:
        stack.blob(digest).unlink()
    stack.put_blob(digest, data)


def flipped(data):
    return data[:100] + bytes([data[100] ^ 0x01]) + data[101:]


@pytest.mark.whole_stack
def test_verify_finds_corrupt_and_missing_copies_and_records_them(stack):
    token = stack.add_user("alice")
    intact, bad_blob, bad_copy, gone_copy, short_blob = (os.urandom(20_000) for _ in range(5))
    for content in (intact, bad_blob, bad_copy, gone_copy, short_blob):
        assert stack.upload(token, content, "pixverse").status_code == 201
    assert stack.upload(token, intact, "runway").status_code == 200

    first = verify(stack)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.strip().splitlines()[-1] == (
        "verify: 5 content checked (0.2 MB read); copies: ok 11, missing 0, corrupt 0, unreachable 0, "
        "unverifiable 0; pass finished")

    replace_blob(stack, sha(bad_blob), flipped(bad_blob))
    replace_blob(stack, sha(short_blob), short_blob[:1000])
    copies = {p.name: p for p in stack.provider_files("pixverse")}
    replace(copies[sha(bad_copy)], flipped(bad_copy))
    copies[sha(gone_copy)].unlink()

    second = verify(stack)
    assert second.returncode == 1, second.stdout + second.stderr
    problems = sorted(line.split(" ")[:3] for line in second.stdout.splitlines()[:-1])
    assert problems == sorted([
        ["corrupt:", sha(bad_blob), "blob"], ["corrupt:", sha(short_blob), "blob"],
        ["corrupt:", sha(bad_copy), "pixverse"], ["missing:", sha(gone_copy), "pixverse"],
    ])
    assert second.stdout.strip().splitlines()[-1] == (
        "verify: 5 content checked (0.2 MB read); copies: ok 7, missing 1, corrupt 3, unreachable 0, "
        "unverifiable 0; pass finished")
    states = dict(((s, l), st) for s, l, st in stack.sql("SELECT sha256, location, state FROM copy_checks"))
    assert states[(sha(intact), "runway")] == "ok" and states[(sha(bad_copy), "pixverse")] == "corrupt"
    assert states[(sha(gone_copy), "pixverse")] == "missing" and states[(sha(short_blob), "blob")] == "corrupt"

    # Checked a moment ago: a run that skips what was checked within the hour checks nothing.
    again = verify(stack, "--since", "1")
    assert again.returncode == 0 and again.stdout.strip().splitlines()[-1].startswith("verify: 0 content checked")
    # One provider at a time, and --limit bounds a run.
    one = verify(stack, "--provider", "runway", "--limit", "2", "--verbose")
    assert one.stdout.strip().splitlines()[-1].startswith("verify: 2 content checked")
    assert all(line.split(" ")[2] in ("blob", "runway") for line in one.stdout.splitlines()[:-1])


@pytest.mark.whole_stack
def test_verify_repair_restores_blobs_from_copies_and_copies_from_blobs(stack):
    token = stack.add_user("alice")
    bad_blob, bad_copy, gone_copy = (os.urandom(30_000) for _ in range(3))
    for content in (bad_blob, bad_copy, gone_copy):
        assert stack.upload(token, content, "pixverse").status_code == 201
    replace_blob(stack, sha(bad_blob), flipped(bad_blob))
    copies = {p.name: p for p in stack.provider_files("pixverse")}
    replace(copies[sha(bad_copy)], flipped(bad_copy))
    copies[sha(gone_copy)].unlink()

    repaired = verify(stack, "--repair")
    assert repaired.returncode == 1, "what was found is still the exit status"
    actions = [re.match(r"(NOT )?repaired: (\w+) (\w+): ", line) for line in repaired.stdout.splitlines()]
    actions = [a for a in actions if a]
    assert sorted(a.group(2, 3) for a in actions) == sorted(
        [(sha(bad_blob), "blob"), (sha(bad_copy), "pixverse"), (sha(gone_copy), "pixverse")])
    assert not any(a.group(1) for a in actions), repaired.stdout
    assert stack.blob(sha(bad_blob)).read_bytes() == bad_blob, "restored from the provider's copy"

    # serve's delivery workers send the queued copies again, from the blobs.
    def whole(content):
        path = stack.data_dir / "providers" / "pixverse" / sha(content)[:2] / sha(content)
        return path.is_file() and path.read_bytes() == content
    wait_until(lambda: whole(bad_copy) and whole(gone_copy), what="the copies to be delivered again")
    wait_until(lambda: stack.sql("SELECT count(*) FROM provider_uploads") == [(3,)], what="the records")
    clean = verify(stack)
    assert clean.returncode == 0, clean.stdout
    assert "missing 0, corrupt 0" in clean.stdout


def last_line(result):
    """The run's summary line (repairs and minimum-copies lines come after it)."""
    return next(line for line in result.stdout.splitlines() if line.startswith("verify: "))


def test_a_verify_repair_killed_with_9_is_continued_and_nothing_is_delivered_twice(stack):
    token = stack.add_user("alice")
    contents = [os.urandom(10_000) for _ in range(12)]
    for content in contents:
        assert stack.upload(token, content, "pixverse").status_code == 201
    bad = min(contents, key=sha)  # checked first (hash order), so before the kill
    replace(stack.data_dir / "providers" / "pixverse" / sha(bad)[:2] / sha(bad), flipped(bad))

    # 40 kB a second: half a second per piece of content, so the kill lands mid-pass.
    slow = processes.spawn(
        [BIN, "verify", "--db", str(stack.db), "--data", str(stack.data_dir), "--repair", "--limit-rate", "0.04"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=stack.env)
    try:
        wait_until(lambda: stack.sql("SELECT count(*) FROM copy_checks WHERE location = 'blob'")[0][0] >= 3,
                   timeout=60, what="a few pieces of content to be checked")
    finally:
        processes.stop(slow, signal.SIGKILL)
    checked = stack.sql("SELECT count(*) FROM copy_checks WHERE location = 'blob'")[0][0]
    assert 3 <= checked < 12
    assert stack.sql("SELECT count(*) FROM copy_repairs") == [(0,)], "killed before repairing"

    again = verify(stack, "--repair")
    assert again.returncode == 1, again.stdout + again.stderr
    assert f"verify: {12 - checked} content checked" in last_line(again), again.stdout
    assert "continued the pass begun" in last_line(again) and "pass finished" in last_line(again)
    # The corrupt copy was found by the killed run; the run that continued it repairs it.
    assert f"repaired: {sha(bad)} pixverse: queued for delivery again" in again.stdout, again.stdout

    path = stack.data_dir / "providers" / "pixverse" / sha(bad)[:2] / sha(bad)
    wait_until(lambda: path.is_file() and path.read_bytes() == bad, what="the copy to be delivered again")
    clean = verify(stack, "--repair")
    assert clean.returncode == 0, clean.stdout
    assert "repaired" not in clean.stdout
    # Sent at upload, and once again after the repair: never twice.
    assert stack.sql("SELECT attempts, state FROM deliveries d JOIN assets a ON a.id = d.asset_id "
                     "WHERE a.sha256 = ?", sha(bad)) == [(2, "delivered")]


def http_config(tmp_path, port, *, timeout=1, presence=True, min_copies=None):
    cloud = {"id": "cloud", "kind": "http", "url": f"http://127.0.0.1:{port}/upload", "timeout": timeout,
             "connect_timeout": 1, "max_attempts": 1}
    if presence:
        cloud["presence_url"] = f"http://127.0.0.1:{port}/copies/{{id}}"
    document = {"providers": [
        {"id": "pixverse", "kind": "directory", "path": str(tmp_path / "pixverse")},
        {"id": "runway", "kind": "directory", "path": str(tmp_path / "runway")}, cloud]}
    if min_copies is not None:
        document["min_copies"] = min_copies
    config = tmp_path / "providers.json"
    config.write_text(json.dumps(document))
    return config


def test_http_copies_are_asked_at_their_presence_url_and_a_hanging_provider_is_unreachable(make_stack, tmp_path):
    provider = FakeProvider(tmp_path)
    try:
        config = http_config(tmp_path, provider.port)
        stack = make_stack(config=config)
        token = stack.add_user("alice")
        kept, lost = os.urandom(5000), os.urandom(5000)
        for content in (kept, lost):
            assert stack.upload(token, content, "cloud").status_code == 201
        ids = dict(stack.sql("SELECT a.sha256, p.provider_asset_id FROM provider_uploads p "
                             "JOIN assets a ON a.id = p.asset_id"))
        run = verify(stack, "--config", str(config))
        assert run.returncode == 0 and "ok 4, missing 0" in last_line(run), run.stdout

        provider.control(forget=[ids[sha(lost)]])
        run = verify(stack, "--config", str(config))
        assert run.returncode == 1
        assert run.stdout.splitlines()[0] == f"missing: {sha(lost)} cloud (no copy at {ids[sha(lost)]})"

        # A provider that hangs: each check gives up after its timeout (1 s), reported
        # unreachable, and a run with nothing but unreachable copies exits 3.
        provider.control(mode="hang", hang=60)
        started = time.monotonic()
        run = verify(stack, "--config", str(config))
        assert time.monotonic() - started < 15
        assert run.returncode == 3, run.stdout + run.stderr
        assert sorted(line.split(" ")[:3] for line in run.stdout.splitlines()[:-1]) == sorted(
            [["unreachable:", sha(kept), "cloud"], ["unreachable:", sha(lost), "cloud"]])
        assert "timed out after 1 s" in run.stdout
        provider.control(mode="ok")

        # Without a presence_url, http copies are unverifiable (and that is not a failure).
        bare = http_config(tmp_path, provider.port, presence=False)
        run = verify(stack, "--config", str(bare))
        assert run.returncode == 0 and "unverifiable 2" in last_line(run), run.stdout
    finally:
        provider.stop()


def test_min_copies_is_listed_then_enforced_through_the_delivery_queue(make_stack, tmp_path):
    provider = FakeProvider(tmp_path)
    try:
        config = http_config(tmp_path, provider.port, min_copies=2)
        stack = make_stack(config=config)
        token = stack.add_user("alice")
        content = os.urandom(7000)
        assert stack.upload(token, content, "pixverse").status_code == 201

        listed = verify(stack, "--config", str(config))
        assert listed.returncode == 1
        assert f"below minimum copies: {sha(content)} 1 of 2 (pixverse)" in listed.stdout, listed.stdout
        assert stack.sql("SELECT count(*) FROM deliveries WHERE provider_id <> 'pixverse'") == [(0,)], \
            "listing queues nothing"

        dry = stack.cli("sync", "--provider", "pixverse", "--dry-run", "--config", str(config),
                        "--data", str(stack.data_dir))
        assert "below minimum copies (2): 1 content" in dry.stdout, dry.stdout

        enforced = verify(stack, "--config", str(config), "--repair")
        assert f"below minimum copies: {sha(content)} 1 of 2 (pixverse); queued to runway" in enforced.stdout
        wait_until(lambda: stack.provider_uploads_count("runway") == 1, what="the delivery to runway")
        assert (tmp_path / "runway" / sha(content)[:2] / sha(content)).read_bytes() == content
        clean = verify(stack, "--config", str(config))
        assert clean.returncode == 0, clean.stdout
        assert stack.sql("SELECT count(*) FROM deliveries WHERE provider_id = 'cloud'") == [(0,)]
    finally:
        provider.stop()


def test_serve_integrity_job_repairs_on_its_own_and_counts_outcomes(make_stack):
    stack = make_stack(serve_args=["--integrity-every-minutes", "0.02"])
    admin = stack.add_user("root", admin=True)
    content = os.urandom(25_000)
    assert stack.upload(admin, content, "pixverse").status_code == 201
    path = stack.data_dir / "providers" / "pixverse" / sha(content)[:2] / sha(content)
    wait_until(lambda: stack.sql("SELECT count(*) FROM copy_checks WHERE state = 'ok'")[0][0] == 2,
               what="the job's first round")
    replace(path, flipped(content))
    wait_until(lambda: stack.sql("SELECT count(*) FROM copy_repairs WHERE done = 1")[0][0] == 1,
               timeout=30, what="the job to repair the copy")
    wait_until(lambda: path.is_file() and path.read_bytes() == content, what="the copy to be delivered again")
    metrics = stack.api("GET", "/api/v1/metrics", admin).text
    assert 'assetdedup_integrity_total{outcome="corrupt"} 1' in metrics, metrics
    assert 'assetdedup_integrity_total{outcome="repaired"} 1' in metrics


@pytest.mark.whole_stack
@pytest.mark.skipif(not s3_support.ENDPOINT, reason="no S3 test server (scripts/s3-server)")
def test_a_flipped_byte_in_an_s3_provider_object_is_found_with_deep_and_repaired(make_stack, tmp_path):
    target = s3_support.Bucket()
    try:
        config = tmp_path / "providers.json"
        config.write_text(json.dumps({"providers": [
            {"id": "pixverse", "kind": "directory", "path": str(tmp_path / "pixverse")},
            {"id": "archive", "kind": "s3", "bucket": target.name, "prefix": "assets/",
             "endpoint": s3_support.ENDPOINT, "region": os.environ.get("AWS_REGION", "us-east-1")}]}))
        stack = make_stack(config=config)
        token = stack.add_user("alice")
        bad, gone, swapped, good = (os.urandom(30_000) for _ in range(4))
        for content in (bad, gone, swapped, good):
            assert stack.upload(token, content, "archive").status_code == 201
        target.s3.put_object(Bucket=target.name, Key=f"assets/{sha(bad)}", Body=flipped(bad))
        target.s3.delete_object(Bucket=target.name, Key=f"assets/{sha(gone)}")
        # Other bytes of the same size, stored with their own SHA-256: the HEAD's checksum says so.
        target.s3.put_object(Bucket=target.name, Key=f"assets/{sha(swapped)}", Body=flipped(swapped),
                             ChecksumAlgorithm="SHA256")

        shallow = verify(stack, "--config", str(config))
        assert shallow.returncode == 1
        assert sorted(line.split(" ")[:3] for line in shallow.stdout.splitlines()[:-1]) == sorted([
            ["missing:", sha(gone), "archive"], ["corrupt:", sha(swapped), "archive"]]), shallow.stdout
        deep = verify(stack, "--config", str(config), "--deep", "--repair")
        problems = sorted(line.split(" ")[:3] for line in deep.stdout.splitlines() if line.startswith(("corrupt", "missing")))
        assert problems == sorted([["corrupt:", sha(bad), "archive"], ["missing:", sha(gone), "archive"],
                                   ["corrupt:", sha(swapped), "archive"]]), deep.stdout
        assert deep.stdout.count("repaired: ") == 3 and "NOT repaired" not in deep.stdout

        def whole(content):
            try:
                return target.s3.get_object(Bucket=target.name, Key=f"assets/{sha(content)}")["Body"].read() == content
            except target.s3.exceptions.NoSuchKey:
                return False
        wait_until(lambda: whole(bad) and whole(gone) and whole(swapped), what="the objects to be delivered again")
        wait_until(lambda: stack.provider_uploads_count("archive") == 4, what="the records")
        clean = verify(stack, "--config", str(config), "--deep")
        assert clean.returncode == 0, clean.stdout
        assert "missing 0, corrupt 0" in last_line(clean)
    finally:
        target.drop()

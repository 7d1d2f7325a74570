"""`assetdedup verify` (issue 24, first slice) on the real stack, both stores and both blob
storages: a flipped byte in a blob and in a directory provider's copy, a deleted copy and a
truncated blob are found, recorded and make the exit status 1; intact content is ok; a second
run with --since skips what was just checked."""
import hashlib
import os

import pytest
import re

from conftest import wait_until


def sha(data):
    return hashlib.sha256(data).hexdigest()


def verify(stack, *args, check=False):
    return stack.cli("verify", "--data", str(stack.data_dir), *args, check=check)


def replace(path, data):
    """New bytes in a new file: a directory provider's copy may be a hard link of the blob."""
    path.unlink()
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
        "verify: 5 content checked; copies: ok 11, missing 0, corrupt 0, unreachable 0, unverifiable 0")

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
        "verify: 5 content checked; copies: ok 7, missing 1, corrupt 3, unreachable 0, unverifiable 0")
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

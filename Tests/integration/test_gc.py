"""`assetdedup gc` on the real binary, beside a running stack: an orphan blob (bytes in the blob
storage, folder or bucket, that no asset references) is collected, a referenced one never is, `--dry-run` changes
nothing, a blob younger than the grace period stays, marks age a grace period before their blob
goes, an upload that reuses a marked blob takes it back, and an upload of content gc is deleting
right now answers 503 `blob_being_collected`. Runs on both stores and both blob storages (tests
that need blobs older than the grace period are for the blob folder: a bucket's objects are
always new)."""
import datetime
import hashlib
import os
import time

import pytest

from conftest import ROOT, run_cli

TEMPLATES = str(ROOT / "templates")


def write_orphan(stack, content, age_hours=48):
    """Puts `content` in the blob storage under its hash, as a request that died after writing
    its blob would have left it; `age_hours` old in a blob folder (a bucket's objects are new)."""
    digest = hashlib.sha256(content).hexdigest()
    stack.put_blob(digest, content)
    age(stack, digest, age_hours)
    return digest


def age(stack, digest, hours):
    """Sets a local blob's write time `hours` back (no-op for a bucket)."""
    if not stack.bucket:
        then = time.time() - hours * 3600
        os.utime(stack.blob(digest), (then, then))


def stored(hours_ago=0):
    """A time as the tables store it, `hours_ago` in the past."""
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=hours_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def gc(stack, *args, check=True):
    return stack.cli("gc", "--data", str(stack.data_dir), *args, check=check)


def line(output, prefix):
    found = [l for l in output.splitlines() if l.startswith(prefix)]
    assert found, f"no line starting {prefix!r} in:\n{output}"
    return found[0]


def mark(stack, digest, size, hours_ago, state="marked"):
    stack.sql("INSERT INTO blob_gc_marks (sha256, size, marked_at, state, state_at) VALUES (?, ?, ?, ?, ?)",
              digest, size, stored(hours_ago), state, stored(hours_ago))


def delete_blob(stack, digest):
    """What gc's delete does, behind the app's back."""
    if stack.bucket:
        stack.bucket.s3.delete_object(Bucket=stack.bucket.name, Key=f"blobs/sha256/{digest}")
    else:
        stack.blob(digest).unlink()


def marks(stack):
    return stack.sql("SELECT sha256, state FROM blob_gc_marks ORDER BY sha256")


@pytest.mark.whole_stack
def test_orphan_goes_referenced_stays(stack):
    token = stack.add_user("alice")
    kept = b"referenced content" * 100
    assert stack.upload(token, kept).status_code == 201
    referenced = hashlib.sha256(kept).hexdigest()
    age(stack, referenced, 72)
    orphan = write_orphan(stack, b"nobody holds me" * 50)

    result = gc(stack, "--grace-hours", "0")
    out = result.stdout
    assert line(out, "blobs seen:") == "blobs seen: 2 (%d bytes)" % (len(kept) + 750)
    assert line(out, "referenced by an asset or upload:") == "referenced by an asset or upload: 1"
    assert line(out, "orphans found:") == "orphans found: 1 (newly marked: 1)"
    assert line(out, "blobs deleted:") == "blobs deleted: 1 (750 bytes)"
    assert stack.blob(orphan) is None
    assert stack.blob(referenced) is not None
    assert marks(stack) == []
    # The referenced asset still answers and its content is intact.
    assert stack.blob(referenced).read_bytes() == kept

    # A second run finds nothing to do.
    again = gc(stack, "--grace-hours", "0").stdout
    assert line(again, "blobs deleted:") == "blobs deleted: 0 (0 bytes)"
    assert stack.blob(referenced) is not None


@pytest.mark.local_blobs_only  # blobs older than the grace period: a bucket's objects are new
def test_dry_run_changes_nothing(stack):
    token = stack.add_user("alice")
    assert stack.upload(token, b"kept" * 10).status_code == 201
    orphan = write_orphan(stack, b"orphan for the dry run")
    old_mark = write_orphan(stack, b"marked long ago")
    stack.sql("INSERT INTO blob_gc_marks (sha256, size, marked_at, state, state_at) VALUES (?, ?, ?, 'marked', ?)",
              old_mark, 15, stored(50), stored(50))
    before_rows, before_blobs = stack.dump(), stack.blobs()
    before_bytes = {p: p.read_bytes() for p in before_blobs}

    out = gc(stack, "--dry-run").stdout
    assert out.splitlines()[0] == "gc (dry run, nothing changed): grace period 24 h"
    assert line(out, "orphans found:") == "orphans found: 2"
    assert line(out, "blobs would be deleted:") == "blobs would be deleted: 1 (15 bytes)"
    out0 = gc(stack, "--dry-run", "--grace-hours", "0").stdout
    assert line(out0, "blobs would be deleted:") == "blobs would be deleted: 2 (%d bytes)" % (15 + 22)

    assert stack.dump() == before_rows
    assert stack.blobs() == before_blobs
    assert {p: p.read_bytes() for p in stack.blobs()} == before_bytes
    assert stack.blob(orphan) is not None


def test_blob_younger_than_grace_stays(stack):
    young = write_orphan(stack, b"just written, its asset row is coming", age_hours=0.5)
    out = gc(stack, "--grace-hours", "1").stdout
    assert line(out, "younger than the grace period:") == "younger than the grace period: 1"
    assert line(out, "orphans found:") == "orphans found: 0 (newly marked: 0)"
    assert stack.blob(young) is not None
    assert marks(stack) == []


@pytest.mark.local_blobs_only  # blobs older than the grace period: a bucket's objects are new
def test_mark_ages_one_grace_period_and_report_shows_it(stack, tmp_path):
    orphan = write_orphan(stack, b"x" * 2048)
    first = gc(stack).stdout
    assert line(first, "orphans found:") == "orphans found: 1 (newly marked: 1)"
    assert line(first, "blobs deleted:") == "blobs deleted: 0 (0 bytes)"
    assert "note: marked orphans are deleted by a gc run at least 24 h from now" in first
    assert marks(stack) == [(orphan, "marked")]
    assert stack.blob(orphan) is not None

    out = tmp_path / "report"
    run_cli("report", "--out", str(out), "--templates", TEMPLATES, db=stack.db)
    page = (out / "migrations.md").read_text()
    assert "Orphan blobs awaiting collection: 1 (2.0 KiB), last gc mark at " in page

    # A day later (the mark moved back instead of the clock), the next run deletes it.
    stack.sql("UPDATE blob_gc_marks SET marked_at = ?, state_at = ?", stored(25), stored(25))
    second = gc(stack).stdout
    assert line(second, "blobs deleted:") == "blobs deleted: 1 (2048 bytes)"
    assert stack.blob(orphan) is None
    assert marks(stack) == []
    run_cli("report", "--out", str(out), "--templates", TEMPLATES, db=stack.db)
    assert "Orphan blobs awaiting collection: none." in (out / "migrations.md").read_text()


def test_upload_reusing_a_marked_blob_takes_it_back(stack):
    token = stack.add_user("bob")
    content = b"the upload that failed the first time" * 20
    orphan = write_orphan(stack, content)
    mark(stack, orphan, len(content), hours_ago=25)  # a gc marked it a day ago

    # The client retries: the blob is there, the claim removes the mark, the asset refers to it.
    r = stack.upload(token, content)
    assert r.status_code == 201, r.text
    assert marks(stack) == []
    out = gc(stack, "--grace-hours", "0").stdout
    assert line(out, "blobs deleted:") == "blobs deleted: 0 (0 bytes)"
    assert stack.blob(orphan).read_bytes() == content


@pytest.mark.whole_stack
def test_upload_of_content_being_collected_is_503_then_works(stack):
    token = stack.add_user("carol")
    content = b"gc is deleting this right now" * 10
    digest = write_orphan(stack, content)
    # gc took it a moment ago and is deleting the blob.
    stack.sql("INSERT INTO blob_gc_marks (sha256, size, marked_at, state, state_at) VALUES (?, ?, ?, 'deleting', ?)",
              digest, len(content), stored(30), stored(0))
    r = stack.upload(token, content)
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"] == "1"
    assert r.json()["error"]["code"] == "blob_being_collected"
    assert stack.sql("SELECT count(*) FROM assets")[0][0] == 0

    # Resumable completion asks the same question; its retried PATCH finishes later.
    created = stack.api("POST", "/api/v1/uploads?provider_id=pixverse&filename=r.bin", token,
                        headers={"Upload-Complete": "?0", "Content-Type": "application/octet-stream"},
                        data=content[:10])
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    patch = {"Content-Type": "application/partial-upload", "Upload-Complete": "?1", "Upload-Offset": "10"}
    done = stack.api("PATCH", url, token, headers=patch, data=content[10:])
    assert done.status_code == 503 and done.json()["error"]["code"] == "blob_being_collected", done.text

    # A creation that is complete at once keeps its bytes and says where to retry.
    whole = stack.api("POST", "/api/v1/uploads?provider_id=pixverse&filename=w.bin", token,
                      headers={"Upload-Complete": "?1", "Content-Type": "application/octet-stream"}, data=content)
    assert whole.status_code == 503 and whole.json()["error"]["code"] == "blob_being_collected", whole.text
    kept_url = whole.headers["Location"]

    # gc finished: the blob is gone and the mark with it; every upload goes through on retry.
    delete_blob(stack, digest)
    stack.sql("DELETE FROM blob_gc_marks")
    r = stack.upload(token, content)
    assert r.status_code == 201, r.text
    assert stack.blob(digest).read_bytes() == content
    retry = stack.api("PATCH", url, token, headers={**patch, "Upload-Offset": str(len(content))}, data=b"")
    assert retry.status_code in (200, 201), retry.text
    assert retry.json()["sha256"] == digest
    again = stack.api("PATCH", kept_url, token, headers={**patch, "Upload-Offset": str(len(content))}, data=b"")
    assert again.status_code in (200, 201), again.text
    assert again.json()["sha256"] == digest


def test_stale_deleting_row_of_a_dead_gc_does_not_block_uploads(stack):
    token = stack.add_user("dave")
    content = b"a gc died while deleting this" * 10
    digest = write_orphan(stack, content)
    stack.sql("INSERT INTO blob_gc_marks (sha256, size, marked_at, state, state_at) VALUES (?, ?, ?, 'deleting', ?)",
              digest, len(content), stored(30), stored(2))
    r = stack.upload(token, content)
    assert r.status_code == 201, r.text
    assert marks(stack) == []


@pytest.mark.whole_stack
def test_a_gc_killed_between_take_and_delete_is_finished_by_the_next(stack):
    orphan = write_orphan(stack, b"taken, then the gc was killed")
    # Taken ten minutes ago by a run that died before deleting: uploads of it wait meanwhile.
    stack.sql("INSERT INTO blob_gc_marks (sha256, size, marked_at, state, state_at) VALUES (?, ?, ?, 'deleting', ?)",
              orphan, 29, stored(30), stored(0.2))
    out = gc(stack).stdout  # the default grace: leftover 'deleting' rows do not wait for it
    assert line(out, "blobs deleted:") == "blobs deleted: 1 (29 bytes)"
    assert stack.blob(orphan) is None
    assert marks(stack) == []


def test_two_gc_runs_never_overlap(stack):
    stack.sql("INSERT INTO leases (name, owner, expires_at) VALUES ('gc', 'gc otherhost pid 1 abc', ?)",
              stored(-1))
    result = gc(stack, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: another gc is running on this database (gc otherhost pid 1 abc")


@pytest.mark.whole_stack
def test_gc_racing_uploads_of_the_same_content_never_loses_an_acknowledged_blob(stack):
    """The race the marks exist for: gc takes and deletes ripe orphans while clients upload that
    very content. Every acknowledged upload's blob must be there, whole, afterwards; an upload
    that met a blob being deleted got 503 `blob_being_collected` and succeeded on retry."""
    import concurrent.futures
    import random
    import subprocess
    from conftest import BIN

    token = stack.add_user("racer")
    contents = [f"orphan number {i} ".encode() * 64 for i in range(300)]
    digests = [write_orphan(stack, c) for c in contents]
    for digest, content in zip(digests, contents):
        mark(stack, digest, len(content), hours_ago=25)  # marked by a gc a day ago

    order = list(range(len(contents)))
    random.Random(7).shuffle(order)
    collector = subprocess.Popen([BIN, "gc", "--data", str(stack.data_dir), "--db", str(stack.db)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=stack.env)
    busy = []

    def upload(i):
        for _ in range(50):
            r = stack.upload(token, contents[i], filename=f"{i}.bin")
            if r.status_code == 503 and r.json()["error"]["code"] == "blob_being_collected":
                busy.append(i)
                time.sleep(0.05)
                continue
            assert r.status_code in (200, 201, 202), r.text  # 202: kept, the delivery queued
            return
        raise AssertionError(f"upload {i} never went through")

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(upload, order))
    out, err = collector.communicate(timeout=120)
    assert collector.returncode == 0, err
    deleted = int(line(out, "blobs deleted:").split()[2])
    kept = int(line(out, "marks kept").split()[-1])
    # The rest were claimed back before gc listed the marks.
    assert deleted + kept <= len(contents)

    # Every asset's blob is present and whole; every mark is gone (taken back or finished).
    for digest, content in zip(digests, contents):
        assert stack.blob(digest).read_bytes() == content
    assert stack.sql("SELECT count(*) FROM assets")[0][0] == len(contents)
    # gc's step 1 may have marked a blob afresh between an upload's claim and its row: a young
    # mark, never taken, dropped by the next take because an asset references it now.
    assert all(state == "marked" for _, state in marks(stack))
    assert line(gc(stack, "--grace-hours", "0").stdout, "blobs deleted:") == "blobs deleted: 0 (0 bytes)"
    assert marks(stack) == []
    for digest, content in zip(digests, contents):
        assert stack.blob(digest).read_bytes() == content
    print(f"gc deleted {deleted}, kept {kept} of {len(contents)}; {len(busy)} uploads met 503 blob_being_collected")


@pytest.mark.local_blobs_only  # partial files and temp files of the blob folder
def test_partial_uploads_without_a_row_and_abandoned_temp_files_go(stack):
    token = stack.add_user("erin")
    # A live resumable upload: its row exists, its partial file stays however old.
    created = stack.api("POST", "/api/v1/uploads?provider_id=pixverse&filename=p.bin", token,
                        headers={"Upload-Complete": "?0", "Content-Type": "application/octet-stream"}, data=b"x" * 10)
    assert created.status_code == 201, created.text
    live = stack.data_dir / "uploads" / (created.headers["Location"].rsplit("/", 1)[1] + ".partial")
    assert live.exists()
    rowless = stack.data_dir / "uploads" / ("ab" * 16 + ".partial")
    rowless.write_bytes(b"left by a crash")
    fresh_rowless = stack.data_dir / "uploads" / ("cd" * 16 + ".partial")
    fresh_rowless.write_bytes(b"its row is being written right now")
    abandoned = stack.data_dir / "tmp" / "upload-999999999-deadbeef.part"
    abandoned.write_bytes(b"a crashed writer's temp file")
    two_hours_ago = time.time() - 7200
    for path in (live, rowless, abandoned):
        os.utime(path, (two_hours_ago, two_hours_ago))

    # Even at grace 0, partial and temp files younger than an hour stay.
    dry = gc(stack, "--grace-hours", "0", "--dry-run").stdout
    assert line(dry, "partial uploads would be removed:") == "partial uploads would be removed: 1"
    assert line(dry, "abandoned writes would be removed:") == "abandoned writes would be removed: 1 (28 bytes)"
    assert rowless.exists() and abandoned.exists()
    out = gc(stack, "--grace-hours", "0").stdout
    assert line(out, "partial uploads removed:") == "partial uploads removed: 1"
    assert line(out, "abandoned writes removed:") == "abandoned writes removed: 1 (28 bytes)"
    assert not rowless.exists() and not abandoned.exists()
    assert live.exists() and fresh_rowless.exists()
    assert stack.api("HEAD", created.headers["Location"], token).headers["Upload-Offset"] == "10"


def test_backfill_waits_for_gc_deleting_the_same_content_then_brings_its_file_in(db, tmp_path):
    """backfill meets an orphan copy of a legacy file's content that gc is deleting: it waits
    for the deletion, then links its own file in, so the hashed row has its blob."""
    import subprocess
    from conftest import BIN
    from test_cli import seed_legacy

    files, data = tmp_path / "files", tmp_path / "data"
    content = b"legacy bytes that were also orphaned" * 30
    seed_legacy(db, files, [(1, content)])
    digest = hashlib.sha256(content).hexdigest()
    blob = data / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
    blob.parent.mkdir(parents=True)
    blob.write_bytes(content)
    db.sql("INSERT INTO blob_gc_marks (sha256, size, marked_at, state, state_at) VALUES (?, ?, ?, 'deleting', ?)",
           digest, len(content), stored(30), stored(0))
    proc = subprocess.Popen([BIN, "backfill", "--db", str(db), "--data", str(data), "--files", str(files)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The event itself: backfill says it waits (its first line on stderr; EOF if it exits instead).
    waiting = proc.stderr.readline()
    assert waiting == f"backfill: waiting for gc to finish deleting blob {digest}\n", (waiting, proc.communicate())
    assert proc.poll() is None, "backfill waits while gc holds the blob"
    assert db.sql("SELECT sha256 FROM assets") == [(None,)], "the row gets its hash only after the wait"
    blob.unlink()  # gc deletes the blob and finishes the mark
    db.sql("DELETE FROM blob_gc_marks")
    out, err = proc.communicate(timeout=90)  # backfill itself gives up after 60 s of waiting
    assert proc.returncode == 0, err
    assert "1 hashed" in out
    assert db.sql("SELECT sha256 FROM assets") == [(digest,)]
    assert blob.read_bytes() == content

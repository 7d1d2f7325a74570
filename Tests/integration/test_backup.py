"""`assetdedup backup` while the real app takes uploads, and `restore` of that backup."""
import hashlib
import os
import sqlite3
import threading

import pytest

from conftest import run_cli, wait_until

# `backup`/`restore` copy the SQLite file (PostgreSQL has pg_dump/pg_restore, docs/DESIGN.md, Backup).
pytestmark = pytest.mark.sqlite_only


def test_a_backup_under_upload_load_restores_every_upload_acknowledged_before_it(stack, tmp_path):
    tokens = [stack.add_user(f"user{i}") for i in range(3)]
    acknowledged = []  # (sha256, asset_id), in the order the answers arrived
    lock = threading.Lock()
    stop = threading.Event()
    errors = []

    def uploader(token):
        while not stop.is_set():
            content = os.urandom(64 << 10)
            r = stack.upload(token, content)
            # 202: stored and queued for the provider (the admission rule); acknowledged as well.
            if r.status_code not in (201, 202):
                errors.append(r.status_code)
                return
            with lock:
                acknowledged.append((hashlib.sha256(content).hexdigest(), r.json()["asset_id"]))

    threads = [threading.Thread(target=uploader, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(acknowledged) >= 30, timeout=60, what="30 uploads before the backup")
        with lock:
            before = list(acknowledged)
        backup = tmp_path / "backup.sqlite"
        result = run_cli("backup", "--to", str(backup), db=stack.db)
        assert "integrity ok" in result.stdout
        # The load goes on through and after the backup.
        wait_until(lambda: len(acknowledged) >= len(before) + 10, timeout=60, what="uploads after the backup")
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert errors == []

    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        in_backup = set(conn.execute("SELECT sha256, id FROM assets").fetchall())
    assert set(before) <= in_backup, "every upload acknowledged before the backup began is in it"
    assert not (backup.parent / "backup.sqlite-wal").exists()

    # Not while serve runs on the database; the refusal changes nothing.
    live_rows = stack.sql("SELECT count(*) FROM assets")[0][0]
    refused = run_cli("restore", "--from", str(backup), db=stack.db, check=False)
    assert refused.returncode == 1
    assert "serve is running" in refused.stderr and refused.stderr.count("\n") == 1
    assert stack.sql("SELECT count(*) FROM assets")[0][0] == live_rows

    stack.stop_app()
    restored = run_cli("restore", "--from", str(backup), db=stack.db)
    assert f"{len(in_backup)} assets" in restored.stdout
    assert set(stack.sql("SELECT sha256, id FROM assets")) == in_backup
    assert stack.db.integrity_problems() == []
    stack.start_app()
    wait_until(lambda: stack.api("GET", "/api/v1/health").status_code == 200, what="health after restore")
    # Uploads answered before the backup are found again; the blobs were never touched.
    sha, asset_id = before[0]
    hits = [stack.api("POST", "/api/v1/assets/check-by-hash", t, json={"sha256": sha}).json() for t in tokens]
    assert [h["asset_id"] for h in hits if h["exists"]] == [asset_id]


def test_restore_refuses_a_file_that_is_not_a_backup(db, tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"definitely not SQLite" * 100)
    result = run_cli("restore", "--from", str(junk), db=db, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "not a usable AssetDedup backup" in result.stderr
    missing = run_cli("restore", "--from", str(tmp_path / "none.sqlite"), db=db, check=False)
    assert missing.returncode == 1 and "cannot read backup" in missing.stderr

"""The admin CLI as operators and cron use it: exit codes, one-line errors, and data safety."""
import hashlib
import os
import pathlib
import signal
import subprocess

import pytest

import processes

from conftest import BIN, ROOT, run_cli


def test_migrate_status_lists_every_migration(db):
    out = run_cli("migrate", "status", db=db).stdout
    for name in ["legacy_schema", "fix_sha256_per_user_dedup", "provider_uploads_table", "users_and_tokens",
                 "deliveries"]:
        assert name in out
    assert "pending" not in out


def latest_version(db):
    """The newest schema version this binary knows (what `migrate up` reached for `db`)."""
    return db.sql("SELECT max(version) FROM schema_migrations")[0][0]


@pytest.mark.whole_stack
def test_migrate_down_and_up_via_cli(db):
    latest = latest_version(db)
    out = run_cli("migrate", "down", "--to", "1", db=db).stdout
    assert "schema at version 1" in out
    assert "pending" in run_cli("migrate", "status", db=db).stdout
    assert f"schema at version {latest}" in run_cli("migrate", "up", db=db).stdout


def test_bad_migration_target_is_a_one_line_error(db):
    result = run_cli("migrate", "up", "--to", "42", db=db, check=False)
    assert result.returncode != 0
    latest = latest_version(db)
    assert result.stderr.strip().splitlines() == [f"error: unknown migration version 42 (known: 1-{latest})"]


@pytest.mark.whole_stack
def test_refused_downgrade_names_the_shared_hash_and_keeps_data(db):
    latest = latest_version(db)
    run_cli("user", "add", "alice", db=db)
    run_cli("user", "add", "bob", db=db)
    shared = "ab" * 32
    db.sql("INSERT INTO assets (user_id, sha256, size) VALUES (1, ?, 1), (2, ?, 1)", shared, shared)
    before = db.sql("SELECT * FROM assets ORDER BY id")
    result = run_cli("migrate", "down", "--to", "1", db=db, check=False)
    assert result.returncode == 1
    assert shared in result.stderr and "users 1, 2" in result.stderr
    assert db.sql("SELECT * FROM assets ORDER BY id") == before
    assert f"schema at version {latest}" in run_cli("migrate", "up", db=db).stdout


def test_users_and_tokens(db):
    assert "admin" in run_cli("user", "add", "root", "--admin", db=db).stdout
    out = run_cli("token", "issue", "root", "--label", "ci", db=db).stdout
    token = out.strip().splitlines()[-1]
    assert token.startswith("adt_") and len(token) == 68
    stored = db.sql("SELECT token_sha256 FROM api_tokens")[0][0]
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    listing = run_cli("token", "list", "root", db=db).stdout
    assert "ci" in listing and token not in listing
    run_cli("token", "revoke", "1", db=db)
    assert "revoked" in run_cli("token", "list", "root", db=db).stdout


def test_cli_errors_are_one_line_and_write_nothing(db, tmp_path):
    cases = [
        (["user", "add", "alice"], None),
        (["user", "add", "alice"], "error: user 'alice' already exists"),
        (["user", "add", "bad name"], "error: invalid_user_name"),
        (["token", "issue", "nobody"], "error: no user named 'nobody'"),
        (["token", "revoke", "77"], "error: no token with id 77"),
    ]
    for args, expected in cases:
        result = run_cli(*args, db=db, check=expected is None)
        if expected:
            assert result.returncode == 1, args
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
            assert result.stderr.startswith(expected), result.stderr
    assert db.sql("SELECT count(*) FROM users") == [(1,)]
    # A store that is not there is an error, never created on the way.
    nowhere = str(tmp_path / "nope.sqlite") if db.sqlite else db.url_for("ad_nope_" + os.urandom(4).hex())
    missing = run_cli("user", "list", "--db", nowhere, check=False)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    assert not (tmp_path / "nope.sqlite").exists()


@pytest.mark.sqlite_only
def test_locked_database_is_a_clear_error(db):
    import sqlite3

    holder = sqlite3.connect(db.path, timeout=0, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        # Not a hang: it exits (run_cli's 60 s timeout would fail a hang) with a clear error
        # while the lock is still held. No stopwatch on how long it waited first.
        result = run_cli("user", "add", "carol", db=db, check=False, timeout=60)
        assert result.returncode == 1
        assert "locked" in result.stderr
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def seed_legacy(db, files, rows):
    """Rows of (user, content) as legacy assets without hashes, each with its own file."""
    run_cli("user", "add", "alice", db=db)
    run_cli("user", "add", "bob", db=db)
    (files / "legacy").mkdir(parents=True, exist_ok=True)
    values, uploads = [], []
    for index, (user, content) in enumerate(rows, start=1):
        path = f"legacy/{index}.bin"
        (files / path).write_bytes(content)
        values.append(f"({index}, {user}, NULL, 0, '{path}', '2024-01-01T00:00:{index:02d}Z')")
        uploads.append(f"({index}, 'pixverse', 'pv-{index}')")
    db.script("INSERT INTO assets (id, user_id, sha256, size, storage_path, created_at) VALUES " + ", ".join(values)
              + "; INSERT INTO provider_uploads (asset_id, provider_id, provider_asset_id) VALUES " + ", ".join(uploads))
    db.sync_ids()


@pytest.mark.whole_stack
def test_backfill_is_resumable_after_kill_9(db, tmp_path):
    files = tmp_path / "files"
    # 60 rows of 2 MiB in triples of one user; the third of each triple repeats the second.
    rows = []
    for i in range(60):
        user = 1 + (i // 3) % 2
        rows.append((user, rows[i - 1][1] if i % 3 == 2 else os.urandom(2 << 20)))
    seed_legacy(db, files, rows)
    data = tmp_path / "data"
    cmd = [BIN, "backfill", "--db", str(db), "--data", str(data), "--files", str(files)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    # Kill it for real once it has reported some progress.
    for line in proc.stdout:
        if line.startswith("backfill: 10/"):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    left = db.sql("SELECT count(*) FROM assets WHERE sha256 IS NULL")[0][0]
    assert 0 < left < 60
    assert db.integrity_problems() == []

    result = run_cli("backfill", "--data", str(data), "--files", str(files), db=db)
    assert "0 failed" in result.stdout
    assert db.sql("SELECT count(*) FROM assets WHERE sha256 IS NULL") == [(0,)]

    # Every row's hash is its file's, duplicates are merged per user, no provider upload lost.
    expected = {}
    for index, (user, content) in enumerate(rows, start=1):
        expected.setdefault((user, hashlib.sha256(content).hexdigest()), set()).add(f"pv-{index}")
    assets = db.sql("SELECT id, user_id, sha256 FROM assets")
    merged_pixverse = ("json_extract(merged_providers, '$.pixverse')" if db.sqlite
                       else "merged_providers::json ->> 'pixverse'")
    assert {(u, h) for _, u, h in assets} == set(expected)
    assert len(assets) == len(expected)
    for asset_id, user, sha in assets:
        ids = {r[0] for r in db.sql("SELECT provider_asset_id FROM provider_uploads WHERE asset_id = ?", asset_id)}
        merged = {r[0] for r in db.sql(f"SELECT {merged_pixverse} FROM asset_merges WHERE kept_asset_id = ?", asset_id)}
        assert ids | merged == expected[(user, sha)]
        blob = data / "blobs" / "sha256" / sha[:2] / sha[2:4] / sha
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha


def test_nginx_config_is_valid_and_keeps_workers_as_the_invoking_user(tmp_path):
    # As root the workers stay root (nginx would drop them to `nobody`, who cannot read a
    # checkout under a 0700 folder); as anyone else there is no `user` line at all.
    conf = run_cli("nginx-config", "--listen", "127.0.0.1:18999", "--fastcgi", f"unix:{tmp_path}/app.sock",
                   "--www", str(tmp_path), "--prefix", str(tmp_path), "--template",
                   str(pathlib.Path(__file__).resolve().parents[2] / "templates/nginx.conf.mustache")).stdout
    users = [line.strip() for line in conf.splitlines() if line.strip().startswith("user ")]
    assert users == (["user root root;"] if os.geteuid() == 0 else []), users
    (tmp_path / "nginx.conf").write_text(conf)
    check = subprocess.run([processes.NGINX, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                            "-e", str(tmp_path / "error.log")], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr


def nginx_config(tmp_path, *fastcgi):
    args = [arg for address in fastcgi for arg in ("--fastcgi", address)]
    return run_cli("nginx-config", "--listen", "127.0.0.1:18999", *args, "--www", str(tmp_path), "--prefix",
                   str(tmp_path), "--template",
                   str(ROOT / "templates/nginx.conf.mustache"), cwd=ROOT)


def upstream_block(conf):
    lines = conf.splitlines()
    start = lines.index("    upstream assetdedup_app {")
    return [line.strip() for line in lines[start + 1:lines.index("    }", start)]]


def test_nginx_config_with_several_nodes_lists_them_in_one_upstream_with_failover(tmp_path):
    conf = nginx_config(tmp_path, f"unix:{tmp_path}/a.sock", "127.0.0.1:9001", f"unix:{tmp_path}/b.sock").stdout
    assert upstream_block(conf) == [
        f"server unix:{tmp_path}/a.sock max_fails=3 fail_timeout=10s;",
        "server 127.0.0.1:9001 max_fails=3 fail_timeout=10s;",
        f"server unix:{tmp_path}/b.sock max_fails=3 fail_timeout=10s;",
    ]
    directives = [line.strip() for line in conf.splitlines() if line.strip().startswith("fastcgi_next_upstream")]
    assert directives == ["fastcgi_next_upstream error timeout invalid_header http_503 non_idempotent;"]
    # Every fastcgi_pass (the API, uploads, both auth_request checks) goes to the upstream.
    passes = {line.strip() for line in conf.splitlines() if line.strip().startswith("fastcgi_pass ")}
    assert passes == {"fastcgi_pass assetdedup_app;"}
    (tmp_path / "nginx.conf").write_text(conf)
    check = subprocess.run([processes.NGINX, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                            "-e", str(tmp_path / "error.log")], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr


def test_nginx_config_with_one_node_has_no_failover(tmp_path):
    conf = nginx_config(tmp_path, "unix:relative/app.sock").stdout
    assert upstream_block(conf) == [f"server unix:{ROOT}/relative/app.sock;"]  # made absolute, as before
    assert "fastcgi_next_upstream" not in conf and "max_fails" not in conf


def test_nginx_config_refuses_a_bad_or_repeated_node(tmp_path):
    for fastcgi, message in [(["unix:/a.sock", "10.0.0.5:9000"], "--fastcgi must be unix:PATH or 127.0.0.1:PORT"),
                             (["unix:/a.sock", "unix:/a.sock"], "--fastcgi 'unix:/a.sock' is given twice")]:
        args = [arg for address in fastcgi for arg in ("--fastcgi", address)]
        result = run_cli("nginx-config", *args, check=False)
        assert result.returncode != 0 and message in result.stderr, result.stderr

"""Shared fixtures for integration tests: they drive the real `assetdedup` binary (and, where a
test needs it, a real nginx and headless Chromium) on 127.0.0.1, against real files. Every server
runs in a process group of its own, stopped by its fixture, also when SIGTERM or Ctrl-C stops
the run (`processes`).

The store is SQLite (a file per test) or PostgreSQL (a fresh database per test on the cluster at
`ASSETDEDUP_TEST_PG_URL`), chosen by `ASSETDEDUP_TEST_STORE` (`sqlite`, the default, or
`postgres`). Tests reach it only through `Database`: `str(db)` is what `--db` takes, `db.sql()`
reads and writes it. Markers: `sqlite_only` (about the SQLite file itself: backup/restore, WAL,
locks, permissions) is skipped on PostgreSQL, `postgres_only` (the server restarting under the
app) on SQLite. The PostgreSQL pass runs only tests marked `whole_stack` (their point is the
store or the blobs under the whole stack: several nodes, crashes, races, leases, S3 objects),
`postgres_only` or `s3_only`; the rest run once, on SQLite, because the Swift contract suites
prove the stores and blob storages behave alike (ASSETDEDUP_TEST_ALL=1 runs everything).

Blobs live in the stack's data folder or in a bucket of its own on the S3-compatible test server
(`ASSETDEDUP_TEST_BLOBS=local|s3`, see s3_support.py); tests reach them through `stack.blobs()`,
`stack.blob(digest)` and `stack.put_blob`. `local_blobs_only` (about the blob folder itself) is
skipped on S3 runs, `s3_only` on local ones."""
import os
import secrets
import subprocess
import pathlib
import urllib.parse

import pytest

import browser_support
# The browser fixtures, defined here once: a fixture imported into a test module is that
# module's own, so a session-scoped Chromium imported by each module ran once per module.
from browser_support import browser, browser_session, static_site  # noqa: F401
import processes
import s3_support

processes.interrupt_on_signals()

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("ASSETDEDUP_BIN", str(ROOT / ".build/debug/assetdedup"))
STORE = os.environ.get("ASSETDEDUP_TEST_STORE", "sqlite")
PG_URL = os.environ.get("ASSETDEDUP_TEST_PG_URL", "")
if STORE not in ("sqlite", "postgres"):
    raise SystemExit(f"ASSETDEDUP_TEST_STORE must be sqlite or postgres, got {STORE!r}")
# The PostgreSQL + S3 pass runs only what needs the whole stack there; the backends are proven
# equal by the Swift contract suites (docs/DESIGN.md, "Tests"). ASSETDEDUP_TEST_ALL=1 runs all.
SECOND_PASS = {"whole_stack", "postgres_only", "s3_only"}
SECOND_PASS_RUNS_ALL = os.environ.get("ASSETDEDUP_TEST_ALL") == "1"
if STORE == "postgres" and not PG_URL:
    raise SystemExit("ASSETDEDUP_TEST_STORE=postgres needs ASSETDEDUP_TEST_PG_URL (a server URL, scripts/pg-cluster)")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: about the SQLite file itself; skipped on PostgreSQL")
    config.addinivalue_line("markers", "postgres_only: about the PostgreSQL server itself; skipped on SQLite")
    config.addinivalue_line("markers", "local_blobs_only: about the blob folder itself; skipped on S3 runs")
    config.addinivalue_line("markers", "s3_only: about the S3 blob storage; skipped on local-blob runs")
    config.addinivalue_line("markers", "whole_stack: also runs on the PostgreSQL + S3 pass")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if s3_support.BLOBS == "s3" and "local_blobs_only" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="local blobs only: about the blob folder itself"))
        if s3_support.BLOBS == "local" and "s3_only" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="S3 only: about the S3 blob storage"))
    if STORE == "sqlite":
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(pytest.mark.skip(reason="PostgreSQL only: about the database server"))
        return
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="SQLite only: about the SQLite file itself"))
        elif not SECOND_PASS_RUNS_ALL and not SECOND_PASS.intersection(item.keywords):
            item.add_marker(pytest.mark.skip(reason="first pass only: not marked whole_stack"))


def _pg_connect(url, **kwargs):
    import psycopg  # only PostgreSQL runs need it

    return psycopg.connect(url, **kwargs)


def _pg_placeholders(query):
    """SQLite's `?` placeholders as psycopg's `%s` (and a literal `%` as `%%`), outside quotes."""
    out, quoted = [], False
    for ch in query:
        if ch == "'":
            quoted = not quoted
        if ch == "%":
            out.append("%%")
        elif ch == "?" and not quoted:
            out.append("%s")
        else:
            out.append(ch)
    return "".join(out)


class Database:
    """The store a test runs on: a SQLite file in `folder`, or a new database `ad_<random>` on
    the PostgreSQL cluster. `str(db)` is the `--db` argument of every command; `sql()` is the
    one way tests read or write the store directly."""

    def __init__(self, folder):
        self.kind = STORE
        if STORE == "sqlite":
            self.path = pathlib.Path(folder) / "assetdedup.sqlite"
            self.url = str(self.path)
        else:
            self.path = None
            self.name = "ad_" + secrets.token_hex(8)
            with _pg_connect(PG_URL, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {self.name}")
            self.url = self.url_for(self.name)

    def __str__(self):
        return self.url

    @staticmethod
    def url_for(name):
        """The URL of database `name` on the test cluster (its host, port, user and options)."""
        parts = urllib.parse.urlsplit(PG_URL)
        return urllib.parse.urlunsplit(parts._replace(path="/" + name))

    def __repr__(self):
        return f"Database({self.url})"

    @property
    def sqlite(self):
        return self.kind == "sqlite"

    def sql(self, query, *params):
        """Runs one statement with `?` placeholders in its own transaction; returns the rows as
        tuples (none for a statement that returns none)."""
        if self.sqlite:
            conn = sqlite3.connect(self.path, timeout=30)
            try:
                with conn:
                    cursor = conn.execute(query, params)
                    return cursor.fetchall()
            finally:
                conn.close()
        with _pg_connect(self.url) as conn:
            cursor = conn.execute(_pg_placeholders(query) if params else query, params or None)
            return cursor.fetchall() if cursor.description else []

    def script(self, text):
        """Several statements without parameters, in one transaction."""
        if self.sqlite:
            conn = sqlite3.connect(self.path, timeout=30)
            try:
                with conn:
                    conn.executescript(text)
            finally:
                conn.close()
            return
        with _pg_connect(self.url) as conn:
            conn.execute(text)

    def sync_ids(self):
        """After rows were inserted with explicit ids: PostgreSQL's id sequences move past them
        (SQLite takes max(id) + 1 by itself), so the app's next insert gets a fresh id."""
        if self.sqlite:
            return
        columns = self.sql("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE table_schema = current_schema() "
                           "AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')")
        for table, column in columns:
            self.sql(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                     f"coalesce(max({column}), 0) + 1, false) FROM {table}")

    def tables(self):
        if self.sqlite:
            return [r[0] for r in self.sql("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name")]
        return [r[0] for r in self.sql("SELECT table_name FROM information_schema.tables "
                                       "WHERE table_schema = current_schema() ORDER BY table_name")]

    def dump(self):
        """Every row of every table: what "nothing changed" means."""
        return {t: self.sql(f"SELECT * FROM {t} ORDER BY 1") for t in self.tables()}

    def integrity_problems(self):
        """What the store itself finds wrong: SQLite's integrity and foreign-key checks (PostgreSQL
        enforces its constraints on every write and has no such check to run); [] when sound."""
        if not self.sqlite:
            return []
        problems = [r for r in self.sql("PRAGMA integrity_check") if r != ("ok",)]
        return problems + self.sql("PRAGMA foreign_key_check")

    def migrate(self):
        """`migrate up`, then a check that it reached this store: a binary without PostgreSQL
        support would take the URL for a SQLite file path and pass on a file of its own."""
        run_cli("migrate", "up", db=self)
        if not self.sqlite and "schema_migrations" not in self.tables():
            raise AssertionError(f"`migrate up --db {self.url}` left no schema_migrations table in that "
                                 "database: does this binary support PostgreSQL?")

    def drop(self):
        """Removes a PostgreSQL test database (its connections first); a SQLite file goes with tmp_path."""
        if self.sqlite:
            return
        with _pg_connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def run_cli(*args, db=None, check=True, timeout=120, **kwargs):
    """Runs the CLI; returns CompletedProcess with text stdout/stderr."""
    cmd = [BIN, *args]
    if db is not None:
        cmd += ["--db", str(db)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} failed ({result.returncode}): {result.stderr}")
    return result


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def db(tmp_path):
    """A migrated store (`Database`): a file in a temp folder, or a fresh PostgreSQL database."""
    database = Database(tmp_path)
    try:
        database.migrate()
        yield database
    finally:
        database.drop()


import json
import shutil
import signal
import socket
import sqlite3
import tempfile
import time

import requests


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=15, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


class Stack:
    """The real thing on 127.0.0.1: `assetdedup serve` on a unix socket behind a real nginx,
    a real store (`Database`) and real folders. Stopped by PID, with whatever is left in their
    groups.

    `nodes=N` starts N `serve` processes on the same store and the same data folder, each on its
    own socket, behind one nginx whose upstream lists them all (`base_url`); with more than one,
    each node also gets a pinned nginx of its own (`node_url(i)`) that reaches that node only.
    `env` adds to the environment of `serve` and `cli` (after the bucket's, so it can override).
    `start_app`/`stop_app`/`app` without a node are node 0."""

    def __init__(self, base, threads=4, config=None, max_upload_bytes=None, max_body_size="8g", www=None,
                 busy_timeout_ms=None, serve_args=(), nodes=1, env=None):
        self.dir = pathlib.Path(base)
        self.db = Database(self.dir)
        # Unix socket paths are limited to 108 bytes: keep the sockets in a short folder.
        self.sock_dir = pathlib.Path(tempfile.mkdtemp(prefix="ad-", dir="/tmp"))
        self.sockets = [self.sock_dir / ("app.sock" if i == 0 else f"app{i}.sock") for i in range(nodes)]
        self.data_dir = self.dir / "data"
        self.www = pathlib.Path(www) if www else ROOT / "www"
        self.threads = threads
        self.config = config
        self.max_upload_bytes = max_upload_bytes
        self.busy_timeout_ms = busy_timeout_ms
        self.serve_args = list(serve_args)
        self.max_body_size = max_body_size
        self.apps = [None] * nodes
        self.app_logs = [None] * nodes
        self.nginx = None
        self.pinned = []  # (base_url, prefix, process) per node when there are several
        # Where nginx buffers upload bodies (its default under the prefix) and the app reads them;
        # every nginx of the stack writes there, so every node can read any body.
        self.body_dir = self.dir / "nginx" / "client_body"
        self.bucket = None
        self.env = dict(os.environ)
        try:
            if s3_support.BLOBS == "s3":
                self.bucket = s3_support.Bucket()
                self.env.update(self.bucket.env)
            self.env.update(env or {})
            self._start()
        except BaseException:
            self.stop()
            raise

    @property
    def socket(self):
        return self.sockets[0]

    @property
    def app(self):
        return self.apps[0]

    @property
    def app_log_path(self):
        return self.app_log_paths[0]

    @property
    def app_log_paths(self):
        return [self.dir / ("app.log" if i == 0 else f"app{i}.log") for i in range(len(self.sockets))]

    def _nginx_conf(self, prefix, port, sockets):
        prefix.mkdir(parents=True, exist_ok=True)
        fastcgi = [arg for sock in sockets for arg in ("--fastcgi", f"unix:{sock}")]
        conf = run_cli(
            "nginx-config", "--listen", f"127.0.0.1:{port}", *fastcgi, "--www", str(self.www),
            "--prefix", str(prefix), "--max-body-size", self.max_body_size, "--body-temp", str(self.body_dir),
            "--template", str(ROOT / "templates/nginx.conf.mustache"), cwd=ROOT,
        ).stdout
        (prefix / "nginx.conf").write_text(conf)

    def _start(self):
        self.db.migrate()
        for node in range(len(self.sockets)):
            self.start_app(node)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        prefix = self.dir / "nginx"
        self._nginx_conf(prefix, self.port, self.sockets)
        self.nginx_prefix = prefix
        self.start_nginx()
        browser_support.watch_access_log(prefix / "access.log", self.base_url, prefix / "error.log")
        if len(self.sockets) > 1:
            for node, sock in enumerate(self.sockets):
                port = free_port()
                pinned_prefix = self.dir / f"nginx-node{node}"
                self._nginx_conf(pinned_prefix, port, [sock])
                url = f"http://127.0.0.1:{port}"
                self.pinned.append((url, pinned_prefix, self._spawn_nginx(pinned_prefix)))
                wait_until(lambda: self._healthy(url), what=f"the nginx pinned to node {node} to answer")

    def node_url(self, node):
        """The base URL of the nginx that reaches node `node` only (several nodes)."""
        return self.pinned[node][0]

    def _spawn_nginx(self, prefix):
        log = open(prefix / "stderr.log", "a")
        try:
            return processes.spawn(
                [processes.NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log"),
                 "-g", "daemon off;"], stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()

    def start_nginx(self):
        """Starts nginx (the app's config: its workers run as root when started as root, see
        templates/nginx.conf.mustache) and waits until it answers."""
        self.nginx = self._spawn_nginx(self.nginx_prefix)
        wait_until(self._healthy, what="nginx + app to answer /api/v1/health")

    def _healthy(self, url=None):
        """Whether /api/v1/health answers 200 through nginx (`url`: another nginx of the stack)."""
        try:
            return requests.get((url or self.base_url) + "/api/v1/health", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def start_app(self, node=0):
        sock = self.sockets[node]
        args = [BIN, "serve", "--db", str(self.db), "--data", str(self.data_dir),
                "--socket", str(sock), "--threads", str(self.threads),
                "--request-body-dir", str(self.body_dir)]
        if self.config:
            args += ["--config", str(self.config)]
        if self.max_upload_bytes:
            args += ["--max-upload-bytes", str(self.max_upload_bytes)]
        if self.busy_timeout_ms is not None:
            args += ["--busy-timeout-ms", str(self.busy_timeout_ms)]
        args += self.serve_args
        if self.app_logs[node]:
            self.app_logs[node].close()
        self.app_logs[node] = open(self.app_log_paths[node], "a")
        if sock.exists():
            sock.unlink()
        self.apps[node] = processes.spawn(
            args, stdout=self.app_logs[node], stderr=subprocess.STDOUT, env=self.env)
        wait_until(sock.exists, what=f"node {node}'s socket")

    def stop_app(self, sig=signal.SIGTERM, timeout=20, node=0):
        return processes.stop(self.apps[node], sig, timeout) if self.apps[node] else None

    def stop_nginx(self):
        return processes.stop(self.nginx, signal.SIGQUIT) if self.nginx else None

    def stop(self):
        browser_support.unwatch_access_log(self.dir / "nginx" / "access.log")
        try:
            for node in range(len(self.apps)):
                self.stop_app(node=node)
        finally:
            self.stop_nginx()
            for _, _, proc in self.pinned:
                processes.stop(proc, signal.SIGQUIT)
            for log in self.app_logs:
                if log:
                    log.close()
            shutil.rmtree(self.sock_dir, ignore_errors=True)
            self.db.drop()
            if self.bucket:
                self.bucket.drop()

    # Helpers for tests.

    def cli(self, *args, **kwargs):
        """`assetdedup ARGS --db <this stack's store>`."""
        kwargs.setdefault("env", self.env)
        return run_cli(*args, db=self.db, **kwargs)

    def add_user(self, name, admin=False):
        self.cli("user", "add", name, *(["--admin"] if admin else []))
        return self.cli("token", "issue", name).stdout.strip().splitlines()[-1]

    def api(self, method, path, token=None, base_url=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 120)
        return requests.request(method, (base_url or self.base_url) + path, headers=headers, **kwargs)

    def upload(self, token, content, provider="pixverse", sha256=None, filename="file.bin",
               mime="application/octet-stream", base_url=None, **kwargs):
        data = {"provider_id": provider}
        if sha256:
            data["sha256"] = sha256
        return self.api("POST", "/api/v1/assets/upload", token, base_url=base_url, data=data,
                        files={"file": (filename, content, mime)}, **kwargs)

    def sql(self, query, *args):
        """One statement on the store (`?` placeholders); the rows as tuples."""
        return self.db.sql(query, *args)

    def dump(self):
        """Every row of every table: what "nothing changed" means."""
        return self.db.dump()

    def provider_uploads_count(self, provider_id):
        return self.sql("SELECT count(*) FROM provider_uploads WHERE provider_id = ?", provider_id)[0][0]

    def provider_files(self, provider_id):
        root = self.data_dir / "providers" / provider_id
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    def blobs(self):
        """Every blob: files (`pathlib.Path`) or objects (`s3_support.StoredBlob`), each with a
        `name` (the digest) and `read_bytes()`."""
        if self.bucket:
            return self.bucket.blobs()
        root = self.data_dir / "blobs"
        return sorted(p for p in root.rglob("*") if p.is_file())

    def blob(self, digest):
        """The blob for `digest` (see `blobs`), or None."""
        if self.bucket:
            return self.bucket.blob(digest)
        path = self.data_dir / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
        return path if path.is_file() else None

    def put_blob(self, digest, content):
        """Stores `content` as the blob for `digest` behind the app's back (an orphan, a seed)."""
        if self.bucket:
            return self.bucket.put_blob(digest, content)
        path = self.data_dir / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

    def temp_files(self):
        root = self.data_dir / "tmp"
        return sorted(root.iterdir()) if root.exists() else []

    def body_files(self):
        """Request bodies nginx is holding (or left behind) in its client_body folder."""
        return sorted(p for p in self.body_dir.rglob("*") if p.is_file()) if self.body_dir.exists() else []


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def make_stack(tmp_path):
    """For tests that need their own settings: make_stack(threads=..., config=...)."""
    made = []

    def make(**kwargs):
        base = tmp_path / f"stack{len(made)}"
        base.mkdir()
        made.append(Stack(base, **kwargs))
        return made[-1]

    yield make
    for s in made:
        s.stop()

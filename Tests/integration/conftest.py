"""Shared fixtures for integration tests: they drive the real `assetdedup` binary (and, where a
test needs it, a real nginx and headless Chromium) on 127.0.0.1, against real files. Every server
runs in a process group of its own, stopped by its fixture, also when SIGTERM or Ctrl-C stops
the run (`processes`)."""
import os
import subprocess
import pathlib

import pytest

import browser_support
import processes

processes.interrupt_on_signals()

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("ASSETDEDUP_BIN", str(ROOT / ".build/debug/assetdedup"))


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
    """A migrated database file in a temp folder."""
    path = tmp_path / "assetdedup.sqlite"
    run_cli("migrate", "up", db=path)
    return path


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
    a real SQLite file and real folders. Stopped by PID, with whatever is left in their groups."""

    def __init__(self, base, threads=4, config=None, max_upload_bytes=None, max_body_size="8g", www=None,
                 busy_timeout_ms=None):
        self.dir = pathlib.Path(base)
        # Unix socket paths are limited to 108 bytes: keep the socket in a short folder.
        self.sock_dir = pathlib.Path(tempfile.mkdtemp(prefix="ad-", dir="/tmp"))
        self.socket = self.sock_dir / "app.sock"
        self.db_path = self.dir / "assetdedup.sqlite"
        self.data_dir = self.dir / "data"
        self.www = pathlib.Path(www) if www else ROOT / "www"
        self.threads = threads
        self.config = config
        self.max_upload_bytes = max_upload_bytes
        self.busy_timeout_ms = busy_timeout_ms
        self.app = None
        self.nginx = None
        # Where nginx buffers upload bodies (its default under the prefix) and the app reads them.
        self.body_dir = self.dir / "nginx" / "client_body"
        try:
            self._start(max_body_size)
        except BaseException:
            self.stop()
            raise

    def _start(self, max_body_size):
        run_cli("migrate", "up", db=self.db_path)
        self.start_app()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        prefix = self.dir / "nginx"
        prefix.mkdir(exist_ok=True)
        conf = run_cli(
            "nginx-config", "--listen", f"127.0.0.1:{self.port}", "--fastcgi", f"unix:{self.socket}",
            "--www", str(self.www), "--prefix", str(prefix), "--max-body-size", max_body_size,
            "--template", str(ROOT / "templates/nginx.conf.mustache"), cwd=ROOT,
        ).stdout
        (prefix / "nginx.conf").write_text(conf)
        self.nginx_prefix = prefix
        self.nginx_log = open(prefix / "stderr.log", "w")
        self.start_nginx()
        browser_support.watch_access_log(prefix / "access.log", self.base_url, prefix / "error.log")

    def start_nginx(self):
        """Starts nginx (the app's config: its workers run as root when started as root, see
        templates/nginx.conf.mustache) and waits until it answers."""
        prefix = self.nginx_prefix
        self.nginx = processes.spawn(
            ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log"),
             "-g", "daemon off;"], stdout=self.nginx_log, stderr=subprocess.STDOUT)
        wait_until(self._healthy, what="nginx + app to answer /api/v1/health")

    def _healthy(self):
        try:
            return requests.get(self.base_url + "/api/v1/health", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def start_app(self):
        args = [BIN, "serve", "--db", str(self.db_path), "--data", str(self.data_dir),
                "--socket", str(self.socket), "--threads", str(self.threads),
                "--request-body-dir", str(self.body_dir)]
        if self.config:
            args += ["--config", str(self.config)]
        if self.max_upload_bytes:
            args += ["--max-upload-bytes", str(self.max_upload_bytes)]
        if self.busy_timeout_ms is not None:
            args += ["--busy-timeout-ms", str(self.busy_timeout_ms)]
        self.app_log_path = self.dir / "app.log"
        self.app_log = open(self.app_log_path, "a")
        if self.socket.exists():
            self.socket.unlink()
        self.app = processes.spawn(args, stdout=self.app_log, stderr=subprocess.STDOUT)
        wait_until(self.socket.exists, what="the app's socket")

    def stop_app(self, sig=signal.SIGTERM, timeout=20):
        return processes.stop(self.app, sig, timeout) if self.app else None

    def stop_nginx(self):
        return processes.stop(self.nginx, signal.SIGQUIT) if self.nginx else None

    def stop(self):
        browser_support.unwatch_access_log(self.dir / "nginx" / "access.log")
        try:
            self.stop_app()
        finally:
            self.stop_nginx()
            shutil.rmtree(self.sock_dir, ignore_errors=True)

    # Helpers for tests.

    def add_user(self, name, admin=False):
        run_cli("user", "add", name, *(["--admin"] if admin else []), db=self.db_path)
        return run_cli("token", "issue", name, db=self.db_path).stdout.strip().splitlines()[-1]

    def api(self, method, path, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 120)
        return requests.request(method, self.base_url + path, headers=headers, **kwargs)

    def upload(self, token, content, provider="pixverse", sha256=None, filename="file.bin", mime="application/octet-stream"):
        data = {"provider_id": provider}
        if sha256:
            data["sha256"] = sha256
        return self.api("POST", "/api/v1/assets/upload", token, data=data, files={"file": (filename, content, mime)})

    def query(self, sql, *args):
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(sql, args).fetchall()

    def dump(self):
        """Every row of every table: what "nothing changed" means."""
        with sqlite3.connect(self.db_path) as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name")]
            return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}

    def provider_uploads_count(self, provider_id):
        return self.query("SELECT count(*) FROM provider_uploads WHERE provider_id = ?", provider_id)[0][0]

    def provider_files(self, provider_id):
        root = self.data_dir / "providers" / provider_id
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    def blobs(self):
        root = self.data_dir / "blobs"
        return sorted(p for p in root.rglob("*") if p.is_file())

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

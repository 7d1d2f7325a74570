"""Browser test support: a real nginx serving www/app on 127.0.0.1 (temp paths, stopped by PID)
and real headless Chromium driven by Selenium, plus small page helpers. A page or script under
/app/ that answers an HTTP error fails the test at once (see `check_pages`)."""
import os
import pathlib
import re
import shutil
import signal
import socket
import tempfile
import time

import pytest

import processes

ROOT = pathlib.Path(__file__).resolve().parents[2]
WWW = ROOT / "www"
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
# The policy production sets: no inline script, wasm allowed, workers from our origin only.
CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
       "style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class StaticNginx:
    """nginx serving `www/app` at /app/ with the production CSP; /api/ goes to `api_port`, where
    nothing listens unless a test starts something there (so /api/ answers 502: "server down")."""

    def __init__(self, www=WWW, api_port=None):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="assetdedup-nginx-"))
        self.process = None
        self.port = free_port()
        self.api_port = api_port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        d = self.dir
        for sub in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"]:
            (d / sub).mkdir()
        # Started as root, nginx drops its workers to `nobody`, who cannot read a checkout under a
        # 0700 folder (/root, mktemp -d): keep them as root. Otherwise they run as the invoking user.
        user = "user root root;" if os.geteuid() == 0 else ""
        (d / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {d}/logs/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        location = / {{ return 302 /app/; }}
        location /app/ {{
            alias {www}/app/;
            add_header Content-Security-Policy "{CSP}" always;
            add_header Cache-Control "no-store" always;
        }}
        location /api/ {{ proxy_pass http://127.0.0.1:{self.api_port}; }}
    }}
}}
""")
        with open(d / "logs/stderr.log", "w") as stderr:
            self.process = processes.spawn(
                [processes.NGINX, "-p", str(d), "-c", str(d / "nginx.conf"), "-e", str(d / "logs/error.log"),
                 "-g", "daemon off;"], stdout=stderr, stderr=stderr)
        try:
            wait_for_port(self.port)
        except RuntimeError:
            self.stop()
            raise
        watch_access_log(d / "logs/access.log", self.base_url, d / "logs/error.log")

    def stop(self):
        unwatch_access_log(self.dir / "logs/access.log")
        if self.process:
            processes.stop(self.process, signal.SIGQUIT)
        shutil.rmtree(self.dir, ignore_errors=True)


def make_driver(width=1280, height=900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="assetdedup-chromium-")
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--user-data-dir={profile}", f"--window-size={width},{height}"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # chromedriver in a process group of its own, with the Chromium it starts: `quit_driver`
    # (or the exit of an interrupted run) kills the whole group.
    service = Service(CHROMEDRIVER, popen_kw={"start_new_session": True})
    try:
        driver = webdriver.Chrome(options=options, service=service)
    except BaseException:
        if getattr(service, "process", None):
            processes.kill_group(service.process.pid)
        shutil.rmtree(profile, ignore_errors=True)
        raise
    processes.adopt(service.process.pid)
    driver.set_script_timeout(120)
    driver.profile_dir = profile
    return driver


def quit_driver(driver):
    try:
        driver.quit()
    finally:
        processes.kill_group(driver.service.process.pid)
        shutil.rmtree(driver.profile_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def static_site():
    site = StaticNginx()
    yield site
    site.stop()


@pytest.fixture(scope="session")
def browser_session():
    driver = make_driver()
    yield driver
    quit_driver(driver)


@pytest.fixture
def browser(browser_session, static_site):
    """The shared Chromium with a clean origin (IndexedDB, sessionStorage) for each test."""
    clear_origin(browser_session, static_site.base_url)
    browser_session.get_log("browser")  # drop earlier tests' console lines
    yield browser_session
    clear_origin(browser_session, static_site.base_url)


def clear_origin(driver, base_url):
    driver.get("about:blank")
    driver.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": base_url, "storageTypes": "all"})


# ---- HTTP errors fail at once ------------------------------------------------------------------
# Every nginx that serves the page (StaticNginx, conftest's Stack) registers its access log. Each
# wait reads the lines logged since the last look: a request under /app/ (the page, its scripts,
# workers and wasm, whoever fetched them) answered 4xx/5xx fails the test with the status and URL,
# instead of a timeout minutes later. /api/ errors are left to the tests: many are expected.

_access_logs = {}  # access log path -> [offset read, base URL, error log path]
_APP_ERROR = re.compile(r'"(?:GET|HEAD) (/app/\S*) HTTP/[\d.]+" ([45]\d\d) ')


def watch_access_log(path, base_url, error_log=None):
    path = pathlib.Path(path)
    _access_logs[path] = [path.stat().st_size if path.exists() else 0, base_url, error_log]


def unwatch_access_log(path):
    _access_logs.pop(pathlib.Path(path), None)


def skip_logged_requests():
    """Forgets what was logged so far (earlier tests' requests)."""
    for path, entry in _access_logs.items():
        entry[0] = path.stat().st_size if path.exists() else 0


def check_pages():
    """Fails if a request under /app/ answered an HTTP error since the last check."""
    for path, entry in _access_logs.items():
        offset, base_url, error_log = entry
        try:
            with open(path, "rb") as log:
                log.seek(offset)
                data = log.read()
        except FileNotFoundError:
            continue
        data = data[:data.rfind(b"\n") + 1]  # whole lines only
        entry[0] = offset + len(data)
        for line in data.decode(errors="replace").splitlines():
            if m := _APP_ERROR.search(line):
                hint = ""
                if error_log and pathlib.Path(error_log).exists():
                    tail = pathlib.Path(error_log).read_text(errors="replace").splitlines()[-3:]
                    hint = "\nnginx error log:\n" + "\n".join(tail)
                raise AssertionError(f"HTTP {m.group(2)} for {base_url}{m.group(1)}{hint}")


# ---- page helpers ------------------------------------------------------------------------------

def open_app(driver, base_url, query=""):
    skip_logged_requests()
    driver.get(f"{base_url}/app/{query}")
    check_pages()
    wait_until(driver, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"),
               what="the app to start")


def wait_until(driver, predicate, timeout=120, what="condition", interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_pages()
        value = predicate(driver)
        if value:
            return value
        time.sleep(interval)
    check_pages()
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def add_folder(driver, path):
    """Puts a real folder into the page through the <input webkitdirectory>."""
    driver.find_element("id", "folder-input").send_keys(str(path))


def add_files(driver, paths):
    driver.find_element("id", "files-input").send_keys("\n".join(str(p) for p in paths))


def rows(driver):
    return driver.execute_script("""
        return [...document.querySelectorAll('#files tbody tr')].map(tr => ({
            path: tr.dataset.path, sha256: tr.dataset.sha256 || null, hashState: tr.dataset.hashState,
            uploadState: tr.dataset.uploadState, engine: tr.dataset.engine || null,
            kind: tr.querySelector('.kind').textContent, upload: tr.querySelector('.upload').textContent,
            hash: tr.querySelector('.hash').textContent}));""")


def wait_hashed(driver, count, timeout=300):
    """Waits until `count` rows exist and none is still waiting or hashing."""
    def done(d):
        current = rows(d)
        busy = d.execute_script("return !document.getElementById('cancel').disabled")
        if len(current) == count and not busy and all(
                r["hashState"] in ("computed", "cached", "failed", "cancelled", "skipped") for r in current):
            return current
        return None
    return wait_until(driver, done, timeout=timeout, what=f"{count} files hashed")


def severe_console_errors(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def idb(driver, body):
    """Runs `body` (async JS with `db` opened without a version) and returns its result."""
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const request = indexedDB.open('assetdedup');
        request.onsuccess = async () => {
            const db = request.result;
            const tx = (store, mode = 'readonly') => db.transaction(store, mode).objectStore(store);
            const wrap = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
            try { done(await (async (db, tx, wrap) => { %s })(db, tx, wrap)); }
            catch (e) { done({error: String(e)}); }
            finally { db.close(); }
        };
        request.onerror = () => done({error: String(request.error)});
    """ % body)


def chromium_rss_bytes(driver):
    """Resident memory of every process under chromedriver's Chromium (renderers, workers, GPU)."""
    root = driver.service.process.pid
    children = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(pid))
        except (OSError, ValueError, IndexError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total

"""Browser test support: a real nginx serving www/app on 127.0.0.1 (unprivileged, temp paths,
stopped by PID) and real headless Chromium driven by Selenium, plus small page helpers."""
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
WWW = ROOT / "www"
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
# The policy production sets: no inline script, wasm allowed, workers from our origin only.
CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
       "style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'")


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
        self.process = subprocess.Popen(
            ["nginx", "-p", str(d), "-c", str(d / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_port(self.port)
        except RuntimeError:
            self.stop()
            raise

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
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
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_script_timeout(120)
    driver.profile_dir = profile
    return driver


def quit_driver(driver):
    driver.quit()
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


# ---- page helpers ------------------------------------------------------------------------------

def open_app(driver, base_url, query=""):
    driver.get(f"{base_url}/app/{query}")
    wait_until(driver, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"),
               what="the app to start")


def wait_until(driver, predicate, timeout=120, what="condition", interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate(driver)
        if value:
            return value
        time.sleep(interval)
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
                r["hashState"] in ("computed", "cached", "failed", "cancelled") for r in current):
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

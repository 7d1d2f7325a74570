"""What scripts/bench and scripts/bench-pg share: processes, nginx in front of a FastCGI
upstream, wrk, and a process's CPU time and memory read from /proc."""
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = ROOT / ".build/release/assetdedup"
BASELINE_SRC = ROOT.parent / "shared/bench/fcgi-hello.c"
# On PATH, or in /usr/sbin, which Debian's login PATH leaves out for users other than root.
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/local/sbin:/usr/sbin:/sbin") or "nginx"


# The benchmark executables are a package of their own, so no build of the product compiles them.
BENCHES = ROOT / "scripts/benches"


def build(*products):
    """Builds (release) what a bench is about to measure, every time, so it never times a stale
    binary: `assetdedup` from the main package, any other product from scripts/benches (which
    builds the main package's targets it uses from the same sources). A failed build prints its
    whole output (scripts/quiet) and stops the bench."""
    for product in products:
        package = [] if product == "assetdedup" else ["--package-path", str(BENCHES)]
        status = subprocess.run([str(ROOT / "scripts/quiet"), "swift", "build", "-c", "release", *package,
                                 "--product", product], cwd=ROOT).returncode
        if status != 0:
            sys.exit(f"bench: building {product} failed (exit {status}); nothing was measured")


def bench_binary(product):
    """Where `build(product)` puts a benchmark executable of scripts/benches."""
    return BENCHES / ".build/release" / product


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def wait_for(path, timeout=15):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            sys.exit(f"bench: {path} did not appear")
        time.sleep(0.05)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nginx(work, name, upstream_sock, www, buffering=True, more_socks=()):
    """nginx in front of `upstream_sock`, with `more_socks` as further nodes of the same upstream
    (`nginx-config --fastcgi` once per node, as the README's "Several nodes" runs them)."""
    prefix = work / f"nginx-{name}"
    prefix.mkdir(exist_ok=True)
    port = free_port()
    nodes = [arg for sock in (upstream_sock, *more_socks) for arg in ("--fastcgi", f"unix:{sock}")]
    conf = sh(str(BIN), "nginx-config", "--listen", f"127.0.0.1:{port}", *nodes,
              "--www", str(www), "--prefix", str(prefix), "--access-log", "off",
              "--template", str(ROOT / "templates/nginx.conf.mustache"))
    if not buffering:
        # The C baseline streams bodies through the socket as they arrive (the unbuffered figure
        # the app's upload is measured against).
        conf = conf.replace("fastcgi_request_buffering on;", "fastcgi_request_buffering off;")
    (prefix / "nginx.conf").write_text(conf)
    proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"])
    wait_for_port(port, proc)
    return proc, f"http://127.0.0.1:{port}"


def wait_for_port(port, proc, timeout=30):
    """Until something accepts on 127.0.0.1:`port` (nginx is listening), or `proc` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"nginx exited ({proc.returncode}) before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def wrk(url, seconds, script=None):
    args = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"]
    if script:
        args += ["-s", str(script)]
    out = sh(*args, url)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups() for p in ("50", "99")}
    to_ms = lambda v, u: float(v) / 1000 if u == "us" else float(v) * (1000 if u == "s" else 1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, to_ms(*lat["50"]), to_ms(*lat["99"]), int(errors.group(1)) if errors else 0


def cpu_seconds(pid):
    """utime + stime of a process: CPU it used, whatever else loads the machine."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def rss_mib(pid):
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024

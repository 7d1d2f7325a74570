"""What the tus and interop tests share: a TCP proxy in front of the stack's nginx that counts
the bytes clients send and can cut, stall or corrupt that stream at a chosen byte; a plain
`requests` client for raw tus 1.0.0 requests; Upload-Metadata encoding; making an upload expire.

The clients under test (tuspy, aiotus, resumable-upload) talk to the proxy's URL: the server
builds its absolute `Location` from the `Host` the client used, so every later request goes
through the proxy too (`assert_through`)."""
import base64
import hashlib
import re
import socket
import threading
import urllib.parse

import requests

from conftest import wait_until

TUS = {"Tus-Resumable": "1.0.0"}
UPLOAD_URL = re.compile(r"^http://127\.0\.0\.1:(\d+)/api/v1/tus/([0-9a-f]{32})$")


def sha(data):
    return hashlib.sha256(data).hexdigest()


def b64(data):
    return base64.b64encode(data).decode()


def metadata(**values):
    """An Upload-Metadata value: `key base64(value)` pairs, comma-separated; None gives a bare key."""
    return ",".join(k if v is None else f"{k} {b64(v.encode() if isinstance(v, str) else v)}"
                    for k, v in values.items())


def parse_metadata(header):
    out = {}
    for pair in filter(None, (p.strip() for p in (header or "").split(","))):
        key, _, value = pair.partition(" ")
        out[key] = base64.b64decode(value).decode() if value else None
    return out


def upload_id(url):
    return urllib.parse.urlsplit(url).path.rsplit("/", 1)[1]


def assert_upload_url(url, port):
    """An absolute upload URL on the host and port the client used (aiotus cannot follow a
    relative one; a proxy in front must stay in the path)."""
    match = UPLOAD_URL.match(url or "")
    assert match, f"not an absolute /api/v1/tus/{{32 hex}} URL: {url!r}"
    assert int(match.group(1)) == port, f"{url} is not on port {port}, the one the client used"
    return match.group(2)


class Proxy:
    """A TCP proxy on 127.0.0.1 in front of `port`. `sent` counts the bytes clients sent (since
    `reset`). One rule at a time acts on the client-to-server stream at byte `position` of that
    count: `cut_at` forwards exactly that many bytes, then closes both sides; `stall_at` forwards
    them and then holds the connection open, reading nothing more from the client and passing
    nothing back to it (nginx may answer early: 503 when the app dies under its auth
    subrequest), until `release()` closes it; `corrupt_at` flips that one byte. Each returns an
    Event set once the rule has acted."""

    def __init__(self, port):
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.sent = 0
        self.rule = None
        self.released = threading.Event()
        self.sockets = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self):
        with self.lock:
            self.sent = 0

    def _arm(self, kind, position):
        event = threading.Event()
        with self.lock:
            assert self.rule is None, "one rule at a time"
            self.rule = (kind, self.sent + position, event)
        return event

    def cut_at(self, position):
        return self._arm("cut", position)

    def stall_at(self, position):
        self.released.clear()
        return self._arm("stall", position)

    def corrupt_at(self, position):
        return self._arm("corrupt", position)

    def release(self):
        self.released.set()

    def close(self):
        self.closed = True
        self.released.set()
        self.listener.close()
        for s in list(self.sockets):
            _close(s)

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                _close(client)
                continue
            self.sockets += [client, server]
            stalled = threading.Event()  # this connection's stall: nothing flows either way
            threading.Thread(target=self._upstream, args=(client, server, stalled), daemon=True).start()
            threading.Thread(target=self._downstream, args=(server, client, stalled), daemon=True).start()

    def _upstream(self, client, server, stalled):
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                kind = event = None
                with self.lock:
                    start, end = self.sent, self.sent + len(data)
                    if self.rule and start <= self.rule[1] < end:
                        kind, position, event = self.rule
                        self.rule = None
                        at = position - start
                        if kind == "corrupt":
                            data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]
                        else:
                            data, end = data[:at], position
                    self.sent = end
                if kind == "stall":
                    stalled.set()
                if data:
                    server.sendall(data)
                if event:
                    event.set()
                    if kind == "stall":
                        self.released.wait()
                    if kind in ("cut", "stall"):
                        break
        except OSError:
            pass
        finally:
            _close(client)
            _close(server)

    def _downstream(self, server, client, stalled):
        try:
            while True:
                data = server.recv(65536)
                if stalled.is_set():
                    self.released.wait()
                    break
                if not data:
                    break
                client.sendall(data)
        except OSError:
            pass
        finally:
            _close(client)
            _close(server)


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class RawTus:
    """tus 1.0.0 requests with `requests`, the token and `Tus-Resumable` on each (unless given
    `tus=False`); `base` is the URL requests go to (the stack's nginx, or a proxy)."""

    def __init__(self, base, token):
        self.base, self.token = base, token
        self.endpoint = base + "/api/v1/tus"

    def headers(self, extra=None, tus=True, token=None):
        headers = {"Authorization": f"Bearer {token or self.token}"} if (token or self.token) else {}
        if tus:
            headers.update(TUS)
        headers.update(extra or {})
        return headers

    def request(self, method, url, body=None, headers=None, tus=True, token=None):
        return requests.request(method, url, data=body, headers=self.headers(headers, tus, token),
                                timeout=120, allow_redirects=False)

    def create(self, length=None, meta=None, body=None, headers=None, **kwargs):
        extra = {}
        if length is not None:
            extra["Upload-Length"] = str(length)
        if meta is not None:
            extra["Upload-Metadata"] = meta
        if body is not None:
            extra["Content-Type"] = "application/offset+octet-stream"
        extra.update(headers or {})
        return self.request("POST", self.endpoint, body, extra, **kwargs)

    def head(self, url, **kwargs):
        return self.request("HEAD", url, **kwargs)

    def patch(self, url, offset, data, checksum=None, headers=None, **kwargs):
        extra = {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        if checksum:
            extra["Upload-Checksum"] = checksum
        extra.update(headers or {})
        return self.request("PATCH", url, data, extra, **kwargs)

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def delete(self, url, **kwargs):
        return self.request("DELETE", url, **kwargs)

    def offset(self, url):
        r = self.head(url)
        assert r.status_code in (200, 204), (r.status_code, r.text)
        return int(r.headers["Upload-Offset"])


def checksum(algorithm, data):
    return f"{algorithm} {b64(hashlib.new(algorithm, data).digest())}"


def expire(stack, url):
    """Makes an upload idle past `--upload-expiry-hours` and restarts the app, which sweeps
    expired uploads at start (as test_resumable.py's expiry test does)."""
    uid = upload_id(url)
    assert stack.sql("SELECT count(*) FROM upload_sessions WHERE id = ?", uid) == [(1,)], \
        f"upload {uid} has no upload_sessions row to age"
    stack.sql("UPDATE upload_sessions SET updated_at = '2000-01-01T00:00:00.000Z' WHERE id = ?", uid)
    stack.stop_app()
    stack.start_app()
    wait_until(stack._healthy, what="the app again")


def restart_after_kill_9(stack):
    import signal

    stack.stop_app(signal.SIGKILL)
    stack.start_app()
    wait_until(stack._healthy, what="the app again")

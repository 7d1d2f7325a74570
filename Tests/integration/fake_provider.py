#!/usr/bin/env python3
"""A small HTTP provider for tests: takes uploads (multipart POST or raw PUT) on 127.0.0.1,
hashes what arrives while streaming it (never holds a file in memory), logs every upload, and
answers as it is told.

Answers, per upload request, in order: the `--script` list first, then `--mode` for the rest.
    ok          200 {"id": "fp-N", "data": {"id": "fp-N"}}
    500 / 503   that status with a JSON error
    429         429 with `Retry-After: <--retry-after>`
    400         400 whose body echoes the request headers (a careless provider)
    malformed   200 with a body that is not JSON
    hang        read the body, then answer nothing for `--hang` seconds, or until /_control
                switches the mode away from hang: the request is then answered as the new mode says
    drop        read the body, then close the connection without an answer
    slow        wait `--delay` seconds, then answer like ok

Idempotency: an upload whose `Idempotency-Key` was answered with an id before gets that id
again (200), is logged with `"replay": true` and is not stored again; only answers are stored,
so a key whose first request hung or failed is stored by its first successful request.

Presence (`presence_url`): HEAD /copies/<id> is 200 for an id it answered and has not been told
to forget, else 404; in hang mode it hangs like an upload (released the same way).

Control (JSON): GET /_stats -> {"requests": [...], "hanging": n, "stored": n}; POST /_control
{"mode", "script", "retry_after", "hang", "delay", "forget": [ids]} changes the answers (and releases hanging
requests when the mode is no longer hang); POST /_reset clears the log.
It prints `PORT <n>` on stdout once listening; `--log FILE` also appends one JSON line per upload.
"""
import argparse
import hashlib
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.keys = {}
        self.hanging = 0
        self.mode = args.mode
        self.script = [s for s in (args.script or "").split(",") if s]
        self.retry_after = args.retry_after
        self.hang = args.hang
        self.delay = args.delay
        self.requests = []
        self.ids = set()
        self.log_path = args.log

    def next_answer(self):
        with self.lock:
            return self.script.pop(0) if self.script else self.mode

    def store(self, entry, key):
        """The id for an ok answer: a new one, or the first one for a key seen before (a replay)."""
        with self.lock:
            if key and key in self.keys:
                entry["replay"] = True
                entry["id"] = self.keys[key]
            else:
                entry["id"] = f"fp-{entry['n']}"
                self.ids.add(entry["id"])
                if key:
                    self.keys[key] = entry["id"]
            return entry["id"]

    def hang_until_released(self):
        """Waits until the mode is no longer hang (True) or `hang` seconds pass (False)."""
        with self.lock:
            self.hanging += 1
            try:
                return self.changed.wait_for(lambda: self.mode != "hang", timeout=self.hang)
            finally:
                self.hanging -= 1

    def record(self, entry):
        with self.lock:
            entry["n"] = len(self.requests) + 1
            self.requests.append(entry)
            if self.log_path:
                with open(self.log_path, "a") as log:
                    log.write(json.dumps(entry) + "\n")
            return entry["n"]


class MultipartHasher:
    """Streaming multipart/form-data parser: per part its headers, size and sha256."""

    def __init__(self, boundary):
        self.delim = b"--" + boundary
        self.buf = b""
        self.state = "preamble"
        self.parts = []
        self.part = None

    def feed(self, chunk):
        self.buf += chunk
        while True:
            if self.state == "preamble":
                i = self.buf.find(self.delim)
                if i < 0:
                    self.buf = self.buf[-len(self.delim):]
                    return
                self.buf = self.buf[i + len(self.delim):]
                self.state = "after_delim"
            elif self.state == "after_delim":
                if len(self.buf) < 2:
                    return
                if self.buf[:2] == b"--":
                    self.state = "done"
                    return
                self.buf = self.buf[2:]
                self.state = "headers"
            elif self.state == "headers":
                i = self.buf.find(b"\r\n\r\n")
                if i < 0:
                    return
                headers = {}
                for line in self.buf[:i].decode("utf-8", "replace").split("\r\n"):
                    key, _, value = line.partition(":")
                    headers[key.strip().lower()] = value.strip()
                disposition = headers.get("content-disposition", "")
                params = {}
                for item in disposition.split(";")[1:]:
                    k, _, v = item.strip().partition("=")
                    params[k] = v.strip('"')
                self.part = {"name": params.get("name"), "filename": params.get("filename"),
                             "content_type": headers.get("content-type"), "size": 0,
                             "hasher": hashlib.sha256(), "value": b""}
                self.buf = self.buf[i + 4:]
                self.state = "data"
            elif self.state == "data":
                end = b"\r\n" + self.delim
                i = self.buf.find(end)
                if i < 0:
                    keep = len(end)
                    self._emit(self.buf[:-keep] if len(self.buf) > keep else b"")
                    self.buf = self.buf[-keep:] if len(self.buf) > keep else self.buf
                    return
                self._emit(self.buf[:i])
                part = self.part
                part["sha256"] = part.pop("hasher").hexdigest()
                part["value"] = part["value"].decode("utf-8", "replace") if part["filename"] is None else None
                self.parts.append(part)
                self.buf = self.buf[i + len(end):]
                self.state = "after_delim"
            else:
                return

    def _emit(self, data):
        if not data:
            return
        self.part["size"] += len(data)
        self.part["hasher"].update(data)
        if self.part["filename"] is None and len(self.part["value"]) < 4096:
            self.part["value"] += data[:4096]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeProvider/1"

    def log_message(self, *args):
        pass

    def _json(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _body_chunks(self):
        """The request body as chunks, from Content-Length or chunked encoding."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return
                remaining = size
                while remaining:
                    chunk = self.rfile.read(min(remaining, 1 << 16))
                    if not chunk:
                        return
                    remaining -= len(chunk)
                    yield chunk
                self.rfile.readline()
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk

    def do_GET(self):
        if self.path == "/_stats":
            with STATE.lock:
                stored = sum(1 for r in STATE.requests if "id" in r and not r.get("replay"))
                return self._json(200, {"requests": list(STATE.requests), "hanging": STATE.hanging,
                                        "stored": stored})
        return self._json(200, {"ok": True})

    def do_HEAD(self):
        if self.path.startswith("/copies/"):
            if STATE.mode == "hang" and not STATE.hang_until_released():
                return
            with STATE.lock:
                held = self.path[len("/copies/"):] in STATE.ids
            self.send_response(200 if held else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_PUT(self):
        self.do_POST()

    def do_POST(self):
        if self.path == "/_control":
            body = json.loads(b"".join(self._body_chunks()) or b"{}")
            with STATE.lock:
                STATE.mode = body.get("mode", STATE.mode)
                STATE.script = list(body.get("script", STATE.script))
                STATE.retry_after = body.get("retry_after", STATE.retry_after)
                STATE.hang = body.get("hang", STATE.hang)
                STATE.delay = body.get("delay", STATE.delay)
                STATE.ids.difference_update(body.get("forget", []))
                STATE.changed.notify_all()
            return self._json(200, {"ok": True})
        if self.path == "/_reset":
            list(self._body_chunks())
            with STATE.lock:
                STATE.requests.clear()
            return self._json(200, {"ok": True})
        self._upload()

    def _upload(self):
        started = time.time()
        content_type = self.headers.get("Content-Type", "")
        entry = {"method": self.command, "path": self.path, "time": started,
                 "headers": {k: v for k, v in self.headers.items()}, "content_type": content_type}
        size, hasher = 0, hashlib.sha256()
        parser = None
        if content_type.startswith("multipart/form-data"):
            boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
            parser = MultipartHasher(boundary)
        for chunk in self._body_chunks():
            size += len(chunk)
            if parser:
                parser.feed(chunk)
            else:
                hasher.update(chunk)
        entry["bytes"] = size
        if parser:
            entry["parts"] = parser.parts
            files = [p for p in parser.parts if p["filename"] is not None]
            entry["sha256"] = files[0]["sha256"] if files else None
            entry["file_size"] = files[0]["size"] if files else None
            entry["filename"] = files[0]["filename"] if files else None
            entry["complete"] = parser.state == "done"
        else:
            entry["sha256"] = hasher.hexdigest()
            entry["file_size"] = size
            entry["complete"] = size == int(self.headers.get("Content-Length") or size)
        key = self.headers.get("Idempotency-Key")
        entry["idempotency_key"] = key
        with STATE.lock:
            replay = key is not None and key in STATE.keys
        answer = "ok" if replay else STATE.next_answer()
        entry["answer"] = answer
        entry["received_at"] = time.time()
        STATE.record(entry)
        if answer == "hang":
            if not STATE.hang_until_released():
                self.close_connection = True
                return None
            answer = STATE.next_answer()
            entry["answer"] = answer
            entry["released"] = True
        try:
            return self._answer(answer, entry, key)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (killed); what was stored stays
            return None

    def _answer(self, answer, entry, key):
        if answer == "ok" or answer == "slow":
            if answer == "slow":
                time.sleep(STATE.delay)
            pid = STATE.store(entry, key)
            return self._json(200, {"id": pid, "data": {"id": pid, "sha256": entry["sha256"]}})
        if answer in ("500", "503"):
            return self._json(int(answer), {"error": "provider is having a bad day"})
        if answer == "429":
            return self._json(429, {"error": "slow down"}, [("Retry-After", str(STATE.retry_after))])
        if answer == "400":
            return self._json(400, {"error": "bad request", "echo": entry["headers"]})
        if answer == "malformed":
            data = b"<html>this is not json"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        if answer == "hang":  # released into hang again: nothing more to say
            self.close_connection = True
            return None
        if answer == "drop":
            self.close_connection = True
            return None
        return self._json(500, {"error": f"fake_provider: unknown answer {answer}"})


def main():
    global STATE
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", default="ok")
    parser.add_argument("--script", default="")
    parser.add_argument("--retry-after", type=int, default=1)
    parser.add_argument("--hang", type=float, default=30)
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--log")
    args = parser.parse_args()
    # A parent may start us with signals blocked (the mask survives exec); stop on TERM/INT.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    STATE = State(args)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())

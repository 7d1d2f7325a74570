"""An in-process stand-in for the parts of the AssetDedup API the browser client's upload flow
talks to, for tests that need answers the real server gives only under faults: resumable uploads
(draft-ietf-httpbis-resumable-upload-15: POST/HEAD/PATCH/DELETE /api/v1/uploads), adding a held
asset to a provider (POST /api/v1/assets/{id}/providers, 200 or 202 "queued"), the batch check
the provider list, single multipart uploads (POST /api/v1/assets/upload) and the near-duplicate
query (POST /api/v1/assets/similar: 404 until a test sets `similar`). It keeps every upload's bytes in memory (tests send a few MiB) and logs
each request with its body size, so a test can count the bytes the browser sent.

Faults, set by the test: `script` answers the next PATCHes in order ("drop": read the body, keep
none of it and close without an answer; "409": answer an offset mismatch; "404": forget the
upload; "503"; "422": refuse the content (sha256_mismatch); "lose": complete the upload but close without the answer, which a later PATCH
gets once, then 400 completed-upload), and `hold_from` makes a PATCH at or past that offset wait (after its body was
read, before it is applied) until `release()`; `held` is set while one waits. `hold_answers` makes a
multipart upload wait the same way after its whole body was read (the server still working)."""
import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PROVIDERS = ["alpha", "beta"]


class FakeUploadAPI:
    def __init__(self, port):
        self.lock = threading.Lock()
        self.assets = {}  # sha256 hex -> {"id", "providers": [...], "size", "data"}
        self.uploads = {}  # id -> {"provider", "filename", "length", "digest", "data", "complete"}
        self.requests = []  # {"method", "path", "status", "body", "offset", "complete"}
        self.script = []
        self.add_provider_status = 200
        self.hold_from = None
        self.hold_answers = False
        self.held = threading.Event()
        self.gate = threading.Event()
        self.next_id = 1
        # POST /assets/similar: None answers 404 (a server without it), else a function of the
        # perceptual hash returning the `similar` list, or an int status to answer with.
        self.similar = None
        self.similar_queries = []  # the perceptual hashes asked about, in order
        self.similar_on_upload = []  # `similar` in the answer to a multipart upload
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.handle(self, "GET")

            def do_POST(self):
                fake.handle(self, "POST")

            def do_HEAD(self):
                fake.handle(self, "HEAD")

            def do_PATCH(self):
                fake.handle(self, "PATCH")

            def do_DELETE(self):
                fake.handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()

    def release(self):
        self.hold_from = None
        self.hold_answers = False
        self.gate.set()

    # ---- helpers for tests ---------------------------------------------------------------------

    def seed_asset(self, data, providers):
        with self.lock:
            sha = hashlib.sha256(data).hexdigest()
            self.assets[sha] = {"id": self.next_id, "providers": list(providers), "size": len(data), "data": data}
            self.next_id += 1
            return self.assets[sha]["id"]

    def log(self, method=None, path_prefix="/api/v1/"):
        with self.lock:
            return [r for r in self.requests
                    if (method is None or r["method"] == method) and r["path"].startswith(path_prefix)]

    def upload_offset(self):
        """The offset of the one upload in progress (0 when none)."""
        with self.lock:
            return max((len(u["data"]) for u in self.uploads.values()), default=0)

    # ---- the API -------------------------------------------------------------------------------

    def handle(self, req, method):
        url = urlsplit(req.path)
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        entry = {"method": method, "path": url.path, "body": len(body),
                 "offset": req.headers.get("Upload-Offset"), "complete": req.headers.get("Upload-Complete")}
        with self.lock:
            self.requests.append(entry)
        if req.headers.get("Authorization", "") in ("", "Bearer bad"):
            return self.reply(req, entry, 401, {"error": {"code": "unauthorized", "message": "bad token"}})
        path = url.path
        if path == "/api/v1/providers" and method == "GET":
            return self.reply(req, entry, 200, {"providers": [{"id": p, "kind": "directory"} for p in PROVIDERS]})
        if path == "/api/v1/assets/check-by-hash/batch" and method == "POST":
            items = json.loads(body)["items"]
            with self.lock:
                results = []
                for item in items:
                    asset = self.assets.get(item["sha256"])
                    results.append({"sha256": item["sha256"], "exists": asset is not None,
                                    "asset_id": asset and asset["id"], "provider_id": item.get("provider_id"),
                                    "uploaded_to_providers": asset["providers"] if asset else [], "note": ""})
            return self.reply(req, entry, 200, {"results": results})
        match = re.fullmatch(r"/api/v1/assets/(\d+)/providers", path)
        if match and method == "POST":
            return self.add_provider(req, entry, int(match.group(1)), json.loads(body)["provider_id"])
        if path == "/api/v1/uploads" and method == "POST":
            return self.create(req, entry, parse_qs(url.query))
        if path == "/api/v1/assets/similar" and method == "POST" and self.similar is not None:
            phash = json.loads(body)["perceptual_hash"]
            with self.lock:
                self.similar_queries.append(phash)
            answer = self.similar(phash)
            if isinstance(answer, int):
                return self.reply(req, entry, answer, {"error": {"code": f"http_{answer}", "message": "scripted"}})
            return self.reply(req, entry, 200, {"similar": answer, "threshold": 10})
        if path == "/api/v1/assets/upload" and method == "POST":
            return self.upload(req, entry, body)
        match = re.fullmatch(r"/api/v1/uploads/(\d+)", path)
        if match:
            return self.resource(req, entry, method, int(match.group(1)), body)
        return self.reply(req, entry, 404, {"error": {"code": "not_found", "message": "no such endpoint"}})

    def answer_for(self, asset, provider, status):
        return {"asset_id": asset["id"], "sha256": hashlib.sha256(asset["data"]).hexdigest(), "status": status,
                "provider_id": provider, "provider_asset_id": f"fake-{asset['id']}",
                "uploaded_to_providers": list(asset["providers"]), "note": ""}

    def add_provider(self, req, entry, asset_id, provider):
        with self.lock:
            asset = next((a for a in self.assets.values() if a["id"] == asset_id), None)
            if asset is None:
                return self.reply(req, entry, 404, {"error": {"code": "asset_not_found", "message": "no such asset"}})
            if provider in asset["providers"]:
                return self.reply(req, entry, 200, self.answer_for(asset, provider, "reused"))
            if self.add_provider_status == 202:
                return self.reply(req, entry, 202, self.answer_for(asset, provider, "queued"))
            asset["providers"].append(provider)
            return self.reply(req, entry, 200, self.answer_for(asset, provider, "added_provider"))

    def upload(self, req, entry, body):
        from email.parser import BytesParser
        from email.policy import HTTP

        if self.hold_answers:
            self.held.set()
            self.gate.wait()

        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + req.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
        fields = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
        provider = fields["provider_id"].get_content().strip()
        data = fields["file"].get_payload(decode=True)
        sha = hashlib.sha256(data).hexdigest()
        with self.lock:
            asset = self.assets.get(sha)
            created = asset is None
            if created:
                asset = {"id": self.next_id, "providers": [], "size": len(data), "data": data,
                         "filename": fields["file"].get_filename()}
                self.next_id += 1
                self.assets[sha] = asset
            if provider not in asset["providers"]:
                asset["providers"].append(provider)
            answer = self.answer_for(asset, provider, "created" if created else "added_provider")
            answer["similar"] = self.similar_on_upload
            return self.reply(req, entry, 201 if created else 200, answer)

    def create(self, req, entry, query):
        provider = query["provider_id"][0]
        digest = re.fullmatch(r"sha-256=:([A-Za-z0-9+/=]+):", req.headers.get("Repr-Digest", "").strip())
        if req.headers.get("Upload-Complete") != "?0" or not digest or not req.headers.get("Upload-Length"):
            return self.reply(req, entry, 400, {"error": {"code": "bad_request", "message": "missing headers"}})
        sha = base64.b64decode(digest.group(1)).hex()
        with self.lock:
            asset = self.assets.get(sha)
            if asset is not None:
                status = "reused" if provider in asset["providers"] else "added_provider"
                if status == "added_provider":
                    asset["providers"].append(provider)
                return self.reply(req, entry, 200, self.answer_for(asset, provider, status))
            upload_id = self.next_id
            self.next_id += 1
            self.uploads[upload_id] = {"provider": provider, "filename": query.get("filename", [""])[0],
                                       "length": int(req.headers["Upload-Length"]), "digest": sha,
                                       "data": bytearray(), "complete": False}
        return self.reply(req, entry, 201, None, {"Location": f"/api/v1/uploads/{upload_id}", "Upload-Offset": "0"})

    def resource(self, req, entry, method, upload_id, body):
        with self.lock:
            upload = self.uploads.get(upload_id)
        if upload is None:
            return self.reply(req, entry, 404, {"error": {"code": "upload_not_found", "message": "gone"}})
        if method == "HEAD":
            return self.reply(req, entry, 204, None, {
                "Upload-Offset": str(len(upload["data"])), "Upload-Length": str(upload["length"]),
                "Upload-Complete": "?1" if upload["complete"] else "?0"})
        if method == "DELETE":
            with self.lock:
                self.uploads.pop(upload_id, None)
            return self.reply(req, entry, 204, None)
        if method != "PATCH":
            return self.reply(req, entry, 405, {"error": {"code": "method_not_allowed", "message": method}})
        offset = int(req.headers.get("Upload-Offset", "-1"))
        if upload["complete"]:
            with self.lock:
                lost, upload["answer"] = upload.get("answer"), None
            if lost:
                return self.reply(req, entry, *lost)
            return self.reply(req, entry, 400, {"type": "https://iana.org/assignments/http-problem-types#completed-upload",
                                                "title": "the upload is already complete"},
                              content_type="application/problem+json")
        if self.hold_from is not None and offset >= self.hold_from:
            self.held.set()
            self.gate.wait()
            return self.drop(req, entry)  # the client left meanwhile: nothing kept
        with self.lock:
            action = self.script.pop(0) if self.script else None
        if action == "drop":
            return self.drop(req, entry)
        if action == "422":
            return self.reply(req, entry, 422, {"error": {"code": "sha256_mismatch", "message": "the file's sha256 is not the one promised"}})
        if action == "503":
            return self.reply(req, entry, 503, {"error": {"code": "unavailable", "message": "busy", "retryable": True}})
        if action == "404":
            with self.lock:
                self.uploads.pop(upload_id, None)
            return self.reply(req, entry, 404, {"error": {"code": "upload_not_found", "message": "expired"}})
        if action == "409" or offset != len(upload["data"]):
            return self.reply(req, entry, 409, {"type": "https://iana.org/assignments/http-problem-types#mismatching-upload-offset",
                                                "title": "offset from request does not match offset of resource",
                                                "expected-offset": len(upload["data"]), "provided-offset": offset},
                              content_type="application/problem+json")
        with self.lock:
            upload["data"] += body
            if req.headers.get("Upload-Complete") != "?1":
                return self.reply(req, entry, 204, None, {"Upload-Offset": str(len(upload["data"]))})
            upload["complete"] = True
            data = bytes(upload["data"])
            sha = hashlib.sha256(data).hexdigest()
            if sha != upload["digest"] or len(data) != upload["length"]:
                return self.reply(req, entry, 422, {"error": {"code": "sha256_mismatch", "message": "not the promised file"}})
            asset = self.assets.get(sha)
            created = asset is None
            if created:
                asset = {"id": self.next_id, "providers": [], "size": len(data), "data": data}
                self.next_id += 1
                self.assets[sha] = asset
            asset["providers"].append(upload["provider"])
            answer = (201 if created else 200,
                      self.answer_for(asset, upload["provider"], "created" if created else "added_provider"))
            if action == "lose":
                upload["answer"] = answer
            else:
                self.uploads.pop(upload_id, None)
        if action == "lose":
            return self.drop(req, entry)
        return self.reply(req, entry, *answer)

    def drop(self, req, entry):
        entry["status"] = "dropped"
        req.close_connection = True
        try:
            req.connection.shutdown(2)
        except OSError:
            pass

    def reply(self, req, entry, status, body, headers=None, content_type="application/json"):
        entry["status"] = status
        data = b"" if body is None else json.dumps(body).encode()
        req.send_response(status)
        for name, value in (headers or {}).items():
            req.send_header(name, value)
        if body is not None:
            req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        if req.command != "HEAD":
            req.wfile.write(data)

"""The older resumable-upload drafts on `/api/v1/uploads`, chosen by `Upload-Draft-Interop-Version`:
3 (draft -01, `Upload-Incomplete`), 4 (-02, `Upload-Complete`), 5 (-03), 6 (-04/-05,
`Content-Type: application/partial-upload` on PATCH), 8 (-09..-11). Raw request sequences
modelled on swift-nio-extras' NIOResumableUpload tests (Tests/NIOResumableUploadTests/
NIOResumableUploadTests.swift at 1.35.2: the "Chunked" and "Uninterrupted" sequences, and
the HEAD sent in interop version 3 on a version 5/6 upload of the "Interrupted" ones), plus
tus-js-client's `ietf-draft-03` (5) and `ietf-draft-05` (6) sequences (lib/upload.ts). What each
draft requires, with the file that says so, is in /work/notes/clients.md.

No 104 comes through nginx/FastCGI, and nginx hands the app only whole request bodies, so the
"Interrupted" sequences (a creation cut mid-body, then resumed) cannot happen here as written."""
import json
import os
import re
import urllib.parse

import pytest

from test_resumable import Client, assert_asset, sha
from tus_support import restart_after_kill_9

VERSIONS = [3, 4, 5, 6, 8]
UPLOAD_PATH = re.compile(r"^/api/v1/uploads/[0-9a-f]{32}$")


def flag(version, complete):
    """The completeness field of `version`, as the client sends it."""
    if version == 3:
        return {"Upload-Incomplete": "?0" if complete else "?1"}
    return {"Upload-Complete": "?1" if complete else "?0"}


def complete_in(version, headers):
    """What an answer's completeness field says, read in `version`'s vocabulary."""
    if version == 3:
        return {"?0": True, "?1": False}[headers["upload-incomplete"]]
    return {"?1": True, "?0": False}[headers["upload-complete"]]


class Interop:
    """One interop version's requests (test_resumable.Client underneath: answers are
    (status, lower-case headers, body))."""

    def __init__(self, client, version):
        self.client, self.version = client, version

    def headers(self, version=None, **extra):
        return {"Upload-Draft-Interop-Version": str(version or self.version), **extra}

    def create(self, first, complete, total=None, filename="clip.bin", provider="pixverse", extra=None):
        headers = self.headers(**flag(self.version, complete))
        if total is not None and self.version >= 5:  # as NIO's v5/v6 tests and tus-js-client send it
            headers["Upload-Length"] = str(total)
        headers.update(extra or {})
        query = urllib.parse.urlencode({"provider_id": provider, "filename": filename})
        return self.client.request("POST", f"/api/v1/uploads?{query}", first, headers)

    def head(self, path, version=None):
        return self.client.request("HEAD", path, b"", self.headers(version))

    def append(self, path, offset, data, complete, total=None, content_type=True):
        headers = self.headers(**flag(self.version, complete), **{"Upload-Offset": str(offset)})
        if content_type and self.version >= 6:
            headers["Content-Type"] = "application/partial-upload"
        if complete and total is not None and self.version >= 5:
            headers["Upload-Length"] = str(total)
        return self.client.request("PATCH", path, data, headers)

    def delete(self, path):
        return self.client.request("DELETE", path, b"", self.headers())


def path_of(location):
    path = urllib.parse.urlsplit(location).path
    assert UPLOAD_PATH.match(path), location
    return path


def incomplete_append_status(version):
    """Drafts -01..-05 (interop 3-6): an append that leaves the upload incomplete MUST be
    answered 201 (draft -01: "MUST acknowledge it by responding with the 201 (Created) status
    code"; the same in -02 and -04; NIO's incompleteResponse is 201). From -09 (8) any 2xx."""
    return (201,) if version <= 6 else (200, 201, 204)


def head_statuses(version):
    """HEAD: 204 in -01/-02 (3, 4); 204 or 200 from -03 (5) on."""
    return (204,) if version <= 4 else (200, 204)


def asset_answer(status, body, content, statuses=("created",)):
    assert 200 <= status < 300 and status != 204, (status, body[:500])
    answer = json.loads(body)
    assert (answer["sha256"], answer["size"], answer["status"] in statuses) == (sha(content), len(content), True), answer
    return answer


@pytest.fixture
def client(stack):
    return Client(stack, stack.add_user("alice"))


@pytest.mark.parametrize("version", VERSIONS)
def test_chunked_upload(stack, client, version):
    """NIO testResumableUploadChunkedV3/V5/V6: create with the first bytes and the upload
    marked incomplete, HEAD, append the rest and complete; here with one more incomplete
    append in between and a wrong offset."""
    ietf = Interop(client, version)
    content = os.urandom(3 << 20)
    status, headers, body = ietf.create(content[:1 << 20], complete=False, total=len(content), filename="v.mp4")
    assert status == 201, body
    path = path_of(headers["location"])
    assert headers["upload-offset"] == str(1 << 20) and complete_in(version, headers) is False
    if version >= 8:
        assert "max-size=" in headers["upload-limit"]
    status, headers, body = ietf.head(path)
    assert status in head_statuses(version) and body == b""
    assert headers["upload-offset"] == str(1 << 20) and complete_in(version, headers) is False
    assert headers["cache-control"] == "no-store"
    if version >= 8:
        assert headers["upload-length"] == str(len(content)) and "upload-limit" in headers
    status, headers, body = ietf.append(path, 1 << 20, content[1 << 20:2 << 20], complete=False)
    assert status in incomplete_append_status(version), (status, body)
    assert headers["upload-offset"] == str(2 << 20) and complete_in(version, headers) is False
    status, headers, body = ietf.append(path, (2 << 20) - 1, content[(2 << 20) - 1:], complete=True, total=len(content))
    assert status == 409 and headers["upload-offset"] == str(2 << 20), (status, body)
    status, headers, body = ietf.append(path, 2 << 20, content[2 << 20:], complete=True, total=len(content))
    assert status == 201, body
    asset_answer(status, body, content)
    status, headers, _ = ietf.head(path)
    assert headers["upload-offset"] == str(len(content)) and complete_in(version, headers) is True
    assert_asset(stack, content, "v.mp4")


@pytest.mark.parametrize("version", VERSIONS)
def test_single_request_upload(stack, client, version):
    """NIO testResumableUploadUninterruptedV3/V5/V6: one POST, marked complete, with all bytes."""
    content = os.urandom(200_000)
    status, headers, body = Interop(client, version).create(content, complete=True, total=len(content))
    assert status == 201, body
    asset_answer(status, body, content)
    assert_asset(stack, content)


@pytest.mark.parametrize("version", [5, 6, 8])
def test_head_in_another_interop_version(stack, client, version):
    """NIO's Interrupted tests ask HEAD in interop version 3 about uploads made in 5 and 6: the
    answer speaks the version of the HEAD request."""
    content = os.urandom(100_000)
    status, headers, _ = Interop(client, version).create(content[:1000], complete=False, total=len(content))
    path = path_of(headers["location"])
    v3 = Interop(client, 3)
    status, headers, _ = v3.head(path)
    assert status == 204 and headers["upload-offset"] == "1000" and headers["upload-incomplete"] == "?1"
    status, headers, _ = Interop(client, 8).head(path)
    assert status in (200, 204) and headers["upload-complete"] == "?0"
    # and without the header: the -15 endpoint as before.
    status, headers, _ = client.head(path)
    assert status == 204 and headers["upload-complete"] == "?0" and headers["upload-offset"] == "1000"
    status, headers, body = v3.append(path, 1000, content[1000:], complete=True)
    asset_answer(status, body, content)
    assert_asset(stack, content)


@pytest.mark.parametrize("version", VERSIONS)
def test_patch_content_type(stack, client, version):
    """Drafts -01..-03 (3-5) put no rule on the PATCH media type (NIO's v3/v5 tests send none,
    tus-js-client's ietf-draft-03 sends none); from -04 (6) it must be application/partial-upload
    (NIO answers 400 without it)."""
    ietf = Interop(client, version)
    content = os.urandom(10_000)
    _, headers, _ = ietf.create(content[:1000], complete=False, total=len(content))
    path = path_of(headers["location"])
    status, headers, body = ietf.append(path, 1000, content[1000:5000], complete=False, content_type=False)
    if version >= 6:
        assert status in (400, 415), (status, body)
        assert ietf.head(path)[1]["upload-offset"] == "1000"
        status, headers, body = ietf.append(path, 1000, content[1000:5000], complete=False)
    assert status in incomplete_append_status(version) and headers["upload-offset"] == "5000", (status, body)
    status, _, body = ietf.append(path, 5000, content[5000:], complete=True, total=len(content))
    asset_answer(status, body, content)
    assert_asset(stack, content)


@pytest.mark.parametrize("version", VERSIONS)
def test_delete(stack, client, version):
    ietf = Interop(client, version)
    _, headers, _ = ietf.create(os.urandom(1000), complete=False, total=5000)
    path = path_of(headers["location"])
    status, _, _ = ietf.delete(path)
    assert status == 204 if version <= 6 else 200 <= status < 300
    assert ietf.head(path)[0] == 404
    assert stack.sql("SELECT count(*) FROM upload_sessions") == [(0,)]


@pytest.mark.parametrize("version", [6, 8])
def test_options_announces_limits(stack, client, version):
    """NIO testOptions: OPTIONS in version 6 answers 2xx with Upload-Limit. Drafts -05 (6) and
    -09 (8): "A server that supports the creation of a resumable upload resource ... for a
    target URI MUST include the `Upload-Limit` header field with the corresponding limits in a
    response to an `OPTIONS` request sent to this target URI"; -11 (still 8) adds `Accept-Patch`
    (application/partial-upload) to that answer."""
    status, headers, _ = client.request("OPTIONS", "/api/v1/uploads", b"",
                                        {"Upload-Draft-Interop-Version": str(version)})
    assert 200 <= status < 300 and "max-size=" in headers["upload-limit"], (status, headers)
    if version == 8:
        assert "application/partial-upload" in headers["accept-patch"], headers


def test_kill_9_between_appends_in_interop_version_3(stack, client):
    ietf = Interop(client, 3)
    content = os.urandom(2 << 20)
    _, headers, _ = ietf.create(content[:500_000], complete=False)
    path = path_of(headers["location"])
    assert ietf.append(path, 500_000, content[500_000:1_000_000], complete=False)[0] == 201
    restart_after_kill_9(stack)
    status, headers, _ = ietf.head(path)
    assert status == 204 and headers["upload-offset"] == "1000000" and headers["upload-incomplete"] == "?1"
    status, _, body = ietf.append(path, 1_000_000, content[1_000_000:], complete=True)
    asset_answer(status, body, content)
    assert_asset(stack, content)


@pytest.mark.parametrize("version", [5, 6])
def test_tus_js_client_ietf_sequences(stack, client, version):
    """tus-js-client with protocol ietf-draft-03 (interop 5) and ietf-draft-05 (6): it sends
    Upload-Length on the creation, application/partial-upload on PATCH only for -05, and reads
    Upload-Offset from every successful PATCH and from a creation that carried data
    (_handleUploadResponse: 'tus: invalid or missing offset value' without it), and Location
    from every creation ('tus: invalid or missing Location header')."""
    ietf = Interop(client, version)
    # Default: an empty creation marked incomplete, then one PATCH with everything.
    content = os.urandom(300_000)
    status, headers, _ = ietf.create(b"", complete=False, total=len(content))
    assert 200 <= status < 300 and "location" in headers
    path = path_of(headers["location"])
    status, headers, body = ietf.append(path, 0, content, complete=True)
    asset_answer(status, body, content)
    assert headers["upload-offset"] == str(len(content))
    # uploadDataDuringCreation: the whole file in the creation, marked complete (for -05 with
    # Content-Type application/partial-upload on the POST too).
    other = os.urandom(300_000)
    extra = {"Content-Type": "application/partial-upload"} if version == 6 else {}
    status, headers, body = ietf.create(other, complete=True, total=len(other), extra=extra)
    asset_answer(status, body, other)
    assert headers["upload-offset"] == str(len(other)) and "location" in headers
    # Resuming from the stored URL: HEAD needs Upload-Offset (Upload-Length is not required here).
    status, headers, _ = ietf.head(path_of(headers["location"]))
    assert status in (200, 204) and headers["upload-offset"] == str(len(other))
    assert_asset(stack, content)
    assert_asset(stack, other)

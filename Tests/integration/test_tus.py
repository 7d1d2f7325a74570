"""tus 1.0.0 (`/api/v1/tus`) on the real stack through nginx, driven by unmodified clients
(tuspy, aiotus, resumable-upload) and by raw-request replays of tus-js-client's sequences
(parallelUploads, uploadDataDuringCreation, resume from a stored URL; its source is
lib/upload.ts, see /work/notes/clients.md). Cut connections go through a TCP proxy
(tus_support.Proxy) in front of nginx; the app is killed with SIGKILL between and during appends
and the clients resume from their stored URL; bytes sent are counted by the proxy. Every upload
ends with the asset row, its blob and the store checked (test_resumable.assert_asset). The
unmodified clients' tests are `whole_stack`: each real client also runs on PostgreSQL + S3."""
import asyncio
import email.utils
import datetime
import json
import logging
import os
import threading

import aiotus
import pytest
from resumable_upload import FileURLStorage, TusClient as RUClient
from resumable_upload.exceptions import TusCommunicationError as RUCommunicationError
from resumable_upload.exceptions import TusUploadFailed as RUUploadFailed
from tusclient import client as tuspy
from tusclient.exceptions import TusCommunicationError as TuspyCommunicationError
from tusclient.storage.filestorage import FileStorage

from conftest import wait_until
from test_resumable import assert_asset, lock_released, partial_files
from tus_support import (Proxy, RawTus, assert_upload_url, checksum, expire, metadata,
                         parse_metadata, restart_after_kill_9, sha, upload_id)

CHUNK = 256 << 10
SIZE = 4 * CHUNK + 3  # five appends of CHUNK, the last one 3 bytes
EXTENSIONS = {"creation", "creation-with-upload", "creation-defer-length", "termination", "expiration",
              "checksum", "concatenation"}
GONE = (404, 410)


@pytest.fixture
def token(stack):
    return stack.add_user("alice")


@pytest.fixture
def raw(stack, token):
    return RawTus(stack.base_url, token)


@pytest.fixture
def proxy(stack):
    p = Proxy(stack.port)
    yield p
    p.close()


@pytest.fixture
def content_file(tmp_path):
    """(bytes, path) of SIZE random bytes in a file: tuspy's URL storage and resumable-upload's
    parallel uploads need a path."""
    content = os.urandom(SIZE)
    path = tmp_path / "clip.mp4"
    path.write_bytes(content)
    return content, path


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def asset_json(body, content, statuses=("created",)):
    answer = json.loads(body)
    assert (answer["sha256"], answer["size"]) == (sha(content), len(content)), answer
    assert answer["status"] in statuses, answer
    assert answer["asset_id"], answer
    return answer


def assert_completion(status, headers, body, content, statuses=("created",)):
    """The completing answer: a 2xx that is not 204 (every client takes any 2xx), the asset JSON
    of POST /assets/upload, and Upload-Offset (tuspy, aiotus and tus-js-client read it from
    every successful PATCH, the last one too)."""
    assert 200 <= status < 300 and status != 204, (status, body[:500])
    assert int(headers["Upload-Offset"]) == len(content), headers
    return asset_json(body, content, statuses)


def get_outcome(raw, url, content, provider="pixverse"):
    """GET on a finished upload: how aiotus and resumable-upload (which never expose the
    answer's body) and a client that lost the last answer learn the asset. It answers as
    GET /assets/{id} does: the asset with its providers and deliveries (no upload `status`)."""
    r = raw.get(url)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    answer = json.loads(r.content)
    assert (answer["sha256"], answer["size"]) == (sha(content), len(content)), answer
    assert provider in answer["uploaded_to_providers"] or provider in answer["deliveries"], answer
    return answer


def ru_client(base, token, tmp_path, **kwargs):
    kwargs.setdefault("chunk_size", CHUNK)
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("retry_delay", 0)
    kwargs.setdefault("url_storage", FileURLStorage(str(tmp_path / "ru-urls.json")))
    kwargs.setdefault("store_url", True)
    return RUClient(base + "/api/v1/tus", headers=auth(token), **kwargs)


def tuspy_client(base, token):
    return tuspy.TusClient(base + "/api/v1/tus", headers=auth(token))


def aiotus_upload(base, token, path, meta, caplog, retries=1, **kwargs):
    """aiotus.upload (which logs its errors and returns None); the log lines explain a None."""
    config = aiotus.RetryConfiguration(retry_attempts=retries, max_retry_period_seconds=0)

    async def go():
        with open(path, "rb") as f:
            return await aiotus.upload(base + "/api/v1/tus", f, meta, config=config, headers=auth(token),
                                       chunksize=CHUNK, **kwargs)

    with caplog.at_level(logging.INFO, logger="aiotus"):
        location = asyncio.run(go())
    assert location is not None, "aiotus.upload failed: " + " | ".join(r.getMessage() for r in caplog.records)
    return str(location)


def meta_for(filename="clip.mp4", provider="pixverse", **extra):
    return {"filename": filename, "filetype": "video/mp4", "provider_id": provider, **extra}


# The protocol surface


def test_options_needs_no_token_and_lists_the_extensions(stack, token):
    # resumable-upload asks OPTIONS with no headers at all (client/protocol.py: `_open("OPTIONS",
    # self.url, {})`), like a browser's CORS preflight.
    info = RUClient(stack.base_url + "/api/v1/tus").get_server_info()
    assert info["version"] == "1.0.0"
    assert EXTENSIONS <= set(info["extensions"]), info
    assert info["max_size"] and info["max_size"] > 0
    raw = RawTus(stack.base_url, None)
    r = raw.request("OPTIONS", raw.endpoint, tus=False)
    assert r.status_code == 204, r.text
    assert r.headers["Tus-Version"] == "1.0.0" and r.headers["Tus-Resumable"] == "1.0.0"
    assert {a.strip() for a in r.headers["Tus-Checksum-Algorithm"].split(",")} >= {"sha256", "sha1", "md5"}
    # aiotus asks with the caller's headers (the token) and no Tus-Resumable.
    r = RawTus(stack.base_url, token).request("OPTIONS", raw.endpoint, tus=False)
    assert r.status_code == 204 and EXTENSIONS <= {e.strip() for e in r.headers["Tus-Extension"].split(",")}


def test_create_head_patch_get_with_plain_requests(stack, raw):
    content = os.urandom(SIZE)
    r = raw.create(len(content), metadata(**meta_for("movie.mp4")))
    assert r.status_code == 201, r.text
    assert r.headers["Tus-Resumable"] == "1.0.0"
    # "If the expiration is known at the creation, the Upload-Expires header MUST be included in
    # the response to the initial POST request" (tus 1.0.0, Expiration).
    assert "Upload-Expires" in r.headers
    url = r.headers["Location"]
    assert_upload_url(url, stack.port)
    r = raw.head(url)
    assert r.status_code in (200, 204) and r.content == b""
    assert (r.headers["Upload-Offset"], r.headers["Upload-Length"]) == ("0", str(len(content)))
    assert "no-store" in r.headers["Cache-Control"] and r.headers["Tus-Resumable"] == "1.0.0"
    assert parse_metadata(r.headers["Upload-Metadata"]).items() >= meta_for("movie.mp4").items()
    expires = email.utils.parsedate_to_datetime(r.headers["Upload-Expires"])
    assert expires > datetime.datetime.now(datetime.timezone.utc)
    r = raw.patch(url, 0, content[:CHUNK])
    assert (r.status_code, r.headers["Upload-Offset"]) == (204, str(CHUNK))
    assert "Upload-Expires" in r.headers
    # Wrong offset: 409, nothing appended.
    r = raw.patch(url, CHUNK - 1, content[CHUNK - 1:2 * CHUNK])
    assert r.status_code == 409
    # A PATCH that is not application/offset+octet-stream: 415, nothing appended.
    r = raw.patch(url, CHUNK, content[CHUNK:2 * CHUNK], headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 415
    assert raw.offset(url) == CHUNK
    r = raw.patch(url, CHUNK, content[CHUNK:])
    answer = assert_completion(r.status_code, r.headers, r.content, content)
    assert get_outcome(raw, url, content)["asset_id"] == answer["asset_id"]
    r = raw.head(url)
    assert r.headers["Upload-Offset"] == r.headers["Upload-Length"] == str(len(content))
    assert_asset(stack, content, "movie.mp4")


def test_tus_answers_carry_each_header_once(stack, raw):
    """`requests` joins repeated fields with ", ": each tus field once, with one value."""
    content = os.urandom(1000)
    created = raw.create(len(content), metadata(**meta_for()))
    url = created.headers["Location"]
    answers = {"POST": created, "HEAD": raw.head(url), "PATCH": raw.patch(url, 0, content[:10]),
               "OPTIONS": raw.request("OPTIONS", raw.endpoint, tus=False)}
    for method, r in answers.items():
        for field in ("Tus-Resumable", "Cache-Control", "Upload-Offset", "Location", "Upload-Expires"):
            if field in r.headers:
                assert ", " not in r.headers[field] or field == "Upload-Expires", (method, field, r.headers[field])
        assert r.headers.get("Tus-Resumable") == "1.0.0", (method, r.headers)


def test_tus_resumable_other_than_1_0_0_is_412(stack, raw):
    r = raw.create(10, metadata(**meta_for()), tus=False)
    assert r.status_code == 412 and r.headers["Tus-Version"] == "1.0.0"
    r = raw.create(10, metadata(**meta_for()), headers={"Tus-Resumable": "0.2.2"})
    assert r.status_code == 412 and r.headers["Tus-Version"] == "1.0.0"
    url = raw.create(10, metadata(**meta_for())).headers["Location"]
    for method in ("HEAD", "PATCH", "DELETE"):
        r = raw.request(method, url, b"0123456789" if method == "PATCH" else None,
                        {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
                         "Tus-Resumable": "0.2.2"})
        assert r.status_code == 412 and r.headers["Tus-Version"] == "1.0.0", method
    assert raw.offset(url) == 0
    assert stack.sql("SELECT count(*) FROM assets") == [(0,)]


def test_metadata_is_checked_at_creation(stack, raw):
    r = raw.create(100, metadata(filename="a.bin"))
    assert r.status_code == 400 and json.loads(r.content)["error"]["code"] == "missing_metadata"
    assert "Location" not in r.headers
    r = raw.create(100, metadata(filename="a.bin", provider_id="nosuch"))
    assert r.status_code == 422 and json.loads(r.content)["error"]["code"] == "unknown_provider"
    # The same with the bytes in the creation request: refused, nothing kept.
    r = raw.create(100, metadata(filename="a.bin", provider_id="nosuch"), body=os.urandom(100))
    assert r.status_code == 422 and "Location" not in r.headers
    r = raw.create(100, metadata(**meta_for(sha256="xyz")))
    assert r.status_code in (400, 422), "sha256 must be 64 hex digits"
    r = raw.create(raw_max_size(raw) + 1, metadata(**meta_for()))
    assert r.status_code == 413
    assert stack.sql("SELECT count(*) FROM upload_sessions") == [(0,)]
    assert partial_files(stack) == []


def raw_max_size(raw):
    r = raw.request("OPTIONS", raw.endpoint, tus=False)
    return int(r.headers["Tus-Max-Size"])


def test_another_users_upload_is_404_like_an_unknown_one(stack, raw):
    content = os.urandom(1000)
    url = raw.create(len(content), metadata(**meta_for())).headers["Location"]
    assert raw.patch(url, 0, content[:100]).status_code == 204
    bob = stack.add_user("bob")
    unknown = url.rsplit("/", 1)[0] + "/" + "0" * 32
    for method in ("HEAD", "PATCH", "DELETE", "GET"):
        body = content[100:] if method == "PATCH" else None
        headers = {"Upload-Offset": "100", "Content-Type": "application/offset+octet-stream"}
        theirs = raw.request(method, url, body, headers, token=bob)
        none = raw.request(method, unknown, body, headers)
        assert theirs.status_code == none.status_code == 404, method
        assert theirs.content == none.content, method
    assert raw.offset(url) == 100


def test_x_http_method_override_tunnels_patch_head_and_delete(stack, token, raw, content_file, tmp_path):
    content, path = content_file
    statuses = []
    client = ru_client(stack.base_url, token, tmp_path, override_patch_method=True, store_url=False,
                       after_response=lambda method, url, status: statuses.append((method, status)))
    url = client.upload_file(file_path=str(path), metadata=meta_for())
    assert [m for m, _ in statuses].count("POST") >= 1 + SIZE // CHUNK, "PATCHes went as POST + override"
    get_outcome(raw, url, content)
    other = raw.create(10, metadata(**meta_for())).headers["Location"]
    r = raw.request("POST", other, None, {"X-HTTP-Method-Override": "HEAD"})
    assert r.status_code in (200, 204) and r.headers["Upload-Offset"] == "0"
    r = raw.request("POST", other, None, {"X-HTTP-Method-Override": "DELETE"})
    assert r.status_code == 204
    assert raw.head(other).status_code in GONE
    assert_asset(stack, content, "clip.mp4")


def test_deferred_length_with_resumable_upload(stack, token, raw, content_file, tmp_path):
    content, path = content_file
    client = ru_client(stack.base_url, token, tmp_path, store_url=False)
    url = client.create_deferred_upload(metadata=meta_for())
    assert_upload_url(url, stack.port)
    r = raw.head(url)
    assert r.headers["Upload-Defer-Length"] == "1" and "Upload-Length" not in r.headers
    assert client.resume_upload(file_path=str(path), upload_url=url) == url
    get_outcome(raw, url, content)
    assert_asset(stack, content, "clip.mp4")


# The clients, start to end


@pytest.mark.whole_stack
def test_tuspy_uploads_and_reads_the_asset_from_the_last_answer(stack, token, raw, content_file):
    content, path = content_file
    uploader = tuspy_client(stack.base_url, token).uploader(
        file_path=str(path), chunk_size=CHUNK, metadata=meta_for("t.mp4"))
    uploader.upload()
    assert_upload_url(uploader.url, stack.port)
    answer = asset_json(uploader.request.response_content, content)
    assert 200 <= uploader.request.status_code < 300
    assert get_outcome(raw, uploader.url, content)["asset_id"] == answer["asset_id"]
    assert_asset(stack, content, "t.mp4")
    assert stack.provider_uploads_count("pixverse") == 1


@pytest.mark.whole_stack
def test_aiotus_uploads_and_the_asset_is_read_with_get(stack, token, raw, content_file, caplog):
    content, path = content_file
    meta = {k: v.encode() for k, v in meta_for("a.mp4").items()}
    url = aiotus_upload(stack.base_url, token, path, meta, caplog)
    assert_upload_url(url, stack.port)
    get_outcome(raw, url, content)
    # aiotus reads the metadata back from HEAD.
    back = asyncio.run(aiotus.metadata(url, headers=auth(token)))
    assert back["filename"] == b"a.mp4" and back["provider_id"] == b"pixverse"
    assert_asset(stack, content, "a.mp4")


@pytest.mark.whole_stack
@pytest.mark.parametrize("algorithm", [True, "sha256", "md5"])
def test_resumable_upload_client_with_its_checksums(stack, token, raw, content_file, tmp_path, algorithm):
    # checksum=True is its default: sha1 on every PATCH.
    content, path = content_file
    sent = []
    client = ru_client(stack.base_url, token, tmp_path, checksum=algorithm,
                       before_request=lambda method, url, headers: sent.append(dict(headers)))
    url = client.upload_file(file_path=str(path), metadata=meta_for())
    names = {h["Upload-Checksum"].split()[0] for h in sent if "Upload-Checksum" in h}
    assert names == {"sha1" if algorithm is True else algorithm}
    get_outcome(raw, url, content)
    assert client.get_upload_info(url)["complete"]
    assert_asset(stack, content, "clip.mp4")


# Resuming: cut connections and kill -9


@pytest.mark.whole_stack
def test_tuspy_resumes_from_its_stored_url_after_a_cut_connection(stack, token, raw, proxy, content_file, tmp_path):
    content, path = content_file
    storage = FileStorage(str(tmp_path / "tuspy-urls.json"))
    client = tuspy_client(proxy.url, token)
    cut = proxy.cut_at(CHUNK * 5 // 2)  # inside the third append
    uploader = client.uploader(file_path=str(path), chunk_size=CHUNK, metadata=meta_for(),
                               store_url=True, url_storage=storage)
    with pytest.raises(TuspyCommunicationError):
        uploader.upload()
    assert cut.is_set()
    url = uploader.url
    assert_upload_url(url, proxy.port)
    wait_until(lambda: lock_released(stack, url), what="the cut append to end")
    offset = raw.offset(url)
    assert 2 * CHUNK <= offset < SIZE
    proxy.reset()
    again = client.uploader(file_path=str(path), chunk_size=CHUNK, metadata=meta_for(),
                            store_url=True, url_storage=storage)
    assert (again.url, again.offset) == (url, offset)
    again.upload()
    asset_json(again.request.response_content, content)
    assert proxy.sent < SIZE - offset + 16_384, "resumed, not restarted"
    assert_asset(stack, content, "clip.mp4")


@pytest.mark.whole_stack
def test_aiotus_retries_a_cut_append_from_the_server_offset(stack, token, raw, proxy, content_file, caplog):
    content, path = content_file
    cut = proxy.cut_at(CHUNK * 5 // 2)
    meta = {k: v.encode() for k, v in meta_for().items()}
    url = aiotus_upload(proxy.url, token, path, meta, caplog, retries=3)
    assert cut.is_set()
    assert_upload_url(url, proxy.port)
    assert proxy.sent < SIZE + CHUNK + 32_768, "at most the cut append was sent twice"
    get_outcome(raw, url, content)
    assert_asset(stack, content, "clip.mp4")


@pytest.mark.whole_stack
def test_resumable_upload_client_retries_a_cut_append(stack, token, raw, proxy, content_file, tmp_path):
    content, path = content_file
    cut = proxy.cut_at(CHUNK * 5 // 2)
    client = ru_client(proxy.url, token, tmp_path, max_retries=2)
    url = client.upload_file(file_path=str(path), metadata=meta_for())
    assert cut.is_set()
    assert_upload_url(url, proxy.port)
    assert proxy.sent < SIZE + CHUNK + 32_768
    get_outcome(raw, url, content)
    assert_asset(stack, content, "clip.mp4")


@pytest.mark.whole_stack
def test_tuspy_resumes_after_kill_9_between_appends(stack, token, raw, content_file, tmp_path):
    content, path = content_file
    storage = FileStorage(str(tmp_path / "tuspy-urls.json"))
    client = tuspy_client(stack.base_url, token)
    uploader = client.uploader(file_path=str(path), chunk_size=CHUNK, metadata=meta_for(),
                               store_url=True, url_storage=storage)
    uploader.upload(stop_at=2 * CHUNK)
    restart_after_kill_9(stack)
    again = client.uploader(file_path=str(path), chunk_size=CHUNK, metadata=meta_for(),
                            store_url=True, url_storage=storage)
    assert (again.url, again.offset) == (uploader.url, 2 * CHUNK)
    again.upload()
    asset_json(again.request.response_content, content)
    assert_asset(stack, content, "clip.mp4")


@pytest.mark.whole_stack
def test_resumable_upload_client_resumes_after_kill_9(stack, token, raw, content_file, tmp_path):
    content, path = content_file
    patched = []

    def count(method, url, headers):
        if method == "PATCH":
            patched.append(int(headers["Content-Length"]))

    client = ru_client(stack.base_url, token, tmp_path, before_request=count)
    url = client.upload_file(file_path=str(path), metadata=meta_for(), stop_at=3 * CHUNK)
    assert sum(patched) == 3 * CHUNK
    restart_after_kill_9(stack)
    assert raw.offset(url) == 3 * CHUNK
    patched.clear()
    assert client.upload_file(file_path=str(path), metadata=meta_for()) == url
    assert sum(patched) == SIZE - 3 * CHUNK
    get_outcome(raw, url, content)
    assert_asset(stack, content, "clip.mp4")


@pytest.mark.whole_stack
def test_aiotus_survives_kill_9_during_an_append(stack, token, raw, proxy, content_file, caplog):
    """The third append stalls in the proxy; meanwhile the app is killed with SIGKILL and
    restarted; then the connection is cut. aiotus retries: HEAD gives the offset the two
    finished appends left, and it goes on from there."""
    content, path = content_file
    stalled = proxy.stall_at(CHUNK * 5 // 2)
    meta = {k: v.encode() for k, v in meta_for().items()}
    result = {}

    def run():
        try:
            result["url"] = aiotus_upload(proxy.url, token, path, meta, caplog, retries=3)
        except BaseException as e:  # noqa: BLE001 (reported below)
            result["error"] = e

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert stalled.wait(60), "the third append never reached the proxy"
        restart_after_kill_9(stack)
        ids = [r[0] for r in stack.sql("SELECT id FROM upload_sessions")]
        assert len(ids) == 1
        assert raw.offset(f"{stack.base_url}/api/v1/tus/{ids[0]}") == 2 * CHUNK
    finally:
        proxy.release()
        thread.join(120)
    assert "error" not in result, result.get("error")
    get_outcome(raw, result["url"], content)
    assert_asset(stack, content, "clip.mp4")


# Checksums


def test_checksum_mismatch_is_460_and_the_append_is_discarded(stack, raw):
    content = os.urandom(3 * CHUNK)
    url = raw.create(len(content), metadata(**meta_for())).headers["Location"]
    r = raw.patch(url, 0, content[:CHUNK], checksum=checksum("sha256", content[:CHUNK]))
    assert (r.status_code, r.headers["Upload-Offset"]) == (204, str(CHUNK))
    r = raw.patch(url, CHUNK, content[CHUNK:2 * CHUNK], checksum=checksum("sha256", b"other bytes"))
    assert r.status_code == 460, r.text
    assert raw.offset(url) == CHUNK
    r = raw.patch(url, CHUNK, content[CHUNK:2 * CHUNK], checksum="crc32 AAAAAA==")
    assert r.status_code == 400, "an algorithm not in Tus-Checksum-Algorithm"
    assert raw.offset(url) == CHUNK
    r = raw.patch(url, CHUNK, content[CHUNK:2 * CHUNK], checksum=checksum("md5", content[CHUNK:2 * CHUNK]))
    assert r.status_code == 204
    r = raw.patch(url, 2 * CHUNK, content[2 * CHUNK:], checksum=checksum("sha1", content[2 * CHUNK:]))
    assert_completion(r.status_code, r.headers, r.content, content)
    assert_asset(stack, content)


@pytest.mark.whole_stack
def test_resumable_upload_client_gets_460_then_resumes(stack, token, raw, content_file, tmp_path):
    """A wrong Upload-Checksum on the second append (set through the client's own
    before_request hook): 460, the offset stays at the first append; the next run of the same
    client resumes from there."""
    content, path = content_file

    def corrupt(method, url, headers):
        if method == "PATCH" and headers["Upload-Offset"] == str(CHUNK):
            headers["Upload-Checksum"] = checksum("sha256", b"not these bytes")

    client = ru_client(stack.base_url, token, tmp_path, checksum="sha256", before_request=corrupt)
    with pytest.raises(RUUploadFailed) as failed:
        client.upload_file(file_path=str(path), metadata=meta_for())
    assert failed.value.status_code == 460
    url = client.url_storage.get_url(client.fingerprinter.get_fingerprint(str(path)))
    assert raw.offset(url) == CHUNK
    again = ru_client(stack.base_url, token, tmp_path, checksum="sha256")
    assert again.upload_file(file_path=str(path), metadata=meta_for()) == url
    get_outcome(raw, url, content)
    assert_asset(stack, content, "clip.mp4")


@pytest.mark.whole_stack
def test_tuspy_sha1_checksum_catches_a_byte_flipped_in_transit(stack, token, raw, proxy, content_file, tmp_path):
    content, path = content_file
    storage = FileStorage(str(tmp_path / "tuspy-urls.json"))
    client = tuspy_client(proxy.url, token)
    flipped = proxy.corrupt_at(CHUNK * 3 // 2)  # inside the second append's body
    uploader = client.uploader(file_path=str(path), chunk_size=CHUNK, metadata=meta_for(),
                               store_url=True, url_storage=storage, upload_checksum=True)
    with pytest.raises(TuspyCommunicationError) as failed:
        uploader.upload()
    assert flipped.is_set() and failed.value.status_code == 460
    assert uploader.get_offset() == CHUNK
    again = client.uploader(file_path=str(path), chunk_size=CHUNK, metadata=meta_for(),
                            store_url=True, url_storage=storage, upload_checksum=True)
    assert again.offset == CHUNK
    again.upload()
    asset_json(again.request.response_content, content)
    assert_asset(stack, content, "clip.mp4")  # the flipped byte is nowhere


# Termination and expiry


def test_termination(stack, token, raw, content_file, tmp_path):
    content, path = content_file
    client = ru_client(stack.base_url, token, tmp_path)
    url = client.upload_file(file_path=str(path), metadata=meta_for(), stop_at=2 * CHUNK)
    assert upload_id(url) + ".partial" in [p.name for p in partial_files(stack)]
    client.delete_upload(url)
    with pytest.raises(RUCommunicationError) as gone:
        client.get_upload_info(url)
    assert gone.value.status_code in GONE
    assert upload_id(url) + ".partial" not in [p.name for p in partial_files(stack)]
    assert raw.patch(url, 2 * CHUNK, content[2 * CHUNK:]).status_code in GONE
    # tus-js-client's terminate() takes exactly 204 as success.
    other = raw.create(100, metadata(**meta_for())).headers["Location"]
    assert raw.delete(other).status_code == 204
    assert raw.head(other).status_code in GONE and raw.get(other).status_code in GONE
    assert stack.sql("SELECT count(*) FROM assets") == [(0,)]


def test_an_expired_upload_is_gone_and_resumable_upload_starts_over(stack, token, raw, content_file, tmp_path):
    content, path = content_file
    client = ru_client(stack.base_url, token, tmp_path)
    old = client.upload_file(file_path=str(path), metadata=meta_for(), stop_at=CHUNK)
    expires = email.utils.parsedate_to_datetime(raw.head(old).headers["Upload-Expires"])
    assert expires > datetime.datetime.now(datetime.timezone.utc)
    expire(stack, old)
    assert raw.head(old).status_code in GONE
    assert raw.patch(old, CHUNK, content[CHUNK:]).status_code in GONE
    # The client forgets a stored URL that answers 404/410 and creates a new upload.
    new = client.upload_file(file_path=str(path), metadata=meta_for())
    assert new != old
    get_outcome(raw, new, content)
    assert upload_id(old) + ".partial" not in [p.name for p in partial_files(stack)]
    assert_asset(stack, content, "clip.mp4")


# Content the user already holds: announced sha256, zero body bytes


def test_held_content_is_answered_at_creation(stack, token, raw):
    content = os.urandom(SIZE)
    assert stack.upload(token, content, "pixverse").status_code == 201
    r = raw.create(len(content), metadata(**meta_for(sha256=sha(content))))
    # 201 with a Location (aiotus needs exactly 201, every client a Location), the upload already
    # complete, and the asset JSON.
    assert r.status_code == 201, r.text
    url = r.headers["Location"]
    assert_upload_url(url, stack.port)
    assert r.headers["Upload-Offset"] == str(len(content))
    assert asset_json(r.content, content, ("reused",))
    h = raw.head(url)
    assert h.headers["Upload-Offset"] == h.headers["Upload-Length"] == str(len(content))
    get_outcome(raw, url, content)
    # Another provider: delivered from the stored blob.
    r = raw.create(len(content), metadata(**meta_for(provider="runway", sha256=sha(content))))
    assert r.status_code == 201 and asset_json(r.content, content, ("added_provider", "queued"))
    wait_until(lambda: stack.provider_uploads_count("runway") == 1, what="the delivery to runway")
    assert_asset(stack, content)


@pytest.mark.whole_stack
def test_held_content_costs_the_clients_no_body_bytes(stack, token, raw, proxy, content_file, tmp_path, caplog):
    content, path = content_file
    assert stack.upload(token, content, "pixverse").status_code == 201
    announced = meta_for(sha256=sha(content))
    # aiotus: creation, then HEAD says everything is there.
    proxy.reset()
    url = aiotus_upload(proxy.url, token, path, {k: v.encode() for k, v in announced.items()}, caplog)
    assert proxy.sent < 4096, f"aiotus sent {proxy.sent} bytes"
    get_outcome(raw, url, content)
    # resumable-upload: creation, HEAD in the Uploader, no PATCH.
    proxy.reset()
    methods = []
    client = ru_client(proxy.url, token, tmp_path, store_url=False,
                       before_request=lambda method, url, headers: methods.append(method))
    url = client.upload_file(file_path=str(path), metadata=announced)
    assert "PATCH" not in methods and proxy.sent < 4096, (methods, proxy.sent)
    get_outcome(raw, url, content)
    # tuspy: create the URL, then open the uploader on it (its constructor HEADs); upload() has
    # nothing left to send.
    proxy.reset()
    client = tuspy_client(proxy.url, token)
    created = client.uploader(file_path=str(path), chunk_size=CHUNK, metadata=announced).create_url()
    uploader = client.uploader(file_path=str(path), chunk_size=CHUNK, url=created)
    assert uploader.offset == SIZE
    uploader.upload()
    assert uploader.request is None and proxy.sent < 4096, proxy.sent
    assert stack.sql("SELECT count(*) FROM assets") == [(1,)]
    assert_asset(stack, content)


@pytest.mark.whole_stack
def test_tus_js_client_and_tuspy_default_flow_on_held_content(stack, token, raw, content_file):
    """tus-js-client (lib/upload.ts _createUpload) and tuspy's upload() PATCH from 0 after a
    creation without asking the offset. On an upload answered at creation that PATCH is 204 with
    the full Upload-Offset, which ends both; nothing of its body is kept (the bytes still cross
    the wire: only clients that HEAD first save them)."""
    content, path = content_file
    assert stack.upload(token, content, "pixverse").status_code == 201
    url = raw.create(len(content), metadata(**meta_for(sha256=sha(content)))).headers["Location"]
    r = raw.patch(url, 0, content)
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(len(content))
    h = raw.head(url)
    assert h.headers["Upload-Offset"] == h.headers["Upload-Length"] == str(len(content))
    uploader = tuspy_client(stack.base_url, token).uploader(
        file_path=str(path), chunk_size=CHUNK, metadata=meta_for(sha256=sha(content)))
    uploader.upload()
    assert (uploader.request.status_code, uploader.offset) == (204, SIZE)
    assert stack.sql("SELECT count(*) FROM assets") == [(1,)]
    assert partial_files(stack) == []
    assert_asset(stack, content)


# Concatenation


def parts_of(content, n):
    size = len(content) // n
    return [content[i * size:(i + 1) * size if i < n - 1 else len(content)] for i in range(n)]


@pytest.mark.whole_stack
def test_aiotus_upload_multiple(stack, token, raw, tmp_path, caplog):
    content = os.urandom(SIZE)
    files = []
    for i, part in enumerate(parts_of(content, 3)):
        p = tmp_path / f"part{i}"
        p.write_bytes(part)
        files.append(p)

    async def go():
        handles = [open(p, "rb") for p in files]
        try:
            return await aiotus.upload_multiple(
                raw.endpoint, handles, {k: v.encode() for k, v in meta_for("joined.mp4").items()},
                headers=auth(token), config=aiotus.RetryConfiguration(retry_attempts=1), chunksize=CHUNK)
        finally:
            for h in handles:
                h.close()

    with caplog.at_level(logging.INFO, logger="aiotus"):
        url = asyncio.run(go())
    assert url is not None, " | ".join(r.getMessage() for r in caplog.records)
    assert_upload_url(str(url), stack.port)
    get_outcome(raw, str(url), content)
    assert_asset(stack, content, "joined.mp4")


@pytest.mark.whole_stack
def test_resumable_upload_client_parallel_uploads(stack, token, raw, content_file, tmp_path):
    content, path = content_file
    client = ru_client(stack.base_url, token, tmp_path, store_url=False)
    url = client.upload_file(file_path=str(path), metadata=meta_for("par.mp4"), parallel_uploads=3)
    get_outcome(raw, url, content)
    assert_asset(stack, content, "par.mp4")


def test_tus_js_client_parallel_uploads_replay(stack, token, raw):
    """parallelUploads: 2 (lib/upload.ts _startParallelUpload): each slice is created with
    `Upload-Concat: partial` and its own Upload-Length and no metadata, filled by PATCH; then
    one POST `Upload-Concat: final;<absolute partial URLs>` with the metadata and no
    Upload-Length, whose answer onSuccess gets."""
    content = os.urandom(SIZE)
    urls = []
    for part in parts_of(content, 2):
        r = raw.create(len(part), headers={"Upload-Concat": "partial"})
        assert r.status_code == 201, r.text
        assert_upload_url(r.headers["Location"], stack.port)
        urls.append(r.headers["Location"])
        assert raw.head(urls[-1]).headers["Upload-Concat"] == "partial"
        r = raw.patch(urls[-1], 0, part)
        assert (r.status_code, r.headers["Upload-Offset"]) == (204, str(len(part)))
    assert stack.sql("SELECT count(*) FROM assets") == [(0,)]
    r = raw.request("POST", raw.endpoint, None, {"Upload-Concat": "final;" + " ".join(urls),
                                                 "Upload-Metadata": metadata(**meta_for("js.mp4"))})
    assert r.status_code == 201, r.text
    final = r.headers["Location"]
    assert_upload_url(final, stack.port)
    answer = asset_json(r.content, content)
    h = raw.head(final)
    assert h.headers["Upload-Offset"] == h.headers["Upload-Length"] == str(len(content))
    assert get_outcome(raw, final, content)["asset_id"] == answer["asset_id"]
    # What tus-js-client sends again when it resumes a stored parallel upload: the same final,
    # here with paths as aiotus writes them. The server may keep partials for reuse (then the
    # content is held: reused) or drop them once concatenated (404); never a second asset.
    paths = " ".join("/api/v1/tus/" + upload_id(u) for u in urls)
    r = raw.request("POST", raw.endpoint, None, {"Upload-Concat": "final;" + paths,
                                                 "Upload-Metadata": metadata(**meta_for("js.mp4"))})
    assert r.status_code == 201 or 400 <= r.status_code < 500, r.text
    if r.status_code == 201:
        asset_json(r.content, content, ("reused",))
    assert stack.sql("SELECT count(*) FROM assets") == [(1,)]
    assert_asset(stack, content, "js.mp4")
    # tus 1.0.0, Concatenation: "Response to HEAD request against partial or final upload MUST
    # include the Upload-Concat header and its value as received in the upload creation request",
    # and "The Server MUST respond with the 403 Forbidden status to PATCH requests against a
    # final upload URL".
    assert raw.head(final).headers.get("Upload-Concat", "").startswith("final;"), raw.head(final).headers
    r = raw.patch(final, len(content), b"x")
    assert r.status_code == 403, (r.status_code, r.headers)


def test_concatenation_refuses_unfinished_and_foreign_partials(stack, token, raw):
    content = os.urandom(2000)
    mine = raw.create(1000, headers={"Upload-Concat": "partial"}).headers["Location"]
    assert raw.patch(mine, 0, content[:500]).status_code == 204
    done = raw.create(1000, headers={"Upload-Concat": "partial"}).headers["Location"]
    assert raw.patch(done, 0, content[1000:]).status_code == 204
    final = {"Upload-Metadata": metadata(**meta_for())}
    r = raw.request("POST", raw.endpoint, None, {"Upload-Concat": f"final;{mine} {done}", **final})
    assert 400 <= r.status_code < 500 and "Location" not in r.headers, r.status_code
    bob = stack.add_user("bob")
    assert raw.patch(mine, 500, content[500:1000]).status_code == 204
    theirs = raw.request("POST", raw.endpoint, None, {"Upload-Concat": f"final;{mine} {done}", **final}, token=bob)
    unknown = raw.request("POST", raw.endpoint, None,
                          {"Upload-Concat": f"final;{mine.rsplit('/', 1)[0]}/{'0' * 32} {done}", **final})
    assert 400 <= theirs.status_code < 500, "another user's partials are unknown uploads"
    assert (theirs.status_code, json.loads(theirs.content)["error"]["code"]) == \
        (unknown.status_code, json.loads(unknown.content)["error"]["code"])
    assert stack.sql("SELECT count(*) FROM assets") == [(0,)]
    r = raw.request("POST", raw.endpoint, None, {"Upload-Concat": f"final;{mine} {done}", **final})
    assert r.status_code == 201 and asset_json(r.content, content)
    assert_asset(stack, content)


# tus-js-client's other sequences


def test_tus_js_client_upload_data_during_creation_replay(stack, raw):
    """uploadDataDuringCreation: the POST carries Content-Type application/offset+octet-stream
    and the first chunk (the whole file with the default chunkSize: Infinity); the answer needs
    Location and Upload-Offset (_handleUploadResponse); offset == size ends the upload with
    that answer."""
    content = os.urandom(SIZE)
    r = raw.create(len(content), metadata(**meta_for("whole.mp4")), body=content)
    assert r.status_code == 201, r.text
    url = r.headers["Location"]
    assert_upload_url(url, stack.port)
    answer = assert_completion(r.status_code, r.headers, r.content, content)
    assert get_outcome(raw, url, content)["asset_id"] == answer["asset_id"]
    # chunkSize: CHUNK: the first chunk in the POST, the rest by PATCH.
    other = os.urandom(SIZE)
    r = raw.create(len(other), metadata(**meta_for("chunked.mp4")), body=other[:CHUNK])
    assert r.status_code == 201 and r.headers["Upload-Offset"] == str(CHUNK)
    url = r.headers["Location"]
    r = raw.patch(url, CHUNK, other[CHUNK:])
    assert_completion(r.status_code, r.headers, r.content, other)
    assert_asset(stack, content, "whole.mp4")
    assert_asset(stack, other, "chunked.mp4")


def test_tus_js_client_resume_from_a_stored_url_replay(stack, raw):
    """A page reload: the stored URL is asked with HEAD (Upload-Offset and, for tus-v1,
    Upload-Length are required), the upload goes on from that offset; a finished upload's HEAD
    (offset == length) is success by itself; a 4xx on HEAD makes it create a new upload."""
    content = os.urandom(SIZE)
    url = raw.create(len(content), metadata(**meta_for())).headers["Location"]
    assert raw.patch(url, 0, content[:CHUNK]).status_code == 204
    h = raw.head(url)
    assert h.status_code in (200, 204)
    offset, length = int(h.headers["Upload-Offset"]), int(h.headers["Upload-Length"])
    assert (offset, length) == (CHUNK, len(content))
    r = raw.patch(url, offset, content[offset:])
    assert_completion(r.status_code, r.headers, r.content, content)
    h = raw.head(url)
    assert int(h.headers["Upload-Offset"]) == int(h.headers["Upload-Length"]) == len(content)
    stale = raw.create(100, metadata(**meta_for())).headers["Location"]
    assert raw.delete(stale).status_code == 204
    assert 400 <= raw.head(stale).status_code < 500
    assert_asset(stack, content)


def test_the_outcome_stays_readable_after_a_restart(stack, raw):
    """A client that lost the completing answer learns the outcome with GET, also after the app
    restarted; HEAD still says the upload is whole."""
    content = os.urandom(100_000)
    url = raw.create(len(content), metadata(**meta_for())).headers["Location"]
    r = raw.patch(url, 0, content)
    first = assert_completion(r.status_code, r.headers, r.content, content)
    restart_after_kill_9(stack)
    assert get_outcome(raw, url, content)["asset_id"] == first["asset_id"]
    h = raw.head(url)
    assert h.headers["Upload-Offset"] == h.headers["Upload-Length"] == str(len(content))
    assert stack.sql("SELECT count(*) FROM assets") == [(1,)]

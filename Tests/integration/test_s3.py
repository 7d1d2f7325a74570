"""S3-compatible blob storage and the `s3` provider, on the real test server (moto, signatures
checked; scripts/s3-server). Blob-storage tests are `s3_only` (the stack's blobs are in its own
bucket); the `s3` provider works with either blob storage, so its tests run on both passes."""
import hashlib
import json
import os
import signal
import socket
import threading

import pytest
import requests

import s3_support
from conftest import run_cli, wait_until
from test_faults import assert_store_consistent

needs_s3_server = pytest.mark.skipif(not s3_support.ENDPOINT, reason="no S3 test server (scripts/s3-server)")


def sha(data):
    return hashlib.sha256(data).hexdigest()


def check(stack, token, digest):
    return stack.api("POST", "/api/v1/assets/check-by-hash", token, json={"sha256": digest})


@pytest.mark.s3_only
def test_an_upload_is_one_object_under_its_content_key_and_nothing_else(stack):
    token = stack.add_user("alice")
    content = os.urandom(20 << 20)  # above the multipart threshold
    first = stack.upload(token, content, filename="clip.mp4")
    assert first.status_code == 201, first.text
    again = stack.upload(stack.add_user("bob"), content)
    assert again.status_code == 201, again.text
    assert stack.bucket.keys() == [f"blobs/sha256/{sha(content)}"]
    assert stack.bucket.blob(sha(content)).read_bytes() == content
    assert stack.bucket.open_multipart_uploads() == []
    assert not (stack.data_dir / "blobs" / "sha256").exists() or not any((stack.data_dir / "blobs").rglob("*/*/*"))
    assert stack.temp_files() == []
    assert_store_consistent(stack)


@pytest.mark.s3_only
def test_an_announced_upload_is_published_whole_under_its_key(stack):
    # `sha256` before `file` (as our clients send it): parts go to the bucket while the body is
    # staged (S3StreamingUpload); the object appears once, whole, and no upload is left open.
    token = stack.add_user("alice")
    content = os.urandom(40 << 20)
    answer = stack.upload(token, content, sha256=sha(content))
    assert answer.status_code == 201, answer.text
    assert stack.bucket.keys() == [f"blobs/sha256/{sha(content)}"]
    assert stack.bucket.blob(sha(content)).read_bytes() == content
    assert stack.bucket.open_multipart_uploads() == []
    assert stack.temp_files() == []


@pytest.mark.s3_only
def test_an_announced_sha256_that_does_not_match_publishes_nothing(stack):
    # The parts already sent under the announced key are aborted: no object, no open upload.
    token = stack.add_user("alice")
    content, other = os.urandom(40 << 20), os.urandom(16)
    answer = stack.upload(token, content, sha256=sha(other))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "sha256_mismatch"
    assert stack.bucket.keys() == []
    assert stack.bucket.open_multipart_uploads() == []
    assert stack.sql("SELECT count(*) FROM assets") == [(0,)]
    assert stack.temp_files() == []


@pytest.mark.s3_only
def test_unreachable_storage_answers_503_for_uploads_and_checks_go_on(make_stack):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    stack = make_stack(env={"ASSETDEDUP_S3_ENDPOINT": f"http://127.0.0.1:{port}"})
    token = stack.add_user("alice")
    content = os.urandom(1 << 20)
    answer = stack.upload(token, content)
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "storage_unavailable"
    assert int(answer.headers["Retry-After"]) > 0
    assert check(stack, token, sha(content)).status_code == 200
    assert stack.sql("SELECT count(*) FROM assets") == [(0,)]
    assert stack.temp_files() == []


@pytest.mark.s3_only
def test_a_storage_that_hangs_is_cut_by_the_timeout_and_answers_503(make_stack):
    # A server that accepts connections and never answers: the low-speed limit ends each call.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    done = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not done.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        stack = make_stack(env={"ASSETDEDUP_S3_ENDPOINT": f"http://127.0.0.1:{listener.getsockname()[1]}",
                                "ASSETDEDUP_S3_TIMEOUT_SECONDS": "2"})
        token = stack.add_user("alice")
        answer = stack.upload(token, os.urandom(64 << 10))
        assert answer.status_code == 503, answer.text
        assert accepted, "the app never reached the hanging server"
        assert stack.sql("SELECT count(*) FROM assets") == [(0,)]
    finally:
        done.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


@pytest.mark.s3_only
def test_a_wrong_secret_is_refused_by_the_server_and_serve_says_so(stack, tmp_path):
    # The server checks signatures: serve's first call (the upload sweep at start) is refused, and
    # a configuration error stops serve with the server's own words (an outage would not).
    result = run_cli("serve", "--data", str(stack.data_dir), "--socket", str(tmp_path / "other.sock"),
                     db=stack.db, check=False, timeout=60,
                     env={**stack.env, "AWS_SECRET_ACCESS_KEY": "not-the-secret"})
    assert result.returncode != 0
    assert "SignatureDoesNotMatch" in result.stderr + result.stdout
    assert stack.bucket.keys() == []


@pytest.mark.s3_only
def test_a_resumable_upload_keeps_its_parts_in_the_bucket(stack):
    token = stack.add_user("alice")
    content = os.urandom(3 << 20)
    auth = {"Authorization": f"Bearer {token}"}
    created = requests.post(stack.base_url + "/api/v1/uploads?provider_id=pixverse", data=content[:1 << 20],
                            headers={**auth, "Upload-Complete": "?0", "Content-Type": "application/partial-upload"},
                            timeout=60)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    assert [k for k in stack.bucket.keys("uploads/")], "the first append is in the bucket"
    assert not any((stack.data_dir / "uploads").glob("*.partial"))
    # The node restarts with an empty data folder: the bucket alone carries the upload.
    stack.stop_app(signal.SIGKILL)
    for leftover in stack.data_dir.rglob("*"):
        if leftover.is_file() and "tmp" in leftover.parts:
            leftover.unlink()
    stack.start_app()
    wait_until(stack._healthy, what="the app again")
    head = requests.head(stack.base_url + location, headers=auth, timeout=60)
    assert head.headers["Upload-Offset"] == str(1 << 20)
    done = requests.patch(stack.base_url + location, data=content[1 << 20:],
                          headers={**auth, "Upload-Offset": str(1 << 20), "Upload-Complete": "?1",
                                   "Content-Type": "application/partial-upload"}, timeout=60)
    assert done.status_code == 201, done.text
    assert stack.bucket.blob(sha(content)).read_bytes() == content
    assert stack.bucket.keys("uploads/") == []
    assert_store_consistent(stack)


def s3_provider_config(tmp_path, bucket, prefix="assets/"):
    config = tmp_path / "providers.json"
    config.write_text(json.dumps({"providers": [
        {"id": "pixverse", "kind": "directory", "path": str(tmp_path / "pixverse")},
        {"id": "archive", "kind": "s3", "bucket": bucket, "prefix": prefix,
         "endpoint": s3_support.ENDPOINT, "region": os.environ.get("AWS_REGION", "us-east-1")},
    ]}))
    return config


@needs_s3_server
def test_the_s3_provider_receives_each_content_once_and_asks_before_sending(make_stack, tmp_path):
    target = s3_support.Bucket()
    try:
        stack = make_stack(config=s3_provider_config(tmp_path, target.name))
        token = stack.add_user("alice")
        content = os.urandom(9 << 20)
        answer = stack.upload(token, content, provider="archive")
        assert answer.status_code == 201, answer.text
        key = f"assets/{sha(content)}"
        assert target.keys() == [key]
        assert s3_support.StoredBlob(target.name, key).read_bytes() == content
        assert target.open_multipart_uploads() == []
        asset = answer.json()["asset_id"]
        assert stack.sql("SELECT provider_asset_id FROM provider_uploads WHERE provider_id = 'archive'") == [(key,)]
        # The record is lost (a crash between sending and recording): sync asks the bucket (HEAD)
        # and records what is there instead of sending it again.
        stack.sql("DELETE FROM provider_uploads WHERE asset_id = ?", asset)
        stack.sql("DELETE FROM deliveries WHERE asset_id = ?", asset)
        before = target.s3.head_object(Bucket=target.name, Key=key)["LastModified"]
        result = stack.cli("sync", "--provider", "archive", "--config", str(stack.config),
                           "--data", str(stack.data_dir))
        assert "1 already there" in result.stdout or "already" in result.stdout, result.stdout
        assert target.s3.head_object(Bucket=target.name, Key=key)["LastModified"] == before
        assert stack.sql("SELECT provider_asset_id FROM provider_uploads WHERE provider_id = 'archive'") == [(key,)]
    finally:
        target.drop()


@needs_s3_server
def test_an_s3_provider_with_a_wrong_secret_fails_without_retrying_forever(make_stack, tmp_path):
    target = s3_support.Bucket()
    try:
        config = tmp_path / "providers.json"
        config.write_text(json.dumps({"providers": [
            {"id": "archive", "kind": "s3", "bucket": target.name, "endpoint": s3_support.ENDPOINT,
             "secret_access_key_env": "ARCHIVE_SECRET"}]}))
        stack = make_stack(config=config, env={"ARCHIVE_SECRET": "wrong"})
        token = stack.add_user("alice")
        answer = stack.upload(token, os.urandom(1 << 16), provider="archive")
        assert answer.status_code == 502, answer.text
        assert answer.json()["error"]["retryable"] is False
        assert target.keys() == []
    finally:
        target.drop()


def test_s3_config_problems_are_one_line_errors(tmp_path, db):
    config = tmp_path / "providers.json"
    config.write_text(json.dumps({"providers": [{"id": "archive", "kind": "s3"}]}))
    result = run_cli("sync", "--provider", "archive", "--config", str(config), "--data", str(tmp_path / "data"),
                     db=db, check=False)
    assert result.returncode != 0
    assert "archive" in result.stderr and "bucket" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_kill_9_mid_upload_leaves_no_orphan_after_gc(stack):
    """serve killed while it sends a blob (to the bucket: a multipart upload is open; to the folder:
    a staged temp file): after a restart and one `gc --grace-hours 0`, nothing is left that no
    asset names, and the same upload then works."""
    token = stack.add_user("alice")
    content = os.urandom(160 << 20)
    outcome = {}
    uploading = threading.Thread(target=lambda: outcome.update(answer=_upload_or_error(stack, token, content)))
    uploading.start()
    if stack.bucket:
        wait_until(stack.bucket.open_multipart_uploads, timeout=120, interval=0.01,
                   what="the app to be sending the blob to the bucket")
    else:
        wait_until(stack.temp_files, timeout=120, interval=0.01, what="the app to be staging the upload")
    stack.stop_app(signal.SIGKILL)
    uploading.join(120)
    assert not isinstance(outcome.get("answer"), requests.Response) or outcome["answer"].status_code >= 500
    assert stack.sql("SELECT count(*) FROM assets") == [(0,)]
    stack.start_app()
    wait_until(stack._healthy, what="the app again")
    stack.cli("gc", "--grace-hours", "0", "--data", str(stack.data_dir))
    assert stack.blobs() == [] and stack.temp_files() == []
    if stack.bucket:
        assert stack.bucket.keys() == [] and stack.bucket.open_multipart_uploads() == []
    again = stack.upload(token, content)
    assert again.status_code == 201, again.text
    assert [b.name for b in stack.blobs()] == [sha(content)]


def _upload_or_error(stack, token, content):
    try:
        return stack.upload(token, content)
    except requests.RequestException as error:
        return error

"""Issue 26 on the real stack: the trash (delete, restore, re-upload restores the same row),
purge (rows gone, the blob gone after gc, provider copies kept or deleted per `on_delete`), and
media-only providers (a junk folder puts only media there; a renamed text file is 415)."""
import hashlib
import json
import os

import pytest

from test_gc import gc, line

# The first bytes of real formats: what the server sniffs (the rest is any bytes).
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


def sha(data):
    return hashlib.sha256(data).hexdigest()


def lifecycle_stack(make_stack, tmp_path):
    """`media` takes only images and videos and deletes its copy on purge; `store` takes
    anything and keeps its copies."""
    config = tmp_path / "providers.json"
    config.write_text(json.dumps({"providers": [
        {"id": "media", "kind": "directory", "path": str(tmp_path / "copies" / "media"),
         "accept": ["image/*", "video/*"], "on_delete": "delete"},
        {"id": "store", "kind": "directory", "path": str(tmp_path / "copies" / "store")},
    ]}))
    stack = make_stack(config=config)
    stack.copies = tmp_path / "copies"
    return stack


def copy_of(stack, provider, content):
    digest = sha(content)
    return stack.copies / provider / digest[:2] / digest


@pytest.mark.whole_stack
def test_trash_restore_reupload_and_purge_with_each_providers_policy(make_stack, tmp_path):
    stack = lifecycle_stack(make_stack, tmp_path)
    token = stack.add_user("alice")
    clip = MP4 + os.urandom(200_000)
    created = stack.upload(token, clip, "media", filename="clip.mp4", mime="video/mp4")
    assert created.status_code == 201, created.text
    asset_id = created.json()["asset_id"]
    assert stack.upload(token, clip, "store").json()["status"] == "added_provider"
    check = {"sha256": sha(clip)}

    trashed = stack.api("DELETE", f"/api/v1/assets/{asset_id}", token)
    assert trashed.status_code == 200 and trashed.json()["trashed_at"]
    assert stack.api("POST", "/api/v1/assets/check-by-hash", token, json=check).json()["exists"] is False
    assert stack.api("GET", "/api/v1/assets", token).json()["assets"] == []
    assert [a["asset_id"] for a in stack.api("GET", "/api/v1/trash", token).json()["assets"]] == [asset_id]
    assert stack.api("GET", f"/api/v1/assets/{asset_id}", token).status_code == 404
    assert stack.api("GET", f"/api/v1/trash/{asset_id}", token).json()["trashed_at"]

    restored = stack.api("POST", f"/api/v1/assets/{asset_id}/restore", token)
    assert restored.status_code == 200 and restored.json()["trashed_at"] is None
    assert stack.api("POST", "/api/v1/assets/check-by-hash", token, json=check).json()["exists"] is True

    # Trashed content uploaded again is the same row, out of the trash.
    stack.api("DELETE", f"/api/v1/assets/{asset_id}", token)
    again = stack.upload(token, clip, "media", filename="again.mp4", mime="video/mp4")
    assert again.status_code == 200 and again.json()["asset_id"] == asset_id, again.text
    assert stack.sql("SELECT count(*) FROM assets") == [(1,)]
    assert stack.api("GET", "/api/v1/trash", token).json()["assets"] == []

    # Purge: a live asset first goes to the trash; then the rows go, the media copy goes
    # (on_delete: delete), the store copy stays (keep), and gc takes the blob.
    refused = stack.api("DELETE", f"/api/v1/trash/{asset_id}", token)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_trashed"
    stack.api("DELETE", f"/api/v1/assets/{asset_id}", token)
    assert copy_of(stack, "media", clip).is_file() and copy_of(stack, "store", clip).is_file()
    assert stack.api("DELETE", f"/api/v1/trash/{asset_id}", token).status_code == 204
    assert stack.api("GET", f"/api/v1/assets/{asset_id}", token).status_code == 404
    assert stack.sql("SELECT count(*) FROM provider_uploads") == [(0,)]
    assert not copy_of(stack, "media", clip).exists()
    assert copy_of(stack, "store", clip).read_bytes() == clip
    assert stack.blob(sha(clip)) is not None
    out = gc(stack, "--grace-hours", "0").stdout
    assert line(out, "blobs deleted:").startswith("blobs deleted: 1")
    assert stack.blob(sha(clip)) is None


def test_the_cli_purges_by_age_and_keeps_what_another_user_holds(make_stack, tmp_path):
    stack = lifecycle_stack(make_stack, tmp_path)
    alice, bob = stack.add_user("alice"), stack.add_user("bob")
    photo = JPEG + os.urandom(50_000)
    mine = stack.upload(alice, photo, "media", filename="a.jpg", mime="image/jpeg").json()["asset_id"]
    assert stack.upload(bob, photo, "media", filename="b.jpg", mime="image/jpeg").status_code == 201
    stack.api("DELETE", f"/api/v1/assets/{mine}", alice)
    fresh = stack.cli("trash", "purge", "--config", str(tmp_path / "providers.json"))
    assert fresh.stdout.strip() == "purged 0 asset(s); 0 deferred (a delivery in progress)"
    stack.sql("UPDATE assets SET trashed_at = '2000-01-01T00:00:00.000Z' WHERE id = ?", mine)
    old = stack.cli("trash", "purge", "--config", str(tmp_path / "providers.json"))
    assert old.stdout.strip() == "purged 1 asset(s); 0 deferred (a delivery in progress)"
    assert stack.api("GET", f"/api/v1/assets/{mine}", alice).status_code == 404
    # bob's asset still uses the content-addressed copy on `media`: it stays.
    assert copy_of(stack, "media", photo).read_bytes() == photo


def test_a_junk_folder_puts_only_media_on_the_media_provider(make_stack, tmp_path):
    stack = lifecycle_stack(make_stack, tmp_path)
    token = stack.add_user("alice")
    folder = {
        ".DS_Store": (os.urandom(6148), "application/octet-stream"),
        "Thumbs.db": (os.urandom(4096), "application/octet-stream"),
        "empty.jpg": (b"", "image/jpeg"),
        "corrupt.jpg": (os.urandom(5000), "image/jpeg"),
        "notes.txt": (b"remember the milk\n", "text/plain"),
        "notes-renamed.jpg": (b"remember the milk\n", "image/jpeg"),
        "photo.jpg": (JPEG + os.urandom(30_000), "image/jpeg"),
        "clip.mp4": (MP4 + os.urandom(30_000), "video/mp4"),
    }
    answers = {name: stack.upload(token, data, "media", filename=name, mime=mime)
               for name, (data, mime) in folder.items()}
    codes = {name: (r.status_code, r.json().get("error", {}).get("code")) for name, r in answers.items()}
    assert codes == {
        ".DS_Store": (415, "unsupported_media_type"), "Thumbs.db": (415, "unsupported_media_type"),
        "empty.jpg": (422, "empty_file"), "corrupt.jpg": (415, "unsupported_media_type"),
        "notes.txt": (415, "unsupported_media_type"), "notes-renamed.jpg": (415, "unsupported_media_type"),
        "photo.jpg": (201, None), "clip.mp4": (201, None),
    }
    assert "application/octet-stream" in answers["notes-renamed.jpg"].json()["error"]["message"]
    assert answers["photo.jpg"].json()["media_type"] == "image"
    assert answers["clip.mp4"].json()["media_type"] == "video"
    delivered = sorted(p.name for p in (stack.copies / "media").rglob("*") if p.is_file())
    assert delivered == sorted(sha(folder[n][0]) for n in ("photo.jpg", "clip.mp4"))
    assert stack.sql("SELECT count(*) FROM assets") == [(2,)]
    # The same junk goes to a provider that takes anything, typed by its bytes.
    notes = stack.upload(token, b"remember the milk\n", "store", filename="notes-renamed.jpg", mime="image/jpeg")
    assert notes.status_code == 201 and notes.json()["media_type"] == "other"

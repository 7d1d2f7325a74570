"""Near-duplicates through the real binary behind nginx: pictures and clips made by the `vips`
and `ffmpeg` command-line tools (scripts/install-deps), fingerprinted by the server on upload,
searched per user, and filled in for older assets by `fingerprints backfill`."""
import subprocess

import pytest

from conftest import ROOT, wait_until


def tool(*args):
    subprocess.run(args, check=True, capture_output=True)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """Originals and their edits, made once for the module."""
    d = tmp_path_factory.mktemp("media")
    ffmpeg = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi"]
    tool(*ffmpeg, "-i", "mandelbrot=s=1024x768", "-frames:v", "1", str(d / "original.png"))
    tool("vips", "copy", str(d / "original.png"), str(d / "original.jpg[Q=95]"))
    # The copy: half the size, JPEG quality 60.
    tool("vips", "resize", str(d / "original.png"), str(d / "copy.jpg[Q=60]"), "0.5")
    tool(*ffmpeg, "-i", "testsrc2=s=1024x768", "-frames:v", "1", str(d / "unrelated.png"))
    h264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    tool(*ffmpeg, "-i", "testsrc2=s=640x360:r=25", "-t", "6", *h264, str(d / "clip.mp4"))
    # Another codec, container, bitrate and size.
    tool(*ffmpeg, "-i", "testsrc2=s=640x360:r=25", "-t", "6", "-vf", "scale=320:180", "-c:v", "mpeg4",
         "-b:v", "300k", str(d / "clip-small.mkv"))
    return {p.name: p.read_bytes() for p in d.iterdir()}


def upload(stack, token, media, name, mime="image/jpeg"):
    r = stack.upload(token, media[name], filename=name, mime=mime)
    assert r.status_code == 201, r.text
    return r.json()


def similar_ids(answer):
    return [s["asset_id"] for s in answer["similar"]]


@pytest.mark.whole_stack
def test_resized_copy_is_similar_and_unrelated_is_not(stack, media):
    token = stack.add_user("alice")
    first = upload(stack, token, media, "original.jpg")
    assert first["perceptual_hash"]["kind"] == "image" and len(first["perceptual_hash"]["hash"]) == 16
    assert first["similar"] == []

    copy = upload(stack, token, media, "copy.jpg")
    assert [(s["asset_id"], s["original_filename"]) for s in copy["similar"]] == [
        (first["asset_id"], "original.jpg")]
    assert 0 <= copy["similar"][0]["distance"] <= 10

    unrelated = upload(stack, token, media, "unrelated.png", mime="image/png")
    assert unrelated["similar"] == []

    asset = stack.api("GET", f"/api/v1/assets/{first['asset_id']}", token).json()
    assert asset["perceptual_hash"] == first["perceptual_hash"]
    assert similar_ids(asset) == [copy["asset_id"]]

    # Before uploading: the copy's hash finds the original (and the copy itself).
    r = stack.api("POST", "/api/v1/assets/similar", token, json={"perceptual_hash": copy["perceptual_hash"]["hash"]})
    assert r.status_code == 200, r.text
    assert r.json()["threshold"] == 10
    assert set(similar_ids(r.json())) == {first["asset_id"], copy["asset_id"]}

    r = stack.api("POST", "/api/v1/assets/similar", token, json={"perceptual_hash": "not hex"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_perceptual_hash"

    # The same bytes again reuse the asset and its fingerprint.
    again = stack.upload(token, media["original.jpg"], filename="again.jpg", mime="image/jpeg")
    assert again.status_code == 200 and again.json()["perceptual_hash"] == first["perceptual_hash"]
    assert similar_ids(again.json()) == [copy["asset_id"]]


def test_another_users_similar_image_is_never_shown(stack, media):
    alice = stack.add_user("alice")
    bob = stack.add_user("bob")
    bobs = upload(stack, bob, media, "original.jpg")
    mine = upload(stack, alice, media, "copy.jpg")
    assert mine["similar"] == []
    r = stack.api("POST", "/api/v1/assets/similar", alice, json={"perceptual_hash": bobs["perceptual_hash"]["hash"]})
    assert similar_ids(r.json()) == [mine["asset_id"]]
    assert stack.api("GET", f"/api/v1/assets/{bobs['asset_id']}", alice).status_code == 404


def test_reencoded_video_matches_its_original(stack, media):
    token = stack.add_user("alice")
    clip = upload(stack, token, media, "clip.mp4", mime="video/mp4")
    hash_ = clip["perceptual_hash"]
    assert hash_["kind"] == "video" and len(hash_["frames"]) == 10 and hash_["duration_seconds"] == pytest.approx(6, abs=0.2)
    small = upload(stack, token, media, "clip-small.mkv", mime="video/x-matroska")
    assert similar_ids(small) == [clip["asset_id"]]
    r = stack.api("POST", "/api/v1/assets/similar", token, json={"frames": small["perceptual_hash"]["frames"]})
    assert set(similar_ids(r.json())) == {clip["asset_id"], small["asset_id"]}
    # A still of the same source is an image: never matched with a clip.
    still = upload(stack, token, media, "unrelated.png", mime="image/png")
    assert still["similar"] == []


def test_a_video_is_fingerprinted_in_the_background_when_the_client_will_not_wait(stack, media):
    # Decoding ten frames takes seconds: videos go to serve's fingerprint worker. With
    # `Prefer: respond-async` the answer comes at once, without the hash; the asset shows it
    # once the worker is done, and the next upload of a re-encode is matched against it.
    token = stack.add_user("alice")
    r = stack.upload(token, media["clip.mp4"], filename="clip.mp4", mime="video/mp4",
                     headers={"Prefer": "respond-async"})
    assert r.status_code in (201, 202), r.text
    clip = r.json()["asset_id"]
    assert r.json()["perceptual_hash"] is None and r.json()["similar"] == []

    def hashed():
        return stack.api("GET", f"/api/v1/assets/{clip}", token).json()["perceptual_hash"]

    assert wait_until(hashed, what="the background fingerprint")["kind"] == "video"
    small = upload(stack, token, media, "clip-small.mkv", mime="video/x-matroska")
    assert similar_ids(small) == [clip]


def test_a_file_that_is_no_picture_still_uploads(stack):
    token = stack.add_user("alice")
    r = stack.upload(token, b"plain text, not a picture\n" * 100, filename="notes.txt", mime="text/plain")
    assert r.status_code == 201, r.text
    assert r.json()["perceptual_hash"]["kind"] == "none" and r.json()["perceptual_hash"]["reason"]
    assert r.json()["similar"] == []


@pytest.mark.whole_stack
def test_backfill_fingerprints_older_assets_and_resumes(stack, media):
    token = stack.add_user("alice")
    ids = [upload(stack, token, media, name)["asset_id"] for name in ["original.jpg", "copy.jpg", "unrelated.png"]]
    # As if they were stored before fingerprints existed.
    stack.sql("DELETE FROM asset_fingerprint_hashes")
    stack.sql("DELETE FROM asset_fingerprints")
    assert stack.api("GET", f"/api/v1/assets/{ids[0]}", token).json()["perceptual_hash"] is None

    out = stack.cli("fingerprints", "backfill", "--data", str(stack.data_dir), "--batch", "2").stdout
    assert out.splitlines() == [
        "fingerprints: 2/3 assets, 2 image, 0 video, 0 none, 0 failed",
        "fingerprints: 3/3 assets, 3 image, 0 video, 0 none, 0 failed",
        "fingerprints: done, 3 image, 0 video, 0 none, 0 failed",
    ]
    assert similar_ids(stack.api("GET", f"/api/v1/assets/{ids[0]}", token).json()) == [ids[1]]
    # Nothing left: a second run (or one after a kill) only does what is missing.
    stack.sql("DELETE FROM asset_fingerprint_hashes WHERE asset_id = ?", ids[2])
    stack.sql("DELETE FROM asset_fingerprints WHERE asset_id = ?", ids[2])
    out = stack.cli("fingerprints", "backfill", "--data", str(stack.data_dir)).stdout
    assert out.splitlines()[-1] == "fingerprints: done, 1 image, 0 video, 0 none, 0 failed"


def test_report_groups_per_user_with_thumbnails_and_records_reviews(stack, media, tmp_path):
    alice, bob = stack.add_user("alice"), stack.add_user("bob")
    original = upload(stack, alice, media, "original.jpg")["asset_id"]
    copy = upload(stack, alice, media, "copy.jpg")["asset_id"]
    unrelated = upload(stack, alice, media, "unrelated.png", mime="image/png")["asset_id"]
    bobs = upload(stack, bob, media, "copy.jpg")["asset_id"]
    out = tmp_path / "reports"

    def report():
        stack.cli("report", "--out", str(out), "--templates", str(ROOT / "templates"), "--data", str(stack.data_dir))
        return (out / "near-duplicates.md").read_text(), (out / "near-duplicates.html").read_text()

    markdown, html = report()
    rows = [line for line in markdown.splitlines() if line.startswith(f"| {original} |")]
    assert len(rows) == 1, markdown
    assert f"{copy} copy.jpg" in rows[0] and "| alice | image |" in rows[0] and "not reviewed" in rows[0]
    table = [line for line in markdown.splitlines() if line.startswith("| ") and line[2:3].isdigit()]
    assert len(table) == 1, "one group: alice's; bob's copy and the unrelated picture are in none"
    # Thumbnails: one small JPEG per member, inline, in the HTML page only.
    assert html.count('<img src="data:image/jpeg;base64,') == 2
    assert "data:image" not in markdown
    csv = (out / "near-duplicates.csv").read_text().splitlines()
    assert [line.split(",")[5] for line in csv[1:]] == [str(original), str(copy)]

    done = stack.cli("review-similar", str(copy), "--keep", str(original), "--note", "the q60 copy", "--by", "admin")
    assert f"group of assets {original}, {copy}: keep asset {original} by admin; moved to the trash: {copy}" \
        in done.stdout
    # The decision acts: the copy is in alice's trash, so the group is gone from the report.
    assert stack.api("GET", f"/api/v1/trash/{copy}", alice).status_code == 200
    markdown, _ = report()
    assert f"| {original} |" not in markdown and "No near-duplicates found." in markdown
    # Undone from the trash: the group is back, with the decision on it.
    assert stack.api("POST", f"/api/v1/assets/{copy}/restore", alice).status_code == 200
    markdown, _ = report()
    assert f"keep asset {original} (admin, " in markdown and "the q60 copy" in markdown

    alone = stack.cli("review-similar", str(unrelated), "--ignore", check=False)
    assert alone.returncode != 0 and "has no near-duplicates" in alone.stderr
    other = stack.cli("review-similar", str(copy), "--keep", str(bobs), check=False)
    assert other.returncode != 0 and f"asset {bobs} is not in this group" in other.stderr


def test_admins_review_a_near_duplicate_group_through_the_api(stack, media):
    alice, admin = stack.add_user("alice"), stack.add_user("root", admin=True)
    original = upload(stack, alice, media, "original.jpg")["asset_id"]
    copy = upload(stack, alice, media, "copy.jpg")["asset_id"]
    unrelated = upload(stack, alice, media, "unrelated.png", mime="image/png")["asset_id"]

    def review(asset, body, token=admin):
        return stack.api("POST", f"/api/v1/admin/near-duplicates/{asset}/review", token, json=body)

    def rows():  # a token's last use is recorded on every request
        return {table: rows for table, rows in stack.dump().items() if table != "api_tokens"}

    before = rows()
    assert review(copy, {"decision": "ignore"}, token=alice).status_code == 403
    bad = review(copy, {"decision": "keep"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_review"
    assert review(999999, {"decision": "ignore"}).json()["error"]["code"] == "not_found"
    alone = review(unrelated, {"decision": "ignore"})
    assert alone.status_code == 404 and alone.json()["error"]["code"] == "unknown_group"
    outside = review(copy, {"decision": "keep", "asset_id": unrelated})
    assert outside.status_code == 422 and outside.json()["error"]["code"] == "asset_not_in_group"
    assert rows() == before, "nothing is written on an error"

    done = review(copy, {"decision": "keep", "asset_id": original, "note": "the original"})
    assert done.status_code == 201, done.text
    recorded = done.json()["review"]
    assert recorded["anchor_asset_id"] == original and recorded["member_ids"] == [original, copy]
    assert recorded["keep_asset_id"] == original and recorded["reviewed_by"] == "root"

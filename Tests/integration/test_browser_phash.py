"""The browser's perceptual hash (www/app/phash.js, phash-worker.js) in real headless Chromium
behind a real nginx: bit for bit the server's on the shared vectors (the same file the Swift
tests check), through the worker's decode of PNG files whatever the strip size, no hash for
what is not an image; and the "similar to asset N" question before an upload, against the
in-process fake API (Skip sends nothing, Upload anyway sends the file, other files go on
while the question waits, a server without the endpoint means no question)."""
import os
import shutil
import subprocess

import pytest

from browser_support import add_folder, open_app, rows, severe_console_errors, wait_hashed, wait_until
from fake_upload_api import FakeUploadAPI
from image_files import hamming, scaled_rgb, vectors, write_png

# The page on a static site, or against the in-process fake API: no app, no store.

RUN_ASYNC = """
    const done = arguments[arguments.length - 1];
    (async () => { %s })().then(done, (e) => done({error: String(e && e.stack || e)}));
"""


def run_async(driver, body, *args):
    result = driver.execute_async_script(RUN_ASYNC % body, *args)
    assert not (isinstance(result, dict) and "error" in result), result
    return result


def hash_files_in_page(driver, paths, strip_pixels=None, max_exact_pixels=None):
    """Hashes files with the page's PerceptualHasher (the worker: decode, strips, hash)."""
    driver.execute_script("""
        const input = document.createElement('input');
        input.type = 'file'; input.multiple = true; input.id = 'phash-files'; input.hidden = true;
        document.body.append(input);""")
    driver.find_element("id", "phash-files").send_keys("\n".join(str(p) for p in paths))
    return run_async(driver, """
        const { PerceptualHasher } = await import('./perceptual-hasher.js');
        const hasher = new PerceptualHasher({ stripPixels: arguments[0], maxExactPixels: arguments[1] });
        const input = document.getElementById('phash-files');
        const out = [];
        for (const file of input.files) out.push(await hasher.hash(file));
        hasher.terminate();
        input.remove();
        return out;""", strip_pixels, max_exact_pixels)


def test_js_hash_equals_the_server_vectors(browser, static_site):
    """phash.js on the raw RGB of every shared vector gives the Swift hash: 0 bits apart."""
    open_app(browser, static_site.base_url)
    cases = vectors()
    got = run_async(browser, """
        const { phashFromPixels } = await import('./phash.js');
        return arguments[0].map((v) => {
            const bytes = Uint8Array.from(atob(v.b64), (c) => c.charCodeAt(0));
            return phashFromPixels(bytes, v.width, v.height, 3);
        });""", [{"b64": __import__("base64").b64encode(v["rgb"]).decode(), "width": v["width"],
                  "height": v["height"]} for v in cases])
    assert [(v["name"], h) for v, h in zip(cases, got)] == [(v["name"], v["phash"]) for v in cases]


@pytest.mark.parametrize("strip_pixels", [None, 1, 7 * 257])
def test_worker_hashes_png_files_like_the_server(browser, static_site, tmp_path, strip_pixels):
    """The worker's path (createImageBitmap, OffscreenCanvas strips, getImageData) gives back the
    exact pixels of a lossless file: the vector hashes, read whole, one row at a time or in
    strips of 7 rows of the widest vector."""
    cases = vectors()
    paths = [write_png(tmp_path / f"v{i}.png", v["width"], v["height"], v["rgb"]) for i, v in enumerate(cases)]
    open_app(browser, static_site.base_url)
    got = hash_files_in_page(browser, paths, strip_pixels)
    assert [(v["name"], h) for v, h in zip(cases, got)] == [(v["name"], v["phash"]) for v in cases]


def test_enlarged_copy_hashes_the_same(browser, static_site, tmp_path):
    """A 4x copy (each pixel repeated 4x4) area-averages back to the original exactly, so its
    hash is the original's; this also reads a 1028x124 image in several strips."""
    v = vectors()[6]
    width, height, rgb = scaled_rgb(v["width"], v["height"], v["rgb"], 4)
    path = write_png(tmp_path / "big.png", width, height, rgb)
    open_app(browser, static_site.base_url)
    assert hash_files_in_page(browser, [path], strip_pixels=width * 10) == [v["phash"]]


def test_not_an_image_has_no_hash(browser, static_site, tmp_path):
    fake_jpeg = tmp_path / "fake.jpg"
    fake_jpeg.write_bytes(os.urandom(5000))
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    good = write_png(tmp_path / "ok.png", vectors()[0]["width"], vectors()[0]["height"], vectors()[0]["rgb"])
    open_app(browser, static_site.base_url)
    assert hash_files_in_page(browser, [fake_jpeg, empty, good]) == [None, None, vectors()[0]["phash"]]
    assert severe_console_errors(browser) == []


# ---- the question before an upload, against the fake API --------------------------------------

@pytest.fixture
def fake(static_site):
    api = FakeUploadAPI(static_site.api_port)
    yield api
    api.stop()


def sign_in(driver, base_url, provider="alpha"):
    from selenium.webdriver.support.select import Select

    open_app(driver, base_url)
    driver.find_element("id", "token").send_keys("t")
    driver.find_element("id", "sign-in").click()
    wait_until(driver, lambda d: d.find_element("id", "signed-in").is_displayed(), what="sign-in")
    Select(driver.find_element("id", "provider")).select_by_value(provider)


def by_name(driver):
    return {r["path"].split("/")[-1]: r for r in rows(driver)}


def start_upload(driver):
    wait_until(driver, lambda d: d.find_element("id", "upload").is_enabled(), what="the upload button")
    driver.execute_script("document.getElementById('summary').textContent = ''")
    driver.find_element("id", "upload").click()


def summary(driver):
    return wait_until(driver, lambda d: d.find_element("id", "summary").text, what="the summary line")


def similar_folder(tmp_path):
    """An image (vector 0 as PNG) and a file that is not one."""
    v = vectors()[0]
    folder = tmp_path / "album"
    write_png(folder / "copy.png", v["width"], v["height"], v["rgb"])
    (folder / "notes.bin").write_bytes(os.urandom(2000))
    return folder, v["phash"]


def wait_question(driver):
    return wait_until(driver, lambda d: (r := by_name(d).get("copy.png")) and r["uploadState"] == "similar" and r,
                      what="the similar question")


def test_similar_image_asks_and_skip_sends_nothing(browser, static_site, fake, tmp_path):
    folder, phash = similar_folder(tmp_path)
    fake.similar = lambda h: [{"asset_id": 7, "distance": 3, "original_filename": "a.jpg"}] if h == phash else []
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 2)
    start_upload(browser)
    row = wait_question(browser)
    assert row["upload"].startswith("similar to asset 7 (a.jpg)"), row
    # The other file does not wait for the answer.
    wait_until(browser, lambda d: by_name(d)["notes.bin"]["uploadState"] == "done", what="the other upload")
    assert fake.similar_queries == [phash]
    assert browser.find_element("css selector", "tr[data-upload-state='similar'] .similar-upload").text == "Upload anyway"
    browser.find_element("css selector", "tr[data-upload-state='similar'] .similar-skip").click()
    line = summary(browser)
    assert line == "Done: 1 uploaded, 0 already uploaded, 0 identical in this folder, 0 failed, 1 skipped as similar (of 2 files).", line
    row = by_name(browser)["copy.png"]
    assert row["uploadState"] == "skipped-similar" and row["upload"] == "not uploaded: similar to asset 7 (a.jpg)", row
    assert len(fake.log("POST", "/api/v1/assets/upload")) == 1  # notes.bin only
    # The question asked the stand-in server for asset 7's thumbnail, which it does not have.
    assert [e for e in severe_console_errors(browser) if "/thumbnail?" not in e["message"]] == []


def test_progress_says_processing_then_waiting_for_your_answer(browser, static_site, fake, tmp_path):
    """No false ETA: while the server works on a fully sent file the line says "Processing...",
    while only a question holds the upload up it says "Waiting for your answer...";
    "Skip all similar" answers it."""
    folder, phash = similar_folder(tmp_path)
    fake.similar = lambda h: [{"asset_id": 7, "distance": 3, "original_filename": "a.jpg"}]
    fake.hold_answers = True  # notes.bin's answer waits, as a server fingerprinting a video does
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 2)
    start_upload(browser)
    wait_question(browser)
    wait_until(browser, lambda d: fake.held.is_set(), what="the upload's answer to be held")
    line = wait_until(browser, lambda d: (t := d.find_element("id", "progress").text).startswith("Processing") and t,
                      what="the processing line")
    assert line.endswith("the server is storing the file and checking for similar files…; "
                         "1 similar file waiting for your answer"), line
    assert by_name(browser)["notes.bin"]["upload"] == "processing on the server (storing, checking for similar files…)"
    fake.release()
    line = wait_until(browser, lambda d: (t := d.find_element("id", "progress").text).startswith("Waiting") and t,
                      what="the waiting line")
    # Of all the bytes this run may send: the question's file counts until it is answered.
    total = sum(p.stat().st_size for p in folder.iterdir()) / 1024
    assert line == (f"Waiting for your answer... 2.0 KiB of {total:.1f} KiB sent; "
                    "1 similar file waiting for your answer."), line
    browser.find_element("id", "skip-all-similar").click()
    assert "1 skipped as similar" in summary(browser)


def test_upload_anyway_sends_the_file(browser, static_site, fake, tmp_path):
    folder, phash = similar_folder(tmp_path)
    similar = [{"asset_id": 7, "distance": 3, "original_filename": "a.jpg"},
               {"asset_id": 9, "distance": 5, "original_filename": "b.png"}]
    fake.similar = lambda h: similar
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 2)
    start_upload(browser)
    row = wait_question(browser)
    assert row["upload"].startswith("similar to asset 7 (a.jpg), asset 9 (b.png)"), row
    browser.find_element("css selector", "tr[data-upload-state='similar'] .similar-upload").click()
    assert summary(browser).startswith("Done: 2 uploaded, 0 already uploaded"), summary(browser)
    assert len(fake.log("POST", "/api/v1/assets/upload")) == 2
    assert by_name(browser)["copy.png"]["upload"].startswith("uploaded (asset ")


@pytest.mark.parametrize("status", [None, 501, 503])
def test_server_without_the_check_uploads_as_before(browser, static_site, fake, tmp_path, status):
    """404 (no endpoint: `similar` unset), 501, or a failing check: no question, the upload goes
    on. After a 404 or 501 the page stops asking (one request, not one per image)."""
    folder, phash = similar_folder(tmp_path)
    v = vectors()[1]
    write_png(folder / "second.png", v["width"], v["height"], v["rgb"])
    if status is not None:
        fake.similar = lambda h: status
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 3)
    start_upload(browser)
    assert summary(browser).startswith("Done: 3 uploaded, 0 already uploaded"), summary(browser)
    asked = fake.log("POST", "/api/v1/assets/similar")
    assert [r["status"] for r in asked] == ([503, 503] if status == 503 else [status or 404])
    # Chromium logs the 404/501/503 answer itself (source "network"); nothing else may fail.
    assert [e for e in severe_console_errors(browser) if e["source"] != "network"] == []


def test_cancel_while_the_question_waits(browser, static_site, fake, tmp_path):
    folder, phash = similar_folder(tmp_path)
    fake.similar = lambda h: [{"asset_id": 7, "distance": 0, "original_filename": "a.jpg"}]
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 2)
    start_upload(browser)
    wait_question(browser)
    browser.find_element("id", "cancel").click()
    summary(browser)
    row = by_name(browser)["copy.png"]
    assert row["uploadState"] == "cancelled", row
    assert browser.find_elements("css selector", ".similar-skip") == []


# ---- distance from the server's decode, without the server ---------------------------------------

@pytest.mark.skipif(not shutil.which("vips"), reason="needs the vips command-line tool")
def test_browser_hash_is_close_to_a_vips_thumbnail_hash(browser, static_site, tmp_path):
    """The server hashes what libvips' thumbnail gives (shrink-on-load, short side 256, sRGB:
    ImageDecoder on the decode branch); the same `vips thumbnail` on the command line, saved as
    PNG and hashed bit-exactly by the worker, stands in for it here. The browser hashes the file
    at full size. `PHASH_PRINT_DISTANCES=1` prints the table (docs/DESIGN.md)."""
    from browser_images import draw_images
    from test_browser_similar_e2e import MEASURED

    open_app(browser, static_site.base_url)
    table = []
    for seed, width, height in MEASURED:
        specs = [{"seed": seed, "width": width, "height": height, "type": "png"},
                 {"seed": seed, "width": width, "height": height, "type": "jpeg", "quality": 0.9},
                 {"seed": seed, "width": width, "height": height, "type": "jpeg", "quality": 0.6}]
        for spec, data in zip(specs, draw_images(browser, specs)):
            name = f"p{seed}-{width}x{height}-{spec['type']}{int(spec.get('quality', 1) * 100)}"
            path = tmp_path / f"{name}.{spec['type']}"
            path.write_bytes(data)
            thumb = tmp_path / f"{name}-thumb.png"
            box = ["256", "--height", "10000000"] if width <= height else ["10000000", "--height", "256"]
            subprocess.run(["vips", "thumbnail", str(path), str(thumb), *box, "--size", "down"], check=True)
            browser_hash, server_hash = hash_files_in_page(browser, [path, thumb])
            table.append((name, browser_hash, server_hash, hamming(browser_hash, server_hash)))
    if os.environ.get("PHASH_PRINT_DISTANCES") == "1":
        for row in table:
            print(*row)
        distances = [d for *_, d in table]
        print(f"max {max(distances)} mean {sum(distances) / len(distances):.2f} over {len(distances)} files")
    assert max(d for *_, d in table) <= 4, table


@pytest.mark.skipif(not shutil.which("vips"), reason="needs the vips command-line tool")
def test_exif_orientation_is_applied_like_the_server(browser, static_site, tmp_path):
    """A JPEG tagged Orientation 6 (show rotated 90° clockwise) hashes as the upright picture:
    as `vips rot d90` of the untagged file, and as libvips' autorotating thumbnail."""
    from browser_images import draw_images
    from image_files import with_exif_orientation

    open_app(browser, static_site.base_url)
    plain = draw_images(browser, [{"seed": 7, "width": 900, "height": 600, "type": "jpeg", "quality": 0.95}])[0]
    (tmp_path / "plain.jpg").write_bytes(plain)
    (tmp_path / "tagged.jpg").write_bytes(with_exif_orientation(plain, 6))
    subprocess.run(["vips", "rot", str(tmp_path / "plain.jpg"), str(tmp_path / "upright.png"), "d90"], check=True)
    subprocess.run(["vips", "thumbnail", str(tmp_path / "tagged.jpg"), str(tmp_path / "thumb.png"),
                    "256", "--height", "10000000", "--size", "down"], check=True)
    plain_hash, tagged, upright, thumb = hash_files_in_page(
        browser, [tmp_path / n for n in ["plain.jpg", "tagged.jpg", "upright.png", "thumb.png"]])
    assert tagged == upright
    assert hamming(tagged, thumb) <= 4, (tagged, thumb)
    assert hamming(tagged, plain_hash) >= 16, (tagged, plain_hash)


def test_a_skip_stands_for_the_next_run(browser, static_site, fake, tmp_path):
    folder, phash = similar_folder(tmp_path)
    fake.similar = lambda h: [{"asset_id": 7, "distance": 3, "original_filename": "a.jpg"}]
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 2)
    start_upload(browser)
    wait_question(browser)
    browser.find_element("css selector", "tr[data-path$='/copy.png'] .similar-skip").click()
    assert "1 skipped as similar" in summary(browser)
    start_upload(browser)
    line = summary(browser)
    assert "1 skipped as similar" in line, line
    assert len(fake.similar_queries) == 1
    assert len(fake.log("POST", "/api/v1/assets/upload")) == 1


def test_images_over_the_pixel_cap_are_scaled_first_and_stay_close(browser, static_site, tmp_path):
    """Above the cap (50 MP; lowered here) the browser scales the bitmap down before reading it:
    not the server's area average, but close to it."""
    from browser_images import draw_images

    open_app(browser, static_site.base_url)
    data = draw_images(browser, [{"seed": 11, "width": 2000, "height": 1500, "type": "jpeg", "quality": 0.9}])[0]
    path = tmp_path / "big.jpg"
    path.write_bytes(data)
    exact = hash_files_in_page(browser, [path])[0]
    scaled = hash_files_in_page(browser, [path], max_exact_pixels=2000 * 1500 // 9)[0]
    assert hamming(exact, scaled) <= 4, (exact, scaled)


def test_similar_in_the_upload_answer_is_shown(browser, static_site, fake, tmp_path):
    """What the question before the upload could not catch (here: the stand-in server's check
    finds nothing), the server's upload answer names; the row says so and offers to move the
    upload to the trash."""
    folder, phash = similar_folder(tmp_path)
    fake.similar = lambda h: []
    fake.similar_on_upload = [{"asset_id": 3, "distance": 1, "original_filename": "twin.png"}]
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 2)
    start_upload(browser)
    assert summary(browser).startswith("Done: 2 uploaded"), summary(browser)
    row = by_name(browser)["copy.png"]
    assert row["upload"].endswith("; similar to asset 3 (twin.png) Move to trash") and row["upload"].startswith("uploaded (asset "), row

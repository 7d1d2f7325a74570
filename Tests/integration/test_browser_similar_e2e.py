"""Near-duplicates end to end: real headless Chromium against the real stack (nginx + the
assetdedup app, which hashes images with libvips at upload). A 50% copy of an uploaded picture
is announced before it is sent ("similar to asset N (a.png)"); Skip sends nothing, Upload
anyway sends it. Also measures how far the browser's hash (phash-worker.js on the file) is from
the server's (`perceptual_hash` in the upload answer) for PNG and JPEG files, the figures in
docs/DESIGN.md ("Near-duplicates: browser"); `PHASH_PRINT_DISTANCES=1` prints the table.
Skipped on a server without `POST /api/v1/assets/similar`."""
import os

import pytest

import conftest

if not (hasattr(conftest, "Stack") or hasattr(conftest, "stack")):
    pytest.skip("needs the `stack` fixture (real nginx + app) from conftest.py", allow_module_level=True)

from browser_images import draw_images
from browser_support import add_folder, clear_origin, open_app, rows, severe_console_errors, wait_until
from image_files import hamming
from test_browser_e2e import provider_ids, sign_in, upload_and_wait
from test_browser_phash import hash_files_in_page


@pytest.fixture
def page(browser_session, stack):
    clear_origin(browser_session, stack.base_url)
    yield browser_session
    clear_origin(browser_session, stack.base_url)


@pytest.fixture
def token(stack, request):
    token = stack.add_user(request.node.name[:30].replace("[", "_").replace("]", "_"))
    answer = stack.api("POST", "/api/v1/assets/similar", token, json={"perceptual_hash": "0" * 16})
    if answer.status_code in (404, 405, 501):
        pytest.skip(f"this server has no POST /api/v1/assets/similar ({answer.status_code})")
    assert answer.status_code == 200, answer.text
    return token


def by_name(driver):
    return {r["path"].split("/")[-1]: r for r in rows(driver)}


def write(folder, name, data):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder


def test_resized_copy_is_announced_skip_sends_nothing_upload_anyway_sends_it(page, stack, token, tmp_path):
    provider = provider_ids(stack, token)[0]
    original, half_png, half_jpeg = None, None, None
    sign_in(page, stack, token, provider)
    original, half_png, half_jpeg = draw_images(page, [
        {"seed": 21, "width": 1200, "height": 800, "type": "png"},
        {"seed": 21, "width": 1200, "height": 800, "type": "png", "scale": 0.5},
        {"seed": 21, "width": 1200, "height": 800, "type": "jpeg", "quality": 0.85, "scale": 0.5},
    ])
    add_folder(page, write(tmp_path / "originals", "a.png", original))
    summary = upload_and_wait(page)
    assert summary.startswith("Done: 1 uploaded"), summary
    asset_id = int(by_name(page)["a.png"]["upload"].removeprefix("uploaded (asset ").rstrip(")"))
    held = stack.provider_uploads_count(provider)

    # The 50% copy: asked about before any byte is sent, naming the original.
    add_folder(page, write(tmp_path / "copies", "a-half.png", half_png))
    wait_until(page, lambda d: d.find_element("id", "upload").is_enabled(), what="the upload button")
    page.execute_script("document.getElementById('summary').textContent = ''")
    page.find_element("id", "upload").click()
    row = wait_until(page, lambda d: (r := by_name(d).get("a-half.png")) and r["uploadState"] == "similar" and r,
                     what="the similar question")
    assert row["upload"].startswith(f"similar to asset {asset_id} (a.png)"), row
    page.find_element("css selector", "tr[data-path$='/a-half.png'] .similar-skip").click()
    summary = wait_until(page, lambda d: d.find_element("id", "summary").text, what="the summary line")
    assert "1 skipped as similar" in summary, summary
    assert stack.provider_uploads_count(provider) == held

    # Another copy (a JPEG of it): Upload anyway sends it.
    add_folder(page, write(tmp_path / "more", "a-half.jpg", half_jpeg))
    wait_until(page, lambda d: d.find_element("id", "upload").is_enabled(), what="the upload button")
    page.execute_script("document.getElementById('summary').textContent = ''")
    page.find_element("id", "upload").click()
    row = wait_until(page, lambda d: (r := by_name(d).get("a-half.jpg")) and r["uploadState"] == "similar" and r,
                     what="the similar question for the JPEG")
    assert row["upload"].startswith(f"similar to asset {asset_id} (a.png)"), row
    page.find_element("css selector", "tr[data-path$='/a-half.jpg'] .similar-upload").click()
    summary = wait_until(page, lambda d: d.find_element("id", "summary").text, what="the summary line")
    assert by_name(page)["a-half.jpg"]["uploadState"] == "done", by_name(page)["a-half.jpg"]
    # The skipped copy was not asked about again: its answer stands for the page's life.
    assert by_name(page)["a-half.png"]["uploadState"] == "skipped-similar", summary
    assert stack.provider_uploads_count(provider) == held + 1
    assert [e for e in severe_console_errors(page) if e["source"] != "network"] == []


# Pictures for the browser-vs-server measurement: sizes from small to 12 MP, PNG and JPEG.
MEASURED = [(seed, w, h) for seed, (w, h) in enumerate(
    [(640, 480), (1024, 768), (1500, 1000), (800, 1200), (2400, 1600), (4032, 3024)], start=40)]


def test_browser_hash_is_close_to_the_server_hash(page, stack, token, tmp_path):
    provider = provider_ids(stack, token)[0]
    open_app(page, stack.base_url)
    table = []
    for seed, width, height in MEASURED:
        specs = [{"seed": seed, "width": width, "height": height, "type": "png"},
                 {"seed": seed, "width": width, "height": height, "type": "jpeg", "quality": 0.9},
                 {"seed": seed, "width": width, "height": height, "type": "jpeg", "quality": 0.6}]
        for spec, data in zip(specs, draw_images(page, specs)):
            name = f"p{seed}-{width}x{height}-{spec['type']}{int(spec.get('quality', 1) * 100)}.{spec['type']}"
            path = tmp_path / name
            path.write_bytes(data)
            answer = stack.upload(token, data, provider=provider, filename=name, mime=f"image/{spec['type']}")
            assert answer.status_code in (200, 201), answer.text
            server = answer.json().get("perceptual_hash")
            if isinstance(server, dict):  # {"kind": "image", "hash": "<16 hex>"}, or kind "none" with a reason
                assert server.get("kind") == "image", server
                server = server["hash"]
            assert server, answer.json()
            browser = hash_files_in_page(page, [path])[0]
            table.append((name, browser, server, hamming(browser, server)))
    if os.environ.get("PHASH_PRINT_DISTANCES") == "1":
        for row in table:
            print(*row)
        distances = [d for *_, d in table]
        print(f"max {max(distances)} mean {sum(distances) / len(distances):.2f} over {len(distances)} files")
    # Far inside the default threshold (10): a browser query finds what the server stored.
    assert max(d for *_, d in table) <= 4, table

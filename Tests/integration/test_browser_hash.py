"""The browser client's hashing in real headless Chromium behind a real nginx: the wasm kernel
(built from Sources/SHA256Kernel) and the JS fallback agree with hashlib and sha256sum, memory
stays bounded on a 1 GiB file, progress is reported, hashing can be cancelled, and the page
obeys the production CSP."""
import hashlib
import os
import re
import subprocess
import threading
import time

import pytest

from browser_support import (add_files, add_folder, chromium_rss_bytes, open_app, rows, severe_console_errors,
                             wait_hashed, wait_until)

# Hashing in the page on a static site: no app, no store.

MIB = 1024 * 1024
SIZES = [0, 1, 63, 64, 65, 4 * MIB - 1, 4 * MIB, 4 * MIB + 1, 8 * MIB + 3]


def write_files(folder, sizes, seed=1):
    rng = __import__("random").Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for size in sizes:
        path = folder / f"f{size:09d}.bin"
        path.write_bytes(rng.randbytes(size))
        paths.append(path)
    return paths


def sha256sum(path):
    return subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]


def test_wasm_hashes_equal_hashlib_and_sha256sum(browser, static_site, tmp_path):
    folder = tmp_path / "media"
    paths = write_files(folder, SIZES)
    big = folder / "random-50m.bin"
    big.write_bytes(os.urandom(50 * MIB + 12345))
    paths.append(big)
    open_app(browser, static_site.base_url, "?engine=wasm")  # small files too go through wasm
    add_folder(browser, folder)
    result = {r["path"]: r for r in wait_hashed(browser, len(paths))}
    for path in paths:
        row = result[f"media/{path.name}"]
        assert row["engine"] == "wasm", row
        assert row["hashState"] == "computed"
        assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == sha256sum(path), path.name
    assert severe_console_errors(browser) == []


@pytest.mark.parametrize("reader", ["slices", "inline"])
def test_wasm_with_fallback_readers_hashes_equal_sha256sum(browser, static_site, tmp_path, reader):
    """The fallback readers keep the bytes in order: slice().arrayBuffer() in the reader worker,
    and reading in the hash worker's own thread (where workers cannot start workers)."""
    folder = tmp_path / "sliced"
    paths = write_files(folder, [0, 65, 4 * MIB, 4 * MIB + 1, 21 * MIB + 5], seed=5)
    open_app(browser, static_site.base_url, f"?engine=wasm&reader={reader}")
    add_folder(browser, folder)
    result = {r["path"]: r for r in wait_hashed(browser, len(paths))}
    for path in paths:
        row = result[f"sliced/{path.name}"]
        assert row["engine"] == "wasm", row
        assert row["sha256"] == sha256sum(path), path.name


def test_default_engines_small_files_subtle_large_files_wasm(browser, static_site, tmp_path):
    """Files up to 32 MiB hash whole with crypto.subtle.digest; larger ones stream through wasm."""
    folder = tmp_path / "mixed"
    paths = write_files(folder, [0, 1, 64, 5 * MIB + 7, 32 * MIB, 32 * MIB + 1], seed=3)
    open_app(browser, static_site.base_url)
    add_folder(browser, folder)
    result = {r["path"]: r for r in wait_hashed(browser, len(paths))}
    for path in paths:
        row = result[f"mixed/{path.name}"]
        assert row["engine"] == ("subtle" if path.stat().st_size <= 32 * MIB else "wasm"), row
        assert row["sha256"] == sha256sum(path), path.name
    assert severe_console_errors(browser) == []


def test_js_fallback_hashes_equal_hashlib(browser, static_site, tmp_path):
    paths = write_files(tmp_path / "small", [0, 1, 55, 56, 63, 64, 65, 1000, 300_001], seed=7)
    open_app(browser, static_site.base_url, "?engine=js")
    add_folder(browser, tmp_path / "small")
    result = {r["path"]: r for r in wait_hashed(browser, len(paths))}
    for path in paths:
        row = result[f"small/{path.name}"]
        assert row["engine"] == "js"
        assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), path.name


def test_files_input_classifies_and_reports_progress(browser, static_site, tmp_path):
    folder = tmp_path / "pick"
    folder.mkdir()
    names = {"a.JPG": "image", "clip.mov": "video", "notes.txt": "other", "pic.webp": "image"}
    for name in names:
        (folder / name).write_bytes(os.urandom(3 * MIB))
    open_app(browser, static_site.base_url)
    # Record every progress line the page shows, to check the wording while it runs.
    browser.execute_script("""
        window.progressLog = [];
        new MutationObserver(() => progressLog.push(document.getElementById('progress').textContent))
            .observe(document.getElementById('progress'), {childList: true, characterData: true, subtree: true});""")
    add_files(browser, [folder / n for n in names])
    result = {r["path"]: r for r in wait_hashed(browser, len(names))}
    assert {p.split("/", 1)[1]: r["kind"] for p, r in result.items()} == names
    log = browser.execute_script("return window.progressLog")
    assert any(re.fullmatch(r"Computing hashes\.\.\. \d+% \(\d+/4\)", line) for line in log), log
    assert "Computing hashes... 100% (4/4)" in log
    assert log[-1].startswith("Hashes ready: 4 of 4 files")


def test_one_gib_file_hashes_with_bounded_memory(browser, static_site, tmp_path):
    big = tmp_path / "huge" / "sparse-1g.bin"
    big.parent.mkdir()
    with open(big, "wb") as f:
        f.truncate(1024 * MIB)  # sparse: reads as zeros, costs no disk
    expected = hashlib.sha256()
    chunk = bytes(MIB)
    for _ in range(1024):
        expected.update(chunk)
    open_app(browser, static_site.base_url)
    browser.execute_cdp_cmd("Performance.enable", {})
    baseline = chromium_rss_bytes(browser)
    peak = [baseline]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], chromium_rss_bytes(browser))
            time.sleep(0.05)  # pacing: the sampling interval, not waiting for anything

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        add_folder(browser, big.parent)
        heap = []
        deadline = time.monotonic() + 300  # for a regression to fail, not a guess at the speed
        while not (heap and [r["hashState"] for r in rows(browser)] == ["computed"]):
            assert time.monotonic() < deadline, "timed out waiting for the file to be hashed"
            metrics = browser.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
            heap.append(next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize"))
            time.sleep(0.2)  # pacing: the heap sampling interval; the loop ends on the event above
        row = wait_hashed(browser, 1)[0]
    finally:
        stop.set()
        sampler.join()
    assert row["sha256"] == expected.hexdigest()
    growth = peak[0] - baseline
    # A whole-file read would add at least 1 GiB; a few 4 MiB slices plus wasm memory is tiny.
    assert growth < 300 * MIB, f"Chromium grew by {growth / MIB:.0f} MiB while hashing 1 GiB"
    assert max(heap) < 100 * MIB, f"page JS heap reached {max(heap) / MIB:.0f} MiB"


def test_cancel_stops_hashing(browser, static_site, tmp_path):
    big = tmp_path / "slow" / "sparse.bin"
    big.parent.mkdir()
    with open(big, "wb") as f:
        f.truncate(4096 * MIB)
    open_app(browser, static_site.base_url, "?engine=js")  # the slow engine: surely still running
    add_folder(browser, big.parent)
    wait_until(browser, lambda d: rows(d) and rows(d)[0]["hashState"] == "hashing", what="hashing to start")
    browser.find_element("id", "cancel").click()
    row = wait_hashed(browser, 1, timeout=30)[0]
    assert row["hashState"] == "cancelled"
    assert row["sha256"] is None


def test_page_fits_320px_and_works_by_keyboard(browser, static_site, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    write_files(tmp_path / "narrow", [10, 20])
    browser.set_window_size(320, 700)
    try:
        open_app(browser, static_site.base_url)
        add_folder(browser, tmp_path / "narrow")
        wait_hashed(browser, 2)
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"page is {overflow}px wider than a 320px screen"
        browser.find_element("tag name", "h1").click()
        seen = []
        for _ in range(12):
            # Real key presses (a file input would take send_keys as a path).
            ActionChains(browser).send_keys(Keys.TAB).perform()
            seen.append(browser.switch_to.active_element.get_attribute("id"))
        for control in ["token", "sign-in", "folder-input", "files-input", "hash-all"]:
            assert control in seen, seen
    finally:
        browser.set_window_size(1280, 900)


def test_sign_in_with_server_down_says_so(browser, static_site):
    open_app(browser, static_site.base_url)
    browser.find_element("id", "token").send_keys("adt_" + "0" * 64)
    browser.find_element("id", "sign-in").click()
    error = wait_until(browser, lambda d: d.find_element("id", "error").text, what="an error message")
    assert "Server unavailable (502)" in error
    assert browser.execute_script("return sessionStorage.getItem('assetdedup.token')") is None
    assert browser.find_element("id", "upload").get_attribute("disabled") is not None

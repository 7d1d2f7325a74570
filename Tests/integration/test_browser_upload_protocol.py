"""The browser client's upload protocol in real headless Chromium behind a real nginx, against
an in-process fake of the API (fake_upload_api.py) that can drop a connection, lose its place,
forget an upload or hold a chunk on command: resumable uploads continue from the server's
offset (after a dropped connection, a 409, a reload), start over when the upload is gone, held
content is added to a provider without its bytes (200 and 202 "queued"), and every async
failure reaches the page's error area. test_browser_e2e.py runs the same flows on the real stack."""
import hashlib
import os

import pytest

from browser_support import add_folder, idb, open_app, rows, wait_hashed, wait_until
from fake_upload_api import FakeUploadAPI

# The page against an in-process fake API: no app, no store.

KIB = 1024
CHUNK = 256 * KIB  # the test nginx keeps its default 1 MiB body limit
# Files above 512 KiB go up resumable, 256 KiB per PATCH; retries pause 50, 100, 200, 400 ms.
QUERY = f"?resumable={512 * KIB}&chunk={CHUNK}&backoff=50"


@pytest.fixture
def fake(static_site):
    api = FakeUploadAPI(static_site.api_port)
    yield api
    api.stop()


def sign_in(driver, base_url, provider="alpha", query=QUERY):
    from selenium.webdriver.support.select import Select

    open_app(driver, base_url, query)
    if not driver.find_element("id", "signed-in").is_displayed():
        driver.find_element("id", "token").send_keys("t")
        driver.find_element("id", "sign-in").click()
        wait_until(driver, lambda d: d.find_element("id", "signed-in").is_displayed(), what="sign-in")
    Select(driver.find_element("id", "provider")).select_by_value(provider)


def upload_and_wait(driver, timeout=120):
    wait_until(driver, lambda d: d.find_element("id", "upload").is_enabled(), what="the upload button")
    driver.execute_script("document.getElementById('summary').textContent = ''")
    driver.find_element("id", "upload").click()
    return wait_until(driver, lambda d: d.find_element("id", "summary").text, timeout=timeout,
                      what="the summary line")


def folder_with(tmp_path, name, data):
    folder = tmp_path / "media"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    return folder


def in_progress(driver):
    return idb(driver, "return await wrap(tx('uploads_in_progress').getAll());")


def patch_bytes(fake):
    return sum(r["body"] for r in fake.log("PATCH"))


def test_large_file_goes_up_in_chunks_and_is_recorded(browser, static_site, fake, tmp_path):
    data = os.urandom(8 * CHUNK + 3)
    folder = folder_with(tmp_path, "big.mov", data)
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 1)
    summary = upload_and_wait(browser)
    assert summary.startswith("Done: 1 uploaded, 0 already uploaded"), (summary, rows(browser)[0]["upload"], fake.log())
    assert rows(browser)[0]["upload"] == "uploaded (asset 2)"
    patches = fake.log("PATCH")
    assert [int(p["offset"]) for p in patches] == [i * CHUNK for i in range(9)]
    assert [p["complete"] for p in patches] == ["?0"] * 8 + ["?1"]
    assert patch_bytes(fake) == len(data)
    assert fake.log("POST", "/api/v1/assets/upload") == []
    assert fake.assets[hashlib.sha256(data).hexdigest()]["data"] == data
    assert in_progress(browser) == []
    record = idb(browser, f"return await wrap(tx('uploads_by_hash').get('{hashlib.sha256(data).hexdigest()}'));")
    assert record["providers"] == ["alpha"] and record["assetId"] == 2


def test_small_file_keeps_the_single_request_upload(browser, static_site, fake, tmp_path):
    folder = folder_with(tmp_path, "small.jpg", os.urandom(100 * KIB))
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 1)
    upload_and_wait(browser)
    assert len(fake.log("POST", "/api/v1/assets/upload")) == 1  # the fake answers 404; the path is what counts
    assert fake.log("POST", "/api/v1/uploads") == [] and fake.log("PATCH") == []


def test_dropped_connection_mismatch_and_expiry_are_survived(browser, static_site, fake, tmp_path):
    data = os.urandom(6 * CHUNK)
    folder = folder_with(tmp_path, "clip.mp4", data)
    # 2nd PATCH: connection dropped (nginx answers 502) -> HEAD, resend; then a 409 -> HEAD;
    # then the upload is gone (404) -> a new upload from byte 0.
    fake.script = [None, "drop", "409", "404"]
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 1)
    summary = upload_and_wait(browser)
    assert summary.startswith("Done: 1 uploaded"), summary
    assert fake.assets[hashlib.sha256(data).hexdigest()]["data"] == data
    assert len(fake.log("POST", "/api/v1/uploads")) == 2
    assert len(fake.log("HEAD")) == 2
    sequence = [(r["method"], r["offset"], r["status"]) for r in fake.log() if r["path"].startswith("/api/v1/uploads")]
    assert sequence[:7] == [
        ("POST", None, 201), ("PATCH", "0", 204), ("PATCH", str(CHUNK), "dropped"), ("HEAD", None, 204),
        ("PATCH", str(CHUNK), 409), ("HEAD", None, 204), ("PATCH", str(CHUNK), 404)], sequence
    assert sequence[7] == ("POST", None, 201)
    assert in_progress(browser) == []


def test_a_lost_final_answer_is_asked_for_again_not_resent(browser, static_site, fake, tmp_path):
    data = os.urandom(3 * CHUNK)
    folder = folder_with(tmp_path, "done.mov", data)
    fake.script = [None, None, "lose"]  # the last chunk lands, its answer does not
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 1)
    summary = upload_and_wait(browser)
    assert summary.startswith("Done: 1 uploaded"), summary
    assert rows(browser)[0]["upload"] == "uploaded (asset 2)"
    sequence = [(r["method"], r["offset"], r["body"], r["status"]) for r in fake.log() if r["path"].startswith("/api/v1/uploads/")]
    assert sequence[-3:] == [("PATCH", str(2 * CHUNK), CHUNK, "dropped"), ("HEAD", None, 0, 204),
                             ("PATCH", str(3 * CHUNK), 0, 201)], sequence
    assert patch_bytes(fake) == len(data)
    assert in_progress(browser) == []


def test_reload_mid_upload_resumes_from_the_server_offset(browser, static_site, fake, tmp_path):
    data = os.urandom(8 * CHUNK)
    folder = folder_with(tmp_path, "long.mov", data)
    fake.hold_from = 3 * CHUNK  # the 4th chunk waits until the page has gone
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 1)
    browser.find_element("id", "upload").click()
    wait_until(browser, lambda d: fake.held.is_set(), what="the 4th chunk to be in flight")
    stored = in_progress(browser)
    assert [(s["provider"], s["size"]) for s in stored] == [("alpha", len(data))]

    open_app(browser, static_site.base_url, QUERY)  # reload: the PATCH in flight is abandoned
    fake.release()
    notice = wait_until(browser, lambda d: d.find_element("id", "unfinished").text, what="the unfinished-upload notice")
    assert notice.startswith("1 unfinished upload"), notice
    before = len(fake.log())
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 1)
    # Hold the 7th chunk too, to see the resumed run's progress: the 3 chunks of the first run count.
    fake.held.clear()
    fake.gate.clear()
    fake.hold_from = 6 * CHUNK
    browser.execute_script("document.getElementById('summary').textContent = ''")
    browser.find_element("id", "upload").click()
    wait_until(browser, lambda d: fake.held.is_set(), what="the 7th chunk to be in flight")
    row = wait_until(browser, lambda d: (lambda t: t if "%" in t else None)(rows(d)[0]["upload"]), what="upload progress")
    assert row.endswith("resumed at 768.0 KiB)"), row  # 3 chunks of 256 KiB
    fraction = browser.execute_script("return document.getElementById('progress-bar').value")
    assert fraction >= 0.75, fraction  # 6 of 8 chunks on the server, 3 of them from before the reload
    fake.release()  # that chunk is dropped: one more HEAD, and it is sent again
    summary = wait_until(browser, lambda d: d.find_element("id", "summary").text, what="the summary line")
    assert summary.startswith("Done: 1 uploaded"), summary
    after = [r for r in fake.log()[before:] if r["path"].startswith("/api/v1/uploads")]
    assert after[0]["method"] == "HEAD" and after[1] == {**after[1], "method": "PATCH", "offset": str(3 * CHUNK)}
    assert fake.log("POST", "/api/v1/uploads").__len__() == 1
    assert fake.assets[hashlib.sha256(data).hexdigest()]["data"] == data
    assert patch_bytes(fake) <= len(data) + 2 * CHUNK  # the two chunks held and dropped
    assert in_progress(browser) == []
    assert not browser.find_element("id", "unfinished").is_displayed()


def test_cancel_keeps_the_upload_and_the_next_run_resumes(browser, static_site, fake, tmp_path):
    data = os.urandom(4 * CHUNK)
    folder = folder_with(tmp_path, "stop.mov", data)
    fake.hold_from = 2 * CHUNK
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 1)
    browser.find_element("id", "upload").click()
    wait_until(browser, lambda d: fake.held.is_set(), what="the 3rd chunk to be in flight")
    browser.find_element("id", "cancel").click()
    summary = wait_until(browser, lambda d: d.find_element("id", "summary").text, what="the summary line")
    assert "1 cancelled" in summary, summary
    assert len(in_progress(browser)) == 1
    fake.release()
    before = len(fake.log())
    summary = upload_and_wait(browser)
    assert summary.startswith("Done: 1 uploaded"), summary
    again = [(r["method"], r["offset"]) for r in fake.log()[before:] if r["path"].startswith("/api/v1/uploads")]
    assert again[:2] == [("HEAD", None), ("PATCH", str(2 * CHUNK))], again
    assert fake.assets[hashlib.sha256(data).hexdigest()]["data"] == data


def test_refused_content_fails_the_row_and_forgets_the_upload(browser, static_site, fake, tmp_path):
    folder = folder_with(tmp_path, "changed.mov", os.urandom(3 * CHUNK))
    fake.script = [None, "422"]
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 1)
    summary = upload_and_wait(browser)
    assert "1 failed" in summary, summary
    row = rows(browser)[0]
    assert (row["uploadState"], row["upload"]) == ("failed", "the file's sha256 is not the one promised"), row
    assert len(fake.log("PATCH")) == 2  # not retried
    assert in_progress(browser) == []  # nothing to resume: the next run starts a new upload
    wait_until(browser, lambda d: fake.log("DELETE"), what="the upload to be deleted")


def test_retries_run_out_then_retry_failed_resumes(browser, static_site, fake, tmp_path):
    data = os.urandom(4 * CHUNK)
    folder = folder_with(tmp_path, "flaky.mov", data)
    fake.script = [None] + ["503"] * 5  # more than the 4 automatic retries
    sign_in(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 1)
    summary = upload_and_wait(browser)
    assert "1 failed" in summary, summary
    assert rows(browser)[0]["uploadState"] == "failed"
    retry = browser.find_element("id", "retry-failed")
    assert retry.is_displayed()
    before = len(fake.log())
    browser.execute_script("document.getElementById('summary').textContent = ''")
    retry.click()
    summary = wait_until(browser, lambda d: d.find_element("id", "summary").text, what="the summary line")
    assert summary.startswith("Done: 1 uploaded"), summary
    again = [(r["method"], r["offset"]) for r in fake.log()[before:] if r["path"].startswith("/api/v1/uploads")]
    assert again[0] == ("HEAD", None) and again[1] == ("PATCH", str(CHUNK)), again
    assert fake.assets[hashlib.sha256(data).hexdigest()]["data"] == data


@pytest.mark.parametrize("status", [200, 202])
def test_held_content_is_added_to_another_provider_without_bytes(browser, static_site, fake, tmp_path, status):
    small, large = os.urandom(50 * KIB), os.urandom(3 * CHUNK)
    for data in (small, large):
        fake.seed_asset(data, ["alpha"])
    folder = tmp_path / "held"
    folder.mkdir()
    (folder / "s.jpg").write_bytes(small)
    (folder / "l.mov").write_bytes(large)
    fake.add_provider_status = status
    sign_in(browser, static_site.base_url, provider="beta")
    add_folder(browser, folder)
    wait_hashed(browser, 2)
    summary = upload_and_wait(browser)
    texts = {r["path"]: r["upload"] for r in rows(browser)}
    if status == 200:
        assert summary.startswith("Done: 2 uploaded, 0 already uploaded"), summary
        assert summary.endswith("2 added from the server's copy (0 bytes sent) (of 2 files)."), summary
        assert set(texts.values()) == {"already on the server: added to beta (0 bytes sent)"}, texts
    else:
        assert "2 queued for delivery" in summary, summary
        assert set(texts.values()) == {"already on the server: queued for delivery to beta (0 bytes sent)"}, texts
        records = idb(browser, "return await wrap(tx('uploads_by_hash').getAll());")
        assert [(r["providers"], r["queued"]) for r in records] == [(["alpha"], ["beta"])] * 2
    assert sorted(r["path"] for r in fake.log("POST", "/api/v1/assets/") if r["path"].endswith("/providers")) == [
        "/api/v1/assets/1/providers", "/api/v1/assets/2/providers"]
    assert fake.log("PATCH") == [] and fake.log("POST", "/api/v1/uploads") == []
    assert fake.log("POST", "/api/v1/assets/upload") == []


def test_add_provider_falls_back_to_sending_when_the_asset_is_gone(browser, static_site, fake, tmp_path):
    data = os.urandom(3 * CHUNK)
    fake.seed_asset(data, ["alpha"])
    folder = folder_with(tmp_path, "gone.mov", data)
    sign_in(browser, static_site.base_url, provider="beta")
    add_folder(browser, folder)
    wait_hashed(browser, 1)
    fake.assets[hashlib.sha256(data).hexdigest()]["id"] = 999  # deleted between check and add: 404
    summary = upload_and_wait(browser)
    assert summary.startswith("Done: 1 uploaded"), summary
    # The resumable create finds the content by digest and adds it: still no file bytes.
    assert rows(browser)[0]["upload"] == "already on the server: added to beta (0 bytes sent)"
    assert fake.log("PATCH") == []


def test_unhandled_rejections_reach_the_error_area(browser, static_site, tmp_path):
    folder = folder_with(tmp_path, "a.jpg", b"pixels")
    open_app(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 1)
    # Another tab upgrading the database closes the page's connection: its next transaction
    # fails inside an async click handler (removing a folder), which used to go unreported.
    upgraded = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const request = indexedDB.open('assetdedup', 99);
        request.onsuccess = () => { request.result.close(); done(request.result.version); };
        request.onerror = () => done(String(request.error));""")
    assert upgraded == 99
    browser.find_element("css selector", "#folders li[data-folder='media'] button.remove-folder").click()
    error = wait_until(browser, lambda d: d.find_element("id", "error").text, what="an error message")
    assert error.startswith("Unexpected error:") and "connection" in error.lower(), error

    # The safety net itself, for whatever path a future change forgets to catch. (Rejections of
    # WebDriver-injected scripts are muted by Chromium, so the events are dispatched as the
    # browser would dispatch them for page code.)
    browser.execute_script("""
        document.getElementById('error').textContent = '';
        window.dispatchEvent(new PromiseRejectionEvent('unhandledrejection',
            {promise: Promise.resolve(), reason: new Error('nobody caught this')}));""")
    error = wait_until(browser, lambda d: d.find_element("id", "error").text, what="the rejection's message")
    assert error == "Unexpected error: nobody caught this"
    browser.execute_script("""
        document.getElementById('error').textContent = '';
        window.dispatchEvent(new ErrorEvent('error', {message: 'thrown in a timer', error: new Error('thrown in a timer')}));""")
    error = wait_until(browser, lambda d: d.find_element("id", "error").text, what="the error's message")
    assert error == "Unexpected error: thrown in a timer"

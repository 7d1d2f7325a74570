"""End to end: real headless Chromium against the real stack (nginx + the assetdedup app on
127.0.0.1) through the `stack` fixture from conftest.py. Proves what a person sees: uploads
happen once per provider, local and server checks prevent re-uploads, and errors are clear."""
import hashlib
import os
import re

import pytest

import conftest

if not (hasattr(conftest, "Stack") or hasattr(conftest, "stack")):
    pytest.skip("needs the `stack` fixture (real nginx + app) from conftest.py", allow_module_level=True)

from browser_support import (add_folder, browser_session, clear_origin, idb, open_app, rows,
                             wait_hashed, wait_until)


@pytest.fixture
def page(browser_session, stack):
    """The shared Chromium on a clean origin of the stack."""
    clear_origin(browser_session, stack.base_url)
    yield browser_session
    clear_origin(browser_session, stack.base_url)


@pytest.fixture
def token(stack, request):
    return stack.add_user(re.sub(r"\W", "_", request.node.name)[:40])


def provider_ids(stack, token):
    response = stack.api("GET", "/api/v1/providers", token=token)
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["providers"]]


def sign_in(driver, stack, token, provider=None):
    open_app(driver, stack.base_url)
    driver.find_element("id", "token").send_keys(token)
    driver.find_element("id", "sign-in").click()
    wait_until(driver, lambda d: d.find_element("id", "signed-in").is_displayed(), what="sign-in")
    if provider:
        choose_provider(driver, provider)


def choose_provider(driver, provider):
    from selenium.webdriver.support.select import Select

    Select(driver.find_element("id", "provider")).select_by_value(provider)


def upload_and_wait(driver, timeout=300):
    wait_until(driver, lambda d: d.find_element("id", "upload").is_enabled(), what="the upload button")
    driver.execute_script("document.getElementById('summary').textContent = ''")
    driver.find_element("id", "upload").click()
    return wait_until(driver, lambda d: d.find_element("id", "summary").text, timeout=timeout,
                      what="the summary line")


def make_folder(root, files):
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def by_path(driver):
    return {r["path"]: r for r in rows(driver)}


def test_upload_to_a_then_b_reuses_the_asset(page, stack, token, tmp_path):
    first, second = provider_ids(stack, token)[:2]
    folder = make_folder(tmp_path / "album", {"a.jpg": os.urandom(200_000), "b.mp4": os.urandom(300_000)})
    sign_in(page, stack, token, first)
    add_folder(page, folder)
    wait_hashed(page, 2)
    summary = upload_and_wait(page)
    assert summary.startswith("Done: 2 uploaded, 0 already uploaded"), summary
    assets = {}
    for path, row in by_path(page).items():
        match = re.fullmatch(r"uploaded \(asset (\d+)\)", row["upload"])
        assert match, row
        assets[path] = match.group(1)
    assert stack.provider_uploads_count(first) == 2
    assert stack.provider_uploads_count(second) == 0

    choose_provider(page, second)
    summary = upload_and_wait(page)
    assert summary.startswith("Done: 2 uploaded"), summary
    for path, row in by_path(page).items():
        assert row["upload"] == f"uploaded (added to {second}, asset {assets[path]})", row
    assert stack.provider_uploads_count(first) == 2
    assert stack.provider_uploads_count(second) == 2


def test_remove_and_readd_folder_keeps_status_and_uploads_nothing(page, stack, token, tmp_path):
    provider = provider_ids(stack, token)[0]
    folder = make_folder(tmp_path / "trip", {"x.jpg": os.urandom(100_000)})
    sign_in(page, stack, token, provider)
    add_folder(page, folder)
    upload_and_wait(page)
    asset = re.fullmatch(r"uploaded \(asset (\d+)\)", by_path(page)["trip/x.jpg"]["upload"]).group(1)
    assert stack.provider_uploads_count(provider) == 1

    page.find_element("css selector", "#folders li[data-folder='trip'] button.remove-folder").click()
    wait_until(page, lambda d: rows(d) == [], what="the folder to go")
    add_folder(page, folder)
    wait_hashed(page, 1)
    expected = f"already uploaded (asset {asset} on {provider})"
    wait_until(page, lambda d: by_path(d)["trip/x.jpg"]["upload"] == expected, what=expected)
    summary = upload_and_wait(page)
    assert summary.startswith("Done: 0 uploaded, 1 already uploaded"), summary
    assert stack.provider_uploads_count(provider) == 1


def test_cleared_indexeddb_still_prevents_reupload_via_server_check(page, stack, token, tmp_path):
    provider = provider_ids(stack, token)[0]
    folder = make_folder(tmp_path / "clips", {"c.mov": os.urandom(150_000)})
    sign_in(page, stack, token, provider)
    add_folder(page, folder)
    upload_and_wait(page)
    asset = re.fullmatch(r"uploaded \(asset (\d+)\)", by_path(page)["clips/c.mov"]["upload"]).group(1)

    clear_origin(page, stack.base_url)  # IndexedDB and sessionStorage gone
    sign_in(page, stack, token, provider)
    assert idb(page, "return await wrap(tx('uploads_by_hash').count());") == 0
    add_folder(page, folder)
    summary = upload_and_wait(page)
    assert summary.startswith("Done: 0 uploaded, 1 already uploaded"), summary
    assert by_path(page)["clips/c.mov"]["upload"] == f"already uploaded (asset {asset} on {provider})"
    assert stack.provider_uploads_count(provider) == 1


def test_identical_files_in_one_folder_upload_once(page, stack, token, tmp_path):
    provider = provider_ids(stack, token)[0]
    same = os.urandom(120_000)
    folder = make_folder(tmp_path / "dups", {"a.jpg": same, "sub/copy.jpg": same, "other.jpg": os.urandom(10)})
    sign_in(page, stack, token, provider)
    add_folder(page, folder)
    summary = upload_and_wait(page)
    assert summary.startswith("Done: 2 uploaded, 0 already uploaded, 1 identical in this folder"), summary
    assert by_path(page)["dups/sub/copy.jpg"]["upload"] == "identical to dups/a.jpg in this folder"
    assert stack.provider_uploads_count(provider) == 2
    digest = hashlib.sha256(same).hexdigest()
    copies = [f for f in stack.provider_files(provider) if _file_sha256(f) == digest or digest in str(f)]
    assert len(copies) == 1, copies


def test_rejected_token_shows_a_clear_message(page, stack):
    open_app(page, stack.base_url)
    page.find_element("id", "token").send_keys("adt_" + "0" * 64)
    page.find_element("id", "sign-in").click()
    error = wait_until(page, lambda d: d.find_element("id", "error").text, what="an error message")
    assert error.startswith("Token rejected"), error
    assert page.execute_script("return sessionStorage.getItem('assetdedup.token')") is None


def test_sign_out_clears_cached_user_data(page, stack, token, tmp_path):
    provider = provider_ids(stack, token)[0]
    folder = make_folder(tmp_path / "mine", {"m.jpg": os.urandom(5000)})
    sign_in(page, stack, token, provider)
    add_folder(page, folder)
    upload_and_wait(page)
    assert idb(page, "return await wrap(tx('uploads_by_hash').count());") == 1
    # An unfinished resumable upload is per-user data too.
    idb(page, """await wrap(tx('uploads_in_progress', 'readwrite').put({key: 'x:y', sha256: 'x', provider: 'y',
                 url: '/api/v1/uploads/1', size: 1, updatedAt: 't'})); return true;""")
    page.find_element("id", "sign-out").click()
    wait_until(page, lambda d: d.find_element("id", "sign-in-form").is_displayed(), what="sign-out")
    counts = idb(page, """return {assets: await wrap(tx('assets').count()),
                                  uploads: await wrap(tx('uploads_by_hash').count()),
                                  open: await wrap(tx('uploads_in_progress').count())};""")
    assert counts == {"assets": 0, "uploads": 0, "open": 0}
    assert page.execute_script("return sessionStorage.getItem('assetdedup.token')") is None
    assert rows(page) == []


def _file_sha256(path):
    try:
        return hashlib.sha256(open(path, "rb").read()).hexdigest()
    except (OSError, TypeError):
        return None

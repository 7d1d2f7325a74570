"""My assets (www/app/assets.html) and the upload page's system-file filter, end to end: real
headless Chromium against the real stack (nginx with the production CSP + the assetdedup app on
127.0.0.1). Assets are trashed, restored and deleted forever from the page with the keyboard
alone, focus checked after each action; what the page shows is checked against the API."""
import hashlib
import os
import re

import pytest

import conftest

if not (hasattr(conftest, "Stack") or hasattr(conftest, "stack")):
    pytest.skip("needs the `stack` fixture (real nginx + app) from conftest.py", allow_module_level=True)

from browser_support import (add_folder, clear_origin, open_app, rows, severe_console_errors, skip_logged_requests,
                             wait_hashed, wait_until)

# The first bytes of real formats: the server takes the media type from the content.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


@pytest.fixture
def page(browser_session, stack):
    """The shared Chromium on a clean origin of the stack."""
    clear_origin(browser_session, stack.base_url)
    browser_session.get_log("browser")  # drop earlier tests' console lines
    yield browser_session
    clear_origin(browser_session, stack.base_url)


def user_name(request):
    return re.sub(r"\W", "_", request.node.name)[:40]


@pytest.fixture
def token(stack, request):
    return stack.add_user(user_name(request))


def upload(stack, token, content, filename, provider="pixverse"):
    response = stack.upload(token, content, provider=provider, filename=filename)
    assert response.status_code in (200, 201), response.text
    return response.json()["asset_id"]


def api_json(stack, token, path):
    response = stack.api("GET", path, token)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.json()


def live_ids(stack, token):
    return [a["asset_id"] for a in api_json(stack, token, "/api/v1/assets?limit=500")["assets"]]


def trash_ids(stack, token):
    return [a["asset_id"] for a in api_json(stack, token, "/api/v1/trash?limit=500")["assets"]]


# ---- the page ----------------------------------------------------------------------------------

def press(driver, *keys):
    """Keys to whatever has the focus, as a person types them (no element targeted)."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(*keys).perform()


def focused(driver):
    """What has the focus: its id, classes, text and the asset of the row it is in."""
    return driver.execute_script("""
        const e = document.activeElement;
        const tr = e && e.closest('tr');
        return {tag: e.tagName.toLowerCase(), id: e.id, cls: e.className, text: e.textContent.trim(),
                asset: tr ? Number(tr.dataset.assetId) : null, inDialog: Boolean(e.closest('dialog'))};""")


def tab_to(driver, wanted, what, backwards=False, limit=30):
    """Presses Tab (Shift+Tab) until `wanted(focused)` holds; returns what has the focus."""
    from selenium.webdriver.common.keys import Keys

    from selenium.webdriver.common.action_chains import ActionChains

    for _ in range(limit):
        if backwards:
            ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        else:
            press(driver, Keys.TAB)
        now = focused(driver)
        assert now["tag"] != "body", f"focus fell to the page body on the way to {what}"
        if wanted(now):
            return now
    raise AssertionError(f"{limit} Tabs never reached {what}; focus on {focused(driver)}")


def open_assets(driver, stack):
    skip_logged_requests()
    driver.get(f"{stack.base_url}/app/assets.html")
    wait_until(driver, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"),
               what="My assets to start")


def sign_in_with_keyboard(driver, token):
    from selenium.webdriver.common.keys import Keys

    field = driver.find_element("id", "token")
    field.send_keys(token)
    field.send_keys(Keys.ENTER)


def listed(driver, table):
    """The rows of `#assets` or `#trash` as the page shows them (hidden ones marked)."""
    return driver.execute_script("""
        return [...document.querySelectorAll(`#${arguments[0]} tbody tr`)].map(tr => ({
            asset: Number(tr.dataset.assetId), name: tr.querySelector('.name').textContent,
            kind: tr.querySelector('.kind').textContent, size: tr.querySelector('.size').textContent,
            when: tr.querySelector('.when time').textContent, datetime: tr.querySelector('.when time').dateTime,
            providers: tr.querySelector('.providers').textContent, hidden: tr.hidden,
            buttons: [...tr.querySelectorAll('button')].map(b => b.textContent)}));""", table)


def wait_listed(driver, table, count, what):
    """Waits until the list has `count` rows; returns them."""
    found = []

    def ready(d):
        found[:] = listed(d, table)
        return len(found) == count
    wait_until(driver, ready, what=what)
    return found


def text(driver, element_id):
    return driver.find_element("id", element_id).text


def no_error(driver):
    assert not driver.find_element("id", "error").is_displayed(), text(driver, "error")


# ---- tests -------------------------------------------------------------------------------------

def test_trash_restore_and_delete_forever_with_the_keyboard(page, stack, token):
    from selenium.webdriver.common.keys import Keys

    photo = upload(stack, token, JPEG + os.urandom(3000), "beach.jpg")
    clip = upload(stack, token, MP4 + os.urandom(200_000), "clip.mp4")
    notes = upload(stack, token, b"n" * 500, "notes.txt")
    api_assets = {a["asset_id"]: a for a in api_json(stack, token, "/api/v1/assets")["assets"]}

    open_assets(page, stack)
    sign_in_with_keyboard(page, token)
    shown = wait_listed(page, "assets", 3, "three assets")
    assert focused(page)["id"] == "assets-heading"
    assert [(r["asset"], r["name"], r["kind"], r["size"], r["providers"], r["buttons"]) for r in shown] == [
        (photo, "beach.jpg", "image", "2.9 KiB", "pixverse", ["Move to trash"]),
        (clip, "clip.mp4", "video", "195.3 KiB", "pixverse", ["Move to trash"]),
        (notes, "notes.txt", "other", "500 bytes", "pixverse", ["Move to trash"]),
    ]
    for row in shown:  # the server's time, written the browser's way (not the raw ISO text)
        created = api_assets[row["asset"]]["created_at"]
        assert row["datetime"] == created and row["when"] != created and created[:4] in row["when"], row
    assert text(page, "assets-summary") == "3 assets shown."

    # Keyboard only: Tab from the heading to the clip's button, Enter. Focus goes to the next row's.
    tab_to(page, lambda f: f["asset"] == clip and f["text"] == "Move to trash", "the clip's Move to trash")
    press(page, Keys.ENTER)
    after = wait_listed(page, "assets", 2, "the clip to leave the list")
    assert [r["asset"] for r in after] == [photo, notes]
    assert focused(page) == {"tag": "button", "id": "", "cls": "trash", "text": "Move to trash", "asset": notes,
                             "inDialog": False}
    assert text(page, "status") == 'Moved "clip.mp4" to the trash.'
    assert text(page, "assets-summary") == "2 assets shown."
    assert live_ids(stack, token) == [photo, notes] and trash_ids(stack, token) == [clip]
    assert stack.api("GET", f"/api/v1/trash/{clip}", token).json()["trashed_at"]

    # The last row's button: focus goes to the row before. Then to the Trash view.
    press(page, Keys.ENTER)  # notes.txt
    wait_listed(page, "assets", 1, "notes.txt to leave the list")
    assert focused(page)["asset"] == photo and focused(page)["cls"] == "trash"
    tab_to(page, lambda f: f["id"] == "show-trash", "the Trash view button", backwards=True)
    press(page, Keys.ENTER)
    trashed = wait_listed(page, "trash", 2, "two trashed assets")
    assert focused(page)["id"] == "trash-heading"
    assert page.find_element("id", "show-trash").get_attribute("aria-pressed") == "true"
    assert not page.find_element("id", "assets-view").is_displayed()
    assert [(r["asset"], r["name"], r["buttons"]) for r in trashed] == [
        (clip, "clip.mp4", ["Restore", "Delete forever"]), (notes, "notes.txt", ["Restore", "Delete forever"])]
    trashed_at = stack.api("GET", f"/api/v1/trash/{clip}", token).json()["trashed_at"]
    assert trashed[0]["datetime"] == trashed_at

    # Delete forever asks first; Cancel (which has the focus) keeps it, and focus comes back.
    opener = tab_to(page, lambda f: f["asset"] == clip and f["text"] == "Delete forever", "the clip's Delete forever")
    press(page, Keys.ENTER)
    wait_until(page, lambda d: d.find_element("id", "confirm-purge").get_attribute("open") is not None,
               what="the confirm dialog")
    assert focused(page)["id"] == "confirm-purge-cancel"
    assert "clip.mp4" in text(page, "confirm-purge-text")
    press(page, Keys.ENTER)
    wait_until(page, lambda d: d.find_element("id", "confirm-purge").get_attribute("open") is None,
               what="the dialog to close")
    wait_until(page, lambda d: text(d, "status") == 'Kept "clip.mp4" in the trash.', what="the kept message")
    assert focused(page) == opener
    assert len(listed(page, "trash")) == 2
    assert stack.api("GET", f"/api/v1/trash/{clip}", token).status_code == 200

    # Again, and this time Tab to "Delete forever" in the dialog: gone for good.
    press(page, Keys.ENTER)
    wait_until(page, lambda d: d.find_element("id", "confirm-purge").get_attribute("open") is not None,
               what="the confirm dialog")
    press(page, Keys.TAB)
    assert focused(page)["id"] == "confirm-purge-ok" and focused(page)["inDialog"]
    press(page, Keys.ENTER)
    left = wait_listed(page, "trash", 1, "the clip to be deleted forever")
    assert left[0]["asset"] == notes
    assert focused(page)["asset"] == notes and focused(page)["text"] == "Delete forever"
    assert text(page, "status") == 'Deleted "clip.mp4" forever.'
    assert stack.api("GET", f"/api/v1/trash/{clip}", token).status_code == 404
    assert stack.api("GET", f"/api/v1/assets/{clip}", token).status_code == 404
    assert trash_ids(stack, token) == [notes]
    assert stack.sql("SELECT count(*) FROM assets WHERE id = ?", clip) == [(0,)]

    # Restore the last one with the keyboard: the trash is empty, focus on its heading.
    tab_to(page, lambda f: f["asset"] == notes and f["text"] == "Restore", "notes.txt's Restore", backwards=True)
    press(page, Keys.ENTER)
    wait_listed(page, "trash", 0, "the trash to empty")
    assert focused(page)["id"] == "trash-heading"
    assert text(page, "trash-summary") == "The trash is empty."
    assert text(page, "status") == 'Restored "notes.txt": it is back in My assets.'
    restored = api_json(stack, token, f"/api/v1/assets/{notes}")
    assert restored["trashed_at"] is None
    assert live_ids(stack, token) == [photo, notes] and trash_ids(stack, token) == []

    # Back in My assets: the restored file is listed again.
    tab_to(page, lambda f: f["id"] == "show-assets", "the My assets view button", backwards=True)
    press(page, Keys.ENTER)
    back = wait_until(page, lambda d: (lambda r: r if [x["asset"] for x in r] == [photo, notes] else None)(
        listed(d, "assets")), what="My assets with notes.txt back")
    assert back[1]["name"] == "notes.txt"
    assert focused(page)["id"] == "assets-heading"
    no_error(page)
    # beach.jpg is JPEG magic and random bytes: its thumbnail is a 404 (no_thumbnail), which
    # Chromium logs; the row shows "image (no preview)".
    assert page.execute_script(
        f"return document.querySelector('#assets tr[data-asset-id=\"{photo}\"] .thumb').textContent") == "image (no preview)"
    assert [e for e in severe_console_errors(page) if "/thumbnail?" not in e["message"]] == []


def test_paging_filters_and_load_more_focus(page, stack, token):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.select import Select

    notes = [upload(stack, token, f"note {i}".encode(), f"note-{i:02}.txt") for i in range(50)]
    photo = upload(stack, token, JPEG + os.urandom(2000), "photo.jpg")
    clip = upload(stack, token, MP4 + os.urandom(5000), "clip.mp4")
    assert stack.api("POST", f"/api/v1/assets/{clip}/providers", token,
                     json={"provider_id": "runway"}).status_code in (200, 202)
    conftest.wait_until(lambda: "runway" in api_json(stack, token, f"/api/v1/assets/{clip}")["uploaded_to_providers"],
                        timeout=60, what="the clip delivered to runway")

    open_assets(page, stack)
    sign_in_with_keyboard(page, token)
    first = wait_listed(page, "assets", 50, "the first page of 50")
    assert [r["asset"] for r in first] == notes
    assert text(page, "assets-summary") == "50 assets shown; more to load."
    assert page.find_element("id", "assets-more").is_displayed()

    # Filters apply to the loaded pages only: no image among the first 50.
    Select(page.find_element("id", "filter-type")).select_by_value("image")
    wait_until(page, lambda d: all(r["hidden"] for r in listed(d, "assets")), what="every note hidden")
    assert text(page, "assets-summary") == (
        "0 of 50 loaded assets match the filters (filters apply to loaded pages only; more to load).")

    # "Load more" from the keyboard: focus goes to the first new row shown (the photo's button).
    page.find_element("id", "assets-more").send_keys(Keys.ENTER)
    wait_listed(page, "assets", 52, "the second page")
    assert focused(page)["asset"] == photo and focused(page)["text"] == "Move to trash"
    assert not page.find_element("id", "assets-more").is_displayed()
    assert [r["asset"] for r in listed(page, "assets") if not r["hidden"]] == [photo]
    assert text(page, "assets-summary") == "1 of 52 loaded assets match the filters."

    Select(page.find_element("id", "filter-type")).select_by_value("")
    Select(page.find_element("id", "filter-provider")).select_by_value("runway")
    wait_until(page, lambda d: [r["asset"] for r in listed(d, "assets") if not r["hidden"]] == [clip],
               what="only the clip on runway")
    row = [r for r in listed(page, "assets") if r["asset"] == clip][0]
    assert row["providers"] in ("pixverse, runway", "runway, pixverse"), row
    Select(page.find_element("id", "filter-type")).select_by_value("video")
    assert [r["asset"] for r in listed(page, "assets") if not r["hidden"]] == [clip]

    # Trashing the only row a filter shows: focus goes to the heading, not the hidden rows.
    page.find_element("css selector", f'tr[data-asset-id="{clip}"] button.trash').send_keys(Keys.ENTER)
    wait_listed(page, "assets", 51, "the clip to leave the list")
    assert focused(page)["id"] == "assets-heading"
    assert clip not in live_ids(stack, token)
    no_error(page)


def test_errors_show_in_the_error_area(page, stack, token, request):
    from selenium.webdriver.common.keys import Keys

    photo = upload(stack, token, JPEG + os.urandom(1000), "gone.jpg")
    keep = upload(stack, token, JPEG + os.urandom(1000), "kept.jpg")
    open_assets(page, stack)
    sign_in_with_keyboard(page, token)
    wait_listed(page, "assets", 2, "two assets")
    # Deleted behind the page's back (another tab): the page says so and drops the row.
    assert stack.api("DELETE", f"/api/v1/assets/{photo}", token).status_code == 200
    assert stack.api("DELETE", f"/api/v1/trash/{photo}", token).status_code == 204
    page.find_element("css selector", f'tr[data-asset-id="{photo}"] button.trash').send_keys(Keys.ENTER)
    error = wait_until(page, lambda d: text(d, "error"), what="an error message")
    assert error == '"gone.jpg" is no longer among your assets: it was trashed or deleted elsewhere.'
    assert [r["asset"] for r in listed(page, "assets")] == [keep]
    assert focused(page)["asset"] == keep

    # The token revoked meanwhile: the page says so and signs out.
    listing = stack.cli("token", "list", user_name(request)).stdout
    stack.cli("token", "revoke", re.search(r"^\s*(\d+)\b", listing, re.M).group(1))
    assert stack.api("GET", "/api/v1/assets", token).status_code == 401
    page.find_element("css selector", f'tr[data-asset-id="{keep}"] button.trash').send_keys(Keys.ENTER)
    error = wait_until(page, lambda d: text(d, "error").startswith("Token rejected") and text(d, "error"),
                       what="the token to be rejected")
    assert page.find_element("id", "sign-in-form").is_displayed()
    assert page.execute_script("return sessionStorage.getItem('assetdedup.token')") is None


def test_junk_files_are_skipped_and_only_the_rest_uploaded(page, stack, token, tmp_path):
    from selenium.webdriver.common.keys import Keys

    folder = tmp_path / "shoot"
    files = {
        "a.jpg": JPEG + os.urandom(4000),
        "clip.mp4": MP4 + os.urandom(9000),
        ".DS_Store": os.urandom(600),
        "Thumbs.db": os.urandom(700),
        "desktop.ini": b"[.ShellClassInfo]\r\nIconResource=x\r\n",
        "._a.jpg": os.urandom(800),
        "sub/.DS_Store": os.urandom(900),
    }
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    junk = [f"shoot/{n}" for n in files if n not in ("a.jpg", "clip.mp4")]

    open_app(page, stack.base_url)
    page.find_element("id", "token").send_keys(token)
    page.find_element("id", "token").send_keys(Keys.ENTER)
    wait_until(page, lambda d: d.find_element("id", "signed-in").is_displayed(), what="sign-in")
    assert not page.find_element("id", "include-system").is_selected()
    add_folder(page, folder)
    shown = {r["path"]: r for r in wait_hashed(page, len(files))}
    assert sorted(shown) == sorted(f"shoot/{n}" for n in files), shown
    for path in junk:
        assert shown[path]["upload"] == "skipped (system file)" and shown[path]["uploadState"] == "skipped-system", shown[path]
        assert shown[path]["hash"] == "not hashed" and shown[path]["sha256"] is None, shown[path]
    for path in ["shoot/a.jpg", "shoot/clip.mp4"]:
        assert shown[path]["sha256"] == hashlib.sha256(files[path.split("/", 1)[1]]).hexdigest()

    page.find_element("id", "upload").click()
    summary = wait_until(page, lambda d: text(d, "summary"), what="the summary line")
    # Delivered at once, or queued (202) when the server lets no more requests wait for it.
    match = re.fullmatch(r"Done: (\d) uploaded, 0 already uploaded, 0 identical in this folder, 0 failed"
                         r"(?:, (\d) queued for delivery)?, 5 skipped \(system files\) \(of 7 files\)\.", summary)
    assert match and int(match.group(1)) + int(match.group(2) or 0) == 2, summary
    listed_api = api_json(stack, token, "/api/v1/assets")["assets"]
    assert sorted(a["original_filename"] for a in listed_api) == ["a.jpg", "clip.mp4"]
    assert {a["sha256"] for a in listed_api} == {hashlib.sha256(files[n]).hexdigest() for n in ("a.jpg", "clip.mp4")}
    assert {r["path"]: r["upload"] for r in rows(page)}["shoot/.DS_Store"] == "skipped (system file)"

    # The link to My assets: same sign-in, the two uploads listed.
    page.find_element("link text", "My assets").click()
    wait_until(page, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"),
               what="My assets to start")
    mine = wait_listed(page, "assets", 2, "the two uploads")
    assert sorted(r["name"] for r in mine) == ["a.jpg", "clip.mp4"]
    page.find_element("link text", "Upload").click()
    wait_until(page, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"),
               what="the upload page to start")

    # Asked to, the page includes them: hashed, and uploaded like any file.
    wait_until(page, lambda d: d.find_element("id", "signed-in").is_displayed(), what="sign-in from the session")
    page.find_element("id", "include-system").click()
    add_folder(page, folder)
    shown = {r["path"]: r for r in wait_hashed(page, len(files))}
    assert all(shown[p]["hashState"] in ("computed", "cached") for p in junk), shown
    page.find_element("id", "upload").click()
    summary = wait_until(page, lambda d: text(d, "summary"), what="the summary line")
    # Delivered at once, or queued (202) when the server lets no more requests wait for it.
    match = re.fullmatch(r"Done: (\d) uploaded, 2 already uploaded, 0 identical in this folder, 0 failed"
                         r"(?:, (\d) queued for delivery)? \(of 7 files\)\.", summary)
    assert match and int(match.group(1)) + int(match.group(2) or 0) == 5, summary
    names = sorted(a["original_filename"] for a in api_json(stack, token, "/api/v1/assets")["assets"])
    assert names == sorted([".DS_Store", "._a.jpg", "Thumbs.db", "a.jpg", "clip.mp4", "desktop.ini", ".DS_Store"]), names

"""The admin page (www/app/admin.html) end to end: real headless Chromium against the real stack
(nginx with the production CSP + the assetdedup app on 127.0.0.1). Two users upload the same
file; an admin reviews the group in the browser; the decision lands in `duplicate_reviews`
exactly as `assetdedup review` records it, and `assetdedup report` shows it. An ordinary user's
token gets a clear "admins only"."""
import hashlib
import os

import pytest

import conftest

if not (hasattr(conftest, "Stack") or hasattr(conftest, "stack")):
    pytest.skip("needs the `stack` fixture (real nginx + app) from conftest.py", allow_module_level=True)

from browser_support import clear_origin, skip_logged_requests, wait_until
from conftest import ROOT, run_cli

TEMPLATES = str(ROOT / "templates")
REVIEW_COLUMNS = "group_sha256, decision, keep_asset_id, note, reviewed_by"


@pytest.fixture
def page(browser_session, stack):
    """The shared Chromium on a clean origin of the stack."""
    clear_origin(browser_session, stack.base_url)
    yield browser_session
    clear_origin(browser_session, stack.base_url)


def open_admin(driver, stack):
    skip_logged_requests()
    driver.get(f"{stack.base_url}/app/admin.html")
    wait_until(driver, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"),
               what="the admin page to start")


def sign_in_with_keyboard(driver, token):
    from selenium.webdriver.common.keys import Keys

    field = driver.find_element("id", "token")
    field.send_keys(token)
    field.send_keys(Keys.ENTER)  # submits the form: no mouse needed


def group_article(driver, sha256):
    found = driver.find_elements("css selector", f'article.group[data-sha256="{sha256}"]')
    return found[0] if found else None


def recorded_decision(driver, sha256):
    """The group's decision line once it shows a recorded decision, else None."""
    line = group_article(driver, sha256).find_element("css selector", ".decision")
    return line.text if line.get_attribute("data-decision") not in (None, "none") else None


def test_admin_keeps_an_asset_and_the_report_shows_it(page, stack, tmp_path):
    alice = stack.add_user("alice")
    bob = stack.add_user("bob")
    root = stack.add_user("root", admin=True)
    content = os.urandom(3000)
    sha256 = hashlib.sha256(content).hexdigest()
    for token, name in [(alice, "beach.jpg"), (bob, "beach-copy.jpg")]:
        response = stack.upload(token, content, filename=name, sha256=sha256)
        assert response.status_code in (200, 201, 202), response.text
    holders = stack.sql(
        "SELECT a.id, u.name, a.original_filename FROM assets a JOIN users u ON u.id = a.user_id "
        "WHERE a.sha256 = ? ORDER BY a.user_id, a.id", sha256)
    assert [(h[1], h[2]) for h in holders] == [("alice", "beach.jpg"), ("bob", "beach-copy.jpg")]
    bob_asset = holders[1][0]

    open_admin(page, stack)
    sign_in_with_keyboard(page, root)
    article = wait_until(page, lambda d: group_article(d, sha256), what="the duplicate group")
    assert page.switch_to.active_element.get_attribute("id") == "groups-heading"
    text = article.text
    for expected in ["alice", "bob", "beach.jpg", "beach-copy.jpg", "Not reviewed."]:
        assert expected in text, text

    note = "bob has the original"
    article.find_element("css selector", ".note").send_keys(note)
    article.find_element("css selector", f'button.keep[data-asset-id="{bob_asset}"]').click()
    decision = wait_until(page, lambda d: recorded_decision(d, sha256), what="the recorded decision")
    assert decision.startswith(f"Decision: keep asset {bob_asset} (root, "), decision
    assert decision.endswith(f"): {note}"), decision
    assert page.find_element("id", "error").is_displayed() is False

    # The row, exactly as `assetdedup review HASH --keep ID --note NOTE --by root` writes it.
    rows = stack.sql(f"SELECT {REVIEW_COLUMNS} FROM duplicate_reviews ORDER BY id")
    assert rows == [(sha256, "keep", bob_asset, note, "root")]
    listed = stack.api("GET", "/api/v1/admin/duplicates", root).json()["groups"]
    assert [g["sha256"] for g in listed] == [sha256]
    assert {k: listed[0]["review"][k] for k in ["decision", "keep_asset_id", "note", "reviewed_by"]} == {
        "decision": "keep", "keep_asset_id": bob_asset, "note": note, "reviewed_by": "root"}

    # The nightly report shows the browser's decision on the duplicates page.
    out = tmp_path / "reports"
    run_cli("report", "--out", str(out), "--templates", TEMPLATES, db=stack.db)
    page_md = (out / "duplicates.md").read_text()
    line = next((l for l in page_md.splitlines() if sha256 in l), "")
    assert f"keep asset {bob_asset} (root, " in line and note in line, page_md

    # The CLI given the same decision writes the same row (but for id and time).
    run_cli("review", sha256, "--keep", str(bob_asset), "--note", note, "--by", "root", db=stack.db)
    first, second = stack.sql(f"SELECT {REVIEW_COLUMNS} FROM duplicate_reviews ORDER BY id")
    assert first == second

    # A reload signs in again from sessionStorage and shows the recorded decision.
    page.refresh()
    wait_until(page, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"), what="reload")
    shown = wait_until(page, lambda d: group_article(d, sha256), what="the group after a reload")
    assert f"Decision: keep asset {bob_asset} (root, " in shown.find_element("css selector", ".decision").text


def test_ordinary_users_token_gets_admins_only(page, stack):
    alice = stack.add_user("alice")
    open_admin(page, stack)
    sign_in_with_keyboard(page, alice)
    error = wait_until(page, lambda d: d.find_element("id", "error").text, what="an error message")
    assert error.startswith("Admins only"), error
    assert not page.find_element("id", "review").is_displayed()
    assert page.find_element("id", "sign-in-form").is_displayed()
    assert page.execute_script("return sessionStorage.getItem('assetdedup.token')") is None


def test_rejected_token_is_explained(page, stack):
    open_admin(page, stack)
    sign_in_with_keyboard(page, "adt_" + "0" * 64)
    error = wait_until(page, lambda d: d.find_element("id", "error").text, what="an error message")
    assert error.startswith("Token rejected"), error


def test_ignore_with_the_keyboard_alone(page, stack):
    from selenium.webdriver.common.keys import Keys

    content = os.urandom(2000)
    sha256 = hashlib.sha256(content).hexdigest()
    for name in ["carol", "dave"]:
        assert stack.upload(stack.add_user(name), content, filename=f"{name}.bin").status_code in (200, 201, 202)
    root = stack.add_user("root", admin=True)
    open_admin(page, stack)
    sign_in_with_keyboard(page, root)
    article = wait_until(page, lambda d: group_article(d, sha256), what="the duplicate group")
    note_field = article.find_element("css selector", ".note")
    note_field.send_keys("same test clip")
    note_field.send_keys(Keys.TAB)  # the next control is "Ignore group"
    focused = page.switch_to.active_element
    assert focused.text == "Ignore group"
    focused.send_keys(Keys.ENTER)
    decision = wait_until(page, lambda d: recorded_decision(d, sha256), what="the recorded decision")
    assert decision.startswith("Decision: ignore (root, ") and decision.endswith("): same test clip"), decision
    assert stack.sql(f"SELECT {REVIEW_COLUMNS} FROM duplicate_reviews") == [
        (sha256, "ignore", None, "same test clip", "root")]

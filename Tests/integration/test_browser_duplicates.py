"""My duplicates (www/app/duplicates.html) and the thumbnail route, end to end: real headless
Chromium against the real stack (nginx with the production CSP + the assetdedup app, which
fingerprints and thumbnails images with libvips). Pictures are made by the `vips` and `ffmpeg`
command-line tools. One stack for the module; each test has its own user."""
import re
import subprocess

import pytest

import conftest

if not (hasattr(conftest, "Stack") or hasattr(conftest, "stack")):
    pytest.skip("needs the `stack` fixture (real nginx + app) from conftest.py", allow_module_level=True)

from browser_support import clear_origin, severe_console_errors, skip_logged_requests, wait_until
from test_browser_assets import focused, press, sign_in_with_keyboard, tab_to


def tool(*args):
    subprocess.run(args, check=True, capture_output=True)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """Two originals (1024 x 768) and a half-size JPEG of each: two near-duplicate pairs."""
    d = tmp_path_factory.mktemp("dup-media")
    ffmpeg = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi"]
    tool(*ffmpeg, "-i", "mandelbrot=s=1024x768", "-frames:v", "1", str(d / "fractal.png"))
    tool("vips", "resize", str(d / "fractal.png"), str(d / "fractal-small.jpg[Q=60]"), "0.5")
    tool(*ffmpeg, "-i", "testsrc2=s=1024x768", "-frames:v", "1", str(d / "bars.png"))
    tool("vips", "resize", str(d / "bars.png"), str(d / "bars-small.jpg[Q=60]"), "0.5")
    return {p.name: p.read_bytes() for p in d.iterdir()}


@pytest.fixture(scope="module")
def shared_stack(tmp_path_factory):
    s = conftest.Stack(tmp_path_factory.mktemp("duplicates"))
    yield s
    s.stop()


@pytest.fixture
def user(shared_stack, request):
    return shared_stack.add_user(re.sub(r"\W", "_", request.node.name)[:40])


def upload(stack, token, media, name):
    mime = "image/png" if name.endswith(".png") else "image/jpeg"
    r = stack.upload(token, media[name], filename=name, mime=mime)
    assert r.status_code == 201, r.text
    return r.json()["asset_id"]


def jpeg_size(data):
    """Width and height from a JPEG's SOF marker."""
    i = 2
    while i < len(data):
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xC3:
            return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
        i += 2 + length
    raise AssertionError("no SOF marker")


def test_thumbnail_route_and_a_resolve_that_changed_since_its_preview(shared_stack, media, user):
    stack = shared_stack
    original = upload(stack, user, media, "fractal.png")
    copy = upload(stack, user, media, "fractal-small.jpg")
    notes = stack.upload(user, b"just words\n", filename="notes.txt", mime="text/plain").json()["asset_id"]

    r = stack.api("GET", f"/api/v1/assets/{original}/thumbnail?size=128", user)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "image/jpeg"
    assert (r.headers["Image-Width"], r.headers["Image-Height"]) == ("1024", "768")
    assert r.headers["Cache-Control"] == "private, max-age=86400"
    assert r.content[:3] == b"\xff\xd8\xff" and jpeg_size(r.content) == (128, 96)
    # Made once, then read from the cache: the same bytes, and the cache entry is on disk.
    again = stack.api("GET", f"/api/v1/assets/{original}/thumbnail?size=128", user)
    assert again.content == r.content
    assert len(list((stack.data_dir / "thumbnails" / "128").rglob("*"))) == 2  # folder + entry
    assert jpeg_size(stack.api("GET", f"/api/v1/assets/{copy}/thumbnail", user).content) == (256, 192)

    other = stack.add_user("someone_else")
    for token, path, status, code in [
        (other, f"/api/v1/assets/{original}/thumbnail", 404, "not_found"),  # not theirs: like a missing one
        (user, f"/api/v1/assets/{notes}/thumbnail", 404, "no_thumbnail"),
        (user, "/api/v1/assets/999999/thumbnail", 404, "not_found"),
        (user, f"/api/v1/assets/{original}/thumbnail?size=100", 400, "invalid_size"),
        (None, f"/api/v1/assets/{original}/thumbnail", 401, "unauthorized"),
    ]:
        r = stack.api("GET", path, token)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (path, r.text)
    # Other answers stay uncached.
    assert stack.api("GET", "/api/v1/assets", user).headers["Cache-Control"] == "no-store"

    # A preview's list sent back after the groups changed: 409, nothing trashed.
    plan = stack.api("POST", "/api/v1/near-duplicates/resolve", user, json={"rule": "largest", "dry_run": True})
    assert plan.status_code == 200, plan.text
    assert plan.json()["groups"] == [{"keep": original, "trash": [copy]}]
    stale = stack.api("POST", "/api/v1/near-duplicates/resolve", user,
                      json={"rule": "largest", "expect_trash": [original]})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "plan_changed", stale.text
    assert stack.api("GET", "/api/v1/trash", user).json()["assets"] == []
    bad = stack.api("POST", "/api/v1/near-duplicates/resolve", user, json={"rule": "largest", "expect_trash": ["x"]})
    assert bad.status_code == 400, bad.text

    # The admins' list: theirs only, and its filter's word checked.
    admin = stack.add_user("thumb_admin", admin=True)
    assert stack.api("GET", "/api/v1/admin/near-duplicates", user).status_code == 403
    r = stack.api("GET", "/api/v1/admin/near-duplicates?unreviewed=maybe", admin)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_unreviewed")
    listed = stack.api("GET", "/api/v1/admin/near-duplicates?limit=500", admin).json()
    mine = [g for g in listed["groups"] if g["anchor_asset_id"] == original]
    assert [[a["asset_id"] for a in g["assets"]] for g in mine] == [[original, copy]] and mine[0]["review"] is None
    # An admin sees anyone's thumbnail (the review page shows them).
    assert stack.api("GET", f"/api/v1/assets/{original}/thumbnail", admin).status_code == 200


@pytest.fixture
def page(browser_session, shared_stack):
    clear_origin(browser_session, shared_stack.base_url)
    browser_session.get_log("browser")
    yield browser_session
    clear_origin(browser_session, shared_stack.base_url)


def groups(driver):
    return driver.execute_script("""
        return [...document.querySelectorAll('#groups article')].map(a => ({
            title: a.querySelector('h3').textContent, resolved: a.dataset.resolved === 'true',
            outcome: a.querySelector('.outcome').textContent,
            members: [...a.querySelectorAll('li.member')].map(li => ({
                asset: Number(li.dataset.assetId), name: li.dataset.name,
                size: li.querySelector('.size').textContent,
                resolution: li.querySelector('.resolution').textContent,
                when: li.querySelector('.when time').textContent,
                thumb: li.querySelector('.thumb').dataset.state,
                thumbWidth: (li.querySelector('.thumb img') || {}).naturalWidth || 0,
                kept: li.classList.contains('kept'), trashed: li.classList.contains('trashed')}))}));""")


def test_my_duplicates_side_by_side_keep_one_and_resolve_all(page, shared_stack, media, user):
    from selenium.webdriver.common.keys import Keys

    stack = shared_stack
    fractal = upload(stack, user, media, "fractal.png")
    fractal_small = upload(stack, user, media, "fractal-small.jpg")
    bars = upload(stack, user, media, "bars.png")
    bars_small = upload(stack, user, media, "bars-small.jpg")

    skip_logged_requests()
    page.get(f"{stack.base_url}/app/duplicates.html")
    wait_until(page, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"), what="the page")
    sign_in_with_keyboard(page, user)

    # Both pairs side by side, with thumbnails, human sizes, resolutions and dates.
    def shown(d):
        found = groups(d)
        done = len(found) == 2 and all(m["thumb"] == "loaded" and m["resolution"] for g in found for m in g["members"])
        return done and found
    found = wait_until(page, shown, what="two groups with thumbnails")
    assert [sorted(m["asset"] for m in g["members"]) for g in found] == [
        sorted([fractal, fractal_small]), sorted([bars, bars_small])]
    first = {m["name"]: m for m in found[0]["members"]}
    assert found[0]["title"].startswith("2 similar files: ")
    assert first["fractal.png"]["resolution"] == "1024 × 768 px"
    assert first["fractal-small.jpg"]["resolution"] == "512 × 384 px"
    assert re.fullmatch(r"\d+\.\d (KiB|MiB)", first["fractal.png"]["size"]), first
    assert first["fractal.png"]["when"] and "T" not in first["fractal.png"]["when"]
    assert 0 < first["fractal.png"]["thumbWidth"] <= 256
    assert page.find_element("id", "groups-summary").text == "2 groups shown."

    # Keyboard only: Tab to "Keep this one" on fractal.png, Enter. The copy goes to the trash;
    # focus moves to the next group's first "Keep this one".
    tab_to(page, lambda f: f["text"] == "Keep this one" and "fractal.png" in page.execute_script(
        "return document.activeElement.getAttribute('aria-label')"), "Keep this one: fractal.png")
    press(page, Keys.ENTER)
    wait_until(page, lambda d: groups(d)[0]["resolved"], what="the first group to resolve")
    now = focused(page)
    assert now["cls"] == "keep" and now["text"] == "Keep this one", now
    assert page.execute_script("return document.activeElement.closest('article').dataset.anchor") == str(
        found[1]["members"][0]["asset"])
    trash = [a["asset_id"] for a in stack.api("GET", "/api/v1/trash", user).json()["assets"]]
    assert trash == [fractal_small]
    assert groups(page)[0]["outcome"].startswith('Kept "fractal.png"; moved 1 file to the trash')

    # Resolve all by "the first uploaded": the preview names what goes; confirming trashes exactly that.
    page.find_element("css selector", "#rule option[value='oldest']").click()
    page.find_element("id", "preview").click()
    plan = wait_until(page, lambda d: d.find_element("id", "plan").is_displayed() and d.execute_script(
        "return document.getElementById('plan-list').dataset.trash"), what="the preview")
    assert [int(i) for i in plan.split()] == [bars_small]
    assert page.find_element("id", "plan-list").text == "keep bars.png; trash bars-small.jpg"
    assert page.find_element("id", "apply").text == "Move 1 file to the trash"
    page.find_element("id", "apply").click()
    wait_until(page, lambda d: "Moved 1 file to the trash" in d.find_element("id", "status").text, what="resolve all")
    trash = sorted(a["asset_id"] for a in stack.api("GET", "/api/v1/trash", user).json()["assets"])
    assert trash == sorted([fractal_small, bars_small])
    wait_until(page, lambda d: d.find_element("id", "groups-summary").text == "No similar files: nothing to review.",
               what="an empty list")
    assert not page.find_element("id", "error").is_displayed(), page.find_element("id", "error").text
    assert [e for e in severe_console_errors(page) if e["source"] != "network"] == []

    # My assets (same sign-in): thumbnails in the rows, and the date filter over loaded rows.
    page.find_element("link text", "My assets").click()
    wait_until(page, lambda d: d.execute_script(
        "return document.querySelectorAll('#assets tbody tr .thumb[data-state=\"loaded\"]').length") == 2,
        what="two thumbnails on My assets")
    today = page.execute_script("const d = new Date(); return d.toLocaleDateString('sv')")  # YYYY-MM-DD, local
    for value, shown in [("2000-01-01", 0), (today, 2)]:
        page.execute_script(
            "const f = document.getElementById('filter-to'); f.value = arguments[0];"
            "f.dispatchEvent(new Event('change'))", value)
        assert page.execute_script("return [...document.querySelectorAll('#assets tbody tr')].filter(r => !r.hidden).length") == shown
    assert page.find_element("id", "assets-summary").text == "2 of 2 loaded assets match the filters."


# ---- the upload page: similar files picked together ------------------------------------------

def test_similar_pair_picked_together_is_asked_about_and_skip_all_similar(page, shared_stack, media, user, tmp_path):
    from test_browser_e2e import provider_ids, sign_in
    from browser_support import add_folder, rows, wait_hashed

    stack = shared_stack
    provider = provider_ids(stack, user)[0]
    folder = tmp_path / "picked"
    folder.mkdir()
    for name in ["bars.png", "fractal.png", "fractal-small.jpg"]:
        (folder / name).write_bytes(media[name])
    held = stack.provider_uploads_count(provider)
    sign_in(page, stack, user, provider)
    add_folder(page, folder)
    wait_hashed(page, 3)
    page.find_element("id", "upload").click()

    # New to the server, but one of the two fractals looks like the other: asked, with both pictures.
    def question(d):
        asked = [r for r in rows(d) if r["uploadState"] == "similar"]
        return len(asked) == 1 and asked[0]
    asked = wait_until(page, question, what="the similar question")
    other = "fractal-small.jpg" if asked["path"].endswith("/fractal.png") else "fractal.png"
    # Named as a file of this upload, or, when the other went up before this one's question
    # reached the server, as the asset it became: once either way.
    asset = re.fullmatch(r"similar to (?:asset \d+ \((.+)\)|(.+) \(in this upload\)) SkipUpload anyway", asked["upload"])
    assert asset and other in asset.groups(), asked
    pictures = wait_until(page, lambda d: (alts := d.execute_script(
        "return [...document.querySelectorAll(\"tr[data-upload-state='similar'] .question-pictures img\")].map(i => i.alt)"))
        and len(alts) == 2 and alts, what="the question's two pictures")
    assert pictures[1] in (f"{other} (in this upload)", other), pictures
    # The other two go up; then the line says what holds the upload up instead of an ETA.
    progress = wait_until(page, lambda d: (t := d.find_element("id", "progress").text).startswith("Waiting for your answer") and t,
                          what="the waiting line")
    assert progress.endswith("1 similar file waiting for your answer."), progress
    assert page.find_element("id", "similar-waiting").text == "1 similar file waiting for your answer."
    page.find_element("id", "skip-all-similar").click()
    line = wait_until(page, lambda d: d.find_element("id", "summary").text, what="the summary line")
    assert line.startswith("Done: 2 uploaded") and "1 skipped as similar" in line, line
    assert stack.provider_uploads_count(provider) == held + 2
    assert not page.find_element("id", "similar-bar").is_displayed()


# ---- the admin page ---------------------------------------------------------------------------

def test_admin_near_duplicates_with_thumbnails_keyboard_keep_unreviewed_and_bulk(page, shared_stack, media):
    from selenium.webdriver.common.keys import Keys

    stack = shared_stack
    owner = stack.add_user("erin")
    fractal = upload(stack, owner, media, "fractal.png")
    small = upload(stack, owner, media, "fractal-small.jpg")
    bars = upload(stack, owner, media, "bars.png")
    upload(stack, owner, media, "bars-small.jpg")
    shared = b"the same clip bytes" * 100
    for name in ["frank", "gina"]:
        assert stack.upload(stack.add_user(name), shared, filename=f"{name}-clip.bin").status_code in (200, 201)
    root = stack.add_user("root", admin=True)

    skip_logged_requests()
    page.get(f"{stack.base_url}/app/admin.html")
    wait_until(page, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"), what="the page")
    sign_in_with_keyboard(page, root)

    # Shared content: a human heading (names, size, holders), the hash below it.
    import hashlib
    digest = hashlib.sha256(shared).hexdigest()
    article = wait_until(page, lambda d: d.find_elements("css selector", f'article.group[data-sha256="{digest}"]'),
                         what="the shared group")[0]
    assert article.find_element("css selector", "h3").text == "frank-clip.bin, gina-clip.bin: 1.9 KiB, held by frank, gina"

    # Near-duplicates: erin's pair with thumbnails; keep the original with the keyboard alone.
    page.find_element("id", "show-near").click()
    near = f'article.group[data-anchor="{fractal}"]'
    wait_until(page, lambda d: len(d.find_elements("css selector", f"{near} .thumb[data-state='loaded']")) == 2,
               what="the pair's thumbnails")
    heading = page.find_element("css selector", f"{near} h3").text
    assert heading == "erin: 2 similar images, fractal.png, fractal-small.jpg", heading
    assert page.find_element("css selector", f"{near} li.member .resolution").text == "1024 × 768 px"
    tab_to(page, lambda f: f["text"] == f"Keep asset {fractal}", f"Keep asset {fractal}")
    press(page, Keys.ENTER)
    decision = wait_until(page, lambda d: (t := d.find_element("css selector", f"{near} .decision").text)
                          .startswith("Decision: keep") and t, what="the decision")
    assert decision.startswith(f"Decision: keep asset {fractal} (root, ") and "T" not in decision.split("(root, ")[1], decision
    assert focused(page)["text"] == f"Keep asset {fractal}"  # focus stayed on the button
    assert [a["asset_id"] for a in stack.api("GET", "/api/v1/trash", owner).json()["assets"]] == [small]

    # Bulk: select erin's other pair, "Ignore selected groups".
    other = f'article.group[data-anchor="{bars}"]'
    page.find_element("css selector", f"{other} input.select").click()
    assert page.find_element("id", "selected-count").text == "1 group selected."
    page.find_element("id", "bulk-ignore").click()
    wait_until(page, lambda d: "Ignored in 1 group" in d.find_element("id", "status").text, what="the bulk decision")
    assert page.find_element("css selector", f"{other} .decision").text.startswith("Decision: ignore (root, ")

    # "Unreviewed only" asks the server: the ignored pair goes (the kept one is no group now).
    page.find_element("id", "unreviewed").click()
    wait_until(page, lambda d: not d.find_elements("css selector", other), what="the reviewed group to go")
    assert not page.find_elements("css selector", near)
    page.find_element("id", "unreviewed").click()
    wait_until(page, lambda d: d.find_elements("css selector", other), what="the reviewed group back")
    assert not page.find_element("id", "error").is_displayed(), page.find_element("id", "error").text


def test_a_similar_video_is_named_after_upload_and_can_go_to_the_trash(page, shared_stack, user, tmp_path):
    """Videos are fingerprinted by the server only: the upload answer names the similar clip, and
    the row says so and offers "Move to trash"."""
    from test_browser_e2e import provider_ids, sign_in
    from browser_support import add_folder, rows, wait_hashed

    stack = shared_stack
    ffmpeg = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25", "-t", "6"]
    tool(*ffmpeg, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(tmp_path / "clip.mp4"))
    folder = tmp_path / "videos"
    folder.mkdir()
    tool(*ffmpeg, "-vf", "scale=320:180", "-c:v", "mpeg4", "-b:v", "300k", str(folder / "clip-small.mkv"))
    first = stack.upload(user, (tmp_path / "clip.mp4").read_bytes(), filename="clip.mp4", mime="video/mp4")
    assert first.status_code == 201, first.text
    original = first.json()["asset_id"]
    wait_until(page, lambda d: stack.api("GET", f"/api/v1/assets/{original}", user).json()["perceptual_hash"],
               what="the original's fingerprint")

    sign_in(page, stack, user, provider_ids(stack, user)[0])
    add_folder(page, folder)
    wait_hashed(page, 1)
    page.find_element("id", "upload").click()
    line = wait_until(page, lambda d: d.find_element("id", "summary").text, what="the summary line")
    assert line.startswith("Done: 1 uploaded"), line
    row = rows(page)[0]
    assert row["upload"].startswith("uploaded (asset ") and row["upload"].endswith(
        f"; similar to asset {original} (clip.mp4) Move to trash"), row
    copy = int(row["upload"].removeprefix("uploaded (asset ").split(")")[0])
    page.find_element("css selector", "#files .similar-trash").click()
    wait_until(page, lambda d: rows(d)[0]["upload"].startswith("moved to the trash"), what="the move to the trash")
    assert [a["asset_id"] for a in stack.api("GET", "/api/v1/trash", user).json()["assets"]] == [copy]
    assert page.execute_script("return document.activeElement.id") == "files-heading"


def test_remember_me_keeps_the_sign_in_until_sign_out(page, shared_stack, user):
    stack = shared_stack
    skip_logged_requests()
    page.get(f"{stack.base_url}/app/duplicates.html")
    wait_until(page, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"), what="the page")
    page.find_element("id", "remember").click()
    sign_in_with_keyboard(page, user)
    wait_until(page, lambda d: d.find_element("id", "views").is_displayed(), what="sign-in")
    assert page.execute_script("return localStorage.getItem('assetdedup.token')") == user
    # A new tab has no sessionStorage: the remembered token signs it in, on every page.
    page.execute_script("sessionStorage.clear()")
    page.get(f"{stack.base_url}/app/assets.html")
    wait_until(page, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"), what="My assets")
    assert page.find_element("id", "views").is_displayed()
    page.find_element("id", "sign-out").click()
    assert page.execute_script("return [localStorage.getItem('assetdedup.token'), sessionStorage.getItem('assetdedup.token')]") == [None, None]
    page.get(f"{stack.base_url}/app/duplicates.html")
    wait_until(page, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"), what="the page")
    assert page.find_element("id", "sign-in-form").is_displayed()

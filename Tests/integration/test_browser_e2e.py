"""End to end: real headless Chromium against the real stack (nginx + the assetdedup app on
127.0.0.1) through the `stack` fixture from conftest.py. Proves what a person sees: uploads
happen once per provider, content the server holds goes to another provider without its bytes,
a large upload survives the app being killed and the page being reloaded (resuming from the
server's offset), local and server checks prevent re-uploads, and errors are clear. Bytes sent
are counted from an extra nginx access log ($request_length per request)."""
import hashlib
import os
import re
import signal
import subprocess

import pytest

import conftest
import processes

if not (hasattr(conftest, "Stack") or hasattr(conftest, "stack")):
    pytest.skip("needs the `stack` fixture (real nginx + app) from conftest.py", allow_module_level=True)

from browser_support import add_folder, clear_origin, idb, open_app, rows, wait_hashed, wait_until


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


def sign_in(driver, stack, token, provider=None, query=""):
    open_app(driver, stack.base_url, query)
    if not driver.find_element("id", "signed-in").is_displayed():  # a reload keeps the session
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


MIB = 1024 * 1024


def log_request_sizes(stack):
    """Restarts the stack's nginx with one more access log, one request a line: method, URI,
    status, bytes received ($request_length: request line, headers and body), the Upload-Offset
    sent and the one answered. Returns a function that reads the log as dicts."""
    prefix = stack.dir / "nginx"
    log = prefix / "sizes.log"
    conf = (prefix / "nginx.conf").read_text()
    # $request_uri, not $uri: a request refused through an internal redirect (the token check
    # before an upload body, with the app down) is logged under its own path all the same.
    extra = (f"    log_format sizes '$request_method $request_uri $status $request_length $http_upload_offset "
             f"$sent_http_upload_offset';\n    access_log {log} sizes;\n")
    conf = re.sub(r"^(\s*access_log )", lambda m: extra + m.group(1), conf, count=1, flags=re.M)
    assert str(log) in conf
    if hasattr(stack, "start_nginx"):
        stack.stop_nginx()
        (prefix / "nginx.conf").write_text(conf)
        stack.start_nginx()
    else:  # a conftest from before Stack.start_nginx
        stack.nginx.send_signal(signal.SIGQUIT)
        stack.nginx.wait(timeout=10)
        (prefix / "nginx.conf").write_text(conf)
        stack.nginx = subprocess.Popen([processes.NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                                       stdout=stack.nginx_log, stderr=subprocess.STDOUT)
        conftest.wait_until(stack._healthy, what="nginx to answer again")

    def read():
        if not log.exists():
            return []
        entries = []
        for line in log.read_text().splitlines():
            method, uri, status, length, offset, answered = line.split(" ")
            entries.append({"method": method, "uri": uri, "status": int(status), "length": int(length),
                            "offset": None if offset == "-" else int(offset),
                            "answered": None if answered == "-" else int(answered)})
        return entries
    return read


def sent_content(entries):
    """The requests that can carry file bytes: single uploads, resumable creates and appends."""
    return [e for e in entries if e["uri"] == "/api/v1/assets/upload" or e["uri"].startswith("/api/v1/uploads")]


def provider_hashes(stack, provider):
    return {_file_sha256(f) for f in stack.provider_files(provider)}


def test_upload_to_a_then_b_sends_no_file_bytes_for_b(page, stack, token, tmp_path):
    first, second = provider_ids(stack, token)[:2]
    requests_seen = log_request_sizes(stack)
    files = {"a.jpg": os.urandom(200_000), "b.mp4": os.urandom(300_000), "c.mov": os.urandom(3 * MIB + 5)}
    folder = make_folder(tmp_path / "album", files)
    # c.mov (over 1 MiB here) goes up resumable in 1 MiB chunks, the others in one request each.
    sign_in(page, stack, token, first, query=f"?resumable={MIB}&chunk={MIB}")
    add_folder(page, folder)
    wait_hashed(page, 3)
    summary = upload_and_wait(page)
    assert summary.startswith("Done: 3 uploaded, 0 already uploaded"), summary
    assets = {}
    for path, row in by_path(page).items():
        match = re.fullmatch(r"uploaded \(asset (\d+)\)", row["upload"])
        assert match, row
        assets[path] = match.group(1)
    assert stack.provider_uploads_count(first) == 3
    assert stack.provider_uploads_count(second) == 0
    sent_a = sent_content(requests_seen())
    assert [e["method"] for e in sent_a if e["uri"] == "/api/v1/assets/upload"] == ["POST", "POST"]
    assert [(e["method"], e["offset"]) for e in sent_a if e["uri"].startswith("/api/v1/uploads")] == [
        ("POST", None), ("PATCH", 0), ("PATCH", MIB), ("PATCH", 2 * MIB), ("PATCH", 3 * MIB)]
    mark = len(requests_seen())

    choose_provider(page, second)
    summary = upload_and_wait(page)
    # Delivered at once, or queued (202) when the server lets no more requests wait for it.
    match = re.fullmatch(r"Done: (\d) uploaded, 0 already uploaded, 0 identical in this folder, 0 failed"
                         r"(?:, (\d) queued for delivery)?, 3 added from the server's copy \(0 bytes sent\) \(of 3 files\)\.",
                         summary)
    assert match and int(match.group(1)) + int(match.group(2) or 0) == 3, summary
    for path, row in by_path(page).items():
        assert row["upload"] in (f"already on the server: added to {second} (0 bytes sent)",
                                 f"already on the server: queued for delivery to {second} (0 bytes sent)"), row
    during_b = requests_seen()[mark:]
    assert sent_content(during_b) == [], during_b
    adds = [e for e in during_b if re.fullmatch(r"/api/v1/assets/\d+/providers", e["uri"])]
    assert sorted(e["uri"] for e in adds) == sorted(f"/api/v1/assets/{a}/providers" for a in assets.values())
    assert all(e["method"] == "POST" and e["length"] < 2048 for e in adds), adds  # JSON, no file
    expected = {hashlib.sha256(data).hexdigest() for data in files.values()}
    conftest.wait_until(lambda: provider_hashes(stack, second) == expected, timeout=60,
                        what=f"{second} to hold the three files")
    conftest.wait_until(lambda: stack.provider_uploads_count(second) == 3, timeout=60, what="the uploads recorded")
    assert stack.provider_uploads_count(first) == 3
    assert len(stack.blobs()) == 3


def start_large_upload(page, stack, token, tmp_path, size):
    """Signs in, loads one file of `size` random bytes and starts uploading it with the upload
    speed held at 16 MiB/s (Chromium's own throttling, so a test can act mid-upload); returns
    the bytes, the folder, and the upload's URL once the first 8 MiB chunk has landed."""
    provider = provider_ids(stack, token)[0]
    data = os.urandom(size)
    folder = make_folder(tmp_path / "large", {"long.mov": data})
    sign_in(page, stack, token, provider)
    add_folder(page, folder)
    wait_hashed(page, 1)
    throttle(page, 16 * MIB)
    page.find_element("id", "upload").click()
    url = wait_until(page, lambda d: (idb(d, "return await wrap(tx('uploads_in_progress').getAll());") or [{}])[0].get("url"),
                     what="the resumable upload's URL in IndexedDB")

    def landed(_):
        response = stack.api("HEAD", url, token=token)
        return response.status_code in (200, 204) and int(response.headers.get("Upload-Offset", 0)) >= 8 * MIB

    wait_until(page, landed, interval=0.02, what="the first chunk to land")
    return provider, data, folder, url


def throttle(driver, upload_bytes_per_second=-1, offline=False):
    """Chromium's network emulation: upload speed, or no network at all for new requests."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": upload_bytes_per_second})


def assert_resumed_once(stack, provider, entries, mark, data, limit):
    """One upload resource, resumed after the interruption (log entries from `mark` on: the
    client's own) with a HEAD and a PATCH from the offset the server answered, fewer than
    `limit` x the file's bytes sent in all, and the stored blob and the provider's copy are the file."""
    sha = hashlib.sha256(data).hexdigest()
    uploads = [e for e in entries if e["uri"].startswith("/api/v1/uploads")]
    assert [e["method"] for e in uploads].count("POST") == 1, uploads  # resumed, never restarted
    later = [e for e in entries[mark:] if e["uri"].startswith("/api/v1/uploads")]
    heads = [e for e in later if e["method"] == "HEAD" and e["status"] in (200, 204)]
    assert heads and heads[0]["answered"] > 0, later
    after = later[later.index(heads[0]) + 1]
    assert (after["method"], after["offset"]) == ("PATCH", heads[0]["answered"]), later
    sent = sum(e["length"] for e in uploads)  # the test's own HEAD polls too: a few hundred bytes each
    print(f"resumed at {heads[0]['answered']} of {len(data)} bytes; {sent} bytes sent ({sent / len(data):.3f}x)")
    assert sent < limit * len(data), (sent, len(data), uploads)
    blob = [b for b in stack.blobs() if b.name == sha]
    assert len(blob) == 1 and blob[0].read_bytes() == data
    assert sha in provider_hashes(stack, provider)


def test_large_upload_survives_the_app_being_killed(page, stack, token, tmp_path):
    requests_seen = log_request_sizes(stack)
    try:
        provider, data, folder, url = start_large_upload(page, stack, token, tmp_path, 48 * MIB)
        stack.stop_app(signal.SIGKILL)  # mid-upload: the chunk in flight is cut off (or refused)
        wait_until(page, lambda d: "retrying" in rows(d)[0]["upload"], what="the client to notice the app is gone")
        mark = len(requests_seen())
        stack.start_app()
        summary = wait_until(page, lambda d: d.find_element("id", "summary").text, timeout=300, what="the summary line")
    finally:
        throttle(page)
    assert summary.startswith("Done: 1 uploaded"), (summary, rows(page))
    assert re.fullmatch(r"uploaded \(asset \d+\)", rows(page)[0]["upload"]), rows(page)
    assert_resumed_once(stack, provider, requests_seen(), mark, data, 1.25)
    assert idb(page, "return await wrap(tx('uploads_in_progress').count());") == 0


def test_large_upload_survives_the_network_going_away(page, stack, token, tmp_path):
    requests_seen = log_request_sizes(stack)
    try:
        provider, data, folder, url = start_large_upload(page, stack, token, tmp_path, 48 * MIB)
        throttle(page, 16 * MIB, offline=True)  # the next request fails: no network
        wait_until(page, lambda d: "connection lost, retrying" in rows(d)[0]["upload"], what="the client to notice")
        mark = len(requests_seen())
        throttle(page, 16 * MIB)
        summary = wait_until(page, lambda d: d.find_element("id", "summary").text, timeout=300, what="the summary line")
    finally:
        throttle(page)
    assert summary.startswith("Done: 1 uploaded"), (summary, rows(page))
    assert_resumed_once(stack, provider, requests_seen(), mark, data, 1.25)


def test_reload_mid_upload_resumes_from_the_server_offset(page, stack, token, tmp_path):
    requests_seen = log_request_sizes(stack)
    try:
        provider, data, folder, url = start_large_upload(page, stack, token, tmp_path, 48 * MIB)
        stack.app.send_signal(signal.SIGSTOP)  # hold the upload where it is while the page goes
        try:
            page.get("about:blank")
        finally:
            stack.app.send_signal(signal.SIGCONT)
    finally:
        throttle(page)
    mark = len(requests_seen())
    sign_in(page, stack, token, provider)
    notice = wait_until(page, lambda d: d.find_element("id", "unfinished").text, what="the unfinished-upload notice")
    assert notice.startswith("1 unfinished upload"), notice
    add_folder(page, folder)
    wait_hashed(page, 1)
    summary = upload_and_wait(page)
    assert summary.startswith("Done: 1 uploaded"), (summary, rows(page))
    assert_resumed_once(stack, provider, requests_seen(), mark, data, 1.25)


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

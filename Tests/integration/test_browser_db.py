"""The browser client's IndexedDB in real headless Chromium: the v1 -> v3 and v2 -> v3 upgrades
keep old data, a cached hash is reused only while size and lastModified match, and `uploads_by_hash`
outlives removing and re-adding a folder."""
import hashlib
import os


from browser_support import add_folder, idb, open_app, rows, wait_hashed, wait_until

# The page's IndexedDB in a static site: no app, no store.


def test_upgrade_from_v1_keeps_old_records(browser, static_site):
    # Seed a v1 database from a page of the same origin that does not run the app.
    browser.get(f"{static_site.base_url}/app/favicon.svg")
    seeded = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const request = indexedDB.open('assetdedup', 1);
        request.onupgradeneeded = () => request.result.createObjectStore('assets', {keyPath: 'path'});
        request.onsuccess = () => {
            const db = request.result;
            const tx = db.transaction('assets', 'readwrite');
            tx.objectStore('assets').put({path: 'old/a.jpg', size: 5, lastModified: 1700000000000});
            tx.objectStore('assets').put({path: 'old/b.mp4', size: 9, lastModified: 1700000000001});
            tx.oncomplete = () => { db.close(); done(db.version); };
        };
        request.onerror = () => done(String(request.error));""")
    assert seeded == 1
    open_app(browser, static_site.base_url)
    schema = idb(browser, """
        const assets = tx('assets');
        return {version: db.version, stores: [...db.objectStoreNames].sort(),
                indexes: [...assets.indexNames], unique: assets.index('sha256').unique,
                records: await wrap(tx('assets').getAll())};""")
    assert schema["version"] == 3
    assert schema["stores"] == ["assets", "folders", "meta", "uploads_by_hash", "uploads_in_progress"]
    assert schema["indexes"] == ["sha256"] and schema["unique"] is False
    assert schema["records"] == [
        {"path": "old/a.jpg", "size": 5, "lastModified": 1700000000000},
        {"path": "old/b.mp4", "size": 9, "lastModified": 1700000000001},
    ]


def test_upgrade_from_v2_keeps_old_records_and_adds_uploads_in_progress(browser, static_site):
    # A v2 database as the previous client left it, with a record in every store that has data.
    browser.get(f"{static_site.base_url}/app/favicon.svg")
    seeded = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const request = indexedDB.open('assetdedup', 2);
        request.onupgradeneeded = () => {
            const db = request.result;
            db.createObjectStore('assets', {keyPath: 'path'}).createIndex('sha256', 'sha256', {unique: false});
            db.createObjectStore('uploads_by_hash', {keyPath: 'sha256'});
            db.createObjectStore('folders', {keyPath: 'name'});
            db.createObjectStore('meta', {keyPath: 'key'});
        };
        request.onsuccess = () => {
            const db = request.result;
            const tx = db.transaction(['assets', 'uploads_by_hash', 'meta'], 'readwrite');
            tx.objectStore('assets').put({path: 'v2/a.jpg', size: 5, lastModified: 1, sha256: 'a'.repeat(64)});
            tx.objectStore('uploads_by_hash').put({sha256: 'a'.repeat(64), status: 'created', assetId: 7,
                                                   providers: ['pixverse'], note: '', time: 't'});
            tx.objectStore('meta').put({key: 'owner', value: 'someone'});
            tx.oncomplete = () => { db.close(); done(db.version); };
        };
        request.onerror = () => done(String(request.error));""")
    assert seeded == 2
    open_app(browser, static_site.base_url)
    schema = idb(browser, """
        return {version: db.version, stores: [...db.objectStoreNames].sort(),
                keyPath: tx('uploads_in_progress').keyPath,
                assets: await wrap(tx('assets').getAll()), uploads: await wrap(tx('uploads_by_hash').getAll()),
                meta: await wrap(tx('meta').getAll()), open: await wrap(tx('uploads_in_progress').count())};""")
    assert schema["version"] == 3
    assert schema["stores"] == ["assets", "folders", "meta", "uploads_by_hash", "uploads_in_progress"]
    assert schema["keyPath"] == "key" and schema["open"] == 0
    assert schema["assets"] == [{"path": "v2/a.jpg", "size": 5, "lastModified": 1, "sha256": "a" * 64}]
    assert schema["uploads"] == [{"sha256": "a" * 64, "status": "created", "assetId": 7,
                                  "providers": ["pixverse"], "note": "", "time": "t"}]
    assert schema["meta"] == [{"key": "owner", "value": "someone"}]


def test_hash_is_reused_only_while_size_and_mtime_match(browser, static_site, tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    file = folder / "photo.jpg"
    file.write_bytes(b"first version")
    real = hashlib.sha256(b"first version").hexdigest()
    open_app(browser, static_site.base_url)
    add_folder(browser, folder)
    row = wait_hashed(browser, 1)[0]
    assert (row["hashState"], row["sha256"]) == ("computed", real)
    record = idb(browser, "return await wrap(tx('assets').get('cache/photo.jpg'));")
    assert record["sha256"] == real and record["size"] == 13 and record["sha256ComputedAt"]

    # Plant a marker hash: if the page shows it, the cache was used instead of hashing again.
    marker = "f" * 64
    idb(browser, f"""const r = await wrap(tx('assets').get('cache/photo.jpg')); r.sha256 = '{marker}';
                    await wrap(tx('assets', 'readwrite').put(r)); return true;""")
    open_app(browser, static_site.base_url)
    add_folder(browser, folder)
    row = wait_hashed(browser, 1)[0]
    assert (row["hashState"], row["sha256"]) == ("cached", marker)

    # Same size, new lastModified: hashed again.
    stat = file.stat()
    os.utime(file, (stat.st_atime, stat.st_mtime + 10))
    add_folder(browser, folder)
    row = wait_hashed(browser, 1)[0]
    assert (row["hashState"], row["sha256"]) == ("computed", real)

    # Plant the marker again, then change the size but keep lastModified: hashed again.
    idb(browser, f"""const r = await wrap(tx('assets').get('cache/photo.jpg')); r.sha256 = '{marker}';
                    await wrap(tx('assets', 'readwrite').put(r)); return true;""")
    mtime = file.stat().st_mtime
    file.write_bytes(b"second, longer version")
    os.utime(file, (mtime, mtime))
    add_folder(browser, folder)
    row = wait_hashed(browser, 1)[0]
    assert (row["hashState"], row["sha256"]) == ("computed", hashlib.sha256(b"second, longer version").hexdigest())


def test_uploads_by_hash_survives_folder_remove_and_readd(browser, static_site, tmp_path):
    folder = tmp_path / "album"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"pixels")
    (folder / "b.jpg").write_bytes(b"other pixels")
    digest = hashlib.sha256(b"pixels").hexdigest()
    open_app(browser, static_site.base_url)
    add_folder(browser, folder)
    wait_hashed(browser, 2)
    # What an earlier upload run records for a file (see upload.js recordUpload).
    idb(browser, f"""await wrap(tx('uploads_by_hash', 'readwrite').put({{sha256: '{digest}', status: 'created',
                    assetId: 123, providers: ['pixverse'], note: '', time: new Date().toISOString()}})); return true;""")

    browser.find_element("css selector", "#folders li[data-folder='album'] button.remove-folder").click()
    wait_until(browser, lambda d: rows(d) == [], what="the folder's rows to go")
    left = idb(browser, """return {assets: await wrap(tx('assets').count()),
                                  uploads: await wrap(tx('uploads_by_hash').getAll())};""")
    assert left["assets"] == 0
    assert [u["sha256"] for u in left["uploads"]] == [digest]

    add_folder(browser, folder)
    by_path = {r["path"]: r for r in wait_hashed(browser, 2)}
    assert by_path["album/a.jpg"]["hashState"] == "computed"  # the hash cache went with the folder
    wait_until(browser, lambda d: {r["path"]: r for r in rows(d)}["album/a.jpg"]["upload"],
               what="the local upload status")
    by_path = {r["path"]: r for r in rows(browser)}
    assert by_path["album/a.jpg"]["upload"] == "already uploaded (asset 123 on pixverse)"
    assert by_path["album/b.jpg"]["upload"] == ""


def test_identical_files_in_a_folder_are_marked(browser, static_site, tmp_path):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"same bytes")
    (folder / "sub" / "copy.jpg").write_bytes(b"same bytes")
    (folder / "z.jpg").write_bytes(b"same bytes")
    open_app(browser, static_site.base_url)
    add_folder(browser, folder)
    by_path = {r["path"]: r for r in wait_hashed(browser, 3)}
    assert by_path["photos/a.jpg"]["upload"] == ""
    assert by_path["photos/sub/copy.jpg"]["upload"] == "identical to photos/a.jpg in this folder"
    assert by_path["photos/z.jpg"]["upload"] == "identical to photos/a.jpg in this folder"


def test_remembered_directory_handle_reopens_after_reload(browser, static_site):
    # A real FileSystemDirectoryHandle without a picker dialog: one from the origin's private
    # file system, stored the way the "Choose folder…" button stores a picked one.
    open_app(browser, static_site.base_url)
    assert browser.execute_script("return typeof showDirectoryPicker === 'function'")
    stored = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        (async () => {
            const root = await navigator.storage.getDirectory();
            const dir = await root.getDirectoryHandle('opfs-album', {create: true});
            const sub = await dir.getDirectoryHandle('sub', {create: true});
            for (const [d, name, text] of [[dir, 'a.txt', 'hello'], [sub, 'b.jpg', 'jpeg bytes']]) {
                const file = await d.getFileHandle(name, {create: true});
                const writable = await file.createWritable();
                await writable.write(text);
                await writable.close();
            }
            const request = indexedDB.open('assetdedup');
            request.onsuccess = () => {
                const tx = request.result.transaction('folders', 'readwrite');
                tx.objectStore('folders').put({name: dir.name, handle: dir, savedAt: new Date().toISOString()});
                tx.oncomplete = () => { request.result.close(); done(true); };
            };
        })().catch((e) => done(String(e)));""")
    assert stored is True
    open_app(browser, static_site.base_url)
    button = wait_until(browser, lambda d: d.find_elements("css selector", "#recent-folders button"),
                        what="the remembered folder")[0]
    assert button.text == "Open opfs-album again"
    button.click()
    by_path = {r["path"]: r for r in wait_hashed(browser, 2)}
    assert by_path["opfs-album/a.txt"]["sha256"] == hashlib.sha256(b"hello").hexdigest()
    assert by_path["opfs-album/sub/b.jpg"]["sha256"] == hashlib.sha256(b"jpeg bytes").hexdigest()
    assert by_path["opfs-album/sub/b.jpg"]["kind"] == "image"

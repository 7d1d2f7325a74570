// IndexedDB: the per-file hash cache (`assets`, keyed by relative path), the global
// `uploads_by_hash` record of what the server has, persisted folder handles and a `meta` store.
// Version 1 had only `assets` {path, size, lastModified}; version 2 adds the rest and keeps
// every v1 record (the upgrade only adds stores and an index, it never clears). Version 3 adds
// `uploads_in_progress`: the URL of each unfinished resumable upload, so a reload resumes it.

export const DB_NAME = 'assetdedup';
export const DB_VERSION = 3;

/** The stores that hold one user's data: signing out (or in as someone else) clears them. */
export const USER_STORES = ['assets', 'uploads_by_hash', 'folders', 'meta', 'uploads_in_progress'];

/** Opens (and upgrades) the database. */
export function openDatabase(name = DB_NAME) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, DB_VERSION);
    request.onupgradeneeded = (event) => upgrade(request.result, request.transaction, event.oldVersion);
    request.onsuccess = () => resolve(new AssetDatabase(request.result));
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error('close other AssetDedup tabs to upgrade the local cache'));
  });
}

/** Each step brings the schema from version N-1 to N, so any old version upgrades in order. */
function upgrade(db, transaction, oldVersion) {
  if (oldVersion < 1) {
    db.createObjectStore('assets', { keyPath: 'path' });
  }
  if (oldVersion < 2) {
    // Existing asset records simply have no sha256 yet: the index skips them until hashed.
    transaction.objectStore('assets').createIndex('sha256', 'sha256', { unique: false });
    db.createObjectStore('uploads_by_hash', { keyPath: 'sha256' });
    db.createObjectStore('folders', { keyPath: 'name' });
    db.createObjectStore('meta', { keyPath: 'key' });
  }
  if (oldVersion < 3) {
    // Key `${sha256}:${provider}`: {url, size, provider, sha256, updatedAt}.
    db.createObjectStore('uploads_in_progress', { keyPath: 'key' });
  }
}

/** Promise wrappers over the stores the app uses. */
export class AssetDatabase {
  constructor(db) {
    this.db = db;
    // Another tab upgrading must not be blocked by us.
    db.onversionchange = () => db.close();
  }

  close() {
    this.db.close();
  }

  /** The cached hash for `file` at `path`, only while its size and lastModified still match. */
  async cachedHash(path, file) {
    const record = await this.get('assets', path);
    if (!record || !record.sha256) return null;
    if (record.size !== file.size || record.lastModified !== file.lastModified) return null;
    return record.sha256;
  }

  /** Remembers a file we saw (v1 fields) and, when known, its hash. */
  saveAsset(path, file, sha256 = null) {
    const record = { path, size: file.size, lastModified: file.lastModified };
    if (sha256) {
      record.sha256 = sha256;
      record.sha256ComputedAt = new Date().toISOString();
    }
    return this.put('assets', record);
  }

  /** Paths cached under a folder name (`name/...`). */
  async assetPathsUnder(folder) {
    const range = IDBKeyRange.bound(`${folder}/`, `${folder}/\uffff`);
    return this.request('assets', 'readonly', (store) => store.getAllKeys(range));
  }

  /** Forgets a folder's files and handle; `uploads_by_hash` is kept on purpose. */
  async removeFolder(folder) {
    const range = IDBKeyRange.bound(`${folder}/`, `${folder}/\uffff`);
    await this.request('assets', 'readwrite', (store) => store.delete(range));
    await this.request('folders', 'readwrite', (store) => store.delete(folder));
  }

  uploadRecord(sha256) {
    return this.get('uploads_by_hash', sha256);
  }

  /**
   * Merges a server answer into the record for `sha256` (providers accumulate). `queued` lists
   * providers the server accepted to deliver later (202); a provider leaves it once it is listed
   * in `providers`.
   */
  async recordUpload(sha256, { status, assetId, providers, note, queued = [] }) {
    const old = (await this.get('uploads_by_hash', sha256)) || { providers: [] };
    const merged = new Set([...(old.providers || []), ...(providers || [])]);
    const pending = new Set([...(old.queued || []), ...queued].filter((p) => !merged.has(p)));
    const record = {
      sha256,
      status,
      assetId: assetId ?? old.assetId ?? null,
      providers: [...merged].sort(),
      note: note || '',
      time: new Date().toISOString(),
    };
    if (pending.size) record.queued = [...pending].sort();
    return this.put('uploads_by_hash', record);
  }

  /** The unfinished resumable upload of `sha256` to `provider`, or undefined. */
  uploadInProgress(sha256, provider) {
    return this.get('uploads_in_progress', `${sha256}:${provider}`);
  }

  /** Remembers (or refreshes) where the upload of `sha256` to `provider` lives on the server. */
  saveUploadInProgress(sha256, provider, { url, size }) {
    return this.put('uploads_in_progress', {
      key: `${sha256}:${provider}`, sha256, provider, url, size, updatedAt: new Date().toISOString(),
    });
  }

  forgetUploadInProgress(sha256, provider) {
    return this.request('uploads_in_progress', 'readwrite', (store) => store.delete(`${sha256}:${provider}`));
  }

  uploadsInProgress() {
    return this.request('uploads_in_progress', 'readonly', (store) => store.getAll());
  }

  saveFolderHandle(name, handle) {
    return this.put('folders', { name, handle, savedAt: new Date().toISOString() });
  }

  folderHandles() {
    return this.request('folders', 'readonly', (store) => store.getAll());
  }

  getMeta(key) {
    return this.get('meta', key).then((record) => (record ? record.value : undefined));
  }

  setMeta(key, value) {
    return this.put('meta', { key, value });
  }

  /** Drops everything tied to a user: hashes of their files, what they uploaded, folder handles,
   *  unfinished upload URLs. */
  async clearUserData() {
    for (const name of USER_STORES) {
      await this.request(name, 'readwrite', (store) => store.clear());
    }
  }

  get(storeName, key) {
    return this.request(storeName, 'readonly', (store) => store.get(key));
  }

  put(storeName, value) {
    return this.request(storeName, 'readwrite', (store) => store.put(value));
  }

  /** Runs one request in its own transaction; resolves when the transaction commits. */
  request(storeName, mode, makeRequest) {
    return new Promise((resolve, reject) => {
      const transaction = this.db.transaction(storeName, mode);
      const request = makeRequest(transaction.objectStore(storeName));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error || request.error);
      transaction.onabort = () => reject(transaction.error || new Error('transaction aborted'));
    });
  }
}

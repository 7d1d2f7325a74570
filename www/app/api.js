// The HTTP API client (same origin, /api/v1). Every failure becomes an ApiError whose message
// a person can act on: server down, token rejected, file too large, or the server's own words.

const BASE = '/api/v1';

/** An API failure: `status` 0 means the server could not be reached at all. */
export class ApiError extends Error {
  constructor(status, code, message, retryable = undefined) {
    super(message);
    this.status = status;
    this.code = code;
    this.explicitRetryable = retryable; // the server's own `retryable`, when it sent one
  }

  /** True for failures worth retrying as they are (network, gateway, overload, another
   *  uploader still sending the same file to the same provider). The server's `retryable`
   *  wins when it sent one (a provider that refused the file will refuse it again). */
  get retryable() {
    if (typeof this.explicitRetryable === 'boolean') return this.explicitRetryable;
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504
      || this.code === 'upload_in_progress';
  }
}

/** Turns a status and (maybe JSON) body into an ApiError with a clear message. Understands
 *  our `{"error": {code, message, retryable}}` and RFC 9457 problem details (`title`, `detail`). */
export function errorFromResponse(status, bodyText) {
  let code = `http_${status}`;
  let message = '';
  let retryable;
  try {
    const body = JSON.parse(bodyText);
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || '';
      if (typeof body.error.retryable === 'boolean') retryable = body.error.retryable;
    } else if (body && (body.type || body.title || body.detail)) {
      // Problem details: the code is the type's fragment (…#mismatching-upload-offset).
      const type = typeof body.type === 'string' ? body.type.split('#').pop().replace(/-/g, '_') : '';
      code = type || code;
      if (code === 'mismatching_upload_offset') code = 'offset_mismatch';
      message = body.detail || body.title || '';
    }
  } catch {
    // nginx's own error pages are HTML: fall through to the generic wording.
  }
  if (status === 401) return new ApiError(401, code, `Token rejected${message ? `: ${message}` : ''}. Sign in with a valid API token.`);
  if (status === 413) return new ApiError(413, code, message || 'File too large for the server (413).');
  if (status === 502 || status === 503 || status === 504) {
    return new ApiError(status, code, message || `Server unavailable (${status}): the AssetDedup service is not answering. Try again later.`, retryable);
  }
  return new ApiError(status, code, message || `Request failed (${status}).`, retryable);
}

/** Parses a JSON answer or throws the ApiError a person sees for a garbled one. */
function parseJSON(status, text) {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(status, 'bad_json', 'The server sent an answer that is not JSON.');
  }
}

/** `Upload-Offset` as a number, or null when absent or malformed. */
function offsetHeader(response) {
  const value = response.header('Upload-Offset');
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value.trim()) : null;
}

/** The raw 32-byte digest of a hex sha256, base64: what `Repr-Digest: sha-256=:…:` carries. */
export function sha256Base64(hex) {
  let binary = '';
  for (let i = 0; i < hex.length; i += 2) binary += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16));
  return btoa(binary);
}

/** A JSON API client bound to one bearer token. */
export class ApiClient {
  constructor(token) {
    this.token = token;
  }

  async request(method, path, body) {
    const headers = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(BASE + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'network', 'Server unreachable: check your connection or try again later.');
    }
    const text = await response.text();
    if (!response.ok) throw errorFromResponse(response.status, text);
    if (response.status === 204) return null; // No Content: DELETE /trash/{id}
    const answer = parseJSON(response.status, text);
    if (answer && typeof answer === 'object') Object.defineProperty(answer, 'httpStatus', { value: response.status });
    return answer;
  }

  providers() {
    return this.request('GET', '/providers').then((body) => body.providers || []);
  }

  /** Batch check, split into requests of at most 1000 items (the API's limit). */
  async checkByHash(items) {
    const results = [];
    for (let i = 0; i < items.length; i += 1000) {
      const body = await this.request('POST', '/assets/check-by-hash/batch', { items: items.slice(i, i + 1000) });
      results.push(...(body.results || []));
    }
    return results;
  }

  /**
   * Puts an asset the server already holds on one more provider: no file bytes travel.
   * Resolves to the upload-shaped answer (`status` "added_provider", "reused" or, with HTTP 202,
   * "queued"); `httpStatus` is on the answer.
   */
  addProvider(assetId, providerId) {
    return this.request('POST', `/assets/${encodeURIComponent(assetId)}/providers`, { provider_id: providerId });
  }

  /**
   * Near-duplicates of content not uploaded yet: `{similar: [{asset_id, distance,
   * original_filename}], threshold}` for a 16-hex-digit perceptual hash, the user's own assets
   * only. A server without the endpoint answers 404 (or 501): the caller uploads as before.
   * Questions go one at a time, and after such an answer later ones fail the same way without
   * a request (an older server is asked once per sign-in, not once per image).
   */
  similar(perceptualHash) {
    const ask = async () => {
      if (this.similarUnavailable) throw this.similarUnavailable;
      try {
        return await this.request('POST', '/assets/similar', { perceptual_hash: perceptualHash });
      } catch (error) {
        if ([404, 405, 501].includes(error.status)) this.similarUnavailable = error;
        throw error;
      }
    };
    const answer = (this.similarQueue || Promise.resolve()).then(ask);
    this.similarQueue = answer.catch(() => {});
    return answer;
  }

  // ---- the user's assets and trash (own assets only; another user's are 404) -----------------

  /** One page of live assets in id order: `{assets, next_after}`; pass `next_after` as `after`. */
  listAssets({ limit = 50, after = null } = {}) {
    return this.request('GET', `/assets?${pageQuery(limit, after)}`);
  }

  /** One page of trashed assets in id order: `{assets, next_after}`. */
  listTrash({ limit = 50, after = null } = {}) {
    return this.request('GET', `/trash?${pageQuery(limit, after)}`);
  }

  /** `DELETE /assets/{id}`: moves the asset to the trash; resolves the asset, `trashed_at` set. */
  trashAsset(assetId) {
    return this.request('DELETE', `/assets/${encodeURIComponent(assetId)}`);
  }

  /** `POST /assets/{id}/restore`: back from the trash; resolves the asset. */
  restoreAsset(assetId) {
    return this.request('POST', `/assets/${encodeURIComponent(assetId)}/restore`);
  }

  /** `DELETE /trash/{id}`: deletes a trashed asset for good (204, resolves null). */
  purgeAsset(assetId) {
    return this.request('DELETE', `/trash/${encodeURIComponent(assetId)}`);
  }

  // ---- the user's near-duplicates and thumbnails ---------------------------------------------

  /** One page of the caller's near-duplicate groups: `{groups: [{anchor_asset_id, assets}],
   *  next_after}`; pass `next_after` as `after`. */
  nearDuplicates({ limit = 20, after = null } = {}) {
    return this.request('GET', `/near-duplicates?${pageQuery(limit, after)}`);
  }

  /**
   * Keeps one asset per group by `rule` (largest, oldest, most_providers) and trashes the rest.
   * `dryRun` only says what it would trash; `expectTrash` (a preview's ids) makes the server
   * refuse with 409 "plan_changed" when the groups changed since, trashing nothing.
   */
  resolveNearDuplicates(rule, { dryRun = false, expectTrash = undefined } = {}) {
    const body = { rule, dry_run: dryRun };
    if (expectTrash) body.expect_trash = expectTrash;
    return this.request('POST', '/near-duplicates/resolve', body);
  }

  /**
   * A server-made JPEG of one of the caller's images: resolves `{url, width, height}` (an object
   * URL of the thumbnail, the image's own size), or null when it has none (not an image).
   * The browser's cache keeps them (the server says `private`), so a page shown again is cheap.
   */
  async thumbnail(assetId, size = 256) {
    let response;
    try {
      response = await fetch(`${BASE}/assets/${encodeURIComponent(assetId)}/thumbnail?size=${size}`, {
        headers: { Authorization: `Bearer ${this.token}` },
      });
    } catch {
      throw new ApiError(0, 'network', 'Server unreachable: check your connection or try again later.');
    }
    if (response.status === 404) return null;
    if (!response.ok) throw errorFromResponse(response.status, await response.text());
    const blob = await response.blob();
    return {
      url: URL.createObjectURL(blob),
      width: Number(response.headers.get('Image-Width')) || null,
      height: Number(response.headers.get('Image-Height')) || null,
    };
  }

  // ---- admin: duplicate review (admin tokens only; others get 403 "forbidden") ---------------

  /** One page of duplicate groups: `{groups, next_after}`; pass `next_after` as `after`. */
  duplicateGroups({ limit = 50, after = '' } = {}) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (after) query.set('after', after);
    return this.request('GET', `/admin/duplicates?${query}`);
  }

  /**
   * Records a decision on a group, as `assetdedup review` does: `{decision: "keep", asset_id}`
   * or `{decision: "ignore"}`, with an optional `note`. Resolves `{review}`.
   */
  reviewDuplicate(sha256, decision) {
    return this.request('POST', `/admin/duplicates/${encodeURIComponent(sha256)}/review`, decision);
  }

  /** One page of every user's near-duplicate groups: `{groups, next_after}`; `unreviewed`
   *  leaves out groups with a current review. */
  adminNearDuplicates({ limit = 50, after = '', unreviewed = false } = {}) {
    const query = pageQuery(limit, after);
    if (unreviewed) query.set('unreviewed', 'true');
    return this.request('GET', `/admin/near-duplicates?${query}`);
  }

  /** Records a decision on the near-duplicate group holding `assetId` (its anchor); a `keep`
   *  moves the owner's others to their trash. Resolves `{review, trashed}`. */
  reviewNearDuplicates(assetId, decision) {
    return this.request('POST', `/admin/near-duplicates/${encodeURIComponent(assetId)}/review`, decision);
  }

  /**
   * One XHR (fetch has no upload progress, and its response headers need CORS thinking we do not
   * need same-origin). Resolves `{status, text, header(name)}` for every HTTP answer; rejects with
   * ApiError status 0 when the server cannot be reached and an AbortError on `signal`.
   */
  send(method, url, { headers = {}, body = null, onProgress, signal } = {}) {
    return new Promise((resolve, reject) => {
      if (signal && signal.aborted) {
        reject(new DOMException('upload cancelled', 'AbortError'));
        return;
      }
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader('Authorization', `Bearer ${this.token}`);
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      if (onProgress) xhr.upload.onprogress = (event) => onProgress(event.loaded);
      const onAbort = () => xhr.abort();
      const done = () => signal && signal.removeEventListener('abort', onAbort);
      xhr.onload = () => {
        done();
        resolve({ status: xhr.status, text: xhr.responseText, header: (name) => xhr.getResponseHeader(name) });
      };
      xhr.onerror = () => {
        done();
        reject(new ApiError(0, 'network', 'Server unreachable during upload.'));
      };
      xhr.onabort = () => {
        done();
        reject(new DOMException('upload cancelled', 'AbortError'));
      };
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
      xhr.send(body);
    });
  }

  /**
   * Uploads one file in a single multipart request. Resolves to the JSON answer;
   * `onProgress(sentBytes)` follows the body; `signal` aborts.
   */
  async upload(file, { providerId, sha256, onProgress = () => {}, signal } = {}) {
    const form = new FormData();
    form.append('provider_id', providerId);
    if (sha256) form.append('sha256', sha256);
    form.append('file', file, file.name); // last: the server streams it after the small fields
    const response = await this.send('POST', `${BASE}/assets/upload`, { body: form, onProgress, signal });
    if (response.status < 200 || response.status >= 300) throw errorFromResponse(response.status, response.text);
    return parseJSON(response.status, response.text);
  }

  // ---- resumable uploads (draft-ietf-httpbis-resumable-upload-15, no 104) ---------------------

  /**
   * Creates an upload resource for `size` bytes of content `sha256` (hex), sending no content.
   * Resolves `{url, offset}` for a new upload, or `{answer}` when the server already had the
   * content (upload JSON: "reused", "added_provider", or "queued" with 202).
   */
  async createUpload({ providerId, filename, size, sha256, signal }) {
    const query = new URLSearchParams({ provider_id: providerId, filename });
    const response = await this.send('POST', `${BASE}/uploads?${query}`, {
      headers: {
        'Upload-Complete': '?0',
        'Upload-Length': String(size),
        'Repr-Digest': `sha-256=:${sha256Base64(sha256)}:`,
      },
      signal,
    });
    if (response.status < 200 || response.status >= 300) throw errorFromResponse(response.status, response.text);
    const location = response.header('Location');
    if (response.status === 201 && location) {
      const url = new URL(location, window.location.href);
      return { url: url.pathname + url.search, offset: offsetHeader(response) ?? 0 };
    }
    const answer = parseJSON(response.status, response.text);
    Object.defineProperty(answer, 'httpStatus', { value: response.status });
    return { answer };
  }

  /**
   * `HEAD` on an upload: resolves `{offset, complete}`; a gone upload rejects with status 404.
   */
  async uploadOffset(url, { signal } = {}) {
    const response = await this.send('HEAD', url, { signal });
    if (response.status < 200 || response.status >= 300) throw errorFromResponse(response.status, response.text);
    const offset = offsetHeader(response);
    if (offset === null) throw new ApiError(response.status, 'bad_offset', 'The server did not say how much of the upload it has.');
    return { offset, complete: (response.header('Upload-Complete') || '').trim() === '?1' };
  }

  /**
   * `PATCH` one chunk at `offset`; `complete` marks the last one. Resolves `{offset}` while the
   * upload goes on (204), or `{answer}` with the upload JSON when it is complete (200/201, or
   * 202 "queued"). A 409 offset mismatch rejects with code "offset_mismatch", a 400 for an
   * upload that was already completed and answered with "completed_upload".
   */
  async appendUpload(url, chunk, { offset, complete, onProgress, signal }) {
    const response = await this.send('PATCH', url, {
      headers: {
        'Content-Type': 'application/partial-upload',
        'Upload-Offset': String(offset),
        'Upload-Complete': complete ? '?1' : '?0',
      },
      body: chunk,
      onProgress,
      signal,
    });
    if (response.status === 204) return { offset: offsetHeader(response) ?? offset + chunk.size };
    if (response.status < 200 || response.status >= 300) {
      const error = errorFromResponse(response.status, response.text);
      const problem = (response.header('Content-Type') || '').includes('application/problem+json');
      if (response.status === 409 && (problem || error.code === 'http_409')) error.code = 'offset_mismatch';
      throw error;
    }
    const answer = parseJSON(response.status, response.text);
    Object.defineProperty(answer, 'httpStatus', { value: response.status });
    return { answer };
  }

  /** Best effort `DELETE` of an upload we give up on (the server expires it anyway). */
  async cancelUpload(url) {
    try {
      await this.send('DELETE', url);
    } catch {
      // unreachable: the server's expiry cleans it up
    }
  }
}

function pageQuery(limit, after) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (after !== null && after !== undefined && after !== '') query.set('after', String(after));
  return query;
}

/** The provider ids an answer lists, whether the server sends a list or a {provider: id} map. */
export function providerIds(uploadedToProviders) {
  if (!uploadedToProviders) return [];
  if (Array.isArray(uploadedToProviders)) {
    return uploadedToProviders.map((p) => (typeof p === 'string' ? p : p.provider_id || p.id)).filter(Boolean);
  }
  return Object.keys(uploadedToProviders);
}

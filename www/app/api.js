// The HTTP API client (same origin, /api/v1). Every failure becomes an ApiError whose message
// a person can act on: server down, token rejected, file too large, or the server's own words.

const BASE = '/api/v1';

/** An API failure: `status` 0 means the server could not be reached at all. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** True for failures worth retrying as they are (network, gateway, overload, another
   *  uploader still sending the same file to the same provider). */
  get retryable() {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504
      || this.code === 'upload_in_progress';
  }
}

/** Turns a status and (maybe JSON) body into an ApiError with a clear message. */
export function errorFromResponse(status, bodyText) {
  let code = `http_${status}`;
  let message = '';
  try {
    const body = JSON.parse(bodyText);
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || '';
    }
  } catch {
    // nginx's own error pages are HTML: fall through to the generic wording.
  }
  if (status === 401) return new ApiError(401, code, `Token rejected${message ? `: ${message}` : ''}. Sign in with a valid API token.`);
  if (status === 413) return new ApiError(413, code, message || 'File too large for the server (413).');
  if (status === 502 || status === 503 || status === 504) {
    return new ApiError(status, code, message || `Server unavailable (${status}): the AssetDedup service is not answering. Try again later.`);
  }
  return new ApiError(status, code, message || `Request failed (${status}).`);
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
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiError(response.status, 'bad_json', 'The server sent an answer that is not JSON.');
    }
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
   * Uploads one file with XHR (fetch has no upload progress). Resolves to the JSON answer;
   * `onProgress(sentBytes)` follows the body; `signal` aborts.
   */
  upload(file, { providerId, sha256, onProgress = () => {}, signal } = {}) {
    return new Promise((resolve, reject) => {
      const form = new FormData();
      form.append('provider_id', providerId);
      if (sha256) form.append('sha256', sha256);
      form.append('file', file, file.name); // last: the server streams it after the small fields
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${BASE}/assets/upload`);
      xhr.setRequestHeader('Authorization', `Bearer ${this.token}`);
      xhr.upload.onprogress = (event) => onProgress(event.loaded);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          try {
            resolve(JSON.parse(xhr.responseText));
          } catch {
            reject(new ApiError(xhr.status, 'bad_json', 'The server sent an answer that is not JSON.'));
          }
        } else {
          reject(errorFromResponse(xhr.status, xhr.responseText));
        }
      };
      xhr.onerror = () => reject(new ApiError(0, 'network', 'Server unreachable during upload.'));
      xhr.onabort = () => reject(new DOMException('upload cancelled', 'AbortError'));
      if (signal) signal.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.send(form);
    });
  }
}

/** The provider ids an answer lists, whether the server sends a list or a {provider: id} map. */
export function providerIds(uploadedToProviders) {
  if (!uploadedToProviders) return [];
  if (Array.isArray(uploadedToProviders)) {
    return uploadedToProviders.map((p) => (typeof p === 'string' ? p : p.provider_id || p.id)).filter(Boolean);
  }
  return Object.keys(uploadedToProviders);
}

// What every page shares: the sign-in's storage key, the error area, and one way to write sizes
// and times.

import { ApiError } from './api.js';

/** The API token's key in sessionStorage (one sign-in per tab for every page) and, after
 *  "Remember me", in localStorage (this browser, until sign-out). */
export const TOKEN_KEY = 'assetdedup.token';

/** The token this tab signed in with, else the one "Remember me" kept. */
export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY);
}

/** Keeps the token for this tab, and in this browser too when the sign-in form's "Remember me"
 *  (`#remember`) is ticked. A sign-in from the kept token leaves it kept. */
export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  const remember = document.getElementById('remember');
  if (remember && remember.checked) localStorage.setItem(TOKEN_KEY, token);
}

/** Sign-out: the token goes from this tab and from this browser. */
export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
}

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];

/**
 * Sizes in binary units on every page (1 KiB = 1024 bytes, as the README's 8 MiB chunks and
 * 16 MiB threshold are): "512 bytes", "1.5 KiB", "48.0 MiB".
 */
export function formatBytes(n) {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} bytes` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** The server's ISO 8601 time in the browser's locale and time zone ("2 Dec 2026, 12:50"), or
 *  the text itself when it is not a time the browser can read. */
export function formatDateTime(iso) {
  if (!iso) return '';
  // SQLite's "YYYY-MM-DD HH:MM:SS" (UTC) reads as local time without the T and Z.
  const text = /^\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d(\.\d+)?)?$/.test(iso) ? `${iso.replace(' ', 'T')}Z` : iso;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? iso : DATE_TIME.format(date);
}

/** `<time datetime="ISO">local form</time>`, the exact time as its tooltip. */
export function timeElement(iso) {
  const node = document.createElement('time');
  node.textContent = formatDateTime(iso) || '—';
  if (iso) {
    node.dateTime = iso;
    node.title = iso;
  }
  return node;
}

/** Shows `message` in the page's error area (`#error`); an empty message hides it. */
export function showError(message) {
  const area = document.getElementById('error');
  area.textContent = message;
  area.hidden = !message;
}

/** What to tell the user about a failure: the API's own message, or what went wrong. */
export function explain(error) {
  if (error instanceof ApiError) return error.message;
  return `Unexpected error: ${(error && error.message) || error}`;
}

/** Wires the page's sign-in form (`#sign-in-form`, `#token`, `#sign-in`) to `signIn(token)`;
 *  `wrap` (each page's error reporting) puts what it throws in the error area. */
export function wireSignInForm(signIn, wrap) {
  const button = document.getElementById('sign-in');
  document.getElementById('sign-in-form').addEventListener('submit', wrap(async (event) => {
    event.preventDefault();
    const token = document.getElementById('token').value.trim();
    if (!token) return showError('Enter your API token.');
    button.disabled = true;
    try {
      await signIn(token);
    } finally {
      button.disabled = false;
    }
    return undefined;
  }));
}

/** "1920 × 1080 px", or '' when unknown. */
export function formatResolution(width, height) {
  return width && height ? `${width} × ${height} px` : '';
}

const THUMBNAIL_LANES = 4;
let thumbnailsRunning = 0;
const thumbnailWaiting = [];

/** Runs `work` when one of THUMBNAIL_LANES is free: a page of 150 thumbnails asks the server
 *  4 at a time, in the order they were shown, instead of 150 requests at once. */
function inThumbnailLane(work) {
  return new Promise((resolve, reject) => {
    const start = () => {
      thumbnailsRunning += 1;
      work().then(resolve, reject).finally(() => {
        thumbnailsRunning -= 1;
        const next = thumbnailWaiting.shift();
        if (next) next();
      });
    };
    if (thumbnailsRunning < THUMBNAIL_LANES) start();
    else thumbnailWaiting.push(start);
  });
}

/**
 * A thumbnail box for one asset: an `<img>` filled in from `GET /assets/{id}/thumbnail` (alt
 * text: the file name), or the media type in words for content without one (videos, other
 * files). `onSize(width, height)` hears the image's own size when the server knows it.
 */
export function thumbnailBox(api, asset, { size = 256, onSize = () => {} } = {}) {
  const box = document.createElement('div');
  box.className = 'thumb';
  box.dataset.state = 'loading';
  const name = asset.original_filename || `asset ${asset.asset_id}`;
  const fallback = () => {
    box.dataset.state = 'none';
    box.textContent = asset.media_type === 'video' ? 'video (no preview)' : `${asset.media_type || 'file'} (no preview)`;
  };
  if (asset.media_type && asset.media_type !== 'image') {
    fallback();
    return box;
  }
  inThumbnailLane(() => api.thumbnail(asset.asset_id, size)).then((thumb) => {
    if (!thumb) return fallback();
    const img = document.createElement('img');
    // The shown picture outlives its URL: revoked once loaded, pages of groups hold no blobs.
    img.addEventListener('load', () => URL.revokeObjectURL(thumb.url), { once: true });
    img.src = thumb.url;
    img.alt = name;
    img.decoding = 'async';
    box.replaceChildren(img);
    box.dataset.state = 'loaded';
    if (thumb.width && thumb.height) onSize(thumb.width, thumb.height);
    return undefined;
  }).catch((error) => {
    console.warn(`no thumbnail for asset ${asset.asset_id}:`, error.message);
    fallback();
  });
  return box;
}

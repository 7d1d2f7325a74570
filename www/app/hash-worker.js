// Web Worker that hashes one File at a time. Files up to SUBTLE_MAX_BYTES go whole to
// crypto.subtle.digest (native code, several times faster than wasm here); larger ones stream
// through the wasm kernel in slices, so memory stays bounded whatever the file size.
// Messages in: {type:'hash', id, file, engine}, {type:'cancel', id}.
// Messages out: {type:'progress', id, bytes}, {type:'done', id, sha256, engine},
// {type:'error', id, message}, {type:'cancelled', id}.
import { loadWasmHasher, toHex, WASM_INPUT_BYTES } from './sha256-wasm.js';
import { JsSha256 } from './sha256-fallback.js';

/** Bytes read per `file.slice().arrayBuffer()`: one wasm input buffer. */
const SLICE_BYTES = WASM_INPUT_BYTES;
/**
 * Slice reads kept in flight while one slice hashes. Chromium serves Blob reads from another
 * process, so several outstanding reads keep its pipe busy (measured faster than one big read);
 * memory stays bounded at (READ_AHEAD + 1) slices per worker whatever the file size.
 */
const READ_AHEAD = 3;
/**
 * Largest file hashed with `crypto.subtle.digest`, which has no streaming form and so needs the
 * whole file in memory: this bounds that memory per worker (a pool of four: 128 MiB at worst).
 * Measured here on 32 MiB files: 130-260 MB/s including the read, against ~90-180 MB/s for the
 * wasm stream. Larger files, and pages without `crypto.subtle` (not a secure context), stream.
 */
const SUBTLE_MAX_BYTES = 32 * 1024 * 1024;
/** Progress messages at most this often, so the main thread is not flooded. */
const PROGRESS_INTERVAL_MS = 100;

let hasherPromise = null;
const cancelled = new Set();

/**
 * The streaming hasher: the wasm kernel, or the JS fallback where WebAssembly is unavailable or
 * `engine` is 'js' (tests).
 */
function hasher(engine) {
  if (!hasherPromise) {
    hasherPromise = engine === 'js'
      ? Promise.resolve(new JsSha256())
      : loadWasmHasher().catch((error) => {
          console.warn('sha256.wasm unavailable, using the JavaScript fallback:', error);
          return new JsSha256();
        });
  }
  return hasherPromise;
}

/** Whether to hash `file` in one `crypto.subtle.digest`; `engine` 'js' or 'wasm' forces streaming. */
function useSubtle(file, engine) {
  return !engine && file.size <= SUBTLE_MAX_BYTES && !!(self.crypto && self.crypto.subtle);
}

/** Hashes a small file whole with WebCrypto; false if WebCrypto failed (the caller streams). */
async function hashWithSubtle(id, file) {
  let digest;
  try {
    digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  } catch (error) {
    console.warn('crypto.subtle.digest failed, streaming instead:', error);
    return false;
  }
  if (cancelled.delete(id)) {
    postMessage({ type: 'cancelled', id });
    return true;
  }
  postMessage({ type: 'progress', id, bytes: file.size });
  postMessage({ type: 'done', id, sha256: toHex(new Uint8Array(digest)), engine: 'subtle', bytes: file.size });
  return true;
}

async function hashFile(id, file, engine) {
  if (useSubtle(file, engine) && (await hashWithSubtle(id, file))) return;
  const sha = await hasher(engine);
  sha.reset();
  let lastReport = 0;
  let offset = 0; // bytes hashed
  let requested = 0; // bytes asked for
  const reads = [];
  const readMore = () => {
    while (reads.length < READ_AHEAD && requested < file.size) {
      reads.push(file.slice(requested, requested + SLICE_BYTES).arrayBuffer());
      requested += SLICE_BYTES;
    }
  };
  readMore();
  while (reads.length > 0) {
    const buffer = await reads.shift();
    if (cancelled.has(id)) {
      cancelled.delete(id);
      for (const read of reads) read.catch(() => {}); // dropped on purpose
      postMessage({ type: 'cancelled', id });
      return;
    }
    readMore(); // refill before hashing: disk and CPU overlap
    offset += buffer.byteLength;
    sha.update(new Uint8Array(buffer));
    const now = performance.now();
    if (now - lastReport >= PROGRESS_INTERVAL_MS) {
      lastReport = now;
      postMessage({ type: 'progress', id, bytes: offset });
    }
  }
  if (offset !== file.size) throw new Error(`file changed while reading (${offset} of ${file.size} bytes)`);
  postMessage({ type: 'done', id, sha256: sha.digestHex(), engine: sha.engine, bytes: offset });
}

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === 'cancel') {
    cancelled.add(message.id);
  } else if (message.type === 'hash') {
    hashFile(message.id, message.file, message.engine).catch((error) => {
      cancelled.delete(message.id);
      postMessage({ type: 'error', id: message.id, message: String(error && error.message || error) });
    });
  }
};

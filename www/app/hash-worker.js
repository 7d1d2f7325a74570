// Web Worker that hashes one File at a time. Files up to SUBTLE_MAX_BYTES go whole to
// crypto.subtle.digest (native code, several times faster than wasm here); larger ones stream
// through the wasm kernel in slices, so memory stays bounded whatever the file size.
// Messages in: {type:'hash', id, file, engine, reader}, {type:'cancel', id}.
// Messages out: {type:'progress', id, bytes}, {type:'done', id, sha256, engine},
// {type:'error', id, message}, {type:'cancelled', id}.
import { loadWasmHasher, toHex, WASM_INPUT_BYTES } from './sha256-wasm.js';
import { JsSha256 } from './sha256-fallback.js';

/** Bytes handed to the kernel per update: one wasm input buffer. */
const SLICE_BYTES = WASM_INPUT_BYTES;
/**
 * `slice().arrayBuffer()` reads kept in flight while one slice hashes, in the last-resort
 * reader: memory stays bounded at (READ_AHEAD + 1) slices per worker whatever the file size.
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

/** Buffers of SLICE_BYTES the reader worker may have out at once (memory per hash worker). */
const READER_BUFFERS = 3;

let readerWorker; // undefined: not tried yet; null: nested workers unavailable
let readerJobs = 0;
let readerInbox = null; // the running job's message handler

/** The nested file-reader worker, started once; null where workers cannot start workers. */
function fileReaderWorker() {
  if (readerWorker === undefined) {
    try {
      readerWorker = new Worker(new URL('file-reader-worker.js', import.meta.url));
      readerWorker.onmessage = (event) => readerInbox && readerInbox(event.data);
      readerWorker.onerror = (event) => {
        event.preventDefault(); // handled here: not a crash of this worker
        readerWorker = null; // later files read in this thread
        if (readerInbox) readerInbox({ type: 'error', message: 'file reader worker failed' });
      };
    } catch {
      readerWorker = null;
    }
  }
  return readerWorker;
}

/**
 * The file's bytes in order, at most SLICE_BYTES at a time; a view is valid only until the loop
 * asks for the next one (its buffer is reused). Normally read by the nested reader worker, so
 * reading overlaps hashing: on 1 GiB in Chromium here that hashed at ~165-180 MB/s, the wasm
 * kernel's own speed, against ~130-150 MB/s reading in this thread. `kind` 'inline' reads in
 * this thread (also the fallback where workers cannot start workers); 'slices' makes the reader
 * use `slice().arrayBuffer()` instead of a BYOB stream reader (tests). Leaving the loop early
 * (cancel) stops the reads.
 */
function readSlices(file, kind) {
  const worker = kind === 'inline' ? null : fileReaderWorker();
  return worker ? readViaWorker(worker, file, kind) : readInThread(file);
}

async function* readViaWorker(worker, file, kind) {
  const id = ++readerJobs;
  const inbox = [];
  let wake = null;
  readerInbox = (message) => {
    if (message.id !== undefined && message.id !== id) return; // late news from a stopped job
    inbox.push(message);
    if (wake) wake();
  };
  worker.postMessage({ type: 'start', id, file, sliceBytes: SLICE_BYTES, buffers: READER_BUFFERS, kind });
  try {
    for (;;) {
      while (inbox.length === 0) await new Promise((resolve) => { wake = resolve; });
      wake = null;
      const message = inbox.shift();
      if (message.type === 'error') {
        const error = new Error(message.message);
        error.name = message.name || 'Error';
        throw error;
      }
      if (message.filled > 0) yield new Uint8Array(message.buffer, 0, message.filled);
      if (message.done) return;
      worker.postMessage({ type: 'buffer', id, buffer: message.buffer }, [message.buffer]);
    }
  } finally {
    readerInbox = null;
    worker.postMessage({ type: 'stop', id });
  }
}

/**
 * Reads in this thread: a BYOB reader of `file.stream()` into one reusable buffer, or
 * `slice().arrayBuffer()` where Blob streams have no BYOB mode. The BYOB target cannot be wasm
 * memory itself: a read transfers its buffer, and a WebAssembly.Memory buffer cannot be
 * transferred, so each slice is copied once into the kernel's input buffer (~1 ms per 4 MiB).
 */
async function* readInThread(file) {
  let reader = null;
  try {
    reader = file.stream().getReader({ mode: 'byob' });
  } catch {
    reader = null;
  }
  if (!reader) {
    yield* readBlobSlices(file);
    return;
  }
  let buffer = new ArrayBuffer(SLICE_BYTES);
  try {
    for (let done = false; !done;) {
      let filled = 0;
      while (filled < SLICE_BYTES) {
        const result = await reader.read(new Uint8Array(buffer, filled));
        buffer = result.value ? result.value.buffer : buffer; // each read hands the buffer back
        if (result.done) {
          done = true;
          break;
        }
        filled += result.value.byteLength;
      }
      if (filled > 0) yield new Uint8Array(buffer, 0, filled);
    }
  } finally {
    reader.cancel().catch(() => {}); // a no-op after the end; stops the read on cancel
  }
}

/**
 * The last resort: READ_AHEAD `slice().arrayBuffer()` reads in flight while one slice hashes,
 * so the browser reads ahead beyond a stream's pipe.
 */
async function* readBlobSlices(file) {
  let requested = 0;
  const reads = [];
  const readMore = () => {
    while (reads.length < READ_AHEAD && requested < file.size) {
      reads.push(file.slice(requested, requested + SLICE_BYTES).arrayBuffer());
      requested += SLICE_BYTES;
    }
  };
  try {
    readMore();
    while (reads.length > 0) {
      const buffer = await reads.shift();
      readMore(); // refill before hashing: reading and hashing overlap
      yield new Uint8Array(buffer);
    }
  } finally {
    for (const read of reads) read.catch(() => {}); // dropped on purpose (cancel)
  }
}

async function hashFile(id, file, engine, readerKind) {
  if (useSubtle(file, engine) && (await hashWithSubtle(id, file))) return;
  const sha = await hasher(engine);
  sha.reset();
  let lastReport = 0;
  let offset = 0; // bytes hashed
  for await (const bytes of readSlices(file, readerKind)) {
    if (cancelled.delete(id)) {
      postMessage({ type: 'cancelled', id });
      return;
    }
    sha.update(bytes);
    offset += bytes.length;
    const now = performance.now();
    if (now - lastReport >= PROGRESS_INTERVAL_MS) {
      lastReport = now;
      postMessage({ type: 'progress', id, bytes: offset });
    }
  }
  if (cancelled.delete(id)) {
    postMessage({ type: 'cancelled', id });
    return;
  }
  if (offset !== file.size) throw new Error(`file changed while reading (${offset} of ${file.size} bytes)`);
  postMessage({ type: 'done', id, sha256: sha.digestHex(), engine: sha.engine, bytes: offset });
}

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === 'cancel') {
    cancelled.add(message.id);
  } else if (message.type === 'hash') {
    hashFile(message.id, message.file, message.engine, message.reader).catch((error) => {
      cancelled.delete(message.id);
      postMessage({ type: 'error', id: message.id, message: String(error && error.message || error) });
    });
  }
};

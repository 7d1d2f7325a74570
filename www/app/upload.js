// The upload decision for a set of files, step by step: cached hash or compute -> local
// uploads_by_hash -> one server batch check -> upload only what the provider lacks -> record
// by hash. Independent of the DOM: it changes entry fields and calls `changed(entry)`.
import { providerIds } from './api.js';

/** Uploads at once: enough to hide latency, few enough not to starve the hash workers' disk. */
export const UPLOAD_CONCURRENCY = 3;
/** Automatic retries for network and 502/503/504 failures; 4xx answers are final. */
export const UPLOAD_RETRIES = 2;
/** Files above this go up as resumable uploads (`?resumable=BYTES` lowers it, for tests). */
export const RESUMABLE_THRESHOLD = 16 * 1024 * 1024;
/**
 * Bytes per resumable `PATCH`. nginx reads each request body whole before the app sees it, so
 * a cut connection loses at most one chunk; 8 MiB keeps that small while the per-request cost
 * (one FastCGI round trip, an fsync of the partial file) stays under 1% at LAN speeds.
 */
export const CHUNK_BYTES = 8 * 1024 * 1024;
/** Retries of a resumable upload that stopped making progress (backoff 1, 2, 4, 8 s). */
export const RESUMABLE_RETRIES = 4;
/** The first retry's pause; each next one doubles it (`?backoff=MS` shortens it, for tests). */
export const RETRY_BASE_MS = 1000;

/** "already uploaded (asset 123 on pixverse)": the wording rows use for server-known files. */
export function alreadyUploadedMessage(assetId, providers) {
  const where = providers.length ? ` on ${providers.join(', ')}` : '';
  return `already uploaded (asset ${assetId}${where})`;
}

/** Computes missing hashes (cache first). Resolves when every entry is hashed or failed. */
export async function hashEntries(entries, { db, pool, changed, progress, signal }) {
  const totalBytes = entries.reduce((sum, e) => sum + e.size, 0);
  let doneBytes = 0;
  let doneFiles = 0;
  const inFlight = new Map();
  const report = () => {
    let bytes = doneBytes;
    for (const b of inFlight.values()) bytes += b;
    progress(totalBytes ? bytes / totalBytes : 1, doneFiles, entries.length);
  };
  const finish = (entry) => {
    inFlight.delete(entry);
    doneBytes += entry.size;
    doneFiles += 1;
    changed(entry);
    report();
  };
  report();
  const jobs = entries.map(async (entry) => {
    if (entry.sha256) return finish(entry);
    const cached = await db.cachedHash(entry.path, entry.file);
    if (cached) {
      Object.assign(entry, { sha256: cached, hashState: 'cached' });
      return finish(entry);
    }
    if (signal && signal.aborted) {
      entry.hashState = 'cancelled'; // cancelled while it waited for the cache lookup
      return finish(entry);
    }
    entry.hashState = 'hashing';
    changed(entry);
    try {
      const { sha256, engine } = await pool.hash(entry.file, (bytes) => {
        inFlight.set(entry, bytes);
        entry.hashProgress = entry.size ? bytes / entry.size : 1;
        changed(entry);
        report();
      });
      Object.assign(entry, { sha256, engine, hashState: 'computed', hashError: '' });
      await db.saveAsset(entry.path, entry.file, sha256);
    } catch (error) {
      const cancelled = error.name === 'AbortError';
      Object.assign(entry, { hashState: cancelled ? 'cancelled' : 'failed', hashError: cancelled ? '' : error.message });
    }
    finish(entry);
  });
  await Promise.all(jobs);
}

/**
 * Marks later copies of the same content as duplicates of the first (by path order) and returns
 * the entries that stand for their content: those are the only ones checked and uploaded.
 */
export function markInFolderDuplicates(entries, changed) {
  const first = new Map();
  const leaders = [];
  for (const entry of [...entries].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const leader = entry.sha256 ? first.get(entry.sha256) : undefined;
    if (leader) {
      const where = leader.folder === entry.folder ? ' in this folder' : '';
      Object.assign(entry, { duplicateOf: leader.path, uploadState: 'duplicate', uploadMessage: `identical to ${leader.path}${where}` });
      changed(entry);
      continue;
    }
    if (entry.sha256) first.set(entry.sha256, entry);
    if (entry.duplicateOf) Object.assign(entry, { uploadState: '', uploadMessage: '' }); // its original left
    entry.duplicateOf = null;
    leaders.push(entry);
  }
  return leaders;
}

/** Shows what the local store already knows about each hashed entry (no network). */
export async function annotateFromLocalStore(entries, { db, changed }) {
  for (const entry of entries) {
    if (!entry.sha256 || entry.uploadState) continue;
    const record = await db.uploadRecord(entry.sha256);
    if (!record || record.assetId == null) continue;
    Object.assign(entry, { uploadState: 'known', uploadMessage: alreadyUploadedMessage(record.assetId, record.providers) });
    changed(entry);
  }
}

/**
 * One run of the upload flow over `entries` (already hashed or failed) for `providerId`.
 * `onBytes(sent, total, resumed)` follows the upload bytes (`resumed`: bytes the server already
 * had from an earlier, interrupted run, counted in `sent`); resolves to a summary count.
 * `resumableThreshold`, `chunkBytes` and `retryBaseMs` override the constants above (tests lower them).
 * `phasher` (a PerceptualHasher) turns on the near-duplicate check for images the server does
 * not hold: without it every file uploads as before.
 */
export async function uploadEntries(entries, {
  db, api, providerId, changed, onBytes, signal, phasher = null, similarPolicy = { choice: null },
  resumableThreshold = RESUMABLE_THRESHOLD, chunkBytes = CHUNK_BYTES, retryBaseMs = RETRY_BASE_MS,
}) {
  const leaders = markInFolderDuplicates(entries, changed);
  const toCheck = [];
  for (const entry of leaders) {
    entry.assetId = null;
    if (!entry.sha256) continue;
    const record = await db.uploadRecord(entry.sha256);
    if (record && record.providers.includes(providerId)) {
      settle(entry, 'skipped', alreadyUploadedMessage(record.assetId, record.providers), changed);
    } else {
      toCheck.push(entry);
    }
  }

  // One batch request answers every hashed file the local store did not know.
  if (toCheck.length) {
    for (const entry of toCheck) Object.assign(entry, { uploadState: 'checking', uploadMessage: 'checking with the server' });
    toCheck.forEach(changed);
    let results;
    try {
      results = await api.checkByHash(toCheck.map((e) => ({ sha256: e.sha256, provider_id: providerId })));
    } catch (error) {
      for (const entry of toCheck) settle(entry, 'failed', error.message, changed);
      throw error;
    }
    const bySha = new Map(results.map((r) => [r.sha256, r]));
    for (const entry of toCheck) {
      const result = bySha.get(entry.sha256);
      const providers = result ? providerIds(result.uploaded_to_providers) : [];
      if (result && result.exists && providers.includes(providerId)) {
        await db.recordUpload(entry.sha256, { status: 'exists', assetId: result.asset_id, providers, note: result.note });
        settle(entry, 'skipped', alreadyUploadedMessage(result.asset_id, providers), changed);
      } else {
        // The server holds the content but not on this provider: it can add it without the bytes.
        if (result && result.exists && result.asset_id != null) entry.assetId = result.asset_id;
        Object.assign(entry, { uploadState: 'queued', uploadMessage: entry.assetId != null ? 'waiting (already on the server)' : 'waiting to upload' });
        changed(entry);
      }
    }
  }

  // Unhashed files (hashing failed) go up without a claim; the server hashes them itself.
  const queue = leaders.filter((e) => e.uploadState === 'queued' || (!e.sha256 && e.uploadState !== 'done'));
  for (const entry of queue) {
    Object.assign(entry, {
      uploadState: 'queued', sent: 0, resumed: 0, uploadNote: '', addedWithoutBytes: false,
      uploadMessage: entry.assetId != null ? 'waiting (already on the server)' : 'waiting to upload',
    });
  }
  queue.forEach(changed);
  // Files added from the server's copy send no bytes, unless that copy turns out to be gone.
  const sends = (e) => e.assetId == null;
  const totalBytes = () => queue.reduce((sum, e) => sum + (sends(e) ? e.size : 0), 0);
  const sentBytes = () => queue.reduce((sum, e) => sum + (sends(e) ? e.sent || 0 : 0), 0);
  const resumedBytes = () => queue.reduce((sum, e) => sum + (e.resumed || 0), 0);
  const progress = () => onBytes(sentBytes(), totalBytes(), resumedBytes());
  progress();

  // Each file passes the near-duplicate gate first (images only; non-images pass at once, in
  // order), then waits for one of UPLOAD_CONCURRENCY lanes. A file waiting for the person's
  // choice holds no lane: the others go on uploading.
  let fatal = null; // a rejected token stops every lane
  const stop = new AbortController(); // Cancel, or a rejected token: ends the waits for a choice
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const context = {
    db, api, providerId, changed, signal, progress, resumableThreshold, chunkBytes, retryBaseMs, phasher, stop: stop.signal,
    similarPolicy,
    batch: [], // {entry, phash} of this run's images going up: later look-alikes are asked about
  };
  const ready = [];
  let gating = queue.length;
  let wakeLanes = [];
  const wake = () => {
    for (const resolve of wakeLanes.splice(0)) resolve();
  };
  stop.signal.addEventListener('abort', wake, { once: true });
  const gates = queue.map(async (entry) => {
    try {
      if (await nearDuplicateGate(entry, context)) ready.push(entry);
    } catch (error) {
      if (error.status === 401) {
        fatal = error;
        stop.abort();
      }
    } finally {
      gating -= 1;
      wake();
    }
  });
  const lane = async () => {
    while (!fatal && !signal.aborted) {
      if (ready.length === 0) {
        if (gating === 0) return;
        await new Promise((resolve) => wakeLanes.push(resolve));
        continue;
      }
      const entry = ready.shift();
      try {
        await uploadOne(entry, context);
      } catch (error) {
        if (error.status === 401) {
          fatal = error;
          stop.abort();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, lane));
  await Promise.all(gates);
  signal.removeEventListener('abort', onAbort);
  for (const entry of queue) {
    if (entry.uploadState === 'queued') {
      settle(entry, signal.aborted ? 'cancelled' : 'failed', signal.aborted ? 'cancelled' : 'not uploaded', changed);
    }
  }
  finishDuplicates(entries, changed);
  if (fatal) throw fatal;
  return summarize(entries);
}

/** "similar to asset 123 (a.jpg)", naming up to three assets, closest first. */
export function similarMessage(similar) {
  const named = similar.slice(0, 3).map((s) => (s.batch_path
    ? `${s.original_filename} (in this upload)`
    : `asset ${s.asset_id} (${s.original_filename || 'no name'})`));
  const more = similar.length > 3 ? ` and ${similar.length - 3} more` : '';
  return `similar to ${named.join(', ')}${more}`;
}

/** The server's default `max_distance`: hashes this close are near-duplicates. */
export const SIMILAR_THRESHOLD = 10;

/** Bits that differ between two 16-hex-digit perceptual hashes. */
export function hashDistance(a, b) {
  let bits = 0;
  for (let i = 0; i < 16; i += 8) {
    let x = (parseInt(a.slice(i, i + 8), 16) ^ parseInt(b.slice(i, i + 8), 16)) >>> 0;
    while (x) {
      x &= x - 1;
      bits += 1;
    }
  }
  return bits;
}

/** Images of this run already going up that look like `phash`, closest first: the server
 *  cannot know them yet (two similar new files picked together). */
function similarInBatch(entry, phash, batch) {
  return batch
    .filter((other) => other.entry !== entry && !['skipped-similar', 'cancelled', 'failed'].includes(other.entry.uploadState))
    .map((other) => ({ other, distance: hashDistance(phash, other.phash) }))
    .filter(({ distance }) => distance <= SIMILAR_THRESHOLD)
    .sort((x, y) => x.distance - y.distance)
    .map(({ other, distance }) => ({
      asset_id: null, batch_path: other.entry.path, original_filename: other.entry.name, distance, entry: other.entry,
    }));
}

/**
 * Before an image the server does not hold is sent: its perceptual hash, then
 * `POST /assets/similar`. With near-duplicates the row shows them and waits for the person's
 * choice (`entry.choose('skip' | 'upload')`); resolves true to upload, false not to. A file
 * without a hash (not an image the browser decodes) and a server without the endpoint (404,
 * 405, 501) or failing to answer upload as before: the check only ever adds a question.
 */
async function nearDuplicateGate(entry, context) {
  const { api, phasher, changed, signal, stop } = context;
  if (!phasher || entry.kind !== 'image' || entry.assetId != null || entry.similarChoice === 'upload') return true;
  if (stop.aborted) return false;
  if (entry.similarChoice === 'skip') {
    // Answered in an earlier run of this page: a choice stands until the folder is added again.
    settle(entry, 'skipped-similar', `not uploaded: ${similarMessage(entry.similar)}`, changed);
    return false;
  }
  if (entry.phash === undefined) {
    entry.uploadMessage = 'waiting to upload (looking for similar images)';
    changed(entry);
    entry.phash = await phasher.hash(entry.file);
  }
  if (stop.aborted) return false;
  if (!entry.phash) return true;
  // Look-alikes in this run first (no request), then the server's.
  const inBatch = similarInBatch(entry, entry.phash, context.batch);
  context.batch.push({ entry, phash: entry.phash });
  let answer;
  try {
    answer = await api.similar(entry.phash);
  } catch (error) {
    if (error.status === 401) throw error;
    if (![404, 405, 501].includes(error.status)) console.warn(`no near-duplicate check for ${entry.path}:`, error.message);
    answer = null;
  }
  const found = Array.isArray(answer && answer.similar) ? answer.similar : [];
  // A file of this run that went up meanwhile may be in the server's answer already (its row
  // may not have the answer yet): by its asset id, or by its name while its bytes are on the way.
  const ids = new Set(found.map((s) => s.asset_id));
  const names = new Set(found.map((s) => s.original_filename));
  const sent = (e) => ['uploading', 'done', 'pending'].includes(e.uploadState);
  const similar = [
    ...found,
    ...inBatch
      .filter((b) => !ids.has(b.entry.uploadedAssetId) && !(sent(b.entry) && names.has(b.entry.name)))
      .map(({ entry: _, ...rest }) => rest),
  ];
  if (stop.aborted) return false;
  if (similar.length === 0) {
    entry.uploadMessage = 'waiting to upload';
    changed(entry);
    return true;
  }
  entry.similar = similar;
  const policy = context.similarPolicy.choice; // "Skip all similar" / "Upload all similar"
  const chosen = policy ? Promise.resolve(policy) : new Promise((resolve) => {
    const onStop = () => resolve('cancel');
    stop.addEventListener('abort', onStop, { once: true });
    entry.choose = (value) => {
      stop.removeEventListener('abort', onStop);
      resolve(value);
    };
  });
  if (!policy) settle(entry, 'similar', similarMessage(similar), changed); // the row offers entry.choose
  const choice = await chosen;
  entry.choose = null;
  if (choice === 'upload') {
    entry.similarChoice = 'upload'; // a later run in this page does not ask again
    settle(entry, 'queued', 'waiting to upload (chosen despite similar images)', changed);
    return !signal.aborted;
  }
  if (choice === 'skip') {
    entry.similarChoice = 'skip';
    settle(entry, 'skipped-similar', `not uploaded: ${similarMessage(similar)}`, changed);
  } else {
    settle(entry, 'cancelled', 'cancelled', changed);
  }
  return false;
}

/** Sends one file (or, when the server holds it, none of its bytes) and settles its row. */
async function uploadOne(entry, context) {
  const { changed, signal } = context;
  try {
    let outcome = null;
    if (entry.assetId != null) {
      outcome = await addProvider(entry, context);
      if (!outcome) entry.assetId = null; // the server's copy is gone: send the bytes after all
    }
    if (!outcome && entry.sha256 && entry.size > context.resumableThreshold) outcome = await uploadResumable(entry, context);
    if (!outcome) outcome = await uploadMultipart(entry, context);
    await settleAnswer(entry, outcome, context);
  } catch (error) {
    if (error.name === 'AbortError') {
      settle(entry, 'cancelled', 'cancelled', changed);
      return;
    }
    entry.uploadNote = '';
    settle(entry, 'failed', error.message || String(error), changed);
    if (!signal.aborted) throw error;
  }
}

/** Retries `attempt` (network, 502/503/504, busy): resolves false when it is time to give up. */
async function retryPause(entry, error, attempt, limit, { changed, signal, retryBaseMs }) {
  if (!error.retryable || attempt >= limit || signal.aborted) return false;
  const ms = retryBaseMs * 2 ** attempt;
  entry.uploadNote = `${error.status === 0 ? 'connection lost' : `server answered ${error.status}`}, retrying in ${Math.max(1, Math.round(ms / 1000))} s`;
  changed(entry);
  await sleep(ms, signal);
  entry.uploadNote = '';
  return true;
}

/**
 * `POST /assets/{id}/providers`: the answer, or null when the bytes must be sent after all: the
 * asset is gone (404 asset_not_found) or the server predates the endpoint (404/405).
 */
async function addProvider(entry, context) {
  const { api, providerId, changed, signal } = context;
  for (let attempt = 0; ; attempt++) {
    Object.assign(entry, { uploadState: 'uploading', uploadMessage: `adding to ${providerId} from the server's copy`, sent: 0 });
    changed(entry);
    try {
      if (signal.aborted) throw new DOMException('upload cancelled', 'AbortError');
      const answer = await api.addProvider(entry.assetId, providerId);
      return { answer, bytesSent: false };
    } catch (error) {
      if (error.status === 404 || error.status === 405) return null;
      if (await retryPause(entry, error, attempt, UPLOAD_RETRIES, context)) continue;
      throw error;
    }
  }
}

/** The whole file in one `POST /assets/upload` (small files, and files without a hash). */
async function uploadMultipart(entry, context) {
  const { api, providerId, changed, signal, progress } = context;
  for (let attempt = 0; ; attempt++) {
    Object.assign(entry, { uploadState: 'uploading', uploadMessage: attempt ? `retrying (${attempt})` : 'uploading', sent: 0 });
    changed(entry);
    try {
      const answer = await api.upload(entry.file, {
        providerId,
        sha256: entry.sha256,
        signal,
        onProgress: (sent) => {
          entry.sent = Math.min(sent, entry.size);
          changed(entry);
          progress();
        },
      });
      entry.sent = entry.size;
      return { answer, bytesSent: true };
    } catch (error) {
      entry.sent = 0;
      progress();
      if (error.name !== 'AbortError' && await retryPause(entry, error, attempt, UPLOAD_RETRIES, context)) continue;
      throw error;
    }
  }
}

/**
 * A resumable upload (draft-ietf-httpbis-resumable-upload-15): create the resource with the
 * size and digest, then `PATCH` chunks of `chunkBytes`. Its URL is kept in IndexedDB by
 * (sha256, provider), so an interrupted upload (network, server restart, reload, another tab)
 * continues from the server's `Upload-Offset` (`HEAD`) instead of byte 0.
 */
async function uploadResumable(entry, context) {
  const { db, api, providerId, changed, signal, progress, chunkBytes } = context;
  const { sha256, size, file } = entry;
  const stored = await db.uploadInProgress(sha256, providerId);
  let url = stored && stored.size === size ? stored.url : null;
  let offset = 0;
  let needOffset = url !== null; // ask the server where to continue before sending anything
  let failures = 0; // consecutive retryable failures; progress resets it
  let restarts = 0; // uploads that vanished (404) or lost their place (409) under us
  let finishing = false; // every byte is there but the final answer was lost: ask for it again
  let bytesSent = false;
  Object.assign(entry, { uploadState: 'uploading', uploadMessage: 'uploading', sent: 0, resumed: 0 });
  changed(entry);
  for (;;) {
    if (signal.aborted) throw new DOMException('upload cancelled', 'AbortError');
    try {
      if (url === null) {
        const created = await api.createUpload({ providerId, filename: entry.name, size, sha256, signal });
        if (created.answer) {
          await db.forgetUploadInProgress(sha256, providerId);
          return { answer: created.answer, bytesSent };
        }
        ({ url, offset } = created);
        needOffset = false;
        await db.saveUploadInProgress(sha256, providerId, { url, size });
      } else if (needOffset) {
        const head = await api.uploadOffset(url, { signal });
        needOffset = false;
        finishing = head.complete || head.offset >= size;
        if (!bytesSent && head.offset > 0) entry.resumed = Math.min(head.offset, size); // an earlier run's
        offset = Math.min(head.offset, size);
      }
      if (finishing) {
        // An empty last PATCH: the server finishes again an upload whose answer was lost.
        const result = await api.appendUpload(url, new Blob([]), { offset: size, complete: true, signal });
        finishing = false;
        if (result.answer) {
          entry.sent = size;
          await db.forgetUploadInProgress(sha256, providerId);
          return { answer: result.answer, bytesSent };
        }
        needOffset = true;
        continue;
      }
      entry.sent = offset;
      changed(entry);
      progress();
      const end = Math.min(offset + chunkBytes, size);
      const complete = end === size;
      const base = offset;
      bytesSent = true;
      const result = await api.appendUpload(url, file.slice(base, end), {
        offset: base,
        complete,
        signal,
        onProgress: (loaded) => {
          entry.sent = Math.min(base + loaded, size);
          changed(entry);
          progress();
        },
      });
      failures = 0;
      if (result.answer) {
        entry.sent = size;
        await db.forgetUploadInProgress(sha256, providerId);
        return { answer: result.answer, bytesSent };
      }
      offset = result.offset;
      await db.saveUploadInProgress(sha256, providerId, { url, size }); // refreshes updatedAt
    } catch (error) {
      if (error.name === 'AbortError') throw error; // the stored URL stays: a later run resumes
      const gone = error.status === 404 || error.code === 'completed_upload' || (finishing && error.status === 400);
      finishing = false;
      if ((gone || error.code === 'offset_mismatch') && restarts < 3) {
        restarts += 1;
        if (gone) {
          // Expired or deleted on the server, or completed and answered already: start over with
          // a new upload (whose create finds content the server already holds by its digest).
          await db.forgetUploadInProgress(sha256, providerId);
          url = null;
          offset = 0;
          entry.resumed = 0;
        } else {
          needOffset = true; // we and the server disagree on the offset: ask it
        }
        continue;
      }
      if (url !== null && await retryPause(entry, error, failures, RESUMABLE_RETRIES, context)) {
        failures += 1;
        needOffset = true; // the chunk in flight may have partly landed
        continue;
      }
      if (url === null && await retryPause(entry, error, failures, UPLOAD_RETRIES, context)) {
        failures += 1;
        continue;
      }
      if (!error.retryable && error.status !== 401 && url !== null) {
        // Refused for good (e.g. 422 sha256_mismatch): resuming it would fail the same way.
        await db.forgetUploadInProgress(sha256, providerId);
        api.cancelUpload(url);
      }
      throw error;
    }
  }
}

/** Records a final answer and words the row: what happened, and whether bytes travelled. */
async function settleAnswer(entry, { answer, bytesSent }, { db, providerId, changed }) {
  const providers = providerIds(answer.uploaded_to_providers);
  const queued = answer.status === 'queued' || answer.httpStatus === 202;
  if (!queued && !providers.includes(providerId)) providers.push(providerId);
  await db.recordUpload(answer.sha256 || entry.sha256, {
    status: answer.status, assetId: answer.asset_id, providers, note: answer.note, queued: queued ? [providerId] : [],
  });
  if (!entry.sha256 && answer.sha256) {
    entry.sha256 = answer.sha256;
    await db.saveAsset(entry.path, entry.file, answer.sha256);
  }
  entry.uploadNote = '';
  if (!bytesSent) entry.sent = 0;
  const held = bytesSent ? '' : 'already on the server: ';
  const zero = bytesSent ? '' : ' (0 bytes sent)';
  if (queued) {
    const what = bytesSent ? `uploaded (asset ${answer.asset_id}), ` : held;
    settle(entry, 'pending', `${what}queued for delivery to ${providerId}${zero}`, changed);
  } else if (answer.status === 'reused') {
    settle(entry, 'skipped', alreadyUploadedMessage(answer.asset_id, providers), changed);
  } else if (answer.status === 'added_provider') {
    settle(entry, 'done', bytesSent ? `uploaded (added to ${providerId}, asset ${answer.asset_id})` : `${held}added to ${providerId}${zero}`, changed);
  } else {
    // The server compares new content with the user's assets too: this catches what the
    // question before the upload could not (videos, whose fingerprint only the server makes,
    // and images the browser cannot decode). The row then offers to move the upload to the
    // trash (`entry.afterSimilar`).
    entry.uploadedAssetId = answer.asset_id;
    const similar = Array.isArray(answer.similar) ? answer.similar.filter((s) => s.asset_id !== answer.asset_id) : [];
    const asked = similar.length && entry.similarChoice !== 'upload';
    entry.afterSimilar = asked ? { assetId: answer.asset_id, similar } : null;
    settle(entry, 'done', `uploaded (asset ${answer.asset_id})${asked ? `; ${similarMessage(similar)}` : ''}`, changed);
  }
  if (!bytesSent) entry.addedWithoutBytes = true;
}

/** Resolves after `ms`, or rejects with an AbortError as soon as `signal` aborts. */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new DOMException('upload cancelled', 'AbortError'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Copies of a file share its outcome but keep saying which file they are identical to. */
function finishDuplicates(entries, changed) {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  for (const entry of entries) {
    if (!entry.duplicateOf) continue;
    const leader = byPath.get(entry.duplicateOf);
    entry.duplicateSettled = leader ? leader.uploadState : '';
    changed(entry);
  }
}

function settle(entry, state, message, changed) {
  Object.assign(entry, { uploadState: state, uploadMessage: message });
  changed(entry);
}

/** Counts per outcome, and the one line the page shows at the end. */
export function summarize(entries) {
  const count = (state) => entries.filter((e) => e.uploadState === state).length;
  const summary = {
    uploaded: count('done'),
    already: count('skipped'),
    duplicates: count('duplicate'),
    failed: count('failed'),
    cancelled: count('cancelled'),
    queued: count('pending'),
    similarSkipped: count('skipped-similar'),
    systemSkipped: count('skipped-system'),
    fromServerCopy: entries.filter((e) => (e.uploadState === 'done' || e.uploadState === 'pending') && e.addedWithoutBytes).length,
    total: entries.length,
  };
  const parts = [`${summary.uploaded} uploaded`, `${summary.already} already uploaded`, `${summary.duplicates} identical in this folder`, `${summary.failed} failed`];
  if (summary.queued) parts.push(`${summary.queued} queued for delivery`);
  if (summary.similarSkipped) parts.push(`${summary.similarSkipped} skipped as similar`);
  if (summary.cancelled) parts.push(`${summary.cancelled} cancelled`);
  if (summary.systemSkipped) parts.push(`${summary.systemSkipped} skipped (system file${summary.systemSkipped === 1 ? '' : 's'})`);
  if (summary.fromServerCopy) parts.push(`${summary.fromServerCopy} added from the server's copy (0 bytes sent)`);
  summary.line = `Done: ${parts.join(', ')} (of ${summary.total} files).`;
  return summary;
}

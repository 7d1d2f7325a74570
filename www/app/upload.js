// The upload decision for a set of files, step by step: cached hash or compute -> local
// uploads_by_hash -> one server batch check -> upload only what the provider lacks -> record
// by hash. Independent of the DOM: it changes entry fields and calls `changed(entry)`.
import { providerIds } from './api.js';

/** Uploads at once: enough to hide latency, few enough not to starve the hash workers' disk. */
export const UPLOAD_CONCURRENCY = 3;
/** Automatic retries for network and 502/503 failures; 4xx answers are final. */
export const UPLOAD_RETRIES = 2;

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
 * `onBytes(sent, total)` follows the upload bytes; resolves to a summary count.
 */
export async function uploadEntries(entries, { db, api, providerId, changed, onBytes, signal }) {
  const leaders = markInFolderDuplicates(entries, changed);
  const toCheck = [];
  for (const entry of leaders) {
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
        Object.assign(entry, { uploadState: 'queued', uploadMessage: 'waiting to upload' });
        changed(entry);
      }
    }
  }

  // Unhashed files (hashing failed) go up without a claim; the server hashes them itself.
  const queue = leaders.filter((e) => e.uploadState === 'queued' || (!e.sha256 && e.uploadState !== 'done'));
  for (const entry of queue) Object.assign(entry, { uploadState: 'queued', uploadMessage: 'waiting to upload', sent: 0 });
  queue.forEach(changed);
  const totalBytes = queue.reduce((sum, e) => sum + e.size, 0);
  const sentBytes = () => queue.reduce((sum, e) => sum + (e.sent || 0), 0);
  onBytes(0, totalBytes);

  let next = 0;
  let fatal = null; // a rejected token stops every lane
  const lane = async () => {
    while (next < queue.length && !fatal && !signal.aborted) {
      const entry = queue[next++];
      try {
        await uploadOne(entry, { db, api, providerId, changed, signal, progress: () => onBytes(sentBytes(), totalBytes) });
      } catch (error) {
        if (error.status === 401) fatal = error;
      }
    }
  };
  await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, lane));
  for (const entry of queue) {
    if (entry.uploadState === 'queued') {
      settle(entry, signal.aborted ? 'cancelled' : 'failed', signal.aborted ? 'cancelled' : 'not uploaded', changed);
    }
  }
  finishDuplicates(entries, changed);
  if (fatal) throw fatal;
  return summarize(entries);
}

async function uploadOne(entry, { db, api, providerId, changed, signal, progress }) {
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
      const providers = providerIds(answer.uploaded_to_providers);
      // 202 queued: the server delivers it in the background; it is not on the provider yet.
      if (answer.status !== 'queued' && !providers.includes(providerId)) providers.push(providerId);
      await db.recordUpload(answer.sha256, { status: answer.status, assetId: answer.asset_id, providers, note: answer.note });
      if (!entry.sha256 && answer.sha256) {
        entry.sha256 = answer.sha256;
        await db.saveAsset(entry.path, entry.file, answer.sha256);
      }
      const message = answer.status === 'reused'
        ? alreadyUploadedMessage(answer.asset_id, providers)
        : answer.status === 'added_provider'
          ? `uploaded (added to ${providerId}, asset ${answer.asset_id})`
          : answer.status === 'queued'
            ? `uploaded; queued for delivery to ${providerId} (asset ${answer.asset_id})`
            : `uploaded (asset ${answer.asset_id})`;
      settle(entry, answer.status === 'reused' ? 'skipped' : 'done', message, changed);
      return;
    } catch (error) {
      if (error.name === 'AbortError') {
        settle(entry, 'cancelled', 'cancelled', changed);
        return;
      }
      if (error.retryable && attempt < UPLOAD_RETRIES && !signal.aborted) {
        await new Promise((resolve) => setTimeout(resolve, 1000 * (attempt + 1)));
        continue;
      }
      entry.sent = 0;
      settle(entry, 'failed', error.message, changed);
      throw error;
    }
  }
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
    total: entries.length,
  };
  const parts = [`${summary.uploaded} uploaded`, `${summary.already} already uploaded`, `${summary.duplicates} identical in this folder`, `${summary.failed} failed`];
  if (summary.cancelled) parts.push(`${summary.cancelled} cancelled`);
  summary.line = `Done: ${parts.join(', ')} (of ${summary.total} files).`;
  return summary;
}

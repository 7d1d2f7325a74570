// The page: sign-in, folders, the file table and the two actions (hash, upload). State lives in
// plain objects (one "entry" per file); upload.js decides, this module only shows.
import { ApiClient, ApiError } from './api.js';
import { explain, formatBytes, showError, thumbnailBox, forgetToken, storedToken, storeToken, wireSignInForm } from './common.js';
import { openDatabase } from './db.js';
import { HashPool } from './hash-pool.js';
import { PerceptualHasher } from './perceptual-hasher.js';
import { JsSha256 } from './sha256-fallback.js';
import {
  classify, ensureReadPermission, filesFromDirectoryHandle, filesFromInput, hasDirectoryPicker, isSystemFile,
} from './scan.js';
import {
  annotateFromLocalStore, CHUNK_BYTES, hashEntries, markInFolderDuplicates, RESUMABLE_THRESHOLD, RETRY_BASE_MS, summarize, uploadEntries,
} from './upload.js';

const PROVIDER_KEY = 'assetdedup.provider';
const $ = (id) => document.getElementById(id);

const params = new URLSearchParams(location.search);
/** A positive integer query parameter, else `fallback` (tests lower the upload sizes). */
function sizeParam(name, fallback) {
  const value = Number(params.get(name));
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}
const state = {
  db: null,
  // ?engine=js|wasm forces one streaming engine, ?reader=inline|slices a fallback reader (tests)
  pool: new HashPool(undefined, params.get('engine'), params.get('reader')),
  // Perceptual hashes of images before upload, for the near-duplicate check (`?similar=off`
  // turns the check off).
  phasher: params.get('similar') === 'off' ? null : new PerceptualHasher(),
  api: null,
  entries: new Map(), // path -> entry
  rows: new Map(), // path -> <tr>
  run: null, // AbortController of the running upload
  hashing: 0, // hash rounds in progress
  hashAbort: new AbortController(), // aborted (and replaced) by Cancel
  // ?resumable=BYTES: files above it go up resumable; ?chunk=BYTES: bytes per PATCH (tests)
  resumableThreshold: sizeParam('resumable', RESUMABLE_THRESHOLD),
  chunkBytes: sizeParam('chunk', CHUNK_BYTES),
  retryBaseMs: sizeParam('backoff', RETRY_BASE_MS), // ?backoff=MS: the first retry's pause (tests)
  similarPolicy: { choice: null }, // "Skip all similar" / "Upload all similar" for the running upload
  bytes: null, // the upload's last {sent, total, resumed}, for the progress line
  samples: [], // [time ms, bytes sent] of the last seconds: the rate the ETA uses
  progressQueued: false,
};

// ---- formatting -------------------------------------------------------------------------------

function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return '…';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.ceil(seconds % 60)} s`;
}

function hashText(entry) {
  switch (entry.hashState) {
    case 'hashing': return `hashing ${Math.floor((entry.hashProgress || 0) * 100)}%`;
    case 'cached': return `${entry.sha256.slice(0, 12)}… (cached)`;
    case 'computed': return `${entry.sha256.slice(0, 12)}…`;
    case 'failed': return `failed: ${entry.hashError}`;
    case 'cancelled': return 'cancelled';
    case 'skipped': return 'not hashed';
    default: return 'waiting';
  }
}

/** True while every byte of the file is sent and the server has not answered yet: it stores
 *  the file and fingerprints it (seconds for a long video) before it answers. */
function processing(entry) {
  return entry.uploadState === 'uploading' && entry.size > 0 && entry.assetId == null && (entry.sent || 0) >= entry.size;
}

function uploadText(entry) {
  if (processing(entry)) return 'processing on the server (storing, checking for similar files…)';
  if (entry.uploadState === 'uploading' && entry.size > 0 && entry.assetId == null) {
    const resumed = entry.resumed ? `, resumed at ${formatBytes(entry.resumed)}` : '';
    const note = entry.uploadNote ? `: ${entry.uploadNote}` : '';
    return `uploading ${Math.floor(((entry.sent || 0) / entry.size) * 100)}% (${formatBytes(entry.sent || 0)} of ${formatBytes(entry.size)}${resumed})${note}`;
  }
  if (entry.uploadNote) return `${entry.uploadMessage}: ${entry.uploadNote}`;
  return entry.uploadMessage || '';
}

// ---- messages ---------------------------------------------------------------------------------

/** Wraps an async event handler so that whatever it throws ends in the error area. */
function reporting(handler) {
  return (...args) => {
    try {
      return Promise.resolve(handler(...args)).catch(report);
    } catch (error) {
      report(error);
      return undefined;
    }
  };
}

function report(error) {
  console.error(error);
  showError(explain(error));
}

function setProgress(text, fraction = null) {
  $('progress').textContent = text;
  $('progress-bar').hidden = fraction === null;
  if (fraction !== null) $('progress-bar').value = fraction;
}

// ---- the table --------------------------------------------------------------------------------

function cell(tr, className, label) {
  const td = document.createElement('td');
  td.className = className;
  td.dataset.label = label; // shown as a heading in the narrow (card) layout
  tr.append(td);
  return td;
}

function addRow(entry) {
  const tr = document.createElement('tr');
  tr.dataset.path = entry.path;
  cell(tr, 'name', 'Name').textContent = entry.name;
  cell(tr, 'path', 'Relative path').textContent = entry.path;
  cell(tr, 'kind', 'Type').textContent = entry.kind;
  const size = cell(tr, 'size', 'Size');
  size.textContent = formatBytes(entry.size);
  size.title = `${entry.size} bytes`;
  cell(tr, 'hash', 'Hash');
  cell(tr, 'upload', 'Upload');
  state.rows.set(entry.path, tr);
  $('files').tBodies[0].append(tr);
  renderRow(entry);
}

function renderRow(entry) {
  const tr = state.rows.get(entry.path);
  if (!tr) return;
  tr.dataset.hashState = entry.hashState;
  tr.dataset.uploadState = entry.uploadState || '';
  if (entry.sha256) tr.dataset.sha256 = entry.sha256;
  else delete tr.dataset.sha256;
  if (entry.engine) tr.dataset.engine = entry.engine;
  const hash = tr.querySelector('.hash');
  hash.textContent = hashText(entry);
  hash.title = entry.sha256 || '';
  if (entry.phash) tr.dataset.phash = entry.phash;
  else delete tr.dataset.phash;
  const upload = tr.querySelector('.upload');
  upload.textContent = uploadText(entry);
  if (entry.uploadState === 'similar' && entry.choose) upload.append(' ', ...similarChoices(entry), questionPictures(entry));
  if (entry.uploadState === 'done' && entry.afterSimilar) upload.append(' ', afterSimilarChoice(entry));
  if (state.run) scheduleProgress();
}

/** After an upload the server found similar to the user's assets (a video, say): "Move to
 *  trash" takes it back (restorable from My assets → Trash); the row says what was done. */
function afterSimilarChoice(entry) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'similar-trash';
  button.textContent = 'Move to trash';
  button.setAttribute('aria-label', `Move to trash: ${entry.name}`);
  button.addEventListener('click', reporting(async () => {
    const { assetId } = entry.afterSimilar;
    await state.api.trashAsset(assetId);
    entry.afterSimilar = null;
    entry.uploadMessage = `moved to the trash (asset ${assetId}; restore it on My assets)`;
    renderRow(entry);
    $('files-heading').focus();
  }));
  return button;
}

/**
 * The question's pictures, made once per question: the file picked (decoded by the browser)
 * beside the server's thumbnail of the closest similar asset, or the look-alike picked in
 * this same upload.
 */
function questionPictures(entry) {
  if (entry.questionPictures && entry.questionPictures.similar === entry.similar) return entry.questionPictures.node;
  const node = document.createElement('span');
  node.className = 'question-pictures';
  const local = (file, alt) => {
    const box = document.createElement('span');
    box.className = 'thumb small';
    const img = document.createElement('img');
    img.src = URL.createObjectURL(file);
    img.alt = alt;
    img.addEventListener('load', () => URL.revokeObjectURL(img.src), { once: true });
    box.append(img);
    return box;
  };
  node.append(local(entry.file, `${entry.name} (this file)`));
  const closest = entry.similar[0];
  const inBatch = closest.batch_path && state.entries.get(closest.batch_path);
  if (inBatch) {
    node.append(local(inBatch.file, `${inBatch.name} (in this upload)`));
  } else if (closest.asset_id != null && state.api) {
    const box = thumbnailBox(state.api, { asset_id: closest.asset_id, original_filename: closest.original_filename }, { size: 128 });
    box.classList.add('small');
    const watch = new MutationObserver(() => {
      if (box.dataset.state === 'none') box.remove(); // no picture on the server: the words say it
      if (box.dataset.state !== 'loading') watch.disconnect();
    });
    watch.observe(box, { attributes: true });
    node.append(box);
  }
  entry.questionPictures = { similar: entry.similar, node };
  return node;
}

/** The two answers to "similar to asset 123 (a.jpg)": the upload of that file waits for one. */
function similarChoices(entry) {
  const choices = [['skip', 'Skip'], ['upload', 'Upload anyway']].map(([value, label]) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = `similar-${value}`;
    button.textContent = label;
    button.addEventListener('click', () => {
      if (entry.choose) entry.choose(value);
    });
    return button;
  });
  const span = document.createElement('span');
  span.className = 'choices';
  span.append(...choices);
  return [span];
}

/** Redraws the progress line once per frame at most (rows change many times a second). */
function scheduleProgress() {
  if (state.progressQueued) return;
  state.progressQueued = true;
  requestAnimationFrame(() => {
    state.progressQueued = false;
    if (state.run && state.bytes) renderProgress();
  });
}

/** The rate over the last 5 s of samples: a pause (a question, a retry) ends in the rate
 *  falling to 0, not in a stale "about 1 s left". */
function recentRate(now, sent) {
  state.samples.push([now, sent]);
  while (state.samples.length > 2 && now - state.samples[0][0] > 5000) state.samples.shift();
  const [t0, s0] = state.samples[0];
  return now - t0 > 250 ? Math.max(0, sent - s0) / ((now - t0) / 1000) : 0;
}

/**
 * What the upload is doing, honestly: bytes and an ETA while bytes flow; "waiting for your
 * answer" while only questions hold it up; "processing" once every byte is sent and the server
 * is storing and fingerprinting before it answers.
 */
function renderProgress() {
  const { sent, total } = state.bytes;
  const entries = activeEntries();
  const waiting = entries.filter((e) => e.uploadState === 'similar').length;
  const sending = entries.filter((e) => e.uploadState === 'uploading' && !processing(e)).length;
  const working = entries.filter(processing).length;
  const fraction = total ? sent / total : 1;
  const question = waiting ? `${waiting} similar file${waiting === 1 ? '' : 's'} waiting for your answer` : '';
  $('similar-bar').hidden = waiting === 0;
  $('similar-waiting').textContent = question ? `${question}.` : '';
  const done = `${formatBytes(sent)} of ${formatBytes(total)}`;
  if (sending === 0 && working > 0) {
    setProgress(`Processing... ${done} sent; the server is storing ${working === 1 ? 'the file' : `${working} files`} and checking for similar files…${question ? `; ${question}` : ''}`, fraction);
  } else if (sending === 0 && waiting > 0) {
    setProgress(`Waiting for your answer... ${done} sent; ${question}.`, fraction);
  } else {
    const rate = recentRate(performance.now(), sent - state.bytes.resumed);
    const eta = rate > 0 ? `about ${formatDuration((total - sent) / rate)} left` : 'estimating time left';
    setProgress(`Uploading... ${done}, ${formatBytes(rate)}/s, ${eta}${question ? `; ${question}` : ''}`, fraction);
  }
}

/** "Skip all similar" / "Upload all similar": answers every waiting question and the ones the
 *  rest of this upload would ask. */
function answerAllSimilar(choice) {
  state.similarPolicy.choice = choice;
  for (const entry of state.entries.values()) {
    if (entry.uploadState === 'similar' && entry.choose) entry.choose(choice);
  }
}

function updateButtons() {
  const busy = state.run !== null || state.hashing > 0;
  const any = activeEntries().length > 0;
  $('hash-all').disabled = !any || busy;
  $('upload').disabled = !any || busy || !state.api;
  $('cancel').disabled = !busy;
  $('retry-failed').hidden = busy || ![...state.entries.values()].some((e) => e.uploadState === 'failed');
  $('include-system').disabled = busy;
}

// ---- system files -----------------------------------------------------------------------------

/** The entries the page hashes and uploads: all but system files left out. */
function activeEntries() {
  return [...state.entries.values()].filter((e) => !e.excluded);
}

/** Leaves a system file out: not hashed, not checked, not sent; its row says so. */
function exclude(entry) {
  Object.assign(entry, {
    excluded: true, sha256: null, hashState: 'skipped', uploadState: 'skipped-system', uploadMessage: 'skipped (system file)',
    uploadNote: '', duplicateOf: null,
  });
}

/** "Include system files" changed: system files already loaded follow it (and are hashed when
 *  they come in). */
function applySystemFileChoice() {
  const include = $('include-system').checked;
  const included = [];
  for (const entry of state.entries.values()) {
    if (!entry.systemFile) continue;
    if (include && entry.excluded) {
      Object.assign(entry, { excluded: false, hashState: 'waiting', uploadState: '', uploadMessage: '' });
      included.push(entry);
    } else if (!include && !entry.excluded) {
      exclude(entry);
    }
    renderRow(entry);
  }
  markInFolderDuplicates(activeEntries(), renderRow);
  updateButtons();
  return included.length ? hashNow(included) : undefined;
}

// ---- folders ----------------------------------------------------------------------------------

function renderFolders() {
  const list = $('folders');
  list.replaceChildren();
  const counts = new Map();
  for (const entry of state.entries.values()) counts.set(entry.folder, (counts.get(entry.folder) || 0) + 1);
  for (const [folder, count] of counts) {
    const li = document.createElement('li');
    li.dataset.folder = folder;
    const name = document.createElement('span');
    name.textContent = `${folder} (${count} files)`;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'remove-folder';
    remove.textContent = `Remove ${folder}`;
    remove.addEventListener('click', reporting(() => removeFolder(folder)));
    li.append(name, remove);
    list.append(li);
  }
}

async function renderRecentFolders() {
  const list = $('recent-folders');
  list.replaceChildren();
  if (!hasDirectoryPicker()) return;
  for (const { name, handle } of await state.db.folderHandles()) {
    const li = document.createElement('li');
    const open = document.createElement('button');
    open.type = 'button';
    open.textContent = `Open ${name} again`;
    open.addEventListener('click', async () => {
      try {
        if (!(await ensureReadPermission(handle))) return showError(`No permission to read ${name}.`);
        await addFiles(await filesFromDirectoryHandle(handle));
      } catch (error) {
        showError(`Could not open ${name}: ${error.message}`);
      }
    });
    li.append(open);
    list.append(li);
  }
}

/** Adds scanned files (replacing a folder loaded before under the same name) and hashes them. */
function addFiles(scanned) {
  showError('');
  const folders = new Set(scanned.map((s) => s.folder));
  for (const entry of [...state.entries.values()]) {
    if (folders.has(entry.folder)) dropEntry(entry);
  }
  const added = [];
  for (const { folder, path, file } of scanned) {
    const entry = {
      path, folder, file, name: file.name, size: file.size, kind: classify(file),
      sha256: null, hashState: 'waiting', uploadState: '', uploadMessage: '', systemFile: isSystemFile(file.name), excluded: false,
    };
    if (entry.systemFile && !$('include-system').checked) exclude(entry);
    state.entries.set(path, entry);
    addRow(entry);
    added.push(entry);
  }
  renderFolders();
  updateButtons();
  return hashNow(added);
}

function dropEntry(entry) {
  state.entries.delete(entry.path);
  const tr = state.rows.get(entry.path);
  if (tr) tr.remove();
  state.rows.delete(entry.path);
}

async function removeFolder(folder) {
  for (const entry of [...state.entries.values()]) {
    if (entry.folder === folder) dropEntry(entry);
  }
  await state.db.removeFolder(folder);
  markInFolderDuplicates(activeEntries(), renderRow);
  renderFolders();
  await renderRecentFolders();
  updateButtons();
}

// ---- hashing and uploading --------------------------------------------------------------------

async function hashNow(entries) {
  const todo = entries.filter((e) => !e.excluded && !e.sha256 && e.hashState !== 'hashing');
  state.hashing += 1;
  updateButtons();
  const started = performance.now();
  try {
    await hashEntries(todo, {
      db: state.db,
      pool: state.pool,
      signal: state.hashAbort.signal,
      changed: renderRow,
      progress: (fraction, done, total) => setProgress(`Computing hashes... ${Math.floor(fraction * 100)}% (${done}/${total})`, fraction),
    });
    const all = activeEntries();
    markInFolderDuplicates(all, renderRow);
    await annotateFromLocalStore(all, { db: state.db, changed: renderRow });
    const failed = todo.filter((e) => e.hashState === 'failed').length;
    const elapsed = performance.now() - started;
    document.body.dataset.lastHashMs = String(elapsed); // read by scripts/bench-browser-hash
    const seconds = (elapsed / 1000).toFixed(1);
    setProgress(`Hashes ready: ${todo.length - failed} of ${todo.length} files in ${seconds} s${failed ? `, ${failed} failed (they upload without a hash)` : ''}.`);
  } finally {
    state.hashing -= 1;
    updateButtons();
  }
}

async function upload() {
  const providerId = $('provider').value;
  if (!state.api || !providerId) return showError('Sign in and choose a provider first.');
  showError('');
  $('summary').textContent = '';
  const run = new AbortController();
  state.run = run;
  updateButtons();
  const entries = activeEntries();
  try {
    await hashNow(entries);
    if (run.signal.aborted) return;
    state.similarPolicy = { choice: null };
    state.samples = [];
    state.bytes = null;
    await uploadEntries(entries, {
      db: state.db,
      api: state.api,
      providerId,
      signal: run.signal,
      changed: renderRow,
      phasher: state.phasher,
      similarPolicy: state.similarPolicy,
      resumableThreshold: state.resumableThreshold,
      chunkBytes: state.chunkBytes,
      retryBaseMs: state.retryBaseMs,
      onBytes: (sent, total, resumed = 0) => {
        // Bytes resumed from an earlier run count as done but not towards this run's speed.
        state.bytes = { sent, total, resumed };
        renderProgress();
      },
    });
    state.bytes = null;
    $('similar-bar').hidden = true;
    setProgress('');
    $('summary').textContent = summarize([...state.entries.values()]).line; // system files left out count too
  } catch (error) {
    showError(explain(error));
    $('summary').textContent = summarize([...state.entries.values()]).line;
    if (error.status === 401) await signOut({ keepMessage: true });
  } finally {
    state.run = null;
    state.bytes = null;
    $('similar-bar').hidden = true;
    updateButtons();
    await showUnfinished();
  }
}

/** Says how many resumable uploads an earlier run (or tab) left unfinished. */
async function showUnfinished() {
  if (!state.api || state.run) return;
  const open = await state.db.uploadsInProgress();
  const note = $('unfinished');
  note.hidden = open.length === 0;
  note.textContent = open.length
    ? `${open.length} unfinished upload${open.length === 1 ? '' : 's'} (${formatBytes(open.reduce((sum, u) => sum + u.size, 0))}): add the folder again and press Upload to continue where ${open.length === 1 ? 'it' : 'they'} stopped.`
    : '';
}

function cancel() {
  if (state.run) state.run.abort();
  state.hashAbort.abort();
  state.hashAbort = new AbortController();
  state.pool.cancelAll();
  setProgress('Cancelled.');
}

// ---- sign-in ----------------------------------------------------------------------------------

function tokenFingerprint(token) {
  const sha = new JsSha256();
  sha.update(new TextEncoder().encode(token));
  return sha.digestHex();
}

async function signIn(token) {
  showError('');
  const api = new ApiClient(token);
  let providers;
  try {
    providers = await api.providers();
  } catch (error) {
    showError(explain(error));
    return false;
  }
  // Data cached for another user (a tab closed without signing out) must not leak to this one.
  const owner = tokenFingerprint(token);
  if ((await state.db.getMeta('owner')) !== owner) {
    await state.db.clearUserData();
    await state.db.setMeta('owner', owner);
  }
  storeToken(token);
  state.api = api;
  const select = $('provider');
  select.replaceChildren();
  for (const provider of providers) {
    const option = document.createElement('option');
    option.value = provider.id;
    option.textContent = `${provider.id} (${provider.kind}${provider.health ? `, ${provider.health}` : ''})`;
    select.append(option);
  }
  const remembered = sessionStorage.getItem(PROVIDER_KEY);
  if (remembered && providers.some((p) => p.id === remembered)) select.value = remembered;
  $('sign-in-form').hidden = true;
  $('signed-in').hidden = false;
  $('auth-status').textContent = providers.length ? 'Signed in.' : 'Signed in, but the server has no providers configured.';
  updateButtons();
  await showUnfinished();
  return true;
}

async function signOut({ keepMessage = false } = {}) {
  if (state.run) state.run.abort();
  state.hashAbort.abort();
  state.hashAbort = new AbortController();
  state.pool.cancelAll();
  forgetToken();
  sessionStorage.removeItem(PROVIDER_KEY);
  state.api = null;
  await state.db.clearUserData();
  for (const entry of [...state.entries.values()]) dropEntry(entry);
  renderFolders();
  await renderRecentFolders();
  $('token').value = '';
  $('sign-in-form').hidden = false;
  $('signed-in').hidden = true;
  $('summary').textContent = '';
  $('unfinished').hidden = true;
  setProgress('');
  if (!keepMessage) showError('');
  updateButtons();
}

// ---- wiring -----------------------------------------------------------------------------------

async function main() {
  // The safety net: nothing async fails silently, whatever path it took.
  window.addEventListener('unhandledrejection', (event) => showError(explain(event.reason)));
  window.addEventListener('error', (event) => showError(explain(event.error || event.message)));
  try {
    state.db = await openDatabase();
  } catch (error) {
    showError(`The local cache (IndexedDB) is unavailable: ${error.message}`);
    return;
  }
  wireSignInForm(signIn, reporting);
  $('sign-out').addEventListener('click', reporting(() => signOut()));
  $('provider').addEventListener('change', () => sessionStorage.setItem(PROVIDER_KEY, $('provider').value));
  $('include-system').addEventListener('change', reporting(applySystemFileChoice));
  for (const id of ['folder-input', 'files-input']) {
    $(id).addEventListener('change', reporting((event) => {
      const scanned = filesFromInput(event.target.files);
      event.target.value = ''; // picking the same folder again must fire change again
      return scanned.length ? addFiles(scanned) : undefined;
    }));
  }
  if (hasDirectoryPicker()) {
    $('pick-folder').hidden = false;
    $('pick-folder').addEventListener('click', reporting(async () => {
      let handle;
      try {
        handle = await window.showDirectoryPicker({ mode: 'read' });
      } catch {
        return; // the person closed the picker
      }
      await state.db.saveFolderHandle(handle.name, handle);
      await renderRecentFolders();
      await addFiles(await filesFromDirectoryHandle(handle));
    }));
  }
  $('hash-all').addEventListener('click', reporting(() => hashNow([...state.entries.values()])));
  $('upload').addEventListener('click', reporting(upload));
  $('retry-failed').addEventListener('click', reporting(upload));
  $('cancel').addEventListener('click', reporting(cancel));
  $('skip-all-similar').addEventListener('click', () => answerAllSimilar('skip'));
  $('upload-all-similar').addEventListener('click', () => answerAllSimilar('upload'));
  try {
    await renderRecentFolders();
    const token = storedToken();
    if (token) await signIn(token);
  } finally {
    updateButtons();
    document.body.dataset.ready = 'true'; // tests wait for this
  }
}

main().catch(report);

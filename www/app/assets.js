// "My assets": the signed-in user's assets 50 at a time (keyset pages, "Load more"), filters by
// media type and provider over the pages loaded so far, "Move to trash" per row, and the trash
// with "Restore" and "Delete forever" (after a confirm dialog). The token is the upload page's
// (sessionStorage, Authorization header only). Focus after an action goes to the same button on
// the next row (or the one before), else to the list's heading: never to the page body.
import { ApiClient, ApiError, providerIds } from './api.js';
import { explain, formatBytes, showError, thumbnailBox, timeElement, forgetToken, storedToken, storeToken, wireSignInForm } from './common.js';
import { openDatabase } from './db.js';

const PAGE_SIZE = 50;
const PROVIDER_KEY = 'assetdedup.provider'; // the upload page's chosen provider
const $ = (id) => document.getElementById(id);

/** The two lists: their elements, paging position, and how a row's actions look. */
const LISTS = {
  assets: {
    view: 'assets-view', heading: 'assets-heading', table: 'assets', more: 'assets-more', summary: 'assets-summary',
    load: (api, query) => api.listAssets(query),
    when: (asset) => asset.created_at,
  },
  trash: {
    view: 'trash-view', heading: 'trash-heading', table: 'trash', more: 'trash-more', summary: 'trash-summary',
    load: (api, query) => api.listTrash(query),
    when: (asset) => asset.trashed_at,
  },
};

const state = {
  api: null,
  view: 'assets',
  providers: new Set(), // every provider id the filter offers
  lists: { assets: { nextAfter: null, loaded: 0, generation: 0 }, trash: { nextAfter: null, loaded: 0, generation: 0 } },
};

// ---- messages ---------------------------------------------------------------------------------

/** Wraps an async event handler: whatever it throws ends in the error area (a rejected token
 *  also signs out, as on the upload page). */
function reporting(handler) {
  return (...args) => Promise.resolve().then(() => handler(...args)).catch(async (error) => {
    console.error(error);
    if (error instanceof ApiError && error.status === 401 && state.api) await signOut({ keepMessage: true });
    showError(explain(error));
  });
}

/** What just happened, for everyone (a polite live region) and for tests. */
function announce(message) {
  $('status').textContent = message;
}

// ---- rows -------------------------------------------------------------------------------------

function displayName(asset) {
  return asset.original_filename || `(asset ${asset.asset_id}, no file name)`;
}

function cell(tr, className, label, content) {
  const td = document.createElement('td');
  td.className = className;
  td.dataset.label = label; // the heading in the narrow (card) layout
  if (typeof content === 'string') td.textContent = content;
  else if (content) td.append(content);
  tr.append(td);
  return td;
}

function actionButton(text, className, name, onClick) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = className;
  button.textContent = text;
  // The visible words first, then which file (WCAG "label in name").
  button.setAttribute('aria-label', `${text}: ${name}`);
  button.addEventListener('click', reporting(() => onClick(button)));
  return button;
}

function renderRow(asset, kind) {
  const tr = document.createElement('tr');
  const name = displayName(asset);
  const providers = providerIds(asset.uploaded_to_providers);
  tr.dataset.assetId = String(asset.asset_id);
  tr.dataset.mediaType = asset.media_type || 'other';
  tr.dataset.providers = providers.join(' ');
  tr.dataset.name = name;
  tr.dataset.created = localDay(asset.created_at);
  cell(tr, 'preview', 'Preview', thumbnailBox(state.api, asset, { size: 128 })).firstChild.classList.add('small');
  cell(tr, 'name', 'File name', name);
  cell(tr, 'kind', 'Type', asset.media_type || 'other');
  const size = cell(tr, 'size', 'Size', formatBytes(asset.size));
  size.title = `${asset.size} bytes`;
  cell(tr, 'when', kind === 'assets' ? 'Uploaded' : 'Trashed', timeElement(LISTS[kind].when(asset)));
  cell(tr, 'providers', 'Providers', providers.length ? providers.join(', ') : 'none yet');
  const actions = document.createElement('span');
  actions.className = 'choices';
  if (kind === 'assets') {
    actions.append(actionButton('Move to trash', 'trash', name, (button) => act(button, () => moveToTrash(tr))));
  } else {
    actions.append(
      actionButton('Restore', 'restore', name, (button) => act(button, () => restore(tr))),
      actionButton('Delete forever', 'purge', name, (button) => act(button, () => purge(tr, button))),
    );
  }
  cell(tr, 'actions', 'Actions', actions);
  for (const id of providers) addProviderOption(id);
  return tr;
}

/**
 * Runs a row's action once at a time. The buttons are marked aria-disabled, not disabled:
 * disabling the focused button would drop focus to the page body.
 */
async function act(button, work) {
  const tr = button.closest('tr');
  if (tr.dataset.busy) return;
  tr.dataset.busy = 'true';
  const buttons = [...tr.querySelectorAll('button')];
  for (const b of buttons) b.setAttribute('aria-disabled', 'true');
  showError('');
  try {
    await work();
  } finally {
    delete tr.dataset.busy;
    for (const b of buttons) b.removeAttribute('aria-disabled');
  }
}

/** Removes a row and puts focus where the person can go on: the same kind of button on the next
 *  shown row, else on the one before, else the list's heading. */
function removeRow(tr, kind, buttonClass) {
  const shown = (row) => row && !row.hidden;
  let target = tr.nextElementSibling;
  while (target && !shown(target)) target = target.nextElementSibling;
  if (!target) {
    target = tr.previousElementSibling;
    while (target && !shown(target)) target = target.previousElementSibling;
  }
  tr.remove();
  state.lists[kind].loaded -= 1;
  updateSummary(kind);
  const button = target && target.querySelector(`button.${buttonClass}`);
  (button || $(LISTS[kind].heading)).focus();
}

async function moveToTrash(tr) {
  const name = tr.dataset.name;
  try {
    await state.api.trashAsset(tr.dataset.assetId);
  } catch (error) {
    if (error.status !== 404) throw error;
    removeRow(tr, 'assets', 'trash');
    throw new ApiError(404, 'not_found', `"${name}" is no longer among your assets: it was trashed or deleted elsewhere.`);
  }
  removeRow(tr, 'assets', 'trash');
  announce(`Moved "${name}" to the trash.`);
}

async function restore(tr) {
  const name = tr.dataset.name;
  try {
    await state.api.restoreAsset(tr.dataset.assetId);
  } catch (error) {
    if (error.status !== 404) throw error;
    removeRow(tr, 'trash', 'restore');
    throw new ApiError(404, 'not_found', `"${name}" is no longer in the trash: it was deleted elsewhere.`);
  }
  removeRow(tr, 'trash', 'restore');
  announce(`Restored "${name}": it is back in My assets.`);
}

/** Asks in a modal dialog (Cancel has the focus); resolves true for "Delete forever". */
function confirmPurge(name) {
  const dialog = $('confirm-purge');
  $('confirm-purge-text').textContent = `"${name}" will be deleted for good: its record, its copy on the server and, where a provider is set to delete, the provider's copy. This cannot be undone.`;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'purge'), { once: true });
    dialog.showModal();
    $('confirm-purge-cancel').focus();
  });
}

async function purge(tr, button) {
  const name = tr.dataset.name;
  const confirmed = await confirmPurge(name);
  button.focus(); // back where the dialog was opened from, whatever the answer
  if (!confirmed) {
    announce(`Kept "${name}" in the trash.`);
    return;
  }
  try {
    await state.api.purgeAsset(tr.dataset.assetId);
  } catch (error) {
    if (error.status === 404) {
      removeRow(tr, 'trash', 'purge');
      throw new ApiError(404, 'not_found', `"${name}" is no longer in the trash: it was deleted elsewhere.`);
    }
    if (error.code === 'not_trashed') {
      removeRow(tr, 'trash', 'purge');
      throw new ApiError(409, 'not_trashed', `"${name}" was restored elsewhere: it is back in My assets, not deleted.`);
    }
    throw error;
  }
  removeRow(tr, 'trash', 'purge');
  announce(`Deleted "${name}" forever.`);
}

// ---- lists, paging and filters ----------------------------------------------------------------

function addProviderOption(id) {
  if (state.providers.has(id)) return;
  state.providers.add(id);
  const option = document.createElement('option');
  option.value = id;
  option.textContent = id;
  $('filter-provider').append(option);
}

function rowsOf(kind) {
  return [...$(LISTS[kind].table).tBodies[0].rows];
}

/** The upload day in the browser's time zone, "YYYY-MM-DD" (what `<input type=date>` gives). */
function localDay(iso) {
  if (!iso) return '';
  const text = /^\d{4}-\d\d-\d\d \d\d:\d\d/.test(iso) ? `${iso.replace(' ', 'T')}Z` : iso;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function filtering() {
  return Boolean($('filter-type').value || $('filter-provider').value || $('filter-from').value || $('filter-to').value);
}

/** Client-side filters over the rows loaded so far (the API lists by id only). */
function applyFilters() {
  const type = $('filter-type').value;
  const provider = $('filter-provider').value;
  const from = $('filter-from').value;
  const to = $('filter-to').value;
  for (const tr of rowsOf('assets')) {
    const typeOk = !type || tr.dataset.mediaType === type;
    const providerOk = !provider || tr.dataset.providers.split(' ').includes(provider);
    const day = tr.dataset.created;
    const dateOk = (!from || (day && day >= from)) && (!to || (day && day <= to));
    tr.hidden = !(typeOk && providerOk && dateOk);
  }
  updateSummary('assets');
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function updateSummary(kind) {
  const list = state.lists[kind];
  const more = list.nextAfter !== null;
  let text;
  if (kind === 'assets') {
    const shown = rowsOf('assets').filter((tr) => !tr.hidden).length;
    const filtered = filtering();
    if (list.loaded === 0 && !more) text = 'No assets yet: upload some on the upload page.';
    else if (filtered) text = `${shown} of ${plural(list.loaded, 'loaded asset')} match the filters${more ? ' (filters apply to loaded pages only; more to load)' : ''}.`;
    else text = `${plural(list.loaded, 'asset')} shown${more ? '; more to load' : ''}.`;
  } else {
    text = list.loaded === 0 && !more
      ? 'The trash is empty.'
      : `${plural(list.loaded, 'trashed asset')} shown${more ? '; more to load' : ''}.`;
  }
  $(LISTS[kind].summary).textContent = text;
  $(LISTS[kind].more).hidden = !more;
}

/** Loads the first page (`reset`) or the next one; resolves the rows added (none when a newer
 *  load of the same list superseded this one). */
async function loadPage(kind, { reset }) {
  const list = state.lists[kind];
  const generation = reset ? ++list.generation : list.generation;
  const page = await LISTS[kind].load(state.api, { limit: PAGE_SIZE, after: reset ? null : list.nextAfter });
  if (generation !== list.generation) return [];
  const body = $(LISTS[kind].table).tBodies[0];
  if (reset) {
    body.replaceChildren();
    list.loaded = 0;
  }
  const added = (page.assets || []).map((asset) => renderRow(asset, kind));
  body.append(...added);
  list.loaded += added.length;
  list.nextAfter = page.next_after ?? null;
  if (kind === 'assets') applyFilters();
  else updateSummary(kind);
  return added;
}

/** "Load more": focus goes to the first new row shown, else stays on the button, else the heading. */
async function loadMore(kind) {
  const more = $(LISTS[kind].more);
  if (more.dataset.busy) return;
  more.dataset.busy = 'true';
  showError('');
  try {
    const added = await loadPage(kind, { reset: false });
    const first = added.find((tr) => tr.isConnected && !tr.hidden);
    if (first) first.querySelector('button').focus();
    else if (more.hidden) $(LISTS[kind].heading).focus();
  } finally {
    delete more.dataset.busy;
  }
}

/** Shows one list, loaded afresh from its first page (the other list's actions change it). */
async function showView(kind, { focus = true } = {}) {
  state.view = kind;
  for (const [name, list] of Object.entries(LISTS)) {
    $(list.view).hidden = name !== kind;
  }
  $('show-assets').setAttribute('aria-pressed', String(kind === 'assets'));
  $('show-trash').setAttribute('aria-pressed', String(kind === 'trash'));
  showError('');
  announce('');
  if (focus) $(LISTS[kind].heading).focus();
  await loadPage(kind, { reset: true });
}

// ---- sign-in ----------------------------------------------------------------------------------

async function signIn(token, { focus = true } = {}) {
  showError('');
  const api = new ApiClient(token);
  let providers;
  try {
    providers = await api.providers(); // checks the token
  } catch (error) {
    showError(explain(error));
    return false;
  }
  storeToken(token);
  state.api = api;
  for (const provider of providers) addProviderOption(provider.id);
  $('sign-in-form').hidden = true;
  $('signed-in').hidden = false;
  $('views').hidden = false;
  await showView('assets', { focus });
  return true;
}

/** Signs out as the upload page does: the token goes, and the per-user cache in IndexedDB. */
async function signOut({ keepMessage = false } = {}) {
  forgetToken();
  sessionStorage.removeItem(PROVIDER_KEY);
  state.api = null;
  for (const kind of Object.keys(LISTS)) {
    state.lists[kind].generation += 1;
    state.lists[kind].nextAfter = null;
    state.lists[kind].loaded = 0;
    $(LISTS[kind].table).tBodies[0].replaceChildren();
  }
  state.providers.clear();
  $('filter-provider').replaceChildren($('filter-provider').options[0]);
  $('filter-type').value = '';
  $('filter-from').value = '';
  $('filter-to').value = '';
  $('views').hidden = true;
  $('token').value = '';
  $('sign-in-form').hidden = false;
  $('signed-in').hidden = true;
  announce('');
  if (!keepMessage) showError('');
  $('token').focus();
  try {
    const db = await openDatabase();
    await db.clearUserData();
    db.close();
  } catch (error) {
    console.warn('could not clear the local cache:', error);
  }
}

// ---- wiring -----------------------------------------------------------------------------------

async function main() {
  window.addEventListener('unhandledrejection', (event) => showError(explain(event.reason)));
  window.addEventListener('error', (event) => showError(explain(event.error || event.message)));
  wireSignInForm(signIn, reporting);
  $('sign-out').addEventListener('click', reporting(() => signOut()));
  $('show-assets').addEventListener('click', reporting(() => showView('assets')));
  $('show-trash').addEventListener('click', reporting(() => showView('trash')));
  $('assets-more').addEventListener('click', reporting(() => loadMore('assets')));
  $('trash-more').addEventListener('click', reporting(() => loadMore('trash')));
  $('filter-type').addEventListener('change', applyFilters);
  $('filter-provider').addEventListener('change', applyFilters);
  $('filter-from').addEventListener('change', applyFilters);
  $('filter-to').addEventListener('change', applyFilters);
  try {
    const token = storedToken();
    if (token) await reporting(() => signIn(token, { focus: false }))();
  } finally {
    document.body.dataset.ready = 'true'; // tests wait for this
  }
}

main().catch((error) => showError(explain(error)));

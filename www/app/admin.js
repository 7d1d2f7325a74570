// The admin page: two kinds of groups. Shared content (the same bytes held by several users:
// allowed by the per-user design, so informational; keep / ignore are recorded as
// `assetdedup review` records them) and each user's near-duplicates (keep one: the user's others
// go to their trash, restorable; or ignore). Headings name files and sizes, times are the
// browser's, thumbnails come from the server, "Unreviewed only" filters, selected groups take a
// bulk decision. Buttons are aria-disabled while busy, never disabled, so keyboard focus stays;
// after "Load more" it goes to the first new group. The token travels in the Authorization
// header only (never a cookie), kept in sessionStorage like the upload page's.
import { ApiClient, ApiError } from './api.js';
import {
  explain as explainShared, formatBytes, formatDateTime, formatResolution, showError, thumbnailBox, timeElement,
  forgetToken, storedToken, storeToken, wireSignInForm,
} from './common.js'; // one sign-in per tab (or remembered) for every page

const PAGE_SIZE = 50;
const $ = (id) => document.getElementById(id);

const state = { api: null, view: 'shared', nextAfter: null, shown: 0, generation: 0 };

// ---- messages ---------------------------------------------------------------------------------

/** The shared wording, but for a 403: this page is for admins. */
function explain(error) {
  if (error instanceof ApiError && error.status === 403) {
    return 'Admins only: this API token belongs to a user who is not an admin. Sign in with an admin\'s token.';
  }
  return explainShared(error);
}

function reporting(handler) {
  return (...args) => Promise.resolve().then(() => handler(...args)).catch((error) => {
    console.error(error);
    showError(explain(error));
  });
}

function announce(message) {
  $('status').textContent = message;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `keep asset 12 (alice, 2 Dec 2026, 12:50): note`, the time in the reader's locale. */
export function describeReview(review) {
  if (!review) return 'Not reviewed.';
  let text = review.decision === 'keep' ? `keep asset ${review.keep_asset_id}` : review.decision;
  text += ` (${review.reviewed_by}, ${formatDateTime(review.reviewed_at)})`;
  if (review.note) text += `: ${review.note}`;
  if (review.current === false) text += ' (taken on other members: the group changed since)';
  return `Decision: ${text}`;
}

function reviewed(review) {
  return Boolean(review) && review.current !== false;
}

// ---- groups -----------------------------------------------------------------------------------

function element(tag, { text, className, attrs = {} } = {}, children = []) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function nameOf(item) {
  return item.original_filename || `asset ${item.asset_id} (no file name)`;
}

function showDecision(article, review) {
  const line = article.querySelector('.decision');
  line.textContent = describeReview(review);
  line.dataset.decision = review ? review.decision : 'none';
  if (review && review.keep_asset_id) line.dataset.keepAssetId = String(review.keep_asset_id);
  else delete line.dataset.keepAssetId;
  article.dataset.reviewed = String(reviewed(review));
  for (const row of article.querySelectorAll('[data-asset-id]:not(button)')) {
    row.classList.toggle('kept', Boolean(review && review.keep_asset_id === Number(row.dataset.assetId)));
  }
}

/** Records one decision; buttons are aria-disabled meanwhile (focus stays where it is). */
async function decide(article, body) {
  if (article.dataset.busy) return;
  const note = article.querySelector('.note').value.trim();
  if (note) body.note = note;
  article.dataset.busy = 'true';
  const buttons = [...article.querySelectorAll('button')];
  for (const button of buttons) button.setAttribute('aria-disabled', 'true');
  showError('');
  try {
    const answer = article.dataset.sha256
      ? await state.api.reviewDuplicate(article.dataset.sha256, body)
      : await state.api.reviewNearDuplicates(article.dataset.anchor, body);
    showDecision(article, answer.review);
    const trashed = answer.trashed || [];
    for (const id of trashed) {
      const member = article.querySelector(`li.member[data-asset-id="${id}"]`);
      if (member) member.classList.add('trashed');
    }
    if (trashed.length) announce(`Moved ${plural(trashed.length, 'file')} to the owner's trash.`);
  } finally {
    delete article.dataset.busy;
    for (const button of buttons) button.removeAttribute('aria-disabled');
  }
}

function selector(article, title) {
  const box = element('input', { className: 'select', attrs: { type: 'checkbox', 'aria-label': `Select: ${title}` } });
  box.addEventListener('change', updateSelection);
  return element('label', { className: 'select-group' }, [box, ' Select for a bulk decision']);
}

function decisionControls(article, id) {
  const noteId = `${id}-note`;
  const ignore = element('button', { text: 'Ignore group', className: 'ignore', attrs: { type: 'button' } });
  ignore.addEventListener('click', reporting(() => decide(article, { decision: 'ignore' })));
  return [
    element('div', { className: 'row' }, [
      element('label', { text: 'Note (optional)', attrs: { for: noteId } }),
      element('input', { className: 'note', attrs: { id: noteId, type: 'text', maxlength: '1000', autocomplete: 'off' } }),
      ignore,
    ]),
    element('p', { className: 'decision', attrs: { 'aria-live': 'polite' } }),
  ];
}

function keepButton(article, item, label) {
  const keep = element('button', {
    text: `Keep asset ${item.asset_id}`, className: 'keep', attrs: { type: 'button', 'aria-label': label },
  });
  keep.dataset.assetId = String(item.asset_id);
  keep.addEventListener('click', reporting(() => decide(article, { decision: 'keep', asset_id: item.asset_id })));
  return keep;
}

/** Shared content: "beach.jpg, 2.0 MiB, held by alice and bob"; the hash under it. */
function renderSharedGroup(group) {
  const id = `group-${group.sha256}`;
  const names = [...new Set(group.holders.map(nameOf))];
  const users = group.holders.map((h) => h.user_name);
  const title = `${names.slice(0, 2).join(', ')}${names.length > 2 ? ` and ${names.length - 2} more names` : ''}: ${formatBytes(group.size)}, held by ${users.join(', ')}`;
  const article = element('article', { className: 'group', attrs: { 'aria-labelledby': `${id}-title` } });
  article.dataset.sha256 = group.sha256;
  article.dataset.size = String(group.size);
  article.append(
    element('h3', { text: title, attrs: { id: `${id}-title` } }),
    selector(article, title),
    element('p', {
      className: 'meta',
      text: `${group.holders.length} holders, ${formatBytes(group.size)} each; one shared copy saves ${formatBytes(group.bytes_saved)}. Allowed by design (each user's own copy); a decision here is a note, nothing is trashed. SHA-256 `,
    }, [element('code', { text: group.sha256 })]),
  );
  const body = element('tbody');
  for (const holder of group.holders) {
    const name = nameOf(holder);
    const row = element('tr', {}, [
      element('td', { text: String(holder.asset_id), attrs: { 'data-label': 'Asset' } }),
      element('td', { text: holder.user_name, attrs: { 'data-label': 'User' } }),
      element('td', { text: name, attrs: { 'data-label': 'Filename' } }),
      element('td', { attrs: { 'data-label': 'Uploaded' } }, [timeElement(holder.created_at)]),
      element('td', { attrs: { 'data-label': 'Decision' } }, [
        keepButton(article, holder, `Keep asset ${holder.asset_id} (${holder.user_name}, ${name})`)]),
    ]);
    row.dataset.assetId = String(holder.asset_id);
    body.append(row);
  }
  const head = element('thead', {}, [element('tr', {}, ['Asset', 'User', 'Filename', 'Uploaded', 'Decision']
    .map((label) => element('th', { text: label, attrs: { scope: 'col' } })))]);
  article.append(element('div', { className: 'table-wrap' }, [element('table', {}, [head, body])]));
  article.append(...decisionControls(article, id));
  showDecision(article, group.review);
  return article;
}

/** One user's near-duplicates side by side: thumbnail, name, size, resolution, date. */
function renderNearGroup(group) {
  const id = `near-${group.anchor_asset_id}`;
  const names = group.assets.map(nameOf);
  const title = `${group.user_name}: ${plural(group.assets.length, `similar ${group.kind || 'file'}`)}, ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`;
  const article = element('article', { className: 'group', attrs: { 'aria-labelledby': `${id}-title` } });
  article.dataset.anchor = String(group.anchor_asset_id);
  const members = element('ul', { className: 'members' });
  for (const asset of group.assets) {
    const name = nameOf(asset);
    const resolution = element('dd', { className: 'resolution' });
    const li = element('li', { className: 'member' }, [
      thumbnailBox(state.api, asset, { onSize: (w, h) => { resolution.textContent = formatResolution(w, h); } }),
      element('dl', { className: 'facts' }, [
        element('dt', { text: 'File name' }), element('dd', { className: 'file-name', text: name }),
        element('dt', { text: 'Size' }), element('dd', { className: 'size', text: formatBytes(asset.size) }),
        element('dt', { text: 'Resolution' }), resolution,
        element('dt', { text: 'Uploaded' }), element('dd', { className: 'when' }, [timeElement(asset.created_at)]),
      ]),
      keepButton(article, asset, `Keep asset ${asset.asset_id} (${name}); trash ${group.user_name}'s others`),
    ]);
    li.dataset.assetId = String(asset.asset_id);
    li.dataset.size = String(asset.size);
    members.append(li);
  }
  article.append(element('h3', { text: title, attrs: { id: `${id}-title` } }), selector(article, title), members);
  article.append(...decisionControls(article, id));
  showDecision(article, group.review);
  return article;
}

// ---- lists, paging, selection -----------------------------------------------------------------

const VIEWS = {
  shared: {
    heading: 'Shared content (across users)',
    intro: 'The same bytes held by several users. The per-user design allows it: each user keeps their own asset. Decisions are notes for the report.',
    load: (query) => state.api.duplicateGroups(query),
    render: renderSharedGroup,
    empty: 'No content is held by more than one user.',
  },
  near: {
    heading: 'Near-duplicate groups (per user)',
    intro: 'Each user\'s look-alike images and videos. Keeping one moves that user\'s others to their trash, where they can restore them.',
    load: (query) => state.api.adminNearDuplicates({ ...query, unreviewed: $('unreviewed').checked }),
    render: renderNearGroup,
    empty: 'No near-duplicate groups.',
  },
};

function articles() {
  return [...$('groups').querySelectorAll('article.group')];
}

/** "Unreviewed only" over the groups loaded (the near-duplicates list also filters on the server). */
function applyFilter() {
  const only = $('unreviewed').checked;
  for (const article of articles()) article.hidden = only && article.dataset.reviewed === 'true';
  updateSummary();
}

function updateSummary() {
  const visible = articles().filter((a) => !a.hidden).length;
  const more = state.nextAfter !== null && state.nextAfter !== undefined && state.nextAfter !== '';
  $('groups-summary').textContent = state.shown === 0 && !more
    ? VIEWS[state.view].empty
    : `${plural(visible, 'group')} shown${visible !== state.shown ? ` (${state.shown} loaded)` : ''}${more ? '; more to load' : ''}.`;
  $('more').hidden = !more;
  updateSelection();
}

function selectedArticles() {
  return articles().filter((a) => !a.hidden && a.querySelector('input.select').checked);
}

function updateSelection() {
  const count = selectedArticles().length;
  $('selected-count').textContent = `${plural(count, 'group')} selected.`;
  $('bulk-keep').hidden = state.view !== 'near';
  for (const id of ['bulk-keep', 'bulk-ignore']) $(id).setAttribute('aria-disabled', String(count === 0));
}

async function loadGroups({ reset }) {
  const generation = reset ? ++state.generation : state.generation;
  const page = await VIEWS[state.view].load({ limit: PAGE_SIZE, after: reset ? '' : state.nextAfter });
  if (generation !== state.generation) return [];
  if (reset) {
    $('groups').replaceChildren();
    state.shown = 0;
  }
  const added = page.groups.map(VIEWS[state.view].render);
  $('groups').append(...added);
  state.shown += added.length;
  state.nextAfter = page.next_after ?? null;
  applyFilter();
  return added;
}

/** "Load more": focus to the first new group's first control, else stays, else the heading. */
async function loadMore() {
  const more = $('more');
  if (more.dataset.busy) return;
  more.dataset.busy = 'true';
  try {
    const added = await loadGroups({ reset: false });
    const first = added.find((a) => !a.hidden);
    if (first) first.querySelector('input.select').focus();
    else if (more.hidden) $('groups-heading').focus();
  } finally {
    delete more.dataset.busy;
  }
}

async function showView(view, { focus = true } = {}) {
  state.view = view;
  $('show-shared').setAttribute('aria-pressed', String(view === 'shared'));
  $('show-near').setAttribute('aria-pressed', String(view === 'near'));
  $('groups-heading').textContent = VIEWS[view].heading;
  $('groups-intro').textContent = VIEWS[view].intro;
  showError('');
  announce('');
  await loadGroups({ reset: true });
  if (focus) $('groups-heading').focus();
}

/** The selected groups' decision, one group after another; focus stays on the bulk button. */
async function bulk(decision) {
  const chosen = selectedArticles();
  if (chosen.length === 0) return;
  let done = 0;
  for (const article of chosen) {
    let body = { decision: 'ignore' };
    if (decision === 'keep') {
      const largest = [...article.querySelectorAll('li.member')]
        .sort((a, b) => Number(b.dataset.size) - Number(a.dataset.size) || Number(a.dataset.assetId) - Number(b.dataset.assetId))[0];
      body = { decision: 'keep', asset_id: Number(largest.dataset.assetId) };
    }
    await decide(article, body);
    article.querySelector('input.select').checked = false;
    done += 1;
  }
  announce(`${decision === 'keep' ? 'Kept the largest file' : 'Ignored'} in ${plural(done, 'group')}.`);
  applyFilter();
}

// ---- sign-in ----------------------------------------------------------------------------------

async function signIn(token, { focus = true } = {}) {
  showError('');
  state.api = new ApiClient(token);
  try {
    await showView(state.view, { focus: false });
  } catch (error) {
    state.api = null;
    showError(explain(error));
    return false;
  }
  storeToken(token);
  $('sign-in-form').hidden = true;
  $('signed-in').hidden = false;
  $('review').hidden = false;
  if (focus) $('groups-heading').focus();
  return true;
}

function signOut() {
  forgetToken();
  state.api = null;
  state.generation += 1;
  $('groups').replaceChildren();
  $('groups-summary').textContent = '';
  $('review').hidden = true;
  $('token').value = '';
  $('sign-in-form').hidden = false;
  $('signed-in').hidden = true;
  showError('');
  announce('');
  $('token').focus();
}

async function main() {
  window.addEventListener('unhandledrejection', (event) => showError(explain(event.reason)));
  wireSignInForm(signIn, reporting);
  $('sign-out').addEventListener('click', signOut);
  $('reload').addEventListener('click', reporting(() => loadGroups({ reset: true })));
  $('more').addEventListener('click', reporting(loadMore));
  $('show-shared').addEventListener('click', reporting(() => showView('shared')));
  $('show-near').addEventListener('click', reporting(() => showView('near')));
  // The near-duplicates list filters on the server (pages of unreviewed groups); shared content
  // over the pages loaded.
  $('unreviewed').addEventListener('change', reporting(() => (state.view === 'near' ? loadGroups({ reset: true }) : applyFilter())));
  for (const [id, decision] of [['bulk-keep', 'keep'], ['bulk-ignore', 'ignore']]) {
    $(id).addEventListener('click', reporting(() => ($(id).getAttribute('aria-disabled') === 'true' ? undefined : bulk(decision))));
  }
  try {
    const token = storedToken();
    if (token) await signIn(token, { focus: false });
  } finally {
    document.body.dataset.ready = 'true'; // tests wait for this
  }
}

main().catch((error) => showError(explain(error)));

// The admin page: duplicate groups (content several users hold) with keep / ignore decisions,
// recorded through the API exactly as `assetdedup review` records them. The token travels in the
// Authorization header only (never a cookie), kept in sessionStorage like the upload page's.
import { ApiClient, ApiError } from './api.js';
import { explain as explainShared, formatBytes, showError, timeElement, TOKEN_KEY, wireSignInForm } from './common.js'; // TOKEN_KEY: one sign-in per tab for every page

const PAGE_SIZE = 50;
const $ = (id) => document.getElementById(id);

const state = { api: null, nextAfter: null, shown: 0 };

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

/** `keep asset 12 (alice, 2026-11-19T10:00:00.000Z): note`, as the duplicates report words it. */
export function describeReview(review) {
  if (!review) return 'Not reviewed.';
  let text = review.decision === 'keep' ? `keep asset ${review.keep_asset_id}` : review.decision;
  text += ` (${review.reviewed_by}, ${review.reviewed_at})`;
  if (review.note) text += `: ${review.note}`;
  return `Decision: ${text}`;
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

function showDecision(article, review) {
  const line = article.querySelector('.decision');
  line.textContent = describeReview(review);
  line.dataset.decision = review ? review.decision : 'none';
  if (review && review.keep_asset_id) line.dataset.keepAssetId = String(review.keep_asset_id);
  else delete line.dataset.keepAssetId;
  for (const row of article.querySelectorAll('tbody tr')) {
    row.classList.toggle('kept', Boolean(review && review.keep_asset_id === Number(row.dataset.assetId)));
  }
}

async function decide(article, group, body) {
  const note = article.querySelector('.note').value.trim();
  if (note) body.note = note;
  const buttons = [...article.querySelectorAll('button')];
  for (const button of buttons) button.disabled = true;
  showError('');
  try {
    const { review } = await state.api.reviewDuplicate(group.sha256, body);
    showDecision(article, review);
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

function renderGroup(group) {
  const id = `group-${group.sha256}`;
  const article = element('article', { className: 'group', attrs: { 'aria-labelledby': `${id}-title` } });
  article.dataset.sha256 = group.sha256;
  article.append(
    element('h3', { attrs: { id: `${id}-title` } }, [element('code', { text: group.sha256 })]),
    element('p', {
      className: 'meta',
      text: `${group.holders.length} holders, ${formatBytes(group.size)} each; one shared copy saves ${formatBytes(group.bytes_saved)}.`,
    }),
  );
  const body = element('tbody');
  for (const holder of group.holders) {
    const name = holder.original_filename || '(no filename)';
    const keep = element('button', {
      text: `Keep asset ${holder.asset_id}`,
      className: 'keep',
      attrs: { type: 'button', 'aria-label': `Keep asset ${holder.asset_id} (${holder.user_name}, ${name})` },
    });
    keep.dataset.assetId = String(holder.asset_id);
    keep.addEventListener('click', reporting(() => decide(article, group, { decision: 'keep', asset_id: holder.asset_id })));
    const row = element('tr', {}, [
      element('td', { text: String(holder.asset_id), attrs: { 'data-label': 'Asset' } }),
      element('td', { text: holder.user_name, attrs: { 'data-label': 'User' } }),
      element('td', { text: name, attrs: { 'data-label': 'Filename' } }),
      element('td', { attrs: { 'data-label': 'Uploaded' } }, [timeElement(holder.created_at)]),
      element('td', { attrs: { 'data-label': 'Decision' } }, [keep]),
    ]);
    row.dataset.assetId = String(holder.asset_id);
    body.append(row);
  }
  const head = element('thead', {}, [element('tr', {}, ['Asset', 'User', 'Filename', 'Uploaded', 'Decision']
    .map((label) => element('th', { text: label, attrs: { scope: 'col' } })))]);
  article.append(element('div', { className: 'table-wrap' }, [element('table', {}, [head, body])]));
  const noteId = `${id}-note`;
  const ignore = element('button', { text: 'Ignore group', className: 'ignore', attrs: { type: 'button' } });
  ignore.addEventListener('click', reporting(() => decide(article, group, { decision: 'ignore' })));
  article.append(
    element('div', { className: 'row' }, [
      element('label', { text: 'Note (optional)', attrs: { for: noteId } }),
      element('input', { className: 'note', attrs: { id: noteId, type: 'text', maxlength: '1000', autocomplete: 'off' } }),
      ignore,
    ]),
    element('p', { className: 'decision', attrs: { 'aria-live': 'polite' } }),
  );
  showDecision(article, group.review);
  return article;
}

async function loadGroups({ reset }) {
  const page = await state.api.duplicateGroups({ limit: PAGE_SIZE, after: reset ? '' : state.nextAfter });
  if (reset) {
    $('groups').replaceChildren();
    state.shown = 0;
  }
  for (const group of page.groups) $('groups').append(renderGroup(group));
  state.shown += page.groups.length;
  state.nextAfter = page.next_after;
  $('more').hidden = !page.next_after;
  $('groups-summary').textContent = state.shown
    ? `${state.shown} group${state.shown === 1 ? '' : 's'} shown${page.next_after ? '; more to load' : ''}.`
    : 'No duplicate groups: no content is held by more than one user.';
}

// ---- sign-in ----------------------------------------------------------------------------------

async function signIn(token, { focus = true } = {}) {
  showError('');
  state.api = new ApiClient(token);
  try {
    await loadGroups({ reset: true });
  } catch (error) {
    state.api = null;
    showError(explain(error));
    return false;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $('sign-in-form').hidden = true;
  $('signed-in').hidden = false;
  $('review').hidden = false;
  if (focus) $('groups-heading').focus();
  return true;
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.api = null;
  $('groups').replaceChildren();
  $('groups-summary').textContent = '';
  $('review').hidden = true;
  $('token').value = '';
  $('sign-in-form').hidden = false;
  $('signed-in').hidden = true;
  showError('');
  $('token').focus();
}

async function main() {
  window.addEventListener('unhandledrejection', (event) => showError(explain(event.reason)));
  wireSignInForm(signIn, reporting);
  $('sign-out').addEventListener('click', signOut);
  $('reload').addEventListener('click', reporting(() => loadGroups({ reset: true })));
  $('more').addEventListener('click', reporting(() => loadGroups({ reset: false })));
  try {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) await signIn(token, { focus: false });
  } finally {
    document.body.dataset.ready = 'true'; // tests wait for this
  }
}

main().catch((error) => showError(explain(error)));

// "My duplicates": the signed-in user's near-duplicate groups, 20 at a time (keyset pages, "Load
// more"), each side by side with a server-made thumbnail, size, resolution and upload date.
// "Keep this one" moves the group's others to the trash; "Move to trash" one file. "Resolve all"
// previews what a rule would trash, and the confirmation sends that list back: the server trashes
// exactly it, or nothing when the groups changed since (409 plan_changed). Focus after an action
// goes to the next group's first button, else to the list's heading: never to the page body.
import { ApiClient, ApiError, providerIds } from './api.js';
import {
  explain, formatBytes, formatResolution, showError, thumbnailBox, timeElement, forgetToken, storedToken, storeToken, wireSignInForm,
} from './common.js';

const PAGE_SIZE = 20;
/** Groups a preview names one by one; the rest are counted. */
const PLAN_LINES = 50;
const $ = (id) => document.getElementById(id);

const state = { api: null, nextAfter: null, shown: 0, generation: 0, plan: null };

function reporting(handler) {
  return (...args) => Promise.resolve().then(() => handler(...args)).catch((error) => {
    console.error(error);
    if (error instanceof ApiError && error.status === 401 && state.api) signOut({ keepMessage: true });
    showError(explain(error));
  });
}

function announce(message) {
  $('status').textContent = message;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function nameOf(asset) {
  return asset.original_filename || `asset ${asset.asset_id}`;
}

function element(tag, { text, className, attrs = {} } = {}, children = []) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

// ---- groups -----------------------------------------------------------------------------------

function fact(label, content, className) {
  return [element('dt', { text: label }), element('dd', { className }, [content])];
}

function renderMember(article, asset) {
  const name = nameOf(asset);
  const li = element('li', { className: 'member' });
  li.dataset.assetId = String(asset.asset_id);
  li.dataset.name = name;
  li.dataset.size = String(asset.size);
  const resolution = element('dd', { className: 'resolution', text: '' });
  const providers = providerIds(asset.uploaded_to_providers);
  const facts = element('dl', { className: 'facts' }, [
    ...fact('File name', name, 'file-name'),
    ...fact('Size', formatBytes(asset.size), 'size'),
    element('dt', { text: 'Resolution' }), resolution,
    ...fact('Uploaded', timeElement(asset.created_at), 'when'),
    ...fact('Providers', providers.length ? `on ${providers.join(', ')}` : 'on no provider yet', 'providers'),
  ]);
  const box = thumbnailBox(state.api, asset, {
    onSize: (width, height) => {
      resolution.textContent = formatResolution(width, height);
      li.dataset.resolution = `${width}x${height}`;
    },
  });
  const keep = button('Keep this one', 'keep', name, () => keepOne(article, li));
  const trash = button('Move to trash', 'trash', name, () => trashOne(article, li));
  li.append(box, facts, element('div', { className: 'row' }, [keep, trash]));
  return li;
}

function button(text, className, name, onClick) {
  const node = element('button', { text, className, attrs: { type: 'button', 'aria-label': `${text}: ${name}` } });
  node.addEventListener('click', reporting(() => act(node, onClick)));
  return node;
}

/** One action at a time per group; buttons are aria-disabled, not disabled (focus stays). */
async function act(node, work) {
  const article = node.closest('article');
  if (article.dataset.busy) return;
  if (node.getAttribute('aria-disabled') === 'true') return;
  article.dataset.busy = 'true';
  const buttons = [...article.querySelectorAll('button')];
  for (const b of buttons) b.setAttribute('aria-disabled', 'true');
  showError('');
  try {
    await work();
  } finally {
    delete article.dataset.busy;
    for (const b of buttons) if (b.isConnected) b.removeAttribute('aria-disabled');
  }
}

function groupTitle(assets) {
  const names = assets.slice(0, 3).map(nameOf);
  const more = assets.length > 3 ? ` and ${assets.length - 3} more` : '';
  return `${assets.length} similar files: ${names.join(', ')}${more}`;
}

function renderGroup(group) {
  const id = `group-${group.anchor_asset_id}`;
  const article = element('article', { className: 'group', attrs: { 'aria-labelledby': `${id}-title` } });
  article.dataset.anchor = String(group.anchor_asset_id);
  const members = element('ul', { className: 'members' });
  article.append(
    element('h3', { text: groupTitle(group.assets), attrs: { id: `${id}-title` } }),
    element('p', { className: 'meta', text: `${formatBytes(group.assets.reduce((sum, a) => sum + a.size, 0))} in all.` }),
    members,
    element('p', { className: 'outcome', attrs: { 'aria-live': 'polite' } }),
  );
  for (const asset of group.assets) members.append(renderMember(article, asset));
  return article;
}

function liveMembers(article) {
  return [...article.querySelectorAll('li.member:not(.trashed)')];
}

/** Trashes one member; a 404 means it is gone already (trashed elsewhere): the same outcome. */
async function trashMember(li) {
  try {
    await state.api.trashAsset(li.dataset.assetId);
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  li.classList.add('trashed');
  for (const b of li.querySelectorAll('button')) b.remove();
}

/** A group with one live member left is resolved: its buttons go, and focus moves on. */
function finishGroup(article, message) {
  article.querySelector('.outcome').textContent = message;
  article.dataset.resolved = 'true';
  for (const b of article.querySelectorAll('button')) b.remove();
  focusAfter(article);
}

function focusAfter(article) {
  let next = article.nextElementSibling;
  while (next && next.dataset.resolved) next = next.nextElementSibling;
  const target = next && next.querySelector('button.keep');
  (target || $('groups-heading')).focus();
}

async function keepOne(article, kept) {
  const others = liveMembers(article).filter((li) => li !== kept);
  for (const li of others) await trashMember(li);
  kept.classList.add('kept');
  const message = `Kept "${kept.dataset.name}"; moved ${plural(others.length, 'file')} to the trash (restore on My assets → Trash).`;
  announce(message);
  finishGroup(article, message);
}

async function trashOne(article, li) {
  const name = li.dataset.name;
  const buttons = [...article.querySelectorAll('li.member:not(.trashed) button.trash')];
  const index = buttons.indexOf(li.querySelector('button.trash'));
  await trashMember(li);
  announce(`Moved "${name}" to the trash.`);
  const left = liveMembers(article);
  if (left.length < 2) {
    finishGroup(article, `Moved "${name}" to the trash; ${left.length ? `"${left[0].dataset.name}" has no similar file left` : 'nothing left'}.`);
    return;
  }
  // Focus to the same button of the next member still there (or the one before).
  const rest = [...article.querySelectorAll('li.member:not(.trashed) button.trash')];
  rest[Math.min(index, rest.length - 1)].focus();
}

// ---- paging -----------------------------------------------------------------------------------

function updateSummary() {
  const more = state.nextAfter !== null;
  $('groups-summary').textContent = state.shown === 0 && !more
    ? 'No similar files: nothing to review.'
    : `${plural(state.shown, 'group')} shown${more ? '; more to load' : ''}.`;
  $('more').hidden = !more;
}

async function loadGroups({ reset }) {
  const generation = reset ? ++state.generation : state.generation;
  const page = await state.api.nearDuplicates({ limit: PAGE_SIZE, after: reset ? null : state.nextAfter });
  if (generation !== state.generation) return [];
  if (reset) {
    $('groups').replaceChildren();
    state.shown = 0;
  }
  const added = (page.groups || []).map(renderGroup);
  $('groups').append(...added);
  state.shown += added.length;
  state.nextAfter = page.next_after ?? null;
  updateSummary();
  return added;
}

/** "Load more": focus to the first new group's first button, else the heading. */
async function loadMore() {
  const more = $('more');
  if (more.dataset.busy) return;
  more.dataset.busy = 'true';
  try {
    const added = await loadGroups({ reset: false });
    const first = added[0] && added[0].querySelector('button.keep');
    if (first) first.focus();
    else if (more.hidden) $('groups-heading').focus();
  } finally {
    delete more.dataset.busy;
  }
}

// ---- resolve all ------------------------------------------------------------------------------

/** Names for the ids a plan lists: those of groups shown, else "asset N". */
function knownNames() {
  const names = new Map();
  for (const li of document.querySelectorAll('li.member')) names.set(Number(li.dataset.assetId), li.dataset.name);
  return (id) => names.get(id) || `asset ${id}`;
}

async function preview() {
  const rule = $('rule').value;
  const answer = await state.api.resolveNearDuplicates(rule, { dryRun: true });
  const trash = answer.groups.flatMap((g) => g.trash);
  state.plan = { rule, trash };
  const name = knownNames();
  const ruleText = $('rule').selectedOptions[0].textContent;
  $('plan-summary').textContent = answer.groups.length
    ? `Keeping ${ruleText} in ${plural(answer.groups.length, 'group')} moves ${plural(trash.length, 'file')} to the trash:`
    : 'No similar groups: nothing would be trashed.';
  $('plan-list').replaceChildren(...answer.groups.slice(0, PLAN_LINES).map((g) => element('li', {
    text: `keep ${name(g.keep)}; trash ${g.trash.map(name).join(', ')}`,
  })));
  if (answer.groups.length > PLAN_LINES) {
    $('plan-list').append(element('li', { text: `… and ${plural(answer.groups.length - PLAN_LINES, 'more group')}` }));
  }
  $('plan-list').dataset.trash = trash.join(' ');
  $('apply').hidden = trash.length === 0;
  $('apply').textContent = `Move ${plural(trash.length, 'file')} to the trash`;
  $('plan').hidden = false;
  $('plan').focus();
}

function closePlan() {
  state.plan = null;
  $('plan').hidden = true;
  $('plan-list').replaceChildren();
  $('preview').focus();
}

async function apply() {
  if (!state.plan) return;
  const { rule, trash } = state.plan;
  $('apply').setAttribute('aria-disabled', 'true');
  try {
    const answer = await state.api.resolveNearDuplicates(rule, { expectTrash: trash });
    closePlan();
    announce(`Moved ${plural(answer.trashed, 'file')} to the trash (restore on My assets → Trash).`);
    await loadGroups({ reset: true });
    $('groups-heading').focus();
  } catch (error) {
    if (error.code === 'plan_changed') {
      await preview(); // the new plan, to confirm again
      throw new ApiError(409, error.code, 'Your groups changed since the preview, so nothing was trashed. Here is the new preview.');
    }
    throw error;
  } finally {
    $('apply').removeAttribute('aria-disabled');
  }
}

// ---- sign-in ----------------------------------------------------------------------------------

async function signIn(token, { focus = true } = {}) {
  showError('');
  const api = new ApiClient(token);
  try {
    await api.providers(); // checks the token
  } catch (error) {
    showError(explain(error));
    return false;
  }
  storeToken(token);
  state.api = api;
  $('sign-in-form').hidden = true;
  $('signed-in').hidden = false;
  $('views').hidden = false;
  await loadGroups({ reset: true });
  if (focus) $('groups-heading').focus();
  return true;
}

function signOut({ keepMessage = false } = {}) {
  forgetToken();
  state.api = null;
  state.generation += 1;
  state.nextAfter = null;
  state.shown = 0;
  state.plan = null;
  $('groups').replaceChildren();
  $('plan').hidden = true;
  $('views').hidden = true;
  $('token').value = '';
  $('sign-in-form').hidden = false;
  $('signed-in').hidden = true;
  announce('');
  if (!keepMessage) showError('');
  $('token').focus();
}

async function main() {
  window.addEventListener('unhandledrejection', (event) => showError(explain(event.reason)));
  wireSignInForm(signIn, reporting);
  $('sign-out').addEventListener('click', () => signOut());
  $('more').addEventListener('click', reporting(loadMore));
  $('resolve-form').addEventListener('submit', reporting((event) => {
    event.preventDefault();
    return preview();
  }));
  $('apply').addEventListener('click', reporting(() => ($('apply').getAttribute('aria-disabled') ? undefined : apply())));
  $('cancel-plan').addEventListener('click', closePlan);
  try {
    const token = storedToken();
    if (token) await reporting(() => signIn(token, { focus: false }))();
  } finally {
    document.body.dataset.ready = 'true'; // tests wait for this
  }
}

main().catch((error) => showError(explain(error)));

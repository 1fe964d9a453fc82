// Search: the form in the top bar (words anywhere; sender, recipient,
// subject, body, a date range and the folder under "More"), and the hits in
// the list pane, opened like the list's messages. A search is a route,
// #/search/PARAMS[/FOLDER/UID], PARAMS the form's fields as a query string
// (dates as the reader's own days, YYYY-MM-DD, both inclusive), so a
// reload or the language switch shows the same hits. The server's search
// index finds Japanese words (trigrams; shorter words too).
import { api, seg } from './api.js';
import { h, fill } from '../../src/dom.js';
import { formatBytes, formatDate, t } from './i18n.js';
import { state, folderByName } from './state.js';
import { folderLabel } from './folders.js';
import { keepRows, place } from './redraw.js';

const TEXT = ['q', 'from', 'to', 'subject', 'body'];
const DAY = /^\d{4}-\d{2}-\d{2}$/;
export const PAGE = 50;

// The route's PARAMS from the form's values (empty ones left out).
export function searchHash(values, offset) {
  const p = new URLSearchParams();
  for (const k of [...TEXT, 'after', 'until', 'folder']) {
    const v = (values[k] || '').trim();
    if (v) p.set(k, v);
  }
  if (offset) p.set('offset', String(offset));
  return '#/search/' + encodeURIComponent(p.toString());
}

export function parseSearch(encoded) {
  const p = new URLSearchParams(decodeURIComponent(encoded));
  const v = {};
  for (const k of [...TEXT, 'after', 'until', 'folder']) v[k] = p.get(k) || '';
  v.offset = Math.max(0, Number(p.get('offset')) || 0);
  return v;
}

// A day of the reader's calendar (YYYY-MM-DD) as the instant it begins,
// ISO 8601 (the API's since/before); plus days.
function dayStart(day, plus) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d + plus).toISOString();
}

export function hasTerms(v) {
  return TEXT.some((k) => v[k].trim()) || DAY.test(v.after) || DAY.test(v.until);
}

// Runs the search of the route's values into state.search.
export async function loadSearch() {
  const s = state.search;	// a newer search may start meanwhile: the answer is this one's
  const v = s.values;
  const p = new URLSearchParams();
  for (const k of TEXT) if (v[k].trim()) p.set(k, v[k].trim());
  if (DAY.test(v.after)) p.set('since', dayStart(v.after, 0));
  if (DAY.test(v.until)) p.set('before', dayStart(v.until, 1));
  if (v.folder) p.set('folder', v.folder);
  p.set('offset', String(v.offset));
  p.set('limit', String(PAGE));
  s.result = await api('GET', '/mail/search?' + p.toString());
  if (state.search === s && state.cursor >= s.result.hits.length) state.cursor = s.result.hits.length - 1;
  return s.result;
}

// The form in the top bar; go(values) starts a search.
export function searchForm(go) {
  const v = state.search ? state.search.values : { folder: '' };
  const field = (name, label, type) => {
    const id = 'search-' + name;
    return h('span', { class: 'search-field' }, h('label', { for: id }, label),
      h('input', { id, name, type: type || 'text', value: v[name] || '' }));
  };
  const scope = h('select', { id: 'search-folder', name: 'folder', 'aria-label': t('search.scope') },
    h('option', { value: '', selected: !v.folder }, t('search.all_folders')),
    state.folders.map((f) => h('option', { value: f.name, selected: v.folder === f.name }, folderLabel(f))));
  const more = h('details', { class: 'search-more', id: 'search-more',
    open: Boolean(state.search && (v.from || v.to || v.subject || v.body || v.after || v.until)) },
  h('summary', {}, t('search.more')),
  h('div', { class: 'search-grid' },
    field('from', t('search.from')), field('to', t('search.to')),
    field('subject', t('search.subject')), field('body', t('search.body')),
    field('after', t('search.after'), 'date'), field('until', t('search.until'), 'date')));
  const form = h('form', { class: 'search', id: 'search-form', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    const values = {};
    for (const k of [...TEXT, 'after', 'until', 'folder']) values[k] = form.elements[k].value;
    if (!hasTerms(values)) {
      form.elements.q.focus();
      return;
    }
    more.open = false;
    go(values);
  } },
  h('input', { id: 'search-q', name: 'q', type: 'search', value: v.q || '', placeholder: t('search.placeholder'),
    'aria-label': t('search.label'), enterkeyhint: 'search', autocomplete: 'off' }),
  scope,
  h('button', { type: 'submit', id: 'search-submit' }, t('search.submit')),
  more);
  return form;
}

// The sender as the list names it: the display name, else the address
// (hits carry the From header's decoded text: "Name <addr>", "addr
// (Name)" or a bare address).
function senderName(from) {
  const s = (from || '').trim();
  let m = /^(.*?)\s*<([^<>]*)>$/.exec(s);
  if (m) {
    const name = m[1].trim().replace(/^"(.*)"$/, '$1').replace(/\\(.)/g, '$1').trim();
    return name || m[2].trim() || s;
  }
  m = /^([^\s()]+@[^\s()]+)\s*\((.*)\)$/.exec(s);
  if (m) return m[2].trim() || m[1];
  return s;
}

function hitRow(hit, i, actions) {
  const seen = hit.flags.includes('\\Seen');
  const flagged = hit.flags.includes('\\Flagged');
  const f = folderByName(hit.folder);
  const classes = ['msg', 'hit'];
  if (!seen) classes.push('unread');
  if (flagged) classes.push('flagged');
  if (state.open === hit.uid && state.folder === hit.folder) classes.push('open');
  if (state.cursor === i) classes.push('cursor');
  return h('li', { class: classes.join(' '), 'data-uid': String(hit.uid), 'data-folder': hit.folder, tabindex: '-1',
    onclick: () => actions.openHit(hit) },
  h('span', { class: 'star' }, flagged ? '★' : ''),
  h('span', { class: 'from', title: hit.from }, senderName(hit.from)),
  h('span', { class: 'subject' }, hit.subject || t('read.no_subject')),
  h('span', { class: 'hit-folder' }, f ? folderLabel(f) : hit.folder),
  h('span', { class: 'date' }, formatDate(hit.date)),
  h('span', { class: 'size' }, formatBytes(hit.size)),
  hit.snippet ? h('span', { class: 'snippet' }, hit.snippet) : null);
}

// The hits in the list pane.
export function renderSearch(el, actions) {
  const { values, result } = state.search;
  if (!result) {
    fill(el, h('p', { class: 'empty' }, t('search.running')));
    return;
  }
  const from = result.total === 0 ? 0 : result.offset + 1;
  const to = result.offset + result.hits.length;
  const where = values.folder ? folderLabel(folderByName(values.folder) || { name: values.folder })
    : t('search.all_folders');
  place(el,
    h('div', { class: 'list-head' },
      h('h2', { class: 'folder-title', id: 'search-title' }, t('search.title')),
      h('span', { class: 'search-where' }, where),
      h('button', { type: 'button', id: 'search-close', class: 'link', onclick: () => actions.closeSearch() },
        t('search.close'))),
    result.partial ? h('p', { class: 'search-partial', id: 'search-partial' }, t('search.partial')) : null,
    result.hits.length === 0 ? h('p', { class: 'empty', id: 'search-none' }, t('search.none'))
      : keepRows(el.querySelector('#search-results'), () => h('ul', { class: 'messages', id: 'search-results' }),
        result.hits.map((x, i) => hitRow(x, i, actions))),
    h('div', { class: 'pager' },
      h('button', { type: 'button', id: 'search-prev', disabled: result.offset === 0,
        onclick: () => actions.searchPage(Math.max(0, result.offset - PAGE)) }, t('search.prev')),
      h('span', { class: 'range', id: 'search-range', 'data-search': state.search.params, 'data-total': String(result.total) },
        t('list.range', { from, to, total: result.total })),
      h('button', { type: 'button', id: 'search-next', disabled: to >= result.total,
        onclick: () => actions.searchPage(result.offset + PAGE) }, t('search.next'))));
}

// The route #/search/PARAMS[/FOLDER/UID], or null.
export function searchRoute(hash) {
  const m = /^#\/search\/([^/]*)(?:\/([^/]+)\/(\d+))?$/.exec(hash);
  if (!m) return null;
  return { params: m[1], folder: m[2] ? decodeURIComponent(m[2]) : null, uid: m[3] ? Number(m[3]) : null };
}

export function hitHash(params, hit) {
  return `#/search/${params}/${seg(hit.folder)}/${hit.uid}`;
}

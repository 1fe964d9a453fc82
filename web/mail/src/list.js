// The message list: a page of the folder with unread and flagged marks,
// boxes to select many, sort and paging; and the actions on the selected
// messages (or the one open): delete, move, copy, read/unread, flag, spam.
import { api, seg } from './api.js';
import { h } from '../../src/dom.js';
import { formatBytes, formatDate, t } from './i18n.js';
import { state, roleOf, dropped } from './state.js';
import { folderLabel } from './folders.js';
import { keepRows, place } from './redraw.js';

// Only the newest request's answer is taken: an older one (another folder,
// page or order, or a reload overtaken by the next) coming last would show
// what is no longer asked for. null for an answer dropped.
let asked = 0;

export async function loadList() {
  const mine = ++asked;
  const folder = state.folder;
  const q = `offset=${state.offset}&limit=${state.limit}&sort=${state.sort}&order=${state.order}`;
  const list = await api('GET', `/mail/folders/${seg(folder)}/messages?${q}`);
  if (mine !== asked) {
    dropped('list');
    return null;
  }
  state.list = { ...list, folder };
  state.quota = state.list.quota;
  const uids = new Set(state.list.messages.map((m) => m.uid));
  for (const u of [...state.selected]) if (!uids.has(u)) state.selected.delete(u);
  if (state.cursor >= state.list.messages.length) state.cursor = state.list.messages.length - 1;
  return state.list;
}

// The UIDs an action applies to: the ticked ones, else the open one, else
// the one under the keyboard.
export function targets() {
  if (state.search) return state.open !== null ? [state.open] : [];	// hits: the open one, in its folder
  if (state.selected.size > 0) return [...state.selected];
  if (state.open !== null) return [state.open];
  const m = state.list && state.list.messages[state.cursor];
  return m ? [m.uid] : [];
}

function row(m, i, actions) {
  const checked = state.selected.has(m.uid);
  const box = h('input', {
    type: 'checkbox', class: 'pick', checked, 'aria-label': t('list.select'),
    onclick: (e) => {
      e.stopPropagation();
      if (e.target.checked) state.selected.add(m.uid);
      else state.selected.delete(m.uid);
      actions.changed();
    },
  });
  // in Sent and Drafts the reader looks for whom it went to
  const role = roleOf(state.folder);
  const to = m.to && (m.to.name || m.to.address);
  const from = (role === 'sent' || role === 'drafts') && to ? t('list.to', { who: to }) : m.from.name || m.from.address;
  const classes = ['msg'];
  if (!m.flags.seen) classes.push('unread');
  if (m.flags.flagged) classes.push('flagged');
  if (state.open === m.uid) classes.push('open');
  if (state.cursor === i) classes.push('cursor');
  return h('li', {
    class: classes.join(' '), 'data-uid': String(m.uid), tabindex: '-1',
    onclick: () => actions.open(m.uid),
  }, box,
  h('span', { class: 'star', 'aria-label': m.flags.flagged ? t('act.unflag') : t('act.flag'),
    title: m.flags.flagged ? t('act.unflag') : t('act.flag'),
    onclick: (e) => { e.stopPropagation(); actions.flag([m.uid], !m.flags.flagged); } }, m.flags.flagged ? '★' : '☆'),
  h('span', { class: 'from' }, from),
  h('span', { class: 'subject' }, m.subject || t('read.no_subject')),
  m.attachment ? h('span', { class: 'clip', title: t('read.attachments') }, t('list.attachment')) : null,
  h('span', { class: 'date' }, formatDate(m.date)),
  h('span', { class: 'size' }, formatBytes(m.size)));
}

function sortControls(actions) {
  const sort = h('select', { id: 'sort', 'aria-label': t('sort'),
    onchange: (e) => { state.sort = e.target.value; state.offset = 0; actions.reload(); } },
  ['date', 'from', 'subject', 'size'].map((s) => h('option', { value: s, selected: state.sort === s }, t('sort.' + s))));
  const order = h('select', { id: 'order', 'aria-label': t('sort'),
    onchange: (e) => { state.order = e.target.value; state.offset = 0; actions.reload(); } },
  ['desc', 'asc'].map((s) => h('option', { value: s, selected: state.order === s }, t('order.' + s))));
  return h('span', { class: 'sorting' }, sort, order);
}

function moveSelect(actions, copy) {
  const others = state.folders.filter((f) => f.name !== state.folder);
  return h('select', { class: copy ? 'copy-to' : 'move-to', 'aria-label': copy ? t('act.copy') : t('act.move'),
    onchange: (e) => { const to = e.target.value; e.target.value = ''; if (to) actions.move(to, copy); } },
  h('option', { value: '' }, copy ? t('act.copy') : t('act.move')),
  others.map((f) => h('option', { value: f.name }, folderLabel(f))));
}

// The toolbar of the list (and of the reading pane).
export function toolbar(actions) {
  const role = roleOf(state.folder);
  // classes, not ids: the list and the reading pane each have a toolbar
  const b = (name, label, fn, cls) => h('button', { type: 'button', class: name + (cls ? ' ' + cls : ''), onclick: fn },
    label);
  return [
    b('act-delete', role === 'trash' ? t('act.delete_forever') : t('act.delete'), () => actions.remove(), 'danger'),
    b('act-read', t('act.read'), () => actions.seen(targets(), true)),
    b('act-unread', t('act.unread'), () => actions.seen(targets(), false)),
    b('act-flag', t('act.flag'), () => actions.flag(targets(), true)),
    role === 'junk' ? b('act-not-spam', t('act.not_spam'), () => actions.spam(false))
      : b('act-spam', t('act.spam'), () => actions.spam(true)),
    moveSelect(actions, false),
    moveSelect(actions, true),
  ];
}

export function renderList(el, actions) {
  const l = state.list;
  const role = roleOf(state.folder);
  const all = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': t('list.select_all'),
    checked: l.messages.length > 0 && l.messages.every((m) => state.selected.has(m.uid)),
    onclick: (e) => {
      for (const m of l.messages) {
        if (e.target.checked) state.selected.add(m.uid);
        else state.selected.delete(m.uid);
      }
      actions.changed();
    } });
  const from = l.total === 0 ? 0 : l.offset + 1;
  const to = l.offset + l.messages.length;
  const empty = role === 'trash' || role === 'junk'
    ? h('button', { type: 'button', id: 'empty-folder', class: 'danger', disabled: l.total === 0,
      onclick: () => actions.empty() }, role === 'trash' ? t('act.empty_trash') : t('act.empty_junk')) : null;
  // the rows that look the same stay (redraw.js: a click on one is not lost)
  place(el,
    h('div', { class: 'list-head' },
      h('h2', { class: 'folder-title' }, folderLabel({ role, name: state.folder })),
      sortControls(actions),
      h('button', { type: 'button', id: 'refresh', class: 'link', onclick: () => actions.reload() }, t('act.refresh'))),
    h('div', { class: 'toolbar' }, all, toolbar(actions), empty),
    l.messages.length === 0 ? h('p', { class: 'empty' }, t('list.empty'))
      : keepRows(el.querySelector('#messages'), () => h('ul', { class: 'messages', id: 'messages' }),
        l.messages.map((m, i) => row(m, i, actions))),
    h('div', { class: 'pager' },
      h('button', { type: 'button', id: 'prev-page', disabled: l.offset === 0,
        onclick: () => { state.offset = Math.max(0, l.offset - state.limit); actions.reload(); } }, t('list.prev')),
      h('span', { class: 'range' }, t('list.range', { from, to, total: l.total })),
      h('button', { type: 'button', id: 'next-page', disabled: to >= l.total,
        onclick: () => { state.offset = l.offset + state.limit; actions.reload(); } }, t('list.next'))));
}

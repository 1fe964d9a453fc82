// The webmail (/mail/): log in with the full address, folders, the message
// list and the reading pane, on /api/v1/mail. Routes on the location hash:
// #/f/FOLDER, #/f/FOLDER/UID, #/compose (new), #/compose/MODE/FOLDER/UID
// (reply, reply_all, forward_inline, forward_attachment), #/compose/to/ADDR,
// #/draft/UID (a draft continued), #/contacts (the address book) and
// #/search/PARAMS[/FOLDER/UID] (search.js: the hits, one opened). New
// mail appears through the server-sent events of /api/v1/mail/events. On
// a phone one pane shows at a time.
import { api, setCsrf, seg } from './api.js';
import { h, fill } from '../../src/dom.js';
import { formatBytes, lang, setLang, t } from './i18n.js';
import { state, roleOf, dropped } from './state.js';
import { loadFolders, renderFolders, folderLabel } from './folders.js';
import { loadList, renderList, targets, toolbar } from './list.js';
import { renderMessage } from './reader.js';
import { openCompose, leaveCompose, dropCompose, composing } from './compose.js';
import { renderContacts } from './contacts.js';
import { searchForm, loadSearch, renderSearch, parseSearch, searchHash, searchRoute, hitHash } from './search.js';

const app = document.getElementById('app');
const status = document.getElementById('status');
const ui = {};
let events = null;
let refreshTimer = null;

// Tests (and only tests: localStorage yubin.test = 1) get a counter that
// any script escaping the mail iframe would bump through postMessage, and
// ones of the list's redraws and of late answers dropped (a message or a
// list asked for again meanwhile).
try {
  if (window.localStorage.getItem('yubin.test') === '1') {
    window.__yubinTest = { xss: 0, messages: [], draws: 0, dropped: { message: 0, list: 0 } };
    window.addEventListener('message', (e) => {
      window.__yubinTest.xss += 1;
      window.__yubinTest.messages.push(String(e.data).slice(0, 200));
    });
  }
} catch (e) {
  // no storage: no test hook
}

function notify(text, error) {
  status.className = 'status' + (error ? ' error' : ' ok');
  status.textContent = text;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { status.textContent = ''; }, 6000);
}

// ---- login

async function showLogin(message) {
  dropCompose();
  clearTimeout(refreshTimer);
  // the next login (maybe someone else's) starts at the Inbox
  if (composeSpec(window.location.hash)) window.history.replaceState(null, '', '#/f/INBOX');
  if (events) events.close();
  events = null;
  document.title = t('app.title');
  const address = h('input', { id: 'login-address', type: 'email', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const err = h('p', { class: 'error', id: 'login-error', role: 'alert' }, message || '');
  const form = h('form', { class: 'login', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const r = await api('POST', '/session', { kind: 'user', address: address.value.trim(), password: password.value });
      setCsrf(r.csrf);
      password.value = '';
      await start();
    } catch (x) {
      err.textContent = x.code === 'network' ? t('error.network') : x.message;
    }
  } },
  h('h1', {}, t('app.title')),
  h('h2', {}, t('login.title')),
  h('label', { for: 'login-address' }, t('login.address')), address,
  h('label', { for: 'login-password' }, t('login.password')), password,
  err,
  h('button', { type: 'submit', id: 'login-submit' }, t('login.submit')),
  langButton());
  fill(app, h('main', { class: 'login-page' }, form));
  address.focus();
}

function langButton() {
  return h('button', { type: 'button', class: 'link lang', id: 'lang',
    onclick: () => {
      setLang(lang() === 'ja' ? 'en' : 'ja');
      if (!state.address) {
        showLogin();
        return;
      }
      layout();
      state.list = null;	// route() draws everything again in the new language
      route();
    } },
  t('lang.switch'));
}

// ---- layout

function quotaBar() {
  const q = state.quota;
  if (!q) return null;
  const pct = q.limit > 0 ? Math.min(100, Math.round((q.used * 100) / q.limit)) : 0;
  const text = q.limit > 0 ? t('quota.used', { used: formatBytes(q.used), limit: formatBytes(q.limit) })
    : t('quota.unlimited', { used: formatBytes(q.used) });
  const full = q.limit > 0 && q.used * 10 > q.limit * 9;
  return h('div', { class: 'quota' + (full ? ' full' : ''), id: 'quota', 'data-used': String(q.used) },
    h('meter', { min: 0, max: 100, low: 80, high: 90, optimum: 0, value: pct, 'aria-label': text }),
    h('span', { class: 'quota-text' }, text),
    full ? h('p', { class: 'quota-full', role: 'alert', id: 'quota-full' }, t('quota.full', { pct }), ' ',
      h('a', { href: '#/f/' + seg(trashName()) }, t('quota.open_trash'))) : null);
}

function trashName() {
  const f = state.folders.find((x) => x.role === 'trash');
  return f ? f.name : 'Trash';
}

function layout() {
  ui.folders = h('nav', { class: 'sidebar', id: 'folders' });
  ui.list = h('section', { class: 'list', id: 'list', 'aria-label': t('folders') });
  ui.reader = h('section', { class: 'reader', id: 'reader' }, h('p', { class: 'empty' }, t('read.none')));
  ui.quota = h('div', { class: 'quota-slot' });
  const top = h('header', { class: 'top' },
    h('button', { type: 'button', class: 'menu', id: 'menu', onclick: () => setView(state.view === 'folders' ? 'list' : 'folders') }, '☰ ', t('act.menu')),
    h('span', { class: 'brand' }, t('app.title')),
    ui.search = searchForm(goSearch),
    h('a', { href: '#/compose', class: 'button primary', id: 'compose' }, t('compose')),
    h('a', { href: '#/contacts', class: 'button', id: 'nav-contacts' }, t('contacts.title')),
    ui.quota,
    h('span', { class: 'who' }, state.address),
    langButton(),
    h('button', { type: 'button', class: 'link', id: 'logout', onclick: logout }, t('logout')));
  fill(app, top, h('div', { class: 'panes', id: 'panes' }, ui.folders, ui.list, ui.reader),
    h('p', { class: 'keys' }, h('button', { type: 'button', class: 'link', id: 'keys-help', onclick: () => toggleHelp() },
      t('keys.help'))));
  setView(state.view);
}

function setView(v) {
  state.view = v;
  const panes = document.getElementById('panes');
  if (panes) panes.dataset.view = v;
}

function drawChrome() {
  renderFolders(ui.folders, goFolder, notify);
  fill(ui.quota, quotaBar());
  const f = state.folders.find((x) => x.name === state.folder);
  const unread = state.folders.find((x) => x.role === 'inbox');
  document.title = (unread && unread.unread > 0 ? `(${unread.unread}) ` : '') +
    (f ? folderLabel(f) : state.folder) + ' - ' + t('app.title');
}

// The list pane names the folder whose list it shows (data-folder); until
// the folder just chosen has its list, the last one stays.
function drawList() {
  if (state.search) {
    renderSearch(ui.list, actions);
    delete ui.list.dataset.folder;
  } else if (state.list && state.list.folder === state.folder) {
    renderList(ui.list, actions);
    ui.list.dataset.folder = state.folder;
  } else {
    return;
  }
  if (window.__yubinTest) window.__yubinTest.draws += 1;
}

// The list pane's messages: the folder's page, or the hits of a search.
function loadPane() {
  return state.search ? loadSearch() : loadList();
}

function shown(uid, folder) {
  if (state.search) return !state.search.result || state.search.result.hits.some((x) => x.uid === uid && x.folder === folder);
  return state.list.messages.some((m) => m.uid === uid);
}

// The form again with the route's values (after back/forward, or empty
// when the search is left).
function redrawSearchForm() {
  const f = searchForm(goSearch);
  ui.search.replaceWith(f);
  ui.search = f;
}

function goSearch(values) {
  const hash = searchHash(values, 0);
  if (window.location.hash === hash && state.search) state.search.params = null;	// the same again: run anew
  if (window.location.hash === hash) route(true);
  else window.location.hash = hash;
}

// Where the list pane is: the search's hits or the folder.
function paneHash() {
  return state.search ? '#/search/' + state.search.params : '#/f/' + seg(state.folder);
}

// ---- actions

async function run(fn) {
  try {
    await fn();
  } catch (e) {
    notify(e.code === 'network' ? t('error.network') : e.message, true);
  }
}

async function reload(keepOpen) {
  await run(async () => {
    const [, pane] = await Promise.all([loadFolders(), loadPane()]);
    drawChrome();
    if (!pane) return;	// a newer reload's answer is the one to show
    drawList();
    if (!keepOpen && state.open !== null && !shown(state.open, state.folder)) {
      state.open = null;
      fill(ui.reader, h('p', { class: 'empty' }, t('read.none')));
    }
  });
}

function afterRemoval(uids) {
  if (state.open !== null && uids.includes(state.open)) {
    state.open = null;
    fill(ui.reader, h('p', { class: 'empty' }, t('read.none')));
    if (state.view === 'read') setView('list');
    window.history.replaceState(null, '', paneHash());
  }
  state.selected.clear();
}

const actions = {
  changed: () => drawList(),
  reload: () => reload(),
  // a draft found opens in the composer, as from its folder
  openHit: (hit) => {
    window.location.hash = roleOf(hit.folder) === 'drafts' ? '#/draft/' + hit.uid : hitHash(state.search.params, hit);
  },
  searchPage: (offset) => { window.location.hash = searchHash(state.search.values, offset); },
  closeSearch: () => { window.location.hash = '#/f/' + seg(state.search.home); },
  // a draft opens in the composer to be continued
  open: (uid) => {
    window.location.hash = roleOf(state.folder) === 'drafts' ? '#/draft/' + uid : '#/f/' + seg(state.folder) + '/' + uid;
  },
  seen: (uids, on) => run(async () => {
    if (uids.length === 0) return;
    await api('PATCH', `/mail/folders/${seg(state.folder)}/messages`, { uids, seen: on });
    await reload(true);
  }),
  flag: (uids, on) => run(async () => {
    if (uids.length === 0) return;
    await api('PATCH', `/mail/folders/${seg(state.folder)}/messages`, { uids, flagged: on });
    await reload(true);
  }),
  remove: () => run(async () => {
    const uids = targets();
    if (uids.length === 0) return;
    const r = await api('POST', `/mail/folders/${seg(state.folder)}/delete`, { uids });
    afterRemoval(uids);
    notify(t('done.deleted', { n: r.deleted }) + (r.freed > 0 ? ` (${formatBytes(r.freed)})` : ''));
    await reload();
  }),
  move: (to, copy) => run(async () => {
    const uids = targets();
    if (uids.length === 0) return;
    const r = await api('POST', `/mail/folders/${seg(state.folder)}/move`, { uids, to, copy });
    if (!copy) afterRemoval(uids);
    notify(copy ? t('done.copied', { n: r.copied }) : t('done.moved', { n: r.moved }));
    await reload();
  }),
  spam: (isSpam) => run(async () => {
    const uids = targets();
    if (uids.length === 0) return;
    const r = await api('POST', `/mail/folders/${seg(state.folder)}/${isSpam ? 'spam' : 'not-spam'}`, { uids });
    afterRemoval(uids);
    notify(t(isSpam ? 'done.spam' : 'done.not_spam', { n: r.moved }));
    await reload();
  }),
  empty: () => run(async () => {
    const name = folderLabel({ role: roleOf(state.folder), name: state.folder });
    if (!window.confirm(t('act.empty.confirm', { name }))) return;
    const r = await api('POST', `/mail/folders/${seg(state.folder)}/empty`);
    afterRemoval(state.open !== null ? [state.open] : []);
    notify(t('done.emptied', { name, size: formatBytes(r.freed) }));
    await reload();
  }),
};

// Each opening of a message is numbered: an answer that comes after a
// later opening (or after another route took the reading pane) is dropped.
let opening = 0;

async function openMessage(uid) {
  const mine = ++opening;
  state.open = uid;
  const i = state.search ? (state.search.result ? state.search.result.hits : []).findIndex((x) => x.uid === uid &&
    x.folder === state.folder)
    : state.list ? state.list.messages.findIndex((m) => m.uid === uid) : -1;
  if (i >= 0) state.cursor = i;
  setView('read');
  const back = backButton();
  await run(async () => {
    const wanted = () => mine === opening && state.open === uid;
    const msg = await renderMessage(ui.reader, state.folder, uid, [back, replyTools(uid), toolbar(actions)], wanted);
    if (!msg) {
      dropped('message');
      return;
    }
    if (!msg.flags.seen) {
      await api('PATCH', `/mail/messages/${seg(state.folder)}/${uid}`, { seen: true });
      await Promise.all([loadFolders(), loadPane()]);
      drawChrome();
    }
    drawList();
  });
}

// Reply, reply all, forward (inline and as attachment) of message uid.
function replyTools(uid) {
  const go = (mode) => () => { window.location.hash = `#/compose/${mode}/${seg(state.folder)}/${uid}`; };
  const b = (id, label, mode) => h('button', { type: 'button', id, class: 'reply-tool', onclick: go(mode) }, label);
  return h('span', { class: 'reply-tools' },
    b('act-reply', t('act.reply'), 'reply'),
    b('act-reply-all', t('act.reply_all'), 'reply_all'),
    b('act-forward', t('act.forward'), 'forward_inline'),
    b('act-forward-attachment', t('act.forward_attachment'), 'forward_attachment'));
}

function backButton() {
  return h('button', { type: 'button', class: 'back', id: 'back',
    onclick: () => { window.location.hash = paneHash(); } }, '← ', t('act.back'));
}

// The composer in the reading pane; spec as openCompose takes it.
async function showCompose(spec) {
  state.open = null;
  setView('read');
  await run(() => openCompose(ui.reader, spec, {
    notify, limit: state.maxMessage, tools: [backButton()],
    onDone: () => {
      window.location.hash = '#/f/' + seg(state.folder);
      reload(true);
    },
  }));
}

function markNav(hash) {
  const nav = document.getElementById('nav-contacts');
  if (nav) nav.setAttribute('aria-current', hash === '#/contacts' ? 'page' : 'false');
}

async function showContacts() {
  state.open = null;
  setView('read');
  await run(() => renderContacts(ui.reader, [backButton()], notify));
}

// The composer's routes: #/compose, #/compose/to/ADDR,
// #/compose/MODE/FOLDER/UID, #/draft/UID; null for another hash.
function composeSpec(hash) {
  if (hash === '#/compose') return { mode: 'new' };
  let m = /^#\/compose\/to\/([^/]+)$/.exec(hash);
  if (m) return { mode: 'to', to: decodeURIComponent(m[1]) };
  m = /^#\/compose\/(reply|reply_all|forward_inline|forward_attachment)\/([^/]+)\/(\d+)$/.exec(hash);
  if (m) return { mode: m[1], folder: decodeURIComponent(m[2]), uid: Number(m[3]) };
  m = /^#\/draft\/(\d+)$/.exec(hash);
  if (m) return { mode: 'draft', uid: Number(m[1]) };
  return null;
}

async function goFolder(name) {
  window.location.hash = '#/f/' + seg(name);
  if (state.folder === name) await reload();
}

// ---- routing

// fromHash: called for a hashchange (else the page is being drawn again,
// as after the language switch: a message being written continues as
// the draft it was saved to).
async function route(fromHash) {
  if (!state.address) return;
  let hash = window.location.hash || '#/f/INBOX';
  const kept = composing() ? await leaveCompose() : null;
  if (kept && !fromHash) {
    hash = '#/draft/' + kept;
    window.history.replaceState(null, '', hash);
  }
  const spec = composeSpec(hash);
  markNav(hash);
  if (spec || hash === '#/contacts') {
    if (!state.list) await reload();
    if (spec) await showCompose(spec);
    else await showContacts();
    return;
  }
  // back from the composer or the address book: the reading pane empties
  if (ui.reader.querySelector('#compose-view, #address-book')) {
    fill(ui.reader, h('p', { class: 'empty' }, t('read.none')));
  }
  const sr = searchRoute(hash);
  if (sr) {
    await showSearch(sr);
    return;
  }
  if (state.search) {
    // the search is left: its form empties, the folder's list comes back
    state.search = null;
    state.list = null;
    redrawSearchForm();
  }
  const m = /^#\/f\/([^/]+)(?:\/(\d+))?$/.exec(hash);
  const folder = m ? decodeURIComponent(m[1]) : 'INBOX';
  const uid = m && m[2] ? Number(m[2]) : null;
  if (folder !== state.folder || !state.list) {
    state.folder = folder;
    state.offset = 0;
    state.cursor = -1;
    state.selected.clear();
    state.open = null;
    fill(ui.reader, h('p', { class: 'empty' }, t('read.none')));
    await reload();
  }
  if (uid !== null) {
    await openMessage(uid);
  } else {
    state.open = null;
    setView('list');
    drawList();
  }
}

// A search's hits in the list pane (run when its terms or page changed),
// and the hit sr names opened from the folder it is in.
async function showSearch(sr) {
  if (!state.search || state.search.params !== sr.params) {
    const home = state.search ? state.search.home : state.folder;
    state.search = { params: sr.params, values: parseSearch(sr.params), home,
      result: null };
    state.cursor = -1;
    state.selected.clear();
    if (sr.uid === null) {
      state.open = null;
      fill(ui.reader, h('p', { class: 'empty' }, t('read.none')));
    }
    redrawSearchForm();
    await reload(true);
  }
  if (sr.uid !== null) {
    state.folder = sr.folder;
    await openMessage(sr.uid);
  } else {
    state.open = null;
    setView('list');
    drawList();
  }
}

// ---- new mail: server-sent events

function listen() {
  if (events) events.close();
  events = new EventSource('/api/v1/mail/events');
  events.addEventListener('change', () => {
    // a burst of changes (a move of many) reloads once
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => reload(true), 200);
  });
}

// ---- keys

const KEYS = [['j / k', 'keys.jk'], ['o, Enter', 'keys.o'], ['x', 'keys.x'], ['s', 'keys.s'], ['u', 'keys.u'],
  ['#, Delete', 'keys.delete'], ['!', 'keys.spam'], ['c', 'keys.c'], ['r', 'keys.r'], ['a', 'keys.a'],
  ['f', 'keys.f'], ['/', 'keys.search'], ['R', 'keys.reload'], ['Esc', 'keys.esc'], ['?', 'keys.help_key'],
  ['Ctrl+Enter', 'keys.send']];

// The list of keys in a dialog: ? or the link at the bottom opens it.
function toggleHelp() {
  const old = document.getElementById('help');
  if (old) {
    old.close();
    return;
  }
  const d = h('dialog', { id: 'help', class: 'help', 'aria-labelledby': 'help-title' },
    h('h2', { id: 'help-title' }, t('keys.title')),
    h('dl', {}, KEYS.map(([k, label]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, t(label))])),
    h('button', { type: 'button', id: 'help-close', onclick: () => d.close() }, t('keys.close')));
  d.addEventListener('close', () => d.remove());
  document.body.append(d);
  d.showModal();
}

function onKey(e) {
  if (!state.address || e.ctrlKey || e.metaKey || e.altKey) return;
  if (document.getElementById('help')) return;
  // writing: only Escape, from any field, leaves (the draft is saved)
  if (composing()) {
    if (e.key === 'Escape') {
      e.preventDefault();
      window.location.hash = '#/f/' + seg(state.folder);
    }
    return;
  }
  const tag = (e.target && e.target.tagName) || '';
  if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') {
    // Escape in the search form leaves the field
    if (e.key === 'Escape' && e.target.closest && e.target.closest('#search-form')) e.target.blur();
    return;
  }
  // in a search the keys walk the hits, each opened from its own folder
  const msgs = state.search ? (state.search.result ? state.search.result.hits : []) : state.list ? state.list.messages : [];
  const open = (m) => (state.search ? actions.openHit(m) : actions.open(m.uid));
  const move = (d) => {
    if (msgs.length === 0) return;
    state.cursor = Math.max(0, Math.min(msgs.length - 1, state.cursor + d));
    if (state.open !== null) open(msgs[state.cursor]);
    else drawList();
  };
  switch (e.key) {
    case 'j': move(1); break;
    case 'k': move(-1); break;
    case 'o': case 'Enter':
      if (msgs[state.cursor]) open(msgs[state.cursor]);
      break;
    case '/': {
      const q = document.getElementById('search-q');
      if (!q) return;
      q.focus();
      q.select();
      break;
    }
    case 'x':
      if (msgs[state.cursor] && !state.search) {
        const u = msgs[state.cursor].uid;
        if (state.selected.has(u)) state.selected.delete(u); else state.selected.add(u);
        drawList();
      }
      break;
    case 's': {
      const m = msgs.find((x) => x.uid === targets()[0]);
      if (m) actions.flag(targets(), !m.flags.flagged);
      break;
    }
    case 'u': actions.seen(targets(), false); break;
    case '#': case 'Delete': actions.remove(); break;
    case '!': actions.spam(roleOf(state.folder) !== 'junk'); break;
    case 'c': window.location.hash = '#/compose'; break;
    case 'r': case 'a': case 'f': {
      const cur = msgs[state.cursor];
      const u = state.open !== null ? state.open : cur && cur.uid;
      const folder = state.open === null && cur && cur.folder ? cur.folder : state.folder;
      if (!u || (!state.list && !state.search)) return;
      const mode = { r: 'reply', a: 'reply_all', f: 'forward_inline' }[e.key];
      window.location.hash = `#/compose/${mode}/${seg(folder)}/${u}`;
      break;
    }
    case 'R': case 'g': reload(); break;
    case '?': toggleHelp(); break;
    case 'Escape':
      window.location.hash = state.search && state.open === null ? '#/f/' + seg(state.search.home) : paneHash();
      break;
    default: return;
  }
  e.preventDefault();
}

// ---- start

async function logout() {
  try {
    await leaveCompose();	// what is being written is kept in Drafts
  } catch (e) {
    // not saved: the session ends all the same
  }
  // no reload of this session's list may land after it has ended
  if (events) events.close();
  events = null;
  clearTimeout(refreshTimer);
  try {
    await api('DELETE', '/session');
  } catch (e) {
    // gone already
  }
  state.address = '';
  showLogin();
}

async function start() {
  // nothing of an earlier login on this page is shown again
  Object.assign(state, { list: null, search: null, open: null, offset: 0, cursor: -1, folder: 'INBOX', view: 'list' });
  state.selected.clear();
  await loadFolders();
  layout();
  listen();
  await route();
}

async function boot() {
  document.documentElement.lang = lang();
  window.addEventListener('hashchange', () => route(true));
  window.addEventListener('keydown', onKey);
  // a draft being written is saved when the page is left
  window.addEventListener('pagehide', () => { leaveCompose({ keepalive: true }); });
  // a 401 while logged in (the session expired); not a late answer meant
  // for a session already left
  window.addEventListener('yubin:logged-out', () => {
    if (!state.address) return;
    state.address = '';
    showLogin();
  });
  try {
    const s = await api('GET', '/session');
    if (s.actor.role !== 'user') {
      showLogin(t('login.admin'));
      return;
    }
    setCsrf(s.csrf);
    await start();
  } catch (e) {
    showLogin(e.status === 401 ? '' : e.message);
  }
}

boot();

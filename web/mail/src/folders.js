// The folder list: Inbox, Drafts, Sent, Junk, Trash (in the reader's
// language) and the user's own folders with their unread counts; new,
// rename and delete for the user's own.
import { api, seg } from './api.js';
import { h, fill } from '../../src/dom.js';
import { t } from './i18n.js';
import { state } from './state.js';

export function folderLabel(f) {
  return f.role ? t('folder.' + f.role) : f.name;
}

export async function loadFolders() {
  const r = await api('GET', '/mail/folders');
  state.address = r.address;
  state.folders = r.folders;
  state.quota = r.quota;
  state.maxMessage = r.max_message_size || 0;
  return r;
}

export function renderFolders(el, go, notify) {
  const items = state.folders.map((f) => {
    const current = f.name === state.folder;
    const link = h('a', {
      href: '#/f/' + seg(f.name),
      class: 'folder' + (current ? ' current' : '') + (f.unread > 0 ? ' has-unread' : ''),
      'data-folder': f.name,
      'data-role': f.role || '',
      'aria-current': current ? 'page' : null,
    }, h('span', { class: 'folder-name' }, folderLabel(f)),
    f.unread > 0 ? h('span', { class: 'count', title: t('unread_count', { n: f.unread }) }, String(f.unread)) : null);
    const tools = !f.role && current ? h('span', { class: 'folder-tools' },
      h('button', { type: 'button', class: 'link', onclick: () => rename(f, go, notify) }, t('folder.rename')),
      h('button', { type: 'button', class: 'link danger', onclick: () => remove(f, go, notify) }, t('folder.delete')))
      : null;
    return h('li', {}, link, tools);
  });
  fill(el,
    h('h2', { class: 'sr-only' }, t('folders')),
    h('ul', { class: 'folders' }, items),
    h('button', { type: 'button', class: 'link', id: 'new-folder', onclick: () => create(go, notify) }, '+ ' + t('folder.new')));
}

async function create(go, notify) {
  const name = window.prompt(t('folder.new.prompt'));
  if (!name) return;
  try {
    await api('POST', '/mail/folders', { name });
    await go(name);
  } catch (e) {
    notify(e.message, true);
  }
}

async function rename(f, go, notify) {
  const name = window.prompt(t('folder.rename.prompt'), f.name);
  if (!name || name === f.name) return;
  try {
    await api('PATCH', '/mail/folders/' + seg(f.name), { name });
    await go(name);
  } catch (e) {
    notify(e.message, true);
  }
}

async function remove(f, go, notify) {
  if (!window.confirm(t('folder.delete.confirm', { name: f.name }))) return;
  try {
    await api('DELETE', '/mail/folders/' + seg(f.name));
    await go('INBOX');
  } catch (e) {
    notify(e.message, true);
  }
}

// What the webmail shows now, shared by its parts.
export const state = {
  address: '',
  folders: [],
  quota: { used: 0, limit: 0 },
  maxMessage: 0,       // smtp.max_message_size: the attachments' limit
  folder: 'INBOX',
  sort: 'date',
  order: 'desc',
  offset: 0,
  limit: 50,
  list: null,          // the last page of /messages, and its folder (list.folder)
  search: null,        // a search shown instead: {params, values, home, result} (search.js)
  selected: new Set(), // UIDs ticked
  cursor: -1,          // index in list.messages under the keyboard
  open: null,          // UID shown in the reading pane
  view: 'list',        // on a phone: 'folders', 'list' or 'read'
};

export function folderByName(name) {
  return state.folders.find((f) => f.name === name) || null;
}

export function roleOf(name) {
  const f = folderByName(name);
  return f ? f.role : null;
}

// An answer (what: 'message' or 'list') come after a newer request for
// the same pane was dropped: counted for the tests' hook.
export function dropped(what) {
  if (window.__yubinTest) window.__yubinTest.dropped[what] += 1;
}

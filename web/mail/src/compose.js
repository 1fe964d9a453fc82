// The composer (#/compose...): From, To, Cc, Bcc with autocomplete,
// Subject, the plain text, attachments, the ISO-2022-JP option. A new
// message, a reply, reply all or forward (prefilled by GET /mail/compose)
// or a draft continued (GET /mail/drafts/{uid}). The draft is saved to
// Drafts a few seconds after typing stops and when the composer is left
// (POST, then PUT /mail/drafts/{uid}, each save a new UID); Send goes
// through /mail/send with the draft's UID so the server removes it. Each
// refusal of the send path is explained in words.
import { api, seg } from './api.js';
import { h, fill } from '../../src/dom.js';
import { lang, t } from './i18n.js';
import { state } from './state.js';
import { recipientField } from './recipients.js';
import { attachments } from './attach.js';

const SAVE_DELAY = 3000;
const DRAFTS = 'Drafts';
let current = null;

const TITLES = { new: 'compose.title', reply: 'compose.reply', reply_all: 'compose.reply_all',
  forward_inline: 'compose.forward', forward_attachment: 'compose.forward', draft: 'compose.draft', to: 'compose.title' };

// What the composer opens with: a MailDraft and its attachments' names.
async function prefill(spec) {
  if (spec.mode === 'draft') {
    const r = await api('GET', `/mail/drafts/${spec.uid}`);
    const info = r.attachment_info || [];
    const atts = (r.draft.attachments || []).map((ref, i) => ({
      ref, name: info[i] ? info[i].filename : `part-${ref.part}`, size: info[i] ? info[i].size : 0 }));
    // the stored text ends with the line end every message body has
    r.draft.text = (r.draft.text || '').replace(/\r?\n$/, '');
    return { draft: r.draft, atts, uid: r.uid };
  }
  if (spec.mode === 'new' || spec.mode === 'to') {
    return { draft: { to: spec.to ? [{ address: spec.to }] : [] }, atts: [], uid: null };
  }
  const q = `mode=${spec.mode}&folder=${seg(spec.folder)}&uid=${spec.uid}`;
  const draft = await api('GET', `/mail/compose?${q}`);
  let atts = [];
  if ((draft.attachments || []).length > 0) {
    const orig = await api('GET', `/mail/messages/${seg(spec.folder)}/${spec.uid}`);
    const byPart = new Map((orig.attachments || []).map((a) => [a.part, a]));
    atts = draft.attachments.map((ref) => {
      const a = byPart.get(ref.part);
      return { ref, name: a && a.name ? a.name : `part-${ref.part}`, size: a ? a.size : 0 };
    });
  }
  return { draft, atts, uid: null };
}

function field(id, label, input) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), input);
}

// The words for a refused send or save.
function explain(e) {
  const known = {
    rate_limited: 'send.rate_limited', forbidden: 'send.forbidden', suspended: 'send.suspended',
    virus_found: 'send.virus_found', recipient_refused: 'send.recipient_refused', too_large: 'send.too_large',
    not_representable: 'send.not_representable', network: 'error.network',
  };
  if (e.code === 'forbidden' && e.field !== 'from') return { title: e.message, detail: '' };
  return { title: known[e.code] ? t(known[e.code] + '.title') : e.message || String(e),
    detail: known[e.code] && e.code !== 'network' ? t(known[e.code]) : '', server: known[e.code] ? e.message : '' };
}

// The form's content as a MailDraft. forSave leaves out what is still
// being typed (an address without @) so a half-written draft is kept.
function collect(c, forSave) {
  const addrs = (f) => f.get().filter((a) => !forSave || /^[^@\s]+@[^@\s]+$/.test(a.address));
  const d = {
    to: addrs(c.to), cc: addrs(c.cc), bcc: addrs(c.bcc),
    subject: c.subject.value, text: c.text.value,
    attachments: c.atts.filter((a) => !a.fixed).map((a) => a.ref),
    charset: c.iso.checked ? 'iso-2022-jp' : 'utf-8',
  };
  const from = c.from.value.trim();
  if (from && from !== state.address) d.from = from;
  if (c.base.in_reply_to) d.in_reply_to = c.base.in_reply_to;
  if (c.base.forward) d.forward = c.base.forward;
  return d;
}

function showState(c, text) {
  fill(c.stateEl, text);
}

// After a save the draft holds every attachment the save carried: the
// uploads were handed over to it (the server removed them) and its own
// parts are named by its new UID. saved: the attachments the save carried
// (those added meanwhile stay uploads). While this fails c.stale says
// the next save or send must try it first.
async function rebase(c, saved) {
  if (saved.length === 0) return;
  c.stale = saved;
  const r = await api('GET', `/mail/drafts/${c.uid}`);
  const refs = r.draft.attachments || [];
  if (refs.length === saved.length) saved.forEach((a, i) => { a.ref = refs[i]; });
  c.stale = null;
}

async function saveNow(c, opts) {
  c.dirty = false;
  if (c.stale && c.uid) await rebase(c, c.stale).catch(() => {});
  const body = collect(c, true);
  const carried = c.atts.filter((a) => !a.fixed);
  const old = c.uid;
  try {
    const r = old ? await api('PUT', `/mail/drafts/${old}`, body, opts)
      : await api('POST', '/mail/drafts', body, opts);
    c.uid = r.uid;
    // the address now names the draft: a reload continues it
    if (current === c) window.history.replaceState(null, '', '#/draft/' + c.uid);
    await rebase(c, carried).catch(() => {});	// else the next save tries again
    showState(c, t('draft.saved', { time: new Date().toLocaleTimeString(lang() === 'ja' ? 'ja-JP' : 'en-GB', { hour: '2-digit', minute: '2-digit' }) }));
  } catch (e) {
    // a part of the old version not found: is the draft itself gone?
    const gone = old && (e.code === 'conflict' || (e.code === 'not_found' && (e.field === 'uid' ||
      await api('GET', `/mail/drafts/${old}`).then(() => false, (x) => x.status === 404))));
    if (gone) {
      // replaced (409 in a race, else 404) or removed from another window
      // meanwhile: this version becomes a new draft; the parts that only
      // the old version held are gone with it
      c.uid = null;
      c.stale = null;
      const n = c.atts.length;
      for (let i = c.atts.length - 1; i >= 0; i--) if (c.atts[i].ref.folder === DRAFTS) c.atts.splice(i, 1);
      c.attList.redraw();
      c.notify(t('draft.conflict') + (c.atts.length < n ? ' ' + t('draft.conflict_parts') : ''), true);
      return saveNow(c, opts);
    }
    c.dirty = true;
    showState(c, t('draft.not_saved', { why: explain(e).title }));
  }
  return c.uid;
}

// One save at a time; a change during a save asks for another.
function save(c, opts) {
  clearTimeout(c.timer);
  if (c.saving) {
    c.again = true;
    return c.saving;
  }
  showState(c, t('draft.saving'));
  c.saving = saveNow(c, opts).finally(() => {
    c.saving = null;
    if (c.again && !c.done) {
      c.again = false;
      save(c, opts);
    }
  });
  return c.saving;
}

function changed(c) {
  if (c.done || c.sending) return;
  c.dirty = true;
  showState(c, '');
  clearTimeout(c.timer);
  c.timer = setTimeout(() => { if (c.dirty) save(c); }, SAVE_DELAY);
}

function showError(c, e) {
  const x = explain(e);
  fill(c.errorEl, h('strong', { class: 'send-error-title' }, x.title),
    x.detail ? h('p', { class: 'send-error-detail' }, x.detail) : null,
    x.server && x.server !== x.title ? h('p', { class: 'send-error-server' }, x.server) : null);
  c.errorEl.dataset.code = e.code || '';
  c.errorEl.hidden = false;
  c.errorEl.focus({ preventScroll: true });
  c.errorEl.scrollIntoView({ block: 'center' });
}

async function send(c) {
  if (c.attList.busy()) {
    c.notify(t('compose.wait_uploads'), true);
    return;
  }
  const body = collect(c, false);
  if (body.to.length + body.cc.length + body.bcc.length === 0) {
    showError(c, { code: 'no_recipient', message: t('compose.no_recipient') });
    c.to.input.focus();
    return;
  }
  c.errorEl.hidden = true;
  c.sendBtn.disabled = true;
  clearTimeout(c.timer);
  if (c.saving) await c.saving;
  if (c.stale && c.uid) await rebase(c, c.stale).catch(() => {});
  // after a save its attachments are the draft's parts: collected again
  const final = collect(c, false);
  if (c.uid) final.draft_uid = c.uid;
  c.sending = true;
  try {
    const r = await api('POST', '/mail/send', final);
    c.done = true;
    current = null;
    c.notify(t('send.done', { n: r.accepted.length }) + (r.sent ? '' : ' ' + t('send.no_copy')));
    c.onDone(true);
  } catch (e) {
    c.sending = false;
    c.sendBtn.disabled = false;
    showError(c, e);
    // what was written stays, as a draft too
    if (c.dirty || !c.uid) save(c);
  }
}

async function discard(c) {
  if (!window.confirm(t('compose.discard_confirm'))) return;
  c.done = true;
  current = null;
  clearTimeout(c.timer);
  if (c.saving) await c.saving.catch(() => {});
  for (const a of c.atts) {
    if (a.ref.upload) api('DELETE', `/mail/uploads/${encodeURIComponent(a.ref.upload)}`).catch(() => {});
  }
  if (c.uid) await api('DELETE', `/mail/drafts/${c.uid}`).catch(() => {});
  c.notify(t('compose.discarded'));
  c.onDone(false);
}

function form(c, spec, limit) {
  const d = c.base;
  c.from = h('input', { id: 'compose-from', type: 'email', value: d.from || state.address, autocomplete: 'email' });
  c.to = recipientField('compose-to', t('read.to'), d.to || [], () => changed(c));
  c.cc = recipientField('compose-cc', t('read.cc'), d.cc || [], () => changed(c));
  c.bcc = recipientField('compose-bcc', t('compose.bcc'), d.bcc || [], () => changed(c));
  c.subject = h('input', { id: 'compose-subject', type: 'text', value: d.subject || '', maxlength: 2000,
    oninput: () => changed(c) });
  c.text = h('textarea', { id: 'compose-text', rows: 16, 'aria-label': t('compose.text'), oninput: () => changed(c) });
  c.text.value = d.text || '';
  c.iso = h('input', { id: 'compose-iso2022jp', type: 'checkbox', checked: d.charset === 'iso-2022-jp',
    onchange: () => changed(c) });
  c.attList = attachments(c.atts, limit, () => changed(c), c.notify);
  c.stateEl = h('span', { class: 'draft-state', id: 'draft-state', role: 'status' });
  c.errorEl = h('div', { class: 'send-error', id: 'send-error', role: 'alert', tabindex: '-1', hidden: true });
  c.sendBtn = h('button', { type: 'submit', class: 'primary', id: 'compose-send' }, t('compose.send'));
  const cc = !(d.cc && d.cc.length) && !(d.bcc && d.bcc.length);
  const ccToggle = cc ? h('button', { type: 'button', class: 'link', id: 'show-cc',
    onclick: (e) => { c.cc.el.hidden = false; c.bcc.el.hidden = false; e.target.remove(); c.cc.input.focus(); } },
  t('compose.show_cc')) : null;
  c.cc.el.hidden = cc;
  c.bcc.el.hidden = cc;
  return h('form', { class: 'compose-form', id: 'compose-form', novalidate: true,
    onsubmit: (e) => { e.preventDefault(); send(c); },
    onkeydown: (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(c); } },
    ondragover: (e) => { e.preventDefault(); },
    ondrop: (e) => { e.preventDefault(); if (e.dataTransfer) c.attList.add([...e.dataTransfer.files]); } },
  field('compose-from', t('read.from'), c.from),
  c.to.el, ccToggle, c.cc.el, c.bcc.el,
  field('compose-subject', t('read.subject'), c.subject),
  c.base.forward && c.base.forward.mode === 'attachment'
    ? h('p', { class: 'fwd-note', id: 'fwd-attached' }, t('compose.fwd_attached')) : null,
  c.attList.el,
  c.text,
  h('label', { class: 'check' }, c.iso, ' ', t('compose.iso2022jp')),
  c.errorEl,
  h('div', { class: 'compose-actions' }, c.sendBtn,
    h('button', { type: 'button', id: 'compose-save', onclick: () => save(c) }, t('compose.save')),
    h('button', { type: 'button', id: 'compose-discard', class: 'danger', onclick: () => discard(c) }, t('compose.discard')),
    c.stateEl));
}

// Opens the composer in el. spec: {mode: new|to|reply|reply_all|
// forward_inline|forward_attachment|draft, folder, uid, to}; env: {notify,
// onDone(sent), limit, tools}.
export async function openCompose(el, spec, env) {
  await leaveCompose();
  const p = await prefill(spec);
  const c = { base: p.draft, atts: p.atts, uid: p.uid, dirty: false, done: false, saving: null, again: false,
    timer: null, notify: env.notify, onDone: env.onDone };
  current = c;
  fill(el, h('section', { class: 'compose', id: 'compose-view', 'data-mode': spec.mode },
    h('div', { class: 'reader-tools' }, env.tools),
    h('h2', {}, t(TITLES[spec.mode] || 'compose.title')),
    form(c, spec, env.limit)));
  if (spec.mode === 'reply' || spec.mode === 'reply_all') {
    c.text.focus();
    c.text.setSelectionRange(0, 0);
  } else if (c.to.get().length === 0) {
    c.to.input.focus();
  } else {
    c.subject.focus();
  }
}

// Leaves the composer, saving what changed since the last save.
// Returns the UID of the draft kept, or null.
export async function leaveCompose(opts) {
  const c = current;
  if (!c) return null;
  current = null;
  clearTimeout(c.timer);
  if (c.done) return null;
  c.done = true;
  if (c.saving) await c.saving;
  if (c.dirty) {
    c.done = false;
    await saveNow(c, opts);
    c.done = true;
  }
  return c.uid;
}

// Forgets the composer without saving (the session has ended: the next
// login may be someone else's).
export function dropCompose() {
  if (!current) return;
  clearTimeout(current.timer);
  current.done = true;
  current = null;
}

export function composing() {
  return current !== null;
}

// The composer's attachments: files uploaded one by one to /mail/uploads
// with a progress bar (XMLHttpRequest: fetch reports no upload progress),
// the size limit (the server's smtp.max_message_size) shown and checked
// before sending a byte; a 413 explained. Each attachment is
// {ref, name, size, type}: ref is what a MailDraft takes ({upload} or a
// part of a stored message {folder, uid, part}).
import { api, apiUrl, csrfToken } from './api.js';
import { h, fill } from '../../src/dom.js';
import { formatBytes, t } from './i18n.js';

// What n bytes of a file take in the message: base64, lines of 76.
export function encodedSize(n) {
  return Math.ceil(n / 3) * 4 * (78 / 76);
}

function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', apiUrl(`/mail/uploads?filename=${encodeURIComponent(file.name)}`));
    x.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    x.setRequestHeader('Accept', 'application/json');
    if (csrfToken()) x.setRequestHeader('X-CSRF-Token', csrfToken());
    x.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    x.onerror = () => reject({ code: 'network' });
    x.onload = () => {
      let data = null;
      try {
        data = JSON.parse(x.responseText);
      } catch (e) {
        data = null;
      }
      if (x.status === 201 && data) resolve(data);
      else reject({ status: x.status, code: data && data.error ? data.error.code : `http_${x.status}`,
        message: data && data.error ? data.error.message : '' });
    };
    x.send(file);
  });
}

// The list of attachments with an "Attach files" button; onchange after
// each change. limit: the largest message in bytes (0: unknown).
export function attachments(list, limit, onchange, notify) {
  const el = h('section', { class: 'compose-attachments', 'aria-label': t('read.attachments') });
  const ul = h('ul', { class: 'attach-list', id: 'attach-list' });
  const pending = new Set();
  const total = () => list.reduce((n, a) => n + (a.size || 0), 0);
  const fileInput = h('input', { type: 'file', id: 'compose-file', multiple: true, class: 'sr-only',
    onchange: (e) => { add([...e.target.files]); e.target.value = ''; } });
  const info = h('span', { class: 'attach-limit', id: 'attach-limit' });
  const draw = () => {
    fill(ul, list.map((a, i) => h('li', { class: 'attachment-item', 'data-name': a.name },
      h('span', { class: 'att-name' }, a.name), ' ', h('span', { class: 'meta' }, formatBytes(a.size)),
      a.fixed ? null : h('button', { type: 'button', class: 'link att-remove', 'aria-label': t('compose.remove_named', { name: a.name }),
        onclick: () => remove(i) }, '✕'))), [...pending].map((p) => p.el));
    fill(info, limit > 0 ? t('compose.limit', { used: formatBytes(total()), limit: formatBytes(limit) }) : '');
  };
  const remove = (i) => {
    const [a] = list.splice(i, 1);
    if (a && a.ref.upload) api('DELETE', `/mail/uploads/${encodeURIComponent(a.ref.upload)}`).catch(() => {});
    draw();
    onchange();
  };
  const one = async (file) => {
    if (limit > 0 && encodedSize(total() + file.size) > limit) {
      notify(t('compose.too_large', { name: file.name, limit: formatBytes(limit) }), true);
      return;
    }
    const bar = h('progress', { max: 100, value: 0, 'aria-label': file.name });
    const p = { el: h('li', { class: 'attachment-item uploading' }, h('span', { class: 'att-name' }, file.name), ' ', bar) };
    pending.add(p);
    draw();
    try {
      const u = await upload(file, (f) => { bar.value = Math.round(f * 100); });
      list.push({ ref: { upload: u.id }, name: u.filename, size: u.size, type: u.content_type });
      onchange();
    } catch (e) {
      const why = e.status === 413 && !e.message ? t('compose.too_large', { name: file.name, limit: formatBytes(limit) })
        : e.code === 'network' ? t('error.network') : e.message || t('compose.upload_failed', { name: file.name });
      notify(why, true);
    } finally {
      pending.delete(p);
      draw();
    }
  };
  const add = async (files) => {
    for (const f of files) await one(f);
  };
  draw();
  fill(el, h('div', { class: 'attach-bar' },
    h('label', { for: 'compose-file', class: 'button', id: 'attach-button' }, '+ ', t('compose.attach')),
    fileInput, info), ul);
  return { el, add, busy: () => pending.size > 0, redraw: draw };
}

// The reading pane: headers, the text first (the HTML version on request,
// or at once when there is no text), the HTML sanitised into a sandboxed
// iframe (html.js), cid: images from the message's own parts, remote
// images only when asked, the attachments with their decoded names, and
// the source.
import { api, apiUrl, msgPath } from './api.js';
import { h, fill } from '../../src/dom.js';
import { formatBytes, formatDate, t } from './i18n.js';
import { mailDocument } from './html.js';

const CID_MAX = 5 * 1024 * 1024;

function dataUrl(blob) {
  return new Promise((resolve) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => resolve(null);
    r.readAsDataURL(blob);
  });
}

// {cid: data URL} of the inline images the HTML names.
async function cidImages(folder, msg) {
  const out = {};
  for (const [cid, part] of Object.entries(msg.cids || {})) {
    if (!msg.html || !msg.html.includes(cid)) continue;
    try {
      const r = await fetch(apiUrl(`${msgPath(folder, msg.uid)}/parts/${part}`), { credentials: 'same-origin' });
      const type = r.headers.get('Content-Type') || '';
      if (!r.ok || !type.startsWith('image/')) continue;
      const blob = await r.blob();
      if (blob.size <= CID_MAX) out[cid] = await dataUrl(blob);
    } catch (e) {
      // an image that cannot be had stays empty
    }
  }
  return out;
}

function header(label, value) {
  if (!value) return null;
  return h('div', { class: 'hdr' }, h('span', { class: 'hdr-name' }, label), h('span', { class: 'hdr-value' }, value));
}

function htmlFrame(msg, cids, showImages, onShow) {
  const { doc, blocked } = mailDocument(msg.html, cids, showImages);
  const frame = h('iframe', {
    class: 'mail-html',
    title: msg.subject || t('read.no_subject'),
    sandbox: 'allow-popups allow-popups-to-escape-sandbox',
    referrerpolicy: 'no-referrer',
  });
  frame.srcdoc = doc;
  const bar = blocked > 0 && !showImages ? h('div', { class: 'notice images-blocked' },
    t('read.images_blocked'), ' ',
    h('button', { type: 'button', id: 'show-images', onclick: onShow }, t('read.show_images'))) : null;
  return [bar, frame];
}

function attachments(folder, msg) {
  const list = msg.attachments.filter((a) => !a.inline || !msg.html);
  if (list.length === 0) return null;
  return h('section', { class: 'attachments', 'aria-label': t('read.attachments') },
    h('h3', {}, t('read.attachments')),
    h('ul', {}, list.map((a) => h('li', {},
      h('a', {
        href: apiUrl(`${msgPath(folder, msg.uid)}/parts/${a.part}?download=1`),
        download: a.name || `part-${a.part}`,
        class: 'attachment',
        'data-part': a.part,
      }, a.name || `part-${a.part}`),
      h('span', { class: 'meta' }, ` ${a.type}, ${formatBytes(a.size)}`)))));
}

// Shows message uid of folder in el; tools are the action buttons. Once
// the message is had, wanted() says whether it is still to be shown (not
// when another was opened meanwhile): if not, nothing is shown and the
// answer is null.
export async function renderMessage(el, folder, uid, tools, wanted) {
  const msg = await api('GET', msgPath(folder, uid));
  const cids = msg.html ? await cidImages(folder, msg) : {};
  if (!wanted()) return null;
  let mode = msg.text !== null && msg.text !== '' ? 'text' : msg.html !== null ? 'html' : 'text';
  let showImages = false;
  const body = h('div', { class: 'body' });
  const switcher = h('div', { class: 'switch' });
  const draw = () => {
    if (mode === 'html') {
      fill(body, htmlFrame(msg, cids, showImages, () => { showImages = true; draw(); }),
        msg.html_truncated ? h('p', { class: 'notice' }, t('read.truncated')) : null);
    } else {
      fill(body, h('pre', { class: 'mail-text' }, msg.text || t('read.empty_body')),
        msg.text_truncated ? h('p', { class: 'notice' }, t('read.truncated')) : null);
    }
    fill(switcher,
      msg.html !== null && msg.text !== null ? h('button', {
        type: 'button', id: 'toggle-html', class: 'link',
        onclick: () => { mode = mode === 'html' ? 'text' : 'html'; draw(); },
      }, mode === 'html' ? t('read.show_text') : t('read.show_html')) : null,
      h('a', { href: apiUrl(`${msgPath(folder, uid)}/raw`), target: '_blank', rel: 'noopener noreferrer',
        id: 'show-source', class: 'link' }, t('read.source')));
  };
  draw();
  const hd = msg.headers || {};
  fill(el,
    h('div', { class: 'reader-tools' }, tools),
    h('h2', { class: 'subject' }, msg.subject || t('read.no_subject')),
    h('div', { class: 'headers' },
      header(t('read.from'), hd.from),
      header(t('read.to'), hd.to),
      header(t('read.cc'), hd.cc),
      header(t('read.date'), formatDate(msg.date, true))),
    switcher,
    attachments(folder, msg),
    body);
  return msg;
}

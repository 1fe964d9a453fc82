// The address book (#/contacts): the contacts by name with a filter, add,
// edit and delete one, write to one, import a vCard file (each refused
// card reported by its number) and export them all as vCard 4.0.
import { api, apiUrl, seg } from './api.js';
import { h, fill } from '../../src/dom.js';
import { t } from './i18n.js';

const PAGE = 200;

// "label: address" lines into MailContactEmail objects.
function parseEmails(text) {
  return String(text).split(/[\n,]/).map((l) => l.trim()).filter((l) => l !== '').map((l) => {
    const m = /^([^:@]{1,40}):\s*(\S+@\S+)$/.exec(l);
    return m ? { address: m[2], label: m[1].trim() } : { address: l };
  });
}

function emailsText(c) {
  return c.emails.map((e) => (e.label ? `${e.label}: ${e.address}` : e.address)).join('\n');
}

function editor(view, contact) {
  const name = h('input', { id: 'contact-name', type: 'text', value: contact ? contact.name : '', maxlength: 200, required: true });
  const emails = h('textarea', { id: 'contact-emails', rows: 3, required: true,
    'aria-describedby': 'contact-emails-hint' });
  emails.value = contact ? emailsText(contact) : '';
  const note = h('textarea', { id: 'contact-note', rows: 2, maxlength: 2000 });
  note.value = contact ? contact.note : '';
  const err = h('p', { class: 'error', id: 'contact-error', role: 'alert' });
  const form = h('form', { class: 'contact-form', id: 'contact-form', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      const body = { name: name.value.trim(), emails: parseEmails(emails.value), note: note.value };
      try {
        if (contact) await api('PUT', `/mail/contacts/${contact.id}`, body);
        else await api('POST', '/mail/contacts', body);
        view.notify(t(contact ? 'contacts.saved' : 'contacts.added', { name: body.name }));
        await view.load();
      } catch (x) {
        err.textContent = x.code === 'network' ? t('error.network') : x.message;
      }
    } },
  h('h3', {}, contact ? t('contacts.edit') : t('contacts.new')),
  h('label', { for: 'contact-name' }, t('contacts.name')), name,
  h('label', { for: 'contact-emails' }, t('contacts.emails')), emails,
  h('small', { id: 'contact-emails-hint', class: 'hint' }, t('contacts.emails_hint')),
  h('label', { for: 'contact-note' }, t('contacts.note')), note,
  err,
  h('div', { class: 'compose-actions' },
    h('button', { type: 'submit', class: 'primary', id: 'contact-save' }, t('contacts.save')),
    h('button', { type: 'button', id: 'contact-cancel', onclick: () => fill(view.formSlot) }, t('contacts.cancel'))));
  fill(view.formSlot, form);
  name.focus();
}

function row(view, c) {
  return h('li', { class: 'contact', 'data-id': String(c.id) },
    h('span', { class: 'contact-name' }, c.name || c.emails[0].address),
    h('span', { class: 'contact-emails' }, c.emails.map((e) => h('a', {
      href: '#/compose/to/' + seg(e.address), class: 'contact-email', title: t('contacts.write') }, e.address))),
    h('span', { class: 'contact-tools' },
      h('button', { type: 'button', class: 'link contact-edit', onclick: () => editor(view, c) }, t('contacts.edit_short')),
      h('button', { type: 'button', class: 'link danger contact-delete', onclick: async () => {
        if (!window.confirm(t('contacts.delete_confirm', { name: c.name || c.emails[0].address }))) return;
        try {
          await api('DELETE', `/mail/contacts/${c.id}`);
          view.notify(t('contacts.deleted', { name: c.name }));
          await view.load();
        } catch (x) {
          view.notify(x.message, true);
        }
      } }, t('contacts.delete'))));
}

async function importFile(view, file) {
  try {
    const text = await file.text();
    const r = await api('POST', '/mail/contacts.vcf', text, { type: 'text/vcard; charset=utf-8' });
    fill(view.report, h('p', { id: 'import-result' }, t('contacts.imported', { n: r.imported, refused: r.refused.length })),
      r.refused.length ? h('ul', { class: 'import-refused' }, r.refused.map((x) => h('li', {},
        t('contacts.refused_card', { n: x.card, why: x.message })))) : null);
    await view.load();
  } catch (x) {
    fill(view.report, h('p', { class: 'error', role: 'alert' }, x.code === 'network' ? t('error.network') : x.message));
  }
}

// Shows the address book in el; notify(text, error) for the status line.
export async function renderContacts(el, tools, notify) {
  const list = h('ul', { class: 'contacts', id: 'contacts' });
  const count = h('span', { class: 'meta', id: 'contacts-count' });
  const filter = h('input', { type: 'search', id: 'contacts-filter', 'aria-label': t('contacts.filter'),
    placeholder: t('contacts.filter') });
  const view = { notify, formSlot: h('div', { class: 'contact-form-slot' }), report: h('div', { class: 'import-report', role: 'status' }) };
  const more = h('button', { type: 'button', id: 'contacts-more', hidden: true }, t('contacts.more'));
  let shown = 0;
  // a page of PAGE contacts from offset (0: the list starts again)
  const page = async (offset) => {
    const q = filter.value.trim();
    const r = await api('GET', `/mail/contacts?offset=${offset}&limit=${PAGE}${q ? '&q=' + encodeURIComponent(q) : ''}`);
    fill(count, t('contacts.count', { n: r.total }));
    if (offset === 0) fill(list);
    list.append(...r.contacts.map((c) => row(view, c)));
    shown = offset + r.contacts.length;
    if (shown === 0) fill(list, h('li', { class: 'empty' }, t('contacts.none')));
    more.hidden = shown >= r.total || r.contacts.length === 0;
  };
  more.addEventListener('click', () => page(shown).catch((x) => notify(x.message, true)));
  view.load = async () => {
    await page(0);
    fill(view.formSlot);
  };
  let timer = null;
  filter.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => view.load().catch(() => {}), 200); });
  const file = h('input', { type: 'file', id: 'vcard-file', accept: '.vcf,text/vcard,text/x-vcard', class: 'sr-only',
    onchange: (e) => { if (e.target.files[0]) importFile(view, e.target.files[0]); e.target.value = ''; } });
  fill(el, h('section', { class: 'address-book', id: 'address-book' },
    h('div', { class: 'reader-tools' }, tools),
    h('h2', {}, t('contacts.title'), ' ', count),
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', class: 'primary', id: 'contact-new', onclick: () => editor(view, null) }, t('contacts.new')),
      h('label', { for: 'vcard-file', class: 'button', id: 'vcard-import' }, t('contacts.import')), file,
      h('a', { href: apiUrl('/mail/contacts.vcf'), download: 'contacts.vcf', class: 'button', id: 'vcard-export' },
        t('contacts.export')),
      filter),
    view.report, view.formSlot, list, more));
  await view.load();
}

// An address field of the composer (To, Cc, Bcc): a text input holding
// addresses separated by commas, with suggestions from the address book
// and the recently used addresses (/mail/contacts/complete) for the one
// being typed. The WAI-ARIA combobox pattern: arrows move through the
// list, Enter or Tab takes the suggestion, Escape closes it; a tap or a
// click takes one too.
import { api } from './api.js';
import { h, fill, uid as newId } from '../../src/dom.js';
import { t } from './i18n.js';

const DELAY = 150;

// "Name <a@b>" (the name quoted when it holds a separator) or "a@b".
export function formatAddress(a) {
  if (typeof a === 'string') return a;
  if (!a.name) return a.address;
  const name = /[,;"<>@]/.test(a.name) ? `"${a.name.replace(/["\\]/g, '')}"` : a.name;
  return `${name} <${a.address}>`;
}

// The addresses of a field's text: commas and semicolons separate them,
// except inside quotes or angle brackets.
export function parseAddresses(text) {
  const out = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (const ch of String(text)) {
    if (ch === '"' && !angle) quoted = !quoted;
    else if (ch === '<' && !quoted) angle = true;
    else if (ch === '>' && !quoted) angle = false;
    if ((ch === ',' || ch === ';') && !quoted && !angle) {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const m = /^(.*)<([^<>]*)>$/.exec(s);
    if (!m) return { address: s };
    const name = m[1].trim().replace(/^"(.*)"$/, '$1').trim();
    return name ? { name, address: m[2].trim() } : { address: m[2].trim() };
  });
}

// The part of the text being typed: after the last separator.
function lastToken(text) {
  const cut = Math.max(text.lastIndexOf(','), text.lastIndexOf(';'));
  return { head: cut >= 0 ? text.slice(0, cut + 1) : '', word: text.slice(cut + 1).trim() };
}

// The field: {el, input, get(), set(list)}; onchange after every edit.
export function recipientField(id, label, list, onchange) {
  const box = newId('suggest');
  const input = h('input', {
    id, type: 'text', class: 'recipients', autocomplete: 'off', spellcheck: 'false',
    role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': box,
  });
  input.value = list.map(formatAddress).join(', ') + (list.length ? ', ' : '');
  const ul = h('ul', { class: 'suggestions', id: box, role: 'listbox', 'aria-label': t('compose.suggestions'), hidden: true });
  let items = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  const close = () => {
    items = [];
    active = -1;
    ul.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  };
  const mark = () => {
    [...ul.children].forEach((li, i) => li.setAttribute('aria-selected', i === active ? 'true' : 'false'));
    if (active >= 0) input.setAttribute('aria-activedescendant', `${box}-${active}`);
    else input.removeAttribute('aria-activedescendant');
  };
  const take = (i) => {
    const m = items[i];
    if (!m) return;
    const { head } = lastToken(input.value);
    input.value = (head ? head.trimEnd() + ' ' : '') + formatAddress(m) + ', ';
    close();
    input.focus();
    onchange();
  };
  const show = (matches) => {
    items = matches;
    active = matches.length ? 0 : -1;
    fill(ul, matches.map((m, i) => h('li', {
      id: `${box}-${i}`, role: 'option', class: 'suggestion', 'data-address': m.address,
      onmousedown: (e) => { e.preventDefault(); take(i); },
    }, m.name ? h('span', { class: 'sg-name' }, m.name) : null, h('span', { class: 'sg-address' }, m.address),
    m.source === 'recent' ? h('span', { class: 'sg-source' }, t('compose.recent')) : null)));
    ul.hidden = matches.length === 0;
    input.setAttribute('aria-expanded', matches.length ? 'true' : 'false');
    mark();
  };
  const ask = async () => {
    const { word } = lastToken(input.value);
    if (word.length < 1 || word.length > 200) {
      close();
      return;
    }
    const n = ++asked;
    try {
      const r = await api('GET', `/mail/contacts/complete?q=${encodeURIComponent(word)}`);
      if (n === asked && document.activeElement === input) show(r.matches || []);
    } catch (e) {
      close();
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(ask, DELAY);
    onchange();
  });
  input.addEventListener('keydown', (e) => {
    if (ul.hidden) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      active = (active + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
      mark();
    } else if ((e.key === 'Enter' || e.key === 'Tab') && active >= 0) {
      take(active);
    } else if (e.key === 'Escape') {
      close();
      e.stopPropagation();
    } else {
      return;
    }
    e.preventDefault();
  });
  input.addEventListener('blur', () => setTimeout(close, 100));
  const el = h('div', { class: 'field recipients-field' },
    h('label', { for: id }, label),
    h('div', { class: 'combo' }, input, ul));
  return {
    el, input,
    get: () => parseAddresses(input.value),
    set: (l) => { input.value = l.map(formatAddress).join(', ') + (l.length ? ', ' : ''); },
  };
}

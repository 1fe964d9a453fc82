// Pieces the list pages share: times in the reader's language, tables
// that become blocks on a phone, a card with its heading, a list that
// loads into its place, and a button that asks twice before it acts.
import { h, fill, uid } from '../dom.js';
import { lang, t } from '../i18n.js';
import { errorText } from '../ui.js';

const TIME = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' };

// An ISO 8601 time as local time, the exact one in <time datetime>.
export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return h('time', { datetime: iso }, d.toLocaleString(lang() === 'ja' ? 'ja-JP' : 'en-GB', TIME));
}

// A section with its h2 (the section is named by it).
export function card(title, ...children) {
  const id = uid('c');
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

// A table of rows: cells(row) gives the cells, the first one the row's
// header. On a phone each row is a block with the column names shown.
export function dataTable(caption, cols, rows, cells, cls) {
  return h(
    'table',
    { class: `stack ${cls || ''}` },
    h('caption', { class: 'sr-only' }, caption),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          cells(r).map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', { 'data-label': cols[i] }, c))),
        ),
      ),
    ),
  );
}

// Moves the focus to a list's place (its row's button went with the
// reload), so keyboard and screen-reader users stay where they were.
export function focusList(el) {
  el.setAttribute('tabindex', '-1');
  el.focus();
}

// Runs fn and puts what it gives into el (busy meanwhile), or the error.
export async function loadInto(el, fn) {
  el.setAttribute('aria-busy', 'true');
  try {
    fill(el, await fn());
  } catch (e) {
    fill(el, h('p', { class: 'error', role: 'alert' }, errorText(e)));
  } finally {
    el.removeAttribute('aria-busy');
  }
}

// A dangerous action that asks twice: the start button opens a question,
// its answer a last warning, and only that one runs opts.run(). Cancel
// goes back. opts: {start, what, ask1, confirm1, ask2, confirm2, run}.
export function askTwice(opts) {
  const area = h('div', { class: 'confirm' });
  const cancel = () => h('button', { type: 'button', onclick: () => step0(true) }, t('cancel'));
  function step0(focus) {
    const b = h('button', { type: 'button', class: 'danger', onclick: step1 }, opts.start);
    fill(area, opts.what ? h('p', {}, opts.what) : null, b);
    if (focus) b.focus();
  }
  function step1() {
    const b = h('button', { type: 'button', class: 'danger', onclick: step2 }, opts.confirm1);
    fill(area, h('p', { role: 'alert' }, opts.ask1), b, ' ', cancel());
    b.focus();
  }
  function step2() {
    const b = h(
      'button',
      {
        type: 'button',
        class: 'danger',
        onclick: async () => {
          b.disabled = true;
          try {
            await opts.run();
          } catch (e) {
            fill(area, h('p', { class: 'error', role: 'alert' }, errorText(e)), cancel());
          }
        },
      },
      opts.confirm2,
    );
    fill(area, h('p', { role: 'alert' }, opts.ask2), b, ' ', cancel());
    b.focus();
  }
  step0(false);
  return area;
}

// "Older entries" for a list paged by next_before: shown while there is
// a next page; onmore(before) loads it.
export function olderButton(nextBefore, onmore) {
  if (nextBefore === null || nextBefore === undefined) return null;
  return h('div', { class: 'pager' }, h('button', { type: 'button', onclick: () => onmore(nextBefore) }, t('list.older')));
}

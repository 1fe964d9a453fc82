// The mail user's sorting rules (#/me/rules): the list in order (the
// first enabled rule that matches decides), each with on/off, up/down and
// delete, and a form that adds a rule of one condition and one action.
// The server generates Sieve from them (docs/architecture.md).
import { api, seg } from '../api.js';
import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { announce, errorText, field, form } from '../ui.js';
import { card, dataTable } from './common.js';

const FIELDS = ['sender', 'recipient', 'subject', 'header', 'body'];
const MATCHES = ['contains', 'is', 'starts', 'ends', 'not-contains'];
const ACTIONS = ['move', 'copy', 'read', 'forward', 'trash', 'delete'];

function condText(c) {
  const f = c.field === 'header' ? `${t('rules.field.header')} ${c.header}` : t(`rules.field.${c.field}`);
  return t('rules.cond', { field: f, match: t(`rules.match.${c.match}`), value: c.value });
}

function actText(a) {
  return a.arg ? `${t(`rules.action.${a.type}`)}: ${a.arg}` : t(`rules.action.${a.type}`);
}

function options(list, prefix) {
  return list.map((v) => h('option', { value: v }, t(`${prefix}.${v}`)));
}

export function rulesPage(ctx) {
  const path = `/accounts/${seg(ctx.actor.name)}/rules`;
  const list = h('div', { class: 'table-wrap' }, h('p', {}, t('loading')));

  async function change(method, sub, body, msg) {
    try {
      const r = await api(method, `${path}${sub}`, body);
      show(r.rules);
      announce(msg);
    } catch (e) {
      announce(errorText(e));
    }
  }

  function show(rules) {
    if (!rules.length) {
      fill(list, h('p', {}, t('rules.none')));
      return;
    }
    const cols = [t('rules.name'), t('rules.if'), t('rules.then'), t('rules.state'), t('rules.order')];
    fill(
      list,
      dataTable(t('rules.listTitle'), cols, rules.map((r, i) => ({ ...r, pos: i + 1, last: i + 1 === rules.length })), (r) => [
        `${r.pos}. ${r.name}`,
        h('ul', { class: 'plain' }, r.conditions.map((c) => h('li', {}, condText(c)))),
        h('ul', { class: 'plain' }, r.actions.map((a) => h('li', {}, actText(a)))),
        h(
          'button',
          { type: 'button', 'aria-pressed': r.enabled ? 'true' : 'false', 'aria-label': t('rules.toggle', { name: r.name }),
            onclick: () => change('POST', `/${r.pos}/${r.enabled ? 'disable' : 'enable'}`, null,
              t(r.enabled ? 'rules.disabled' : 'rules.enabled', { name: r.name })) },
          r.enabled ? t('switch.on') : t('switch.off'),
        ),
        h(
          'span',
          { class: 'buttons' },
          h('button', { type: 'button', disabled: r.pos === 1, 'aria-label': t('rules.up', { name: r.name }),
            onclick: () => change('POST', `/${r.pos}/move`, { to: r.pos - 1 }, t('rules.moved', { name: r.name })) }, '↑'),
          h('button', { type: 'button', disabled: r.last, 'aria-label': t('rules.down', { name: r.name }),
            onclick: () => change('POST', `/${r.pos}/move`, { to: r.pos + 1 }, t('rules.moved', { name: r.name })) }, '↓'),
          h('button', { type: 'button', class: 'danger', 'aria-label': t('rules.delete', { name: r.name }),
            onclick: () => change('DELETE', `/${r.pos}`, null, t('rules.deleted', { name: r.name })) }, t('rules.del')),
        ),
      ]),
    );
  }

  (async () => {
    try {
      show((await api('GET', path)).rules);
    } catch (e) {
      fill(list, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  })();

  const name = field({ label: t('rules.name'), name: 'name', required: true });
  const fieldSel = field({ label: t('rules.field'), name: 'field', tag: 'select', options: options(FIELDS, 'rules.field') });
  const header = field({ label: t('rules.header'), name: 'header', help: t('rules.headerHelp') });
  const match = field({ label: t('rules.match'), name: 'match', tag: 'select', options: options(MATCHES, 'rules.match') });
  const value = field({ label: t('rules.value'), name: 'value', required: true });
  const action = field({ label: t('rules.action'), name: 'type', tag: 'select', options: options(ACTIONS, 'rules.action') });
  const arg = field({ label: t('rules.arg'), name: 'arg', help: t('rules.argHelp') });
  const syncHeader = () => { header.wrap.hidden = fieldSel.input.value !== 'header'; };
  const syncArg = () => { arg.wrap.hidden = !['move', 'copy', 'forward'].includes(action.input.value); };
  fieldSel.input.addEventListener('change', syncHeader);
  action.input.addEventListener('change', syncArg);
  syncHeader();
  syncArg();

  const add = form(
    {
      title: t('rules.addTitle'),
      submit: t('rules.add'),
      errorField: 'value',
      run: async (f) => {
        const cond = { field: fieldSel.input.value, match: match.input.value, value: value.input.value };
        if (cond.field === 'header') cond.header = header.input.value;
        const act = { type: action.input.value };
        if (!arg.wrap.hidden) act.arg = arg.input.value;
        const r = await api('POST', path, { name: name.input.value, enabled: true, conditions: [cond], actions: [act] });
        show(r.rules);
        announce(t('rules.added', { name: name.input.value }));
        f.reset();
        syncHeader();
        syncArg();
      },
    },
    h('p', { class: 'help' }, t('rules.addLead')),
    name.wrap,
    fieldSel.wrap,
    header.wrap,
    match.wrap,
    value.wrap,
    action.wrap,
    arg.wrap,
  );

  return h(
    'section',
    {},
    h('h1', { tabindex: -1 }, t('rules.title')),
    h('p', { class: 'lead' }, t('rules.lead')),
    card(t('rules.listTitle'), list),
    add,
  );
}

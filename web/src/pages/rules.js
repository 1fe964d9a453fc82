// The mail user's sorting rules (#/me/rules): the list in order (the
// first enabled rule that matches decides), each with on/off, up/down and
// delete, and a form that adds a rule of up to 3 conditions (all must
// match) and up to 4 actions, rows added and taken away.
// The server generates Sieve from them (docs/architecture.md).
import { api, seg } from '../api.js';
import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { announce, errorText, field, form } from '../ui.js';
import { card, dataTable } from './common.js';

const FIELDS = ['sender', 'recipient', 'subject', 'header', 'body'];
const MATCHES = ['contains', 'is', 'starts', 'ends', 'not-contains'];
const ACTIONS = ['move', 'copy', 'read', 'forward', 'trash', 'delete'];
const MAX_CONDS = 3; // src/ops/ops_rules.h RULES_CONDS_MAX
const MAX_ACTS = 4; // RULES_ACTIONS_MAX

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

  // Rows of conditions (AND, up to MAX_CONDS) and actions (up to
  // MAX_ACTS), each a fieldset named "Condition N" / "Action N" with its
  // own fields and a button that takes it away (the last one stays).
  const condBox = h('div', { class: 'rule-rows' });
  const actBox = h('div', { class: 'rule-rows' });
  let conds = [];
  let acts = [];

  function condRow() {
    const fieldSel = field({ label: t('rules.field'), name: 'field', tag: 'select', options: options(FIELDS, 'rules.field') });
    const header = field({ label: t('rules.header'), name: 'header', help: t('rules.headerHelp') });
    const match = field({ label: t('rules.match'), name: 'match', tag: 'select', options: options(MATCHES, 'rules.match') });
    const value = field({ label: t('rules.value'), name: 'value', required: true });
    const legend = h('legend', {});
    const remove = h('button', { type: 'button', class: 'link' });
    const row = { fieldSel, header, match, value, legend, remove };
    row.removeWrap = h('p', {}, remove); // (button's display rule would override hidden)
    row.el = h('fieldset', { class: 'rule-row' }, legend, fieldSel.wrap, header.wrap, match.wrap, value.wrap, row.removeWrap);
    const sync = () => { header.wrap.hidden = fieldSel.input.value !== 'header'; };
    fieldSel.input.addEventListener('change', sync);
    sync();
    remove.addEventListener('click', () => {
      conds = conds.filter((c) => c !== row);
      renumber();
      conds[conds.length - 1].fieldSel.input.focus();
    });
    return row;
  }

  function actRow() {
    const action = field({ label: t('rules.action'), name: 'type', tag: 'select', options: options(ACTIONS, 'rules.action') });
    const arg = field({ label: t('rules.arg'), name: 'arg', help: t('rules.argHelp') });
    const legend = h('legend', {});
    const remove = h('button', { type: 'button', class: 'link' });
    const row = { action, arg, legend, remove };
    row.removeWrap = h('p', {}, remove);
    row.el = h('fieldset', { class: 'rule-row' }, legend, action.wrap, arg.wrap, row.removeWrap);
    const sync = () => { arg.wrap.hidden = !['move', 'copy', 'forward'].includes(action.input.value); };
    action.input.addEventListener('change', sync);
    sync();
    remove.addEventListener('click', () => {
      acts = acts.filter((a) => a !== row);
      renumber();
      acts[acts.length - 1].action.input.focus();
    });
    return row;
  }

  const moreCond = h('button', { type: 'button' }, t('rules.moreCond'));
  const moreAct = h('button', { type: 'button' }, t('rules.moreAct'));
  const moreCondWrap = h('p', {}, moreCond);
  const moreActWrap = h('p', {}, moreAct);
  moreCond.addEventListener('click', () => {
    conds.push(condRow());
    renumber();
    conds[conds.length - 1].fieldSel.input.focus();
  });
  moreAct.addEventListener('click', () => {
    acts.push(actRow());
    renumber();
    acts[acts.length - 1].action.input.focus();
  });

  function renumber() {
    conds.forEach((c, i) => {
      c.legend.textContent = t('rules.condN', { n: i + 1 });
      c.remove.textContent = t('rules.removeCond', { n: i + 1 });
      c.removeWrap.hidden = conds.length === 1;
    });
    acts.forEach((a, i) => {
      a.legend.textContent = t('rules.actN', { n: i + 1 });
      a.remove.textContent = t('rules.removeAct', { n: i + 1 });
      a.removeWrap.hidden = acts.length === 1;
    });
    fill(condBox, ...conds.map((c) => c.el));
    fill(actBox, ...acts.map((a) => a.el));
    moreCondWrap.hidden = conds.length >= MAX_CONDS;
    moreActWrap.hidden = acts.length >= MAX_ACTS;
  }

  function resetRows() {
    conds = [condRow()];
    acts = [actRow()];
    renumber();
  }
  resetRows();

  const add = form(
    {
      title: t('rules.addTitle'),
      submit: t('rules.add'),
      errorField: 'value',
      run: async (f) => {
        const conditions = conds.map((c) => {
          const cond = { field: c.fieldSel.input.value, match: c.match.input.value, value: c.value.input.value };
          if (cond.field === 'header') cond.header = c.header.input.value;
          return cond;
        });
        const actions = acts.map((a) => {
          const act = { type: a.action.input.value };
          if (!a.arg.wrap.hidden) act.arg = a.arg.input.value;
          return act;
        });
        const r = await api('POST', path, { name: name.input.value, enabled: true, conditions, actions });
        show(r.rules);
        announce(t('rules.added', { name: name.input.value }));
        f.reset();
        resetRows();
      },
    },
    h('p', { class: 'help' }, t('rules.addLead')),
    name.wrap,
    h('h3', {}, t('rules.condsTitle')),
    condBox,
    moreCondWrap,
    h('h3', {}, t('rules.actsTitle')),
    actBox,
    moreActWrap,
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

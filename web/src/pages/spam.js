// The spam filter of a domain or an account: the switch, the level (1-6,
// each explained), where spam goes, the virus check (domains only), and
// the allow and block lists (/spam-lists). Used by the domain's spam
// page, the account page and the mail panel.
import { api, seg } from '../api.js';
import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { announce, errorText, field, form, toggle } from '../ui.js';
import { card, dataTable, focusList, loadInto } from './common.js';
import { loadSchema, settingLabel } from './settings.js';
import { domainTabs } from './tabs.js';

const LEVELS = [1, 2, 3, 4, 5, 6];
const ACTIONS = ['inbox', 'junk', 'trash', 'delete'];

function isOn(v) {
  return ['on', 'yes', 'true', '1'].includes(String(v).toLowerCase());
}

// opts: scope ('domain' or 'account'), target, title (the h2), lead.
export function spamSection(opts) {
  const base = opts.scope === 'domain' ? `/domains/${seg(opts.target)}` : `/accounts/${seg(opts.target)}`;
  const controls = h('div', { 'aria-busy': 'true' }, h('p', {}, t('loading')));
  const put = async (key, v) => {
    const r = await api('PUT', `${base}/settings/${seg(key)}`, { value: v });
    const shown = r && r.value !== undefined ? r.value : v;
    announce(t('settings.saved', { name: settingLabel(key), value: valueText(key, shown) }));
    return r;
  };

  (async () => {
    try {
      const [schema, values] = await Promise.all([loadSchema(), api('GET', `${base}/settings`)]);
      const byKey = new Map((values.settings || []).map((v) => [v.key, v]));
      const value = (k) => {
        const e = byKey.get(k);
        const s = schema.find((x) => x.key === k);
        if (e && e.value !== undefined && e.value !== null && e.value !== '') return String(e.value);
        return String((e && e.default) ?? (s && s.default) ?? '');
      };
      const parts = [];
      // an account's values are its domain's until one is set here
      if (opts.scope === 'account' && !['spam', 'spam-level', 'spam-action'].some((k) => byKey.get(k) && byKey.get(k).set)) {
        parts.push(h('p', { class: 'help spam-follows' }, t('spam.followsDomain')));
      }
      if (byKey.has('spam')) parts.push(switchOf('spam', isOn(value('spam')), put));
      if (byKey.has('spam-level')) parts.push(levelForm(value('spam-level') || '3', put));
      if (byKey.has('spam-action')) parts.push(actionForm(value('spam-action') || 'inbox', put));
      if (opts.scope === 'domain' && byKey.has('virus')) parts.push(switchOf('virus', isOn(value('virus')), put));
      fill(controls, parts);
    } catch (e) {
      fill(controls, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    } finally {
      controls.removeAttribute('aria-busy');
    }
  })();

  return card(
    opts.title || t('spam.title'),
    h('p', { class: 'help' }, opts.lead || t(opts.scope === 'domain' ? 'spam.leadDomain' : 'spam.leadAccount')),
    controls,
    listBox(base, 'allow'),
    listBox(base, 'block'),
  );
}

function valueText(key, v) {
  if (key === 'spam-level') return t(`spam.level${v}`) === `spam.level${v}` ? v : `${v} ${t(`spam.level${v}`)}`;
  if (key === 'spam-action') return t(`spam.action.${v}`) === `spam.action.${v}` ? v : t(`spam.action.${v}`);
  if (key === 'spam' || key === 'virus') return isOn(v) ? t('switch.on') : t('switch.off');
  return v;
}

function switchOf(key, on, put) {
  return toggle({
    name: key,
    label: settingLabel(key),
    help: t(`spam.help.${key}`),
    checked: on,
    onchange: (v) => put(key, v ? 'on' : 'off'),
  }).wrap;
}

function levelForm(current, put) {
  const options = LEVELS.map((n) => h('option', { value: String(n) }, `${n} — ${t(`spam.level${n}`)}`));
  const f = field({ tag: 'select', label: settingLabel('spam-level'), name: 'value', options, help: t('spam.levelHelp') });
  f.input.value = current;
  const explain = h(
    'dl',
    { class: 'spam-levels' },
    LEVELS.map((n) => [h('dt', {}, String(n)), h('dd', {}, t(`spam.levelText${n}`))]),
  );
  return form(
    { class: 'setting', label: settingLabel('spam-level'), submit: t('save'), run: () => put('spam-level', f.input.value) },
    f.wrap,
    explain,
  );
}

function actionForm(current, put) {
  const options = ACTIONS.map((a) => h('option', { value: a }, t(`spam.action.${a}`)));
  const f = field({ tag: 'select', label: settingLabel('spam-action'), name: 'value', options, help: t('spam.actionHelp') });
  f.input.value = current;
  return form(
    { class: 'setting', label: settingLabel('spam-action'), submit: t('save'), run: () => put('spam-action', f.input.value) },
    f.wrap,
  );
}

// One list (allow or block): the add form with its error line and the
// patterns with a Remove button each.
function listBox(base, kind) {
  const list = h('div', { class: 'table-wrap' });
  const title = t(`spam.${kind}Title`);
  async function load() {
    const r = await api('GET', `${base}/spam-lists?list=${kind}`);
    const rows = r.entries || [];
    if (!rows.length) return h('p', {}, t(`spam.${kind}None`));
    return dataTable(title, [t('spam.pattern'), t('spam.actions')], rows, (e) => [
      e.pattern,
      h(
        'button',
        {
          type: 'button',
          'aria-label': t('spam.removeOf', { pattern: e.pattern }),
          onclick: async (ev) => {
            ev.target.disabled = true;
            try {
              await api('DELETE', `${base}/spam-lists?list=${kind}&pattern=${encodeURIComponent(e.pattern)}`);
              announce(t(`spam.${kind}Removed`, { pattern: e.pattern }));
              await loadInto(list, load);
              focusList(list);
            } catch (err) {
              ev.target.disabled = false;
              announce(errorText(err));
            }
          },
        },
        t('spam.remove'),
      ),
    ]);
  }
  const pattern = field({ label: t(`spam.${kind}Add`), name: 'pattern', help: t('spam.patternHelp'), attrs: { maxlength: 320 } });
  const add = form(
    {
      label: title,
      submit: t('spam.add'),
      run: async (f) => {
        const r = await api('POST', `${base}/spam-lists`, { list: kind, pattern: pattern.input.value.trim() });
        f.reset();
        announce(t(`spam.${kind}Added`, { pattern: r && r.pattern ? r.pattern : pattern.input.value }));
        await loadInto(list, load);
      },
      errorField: 'pattern',
    },
    pattern.wrap,
  );
  loadInto(list, load);
  return h('section', { class: `spam-list spam-${kind}` }, h('h3', {}, title), h('p', { class: 'help' }, t(`spam.${kind}Lead`)), add, list);
}

// The keys this section shows (the general settings leave them out).
export const SPAM_KEYS = ['spam', 'spam-level', 'spam-action', 'virus'];

// A domain's own spam page (#/d/DOMAIN/spam).
export function spamPage(ctx, domain) {
  return h(
    'section',
    {},
    domainTabs(domain, 'spam'),
    h('h1', { tabindex: -1 }, t('spam.domainTitle', { domain })),
    spamSection({ scope: 'domain', target: domain, title: t('spam.title') }),
  );
}

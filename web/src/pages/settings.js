// Settings forms rendered from the settings table (/api/v1/settings/schema)
// and the values of one domain or account: on/off settings are switches
// that save at once, the others a field with its own Save button.
import { api, seg } from '../api.js';
import { h, clear, fill } from '../dom.js';
import { lang, t } from '../i18n.js';
import { announce, errorText, field, form, toggle } from '../ui.js';

let schemaCache = null;

export async function loadSchema() {
  if (!schemaCache) {
    schemaCache = api('GET', '/settings/schema').then((r) => r.settings || []);
    schemaCache.catch(() => {
      schemaCache = null;
    });
  }
  return schemaCache;
}

const BOOL_TYPES = ['bool', 'boolean'];

export function isBool(s) {
  return BOOL_TYPES.includes(String(s.type).toLowerCase());
}

// The name a person reads for a setting: the catalogue's, else the key.
export function settingLabel(key) {
  const k = `set.${key}`;
  const s = t(k);
  return s === k ? key : s;
}

function helpOf(s) {
  if (!s.help) return '';
  if (typeof s.help === 'string') return s.help;
  return s.help[lang()] || s.help.en || '';
}

function isOn(v) {
  return ['on', 'yes', 'true', '1'].includes(String(v).toLowerCase());
}

const COLUMNS = ['memo', 'enabled'];

// One setting's control, with a button that removes the own value (the
// account then follows its domain, the domain the default) while one is
// set. base: '/domains/D' or '/accounts/A'.
export function settingControl(base, s, entry) {
  const box = h('div', { class: 'setting-box' });
  let reset = null;
  const showReset = () => {
    if (reset || COLUMNS.includes(s.key)) return;
    reset = h('button', { type: 'button', class: 'reset' }, t('settings.reset'));
    reset.addEventListener('click', async () => {
      try {
        const r = await api('DELETE', `${base}/settings/${seg(s.key)}`);
        announce(t('settings.resetDone', { name: settingLabel(s.key), value: r.value }));
        box.replaceWith(settingControl(base, s, { ...entry, value: r.value, set: false }));
      } catch (e) {
        announce(errorText(e));
      }
    });
    box.append(reset);
  };
  box.append(settingInput(base, s, entry, showReset));
  if (entry && entry.set) showReset();
  return box;
}

function settingInput(base, s, entry, saved) {
  const key = s.key;
  const value = entry ? entry.value ?? '' : '';
  const put = async (v) => {
    const r = await api('PUT', `${base}/settings/${seg(key)}`, { value: v });
    let msg = t('settings.saved', { name: settingLabel(key), value: r && r.value !== undefined ? r.value : v });
    if (r && r.warning) msg += ` ${r.warning}`;
    announce(msg);
    saved();
    return r;
  };
  if (isBool(s)) {
    return toggle({
      name: key,
      label: settingLabel(key),
      help: helpOf(s),
      checked: isOn(value !== '' ? value : s.default),
      onchange: (on) => put(on ? 'on' : 'off'),
    }).wrap;
  }
  const def = entry && entry.default !== undefined && entry.default !== null ? entry.default : s.default;
  const help = [helpOf(s), def !== undefined && def !== null && def !== '' ? t('settings.default', { value: def }) : '']
    .filter(Boolean)
    .join(' ');
  let f;
  if (Array.isArray(s.choices) && s.choices.length) {
    const options = s.choices.map((c) => h('option', { value: c }, c));
    f = field({ tag: 'select', label: settingLabel(key), name: 'value', help, options });
    f.input.value = value || def || s.choices[0];
  } else {
    f = field({ label: settingLabel(key), name: 'value', value, help, attrs: { placeholder: def || '' } });
  }
  return form(
    {
      class: 'setting',
      label: settingLabel(key),
      submit: t('save'),
      run: async () => {
        const r = await put(f.input.value.trim());
        if (r && r.value !== undefined && f.input.tagName !== 'SELECT') f.input.value = r.value;
      },
    },
    f.wrap,
  );
}

// A section with the settings of one target. opts: scope ('domain' or
// 'account'), target (the domain or address), groups ([[title key,
// [setting keys]]...]; the rest go under "other"), only (keys to show),
// skip (keys to leave out), title.
export function settingsSection(opts) {
  const base = opts.scope === 'domain' ? `/domains/${seg(opts.target)}` : `/accounts/${seg(opts.target)}`;
  const body = h('div', { 'aria-busy': 'true' }, h('p', {}, t('loading')));
  const sec = h('section', { class: 'settings' }, opts.title === null ? null : h('h2', {}, opts.title || t('settings.title')), body);

  (async () => {
    try {
      const [schema, values] = await Promise.all([loadSchema(), api('GET', `${base}/settings`)]);
      const byKey = new Map((values.settings || []).map((v) => [v.key, v]));
      let list = schema.filter((s) => (s.scopes || []).includes(opts.scope) && byKey.has(s.key));
      if (opts.only) list = opts.only.map((k) => list.find((s) => s.key === k)).filter(Boolean);
      if (opts.skip) list = list.filter((s) => !opts.skip.includes(s.key));
      clear(body);
      const placed = new Set();
      for (const [title, keys] of opts.groups || []) {
        const items = keys.map((k) => list.find((s) => s.key === k)).filter(Boolean);
        if (!items.length) continue;
        items.forEach((s) => placed.add(s.key));
        body.append(h('fieldset', { class: 'group' }, h('legend', {}, t(title)), items.map((s) => settingControl(base, s, byKey.get(s.key)))));
      }
      const rest = list.filter((s) => !placed.has(s.key));
      if (rest.length) {
        const controls = rest.map((s) => settingControl(base, s, byKey.get(s.key)));
        body.append(opts.groups ? h('fieldset', { class: 'group' }, h('legend', {}, t('settings.other')), controls) : h('div', { class: 'group' }, controls));
      }
    } catch (e) {
      fill(body, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    } finally {
      body.removeAttribute('aria-busy');
    }
  })();
  return sec;
}

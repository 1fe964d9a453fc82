// The mail panel of a mail user: usage, own spam filter and allow and
// block lists, own password, forwarding, own
// login history with the refused attempts.
import { api, seg } from '../api.js';
import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { announce, errorText, field, form, passwordField, usage } from '../ui.js';
import { settingsSection } from './settings.js';
import { card, dataTable, loadInto, olderButton, when } from './common.js';
import { spamSection } from './spam.js';

export function mePage(ctx) {
  const address = ctx.actor.name;
  const path = `/accounts/${seg(address)}`;
  const used = h('div', { class: 'card' }, h('h2', {}, t('me.usage')), h('p', {}, t('loading')));

  (async () => {
    try {
      const r = await api('GET', path);
      fill(used, h('h2', {}, t('me.usage')), usage(r.account.used_bytes, r.account.quota_mb));
    } catch (e) {
      fill(used, h('h2', {}, t('me.usage')), h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  })();

  const current = field({ label: t('password.current'), name: 'current', type: 'password', autocomplete: 'current-password' });
  const pw = passwordField({ label: t('password.new') });
  const again = field({ label: t('password.again'), name: 'again', type: 'password', autocomplete: 'new-password' });
  const pwForm = form(
    {
      title: t('me.passwordTitle'),
      submit: t('password.change'),
      run: async (f) => {
        if (pw.input.value !== again.input.value) throw new Error(t('password.mismatch'));
        await api('POST', `${path}/password`, { current: current.input.value, password: pw.input.value });
        f.reset();
        pw.input.dispatchEvent(new Event('input'));
        announce(t('me.passwordChanged'));
      },
      errorField: 'again',
    },
    h('p', { class: 'help' }, t('me.passwordLead')),
    current.wrap,
    pw.wrap,
    again.wrap,
  );

  return h(
    'section',
    {},
    h('h1', { tabindex: -1 }, t('me.title')),
    h('p', { class: 'lead' }, address),
    used,
    spamSection({ scope: 'account', target: address, title: t('spam.title'), lead: t('spam.leadMe') }),
    pwForm,
    settingsSection({ scope: 'account', target: address, only: ['forward', 'forward-keep'], title: t('me.forwardTitle') }),
    loginsSection(),
  );
}

// The account's own logins and refused attempts, newest first.
function loginsSection() {
  const list = h('div', { class: 'table-wrap' });
  async function load(before) {
    const r = await api('GET', `/me/logins${before ? `?before=${before}` : ''}`);
    const rows = r.logins || [];
    if (!rows.length) return h('p', {}, t('me.noLogins'));
    const cols = [t('events.time'), t('me.result'), t('events.ip'), t('events.text')];
    return [
      dataTable(t('me.logins'), cols, rows, (e) => [
        when(e.time),
        h('span', { class: e.kind === 'auth-ok' ? 'login-ok' : 'login-refused' }, loginKind(e.kind)),
        e.ip || '—',
        e.text || e.detail,
      ]),
      olderButton(r.next_before, (b) => loadInto(list, () => load(b))),
    ];
  }
  loadInto(list, () => load());
  return card(t('me.logins'), h('p', { class: 'help' }, t('me.loginsLead')), list);
}

function loginKind(kind) {
  const k = `login.kind.${kind}`;
  const s = t(k);
  return s === k ? kind : s;
}

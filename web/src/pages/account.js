// One account, for its administrators: usage, quota, memo, enabled,
// password, unsuspend, its spam filter and lists, its own settings, and delete (asked twice).
import { api, seg } from '../api.js';
import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { announce, errorText, field, form, passwordField, toggle, usage } from '../ui.js';
import { settingsSection } from './settings.js';
import { statusText } from './accounts.js';
import { askTwice } from './common.js';
import { SPAM_KEYS, spamSection } from './spam.js';

export function accountPage(ctx, address) {
  const domain = address.includes('@') ? address.slice(address.lastIndexOf('@') + 1) : '';
  const body = h('div', { 'aria-busy': 'true' }, h('p', {}, t('loading')));
  const path = `/accounts/${seg(address)}`;

  async function load() {
    try {
      const r = await api('GET', path);
      render(r.account);
    } catch (e) {
      fill(body, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    } finally {
      body.removeAttribute('aria-busy');
    }
  }

  const summaryBox = h('div', {});

  // Only the summary is drawn again after a change, so the focus stays
  // where the person was.
  function renderSummary(a) {
    fill(summaryBox, summary(a));
  }

  function render(a) {
    renderSummary(a);
    let current = a;
    const patch = async (changes, msg) => {
      const r = await api('PATCH', path, changes);
      announce(msg);
      current = r && r.account ? r.account : { ...current, ...changes };
      renderSummary(current);
    };
    const quota = field({ label: t('account.quota'), name: 'quota_mb', type: 'number', value: a.quota_mb, attrs: { min: 1, inputmode: 'numeric' }, help: t('add.quotaHelp') });
    const quotaForm = form(
      { title: t('account.quotaTitle'), submit: t('save'), run: () => patch({ quota_mb: Number(quota.input.value) }, t('account.quotaSaved', { mb: quota.input.value })) },
      quota.wrap,
    );
    const memo = field({ label: t('accounts.memo'), name: 'memo', value: a.memo || '', attrs: { maxlength: 200 } });
    const memoForm = form({ title: t('account.memoTitle'), submit: t('save'), run: () => patch({ memo: memo.input.value }, t('account.memoSaved')) }, memo.wrap);
    const enabled = toggle({
      name: 'enabled',
      label: t('account.enabledSwitch'),
      help: t('account.enabledHelp'),
      checked: a.enabled !== false,
      onchange: (on) => patch({ enabled: on }, on ? t('account.enabledOn') : t('account.enabledOff')),
    });
    const pw = passwordField({ label: t('password.new') });
    const pwForm = form(
      {
        title: t('account.passwordTitle'),
        submit: t('password.change'),
        run: async (f) => {
          await api('POST', `${path}/password`, { password: pw.input.value });
          f.reset();
          announce(t('password.changed'));
        },
      },
      pw.wrap,
    );
    const unsuspend = a.suspended
      ? h(
          'section',
          { class: 'card warn' },
          h('h2', {}, t('account.suspendedTitle')),
          h('p', {}, a.suspended_reason || t('account.suspendedText')),
          h(
            'button',
            {
              type: 'button',
              onclick: async (ev) => {
                ev.target.disabled = true;
                try {
                  const r = await api('POST', `${path}/unsuspend`, {});
                  announce(r && r.lifted ? t('account.unsuspended') : t('account.notSuspended'));
                  await load();
                } catch (e) {
                  announce(errorText(e));
                  ev.target.disabled = false;
                }
              },
            },
            t('account.unsuspend'),
          ),
        )
      : null;
    fill(body, 
      summaryBox,
      unsuspend,
      h('div', { class: 'grid' }, quotaForm, memoForm, h('section', { class: 'form' }, h('h2', {}, t('account.enabledTitle')), enabled.wrap), pwForm),
      spamSection({ scope: 'account', target: address }),
      settingsSection({ scope: 'account', target: address, skip: ['memo', 'enabled', ...SPAM_KEYS] }),
      deleteSection(ctx, address, domain),
    );
  }

  load();
  return h(
    'section',
    {},
    h('p', { class: 'crumb' }, h('a', { href: '#/domains' }, t('nav.domains')), ' › ', h('a', { href: `#/d/${encodeURIComponent(domain)}` }, domain), ' › ', address),
    h('h1', { tabindex: -1 }, address),
    body,
  );
}

function summary(a) {
  return h(
    'dl',
    { class: 'summary' },
    h('dt', {}, t('accounts.usage')),
    h('dd', {}, usage(a.used_bytes, a.quota_mb)),
    h('dt', {}, t('accounts.status')),
    h('dd', { class: 'account-state' }, statusText(a)),
    h('dt', {}, t('accounts.memo')),
    h('dd', {}, a.memo || '—'),
  );
}

// Delete asks twice: the first button opens a question, its answer a
// last warning, and only that one deletes.
function deleteSection(ctx, address, domain) {
  return h(
    'section',
    { class: 'card danger-zone' },
    h('h2', {}, t('delete.title')),
    askTwice({
      start: t('delete.start'),
      what: t('delete.what'),
      ask1: t('delete.ask1', { address }),
      confirm1: t('delete.confirm1'),
      ask2: t('delete.ask2', { address }),
      confirm2: t('delete.confirm2'),
      run: async () => {
        await api('DELETE', `/accounts/${seg(address)}`);
        announce(t('delete.done', { address }));
        ctx.go(`#/d/${encodeURIComponent(domain)}`);
      },
    }),
  );
}

// Administrators and API tokens (server administrators): list, add and
// delete administrators; create, list and revoke tokens, the secret of a
// new token shown once.
import { api, seg } from '../api.js';
import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { announce, errorText, field, form, passwordField } from '../ui.js';
import { card, dataTable, focusList, loadInto, when } from './common.js';

function domainsOf(text) {
  return text
    .split(/[\s,]+/)
    .map((d) => d.trim())
    .filter(Boolean);
}

function roleSelect(name) {
  return field({
    tag: 'select',
    label: t('admins.role'),
    name,
    options: [h('option', { value: 'server' }, t('admins.role.server')), h('option', { value: 'domain' }, t('admins.role.domain'))],
  });
}

// A row's button that asks once more in its place before it acts.
function confirmButton(label, aria, question, yes, run) {
  const cell = h('div', { class: 'confirm' });
  function start(focus) {
    const b = h('button', { type: 'button', class: 'danger', 'aria-label': aria, onclick: ask }, label);
    fill(cell, b);
    if (focus) b.focus();
  }
  function ask() {
    const b = h(
      'button',
      {
        type: 'button',
        class: 'danger',
        onclick: async () => {
          b.disabled = true;
          try {
            await run();
          } catch (e) {
            fill(cell, h('span', { class: 'error', role: 'alert' }, errorText(e)));
          }
        },
      },
      yes,
    );
    fill(cell, h('span', { role: 'alert' }, question), ' ', b, ' ', h('button', { type: 'button', onclick: () => start(true) }, t('cancel')));
    b.focus();
  }
  start(false);
  return cell;
}

export function adminsPage(ctx) {
  const admins = h('div', { class: 'table-wrap' });
  const tokens = h('div', { class: 'table-wrap' });
  const created = h('div', { class: 'token-once' });

  const loadAdmins = () =>
    loadInto(admins, async () => {
      const r = await api('GET', '/admins');
      const cols = [t('admins.name'), t('admins.role'), t('admins.domains'), t('admins.created'), t('security.action')];
      return dataTable(t('admins.title'), cols, r.admins || [], (a) => [
        a.name,
        t(`admins.role.${a.role}`),
        (a.domains || []).join(', ') || '—',
        when(a.created),
        a.name === ctx.actor.name
          ? t('admins.you')
          : confirmButton(t('admins.delete'), t('admins.deleteOf', { name: a.name }), t('admins.ask', { name: a.name }), t('admins.confirm'), async () => {
              await api('DELETE', `/admins/${seg(a.name)}`);
              announce(t('admins.deleted', { name: a.name }));
              await loadAdmins();
              focusList(admins);
            }),
      ]);
    });

  const loadTokens = () =>
    loadInto(tokens, async () => {
      const r = await api('GET', '/tokens');
      const rows = r.tokens || [];
      if (!rows.length) return h('p', {}, t('tokens.none'));
      const cols = [t('tokens.id'), t('admins.role'), t('admins.domains'), t('admins.created'), t('tokens.expires'), t('tokens.lastUsed'), t('security.action')];
      return dataTable(t('tokens.title'), cols, rows, (k) => [
        h('code', {}, k.id),
        t(`admins.role.${k.role}`),
        (k.domains || []).join(', ') || '—',
        when(k.created),
        k.expires ? when(k.expires) : t('tokens.never'),
        k.last_used ? when(k.last_used) : t('tokens.unused'),
        k.revoked
          ? t('tokens.revoked')
          : confirmButton(t('tokens.revoke'), t('tokens.revokeOf', { id: k.id }), t('tokens.ask', { id: k.id }), t('tokens.confirm'), async () => {
              await api('DELETE', `/tokens/${seg(k.id)}`);
              announce(t('tokens.revokedDone', { id: k.id }));
              await loadTokens();
              focusList(tokens);
            }),
      ]);
    });

  // add an administrator
  const name = field({ label: t('admins.name'), name: 'name', autocomplete: 'off' });
  const role = roleSelect('role');
  const domains = field({ label: t('admins.domains'), name: 'domains', help: t('admins.domainsHelp') });
  const password = passwordField({ label: t('add.password') });
  const addForm = form(
    {
      title: t('admins.add'),
      submit: t('admins.addSubmit'),
      run: async (f) => {
        const body = { name: name.input.value.trim(), role: role.input.value, password: password.input.value };
        if (role.input.value === 'domain') body.domains = domainsOf(domains.input.value);
        const r = await api('POST', '/admins', body);
        announce(t('admins.added', { name: r.admin.name }));
        f.reset();
        password.input.dispatchEvent(new Event('input'));
        await loadAdmins();
      },
    },
    name.wrap,
    role.wrap,
    domains.wrap,
    password.wrap,
  );

  // create a token: its secret is shown here once
  const trole = roleSelect('role');
  const tdomains = field({ label: t('admins.domains'), name: 'domains', help: t('admins.domainsHelp') });
  const days = field({ label: t('tokens.days'), name: 'expires_in', type: 'number', value: '90', attrs: { min: 1, max: 3650, inputmode: 'numeric' }, help: t('tokens.daysHelp') });
  const tokenForm = form(
    {
      title: t('tokens.create'),
      submit: t('tokens.createSubmit'),
      run: async () => {
        const body = { role: trole.input.value };
        if (trole.input.value === 'domain') body.domains = domainsOf(tdomains.input.value);
        const n = Number(days.input.value);
        if (days.input.value.trim() !== '') body.expires_in = Number.isFinite(n) ? Math.round(n * 86400) : 0;
        const r = await api('POST', '/tokens', body);
        showOnce(r);
        await loadTokens();
      },
    },
    trole.wrap,
    tdomains.wrap,
    days.wrap,
  );

  function showOnce(r) {
    const secret = field({ label: t('tokens.secret'), name: 'secret', value: r.token, attrs: { readonly: true, class: 'mono' }, help: t('tokens.once') });
    const done = h('button', { type: 'button', onclick: () => { fill(created); focusList(tokens); } }, t('tokens.stored'));
    const box = card(t('tokens.createdTitle', { id: r.id }), secret.wrap, h('div', { class: 'actions' }, done));
    box.classList.add('notice');
    fill(created, box);
    secret.input.focus();
    secret.input.select();
    announce(t('tokens.created', { id: r.id }));
  }

  loadAdmins();
  loadTokens();
  return h(
    'section',
    {},
    h('h1', { tabindex: -1 }, t('admins.pageTitle')),
    card(t('admins.title'), admins),
    addForm,
    card(t('tokens.title'), h('p', { class: 'help' }, t('tokens.lead')), tokens),
    created,
    tokenForm,
  );
}

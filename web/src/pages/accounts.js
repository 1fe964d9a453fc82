// The accounts of one domain: search, paging, usage bars, add one, bulk
// add (all or nothing; the server names the bad line) and CSV export.
import { api, apiUrl, seg } from '../api.js';
import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { announce, errorText, field, form, passwordField, usage } from '../ui.js';
import { domainTabs } from './tabs.js';

const PAGE = 50;
const BULK_MAX = 100;

export function statusText(a) {
  if (a.suspended) return t('account.suspended');
  return a.enabled === false ? t('account.disabled') : t('account.enabled');
}

export function accountsPage(ctx, domain) {
  let q = '';
  let offset = 0;
  const count = h('p', { class: 'count', 'aria-live': 'polite' });
  const list = h('div', { class: 'table-wrap' });
  const prev = h('button', { type: 'button', onclick: () => turn(-PAGE) }, t('paging.prev'));
  const next = h('button', { type: 'button', onclick: () => turn(PAGE) }, t('paging.next'));
  const pager = h('nav', { class: 'pager', 'aria-label': t('paging.label') }, prev, next);

  function turn(by) {
    offset = Math.max(0, offset + by);
    load();
  }

  async function load() {
    list.setAttribute('aria-busy', 'true');
    try {
      const path = `/domains/${seg(domain)}/accounts?q=${encodeURIComponent(q)}&offset=${offset}&limit=${PAGE}`;
      const data = await api('GET', path);
      const rows = data.accounts || [];
      const total = Number(data.total) || 0;
      count.textContent =
        total === 0 ? t('accounts.none') : t('accounts.range', { from: offset + 1, to: offset + rows.length, total });
      prev.disabled = offset === 0;
      next.disabled = offset + rows.length >= total;
      fill(list, rows.length ? table(rows) : '');
    } catch (e) {
      fill(list, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    } finally {
      list.removeAttribute('aria-busy');
    }
  }

  function table(rows) {
    const col = (k) => h('th', { scope: 'col' }, t(k));
    return h(
      'table',
      { class: 'accounts' },
      h('caption', { class: 'sr-only' }, t('accounts.title', { domain })),
      h('thead', {}, h('tr', {}, col('accounts.address'), col('accounts.usage'), col('accounts.status'), col('accounts.memo'))),
      h(
        'tbody',
        {},
        rows.map((a) =>
          h(
            'tr',
            { class: a.suspended ? 'suspended' : a.enabled === false ? 'disabled' : null },
            h('th', { scope: 'row' }, h('a', { href: `#/a/${encodeURIComponent(a.address)}` }, a.address)),
            h('td', { 'data-label': t('accounts.usage') }, usage(a.used_bytes, a.quota_mb)),
            h('td', { 'data-label': t('accounts.status') }, statusText(a)),
            h('td', { class: 'memo', 'data-label': t('accounts.memo') }, a.memo || ''),
          ),
        ),
      ),
    );
  }

  const search = field({ label: t('accounts.search'), name: 'q', type: 'search' });
  const searchForm = form(
    {
      class: 'inline',
      label: t('accounts.search'),
      submit: t('accounts.searchSubmit'),
      run: async () => {
        q = search.input.value.trim();
        offset = 0;
        await load();
      },
    },
    search.wrap,
  );

  const csv = h('a', { class: 'button', href: apiUrl(`/domains/${seg(domain)}/accounts.csv`), download: `${domain}-accounts.csv` }, t('accounts.csv'));

  load();
  return h(
    'section',
    {},
    domainTabs(domain, 'accounts'),
    h('h1', { tabindex: -1 }, t('accounts.title', { domain })),
    h('div', { class: 'toolbar' }, searchForm, csv),
    count,
    list,
    pager,
    addForm(domain, load),
    bulkForm(domain, load),
  );
}

function addForm(domain, reload) {
  const address = field({ label: t('add.address'), name: 'address', autocomplete: 'off', help: t('add.addressHelp', { domain }) });
  const password = passwordField({ label: t('add.password') });
  const quota = field({ label: t('add.quota'), name: 'quota_mb', type: 'number', attrs: { min: 1, inputmode: 'numeric' }, help: t('add.quotaHelp') });
  const memo = field({ label: t('add.memo'), name: 'memo', attrs: { maxlength: 200 } });
  return form(
    {
      title: t('add.title'),
      submit: t('add.submit'),
      run: async (f) => {
        let addr = address.input.value.trim();
        if (addr && !addr.includes('@')) addr = `${addr}@${domain}`;
        const body = { address: addr, password: password.input.value, memo: memo.input.value };
        if (quota.input.value.trim() !== '') body.quota_mb = Number(quota.input.value);
        const r = await api('POST', `/domains/${seg(domain)}/accounts`, body);
        announce(t('add.done', { address: r.account ? r.account.address : addr }));
        f.reset();
        await reload();
      },
    },
    address.wrap,
    password.wrap,
    quota.wrap,
    memo.wrap,
  );
}

function bulkForm(domain, reload) {
  const text = field({
    tag: 'textarea',
    label: t('bulk.text'),
    name: 'text',
    help: t('bulk.help', { max: BULK_MAX }),
    attrs: { rows: 6, spellcheck: 'false', class: 'mono' },
  });
  return form(
    {
      title: t('bulk.title'),
      submit: t('bulk.submit'),
      errorField: 'text',
      run: async (f) => {
        const lines = text.input.value.split(/\r?\n/).filter((l) => l.trim() !== '');
        if (lines.length > BULK_MAX) throw new Error(t('bulk.tooMany', { max: BULK_MAX, n: lines.length }));
        const r = await api('POST', `/domains/${seg(domain)}/accounts/bulk`, { text: text.input.value });
        announce(t('bulk.done', { n: r.added }));
        f.reset();
        await reload();
      },
    },
    text.wrap,
  );
}

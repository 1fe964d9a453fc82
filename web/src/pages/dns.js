// A domain's DKIM keys (rotate, activate the waiting ones) and the DNS
// records to publish, with a live check of what DNS answers now for each
// (published / missing / different).
import { api, seg } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { announce, errorText } from '../ui.js';
import { card, dataTable, loadInto, when } from './common.js';
import { domainTabs } from './tabs.js';

export function dnsPage(ctx, domain) {
  const base = `/domains/${seg(domain)}`;
  const keys = h('div', { class: 'table-wrap' });
  const records = h('div', { class: 'table-wrap' });
  const actions = h('div', { class: 'actions' });

  function keysTable(r) {
    const rows = r.keys || [];
    const waiting = rows.some((k) => k.state === 'next');
    actions.replaceChildren(rotate, waiting ? activate : '');
    if (!rows.length) return h('p', {}, t('dkim.none'));
    const cols = [t('dkim.selector'), t('dkim.algorithm'), t('dkim.state'), t('dkim.since'), t('dkim.name'), t('dkim.record')];
    return dataTable(t('dkim.title'), cols, rows, (k) => [
      k.selector,
      k.algorithm,
      h('span', {}, h('span', { class: `state state-${k.state}` }, t(`dkim.state.${k.state}`)), k.publish_until ? h('span', { class: 'explain' }, t('dkim.publishUntil'), ' ', when(k.publish_until)) : ''),
      when(k.since),
      h('code', {}, k.dns_name),
      h('code', { class: 'record' }, k.record || '—'),
    ]);
  }

  const loadKeys = (data) => loadInto(keys, async () => keysTable(data || (await api('GET', `${base}/dkim`))));

  const now = h('input', { type: 'checkbox', id: 'dkim-now', name: 'now' });
  const nowLabel = h('label', { for: 'dkim-now', class: 'check' }, now, ' ', t('dkim.now'));
  const rotate = h('button', { type: 'button', onclick: () => act(rotate, 'rotate', { now: now.checked }) }, t('dkim.rotate'));
  const activate = h('button', { type: 'button', onclick: () => act(activate, 'activate') }, t('dkim.activate'));

  async function act(button, what, body) {
    button.disabled = true;
    try {
      const r = await api('POST', `${base}/dkim/${what}`, body);
      announce(t(what === 'rotate' ? (body.now ? 'dkim.rotatedNow' : 'dkim.rotated') : 'dkim.activated'));
      await loadKeys(r);
      await loadRecords(false);
    } catch (e) {
      announce(errorText(e));
    } finally {
      button.disabled = false;
    }
  }

  function statusCell(rec) {
    if (!rec.dns) return t('dns.notChecked');
    return h(
      'span',
      { class: `dns-status dns-${rec.dns}` },
      t(`dns.${rec.dns}`),
      rec.found ? h('span', { class: 'found' }, ' ', t('dns.found'), ' ', h('code', {}, rec.found)) : '',
    );
  }

  const loadRecords = (check) =>
    loadInto(records, async () => {
      const r = await api('GET', `${base}/dns${check ? '?check=1' : ''}`);
      const cols = [t('dns.purpose'), t('dns.name'), t('dns.type'), t('dns.value'), t('dns.status')];
      const table = dataTable(t('dns.records'), cols, r.records || [], (rec) => [
        h('span', {}, rec.purpose.toUpperCase(), h('span', { class: 'explain' }, rec.explanation)),
        h('code', {}, rec.name),
        rec.type,
        h('code', { class: 'record' }, rec.value),
        statusCell(rec),
      ], 'dns');
      if (check) announce(t('dns.checked'));
      return table;
    });

  const checkButton = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        checkButton.disabled = true;
        await loadRecords(true);
        checkButton.disabled = false;
      },
    },
    t('dns.check'),
  );

  loadKeys();
  loadRecords(false);
  return h(
    'section',
    {},
    domainTabs(domain, 'dns'),
    h('h1', { tabindex: -1 }, t('dns.title', { domain })),
    card(t('dkim.title'), h('p', { class: 'help' }, t('dkim.lead')), keys, h('div', { class: 'field' }, nowLabel), actions),
    card(t('dns.records'), h('p', { class: 'help' }, t('dns.lead')), h('div', { class: 'actions' }, checkButton), records),
  );
}

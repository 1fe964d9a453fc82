// Security: blocked client addresses and slowed accounts with unblock,
// accounts whose sending is suspended with the reason and unsuspend, and
// the events list with filters (domain, account, kind).
import { api, seg } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { announce, errorText, field, form } from '../ui.js';
import { card, dataTable, focusList, loadInto, olderButton, when } from './common.js';

// suggestions for the kind filter (any kind the daemon writes is accepted)
export const EVENT_KINDS = [
  'auth-ok', 'auth-failed', 'auth-refused', 'auth-foreign', 'auth-block', 'auth-throttle', 'auth-unblock',
  'delivered', 'send-limited', 'send-refused', 'send-suspended', 'send-unsuspended',
  'account-added', 'account-deleted', 'password-changed', 'quota-changed', 'setting-changed',
  'dkim-rotated', 'dkim-activated', 'domain-added', 'domain-deleted',
];

export function securityPage(ctx) {
  const server = ctx.actor.role === 'admin';
  const blocks = h('div', { class: 'table-wrap' });
  const suspended = h('div', { class: 'table-wrap' });

  const loadBlocks = () =>
    loadInto(blocks, async () => {
      const r = await api('GET', '/security/blocks');
      const rows = r.blocks || [];
      if (!rows.length) return h('p', {}, t('security.noBlocks'));
      const cols = [t('security.blocked'), t('security.kind'), t('security.since'), t('security.until'), t('security.failures'), t('security.detail'), t('security.action')];
      return dataTable(t('security.blocksTitle'), cols, rows, (b) => [
        b.key,
        t(b.kind === 'ip' ? 'security.kindIp' : 'security.kindAccount'),
        when(b.since),
        when(b.until),
        String(b.failures),
        b.detail,
        h('button', { type: 'button', 'aria-label': t('security.unblockOf', { key: b.key }), onclick: () => unblock(b.key) }, t('security.unblock')),
      ]);
    });

  async function unblock(key) {
    try {
      const r = await api('POST', '/security/unblock', { target: key });
      announce(t(r.removed ? 'security.unblocked' : 'security.notBlocked', { key: r.key }));
    } catch (e) {
      announce(errorText(e));
    }
    await loadBlocks();
    focusList(blocks);
  }

  const loadSuspended = () =>
    loadInto(suspended, async () => {
      const r = await api('GET', '/security/suspended');
      const rows = r.suspended || [];
      if (!rows.length) return h('p', {}, t('security.noSuspended'));
      const cols = [t('accounts.address'), t('security.since'), t('security.reason'), t('security.detail'), t('security.action')];
      return dataTable(t('security.suspendedTitle'), cols, rows, (s) => [
        h('a', { href: `#/a/${encodeURIComponent(s.address)}` }, s.address),
        when(s.since),
        s.reason,
        s.detail,
        h('button', { type: 'button', 'aria-label': t('security.unsuspendOf', { address: s.address }), onclick: () => unsuspend(s.address) }, t('account.unsuspend')),
      ]);
    });

  async function unsuspend(address) {
    try {
      const r = await api('POST', `/accounts/${seg(address)}/unsuspend`);
      announce(r && r.lifted === false ? t('account.notSuspended') : t('security.unsuspended', { address }));
    } catch (e) {
      announce(errorText(e));
    }
    await loadSuspended();
    focusList(suspended);
  }

  // by hand: an address (IPv6: its /64) or an account
  const target = field({ label: t('security.target'), name: 'target', help: t('security.targetHelp') });
  const byHand = form(
    {
      title: t('security.unblockTitle'),
      submit: t('security.unblock'),
      run: async (f) => {
        const r = await api('POST', '/security/unblock', { target: target.input.value.trim() });
        announce(t(r.removed ? 'security.unblocked' : 'security.notBlocked', { key: r.key }));
        f.reset();
        await loadBlocks();
      },
    },
    target.wrap,
  );

  loadBlocks();
  loadSuspended();
  return h(
    'section',
    {},
    h('h1', { tabindex: -1 }, t('security.title')),
    h('p', { class: 'lead' }, h('a', { href: '#/audit' }, t('audit.title'))),
    card(t('security.blocksTitle'), h('p', { class: 'help' }, t(server ? 'security.blocksLead' : 'security.blocksLeadDomain')), blocks),
    byHand,
    card(t('security.suspendedTitle'), suspended),
    eventsSection(),
  );
}

// The events with their filters; each page older than the last.
function eventsSection() {
  const list = h('div', { class: 'table-wrap' });
  const domain = field({ label: t('filter.domain'), name: 'domain' });
  const address = field({ label: t('filter.account'), name: 'address', type: 'email' });
  const kinds = h('datalist', { id: 'event-kinds' }, EVENT_KINDS.map((k) => h('option', { value: k })));
  const kind = field({ label: t('filter.kind'), name: 'kind', attrs: { list: 'event-kinds' }, extra: kinds });
  let query = '';

  async function load(before) {
    const q = new URLSearchParams(query);
    if (before) q.set('before', before);
    const r = await api('GET', `/security/events${q.toString() ? `?${q}` : ''}`);
    const rows = r.events || [];
    if (!rows.length) return h('p', {}, t('events.none'));
    const cols = [t('events.time'), t('events.kind'), t('filter.account'), t('events.ip'), t('events.text')];
    return [
      dataTable(t('events.title'), cols, rows, (e) => [when(e.time), e.kind, e.address || '—', e.ip || '—', e.text || e.detail]),
      olderButton(r.next_before, (b) => loadInto(list, () => load(b))),
    ];
  }

  const filters = form(
    {
      class: 'filters',
      title: t('events.title'),
      submit: t('filter.apply'),
      run: async () => {
        const q = new URLSearchParams();
        if (domain.input.value.trim()) q.set('domain', domain.input.value.trim());
        if (address.input.value.trim()) q.set('address', address.input.value.trim());
        if (kind.input.value.trim()) q.set('kind', kind.input.value.trim());
        query = q.toString();
        // a bad filter goes next to its field; the list stays as it was
        const content = await load();
        await loadInto(list, async () => content);
        announce(t('filter.done'));
      },
    },
    h('div', { class: 'grid' }, domain.wrap, address.wrap, kind.wrap),
  );
  loadInto(list, () => load());
  return h('div', {}, filters, list);
}

// The audit log: who changed what, when and from where, newest first,
// with filters (target address or domain, actor, domain).
import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { announce, field, form } from '../ui.js';
import { dataTable, loadInto, olderButton, when } from './common.js';

export function auditPage(ctx) {
  const list = h('div', { class: 'table-wrap' });
  const address = field({ label: t('audit.target'), name: 'address', help: t('audit.targetHelp') });
  const actor = field({ label: t('audit.actor'), name: 'actor', help: t('audit.actorHelp') });
  const domain = field({ label: t('filter.domain'), name: 'domain' });
  let query = '';

  async function load(before) {
    const q = new URLSearchParams(query);
    if (before) q.set('before', before);
    const r = await api('GET', `/audit${q.toString() ? `?${q}` : ''}`);
    const rows = r.audit || [];
    if (!rows.length) return h('p', {}, t('audit.none'));
    const cols = [t('events.time'), t('audit.who'), t('audit.from'), t('audit.what')];
    return [
      dataTable(t('audit.title'), cols, rows, (a) => [
        when(a.time),
        a.actor,
        a.ip || '—',
        h('span', { class: 'what' }, h('code', {}, a.operation), ' ', a.target, a.summary ? ` — ${a.summary}` : ''),
      ]),
      olderButton(r.next_before, (b) => loadInto(list, () => load(b))),
    ];
  }

  const filters = form(
    {
      class: 'filters',
      label: t('audit.filters'),
      submit: t('filter.apply'),
      run: async () => {
        const q = new URLSearchParams();
        for (const [k, f] of [['address', address], ['actor', actor], ['domain', domain]]) {
          if (f.input.value.trim()) q.set(k, f.input.value.trim());
        }
        query = q.toString();
        const content = await load();
        await loadInto(list, async () => content);
        announce(t('filter.done'));
      },
    },
    h('div', { class: 'grid' }, address.wrap, actor.wrap, domain.wrap),
  );
  loadInto(list, () => load());
  return h('section', {}, h('h1', { tabindex: -1 }, t('audit.title')), h('p', { class: 'lead' }, t('audit.lead')), filters, list);
}

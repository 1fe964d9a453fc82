// The outbound queue: the list (oldest first), one message with its
// recipients and header, retry now, and delete (asks twice; no bounce).
import { api, seg } from '../api.js';
import { h } from '../dom.js';
import { formatBytes, t } from '../i18n.js';
import { announce, errorText } from '../ui.js';
import { askTwice, card, dataTable, loadInto, when } from './common.js';

function recipients(m) {
  return (m.recipients || []).map((r) => r.address).join(', ');
}

export function queuePage(ctx) {
  const list = h('div', { class: 'table-wrap' });
  const count = h('p', { class: 'count', 'aria-live': 'polite' });
  const load = () =>
    loadInto(list, async () => {
      const r = await api('GET', '/queue');
      const rows = r.messages || [];
      count.textContent = t('queue.count', { n: rows.length });
      if (!rows.length) return h('p', {}, t('queue.none'));
      const cols = [t('queue.id'), t('queue.from'), t('queue.to'), t('queue.size'), t('queue.attempts'), t('queue.next'), t('queue.created')];
      return dataTable(t('queue.title'), cols, rows, (m) => [
        h('a', { href: `#/queue/${encodeURIComponent(m.id)}`, 'aria-label': t('queue.showOf', { id: m.id }) }, m.id),
        m.from || t('queue.bounce'),
        recipients(m),
        formatBytes(m.size),
        String(m.attempts),
        when(m.next_attempt),
        when(m.created),
      ]);
    });
  const all = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        all.disabled = true;
        try {
          const r = await api('POST', '/queue/retry');
          announce(t('queue.retriedAll', { n: r.due }));
          await load();
        } catch (e) {
          announce(errorText(e));
        } finally {
          all.disabled = false;
        }
      },
    },
    t('queue.retryAll'),
  );
  load();
  return h('section', {}, h('h1', { tabindex: -1 }, t('queue.title')), h('p', { class: 'lead' }, t('queue.lead')), h('div', { class: 'toolbar' }, all), count, list);
}

export function queueMessagePage(ctx, id) {
  const body = h('div', {}, h('p', {}, t('loading')));
  const path = `/queue/${seg(id)}`;

  async function load() {
    await loadInto(body, async () => {
      const { message: m } = await api('GET', path);
      const retry = h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            retry.disabled = true;
            try {
              await api('POST', `${path}/retry`);
              announce(t('queue.retried', { id }));
              await load();
            } catch (e) {
              announce(errorText(e));
              retry.disabled = false;
            }
          },
        },
        t('queue.retry'),
      );
      const rcols = [t('queue.recipient'), t('queue.state'), t('queue.reply')];
      return [
        h(
          'dl',
          { class: 'summary' },
          h('dt', {}, t('queue.from')),
          h('dd', {}, m.from || t('queue.bounce')),
          h('dt', {}, t('queue.size')),
          h('dd', {}, formatBytes(m.size)),
          h('dt', {}, t('queue.created')),
          h('dd', {}, when(m.created)),
          h('dt', {}, t('queue.attempts')),
          h('dd', {}, String(m.attempts)),
          h('dt', {}, t('queue.next')),
          h('dd', { class: 'next-attempt' }, when(m.next_attempt)),
        ),
        h('div', { class: 'table-wrap' }, dataTable(t('queue.recipients'), rcols, m.recipients || [], (r) => [r.address, t(`queue.state.${r.state}`), r.reply || '—'])),
        h('div', { class: 'actions' }, retry),
        card(t('queue.header'), h('pre', { class: 'header', tabindex: 0 }, m.header || '')),
        h(
          'section',
          { class: 'card danger-zone' },
          h('h2', {}, t('queue.deleteTitle')),
          askTwice({
            start: t('queue.delete'),
            what: t('queue.deleteWhat'),
            ask1: t('queue.ask1', { id }),
            confirm1: t('delete.confirm1'),
            ask2: t('queue.ask2', { id }),
            confirm2: t('queue.confirm2'),
            run: async () => {
              await api('DELETE', path);
              announce(t('queue.deleted', { id }));
              ctx.go('#/queue');
            },
          }),
        ),
      ];
    });
  }
  load();
  return h(
    'section',
    {},
    h('p', { class: 'crumb' }, h('a', { href: '#/queue' }, t('queue.title')), ' › ', id),
    h('h1', { tabindex: -1 }, t('queue.messageTitle', { id })),
    body,
  );
}

// The domains an administrator may manage; a server administrator can add one.
import { api } from '../api.js';
import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { announce, errorText, field, form } from '../ui.js';

export function domainsPage(ctx) {
  const list = h('div', { class: 'table-wrap', 'aria-busy': 'true' }, h('p', {}, t('loading')));

  async function load() {
    list.setAttribute('aria-busy', 'true');
    try {
      const data = await api('GET', '/domains');
      fill(list, table(data.domains || []));
    } catch (e) {
      fill(list, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    } finally {
      list.removeAttribute('aria-busy');
    }
  }

  function table(domains) {
    if (domains.length === 0) return h('p', {}, t('domains.none'));
    return h(
      'table',
      {},
      h('caption', { class: 'sr-only' }, t('domains.title')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('domains.name')), h('th', { scope: 'col' }, t('domains.accounts')), h('th', { scope: 'col' }, t('domains.settings')))),
      h(
        'tbody',
        {},
        domains.map((d) => {
          const enc = encodeURIComponent(d.name);
          return h(
            'tr',
            {},
            h('th', { scope: 'row' }, h('a', { href: `#/d/${enc}` }, d.name)),
            h('td', { class: 'num' }, String(d.accounts ?? '')),
            h('td', {}, h('a', { href: `#/d/${enc}/settings`, 'aria-label': t('domains.settingsOf', { domain: d.name }) }, t('domains.settings'))),
          );
        }),
      ),
    );
  }

  let add = null;
  if (ctx.actor.role === 'admin') {
    const name = field({ label: t('domains.new'), name: 'name', help: t('domains.newHelp') });
    add = form(
      {
        title: t('domains.add'),
        submit: t('domains.addSubmit'),
        run: async () => {
          const r = await api('POST', '/domains', { name: name.input.value.trim() });
          announce(t('domains.added', { domain: r.domain ? r.domain.name : name.input.value }));
          name.input.value = '';
          await load();
        },
      },
      name.wrap,
    );
  }
  load();
  return h('section', {}, h('h1', { tabindex: -1 }, t('domains.title')), list, add);
}

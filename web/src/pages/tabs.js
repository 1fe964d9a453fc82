// The tabs of one domain's pages (links, so each has its own address).
import { h } from '../dom.js';
import { t } from '../i18n.js';

export function domainTabs(domain, current) {
  const d = encodeURIComponent(domain);
  const tab = (key, hash) =>
    h('li', {}, h('a', { href: hash, 'aria-current': key === current ? 'page' : null }, t(`tabs.${key}`)));
  return h(
    'nav',
    { class: 'tabs', 'aria-label': t('tabs.label', { domain }) },
    h('p', { class: 'crumb' }, h('a', { href: '#/domains' }, t('nav.domains')), ' › ', domain),
    h('ul', {}, tab('accounts', `#/d/${d}`), tab('settings', `#/d/${d}/settings`), tab('spam', `#/d/${d}/spam`), tab('dns', `#/d/${d}/dns`)),
  );
}

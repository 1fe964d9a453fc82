// Pages whose API is not built yet: they say so plainly.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { domainTabs } from './tabs.js';

export function placeholderPage(ctx, what, domain) {
  return h(
    'section',
    {},
    domain ? domainTabs(domain, 'dns') : null,
    h('h1', { tabindex: -1 }, t(`${what}.title`, { domain })),
    h('p', { class: 'notice', role: 'note' }, h('strong', {}, t('placeholder.badge')), ' ', t('placeholder.text')),
    h('p', {}, t(`${what}.soon`)),
  );
}

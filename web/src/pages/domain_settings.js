// A domain's settings: the foreign-access restriction first, as switches
// (the spam filter and virus check have their own page, spam.js).
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { settingsSection } from './settings.js';
import { domainTabs } from './tabs.js';
import { SPAM_KEYS } from './spam.js';

const GROUPS = [
  ['settings.foreign', ['foreign-auth', 'foreign-auth-web', 'foreign-auth-mail', 'foreign-auth-country', 'foreign-auth-allow']],
  ['settings.sending', ['send-limit-hour', 'send-limit-day', 'abuse-detect', 'sender-policy']],
  ['settings.inbound', ['batv', 'inbound-dmarc', 'mta-sts', 'mta-sts-max-age']],
  ['settings.mailbox', ['trash-expire-days', 'admin-address']],
];

export function domainSettingsPage(ctx, domain) {
  return h(
    'section',
    {},
    domainTabs(domain, 'settings'),
    h('h1', { tabindex: -1 }, t('settings.domainTitle', { domain })),
    h('p', { class: 'lead' }, t('settings.lead')),
    settingsSection({ scope: 'domain', target: domain, groups: GROUPS, skip: SPAM_KEYS, title: null }),
  );
}

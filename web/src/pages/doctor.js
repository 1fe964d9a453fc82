// Doctor: type an address, see what yubinctl doctor says about it (why
// its logins or mail fail, with the fix) and its recent events.
import { api } from '../api.js';
import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { announce, field, form } from '../ui.js';
import { card, dataTable, when } from './common.js';

export function doctorPage(ctx) {
  const result = h('div', { class: 'doctor-result' });
  const address = field({ label: t('doctor.address'), name: 'address', type: 'email', help: t('doctor.addressHelp') });
  const f = form(
    {
      label: t('doctor.title'),
      submit: t('doctor.run'),
      errorField: null,
      run: async () => {
        const r = await api('GET', `/doctor?address=${encodeURIComponent(address.input.value.trim())}`);
        fill(result, report(r));
        announce(t('doctor.done', { address: r.address, problems: r.problems, warnings: r.warnings }));
      },
    },
    address.wrap,
  );
  return h('section', {}, h('h1', { tabindex: -1 }, t('doctor.title')), h('p', { class: 'lead' }, t('doctor.lead')), f, result);
}

function report(r) {
  const summary = r.problems || r.warnings ? t('doctor.summary', { problems: r.problems, warnings: r.warnings }) : t('doctor.allGood');
  const cols = [t('events.time'), t('events.kind'), t('events.ip'), t('events.text')];
  return [
    card(
      t('doctor.resultTitle', { address: r.address }),
      h('p', { class: 'doctor-summary' }, summary),
      h(
        'ul',
        { class: 'checks' },
        (r.checks || []).map((c) => h('li', { class: `check-${c.level}` }, h('strong', { class: 'level' }, t(`doctor.level.${c.level}`)), ' ', c.text)),
      ),
    ),
    card(
      t('doctor.events'),
      (r.events || []).length
        ? h('div', { class: 'table-wrap' }, dataTable(t('doctor.events'), cols, r.events, (e) => [when(e.time), e.kind, e.ip || '—', e.text || e.detail]))
        : h('p', {}, t('events.none')),
    ),
  ];
}

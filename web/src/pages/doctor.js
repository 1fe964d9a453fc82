// Doctor: type an address, see what yubinctl doctor says about it: the
// findings under each support question (can't send, can't receive, ...)
// with the fix, and its recent events.
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

// One finding: its level, the cause and fix in one line, then the fix as
// the setting to change (a panel field, or one of the user's mail client)
// and the yubinctl command.
function finding(c) {
  const fix = c.fix || {};
  const parts = [];
  if (fix.setting && c.level !== 'ok') {
    const client = fix.setting.startsWith('client:');
    parts.push(h('span', { class: 'fix-setting' }, t(client ? 'doctor.fixClient' : 'doctor.fixSetting'), ' ', h('code', {}, client ? fix.setting.slice(7) : fix.setting)));
  }
  if (fix.command && c.level !== 'ok') parts.push(h('span', { class: 'fix-command' }, t('doctor.fixCommand'), ' ', h('code', {}, fix.command)));
  return h(
    'li',
    { class: `check-${c.level}` },
    h('strong', { class: 'level' }, t(`doctor.level.${c.level}`)),
    ' ',
    c.text,
    parts.length ? h('div', { class: 'fix' }, ...parts.flatMap((x, i) => (i ? [' ', x] : [x]))) : null,
  );
}

function report(r) {
  const summary = r.problems || r.warnings ? t('doctor.summary', { problems: r.problems, warnings: r.warnings }) : t('doctor.allGood');
  const cols = [t('events.time'), t('events.kind'), t('events.ip'), t('events.text')];
  const groups = r.groups || [{ id: 'all', title: t('doctor.resultTitle', { address: r.address }), findings: r.checks || [] }];
  return [
    card(t('doctor.resultTitle', { address: r.address }), h('p', { class: 'doctor-summary' }, summary)),
    ...groups
      .filter((g) => g.findings.length)
      .map((g) => card(g.title, h('ul', { class: `checks doctor-${g.id}` }, g.findings.map(finding)))),
    card(
      t('doctor.events'),
      (r.events || []).length
        ? h('div', { class: 'table-wrap' }, dataTable(t('doctor.events'), cols, r.events, (e) => [when(e.time), e.kind, e.ip || '—', e.text || e.detail]))
        : h('p', {}, t('events.none')),
    ),
  ];
}

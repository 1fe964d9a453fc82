// The mail user's auto-reply (#/me/autoreply): on/off, subject, text,
// the first and last day, how often one sender gets it and whether it
// quotes the original. Never sent to
// mailing lists, bulk or automatic mail (the server decides).
import { api, seg } from '../api.js';
import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { announce, errorText, field, form } from '../ui.js';

export function autoreplyPage(ctx) {
  const path = `/accounts/${seg(ctx.actor.name)}/autoreply`;
  const place = h('div', {}, h('p', {}, t('loading')));

  function build(ar) {
    const on = field({ label: t('autoreply.on'), name: 'on', tag: 'select',
      options: [h('option', { value: 'off' }, t('autoreply.off')), h('option', { value: 'on' }, t('autoreply.onOpt'))] });
    on.input.value = ar.on ? 'on' : 'off';
    const subject = field({ label: t('autoreply.subject'), name: 'subject', value: ar.subject, help: t('autoreply.subjectHelp') });
    const body = field({ label: t('autoreply.body'), name: 'body', tag: 'textarea', value: ar.body, attrs: { rows: 6 } });
    const start = field({ label: t('autoreply.start'), name: 'start', type: 'date', value: ar.start, help: t('autoreply.dateHelp') });
    const end = field({ label: t('autoreply.end'), name: 'end', type: 'date', value: ar.end });
    const days = field({ label: t('autoreply.days'), name: 'days', type: 'number', value: String(ar.days),
      attrs: { min: 1, max: 365 }, help: t('autoreply.daysHelp') });
    const quote = h('input', { type: 'checkbox', id: `${days.input.id}-quote`, name: 'quote', checked: !!ar.quote,
      'aria-describedby': `${days.input.id}-quote-help` });
    const quoteWrap = h('div', { class: 'field' },
      h('label', { for: quote.id, class: 'check' }, quote, ' ', t('autoreply.quote')),
      h('p', { class: 'help', id: `${days.input.id}-quote-help` }, t('autoreply.quoteHelp')));
    return form(
      {
        title: t('autoreply.formTitle'),
        submit: t('save'),
        run: async () => {
          const n = Number(days.input.value);
          await api('PUT', path, {
            on: on.input.value === 'on', subject: subject.input.value, body: body.input.value,
            start: start.input.value, end: end.input.value, days: Number.isInteger(n) ? n : 0, quote: quote.checked,
          });
          announce(t('autoreply.saved'));
        },
      },
      h('p', { class: 'help' }, t('autoreply.lead')),
      on.wrap, subject.wrap, body.wrap, start.wrap, end.wrap, days.wrap, quoteWrap,
    );
  }

  (async () => {
    try {
      fill(place, build(await api('GET', path)));
    } catch (e) {
      fill(place, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  })();

  return h('section', {}, h('h1', { tabindex: -1 }, t('autoreply.title')), place);
}

// Form building blocks shared by the pages: labelled fields with their
// own error line, a form runner that puts an API error next to the field
// it names, switches, usage meters and the password strength meter.
import { h, uid } from './dom.js';
import { ApiError } from './api.js';
import { t, formatBytes } from './i18n.js';

const live = () => document.getElementById('status');

// Says msg in the polite live region (cleared first so that the same
// message twice is announced twice).
let clearTimer = null;
let shownOn = null;	// the page (location hash) the toast is shown on

export function announce(msg) {
  const el = live();
  if (!el) return;
  el.textContent = '';
  window.clearTimeout(clearTimer);
  window.setTimeout(() => {
    el.textContent = msg;
    shownOn = window.location.hash;
    // the toast goes after a while; the words were said already
    clearTimer = window.setTimeout(() => {
      el.textContent = '';
    }, 10000);
  }, 30);
}

// Another page is shown: a toast said on the last one goes (one said on
// the way here, as "deleted" before the list it returns to, stays).
export function pageChanged() {
  const el = live();
  if (!el || !el.textContent || shownOn === window.location.hash) return;
  window.clearTimeout(clearTimer);
  el.textContent = '';
}

// A labelled input (or textarea/select through opts.tag) with a help line
// and an error line, both tied to it with aria-describedby.
export function field(opts) {
  const id = uid('f');
  const helpId = `${id}-help`;
  const errId = `${id}-err`;
  const tag = opts.tag || 'input';
  const attrs = {
    id,
    name: opts.name,
    'aria-describedby': [opts.help ? helpId : null, errId].filter(Boolean).join(' '),
    autocomplete: opts.autocomplete || 'off',
    ...(opts.attrs || {}),
  };
  if (tag === 'input') attrs.type = opts.type || 'text';
  if (opts.required) attrs['aria-required'] = 'true';
  const input = h(tag, attrs, opts.options || null);
  if (opts.value !== undefined && opts.value !== null) input.value = opts.value;
  const wrap = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, opts.label),
    input,
    opts.extra || null,
    opts.help ? h('p', { class: 'help', id: helpId }, opts.help) : null,
    h('p', { class: 'error', id: errId, hidden: true }),
  );
  return { wrap, input };
}

function setFieldError(input, msg) {
  const err = document.getElementById(`${input.id}-err`);
  input.setAttribute('aria-invalid', 'true');
  if (err) {
    err.textContent = msg;
    err.hidden = false;
  }
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.error')) {
    el.textContent = '';
    el.hidden = true;
  }
}

// The words for an error: the server's message (already in the page's
// language), the line of a bulk input in front.
export function errorText(e) {
  let msg = e instanceof ApiError ? e.message : String(e && e.message ? e.message : e);
  if (e instanceof ApiError && e.code === 'network') msg = t('error.network');
  if (!msg) msg = t('error.unknown');
  if (e instanceof ApiError && e.line !== null) msg = `${t('error.line', { n: e.line })} ${msg}`;
  return msg;
}

// Shows an error next to the field the API names (or the field given as
// fallback when the error is about the form's main input), else in the
// form's own alert line; moves the focus to the field in error.
export function showError(form, e, fallbackField) {
  const msg = errorText(e);
  let name = e instanceof ApiError ? e.field : null;
  if (fallbackField && (!(e instanceof ApiError) || e.line !== null)) name = fallbackField;
  let input = name && form.elements ? form.elements.namedItem(name) : null;
  if (!input && name) {
    // a form of one field (a setting's): whatever field the API names is it
    const fields = form.querySelectorAll('.field input[id], .field select[id], .field textarea[id]');
    if (fields.length === 1) input = fields[0];
  }
  if (input && input.id) {
    setFieldError(input, msg);
    input.focus();
    return;
  }
  const alert = form.querySelector('.form-error');
  if (alert) {
    alert.textContent = msg;
    alert.hidden = false;
  } else {
    announce(msg);
  }
}

// A form whose submit runs fn(form) with the button disabled; errors land
// next to their fields. Returns the form element.
export function form(opts, ...fields) {
  const button = h('button', { type: 'submit', class: opts.danger ? 'danger' : null }, opts.submit);
  const titleId = opts.title ? uid('t') : null;
  const f = h(
    'form',
    {
      class: `form ${opts.class || ''}`,
      novalidate: true,
      'aria-labelledby': titleId,
      'aria-label': titleId ? null : opts.label || null,
    },
    opts.title ? h('h2', { id: titleId }, opts.title) : null,
    ...fields,
    h('p', { class: 'error form-error', role: 'alert', hidden: true }),
    h('div', { class: 'actions' }, button),
  );
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (button.disabled) return;
    clearErrors(f);
    button.disabled = true;
    f.setAttribute('aria-busy', 'true');
    try {
      await opts.run(f);
    } catch (e) {
      showError(f, e, opts.errorField);
    } finally {
      button.disabled = false;
      f.removeAttribute('aria-busy');
    }
  });
  return f;
}

// An on/off switch (a checkbox with role=switch) that runs onchange(on)
// and goes back when that fails.
export function toggle(opts) {
  const id = uid('sw');
  const errId = `${id}-err`;
  const state = h('span', { class: 'switch-state', 'aria-hidden': 'true' });
  const input = h('input', {
    type: 'checkbox',
    role: 'switch',
    id,
    name: opts.name,
    checked: opts.checked,
    'aria-describedby': [opts.help ? `${id}-help` : null, errId].filter(Boolean).join(' '),
  });
  const showState = () => {
    state.textContent = input.checked ? t('switch.on') : t('switch.off');
  };
  showState();
  const err = h('p', { class: 'error', id: errId, hidden: true });
  input.addEventListener('change', async () => {
    const on = input.checked;
    showState();
    err.hidden = true;
    input.removeAttribute('aria-invalid');
    input.disabled = true;
    try {
      await opts.onchange(on);
    } catch (e) {
      input.checked = !on;
      showState();
      err.textContent = errorText(e);
      err.hidden = false;
      input.setAttribute('aria-invalid', 'true');
    } finally {
      input.disabled = false;
      input.focus();
    }
  });
  const wrap = h(
    'div',
    { class: 'field switch-field' },
    h('label', { for: id, class: 'switch' }, input, h('span', { class: 'switch-track', 'aria-hidden': 'true' }), h('span', { class: 'switch-label' }, opts.label), state),
    opts.help ? h('p', { class: 'help', id: `${id}-help` }, opts.help) : null,
    err,
  );
  return { wrap, input };
}

// Mailbox usage: a meter plus the figures as text.
export function usage(usedBytes, quotaMb) {
  const used = Number(usedBytes) || 0;
  const quota = Number(quotaMb) || 0;
  if (quota <= 0) {
    return h('span', { class: 'usage' }, t('usage.unlimited', { used: formatBytes(used) }));
  }
  const max = quota * 1048576;
  const pct = Math.min(100, Math.round((used / max) * 100));
  const text = t('usage.of', { used: formatBytes(used), quota: `${quota} MB`, pct });
  return h(
    'span',
    { class: 'usage' },
    h('meter', { min: 0, max, value: Math.min(used, max), low: max * 0.8, high: max * 0.95, optimum: 0, 'aria-label': text }),
    h('span', { class: 'usage-text' }, text),
  );
}

// A rough strength estimate, 0..4: length and the kinds of characters.
export function strength(pw) {
  if (!pw) return 0;
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(pw)).length;
  if (/^(.)\1*$/.test(pw)) return 0;
  let s = 0;
  if (pw.length >= 8) s += 1;
  if (pw.length >= 12) s += 1;
  if (kinds >= 3) s += 1;
  if (pw.length >= 16 || (kinds === 4 && pw.length >= 10)) s += 1;
  if (pw.length < 8) s = Math.min(s, 1);
  return s;
}

// A new-password field with its strength meter under it.
export function passwordField(opts) {
  const meter = h('meter', { min: 0, max: 4, low: 2, high: 3, optimum: 4, value: 0, 'aria-hidden': 'true' });
  const words = h('span', { class: 'strength-text', 'aria-live': 'polite' });
  const f = field({
    label: opts.label,
    name: opts.name || 'password',
    type: 'password',
    autocomplete: 'new-password',
    help: t('password.help'),
    extra: h('div', { class: 'strength' }, meter, words),
  });
  f.input.addEventListener('input', () => {
    const s = strength(f.input.value);
    meter.value = s;
    words.textContent = f.input.value ? t(`password.strength${s}`) : '';
  });
  return f;
}

// Log-in: an administrator by name, a mail user by the full address.
import { api } from '../api.js';
import { h, uid } from '../dom.js';
import { t } from '../i18n.js';
import { field, form } from '../ui.js';

export function loginPage(ctx) {
  let kind = 'user';
  const name = field({ label: t('login.address'), name: 'address', type: 'email', autocomplete: 'username' });
  const password = field({ label: t('login.password'), name: 'password', type: 'password', autocomplete: 'current-password' });
  const nameLabel = name.wrap.querySelector('label');

  const choose = (k) => {
    kind = k;
    name.input.name = k === 'admin' ? 'name' : 'address';
    name.input.type = k === 'admin' ? 'text' : 'email';
    nameLabel.textContent = k === 'admin' ? t('login.name') : t('login.address');
  };
  const group = uid('kind');
  const radio = (k, label) =>
    h('label', { class: 'radio' }, h('input', { type: 'radio', name: group, value: k, checked: k === kind, onchange: () => choose(k) }), label);
  const kinds = h('fieldset', { class: 'kinds' }, h('legend', {}, t('login.kind')), radio('user', t('login.kind.user')), radio('admin', t('login.kind.admin')));

  const f = form(
    {
      submit: t('login.submit'),
      label: t('login.title'),
      run: async () => {
        const body =
          kind === 'admin'
            ? { kind: 'admin', name: name.input.value.trim(), password: password.input.value }
            : { kind: 'user', address: name.input.value.trim(), password: password.input.value };
        const s = await api('POST', '/session', body);
        password.input.value = '';
        ctx.signedIn(s);
      },
    },
    kinds,
    name.wrap,
    password.wrap,
  );
  return h('section', { class: 'login card' }, h('h1', { tabindex: -1 }, t('login.title')), h('p', { class: 'lead' }, t('login.lead')), f);
}

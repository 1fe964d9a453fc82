// The panel: one page, routes in the location hash (#/domains,
// #/d/DOMAIN, #/d/DOMAIN/settings, #/d/DOMAIN/spam, #/d/DOMAIN/dns, #/a/ADDRESS, #/security,
// #/audit, #/queue[/ID], #/doctor, #/admins, #/me), the session
// from GET /api/v1/session, the header with the language switch.
import { api, setCsrf } from './api.js';
import { h, clear } from './dom.js';
import { lang, setLang, t } from './i18n.js';
import { announce, pageChanged } from './ui.js';
import { loginPage } from './pages/login.js';
import { domainsPage } from './pages/domains.js';
import { accountsPage } from './pages/accounts.js';
import { accountPage } from './pages/account.js';
import { domainSettingsPage } from './pages/domain_settings.js';
import { mePage } from './pages/me.js';
import { rulesPage } from './pages/rules.js';
import { autoreplyPage } from './pages/autoreply.js';
import { securityPage } from './pages/security.js';
import { auditPage } from './pages/audit.js';
import { queuePage, queueMessagePage } from './pages/queue.js';
import { dnsPage } from './pages/dns.js';
import { doctorPage } from './pages/doctor.js';
import { adminsPage } from './pages/admins.js';
import { spamPage } from './pages/spam.js';

const state = { actor: null, checked: false };

function isAdmin() {
  return state.actor && (state.actor.role === 'admin' || state.actor.role === 'domain_admin');
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function home() {
  return isAdmin() ? '#/domains' : '#/me';
}

const ctx = {
  get actor() {
    return state.actor;
  },
  go,
  signedIn(session) {
    state.actor = session.actor;
    setCsrf(session.csrf);
    renderHeader();
    go(home());
    announce(t('login.done', { name: session.actor.name }));
  },
};

async function logout() {
  try {
    await api('DELETE', '/session');
  } catch (e) {
    // gone already: the page forgets it all the same
  }
  loggedOut();
  announce(t('logout.done'));
}

function loggedOut() {
  state.actor = null;
  setCsrf(null);
  renderHeader();
  go('#/login');
}

function navLink(hash, label) {
  const current = location.hash === hash || location.hash.startsWith(`${hash}/`);
  return h('li', {}, h('a', { href: hash, 'aria-current': current ? 'page' : null }, label));
}

function renderHeader() {
  document.documentElement.lang = lang();
  document.title = t('app.title');
  const header = clear(document.getElementById('top'));
  const other = lang() === 'ja' ? 'en' : 'ja';
  const skip = h('button', { type: 'button', class: 'skip', onclick: () => focusMain() }, t('app.skip'));
  const brand = h('a', { class: 'brand', href: state.actor ? home() : '#/login' }, t('app.name'));
  const langButton = h(
    'button',
    {
      type: 'button',
      class: 'lang',
      lang: other,
      'aria-label': other === 'en' ? 'English (switch language)' : '日本語（言語を切り替え）',
      onclick: () => {
        setLang(other);
        renderHeader();
        route();
        langButton.focus();
      },
    },
    other === 'en' ? 'English' : '日本語',
  );
  let nav = null;
  let who = null;
  if (state.actor) {
    const links = isAdmin()
      ? [
          navLink('#/domains', t('nav.domains')),
          navLink('#/security', t('nav.security')),
          navLink('#/queue', t('nav.queue')),
          navLink('#/doctor', t('nav.doctor')),
          navLink('#/audit', t('nav.audit')),
          state.actor.role === 'admin' ? navLink('#/admins', t('nav.admins')) : null,
        ]
      : [navLink('#/me', t('nav.me')), navLink('#/me/rules', t('nav.rules')), navLink('#/me/autoreply', t('nav.autoreply'))];
    nav = h('nav', { 'aria-label': t('nav.label') }, h('ul', {}, links));
    who = h(
      'div',
      { class: 'who' },
      h('span', { class: 'who-name' }, state.actor.name, ' (', t(`role.${state.actor.role}`), ')'),
      h('button', { type: 'button', onclick: logout }, t('logout')),
    );
  }
  const tools = h('div', { class: 'tools' }, who, langButton);
  header.append(skip, h('div', { class: 'bar' }, brand, tools));
  if (nav) header.append(nav);
}

function focusMain() {
  const main = document.getElementById('main');
  const h1 = main.querySelector('h1');
  (h1 || main).focus();
}

function parts() {
  const raw = location.hash.replace(/^#\/?/, '');
  return raw.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch (e) {
      return p;
    }
  });
}

function page(p) {
  if (!state.actor) return loginPage(ctx);
  const [a, b, c] = p;
  if (isAdmin()) {
    if (a === 'domains') return domainsPage(ctx);
    if (a === 'd' && b && c === 'settings') return domainSettingsPage(ctx, b);
    if (a === 'd' && b && c === 'dns') return dnsPage(ctx, b);
    if (a === 'd' && b && c === 'spam') return spamPage(ctx, b);
    if (a === 'd' && b) return accountsPage(ctx, b);
    if (a === 'a' && b) return accountPage(ctx, b);
    if (a === 'security') return securityPage(ctx);
    if (a === 'audit') return auditPage(ctx);
    if (a === 'queue' && b) return queueMessagePage(ctx, b);
    if (a === 'queue') return queuePage(ctx);
    if (a === 'doctor') return doctorPage(ctx);
    if (a === 'admins' && state.actor.role === 'admin') return adminsPage(ctx);
  } else if (a === 'me' && b === 'rules') {
    return rulesPage(ctx);
  } else if (a === 'me' && b === 'autoreply') {
    return autoreplyPage(ctx);
  } else if (a === 'me') {
    return mePage(ctx);
  }
  return null;
}

let routeSeq = 0;

function route() {
  routeSeq += 1;
  const seq = routeSeq;
  pageChanged();
  renderHeader();
  const main = clear(document.getElementById('main'));
  const p = parts();
  if (state.actor && (p.length === 0 || p[0] === 'login')) {
    go(home());
    return;
  }
  const el = page(p);
  if (!el) {
    main.append(h('h1', { tabindex: -1 }, t('notfound.title')), h('p', {}, h('a', { href: home() }, t('notfound.back'))));
  } else {
    main.append(el);
  }
  if (seq === routeSeq && state.checked) {
    const h1 = main.querySelector('h1');
    if (h1) h1.focus();
  }
}

async function start() {
  window.addEventListener('yubin:logged-out', () => {
    if (state.actor) {
      loggedOut();
      announce(t('session.expired'));
    }
  });
  try {
    const s = await api('GET', '/session');
    state.actor = s.actor;
    setCsrf(s.csrf);
  } catch (e) {
    state.actor = null;
  }
  window.addEventListener('hashchange', route);
  route();
  state.checked = true;
  document.body.classList.add('ready');
}

start();

// The pages in Japanese (the browser asks for ja first) and, after the
// visible switch, in English (remembered across a reload), on a desktop
// and on a phone; a screenshot of each under build/screenshots.
// Last the mail panel of p.user in both languages.
// Params: {url, admin, password, domain, account, user, userpw}.
import { JA, check, login, open, params, run, shot } from './lib.js';

const p = params();
const d = encodeURIComponent(p.domain);
const a = encodeURIComponent(p.account);

// page name -> [hash, heading in ja, heading in en]
const PAGES = [
  ['domains', '#/domains', 'ドメイン', 'Domains'],
  ['accounts', `#/d/${d}`, `${p.domain} のメールアカウント`, `Mail accounts of ${p.domain}`],
  ['settings', `#/d/${d}/settings`, `${p.domain} の設定`, `Settings of ${p.domain}`],
  ['account', `#/a/${a}`, p.account, p.account],
  ['security', '#/security', 'セキュリティ', 'Security'],
  ['audit', '#/audit', '操作履歴', 'Audit log'],
  ['queue', '#/queue', 'メールキュー', 'Mail queue'],
  ['dns', `#/d/${d}/dns`, `${p.domain} の DKIM と DNS`, `DKIM and DNS of ${p.domain}`],
  ['doctor', '#/doctor', '診断', 'Doctor'],
  ['admins', '#/admins', '管理者と API トークン', 'Administrators and API tokens'],
];

async function visit(page, lang, mobile) {
  for (const [name, hash, ja, en] of PAGES) {
    await page.goto(`${p.url}/${hash}`);
    await page.waitForSelector('body.ready');
    await page.getByRole('heading', { name: lang === 'ja' ? ja : en, level: 1 }).waitFor();
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
    check((await page.getAttribute('html', 'lang')) === lang, `${name}: html lang`);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(wide <= 1, `${name} (${lang}${mobile ? ', phone' : ''}): the page is ${wide}px wider than the screen`);
    await shot(page, `${lang}-${name}${mobile ? '-phone' : ''}`);
  }
}

await run('i18n', async ({ page }) => {
  await open(page, p.url);
  await page.getByRole('heading', { name: 'ログイン' }).waitFor();
  check((await page.getAttribute('html', 'lang')) === 'ja', 'Accept-Language ja: html lang');
  await shot(page, 'ja-login');
  // the focus order of the login page, by keyboard from the top
  const order = [];
  for (let i = 0; i < 7; i++) {
    await page.keyboard.press('Tab');
    order.push(await page.evaluate(() => {
      const e = document.activeElement;
      return `${e.tagName.toLowerCase()}:${e.type || ''}:${e.getAttribute('name') || e.className}`;
    }));
  }
  const want = ['button:button:skip', 'a::brand', 'button:button:lang', 'input:radio', 'input:email:address', 'input:password:password', 'button:submit:'];
  check(order.every((o, i) => o.startsWith(want[i])), `login focus order: ${order.join(' > ')}`);
  // the API's error comes back in the page's language, next to the form
  await login(page, JA, 'admin', p.admin, 'wrong-password');
  const err = page.locator('form .error:not([hidden])').first();
  await err.waitFor();
  const msg = await err.textContent();
  check(/[\u3040-\u30ff\u4e00-\u9fff]/.test(msg), `a login error not in Japanese: ${msg}`);
  await page.getByLabel(JA.password, { exact: true }).fill(p.password);
  await page.getByRole('button', { name: JA.submit, exact: true }).click();
  await page.getByRole('heading', { name: 'ドメイン', level: 1 }).waitFor();
  await visit(page, 'ja', false);

  const sw = page.getByRole('button', { name: /English/ });
  await sw.click();
  await page.getByRole('heading', { name: PAGES[PAGES.length - 1][3], level: 1 }).waitFor();
  await page.reload();
  await page.waitForSelector('body.ready');
  await page.getByRole('heading', { name: PAGES[PAGES.length - 1][3], level: 1 }).waitFor();
  await visit(page, 'en', false);

  await page.setViewportSize({ width: 375, height: 740 });
  await visit(page, 'en', true);
  await page.getByRole('button', { name: /日本語/ }).click();
  await visit(page, 'ja', true);

  // the mail panel of a mail user, on the phone in Japanese, then on a
  // desktop in English
  await page.getByRole('button', { name: 'ログアウト' }).click();
  await page.getByRole('heading', { name: 'ログイン' }).waitFor();
  await login(page, JA, 'user', p.user, p.userpw);
  await page.getByRole('heading', { name: 'マイアカウント', level: 1 }).waitFor();
  await page.getByRole('switch', { name: 'メールボックスにも控えを残す' }).waitFor();
  await page.getByRole('table', { name: 'ログイン履歴' }).waitFor();
  await shot(page, 'ja-mail-panel-phone');
  await page.setViewportSize({ width: 1200, height: 900 });
  await page.getByRole('button', { name: /English/ }).click();
  await page.getByRole('heading', { name: 'My account', level: 1 }).waitFor();
  await page.getByRole('switch', { name: 'Keep a copy in the mailbox' }).waitFor();
  await shot(page, 'en-mail-panel-desktop');
}, { locale: 'ja-JP' });

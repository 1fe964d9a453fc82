// A domain administrator sees and manages only its own domain: no other
// domain in the list, no domain to add, another domain's accounts refused.
// It bulk-adds 55 accounts and pages through them (50 a page).
// Its security, queue and audit pages work and show nothing of the other
// domain; there is no administrators page for it.
// Params: {url, admin, password, domain, other, otherAccount}.
import { EN, check, login, open, params, run, shot, status } from './lib.js';

const p = params();
const d = p.domain;

await run('domain-admin', async ({ page }) => {
  await open(page, p.url);
  await login(page, EN, 'admin', p.admin, p.password);
  await page.getByRole('heading', { name: 'Domains', level: 1 }).waitFor();
  await page.getByRole('link', { name: d, exact: true }).waitFor();
  check((await page.getByRole('link', { name: p.other, exact: true }).count()) === 0, 'another domain is listed');
  check((await page.getByRole('form', { name: 'Add a domain' }).count()) === 0, 'a domain administrator may add domains');
  check((await page.locator('.who-name').textContent()).includes('domain administrator'), 'role not shown');

  await page.getByRole('link', { name: d, exact: true }).click();
  await page.getByRole('heading', { name: `Mail accounts of ${d}` }).waitFor();
  const count = page.locator('p.count');
  await count.filter({ hasText: 'No accounts found.' }).waitFor();
  const lines = [];
  for (let i = 1; i <= 55; i++) lines.push(`m${String(i).padStart(2, '0')}@${d},Many-pass-${1000 + i},50,number ${i}`);
  const bulk = page.getByRole('form', { name: 'Add many accounts at once' });
  await bulk.getByLabel('Accounts, one per line').fill(lines.join('\n'));
  await bulk.getByRole('button', { name: 'Add all' }).click();
  await status(page, '55 accounts added.');
  await count.filter({ hasText: 'Accounts 1–50 of 55' }).waitFor();
  check((await page.locator('table.accounts tbody tr').count()) === 50, 'rows on page 1');
  const prev = page.getByRole('button', { name: 'Previous page' });
  const next = page.getByRole('button', { name: 'Next page' });
  check((await prev.isDisabled()) && (await next.isEnabled()), 'paging buttons on page 1');
  await next.click();
  await count.filter({ hasText: 'Accounts 51–55 of 55' }).waitFor();
  check((await page.locator('table.accounts tbody tr').count()) === 5, 'rows on page 2');
  check((await prev.isEnabled()) && (await next.isDisabled()), 'paging buttons on page 2');
  await shot(page, 'en-accounts-page2');
  await prev.click();
  await count.filter({ hasText: 'Accounts 1–50 of 55' }).waitFor();

  // another domain's pages: refused, nothing shown
  await page.goto(`${p.url}/#/d/${encodeURIComponent(p.other)}`);
  await page.waitForSelector('body.ready');
  await page.getByRole('heading', { name: `Mail accounts of ${p.other}` }).waitFor();
  await page.locator('.table-wrap [role=alert]').waitFor();
  check((await page.locator('table.accounts').count()) === 0, 'another domain\'s accounts shown');
  await page.goto(`${p.url}/#/d/${encodeURIComponent(p.other)}/settings`);
  await page.waitForSelector('body.ready');
  await page.locator('.settings [role=alert]').waitFor();
  check((await page.getByRole('switch').count()) === 0, 'another domain\'s settings shown');
  await page.goto(`${p.url}/#/d/${encodeURIComponent(p.other)}/dns`);
  await page.waitForSelector('body.ready');
  await page.getByRole('heading', { name: `DKIM and DNS of ${p.other}` }).waitFor();
  await page.locator('.table-wrap [role=alert]').first().waitFor();
  check((await page.getByRole('button', { name: 'Make new keys' }).count()) === 0, 'another domain\'s keys offered');

  // a setting of its own domain saved, then back to the default
  await page.goto(`${p.url}/#/d/${encodeURIComponent(d)}/settings`);
  await page.waitForSelector('body.ready');
  const keep = page.getByRole('form', { name: 'Days to keep Trash and Junk' });
  check((await page.getByRole('button', { name: 'Back to the default' }).count()) === 0, 'a reset offered for defaults');
  await keep.getByLabel('Days to keep Trash and Junk').fill('30');
  await keep.getByRole('button', { name: 'Save' }).click();
  await status(page, 'Days to keep Trash and Junk: saved (30).');
  await page.getByRole('button', { name: 'Back to the default' }).click();
  await status(page, 'Days to keep Trash and Junk: back to the default (7).');
  await page.getByRole('form', { name: 'Days to keep Trash and Junk' }).waitFor();
  check((await page.getByRole('form', { name: 'Days to keep Trash and Junk' }).getByLabel('Days to keep Trash and Junk').inputValue()) === '7', 'value after reset');
  check((await page.getByRole('button', { name: 'Back to the default' }).count()) === 0, 'reset still offered');

  // no administrators page; security, queue and audit only of its domain
  check((await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Administrators' }).count()) === 0, 'administrators link');
  await page.goto(`${p.url}/#/admins`);
  await page.waitForSelector('body.ready');
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  for (const [hash, heading, table] of [['#/security', 'Security', 'Blocked addresses and accounts'], ['#/queue', 'Mail queue', null], ['#/audit', 'Audit log', 'Audit log']]) {
    await page.goto(`${p.url}/${hash}`);
    await page.waitForSelector('body.ready');
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
    check((await page.locator('main [role=alert]:not([hidden])').count()) === 0, `${heading}: an error shown`);
    if (table) {
      const text = await page.locator('main').textContent();
      check(!text.includes(p.otherAccount), `${heading}: another domain's account shown`);
    }
  }
  await shot(page, 'en-audit-domain-admin');
});

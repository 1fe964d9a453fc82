// An administrator logs in, adds a domain, adds an account, changes its
// quota, and bulk-adds three accounts with one bad line: nothing is added
// and the error names line 2; with the line fixed all three are added.
// Then it sets bulk1's password, lifts the suspension of p.suspect and
// deletes bulk3 (asking twice). Params: {url, admin, password, domain,
// memo, bulk1pw, suspect, newDomain}.
import { EN, check, login, open, params, run, shot, status } from './lib.js';

const p = params();
const d = p.domain;

await run('admin', async ({ page }) => {
  await open(page, p.url);
  await login(page, EN, 'admin', p.admin, p.password);
  await page.getByRole('heading', { name: 'Domains', level: 1 }).waitFor();

  // a domain: a bad name refused next to the field, then a good one
  const addDomain = page.getByRole('form', { name: 'Add a domain' });
  await addDomain.getByLabel('Domain name').fill('not a domain');
  await addDomain.getByRole('button', { name: 'Add domain' }).click();
  await addDomain.locator('.field .error:not([hidden])').waitFor();
  await addDomain.getByLabel('Domain name').fill(p.newDomain);
  await addDomain.getByRole('button', { name: 'Add domain' }).click();
  await status(page, `Domain ${p.newDomain} added.`);
  await page.getByRole('link', { name: p.newDomain, exact: true }).waitFor();

  await page.getByRole('link', { name: d, exact: true }).click();
  await page.getByRole('heading', { name: `Mail accounts of ${d}` }).waitFor();
  const count = page.locator('p.count');
  await count.filter({ hasText: /of \d+$/ }).waitFor();
  const n0 = Number((await count.textContent()).match(/of (\d+)$/)[1]);
  const total = (n) => count.filter({ hasText: new RegExp(`of ${n}$`) }).waitFor();

  // add one (the memo is shown as text, never as markup)
  const add = page.getByRole('form', { name: 'Add an account' });
  await add.getByLabel('Mail address').fill('new1');
  await add.getByLabel('Password', { exact: true }).fill('Fresh-pass-4711');
  await add.locator('.strength-text').filter({ hasText: 'Strength:' }).waitFor();
  await add.getByLabel('Quota (MB)').fill('200');
  await add.getByLabel('Memo (for administrators)').fill(p.memo);
  await add.getByRole('button', { name: 'Add account' }).click();
  await status(page, `Account new1@${d} added.`);
  await total(n0 + 1);
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: `new1@${d}` }) });
  check((await row.locator('td.memo').textContent()) === p.memo, 'memo not shown as text');
  check((await page.locator('td.memo b').count()) === 0, 'memo became markup');
  await shot(page, 'en-accounts');

  // a quota out of range is refused next to the field
  await row.getByRole('link', { name: `new1@${d}` }).click();
  await page.getByRole('heading', { name: `new1@${d}`, level: 1 }).waitFor();
  const quota = page.getByRole('form', { name: 'Quota' });
  await quota.getByLabel('Quota (MB)').fill('0');
  await quota.getByRole('button', { name: 'Save' }).click();
  await quota.locator('.field .error:not([hidden])').waitFor();
  check((await quota.getByLabel('Quota (MB)').getAttribute('aria-invalid')) === 'true', 'bad quota not marked');
  // then a good one
  await quota.getByLabel('Quota (MB)').fill('300');
  await quota.getByRole('button', { name: 'Save' }).click();
  await status(page, 'Quota set to 300 MB.');
  await page.locator('dl.summary').filter({ hasText: 'of 300 MB' }).waitFor();
  // the memo changed on its own form
  const memo = page.getByRole('form', { name: 'Memo' });
  await memo.getByLabel('Memo').fill(`${p.memo} (2)`);
  await memo.getByRole('button', { name: 'Save' }).click();
  await status(page, 'Memo saved.');
  await page.locator('dl.summary').filter({ hasText: `${p.memo} (2)` }).waitFor();
  // disabled with its switch
  const enabled = page.getByRole('switch', { name: 'Account enabled' });
  check(await enabled.isChecked(), 'a new account is enabled');
  await enabled.click();
  await status(page, 'Account disabled.');
  await page.locator('dl.summary').filter({ hasText: 'Disabled' }).waitFor();
  await shot(page, 'en-account');

  // bulk add with a bad second line: nothing added, line 2 named
  await page.getByRole('link', { name: d, exact: true }).first().click();
  await page.getByRole('heading', { name: `Mail accounts of ${d}` }).waitFor();
  await total(n0 + 1);
  const bulk = page.getByRole('form', { name: 'Add many accounts at once' });
  const text = bulk.getByLabel('Accounts, one per line');
  const good = [`bulk1@${d},Bulk-pass-0001,100,first`, `bulk2@${d},Bulk-pass-0002,100,second`, `bulk3@${d},Bulk-pass-0003,100,third`];
  await text.fill([good[0], `bulk2@${d},Bulk-pass-0002,lots,second`, good[2]].join('\n'));
  await bulk.getByRole('button', { name: 'Add all' }).click();
  const err = bulk.locator('.field .error:not([hidden])');
  await err.waitFor();
  const msg = await err.textContent();
  check(/^Line 2:/.test(msg), `bulk error does not name line 2: ${msg}`);
  check((await text.getAttribute('aria-invalid')) === 'true', 'textarea not marked invalid');
  await shot(page, 'en-bulk-error');
  await page.reload();
  await page.waitForSelector('body.ready');
  await total(n0 + 1);
  check((await page.getByRole('link', { name: `bulk1@${d}` }).count()) === 0, 'bulk1 was added');

  // fixed: all three
  await text.fill(good.join('\n'));
  await bulk.getByRole('button', { name: 'Add all' }).click();
  await status(page, '3 accounts added.');
  await total(n0 + 4);

  // the CSV export link gives every account with the session's cookie
  const href = await page.getByRole('link', { name: 'Export as CSV' }).getAttribute('href');
  const csv = await page.request.get(new URL(href, page.url()).href);
  check(csv.status() === 200 && csv.headers()['content-type'].startsWith('text/csv'), `CSV: ${csv.status()}`);
  const rows = (await csv.text()).trim().split(/\r?\n/);
  check(rows.length === n0 + 5 && rows.some((r) => r.startsWith(`bulk2@${d},100,`)), `CSV rows: ${rows.join(' | ')}`);

  // search narrows the list
  await page.getByRole('searchbox', { name: 'Search accounts' }).fill('bulk');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await total(3);

  // an administrator sets bulk1's password
  await page.getByRole('link', { name: `bulk1@${d}` }).click();
  await page.getByRole('heading', { name: `bulk1@${d}`, level: 1 }).waitFor();
  const setpw = page.getByRole('form', { name: 'Set a new password' });
  await setpw.getByLabel('New password').fill(p.bulk1pw);
  await setpw.getByRole('button', { name: 'Change password' }).click();
  await status(page, 'Password changed.');
  await page.getByRole('link', { name: d, exact: true }).first().click();

  // a suspended account: shown in the list, lifted on its page
  await page.getByRole('searchbox', { name: 'Search accounts' }).fill(p.suspect);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await total(1);
  const srow = page.getByRole('row').filter({ has: page.getByRole('link', { name: p.suspect }) });
  check((await srow.textContent()).includes('Sending suspended'), 'suspension not in the list');
  await srow.getByRole('link', { name: p.suspect }).click();
  await page.getByRole('heading', { name: 'Sending is suspended' }).waitFor();
  await page.getByRole('button', { name: 'Lift the suspension' }).click();
  await status(page, 'The suspension is lifted.');
  await page.locator('dl.summary').filter({ hasText: 'Enabled' }).waitFor();
  check((await page.getByRole('heading', { name: 'Sending is suspended' }).count()) === 0, 'still shown as suspended');
  await page.getByRole('link', { name: d, exact: true }).first().click();
  await page.getByRole('searchbox', { name: 'Search accounts' }).fill('bulk');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await total(3);

  // delete asks twice
  await page.getByRole('link', { name: `bulk3@${d}` }).click();
  await page.getByRole('heading', { name: `bulk3@${d}`, level: 1 }).waitFor();
  await page.getByRole('button', { name: 'Delete account…' }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Delete account…' }).click();
  await page.getByRole('button', { name: 'Yes, continue' }).click();
  check((await page.getByRole('button', { name: 'Delete for good' }).count()) === 1, 'second question');
  await page.getByRole('button', { name: 'Delete for good' }).click();
  await status(page, `Account bulk3@${d} deleted.`);
  await page.getByRole('heading', { name: `Mail accounts of ${d}` }).waitFor();
  await total(n0 + 3);
});

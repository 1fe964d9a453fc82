// A mail user logs in (by keyboard), changes the password with the
// current one, logs out; the old password is refused, the new accepted.
// Before that it sets forwarding without a copy kept; a second session of
// the same user ends with the change.
// It finds its own failed login from p.failedFrom in its login history.
// Params: {url, address, old, new, forward, failedFrom}.
import { EN, check, login, open, params, run, shot, status } from './lib.js';

const p = params();

await run('user', async ({ browser, page }) => {
  await open(page, p.url);
  await page.getByLabel('Mail address', { exact: true }).focus();
  await page.keyboard.type(p.address);
  await page.keyboard.press('Tab');
  await page.keyboard.type(p.old);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'My account', level: 1 }).waitFor();
  await page.locator('.usage').first().waitFor();
  // its own failed login, in the history
  const history = page.getByRole('table', { name: 'Login history' });
  const failed = history.getByRole('row').filter({ hasText: 'Refused: wrong password' }).filter({ hasText: p.failedFrom });
  await failed.first().waitFor();

  // the same user in a second browser, whose session the change ends
  const other = await (await browser.newContext({ ignoreHTTPSErrors: true, locale: 'en-US' })).newPage();
  await open(other, p.url);
  await login(other, EN, 'user', p.address, p.old);
  await other.getByRole('heading', { name: 'My account', level: 1 }).waitFor();

  // forwarding, without a copy kept
  const fwd = page.getByRole('form', { name: 'Forward to' });
  await fwd.getByLabel('Forward to').fill(p.forward);
  await fwd.getByRole('button', { name: 'Save' }).click();
  await status(page, 'Forward to: saved');
  const keep = page.getByRole('switch', { name: 'Keep a copy in the mailbox' });
  check(await keep.isChecked(), 'keep-copy starts on');
  await keep.click();
  await status(page, 'Keep a copy in the mailbox: saved (off)');

  const f = page.getByRole('form', { name: 'Change my password' });
  // two different new passwords: caught before anything is sent
  await f.getByLabel('Current password').fill(p.old);
  await f.getByLabel('New password', { exact: true }).fill(p.new);
  await f.getByLabel('New password again').fill(`${p.new}x`);
  await f.getByRole('button', { name: 'Change password' }).click();
  await f.getByText('The two new passwords differ.').waitFor();
  check((await f.getByLabel('New password again').getAttribute('aria-invalid')) === 'true', 'mismatch not marked');
  // a wrong current password is refused next to its field
  await f.getByLabel('Current password').fill('Not-the-password-1');
  await f.getByLabel('New password', { exact: true }).fill(p.new);
  await f.getByLabel('New password again').fill(p.new);
  await f.getByRole('button', { name: 'Change password' }).click();
  await f.locator('.error:not([hidden])').first().waitFor();
  check((await f.getByLabel('Current password').getAttribute('aria-invalid')) === 'true', 'the error is not at the current password');
  await f.getByLabel('Current password').fill(p.old);
  await f.getByLabel('New password', { exact: true }).fill(p.new);
  check(/Strength: (good|strong)/.test(await f.locator('.strength-text').textContent()), 'strength meter');
  await f.getByLabel('New password again').fill(p.new);
  await f.getByRole('button', { name: 'Change password' }).click();
  await status(page, 'Your password is changed.');
  await shot(page, 'en-mail-panel');

  // the other session has ended: its next change lands on the login page
  await other.getByRole('switch', { name: 'Keep a copy in the mailbox' }).click();
  await other.getByRole('heading', { name: 'Log in' }).waitFor();
  await status(other, 'Your session has ended.');
  // and this one goes on
  await page.reload();
  await page.waitForSelector('body.ready');
  await page.getByRole('heading', { name: 'My account', level: 1 }).waitFor();

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await login(page, EN, 'user', p.address, p.old);
  const refused = page.locator('form .error:not([hidden])').first();
  await refused.waitFor();
  check((await page.getByRole('heading', { name: 'My account' }).count()) === 0, 'old password accepted');
  await page.getByLabel('Password', { exact: true }).fill(p.new);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.getByRole('heading', { name: 'My account', level: 1 }).waitFor();
});

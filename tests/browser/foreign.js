// An administrator sets the SMTP AUTH foreign-access restriction of a
// domain to p.want ('on' or 'off') with its switch, and the switch shows
// the saved state after a reload; with p.allow it first sets the domain's
// exempt networks. Params: {url, admin, password, domain, want, allow}.
import { EN, check, login, open, params, run, status } from './lib.js';

const p = params();
const NAME = 'Foreign-access restriction for SMTP AUTH (sending)';

await run(`foreign-${p.want}`, async ({ page }) => {
  await open(page, p.url);
  await login(page, EN, 'admin', p.admin, p.password);
  await page.getByRole('heading', { name: 'Domains', level: 1 }).waitFor();
  await page.getByRole('link', { name: `Settings of ${p.domain}` }).click();
  await page.getByRole('heading', { name: `Settings of ${p.domain}` }).waitFor();
  const sw = page.getByRole('switch', { name: NAME });
  await sw.waitFor();

  if (p.allow) {
    // an exemption list: a bad CIDR is refused next to the field, a good one kept
    const allow = page.getByRole('form', { name: 'Exempt networks (CIDR)' });
    const input = allow.getByLabel('Exempt networks (CIDR)');
    await input.fill('127.0.0.1/8');
    await allow.getByRole('button', { name: 'Save' }).click();
    await allow.locator('.field .error:not([hidden])').waitFor();
    check((await input.getAttribute('aria-invalid')) === 'true', 'bad CIDR not marked');
    await input.fill(p.allow);
    await allow.getByRole('button', { name: 'Save' }).click();
    await status(page, 'Exempt networks (CIDR): saved');
    check((await allow.locator('.field .error:not([hidden])').count()) === 0, 'the error stayed');
  }
  const on = p.want === 'on';
  check((await sw.isChecked()) !== on, `the switch is already ${p.want}`);
  await sw.focus();
  await page.keyboard.press('Space');
  await status(page, `${NAME}: saved (${p.want})`);
  check((await sw.isChecked()) === on, 'switch state after saving');
  await page.reload();
  await page.waitForSelector('body.ready');
  await sw.waitFor();
  check((await sw.isChecked()) === on, 'switch state after a reload');
});

// The login page renders in both languages with no script or CSP error.
import { check, open, params, run, shot } from './lib.js';

const p = params();
await run('smoke', async ({ page }) => {
  await open(page, p.url);
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await shot(page, 'login-en');
  await page.getByRole('button', { name: /日本語/ }).click();
  await page.getByRole('heading', { name: 'ログイン' }).waitFor();
  check((await page.getAttribute('html', 'lang')) === 'ja', 'html lang is not ja');
  await shot(page, 'login-ja');
});

// Shared by the browser scenarios: Debian's chromium driven headless by
// playwright-core, the test daemon's self-signed certificate accepted,
// the panel's language chosen like a visitor's browser would (its
// Accept-Language), screenshots into build/screenshots.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHOTS = process.env.YUBIN_SCREENSHOTS || join(repo, 'build', 'screenshots');

// The scenario's parameters: JSON in argv[2] ({url, ...}).
export function params() {
  return JSON.parse(process.argv[2] || '{}');
}

export async function launch(opts = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.YUBIN_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    locale: opts.locale || 'en-US',
    viewport: opts.viewport || { width: 1200, height: 900 },
    isMobile: Boolean(opts.mobile),
    hasTouch: Boolean(opts.mobile),
  });
  // every wait is for something the page must show, so the bound only
  // decides how soon a failure is reported: generous, for a loaded machine
  // (make test runs the browser tests beside the other workers and the
  // sanitizer build; bulk-adding 55 accounts hashes 55 passwords)
  context.setDefaultTimeout(60000);
  const page = await context.newPage();
  const problems = [];
  const t0 = Date.now();
  const log = [];
  const note = (s) => { log.push(`${((Date.now() - t0) / 1000).toFixed(2)}s ${s}`); if (log.length > 60) log.shift(); };
  // any script error, CSP violation or failed request is a failure
  page.on('pageerror', (e) => { problems.push(`page error: ${e.message}`); note(`page error: ${e.stack || e}`); });
  page.on('console', (m) => {
    note(`console.${m.type()}: ${m.text()}`);
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  // its location, and its status line's toasts (watched from each load:
  // no init script, which a sandboxed mail frame would refuse, noisily)
  page.on('framenavigated', (f) => f === page.mainFrame() && note(`at ${f.url()}`));
  page.on('load', () => page.evaluate(() => {
    const s = document.getElementById('status');
    if (!s) return;
    new MutationObserver(() => s.textContent && console.debug(`#status ${s.className}: ${s.textContent}`))
      .observe(s, { childList: true, characterData: true, subtree: true });
  }).catch(() => {}));
  page.on('requestfailed', (r) => note(`request failed: ${r.method()} ${r.url()} ${(r.failure() || {}).errorText}`));
  page.on('response', (r) => r.status() >= 400 && note(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`));
  return { browser, context, page, problems, log };
}

// Why a step failed, as far as the page tells: where it is, its status
// line and reading pane, then the last of what it logged.
export async function explain(env) {
  let where = '';
  try {
    where = await env.page.evaluate(() => {
      const text = (sel) => ((document.querySelector(sel) || {}).textContent || '').replace(/\s+/g, ' ').slice(0, 200);
      return `url ${window.location.href}\nstatus: ${text('#status')}\nreader: ${text('#reader')}`;
    });
  } catch (e) {
    where = `(the page cannot tell: ${e.message})`;
  }
  return `--- the page at the failure\n${where}\n--- its last events\n${env.log.join('\n')}`;
}

// A failing step's report on stderr and a screenshot FAILED-name.png.
export async function failed(env, name) {
  console.error(await explain(env));
  await shot(env.page, `FAILED-${name}`).catch(() => {});
}

export async function open(page, url, hash = '') {
  await page.goto(url + '/' + hash);
  await page.waitForSelector('body.ready');
}

// Logs in through the form. kind: 'admin' or 'user'.
export async function login(page, labels, kind, name, password) {
  await page.getByRole('radio', { name: kind === 'admin' ? labels.admin : labels.user }).check();
  await page.getByLabel(kind === 'admin' ? labels.name : labels.address, { exact: true }).fill(name);
  await page.getByLabel(labels.password, { exact: true }).fill(password);
  await page.getByRole('button', { name: labels.submit, exact: true }).click();
}

export const EN = { admin: 'an administrator', user: 'a mail user', name: 'Administrator name', address: 'Mail address', password: 'Password', submit: 'Log in' };
export const JA = { admin: '管理者', user: 'メール利用者', name: '管理者名', address: 'メールアドレス', password: 'パスワード', submit: 'ログイン' };

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

// The polite status line's text once it contains want (a string or RegExp).
export async function status(page, want) {
  const loc = page.locator('#status');
  await loc.filter({ hasText: want }).waitFor();
  return loc.textContent();
}

export function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

// Runs fn({page, ...}) and exits 0, or prints the error (and saves a
// screenshot of the failing page) and exits 1.
export async function run(name, fn, opts) {
  const env = await launch(opts);
  let rc = 0;
  try {
    await fn(env);
    if (env.problems.length) throw new Error(env.problems.join('\n'));
  } catch (e) {
    rc = 1;
    console.error(`${name}: ${e.stack || e}`);
    if (env.problems.length) console.error(env.problems.join('\n'));
    await failed(env, name);
  } finally {
    await env.browser.close();
  }
  process.exit(rc);
}

// The webmail's search in a real browser: "/" puts the cursor in the
// search field, a Japanese word is found in ISO-2022-JP, Shift_JIS and
// UTF-8 mail of two folders, a hit opens in the reading pane from its own
// folder and "back" returns to the hits; a date range (the reader's own
// days: the browser runs in Asia/Tokyo, a message at 01:00 JST on the day
// after is outside, though it is still that day in UTC), the sender field
// and one folder narrow it; the Japanese UI on a phone. Parameters (JSON
// in argv[2]): url, user, password.
import { check, failed, launch, params, shot } from './lib.js';

const P = params();

async function login(page) {
  await page.goto(P.url + '/mail/');
  await page.locator('#login-address').fill(P.user);
  await page.locator('#login-password').fill(P.password);
  await page.locator('#login-submit').click();
  await page.locator('#messages').waitFor();
}

// The hits' subjects once the results of the current route are drawn
// (the list pane names the search it shows), total of them.
async function hits(page, total) {
  await page.waitForFunction(() => {
    const el = document.querySelector('#search-range');
    return el && el.dataset.search === window.location.hash.split('/')[2];
  });
  const range = await page.locator('#search-range').getAttribute('data-total');
  check(range === String(total), `total ${range}, want ${total}`);
  return page.locator('#search-results li.hit .subject').allTextContents();
}

async function search(page, fields) {
  await page.locator('#search-q').fill(fields.q || '');
  const more = fields.from !== undefined || fields.after !== undefined || fields.until !== undefined;
  if (more) {
    if (!(await page.locator('#search-more').evaluate((d) => d.open))) await page.locator('#search-more > summary').click();
    await page.locator('#search-from').fill(fields.from || '');
    await page.locator('#search-after').fill(fields.after || '');
    await page.locator('#search-until').fill(fields.until || '');
  }
  await page.locator('#search-folder').selectOption(fields.folder || '');
  await page.locator('#search-q').press('Enter');
  await page.locator('#search-title').waitFor();
}

function same(got, want, what) {
  check(JSON.stringify([...got].sort()) === JSON.stringify([...want].sort()),
    `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

async function desktop() {
  const env = await launch({ locale: 'en-US' });
  const { page, browser } = env;
  try {
    await login(page);
    // "/" from the list goes to the search field
    await page.locator('#list .folder-title').click();
    await page.keyboard.press('/');
    await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'search-q');
    await page.keyboard.type('請求書');
    await page.keyboard.press('Enter');
    await page.locator('#search-title').waitFor();
    same(await hits(page, 3), ['見積もりのご案内', '請求書 (古い)', '会議の件'], 'a Japanese word in three charsets');
    await page.locator('#search-results li.hit[data-folder="Archive"] .hit-folder', { hasText: 'Archive' }).waitFor();
    // the sender by name, or by address when it has none
    const from = await page.locator('#search-results li.hit .from').allTextContents();
    same(from, ['sato@sender.test', 'keiri@example.jp', '山田太郎'], 'the senders');
    await shot(page, 'webmail-search-en');

    // a hit opens from its own folder, and back returns to the hits
    await page.locator('#search-results li.hit[data-folder="Archive"]').click();
    await page.locator('#reader .subject', { hasText: '請求書 (古い)' }).waitFor();
    await page.locator('#reader .mail-text', { hasText: '去年の請求書です' }).waitFor();
    check(/^#\/search\/[^/]+\/Archive\/\d+$/.test(await page.evaluate(() => window.location.hash)), 'the hit\'s route');
    await page.locator('#search-results li.hit.open[data-folder="Archive"]').waitFor();
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => /^#\/search\/[^/]+$/.test(window.location.hash));
    same(await hits(page, 3), ['見積もりのご案内', '請求書 (古い)', '会議の件'], 'back to the hits');

    // a date range of the reader's own days (Asia/Tokyo)
    await search(page, { after: '2026-11-03', until: '2026-11-03' });
    same(await hits(page, 1), ['会議の件'], '2026-11-03 in Tokyo');
    await search(page, { q: '請求書', after: '2026-11-04', until: '2026-11-30' });
    same(await hits(page, 1), ['見積もりのご案内'], 'a word and a range');
    await search(page, { after: '2026-11-04', until: '2026-11-04' });
    same(await hits(page, 1), ['late night'], 'the next day in Tokyo');
    // the sender field, and one folder
    await search(page, { from: 'sato@sender.test', after: '', until: '' });
    same(await hits(page, 1), ['見積もりのご案内'], 'the sender');
    await search(page, { q: '請求書', from: '', folder: 'Archive' });
    same(await hits(page, 1), ['請求書 (古い)'], 'one folder');
    await search(page, { q: 'nothing-like-this', folder: '' });
    await page.locator('#search-none').waitFor();

    // closing the search gives the folder back, the form emptied
    await page.locator('#search-close').click();
    await page.locator('#messages').waitFor();
    check(await page.locator('#search-q').inputValue() === '', 'the search field is emptied');
    if (env.problems.length) throw new Error(env.problems.join('\n'));
  } catch (e) {
    await failed(env, 'webmail-search');
    throw e;
  } finally {
    await browser.close();
  }
}

async function japanesePhone() {
  const env = await launch({ locale: 'ja-JP', viewport: { width: 390, height: 844 }, mobile: true });
  const { page, browser } = env;
  try {
    await login(page);
    check(await page.locator('#search-q').getAttribute('placeholder') === 'メールを検索 (/)', 'the Japanese placeholder');
    const box = await page.locator('#search-q').boundingBox();
    check(box && box.width > 200, 'the search field is wide enough on a phone');
    await page.locator('#search-q').fill('会議');		// two characters
    await page.locator('#search-submit').tap();
    await page.locator('#search-title', { hasText: '検索結果' }).waitFor();
    same(await hits(page, 1), ['会議の件'], 'a two-character word');
    await shot(page, 'webmail-search-ja-phone');
    // the folder choice looks like the field beside it
    const look = await page.locator('#search-folder').evaluate((e) => getComputedStyle(e).borderRadius);
    check(look === await page.locator('#search-q').evaluate((e) => getComputedStyle(e).borderRadius),
      `the folder choice is unstyled (border radius ${look})`);
    await page.locator('#search-results li.hit').first().tap();
    await page.locator('#reader .subject', { hasText: '会議の件' }).waitFor();
    await page.locator('#back').tap();
    await page.locator('#search-results').waitFor();
    check(await page.locator('#search-results').isVisible(), 'the hits are shown again on the phone');
    if (env.problems.length) throw new Error(env.problems.join('\n'));
  } catch (e) {
    await failed(env, 'webmail-search-phone');
    throw e;
  } finally {
    await browser.close();
  }
}

try {
  await desktop();
  await japanesePhone();
  process.exit(0);
} catch (e) {
  console.error(e.stack || String(e));
  process.exit(1);
}

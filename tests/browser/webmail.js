// The webmail (/mail/) in a real browser: log in with the full address,
// read ISO-2022-JP and Shift_JIS mail (the decoded text on the page), an
// HTML mail with a script, an onerror= attribute and a remote image (none
// runs or loads: the page's test hook counts any postMessage from the
// mail's iframe, and the test module's listener counts requests), every
// payload of an XSS corpus likewise, download an attachment with a
// Japanese name, new mail appearing through server-sent events without a
// reload, delete and empty the Trash with the quota dropping, mark as spam;
// Japanese screens and a phone's. Parameters (JSON in argv[2]): url, user,
// password, smtp (port 25's number), xss (how many corpus messages).
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { check, failed, launch, params, shot } from './lib.js';

const P = params();

async function login(page, locale, user = P.user) {
  await page.goto(P.url + '/mail/');
  await page.evaluate(() => window.localStorage.setItem('yubin.test', '1'));
  await page.goto(P.url + '/mail/');
  await page.locator('#login-address').fill(user);
  await page.locator('#login-password').fill(P.password);
  await shot(page, `webmail-login-${locale}`);
  await page.locator('#login-submit').click();
  await page.locator('#messages').waitFor();
  const hook = await page.evaluate(() => window.__yubinTest && window.__yubinTest.xss);
  check(hook === 0, 'the test hook is missing');
}

// The row of the message whose subject is subject.
function row(page, subject) {
  return page.locator('#messages li.msg', { has: page.locator('.subject', { hasText: subject }) }).first();
}

// Opens folder name, once its own list is in the list pane.
async function openFolder(page, name) {
  await page.locator(`a.folder[data-folder="${name}"]`).click();
  await page.waitForFunction((n) => document.querySelector('.folder.current') &&
    document.querySelector('.folder.current').dataset.folder === n && document.querySelector('#list').dataset.folder === n,
  name);
}

// A folder's list whose answer comes last does not replace the folder
// opened after it: Sent's list asked again is held until the Inbox is shown.
async function lateList(page) {
  await openFolder(page, 'Sent');
  const url = /\/api\/v1\/mail\/folders\/Sent\/messages\?/;
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route(url, async (route) => { await held; await route.continue(); });
  const asked = page.waitForRequest(url);
  await page.locator('#refresh').click();
  await asked;
  await openFolder(page, 'INBOX');
  const n = await page.evaluate(() => window.__yubinTest.dropped.list);
  release();
  await page.waitForFunction((k) => window.__yubinTest.dropped.list > k, n);
  check(await row(page, 'sent one').count() === 0, 'the late list of Sent is shown in the Inbox');
  check(await page.locator('#list').getAttribute('data-folder') === 'INBOX', 'the list pane left the Inbox');
  await page.unroute(url);
}

async function openMessage(page, subject) {
  await row(page, subject).click();
  await page.locator('#reader .subject', { hasText: subject }).waitFor();
}

// The mail iframe once loaded: its images have been tried and any script
// it holds would have run by then.
async function htmlFrame(page) {
  const el = await page.locator('#reader iframe.mail-html').elementHandle();
  const frame = await el.contentFrame();
  await frame.waitForLoadState('load');
  return { el, frame };
}

async function xssCount(page) {
  return page.evaluate(() => window.__yubinTest.xss);
}

// The hook counts: a message posted to the page bumps it (so a check of 0
// can fail), then the count starts again.
async function hookWorks(page) {
  await page.evaluate(() => window.postMessage('probe', '*'));
  await page.waitForFunction(() => window.__yubinTest.xss === 1);
  await page.evaluate(() => { window.__yubinTest.xss = 0; window.__yubinTest.messages = []; });
}

function smtpSend(subject) {
  const msg = `From: news@sender.test\r\nTo: ${P.user}\r\nSubject: ${subject}\r\n\r\nfresh mail\r\n.\r\n`;
  const steps = ['EHLO browser.test\r\n', `MAIL FROM:<news@sender.test>\r\n`, `RCPT TO:<${P.user}>\r\n`,
    'DATA\r\n', msg, 'QUIT\r\n'];
  return new Promise((resolve, reject) => {
    const s = connect(P.smtp, '127.0.0.1');
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d) => {
      buf += d;
      // one step per complete reply (the last line has a space after the code)
      while (/^\d{3} .*\r\n/m.test(buf)) {
        const m = /^(\d{3}) .*\r\n/m.exec(buf);
        buf = buf.slice(m.index + m[0].length);
        if (m[1][0] !== '2' && m[1][0] !== '3') {
          reject(new Error('SMTP: ' + m[0]));
          s.destroy();
          return;
        }
        const next = steps.shift();
        if (next === undefined) { s.end(); resolve(); return; }
        s.write(next);
      }
    });
    s.on('error', reject);
  });
}

async function japanese(page) {
  await openMessage(page, '会議の件');
  await page.locator('#reader .mail-text', { hasText: '明日の会議は十時からです。' }).waitFor();
  await page.locator('#reader .hdr-value', { hasText: '山田太郎' }).waitFor();
  await shot(page, 'webmail-iso2022jp');
  await openMessage(page, '見積もりのご案内');
  await page.locator('#reader .mail-text', { hasText: 'ソフトウェアの表示確認です。' }).waitFor();
  // opening marked it read, as IMAP will see
  await page.waitForFunction(() => !document.querySelector('#messages li.msg.open.unread'));
}

// A click is not lost when the list is drawn again between the press and
// the release: new mail, a flag or the message just opened being marked
// read redraw it at any moment.
async function clickDuringRedraw(page, subject) {
  const box = await row(page, subject).locator('.subject').boundingBox();
  const draws = await page.evaluate(() => window.__yubinTest.draws);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.evaluate(() => document.getElementById('refresh').click());
  await page.waitForFunction((n) => window.__yubinTest.draws > n, draws);
  await page.mouse.up();
  await page.locator('#reader .subject', { hasText: subject }).waitFor();
}

// A message whose answer comes last does not replace the one opened after
// it: the answer for the first is held until the second is shown.
async function lateAnswer(page, first, second) {
  const uid = await row(page, first).getAttribute('data-uid');
  const url = new RegExp(`/api/v1/mail/messages/INBOX/${uid}\\?`);
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route(url, async (route) => { await held; await route.continue(); });
  const asked = page.waitForRequest(url);
  await row(page, first).click();
  await asked;
  await openMessage(page, second);
  release();
  await page.waitForFunction(() => window.__yubinTest.dropped.message === 1);
  const shown = await page.locator('#reader .subject').textContent();
  check(shown === second, `the late answer replaced ${second} by ${shown}`);
  await page.unroute(url);
}

async function evilHtml(page) {
  await hookWorks(page);
  await openMessage(page, 'evil html');
  const { frame } = await htmlFrame(page);
  await page.locator('#reader .images-blocked').waitFor();
  const body = await frame.content();
  check(body.includes('visible text'), 'the HTML was not shown: ' + body.slice(0, 300));
  check(!/<script/i.test(body) && !/onerror/i.test(body), 'script survived: ' + body);
  await shot(page, 'webmail-html-blocked');
  // the links open in a new tab without referrer
  check(/target="_blank"/.test(body) && /rel="noopener noreferrer"/.test(body), 'link not rewritten: ' + body);
  check(await xssCount(page) === 0, 'a script of the mail ran');
}

async function xssCorpus(page) {
  await openFolder(page, 'XSS');
  const n = await page.locator('#messages li.msg').count();
  check(n === P.xss, `XSS folder holds ${n} messages, not ${P.xss}`);
  for (let i = 0; i < n; i++) {
    const item = page.locator('#messages li.msg').nth(i);
    const subject = await item.locator('.subject').textContent();
    await item.click();
    await page.locator('#reader .subject', { hasText: subject }).waitFor();
    await page.locator('#reader .body > *').first().waitFor();
    if (await page.locator('#reader iframe.mail-html').count() > 0) {
      await htmlFrame(page);
      // and with images on: still no script
      if (await page.locator('#show-images').count() > 0) {
        await page.locator('#show-images').click();
        await page.locator('#show-images').waitFor({ state: 'detached' });
        await htmlFrame(page);
      }
    }
  }
  const got = await page.evaluate(() => window.__yubinTest);
  check(got.xss === 0, 'XSS payloads ran: ' + JSON.stringify(got.messages));
}

// cid: images come from the message's own part, as a data: URL; the
// source opens in a tab of its own.
async function inlineImageAndSource(page) {
  await openMessage(page, 'inline image');
  const { frame } = await htmlFrame(page);
  const body = await frame.content();
  check(/<img id="logo" src="data:image\/png;base64,/.test(body), 'cid image not shown: ' + body);
  check(await page.locator('#reader .images-blocked').count() === 0, 'a cid image counted as remote');
  const [tab] = await Promise.all([page.context().waitForEvent('page'), page.locator('#show-source').click()]);
  await tab.waitForLoadState();
  const text = await tab.textContent('body');
  check(text.includes('Content-ID: <logo@yubin.test>'), 'source: ' + text.slice(0, 200));
  await tab.close();
  await shot(page, 'webmail-inline-image');
}

async function download(page) {
  await openFolder(page, 'INBOX');
  await openMessage(page, '添付ファイル');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('#reader a.attachment').first().click()]);
  check(dl.suggestedFilename() === '見積書.pdf', 'downloaded as ' + dl.suggestedFilename());
  const data = readFileSync(await dl.path(), 'latin1');
  check(data.startsWith('%PDF-1.4'), 'download content: ' + data.slice(0, 20));
  await shot(page, 'webmail-attachment');
}

async function newMail(page) {
  await openFolder(page, 'INBOX');
  const before = await page.locator('#messages li.msg').count();
  await smtpSend('pushed by SSE');
  // no reload: the list changes through the event stream
  await row(page, 'pushed by SSE').waitFor({ timeout: 20000 });
  check(await page.locator('#messages li.msg').count() === before + 1, 'the list did not grow by one');
}

async function quota(page) {
  return Number(await page.locator('#quota').getAttribute('data-used'));
}

async function deleteAndEmpty(page) {
  await openFolder(page, 'INBOX');
  const used0 = await quota(page);
  await row(page, 'big one').locator('input.pick').check();
  await page.locator('#list .act-delete').click();
  await page.locator('#status', { hasText: /1 deleted/ }).waitFor();
  await row(page, 'big one').waitFor({ state: 'detached' });
  check(await quota(page) === used0, 'moving to Trash changed the quota');
  await openFolder(page, 'Trash');
  await row(page, 'big one').waitFor();
  page.once('dialog', (d) => d.accept());
  await page.locator('#empty-folder').click();
  await page.locator('#status', { hasText: /emptied/ }).waitFor();
  await page.locator('#reader, #list').first().waitFor();
  await page.waitForFunction((u) => Number(document.querySelector('#quota').dataset.used) < u - 300000, used0);
  await page.locator('#list .empty').waitFor();
  await shot(page, 'webmail-trash-emptied');
}

async function spam(page) {
  await openFolder(page, 'INBOX');
  await openMessage(page, 'buy now');
  await page.locator('#reader .act-spam').click();
  await page.locator('#status', { hasText: /Junk/ }).waitFor();
  await row(page, 'buy now').waitFor({ state: 'detached' });
  await openFolder(page, 'Junk');
  await row(page, 'buy now').waitFor();
  await shot(page, 'webmail-junk');
}

// In Sent the list names the recipient.
async function sent(page) {
  await openFolder(page, 'Sent');
  await row(page, 'sent one').locator('.from', { hasText: 'To: 佐藤' }).waitFor();
}

async function keys(page) {
  await openFolder(page, 'INBOX');
  await page.keyboard.press('j');
  await page.locator('#messages li.msg.cursor').waitFor();
  await page.keyboard.press('o');
  await page.locator('#reader .subject').waitFor();
}

// Runs fn, during which the browser's reports of what the Content-Security-
// Policy blocked (hostile mail's handlers, imports, base, images) are
// expected, not problems; anything else still is.
async function blockedOnly(env, fn) {
  const start = env.problems.length;
  await fn();
  const mine = env.problems.splice(start);
  const other = mine.filter((m) => !/violates the following Content Security Policy directive/.test(m));
  env.problems.push(...other);
  console.log(`CSP blocked ${mine.length - other.length} attempts`);
}

async function desktop() {
  const env = await launch({ locale: 'en-US' });
  const { page, browser } = env;
  try {
    await login(page, 'en');
    await shot(page, 'webmail-inbox-en');
    await japanese(page);
    await clickDuringRedraw(page, 'big one');
    await lateAnswer(page, '添付ファイル', 'buy now');
    await lateList(page);
    await blockedOnly(env, () => evilHtml(page));
    await inlineImageAndSource(page);
    await download(page);
    await newMail(page);
    await sent(page);
    await keys(page);
    await spam(page);
    await deleteAndEmpty(page);
    await blockedOnly(env, () => xssCorpus(page));
    if (env.problems.length) throw new Error(env.problems.join('\n'));
  } catch (e) {
    await failed(env, 'webmail');
    throw e;
  } finally {
    await browser.close();
  }
}

async function japaneseUiAndPhone() {
  const env = await launch({ locale: 'ja-JP', viewport: { width: 390, height: 844 }, mobile: true });
  const { page, browser } = env;
  try {
    await login(page, 'ja-phone');
    await page.locator('#menu').click();
    for (const name of ['受信箱', '下書き', '送信済み', '迷惑メール', 'ごみ箱']) {
      await page.locator('#folders .folder-name', { hasText: name }).first().waitFor();
    }
    await shot(page, 'webmail-folders-ja-phone');
    await page.locator('a.folder[data-folder="INBOX"]').click();
    await page.locator('#messages').waitFor();
    await shot(page, 'webmail-list-ja-phone');
    await openMessage(page, '会議の件');
    await page.locator('#back').waitFor();
    await shot(page, 'webmail-read-ja-phone');
    if (env.problems.length) throw new Error(env.problems.join('\n'));
  } catch (e) {
    await failed(env, 'webmail-phone');
    throw e;
  } finally {
    await browser.close();
  }
}

// Above 90% of the quota the page says what to do and links the Trash.
async function quotaFull() {
  const env = await launch({ locale: 'en-US' });
  const { page, browser } = env;
  try {
    await login(page, 'full', P.full);
    await page.locator('#quota-full', { hasText: 'empty the Trash' }).waitFor();
    await shot(page, 'webmail-quota-full');
    await page.locator('#quota-full a').click();
    await page.waitForFunction(() => document.querySelector('.folder.current').dataset.role === 'trash');
    // the language switch redraws everything in Japanese
    await page.locator('#lang').click();
    await page.locator('#folders .folder-name', { hasText: '受信箱' }).waitFor();
    await page.locator('#quota-full', { hasText: 'ごみ箱を空に' }).waitFor();
    await page.locator('#list .folder-title', { hasText: 'ごみ箱' }).waitFor();
    await shot(page, 'webmail-quota-full-ja');
    if (env.problems.length) throw new Error(env.problems.join('\n'));
  } catch (e) {
    await failed(env, 'webmail-quota');
    throw e;
  } finally {
    await browser.close();
  }
}

try {
  await desktop();
  await japaneseUiAndPhone();
  await quotaFull();
  process.exit(0);
} catch (e) {
  console.error(e.stack || String(e));
  process.exit(1);
}

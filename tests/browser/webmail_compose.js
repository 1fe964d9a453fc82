// Writing in the webmail (/mail/) in a real browser, in two phases that
// the test module (test_webmail_compose.py) checks over IMAP in between.
// Phase "a": the address book (a vCard of two good cards and a bad one
// imported, the export holding both, a contact added, edited, deleted);
// a message with a Japanese subject and an uploaded attachment written
// to user B through autocomplete and sent (a file past the size limit
// refused first); a reply to B's message; reply all prefilled; a forward
// inline (prefilled, discarded) and one as an attachment (sent); a draft
// saved by itself after typing stops, then changed and left at once
// (saved on the way out). Phase "b": the keys dialog; the draft opened
// from Drafts, changed and sent (removing it); the same draft saved from
// two windows (the second kept as a new draft); ① refused in
// ISO-2022-JP; a From not the user's refused; the language switched
// while writing; one send over the hourly limit, refused with the
// limit's explanation; an address book of more than a page; the
// composer on a phone in Japanese. Parameters (JSON in argv[2]): url,
// user, peer, password, phase, vcard and many (vCard files' paths),
// peer_subject.
// Phase "c" (user: an account whose sending is suspended): the composer
// says why and what to do; signing out while writing keeps the draft,
// and B logging in next on the same page gets none of it.
import { readFileSync } from 'node:fs';
import { check, failed, launch, params, shot } from './lib.js';

const P = params();

async function login(page) {
  await page.goto(P.url + '/mail/');
  await page.locator('#login-address').fill(P.user);
  await page.locator('#login-password').fill(P.password);
  await page.locator('#login-submit').click();
  await page.locator('#messages, #list .empty').first().waitFor();
}

function status(page, re) {
  return page.locator('#status').filter({ hasText: re }).waitFor();
}

// A send or discard is over once the composer has left and its toast is
// up (the toast alone may still be the step before's: the same words stay
// a few seconds, and the next step would race this one's end).
async function over(page, re) {
  await page.locator('#compose-view').waitFor({ state: 'detached' });
  await status(page, re);
}

async function addressBook(page) {
  await page.locator('#nav-contacts').click();
  await page.locator('#address-book').waitFor();
  await page.locator('#vcard-file').setInputFiles(P.vcard);
  // two good cards and one without an address, reported by its number
  await page.locator('#import-result', { hasText: '2 contact(s) imported, 1 card(s) refused' }).waitFor();
  await page.locator('.import-refused li', { hasText: 'Card 3:' }).waitFor();
  await page.locator('#contacts .contact', { hasText: 'taro@vcard.test' }).waitFor();
  await page.locator('#contacts .contact', { hasText: 'jiro@vcard.test' }).waitFor();
  const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('#vcard-export').click()]);
  const vcf = readFileSync(await dl.path(), 'utf8');
  check(vcf.includes('taro@vcard.test') && vcf.includes('jiro@vcard.test') && vcf.includes('山田 太郎'),
    'the export lacks the imported cards: ' + vcf);
  // add B, edit it, delete another
  await page.locator('#contact-new').click();
  await page.locator('#contact-name').fill('Hanako Peer');
  await page.locator('#contact-emails').fill(P.peer);
  await page.locator('#contact-save').click();
  await page.locator('#contacts .contact', { hasText: P.peer }).waitFor();
  await page.locator('#contacts .contact', { hasText: P.peer }).locator('.contact-edit').click();
  await page.locator('#contact-name').fill('受信 花子');
  await page.locator('#contact-save').click();
  await page.locator('#contacts .contact', { hasText: '受信 花子' }).waitFor();
  page.once('dialog', (d) => d.accept());
  await page.locator('#contacts .contact', { hasText: 'jiro@vcard.test' }).locator('.contact-delete').click();
  await page.locator('#contacts .contact', { hasText: 'jiro@vcard.test' }).waitFor({ state: 'detached' });
  await shot(page, 'webmail-contacts');
  // an address in the book starts a message to it
  await page.locator('#contacts a.contact-email', { hasText: 'taro@vcard.test' }).click();
  await page.locator('#compose-view[data-mode=to]').waitFor();
  check((await page.locator('#compose-to').inputValue()).includes('taro@vcard.test'), 'not addressed to the contact');
  await page.keyboard.press('Escape');
  await page.locator('#compose-view').waitFor({ state: 'detached' });
}

// Types into To until the suggestion for address shows, then takes it by keyboard.
async function pickRecipient(page, typed, address) {
  await page.locator('#compose-to').pressSequentially(typed, { delay: 30 });
  const opt = page.locator('.suggestions [role=option]', { hasText: address });
  await opt.waitFor();
  check(await page.locator('#compose-to').getAttribute('aria-expanded') === 'true', 'the combobox is not expanded');
  await shot(page, 'webmail-compose-autocomplete');
  while (await opt.getAttribute('aria-selected') !== 'true') await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  const v = await page.locator('#compose-to').inputValue();
  check(v.includes(address), 'the suggestion was not taken: ' + v);
}

async function writeWithAttachment(page) {
  await page.keyboard.press('c');
  await page.locator('#compose-view').waitFor();
  await pickRecipient(page, '受信', P.peer);
  await page.locator('#compose-subject').fill('見積もりのお願い');
  await page.locator('#compose-text').fill('お世話になっております。\n見積書を添付します。');
  await page.locator('#attach-limit', { hasText: 'of at most 3.0 MB' }).waitFor();
  // past the size limit: refused before a byte is sent, with the limit named
  await page.locator('#compose-file').setInputFiles({ name: 'huge.bin', mimeType: 'application/octet-stream',
    buffer: Buffer.alloc(3200000) });
  await status(page, /huge\.bin is too large: .* at most 3\.0 MB/);
  await page.locator('#compose-file').setInputFiles({ name: '見積書.txt', mimeType: 'text/plain',
    buffer: Buffer.from('見積もり 1,000円\n') });
  await page.locator('#attach-list .attachment-item:not(.uploading)', { hasText: '見積書.txt' }).waitFor();
  await shot(page, 'webmail-compose');
  await page.locator('#compose-send').click();
  await over(page, /Message sent to 1 recipient/);
  await page.waitForFunction(() => window.location.hash.startsWith('#/f/'));
}

async function reply(page) {
  await page.locator('#messages li.msg', { hasText: P.peer_subject }).first().click();
  await page.locator('#reader .subject', { hasText: P.peer_subject }).waitFor();
  await page.locator('#act-forward-attachment').waitFor();
  await shot(page, 'webmail-read-tools');
  await page.keyboard.press('r');
  await page.locator('#compose-view[data-mode=reply]').waitFor();
  const to = await page.locator('#compose-to').inputValue();
  const subject = await page.locator('#compose-subject').inputValue();
  check(to.includes(P.peer), 'reply To: ' + to);
  check(subject === 'Re: ' + P.peer_subject, 'reply Subject: ' + subject);
  check((await page.locator('#compose-text').inputValue()).includes('> '), 'the original is not quoted');
  await page.locator('#compose-text').press('Control+Home');
  await page.locator('#compose-text').pressSequentially('承知しました。');
  await shot(page, 'webmail-reply');
  await page.locator('#compose-send').click();
  await over(page, /Message sent/);
}

// Reply all prefilled (then left); forward inline (prefilled, then
// discarded) and as attachment (sent with Ctrl+Enter).
async function forward(page) {
  await page.locator('#messages li.msg', { hasText: P.peer_subject }).first().click();
  await page.locator('#reader .subject', { hasText: P.peer_subject }).waitFor();
  await page.keyboard.press('a');
  await page.locator('#compose-view[data-mode=reply_all]').waitFor();
  const to = await page.locator('#compose-to').inputValue();
  check(to.includes(P.peer) && !to.includes(P.user), 'reply all To: ' + to);
  await page.keyboard.press('Escape');
  await page.locator('#compose-view').waitFor({ state: 'detached' });
  await page.locator('#messages li.msg', { hasText: P.peer_subject }).first().click();
  await page.locator('#reader .subject', { hasText: P.peer_subject }).waitFor();
  await page.keyboard.press('f');
  await page.locator('#compose-view[data-mode=forward_inline]').waitFor();
  check(await page.locator('#compose-subject').inputValue() === 'Fwd: ' + P.peer_subject, 'forward Subject');
  check((await page.locator('#compose-text').inputValue()).includes('Meeting next week?'), 'the forwarded text');
  check(await page.locator('#compose-to').inputValue() === '', 'a forward has no recipient yet');
  page.once('dialog', (d) => d.accept());
  await page.locator('#compose-discard').click();
  await over(page, /Message discarded/);
  await page.locator('#messages li.msg', { hasText: P.peer_subject }).first().click();
  await page.locator('#act-forward-attachment').click();
  await page.locator('#compose-view[data-mode=forward_attachment] #fwd-attached').waitFor();
  await page.locator('#compose-to').fill(P.peer);
  await page.locator('#compose-to').press('Control+Enter');
  await over(page, /Message sent/);
}

async function autosavedDraft(page) {
  await page.locator('#compose').click();
  await page.locator('#compose-view').waitFor();
  await page.locator('#compose-to').fill(P.peer + ', ');
  await page.locator('#compose-subject').fill('下書きテスト');
  await page.locator('#compose-text').pressSequentially('途中まで', { delay: 20 });
  // nothing pressed Save: the draft saves itself once typing stops
  await page.locator('#draft-state', { hasText: 'Draft saved' }).waitFor({ timeout: 20000 });
  await shot(page, 'webmail-draft-saved');
  check(/^#\/draft\/\d+$/.test(await page.evaluate(() => window.location.hash)), 'the address does not name the draft');
  // a change just before leaving is saved on the way out
  await page.locator('#compose-text').press('End');
  await page.locator('#compose-text').pressSequentially('(追記)');
  await page.locator('#folders a.folder[data-role=inbox]').click();
  await page.locator('#compose-view').waitFor({ state: 'detached' });
}

async function phaseA() {
  const env = await launch({ locale: 'en-US' });
  try {
    await login(env.page);
    await addressBook(env.page);
    await writeWithAttachment(env.page);
    await reply(env.page);
    await forward(env.page);
    await autosavedDraft(env.page);
    if (env.problems.length) throw new Error(env.problems.join('\n'));
  } catch (e) {
    await failed(env, 'webmail-compose-a');
    throw e;
  } finally {
    await env.browser.close();
  }
}

async function continueDraft(page) {
  await page.locator('#folders a.folder[data-role=drafts]').click();
  await page.locator('#messages li.msg', { hasText: '下書きテスト' }).click();
  await page.locator('#compose-view[data-mode=draft]').waitFor();
  check(await page.locator('#compose-subject').inputValue() === '下書きテスト', 'the draft was not read back');
  check((await page.locator('#compose-to').inputValue()).includes(P.peer), 'the draft lost its recipient');
  await page.locator('#compose-text').press('End');
  await page.locator('#compose-text').pressSequentially('、続きを書きました。');
  await page.locator('#compose-send').click();
  await over(page, /Message sent/);
}

// ISO-2022-JP cannot carry ①: said so before anything is sent.
// The same draft open in two windows: the second save finds it replaced
// (409) and keeps its version as a new draft, saying so.
async function conflict(page) {
  await page.locator('#compose').click();
  await page.locator('#compose-subject').fill('競合テスト');
  await page.locator('#compose-text').fill('one');
  await page.locator('#compose-file').setInputFiles({ name: 'plan.txt', mimeType: 'text/plain', buffer: Buffer.from('plan\n') });
  await page.locator('#attach-list .attachment-item:not(.uploading)', { hasText: 'plan.txt' }).waitFor();
  await page.locator('#compose-save').click();
  await page.locator('#draft-state', { hasText: 'Draft saved' }).waitFor();
  const other = await page.context().newPage();
  await other.goto(P.url + '/mail/#/f/Drafts');
  await other.locator('#messages li.msg', { hasText: '競合テスト' }).click();
  await other.locator('#compose-view[data-mode=draft]').waitFor();
  await other.locator('#attach-list .attachment-item', { hasText: 'plan.txt' }).waitFor();
  await page.locator('#compose-text').fill('first window');
  await page.locator('#compose-save').click();
  await page.locator('#draft-state', { hasText: 'Draft saved' }).waitFor();
  await other.locator('#compose-text').fill('second window');
  await other.locator('#compose-save').click();
  // its attachment was a part of the version now gone: to be attached again
  await other.locator('#status', { hasText: 'changed or removed in another window' }).waitFor();
  await other.locator('#status', { hasText: 'Attach again' }).waitFor();
  check(await other.locator('#attach-list .attachment-item').count() === 0, 'a part of the gone version is still listed');
  await other.locator('#draft-state', { hasText: 'Draft saved' }).waitFor();
  await other.close();
  await page.locator('#folders a.folder[data-role=inbox]').click();
  await page.locator('#compose-view').waitFor({ state: 'detached' });
}

async function notRepresentable(page) {
  await page.locator('#compose').click();
  await page.locator('#compose-to').fill(P.peer);
  await page.locator('#compose-subject').fill('丸数字');
  await page.locator('#compose-text').fill('手順①を見てください');
  await page.locator('#compose-iso2022jp').check();
  await page.locator('#compose-send').click();
  await page.locator('#send-error[data-code=not_representable]', { hasText: 'ISO-2022-JP' }).waitFor();
  page.once('dialog', (d) => d.accept());
  await page.locator('#compose-discard').click();
  await over(page, /Message discarded/);
}

// A From the login may not send as: refused with what to do.
async function notMyAddress(page) {
  await page.locator('#compose').click();
  await page.locator('#compose-from').fill('boss@elsewhere.test');
  await page.locator('#compose-to').fill(P.peer);
  await page.locator('#compose-subject').fill('not mine');
  await page.locator('#compose-send').click();
  await page.locator('#send-error[data-code=forbidden]', { hasText: 'may not send from this address' }).waitFor();
  page.once('dialog', (d) => d.accept());
  await page.locator('#compose-discard').click();
  await over(page, /Message discarded/);
}

// The language switch while writing: the same message, in Japanese.
async function languageSwitch(page) {
  await page.locator('#compose').click();
  await page.locator('#compose-subject').fill('ことば');
  await page.locator('#lang').click();
  await page.locator('#compose-view[data-mode=draft] h2', { hasText: '下書き' }).waitFor();
  check(await page.locator('#compose-subject').inputValue() === 'ことば', 'the subject was lost');
  await page.locator('#compose-send', { hasText: '送信' }).waitFor();
  await page.locator('#lang').click();
  await page.locator('#compose-send', { hasText: 'Send' }).waitFor();
  page.once('dialog', (d) => d.accept());
  await page.locator('#compose-discard').click();
  await over(page, /Message discarded/);
}

async function overTheLimit(page) {
  await page.locator('#compose').click();
  await page.locator('#compose-to').fill(P.peer);
  await page.locator('#compose-subject').fill('one too many');
  await page.locator('#compose-text').fill('over the limit');
  await page.locator('#compose-send').click();
  const err = page.locator('#send-error[data-code=rate_limited]');
  await err.waitFor();
  const text = await err.textContent();
  check(/sending limit/.test(text) && /Drafts/.test(text) && /Hourly sending limit reached/.test(text),
    'no rate-limit explanation: ' + text);
  await shot(page, 'webmail-rate-limited');
}

// A book larger than a page: the rest comes with "Show more".
async function bigBook(page) {
  await page.locator('#nav-contacts').click();
  await page.locator('#vcard-file').setInputFiles(P.many);
  await page.locator('#import-result', { hasText: '201 contact(s) imported' }).waitFor();
  await page.locator('#contacts-count', { hasText: '203' }).waitFor();
  check(await page.locator('#contacts .contact').count() === 200, 'the first page is not 200 contacts');
  await page.locator('#contacts-more').click();
  await page.waitForFunction(() => document.querySelectorAll('#contacts .contact').length === 203);
  check(await page.locator('#contacts-more').isHidden(), 'more offered past the end');
}

async function phone() {
  const env = await launch({ locale: 'ja-JP', viewport: { width: 390, height: 800 }, mobile: true });
  try {
    await login(env.page);
    await env.page.locator('#compose').click();
    await env.page.locator('#compose-view h2', { hasText: '新しいメール' }).waitFor();
    await env.page.locator('#compose-send', { hasText: '送信' }).waitFor();
    check(await env.page.locator('#compose-view').isVisible(), 'the composer is hidden on a phone');
    await shot(env.page, 'webmail-compose-ja-phone');
    await env.page.locator('#compose-discard').isVisible();
    if (env.problems.length) throw new Error(env.problems.join('\n'));
  } catch (e) {
    await failed(env, 'webmail-compose-phone');
    throw e;
  } finally {
    await env.browser.close();
  }
}

async function phaseB() {
  const env = await launch({ locale: 'en-US' });
  try {
    await login(env.page);
    // the keys, listed by ?
    await env.page.keyboard.press('?');
    await env.page.locator('#help', { hasText: 'reply to all' }).waitFor();
    await shot(env.page, 'webmail-keys');
    await env.page.keyboard.press('Escape');
    await env.page.locator('#help').waitFor({ state: 'detached' });
    await continueDraft(env.page);
    await conflict(env.page);
    await notRepresentable(env.page);
    await notMyAddress(env.page);
    await languageSwitch(env.page);
    await overTheLimit(env.page);
    await bigBook(env.page);
    if (env.problems.length) throw new Error(env.problems.join('\n'));
  } catch (e) {
    await failed(env, 'webmail-compose-b');
    throw e;
  } finally {
    await env.browser.close();
  }
  await phone();
}

// Phase "c": an account whose sending is suspended is told what to do.
async function phaseC() {
  const env = await launch({ locale: 'en-US' });
  const { page } = env;
  try {
    await login(page);
    await page.locator('#compose').click();
    await page.locator('#compose-to').fill(P.peer);
    await page.locator('#compose-subject').fill('from a suspended account');
    await page.locator('#compose-send').click();
    await page.locator('#send-error[data-code=suspended]', { hasText: 'Change your password' }).waitFor();
    await shot(page, 'webmail-suspended');
    // signing out keeps what was written in Drafts; the next login (someone
    // else's) gets none of it
    await page.locator('#compose-text').fill('written before signing out');
    await page.locator('#logout').click();
    await page.locator('#login-address').waitFor();
    await page.locator('#login-address').fill(P.peer);
    await page.locator('#login-password').fill(P.password);
    await page.locator('#login-submit').click();
    await page.locator('#messages, #list .empty').first().waitFor();
    await page.locator('#folders a.folder[data-role=drafts]').click();
    await page.locator('#list .empty').waitFor();
    if (env.problems.length) throw new Error(env.problems.join('\n'));
  } catch (e) {
    await failed(env, 'webmail-compose-c');
    throw e;
  } finally {
    await env.browser.close();
  }
}

try {
  if (P.phase === 'a') await phaseA();
  else if (P.phase === 'b') await phaseB();
  else await phaseC();
  process.exit(0);
} catch (e) {
  console.error(e.stack || String(e));
  process.exit(1);
}

// A server administrator's other pages: unblocks an address the
// brute-force defence blocked, filters the events by account, finds the
// change in the audit log, retries and deletes a queued message (asked
// twice), makes and activates new DKIM keys and checks DNS (MX and SPF
// published, DKIM missing, DMARC different), runs doctor, adds and
// deletes an administrator and creates an API token, shown once.
// Prints {"token": ...} for the test to try it.
// Params: {url, admin, password, domain, blocked, watcher, qid}.
import { EN, check, login, open, params, run, shot, status } from './lib.js';

const p = params();
const d = p.domain;

async function settled(page) {
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
}

// A link of the main navigation.
function nav(page, name) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
}

// The rows of a table as arrays of cell texts.
function rows(table) {
  return table.evaluate((t) => [...t.tBodies[0].rows].map((r) => [...r.cells].map((c) => c.textContent.trim())));
}

await run('ops', async ({ page }) => {
  await open(page, p.url);
  await login(page, EN, 'admin', p.admin, p.password);
  await page.getByRole('heading', { name: 'Domains', level: 1 }).waitFor();

  // security: the blocked address, unblocked
  await nav(page, 'Security').click();
  await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
  const unblock = page.getByRole('button', { name: `Unblock ${p.blocked}` });
  await unblock.waitFor();
  // the newest events of every kind, before any filter
  await page.getByRole('table', { name: 'Security events' }).waitFor();
  await shot(page, 'en-security-blocked');
  await unblock.click();
  await status(page, `${p.blocked} is unblocked.`);
  await settled(page);
  check(await page.evaluate(() => document.activeElement.classList.contains('table-wrap')), 'the focus is not on the list');
  check((await page.getByRole('button', { name: `Unblock ${p.blocked}` }).count()) === 0, 'still listed as blocked');
  // a bad address by hand: the error next to the field
  const byHand = page.getByRole('form', { name: 'Unblock by hand' });
  await byHand.getByLabel('IP address or mail address').fill('no such thing');
  await byHand.getByRole('button', { name: 'Unblock' }).click();
  await byHand.locator('.field .error:not([hidden])').waitFor();
  check((await byHand.getByLabel('IP address or mail address').getAttribute('aria-invalid')) === 'true', 'bad target not marked');

  // the events of one account
  const filters = page.getByRole('form', { name: 'Security events' });
  await filters.getByLabel('Account').fill(p.watcher);
  await filters.getByRole('button', { name: 'Show' }).click();
  await status(page, 'List updated.');
  await settled(page);
  const events = await rows(page.getByRole('table', { name: 'Security events' }));
  check(events.length > 0 && events.every((r) => r[2] === p.watcher), `events not of ${p.watcher}: ${JSON.stringify(events)}`);
  check(events.some((r) => r[1] === 'auth-failed' && r[3] === '127.0.0.3'), `no failed login: ${JSON.stringify(events)}`);
  await filters.getByLabel('Kind of event').fill('no kind!');
  await filters.getByRole('button', { name: 'Show' }).click();
  await filters.locator('.field .error:not([hidden])').waitFor();
  check((await filters.getByLabel('Kind of event').getAttribute('aria-invalid')) === 'true', 'bad kind not marked');

  // the audit log names who unblocked it, and from where
  await nav(page, 'Audit log').click();
  await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
  await page.getByRole('table', { name: 'Audit log' }).waitFor();
  await page.getByLabel('Changed address or domain').fill(p.blocked);
  await page.getByRole('button', { name: 'Show' }).click();
  await status(page, 'List updated.');
  await settled(page);
  const audit = await rows(page.getByRole('table', { name: 'Audit log' }));
  check(audit.length === 1 && audit[0][1] === `admin:${p.admin}` && audit[0][2] === '127.0.0.1' && audit[0][3].includes('security.unblock'), `audit: ${JSON.stringify(audit)}`);
  await shot(page, 'en-audit-filtered');

  // the queue: the message, retried, then deleted after two questions
  await nav(page, 'Queue').click();
  await page.getByRole('heading', { name: 'Mail queue', level: 1 }).waitFor();
  await page.getByRole('link', { name: `Message ${p.qid}` }).click();
  await page.getByRole('heading', { name: `Queued message ${p.qid}`, level: 1 }).waitFor();
  await page.getByRole('rowheader', { name: 'r@remote.test' }).waitFor();
  check((await page.locator('pre.header').textContent()).includes('Subject: held'), 'header not shown');
  await page.getByRole('button', { name: 'Retry now' }).click();
  await status(page, `Message ${p.qid} will be tried now.`);
  await settled(page);
  await shot(page, 'en-queue-message');
  await page.getByRole('button', { name: 'Delete message…' }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Delete message…' }).click();
  await page.getByRole('button', { name: 'Yes, continue' }).click();
  await page.getByRole('button', { name: 'Delete for good' }).click();
  await status(page, `Message ${p.qid} deleted.`);
  await page.getByRole('heading', { name: 'Mail queue', level: 1 }).waitFor();
  await settled(page);
  check((await page.getByRole('link', { name: `Message ${p.qid}` }).count()) === 0, 'the deleted message is listed');

  // DKIM: new keys made, then signed with; the DNS check of every record
  await page.goto(`${p.url}/#/d/${encodeURIComponent(d)}/dns`);
  await page.getByRole('heading', { name: `DKIM and DNS of ${d}`, level: 1 }).waitFor();
  await settled(page);
  const keys = page.getByRole('table', { name: 'DKIM keys' });
  const before = (await rows(keys)).map((r) => r[0]);
  await page.getByRole('button', { name: 'Make new keys' }).click();
  await status(page, 'New keys made.');
  await page.getByRole('button', { name: 'Sign with the waiting keys' }).click();
  await status(page, 'Mail is now signed with the new keys.');
  await settled(page);
  const after = await rows(keys);
  const signing = after.filter((r) => r[2] === 'Signing').map((r) => r[0]);
  check(signing.length === 2 && signing.every((s) => !before.includes(s)), `keys: ${JSON.stringify(after)}`);
  await page.getByRole('button', { name: 'Check DNS now' }).click();
  await status(page, 'DNS checked.');
  await settled(page);
  const recs = await rows(page.getByRole('table', { name: 'DNS records to publish' }));
  const state = (purpose) => recs.filter((r) => r[0].startsWith(purpose)).map((r) => r[4]);
  check(state('MX').length === 1 && state('MX')[0] === 'Published', `MX: ${JSON.stringify(recs)}`);
  check(state('SPF').length === 1 && state('SPF')[0] === 'Published', `SPF: ${JSON.stringify(recs)}`);
  check(state('DKIM').length >= 2 && state('DKIM').every((s) => s === 'Missing'), `DKIM: ${JSON.stringify(recs)}`);
  check(state('DMARC').length === 1 && state('DMARC')[0].startsWith('Different') && state('DMARC')[0].includes('v=DMARC1; p=reject'), `DMARC: ${JSON.stringify(recs)}`);
  await shot(page, 'en-dns-checked');

  // doctor: a bad address is refused next to the field, a good one examined
  await nav(page, 'Doctor').click();
  await page.getByRole('heading', { name: 'Doctor', level: 1 }).waitFor();
  await page.getByLabel('Mail address').fill('not an address');
  await page.getByRole('button', { name: 'Examine' }).click();
  await page.locator('.field .error:not([hidden])').waitFor();
  check((await page.getByLabel('Mail address').getAttribute('aria-invalid')) === 'true', 'bad address not marked');
  await page.getByLabel('Mail address').fill(p.watcher);
  await page.getByRole('button', { name: 'Examine' }).click();
  await page.getByRole('heading', { name: `Result for ${p.watcher}` }).waitFor();
  check((await page.locator('ul.checks li').count()) > 0, 'no checks shown');
  // the findings under each support question, a warning with its fix
  for (const q of ["Can't send mail", "Can't receive mail", 'Mailbox full', 'The mail client asks for the password again']) {
    await page.getByRole('heading', { name: q, level: 2 }).waitFor();
  }
  check((await page.locator('ul.doctor-password li.check-warn .fix-command code').first().textContent()).startsWith('yubinctl account passwd '), 'no fix command shown');
  await status(page, `${p.watcher}:`);
  await shot(page, 'en-doctor-result');

  // administrators: one added, then deleted
  await nav(page, 'Administrators').click();
  await page.getByRole('heading', { name: 'Administrators and API tokens', level: 1 }).waitFor();
  const add = page.getByRole('form', { name: 'Add an administrator' });
  await add.getByLabel('Administrator name').fill('helper');
  await add.getByLabel('Role').selectOption('domain');
  await add.getByLabel('Domains').fill(d);
  await add.getByLabel('Password', { exact: true }).fill('Helper-pass-9876');
  await add.getByRole('button', { name: 'Add administrator' }).click();
  await status(page, 'Administrator helper added.');
  await page.getByRole('button', { name: 'Delete administrator helper' }).click();
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await status(page, 'Administrator helper deleted.');

  // a token: shown once, then only its id
  const mk = page.getByRole('form', { name: 'Create a token' });
  await mk.getByLabel('Valid for (days)').fill('0');
  await mk.getByRole('button', { name: 'Create token' }).click();
  await mk.locator('.field .error:not([hidden])').waitFor();
  check((await mk.getByLabel('Valid for (days)').getAttribute('aria-invalid')) === 'true', 'bad expiry not marked');
  await mk.getByLabel('Valid for (days)').fill('30');
  await mk.getByRole('button', { name: 'Create token' }).click();
  await status(page, /Token \S+ created/);
  const secret = page.getByLabel('The token');
  const token = await secret.inputValue();
  check(token.startsWith('yubin_'), `token: ${token}`);
  check(await secret.evaluate((e) => e === document.activeElement), 'the token is not focused');
  await settled(page);
  await shot(page, 'en-token-once');
  await page.getByRole('button', { name: 'I have copied it' }).click();
  check((await page.getByLabel('The token').count()) === 0, 'the token is still shown');
  await page.reload();
  await page.waitForSelector('body.ready');
  await page.getByRole('heading', { name: 'Administrators and API tokens', level: 1 }).waitFor();
  await settled(page);
  const tokens = await rows(page.getByRole('table', { name: 'API tokens' }));
  const id = token.split('_')[1];
  check(tokens.some((r) => r[0] === id), `token ${id} not listed: ${JSON.stringify(tokens)}`);
  check(!(await page.content()).includes(token), 'the secret is shown again');
  console.log(JSON.stringify({ token }));
});

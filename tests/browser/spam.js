// The spam filter in the panels, in steps the test module runs one after
// the other (mail is sent and read between them):
// - step 'admin': an administrator opens the domain's "Spam filter" tab,
//   sets level p.level and action p.action, is refused a bad allow-list
//   pattern next to the field, adds p.allow; screenshots in en and ja,
//   and of an account page's own spam filter.
// - step 'block': the mail user p.user (Japanese panel) finds its
//   迷惑メールフィルター, chooses the inbox with the tag and puts p.sender on
//   its 拒否リスト.
// - step 'unblock': the same user (English panel) removes p.sender and
//   turns its filter off.
// Params: {url, step, admin, password, domain, level, action, allow,
// user, userpw, sender}.
// The account has no spam settings of its own before; it shows p.level,
// its domain's.
import { EN, JA, check, login, open, params, run, shot, status } from './lib.js';

const p = params();

async function admin(page) {
  await open(page, p.url);
  await login(page, EN, 'admin', p.admin, p.password);
  await page.getByRole('heading', { name: 'Domains', level: 1 }).waitFor();
  await open(page, p.url, `#/d/${encodeURIComponent(p.domain)}`);
  await page.getByRole('link', { name: 'Spam filter' }).click();
  await page.getByRole('heading', { name: `Spam filter of ${p.domain}`, level: 1 }).waitFor();

  const level = page.getByRole('form', { name: 'Filter level' });
  await level.getByLabel('Filter level').selectOption(String(p.level));
  await level.getByRole('button', { name: 'Save' }).click();
  await status(page, `Filter level: saved (${p.level} `);
  const action = page.getByRole('form', { name: 'What happens to spam' });
  await action.getByLabel('What happens to spam').selectOption(p.action);
  await action.getByRole('button', { name: 'Save' }).click();
  await status(page, 'What happens to spam: saved');
  check(await page.getByRole('switch', { name: 'Spam filter' }).isChecked(), 'the filter starts on');
  check(await page.getByRole('switch', { name: 'Virus check' }).isChecked(), 'the virus check starts on');

  // a bad pattern is refused next to its field, then a good one is listed
  const allow = page.getByRole('form', { name: 'Allow list' });
  const input = allow.getByLabel('Sender to allow');
  await input.fill('*partner');
  await allow.getByRole('button', { name: 'Add' }).click();
  const err = allow.locator('.field .error:not([hidden])');
  await err.waitFor();
  check(/pattern/.test(await err.textContent()), 'the error does not say what a pattern is');
  check((await input.getAttribute('aria-invalid')) === 'true', 'bad pattern not marked');
  await input.fill(p.allow);
  await allow.getByRole('button', { name: 'Add' }).click();
  await status(page, `${p.allow} is on the allow list.`);
  await page.getByRole('table', { name: 'Allow list' }).getByRole('row', { name: p.allow }).waitFor();
  check((await allow.locator('.field .error:not([hidden])').count()) === 0, 'the error stayed');
  await shot(page, 'en-spam-domain');

  // the other settings each in a named group, none under "Other settings"
  await page.getByRole('link', { name: 'Domain settings' }).click();
  await page.getByRole('heading', { name: `Settings of ${p.domain}`, level: 1 }).waitFor();
  await page.getByRole('group', { name: 'Mailboxes and notices' }).waitFor();
  check((await page.getByRole('group', { name: 'Other settings' }).count()) === 0, 'settings under "Other settings"');
  check((await page.getByRole('switch', { name: 'Spam filter' }).count()) === 0, 'the spam filter twice');
  await page.getByRole('link', { name: 'Spam filter' }).click();
  await page.getByRole('heading', { name: `Spam filter of ${p.domain}`, level: 1 }).waitFor();

  // what was saved is shown again, in Japanese
  await page.getByRole('button', { name: /日本語/ }).click();
  await page.getByRole('heading', { name: `${p.domain} の迷惑メールフィルター`, level: 1 }).waitFor();
  check((await page.getByRole('combobox', { name: 'フィルターの強さ' }).inputValue()) === String(p.level), 'level not kept');
  check((await page.getByRole('combobox', { name: '迷惑メールの扱い' }).inputValue()) === p.action, 'action not kept');
  await page.getByRole('table', { name: '許可リスト' }).getByRole('row', { name: p.allow }).waitFor();
  await shot(page, 'ja-spam-domain');

  // an account's own filter and lists, on its page
  await open(page, p.url, `#/a/${encodeURIComponent(p.user)}`);
  await page.getByRole('heading', { name: '迷惑メールフィルター', level: 2 }).waitFor();
  await page.getByRole('form', { name: '拒否リスト' }).waitFor();
  await page.getByText('拒否リストは空です。').waitFor();
  // without a value of its own the account shows its domain's
  check((await page.getByRole('combobox', { name: 'フィルターの強さ' }).inputValue()) === String(p.level), 'account level is not the domain\'s');
  await shot(page, 'ja-account-spam');
}

async function block(page) {
  await open(page, p.url);
  await login(page, JA, 'user', p.user, p.userpw);
  await page.getByRole('heading', { name: 'マイアカウント', level: 1 }).waitFor();
  await page.getByRole('heading', { name: '迷惑メールフィルター', level: 2 }).waitFor();
  // the domain's level and action until the user sets its own
  const levelBox = page.getByRole('combobox', { name: 'フィルターの強さ' });
  await levelBox.waitFor();
  check((await levelBox.inputValue()) === String(p.level), 'the level is not the domain\'s');
  await page.getByText('ここで変更するまでは、ドメイン全体の設定が使われます。').waitFor();
  const action = page.getByRole('form', { name: '迷惑メールの扱い' });
  await action.getByLabel('迷惑メールの扱い').selectOption('inbox');
  await action.getByRole('button', { name: '保存' }).click();
  await status(page, '迷惑メールの扱い：保存しました');
  const blockForm = page.getByRole('form', { name: '拒否リスト' });
  await blockForm.getByLabel('拒否する送信者').fill(p.sender);
  await blockForm.getByRole('button', { name: '追加' }).click();
  await status(page, `${p.sender} を拒否リストに追加しました。`);
  await page.getByRole('table', { name: '拒否リスト' }).getByRole('row', { name: p.sender }).waitFor();
  await shot(page, 'ja-mail-panel-spam');
}

async function unblock(page) {
  await open(page, p.url);
  await login(page, EN, 'user', p.user, p.userpw);
  await page.getByRole('heading', { name: 'My account', level: 1 }).waitFor();
  await page.getByRole('heading', { name: 'Spam filter', level: 2 }).waitFor();
  await page.getByRole('button', { name: `Remove ${p.sender}` }).click();
  await status(page, `${p.sender} is no longer on the block list.`);
  await page.getByText('The block list is empty.').waitFor();
  // its own action (set in the step before) ends following the domain
  check((await page.getByText('These are the settings of the whole domain').count()) === 0, 'still said to follow the domain');
  const sw = page.getByRole('switch', { name: 'Spam filter' });
  check(await sw.isChecked(), 'the filter starts on');
  await sw.click();
  await status(page, 'Spam filter: saved (OFF)');
  // the switch shows the saved state after a reload
  await page.reload();
  await page.waitForSelector('body.ready');
  await page.getByRole('heading', { name: 'Spam filter', level: 2 }).waitFor();
  check(!(await page.getByRole('switch', { name: 'Spam filter' }).isChecked()), 'the filter is on again');
  await shot(page, 'en-mail-panel-spam');
}

const steps = { admin, block, unblock };
await run(`spam-${p.step}`, async ({ page }) => steps[p.step](page), { locale: p.step === 'block' ? 'ja-JP' : 'en-US' });

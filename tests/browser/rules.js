// The mail user's sorting rules and auto-reply pages. The user p.user
// logs in (English), opens "Sorting rules", adds a rule (subject contains
// p.word -> move to p.folder), is refused one without text next to the
// field, switches a second rule off and moves it to the top, adds a rule
// of two conditions (subject contains p.bossWord, sender contains
// p.bossFrom) and two actions (copy to p.bossFolder, mark read), adding
// and removing rows on the way; then in Japanese opens 自動応答 and turns
// it on with p.subject, a two-line text and the quote, and opens the rule
// form's extra rows. Screenshots en-rules, ja-autoreply and ja-rules.
// Params: {url, user, password, word, folder, subject, bossWord, bossFrom, bossFolder}.
import { EN, check, login, open, params, run, shot, status } from './lib.js';

const p = params();

await run('rules', async ({ page }) => {
  await open(page, p.url);
  await login(page, EN, 'user', p.user, p.password);
  await page.getByRole('heading', { name: 'My account', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'Sorting rules' }).click();
  await page.getByRole('heading', { name: 'Sorting rules', level: 1 }).waitFor();
  await page.getByText('You have no sorting rules.').waitFor();

  const add = page.getByRole('form', { name: 'Add a rule' });
  await add.getByLabel('Rule name').fill('no text');
  await add.getByRole('button', { name: 'Add' }).click();
  await add.locator('.error:not([hidden])').first().waitFor();

  await add.getByLabel('Rule name').fill('reports');
  await add.getByLabel('Look at').selectOption('subject');
  await add.getByLabel('How').selectOption('contains');
  await add.getByLabel('Text', { exact: true }).fill(p.word);
  await add.getByLabel('Then').selectOption('move');
  await add.getByLabel('Folder or address').fill(p.folder);
  await add.getByRole('button', { name: 'Add' }).click();
  await status(page, 'Rule reports added.');

  await add.getByLabel('Rule name').fill('news');
  await add.getByLabel('Look at').selectOption('header');
  await add.getByLabel('Header field name').fill('List-Id');
  await add.getByLabel('Text', { exact: true }).fill('news');
  await add.getByLabel('Then').selectOption('read');
  check(await add.getByLabel('Folder or address').isHidden(), 'the folder field shows for mark as read');
  await add.getByRole('button', { name: 'Add' }).click();
  await status(page, 'Rule news added.');

  // a rule of two conditions and two actions; a third condition is added
  // (no fourth can be) and taken away again
  await add.getByLabel('Rule name').fill('boss');
  await add.getByRole('button', { name: 'Another condition' }).click();
  const c2 = add.getByRole('group', { name: 'Condition 2' });
  await c2.getByLabel('Look at').selectOption('sender');
  await c2.getByLabel('How').selectOption('contains');
  await c2.getByLabel('Text', { exact: true }).fill(p.bossFrom);
  const c1 = add.getByRole('group', { name: 'Condition 1' });
  await c1.getByLabel('Look at').selectOption('subject');
  await c1.getByLabel('Text', { exact: true }).fill(p.bossWord);
  await add.getByRole('button', { name: 'Another condition' }).click();
  await add.getByRole('group', { name: 'Condition 3' }).waitFor();
  check(await add.getByRole('button', { name: 'Another condition' }).isHidden(), 'a fourth condition can be added');
  await add.getByRole('button', { name: 'Remove condition 3' }).click();
  check(await add.getByRole('group', { name: 'Condition 3' }).count() === 0, 'condition 3 was not removed');
  await add.getByRole('group', { name: 'Action 1' }).getByLabel('Then').selectOption('copy');
  await add.getByRole('group', { name: 'Action 1' }).getByLabel('Folder or address').fill(p.bossFolder);
  await add.getByRole('button', { name: 'Another action' }).click();
  await add.getByRole('group', { name: 'Action 2' }).getByLabel('Then').selectOption('read');
  await add.getByRole('button', { name: 'Add' }).click();
  await status(page, 'Rule boss added.');
  check(await add.getByRole('group', { name: 'Condition 2' }).count() === 0, 'the form keeps its extra rows');

  const table = page.getByRole('table', { name: 'Your rules' });
  await table.getByRole('row', { name: /2\. news/ }).waitFor();
  await page.getByRole('button', { name: 'Switch rule news on or off' }).click();
  await status(page, 'Rule news is off.');
  await page.getByRole('button', { name: 'Move rule news up' }).click();
  await status(page, 'Rule news moved.');
  await table.getByRole('row', { name: /1\. news/ }).waitFor();
  await shot(page, 'en-rules');

  await page.getByRole('button', { name: /日本語/ }).click();
  await page.getByRole('link', { name: '自動応答' }).click();
  await page.getByRole('heading', { name: '自動応答', level: 1 }).waitFor();
  const f = page.getByRole('form', { name: '不在時の自動応答' });
  await f.getByLabel('自動応答', { exact: true }).selectOption('on');
  await f.getByLabel('件名').fill(p.subject);
  await f.getByLabel('本文').fill('ただいま不在です。\n月曜に戻ります。');
  await f.getByLabel('同じ差出人へ再び返信するまでの日数').fill('3');
  await f.getByLabel('元のメールを引用する').check();
  await f.getByRole('button', { name: '保存' }).click();
  await status(page, '自動応答を保存しました。');
  await shot(page, 'ja-autoreply');

  await page.getByRole('link', { name: '振り分けルール' }).click();
  const ja = page.getByRole('form', { name: 'ルールを追加' });
  await ja.waitFor();
  // the last page's toast went with it
  const left = await page.locator('#status').textContent();
  check(left === '', `the toast of the last page stays: ${left}`);
  await ja.getByRole('button', { name: '条件を増やす' }).click();
  await ja.getByRole('group', { name: '条件 2' }).getByLabel('調べる項目').waitFor();
  await ja.getByRole('button', { name: '処理を増やす' }).click();
  await ja.getByRole('button', { name: '処理 2 を外す' }).waitFor();
  await shot(page, 'ja-rules');
});

// The public pages a QR code on a carton opens, on a phone: a growing-area code's page in
// Vietnamese, English and Chinese, and a consignment's trace page. They are server-rendered:
// no script, and nothing of the map's bundle.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, launch, openPage, screenshot } from './browser.mjs';

const trace = JSON.parse(process.env.VT_TRACE || '{}');
const browser = await launch();
after(() => browser.close());
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

test('a code page on a phone, in Vietnamese, English and Chinese', async () => {
  const { page, errors, context } = await openPage(browser, phone);
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(base + '/v/vndlor0321');
  assert.equal(await page.locator('h1').textContent(), 'VN-DLOR-0321', 'any spelling of the code opens its page');
  assert.equal(await page.locator('.status.big').textContent(), 'Đang hiệu lực');
  assert.equal(await page.locator('.status.big').evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(19, 122, 99)', 'active is green');
  await screenshot(page, 'code-page-vi-phone');
  await page.locator('nav a[lang=en]').click();
  await page.waitForURL(/lang=en/);
  assert.equal(await page.locator('.status.big').textContent(), 'Active');
  await screenshot(page, 'code-page-en-phone');
  await page.locator('nav a[lang=zh]').click();
  await page.waitForURL(/lang=zh/);
  assert.equal(await page.locator('.status.big').textContent(), '有效');
  assert.match(await page.locator('main').textContent(), /榴莲/);
  await screenshot(page, 'code-page-zh-phone');
  // No horizontal scrolling on a phone.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'the page fits the phone');
  assert.ok(!requests.some((u) => u.includes('/assets/')), 'the page does not load the map bundle');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a suspended code says so in red, with its date', async () => {
  const { page, errors, context } = await openPage(browser, phone);
  await page.goto(base + '/v/VN-DLOR-0458?lang=en');
  assert.match(await page.locator('.status.big').textContent(), /^Suspended since \d{1,2} \w{3} \d{4}$/);
  assert.equal(await page.locator('.status.big').evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(198, 40, 40)');
  await screenshot(page, 'code-page-suspended-en-phone');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a consignment page traces it back to its growing area', async () => {
  const { page, errors, context } = await openPage(browser, phone);
  await page.goto(`${base}/t/${trace.consignment}`);
  assert.equal(await page.locator('h1').textContent(), trace.consignment);
  assert.match(await page.locator('main').textContent(), new RegExp(trace.lot));
  assert.match(await page.locator('main').textContent(), /VN-DLOR-0321/);
  await screenshot(page, 'consignment-page-vi-phone');
  await page.locator('a', { hasText: trace.lot }).click();
  await page.waitForURL(new RegExp(`/t/${trace.lot}`));
  assert.match(await page.locator('.kicker').textContent(), /Lô hàng thu hoạch/);
  await screenshot(page, 'lot-page-vi-phone');
  assert.deepEqual(errors, []);
  await context.close();
});

// Signing in and out in a real browser, in Vietnamese and in English.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, launch, openPage, screenshot, signIn } from './browser.mjs';

const officer = JSON.parse(process.env.VT_OFFICER || '{}');
const browser = await launch();
after(() => browser.close());

test('an officer signs in, sees who they are and where they act, switches to English and signs out', async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(base + '/');
  await page.locator('#open-signin').click();
  const dialog = page.locator('#signin');
  await dialog.locator('input[name=login]').fill(officer.login);
  await dialog.locator('input[name=password]').fill('not-the-password');
  await dialog.locator('#password-form button[type=submit]').click();
  await assert.doesNotReject(dialog.locator('#password-form .error').waitFor());
  assert.equal(await dialog.locator('#password-form .error').textContent(), 'Sai tên đăng nhập, số điện thoại hoặc mật khẩu.');

  await dialog.locator('input[name=password]').fill(officer.password);
  await dialog.locator('#password-form button[type=submit]').click();
  const chip = page.locator('#user-chip');
  await chip.waitFor();
  assert.match(await chip.textContent(), new RegExp(officer.name));
  assert.match(await chip.textContent(), /Cán bộ/);
  assert.match(await chip.textContent(), /Tỉnh Đắk Lắk/);
  await screenshot(page, 'signed-in-vi');

  await page.locator('[data-lang=en]').click();
  assert.match(await chip.textContent(), /Officer/);
  assert.equal(await page.locator('#sign-out').textContent(), 'Sign out');
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');

  await page.reload();
  await chip.waitFor();
  assert.match(await chip.textContent(), /Officer/, 'the session and the language survive a reload');
  await screenshot(page, 'signed-in-en');

  await page.locator('#sign-out').click();
  await page.locator('#open-signin').waitFor();
  assert.equal(await page.locator('#open-signin').textContent(), 'Sign in');
  const cookies = await context.cookies();
  assert.ok(!cookies.some((c) => c.name === 'vt_session' && c.value), 'the session cookie is gone');
  const session = cookies.find((c) => c.name === 'vt_session');
  assert.equal(session, undefined);
  assert.deepEqual(errors.filter((e) => !e.includes('401')), []);
  await context.close();
});

test('the session cookie is HttpOnly and SameSite=Lax, and the page never sees it', async () => {
  const { page, context } = await openPage(browser);
  await page.goto(base + '/');
  await signIn(page, officer);
  const cookie = (await context.cookies()).find((c) => c.name === 'vt_session');
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Lax');
  const visible = await page.evaluate(() => document.cookie);
  assert.ok(!visible.includes('vt_session'), 'document.cookie shows the session');
  await context.close();
});

test('on a phone screen the header fits and the sign-in dialog is usable', async () => {
  const { page, context } = await openPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await page.goto(base + '/');
  await page.locator('#open-signin').tap();
  assert.equal(await page.locator('#code-form').isVisible(), false, 'only the chosen tab\'s form shows');
  assert.equal(await page.locator('#password-form').isVisible(), true);
  await page.locator('[data-tab=code]').tap();
  assert.equal(await page.locator('#password-form').isVisible(), false);
  assert.equal(await page.locator('#code-form input[name=code]').isVisible(), false, 'the code field waits for a code to be sent');
  await page.locator('[data-tab=password]').tap();
  const box = await page.locator('#signin').boundingBox();
  assert.ok(box.width <= 390 && box.x >= 0, `dialog ${JSON.stringify(box)} fits a 390 px screen`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'nothing scrolls sideways');
  await screenshot(page, 'phone-sign-in');
  await context.close();
});

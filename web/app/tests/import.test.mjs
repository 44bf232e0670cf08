// Importing survey files in a real browser: an officer uploads a file that is refused (every
// problem listed by feature number, nothing stored), then a good one; the report survives a
// reload at its address (?import=id) and follows the language switch.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, launch, openPage, screenshot, signIn } from './browser.mjs';

const officer = JSON.parse(process.env.VT_OFFICER || '{}');
const admin = JSON.parse(process.env.VT_ADMIN || '{}');
const files = JSON.parse(process.env.VT_IMPORT || '{}');
const browser = await launch();
after(() => browser.close());

const geojson = (name, text) => ({ name, mimeType: 'application/geo+json', buffer: Buffer.from(text) });

test('nobody signed in sees no import button', async () => {
  const { page, context } = await openPage(browser);
  await page.goto(base + '/');
  await page.locator('#open-signin').waitFor();
  assert.equal(await page.locator('#import-button').isVisible(), false);
  await context.close();
});

test('an officer imports a survey file: a bad file is refused with its problems, a good one is stored', async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(base + '/');
  await signIn(page, officer);

  await page.locator('#import-button').click();
  const dialog = page.locator('#import-dialog');
  assert.equal(await dialog.locator('h2').textContent(), 'Nhập dữ liệu từ tệp khảo sát');
  assert.equal(await dialog.locator('select[name=layer] option[value=admin]').evaluate((o) => o.hidden && o.disabled), true, 'officers do not import boundaries');
  await dialog.locator('input[name=file]').setInputFiles(geojson('browser-import-bad.geojson', files.bad));
  await dialog.locator('#import-form button[type=submit]').click();
  const refused = dialog.locator('.import-summary.bad');
  await refused.waitFor({ timeout: 30000 });
  assert.match(await refused.textContent(), /browser-import-bad\.geojson bị từ chối: 1 lỗi\. Không có gì được lưu/);
  const row = dialog.locator('.import-details.problems tr').nth(1);
  assert.equal(await row.locator('td').nth(0).textContent(), '2', 'the problem names the feature number');
  assert.equal(await row.locator('td').nth(1).textContent(), 'hình học', 'the field is named in Vietnamese');
  assert.match(await row.locator('td').nth(2).textContent(), /^Hình học không hợp lệ: đường biên tự cắt nhau tại 108\.\d+, 12\.\d+\. Chọn "Sửa hình học lỗi rồi nhập"/, 'the problem is said in Vietnamese');
  await screenshot(page, 'import-refused-vi');
  await page.locator('[data-lang=en]').click();
  assert.match(await dialog.locator('.import-details.problems tr').nth(1).locator('td').nth(2).textContent(),
    /^Invalid geometry: the boundary crosses itself at 108\.\d+, 12\.\d+\. Choose "Repair invalid geometries, then import"/, 'and in English');
  await page.locator('[data-lang=vi]').click();

  await dialog.locator('.import-actions button', { hasText: 'Nhập tệp khác' }).click();
  assert.ok(await dialog.locator('#import-form').isVisible(), 'the form is back');
  await dialog.locator('input[name=file]').setInputFiles(geojson('browser-import.geojson', files.good));
  await dialog.locator('#import-form button[type=submit]').click();
  const done = dialog.locator('.import-summary.ok');
  await done.waitFor({ timeout: 30000 });
  assert.equal(await done.textContent(), 'Đã nhập browser-import.geojson: thêm 2 thửa, cập nhật 0, không đổi 0, bỏ qua 0.');
  assert.match(page.url(), /[?&]import=[0-9a-f]+/, 'the report has its own address');
  await screenshot(page, 'import-done-vi');

  await page.locator('[data-lang=en]').click();
  assert.equal(await done.textContent(), 'Imported browser-import.geojson: 2 plots added, 0 updated, 0 unchanged, 0 skipped.');

  // The report's address opens it again after a reload.
  await page.reload();
  const again = page.locator('#import-dialog .import-summary.ok');
  await again.waitFor({ timeout: 15000 });
  assert.match(await again.textContent(), /2 plots added/);
  await screenshot(page, 'import-report-en');

  await page.locator('#import-dialog .import-actions button', { hasText: 'Show on the map' }).click();
  assert.equal(await page.locator('#import-dialog').isVisible(), false);
  // The dialog's close event (which takes the report out of the address) is dispatched after close().
  await page.waitForURL((u) => !u.searchParams.has('import'), { timeout: 5000 });
  assert.doesNotMatch(page.url(), /import=/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('an administrator sets a commune boundary from a file', async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(base + '/');
  await signIn(page, admin);
  await page.locator('#import-button').click();
  const dialog = page.locator('#import-dialog');
  await dialog.locator('select[name=layer]').selectOption('admin');
  await dialog.locator('input[name=file]').setInputFiles(geojson('ranh-gioi-xa.geojson', files.admin));
  await dialog.locator('#import-form button[type=submit]').click();
  const done = dialog.locator('.import-summary.ok');
  await done.waitFor({ timeout: 30000 });
  assert.equal(await done.textContent(), 'Đã nhập ranh-gioi-xa.geojson: cập nhật ranh giới của 1 đơn vị hành chính, không đổi 0, bỏ qua 0.');
  await screenshot(page, 'import-admin-vi');
  assert.deepEqual(errors, []);
  await context.close();
});

test('an officer registers facilities from a spreadsheet', async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(base + '/');
  await signIn(page, officer);
  await page.locator('#import-button').click();
  const dialog = page.locator('#import-dialog');
  await dialog.locator('select[name=layer]').selectOption('facilities');
  await dialog.locator('input[name=province]').fill('66');
  await dialog.locator('input[name=file]').setInputFiles({ name: 'co-so-browser.csv', mimeType: 'text/csv', buffer: Buffer.from(files.facilities) });
  await dialog.locator('#import-form button[type=submit]').click();
  const done = dialog.locator('.import-summary.ok');
  await done.waitFor({ timeout: 30000 });
  assert.equal(await done.textContent(), 'Đã nhập co-so-browser.csv: thêm 2 cơ sở, cập nhật 0, không đổi 0, bỏ qua 0.');
  await screenshot(page, 'import-facilities-vi');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a second file with the same ids lists each registered plot it changes, and imports only once confirmed', async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(base + '/');
  await signIn(page, officer);
  await page.locator('#import-button').click();
  const dialog = page.locator('#import-dialog');
  await dialog.locator('input[name=file]').setInputFiles(geojson('browser-import.geojson', files.changed));
  await dialog.locator('#import-form button[type=submit]').click();
  const ask = dialog.locator('.import-summary.ask');
  await ask.waitFor({ timeout: 30000 });
  assert.match(await ask.textContent(), /trùng tên nguồn và mã thửa với 1 thửa đã đăng ký.*Chưa lưu gì/);
  const row = dialog.locator('.import-details.changes tr').nth(1);
  assert.equal(await row.locator('td').nth(2).textContent(), 'A1');
  assert.match(await row.locator('td').nth(3).textContent(), /^ranh giới dịch tới 1\d,\d m/, 'how far the boundary moves, in metres written the Vietnamese way');
  await screenshot(page, 'import-confirm-vi');
  await page.locator('[data-lang=en]').click();
  assert.match(await row.locator('td').nth(3).textContent(), /^boundary moves up to 1\d\.\d m/);
  await screenshot(page, 'import-confirm-en');
  await page.locator('[data-lang=vi]').click();
  await dialog.locator('.import-confirm').click();
  const done = dialog.locator('.import-summary.ok');
  await done.waitFor({ timeout: 30000 });
  assert.equal(await done.textContent(), 'Đã nhập browser-import.geojson: thêm 0 thửa, cập nhật 1, không đổi 1, bỏ qua 0.');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a GPX walk imports from a phone, with the crop chosen in the form', async () => {
  const { page, errors, context } = await openPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await page.goto(base + '/');
  await signIn(page, officer);
  await page.locator('#import-button').click();
  const dialog = page.locator('#import-dialog');
  await dialog.locator('input[name=file]').setInputFiles({ name: 'duong-di-bo.gpx', mimeType: 'application/gpx+xml', buffer: Buffer.from(files.gpx) });
  await dialog.locator('select[name=crop]').selectOption({ label: 'Cà phê' });
  await screenshot(page, 'import-gpx-form-phone');
  await dialog.locator('#import-form button[type=submit]').click();
  const done = dialog.locator('.import-summary.ok');
  await done.waitFor({ timeout: 30000 });
  assert.equal(await done.textContent(), 'Đã nhập duong-di-bo.gpx: thêm 1 thửa, cập nhật 0, không đổi 0, bỏ qua 0.');
  await screenshot(page, 'import-gpx-done-phone');
  assert.deepEqual(errors, []);
  await context.close();
});

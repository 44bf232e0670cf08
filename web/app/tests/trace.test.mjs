// The traceability screens in a real browser: an exporter checks many codes at once, sees its
// consignments with their checks, builds a new one from a harvest lot; an officer reads the
// code-borrowing report. The demo's accounts (public demo passwords) are used.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, launch, openPage, screenshot, signIn } from './browser.mjs';

const trace = JSON.parse(process.env.VT_TRACE || '{}');
const exporter = { login: 'xuatkhau.taynguyen', password: 'demo-xuatkhau-2026' };
const officer = { login: 'canbo.daklak', password: 'demo-canbo-2026' };
const browser = await launch();
after(() => browser.close());

test('an exporter checks codes, lists its consignments and builds one from a lot', async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(base + '/');
  await signIn(page, exporter);
  await page.locator('#trace-button').click();
  const dialog = page.locator('#trace-dialog');
  await dialog.locator('textarea[name=codes]').fill('VN-DLOR-0321\nvndlor0458\nVN-XXOR-0001');
  await dialog.locator('.trace-check button[type=submit]').click();
  const summary = dialog.locator('.trace-summary');
  await summary.waitFor();
  assert.equal(await summary.textContent(), '2 trên 3 mã số không đạt cho thị trường Trung Quốc (CN).');
  const rows = dialog.locator('.trace-table tr');
  assert.match(await rows.nth(1).textContent(), /VN-DLOR-0321✓ Đạt/);
  assert.match(await rows.nth(2).textContent(), /VN-DLOR-0458✗ Không đạt.*Mã số không hiệu lực/);
  assert.match(await rows.nth(3).textContent(), /Mã số chưa được đăng ký/);
  await screenshot(page, 'trace-check-vi');
  // The language switch keeps the pasted codes and says the result again in English.
  await page.locator('[data-lang=en]').click();
  await dialog.locator('.trace-summary', { hasText: '2 of 3 codes do not pass for China (CN).' }).waitFor();
  assert.equal(await dialog.locator('textarea[name=codes]').inputValue(), 'VN-DLOR-0321\nvndlor0458\nVN-XXOR-0001');
  await page.locator('[data-lang=vi]').click();

  await dialog.locator('[data-tab=list]').click();
  const row = dialog.locator(`tr[data-code="${trace.consignment}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /CN.*2\.300 kg/);
  await screenshot(page, 'trace-consignments-vi');
  // The EUDR package: prepared as a job, then downloaded, with what it holds said beside it.
  const download = page.waitForEvent('download');
  await row.locator('button', { hasText: 'Gói EUDR' }).click();
  const result = row.locator('.eudr-result');
  await result.locator('.pass').waitFor();
  assert.match(await result.textContent(), /Gói EUDR đã sẵn sàng\.\d+ thửa, [\d,]+ ha, \d+ hộ sản xuất\.Rà soát phá rừng: /);
  const file = await download;
  assert.match(file.suggestedFilename(), /\.zip$/);
  const bytes = await (await import('node:fs/promises')).readFile(await file.path());
  assert.equal(bytes.subarray(0, 2).toString(), 'PK');
  await screenshot(page, 'trace-eudr-vi');

  await dialog.locator('[data-tab=new]').click();
  await dialog.locator('textarea[name=lots]').fill(`${trace.lot} 50`);
  await dialog.locator('.load-lots').click();
  await dialog.locator('.trace-lot').waitFor();
  assert.match(await dialog.locator('.trace-lot').textContent(), new RegExp(`${trace.lot}: Sầu riêng, Vùng trồng sầu riêng Krông Pắc 1, mã VN-DLOR-0321 \\(CN\\)`));
  assert.equal(await dialog.locator('select[name=market]').inputValue(), 'CN');
  await dialog.locator('input[name=container_no]').fill('MSKU 000111-2');
  await screenshot(page, 'trace-new-vi');
  await dialog.locator('.trace-new button[type=submit]').click();
  const created = dialog.locator('.trace-out .trace-summary');
  await created.waitFor();
  assert.match(await created.textContent(), /^Đã tạo lô hàng C-[0-9A-Z]{8}\./);
  assert.deepEqual(errors, []);
  await context.close();
});

test('an officer reads the code-borrowing report of the province', async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(base + '/');
  await signIn(page, officer);
  await page.locator('#trace-button').click();
  const dialog = page.locator('#trace-dialog');
  await dialog.locator('h3', { hasText: 'Bị từ chối' }).waitFor();
  assert.equal(await dialog.locator('[data-tab=report]').getAttribute('aria-selected'), 'true');
  await screenshot(page, 'trace-report-vi');
  assert.deepEqual(errors, []);
  await context.close();
});

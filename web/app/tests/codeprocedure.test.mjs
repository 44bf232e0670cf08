// The rest of the growing-area code procedure in a real browser (issue 14), on the demo data:
// the officer, on a phone (390×844), records an overdue supervision visit to a code of its own that
// suspends the code for a quarantine pest (the map's panel then says suspended) and reinstates
// it, keeping its original validity and decision; at the desk, records the export market's two
// steps (proposed, then confirmed by China); the cooperative files the season's report and,
// after the harvest, its actual output, and the officer's count of missing reports drops; the
// cooperative puts a packing house on the map by tapping its place on a phone, the officer
// links it to the code's area, and the cooperative applies for its PH code up to submission;
// the cooperative changes an area's plots on the map (one out, one of its free plots in).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, launch, openPage, screenshot, signIn, pixel, tilesLoaded } from './browser.mjs';

const cp = JSON.parse(process.env.VT_CODEPROCEDURE || '{}');
const browser = await launch();
after(() => browser.close());

const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const desk = { viewport: { width: 1280, height: 800 } };
const DATE = /\d\d\/\d\d\/\d{4}/;

// Every page opened, to photograph when a step fails.
const opened = [];
async function start(opts, who) {
  const p = await openPage(browser, opts);
  opened.push(p);
  await p.page.goto(base + '/');
  await p.page.waitForFunction(() => window.vtMap && window.vtMap.loaded());
  await signIn(p.page, who);
  await p.page.locator('#codes-button').waitFor();
  return p;
}

async function step(name, fn) {
  try {
    await fn();
  } catch (err) {
    for (const [i, p] of opened.entries()) await screenshot(p.page, `proc-failure-${name}-${i}`).catch(() => {});
    console.log('errors of the pages:', opened.map((p) => p.errors));
    throw err;
  }
}

const api = (page, path) => page.evaluate(async (p) => (await fetch(p)).json(), path);

let officerPhone;
let officerDesk;
let coopDesk;

test('an overdue visit on a phone suspends the code with a reason, the map shows it suspended, and the officer reinstates it', () => step('visit', async () => {
  assert.match(cp.code, /^VN-DLOR-\d{4}$/, 'VT_CODEPROCEDURE names a code of its own, issued for this test');
  officerPhone = await start({ ...phone, geolocation: { longitude: cp.house[0], latitude: cp.house[1], accuracy: 8 }, permissions: ['geolocation'] }, cp.officer);
  const fp = officerPhone.page;
  const before = await api(fp, `/api/v1/codes/${cp.code}`);
  await fp.locator('#codes-button').tap();
  await fp.locator('#codes-screen .inbox-tabs [data-queue=overdue]').tap();
  const row = fp.locator(`#codes-screen .inbox tr.code-row[data-code="${cp.code}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /Đến hạn: \d\d\/\d\d\/\d{4}/);
  await screenshot(fp, 'proc-1-overdue-phone');
  await row.locator('.record-visit').tap();
  const form = fp.locator('#codes-screen .visit-form');
  await form.waitFor();
  assert.equal(await form.locator('input[name=on]').inputValue(), new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date()));
  await form.locator('input[name=inspectors]').fill('Trần Thị Lan');
  // The inspection's own checklist.
  await form.locator('select[name=farming_diary]').selectOption('incomplete');
  await form.locator('.add-pests').tap();
  await form.locator('input[name="pest.name"]').fill('Rệp sáp giả');
  await form.locator('input[name="pest.density"]').fill('12 % số cây');
  await form.locator('select[name=hygiene]').selectOption('fair');
  await form.locator('.conclusion .choice.fail').tap();
  await form.locator('textarea[name=notes]').fill('Phát hiện rệp sáp giả (đối tượng kiểm dịch của Trung Quốc) trên quả');
  // A photo of what was found, with the phone's position and time, like the inspection's.
  const pixelPNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
  await form.locator('input.camera').setInputFiles({ name: 'rep-sap.png', mimeType: 'image/png', buffer: pixelPNG });
  await fp.waitForFunction(() => document.querySelectorAll('#codes-screen .visit-form .photos figure[data-located=yes]').length === 1);
  // Suspends in the same step, with a reason.
  assert.ok(await form.locator('.suspend-fields').isHidden());
  await form.locator('input[name=suspend]').check();
  const reasons = await form.locator('select[name="suspend.reason"] option').allTextContents();
  for (const want of ['Phát hiện sinh vật gây hại thuộc diện kiểm dịch', 'Vi phạm dư lượng thuốc bảo vệ thực vật', 'Mượn mã số, dùng sai mã số', 'Không chấp hành giám sát', 'Lý do khác']) {
    assert.ok(reasons.includes(want), `the reasons list "${want}"`);
  }
  // Saving without a reason is refused in the form.
  await form.locator('.save-visit').tap();
  await form.locator('.field.invalid .field-error', { hasText: 'Chọn lý do tạm dừng' }).waitFor();
  await form.locator('select[name="suspend.reason"]').selectOption('quarantine_pest');
  await form.locator('textarea[name="suspend.note"]').fill('Rệp sáp giả trên quả, 12 % số cây');
  await form.locator('input[name="suspend.document"]').fill('77/TB-CCTTBVTV');
  assert.match(await form.locator('.save-visit').textContent(), /Lưu biên bản và tạm dừng mã số/);
  await form.locator('fieldset.suspend').scrollIntoViewIfNeeded();
  await screenshot(fp, 'proc-2-visit-suspend-phone');
  assert.ok(await fp.evaluate(() => document.querySelector('#codes-screen .codes-body').scrollWidth <= 390), 'the visit form never scrolls sideways on a phone');
  await form.locator('.save-visit').tap();

  // The code's page says suspended, and why.
  const view = fp.locator(`#codes-screen .code-view[data-status=suspended][data-code="${cp.code}"]`);
  await view.waitFor();
  assert.match(await view.locator('.ok').textContent(), /Đã lưu biên bản giám sát ngày \d\d\/\d\d\/\d{4} và tạm dừng mã số/);
  assert.match(await view.locator('.badge').first().textContent(), /Tạm dừng/);
  assert.match(await view.locator('.notice.suspension').textContent(), /Lý do tạm dừng: Phát hiện sinh vật gây hại thuộc diện kiểm dịch/);
  assert.match(await view.textContent(), /Không dùng được hôm nay/);
  await screenshot(fp, 'proc-3-suspended-phone');
  const inbox = await api(fp, '/api/v1/inbox');
  assert.ok(!inbox.overdue.some((c) => c.code === cp.code), 'the visit took the code off the overdue list');
  const visits = await api(fp, `/api/v1/codes/${cp.code}/visits`);
  assert.equal(visits.visits.length, 1, 'the visit is recorded once');
  assert.equal(visits.visits[0].photos.length, 1, 'with its photo');
  assert.ok(visits.visits[0].photos[0].lat != null && visits.visits[0].photos[0].taken_at, 'the photo has its position and time');

  // The map's panel shows it suspended.
  await view.locator('.show-on-map').tap();
  const panelCode = fp.locator(`#details li.code[data-code="${cp.code}"]`);
  await panelCode.waitFor();
  assert.match(await panelCode.textContent(), /Tạm dừng/);
  await tilesLoaded(fp);
  await fp.waitForFunction((name) => window.vtMap.queryRenderedFeatures({ layers: ['growing-areas-fill'] })
    .some((f) => f.properties.name === name && f.properties.status === 'suspended'), cp.area.name, { timeout: 15000 });
  await screenshot(fp, 'proc-4-panel-suspended-phone');

  // Reinstated from the panel: the original validity and decision are kept.
  await panelCode.locator('.manage-code').tap();
  const reinstate = fp.locator('#codes-screen .code-view[data-status=suspended] form.active');
  await reinstate.waitFor();
  await reinstate.locator('input[name=note]').fill('Kiểm tra lại: không còn rệp sáp giả');
  await reinstate.locator('input[name=document]').fill('81/TB-CCTTBVTV');
  await reinstate.locator('.reinstate-code').tap();
  const active = fp.locator('#codes-screen .code-view[data-status=active]');
  await active.waitFor();
  assert.match(await active.locator('.ok').textContent(), new RegExp(`${cp.code} đã được khôi phục hiệu lực`));
  assert.match(await active.locator('.badge').first().textContent(), /Đang hiệu lực/);
  const after_ = await api(fp, `/api/v1/codes/${cp.code}`);
  assert.equal(after_.code.status, 'active');
  assert.equal(after_.code.valid_from, before.code.valid_from, 'reinstating keeps the original valid_from');
  assert.equal(after_.code.approving_document, before.code.approving_document, 'reinstating keeps the approving document');
  assert.ok(await active.locator('form.revoked details').count(), 'revoking is offered, folded away');
  await screenshot(fp, 'proc-5-reinstated-phone');
}));

test('the officer records the export market\'s two steps on the code', () => step('steps', async () => {
  officerDesk = await start(desk, cp.officer);
  const op = officerDesk.page;
  // From the map: the code's search, its panel, the officer's way to the code's page.
  await op.locator('#search input').fill(cp.code);
  await op.locator('#search-results button', { hasText: cp.code }).click();
  await op.locator(`#details li.code[data-code="${cp.code}"] .manage-code`).click();
  const box = op.locator('#codes-screen .code-view .market-steps');
  await box.waitFor();
  assert.equal(await box.getAttribute('data-step'), 'none');
  const proposed = box.locator('form.proposed');
  await proposed.locator('input[name=document]').fill('12/BVTV-KD');
  await screenshot(op, 'proc-6-steps-proposed');
  await proposed.locator('.record-proposed').click();
  await op.locator('#codes-screen .market-steps[data-step=proposed]').waitFor();
  assert.match(await op.locator('#codes-screen .market-steps .step.proposed .value').textContent(), /^Ngày \d\d\/\d\d\/\d{4} · văn bản 12\/BVTV-KD$/);
  const confirmed = op.locator('#codes-screen .market-steps form.confirmed');
  await confirmed.locator('input[name=reference]').fill('GACC danh sách 2026-12');
  await confirmed.locator('.record-confirmed').click();
  const done = op.locator('#codes-screen .market-steps[data-step=confirmed]');
  await done.waitFor();
  assert.match(await done.locator('.step.confirmed .value').textContent(), /^Ngày \d\d\/\d\d\/\d{4} · danh sách ngày \d\d\/\d\d\/\d{4} · GACC danh sách 2026-12$/);
  assert.equal(await done.locator('form').count(), 0, 'nothing more to record');
  await screenshot(op, 'proc-7-steps-confirmed');
  await op.locator('[data-lang=en]').click();
  await op.locator('#codes-screen .market-steps .step.confirmed', { hasText: 'Confirmed by the importing country' }).waitFor();
  assert.match(await op.locator('#codes-screen .market-steps .step.confirmed .value').textContent(), /^On \d\d\/\d\d\/\d{4} · list of \d\d\/\d\d\/\d{4}/);
  await screenshot(op, 'proc-8-steps-en');
  await op.locator('[data-lang=vi]').click();
  // Opened again, the code's page reads the steps back from the server.
  await op.locator('#codes-screen .codes-close').click();
  await op.evaluate((c) => window.vtCodes.code(c), cp.code);
  await op.locator('#codes-screen .code-view .market-steps[data-step=confirmed]').waitFor();
  assert.match(await op.locator('#codes-screen .market-steps .step.proposed .value').textContent(), /12\/BVTV-KD/);
  await op.locator('#codes-screen .codes-close').click();
  await op.locator('#details .close').click();
}));

test('the cooperative files the season\'s report and its actual output; the officer\'s missing count drops', () => step('report', async () => {
  const op = officerDesk.page;
  const missingBefore = (await api(op, '/api/v1/inbox')).counts.reports_missing;
  await op.locator('#codes-button').click();
  const tab = op.locator('#codes-screen .inbox-tabs [data-queue=reports_missing] .count');
  await tab.waitFor();
  assert.equal(await tab.textContent(), String(missingBefore));
  assert.ok(missingBefore >= 1);

  coopDesk = await start(desk, cp.coop);
  const page = coopDesk.page;
  await page.locator('#codes-button').click();
  const due = page.locator(`#codes-screen .reports-due li[data-code="${cp.code}"]`);
  await due.waitFor();
  await screenshot(page, 'proc-9-organisation');
  await due.locator('.file-report').click();
  const form = page.locator('#codes-screen .seasonal .report-form');
  await form.waitFor();
  const season = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date()).slice(0, 4);
  assert.equal(await form.locator('input[name=season]').inputValue(), season);
  assert.equal(await form.locator('select[name=market]').inputValue(), 'CN');
  assert.equal(await form.locator('select[name=crop]').inputValue(), 'durian');
  assert.match(await page.locator('#codes-screen .seasonal .notice.due').textContent(), new RegExp(`mùa vụ ${season} cho mã số ${cp.code}`));
  await form.locator('input[name=variety]').fill('Ri6');
  await form.locator('input[name=area_ha]').fill('1,2');
  await form.locator('select[name=standard]').selectOption('VietGAP');
  await form.locator('input[name=expected_output_t]').fill('16,5');
  await form.locator('input[name=expected_harvest_from]').fill(`${season}-05-15`);
  await form.locator('input[name=expected_harvest_to]').fill(`${season}-08-31`);
  await screenshot(page, 'proc-10-report-form');
  await form.locator('.file-report').click();
  const row = page.locator(`#codes-screen .seasonal tr.report-row[data-season="${season}"]`);
  await row.waitFor();
  assert.match(await page.locator('#codes-screen .seasonal .ok').textContent(), new RegExp(`Đã nộp báo cáo mùa vụ ${season}`));
  assert.match(await row.textContent(), /Sầu riêng Ri6 · VietGAP.*1,20 ha.*Trung Quốc \(CN\).*16,5 tấn.*15\/05\/\d{4} – 31\/08\/\d{4}/);
  assert.equal(await page.locator('#codes-screen .seasonal .notice.due').count(), 0, 'filed, it is no longer due');
  // After the harvest: the actual output.
  await row.locator('input[name=actual_output_t]').fill('15,8');
  await row.locator('.save-actual').click();
  await page.locator('#codes-screen .seasonal .ok', { hasText: 'Đã ghi sản lượng thực tế: 15,8 tấn' }).waitFor();
  assert.match(await page.locator(`#codes-screen .seasonal tr.report-row[data-season="${season}"] td.actual`).textContent(), /^15,8 tấn$/);
  await screenshot(page, 'proc-11-report-actual');

  // The officer's inbox counts one missing report less.
  await op.locator('#codes-screen .codes-close').click();
  await op.locator('#codes-button').click();
  await op.waitForFunction((n) => document.querySelector('#codes-screen .inbox-tabs [data-queue=reports_missing] .count')?.textContent === String(n), missingBefore - 1);
  await op.locator('#codes-screen .inbox-tabs [data-queue=reports_missing]').click();
  assert.equal(await op.locator(`#codes-screen .inbox tr.code-row[data-code="${cp.code}"]`).count(), 0);
  await screenshot(op, 'proc-12-inbox-reports');
  await op.locator('#codes-screen .codes-close').click();
}));

test('the cooperative taps a packing house onto the map on a phone, the officer links it to an area, the cooperative applies for its code', () => step('house', async () => {
  const coopPhone = await start({ ...phone, geolocation: { longitude: cp.house[0], latitude: cp.house[1], accuracy: 5 }, permissions: ['geolocation'] }, cp.coop);
  const pp = coopPhone.page;
  await pp.locator('#codes-button').tap();
  await pp.locator('#codes-screen .organisation .new-house').tap();
  const sheet = pp.locator('#house-form');
  await sheet.waitFor();
  assert.match(await sheet.locator('.location-value').textContent(), /Chưa chọn vị trí/);
  await pp.evaluate((c) => window.vtMap.jumpTo({ center: c, zoom: 17 }), cp.house);
  await tilesLoaded(pp);
  const at = await pixel(pp, cp.house);
  assert.ok(at.y < (await sheet.boundingBox()).y, 'the place tapped is above the sheet');
  await pp.touchscreen.tap(at.x, at.y);
  await pp.waitForFunction(() => window.vtHouseForm.location() !== null);
  const placed = await pp.evaluate(() => window.vtHouseForm.location());
  assert.ok(Math.abs(placed[0] - cp.house[0]) < 2e-5 && Math.abs(placed[1] - cp.house[1]) < 2e-5, `the house is where it was tapped: ${placed} vs ${cp.house}`);
  assert.match(await sheet.locator('.location-value').textContent(), /\d+,\d{5}° B, \d+,\d{5}° Đ/);
  const name = `Nhà đóng gói HTX thử ${Date.now().toString(36)}`;
  await sheet.locator('input[name=name]').fill(name);
  await sheet.locator('input[name=address]').fill('Thôn 2, xã Krông Pắc');
  await sheet.locator('input[name=capacity_tpd]').fill('35,5');
  await screenshot(pp, 'proc-13-house-phone');
  await sheet.locator('.save-house').tap();
  await sheet.locator('.house-saved', { hasText: `Đã lưu cơ sở đóng gói "${name}"` }).waitFor();
  await sheet.locator('.open-house').tap();
  const houseId = Number(await pp.locator('#codes-screen .house').getAttribute('data-id'));
  assert.ok(houseId > 0);
  assert.match(await pp.locator('#codes-screen .house').textContent(), /HTX Sầu riêng Krông Pắc.*Xã Krông Pắc, Tỉnh Đắk Lắk/);
  await screenshot(pp, 'proc-14-house-page-phone');

  // The officer finds it on the map and links it to the code's growing area.
  const op = officerDesk.page;
  // The officer's map drew this place earlier, before the house was registered on another
  // device: the page is opened again, as the officer would.
  await op.reload();
  await op.waitForFunction(() => window.vtMap && window.vtMap.loaded());
  await op.evaluate((c) => window.vtMap.jumpTo({ center: c, zoom: 16 }), cp.house);
  await tilesLoaded(op);
  await op.waitForFunction((id) => window.vtMap.queryRenderedFeatures({ layers: ['packing-houses'] }).some((f) => Number(f.id) === id), houseId, { timeout: 15000 });
  const dot = await pixel(op, cp.house);
  await op.mouse.click(dot.x, dot.y);
  await op.locator('#details .manage-house').click();
  const link = op.locator(`#codes-screen .house[data-id="${houseId}"] form.link-area`);
  await link.waitFor();
  await link.locator('input[name=area]').fill(cp.code);
  await link.locator('.area-result', { hasText: cp.code }).click();
  await link.locator('.chosen-area', { hasText: 'Đã chọn:' }).waitFor();
  assert.match(await link.locator('.chosen-area').textContent(), new RegExp(`Đã chọn: ${cp.area.name} \\(${cp.code}\\)`));
  await link.locator('.save-link').click();
  const linked = op.locator(`#codes-screen .house .house-areas li[data-area="${cp.area.id}"]`);
  await linked.waitFor();
  assert.match(await op.locator('#codes-screen .house .ok').textContent(), new RegExp(`Đã liên kết với "${cp.area.name} \\(${cp.code}\\)" từ ngày \\d\\d/\\d\\d/\\d{4}`));
  await screenshot(op, 'proc-15-house-linked');
  await op.locator('#codes-screen .codes-close').click();

  // The cooperative applies for the house's code: Form 01 with a house's few fields, submitted.
  await pp.locator('#codes-screen .apply-house').tap();
  const form = pp.locator('#codes-screen .house-application');
  await form.waitFor();
  assert.equal(await form.locator('.house-name').textContent(), name);
  assert.equal(await form.locator('select[name=crop]').count(), 0, 'a packing house declares no crop');
  await form.locator('select[name=market]').selectOption('CN');
  await form.locator('input[name=representative]').fill('Lê Thị Đóng Gói');
  await form.locator('input[name=phone]').fill('0912 345 678');
  await form.locator('input[name=email]').fill('donggoi@example.vn');
  await form.locator('input[name=address]').fill('Thôn 2, xã Krông Pắc, Đắk Lắk');
  await form.locator('input[name=commitment]').check();
  await pp.locator('#codes-screen .save-draft').tap();
  await pp.locator('#codes-screen .application .form-message .ok').waitFor();
  await pp.locator('#codes-screen .codes-actions .submit').tap();
  const submitted = pp.locator('#codes-screen .review[data-status=submitted]');
  await submitted.waitFor();
  assert.match(await submitted.locator('.app-area').textContent(), new RegExp(name));
  await screenshot(pp, 'proc-16-house-application-phone');
  const app = await pp.evaluate(async (id) => (await (await fetch(`/api/v1/applications?status=submitted`)).json()).applications.find((a) => a.packing_house?.id === id), houseId);
  assert.equal(app?.status, 'submitted');
  assert.deepEqual(coopPhone.errors, []);
  await coopPhone.context.close();
}));

test('the cooperative changes an area\'s plots on the map: one out, a free one in', () => step('plots', async () => {
  const page = coopDesk.page;
  await page.locator('#codes-screen .codes-close').click();
  await page.locator('#codes-button').click();
  await page.locator(`#codes-screen .organisation tr[data-area="${cp.edit.id}"] .edit-plots`).click();
  await page.locator('#area-form').waitFor();
  await page.waitForFunction((n) => window.vtAreaForm.selected().length === n && !window.vtAreaForm.busy(), cp.edit.plots.length, { timeout: 15000 });
  assert.deepEqual((await page.evaluate(() => window.vtAreaForm.selected())).sort(), cp.edit.plots.map((p) => p.id).sort());
  const free = await page.evaluate(() => window.vtAreaForm.free());
  for (const p of cp.edit.free) assert.ok(free.includes(p.id), `plot ${p.id} is listed as a free member plot`);
  assert.match(await page.locator('#area-form .kicker').textContent(), /Sửa thửa của vùng trồng/);
  assert.equal(await page.locator('#area-form input[name=name]').inputValue(), cp.edit.name);
  const [w, s, e, n] = cp.bbox;
  await page.evaluate(([b]) => window.vtMap.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: { top: 150, bottom: 150, left: 80, right: 460 }, animate: false }), [[w, s, e, n]]);
  await tilesLoaded(page);
  // The free plots are outlined, the area's filled.
  await page.waitForFunction((ids) => {
    const seen = new Set(window.vtMap.queryRenderedFeatures({ layers: ['area-form-free'] }).map((f) => Number(f.id)));
    return ids.every((id) => seen.has(id));
  }, cp.edit.free.map((p) => p.id), { timeout: 15000 });
  assert.ok(await page.evaluate((id) => window.vtMap.queryRenderedFeatures({ layers: ['area-form-kept-fill'] }).some((f) => Number(f.id) === id), cp.edit.plots[0].id));
  await screenshot(page, 'proc-17-area-edit');
  const out = await pixel(page, cp.edit.plots[0].at);
  await page.mouse.click(out.x, out.y);
  await page.waitForFunction((k) => window.vtAreaForm.selected().length === k, cp.edit.plots.length - 1);
  await page.waitForTimeout(300);
  const inn = await pixel(page, cp.edit.free[0].at);
  await page.mouse.click(inn.x, inn.y);
  await page.waitForFunction((k) => window.vtAreaForm.selected().length === k && !window.vtAreaForm.busy(), cp.edit.plots.length);
  const want = [cp.edit.plots[1].id, cp.edit.plots[2].id, cp.edit.free[0].id].sort((a, b) => a - b);
  assert.deepEqual((await page.evaluate(() => window.vtAreaForm.selected())).sort((a, b) => a - b), want);
  await screenshot(page, 'proc-18-area-edited');
  await page.locator('#area-form .save-area').click();
  const saved = page.locator('#area-form .area-saved');
  await saved.waitFor();
  assert.match(await saved.textContent(), new RegExp(`Đã cập nhật vùng trồng "${cp.edit.name}": 3 thửa, \\d+,\\d\\d ha, 3 hộ\\. Thêm 1 thửa, bỏ 1 thửa\\.`));
  await screenshot(page, 'proc-19-area-saved');
  const plots = await api(page, `/api/v1/growing-areas/${cp.edit.id}/plots`);
  assert.deepEqual(plots.plots.map((p) => p.id).sort((a, b) => a - b), want);

  for (const who of [officerPhone, officerDesk, coopDesk]) {
    assert.deepEqual(who.errors, []);
    await who.context.close();
  }
}));

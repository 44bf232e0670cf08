// The growing-area code service in a real browser, end to end (issue 14): the demo cooperative
// forms a growing area of twelve member plots (at least 1 ha) on the map, with a lasso and
// clicks; applies for market CN filling Form 01 with two attachments (a real PDF and PNG made
// here) and submits; an officer of province 66 finds it in the inbox, starts the review and
// schedules the inspection, records it on a phone (390×844) with two photos positioned by the
// phone's (emulated) GPS, and approves it with a decision number: the code VN-DLOR-NNNN shows
// active with its validity. The decision's print page becomes an A4 PDF whose text
// (pdftotext) is intact Vietnamese and whose QR code (pdftoppm + zbarimg) opens the code's
// public lookup; the map's panel shows the new code.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { base, artifacts, launch, openPage, screenshot, signIn, pixel, tilesLoaded } from './browser.mjs';

const cs = JSON.parse(process.env.VT_CODESERVICE || '{}');
const browser = await launch();
after(() => browser.close());

// --- Real files to attach and photograph ---

// A PNG of w×h pixels, coloured by a function of (x, y): [r, g, b].
function png(w, h, colour) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x++) raw.set(colour(x, y), y * (w * 3 + 1) + 1 + x * 3);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// A one-page PDF saying text (ASCII), with a correct cross-reference table.
function pdf(text) {
  const stream = `BT /F1 14 Tf 72 760 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const diaryPDF = pdf('Nhat ky canh tac - HTX Sau rieng Krong Pac - 2026');
const certificatePNG = png(120, 80, (x, y) => [30 + x, 120 + (y % 40), 60]);
const photo = (tint) => png(160, 120, (x, y) => [tint, 80 + ((x * y) % 120), 40 + (y % 60)]);

// --- The map ---

// The number of the twelve plots drawn on the map (their tiles are in).
const plotsShown = (page) => page.evaluate((ids) => {
  const seen = new Set(window.vtMap.queryRenderedFeatures({ layers: ['plots-fill'] }).map((f) => Number(f.id)));
  return ids.filter((id) => seen.has(id)).length;
}, cs.plots.map((p) => p.id));

const waitSelected = (page, n) => page.waitForFunction((k) => window.vtAreaForm.selected().length === k && !window.vtAreaForm.busy(), n, { timeout: 15000 });

// Every page opened, to photograph when a step fails.
const opened = [];
async function openTracked(opts) {
  const p = await openPage(browser, opts);
  opened.push(p);
  return p;
}

test('a cooperative forms an area on the map and applies for CN; an officer reviews, inspects on a phone and approves; the decision prints with its QR', async () => {
  try {
    await endToEnd();
  } catch (err) {
    for (const [i, p] of opened.entries()) await screenshot(p.page, `codes-failure-${i}`).catch(() => {});
    console.log('errors of the pages:', opened.map((p) => p.errors));
    throw err;
  }
});

async function endToEnd() {
  assert.equal(cs.plots?.length, 12, 'VT_CODESERVICE names the twelve member plots');
  const [w, s, e, n] = cs.bbox;

  // --- The cooperative, at a desk ---
  const coop = await openTracked({ viewport: { width: 1280, height: 800 } });
  let page = coop.page;
  await page.goto(base + '/');
  await page.waitForFunction(() => window.vtMap && window.vtMap.loaded());
  await signIn(page, cs.coop);
  const codesButton = page.locator('#codes-button');
  await codesButton.waitFor();
  assert.match(await codesButton.textContent(), /Mã số vùng trồng/);
  await codesButton.click();
  const org = page.locator('#codes-screen .organisation');
  await org.waitFor();
  assert.match(await org.locator('.free-plots').textContent(), /Thửa của thành viên chưa thuộc vùng trồng nào: \d+/);
  const freeBefore = Number((await org.locator('.free-plots').textContent()).match(/(\d+)/)[1]);
  assert.ok(freeBefore >= 12, `the page counts ${freeBefore} free member plots, want at least the 12 seeded`);
  await screenshot(page, 'codes-1-organisation');

  // Forms the area on the map: a lasso around the first two rows (8 plots), then a click on
  // each plot of the third row; a click on a chosen plot unselects it, a second selects it again.
  await org.locator('.new-area').click();
  await page.locator('#area-form').waitFor();
  await page.evaluate(([b]) => window.vtMap.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: { top: 120, bottom: 80, left: 120, right: 480 }, animate: false }), [cs.bbox]);
  await tilesLoaded(page);
  await page.waitForFunction((ids) => {
    const seen = new Set(window.vtMap.queryRenderedFeatures({ layers: ['plots-fill'] }).map((f) => Number(f.id)));
    return ids.every((id) => seen.has(id));
  }, cs.plots.map((p) => p.id), { timeout: 15000 });
  assert.equal(await plotsShown(page), 12);
  const rowH = (n - s) / 3;
  const lasso = [[w - rowH * 0.2, s - rowH * 0.2], [e + rowH * 0.2, s - rowH * 0.2], [e + rowH * 0.2, s + rowH * 1.9], [w - rowH * 0.2, s + rowH * 1.9]];
  await page.locator('#area-form .lasso').click();
  for (const ll of [...lasso, lasso[0]]) {
    const p = await pixel(page, ll);
    await page.mouse.click(p.x, p.y);
    await page.waitForTimeout(150);
  }
  await waitSelected(page, 8);
  assert.match(await page.locator('#area-form .editor-message').textContent(), /chọn thêm 8 thửa/);
  await page.waitForTimeout(400); // a click right after the lasso closes is the closing click
  for (const p of cs.plots.slice(8)) {
    const at = await pixel(page, p.at);
    await page.mouse.click(at.x, at.y);
    await page.waitForTimeout(250);
  }
  await waitSelected(page, 12);
  const toggled = await pixel(page, cs.plots[5].at);
  await page.mouse.click(toggled.x, toggled.y);
  await waitSelected(page, 11);
  await page.waitForTimeout(300);
  await page.mouse.click(toggled.x, toggled.y);
  await waitSelected(page, 12);
  assert.deepEqual((await page.evaluate(() => window.vtAreaForm.selected())).sort((a, b) => a - b), cs.plots.map((p) => p.id).sort((a, b) => a - b));
  const figures = page.locator('#area-form .row.selected .value');
  assert.equal(await figures.getAttribute('data-plots'), '12');
  assert.ok(Math.abs(Number(await figures.getAttribute('data-area-ha')) - cs.area_ha) < 1e-3, 'the panel adds up the plots\' hectares');
  const haVI = cs.area_ha.toFixed(2).replace('.', ',');
  assert.match(await figures.textContent(), new RegExp(`12 thửa · ${haVI} ha · 12 hộ`));
  const areaName = `Vùng trồng sầu riêng Krông Pắc thử ${Date.now().toString(36)}`;
  await page.locator('#area-form input[name=name]').fill(areaName);
  await screenshot(page, 'codes-2-area-form');
  await page.locator('#area-form .save-area').click();
  const saved = page.locator('#area-form .area-saved');
  await saved.waitFor();
  assert.match(await saved.textContent(), new RegExp(`Đã lập vùng trồng "${areaName}": 12 thửa, ${haVI} ha, 12 hộ`));
  await tilesLoaded(page);
  await screenshot(page, 'codes-3-area-saved');

  // Applies for China: Form 01, saved as a draft, two attachments, submitted.
  await page.locator('#area-form .apply-now').click();
  const form = page.locator('#codes-screen .application-form');
  await form.waitFor();
  assert.equal(await form.locator('.area-name').textContent(), areaName);
  assert.equal(await form.locator('.area-ha').textContent(), `${haVI} ha`);
  assert.equal(await form.locator('.households').textContent(), '12');
  await form.locator('select[name=market]').selectOption('CN');
  await form.locator('input[name=representative]').fill('Nguyễn Văn Đại');
  await form.locator('input[name=phone]').fill('0905123456');
  await form.locator('input[name=email]').fill('htx.krongpac@example.vn');
  await form.locator('input[name=address]').fill('Thôn 3, xã Krông Pắc, Đắk Lắk');
  assert.equal(await form.locator('select[name=crop]').inputValue(), 'durian');
  await form.locator('input[name=varieties]').fill('Ri6, Dona');
  await form.locator('input[name=tree_age_years]').fill('7');
  await form.locator('input[name=harvests_per_year]').fill('1');
  await form.locator('select[name=expected_harvest_from]').selectOption('6');
  await form.locator('select[name=expected_harvest_to]').selectOption('8');
  await form.locator('input[name=expected_output_t]').fill('25,5');
  await form.locator('input[name=avg_yield_3y_t_ha]').fill('14,8');
  await form.locator('.add-standard').click();
  await form.locator('select[name="standards[0].name"]').selectOption('VietGAP');
  await form.locator('input[name="standards[0].certificate"]').fill('VietGAP-TT-12-34-0567');
  await form.locator('input[name="standards[0].issued_on"]').fill('2025-03-01');
  await form.locator('input[name="standards[0].valid_to"]').fill('2028-03-01');
  await form.locator('input[name=commitment]').check();
  await page.locator('#codes-screen .save-draft').click();
  const draft = page.locator('#codes-screen .application .form-message .ok');
  await draft.waitFor();
  const appId = Number((await draft.textContent()).match(/số (\d+)/)[1]);
  assert.ok(appId > 0);
  assert.equal(await page.locator('#codes-screen .app-status').getAttribute('data-status'), 'draft');
  const upload = async (kind, file) => {
    const before = await page.locator('#codes-screen li.attachment').count();
    await page.locator('#codes-screen .upload select[name=kind]').selectOption(kind);
    await page.locator('#codes-screen .upload input[name=file]').setInputFiles(file);
    await page.waitForFunction((k) => document.querySelectorAll('#codes-screen li.attachment').length === k, before + 1);
  };
  await upload('diary', { name: 'nhat-ky-canh-tac.pdf', mimeType: 'application/pdf', buffer: diaryPDF });
  await upload('certificate', { name: 'chung-nhan-vietgap.png', mimeType: 'image/png', buffer: certificatePNG });
  const attachments = await page.locator('#codes-screen li.attachment').allTextContents();
  assert.equal(attachments.length, 2);
  assert.match(attachments.join('\n'), /Nhật ký canh tác.*nhat-ky-canh-tac\.pdf.*application\/pdf/);
  assert.match(attachments.join('\n'), /Giấy chứng nhận.*chung-nhan-vietgap\.png.*image\/png/);
  assert.equal(await page.locator('#codes-screen input[name=expected_output_t]').inputValue(), '25,5');
  await page.locator('#codes-screen .attachments').scrollIntoViewIfNeeded();
  await screenshot(page, 'codes-4-application');
  await page.locator('#codes-screen .codes-actions .submit').click();
  await page.locator('#codes-screen .review[data-status=submitted]').waitFor();
  assert.match(await page.locator('#codes-screen .review .ok').textContent(), new RegExp(`Đã nộp hồ sơ số ${appId}`));
  await screenshot(page, 'codes-5-submitted');

  // --- The officer of province 66, at a desk ---
  const officer = await openTracked({ viewport: { width: 1280, height: 800 } });
  const op = officer.page;
  await op.goto(base + '/');
  await op.waitForFunction(() => window.vtMap && window.vtMap.loaded());
  await signIn(op, cs.officer);
  const inboxButton = op.locator('#codes-button');
  await inboxButton.waitFor();
  assert.match(await inboxButton.textContent(), /Hồ sơ cần xử lý/);
  await inboxButton.click();
  const row = op.locator(`#codes-screen .inbox tr.application-row[data-id="${appId}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), new RegExp(`${areaName}.*Trung Quốc \\(CN\\).*${haVI} ha`));
  assert.match(await op.locator('#codes-screen .inbox-tabs [data-queue=review]').textContent(), /Chờ xem xét\s*[1-9]/);
  await screenshot(op, 'codes-6-inbox');
  await row.click();
  await op.locator('#codes-screen .review[data-status=submitted] .start-review').click();
  await op.locator('#codes-screen .review[data-status=under_review]').waitFor();
  // The dossier generated from the registry, and the attachments, are there to read.
  const dossier = await op.evaluate(async (id) => {
    const a = (await (await fetch(`/api/v1/applications/${id}`)).json()).application;
    const g = a.growing_area.id;
    const kml = await fetch(`/api/v1/growing-areas/${g}/dossier.kml`);
    const csv = await fetch(`/api/v1/growing-areas/${g}/households.csv`);
    return { kml: kml.status, kmlText: await kml.text(), csv: csv.status, csvText: await csv.text() };
  }, appId);
  assert.equal(dossier.kml, 200);
  assert.match(dossier.kmlText, /<kml/);
  assert.equal(dossier.csv, 200);
  assert.ok(dossier.csvText.trim().split('\n').length >= 13, 'the household list has a line for each of the 12 plots');
  assert.equal(await op.locator('#codes-screen .attachments li.attachment').count(), 2);
  const scheduleForm = op.locator('#codes-screen .review .schedule');
  await scheduleForm.locator('input[name=inspectors]').fill('Trần Thị Lan, Phạm Văn Bình');
  await scheduleForm.locator('.schedule-inspection').click();
  await op.locator('#codes-screen .review[data-status=inspection_scheduled]').waitFor();
  assert.match(await op.locator('#codes-screen .notice.scheduled').textContent(), /Kiểm tra ngày \d\d\/\d\d\/\d{4}, cán bộ: Trần Thị Lan, Phạm Văn Bình/);
  await screenshot(op, 'codes-7-scheduled');

  // --- The same officer in the orchard, on a phone, with its GPS ---
  const field = await openTracked({
    viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
    geolocation: { longitude: cs.plots[5].at[0], latitude: cs.plots[5].at[1], accuracy: 6 }, permissions: ['geolocation'],
  });
  const fp = field.page;
  await fp.goto(base + '/');
  await fp.waitForFunction(() => window.vtMap && window.vtMap.loaded());
  await signIn(fp, cs.officer);
  await fp.locator('#codes-button').tap();
  await fp.locator('#codes-screen .inbox-tabs [data-queue=inspections]').tap();
  await fp.locator(`#codes-screen .inbox tr.application-row[data-id="${appId}"]`).tap();
  await fp.locator('#codes-screen .record-inspection').tap();
  const insp = fp.locator('#codes-screen .inspection-form');
  await insp.waitFor();
  assert.equal(await insp.locator('input[name=inspectors]').inputValue(), 'Trần Thị Lan, Phạm Văn Bình');
  await insp.locator('.add-pesticides').tap();
  await insp.locator('input[name="pesticide.name"]').fill('Abamectin 3.6EC');
  await insp.locator('select[name=farming_diary]').selectOption('complete');
  await insp.locator('.add-pests').tap();
  await insp.locator('input[name="pest.name"]').fill('Rệp sáp');
  await insp.locator('input[name="pest.density"]').fill('2 % số cây');
  await insp.locator('textarea[name=management]').fill('Tỉa cành, bẫy dính vàng, phun khi vượt ngưỡng');
  await insp.locator('.add-samples').tap();
  await insp.locator('input[name="sample.kind"]').fill('Quả sầu riêng');
  await insp.locator('input[name="sample.lab"]').fill('Trung tâm Kiểm định Đắk Lắk');
  await insp.locator('input[name="sample.result"]').fill('Không phát hiện dư lượng vượt MRL');
  await insp.locator('select[name=gap]').selectOption('VietGAP');
  await insp.locator('select[name=hygiene]').selectOption('good');
  await insp.locator('select[name=packaging_collection]').selectOption('true');
  // Two photos from the camera, one after the other; each gets the phone's position and time.
  await insp.locator('input.camera').setInputFiles({ name: 'vuon-1.png', mimeType: 'image/png', buffer: photo(200) });
  await fp.waitForFunction(() => document.querySelectorAll('#codes-screen .photos figure[data-located=yes]').length === 1);
  await field.context.setGeolocation({ longitude: cs.plots[10].at[0], latitude: cs.plots[10].at[1], accuracy: 4 });
  await insp.locator('input.camera').setInputFiles({ name: 'vuon-2.png', mimeType: 'image/png', buffer: photo(90) });
  await fp.waitForFunction(() => document.querySelectorAll('#codes-screen .photos figure[data-located=yes]').length === 2);
  const captions = await insp.locator('.photos figcaption').allTextContents();
  assert.match(captions[0], /\d\d\/\d\d\/\d{4}.*\d+,\d{5}° B, \d+,\d{5}° Đ \(±6 m\)/);
  assert.match(captions[1], /±4 m/);
  await insp.locator('.photos-group').scrollIntoViewIfNeeded();
  await screenshot(fp, 'codes-8-inspection-phone');
  await insp.locator('.conclusion .choice.pass').tap();
  await insp.locator('textarea[name=reasons]').fill('Vườn đạt yêu cầu của thị trường Trung Quốc');
  await insp.locator('.save-inspection').tap();
  await fp.locator('#codes-screen .review[data-status=inspected]').waitFor();
  assert.match(await fp.locator('#codes-screen .review .ok').textContent(), /Đã lưu biên bản kiểm tra/);
  const recorded = fp.locator('#codes-screen .inspections .inspection');
  assert.match(await recorded.textContent(), /Đạt/);
  assert.equal(await recorded.locator('.photos figure').count(), 2);
  assert.match((await recorded.locator('.photos figcaption').allTextContents()).join(' '), /Ảnh 1: \d+,\d{5}° B/);
  await fp.waitForFunction(() => [...document.querySelectorAll('#codes-screen .inspections img')].every((i) => i.complete && i.naturalWidth === 160));
  await recorded.scrollIntoViewIfNeeded();
  await screenshot(fp, 'codes-9-inspected-phone');
  // Nothing on the phone's screen is wider than the phone.
  assert.ok(await fp.evaluate(() => document.querySelector('#codes-screen .codes-body').scrollWidth <= 390), 'the phone never scrolls sideways');

  // --- Back at the desk: the decision ---
  await op.evaluate((id) => window.vtCodes.open(id), appId);
  const approve = op.locator('#codes-screen .review[data-status=inspected] form.approve');
  await approve.waitFor();
  await approve.locator('input[name=document]').fill('125/QĐ-CCTTBVTV');
  await approve.locator('input[name=authority]').fill('Chi cục Trồng trọt và Bảo vệ thực vật Đắk Lắk');
  await approve.locator('.approve-code').click();
  const issued = op.locator('#codes-screen .review[data-status=approved] .issued-code');
  await issued.waitFor();
  const code = (await issued.locator('.code-id').textContent()).trim();
  assert.match(code, /^VN-DLOR-\d{4}$/);
  assert.equal(await issued.getAttribute('data-status'), 'active');
  assert.match(await issued.locator('.badge').textContent(), /Đang hiệu lực/);
  assert.match(await issued.locator('.validity').textContent(), /^Hiệu lực từ \d\d\/\d\d\/\d{4} đến \d\d\/\d\d\/\d{4}$/);
  assert.match(await issued.locator('.decision').textContent(), /125\/QĐ-CCTTBVTV/);
  await screenshot(op, 'codes-10-approved');
  await op.locator('[data-lang=en]').click();
  await op.locator('#codes-screen .issued-code .validity', { hasText: /^Valid from \d\d\/\d\d\/\d{4} to \d\d\/\d\d\/\d{4}$/ }).waitFor();
  assert.match(await op.locator('#codes-screen .issued-code .badge').textContent(), /Active/);
  await screenshot(op, 'codes-11-approved-en');
  await op.locator('[data-lang=vi]').click();

  // The decision's print page, as Chromium prints it to A4.
  const printing = await officer.context.newPage();
  const res = await printing.goto(`${base}/print/codes/${encodeURIComponent(code)}`);
  assert.equal(res.status(), 200);
  await printing.waitForLoadState('networkidle');
  const pdfFile = path.join(artifacts, 'codes-decision.pdf');
  await printing.pdf({ path: pdfFile, format: 'A4', printBackground: true });
  const text = execFileSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' });
  writeFileSync(path.join(artifacts, 'codes-decision.txt'), text);
  // Read as words (a long name may wrap in the layout); the title's case is the page's to choose.
  const words = text.replace(/\s+/g, ' ').toLocaleLowerCase('vi');
  for (const want of ['Mã số vùng trồng', 'Quyết định', code, areaName, '125/QĐ-CCTTBVTV', 'Trung Quốc (CN)', 'Sầu riêng', 'Đắk Lắk', 'từ ngày', '12 thửa, 12 hộ']) {
    assert.ok(words.includes(want.toLocaleLowerCase('vi')), `the printed decision says "${want}" (pdftotext: ${artifacts}/codes-decision.txt)`);
  }
  // The QR code sits where the decision is signed, on whichever page that falls: decode each.
  const prefix = path.join(artifacts, 'codes-decision-page');
  for (const f of readdirSync(artifacts).filter((f) => f.startsWith('codes-decision-page'))) rmSync(path.join(artifacts, f));
  execFileSync('pdftoppm', ['-png', '-r', '200', pdfFile, prefix]);
  const found = [];
  for (const f of readdirSync(artifacts).filter((f) => f.startsWith('codes-decision-page') && f.endsWith('.png')).sort()) {
    try {
      found.push(...execFileSync('zbarimg', ['-q', '--raw', path.join(artifacts, f)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').filter(Boolean));
    } catch {
      // zbarimg exits 4 on a page with no code.
    }
  }
  assert.equal(found.length, 1, `one QR code in the printed decision, found ${JSON.stringify(found)}`);
  const qr = found[0];
  assert.equal(qr, `${new URL(base).origin}/v/${code}`);
  await printing.close();

  // The cooperative's map shows the new code on its area; its page lists it, active.
  await page.locator('#codes-screen .codes-close').click();
  await page.locator('#codes-button').click();
  const codeRow = page.locator(`#codes-screen .organisation tr[data-code="${code}"]`);
  await codeRow.waitFor();
  assert.match(await codeRow.textContent(), /Trung Quốc \(CN\).*Đang hiệu lực.*\d\d\/\d\d\/\d{4} – \d\d\/\d\d\/\d{4}/);
  assert.equal(Number((await page.locator('#codes-screen .free-plots').textContent()).match(/(\d+)/)[1]), freeBefore - 12);
  await screenshot(page, 'codes-12-organisation-after');
  await page.locator(`#codes-screen .organisation tr[data-area] button.link`, { hasText: areaName }).click();
  const panelCode = page.locator('#details .code', { hasText: code });
  await panelCode.waitFor();
  assert.match(await panelCode.textContent(), /Đang hiệu lực/);
  await screenshot(page, 'codes-13-panel');

  for (const who of [coop, officer, field]) {
    assert.deepEqual(who.errors, []);
    await who.context.close();
  }
}

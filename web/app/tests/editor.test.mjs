// The plot editor in a real browser: an officer draws a plot beside a neighbour with two
// vertices snapped onto its edge; a drawing over a neighbour takes the suggested shape; a
// self-intersecting drawing cannot be saved and shows where it crosses; a plot is split and
// merged back, restored from its history and deleted; a GPS walk on a phone drops its
// inaccurate positions; a farmer corrects their plot's variety; two officers edit one plot at
// once; a tablet draws with a finger; the first view frames the plots. What the database must
// hold afterwards is checked by the Go test that runs us (TestBrowser), from edit-results.json.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { base, artifacts, launch, openPage, screenshot, signIn, pixel } from './browser.mjs';

const edit = JSON.parse(process.env.VT_EDIT || '{}');
const officer = JSON.parse(process.env.VT_OFFICER || '{}');
const farmer = JSON.parse(process.env.VT_FARMER || '{}');
const outsider = JSON.parse(process.env.VT_OFFICER_B || '{}');
const results = {};
const browser = await launch();
after(async () => {
  writeFileSync(path.join(artifacts, 'edit-results.json'), JSON.stringify(results, null, 1));
  await browser.close();
});

const [X, Y] = edit.origin || [0, 0];
const at = (dx, dy) => [X + dx, Y + dy];

// The page position of a [lon, lat] on the map.
async function view(page, center, zoom) {
  await page.waitForFunction(() => window.vtMap && window.vtMap.loaded());
  await page.evaluate(([c, z]) => window.vtMap.jumpTo({ center: c, zoom: z }), [center, zoom]);
  await page.waitForFunction(() => window.vtMap.loaded());
  await page.waitForTimeout(300);
}

// Clicks each position in turn (dx pixels off to the east, to test snapping), then the first
// again to close the polygon.
async function clickPolygon(page, positions, { nudge = [], tap = false } = {}) {
  const points = [];
  for (let i = 0; i < positions.length; i++) {
    const p = await pixel(page, positions[i]);
    if (nudge.includes(i)) p.x += 3;
    points.push(p);
    if (tap) await page.touchscreen.tap(p.x, p.y);
    else await page.mouse.click(p.x, p.y);
    await page.waitForTimeout(150);
  }
  if (tap) await page.touchscreen.tap(points[0].x, points[0].y);
  else await page.mouse.click(points[0].x, points[0].y);
  await page.waitForTimeout(300);
}

// Waits for the server's check of the drawn shape and returns it.
async function checked(page) {
  await page.waitForFunction(() => {
    const c = window.vtEditor.checks();
    return c && !c.error && document.querySelector('#editor .row.area')?.dataset.areaHa;
  }, null, { timeout: 15000 });
  return page.evaluate(() => window.vtEditor.checks());
}

async function openPlot(page, id, lonlat, zoom = 17) {
  await view(page, lonlat, zoom);
  const p = await pixel(page, lonlat);
  await page.mouse.click(p.x, p.y);
  await page.locator('#details .kicker', { hasText: String(id) }).waitFor();
}

test('the first view, with no view in the address, frames the registry\'s plots', async () => {
  for (const size of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    const phone = size.width < 500;
    const { page, errors, context } = await openPage(browser, { viewport: size, isMobile: phone, hasTouch: phone });
    await page.goto(base + '/');
    await page.waitForFunction(() => window.vtMap && window.vtMap.loaded() && window.vtMap.areTilesLoaded());
    const shown = await page.evaluate(() => window.vtMap.queryRenderedFeatures({ layers: ['plot-density', 'plots-fill'] }).length);
    assert.ok(shown > 0, `no plot drawn in the first view at ${JSON.stringify(size)}`);
    assert.ok(await page.locator('.brand span').isVisible(), 'the app\'s name is visible');
    await screenshot(page, phone ? 'first-view-phone' : 'first-view-desktop');
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('an officer draws a plot beside a neighbour, two vertices snapped onto its edge, and the area shown is the area stored', async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(base + '/');
  await signIn(page, officer);
  await page.locator('#draw-button').click();
  await page.locator('#editor').waitFor();
  // Framed once the editor's panel is open: the map beside it is where one draws.
  await view(page, at(0.0026, 0.00145), 18);
  const vertices = [at(0.002, 0.0013), at(0.002, 0.0018), at(0.0026, 0.0019), at(0.0031, 0.0017), at(0.0032, 0.0014), at(0.0029, 0.0011), at(0.0024, 0.0010)];
  // The first two are clicked 3 pixels east of the neighbour's edge: snapping pulls them onto it.
  await clickPolygon(page, vertices, { nudge: [0, 1] });
  const g = await page.evaluate(() => window.vtEditor.geometry());
  assert.equal(g.type, 'Polygon');
  assert.equal(g.coordinates[0].length, 8, `7 vertices and the closing one: ${JSON.stringify(g.coordinates)}`);
  // terra-draw may store the ring the other way round: find each clicked vertex in it.
  for (const i of [0, 1]) {
    const near = g.coordinates[0].reduce((a, c) => (Math.hypot(c[0] - vertices[i][0], c[1] - vertices[i][1]) < Math.hypot(a[0] - vertices[i][0], a[1] - vertices[i][1]) ? c : a));
    assert.ok(Math.abs(near[0] - vertices[i][0]) < 1e-8 && Math.abs(near[1] - vertices[i][1]) < 2e-5, `vertex ${i} snapped onto the edge: ${near}`);
  }
  const c = await checked(page);
  assert.equal(c.valid, true);
  assert.deepEqual((c.overlaps || []).filter((o) => o.blocks), []);
  const shown = Number(await page.locator('#editor .row.area').getAttribute('data-area-ha'));
  assert.match(await page.locator('#editor .row.area .value').textContent(), /^\d+,\d{4} ha \([\d.]+ m²\)$/);
  await page.locator('#editor select[name=crop]').selectOption('coffee');
  await page.locator('#editor input[name=variety]').fill('TR4');
  await screenshot(page, 'editor-drawn-vi');
  await page.locator('#editor .save').click();
  await page.locator('#toast', { hasText: 'Đã lưu thửa số' }).waitFor();
  const id = Number((await page.locator('#toast').textContent()).match(/số (\d+)/)[1]);
  const saved = await page.evaluate(async (pid) => (await (await fetch(`/api/v1/plots/${pid}`)).json()).properties, id);
  assert.ok(Math.abs(saved.area_ha - shown) / saved.area_ha < 1e-4, `shown ${shown} ha, stored ${saved.area_ha} ha`);
  results.drawn = { id, shownAreaHa: shown, snapped: [vertices[0], vertices[1]] };
  await page.locator('#details .plot-actions').waitFor();
  await screenshot(page, 'editor-saved-vi');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a plot drawn over a neighbour shows the overlap and saves the suggested shape', async () => {
  const { page, context } = await openPage(browser);
  await page.goto(base + '/');
  await signIn(page, officer);
  await page.locator('#draw-button').click();
  await view(page, at(0.0016, 0.0010), 18);
  await clickPolygon(page, [at(0.0012, 0.0004), at(0.0019, 0.0004), at(0.0019, 0.0013), at(0.0012, 0.0013)]);
  const c = await checked(page);
  const blocking = c.overlaps.filter((o) => o.blocks);
  assert.equal(blocking.length, 1);
  assert.equal(blocking[0].plot, edit.neighbour);
  assert.ok(c.suggested_geometry, 'a suggested shape');
  await page.locator('#editor .overlaps li.blocks').waitFor();
  assert.ok(await page.evaluate(() => window.vtMap.queryRenderedFeatures({ layers: ['edit-overlap-fill'] }).length > 0), 'the overlap is drawn in red');
  await page.locator('#editor select[name=crop]').selectOption('pepper');
  await screenshot(page, 'editor-overlap-vi');
  // Saving as drawn is refused by the server, which says why.
  await page.locator('#editor .save').click();
  await page.locator('#editor .editor-message .error').waitFor();
  assert.match(await page.locator('#editor .editor-message').textContent(), new RegExp(`${edit.neighbour}`));
  await page.locator('#editor .use-suggested').click();
  await page.waitForFunction(() => {
    const c = window.vtEditor.checks();
    return c && !c.error && !(c.overlaps || []).some((o) => o.blocks);
  });
  await page.locator('#editor .save').click();
  await page.locator('#toast', { hasText: 'Đã lưu thửa số' }).waitFor();
  results.suggested = { id: Number((await page.locator('#toast').textContent()).match(/số (\d+)/)[1]) };
  await context.close();
});

test('a self-intersecting drawing is marked where it crosses and cannot be saved', async () => {
  const { page, context } = await openPage(browser);
  await page.goto(base + '/');
  await signIn(page, officer);
  await page.locator('#draw-button').click();
  await view(page, at(0.0065, 0.0015), 18);
  await clickPolygon(page, [at(0.006, 0.001), at(0.007, 0.002), at(0.007, 0.001), at(0.006, 0.002)]);
  const c = await checked(page);
  assert.equal(c.valid, false);
  const problem = c.problems.find((p) => p.location);
  assert.ok(problem, 'a problem with its place');
  assert.ok(Math.abs(problem.location[0] - at(0.0065, 0)[0]) < 0.0002 && Math.abs(problem.location[1] - at(0, 0.0015)[1]) < 0.0002, `crossing at ${problem.location}`);
  await page.locator('#editor .invalid').waitFor();
  assert.equal(await page.locator('#editor .save').isDisabled(), true);
  assert.ok(await page.evaluate(() => window.vtMap.queryRenderedFeatures({ layers: ['edit-problem'] }).length > 0), 'the crossing is marked on the map');
  await screenshot(page, 'editor-self-intersection-vi');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#editor').isVisible(), false);
  await context.close();
});

test('an officer outside the plot\'s province is told so before saving, and refused', async () => {
  const { page, context } = await openPage(browser);
  await page.goto(base + '/');
  await signIn(page, outsider);
  await page.locator('#draw-button').click();
  await view(page, at(0.0015, 0.0075), 18);
  await clickPolygon(page, [at(0.0011, 0.0071), at(0.0015, 0.0071), at(0.0015, 0.0075), at(0.0011, 0.0075)]);
  await checked(page);
  await page.locator('#editor .jurisdiction').waitFor();
  assert.match(await page.locator('#editor .jurisdiction').textContent(), /Đắk Lắk, ngoài địa bàn của bạn/);
  await page.locator('#editor select[name=crop]').selectOption('coffee');
  await page.locator('#editor .save').click();
  await page.locator('#editor .editor-message .error').waitFor();
  assert.match(await page.locator('#editor .editor-message').textContent(), /không có quyền lưu thửa ở đây/);
  await context.close();
});

test('a plot is split along a line, merged back, restored from its history and deleted', async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(base + '/');
  await signIn(page, officer);
  await openPlot(page, edit.split, at(0.0045, 0.0015), 18);
  await page.locator('#details .split').click();
  await view(page, at(0.0045, 0.0015), 17.5);
  const a = await pixel(page, at(0.0037, 0.0014));
  const b = await pixel(page, at(0.0053, 0.0016));
  await page.mouse.click(a.x, a.y);
  await page.mouse.click(b.x, b.y);
  await page.mouse.click(b.x, b.y); // the last point again finishes the line
  await page.locator('#editor .split-do:not([disabled])').waitFor();
  await screenshot(page, 'editor-split-vi');
  await page.locator('#editor .split-do').click();
  await page.locator('#toast', { hasText: 'Đã chia thành các thửa' }).waitFor();
  const parts = (await page.locator('#toast').textContent()).match(/\d+/g).map(Number);
  assert.equal(parts.length, 2);
  results.split = { parent: edit.split, parts };

  // Merge them back: the first part's panel is open; pick the second on the map.
  await page.locator('#details .merge').click();
  await page.waitForFunction(() => window.vtMap.loaded() && window.vtMap.areTilesLoaded());
  const other = await pixel(page, at(0.0045, 0.0018));
  await page.mouse.click(other.x, other.y);
  await page.locator('#editor .merge-do:not([disabled])').waitFor();
  await page.locator('#editor .merge-do').click();
  await page.locator('#toast', { hasText: 'Đã gộp thành thửa số' }).waitFor();
  results.merged = { id: Number((await page.locator('#toast').textContent()).match(/số (\d+)/)[1]) };

  // The plot edited twice before the test: restore its first version from the history.
  await openPlot(page, edit.restore, at(0.0015, 0.0045), 18);
  await page.locator('#details .show-history').click();
  await page.locator('#details .versions li[data-version="1"]').waitFor();
  assert.equal(await page.locator('#details .versions li').count(), 3);
  assert.match(await page.locator('#details .versions li[data-version="3"]').textContent(), /hiện tại/);
  await page.locator('#details .versions li[data-version="1"] .on-map').click();
  // The old outline is drawn (a GeoJSON source renders a moment after it is set).
  await page.waitForFunction(() => window.vtMap.queryRenderedFeatures({ layers: ['edit-other'] }).length > 0, null, { timeout: 5000 });
  await screenshot(page, 'editor-history-vi');
  await page.locator('#details .versions li[data-version="1"] .restore').click();
  await page.locator('#details .confirm-restore').click();
  await page.locator('#toast', { hasText: 'Đã khôi phục phiên bản 1' }).waitFor();
  assert.match(await page.locator('#toast').textContent(), /phiên bản 4/);

  // Delete, after a confirmation that names the plot.
  await openPlot(page, edit.delete, at(0.0065, 0.0045), 18);
  await page.locator('#details .delete').click();
  assert.match(await page.locator('#details .confirm').textContent(), new RegExp(`Xoá thửa số ${edit.delete} \\(Cà phê, [\\d,]+ ha\\)\\?`));
  await page.locator('#details .confirm-delete').click();
  await page.locator('#toast', { hasText: `Đã xoá thửa số ${edit.delete}` }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('two officers edit one plot at once: the second is told, sees the newer version, and applies the change again', async () => {
  const one = await openPage(browser);
  const two = await openPage(browser);
  for (const { page } of [one, two]) {
    await page.goto(base + '/');
    await signIn(page, officer);
    await openPlot(page, edit.conflict, at(0.0045, 0.0045), 18);
    await page.locator('#details .edit-details').click();
    await page.locator('#editor input[name=variety]').waitFor();
  }
  await one.page.locator('#editor input[name=variety]').fill('TR4');
  await one.page.locator('#editor .save').click();
  await one.page.locator('#toast', { hasText: 'Đã lưu' }).waitFor();
  await two.page.locator('#editor input[name=variety]').fill('TR9');
  await two.page.locator('#editor .save').click();
  await two.page.locator('#editor .conflict').waitFor();
  assert.match(await two.page.locator('#editor .conflict').textContent(), /phiên bản 2/);
  await screenshot(two.page, 'editor-conflict-vi');
  await two.page.locator('#editor .reapply').click();
  await two.page.locator('#toast', { hasText: 'Đã lưu' }).waitFor();
  const hist = await two.page.evaluate(async (id) => (await (await fetch(`/api/v1/plots/${id}/history`)).json()).features.map((f) => [f.properties.version, f.properties.variety || '']), edit.conflict);
  assert.deepEqual(hist.slice(0, 2), [[3, 'TR9'], [2, 'TR4']]);
  await one.context.close();
  await two.context.close();
});

test('a farmer changes their plot\'s variety from the panel, and may not touch its shape nor another farmer\'s plot', async () => {
  const { page, errors, context } = await openPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await page.goto(base + '/');
  await signIn(page, farmer);
  await openPlot(page, edit.farmerPlot.id, edit.farmerPlot.at, 18);
  await page.locator('#details .plot-actions').waitFor();
  assert.equal(await page.locator('#details .edit-shape').count(), 0);
  assert.equal(await page.locator('#details .split, #details .merge, #details .delete').count(), 0);
  await page.locator('#details .edit-details').click();
  assert.deepEqual(await page.locator('#editor .editor-form [data-field]').evaluateAll((ls) => ls.map((l) => l.dataset.field)), ['crop', 'variety', 'planting_year']);
  await page.locator('#editor input[name=variety]').fill('Ri6');
  await screenshot(page, 'editor-farmer-phone');
  await page.locator('#editor .save').click();
  await page.locator('#toast', { hasText: 'Đã lưu' }).waitFor();
  // On a phone the plot's sheet covers the lower half of the map: close it, as a farmer would.
  await page.locator('#details .close').click();
  await openPlot(page, edit.otherFarmerPlot.id, edit.otherFarmerPlot.at, 18);
  assert.equal(await page.locator('#details .plot-actions').count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a GPS walk on a phone drops the inaccurate positions and saves the field', async () => {
  const [lon0, lat0] = at(0.0065, 0.0065);
  const { page, errors, context } = await openPage(browser, {
    viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
    permissions: ['geolocation'], geolocation: { latitude: lat0, longitude: lon0, accuracy: 4 },
  });
  await page.goto(base + '/');
  await signIn(page, officer);
  await page.locator('#walk-button').click();
  await page.locator('.walk-start').click();
  // A field of 60 m by 40 m walked with 30 positions, a metre or so of noise; three of them
  // 50 m inaccurate and 20-30 m off (along the sides: a corner whose only fix is dropped is
  // cut off, by nearly 5 m here, whatever the app does).
  const mLat = 1 / 110574;
  const mLon = 1 / (111320 * Math.cos((lat0 * Math.PI) / 180));
  const around = (d) => { d %= 200; if (d < 60) return [d, 0]; if (d < 100) return [60, d - 60]; if (d < 160) return [160 - d, 40]; return [0, 200 - d]; };
  const noise = [0.6, -0.8, 0.3, 1.0, -0.5, 0.9, -1.0, 0.4, -0.3, 0.7];
  for (let i = 1; i <= 30; i++) {
    let [x, y] = around((i * 200) / 30);
    let accuracy = 4;
    x += noise[i % 10];
    y += noise[(i + 3) % 10];
    if (i === 6 || i === 13 || i === 23) { accuracy = 50; x += 25; y -= 20; }
    await context.setGeolocation({ latitude: lat0 + y * mLat, longitude: lon0 + x * mLon, accuracy });
    await page.waitForTimeout(250);
  }
  await page.locator('.walk-count', { hasText: 'bỏ 3 điểm' }).waitFor();
  await screenshot(page, 'walk-track-phone');
  await page.locator('.walk-finish').click();
  await checked(page);
  await page.locator('#editor select[name=crop]').selectOption('coffee');
  await screenshot(page, 'walk-done-phone');
  await page.locator('#editor .save').click();
  await page.locator('#toast', { hasText: 'Đã lưu thửa số' }).waitFor();
  const truth = [[0, 0], [60, 0], [60, 40], [0, 40], [0, 0]].map(([x, y]) => [lon0 + x * mLon, lat0 + y * mLat]);
  results.walked = { id: Number((await page.locator('#toast').textContent()).match(/số (\d+)/)[1]), truth };
  assert.deepEqual(errors, []);
  await context.close();
});

test('on a tablet an officer draws a plot with a finger, in English', async () => {
  const { page, errors, context } = await openPage(browser, { viewport: { width: 1024, height: 768 }, isMobile: true, hasTouch: true });
  await page.goto(base + '/');
  await signIn(page, officer);
  await page.locator('[data-lang=en]').click();
  await page.locator('#draw-button').click();
  await page.locator('#editor .title', { hasText: 'New plot' }).waitFor();
  await view(page, at(0.0015, 0.00745), 18);
  await clickPolygon(page, [at(0.0011, 0.0071), at(0.0019, 0.0071), at(0.0019, 0.0078), at(0.0011, 0.0078)], { tap: true });
  await checked(page);
  assert.match(await page.locator('#editor .row.area .value').textContent(), /^\d+\.\d{4} ha \([\d,]+ m²\)$/);
  await page.locator('#editor select[name=crop]').selectOption('durian');
  await screenshot(page, 'editor-tablet-en');
  await page.locator('#editor .save').click();
  await page.locator('#toast', { hasText: 'Plot' }).waitFor();
  results.touched = { id: Number((await page.locator('#toast').textContent()).match(/Plot (\d+)/)[1]) };
  assert.deepEqual(errors, []);
  await context.close();
});

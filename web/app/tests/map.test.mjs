// The web map in a real browser: tiles, the details panel in both languages, search, the layer
// switcher, a phone screen and a farmer's own plots.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, launch, openPage, screenshot, signIn } from './browser.mjs';

const plot = JSON.parse(process.env.VT_PLOT || '{}');
const farmer = JSON.parse(process.env.VT_FARMER || '{}');
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const browser = await launch();
after(() => browser.close());

// Waits until the map exists and has drawn everything it needs for the current view.
async function idle(page) {
  await page.waitForFunction(() => window.vtMap, null, { timeout: 15000 });
  await page.evaluate(() => new Promise((resolve) => {
    window.vtMap.once('idle', resolve);
    window.vtMap.triggerRepaint();
  }));
}

// Opens the map at #zoom/lat/lon and waits for it to settle.
async function goTo(page, zoom, lat = plot.lat, lon = plot.lon) {
  await page.goto(`${base}/#${zoom}/${lat}/${lon}`);
  await idle(page);
}

// Where on the page the map draws a longitude and latitude.
async function pagePoint(page, lon, lat) {
  const box = await page.locator('#map').boundingBox();
  const p = await page.evaluate(([x, y]) => window.vtMap.project([x, y]), [lon, lat]);
  return { x: box.x + p.x, y: box.y + p.y };
}

// Polls fn in the page until it returns true.
async function until(page, fn, arg, timeout = 10000) {
  await page.waitForFunction(fn, arg, { timeout, polling: 100 });
}

const noSideways = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

test('the map opens where the address says, loads its tiles and logs no errors', async () => {
  const { page, errors, context } = await openPage(browser);
  const tile = page.waitForResponse((r) => r.url().includes('/tiles/plots/') && r.status() === 200, { timeout: 15000 });
  await goTo(page, 13);
  await tile;
  const view = await page.evaluate(() => ({ zoom: window.vtMap.getZoom(), center: window.vtMap.getCenter() }));
  assert.ok(Math.abs(view.zoom - 13) < 0.01, `zoom ${view.zoom}`);
  assert.ok(Math.abs(view.center.lng - plot.lon) < 1e-4 && Math.abs(view.center.lat - plot.lat) < 1e-4, JSON.stringify(view));
  const rendered = await page.evaluate(() => window.vtMap.queryRenderedFeatures({ layers: ['plots-fill'] }).length);
  assert.ok(rendered > 0, 'plots are drawn');

  await page.mouse.move(800, 400); // clear of the legend panel
  await until(page, () => /° B, .*° Đ$/.test(document.getElementById('coords').textContent));
  assert.match(await page.locator('#coords').textContent(), /^\d+,\d{5}° B, \d+,\d{5}° Đ$/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('clicking a plot shows its crop, area, growing area and code, in Vietnamese and in English', async () => {
  const { page, errors, context } = await openPage(browser);
  await goTo(page, 17);
  const at = await pagePoint(page, plot.lon, plot.lat);
  await page.mouse.click(at.x, at.y);
  const details = page.locator('#details');
  await details.locator('.crop').waitFor();
  assert.match(await details.locator('.crop').textContent(), new RegExp(plot.crop_vi));
  assert.match(await details.locator('.area').textContent(), new RegExp(plot.area_vi));
  assert.match(await details.locator('.growing-area').textContent(), new RegExp(plot.growing_area));
  const code = details.locator('.code', { hasText: plot.code });
  assert.match(await code.textContent(), /Đang hiệu lực/);
  assert.match(await details.locator('.crop .label').textContent(), /Cây trồng/);
  await idle(page);
  await screenshot(page, 'map-panel-vi');

  await page.locator('[data-lang=en]').click();
  assert.match(await details.locator('.crop').textContent(), new RegExp(plot.crop_en));
  assert.match(await details.locator('.area').textContent(), new RegExp(plot.area_en.replace('.', '\\.')));
  assert.match(await code.textContent(), /Active/);
  assert.equal(await details.locator('.crop .label').textContent(), 'Crop');
  assert.equal(await page.locator('#layers-toggle .tool-text').textContent(), 'Map layers');
  assert.match(await page.locator('#search input').getAttribute('placeholder'), /^Search/);
  assert.match(await page.locator('#layers').textContent(), new RegExp(`Plots.*${plot.crop_en}`));
  await screenshot(page, 'map-panel-en');

  await details.locator('.close').click();
  assert.equal(await details.isVisible(), false);
  await page.locator('[data-lang=vi]').click();
  await page.goto(`${base}/#9/${plot.lat}/${plot.lon}`);
  await until(page, () => Math.round(window.vtMap.getZoom()) === 9);
  await idle(page);
  const cells = await page.evaluate(() => window.vtMap.querySourceFeatures('plot_density', { sourceLayer: 'plot_density' }).length);
  assert.ok(cells > 0, 'the density layer has cells at zoom 9');
  await screenshot(page, 'map-density');
  assert.deepEqual(errors, []);
  await context.close();
});

test('search finds a code, moves the map there and opens its growing area', async () => {
  const { page, errors, context } = await openPage(browser);
  await goTo(page, 10, 12.85, 108.05);
  const input = page.locator('#search input');
  await input.fill('krong');
  const noShape = page.locator('#search-results button:disabled', { hasText: 'chưa có ranh giới' }).first();
  await noShape.waitFor();

  await input.fill(plot.code);
  const result = page.locator('#search-results button', { hasText: plot.code });
  await result.waitFor();
  await result.click();
  const code = page.locator('#details .code', { hasText: plot.code });
  await code.waitFor();
  assert.match(await code.textContent(), /Đang hiệu lực/);
  assert.equal(await page.locator('#details .title').textContent(), plot.growing_area);
  await until(page, ([lon, lat]) => {
    const m = window.vtMap;
    return !m.isMoving() && m.getZoom() > 13 && m.getBounds().contains([lon, lat]);
  }, [plot.lon, plot.lat]);

  await input.fill('Krông Pắc 2');
  await page.locator('#search-results button', { hasText: 'Krông Pắc 2' }).first().waitFor();
  await input.press('Enter');
  await until(page, () => /Krông Pắc 2/.test(document.querySelector('#details .title').textContent));
  assert.equal(await page.locator('#search-results').isVisible(), false);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the layer switcher hides and shows the plots and lists the crops', async () => {
  const { page, errors, context } = await openPage(browser);
  await goTo(page, 13);
  if (!(await page.locator('#layers').isVisible())) await page.locator('#layers-toggle').click();
  const box = page.locator('#layers input[data-group=plots]');
  assert.equal(await box.isChecked(), true);
  await box.uncheck();
  assert.equal(await page.evaluate(() => window.vtMap.getLayoutProperty('plots-fill', 'visibility')), 'none');
  assert.equal(await page.evaluate(() => window.vtMap.getLayoutProperty('plot-density', 'visibility')), 'none');
  await box.check();
  assert.equal(await page.evaluate(() => window.vtMap.getLayoutProperty('plots-fill', 'visibility')), 'visible');
  const legend = await page.locator('#layers').textContent();
  for (const want of [plot.crop_vi, 'Cà phê', 'Có mã đang hiệu lực', 'Cơ sở đóng gói', 'Ranh giới xã']) assert.ok(legend.includes(want), `legend has ${want}`);
  await page.locator('#layers-toggle').click();
  assert.equal(await page.locator('#layers').isVisible(), false, 'the panel folds away');
  assert.deepEqual(errors, []);
  await context.close();
});

test('on a phone the map fills the screen and a tapped plot opens a bottom sheet', async () => {
  const { page, errors, context } = await openPage(browser, phone);
  await goTo(page, 17);
  const header = await page.locator('header').boundingBox();
  const map = await page.locator('#map').boundingBox();
  assert.ok(Math.abs(map.y - (header.y + header.height)) < 1 && map.x === 0 && map.width === 390, JSON.stringify(map));
  assert.ok(Math.abs(map.y + map.height - 844) < 1, `map ${JSON.stringify(map)} reaches the bottom`);
  assert.equal(await page.locator('#layers').isVisible(), false, 'the layer panel waits for its button');

  const at = await pagePoint(page, plot.lon, plot.lat);
  await page.touchscreen.tap(at.x, at.y);
  const sheet = page.locator('#details');
  await sheet.locator('.crop').waitFor();
  assert.match(await sheet.locator('.crop').textContent(), new RegExp(plot.crop_vi));
  const box = await sheet.boundingBox();
  assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= 390 && box.y + box.height <= 844.5, `sheet ${JSON.stringify(box)} is on screen`);
  assert.ok(box.height < 0.7 * 844, `sheet ${JSON.stringify(box)} leaves the map visible`);
  for (const sel of ['#layers-toggle', '#details .close', '#search input', '[data-lang=en]', '.maplibregl-ctrl-zoom-in']) {
    const b = await page.locator(sel).boundingBox();
    assert.ok(b.height >= 40 && b.width >= 40, `${sel} ${JSON.stringify(b)} is big enough to tap`);
  }
  assert.equal(await noSideways(page), true, 'nothing scrolls sideways');
  await idle(page);
  await screenshot(page, 'phone-map');

  await page.locator('#layers-toggle').tap();
  const layers = await page.locator('#layers').boundingBox();
  assert.ok(layers.x >= 0 && layers.x + layers.width <= 390 && layers.height < 0.7 * 844, `layers ${JSON.stringify(layers)}`);
  assert.equal(await noSideways(page), true);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a farmer who signs in sees their own plot outlined and can go to it', async () => {
  const { page, errors, context } = await openPage(browser);
  await goTo(page, 12, 12.8, 108.2);
  const count = () => page.evaluate(async () => (await window.vtMap.getSource('my-plots').getData()).features.length);
  assert.equal(await count(), 0);
  assert.equal(await page.locator('#my-plots-button').isVisible(), false);

  await signIn(page, farmer);
  const button = page.locator('#my-plots-button');
  await button.waitFor();
  await until(page, async () => (await window.vtMap.getSource('my-plots').getData()).features.length === 1);
  assert.match(await button.textContent(), /Thửa của tôi/);
  await button.click();
  await until(page, () => !window.vtMap.isMoving() && window.vtMap.getZoom() > 14);
  await idle(page);
  const drawn = await page.evaluate(() => window.vtMap.queryRenderedFeatures({ layers: ['my-plots'] }).length);
  assert.ok(drawn > 0, 'the outline is drawn');
  await screenshot(page, 'map-my-plots');

  await page.locator('#sign-out').click();
  await page.locator('#open-signin').waitFor();
  await until(page, () => document.getElementById('my-plots-button').hidden);
  assert.equal(await count(), 0, 'signing out forgets the plots');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the page runs under a Content-Security-Policy that blocks inline scripts, and the map still draws', async () => {
  const { page, errors, context } = await openPage(browser);
  const res = await page.goto(base + '/');
  assert.match(res.headers()['content-security-policy'] || '', /worker-src 'self' blob:/);
  await page.waitForFunction(() => document.querySelector('#map canvas'), null, { timeout: 15000 });
  assert.deepEqual(errors, [], 'the map (and its blob: worker) loads under the policy');
  // An inline script is refused and reported: the errors the other tests check would show a
  // violation.
  await page.evaluate(() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.head.append(s); });
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => window.__inline), undefined);
  assert.ok(errors.some((e) => e.includes('CSP violation')), `the violation is reported: ${errors}`);
  await context.close();
});

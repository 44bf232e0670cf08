// Codes on the map: a code whose validity has ended shows as expired, distinctly from an
// active one, in the growing area's panel, on the map and in the legend, in both languages.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, launch, openPage, screenshot } from './browser.mjs';

const expired = JSON.parse(process.env.VT_EXPIRED || '{}');
const browser = await launch();
after(() => browser.close());

test('an expired code says so in the panel, on the map and in the legend', async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(base + '/#10/12.85/108.05');
  await page.waitForFunction(() => window.vtMap && window.vtMap.loaded());
  const input = page.locator('#search input');
  await input.fill(expired.code);
  await page.locator('#search-results button', { hasText: expired.code }).click();
  const code = page.locator('#details .code', { hasText: expired.code });
  await code.waitFor();
  assert.match(await code.textContent(), /Hết hiệu lực/);
  assert.doesNotMatch(await code.textContent(), /Đang hiệu lực/);
  // The area is drawn in the expired colour: its tile says so.
  await page.waitForFunction(() => window.vtMap.areTilesLoaded() && !window.vtMap.isMoving());
  const statuses = await page.evaluate(() => [...new Set(window.vtMap.queryRenderedFeatures({ layers: ['growing-areas-fill'] })
    .filter((f) => /Cư M'gar/.test(f.properties.name)).map((f) => f.properties.status))]);
  assert.deepEqual(statuses, ['expired']);
  assert.match(await page.locator('#layers').textContent(), /Mã hết hiệu lực/);
  await screenshot(page, 'code-expired-vi');
  await page.locator('[data-lang=en]').click();
  await page.waitForFunction((c) => /Expired/.test([...document.querySelectorAll('#details .code')].find((e) => e.textContent.includes(c))?.textContent || ''), expired.code);
  assert.match(await page.locator('#layers').textContent(), /Code expired/);
  await screenshot(page, 'code-expired-en');
  assert.deepEqual(errors, []);
  await context.close();
});

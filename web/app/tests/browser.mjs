// Shared set-up of the browser tests: Debian's chromium driven by playwright-core (never a
// downloaded browser), pointed at a vungtrong server started by the Go test that runs us.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export const base = process.env.VT_BASE_URL;
export const artifacts = process.env.VT_ARTIFACTS || 'test-results';
mkdirSync(artifacts, { recursive: true });

if (!base) {
  throw new Error('VT_BASE_URL is not set: these tests are run by `go test ./cmd/vungtrong -run Browser`, which starts the server');
}

/**
 * Launches chromium with the flags this machine needs (no sandbox as root, no network calls home).
 * WebGL and the compositor both run on SwiftShader (software): with --disable-gpu the compositor
 * would be chromium's software one, which blanks most of the map's canvas whenever a scrollable
 * panel (the details sheet) lies over it.
 */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.VT_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
}

/** Opens a page that records console errors and failed requests into errors. */
export async function openPage(browser, opts = {}) {
  const context = await browser.newContext({ locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh', ...opts });
  const page = await context.newPage();
  const errors = [];
  // Anything the Content-Security-Policy blocks (MapLibre's worker, an image, a style) is an
  // error of the page: every test that checks errors checks the CSP too.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`));
  });
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return { context, page, errors };
}

/** Saves a screenshot as a test artifact. */
export async function screenshot(page, name) {
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Signs in on the open page with a password account ({ login, password }) and waits for the chip. */
export async function signIn(page, who) {
  await page.locator('#open-signin').click();
  await page.locator('#signin input[name=login]').fill(who.login);
  await page.locator('#signin input[name=password]').fill(who.password);
  await page.locator('#password-form button[type=submit]').click();
  await page.locator('#user-chip').waitFor();
}

/** The page's pixel of a [lon, lat] on the map. */
export async function pixel(page, lonlat) {
  const box = await page.locator('#map').boundingBox();
  const p = await page.evaluate((ll) => window.vtMap.project(ll), lonlat);
  return { x: box.x + p.x, y: box.y + p.y };
}

/** Waits for the map to stand still with its tiles drawn. */
export async function tilesLoaded(page) {
  await page.waitForFunction(() => window.vtMap.loaded() && window.vtMap.areTilesLoaded() && !window.vtMap.isMoving());
  await page.waitForTimeout(300);
}

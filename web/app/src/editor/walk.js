// The GPS walk ("Đi bộ quanh thửa"): on a phone, the browser's positions are recorded while the
// user walks the plot's boundary, with the screen kept on. Positions less accurate than the
// chosen limit are dropped (and shown hollow in red), the track is drawn as it grows, and
// "Khép thửa" closes the ring, tidies it to a sensible number of vertices and hands it to the
// editor, with the same checks and form as a drawn plot.
import './text.js';
import { t, formatNumber } from '../i18n.js';
import { simplify } from './geo.js';
import { startFromShape, closeEditor } from './editor.js';
import { initMarks, setMarks, clearMarks } from './marks.js';

const LIMITS = [5, 10, 15, 20, 30, 50];
// A tidied vertex may stand this far from the positions it replaces: below a phone's usual
// accuracy, so tidying adds no error worth the name.
const TIDY_M = 0.75;

let panel = null;
let walk = null; // { map, watch, lock, kept: [[lon, lat]], fixes: [{at, kept, acc}], paused, error }

const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
};

const limit = () => Number(localStorage.getItem('vt.walk.accuracy')) || 20;

/** Opens the walk panel on map. */
export function startWalk(map) {
  closeEditor({ quiet: true });
  stopWalk();
  initMarks(map);
  walk = { map, watch: null, lock: null, kept: [], fixes: [], paused: false, started: false, error: '' };
  if (!panel) {
    panel = el('aside', { id: 'walk', class: 'panel details editor walk', 'aria-live': 'polite' });
    document.getElementById('main').append(panel);
  }
  panel.hidden = false;
  document.body.classList.add('editing');
  render();
}

function stopWalk() {
  const w = walk;
  if (!walk) return;
  if (walk.watch !== null) navigator.geolocation.clearWatch(walk.watch);
  walk.lock?.release?.().catch(() => {});
  walk = null;
  clearMarks('track', 'fix');
  if (panel) panel.hidden = true;
  document.body.classList.remove('editing');
  w?.map.setPadding({ top: 0, left: 0, right: 0, bottom: 0 });
}

async function keepScreenOn() {
  try {
    walk.lock = await navigator.wakeLock?.request('screen');
  } catch {
    // Not every browser lets a page keep the screen on; the walk works without it.
  }
}

function begin() {
  if (!navigator.geolocation) {
    walk.error = t('walk.denied', { message: 'no geolocation' });
    render();
    return;
  }
  walk.started = true;
  walk.paused = false;
  keepScreenOn();
  walk.watch = navigator.geolocation.watchPosition(onFix, (err) => {
    if (!walk) return;
    walk.error = t('walk.denied', { message: err.message || String(err.code) });
    render();
  }, { enableHighAccuracy: true, maximumAge: 0, timeout: 60000 });
  render();
}

function onFix(pos) {
  if (!walk || walk.paused) return;
  const at = [pos.coords.longitude, pos.coords.latitude];
  const acc = pos.coords.accuracy;
  const kept = acc <= limit();
  walk.fixes.push({ at, kept, acc });
  if (kept) walk.kept.push(at);
  walk.error = '';
  setMarks('track', walk.kept.length > 1 ? [{ type: 'LineString', coordinates: walk.kept }] : []);
  setMarks('fix', walk.fixes.map((f) => ({ geometry: { type: 'Point', coordinates: f.at }, properties: { kept: f.kept } })));
  // The newest position in the middle of what the panel leaves of the map.
  const z = Math.max(walk.map.getZoom(), 17);
  walk.map.easeTo({ center: at, zoom: z, duration: 300, padding: { top: 0, left: 0, right: 0, bottom: panel.offsetHeight } });
  render();
}

function pause() {
  walk.paused = !walk.paused;
  render();
}

function finish() {
  const pts = walk.kept;
  if (pts.length < 4) {
    walk.error = t('walk.tooFew');
    render();
    return;
  }
  // The ring closes on its first position; a walk that ended where it began drops the repeat.
  const line = simplify(pts, TIDY_M);
  const ring = line.slice();
  const [a, b] = [ring[0], ring[ring.length - 1]];
  if (a[0] !== b[0] || a[1] !== b[1]) ring.push(a.slice());
  if (ring.length < 4) {
    walk.error = t('walk.tooFew');
    render();
    return;
  }
  const n = pts.length;
  const polygon = { type: 'Polygon', coordinates: [ring] };
  stopWalk();
  startFromShape(polygon, t('walk.done', { n: formatNumber(n), v: formatNumber(ring.length - 1) }));
}

function restart() {
  walk.kept = [];
  walk.fixes = [];
  walk.error = '';
  clearMarks('track', 'fix');
  render();
}

function render() {
  if (!panel || !walk) return;
  const dropped = walk.fixes.length - walk.kept.length;
  const accuracy = el('select', { name: 'accuracy' });
  for (const m of LIMITS) accuracy.append(new Option(t('walk.meters', { n: m }), String(m)));
  accuracy.value = String(limit());
  accuracy.addEventListener('change', () => localStorage.setItem('vt.walk.accuracy', accuracy.value));
  const last = walk.fixes[walk.fixes.length - 1];
  panel.replaceChildren(
    el('div', { class: 'details-head' },
      el('div', {}, el('h2', { class: 'title', text: t('edit.title.walk') })),
      el('button', { type: 'button', class: 'icon close', 'aria-label': t('edit.cancel'), text: '×', onclick: stopWalk })),
    el('div', { class: 'details-body' },
      el('p', { class: 'hint', text: t('walk.intro') }),
      el('label', { class: 'walk-accuracy' }, el('span', { text: t('walk.accuracy') }), accuracy),
      el('p', { class: 'walk-count', text: t('walk.fixes', { kept: formatNumber(walk.kept.length), dropped: formatNumber(dropped) }) }),
      last ? el('p', { class: 'muted walk-last', text: t('walk.lastFix', { acc: formatNumber(last.acc, 0) }) }) : null,
      walk.error ? el('p', { class: 'error', role: 'alert', text: walk.error }) : null,
      el('div', { class: 'walk-buttons' },
        !walk.started
          ? el('button', { type: 'button', class: 'primary big walk-start', text: t('walk.start'), onclick: begin })
          : el('button', { type: 'button', class: 'big walk-pause', text: t(walk.paused ? 'walk.resume' : 'walk.pause'), onclick: pause }),
        el('button', { type: 'button', class: 'primary big walk-finish', disabled: walk.kept.length < 4, text: t('walk.finish'), onclick: finish }),
        walk.started ? el('button', { type: 'button', class: 'walk-restart', text: t('walk.restart'), onclick: restart }) : null)));
}

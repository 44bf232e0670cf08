// Forming a growing area on the map: a cooperative or enterprise clicks its members' plots to
// select or unselect them, or draws a lasso (terra-draw's polygon mode) around many: the
// plots whose middle point lies inside are selected. The panel adds up what the server will
// derive (plots, hectares, households, crops) and names plots already in an area; the server
// decides, and its refusals name the plot and the rule, each plot outlined in red. The same
// panel changes an existing area's plots (opened with them selected; saved with PUT); either
// way the members' plots in no area yet are outlined in dashed green, and framed for a new one.
import './text.js';
import { api, APIError } from '../api.js';
import { t, formatHectares, formatNumber, onLangChange } from '../i18n.js';
import { cropName } from '../lookups.js';
import { reloadTiles, isPhone } from '../map.js';
import { onDraw, startDrawing, drawnGeometry, clear as clearDrawing } from '../editor/draw.js';
import { el } from './ui.js';

const SOURCE = 'area-form';
const NONE = ['==', ['id'], -1];
const inIds = (ids) => (ids.length ? ['in', ['id'], ['literal', ids]] : NONE);
let map = null;
let sheet = null;
let hooks = {};
let state = null;

/** Whether a growing area is being formed (the map's clicks then select plots). */
export function isFormingArea() {
  return state !== null;
}

/**
 * Wires the form to the map: hooks.onApply(area) is called when the user, the area saved,
 * asks to apply for a code; hooks.onSaved(area, message) when it is saved.
 */
export function initAreaForm(m, h = {}) {
  map = m;
  hooks = h;
  sheet = el('aside', { id: 'area-form', class: 'panel details editor area-form', hidden: true, 'aria-live': 'polite' });
  document.getElementById('main').append(sheet);
  map.addSource(SOURCE, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: 'area-form-fill', type: 'fill', source: SOURCE, paint: { 'fill-color': ['case', ['get', 'bad'], '#e53935', '#ff8f00'], 'fill-opacity': 0.45 } });
  map.addLayer({ id: 'area-form-line', type: 'line', source: SOURCE, paint: { 'line-color': ['case', ['get', 'bad'], '#b71c1c', '#e65100'], 'line-width': 2.5 } });
  // An area's plots opened for a change are drawn from the plot tiles (no need to read each
  // one's geometry); the members' free plots likewise, outlined.
  map.addLayer({ id: 'area-form-kept-fill', type: 'fill', source: 'plots', 'source-layer': 'plots', filter: NONE, paint: { 'fill-color': '#ff8f00', 'fill-opacity': 0.45 } });
  map.addLayer({ id: 'area-form-kept-line', type: 'line', source: 'plots', 'source-layer': 'plots', filter: NONE, paint: { 'line-color': ['case', ['in', ['id'], ['literal', []]], '#b71c1c', '#e65100'], 'line-width': 2.5 } });
  map.addLayer({ id: 'area-form-free', type: 'line', source: 'plots', 'source-layer': 'plots', filter: NONE, paint: { 'line-color': '#2e7d32', 'line-width': 2.5, 'line-dasharray': [2, 1.5] } });
  map.on('click', onMapClick);
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || !state || document.querySelector('dialog[open]')) return;
    if (state.lasso) stopLasso();
    else closeAreaForm();
    e.preventDefault();
  });
  onLangChange(() => { if (state) render(); });
  // For the browser tests: the selected plots' ids.
  window.vtAreaForm = { selected: () => (state ? [...state.plots.keys()] : []), busy: () => !!state?.pending || !!state?.loading, free: () => (state ? [...state.free] : []) };
}

/**
 * Opens the form: with no plot selected, or, given area ({id, name}), on that area's plots to
 * change them.
 */
export async function startAreaForm(area = null) {
  if (state) closeAreaForm();
  const s = { plots: new Map(), name: area?.name || '', lasso: false, ignoreUntil: 0, pending: 0, message: null, saved: null, bad: new Set(),
    editing: area, original: new Set(), free: new Set(), loading: true };
  state = s;
  sheet.hidden = false;
  document.body.classList.add('editing', 'forming-area');
  besidePanel();
  render();
  const [plots, view, org] = await Promise.all([
    area ? api('GET', `/api/v1/growing-areas/${area.id}/plots`).catch((err) => ({ error: err })) : null,
    area ? api('GET', `/api/v1/growing-areas/${area.id}`).catch(() => null) : null,
    // Officers have no organisation: only cooperatives and enterprises see their free plots.
    api('GET', '/api/v1/organisation').catch(() => null),
  ]);
  if (state !== s) return;
  s.loading = false;
  if (plots?.error) s.message = { kind: 'error', text: plots.error.message };
  for (const p of plots?.plots || []) {
    s.plots.set(p.id, { id: p.id, area_ha: p.area_ha, crop: p.crop, variety: p.variety, producer_id: p.household || `plot-${p.id}`, centroid: p.centroid, kept: true });
    s.original.add(p.id);
  }
  if (view?.name) s.name = view.name;
  for (const id of org?.members_plots_free_ids || []) s.free.add(id);
  // Frames the area being changed, or else where the free plots are.
  const b = view?.bbox || (!area && org?.members_plots_free_bbox?.length === 4 ? org.members_plots_free_bbox : null);
  if (b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 40, maxZoom: 17, duration: 0 });
  paint();
  render();
}

/** Closes the form, dropping the selection. */
export function closeAreaForm() {
  if (!state) return;
  if (state.lasso) stopLasso();
  state = null;
  sheet.hidden = true;
  sheet.replaceChildren();
  document.body.classList.remove('editing', 'forming-area');
  paint();
  map.easeTo({ padding: { top: 0, left: 0, right: 0, bottom: 0 }, duration: 0 });
}

// Keeps the plots the user looks at clear of the panel (beside it, or above it on a phone).
function besidePanel() {
  const m = map.getContainer().getBoundingClientRect();
  const r = sheet.getBoundingClientRect();
  const pad = isPhone() ? { bottom: Math.max(0, Math.round(m.bottom - r.top)) } : { right: Math.max(0, Math.round(m.right - r.left)) };
  map.easeTo({ padding: { top: 0, left: 0, right: 0, bottom: 0, ...pad }, duration: 0 });
}

// --- Selecting ---

function onMapClick(e) {
  if (!state || state.lasso || Date.now() < state.ignoreUntil || state.saved) return;
  const hit = map.queryRenderedFeatures(e.point, { layers: ['plots-fill'] })[0];
  if (!hit || state.loading) return;
  const id = Number(hit.id);
  if (state.plots.has(id)) {
    state.plots.delete(id);
    state.bad.delete(id);
    paint();
    render();
  } else {
    add([id]);
  }
}

// Adds plots to the selection, reading each one (its geometry, hectares, household, crop and
// any growing area it is in already).
async function add(ids) {
  const s = state;
  const fresh = ids.filter((id) => !s.plots.has(id));
  for (const id of fresh) s.plots.set(id, { id, loading: true });
  s.pending += fresh.length;
  render();
  await Promise.all(fresh.map(async (id) => {
    try {
      const f = await api('GET', `/api/v1/plots/${id}`);
      if (s.plots.has(id)) s.plots.set(id, { id, geometry: f.geometry, ...f.properties });
    } catch (err) {
      if (s.plots.has(id)) s.plots.set(id, { id, error: err.message });
    } finally {
      s.pending--;
    }
  }));
  if (state !== s) return;
  paint();
  render();
}

function paint() {
  const features = state ? [...state.plots.values()].filter((p) => p.geometry).map((p) => ({
    type: 'Feature', id: p.id, geometry: p.geometry, properties: { id: p.id, bad: state.bad.has(p.id) },
  })) : [];
  map.getSource(SOURCE)?.setData({ type: 'FeatureCollection', features });
  const kept = state ? [...state.plots.values()].filter((p) => !p.geometry && !p.loading).map((p) => p.id) : [];
  const bad = state ? [...state.bad] : [];
  map.setFilter('area-form-kept-fill', inIds(kept));
  map.setFilter('area-form-kept-line', inIds(kept));
  map.setPaintProperty('area-form-kept-line', 'line-color', ['case', ['in', ['id'], ['literal', bad]], '#b71c1c', '#e65100']);
  map.setFilter('area-form-free', inIds(state ? [...state.free].filter((id) => !state.plots.has(id)) : []));
}

// --- The lasso ---

let lent = null; // the drawing tools' listeners, while the lasso borrows them

function startLasso() {
  state.lasso = true;
  lent = onDraw({ finish: finishLasso });
  startDrawing('polygon');
  render();
}

function stopLasso() {
  clearDrawing();
  if (lent) onDraw(lent);
  lent = null;
  if (state) state.lasso = false;
}

function finishLasso() {
  const g = drawnGeometry();
  stopLasso();
  if (!state) return;
  // The click that closed the lasso is also a map click: it must not toggle a plot.
  state.ignoreUntil = Date.now() + 250;
  const ring = g?.coordinates?.[0];
  if (!ring || ring.length < 4) return render();
  const inside = plotsInside(ring).filter((id) => !state.plots.has(id));
  state.message = { kind: 'ok', text: t('area.lassoAdded', { n: formatNumber(inside.length) }) };
  if (inside.length) add(inside);
  else render();
}

// The plots drawn on the map whose middle point lies inside ring (lon/lat). Plot tiles are not
// clipped, so a rendered plot is whole.
function plotsInside(ring) {
  const xs = ring.map((c) => c[0]);
  const ys = ring.map((c) => c[1]);
  const a = map.project([Math.min(...xs), Math.max(...ys)]);
  const b = map.project([Math.max(...xs), Math.min(...ys)]);
  const found = map.queryRenderedFeatures([[a.x, a.y], [b.x, b.y]], { layers: ['plots-fill'] });
  const ids = new Set();
  for (const f of found) {
    const id = Number(f.id);
    if (ids.has(id)) continue;
    const c = middle(f.geometry);
    if (c && pointInRing(c, ring)) ids.add(id);
  }
  return [...ids];
}

// The centroid of a polygon's largest outer ring (lon/lat; plots are small enough for a plane).
function middle(geometry) {
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  let best = null;
  for (const [outer] of polys) {
    let a = 0; let cx = 0; let cy = 0;
    for (let i = 0, j = outer.length - 1; i < outer.length; j = i++) {
      const f = outer[j][0] * outer[i][1] - outer[i][0] * outer[j][1];
      a += f;
      cx += (outer[j][0] + outer[i][0]) * f;
      cy += (outer[j][1] + outer[i][1]) * f;
    }
    if (a === 0) continue;
    if (!best || Math.abs(a) > best.a) best = { a: Math.abs(a), c: [cx / (3 * a), cy / (3 * a)] };
  }
  return best?.c || null;
}

function pointInRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// --- Saving ---

async function save() {
  const s = state;
  const name = sheet.querySelector('input[name=name]').value.trim();
  s.name = name;
  s.bad.clear();
  if (!name) s.message = { kind: 'error', text: t('area.needName') };
  else if (!s.plots.size) s.message = { kind: 'error', text: t('area.needPlots') };
  if (!name || !s.plots.size) return render();
  s.saving = true;
  s.message = null;
  render();
  const ids = [...s.plots.keys()];
  try {
    const area = s.editing
      ? await api('PUT', `/api/v1/growing-areas/${s.editing.id}/plots`, { plots: ids })
      : await api('POST', '/api/v1/growing-areas', { name, plots: ids });
    if (state !== s) return;
    s.saving = false;
    s.saved = area;
    const figures = { name: area.name, n: formatNumber(area.plot_count ?? area.plots ?? ids.length), ha: formatHectares(area.area_ha), hh: formatNumber(area.households) };
    let message = t(s.editing ? 'area.savedEdit' : 'area.saved', figures);
    if (s.editing) {
      const added = ids.filter((id) => !s.original.has(id)).length;
      const removed = [...s.original].filter((id) => !s.plots.has(id)).length;
      message += ` ${t('area.changes', { added: formatNumber(added), removed: formatNumber(removed) })}`;
    }
    s.message = { kind: 'ok', text: message };
    // The tiles now draw the area itself, in place of the selection.
    for (const id of ids) s.free.delete(id);
    s.plots.clear();
    reloadTiles(map);
    hooks.onSaved?.(area, message);
  } catch (err) {
    if (state !== s) return;
    s.saving = false;
    const details = err instanceof APIError ? err.details : [];
    for (const d of details) {
      const i = /^plots\[(\d+)\]$/.exec(d.field || '');
      if (i && ids[Number(i[1])] !== undefined) s.bad.add(ids[Number(i[1])]);
    }
    s.message = { kind: 'error', text: err instanceof APIError ? `${t('area.refused')} ${err.message}` : t('error.network'), details: details.map((d) => d.message) };
  }
  paint();
  render();
}

// --- Rendering ---

function totals() {
  const ready = [...state.plots.values()].filter((p) => !p.loading && !p.error);
  const ha = ready.reduce((sum, p) => sum + (p.area_ha || 0), 0);
  const households = new Set(ready.map((p) => p.producer_id).filter(Boolean)).size;
  const crops = [...new Set(ready.map((p) => p.crop).filter(Boolean))];
  return { n: state.plots.size, ha, households, crops, ready };
}

function render() {
  if (!state) return;
  const s = state;
  const keepName = sheet.querySelector('input[name=name]')?.value;
  if (keepName !== undefined) s.name = keepName;
  const sum = totals();
  const head = el('div', { class: 'details-head' },
    el('div', {}, el('p', { class: 'kicker', text: t(s.editing ? 'area.editTitle' : 'area.title') }), el('h2', { class: 'title', text: s.name || t('area.newTitle') })),
    el('button', { type: 'button', class: 'icon close', 'aria-label': t('codes.close'), onclick: () => closeAreaForm() }, '×'));
  const body = el('div', { class: 'details-body' });
  if (s.saved) {
    body.append(el('p', { class: 'ok area-saved', role: 'status', text: s.message.text }),
      el('div', { class: 'editor-actions' },
        el('button', { type: 'button', class: 'cancel', text: t('codes.close'), onclick: () => closeAreaForm() }),
        s.editing ? null : el('button', { type: 'button', class: 'primary apply-now', text: t('area.applyNow'), onclick: () => { const a = s.saved; closeAreaForm(); hooks.onApply?.(a); } })));
    sheet.replaceChildren(head, body);
    return;
  }
  body.append(el('p', { class: 'hint editor-hint', text: t(s.lasso ? 'area.lassoHint' : s.editing ? 'area.editHint' : 'area.hint') }));
  if (s.loading) body.append(el('p', { class: 'muted loading', text: t('codes.loading') }));
  const freeLeft = [...s.free].filter((id) => !s.plots.has(id)).length;
  if (freeLeft) body.append(el('p', { class: 'muted small free-shown', text: t('area.freeShown', { n: formatNumber(freeLeft) }) }));
  body.append(el('div', { class: 'editor-tools' },
    s.lasso
      ? el('button', { type: 'button', class: 'lasso-cancel', text: t('area.lassoCancel'), onclick: () => { stopLasso(); render(); } })
      : el('button', { type: 'button', class: 'lasso', text: `◌ ${t('area.lasso')}`, onclick: startLasso }),
    el('button', { type: 'button', class: 'clear-selection', disabled: !s.plots.size, text: t('area.clear'), onclick: () => { s.plots.clear(); s.bad.clear(); s.message = null; paint(); render(); } })));
  body.append(el('label', { class: 'field area-name' }, el('span', { text: t('area.name') }),
    el('input', { name: 'name', autocomplete: 'off', placeholder: t('area.namePlaceholder'), value: s.name || '', readonly: s.editing ? true : undefined })));
  body.append(el('div', { class: 'editor-figures' },
    el('div', { class: 'row selected' }, el('span', { class: 'label', text: t('area.selected') }),
      el('span', { class: 'value', 'data-plots': String(sum.n), 'data-area-ha': sum.ha.toFixed(4), text: t('area.selectedValue', { n: formatNumber(sum.n), ha: formatHectares(sum.ha), hh: formatNumber(sum.households) }) })),
    sum.crops.length ? el('div', { class: 'row crops' }, el('span', { class: 'label', text: t('area.crops') }), el('span', { class: 'value', text: sum.crops.map(cropName).join(', ') })) : null));
  body.append(el('p', { class: `muted small minimum${sum.ha > 0 && sum.ha < 1 ? ' below' : ''}`, text: sum.ha > 0 && sum.ha < 1 ? `${t('area.belowMinimum')} ${t('area.minimum')}` : t('area.minimum') }));
  const taken = sum.ready.filter((p) => p.growing_area && p.growing_area.id !== s.editing?.id);
  if (taken.length) {
    body.append(el('ul', { class: 'problems' }, taken.map((p) => el('li', { text: t('area.inOther', { id: p.id, name: p.growing_area.name }) }))));
  }
  const msg = el('div', { class: 'editor-message' });
  if (s.message) {
    msg.append(el('p', { class: s.message.kind === 'error' ? 'error' : 'ok', role: s.message.kind === 'error' ? 'alert' : 'status', text: s.message.text }));
    if (s.message.details?.length) msg.append(el('ul', { class: 'error refusals' }, s.message.details.map((d) => el('li', { text: d }))));
  }
  body.append(msg);
  if (s.plots.size) {
    const list = el('ul', { class: 'area-plots' });
    for (const p of [...s.plots.values()].sort((a, b) => a.id - b.id)) {
      const text = p.loading ? `${p.id} · ${t('codes.loading')}` : p.error ? `${p.id} · ${p.error}` : `${p.id} · ${cropName(p.crop)} · ${formatHectares(p.area_ha)}`;
      list.append(el('li', { class: s.bad.has(p.id) ? 'bad' : '', 'data-plot': String(p.id) }, el('span', { text: t('area.plot', { text }) }),
        el('button', { type: 'button', class: 'link', text: t('area.remove'), onclick: () => { s.plots.delete(p.id); s.bad.delete(p.id); paint(); render(); } })));
    }
    body.append(el('details', { class: 'area-list' }, el('summary', { text: `${t('area.list')} (${formatNumber(s.plots.size)})` }), list));
  }
  body.append(el('div', { class: 'editor-actions' },
    el('button', { type: 'button', class: 'cancel', text: t('area.cancel'), onclick: () => closeAreaForm() }),
    el('button', { type: 'button', class: 'primary save-area', disabled: s.saving || s.pending > 0 || s.lasso || s.loading, text: s.saving ? t('codes.saving') : t(s.editing ? 'area.saveEdit' : 'area.save'), onclick: save })));
  sheet.replaceChildren(head, body);
}

// The plot editor: a panel over the map (a bottom sheet on phones) in which an officer or a
// cooperative draws a new plot or changes one, a farmer corrects their plot's crop, and
// anyone who may write a plot splits, merges or restores it. While the shape changes the
// panel shows its area at once (estimated), then the server's check a moment later: area on
// the ellipsoid as it will be stored, the commune, the writer's jurisdiction, problems with
// their place, overlaps with neighbours and a suggested shape without them. Saving sends
// If-Match; when someone else saved first the panel says so and offers to apply the change
// again on top of theirs.
import './text.js';
import { api, APIError } from '../api.js';
import { t, formatNumber, formatHectares, formatDate, onLangChange } from '../i18n.js';
import { loadCrops } from '../lookups.js';
import { session, jurisdictionText } from '../session.js';
import { reloadTiles, isPhone } from '../map.js';
import {
  initDraw, onDraw, startDrawing, editGeometry, selectDrawn, replaceGeometry, drawnGeometry, isDrawing,
  undo, redo, canUndo, canRedo, clear as clearDrawing,
} from './draw.js';
import { startSnapping, stopSnapping } from './snap.js';
import { areaHa, asPolygon, bboxOf } from './geo.js';
import { plotForm } from './form.js';
import { initMarks, setMarks, clearMarks } from './marks.js';

let map = null;
let sheet = null;
let hooks = {};
let state = null;
let checkTimer = 0;
let checkSeq = 0;

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

/** "0,3512 ha (3.512 m²)": four decimals, so that what the panel shows is what is stored. */
export function areaText(ha) {
  return t('edit.areaValue', { ha: formatNumber(ha, 4), m2: formatNumber(ha * 10000, 0) });
}

/** Whether an edit is open (the map's clicks then belong to it). */
export function isEditing() {
  return state !== null;
}

/**
 * Wires the editor to the map: hooks.onSaved(feature) hears a saved plot (to open its details),
 * hooks.onClosed() the editor closing.
 */
export function initEditor(m, h = {}) {
  map = m;
  hooks = h;
  initDraw(map);
  initMarks(map);
  sheet = el('aside', { id: 'editor', class: 'panel details editor', hidden: true, 'aria-live': 'polite' });
  document.getElementById('main').append(sheet);
  onDraw({ change: onShapeChange, finish: onShapeFinish, history: renderTools });
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || !state || document.querySelector('dialog[open]')) return;
    // terra-draw cancels a polygon still being drawn; Esc on a finished one ends the edit.
    if (state.phase === 'drawing' && isDrawing()) return;
    e.preventDefault();
    closeEditor();
  });
  onLangChange(render);
  // For the browser tests, as window.vtMap is: what is drawn, and the last check's answer.
  window.vtEditor = { geometry: () => drawnGeometry(), checks: () => state?.checks || null };
}

// --- Opening and closing ---

function open(next) {
  if (state) closeEditor({ quiet: true });
  state = { checks: null, checking: false, saving: false, message: null, conflict: null, keep: false, touched: false, ...next };
  sheet.hidden = false;
  document.body.classList.add('editing');
  render();
}

/** Closes the editor, dropping what was drawn. */
export function closeEditor({ quiet = false } = {}) {
  if (!state) return;
  clearTimeout(checkTimer);
  checkSeq++;
  state.walk?.stop();
  state.cleanup?.();
  state = null;
  clearDrawing();
  stopSnapping();
  clearMarks();
  sheet.hidden = true;
  sheet.replaceChildren();
  document.body.classList.remove('editing');
  // The panel is gone: the map has its whole width again, the view where it was.
  const { width, height } = map.getContainer().getBoundingClientRect();
  map.jumpTo({ center: map.unproject([width / 2, height / 2]), padding: { top: 0, left: 0, right: 0, bottom: 0 } });
  if (!quiet) hooks.onClosed?.();
}

// Moves what the user was looking at beside the editor's panel (or above its sheet on a
// phone), so that they draw where they were looking, not under the panel.
function besidePanel() {
  const m = map.getContainer().getBoundingClientRect();
  const r = sheet.getBoundingClientRect();
  const layers = document.getElementById('layers');
  const l = layers && !layers.hidden ? layers.getBoundingClientRect() : null;
  const pad = isPhone() ? { bottom: Math.max(0, Math.round(m.bottom - r.top)) }
    : { right: Math.max(0, Math.round(m.right - r.left)), left: l && l.width ? Math.max(0, Math.round(l.right - m.left)) : 0 };
  map.easeTo({ padding: { top: 0, left: 0, right: 0, bottom: 0, ...pad }, duration: 0 });
}

/** Starts drawing a new plot. */
export async function startNew() {
  await loadCrops();
  open({ mode: 'new', phase: 'drawing', plot: null, form: plotForm({}, { onInput: onFormInput }) });
  besidePanel();
  await startSnapping(map);
  startDrawing('polygon');
  render();
}

/**
 * Starts from a shape made elsewhere (a GPS walk): it is put on the map ready to edit, with the
 * form and the checks of a drawn plot; note says where it came from.
 */
export async function startFromShape(polygon, note) {
  await loadCrops();
  open({ mode: 'new', phase: 'shape', plot: null, form: plotForm({}, { onInput: onFormInput }), message: { kind: 'ok', text: note }, touched: true });
  frame(polygon);
  await startSnapping(map);
  editGeometry(polygon);
  scheduleCheck(0);
  render();
}

// Brings a shape into view beside (or above) the editor's panel.
function frame(geometry) {
  const b = bboxOf(geometry);
  map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: editorPadding(), maxZoom: 19, duration: 0 });
}

/** Opens a plot (its Feature and ETag, as GET /api/v1/plots/{id} answers) to change its shape and details. */
export async function startEdit(feature, etag, { producerName = '' } = {}) {
  await loadCrops();
  const poly = asPolygon(feature.geometry);
  const multipart = poly.type !== 'Polygon';
  open({
    mode: multipart ? 'attributes' : 'edit', phase: 'shape', plot: feature, etag, producerName,
    form: plotForm(feature.properties, { producerName, onInput: onFormInput }),
    message: multipart ? { kind: 'note', text: t('edit.multipart') } : null,
  });
  frame(feature.geometry);
  if (!multipart) {
    await startSnapping(map, feature.id);
    editGeometry(poly);
  }
  render();
}

/** Opens a plot's details only (a farmer's own plot: crop, variety, planting year). */
export async function startAttributes(feature, etag, { farmer = false, producerName = '' } = {}) {
  await loadCrops();
  open({ mode: 'attributes', phase: 'shape', plot: feature, etag, farmer, producerName, form: plotForm(feature.properties, { farmer, producerName, onInput: onFormInput }) });
}

// --- The shape and its checks ---

function onShapeChange(type, context) {
  if (!state) return;
  if (state.mode === 'split') {
    renderTools();
    return;
  }
  if (context?.origin !== 'api') state.touched = true;
  renderFigures();
  scheduleCheck();
}

function onShapeFinish(context) {
  if (!state) return;
  if (state.mode === 'split') {
    if (context?.mode === 'linestring') {
      state.phase = 'line';
      selectDrawn();
      render();
    }
    return;
  }
  if (state.phase === 'drawing' && context?.mode === 'polygon') {
    state.phase = 'shape';
    state.touched = true;
    selectDrawn();
    render();
  }
  scheduleCheck(0);
}

function onFormInput() {
  // The producer decides the cooperative's right to write the plot: check again.
  if (state && state.mode !== 'attributes') scheduleCheck();
}

function currentGeometry() {
  const g = drawnGeometry();
  return g && g.type === 'Polygon' ? g : null;
}

function scheduleCheck(delay = 300) {
  clearTimeout(checkTimer);
  if (!state || state.mode === 'attributes') return;
  checkTimer = setTimeout(runCheck, delay);
}

async function runCheck() {
  const g = currentGeometry();
  if (!state || !g || state.phase === 'drawing' || g.coordinates[0].length < 4) return;
  const mine = ++checkSeq;
  state.checking = true;
  renderFigures();
  const body = { type: 'Feature', geometry: g, properties: {} };
  if (state.plot) body.id = state.plot.id;
  const pid = state.form.values().producer_id;
  if (pid) body.properties.producer_id = pid;
  let answer = null;
  try {
    answer = await api('POST', '/api/v1/plots/check', body);
  } catch (err) {
    answer = { error: err };
  }
  if (!state || mine !== checkSeq) return;
  state.checking = false;
  state.checks = answer;
  showCheckMarks();
  renderFigures();
}

function showCheckMarks() {
  const c = state?.checks;
  if (!c || c.error) {
    clearMarks('overlap', 'suggested', 'problem');
    return;
  }
  setMarks('overlap', (c.overlaps || []).map((o) => ({ geometry: o.geometry, properties: { plot: o.plot, blocks: !!o.blocks } })));
  setMarks('suggested', c.suggested_geometry ? [c.suggested_geometry] : []);
  setMarks('problem', (c.problems || []).filter((p) => p.location).map((p) => ({ type: 'Point', coordinates: p.location })));
}

// --- Saving ---

function blockingOverlaps(c) {
  return (c?.overlaps || []).filter((o) => o.blocks);
}

async function save() {
  if (!state || state.saving) return;
  const s = state;
  s.form.clearErrors();
  s.message = null;
  const g = s.mode === 'attributes' ? null : currentGeometry();
  if (s.mode === 'new' && !g) {
    s.message = { kind: 'error', text: t('edit.drawFirst') };
    render();
    return;
  }
  if (g && s.checks && !s.checks.error && s.checks.valid === false) {
    s.message = { kind: 'error', text: t('edit.invalid') };
    renderMessage();
    return;
  }
  const body = { type: 'Feature', properties: s.mode === 'new' ? dropEmpty(s.form.values()) : s.form.changed() };
  if (g && (s.mode === 'new' || s.touched)) body.geometry = g;
  if (s.keep) {
    const reason = sheet.querySelector('[name=overlap_reason]')?.value.trim();
    if (!reason) {
      s.message = { kind: 'error', text: t('edit.keepReasonNeeded') };
      renderMessage();
      return;
    }
    body.overlap_reason = reason;
  }
  s.saving = true;
  renderActions();
  try {
    const saved = s.mode === 'new'
      ? await api('POST', '/api/v1/plots', body)
      : await api('PATCH', `/api/v1/plots/${s.plot.id}`, body, { 'If-Match': s.etag });
    if (state !== s) return;
    closeEditor({ quiet: true });
    reloadTiles(map);
    hooks.onSaved?.(saved, t('edit.saved', { id: saved.id, ha: formatHectares(saved.properties.area_ha) }));
  } catch (err) {
    if (state !== s) return;
    s.saving = false;
    await saveFailed(err, body);
  }
}

const dropEmpty = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== '' && v !== undefined));

async function saveFailed(err, body) {
  const s = state;
  if (!(err instanceof APIError)) {
    s.message = { kind: 'error', text: t('error.network') };
    render();
    return;
  }
  if (err.status === 412) {
    await showConflict(body);
    return;
  }
  const e = err.body || {};
  if (e.overlaps?.length) {
    // The server's answer holds the overlaps and the suggestion: show them as the check would.
    s.checks = { ...(s.checks || {}), overlaps: e.overlaps, suggested_geometry: e.suggested_geometry, suggested_area_ha: e.suggested_area_ha, blocked: true };
    showCheckMarks();
  }
  const rest = s.form.showErrors(err.details || []);
  const placed = rest.filter((d) => d.location);
  if (placed.length) setMarks('problem', placed.map((d) => ({ type: 'Point', coordinates: d.location })));
  // The overlaps and a refusal of the jurisdiction are said in the page's language (the server
  // speaks English); its own words follow in small print.
  let text = err.message;
  let note = '';
  if (e.overlaps?.length) [text, note] = [t('edit.overlapRefused', { n: blockingOverlaps(s.checks).length || e.overlaps.length }), err.message];
  else if (err.status === 403) [text, note] = [t('edit.forbidden', { yours: jurisdictionText(session()?.user) }), err.message];
  s.message = { kind: 'error', text, note, details: rest.filter((d) => d.code !== 'overlap').map((d) => d.message) };
  render();
}

// Someone else saved first: say who and when, show their version, and offer to apply this
// change again on top of it (a new version after theirs: both stay in the history).
async function showConflict(body) {
  const s = state;
  try {
    const [res, hist] = await Promise.all([
      fetch(`/api/v1/plots/${s.plot.id}`, { headers: { Accept: 'application/geo+json' }, credentials: 'same-origin' }),
      api('GET', `/api/v1/plots/${s.plot.id}/history`).catch(() => null),
    ]);
    const newer = await res.json();
    // Who wrote the newest version: the history's first row says.
    const latest = hist?.features?.find((f) => f.properties.version === newer.properties.version);
    s.conflict = { feature: newer, etag: res.headers.get('ETag'), body, who: latest?.properties.written_by || '' };
    setMarks('other', [newer.geometry]);
  } catch {
    s.conflict = { feature: null, etag: null, body };
  }
  render();
}

async function reapply() {
  const s = state;
  if (!s?.conflict?.etag) return;
  s.etag = s.conflict.etag;
  s.plot = s.conflict.feature;
  s.conflict = null;
  clearMarks('other');
  await save();
}

async function takeTheirs() {
  const s = state;
  if (!s?.conflict?.feature) return;
  const { feature, etag } = s.conflict;
  const farmer = s.farmer;
  if (s.mode === 'attributes') await startAttributes(feature, etag, { farmer, producerName: s.producerName });
  else await startEdit(feature, etag, { producerName: s.producerName });
}

function useSuggested() {
  const c = state?.checks;
  if (!c?.suggested_geometry) return;
  const poly = asPolygon(c.suggested_geometry);
  if (poly.type !== 'Polygon') return;
  replaceGeometry(poly);
  state.touched = true;
  state.keep = false;
  clearMarks('suggested', 'overlap');
  scheduleCheck(0);
  render();
}

// --- Split and merge ---

/** Starts splitting a plot (its Feature and ETag) along a line the user draws across it. */
export async function startSplit(feature, etag) {
  open({ mode: 'split', phase: 'drawing', plot: feature, etag });
  besidePanel();
  setMarks('other', [feature.geometry]);
  await startSnapping(map);
  startDrawing('linestring');
  render();
}

async function doSplit() {
  const s = state;
  const line = drawnGeometry();
  if (!s || !line || line.type !== 'LineString') return;
  s.saving = true;
  s.message = null;
  renderActions();
  try {
    const r = await api('POST', `/api/v1/plots/${s.plot.id}/split`, { line }, { 'If-Match': s.etag });
    if (state !== s) return;
    closeEditor({ quiet: true });
    reloadTiles(map);
    hooks.onSaved?.(r.features[0], t('edit.savedSplit', { ids: r.features.map((f) => f.id).join(', ') }));
  } catch (err) {
    if (state !== s) return;
    s.saving = false;
    if (err instanceof APIError && err.status === 412) {
      s.message = { kind: 'error', text: err.message };
    } else s.message = { kind: 'error', text: err instanceof APIError ? err.message : t('error.network') };
    render();
  }
}

/** Starts merging plots into feature: the user clicks adjacent plots of the same household. */
export function startMerge(feature) {
  open({ mode: 'merge', phase: 'choose', plot: feature, chosen: new Map([[feature.id, feature.properties.version]]), geometries: new Map([[feature.id, feature.geometry]]) });
  besidePanel();
  setMarks('other', [feature.geometry]);
  const onClick = async (e) => {
    const s = state;
    if (!s || s.mode !== 'merge') return;
    const hit = map.queryRenderedFeatures(e.point, { layers: ['plots-fill'] })[0];
    if (!hit) return;
    const id = Number(hit.id);
    if (id === s.plot.id) return;
    if (s.chosen.has(id)) {
      s.chosen.delete(id);
      s.geometries.delete(id);
    } else {
      try {
        const f = await api('GET', `/api/v1/plots/${id}`);
        s.chosen.set(id, f.properties.version);
        s.geometries.set(id, f.geometry);
      } catch (err) {
        s.message = { kind: 'error', text: err.message };
      }
    }
    if (state !== s) return;
    setMarks('other', [...s.geometries.values()]);
    render();
  };
  map.on('click', onClick);
  state.cleanup = () => map.off('click', onClick);
  render();
}

async function doMerge() {
  const s = state;
  if (!s || s.chosen.size < 2) return;
  s.saving = true;
  s.message = null;
  renderActions();
  try {
    const plots = [...s.chosen].map(([id, version]) => ({ id, version }));
    const merged = await api('POST', '/api/v1/plots/merge', { plots });
    if (state !== s) return;
    closeEditor({ quiet: true });
    reloadTiles(map);
    hooks.onSaved?.(merged, t('edit.savedMerge', { id: merged.id, ha: formatHectares(merged.properties.area_ha) }));
  } catch (err) {
    if (state !== s) return;
    s.saving = false;
    s.message = { kind: 'error', text: err instanceof APIError ? err.message : t('error.network') };
    render();
  }
}

// --- Rendering ---

function render() {
  if (!state || !sheet) return;
  const s = state;
  const id = s.plot?.id;
  const titleKey = { new: s.fromWalk ? 'edit.title.walk' : 'edit.title.new', edit: 'edit.title.edit', attributes: 'edit.title.attributes', split: 'edit.title.split', merge: 'edit.title.merge' }[s.mode];
  const head = el('div', { class: 'details-head' },
    el('div', {}, el('p', { class: 'kicker', text: t('edit.actions') }), el('h2', { class: 'title', text: t(titleKey, { id }) })),
    el('button', { type: 'button', class: 'icon close', 'aria-label': t('edit.cancel'), text: '×', onclick: () => closeEditor() }));
  const body = el('div', { class: 'details-body' });
  if (s.mode === 'split' || s.mode === 'merge') {
    body.append(el('p', { class: 'hint editor-hint', text: t(s.mode === 'split' ? 'edit.hint.split' : 'edit.hint.merge', { id }) }));
    if (s.mode === 'split') body.append(el('div', { class: 'editor-tools' }));
    else body.append(el('p', { class: 'merge-chosen', text: s.chosen.size > 1 ? t('edit.mergeChosen', { ids: [...s.chosen.keys()].join(', ') }) : t('edit.mergeNone') }));
    body.append(el('div', { class: 'editor-message' }), el('div', { class: 'editor-actions' }));
    sheet.replaceChildren(head, body);
    renderTools();
    renderMessage();
    renderActions();
    return;
  }
  if (s.mode !== 'attributes') {
    body.append(el('p', { class: 'hint editor-hint', text: t(s.phase === 'drawing' ? 'edit.hint.draw' : 'edit.hint.edit') }));
    body.append(el('div', { class: 'editor-tools' }));
    body.append(el('div', { class: 'editor-figures' }));
  }
  body.append(el('div', { class: 'editor-message' }));
  body.append(s.form.element);
  body.append(el('div', { class: 'editor-actions' }));
  sheet.replaceChildren(head, body);
  renderTools();
  renderFigures();
  renderMessage();
  renderActions();
}

function renderTools() {
  const box = sheet?.querySelector('.editor-tools');
  if (!box || !state) return;
  box.replaceChildren(
    el('button', { type: 'button', class: 'undo', disabled: !canUndo(), text: `↶ ${t('edit.undo')}`, onclick: () => { undo(); renderTools(); } }),
    el('button', { type: 'button', class: 'redo', disabled: !canRedo(), text: `↷ ${t('edit.redo')}`, onclick: () => { redo(); renderTools(); } }));
}

function renderFigures() {
  const box = sheet?.querySelector('.editor-figures');
  if (!box || !state) return;
  renderTools();
  const s = state;
  const g = drawnGeometry();
  const rows = [];
  const c = s.checks && !s.checks.error ? s.checks : null;
  const area = el('div', { class: 'row area' }, el('span', { class: 'label', text: t('edit.area') }));
  if (c && !s.checking && c.area_ha != null) {
    area.append(el('span', { class: 'value', text: areaText(c.area_ha) }));
    area.dataset.areaHa = String(c.area_ha);
  } else if (g) {
    area.append(el('span', { class: 'value approx', text: t('edit.areaApprox', { ha: formatNumber(areaHa(g), 4) }) }));
  } else area.append(el('span', { class: 'value', text: '—' }));
  rows.push(area);
  if (s.checking) rows.push(el('p', { class: 'muted checking', text: t('edit.checking') }));
  if (c) {
    const place = [c.commune_name, c.province_name].filter(Boolean).join(', ') || t('edit.outsideBoundaries');
    rows.push(el('div', { class: 'row place' }, el('span', { class: 'label', text: t('edit.place') }), el('span', { class: 'value', text: place })));
    if (c.jurisdiction && c.jurisdiction.ok === false) {
      rows.push(el('p', { class: 'error jurisdiction', text: t('edit.noJurisdiction', { place, yours: jurisdictionText(session()?.user) }) }),
        el('p', { class: 'muted small', text: c.jurisdiction.message }));
    }
    if (c.valid === false) {
      rows.push(el('p', { class: 'error invalid', text: t('edit.invalid') }));
      const ul = el('ul', { class: 'problems' });
      for (const p of c.problems || []) ul.append(el('li', { text: p.message }));
      rows.push(ul);
    } else rows.push(el('p', { class: 'ok valid', text: `✓ ${t('edit.valid')}` }));
    if (c.overlaps?.length) rows.push(overlapBox(c));
  }
  box.replaceChildren(...rows);
  // The save button follows the checks (an invalid shape cannot be saved).
  renderActions();
}

function overlapBox(c) {
  const box = el('section', { class: 'overlaps' }, el('h3', { text: t('edit.overlaps') }));
  const ul = el('ul');
  for (const o of c.overlaps) {
    const args = { plot: o.plot, m2: formatNumber(o.m2, 1), pct: formatNumber(o.pct, 1) };
    ul.append(el('li', { class: o.blocks ? 'blocks' : 'tolerated', 'data-plot': o.plot, text: t(o.blocks ? 'edit.overlapLine' : 'edit.overlapSmall', args) }));
  }
  box.append(ul);
  if (blockingOverlaps(c).length) {
    if (c.suggested_geometry) {
      box.append(el('p', { class: 'muted', text: t('edit.suggestedNote') }),
        el('button', { type: 'button', class: 'primary use-suggested', text: t('edit.useSuggested', { ha: formatNumber(c.suggested_area_ha ?? areaHa(c.suggested_geometry), 4) }), onclick: useSuggested }));
    }
    const role = session()?.user?.role || '';
    if (role === 'officer' || role === 'admin') {
      if (!state.keep) box.append(el('button', { type: 'button', class: 'link keep-overlap', text: t('edit.keepOverlap'), onclick: () => { state.keep = true; renderFigures(); } }));
      else box.append(el('label', { class: 'keep-reason' }, el('span', { text: t('edit.keepReason') }), el('input', { name: 'overlap_reason', autocomplete: 'off' })));
    }
  }
  return box;
}

function renderMessage() {
  const box = sheet?.querySelector('.editor-message');
  if (!box || !state) return;
  const s = state;
  const out = [];
  if (s.message) {
    const p = el('p', { class: s.message.kind === 'error' ? 'error' : s.message.kind === 'ok' ? 'ok' : 'muted', role: s.message.kind === 'error' ? 'alert' : undefined, text: s.message.text });
    out.push(p);
    if (s.message.note) out.push(el('p', { class: 'muted small', text: s.message.note }));
    if (s.message.details?.length) {
      const ul = el('ul', { class: 'error' });
      for (const d of s.message.details) ul.append(el('li', { text: d }));
      out.push(ul);
    }
  }
  if (s.conflict) {
    const f = s.conflict.feature;
    const p = f?.properties || {};
    out.push(el('div', { class: 'conflict', role: 'alert' },
      el('p', { text: t('edit.conflict', { who: s.conflict.who || '?', at: p.updated_at ? formatDate(p.updated_at, true) : '?', version: p.version ?? '?' }) }),
      el('button', { type: 'button', class: 'primary reapply', text: t('edit.reapply'), onclick: reapply }),
      el('button', { type: 'button', class: 'take-theirs', text: t('edit.takeTheirs'), onclick: takeTheirs })));
  }
  box.replaceChildren(...out);
}

function renderActions() {
  const box = sheet?.querySelector('.editor-actions');
  if (!box || !state) return;
  const s = state;
  if (s.mode === 'split' || s.mode === 'merge') {
    const ready = s.mode === 'split' ? s.phase === 'line' : s.chosen.size > 1;
    box.replaceChildren(
      el('button', { type: 'button', class: 'cancel', text: t('edit.cancel'), onclick: () => closeEditor() }),
      el('button', { type: 'button', class: `primary ${s.mode}-do`, disabled: s.saving || !ready,
        text: s.saving ? t('edit.saving') : s.mode === 'split' ? t('edit.splitDo') : t('edit.mergeDo', { n: s.chosen.size }), onclick: s.mode === 'split' ? doSplit : doMerge }));
    return;
  }
  const blocked = s.mode !== 'attributes' && s.checks && !s.checks.error && s.checks.valid === false;
  box.replaceChildren(
    el('button', { type: 'button', class: 'cancel', text: t('edit.cancel'), onclick: () => closeEditor() }),
    el('button', { type: 'button', class: 'primary save', disabled: s.saving || s.phase === 'drawing' || blocked, text: t(s.saving ? 'edit.saving' : 'edit.save'), onclick: save }));
}

/** The map padding the editor needs (its panel at the right, or a sheet at the bottom). */
export function editorPadding() {
  // Clear of the map's tools at the top (one or two rows) and of the editor's panel.
  const tools = document.querySelector('.map-tools')?.getBoundingClientRect();
  const top = tools ? Math.round(tools.bottom - map.getContainer().getBoundingClientRect().top + 16) : 80;
  if (isPhone()) return { top, left: 24, right: 24, bottom: Math.round(window.innerHeight * 0.55) };
  return { top, left: 60, bottom: 40, right: 440 };
}

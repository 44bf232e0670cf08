// A packing house placed on the map: a panel beside the map (a sheet on a phone) with its
// name, address and capacity; a click or tap on the map puts it there (again to move it), or
// the phone's GPS does. Saved with POST (new) or PATCH (an existing one's change); the server
// names the commune and province from the point.
import './text.js';
import { api } from '../api.js';
import { t, formatLatLon, onLangChange } from '../i18n.js';
import { reloadTiles, isPhone } from '../map.js';
import { el, errorBox, clearMarks, field } from './ui.js';
import { parseNum } from './application.js';

const SOURCE = 'house-form';
let map = null;
let sheet = null;
let hooks = {};
let state = null; // {house, location, saved, message}

/** Whether a packing house is being placed (the map's clicks then place it). */
export const isPlacingHouse = () => state !== null;

/** Wires the panel to the map: hooks.onOpen(house) opens a saved house's page. */
export function initHouseForm(m, h = {}) {
  map = m;
  hooks = h;
  sheet = el('aside', { id: 'house-form', class: 'panel details editor house-form', hidden: true, 'aria-live': 'polite' });
  document.getElementById('main').append(sheet);
  map.addSource(SOURCE, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: 'house-form-point', type: 'circle', source: SOURCE, paint: { 'circle-radius': 9, 'circle-color': '#ff8f00', 'circle-stroke-color': '#fff', 'circle-stroke-width': 3 } });
  map.on('click', (e) => {
    if (!state || state.saved) return;
    setLocation([e.lngLat.lng, e.lngLat.lat]);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state && !document.querySelector('dialog[open]')) closeHouseForm();
  });
  onLangChange(() => { if (state) render(); });
  // For the browser tests: where the house is put.
  window.vtHouseForm = { location: () => state?.location || null };
}

/** Opens the panel: for a new house, or to change house (its view from GET /api/v1/packing-houses/{id}). */
export function startHouseForm(house = null) {
  if (state) closeHouseForm();
  state = { house, location: house?.location || null, saved: null, message: null, values: { name: house?.name || '', address: '', capacity_tpd: '' } };
  sheet.hidden = false;
  document.body.classList.add('editing', 'placing-house');
  render();
  // Keeps the place clear of the panel (beside it, or above it on a phone).
  const m = map.getContainer().getBoundingClientRect();
  const r = sheet.getBoundingClientRect();
  map.easeTo({ padding: isPhone() ? { top: 0, left: 0, right: 0, bottom: Math.max(0, Math.round(m.bottom - r.top)) } : { top: 0, left: 0, bottom: 0, right: Math.max(0, Math.round(m.right - r.left)) }, duration: 0 });
  if (state.location) map.easeTo({ center: state.location, zoom: Math.max(map.getZoom(), 15), duration: 0 });
  paint();
}

/** Closes the panel. */
export function closeHouseForm() {
  if (!state) return;
  state = null;
  sheet.hidden = true;
  sheet.replaceChildren();
  document.body.classList.remove('editing', 'placing-house');
  paint();
  map.easeTo({ padding: { top: 0, left: 0, right: 0, bottom: 0 }, duration: 0 });
}

function setLocation(ll) {
  keepValues();
  state.location = [Number(ll[0].toFixed(7)), Number(ll[1].toFixed(7))];
  state.message = null;
  paint();
  render();
}

function paint() {
  const features = state?.location ? [{ type: 'Feature', geometry: { type: 'Point', coordinates: state.location }, properties: {} }] : [];
  map.getSource(SOURCE)?.setData({ type: 'FeatureCollection', features });
}

function keepValues() {
  const f = sheet.querySelector('form');
  if (!f || !state) return;
  for (const k of ['name', 'address', 'capacity_tpd']) state.values[k] = f.elements[k].value;
}

function gps() {
  if (!navigator.geolocation) return;
  keepValues();
  state.locating = true;
  render();
  navigator.geolocation.getCurrentPosition((p) => {
    if (!state) return;
    state.locating = false;
    setLocation([p.coords.longitude, p.coords.latitude]);
    map.easeTo({ center: state.location, zoom: Math.max(map.getZoom(), 16) });
  }, (e) => {
    if (!state) return;
    state.locating = false;
    state.message = { kind: 'error', text: e.message || String(e.code) };
    render();
  }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
}

async function save(form) {
  keepValues();
  const s = state;
  clearMarks(form);
  const v = s.values;
  if (!v.name.trim()) s.message = { kind: 'error', text: t('house.needName') };
  else if (!s.location) s.message = { kind: 'error', text: t('house.needLocation') };
  if (!v.name.trim() || !s.location) return render();
  const body = { name: v.name.trim(), location: s.location };
  if (v.address.trim()) body.address = v.address.trim();
  const cap = parseNum(v.capacity_tpd);
  if (cap !== undefined) body.capacity_tpd = Number.isNaN(cap) ? v.capacity_tpd : cap;
  s.saving = true;
  s.message = null;
  render();
  try {
    const h = s.house?.id ? await api('PATCH', `/api/v1/packing-houses/${s.house.id}`, body) : await api('POST', '/api/v1/packing-houses', body);
    if (state !== s) return;
    s.saving = false;
    s.saved = h;
    s.message = { kind: 'ok', text: t('house.saved', { name: h.name }) };
    reloadTiles(map);
    hooks.onSaved?.(h);
    render();
  } catch (err) {
    if (state !== s) return;
    s.saving = false;
    s.message = { kind: 'error', err };
    render();
  }
}

function render() {
  if (!state) return;
  const s = state;
  const head = el('div', { class: 'details-head' },
    el('div', {}, el('p', { class: 'kicker', text: t('house.title') }), el('h2', { class: 'title', text: s.saved?.name || (s.house ? t('house.edit') : t('house.new')) })),
    el('button', { type: 'button', class: 'icon close', 'aria-label': t('codes.close'), onclick: () => closeHouseForm() }, '×'));
  const body = el('div', { class: 'details-body' });
  if (s.saved) {
    body.append(el('p', { class: 'ok house-saved', role: 'status', text: s.message.text }),
      el('p', { class: 'muted small', text: `${t('house.location')}: ${formatLatLon(s.location[1], s.location[0])}` }),
      el('div', { class: 'editor-actions' },
        el('button', { type: 'button', class: 'cancel', text: t('codes.close'), onclick: () => closeHouseForm() }),
        el('button', { type: 'button', class: 'primary open-house', text: t('house.open'), onclick: () => { const h = s.saved; closeHouseForm(); hooks.onOpen?.(h); } })));
    sheet.replaceChildren(head, body);
    return;
  }
  const v = s.values;
  const form = el('form', { class: 'editor-form stack', novalidate: true },
    el('p', { class: 'hint editor-hint', text: t('house.locationHint') }),
    el('div', { class: 'field location' }, el('span', { text: t('house.location') }),
      el('strong', { class: 'location-value', 'data-set': s.location ? 'yes' : 'no', text: s.location ? formatLatLon(s.location[1], s.location[0]) : t('house.noLocation') })),
    el('button', { type: 'button', class: 'use-gps', disabled: !!s.locating || !navigator.geolocation, text: s.locating ? t('house.locating') : t('house.useGPS'), onclick: gps }),
    field(t('house.name'), el('input', { name: 'name', autocomplete: 'off', placeholder: t('house.namePlaceholder'), value: v.name })),
    field(t('house.address'), el('input', { name: 'address', autocomplete: 'street-address', value: v.address })),
    field(t('house.capacity'), el('input', { name: 'capacity_tpd', inputmode: 'decimal', autocomplete: 'off', value: v.capacity_tpd })),
    s.house?.id ? el('p', { class: 'muted small', text: t('house.unknownFields') }) : null);
  const msg = el('div', { class: 'editor-message' });
  if (s.message?.err) msg.append(errorBox(s.message.err, form));
  else if (s.message) msg.append(el('p', { class: s.message.kind === 'error' ? 'error' : 'ok', role: s.message.kind === 'error' ? 'alert' : 'status', text: s.message.text }));
  form.append(msg, el('div', { class: 'editor-actions' },
    el('button', { type: 'button', class: 'cancel', text: t('house.cancel'), onclick: () => closeHouseForm() }),
    el('button', { type: 'submit', class: 'primary save-house', disabled: !!s.saving, text: s.saving ? t('codes.saving') : t('house.save') })));
  form.addEventListener('submit', (e) => { e.preventDefault(); save(form); });
  sheet.replaceChildren(head, el('div', { class: 'details-body' }, form));
}

// What the editor draws on the map besides the shape being edited: overlaps with neighbours
// (red), the suggested shape (green dashes), the place of a geometry problem (a red ring),
// another version of the plot (purple dashes: an earlier one from the history, or the newer
// one someone else saved), and a GPS walk's track with its positions (kept or dropped).
import { bboxOf } from './geo.js';

const SOURCE = 'edit-marks';
let map = null;
const sets = {};

const LAYERS = [
  { id: 'edit-overlap-fill', type: 'fill', filter: ['==', ['get', 'kind'], 'overlap'], paint: { 'fill-color': '#e53935', 'fill-opacity': 0.55 } },
  { id: 'edit-overlap-line', type: 'line', filter: ['==', ['get', 'kind'], 'overlap'], paint: { 'line-color': '#b71c1c', 'line-width': 2 } },
  { id: 'edit-suggested', type: 'line', filter: ['==', ['get', 'kind'], 'suggested'], paint: { 'line-color': '#2e7d32', 'line-width': 3, 'line-dasharray': [2, 1.5] } },
  { id: 'edit-other', type: 'line', filter: ['==', ['get', 'kind'], 'other'], paint: { 'line-color': '#7b1fa2', 'line-width': 3, 'line-dasharray': [1.5, 1.2] } },
  { id: 'edit-walk-line', type: 'line', filter: ['==', ['get', 'kind'], 'track'], paint: { 'line-color': '#1565c0', 'line-width': 3 } },
  { id: 'edit-walk-fix', type: 'circle', filter: ['==', ['get', 'kind'], 'fix'],
    paint: { 'circle-radius': 5, 'circle-color': ['case', ['get', 'kept'], '#1565c0', '#ffffff'], 'circle-stroke-color': ['case', ['get', 'kept'], '#ffffff', '#e53935'], 'circle-stroke-width': 2 } },
  { id: 'edit-problem', type: 'circle', filter: ['==', ['get', 'kind'], 'problem'],
    paint: { 'circle-radius': 11, 'circle-color': 'rgba(229,57,53,0.25)', 'circle-stroke-color': '#e53935', 'circle-stroke-width': 3 } },
];

/** Adds the marks' source and layers to m (once). */
export function initMarks(m) {
  map = m;
  if (map.getSource(SOURCE)) return;
  map.addSource(SOURCE, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  for (const l of LAYERS) map.addLayer({ ...l, source: SOURCE });
}

function render() {
  if (!map?.getSource(SOURCE)) return;
  map.getSource(SOURCE).setData({ type: 'FeatureCollection', features: Object.values(sets).flat() });
}

/** Replaces the marks of a kind (overlap, suggested, problem, other, track, fix) with geometries. */
export function setMarks(kind, items) {
  sets[kind] = (items || []).filter(Boolean).map((it) => ({
    type: 'Feature', geometry: it.geometry || it, properties: { kind, ...(it.properties || {}) },
  }));
  render();
}

/** Removes every mark, or those of the kinds named. */
export function clearMarks(...kinds) {
  for (const k of kinds.length ? kinds : Object.keys(sets)) delete sets[k];
  render();
}

/** The marks of a kind (for the browser tests and the editor). */
export function marksOf(kind) {
  return sets[kind] || [];
}

/**
 * Brings geometries into view when any lies outside it (an earlier outline may lie away from
 * today's), keeping clear of the panels (padding as for fitBounds).
 */
export function bringIntoView(geometries, padding) {
  if (!map || !geometries.length) return;
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const g of geometries) {
    const [w, s, e, n] = bboxOf(g);
    b[0] = Math.min(b[0], w); b[1] = Math.min(b[1], s); b[2] = Math.max(b[2], e); b[3] = Math.max(b[3], n);
  }
  const v = map.getBounds();
  if (b[0] >= v.getWest() && b[2] <= v.getEast() && b[1] >= v.getSouth() && b[3] <= v.getNorth()) return;
  map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding, maxZoom: 18 });
}

// The MapLibre map: the server's style, controls, the cursor-coordinates readout, layer groups,
// the highlight of the selected feature and which feature a click or tap picks.
import { Map as MapLibre, NavigationControl, GeolocateControl, ScaleControl, setWorkerUrl } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { t, formatLatLon, onLangChange } from './i18n.js';
import { setStyleMetadata } from './lookups.js';

setWorkerUrl(new URL(workerUrl, location.href).href);

/** The layer groups of the layer switcher: each group's key, label key and style layer ids. */
export const GROUPS = [
  { key: 'plots', label: 'layers.plots', layers: ['plot-density', 'plots-fill', 'plots-line', 'my-plots', 'selected-plot'] },
  { key: 'risk', label: 'layers.risk', layers: ['plots-risk'] },
  { key: 'growingAreas', label: 'layers.growingAreas', layers: ['growing-areas-fill', 'growing-areas-line', 'selected-growing_area'] },
  { key: 'packingHouses', label: 'layers.packingHouses', layers: ['packing-houses', 'selected-packing_house'] },
  { key: 'livestock', label: 'layers.livestock', layers: ['livestock', 'selected-livestock'] },
  { key: 'feedMills', label: 'layers.feedMills', layers: ['feed-mills', 'selected-feed_mill'] },
  { key: 'boundaries', label: 'layers.boundaries', layers: ['communes-fill', 'communes-line', 'provinces-fill', 'provinces-line', 'selected-commune'] },
];

// What a click picks, best first: points (found within a few pixels), then areas under the pointer.
const POINT_LAYERS = [['packing-houses', 'packing_house'], ['livestock', 'livestock'], ['feed-mills', 'feed_mill']];
const AREA_LAYERS = [['plots-fill', 'plot'], ['growing-areas-fill', 'growing_area'], ['communes-fill', 'commune']];

// The highlight of the selected feature, per kind: its source and how it is drawn. Communes
// have no feature id in the tiles, so they are matched by code.
const HIGHLIGHT = {
  plot: { source: 'plots', type: 'line' },
  growing_area: { source: 'growing_areas', type: 'line' },
  commune: { source: 'communes', type: 'line', key: 'code' },
  packing_house: { source: 'packing_houses', type: 'circle' },
  livestock: { source: 'livestock', type: 'circle' },
  feed_mill: { source: 'feed_mills', type: 'circle' },
};
const HIGHLIGHT_COLOR = '#1565c0';
const NOTHING = ['==', ['id'], -1];

/** Whether the screen is phone-sized: panels then become bottom sheets. */
export function isPhone() {
  return window.matchMedia('(max-width: 600px)').matches;
}

function controlStrings() {
  return {
    'NavigationControl.ZoomIn': t('ctrl.zoomIn'),
    'NavigationControl.ZoomOut': t('ctrl.zoomOut'),
    'NavigationControl.ResetBearing': t('ctrl.resetBearing'),
    'GeolocateControl.FindMyLocation': t('ctrl.locate'),
    'GeolocateControl.LocationNotAvailable': t('ctrl.noLocation'),
    'Map.Title': t('map.title'),
  };
}

// MapLibre reads its UI strings when a control is added; a language switch rewrites them in place.
function localiseControls(container) {
  const titles = { 'zoom-in': 'ctrl.zoomIn', 'zoom-out': 'ctrl.zoomOut', compass: 'ctrl.resetBearing', geolocate: 'ctrl.locate' };
  for (const [cls, key] of Object.entries(titles)) {
    container.querySelectorAll(`.maplibregl-ctrl-${cls}`).forEach((b) => {
      const text = cls === 'geolocate' && b.disabled ? t('ctrl.noLocation') : t(key);
      b.title = text;
      b.setAttribute('aria-label', text);
    });
  }
  container.querySelector('.maplibregl-canvas')?.setAttribute('aria-label', t('map.title'));
}

function addHighlightLayers(map) {
  for (const [kind, h] of Object.entries(HIGHLIGHT)) {
    const paint = h.type === 'line'
      ? { 'line-color': HIGHLIGHT_COLOR, 'line-width': kind === 'plot' ? 3 : 3.5 }
      : { 'circle-color': 'rgba(0,0,0,0)', 'circle-radius': 12, 'circle-stroke-color': HIGHLIGHT_COLOR, 'circle-stroke-width': 3 };
    map.addLayer({ id: `selected-${kind}`, type: h.type, source: h.source, 'source-layer': h.source, filter: NOTHING, paint });
  }
}

/** Outlines the selected feature of a kind ("plot", "growing_area", ...) and no other; null clears. */
export function highlight(map, kind, feature) {
  for (const [k, h] of Object.entries(HIGHLIGHT)) {
    let filter = NOTHING;
    if (k === kind && feature) filter = h.key ? ['==', ['get', h.key], feature.properties[h.key]] : ['==', ['id'], Number(feature.id)];
    if (map.getLayer(`selected-${k}`)) map.setFilter(`selected-${k}`, filter);
  }
}

/** The feature a click at point picks, as {kind, feature}, or null: points before areas. */
export function pick(map, point, touch = false) {
  const r = touch ? 16 : 8;
  const have = (layers) => layers.filter(([id]) => map.getLayer(id)).map(([id]) => id);
  const near = map.queryRenderedFeatures([[point.x - r, point.y - r], [point.x + r, point.y + r]], { layers: have(POINT_LAYERS) });
  const under = map.queryRenderedFeatures(point, { layers: have(AREA_LAYERS) });
  for (const [id, kind] of [...POINT_LAYERS, ...AREA_LAYERS]) {
    const f = [...near, ...under].find((x) => x.layer.id === id);
    if (f) return { kind, feature: f };
  }
  return null;
}

/** Fetches the registry's vector tiles again, so that the map shows what was just written. */
export function reloadTiles(map) {
  if (!map) return;
  // A new address for every tile: MapLibre then drops what it decoded before (reloading the
  // same addresses kept showing a plot that a split had retired, though the server sent the
  // new tile). The server ignores the parameter; its cache and ETags still apply.
  const stamp = `r=${Date.now().toString(36)}`;
  for (const [id, s] of Object.entries(map.getStyle().sources)) {
    if (s.type !== 'vector') continue;
    const src = map.getSource(id);
    if (src?.tiles && src.setTiles) src.setTiles(src.tiles.map((u) => u.replace(/([?&])r=[^&]*/, '$1' + stamp).replace(/^([^?]*)$/, `$1?${stamp}`)));
    else if (src?.url && src.setUrl) src.setUrl(src.url);
  }
}

/** Shows or hides every layer of a group of GROUPS. */
export function setGroupVisible(map, key, visible) {
  const group = GROUPS.find((g) => g.key === key);
  for (const id of group?.layers || []) {
    if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
  }
}

/** Whether a group's first existing layer is shown. */
export function groupVisible(map, key) {
  const id = GROUPS.find((g) => g.key === key)?.layers.find((l) => map.getLayer(l));
  return !!id && map.getLayoutProperty(id, 'visibility') !== 'none';
}

/**
 * Padding for fitBounds that keeps a shape clear of the panels: the details panel when one is
 * (about to be) open, at the right or as a bottom sheet on phones, and an open layer panel.
 */
export function viewPadding(withDetails) {
  if (isPhone()) return { top: 110, left: 24, right: 24, bottom: withDetails ? Math.round(window.innerHeight * 0.5) : 40 };
  const layers = document.getElementById('layers');
  const left = layers && !layers.hidden ? layers.offsetLeft + layers.offsetWidth + 30 : 40;
  return { top: 80, left, bottom: 40, right: withDetails ? 420 : 60 };
}

/**
 * Creates the map in container from the server's style, with navigation, geolocation, scale and
 * the coordinates readout (coordsEl), and resolves with it once the style has loaded. The map
 * follows the page's hash (#zoom/lat/lon) and is exposed as window.vtMap for the browser tests.
 */
export function createMap(container, coordsEl) {
  // Read before MapLibre writes the view into the hash: with no view named, the map frames the
  // registry's plots once the style (which carries their extent) is in.
  const namedView = /^#\d/.test(location.hash);
  const map = new MapLibre({
    container,
    style: `${location.origin}/style.json`,
    hash: true,
    attributionControl: { compact: true },
    locale: controlStrings(),
    maxPitch: 0,
  });
  map.addControl(new NavigationControl({ showCompass: true, visualizePitch: false }), 'bottom-right');
  map.addControl(new GeolocateControl({ positionOptions: { enableHighAccuracy: true }, showAccuracyCircle: true }), 'bottom-right');
  map.addControl(new ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-left');
  map.dragRotate.disable();
  map.touchZoomRotate.disableRotation();

  let cursor = null;
  const showCoords = () => { if (cursor) coordsEl.textContent = formatLatLon(cursor.lat, cursor.lng); };
  map.on('mousemove', (e) => {
    cursor = e.lngLat;
    showCoords();
    const over = pick(map, e.point);
    map.getCanvas().style.cursor = over ? 'pointer' : '';
  });
  onLangChange(() => { showCoords(); localiseControls(container); });

  return new Promise((resolve, reject) => {
    // Until the style is in, an error means there is no map; later ones (a tile) are MapLibre's to log.
    const failed = (e) => { map.off('error', failed); reject(e.error || new Error('style.json')); };
    map.on('error', failed);
    map.once('style.load', () => map.off('error', failed));
    map.once('load', () => {
      const metadata = map.getStyle().metadata || {};
      setStyleMetadata(metadata);
      const b = metadata['vungtrong:bounds'];
      if (!namedView && b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: viewPadding(false), maxZoom: 15, animate: false });
      addHighlightLayers(map);
      localiseControls(container);
      window.vtMap = map;
      resolve(map);
    });
  });
}

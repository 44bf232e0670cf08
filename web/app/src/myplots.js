// A farmer's own plots: a GeoJSON source and layer "my-plots" (a bold outline over the tiles)
// filled when a farmer signs in and emptied when they sign out, and a button that shows them.
import { api } from './api.js';
import { viewPadding } from './map.js';

const EMPTY = { type: 'FeatureCollection', features: [] };
let latest = 0;
let data = EMPTY;

// The [minLon, minLat, maxLon, maxLat] of every coordinate in a feature collection.
function bounds(fc) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
      b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else c.forEach(walk);
  };
  fc.features.forEach((f) => f.geometry && walk(f.geometry.coordinates));
  return b[0] <= b[2] ? b : null;
}

/** Whether the signed-in farmer's plots are known and plot id is not one of them. */
export function notMine(id) {
  return farmerSignedIn && !data.features?.some((f) => String(f.id) === String(id));
}
let farmerSignedIn = false;

/** Adds the empty "my-plots" source and layer to map and wires button to fit the map to them. */
export function initMyPlots(map, button) {
  map.addSource('my-plots', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'my-plots', type: 'line', source: 'my-plots', paint: { 'line-color': '#e65100', 'line-width': 3.5 } }, 'selected-plot');
  button.addEventListener('click', () => {
    const b = bounds(data);
    if (b) map.fitBounds(b, { padding: viewPadding(false), maxZoom: 17 });
  });
}

/** Shows the signed-in farmer's plots (session s), or none for anyone else; the button follows. */
export async function updateMyPlots(map, button, s) {
  const mine = ++latest;
  let next = EMPTY;
  if (s?.signed_in && s.user?.role === 'farmer') {
    try {
      next = (await api('GET', '/api/v1/plots?limit=1000')) || EMPTY;
    } catch {
      next = EMPTY;
    }
  }
  if (mine !== latest) return;
  data = next;
  farmerSignedIn = !!(s?.signed_in && s.user?.role === 'farmer');
  map.getSource('my-plots')?.setData(data);
  button.hidden = !data.features?.length;
}

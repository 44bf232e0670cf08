// Snapping for the editor: the pointer is pulled onto the vertices and edges of neighbouring
// plots (their exact coordinates, read from the API, not the rounded ones of the vector tiles)
// and of commune boundaries (from the map's tiles), within a few pixels, so that two neighbours
// drawn one after the other share an edge exactly. The server snaps once more within 1 cm,
// which removes what floating point leaves.
import { api } from '../api.js';
import { nearestOnSegment, along } from './geo.js';

const VERTEX_PX = 12;
const EDGE_PX = 10;

let map = null;
let rings = []; // [{ coords: [[lon, lat]…], plot }]
let exclude = null; // the plot being edited
let loadedFor = '';
let timer = 0;
let lastSnap = null;

/** Where the last snap went: {kind: 'vertex'|'edge', plot, at}; null when the pointer was free. */
export function lastSnapped() {
  return lastSnap;
}

function ringsOf(geometry, plot) {
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  const out = [];
  for (const p of polys) for (const r of p) out.push({ coords: r, plot });
  return out;
}

// Reads the plots in view (and a margin) with their exact coordinates.
async function loadNeighbours() {
  if (!map || map.getZoom() < 14) {
    rings = rings.filter((r) => r.plot === 'commune');
    return;
  }
  const b = map.getBounds();
  const padX = (b.getEast() - b.getWest()) * 0.25;
  const padY = (b.getNorth() - b.getSouth()) * 0.25;
  const bbox = [b.getWest() - padX, b.getSouth() - padY, b.getEast() + padX, b.getNorth() + padY].map((v) => v.toFixed(6)).join(',');
  if (bbox === loadedFor) return;
  loadedFor = bbox;
  const next = [];
  let url = `/api/v1/plots?bbox=${bbox}&limit=1000`;
  for (let page = 0; url && page < 5; page++) {
    const fc = await api('GET', url);
    for (const f of fc.features) if (f.id !== exclude) next.push(...ringsOf(f.geometry, f.id));
    url = fc.links?.find((l) => l.rel === 'next')?.href || '';
  }
  // Commune boundaries as the tiles draw them (good to the tile's precision, about 10 cm at z16).
  for (const f of map.queryRenderedFeatures({ layers: ['communes-line'] })) {
    const g = f.geometry;
    const lines = g.type === 'LineString' ? [g.coordinates] : g.type === 'MultiLineString' ? g.coordinates
      : g.type === 'Polygon' ? g.coordinates : g.type === 'MultiPolygon' ? g.coordinates.flat() : [];
    for (const l of lines) next.push({ coords: l, plot: 'commune' });
  }
  rings = next;
}

/** Starts snapping on m, leaving out the plot being edited (exceptId); loads the neighbours. */
export async function startSnapping(m, exceptId = null) {
  map = m;
  exclude = exceptId;
  loadedFor = '';
  map.on('moveend', onMove);
  try {
    await loadNeighbours();
  } catch {
    // Without neighbours there is nothing to snap to; drawing still works.
  }
}

function onMove() {
  clearTimeout(timer);
  timer = setTimeout(() => loadNeighbours().catch(() => {}), 250);
}

/** Stops snapping and forgets the neighbours. */
export function stopSnapping() {
  map?.off('moveend', onMove);
  clearTimeout(timer);
  rings = [];
  loadedFor = '';
  lastSnap = null;
}

/** The neighbours' rings (for tests and for the overlap display). */
export function neighbourCount() {
  return new Set(rings.filter((r) => r.plot !== 'commune').map((r) => r.plot)).size;
}

/**
 * terra-draw's custom snapping: the nearest neighbour vertex within VERTEX_PX of the pointer,
 * else the nearest point on a neighbour's edge within EDGE_PX, else nothing (undefined).
 */
export function snapTo(event) {
  lastSnap = null;
  if (!map || !rings.length) return undefined;
  const p = { x: event.containerX, y: event.containerY };
  const ll = map.unproject([p.x - EDGE_PX - VERTEX_PX, p.y + EDGE_PX + VERTEX_PX]);
  const ur = map.unproject([p.x + EDGE_PX + VERTEX_PX, p.y - EDGE_PX - VERTEX_PX]);
  const inBox = (c) => c[0] >= ll.lng && c[0] <= ur.lng && c[1] >= ll.lat && c[1] <= ur.lat;
  let best = null;
  let bestEdge = null;
  for (const r of rings) {
    const cs = r.coords;
    for (let i = 0; i < cs.length; i++) {
      const a = cs[i];
      const b = cs[(i + 1) % cs.length];
      if (inBox(a)) {
        const pa = map.project(a);
        const d2 = (pa.x - p.x) ** 2 + (pa.y - p.y) ** 2;
        if (d2 <= VERTEX_PX * VERTEX_PX && (!best || d2 < best.d2)) best = { d2, at: a, plot: r.plot };
      }
      if (i === cs.length - 1) continue;
      // A segment can pass the pointer with both ends outside the box: test its own box.
      if (Math.max(a[0], b[0]) < ll.lng || Math.min(a[0], b[0]) > ur.lng || Math.max(a[1], b[1]) < ll.lat || Math.min(a[1], b[1]) > ur.lat) continue;
      const n = nearestOnSegment(p, map.project(a), map.project(b));
      if (n.d2 <= EDGE_PX * EDGE_PX && (!bestEdge || n.d2 < bestEdge.d2)) bestEdge = { d2: n.d2, at: along(a, b, n.t), plot: r.plot };
    }
  }
  if (best) {
    lastSnap = { kind: 'vertex', plot: best.plot, at: best.at };
    return best.at.slice();
  }
  if (bestEdge) {
    lastSnap = { kind: 'edge', plot: bestEdge.plot, at: bestEdge.at };
    return bestEdge.at;
  }
  return undefined;
}

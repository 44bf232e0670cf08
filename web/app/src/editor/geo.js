// Small geometry helpers of the editor: a quick area while drawing (the server's figure on the
// ellipsoid replaces it a moment later), distances in metres, the nearest point on a segment
// in screen space for snapping, and the simplification of a GPS walk.

const R = 6378137; // WGS 84 semi-major axis, as the spherical area formulas use

const rad = (d) => (d * Math.PI) / 180;

/** The area of a ring of [lon, lat] on the sphere, in m² (unsigned). */
export function ringAreaM2(ring) {
  let sum = 0;
  const n = ring.length;
  if (n < 3) return 0;
  for (let i = 0; i < n; i++) {
    const [x1, y1] = ring[i];
    const [x2, y2] = ring[(i + 1) % n];
    sum += rad(x2 - x1) * (2 + Math.sin(rad(y1)) + Math.sin(rad(y2)));
  }
  return Math.abs((sum * R * R) / 2);
}

/** The area of a Polygon or MultiPolygon geometry in hectares (holes subtracted). */
export function areaHa(geometry) {
  if (!geometry) return 0;
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  let m2 = 0;
  for (const rings of polys) {
    rings.forEach((ring, i) => { m2 += (i === 0 ? 1 : -1) * ringAreaM2(ring); });
  }
  return m2 / 10000;
}

/** The distance between two [lon, lat] positions in metres (haversine). */
export function distanceM(a, b) {
  const dLat = rad(b[1] - a[1]);
  const dLon = rad(b[0] - a[0]);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a[1])) * Math.cos(rad(b[1])) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * The point of segment a-b nearest to p, all {x, y} in the same plane, with t (0 at a, 1 at b)
 * and the squared distance.
 */
export function nearestOnSegment(p, a, b) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? 0 : ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2;
  t = Math.max(0, Math.min(1, t));
  const x = a.x + t * dx;
  const y = a.y + t * dy;
  return { x, y, t, d2: (p.x - x) ** 2 + (p.y - y) ** 2 };
}

/** Position on the segment [a, b] (lon/lat) at fraction t: exact along the segment's line. */
export function along(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
}

/**
 * Simplifies an open line of [lon, lat] (Douglas-Peucker) so that no dropped position lies
 * farther than toleranceM from the simplified line (measured in a local metric plane).
 */
export function simplify(points, toleranceM) {
  if (points.length <= 2) return points.slice();
  const lat0 = rad(points[0][1]);
  const xy = points.map(([lon, lat]) => ({ x: rad(lon) * R * Math.cos(lat0), y: rad(lat) * R }));
  const keep = new Array(points.length).fill(false);
  keep[0] = keep[points.length - 1] = true;
  const stack = [[0, points.length - 1]];
  while (stack.length) {
    const [i, j] = stack.pop();
    let worst = -1;
    let worstD = 0;
    for (let k = i + 1; k < j; k++) {
      const d = Math.sqrt(nearestOnSegment(xy[k], xy[i], xy[j]).d2);
      if (d > worstD) { worstD = d; worst = k; }
    }
    if (worst > 0 && worstD > toleranceM) {
      keep[worst] = true;
      stack.push([i, worst], [worst, j]);
    }
  }
  return points.filter((_, k) => keep[k]);
}

/** The bounding box [w, s, e, n] of a geometry's positions. */
export function bboxOf(geometry) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (c) => {
    if (typeof c[0] === 'number') {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
      b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else c.forEach(visit);
  };
  visit(geometry.coordinates);
  return b;
}

/** The geometry as a Polygon when it is a MultiPolygon of one part (what the draw tool edits). */
export function asPolygon(geometry) {
  if (geometry.type === 'MultiPolygon' && geometry.coordinates.length === 1) return { type: 'Polygon', coordinates: geometry.coordinates[0] };
  return geometry;
}

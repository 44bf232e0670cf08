// Package geo holds the registry's pure geometry: the rules an incoming plot geometry must
// follow, Vietnam's extent, and conversions between GeoJSON, orb and WKB. It does no I/O; the
// checks that need an ellipsoid or the OGC validity rules (area, self-intersection) run in
// PostGIS, with the limits defined here.
package geo

import "github.com/paulmach/orb"

// SRID is the spatial reference of every stored geometry: WGS 84 longitude/latitude.
const SRID = 4326

// VietnamBound is the extent a registered geometry must lie in: the mainland and the islands
// (Hoàng Sa, Trường Sa), longitude 102°E to 118°E, latitude 6°N to 23.5°N. It is an extent, not
// a border: it only catches coordinates that cannot be Vietnamese.
var VietnamBound = orb.Bound{Min: orb.Point{102, 6}, Max: orb.Point{118, 23.5}}

// InVietnam reports whether p lies in VietnamBound.
func InVietnam(p orb.Point) bool { return VietnamBound.Contains(p) }

// Limits bounds the size of a plot geometry.
type Limits struct {
	// MaxVertices is the most positions a plot may have, all rings together.
	MaxVertices int
	// MinAreaHa and MaxAreaHa bound a plot's area in hectares (on the ellipsoid).
	MinAreaHa float64
	MaxAreaHa float64
}

// DefaultLimits returns the limits used when none are configured: 10,000 vertices (real parcels
// have 5-50; GPS walks a few hundred), 10 m² to 1,000 ha.
func DefaultLimits() Limits {
	return Limits{MaxVertices: 10000, MinAreaHa: 0.001, MaxAreaHa: 1000}
}

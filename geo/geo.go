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

// NeighbourRules say how a plot must sit among its neighbours.
type NeighbourRules struct {
	// OverlapTolerance is the share of the smaller of two plots by which their interiors may
	// overlap before a write or an import is refused: surveys of neighbouring fields overlap by
	// slivers, a plot drawn over its neighbour does not.
	OverlapTolerance float64
	// SliverM2 is the area, in square metres, under which a part of a suggested geometry (a
	// plot without the neighbours it overlapped) is dropped as a sliver.
	SliverM2 float64
	// SnapM is how close, in metres, a vertex of a written plot must be to a neighbour's vertex
	// or side to be moved exactly onto it; 0 turns snapping off.
	SnapM float64
}

// DefaultNeighbourRules returns the rules used when none are configured: overlaps up to 1% of
// the smaller plot pass, slivers under 1 m² are dropped, vertices snap within 1 cm.
func DefaultNeighbourRules() NeighbourRules {
	return NeighbourRules{OverlapTolerance: 0.01, SliverM2: 1, SnapM: 0.01}
}

// metresPerDegree is the most metres a degree of longitude or latitude spans anywhere (a
// degree of longitude at the equator).
const metresPerDegree = 111320

// SnapDegrees returns SnapM in degrees, for PostGIS's planar snapping of WGS 84 geometries:
// the degrees that are SnapM metres where a degree is longest, so that no vertex ever moves
// farther than SnapM.
func (r NeighbourRules) SnapDegrees() float64 { return r.SnapM / metresPerDegree }

// SliverWidthDegrees is the width, in degrees, under which a part of a suggested geometry is
// dropped as a sliver however long it is: about half a metre.
const SliverWidthDegrees = 0.5 / metresPerDegree

// Package farmland generates synthetic farmland: curving roads, streams and the irregular
// parcels that line them, shaped like fields digitized by Vietnamese cadastral surveyors.
//
// The generator lays out village clusters on a square spiral around a centre point. Each
// cluster has a gently curving main road with feeder roads branching off it; both sides of
// every road are lined with strip parcels whose side boundaries are shared with their
// neighbours and whose back edges follow a smooth wavy line, like a stream or a ridge.
// Parcels are filled outwards from the middle of each cluster, so a cluster looks like a
// village surrounded by its fields, with roads running on into unused land.
//
// All geometry is built in local metres around each cluster centre and converted to
// [lon, lat] (EPSG:4326) with an equirectangular approximation, which is accurate to well
// under a metre over a cluster.
package farmland

import (
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// Default values used for zero fields of Options.
const (
	// DefaultMinAreaHa is the default smallest parcel area in hectares.
	DefaultMinAreaHa = 0.05
	// DefaultMaxAreaHa is the default largest parcel area in hectares.
	DefaultMaxAreaHa = 5.0
	// DefaultClusterSpacingM is the default distance in metres between cluster centres.
	DefaultClusterSpacingM = 6000.0
	// DefaultParcelsPerCluster is the default number of parcels in each cluster.
	DefaultParcelsPerCluster = 300
)

// DefaultCenterLon and DefaultCenterLat give the centre used when Options.Center is the
// zero point: Buôn Ma Thuột, Đắk Lắk, in the coffee and durian highlands.
const (
	DefaultCenterLon = 108.05
	DefaultCenterLat = 12.68
)

// Sentinel errors returned (possibly wrapped) by Generate and Stream.
var (
	// ErrCount is returned when Options.Count is not positive.
	ErrCount = errors.New("farmland: count must be positive")
	// ErrAreaRange is returned when the area bounds are negative, not finite, smaller than
	// one square metre or when MinAreaHa exceeds MaxAreaHa.
	ErrAreaRange = errors.New("farmland: invalid parcel area range")
	// ErrCenter is returned when Options.Center is not a usable [lon, lat] point.
	ErrCenter = errors.New("farmland: invalid center")
	// ErrSpacing is returned when Options.ClusterSpacingM is negative, not finite or too
	// small to hold a road system.
	ErrSpacing = errors.New("farmland: invalid cluster spacing")
	// ErrParcelsPerCluster is returned when Options.ParcelsPerCluster is negative.
	ErrParcelsPerCluster = errors.New("farmland: parcels per cluster must not be negative")
	// ErrUnplaceable is returned when the requested parcels cannot be placed, for example
	// because parcels are too large for the cluster spacing or the clusters would run past
	// the valid latitude range.
	ErrUnplaceable = errors.New("farmland: cannot place the requested parcels")
)

// Options controls a generation run. Zero values take the documented defaults.
type Options struct {
	// Seed is the random seed; the same seed and options give identical output (on a
	// given CPU architecture: compilers may fuse floating-point operations differently
	// elsewhere).
	Seed int64
	// Center is the [lon, lat] centre of the area to fill; the zero point means
	// [DefaultCenterLon, DefaultCenterLat].
	Center orb.Point
	// Count is the number of parcels wanted; exactly this many are returned unless that is
	// impossible, in which case an error is returned.
	Count int
	// MinAreaHa is the smallest parcel area in hectares; default 0.05.
	MinAreaHa float64
	// MaxAreaHa is the largest parcel area in hectares; default 5.
	MaxAreaHa float64
	// ClusterSpacingM is the distance between village clusters (feeder-road systems);
	// default 6000. Clusters are laid out on a square spiral around Center so any Count
	// fits. It must be at least 500 m.
	ClusterSpacingM float64
	// ParcelsPerCluster is the number of parcels placed in each cluster before moving on
	// to the next one; default 300. A cluster whose roads cannot hold that many passes the
	// remainder on to the next cluster.
	ParcelsPerCluster int
}

// Parcel is one generated plot.
type Parcel struct {
	// Index is the position of the parcel in the output, 0..Count-1.
	Index int
	// Cluster is the cluster (village) the parcel belongs to, numbered from 0 along the spiral.
	Cluster int
	// Road is the feeder or main road the parcel fronts, numbered across the whole run;
	// it indexes the slice returned by Roads for the same options.
	Road int
	// Polygon has one exterior ring, closed (first == last) and counter-clockwise, in
	// [lon, lat] EPSG:4326, with 5-40 distinct vertices.
	Polygon orb.Polygon
	// AreaHa is the planar area in local metres divided by 10000. It is approximate;
	// authoritative areas are computed later in PostGIS.
	AreaHa float64
}

// Generate returns Count parcels. Each is a valid simple polygon (no self-intersection,
// no repeated consecutive vertices, ring closed, >= 4 positions) and no two parcels overlap
// (shared edges are allowed and expected between neighbours; interiors never intersect).
func Generate(opts Options) ([]Parcel, error) {
	if opts.Count <= 0 {
		return nil, ErrCount
	}
	out := make([]Parcel, 0, min(opts.Count, 1<<20))
	err := Stream(opts, func(p Parcel) error {
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Stream calls fn for each parcel in order without holding them all in memory at once;
// memory stays bounded by one cluster's worth of parcels, so it suits runs of millions of
// parcels. If fn returns an error the stream stops and Stream returns that error.
func Stream(opts Options, fn func(Parcel) error) error {
	cfg, err := newConfig(opts)
	if err != nil {
		return err
	}
	return newGen(&cfg).run(fn, nil)
}

// Roads returns the road centre lines of the cluster systems that Generate and Stream
// build for opts (enough clusters to hold Count parcels) as [lon, lat] line strings, for
// drawing a demo map. The slice is indexed by Parcel.Road. Invalid options give nil.
func Roads(opts Options) []orb.LineString {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil
	}
	var out []orb.LineString
	if err := newGen(&cfg).run(nil, &out); err != nil {
		return nil
	}
	return out
}

const (
	metresPerDegLat        = 110574.0
	metresPerDegLonEquator = 111320.0
	maxLatitude            = 85.0
)

// config is Options resolved to defaults and derived generation parameters (areas in m²,
// lengths in metres).
type config struct {
	seed       uint64
	lon0, lat0 float64
	count      int
	perCluster int
	spacing    float64

	minA, maxA float64 // parcel area bounds in m²
	loA, hiA   float64 // acceptance bounds in m² (equal to minA, maxA unless they coincide)

	lnMin, lnMax float64 // log area bounds
	mu           float64 // log median area
	sigB, sigI   float64 // log spread between blocks and within a block

	wMin, wMax float64 // frontage bounds
	dExtraMin  float64 // smallest parcel depth beyond the road reserve
	dCap       float64 // largest base depth of a block
	rMin       float64 // smallest road radius of curvature

	feederSpacing float64
	half          float64 // half the cluster spacing: parcels stay inside this radius
	roadRadius    float64 // roads stay inside this radius
}

func newConfig(o Options) (config, error) {
	var c config
	if o.Count <= 0 {
		return c, ErrCount
	}
	minHa, maxHa := o.MinAreaHa, o.MaxAreaHa
	if minHa == 0 {
		minHa = DefaultMinAreaHa
	}
	if maxHa == 0 {
		maxHa = DefaultMaxAreaHa
	}
	if !finite(minHa) || !finite(maxHa) || minHa < 1e-4 || maxHa < 1e-4 || minHa > maxHa {
		return c, fmt.Errorf("%w: min %g ha, max %g ha", ErrAreaRange, minHa, maxHa)
	}
	spacing := o.ClusterSpacingM
	if spacing == 0 {
		spacing = DefaultClusterSpacingM
	}
	if !finite(spacing) || spacing < 500 {
		return c, fmt.Errorf("%w: %g m", ErrSpacing, spacing)
	}
	per := o.ParcelsPerCluster
	if per < 0 {
		return c, ErrParcelsPerCluster
	}
	if per == 0 {
		per = DefaultParcelsPerCluster
	}
	center := o.Center
	if center == (orb.Point{}) {
		center = orb.Point{DefaultCenterLon, DefaultCenterLat}
	}
	if !finite(center[0]) || !finite(center[1]) || math.Abs(center[0]) > 180 || math.Abs(center[1]) > 80 {
		return c, fmt.Errorf("%w: %v", ErrCenter, center)
	}

	c.seed = uint64(o.Seed)
	c.lon0, c.lat0 = center[0], center[1]
	c.count = o.Count
	c.perCluster = per
	c.spacing = spacing
	c.minA, c.maxA = minHa*1e4, maxHa*1e4
	c.loA, c.hiA = c.minA, c.maxA
	if c.hiA-c.loA < 1e-3*c.hiA {
		mid := (c.loA + c.hiA) / 2
		c.loA, c.hiA = mid*(1-5e-4), mid*(1+5e-4)
	}

	// Log-normal area model: for the default range 0.05-5 ha this gives a median of about
	// 0.6 ha and a log spread of about 1, i.e. many 0.2-1 ha coffee plots, ~10% over 2 ha
	// and ~10% under 0.2 ha.
	c.lnMin, c.lnMax = math.Log(c.minA), math.Log(c.maxA)
	span := c.lnMax - c.lnMin
	c.mu = c.lnMin + 0.57*span
	sigma := 0.235 * span
	c.sigB, c.sigI = 0.93*sigma, 0.35*sigma

	c.wMin = min(12, 0.5*math.Sqrt(c.minA))
	c.wMax = max(150, 0.7*math.Sqrt(c.maxA))
	c.dExtraMin = max(5, 0.3*math.Sqrt(c.minA))
	c.dCap = math.Sqrt(c.maxA*4) + 6
	// Depth along a back line varies by up to ~15% around the block base depth; keep the
	// road radius well above the deepest parcel so the strips fanning out from a curve
	// never fold over.
	c.rMin = max(1000, 2.5*1.2*c.dCap)

	a90 := min(c.maxA, math.Exp(c.mu+1.2816*sigma))
	c.feederSpacing = max(200, 2.6*math.Sqrt(a90*2.75))

	c.half = spacing/2 - 1
	c.roadRadius = spacing/2 - 20
	return c, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// clusterCenter returns the [lon, lat] centre of cluster k on the square spiral. Rows of
// the spiral are ClusterSpacingM apart in latitude; clusters within a row are
// ClusterSpacingM apart in true metres at the row's latitude, so every cluster's
// equirectangular frame maps its square of side ClusterSpacingM to disjoint lon/lat boxes.
func (c *config) clusterCenter(k int) (lon, lat float64) {
	i, j := spiral(k)
	lat = c.lat0 + float64(j)*c.spacing/metresPerDegLat
	lon = c.lon0 + float64(i)*c.spacing/(metresPerDegLonEquator*math.Cos(lat*math.Pi/180))
	return lon, lat
}

// spiral returns the grid position of step k on a square spiral starting at (0, 0).
func spiral(k int) (i, j int) {
	if k <= 0 {
		return 0, 0
	}
	m := int(math.Ceil((math.Sqrt(float64(k+1)) - 1) / 2))
	for (2*m+1)*(2*m+1) <= k {
		m++
	}
	for m > 1 && (2*m-1)*(2*m-1) > k {
		m--
	}
	off := k - (2*m-1)*(2*m-1)
	side, pos := off/(2*m), off%(2*m)
	switch side {
	case 0:
		return m, -m + 1 + pos
	case 1:
		return m - 1 - pos, m
	case 2:
		return -m, m - 1 - pos
	default:
		return -m + 1 + pos, -m
	}
}

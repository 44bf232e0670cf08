package farmland

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
)

func mustGenerate(t testing.TB, opts Options) []Parcel {
	t.Helper()
	ps, err := Generate(opts)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", opts, err)
	}
	return ps
}

// openRing returns the ring of p without its closing point.
func openRing(p Parcel) []orb.Point {
	r := p.Polygon[0]
	return r[:len(r)-1]
}

// --- independent geometry helpers for the checks ---------------------------------------

func cross(o, a, b orb.Point) float64 {
	return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
}

func inBox(a, b, p orb.Point) bool {
	return math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
}

// segmentsTouch reports whether closed segments a-b and c-d share any point.
func segmentsTouch(a, b, c, d orb.Point) bool {
	d1, d2 := cross(a, b, c), cross(a, b, d)
	d3, d4 := cross(c, d, a), cross(c, d, b)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && inBox(a, b, c)) || (d2 == 0 && inBox(a, b, d)) ||
		(d3 == 0 && inBox(c, d, a)) || (d4 == 0 && inBox(c, d, b))
}

// isSimple is the O(n²) check: no two non-adjacent edges share a point.
func isSimple(ring []orb.Point) bool {
	n := len(ring)
	for i := range n {
		for j := i + 1; j < n; j++ {
			if j == i+1 || (i == 0 && j == n-1) {
				continue
			}
			if segmentsTouch(ring[i], ring[(i+1)%n], ring[j], ring[(j+1)%n]) {
				return false
			}
		}
	}
	return true
}

func ringArea(ring []orb.Point) float64 {
	s := 0.0
	o := ring[0]
	for i := 1; i+1 < len(ring); i++ {
		s += cross(o, ring[i], ring[i+1])
	}
	return s / 2
}

// areaHa converts a lon/lat ring's area to hectares with an equirectangular frame at the
// ring's mean latitude.
func areaHa(ring []orb.Point) float64 {
	lat := 0.0
	for _, p := range ring {
		lat += p[1]
	}
	lat /= float64(len(ring))
	return ringArea(ring) * metresPerDegLat * metresPerDegLonEquator * math.Cos(lat*math.Pi/180) / 1e4
}

func distToSeg(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l))
	}
	return math.Hypot(a[0]+t*dx-p[0], a[1]+t*dy-p[1])
}

// overlapEps is the boundary tolerance in degrees (about 0.1 mm).
const overlapEps = 1e-9

// strictlyInside reports whether p is inside ring and farther than overlapEps from its
// boundary.
func strictlyInside(p orb.Point, ring []orb.Point) bool {
	n := len(ring)
	in := false
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		a, b := ring[i], ring[j]
		if distToSeg(p, a, b) <= overlapEps {
			return false
		}
		if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0]-a[0])*(p[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

// boundaryEnters reports whether any part of a's boundary lies strictly inside b. Each
// edge of a is cut at every point where it meets b's boundary; between cuts an edge piece
// is either wholly inside or wholly outside b, so testing the piece midpoints suffices.
func boundaryEnters(a, b []orb.Point) bool {
	na, nb := len(a), len(b)
	ts := make([]float64, 0, 16)
	for i := range na {
		p, q := a[i], a[(i+1)%na]
		r := orb.Point{q[0] - p[0], q[1] - p[1]}
		rr := r[0]*r[0] + r[1]*r[1]
		ts = append(ts[:0], 0, 1)
		for j := range nb {
			c, d := b[j], b[(j+1)%nb]
			s := orb.Point{d[0] - c[0], d[1] - c[1]}
			den := r[0]*s[1] - r[1]*s[0]
			cp := orb.Point{c[0] - p[0], c[1] - p[1]}
			if math.Abs(den) > 1e-30 {
				t := (cp[0]*s[1] - cp[1]*s[0]) / den
				u := (cp[0]*r[1] - cp[1]*r[0]) / den
				if t > 0 && t < 1 && u >= -1e-12 && u <= 1+1e-12 {
					ts = append(ts, t)
				}
				continue
			}
			// Parallel: cut at the projections of c and d.
			for _, e := range [2]orb.Point{c, d} {
				t := ((e[0]-p[0])*r[0] + (e[1]-p[1])*r[1]) / rr
				if t > 0 && t < 1 {
					ts = append(ts, t)
				}
			}
		}
		sort.Float64s(ts)
		for k := 1; k < len(ts); k++ {
			if ts[k]-ts[k-1] < 1e-12 {
				continue
			}
			m := (ts[k] + ts[k-1]) / 2
			if strictlyInside(orb.Point{p[0] + m*r[0], p[1] + m*r[1]}, b) {
				return true
			}
		}
	}
	return false
}

// interiorPoint returns a point strictly inside a simple counter-clockwise ring: the
// centroid of an ear (a convex vertex whose triangle holds no other vertex).
func interiorPoint(ring []orb.Point) (orb.Point, bool) {
	n := len(ring)
	for i := range n {
		a, b, c := ring[(i+n-1)%n], ring[i], ring[(i+1)%n]
		if cross(a, b, c) <= 0 {
			continue
		}
		ear := true
		for k := range n {
			if k == i || k == (i+1)%n || k == (i+n-1)%n {
				continue
			}
			p := ring[k]
			if cross(a, b, p) >= 0 && cross(b, c, p) >= 0 && cross(c, a, p) >= 0 {
				ear = false
				break
			}
		}
		if ear {
			return orb.Point{(a[0] + b[0] + c[0]) / 3, (a[1] + b[1] + c[1]) / 3}, true
		}
	}
	return orb.Point{}, false
}

// interiorsOverlap reports whether the interiors of two simple CCW rings intersect.
// Shared edges and shared vertices do not count. If neither boundary enters the other's
// interior, the interiors are either disjoint or nested (or equal), which an interior
// point of each settles.
func interiorsOverlap(a, b []orb.Point) bool {
	if boundaryEnters(a, b) || boundaryEnters(b, a) {
		return true
	}
	if p, ok := interiorPoint(a); ok && strictlyInside(p, b) {
		return true
	}
	if p, ok := interiorPoint(b); ok && strictlyInside(p, a) {
		return true
	}
	return false
}

// overlappingPairs finds candidate pairs by sweeping bounding boxes and returns the
// index pairs whose interiors intersect.
func overlappingPairs(ps []Parcel) [][2]int {
	type item struct {
		b orb.Bound
		i int
	}
	items := make([]item, len(ps))
	for i, p := range ps {
		items[i] = item{p.Polygon.Bound(), i}
	}
	sort.Slice(items, func(x, y int) bool { return items[x].b.Min[0] < items[y].b.Min[0] })
	var bad [][2]int
	for x := range items {
		for y := x + 1; y < len(items) && items[y].b.Min[0] <= items[x].b.Max[0]; y++ {
			if !items[x].b.Intersects(items[y].b) {
				continue
			}
			i, j := items[x].i, items[y].i
			if interiorsOverlap(openRing(ps[i]), openRing(ps[j])) {
				bad = append(bad, [2]int{min(i, j), max(i, j)})
			}
		}
	}
	return bad
}

// --- tests --------------------------------------------------------------------------------

func TestInteriorsOverlapHelper(t *testing.T) {
	sq := func(x, y, s float64) []orb.Point {
		return []orb.Point{{x, y}, {x + s, y}, {x + s, y + s}, {x, y + s}}
	}
	tests := []struct {
		name string
		a, b []orb.Point
		want bool
	}{
		{"shared edge", sq(0, 0, 1), sq(1, 0, 1), false},
		{"shared vertex", sq(0, 0, 1), sq(1, 1, 1), false},
		{"partial shared edge", sq(0, 0, 1), sq(1, 0.5, 1), false},
		{"disjoint", sq(0, 0, 1), sq(3, 0, 1), false},
		{"crossing", sq(0, 0, 1), sq(0.5, 0.5, 1), true},
		{"nested", sq(0, 0, 3), sq(1, 1, 1), true},
		{"nested sharing edges", sq(0, 0, 2), sq(0, 0, 1), true},
		{"identical", sq(0, 0, 1), sq(0, 0, 1), true},
		{"diagonal through vertices", sq(0, 0, 1), []orb.Point{{0, 0}, {2, 0}, {1, 1}}, true},
		{"vertex on edge, outside", sq(0, 0, 1), []orb.Point{{1, 0.5}, {2, 0}, {2, 1}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := interiorsOverlap(tt.a, tt.b); got != tt.want {
				t.Errorf("interiorsOverlap = %v, want %v", got, tt.want)
			}
			if got := interiorsOverlap(tt.b, tt.a); got != tt.want {
				t.Errorf("interiorsOverlap (swapped) = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDeterminism(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"small", Options{Seed: 1, Count: 50}},
		{"two clusters", Options{Seed: 42, Count: 450}},
		{"custom", Options{Seed: -9, Count: 200, MinAreaHa: 0.1, MaxAreaHa: 2, ClusterSpacingM: 3000, ParcelsPerCluster: 80}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustGenerate(t, tt.opts)
			b := mustGenerate(t, tt.opts)
			if diff := cmp.Diff(a, b); diff != "" {
				t.Fatalf("same options gave different output (-first +second):\n%s", diff)
			}
			if diff := cmp.Diff(Roads(tt.opts), Roads(tt.opts)); diff != "" {
				t.Fatalf("Roads not deterministic:\n%s", diff)
			}
			other := tt.opts
			other.Seed++
			c := mustGenerate(t, other)
			if cmp.Equal(a, c) {
				t.Fatal("different seeds gave identical output")
			}
		})
	}
}

func TestCountAndIndices(t *testing.T) {
	for _, n := range []int{1, 7, 299, 300, 301, 1000} {
		opts := Options{Seed: int64(n), Count: n}
		ps := mustGenerate(t, opts)
		if len(ps) != n {
			t.Fatalf("Count %d: got %d parcels", n, len(ps))
		}
		roads := Roads(opts)
		prevCluster := 0
		for i, p := range ps {
			if p.Index != i {
				t.Fatalf("Count %d: parcel %d has Index %d", n, i, p.Index)
			}
			if p.Cluster < prevCluster {
				t.Fatalf("Count %d: cluster numbers go backwards at %d", n, i)
			}
			prevCluster = p.Cluster
			if p.Road < 0 || p.Road >= len(roads) {
				t.Fatalf("Count %d: parcel %d has Road %d, only %d roads", n, i, p.Road, len(roads))
			}
		}
		if want := (n - 1) / DefaultParcelsPerCluster; ps[n-1].Cluster != want {
			t.Errorf("Count %d: last cluster %d, want %d", n, ps[n-1].Cluster, want)
		}
	}
}

// checkParcels verifies the per-polygon guarantees.
func checkParcels(t *testing.T, ps []Parcel, minHa, maxHa float64) {
	t.Helper()
	for _, p := range ps {
		if len(p.Polygon) != 1 {
			t.Fatalf("parcel %d: %d rings", p.Index, len(p.Polygon))
		}
		r := p.Polygon[0]
		if len(r) < 4 || r[0] != r[len(r)-1] {
			t.Fatalf("parcel %d: ring not closed or too short: %v", p.Index, r)
		}
		open := r[:len(r)-1]
		if n := len(open); n < 5 || n > 40 {
			t.Fatalf("parcel %d: %d vertices", p.Index, n)
		}
		for i := range open {
			if open[i] == open[(i+1)%len(open)] {
				t.Fatalf("parcel %d: repeated consecutive vertex %v", p.Index, open[i])
			}
		}
		if !isSimple(open) {
			t.Fatalf("parcel %d: not simple: %v", p.Index, r)
		}
		if ringArea(open) <= 0 {
			t.Fatalf("parcel %d: not counter-clockwise", p.Index)
		}
		a := areaHa(open)
		if a < minHa*0.99 || a > maxHa*1.01 {
			t.Fatalf("parcel %d: area %.4f ha outside [%g, %g]", p.Index, a, minHa, maxHa)
		}
		if math.Abs(a-p.AreaHa) > 0.01*a {
			t.Fatalf("parcel %d: AreaHa %.4f, polygon area %.4f", p.Index, p.AreaHa, a)
		}
	}
}

func TestPolygonValidity(t *testing.T) {
	tests := []struct {
		name         string
		opts         Options
		minHa, maxHa float64
	}{
		{"defaults", Options{Seed: 3, Count: 1500}, 0.05, 5},
		{"small plots", Options{Seed: 4, Count: 800, MinAreaHa: 0.01, MaxAreaHa: 0.5}, 0.01, 0.5},
		{"large estates", Options{Seed: 5, Count: 500, MinAreaHa: 1, MaxAreaHa: 20}, 1, 20},
		{"fixed area", Options{Seed: 6, Count: 300, MinAreaHa: 1, MaxAreaHa: 1}, 1, 1},
		{"dense clusters", Options{Seed: 7, Count: 600, ClusterSpacingM: 2500, ParcelsPerCluster: 100}, 0.05, 5},
		{"overfull clusters", Options{Seed: 8, Count: 1500, ClusterSpacingM: 2000, ParcelsPerCluster: 5000}, 0.05, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := mustGenerate(t, tt.opts)
			if len(ps) != tt.opts.Count {
				t.Fatalf("got %d parcels, want %d", len(ps), tt.opts.Count)
			}
			checkParcels(t, ps, tt.minHa, tt.maxHa)
			if bad := overlappingPairs(ps); len(bad) > 0 {
				t.Fatalf("%d overlapping pairs, first %v", len(bad), bad[0])
			}
		})
	}
}

func TestAreaDistribution(t *testing.T) {
	ps := mustGenerate(t, Options{Seed: 11, Count: 2000})
	areas := make([]float64, len(ps))
	over2, under02 := 0, 0
	for i, p := range ps {
		areas[i] = p.AreaHa
		if p.AreaHa > 2 {
			over2++
		}
		if p.AreaHa < 0.2 {
			under02++
		}
	}
	slices.Sort(areas)
	median := areas[len(areas)/2]
	t.Logf("median %.3f ha, >2 ha %.1f%%, <0.2 ha %.1f%%", median,
		100*float64(over2)/float64(len(ps)), 100*float64(under02)/float64(len(ps)))
	if median < 0.3 || median > 1.5 {
		t.Errorf("median area %.3f ha, want 0.3-1.5", median)
	}
	if over2*20 < len(ps) {
		t.Errorf("only %d of %d parcels over 2 ha, want >= 5%%", over2, len(ps))
	}
	if under02*20 < len(ps) {
		t.Errorf("only %d of %d parcels under 0.2 ha, want >= 5%%", under02, len(ps))
	}
}

func TestNoOverlaps(t *testing.T) {
	for _, seed := range []int64{0, 21, 1234567} {
		ps := mustGenerate(t, Options{Seed: seed, Count: 3000})
		bad := overlappingPairs(ps)
		for k, pair := range bad {
			if k == 5 {
				break
			}
			t.Errorf("seed %d: parcels %d and %d overlap:\n%v\n%v", seed, pair[0], pair[1],
				ps[pair[0]].Polygon[0], ps[pair[1]].Polygon[0])
		}
		if len(bad) > 0 {
			t.Fatalf("seed %d: %d overlapping pairs", seed, len(bad))
		}
		// Neighbours must really share boundaries: many pairs touch.
		shared := 0
		seen := map[orb.Point]int{}
		for _, p := range ps {
			for _, v := range openRing(p) {
				seen[v]++
			}
		}
		for _, c := range seen {
			if c > 1 {
				shared++
			}
		}
		if shared < len(ps) {
			t.Errorf("seed %d: only %d shared vertices among %d parcels", seed, shared, len(ps))
		}
	}
}

func TestRoadsStayOutsideParcels(t *testing.T) {
	opts := Options{Seed: 5, Count: 700}
	ps := mustGenerate(t, opts)
	roads := Roads(opts)
	if len(roads) == 0 {
		t.Fatal("no roads")
	}
	for _, r := range roads {
		if len(r) < 2 {
			t.Fatalf("road with %d points", len(r))
		}
	}
	for _, p := range ps {
		ring := openRing(p)
		// The parcel fronts its own road, a road reserve away from the centre line.
		if d, _ := nearestRoadSegment(roads[p.Road], ring); d < 2.5 || d > 15 {
			t.Fatalf("parcel %d is %.1f m from its road %d", p.Index, d, p.Road)
		}
		pb := p.Polygon.Bound()
		for ri, r := range roads {
			if !r.Bound().Intersects(pb) {
				continue
			}
			for i := 1; i < len(r); i++ {
				seg := []orb.Point{r[i-1], r[i]}
				if !orb.MultiPoint(seg).Bound().Intersects(pb) {
					continue
				}
				if boundaryEnters(seg, ring) {
					t.Fatalf("road %d passes through parcel %d", ri, p.Index)
				}
			}
		}
	}
}

func TestRealism(t *testing.T) {
	opts := Options{Seed: 17, Count: 1200}
	ps := mustGenerate(t, opts)
	rects := 0
	for _, p := range ps {
		ring := openRing(p)
		if len(ring) != 4 {
			continue
		}
		axis := true
		for i := range ring {
			a, b := ring[i], ring[(i+1)%4]
			if a[0] != b[0] && a[1] != b[1] {
				axis = false
			}
		}
		if axis {
			rects++
		}
	}
	if rects*20 >= len(ps) {
		t.Errorf("%d of %d parcels are axis-aligned rectangles", rects, len(ps))
	}

	// Frontage headings: the direction (mod 180°, in 15° bins) of the stretch of road
	// each parcel fronts, i.e. the road segment nearest to the parcel.
	roads := Roads(opts)
	for cluster := range 4 {
		bins := map[int]int{}
		for _, p := range ps {
			if p.Cluster != cluster {
				continue
			}
			_, heading := nearestRoadSegment(roads[p.Road], openRing(p))
			deg := math.Mod(heading*180/math.Pi+360, 180)
			bins[int(deg/15)]++
		}
		distinct := 0
		for _, c := range bins {
			if c >= 10 {
				distinct++
			}
		}
		if distinct < 2 {
			t.Errorf("cluster %d: parcels front only %d road heading(s): %v", cluster, distinct, bins)
		}
	}
}

// nearestRoadSegment returns the distance in metres from the ring to road and the
// heading (radians, east = 0) of the nearest road segment.
func nearestRoadSegment(road orb.LineString, ring []orb.Point) (dist, heading float64) {
	kx := metresPerDegLonEquator * math.Cos(ring[0][1]*math.Pi/180)
	ky := metresPerDegLat
	m := func(p orb.Point) orb.Point { return orb.Point{p[0] * kx, p[1] * ky} }
	dist = math.Inf(1)
	for i := 1; i < len(road); i++ {
		a, b := m(road[i-1]), m(road[i])
		for _, v := range ring {
			if d := distToSeg(m(v), a, b); d < dist {
				dist, heading = d, math.Atan2(b[1]-a[1], b[0]-a[0])
			}
		}
	}
	return dist, heading
}

func TestLocation(t *testing.T) {
	center := orb.Point{108.05, 12.68}
	ps := mustGenerate(t, Options{Seed: 2, Count: 500, Center: center})
	for _, p := range ps {
		for _, v := range p.Polygon[0] {
			if math.Abs(v[0]-center[0]) > 0.2 || math.Abs(v[1]-center[1]) > 0.2 {
				t.Fatalf("parcel %d vertex %v more than 0.2° from centre", p.Index, v)
			}
		}
	}

	n := 20000
	if testing.Short() {
		n = 5000
	}
	count := 0
	err := Stream(Options{Seed: 2, Count: n, Center: center}, func(p Parcel) error {
		count++
		for _, v := range p.Polygon[0] {
			if v[0] < 102 || v[0] > 118 || v[1] < 6 || v[1] > 23.5 {
				t.Fatalf("parcel %d vertex %v outside Vietnam's box", p.Index, v)
			}
		}
		return nil
	})
	if err != nil || count != n {
		t.Fatalf("Stream: %d parcels, err %v", count, err)
	}

	// The zero centre means Đắk Lắk.
	def := mustGenerate(t, Options{Seed: 2, Count: 10})
	if v := def[0].Polygon[0][0]; math.Abs(v[0]-DefaultCenterLon) > 0.1 || math.Abs(v[1]-DefaultCenterLat) > 0.1 {
		t.Errorf("default centre: first vertex %v", v)
	}
}

func TestClustersDisjoint(t *testing.T) {
	// Every cluster stays inside its own spiral cell, so bounding boxes of different
	// clusters never overlap.
	opts := Options{Seed: 9, Count: 3000, ParcelsPerCluster: 120, ClusterSpacingM: 2500}
	ps := mustGenerate(t, opts)
	var bounds []orb.Bound
	for _, p := range ps {
		b := p.Polygon.Bound()
		if p.Cluster == len(bounds) {
			bounds = append(bounds, b)
		} else {
			bounds[p.Cluster] = bounds[p.Cluster].Union(b)
		}
	}
	for i := range bounds {
		for j := i + 1; j < len(bounds); j++ {
			if bounds[i].Intersects(bounds[j]) {
				t.Errorf("clusters %d and %d overlap: %v %v", i, j, bounds[i], bounds[j])
			}
		}
	}
}

func TestSpiral(t *testing.T) {
	seen := map[[2]int]bool{}
	prevRing := 0
	for k := range 2000 {
		i, j := spiral(k)
		if seen[[2]int{i, j}] {
			t.Fatalf("spiral(%d) = (%d, %d) repeats", k, i, j)
		}
		seen[[2]int{i, j}] = true
		ring := max(abs(i), abs(j))
		if ring < prevRing {
			t.Fatalf("spiral(%d) = (%d, %d) moves inwards", k, i, j)
		}
		prevRing = ring
		if k > 0 {
			pi, pj := spiral(k - 1)
			if ring == max(abs(pi), abs(pj)) && abs(i-pi)+abs(j-pj) != 1 {
				t.Fatalf("spiral(%d) = (%d, %d) does not follow (%d, %d)", k, i, j, pi, pj)
			}
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{"zero count", Options{}, ErrCount},
		{"negative count", Options{Count: -1}, ErrCount},
		{"min above max", Options{Count: 1, MinAreaHa: 3, MaxAreaHa: 2}, ErrAreaRange},
		{"negative area", Options{Count: 1, MinAreaHa: -1}, ErrAreaRange},
		{"NaN area", Options{Count: 1, MaxAreaHa: math.NaN()}, ErrAreaRange},
		{"tiny spacing", Options{Count: 1, ClusterSpacingM: 100}, ErrSpacing},
		{"negative per cluster", Options{Count: 1, ParcelsPerCluster: -3}, ErrParcelsPerCluster},
		{"bad centre", Options{Count: 1, Center: orb.Point{200, 10}}, ErrCenter},
		{"polar centre", Options{Count: 1, Center: orb.Point{10, 89}}, ErrCenter},
		{"parcels larger than clusters", Options{Count: 5, MinAreaHa: 5000, MaxAreaHa: 5000, ClusterSpacingM: 1000}, ErrUnplaceable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Generate(tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Generate error %v, want %v", err, tt.want)
			}
			if err := Stream(tt.opts, func(Parcel) error { return nil }); !errors.Is(err, tt.want) {
				t.Fatalf("Stream error %v, want %v", err, tt.want)
			}
			if r := Roads(tt.opts); r != nil {
				t.Fatalf("Roads returned %d roads for invalid options", len(r))
			}
		})
	}
}

func TestStreamStopsOnError(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := Stream(Options{Seed: 1, Count: 1000}, func(p Parcel) error {
		calls++
		if p.Index == 9 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Stream returned %v, want %v", err, stop)
	}
	if calls != 10 {
		t.Fatalf("fn called %d times after stopping, want 10", calls)
	}
}

func TestStreamMatchesGenerate(t *testing.T) {
	opts := Options{Seed: 77, Count: 650}
	want := mustGenerate(t, opts)
	var got []Parcel
	if err := Stream(opts, func(p Parcel) error { got = append(got, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Stream and Generate differ:\n%s", diff)
	}
}

// TestStreamBoundedMemory streams 200000 parcels and checks that the live heap does not
// grow with the number of parcels (Stream keeps only one cluster's working state).
func TestStreamBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	const n = 200000
	var ms runtime.MemStats
	var base, peak uint64
	err := Stream(Options{Seed: 1, Count: n}, func(p Parcel) error {
		if p.Index%20000 == 1000 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if p.Index == 1000 {
				base = ms.HeapAlloc
			}
			peak = max(peak, ms.HeapAlloc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("live heap: %d KiB after 1000 parcels, peak %d KiB", base/1024, peak/1024)
	// 200000 retained parcels would need well over 40 MiB.
	if peak > base+8<<20 {
		t.Fatalf("live heap grew from %d to %d bytes while streaming", base, peak)
	}
}

func BenchmarkStream(b *testing.B) {
	const n = 100000
	b.ReportAllocs()
	for b.Loop() {
		err := Stream(Options{Seed: 1, Count: n}, func(Parcel) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "parcels/s")
}

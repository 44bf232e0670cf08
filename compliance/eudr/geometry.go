package eudr

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// Coord is a position in millionths of a degree, [longitude, latitude]: exactly what six
// decimals write. Working in integers makes the checks after rounding exact: two positions are
// the same or they are not, and an orientation test has no rounding error.
type Coord struct{ X, Y int64 }

// scale turns degrees into Coord units.
const scale = 1e6

// RoundCoord returns p rounded to six decimals.
func RoundCoord(p orb.Point) Coord {
	return Coord{int64(math.Round(p[0] * scale)), int64(math.Round(p[1] * scale))}
}

// Point returns c in degrees.
func (c Coord) Point() orb.Point { return orb.Point{float64(c.X) / scale, float64(c.Y) / scale} }

// Shape is a plot's geometry as the EU system takes it: polygons without holes, each a closed
// counter-clockwise ring (RFC 7946) of at least four positions, in Coord units.
type Shape [][]Coord

// Sentinel errors of the geometry rules. Check wraps them in a *GeometryError.
var (
	// ErrHoles: a polygon has interior rings; the EU system ignores holes (and would count them
	// as production land), so they must be cut away first (the store has PostGIS do it:
	// eudr_split_holes, migration 0016).
	ErrHoles = errors.New("eudr: polygon has holes")
	// ErrEmpty: nothing is left of the geometry after rounding.
	ErrEmpty = errors.New("eudr: geometry empty after rounding")
	// ErrCollapsed: a ring has fewer than three distinct positions, or no area.
	ErrCollapsed = errors.New("eudr: ring collapsed")
	// ErrSelfIntersection: a ring crosses or touches itself.
	ErrSelfIntersection = errors.New("eudr: ring crosses or touches itself")
	// ErrSpike: a ring turns back on itself along one line (its sides overlap).
	ErrSpike = errors.New("eudr: ring sides overlap")
	// ErrPartsOverlap: two polygons of one plot overlap.
	ErrPartsOverlap = errors.New("eudr: polygons of the plot overlap")
)

// GeometryError says which rule a shape breaks, and where.
type GeometryError struct {
	Err  error
	Part int       // 0-based polygon of the shape
	At   orb.Point // [lon, lat] of the problem
}

func (e *GeometryError) Error() string {
	return fmt.Sprintf("%v (polygon %d, near %.6f, %.6f)", e.Err, e.Part+1, e.At[0], e.At[1])
}

func (e *GeometryError) Unwrap() error { return e.Err }

// RoundStats says what rounding changed.
type RoundStats struct {
	// Vertices is how many positions were dropped because rounding made them repeat the one
	// before.
	Vertices int
	// Parts is how many polygons were dropped because rounding left them without area.
	Parts int
	// AreaChange is how much rounding changed the area, relative to it (planar, in degrees:
	// the same share as on the ground, for a plot).
	AreaChange float64
}

// Round turns a plot's polygons into a Shape: every position rounded to six decimals,
// repeated consecutive positions dropped, each ring closed and counter-clockwise. A polygon
// that rounding collapses (fewer than three distinct positions, or no area) is dropped and
// counted. It returns ErrHoles for a polygon with interior rings and ErrEmpty when nothing is
// left; it does not check that the rings are simple: see Check.
func Round(mp orb.MultiPolygon) (Shape, RoundStats, error) {
	var st RoundStats
	out := make(Shape, 0, len(mp))
	var before float64
	var after int64
	for _, poly := range mp {
		if len(poly) == 0 {
			continue
		}
		if len(poly) > 1 {
			return nil, st, ErrHoles
		}
		before += math.Abs(ringArea(poly[0]))
		ring, dropped := roundRing(poly[0])
		st.Vertices += dropped
		a := area2(ring)
		if len(ring) < 4 || a == 0 {
			st.Parts++
			continue
		}
		if a < 0 {
			slices.Reverse(ring)
			a = -a
		}
		after += a
		out = append(out, ring)
	}
	if len(out) == 0 {
		return nil, st, ErrEmpty
	}
	if before > 0 {
		st.AreaChange = math.Abs(float64(after)/2/(scale*scale)-before) / before
	}
	return out, st, nil
}

// ringArea is the signed planar area of a ring in degrees², from offsets to its first position.
func ringArea(r orb.Ring) float64 {
	if len(r) < 3 {
		return 0
	}
	o := r[0]
	var s float64
	for i := 1; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		s += (a[0]-o[0])*(b[1]-o[1]) - (b[0]-o[0])*(a[1]-o[1])
	}
	return s / 2
}

// roundRing rounds a ring and drops repeated consecutive positions; the result is closed. It
// returns how many of the input's positions were dropped.
func roundRing(r orb.Ring) ([]Coord, int) {
	in := len(r)
	if in > 1 && r[0] == r[in-1] {
		in-- // the closing position
	}
	out := make([]Coord, 0, in+1)
	for _, p := range r[:in] {
		c := RoundCoord(p)
		if len(out) > 0 && out[len(out)-1] == c {
			continue
		}
		out = append(out, c)
	}
	for len(out) > 1 && out[len(out)-1] == out[0] {
		out = out[:len(out)-1]
	}
	dropped := in - len(out)
	if len(out) > 0 {
		out = append(out, out[0])
	}
	return out, dropped
}

// area2 is twice the signed area of a closed ring in Coord units² (positive counter-clockwise),
// computed from offsets to the first position so that no product overflows.
func area2(r []Coord) int64 {
	if len(r) < 4 {
		return 0
	}
	o := r[0]
	var s int64
	for i := 1; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		s += (a.X-o.X)*(b.Y-o.Y) - (b.X-o.X)*(a.Y-o.Y)
	}
	return s
}

// Check reports the first rule the shape breaks: each ring closed, of at least four positions,
// with no repeated consecutive position, no crossing or touching of itself and no spike; no two
// polygons overlapping (they may touch, and share sides: the parts of a plot whose holes were
// cut away do). It returns nil or a *GeometryError.
func (s Shape) Check() error {
	if len(s) == 0 {
		return &GeometryError{Err: ErrEmpty}
	}
	for i, r := range s {
		if err := checkRing(r); err != nil {
			err.Part = i
			return err
		}
	}
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if at, ok := overlap(s[i], s[j]); ok {
				return &GeometryError{Err: ErrPartsOverlap, Part: j, At: at.Point()}
			}
		}
	}
	return nil
}

func sign(v int64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// orient is the sign of the turn a -> b -> c: 1 left, -1 right, 0 straight.
func orient(a, b, c Coord) int {
	return sign((b.X-a.X)*(c.Y-a.Y) - (b.Y-a.Y)*(c.X-a.X))
}

// between reports whether p, on the line through a and b, lies on the segment ab.
func between(a, b, p Coord) bool {
	return min(a.X, b.X) <= p.X && p.X <= max(a.X, b.X) && min(a.Y, b.Y) <= p.Y && p.Y <= max(a.Y, b.Y)
}

// intersects reports whether segments ab and cd share any point.
func intersects(a, b, c, d Coord) bool {
	o1, o2, o3, o4 := orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
	if o1 != o2 && o3 != o4 {
		return true
	}
	return (o1 == 0 && between(a, b, c)) || (o2 == 0 && between(a, b, d)) ||
		(o3 == 0 && between(c, d, a)) || (o4 == 0 && between(c, d, b))
}

// crosses reports whether segments ab and cd cross at one point inside both.
func crosses(a, b, c, d Coord) bool {
	o1, o2, o3, o4 := orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
	return o1*o2 < 0 && o3*o4 < 0
}

type bbox struct{ minX, minY, maxX, maxY int64 }

func segBox(a, b Coord) bbox {
	return bbox{min(a.X, b.X), min(a.Y, b.Y), max(a.X, b.X), max(a.Y, b.Y)}
}

func (b bbox) meets(o bbox) bool {
	return b.minX <= o.maxX && o.minX <= b.maxX && b.minY <= o.maxY && o.minY <= b.maxY
}

func ringBox(r []Coord) bbox {
	b := bbox{math.MaxInt64, math.MaxInt64, math.MinInt64, math.MinInt64}
	for _, c := range r {
		b.minX, b.minY, b.maxX, b.maxY = min(b.minX, c.X), min(b.minY, c.Y), max(b.maxX, c.X), max(b.maxY, c.Y)
	}
	return b
}

// checkRing checks one closed ring: enough distinct positions, none repeated consecutively,
// an area, no spike (two consecutive sides folding back along one line) and no two other sides
// meeting.
func checkRing(r []Coord) *GeometryError {
	n := len(r) - 1 // sides
	if n < 3 || r[0] != r[n] {
		return &GeometryError{Err: ErrCollapsed, At: first(r)}
	}
	for i := range n {
		if r[i] == r[i+1] {
			return &GeometryError{Err: ErrCollapsed, At: r[i].Point()}
		}
	}
	if area2(r) == 0 {
		return &GeometryError{Err: ErrCollapsed, At: r[0].Point()}
	}
	// Consecutive sides meet at their shared position only, unless they fold back.
	for i := range n {
		a, b, c := r[(i+n-1)%n], r[i], r[i+1]
		if orient(a, b, c) == 0 && (b.X-a.X)*(c.X-b.X)+(b.Y-a.Y)*(c.Y-b.Y) < 0 {
			return &GeometryError{Err: ErrSpike, At: b.Point()}
		}
	}
	if n == 3 {
		return nil
	}
	// Sides that do not follow each other never meet. Sorted by their west end, each side is
	// compared with the ones that start before it ends (the sweep costs n log n where plots have
	// tens of positions, and stays fast for the rare one with thousands).
	order := make([]int, n)
	boxes := make([]bbox, n)
	for i := range n {
		order[i] = i
		boxes[i] = segBox(r[i], r[i+1])
	}
	slices.SortFunc(order, func(x, y int) int { return int(sign(boxes[x].minX - boxes[y].minX)) })
	for k, i := range order {
		for _, j := range order[k+1:] {
			if boxes[j].minX > boxes[i].maxX {
				break
			}
			if j == i+1 || i == j+1 || (i == 0 && j == n-1) || (j == 0 && i == n-1) || !boxes[i].meets(boxes[j]) {
				continue
			}
			if intersects(r[i], r[i+1], r[j], r[j+1]) {
				return &GeometryError{Err: ErrSelfIntersection, At: meeting(r[i], r[i+1], r[j], r[j+1]).Point()}
			}
		}
	}
	return nil
}

func first(r []Coord) orb.Point {
	if len(r) == 0 {
		return orb.Point{}
	}
	return r[0].Point()
}

// meeting returns a position where two segments that meet do, for the error's location.
func meeting(a, b, c, d Coord) Coord {
	for _, p := range []Coord{c, d} {
		if orient(a, b, p) == 0 && between(a, b, p) {
			return p
		}
	}
	for _, p := range []Coord{a, b} {
		if orient(c, d, p) == 0 && between(c, d, p) {
			return p
		}
	}
	// A crossing: intersect the lines (in floating point; it is only a location).
	x1, y1, x2, y2 := float64(a.X), float64(a.Y), float64(b.X), float64(b.Y)
	x3, y3, x4, y4 := float64(c.X), float64(c.Y), float64(d.X), float64(d.Y)
	den := (x1-x2)*(y3-y4) - (y1-y2)*(x3-x4)
	if den == 0 {
		return a
	}
	t := ((x1-x3)*(y3-y4) - (y1-y3)*(x3-x4)) / den
	return Coord{int64(math.Round(x1 + t*(x2-x1))), int64(math.Round(y1 + t*(y2-y1)))}
}

// overlap reports whether the interiors of two simple rings may overlap, and where: a side of
// one crossing a side of the other, or a position (or the middle of a side) of one strictly
// inside the other. Rings that only touch, or share sides, do not overlap.
func overlap(a, b []Coord) (Coord, bool) {
	ba, bb := ringBox(a), ringBox(b)
	if !ba.meets(bb) {
		return Coord{}, false
	}
	for i := 0; i+1 < len(a); i++ {
		sa := segBox(a[i], a[i+1])
		if !sa.meets(bb) {
			continue
		}
		for j := 0; j+1 < len(b); j++ {
			if sa.meets(segBox(b[j], b[j+1])) && crosses(a[i], a[i+1], b[j], b[j+1]) {
				return meeting(a[i], a[i+1], b[j], b[j+1]), true
			}
		}
	}
	for _, pair := range [][2][]Coord{{a, b}, {b, a}} {
		r, other := pair[0], pair[1]
		for i := 0; i+1 < len(r); i++ {
			if strictlyInside(r[i], other, 1) {
				return r[i], true
			}
			mid := Coord{r[i].X + r[i+1].X, r[i].Y + r[i+1].Y} // doubled: exact
			if strictlyInside(mid, other, 2) {
				return Coord{mid.X / 2, mid.Y / 2}, true
			}
		}
	}
	return Coord{}, false
}

// strictlyInside reports whether p (in units of 1/k) lies inside ring r and not on its
// boundary, by the crossing number, exactly.
func strictlyInside(p Coord, r []Coord, k int64) bool {
	in := false
	for i := 0; i+1 < len(r); i++ {
		a := Coord{r[i].X * k, r[i].Y * k}
		b := Coord{r[i+1].X * k, r[i+1].Y * k}
		if orient(a, b, p) == 0 && between(a, b, p) {
			return false
		}
		if (a.Y > p.Y) != (b.Y > p.Y) {
			// p.X < the side's x at p.Y, without division: compare on the side's direction.
			o := orient(a, b, p)
			if (b.Y > a.Y && o > 0) || (b.Y < a.Y && o < 0) {
				in = !in
			}
		}
	}
	return in
}

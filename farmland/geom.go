package farmland

import "math"

// vec is a point or vector in local metres (x east, y north) around a cluster centre.
type vec struct{ x, y float64 }

// box is an axis-aligned bounding box.
type box struct{ minX, minY, maxX, maxY float64 }

func (b box) overlaps(o box, pad float64) bool {
	return b.minX-pad <= o.maxX && o.minX-pad <= b.maxX && b.minY-pad <= o.maxY && o.minY-pad <= b.maxY
}

func bboxOf(pts []vec) box {
	b := box{pts[0].x, pts[0].y, pts[0].x, pts[0].y}
	for _, p := range pts[1:] {
		b.minX = min(b.minX, p.x)
		b.maxX = max(b.maxX, p.x)
		b.minY = min(b.minY, p.y)
		b.maxY = max(b.maxY, p.y)
	}
	return b
}

func segBox(a, b vec) box {
	return box{min(a.x, b.x), min(a.y, b.y), max(a.x, b.x), max(a.y, b.y)}
}

// orient is twice the signed area of triangle abc: positive when c is left of a->b.
func orient(a, b, c vec) float64 {
	return (b.x-a.x)*(c.y-a.y) - (b.y-a.y)*(c.x-a.x)
}

// onSegment reports whether p, known to be collinear with a-b, lies within its bounding box.
func onSegment(a, b, p vec) bool {
	return min(a.x, b.x) <= p.x && p.x <= max(a.x, b.x) &&
		min(a.y, b.y) <= p.y && p.y <= max(a.y, b.y)
}

// segsIntersect reports whether closed segments a-b and c-d share at least one point.
func segsIntersect(a, b, c, d vec) bool {
	o1, o2 := orient(a, b, c), orient(a, b, d)
	o3, o4 := orient(c, d, a), orient(c, d, b)
	if ((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0)) {
		return true
	}
	return (o1 == 0 && onSegment(a, b, c)) || (o2 == 0 && onSegment(a, b, d)) ||
		(o3 == 0 && onSegment(c, d, a)) || (o4 == 0 && onSegment(c, d, b))
}

// pointSegDist2 is the squared distance from p to segment a-b.
func pointSegDist2(p, a, b vec) float64 {
	dx, dy := b.x-a.x, b.y-a.y
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = ((p.x-a.x)*dx + (p.y-a.y)*dy) / l2
		t = max(0, min(1, t))
	}
	ex, ey := a.x+t*dx-p.x, a.y+t*dy-p.y
	return ex*ex + ey*ey
}

// segDist2 is the squared distance between segments a-b and c-d.
func segDist2(a, b, c, d vec) float64 {
	if segsIntersect(a, b, c, d) {
		return 0
	}
	return min(min(pointSegDist2(a, c, d), pointSegDist2(b, c, d)),
		min(pointSegDist2(c, a, b), pointSegDist2(d, a, b)))
}

// pointInRing reports whether p is inside the ring (given without its closing point) by
// the crossing-number rule. Points exactly on the boundary may go either way.
func pointInRing(p vec, ring []vec) bool {
	in := false
	j := len(ring) - 1
	for i := range ring {
		a, b := ring[i], ring[j]
		if (a.y > p.y) != (b.y > p.y) && p.x < (b.x-a.x)*(p.y-a.y)/(b.y-a.y)+a.x {
			in = !in
		}
		j = i
	}
	return in
}

// signedArea is the shoelace area of the ring (without closing point), positive when
// counter-clockwise. Coordinates are taken relative to the first point for precision.
func signedArea(ring []vec) float64 {
	o := ring[0]
	s := 0.0
	for i := 1; i+1 < len(ring); i++ {
		a, b := ring[i], ring[i+1]
		s += (a.x-o.x)*(b.y-o.y) - (b.x-o.x)*(a.y-o.y)
	}
	return s / 2
}

// ringSimple reports whether the ring (without closing point) is a simple polygon: no
// edge shorter than minEdge, no two non-adjacent edges touching and no adjacent edges
// folding back onto each other.
func ringSimple(ring []vec, minEdge float64) bool {
	n := len(ring)
	if n < 3 {
		return false
	}
	m2 := minEdge * minEdge
	for i := range n {
		a, b := ring[i], ring[(i+1)%n]
		dx, dy := b.x-a.x, b.y-a.y
		if dx*dx+dy*dy < m2 {
			return false
		}
		// Adjacent edge i+1 must not double back along edge i.
		c := ring[(i+2)%n]
		if orient(a, b, c) == 0 && (c.x-b.x)*dx+(c.y-b.y)*dy < 0 {
			return false
		}
	}
	var stack [48]box
	boxes := stack[:0]
	for i := range n {
		boxes = append(boxes, segBox(ring[i], ring[(i+1)%n]))
	}
	for i := range n {
		a, b := ring[i], ring[(i+1)%n]
		bi := boxes[i]
		for j := i + 2; j < n; j++ {
			if i == 0 && j == n-1 {
				continue // adjacent through the closing vertex
			}
			bj := &boxes[j]
			if bi.minX > bj.maxX || bj.minX > bi.maxX || bi.minY > bj.maxY || bj.minY > bi.maxY {
				continue
			}
			if segsIntersect(a, b, ring[j], ring[(j+1)%n]) {
				return false
			}
		}
	}
	return true
}

// polysConflict reports whether two simple polygons come closer than gap to each other
// or overlap; touching counts as a conflict.
func polysConflict(p, q []vec, pb, qb box, gap float64) bool {
	g2 := gap * gap
	np, nq := len(p), len(q)
	for i := range np {
		a, b := p[i], p[(i+1)%np]
		eb := segBox(a, b)
		if !eb.overlaps(qb, gap) {
			continue
		}
		for j := range nq {
			c, d := q[j], q[(j+1)%nq]
			if !eb.overlaps(segBox(c, d), gap) {
				continue
			}
			if segDist2(a, b, c, d) < g2 {
				return true
			}
		}
	}
	return pointInRing(p[0], q) || pointInRing(q[0], p)
}

// segNearRing reports whether segment a-b comes closer than clear to the polygon ring or
// lies inside it.
func segNearRing(a, b vec, ring []vec, clear float64) bool {
	c2 := clear * clear
	sb := segBox(a, b)
	n := len(ring)
	for i := range n {
		c, d := ring[i], ring[(i+1)%n]
		if !sb.overlaps(segBox(c, d), clear) {
			continue
		}
		if segDist2(a, b, c, d) < c2 {
			return true
		}
	}
	return pointInRing(a, ring)
}

// grid is a uniform bucket grid over the square [-half, half]² used to find nearby
// parcels and road segments within a cluster.
type grid struct {
	origin, inv float64
	n           int
	cells       [][]int32
}

func (g *grid) init(half, cell float64) {
	g.n = int(math.Ceil(2 * half / cell))
	if g.n < 1 {
		g.n = 1
	}
	g.origin = -half
	g.inv = 1 / cell
	g.cells = make([][]int32, g.n*g.n)
}

func (g *grid) reset() {
	for i := range g.cells {
		g.cells[i] = g.cells[i][:0]
	}
}

func (g *grid) index(v float64) int {
	i := int(math.Floor((v - g.origin) * g.inv))
	if i < 0 {
		return 0
	}
	if i >= g.n {
		return g.n - 1
	}
	return i
}

// span returns the inclusive cell range covering b grown by pad.
func (g *grid) span(b box, pad float64) (i0, j0, i1, j1 int) {
	return g.index(b.minX - pad), g.index(b.minY - pad), g.index(b.maxX + pad), g.index(b.maxY + pad)
}

func (g *grid) insert(id int32, b box) {
	i0, j0, i1, j1 := g.span(b, 0)
	for j := j0; j <= j1; j++ {
		for i := i0; i <= i1; i++ {
			k := j*g.n + i
			g.cells[k] = append(g.cells[k], id)
		}
	}
}

package farmland

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"
)

const (
	roadStep       = 25.0  // metres between stored road centre-line samples
	roadGap        = 70.0  // distinct roads keep at least this far apart away from junctions
	feederStraight = 120.0 // straight first stretch of a feeder, exempt from the gap rule
	parcelGap      = 0.3   // clearance between parcels fronting different roads
	roadClear      = 2.5   // clearance between a parcel and any other road's centre line
	minEdge        = 0.2   // shortest polygon edge accepted
	maxRowFails    = 40    // consecutive unusable slots after which a row is abandoned
)

// piece is a stretch of road with constant curvature k (1/m), starting at arc length s0
// at (x0, y0) with heading th0.
type piece struct {
	s0, length   float64
	x0, y0       float64
	th0, k       float64
	sin0, cos0   float64
	invK         float64
	straightLine bool
}

func newPiece(s0 float64, p vec, th, k, length float64) piece {
	pc := piece{s0: s0, length: length, x0: p.x, y0: p.y, th0: th, k: k}
	pc.sin0, pc.cos0 = math.Sincos(th)
	if math.Abs(k) < 1e-9 {
		pc.straightLine = true
		pc.k = 0
	} else {
		pc.invK = 1 / k
	}
	return pc
}

// point returns the position and the left unit normal at distance u along the piece
// (u may run past either end, extending the arc).
func (pc *piece) point(u float64) (vec, vec) {
	if pc.straightLine {
		return vec{pc.x0 + u*pc.cos0, pc.y0 + u*pc.sin0}, vec{-pc.sin0, pc.cos0}
	}
	sn, cs := math.Sincos(pc.th0 + pc.k*u)
	return vec{pc.x0 + (sn-pc.sin0)*pc.invK, pc.y0 - (cs-pc.cos0)*pc.invK}, vec{-sn, cs}
}

// road is a centre line made of constant-curvature pieces plus its sampled polyline.
type road struct {
	pieces []piece
	length float64
	pts    []vec     // samples roughly roadStep apart, from s = 0 to s = length
	ss     []float64 // arc length of each sample
	// Side boundaries lean along the road by lean(s) metres per metre of depth, a slowly
	// varying function shared by all rows on one side (index 0 left, 1 right) so that
	// rows meeting on that side never cross.
	leanC, leanA, leanW, leanP [2]float64
}

func sideIndex(side float64) int {
	if side > 0 {
		return 0
	}
	return 1
}

func (r *road) lean(side int, s float64) float64 {
	return r.leanC[side] + r.leanA[side]*math.Sin(s*r.leanW[side]+r.leanP[side])
}

// at returns the centre-line point and left unit normal at arc length s.
func (r *road) at(s float64) (vec, vec) {
	lo, hi := 0, len(r.pieces)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if r.pieces[mid].s0 <= s {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	pc := &r.pieces[lo]
	return pc.point(s - pc.s0)
}

// seg is one sampled road segment, registered in the segment grid.
type seg struct {
	a, b vec
	road int32
}

// prec records a placed parcel of the current cluster.
type prec struct {
	off, n int32
	road   int32
	bb     box
}

// chain is a shared side boundary: from the road edge to the back line.
type chain struct {
	n    int
	p    [6]vec
	s, d float64 // station and back depth
}

// chainDraw holds the random numbers that shape a chain, drawn once so that a chain can
// be rebuilt at a corrected station with the same character.
type chainDraw struct {
	nI int
	u  [4]float64 // position of intermediate vertices within their bins, [-0.5, 0.5]
	dl [5]float64 // lateral jitter of intermediate and back vertices, [-1, 1]
	bt float64    // back depth jitter, [-1, 1]
	rj float64    // road reserve jitter, [-1, 1]
}

// parcelDraw holds the random numbers for a parcel's own (unshared) vertices.
type parcelDraw struct {
	m       int        // intermediate back-edge vertices
	bu      [3]float64 // their position within bins, [-0.5, 0.5]
	bj      [3]float64 // their depth jitter, [-1, 1]
	roadMid bool       // add a vertex on the road edge
	rm, rmj float64
}

// row is a run of parcels along one side of a road in one direction.
type row struct {
	road       int
	side, dir  float64
	s, sEnd    float64
	r          float64 // road reserve: distance from the centre line to the parcel front
	a1, w1, p1 float64 // long back-line wave: amplitude, wavenumber, phase
	a2, w2, p2 float64 // short back-line wave
	base       float64 // base back depth of the current block
	lnMed      float64 // log median area of the current block
	blockLeft  int
	cap        float64 // largest base depth for new blocks
	strikes    int     // consecutive conflicts
	fails      int     // consecutive slots without a parcel
	have       bool    // ch is the left chain of the next parcel
	ch         chain
	nextA      float64
	key        float64 // distance of the cursor from the cluster centre
	done       bool
}

func (rw *row) past(s float64) bool {
	if rw.dir > 0 {
		return s > rw.sEnd
	}
	return s < rw.sEnd
}

func (rw *row) depth(s float64, minExtra float64) float64 {
	d := rw.base * (1 + rw.a1*math.Sin(s*rw.w1+rw.p1) + rw.a2*math.Sin(s*rw.w2+rw.p2))
	return max(d, rw.r+minExtra)
}

// emitFunc receives each accepted parcel in local metres.
type emitFunc func(poly []vec, road int, area float64) error

// gen holds the reusable working state for generating clusters one at a time.
type gen struct {
	cfg *config
	src *rand.PCG
	rng *rand.Rand

	roads   []road
	nroads  int
	segs    []seg
	segGrid grid
	parGrid grid
	recs    []prec
	arena   []vec
	stamp   []uint32
	stampID uint32
	rows    []row
	poly    []vec
	next    chain
}

func newGen(cfg *config) *gen {
	g := &gen{cfg: cfg, src: rand.NewPCG(0, 0)}
	g.rng = rand.New(g.src)
	cell := max(100, 2*cfg.half/64)
	g.segGrid.init(cfg.half, cell)
	g.parGrid.init(cfg.half, cell)
	g.poly = make([]vec, 0, 32)
	return g
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// run generates clusters until Count parcels have been produced, passing each parcel to
// fn (if not nil) and appending each cluster's roads to roads (if not nil).
func (g *gen) run(fn func(Parcel) error, roads *[]orb.LineString) error {
	cfg := g.cfg
	produced, roadBase := 0, 0
	var lonC, latC, kx, ky float64
	var cluster int
	emit := func(poly []vec, road int, area float64) error {
		if fn == nil {
			return nil
		}
		ring := make(orb.Ring, len(poly)+1)
		for i, p := range poly {
			ring[i] = orb.Point{lonC + p.x*kx, latC + p.y*ky}
		}
		ring[len(poly)] = ring[0]
		a := min(max(area, cfg.minA), cfg.maxA)
		return fn(Parcel{
			Index:   produced,
			Cluster: cluster,
			Road:    roadBase + road,
			Polygon: orb.Polygon{ring},
			AreaHa:  a / 1e4,
		})
	}
	for cluster = 0; produced < cfg.count; cluster++ {
		lonC, latC = cfg.clusterCenter(cluster)
		if math.Abs(latC)+cfg.spacing/metresPerDegLat > maxLatitude {
			return fmt.Errorf("%w: clusters would pass latitude %g", ErrUnplaceable, maxLatitude)
		}
		kx = 1 / (metresPerDegLonEquator * math.Cos(latC*math.Pi/180))
		ky = 1 / metresPerDegLat
		g.buildCluster(cluster)
		if roads != nil {
			for i := range g.nroads {
				pts := g.roads[i].pts
				ls := make(orb.LineString, len(pts))
				for j, p := range pts {
					ls[j] = orb.Point{lonC + p.x*kx, latC + p.y*ky}
				}
				*roads = append(*roads, ls)
			}
		}
		need := min(cfg.perCluster, cfg.count-produced)
		n, err := g.fill(need, func(poly []vec, road int, area float64) error {
			err := emit(poly, road, area)
			produced++
			return err
		})
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: cluster %d holds no parcel; reduce MaxAreaHa or increase ClusterSpacingM", ErrUnplaceable, cluster)
		}
		roadBase += g.nroads
	}
	return nil
}

func (g *gen) allocRoad() int {
	if g.nroads == len(g.roads) {
		g.roads = append(g.roads, road{})
	}
	i := g.nroads
	g.nroads++
	rd := &g.roads[i]
	rd.pieces, rd.pts, rd.ss, rd.length = rd.pieces[:0], rd.pts[:0], rd.ss[:0], 0
	for k := range 2 {
		rd.leanC[k] = 0.1 * (2*g.rng.Float64() - 1)
		rd.leanA[k] = 0.1 * g.rng.Float64()
		rd.leanW[k] = 2 * math.Pi / (1200 + 1500*g.rng.Float64())
		rd.leanP[k] = 2 * math.Pi * g.rng.Float64()
	}
	return i
}

// buildCluster lays out the road system of cluster c and prepares its parcel rows.
func (g *gen) buildCluster(c int) {
	cfg := g.cfg
	g.src.Seed(cfg.seed, splitmix(uint64(c)))
	rng := g.rng
	g.nroads = 0
	g.segs = g.segs[:0]
	g.segGrid.reset()
	g.parGrid.reset()
	g.recs = g.recs[:0]
	g.arena = g.arena[:0]
	g.stamp = g.stamp[:0]
	g.stampID = 0
	g.rows = g.rows[:0]

	// Main road: enters the cluster disc on one side and crosses it, gently curving.
	rho := cfg.roadRadius
	psi := 2 * math.Pi * rng.Float64()
	a := psi + math.Pi + 0.5*(rng.Float64()-0.5)
	start := vec{0.999 * rho * math.Cos(a), 0.999 * rho * math.Sin(a)}
	mi := g.allocRoad()
	g.buildRoad(mi, start, psi+0.3*(rng.Float64()-0.5), psi, 0.45, 0)
	g.registerRoad(mi)

	// Feeders: branch off both sides of the main road, roughly perpendicular.
	mainLen := g.roads[mi].length
	for k := range 2 {
		side := 1.0 - 2*float64(k)
		s := cfg.feederSpacing * (0.2 + 0.8*rng.Float64())
		for s < mainLen-60 {
			if rng.Float64() < 0.9 {
				p, n := g.roads[mi].at(s)
				th := math.Atan2(side*n.y, side*n.x) + 0.3*(rng.Float64()-0.5)
				fi := g.allocRoad()
				g.buildRoad(fi, p, th, th, 0.4, feederStraight)
				if g.roads[fi].length < feederStraight+100 {
					g.nroads--
				} else {
					g.registerRoad(fi)
				}
			}
			s += cfg.feederSpacing * (0.85 + 0.3*rng.Float64())
		}
	}

	// Rows: the main road is lined outwards from its point nearest the centre; feeders
	// outwards from their junction.
	mr := &g.roads[mi]
	sMid, best := 0.0, math.Inf(1)
	for i, p := range mr.pts {
		if d := p.x*p.x + p.y*p.y; d < best {
			best, sMid = d, mr.ss[i]
		}
	}
	for k := range 2 {
		side := 1.0 - 2*float64(k)
		g.addRow(mi, side, -1, sMid, 0)
		g.addRow(mi, side, 1, sMid, mainLen)
	}
	for fi := 1; fi < g.nroads; fi++ {
		g.addRow(fi, 1, 1, 0, g.roads[fi].length)
		g.addRow(fi, -1, 1, 0, g.roads[fi].length)
	}
}

// buildRoad grows road ri from start with heading th, keeping the heading within maxDev
// of thNom and the curvature below 1/rMin. Growth stops at the cluster edge or when the
// road would come within roadGap of another road (after its first `straight` metres,
// which run straight and are exempt so that a feeder can leave its parent).
func (g *gen) buildRoad(ri int, start vec, th, thNom, maxDev, straight float64) {
	cfg := g.cfg
	rng := g.rng
	rd := &g.roads[ri]
	rd.pts = append(rd.pts, start)
	rd.ss = append(rd.ss, 0)
	pos, s := start, 0.0
	rr := cfg.roadRadius * cfg.roadRadius
	for first := true; ; first = false {
		var l, k float64
		if first && straight > 0 {
			l = straight
		} else {
			l = 150 + 300*rng.Float64()
			k = (2*rng.Float64() - 1) / cfg.rMin
			if end := th + k*l; end > thNom+maxDev || end < thNom-maxDev {
				k = -k
				if end = th + k*l; end > thNom+maxDev {
					k = (thNom + maxDev - th) / l
				} else if end < thNom-maxDev {
					k = (thNom - maxDev - th) / l
				}
			}
		}
		pc := newPiece(s, pos, th, k, l)
		n := int(math.Ceil(l / roadStep))
		step := l / float64(n)
		stopped := false
		for i := 1; i <= n; i++ {
			u := step * float64(i)
			p, _ := pc.point(u)
			if p.x*p.x+p.y*p.y > rr || (s+u > straight && g.nearRoad(p)) {
				pc.length = step * float64(i-1)
				stopped = true
				break
			}
			rd.pts = append(rd.pts, p)
			rd.ss = append(rd.ss, s+u)
		}
		if pc.length > 0 || len(rd.pieces) == 0 {
			rd.pieces = append(rd.pieces, pc)
			s += pc.length
		}
		if stopped {
			break
		}
		pos, _ = pc.point(l)
		th += k * l
	}
	rd.length = s
}

// nearRoad reports whether p is within roadGap of any registered road segment.
func (g *gen) nearRoad(p vec) bool {
	b := box{p.x, p.y, p.x, p.y}
	i0, j0, i1, j1 := g.segGrid.span(b, roadGap)
	for j := j0; j <= j1; j++ {
		for i := i0; i <= i1; i++ {
			for _, id := range g.segGrid.cells[j*g.segGrid.n+i] {
				sg := &g.segs[id]
				if pointSegDist2(p, sg.a, sg.b) < roadGap*roadGap {
					return true
				}
			}
		}
	}
	return false
}

func (g *gen) registerRoad(ri int) {
	pts := g.roads[ri].pts
	for i := 1; i < len(pts); i++ {
		id := int32(len(g.segs))
		g.segs = append(g.segs, seg{a: pts[i-1], b: pts[i], road: int32(ri)})
		g.segGrid.insert(id, segBox(pts[i-1], pts[i]))
	}
}

func (g *gen) addRow(ri int, side, dir, s, sEnd float64) {
	rng := g.rng
	rw := row{road: ri, side: side, dir: dir, s: s, sEnd: sEnd}
	rw.r = 3.5 + 2.5*rng.Float64()
	rw.a1 = 0.04 + 0.06*rng.Float64()
	rw.w1 = 2 * math.Pi / (500 + 900*rng.Float64())
	rw.p1 = 2 * math.Pi * rng.Float64()
	rw.a2 = 0.01 + 0.03*rng.Float64()
	rw.w2 = 2 * math.Pi / (120 + 180*rng.Float64())
	rw.p2 = 2 * math.Pi * rng.Float64()
	rw.cap = g.cfg.dCap
	p, _ := g.roads[ri].at(s)
	rw.key = math.Hypot(p.x, p.y)
	g.rows = append(g.rows, rw)
}

// fill places up to need parcels in the current cluster, always extending the row whose
// cursor is nearest the cluster centre, and returns how many were placed.
func (g *gen) fill(need int, emit emitFunc) (int, error) {
	n := 0
	for n < need {
		bi := -1
		for i := range g.rows {
			if !g.rows[i].done && (bi < 0 || g.rows[i].key < g.rows[bi].key) {
				bi = i
			}
		}
		if bi < 0 {
			break
		}
		rw := &g.rows[bi]
		ok := g.step(rw)
		if !rw.done {
			p, _ := g.roads[rw.road].at(rw.s)
			rw.key = math.Hypot(p.x, p.y)
		}
		if ok {
			last := g.recs[len(g.recs)-1]
			if err := emit(g.arena[last.off:last.off+last.n], rw.road, signedArea(g.arena[last.off:last.off+last.n])); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// sampleArea draws a parcel area (m²) around a block's log median.
func (g *gen) sampleArea(lnMed float64) float64 {
	cfg := g.cfg
	for range 6 {
		a := math.Exp(lnMed + cfg.sigI*g.rng.NormFloat64())
		if a >= cfg.minA && a <= cfg.maxA {
			return a
		}
	}
	return math.Exp(max(cfg.lnMin, min(cfg.lnMax, lnMed)))
}

func (g *gen) drawChain(cd *chainDraw) {
	rng := g.rng
	cd.nI = 1 + rng.IntN(4)
	for i := range cd.u {
		cd.u[i] = rng.Float64() - 0.5
	}
	for i := range cd.dl {
		cd.dl[i] = 2*rng.Float64() - 1
	}
	cd.bt = 2*rng.Float64() - 1
	cd.rj = 2*rng.Float64() - 1
}

// local maps row coordinates (station s, offset t from the centre line) to local metres.
// The station is first shifted by the side's lean, so boundaries are not all square to
// the road; the shift varies slowly enough that the mapping stays one-to-one.
func (g *gen) local(rw *row, s, t float64) vec {
	rd := &g.roads[rw.road]
	s += t * rd.lean(sideIndex(rw.side), s)
	p, n := rd.at(s)
	t *= rw.side
	return vec{p.x + t*n.x, p.y + t*n.y}
}

// buildChain builds the side boundary at station s. amp bounds the lateral jitter of its
// inner vertices, in metres along the road.
func (g *gen) buildChain(rw *row, c *chain, s, amp float64, cd *chainDraw) {
	cfg := g.cfg
	d := rw.depth(s, cfg.dExtraMin)
	d += cd.bt * min(2, 0.02*d)
	r := rw.r + 0.3*cd.rj
	nI := cd.nI
	if lim := int((d - r) / 15); nI > lim {
		nI = max(lim, 1)
	}
	c.p[0] = g.local(rw, s, r)
	for j := range nI {
		f := 0.85 * (float64(j) + 0.5 + 0.7*cd.u[j]) / float64(nI)
		c.p[j+1] = g.local(rw, s+amp*cd.dl[j], r+(d-r)*f)
	}
	c.p[nI+1] = g.local(rw, s+amp*cd.dl[4], d)
	c.n = nI + 2
	c.s, c.d = s, d
}

// assemble builds the parcel ring between chains l and r into g.poly, counter-clockwise,
// and returns its area.
func (g *gen) assemble(rw *row, l, r *chain, pd *parcelDraw) float64 {
	cfg := g.cfg
	w := (r.s - l.s) * rw.dir
	poly := append(g.poly[:0], l.p[0])
	if pd.roadMid {
		poly = append(poly, g.local(rw, l.s+rw.dir*w*(0.5+0.3*pd.rm), rw.r+0.3*pd.rmj))
	}
	poly = append(poly, r.p[:r.n]...)
	for j := pd.m - 1; j >= 0; j-- {
		f := 0.2 + 0.6*(float64(j)+0.5+0.7*pd.bu[j])/float64(pd.m)
		s := l.s + rw.dir*w*f
		d := rw.depth(s, cfg.dExtraMin)
		d += pd.bj[j] * min(2, 0.02*d)
		poly = append(poly, g.local(rw, s, d))
	}
	for j := l.n - 1; j >= 1; j-- {
		poly = append(poly, l.p[j])
	}
	a := signedArea(poly)
	if a < 0 {
		for i, j := 0, len(poly)-1; i < j; i, j = i+1, j-1 {
			poly[i], poly[j] = poly[j], poly[i]
		}
		a = -a
	}
	g.poly = poly
	return a
}

// startBlock starts a new block of parcels after a gap: new base depth and size class.
func (g *gen) startBlock(rw *row) {
	cfg := g.cfg
	rng := g.rng
	var gap float64
	switch {
	case rw.strikes == 0:
		gap = 8 + 32*rng.Float64()
	case rw.strikes%2 == 1:
		gap = 8 + 7*rng.Float64()
	default:
		gap = 30 + 50*rng.Float64()
	}
	rw.s += rw.dir * gap
	if rw.past(rw.s) {
		rw.done = true
		return
	}
	lnm := cfg.mu + cfg.sigB*rng.NormFloat64()
	rw.lnMed = max(cfg.lnMin, min(cfg.lnMax, lnm))
	// Depth/frontage ratio: 1.6-4, deeper for big plots so their frontage stays in range.
	med := math.Exp(rw.lnMed)
	wTyp := 0.55 * cfg.wMax
	aspect := max(1.6+2.4*rng.Float64(), med/(wTyp*wTyp))
	rw.base = min(math.Sqrt(med*aspect)+rw.r, rw.cap)
	rw.blockLeft = 3 + rng.IntN(12)
	rw.nextA = g.sampleArea(rw.lnMed)
	wEst := max(cfg.wMin, min(cfg.wMax, rw.nextA/(rw.depth(rw.s, cfg.dExtraMin)-rw.r)))
	var cd chainDraw
	g.drawChain(&cd)
	g.buildChain(rw, &rw.ch, rw.s, min(2, 0.12*wEst), &cd)
	rw.have = true
}

// step tries to place the next parcel of row rw and reports whether one was placed.
func (g *gen) step(rw *row) bool {
	cfg := g.cfg
	rng := g.rng
	if !rw.have {
		g.startBlock(rw)
		if rw.done {
			return false
		}
	}
	target := rw.nextA
	l := &rw.ch
	w0 := max(cfg.wMin, min(cfg.wMax, target/(l.d-rw.r)))
	nextA := g.sampleArea(rw.lnMed)
	dNext := rw.depth(l.s+rw.dir*w0, cfg.dExtraMin)
	wNext := max(cfg.wMin, min(cfg.wMax, nextA/(dNext-rw.r)))
	amp := min(4, 0.12*min(w0, wNext))

	var cd chainDraw
	g.drawChain(&cd)
	var pd parcelDraw
	pd.m = 1 + rng.IntN(3)
	for i := range pd.bu {
		pd.bu[i] = rng.Float64() - 0.5
		pd.bj[i] = 2*rng.Float64() - 1
	}
	pd.roadMid = w0 > 40
	pd.rm, pd.rmj = rng.Float64()-0.5, 2*rng.Float64()-1
	skip := rng.Float64() < 0.03 // a house lot, a pond or a path

	w, area := w0, 0.0
	lo, hi := 0.75*w0, 1.33*w0
	for it := 0; ; it++ {
		if rw.past(l.s + rw.dir*w) {
			rw.done = true
			return false
		}
		g.buildChain(rw, &g.next, l.s+rw.dir*w, amp, &cd)
		area = g.assemble(rw, l, &g.next, &pd)
		inRange := area >= cfg.loA && area <= cfg.hiA
		if it == 3 || (inRange && math.Abs(area-target) <= 0.15*target) {
			break
		}
		nw := max(lo, min(hi, w*target/area))
		nw = max(cfg.wMin, min(cfg.wMax, nw))
		if nw == w {
			break
		}
		w = nw
	}

	poly := g.poly
	placed := false
	structural := false
	if !skip && area >= cfg.loA && area <= cfg.hiA {
		bb := bboxOf(poly)
		switch {
		case !g.inDisc(poly), !ringSimple(poly, minEdge), g.conflicts(rw.road, poly, bb):
			structural = true
		default:
			g.store(rw.road, poly, bb)
			placed = true
		}
	}
	if structural {
		// Something is in the way: end the block, try shallower after a short gap, then
		// further along after a longer one.
		rw.have = false
		rw.strikes++
		rw.fails++
		if rw.strikes%2 == 1 {
			rw.cap = max(rw.r+cfg.dExtraMin, 0.5*rw.base)
		} else {
			rw.cap = cfg.dCap
		}
		if rw.fails > maxRowFails {
			rw.done = true
		}
		return false
	}
	rw.ch, g.next = g.next, rw.ch
	rw.s = rw.ch.s
	rw.nextA = nextA
	rw.blockLeft--
	if rw.blockLeft <= 0 {
		rw.have = false
	}
	if placed {
		rw.strikes, rw.fails = 0, 0
		rw.cap = min(cfg.dCap, rw.cap*1.15)
	} else if rw.fails++; rw.fails > maxRowFails {
		rw.done = true
	}
	return placed
}

func (g *gen) inDisc(poly []vec) bool {
	h2 := g.cfg.half * g.cfg.half
	for _, p := range poly {
		if p.x*p.x+p.y*p.y > h2 {
			return false
		}
	}
	return true
}

// conflicts reports whether poly comes too close to another road or to a parcel fronting
// another road. Parcels of the same road never meet by construction.
func (g *gen) conflicts(road int, poly []vec, bb box) bool {
	i0, j0, i1, j1 := g.segGrid.span(bb, roadClear)
	for j := j0; j <= j1; j++ {
		for i := i0; i <= i1; i++ {
			for _, id := range g.segGrid.cells[j*g.segGrid.n+i] {
				sg := &g.segs[id]
				if int(sg.road) == road || !segBox(sg.a, sg.b).overlaps(bb, roadClear) {
					continue
				}
				if segNearRing(sg.a, sg.b, poly, roadClear) {
					return true
				}
			}
		}
	}
	g.stampID++
	i0, j0, i1, j1 = g.parGrid.span(bb, parcelGap)
	for j := j0; j <= j1; j++ {
		for i := i0; i <= i1; i++ {
			for _, id := range g.parGrid.cells[j*g.parGrid.n+i] {
				if g.stamp[id] == g.stampID {
					continue
				}
				g.stamp[id] = g.stampID
				pr := &g.recs[id]
				if int(pr.road) == road || !pr.bb.overlaps(bb, parcelGap) {
					continue
				}
				if polysConflict(poly, g.arena[pr.off:pr.off+pr.n], bb, pr.bb, parcelGap) {
					return true
				}
			}
		}
	}
	return false
}

func (g *gen) store(road int, poly []vec, bb box) {
	id := int32(len(g.recs))
	g.recs = append(g.recs, prec{off: int32(len(g.arena)), n: int32(len(poly)), road: int32(road), bb: bb})
	g.arena = append(g.arena, poly...)
	g.stamp = append(g.stamp, 0)
	g.parGrid.insert(id, bb)
}

package eudr

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The validator reads an export back as the EU system would, and checks every rule again with
// code of its own (it shares nothing with the writer but the constants): a second opinion,
// for tests, `vungtrong eudr check` and the benchmark.

// ValidateOptions configure Validate.
type ValidateOptions struct {
	// MaxFileBytes bounds each GeoJSON file (default DefaultMaxFileBytes).
	MaxFileBytes int64
	// Box is [min lon, min lat, max lon, max lat] every position must lie in (default Vietnam's,
	// which catches a latitude and longitude swapped).
	Box [4]float64
	// MaxProblems stops listing problems after this many (default 100).
	MaxProblems int
}

// VietnamBox bounds Vietnam, its islands included, in degrees.
var VietnamBox = [4]float64{102.1, 8.1, 117.9, 23.4}

// Report is what Validate found.
type Report struct {
	Files    []FileSummary
	Features int
	// Plots maps each feature's id to its file; a plot in two places is a problem.
	Plots map[int64]string
	// Points and Polygons count the features by kind; Parts the polygons of MultiPolygons.
	Points, Polygons, MultiPolygons, Parts int
	// Statements counts the due diligence statements read, and StatementPlots the plots their
	// geolocation holds.
	Statements, StatementPlots int
	Summary                    *Summary
	Problems                   []string
	more                       int
}

// OK reports whether no rule is broken.
func (r *Report) OK() bool { return len(r.Problems) == 0 && r.more == 0 }

// Err returns the problems as one error, or nil.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	msg := strings.Join(r.Problems, "\n")
	if r.more > 0 {
		msg += fmt.Sprintf("\n(and %d more)", r.more)
	}
	return fmt.Errorf("eudr: the export breaks %d rules:\n%s", len(r.Problems)+r.more, msg)
}

func (r *Report) problem(max int, format string, args ...any) {
	if len(r.Problems) >= max {
		r.more++
		return
	}
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Validate checks an export zip: each GeoJSON file within the size limit and a FeatureCollection
// of Features; each geometry a Point (with Area, of 4 ha or less), Polygon or MultiPolygon;
// positions [lon, lat] with six decimals inside the box; rings closed, of four positions or
// more, with no repeated consecutive position, no holes, counter-clockwise, not crossing or
// touching themselves; the parts of a MultiPolygon not overlapping; the properties spelled as
// the EU's File Description spells them; every plot once across all files; every due
// diligence statement's geolocation holding exactly the plots of its file. It returns an error
// only when the zip cannot be read; the rules broken are in the Report.
func Validate(r io.ReaderAt, size int64, o ValidateOptions) (*Report, error) {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.Box == ([4]float64{}) {
		o.Box = VietnamBox
	}
	if o.MaxProblems <= 0 {
		o.MaxProblems = 100
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("eudr: not a zip: %w", err)
	}
	rep := &Report{Plots: map[int64]string{}}
	fileIDs := map[string][]int64{}
	var dds []*zip.File
	for _, f := range zr.File {
		switch {
		case strings.HasSuffix(f.Name, ".geojson"):
			data, err := readAll(f)
			if err != nil {
				return nil, err
			}
			ids := rep.checkFile(f.Name, data, o)
			fileIDs[f.Name] = ids
		case f.Name == "summary.json":
			data, err := readAll(f)
			if err != nil {
				return nil, err
			}
			var s Summary
			if err := json.Unmarshal(data, &s); err != nil {
				rep.problem(o.MaxProblems, "summary.json: %v", err)
			} else {
				rep.Summary = &s
			}
		case strings.HasPrefix(f.Name, "dds") && strings.HasSuffix(f.Name, ".json"):
			dds = append(dds, f)
		}
	}
	if len(rep.Files) == 0 {
		rep.problem(o.MaxProblems, "the zip holds no GeoJSON file")
	}
	for _, f := range dds {
		data, err := readAll(f)
		if err != nil {
			return nil, err
		}
		geojson := "plots" + strings.TrimPrefix(strings.TrimSuffix(f.Name, ".json"), "dds") + ".geojson"
		rep.checkStatement(f.Name, data, fileIDs[geojson], o)
	}
	if s := rep.Summary; s != nil && s.Plots != rep.Features {
		rep.problem(o.MaxProblems, "summary.json counts %d plots, the files hold %d", s.Plots, rep.Features)
	}
	return rep, nil
}

func readAll(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("eudr: %s: %w", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("eudr: %s: %w", f.Name, err)
	}
	return b, nil
}

// feature is a GeoJSON Feature as read back: numbers kept as their text.
type feature struct {
	Type       string                     `json:"type"`
	ID         json.Number                `json:"id"`
	Properties map[string]json.RawMessage `json:"properties"`
	Geometry   *struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
}

var euProperties = []string{PropProducerName, PropProducerCountry, PropProductionPlace, PropArea}

var iso2 = regexp.MustCompile(`^[A-Z]{2}$`)

// checkFile checks one GeoJSON file and returns the ids of its features.
func (rep *Report) checkFile(name string, data []byte, o ValidateOptions) []int64 {
	bad := func(format string, args ...any) { rep.problem(o.MaxProblems, name+": "+format, args...) }
	rep.Files = append(rep.Files, FileSummary{Name: name, Bytes: int64(len(data))})
	if int64(len(data)) > o.MaxFileBytes {
		bad("%d bytes, over the limit of %d", len(data), o.MaxFileBytes)
	}
	var fc struct {
		Type     string            `json:"type"`
		CRS      json.RawMessage   `json:"crs"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		bad("not JSON: %v", err)
		return nil
	}
	if fc.Type != "FeatureCollection" {
		bad("type is %q, want FeatureCollection", fc.Type)
	}
	if fc.CRS != nil {
		bad("has a crs member: RFC 7946 GeoJSON is WGS 84 and names none")
	}
	if len(fc.Features) == 0 {
		bad("no features")
	}
	var ids []int64
	for i, raw := range fc.Features {
		where := fmt.Sprintf("feature %d", i+1)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var f feature
		if err := dec.Decode(&f); err != nil {
			bad("%s: %v", where, err)
			continue
		}
		rep.Features++
		rep.Files[len(rep.Files)-1].Features++
		id, err := strconv.ParseInt(f.ID.String(), 10, 64)
		if err != nil {
			bad("%s: id %q is not a plot id", where, f.ID)
		} else {
			where = fmt.Sprintf("plot %d", id)
			if other, dup := rep.Plots[id]; dup {
				bad("%s: already in %s: every plot must be in the export once", where, other)
			}
			rep.Plots[id] = name
			ids = append(ids, id)
		}
		if f.Type != "Feature" {
			bad("%s: type %q, want Feature", where, f.Type)
		}
		for k := range f.Properties {
			if slices.Contains(euProperties, k) || k == PropNameWithheld {
				continue
			}
			for _, want := range euProperties {
				if strings.EqualFold(k, want) {
					bad("%s: property %q must be spelled %q (the EU system reads properties case-sensitively)", where, k, want)
				}
			}
		}
		var country, place, name string
		if err := json.Unmarshal(f.Properties[PropProducerCountry], &country); err != nil || !iso2.MatchString(country) {
			bad("%s: ProducerCountry %s is not an ISO 3166-1 alpha-2 code", where, f.Properties[PropProducerCountry])
		}
		if err := json.Unmarshal(f.Properties[PropProductionPlace], &place); err != nil || strings.TrimSpace(place) == "" {
			bad("%s: no ProductionPlace", where)
		}
		if raw, ok := f.Properties[PropProducerName]; ok {
			if err := json.Unmarshal(raw, &name); err != nil || strings.TrimSpace(name) == "" {
				bad("%s: ProducerName %s is not a name", where, raw)
			}
		}
		if f.Geometry == nil {
			bad("%s: no geometry", where)
			continue
		}
		var area *float64
		if raw, ok := f.Properties[PropArea]; ok {
			var a float64
			if err := json.Unmarshal(raw, &a); err != nil || a <= 0 {
				bad("%s: Area %s is not a number of hectares", where, raw)
			} else {
				area = &a
			}
		}
		rep.checkGeometry(where, f.Geometry.Type, f.Geometry.Coordinates, area, o, bad)
	}
	return ids
}

// checkGeometry checks one feature's geometry.
func (rep *Report) checkGeometry(where, typ string, coords json.RawMessage, area *float64, o ValidateOptions, bad func(string, ...any)) {
	switch typ {
	case "Point", "MultiPoint":
		var pts [][]json.Number
		if typ == "Point" {
			var p []json.Number
			if err := decodeNumbers(coords, &p); err != nil {
				bad("%s: %v", where, err)
				return
			}
			pts = [][]json.Number{p}
		} else if err := decodeNumbers(coords, &pts); err != nil {
			bad("%s: %v", where, err)
			return
		}
		rep.Points++
		for _, p := range pts {
			if _, ok := position(p, o, where, bad); !ok {
				return
			}
		}
		if area == nil {
			bad("%s: a point needs its Area (hectares)", where)
		} else if *area > MaxPointAreaHa {
			bad("%s: a plot of %.4f ha is larger than %g ha: it must be a polygon, not a point", where, *area, MaxPointAreaHa)
		}
	case "Polygon", "MultiPolygon":
		var polys [][][][]json.Number
		if typ == "Polygon" {
			var p [][][]json.Number
			if err := decodeNumbers(coords, &p); err != nil {
				bad("%s: %v", where, err)
				return
			}
			polys = [][][][]json.Number{p}
			rep.Polygons++
		} else {
			if err := decodeNumbers(coords, &polys); err != nil {
				bad("%s: %v", where, err)
				return
			}
			rep.MultiPolygons++
			rep.Parts += len(polys)
		}
		var rings [][]vpos
		for k, poly := range polys {
			at := where
			if typ == "MultiPolygon" {
				at = fmt.Sprintf("%s, polygon %d", where, k+1)
			}
			if len(poly) != 1 {
				bad("%s: %d rings: a polygon must have no holes (the EU system would count a hole as production land)", at, len(poly))
				if len(poly) == 0 {
					continue
				}
			}
			ring := make([]vpos, 0, len(poly[0]))
			ok := true
			for _, p := range poly[0] {
				v, good := position(p, o, at, bad)
				if !good {
					ok = false
					break
				}
				ring = append(ring, v)
			}
			if ok && checkValidatorRing(at, ring, bad) {
				rings = append(rings, ring)
			}
		}
		for i := range rings {
			for j := i + 1; j < len(rings); j++ {
				if ringsOverlap(rings[i], rings[j]) {
					bad("%s: polygons %d and %d overlap", where, i+1, j+1)
				}
			}
		}
	default:
		bad("%s: geometry type %q: the EU system takes Point, MultiPoint, Polygon or MultiPolygon", where, typ)
	}
}

func decodeNumbers(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("coordinates: %v", err)
	}
	return nil
}

// vpos is a position in millionths of a degree, read exactly from its text.
type vpos [2]int64

// position checks one position's text: two numbers, six decimals or more, inside the box.
func position(p []json.Number, o ValidateOptions, where string, bad func(string, ...any)) (vpos, bool) {
	if len(p) != 2 {
		bad("%s: a position has %d numbers, want [longitude, latitude]", where, len(p))
		return vpos{}, false
	}
	var v vpos
	for i, n := range p {
		s := n.String()
		dot := strings.IndexByte(s, '.')
		if strings.ContainsAny(s, "eE") || dot < 0 || len(s)-dot-1 < Decimals {
			bad("%s: %s has fewer than %d decimals", where, s, Decimals)
			return vpos{}, false
		}
		// Six decimals are read exactly; more are cut (the writer never writes more).
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			bad("%s: %s is not a number", where, s)
			return vpos{}, false
		}
		whole := s[:dot] + (s[dot+1:] + "000000")[:Decimals]
		m, err := strconv.ParseInt(whole, 10, 64)
		if err != nil {
			bad("%s: %s is not a number", where, s)
			return vpos{}, false
		}
		v[i] = m
		if lo, hi := o.Box[i], o.Box[i+2]; f < lo || f > hi {
			what := [2]string{"longitude", "latitude"}[i]
			bad("%s: %s %s is outside [%g, %g] (latitude and longitude swapped?)", where, what, s, lo, hi)
			return vpos{}, false
		}
	}
	return v, true
}

// Decimals is how many decimals a position's numbers have.
const Decimals = 6

// checkValidatorRing checks a ring's positions: closed, four or more, no repeated consecutive
// position, an area, counter-clockwise, no two sides meeting but consecutive ones at their
// shared position.
func checkValidatorRing(where string, r []vpos, bad func(string, ...any)) bool {
	if len(r) < 4 {
		bad("%s: a ring of %d positions, want at least 4", where, len(r))
		return false
	}
	if r[0] != r[len(r)-1] {
		bad("%s: the ring is not closed (first %v, last %v)", where, r[0], r[len(r)-1])
		return false
	}
	for i := 1; i < len(r); i++ {
		if r[i] == r[i-1] {
			bad("%s: position %d repeats the one before it", where, i+1)
			return false
		}
	}
	// Offsets from the first position keep every product exact in float64.
	o := r[0]
	pt := func(i int) [2]float64 { return [2]float64{float64(r[i][0] - o[0]), float64(r[i][1] - o[1])} }
	n := len(r) - 1
	var a2 float64
	for i := range n {
		p, q := pt(i), pt(i+1)
		a2 += p[0]*q[1] - q[0]*p[1]
	}
	switch {
	case a2 == 0:
		bad("%s: the ring has no area", where)
		return false
	case a2 < 0:
		bad("%s: the ring is clockwise: RFC 7946 wants exterior rings counter-clockwise", where)
	}
	cross := func(a, b, c [2]float64) float64 { return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0]) }
	onSeg := func(a, b, p [2]float64) bool {
		return cross(a, b, p) == 0 && min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
	}
	for i := range n {
		a, b := pt(i), pt(i+1)
		for j := i + 1; j < n; j++ {
			c, d := pt(j), pt(j+1)
			adjacent := j == i+1 || (i == 0 && j == n-1)
			if adjacent {
				// Consecutive sides share one position; they must not fold back over each other.
				shared, other1, other2 := b, a, d
				if i == 0 && j == n-1 {
					shared, other1, other2 = a, b, c
				}
				if cross(other1, shared, other2) == 0 {
					u := [2]float64{shared[0] - other1[0], shared[1] - other1[1]}
					v := [2]float64{other2[0] - shared[0], other2[1] - shared[1]}
					if u[0]*v[0]+u[1]*v[1] < 0 {
						bad("%s: the ring folds back on itself at position %d", where, min(i, j)+1)
						return false
					}
				}
				continue
			}
			d1, d2, d3, d4 := cross(a, b, c), cross(a, b, d), cross(c, d, a), cross(c, d, b)
			if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) ||
				onSeg(a, b, c) || onSeg(a, b, d) || onSeg(c, d, a) || onSeg(c, d, b) {
				bad("%s: sides %d and %d of the ring cross or touch (self-intersection)", where, i+1, j+1)
				return false
			}
		}
	}
	return true
}

// ringsOverlap reports whether two simple rings' interiors overlap: their sides cross, or a
// position or the middle of a side of one lies strictly inside the other.
func ringsOverlap(a, b []vpos) bool {
	f := func(p vpos) [2]float64 { return [2]float64{float64(p[0]), float64(p[1])} }
	cross := func(p, q, r [2]float64) float64 { return (q[0]-p[0])*(r[1]-p[1]) - (q[1]-p[1])*(r[0]-p[0]) }
	for i := 0; i+1 < len(a); i++ {
		for j := 0; j+1 < len(b); j++ {
			p, q, r, s := f(a[i]), f(a[i+1]), f(b[j]), f(b[j+1])
			d1, d2, d3, d4 := cross(p, q, r), cross(p, q, s), cross(r, s, p), cross(r, s, q)
			if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
				return true
			}
		}
	}
	inside := func(p [2]float64, r []vpos) bool {
		in := false
		for i := 0; i+1 < len(r); i++ {
			a, b := f(r[i]), f(r[i+1])
			if cross(a, b, p) == 0 && min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1]) {
				return false
			}
			if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < a[0]+(p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1]) {
				in = !in
			}
		}
		return in
	}
	for _, pair := range [][2][]vpos{{a, b}, {b, a}} {
		r, other := pair[0], pair[1]
		for i := 0; i+1 < len(r); i++ {
			p, q := f(r[i]), f(r[i+1])
			if inside(p, other) || inside([2]float64{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2}, other) {
				return true
			}
		}
	}
	return false
}

// checkStatement checks a due diligence statement: its shape, and that its geolocation holds
// exactly the plots of its GeoJSON file.
func (rep *Report) checkStatement(name string, data []byte, fileIDs []int64, o ValidateOptions) {
	bad := func(format string, args ...any) { rep.problem(o.MaxProblems, name+": "+format, args...) }
	var st Statement
	if err := json.Unmarshal(data, &st); err != nil {
		bad("not a statement: %v", err)
		return
	}
	rep.Statements++
	if !slices.Contains(Activities, st.Statement.ActivityType) {
		bad("activityType %q is not one of %v", st.Statement.ActivityType, Activities)
	}
	if len(st.Statement.Commodities) == 0 {
		bad("no commodities")
	}
	var got []int64
	for _, c := range st.Statement.Commodities {
		if c.HSHeading != "" && !regexp.MustCompile(`^[0-9]{4}([0-9]{2})*$`).MatchString(c.HSHeading) {
			bad("hsHeading %q is not an HS heading", c.HSHeading)
		}
		if c.Descriptors.DescriptionOfGoods == "" {
			bad("a commodity without descriptionOfGoods")
		}
		for _, p := range c.Producers {
			if !iso2.MatchString(p.Country) {
				bad("producer country %q", p.Country)
			}
			var fc struct {
				Type     string `json:"type"`
				Features []struct {
					ID int64 `json:"id"`
				} `json:"features"`
			}
			if err := json.Unmarshal(p.GeometryGeojson.Bytes(), &fc); err != nil || fc.Type != "FeatureCollection" {
				bad("producer %q: geometryGeojson is not a FeatureCollection (%v)", p.Name, err)
				continue
			}
			for _, f := range fc.Features {
				got = append(got, f.ID)
			}
		}
	}
	rep.StatementPlots += len(got)
	want := slices.Clone(fileIDs)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		bad("its geolocation holds %d plots, its file %s %d: they must be the same plots",
			len(got), "plots"+strings.TrimPrefix(strings.TrimSuffix(path.Base(name), ".json"), "dds")+".geojson", len(want))
	}
}

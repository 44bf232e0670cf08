package geo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/paulmach/orb"
)

// maxProblems caps how many problems one geometry reports: past that, the rest are counted.
const maxProblems = 20

// Problem is one thing wrong with an incoming geometry: where (a path into the GeoJSON and,
// when it has one, a coordinate) and what.
type Problem struct {
	// Path locates the problem in the geometry object, e.g. "coordinates[0][3]".
	Path string
	// Message says what is wrong in words a person can act on.
	Message string
	// Location is the position concerned, when there is one.
	Location *orb.Point
	// Code names the kind of problem and Args its values, for a user interface to say it in
	// the user's language (only the common ones have one).
	Code string
	Args map[string]string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// ParsePolygonal decodes a GeoJSON geometry object (RFC 7946) that must be a Polygon or a
// MultiPolygon and checks every rule that needs no database: the type, 2D positions of finite
// numbers, rings closed and of at least 4 positions, every position inside Vietnam (naming a
// latitude/longitude swap when that explains it) and at most lim.MaxVertices positions. It
// returns the geometry as a MultiPolygon, or every problem found (up to a cap).
func ParsePolygonal(raw []byte, lim Limits) (orb.MultiPolygon, []Problem) {
	mp, problems := DecodePolygonal(raw, lim)
	if len(problems) > 0 {
		return nil, problems
	}
	return mp, nil
}

// DecodePolygonal checks what ParsePolygonal checks, but returns the geometry whenever its
// structure can be read (a Polygon or MultiPolygon of closed rings of finite 2D positions),
// with the problems of the rules it breaks besides (outside Vietnam, too many positions): for
// a check that reports every problem of a geometry it can still look at. The geometry is nil
// when the structure itself is broken.
func DecodePolygonal(raw []byte, lim Limits) (orb.MultiPolygon, []Problem) {
	var obj struct {
		Type        *string         `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
		Geometries  json.RawMessage `json:"geometries"`
	}
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, []Problem{{Message: "geometry is missing: a plot needs a Polygon or MultiPolygon geometry"}}
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, []Problem{{Message: "geometry must be a GeoJSON object with \"type\" and \"coordinates\""}}
	}
	if obj.Type == nil {
		return nil, []Problem{{Path: "type", Message: "geometry has no \"type\": use \"Polygon\" or \"MultiPolygon\""}}
	}
	depth := 0
	switch *obj.Type {
	case "Polygon":
		depth = 3
	case "MultiPolygon":
		depth = 4
	case "Point", "MultiPoint", "LineString", "MultiLineString", "GeometryCollection":
		return nil, []Problem{{Path: "type", Message: fmt.Sprintf("geometry type %s is not accepted: a plot needs a Polygon or MultiPolygon (its boundary, not a %s)", *obj.Type, describe(*obj.Type))}}
	default:
		return nil, []Problem{{Path: "type", Message: fmt.Sprintf("%q is not a GeoJSON geometry type: use \"Polygon\" or \"MultiPolygon\"", *obj.Type)}}
	}
	if len(obj.Coordinates) == 0 {
		return nil, []Problem{{Path: "coordinates", Message: "geometry has no \"coordinates\""}}
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(obj.Coordinates))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, []Problem{{Path: "coordinates", Message: "coordinates are not valid JSON"}}
	}
	c := checker{lim: lim}
	var mp orb.MultiPolygon
	if depth == 3 {
		if poly, ok := c.polygon(tree, "coordinates"); ok {
			mp = orb.MultiPolygon{poly}
		}
	} else {
		polys, ok := tree.([]any)
		if !ok {
			c.add("coordinates", "a MultiPolygon's coordinates must be an array of polygons", nil)
		} else if len(polys) == 0 {
			c.add("coordinates", "a MultiPolygon needs at least one polygon", nil)
		}
		for i, p := range polys {
			if poly, ok := c.polygon(p, fmt.Sprintf("coordinates[%d]", i)); ok {
				mp = append(mp, poly)
			}
		}
	}
	readable := len(c.problems) == 0
	if readable {
		c.checkExtent(mp)
	}
	if c.vertices > lim.MaxVertices && lim.MaxVertices > 0 {
		c.add("coordinates", fmt.Sprintf("geometry has %d positions, more than the limit of %d: simplify it (a surveyed parcel rarely needs more than a few hundred)", c.vertices, lim.MaxVertices), nil)
	}
	if !readable {
		return nil, c.result()
	}
	if len(c.problems) > 0 {
		return mp, c.result()
	}
	return mp, nil
}

// ParseLine decodes a GeoJSON LineString (a line to split a plot along, say): at least two
// distinct 2D positions of finite numbers, every one inside Vietnam. It returns the line, or
// every problem found.
func ParseLine(raw []byte) (orb.LineString, []Problem) {
	var obj struct {
		Type        *string         `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, []Problem{{Message: "the line is missing: send a GeoJSON LineString"}}
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Type == nil {
		return nil, []Problem{{Message: "the line must be a GeoJSON LineString: {\"type\": \"LineString\", \"coordinates\": [[lon, lat], ...]}"}}
	}
	if *obj.Type != "LineString" {
		return nil, []Problem{{Path: "type", Message: fmt.Sprintf("geometry type %s is not accepted: the line is a LineString", *obj.Type)}}
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(obj.Coordinates))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, []Problem{{Path: "coordinates", Message: "coordinates are not valid JSON"}}
	}
	positions, ok := tree.([]any)
	if !ok {
		return nil, []Problem{{Path: "coordinates", Message: "a LineString's coordinates must be an array of [longitude, latitude] positions"}}
	}
	c := checker{}
	var line orb.LineString
	for i, p := range positions {
		if pt, ok := c.position(p, fmt.Sprintf("coordinates[%d]", i)); ok {
			line = append(line, pt)
		}
	}
	if len(c.problems) == 0 {
		distinct := 0
		for i := range line {
			if i == 0 || line[i] != line[i-1] {
				distinct++
			}
		}
		if distinct < 2 {
			c.add("coordinates", "a line needs at least two different positions", nil)
		} else {
			c.checkExtent(orb.MultiPolygon{{orb.Ring(line)}})
		}
	}
	if len(c.problems) > 0 {
		return nil, c.result()
	}
	return line, nil
}

func describe(t string) string {
	switch t {
	case "Point", "MultiPoint":
		return "point"
	case "LineString", "MultiLineString":
		return "line"
	}
	return "collection"
}

type checker struct {
	lim      Limits
	problems []Problem
	dropped  int
	vertices int
}

func (c *checker) add(path, msg string, at *orb.Point) {
	if len(c.problems) >= maxProblems {
		c.dropped++
		return
	}
	c.problems = append(c.problems, Problem{Path: path, Message: msg, Location: at})
}

// addCoded is add with the problem's code and values.
func (c *checker) addCoded(path, msg string, at *orb.Point, code string, args map[string]string) {
	n := len(c.problems)
	c.add(path, msg, at)
	if len(c.problems) > n {
		c.problems[n].Code, c.problems[n].Args = code, args
	}
}

func (c *checker) result() []Problem {
	if c.dropped > 0 {
		return append(c.problems, Problem{Message: fmt.Sprintf("and %d more problems", c.dropped)})
	}
	return c.problems
}

func (c *checker) polygon(v any, path string) (orb.Polygon, bool) {
	rings, ok := v.([]any)
	if !ok {
		c.add(path, "a polygon must be an array of rings (arrays of [longitude, latitude] positions)", nil)
		return nil, false
	}
	if len(rings) == 0 {
		c.add(path, "a polygon needs at least its outer ring", nil)
		return nil, false
	}
	poly := make(orb.Polygon, 0, len(rings))
	good := true
	for i, r := range rings {
		ring, ok := c.ring(r, fmt.Sprintf("%s[%d]", path, i))
		good = good && ok
		poly = append(poly, ring)
	}
	return poly, good
}

func (c *checker) ring(v any, path string) (orb.Ring, bool) {
	positions, ok := v.([]any)
	if !ok {
		c.add(path, "a ring must be an array of [longitude, latitude] positions", nil)
		return nil, false
	}
	ring := make(orb.Ring, 0, len(positions))
	good := true
	for i, p := range positions {
		pt, ok := c.position(p, fmt.Sprintf("%s[%d]", path, i))
		good = good && ok
		ring = append(ring, pt)
	}
	c.vertices += len(positions)
	if !good {
		return nil, false
	}
	if len(ring) < 4 {
		c.add(path, fmt.Sprintf("ring has %d positions: a closed ring needs at least 4 (three corners and the first repeated at the end)", len(ring)), nil)
		return nil, false
	}
	if first, last := ring[0], ring[len(ring)-1]; first != last {
		c.addCoded(path, fmt.Sprintf("ring is not closed: it starts at %s and ends at %s; repeat the first position at the end", fmtPoint(first), fmtPoint(last)), &last,
			"ring_not_closed", map[string]string{"first": fmtPoint(first), "last": fmtPoint(last)})
		return nil, false
	}
	return ring, true
}

func (c *checker) position(v any, path string) (orb.Point, bool) {
	arr, ok := v.([]any)
	if !ok {
		c.add(path, fmt.Sprintf("a position must be an array [longitude, latitude], not %s", jsonKind(v)), nil)
		return orb.Point{}, false
	}
	switch {
	case len(arr) < 2:
		c.add(path, fmt.Sprintf("a position needs 2 numbers [longitude, latitude], this one has %d", len(arr)), nil)
		return orb.Point{}, false
	case len(arr) > 2:
		c.add(path, fmt.Sprintf("position has %d values: only 2D [longitude, latitude] positions are accepted; drop the height", len(arr)), nil)
		return orb.Point{}, false
	}
	var pt orb.Point
	for i, x := range arr {
		axis := [2]string{"longitude", "latitude"}[i]
		n, ok := x.(json.Number)
		if !ok {
			c.add(fmt.Sprintf("%s[%d]", path, i), fmt.Sprintf("%s is %s: coordinates must be JSON numbers", axis, jsonKind(x)), nil)
			return orb.Point{}, false
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			c.add(fmt.Sprintf("%s[%d]", path, i), fmt.Sprintf("%s %s is not a finite number", axis, n), nil)
			return orb.Point{}, false
		}
		pt[i] = f
	}
	return pt, true
}

// checkExtent reports the first position outside Vietnam, and names a latitude/longitude swap
// when swapping every position would put the whole geometry inside.
func (c *checker) checkExtent(mp orb.MultiPolygon) {
	var outside *orb.Point
	outPath := ""
	swappedInside := true
	for i, poly := range mp {
		for j, ring := range poly {
			for k, p := range ring {
				if !InVietnam(orb.Point{p[1], p[0]}) {
					swappedInside = false
				}
				if outside == nil && !InVietnam(p) {
					q := p
					outside = &q
					outPath = fmt.Sprintf("coordinates[%d][%d][%d]", i, j, k)
				}
			}
		}
	}
	if outside == nil {
		return
	}
	if swappedInside {
		c.addCoded(outPath, fmt.Sprintf("position %s is outside Vietnam, but swapped it would be inside: the coordinates look like [latitude, longitude]; GeoJSON order is [longitude, latitude], so swap them", fmtPoint(*outside)), outside,
			"lat_lon_swapped", map[string]string{"at": fmtPoint(*outside)})
		return
	}
	c.addCoded(outPath, fmt.Sprintf("position %s lies outside Vietnam (longitude 102°E to 118°E, latitude 6°N to 23.5°N): check the coordinate system; projected VN-2000 metres must be converted to WGS 84 degrees", fmtPoint(*outside)), outside,
		"position_outside_vietnam", map[string]string{"at": fmtPoint(*outside)})
}

func fmtPoint(p orb.Point) string {
	return "[" + strconv.FormatFloat(p[0], 'f', -1, 64) + ", " + strconv.FormatFloat(p[1], 'f', -1, 64) + "]"
}

func jsonKind(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("a string (%q)", x)
	case bool:
		return "a boolean"
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "a number"
}

// CheckMultiPolygon checks a decoded polygonal geometry (from a Shapefile, KML, WKT...) by the
// rules ParsePolygonal applies to GeoJSON: finite coordinates, rings closed with at least 4
// positions, at most lim.MaxVertices positions and, when degrees is set (longitude/latitude
// input), every position inside Vietnam, naming a latitude/longitude swap.
func CheckMultiPolygon(mp orb.MultiPolygon, lim Limits, degrees bool) []Problem {
	c := checker{lim: lim}
	if len(mp) == 0 {
		return []Problem{{Message: "the geometry is empty: a plot needs a polygon"}}
	}
	for i, poly := range mp {
		if len(poly) == 0 {
			c.add(fmt.Sprintf("coordinates[%d]", i), "a polygon needs at least its outer ring", nil)
		}
		for j, ring := range poly {
			path := fmt.Sprintf("coordinates[%d][%d]", i, j)
			c.vertices += len(ring)
			finite := true
			for k, p := range ring {
				if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
					c.add(fmt.Sprintf("%s[%d]", path, k), "a coordinate is not a finite number", nil)
					finite = false
					break
				}
			}
			switch {
			case !finite:
			case len(ring) < 4:
				c.add(path, fmt.Sprintf("ring has %d positions: a closed ring needs at least 4 (three corners and the first repeated at the end)", len(ring)), nil)
			case ring[0] != ring[len(ring)-1]:
				last := ring[len(ring)-1]
				c.addCoded(path, fmt.Sprintf("ring is not closed: it starts at %s and ends at %s", fmtPoint(ring[0]), fmtPoint(last)), &last,
					"ring_not_closed", map[string]string{"first": fmtPoint(ring[0]), "last": fmtPoint(last)})
			}
		}
	}
	if degrees && len(c.problems) == 0 {
		c.checkExtent(mp)
	}
	if c.vertices > lim.MaxVertices && lim.MaxVertices > 0 {
		c.add("coordinates", fmt.Sprintf("geometry has %d positions, more than the limit of %d: simplify it", c.vertices, lim.MaxVertices), nil)
	}
	return c.result()
}

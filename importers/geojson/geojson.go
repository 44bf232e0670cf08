// Package geojson streams the features of a GeoJSON file (RFC 7946, and the older 2008 form
// with a "crs" member) without reading the whole file: a FeatureCollection's features are
// decoded one at a time.
package geojson

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/importers"
	"golang.org/x/text/unicode/norm"
)

// Decoder reads a GeoJSON FeatureCollection, a single Feature or a bare geometry.
type Decoder struct {
	dec    *json.Decoder
	lim    importers.Limits
	count  importers.Counter
	info   importers.Info
	n      int
	single *rawFeature // a lone Feature or geometry, returned once
	inList bool
	done   bool
}

type rawFeature struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Properties json.RawMessage `json:"properties"`
	Geometry   json.RawMessage `json:"geometry"`
	// A bare geometry.
	Coordinates json.RawMessage `json:"coordinates"`
	Geometries  json.RawMessage `json:"geometries"`
}

// featureOf finds the members of one element of "features" (valid JSON: the json.Decoder
// read it). Member names match whatever their case, as encoding/json matches them.
func featureOf(b []byte) (*rawFeature, error) {
	raw := &rawFeature{}
	if string(b) == "null" {
		return raw, nil
	}
	var typ []byte
	if !eachMember(b, func(key string, v []byte) {
		switch strings.ToLower(key) {
		case "type":
			typ = v
		case "id":
			raw.ID = v
		case "properties":
			raw.Properties = v
		case "geometry":
			raw.Geometry = v
		}
	}) {
		return nil, fmt.Errorf("an element of \"features\" must be a JSON object (a Feature), not %s", jsonKind(b))
	}
	if typ != nil && string(typ) != "null" {
		if !isString(typ) {
			return nil, fmt.Errorf("\"type\" must be a string, not %s", jsonKind(typ))
		}
		raw.Type = jsonString(typ)
	}
	return raw, nil
}

// jsonKind names the kind of the JSON value b, for messages.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// NewDecoder reads GeoJSON from r. It reads up to the first feature, so that a "crs" member
// written before the features (as GDAL and QGIS write it) is known before any feature is.
func NewDecoder(r io.Reader, lim importers.Limits) (*Decoder, error) {
	d := &Decoder{dec: json.NewDecoder(bufio.NewReaderSize(r, 1<<16)), lim: lim,
		info: importers.Info{Format: "GeoJSON", Encoding: "utf-8"}}
	d.count.Limits = lim
	d.info.CRS = importers.CRS{SRID: 4326, Name: "WGS 84 (longitude/latitude, RFC 7946)", From: "GeoJSON default"}
	if err := d.start(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Decoder) syntax(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return importers.Errorf(fmt.Sprintf("after feature %d", d.n), "the file ends before the JSON is complete: it is truncated")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return importers.Errorf(fmt.Sprintf("byte %d", se.Offset), "not valid JSON (%v)", se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return importers.Errorf(fmt.Sprintf("feature %d", d.n), "%q should be %s, not a JSON %s", te.Field, te.Type, te.Value)
	}
	return err
}

// start reads the top-level object's members up to the features array.
func (d *Decoder) start() error {
	tok, err := d.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return importers.Errorf("", "the file is empty")
		}
		return d.syntax(err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return importers.Errorf("byte 0", "a GeoJSON file must hold one JSON object (a FeatureCollection), not %v", tok)
	}
	top := &rawFeature{}
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return d.syntax(err)
		}
		key, _ := tok.(string)
		switch key {
		case "features":
			tok, err := d.dec.Token()
			if err != nil {
				return d.syntax(err)
			}
			if delim, ok := tok.(json.Delim); !ok || delim != '[' {
				return importers.Errorf("features", "\"features\" must be an array")
			}
			d.inList = true
			return nil
		case "crs":
			var crs struct {
				Type       string `json:"type"`
				Properties struct {
					Name string `json:"name"`
				} `json:"properties"`
			}
			if err := d.dec.Decode(&crs); err != nil {
				return d.syntax(err)
			}
			c, err := parseCRSName(crs.Properties.Name)
			if err != nil {
				return err
			}
			d.info.CRS = c
		case "type":
			if err := d.dec.Decode(&top.Type); err != nil {
				return d.syntax(err)
			}
		case "id":
			if err := d.dec.Decode(&top.ID); err != nil {
				return d.syntax(err)
			}
		case "properties":
			if err := d.dec.Decode(&top.Properties); err != nil {
				return d.syntax(err)
			}
		case "geometry":
			if err := d.dec.Decode(&top.Geometry); err != nil {
				return d.syntax(err)
			}
		case "coordinates":
			if err := d.dec.Decode(&top.Coordinates); err != nil {
				return d.syntax(err)
			}
		case "geometries":
			if err := d.dec.Decode(&top.Geometries); err != nil {
				return d.syntax(err)
			}
		default:
			var skip json.RawMessage
			if err := d.dec.Decode(&skip); err != nil {
				return d.syntax(err)
			}
		}
	}
	if _, err := d.dec.Token(); err != nil {
		return d.syntax(err)
	}
	switch top.Type {
	case "Feature":
		d.single = top
	case "FeatureCollection":
		// no features member: an empty collection
	case "Polygon", "MultiPolygon", "Point", "MultiPoint", "LineString", "MultiLineString", "GeometryCollection":
		raw, _ := json.Marshal(map[string]json.RawMessage{"type": json.RawMessage(strconv.Quote(top.Type)), "coordinates": top.Coordinates, "geometries": top.Geometries})
		d.single = &rawFeature{Type: "Feature", Geometry: raw}
	case "":
		return importers.Errorf("", "the JSON object has no \"type\": a GeoJSON file is a FeatureCollection, a Feature or a geometry")
	default:
		return importers.Errorf("type", "%q is not a GeoJSON type", top.Type)
	}
	return nil
}

// Info describes the file.
func (d *Decoder) Info() importers.Info { return d.info }

// Next returns the next feature, or io.EOF.
func (d *Decoder) Next() (*importers.Feature, error) {
	if d.done {
		return nil, io.EOF
	}
	var raw *rawFeature
	switch {
	case d.single != nil:
		raw, d.single, d.done = d.single, nil, true
	case d.inList:
		if !d.dec.More() {
			d.done = true
			if _, err := d.dec.Token(); err != nil { // ]
				return nil, d.syntax(err)
			}
			return nil, io.EOF
		}
		var msg json.RawMessage
		if err := d.dec.Decode(&msg); err != nil {
			d.n++
			return nil, d.syntax(err)
		}
		var err error
		if raw, err = featureOf(msg); err != nil {
			d.n++
			return nil, importers.Errorf(fmt.Sprintf("feature %d", d.n), "%v", err)
		}
	default:
		d.done = true
		return nil, io.EOF
	}
	d.n++
	f := &importers.Feature{N: d.n}
	if raw.Type != "Feature" {
		f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: "type", Message: fmt.Sprintf("an element of \"features\" must have \"type\": \"Feature\", not %q", raw.Type)})
	}
	f.ID = scalar(raw.ID)
	if len(raw.Properties) > 0 && string(raw.Properties) != "null" {
		if !eachMember(raw.Properties, func(k string, v []byte) {
			// A name written twice keeps its last value, as a JSON object decoded into a map does.
			for i := range f.Props {
				if f.Props[i].Name == k {
					f.Props[i].Value = scalar(v)
					return
				}
			}
			f.Props = append(f.Props, importers.Prop{Name: k, Value: scalar(v)})
		}) {
			return nil, importers.Errorf(fmt.Sprintf("feature %d", d.n), "\"properties\" must be a JSON object, not %s", jsonKind(raw.Properties))
		}
	}
	g, err := parseGeometry(raw.Geometry, 0)
	if err != nil {
		f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: "geometry", Message: err.Error()})
	}
	f.Geometry = g
	if err := d.count.Add(importers.CountVertices(g), d.n); err != nil {
		return nil, err
	}
	return f, nil
}

// scalar returns a JSON scalar as text (strings unquoted, NFC), and other JSON as it is.
func scalar(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	if v[0] == '"' {
		return norm.NFC.String(jsonString(v))
	}
	return string(v)
}

// parseCRSName reads the old GeoJSON crs member's name: "EPSG:32648",
// "urn:ogc:def:crs:EPSG::9218", "urn:ogc:def:crs:OGC:1.3:CRS84".
func parseCRSName(name string) (importers.CRS, error) {
	l := strings.ToUpper(name)
	if strings.HasSuffix(l, "CRS84") {
		return importers.CRS{SRID: 4326, Name: "WGS 84 (longitude/latitude)", From: "crs member"}, nil
	}
	i := strings.LastIndexAny(l, ":")
	if i < 0 || !strings.Contains(l, "EPSG") {
		return importers.CRS{}, importers.Errorf("crs", "the crs %q is not an EPSG code: use --srs to name the coordinate system", name)
	}
	code, err := strconv.Atoi(l[i+1:])
	if err != nil {
		return importers.CRS{}, importers.Errorf("crs", "the crs %q is not an EPSG code: use --srs to name the coordinate system", name)
	}
	return importers.EPSG(code, "crs member")
}

// maxDepth of GeometryCollections inside each other.
const maxDepth = 4

// parseGeometry decodes a GeoJSON geometry. Positions with a third value (height) keep only
// longitude and latitude.
func parseGeometry(raw json.RawMessage, depth int) (orb.Geometry, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var g struct {
		Type        string
		Coordinates json.RawMessage
		Geometries  []json.RawMessage
	}
	var typ, geometries []byte
	if !eachMember(raw, func(key string, v []byte) {
		switch strings.ToLower(key) {
		case "type":
			typ = v
		case "coordinates":
			g.Coordinates = v
		case "geometries":
			geometries = v
		}
	}) || (typ != nil && !isString(typ) && string(typ) != "null") {
		return nil, fmt.Errorf("not a GeoJSON geometry object")
	}
	g.Type = jsonString(typ)
	if typ == nil || string(typ) == "null" {
		g.Type = ""
	}
	if geometries != nil && string(geometries) != "null" && !eachElement(geometries, func(v []byte) { g.Geometries = append(g.Geometries, v) }) {
		return nil, fmt.Errorf("not a GeoJSON geometry object")
	}
	levels := map[string]int{"Point": 1, "MultiPoint": 2, "LineString": 2, "MultiLineString": 3, "Polygon": 3, "MultiPolygon": 4}
	if g.Type == "GeometryCollection" {
		if depth >= maxDepth {
			return nil, fmt.Errorf("GeometryCollections nested more than %d deep", maxDepth)
		}
		var c orb.Collection
		for _, m := range g.Geometries {
			x, err := parseGeometry(m, depth+1)
			if err != nil {
				return nil, err
			}
			if x != nil {
				c = append(c, x)
			}
		}
		return c, nil
	}
	level, ok := levels[g.Type]
	if !ok {
		return nil, fmt.Errorf("%q is not a GeoJSON geometry type", g.Type)
	}
	p := coordParser{s: g.Coordinates}
	tree, err := p.value(level)
	if err != nil {
		return nil, fmt.Errorf("coordinates: %v", err)
	}
	switch g.Type {
	case "Point":
		return tree.pt, nil
	case "MultiPoint":
		return orb.MultiPoint(tree.line()), nil
	case "LineString":
		return orb.LineString(tree.line()), nil
	case "MultiLineString":
		var ml orb.MultiLineString
		for _, l := range tree.kids {
			ml = append(ml, orb.LineString(l.line()))
		}
		return ml, nil
	case "Polygon":
		return tree.polygon(), nil
	}
	var mp orb.MultiPolygon
	for _, p := range tree.kids {
		mp = append(mp, p.polygon())
	}
	return mp, nil
}

// coords is a parsed coordinates array: a position at level 1, else nested arrays.
type coords struct {
	pt   orb.Point
	kids []coords
}

func (c coords) line() []orb.Point {
	out := make([]orb.Point, len(c.kids))
	for i, k := range c.kids {
		out[i] = k.pt
	}
	return out
}

func (c coords) polygon() orb.Polygon {
	poly := make(orb.Polygon, len(c.kids))
	for i, r := range c.kids {
		poly[i] = orb.Ring(r.line())
	}
	return poly
}

// coordParser reads nested arrays of numbers without building interface values.
type coordParser struct {
	s   []byte
	pos int
}

func (p *coordParser) ws() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\n' || p.s[p.pos] == '\r' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *coordParser) value(level int) (coords, error) {
	p.ws()
	if p.pos >= len(p.s) || p.s[p.pos] != '[' {
		if level == 1 {
			return coords{}, fmt.Errorf("a position must be an array [x, y]")
		}
		return coords{}, fmt.Errorf("expected an array at character %d", p.pos+1)
	}
	p.pos++
	var c coords
	if level == 1 {
		var xs [2]float64
		n := 0
		for {
			p.ws()
			if p.pos < len(p.s) && p.s[p.pos] == ']' {
				p.pos++
				break
			}
			if n > 0 {
				if p.pos >= len(p.s) || p.s[p.pos] != ',' {
					return c, fmt.Errorf("expected , at character %d", p.pos+1)
				}
				p.pos++
				p.ws()
			}
			start := p.pos
			for p.pos < len(p.s) && strings.IndexByte("+-.0123456789eE", p.s[p.pos]) >= 0 {
				p.pos++
			}
			f, err := strconv.ParseFloat(string(p.s[start:p.pos]), 64)
			if err != nil || math.IsInf(f, 0) {
				end := min(p.pos+8, len(p.s))
				return c, fmt.Errorf("%q is not a number: coordinates must be JSON numbers", string(p.s[start:end]))
			}
			if n < 2 {
				xs[n] = f
			}
			n++
		}
		if n < 2 {
			return c, fmt.Errorf("a position needs two numbers [x, y], this one has %d", n)
		}
		c.pt = orb.Point{xs[0], xs[1]}
		return c, nil
	}
	for {
		p.ws()
		if p.pos < len(p.s) && p.s[p.pos] == ']' {
			p.pos++
			return c, nil
		}
		if len(c.kids) > 0 {
			if p.pos >= len(p.s) || p.s[p.pos] != ',' {
				return c, fmt.Errorf("expected , at character %d", p.pos+1)
			}
			p.pos++
		}
		k, err := p.value(level - 1)
		if err != nil {
			return c, err
		}
		c.kids = append(c.kids, k)
	}
}

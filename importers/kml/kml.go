// Package kml streams the Placemarks of a KML file, or of the doc.kml inside a KMZ, as Google
// Earth writes them: nested Folders, Polygon and MultiGeometry, ExtendedData with Data or
// SchemaData. XML entities are not expanded: a file that declares any is refused.
package kml

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/importers"
	"golang.org/x/text/unicode/norm"
)

// Decoder streams Placemarks.
type Decoder struct {
	dec     *xml.Decoder
	closer  io.Closer
	info    importers.Info
	lim     importers.Limits
	count   importers.Counter
	n       int
	folders []string
}

// Open opens a .kml file, or a .kmz (or .zip) holding one.
func Open(path string, lim importers.Limits) (*Decoder, error) {
	if strings.EqualFold(filepath.Ext(path), ".kmz") && !importers.IsZip(path) {
		return nil, importers.Errorf("", "this .kmz is not a zip archive: a KMZ is a zipped KML (doc.kml inside); if it is a plain KML, rename it to .kml")
	}
	if importers.IsZip(path) {
		z, err := importers.OpenZip(path, "the KMZ", lim)
		if err != nil {
			return nil, err
		}
		var doc *zip.File
		for _, e := range z.File {
			if strings.EqualFold(filepath.Ext(e.Name), ".kml") && (doc == nil || strings.EqualFold(e.Name, "doc.kml")) {
				doc = e
			}
		}
		if doc == nil {
			z.Close()
			return nil, importers.Errorf("", "the KMZ holds no .kml document")
		}
		r, err := z.OpenEntry(doc)
		if err != nil {
			z.Close()
			return nil, err
		}
		d := NewDecoder(r, lim)
		d.info.Format = "KMZ"
		d.closer = multiCloser{r, z}
		return d, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	d := NewDecoder(f, lim)
	d.closer = f
	return d, nil
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	for _, c := range m {
		c.Close()
	}
	return nil
}

// NewDecoder reads KML from r.
func NewDecoder(r io.Reader, lim importers.Limits) *Decoder {
	dec := xml.NewDecoder(r)
	dec.Strict = true
	dec.Entity = nil // only the five XML entities; nothing a file declares is expanded
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if l := strings.ToLower(label); l == "utf-8" || l == "utf8" || l == "us-ascii" {
			return in, nil
		}
		return nil, fmt.Errorf("the KML is in %q: save it as UTF-8 (as Google Earth does)", label)
	}
	d := &Decoder{dec: dec, lim: lim, info: importers.Info{Format: "KML", Encoding: "utf-8",
		CRS: importers.CRS{SRID: 4326, Name: "WGS 84 (longitude/latitude, as KML requires)", From: "KML"}}}
	d.count.Limits = lim
	return d
}

// Info describes the file.
func (d *Decoder) Info() importers.Info { return d.info }

// Close closes the file.
func (d *Decoder) Close() error {
	if d.closer != nil {
		return d.closer.Close()
	}
	return nil
}

func (d *Decoder) xmlError(err error) error {
	line, _ := d.dec.InputPos()
	where := fmt.Sprintf("line %d", line)
	var se *xml.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &se) && strings.Contains(se.Msg, "unexpected EOF")):
		return importers.Errorf(where, "the file ends in the middle of the XML: it is truncated")
	case errors.As(err, &se) && strings.Contains(se.Msg, "entity"):
		return importers.Errorf(where, "the XML uses an entity it declares itself (%s): entity expansion is off (it is how 'billion laughs' attacks work); export the file again from Google Earth", se.Msg)
	case errors.As(err, &se):
		return importers.Errorf(where, "not valid XML: %s", se.Msg)
	}
	return importers.Errorf(where, "%v", err)
}

// Next returns the next Placemark, or io.EOF.
func (d *Decoder) Next() (*importers.Feature, error) {
	for {
		tok, err := d.dec.Token()
		if err == io.EOF {
			if d.n == 0 && d.info.Layer == "" {
				return nil, importers.Errorf("", "no <kml> document found: this is not a KML file")
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, d.xmlError(err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			if bytes.Contains(bytes.ToUpper(t), []byte("ENTITY")) {
				line, _ := d.dec.InputPos()
				return nil, importers.Errorf(fmt.Sprintf("line %d", line), "the file declares XML entities (<!ENTITY ...>): refused, because entity expansion is how 'billion laughs' attacks work and KML never needs it")
			}
		case xml.StartElement:
			switch t.Name.Local {
			case "kml":
				d.info.Layer = "kml"
			case "Document", "Folder":
				d.folders = append(d.folders, "")
			case "name":
				if len(d.folders) > 0 && d.folders[len(d.folders)-1] == "" {
					var name string
					if err := d.dec.DecodeElement(&name, &t); err != nil {
						return nil, d.xmlError(err)
					}
					d.folders[len(d.folders)-1] = strings.TrimSpace(name)
				}
			case "Placemark":
				var pm placemark
				if err := d.dec.DecodeElement(&pm, &t); err != nil {
					return nil, d.xmlError(err)
				}
				d.n++
				f, err := d.feature(&pm)
				if err != nil {
					return nil, err
				}
				return f, nil
			}
		case xml.EndElement:
			if (t.Name.Local == "Document" || t.Name.Local == "Folder") && len(d.folders) > 0 {
				d.folders = d.folders[:len(d.folders)-1]
			}
		}
	}
}

type placemark struct {
	ID          string `xml:"id,attr"`
	Name        string `xml:"name"`
	Description string `xml:"description"`
	Data        []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value"`
	} `xml:"ExtendedData>Data"`
	SimpleData []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:",chardata"`
	} `xml:"ExtendedData>SchemaData>SimpleData"`
	geometry
}

type geometry struct {
	Polygon    []polygon  `xml:"Polygon"`
	Multi      []geometry `xml:"MultiGeometry"`
	Point      []coordsEl `xml:"Point"`
	LineString []coordsEl `xml:"LineString"`
	LinearRing []coordsEl `xml:"LinearRing"`
}

type polygon struct {
	Outer string   `xml:"outerBoundaryIs>LinearRing>coordinates"`
	Inner []string `xml:"innerBoundaryIs>LinearRing>coordinates"`
}

type coordsEl struct {
	Coordinates string `xml:"coordinates"`
}

func (d *Decoder) feature(pm *placemark) (*importers.Feature, error) {
	f := &importers.Feature{N: d.n, ID: strings.TrimSpace(pm.ID)}
	add := func(name, value string) {
		f.Props = append(f.Props, importers.Prop{Name: strings.TrimSpace(name), Value: norm.NFC.String(strings.TrimSpace(value))})
	}
	if pm.Name != "" {
		add("name", pm.Name)
	}
	if pm.Description != "" {
		add("description", pm.Description)
	}
	for _, x := range pm.Data {
		add(x.Name, x.Value)
	}
	for _, x := range pm.SimpleData {
		add(x.Name, x.Value)
	}
	if folder := strings.Join(nonEmpty(d.folders), " / "); folder != "" {
		add("folder", folder)
	}
	g, err := d.build(&pm.geometry, 0)
	if err != nil {
		f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: "geometry", Message: err.Error()})
	}
	f.Geometry = g
	n := importers.CountVertices(g)
	if err := d.count.Add(n, d.n); err != nil {
		return nil, err
	}
	if d.lim.MaxFeatureVertices > 0 && n > d.lim.MaxFeatureVertices {
		f.Geometry = nil
		f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: "geometry", Message: fmt.Sprintf("more than %d vertices", d.lim.MaxFeatureVertices)})
	}
	return f, nil
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// build turns a Placemark's geometry into one orb geometry: polygons alone make a MultiPolygon,
// anything mixed a Collection.
func (d *Decoder) build(g *geometry, depth int) (orb.Geometry, error) {
	if depth > 8 {
		return nil, fmt.Errorf("MultiGeometry nested more than 8 deep")
	}
	var polys orb.MultiPolygon
	var others orb.Collection
	for _, p := range g.Polygon {
		outer, err := parseCoords(p.Outer)
		if err != nil {
			return nil, fmt.Errorf("Polygon outerBoundaryIs: %v", err)
		}
		poly := orb.Polygon{orb.Ring(outer)}
		for i, in := range p.Inner {
			r, err := parseCoords(in)
			if err != nil {
				return nil, fmt.Errorf("Polygon innerBoundaryIs %d: %v", i+1, err)
			}
			poly = append(poly, orb.Ring(r))
		}
		polys = append(polys, poly)
	}
	for _, m := range g.Multi {
		x, err := d.build(&m, depth+1)
		if err != nil {
			return nil, err
		}
		switch x := x.(type) {
		case orb.MultiPolygon:
			polys = append(polys, x...)
		case nil:
		case orb.Collection:
			others = append(others, x...)
		default:
			others = append(others, x)
		}
	}
	for _, p := range g.Point {
		pts, err := parseCoords(p.Coordinates)
		if err != nil || len(pts) != 1 {
			return nil, fmt.Errorf("Point: a point needs one longitude,latitude pair")
		}
		others = append(others, pts[0])
	}
	for _, l := range g.LineString {
		pts, err := parseCoords(l.Coordinates)
		if err != nil {
			return nil, fmt.Errorf("LineString: %v", err)
		}
		others = append(others, orb.LineString(pts))
	}
	for _, l := range g.LinearRing {
		pts, err := parseCoords(l.Coordinates)
		if err != nil {
			return nil, fmt.Errorf("LinearRing: %v", err)
		}
		others = append(others, orb.LineString(pts))
	}
	switch {
	case len(others) == 0 && len(polys) == 0:
		return nil, nil
	case len(others) == 0:
		return polys, nil
	case len(polys) == 0 && len(others) == 1:
		return others[0], nil
	}
	for _, p := range polys {
		others = append(others, p)
	}
	return others, nil
}

// parseCoords reads "lon,lat[,alt] lon,lat[,alt] ...".
func parseCoords(s string) ([]orb.Point, error) {
	var pts []orb.Point
	for i, tuple := range strings.Fields(s) {
		parts := strings.Split(tuple, ",")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("position %d (%q) is not longitude,latitude[,altitude]", i+1, tuple)
		}
		lon, err1 := strconv.ParseFloat(parts[0], 64)
		lat, err2 := strconv.ParseFloat(parts[1], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("position %d (%q) is not two numbers", i+1, tuple)
		}
		pts = append(pts, orb.Point{lon, lat})
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("no coordinates")
	}
	return pts, nil
}

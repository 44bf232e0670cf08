// Package gpx streams the tracks and routes of a GPX file (GPS Exchange Format 1.0/1.1). A track
// or route walked around a plot, ending where it started, becomes the plot's polygon.
package gpx

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/vungtrong/vungtrong/importers"
	"golang.org/x/text/unicode/norm"
)

// Options control how tracks become polygons.
type Options struct {
	Limits importers.Limits
	// CloseWithin is how far (metres) a walk may end from its start and still be closed: a
	// GPS seldom returns to the very same spot.
	CloseWithin float64
}

// Decoder streams the tracks and routes of a GPX file; waypoints are counted, not returned.
type Decoder struct {
	dec       *xml.Decoder
	opt       Options
	info      importers.Info
	count     importers.Counter
	n         int
	waypoints int
}

// NewDecoder reads GPX from r.
func NewDecoder(r io.Reader, opt Options) *Decoder {
	dec := xml.NewDecoder(r)
	dec.Strict = true
	dec.Entity = nil
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if l := strings.ToLower(label); l == "utf-8" || l == "utf8" || l == "us-ascii" {
			return in, nil
		}
		return nil, fmt.Errorf("the GPX is in %q: save it as UTF-8", label)
	}
	if opt.CloseWithin == 0 {
		opt.CloseWithin = 15
	}
	d := &Decoder{dec: dec, opt: opt, info: importers.Info{Format: "GPX", Encoding: "utf-8",
		CRS: importers.CRS{SRID: 4326, Name: "WGS 84 (longitude/latitude, as GPX requires)", From: "GPX"}}}
	d.count.Limits = opt.Limits
	return d
}

// Info describes the file.
func (d *Decoder) Info() importers.Info {
	i := d.info
	if d.waypoints > 0 {
		i.Layer = fmt.Sprintf("%d waypoints not imported (a plot is a walk around it, not a point)", d.waypoints)
	}
	return i
}

type point struct {
	Lat *float64 `xml:"lat,attr"`
	Lon *float64 `xml:"lon,attr"`
}

type walk struct {
	Name   string `xml:"name"`
	Desc   string `xml:"desc"`
	Trkseg []struct {
		Points []point `xml:"trkpt"`
	} `xml:"trkseg"`
	Rtept []point `xml:"rtept"`
}

// Next returns the next track or route as a feature, or io.EOF.
func (d *Decoder) Next() (*importers.Feature, error) {
	for {
		tok, err := d.dec.Token()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			line, _ := d.dec.InputPos()
			var se *xml.SyntaxError
			if errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &se) && strings.Contains(se.Msg, "unexpected EOF")) {
				return nil, importers.Errorf(fmt.Sprintf("line %d", line), "the file ends in the middle of the XML: it is truncated")
			}
			return nil, importers.Errorf(fmt.Sprintf("line %d", line), "not valid XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			if bytes.Contains(bytes.ToUpper(t), []byte("ENTITY")) {
				line, _ := d.dec.InputPos()
				return nil, importers.Errorf(fmt.Sprintf("line %d", line), "the file declares XML entities (<!ENTITY ...>): refused, entity expansion is off")
			}
		case xml.StartElement:
			switch t.Name.Local {
			case "wpt":
				d.waypoints++
				if err := d.dec.Skip(); err != nil {
					return nil, importers.Errorf("", "not valid XML: %v", err)
				}
			case "trk", "rte":
				var w walk
				if err := d.dec.DecodeElement(&w, &t); err != nil {
					line, _ := d.dec.InputPos()
					return nil, importers.Errorf(fmt.Sprintf("line %d", line), "not valid GPX: %v", err)
				}
				d.n++
				return d.feature(&w, t.Name.Local)
			}
		}
	}
}

func (d *Decoder) feature(w *walk, kind string) (*importers.Feature, error) {
	f := &importers.Feature{N: d.n}
	if name := strings.TrimSpace(w.Name); name != "" {
		f.Props = append(f.Props, importers.Prop{Name: "name", Value: norm.NFC.String(name)})
	}
	if desc := strings.TrimSpace(w.Desc); desc != "" {
		f.Props = append(f.Props, importers.Prop{Name: "description", Value: norm.NFC.String(desc)})
	}
	segs := [][]point{w.Rtept}
	if kind == "trk" {
		segs = nil
		for _, s := range w.Trkseg {
			segs = append(segs, s.Points)
		}
	}
	var mp orb.MultiPolygon
	for i, seg := range segs {
		ring := make(orb.Ring, 0, len(seg)+1)
		for j, p := range seg {
			if p.Lat == nil || p.Lon == nil {
				f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: fmt.Sprintf("%s segment %d point %d", kind, i+1, j+1), Message: "a point needs lat and lon attributes"})
				return f, nil
			}
			ring = append(ring, orb.Point{*p.Lon, *p.Lat})
		}
		if len(ring) < 3 {
			f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: fmt.Sprintf("%s segment %d", kind, i+1), Message: fmt.Sprintf("%d points cannot enclose a plot: walk around it", len(ring))})
			return f, nil
		}
		gap := geo.DistanceHaversine(ring[0], ring[len(ring)-1])
		if gap > d.opt.CloseWithin || math.IsNaN(gap) {
			f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: fmt.Sprintf("%s segment %d", kind, i+1),
				Message: fmt.Sprintf("the walk ends %.0f m from where it started, more than %.0f m: it does not go around a plot (a boundary must come back to its start)", gap, d.opt.CloseWithin)})
			return f, nil
		}
		if ring[0] != ring[len(ring)-1] {
			ring = append(ring, ring[0])
		}
		mp = append(mp, orb.Polygon{ring})
	}
	f.Geometry = mp
	if err := d.count.Add(importers.CountVertices(mp), d.n); err != nil {
		return nil, err
	}
	return f, nil
}

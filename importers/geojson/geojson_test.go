package geojson

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/importers"
)

func decodeAll(t testing.TB, s string) ([]*importers.Feature, error) {
	d, err := NewDecoder(strings.NewReader(s), importers.DefaultLimits())
	if err != nil {
		return nil, err
	}
	return importers.ReadAll(d)
}

func TestDecodesCollectionFeatureAndOldCRS(t *testing.T) {
	fs, err := decodeAll(t, `{"type":"FeatureCollection","features":[
		{"type":"Feature","id":7,"properties":{"TEN_CHU":"Cà phê","n":1.5},"geometry":{"type":"Polygon","coordinates":[[[108,12,500],[108.1,12],[108.1,12.1],[108,12]]]}},
		{"type":"Feature","properties":null,"geometry":{"type":"MultiPolygon","coordinates":[[[[108,12],[108.1,12],[108.1,12.1],[108,12]]]]}}]}`)
	if err != nil || len(fs) != 2 {
		t.Fatalf("%d features, %v", len(fs), err)
	}
	if fs[0].ID != "7" || len(fs[0].Props) != 2 {
		t.Errorf("feature 1: id %q props %v", fs[0].ID, fs[0].Props)
	}
	if p := fs[0].Geometry.(orb.Polygon); p[0][0] != (orb.Point{108, 12}) {
		t.Errorf("the height must be dropped: %v", p[0][0])
	}
	d, err := NewDecoder(strings.NewReader(`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::9218"}},"features":[]}`), importers.DefaultLimits())
	if err != nil || d.Info().CRS.SRID != 996510 {
		t.Errorf("EPSG:9218 (VN-2000 TM-3 108°30') should map to the registry's SRID 996510: %+v %v", d.Info().CRS, err)
	}
	fs, err = decodeAll(t, `{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[108,12]}}`)
	if err != nil || len(fs) != 1 {
		t.Errorf("a lone Feature: %d, %v", len(fs), err)
	}
}

func TestBadInputSaysWhere(t *testing.T) {
	for in, want := range map[string]string{
		``:      "empty",
		`[1,2]`: "one JSON object",
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[108,12],["x",12]]]}}`:     "truncated",
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[108,12],[1e999,12]]]}}]}`: "not a number",
	} {
		fs, err := decodeAll(t, in)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		for _, f := range fs {
			for _, p := range f.Problems {
				msg += p.Message
			}
		}
		if !strings.Contains(msg, want) {
			t.Errorf("%q: got %q, want it to say %q", in, msg, want)
		}
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":"b"},"geometry":{"type":"Polygon","coordinates":[[[108,12],[108.1,12],[108.1,12.1],[108,12]]]}}]}`))
	f.Add([]byte(`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}`))
	f.Add([]byte(`{"crs":{"properties":{"name":"EPSG:4326"}},"features":[{}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := NewDecoder(bytes.NewReader(b), importers.DefaultLimits())
		if err != nil {
			return
		}
		for i := 0; i < 1000; i++ {
			f, err := d.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var fe *importers.FileError
				if !errors.As(err, &fe) {
					t.Fatalf("error %T %v is not a FileError", err, err)
				}
				return
			}
			if f.N != i+1 {
				t.Fatalf("feature numbered %d, want %d", f.N, i+1)
			}
		}
	})
}

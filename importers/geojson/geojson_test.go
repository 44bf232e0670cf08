package geojson

import (
	"bytes"
	"encoding/json"
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

// FuzzFeatureOfMatchesEncodingJSON: the byte walker finds the same feature members, property
// values and geometry members as encoding/json decoding the same (valid) object.
func FuzzFeatureOfMatchesEncodingJSON(f *testing.F) {
	f.Add([]byte(`{"type":"Feature","id":"a\"b","properties":{"TEN_CHU":"Nguy\u1ec5n","n":1.5,"x":null,"n":[1,{"a":"]"}]},"geometry":{"type":"Polygon","coordinates":[[[108,12],[108.1,12],[108,12]]]}}`))
	f.Add([]byte(` { "Type" : "Feature" , "GEOMETRY" : { "type" : "GeometryCollection", "geometries" : [ {"type":"Point","coordinates":[1,2]} , null ] } } `))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, c := range b {
			if c >= 0x80 {
				return // encoding/json folds a few non-ASCII letters into ASCII names; files never rely on that
			}
		}
		var want struct {
			Type       string                     `json:"type"`
			ID         json.RawMessage            `json:"id"`
			Properties map[string]json.RawMessage `json:"properties"`
			Geometry   json.RawMessage            `json:"geometry"`
		}
		if !json.Valid(b) || json.Unmarshal(b, &want) != nil {
			return
		}
		got, err := featureOf(b)
		if err != nil {
			t.Fatalf("featureOf: %v, encoding/json read it", err)
		}
		if got.Type != want.Type || !bytes.Equal(got.ID, want.ID) || !bytes.Equal(got.Geometry, want.Geometry) {
			t.Fatalf("got type %q id %s geometry %s, want %q %s %s", got.Type, got.ID, got.Geometry, want.Type, want.ID, want.Geometry)
		}
		props := map[string]string{}
		if len(got.Properties) > 0 && string(got.Properties) != "null" {
			if !eachMember(got.Properties, func(k string, v []byte) { props[k] = scalar(v) }) {
				t.Fatalf("properties %s not walked", got.Properties)
			}
		}
		if len(props) != len(want.Properties) {
			t.Fatalf("properties %v, want %v", props, want.Properties)
		}
		for k, v := range want.Properties {
			if props[k] != scalar(v) {
				t.Fatalf("property %q = %q, want %q", k, props[k], scalar(v))
			}
		}
	})
}

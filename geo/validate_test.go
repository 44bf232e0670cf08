package geo

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
)

// square is a closed ~1 ha ring near Buôn Ma Thuột, as GeoJSON.
const square = `[[108.05,12.68],[108.051,12.68],[108.051,12.681],[108.05,12.681],[108.05,12.68]]`

func TestParsePolygonalAccepts(t *testing.T) {
	tests := []struct {
		name  string
		geom  string
		parts int
	}{
		{"polygon", `{"type":"Polygon","coordinates":[` + square + `]}`, 1},
		{"multipolygon", `{"type":"MultiPolygon","coordinates":[[` + square + `],[[[108.06,12.68],[108.061,12.68],[108.061,12.681],[108.06,12.68]]]]}`, 2},
		{"polygon with a hole", `{"type":"Polygon","coordinates":[` + square + `,[[108.0502,12.6802],[108.0504,12.6802],[108.0504,12.6804],[108.0502,12.6802]]]}`, 1},
		{"extra members ignored", `{"type":"Polygon","bbox":[1,2,3,4],"coordinates":[` + square + `]}`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp, problems := ParsePolygonal([]byte(tt.geom), DefaultLimits())
			if len(problems) > 0 {
				t.Fatalf("unexpected problems: %v", problems)
			}
			if len(mp) != tt.parts {
				t.Errorf("got %d polygons, want %d", len(mp), tt.parts)
			}
		})
	}
}

func TestParsePolygonalRejects(t *testing.T) {
	tests := []struct {
		name string
		geom string
		lim  Limits
		// want is the path and a fragment of the message of the first problem.
		wantPath, wantMsg string
		wantAt            *orb.Point
	}{
		{"point", `{"type":"Point","coordinates":[108.05,12.68]}`, DefaultLimits(), "type", "Point is not accepted", nil},
		{"linestring", `{"type":"LineString","coordinates":[[108.05,12.68],[108.06,12.69]]}`, DefaultLimits(), "type", "not a line", nil},
		{"unknown type", `{"type":"Circle","coordinates":[]}`, DefaultLimits(), "type", "not a GeoJSON geometry type", nil},
		{"no type", `{"coordinates":[]}`, DefaultLimits(), "type", "no \"type\"", nil},
		{"null", `null`, DefaultLimits(), "", "geometry is missing", nil},
		{"unclosed ring", `{"type":"Polygon","coordinates":[[[108.05,12.68],[108.051,12.68],[108.051,12.681],[108.05,12.681]]]}`, DefaultLimits(),
			"coordinates[0]", "ring is not closed: it starts at [108.05, 12.68] and ends at [108.05, 12.681]", &orb.Point{108.05, 12.681}},
		{"three positions", `{"type":"Polygon","coordinates":[[[108.05,12.68],[108.051,12.68],[108.05,12.68]]]}`, DefaultLimits(),
			"coordinates[0]", "ring has 3 positions", nil},
		{"string coordinate", `{"type":"Polygon","coordinates":[[[108.05,12.68],["108.051",12.68],[108.051,12.681],[108.05,12.68]]]}`, DefaultLimits(),
			"coordinates[0][1][0]", `longitude is a string ("108.051")`, nil},
		{"null coordinate", `{"type":"Polygon","coordinates":[[[108.05,null],[108.051,12.68],[108.051,12.681],[108.05,null]]]}`, DefaultLimits(),
			"coordinates[0][0][1]", "latitude is null", nil},
		{"infinite", `{"type":"Polygon","coordinates":[[[108.05,1e999],[108.051,12.68],[108.051,12.681],[108.05,12.68]]]}`, DefaultLimits(),
			"coordinates[0][0][1]", "not a finite number", nil},
		{"3d", `{"type":"Polygon","coordinates":[[[108.05,12.68,500],[108.051,12.68,500],[108.051,12.681,500],[108.05,12.68,500]]]}`, DefaultLimits(),
			"coordinates[0][0]", "only 2D", nil},
		{"one number", `{"type":"Polygon","coordinates":[[[108.05],[108.051,12.68],[108.051,12.681],[108.05]]]}`, DefaultLimits(),
			"coordinates[0][0]", "needs 2 numbers", nil},
		{"swapped", `{"type":"Polygon","coordinates":[[[12.68,108.05],[12.68,108.051],[12.681,108.051],[12.68,108.05]]]}`, DefaultLimits(),
			"coordinates[0][0][0]", "look like [latitude, longitude]", &orb.Point{12.68, 108.05}},
		{"outside", `{"type":"Polygon","coordinates":[[[2.35,48.85],[2.36,48.85],[2.36,48.86],[2.35,48.85]]]}`, DefaultLimits(),
			"coordinates[0][0][0]", "lies outside Vietnam", &orb.Point{2.35, 48.85}},
		{"projected metres", `{"type":"Polygon","coordinates":[[[432100,1402300],[432200,1402300],[432200,1402400],[432100,1402300]]]}`, DefaultLimits(),
			"coordinates[0][0][0]", "VN-2000 metres", nil},
		{"too many vertices", `{"type":"Polygon","coordinates":[` + square + `]}`, Limits{MaxVertices: 4},
			"coordinates", "5 positions, more than the limit of 4", nil},
		{"empty multipolygon", `{"type":"MultiPolygon","coordinates":[]}`, DefaultLimits(), "coordinates", "at least one polygon", nil},
		{"rings not arrays", `{"type":"Polygon","coordinates":[1,2]}`, DefaultLimits(), "coordinates[0]", "array of [longitude, latitude] positions", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp, problems := ParsePolygonal([]byte(tt.geom), tt.lim)
			if mp != nil {
				t.Errorf("got a geometry, want none")
			}
			if len(problems) == 0 {
				t.Fatal("no problem reported")
			}
			p := problems[0]
			if p.Path != tt.wantPath || !strings.Contains(p.Message, tt.wantMsg) {
				t.Errorf("problem = %q at %q, want %q at %q", p.Message, p.Path, tt.wantMsg, tt.wantPath)
			}
			if diff := cmp.Diff(tt.wantAt, p.Location); tt.wantAt != nil && diff != "" {
				t.Errorf("location mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePolygonalReportsAllProblems(t *testing.T) {
	geom := `{"type":"MultiPolygon","coordinates":[
		[[[108.05,12.68],[108.051,12.68],[108.05,12.68]]],
		[[[108.06,12.68],["x",12.68],[108.061,12.681],[108.06,12.68]]],
		[[[108.07,12.68],[108.071,12.68],[108.071,12.681],[108.07,12.681]]]]}`
	_, problems := ParsePolygonal([]byte(geom), DefaultLimits())
	var paths []string
	for _, p := range problems {
		paths = append(paths, p.Path)
	}
	want := []string{"coordinates[0][0]", "coordinates[1][0][1][0]", "coordinates[2][0]"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("problem paths mismatch (-want +got):\n%s", diff)
	}
}

func TestParsePolygonalCapsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"type":"MultiPolygon","coordinates":[`)
	for i := range 30 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`[[[108.05,12.68],[108.051,12.68],[108.05,12.68]]]`)
	}
	b.WriteString(`]}`)
	_, problems := ParsePolygonal([]byte(b.String()), DefaultLimits())
	if len(problems) != maxProblems+1 {
		t.Fatalf("got %d problems, want %d", len(problems), maxProblems+1)
	}
	if last := problems[len(problems)-1].Message; last != "and 10 more problems" {
		t.Errorf("last problem = %q", last)
	}
}

func FuzzParsePolygonal(f *testing.F) {
	f.Add([]byte(`{"type":"Polygon","coordinates":[` + square + `]}`))
	f.Add([]byte(`{"type":"MultiPolygon","coordinates":[[[[1,2],[3,4]]]]}`))
	f.Add([]byte(`{"type":"Polygon","coordinates":[[["a",1e999,null]]]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		mp, problems := ParsePolygonal(raw, DefaultLimits())
		if (mp == nil) == (len(problems) == 0) {
			t.Fatalf("want exactly one of geometry or problems: %v %v", mp, problems)
		}
		for _, poly := range mp {
			for _, ring := range poly {
				if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
					t.Fatalf("accepted a bad ring %v", ring)
				}
				for _, p := range ring {
					if !InVietnam(p) {
						t.Fatalf("accepted a position outside Vietnam %v", p)
					}
				}
			}
		}
	})
}

package eudr_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/compliance/eudr"
)

func TestRoundDropsRepeatsAndTurnsRingsCounterClockwise(t *testing.T) {
	// Clockwise, with two positions that six decimals cannot tell apart.
	ring := orb.Ring{{108.1, 12.1}, {108.1, 12.2}, {108.2000001, 12.2}, {108.2000002, 12.2}, {108.2, 12.1}, {108.1, 12.1}}
	shape, st, err := eudr.Round(orb.MultiPolygon{{ring}})
	if err != nil {
		t.Fatal(err)
	}
	want := eudr.Shape{{{108100000, 12100000}, {108200000, 12100000}, {108200000, 12200000}, {108100000, 12200000}, {108100000, 12100000}}}
	if diff := cmp.Diff(want, shape); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if st.Vertices != 1 || st.Parts != 0 {
		t.Errorf("stats %+v, want 1 vertex dropped", st)
	}
	if err := shape.Check(); err != nil {
		t.Error(err)
	}

	// A sliver narrower than a millionth of a degree has no area left: dropped, counted.
	sliver := orb.Ring{{108.3, 12.1}, {108.4, 12.1}, {108.4, 12.1000001}, {108.3, 12.1}}
	shape, st, err = eudr.Round(orb.MultiPolygon{{ring}, {sliver}})
	if err != nil || len(shape) != 1 || st.Parts != 1 {
		t.Errorf("sliver: %d parts, %+v, %v; want it dropped", len(shape), st, err)
	}
	if _, _, err := eudr.Round(orb.MultiPolygon{{sliver}}); !errors.Is(err, eudr.ErrEmpty) {
		t.Errorf("only a sliver: %v, want ErrEmpty", err)
	}
	if _, _, err := eudr.Round(orb.MultiPolygon{{ring, ring}}); !errors.Is(err, eudr.ErrHoles) {
		t.Errorf("holed polygon: %v, want ErrHoles", err)
	}
}

func TestCheckFindsWhatRoundingCanBreak(t *testing.T) {
	sq := func(x, y, s int64) []eudr.Coord {
		return []eudr.Coord{{x, y}, {x + s, y}, {x + s, y + s}, {x, y + s}, {x, y}}
	}
	tests := []struct {
		name  string
		shape eudr.Shape
		want  error
	}{
		{"square", eudr.Shape{sq(0, 0, 10)}, nil},
		{"collinear extra position", eudr.Shape{{{0, 0}, {5, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}}, nil},
		{"bow tie", eudr.Shape{{{0, 0}, {10, 10}, {10, 0}, {0, 5}, {0, 0}}}, eudr.ErrSelfIntersection},
		{"touches itself", eudr.Shape{{{0, 0}, {10, 0}, {10, 10}, {5, 0}, {0, 10}, {0, 0}}}, eudr.ErrSelfIntersection},
		{"spike", eudr.Shape{{{0, 0}, {10, 0}, {10, 10}, {10, 20}, {10, 10}, {0, 10}, {0, 0}}}, eudr.ErrSpike},
		{"repeated position", eudr.Shape{{{0, 0}, {10, 0}, {10, 0}, {10, 10}, {0, 0}}}, eudr.ErrCollapsed},
		{"flat", eudr.Shape{{{0, 0}, {10, 0}, {20, 0}, {0, 0}}}, eudr.ErrCollapsed},
		{"not closed", eudr.Shape{{{0, 0}, {10, 0}, {10, 10}, {0, 10}}}, eudr.ErrCollapsed},
		{"parts sharing a side (holes cut away)", eudr.Shape{sq(0, 0, 10), sq(10, 0, 10)}, nil},
		{"parts touching at a corner", eudr.Shape{sq(0, 0, 10), sq(10, 10, 10)}, nil},
		{"parts overlapping", eudr.Shape{sq(0, 0, 10), sq(5, 5, 10)}, eudr.ErrPartsOverlap},
		{"part inside another", eudr.Shape{sq(0, 0, 10), sq(2, 2, 3)}, eudr.ErrPartsOverlap},
		{"same part twice", eudr.Shape{sq(0, 0, 10), {{0, 0}, {10, 0}, {10, 10}, {0, 0}}}, eudr.ErrPartsOverlap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.shape.Check()
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Check() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAppendFeatureWritesTheEUProperties(t *testing.T) {
	tests := []struct {
		name string
		plot eudr.Plot
		want string
	}{
		{"polygon", eudr.Plot{ID: 7, Shape: eudr.Shape{{{108000001, 12000000}, {108000100, 12000000}, {108000100, 12000100}, {108000001, 12000000}}},
			ProducerName: `Y "Blih" Niê`, ProductionPlace: "Xã Krông Pắc, Tỉnh Đắk Lắk", AreaHa: 0.5},
			`{"type":"Feature","id":7,"properties":{"ProducerName":"Y \"Blih\" Niê","ProducerCountry":"VN","ProductionPlace":"Xã Krông Pắc, Tỉnh Đắk Lắk"},"geometry":{"type":"Polygon","coordinates":[[[108.000001,12.000000],[108.000100,12.000000],[108.000100,12.000100],[108.000001,12.000000]]]}}`},
		{"point, name withheld", eudr.Plot{ID: 8, Point: &eudr.Coord{X: -5000, Y: 12345678}, AreaHa: 2.999951, NameWithheld: true, ProductionPlace: "Tỉnh Đắk Lắk"},
			`{"type":"Feature","id":8,"properties":{"ProducerNameWithheld":true,"ProducerCountry":"VN","ProductionPlace":"Tỉnh Đắk Lắk","Area":3},"geometry":{"type":"Point","coordinates":[-0.005000,12.345678]}}`},
		{"multipolygon", eudr.Plot{ID: 9, Shape: eudr.Shape{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}, {{1, 0}, {2, 0}, {2, 1}, {1, 0}}}, ProductionPlace: "x"},
			`{"type":"Feature","id":9,"properties":{"ProducerCountry":"VN","ProductionPlace":"x"},"geometry":{"type":"MultiPolygon","coordinates":[[[[0.000000,0.000000],[0.000001,0.000000],[0.000001,0.000001],[0.000000,0.000000]]],[[[0.000001,0.000000],[0.000002,0.000000],[0.000002,0.000001],[0.000001,0.000000]]]]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(eudr.AppendFeature(nil, &tt.plot))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if !json.Valid([]byte(got)) {
				t.Error("not JSON")
			}
		})
	}
}

// square returns a plot of about (side m)² with n positions on its ring, at the i-th place of a
// grid near Buôn Ma Thuột.
func square(i int, n int, name string) eudr.Plot {
	cx, cy := 108.0+float64(i%100)*0.002, 12.6+float64(i/100)*0.002
	r := 0.0007
	ring := make(orb.Ring, 0, n+1)
	for k := range n {
		a := 2 * math.Pi * float64(k) / float64(n)
		ring = append(ring, orb.Point{cx + r*math.Cos(a), cy + r*math.Sin(a)})
	}
	ring = append(ring, ring[0])
	shape, _, err := eudr.Round(orb.MultiPolygon{{ring}})
	if err != nil {
		panic(err)
	}
	return eudr.Plot{ID: int64(1000 + i), Shape: shape, AreaHa: 1.2, ProducerName: name, ProductionPlace: "Xã Ea Kiết, Tỉnh Đắk Lắk",
		Producer: int64(i / 3), HSHeading: []string{"0901", "0810"}[i%2]}
}

func writeExport(t *testing.T, plots []eudr.Plot, opts eudr.Options) ([]byte, *eudr.Summary) {
	t.Helper()
	var out bytes.Buffer
	w := eudr.NewWriter(context.Background(), &out, opts)
	for i := range plots {
		if err := w.Add(&plots[i]); err != nil {
			t.Fatal(err)
		}
	}
	s := &eudr.Summary{Plots: len(plots)}
	if err := w.Close(s); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), s
}

func TestWriterSplitsFilesEachAFeatureCollectionWithItsStatement(t *testing.T) {
	var plots []eudr.Plot
	for i := range 600 {
		plots = append(plots, square(i, 12+i%20, fmt.Sprintf("Nông hộ %d", i/3)))
	}
	net := 1234.5
	tmpl := &eudr.StatementTemplate{OperatorType: "OPERATOR", ActivityType: eudr.ActivityImport, InternalReference: "VT-TEST",
		Commodities: map[string]eudr.CommodityInfo{"0901": {Description: "Coffee", NetWeightKg: &net}, "0810": {Description: "Durian"}}}
	const limit = 40_000
	zipped, sum := writeExport(t, plots, eudr.Options{MaxFileBytes: limit, Statement: tmpl})

	rep, err := eudr.Validate(bytes.NewReader(zipped), int64(len(zipped)), eudr.ValidateOptions{MaxFileBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) < 5 || len(sum.Files) != len(rep.Files) || len(sum.Statements) != len(rep.Files) || rep.Statements != len(rep.Files) {
		t.Errorf("%d files, %d in the summary, %d statements: want several, one statement each", len(rep.Files), len(sum.Files), rep.Statements)
	}
	if len(rep.Plots) != len(plots) || rep.StatementPlots != len(plots) {
		t.Errorf("%d plots in the files, %d in the statements, want %d", len(rep.Plots), rep.StatementPlots, len(plots))
	}
	for i, f := range sum.Files {
		if want := fmt.Sprintf("plots-%03d.geojson", i+1); f.Name != want || f.Bytes > limit {
			t.Errorf("file %d: %s of %d bytes, want %s of at most %d", i+1, f.Name, f.Bytes, want, limit)
		}
	}
	// Files are filled: each but the last would have passed the limit with one more plot.
	if f := sum.Files[0]; f.Bytes < limit*9/10 {
		t.Errorf("first file holds %d bytes of %d", f.Bytes, limit)
	}
	// The net mass is declared once.
	zr, _ := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	declared := 0
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, "dds") {
			continue
		}
		rc, _ := f.Open()
		var st eudr.Statement
		if err := json.NewDecoder(rc).Decode(&st); err != nil {
			t.Fatal(err)
		}
		for _, c := range st.Statement.Commodities {
			if c.Descriptors.GoodsMeasure.NetWeight != nil {
				declared++
			}
		}
	}
	if declared != 1 {
		t.Errorf("net mass declared %d times, want once", declared)
	}

	// One file: plain names.
	zipped, sum = writeExport(t, plots[:5], eudr.Options{Statement: tmpl})
	if len(sum.Files) != 1 || sum.Files[0].Name != "plots.geojson" || sum.Statements[0].Reference != "dds.json" {
		t.Errorf("one file: %+v %+v", sum.Files, sum.Statements)
	}
	if rep, _ := eudr.Validate(bytes.NewReader(zipped), int64(len(zipped)), eudr.ValidateOptions{}); rep.Err() != nil {
		t.Error(rep.Err())
	}
}

func TestWriterRefusesAPlotLargerThanAFile(t *testing.T) {
	var out bytes.Buffer
	w := eudr.NewWriter(context.Background(), &out, eudr.Options{MaxFileBytes: 300})
	p := square(1, 40, "x")
	if err := w.Add(&p); !errors.Is(err, eudr.ErrTooLarge) {
		t.Errorf("Add = %v, want ErrTooLarge", err)
	}
	w.Abort()
}

func TestStatementJSONIsTheAPIs(t *testing.T) {
	net := 19200.0
	st := &eudr.Statement{OperatorType: "OPERATOR", Statement: eudr.DDS{InternalReferenceNumber: "C-12345678", ActivityType: eudr.ActivityImport,
		CountryOfActivity: "DE", Commodities: []eudr.Commodity{{HSHeading: "0901",
			Descriptors: eudr.Descriptors{DescriptionOfGoods: "Green coffee <robusta> & more", GoodsMeasure: eudr.GoodsMeasure{NetWeight: &net}},
			Producers:   []eudr.Producer{{Country: "VN", Name: "HTX", GeometryGeojson: eudr.GeoJSON{[]byte(`{"type":"FeatureCollection",`), []byte(`"features":[]}`)}}}}}}}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"operatorType":"OPERATOR","statement":{"internalReferenceNumber":"C-12345678","activityType":"IMPORT","countryOfActivity":"DE","geoLocationConfidential":false,"commodities":[{"descriptors":{"descriptionOfGoods":"Green coffee \u003crobusta\u003e \u0026 more","goodsMeasure":{"netWeight":19200}},"hsHeading":"0901","producers":[{"country":"VN","name":"HTX","geometryGeojson":"eyJ0eXBlIjoiRmVhdHVyZUNvbGxlY3Rpb24iLCJmZWF0dXJlcyI6W119"}]}]}}`
	if diff := cmp.Diff(want, strings.TrimSpace(string(b))); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	var back eudr.Statement
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := string(back.Statement.Commodities[0].Producers[0].GeometryGeojson.Bytes()); got != `{"type":"FeatureCollection","features":[]}` {
		t.Errorf("geolocation read back as %s", got)
	}
}

// zipOf makes a zip of one GeoJSON file.
func zipOf(t *testing.T, geojson string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("plots.geojson")
	w.Write([]byte(geojson))
	zw.Close()
	return b.Bytes()
}

func TestValidateCatchesEveryBrokenRule(t *testing.T) {
	poly := func(id int, props, coords string) string {
		return fmt.Sprintf(`{"type":"Feature","id":%d,"properties":{%s},"geometry":{"type":"Polygon","coordinates":%s}}`, id, props, coords)
	}
	const good = `"ProducerCountry":"VN","ProductionPlace":"Xã Ea Tul"`
	const sq = `[[[108.000000,12.000000],[108.001000,12.000000],[108.001000,12.001000],[108.000000,12.001000],[108.000000,12.000000]]]`
	tests := []struct {
		name    string
		feature string
		want    string
	}{
		{"five decimals", poly(1, good, `[[[108.00000,12.000000],[108.001000,12.000000],[108.001000,12.001000],[108.00000,12.000000]]]`), "fewer than 6 decimals"},
		{"hole", poly(1, good, `[[[108.000000,12.000000],[108.003000,12.000000],[108.003000,12.003000],[108.000000,12.000000]],[[108.001000,12.000500],[108.002000,12.000500],[108.002000,12.001000],[108.001000,12.000500]]]`), "no holes"},
		{"lower-case property", poly(1, `"producername":"A",`+good, sq), `must be spelled "ProducerName"`},
		{"clockwise", poly(1, good, `[[[108.000000,12.000000],[108.000000,12.001000],[108.001000,12.001000],[108.001000,12.000000],[108.000000,12.000000]]]`), "clockwise"},
		{"bow tie", poly(1, good, `[[[108.000000,12.000000],[108.001000,12.001000],[108.001000,12.000000],[108.000000,12.000500],[108.000000,12.000000]]]`), "self-intersection"},
		{"not closed", poly(1, good, `[[[108.000000,12.000000],[108.001000,12.000000],[108.001000,12.001000],[108.000000,12.001000]]]`), "not closed"},
		{"repeated position", poly(1, good, `[[[108.000000,12.000000],[108.001000,12.000000],[108.001000,12.000000],[108.001000,12.001000],[108.000000,12.000000]]]`), "repeats"},
		{"swapped", poly(1, good, `[[[12.000000,108.000000],[12.001000,108.000000],[12.001000,108.001000],[12.000000,108.000000]]]`), "swapped"},
		{"country", poly(1, `"ProducerCountry":"VNM","ProductionPlace":"x"`, sq), "ISO 3166-1"},
		{"no place", poly(1, `"ProducerCountry":"VN"`, sq), "no ProductionPlace"},
		{"big point", `{"type":"Feature","id":1,"properties":{` + good + `,"Area":5.1},"geometry":{"type":"Point","coordinates":[108.000000,12.000000]}}`, "must be a polygon"},
		{"point without area", `{"type":"Feature","id":1,"properties":{` + good + `},"geometry":{"type":"Point","coordinates":[108.000000,12.000000]}}`, "needs its Area"},
		{"line", `{"type":"Feature","id":1,"properties":{` + good + `},"geometry":{"type":"LineString","coordinates":[[108.000000,12.000000],[108.000001,12.000000]]}}`, "LineString"},
		{"plot twice", poly(1, good, sq) + "," + poly(1, good, sq), "once"},
		{"overlapping parts", `{"type":"Feature","id":1,"properties":{` + good + `},"geometry":{"type":"MultiPolygon","coordinates":[` + sq + `,[[[108.000500,12.000500],[108.001500,12.000500],[108.001500,12.001500],[108.000500,12.001500],[108.000500,12.000500]]]]}}`, "overlap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := zipOf(t, `{"type":"FeatureCollection","features":[`+tt.feature+`]}`)
			rep, err := eudr.Validate(bytes.NewReader(z), int64(len(z)), eudr.ValidateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() || !strings.Contains(rep.Err().Error(), tt.want) {
				t.Errorf("problems %q, want one saying %q", rep.Problems, tt.want)
			}
		})
	}
	z := zipOf(t, `{"type":"FeatureCollection","features":[`+poly(1, good, sq)+`]}`)
	if rep, _ := eudr.Validate(bytes.NewReader(z), int64(len(z)), eudr.ValidateOptions{}); !rep.OK() {
		t.Errorf("a good file: %v", rep.Err())
	}
	if rep, _ := eudr.Validate(bytes.NewReader(z), int64(len(z)), eudr.ValidateOptions{MaxFileBytes: 100}); rep.OK() {
		t.Error("a file over the limit passed")
	}
}

func FuzzValidate(f *testing.F) {
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"properties":{"ProducerCountry":"VN","ProductionPlace":"x"},"geometry":{"type":"Polygon","coordinates":[[[108.000000,12.000000],[108.001000,12.000000],[108.001000,12.001000],[108.000000,12.000000]]]}}]}`)
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","id":2,"properties":{"Area":1},"geometry":{"type":"MultiPolygon","coordinates":[[[[1.000000,2.000000]]]]}}]}`)
	f.Fuzz(func(t *testing.T, geojson string) {
		z := zipOf(t, geojson)
		if _, err := eudr.Validate(bytes.NewReader(z), int64(len(z)), eudr.ValidateOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

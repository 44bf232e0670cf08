package plots_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/importers"
	"github.com/vungtrong/vungtrong/importers/plots"
	"github.com/vungtrong/vungtrong/importers/textenc"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/registry/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// vn2000DakLak is the VN-2000 TM-3 zone of Đắk Lắk (central meridian 108°30') as surveyors'
// software writes it, with the official datum shift.
var vn2000DakLak = geo.VN2000TM3Proj4(108.5)

type original struct {
	id, owner, crop string
	geom            orb.MultiPolygon
}

// field returns an irregular five-sided field of about 1 ha whose south-west corner is at
// (lon, lat), with a pond (a hole) when hole is set.
func field(lon, lat float64, hole bool) orb.Polygon {
	outer := orb.Ring{{lon, lat}, {lon + 0.00093, lat + 0.00004}, {lon + 0.00101, lat + 0.00061},
		{lon + 0.00047, lat + 0.00092}, {lon - 0.00006, lat + 0.00071}, {lon, lat}}
	if !hole {
		return orb.Polygon{outer}
	}
	pond := orb.Ring{{lon + 0.0003, lat + 0.0003}, {lon + 0.0003, lat + 0.0004}, {lon + 0.0004, lat + 0.0004}, {lon + 0.0004, lat + 0.0003}, {lon + 0.0003, lat + 0.0003}}
	return orb.Polygon{outer, pond}
}

// originals are six plots near Buôn Ma Thuột with Vietnamese owners: one with a hole, one in
// two parts.
func originals(simple bool) []original {
	o := []original{
		{"DL-001", "Nguyễn Văn Đức", "Cà phê", orb.MultiPolygon{field(108.0412345, 12.6712345, false)}},
		{"DL-002", "Trần Thị Hồng Nhung", "Sầu riêng", orb.MultiPolygon{field(108.0452345, 12.6712345, false)}},
		{"DL-003", "Y Khuê Niê", "Hồ tiêu", orb.MultiPolygon{field(108.0492345, 12.6712345, false)}},
		{"DL-004", "Lê Thị Bích Ngọc", "cà phê", orb.MultiPolygon{field(108.0412345, 12.6752345, false)}},
	}
	if !simple {
		o = append(o,
			original{"DL-005", "Phạm Quốc Việt", "Bơ", orb.MultiPolygon{field(108.0452345, 12.6752345, true)}},
			original{"DL-006", "Võ Thị Thủy", "Chanh leo", orb.MultiPolygon{field(108.0492345, 12.6752345, false), field(108.0532345, 12.6752345, false)}},
		)
	}
	return o
}

// writeGeoJSON writes the plots as a GeoJSON file with Vietnamese column names.
func writeGeoJSON(t *testing.T, path string, plots []original) {
	t.Helper()
	type feature struct {
		Type       string            `json:"type"`
		Properties map[string]string `json:"properties"`
		Geometry   map[string]any    `json:"geometry"`
	}
	var fc struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}
	fc.Type = "FeatureCollection"
	for _, p := range plots {
		g := map[string]any{"type": "MultiPolygon", "coordinates": p.geom}
		if len(p.geom) == 1 {
			g = map[string]any{"type": "Polygon", "coordinates": p.geom[0]}
		}
		fc.Features = append(fc.Features, feature{Type: "Feature", Geometry: g,
			Properties: map[string]string{"MA_THUA": p.id, "TEN_CHU": p.owner, "CAY_TRONG": p.crop, "SO_TO": "12", "name": p.id}})
	}
	b, err := json.Marshal(fc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ogr2ogr runs GDAL's ogr2ogr (installed by scripts/install-deps test).
func ogr2ogr(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ogr2ogr", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ogr2ogr %s: %v\n%s\n(scripts/install-deps test installs gdal-bin)", strings.Join(args, " "), err, out)
	}
}

func adminCtx() context.Context {
	return registry.NewContextWithActor(context.Background(), registry.SystemActor("test"))
}

func importFile(t *testing.T, db *postgres.DB, path string, opt plots.Options, io registry.ImportOptions) (*registry.ImportReport, error) {
	t.Helper()
	return importWith(t, db, path, opt, io, nil)
}

// importWith is importFile with a chance to set up the importer first.
func importWith(t *testing.T, db *postgres.DB, path string, opt plots.Options, io registry.ImportOptions, setup func(*postgres.PlotImporter)) (*registry.ImportReport, error) {
	t.Helper()
	if opt.Limits == (importers.Limits{}) {
		opt.Limits = importers.DefaultLimits()
	}
	if opt.Geometry == (geo.Limits{}) {
		opt.Geometry = geo.DefaultLimits()
	}
	src, err := plots.Open(path, opt)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	if io.Source == "" {
		io.Source = "survey"
	}
	ps := postgres.NewPlotService(db)
	ps.Limits = opt.Geometry
	im := postgres.NewPlotImporter(db, ps)
	if setup != nil {
		setup(im)
	}
	return im.ImportPlots(adminCtx(), src, io)
}

// stored returns the live plots of source by external id, with their owners.
func stored(t *testing.T, db *postgres.DB, source string) map[string]original {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `
		SELECT p.external_id, coalesce(o.name, ''), p.crop, ST_AsBinary(p.geom) FROM plot p LEFT JOIN producer o ON o.id = p.producer_id
		WHERE p.source = $1 AND p.deleted_at IS NULL`, source)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]original{}
	for rows.Next() {
		var o original
		var b []byte
		if err := rows.Scan(&o.id, &o.owner, &o.crop, &b); err != nil {
			t.Fatal(err)
		}
		g, err := wkb.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		o.geom = g.(orb.MultiPolygon)
		out[o.id] = o
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// metres between two nearby points (local equirectangular; far below a millimetre of error at
// these distances).
func metres(a, b orb.Point) float64 {
	lat := (a[1] + b[1]) / 2 * math.Pi / 180
	dx := (a[0] - b[0]) * math.Cos(lat) * 111319.49
	dy := (a[1] - b[1]) * 110574.0
	return math.Hypot(dx, dy)
}

// compareVertices checks that every original vertex comes back within tol metres and that
// none is lost or added, whatever the ring direction or starting vertex the format imposes.
func compareVertices(t *testing.T, want, got orb.MultiPolygon, tol float64) float64 {
	t.Helper()
	var wv, gv []orb.Point
	for _, p := range want {
		for _, r := range p {
			wv = append(wv, r[:len(r)-1]...)
		}
	}
	for _, p := range got {
		for _, r := range p {
			gv = append(gv, r[:len(r)-1]...)
		}
	}
	if len(wv) != len(gv) {
		t.Errorf("%d distinct vertices came back, want %d", len(gv), len(wv))
	}
	worst := 0.0
	for _, w := range wv {
		best := math.Inf(1)
		for _, g := range gv {
			best = math.Min(best, metres(w, g))
		}
		worst = math.Max(worst, best)
	}
	if worst > tol {
		t.Errorf("a vertex came back %.4f m from where it was, more than %.2f m", worst, tol)
	}
	return worst
}

func checkRoundTrip(t *testing.T, db *postgres.DB, want []original, withOwners bool) {
	t.Helper()
	got := stored(t, db, "survey")
	if len(got) != len(want) {
		t.Fatalf("%d plots stored, want %d", len(got), len(want))
	}
	worst := 0.0
	for _, w := range want {
		g, ok := got[w.id]
		if !ok {
			t.Errorf("plot %s missing", w.id)
			continue
		}
		worst = math.Max(worst, compareVertices(t, w.geom, g.geom, 0.05))
		if len(g.geom) != len(w.geom) {
			t.Errorf("plot %s has %d parts, want %d", w.id, len(g.geom), len(w.geom))
		}
		if withOwners && g.owner != w.owner {
			t.Errorf("plot %s owner %q, want %q", w.id, g.owner, w.owner)
		}
	}
	t.Logf("largest vertex shift: %.6f m", worst)
}

func TestRoundTripThroughOgr2ogr(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "survey.geojson")
	writeGeoJSON(t, src, originals(false))
	simple := filepath.Join(dir, "simple.geojson")
	writeGeoJSON(t, simple, originals(true))
	zipKML := func(kmlPath, kmzPath string) {
		b, err := os.ReadFile(kmlPath)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("doc.kml")
		w.Write(b)
		zw.Close()
		if err := os.WriteFile(kmzPath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		make   func(out string)
		file   string
		opt    plots.Options
		plots  []original
		owners bool
	}{
		{name: "geojson", file: "survey.geojson", make: func(string) {}, plots: originals(false), owners: true},
		{name: "shapefile wgs84", file: "wgs.shp", make: func(out string) {
			ogr2ogr(t, "-f", "ESRI Shapefile", out, src, "-lco", "ENCODING=UTF-8")
		}, plots: originals(false), owners: true},
		{name: "shapefile vn2000 with prj", file: "vn.shp", make: func(out string) {
			ogr2ogr(t, "-f", "ESRI Shapefile", out, src, "-lco", "ENCODING=UTF-8", "-t_srs", vn2000DakLak)
		}, plots: originals(false), owners: true},
		{name: "zipped shapefile vn2000", file: "vnzip.zip", make: func(out string) {
			sub := filepath.Join(dir, "z")
			os.MkdirAll(sub, 0o755)
			ogr2ogr(t, "-f", "ESRI Shapefile", filepath.Join(sub, "thua.shp"), src, "-lco", "ENCODING=UTF-8", "-t_srs", vn2000DakLak)
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			for _, ext := range []string{".shp", ".shx", ".dbf", ".prj", ".cpg"} {
				b, err := os.ReadFile(filepath.Join(sub, "thua"+ext))
				if err != nil {
					t.Fatal(err)
				}
				w, _ := zw.Create("khao-sat/thua" + ext)
				w.Write(b)
			}
			zw.Close()
			os.WriteFile(out, buf.Bytes(), 0o644)
		}, plots: originals(false), owners: true},
		{name: "shapefile vn2000 without prj, --province 66", file: "noprj.shp", make: func(out string) {
			ogr2ogr(t, "-f", "ESRI Shapefile", out, src, "-lco", "ENCODING=UTF-8", "-t_srs", vn2000DakLak)
			os.Remove(strings.TrimSuffix(out, ".shp") + ".prj")
		}, opt: plots.Options{ProvinceCRS: mustProvince(t, "66")}, plots: originals(false), owners: true},
		// --province names the zone of a file that names none; degrees stay degrees.
		{name: "shapefile wgs84 without prj, --province 66", file: "degnoprj.shp", make: func(out string) {
			ogr2ogr(t, "-f", "ESRI Shapefile", out, src, "-lco", "ENCODING=UTF-8")
			os.Remove(strings.TrimSuffix(out, ".shp") + ".prj")
		}, opt: plots.Options{ProvinceCRS: mustProvince(t, "66")}, plots: originals(false), owners: true},
		{name: "geojson, --province 66", file: "survey.geojson", make: func(string) {}, opt: plots.Options{ProvinceCRS: mustProvince(t, "66")}, plots: originals(false), owners: true},
		{name: "kml", file: "survey.kml", make: func(out string) {
			ogr2ogr(t, "-f", "KML", out, src)
		}, plots: originals(false), owners: true},
		{name: "kmz", file: "survey.kmz", make: func(out string) {
			kml := filepath.Join(dir, "forkmz.kml")
			ogr2ogr(t, "-f", "KML", kml, src)
			zipKML(kml, out)
		}, plots: originals(false), owners: true},
		{name: "gpx", file: "walks.gpx", make: func(out string) {
			ogr2ogr(t, "-f", "GPX", out, simple, "-nlt", "MULTILINESTRING", "-lco", "FORCE_GPX_TRACK=YES", "-dsco", "GPX_USE_EXTENSIONS=NO")
		}, opt: plots.Options{Map: map[string]string{"id": "name"}, Set: map[string]string{"crop": "coffee"}}, plots: originals(true)},
		{name: "csv wkt", file: "survey.csv", make: func(out string) {
			ogr2ogr(t, "-f", "CSV", out, src, "-lco", "GEOMETRY=AS_WKT")
		}, plots: originals(false), owners: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := pgtest.New(t)
			out := filepath.Join(dir, tc.file)
			tc.make(out)
			rep, err := importFile(t, db, out, tc.opt, registry.ImportOptions{})
			if err != nil {
				t.Fatalf("import: %v (report %+v)", err, rep)
			}
			if rep.Added != len(tc.plots) || !rep.Committed {
				t.Fatalf("report %+v: want %d added and committed", rep, len(tc.plots))
			}
			checkRoundTrip(t, db, tc.plots, tc.owners)
			// The same file again: nothing changes.
			rep, err = importFile(t, db, out, tc.opt, registry.ImportOptions{})
			if err != nil || rep.Added != 0 || rep.Updated != 0 || rep.Unchanged != len(tc.plots) {
				t.Errorf("second import: %+v, %v; want everything unchanged", rep, err)
			}
		})
	}
}

func mustProvince(t *testing.T, code string) importers.CRS {
	// Đắk Lắk (66) of the 2025 list was formed from Đắk Lắk (66) and Phú Yên (54), both on 108°30'.
	crs, err := importers.ProvinceCRS([]string{"54", "66"}, code)
	if err != nil {
		t.Fatal(err)
	}
	return crs
}

func TestProvinceResolvesToItsZone(t *testing.T) {
	db := pgtest.New(t)
	for _, q := range []string{"66", "Đắk Lắk", "dak lak", "Tỉnh Đắk Lắk"} {
		ref, err := db.ResolveProvince(context.Background(), q)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		crs, err := importers.ProvinceCRS(ref.OldCodes, q)
		if err != nil || crs.SRID != 996510 {
			t.Errorf("%q: %+v %v, want SRID 996510 (108°30')", q, crs, err)
		}
	}
	// A 2004 province (Phú Yên, now part of Đắk Lắk) is found too.
	if ref, err := db.ResolveProvince(context.Background(), "54"); err != nil || ref.Code != "66" {
		t.Errorf("54: %+v, %v; want the 2025 province 66", ref, err)
	}
	if _, err := db.ResolveProvince(context.Background(), "Atlantis"); registry.ErrorCode(err) != registry.EINVALID {
		t.Errorf("unknown province: %v, want EINVALID", err)
	}
}

func TestProjectedWithoutPrjIsExplained(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "s.geojson")
	writeGeoJSON(t, src, originals(true))
	out := filepath.Join(dir, "noprj.shp")
	ogr2ogr(t, "-f", "ESRI Shapefile", out, src, "-lco", "ENCODING=UTF-8", "-t_srs", vn2000DakLak)
	os.Remove(filepath.Join(dir, "noprj.prj"))
	db := pgtest.New(t)
	_, err := importFile(t, db, out, plots.Options{}, registry.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "--province") || !strings.Contains(err.Error(), "no .prj") {
		t.Errorf("error %v: want one that says there is no .prj and how to name the zone", err)
	}
}

// legacyShapefile writes the plots as a Shapefile whose .dbf text is in enc, the way old
// provincial software wrote it, with no .cpg.
func legacyShapefile(t *testing.T, dir string, enc textenc.Encoding, plots []original) string {
	t.Helper()
	// ogr2ogr writes the .dbf in ISO-8859-1 byte for byte; give it the legacy bytes as Latin-1
	// characters and it writes exactly those bytes.
	latin := make([]original, len(plots))
	for i, p := range plots {
		latin[i] = p
		latin[i].owner = asLatin1(t, enc, p.owner)
		latin[i].crop = asLatin1(t, enc, p.crop)
	}
	src := filepath.Join(dir, string(enc)+".geojson")
	writeGeoJSON(t, src, latin)
	out := filepath.Join(dir, "legacy-"+string(enc)+".shp")
	ogr2ogr(t, "-f", "ESRI Shapefile", out, src, "-lco", "ENCODING=ISO-8859-1")
	os.Remove(strings.TrimSuffix(out, ".shp") + ".cpg")
	raw, err := os.ReadFile(strings.TrimSuffix(out, ".shp") + ".dbf")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := textenc.Encode(enc, plots[0].owner)
	if !bytes.Contains(raw, want) {
		t.Fatalf("the .dbf does not hold the %s bytes of %q", enc, plots[0].owner)
	}
	return out
}

// asLatin1 returns s's bytes in enc as the Latin-1 characters of those bytes.
func asLatin1(t *testing.T, enc textenc.Encoding, s string) string {
	t.Helper()
	b, err := textenc.Encode(enc, s)
	if err != nil {
		t.Fatal(err)
	}
	r := make([]rune, len(b))
	for j, c := range b {
		r[j] = rune(c)
	}
	return string(r)
}

func TestLegacyEncodingsBecomeNFC(t *testing.T) {
	for _, enc := range []textenc.Encoding{textenc.TCVN3, textenc.CP1258} {
		t.Run(string(enc), func(t *testing.T) {
			db := pgtest.New(t)
			want := originals(false)
			path := legacyShapefile(t, t.TempDir(), enc, want)
			src, err := plots.Open(path, plots.Options{Limits: importers.DefaultLimits(), Geometry: geo.DefaultLimits()})
			if err != nil {
				t.Fatal(err)
			}
			about := src.Describe()["encoding"]
			src.Close()
			if !strings.HasPrefix(about, string(enc)) || !strings.Contains(about, "confidence") {
				t.Errorf("encoding reported as %q, want %s with its confidence", about, enc)
			}
			if _, err := importFile(t, db, path, plots.Options{}, registry.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			checkRoundTrip(t, db, want, true)
			var nfc bool
			if err := db.Pool.QueryRow(context.Background(), `SELECT bool_and(name IS NFC NORMALIZED) FROM producer`).Scan(&nfc); err != nil || !nfc {
				t.Errorf("producer names NFC: %v %v", nfc, err)
			}
		})
	}
}

func TestWindows1258FromGDALWithItsCpg(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "s.geojson")
	want := originals(false)
	writeGeoJSON(t, src, want)
	out := filepath.Join(dir, "cp1258.shp")
	ogr2ogr(t, "-f", "ESRI Shapefile", out, src, "-lco", "ENCODING=CP1258")
	db := pgtest.New(t)
	if _, err := importFile(t, db, out, plots.Options{}, registry.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	checkRoundTrip(t, db, want, true)
}

// snapshot is everything an import may change.
func snapshot(t *testing.T, db *postgres.DB) string {
	t.Helper()
	var s string
	err := db.Pool.QueryRow(context.Background(), `
		SELECT concat_ws('|', (SELECT count(*) FROM plot), (SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM plot p),
		                      (SELECT count(*) FROM producer), (SELECT count(*) FROM plot_history),
		                      (SELECT md5(coalesce(string_agg(c::text, ',' ORDER BY level, x, y), '')) FROM plot_cell c))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	// An import's working table lives and dies inside its transaction.
	var left []string
	if err := db.Pool.QueryRow(context.Background(), `SELECT coalesce(array_agg(relname::text), '{}') FROM pg_class WHERE relname ~ '^import_(stage|plot|owner|next)_'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("tables left behind by imports: %v", left)
	}
	return s
}

func TestBadFilesChangeNothing(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.geojson")
	writeGeoJSON(t, good, originals(false))
	db := pgtest.New(t)
	if _, err := importFile(t, db, good, plots.Options{}, registry.ImportOptions{Source: "earlier"}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, db)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodBytes, _ := os.ReadFile(good)
	shp := filepath.Join(dir, "thua.shp")
	ogr2ogr(t, "-f", "ESRI Shapefile", shp, good, "-lco", "ENCODING=UTF-8")
	shpBytes, _ := os.ReadFile(shp)
	kml := filepath.Join(dir, "good.kml")
	ogr2ogr(t, "-f", "KML", kml, good)

	cases := []struct {
		name string
		path func() string
		want []string
	}{
		{"truncated geojson", func() string { return write("cut.geojson", goodBytes[:len(goodBytes)*2/3]) }, []string{"truncated"}},
		{"truncated shapefile", func() string {
			sub := filepath.Join(dir, "cut")
			os.MkdirAll(sub, 0o755)
			for _, ext := range []string{".shx", ".dbf", ".prj", ".cpg"} {
				b, _ := os.ReadFile(strings.TrimSuffix(shp, ".shp") + ext)
				os.WriteFile(filepath.Join(sub, "thua"+ext), b, 0o644)
			}
			return write("cut/thua.shp", shpBytes[:len(shpBytes)-200])
		}, []string{"truncated"}},
		{"wrong geometry type", func() string {
			return write("points.geojson", []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"CAY_TRONG":"cà phê"},"geometry":{"type":"Point","coordinates":[108.05,12.68]}}]}`))
		}, []string{"feature 1", "Point", "polygon"}},
		{"self-intersection", func() string {
			return write("bowtie.geojson", []byte(`{"type":"FeatureCollection","features":[
				{"type":"Feature","properties":{"MA_THUA":"ok","CAY_TRONG":"cà phê"},"geometry":{"type":"Polygon","coordinates":[[[108.10,12.70],[108.101,12.70],[108.101,12.701],[108.10,12.701],[108.10,12.70]]]}},
				{"type":"Feature","properties":{"MA_THUA":"bowtie","CAY_TRONG":"cà phê"},"geometry":{"type":"Polygon","coordinates":[[[108.11,12.70],[108.111,12.701],[108.111,12.70],[108.11,12.701],[108.11,12.70]]]}}]}`))
		}, []string{"feature 2", "crosses itself", "108.1105"}},
		{"zip bomb", func() string { return zipBomb(t, filepath.Join(dir, "bomb.zip")) }, []string{"zip bomb", "refused before inflating"}},
		{"kmz that is not a zip", func() string { b, _ := os.ReadFile(kml); return write("fake.kmz", b) }, []string{"not a zip"}},
		{"shapefile without its shx", func() string {
			sub := filepath.Join(dir, "noshx")
			os.MkdirAll(sub, 0o755)
			for _, ext := range []string{".shp", ".dbf", ".prj", ".cpg"} {
				b, _ := os.ReadFile(strings.TrimSuffix(shp, ".shp") + ext)
				os.WriteFile(filepath.Join(sub, "thua"+ext), b, 0o644)
			}
			return filepath.Join(sub, "thua.shp")
		}, []string{".shx is missing"}},
		{"billion laughs", func() string {
			return write("laughs.kml", []byte(`<?xml version="1.0"?>
<!DOCTYPE kml [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>&lol9;</name>
<Polygon><outerBoundaryIs><LinearRing><coordinates>108.1,12.7 108.101,12.7 108.101,12.701 108.1,12.7</coordinates></LinearRing></outerBoundaryIs></Polygon>
</Placemark></Document></kml>`))
		}, []string{"entit"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := importFile(t, db, tc.path(), plots.Options{}, registry.ImportOptions{Source: "bad"})
			if err == nil {
				t.Fatalf("imported: %+v", rep)
			}
			msg := err.Error()
			if rep != nil {
				for _, p := range rep.Problems {
					msg += fmt.Sprintf("\nfeature %d, %s: %s", p.Feature, p.Field, p.Message)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
			if after := snapshot(t, db); after != before {
				t.Errorf("the database changed")
			}
			t.Logf("%s", msg)
		})
	}
}

// zipBomb writes a zipped "Shapefile" whose .shp inflates a thousand times.
func zipBomb(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	w, err := zw.Create("bomb.shp")
	if err != nil {
		t.Fatal(err)
	}
	zero := make([]byte, 1<<20)
	for i := 0; i < 200; i++ {
		w.Write(zero)
	}
	for _, ext := range []string{".shx", ".dbf"} {
		w, _ := zw.Create("bomb" + ext)
		w.Write([]byte("x"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEveryProblemReportedAtOnce(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "many.geojson")
	os.WriteFile(p, []byte(`{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"MA_THUA":"1","CAY_TRONG":"cà phê"},"geometry":{"type":"Polygon","coordinates":[[[12.70,108.10],[12.70,108.101],[12.701,108.101],[12.70,108.10]]]}},
		{"type":"Feature","properties":{"MA_THUA":"2","CAY_TRONG":"lúa mì"},"geometry":{"type":"Polygon","coordinates":[[[108.12,12.70],[108.121,12.70],[108.121,12.701],[108.12,12.70]]]}},
		{"type":"Feature","properties":{"MA_THUA":"3","CAY_TRONG":"cà phê"},"geometry":{"type":"Polygon","coordinates":[[[108.13,12.70],[108.131,12.70],[108.131,12.701],[108.13,12.701]]]}},
		{"type":"Feature","properties":{"MA_THUA":"4","CAY_TRONG":"cà phê"},"geometry":{"type":"Polygon","coordinates":[[[108.14,12.70],[108.141,12.70],[108.141,12.701],[108.14,12.701],[108.14,12.70]]]}},
		{"type":"Feature","properties":{"MA_THUA":"5","CAY_TRONG":"cà phê"},"geometry":{"type":"Polygon","coordinates":[[[108.1405,12.7005],[108.1415,12.7005],[108.1415,12.7015],[108.1405,12.7015],[108.1405,12.7005]]]}},
		{"type":"Feature","properties":{"MA_THUA":"4","CAY_TRONG":"cà phê"},"geometry":{"type":"Polygon","coordinates":[[[108.15,12.70],[108.151,12.70],[108.151,12.701],[108.15,12.70]]]}}
	]}`), 0o644)
	db := pgtest.New(t)
	rep, err := importFile(t, db, p, plots.Options{}, registry.ImportOptions{})
	if registry.ErrorCode(err) != registry.EINVALID {
		t.Fatalf("err %v, want EINVALID", err)
	}
	want := map[int]string{1: "swap", 2: "unknown crop", 3: "not closed", 5: "overlaps feature 4", 6: "used by feature 4"}
	for n, w := range want {
		found := false
		for _, p := range rep.Problems {
			if p.Feature == n && strings.Contains(p.Message, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem for feature %d saying %q in %+v", n, w, rep.Problems)
		}
	}
	// Problems carry a code and their values, for the web page to say them in Vietnamese.
	coded := map[int]string{}
	for _, p := range rep.Problems {
		if p.Code != "" {
			coded[p.Feature] = fmt.Sprintf("%s %v", p.Code, p.Args)
		}
	}
	for n, w := range map[int]string{1: "lat_lon_swapped map[at:[12.7, 108.1]]", 2: "unknown_crop map[crop:lúa mì]", 3: "ring_not_closed map[first:[108.13, 12.7] last:[108.13, 12.701]]",
		5: "overlap_feature map[m2:", 6: "duplicate_id map[first:4 id:4]"} {
		if !strings.HasPrefix(coded[n], w) {
			t.Errorf("feature %d coded %q, want %q", n, coded[n], w)
		}
	}
	if n := countPlots(t, db); n != 0 {
		t.Errorf("%d plots stored, want none", n)
	}
	// Skipping stores the good one (4) and reports the rest.
	rep, err = importFile(t, db, p, plots.Options{}, registry.ImportOptions{OnInvalid: registry.OnInvalidSkip})
	if err != nil || rep.Added != 1 || rep.Skipped != 5 {
		t.Errorf("skip: %+v %v; want 1 added, 5 skipped", rep, err)
	}
}

func countPlots(t *testing.T, db *postgres.DB) int {
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM plot`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestChangedPlotsBecomeNewVersions(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.geojson")
	plotsV1 := originals(false)
	writeGeoJSON(t, p, plotsV1)
	db := pgtest.New(t)
	if _, err := importFile(t, db, p, plots.Options{}, registry.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	plotsV2 := originals(false)
	plotsV2[0].geom = orb.MultiPolygon{field(108.0412445, 12.6712345, false)} // moved ~1 m east
	plotsV2[1].crop = "Cà phê"
	writeGeoJSON(t, p, plotsV2)
	rep, err := importFile(t, db, p, plots.Options{}, registry.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Updated != 2 || rep.Unchanged != len(plotsV2)-2 || rep.Added != 0 {
		t.Errorf("report %+v: want 2 updated, the rest unchanged", rep)
	}
	var versions, history int
	db.Pool.QueryRow(context.Background(), `SELECT max(version) FROM plot WHERE external_id = 'DL-001'`).Scan(&versions)
	db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM plot_history`).Scan(&history)
	if versions != 2 || history != 2 {
		t.Errorf("DL-001 at version %d with %d history rows, want version 2 and 2 history rows", versions, history)
	}
	// The report says plot by plot what changed: DL-001 moved about a metre, DL-002's crop.
	if len(rep.Changes) != 2 {
		t.Fatalf("changes %+v: want DL-001 and DL-002", rep.Changes)
	}
	moved, crop := rep.Changes[0], rep.Changes[1]
	if moved.ExternalID != "DL-001" || moved.Feature != 1 || moved.MovedM < 0.8 || moved.MovedM > 1.4 || moved.CropBefore != moved.CropAfter || moved.OwnerChanged {
		t.Errorf("DL-001's change: %+v, want moved about 1.1 m and nothing else", moved)
	}
	if crop.ExternalID != "DL-002" || crop.MovedM != 0 || crop.CropBefore != "durian" || crop.CropAfter != "coffee" {
		t.Errorf("DL-002's change: %+v, want the crop durian -> coffee, not moved", crop)
	}
	// Each changed plot is audited with its province, before and after, like an API change.
	var audited int
	db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log a JOIN plot p ON a.object_id = p.id::text
		WHERE a.action = 'plot.import' AND a.object_type = 'plot' AND a.province_code IS NOT DISTINCT FROM p.province_code
		  AND (a.before ->> 'version')::int = 1 AND (a.after ->> 'version')::int = 2 AND a.after ->> 'external_id' IN ('DL-001', 'DL-002')`).Scan(&audited)
	if audited != 2 {
		t.Errorf("%d audit entries with before and after for the 2 changed plots", audited)
	}
	// A file without a cadastral column changes the crop, and keeps the cadastral sheet.
	if err := os.WriteFile(p, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"MA_THUA":"DL-003","CAY_TRONG":"Bơ"},
		"geometry":`+mustJSON(t, map[string]any{"type": "Polygon", "coordinates": plotsV2[2].geom[0]})+`}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if rep, err := importFile(t, db, p, plots.Options{}, registry.ImportOptions{}); err != nil || rep.Updated != 1 {
		t.Fatalf("partial file: %+v %v", rep, err)
	}
	var sheet, cropNow string
	db.Pool.QueryRow(context.Background(), `SELECT coalesce(cadastral_sheet, ''), crop FROM plot WHERE external_id = 'DL-003'`).Scan(&sheet, &cropNow)
	if sheet != "12" || cropNow != "avocado" {
		t.Errorf("after a file without SO_TO: sheet %q, crop %q; want the sheet kept (12) and the crop avocado", sheet, cropNow)
	}
	// A dry run reports and stores nothing.
	writeGeoJSON(t, p, plotsV2)
	before := snapshot(t, db)
	rep, err = importFile(t, db, p, plots.Options{}, registry.ImportOptions{DryRun: true})
	if err != nil || rep.Updated != 1 || rep.Committed || len(rep.Changes) != 1 || rep.Changes[0].ExternalID != "DL-003" ||
		rep.Changes[0].CropBefore != "avocado" || rep.Changes[0].CropAfter != "pepper" {
		t.Errorf("dry run: %+v %v", rep, err)
	}
	if snapshot(t, db) != before {
		t.Error("a dry run changed the database")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestImportCannotTakeOverAnotherProvincesPlot: source names and ids are public, so a file of an
// officer of one province that shares them with another province's plot must not change it.
// The refusal names the plot, changes nothing, and is audited with the plot's province, where
// that province's officers see it.
func TestImportCannotTakeOverAnotherProvincesPlot(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	dir := t.TempDir()
	// A plot of Lâm Đồng (68), registered by its survey.
	lamDong := filepath.Join(dir, "lam-dong.geojson")
	if err := os.WriteFile(lamDong, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"MA_THUA":"LD-1","CAY_TRONG":"cà phê","MA_XA":"25000"},
		"geometry":`+mustJSON(t, map[string]any{"type": "Polygon", "coordinates": field(108.4, 11.9, false)})+`}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var commune68 string
	if err := db.Pool.QueryRow(ctx, `SELECT min(code) FROM commune WHERE scheme = 2025 AND province_code = '68'`).Scan(&commune68); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(lamDong)
	os.WriteFile(lamDong, []byte(strings.Replace(string(body), "25000", commune68, 1)), 0o644)
	if rep, err := importFile(t, db, lamDong, plots.Options{}, registry.ImportOptions{Source: "khao-sat-2024"}); err != nil {
		t.Fatalf("%v %v", err, rep.Problems)
	}
	var plotID int64
	var history int
	db.Pool.QueryRow(ctx, `SELECT id FROM plot WHERE source = 'khao-sat-2024' AND external_id = 'LD-1'`).Scan(&plotID)
	// An officer of Đắk Lắk (66) imports a file of the same source and id, lying in Đắk Lắk.
	daklak := filepath.Join(dir, "dak-lak.geojson")
	writeGeoJSON(t, daklak, []original{{"LD-1", "Nguyễn Văn Đức", "Sầu riêng", orb.MultiPolygon{field(108.05, 12.68, false)}}})
	officer66 := registry.NewContextWithActor(ctx, registry.Actor{Kind: "user", Name: "canbo66", Role: registry.RoleOfficer, UserID: 0,
		Jurisdictions: []registry.Jurisdiction{{ProvinceCode: "66"}}})
	before := snapshot(t, db)
	db.Pool.QueryRow(ctx, `SELECT count(*) FROM plot_history WHERE plot_id = $1`, plotID).Scan(&history)
	for _, onInvalid := range []string{registry.OnInvalidReject, registry.OnInvalidSkip} {
		src, err := plots.Open(daklak, plots.Options{Limits: importers.DefaultLimits(), Geometry: geo.DefaultLimits()})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := postgres.NewPlotImporter(db, postgres.NewPlotService(db)).ImportPlots(officer66, src,
			registry.ImportOptions{Source: "khao-sat-2024", Province: "66", OnInvalid: onInvalid})
		src.Close()
		named := false
		for _, d := range rep.Problems {
			if d.Code == "existing_outside_jurisdiction" && d.Feature == 1 && strings.Contains(d.Message, fmt.Sprintf("registered plot %d", plotID)) &&
				strings.Contains(d.Message, "province 68") {
				named = true
			}
		}
		if !named || (onInvalid == registry.OnInvalidReject && err == nil) || rep.Added+rep.Updated != 0 {
			t.Errorf("%s: the takeover was not refused naming plot %d: %v %+v", onInvalid, plotID, err, rep)
		}
	}
	if snapshot(t, db) != before {
		t.Error("the refused import changed the registry")
	}
	var historyAfter int
	db.Pool.QueryRow(ctx, `SELECT count(*) FROM plot_history WHERE plot_id = $1`, plotID).Scan(&historyAfter)
	if historyAfter != history {
		t.Errorf("the plot's history went from %d to %d rows", history, historyAfter)
	}
	// Lâm Đồng's officer finds both refusals (reject, then skip) in their audit log.
	officer68 := registry.NewContextWithActor(ctx, registry.Actor{Kind: "user", Name: "canbo68", Role: registry.RoleOfficer,
		Jurisdictions: []registry.Jurisdiction{{ProvinceCode: "68"}}})
	entries, _, err := postgres.NewAuditService(db).FindAuditEntries(officer68, registry.AuditFilter{ObjectType: "plot", ObjectID: fmt.Sprint(plotID), Outcome: "denied"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].ProvinceCode != "68" || entries[0].Actor != "user:canbo66" {
		t.Errorf("officer 68 sees %d refusals of plot %d: %+v", len(entries), plotID, entries)
	}
}

func TestOverlapWithRegisteredPlot(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.geojson")
	writeGeoJSON(t, a, originals(true)[:1])
	db := pgtest.New(t)
	if _, err := importFile(t, db, a, plots.Options{}, registry.ImportOptions{Source: "first"}); err != nil {
		t.Fatal(err)
	}
	shifted := originals(true)[:1]
	shifted[0].id = "other"
	shifted[0].geom = orb.MultiPolygon{field(108.0414345, 12.6713345, false)}
	b := filepath.Join(dir, "b.geojson")
	writeGeoJSON(t, b, shifted)
	_, err := importFile(t, db, b, plots.Options{}, registry.ImportOptions{Source: "second"})
	if err == nil || !strings.Contains(registry.ErrorMessage(err), "overlaps registered plot") {
		t.Errorf("err %v, want an overlap with the registered plot", err)
	}
	// Neighbours sharing an edge are fine.
	var e *registry.Error
	_ = errors.As(err, &e)
}

// TestImportPlacesPlots checks where imported plots land: by their commune code, by the commune
// or province boundary holding them, by --province; a repaired plot by its repaired shape; and
// that an officer cannot import into another province.
func TestImportPlacesPlots(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	var province, other, coded, codedProvince string
	err := db.Pool.QueryRow(ctx, `
		SELECT (SELECT province_code FROM commune WHERE scheme = 2025 AND code = '24280'),
		       (SELECT min(code) FROM province WHERE scheme = 2025 AND code <> (SELECT province_code FROM commune WHERE scheme = 2025 AND code = '24280')),
		       c.code, c.province_code
		FROM commune c WHERE c.scheme = 2025 AND c.province_code <> (SELECT province_code FROM commune WHERE scheme = 2025 AND code = '24280')
		ORDER BY c.code LIMIT 1`).Scan(&province, &other, &coded, &codedProvince)
	if err != nil {
		t.Fatal(err)
	}
	// Commune 24280 covers 108.0-108.1 E, 12.6-12.7 N; its province 107.5-108.5 E, 12.0-13.0 N.
	for _, sql := range []string{
		`UPDATE province SET boundary = NULL WHERE scheme = 2025`,
		`UPDATE commune SET boundary = NULL WHERE scheme = 2025`,
		`UPDATE commune SET boundary = ST_Multi(ST_MakeEnvelope(108.0, 12.6, 108.1, 12.7, 4326)) WHERE scheme = 2025 AND code = '24280'`,
		fmt.Sprintf(`UPDATE province SET boundary = ST_Multi(ST_MakeEnvelope(107.5, 12.0, 108.5, 13.0, 4326)) WHERE scheme = 2025 AND code = '%s'`, province),
	} {
		if _, err := db.Pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	square := func(x, y float64) string {
		return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%[1]g,%[2]g],[%[3]g,%[2]g],[%[3]g,%[4]g],[%[1]g,%[4]g],[%[1]g,%[2]g]]]}`, x, y, x+0.001, y+0.001)
	}
	bowtie := `{"type":"Polygon","coordinates":[[[108.05,12.65],[108.051,12.651],[108.051,12.65],[108.05,12.651],[108.05,12.65]]]}`
	feature := func(id, geom, commune string) string {
		return fmt.Sprintf(`{"type":"Feature","id":%q,"properties":{"CAY_TRONG":"Cà phê","MA_XA":%q},"geometry":%s}`, id, commune, geom)
	}
	path := filepath.Join(t.TempDir(), "places.geojson")
	body := `{"type":"FeatureCollection","features":[` + strings.Join([]string{
		feature("by-code", square(106.0, 11.0), coded),   // in no loaded boundary: the code says
		feature("in-commune", square(108.02, 12.62), ""), // inside commune 24280
		feature("in-province", square(108.3, 12.8), ""),  // in the province, in no commune
		feature("nowhere", square(106.5, 11.5), ""),      // in no boundary: --province
		feature("repaired", bowtie, ""),                  // invalid, repaired, inside 24280
	}, ",") + `]}`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := importFile(t, db, path, plots.Options{}, registry.ImportOptions{Source: "places", Province: other, OnInvalid: registry.OnInvalidRepair})
	if err == nil || !strings.Contains(fmt.Sprint(rep.Problems), "not "+other+" (--province)") {
		t.Fatalf("with --province %s the plots placed elsewhere should be refused; got %v, %v", other, err, rep.Problems)
	}
	// Without --province the fallback is the configured default: none here, so "nowhere" has no province.
	rep, err = importFile(t, db, path, plots.Options{}, registry.ImportOptions{Source: "places", OnInvalid: registry.OnInvalidRepair})
	if err != nil {
		t.Fatalf("import: %v %v", err, rep.Problems)
	}
	got := map[string]string{}
	rows, err := db.Pool.Query(ctx, `SELECT external_id, coalesce(province_code, '-') || '/' || coalesce(commune_code, '-') FROM plot WHERE source = 'places'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, place string
		if err := rows.Scan(&id, &place); err != nil {
			t.Fatal(err)
		}
		got[id] = place
	}
	want := map[string]string{
		"by-code":     codedProvince + "/" + coded,
		"in-commune":  province + "/24280",
		"in-province": province + "/-",
		"nowhere":     "-/-",
		"repaired":    province + "/24280",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("places (province/commune) = %v, want %v", got, want)
	}
	// --province places what no boundary holds.
	lone := filepath.Join(t.TempDir(), "lone.geojson")
	if err := os.WriteFile(lone, []byte(`{"type":"FeatureCollection","features":[`+feature("lone", square(106.6, 11.6), "")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if rep, err := importFile(t, db, lone, plots.Options{}, registry.ImportOptions{Source: "lone", Province: other}); err != nil {
		t.Fatalf("import with --province: %v %v", err, rep.Problems)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM plot WHERE source = 'lone' AND province_code = $1 AND commune_code IS NULL`, other).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("a plot in no boundary imported with --province %s: %d plots placed there, want 1", other, n)
	}
	// An officer of the province may re-import what lies in it, not the plot coded elsewhere.
	officer := registry.NewContextWithActor(ctx, registry.Actor{Kind: "user", Name: "officer", Role: registry.RoleOfficer,
		Jurisdictions: []registry.Jurisdiction{{ProvinceCode: province}}})
	src, err := plots.Open(path, plots.Options{Limits: importers.DefaultLimits(), Geometry: geo.DefaultLimits()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	before := snapshot(t, db)
	rep, err = postgres.NewPlotImporter(db, postgres.NewPlotService(db)).ImportPlots(officer, src,
		registry.ImportOptions{Source: "places-2", OnInvalid: registry.OnInvalidRepair})
	if err == nil {
		t.Fatal("an officer imported plots outside their province")
	}
	outside := map[int]bool{}
	for _, d := range rep.Problems {
		if strings.Contains(d.Message, "outside your jurisdiction") {
			outside[d.Feature] = true
		}
	}
	if !reflect.DeepEqual(outside, map[int]bool{1: true, 4: true}) {
		t.Errorf("features refused as outside the officer's jurisdiction: %v, want 1 (coded elsewhere) and 4 (nowhere); problems %v", outside, rep.Problems)
	}
	if snapshot(t, db) != before {
		t.Error("the refused import changed the registry")
	}
	// A commune code that the loaded boundaries contradict is refused, naming where the plot lies:
	// in the province but outside commune 24280's boundary, or inside 24280 and coded elsewhere.
	wrong := filepath.Join(t.TempDir(), "wrong.geojson")
	if err := os.WriteFile(wrong, []byte(`{"type":"FeatureCollection","features":[`+feature("outside-24280", square(108.3, 12.8), "24280")+`,`+
		feature("inside-24280", square(108.03, 12.63), coded)+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	before = snapshot(t, db)
	rep, err = importFile(t, db, wrong, plots.Options{}, registry.ImportOptions{Source: "wrong"})
	mismatch := map[int]string{}
	for _, d := range rep.Problems {
		if d.Code == "commune_mismatch" {
			mismatch[d.Feature] = d.Message
		}
	}
	if err == nil || len(mismatch) != 2 || !strings.Contains(mismatch[1], "lies in province "+province) ||
		!strings.Contains(mismatch[2], "lies in commune 24280") || !strings.Contains(mismatch[2], "not in commune "+coded) {
		t.Errorf("contradicted commune codes: %v, problems %v", err, rep.Problems)
	}
	if snapshot(t, db) != before {
		t.Error("the refused import changed the registry")
	}
}

// plotSchema lists plot's indexes, constraints and triggers as the catalog defines them.
func plotSchema(t *testing.T, db *postgres.DB) string {
	t.Helper()
	var s string
	if err := db.Pool.QueryRow(context.Background(), `
		SELECT concat_ws(E'\n',
		  (SELECT string_agg(pg_get_indexdef(indexrelid), E'\n' ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = 'plot'::regclass),
		  (SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), E'\n' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'plot'::regclass),
		  (SELECT string_agg(tgname || ' ' || tgenabled::text, E'\n' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'plot'::regclass AND NOT tgisinternal))`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func bulkLoaded(rep *registry.ImportReport) bool {
	for _, s := range rep.Stages {
		if s.Stage == "indexes" {
			return true
		}
	}
	return false
}

// TestBulkLoadKeepsTheSchema: an import that outnumbers the registry loads plot without its
// secondary indexes and foreign keys and builds them again; afterwards (and after a dry run,
// which rolls the drop back) plot has exactly the indexes, constraints and triggers it had, the
// indexes answer queries, and the keys hold.
func TestBulkLoadKeepsTheSchema(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.geojson")
	writeGeoJSON(t, p, originals(false))
	db := pgtest.New(t)
	ctx := context.Background()
	schema := plotSchema(t, db)
	if !strings.Contains(schema, "USING gist") || !strings.Contains(schema, "FOREIGN KEY") {
		t.Fatalf("plot has no spatial index or foreign key to test with:\n%s", schema)
	}
	bulk := func(im *postgres.PlotImporter) { im.BulkMin = 1 }

	before := snapshot(t, db)
	rep, err := importWith(t, db, p, plots.Options{}, registry.ImportOptions{DryRun: true}, bulk)
	if err != nil || !bulkLoaded(rep) || rep.Added != len(originals(false)) {
		t.Fatalf("dry run: %+v %v, want a bulk load of every plot", rep, err)
	}
	if snapshot(t, db) != before || plotSchema(t, db) != schema {
		t.Fatal("a bulk dry run changed the database")
	}

	rep, err = importWith(t, db, p, plots.Options{}, registry.ImportOptions{}, bulk)
	if err != nil || !bulkLoaded(rep) {
		t.Fatalf("import: %+v %v, want a bulk load", rep, err)
	}
	if got := plotSchema(t, db); got != schema {
		t.Errorf("after a bulk load plot's schema is\n%s\nwant\n%s", got, schema)
	}
	checkRoundTrip(t, db, originals(false), true)
	// The rebuilt spatial index answers, and the rebuilt keys hold.
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var n int
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM plot WHERE deleted_at IS NULL AND geom && ST_MakeEnvelope(108.04, 12.67, 108.05, 12.68, 4326)`).Scan(&n); err != nil || n == 0 {
		t.Errorf("%d plots found through the rebuilt index (%v)", n, err)
	}
	_, err = tx.Exec(ctx, `UPDATE plot SET crop = 'no such crop' WHERE external_id = 'DL-001'`)
	if err == nil || !strings.Contains(err.Error(), "plot_crop_fkey") {
		t.Errorf("a plot with an unknown crop: %v, want the crop key to refuse it", err)
	}

	// An import smaller than the registry goes row by row.
	small := originals(false)[:2]
	for i := range small {
		small[i].id += "-b"
		small[i].geom = orb.MultiPolygon{field(108.1412345+0.004*float64(i), 12.6712345, false)}
	}
	writeGeoJSON(t, p, small)
	rep, err = importWith(t, db, p, plots.Options{}, registry.ImportOptions{Source: "other"}, bulk)
	if err != nil || bulkLoaded(rep) || rep.Added != 2 {
		t.Errorf("small import: %+v %v, want 2 plots added row by row", rep, err)
	}
}

// TestOwnersBecomeProducersOnce: owners become household producers once each, matched by citizen
// ID anywhere in the registry, else by their name (folded: case and diacritics aside) within
// the source; importing the file again adds none.
func TestOwnersBecomeProducersOnce(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	var known int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO producer (kind, name, citizen_id, source, created_by, updated_by)
		VALUES ('household', 'H''Hen Niê', '066199000001', 'elsewhere', 'test', 'test') RETURNING id`).Scan(&known); err != nil {
		t.Fatal(err)
	}
	type row struct{ id, owner, cccd string }
	rows := []row{
		{"A1", "Nguyễn Văn Đức", ""},
		{"A2", "NGUYỄN VĂN ĐỨC", ""}, // the same person, written in capitals
		{"A3", "Nguyen Van Duc", ""}, // and without diacritics
		{"A4", "Y Khuê Niê", "066199000002"},
		{"A5", "Y Khuê Niê", ""},            // same name, no citizen ID: matched by name, a producer of its own
		{"A6", "H'Hen Niê", "066199000001"}, // the producer already registered
		{"A7", "", ""},                      // no owner
	}
	write := func(path string, crop string) {
		var b strings.Builder
		b.WriteString(`{"type":"FeatureCollection","features":[`)
		for i, r := range rows {
			if i > 0 {
				b.WriteString(",")
			}
			g, _ := json.Marshal(field(108.0412345+0.004*float64(i), 12.6712345, false))
			fmt.Fprintf(&b, `{"type":"Feature","properties":{"MA_THUA":%q,"TEN_CHU":%q,"CCCD":%q,"CAY_TRONG":%q},"geometry":{"type":"Polygon","coordinates":%s}}`,
				r.id, r.owner, r.cccd, crop, g)
		}
		b.WriteString("]}")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "owners.geojson")
	owners := func() map[string]int64 {
		got := map[string]int64{}
		q, err := db.Pool.Query(ctx, `SELECT external_id, coalesce(producer_id, 0) FROM plot WHERE source = 'survey'`)
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		for q.Next() {
			var id string
			var producer int64
			if err := q.Scan(&id, &producer); err != nil {
				t.Fatal(err)
			}
			got[id] = producer
		}
		return got
	}
	for i, crop := range []string{"Cà phê", "Sầu riêng"} {
		write(p, crop)
		if _, err := importFile(t, db, p, plots.Options{}, registry.ImportOptions{}); err != nil {
			t.Fatalf("import %d: %v", i+1, err)
		}
		got := owners()
		if got["A1"] == 0 || got["A2"] != got["A1"] || got["A3"] != got["A1"] {
			t.Errorf("import %d: one owner written three ways became producers %d, %d, %d", i+1, got["A1"], got["A2"], got["A3"])
		}
		if got["A4"] == 0 || got["A5"] == 0 || got["A4"] == got["A5"] || got["A4"] == got["A1"] {
			t.Errorf("import %d: the owner with a citizen ID (%d) and the one without (%d) must be two producers", i+1, got["A4"], got["A5"])
		}
		if got["A6"] != known {
			t.Errorf("import %d: the owner with a registered citizen ID became producer %d, want %d", i+1, got["A6"], known)
		}
		if got["A7"] != 0 {
			t.Errorf("import %d: a plot without an owner has producer %d", i+1, got["A7"])
		}
		var n int
		var cccd string
		if err := db.Pool.QueryRow(ctx, `SELECT count(*), max(citizen_id) FROM producer WHERE source = 'survey'`).Scan(&n, &cccd); err != nil || n != 3 || cccd != "066199000002" {
			t.Errorf("import %d: %d producers from the file (citizen ID %s, %v), want 3", i+1, n, cccd, err)
		}
	}
}

// TestUnknownSRIDChangesNothing: a coordinate system PostGIS does not know is named before any
// geometry is transformed with it.
func TestUnknownSRIDChangesNothing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.geojson")
	writeGeoJSON(t, p, originals(true))
	db := pgtest.New(t)
	before := snapshot(t, db)
	_, err := importFile(t, db, p, plots.Options{CRS: importers.CRS{SRID: 990999, Name: "nowhere", Projected: true}}, registry.ImportOptions{})
	if registry.ErrorCode(err) != registry.EINVALID || !strings.Contains(registry.ErrorMessage(err), "SRID 990999 is not known") {
		t.Errorf("err %v, want the unknown SRID named", err)
	}
	if snapshot(t, db) != before {
		t.Error("a refused import changed the database")
	}
}

// importBoundaries imports path as administrative boundaries (--layer admin) as actor.
func importBoundaries(t *testing.T, db *postgres.DB, ctx context.Context, path string, opt registry.ImportOptions) (*registry.ImportReport, error) {
	t.Helper()
	src, err := plots.Open(path, plots.Options{Limits: importers.DefaultLimits(), Geometry: geo.Limits{MaxVertices: 500_000}, Layer: plots.LayerAdmin})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	if opt.Source == "" {
		opt.Source = "ranh-gioi"
	}
	return postgres.NewBoundaryImporter(db).ImportBoundaries(ctx, plots.Boundaries{Source: src}, opt)
}

// boundaries fingerprints every commune and province boundary.
func boundaries(t *testing.T, db *postgres.DB) string {
	t.Helper()
	var s string
	if err := db.Pool.QueryRow(context.Background(), `SELECT md5(coalesce(string_agg(code || ':' || coalesce(ST_AsEWKT(boundary), ''), ',' ORDER BY code), ''))
		FROM (SELECT code, boundary FROM commune UNION ALL SELECT code, boundary FROM province) b`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAdminBoundariesImport: --layer admin sets commune boundaries from a VN-2000 Shapefile
// (a unit in two parts joined, a name unlike the list's warned of), after which plots are placed
// by them; a bad file is refused with every problem and changes nothing; officers may not.
func TestAdminBoundariesImport(t *testing.T) {
	db := pgtest.New(t)
	ctx := adminCtx()
	type unit struct{ code, name string }
	var units []unit
	rows, err := db.Pool.Query(ctx, `SELECT code, name FROM commune WHERE scheme = 2025 AND province_code = '66' ORDER BY code LIMIT 2`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u unit
		if err := rows.Scan(&u.code, &u.name); err != nil {
			t.Fatal(err)
		}
		units = append(units, u)
	}
	rows.Close()
	if len(units) != 2 {
		t.Fatalf("the 2025 list has %d communes in province 66", len(units))
	}
	box := func(lon, lat, size float64) orb.Polygon {
		return orb.Polygon{{{lon, lat}, {lon + size, lat}, {lon + size, lat + size}, {lon, lat + size}, {lon, lat}}}
	}
	feature := func(code, name string, p orb.Polygon) string {
		g, _ := json.Marshal(p)
		return fmt.Sprintf(`{"type":"Feature","properties":{"MA_XA":%q,"TEN_XA":%q},"geometry":{"type":"Polygon","coordinates":%s}}`, code, name, g)
	}
	dir := t.TempDir()
	write := func(name string, features ...string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(`{"type":"FeatureCollection","features":[`+strings.Join(features, ",")+`]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := box(108.00, 12.60, 0.05)
	b1, b2 := box(108.10, 12.60, 0.02), box(108.13, 12.60, 0.02)
	gj := write("xa.geojson", feature(units[0].code, units[0].name, a),
		feature(units[1].code, "Xã Không Có Tên Này", b1), feature(units[1].code, units[1].name, b2))
	shp := filepath.Join(dir, "ranh_gioi_xa.shp")
	ogr2ogr(t, "-f", "ESRI Shapefile", shp, gj, "-lco", "ENCODING=UTF-8", "-t_srs", vn2000DakLak)

	// Officers may not.
	officer := registry.NewContextWithActor(context.Background(), registry.Actor{Kind: "user", Name: "officer", Role: registry.RoleOfficer,
		Jurisdictions: []registry.Jurisdiction{{ProvinceCode: "66"}}})
	if _, err := importBoundaries(t, db, officer, shp, registry.ImportOptions{}); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Errorf("an officer importing boundaries: %v, want forbidden", err)
	}
	// A bad file: every problem at once, nothing changed.
	bow := orb.Polygon{{{108.3, 12.6}, {108.35, 12.65}, {108.35, 12.6}, {108.3, 12.65}, {108.3, 12.6}}}
	bad := write("bad.geojson", feature(units[0].code, units[0].name, a), feature("99999", "Xã Ma", box(108.2, 12.6, 0.01)),
		feature(units[1].code, units[1].name, bow), feature("", "Không mã", box(108.4, 12.6, 0.01)))
	before, schemaBefore := boundaries(t, db), snapshot(t, db)
	rep, err := importBoundaries(t, db, ctx, bad, registry.ImportOptions{})
	if registry.ErrorCode(err) != registry.EINVALID {
		t.Fatalf("a bad file: %v", err)
	}
	got := map[int]string{}
	for _, d := range rep.Problems {
		got[d.Feature] += d.Field + ": " + d.Message + "; "
	}
	for n, want := range map[int]string{2: "commune '99999' is not in the 2025 list", 3: "invalid geometry", 4: "no code"} {
		if !strings.Contains(got[n], want) {
			t.Errorf("feature %d: %q, want it to say %q", n, got[n], want)
		}
	}
	if len(got) != 3 {
		t.Errorf("problems %v, want features 2, 3 and 4 only", got)
	}
	if boundaries(t, db) != before || snapshot(t, db) != schemaBefore {
		t.Error("a refused boundary import changed the database")
	}
	// A dry run changes nothing either.
	if rep, err := importBoundaries(t, db, ctx, shp, registry.ImportOptions{DryRun: true}); err != nil || rep.Updated != 2 || boundaries(t, db) != before {
		t.Errorf("dry run: %+v %v", rep, err)
	}

	rep, err = importBoundaries(t, db, ctx, shp, registry.ImportOptions{})
	if err != nil || rep.Updated != 2 || rep.Unchanged != 0 || !rep.Committed {
		t.Fatalf("import: %+v %v", rep, err)
	}
	warned := ""
	for _, w := range rep.Warnings {
		warned += fmt.Sprintf("%d %s: %s; ", w.Feature, w.Field, w.Message)
	}
	for _, want := range []string{"2 name: the file names commune " + units[1].code + " 'Xã Không Có Tên Này'", "2 features have code " + units[1].code} {
		if !strings.Contains(warned, want) {
			t.Errorf("warnings %q, want %q", warned, want)
		}
	}
	// The shapes came through VN-2000 and back: same area within a square metre, two parts joined.
	var diffA, diffB float64
	var parts int
	if err := db.Pool.QueryRow(ctx, `SELECT ST_Area(ST_SymDifference(boundary, ST_GeomFromText($2, 4326))::geography) FROM commune WHERE scheme = 2025 AND code = $1`,
		units[0].code, wktOf(a)).Scan(&diffA); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT ST_Area(ST_SymDifference(boundary, ST_GeomFromText($2, 4326))::geography), ST_NumGeometries(boundary) FROM commune WHERE scheme = 2025 AND code = $1`,
		units[1].code, wktOf(orb.MultiPolygon{b1, b2})).Scan(&diffB, &parts); err != nil {
		t.Fatal(err)
	}
	if diffA > 1 || diffB > 1 || parts != 2 {
		t.Errorf("boundaries differ from the file's by %.2f and %.2f m² (%d parts), want under 1 m² and 2 parts", diffA, diffB, parts)
	}
	// Plots are now placed by them.
	plotsFile := filepath.Join(dir, "thua.geojson")
	writeGeoJSON(t, plotsFile, []original{{"P1", "Nguyễn Văn Đức", "Cà phê", orb.MultiPolygon{field(108.02, 12.62, false)}},
		{"P2", "Nguyễn Văn Đức", "Cà phê", orb.MultiPolygon{field(108.14, 12.61, false)}}})
	if _, err := importFile(t, db, plotsFile, plots.Options{}, registry.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	placed := map[string]string{}
	rows, err = db.Pool.Query(ctx, `SELECT external_id, coalesce(commune_code, '') FROM plot WHERE source = 'survey'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, code string
		if err := rows.Scan(&id, &code); err != nil {
			t.Fatal(err)
		}
		placed[id] = code
	}
	rows.Close()
	if placed["P1"] != units[0].code || placed["P2"] != units[1].code {
		t.Errorf("plots placed in %v, want P1 in %s and P2 in %s", placed, units[0].code, units[1].code)
	}
	// Importing the same file again changes nothing.
	if rep, err := importBoundaries(t, db, ctx, shp, registry.ImportOptions{}); err != nil || rep.Updated != 0 || rep.Unchanged != 2 {
		t.Errorf("second import: %+v %v, want 2 unchanged", rep, err)
	}
}

func wktOf(g orb.Geometry) string { return wkt.MarshalString(g) }

func importFacilities(t *testing.T, db *postgres.DB, ctx context.Context, path string, opt registry.ImportOptions) (*registry.ImportReport, error) {
	t.Helper()
	src, err := plots.Open(path, plots.Options{Limits: importers.DefaultLimits(), Geometry: geo.DefaultLimits(), Layer: plots.LayerFacilities})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	if opt.Source == "" {
		opt.Source = "co-so"
	}
	return postgres.NewFacilityImporter(db, "").ImportFacilities(ctx, plots.Facilities{Source: src}, opt)
}

// facilities lists what the registry holds from source "co-so": table, id, name, code, province.
func facilities(t *testing.T, db *postgres.DB) []string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `
		SELECT 'livestock ' || external_id || ' ' || name || ' ' || coalesce(facility_code, '-') || ' ' || province_code || ' v' || version FROM livestock_facility WHERE source = 'co-so'
		UNION ALL SELECT 'feed_mill ' || external_id || ' ' || name || ' - ' || province_code || ' v' || version FROM feed_facility WHERE source = 'co-so'
		UNION ALL SELECT 'packing_house ' || external_id || ' ' || name || ' - ' || province_code || ' v' || version FROM packing_house WHERE source = 'co-so'
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestFacilitiesImport: --layer facilities registers livestock farms, feed mills and packing
// houses from a spreadsheet with longitude and latitude columns, each in its table; a bad file
// is refused with every problem and stores nothing; the same file again changes nothing, a
// changed name makes a new version; an officer of another province may not.
func TestFacilitiesImport(t *testing.T) {
	db := pgtest.New(t)
	ctx := adminCtx()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	header := "MA,LOAI_CO_SO,TEN_CO_SO,DIA_CHI,MA_CO_SO,KINH_DO,VI_DO\n"
	bad := write("bad.csv", header+
		"F1,chăn nuôi,Trại heo Ea Kao,,LS-001,108.06,12.65\n"+
		"F2,nhà hàng,Quán ăn,,,108.07,12.65\n"+
		"F3,đóng gói,,,,108.08,12.65\n"+
		"F4,đóng gói,Kho ở biển,,,100.5,12.65\n"+
		"F1,thức ăn chăn nuôi,Nhà máy,,,108.09,12.65\n")
	before := snapshot(t, db)
	rep, err := importFacilities(t, db, ctx, bad, registry.ImportOptions{Province: "66"})
	if registry.ErrorCode(err) != registry.EINVALID {
		t.Fatalf("a bad file: %v", err)
	}
	got := map[int]string{}
	for _, d := range rep.Problems {
		got[d.Feature] += d.Message + "; "
	}
	for n, want := range map[int]string{2: `kind "nhà hàng" is not a facility kind`, 3: "no name", 4: "outside Vietnam", 5: "used by feature 1"} {
		if !strings.Contains(got[n], want) {
			t.Errorf("feature %d: %q, want it to say %q", n, got[n], want)
		}
	}
	if len(got) != 4 || len(facilities(t, db)) != 0 || snapshot(t, db) != before {
		t.Errorf("problems %v and %v stored, want features 2-5 refused and nothing stored", got, facilities(t, db))
	}

	good := header +
		"F1,chăn nuôi,Trại heo Ea Kao,Buôn Ea Kao,LS-001,108.06,12.65\n" +
		"F2,thức ăn chăn nuôi,Nhà máy thức ăn Tây Nguyên,,,108.07,12.65\n" +
		"F3,Cơ sở đóng gói,Cơ sở đóng gói sầu riêng Krông Pắc,,,108.08,12.65\n"
	p := write("co-so.csv", good)
	officer := registry.NewContextWithActor(context.Background(), registry.Actor{Kind: "user", Name: "officer", Role: registry.RoleOfficer,
		Jurisdictions: []registry.Jurisdiction{{ProvinceCode: "01"}}})
	if _, err := importFacilities(t, db, officer, p, registry.ImportOptions{Province: "66"}); err == nil || !strings.Contains(registry.ErrorMessage(err), "outside your jurisdiction") {
		t.Errorf("an officer of Hà Nội importing Đắk Lắk facilities: %v", err)
	}
	rep, err = importFacilities(t, db, ctx, p, registry.ImportOptions{Province: "66"})
	if err != nil || rep.Added != 3 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	want := []string{"feed_mill F2 Nhà máy thức ăn Tây Nguyên - 66 v1", "livestock F1 Trại heo Ea Kao LS-001 66 v1", "packing_house F3 Cơ sở đóng gói sầu riêng Krông Pắc - 66 v1"}
	if f := facilities(t, db); !reflect.DeepEqual(f, want) {
		t.Errorf("registered %q, want %q", f, want)
	}
	if rep, err := importFacilities(t, db, ctx, p, registry.ImportOptions{Province: "66"}); err != nil || rep.Unchanged != 3 || rep.Added+rep.Updated != 0 {
		t.Errorf("the same file again: %+v %v, want 3 unchanged", rep, err)
	}
	p = write("co-so.csv", strings.Replace(good, "Trại heo Ea Kao,Buôn", "Trại heo Ea Kao 2,Buôn", 1))
	if rep, err := importFacilities(t, db, ctx, p, registry.ImportOptions{Province: "66"}); err != nil || rep.Updated != 1 || rep.Unchanged != 2 {
		t.Errorf("a renamed farm: %+v %v, want 1 updated", rep, err)
	}
	if f := facilities(t, db); len(f) != 3 || f[1] != "livestock F1 Trại heo Ea Kao 2 LS-001 66 v2" {
		t.Errorf("after the rename: %q", f)
	}
}

// TestDeclaredAreaIsCompared: a declared area (DIEN_TICH, m²) far from the surveyed polygon's is
// a warning with both areas, not a refusal; one within the tolerance says nothing.
func TestDeclaredAreaIsCompared(t *testing.T) {
	db := pgtest.New(t)
	var area float64
	g1, _ := json.Marshal(field(108.0412345, 12.6712345, false))
	g2, _ := json.Marshal(field(108.0452345, 12.6712345, false))
	if err := db.Pool.QueryRow(context.Background(), `SELECT ST_Area(ST_GeomFromGeoJSON($1)::geography)`, `{"type":"Polygon","coordinates":`+string(g1)+`}`).Scan(&area); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "dt.geojson")
	os.WriteFile(p, []byte(fmt.Sprintf(`{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"MA_THUA":"D1","CAY_TRONG":"cà phê","DIEN_TICH":%d},"geometry":{"type":"Polygon","coordinates":%s}},
		{"type":"Feature","properties":{"MA_THUA":"D2","CAY_TRONG":"cà phê","DIEN_TICH":%d},"geometry":{"type":"Polygon","coordinates":%s}}]}`,
		int(area*1.05), g1, int(area*2), g2)), 0o644)
	rep, err := importFile(t, db, p, plots.Options{}, registry.ImportOptions{})
	if err != nil || rep.Added != 2 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	if len(rep.Warnings) != 1 {
		t.Fatalf("warnings %+v, want one for feature 2", rep.Warnings)
	}
	w := rep.Warnings[0]
	if w.Feature != 2 || w.Field != "declared area" || w.Code != "declared_area" || !strings.Contains(w.Message, "differs from the surveyed polygon") || w.Args["pct"] == "" {
		t.Errorf("warning %+v, want feature 2's declared area with its percentage", w)
	}
}

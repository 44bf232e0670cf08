package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/registry/postgres/pgtest"
	"github.com/vungtrong/vungtrong/tiles"
)

// The synthetic baselines, in Đắk Lắk near Buôn Ma Thuột, at 0.0001° pixels (about 11 m):
// forest (1) over a square of 0.02°, and tree cover lost in 2022 over its north-west quarter.
var (
	rasterExtent = [4]float64{108.03, 12.66, 108.07, 12.70}
	forestBox    = [4]float64{108.04, 12.67, 108.06, 12.69}
	loss2022Box  = [4]float64{108.04, 12.68, 108.05, 12.69}
)

const pixelDeg = 0.0001

// burn is a value to burn into a raster over a polygon.
type burn struct {
	value int
	ring  [][2]float64
}

func box(b [4]float64) [][2]float64 {
	return [][2]float64{{b[0], b[1]}, {b[2], b[1]}, {b[2], b[3]}, {b[0], b[3]}, {b[0], b[1]}}
}

// rasterize makes a GeoTIFF of Byte pixels of pixelDeg over ext (0 elsewhere) with
// gdal_rasterize, from a GeoJSON (WGS 84) or, with noCRS, from a CSV (no coordinate system).
func rasterize(t *testing.T, dir, name string, ext [4]float64, noCRS bool, burns ...burn) string {
	t.Helper()
	if _, err := exec.LookPath("gdal_rasterize"); err != nil {
		t.Skip("gdal_rasterize is not installed (Debian: gdal-bin)")
	}
	src := filepath.Join(dir, name+".geojson")
	var body string
	if noCRS {
		src = filepath.Join(dir, name+".csv")
		body = "WKT,v\n"
		for _, b := range burns {
			var pts []string
			for _, p := range b.ring {
				pts = append(pts, fmt.Sprintf("%v %v", p[0], p[1]))
			}
			body += fmt.Sprintf("\"POLYGON((%s))\",%d\n", strings.Join(pts, ","), b.value)
		}
	} else {
		var fs []string
		for _, b := range burns {
			ring, _ := json.Marshal(b.ring)
			fs = append(fs, fmt.Sprintf(`{"type":"Feature","properties":{"v":%d},"geometry":{"type":"Polygon","coordinates":[%s]}}`, b.value, ring))
		}
		body = `{"type":"FeatureCollection","features":[` + strings.Join(fs, ",") + `]}`
	}
	if err := os.WriteFile(src, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name+".tif")
	args := []string{"-q", "-a", "v", "-init", "0", "-tr", fmt.Sprint(pixelDeg), fmt.Sprint(pixelDeg),
		"-te", fmt.Sprint(ext[0]), fmt.Sprint(ext[1]), fmt.Sprint(ext[2]), fmt.Sprint(ext[3]), "-ot", "Byte", "-of", "GTiff"}
	if b, err := exec.Command("gdal_rasterize", append(args, src, out)...).CombinedOutput(); err != nil {
		t.Fatalf("gdal_rasterize %s: %v\n%s", name, err, b)
	}
	return out
}

// baselineCounts is how many baselines and tiles the database holds.
func baselineCounts(t *testing.T, db *postgres.DB) string {
	t.Helper()
	var s string
	err := db.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM baseline) || '/' || (SELECT count(*) FROM baseline_forest2020) || '/' ||
		(SELECT count(*) FROM baseline_lossyear) || '/' || (SELECT count(*) FROM audit_log WHERE action LIKE 'baseline.%')`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// loadSyntheticBaselines makes the forest and loss rasters and loads them with the command.
func loadSyntheticBaselines(t *testing.T, url string) {
	t.Helper()
	dir := t.TempDir()
	forest := rasterize(t, dir, "forest2020", rasterExtent, false, burn{1, box(forestBox)})
	loss := rasterize(t, dir, "lossyear", rasterExtent, false, burn{22, box(loss2022Box)})
	out := runCLI(t, 0, "--database-url", url, "baseline", "load", "--kind", "forest2020", "--dataset", "JRC GFC2020 V2", forest)
	if !strings.Contains(out, "loaded forest2020 baseline") || !strings.Contains(out, "JRC GFC2020 V2 (2020-12-31)") {
		t.Fatalf("load forest: %s", out)
	}
	out = runCLI(t, 0, "--database-url", url, "baseline", "load", "--kind", "lossyear", loss)
	if !strings.Contains(out, "Hansen Global Forest Change (lossyear) (2022-12-31)") {
		t.Fatalf("load loss: %s", out)
	}
}

func newPlot(t *testing.T, ctx context.Context, ps *postgres.PlotService, crop string, year int, ring [][2]float64) int64 {
	t.Helper()
	var r orb.Ring
	for _, p := range ring {
		r = append(r, orb.Point{p[0], p[1]})
	}
	p := &registry.Plot{Crop: crop, PlantingYear: year, ProvinceCode: "66", Geometry: orb.MultiPolygon{{r}}}
	if err := ps.CreatePlot(ctx, p); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// The acceptance of issue 12: on a synthetic forest raster a plot half inside the forest of
// 2020 reports 50% (within one pixel's area), a plot with loss in 2022 is high risk, and an
// orchard planted before 2020 on land not forested in 2020 is low risk.
func TestScreeningOfSyntheticBaselines(t *testing.T) {
	url := pgtest.NewURL(t)
	db, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := registry.NewContextWithActor(context.Background(), registry.SystemActor("test"))
	loadSyntheticBaselines(t, url)

	ps := postgres.NewPlotService(db)
	// A trapezoid symmetric about the forest's east edge (108.06): half of it is forest, on
	// the ellipsoid too, and its other edges cut pixels anywhere.
	half := newPlot(t, ctx, ps, "coffee", 0, [][2]float64{{108.05923, 12.67713}, {108.06077, 12.67713}, {108.06061, 12.67897}, {108.05939, 12.67897}, {108.05923, 12.67713}})
	lost := newPlot(t, ctx, ps, "coffee", 0, box([4]float64{108.04217, 12.68203, 108.04791, 12.68788}))
	orchard := newPlot(t, ctx, ps, "durian", 2015, box([4]float64{108.03213, 12.66207, 108.03618, 12.66591}))
	oldOrchardInForest := newPlot(t, ctx, ps, "durian", 2015, box([4]float64{108.05213, 12.67207, 108.05618, 12.67591}))
	newCoffeeInForest := newPlot(t, ctx, ps, "coffee", 2022, box([4]float64{108.05213, 12.68207, 108.05618, 12.68591}))

	out := runCLI(t, 0, "--database-url", url, "screen")
	if !strings.Contains(out, "screening run 1: 5 plots of every province") || !strings.Contains(out, "screened 5 plots") {
		t.Fatalf("screen: %s", out)
	}
	svc := postgres.NewScreeningService(db)
	get := func(id int64) *registry.PlotScreening {
		t.Helper()
		s, err := svc.PlotScreening(ctx, id)
		if err != nil || s == nil {
			t.Fatalf("plot %d: %v %v", id, s, err)
		}
		if !s.Current {
			t.Errorf("plot %d: screening not current", id)
		}
		return s
	}
	// One pixel of 0.0001° here, in hectares on the ellipsoid.
	var pixelHa float64
	if err := db.Pool.QueryRow(ctx, `SELECT ST_Area(ST_MakeEnvelope(108.06, 12.678, 108.0601, 12.6781, 4326)::geography) / 10000`).Scan(&pixelHa); err != nil {
		t.Fatal(err)
	}
	s := get(half)
	if math.Abs(*s.Forest2020Ha-s.AreaHa/2) > pixelHa || math.Abs(*s.Forest2020Pct-50) > pixelHa/s.AreaHa*100 {
		t.Errorf("half plot: forest %v ha (%v%%) of %v ha, want half within a pixel (%v ha)", *s.Forest2020Ha, *s.Forest2020Pct, s.AreaHa, pixelHa)
	}
	if s.Risk != registry.RiskMoreInfo || s.Reason != registry.ReasonTreeCover2020 || s.ForestSource != registry.BaselineForest2020 || *s.LossAfter2020Ha != 0 {
		t.Errorf("half plot: %+v", s)
	}
	if len(s.Datasets) != 2 || s.Datasets[0].Name != "JRC GFC2020 V2" || s.Datasets[0].Date != "2020-12-31" || s.Datasets[1].Kind != registry.BaselineLossYear {
		t.Errorf("half plot datasets %+v", s.Datasets)
	}
	s = get(lost)
	if s.Risk != registry.RiskHigh || s.Reason != registry.ReasonLostAfter2020 || math.Abs(*s.LossAfter2020Pct-100) > 0.01 ||
		math.Abs(*s.LossAfter2020Ha-s.AreaHa) > 0.0001 || fmt.Sprint(s.LossYears) != "[2022]" || math.Abs(*s.Forest2020Pct-100) > 0.01 {
		t.Errorf("plot lost in 2022: %+v", s)
	}
	s = get(orchard)
	if s.Risk != registry.RiskLow || s.Reason != registry.ReasonNoTreeCover2020 || *s.Forest2020Ha != 0 || !s.Commodity2020 {
		t.Errorf("orchard of 2015 outside the forest: %+v", s)
	}
	// Decided where the issue is silent: a perennial crop declared planted by 2020 stood on
	// the land at the cut-off (an orchard is not forest), even where a map says forest.
	s = get(oldOrchardInForest)
	if s.Risk != registry.RiskLow || s.Reason != registry.ReasonCommodity2020 || math.Abs(*s.Forest2020Pct-100) > 0.01 {
		t.Errorf("orchard of 2015 in the mapped forest: %+v", s)
	}
	s = get(newCoffeeInForest)
	if s.Risk != registry.RiskMoreInfo || s.Commodity2020 {
		t.Errorf("coffee of 2022 in the mapped forest: %+v", s)
	}

	// The summary other checks call: the worst risk wins, unknown plots are not screened.
	sum, err := svc.Summary(ctx, []int64{half, lost, orchard, oldOrchardInForest, newCoffeeInForest, lost, 999999})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Plots != 6 || sum.Screened != 5 || sum.Risk != registry.RiskHigh || sum.High.Plots != 1 || sum.Low.Plots != 2 || sum.MoreInfo.Plots != 2 ||
		sum.NotScreened.Plots != 1 || fmt.Sprint(sum.HighPlots) != fmt.Sprint([]int64{lost}) || len(sum.Datasets) != 2 {
		t.Errorf("summary %+v", sum)
	}

	// The same in the words of an EUDR export's summary.json.
	ex, err := svc.ScreenEUDRPlots(ctx, []int64{half, lost, orchard, 999999})
	if err != nil || ex.Outcome != "high risk" || ex.Plots["high risk"] != 1 || ex.Plots["low risk"] != 1 || ex.Plots["more information needed"] != 1 ||
		ex.Plots["not screened"] != 1 || !strings.Contains(ex.Note, "JRC GFC2020 V2 (2020-12-31)") {
		t.Errorf("EUDR screening %+v, %v", ex, err)
	}

	// Running it again finds the last run done and starts a new one; --province keeps to one.
	out = runCLI(t, 0, "--database-url", url, "screen", "--province", "Đắk Lắk")
	if !strings.Contains(out, "5 plots of province 66") {
		t.Errorf("screen --province: %s", out)
	}
}

// Bad input is refused with a clear message and changes nothing: a GeoTIFF without a
// coordinate system, one outside Vietnam, one whose values its kind cannot hold, one
// overlapping a loaded file of its kind; and a good file loaded with a bad one is not loaded.
func TestBadBaselinesAreRefusedAndChangeNothing(t *testing.T) {
	url := pgtest.NewURL(t)
	db, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	loadSyntheticBaselines(t, url)
	before := baselineCounts(t, db)
	dir := t.TempDir()
	elsewhere := [4]float64{108.10, 12.66, 108.14, 12.70}
	inside := box([4]float64{108.11, 12.67, 108.12, 12.68})
	good := rasterize(t, dir, "good", [4]float64{108.14, 12.66, 108.18, 12.70}, false, burn{1, box([4]float64{108.15, 12.67, 108.16, 12.68})})
	noCRS := rasterize(t, dir, "nocrs", elsewhere, true, burn{1, inside})
	africa := rasterize(t, dir, "africa", [4]float64{20, 4, 20.04, 4.04}, false, burn{1, box([4]float64{20.01, 4.01, 20.02, 4.02})})
	seven := rasterize(t, dir, "seven", elsewhere, false, burn{7, inside})
	future := rasterize(t, dir, "future", elsewhere, false, burn{99, inside})
	overlap := rasterize(t, dir, "overlap", [4]float64{108.05, 12.66, 108.09, 12.70}, false, burn{1, box(forestBox)})
	tests := map[string]struct {
		files []string
		kind  string
		want  string
	}{
		"no coordinate system":       {[]string{noCRS}, "forest2020", "nocrs.tif: the file has no coordinate system"},
		"Africa":                     {[]string{africa}, "forest2020", "africa.tif: its extent 20.0000,4.0000 to 20.0400,4.0400 (lon,lat) lies outside Vietnam"},
		"forest of 7":                {[]string{seven}, "forest2020", "seven.tif: its values run from 7 to 7, but a forest2020 baseline holds 1 (forest) and 0 (not forest)"},
		"loss in 2099":               {[]string{future}, "lossyear", "future.tif: its values run from 99 to 99, but a lossyear baseline holds the year of the loss less 2000"},
		"overlapping":                {[]string{overlap}, "forest2020", "overlap.tif overlaps forest2020.tif, loaded as forest2020 baseline"},
		"a good file with a bad one": {[]string{good, seven}, "forest2020", "seven.tif: its values run from 7 to 7"},
		"not a raster":               {[]string{filepath.Join(dir, "nocrs.csv")}, "forest2020", "nocrs.csv is not a raster GDAL can read"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := runCLI(t, 1, append([]string{"--database-url", url, "baseline", "load", "--kind", tc.kind}, tc.files...)...)
			if !strings.Contains(out, "nothing was loaded") || !strings.Contains(out, tc.want) {
				t.Errorf("got %q, want it to say %q", out, tc.want)
			}
			if after := baselineCounts(t, db); after != before {
				t.Errorf("baselines/forest tiles/loss tiles/audit rows went from %s to %s", before, after)
			}
		})
	}
	if out := runCLI(t, 2, "--database-url", url, "baseline", "load", "--kind", "forest", good); !strings.Contains(out, `baseline kind "forest": use forest2020`) {
		t.Errorf("bad kind: %s", out)
	}
}

// A plot written is screened by the server within seconds; its answer, and its tile, show the
// risk; a change of the plot is screened again.
func TestPlotsAreScreenedWhenWritten(t *testing.T) {
	a := startApp(t, nil)
	loadSyntheticBaselines(t, a.app.cfg.Database.URL)
	lost := box([4]float64{108.04217, 12.68203, 108.04791, 12.68788})
	ring, _ := json.Marshal(lost)
	res := a.do("POST", "/api/v1/plots", fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[%s]},"properties":{"crop":"coffee","province_code":"66"}}`, ring), a.auth()...)
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	loc := res.header.Get("Location")
	var id int64
	fmt.Sscanf(loc[strings.LastIndexByte(loc, '/')+1:], "%d", &id)
	screening := func(version float64) map[string]any {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			p := a.do("GET", loc, "").json(t)["properties"].(map[string]any)
			if s, ok := p["screening"].(map[string]any); ok && s["plot_version"].(float64) == version && s["current"] == true {
				return s
			}
		}
		t.Fatalf("plot %d version %v was not screened within 30 s", id, version)
		return nil
	}
	s := screening(1)
	if s["risk"] != "high" || fmt.Sprint(s["loss_years"]) != "[2022]" || s["forest_source"] != "forest2020" {
		t.Errorf("screening %v", s)
	}
	tileRisk := func() any {
		d, _ := a.tile("plots", tiles.At(orb.Point{108.045, 12.685}, 15))
		for _, f := range d["plots"].Features {
			if f.ID == uint64(id) {
				return f.Properties["risk"]
			}
		}
		t.Fatal("the plot is not in its tile")
		return nil
	}
	if r := tileRisk(); r != "high" {
		t.Errorf("tile risk %v, want high", r)
	}
	// Declared a durian orchard planted in 2015: a commodity crop stood there in 2020.
	if res := a.do("PATCH", loc, `{"properties":{"crop":"durian","planting_year":2015}}`, append(a.auth(), "If-Match", `"v1"`)...); res.status != 200 {
		t.Fatalf("patch: %d %s", res.status, res.body)
	}
	if s := screening(2); s["risk"] != "low" || s["reason"] != registry.ReasonCommodity2020 {
		t.Errorf("after the patch: %v", s)
	}
	if r := tileRisk(); r != "low" {
		t.Errorf("tile risk after the patch %v, want low", r)
	}
	// A batch screening handed to the servers.
	out := runCLI(t, 0, "--database-url", a.app.cfg.Database.URL, "screen", "--background")
	if !strings.Contains(out, "screening run 1: 1 plots of every province") || !strings.Contains(out, "queued") {
		t.Fatalf("screen --background: %s", out)
	}
	svc := postgres.NewScreeningService(a.app.DB())
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		run, err := svc.FindRun(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if run.State == "done" && run.Done == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the servers did not finish the run in 30 s: %+v", run)
		}
	}
}

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
)

// TestBrowser runs the browser tests of web/app/tests (node --test, playwright-core driving
// Debian's chromium) against a real server with an account of every role. They need the web
// map built (make build) and chromium installed (scripts/install-deps test); set
// VUNGTRONG_SKIP_BROWSER=1 to skip them on a machine without a browser.
func TestBrowser(t *testing.T) {
	if os.Getenv("VUNGTRONG_SKIP_BROWSER") == "1" {
		t.Skip("VUNGTRONG_SKIP_BROWSER=1")
	}
	app, err := filepath.Abs("../../web/app")
	if err != nil {
		t.Fatal(err)
	}
	for _, need := range []string{filepath.Join(app, "node_modules", "playwright-core"), "/usr/bin/chromium", "../../web/dist/app/index.html"} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("%s is missing: run `bash scripts/install-deps test` and `make build` first (or VUNGTRONG_SKIP_BROWSER=1)", need)
		}
	}
	a := startApp(t, nil)
	a.loadDemo()
	ps := a.people()
	officer, _ := json.Marshal(map[string]string{"login": ps.login("officerA"), "password": ps.passwords["officerA"], "name": "Người thử officerA"})
	// A durian plot of the growing area with an active China code, for the map test to click:
	// its id, a point inside it, and what its panel must say.
	var plot struct {
		ID      int64   `json:"id"`
		Lon     float64 `json:"lon"`
		Lat     float64 `json:"lat"`
		AreaHa  float64 `json:"area_ha"`
		AreaVI  string  `json:"area_vi"`
		AreaEN  string  `json:"area_en"`
		CropVI  string  `json:"crop_vi"`
		CropEN  string  `json:"crop_en"`
		Area    string  `json:"growing_area"`
		Code    string  `json:"code"`
		Commune string  `json:"commune"`
	}
	err = a.app.DB().Pool.QueryRow(context.Background(), `
		SELECT p.id, ST_X(c), ST_Y(c), p.area_ha, g.name, 'VN-DLOR-0321', cm.name
		FROM plot p JOIN growing_area_plot m ON m.plot_id = p.id JOIN growing_area g ON g.id = m.growing_area_id
		JOIN commune cm ON cm.scheme = 2025 AND cm.code = p.commune_code,
		LATERAL ST_PointOnSurface(p.geom) c
		WHERE g.name = 'Vùng trồng sầu riêng Krông Pắc 1' ORDER BY p.area_ha DESC LIMIT 1`).
		Scan(&plot.ID, &plot.Lon, &plot.Lat, &plot.AreaHa, &plot.Area, &plot.Code, &plot.Commune)
	if err != nil {
		t.Fatal(err)
	}
	plot.CropVI, plot.CropEN = "Sầu riêng", "Durian"
	plot.AreaVI = strings.Replace(fmt.Sprintf("%.2f ha", plot.AreaHa), ".", ",", 1)
	plot.AreaEN = fmt.Sprintf("%.2f ha", plot.AreaHa)
	plotJSON, _ := json.Marshal(plot)
	farmer, _ := json.Marshal(map[string]string{"login": ps.login("farmer1"), "password": ps.passwords["farmer1"]})
	admin, _ := json.Marshal(map[string]string{"login": ps.login("admin"), "password": ps.passwords["admin"]})
	importFiles := browserImportFiles(t, a)
	lot, consignment := a.demoChain()
	traceJSON, _ := json.Marshal(map[string]string{"lot": lot, "consignment": consignment})
	officerB, _ := json.Marshal(map[string]string{"login": ps.login("officerB"), "password": ps.passwords["officerB"]})
	editJSON := browserEditSetup(t, a, ps)
	// A code whose valid_to passed yesterday, written expired by the expiry job.
	const expiredCode = "66-24280-CP-001"
	if _, err := a.app.DB().Pool.Exec(context.Background(), `UPDATE market_code SET valid_to = vn_today() - 1 WHERE code = $1`, expiredCode); err != nil {
		t.Fatal(err)
	}
	if n, err := a.app.DB().ExpireCodes(context.Background()); err != nil || n != 1 {
		t.Fatalf("expiring %s: %d codes, %v", expiredCode, n, err)
	}
	expiredJSON, _ := json.Marshal(map[string]string{"code": expiredCode})
	codeServiceJSON := browserCodeServiceSetup(t, a)
	codeProcedureJSON := browserCodeProcedureSetup(t, a)
	artifacts := filepath.Join(app, "test-results")
	os.Remove(filepath.Join(artifacts, "edit-results.json"))
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	// VUNGTRONG_BROWSER_TESTS=tests/editor.test.mjs runs one file while working on a screen;
	// the checks of the other files' writes are then skipped.
	only := os.Getenv("VUNGTRONG_BROWSER_TESTS")
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", cmpOr(only, "tests/"))
	cmd.Dir = app
	env := []string{"VT_BASE_URL=" + a.base, "VT_OFFICER=" + string(officer), "VT_ARTIFACTS=" + artifacts,
		"VT_PLOT=" + string(plotJSON), "VT_FARMER=" + string(farmer), "VT_IMPORT=" + string(importFiles), "VT_ADMIN=" + string(admin), "VT_TRACE=" + string(traceJSON),
		"VT_EDIT=" + string(editJSON), "VT_OFFICER_B=" + string(officerB), "VT_EXPIRED=" + string(expiredJSON),
		"VT_CODESERVICE=" + string(codeServiceJSON), "VT_CODEPROCEDURE=" + string(codeProcedureJSON)}
	cmd.Env = append(os.Environ(), env...)
	// VUNGTRONG_BROWSER_HOLD=FILE keeps the prepared server up instead of running the tests,
	// with their environment in FILE (export lines), until FILE is removed: for running one
	// test again and again while working on a screen.
	if hold := os.Getenv("VUNGTRONG_BROWSER_HOLD"); hold != "" {
		var b strings.Builder
		for _, e := range env {
			k, v, _ := strings.Cut(e, "=")
			fmt.Fprintf(&b, "export %s='%s'\n", k, strings.ReplaceAll(v, "'", `'\''`))
		}
		if err := os.WriteFile(hold, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, err := os.Stat(hold); err == nil; _, err = os.Stat(hold) {
			time.Sleep(time.Second)
		}
		return
	}
	out, err := cmd.CombinedOutput()
	t.Logf("browser tests:\n%s", out)
	if err != nil {
		t.Fatalf("browser tests failed: %v (screenshots in %s)", err, artifacts)
	}
	if only == "" || strings.Contains(only, "editor") {
		checkBrowserEdits(t, a, ps, filepath.Join(artifacts, "edit-results.json"))
	}
	if only != "" {
		return
	}
	// The refused file stored nothing; the good one its two plots, once, whatever the page said.
	var n int
	var crops string
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT count(*), coalesce(string_agg(DISTINCT crop, ','), '') FROM plot WHERE source IN ('browser-import', 'browser-import-bad')`).Scan(&n, &crops); err != nil {
		t.Fatal(err)
	}
	if n != 2 || crops != "coffee" {
		t.Errorf("after the browser's imports the registry holds %d plots of the test files (crops %q), want the good file's 2 coffee plots", n, crops)
	}
	// The confirmed second file moved A1 (a new version); the GPX walk became a coffee plot.
	var version, walks int
	var walkCrop string
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT (SELECT version FROM plot WHERE source = 'browser-import' AND external_id = 'A1'),
		(SELECT count(*) FROM plot WHERE source = 'duong-di-bo'), (SELECT coalesce(min(crop), '') FROM plot WHERE source = 'duong-di-bo')`).Scan(&version, &walks, &walkCrop); err != nil {
		t.Fatal(err)
	}
	if version != 2 || walks != 1 || walkCrop != "coffee" {
		t.Errorf("after the confirmed re-import and the GPX walk: A1 at version %d (want 2), %d walked plots with crop %q (want 1, coffee)", version, walks, walkCrop)
	}
	// The officer's spreadsheet registered its two facilities, each in its table.
	var farms, houses int
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM livestock_facility WHERE source = 'co-so-browser'),
		(SELECT count(*) FROM packing_house WHERE source = 'co-so-browser')`).Scan(&farms, &houses); err != nil || farms != 1 || houses != 1 {
		t.Errorf("after the browser's facility import: %d farms and %d packing houses (%v), want 1 and 1", farms, houses, err)
	}
	// The administrator's boundary upload set the commune's boundary to the file's square.
	var files struct{ AdminCode string }
	json.Unmarshal(importFiles, &files)
	var diff float64
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT coalesce(ST_Area(ST_SymDifference(boundary, ST_MakeEnvelope(107.3, 12.1, 107.32, 12.12, 4326))), -1)
		FROM commune WHERE scheme = 2025 AND code = $1`, files.AdminCode).Scan(&diff); err != nil || diff != 0 {
		t.Errorf("commune %s after the browser's boundary import: difference %v from the file's square (%v), want 0", files.AdminCode, diff, err)
	}
}

// browserImportFiles writes the two GeoJSON files the import test uploads, in an empty corner of
// officerA's commune: a good one with two coffee plots, and a bad one whose second feature
// crosses itself.
func browserImportFiles(t *testing.T, a *testApp) []byte {
	t.Helper()
	var x, y float64
	err := a.app.DB().Pool.QueryRow(context.Background(), `
		SELECT 108.005 + i * 0.01, 12.605 + j * 0.01 FROM generate_series(0, 8) i, generate_series(0, 8) j
		WHERE NOT EXISTS (SELECT 1 FROM plot p WHERE p.geom && ST_MakeEnvelope(108.001 + i * 0.01, 12.601 + j * 0.01, 108.009 + i * 0.01, 12.609 + j * 0.01, 4326))
		ORDER BY i, j LIMIT 1`).Scan(&x, &y)
	if err != nil {
		t.Fatal(err)
	}
	square := func(x0, y0 float64) [][][2]float64 {
		return [][][2]float64{{{x0, y0}, {x0 + 0.001, y0}, {x0 + 0.001, y0 + 0.001}, {x0, y0 + 0.001}, {x0, y0}}}
	}
	bowtie := [][][2]float64{{{x, y}, {x + 0.001, y + 0.001}, {x + 0.001, y}, {x, y + 0.001}, {x, y}}}
	feature := func(id string, ring [][][2]float64) map[string]any {
		return map[string]any{"type": "Feature", "id": id, "geometry": map[string]any{"type": "Polygon", "coordinates": ring},
			"properties": map[string]any{"CAY_TRONG": "Cà phê", "CHU_HO": "Nguyễn Thị Nhập"}}
	}
	collection := func(fs ...map[string]any) string {
		b, _ := json.Marshal(map[string]any{"type": "FeatureCollection", "features": fs})
		return string(b)
	}
	// A commune of Đắk Lắk with no boundary yet, for the administrator's boundary upload.
	var code string
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT min(code) FROM commune WHERE scheme = 2025 AND province_code = '66' AND boundary IS NULL`).Scan(&code); err != nil {
		t.Fatal(err)
	}
	files, _ := json.Marshal(map[string]string{
		"good":      collection(feature("A1", square(x, y)), feature("A2", square(x+0.0012, y))),
		"bad":       collection(feature("B1", square(x, y+0.002)), feature("B2", bowtie)),
		"admin":     `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"MA_XA":"` + code + `"},"geometry":{"type":"Polygon","coordinates":[[[107.3,12.1],[107.32,12.1],[107.32,12.12],[107.3,12.12],[107.3,12.1]]]}}]}`,
		"adminCode": code,
		// The good file again with A1 moved about 11 m east: the form must ask before changing it.
		"changed": collection(feature("A1", square(x+0.0001, y)), feature("A2", square(x+0.0012, y))),
		// A walk around a field with a phone's GPS, back to where it started: a plot with no
		// attributes, whose crop the officer picks in the form.
		"gpx": fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="vungtrong-test" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>Rẫy cà phê nhà ông Nhập</name><trkseg>
<trkpt lat="%[2]f" lon="%[1]f"/><trkpt lat="%[2]f" lon="%[3]f"/><trkpt lat="%[4]f" lon="%[3]f"/><trkpt lat="%[4]f" lon="%[1]f"/><trkpt lat="%[2]f" lon="%[1]f"/>
</trkseg></trk></gpx>`, x+0.004, y, x+0.0052, y+0.0011),
		"facilities": "MA,LOAI_CO_SO,TEN_CO_SO,KINH_DO,VI_DO\nB1,chăn nuôi,Trại bò Ea Tu,108.06,12.65\nB2,đóng gói,Kho đóng gói Ea Tu,108.07,12.65\n",
	})
	return files
}

// browserEditSetup finds an empty square of 0.01° in officerA's commune and registers the
// plots the editor's browser test works on: a neighbour to draw beside, a plot to split, one
// to edit from two browsers at once, one edited twice (to restore), one to delete; and names
// farmer1's plot and farmer2's.
func browserEditSetup(t *testing.T, a *testApp, ps *people) []byte {
	t.Helper()
	ctx := registry.NewContextWithActor(context.Background(), registry.SystemActor("test"))
	var x, y float64
	err := a.app.DB().Pool.QueryRow(ctx, `
		SELECT 108.0 + i * 0.01, 12.6 + j * 0.01 FROM generate_series(1, 8) i, generate_series(1, 8) j
		WHERE NOT EXISTS (SELECT 1 FROM plot p WHERE p.geom && ST_MakeEnvelope(107.998 + i * 0.01, 12.598 + j * 0.01, 108.012 + i * 0.01, 12.612 + j * 0.01, 4326))
		ORDER BY i DESC, j DESC LIMIT 1`).Scan(&x, &y)
	if err != nil {
		t.Fatal(err)
	}
	plots := postgres.NewPlotService(a.app.DB())
	square := func(dx, dy float64) int64 {
		p := &registry.Plot{Crop: "coffee", Geometry: orb.MultiPolygon{{{{x + dx, y + dy}, {x + dx + 0.001, y + dy}, {x + dx + 0.001, y + dy + 0.001}, {x + dx, y + dy + 0.001}, {x + dx, y + dy}}}}}
		if err := plots.CreatePlot(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	restore := square(0.001, 0.004)
	for i, variety := range []string{"TR4", "TR9"} {
		p, err := plots.FindPlotByID(ctx, restore)
		if err != nil {
			t.Fatal(err)
		}
		p.Variety = variety
		p.Geometry = orb.MultiPolygon{{{{x + 0.001, y + 0.004}, {x + 0.002 + 0.0002*float64(i+1), y + 0.004}, {x + 0.002, y + 0.005}, {x + 0.001, y + 0.005}, {x + 0.001, y + 0.004}}}}
		if err := plots.UpdatePlot(ctx, p, p.Version); err != nil {
			t.Fatal(err)
		}
	}
	at := func(id int64) map[string]any {
		var lon, lat float64
		if err := a.app.DB().Pool.QueryRow(ctx, `SELECT ST_X(c), ST_Y(c) FROM plot, ST_PointOnSurface(geom) c WHERE id = $1`, id).Scan(&lon, &lat); err != nil {
			t.Fatal(err)
		}
		return map[string]any{"id": id, "at": []float64{lon, lat}}
	}
	b, _ := json.Marshal(map[string]any{
		"origin":    []float64{x, y},
		"neighbour": square(0.001, 0.001),
		"split":     square(0.004, 0.001),
		"conflict":  square(0.004, 0.004),
		"restore":   restore,
		"delete":    square(0.006, 0.004),
		// farmer1 owns p1; p2 is farmer2's.
		"farmerPlot":      at(ps.p1),
		"otherFarmerPlot": at(ps.p2),
	})
	return b
}

// checkBrowserEdits checks in PostGIS what the editor's browser test wrote (its results file).
func checkBrowserEdits(t *testing.T, a *testApp, ps *people, file string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the editor's browser test left no results: %v", err)
	}
	var r struct {
		Drawn struct {
			ID          int64        `json:"id"`
			ShownAreaHa float64      `json:"shownAreaHa"`
			Snapped     [][2]float64 `json:"snapped"`
		} `json:"drawn"`
		Suggested struct{ ID int64 } `json:"suggested"`
		Split     struct {
			Parent int64   `json:"parent"`
			Parts  []int64 `json:"parts"`
		} `json:"split"`
		Merged struct{ ID int64 } `json:"merged"`
		Walked struct {
			ID    int64        `json:"id"`
			Truth [][2]float64 `json:"truth"`
		} `json:"walked"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	db := a.app.DB().Pool
	ctx := context.Background()
	// The drawn plot shares the neighbour's edge: no overlap, and the stretch between the two
	// snapped vertices lies on the neighbour's boundary (no gap wider than 1 cm).
	var overlapM2, gapM, storedHa float64
	var onEdge int
	err = db.QueryRow(ctx, `
		WITH d AS (SELECT geom, area_ha FROM plot WHERE id = $1),
		     n AS (SELECT p.geom FROM plot p, d WHERE p.id <> $1 AND p.deleted_at IS NULL AND p.geom && ST_Expand(d.geom, 0.0001)
		           ORDER BY ST_Distance(p.geom, ST_SetSRID(ST_MakePoint($2, $3), 4326)) LIMIT 1),
		     v AS (SELECT (ST_DumpPoints(d.geom)).geom AS pt FROM d),
		     e AS (SELECT v.pt FROM v, n WHERE ST_Distance(v.pt::geography, ST_Boundary(n.geom)::geography) < 0.01),
		     s AS (SELECT ST_MakeLine(ST_SetSRID(ST_MakePoint($2, $3), 4326), ST_SetSRID(ST_MakePoint($4, $5), 4326)) AS l)
		SELECT ST_Area(ST_Intersection(d.geom, n.geom)::geography), d.area_ha, (SELECT count(DISTINCT ST_AsText(pt)) FROM e),
		       (SELECT max(ST_Distance(q.geom::geography, ST_Boundary(d.geom)::geography))
		        FROM s, ST_DumpPoints(ST_LineInterpolatePoints(s.l, 0.05)) q)
		FROM d, n`, r.Drawn.ID, r.Drawn.Snapped[0][0], r.Drawn.Snapped[0][1], r.Drawn.Snapped[1][0], r.Drawn.Snapped[1][1]).Scan(&overlapM2, &storedHa, &onEdge, &gapM)
	if err != nil {
		t.Fatalf("drawn plot %d: %v", r.Drawn.ID, err)
	}
	t.Logf("drawn plot %d: overlap with its neighbour %.3g m², %d vertices on its boundary, widest gap along the snapped stretch %.4f m, area shown %.6f ha, stored %.6f ha",
		r.Drawn.ID, overlapM2, onEdge, gapM, r.Drawn.ShownAreaHa, storedHa)
	if overlapM2 > 1e-6 || onEdge < 2 || gapM > 0.01 || math.Abs(storedHa-r.Drawn.ShownAreaHa)/storedHa > 1e-4 {
		t.Errorf("the drawn plot does not share its neighbour's edge as drawn (see the line above)")
	}
	// The suggested shape overlaps no neighbour by 0.01 m² or more.
	var worst float64
	if err := db.QueryRow(ctx, `SELECT coalesce(max(ST_Area(ST_Intersection(s.geom, p.geom)::geography)), 0) FROM plot s, plot p
		WHERE s.id = $1 AND p.id <> s.id AND p.deleted_at IS NULL AND p.geom && s.geom`, r.Suggested.ID).Scan(&worst); err != nil || worst >= 0.01 {
		t.Errorf("the plot saved with the suggested shape overlaps a neighbour by %v m² (%v)", worst, err)
	}
	// Split: the parts add up to the parent; merged back, they are the parent.
	var parent, parts, diff float64
	if err := db.QueryRow(ctx, `SELECT (SELECT area_ha FROM plot WHERE id = $1), (SELECT sum(area_ha) FROM plot WHERE id = ANY($2)),
		(SELECT ST_Area(ST_SymDifference(a.geom, b.geom)::geography) FROM plot a, plot b WHERE a.id = $1 AND b.id = $3)`,
		r.Split.Parent, r.Split.Parts, r.Merged.ID).Scan(&parent, &parts, &diff); err != nil || math.Abs(parts-parent)/parent > 1e-4 || diff > 1e-4 {
		t.Errorf("split of %d into %v and merge into %d: parent %v ha, parts %v ha, merged differs by %v m² (%v)", r.Split.Parent, r.Split.Parts, r.Merged.ID, parent, parts, diff, err)
	}
	// The walked plot lies within 2 m of the field walked (Hausdorff distance, in metres).
	truth, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": [][][2]float64{r.Walked.Truth}})
	var hausdorff float64
	if err := db.QueryRow(ctx, `SELECT ST_HausdorffDistance(ST_Transform(geom, 32649), ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($2), 4326), 32649))
		FROM plot WHERE id = $1`, r.Walked.ID, string(truth)).Scan(&hausdorff); err != nil || hausdorff > 2 {
		t.Errorf("the walked plot %d is %v m from the field (Hausdorff; %v), want at most 2 m", r.Walked.ID, hausdorff, err)
	}
	t.Logf("walked plot %d: %.2f m from the field walked (Hausdorff)", r.Walked.ID, hausdorff)
	// The farmer's variety; the other farmer's plot untouched.
	var mine, theirs string
	if err := db.QueryRow(ctx, `SELECT coalesce((SELECT variety FROM plot WHERE id = $1), ''), coalesce((SELECT variety FROM plot WHERE id = $2), '')`, ps.p1, ps.p2).Scan(&mine, &theirs); err != nil || mine != "Ri6" || theirs != "" {
		t.Errorf("varieties after the farmer's edit: own %q (want Ri6), the other farmer's %q (want none) (%v)", mine, theirs, err)
	}
}

// --- The growing-area code service (codeservice.test.mjs) ---

// browserCodeServiceSetup registers, as the demo cooperative over the API, twelve durian plots
// of twelve new member households in an empty spot of its commune (Krông Pắc, province 66),
// in no growing area, about 0.14 ha each: the plots the browser test forms a growing area of on
// the map. It returns the accounts and, for each plot, its id and a point inside it.
func browserCodeServiceSetup(t *testing.T, a *testApp) []byte {
	t.Helper()
	coop := a.signInAs(demoCoop, demoCoopPassword)
	x, y := a.emptySpot("24490")
	const side, gap = 0.00035, 0.00005
	type seeded struct {
		ID     int64      `json:"id"`
		At     [2]float64 `json:"at"`
		AreaHa float64    `json:"area_ha"`
	}
	var plots []seeded
	total := 0.0
	for i := range 12 {
		row, col := i/4, i%4
		x0, y0 := x+float64(col)*(side+gap), y+float64(row)*(side+gap)
		geom := polygonJSON(orb.Point{x0, y0}, orb.Point{x0 + side, y0}, orb.Point{x0 + side, y0 + side}, orb.Point{x0, y0 + side})
		res := coop.do("POST", "/api/v1/plots", plotBody(geom, fmt.Sprintf(`{"crop":"durian","variety":"Ri6","planting_year":2019,"producer":{"name":"Hộ vùng mới %02d"}}`, i+1)))
		if res.status != 201 {
			t.Fatalf("code service plot %d: %d %s", i+1, res.status, res.body)
		}
		p := decode[plotAnswer](t, res)
		plots = append(plots, seeded{ID: p.ID, At: [2]float64{x0 + side/2, y0 + side/2}, AreaHa: p.Properties.AreaHa})
		total += p.Properties.AreaHa
	}
	if total < 1 {
		t.Fatalf("the code service's twelve plots hold %.3f ha, want at least 1 ha", total)
	}
	b, _ := json.Marshal(map[string]any{
		"coop":    map[string]string{"login": demoCoop, "password": demoCoopPassword},
		"officer": map[string]string{"login": demoOfficer, "password": demoOfficerPassword},
		"plots":   plots,
		"area_ha": total,
		"bbox":    []float64{x, y, x + 4*side + 3*gap, y + 3*side + 2*gap},
	})
	return b
}

// --- The rest of the code procedure (codeprocedure.test.mjs) ---

// browserCodeProcedureSetup prepares what codeprocedure.test.mjs works on: the demo code
// VN-DLOR-0321 made overdue for supervision (its area's inspections moved back past the
// interval), and, as the demo cooperative over the API, five durian member plots in a row in an
// empty spot of Krông Pắc: the first three formed into a growing area whose plots the browser
// edits on the map, the last two in no area. It returns the accounts, the code and its area,
// those plots with a point inside each, and an empty point nearby for a packing house.
func browserCodeProcedureSetup(t *testing.T, a *testApp) []byte {
	t.Helper()
	ctx := context.Background()
	db := a.app.DB().Pool
	coop := a.signInAs(demoCoop, demoCoopPassword)
	officer := a.signInAs(demoOfficer, demoOfficerPassword)
	x, y := a.emptySpot("24490")
	const side, gap = 0.0006, 0.0001
	// A code of the test's own, so that suspending and reinstating it today leaves the demo's
	// codes as the other tests know them: three member plots south of the row below, formed
	// into an area, applied for CN, inspected and approved through the API, then moved back
	// 400 days (its issue and its inspection) so that its supervision visit is overdue.
	var supervised []int64
	for i := range 3 {
		x0, y0 := x+float64(i)*(side+gap), y-side-0.0004
		geom := polygonJSON(orb.Point{x0, y0}, orb.Point{x0 + side, y0}, orb.Point{x0 + side, y0 + side}, orb.Point{x0, y0 + side})
		res := coop.do("POST", "/api/v1/plots", plotBody(geom, fmt.Sprintf(`{"crop":"durian","variety":"Ri6","planting_year":2017,"producer":{"name":"Hộ giám sát %02d"}}`, i+1)))
		if res.status != 201 {
			t.Fatalf("supervised plot %d: %d %s", i+1, res.status, res.body)
		}
		supervised = append(supervised, decode[plotAnswer](t, res).ID)
	}
	areaName := "Vùng sầu riêng giám sát thử"
	res := coop.do("POST", "/api/v1/growing-areas", fmt.Sprintf(`{"name":%q,"plots":%s}`, areaName, jsonIDs(supervised)))
	if res.status != 201 {
		t.Fatalf("the supervised area: %d %s", res.status, res.body)
	}
	area := idOf(t, res.json(t), "id")
	res = coop.do("POST", "/api/v1/applications", form01(area, "CN"))
	if res.status != 201 {
		t.Fatalf("the supervised area's application: %d %s", res.status, res.body)
	}
	app := idOf(t, res.json(t), "application", "id")
	if res := coop.do("POST", fmt.Sprintf("/api/v1/applications/%d/status", app), `{"status":"submitted"}`); res.status != 200 {
		t.Fatalf("submitting: %d %s", res.status, res.body)
	}
	inspected(t, officer, app)
	res = officer.do("POST", fmt.Sprintf("/api/v1/applications/%d/decision", app), `{"decision":"approve","document":"30/QĐ-CCTTBVTV","authority":"Chi cục Trồng trọt và Bảo vệ thực vật Đắk Lắk"}`)
	if res.status != 201 {
		t.Fatalf("approving: %d %s", res.status, res.body)
	}
	code := res.json(t)["code"].(map[string]any)["code"].(string)
	if _, err := db.Exec(ctx, `UPDATE market_code SET valid_from = valid_from - 400 WHERE code = $1`, code); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE inspection SET inspected_on = inspected_on - 400 WHERE growing_area_id = $1`, area); err != nil {
		t.Fatal(err)
	}
	var overdue bool
	if err := db.QueryRow(ctx, `SELECT (greatest((SELECT max(i.inspected_on) FROM inspection i WHERE i.market_code_id = m.id OR i.growing_area_id = m.growing_area_id), m.valid_from)
		+ make_interval(months => m.supervision_months))::date < vn_today() FROM market_code m WHERE m.code = $1`, code).Scan(&overdue); err != nil || !overdue {
		t.Fatalf("%s is not overdue for supervision after moving it back (%v)", code, err)
	}

	type seeded struct {
		ID int64      `json:"id"`
		At [2]float64 `json:"at"`
	}
	var plots []seeded
	for i := range 5 {
		x0 := x + float64(i)*(side+gap)
		geom := polygonJSON(orb.Point{x0, y}, orb.Point{x0 + side, y}, orb.Point{x0 + side, y + side}, orb.Point{x0, y + side})
		res := coop.do("POST", "/api/v1/plots", plotBody(geom, fmt.Sprintf(`{"crop":"durian","variety":"Ri6","planting_year":2018,"producer":{"name":"Hộ sửa vùng %02d"}}`, i+1)))
		if res.status != 201 {
			t.Fatalf("code procedure plot %d: %d %s", i+1, res.status, res.body)
		}
		plots = append(plots, seeded{ID: decode[plotAnswer](t, res).ID, At: [2]float64{x0 + side/2, y + side/2}})
	}
	editName := "Vùng sầu riêng sửa thửa thử"
	res = coop.do("POST", "/api/v1/growing-areas", fmt.Sprintf(`{"name":%q,"plots":%s}`, editName, jsonIDs([]int64{plots[0].ID, plots[1].ID, plots[2].ID})))
	if res.status != 201 {
		t.Fatalf("the area to edit: %d %s", res.status, res.body)
	}
	b, _ := json.Marshal(map[string]any{
		"coop":    map[string]string{"login": demoCoop, "password": demoCoopPassword},
		"officer": map[string]string{"login": demoOfficer, "password": demoOfficerPassword},
		"code":    code,
		"area":    map[string]any{"id": area, "name": areaName},
		"edit":    map[string]any{"id": idOf(t, res.json(t), "id"), "name": editName, "plots": plots[:3], "free": plots[3:]},
		"bbox":    []float64{x, y, x + 5*side + 4*gap, y + side},
		// An empty point 150 m north of the row, for the packing house.
		"house": [2]float64{x + 2*side, y + side + 0.0014},
	})
	return b
}

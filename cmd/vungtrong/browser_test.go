package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	artifacts := filepath.Join(app, "test-results")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "tests/")
	cmd.Dir = app
	cmd.Env = append(os.Environ(), "VT_BASE_URL="+a.base, "VT_OFFICER="+string(officer), "VT_ARTIFACTS="+artifacts,
		"VT_PLOT="+string(plotJSON), "VT_FARMER="+string(farmer), "VT_IMPORT="+string(importFiles), "VT_ADMIN="+string(admin), "VT_TRACE="+string(traceJSON))
	out, err := cmd.CombinedOutput()
	t.Logf("browser tests:\n%s", out)
	if err != nil {
		t.Fatalf("browser tests failed: %v (screenshots in %s)", err, artifacts)
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

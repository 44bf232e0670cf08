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
	artifacts := filepath.Join(app, "test-results")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "tests/")
	cmd.Dir = app
	cmd.Env = append(os.Environ(), "VT_BASE_URL="+a.base, "VT_OFFICER="+string(officer), "VT_ARTIFACTS="+artifacts,
		"VT_PLOT="+string(plotJSON), "VT_FARMER="+string(farmer))
	out, err := cmd.CombinedOutput()
	t.Logf("browser tests:\n%s", out)
	if err != nil {
		t.Fatalf("browser tests failed: %v (screenshots in %s)", err, artifacts)
	}
}

package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const demoDir = "../../data-samples/dak-lak"

// tableCounts counts the rows of every registry table.
func tableCounts(t *testing.T, a *App) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"producer", "plot", "growing_area", "growing_area_plot", "market_code", "packing_house",
		"packing_house_growing_area", "livestock_facility", "livestock_head_count", "feed_facility", "audit_log", "plot_history"} {
		var n int
		if err := a.DB().Pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	var withBoundary int
	if err := a.DB().Pool.QueryRow(context.Background(), `SELECT count(*) FROM commune WHERE boundary IS NOT NULL`).Scan(&withBoundary); err != nil {
		t.Fatal(err)
	}
	out["commune boundaries"] = withBoundary
	return out
}

func TestDemoLoadIsIdempotentAndServed(t *testing.T) {
	a := startApp(t, nil)
	cfg := defaultConfig(t)
	log := slog.New(slog.DiscardHandler)
	if err := loadDemo(context.Background(), a.app.DB(), cfg, demoDir, log); err != nil {
		t.Fatal(err)
	}
	first := tableCounts(t, a.app)
	if first["plot"] < 200 || first["producer"] < 50 || first["growing_area"] < 3 || first["market_code"] < 3 ||
		first["packing_house"] < 1 || first["livestock_facility"] < 1 || first["feed_facility"] < 1 {
		t.Errorf("demo dataset too small: %v", first)
	}
	if err := loadDemo(context.Background(), a.app.DB(), cfg, demoDir, log); err != nil {
		t.Fatal(err)
	}
	if second := tableCounts(t, a.app); !equalCounts(first, second) {
		t.Errorf("second load changed the database:\nfirst  %v\nsecond %v", first, second)
	}

	// The demo plots come back from a bbox query over HTTP, and their areas span 0.05-5 ha.
	res := a.do("GET", "/api/v1/plots?bbox=107.5,12.3,108.6,13.2&limit=1000", "")
	if res.status != 200 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	features := res.json(t)["features"].([]any)
	if len(features) != first["plot"] {
		t.Errorf("bbox returned %d plots, the demo has %d", len(features), first["plot"])
	}
	minArea, maxArea := 1e9, 0.0
	for _, f := range features {
		area := f.(map[string]any)["properties"].(map[string]any)["area_ha"].(float64)
		minArea, maxArea = min(minArea, area), max(maxArea, area)
	}
	if minArea < 0.05 || maxArea > 5 || maxArea < 2 {
		t.Errorf("demo plot areas %.3f-%.3f ha, want varied sizes within 0.05-5 ha", minArea, maxArea)
	}
	// Public reads of demo producers carry no personal data.
	body := string(a.do("GET", "/api/v1/producers?kind=household&limit=1000", "").body)
	if strings.Contains(body, "citizen_id") || strings.Contains(body, "+849") {
		t.Error("anonymous producer list shows citizen IDs or phone numbers")
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestDemoLoadRefusesBadDataAndStoresNothing(t *testing.T) {
	a := startApp(t, nil)
	dir := t.TempDir()
	entries, err := os.ReadDir(demoDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(demoDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		switch e.Name() {
		case "producers.json":
			// A household with a bad phone number, deep in the file.
			b = []byte(strings.Replace(string(b), `"phone": "+849`, `"phone": "call me`, 1))
		case "plots.geojson":
			// An unknown crop on one plot.
			b = []byte(strings.Replace(string(b), `"crop": "pepper"`, `"crop": "cà chua"`, 1))
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := tableCounts(t, a.app)
	err = loadDemo(context.Background(), a.app.DB(), defaultConfig(t), dir, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("a dataset with bad rows loaded")
	}
	for _, want := range []string{"nothing was loaded", "phone must be a Vietnamese number", "unknown crop \"cà chua\"", "#"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%s", want, err)
		}
	}
	if after := tableCounts(t, a.app); !equalCounts(before, after) {
		t.Errorf("a refused load changed the database:\nbefore %v\nafter  %v", before, after)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/tiles"
)

// Krông Pắc, the demo's durian commune.
var krongPac = orb.Point{108.310, 12.710}

func (a *testApp) tile(layer string, id tiles.ID) (tiles.Decoded, response) {
	a.t.Helper()
	res := a.do("GET", fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layer, id.Z, id.X, id.Y), "")
	if res.status == 204 {
		return tiles.Decoded{}, res
	}
	if res.status != 200 {
		a.t.Fatalf("tile %s %v: %d %s", layer, id, res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/vnd.mapbox-vector-tile" {
		a.t.Errorf("Content-Type %q", ct)
	}
	d, err := tiles.DecodeMVT(res.body)
	if err != nil {
		a.t.Fatalf("tile %s %v does not decode: %v", layer, id, err)
	}
	return d, res
}

func (a *testApp) loadDemo() {
	a.t.Helper()
	if err := loadDemo(context.Background(), a.app.DB(), defaultConfig(a.t), demoDir, slog.New(slog.DiscardHandler)); err != nil {
		a.t.Fatal(err)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestTilesOfTheDemo(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	ctx := context.Background()
	for _, tc := range []struct {
		layer string
		z     int
		// fields the features must carry (all of them, exactly)
		fields []string
		// count is the SQL that counts the features the tile must hold.
		count string
	}{
		{"plots", 14, []string{"area_ha", "crop"},
			`SELECT count(*) FROM plot WHERE deleted_at IS NULL AND geom_3857 && ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096)`},
		{"plots", 12, []string{"area_ha", "crop"},
			`SELECT count(*) FROM plot WHERE deleted_at IS NULL AND geom_3857 && ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096)`},
		{"plot_density", 9, []string{"area_ha", "plots"},
			`SELECT count(*) FROM plot_cell WHERE level = $1 + 5 AND ST_Intersects(ST_SetSRID(ST_MakePoint(sum_x / plots, sum_y / plots), 3857), ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096))`},
		{"growing_areas", 12, nil,
			`SELECT count(*) FROM growing_area WHERE ST_Intersects(footprint_3857, ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096))`},
		{"packing_houses", 12, nil,
			`SELECT count(*) FROM packing_house WHERE ST_Intersects(ST_Transform(location, 3857), ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096))`},
		{"communes", 10, []string{"code", "name", "province_code"},
			`SELECT count(*) FROM commune WHERE scheme = 2025 AND ST_Intersects(ST_Transform(boundary, 3857), ST_TileEnvelope($1, $2, $3, margin => 16.0 / 4096))`},
	} {
		id := tiles.At(krongPac, tc.z)
		var want int
		if err := a.app.DB().Pool.QueryRow(ctx, tc.count, id.Z, id.X, id.Y).Scan(&want); err != nil {
			t.Fatal(err)
		}
		d, _ := a.tile(tc.layer, id)
		l := d[tc.layer]
		if len(d) != 1 || l == nil {
			t.Errorf("%s %v: layers %v, want exactly %s", tc.layer, id, keys(map[string]any{}), tc.layer)
			continue
		}
		if want == 0 || len(l.Features) != want {
			t.Errorf("%s %v: %d features, the database has %d there", tc.layer, id, len(l.Features), want)
		}
		layer, _ := tiles.LayerByName(tc.layer)
		for _, f := range l.Features {
			for k := range f.Properties {
				if _, ok := layer.Fields[k]; !ok {
					t.Errorf("%s: attribute %q is not in the layer's whitelist", tc.layer, k)
				}
			}
			if tc.fields != nil && strings.Join(keys(f.Properties), ",") != strings.Join(tc.fields, ",") {
				t.Errorf("%s: attributes %v, want %v", tc.layer, keys(f.Properties), tc.fields)
				break
			}
		}
	}
	// A suspended China code shows in the growing area's attributes.
	d, _ := a.tile("growing_areas", tiles.At(krongPac, 12))
	statuses := map[string]bool{}
	for _, f := range d["growing_areas"].Features {
		statuses[fmt.Sprint(f.Properties["status"])] = true
		if f.Properties["status"] == "suspended" && f.Properties["suspended"] != "CN" {
			t.Errorf("suspended area: %v", f.Properties)
		}
	}
	if !statuses["active"] || !statuses["suspended"] {
		t.Errorf("growing-area statuses %v, want active and suspended", statuses)
	}
}

func TestPublicTilesHoldNoPersonalData(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	var producers struct {
		Producers []struct {
			Name, CitizenID, Phone, Kind string
		} `json:"producers"`
	}
	b, err := os.ReadFile(demoDir + "/producers.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &producers); err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, p := range producers.Producers {
		if p.Kind == "household" {
			secrets = append(secrets, p.Name, strings.TrimPrefix(p.Phone, "+84"), p.CitizenID)
		}
	}
	if len(secrets) < 100 {
		t.Fatalf("only %d personal values to look for", len(secrets))
	}
	checked := 0
	for _, l := range tiles.Layers {
		for z := max(l.MinZoom, 6); z <= min(l.MaxZoom, 14); z += 2 {
			for _, c := range []orb.Point{krongPac, {108.075, 12.860}, {107.96, 12.955}} {
				id := tiles.At(c, z)
				res := a.do("GET", fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", l.Name, id.Z, id.X, id.Y), "")
				for _, s := range secrets {
					if s != "" && strings.Contains(string(res.body), s) {
						t.Fatalf("tile %s %v holds personal data (%.6s…)", l.Name, id, s)
					}
				}
				checked++
			}
		}
	}
	if checked < 30 {
		t.Errorf("checked %d tiles", checked)
	}
}

func TestBadTileRequests(t *testing.T) {
	a := startApp(t, nil)
	for _, tc := range []struct {
		path   string
		status int
		msg    string
	}{
		{"/tiles/plots/23/0/0.mvt", 400, "zoom 23 is outside 0 to 22"},
		{"/tiles/plots/14/16384/0.mvt", 400, "x and y run from 0 to 16383"},
		{"/tiles/plots/14/0/-1.mvt", 400, "outside"},
		{"/tiles/plots/fourteen/0/0.mvt", 400, "not a whole number"},
		{"/tiles/plots/14/1.5/0.mvt", 400, "not a whole number"},
		{"/tiles/nothing/14/0/0.mvt", 404, "no tile layer \"nothing\""},
		{"/tiles/plots/6/0/0.mvt", 404, "layer plots has tiles from zoom 12 to 16"},
		{"/tiles/plots/14/0/0.png", 404, "tiles end in .mvt"},
		{"/tiles/nothing.json", 404, "no tile layer"},
	} {
		res := a.do("GET", tc.path, "")
		if res.status != tc.status || !strings.Contains(res.errorMessage(), tc.msg) {
			t.Errorf("%s: %d %s, want %d with %q", tc.path, res.status, res.body, tc.status, tc.msg)
		}
	}
}

func TestTileCachingHeaders(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	id := tiles.At(krongPac, 14)
	path := fmt.Sprintf("/tiles/plots/%d/%d/%d.mvt", id.Z, id.X, id.Y)
	// A small tile just rendered goes out as it is; from the cache it comes gzipped.
	res := a.do("GET", path, "", "Accept-Encoding", "gzip")
	if res.status != 200 || res.header.Get("ETag") == "" || !strings.Contains(res.header.Get("Cache-Control"), "no-cache") {
		t.Fatalf("first request: %d %v", res.status, res.header)
	}
	cached := a.do("GET", path, "", "Accept-Encoding", "gzip")
	if cached.header.Get("Content-Encoding") != "gzip" || cached.header.Get("ETag") != res.header.Get("ETag") {
		t.Errorf("second request: %v, want the same tile gzipped from the cache", cached.header)
	}
	if identity := a.do("GET", path, "", "Accept-Encoding", "identity"); identity.header.Get("Content-Encoding") != "" || len(identity.body) == 0 {
		t.Errorf("a client without gzip: %v", identity.header)
	}
	if again := a.do("GET", path, "", "If-None-Match", res.header.Get("ETag")); again.status != 304 {
		t.Errorf("with the ETag: %d, want 304", again.status)
	}
	empty := tiles.At(orb.Point{105.8, 21.0}, 14) // Hà Nội has no demo plots
	if res := a.do("GET", fmt.Sprintf("/tiles/plots/14/%d/%d.mvt", empty.X, empty.Y), ""); res.status != 204 {
		t.Errorf("an empty tile: %d, want 204", res.status)
	}
	// The cache takes a fresh tile after its answer is flushed: give the empty one a moment.
	st := a.app.cache.Stats()
	for deadline := time.Now().Add(5 * time.Second); st.Entries < 2 && time.Now().Before(deadline); st = a.app.cache.Stats() {
		time.Sleep(10 * time.Millisecond)
	}
	if st.Entries < 2 || st.Hits < 1 {
		t.Errorf("cache stats %+v: the tiles above should be cached and reused", st)
	}
}

func TestTileJSONAndStyle(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	tj := a.do("GET", "/tiles/plots.json", "").json(t)
	if tj["tilejson"] != "3.0.0" || tj["minzoom"].(float64) != 12 || !strings.HasSuffix(tj["tiles"].([]any)[0].(string), "/tiles/plots/{z}/{x}/{y}.mvt") {
		t.Errorf("TileJSON %v", tj)
	}
	style := a.do("GET", "/style.json", "").json(t)
	if style["version"].(float64) != 8 || len(style["sources"].(map[string]any)) != len(tiles.Layers) {
		t.Fatalf("style %v", style)
	}
	center := style["center"].([]any)
	if c := (orb.Point{center[0].(float64), center[1].(float64)}); c[0] < 107.8 || c[0] > 108.5 || c[1] < 12.4 || c[1] > 13.1 {
		t.Errorf("the map opens at %v, want over the demo plots in Đắk Lắk", c)
	}
	for _, l := range style["layers"].([]any) {
		lm := l.(map[string]any)
		if lm["type"] == "symbol" {
			t.Errorf("layer %v needs fonts, which an offline server does not have", lm["id"])
		}
	}
}

// hasFeature reports whether a decoded tile's layer holds feature id.
func hasFeature(d tiles.Decoded, layer string, id int64) bool {
	l := d[layer]
	if l == nil {
		return false
	}
	for _, f := range l.Features {
		if f.ID == uint64(id) {
			return true
		}
	}
	return false
}

func TestAnEditShowsInTheNextTile(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	here, there := orb.Point{108.40, 12.60}, orb.Point{108.43, 12.60} // empty land, two z14 tiles apart
	res := a.do("POST", "/api/v1/plots", plotAt(here), a.auth()...)
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	var created struct{ ID int64 }
	_ = json.Unmarshal(res.body, &created)
	loc := res.header.Get("Location")

	far := tiles.Key{Layer: "plots", ID: tiles.At(krongPac, 14)}
	a.tile("plots", far.ID) // cached, far from the edit
	// A fresh tile goes into the cache after its answer has gone out: wait for it.
	var farEntry *tiles.Entry
	for deadline := time.Now().Add(5 * time.Second); farEntry == nil; {
		if e, ok := a.app.cache.Get(far); ok {
			farEntry = e
		} else if time.Now().After(deadline) {
			t.Fatal("the far tile never reached the cache")
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, z := range []int{14, 16} {
		d, _ := a.tile("plots", tiles.At(here, z))
		if !hasFeature(d, "plots", created.ID) {
			t.Fatalf("z%d: the new plot is not in its tile", z)
		}
		d, _ = a.tile("plots", tiles.At(there, z)) // cached before the move, empty
		if hasFeature(d, "plots", created.ID) {
			t.Fatalf("z%d: the plot is where it is not yet", z)
		}
	}
	// Density cells of the lower zooms count the plot too.
	before, _ := a.tile("plot_density", tiles.At(here, 10))

	if res := a.do("PATCH", loc, plotAt(there), append(a.auth(), "If-Match", `"v1"`)...); res.status != 200 {
		t.Fatalf("move: %d %s", res.status, res.body)
	}
	for _, z := range []int{14, 16} {
		if d, _ := a.tile("plots", tiles.At(here, z)); hasFeature(d, "plots", created.ID) {
			t.Errorf("z%d: the old place still shows the plot after the move", z)
		}
		if d, _ := a.tile("plots", tiles.At(there, z)); !hasFeature(d, "plots", created.ID) {
			t.Errorf("z%d: the new place does not show the plot after the move", z)
		}
	}
	if after, _ := a.tile("plot_density", tiles.At(here, 10)); fmt.Sprint(after["plot_density"].Features) == fmt.Sprint(before["plot_density"].Features) {
		t.Error("the density tile did not change with the move")
	}
	if e, ok := a.app.cache.Get(far); !ok || e != farEntry {
		t.Error("a tile far from the edit was forgotten")
	}
	// Deleting it clears it away too.
	if res := a.do("DELETE", loc, "", append(a.auth(), "If-Match", `"v2"`)...); res.status != 204 {
		t.Fatalf("delete: %d", res.status)
	}
	if d, _ := a.tile("plots", tiles.At(there, 14)); hasFeature(d, "plots", created.ID) {
		t.Error("a deleted plot is still in its tile")
	}
}

// plotAt is a ~1 ha plot with its south-west corner at p.
func plotAt(p orb.Point) string {
	return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[%[1]v,%[2]v],[%[3]v,%[2]v],[%[3]v,%[4]v],[%[1]v,%[4]v],[%[1]v,%[2]v]]]},"properties":{"crop":"coffee","province_code":"66"}}`,
		p[0], p[1], p[0]+0.001, p[1]+0.001)
}

func TestPlotTilesFollowTheWindingRule(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	// A plot drawn clockwise, against the convention of GeoJSON (accepted all the same).
	cw := `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[108.40,12.60],[108.40,12.601],[108.401,12.601],[108.401,12.60],[108.40,12.60]]]},"properties":{"crop":"coffee","province_code":"66"}}`
	if res := a.do("POST", "/api/v1/plots", cw, a.auth()...); res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	checked := 0
	for _, c := range []orb.Point{{108.4005, 12.6005}, krongPac} {
		for _, z := range []int{12, 14, 16} {
			d, _ := a.tile("plots", tiles.At(c, z))
			for _, f := range d["plots"].Features {
				rings := f.Rings()
				if len(rings) == 0 || tiles.SignedArea(rings[0]) <= 0 {
					t.Fatalf("z%d plot %d: exterior ring with area %d, MVT 2.1 wants it positive (clockwise, y down)", z, f.ID, tiles.SignedArea(rings[0]))
				}
				checked++
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked %d plots", checked)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// The demo's accounts (data-samples/dak-lak/users.json): an officer of Đắk Lắk, the durian
// cooperative of Krông Pắc, an exporter, and a farmer of Krông Pắc.
const (
	demoOfficer, demoOfficerPassword         = "canbo.daklak", "demo-canbo-2026"
	demoCoop, demoCoopPassword               = "htx.krongpac", "demo-htx-2026"
	demoExporter, demoExporterPassword       = "xuatkhau.taynguyen", "demo-xuatkhau-2026"
	demoFarmerPhone, demoFarmerPassword      = "+84982279776", "demo-nongho-2026"
	demoFarmerProducer                       = "hh-24490-091"
	demoHousehold, demoHouseholdCitizenID    = "Dương Công Dũng", "066071097158" // hh-24280-004, of the Cư M'gar cooperative
	demoHouseholdPhone, demoKrongPacCoopName = "0910 621 016", "HTX Sầu riêng Krông Pắc"
)

// checkAnswer is the answer of POST /api/v1/plots/check.
type checkAnswer struct {
	AreaHa   float64 `json:"area_ha"`
	Valid    bool    `json:"valid"`
	Problems []struct {
		Field    string    `json:"field"`
		Message  string    `json:"message"`
		Location []float64 `json:"location"`
		Code     string    `json:"code"`
	} `json:"problems"`
	ProvinceCode string `json:"province_code"`
	ProvinceName string `json:"province_name"`
	CommuneCode  string `json:"commune_code"`
	CommuneName  string `json:"commune_name"`
	Jurisdiction struct {
		OK      bool   `json:"ok"`
		Message string `json:"message"`
	} `json:"jurisdiction"`
	Overlaps          []overlapAnswer `json:"overlaps"`
	Blocked           bool            `json:"blocked"`
	SuggestedGeometry json.RawMessage `json:"suggested_geometry"`
	SuggestedAreaHa   *float64        `json:"suggested_area_ha"`
	Geometry          json.RawMessage `json:"geometry"`
}

type overlapAnswer struct {
	Plot     int64           `json:"plot"`
	M2       float64         `json:"m2"`
	Pct      float64         `json:"pct"`
	Blocks   bool            `json:"blocks"`
	Geometry json.RawMessage `json:"geometry"`
}

// overlapRefusal is the 422 of a write refused by the overlap rule.
type overlapRefusal struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Field string            `json:"field"`
			Code  string            `json:"code"`
			Args  map[string]string `json:"args"`
		} `json:"details"`
		Overlaps          []overlapAnswer `json:"overlaps"`
		SuggestedGeometry json.RawMessage `json:"suggested_geometry"`
		SuggestedAreaHa   *float64        `json:"suggested_area_ha"`
	} `json:"error"`
}

// plotAnswer is a plot Feature as the API returns it.
type plotAnswer struct {
	ID         int64           `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties struct {
		Crop        string   `json:"crop"`
		AreaHa      float64  `json:"area_ha"`
		Version     int      `json:"version"`
		ParentIDs   []int64  `json:"parent_ids"`
		Retired     string   `json:"retired"`
		RetiredInto []int64  `json:"retired_into"`
		Changes     []string `json:"changes"`
		WrittenBy   string   `json:"written_by"`
		ValidTo     *string  `json:"valid_to"`
		ProducerID  *int64   `json:"producer_id"`
	} `json:"properties"`
}

// featuresAnswer is a FeatureCollection of plots.
type featuresAnswer struct {
	Features []plotAnswer `json:"features"`
}

func decode[T any](t *testing.T, res response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(res.body, &v); err != nil {
		t.Fatalf("answer %d is not what was expected: %v: %s", res.status, err, res.body)
	}
	return v
}

// plotBody is a plot Feature with a geometry (GeoJSON) and properties (a JSON object), and
// more top-level members (`"overlap_reason": "..."`) when given.
func plotBody(geometry, properties string, more ...string) string {
	b := `{"type":"Feature","geometry":` + geometry + `,"properties":` + properties
	for _, m := range more {
		b += "," + m
	}
	return b + "}"
}

// polygonJSON is a GeoJSON Polygon of one ring, closed here.
func polygonJSON(ring ...orb.Point) string {
	ring = append(ring, ring[0])
	b, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": [][]orb.Point{ring}})
	return string(b)
}

// tableCounts is the rows of the tables a plot write touches: what a refused write must leave
// as it was.
func (a *testApp) tableCounts() string {
	a.t.Helper()
	var plots, history, producers, audits int
	if err := a.app.DB().Pool.QueryRow(context.Background(),
		`SELECT (SELECT count(*) FROM plot), (SELECT count(*) FROM plot_history), (SELECT count(*) FROM producer), (SELECT count(*) FROM audit_log)`).Scan(&plots, &history, &producers, &audits); err != nil {
		a.t.Fatal(err)
	}
	return fmt.Sprintf("plot %d, plot_history %d, producer %d, audit_log %d", plots, history, producers, audits)
}

func (a *testApp) float(sql string, args ...any) float64 {
	a.t.Helper()
	var f float64
	if err := a.app.DB().Pool.QueryRow(context.Background(), sql, args...).Scan(&f); err != nil {
		a.t.Fatalf("%s: %v", sql, err)
	}
	return f
}

// overNeighbour registers, as c, a plot in an empty spot of a demo commune (inside its loaded
// boundary, nothing within about 300 m), and returns it with a plot drawn over it: the same
// shape moved east by 40% of its width, overlapping it by about 60% and nothing else.
func (a *testApp) overNeighbour(c *client, commune, props string) (int64, string) {
	a.t.Helper()
	x, y := a.emptySpot(commune)
	shape := func(dx float64) string {
		return polygonJSON(orb.Point{x + dx, y}, orb.Point{x + dx + 0.0011, y + 0.0001}, orb.Point{x + dx + 0.0012, y + 0.001}, orb.Point{x + dx - 0.0001, y + 0.0009})
	}
	res := c.do("POST", "/api/v1/plots", plotBody(shape(0), props))
	if res.status != 201 {
		a.t.Fatalf("the neighbour: %d %s", res.status, res.body)
	}
	return decode[plotAnswer](a.t, res).ID, shape(0.0005)
}

// emptySpot is a point of a demo commune, inside its loaded boundary, with no plot within
// about 300 m.
func (a *testApp) emptySpot(commune string) (x, y float64) {
	a.t.Helper()
	err := a.app.DB().Pool.QueryRow(context.Background(), `
		SELECT ST_X(g.pt), ST_Y(g.pt) FROM commune c,
		LATERAL (SELECT ST_SetSRID(ST_MakePoint(x::float8, y::float8), 4326) AS pt, x, y
		         FROM generate_series(ST_XMin(c.boundary)::numeric, ST_XMax(c.boundary)::numeric, 0.002) x, generate_series(ST_YMin(c.boundary)::numeric, ST_YMax(c.boundary)::numeric, 0.002) y) g
		WHERE c.scheme = 2025 AND c.code = $1 AND ST_Contains(c.boundary, ST_Buffer(g.pt, 0.004))
		  AND NOT EXISTS (SELECT 1 FROM plot p WHERE p.deleted_at IS NULL AND ST_DWithin(p.geom, g.pt, 0.003))
		ORDER BY g.x, g.y LIMIT 1`, commune).Scan(&x, &y)
	if err != nil {
		a.t.Fatalf("no empty spot in commune %s: %v", commune, err)
	}
	return x, y
}

// TestPlotDrawnOverANeighbour: a plot drawn over a neighbour is refused with the overlap and a
// suggested geometry, changing nothing; the suggestion is valid, keeps the drawn plot outside
// the neighbours, and saves; the check said all of it first.
func TestPlotDrawnOverANeighbour(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	officer := a.signInAs(demoOfficer, demoOfficerPassword)
	neighbour, drawn := a.overNeighbour(officer, "24280", `{"crop":"coffee"}`)
	body := plotBody(drawn, `{"crop":"cà phê"}`)

	before := a.tableCounts()
	chk := officer.do("POST", "/api/v1/plots/check", body)
	if chk.status != 200 {
		t.Fatalf("check: %d %s", chk.status, chk.body)
	}
	c := decode[checkAnswer](t, chk)
	if !c.Valid || !c.Blocked || !c.Jurisdiction.OK || c.ProvinceCode != "66" || c.CommuneCode != "24280" || c.CommuneName == "" {
		t.Errorf("check: valid %v blocked %v jurisdiction %+v place %s %s %q, want valid, blocked, allowed, in 66/24280", c.Valid, c.Blocked, c.Jurisdiction, c.ProvinceCode, c.CommuneCode, c.CommuneName)
	}
	if len(c.Overlaps) != 1 || c.Overlaps[0].Plot != neighbour || !c.Overlaps[0].Blocks || c.Overlaps[0].Pct < 50 || !strings.Contains(string(c.Overlaps[0].Geometry), `"MultiPolygon"`) {
		t.Fatalf("check's overlaps %+v, want plot %d by about 60%%, blocking, with its geometry", c.Overlaps, neighbour)
	}
	if len(c.SuggestedGeometry) == 0 || string(c.SuggestedGeometry) == "null" || c.SuggestedAreaHa == nil {
		t.Fatalf("check suggests nothing: %s", chk.body)
	}

	res := officer.do("POST", "/api/v1/plots", body)
	if res.status != 422 {
		t.Fatalf("a plot drawn over plot %d: %d %s, want 422", neighbour, res.status, res.body)
	}
	r := decode[overlapRefusal](t, res)
	if r.Error.Code != "invalid" || !strings.Contains(r.Error.Message, fmt.Sprintf("overlaps plot %d by", neighbour)) ||
		len(r.Error.Details) != 1 || r.Error.Details[0].Code != "overlap" || r.Error.Details[0].Args["plot"] != fmt.Sprint(neighbour) {
		t.Errorf("refusal %+v", r.Error)
	}
	if len(r.Error.Overlaps) != 1 || r.Error.Overlaps[0].Plot != neighbour || r.Error.Overlaps[0].M2 != c.Overlaps[0].M2 {
		t.Errorf("the refusal's overlaps %+v, want the check's %+v", r.Error.Overlaps, c.Overlaps)
	}
	if string(r.Error.SuggestedGeometry) != string(c.SuggestedGeometry) {
		t.Errorf("the refusal suggests another geometry than the check:\n%s\n%s", r.Error.SuggestedGeometry, c.SuggestedGeometry)
	}
	if after := a.tableCounts(); after != before {
		t.Errorf("the check and the refused write changed the database: %s, then %s", before, after)
	}

	// The suggestion: valid, and at least 95% of what was drawn outside the neighbours.
	var valid bool
	var kept float64
	if err := a.app.DB().Pool.QueryRow(context.Background(), `
		WITH s AS (SELECT ST_GeomFromGeoJSON($1) AS s, ST_GeomFromGeoJSON($2) AS d)
		SELECT ST_IsValid(s), ST_Area(s::geography) / ST_Area(ST_Difference(d, (SELECT ST_Union(geom) FROM plot WHERE deleted_at IS NULL AND geom && d))::geography)
		FROM s`, string(c.SuggestedGeometry), drawn).Scan(&valid, &kept); err != nil {
		t.Fatal(err)
	}
	t.Logf("the suggestion keeps %.4f%% of the drawn plot outside its neighbours", 100*kept)
	if !valid || kept < 0.95 || kept > 1.0001 {
		t.Errorf("suggestion valid %v, keeps %.4f of the drawn plot outside the neighbours, want valid and >= 0.95", valid, kept)
	}

	// Saving the suggestion: stored, with an overlap below 0.01 m² with every neighbour.
	res = officer.do("POST", "/api/v1/plots", plotBody(string(c.SuggestedGeometry), `{"crop":"cà phê"}`))
	if res.status != 201 {
		t.Fatalf("saving the suggestion: %d %s", res.status, res.body)
	}
	saved := decode[plotAnswer](t, res)
	worst := a.float(`SELECT COALESCE(max(ST_Area(ST_Intersection(p.geom, o.geom)::geography)), 0) FROM plot p, plot o
		WHERE p.id = $1 AND o.id <> p.id AND o.deleted_at IS NULL AND o.geom && p.geom`, saved.ID)
	t.Logf("the saved suggestion overlaps its neighbours by at most %.3g m²", worst)
	if worst >= 0.01 {
		t.Errorf("the saved suggestion overlaps a neighbour by %.4f m², want < 0.01", worst)
	}
	if rel := math.Abs(saved.Properties.AreaHa-*c.SuggestedAreaHa) / saved.Properties.AreaHa; rel > 0.0001 {
		t.Errorf("suggested area %.6f ha, stored %.6f ha", *c.SuggestedAreaHa, saved.Properties.AreaHa)
	}
}

// TestPlotSharingAnEdgeIsSnapped: a 7-vertex plot drawn against a neighbour's side (two of its
// vertices on that side, one 4 mm inside the neighbour) is stored sharing the side exactly: no
// overlap, no gap; the check's area is the stored one.
func TestPlotSharingAnEdgeIsSnapped(t *testing.T) {
	a := startApp(t, nil)
	n := []orb.Point{{108.0500, 12.6800}, {108.0511, 12.6801}, {108.0512, 12.6810}, {108.0499, 12.6809}}
	res := a.do("POST", "/api/v1/plots", plotBody(polygonJSON(n...), `{"crop":"coffee","province_code":"66"}`), a.auth()...)
	if res.status != 201 {
		t.Fatalf("neighbour: %d %s", res.status, res.body)
	}
	neighbour := decode[plotAnswer](t, res).ID
	// Two points on the neighbour's east side, B-C, as a client computes them (not exactly on
	// it in floating point); the first pushed 4 mm west, into the neighbour.
	at := func(f float64) orb.Point {
		return orb.Point{n[1][0] + f*(n[2][0]-n[1][0]), n[1][1] + f*(n[2][1]-n[1][1])}
	}
	p1, p7 := at(0.2), at(0.8)
	p1[0] -= 0.004 / 108600
	ring := []orb.Point{p1, {p1[0] + 0.0004, p1[1] - 0.0001}, {p1[0] + 0.0009, p1[1]}, {p7[0] + 0.0011, (p1[1] + p7[1]) / 2},
		{p7[0] + 0.0008, p7[1] + 0.0001}, {p7[0] + 0.0003, p7[1] + 0.00015}, p7}
	body := plotBody(polygonJSON(ring...), `{"crop":"coffee","province_code":"66"}`)

	chk := a.do("POST", "/api/v1/plots/check", body, a.auth()...)
	if chk.status != 200 {
		t.Fatalf("check: %d %s", chk.status, chk.body)
	}
	c := decode[checkAnswer](t, chk)
	if !c.Valid || c.Blocked || len(c.Overlaps) != 0 {
		t.Errorf("check of a plot sharing an edge: valid %v blocked %v overlaps %+v, want valid, not blocked, no overlap", c.Valid, c.Blocked, c.Overlaps)
	}
	res = a.do("POST", "/api/v1/plots", body, a.auth()...)
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	p := decode[plotAnswer](t, res)
	if rel := math.Abs(c.AreaHa-p.Properties.AreaHa) / p.Properties.AreaHa; rel > 0.0001 {
		t.Errorf("the check's area %.8f ha, stored %.8f ha: off by %.5f%%", c.AreaHa, p.Properties.AreaHa, 100*rel)
	}
	if string(c.Geometry) != string(p.Geometry) {
		t.Errorf("the check's geometry is not the stored one:\n%s\n%s", c.Geometry, p.Geometry)
	}
	// The shared stretch is the stored plot's last side (from its 7th vertex back to its 1st).
	// Sides are straight in degrees as stored, so how far it lies off the neighbour's side is
	// measured in degrees (scaled to metres by the most metres a degree spans); on the
	// ellipsoid a straight side in degrees bows off the geodesic by micrometres, which is the
	// second figure.
	var overlap, planar, gap float64
	err := a.app.DB().Pool.QueryRow(context.Background(), `
		WITH p AS (SELECT geom FROM plot WHERE id = $1), n AS (SELECT geom, ST_Boundary(geom) AS side FROM plot WHERE id = $2),
		     ring AS (SELECT ST_ExteriorRing(ST_GeometryN(p.geom, 1)) AS r FROM p),
		     shared AS (SELECT ST_MakeLine(ST_PointN(r, ST_NPoints(r) - 1), ST_PointN(r, 1)) AS l FROM ring),
		     along AS (SELECT ST_LineInterpolatePoint(shared.l, i / 100.0) AS pt FROM shared, generate_series(0, 100) i)
		SELECT ST_Area(ST_Intersection(p.geom, n.geom)::geography),
		       (SELECT max(ST_Distance(pt, n.side)) * 111320 FROM along),
		       (SELECT max(ST_Distance(pt::geography, n.side::geography)) FROM along)
		FROM p, n`, p.ID, neighbour).Scan(&overlap, &planar, &gap)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("shared edge: overlap ST_Area(ST_Intersection) = %.3g m²; the shared stretch lies at most %.3g m off the neighbour's side in degrees, %.3g m on the ellipsoid", overlap, planar, gap)
	if overlap >= 1e-6 || planar > 1e-6 || gap >= 0.01 {
		t.Errorf("overlap %.3g m² (want < 1e-6), %.3g m off the side in degrees (want < 1 µm), gap %.3g m on the ellipsoid (want < 0.01)", overlap, planar, gap)
	}
}

// TestSplitAndMergeBack: a plot split along a line gives plots whose areas add up to it and
// whose history names it; merged back they are the plot again; stale versions, lines that cut
// nothing and plots apart are refused.
func TestSplitAndMergeBack(t *testing.T) {
	a := startApp(t, nil)
	res := a.do("POST", "/api/v1/plots", plotIn(0, `{"crop":"coffee","province_code":"66","variety":"TR4"}`), a.auth()...)
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	parent := decode[plotAnswer](t, res)
	path := fmt.Sprintf("/api/v1/plots/%d", parent.ID)
	line := func(coords string) string { return `{"line":{"type":"LineString","coordinates":` + coords + `}}` }

	for _, tt := range []struct{ name, body, want string }{
		{"a line that ends inside", line(`[[108.0495,12.6803],[108.0505,12.6804]]`), "does not cut plot"},
		{"a line beside the plot", line(`[[108.06,12.6803],[108.07,12.6804]]`), "does not cross plot"},
		{"a point", line(`[[108.0495,12.6803]]`), "at least two different positions"},
	} {
		if res := a.do("POST", path+"/split", tt.body, append(a.auth(), "If-Match", `"v1"`)...); res.status != 422 || !strings.Contains(res.errorMessage(), tt.want) {
			t.Errorf("%s: %d %s, want 422 saying %q", tt.name, res.status, res.body, tt.want)
		}
	}
	cut := line(`[[108.0495,12.6803],[108.0517,12.6806]]`)
	if res := a.do("POST", path+"/split", cut, a.auth()...); res.status != 428 {
		t.Errorf("split without If-Match: %d", res.status)
	}
	res = a.do("POST", path+"/split", cut, append(a.auth(), "If-Match", `"v1"`)...)
	if res.status != 201 {
		t.Fatalf("split: %d %s", res.status, res.body)
	}
	fc := decode[featuresAnswer](t, res)
	if len(fc.Features) != 2 {
		t.Fatalf("split into %d plots, want 2", len(fc.Features))
	}
	sum := 0.0
	for _, f := range fc.Features {
		sum += f.Properties.AreaHa
		if len(f.Properties.ParentIDs) != 1 || f.Properties.ParentIDs[0] != parent.ID || f.Properties.Crop != "coffee" {
			t.Errorf("piece %d: parents %v crop %q, want [%d] and the parent's crop", f.ID, f.Properties.ParentIDs, f.Properties.Crop, parent.ID)
		}
	}
	rel := math.Abs(sum-parent.Properties.AreaHa) / parent.Properties.AreaHa
	t.Logf("the pieces' areas add up to the plot's within %.2g%%", 100*rel)
	if rel > 0.0001 {
		t.Errorf("pieces %.8f ha together, the plot %.8f ha: off by %.4f%%", sum, parent.Properties.AreaHa, 100*rel)
	}
	// The pieces' history names the plot; the plot's own is kept, retired into them.
	c1, c2 := fc.Features[0].ID, fc.Features[1].ID
	hist := decode[featuresAnswer](t, a.do("GET", fmt.Sprintf("/api/v1/plots/%d/history", c1), "", a.auth()...))
	if len(hist.Features) != 1 || hist.Features[0].Properties.ParentIDs[0] != parent.ID || hist.Features[0].Properties.ValidTo != nil {
		t.Errorf("a piece's history: %+v", hist.Features)
	}
	if res := a.do("GET", path, "", a.auth()...); res.status != 404 {
		t.Errorf("the split plot: %d, want 404", res.status)
	}
	ph := decode[featuresAnswer](t, a.do("GET", path+"/history", "", a.auth()...))
	if len(ph.Features) != 2 || ph.Features[0].Properties.Retired != "split" || len(ph.Features[0].Properties.RetiredInto) != 2 || ph.Features[0].Properties.ValidTo == nil {
		t.Errorf("the split plot's history: %+v", ph.Features)
	}
	if res := a.anonymous().do("GET", path+"/history", ""); res.status != 404 {
		t.Errorf("a retired plot's history for the public: %d, want 404", res.status)
	}

	// Merging back: a stale version is refused and changes nothing; then it is the plot again.
	merge := func(v1, v2 int) response {
		return a.do("POST", "/api/v1/plots/merge", fmt.Sprintf(`{"plots":[{"id":%d,"version":%d},{"id":%d,"version":%d}]}`, c1, v1, c2, v2), a.auth()...)
	}
	before := a.tableCounts()
	if res := merge(1, 2); res.status != 412 {
		t.Errorf("merge with a stale version: %d %s", res.status, res.body)
	}
	var rejected int
	a.app.DB().Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'plot.merge' AND outcome = 'rejected'`).Scan(&rejected)
	if after := a.tableCounts(); rejected != 1 || !strings.HasPrefix(after, strings.Split(before, ", audit_log")[0]) {
		t.Errorf("a stale merge: %d rejections audited; tables %s, then %s", rejected, before, after)
	}
	res = merge(1, 1)
	if res.status != 201 {
		t.Fatalf("merge: %d %s", res.status, res.body)
	}
	merged := decode[plotAnswer](t, res)
	if len(merged.Properties.ParentIDs) != 2 || merged.Properties.Crop != "coffee" {
		t.Errorf("merged plot: %+v", merged.Properties)
	}
	diff := a.float(`SELECT ST_Area(ST_SymDifference(m.geom, p.geom)::geography) FROM plot m, plot p WHERE m.id = $1 AND p.id = $2`, merged.ID, parent.ID)
	t.Logf("merged back, the plot differs from the original by %.3g m²", diff)
	if diff >= 1e-4 {
		t.Errorf("merged back, the plot differs from the original by %.6f m², want < 1 cm²", diff)
	}
	// Plots apart do not merge.
	res = a.do("POST", "/api/v1/plots", plotIn(0.01, `{"crop":"coffee","province_code":"66"}`), a.auth()...)
	far := decode[plotAnswer](t, res).ID
	res = a.do("POST", "/api/v1/plots/merge", fmt.Sprintf(`{"plots":[{"id":%d,"version":1},{"id":%d,"version":1}]}`, merged.ID, far), a.auth()...)
	if res.status != 422 || !strings.Contains(res.errorMessage(), "not adjacent") {
		t.Errorf("merging plots apart: %d %s", res.status, res.body)
	}
	// Every step is audited with its actor.
	var steps []string
	rows, err := a.app.DB().Pool.Query(context.Background(), `SELECT action || ' ' || object_id || ' ' || COALESCE(reason, '') FROM audit_log
		WHERE outcome = 'ok' AND actor = 'token:e2e' AND action IN ('plot.split', 'plot.merge') ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		steps = append(steps, s)
	}
	rows.Close()
	want := []string{fmt.Sprintf("plot.split %d split into plots %d, %d", parent.ID, c1, c2),
		fmt.Sprintf("plot.merge %d merged into plot %d", c1, merged.ID), fmt.Sprintf("plot.merge %d merged into plot %d", c2, merged.ID)}
	if strings.Join(steps, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
	}
}

// TestRestoreAnEarlierVersion: after two edits, restoring version 1 writes version 4 equal to
// it; the history lists the four versions and the audit log the four writes with their actor.
func TestRestoreAnEarlierVersion(t *testing.T) {
	a := startApp(t, nil)
	res := a.do("POST", "/api/v1/plots", plotIn(0, `{"crop":"coffee","province_code":"66","variety":"TR4"}`), a.auth()...)
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	v1 := decode[plotAnswer](t, res)
	path := fmt.Sprintf("/api/v1/plots/%d", v1.ID)
	reshaped := polygonJSON(orb.Point{108.0500, 12.6800}, orb.Point{108.0511, 12.6801}, orb.Point{108.0515, 12.6812}, orb.Point{108.0499, 12.6809})
	if res := a.do("PATCH", path, `{"geometry":`+reshaped+`}`, append(a.auth(), "If-Match", `"v1"`)...); res.status != 200 {
		t.Fatalf("moving it: %d %s", res.status, res.body)
	}
	if res := a.do("PATCH", path, `{"properties":{"crop":"sầu riêng","variety":"Ri6"}}`, append(a.auth(), "If-Match", `"v2"`)...); res.status != 200 {
		t.Fatalf("changing its crop: %d %s", res.status, res.body)
	}
	if res := a.do("POST", path+"/restore", `{"version":1}`, append(a.auth(), "If-Match", `"v2"`)...); res.status != 412 {
		t.Errorf("restore with a stale ETag: %d %s", res.status, res.body)
	}
	if res := a.do("POST", path+"/restore", `{"version":9}`, append(a.auth(), "If-Match", `"v3"`)...); res.status != 422 || !strings.Contains(res.errorMessage(), "has no version 9") {
		t.Errorf("restore of a version that never was: %d %s", res.status, res.body)
	}
	res = a.do("POST", path+"/restore", `{"version":1}`, append(a.auth(), "If-Match", `"v3"`)...)
	if res.status != 200 || res.header.Get("ETag") != `"v4"` {
		t.Fatalf("restore: %d %s %s", res.status, res.header.Get("ETag"), res.body)
	}
	v4 := decode[plotAnswer](t, res)
	if string(v4.Geometry) != string(v1.Geometry) || v4.Properties.Crop != "coffee" || v4.Properties.Version != 4 || v4.Properties.AreaHa != v1.Properties.AreaHa {
		t.Errorf("version 4 %s %+v, want version 1's geometry and properties %s %+v", v4.Geometry, v4.Properties, v1.Geometry, v1.Properties)
	}
	hist := decode[featuresAnswer](t, a.do("GET", path+"/history", "", a.auth()...))
	var versions []string
	for _, f := range hist.Features {
		versions = append(versions, fmt.Sprintf("v%d %s %v", f.Properties.Version, f.Properties.WrittenBy, f.Properties.Changes))
	}
	want := "v4 token:e2e [geometry area_ha crop variety]|v3 token:e2e [crop variety]|v2 token:e2e [geometry area_ha]|v1 token:e2e []"
	if strings.Join(versions, "|") != want {
		t.Errorf("history %q, want %q", strings.Join(versions, "|"), want)
	}
	var audits []string
	rows, err := a.app.DB().Pool.Query(context.Background(), `SELECT action || ' ' || actor || ' ' || COALESCE(reason, '') FROM audit_log
		WHERE object_type = 'plot' AND object_id = $1::text AND outcome = 'ok' ORDER BY id`, fmt.Sprint(v1.ID))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		audits = append(audits, strings.TrimSpace(s))
	}
	rows.Close()
	if got := strings.Join(audits, "|"); got != "plot.create token:e2e|plot.update token:e2e|plot.update token:e2e|plot.restore token:e2e restored version 1" {
		t.Errorf("audit log: %s", got)
	}
}

// TestOverlapReason: an officer keeps an overlap by saying why, and the audit log keeps the
// reason; a cooperative may not.
func TestOverlapReason(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	officer := a.signInAs(demoOfficer, demoOfficerPassword)
	neighbour, drawn := a.overNeighbour(officer, "24490", `{"crop":"durian"}`)
	coop := a.signInAs(demoCoop, demoCoopPassword)
	before := a.tableCounts()
	res := coop.do("POST", "/api/v1/plots", plotBody(drawn, `{"crop":"durian"}`, `"overlap_reason":"xen canh"`))
	if res.status != 403 || !strings.Contains(res.errorMessage(), "overlap_reason") {
		t.Errorf("a cooperative keeping an overlap: %d %s, want 403", res.status, res.body)
	}
	if after := a.tableCounts(); !strings.HasPrefix(after, strings.Split(before, ", audit_log")[0]) {
		t.Errorf("the refused write changed plots: %s, then %s", before, after)
	}
	reason := fmt.Sprintf("xen canh với thửa %d", neighbour)
	res = officer.do("POST", "/api/v1/plots", plotBody(drawn, `{"crop":"durian"}`, `"overlap_reason":"`+reason+`"`))
	if res.status != 201 {
		t.Fatalf("an officer keeping an overlap: %d %s", res.status, res.body)
	}
	id := decode[plotAnswer](t, res).ID
	if kept := a.float(`SELECT ST_Area(ST_Intersection(p.geom, n.geom)::geography) FROM plot p, plot n WHERE p.id = $1 AND n.id = $2`, id, neighbour); kept < 100 {
		t.Errorf("the overlap kept is %.1f m²", kept)
	}
	var audited string
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT actor || ': ' || reason FROM audit_log WHERE action = 'plot.create' AND object_id = $1::text`, fmt.Sprint(id)).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("user:%s: overlap with plot %d kept: %s", demoOfficer, neighbour, reason); audited != want {
		t.Errorf("audit %q, want %q", audited, want)
	}
}

// TestWritesTheCheckReportsAndRefuses: outside the jurisdiction (403 naming it), a stale
// If-Match (412), a boundary that crosses itself (422 with the place); the check reports each
// without writing.
func TestWritesTheCheckReportsAndRefuses(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	officer := a.signInAs(demoOfficer, demoOfficerPassword)
	before := a.tableCounts()

	// Lâm Đồng (68), outside the officer's Đắk Lắk.
	lamDong := plotBody(polygonJSON(orb.Point{108.44, 11.94}, orb.Point{108.4411, 11.9401}, orb.Point{108.4412, 11.941}, orb.Point{108.4399, 11.9409}), `{"crop":"coffee","province_code":"68"}`)
	res := officer.do("POST", "/api/v1/plots", lamDong)
	if res.status != 403 || !strings.Contains(res.errorMessage(), "province 68: it is outside your jurisdiction (your jurisdiction: province 66)") {
		t.Errorf("a plot in province 68: %d %s", res.status, res.body)
	}
	c := decode[checkAnswer](t, officer.do("POST", "/api/v1/plots/check", lamDong))
	if c.Jurisdiction.OK || !c.Blocked || !strings.Contains(c.Jurisdiction.Message, "your jurisdiction: province 66") || c.ProvinceCode != "68" {
		t.Errorf("check of a plot in province 68: %+v", c)
	}

	// A boundary crossing itself three times: the write names the first place, the check all.
	zigzag := plotBody(polygonJSON(orb.Point{108.05, 12.68}, orb.Point{108.0503, 12.6803}, orb.Point{108.0506, 12.68}, orb.Point{108.0509, 12.6803},
		orb.Point{108.0509, 12.68}, orb.Point{108.0506, 12.6803}, orb.Point{108.0503, 12.68}, orb.Point{108.05, 12.6803}), `{"crop":"coffee"}`)
	res = officer.do("POST", "/api/v1/plots", zigzag)
	if e := decode[errorBody](t, res); res.status != 422 || len(e.Error.Details) == 0 || len(e.Error.Details[0].Location) != 2 || !strings.Contains(e.Error.Message, "crosses itself at [") {
		t.Errorf("a self-intersecting plot: %d %s", res.status, res.body)
	}
	c = decode[checkAnswer](t, officer.do("POST", "/api/v1/plots/check", zigzag))
	var at []string
	for _, p := range c.Problems {
		if len(p.Location) == 2 && p.Code == "self_intersection" {
			at = append(at, fmt.Sprintf("[%.5f, %.5f]", p.Location[0], p.Location[1]))
		}
	}
	slices.Sort(at)
	if c.Valid || !c.Blocked || strings.Join(at, " ") != "[108.05015, 12.68015] [108.05045, 12.68015] [108.05075, 12.68015]" {
		t.Errorf("check of a self-intersecting plot: valid %v, crossings at %v, problems %+v", c.Valid, at, c.Problems)
	}

	// Outside Vietnam: readable, so the check reports it with the rest.
	c = decode[checkAnswer](t, officer.do("POST", "/api/v1/plots/check", plotBody(polygonJSON(orb.Point{100.5, 13.7}, orb.Point{100.501, 13.7}, orb.Point{100.501, 13.701}), `{}`)))
	if c.Valid || len(c.Problems) == 0 || c.Problems[0].Code != "position_outside_vietnam" || c.Jurisdiction.OK {
		t.Errorf("check of a plot in Bangkok: %+v", c)
	}

	// A stale If-Match, after a change that took the ETag's version.
	var plot int64
	a.app.DB().Pool.QueryRow(context.Background(), `SELECT id FROM plot WHERE commune_code = '24280' ORDER BY id LIMIT 1`).Scan(&plot)
	path := fmt.Sprintf("/api/v1/plots/%d", plot)
	if res := officer.do("PATCH", path, `{"properties":{"variety":"TR9"}}`, "If-Match", `"v1"`); res.status != 200 {
		t.Fatalf("patch: %d %s", res.status, res.body)
	}
	if res := officer.do("PATCH", path, `{"properties":{"variety":"TR4"}}`, "If-Match", `"v1"`); res.status != 412 {
		t.Errorf("a stale If-Match: %d %s", res.status, res.body)
	}
	// Checking an edit: the plot left out of its own overlaps, and where it is now.
	c = decode[checkAnswer](t, officer.do("POST", "/api/v1/plots/check", fmt.Sprintf(`{"type":"Feature","id":%d,"properties":{"variety":"TR4"}}`, plot)))
	if !c.Valid || c.Blocked || len(c.Overlaps) != 0 || !c.Jurisdiction.OK || c.CommuneCode != "24280" {
		t.Errorf("check of an edit of plot %d: %+v", plot, c)
	}

	var plots, history int
	a.app.DB().Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM plot), (SELECT count(*) FROM plot_history)`).Scan(&plots, &history)
	if want := strings.Split(before, ", producer")[0]; fmt.Sprintf("plot %d, plot_history %d", plots, history-1) != want {
		t.Errorf("after the refusals, checks and one edit: plot %d, plot_history %d; before: %s", plots, history, before)
	}
	if res := a.signInAs(demoExporter, demoExporterPassword).do("POST", "/api/v1/plots/check", lamDong); res.status != 403 {
		t.Errorf("an exporter checking a plot: %d", res.status)
	}
}

// TestFarmerChangesCropNotBoundary: a farmer keeps their own plot's crop, variety and planting
// year, not its boundary, and nobody else's plot.
func TestFarmerChangesCropNotBoundary(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	farmer := a.signInAs(demoFarmerPhone, demoFarmerPassword)
	var own, other int64
	if err := a.app.DB().Pool.QueryRow(context.Background(), `
		SELECT (SELECT p.id FROM plot p JOIN producer o ON o.id = p.producer_id WHERE o.external_id = $1 ORDER BY p.id LIMIT 1),
		       (SELECT p.id FROM plot p JOIN producer o ON o.id = p.producer_id WHERE o.external_id <> $1 AND o.kind = 'household' ORDER BY p.id LIMIT 1)`,
		demoFarmerProducer).Scan(&own, &other); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/plots/%d", own)
	res := farmer.do("PATCH", path, `{"properties":{"crop":"sầu riêng","variety":"Ri6","planting_year":2020}}`, "If-Match", a.etagOf(path))
	if res.status != 200 {
		t.Fatalf("a farmer changing their crop: %d %s", res.status, res.body)
	}
	moved := decode[plotAnswer](t, a.do("GET", path, "", a.auth()...))
	var g struct {
		Coordinates [][][][2]float64 `json:"coordinates"`
	}
	json.Unmarshal(moved.Geometry, &g)
	for i := range g.Coordinates[0][0] {
		g.Coordinates[0][0][i][0] += 0.00001
	}
	geom, _ := json.Marshal(map[string]any{"type": "MultiPolygon", "coordinates": g.Coordinates})
	if res := farmer.do("PATCH", path, `{"geometry":`+string(geom)+`}`, "If-Match", a.etagOf(path)); res.status != 403 {
		t.Errorf("a farmer moving their plot's boundary: %d %s", res.status, res.body)
	}
	otherPath := fmt.Sprintf("/api/v1/plots/%d", other)
	if res := farmer.do("PATCH", otherPath, `{"properties":{"variety":"x"}}`, "If-Match", a.etagOf(otherPath)); res.status != 404 {
		t.Errorf("a farmer changing another farmer's plot: %d %s", res.status, res.body)
	}
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/v1/plots/check", plotBody(string(geom), `{}`)},
		{"POST", path + "/split", `{"line":{"type":"LineString","coordinates":[[108,12],[109,13]]}}`},
		{"POST", "/api/v1/plots/merge", `{"plots":[]}`},
		{"POST", path + "/restore", `{"version":1}`},
	} {
		if res := farmer.do(r.method, r.path, r.body, "If-Match", a.etagOf(path)); res.status != 403 {
			t.Errorf("a farmer calling %s %s: %d", r.method, r.path, res.status)
		}
	}
}

// TestProducerSearchKeepsPersonalData: q finds households by name, citizen ID or phone only for
// those who may see them; the public finds cooperatives and enterprises by name, never a
// household, and never sees a name it did not find.
func TestProducerSearchKeepsPersonalData(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	a.secret(demoHouseholdCitizenID)
	search := func(c *client, q string) (names []string, body string) {
		t.Helper()
		res := c.do("GET", "/api/v1/producers?q="+url.QueryEscape(q), "")
		if res.status != 200 {
			t.Fatalf("search %q: %d %s", q, res.status, res.body)
		}
		var out struct {
			Producers []struct {
				Name string `json:"name"`
			} `json:"producers"`
		}
		json.Unmarshal(res.body, &out)
		for _, p := range out.Producers {
			names = append(names, p.Name)
		}
		return names, string(res.body)
	}
	officer := a.signInAs(demoOfficer, demoOfficerPassword)
	exporter := a.signInAs(demoExporter, demoExporterPassword)
	coop := a.signInAs(demoCoop, demoCoopPassword)
	for _, tt := range []struct {
		who   string
		c     *client
		q     string
		found bool
	}{
		{"the public", a.anonymous(), "duong cong dung", false},
		{"the public", a.anonymous(), demoHousehold, false},
		{"the public", a.anonymous(), demoHouseholdCitizenID, false},
		{"the public", a.anonymous(), demoHouseholdPhone, false},
		{"the exporter", exporter, "Dương Công", false},
		{"another cooperative", coop, "duong cong dung", false},
		{"the officer", officer, "duong cong dung", true},
		{"the officer", officer, "DƯƠNG CÔNG DŨNG", true},
		{"the officer", officer, demoHouseholdCitizenID[:8], true},
		{"the officer", officer, demoHouseholdPhone, true},
	} {
		names, body := search(tt.c, tt.q)
		found := strings.Join(names, "|") == demoHousehold
		if found != tt.found {
			t.Errorf("%s searching %q finds %v, want the household: %v", tt.who, tt.q, names, tt.found)
		}
		if !tt.found && (strings.Contains(body, demoHousehold) || strings.Contains(body, demoHouseholdCitizenID)) {
			t.Errorf("%s searching %q sees the household's data: %s", tt.who, tt.q, body)
		}
	}
	for _, c := range []*client{a.anonymous(), officer} {
		if names, _ := search(c, "sau rieng krong pac"); len(names) != 1 || !strings.HasPrefix(names[0], demoKrongPacCoopName) {
			t.Errorf("searching the cooperative's name finds %v", names)
		}
	}
	// Nothing the public searches for finds a household.
	for _, q := range []string{"a", "nguyen", "thi", "van"} {
		res := a.anonymous().do("GET", "/api/v1/producers?kind=household&q="+q, "")
		if n := len(res.json(t)["producers"].([]any)); n != 0 {
			t.Errorf("the public searching households for %q finds %d", q, n)
		}
	}
}

// TestCooperativeRegistersAMemberWithThePlot: a cooperative registers a new member household and
// its first plot in one request; the household is the cooperative's member in the plot's
// commune; a bad household, a citizen ID already registered, or a plot over a neighbour leave
// nothing written, the household's problems named field by field.
func TestCooperativeRegistersAMemberWithThePlot(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	a.secret("066190001234")
	coop := a.signInAs(demoCoop, demoCoopPassword)
	var coopID int64
	var commune string
	if err := a.app.DB().Pool.QueryRow(context.Background(), `
		SELECT p.id, (SELECT pl.commune_code FROM plot pl JOIN producer m ON m.id = pl.producer_id
		              WHERE m.cooperative_id = p.id AND pl.commune_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)
		FROM app_user u JOIN producer p ON p.id = u.producer_id WHERE u.username = $1`, demoCoop).Scan(&coopID, &commune); err != nil {
		t.Fatal(err)
	}
	x, y := a.emptySpot(commune)
	square := func(dx float64) string {
		return polygonJSON(orb.Point{x + dx, y}, orb.Point{x + dx + 0.001, y}, orb.Point{x + dx + 0.001, y + 0.001}, orb.Point{x + dx, y + 0.001})
	}
	household := `{"name":"Nguyễn Thị Hoa","citizen_id":"066190001234","phone":"0912 345 670","address":"Thôn 3"}`

	// The check answers as the write would: the cooperative may register it.
	chk := decode[checkAnswer](t, coop.do("POST", "/api/v1/plots/check", plotBody(square(0), `{"crop":"sầu riêng","producer":`+household+`}`)))
	if !chk.Jurisdiction.OK || chk.Blocked {
		t.Errorf("check of a new member's plot: jurisdiction %+v, blocked %v", chk.Jurisdiction, chk.Blocked)
	}

	before := a.tableCounts()
	for _, tt := range []struct {
		name, household string
		fields          []string
	}{
		{"a household without a name, with a short citizen ID", `{"citizen_id":"123","phone":"0912 345 670"}`, []string{"properties.producer.citizen_id", "properties.producer.name"}},
		{"a cooperative registered with a plot", `{"kind":"cooperative","name":"HTX mới"}`, []string{"properties.producer.kind"}},
		{"an unknown field", `{"name":"Nguyễn Thị Hoa","cccd":"066190001234"}`, []string{"properties.producer.cccd"}},
	} {
		res := coop.do("POST", "/api/v1/plots", plotBody(square(0), `{"crop":"sầu riêng","producer":`+tt.household+`}`))
		var fields []string
		for _, d := range decode[overlapRefusal](t, res).Error.Details {
			fields = append(fields, d.Field)
		}
		slices.Sort(fields)
		if res.status != 422 || !slices.Equal(fields, tt.fields) {
			t.Errorf("%s: %d, problems in %v, want 422 naming %v: %s", tt.name, res.status, fields, tt.fields, res.body)
		}
	}
	// A citizen ID already registered (a household of another cooperative).
	res := coop.do("POST", "/api/v1/plots", plotBody(square(0), `{"crop":"sầu riêng","producer":{"name":"Người khác","citizen_id":"`+demoHouseholdCitizenID+`"}}`))
	if res.status != 409 && res.status != 422 {
		t.Errorf("a household whose citizen ID is registered: %d %s, want 409 or 422", res.status, res.body)
	}
	if strings.Contains(string(res.body), demoHousehold) {
		t.Errorf("the refusal names the other cooperative's member: %s", res.body)
	}
	if after := a.tableCounts(); after != before {
		t.Fatalf("refused registrations changed the database: %s, then %s", before, after)
	}

	res = coop.do("POST", "/api/v1/plots", plotBody(square(0), `{"crop":"sầu riêng","variety":"Ri6","producer":`+household+`}`))
	if res.status != 201 {
		t.Fatalf("a new member with their plot: %d %s", res.status, res.body)
	}
	plot := decode[plotAnswer](t, res)
	if plot.Properties.ProducerID == nil {
		t.Fatalf("the plot has no producer: %s", res.body)
	}
	var kind, name, phone, pcommune, plotCommune string
	var member *int64
	if err := a.app.DB().Pool.QueryRow(context.Background(), `
		SELECT o.kind, o.name, o.phone, o.cooperative_id, COALESCE(o.commune_code, ''), p.commune_code
		FROM producer o, plot p WHERE o.id = $1 AND p.id = $2`, *plot.Properties.ProducerID, plot.ID).Scan(&kind, &name, &phone, &member, &pcommune, &plotCommune); err != nil {
		t.Fatal(err)
	}
	if kind != "household" || name != "Nguyễn Thị Hoa" || phone != "+84912345670" || member == nil || *member != coopID || pcommune != plotCommune || plotCommune != commune {
		t.Errorf("the new member: %s %q %s of cooperative %v in commune %s (plot in %s), want a household of %d in %s", kind, name, phone, member, pcommune, plotCommune, coopID, commune)
	}
	var audits int
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE (action = 'producer.create' AND object_id = $1) OR (action = 'plot.create' AND object_id = $2)`,
		fmt.Sprint(*plot.Properties.ProducerID), fmt.Sprint(plot.ID)).Scan(&audits); err != nil {
		t.Fatal(err)
	}
	if audits != 2 {
		t.Errorf("%d audit entries for the member and the plot, want 2", audits)
	}

	// A second member whose plot lies over the first: nothing written, not even the household.
	before = a.tableCounts()
	res = coop.do("POST", "/api/v1/plots", plotBody(square(0.0004), `{"crop":"sầu riêng","producer":{"name":"Trần Văn Bình"}}`))
	if res.status != 422 || len(decode[overlapRefusal](t, res).Error.Overlaps) != 1 {
		t.Errorf("a new member's plot over another: %d %s, want 422 with the overlap", res.status, res.body)
	}
	if after := a.tableCounts(); after != before {
		t.Errorf("the refused plot left its household behind: %s, then %s", before, after)
	}
	// Patches cannot register households.
	path := fmt.Sprintf("/api/v1/plots/%d", plot.ID)
	if res := coop.do("PATCH", path, `{"properties":{"producer":{"name":"X"}}}`, "If-Match", a.etagOf(path)); res.status != 422 {
		t.Errorf("a patch registering a household: %d %s", res.status, res.body)
	}
}

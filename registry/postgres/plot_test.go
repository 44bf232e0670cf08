package postgres_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/registry/postgres/pgtest"
)

func testCtx() context.Context {
	return registry.NewContextWithActor(context.Background(), registry.Actor{Kind: "token", Name: "tester", Role: "admin"})
}

// field returns an irregular ~1.2 ha quadrilateral near Buôn Ma Thuột, shifted east by dx degrees.
func field(dx float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{
		{108.0500 + dx, 12.6800}, {108.0511 + dx, 12.6801}, {108.0512 + dx, 12.6810},
		{108.0499 + dx, 12.6809}, {108.0500 + dx, 12.6800},
	}}}
}

func countRows(t *testing.T, db *postgres.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreatePlotComputesAreaOnTheEllipsoid(t *testing.T) {
	db := pgtest.New(t)
	svc := postgres.NewPlotService(db)
	p := &registry.Plot{Crop: "Cà phê", Geometry: field(0)}
	if err := svc.CreatePlot(testCtx(), p); err != nil {
		t.Fatal(err)
	}
	if p.ID == 0 || p.Version != 1 || p.Crop != "coffee" {
		t.Errorf("created plot = id %d version %d crop %q, want an id, version 1, crop coffee", p.ID, p.Version, p.Crop)
	}
	var want float64
	if err := db.Pool.QueryRow(context.Background(), `SELECT ST_Area(geom::geography) / 10000 FROM plot WHERE id = $1`, p.ID).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if rel := math.Abs(p.AreaHa-want) / want; rel > 0.0001 {
		t.Errorf("area %.6f ha, ST_Area(geography) says %.6f ha: off by %.4f%%", p.AreaHa, want, rel*100)
	}
	if p.AreaHa < 1.0 || p.AreaHa > 1.5 {
		t.Errorf("area %.4f ha, want about 1.2 ha", p.AreaHa)
	}
	got, err := svc.FindPlotByID(testCtx(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AreaHa != p.AreaHa || !orb.Equal(got.Geometry, p.Geometry) || got.CreatedBy != "token:tester" {
		t.Errorf("read back %+v, want what was created", got)
	}
}

func TestCreatePlotResolvesCropNames(t *testing.T) {
	db := pgtest.New(t)
	svc := postgres.NewPlotService(db)
	for i, in := range []string{"coffee", "Cà Phê", "ca phe", "COFFEE", "Sầu riêng", "sau rieng", "durian"} {
		p := &registry.Plot{Crop: in, Geometry: field(float64(i) * 0.01)}
		if err := svc.CreatePlot(testCtx(), p); err != nil {
			t.Fatalf("crop %q: %v", in, err)
		}
		if p.Crop != "coffee" && p.Crop != "durian" {
			t.Errorf("crop %q resolved to %q", in, p.Crop)
		}
	}
	err := svc.CreatePlot(testCtx(), &registry.Plot{Crop: "cà chua bi", Geometry: field(0)})
	if registry.ErrorCode(err) != registry.EINVALID || !strings.Contains(registry.ErrorMessage(err), "unknown crop \"cà chua bi\": use one of") {
		t.Errorf("unknown crop: got %v", err)
	}
}

func TestCreatePlotRejectsInvalidGeometry(t *testing.T) {
	db := pgtest.New(t)
	svc := postgres.NewPlotService(db)
	svc.Limits.MaxAreaHa = 100
	tests := []struct {
		name    string
		geom    orb.MultiPolygon
		wantMsg string
		wantAt  []float64
	}{
		{"bow tie", orb.MultiPolygon{{{{108.05, 12.68}, {108.051, 12.681}, {108.051, 12.68}, {108.05, 12.681}, {108.05, 12.68}}}},
			"the boundary crosses itself at [108.0505, 12.6805]", []float64{108.0505, 12.6805}},
		{"overlapping parts", orb.MultiPolygon{field(0)[0], field(0.0005)[0]}, "not valid", nil},
		{"tiny", orb.MultiPolygon{{{{108.05, 12.68}, {108.05001, 12.68}, {108.05001, 12.68001}, {108.05, 12.68}}}}, "below the minimum of 0.001 ha", nil},
		{"huge", orb.MultiPolygon{{{{108.0, 12.6}, {108.2, 12.6}, {108.2, 12.8}, {108.0, 12.6}}}}, "above the maximum of 100 ha", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := svc.CreatePlot(testCtx(), &registry.Plot{Crop: "coffee", Geometry: tt.geom})
			if registry.ErrorCode(err) != registry.EINVALID || !strings.Contains(registry.ErrorMessage(err), tt.wantMsg) {
				t.Fatalf("got %v, want EINVALID containing %q", err, tt.wantMsg)
			}
			if tt.wantAt != nil {
				d := registry.ErrorDetails(err)
				if len(d) == 0 || len(d[0].Location) != 2 || math.Abs(d[0].Location[0]-tt.wantAt[0]) > 1e-9 || math.Abs(d[0].Location[1]-tt.wantAt[1]) > 1e-9 {
					t.Errorf("details %+v, want location %v", d, tt.wantAt)
				}
			}
		})
	}
	if n := countRows(t, db, `SELECT count(*) FROM plot`); n != 0 {
		t.Errorf("%d plots stored after rejected creates", n)
	}
	if n := countRows(t, db, `SELECT count(*) FROM audit_log`); n != 0 {
		t.Errorf("%d audit rows after rejected creates", n)
	}
}

func TestUpdatePlotKeepsHistoryAndRefusesStaleVersions(t *testing.T) {
	db := pgtest.New(t)
	svc := postgres.NewPlotService(db)
	ctx := testCtx()
	p := &registry.Plot{Crop: "coffee", Geometry: field(0)}
	if err := svc.CreatePlot(ctx, p); err != nil {
		t.Fatal(err)
	}
	original := p.Geometry

	// Two clients read version 1 and both send an update.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := *p
			q.Geometry = field(0.001 * float64(i+1))
			q.Variety = []string{"TR4", "TR9"}[i]
			errs[i] = svc.UpdatePlot(ctx, &q, 1)
		}()
	}
	wg.Wait()
	codes := map[string]int{}
	for _, err := range errs {
		codes[registry.ErrorCode(err)]++
	}
	if codes[""] != 1 || codes[registry.EPRECONDITION] != 1 {
		t.Fatalf("outcomes %v (errors %v), want one success and one precondition failure", codes, errs)
	}
	cur, err := svc.FindPlotByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Version != 2 {
		t.Errorf("version %d after one successful update, want 2", cur.Version)
	}
	hist, err := svc.PlotHistory(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Version != 2 || hist[1].Version != 1 || !orb.Equal(hist[1].Geometry, original) {
		t.Fatalf("history = %d versions, want the current version 2, then version 1 with the original geometry", len(hist))
	}
	if n := countRows(t, db, `SELECT count(*) FROM audit_log WHERE object_id = $1::bigint::text AND action = 'plot.update' AND outcome = 'ok' AND before IS NOT NULL AND after IS NOT NULL`, p.ID); n != 1 {
		t.Errorf("%d successful update audit rows, want 1", n)
	}
	if n := countRows(t, db, `SELECT count(*) FROM audit_log WHERE object_id = $1::bigint::text AND action = 'plot.update' AND outcome = 'rejected' AND reason LIKE 'stale version%'`, p.ID); n != 1 {
		t.Errorf("%d rejected update audit rows, want 1", n)
	}

	// Delete with a stale version fails; with the current one it works, and the plot is gone.
	if err := svc.DeletePlot(ctx, p.ID, 1); registry.ErrorCode(err) != registry.EPRECONDITION {
		t.Errorf("stale delete: %v", err)
	}
	if err := svc.DeletePlot(ctx, p.ID, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.FindPlotByID(ctx, p.ID); registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Errorf("deleted plot: %v", err)
	}
	if n := countRows(t, db, `SELECT count(*) FROM plot_history WHERE plot_id = $1`, p.ID); n != 2 {
		t.Errorf("%d history rows after update and delete, want 2", n)
	}
}

func TestAuditRecordsGeometryAndIsAppendOnly(t *testing.T) {
	db := pgtest.New(t)
	svc := postgres.NewPlotService(db)
	ctx := registry.NewContextWithRequestID(testCtx(), "req-42")
	p := &registry.Plot{Crop: "coffee", Geometry: field(0)}
	if err := svc.CreatePlot(ctx, p); err != nil {
		t.Fatal(err)
	}
	var actor, reqID string
	var after []byte
	if err := db.Pool.QueryRow(ctx, `SELECT actor, request_id, after FROM audit_log WHERE object_id = $1::bigint::text`, p.ID).Scan(&actor, &reqID, &after); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Crop string `json:"crop"`
		Geom struct {
			Type        string `json:"type"`
			Coordinates any    `json:"coordinates"`
		} `json:"geom"`
	}
	if err := json.Unmarshal(after, &doc); err != nil {
		t.Fatalf("after is not JSON: %v", err)
	}
	if actor != "token:tester" || reqID != "req-42" || doc.Crop != "coffee" || doc.Geom.Type != "MultiPolygon" {
		t.Errorf("audit row: actor %q request %q after %s", actor, reqID, after)
	}
	for _, sql := range []string{`UPDATE audit_log SET actor = 'x'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := db.Pool.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: got %v, want it refused", sql, err)
		}
	}
}

func TestFindPlotsFiltersAndPages(t *testing.T) {
	db := pgtest.New(t)
	svc := postgres.NewPlotService(db)
	ctx := testCtx()
	producers := postgres.NewProducerService(db)
	owner := &registry.Producer{Kind: "household", Name: "Nguyễn Văn A"}
	if err := producers.CreateProducer(ctx, owner); err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		p := &registry.Plot{Crop: []string{"coffee", "durian"}[i%2], Geometry: field(float64(i) * 0.002), CommuneCode: []string{"24280", "24265"}[i%2]}
		if i < 5 {
			p.ProducerID = &owner.ID
		}
		if err := svc.CreatePlot(ctx, p); err != nil {
			t.Fatal(err)
		}
		if p.ProvinceCode != "66" {
			t.Fatalf("province %q from commune %s, want 66", p.ProvinceCode, p.CommuneCode)
		}
	}
	count := func(f registry.PlotFilter) int {
		t.Helper()
		n := 0
		for {
			page, err := svc.FindPlots(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.Plots)
			if page.Next == 0 {
				return n
			}
			f.After = page.Next
		}
	}
	bbox := orb.Bound{Min: orb.Point{108.049, 12.679}, Max: orb.Point{108.0555, 12.682}}
	tests := []struct {
		name string
		f    registry.PlotFilter
		want int
	}{
		{"all in pages of 7", registry.PlotFilter{Limit: 7}, 25},
		{"crop by Vietnamese name", registry.PlotFilter{Crop: "Sầu riêng"}, 12},
		{"commune", registry.PlotFilter{CommuneCode: "24280"}, 13},
		{"producer", registry.PlotFilter{ProducerID: owner.ID}, 5},
		{"bbox", registry.PlotFilter{BBox: &bbox, Limit: 2}, 3},
		{"province", registry.PlotFilter{ProvinceCode: "66"}, 25},
		{"nothing", registry.PlotFilter{ProvinceCode: "01"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := count(tt.f); got != tt.want {
				t.Errorf("got %d plots, want %d", got, tt.want)
			}
		})
	}
}

func TestPlotIsPlacedByLoadedBoundaries(t *testing.T) {
	db := pgtest.New(t)
	ctx := testCtx()
	// A square boundary for commune 24280 (Cư M'gar) and one for 24265 (Ea Kiết) beside it.
	_, err := db.Pool.Exec(ctx, `
		UPDATE commune SET boundary = ST_Multi(ST_MakeEnvelope(108.0, 12.6, 108.1, 12.7, 4326)) WHERE scheme = 2025 AND code = '24280';
		UPDATE commune SET boundary = ST_Multi(ST_MakeEnvelope(108.1, 12.6, 108.2, 12.7, 4326)) WHERE scheme = 2025 AND code = '24265';`)
	if err != nil {
		t.Fatal(err)
	}
	svc := postgres.NewPlotService(db)
	p := &registry.Plot{Crop: "coffee", Geometry: field(0)}
	if err := svc.CreatePlot(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.ProvinceCode != "66" || p.CommuneCode != "24280" {
		t.Errorf("placed in %s/%s, want 66/24280", p.ProvinceCode, p.CommuneCode)
	}
	// Moving it east re-places it in the neighbouring commune.
	p.Geometry = field(0.1)
	if err := svc.UpdatePlot(ctx, p, p.Version); err != nil {
		t.Fatal(err)
	}
	if p.CommuneCode != "24265" {
		t.Errorf("after the move: commune %s, want 24265", p.CommuneCode)
	}
	// Claiming another province than the boundary says is refused.
	q := &registry.Plot{Crop: "coffee", Geometry: field(0.01), ProvinceCode: "01"}
	if err := svc.CreatePlot(ctx, q); registry.ErrorCode(err) != registry.EINVALID || !strings.Contains(registry.ErrorMessage(err), "lies in commune 24280 Xã Cư M'gar (province 66 Tỉnh Đắk Lắk), not in province 01 Thành phố Hà Nội") {
		t.Errorf("wrong province: got %v", err)
	}
	// A named commune is checked against where the plot lies wherever boundaries are loaded: a
	// plot in Hà Nội (Ba Đình's square loaded) named as Krông Pắc of Đắk Lắk (its square loaded
	// too) is refused with both names; named as Cư M'gar while lying in Ea Kiết, too.
	if _, err := db.Pool.Exec(ctx, `
		UPDATE commune SET boundary = ST_Multi(ST_MakeEnvelope(105.8, 21.0, 105.9, 21.1, 4326)) WHERE scheme = 2025 AND code = '00004';
		UPDATE commune SET boundary = ST_Multi(ST_MakeEnvelope(108.3, 12.6, 108.4, 12.7, 4326)) WHERE scheme = 2025 AND code = '24490';`); err != nil {
		t.Fatal(err)
	}
	hanoi := orb.MultiPolygon{{{{105.85, 21.05}, {105.851, 21.05}, {105.851, 21.051}, {105.85, 21.051}, {105.85, 21.05}}}}
	for _, tt := range []struct {
		name string
		plot registry.Plot
		want string
	}{
		{"Hà Nội named as Krông Pắc", registry.Plot{Crop: "coffee", Geometry: hanoi, CommuneCode: "24490"},
			"the plot lies in commune 00004 Phường Ba Đình (province 01 Thành phố Hà Nội), not in commune 24490 Xã Krông Pắc (province 66 Tỉnh Đắk Lắk)"},
		{"Ea Kiết named as Cư M'gar", registry.Plot{Crop: "coffee", Geometry: field(0.12), CommuneCode: "24280"},
			"the plot lies in commune 24265 Xã Ea Kiết (province 66 Tỉnh Đắk Lắk), not in commune 24280 Xã Cư M'gar"},
		{"Hà Nội named as Đắk Lắk", registry.Plot{Crop: "coffee", Geometry: hanoi, ProvinceCode: "66"},
			"the plot lies in commune 00004 Phường Ba Đình (province 01 Thành phố Hà Nội), not in province 66 Tỉnh Đắk Lắk"},
	} {
		p := tt.plot
		err := svc.CreatePlot(ctx, &p)
		if registry.ErrorCode(err) != registry.EINVALID || !strings.Contains(registry.ErrorMessage(err), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
	// Where the named commune has no boundary loaded (and no loaded boundary holds the plot),
	// the named code is used.
	far := orb.MultiPolygon{{{{108.5, 12.9}, {108.501, 12.9}, {108.501, 12.901}, {108.5, 12.901}, {108.5, 12.9}}}}
	named := &registry.Plot{Crop: "coffee", Geometry: far, CommuneCode: "24301"}
	if err := svc.CreatePlot(ctx, named); err != nil || named.CommuneCode != "24301" || named.ProvinceCode != "66" {
		t.Errorf("a commune without a boundary: %v, placed in %s/%s", err, named.ProvinceCode, named.CommuneCode)
	}
	// Outside every boundary the default province applies.
	svc.DefaultProvince = "66"
	r := &registry.Plot{Crop: "coffee", Geometry: field(1.0)}
	if err := svc.CreatePlot(ctx, r); err != nil || r.ProvinceCode != "66" || r.CommuneCode != "" {
		t.Errorf("outside boundaries: %v, placed in %q/%q", err, r.ProvinceCode, r.CommuneCode)
	}
}

// TestPlotCellsStayExact checks the density cells the plot triggers keep (level 16 summed from
// the plots, coarser levels rolled up from it) against every level summed straight from the
// live plots, after a bulk insert, moves, deletions and a single-row insert.
func TestPlotCellsStayExact(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	exec := func(sql string) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	// 3,000 small squares scattered over about 60 x 60 km, many sharing cells.
	exec(`INSERT INTO plot (crop, geom, created_by, updated_by)
		SELECT 'coffee', ST_Multi(ST_MakeEnvelope(x, y, x + 0.0008, y + 0.0006, 4326)), 'test', 'test'
		FROM (SELECT 107.9 + 0.55 * ((i * 7919) % 1000) / 1000.0 AS x, 12.4 + 0.55 * ((i * 104729) % 997) / 997.0 AS y
		      FROM generate_series(1, 3000) i) g`)
	exec(`UPDATE plot SET geom = ST_Multi(ST_Translate(geom, 0.013, -0.007)), version = version + 1 WHERE id % 5 = 0`)
	exec(`UPDATE plot SET deleted_at = now(), version = version + 1 WHERE id % 7 = 0`)
	exec(`UPDATE plot SET crop = 'durian', version = version + 1 WHERE id % 11 = 0`)
	exec(`INSERT INTO plot (crop, geom, created_by, updated_by) VALUES ('tea', ST_Multi(ST_MakeEnvelope(108.2, 12.6, 108.201, 12.601, 4326)), 'test', 'test')`)
	var cells, wrong int
	err := db.Pool.QueryRow(ctx, `
		WITH want AS (
		  SELECT l AS level, mercator_tile_x(cx, l) AS x, mercator_tile_y(cy, l) AS y, count(*) AS plots, sum(area_ha) AS area_ha, sum(cx) AS sum_x, sum(cy) AS sum_y
		  FROM (SELECT (ST_XMin(geom_3857) + ST_XMax(geom_3857)) / 2 AS cx, (ST_YMin(geom_3857) + ST_YMax(geom_3857)) / 2 AS cy, area_ha
		        FROM plot WHERE deleted_at IS NULL) r, generate_series(11, 16) l
		  GROUP BY 1, 2, 3)
		SELECT (SELECT count(*) FROM want),
		       (SELECT count(*) FROM want w FULL JOIN plot_cell c USING (level, x, y)
		        WHERE c.plots IS DISTINCT FROM w.plots::int OR abs(c.area_ha - w.area_ha) > 1e-9 * w.area_ha
		           OR abs(c.sum_x - w.sum_x) > 1e-9 * abs(w.sum_x) OR abs(c.sum_y - w.sum_y) > 1e-9 * abs(w.sum_y) OR c.plots IS NULL OR w.plots IS NULL)`).
		Scan(&cells, &wrong)
	if err != nil {
		t.Fatal(err)
	}
	if cells < 3000 || wrong != 0 {
		t.Errorf("%d cells from the live plots, %d of them missing from plot_cell or different (want 0)", cells, wrong)
	}
	exec(`SELECT plot_cell_rebuild()`)
	if n := countRows(t, db, `SELECT count(*) FROM plot_cell`); n != cells {
		t.Errorf("plot_cell_rebuild made %d cells, want %d", n, cells)
	}
}

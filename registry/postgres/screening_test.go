package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/registry/postgres/pgtest"
)

// sqlRaster makes a baseline file's tiles in SQL: a raster of 0.0001° pixels over b, value on
// the pixels inside burn and 0 elsewhere (no data: 0), cut in tiles of 64 and written as hex WKB
// lines, as raster2pgsql writes them.
func sqlRaster(t *testing.T, db *postgres.DB, b, burn orb.Bound, value int) (registry.RasterInfo, string) {
	t.Helper()
	var hexes []string
	rows, err := db.Pool.Query(context.Background(), `
		SELECT ST_Tile(ST_SetValue(ST_AddBand(ST_MakeEmptyRaster(round(($3::float8 - $1::float8) / 0.0001)::int, round(($4::float8 - $2::float8) / 0.0001)::int, $1::float8, $4::float8, 0.0001, -0.0001, 0, 0, 4326),
		  '8BUI'::text, 0, 0), 1, ST_MakeEnvelope($5, $6, $7, $8, 4326), $9::float8), 64, 64)::text`, b.Min[0], b.Min[1], b.Max[0], b.Max[1], burn.Min[0], burn.Min[1], burn.Max[0], burn.Max[1], value)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			t.Fatal(err)
		}
		hexes = append(hexes, h)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	info := registry.RasterInfo{File: "sql.tif", CRS: "EPSG:4326", EPSG: 4326, Bounds: b, PixelWidth: 0.0001, PixelHeight: 0.0001,
		Width: int((b.Max[0]-b.Min[0])/0.0001 + 0.5), Height: int((b.Max[1]-b.Min[1])/0.0001 + 0.5), Bands: 1}
	return info, "BEGIN;\n" + strings.Join(hexes, "\n") + "\nEND;\n"
}

func loadSQLRaster(t *testing.T, db *postgres.DB, kind registry.BaselineKind, file string, b, burn orb.Bound, value int) {
	t.Helper()
	info, tiles := sqlRaster(t, db, b, burn, value)
	info.File = file
	_, err := postgres.NewScreeningService(db).LoadBaselines(testCtx(), []postgres.BaselineLoad{{Kind: kind, Info: info, Tiles: strings.NewReader(tiles)}})
	if err != nil {
		t.Fatal(err)
	}
}

var (
	screenExtent = orb.Bound{Min: orb.Point{108.03, 12.66}, Max: orb.Point{108.09, 12.70}}
	screenForest = orb.Bound{Min: orb.Point{108.04, 12.67}, Max: orb.Point{108.06, 12.69}}
)

// Plots are queued for screening by the write that changes them, once a baseline exists, and
// the servers' job screens them.
func TestWrittenPlotsAreQueuedAndScreened(t *testing.T) {
	db := pgtest.New(t)
	ctx := testCtx()
	ps := postgres.NewPlotService(db)
	p := &registry.Plot{Crop: "coffee", ProvinceCode: "66", Geometry: field(0)}
	if err := ps.CreatePlot(ctx, p); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, `SELECT count(*) FROM screening_queue`); n != 0 {
		t.Errorf("%d plots queued with no baseline to screen them against", n)
	}
	loadSQLRaster(t, db, registry.BaselineForest2020, "forest.tif", screenExtent, screenForest, 1)
	q := &registry.Plot{Crop: "coffee", ProvinceCode: "66", Geometry: field(0.002)}
	if err := ps.CreatePlot(ctx, q); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, `SELECT count(*) FROM screening_queue WHERE plot_id = $1`, q.ID); n != 1 {
		t.Fatalf("a new plot is not queued")
	}
	svc := postgres.NewScreeningService(db)
	if n, err := svc.DrainQueue(ctx); err != nil || n != 1 {
		t.Fatalf("drain: %d, %v", n, err)
	}
	s, err := svc.PlotScreening(ctx, q.ID)
	if err != nil || s == nil || s.Risk != registry.RiskMoreInfo || s.Reason != registry.ReasonNoLossData || *s.Forest2020Pct != 100 || !s.Current {
		t.Fatalf("screening %+v, %v", s, err)
	}
	if s, _ := svc.PlotScreening(ctx, p.ID); s != nil {
		t.Errorf("a plot written before any baseline was screened by the queue: %+v", s)
	}
	// A change queues it again; until screened its screening is not current.
	q.PlantingYear, q.Crop = 2010, "durian"
	if err := ps.UpdatePlot(ctx, q, q.Version); err != nil {
		t.Fatal(err)
	}
	if s, _ := svc.PlotScreening(ctx, q.ID); s.Current {
		t.Error("the screening of an older version is current")
	}
	if sum, _ := svc.Summary(ctx, []int64{q.ID}); sum.NotScreened.Plots != 1 || sum.Risk != registry.RiskMoreInfo {
		t.Errorf("summary of a changed plot %+v", sum)
	}
	if _, err := svc.DrainQueue(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := svc.PlotScreening(ctx, q.ID); !s.Current || s.Risk != registry.RiskLow || s.Reason != registry.ReasonCommodity2020 {
		t.Errorf("after the change %+v", s)
	}
	// A deleted plot's screening goes.
	if err := ps.DeletePlot(ctx, q.ID, q.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DrainQueue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, `SELECT count(*) FROM plot_screening WHERE plot_id = $1`, q.ID); n != 0 {
		t.Error("a deleted plot keeps its screening")
	}
}

// A batch screening stopped midway resumes after the last plot it finished, without screening
// again what it did.
func TestScreeningRunResumesWhereItStopped(t *testing.T) {
	db := pgtest.New(t)
	ctx := testCtx()
	ps := postgres.NewPlotService(db)
	for i := range 100 {
		if err := ps.CreatePlot(ctx, &registry.Plot{Crop: "coffee", ProvinceCode: "66", Geometry: field(float64(i%20)*0.0015 + float64(i/20)*0.03)}); err != nil {
			t.Fatal(err)
		}
	}
	loadSQLRaster(t, db, registry.BaselineForest2020, "forest.tif", screenExtent, screenForest, 1)
	svc := postgres.NewScreeningService(db)
	svc.BatchSize, svc.Workers = 5, 2
	run, resumed, err := svc.StartRun(ctx, "", false)
	if err != nil || resumed || run.Total != 100 {
		t.Fatalf("start: %+v %v %v", run, resumed, err)
	}
	stop, cancel := context.WithCancel(ctx)
	got, err := svc.RunBatch(stop, run.ID, func(r registry.ScreeningRun) {
		if r.Done >= 10 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || got.State != "running" || got.Done < 10 || got.Done >= 100 {
		t.Fatalf("stopped run %+v, %v", got, err)
	}
	stopped, _ := svc.FindRun(ctx, run.ID)
	if stopped.LastPlotID == 0 || stopped.Done != int64(countRows(t, db, `SELECT count(*) FROM plot WHERE id <= $1`, stopped.LastPlotID)) {
		t.Fatalf("the run recorded %+v", stopped)
	}
	var before time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT max(screened_at) FROM plot_screening WHERE plot_id <= $1`, stopped.LastPlotID).Scan(&before); err != nil {
		t.Fatal(err)
	}
	again, resumed, err := svc.StartRun(ctx, "", false)
	if err != nil || !resumed || again.ID != run.ID {
		t.Fatalf("restart: %+v %v %v", again, resumed, err)
	}
	done, err := svc.RunBatch(ctx, run.ID, nil)
	if err != nil || done.State != "done" || done.Done != 100 || done.EndedAt == nil {
		t.Fatalf("resumed run %+v, %v", done, err)
	}
	if n := countRows(t, db, `SELECT count(*) FROM plot_screening`); n != 100 {
		t.Errorf("%d plots screened, want 100", n)
	}
	var after time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT max(screened_at) FROM plot_screening WHERE plot_id <= $1`, stopped.LastPlotID).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if !after.Equal(before) {
		t.Error("the resumed run screened again the plots done before it stopped")
	}
	// A finished run is not resumed: the next starts over.
	if next, resumed, _ := svc.StartRun(ctx, "", false); resumed || next.ID == run.ID {
		t.Errorf("a done run was resumed: %+v", next)
	}
	// Only administrators start runs and load baselines.
	officer := registry.NewContextWithActor(context.Background(), registry.Actor{Kind: "user", Name: "o", Role: registry.RoleOfficer, UserID: 1})
	if _, _, err := svc.StartRun(officer, "", true); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Errorf("an officer started a run: %v", err)
	}
	if _, err := svc.LoadBaselines(officer, nil); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Errorf("an officer loaded baselines: %v", err)
	}
}

// Tiles outside Vietnam are left out, and a file of the same name replaces the one loaded.
func TestBaselineReloadReplaces(t *testing.T) {
	db := pgtest.New(t)
	ctx := testCtx()
	loadSQLRaster(t, db, registry.BaselineLossYear, "loss.tif", screenExtent, screenForest, 22)
	loadSQLRaster(t, db, registry.BaselineLossYear, "loss.tif", screenExtent, screenForest, 23)
	all, err := postgres.NewScreeningService(db).Baselines(ctx)
	if err != nil || len(all) != 1 || *all[0].MaxValue != 23 || all[0].DatasetDate.Year() != 2023 || all[0].Tiles == 0 {
		t.Fatalf("baselines %+v %v", all, err)
	}
	if n := countRows(t, db, `SELECT count(DISTINCT baseline_id) FROM baseline_lossyear`); n != 1 {
		t.Errorf("tiles of %d baselines, want 1", n)
	}
	if n := countRows(t, db, `SELECT count(*) FROM audit_log WHERE action = 'baseline.load'`); n != 2 {
		t.Errorf("%d loads audited, want 2", n)
	}
}

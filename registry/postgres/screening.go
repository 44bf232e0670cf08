package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/riverqueue/river"
	"github.com/vungtrong/vungtrong/compliance/eudr"
	"github.com/vungtrong/vungtrong/registry"
)

// Deforestation screening on PostGIS rasters. Baselines are loaded into one table of tiles per
// kind (migration 0015); a plot is screened by clipping each tile under it to the plot's
// envelope, turning the pixels of each value into polygons (ST_DumpAsPolygons) and intersecting
// them with the plot: the areas are exact to the pixel edges, and measured on the ellipsoid.

func init() {
	addConstraintMessages(map[string]string{
		"baseline_kind_check":                          "a baseline is forest2020, treecover2000 or lossyear",
		"baseline_source_file_check":                   "a baseline needs the name of its file",
		"baseline_dataset_check":                       "a baseline needs the name of its dataset",
		"baseline_pixel_width_check":                   "a pixel's width must be above 0",
		"baseline_pixel_height_check":                  "a pixel's height must be above 0",
		"baseline_width_check":                         "a raster is at least one pixel wide",
		"baseline_height_check":                        "a raster is at least one pixel high",
		"baseline_tiles_check":                         "a tile count cannot be negative",
		"baseline_kind_source_file_key":                "a baseline of this kind was already loaded from a file of this name",
		"baseline_forest2020_baseline_id_fkey":         "the baseline named does not exist",
		"baseline_treecover2000_baseline_id_fkey":      "the baseline named does not exist",
		"baseline_lossyear_baseline_id_fkey":           "the baseline named does not exist",
		"screening_rule_id_check":                      "there is one set of screening rules",
		"screening_rule_min_share_pct_check":           "the share of a plot is above 0 and below 100 percent",
		"screening_rule_treecover_threshold_pct_check": "a canopy cover threshold is above 0 and at most 100 percent",
		"plot_screening_plot_id_fkey":                  "the plot screened does not exist",
		"plot_screening_risk_check":                    "a risk is low, high or more_info_needed",
		"screening_run_state_check":                    "a screening run is running, done, failed or abandoned",
		"screening_run_total_check":                    "a count cannot be negative",
		"screening_run_done_check":                     "a count cannot be negative",
	})
	extraWorkers = append(extraWorkers, func(w *river.Workers, j *Jobs) {
		s := NewScreeningService(j.DB())
		river.AddWorker(w, &screeningQueueWorker{s: s})
		river.AddWorker(w, &screeningRunWorker{s: s})
	})
	extraPeriodic = append(extraPeriodic, func() *river.PeriodicJob {
		return river.NewPeriodicJob(river.PeriodicInterval(screeningQueueInterval),
			func() (river.JobArgs, *river.InsertOpts) {
				return screeningQueueArgs{}, &river.InsertOpts{MaxAttempts: 3}
			},
			&river.PeriodicJobOpts{RunOnStart: true})
	})
}

// screeningQueueInterval is how often the servers screen the plots written since: a plot is
// screened within about this long of its change.
const screeningQueueInterval = 10 * time.Second

// ScreeningService screens plots against the loaded baselines and reads the outcomes.
type ScreeningService struct {
	db *DB
	// BatchSize is how many plots one transaction screens (default 250).
	BatchSize int
	// Workers is how many batches a run screens at once (default: this machine's CPUs).
	Workers int
	now     func() time.Time
}

var _ registry.ScreeningService = (*ScreeningService)(nil)

// NewScreeningService returns the screening service on db.
func NewScreeningService(db *DB) *ScreeningService {
	return &ScreeningService{db: db, BatchSize: 250, Workers: runtime.NumCPU(), now: time.Now}
}

// baselineTable is the tile table of a kind (a whitelist: kinds are checked on the way in).
func baselineTable(k registry.BaselineKind) (string, error) {
	if !slices.Contains(registry.BaselineKinds, k) {
		return "", registry.Errorf(registry.EINVALID, "baseline kind %q unknown", k)
	}
	return pgx.Identifier{"baseline_" + string(k)}.Sanitize(), nil
}

func mustAdmin(ctx context.Context, what string) error {
	if a, _ := registry.ActorFromContext(ctx); a.Role != registry.RoleAdmin {
		return registry.Errorf(registry.EFORBIDDEN, "only an administrator may %s", what)
	}
	return nil
}

// Rules returns the screening rules in force.
func (s *ScreeningService) Rules(ctx context.Context) (registry.ScreeningRules, error) {
	return rules(ctx, s.db.Pool)
}

func rules(ctx context.Context, q querier) (registry.ScreeningRules, error) {
	var r registry.ScreeningRules
	err := q.QueryRow(ctx, `SELECT min_share_pct, treecover_threshold_pct FROM screening_rule`).Scan(&r.MinSharePct, &r.TreecoverThresholdPct)
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.DefaultScreeningRules(), nil
	}
	return r, err
}

// SetRules changes the screening rules (administrators; EFORBIDDEN, EINVALID). Plots keep the
// screening they have until they are screened again (`vungtrong screen`).
func (s *ScreeningService) SetRules(ctx context.Context, r registry.ScreeningRules) error {
	if err := mustAdmin(ctx, "change the screening rules"); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	return s.db.Transact(ctx, func(tx pgx.Tx) error {
		var before, after []byte
		if err := tx.QueryRow(ctx, `SELECT to_jsonb(r) FROM screening_rule r`).Scan(&before); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO screening_rule (id, min_share_pct, treecover_threshold_pct) VALUES (true, $1, $2)
			ON CONFLICT (id) DO UPDATE SET min_share_pct = $1, treecover_threshold_pct = $2, updated_at = now()
			RETURNING to_jsonb(screening_rule)`, r.MinSharePct, r.TreecoverThresholdPct).Scan(&after)
		if err != nil {
			return mapError(err)
		}
		return audit(ctx, tx, auditEntry{Action: "screening.rules", ObjectType: "screening_rule", Before: before, After: after})
	})
}

// measureSQL overlays plots ($1: ids) with every baseline. Rows: plot id, kind, baseline id
// and -1 with the area of the plot inside the baseline's bounds (what the map covers); or
// kind, NULL and a value with the area of the plot under pixels of that value: forest (1),
// canopy cover at or above the threshold ($2, reported as 1), each loss year (1-99). Each tile
// under a plot is clipped to the plot's envelope widened by a pixel (every pixel the plot
// touches), its pixels of one value become polygons, and those are intersected with the plot.
// Areas are in square metres on the ellipsoid.
const measureSQL = `
WITH p AS MATERIALIZED (
  SELECT id, geom, area_ha FROM plot WHERE id = ANY($1) AND deleted_at IS NULL
)
SELECT p.id, b.kind, b.id, -1,
       CASE WHEN ST_CoveredBy(p.geom, b.bounds) THEN p.area_ha * 10000 ELSE ST_Area(ST_Intersection(p.geom, b.bounds)::geography) END
FROM p JOIN baseline b ON b.bounds && p.geom
UNION ALL
SELECT p.id, 'forest2020', NULL, 1, sum(ST_Area(ST_Intersection(p.geom, (d).geom)::geography))
FROM p JOIN baseline_forest2020 t ON ST_ConvexHull(t.rast) && p.geom
CROSS JOIN LATERAL ST_DumpAsPolygons(ST_Clip(t.rast, 1, ST_Expand(ST_Envelope(p.geom), ST_PixelWidth(t.rast), ST_PixelHeight(t.rast)), true), 1, true) d
WHERE (d).val = 1
GROUP BY p.id
UNION ALL
SELECT p.id, 'treecover2000', NULL, 1, sum(ST_Area(ST_Intersection(p.geom, (d).geom)::geography))
FROM p JOIN baseline_treecover2000 t ON ST_ConvexHull(t.rast) && p.geom
CROSS JOIN LATERAL ST_DumpAsPolygons(ST_Clip(t.rast, 1, ST_Expand(ST_Envelope(p.geom), ST_PixelWidth(t.rast), ST_PixelHeight(t.rast)), true), 1, true) d
WHERE (d).val >= $2 AND (d).val <= 100
GROUP BY p.id
UNION ALL
SELECT p.id, 'lossyear', NULL, (d).val::int, sum(ST_Area(ST_Intersection(p.geom, (d).geom)::geography))
FROM p JOIN baseline_lossyear t ON ST_ConvexHull(t.rast) && p.geom
CROSS JOIN LATERAL ST_DumpAsPolygons(ST_Clip(t.rast, 1, ST_Expand(ST_Envelope(p.geom), ST_PixelWidth(t.rast), ST_PixelHeight(t.rast)), true), 1, true) d
WHERE (d).val >= 1 AND (d).val <= 99
GROUP BY p.id, (d).val`

// screenedPlot is a plot as screening reads it.
type screenedPlot struct {
	id, version  int64
	province     string
	areaHa       float64
	perennial    bool
	plantingYear int
	bound        orb.Bound
	cover        registry.PlotCover
	baselines    []int64
}

// screeningRow is a row of plot_screening, as the upsert reads it (jsonb_to_recordset).
type screeningRow struct {
	PlotID            int64                       `json:"plot_id"`
	PlotVersion       int64                       `json:"plot_version"`
	ProvinceCode      *string                     `json:"province_code"`
	AreaHa            float64                     `json:"area_ha"`
	Risk              registry.Risk               `json:"risk"`
	Reason            string                      `json:"reason"`
	Forest2020Ha      *float64                    `json:"forest_2020_ha"`
	Forest2020Pct     *float64                    `json:"forest_2020_pct"`
	ForestSource      *string                     `json:"forest_source"`
	Treecover2000Pct  *float64                    `json:"treecover_2000_pct"`
	LossBefore2021Ha  *float64                    `json:"loss_before_2021_ha"`
	LossBefore2021Pct *float64                    `json:"loss_before_2021_pct"`
	LossAfter2020Ha   *float64                    `json:"loss_after_2020_ha"`
	LossAfter2020Pct  *float64                    `json:"loss_after_2020_pct"`
	LossYears         []int                       `json:"loss_years"`
	Commodity2020     bool                        `json:"commodity_2020"`
	Indicators        registry.Indicators         `json:"indicators"`
	Datasets          []registry.ScreeningDataset `json:"datasets"`
	Rules             registry.ScreeningRules     `json:"rules"`
}

// pct is ha as a percentage of area.
func pct(ha *float64, area float64) *float64 {
	if ha == nil || area <= 0 {
		return nil
	}
	v := *ha / area * 100
	return &v
}

// ScreenPlots screens plots now, in one transaction, and returns how many were screened (the
// others no longer exist: their screening is forgotten).
func (s *ScreeningService) ScreenPlots(ctx context.Context, ids []int64) (int, error) {
	n := 0
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		var err error
		n, err = s.screen(ctx, tx, ids)
		return err
	})
	return n, err
}

// screen screens plots in tx: measures, assesses, stores, and tells the tile caches about the
// plots whose risk changed.
func (s *ScreeningService) screen(ctx context.Context, tx pgx.Tx, ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = '5min'`); err != nil {
		return 0, err
	}
	rs, err := rules(ctx, tx)
	if err != nil {
		return 0, err
	}
	plots := map[int64]*screenedPlot{}
	rows, err := tx.Query(ctx, `
		SELECT p.id, p.version, COALESCE(p.province_code, ''), p.area_ha, c.perennial, COALESCE(p.planting_year, 0),
		       ST_XMin(p.geom), ST_YMin(p.geom), ST_XMax(p.geom), ST_YMax(p.geom)
		FROM plot p JOIN crop c ON c.code = p.crop WHERE p.id = ANY($1) AND p.deleted_at IS NULL`, ids)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var p screenedPlot
		if err := rows.Scan(&p.id, &p.version, &p.province, &p.areaHa, &p.perennial, &p.plantingYear,
			&p.bound.Min[0], &p.bound.Min[1], &p.bound.Max[0], &p.bound.Max[1]); err != nil {
			rows.Close()
			return 0, err
		}
		p.cover = registry.PlotCover{AreaHa: p.areaHa, Perennial: p.perennial, PlantingYear: p.plantingYear}
		plots[p.id] = &p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var gone []int64
	for _, id := range ids {
		if plots[id] == nil {
			gone = append(gone, id)
		}
	}
	if len(gone) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM plot_screening WHERE plot_id = ANY($1)`, gone); err != nil {
			return 0, err
		}
	}
	if len(plots) == 0 {
		return 0, nil
	}
	if err := s.measure(ctx, tx, ids, rs, plots); err != nil {
		return 0, err
	}
	datasets, err := s.datasets(ctx, tx)
	if err != nil {
		return 0, err
	}
	out := make([]screeningRow, 0, len(plots))
	for _, id := range ids {
		p := plots[id]
		if p == nil {
			continue
		}
		a := registry.Assess(p.cover, rs)
		r := screeningRow{PlotID: p.id, PlotVersion: p.version, AreaHa: p.areaHa, Risk: a.Risk, Reason: a.Reason,
			Forest2020Ha: a.Forest2020Ha, Forest2020Pct: pct(a.Forest2020Ha, p.areaHa),
			Treecover2000Pct: pct(a.Treecover2000Ha, p.areaHa),
			LossBefore2021Ha: a.LossBefore2021Ha, LossBefore2021Pct: pct(a.LossBefore2021Ha, p.areaHa),
			LossAfter2020Ha: a.LossAfter2020Ha, LossAfter2020Pct: pct(a.LossAfter2020Ha, p.areaHa),
			LossYears: a.LossYearsAfter, Commodity2020: a.Commodity2020, Indicators: a.Indicators, Rules: rs,
			Datasets: []registry.ScreeningDataset{}}
		if r.LossYears == nil {
			r.LossYears = []int{}
		}
		if p.province != "" {
			r.ProvinceCode = &p.province
		}
		if a.ForestSource != "" {
			fs := string(a.ForestSource)
			r.ForestSource = &fs
		}
		for _, b := range p.baselines {
			if d, ok := datasets[b]; ok && !slices.Contains(r.Datasets, d) {
				r.Datasets = append(r.Datasets, d)
			}
		}
		slices.SortFunc(r.Datasets, func(a, b registry.ScreeningDataset) int {
			return strings.Compare(string(a.Kind)+a.Name+a.Date, string(b.Kind)+b.Name+b.Date)
		})
		out = append(out, r)
	}
	changed, err := upsertScreenings(ctx, tx, out)
	if err != nil {
		return 0, err
	}
	// The plots layer shows each plot's risk: tell the tile caches where it changed, in
	// cells of about 5 km so that a batch sends a few notifications rather than one a plot.
	const cell = 0.05
	cells := map[[2]int]orb.Bound{}
	for _, id := range changed {
		b := plots[id].bound
		k := [2]int{int(math.Floor(b.Min[0] / cell)), int(math.Floor(b.Min[1] / cell))}
		if cb, ok := cells[k]; ok {
			cells[k] = cb.Union(b)
		} else {
			cells[k] = b
		}
	}
	for _, b := range cells {
		if err := s.db.changed(ctx, tx, registry.ChangePlot, b); err != nil {
			return 0, err
		}
	}
	return len(out), nil
}

// measure runs measureSQL and fills each plot's cover.
func (s *ScreeningService) measure(ctx context.Context, tx pgx.Tx, ids []int64, rs registry.ScreeningRules, plots map[int64]*screenedPlot) error {
	rows, err := tx.Query(ctx, measureSQL, ids, rs.TreecoverThresholdPct)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind registry.BaselineKind
		var baseline *int64
		var val int
		var m2 *float64
		if err := rows.Scan(&id, &kind, &baseline, &val, &m2); err != nil {
			return err
		}
		p := plots[id]
		if p == nil || m2 == nil {
			continue
		}
		ha := *m2 / 10000
		c := &p.cover
		switch {
		case val == -1:
			if ha <= 0 {
				continue
			}
			if baseline != nil {
				p.baselines = append(p.baselines, *baseline)
			}
			switch kind {
			case registry.BaselineForest2020:
				if c.Forest2020 == nil {
					c.Forest2020 = &registry.Cover{}
				}
				c.Forest2020.CoveredHa += ha
			case registry.BaselineTreecover2000:
				if c.Treecover2000 == nil {
					c.Treecover2000 = &registry.Cover{}
				}
				c.Treecover2000.CoveredHa += ha
			case registry.BaselineLossYear:
				c.LossCoveredHa += ha
			}
		case kind == registry.BaselineForest2020:
			if c.Forest2020 == nil {
				c.Forest2020 = &registry.Cover{}
			}
			c.Forest2020.PositiveHa += ha
		case kind == registry.BaselineTreecover2000:
			if c.Treecover2000 == nil {
				c.Treecover2000 = &registry.Cover{}
			}
			c.Treecover2000.PositiveHa += ha
		case kind == registry.BaselineLossYear:
			if c.LossHa == nil {
				c.LossHa = map[int]float64{}
			}
			c.LossHa[2000+val] += ha
		}
	}
	return rows.Err()
}

// datasets returns each baseline's dataset and date.
func (s *ScreeningService) datasets(ctx context.Context, q querier) (map[int64]registry.ScreeningDataset, error) {
	rows, err := q.Query(ctx, `SELECT id, kind, dataset, to_char(dataset_date, 'YYYY-MM-DD') FROM baseline`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]registry.ScreeningDataset{}
	for rows.Next() {
		var id int64
		var d registry.ScreeningDataset
		if err := rows.Scan(&id, &d.Kind, &d.Name, &d.Date); err != nil {
			return nil, err
		}
		out[id] = d
	}
	return out, rows.Err()
}

// upsertScreenings stores screenings, unless a newer version of the plot has been screened
// meanwhile, and returns the plots whose risk (or screened version) changed.
func upsertScreenings(ctx context.Context, tx pgx.Tx, out []screeningRow) ([]int64, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `
		WITH r AS (
		  SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(plot_id bigint, plot_version integer, province_code text, area_ha float8,
		    risk text, reason text, forest_2020_ha float8, forest_2020_pct float8, forest_source text, treecover_2000_pct float8,
		    loss_before_2021_ha float8, loss_before_2021_pct float8, loss_after_2020_ha float8, loss_after_2020_pct float8,
		    loss_years smallint[], commodity_2020 boolean, indicators jsonb, datasets jsonb, rules jsonb)
		), old AS (
		  SELECT s.plot_id, s.risk, s.plot_version FROM plot_screening s WHERE s.plot_id IN (SELECT plot_id FROM r)
		), up AS (
		  INSERT INTO plot_screening (plot_id, plot_version, province_code, area_ha, risk, reason, forest_2020_ha, forest_2020_pct,
		    forest_source, treecover_2000_pct, loss_before_2021_ha, loss_before_2021_pct, loss_after_2020_ha, loss_after_2020_pct,
		    loss_years, commodity_2020, indicators, datasets, rules, screened_at)
		  SELECT plot_id, plot_version, province_code, area_ha, risk, reason, forest_2020_ha, forest_2020_pct,
		    forest_source, treecover_2000_pct, loss_before_2021_ha, loss_before_2021_pct, loss_after_2020_ha, loss_after_2020_pct,
		    loss_years, commodity_2020, indicators, datasets, rules, now()
		  FROM r
		  ON CONFLICT (plot_id) DO UPDATE SET plot_version = EXCLUDED.plot_version, province_code = EXCLUDED.province_code,
		    area_ha = EXCLUDED.area_ha, risk = EXCLUDED.risk, reason = EXCLUDED.reason, forest_2020_ha = EXCLUDED.forest_2020_ha,
		    forest_2020_pct = EXCLUDED.forest_2020_pct, forest_source = EXCLUDED.forest_source,
		    treecover_2000_pct = EXCLUDED.treecover_2000_pct, loss_before_2021_ha = EXCLUDED.loss_before_2021_ha,
		    loss_before_2021_pct = EXCLUDED.loss_before_2021_pct, loss_after_2020_ha = EXCLUDED.loss_after_2020_ha,
		    loss_after_2020_pct = EXCLUDED.loss_after_2020_pct, loss_years = EXCLUDED.loss_years,
		    commodity_2020 = EXCLUDED.commodity_2020, indicators = EXCLUDED.indicators, datasets = EXCLUDED.datasets,
		    rules = EXCLUDED.rules, screened_at = EXCLUDED.screened_at
		  WHERE plot_screening.plot_version <= EXCLUDED.plot_version
		  RETURNING plot_id, risk, plot_version
		)
		SELECT up.plot_id FROM up LEFT JOIN old USING (plot_id)
		WHERE old.risk IS DISTINCT FROM up.risk OR old.plot_version IS DISTINCT FROM up.plot_version`, b)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var changed []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		changed = append(changed, id)
	}
	return changed, rows.Err()
}

// PlotScreening implements registry.ScreeningService.
func (s *ScreeningService) PlotScreening(ctx context.Context, plotID int64) (*registry.PlotScreening, error) {
	q := s.db.reader(ctx)
	p, place, err := findPlot(ctx, q, plotID)
	if err != nil {
		return nil, err
	}
	if err := visible(ctx, p, place); err != nil {
		return nil, err
	}
	var sc registry.PlotScreening
	var province, source *string
	var years []int16
	var ind, ds, rs []byte
	err = q.QueryRow(ctx, `
		SELECT plot_id, plot_version, province_code, area_ha, risk, reason, forest_2020_ha, forest_2020_pct, forest_source,
		       treecover_2000_pct, loss_before_2021_ha, loss_before_2021_pct, loss_after_2020_ha, loss_after_2020_pct,
		       loss_years, commodity_2020, indicators, datasets, rules, screened_at
		FROM plot_screening WHERE plot_id = $1`, plotID).Scan(&sc.PlotID, &sc.PlotVersion, &province, &sc.AreaHa, &sc.Risk, &sc.Reason,
		&sc.Forest2020Ha, &sc.Forest2020Pct, &source, &sc.Treecover2000Pct, &sc.LossBefore2021Ha, &sc.LossBefore2021Pct,
		&sc.LossAfter2020Ha, &sc.LossAfter2020Pct, &years, &sc.Commodity2020, &ind, &ds, &rs, &sc.ScreenedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if province != nil {
		sc.ProvinceCode = *province
	}
	if source != nil {
		sc.ForestSource = registry.BaselineKind(*source)
	}
	sc.LossYears = make([]int, len(years))
	for i, y := range years {
		sc.LossYears[i] = int(y)
	}
	for _, f := range []struct {
		b   []byte
		dst any
	}{{ind, &sc.Indicators}, {ds, &sc.Datasets}, {rs, &sc.Rules}} {
		if err := json.Unmarshal(f.b, f.dst); err != nil {
			return nil, err
		}
	}
	sc.Current = sc.PlotVersion == p.Version
	// Hectares to the square metre, percent to a hundredth: the pixels are coarser anyway.
	for _, v := range []*float64{sc.Forest2020Ha, sc.LossBefore2021Ha, sc.LossAfter2020Ha} {
		if v != nil {
			*v = round(*v, 4)
		}
	}
	for _, v := range []*float64{sc.Forest2020Pct, sc.Treecover2000Pct, sc.LossBefore2021Pct, sc.LossAfter2020Pct} {
		if v != nil {
			*v = round(*v, 2)
		}
	}
	sc.AreaHa = round(sc.AreaHa, 4)
	return &sc, nil
}

// Summary implements registry.ScreeningService.
func (s *ScreeningService) Summary(ctx context.Context, plotIDs []int64) (registry.ScreeningSummary, error) {
	ids := slices.Clone(plotIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	sum := registry.ScreeningSummary{Plots: len(ids), HighPlots: []int64{}, MoreInfoPlots: []int64{}, NotScreenedPlots: []int64{},
		Datasets: []registry.ScreeningDataset{}}
	rows, err := s.db.reader(ctx).Query(ctx, `
		SELECT i.id, COALESCE(p.area_ha, 0), s.risk, COALESCE(s.forest_2020_ha, 0), COALESCE(s.loss_after_2020_ha, 0), s.datasets, s.screened_at
		FROM unnest($1::bigint[]) AS i(id)
		LEFT JOIN plot p ON p.id = i.id AND p.deleted_at IS NULL
		LEFT JOIN plot_screening s ON s.plot_id = p.id AND s.plot_version = p.version
		ORDER BY i.id`, ids)
	if err != nil {
		return sum, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var area, forest, loss float64
		var risk *string
		var ds []byte
		var at *time.Time
		if err := rows.Scan(&id, &area, &risk, &forest, &loss, &ds, &at); err != nil {
			return sum, err
		}
		sum.AreaHa += area
		if risk == nil {
			sum.NotScreened.Plots++
			sum.NotScreened.AreaHa += area
			sum.NotScreenedPlots = append(sum.NotScreenedPlots, id)
			continue
		}
		sum.Screened++
		sum.Forest2020Ha += forest
		sum.LossAfter2020Ha += loss
		switch registry.Risk(*risk) {
		case registry.RiskLow:
			sum.Low.Plots++
			sum.Low.AreaHa += area
		case registry.RiskHigh:
			sum.High.Plots++
			sum.High.AreaHa += area
			sum.HighPlots = append(sum.HighPlots, id)
		default:
			sum.MoreInfo.Plots++
			sum.MoreInfo.AreaHa += area
			sum.MoreInfoPlots = append(sum.MoreInfoPlots, id)
		}
		var used []registry.ScreeningDataset
		if err := json.Unmarshal(ds, &used); err != nil {
			return sum, err
		}
		for _, d := range used {
			if !slices.Contains(sum.Datasets, d) {
				sum.Datasets = append(sum.Datasets, d)
			}
		}
		if at != nil && (sum.OldestScreening == nil || at.Before(*sum.OldestScreening)) {
			sum.OldestScreening = at
		}
	}
	if err := rows.Err(); err != nil {
		return sum, err
	}
	slices.SortFunc(sum.Datasets, func(a, b registry.ScreeningDataset) int {
		return strings.Compare(string(a.Kind)+a.Name+a.Date, string(b.Kind)+b.Name+b.Date)
	})
	switch {
	case sum.High.Plots > 0:
		sum.Risk = registry.RiskHigh
	case sum.MoreInfo.Plots > 0 || sum.NotScreened.Plots > 0:
		sum.Risk = registry.RiskMoreInfo
	default:
		sum.Risk = registry.RiskLow
	}
	for _, v := range []*float64{&sum.AreaHa, &sum.Forest2020Ha, &sum.LossAfter2020Ha, &sum.Low.AreaHa, &sum.High.AreaHa, &sum.MoreInfo.AreaHa, &sum.NotScreened.AreaHa} {
		*v = round(*v, 4)
	}
	return sum, nil
}

// Totals counts the live plots of a province ("" for all) by the risk of their current
// screening; plots without one (never screened, or changed since) are counted apart.
func (s *ScreeningService) Totals(ctx context.Context, province string) (map[registry.Risk]registry.RiskTally, registry.RiskTally, error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT s.risk, count(*), COALESCE(sum(p.area_ha), 0)
		FROM plot p LEFT JOIN plot_screening s ON s.plot_id = p.id AND s.plot_version = p.version
		WHERE p.deleted_at IS NULL AND ($1 = '' OR p.province_code = $1)
		GROUP BY 1`, province)
	if err != nil {
		return nil, registry.RiskTally{}, err
	}
	defer rows.Close()
	out := map[registry.Risk]registry.RiskTally{}
	var none registry.RiskTally
	for rows.Next() {
		var risk *string
		var t registry.RiskTally
		if err := rows.Scan(&risk, &t.Plots, &t.AreaHa); err != nil {
			return nil, none, err
		}
		if risk == nil {
			none = t
		} else {
			out[registry.Risk(*risk)] = t
		}
	}
	return out, none, rows.Err()
}

var _ registry.EUDRScreener = (*ScreeningService)(nil)

// The outcomes of an EUDR export's screening, in summary.json's words.
var eudrOutcomes = map[registry.Risk]string{registry.RiskLow: "low risk", registry.RiskHigh: "high risk", registry.RiskMoreInfo: "more information needed"}

// ScreenEUDRPlots implements registry.EUDRScreener: Summary in the words of an EUDR export's
// summary.json. Plots never screened, or changed since, count as eudr.NotScreened, and make
// the outcome "more information needed" (eudr.NotScreened when no plot is screened).
func (s *ScreeningService) ScreenEUDRPlots(ctx context.Context, plotIDs []int64) (*eudr.Screening, error) {
	sum, err := s.Summary(ctx, plotIDs)
	if err != nil {
		return nil, err
	}
	out := &eudr.Screening{Outcome: eudrOutcomes[sum.Risk], Plots: map[string]int{}}
	for risk, t := range map[registry.Risk]registry.RiskTally{registry.RiskLow: sum.Low, registry.RiskHigh: sum.High, registry.RiskMoreInfo: sum.MoreInfo} {
		if t.Plots > 0 {
			out.Plots[eudrOutcomes[risk]] = t.Plots
		}
	}
	if sum.NotScreened.Plots > 0 {
		out.Plots[eudr.NotScreened] = sum.NotScreened.Plots
	}
	if sum.Screened == 0 {
		out.Outcome = eudr.NotScreened
	}
	var used []string
	for _, d := range sum.Datasets {
		used = append(used, d.Name+" ("+d.Date+")")
	}
	note := "Screened against " + strings.Join(used, ", ") + " by Whisp's rule for perennial crops; screening flags, a person decides."
	if len(used) == 0 {
		note = "No plot has been screened against a forest map yet."
	}
	if sum.NotScreened.Plots > 0 && sum.Screened > 0 {
		note += fmt.Sprintf(" %d plots are not screened yet (new or changed).", sum.NotScreened.Plots)
	}
	out.Note = note
	return out, nil
}

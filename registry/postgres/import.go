package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/vntext"
)

// PlotImporter stores the plots of a file in one transaction: the features are copied into a
// staging table, every check runs there in SQL over the whole file at once (validity, extent,
// area, crop, commune, duplicate ids, overlaps within the file and with the registry,
// jurisdiction), and only when nothing is wrong (or the caller chose to skip or repair) are they
// moved into plot: new external ids inserted, changed ones updated as new versions (the history
// trigger keeps the earlier ones), unchanged ones left alone.
type PlotImporter struct {
	db    *DB
	plots *PlotService
	// BulkMin is the fewest new plots for which an import may load plot in bulk (see bulkLoad).
	BulkMin int
}

var _ registry.PlotImporter = (*PlotImporter)(nil)

// NewPlotImporter returns an importer that checks geometries with plots' limits and places
// plots with its default province.
func NewPlotImporter(db *DB, plots *PlotService) *PlotImporter {
	return &PlotImporter{db: db, plots: plots, BulkMin: 10_000}
}

// errDryRun rolls back a dry run that found nothing wrong.
var errDryRun = errors.New("dry run")

// maxReported bounds the problems a report lists; the rest are counted.
const maxReported = 10000

type importRun struct {
	ctx    context.Context
	tx     pgx.Tx
	opt    registry.ImportOptions
	rep    *registry.ImportReport
	actor  registry.Actor
	stage  time.Time
	bad    map[int]bool // features refused
	hidden int          // problems beyond maxReported
	// staged is the table the file's rows are copied into (import_stage in the SQL), plots the
	// working table built from it (import_plot). Both are unlogged tables with a random suffix,
	// not temporary ones: PostgreSQL never lets parallel workers read a temporary table, and a
	// temporary table lives in the session's few megabytes of temp_buffers, where a big file
	// spills to disk. They are created and dropped inside the import's transaction, so no other
	// session ever sees them and a failed import leaves nothing behind.
	staged, plots string
	// owners (import_owner) holds each distinct owner of the file and the producer they become;
	// next (import_next) the new values of the registered plots the file changes.
	owners, next string
	names        *strings.Replacer
	// denied are the registered objects the file would have changed but the actor may not:
	// each refusal is audited with the object's province, so that its officers see it.
	denied []deniedObject
}

// deniedObject is a registered object an import was refused to change.
type deniedObject struct {
	objectType        string
	id                int64
	province, commune string
	feature           int
}

// newImportRun names the run's tables.
func newImportRun(ctx context.Context, opt registry.ImportOptions, rep *registry.ImportReport, actor registry.Actor, start time.Time) *importRun {
	b := make([]byte, 8)
	rand.Read(b)
	suffix := hex.EncodeToString(b)
	r := &importRun{ctx: ctx, opt: opt, rep: rep, actor: actor, stage: start, bad: map[int]bool{},
		staged: "import_stage_" + suffix, plots: "import_plot_" + suffix, owners: "import_owner_" + suffix, next: "import_next_" + suffix}
	r.names = strings.NewReplacer("import_stage", r.staged, "import_plot", r.plots, "import_owner", r.owners, "import_next", r.next)
	return r
}

// sql names this run's tables in a statement written with "import_stage" and "import_plot".
func (r *importRun) sql(s string) string {
	return r.names.Replace(s)
}

func (r *importRun) problem(d registry.Detail) {
	r.bad[d.Feature] = true
	if len(r.rep.Problems) >= maxReported {
		r.hidden++
		return
	}
	r.rep.Problems = append(r.rep.Problems, d)
}

func (r *importRun) warn(d registry.Detail) {
	if len(r.rep.Warnings) < maxReported {
		r.rep.Warnings = append(r.rep.Warnings, d)
	}
}

func (r *importRun) done(stage string) {
	now := time.Now()
	r.rep.Stages = append(r.rep.Stages, registry.StageTime{Stage: stage, Elapsed: registry.Duration(now.Sub(r.stage))})
	r.stage = now
	if r.opt.Progress != nil {
		r.opt.Progress(stage, r.rep.Features, r.rep.Features)
	}
}

// importSteps is what one kind of import does inside runImport's transaction.
type importSteps struct {
	layer  string // the report's layer ("" for plots)
	action string // the audit action of a refusal
	setup  string // SET LOCAL statements for the transaction
	// stage reads the file into the staging table, check reports problems, write stores.
	stage, check, write func(*importRun) error
	drop                string // the run's tables, dropped before the commit (named as in r.sql)
}

// checkOnInvalid defaults and checks opt.OnInvalid.
func checkOnInvalid(opt *registry.ImportOptions) error {
	if opt.OnInvalid == "" {
		opt.OnInvalid = registry.OnInvalidReject
	}
	switch opt.OnInvalid {
	case registry.OnInvalidReject, registry.OnInvalidSkip, registry.OnInvalidRepair:
		return nil
	}
	return registry.Errorf(registry.EINVALID, "on-invalid %q: use reject, skip or repair", opt.OnInvalid)
}

// runImport runs an import's steps in one transaction: all of it, or (on any problem unless
// skipping, on a dry run, on any error) none of it, with one audit line for a refusal.
func (db *DB) runImport(ctx context.Context, opt registry.ImportOptions, actor registry.Actor, steps importSteps) (*registry.ImportReport, error) {
	start := time.Now()
	rep := &registry.ImportReport{Layer: steps.layer, Source: opt.Source, About: opt.Describe, DryRun: opt.DryRun, Started: start,
		Problems: []registry.Detail{}, Warnings: []registry.Detail{}}
	r := newImportRun(ctx, opt, rep, actor, start)
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		r.tx = tx
		// An import of a province's survey runs for minutes: no request's statement timeout.
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0; `+steps.setup); err != nil {
			return err
		}
		if err := steps.stage(r); err != nil {
			return err
		}
		if err := steps.check(r); err != nil {
			return err
		}
		if r.hidden > 0 {
			rep.Problems = append(rep.Problems, registry.Detail{Message: fmt.Sprintf("and %d more problems", r.hidden)})
		}
		if len(r.bad) > 0 && opt.OnInvalid != registry.OnInvalidSkip {
			return registry.Invalid(rep.Problems)
		}
		rep.Skipped = len(r.bad)
		if err := steps.write(r); err != nil {
			return err
		}
		if opt.DryRun {
			return errDryRun
		}
		_, err := tx.Exec(ctx, r.sql(`DROP TABLE `+steps.drop))
		return err
	})
	rep.Elapsed = registry.Duration(time.Since(start))
	switch {
	case errors.Is(err, errDryRun):
		return rep, nil // a dry run changes nothing, so it is refused nothing
	case err != nil:
		rep.Added, rep.Updated, rep.Unchanged, rep.Changes = 0, 0, 0, nil
		if registry.ErrorCode(err) == registry.EINVALID {
			db.auditRefusal(ctx, auditEntry{Action: steps.action, Outcome: "rejected", ObjectType: "import", Province: opt.Province,
				Reason: fmt.Sprintf("%s: %d problems in %d features", opt.Source, len(rep.Problems), len(r.bad))})
		}
		db.auditDenied(ctx, steps.action, opt.Source, r.denied)
		return rep, err
	}
	db.auditDenied(ctx, steps.action, opt.Source, r.denied) // features skipped (--on-invalid skip)
	rep.Committed = true
	return rep, nil
}

// auditDenied records, one entry each, the registered objects an import was refused to change,
// with each object's own province: the officers of that province see the attempt in their log.
func (db *DB) auditDenied(ctx context.Context, action, source string, denied []deniedObject) {
	for _, d := range denied {
		db.auditRefusal(ctx, auditEntry{Action: action, Outcome: "denied", ObjectType: d.objectType, ObjectID: d.id, Province: d.province, Commune: d.commune,
			Reason: fmt.Sprintf("import of %q, feature %d: the object is outside the importer's jurisdiction", source, d.feature)})
	}
}

// ImportPlots implements registry.PlotImporter.
func (im *PlotImporter) ImportPlots(ctx context.Context, src registry.ImportSource, opt registry.ImportOptions) (*registry.ImportReport, error) {
	if err := checkOnInvalid(&opt); err != nil {
		return nil, err
	}
	if opt.DeclaredAreaTolerance == 0 {
		opt.DeclaredAreaTolerance = 0.1
	}
	if opt.OverlapTolerance == 0 {
		opt.OverlapTolerance = im.plots.Neighbours.OverlapTolerance
	}
	if strings.TrimSpace(opt.Source) == "" {
		return nil, registry.Errorf(registry.EINVALID, "an import needs a source name (the survey or file it comes from)")
	}
	opt.Source = vntext.Clean(opt.Source)
	actor, _ := registry.ActorFromContext(ctx)
	if actor.Role != registry.RoleAdmin && actor.Role != registry.RoleOfficer {
		return nil, registry.Errorf(registry.EFORBIDDEN, "your role (%s) may not import plots: officers import survey files for their provinces", cmpOr(actor.Role, "public"))
	}
	return im.db.runImport(ctx, opt, actor, importSteps{
		action: "plot.import",
		// Big set-based statements over a file: JIT compiles for longer than small files take,
		// and both cores may work on the overlap join.
		setup: `SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 2`,
		stage: func(r *importRun) error { return im.stageRows(r, src) },
		check: im.check, write: im.write,
		drop: `import_next, import_plot, import_stage, import_owner`,
	})
}

// stageGeom is a staged row's geometry in WGS 84, as a MultiPolygon.
const stageGeom = `ST_Multi(CASE WHEN srid = 4326 THEN ST_GeomFromWKB(wkb, 4326) ELSE ST_Transform(ST_GeomFromWKB(wkb, srid), 4326) END)`

// stageRows copies the file's plots into the staging table, collecting the problems the
// decoder found. The staging table computes each plot's geometry in WGS 84, its validity and
// its area as the rows arrive: the server does that work while the importer is still reading
// the file, instead of after it.
func (im *PlotImporter) stageRows(r *importRun, src registry.ImportSource) error {
	return r.copyIn(`
		CREATE UNLOGGED TABLE import_stage (
			n int NOT NULL, external_id text NOT NULL, srid int NOT NULL, wkb bytea NOT NULL,
			crop text, variety text, commune text, sheet text, parcel text, land_cert text,
			owner text, owner_id text, planting_year smallint, declared_ha float8,
			geom geometry GENERATED ALWAYS AS (`+stageGeom+`) STORED,
			valid boolean GENERATED ALWAYS AS (ST_IsValid(`+stageGeom+`)) STORED,
			area_ha float8 GENERATED ALWAYS AS (ST_Area((`+stageGeom+`)::geography) / 10000) STORED
		)`, []string{"n", "external_id", "srid", "wkb", "crop", "variety", "commune", "sheet", "parcel", "land_cert", "owner", "owner_id", "planting_year", "declared_ha"},
		5000, func() (stagedRow, error) {
			p, err := src.Next()
			if err != nil {
				return stagedRow{}, err
			}
			var year, declared any
			if p.PlantingYear != 0 {
				year = int16(p.PlantingYear)
			}
			if p.DeclaredAreaHa > 0 {
				declared = p.DeclaredAreaHa
			}
			return stagedRow{srid: int32(p.SRID), problems: p.Problems, values: []any{int32(p.N), p.ExternalID, int32(p.SRID), p.WKB, p.Crop, p.Variety,
				p.Commune, p.Sheet, p.Parcel, p.LandCert, p.Owner, p.OwnerID, year, declared}}, nil
		})
}

// stagedRow is what one feature of a file gives the staging table: its columns and its SRID,
// or the problems that refuse it.
type stagedRow struct {
	values   []any
	srid     int32
	problems []registry.Detail
}

// copyIn creates the staging table (the statement names it import_stage) and copies the file's
// features into it as next yields them, collecting the problems the decoder found; progress
// every so many features.
func (r *importRun) copyIn(create string, columns []string, every int, next func() (stagedRow, error)) error {
	rows := &stageSource{next: next, r: r, every: every}
	// The coordinate system must be known to PostGIS before the staging table transforms any
	// geometry with it; a file has one, set by its first feature.
	if rows.Next() {
		var known bool
		if err := r.tx.QueryRow(r.ctx, `SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = $1)`, rows.srid).Scan(&known); err != nil {
			return err
		}
		if !known {
			return registry.Errorf(registry.EINVALID, "the coordinate system SRID %d is not known to the database: name another with --srs", rows.srid)
		}
		rows.peeked = true
	}
	if _, err := r.tx.Exec(r.ctx, r.sql(create)); err != nil {
		return err
	}
	if _, err := r.tx.CopyFrom(r.ctx, pgx.Identifier{r.staged}, columns, rows); err != nil {
		if rows.fileErr != nil {
			return fileError(rows.fileErr)
		}
		return err
	}
	if rows.fileErr != nil {
		return fileError(rows.fileErr)
	}
	r.done("read")
	if r.rep.Features == 0 {
		return registry.Errorf(registry.EINVALID, "the file holds no features")
	}
	return nil
}

// fileError turns an error that stopped reading the file into EINVALID.
func fileError(err error) error {
	var re *registry.Error
	if errors.As(err, &re) {
		return err
	}
	return &registry.Error{Code: registry.EINVALID, Message: "the file cannot be read: " + err.Error()}
}

// stageSource feeds COPY from a file's features.
type stageSource struct {
	next    func() (stagedRow, error)
	r       *importRun
	every   int
	cur     []any
	srid    int32
	fileErr error
	peeked  bool // cur holds a row read before the copy began
}

func (s *stageSource) Next() bool {
	if s.peeked {
		s.peeked = false
		return true
	}
	for {
		row, err := s.next()
		if err == io.EOF {
			return false
		}
		if err != nil {
			s.fileErr = err
			return false
		}
		s.r.rep.Features++
		if s.r.opt.Progress != nil && s.r.rep.Features%s.every == 0 {
			s.r.opt.Progress("read", s.r.rep.Features, 0)
		}
		if len(row.problems) > 0 {
			for _, d := range row.problems {
				s.r.problem(d)
			}
			continue
		}
		s.cur, s.srid = row.values, row.srid
		return true
	}
}

func (s *stageSource) Values() ([]any, error) { return s.cur, nil }
func (s *stageSource) Err() error             { return s.fileErr }

// check runs every check over the staged plots.
func (im *PlotImporter) check(r *importRun) error {
	ctx, tx := r.ctx, r.tx
	// The plots with the crop and the place resolved (the staging table computed the geometry,
	// validity and area).
	_, err := tx.Exec(ctx, r.sql(`
		CREATE UNLOGGED TABLE import_plot AS
		SELECT s.n, s.external_id, s.geom, s.variety, s.commune, s.sheet, s.parcel, s.land_cert, s.owner,
		       s.owner_id, s.planting_year, s.declared_ha, s.crop AS crop_input, c.code AS crop,
		       s.valid, s.area_ha, pl.province_code, pl.commune_code, m.id AS plot_id, false AS repaired
		FROM import_stage s
		LEFT JOIN plot m ON m.source = `+quoteLiteral(r.opt.Source)+` AND m.external_id = s.external_id AND m.deleted_at IS NULL
		LEFT JOIN (SELECT i.crop AS input, (SELECT code FROM crop
		                                   WHERE code = lower(i.crop) OR fold_key = fold(i.crop) OR lower(name_en) = lower(i.crop) LIMIT 1) AS code
		           FROM (SELECT DISTINCT crop FROM import_stage WHERE crop <> '') i) c ON c.input = s.crop
		CROSS JOIN LATERAL (`+im.placement(r, "s.commune", "s.geom", "s.valid")+`) pl`))
	if err != nil {
		return err
	}
	// The index comes before any UPDATE: an index built over rows this transaction updated
	// (broken HOT chains) cannot be used by the transaction itself.
	if _, err := tx.Exec(ctx, r.sql(`CREATE INDEX ON import_plot USING gist (geom); ANALYZE import_plot`)); err != nil {
		return err
	}
	r.done("transform")
	// Validity: the reason and the place, or a repair when asked.
	if r.opt.OnInvalid == registry.OnInvalidRepair {
		rows, err := tx.Query(ctx, r.sql(`
			WITH fixed AS (
				UPDATE import_plot SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3)), repaired = true, valid = true
				WHERE NOT valid
				RETURNING n, geom, area_ha AS before)
			SELECT f.n, ST_Area(f.geom::geography) / 10000, f.before
			FROM fixed f JOIN import_stage s USING (n) ORDER BY f.n`))
		if err != nil {
			return err
		}
		for rows.Next() {
			var n int
			var after, before float64
			if err := rows.Scan(&n, &after, &before); err != nil {
				rows.Close()
				return err
			}
			r.rep.Repaired++
			r.warn(registry.Detail{Feature: n, Field: "geometry", Message: fmt.Sprintf("invalid geometry repaired: area %s ha before, %s ha after", ftoa(round(before, 4)), ftoa(round(after, 4))),
				Code: "repaired", Args: map[string]string{"before": ftoa(round(before, 4)), "after": ftoa(round(after, 4))}})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	rows, err := tx.Query(ctx, r.sql(`
		SELECT n, (d).reason, ST_X((d).location), ST_Y((d).location)
		FROM (SELECT n, ST_IsValidDetail(geom) AS d FROM import_plot WHERE NOT valid OR ST_IsEmpty(geom)) x ORDER BY n`))
	if err != nil {
		return err
	}
	for rows.Next() {
		var n int
		var reason *string
		var x, y *float64
		if err := rows.Scan(&n, &reason, &x, &y); err != nil {
			rows.Close()
			return err
		}
		msg := "the geometry is empty"
		if reason != nil {
			msg = "invalid geometry: " + cmpOr(validityReasons[*reason], *reason)
			if x != nil && y != nil {
				msg += fmt.Sprintf(" at %s, %s", ftoa(round(*x, 7)), ftoa(round(*y, 7)))
			}
			msg += " (--on-invalid repair fixes it and reports the area change)"
		}
		d := registry.Detail{Feature: n, Field: "geometry", Message: msg, Code: "empty_geometry", Args: map[string]string{}}
		if reason != nil {
			d.Code, d.Args["reason"] = "invalid_geometry", *reason
		}
		if x != nil && y != nil {
			d.Location = []float64{*x, *y}
			d.Args["lon"], d.Args["lat"] = ftoa(round(*x, 7)), ftoa(round(*y, 7))
		}
		r.problem(d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Repaired plots: what was computed from the invalid shape, computed again (they were
	// placed by their commune code only).
	if r.rep.Repaired > 0 {
		if _, err := tx.Exec(ctx, r.sql(`
			UPDATE import_plot i SET area_ha = ST_Area(s.geom::geography) / 10000, province_code = pl.province_code, commune_code = pl.commune_code
			FROM import_plot s CROSS JOIN LATERAL (`+im.placement(r, "s.commune", "s.geom", "s.valid")+`) pl
			WHERE i.n = s.n AND s.repaired`)); err != nil {
			return err
		}
	}
	r.done("validity")
	// Extent, area, crop, commune, duplicates: one pass, one row per problem.
	lim := im.plots.Limits
	b := geo.VietnamBound
	rows, err = tx.Query(ctx, r.sql(`
		SELECT n, field, message, code, args FROM (
		  SELECT n, 'geometry' AS field, format('after conversion to WGS 84 the plot lies outside Vietnam (near %s, %s): check the coordinate system (--province or --srs)', lon, lat) AS message,
		         'outside_vietnam' AS code, jsonb_build_object('lon', lon, 'lat', lat) AS args
		  FROM (SELECT n, round(ST_X(p)::numeric, 5)::text AS lon, round(ST_Y(p)::numeric, 5)::text AS lat
		        FROM (SELECT n, ST_PointOnSurface(geom) AS p FROM import_plot WHERE valid AND NOT ST_Within(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))) o) o
		  UNION ALL
		  SELECT n, 'geometry', format('plot area is %s ha, below the minimum of %s ha: check the units and that the polygon is the whole plot', round(area_ha::numeric, 6), $5::float8),
		         'area_below_min', jsonb_build_object('area', round(area_ha::numeric, 6)::text, 'min', $5::float8::text)
		  FROM import_plot WHERE valid AND $5 > 0 AND area_ha < $5
		  UNION ALL
		  SELECT n, 'geometry', format('plot area is %s ha, above the maximum of %s ha: a plot is one field', round(area_ha::numeric, 2), $6::float8),
		         'area_above_max', jsonb_build_object('area', round(area_ha::numeric, 2)::text, 'max', $6::float8::text)
		  FROM import_plot WHERE valid AND $6 > 0 AND area_ha > $6
		  UNION ALL
		  SELECT n, 'geometry', format('%s positions, more than the limit of %s', ST_NPoints(geom), $7::int),
		         'too_many_vertices', jsonb_build_object('n', ST_NPoints(geom)::text, 'max', $7::int::text)
		  FROM import_plot WHERE $7 > 0 AND ST_NPoints(geom) > $7
		  UNION ALL
		  SELECT n, 'crop', CASE WHEN coalesce(crop_input, '') = ''
		         THEN 'no crop: name the column with --map crop=COLUMN, or give every plot one with --set crop=coffee'
		         ELSE format('unknown crop %L: use a crop of the list (cà phê, sầu riêng, hồ tiêu, chè... see GET /api/v1/crops)', crop_input) END,
		         CASE WHEN coalesce(crop_input, '') = '' THEN 'no_crop' ELSE 'unknown_crop' END, jsonb_build_object('crop', crop_input)
		  FROM import_plot WHERE crop IS NULL
		  UNION ALL
		  SELECT i.n, 'commune', format('commune %L is not a commune code of the 2025 list', i.commune),
		         'unknown_commune', jsonb_build_object('commune', i.commune)
		  FROM import_plot i WHERE i.commune <> '' AND NOT EXISTS (SELECT 1 FROM commune c WHERE c.scheme = 2025 AND c.code = i.commune)
		  UNION ALL
		  SELECT n, 'commune', format('the plot lies in %s, not in commune %s %s (%s), whose boundary is loaded: check the commune code or the coordinates',
		                              coalesce(at_name, 'another place'), commune, named, named_province),
		         'commune_mismatch', jsonb_build_object('commune', commune, 'name', named, 'at', coalesce(at_name, ''))
		  FROM (SELECT i.n, i.commune, c.name AS named, cp.name AS named_province,
		               CASE WHEN a.code IS NOT NULL THEN format('commune %s %s (%s)', a.code, a.name, ap.name)
		                    WHEN v.code IS NOT NULL THEN format('province %s %s', v.code, v.name) END AS at_name,
		               c.boundary IS NOT NULL AND NOT ST_Intersects(c.boundary, pt.g) AS outside,
		               a.code IS NOT NULL AND a.code <> c.code AS elsewhere,
		               v.code IS NOT NULL AND v.code <> c.province_code AS other_province
		        FROM import_plot i
		        JOIN commune c ON c.scheme = 2025 AND c.code = i.commune
		        JOIN province cp ON cp.scheme = 2025 AND cp.code = c.province_code
		        CROSS JOIN LATERAL (SELECT ST_PointOnSurface(i.geom) AS g) pt
		        LEFT JOIN LATERAL (SELECT x.code, x.name, x.province_code FROM commune x
		                           WHERE x.scheme = 2025 AND x.boundary && pt.g AND ST_Intersects(x.boundary, pt.g) LIMIT 1) a ON true
		        LEFT JOIN province ap ON ap.scheme = 2025 AND ap.code = a.province_code
		        LEFT JOIN LATERAL (SELECT y.code, y.name FROM province y
		                           WHERE y.scheme = 2025 AND y.boundary && pt.g AND ST_Intersects(y.boundary, pt.g) LIMIT 1) v ON true
		        WHERE i.valid AND i.commune <> '') m
		  WHERE outside OR elsewhere OR other_province
		  UNION ALL
		  SELECT n, 'id', format('id %L is used by feature %s too: ids must be unique in a file', external_id, first_n),
		         'duplicate_id', jsonb_build_object('id', external_id, 'first', first_n::text)
		  FROM (SELECT n, external_id, min(n) OVER (PARTITION BY external_id) AS first_n FROM import_plot) d WHERE n <> first_n
		) p ORDER BY n, field`), b.Min[0], b.Min[1], b.Max[0], b.Max[1], lim.MinAreaHa, lim.MaxAreaHa, lim.MaxVertices)
	if err != nil {
		return err
	}
	if err := r.collect(rows); err != nil {
		return err
	}
	// Declared areas that disagree: a warning, not a refusal.
	rows, err = tx.Query(ctx, r.sql(`
		SELECT n, 'declared area', format('declared area %s ha differs from the surveyed polygon''s %s ha by %s%%', declared, area, pct),
		       'declared_area', jsonb_build_object('declared', declared, 'area', area, 'pct', pct)
		FROM (SELECT n, round(declared_ha::numeric, 4)::text AS declared, round(area_ha::numeric, 4)::text AS area,
		             round((100 * abs(declared_ha - area_ha) / area_ha)::numeric, 1)::text AS pct
		      FROM import_plot WHERE declared_ha > 0 AND area_ha > 0 AND abs(declared_ha - area_ha) > $1 * area_ha) w ORDER BY n`), r.opt.DeclaredAreaTolerance)
	if err != nil {
		return err
	}
	if err := r.collectTo(rows, r.warn); err != nil {
		return err
	}
	r.done("attributes")
	if err := im.checkOverlaps(r); err != nil {
		return err
	}
	return im.place(r)
}

// collect reports the problems rows holds: feature, field, message, and the message's code
// and arguments, for a user interface to say it in the user's language.
func (r *importRun) collect(rows pgx.Rows) error { return r.collectTo(rows, r.problem) }

// collectTo is collect handing each detail to add (r.problem or r.warn).
func (r *importRun) collectTo(rows pgx.Rows, add func(registry.Detail)) error {
	defer rows.Close()
	for rows.Next() {
		var d registry.Detail
		if err := rows.Scan(&d.Feature, &d.Field, &d.Message, &d.Code, &d.Args); err != nil {
			return err
		}
		add(d)
	}
	return rows.Err()
}

// checkOverlaps reports plots whose interiors overlap another plot of the file, or a plot
// already registered (other than the one the feature replaces), by the overlap rule that plots
// written one at a time follow too (overlap.go): by more than the tolerance share of the
// smaller one, so that neighbours that share an edge, or overlap by a survey sliver, pass.
func (im *PlotImporter) checkOverlaps(r *importRun) error {
	ctx, tx := r.ctx, r.tx
	rows, err := tx.Query(ctx, r.sql(`
		SELECT n, 'geometry', format('overlaps feature %s by %s m² (%s%% of the smaller plot)', other, m2, pct),
		       'overlap_feature', jsonb_build_object('other', other, 'm2', m2, 'pct', pct)
		FROM (SELECT b.n, a.n::text AS other, round(o.m2::numeric, 1)::text AS m2, round(`+overlapPctSQL("o.m2", "a.area_ha", "b.area_ha")+`::numeric, 1)::text AS pct
		FROM import_plot a
		JOIN import_plot b ON a.n < b.n AND a.geom && b.geom AND b.valid
		CROSS JOIN LATERAL (SELECT `+overlapM2SQL("ST_Intersection(a.geom, b.geom)")+` AS m2) o
		WHERE a.valid AND `+interiorsOverlapSQL("a.geom", "b.geom")+`
		  AND `+overlapBlocksSQL("o.m2", "a.area_ha", "b.area_ha", "$1")+`) x
		ORDER BY n`), r.opt.OverlapTolerance)
	if err != nil {
		return err
	}
	if err := r.collect(rows); err != nil {
		return err
	}
	rows, err = tx.Query(ctx, r.sql(`
		SELECT n, 'geometry', format('overlaps registered plot %s%s by %s m² (%s%% of the smaller plot)', plot, CASE WHEN ref <> '' THEN ' (' || ref || ')' ELSE '' END, m2, pct),
		       'overlap_registered', jsonb_build_object('plot', plot, 'ref', ref, 'm2', m2, 'pct', pct)
		FROM (SELECT i.n, p.id::text AS plot, CASE WHEN p.external_id IS NOT NULL THEN concat_ws(' ', nullif(p.source, ''), p.external_id) ELSE '' END AS ref,
		             round(o.m2::numeric, 1)::text AS m2, round(`+overlapPctSQL("o.m2", "i.area_ha", "p.area_ha")+`::numeric, 1)::text AS pct
		FROM import_plot i
		JOIN plot p ON p.geom && i.geom AND p.deleted_at IS NULL
		CROSS JOIN LATERAL (SELECT `+overlapM2SQL("ST_Intersection(i.geom, p.geom)")+` AS m2) o
		WHERE i.valid AND NOT (p.source = $2 AND p.external_id = i.external_id)
		  AND `+interiorsOverlapSQL("i.geom", "p.geom")+`
		  AND `+overlapBlocksSQL("o.m2", "i.area_ha", "p.area_ha", "$1")+`) x
		ORDER BY n`), r.opt.OverlapTolerance, r.opt.Source)
	if err != nil {
		return err
	}
	if err := r.collect(rows); err != nil {
		return err
	}
	r.done("overlaps")
	return nil
}

// placement is a subquery giving the province_code and commune_code of a plot, from the row's
// commune code, geometry and validity: the commune the code names; else the 2025 commune whose
// boundary holds a point of the plot; else the province that does; else --province or the
// configured default. Invalid plots are placed by their commune code only.
func (im *PlotImporter) placement(r *importRun, commune, geom, valid string) string {
	return placementSQL(cmpOr(r.opt.Province, im.plots.DefaultProvince), commune, geom, valid)
}

// placementSQL is the placement subquery with fallback as the province of last resort.
func placementSQL(fallback, commune, geom, valid string) string {
	return fmt.Sprintf(`
		SELECT coalesce(bc.province_code, bp.province_code, CASE WHEN %[3]s THEN coalesce(bv.code, nullif(%[4]s, '')) END) AS province_code,
		       coalesce(bc.code, bp.code) AS commune_code
		FROM (SELECT CASE WHEN %[3]s THEN ST_PointOnSurface(%[2]s) END AS pos OFFSET 0) p
		LEFT JOIN LATERAL (SELECT c.code, c.province_code FROM commune c
		                   WHERE %[1]s <> '' AND c.scheme = 2025 AND c.code = %[1]s) bc ON true
		LEFT JOIN LATERAL (SELECT c.code, c.province_code FROM commune c
		                   WHERE bc.code IS NULL AND p.pos IS NOT NULL AND c.scheme = 2025 AND c.boundary && p.pos
		                     AND ST_Intersects(c.boundary, p.pos) LIMIT 1) bp ON true
		LEFT JOIN LATERAL (SELECT v.code FROM province v
		                   WHERE bc.code IS NULL AND bp.code IS NULL AND p.pos IS NOT NULL AND v.scheme = 2025 AND v.boundary && p.pos
		                     AND ST_Intersects(v.boundary, p.pos) LIMIT 1) bv ON true`, commune, geom, valid, quoteLiteral(fallback))
}

// quoteLiteral is s as an SQL string literal (CREATE TABLE AS takes no parameters).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// place checks where the plots lie (placement resolved it while they were staged): in the
// province --province names, and where the caller may write.
func (im *PlotImporter) place(r *importRun) error {
	if err := r.checkPlace("import_plot", "valid", "plot"); err != nil {
		return err
	}
	// The registered plots the file would change: the actor must hold them too, where they are
	// now (before) as well as where the file puts them (checkPlace, after). Their ids are public,
	// so without this a file could take over another province's plots.
	if err := r.checkExisting(`
		SELECT i.n, 'plot', p.id, coalesce(p.province_code, ''), coalesce(p.commune_code, ''), p.producer_id, o.cooperative_id,
		       concat_ws(' ', p.source, p.external_id)
		FROM import_plot i JOIN plot p ON p.id = i.plot_id LEFT JOIN producer o ON o.id = p.producer_id ORDER BY i.n`, registry.PlotAccess); err != nil {
		return err
	}
	r.done("placement")
	return nil
}

// checkExisting reports the registered objects a file names (query gives feature, object type,
// id, province, commune, owner, owner's cooperative, and how the file names it) that the actor
// may not change where they are now, and keeps them for the audit log.
func (r *importRun) checkExisting(query string, access func(registry.Actor, registry.Place) registry.Access) error {
	if r.actor.Role == registry.RoleAdmin {
		return nil
	}
	rows, err := r.tx.Query(r.ctx, r.sql(query))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var n int
		var id int64
		var pl registry.Place
		var what, ref string
		if err := rows.Scan(&n, &what, &id, &pl.ProvinceCode, &pl.CommuneCode, &pl.OwnerID, &pl.OwnerCooperativeID, &ref); err != nil {
			return err
		}
		if access(r.actor, pl) >= registry.AccessWrite {
			continue
		}
		r.denied = append(r.denied, deniedObject{objectType: what, id: id, province: pl.ProvinceCode, commune: pl.CommuneCode, feature: n})
		r.problem(registry.Detail{Feature: n, Field: "id", Message: fmt.Sprintf("the file's id names registered %s %d (%s) in province %s, commune %s, outside your jurisdiction: it would change it; use another source name, or ask that province's officers",
			strings.ReplaceAll(what, "_", " "), id, ref, cmpOr(pl.ProvinceCode, "(none)"), cmpOr(pl.CommuneCode, "(none)")),
			Code: "existing_outside_jurisdiction", Args: map[string]string{"what": what, "id": fmt.Sprint(id), "province": pl.ProvinceCode, "commune": pl.CommuneCode}})
	}
	return rows.Err()
}

// checkPlace reports the rows of table (those where cond holds) that lie outside the province
// --province names, or outside the actor's jurisdiction; what names them ("plot").
func (r *importRun) checkPlace(table, cond, what string) error {
	if r.opt.Province != "" {
		rows, err := r.tx.Query(r.ctx, r.sql(fmt.Sprintf(`SELECT n, 'geometry', format('the %[1]s lies in province %%s, not %%s (--province)', province_code, $1::text),
			'outside_province', jsonb_build_object('province', province_code, 'asked', $1::text)
			FROM %[2]s WHERE %[3]s AND province_code <> $1 ORDER BY n`, what, table, cond)), r.opt.Province)
		if err != nil {
			return err
		}
		if err := r.collect(rows); err != nil {
			return err
		}
	}
	if r.actor.Role == registry.RoleAdmin {
		return nil
	}
	rows, err := r.tx.Query(r.ctx, r.sql(fmt.Sprintf(`SELECT n, coalesce(province_code, ''), coalesce(commune_code, '') FROM %s WHERE %s ORDER BY n`, table, cond)))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var n int
		var pl registry.Place
		if err := rows.Scan(&n, &pl.ProvinceCode, &pl.CommuneCode); err != nil {
			return err
		}
		if registry.PlotAccess(r.actor, pl) < registry.AccessWrite {
			r.problem(registry.Detail{Feature: n, Field: "geometry", Message: fmt.Sprintf("the %s lies in province %s, commune %s: outside your jurisdiction",
				what, cmpOr(pl.ProvinceCode, "(unknown)"), cmpOr(pl.CommuneCode, "(unknown)")),
				Code: "outside_jurisdiction", Args: map[string]string{"province": pl.ProvinceCode, "commune": pl.CommuneCode}})
		}
	}
	return rows.Err()
}

// refused lists the numbers of the features refused.
func (r *importRun) refused() []int32 {
	bad := make([]int32, 0, len(r.bad))
	for n := range r.bad {
		bad = append(bad, int32(n))
	}
	return bad
}

// write moves the checked plots into the registry: owners as household producers, changed
// plots as new versions, new plots inserted; then one audit entry and the tile invalidation.
func (im *PlotImporter) write(r *importRun) error {
	ctx, tx := r.ctx, r.tx
	actor := actorName(ctx)
	if len(r.bad) > 0 {
		if _, err := tx.Exec(ctx, r.sql(`DELETE FROM import_plot WHERE n = ANY($1)`), r.refused()); err != nil {
			return err
		}
	}
	// Owners: matched by citizen ID anywhere in the registry, else by their folded name within
	// this source; new ones become household producers. A file names far fewer owners than
	// plots, so they are worked out once each, in a table of their own, and the plots join it
	// when they are written.
	if _, err := tx.Exec(ctx, r.sql(`
		CREATE UNLOGGED TABLE import_owner AS
		SELECT owner, owner_id, CASE WHEN owner_id <> '' THEN 'cccd:' || owner_id ELSE 'owner:' || fold(owner) END AS key,
		       min(n) AS n, NULL::bigint AS producer_id
		FROM import_plot WHERE owner <> '' GROUP BY owner, owner_id`)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, r.sql(`
		UPDATE import_owner o SET producer_id = p.id FROM producer p
		WHERE o.owner_id <> '' AND p.citizen_id = o.owner_id AND p.deleted_at IS NULL`)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, r.sql(`
		INSERT INTO producer (kind, name, citizen_id, province_code, commune_code, source, external_id, created_by, updated_by)
		SELECT DISTINCT ON (o.key) 'household', o.owner, nullif(o.owner_id, ''), i.province_code, i.commune_code, $1, o.key, $2, $2
		FROM import_owner o JOIN import_plot i USING (n)
		WHERE o.producer_id IS NULL
		ORDER BY o.key, o.n
		ON CONFLICT DO NOTHING`), r.opt.Source, actor); err != nil {
		return mapError(err)
	}
	if _, err := tx.Exec(ctx, r.sql(`
		UPDATE import_owner o SET producer_id = p.id FROM producer p
		WHERE o.producer_id IS NULL AND p.source = $1 AND p.external_id = o.key`), r.opt.Source); err != nil {
		return err
	}
	// The file's extent (for the report), and that with the places the changed plots leave (for
	// the tiles). The plots this source already has were matched when the file was staged.
	var extent, own [4]*float64
	if err := tx.QueryRow(ctx, r.sql(`
		WITH f AS (SELECT ST_Extent(geom) AS e FROM import_plot),
		     a AS (SELECT ST_Extent(e) AS e FROM (SELECT e FROM f UNION ALL SELECT p.geom::box2d FROM plot p JOIN import_plot i ON p.id = i.plot_id) x)
		SELECT ST_XMin(a.e), ST_YMin(a.e), ST_XMax(a.e), ST_YMax(a.e), ST_XMin(f.e), ST_YMin(f.e), ST_XMax(f.e), ST_YMax(f.e) FROM a, f`)).
		Scan(&extent[0], &extent[1], &extent[2], &extent[3], &own[0], &own[1], &own[2], &own[3]); err != nil {
		return err
	}
	if own[0] != nil {
		r.rep.BBox = []float64{*own[0], *own[1], *own[2], *own[3]}
	}
	// What the file changes in registered plots: the new values, where they differ. A column the
	// file leaves empty keeps the registry's value (a survey without cadastral numbers does not
	// erase them).
	if _, err := tx.Exec(ctx, r.sql(`
		CREATE UNLOGGED TABLE import_next AS
		SELECT i.n, p.id, i.external_id, x.*
		FROM import_plot i JOIN plot p ON p.id = i.plot_id
		LEFT JOIN import_owner o USING (owner, owner_id)
		CROSS JOIN LATERAL (SELECT i.geom, i.crop, coalesce(nullif(i.variety, ''), p.variety) AS variety,
		                           coalesce(o.producer_id, p.producer_id) AS producer_id, i.province_code, i.commune_code,
		                           coalesce(i.planting_year, p.planting_year) AS planting_year,
		                           coalesce(nullif(i.sheet, ''), p.cadastral_sheet) AS cadastral_sheet,
		                           coalesce(nullif(i.parcel, ''), p.cadastral_parcel) AS cadastral_parcel,
		                           coalesce(nullif(i.land_cert, ''), p.land_cert_no) AS land_cert_no) x
		WHERE (p.geom, p.crop, p.variety, p.producer_id, p.province_code, p.commune_code, p.planting_year,
		       p.cadastral_sheet, p.cadastral_parcel, p.land_cert_no) IS DISTINCT FROM
		      (x.geom, x.crop, x.variety, x.producer_id, x.province_code, x.commune_code, x.planting_year,
		       x.cadastral_sheet, x.cadastral_parcel, x.land_cert_no)`)); err != nil {
		return mapError(err)
	}
	if err := im.reportChanges(r); err != nil {
		return err
	}
	// The changes, each audited with the plot before and after and its province (and, for a
	// plot that leaves its province, once more with the province it leaves).
	var updated int64
	err := tx.QueryRow(ctx, r.sql(`
		WITH cur AS (SELECT p.id, p.province_code, p.commune_code, to_jsonb(p) AS before FROM plot p JOIN import_next x ON x.id = p.id),
		     upd AS (UPDATE plot p SET geom = x.geom, crop = x.crop, variety = x.variety, producer_id = x.producer_id,
		                    province_code = x.province_code, commune_code = x.commune_code, planting_year = x.planting_year,
		                    cadastral_sheet = x.cadastral_sheet, cadastral_parcel = x.cadastral_parcel, land_cert_no = x.land_cert_no,
		                    version = p.version + 1, updated_at = now(), updated_by = $1
		             FROM import_next x WHERE p.id = x.id
		             RETURNING p.*),
		     aud AS (INSERT INTO audit_log (actor, actor_role, actor_user_id, action, outcome, reason, object_type, object_id,
		                                    province_code, commune_code, request_id, before, after)
		             SELECT $1, nullif($2, ''), $3, 'plot.import', 'ok', r.reason, 'plot', u.id::text, r.province, r.commune,
		                    nullif($5, ''), c.before, to_jsonb(u)
		             FROM upd u JOIN cur c ON c.id = u.id
		             CROSS JOIN LATERAL (VALUES ($4::text, u.province_code, u.commune_code),
		                                        ($4 || ': moved to province ' || coalesce(u.province_code, '?'), c.province_code, c.commune_code)) r(reason, province, commune)
		             WHERE r.reason = $4 OR c.province_code IS DISTINCT FROM u.province_code
		             RETURNING 1)
		SELECT count(*) FROM upd`), actor, r.actor.Role, nullID(r.actor.UserID), "import of "+r.opt.Source, registry.RequestIDFromContext(ctx)).Scan(&updated)
	if err != nil {
		return mapError(err)
	}
	r.rep.Updated = int(updated)
	var matched int
	if err := tx.QueryRow(ctx, r.sql(`SELECT count(*) FROM import_plot WHERE plot_id IS NOT NULL`)).Scan(&matched); err != nil {
		return err
	}
	r.rep.Unchanged = matched - r.rep.Updated
	r.done("update")
	rebuild, err := im.bulkLoad(r, r.rep.Features-len(r.bad)-matched)
	if err != nil {
		return err
	}
	// New plots go in along the Hilbert curve PostGIS sorts geometries by (their boxes'
	// centres), so that neighbours share pages for the map's tile queries; that sort needs no
	// computed key, and enough memory to stay off the disk for a big file.
	if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '256MB'`); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, r.sql(`
		INSERT INTO plot (producer_id, province_code, commune_code, crop, variety, planting_year, cadastral_sheet, cadastral_parcel,
		                  land_cert_no, source, external_id, geom, created_by, updated_by)
		SELECT o.producer_id, i.province_code, i.commune_code, i.crop, nullif(i.variety, ''), i.planting_year, nullif(i.sheet, ''), nullif(i.parcel, ''),
		       nullif(i.land_cert, ''), $1, i.external_id, i.geom, $2, $2
		FROM import_plot i LEFT JOIN import_owner o USING (owner, owner_id) WHERE i.plot_id IS NULL
		ORDER BY i.geom`), r.opt.Source, actor)
	if err != nil {
		return mapError(err)
	}
	r.rep.Added = int(tag.RowsAffected())
	r.done("insert")
	if rebuild != nil {
		if err := rebuild(); err != nil {
			return mapError(err)
		}
		r.done("indexes")
	}
	// One summary for each province the new plots lie in, so that each province's officers see
	// what arrived there (changed plots have an entry each, written with the change).
	rows, err := tx.Query(ctx, r.sql(`SELECT coalesce(province_code, ''), count(*) FROM import_plot WHERE plot_id IS NULL GROUP BY 1 ORDER BY 1`))
	if err != nil {
		return err
	}
	added := map[string]int{}
	for rows.Next() {
		var province string
		var n int
		if err := rows.Scan(&province, &n); err != nil {
			rows.Close()
			return err
		}
		added[province] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(added) == 0 {
		added[r.opt.Province] = 0
	}
	for province, n := range added {
		summary, _ := json.Marshal(map[string]any{"source": r.opt.Source, "about": r.opt.Describe, "features": r.rep.Features,
			"added": r.rep.Added, "added_here": n, "updated": r.rep.Updated, "unchanged": r.rep.Unchanged, "skipped": r.rep.Skipped,
			"repaired": r.rep.Repaired, "on_invalid": r.opt.OnInvalid})
		if err := audit(ctx, tx, auditEntry{Action: "plot.import", ObjectType: "import", Province: province, After: summary}); err != nil {
			return err
		}
	}
	if extent[0] != nil && (r.rep.Added > 0 || r.rep.Updated > 0) {
		return im.db.changed(ctx, tx, registry.ChangePlot, orb.Bound{Min: orb.Point{*extent[0], *extent[1]}, Max: orb.Point{*extent[2], *extent[3]}})
	}
	return nil
}

// reportChanges lists, plot by plot, what the file changes in registered plots (import_next
// holds their new values): how far the boundary moves, the area, crop, commune and owner.
func (im *PlotImporter) reportChanges(r *importRun) error {
	rows, err := r.tx.Query(r.ctx, r.sql(`
		SELECT x.n, x.id, x.external_id,
		       CASE WHEN p.geom = x.geom THEN 0 ELSE
		         round((ST_HausdorffDistance(ST_Transform(p.geom, 3857), ST_Transform(x.geom, 3857)) * cos(radians(ST_Y(ST_Centroid(p.geom)))))::numeric, 1)::float8 END,
		       p.area_ha, ST_Area(x.geom::geography) / 10000, p.crop, x.crop, coalesce(p.commune_code, ''), coalesce(x.commune_code, ''),
		       p.producer_id IS DISTINCT FROM x.producer_id,
		       array_remove(ARRAY[
		         CASE WHEN p.variety IS DISTINCT FROM x.variety THEN 'variety' END,
		         CASE WHEN p.planting_year IS DISTINCT FROM x.planting_year THEN 'planting_year' END,
		         CASE WHEN p.cadastral_sheet IS DISTINCT FROM x.cadastral_sheet THEN 'cadastral_sheet' END,
		         CASE WHEN p.cadastral_parcel IS DISTINCT FROM x.cadastral_parcel THEN 'cadastral_parcel' END,
		         CASE WHEN p.land_cert_no IS DISTINCT FROM x.land_cert_no THEN 'land_cert_no' END,
		         CASE WHEN p.province_code IS DISTINCT FROM x.province_code THEN 'province_code' END], NULL)
		FROM import_next x JOIN plot p ON p.id = x.id ORDER BY x.n LIMIT $1`), maxReported)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c registry.PlotChange
		if err := rows.Scan(&c.Feature, &c.Plot, &c.ExternalID, &c.MovedM, &c.AreaBefore, &c.AreaAfter, &c.CropBefore, &c.CropAfter,
			&c.CommuneBefore, &c.CommuneAfter, &c.OwnerChanged, &c.Other); err != nil {
			return err
		}
		c.AreaBefore, c.AreaAfter = round(c.AreaBefore, 4), round(c.AreaAfter, 4)
		r.rep.Changes = append(r.rep.Changes, c)
	}
	return rows.Err()
}

// nullID is id, or NULL for 0.
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// bulkLoad readies plot for the insert of n new plots. When they are at least BulkMin and
// outnumber the rows plot already holds, it drops plot's secondary indexes and foreign keys, and
// returns the function that creates them again, from their own definitions in the catalog, after
// the insert: building an index over sorted rows once costs a fraction of updating it a million
// times, and a foreign key added back is checked by one join instead of one query per row. All
// of it happens inside the import's transaction, so a failed import restores them with
// everything else. The price is that plot is locked for the rest of the import (the map waits
// for its tiles); an import smaller than the registry, and any import by a role that does not
// own plot, inserts row by row and locks nothing but its own rows.
func (im *PlotImporter) bulkLoad(r *importRun, n int) (rebuild func() error, err error) {
	if im.BulkMin <= 0 || n < im.BulkMin {
		return nil, nil
	}
	ctx, tx := r.ctx, r.tx
	var owner bool
	var rows int
	if err := tx.QueryRow(ctx, `SELECT pg_has_role(c.relowner, 'MEMBER'), (SELECT count(*) FROM (SELECT FROM plot LIMIT $1) x)
		FROM pg_class c WHERE c.oid = 'plot'::regclass`, n).Scan(&owner, &rows); err != nil {
		return nil, err
	}
	if !owner || rows >= n {
		return nil, nil
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE plot IN ACCESS EXCLUSIVE MODE`); err != nil {
		return nil, err
	}
	// Indexes that no constraint owns (the primary key stays), then foreign keys.
	var drops, creates []string
	q, err := tx.Query(ctx, `
		SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
		FROM pg_index i WHERE i.indrelid = 'plot'::regclass
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)
		UNION ALL
		SELECT format('ALTER TABLE plot DROP CONSTRAINT %I', conname), format('ALTER TABLE plot ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid))
		FROM pg_constraint WHERE conrelid = 'plot'::regclass AND contype = 'f'`)
	if err != nil {
		return nil, err
	}
	for q.Next() {
		var drop, create string
		if err := q.Scan(&drop, &create); err != nil {
			q.Close()
			return nil, err
		}
		drops, creates = append(drops, drop), append(creates, create)
	}
	q.Close()
	if err := q.Err(); err != nil {
		return nil, err
	}
	for _, d := range drops {
		if _, err := tx.Exec(ctx, d); err != nil {
			return nil, err
		}
	}
	return func() error {
		if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
			return err
		}
		for _, c := range creates {
			if _, err := tx.Exec(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

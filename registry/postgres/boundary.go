package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/vntext"
)

// BoundaryImporter stores the commune and province boundaries of a file (--layer admin) in one
// transaction. The official lists give codes and names only; a province's survey department
// has the shapes, and placing plots by where they lie needs them. A feature names its unit by
// its code in the 2025 list (5 digits: a commune, 2: a province); the checks are the plots'
// (validity with its reason and place, the extent of Vietnam) plus a code the list knows, and a
// name that matches the list's is expected (a warning otherwise). Several features with one
// code are parts of one unit and are joined. Only administrators import boundaries: every
// officer's jurisdiction and every plot's placement follows them.
type BoundaryImporter struct {
	db *DB
}

var _ registry.BoundaryImporter = (*BoundaryImporter)(nil)

// NewBoundaryImporter returns a boundary importer.
func NewBoundaryImporter(db *DB) *BoundaryImporter { return &BoundaryImporter{db: db} }

// ImportBoundaries implements registry.BoundaryImporter.
func (im *BoundaryImporter) ImportBoundaries(ctx context.Context, src registry.BoundarySource, opt registry.ImportOptions) (*registry.ImportReport, error) {
	if err := checkOnInvalid(&opt); err != nil {
		return nil, err
	}
	opt.Source = vntext.Clean(opt.Source)
	actor, _ := registry.ActorFromContext(ctx)
	if actor.Role != registry.RoleAdmin {
		return nil, registry.Errorf(registry.EFORBIDDEN, "your role (%s) may not import administrative boundaries: they decide every plot's place and every officer's jurisdiction, so administrators import them", cmpOr(actor.Role, "public"))
	}
	return im.db.runImport(ctx, opt, actor, importSteps{
		layer: "admin", action: "admin.import", setup: `SET LOCAL jit = off`,
		stage: func(r *importRun) error { return im.stage(r, src) },
		check: im.check, write: im.write,
		drop: `import_stage`,
	})
}

func (im *BoundaryImporter) stage(r *importRun, src registry.BoundarySource) error {
	return r.copyIn(`
		CREATE UNLOGGED TABLE import_stage (
			n int NOT NULL, code text NOT NULL, name text NOT NULL, srid int NOT NULL, wkb bytea NOT NULL,
			geom geometry GENERATED ALWAYS AS (`+stageGeom+`) STORED,
			valid boolean GENERATED ALWAYS AS (ST_IsValid(`+stageGeom+`)) STORED
		)`, []string{"n", "code", "name", "srid", "wkb"}, 100, func() (stagedRow, error) {
		b, err := src.Next()
		if err != nil {
			return stagedRow{}, err
		}
		return stagedRow{srid: int32(b.SRID), problems: b.Problems, values: []any{int32(b.N), b.Code, b.Name, int32(b.SRID), b.WKB}}, nil
	})
}

// check reports every problem at once: codes, validity (or repairs), extent; and warns of names
// that differ from the list's and of units in several parts.
func (im *BoundaryImporter) check(r *importRun) error {
	ctx, tx := r.ctx, r.tx
	repair := r.opt.OnInvalid == registry.OnInvalidRepair
	b := geo.VietnamBound
	rows, err := tx.Query(ctx, r.sql(`
		SELECT n, field, message, x, y FROM (
		  SELECT n, 'code' AS field, CASE
		           WHEN code = '' THEN 'no code: name the column that holds the commune or province code with --map code=COLUMN'
		           WHEN code !~ '^([0-9]{2}|[0-9]{5})$' THEN format('code %L is neither a province code (2 digits) nor a commune code (5 digits) of the 2025 list', code)
		           WHEN length(code) = 2 THEN format('province %L is not in the 2025 list', code)
		           ELSE format('commune %L is not in the 2025 list', code) END AS message, NULL::float8 AS x, NULL::float8 AS y
		  FROM import_stage s
		  WHERE NOT EXISTS (SELECT 1 FROM commune c WHERE c.scheme = 2025 AND c.code = s.code)
		    AND NOT EXISTS (SELECT 1 FROM province v WHERE v.scheme = 2025 AND v.code = s.code)
		  UNION ALL
		  SELECT n, 'geometry', 'invalid geometry: ' || coalesce((d).reason, 'empty'), ST_X((d).location), ST_Y((d).location)
		  FROM (SELECT n, ST_IsValidDetail(geom) AS d FROM import_stage WHERE NOT valid AND NOT $5) i
		  UNION ALL
		  SELECT n, 'geometry', 'after conversion to WGS 84 the boundary is not within Vietnam: check the coordinate system (--province or --srs)', NULL, NULL
		  FROM import_stage WHERE NOT ST_Within(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))
		) p ORDER BY n, field`), b.Min[0], b.Min[1], b.Max[0], b.Max[1], repair)
	if err != nil {
		return err
	}
	for rows.Next() {
		var d registry.Detail
		var x, y *float64
		if err := rows.Scan(&d.Feature, &d.Field, &d.Message, &x, &y); err != nil {
			rows.Close()
			return err
		}
		if reason, ok := strings.CutPrefix(d.Message, "invalid geometry: "); ok {
			d.Message = "invalid geometry: " + cmpOr(validityReasons[reason], reason)
			if x != nil && y != nil {
				d.Message += fmt.Sprintf(" at %s, %s", ftoa(round(*x, 7)), ftoa(round(*y, 7)))
				d.Location = []float64{*x, *y}
			}
			d.Message += " (--on-invalid repair fixes it)"
		}
		r.problem(d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Warnings: a name other than the list's, a unit in several parts, a repaired shape.
	rows, err = tx.Query(ctx, r.sql(`
		SELECT n, field, message, '', '{}'::jsonb FROM (
		  SELECT s.n, 'name' AS field, format('the file names %s %s %L, the 2025 list %L', u.level, s.code, s.name, u.name) AS message
		  FROM import_stage s
		  JOIN (SELECT 'commune' AS level, code, name FROM commune WHERE scheme = 2025
		        UNION ALL SELECT 'province', code, name FROM province WHERE scheme = 2025) u ON u.code = s.code
		  WHERE s.name <> '' AND fold(s.name) <> fold(u.name)
		  UNION ALL
		  SELECT n, 'code', format('%s features have code %s: their shapes are joined into one boundary', parts, code)
		  FROM (SELECT n, code, count(*) OVER (PARTITION BY code) AS parts FROM import_stage WHERE code <> '') p WHERE parts > 1
		  UNION ALL
		  SELECT n, 'geometry', format('invalid geometry repaired (%s)', coalesce((ST_IsValidDetail(geom)).reason, 'empty'))
		  FROM import_stage WHERE NOT valid AND $1
		) w ORDER BY n, field`), repair)
	if err != nil {
		return err
	}
	if err := r.collectTo(rows, func(d registry.Detail) {
		if d.Field == "geometry" {
			r.rep.Repaired++
		}
		r.warn(d)
	}); err != nil {
		return err
	}
	r.done("checks")
	return nil
}

// write sets the boundaries: each code's features (repaired when asked, the refused ones left
// out) joined, a unit whose boundary is already that shape left alone.
func (im *BoundaryImporter) write(r *importRun) error {
	ctx, tx := r.ctx, r.tx
	if _, err := tx.Exec(ctx, r.sql(`
		CREATE TEMP TABLE import_unit ON COMMIT DROP AS
		SELECT code, CASE WHEN count(*) = 1 THEN (array_agg(g))[1] ELSE ST_Multi(ST_CollectionExtract(ST_Union(g), 3)) END AS geom
		FROM (SELECT code, CASE WHEN valid THEN geom ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3)) END AS g
		      FROM import_stage WHERE n <> ALL ($1)) s
		GROUP BY code`), r.refused()); err != nil {
		return err
	}
	var communes, provinces, units int
	var extent [4]*float64
	if err := tx.QueryRow(ctx, `
		WITH c AS (UPDATE commune c SET boundary = u.geom FROM import_unit u
		           WHERE c.scheme = 2025 AND c.code = u.code AND c.boundary IS DISTINCT FROM u.geom RETURNING u.geom),
		     v AS (UPDATE province v SET boundary = u.geom FROM import_unit u
		           WHERE v.scheme = 2025 AND v.code = u.code AND v.boundary IS DISTINCT FROM u.geom RETURNING u.geom),
		     e AS (SELECT ST_Extent(geom) AS e FROM (SELECT geom FROM c UNION ALL SELECT geom FROM v) x)
		SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM v), (SELECT count(*) FROM import_unit),
		       ST_XMin(e.e), ST_YMin(e.e), ST_XMax(e.e), ST_YMax(e.e) FROM e`).
		Scan(&communes, &provinces, &units, &extent[0], &extent[1], &extent[2], &extent[3]); err != nil {
		return mapError(err)
	}
	if _, err := tx.Exec(ctx, `DROP TABLE import_unit`); err != nil {
		return err
	}
	r.rep.Updated = communes + provinces
	r.rep.Unchanged = units - r.rep.Updated
	if extent[0] != nil {
		r.rep.BBox = []float64{*extent[0], *extent[1], *extent[2], *extent[3]}
	}
	r.done("write")
	summary, _ := json.Marshal(map[string]any{"source": r.opt.Source, "about": r.opt.Describe, "features": r.rep.Features,
		"communes": communes, "provinces": provinces, "unchanged": r.rep.Unchanged, "skipped": r.rep.Skipped, "repaired": r.rep.Repaired})
	if err := audit(ctx, tx, auditEntry{Action: "admin.import", ObjectType: "import", After: summary}); err != nil {
		return err
	}
	if extent[0] == nil {
		return nil
	}
	bound := orb.Bound{Min: orb.Point{*extent[0], *extent[1]}, Max: orb.Point{*extent[2], *extent[3]}}
	if communes > 0 {
		if err := im.db.changed(ctx, tx, registry.ChangeCommune, bound); err != nil {
			return err
		}
	}
	if provinces > 0 {
		return im.db.changed(ctx, tx, registry.ChangeProvince, bound)
	}
	return nil
}

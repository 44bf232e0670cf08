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

// FacilityImporter stores the facilities of a file (--layer facilities: livestock farms, feed
// mills and packing houses, each a point with its kind) in one transaction, as PlotImporter
// stores plots: every problem reported at once, nothing stored on any (unless skipping), the
// same file again changing nothing, changed facilities updated as new versions. A facility is
// placed as a plot is: by its commune code, else the boundary that holds it, else --province
// or the configured default; officers import in their jurisdiction only.
type FacilityImporter struct {
	db              *DB
	defaultProvince string
}

var _ registry.FacilityImporter = (*FacilityImporter)(nil)

// NewFacilityImporter returns a facility importer placing what nothing else places in
// defaultProvince.
func NewFacilityImporter(db *DB, defaultProvince string) *FacilityImporter {
	return &FacilityImporter{db: db, defaultProvince: defaultProvince}
}

// facilityTables are the registry's table and change kind for each facility kind.
var facilityTables = []struct{ kind, table, change string }{
	{registry.FacilityLivestock, "livestock_facility", registry.ChangeLivestock},
	{registry.FacilityFeedMill, "feed_facility", registry.ChangeFeedMill},
	{registry.FacilityPackingHouse, "packing_house", registry.ChangePackingHouse},
}

// ImportFacilities implements registry.FacilityImporter.
func (im *FacilityImporter) ImportFacilities(ctx context.Context, src registry.FacilitySource, opt registry.ImportOptions) (*registry.ImportReport, error) {
	if err := checkOnInvalid(&opt); err != nil {
		return nil, err
	}
	if opt.OnInvalid == registry.OnInvalidRepair {
		opt.OnInvalid = registry.OnInvalidReject // a point has nothing to repair
	}
	opt.Source = vntext.Clean(opt.Source)
	actor, _ := registry.ActorFromContext(ctx)
	if actor.Role != registry.RoleAdmin && actor.Role != registry.RoleOfficer {
		return nil, registry.Errorf(registry.EFORBIDDEN, "your role (%s) may not import facilities: officers import them for their provinces", cmpOr(actor.Role, "public"))
	}
	return im.db.runImport(ctx, opt, actor, importSteps{
		layer: "facilities", action: "facility.import", setup: `SET LOCAL jit = off`,
		stage: func(r *importRun) error { return im.stage(r, src) },
		check: im.check, write: im.write,
		drop: `import_stage`,
	})
}

func (im *FacilityImporter) stage(r *importRun, src registry.FacilitySource) error {
	return r.copyIn(`
		CREATE UNLOGGED TABLE import_stage (
			n int NOT NULL, external_id text NOT NULL, kind text NOT NULL, name text NOT NULL, address text NOT NULL,
			code text NOT NULL, commune text NOT NULL, srid int NOT NULL, wkb bytea NOT NULL,
			geom geometry GENERATED ALWAYS AS (CASE WHEN srid = 4326 THEN ST_GeomFromWKB(wkb, 4326) ELSE ST_Transform(ST_GeomFromWKB(wkb, srid), 4326) END) STORED,
			province_code text, commune_code text
		)`, []string{"n", "external_id", "kind", "name", "address", "code", "commune", "srid", "wkb"}, 1000, func() (stagedRow, error) {
		f, err := src.Next()
		if err != nil {
			return stagedRow{}, err
		}
		return stagedRow{srid: int32(f.SRID), problems: f.Problems, values: []any{int32(f.N), f.ExternalID, f.Kind, f.Name, f.Address,
			f.Code, f.Commune, int32(f.SRID), f.WKB}}, nil
	})
}

// check places the facilities and reports every problem at once.
func (im *FacilityImporter) check(r *importRun) error {
	ctx, tx := r.ctx, r.tx
	if _, err := tx.Exec(ctx, r.sql(`
		UPDATE import_stage s SET province_code = pl.province_code, commune_code = pl.commune_code
		FROM import_stage i CROSS JOIN LATERAL (`+placementSQL(cmpOr(r.opt.Province, im.defaultProvince), "i.commune", "i.geom", "true")+`) pl
		WHERE s.n = i.n`)); err != nil {
		return err
	}
	b := geo.VietnamBound
	rows, err := tx.Query(ctx, r.sql(`
		SELECT n, field, message, code, args FROM (
		  SELECT n, 'geometry' AS field, format('the location (%s, %s) is outside Vietnam: check the coordinate system (--province or --srs), or longitude and latitude swapped', lon, lat) AS message,
		         'position_outside_vietnam' AS code, jsonb_build_object('at', format('[%s, %s]', lon, lat)) AS args
		  FROM (SELECT n, round(ST_X(geom)::numeric, 6)::text AS lon, round(ST_Y(geom)::numeric, 6)::text AS lat FROM import_stage
		        WHERE NOT ST_Within(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))) o
		  UNION ALL
		  SELECT n, 'name', 'no name: name the column with --map name=COLUMN (TEN_CO_SO is recognised)', 'no_name', '{}'::jsonb
		  FROM import_stage WHERE name = ''
		  UNION ALL
		  SELECT i.n, 'commune', format('commune %L is not a commune code of the 2025 list', i.commune), 'unknown_commune', jsonb_build_object('commune', i.commune)
		  FROM import_stage i WHERE i.commune <> '' AND NOT EXISTS (SELECT 1 FROM commune c WHERE c.scheme = 2025 AND c.code = i.commune)
		  UNION ALL
		  SELECT n, 'geometry', 'no province: the location lies in no loaded boundary and the file names no commune; name the province with --province', 'no_province', '{}'::jsonb
		  FROM import_stage WHERE province_code IS NULL
		  UNION ALL
		  SELECT n, 'id', format('id %L is used by feature %s too: ids must be unique in a file', external_id, first_n),
		         'duplicate_id', jsonb_build_object('id', external_id, 'first', first_n::text)
		  FROM (SELECT n, external_id, min(n) OVER (PARTITION BY external_id) AS first_n FROM import_stage) d WHERE n <> first_n
		  UNION ALL
		  SELECT n, 'code', format('facility code %L is used by feature %s too', code, first_n), 'duplicate_code', jsonb_build_object('code', code, 'first', first_n::text)
		  FROM (SELECT n, code, min(n) OVER (PARTITION BY code) AS first_n FROM import_stage WHERE kind = 'livestock' AND code <> '') d WHERE n <> first_n
		  UNION ALL
		  SELECT i.n, 'code', format('facility code %L belongs to registered facility %s', i.code, f.id), 'code_taken', jsonb_build_object('code', i.code, 'facility', f.id::text)
		  FROM import_stage i JOIN livestock_facility f ON f.facility_code = i.code
		  WHERE i.kind = 'livestock' AND i.code <> '' AND (f.source, f.external_id) IS DISTINCT FROM ($5, i.external_id)
		) p ORDER BY n, field`), b.Min[0], b.Min[1], b.Max[0], b.Max[1], r.opt.Source)
	if err != nil {
		return err
	}
	if err := r.collect(rows); err != nil {
		return err
	}
	// A facility with no province has been told so.
	if err := r.checkPlace("import_stage", "province_code IS NOT NULL", "facility"); err != nil {
		return err
	}
	// The registered facilities the file would change, where they are now.
	src := quoteLiteral(r.opt.Source)
	var parts []string
	for _, ft := range facilityTables {
		parts = append(parts, fmt.Sprintf(`SELECT i.n, '%[1]s', t.id, coalesce(t.province_code, ''), coalesce(t.commune_code, ''), NULL::bigint, NULL::bigint,
			concat_ws(' ', t.source, t.external_id) FROM import_stage i JOIN %[1]s t ON t.source = %[2]s AND t.external_id = i.external_id
			WHERE i.kind = '%[3]s' AND t.deleted_at IS NULL`, ft.table, src, ft.kind))
	}
	if err := r.checkExisting(strings.Join(parts, " UNION ALL ")+" ORDER BY 1", registry.PlotAccess); err != nil {
		return err
	}
	r.done("checks")
	return nil
}

// write updates the facilities this source already has where the file changed them, inserts
// the new ones, and leaves facilities deleted in the registry deleted (with a warning).
func (im *FacilityImporter) write(r *importRun) error {
	ctx, tx := r.ctx, r.tx
	actor := actorName(ctx)
	if _, err := tx.Exec(ctx, r.sql(`DELETE FROM import_stage WHERE n = ANY($1)`), r.refused()); err != nil {
		return err
	}
	// The places the map must redraw: where the file puts its facilities, and where the ones it
	// moves were.
	var extent [4]*float64
	if err := tx.QueryRow(ctx, r.sql(`
		SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(g) AS e FROM (
		  SELECT geom AS g FROM import_stage
		  UNION ALL SELECT t.location FROM import_stage i JOIN livestock_facility t ON t.source = $1 AND t.external_id = i.external_id AND i.kind = 'livestock'
		  UNION ALL SELECT t.location FROM import_stage i JOIN feed_facility t ON t.source = $1 AND t.external_id = i.external_id AND i.kind = 'feed_mill'
		  UNION ALL SELECT t.location FROM import_stage i JOIN packing_house t ON t.source = $1 AND t.external_id = i.external_id AND i.kind = 'packing_house') x) y`), r.opt.Source).
		Scan(&extent[0], &extent[1], &extent[2], &extent[3]); err != nil {
		return err
	}
	for _, ft := range facilityTables {
		// Livestock facilities also carry their facility code.
		q := strings.NewReplacer("{table}", ft.table, "{set}", "", "{old}", "", "{new}", "", "{codeCol}", "", "{codeVal}", "")
		if ft.kind == registry.FacilityLivestock {
			q = strings.NewReplacer("{table}", ft.table, "{set}", ", facility_code = nullif(i.code, '')", "{old}", ", t.facility_code",
				"{new}", ", nullif(i.code, '')", "{codeCol}", ", facility_code", "{codeVal}", ", nullif(i.code, '')")
		}
		rows, err := tx.Query(ctx, r.sql(q.Replace(`
			SELECT i.n FROM import_stage i JOIN {table} t ON t.source = $1 AND t.external_id = i.external_id
			WHERE i.kind = $2 AND t.deleted_at IS NOT NULL ORDER BY i.n`)), r.opt.Source, ft.kind)
		if err != nil {
			return err
		}
		for rows.Next() {
			var n int
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			r.warn(registry.Detail{Feature: n, Field: "id", Message: "this facility was deleted in the registry: the file's row is left out"})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// Each change is audited with the facility before and after, and its province.
		var updated int
		err = tx.QueryRow(ctx, r.sql(q.Replace(`
			WITH cur AS (SELECT t.id, to_jsonb(t) AS before FROM {table} t JOIN import_stage i ON t.source = $1 AND t.external_id = i.external_id
			             WHERE i.kind = $2 AND t.deleted_at IS NULL),
			     upd AS (UPDATE {table} t SET name = i.name, address = nullif(i.address, ''), province_code = i.province_code, commune_code = i.commune_code,
			                    location = i.geom{set}, version = t.version + 1, updated_at = now(), updated_by = $3
			             FROM import_stage i
			             WHERE i.kind = $2 AND t.source = $1 AND t.external_id = i.external_id AND t.deleted_at IS NULL
			               AND (t.name, t.address, t.province_code, t.commune_code, t.location{old}) IS DISTINCT FROM
			                   (i.name, nullif(i.address, ''), i.province_code, i.commune_code, i.geom{new})
			             RETURNING t.*),
			     aud AS (INSERT INTO audit_log (actor, actor_role, actor_user_id, action, outcome, reason, object_type, object_id,
			                                    province_code, commune_code, request_id, before, after)
			             SELECT $3, nullif($4, ''), $5, 'facility.import', 'ok', $6, '{table}', u.id::text, u.province_code, u.commune_code,
			                    nullif($7, ''), c.before, to_jsonb(u)
			             FROM upd u JOIN cur c ON c.id = u.id RETURNING 1)
			SELECT count(*) FROM upd`)), r.opt.Source, ft.kind, actor, r.actor.Role, nullID(r.actor.UserID), "import of "+r.opt.Source,
			registry.RequestIDFromContext(ctx)).Scan(&updated)
		if err != nil {
			return mapError(err)
		}
		r.rep.Updated += updated
		var matched int
		if err := tx.QueryRow(ctx, r.sql(q.Replace(`SELECT count(*) FROM import_stage i JOIN {table} t ON t.source = $1 AND t.external_id = i.external_id
			WHERE i.kind = $2 AND t.deleted_at IS NULL`)), r.opt.Source, ft.kind).Scan(&matched); err != nil {
			return err
		}
		r.rep.Unchanged += matched - updated
		tag, err := tx.Exec(ctx, r.sql(q.Replace(`
			INSERT INTO {table} (name, address, province_code, commune_code, location, source, external_id, created_by, updated_by{codeCol})
			SELECT i.name, nullif(i.address, ''), i.province_code, i.commune_code, i.geom, $1, i.external_id, $3, $3{codeVal}
			FROM import_stage i
			WHERE i.kind = $2 AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.source = $1 AND t.external_id = i.external_id)
			ORDER BY i.n`)), r.opt.Source, ft.kind, actor)
		if err != nil {
			return mapError(err)
		}
		r.rep.Added += int(tag.RowsAffected())
	}
	if extent[0] != nil {
		r.rep.BBox = []float64{*extent[0], *extent[1], *extent[2], *extent[3]}
	}
	r.done("write")
	summary, _ := json.Marshal(map[string]any{"source": r.opt.Source, "about": r.opt.Describe, "features": r.rep.Features,
		"added": r.rep.Added, "updated": r.rep.Updated, "unchanged": r.rep.Unchanged, "skipped": r.rep.Skipped})
	if err := audit(ctx, tx, auditEntry{Action: "facility.import", ObjectType: "import", Province: r.opt.Province, After: summary}); err != nil {
		return err
	}
	if extent[0] == nil || r.rep.Added+r.rep.Updated == 0 {
		return nil
	}
	bound := orb.Bound{Min: orb.Point{*extent[0], *extent[1]}, Max: orb.Point{*extent[2], *extent[3]}}.Pad(0.001)
	for _, ft := range facilityTables {
		if err := im.db.changed(ctx, tx, ft.change, bound); err != nil {
			return err
		}
	}
	return nil
}

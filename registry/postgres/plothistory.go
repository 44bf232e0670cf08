package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry"
)

// personalChanges are the properties whose change the public view does not name: the owner and
// the numbers that identify a person through the land registry (see Plot.Redact).
var personalChanges = []string{"producer_id", "cadastral_sheet", "cadastral_parcel", "land_cert_no"}

// PlotHistory returns every version of plot id, newest first, the current one included, each
// with when it was written and replaced, by whom, and what it changed. A live plot's history is
// read as the plot itself is (ENOTFOUND, the public view, or all of it); a retired or deleted
// plot's only by those who could write it (others get ENOTFOUND, as for the plot).
func (s *PlotService) PlotHistory(ctx context.Context, id int64) ([]*registry.PlotVersion, error) {
	q := s.db.reader(ctx)
	var coop *int64
	cur, err := scanPlot(q.QueryRow(ctx, plotSelect+` WHERE p.id = $1`, id), &coop)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "plot %d not found", id)
	}
	if err != nil {
		return nil, err
	}
	actor, _ := registry.ActorFromContext(ctx)
	access := registry.PlotAccess(actor, plotPlace(cur, coop))
	if access == registry.AccessNone || (cur.DeletedAt != nil && access < registry.AccessWrite) {
		return nil, registry.Errorf(registry.ENOTFOUND, "plot %d not found", id)
	}
	rows, err := q.Query(ctx, `
		SELECT plot_id, producer_id, COALESCE(province_code, ''), COALESCE(commune_code, ''), crop,
		       COALESCE(variety, ''), COALESCE(planting_year, 0), COALESCE(cadastral_sheet, ''),
		       COALESCE(cadastral_parcel, ''), COALESCE(land_cert_no, ''), source, COALESCE(external_id, ''),
		       ST_AsBinary(geom), area_ha, version, valid_from, valid_to, written_by, replaced_by, deleted_at,
		       COALESCE(parent_ids, '{}'), COALESCE(retired, ''), COALESCE(retired_into, '{}')
		FROM plot_history WHERE plot_id = $1 ORDER BY version`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var versions []*registry.PlotVersion
	for rows.Next() {
		// In a history row, CreatedAt/UpdatedAt hold when the version was valid from/to, and
		// CreatedBy/UpdatedBy who wrote it and who replaced it.
		p, err := scanPlot(rows)
		if err != nil {
			return nil, err
		}
		to := p.UpdatedAt
		v := &registry.PlotVersion{Plot: p, ValidFrom: p.CreatedAt, ValidTo: &to, WrittenBy: p.CreatedBy}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The current version: written when it was last updated, valid until it was retired.
	current := &registry.PlotVersion{Plot: cur, ValidFrom: cur.UpdatedAt, ValidTo: cur.DeletedAt, WrittenBy: cur.UpdatedBy}
	versions = append(versions, current)
	for i, v := range versions {
		// The history row keeps the plot's own times where they are not its version's.
		if v != current {
			v.CreatedAt, v.UpdatedAt, v.CreatedBy, v.UpdatedBy = cur.CreatedAt, v.ValidFrom, cur.CreatedBy, v.WrittenBy
		}
		if v.Retired == "" && v.DeletedAt != nil {
			v.Retired = registry.RetiredDeleted
		}
		v.Changes = []string{}
		if i > 0 {
			v.Changes = plotChanges(versions[i-1].Plot, v.Plot)
		}
		if access == registry.AccessPublic {
			v.Redact()
			v.WrittenBy = ""
			v.Changes = slices.DeleteFunc(v.Changes, func(c string) bool { return slices.Contains(personalChanges, c) })
		}
	}
	slices.Reverse(versions)
	return versions, nil
}

// plotChanges names the properties in which b differs from a, the version before it.
func plotChanges(a, b *registry.Plot) []string {
	out := []string{}
	add := func(differ bool, name string) {
		if differ {
			out = append(out, name)
		}
	}
	add(!a.Geometry.Equal(b.Geometry), "geometry")
	add(a.AreaHa != b.AreaHa, "area_ha")
	add(a.Crop != b.Crop, "crop")
	add(a.Variety != b.Variety, "variety")
	add(a.PlantingYear != b.PlantingYear, "planting_year")
	add(!sameProducer(a.ProducerID, b.ProducerID), "producer_id")
	add(a.ProvinceCode != b.ProvinceCode, "province_code")
	add(a.CommuneCode != b.CommuneCode, "commune_code")
	add(a.CadastralSheet != b.CadastralSheet, "cadastral_sheet")
	add(a.CadastralParcel != b.CadastralParcel, "cadastral_parcel")
	add(a.LandCertNo != b.LandCertNo, "land_cert_no")
	add(a.Source != b.Source, "source")
	add(a.ExternalID != b.ExternalID, "external_id")
	add(!slices.Equal(a.ParentIDs, b.ParentIDs), "parent_ids")
	add(!timeEqual(a.DeletedAt, b.DeletedAt), "deleted_at")
	add(a.Retired != b.Retired, "retired")
	add(!slices.Equal(a.RetiredInto, b.RetiredInto), "retired_into")
	return out
}

func timeEqual(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry"
)

var _ registry.DossierService = (*ApplicationService)(nil)

// AreaDossier implements registry.DossierService.
func (s *ApplicationService) AreaDossier(ctx context.Context, id int64) (*registry.AreaDossier, error) {
	q := s.db.Pool
	d := &registry.AreaDossier{Plots: []registry.DossierPlot{}}
	var registrant *int64
	var registrantName *string
	err := q.QueryRow(ctx, `
		SELECT g.id, g.name, g.registrant_id, r.name, g.province_code, COALESCE(p.name, ''), COALESCE(c.name, ''),
		       COALESCE((SELECT array_agg(cr.name_vi ORDER BY cr.name_vi) FROM crop cr WHERE cr.code = ANY (g.crops)), g.crops)
		FROM growing_area g LEFT JOIN producer r ON r.id = g.registrant_id
		LEFT JOIN province p ON p.scheme = g.admin_scheme AND p.code = g.province_code
		LEFT JOIN commune c ON c.scheme = g.admin_scheme AND c.code = g.commune_code
		WHERE g.id = $1 AND g.deleted_at IS NULL`, id).Scan(&d.ID, &d.Name, &registrant, &registrantName, &d.ProvinceCode, &d.Province, &d.Commune, &d.Crops)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "growing area %d not found", id)
	} else if err != nil {
		return nil, err
	}
	if registrant != nil {
		d.Registrant = registry.Ref{ID: *registrant, Name: derefStr(registrantName)}
	}
	if !canSeeApp(ctx, appRow{province: d.ProvinceCode, commune: "", registrant: d.Registrant.ID}) {
		a, _ := registry.ActorFromContext(ctx)
		if a.Role != registry.RoleOfficer || !a.InJurisdiction(d.ProvinceCode, "") {
			return nil, registry.Errorf(registry.EFORBIDDEN, "the dossier of %s is for %s (its registrant) and officers of province %s", d.Name, cmpOr(d.Registrant.Name, "its registrant"), d.ProvinceCode)
		}
	}
	rows, err := q.Query(ctx, `
		SELECT p.id, COALESCE(o.name, ''), COALESCE(c.name, ''), COALESCE(cr.name_vi, p.crop), COALESCE(p.variety, ''), p.area_ha, p.planting_year::int,
		       ST_AsKML(p.geom, 7), ST_X(ST_PointOnSurface(p.geom)), ST_Y(ST_PointOnSurface(p.geom))
		FROM growing_area_plot m JOIN plot p ON p.id = m.plot_id AND p.deleted_at IS NULL
		LEFT JOIN producer o ON o.id = p.producer_id LEFT JOIN crop cr ON cr.code = p.crop
		LEFT JOIN commune c ON c.scheme = 2025 AND c.code = p.commune_code
		WHERE m.growing_area_id = $1 AND m.removed_at IS NULL ORDER BY o.name, p.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	households := map[string]bool{}
	for rows.Next() {
		var p registry.DossierPlot
		if err := rows.Scan(&p.ID, &p.Household, &p.Commune, &p.Crop, &p.Variety, &p.AreaHa, &p.PlantedYear, &p.KML, &p.Centroid[0], &p.Centroid[1]); err != nil {
			return nil, err
		}
		d.AreaHa += p.AreaHa
		households[p.Household] = true
		d.Plots = append(d.Plots, p)
	}
	d.AreaHa = round(d.AreaHa, 4)
	d.Households = len(households)
	return d, rows.Err()
}

// DecisionPage implements registry.DossierService.
func (s *ApplicationService) DecisionPage(ctx context.Context, code string) (*registry.DecisionPage, error) {
	q := s.db.Pool
	p := &registry.DecisionPage{}
	var area, house *int64
	var houseName, address *string
	row := q.QueryRow(ctx, `SELECT `+codeColumns+`, COALESCE(m.code_kind, ''), m.application_id, a.decided_at, m.growing_area_id, m.packing_house_id, h.name, h.address,
		COALESCE(pr.name, ''), COALESCE(h.operator_id, 0), m.province_code
		FROM market_code m LEFT JOIN application a ON a.id = m.application_id LEFT JOIN packing_house h ON h.id = m.packing_house_id
		LEFT JOIN province pr ON pr.scheme = 2025 AND pr.code = m.province_code
		WHERE m.code_key = upper(regexp_replace($1, '[^A-Za-z0-9]', '', 'g'))`, code)
	var operator int64
	var province string
	err := row.Scan(&p.Code.ID, &p.Code.Code, &p.Code.Market, &p.Code.Status, &p.Code.StatusReason, &p.Code.ValidFrom, &p.Code.ValidTo, &p.Code.Document, &p.Code.Authority,
		&p.Kind, &p.ApplicationID, &p.DecidedAt, &area, &house, &houseName, &address, &p.Province, &operator, &province)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "code %s not found", code)
	} else if err != nil {
		return nil, err
	}
	if area != nil {
		if p.Area, err = s.AreaDossier(ctx, *area); err != nil {
			return nil, err
		}
	} else if house != nil {
		if !canSeeApp(ctx, appRow{province: province, registrant: operator}) {
			return nil, registry.Errorf(registry.EFORBIDDEN, "the decision of %s is for its operator and officers of province %s", code, province)
		}
		p.House = &registry.Ref{ID: *house, Name: derefStr(houseName)}
		p.HouseAddress = derefStr(address)
	}
	return p, nil
}

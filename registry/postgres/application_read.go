package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry"
)

// appColumns read an application as registry.Application (scanApplication).
const appColumns = `a.id, a.status, a.market, a.growing_area_id, g.name, a.packing_house_id, h.name, a.registrant_id, r.name, a.province_code,
	a.area_ha, a.household_count, a.submitted_at, a.decided_at, to_char(a.inspection_on, 'YYYY-MM-DD'), a.inspectors, COALESCE(a.return_note, ''),
	a.rejection_reasons, c.code, a.created_at, a.updated_at,
	a.representative, a.phone, a.email, a.address, a.crop, a.varieties, a.tree_age_years::float8, a.expected_harvest_from::int,
	a.expected_harvest_to::int, a.expected_output_t::float8, a.avg_yield_3y_t_ha::float8, a.harvests_per_year::int, a.standards, a.commitment`

const appFrom = ` FROM application a JOIN producer r ON r.id = a.registrant_id
	LEFT JOIN growing_area g ON g.id = a.growing_area_id LEFT JOIN packing_house h ON h.id = a.packing_house_id
	LEFT JOIN market_code c ON c.id = a.market_code_id`

func scanApplication(row pgx.Row) (registry.Application, error) {
	var x registry.Application
	var areaID, houseID *int64
	var areaName, houseName *string
	var standards []byte
	f := &x.ApplicationForm
	err := row.Scan(&x.ID, &x.Status, &x.Market, &areaID, &areaName, &houseID, &houseName, &x.Registrant.ID, &x.Registrant.Name, &x.ProvinceCode,
		&x.AreaHa, &x.HouseholdCount, &x.SubmittedAt, &x.DecidedAt, &x.InspectionOn, &x.Inspectors, &x.ReturnNote,
		&x.RejectionReasons, &x.Code, &x.CreatedAt, &x.UpdatedAt,
		&f.Representative, &f.Phone, &f.Email, &f.Address, &f.Crop, &f.Varieties, &f.TreeAgeYears, &f.ExpectedHarvestFrom,
		&f.ExpectedHarvestTo, &f.ExpectedOutputT, &f.AvgYield3yTHa, &f.HarvestsPerYear, &standards, &f.Commitment)
	if err != nil {
		return x, err
	}
	if areaID != nil {
		x.GrowingArea = &registry.Ref{ID: *areaID, Name: derefStr(areaName)}
	}
	if houseID != nil {
		x.PackingHouse = &registry.Ref{ID: *houseID, Name: derefStr(houseName)}
	}
	st := []registry.Standard{}
	_ = json.Unmarshal(standards, &st)
	f.Standards = &st
	if x.Inspectors == nil {
		x.Inspectors = []string{}
	}
	if x.RejectionReasons == nil {
		x.RejectionReasons = []string{}
	}
	return x, nil
}

func derefStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Application implements registry.ApplicationService.
func (s *ApplicationService) Application(ctx context.Context, id int64) (*registry.ApplicationDetail, error) {
	a, _ := registry.ActorFromContext(ctx)
	q := s.db.Pool
	r, err := scanApp(q.QueryRow(ctx, appLockSQL, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "application %d not found", id)
	} else if err != nil {
		return nil, err
	} else if !canSeeApp(ctx, r) {
		return nil, unseen(ctx, r)
	}
	app, err := scanApplication(q.QueryRow(ctx, `SELECT `+appColumns+appFrom+` WHERE a.id = $1`, id))
	if err != nil {
		return nil, err
	}
	d := &registry.ApplicationDetail{Application: app, Attachments: []registry.AttachmentInfo{}, Inspections: []registry.InspectionView{}, Events: []registry.AppEvent{}}
	d.Allowed = registry.AppNextFor(app.Status, isRegistrant(a, r.registrant) || a.Role == registry.RoleAdmin, isAppOfficer(a, r))
	rows, err := q.Query(ctx, `SELECT id, kind, filename, content_type, size, created_at FROM application_attachment WHERE application_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var at registry.AttachmentInfo
		if err := rows.Scan(&at.ID, &at.Kind, &at.Filename, &at.ContentType, &at.Size, &at.CreatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		d.Attachments = append(d.Attachments, at)
	}
	rows.Close()
	rows, err = q.Query(ctx, `SELECT i.id, to_char(i.inspected_on, 'YYYY-MM-DD'), i.inspectors, i.checklist, i.conclusion, COALESCE(i.reasons, ''), i.created_by,
		COALESCE((SELECT json_agg(json_build_object('id', p.id, 'taken_at', p.taken_at, 'lon', ST_X(p.position), 'lat', ST_Y(p.position), 'accuracy_m', p.accuracy_m) ORDER BY p.id)
		          FROM inspection_photo p WHERE p.inspection_id = i.id), '[]')
		FROM inspection i WHERE i.application_id = $1 ORDER BY i.inspected_on, i.id`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var v registry.InspectionView
		var photos []byte
		if err := rows.Scan(&v.ID, &v.On, &v.Inspectors, &v.Checklist, &v.Conclusion, &v.Reasons, &v.By, &photos); err != nil {
			rows.Close()
			return nil, err
		}
		v.Photos = []registry.PhotoInfo{}
		_ = json.Unmarshal(photos, &v.Photos)
		d.Inspections = append(d.Inspections, v)
	}
	rows.Close()
	// Who, by the name the people reading the application know them by.
	rows, err = q.Query(ctx, `SELECT e.at, COALESCE(e.from_status, ''), e.to_status,
		COALESCE((SELECT u.display_name FROM app_user u WHERE e.actor = 'user:' || u.username), e.actor), COALESCE(e.note, '')
		FROM application_event e WHERE e.application_id = $1 ORDER BY e.at, e.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e registry.AppEvent
		if err := rows.Scan(&e.At, &e.From, &e.To, &e.Actor, &e.Note); err != nil {
			return nil, err
		}
		d.Events = append(d.Events, e)
	}
	return d, rows.Err()
}

// visibleApps is the condition on a (application) for what the caller sees: $1 provinces of an
// officer (NULL: all, for an admin), $2 the registrant the caller speaks for.
func visibleApps(a registry.Actor) (provinces []string, registrant *int64, ok bool) {
	switch a.Role {
	case registry.RoleAdmin:
		return nil, nil, true
	case registry.RoleOfficer:
		provinces = []string{}
		for _, j := range a.Jurisdictions {
			provinces = append(provinces, j.ProvinceCode)
		}
		return provinces, nil, true
	case registry.RoleCooperative, registry.RoleExporter:
		if a.ProducerID != nil {
			return nil, a.ProducerID, true
		}
	}
	return nil, nil, false
}

const visibleCond = `(($1::text[] IS NULL AND $2::bigint IS NULL) OR a.province_code = ANY ($1) OR a.registrant_id = $2)`

// Applications implements registry.ApplicationService.
func (s *ApplicationService) Applications(ctx context.Context, statuses []string) ([]registry.Application, error) {
	a, _ := registry.ActorFromContext(ctx)
	provinces, registrant, ok := visibleApps(a)
	if !ok {
		return nil, registry.Errorf(registry.EFORBIDDEN, "your role (%s) has no applications: registrants, officers and admins do", cmpOr(a.Role, "public"))
	}
	return s.listApps(ctx, s.db.Pool, `WHERE `+visibleCond+` AND (cardinality($3::text[]) = 0 OR a.status = ANY ($3)) ORDER BY a.updated_at DESC, a.id DESC LIMIT 500`,
		provinces, registrant, statuses)
}

func (s *ApplicationService) listApps(ctx context.Context, q querier, where string, args ...any) ([]registry.Application, error) {
	rows, err := q.Query(ctx, `SELECT `+appColumns+appFrom+` `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []registry.Application{}
	for rows.Next() {
		x, err := scanApplication(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// Inbox implements registry.WorkQueueService: the officer's work, in their jurisdiction.
func (s *ApplicationService) Inbox(ctx context.Context, season string) (*registry.Inbox, error) {
	a, _ := registry.ActorFromContext(ctx)
	if a.Role != registry.RoleOfficer && a.Role != registry.RoleAdmin {
		return nil, registry.Errorf(registry.EFORBIDDEN, "the inbox is an officer's: your role is %s", cmpOr(a.Role, "public"))
	}
	provinces, _, _ := visibleApps(a)
	var noone *int64
	in := &registry.Inbox{}
	var err error
	q := s.db.Pool
	if in.Review, err = s.listApps(ctx, q, `WHERE `+visibleCond+` AND a.status IN ('submitted', 'under_review') ORDER BY a.submitted_at, a.id`, provinces, noone); err != nil {
		return nil, err
	}
	if in.Inspections, err = s.listApps(ctx, q, `WHERE `+visibleCond+` AND a.status = 'inspection_scheduled' ORDER BY a.inspection_on, a.id`, provinces, noone); err != nil {
		return nil, err
	}
	if in.Overdue, err = NewSupervisionService(s.db).OverdueCodes(ctx); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT `+codeColumns+`, COALESCE(g.name, h.name, ''), m.province_code, (m.valid_to - vn_today()), m.growing_area_id, m.packing_house_id
		FROM market_code m LEFT JOIN growing_area g ON g.id = m.growing_area_id LEFT JOIN packing_house h ON h.id = m.packing_house_id
		WHERE code_status(m.status, m.valid_to) = 'active' AND m.valid_to <= vn_today() + 60
		  AND ($1::text[] IS NULL OR m.province_code = ANY ($1)) ORDER BY m.valid_to, m.code`, provinces)
	if err != nil {
		return nil, err
	}
	in.Expiring = []registry.ExpiringCode{}
	for rows.Next() {
		var e registry.ExpiringCode
		if err := rows.Scan(&e.ID, &e.Code, &e.Market, &e.Status, &e.StatusReason, &e.ValidFrom, &e.ValidTo, &e.Document, &e.Authority, &e.Place, &e.ProvinceCode, &e.DaysLeft, &e.GrowingAreaID, &e.PackingHouseID); err != nil {
			rows.Close()
			return nil, err
		}
		in.Expiring = append(in.Expiring, e)
	}
	rows.Close()
	if in.ReportsMissing, err = s.missingReports(ctx, q, season, provinces, nil); err != nil {
		return nil, err
	}
	in.Counts = map[string]int{"review": len(in.Review), "inspections": len(in.Inspections), "overdue": len(in.Overdue),
		"expiring": len(in.Expiring), "reports_missing": len(in.ReportsMissing)}
	return in, nil
}

// missingReports lists the active growing-area codes with no seasonal report for the season,
// in provinces (nil: all) or of a registrant.
func (s *ApplicationService) missingReports(ctx context.Context, q querier, season string, provinces []string, registrant *int64) ([]registry.MissingReport, error) {
	if season == "" {
		season = s.db.now().In(vietnamTime).Format("2006")
	}
	rows, err := q.Query(ctx, `
		SELECT m.code, m.market, g.id, g.name, g.province_code, $1::text
		FROM market_code m JOIN growing_area g ON g.id = m.growing_area_id
		WHERE code_status(m.status, m.valid_to) = 'active' AND m.market <> 'VN'
		  AND ($2::text[] IS NULL OR m.province_code = ANY ($2)) AND ($3::bigint IS NULL OR g.registrant_id = $3)
		  AND NOT EXISTS (SELECT 1 FROM seasonal_report r WHERE r.growing_area_id = g.id AND r.season = $1 AND (r.market = m.market OR r.market IS NULL))
		ORDER BY g.province_code, m.code`, season, provinces, registrant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []registry.MissingReport{}
	for rows.Next() {
		var m registry.MissingReport
		if err := rows.Scan(&m.Code, &m.Market, &m.GrowingAreaID, &m.Name, &m.ProvinceCode, &m.Season); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MissingReports implements registry.WorkQueueService.
func (s *ApplicationService) MissingReports(ctx context.Context, season string) ([]registry.MissingReport, error) {
	a, _ := registry.ActorFromContext(ctx)
	provinces, registrant, ok := visibleApps(a)
	if !ok {
		return nil, registry.Errorf(registry.EFORBIDDEN, "your role (%s) may not list seasonal reports", cmpOr(a.Role, "public"))
	}
	return s.missingReports(ctx, s.db.Pool, season, provinces, registrant)
}

// Organisation implements registry.WorkQueueService: a cooperative's (or enterprise's) page.
func (s *ApplicationService) Organisation(ctx context.Context, season string) (*registry.Organisation, error) {
	a, _ := registry.ActorFromContext(ctx)
	if (a.Role != registry.RoleCooperative && a.Role != registry.RoleExporter) || a.ProducerID == nil {
		return nil, registry.Errorf(registry.EFORBIDDEN, "this page is a cooperative's or an enterprise's: your account speaks for none")
	}
	q := s.db.Pool
	o := &registry.Organisation{Areas: []registry.AreaSummary{}, Codes: []registry.OrgCode{}}
	if err := q.QueryRow(ctx, `SELECT id, name FROM producer WHERE id = $1`, *a.ProducerID).Scan(&o.Producer.ID, &o.Producer.Name); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `
		SELECT g.id, g.name, g.crops, COALESCE(round(sum(p.area_ha)::numeric, 4)::float8, 0), count(DISTINCT p.producer_id)::int, count(p.id)::int
		FROM growing_area g LEFT JOIN growing_area_plot m ON m.growing_area_id = g.id AND m.removed_at IS NULL
		LEFT JOIN plot p ON p.id = m.plot_id AND p.deleted_at IS NULL
		WHERE g.registrant_id = $1 AND g.deleted_at IS NULL GROUP BY g.id ORDER BY g.name`, *a.ProducerID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var x registry.AreaSummary
		if err := rows.Scan(&x.ID, &x.Name, &x.Crops, &x.AreaHa, &x.Households, &x.Plots); err != nil {
			rows.Close()
			return nil, err
		}
		o.Areas = append(o.Areas, x)
	}
	rows.Close()
	if o.Applications, err = s.listApps(ctx, q, `WHERE a.registrant_id = $1 ORDER BY a.updated_at DESC LIMIT 200`, *a.ProducerID); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `SELECT `+codeColumns+`, m.growing_area_id, m.packing_house_id, COALESCE(g.name, h.name, '')
		FROM market_code m LEFT JOIN growing_area g ON g.id = m.growing_area_id LEFT JOIN packing_house h ON h.id = m.packing_house_id
		WHERE (g.registrant_id = $1 OR h.operator_id = $1) AND m.status <> 'revoked' ORDER BY m.code`, *a.ProducerID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var c registry.OrgCode
		if err := rows.Scan(&c.ID, &c.Code, &c.Market, &c.Status, &c.StatusReason, &c.ValidFrom, &c.ValidTo, &c.Document, &c.Authority, &c.GrowingAreaID, &c.PackingHouseID, &c.Place); err != nil {
			rows.Close()
			return nil, err
		}
		o.Codes = append(o.Codes, c)
	}
	rows.Close()
	rows, err = q.Query(ctx, `SELECT id, name FROM packing_house WHERE operator_id = $1 AND deleted_at IS NULL ORDER BY name`, *a.ProducerID)
	if err != nil {
		return nil, err
	}
	if o.PackingHouses, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (registry.AreaRef, error) {
		var h registry.AreaRef
		return h, r.Scan(&h.ID, &h.Name)
	}); err != nil {
		return nil, err
	}
	for i := range o.PackingHouses {
		if o.PackingHouses[i].Codes, err = codesOf(ctx, q, "packing_house_id", o.PackingHouses[i].ID); err != nil {
			return nil, err
		}
	}
	if o.ReportsDue, err = s.missingReports(ctx, q, season, nil, a.ProducerID); err != nil {
		return nil, err
	}
	var minX, minY, maxX, maxY *float64
	err = q.QueryRow(ctx, `SELECT count(*), (array_agg(p.id ORDER BY p.id))[1:5000], ST_XMin(ST_Extent(p.geom)), ST_YMin(ST_Extent(p.geom)), ST_XMax(ST_Extent(p.geom)), ST_YMax(ST_Extent(p.geom))
		FROM plot p JOIN producer o ON o.id = p.producer_id
		WHERE (o.cooperative_id = $1 OR o.id = $1) AND p.deleted_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM growing_area_plot m WHERE m.plot_id = p.id AND m.removed_at IS NULL)`, *a.ProducerID).Scan(&o.FreePlots, &o.FreePlotIDs, &minX, &minY, &maxX, &maxY)
	if o.FreePlotIDs == nil {
		o.FreePlotIDs = []int64{}
	}
	if minX != nil {
		o.FreeBBox = []float64{*minX, *minY, *maxX, *maxY}
	}
	return o, err
}

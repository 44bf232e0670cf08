package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/vntext"
)

// ProcedureService holds the rest of the code procedure: province letters, the export steps,
// seasonal reports, packing houses and their links, and growing areas' plots changed.
type ProcedureService struct {
	db    *DB
	areas *GrowingAreaService
}

var _ registry.ProcedureService = (*ProcedureService)(nil)

// NewProcedureService returns a ProcedureService on db.
func NewProcedureService(db *DB) *ProcedureService {
	return &ProcedureService{db: db, areas: NewGrowingAreaService(db)}
}

// SetAreaPlots implements registry.ProcedureService.
func (s *ProcedureService) SetAreaPlots(ctx context.Context, area int64, plots []int64) error {
	return s.areas.SetAreaPlots(ctx, area, plots)
}

// ProvinceLetters implements registry.ProcedureService.
func (s *ProcedureService) ProvinceLetters(ctx context.Context) ([]registry.ProvinceLetters, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT l.province_code, COALESCE(p.name, ''), l.letters, l.updated_at, l.updated_by
		FROM province_letters l LEFT JOIN province p ON p.scheme = 2025 AND p.code = l.province_code ORDER BY l.province_code`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (registry.ProvinceLetters, error) {
		var l registry.ProvinceLetters
		return l, r.Scan(&l.ProvinceCode, &l.Name, &l.Letters, &l.UpdatedAt, &l.UpdatedBy)
	})
}

var lettersRE = regexp.MustCompile(`^[A-Z]{2}$`)

// SetProvinceLetters implements registry.ProcedureService: an administrator's. Codes issued
// keep the letters they were issued with; the next ones take the new letters.
func (s *ProcedureService) SetProvinceLetters(ctx context.Context, province, letters string) (*registry.ProvinceLetters, error) {
	a, _ := registry.ActorFromContext(ctx)
	if a.Role != registry.RoleAdmin {
		return nil, registry.Errorf(registry.EFORBIDDEN, "only an administrator changes the province letters of codes")
	}
	letters = strings.ToUpper(strings.TrimSpace(letters))
	if !lettersRE.MatchString(letters) {
		return nil, registry.Invalid([]registry.Detail{{Field: "letters", Message: fmt.Sprintf("%q: province letters are two capital letters A-Z, such as DL", letters)}})
	}
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		var known bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM province WHERE scheme = 2025 AND code = $1)`, province).Scan(&known); err != nil {
			return err
		}
		if !known {
			return registry.Errorf(registry.ENOTFOUND, "province %q is not a province of the 2025 list", province)
		}
		var other string
		if err := tx.QueryRow(ctx, `SELECT province_code FROM province_letters WHERE letters = $1 AND province_code <> $2`, letters, province).Scan(&other); err == nil {
			return registry.Errorf(registry.ECONFLICT, "letters %s belong to province %s: two provinces' codes would collide", letters, other)
		}
		before, _ := rowJSONKey(ctx, tx, "province_letters", "province_code", province)
		if _, err := tx.Exec(ctx, `INSERT INTO province_letters (province_code, letters, updated_by) VALUES ($1, $2, $3)
			ON CONFLICT (province_code) DO UPDATE SET letters = $2, updated_at = now(), updated_by = $3`, province, letters, a.String()); err != nil {
			return mapError(err)
		}
		after, _ := rowJSONKey(ctx, tx, "province_letters", "province_code", province)
		return audit(ctx, tx, auditEntry{Action: "province_letters.set", ObjectType: "province_letters", Province: province, Reason: letters, Before: before, After: after})
	})
	if err != nil {
		return nil, err
	}
	all, err := s.ProvinceLetters(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range all {
		if l.ProvinceCode == province {
			return &l, nil
		}
	}
	return nil, registry.Errorf(registry.ENOTFOUND, "province %s", province)
}

// rowJSONKey is a row as JSON, by a text key.
func rowJSONKey(ctx context.Context, q querier, table, column, key string) ([]byte, error) {
	var b []byte
	err := q.QueryRow(ctx, `SELECT to_jsonb(t) FROM `+table+` t WHERE `+column+` = $1`, key).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return b, err
}

// MarketSteps implements registry.ProcedureService.
func (s *ProcedureService) MarketSteps(ctx context.Context, codeID int64) (*registry.MarketSteps, error) {
	var m registry.MarketSteps
	err := s.db.reader(ctx).QueryRow(ctx, `SELECT code, market, proposed_on, COALESCE(proposed_document, ''), confirmed_on, confirmed_list_date, COALESCE(confirmed_reference, '')
		FROM market_code WHERE id = $1`, codeID).Scan(&m.Code, &m.Market, &m.ProposedOn, &m.ProposedDocument, &m.ConfirmedOn, &m.ConfirmedListDate, &m.ConfirmedRef)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "code %d not found", codeID)
	}
	return &m, err
}

// RecordMarketStep implements registry.ProcedureService: an officer of the code's province
// records that the national authority proposed the code to the importing country, then that
// the country confirmed it (listed it, on a list of a date).
func (s *ProcedureService) RecordMarketStep(ctx context.Context, code string, st registry.MarketStep) (*registry.MarketSteps, error) {
	a, _ := registry.ActorFromContext(ctx)
	st.Document, st.Reference = vntext.Clean(st.Document), vntext.Clean(st.Reference)
	var id int64
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		var market, province, status string
		var proposed *time.Time
		err := tx.QueryRow(ctx, `SELECT id, market, province_code, code_status(status, valid_to), proposed_on FROM market_code
			WHERE code_key = upper(regexp_replace($1, '[^A-Za-z0-9]', '', 'g')) FOR UPDATE`, code).Scan(&id, &market, &province, &status, &proposed)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.Errorf(registry.ENOTFOUND, "code %s not found", code)
		} else if err != nil {
			return err
		}
		if !provinceOfficer(a, province) {
			return registry.Errorf(registry.EFORBIDDEN, "only an officer of province %s (or an administrator) records the market steps of %s", province, code)
		}
		if market == "VN" {
			return registry.Invalid([]registry.Detail{{Field: "step", Message: "a domestic code (VN) is not proposed to an importing country"}})
		}
		today := s.db.now().In(vietnamTime).Format(time.DateOnly)
		var details []registry.Detail
		if st.On == nil {
			details = append(details, registry.Detail{Field: "on", Message: "the day of the step is required (YYYY-MM-DD)"})
		} else if st.On.Format(time.DateOnly) > today {
			details = append(details, registry.Detail{Field: "on", Message: fmt.Sprintf("the step is dated %s, after today (%s): record it once it happened", st.On.Format(time.DateOnly), today)})
		}
		switch st.Step {
		case "proposed":
			if st.Document == "" {
				details = append(details, registry.Detail{Field: "document", Message: "the national authority's letter proposing the code (document) is required"})
			}
		case "confirmed":
			if proposed == nil {
				return &registry.Error{Code: registry.ECONFLICT, Message: fmt.Sprintf("%s was never proposed to %s: record the proposal first", code, market), Extra: map[string]any{"allowed": []string{"proposed"}}}
			}
			if st.ListDate == nil {
				details = append(details, registry.Detail{Field: "list_date", Message: "the date of the importing country's list naming the code is required"})
			}
			if st.On != nil && st.On.Before(*proposed) {
				details = append(details, registry.Detail{Field: "on", Message: fmt.Sprintf("confirmed on %s, before it was proposed (%s)", st.On.Format(time.DateOnly), proposed.Format(time.DateOnly))})
			}
		default:
			details = append(details, registry.Detail{Field: "step", Message: fmt.Sprintf("the step is proposed or confirmed, not %q", st.Step)})
		}
		if len(details) > 0 {
			return registry.Invalid(details)
		}
		before, err := rowJSON(ctx, tx, "market_code", id)
		if err != nil {
			return err
		}
		if st.Step == "proposed" {
			_, err = tx.Exec(ctx, `UPDATE market_code SET proposed_on = $2, proposed_document = $3, version = version + 1, updated_at = now(), updated_by = $4 WHERE id = $1`,
				id, st.On, st.Document, a.String())
		} else {
			_, err = tx.Exec(ctx, `UPDATE market_code SET confirmed_on = $2, confirmed_list_date = $3, confirmed_reference = NULLIF($4, ''), version = version + 1, updated_at = now(), updated_by = $5 WHERE id = $1`,
				id, st.On, st.ListDate, st.Reference, a.String())
		}
		if err != nil {
			return mapError(err)
		}
		after, err := rowJSON(ctx, tx, "market_code", id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, auditEntry{Action: "market_code." + st.Step, ObjectType: "market_code", ObjectID: id, Province: province, Reason: status, Before: before, After: after})
	})
	if err != nil {
		return nil, err
	}
	return s.MarketSteps(ctx, id)
}

var seasonRE = regexp.MustCompile(`^(19|20)[0-9]{2}(-.{1,30})?$`)

// FileSeasonalReport implements registry.ProcedureService: the area's registrant (or an
// officer of its province) files the season's plan.
func (s *ProcedureService) FileSeasonalReport(ctx context.Context, r registry.SeasonalReport) (int64, error) {
	a, _ := registry.ActorFromContext(ctx)
	r.Season, r.Variety, r.Standard = vntext.Clean(r.Season), vntext.Clean(r.Variety), vntext.Clean(r.Standard)
	r.Market = strings.ToUpper(strings.TrimSpace(r.Market))
	var id int64
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		var province, name string
		var registrant *int64
		var crops []string
		var ha float64
		err := tx.QueryRow(ctx, `SELECT g.province_code, g.name, g.registrant_id, g.crops,
			COALESCE((SELECT sum(p.area_ha) FROM growing_area_plot m JOIN plot p ON p.id = m.plot_id AND p.deleted_at IS NULL WHERE m.growing_area_id = g.id AND m.removed_at IS NULL), 0)
			FROM growing_area g WHERE g.id = $1 AND g.deleted_at IS NULL`, r.GrowingAreaID).Scan(&province, &name, &registrant, &crops, &ha)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.Errorf(registry.ENOTFOUND, "growing area %d not found", r.GrowingAreaID)
		} else if err != nil {
			return err
		}
		if !isRegistrant(a, derefOr(registrant)) && !provinceOfficer(a, province) {
			return registry.Errorf(registry.EFORBIDDEN, "the seasonal reports of %s are filed by its registrant (or an officer of province %s)", name, province)
		}
		var details []registry.Detail
		bad := func(field, format string, args ...any) {
			details = append(details, registry.Detail{Field: field, Message: fmt.Sprintf(format, args...)})
		}
		if !seasonRE.MatchString(r.Season) {
			bad("season", "%q: the season is its year, such as 2026, or the year and its name, such as 2026-vụ 1", r.Season)
		}
		// The crop as plots take it: its code, or its name in either language.
		_ = tx.QueryRow(ctx, `SELECT code FROM crop WHERE code = $1 OR fold_key = fold($1) OR lower(name_en) = lower($1) ORDER BY code = $1 DESC LIMIT 1`, r.Crop).Scan(&r.Crop)
		if !containsStr(crops, r.Crop) {
			bad("crop", "crop %q is not grown in %s (its crops: %s)", r.Crop, name, strings.Join(crops, ", "))
		}
		if r.Market != "" && !marketRE.MatchString(r.Market) {
			bad("market", "market %q: two letters, such as CN", r.Market)
		}
		if r.AreaHa != nil && (math.IsNaN(*r.AreaHa) || *r.AreaHa < 0 || *r.AreaHa > ha*1.0001+1e-9) {
			bad("area_ha", "%v ha: the season's area is at most the area's %s ha", *r.AreaHa, ftoa(round(ha, 4)))
		}
		if r.ExpectedOutputT != nil && (*r.ExpectedOutputT < 0 || math.IsNaN(*r.ExpectedOutputT)) {
			bad("expected_output_t", "the expected output cannot be negative")
		}
		var from, to *time.Time
		for _, d := range []struct {
			field string
			v     *string
			dst   **time.Time
		}{{"expected_harvest_from", r.ExpectedHarvestFrom, &from}, {"expected_harvest_to", r.ExpectedHarvestTo, &to}} {
			if d.v == nil || *d.v == "" {
				continue
			}
			t, err := time.Parse(time.DateOnly, *d.v)
			if err != nil {
				bad(d.field, "%q is not a date YYYY-MM-DD", *d.v)
				continue
			}
			*d.dst = &t
		}
		if from != nil && to != nil && to.Before(*from) {
			bad("expected_harvest_to", "the harvest would end on %s, before it starts (%s)", to.Format(time.DateOnly), from.Format(time.DateOnly))
		}
		if len(details) > 0 {
			return registry.Invalid(details)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO seasonal_report (growing_area_id, season, crop, variety, area_ha, standard, market, expected_output_t,
			expected_harvest_from, expected_harvest_to, reported_by, province_code)
			VALUES ($1, $2, $3, NULLIF($4, ''), $5, NULLIF($6, ''), NULLIF($7, ''), $8, $9, $10, $11, $12) RETURNING id`,
			r.GrowingAreaID, r.Season, r.Crop, r.Variety, r.AreaHa, r.Standard, r.Market, r.ExpectedOutputT, from, to, a.String(), province).Scan(&id); err != nil {
			if registry.ErrorCode(mapError(err)) == registry.ECONFLICT {
				return registry.Errorf(registry.ECONFLICT, "%s already has its %s report for %s and %s: report the actual output on it (PATCH /api/v1/seasonal-reports/{id})", name, r.Season, r.Crop, cmpOr(r.Market, "every market"))
			}
			return mapError(err)
		}
		after, err := rowJSON(ctx, tx, "seasonal_report", id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, auditEntry{Action: "seasonal_report.create", ObjectType: "seasonal_report", ObjectID: id, Province: province, After: after})
	})
	return id, err
}

func containsStr(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// ReportActualOutput implements registry.ProcedureService: after the harvest.
func (s *ProcedureService) ReportActualOutput(ctx context.Context, id int64, tonnes float64) error {
	a, _ := registry.ActorFromContext(ctx)
	if math.IsNaN(tonnes) || tonnes < 0 {
		return registry.Invalid([]registry.Detail{{Field: "actual_output_t", Message: "the actual output is tonnes, 0 or more"}})
	}
	return s.db.Transact(ctx, func(tx pgx.Tx) error {
		var province string
		var registrant *int64
		err := tx.QueryRow(ctx, `SELECT r.province_code, g.registrant_id FROM seasonal_report r JOIN growing_area g ON g.id = r.growing_area_id WHERE r.id = $1 FOR UPDATE OF r`, id).Scan(&province, &registrant)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.Errorf(registry.ENOTFOUND, "seasonal report %d not found", id)
		} else if err != nil {
			return err
		}
		if !isRegistrant(a, derefOr(registrant)) && !provinceOfficer(a, province) {
			return registry.Errorf(registry.EFORBIDDEN, "seasonal report %d is its growing area's registrant's (or an officer of province %s)", id, province)
		}
		before, err := rowJSON(ctx, tx, "seasonal_report", id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE seasonal_report SET actual_output_t = $2, actual_reported_at = now() WHERE id = $1`, id, tonnes); err != nil {
			return mapError(err)
		}
		after, err := rowJSON(ctx, tx, "seasonal_report", id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, auditEntry{Action: "seasonal_report.actual", ObjectType: "seasonal_report", ObjectID: id, Province: province, Before: before, After: after})
	})
}

// SeasonalReports implements registry.ProcedureService.
func (s *ProcedureService) SeasonalReports(ctx context.Context, area int64) ([]registry.SeasonalReport, error) {
	a, _ := registry.ActorFromContext(ctx)
	var province, name string
	var registrant *int64
	err := s.db.Pool.QueryRow(ctx, `SELECT province_code, name, registrant_id FROM growing_area WHERE id = $1 AND deleted_at IS NULL`, area).Scan(&province, &name, &registrant)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "growing area %d not found", area)
	} else if err != nil {
		return nil, err
	}
	if !isRegistrant(a, derefOr(registrant)) && !provinceOfficer(a, province) {
		return nil, registry.Errorf(registry.EFORBIDDEN, "the seasonal reports of %s are its registrant's and the officers' of province %s", name, province)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT id, growing_area_id, season, crop, COALESCE(variety, ''), area_ha, COALESCE(standard, ''), COALESCE(market, ''),
		expected_output_t::float8, to_char(expected_harvest_from, 'YYYY-MM-DD'), to_char(expected_harvest_to, 'YYYY-MM-DD'), actual_output_t::float8, reported_at, actual_reported_at
		FROM seasonal_report WHERE growing_area_id = $1 ORDER BY season DESC, crop, market`, area)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (registry.SeasonalReport, error) {
		var x registry.SeasonalReport
		return x, r.Scan(&x.ID, &x.GrowingAreaID, &x.Season, &x.Crop, &x.Variety, &x.AreaHa, &x.Standard, &x.Market, &x.ExpectedOutputT,
			&x.ExpectedHarvestFrom, &x.ExpectedHarvestTo, &x.ActualOutputT, &x.ReportedAt, &x.ActualReportedAt)
	})
}

// provinceOfficer says whether the caller acts for the whole province: an administrator, or an
// officer whose jurisdiction holds it.
func provinceOfficer(a registry.Actor, province string) bool {
	return a.Role == registry.RoleAdmin || (a.Role == registry.RoleOfficer && a.InJurisdiction(province, ""))
}

// mayRunHouse says whether the caller may change a packing house of province, run by operator.
func mayRunHouse(a registry.Actor, province string, operator *int64) bool {
	return provinceOfficer(a, province) ||
		(operator != nil && isRegistrant(a, *operator))
}

// CreatePackingHouse implements registry.ProcedureService: officers register packing houses in
// their province; an enterprise or cooperative registers its own.
func (s *ProcedureService) CreatePackingHouse(ctx context.Context, h registry.PackingHouseRequest) (int64, error) {
	a, _ := registry.ActorFromContext(ctx)
	var details []registry.Detail
	if h.Name == nil || vntext.Clean(*h.Name) == "" {
		details = append(details, registry.Detail{Field: "name", Message: "name is required, such as \"Cơ sở đóng gói Sầu riêng Ea Kly\""})
	}
	if h.Location == nil {
		details = append(details, registry.Detail{Field: "location", Message: "the packing house's location is required: [lon, lat]"})
	}
	if (a.Role == registry.RoleCooperative || a.Role == registry.RoleExporter) && h.OperatorID == nil {
		h.OperatorID = a.ProducerID
	}
	details = append(details, checkHouse(&h)...)
	if len(details) > 0 {
		return 0, registry.Invalid(details)
	}
	var id int64
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		province, commune, err := placePoint(ctx, tx, h.Location[0], h.Location[1])
		if err != nil {
			return err
		}
		if !mayRunHouse(a, province, h.OperatorID) {
			return registry.Errorf(registry.EFORBIDDEN, "you may not register a packing house in province %s: officers of the province do, and enterprises their own", province)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO packing_house (name, operator_id, address, province_code, commune_code, location, capacity_tpd, created_by, updated_by)
			VALUES ($1, $2, $3, $4, NULLIF($5, ''), ST_SetSRID(ST_MakePoint($6, $7), 4326), $8, $9, $9) RETURNING id`,
			*h.Name, h.OperatorID, h.Address, province, commune, h.Location[0], h.Location[1], h.CapacityTPD, a.String()).Scan(&id); err != nil {
			return mapError(err)
		}
		after, err := rowJSON(ctx, tx, "packing_house", id)
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, auditEntry{Action: "packing_house.create", ObjectType: "packing_house", ObjectID: id, Province: province, Commune: commune, After: after}); err != nil {
			return err
		}
		return codeChanged(ctx, s.db, tx, nil, &id)
	})
	return id, err
}

func checkHouse(h *registry.PackingHouseRequest) []registry.Detail {
	var out []registry.Detail
	if h.Name != nil {
		n := vntext.Clean(*h.Name)
		h.Name = &n
	}
	if h.Address != nil {
		n := vntext.Clean(*h.Address)
		h.Address = &n
	}
	if h.Location != nil && (h.Location[0] < 100 || h.Location[0] > 115 || h.Location[1] < 6 || h.Location[1] > 25) {
		out = append(out, registry.Detail{Field: "location", Message: fmt.Sprintf("%v, %v is outside Viet Nam: [lon, lat] with lon 100-115, lat 6-25", h.Location[0], h.Location[1])})
	}
	if h.CapacityTPD != nil && (*h.CapacityTPD < 0 || math.IsNaN(*h.CapacityTPD)) {
		out = append(out, registry.Detail{Field: "capacity_tpd", Message: "the capacity is tonnes a day, 0 or more"})
	}
	return out
}

// placePoint finds the commune (and province) a point lies in, by the loaded boundaries.
func placePoint(ctx context.Context, q querier, lon, lat float64) (province, commune string, err error) {
	err = q.QueryRow(ctx, `SELECT COALESCE(
			(SELECT c.province_code FROM commune c WHERE c.scheme = 2025 AND ST_Intersects(c.boundary, ST_SetSRID(ST_MakePoint($1, $2), 4326)) LIMIT 1),
			(SELECT p.code FROM province p WHERE p.scheme = 2025 AND ST_Intersects(p.boundary, ST_SetSRID(ST_MakePoint($1, $2), 4326)) LIMIT 1), ''),
		COALESCE((SELECT c.code FROM commune c WHERE c.scheme = 2025 AND ST_Intersects(c.boundary, ST_SetSRID(ST_MakePoint($1, $2), 4326)) LIMIT 1), '')`, lon, lat).
		Scan(&province, &commune)
	if err == nil && province == "" {
		err = registry.Invalid([]registry.Detail{{Field: "location", Message: fmt.Sprintf("%v, %v lies in no province whose boundary is loaded", lon, lat)}})
	}
	return province, commune, err
}

// UpdatePackingHouse implements registry.ProcedureService.
func (s *ProcedureService) UpdatePackingHouse(ctx context.Context, id int64, h registry.PackingHouseRequest) error {
	a, _ := registry.ActorFromContext(ctx)
	if d := checkHouse(&h); len(d) > 0 {
		return registry.Invalid(d)
	}
	if h.Name != nil && *h.Name == "" {
		return registry.Invalid([]registry.Detail{{Field: "name", Message: "a packing house keeps a name"}})
	}
	return s.db.Transact(ctx, func(tx pgx.Tx) error {
		var province string
		var operator *int64
		err := tx.QueryRow(ctx, `SELECT province_code, operator_id FROM packing_house WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id).Scan(&province, &operator)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.Errorf(registry.ENOTFOUND, "packing house %d not found", id)
		} else if err != nil {
			return err
		}
		if !mayRunHouse(a, province, operator) {
			return registry.Errorf(registry.EFORBIDDEN, "packing house %d is changed by its operator or an officer of province %s", id, province)
		}
		newProvince, commune := province, ""
		if h.Location != nil {
			if newProvince, commune, err = placePoint(ctx, tx, h.Location[0], h.Location[1]); err != nil {
				return err
			}
			if newProvince != province {
				return registry.Invalid([]registry.Detail{{Field: "location", Message: fmt.Sprintf("the new location lies in province %s, not %s where the house is registered", newProvince, province)}})
			}
		}
		before, err := rowJSON(ctx, tx, "packing_house", id)
		if err != nil {
			return err
		}
		var lon, lat *float64
		if h.Location != nil {
			lon, lat = &h.Location[0], &h.Location[1]
		}
		if _, err := tx.Exec(ctx, `UPDATE packing_house SET name = COALESCE($2, name), address = COALESCE($3, address), capacity_tpd = COALESCE($4, capacity_tpd),
			operator_id = COALESCE($5, operator_id),
			location = CASE WHEN $6::float8 IS NULL THEN location ELSE ST_SetSRID(ST_MakePoint($6, $7), 4326) END,
			commune_code = CASE WHEN $6::float8 IS NULL THEN commune_code ELSE NULLIF($8, '') END,
			version = version + 1, updated_at = now(), updated_by = $9 WHERE id = $1`,
			id, h.Name, h.Address, h.CapacityTPD, h.OperatorID, lon, lat, commune, a.String()); err != nil {
			return mapError(err)
		}
		after, err := rowJSON(ctx, tx, "packing_house", id)
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, auditEntry{Action: "packing_house.update", ObjectType: "packing_house", ObjectID: id, Province: province, Before: before, After: after}); err != nil {
			return err
		}
		return codeChanged(ctx, s.db, tx, nil, &id)
	})
}

// LinkPackingHouse implements registry.ProcedureService: officers of the house's province
// register which growing areas' produce it may pack, from a day and until a day.
func (s *ProcedureService) LinkPackingHouse(ctx context.Context, l registry.PackingLink) error {
	a, _ := registry.ActorFromContext(ctx)
	if l.ValidFrom.IsZero() {
		return registry.Invalid([]registry.Detail{{Field: "valid_from", Message: "the day the link starts is required (YYYY-MM-DD)"}})
	}
	if l.ValidTo != nil && l.ValidTo.Before(l.ValidFrom) {
		return registry.Invalid([]registry.Detail{{Field: "valid_to", Message: fmt.Sprintf("the link would end on %s, before it starts (%s)", l.ValidTo.Format(time.DateOnly), l.ValidFrom.Format(time.DateOnly))}})
	}
	return s.db.Transact(ctx, func(tx pgx.Tx) error {
		var province, house, area string
		err := tx.QueryRow(ctx, `SELECT h.province_code, h.name, g.name FROM packing_house h, growing_area g WHERE h.id = $1 AND g.id = $2 AND h.deleted_at IS NULL AND g.deleted_at IS NULL`,
			l.PackingHouseID, l.GrowingAreaID).Scan(&province, &house, &area)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.Errorf(registry.ENOTFOUND, "packing house %d or growing area %d not found", l.PackingHouseID, l.GrowingAreaID)
		} else if err != nil {
			return err
		}
		if !provinceOfficer(a, province) {
			return registry.Errorf(registry.EFORBIDDEN, "officers of province %s register what %s may pack", province, house)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO packing_house_growing_area (packing_house_id, growing_area_id, province_code, valid_from, valid_to)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (packing_house_id, growing_area_id) DO UPDATE SET valid_from = $4, valid_to = $5`,
			l.PackingHouseID, l.GrowingAreaID, province, l.ValidFrom, l.ValidTo); err != nil {
			return mapError(err)
		}
		to := "open"
		if l.ValidTo != nil {
			to = l.ValidTo.Format(time.DateOnly)
		}
		if err := audit(ctx, tx, auditEntry{Action: "packing_house.link", ObjectType: "packing_house", ObjectID: l.PackingHouseID, Province: province,
			Reason: fmt.Sprintf("growing area %d (%s) from %s to %s", l.GrowingAreaID, area, l.ValidFrom.Format(time.DateOnly), to)}); err != nil {
			return err
		}
		return codeChanged(ctx, s.db, tx, &l.GrowingAreaID, nil)
	})
}

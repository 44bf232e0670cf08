package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/vntext"
)

// ApplicationService runs applications for codes through their procedure.
type ApplicationService struct {
	db *DB
	// ValidityMonths is how long a code is valid when its decision names no valid_to.
	ValidityMonths int
}

var _ registry.ApplicationService = (*ApplicationService)(nil)

// NewApplicationService returns an ApplicationService on db; codes are valid validityMonths by default.
func NewApplicationService(db *DB, validityMonths int) *ApplicationService {
	if validityMonths <= 0 {
		validityMonths = 24
	}
	return &ApplicationService{db: db, ValidityMonths: validityMonths}
}

func init() {
	addConstraintMessages(map[string]string{
		"application_harvest_months_check":           "the expected harvest runs from a month to a month, 1 to 12",
		"application_harvests_per_year_check":        "harvests a year are 1 to 12",
		"application_area_market_open_key":           "this growing area already has an open application for this market: continue that one, or withdraw it first",
		"application_house_market_open_key":          "this packing house already has an open application for this market: continue that one, or withdraw it first",
		"application_attachment_kind_check":          "an attachment is a farming diary, a certificate, the commitment letter or other",
		"application_attachment_content_type_check":  "an attachment is a PDF, JPEG or PNG file",
		"application_attachment_size_check":          "an attachment cannot be empty",
		"inspection_photo_content_type_check":        "a photo is a JPEG or PNG image",
		"inspection_photo_size_check":                "a photo cannot be empty",
		"inspection_photo_accuracy_m_check":          "a photo's accuracy cannot be negative",
		"province_letters_letters_check":             "province letters are two capital letters A-Z, such as DL",
		"province_letters_letters_key":               "these letters already belong to another province: codes of two provinces would collide",
		"code_sequence_kind_check":                   "a code's kind is OR (orchard) or PH (packing house)",
		"code_sequence_last_check":                   "a code's sequence number starts at 1",
		"packing_house_growing_area_dates_check":     "a packing house's link to a growing area ends (valid_to) on or after the day it starts (valid_from)",
		"seasonal_report_harvest_check":              "the expected harvest ends on or after the day it starts",
		"application_market_code_id_fkey":            "the application's code does not exist",
		"application_attachment_application_id_fkey": "the application does not exist",
		"application_event_application_id_fkey":      "the application does not exist",
		"inspection_photo_inspection_id_fkey":        "the inspection does not exist",
		"market_code_application_id_fkey":            "the code's application does not exist",
	})
}

// appRow is what the procedure needs of an application, read under lock.
type appRow struct {
	id                         int64
	status, market, province   string
	commune                    string
	area, house, code          *int64
	registrant                 int64
	registrantName, objectName string
}

const appLockSQL = `
	SELECT a.id, a.status, a.market, a.province_code, COALESCE(g.commune_code, h.commune_code, ''), a.growing_area_id, a.packing_house_id,
	       a.market_code_id, a.registrant_id, r.name, COALESCE(g.name, h.name, '')
	FROM application a JOIN producer r ON r.id = a.registrant_id
	LEFT JOIN growing_area g ON g.id = a.growing_area_id LEFT JOIN packing_house h ON h.id = a.packing_house_id
	WHERE a.id = $1`

func scanApp(row pgx.Row) (appRow, error) {
	var r appRow
	err := row.Scan(&r.id, &r.status, &r.market, &r.province, &r.commune, &r.area, &r.house, &r.code, &r.registrant, &r.registrantName, &r.objectName)
	return r, err
}

// lock reads an application under lock, or ENOTFOUND; the caller must see it.
func (s *ApplicationService) lock(ctx context.Context, tx pgx.Tx, id int64) (appRow, error) {
	r, err := scanApp(tx.QueryRow(ctx, appLockSQL+` FOR UPDATE OF a`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, registry.Errorf(registry.ENOTFOUND, "application %d not found", id)
	} else if err != nil {
		return r, err
	}
	if !canSeeApp(ctx, r) {
		return r, unseen(ctx, r)
	}
	return r, nil
}

// unseen is the answer to a caller who may not see application r: an officer hears that it
// lies outside their jurisdiction, anyone else that it does not exist.
func unseen(ctx context.Context, r appRow) error {
	if a, _ := registry.ActorFromContext(ctx); a.Role == registry.RoleOfficer {
		return registry.Errorf(registry.EFORBIDDEN, "application %d is in province %s, outside your jurisdiction (%s)", r.id, r.province, jurisdictionOf(a))
	}
	return registry.Errorf(registry.ENOTFOUND, "application %d not found", r.id)
}

// isRegistrant says whether the caller speaks for the application's registrant.
func isRegistrant(a registry.Actor, registrant int64) bool {
	return a.ProducerID != nil && *a.ProducerID == registrant && (a.Role == registry.RoleCooperative || a.Role == registry.RoleExporter)
}

// isAppOfficer says whether the caller decides for the application's province.
func isAppOfficer(a registry.Actor, r appRow) bool {
	return a.Role == registry.RoleAdmin || (a.Role == registry.RoleOfficer && a.InJurisdiction(r.province, r.commune))
}

func canSeeApp(ctx context.Context, r appRow) bool {
	a, _ := registry.ActorFromContext(ctx)
	return isRegistrant(a, r.registrant) || isAppOfficer(a, r) ||
		(a.Role == registry.RoleOfficer && slices.ContainsFunc(a.Jurisdictions, func(j registry.Jurisdiction) bool { return j.ProvinceCode == r.province }))
}

var marketRE = regexp.MustCompile(`^[A-Z]{2}$`)

// checkForm cleans a form and lists what is wrong with it; complete also requires what a
// submission needs.
func checkForm(f *registry.ApplicationForm, house bool, crops []string) []registry.Detail {
	var out []registry.Detail
	bad := func(field, format string, args ...any) {
		out = append(out, registry.Detail{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	for _, p := range []**string{&f.Representative, &f.Phone, &f.Email, &f.Address, &f.Crop} {
		if *p != nil {
			v := vntext.Clean(**p)
			*p = &v
		}
	}
	need := func(field string, missing bool, what string) {
		if missing {
			bad(field, "%s is required (%s)", field, what)
		}
	}
	need("representative", f.Representative == nil || *f.Representative == "", "who represents the registrant")
	need("phone", f.Phone == nil || *f.Phone == "", "a phone number to reach the representative")
	need("commitment", f.Commitment == nil || !*f.Commitment, "the registrant commits to the market's requirements: true")
	if f.Phone != nil && *f.Phone != "" && !phoneRE.MatchString(strings.ReplaceAll(*f.Phone, " ", "")) {
		bad("phone", "%q is not a phone number: 9 to 11 digits, such as 0905 123 456", *f.Phone)
	}
	if f.Email != nil && *f.Email != "" {
		if _, err := mail.ParseAddress(*f.Email); err != nil {
			bad("email", "%q is not an email address", *f.Email)
		}
	}
	if !house {
		need("crop", f.Crop == nil || *f.Crop == "", "the crop applied for")
		if f.Crop != nil && *f.Crop != "" && !slices.Contains(crops, *f.Crop) {
			bad("crop", "crop %q is not grown in this area (its crops: %s)", *f.Crop, strings.Join(crops, ", "))
		}
		need("varieties", f.Varieties == nil || len(*f.Varieties) == 0, "the varieties grown, such as [\"Ri6\", \"Monthong\"]")
		need("expected_harvest_from", f.ExpectedHarvestFrom == nil, "the month the harvest starts, 1 to 12")
		need("expected_harvest_to", f.ExpectedHarvestTo == nil, "the month the harvest ends, 1 to 12")
		need("expected_output_t", f.ExpectedOutputT == nil, "the expected output in tonnes")
		need("harvests_per_year", f.HarvestsPerYear == nil, "how many harvests a year")
	}
	if f.Varieties != nil {
		vs := []string{}
		for _, v := range *f.Varieties {
			if v = vntext.Clean(v); v != "" {
				vs = append(vs, v)
			}
		}
		*f.Varieties = vs
	}
	for _, m := range []struct {
		field string
		v     *int
	}{{"expected_harvest_from", f.ExpectedHarvestFrom}, {"expected_harvest_to", f.ExpectedHarvestTo}} {
		if m.v != nil && (*m.v < 1 || *m.v > 12) {
			bad(m.field, "%d is not a month: 1 to 12", *m.v)
		}
	}
	if f.HarvestsPerYear != nil && (*f.HarvestsPerYear < 1 || *f.HarvestsPerYear > 12) {
		bad("harvests_per_year", "%d harvests a year: 1 to 12", *f.HarvestsPerYear)
	}
	for _, n := range []struct {
		field string
		v     *float64
		max   float64
	}{{"tree_age_years", f.TreeAgeYears, 200}, {"expected_output_t", f.ExpectedOutputT, 1e7}, {"avg_yield_3y_t_ha", f.AvgYield3yTHa, 500}} {
		if n.v != nil && (math.IsNaN(*n.v) || *n.v < 0 || *n.v > n.max) {
			bad(n.field, "%v is out of range: 0 to %v", *n.v, n.max)
		}
	}
	if f.Standards != nil {
		for i, st := range *f.Standards {
			st.Name, st.Certificate = vntext.Clean(st.Name), vntext.Clean(st.Certificate)
			if st.Name == "" {
				bad(fmt.Sprintf("standards[%d].name", i), "name the standard, such as VietGAP, GlobalGAP or organic")
			}
			for _, d := range []struct{ field, v string }{{"issued_on", st.IssuedOn}, {"valid_to", st.ValidTo}} {
				if d.v != "" {
					if _, err := time.Parse(time.DateOnly, d.v); err != nil {
						bad(fmt.Sprintf("standards[%d].%s", i, d.field), "%q is not a date YYYY-MM-DD", d.v)
					}
				}
			}
			if st.IssuedOn != "" && st.ValidTo != "" && st.ValidTo < st.IssuedOn {
				bad(fmt.Sprintf("standards[%d].valid_to", i), "the certificate is valid to %s, before it was issued (%s)", st.ValidTo, st.IssuedOn)
			}
			(*f.Standards)[i] = st
		}
	}
	return out
}

var phoneRE = regexp.MustCompile(`^\+?[0-9]{9,12}$`)

// formColumns are the Form 01 columns, in the order formArgs gives their values.
const formColumns = `representative, phone, email, address, crop, varieties, tree_age_years, expected_harvest_from, expected_harvest_to,
	expected_output_t, avg_yield_3y_t_ha, harvests_per_year, standards, commitment`

func formArgs(f registry.ApplicationForm) []any {
	var standards []byte
	if f.Standards != nil {
		standards, _ = json.Marshal(*f.Standards)
	}
	var varieties any
	if f.Varieties != nil {
		varieties = *f.Varieties
	}
	return []any{f.Representative, f.Phone, f.Email, f.Address, f.Crop, varieties, f.TreeAgeYears, f.ExpectedHarvestFrom, f.ExpectedHarvestTo,
		f.ExpectedOutputT, f.AvgYield3yTHa, f.HarvestsPerYear, standards, f.Commitment}
}

// CreateApplication implements registry.ApplicationService.
func (s *ApplicationService) CreateApplication(ctx context.Context, req registry.ApplicationRequest) (int64, error) {
	a, _ := registry.ActorFromContext(ctx)
	req.Market = strings.ToUpper(strings.TrimSpace(req.Market))
	var details []registry.Detail
	if !marketRE.MatchString(req.Market) {
		details = append(details, registry.Detail{Field: "market", Message: fmt.Sprintf("market %q: the importing market as two letters (CN, US, AU, JP, KR, EU...) or VN for a domestic code", req.Market)})
	}
	if (req.GrowingAreaID == nil) == (req.PackingHouseID == nil) {
		details = append(details, registry.Detail{Field: "growing_area_id", Message: "an application is for one growing area (growing_area_id) or one packing house (packing_house_id)"})
		return 0, registry.Invalid(details)
	}
	var id int64
	var denied error
	var r appRow
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		var crops []string
		var registrant *int64
		var err error
		if req.GrowingAreaID != nil {
			err = tx.QueryRow(ctx, `SELECT g.name, g.registrant_id, g.province_code, COALESCE(g.commune_code, ''), g.crops, COALESCE(r.name, '')
				FROM growing_area g LEFT JOIN producer r ON r.id = g.registrant_id WHERE g.id = $1 AND g.deleted_at IS NULL`, *req.GrowingAreaID).
				Scan(&r.objectName, &registrant, &r.province, &r.commune, &crops, &r.registrantName)
		} else {
			err = tx.QueryRow(ctx, `SELECT h.name, h.operator_id, h.province_code, COALESCE(h.commune_code, ''), '{}'::text[], COALESCE(o.name, '')
				FROM packing_house h LEFT JOIN producer o ON o.id = h.operator_id WHERE h.id = $1 AND h.deleted_at IS NULL`, *req.PackingHouseID).
				Scan(&r.objectName, &registrant, &r.province, &r.commune, &crops, &r.registrantName)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			what, field, ref := "growing area", "growing_area_id", req.GrowingAreaID
			if req.PackingHouseID != nil {
				what, field, ref = "packing house", "packing_house_id", req.PackingHouseID
			}
			return registry.Invalid([]registry.Detail{{Field: field, Message: fmt.Sprintf("%s %d does not exist", what, *ref)}})
		} else if err != nil {
			return err
		}
		if registrant == nil {
			return registry.Invalid([]registry.Detail{{Field: "growing_area_id", Message: fmt.Sprintf("%s has no registrant (cooperative, enterprise or operator): an officer names one first", r.objectName)}})
		}
		r.registrant = *registrant
		if !isRegistrant(a, r.registrant) && !isAppOfficer(a, r) {
			denied = registry.Errorf(registry.EFORBIDDEN, "only %s (the registrant) or an officer of province %s may apply for %s", r.registrantName, r.province, r.objectName)
			return denied
		}
		details = append(details, checkForm(&req.ApplicationForm, req.PackingHouseID != nil, crops)...)
		if len(details) > 0 {
			return registry.Invalid(details)
		}
		args := append([]any{req.GrowingAreaID, req.PackingHouseID, r.registrant, req.Market, r.province, a.String()}, formArgs(req.ApplicationForm)...)
		if err := tx.QueryRow(ctx, `
			INSERT INTO application (growing_area_id, packing_house_id, registrant_id, market, province_code, created_by, updated_by, `+formColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, COALESCE($12::text[], '{}'), $13, $14, $15, $16, $17, $18, COALESCE($19::jsonb, '[]'), COALESCE($20::boolean, false))
			RETURNING id`, args...).Scan(&id); err != nil {
			return mapError(err)
		}
		if err := s.derive(ctx, tx, id); err != nil {
			return err
		}
		return s.event(ctx, tx, id, "", registry.AppDraft, "", r.province, "application.create")
	})
	if denied != nil {
		s.db.auditRefusal(ctx, auditEntry{Action: "application.create", Outcome: "denied", ObjectType: "application", Province: r.province, Reason: registry.ErrorMessage(denied)})
	}
	return id, err
}

// derive sets an application's area and households from its growing area's plots today.
func (s *ApplicationService) derive(ctx context.Context, tx pgx.Tx, id int64) error {
	_, err := tx.Exec(ctx, `
		UPDATE application a SET area_ha = d.ha, household_count = d.households
		FROM (SELECT round(sum(p.area_ha)::numeric, 4)::float8 AS ha, count(DISTINCT p.producer_id)::int AS households
		      FROM application x JOIN growing_area_plot m ON m.growing_area_id = x.growing_area_id AND m.removed_at IS NULL
		      JOIN plot p ON p.id = m.plot_id AND p.deleted_at IS NULL WHERE x.id = $1) d
		WHERE a.id = $1 AND a.growing_area_id IS NOT NULL`, id)
	return err
}

// event records a step of an application with its audit record.
func (s *ApplicationService) event(ctx context.Context, tx pgx.Tx, id int64, from, to, note, province, action string) error {
	a, _ := registry.ActorFromContext(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO application_event (application_id, from_status, to_status, note, actor, province_code)
		VALUES ($1, NULLIF($2, ''), $3, NULLIF($4, ''), $5, $6)`, id, from, to, note, a.String(), province); err != nil {
		return err
	}
	after, err := rowJSON(ctx, tx, "application", id)
	if err != nil {
		return err
	}
	reason := to
	if from != "" {
		reason = from + " -> " + to
	}
	return audit(ctx, tx, auditEntry{Action: action, ObjectType: "application", ObjectID: id, Province: province, Reason: reason, After: after})
}

// conflict is the 409 of a move not allowed from an application's status.
func conflict(from, to string) error {
	next := registry.AppNext(from)
	may := "it can no longer change"
	if len(next) > 0 {
		may = "from " + from + " it may become " + strings.Join(next, ", ")
	}
	return &registry.Error{Code: registry.ECONFLICT, Message: fmt.Sprintf("the application is %s and cannot become %s: %s", from, to, may),
		Extra: map[string]any{"status": from, "allowed": cmpSlice(next)}}
}

// stateConflict is the 409 of a change the application's status does not allow: format names
// the status (%s), and the answer lists where the application may go from there.
func stateConflict(status, format string) error {
	return &registry.Error{Code: registry.ECONFLICT, Message: fmt.Sprintf(format, status),
		Extra: map[string]any{"status": status, "allowed": cmpSlice(registry.AppNext(status))}}
}

func cmpSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// UpdateApplication implements registry.ApplicationService.
func (s *ApplicationService) UpdateApplication(ctx context.Context, id int64, f registry.ApplicationForm) error {
	a, _ := registry.ActorFromContext(ctx)
	return s.db.Transact(ctx, func(tx pgx.Tx) error {
		r, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if !isRegistrant(a, r.registrant) && !isAppOfficer(a, r) {
			return registry.Errorf(registry.EFORBIDDEN, "only %s (the registrant) or an officer of province %s may change this application", r.registrantName, r.province)
		}
		if r.status != registry.AppDraft && r.status != registry.AppReturned {
			return stateConflict(r.status, "the application is %s: it is changed while it is a draft or returned for changes")
		}
		if _, err := tx.Exec(ctx, `UPDATE application SET
			representative = COALESCE($2, representative), phone = COALESCE($3, phone), email = COALESCE($4, email), address = COALESCE($5, address),
			crop = COALESCE($6, crop), varieties = COALESCE($7, varieties), tree_age_years = COALESCE($8, tree_age_years),
			expected_harvest_from = COALESCE($9, expected_harvest_from), expected_harvest_to = COALESCE($10, expected_harvest_to),
			expected_output_t = COALESCE($11, expected_output_t), avg_yield_3y_t_ha = COALESCE($12, avg_yield_3y_t_ha),
			harvests_per_year = COALESCE($13, harvests_per_year), standards = COALESCE($14, standards), commitment = COALESCE($15, commitment),
			version = version + 1, updated_at = now(), updated_by = $16
			WHERE id = $1`, append(append([]any{id}, formArgs(f)...), a.String())...); err != nil {
			return mapError(err)
		}
		// The whole form must still hold.
		full, crops, err := s.form(ctx, tx, id)
		if err != nil {
			return err
		}
		if d := partialCheck(checkForm(full, r.house != nil, crops), f); len(d) > 0 {
			return registry.Invalid(d)
		}
		after, err := rowJSON(ctx, tx, "application", id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, auditEntry{Action: "application.update", ObjectType: "application", ObjectID: id, Province: r.province, After: after})
	})
}

// partialCheck keeps the problems of the fields a PATCH named (a draft may be incomplete in
// the others until it is submitted).
func partialCheck(details []registry.Detail, f registry.ApplicationForm) []registry.Detail {
	b, _ := json.Marshal(f)
	var named map[string]any
	_ = json.Unmarshal(b, &named)
	var out []registry.Detail
	for _, d := range details {
		field, _, _ := strings.Cut(d.Field, "[")
		if v, ok := named[field]; ok && v != nil {
			out = append(out, d)
		}
	}
	return out
}

// form reads an application's form and its area's crops.
func (s *ApplicationService) form(ctx context.Context, q querier, id int64) (*registry.ApplicationForm, []string, error) {
	var f registry.ApplicationForm
	var crops []string
	var standards []byte
	err := q.QueryRow(ctx, `SELECT a.representative, a.phone, a.email, a.address, a.crop, a.varieties, a.tree_age_years::float8, a.expected_harvest_from::int,
		a.expected_harvest_to::int, a.expected_output_t::float8, a.avg_yield_3y_t_ha::float8, a.harvests_per_year::int, a.standards, a.commitment, COALESCE(g.crops, '{}')
		FROM application a LEFT JOIN growing_area g ON g.id = a.growing_area_id WHERE a.id = $1`, id).
		Scan(&f.Representative, &f.Phone, &f.Email, &f.Address, &f.Crop, &f.Varieties, &f.TreeAgeYears, &f.ExpectedHarvestFrom, &f.ExpectedHarvestTo,
			&f.ExpectedOutputT, &f.AvgYield3yTHa, &f.HarvestsPerYear, &standards, &f.Commitment, &crops)
	if err != nil {
		return nil, nil, err
	}
	var st []registry.Standard
	_ = json.Unmarshal(standards, &st)
	f.Standards = &st
	return &f, crops, nil
}

// MoveApplication implements registry.ApplicationService.
func (s *ApplicationService) MoveApplication(ctx context.Context, id int64, m registry.AppMove) error {
	a, _ := registry.ActorFromContext(ctx)
	m.Note = vntext.Clean(m.Note)
	var denied error
	var r appRow
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		var err error
		if r, err = s.lock(ctx, tx, id); err != nil {
			return err
		}
		switch m.To {
		case registry.AppApproved, registry.AppRejected:
			return registry.Invalid([]registry.Detail{{Field: "status", Message: "approval and rejection are decisions: POST /api/v1/applications/{id}/decision"}})
		case registry.AppInspected:
			return registry.Invalid([]registry.Detail{{Field: "status", Message: "an application becomes inspected when its inspection is recorded: POST /api/v1/applications/{id}/inspection"}})
		}
		by := registry.AppStepBy(r.status, m.To)
		if by == "" {
			return conflict(r.status, m.To)
		}
		if (by == "registrant" && !isRegistrant(a, r.registrant) && a.Role != registry.RoleAdmin) || (by == "officer" && !isAppOfficer(a, r)) {
			who := r.registrantName + " (the registrant)"
			if by == "officer" {
				who = "an officer of province " + r.province
			}
			denied = registry.Errorf(registry.EFORBIDDEN, "only %s may move this application from %s to %s", who, r.status, m.To)
			return denied
		}
		var details []registry.Detail
		switch m.To {
		case registry.AppReturned:
			if m.Note == "" {
				details = append(details, registry.Detail{Field: "note", Message: "say what the registrant must change (note)"})
			}
		case registry.AppSubmitted:
			f, crops, err := s.form(ctx, tx, id)
			if err != nil {
				return err
			}
			details = append(details, checkForm(f, r.house != nil, crops)...)
			if err := s.derive(ctx, tx, id); err != nil {
				return err
			}
		case registry.AppInspectionScheduled:
			today := s.db.now().In(vietnamTime).Format(time.DateOnly)
			if m.On == nil {
				details = append(details, registry.Detail{Field: "on", Message: "the day of the inspection is required (YYYY-MM-DD)"})
			} else if m.On.Format(time.DateOnly) < today {
				details = append(details, registry.Detail{Field: "on", Message: fmt.Sprintf("the inspection is scheduled for %s, before today (%s)", m.On.Format(time.DateOnly), today)})
			}
			m.Inspectors = cleanNames(m.Inspectors)
			if len(m.Inspectors) == 0 {
				details = append(details, registry.Detail{Field: "inspectors", Message: "name who will inspect (inspectors)"})
			}
		}
		if len(details) > 0 {
			return registry.Invalid(details)
		}
		if _, err := tx.Exec(ctx, `UPDATE application SET status = $2,
			submitted_at = CASE WHEN $2 = 'submitted' THEN now() ELSE submitted_at END,
			return_note = CASE WHEN $2 = 'returned' THEN $3 ELSE return_note END,
			inspection_on = CASE WHEN $2 = 'inspection_scheduled' THEN $4::date ELSE inspection_on END,
			inspectors = CASE WHEN $2 = 'inspection_scheduled' THEN $5::text[] ELSE inspectors END,
			decided_at = CASE WHEN $2 = 'withdrawn' THEN now() ELSE decided_at END,
			version = version + 1, updated_at = now(), updated_by = $6 WHERE id = $1`,
			id, m.To, m.Note, m.On, m.Inspectors, a.String()); err != nil {
			return mapError(err)
		}
		return s.event(ctx, tx, id, r.status, m.To, m.Note, r.province, "application.status")
	})
	if denied != nil {
		s.db.auditRefusal(ctx, auditEntry{Action: "application.status", Outcome: "denied", ObjectType: "application", ObjectID: id, Province: r.province, Reason: registry.ErrorMessage(denied)})
	}
	return err
}

func cleanNames(in []string) []string {
	out := []string{}
	for _, n := range in {
		if n = vntext.Clean(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

var attachmentKinds = map[string]bool{"diary": true, "certificate": true, "commitment": true, "other": true}

// AddAttachment implements registry.ApplicationService.
func (s *ApplicationService) AddAttachment(ctx context.Context, id int64, at registry.Attachment) (*registry.AttachmentInfo, error) {
	a, _ := registry.ActorFromContext(ctx)
	at.Filename = vntext.Clean(at.Filename)
	var details []registry.Detail
	if !attachmentKinds[at.Kind] {
		details = append(details, registry.Detail{Field: "kind", Message: fmt.Sprintf("kind %q: an attachment is diary (farming diary pages), certificate, commitment (the commitment letter) or other", at.Kind)})
	}
	ct := registry.SniffDocument(at.Data)
	switch {
	case len(at.Data) == 0:
		details = append(details, registry.Detail{Field: "file", Message: "the file is empty"})
	case len(at.Data) > registry.MaxAttachmentBytes:
		return nil, &registry.Error{Code: registry.ETOOLARGE, Message: fmt.Sprintf("%s is %s MB: an attachment is at most %d MB (scan at a lower resolution, or split it)",
			cmpOr(at.Filename, "the file"), ftoa(round(float64(len(at.Data))/(1<<20), 1)), registry.MaxAttachmentBytes>>20),
			Details: []registry.Detail{{Field: "file", Message: "over the limit"}}}
	case ct == "":
		details = append(details, registry.Detail{Field: "file", Message: fmt.Sprintf("%s is not a PDF, JPEG or PNG file (by its content, whatever its name says)", cmpOr(at.Filename, "the file"))})
	}
	if at.Filename == "" {
		at.Filename = "attachment"
	}
	if len(details) > 0 {
		return nil, registry.Invalid(details)
	}
	out := &registry.AttachmentInfo{Kind: at.Kind, Filename: at.Filename, ContentType: ct, Size: len(at.Data)}
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		r, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if !isRegistrant(a, r.registrant) && !isAppOfficer(a, r) {
			return registry.Errorf(registry.EFORBIDDEN, "only %s (the registrant) or an officer of province %s may attach files to this application", r.registrantName, r.province)
		}
		if r.status != registry.AppDraft && r.status != registry.AppReturned && r.status != registry.AppSubmitted {
			return stateConflict(r.status, "the application is %s: files are attached before its review starts")
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM application_attachment WHERE application_id = $1`, id).Scan(&n); err != nil {
			return err
		}
		if n >= registry.MaxAttachments {
			return registry.Invalid([]registry.Detail{{Field: "file", Message: fmt.Sprintf("the application has %d attachments: at most %d", n, registry.MaxAttachments)}})
		}
		sum := sha256.Sum256(at.Data)
		if err := tx.QueryRow(ctx, `INSERT INTO application_attachment (application_id, kind, filename, content_type, size, sha256, data, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, created_at`, id, at.Kind, at.Filename, ct, len(at.Data), sum[:], at.Data, a.String()).Scan(&out.ID, &out.CreatedAt); err != nil {
			return mapError(err)
		}
		return audit(ctx, tx, auditEntry{Action: "application.attach", ObjectType: "application", ObjectID: id, Province: r.province,
			Reason: fmt.Sprintf("attachment %d: %s %s, %d bytes, sha256 %x", out.ID, at.Kind, ct, len(at.Data), sum[:8])})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Attachment implements registry.ApplicationService.
func (s *ApplicationService) Attachment(ctx context.Context, id, attachment int64) (*registry.AttachmentInfo, []byte, error) {
	r, err := scanApp(s.db.Pool.QueryRow(ctx, appLockSQL, id))
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !canSeeApp(ctx, r)) {
		return nil, nil, registry.Errorf(registry.ENOTFOUND, "application %d not found", id)
	} else if err != nil {
		return nil, nil, err
	}
	var info registry.AttachmentInfo
	var data []byte
	err = s.db.Pool.QueryRow(ctx, `SELECT id, kind, filename, content_type, size, created_at, data FROM application_attachment WHERE application_id = $1 AND id = $2`, id, attachment).
		Scan(&info.ID, &info.Kind, &info.Filename, &info.ContentType, &info.Size, &info.CreatedAt, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, registry.Errorf(registry.ENOTFOUND, "application %d has no attachment %d", id, attachment)
	}
	return &info, data, err
}

// DeleteAttachment implements registry.ApplicationService.
func (s *ApplicationService) DeleteAttachment(ctx context.Context, id, attachment int64) error {
	a, _ := registry.ActorFromContext(ctx)
	return s.db.Transact(ctx, func(tx pgx.Tx) error {
		r, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if !isRegistrant(a, r.registrant) && !isAppOfficer(a, r) {
			return registry.Errorf(registry.EFORBIDDEN, "only %s (the registrant) or an officer of province %s may remove this application's files", r.registrantName, r.province)
		}
		if r.status != registry.AppDraft && r.status != registry.AppReturned {
			return stateConflict(r.status, "the application is %s: files are removed while it is a draft or returned")
		}
		tag, err := tx.Exec(ctx, `DELETE FROM application_attachment WHERE application_id = $1 AND id = $2`, id, attachment)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return registry.Errorf(registry.ENOTFOUND, "application %d has no attachment %d", id, attachment)
		}
		return audit(ctx, tx, auditEntry{Action: "application.detach", ObjectType: "application", ObjectID: id, Province: r.province, Reason: fmt.Sprintf("attachment %d", attachment)})
	})
}

var conclusions = map[string]bool{"pass": true, "fail": true, "conditional": true}

// RecordInspection implements registry.ApplicationService.
func (s *ApplicationService) RecordInspection(ctx context.Context, id int64, rec registry.InspectionRecord) (int64, error) {
	a, _ := registry.ActorFromContext(ctx)
	rec.Reasons = vntext.Clean(rec.Reasons)
	var details []registry.Detail
	bad := func(field, format string, args ...any) {
		details = append(details, registry.Detail{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	now := s.db.now()
	today := now.In(vietnamTime).Format(time.DateOnly)
	if rec.On.IsZero() {
		bad("on", "the inspection's date is required (YYYY-MM-DD)")
	} else if rec.On.Format(time.DateOnly) > today {
		bad("on", "the inspection is dated %s, after today (%s): record it once it is made", rec.On.Format(time.DateOnly), today)
	}
	if !conclusions[rec.Conclusion] {
		bad("conclusion", "the conclusion is pass, fail or conditional, not %q", rec.Conclusion)
	} else if rec.Conclusion != "pass" && rec.Reasons == "" {
		bad("reasons", "a %s conclusion says why (reasons)", rec.Conclusion)
	}
	if len(rec.Checklist) == 0 {
		rec.Checklist = []byte("{}")
	}
	var obj map[string]any
	if json.Unmarshal(rec.Checklist, &obj) != nil || obj == nil {
		bad("checklist", "the checklist is a JSON object, such as {\"farming_diary\": \"complete\", \"pests\": [{\"name\": \"rệp sáp\", \"density\": \"thấp\"}]}")
	}
	types, photoProblems := checkPhotos(rec.Photos, now)
	details = append(details, photoProblems...)
	inspectors := cleanNames(rec.Inspectors)
	if len(details) > 0 {
		return 0, registry.Invalid(details)
	}
	var inspection int64
	var denied error
	var r appRow
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		var err error
		if r, err = s.lock(ctx, tx, id); err != nil {
			return err
		}
		if !isAppOfficer(a, r) {
			denied = registry.Errorf(registry.EFORBIDDEN, "only an officer of province %s may record this application's inspection", r.province)
			return denied
		}
		if r.status != registry.AppInspectionScheduled {
			return conflict(r.status, registry.AppInspected)
		}
		if len(inspectors) == 0 {
			if err := tx.QueryRow(ctx, `SELECT inspectors FROM application WHERE id = $1`, id).Scan(&inspectors); err != nil {
				return err
			}
			if len(inspectors) == 0 {
				return registry.Invalid([]registry.Detail{{Field: "inspectors", Message: "name who inspected (inspectors)"}})
			}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO inspection (application_id, growing_area_id, packing_house_id, inspected_on, inspectors, checklist, conclusion, reasons, province_code, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($8, ''), $9, $10) RETURNING id`,
			id, r.area, r.house, rec.On, inspectors, rec.Checklist, rec.Conclusion, rec.Reasons, r.province, a.String()).Scan(&inspection); err != nil {
			return mapError(err)
		}
		if err := insertPhotos(ctx, tx, inspection, rec.Photos, types); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE application SET status = 'inspected', version = version + 1, updated_at = now(), updated_by = $2 WHERE id = $1`, id, a.String()); err != nil {
			return err
		}
		return s.event(ctx, tx, id, r.status, registry.AppInspected, fmt.Sprintf("inspection %d: %s, %d photos", inspection, rec.Conclusion, len(rec.Photos)), r.province, "inspection.create")
	})
	if denied != nil {
		s.db.auditRefusal(ctx, auditEntry{Action: "inspection.create", Outcome: "denied", ObjectType: "application", ObjectID: id, Province: r.province, Reason: registry.ErrorMessage(denied)})
	}
	return inspection, err
}

// checkPhotos lists what is wrong with an inspection's (or a visit's) photos, and their types.
func checkPhotos(photos []registry.Photo, now time.Time) ([]string, []registry.Detail) {
	var details []registry.Detail
	bad := func(field, format string, args ...any) {
		details = append(details, registry.Detail{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if len(photos) > registry.MaxPhotos {
		bad("photo", "%d photos: at most %d", len(photos), registry.MaxPhotos)
	}
	types := make([]string, len(photos))
	for i, p := range photos {
		field := fmt.Sprintf("photo[%d]", i)
		types[i] = registry.SniffDocument(p.Data)
		switch {
		case len(p.Data) > registry.MaxPhotoBytes:
			bad(field, "photo %d is %s MB: at most %d MB", i+1, ftoa(round(float64(len(p.Data))/(1<<20), 1)), registry.MaxPhotoBytes>>20)
		case types[i] != "image/jpeg" && types[i] != "image/png":
			bad(field, "photo %d is not a JPEG or PNG image (by its content)", i+1)
		}
		if p.TakenAt == nil {
			bad(field+".taken_at", "photo %d: when it was taken is required (taken_at, RFC 3339)", i+1)
		} else if p.TakenAt.After(now.Add(5 * time.Minute)) {
			bad(field+".taken_at", "photo %d was taken at %s, in the future", i+1, p.TakenAt.Format(time.RFC3339))
		}
		if (p.Lon == nil) != (p.Lat == nil) {
			bad(field, "photo %d: give both lon and lat, or neither", i+1)
		} else if p.Lon != nil && (*p.Lon < 100 || *p.Lon > 115 || *p.Lat < 6 || *p.Lat > 25) {
			bad(field, "photo %d was taken at %v, %v: outside Viet Nam (lon 100-115, lat 6-25)", i+1, *p.Lon, *p.Lat)
		}
	}
	return types, details
}

// insertPhotos stores an inspection's photos, with where and when each was taken.
func insertPhotos(ctx context.Context, tx pgx.Tx, inspection int64, photos []registry.Photo, types []string) error {
	for i, p := range photos {
		if _, err := tx.Exec(ctx, `INSERT INTO inspection_photo (inspection_id, content_type, size, data, taken_at, position, accuracy_m)
			VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint($6, $7), 4326) END, $8)`,
			inspection, types[i], len(p.Data), p.Data, p.TakenAt, p.Lon, p.Lat, p.AccuracyM); err != nil {
			return mapError(err)
		}
	}
	return nil
}

// InspectionPhoto implements registry.ApplicationService.
func (s *ApplicationService) InspectionPhoto(ctx context.Context, inspection, photo int64) (string, []byte, error) {
	a, _ := registry.ActorFromContext(ctx)
	var province, commune, ct string
	var registrant *int64
	var data []byte
	err := s.db.Pool.QueryRow(ctx, `SELECT i.province_code, COALESCE(g.commune_code, h.commune_code, ''), COALESCE(g.registrant_id, h.operator_id), p.content_type, p.data
		FROM inspection_photo p JOIN inspection i ON i.id = p.inspection_id
		LEFT JOIN growing_area g ON g.id = i.growing_area_id LEFT JOIN packing_house h ON h.id = i.packing_house_id
		WHERE p.inspection_id = $1 AND p.id = $2`, inspection, photo).Scan(&province, &commune, &registrant, &ct, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, registry.Errorf(registry.ENOTFOUND, "inspection %d has no photo %d", inspection, photo)
	} else if err != nil {
		return "", nil, err
	}
	if !canSeeApp(ctx, appRow{province: province, commune: commune, registrant: derefOr(registrant)}) {
		_ = a
		return "", nil, registry.Errorf(registry.ENOTFOUND, "inspection %d has no photo %d", inspection, photo)
	}
	return ct, data, nil
}

func derefOr(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// Decide implements registry.ApplicationService.
func (s *ApplicationService) Decide(ctx context.Context, id int64, d registry.Decision) (*registry.CodeRef, error) {
	a, _ := registry.ActorFromContext(ctx)
	d.Document, d.Authority = vntext.Clean(d.Document), vntext.Clean(d.Authority)
	d.Reasons = cleanNames(d.Reasons)
	var out *registry.CodeRef
	var denied error
	var r appRow
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		var err error
		if r, err = s.lock(ctx, tx, id); err != nil {
			return err
		}
		if !isAppOfficer(a, r) {
			denied = registry.Errorf(registry.EFORBIDDEN, "only an officer of province %s may decide this application", r.province)
			return denied
		}
		if !d.Approve {
			if registry.AppStepBy(r.status, registry.AppRejected) == "" {
				return conflict(r.status, registry.AppRejected)
			}
			if len(d.Reasons) == 0 {
				return registry.Invalid([]registry.Detail{{Field: "reasons", Message: "a rejection gives its reasons"}})
			}
			if _, err := tx.Exec(ctx, `UPDATE application SET status = 'rejected', rejection_reasons = $2, decided_at = now(), version = version + 1, updated_at = now(), updated_by = $3
				WHERE id = $1`, id, d.Reasons, a.String()); err != nil {
				return err
			}
			return s.event(ctx, tx, id, r.status, registry.AppRejected, strings.Join(d.Reasons, "; "), r.province, "application.reject")
		}
		if r.status == registry.AppApproved && r.code != nil {
			var code string
			_ = tx.QueryRow(ctx, `SELECT code FROM market_code WHERE id = $1`, *r.code).Scan(&code)
			return &registry.Error{Code: registry.ECONFLICT, Message: fmt.Sprintf("the application is already approved: code %s was issued", code),
				Extra: map[string]any{"status": r.status, "allowed": []string{}, "code": code}}
		}
		if r.status != registry.AppInspected {
			e := conflict(r.status, registry.AppApproved).(*registry.Error)
			e.Message = fmt.Sprintf("the application is %s: an application is approved once it has been inspected (%s)", r.status,
				strings.TrimPrefix(e.Message, fmt.Sprintf("the application is %s and cannot become approved: ", r.status)))
			return e
		}
		var conclusion string
		if err := tx.QueryRow(ctx, `SELECT conclusion FROM inspection WHERE application_id = $1 ORDER BY inspected_on DESC, id DESC LIMIT 1`, id).Scan(&conclusion); err != nil {
			return err
		}
		if conclusion == "fail" {
			return registry.Invalid([]registry.Detail{{Field: "decision", Message: "the inspection concluded fail: reject the application, or schedule another inspection"}})
		}
		var details []registry.Detail
		if d.Document == "" {
			details = append(details, registry.Detail{Field: "document", Message: "the approving document's number is required, such as 123/QĐ-TTBVTV"})
		}
		now := s.db.now().In(vietnamTime)
		today, _ := time.Parse(time.DateOnly, now.Format(time.DateOnly))
		if d.ValidFrom == nil {
			d.ValidFrom = &today
		}
		if d.ValidTo == nil {
			to := d.ValidFrom.AddDate(0, s.ValidityMonths, -1)
			d.ValidTo = &to
		}
		if d.ValidTo.Before(*d.ValidFrom) {
			details = append(details, registry.Detail{Field: "valid_to", Message: fmt.Sprintf("the code would be valid to %s, before it is valid from %s: valid_to is on or after valid_from",
				d.ValidTo.Format(time.DateOnly), d.ValidFrom.Format(time.DateOnly))})
		} else if d.ValidTo.Before(today) {
			details = append(details, registry.Detail{Field: "valid_to", Message: fmt.Sprintf("valid_to %s has passed: a new code is valid after today", d.ValidTo.Format(time.DateOnly))})
		}
		if len(details) > 0 {
			return registry.Invalid(details)
		}
		kind := "OR"
		if r.house != nil {
			kind = "PH"
		}
		var letters string
		if err := tx.QueryRow(ctx, `SELECT letters FROM province_letters WHERE province_code = $1`, r.province).Scan(&letters); errors.Is(err, pgx.ErrNoRows) {
			return registry.Invalid([]registry.Detail{{Field: "province", Message: fmt.Sprintf("province %s has no code letters yet: an administrator sets them (PUT /api/v1/province-letters/%s)", r.province, r.province)}})
		} else if err != nil {
			return err
		}
		// The next number: after the last issued here, and after any code imported with these letters.
		var seq int
		if err := tx.QueryRow(ctx, `
			INSERT INTO code_sequence AS s (province_code, kind, last)
			VALUES ($1, $2, COALESCE((SELECT max(code_sequence) FROM market_code WHERE code_province = $3 AND code_kind = $2), 0) + 1)
			ON CONFLICT (province_code, kind) DO UPDATE
			SET last = greatest(s.last, COALESCE((SELECT max(code_sequence) FROM market_code WHERE code_province = $3 AND code_kind = $2), 0)) + 1
			RETURNING last`, r.province, kind, letters).Scan(&seq); err != nil {
			return mapError(err)
		}
		code := fmt.Sprintf("VN-%s%s-%04d", letters, kind, seq)
		var codeID int64
		if err := tx.QueryRow(ctx, `
			INSERT INTO market_code (code, growing_area_id, packing_house_id, market, code_country, code_province, code_kind, code_sequence, status,
			                         valid_from, valid_to, approving_document, approving_authority, province_code, application_id, created_by, updated_by)
			VALUES ($1, $2, $3, $4, 'VN', $5, $6, $7, 'active', $8, $9, $10, NULLIF($11, ''), $12, $13, $14, $14) RETURNING id`,
			code, r.area, r.house, r.market, letters, kind, seq, d.ValidFrom, d.ValidTo, d.Document, d.Authority, r.province, id, a.String()).Scan(&codeID); err != nil {
			if registry.ErrorCode(mapError(err)) == registry.ECONFLICT {
				var live string
				_ = tx.QueryRow(ctx, `SELECT code FROM market_code WHERE market = $1 AND status <> 'revoked' AND (growing_area_id = $2 OR packing_house_id = $3)`, r.market, r.area, r.house).Scan(&live)
				return registry.Errorf(registry.ECONFLICT, "%s already has a live code for market %s (%s): revoke it before issuing another", r.objectName, r.market, cmpOr(live, "?"))
			}
			return mapError(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO market_code_event (market_code_id, from_status, to_status, note, document, actor, province_code)
			VALUES ($1, NULL, 'active', $2, $3, $4, $5)`, codeID, fmt.Sprintf("application %d approved", id), d.Document, a.String(), r.province); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE application SET status = 'approved', market_code_id = $2, decided_at = now(), version = version + 1, updated_at = now(), updated_by = $3
			WHERE id = $1`, id, codeID, a.String()); err != nil {
			return err
		}
		if err := s.event(ctx, tx, id, r.status, registry.AppApproved, "code "+code+", "+d.Document, r.province, "application.approve"); err != nil {
			return err
		}
		after, err := rowJSON(ctx, tx, "market_code", codeID)
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, auditEntry{Action: "market_code.issue", ObjectType: "market_code", ObjectID: codeID, Province: r.province, Reason: "application " + fmt.Sprint(id), After: after}); err != nil {
			return err
		}
		c, err := scanCode(tx.QueryRow(ctx, `SELECT `+codeColumns+` FROM market_code m WHERE m.id = $1`, codeID))
		if err != nil {
			return err
		}
		out = &c
		return codeChanged(ctx, s.db, tx, r.area, r.house)
	})
	if denied != nil {
		s.db.auditRefusal(ctx, auditEntry{Action: "application.decide", Outcome: "denied", ObjectType: "application", ObjectID: id, Province: r.province, Reason: registry.ErrorMessage(denied)})
	}
	return out, err
}

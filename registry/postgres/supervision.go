package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/vntext"
)

// SupervisionService records supervision visits and lists overdue codes.
type SupervisionService struct{ db *DB }

var _ registry.SupervisionService = (*SupervisionService)(nil)

// NewSupervisionService returns a SupervisionService on db.
func NewSupervisionService(db *DB) *SupervisionService { return &SupervisionService{db: db} }

func init() {
	addConstraintMessages(map[string]string{
		"market_code_supervision_months_check": "a code's supervision interval is 1 to 36 months",
	})
}

// RecordVisit implements registry.SupervisionService.
func (s *SupervisionService) RecordVisit(ctx context.Context, id int64, v registry.Visit) (int64, error) {
	a, _ := registry.ActorFromContext(ctx)
	v.Notes = vntext.Clean(v.Notes)
	var details []registry.Detail
	bad := func(field, format string, args ...any) {
		details = append(details, registry.Detail{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	today := s.db.now().In(vietnamTime).Format(time.DateOnly)
	if v.On.IsZero() {
		bad("on", "the visit's date is required (YYYY-MM-DD)")
	} else if v.On.Format(time.DateOnly) > today {
		bad("on", "the visit is dated %s, after today (%s): record visits once they are made", v.On.Format(time.DateOnly), today)
	}
	switch v.Conclusion {
	case "pass", "fail", "conditional":
	default:
		bad("conclusion", "the conclusion is pass, fail or conditional, not %q", v.Conclusion)
	}
	if len(v.Checklist) == 0 {
		v.Checklist = []byte("{}")
	}
	var obj map[string]any
	if json.Unmarshal(v.Checklist, &obj) != nil || obj == nil {
		bad("checklist", "the checklist is a JSON object, such as {\"farming_diary\": true, \"pests\": [{\"name\": \"rệp sáp\", \"density\": \"thấp\"}]}")
	}
	inspectors := []string{}
	for _, n := range v.Inspectors {
		if n = vntext.Clean(n); n != "" {
			inspectors = append(inspectors, n)
		}
	}
	if len(inspectors) == 0 {
		bad("inspectors", "name who made the visit (inspectors)")
	}
	types, photoProblems := checkPhotos(v.Photos, s.db.now())
	details = append(details, photoProblems...)
	if len(details) > 0 {
		return 0, registry.Invalid(details)
	}
	var visit int64
	var denied error
	var province string
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		var status string
		var area, house *int64
		err := tx.QueryRow(ctx, `SELECT code_status(m.status, m.valid_to), m.growing_area_id, m.packing_house_id, m.province_code
			FROM market_code m WHERE m.id = $1 FOR UPDATE`, id).Scan(&status, &area, &house, &province)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.Errorf(registry.ENOTFOUND, "code %d not found", id)
		} else if err != nil {
			return err
		}
		if !provinceOfficer(a, province) {
			denied = registry.Errorf(registry.EFORBIDDEN, "only an officer of province %s (or an administrator) may record its supervision visits", province)
			return denied
		}
		if status != registry.CodeActive && status != registry.CodeSuspended {
			return registry.Invalid([]registry.Detail{{Field: "code", Message: fmt.Sprintf("the code is %s: supervision visits are made to active (or suspended) codes", status)}})
		}
		if err := tx.QueryRow(ctx, `INSERT INTO inspection (market_code_id, growing_area_id, packing_house_id, inspected_on, inspectors, checklist, conclusion, notes, province_code, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($8, ''), $9, $10) RETURNING id`,
			id, area, house, v.On, inspectors, v.Checklist, v.Conclusion, v.Notes, province, a.String()).Scan(&visit); err != nil {
			return mapError(err)
		}
		if err := insertPhotos(ctx, tx, visit, v.Photos, types); err != nil {
			return err
		}
		after, err := rowJSON(ctx, tx, "inspection", visit)
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, auditEntry{Action: "inspection.create", ObjectType: "inspection", ObjectID: visit, Province: province,
			Reason: fmt.Sprintf("supervision of code %d: %s", id, v.Conclusion), After: after}); err != nil {
			return err
		}
		if v.Suspend == nil {
			return nil
		}
		// The visit suspends the code: one step, one transaction.
		change := *v.Suspend
		change.To = registry.CodeSuspended
		if change.Note == "" {
			change.Note = v.Notes
		}
		change.Note = strings.TrimSpace(change.Note + fmt.Sprintf(" (visit %d)", visit))
		var commune string
		if _, err := changeCodeStatus(ctx, s.db, tx, id, change, &denied, &province, &commune); err != nil {
			if d := registry.ErrorDetails(err); len(d) > 0 {
				for i := range d {
					d[i].Field = "suspend." + d[i].Field
				}
				return registry.Invalid(d)
			}
			return err
		}
		return nil
	})
	if denied != nil {
		s.db.auditRefusal(ctx, auditEntry{Action: "inspection.create", Outcome: "denied", ObjectType: "market_code", ObjectID: id, Province: province, Reason: registry.ErrorMessage(denied)})
	}
	return visit, err
}

// Visits implements registry.SupervisionService.
func (s *SupervisionService) Visits(ctx context.Context, id int64) ([]registry.InspectionView, error) {
	var province, commune string
	var registrant *int64
	err := s.db.Pool.QueryRow(ctx, `SELECT m.province_code, COALESCE(g.commune_code, h.commune_code, ''), COALESCE(g.registrant_id, h.operator_id)
		FROM market_code m LEFT JOIN growing_area g ON g.id = m.growing_area_id LEFT JOIN packing_house h ON h.id = m.packing_house_id
		WHERE m.id = $1`, id).Scan(&province, &commune, &registrant)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "code %d not found", id)
	} else if err != nil {
		return nil, err
	}
	if !canSeeApp(ctx, appRow{province: province, commune: commune, registrant: derefOr(registrant)}) {
		return nil, registry.Errorf(registry.EFORBIDDEN, "the visits of this code are its registrant's and the officers' of province %s", province)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT i.id, to_char(i.inspected_on, 'YYYY-MM-DD'), i.inspectors, i.checklist, i.conclusion, COALESCE(i.reasons, i.notes, ''), i.created_by,
		COALESCE((SELECT json_agg(json_build_object('id', p.id, 'taken_at', p.taken_at, 'lon', ST_X(p.position), 'lat', ST_Y(p.position), 'accuracy_m', p.accuracy_m) ORDER BY p.id)
		          FROM inspection_photo p WHERE p.inspection_id = i.id), '[]')
		FROM inspection i WHERE i.market_code_id = $1 ORDER BY i.inspected_on DESC, i.id DESC LIMIT 100`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []registry.InspectionView{}
	for rows.Next() {
		var v registry.InspectionView
		var photos []byte
		if err := rows.Scan(&v.ID, &v.On, &v.Inspectors, &v.Checklist, &v.Conclusion, &v.Reasons, &v.By, &photos); err != nil {
			return nil, err
		}
		v.Photos = []registry.PhotoInfo{}
		_ = json.Unmarshal(photos, &v.Photos)
		out = append(out, v)
	}
	return out, rows.Err()
}

// OverdueCodes implements registry.SupervisionService.
func (s *SupervisionService) OverdueCodes(ctx context.Context) ([]registry.OverdueCode, error) {
	a, _ := registry.ActorFromContext(ctx)
	var provinces []string
	switch a.Role {
	case registry.RoleAdmin:
	case registry.RoleOfficer:
		for _, j := range a.Jurisdictions {
			provinces = append(provinces, j.ProvinceCode)
		}
		if len(provinces) == 0 {
			return []registry.OverdueCode{}, nil
		}
	default:
		return nil, registry.Errorf(registry.EFORBIDDEN, "your role (%s) may not list supervision: officers and admins do", cmpOr(a.Role, "public"))
	}
	rows, err := s.db.Pool.Query(ctx, `
		SELECT `+codeColumns+`, COALESCE(g.name, h.name, ''), m.province_code, v.last, d.due, (vn_today() - d.due),
		       (SELECT min(r.created_at) FROM supervision_reminder r WHERE r.market_code_id = m.id AND r.due = d.due), m.growing_area_id, m.packing_house_id
		FROM market_code m
		LEFT JOIN growing_area g ON g.id = m.growing_area_id LEFT JOIN packing_house h ON h.id = m.packing_house_id
		CROSS JOIN LATERAL (SELECT max(i.inspected_on) AS last FROM inspection i
		                    WHERE i.market_code_id = m.id OR (i.growing_area_id = m.growing_area_id) OR (i.packing_house_id = m.packing_house_id)) v
		CROSS JOIN LATERAL (SELECT (greatest(v.last, m.valid_from) + make_interval(months => m.supervision_months))::date AS due) d
		WHERE code_status(m.status, m.valid_to) = 'active' AND d.due < vn_today()
		  AND (cardinality($1::text[]) = 0 OR m.province_code = ANY ($1))
		ORDER BY d.due, m.code`, provinces)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []registry.OverdueCode{}
	for rows.Next() {
		var o registry.OverdueCode
		if err := rows.Scan(&o.ID, &o.Code, &o.Market, &o.Status, &o.StatusReason, &o.ValidFrom, &o.ValidTo, &o.Document, &o.Authority,
			&o.Place, &o.ProvinceCode, &o.LastVisit, &o.Due, &o.DaysOverdue, &o.RemindedAt, &o.GrowingAreaID, &o.PackingHouseID); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// overdueSQL selects the active codes overdue for a supervision visit, with the day it was due.
const overdueSQL = `
	SELECT m.id, m.province_code, d.due
	FROM market_code m
	CROSS JOIN LATERAL (SELECT max(i.inspected_on) AS last FROM inspection i
	                    WHERE i.market_code_id = m.id OR (i.growing_area_id = m.growing_area_id) OR (i.packing_house_id = m.packing_house_id)) v
	CROSS JOIN LATERAL (SELECT (greatest(v.last, m.valid_from) + make_interval(months => m.supervision_months))::date AS due) d
	WHERE code_status(m.status, m.valid_to) = 'active' AND d.due < vn_today()`

// RemindSupervision records a reminder for each active code newly overdue for its supervision
// visit (once per due day), with its audit record. It returns how many it recorded. The
// supervision_reminders job runs it on one server at a time.
func (db *DB) RemindSupervision(ctx context.Context) (int, error) {
	n := 0
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `INSERT INTO supervision_reminder (market_code_id, due, province_code)
			SELECT id, due, province_code FROM (`+overdueSQL+`) o
			ON CONFLICT (market_code_id, due) DO NOTHING RETURNING market_code_id, province_code, due`)
		if err != nil {
			return err
		}
		type reminder struct {
			id       int64
			province string
			due      time.Time
		}
		var all []reminder
		for rows.Next() {
			var r reminder
			if err := rows.Scan(&r.id, &r.province, &r.due); err != nil {
				return err
			}
			all = append(all, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		ctx := registry.NewContextWithActor(ctx, registry.Actor{Kind: "system", Name: "supervision", Role: registry.RoleAdmin})
		for _, r := range all {
			if err := audit(ctx, tx, auditEntry{Action: "market_code.supervision_overdue", ObjectType: "market_code", ObjectID: r.id, Province: r.province,
				Reason: "supervision visit due " + r.due.Format(time.DateOnly)}); err != nil {
				return err
			}
		}
		n = len(all)
		return nil
	})
	return n, err
}

type supervisionReminderArgs struct{}

func (supervisionReminderArgs) Kind() string { return "supervision_reminders" }

// supervisionReminderWorker runs RemindSupervision: hourly and when a server starts, on
// whichever server leads River's queue.
type supervisionReminderWorker struct {
	river.WorkerDefaults[supervisionReminderArgs]
	jobs *Jobs
}

func (w *supervisionReminderWorker) Work(ctx context.Context, _ *river.Job[supervisionReminderArgs]) error {
	n, err := w.jobs.db.RemindSupervision(ctx)
	if err != nil {
		return fmt.Errorf("supervision reminders: %w", err)
	}
	if n > 0 {
		w.jobs.log.Info("supervision visits overdue", "reminded", n)
	}
	return nil
}

func init() {
	extraWorkers = append(extraWorkers, func(w *river.Workers, j *Jobs) {
		river.AddWorker(w, &supervisionReminderWorker{jobs: j})
	})
	extraPeriodic = append(extraPeriodic, func() *river.PeriodicJob {
		return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return supervisionReminderArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})
	})
	addConstraintMessages(map[string]string{
		"supervision_reminder_market_code_id_due_key": "this code was already reminded for this visit",
		"supervision_reminder_market_code_id_fkey":    "the code does not exist",
	})
}

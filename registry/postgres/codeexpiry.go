package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/riverqueue/river"
	"github.com/vungtrong/vungtrong/registry"
)

// codeExpiryActor signs the events of codes that expired by themselves.
const codeExpiryActor = "system:expiry"

// ExpireCodes marks expired every active code whose valid_to has passed (on Vietnam's
// calendar), in one transaction: the status, an event and an audit record for each, and the
// change of its area on the map. It returns how many codes expired. Reads already say
// expired before it runs (code_status); it makes the rows and the history say so too.
func (db *DB) ExpireCodes(ctx context.Context) (int, error) {
	n := 0
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			UPDATE market_code SET status = 'expired', status_reason = NULL, status_changed_at = now(),
			       version = version + 1, updated_at = now(), updated_by = $1
			WHERE status = 'active' AND valid_to < vn_today()
			RETURNING id, province_code, valid_to, growing_area_id, packing_house_id`, codeExpiryActor)
		if err != nil {
			return err
		}
		type expired struct {
			id          int64
			province    string
			validTo     time.Time
			area, house *int64
		}
		var all []expired
		for rows.Next() {
			var e expired
			if err := rows.Scan(&e.id, &e.province, &e.validTo, &e.area, &e.house); err != nil {
				return err
			}
			all = append(all, e)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		ctx := registry.NewContextWithActor(ctx, registry.Actor{Kind: "system", Name: "expiry", Role: registry.RoleAdmin})
		for _, e := range all {
			note := "valid to " + e.validTo.Format(time.DateOnly)
			if _, err := tx.Exec(ctx, `INSERT INTO market_code_event (market_code_id, from_status, to_status, note, actor, province_code)
				VALUES ($1, 'active', 'expired', $2, $3, $4)`, e.id, note, codeExpiryActor, e.province); err != nil {
				return err
			}
			if err := audit(ctx, tx, auditEntry{Action: "market_code.status", ObjectType: "market_code", ObjectID: e.id, Province: e.province,
				Reason: "active -> expired: " + note}); err != nil {
				return err
			}
			if err := codeChanged(ctx, db, tx, e.area, e.house); err != nil {
				return err
			}
		}
		n = len(all)
		return nil
	})
	return n, err
}

// codeChanged notes that a growing area (or packing house) changed on the map: a code's colour,
// or its plots.
func codeChanged(ctx context.Context, db *DB, tx pgx.Tx, area, house *int64) error {
	var b orb.Bound
	kind, geom, table, ref := registry.ChangeGrowingArea, "ST_Transform(footprint_3857, 4326)", "growing_area", area
	if house != nil {
		kind, geom, table, ref = registry.ChangePackingHouse, "location", "packing_house", house
	}
	if ref == nil {
		return nil
	}
	err := tx.QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT `+geom+` AS e FROM `+table+` WHERE id = $1) s WHERE e IS NOT NULL`, *ref).
		Scan(&b.Min[0], &b.Min[1], &b.Max[0], &b.Max[1])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	return db.changed(ctx, tx, kind, b)
}

type codeExpiryArgs struct{}

func (codeExpiryArgs) Kind() string { return "code_expiry" }

// codeExpiryWorker runs ExpireCodes: hourly and when a server starts, on whichever server
// leads River's queue, so once across servers.
type codeExpiryWorker struct {
	river.WorkerDefaults[codeExpiryArgs]
	jobs *Jobs
}

func (w *codeExpiryWorker) Work(ctx context.Context, _ *river.Job[codeExpiryArgs]) error {
	n, err := w.jobs.db.ExpireCodes(ctx)
	if err != nil {
		return fmt.Errorf("expiring codes: %w", err)
	}
	if n > 0 {
		w.jobs.log.Info("codes expired", "count", n)
	}
	return nil
}

func init() {
	extraWorkers = append(extraWorkers, func(w *river.Workers, j *Jobs) {
		river.AddWorker(w, &codeExpiryWorker{jobs: j})
	})
	extraPeriodic = append(extraPeriodic, func() *river.PeriodicJob {
		return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return codeExpiryArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})
	})
	addConstraintMessages(map[string]string{
		"market_code_validity_check": "valid_to must not be before valid_from: a code cannot end before it begins",
	})
}

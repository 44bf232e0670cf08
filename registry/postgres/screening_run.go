package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/vungtrong/vungtrong/registry"
)

// Screening in the background: the queue of plots written since, which the servers empty,
// and batch runs over every plot that resume where they stopped (see screening.go).

// DrainQueue screens the plots written since they were screened (the queue the plot triggers
// fill), a batch a transaction, until the queue is empty or ctx ends, and returns how many it
// screened. Several servers may drain at once: each takes other plots.
func (s *ScreeningService) DrainQueue(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n := 0
		err := s.db.Transact(ctx, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `
				DELETE FROM screening_queue WHERE plot_id IN (
				  SELECT plot_id FROM screening_queue ORDER BY plot_id LIMIT $1 FOR UPDATE SKIP LOCKED)
				RETURNING plot_id`, s.batchSize())
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				return nil
			}
			slices.Sort(ids)
			n = len(ids)
			_, err = s.screen(ctx, tx, ids)
			return err
		})
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
		total += n
	}
	return total, ctx.Err()
}

func (s *ScreeningService) batchSize() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return 250
}

// screeningRunLockKey is the class of the advisory locks that keep a run worked by one process.
const screeningRunLockKey = 0x73637265 // "scre"

const runColumns = `id, COALESCE(province_code, ''), state, total, done, last_plot_id, started_by, started_at, updated_at, ended_at, COALESCE(error, '')`

func scanRun(row scanner) (*registry.ScreeningRun, error) {
	var r registry.ScreeningRun
	err := row.Scan(&r.ID, &r.ProvinceCode, &r.State, &r.Total, &r.Done, &r.LastPlotID, &r.StartedBy, &r.StartedAt, &r.UpdatedAt, &r.EndedAt, &r.Error)
	return &r, err
}

// StartRun returns the unfinished batch screening of the province ("" for every province),
// or, when there is none or fresh is set (the unfinished one is then abandoned), a new one.
// Administrators only (EFORBIDDEN).
func (s *ScreeningService) StartRun(ctx context.Context, province string, fresh bool) (run *registry.ScreeningRun, resumed bool, err error) {
	if err := mustAdmin(ctx, "screen every plot"); err != nil {
		return nil, false, err
	}
	err = s.db.Transact(ctx, func(tx pgx.Tx) error {
		r, err := scanRun(tx.QueryRow(ctx, `SELECT `+runColumns+` FROM screening_run
			WHERE state IN ('running', 'failed') AND province_code IS NOT DISTINCT FROM NULLIF($1, '') ORDER BY id DESC LIMIT 1 FOR UPDATE`, province))
		switch {
		case err == nil && !fresh:
			run, resumed = r, true
			return nil
		case err == nil:
			if _, err := tx.Exec(ctx, `UPDATE screening_run SET state = 'abandoned', ended_at = now(), updated_at = now() WHERE id = $1`, r.ID); err != nil {
				return err
			}
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		run, err = scanRun(tx.QueryRow(ctx, `
			INSERT INTO screening_run (province_code, total, started_by)
			VALUES (NULLIF($1, ''), (SELECT count(*) FROM plot WHERE deleted_at IS NULL AND ($1 = '' OR province_code = $1)), $2)
			RETURNING `+runColumns, province, actorName(ctx)))
		return mapError(err)
	})
	return run, resumed, err
}

// FindRun returns a batch screening. Returns ENOTFOUND.
func (s *ScreeningService) FindRun(ctx context.Context, id int64) (*registry.ScreeningRun, error) {
	r, err := scanRun(s.db.Pool.QueryRow(ctx, `SELECT `+runColumns+` FROM screening_run WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "screening run %d not found", id)
	}
	return r, err
}

// Runs lists the batch screenings, newest first.
func (s *ScreeningService) Runs(ctx context.Context, limit int) ([]registry.ScreeningRun, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+runColumns+` FROM screening_run ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []registry.ScreeningRun
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// QueueRun hands a batch screening to the servers' job runner (it resumes after a restart).
func (s *ScreeningService) QueueRun(ctx context.Context, jobs *Jobs, id int64) error {
	_, err := jobs.Client().Insert(ctx, screeningRunArgs{RunID: id}, &river.InsertOpts{MaxAttempts: 25})
	return err
}

// RunBatch works batch screening id until every plot of its scope is screened: plots in id
// order, a batch a transaction, several batches at once (Workers). It records after each batch
// the last plot id before which everything is screened, so that a run stopped (ctx ended, the
// process killed) resumes there. progress, when set, is told after each batch. One process
// works a run at a time: another gets ECONFLICT.
func (s *ScreeningService) RunBatch(ctx context.Context, id int64, progress func(registry.ScreeningRun)) (*registry.ScreeningRun, error) {
	conn, err := s.db.Pool.Acquire(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, int32(screeningRunLockKey), int32(id)).Scan(&locked); err != nil {
		return nil, err
	}
	if !locked {
		return nil, registry.Errorf(registry.ECONFLICT, "screening run %d is being worked by another process", id)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, $2)`, int32(screeningRunLockKey), int32(id))
	}()
	run, err := s.FindRun(ctx, id)
	if err != nil {
		return nil, err
	}
	if run.State != "running" && run.State != "failed" {
		return run, nil
	}
	if _, err := s.db.Pool.Exec(ctx, `UPDATE screening_run SET state = 'running', error = NULL, updated_at = now() WHERE id = $1`, id); err != nil {
		return nil, err
	}
	run.State, run.Error = "running", ""

	type batch struct {
		seq  int
		ids  []int64
		last int64
	}
	workers := max(s.Workers, 1)
	todo := make(chan batch, workers)
	done := make(chan batch, workers)
	// At most this many batches run ahead of the last one recorded: what a crash makes redo.
	window := make(chan struct{}, 2*workers)
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The dispatcher reads the next plots of the scope, in id order.
	go func() {
		defer close(todo)
		after := run.LastPlotID
		for seq := 0; ; seq++ {
			rows, err := s.db.Pool.Query(wctx, `
				SELECT id FROM plot WHERE id > $1 AND deleted_at IS NULL AND ($2 = '' OR province_code = $2) ORDER BY id LIMIT $3`,
				after, run.ProvinceCode, s.batchSize())
			if err != nil {
				cancel(err)
				return
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				cancel(err)
				return
			}
			if len(ids) == 0 {
				return
			}
			after = ids[len(ids)-1]
			select {
			case window <- struct{}{}:
			case <-wctx.Done():
				return
			}
			select {
			case todo <- batch{seq: seq, ids: ids, last: after}:
			case <-wctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range todo {
				if wctx.Err() != nil {
					return
				}
				if _, err := s.ScreenPlots(wctx, b.ids); err != nil {
					cancel(fmt.Errorf("screening plots %d to %d: %w", b.ids[0], b.last, err))
					return
				}
				select {
				case done <- b:
				case <-wctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	// Batches end out of order; the run advances over those that ended in order.
	ended := map[int]batch{}
	next := 0
	for b := range done {
		if ctx.Err() != nil {
			cancel(ctx.Err())
			break
		}
		ended[b.seq] = b
		var n int64
		last := run.LastPlotID
		for {
			e, ok := ended[next]
			if !ok {
				break
			}
			delete(ended, next)
			<-window
			n += int64(len(e.ids))
			last = e.last
			next++
		}
		if n == 0 {
			continue
		}
		if err := s.db.Pool.QueryRow(ctx, `UPDATE screening_run SET done = done + $2, last_plot_id = $3, updated_at = now() WHERE id = $1
			RETURNING done, last_plot_id, updated_at`, id, n, last).Scan(&run.Done, &run.LastPlotID, &run.UpdatedAt); err != nil {
			cancel(err)
			break
		}
		if progress != nil {
			progress(*run)
		}
	}
	for range done {
	}
	if cause := context.Cause(wctx); cause != nil && !errors.Is(cause, context.Canceled) {
		if ctx.Err() != nil {
			return run, ctx.Err() // stopped: the run stays running, to be resumed
		}
		_, _ = s.db.Pool.Exec(context.WithoutCancel(ctx), `UPDATE screening_run SET state = 'failed', error = $2, updated_at = now() WHERE id = $1`, id, cause.Error())
		run.State, run.Error = "failed", cause.Error()
		return run, cause
	}
	if ctx.Err() != nil {
		return run, ctx.Err()
	}
	err = s.db.Pool.QueryRow(ctx, `UPDATE screening_run SET state = 'done', ended_at = now(), updated_at = now() WHERE id = $1
		RETURNING `+runColumns, id).Scan(&run.ID, &run.ProvinceCode, &run.State, &run.Total, &run.Done, &run.LastPlotID, &run.StartedBy,
		&run.StartedAt, &run.UpdatedAt, &run.EndedAt, &run.Error)
	return run, err
}

// screeningQueueArgs is the periodic job that screens the plots written since.
type screeningQueueArgs struct{}

func (screeningQueueArgs) Kind() string { return "screening_queue" }

type screeningQueueWorker struct {
	river.WorkerDefaults[screeningQueueArgs]
	s *ScreeningService
}

func (w *screeningQueueWorker) Work(ctx context.Context, _ *river.Job[screeningQueueArgs]) error {
	// One drain at a time across the servers: a long one (after an import) must not take
	// every job worker. The others end at once; the next periodic job tries again.
	conn, err := w.s.db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, 0)`, int32(screeningRunLockKey)+1).Scan(&locked); err != nil || !locked {
		return err
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, 0)`, int32(screeningRunLockKey)+1)
	}()
	// A drain takes at most a few minutes; what is left waits for the next.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	_, err = w.s.DrainQueue(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// screeningRunArgs is the job of a batch screening handed to the servers.
type screeningRunArgs struct {
	RunID int64 `json:"run_id"`
}

func (screeningRunArgs) Kind() string { return "screening_run" }

type screeningRunWorker struct {
	river.WorkerDefaults[screeningRunArgs]
	s *ScreeningService
}

// Timeout lets a run work for an hour at a time: then it snoozes, and resumes where it stopped.
func (w *screeningRunWorker) Timeout(*river.Job[screeningRunArgs]) time.Duration {
	return time.Hour + time.Minute
}

func (w *screeningRunWorker) Work(ctx context.Context, job *river.Job[screeningRunArgs]) error {
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	ctx = registry.NewContextWithActor(ctx, registry.SystemActor("screening"))
	_, err := w.s.RunBatch(ctx, job.Args.RunID, nil)
	if errors.Is(err, context.DeadlineExceeded) {
		return river.JobSnooze(time.Second)
	}
	if registry.ErrorCode(err) == registry.ECONFLICT {
		return river.JobSnooze(time.Minute) // another process works it now
	}
	return err
}

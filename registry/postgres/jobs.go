package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/vungtrong/vungtrong/registry"
)

// riverSchemaVersion is the version of River's own schema this build runs on. Migration 0013
// brings River's tables to it; a River upgrade that needs a newer schema comes with a new
// migration of ours, so that `migrate up` stays the one step.
const riverSchemaVersion = 8

// goMigrations are the steps of numbered migrations that run in Go, before the migration's SQL
// on the way up and after it on the way down: River's tables come from River's own migrator,
// which applies each of its versions in a transaction of its own (some cannot share one).
var goMigrations = map[int]struct {
	up, down func(ctx context.Context, db *DB) error
}{
	13: {
		up: func(ctx context.Context, db *DB) error {
			m, err := rivermigrate.New(riverpgxv5.New(db.Pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				return err
			}
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{TargetVersion: riverSchemaVersion})
			return err
		},
		down: func(ctx context.Context, db *DB) error {
			m, err := rivermigrate.New(riverpgxv5.New(db.Pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				return err
			}
			_, err = m.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1})
			return err
		},
	},
}

// extraWorkers are the workers of the package's other jobs (screening, exports), each added to
// the River workers of every Jobs that works jobs. Files of this package add theirs in init.
var extraWorkers []func(w *river.Workers, j *Jobs)

// extraPeriodic are periodic jobs of the package's other files, as extraWorkers.
var extraPeriodic []func() *river.PeriodicJob

// importRetention is how long an ended import's job, report and upload are kept.
const importRetention = 24 * time.Hour

// ImportRunner imports the file at path as req asks (the actor is in ctx), reporting progress.
// cmd wires it to the importers.
type ImportRunner func(ctx context.Context, req registry.ImportRequest, path string, progress func(registry.ImportProgress)) (*registry.ImportReport, error)

// JobsOptions configure Jobs.
type JobsOptions struct {
	// Run imports uploaded files. Nil makes a client that queues jobs but works none.
	Run ImportRunner
	// Workers is how many imports this server runs at once (default 2).
	Workers int
	// TempDir holds the files of imports being run (default: the system's temporary folder).
	TempDir string
	Logger  *slog.Logger
	// OnImportEnd, when set, is told how each import this server ran ended ("done", "failed").
	OnImportEnd func(state string)
}

// Jobs runs the registry's background work as River jobs in PostgreSQL: it survives restarts,
// and each job runs once across all the servers sharing the database. Today it runs the imports
// of uploaded files, and cleans their jobs and uploads a day after they end.
type Jobs struct {
	db      *DB
	client  *river.Client[pgx.Tx]
	opts    JobsOptions
	log     *slog.Logger
	host    string
	tempDir string
	running atomic.Int64
}

// Client returns the River client, for other jobs of the package to queue theirs.
func (j *Jobs) Client() *river.Client[pgx.Tx] { return j.client }

// DB returns the database the jobs run on.
func (j *Jobs) DB() *DB { return j.db }

// Log returns the jobs' logger.
func (j *Jobs) Log() *slog.Logger { return j.log }

// Running returns how many imports this server is running now.
func (j *Jobs) Running() int64 { return j.running.Load() }

var _ registry.ImportJobService = (*Jobs)(nil)

// importArgs is the River job of one import.
type importArgs struct {
	ImportID string `json:"import_id"`
}

func (importArgs) Kind() string { return "import" }

// cleanupArgs is the periodic job that forgets ended imports and fails interrupted ones.
type cleanupArgs struct{}

func (cleanupArgs) Kind() string { return "import_cleanup" }

// NewJobs returns the job runner on db. Call Start to work jobs.
func NewJobs(db *DB, opts JobsOptions) (*Jobs, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	j := &Jobs{db: db, opts: opts, log: log, host: host,
		tempDir: filepath.Join(cmpOr(opts.TempDir, os.TempDir()), "vungtrong-imports")}
	cfg := &river.Config{
		Logger: slog.New(levelAtLeast{log.Handler(), slog.LevelWarn}),
		// An import runs for minutes at most; one that runs for hours is stuck.
		JobTimeout:           2 * time.Hour,
		RescueStuckJobsAfter: 2*time.Hour + 10*time.Minute,
	}
	if opts.Run != nil {
		workers := river.NewWorkers()
		river.AddWorker(workers, &importWorker{jobs: j})
		river.AddWorker(workers, &cleanupWorker{jobs: j})
		for _, add := range extraWorkers {
			add(workers, j)
		}
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(opts.Workers, 2)}}
		cfg.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(10*time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return cleanupArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})}
		for _, p := range extraPeriodic {
			cfg.PeriodicJobs = append(cfg.PeriodicJobs, p())
		}
	}
	client, err := river.NewClient(riverpgxv5.New(db.Pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	j.client = client
	return j, nil
}

// levelAtLeast drops River's log lines below a level: its routine info is noise in ours.
type levelAtLeast struct {
	slog.Handler
	min slog.Level
}

func (h levelAtLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// Handle drops River's complaints that the database cannot be reached: while it is down each of
// River's parts says so every second, and the web layer logs the outage once.
func (h levelAtLeast) Handle(ctx context.Context, r slog.Record) error {
	unreachable := false
	r.Attrs(func(a slog.Attr) bool {
		v := a.Value.Resolve()
		var err error
		switch v.Kind() {
		case slog.KindAny:
			err, _ = v.Any().(error)
		case slog.KindString:
			err = errors.New(v.String())
		}
		if err != nil && IsUnavailable(err) {
			unreachable = true
			return false
		}
		return true
	})
	if unreachable {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h levelAtLeast) WithAttrs(attrs []slog.Attr) slog.Handler {
	return levelAtLeast{h.Handler.WithAttrs(attrs), h.min}
}

func (h levelAtLeast) WithGroup(name string) slog.Handler {
	return levelAtLeast{h.Handler.WithGroup(name), h.min}
}

// Start fails the imports this host was running when its server stopped (and removes their
// files), then starts working jobs.
func (j *Jobs) Start(ctx context.Context) error {
	if j.opts.Run == nil {
		return nil
	}
	if err := j.recoverInterrupted(ctx); err != nil {
		return err
	}
	return j.client.Start(ctx)
}

// Stop stops working jobs, letting those running finish within ctx.
func (j *Jobs) Stop(ctx context.Context) error {
	if j.opts.Run == nil {
		return nil
	}
	err := j.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return j.client.StopAndCancel(context.WithoutCancel(ctx))
	}
	return err
}

// processDir is this process's folder of import files; a folder named after a process that no
// longer runs is what a crash left behind.
func (j *Jobs) processDir() string { return filepath.Join(j.tempDir, strconv.Itoa(os.Getpid())) }

// alive reports whether a process of this host runs with pid.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// recoverInterrupted fails the imports that a server of this host was running when it stopped
// (its process is gone), and removes the files such servers left in the temporary folder.
func (j *Jobs) recoverInterrupted(ctx context.Context) error {
	rows, err := j.db.Pool.Query(ctx, `SELECT id, running_on, river_job_id FROM import_job WHERE state = 'running' AND running_on LIKE $1 || ':%'`, j.host)
	if err != nil {
		return err
	}
	type stopped struct {
		id    string
		river *int64
	}
	var gone []stopped
	for rows.Next() {
		var id, on string
		var rj *int64
		if err := rows.Scan(&id, &on, &rj); err != nil {
			rows.Close()
			return err
		}
		if pid, err := strconv.Atoi(on[strings.LastIndexByte(on, ':')+1:]); err == nil && !alive(pid) {
			gone = append(gone, stopped{id, rj})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, s := range gone {
		j.log.Warn("an import was interrupted by a server stop: marked failed", "import", s.id)
		err := j.db.Transact(ctx, func(tx pgx.Tx) error {
			if err := j.fail(ctx, tx, s.id, registry.Errorf(registry.EUNAVAILABLE, "the import was interrupted: the server running it stopped; nothing was imported, start it again")); err != nil {
				return err
			}
			if s.river != nil {
				if _, err := j.client.JobCancelTx(ctx, tx, *s.river); err != nil && !errors.Is(err, river.ErrNotFound) {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	entries, _ := os.ReadDir(j.tempDir)
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid != os.Getpid() && !alive(pid) {
			if err := os.RemoveAll(filepath.Join(j.tempDir, e.Name())); err == nil {
				j.log.Warn("removed the files of imports interrupted by a server stop", "dir", filepath.Join(j.tempDir, e.Name()))
			}
		}
	}
	return nil
}

// fail ends an import as failed with err, and forgets its upload.
func (j *Jobs) fail(ctx context.Context, q querier, id string, err error) error {
	e, _ := json.Marshal(jobError(err))
	_, dbErr := q.Exec(ctx, `
		WITH j AS (UPDATE import_job SET state = 'failed', error = $2, ended_at = now() WHERE id = $1 AND state IN ('queued', 'running') RETURNING upload_id)
		DELETE FROM upload WHERE id IN (SELECT upload_id FROM j)`, id, e)
	return dbErr
}

func jobError(err error) registry.ImportJobError {
	return registry.ImportJobError{Code: registry.ErrorCode(err), Message: registry.ErrorMessage(err), Details: registry.ErrorDetails(err)}
}

// newImportID returns 9 random bytes in hex: an import's id is its owner's secret.
func newImportID() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// StartImport implements registry.ImportJobService.
func (j *Jobs) StartImport(ctx context.Context, req registry.ImportRequest) (*registry.ImportJob, error) {
	return j.queue(ctx, req, "")
}

// queue records an import and queues its job, in one transaction: the job runs only once the
// import it names exists.
func (j *Jobs) queue(ctx context.Context, req registry.ImportRequest, commitOf string) (*registry.ImportJob, error) {
	a, _ := registry.ActorFromContext(ctx)
	if a.Role != registry.RoleAdmin && a.Role != registry.RoleOfficer {
		return nil, registry.Errorf(registry.EFORBIDDEN, "your role (%s) may not import files: officers import survey files for their provinces", cmpOr(a.Role, "public"))
	}
	kind := a.Kind
	if kind != "user" && kind != "token" {
		kind = "system"
	}
	job := &registry.ImportJob{ID: newImportID(), Filename: req.Filename, State: registry.ImportQueued, Request: req, CommitOf: commitOf, Owner: a.String()}
	request, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	err = j.db.Transact(ctx, func(tx pgx.Tx) error {
		var owned bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM upload WHERE id = $1 AND (created_by = $2 OR $3))`,
			req.UploadID, a.String(), a.Role == registry.RoleAdmin).Scan(&owned); err != nil {
			return err
		}
		if !owned {
			return registry.Errorf(registry.ENOTFOUND, "upload %d not found: send the file again", req.UploadID)
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO import_job (id, owner, owner_user_id, owner_kind, request_id, filename, request, upload_id, commit_of)
			VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, $7, $8, NULLIF($9, '')) RETURNING started_at`,
			job.ID, a.String(), nullID(a.UserID), kind, registry.RequestIDFromContext(ctx), req.Filename, request, req.UploadID, commitOf).Scan(&job.Started); err != nil {
			if registry.ErrorCode(mapError(err)) == registry.ECONFLICT {
				return registry.Errorf(registry.ECONFLICT, "this dry run has been committed already")
			}
			return mapError(err)
		}
		res, err := j.client.InsertTx(ctx, tx, importArgs{ImportID: job.ID}, &river.InsertOpts{MaxAttempts: 1})
		if err != nil {
			return fmt.Errorf("queueing the import: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE import_job SET river_job_id = $2 WHERE id = $1`, job.ID, res.Job.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return job, nil
}

const importJobColumns = `id, filename, state, request, progress, report, error, started_at, ended_at, owner,
	coalesce((SELECT c.id FROM import_job c WHERE c.commit_of = j.id), ''), coalesce(commit_of, ''), owner_user_id`

func scanImportJob(row scanner) (*registry.ImportJob, *int64, error) {
	var job registry.ImportJob
	var request, progress, report, jerr []byte
	var owner *int64
	if err := row.Scan(&job.ID, &job.Filename, &job.State, &request, &progress, &report, &jerr, &job.Started, &job.Ended, &job.Owner,
		&job.Commits, &job.CommitOf, &owner); err != nil {
		return nil, nil, err
	}
	for _, f := range []struct {
		b   []byte
		dst any
	}{{request, &job.Request}, {progress, &job.Progress}} {
		if err := json.Unmarshal(f.b, f.dst); err != nil {
			return nil, nil, err
		}
	}
	if report != nil {
		job.Report = new(registry.ImportReport)
		if err := json.Unmarshal(report, job.Report); err != nil {
			return nil, nil, err
		}
	}
	if jerr != nil {
		job.Error = new(registry.ImportJobError)
		if err := json.Unmarshal(jerr, job.Error); err != nil {
			return nil, nil, err
		}
	}
	return &job, owner, nil
}

// FindImport implements registry.ImportJobService.
func (j *Jobs) FindImport(ctx context.Context, id string) (*registry.ImportJob, error) {
	job, owner, err := scanImportJob(j.db.Pool.QueryRow(ctx, `SELECT `+importJobColumns+` FROM import_job j WHERE id = $1`, id))
	a, _ := registry.ActorFromContext(ctx)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && a.Role != registry.RoleAdmin && (owner == nil || *owner != a.UserID || a.UserID == 0)) {
		return nil, registry.Errorf(registry.ENOTFOUND, "no import %s of yours: imports are kept for a day after they end", id)
	}
	return job, err
}

// CommitImport implements registry.ImportJobService.
func (j *Jobs) CommitImport(ctx context.Context, id string) (*registry.ImportJob, error) {
	dry, err := j.FindImport(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case !dry.Request.DryRun:
		return nil, registry.Errorf(registry.ECONFLICT, "import %s was not a dry run: it is committed already, or was refused", id)
	case dry.State != registry.ImportDone:
		return nil, registry.Errorf(registry.ECONFLICT, "dry run %s is %s: commit it once it has ended without problems", id, dry.State)
	case dry.Commits != "":
		return nil, registry.Errorf(registry.ECONFLICT, "dry run %s has been committed already, as import %s", id, dry.Commits)
	}
	req := dry.Request
	req.DryRun = false
	return j.queue(ctx, req, id)
}

// importWorker runs one import.
type importWorker struct {
	river.WorkerDefaults[importArgs]
	jobs *Jobs
}

func (w *importWorker) Work(ctx context.Context, rj *river.Job[importArgs]) error {
	return w.jobs.run(ctx, rj.Args.ImportID)
}

// run runs import id as its owner, and records how it ended. An import that fails is an
// ended import, not a failed job: the job is not tried again.
func (j *Jobs) run(ctx context.Context, id string) error {
	var ownerKind, owner, requestID string
	var ownerID, uploadID *int64
	var request []byte
	err := j.db.Pool.QueryRow(ctx, `
		UPDATE import_job SET state = 'running', running_on = $2 WHERE id = $1 AND state = 'queued'
		RETURNING owner_kind, owner, owner_user_id, coalesce(request_id, ''), request, upload_id`, id, j.host+":"+strconv.Itoa(os.Getpid())).
		Scan(&ownerKind, &owner, &ownerID, &requestID, &request, &uploadID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // ended already (failed as interrupted, or forgotten)
	} else if err != nil {
		return err
	}
	var req registry.ImportRequest
	if err := json.Unmarshal(request, &req); err != nil {
		return err
	}
	j.running.Add(1)
	defer j.running.Add(-1)
	actor, err := j.actorOf(ctx, ownerKind, owner, ownerID)
	var rep *registry.ImportReport
	progress := j.progressWriter(id)
	if err == nil && uploadID == nil {
		err = registry.Errorf(registry.ENOTFOUND, "the uploaded file is no longer kept: send it again")
	}
	if err == nil {
		var path string
		if path, err = j.fetchUpload(ctx, *uploadID, id, req.Filename); err == nil {
			ictx := registry.NewContextWithRequestID(registry.NewContextWithActor(ctx, actor), requestID)
			rep, err = j.opts.Run(ictx, req, path, progress.update)
			os.Remove(path)
		}
	}
	return j.finish(context.WithoutCancel(ctx), id, req, rep, err, progress.last())
}

// actorOf is who started an import, as their account is now: a user disabled meanwhile, or who
// lost a jurisdiction, imports with what is left.
func (j *Jobs) actorOf(ctx context.Context, kind, owner string, userID *int64) (registry.Actor, error) {
	name := owner[strings.IndexByte(owner, ':')+1:]
	if kind == "system" || userID == nil {
		return registry.SystemActor(name), nil
	}
	u, _, err := scanUser(j.db.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM app_user u WHERE u.id = $1 AND u.disabled_at IS NULL`, *userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.Actor{}, registry.Errorf(registry.EFORBIDDEN, "the account that started this import is disabled")
	} else if err != nil {
		return registry.Actor{}, err
	}
	a := u.Actor(kind, name)
	a.MustChangePassword = false
	return a, nil
}

// fetchUpload writes an upload to a file of this process's folder, named for its import and
// with the extension of its name (which tells its format).
func (j *Jobs) fetchUpload(ctx context.Context, uploadID int64, id, filename string) (string, error) {
	dir := j.processDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, id+strings.ToLower(filepath.Ext(filename)))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := writeUpload(ctx, j.db.Pool, uploadID, f); err != nil {
		f.Close()
		os.Remove(path)
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", err
	}
	return path, nil
}

// finish records how an import ended. A dry run keeps its upload for the import that confirms
// it; any other import forgets it.
func (j *Jobs) finish(ctx context.Context, id string, req registry.ImportRequest, rep *registry.ImportReport, err error, progress registry.ImportProgress) error {
	state := registry.ImportDone
	var jerr []byte
	if err != nil {
		state = registry.ImportFailed
		e := jobError(err)
		if e.Code == registry.EINTERNAL {
			j.log.Error("import failed", "import", id, "err", err)
			e.Message = "the import failed on the server; the administrator can find import " + id + " in the log"
		}
		jerr, _ = json.Marshal(e)
	}
	var report []byte
	if rep != nil {
		report, _ = json.Marshal(rep)
	}
	p, _ := json.Marshal(progress)
	keepUpload := req.DryRun && err == nil
	_, dbErr := j.db.Pool.Exec(ctx, `
		WITH j AS (UPDATE import_job SET state = $2, report = $3, error = $4, progress = $5, ended_at = now() WHERE id = $1 RETURNING upload_id)
		DELETE FROM upload WHERE NOT $6 AND id IN (SELECT upload_id FROM j)`, id, state, report, jerr, p, keepUpload)
	if j.opts.OnImportEnd != nil {
		j.opts.OnImportEnd(state)
	}
	return dbErr
}

// progressWriter writes an import's progress to its row at most a few times a second: every
// server shows it.
type progressWriter struct {
	j       *Jobs
	id      string
	mu      sync.Mutex
	cur     registry.ImportProgress
	written time.Time
}

func (j *Jobs) progressWriter(id string) *progressWriter { return &progressWriter{j: j, id: id} }

func (p *progressWriter) update(pr registry.ImportProgress) {
	p.mu.Lock()
	p.cur = pr
	due := time.Since(p.written) >= 250*time.Millisecond
	if due {
		p.written = time.Now()
	}
	p.mu.Unlock()
	if !due {
		return
	}
	b, _ := json.Marshal(pr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := p.j.db.Pool.Exec(ctx, `UPDATE import_job SET progress = $2 WHERE id = $1`, p.id, b); err != nil {
		p.j.log.Warn("recording an import's progress", "import", p.id, "err", err)
	}
}

func (p *progressWriter) last() registry.ImportProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

// cleanupWorker forgets imports a day after they end, with their uploads, and fails the ones
// whose job is gone (a server stopped under them and River gave up on it).
type cleanupWorker struct {
	river.WorkerDefaults[cleanupArgs]
	jobs *Jobs
}

func (w *cleanupWorker) Work(ctx context.Context, _ *river.Job[cleanupArgs]) error {
	return w.jobs.cleanup(ctx)
}

func (j *Jobs) cleanup(ctx context.Context) error {
	e, _ := json.Marshal(jobError(registry.Errorf(registry.EUNAVAILABLE, "the import was interrupted: the server running it stopped; nothing was imported, start it again")))
	_, err := j.db.Pool.Exec(ctx, `
		WITH lost AS (
		  UPDATE import_job j SET state = 'failed', error = $2, ended_at = now()
		  WHERE j.state IN ('queued', 'running') AND j.started_at < now() - interval '1 minute'
		    AND NOT EXISTS (SELECT 1 FROM river_job r WHERE r.id = j.river_job_id AND r.state IN ('available', 'pending', 'running', 'retryable', 'scheduled'))
		  RETURNING upload_id),
		     old AS (DELETE FROM import_job WHERE ended_at < now() - $1::interval RETURNING upload_id)
		DELETE FROM upload u
		WHERE u.id IN (SELECT upload_id FROM lost UNION ALL SELECT upload_id FROM old)
		   OR (u.purpose = 'import' AND u.created_at < now() - $1::interval
		       AND NOT EXISTS (SELECT 1 FROM import_job j WHERE j.upload_id = u.id AND j.state IN ('queued', 'running')))`,
		importRetention, e)
	return err
}

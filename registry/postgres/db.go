// Package postgres implements the registry's services on PostgreSQL + PostGIS with pgx. SQL
// sits next to the Go that scans it; every multi-statement write goes through Transact, and its
// audit record is written in the same transaction.
package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"
	"github.com/vungtrong/vungtrong/registry"
)

// DB is the registry's database: a pgx pool on a PostGIS database.
type DB struct {
	Pool *pgxpool.Pool
	log  *slog.Logger
	now  func() time.Time

	pendingMu sync.Mutex
	pending   map[pgx.Tx][]registry.Change // changes of transactions in progress
	hooksMu   sync.Mutex
	hooks     []func([]registry.Change)
	// backends are the server process ids of the pool's connections: the change feed skips
	// what they sent, which the OnCommit hooks have already seen.
	backends sync.Map
	// Read is a pool on a streaming replica for anonymous reads (nil: they use Pool).
	Read *pgxpool.Pool
	// TrackLSN makes every Change carry the primary's log position after its commit, for a
	// read replica to have replayed before it shows the change.
	TrackLSN bool
}

// Options tune Open.
type Options struct {
	// MaxConns caps the pool; 0 keeps pgx's default.
	MaxConns int
	// Logger receives the database's own log lines (migrations applied...). Nil discards.
	Logger *slog.Logger
	// StatementTimeout bounds every statement on the server (0: the server's default). Long
	// work (imports, migrations) lifts it for its own transaction.
	StatementTimeout time.Duration
	// ConnectTimeout bounds opening a connection (0: 5 seconds), so that a database that does
	// not answer fails requests quickly instead of holding them.
	ConnectTimeout time.Duration
	// Tracer, when set, sees every statement the pool's connections run (bench/edit records
	// the statements of a request with it, to run the same ones without the server).
	Tracer pgx.QueryTracer
}

// Open connects to the database at url and checks that it answers. The error names the host
// and database, never the password.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL is not valid: %w", errWithoutSecret(err))
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "vungtrong"
	if opts.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	}
	cfg.ConnConfig.ConnectTimeout = cmp.Or(opts.ConnectTimeout, 5*time.Second)
	cfg.ConnConfig.Tracer = opts.Tracer
	if opts.MaxConns > 0 {
		cfg.MaxConns = int32(opts.MaxConns)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db := &DB{log: log, now: time.Now, pending: map[pgx.Tx][]registry.Change{}}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		db.backends.Store(c.PgConn().PID(), true)
		return nil
	}
	cfg.BeforeClose = func(c *pgx.Conn) { db.backends.Delete(c.PgConn().PID()) }
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach the database %q on %s: %w", cfg.ConnConfig.Database, cfg.ConnConfig.Host, errWithoutSecret(err))
	}
	db.Pool = pool
	return db, nil
}

// errWithoutSecret keeps pgx's message but drops anything after "password=" that some connect
// errors repeat.
func errWithoutSecret(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "password="); i >= 0 {
		return errors.New(msg[:i] + "password=…")
	}
	return err
}

// URL returns the connection string of the pool, for other pools on the same database.
func (db *DB) URL() string { return db.Pool.Config().ConnString() }

// Close closes the pool.
func (db *DB) Close() {
	db.Pool.Close()
	if db.Read != nil {
		db.Read.Close()
	}
}

// OpenReplica connects the anonymous reads to a streaming replica at url, and makes changes
// carry the primary's log position (see TrackLSN).
func (db *DB) OpenReplica(ctx context.Context, url string, maxConns int) error {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("database.read_url is not valid: %w", errWithoutSecret(err))
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "vungtrong-read"
	for k, v := range db.Pool.Config().ConnConfig.RuntimeParams {
		if k == "statement_timeout" {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	cfg.ConnConfig.ConnectTimeout = db.Pool.Config().ConnConfig.ConnectTimeout
	if maxConns > 0 {
		cfg.MaxConns = int32(maxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("read replica: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return fmt.Errorf("cannot reach the read replica %q on %s: %w", cfg.ConnConfig.Database, cfg.ConnConfig.Host, errWithoutSecret(err))
	}
	db.Read, db.TrackLSN = pool, true
	return nil
}

// reader is where a read of the caller goes: the replica for anonymous callers when there is
// one (a public page may be a moment behind), the primary for everyone else (an editor reads
// what they just wrote).
func (db *DB) reader(ctx context.Context) querier {
	if db.Read != nil {
		if a, _ := registry.ActorFromContext(ctx); a.Anonymous() {
			return db.Read
		}
	}
	return db.Pool
}

// Ping checks that the database answers (readiness).
func (db *DB) Ping(ctx context.Context) error {
	if err := db.Pool.Ping(ctx); err != nil {
		return registry.Errorf(registry.EUNAVAILABLE, "database unavailable")
	}
	return nil
}

// Transact runs fn in one transaction: committed if fn returns nil, rolled back otherwise.
// The changes it recorded reach the OnCommit hooks after a commit.
func (db *DB) Transact(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return mapError(err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
		db.settle(tx, committed)
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return mapError(err)
	}
	committed = true
	return nil
}

// ErrNoPostGIS is returned by CheckPostGIS when the database cannot have PostGIS 3.
var ErrNoPostGIS = errors.New("postgres: PostGIS 3 missing")

// CheckPostGIS makes sure the database has PostGIS 3: it creates the extension when the server
// has it and the user may, and otherwise returns an error wrapping ErrNoPostGIS that says what
// to do.
func (db *DB) CheckPostGIS(ctx context.Context) error {
	var installed, available *string
	var dbname, user string
	err := db.Pool.QueryRow(ctx, `
		SELECT current_database(), current_user,
		       (SELECT installed_version FROM pg_available_extensions WHERE name = 'postgis'),
		       (SELECT default_version FROM pg_available_extensions WHERE name = 'postgis')`).
		Scan(&dbname, &user, &installed, &available)
	if err != nil {
		return fmt.Errorf("checking for PostGIS: %w", err)
	}
	if installed == nil && available == nil {
		return fmt.Errorf("%w: the database server has no PostGIS extension. Vùng Trồng needs PostGIS 3: install it on the database server (Debian: apt-get install -y postgresql-15-postgis-3), then run `CREATE EXTENSION postgis;` in database %q, or leave VUNGTRONG_DATABASE_URL empty to use the embedded database", ErrNoPostGIS, dbname)
	}
	if installed == nil {
		if _, err := db.Pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
			return fmt.Errorf("%w: PostGIS %s is available on the server but not enabled in database %q, and user %q may not enable it (%s): as a superuser, run `CREATE EXTENSION postgis;` in that database", ErrNoPostGIS, *available, dbname, user, pgMessage(err))
		}
		installed = available
	}
	if !strings.HasPrefix(*installed, "3.") {
		return fmt.Errorf("%w: database %q has PostGIS %s; Vùng Trồng needs PostGIS 3 (run `ALTER EXTENSION postgis UPDATE;` after installing PostGIS 3 on the server)", ErrNoPostGIS, dbname, *installed)
	}
	return nil
}

func pgMessage(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message
	}
	return err.Error()
}

// mapError turns driver errors into registry errors where they have a meaning for the caller,
// saying in words what the broken constraint means (its name never reaches the user).
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return registry.Errorf(registry.ECONFLICT, "%s", constraintMessage(pe.ConstraintName, "this already exists"))
		case "23503": // foreign_key_violation
			return registry.Errorf(registry.EINVALID, "%s", constraintMessage(pe.ConstraintName, "it refers to something that does not exist"))
		case "23514": // check_violation
			return registry.Errorf(registry.EINVALID, "value not allowed: %s", constraintMessage(pe.ConstraintName, "a value breaks a rule of the registry"))
		case "23502": // not_null_violation
			return registry.Errorf(registry.EINVALID, "%s is required", cmpOr(pe.ColumnName, "a value"))
		case "22P02", "22001", "22003", "22007", "22008": // invalid text, too long, out of range, bad date/time
			return registry.Errorf(registry.EINVALID, "value not allowed: %s", pe.Message)
		case "22021", "22P05", "54000": // bad encoding, untranslatable character (NUL), too long
			return registry.Errorf(registry.EMALFORMED, "the text cannot be stored: it holds a character the registry does not accept")
		}
	}
	return err
}

// IsUnavailable reports whether err says that the database cannot be reached or answer now:
// connection refused or lost, a timeout, the server shutting down or starting, a statement
// cancelled by the statement timeout. Such requests may succeed when retried later.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exceptions; 57P01-57P03: shutting down, crashed, starting up;
		// 57014: cancelled (the statement timeout); 53300: too many connections.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" ||
			pe.Code == "57014" || pe.Code == "53300"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), pgconn.Timeout(err), errors.As(err, &ne),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ENOENT), errors.Is(err, puddle.ErrClosedPool), errors.Is(err, net.ErrClosed):
		return true
	}
	// pgx reports a connection that died under a query as "conn closed" or "unexpected EOF"
	// without a sentinel in some paths.
	msg := err.Error()
	for _, m := range []string{"conn closed", "conn busy", "failed to connect", "connection refused", "connection reset",
		"broken pipe", "unexpected EOF", "the database system is", "context deadline exceeded", "SQLSTATE 57P0", "SQLSTATE 08"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// scanner is what pgx.Row and pgx.Rows share.
type scanner interface {
	Scan(dest ...any) error
}

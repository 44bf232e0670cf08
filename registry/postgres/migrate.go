package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/migrations"
)

// migrationLockKey is the advisory lock held while migrating, so that two servers starting at
// once apply each migration exactly once. Any constant unique to this program will do.
const migrationLockKey = 0x76756e67 // "vung"

// Migration is one numbered schema change.
type Migration struct {
	Version   int
	Name      string
	Up, Down  string
	AppliedAt *time.Time
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.(up|down)\.sql$`)

// Migrations returns the embedded migrations in order. A migration without its down file, or
// two with one number, is a programming error reported here.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]*Migration{}
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		v, _ := strconv.Atoi(m[1])
		body, err := fs.ReadFile(migrations.FS, e.Name())
		if err != nil {
			return nil, err
		}
		mig := byVersion[v]
		if mig == nil {
			mig = &Migration{Version: v, Name: m[2]}
			byVersion[v] = mig
		} else if mig.Name != m[2] {
			return nil, fmt.Errorf("migrations: %04d is both %s and %s", v, mig.Name, m[2])
		}
		if m[3] == "up" {
			mig.Up = string(body)
		} else {
			mig.Down = string(body)
		}
	}
	var out []Migration
	for _, m := range byVersion {
		if m.Up == "" || m.Down == "" {
			return nil, fmt.Errorf("migrations: %04d_%s needs both an up and a down file", m.Version, m.Name)
		}
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// withMigrationLock runs fn on one connection holding the migration lock.
func (db *DB) withMigrationLock(ctx context.Context, fn func(conn *pgx.Conn) error) error {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	// Migrations (and waiting for another server's) may take longer than a request's statement
	// timeout.
	if _, err := conn.Exec(ctx, `SET statement_timeout = 0`); err != nil {
		return err
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `RESET statement_timeout`) }()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		return fmt.Errorf("migrate: taking the migration lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey)
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migration (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return fn(conn.Conn())
}

func applied(ctx context.Context, conn *pgx.Conn) (map[int]time.Time, error) {
	rows, err := conn.Query(ctx, `SELECT version, applied_at FROM schema_migration`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]time.Time{}
	for rows.Next() {
		var v int
		var at time.Time
		if err := rows.Scan(&v, &at); err != nil {
			return nil, err
		}
		out[v] = at
	}
	return out, rows.Err()
}

// MigrateUp applies every migration not applied yet, each in its own transaction, under an
// advisory lock. It returns the migrations it applied.
func (db *DB) MigrateUp(ctx context.Context) ([]Migration, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	var done []Migration
	err = db.withMigrationLock(ctx, func(conn *pgx.Conn) error {
		have, err := applied(ctx, conn)
		if err != nil {
			return err
		}
		for _, m := range all {
			if _, ok := have[m.Version]; ok {
				continue
			}
			if g, ok := goMigrations[m.Version]; ok {
				if err := g.up(ctx, db); err != nil {
					return fmt.Errorf("migrate: %04d_%s: %w", m.Version, m.Name, err)
				}
			}
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, m.Up); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO schema_migration (version, name) VALUES ($1, $2)`, m.Version, m.Name)
				return err
			})
			if err != nil {
				return fmt.Errorf("migrate: %04d_%s: %w", m.Version, m.Name, err)
			}
			db.log.Info("migration applied", "version", m.Version, "name", m.Name)
			done = append(done, m)
		}
		return nil
	})
	return done, err
}

// MigrateDown reverts the last steps applied migrations, newest first.
func (db *DB) MigrateDown(ctx context.Context, steps int) ([]Migration, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	var done []Migration
	err = db.withMigrationLock(ctx, func(conn *pgx.Conn) error {
		have, err := applied(ctx, conn)
		if err != nil {
			return err
		}
		for i := len(all) - 1; i >= 0 && len(done) < steps; i-- {
			m := all[i]
			if _, ok := have[m.Version]; !ok {
				continue
			}
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, m.Down); err != nil {
					return err
				}

				_, err := tx.Exec(ctx, `DELETE FROM schema_migration WHERE version = $1`, m.Version)
				return err
			})
			if err != nil {
				return fmt.Errorf("migrate down: %04d_%s: %w", m.Version, m.Name, err)
			}
			if g, ok := goMigrations[m.Version]; ok {
				if err := g.down(ctx, db); err != nil {
					return fmt.Errorf("migrate down: %04d_%s: %w", m.Version, m.Name, err)
				}
			}
			db.log.Info("migration reverted", "version", m.Version, "name", m.Name)
			done = append(done, m)
		}
		return nil
	})
	return done, err
}

// MigrationStatus returns every known migration with the time it was applied (nil if not).
func (db *DB) MigrationStatus(ctx context.Context) ([]Migration, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	err = db.withMigrationLock(ctx, func(conn *pgx.Conn) error {
		have, err := applied(ctx, conn)
		if err != nil {
			return err
		}
		for i := range all {
			if at, ok := have[all[i].Version]; ok {
				all[i].AppliedAt = &at
			}
		}
		return nil
	})
	return all, err
}

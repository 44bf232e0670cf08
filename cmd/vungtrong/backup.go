package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
	"github.com/vungtrong/vungtrong/pgcluster"
	"github.com/vungtrong/vungtrong/registry/postgres"
)

// A backup is one tar file: manifest.json first (so that a restore can refuse a backup before
// reading the dump), then database.dump, the output of `pg_dump --format=custom`.
const (
	backupFormat        = "vungtrong-backup"
	backupFormatVersion = 1
	manifestName        = "manifest.json"
	dumpName            = "database.dump"
	maxManifestBytes    = 16 << 20
	// projectSRIDsTable names, in the manifest, the rows of PostGIS's spatial_ref_sys that are
	// the project's own (the VN-2000 SRIDs, 990000 and up). The rest of that table belongs to
	// PostGIS and comes with the extension.
	projectSRIDsTable = "spatial_ref_sys (project srids)"
)

// backupManifest describes a backup: what it was taken from, and every table's row count and
// checksum as of the dumped snapshot, which a restore checks again.
type backupManifest struct {
	Format         string     `json:"format"`
	FormatVersion  int        `json:"format_version"`
	CreatedAt      string     `json:"created_at"` // UTC, RFC 3339
	ProgramVersion string     `json:"program_version"`
	Database       string     `json:"database"`
	SchemaVersion  int        `json:"schema_version"` // highest applied migration, 0 for none
	Migrations     []int      `json:"applied_migrations"`
	PostgreSQL     string     `json:"postgresql_version"`
	PostGIS        string     `json:"postgis_version"`
	PgDump         string     `json:"pg_dump_version"`
	Tables         []tableSum `json:"tables"`
	Dump           dumpInfo   `json:"dump"`
}

// tableSum is a table's row count and order-independent checksum.
type tableSum struct {
	Name     string `json:"name"`
	Rows     int64  `json:"rows"`
	Checksum string `json:"checksum"`
}

// dumpInfo identifies database.dump, so that a damaged copy is refused before restoring.
type dumpInfo struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

func oneFileArg(use, example string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usageError{fmt.Errorf("%s takes one FILE, e.g. `vungtrong %s %s`", use, use, example)}
		}
		return nil
	}
}

func (c *cli) backupCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent backup of the whole database to one file (read back by `vungtrong restore`)",
		Long: `Write the whole database (schema, migration history, every table, and the project's VN-2000
spatial references) to FILE while the registry keeps running. FILE is one tar archive holding
manifest.json and database.dump (pg_dump's custom format).

The copy is consistent: pg_dump reads one snapshot of the database, and the manifest records
every table's row count and checksum from that same snapshot; ` + "`vungtrong restore`" + ` checks them
again after restoring.

FILE is written as FILE.tmp and renamed when complete, so a failed or interrupted backup never
leaves a partial FILE; an existing FILE is replaced. The backup holds personal data and password
hashes: it is created readable by its owner only; keep copies somewhere as safe.

Backs up the database at database.url, or the embedded one in <data_dir>/pg. Needs pg_dump, from
the PostgreSQL client of the server's major version or newer (Debian: postgresql-client-15),
on PATH or in /usr/lib/postgresql/<version>/bin.`,
		Example: "  vungtrong backup /srv/backups/vungtrong-$(date +%F).tar",
		Args:    oneFileArg("backup", "/srv/backups/vungtrong.tar"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDB(cmd, false, func(db *postgres.DB) error {
				return c.runBackup(cmd.Context(), db, args[0])
			})
		},
	}
}

func (c *cli) restoreCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a backup made by `vungtrong backup` into an empty database, and verify it",
		Long: `Restore a backup made by ` + "`vungtrong backup`" + ` into an empty database: the one at database.url,
or the embedded one in <data_dir>/pg (created when it does not exist yet).

Before anything is changed, restore checks that FILE is a complete, undamaged backup (the size
and SHA-256 of its database.dump match its manifest), that its schema is not newer than this
vungtrong knows, and that the database holds no tables yet. The restore then runs as a single
transaction: everything is restored, or nothing. Finally every table's row count and checksum
are compared with the manifest, and any difference is reported, naming the table.

A backup from an older vungtrong is restored as it was: ` + "`vungtrong migrate up`" + ` (or serve) then
brings its schema up to date. Owners and grants are not restored: every object belongs to the
user that restores. Needs pg_restore and psql, from the PostgreSQL client of the server's major
version or newer (Debian: postgresql-client-15), on PATH or in /usr/lib/postgresql/<version>/bin.`,
		Example: "  vungtrong restore /srv/backups/vungtrong-2025-06-01.tar\n" +
			"  VUNGTRONG_DATABASE_URL=postgres://vungtrong@db.internal/vungtrong_new vungtrong restore backup.tar",
		Args: oneFileArg("restore", "/srv/backups/vungtrong.tar"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runRestore(cmd, args[0])
		},
	}
}

// runBackup writes the backup of db to path.
func (c *cli) runBackup(ctx context.Context, db *postgres.DB, path string) error {
	start := time.Now()
	pgDump, err := findPGTool("pg_dump")
	if err != nil {
		return err
	}
	conn, env, err := libpqConnection(db.URL())
	if err != nil {
		return err
	}
	dumpVersion, err := toolVersion(ctx, pgDump)
	if err != nil {
		return err
	}
	// The dump goes to a temporary file next to FILE first: the manifest, which comes first in
	// the archive, holds the dump's size and checksum. pg_dump writes the file itself, as a file
	// (not a pipe) lets it record where each table's data starts, which pg_restore --jobs needs.
	dumpFile, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.dump.tmp")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer func() {
		dumpFile.Close()
		os.Remove(dumpFile.Name())
	}()

	// One REPEATABLE READ transaction fixes the snapshot: pg_dump imports it, and the manifest's
	// counts and checksums are computed in it, so both describe exactly the same data. It stays
	// open until pg_dump is done.
	tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var snapshot string
	if err := tx.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot); err != nil {
		return fmt.Errorf("backup: exporting the snapshot: %w", err)
	}
	if err := setStableText(ctx, tx); err != nil {
		return fmt.Errorf("backup: %w", err)
	}

	dumpCtx, stopDump := context.WithCancel(ctx)
	defer stopDump()
	var stderr tailBuffer
	// --no-sync: the archive, not this temporary file, is synced to disk.
	cmd := exec.CommandContext(dumpCtx, pgDump, "--format=custom", "--no-sync", "--snapshot="+snapshot,
		"--file="+dumpFile.Name(), "--dbname="+conn)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	c.log.Info("backup: pg_dump started", "pg_dump", pgDump, "snapshot", snapshot)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("backup: starting %s: %w", pgDump, err)
	}
	m, err := describeDatabase(ctx, tx)
	if err != nil {
		stopDump()
		_ = cmd.Wait()
		return fmt.Errorf("backup: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("backup: pg_dump failed (%v): %s%s", err, stderr.String(), versionHint(stderr.String()))
	}
	_ = tx.Rollback(ctx) // read only: nothing to commit; the snapshot is no longer needed

	m.Format, m.FormatVersion = backupFormat, backupFormatVersion
	m.CreatedAt = start.UTC().Format(time.RFC3339)
	m.ProgramVersion = programVersion()
	m.PgDump = dumpVersion
	h := sha256.New()
	if _, err := dumpFile.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	n, err := io.Copy(h, readerWithContext{ctx, dumpFile})
	if err != nil {
		return fmt.Errorf("backup: reading the dump: %w", err)
	}
	m.Dump = dumpInfo{Name: dumpName, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}
	if err := writeBackup(path, m, dumpFile, start); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tables, rows := summarize(m.Tables)
	fmt.Fprintf(c.stdout, "backup written to %s\n", path)
	fmt.Fprintf(c.stdout, "  database  %q, schema version %d, PostgreSQL %s, PostGIS %s\n", m.Database, m.SchemaVersion, m.PostgreSQL, orNone(m.PostGIS))
	fmt.Fprintf(c.stdout, "  tables    %s, %d rows\n", tables, rows)
	fmt.Fprintf(c.stdout, "  size      %s (database.dump sha256 %s…)\n", humanBytes(fi.Size()), m.Dump.SHA256[:16])
	fmt.Fprintf(c.stdout, "  took      %s\n", time.Since(start).Round(10*time.Millisecond))
	return nil
}

// runRestore restores the backup at path into the configured database.
func (c *cli) runRestore(cmd *cobra.Command, path string) error {
	ctx := cmd.Context()
	start := time.Now()
	pgRestore, err := findPGTool("pg_restore")
	if err != nil {
		return err
	}
	psql, err := findPGTool("psql")
	if err != nil {
		return err
	}
	// Everything that can be checked on the file alone is checked before the database is touched.
	m, err := readManifest(path)
	if err != nil {
		return err
	}
	all, err := postgres.Migrations()
	if err != nil {
		return err
	}
	newest := 0
	if len(all) > 0 {
		newest = all[len(all)-1].Version
	}
	if m.SchemaVersion > newest {
		return fmt.Errorf("restore: %s has schema version %d, newer than this vungtrong (%s) knows (its newest migration is %d): restore it with the vungtrong that made it (%s) or a newer one", path, m.SchemaVersion, programVersion(), newest, m.ProgramVersion)
	}
	if err := verifyDump(ctx, path, m); err != nil {
		return err
	}

	return c.withDB(cmd, false, func(db *postgres.DB) error {
		target, err := databaseName(ctx, db)
		if err != nil {
			return err
		}
		if err := checkEmpty(ctx, db, target); err != nil {
			return err
		}
		var postgis *string
		if err := db.Pool.QueryRow(ctx, `SELECT extversion FROM pg_extension WHERE extname = 'postgis'`).Scan(&postgis); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("restore: %w", err)
		}
		if postgis != nil && m.PostGIS != "" && *postgis != m.PostGIS {
			c.log.Warn("restore: the backup was taken with another PostGIS version; the database keeps its own", "backup", m.PostGIS, "database", *postgis)
		}
		conn, env, err := libpqConnection(db.URL())
		if err != nil {
			return err
		}
		// The dump creates its extensions (IF NOT EXISTS) and sets their comments, which only an
		// extension's owner may do; and the database has PostGIS already (it is added when the
		// database is opened, or was by its administrator). The entries of the extensions the
		// database has are left out of the restore list: it keeps them as they are.
		list, skipped, err := restoreList(ctx, db, pgRestore, path)
		if err != nil {
			return err
		}
		for _, ext := range skipped {
			c.log.Info("restore: extension already in the database, kept as it is", "extension", ext)
		}
		listFile, err := os.CreateTemp("", "vungtrong-restore-*.list")
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		defer os.Remove(listFile.Name())
		if _, err := listFile.WriteString(list); err != nil {
			listFile.Close()
			return fmt.Errorf("restore: %w", err)
		}
		if err := listFile.Close(); err != nil {
			return fmt.Errorf("restore: %w", err)
		}

		dump, err := openDump(path)
		if err != nil {
			return err
		}
		defer dump.Close()
		c.log.Info("restore: pg_restore started", "pg_restore", pgRestore, "psql", psql, "database", target)
		if err := restoreScript(ctx, pgRestore, psql, listFile.Name(), dump, conn, env); err != nil {
			return err
		}

		got, err := sumDatabase(ctx, db)
		if err != nil {
			return fmt.Errorf("restore: checking the restored data: %w", err)
		}
		if err := compareSums(m.Tables, got); err != nil {
			return fmt.Errorf("restore: the restored database %q does not match %s, do not use it (drop it, then restore again or from another backup):\n%w", target, path, err)
		}
		// Fresh tables have no planner statistics until autovacuum comes by.
		err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `ANALYZE`)
			return err
		})
		if err != nil {
			return fmt.Errorf("restore: analyze: %w", err)
		}

		tables, rows := summarize(m.Tables)
		fmt.Fprintf(c.stdout, "restored %s into database %q\n", path, target)
		fmt.Fprintf(c.stdout, "  backup    taken %s by vungtrong %s from database %q\n", m.CreatedAt, m.ProgramVersion, m.Database)
		fmt.Fprintf(c.stdout, "  tables    %s, %d rows: counts and checksums match the backup\n", tables, rows)
		if m.SchemaVersion < newest {
			fmt.Fprintf(c.stdout, "  schema    version %d; this vungtrong has %d: run `vungtrong migrate up` (serve does it too)\n", m.SchemaVersion, newest)
		} else {
			fmt.Fprintf(c.stdout, "  schema    version %d, up to date\n", m.SchemaVersion)
		}
		fmt.Fprintf(c.stdout, "  took      %s\n", time.Since(start).Round(10*time.Millisecond))
		return nil
	})
}

// restoreScript restores the dump read from dump into the database at conn, in one
// transaction: pg_restore turns the entries of listFile into an SQL script, and psql runs it.
//
// pg_restore cannot write to the database itself: its script sets an empty search_path, and a
// trigger condition such as "old.geom IS DISTINCT FROM new.geom" (which PostgreSQL prints without
// a schema for its operator) then finds no geometry = operator, only ambiguous casts. The script
// is therefore run with schema public on the search_path, as the schema was created. Everything
// else in it is schema-qualified, so nothing else changes.
func restoreScript(ctx context.Context, pgRestore, psql, listFile string, dump io.Reader, conn string, env []string) error {
	ctx, kill := context.WithCancel(ctx)
	defer kill()
	var restoreMsgs, psqlMsgs tailBuffer
	restore := exec.CommandContext(ctx, pgRestore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
		"--use-list="+listFile, "--file=-")
	restore.Stdin, restore.Stderr = dump, &restoreMsgs
	script, err := restore.StdoutPipe()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	apply := exec.CommandContext(ctx, psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--dbname="+conn)
	apply.Env = env
	apply.Stdout, apply.Stderr = io.Discard, &psqlMsgs
	in, err := apply.StdinPipe()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := apply.Start(); err != nil {
		return fmt.Errorf("restore: starting %s: %w", psql, err)
	}
	if err := restore.Start(); err != nil {
		kill()
		_ = apply.Wait()
		return fmt.Errorf("restore: starting %s: %w", pgRestore, err)
	}
	const nothing = "nothing was restored (it runs as one transaction)"
	if err := filterScript(in, script); err != nil {
		// psql stopped reading: it met an error and rolled back.
		in.Close()
		applyErr := apply.Wait()
		kill()
		_ = restore.Wait()
		if applyErr == nil {
			applyErr = err
		}
		return fmt.Errorf("restore: failed (%v), %s: %s%s", applyErr, nothing, psqlMsgs.String(), versionHint(psqlMsgs.String()))
	}
	if err := restore.Wait(); err != nil {
		// The script is incomplete and lacks its COMMIT: end psql before it reaches the end of
		// its input, and the server rolls the transaction back.
		kill()
		_ = apply.Wait()
		return fmt.Errorf("restore: pg_restore failed (%v), %s: %s%s", err, nothing, restoreMsgs.String(), versionHint(restoreMsgs.String()))
	}
	if err := in.Close(); err != nil {
		kill()
		_ = apply.Wait()
		return fmt.Errorf("restore: %w", err)
	}
	if err := apply.Wait(); err != nil {
		return fmt.Errorf("restore: failed (%v), %s: %s%s", err, nothing, psqlMsgs.String(), versionHint(psqlMsgs.String()))
	}
	return nil
}

// The line of pg_restore's script that empties the search_path, and its replacement.
const (
	emptySearchPath  = "SELECT pg_catalog.set_config('search_path', '', false);\n"
	publicSearchPath = "SELECT pg_catalog.set_config('search_path', 'public', false);\n"
)

// filterScript copies pg_restore's script from src to dst with the search_path line replaced.
// Lines of COPY data, however long, pass through untouched.
func filterScript(dst io.Writer, src io.Reader) error {
	r := bufio.NewReaderSize(src, 64<<10)
	atLineStart, inCopy := true, false
	for {
		chunk, err := r.ReadSlice('\n')
		if len(chunk) > 0 {
			out := chunk
			if atLineStart && err == nil { // a whole line
				switch line := string(chunk); {
				case inCopy:
					inCopy = line != "\\.\n"
				case line == emptySearchPath:
					out = []byte(publicSearchPath)
				case strings.HasPrefix(line, "COPY ") && strings.HasSuffix(line, " FROM stdin;\n"):
					inCopy = true
				}
			}
			if _, werr := dst.Write(out); werr != nil {
				return werr
			}
			atLineStart = err == nil
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case err == io.EOF:
			return nil
		default:
			return err
		}
	}
}

// setStableText fixes, for the rest of the transaction, every setting that changes the text
// form of a value, so that checksums computed over row text agree between the backup and the
// restore on any server. Long tables must not hit a statement timeout either.
func setStableText(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `
		SET LOCAL TimeZone = 'UTC';
		SET LOCAL extra_float_digits = 1;
		SET LOCAL DateStyle = 'ISO, YMD';
		SET LOCAL IntervalStyle = 'postgres';
		SET LOCAL bytea_output = 'hex';
		SET LOCAL statement_timeout = 0;
		SET LOCAL idle_in_transaction_session_timeout = 0`)
	return err
}

// describeDatabase fills a manifest with what tx sees: versions and every table's sums.
func describeDatabase(ctx context.Context, tx pgx.Tx) (*backupManifest, error) {
	m := &backupManifest{Migrations: []int{}}
	var postgis *string
	err := tx.QueryRow(ctx, `
		SELECT current_database(), current_setting('server_version'),
		       (SELECT extversion FROM pg_extension WHERE extname = 'postgis')`).Scan(&m.Database, &m.PostgreSQL, &postgis)
	if err != nil {
		return nil, err
	}
	if postgis != nil {
		m.PostGIS = *postgis
	}
	var hasMigrations bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('public.schema_migration') IS NOT NULL`).Scan(&hasMigrations); err != nil {
		return nil, err
	}
	if hasMigrations {
		rows, _ := tx.Query(ctx, `SELECT version FROM public.schema_migration ORDER BY version`)
		if m.Migrations, err = pgx.CollectRows(rows, pgx.RowTo[int]); err != nil {
			return nil, fmt.Errorf("reading schema_migration: %w", err)
		}
		if n := len(m.Migrations); n > 0 {
			m.SchemaVersion = m.Migrations[n-1]
		}
	}
	if m.Tables, err = tableSums(ctx, tx); err != nil {
		return nil, err
	}
	return m, nil
}

// publicTablesSQL lists the ordinary tables of schema public that belong to no extension
// (PostGIS's spatial_ref_sys belongs to postgis). Partitions are ordinary tables; their
// partitioned parent holds no rows of its own.
const publicTablesSQL = `
	SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'public' AND c.relkind = 'r'
	  AND NOT EXISTS (SELECT 1 FROM pg_depend d
	                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
	ORDER BY c.relname COLLATE "C"`

// projectSRIDsWhere selects the project's own rows of spatial_ref_sys. 900913 (the old Google
// Mercator) comes with PostGIS, which also leaves it out of dumps.
const projectSRIDsWhere = `WHERE srid >= 900000 AND srid <> 900913`

// tableSums returns the row count and checksum of every table of schema public, and of the
// project's rows in spatial_ref_sys, as tx sees them. tx must have run setStableText.
func tableSums(ctx context.Context, tx pgx.Tx) ([]tableSum, error) {
	rows, _ := tx.Query(ctx, publicTablesSQL)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing tables: %w", err)
	}
	out := make([]tableSum, 0, len(names)+1)
	for _, name := range names {
		s, err := sumTable(ctx, tx, name, pgx.Identifier{"public", name}.Sanitize(), "")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	var hasSRS bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('public.spatial_ref_sys') IS NOT NULL`).Scan(&hasSRS); err != nil {
		return nil, err
	}
	if hasSRS {
		s, err := sumTable(ctx, tx, projectSRIDsTable, `public.spatial_ref_sys`, projectSRIDsWhere)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// sumTable counts the rows of table and adds up the first 64 bits of each row's md5 (as text):
// a checksum that does not depend on the order of the rows and streams over millions of them.
func sumTable(ctx context.Context, tx pgx.Tx, name, table, where string) (tableSum, error) {
	if err := ctx.Err(); err != nil {
		return tableSum{}, err
	}
	s := tableSum{Name: name}
	q := `SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0)::text FROM ` + table + ` t ` + where
	if err := tx.QueryRow(ctx, q).Scan(&s.Rows, &s.Checksum); err != nil {
		return s, fmt.Errorf("checksum of table %s: %w", name, err)
	}
	return s, nil
}

// sumDatabase computes tableSums on db in a transaction of its own.
func sumDatabase(ctx context.Context, db *postgres.DB) ([]tableSum, error) {
	tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := setStableText(ctx, tx); err != nil {
		return nil, err
	}
	return tableSums(ctx, tx)
}

// compareSums returns an error naming every table whose count or checksum differs, and every
// table only one side has.
func compareSums(want, got []tableSum) error {
	gotBy := map[string]tableSum{}
	for _, s := range got {
		gotBy[s.Name] = s
	}
	var problems []string
	for _, w := range want {
		g, ok := gotBy[w.Name]
		delete(gotBy, w.Name)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("table %s: missing (the backup has %d rows)", w.Name, w.Rows))
		case g.Rows != w.Rows:
			problems = append(problems, fmt.Sprintf("table %s: %d rows, the backup has %d", w.Name, g.Rows, w.Rows))
		case g.Checksum != w.Checksum:
			problems = append(problems, fmt.Sprintf("table %s: checksum %s, the backup has %s (%d rows each)", w.Name, g.Checksum, w.Checksum, w.Rows))
		}
	}
	for name, g := range gotBy {
		problems = append(problems, fmt.Sprintf("table %s: %d rows, not in the backup", name, g.Rows))
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return errors.New("  " + strings.Join(problems, "\n  "))
}

// checkEmpty refuses a database that holds anything a restore would collide with: a table or
// view of its own in schema public, or the project's spatial references.
func checkEmpty(ctx context.Context, db *postgres.DB, name string) error {
	rows, _ := db.Pool.Query(ctx, `
		SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d
		                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
		ORDER BY c.relname COLLATE "C"`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("restore: looking into the database: %w", err)
	}
	const fix = "restore into a new database (point database.url at it, or use a new data_dir for the embedded one), or drop and recreate this one"
	if len(names) > 0 {
		shown := names
		if len(shown) > 8 {
			shown = append(shown[:8:8], "…")
		}
		return fmt.Errorf("restore needs an empty database: database %q already holds %d tables or views in schema public (%s): %s",
			name, len(names), strings.Join(shown, ", "), fix)
	}
	var srids int
	err = db.Pool.QueryRow(ctx, `SELECT CASE WHEN to_regclass('public.spatial_ref_sys') IS NULL THEN 0
		ELSE (SELECT count(*) FROM public.spatial_ref_sys `+projectSRIDsWhere+`) END`).Scan(&srids)
	if err != nil {
		return fmt.Errorf("restore: looking into the database: %w", err)
	}
	if srids > 0 {
		return fmt.Errorf("restore needs an empty database: database %q already holds %d of the project's spatial references (spatial_ref_sys, srid >= 900000): %s", name, srids, fix)
	}
	return nil
}

func databaseName(ctx context.Context, db *postgres.DB) (string, error) {
	var name string
	if err := db.Pool.QueryRow(ctx, `SELECT current_database()`).Scan(&name); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	return name, nil
}

// extensionEntry matches the entries of `pg_restore --list` that create an extension or set
// its comment, e.g. "3; 3079 16385 EXTENSION - postgis" and "4321; 0 0 COMMENT - EXTENSION postgis".
var extensionEntry = regexp.MustCompile(`^\d+; \d+ \d+ (?:EXTENSION - |COMMENT - EXTENSION )(\S+)`)

// restoreList returns pg_restore's list of the dump with the extensions that db already has
// commented out, and those extensions.
func restoreList(ctx context.Context, db *postgres.DB, pgRestore, path string) (string, []string, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT extname FROM pg_extension`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", nil, fmt.Errorf("restore: listing extensions: %w", err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	dump, err := openDump(path)
	if err != nil {
		return "", nil, err
	}
	defer dump.Close()
	var stdout bytes.Buffer
	var stderr tailBuffer
	cmd := exec.CommandContext(ctx, pgRestore, "--list")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = dump, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", nil, fmt.Errorf("restore: pg_restore --list failed (%v): %s%s", err, stderr.String(), versionHint(stderr.String()))
	}
	lines := strings.SplitAfter(stdout.String(), "\n")
	var skipped []string
	for i, line := range lines {
		if m := extensionEntry.FindStringSubmatch(line); m != nil && have[m[1]] {
			lines[i] = ";" + line
			if strings.Contains(line, " EXTENSION - ") {
				skipped = append(skipped, m[1])
			}
		}
	}
	return strings.Join(lines, ""), skipped, nil
}

// writeBackup writes the archive to path.tmp, makes sure it is on disk, and renames it to path.
func writeBackup(path string, m *backupManifest, dump *os.File, at time.Time) (err error) {
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	body = append(body, '\n')
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: manifestName, Mode: 0o600, Size: int64(len(body)), ModTime: at}); err != nil {
		return err
	}
	if _, err := tw.Write(body); err != nil {
		return err
	}
	if _, err := dump.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dumpName, Mode: 0o600, Size: m.Dump.Size, ModTime: at}); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, dump, m.Dump.Size); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// The rename itself must reach the disk too.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// readManifest reads and checks the manifest of the backup at path.
func readManifest(path string) (*backupManifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != manifestName {
		return nil, fmt.Errorf("restore: %s is not a backup made by `vungtrong backup` (it should be a tar file starting with %s)", path, manifestName)
	}
	if hdr.Size > maxManifestBytes {
		return nil, fmt.Errorf("restore: %s: %s is too large (%d bytes)", path, manifestName, hdr.Size)
	}
	var m backupManifest
	if err := json.NewDecoder(tr).Decode(&m); err != nil {
		return nil, fmt.Errorf("restore: %s: %s is damaged: %w", path, manifestName, err)
	}
	switch {
	case m.Format != backupFormat:
		return nil, fmt.Errorf("restore: %s is not a backup made by `vungtrong backup` (format %q)", path, m.Format)
	case m.FormatVersion > backupFormatVersion:
		return nil, fmt.Errorf("restore: %s has backup format %d, newer than this vungtrong (%s) reads (%d): use the vungtrong that made it (%s) or a newer one", path, m.FormatVersion, programVersion(), backupFormatVersion, m.ProgramVersion)
	case m.Dump.Name != dumpName || len(m.Dump.SHA256) != 64:
		return nil, fmt.Errorf("restore: %s: %s does not describe %s", path, manifestName, dumpName)
	}
	return &m, nil
}

// dumpReader reads database.dump from inside a backup.
type dumpReader struct {
	io.Reader
	f *os.File
}

func (d *dumpReader) Close() error { return d.f.Close() }

// openDump opens the backup at path and returns a reader of its database.dump.
func openDump(path string) (*dumpReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			f.Close()
			return nil, fmt.Errorf("restore: %s has no %s: the file is incomplete", path, dumpName)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("restore: %s is damaged: %w", path, err)
		}
		if hdr.Name == dumpName {
			return &dumpReader{Reader: tr, f: f}, nil
		}
	}
}

// verifyDump checks database.dump's size and SHA-256 against the manifest.
func verifyDump(ctx context.Context, path string, m *backupManifest) error {
	dump, err := openDump(path)
	if err != nil {
		return err
	}
	defer dump.Close()
	h := sha256.New()
	n, err := io.Copy(h, readerWithContext{ctx, dump})
	if err != nil {
		return fmt.Errorf("restore: %s is damaged or incomplete (%v); nothing was restored", path, err)
	}
	if n != m.Dump.Size {
		return fmt.Errorf("restore: %s is damaged or incomplete: %s has %d bytes, the manifest says %d; nothing was restored", path, dumpName, n, m.Dump.Size)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != m.Dump.SHA256 {
		return fmt.Errorf("restore: %s is damaged: the SHA-256 of %s is %s, the manifest says %s; nothing was restored", path, dumpName, sum, m.Dump.SHA256)
	}
	return nil
}

type readerWithContext struct {
	ctx context.Context
	r   io.Reader
}

func (r readerWithContext) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// pgxOnlyParams are connection URL parameters that pgx understands and libpq (pg_dump,
// pg_restore) would refuse.
var pgxOnlyParams = map[string]bool{
	"statement_cache_capacity": true, "description_cache_capacity": true,
	"default_query_exec_mode": true, "min_read_buffer_size": true,
}

// libpqConnection turns the pool's connection URL into a --dbname argument for pg_dump and
// pg_restore, and their environment. The password moves to PGPASSWORD: a command line can be
// seen by every user of the machine (ps) and ends up in logs.
func libpqConnection(connString string) (string, []string, error) {
	u, err := url.Parse(connString)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, errors.New("the database URL must be a postgres:// URL")
	}
	env := append(os.Environ(), "PGAPPNAME=vungtrong")
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
			u.User = url.User(u.User.Username())
		}
	}
	q := u.Query()
	if pw := q.Get("password"); pw != "" {
		env = append(env, "PGPASSWORD="+pw)
	}
	q.Del("password")
	for k := range q {
		if strings.HasPrefix(k, "pool_") || pgxOnlyParams[k] {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), env, nil
}

// findPGTool finds a PostgreSQL client program: on PATH, else beside the server binaries,
// else in the newest /usr/lib/postgresql/<version>/bin.
func findPGTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if dir, err := pgcluster.FindBinDir(); err == nil {
		if p := filepath.Join(dir, name); isExecutableFile(p) {
			return p, nil
		}
	}
	found, _ := filepath.Glob(filepath.Join("/usr/lib/postgresql/*/bin", name))
	sort.Slice(found, func(i, j int) bool { return pgMajor(found[i]) > pgMajor(found[j]) })
	for _, p := range found {
		if isExecutableFile(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH nor in /usr/lib/postgresql/*/bin: install the PostgreSQL client of the server's major version or newer (Debian: apt-get install -y postgresql-client-15)", name)
}

func pgMajor(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

func isExecutableFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// toolVersion returns what `tool --version` says, e.g. "pg_dump (PostgreSQL) 15.8".
func toolVersion(ctx context.Context, tool string) (string, error) {
	out, err := exec.CommandContext(ctx, tool, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("running %s --version: %w", tool, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// versionHint adds what to do to pg_dump's and pg_restore's complaint about versions.
func versionHint(stderr string) string {
	if strings.Contains(stderr, "version mismatch") || strings.Contains(stderr, "unsupported version") {
		return "\ninstall the PostgreSQL client of the server's major version or newer, and put it first on PATH"
	}
	return ""
}

// programVersion is the version `vungtrong version` prints, without the Go version.
func programVersion() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

func summarize(sums []tableSum) (string, int64) {
	var rows int64
	n := 0
	srids := false
	for _, s := range sums {
		rows += s.Rows
		if s.Name == projectSRIDsTable {
			srids = true
		} else {
			n++
		}
	}
	if srids {
		return fmt.Sprintf("%d (+ the project's spatial references)", n), rows
	}
	return strconv.Itoa(n), rows
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// tailBuffer keeps the last 8 KiB written to it: the end of a tool's messages, where its
// error is.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	const max = 8 << 10
	t.b = append(t.b, p...)
	if len(t.b) > max {
		t.b = t.b[len(t.b)-max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return strings.TrimSpace(string(t.b)) }

package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/pgcluster"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/registry/postgres/pgtest"
)

// runCLI runs the command line in process and fails the test unless it exits with wantCode.
// It returns stdout and stderr together.
func runCLI(t *testing.T, wantCode int, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if code := run(context.Background(), args, &out, &out); code != wantCode {
		t.Fatalf("vungtrong %s: exit status %d, want %d\n%s", strings.Join(args, " "), code, wantCode, out.String())
	}
	return out.String()
}

// independentSums counts and checksums every table of schema public (and the project's rows
// of spatial_ref_sys) in its own way, not the way backup does: the md5 of the sorted md5s of
// the rows.
func independentSums(t *testing.T, dsn string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL TimeZone = 'UTC'; SET LOCAL extra_float_digits = 3`); err != nil {
		t.Fatal(err)
	}
	rows, _ := tx.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'spatial_ref_sys'`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	sum := func(key, from string) {
		var s string
		q := `SELECT count(*) || ' ' || coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '-') FROM ` + from
		if err := tx.QueryRow(ctx, q).Scan(&s); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		out[key] = s
	}
	for _, n := range names {
		sum(n, pgx.Identifier{"public", n}.Sanitize()+" t")
	}
	// The schema around the rows: triggers, indexes, constraints, functions and where the
	// sequences stand.
	for key, q := range map[string]string{
		"schema: triggers": `SELECT tgrelid::regclass || ' ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal`,
		"schema: indexes":  `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'`,
		"schema: constraints": `SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c
			JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'`,
		"schema: functions": `SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
			WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`,
		"schema: sequences": `SELECT sequencename || ' ' || coalesce(last_value::text, 'unused') FROM pg_sequences WHERE schemaname = 'public'`,
	} {
		rows, _ := tx.Query(ctx, q+` ORDER BY 1`)
		defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		out[key] = strings.Join(defs, "\n")
	}
	var postgis bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('public.spatial_ref_sys') IS NOT NULL`).Scan(&postgis); err != nil {
		t.Fatal(err)
	}
	if postgis {
		sum("spatial_ref_sys >= 900000", `public.spatial_ref_sys t WHERE srid >= 900000`)
	}
	return out
}

// tarEntries returns the names and contents of the archive's files, in order.
func tarEntries(t *testing.T, path string) ([]string, map[string][]byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var names []string
	body := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names, body
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		body[hdr.Name] = b
	}
}

// rewriteBackup writes a copy of the backup at from to to, with edit applied to each file.
func rewriteBackup(t *testing.T, from, to string, edit func(name string, body []byte) []byte) {
	t.Helper()
	names, body := tarEntries(t, from)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, n := range names {
		data := edit(n, bytes.Clone(body[n]))
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o600, Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readBackupManifest(t *testing.T, path string) backupManifest {
	t.Helper()
	_, body := tarEntries(t, path)
	var m backupManifest
	if err := json.Unmarshal(body[manifestName], &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func newestMigration(t *testing.T) int {
	t.Helper()
	all, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	return all[len(all)-1].Version
}

// emptyDatabase creates a database with nothing in it (not even PostGIS) on the test cluster.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	admin := pgtest.AdminURL(t)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "vt_empty_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err == nil {
			_, _ = c.Exec(context.Background(), `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// objectsIn lists a database's relations in public and its extensions: what a refused restore
// must leave as it was.
func objectsIn(t *testing.T, dsn string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `
		SELECT 'relation ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
		UNION ALL SELECT 'extension ' || extname FROM pg_extension ORDER BY 1`)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBackupAndRestoreIntoAFreshCluster(t *testing.T) {
	ctx := context.Background()
	// The source holds the demo dataset, and nothing but this test writes to it (a running
	// server would, its job queue for one), so that it can be compared with the restored copy.
	srcURL := pgtest.NewURL(t)
	src, err := postgres.Open(ctx, srcURL, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := loadDemo(ctx, src, defaultConfig(t), demoDir, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	// A table of some other program in public, written to all through the backup: the dump and
	// the manifest must still describe one and the same moment.
	if _, err := src.Pool.Exec(ctx, `CREATE TABLE public.backup_churn (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), note text)`); err != nil {
		t.Fatal(err)
	}
	churnRows := func() int64 {
		var n int64
		if err := src.Pool.QueryRow(ctx, `SELECT count(*) FROM backup_churn`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	stopWriter, writerDone := make(chan struct{}), make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stopWriter:
				writerDone <- nil
				return
			default:
			}
			if _, err := src.Pool.Exec(ctx, `INSERT INTO backup_churn (note) VALUES ($1)`, fmt.Sprintf("row %d, 'quoted' \\ %g", i, float64(i)/3)); err != nil {
				writerDone <- err
				return
			}
		}
	}()
	for churnRows() < 20 {
		time.Sleep(10 * time.Millisecond)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "vungtrong.tar")

	// Backup of the live database.
	out := runCLI(t, 0, "--database-url", srcURL, "backup", file)
	t.Logf("backup:\n%s", out)
	for _, want := range []string{"backup written to " + file, "tables", "rows", "took"} {
		if !strings.Contains(out, want) {
			t.Errorf("backup summary lacks %q:\n%s", want, out)
		}
	}
	names, body := tarEntries(t, file)
	if diff := cmp.Diff([]string{manifestName, dumpName}, names); diff != "" {
		t.Errorf("archive entries mismatch (-want +got):\n%s", diff)
	}
	if !bytes.HasPrefix(body[dumpName], []byte("PGDMP")) {
		t.Errorf("database.dump is not a pg_dump custom-format archive: %q", body[dumpName][:min(16, len(body[dumpName]))])
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 1 {
		t.Errorf("backup left files behind: %v", left)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode: %v %v, want 0600", fi.Mode(), err)
	}
	m := readBackupManifest(t, file)
	if m.SchemaVersion != newestMigration(t) || len(m.Migrations) != m.SchemaVersion || m.PostGIS == "" || m.PostgreSQL == "" || m.ProgramVersion == "" {
		t.Errorf("manifest: schema version %d (want %d), migrations %v, PostgreSQL %q, PostGIS %q, program %q",
			m.SchemaVersion, newestMigration(t), m.Migrations, m.PostgreSQL, m.PostGIS, m.ProgramVersion)
	}
	sums := map[string]int64{}
	for _, s := range m.Tables {
		sums[s.Name] = s.Rows
	}
	var plots int64
	if err := src.Pool.QueryRow(ctx, `SELECT count(*) FROM plot`).Scan(&plots); err != nil {
		t.Fatal(err)
	}
	if sums["plot"] != plots || plots < 200 || sums["schema_migration"] != int64(m.SchemaVersion) || sums[projectSRIDsTable] < 20 {
		t.Errorf("manifest rows: plot %d (database has %d), schema_migration %d, %s %d",
			sums["plot"], plots, sums["schema_migration"], projectSRIDsTable, sums[projectSRIDsTable])
	}
	for churnRows() < sums["backup_churn"]+20 {
		time.Sleep(10 * time.Millisecond)
	}
	close(stopWriter)
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	if sums["backup_churn"] < 20 {
		t.Errorf("the manifest counts %d rows of backup_churn, which had 20 before the backup", sums["backup_churn"])
	}
	if _, ok := sums["spatial_ref_sys"]; ok {
		t.Error("the manifest sums all of PostGIS's spatial_ref_sys")
	}

	// Restore into the embedded database of a brand new cluster (already running, so the
	// command neither starts nor stops it).
	dataDir := t.TempDir()
	cl, err := pgcluster.New(pgcluster.Options{Dir: filepath.Join(dataDir, "pg"), Throwaway: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cl.Remove(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if _, err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cl.EnsureDatabase(ctx, embeddedDatabase); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VUNGTRONG_DATABASE_URL", "")
	out = runCLI(t, 0, "--data-dir", dataDir, "restore", file)
	t.Logf("restore:\n%s", out)
	for _, want := range []string{"restored " + file, "counts and checksums match the backup", "up to date"} {
		if !strings.Contains(out, want) {
			t.Errorf("restore summary lacks %q:\n%s", want, out)
		}
	}
	dstURL := cl.URL(embeddedDatabase)

	// Independently of the manifest, both databases hold the same rows, but for those written
	// after the backup.
	want, got := independentSums(t, srcURL), independentSums(t, dstURL)
	if n := strings.Fields(got["backup_churn"])[0]; n != strconv.FormatInt(sums["backup_churn"], 10) {
		t.Errorf("restored backup_churn has %s rows, the manifest %d", n, sums["backup_churn"])
	}
	for _, m := range []map[string]string{want, got} {
		delete(m, "backup_churn")
		m["schema: sequences"] = regexp.MustCompile(`(?m)^backup_churn_id_seq .*$`).ReplaceAllString(m["schema: sequences"], "")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("restored database mismatch (-source +restored):\n%s", diff)
	}
	if !strings.Contains(want["schema: triggers"], "IS DISTINCT FROM new.geom") {
		t.Errorf("the trigger whose condition compares geometries was not compared: %s", want["schema: triggers"])
	}
	if len(want) < 20 {
		t.Errorf("only %d tables compared: %v", len(want), want)
	}
	spot := func(dsn string) (n int, id int64, geom []byte) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM plot`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, `SELECT id, ST_AsEWKB(geom) FROM plot ORDER BY id DESC LIMIT 1`).Scan(&id, &geom); err != nil {
			t.Fatal(err)
		}
		return n, id, geom
	}
	n1, id1, g1 := spot(srcURL)
	n2, id2, g2 := spot(dstURL)
	if n1 < 200 || n1 != n2 || id1 != id2 || !bytes.Equal(g1, g2) || len(g1) < 50 {
		t.Errorf("plots: source %d (last %d, %d bytes of geometry), restored %d (last %d, %d bytes), geometry identical: %v",
			n1, id1, len(g1), n2, id2, len(g2), bytes.Equal(g1, g2))
	}

	// The restored database is a registry the program can carry on with.
	if out := runCLI(t, 0, "--data-dir", dataDir, "migrate", "up"); !strings.Contains(out, "the schema is up to date") {
		t.Errorf("migrate up after restore: %s", out)
	}

	// Restoring again into the now filled database is refused and changes nothing.
	before := independentSums(t, dstURL)
	out = runCLI(t, 1, "--data-dir", dataDir, "restore", file)
	if !strings.Contains(out, "restore needs an empty database") || !strings.Contains(out, "already holds") {
		t.Errorf("restore into a filled database: %s", out)
	}
	if diff := cmp.Diff(before, independentSums(t, dstURL)); diff != "" {
		t.Errorf("a refused restore changed the database (-before +after):\n%s", diff)
	}
}

func TestRestoreRefusesBadBackupsAndFilledDatabases(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "good.tar")
	runCLI(t, 0, "--database-url", pgtest.NewURL(t), "backup", file)

	tooNew := filepath.Join(dir, "too-new.tar")
	rewriteBackup(t, file, tooNew, func(name string, body []byte) []byte {
		if name != manifestName {
			return body
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		m["schema_version"] = 9999
		out, _ := json.Marshal(m)
		return out
	})
	corrupt := filepath.Join(dir, "corrupt.tar")
	rewriteBackup(t, file, corrupt, func(name string, body []byte) []byte {
		if name == dumpName {
			for i := len(body) / 2; i < len(body)/2+8; i++ {
				body[i] ^= 0xff
			}
		}
		return body
	})
	// A dump damaged after its checksum was taken: the restore fails half way, in pg_restore.
	badData := filepath.Join(dir, "bad-data.tar")
	var damaged []byte
	rewriteBackup(t, file, badData, func(name string, body []byte) []byte {
		if name == dumpName {
			for i := len(body) * 9 / 10; i < len(body)*9/10+64; i++ {
				body[i] ^= 0x5a
			}
			damaged = body
		}
		return body
	})
	rewriteBackup(t, badData, badData, func(name string, body []byte) []byte {
		if name != manifestName {
			return body
		}
		var m backupManifest
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(damaged)
		m.Dump.SHA256, m.Dump.Size = hex.EncodeToString(sum[:]), int64(len(damaged))
		out, _ := json.Marshal(m)
		return out
	})
	truncated := filepath.Join(dir, "truncated.tar")
	whole, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, whole[:len(whole)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	notABackup := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notABackup, []byte("not a backup\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, file string
		filled     bool
		postgis    bool // the target has PostGIS already (openDB adds it otherwise)
		wantMsg    []string
	}{
		{"dump damaged inside", badData, false, true, []string{"pg_restore failed", "nothing was restored"}},
		{"database not empty", file, true, true, []string{"restore needs an empty database", "already holds", "tables or views in schema public"}},
		{"schema newer than this program", tooNew, false, false, []string{"schema version 9999", "newer than this vungtrong"}},
		{"dump damaged", corrupt, false, false, []string{"is damaged", "SHA-256", "nothing was restored"}},
		{"file truncated", truncated, false, false, []string{"truncated.tar", "nothing was restored"}},
		{"not a backup", notABackup, false, false, []string{"not a backup made by `vungtrong backup`"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var target string
			if tc.filled {
				target = pgtest.NewURL(t)
			} else {
				target = emptyDatabase(t)
			}
			if tc.postgis && !tc.filled {
				conn, err := pgx.Connect(context.Background(), target)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := conn.Exec(context.Background(), `CREATE EXTENSION postgis`); err != nil {
					t.Fatal(err)
				}
				conn.Close(context.Background())
			}
			before, beforeSums := objectsIn(t, target), independentSums(t, target)
			out := runCLI(t, 1, "--database-url", target, "restore", tc.file)
			t.Logf("%s", out)
			for _, want := range tc.wantMsg {
				if !strings.Contains(out, want) {
					t.Errorf("message lacks %q:\n%s", want, out)
				}
			}
			if diff := cmp.Diff(before, objectsIn(t, target)); diff != "" {
				t.Errorf("a refused restore changed the database (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(beforeSums, independentSums(t, target)); diff != "" {
				t.Errorf("a refused restore changed the data (-before +after):\n%s", diff)
			}
		})
	}
}

// TestBackupFailureLeavesNoFile runs backup with a pg_dump that fails half way, and checks
// that neither FILE nor a temporary file is left, and that the password never reached the
// command line or the messages.
func TestBackupFailureLeavesNoFile(t *testing.T) {
	const password = "pw-never-on-a-command-line"
	u, err := url.Parse(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password) // the test cluster trusts local connections
	bin := t.TempDir()
	argsFile := filepath.Join(bin, "args")
	script := "#!/bin/sh\n" +
		"if [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 15.0'; exit 0; fi\n" +
		"printf '%s\\n' \"$@\" > " + argsFile + "\n" +
		"echo \"PGPASSWORD=$PGPASSWORD\" >> " + argsFile + "\n" +
		"printf 'PGDMP half a dump'\n" +
		"echo 'pg_dump: error: the disk caught fire' >&2\n" +
		"exit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "pg_dump"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	dir := t.TempDir()
	out := runCLI(t, 1, "--database-url", u.String(), "backup", filepath.Join(dir, "b.tar"))
	if !strings.Contains(out, "pg_dump failed") || !strings.Contains(out, "the disk caught fire") {
		t.Errorf("message: %s", out)
	}
	if strings.Contains(out, password) {
		t.Errorf("the message shows the password: %s", out)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		t.Errorf("a failed backup left %v", names)
	}
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(args)), "\n")
	env := lines[len(lines)-1]
	cmdline := strings.Join(lines[:len(lines)-1], " ")
	if strings.Contains(cmdline, password) || env != "PGPASSWORD="+password {
		t.Errorf("pg_dump ran as `pg_dump %s` with %s: the password belongs in PGPASSWORD only", cmdline, env)
	}
	for _, want := range []string{"--format=custom", "--snapshot=", "--dbname=postgres://"} {
		if !strings.Contains(cmdline, want) {
			t.Errorf("pg_dump ran without %s: %s", want, cmdline)
		}
	}
}

func TestRestoreScriptFilter(t *testing.T) {
	long := strings.Repeat("x", 200<<10) // longer than the filter's buffer
	in := "SET statement_timeout = 0;\n" + emptySearchPath +
		"COPY public.note (id, body) FROM stdin;\n" +
		"1\t" + long + "\n" +
		emptySearchPath + // data, not a statement: stays
		"2\t" + long + emptySearchPath +
		"\\.\n" +
		"CREATE TRIGGER t AFTER UPDATE ON public.plot FOR EACH ROW WHEN ((old.geom IS DISTINCT FROM new.geom)) EXECUTE FUNCTION public.f();\n" +
		"COMMIT;"
	want := strings.Replace(in, emptySearchPath, publicSearchPath, 1)
	var out bytes.Buffer
	if err := filterScript(&out, strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if out.String() != want {
		t.Errorf("filtered script mismatch:\n%s", cmp.Diff(want, out.String()))
	}
}

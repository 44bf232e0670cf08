// Package pgtest gives tests a real, migrated PostGIS database of their own. One throwaway
// cluster serves a whole test run: the one whose maintenance-database URL is in
// VUNGTRONG_TEST_PG (scripts/test starts it once for `make test`), or else one this package
// starts for the test binary and removes at the end. Each test gets a fresh database copied
// from a migrated template, which takes a few tens of milliseconds.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/pgcluster"
	"github.com/vungtrong/vungtrong/registry/postgres"
)

// EnvURL names the environment variable holding a superuser URL of a throwaway cluster.
const EnvURL = "VUNGTRONG_TEST_PG"

var (
	adminURL     string
	templateName string
	templateOnce sync.Once
	templateErr  error
)

// Main runs a package's tests with a cluster. Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	adminURL = os.Getenv(EnvURL)
	if adminURL == "" {
		dir, err := os.MkdirTemp("", "vungtrong-pgtest-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		c, err := pgcluster.New(pgcluster.Options{Dir: dir + "/pg", Throwaway: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			return 1
		}
		ctx := context.Background()
		if _, err := c.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			return 1
		}
		defer func() { _ = c.Remove(context.Background()) }()
		adminURL = c.URL("postgres")
	}
	code := m.Run()
	if templateName != "" {
		_ = exec(context.Background(), adminURL, `DROP DATABASE IF EXISTS `+pgx.Identifier{templateName}.Sanitize()+` WITH (FORCE)`)
	}
	return code
}

// AdminURL returns the superuser URL of the cluster's maintenance database.
func AdminURL(tb testing.TB) string {
	tb.Helper()
	if adminURL == "" {
		tb.Fatal("pgtest: no cluster: call pgtest.Main from TestMain")
	}
	return adminURL
}

// NewURL creates a fresh migrated database for this test, dropped when it ends, and returns
// its URL.
func NewURL(tb testing.TB) string {
	tb.Helper()
	AdminURL(tb)
	templateOnce.Do(func() { templateErr = makeTemplate() })
	if templateErr != nil {
		tb.Fatalf("pgtest: template database: %v", templateErr)
	}
	name := "vt_test_" + randomName()
	ctx := context.Background()
	if err := exec(ctx, adminURL, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+` TEMPLATE `+pgx.Identifier{templateName}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		_ = exec(context.Background(), adminURL, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
	})
	return withDatabase(adminURL, name)
}

// New returns an open DB on a fresh migrated database for this test.
func New(tb testing.TB) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), NewURL(tb), postgres.Options{})
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(db.Close)
	return db
}

// makeTemplate creates and migrates the database every test database is copied from.
func makeTemplate() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	name := fmt.Sprintf("vt_template_%d_%s", os.Getpid(), randomName())
	if err := exec(ctx, adminURL, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		return err
	}
	templateName = name
	db, err := postgres.Open(ctx, withDatabase(adminURL, name), postgres.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CheckPostGIS(ctx); err != nil {
		return err
	}
	_, err = db.MigrateUp(ctx)
	return err
}

func exec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

func withDatabase(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/registry/postgres/pgtest"
)

func TestMigrationsDownAndUpAgain(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	all, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	status, err := db.MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range status {
		if m.AppliedAt == nil {
			t.Errorf("migration %04d_%s not applied in a fresh database", m.Version, m.Name)
		}
	}
	down, err := db.MigrateDown(ctx, len(all))
	if err != nil {
		t.Fatalf("down: %v", err)
	}
	if len(down) != len(all) {
		t.Errorf("reverted %d migrations, want %d", len(down), len(all))
	}
	var tables int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migration' AND tablename <> 'spatial_ref_sys'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("%d tables left after migrating all the way down", tables)
	}
	if err := db.CheckPostGIS(ctx); err != nil {
		t.Fatal(err)
	}
	up, err := db.MigrateUp(ctx)
	if err != nil {
		t.Fatalf("up again: %v", err)
	}
	if len(up) != len(all) {
		t.Errorf("applied %d migrations, want %d", len(up), len(all))
	}
}

// Two servers starting at once must not apply a migration twice: the advisory lock
// serialises them and the second finds nothing to do.
func TestMigrateUpConcurrently(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewURL(t)
	first := pgtest.New(t) // only to have a migrated database to revert
	_ = first
	db1, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db1.Close()
	if _, err := db1.MigrateDown(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if err := db1.CheckPostGIS(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	counts := make([]int, 4)
	errs := make([]error, 4)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(ctx, url, postgres.Options{})
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			applied, err := db.MigrateUp(ctx)
			counts[i], errs[i] = len(applied), err
		}()
	}
	wg.Wait()
	all, _ := postgres.Migrations()
	total := 0
	for i := range counts {
		if errs[i] != nil {
			t.Errorf("migrator %d: %v", i, errs[i])
		}
		total += counts[i]
	}
	if total != len(all) {
		t.Errorf("migrations applied %d times in all, want %d (each exactly once)", total, len(all))
	}
}

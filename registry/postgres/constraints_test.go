package postgres_test

import (
	"context"
	"testing"

	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/registry/postgres/pgtest"
)

// Every constraint and unique index of the registry's tables has a message in words, so that a
// request that breaks one is told what is wrong instead of the constraint's name.
func TestEveryConstraintHasAMessage(t *testing.T) {
	db := pgtest.New(t)
	rows, err := db.Pool.Query(context.Background(), `
		SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c
		WHERE c.connamespace = 'public'::regnamespace AND c.contype IN ('u', 'c', 'f', 'x')
		UNION
		SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text FROM pg_index i JOIN pg_class r ON r.oid = i.indrelid
		WHERE i.indisunique AND NOT i.indisprimary AND r.relnamespace = 'public'::regnamespace
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
		ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var table, name string
		if err := rows.Scan(&table, &name); err != nil {
			t.Fatal(err)
		}
		// PostGIS's own table, and the job queue's (the registry never writes them from a request).
		if table == "spatial_ref_sys" || len(table) > 6 && table[:6] == "river_" {
			continue
		}
		n++
		if postgres.ConstraintMessage(name, "") == "" {
			t.Errorf("constraint %s of %s has no message in constraintMessages", name, table)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Errorf("only %d constraints found: the query is wrong", n)
	}
}

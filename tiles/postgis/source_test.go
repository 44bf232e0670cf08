package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry/postgres/pgtest"
	"github.com/vungtrong/vungtrong/tiles"
	"github.com/vungtrong/vungtrong/tiles/postgis"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Every layer query is prepared against the real schema, and each parameter's type as the
// server infers it must hold the Go argument without loss: a float given to a parameter the
// server took as an integer is silently rounded (a simplification tolerance of 2.4 m became
// 2), which no tile-count test notices.
func TestQueryParameterTypes(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewURL(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	floatOIDs := map[uint32]bool{701: true} // float8
	intOIDs := map[uint32]bool{20: true, 23: true, 21: true, 701: true}
	for _, l := range tiles.Layers {
		for z := l.MinZoom; z <= l.MaxZoom; z++ {
			id := tiles.ID{Z: z, X: 1 << z * 13 / 16, Y: 1 << z * 7 / 16}
			sql, args, err := postgis.Query(l.Name, id)
			if err != nil {
				t.Fatalf("%s z%d: %v", l.Name, z, err)
			}
			sd, err := conn.Prepare(ctx, fmt.Sprintf("%s_%d", l.Name, z), sql)
			if err != nil {
				t.Fatalf("%s z%d: prepare: %v", l.Name, z, err)
			}
			if len(sd.ParamOIDs) != len(args) {
				t.Fatalf("%s z%d: the query takes %d parameters, Query gives %d", l.Name, z, len(sd.ParamOIDs), len(args))
			}
			for i, a := range args {
				oid := sd.ParamOIDs[i]
				switch a.(type) {
				case float64:
					if !floatOIDs[oid] {
						t.Errorf("%s z%d: $%d is a float (%v) but the server reads it as type %d", l.Name, z, i+1, a, oid)
					}
				case int:
					if !intOIDs[oid] {
						t.Errorf("%s z%d: $%d is an integer but the server reads it as type %d", l.Name, z, i+1, oid)
					}
				default:
					t.Errorf("%s z%d: $%d has an unexpected Go type %T", l.Name, z, i+1, a)
				}
			}
		}
	}
	if _, _, err := postgis.Query("nope", tiles.ID{}); !errors.Is(err, postgis.ErrUnknownLayer) {
		t.Errorf("unknown layer: got %v", err)
	}
}

// A tile whose request has gone stops at once, with the context's error rather than a
// database error the server would log as a failure.
func TestTileStopsWithItsContext(t *testing.T) {
	url := pgtest.NewURL(t)
	src, err := postgis.Open(context.Background(), url, postgis.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	id := tiles.ID{Z: 12, X: 3258, Y: 1878}
	if _, err := src.Tile(context.Background(), "plots", id); err != nil {
		t.Fatalf("tile: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_, err = src.Tile(ctx, "plots", id)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled tile: got %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancelled tile took %v", d)
	}
}

// Each feature's geometry is computed once per tile: a subquery PostgreSQL folds into the
// outer query repeats the geometry expression in the outer filter, doubling a tile's cost.
func TestQueriesComputeGeometryOnce(t *testing.T) {
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range postgis.Settings() {
		cfg.RuntimeParams[k] = v
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, l := range tiles.Layers {
		z := l.MaxZoom
		sql, args, err := postgis.Query(l.Name, tiles.ID{Z: z, X: 1 << z * 13 / 16, Y: 1 << z * 7 / 16})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := conn.Query(ctx, "EXPLAIN (VERBOSE) "+sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", l.Name, err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", l.Name, err)
		}
		text := strings.ToLower(strings.Join(plan, "\n"))
		n := strings.Count(text, "st_asmvtgeom(") + strings.Count(text, "st_snaptogrid(")
		if n != 1 {
			t.Errorf("%s: the plan computes the tile geometry %d times, want once:\n%s", l.Name, n, strings.Join(plan, "\n"))
		}
	}
}

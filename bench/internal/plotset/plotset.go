// Package plotset is the benchmarks' dataset of generated plots: N plots (a million by
// default) shaped and clustered like real farmland in four highland provinces (package
// farmland), stored in PostGIS in spatial order, in a private PostgreSQL cluster kept between
// runs. bench/tiles measures the map's tiles on it, bench/edit the plot editor's check and
// save.
package plotset

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/vungtrong/vungtrong/farmland"
	"github.com/vungtrong/vungtrong/pgcluster"
)

// DefaultDir is where the private cluster lives unless a benchmark is told otherwise: one
// directory for every benchmark on this dataset, so that it is generated once.
var DefaultDir = filepath.Join(os.TempDir(), "vungtrong-bench-tiles")

// Database is the database that holds the dataset.
const Database = "bench"

// Province is one generated region: its 2025 province code and the centre of its farmland.
type Province struct {
	Code   string
	Center orb.Point
}

// Provinces are the four generated regions: Đắk Lắk, Gia Lai, Lâm Đồng and Bình Phước, far
// enough apart that their farmland never overlaps.
var Provinces = []Province{
	{"66", orb.Point{108.20, 12.80}}, {"52", orb.Point{108.00, 14.10}}, {"68", orb.Point{108.00, 11.55}}, {"80", orb.Point{106.80, 11.75}},
}

// Start starts (or finds running) the private cluster in dir, and makes sure it has the
// dataset's database. It returns the cluster and a function that stops it.
func Start(ctx context.Context, dir string) (*pgcluster.Cluster, func(), error) {
	c, stop, err := pgcluster.StartThrowaway(ctx, filepath.Join(dir, "pg"))
	if err != nil {
		return nil, nil, err
	}
	if err := c.EnsureDatabase(ctx, Database); err != nil {
		stop()
		return nil, nil, err
	}
	return c, stop, nil
}

// Ensure generates n plots in the database of pool unless it already holds that many (regen
// makes them again anyway). The database must be migrated.
func Ensure(ctx context.Context, pool *pgxpool.Pool, n int, regen bool) error {
	var have int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM plot WHERE source = 'bench'`).Scan(&have); err != nil {
		return err
	}
	if have == n && !regen {
		log.Printf("the database holds %d generated plots: reusing them (-regen to make them again)", have)
		return nil
	}
	start := time.Now()
	log.Printf("generating %d plots in %d provinces", n, len(Provinces))
	if _, err := pool.Exec(ctx, `
		TRUNCATE plot, plot_history, plot_cell, growing_area_plot CASCADE;
		DROP TABLE IF EXISTS bench_stage;
		CREATE UNLOGGED TABLE bench_stage (ext text, province text, crop text, wkb bytea)`); err != nil {
		return err
	}
	crops := []string{"coffee", "coffee", "coffee", "coffee", "durian", "durian", "pepper", "avocado", "cashew", "rubber"}
	var rows [][]any
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		_, err := pool.CopyFrom(ctx, pgx.Identifier{"bench_stage"}, []string{"ext", "province", "crop", "wkb"}, pgx.CopyFromRows(rows))
		rows = rows[:0]
		return err
	}
	for i, p := range Provinces {
		count := n / len(Provinces)
		if i == len(Provinces)-1 {
			count = n - i*(n/len(Provinces))
		}
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		err := farmland.Stream(farmland.Options{Seed: int64(1000 + i), Center: p.Center, Count: count, ClusterSpacingM: 4000}, func(f farmland.Parcel) error {
			b, err := wkb.Marshal(orb.MultiPolygon{f.Polygon})
			if err != nil {
				return err
			}
			rows = append(rows, []any{fmt.Sprintf("%s-%07d", p.Code, f.Index), p.Code, crops[rng.IntN(len(crops))], b})
			if len(rows) == 20000 {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	log.Printf("staged in %s; storing them in spatial order", time.Since(start).Round(time.Second))
	// Spatial order (by the geohash of each plot's centre) puts the plots of a tile in few
	// pages: what CLUSTER would do, for a table CLUSTER cannot order by a partial index.
	if _, err := pool.Exec(ctx, `
		INSERT INTO plot (province_code, crop, source, external_id, geom, created_by, updated_by)
		SELECT province, crop, 'bench', ext, ST_Multi(ST_GeomFromWKB(wkb, 4326)), 'bench', 'bench'
		FROM bench_stage ORDER BY ST_GeoHash(ST_Centroid(ST_GeomFromWKB(wkb, 4326)), 12);
		DROP TABLE bench_stage;`); err != nil {
		return err
	}
	for _, table := range []string{"plot", "plot_cell"} {
		if _, err := pool.Exec(ctx, `VACUUM ANALYZE `+table); err != nil {
			return err
		}
	}
	log.Printf("%d plots stored in %s", n, time.Since(start).Round(time.Second))
	return nil
}

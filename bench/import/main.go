// Command import measures `vungtrong import` of N plots (default 1,000,000) from one GeoJSON
// file, with every check on, next to `ogr2ogr -f PostgreSQL` loading the same file into an empty
// table (which checks nothing), on the same private PostGIS cluster. It prints both wall times,
// the ratio, and each process's peak memory (resident set, from the kernel's rusage).
//
//	make build && go run ./bench/import -n 1000000
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/farmland"
	"github.com/vungtrong/vungtrong/pgcluster"
	"github.com/vungtrong/vungtrong/vntext"
)

type options struct {
	n       int
	dir     string
	binary  string
	skipOGR bool
	runs    int
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 1_000_000, "plots in the file")
	flag.StringVar(&o.dir, "dir", filepath.Join(os.TempDir(), "vungtrong-bench-import"), "where the file and the private cluster live (the file is kept between runs)")
	flag.StringVar(&o.binary, "binary", "bin/vungtrong", "the vungtrong binary (built with `make build`)")
	flag.BoolVar(&o.skipOGR, "skip-ogr", false, "do not run ogr2ogr")
	flag.IntVar(&o.runs, "runs", 1, "how many times to run each loader (the best time counts)")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		log.Fatal(err)
	}
}

type result struct {
	wall    time.Duration
	peakRSS int64 // bytes
	out     string
}

func run(ctx context.Context, o options) error {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	file := filepath.Join(o.dir, fmt.Sprintf("plots-%d.geojson", o.n))
	if _, err := os.Stat(file); err != nil {
		start := time.Now()
		if err := writeFile(file, o.n); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s in %.1f s\n", file, time.Since(start).Seconds())
	}
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	c, stop, err := pgcluster.StartThrowaway(ctx, filepath.Join(o.dir, "pg"))
	if err != nil {
		return err
	}
	defer stop()
	var ogr, shaped, imp result
	ogr.wall, shaped.wall, imp.wall = 1<<62, 1<<62, 1<<62
	for i := 0; i < o.runs; i++ {
		if !o.skipOGR {
			if err := freshDB(ctx, c, "ogr", false); err != nil {
				return err
			}
			u := c.URL("ogr")
			pg, err := ogrConn(u)
			if err != nil {
				return err
			}
			r, err := timed(exec.Command("ogr2ogr", "-f", "PostgreSQL", pg, file, "-nln", "plots_ogr", "-lco", "GEOMETRY_NAME=geom"))
			if err != nil {
				return fmt.Errorf("ogr2ogr: %v\n%s", err, r.out)
			}
			fmt.Fprintf(os.Stderr, "ogr2ogr run %d: %.1f s\n", i+1, r.wall.Seconds())
			if r.wall < ogr.wall {
				ogr = r
			}
			// What writing the same rows into a table shaped like the registry's plot costs the
			// database alone: from ogr2ogr's table (no file to read, no checks) into the shape,
			// then its indexes built once.
			w, err := writeShaped(ctx, c.URL("ogr"))
			if err != nil {
				return err
			}
			r = result{wall: w}
			fmt.Fprintf(os.Stderr, "insert into plot's shape run %d: %.1f s\n", i+1, r.wall.Seconds())
			if r.wall < shaped.wall {
				shaped = r
			}
		}
		if err := freshDB(ctx, c, "imp", true); err != nil {
			return err
		}
		// The schema is migrated before the clock starts: ogr2ogr's table needs no migration.
		mig := exec.Command(o.binary, "migrate", "up")
		mig.Env = append(os.Environ(), "VUNGTRONG_DATABASE_URL="+c.URL("imp"), "VUNGTRONG_LOG_LEVEL=warn")
		if out, err := mig.CombinedOutput(); err != nil {
			return fmt.Errorf("vungtrong migrate up: %v\n%s", err, out)
		}
		cmd := exec.Command(o.binary, "import", file, "--quiet", "--source", "bench", "--report", filepath.Join(o.dir, "report.json"))
		cmd.Env = append(os.Environ(), "VUNGTRONG_DATABASE_URL="+c.URL("imp"), "VUNGTRONG_LOG_LEVEL=warn")
		r, err := timed(cmd)
		if err != nil {
			return fmt.Errorf("vungtrong import: %v\n%s", err, r.out)
		}
		fmt.Fprintf(os.Stderr, "vungtrong import run %d: %.1f s\n%s", i+1, r.wall.Seconds(), lastLines(r.out, 3))
		if r.wall < imp.wall {
			imp = r
		}
	}
	fmt.Printf("\nbench/import: %s plots, %s MB of GeoJSON (%s)\n\n", vntext.FormatInt(int64(o.n)), vntext.FormatInt(int64(st.Size()>>20)), file)
	fmt.Printf("%-44s %10s %14s %12s\n", "loader", "wall (s)", "peak RSS (MB)", "plots/s")
	if !o.skipOGR {
		fmt.Printf("%-44s %10.1f %14d %12s\n", "ogr2ogr -f PostgreSQL (no checks)", ogr.wall.Seconds(), ogr.peakRSS>>20, vntext.FormatInt(int64(float64(o.n)/ogr.wall.Seconds())))
		fmt.Printf("%-44s %10.1f %14s %12s\n", "its rows into plot's shape (SQL, no file)", shaped.wall.Seconds(), "-", vntext.FormatInt(int64(float64(o.n)/shaped.wall.Seconds())))
	}
	fmt.Printf("%-44s %10.1f %14d %12s\n", "vungtrong import (all checks, one transaction)", imp.wall.Seconds(), imp.peakRSS>>20, vntext.FormatInt(int64(float64(o.n)/imp.wall.Seconds())))
	if !o.skipOGR {
		fmt.Printf("\nratio vungtrong / ogr2ogr: %.2f (target <= 1.00)\n", imp.wall.Seconds()/ogr.wall.Seconds())
		fmt.Printf("ratio writing plot's shape / ogr2ogr: %.2f (the database's part of any import into plot, before reading or checking)\n", shaped.wall.Seconds()/ogr.wall.Seconds())
	}
	fmt.Printf("importer peak memory: %d MB (target <= 1024 MB)\n", imp.peakRSS>>20)
	if b, err := os.ReadFile(filepath.Join(o.dir, "report.json")); err == nil {
		fmt.Printf("\nimport stages: %s\n", stages(b))
	}
	return nil
}

// stages pulls the stage timings out of the report JSON without a schema.
func stages(report []byte) string {
	s := string(report)
	i := strings.Index(s, `"stages"`)
	if i < 0 {
		return "(none)"
	}
	return strings.Join(strings.Fields(s[i:]), " ")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}

// timed runs cmd and returns its wall time and peak resident memory.
func timed(cmd *exec.Cmd) (result, error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := result{wall: time.Since(start), out: out.String()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.peakRSS = ru.Maxrss << 10 // kilobytes on Linux
		}
	}
	return r, err
}

// freshDB (re)creates database name; migrated with the registry schema, or with PostGIS only.
func freshDB(ctx context.Context, c *pgcluster.Cluster, name string, registry bool) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return err
	}
	db, err := pgx.Connect(ctx, c.URL(name))
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	_, err = db.Exec(ctx, "CREATE EXTENSION postgis")
	return err
}

// writeShaped copies ogr2ogr's table into plot_shaped: a table with what the registry's plot
// computes and indexes for every row (area on the ellipsoid, the Web Mercator copy, the validity
// check, the key, two spatial and four other indexes, as in migrations 0004 and 0010; not its
// foreign keys and triggers), the rows inserted first and the indexes built after, as the
// importer's bulk load does. It returns how long that took.
func writeShaped(ctx context.Context, url string) (time.Duration, error) {
	db, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, `
		CREATE TABLE plot_shaped (
			id bigint GENERATED ALWAYS AS IDENTITY,
			ma_thua text, ten_chu text, cay_trong text, so_to text, so_thua text, dien_tich float8,
			deleted_at timestamptz,
			geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
			area_ha float8 GENERATED ALWAYS AS (ST_Area(geom::geography, true) / 10000.0) STORED,
			geom_3857 geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED)`); err != nil {
		return 0, err
	}
	start := time.Now()
	_, err = db.Exec(ctx, `
		SET jit = off;
		SET maintenance_work_mem = '256MB';
		INSERT INTO plot_shaped (ma_thua, ten_chu, cay_trong, so_to, so_thua, dien_tich, geom)
		SELECT ma_thua, ten_chu, cay_trong, so_to, so_thua, dien_tich, ST_Multi(geom) FROM plots_ogr;
		ALTER TABLE plot_shaped ADD PRIMARY KEY (id);
		CREATE INDEX ON plot_shaped USING gist (geom) WHERE deleted_at IS NULL;
		CREATE INDEX ON plot_shaped USING gist (geom_3857) WHERE deleted_at IS NULL;
		CREATE INDEX ON plot_shaped (so_to, so_thua) WHERE deleted_at IS NULL;
		CREATE INDEX ON plot_shaped (ten_chu) WHERE deleted_at IS NULL;
		CREATE INDEX ON plot_shaped (cay_trong) WHERE deleted_at IS NULL;
		CREATE UNIQUE INDEX ON plot_shaped (ma_thua) WHERE deleted_at IS NULL`)
	return time.Since(start), err
}

// ogrConn turns a postgres:// URL on a socket into GDAL's PG: connection string.
func ogrConn(u string) (string, error) {
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("PG:host=%s port=%d dbname=%s user=%s", cfg.Host, cfg.Port, cfg.Database, cfg.User), nil
}

var (
	crops  = []string{"Cà phê", "Cà phê", "Cà phê", "Sầu riêng", "Hồ tiêu", "Bơ", "Mắc ca", "Điều"}
	family = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Y", "H'"}
	middle = []string{"Văn", "Thị", "Đức", "Hữu", "Quốc", "Minh", "Thanh", "Khuê"}
	given  = []string{"An", "Bình", "Cường", "Dũng", "Hà", "Hồng", "Lan", "Nam", "Ngọc", "Phúc", "Quang", "Sơn", "Thủy", "Việt", "Yến", "Niê"}
)

// writeFile writes n generated plots (shaped and clustered like farmland in Đắk Lắk) as a
// GeoJSON FeatureCollection with the columns a commune survey has.
func writeFile(path string, n int) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewSource(7))
	w.WriteString(`{"type":"FeatureCollection","features":[` + "\n")
	var buf []byte
	err = farmland.Stream(farmland.Options{Seed: 7, Count: n, Center: [2]float64{108.05, 12.68}}, func(p farmland.Parcel) error {
		buf = buf[:0]
		if p.Index > 0 {
			buf = append(buf, ",\n"...)
		}
		owner := family[rng.Intn(len(family))] + " " + middle[rng.Intn(len(middle))] + " " + given[rng.Intn(len(given))]
		buf = append(buf, `{"type":"Feature","properties":{"MA_THUA":"`...)
		buf = strconv.AppendInt(buf, int64(p.Index+1), 10)
		buf = append(buf, `","TEN_CHU":"`...)
		buf = append(buf, owner...)
		buf = append(buf, `","CAY_TRONG":"`...)
		buf = append(buf, crops[rng.Intn(len(crops))]...)
		buf = append(buf, `","SO_TO":"`...)
		buf = strconv.AppendInt(buf, int64(p.Cluster+1), 10)
		buf = append(buf, `","SO_THUA":"`...)
		buf = strconv.AppendInt(buf, int64(p.Index%1000+1), 10)
		buf = append(buf, `","DIEN_TICH":`...)
		buf = strconv.AppendFloat(buf, float64(int(p.AreaHa*10000)), 'f', -1, 64)
		buf = append(buf, `},"geometry":{"type":"Polygon","coordinates":[[`...)
		for i, pt := range p.Polygon[0] {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, '[')
			buf = strconv.AppendFloat(buf, pt[0], 'f', 7, 64)
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, pt[1], 'f', 7, 64)
			buf = append(buf, ']')
		}
		buf = append(buf, "]]}}"...)
		_, err := w.Write(buf)
		return err
	})
	if err != nil {
		return err
	}
	w.WriteString("\n]}\n")
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

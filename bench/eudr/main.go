// Command eudr benchmarks the EUDR geolocation export on N plots (default 1,000,000) of one
// province, next to what any export of the same rows must cost and to GDAL:
//
//   - the floor: the export's own query (the plots with their producers, geometry as WKB)
//     streamed out of PostgreSQL by pgx and thrown away: the least any implementation needs;
//   - ogr2ogr -f GeoJSON -lco COORDINATE_PRECISION=6 of the same plots with the same properties
//     (producer name, country, production place) from the same database: one GeoJSON file,
//     nothing checked, split or compressed;
//   - `vungtrong eudr export --province 66`: every rule checked, holes cut away, files split at
//     25 MB, each with its due diligence statement, zipped with the summary.
//
// Each runs as its own process (the floor in this one); wall time and peak resident memory
// (the kernel's rusage) are reported, with the files and their sizes, and the export is then
// checked against every rule by the package's validator. The plots are generated once with
// package farmland (shaped and clustered like highland farmland, 1 in 1,000 with a pond cut out
// of it, households of about three plots, half of them in cooperatives) into a private
// cluster, kept in -dir between runs.
//
//	go run ./bench/eudr                    # about 10 minutes the first time, then 3-4
//	go run ./bench/eudr -n 50000 -runs 1   # a quick look
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/vungtrong/vungtrong/compliance/eudr"
	"github.com/vungtrong/vungtrong/farmland"
	"github.com/vungtrong/vungtrong/pgcluster"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/vntext"
)

type options struct {
	n       int
	dir     string
	binary  string
	regen   bool
	runs    int
	skipOGR bool
	check   bool
}

// province is where every generated plot lies: Đắk Lắk.
const province = "66"

func main() {
	var o options
	flag.IntVar(&o.n, "n", 1_000_000, "plots to generate")
	flag.StringVar(&o.dir, "dir", filepath.Join(os.TempDir(), "vungtrong-bench-eudr"), "where the private cluster and the outputs live (the plots are kept between runs)")
	flag.StringVar(&o.binary, "binary", "", "the vungtrong binary (default: built from this tree into -dir)")
	flag.BoolVar(&o.regen, "regen", false, "generate the plots again even if the database has N")
	flag.IntVar(&o.runs, "runs", 2, "how many times to run each exporter, in turns (the best time counts)")
	flag.BoolVar(&o.skipOGR, "skip-ogr", false, "do not run ogr2ogr")
	flag.BoolVar(&o.check, "check", true, "check the export against every rule afterwards")
	flag.Parse()
	// This process only waits on the database and its children, but for the floor's pgx loop:
	// one P, so that idle Go threads take no CPU from PostgreSQL.
	runtime.GOMAXPROCS(1)
	if err := run(context.Background(), o); err != nil {
		log.Fatal(err)
	}
}

type result struct {
	wall    time.Duration
	peakRSS int64 // bytes
	cpu     time.Duration
	out     string
}

func run(ctx context.Context, o options) error {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	c, stop, err := pgcluster.StartThrowaway(ctx, filepath.Join(o.dir, "pg"))
	if err != nil {
		return err
	}
	defer stop()
	if err := c.EnsureDatabase(ctx, "bench"); err != nil {
		return err
	}
	url := c.URL("bench")
	db, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CheckPostGIS(ctx); err != nil {
		return err
	}
	if _, err := db.MigrateUp(ctx); err != nil {
		return err
	}
	if err := ensurePlots(ctx, db, o); err != nil {
		return err
	}
	binary := o.binary
	if binary == "" {
		binary = filepath.Join(o.dir, "vungtrong")
		log.Printf("building %s", binary)
		if out, err := exec.Command("go", "build", "-o", binary, "./cmd/vungtrong").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	var stats struct {
		plots, holed int
		vertices     int64
	}
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE ST_NRings(geom) > ST_NumGeometries(geom)), sum(ST_NPoints(geom))
		FROM plot WHERE province_code = $1 AND deleted_at IS NULL`, province).Scan(&stats.plots, &stats.holed, &stats.vertices); err != nil {
		return err
	}
	ogrFile := filepath.Join(o.dir, "ogr.geojson")
	zipFile := filepath.Join(o.dir, "eudr.zip")
	var floor, ogr, ours, last result
	floor.wall, ogr.wall, ours.wall = 1<<62, 1<<62, 1<<62
	var floorRows int
	var floorBytes int64
	for i := range o.runs {
		// Each in turn, so that the machine's drift over minutes falls on all of them alike.
		r, rows, bytes, err := streamFloor(ctx, url)
		if err != nil {
			return err
		}
		log.Printf("floor run %d: %.1f s (%s rows, %s MB)", i+1, r.wall.Seconds(), vntext.FormatInt(int64(rows)), vntext.FormatInt(bytes>>20))
		if r.wall < floor.wall {
			floor, floorRows, floorBytes = r, rows, bytes
		}
		if !o.skipOGR {
			os.Remove(ogrFile)
			pg, err := ogrConn(url)
			if err != nil {
				return err
			}
			r, err := timed(exec.Command("ogr2ogr", "-f", "GeoJSON", "-lco", "COORDINATE_PRECISION=6", ogrFile, pg, "-sql", ogrSQL, "-nln", "plots"))
			if err != nil {
				return fmt.Errorf("ogr2ogr: %v\n%s", err, r.out)
			}
			log.Printf("ogr2ogr run %d: %.1f s, %d MB peak", i+1, r.wall.Seconds(), r.peakRSS>>20)
			if r.wall < ogr.wall {
				ogr = r
			}
		}
		os.Remove(zipFile)
		cmd := exec.Command(binary, "eudr", "export", "--province", province, "--out", zipFile, "--quiet")
		cmd.Env = append(os.Environ(), "VUNGTRONG_DATABASE_URL="+url, "VUNGTRONG_LOG_LEVEL=warn")
		r, err = timed(cmd)
		if err != nil {
			return fmt.Errorf("vungtrong eudr export: %v\n%s", err, r.out)
		}
		log.Printf("vungtrong eudr export run %d: %.1f s, %d MB peak", i+1, r.wall.Seconds(), r.peakRSS>>20)
		if r.wall < ours.wall {
			ours = r
		}
		last = r
	}

	fmt.Printf("\nbench/eudr: %s plots of province %s (%s positions, %s with a hole), %d CPUs\n\n", vntext.FormatInt(int64(stats.plots)), province,
		vntext.FormatInt(stats.vertices), vntext.FormatInt(int64(stats.holed)), runtime.NumCPU())
	fmt.Printf("%-58s %9s %9s %14s %14s\n", "", "wall (s)", "CPU (s)", "peak RSS (MB)", "output (MB)")
	fmt.Printf("%-58s %9.1f %9.1f %14s %14s\n", "floor: the export's query streamed by pgx, thrown away", floor.wall.Seconds(), floor.cpu.Seconds(), "-",
		fmt.Sprintf("(%s read)", vntext.FormatInt(floorBytes>>20)))
	if !o.skipOGR {
		st, _ := os.Stat(ogrFile)
		fmt.Printf("%-58s %9.1f %9.1f %14d %14s\n", "ogr2ogr -f GeoJSON -lco COORDINATE_PRECISION=6 (one file)", ogr.wall.Seconds(), ogr.cpu.Seconds(), ogr.peakRSS>>20, vntext.FormatInt(st.Size()>>20))
	}
	zst, err := os.Stat(zipFile)
	if err != nil {
		return err
	}
	fmt.Printf("%-58s %9.1f %9.1f %14d %14s\n", "vungtrong eudr export --province 66 (checked, split, zip)", ours.wall.Seconds(), ours.cpu.Seconds(), ours.peakRSS>>20, vntext.FormatInt(zst.Size()>>20)+" zip")
	fmt.Println()
	if floorRows != stats.plots {
		fmt.Printf("the floor read %d rows, the province has %d plots\n", floorRows, stats.plots)
	}
	if !o.skipOGR {
		fmt.Printf("ratio vungtrong / ogr2ogr: %.2f (target <= 1.50)\n", ours.wall.Seconds()/ogr.wall.Seconds())
		fmt.Printf("ratio ogr2ogr / floor:     %.2f\n", ogr.wall.Seconds()/floor.wall.Seconds())
	}
	fmt.Printf("ratio vungtrong / floor:   %.2f\n", ours.wall.Seconds()/floor.wall.Seconds())
	fmt.Printf("vungtrong peak memory: %d MB (target <= 256 MB)\n\n", ours.peakRSS>>20)

	// The files of the zip, and the rules checked once more.
	f, err := os.Open(zipFile)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := zip.NewReader(f, zst.Size())
	if err != nil {
		return err
	}
	var sum eudr.Summary
	var sizes []int64
	for _, zf := range zr.File {
		if zf.Name == "summary.json" {
			rc, _ := zf.Open()
			err := json.NewDecoder(rc).Decode(&sum)
			rc.Close()
			if err != nil {
				return err
			}
		}
	}
	geojson, dds := int64(0), int64(0)
	for _, zf := range zr.File {
		switch {
		case strings.HasSuffix(zf.Name, ".geojson"):
			geojson += int64(zf.UncompressedSize64)
			sizes = append(sizes, int64(zf.UncompressedSize64))
		case strings.HasPrefix(zf.Name, "dds"):
			dds += int64(zf.UncompressedSize64)
		}
	}
	slices.Sort(sizes)
	fmt.Printf("export: %s plots (%s ha), %s producers, %d GeoJSON files of %s-%s KB (%s MB together, limit 25 MB each), %d statements (%s MB), zip %s MB\n",
		vntext.FormatInt(int64(sum.Plots)), vntext.FormatInt(int64(sum.Hectares)), vntext.FormatInt(int64(sum.Producers)), len(sizes),
		vntext.FormatInt(sizes[0]>>10), vntext.FormatInt(sizes[len(sizes)-1]>>10), vntext.FormatInt(geojson>>20), len(sum.Statements),
		vntext.FormatInt(dds>>20), vntext.FormatInt(zst.Size()>>20))
	g := sum.Geometry
	fmt.Printf("geometry: %s polygons, %s points, holes cut away in %s plots, %s mended after rounding, %s positions dropped, area changed by rounding at most %.4f%%, %d plots left out\n",
		vntext.FormatInt(int64(g.Polygons)), vntext.FormatInt(int64(g.Points)), vntext.FormatInt(int64(g.HolesRemoved)), vntext.FormatInt(int64(g.Repaired)),
		vntext.FormatInt(int64(g.VerticesDropped)), g.MaxAreaChangePct, len(sum.Problems))
	fmt.Printf("the last run's export took %.1f s of its %.1f s (the rest: starting, migrating, opening the database)\n", sum.Elapsed, last.wall.Seconds())
	for _, file := range sum.Files {
		fmt.Printf("  %-20s %8s KB %9s plots\n", file.Name, vntext.FormatInt(file.Bytes>>10), vntext.FormatInt(int64(file.Features)))
	}
	if o.check {
		start := time.Now()
		rep, err := eudr.Validate(f, zst.Size(), eudr.ValidateOptions{})
		if err != nil {
			return err
		}
		verdict := "every rule holds"
		if err := rep.Err(); err != nil {
			verdict = err.Error()
		}
		if len(rep.Plots) != stats.plots {
			verdict += fmt.Sprintf("; %d plots exported of %d", len(rep.Plots), stats.plots)
		}
		fmt.Printf("\nvalidator (%.0f s): %s plots once each in %d files, %d statements holding %s plots: %s\n", time.Since(start).Seconds(),
			vntext.FormatInt(int64(len(rep.Plots))), len(rep.Files), rep.Statements, vntext.FormatInt(int64(rep.StatementPlots)), verdict)
	}
	return nil
}

// exportSQL is the export's own query for the province (registry/postgres/eudr.go).
const exportSQL = `SELECT p.id, ST_AsBinary(p.geom), p.area_ha, p.crop, p.admin_scheme, coalesce(p.commune_code, ''), coalesce(p.province_code, ''),
	coalesce(o.id, 0), coalesce(o.kind, ''), coalesce(o.name, ''), coalesce(o.province_code, ''), coalesce(o.commune_code, ''), o.cooperative_id,
	p.deleted_at IS NOT NULL
	FROM plot p LEFT JOIN producer o ON o.id = p.producer_id WHERE p.province_code = '66' AND p.deleted_at IS NULL`

// ogrSQL gives ogr2ogr the same plots with the same properties.
const ogrSQL = `SELECT p.id, o.name AS "ProducerName", 'VN' AS "ProducerCountry", c.name || ', ' || v.name || ', Việt Nam' AS "ProductionPlace", p.geom
	FROM plot p LEFT JOIN producer o ON o.id = p.producer_id
	LEFT JOIN commune c ON c.scheme = p.admin_scheme AND c.code = p.commune_code
	LEFT JOIN province v ON v.scheme = p.admin_scheme AND v.code = p.province_code
	WHERE p.province_code = '66' AND p.deleted_at IS NULL`

// streamFloor streams the export's query and throws the rows away.
func streamFloor(ctx context.Context, url string) (result, int, int64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return result{}, 0, 0, err
	}
	defer conn.Close(ctx)
	before := cpuOf(0)
	start := time.Now()
	rows, err := conn.Query(ctx, exportSQL)
	if err != nil {
		return result{}, 0, 0, err
	}
	n := 0
	var bytes int64
	for rows.Next() {
		for _, v := range rows.RawValues() {
			bytes += int64(len(v))
		}
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return result{}, 0, 0, err
	}
	return result{wall: time.Since(start), cpu: cpuOf(0) - before}, n, bytes, nil
}

// cpuOf returns the CPU time of this process so far.
func cpuOf(int) time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timed runs cmd and returns its wall time, CPU time and peak resident memory.
func timed(cmd *exec.Cmd) (result, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := result{wall: time.Since(start), out: out.String()}
	if cmd.ProcessState != nil {
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.peakRSS = ru.Maxrss << 10 // kilobytes on Linux
		}
	}
	return r, err
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
	family = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Y", "H'"}
	middle = []string{"Văn", "Thị", "Đức", "Hữu", "Quốc", "Minh", "Thanh", "Khuê"}
	given  = []string{"An", "Bình", "Cường", "Dũng", "Hà", "Hồng", "Lan", "Nam", "Ngọc", "Phúc", "Quang", "Sơn", "Thủy", "Việt", "Yến", "Niê"}
	crops  = []string{"coffee", "coffee", "coffee", "coffee", "coffee", "durian", "durian", "pepper", "avocado", "cashew"}
)

// plotsPerHousehold is how many consecutive parcels (along one road) one household farms.
const plotsPerHousehold = 3

// householdsPerCooperative: every other household is a member of a cooperative of this many.
const householdsPerCooperative = 500

// ensurePlots generates o.n plots in the province, with their households and cooperatives,
// unless the database already holds them.
func ensurePlots(ctx context.Context, db *postgres.DB, o options) error {
	pool := db.Pool
	var have int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM plot WHERE source = 'bench'`).Scan(&have); err != nil {
		return err
	}
	if have == o.n && !o.regen {
		log.Printf("the database holds %s generated plots: reusing them (-regen to make them again)", vntext.FormatInt(int64(have)))
		return nil
	}
	start := time.Now()
	log.Printf("generating %s plots in province %s", vntext.FormatInt(int64(o.n)), province)
	rows, err := pool.Query(ctx, `SELECT code FROM commune WHERE scheme = 2025 AND province_code = $1 ORDER BY code`, province)
	if err != nil {
		return err
	}
	communes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `
		TRUNCATE plot, plot_history, plot_cell, growing_area_plot, producer CASCADE;
		DROP TABLE IF EXISTS bench_stage, bench_household;
		CREATE UNLOGGED TABLE bench_stage (n int, commune text, crop text, household int, wkb bytea);
		CREATE UNLOGGED TABLE bench_household (n int, name text, commune text, coop int)`); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(7, 7))
	var plots, households [][]any
	flush := func(table string, cols []string, rows *[][]any) error {
		if len(*rows) == 0 {
			return nil
		}
		_, err := pool.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(*rows))
		*rows = (*rows)[:0]
		return err
	}
	err = farmland.Stream(farmland.Options{Seed: 1066, Center: orb.Point{108.2, 12.8}, Count: o.n, ClusterSpacingM: 4000}, func(f farmland.Parcel) error {
		commune := communes[f.Cluster%len(communes)]
		hh := f.Index / plotsPerHousehold
		if f.Index%plotsPerHousehold == 0 {
			coop := -1
			if hh%2 == 0 {
				coop = hh / householdsPerCooperative
			}
			name := family[rng.IntN(len(family))] + " " + middle[rng.IntN(len(middle))] + " " + given[rng.IntN(len(given))]
			households = append(households, []any{hh, name, commune, coop})
			if len(households) == 20000 {
				if err := flush("bench_household", []string{"n", "name", "commune", "coop"}, &households); err != nil {
					return err
				}
			}
		}
		b, err := wkb.Marshal(orb.MultiPolygon{f.Polygon})
		if err != nil {
			return err
		}
		plots = append(plots, []any{f.Index, commune, crops[rng.IntN(len(crops))], hh, b})
		if len(plots) == 20000 {
			return flush("bench_stage", []string{"n", "commune", "crop", "household", "wkb"}, &plots)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush("bench_stage", []string{"n", "commune", "crop", "household", "wkb"}, &plots); err != nil {
		return err
	}
	if err := flush("bench_household", []string{"n", "name", "commune", "coop"}, &households); err != nil {
		return err
	}
	log.Printf("staged in %s; storing producers and plots", time.Since(start).Round(time.Second))
	// Cooperatives, households (by their number in external_id), then the plots in spatial
	// order, one in a thousand with a pond of about 30 m² cut out of it.
	for _, sql := range []string{`
		INSERT INTO producer (kind, name, province_code, commune_code, source, external_id, created_by, updated_by)
		SELECT 'cooperative', 'HTX Nông nghiệp số ' || k, $1, min(commune), 'bench', 'coop-' || k, 'bench', 'bench'
		FROM (SELECT coop AS k, commune FROM bench_household WHERE coop >= 0) c GROUP BY k`, `
		INSERT INTO producer (kind, name, cooperative_id, province_code, commune_code, source, external_id, created_by, updated_by)
		SELECT 'household', h.name, c.id, $1, h.commune, 'bench', 'hh-' || h.n, 'bench', 'bench'
		FROM bench_household h LEFT JOIN producer c ON c.source = 'bench' AND c.external_id = 'coop-' || h.coop
		ORDER BY h.n`, `
		INSERT INTO plot (producer_id, province_code, commune_code, crop, source, external_id, geom, created_by, updated_by)
		SELECT o.id, $1, s.commune, s.crop, 'bench', 'p-' || s.n,
		       CASE WHEN s.n % 1000 = 500 AND ST_Contains(g.geom, g.pond) THEN ST_Multi(ST_Difference(g.geom, g.pond)) ELSE g.geom END,
		       'bench', 'bench'
		FROM bench_stage s JOIN producer o ON o.source = 'bench' AND o.external_id = 'hh-' || s.household,
		     LATERAL (SELECT ST_Multi(ST_GeomFromWKB(s.wkb, 4326)) AS geom) w,
		     LATERAL (SELECT w.geom, CASE WHEN s.n % 1000 = 500 THEN ST_Buffer(ST_PointOnSurface(w.geom), 0.00003, 'quad_segs=2') END AS pond) g
		ORDER BY ST_GeoHash(ST_Centroid(w.geom), 12)`} {
		if _, err := pool.Exec(ctx, sql, province); err != nil {
			return err
		}
	}
	if _, err := pool.Exec(ctx, `DROP TABLE bench_stage, bench_household`); err != nil {
		return err
	}
	for _, table := range []string{"producer", "plot", "plot_cell"} {
		if _, err := pool.Exec(ctx, `VACUUM ANALYZE `+table); err != nil {
			return err
		}
	}
	log.Printf("%s plots stored in %s", vntext.FormatInt(int64(o.n)), time.Since(start).Round(time.Second))
	return nil
}

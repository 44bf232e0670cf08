// Command tiles benchmarks the vector tiles on a province-scale dataset.
//
// It generates N plots (default 1,000,000) shaped and clustered like real farmland in four
// highland provinces, stores them in PostGIS in spatial order, and for a fixed list of tiles at
// zooms 6, 8, 10, 12, 14 and 16 (the plots' own layer at each zoom: plot density up to z11,
// plots from z12) measures:
//
//   - the raw SQL of the server's own tile queries (the floor under the server), run by pgbench,
//     a C client, as the same prepared statements with the same session settings;
//   - the raw SQL of pg_tileserv's default query for the same tiles at z12-16 (every column as
//     an attribute, ST_Intersects with a 256-pixel buffer, ST_Transform of every feature, a
//     50,000-feature LIMIT, default connection settings), run the same way: the figure
//     pg_tileserv reaches at best;
//   - the vungtrong server itself, a separate process driven over loopback from this one (by a
//     minimal HTTP/1.1 client on keep-alive connections, which takes little of the CPU it shares
//     with the server and the database), with its tile cache off and then on, at concurrency 1
//     and 8;
//   - the size of every tile.
//
// It prints one table with the ratios of the server to the raw SQL, and checks the targets.
// Each measurement is bounded by -duration and -requests. The dataset is kept between runs
// (-regen makes it again).
//
//	go run ./bench/tiles -n 1000000                # about 5 minutes to generate, 5 to measure
//	go run ./bench/tiles -n 20000 -duration 2s     # a quick look
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/bench/internal/plotset"
	"github.com/vungtrong/vungtrong/pgcluster"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/tiles"
	"github.com/vungtrong/vungtrong/tiles/postgis"
)

type options struct {
	n            int
	url          string
	dir          string
	regen        bool
	duration     time.Duration
	requests     int
	perZoom      int
	zooms        []int
	binary       string
	concurrency  []int
	tileConns    int
	skipServer   bool
	skipBaseline bool
	serverEnv    []string
}

func main() {
	var o options
	var zooms, conc string
	flag.IntVar(&o.n, "n", 1_000_000, "plots to generate")
	flag.StringVar(&o.url, "url", "", "database URL (default: a private cluster in -dir)")
	flag.StringVar(&o.dir, "dir", plotset.DefaultDir, "where the private cluster lives (kept between runs, shared with bench/edit)")
	flag.BoolVar(&o.regen, "regen", false, "generate the plots again even if the database has N")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "how long each measurement runs at most")
	flag.IntVar(&o.requests, "requests", 50_000, "how many tiles each measurement asks for at most")
	flag.IntVar(&o.perZoom, "tiles", 100, "tiles in the list at each zoom (where the data has that many)")
	flag.StringVar(&zooms, "zooms", "6,8,10,12,14,16", "zooms to measure")
	flag.StringVar(&o.binary, "binary", "bin/vungtrong", "the vungtrong binary to run as the server (built with `make build`)")
	flag.StringVar(&conc, "concurrency", "1,8", "concurrency levels")
	flag.IntVar(&o.tileConns, "tile-conns", 8, "the server's tile connections (tiles.max_conns)")
	flag.BoolVar(&o.skipServer, "skip-server", false, "measure the SQL only")
	flag.BoolVar(&o.skipBaseline, "skip-baseline", false, "do not measure pg_tileserv's query")
	flag.Func("server-env", "an extra NAME=value in the server's environment (repeatable), GOMAXPROCS=1 say", func(v string) error {
		if !strings.Contains(v, "=") {
			return fmt.Errorf("want NAME=value")
		}
		o.serverEnv = append(o.serverEnv, v)
		return nil
	})
	flag.Parse()
	for _, s := range strings.Split(zooms, ",") {
		z, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			log.Fatalf("-zooms: %v", err)
		}
		o.zooms = append(o.zooms, z)
	}
	for _, s := range strings.Split(conc, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || c < 1 {
			log.Fatalf("-concurrency: %q", s)
		}
		o.concurrency = append(o.concurrency, c)
	}
	// This process only waits on the database and the server: one P is plenty, and Go's idle
	// threads spinning for work on a second one would take CPU from PostgreSQL, which shares
	// the machine (raw SQL at z16 measured 20-30% slower with two). The server keeps its
	// defaults.
	runtime.GOMAXPROCS(1)
	if err := run(context.Background(), o); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, o options) error {
	url := o.url
	if url == "" {
		c, stop, err := plotset.Start(ctx, o.dir)
		if err != nil {
			return err
		}
		defer stop()
		url = c.URL(plotset.Database)
	}
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
	if err := plotset.Ensure(ctx, db.Pool, o.n, o.regen); err != nil {
		return err
	}
	list, err := tileList(ctx, db.Pool, o)
	if err != nil {
		return err
	}
	src, err := postgis.Open(ctx, url, postgis.Options{MaxConns: 16})
	if err != nil {
		return err
	}
	defer src.Close()
	results := map[int]*zoomResult{}
	for _, z := range o.zooms {
		results[z] = &zoomResult{zoom: z, layer: layerAt(z), tiles: len(list[z]),
			raw: map[int]sample{}, rawC: map[int]sample{}, baseline: map[int]sample{}, server: map[int]sample{}, cached: map[int]sample{}}
	}

	var base *pgxpool.Pool
	if !o.skipBaseline {
		if _, err := db.Pool.Exec(ctx, `CREATE INDEX IF NOT EXISTS bench_plot_geom_gix ON plot USING gist (geom)`); err != nil {
			return err
		}
		if base, err = pgxpool.New(ctx, url); err != nil { // pg_tileserv's connections: default settings
			return err
		}
		defer base.Close()
	}
	pgbench, err := pgbenchPath()
	if err != nil {
		return err
	}

	// The server without cache, the raw SQL and pg_tileserv's query are measured in turns,
	// twice each, so that the machine's drift over minutes falls on all of them alike; each
	// figure is the better of its two turns.
	var srv *server
	if !o.skipServer {
		if srv, err = startServer(ctx, o, url, 0); err != nil {
			return err
		}
		log.Printf("server without tile cache at %s", srv.base)
	}
	for _, z := range o.zooms {
		r := results[z]
		r.sizes = tileSizes(ctx, src, r.layer, list[z])
		if srv != nil {
			for _, t := range list[z] { // every tile once through the server: check the answers
				if _, err := srv.getter(r.layer)(ctx, t); err != nil {
					return err
				}
			}
		}
		log.Printf("z%d: %d tiles, measuring", z, len(list[z]))
		for _, c := range o.concurrency {
			for round := range 2 {
				keep := func(m map[int]sample, s sample) {
					if round == 0 || s.rate() > m[c].rate() {
						m[c] = s
					}
				}
				keep(r.raw, rawSQL(o, c, src, r.layer, list[z]))
				rawC, err := runPgbench(o, pgbench, url, c, list[z], func(t tiles.ID) (string, []any) {
					sql, args, _ := postgis.Query(r.layer, t)
					return sql, args
				}, tileSettings)
				if err != nil {
					return err
				}
				keep(r.rawC, rawC)
				if srv != nil {
					keep(r.server, srv.load(o, c, r.layer, list[z]))
				}
				if base != nil && z >= 12 {
					b, err := runPgbench(o, pgbench, url, c, list[z], func(t tiles.ID) (string, []any) {
						return pgTileservSQL, []any{t.Z, t.X, t.Y}
					}, "")
					if err != nil {
						return err
					}
					keep(r.baseline, b)
				}
			}
		}
	}
	if srv != nil {
		srv.stop()
		if srv, err = startServer(ctx, o, url, 512); err != nil {
			return err
		}
		log.Printf("server with a 512 MB tile cache at %s", srv.base)
		for _, z := range o.zooms {
			r := results[z]
			for _, t := range list[z] { // warm the cache
				if _, err := srv.getter(r.layer)(ctx, t); err != nil {
					return err
				}
			}
			for _, c := range o.concurrency {
				r.cached[c] = srv.load(o, c, r.layer, list[z])
			}
		}
		srv.stop()
	}
	report(o, results)
	return nil
}

// layerAt is the plots' layer shown at zoom z.
func layerAt(z int) string {
	if z < 12 {
		return "plot_density"
	}
	return "plots"
}

// tileList picks, for each zoom, the tiles over randomly chosen plots: where people look.
func tileList(ctx context.Context, pool *pgxpool.Pool, o options) (map[int][]tiles.ID, error) {
	rows, err := pool.Query(ctx, `
		SELECT ST_X(c), ST_Y(c) FROM (
		  SELECT ST_Transform(ST_Centroid(geom_3857), 4326) AS c FROM plot TABLESAMPLE SYSTEM (2) REPEATABLE (42)
		  WHERE deleted_at IS NULL LIMIT 20000) s`)
	if err != nil {
		return nil, err
	}
	points, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (orb.Point, error) {
		var p orb.Point
		return p, r.Scan(&p[0], &p[1])
	})
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(42, 42))
	rng.Shuffle(len(points), func(i, j int) { points[i], points[j] = points[j], points[i] })
	out := map[int][]tiles.ID{}
	for _, z := range o.zooms {
		seen := map[tiles.ID]bool{}
		for _, p := range points {
			t := tiles.At(p, z)
			if !seen[t] {
				seen[t] = true
				out[z] = append(out[z], t)
				if len(out[z]) == o.perZoom {
					break
				}
			}
		}
	}
	return out, nil
}

// sample is one measurement: throughput, latencies, bytes.
type sample struct {
	n         int
	errs      int
	elapsed   time.Duration
	latencies []time.Duration
	bytes     int64
	// percentiles measured elsewhere (by pgbench), when latencies are not kept
	p50, p99 time.Duration
	cpu      cpuUse // CPU time spent during the measurement
}

// perTile is a CPU time divided among the sample's tiles, in microseconds.
func (s sample) perTile(d time.Duration) float64 {
	if s.n == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(s.n)
}

func (s sample) rate() float64 {
	if s.elapsed == 0 {
		return 0
	}
	return float64(s.n) / s.elapsed.Seconds()
}

func (s sample) pct(p float64) time.Duration {
	if len(s.latencies) == 0 {
		if p <= 0.5 {
			return s.p50
		}
		return s.p99
	}
	i := int(math.Ceil(p*float64(len(s.latencies)))) - 1
	return s.latencies[max(0, min(i, len(s.latencies)-1))]
}

// measure runs fetch over the tile list with c workers until the duration or the request
// budget is spent.
func measure(o options, c int, list []tiles.ID, fetch func(context.Context, tiles.ID) (int, error)) sample {
	if len(list) == 0 {
		return sample{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex
	var s sample
	var wg sync.WaitGroup
	start := time.Now()
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var bytes int64
			errs := 0
			wctx := context.WithValue(ctx, workerKey{}, w)
			for {
				i := next.Add(1) - 1
				if int(i) >= o.requests || ctx.Err() != nil {
					break
				}
				t0 := time.Now()
				n, err := fetch(wctx, list[(int(i)+w)%len(list)])
				if ctx.Err() != nil {
					break // cut off by the time limit: not a sample
				}
				if err != nil {
					errs++
					continue
				}
				lat = append(lat, time.Since(t0))
				bytes += int64(n)
			}
			mu.Lock()
			s.latencies = append(s.latencies, lat...)
			s.bytes += bytes
			s.errs += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	s.elapsed = time.Since(start)
	s.n = len(s.latencies)
	slices.Sort(s.latencies)
	if s.errs > 0 {
		log.Printf("  %d errors", s.errs)
	}
	return s
}

type workerKey struct{}

// workerID is the number of the measure worker running with ctx.
func workerID(ctx context.Context) int {
	w, _ := ctx.Value(workerKey{}).(int)
	return w
}

// rawSQL measures the server's own tile queries run directly against PostGIS from this
// process, through the tile source the server uses (pgx, the same connection settings, the
// same prepared statements): the floor under the server, which adds HTTP and its cache.
func rawSQL(o options, c int, src *postgis.Source, layer string, list []tiles.ID) sample {
	before := cpuNow(0)
	s := measure(o, c, list, func(ctx context.Context, t tiles.ID) (int, error) {
		b, err := src.Tile(ctx, layer, t)
		return len(b), err
	})
	s.cpu = cpuNow(0).sub(before)
	return s
}

// tileSettings are the tile connections' settings (tiles/postgis), for pgbench's sessions.
var tileSettings = func() string {
	var opts []string
	for k, v := range postgis.Settings() {
		opts = append(opts, "-c "+k+"="+v)
	}
	slices.Sort(opts)
	return strings.Join(opts, " ")
}()

func pgbenchPath() (string, error) {
	dir, err := pgcluster.FindBinDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "pgbench"), nil
}

var (
	pgbenchTPS     = regexp.MustCompile(`tps = ([0-9.]+)`)
	pgbenchLatency = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
	pgbenchCount   = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)
	dollarParam    = regexp.MustCompile(`\$([0-9]+)`)
)

// runPgbench measures the raw SQL of a tile query: pgbench (a C client) runs the query, as a
// prepared statement, for tiles drawn at random from the list, with c clients, for the
// duration. The tile's parameters are chosen on the client side by CASE expressions, so the
// server sees exactly the statement the tile server sends. settings are the sessions' options
// (PGOPTIONS). It is the floor under the server: the database's work, and nothing else.
func runPgbench(o options, pgbench, url string, c int, list []tiles.ID, query func(tiles.ID) (string, []any), settings string) (sample, error) {
	var sql string
	var cases [][]string
	for _, t := range list {
		q, args := query(t)
		sql = q
		for k, a := range args {
			if len(cases) <= k {
				cases = append(cases, nil)
			}
			v := fmt.Sprint(a)
			if f, ok := a.(float64); ok {
				v = strconv.FormatFloat(f, 'f', -1, 64) // pgbench reads no exponents
			}
			cases[k] = append(cases[k], v)
		}
	}
	var script strings.Builder
	fmt.Fprintf(&script, "\\set i random(0, %d)\n", len(list)-1)
	for k, values := range cases {
		fmt.Fprintf(&script, "\\set p%d case", k+1)
		for i, v := range values[:len(values)-1] {
			fmt.Fprintf(&script, " when :i = %d then %s", i, v)
		}
		fmt.Fprintf(&script, " else %s end\n", values[len(values)-1])
	}
	script.WriteString(dollarParam.ReplaceAllString(strings.TrimSpace(sql), ":p$1") + ";\n")
	f, err := os.CreateTemp("", "vungtrong-pgbench-*.sql")
	if err != nil {
		return sample{}, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(script.String()); err != nil {
		return sample{}, err
	}
	f.Close()
	secs := max(1, int(math.Ceil(o.duration.Seconds())))
	cmd := exec.Command(pgbench, "-n", "-M", "prepared", "-c", strconv.Itoa(c), "-j", strconv.Itoa(min(c, 2)),
		"-T", strconv.Itoa(secs), "-f", f.Name(), url)
	cmd.Env = append(os.Environ(), "PGOPTIONS="+settings)
	before := cpuNow(0)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return sample{}, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	cpu := cpuNow(0).sub(before)
	cpu.client = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	tps, count, lat := pgbenchTPS.FindSubmatch(out), pgbenchCount.FindSubmatch(out), pgbenchLatency.FindSubmatch(out)
	if tps == nil || count == nil {
		return sample{}, fmt.Errorf("pgbench said:\n%s", out)
	}
	s := sample{cpu: cpu}
	s.n, _ = strconv.Atoi(string(count[1]))
	rate, _ := strconv.ParseFloat(string(tps[1]), 64)
	if rate > 0 {
		s.elapsed = time.Duration(float64(s.n) / rate * float64(time.Second))
	}
	if lat != nil {
		ms, _ := strconv.ParseFloat(string(lat[1]), 64)
		s.p50 = time.Duration(ms * float64(time.Millisecond)) // an average, not a median: pgbench gives no percentiles
		s.p99 = s.p50
	}
	return s, nil
}

// tileSizes returns the size of every tile of the list (uncompressed MVT).
func tileSizes(ctx context.Context, src *postgis.Source, layer string, list []tiles.ID) []int {
	var out []int
	for _, t := range list {
		b, err := src.Tile(ctx, layer, t)
		if err == nil {
			out = append(out, len(b))
		}
	}
	sort.Ints(out)
	return out
}

// pgTileservSQL is pg_tileserv's default query for a table layer (layer_table.go): every
// column, ST_Transform of every feature, ST_Intersects with the envelope grown by a
// 256-pixel buffer, a 50,000-feature limit.
const pgTileservSQL = `
WITH
bounds AS (
  SELECT ST_TileEnvelope($1, $2, $3, margin => (256.0 / 4096)) AS geom_query,
         ST_TileEnvelope($1, $2, $3) AS geom_clip
),
mvtgeom AS (
  SELECT ST_AsMVTGeom(ST_Transform(t.geom, 3857), bounds.geom_clip, 4096, 256) AS geom,
         t.id, t.producer_id, t.admin_scheme, t.province_code, t.commune_code, t.crop, t.variety, t.planting_year,
         t.cadastral_sheet, t.cadastral_parcel, t.land_cert_no, t.source, t.external_id, t.area_ha, t.version,
         t.created_at, t.updated_at, t.created_by, t.updated_by, t.deleted_at
  FROM "public"."plot" t, bounds
  WHERE ST_Intersects(t.geom, ST_Transform(bounds.geom_query, 4326))
  LIMIT 50000
)
SELECT ST_AsMVT(mvtgeom.*, 'public.plot', 4096, 'geom', 'id') FROM mvtgeom`

// server is a vungtrong server process.
type server struct {
	cmd    *exec.Cmd
	base   string
	client *http.Client
}

func startServer(ctx context.Context, o options, url string, cacheMB int) (*server, error) {
	if _, err := os.Stat(o.binary); err != nil {
		return nil, fmt.Errorf("%s: %w (run `make build`, or pass -binary)", o.binary, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.CommandContext(ctx, o.binary, "serve")
	cmd.Env = append(os.Environ(), "VUNGTRONG_DATABASE_URL="+url, "VUNGTRONG_HTTP_ADDR="+addr, "VUNGTRONG_LOG_LEVEL=warn",
		"VUNGTRONG_TILES_CACHE_MB="+strconv.Itoa(cacheMB), "VUNGTRONG_TILES_MAX_CONNS="+strconv.Itoa(o.tileConns),
		"VUNGTRONG_AUTH_ADMIN_PASSWORD=bench-admin-password")
	cmd.Env = append(cmd.Env, o.serverEnv...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addr, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}}
	for i := 0; ; i++ {
		res, err := s.client.Get(s.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s, nil
			}
		}
		if i > 300 {
			s.stop()
			return nil, fmt.Errorf("the server did not start: %s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// getter fetches tiles of a layer as a map would: gzip accepted (and left compressed).
func (s *server) getter(layer string) func(context.Context, tiles.ID) (int, error) {
	return func(ctx context.Context, t tiles.ID) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/tiles/%s/%d/%d/%d.mvt", s.base, layer, t.Z, t.X, t.Y), nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := s.client.Do(req)
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 && res.StatusCode != 204 {
			return 0, fmt.Errorf("%s: %s", req.URL, res.Status)
		}
		return int(n), err
	}
}

// load measures the server with c connections over the layer's tile list. Each connection is
// a minimal HTTP/1.1 client (a prepared request, the status line and Content-Length read, the
// body discarded), so that the load generator takes little of the CPU it shares with the server
// and the database; Go's http.Client costs several times as much per request.
func (s *server) load(o options, c int, layer string, list []tiles.ID) (result sample) {
	reqs := make([][]byte, len(list))
	host := strings.TrimPrefix(s.base, "http://")
	for i, t := range list {
		reqs[i] = fmt.Appendf(nil, "GET /tiles/%s/%d/%d/%d.mvt HTTP/1.1\r\nHost: %s\r\nAccept-Encoding: gzip\r\n\r\n", layer, t.Z, t.X, t.Y, host)
	}
	conns := make(chan *rawConn, c)
	for range c {
		rc, err := dialRaw(host)
		if err != nil {
			log.Printf("  dial: %v", err)
			return sample{}
		}
		conns <- rc
	}
	defer func() {
		close(conns)
		for rc := range conns {
			rc.conn.Close()
		}
	}()
	// Each worker takes a connection for the whole run.
	index := map[tiles.ID]int{}
	for i, t := range list {
		index[t] = i
	}
	var mu sync.Mutex
	byWorker := map[int]*rawConn{}
	next := 0
	before := cpuNow(s.cmd.Process.Pid)
	defer func() { result.cpu = cpuNow(s.cmd.Process.Pid).sub(before) }()
	return measure(o, c, list, func(ctx context.Context, t tiles.ID) (int, error) {
		w := workerID(ctx)
		mu.Lock()
		rc := byWorker[w]
		if rc == nil {
			rc = <-conns
			byWorker[w] = rc
			next++
		}
		mu.Unlock()
		return rc.get(reqs[index[t]])
	})
}

// rawConn is one keep-alive HTTP/1.1 connection.
type rawConn struct {
	conn net.Conn
	br   *bufio.Reader
}

func dialRaw(host string) (*rawConn, error) {
	c, err := net.Dial("tcp", host)
	if err != nil {
		return nil, err
	}
	return &rawConn{conn: c, br: bufio.NewReaderSize(c, 64<<10)}, nil
}

// get sends a prepared request and reads the whole answer, returning the body's size.
func (rc *rawConn) get(req []byte) (int, error) {
	if _, err := rc.conn.Write(req); err != nil {
		return 0, err
	}
	status, err := rc.br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(status) < 12 || (status[9] != '2' && status[9] != '3') {
		return 0, fmt.Errorf("answer %q", strings.TrimSpace(string(status)))
	}
	length := 0
	for {
		line, err := rc.br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 {
			break
		}
		if len(line) > 16 && strings.EqualFold(string(line[:15]), "Content-Length:") {
			length, _ = strconv.Atoi(strings.TrimSpace(string(line[15:])))
		}
	}
	n, err := rc.br.Discard(length)
	return n, err
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
	}
}

type zoomResult struct {
	zoom     int
	layer    string
	tiles    int
	sizes    []int
	raw      map[int]sample // the server's queries through pgx, from this process
	rawC     map[int]sample // the same through pgbench
	baseline map[int]sample
	server   map[int]sample
	cached   map[int]sample
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// report prints the table and checks the targets.
func report(o options, results map[int]*zoomResult) {
	w := os.Stdout
	fmt.Fprintf(w, "\nVector tiles on %d plots; each figure the better of two turns of at most %s or %d tiles; tiles per second (t/s), latency p50/p99 in ms\n\n", o.n, o.duration, o.requests)
	fmt.Fprintf(w, "%-4s %-12s %5s %15s | %-19s | %-7s | %-7s | %-21s | %-21s | %-8s | %-8s | %-8s\n", "zoom", "layer", "tiles", "size KB p50/max",
		"raw SQL c1 / c8 t/s", "pgbench", "pgts c8", "server c1 t/s p50/p99", "server c8 t/s p50/p99", "srv/raw", "srv/pgb", "srv/pgts")
	for _, z := range o.zooms {
		r := results[z]
		p50, maxSize := 0, 0
		if len(r.sizes) > 0 {
			p50, maxSize = r.sizes[len(r.sizes)/2], r.sizes[len(r.sizes)-1]
		}
		c1, c8 := o.concurrency[0], o.concurrency[len(o.concurrency)-1]
		fmt.Fprintf(w, "%-4d %-12s %5d %7.1f/%-7.1f | %7.0f / %-9.0f | %-7.0f | %-7.0f | %5.0f %5s/%-9s | %5.0f %5s/%-9s | %-8s | %-8s | %-8s\n",
			z, r.layer, r.tiles, float64(p50)/1024, float64(maxSize)/1024,
			r.raw[c1].rate(), r.raw[c8].rate(), r.rawC[c8].rate(), r.baseline[c8].rate(),
			r.server[c1].rate(), ms(r.server[c1].pct(0.5)), ms(r.server[c1].pct(0.99)),
			r.server[c8].rate(), ms(r.server[c8].pct(0.5)), ms(r.server[c8].pct(0.99)),
			ratio(r.server[c8].rate(), r.raw[c8].rate()), ratio(r.server[c8].rate(), r.rawC[c8].rate()), ratio(r.server[c8].rate(), r.baseline[c8].rate()))
	}
	fmt.Fprintf(w, "\nraw SQL: the server's queries through pgx from this process; pgbench: the same from C, c8; pgts: pg_tileserv's default query, c8; ratios at c8\n")
	fmt.Fprintf(w, "\nCPU time per tile at c%d, microseconds: database / client for the raw SQL (pgx, pgbench); database / tile server / load client for the server:\n", o.concurrency[len(o.concurrency)-1])
	for _, z := range o.zooms {
		r := results[z]
		c8 := o.concurrency[len(o.concurrency)-1]
		raw, rawC, srv := r.raw[c8], r.rawC[c8], r.server[c8]
		fmt.Fprintf(w, "  z%-2d  pgx %5.0f / %4.0f   pgbench %5.0f / %4.0f   server %5.0f / %4.0f / %4.0f\n", z,
			raw.perTile(raw.cpu.pg), raw.perTile(raw.cpu.client), rawC.perTile(rawC.cpu.pg), rawC.perTile(rawC.cpu.client),
			srv.perTile(srv.cpu.pg), srv.perTile(srv.cpu.server), srv.perTile(srv.cpu.client))
	}
	fmt.Fprintf(w, "\nwith the tile cache on:\n")
	for _, z := range o.zooms {
		r := results[z]
		fmt.Fprintf(w, "  z%-2d", z)
		for _, c := range o.concurrency {
			s := r.cached[c]
			fmt.Fprintf(w, "   c%d: %7.0f t/s p50 %s p99 %s ms", c, s.rate(), ms(s.pct(0.5)), ms(s.pct(0.99)))
		}
		fmt.Fprintln(w)
	}
	c8 := o.concurrency[len(o.concurrency)-1]
	fmt.Fprintf(w, "\ntargets:\n")
	check := func(ok bool, format string, args ...any) {
		mark := "PASS"
		if !ok {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s  %s\n", mark, fmt.Sprintf(format, args...))
	}
	biggest, at := 0, 0
	for _, z := range o.zooms {
		if r := results[z]; len(r.sizes) > 0 && r.sizes[len(r.sizes)-1] > biggest {
			biggest, at = r.sizes[len(r.sizes)-1], z
		}
	}
	check(biggest <= 500<<10, "largest tile %.1f KB (z%d) <= 500 KB", float64(biggest)/1024, at)
	if r, ok := results[14]; ok && !o.skipServer {
		q := r.server[c8].rate() / r.raw[c8].rate()
		check(q >= 0.9, "z14 server without cache at c%d: %.0f t/s = %.2f x the raw SQL (%.0f t/s), want >= 0.9", c8, r.server[c8].rate(), q, r.raw[c8].rate())
		fmt.Fprintf(w, "        (and %.2f x the same SQL from pgbench, %.0f t/s)\n", r.server[c8].rate()/r.rawC[c8].rate(), r.rawC[c8].rate())
	}
	for _, z := range []int{12, 13, 14} {
		r, ok := results[z]
		if !ok || o.skipServer || o.skipBaseline {
			continue
		}
		for _, c := range o.concurrency {
			q := r.server[c].rate() / r.baseline[c].rate()
			check(q >= 2, "z%d server without cache at c%d: %.0f t/s = %.2f x pg_tileserv's query (%.0f t/s), want >= 2", z, c, r.server[c].rate(), q, r.baseline[c].rate())
		}
	}
	for _, z := range []int{6, 8, 10} {
		r, ok := results[z]
		if !ok || o.skipServer {
			continue
		}
		for _, c := range o.concurrency {
			check(r.server[c].pct(0.99) <= 200*time.Millisecond, "z%d p99 without cache at c%d: %s ms <= 200 ms", z, c, ms(r.server[c].pct(0.99)))
		}
	}
	if !o.skipServer {
		low := math.Inf(1)
		lowZ := 0
		for _, z := range o.zooms {
			if rate := results[z].cached[c8].rate(); rate < low {
				low, lowZ = rate, z
			}
		}
		check(low >= 10000, "with the cache at c%d: at least %.0f t/s (z%d, the slowest zoom), want >= 10,000", c8, low, lowZ)
	}
}

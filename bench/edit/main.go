// Command edit benchmarks the server side of the plot editor (issue 13) on the dataset of
// bench/tiles (package bench/internal/plotset: a million generated plots in four provinces).
//
// On a fresh copy of the dataset's database it picks typical plots in dense farmland (each
// with at least six neighbours within about 30 m) and measures, through a vungtrong server
// process driven over loopback, and at concurrency 1 and 8:
//
//   - the check of an edit whose boundary was pulled over its neighbours (POST
//     /api/v1/plots/check: validity, area, jurisdiction, placement, the overlaps and the
//     suggested fix);
//   - the check of an edit that overlaps nothing (the same, without a suggestion to make);
//   - the save of an edit (PATCH /api/v1/plots/{id} with If-Match: snap, checks, overlap
//     rule, the new version, its history and audit record, and the tile invalidation: pg_notify
//     to every server, the tile cache of this one);
//
// next to the same SQL run raw from pgx in this process: the statements each request runs are
// recorded (through a pgx tracer on the registry's own services, in this process) and run
// again, in order and on one connection, without the server. The ratios of the server to the
// raw SQL, and the time of each statement of the check, come out as markdown tables.
//
//	go run ./bench/edit                          # the dataset of bench/tiles, a million plots
//	go run ./bench/edit -n 20000 -duration 2s    # a quick look on a small one
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/vungtrong/vungtrong/bench/internal/plotset"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/tiles"
)

type options struct {
	n           int
	dir         string
	url         string
	regen       bool
	binary      string
	plots       int
	duration    time.Duration
	requests    int
	concurrency []int
	serverEnv   []string
}

// copyDatabase is the database each run works on: a fresh copy of the dataset's, so that the
// saves of one run change nothing another (or bench/tiles) sees.
const copyDatabase = "bench_edit"

func main() {
	var o options
	var conc string
	flag.IntVar(&o.n, "n", 1_000_000, "plots in the dataset (generated once, as bench/tiles does)")
	flag.StringVar(&o.dir, "dir", plotset.DefaultDir, "where the private cluster lives (kept between runs, shared with bench/tiles)")
	flag.StringVar(&o.url, "url", "", "a database holding the dataset instead of the private cluster (its server must allow CREATE DATABASE)")
	flag.BoolVar(&o.regen, "regen", false, "generate the plots again even if the database has N")
	flag.StringVar(&o.binary, "binary", "", "the vungtrong binary to run as the server (default: built from this tree into -dir)")
	flag.IntVar(&o.plots, "plots", 200, "typical plots to edit")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "how long each measurement runs at most")
	flag.IntVar(&o.requests, "requests", 20_000, "how many requests each measurement makes at most")
	flag.StringVar(&conc, "concurrency", "1,8", "concurrency levels")
	flag.Func("server-env", "an extra NAME=value in the server's environment (repeatable), GOMAXPROCS=1 say", func(v string) error {
		if !strings.Contains(v, "=") {
			return fmt.Errorf("want NAME=value")
		}
		o.serverEnv = append(o.serverEnv, v)
		return nil
	})
	flag.Parse()
	for _, s := range strings.Split(conc, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || c < 1 {
			log.Fatalf("-concurrency: %q", s)
		}
		o.concurrency = append(o.concurrency, c)
	}
	// This process mostly waits on the database and the server, which share the machine: one
	// P, so that idle Go threads take no CPU from them (as in bench/tiles).
	runtime.GOMAXPROCS(1)
	if err := run(context.Background(), o); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, o options) error {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	datasetURL, adminURL, copyURL := o.url, "", ""
	if o.url == "" {
		c, stop, err := plotset.Start(ctx, o.dir)
		if err != nil {
			return err
		}
		defer stop()
		datasetURL, adminURL, copyURL = c.URL(plotset.Database), c.URL("postgres"), c.URL(copyDatabase)
	} else {
		var err error
		if adminURL, err = withDatabase(o.url, "postgres"); err != nil {
			return err
		}
		if copyURL, err = withDatabase(o.url, copyDatabase); err != nil {
			return err
		}
	}
	if err := ensureDataset(ctx, datasetURL, o); err != nil {
		return err
	}
	if err := freshCopy(ctx, adminURL, datasetURL); err != nil {
		return err
	}
	defer func() {
		if err := dropCopy(context.WithoutCancel(ctx), adminURL); err != nil {
			log.Printf("dropping %s: %v", copyDatabase, err)
		}
	}()

	rec := &recorder{}
	db, err := postgres.Open(ctx, copyURL, postgres.Options{Tracer: rec, MaxConns: 4})
	if err != nil {
		return err
	}
	defer db.Close()
	token, actor, err := officer(ctx, db)
	if err != nil {
		return err
	}
	edits, err := pickEdits(ctx, db, o.plots)
	if err != nil {
		return err
	}
	log.Printf("recording the statements of %d typical edits", len(edits))
	if edits, err = record(registry.NewContextWithActor(ctx, actor), db, rec, token, edits, o.plots); err != nil {
		return err
	}
	if len(edits) < 10 {
		return fmt.Errorf("only %d usable edits in the dataset: generate more plots", len(edits))
	}

	binary := o.binary
	if binary == "" {
		binary = filepath.Join(o.dir, "vungtrong-edit")
		log.Printf("building %s", binary)
		if out, err := exec.Command("go", "build", "-o", binary, "./cmd/vungtrong").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	srv, err := startServer(ctx, binary, copyURL, token, o.serverEnv)
	if err != nil {
		return err
	}
	defer srv.stop()
	if err := srv.warmTiles(ctx, edits); err != nil {
		return err
	}
	rawCfg, err := pgxpool.ParseConfig(copyURL)
	if err != nil {
		return err
	}
	rawCfg.MaxConns = 16 // as many as the server may use at c8, and more
	raw, err := pgxpool.NewWithConfig(ctx, rawCfg)
	if err != nil {
		return err
	}
	defer raw.Close()

	res := &results{o: o, edits: len(edits), n: o.n, rows: map[string]map[int]*pair{}}
	for _, op := range operations {
		res.rows[op.name] = map[int]*pair{}
		for _, c := range o.concurrency {
			p := &pair{}
			res.rows[op.name][c] = p
			// The server and the raw SQL in turns, twice each, so that the machine's drift
			// over minutes falls on both alike; each figure is the better of its two turns.
			for round := range 2 {
				log.Printf("%s, c%d, turn %d", op.name, c, round+1)
				if op.save {
					if err := refreshVersions(ctx, raw, edits); err != nil {
						return err
					}
				}
				s := measure(o, c, len(edits), op.endpoint(srv, edits))
				if round == 0 || s.rate() > p.server.rate() {
					p.server = s
				}
				r := measure(o, c, len(edits), op.raw(raw, edits))
				if round == 0 || r.rate() > p.raw.rate() {
					p.raw = r
				}
			}
		}
	}
	log.Printf("timing each statement of the check")
	res.steps = stepTimes(ctx, raw, edits, o)
	res.print(os.Stdout)
	return nil
}

// withDatabase is u with its database replaced by name.
func withDatabase(u, name string) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("-url: %w", err)
	}
	p.Path = "/" + name
	return p.String(), nil
}

// ensureDataset migrates the dataset's database and generates its plots when they are not
// there yet.
func ensureDataset(ctx context.Context, url string, o options) error {
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
	return plotset.Ensure(ctx, db.Pool, o.n, o.regen)
}

// freshCopy makes copyDatabase a copy of the dataset's database (file by file: seconds, where
// replaying it through the write-ahead log would take minutes).
func freshCopy(ctx context.Context, adminURL, datasetURL string) error {
	start := time.Now()
	src, err := url.Parse(datasetURL)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+copyDatabase+` WITH (FORCE)`); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+copyDatabase+` TEMPLATE `+pgx.Identifier{strings.TrimPrefix(src.Path, "/")}.Sanitize()+` STRATEGY FILE_COPY`); err != nil {
		return err
	}
	log.Printf("copied the dataset into %s in %s", copyDatabase, time.Since(start).Round(time.Millisecond))
	return nil
}

func dropCopy(ctx context.Context, adminURL string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `DROP DATABASE IF EXISTS `+copyDatabase+` WITH (FORCE)`)
	return err
}

// officer makes the officer of the dataset's first province who edits, and an API token of
// theirs; it returns the token and the officer as an actor, for the recordings.
func officer(ctx context.Context, db *postgres.DB) (string, registry.Actor, error) {
	sys := registry.NewContextWithActor(ctx, registry.SystemActor("bench"))
	u := &registry.User{Username: "bench.officer", DisplayName: "Bench officer", Role: registry.RoleOfficer,
		Jurisdictions: []registry.Jurisdiction{{ProvinceCode: plotset.Provinces[0].Code}}}
	if err := postgres.NewUserService(db).CreateUser(sys, u, "bench-officer-password"); err != nil {
		return "", registry.Actor{}, err
	}
	secret, _, err := postgres.NewTokenService(db).CreateToken(sys, u.ID, "bench-edit")
	if err != nil {
		return "", registry.Actor{}, err
	}
	return secret, registry.Actor{Kind: "token", Name: "bench-edit", Role: registry.RoleOfficer, UserID: u.ID, Jurisdictions: u.Jurisdictions}, nil
}

// edit is one typical plot and the edits made to it: its boundary pulled over its neighbours
// (grown by 10% about its centre), and nudged (one vertex half a metre inwards, overlapping
// nothing), with the requests' bodies and the statements each runs.
type edit struct {
	id                      int64
	original, grown, nudged orb.MultiPolygon
	checkGrown, checkNudged []byte // request bodies
	saveNudged, saveBack    []byte
	// The statements of each request, as the server runs them.
	sqlCheckGrown, sqlCheckNudged, sqlSaveNudged, sqlSaveBack []stmt
	// version and nudgedNow are where the plot stands, for the next save.
	version   int
	nudgedNow bool
	mu        sync.Mutex
}

// pickEdits picks up to n typical plots of the officer's province in dense farmland, spread
// over the province by a repeatable sample.
func pickEdits(ctx context.Context, db *postgres.DB, n int) ([]*edit, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT p.id, ST_AsBinary(p.geom), ST_AsBinary(ST_Scale(p.geom, ST_MakePoint(1.1, 1.1), ST_Centroid(p.geom)))
		FROM plot p TABLESAMPLE SYSTEM (2) REPEATABLE (13)
		WHERE p.deleted_at IS NULL AND p.province_code = $1 AND ST_NPoints(p.geom) >= 5
		  AND (SELECT count(*) FROM plot o WHERE o.deleted_at IS NULL AND o.geom && ST_Expand(p.geom, 0.0003) AND o.id <> p.id) >= 6
		LIMIT $2`, plotset.Provinces[0].Code, n*2)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*edit
	for rows.Next() {
		var e edit
		var g, grown []byte
		if err := rows.Scan(&e.id, &g, &grown); err != nil {
			return nil, err
		}
		if e.original, err = multiPolygon(g); err != nil {
			return nil, err
		}
		if e.grown, err = multiPolygon(grown); err != nil {
			return nil, err
		}
		e.nudged = nudge(e.original)
		out = append(out, &e)
	}
	return out, rows.Err()
}

func multiPolygon(b []byte) (orb.MultiPolygon, error) {
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	switch g := g.(type) {
	case orb.MultiPolygon:
		return g, nil
	case orb.Polygon:
		return orb.MultiPolygon{g}, nil
	}
	return nil, fmt.Errorf("a %s, not a polygon", g.GeoJSONType())
}

// nudge moves the second vertex of the plot's outer ring half a metre towards its centre.
func nudge(mp orb.MultiPolygon) orb.MultiPolygon {
	out := orb.Clone(mp).(orb.MultiPolygon)
	ring := out[0][0]
	c := ring.Bound().Center()
	v := ring[1]
	d := math.Hypot((c[0]-v[0])*math.Cos(v[1]*math.Pi/180)*111320, (c[1]-v[1])*110574)
	if d > 1 {
		ring[1] = orb.Point{v[0] + (c[0]-v[0])*0.5/d, v[1] + (c[1]-v[1])*0.5/d}
	}
	return out
}

// record runs each edit's requests (until it has want edits) through the registry's services in this process, as the
// server's handlers call them, and keeps the statements each runs. Edits whose pulled-out
// boundary blocks on no overlap, or whose nudged one is refused, are dropped: not the case
// measured. The saves are made for real (nudged, then back), so each plot ends as it was,
// two versions on.
func record(ctx context.Context, db *postgres.DB, rec *recorder, token string, edits []*edit, want int) ([]*edit, error) {
	plots := postgres.NewPlotService(db)
	auth := postgres.NewAuthService(db)
	// Every request is authenticated first, with its token: that is SQL the request runs too.
	start := func() error {
		rec.start()
		_, err := auth.TokenActor(ctx, token)
		return err
	}
	var kept []*edit
	for _, e := range edits {
		check := func(g orb.MultiPolygon) (*registry.PlotCheck, []stmt, error) {
			if err := start(); err != nil {
				return nil, nil, err
			}
			p, err := plots.FindPlotByID(ctx, e.id)
			if err != nil {
				return nil, nil, err
			}
			p.Geometry = g
			c, err := plots.CheckPlot(ctx, p, e.id)
			return c, rec.stop(), err
		}
		c, sql, err := check(e.grown)
		if err != nil {
			return nil, err
		}
		if !c.Blocked || c.Suggested == nil || !c.MayWrite {
			continue
		}
		e.sqlCheckGrown = sql
		if c, e.sqlCheckNudged, err = check(e.nudged); err != nil {
			return nil, err
		}
		if c.Blocked {
			continue
		}
		save := func(g orb.MultiPolygon) ([]stmt, int, error) {
			if err := start(); err != nil {
				return nil, 0, err
			}
			p, err := plots.FindPlotByID(ctx, e.id)
			if err != nil {
				return nil, 0, err
			}
			version := p.Version
			p.Geometry = g
			err = plots.UpdatePlot(ctx, p, version)
			return rec.stop(), p.Version, err
		}
		if e.sqlSaveNudged, _, err = save(e.nudged); err != nil {
			return nil, fmt.Errorf("saving plot %d nudged: %w", e.id, err)
		}
		if e.sqlSaveBack, e.version, err = save(e.original); err != nil {
			return nil, fmt.Errorf("saving plot %d back: %w", e.id, err)
		}
		e.checkGrown = featureBody(e.id, e.grown)
		e.checkNudged = featureBody(e.id, e.nudged)
		e.saveNudged = featureBody(0, e.nudged)
		e.saveBack = featureBody(0, e.original)
		kept = append(kept, e)
		if len(kept) == want {
			break
		}
	}
	return kept, nil
}

// featureBody is a plot Feature with only a geometry, and the id of the plot edited (0: none).
func featureBody(id int64, g orb.MultiPolygon) []byte {
	f := map[string]any{"type": "Feature", "geometry": map[string]any{"type": "MultiPolygon", "coordinates": g}}
	if id != 0 {
		f["id"] = id
	}
	b, _ := json.Marshal(f)
	return b
}

// stmt is one statement as a request ran it.
type stmt struct {
	sql  string
	args []any
}

// recorder is a pgx tracer that keeps the statements run between start and stop.
type recorder struct {
	mu    sync.Mutex
	on    bool
	stmts []stmt
}

func (r *recorder) start() {
	r.mu.Lock()
	r.on, r.stmts = true, nil
	r.mu.Unlock()
}

func (r *recorder) stop() []stmt {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.stmts
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	if r.on {
		r.stmts = append(r.stmts, stmt{sql: d.SQL, args: d.Args})
	}
	r.mu.Unlock()
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// replay runs a request's statements again on one connection, in order, reading every row;
// step, when set, is told how long each took.
func replay(ctx context.Context, conn *pgxpool.Conn, stmts []stmt, step func(i int, d time.Duration)) error {
	for i, s := range stmts {
		t0 := time.Now()
		var err error
		if len(s.args) == 0 {
			_, err = conn.Exec(ctx, s.sql) // as pgx runs a statement without arguments: simple protocol
		} else {
			var rows pgx.Rows
			if rows, err = conn.Query(ctx, s.sql, s.args...); err == nil {
				for rows.Next() {
				}
				rows.Close()
				err = rows.Err()
			}
		}
		if err != nil {
			_, _ = conn.Exec(context.WithoutCancel(ctx), "rollback")
			return fmt.Errorf("%s: %w", label(s.sql), err)
		}
		if step != nil {
			step(i, time.Since(t0))
		}
	}
	return nil
}

// label names a statement of the check or the save for the breakdown.
func label(sql string) string {
	s := strings.Join(strings.Fields(sql), " ")
	for _, l := range []struct{ has, name string }{
		{"ST_Difference", "suggested fix"},
		{"T********", "overlaps"},
		{"plot_snap(", "snap onto the neighbours"},
		{"ST_IsValidDetail", "validity and area"},
		{"FROM crop", "crop"},
		{"WITH pt AS", "placement"},
		{"FROM province WHERE scheme = 2025 AND code = $1", "unit names"},
		{"pg_advisory_xact_lock", "neighbourhood lock"},
		{"pg_notify", "tile invalidation (notify)"},
		{"INSERT INTO audit_log", "audit record"},
		{"UPDATE plot SET", "update"},
		{"FOR UPDATE", "lock the plot"},
		{"SELECT to_jsonb", "the plot as JSON"},
		{"ST_Area(ST_GeomFromWKB", "area"},
		{"FROM plot p LEFT JOIN producer", "read the plot"},
		{"UPDATE api_token", "authentication: the token"},
		{"FROM app_user", "authentication: the account"},
	} {
		if strings.Contains(s, l.has) {
			return l.name
		}
	}
	if f := strings.Fields(s); len(f) > 0 && (strings.EqualFold(f[0], "begin") || strings.EqualFold(f[0], "commit")) {
		return "begin, commit"
	}
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// refreshVersions reads where each edited plot stands (its version, and whether it is nudged)
// before the server saves it: the raw SQL's saves moved it on too.
func refreshVersions(ctx context.Context, pool *pgxpool.Pool, edits []*edit) error {
	ids := make([]int64, len(edits))
	for i, e := range edits {
		ids[i] = e.id
	}
	rows, err := pool.Query(ctx, `SELECT id, version, ST_AsBinary(geom) FROM plot WHERE id = ANY ($1)`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	byID := map[int64]*edit{}
	for _, e := range edits {
		byID[e.id] = e
	}
	for rows.Next() {
		var id int64
		var version int
		var g []byte
		if err := rows.Scan(&id, &version, &g); err != nil {
			return err
		}
		mp, err := multiPolygon(g)
		if err != nil {
			return err
		}
		e := byID[id]
		e.version, e.nudgedNow = version, !mp.Equal(e.original)
	}
	return rows.Err()
}

// operation is one kind of request measured: through the server, and as its raw SQL.
type operation struct {
	name string
	save bool
	// floor marks the request that does nothing but authenticate: what serving any request
	// over HTTP costs on this machine, beyond its SQL.
	floor    bool
	endpoint func(*server, []*edit) func(ctx context.Context, worker, i int) error
	raw      func(*pgxpool.Pool, []*edit) func(ctx context.Context, worker, i int) error
}

var operations = []operation{
	{name: "floor: an authenticated request that does nothing else (GET /api/v1/auth/session)", floor: true,
		endpoint: func(s *server, edits []*edit) func(context.Context, int, int) error {
			return func(ctx context.Context, _, i int) error {
				return s.post(ctx, "GET", "/api/v1/auth/session", nil, "", 200)
			}
		},
		raw: func(pool *pgxpool.Pool, edits []*edit) func(context.Context, int, int) error {
			// The token and the account, as every request; the account again, as the answer.
			return rawRequest(pool, func(i int) []stmt {
				a := edits[i].sqlCheckGrown
				return []stmt{a[0], a[1], a[1]}
			})
		}},
	{name: "check, over the neighbours (overlaps + suggested fix)",
		endpoint: func(s *server, edits []*edit) func(context.Context, int, int) error {
			return func(ctx context.Context, _, i int) error {
				return s.post(ctx, "POST", "/api/v1/plots/check", edits[i].checkGrown, "", 200)
			}
		},
		raw: func(pool *pgxpool.Pool, edits []*edit) func(context.Context, int, int) error {
			return rawRequest(pool, func(i int) []stmt { return edits[i].sqlCheckGrown })
		}},
	{name: "check, clean (no overlap to fix)",
		endpoint: func(s *server, edits []*edit) func(context.Context, int, int) error {
			return func(ctx context.Context, _, i int) error {
				return s.post(ctx, "POST", "/api/v1/plots/check", edits[i].checkNudged, "", 200)
			}
		},
		raw: func(pool *pgxpool.Pool, edits []*edit) func(context.Context, int, int) error {
			return rawRequest(pool, func(i int) []stmt { return edits[i].sqlCheckNudged })
		}},
	{name: "save (PATCH, new version, tile invalidation)", save: true,
		endpoint: func(s *server, edits []*edit) func(context.Context, int, int) error {
			return func(ctx context.Context, _, i int) error {
				e := edits[i]
				e.mu.Lock()
				defer e.mu.Unlock()
				body := e.saveNudged
				if e.nudgedNow {
					body = e.saveBack
				}
				if err := s.post(ctx, "PATCH", fmt.Sprintf("/api/v1/plots/%d", e.id), body, fmt.Sprintf(`"v%d"`, e.version), 200); err != nil {
					return err
				}
				e.version++
				e.nudgedNow = !e.nudgedNow
				return nil
			}
		},
		raw: func(pool *pgxpool.Pool, edits []*edit) func(context.Context, int, int) error {
			return rawRequest(pool, func(i int) []stmt {
				e := edits[i]
				e.mu.Lock()
				defer e.mu.Unlock()
				e.nudgedNow = !e.nudgedNow
				if e.nudgedNow {
					return e.sqlSaveNudged
				}
				return e.sqlSaveBack
			})
		}},
}

// rawRequest runs the statements of request i on a connection of the pool.
func rawRequest(pool *pgxpool.Pool, stmts func(i int) []stmt) func(context.Context, int, int) error {
	return func(ctx context.Context, _, i int) error {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		return replay(ctx, conn, stmts(i), nil)
	}
}

// sample is one measurement: requests done, errors, time, latencies.
type sample struct {
	n, errs   int
	elapsed   time.Duration
	latencies []time.Duration
}

func (s sample) rate() float64 {
	if s.elapsed == 0 {
		return 0
	}
	return float64(s.n) / s.elapsed.Seconds()
}

func (s sample) pct(p float64) time.Duration {
	if len(s.latencies) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(s.latencies)))) - 1
	return s.latencies[max(0, min(i, len(s.latencies)-1))]
}

// measure runs fn with c workers over the items until the duration or the request budget is
// spent. Worker w takes the items i with i % c == w, in turn, so that two workers never edit
// one plot at once (a save would wait for the other's lock, which is not what is measured).
func measure(o options, c, items int, fn func(ctx context.Context, worker, i int) error) sample {
	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()
	var done atomic.Int64
	var mu sync.Mutex
	var s sample
	var wg sync.WaitGroup
	start := time.Now()
	var firstErr error
	for w := range min(c, items) {
		var mine []int
		for i := w; i < items; i += c {
			mine = append(mine, i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := 0
			for k := 0; ; k++ {
				if int(done.Add(1)) > o.requests || ctx.Err() != nil {
					break
				}
				i := mine[k%len(mine)]
				t0 := time.Now()
				err := fn(ctx, w, i)
				if ctx.Err() != nil {
					break // cut off by the time limit: not a sample
				}
				if err != nil {
					errs++
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			s.latencies = append(s.latencies, lat...)
			s.errs += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	s.elapsed = time.Since(start)
	s.n = len(s.latencies)
	slices.Sort(s.latencies)
	if s.errs > 0 {
		log.Printf("  %d errors, the first: %v", s.errs, firstErr)
	}
	return s
}

// stepTimes replays the check over the neighbours at concurrency 1 and returns each
// statement's mean time, in the order the check runs them.
func stepTimes(ctx context.Context, pool *pgxpool.Pool, edits []*edit, o options) []step {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		log.Printf("step times: %v", err)
		return nil
	}
	defer conn.Release()
	var order []string
	sums := map[string]time.Duration{}
	counts := map[string]int{}
	deadline := time.Now().Add(o.duration)
	runs := 0
	for time.Now().Before(deadline) {
		e := edits[runs%len(edits)]
		seen := map[string]int{}
		err := replay(ctx, conn, e.sqlCheckGrown, func(i int, d time.Duration) {
			name := label(e.sqlCheckGrown[i].sql)
			if seen[name]++; seen[name] > 1 {
				name += fmt.Sprintf(" (%d)", seen[name])
			}
			if _, ok := sums[name]; !ok {
				order = append(order, name)
			}
			sums[name] += d
			counts[name]++
		})
		if err != nil {
			log.Printf("step times: %v", err)
			return nil
		}
		runs++
	}
	out := make([]step, len(order))
	for i, name := range order {
		out[i] = step{name: name, mean: sums[name] / time.Duration(counts[name]), share: float64(counts[name]) / float64(runs)}
	}
	return out
}

// step is one statement of the check, its mean time and how many checks run it.
type step struct {
	name  string
	mean  time.Duration
	share float64
}

// server is a vungtrong server process.
type server struct {
	cmd    *exec.Cmd
	base   string
	token  string
	client *http.Client
}

func startServer(ctx context.Context, binary, dbURL, token string, env []string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.CommandContext(ctx, binary, "serve")
	cmd.Env = append(os.Environ(), "VUNGTRONG_DATABASE_URL="+dbURL, "VUNGTRONG_HTTP_ADDR="+addr, "VUNGTRONG_LOG_LEVEL=warn",
		"VUNGTRONG_AUTH_ADMIN_PASSWORD=bench-admin-password")
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addr, token: token,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}}
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

// post sends a request with a JSON body as the officer and reads the whole answer, which must
// have the status want.
func (s *server) post(ctx context.Context, method, path string, body []byte, ifMatch string, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %s %s", method, path, res.Status, b)
	}
	return nil
}

// warmTiles fills the server's tile cache with the tiles around (up to 60 of) the edited plots
// at zooms 12 to 16, so that the saves have tiles to invalidate, as on a server people look at.
func (s *server) warmTiles(ctx context.Context, edits []*edit) error {
	seen := map[tiles.ID]bool{}
	for _, e := range edits[:min(len(edits), 60)] {
		c := e.original.Bound().Center()
		for z := 12; z <= 16; z++ {
			t := tiles.At(c, z)
			if seen[t] {
				continue
			}
			seen[t] = true
			req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/tiles/plots/%d/%d/%d.mvt", s.base, t.Z, t.X, t.Y), nil)
			res, err := s.client.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 && res.StatusCode != 204 {
				return errors.New("warming the tile cache: " + res.Status)
			}
		}
	}
	log.Printf("%d tiles cached around the edited plots", len(seen))
	return nil
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

// pair is one operation at one concurrency: through the server, and as raw SQL.
type pair struct {
	server, raw sample
}

type results struct {
	o     options
	n     int
	edits int
	rows  map[string]map[int]*pair
	steps []step
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

// print writes the tables and checks the targets.
// perRequest is the time a measurement spent on each request: the inverse of its throughput
// (at concurrency c, c requests share it).
func perRequest(s sample) time.Duration {
	if s.rate() <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / s.rate())
}

func (r *results) print(w io.Writer) {
	fmt.Fprintf(w, "\n## Plot editing on %d plots: %d typical plots in dense farmland\n\n", r.n, r.edits)
	fmt.Fprintf(w, "Each figure is the better of two turns of at most %s or %d requests; requests a second, latencies in ms.\n", r.o.duration, r.o.requests)
	fmt.Fprintf(w, "\"raw SQL\" is the same statements as the request, recorded from the registry's services and run again from pgx, on one connection each, without the server.\n\n")
	fmt.Fprintf(w, "| request | c | server req/s | server p50 | server p99 | raw SQL req/s | raw p50 | raw p99 | server / raw |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, op := range operations {
		for _, c := range r.o.concurrency {
			p := r.rows[op.name][c]
			fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %.0f | %s | %s | %.2f |\n", op.name, c,
				p.server.rate(), ms(p.server.pct(0.5)), ms(p.server.pct(0.99)), p.raw.rate(), ms(p.raw.pct(0.5)), ms(p.raw.pct(0.99)),
				p.server.rate()/math.Max(p.raw.rate(), 1e-9))
		}
	}
	var overlaps, fix time.Duration
	if len(r.steps) > 0 {
		fmt.Fprintf(w, "\nThe check over the neighbours, statement by statement (raw SQL, c1):\n\n| statement | mean ms | in checks |\n|---|---:|---:|\n")
		var total time.Duration
		for _, s := range r.steps {
			fmt.Fprintf(w, "| %s | %s | %.0f%% |\n", s.name, ms(s.mean), 100*s.share)
			total += time.Duration(float64(s.mean) * s.share)
			switch s.name {
			case "overlaps":
				overlaps = s.mean
			case "suggested fix":
				fix = s.mean
			}
		}
		fmt.Fprintf(w, "| all | %s | |\n", ms(total))
	}
	fmt.Fprintf(w, "\nTargets:\n\n")
	check := func(ok bool, format string, args ...any) {
		mark := "PASS"
		if !ok {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "- %s %s\n", mark, fmt.Sprintf(format, args...))
	}
	var floor map[int]*pair
	for _, op := range operations {
		if op.floor {
			floor = r.rows[op.name]
		}
	}
	for _, op := range operations {
		if op.floor {
			continue
		}
		for _, c := range r.o.concurrency {
			p := r.rows[op.name][c]
			q := p.server.rate() / math.Max(p.raw.rate(), 1e-9)
			check(q >= 0.8, "%s, c%d: the server does %.2f x the raw SQL's throughput (want >= 0.8)", op.name, c, q)
		}
	}
	if floor != nil {
		// What any server must add to the raw SQL: an HTTP request in and out, authenticated.
		// The floor of a request is its raw SQL plus that; our ratio to it is what is ours.
		fmt.Fprintf(w, "\nThe floor: serving a request over HTTP (loopback, authenticated, JSON answer) adds, per request at c%d, %s ms to its SQL on this machine (the floor row above). With it:\n\n", r.o.concurrency[0], ms(perRequest(floor[r.o.concurrency[0]].server)-perRequest(floor[r.o.concurrency[0]].raw)))
		fmt.Fprintf(w, "| request | c | raw SQL ms/req | + HTTP floor ms/req | = floor req/s | server req/s | server / floor |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, op := range operations {
			if op.floor {
				continue
			}
			for _, c := range r.o.concurrency {
				p, f := r.rows[op.name][c], floor[c]
				extra := max(perRequest(f.server)-perRequest(f.raw), 0)
				floorRate := float64(time.Second) / float64(perRequest(p.raw)+extra)
				fmt.Fprintf(w, "| %s | %d | %s | %s | %.0f | %.0f | %.2f |\n", op.name, c, ms(perRequest(p.raw)), ms(extra), floorRate, p.server.rate(), p.server.rate()/floorRate)
			}
		}
	}
	if overlaps > 0 {
		check(fix <= overlaps, "the suggested fix takes %s ms, the overlap query %s ms (want the fix no more than the overlaps)", ms(fix), ms(overlaps))
	}
}

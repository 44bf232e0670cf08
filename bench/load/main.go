// Command load drives the vungtrong server with a mixed, open-loop load from loopback, the way
// a season's traffic reaches it: exporters and customs officers checking growing-area codes,
// people opening plot pages, maps asking for vector tiles, and officers editing plots. It
// measures the latency of each kind of request from the time the request was due, not from the
// time it could be sent, so that a server that stalls cannot hide the stall by slowing the
// client down (coordinated omission).
//
// It starts a private PostgreSQL cluster, loads the Đắk Lắk demo data with the binary's own
// commands, and runs four phases, each with fresh server processes on the same database:
//
//   - one server;
//   - two servers, the load split between them;
//   - "database restart": the same load on two servers while the PostgreSQL cluster is
//     stopped (pg_ctl stop -m fast) for a few seconds in the middle and started again. It
//     reports whether any request outlived the server's request deadline, how the servers
//     answered while the database was away (503 with Retry-After, cached tiles still served),
//     and how long after the database's return the throughput was back to normal;
//   - "page": the public code page a QR code opens (GET /v/{code}) against the JSON lookup
//     (GET /api/v1/codes/{code}), each alone at the code rate on one server, in alternating
//     rounds; the target is the page's p99 within 1.5x the JSON's.
//
// It prints markdown tables (count, errors, p50/p90/p99/max latency and achieved rate per kind
// of request and phase), the per-second success, 503 and error counts across the outage, and
// the figures against their targets: p99 of a code lookup within 10 ms, throughput back within
// 5 s of the database's return.
//
//	go run ./bench/load                              # builds the server from this tree
//	go build -o /tmp/vungtrong ./cmd/vungtrong && go run ./bench/load -binary /tmp/vungtrong
//	go run ./bench/load -duration 3s -restart-duration 12s -outage-at 4s -outage 3s   # a quick look
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/pgcluster"
)

// options are the command's flags.
type options struct {
	binary          string
	dir             string
	demo            string
	duration        time.Duration
	warmup          time.Duration
	restartDuration time.Duration
	outageAt        time.Duration
	outage          time.Duration
	restartServers  int
	codeRate        float64
	plotRate        float64
	tileRate        float64
	coldShare       float64
	editRate        float64
	requestTimeout  time.Duration
	clientTimeout   time.Duration
	codeTarget      time.Duration
	recoveryTarget  time.Duration
	fast503         time.Duration
	recordsFile     string
	skip            map[string]bool
	serverEnv       []string
}

// The phases, by the names -skip takes.
const (
	phaseOne     = "one"
	phaseTwo     = "two"
	phaseRestart = "restart"
)

func main() {
	var o options
	var skip string
	flag.StringVar(&o.binary, "binary", "", "the vungtrong binary to run as the server (default: build ./cmd/vungtrong from this tree into -dir)")
	flag.StringVar(&o.dir, "dir", filepath.Join(os.TempDir(), "vungtrong-bench-load"), "where the private cluster, the built binary and the server logs live (kept between runs)")
	flag.StringVar(&o.demo, "demo", "data-samples/dak-lak", "folder of the demo dataset")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long the one-server and two-server phases are measured")
	flag.DurationVar(&o.warmup, "warmup", 10*time.Second, "load sent to the fresh servers of each phase before it is measured (reported apart)")
	flag.DurationVar(&o.restartDuration, "restart-duration", 30*time.Second, "how long the database-restart phase is measured")
	flag.DurationVar(&o.outageAt, "outage-at", 10*time.Second, "when, into the database-restart phase, the database is stopped")
	flag.DurationVar(&o.outage, "outage", 5*time.Second, "how long the database stays stopped")
	flag.IntVar(&o.restartServers, "restart-servers", 2, "servers in the database-restart phase (1 or 2)")
	flag.Float64Var(&o.codeRate, "code-rate", 500, "code lookups a second (GET /api/v1/codes/{code})")
	flag.Float64Var(&o.plotRate, "plot-rate", 50, "plot pages a second (GET /api/v1/plots/{id})")
	flag.Float64Var(&o.tileRate, "tile-rate", 100, "tiles a second (GET /tiles/plots/{z}/{x}/{y}.mvt, z12-16)")
	flag.Float64Var(&o.coldShare, "cold-share", 0.2, "share of the tiles that the server has not rendered yet")
	flag.Float64Var(&o.editRate, "edit-rate", 2, "plot edits a second (GET, then PATCH with If-Match)")
	flag.DurationVar(&o.requestTimeout, "request-timeout", 2*time.Second, "the servers' http.request_timeout")
	flag.DurationVar(&o.clientTimeout, "client-timeout", 10*time.Second, "how long this client waits for an answer before it counts the request as hung")
	flag.DurationVar(&o.codeTarget, "code-target", 10*time.Millisecond, "target for the p99 of a code lookup")
	flag.DurationVar(&o.recoveryTarget, "recovery-target", 5*time.Second, "target for the time from the database's return to normal throughput")
	flag.DurationVar(&o.fast503, "fast-503", 100*time.Millisecond, "the p99 under which a 503 during the outage counts as quick")
	flag.StringVar(&o.recordsFile, "records", "", "also write every measured request to this CSV file (phase, kind, server, due and latency in ms, status, error)")
	flag.StringVar(&skip, "skip", "", "phases to leave out, comma-separated: one, two, restart, page")
	flag.Func("server-env", "an extra NAME=value in the servers' environment (repeatable), e.g. VUNGTRONG_DATABASE_STATEMENT_TIMEOUT=1s", func(v string) error {
		if !strings.Contains(v, "=") {
			return fmt.Errorf("want NAME=value")
		}
		o.serverEnv = append(o.serverEnv, v)
		return nil
	})
	flag.Parse()
	o.skip = map[string]bool{}
	for _, s := range strings.Split(skip, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if s != phaseOne && s != phaseTwo && s != phaseRestart && s != phasePage {
				log.Fatalf("-skip: no phase %q (the phases are one, two, restart, page)", s)
			}
			o.skip[s] = true
		}
	}
	if o.restartServers < 1 || o.restartServers > 2 {
		log.Fatalf("-restart-servers: want 1 or 2")
	}
	if o.outageAt+o.outage >= o.restartDuration {
		log.Fatalf("-outage-at + -outage (%s) must end before -restart-duration (%s), so that the recovery can be seen", o.outageAt+o.outage, o.restartDuration)
	}
	// This process only sends requests and waits: one P is plenty, and it leaves the other
	// core to PostgreSQL and the servers, which share the machine (as bench/tiles does).
	runtime.GOMAXPROCS(1)
	// Ctrl-C (or a TERM) cancels the run; run's deferred calls then stop the servers and the
	// cluster before the process exits.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	cancel()
	if err != nil {
		log.Printf("bench/load: %v", err)
		os.Exit(1)
	}
}

// run sets everything up, runs the phases and prints the report.
func run(ctx context.Context, o options) error {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	if o.binary == "" {
		o.binary = filepath.Join(o.dir, "vungtrong")
		log.Printf("building ./cmd/vungtrong into %s", o.binary)
		build := exec.CommandContext(ctx, "go", "build", "-o", o.binary, "./cmd/vungtrong")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/vungtrong (run from the repository root, or pass -binary): %v\n%s", err, out)
		}
	}
	if _, err := os.Stat(o.binary); err != nil {
		return fmt.Errorf("%s: %w (pass -binary)", o.binary, err)
	}

	cluster, stopCluster, err := pgcluster.StartThrowaway(ctx, filepath.Join(o.dir, "pg"))
	if err != nil {
		return err
	}
	defer stopCluster()
	// A fresh database each run: every run starts from the same demo data.
	if err := freshDatabase(ctx, cluster, "bench"); err != nil {
		return err
	}
	dbURL := cluster.URL("bench")
	log.Printf("migrating and loading the demo data from %s", o.demo)
	if _, err := command(ctx, o, dbURL, "migrate", "up"); err != nil {
		return err
	}
	if _, err := command(ctx, o, dbURL, "demo", "load", "--dir", o.demo); err != nil {
		return err
	}
	// The first server start creates the admin account (with auth.admin_password), which the
	// edits' token acts for.
	first, err := startServer(ctx, o, dbURL, "setup")
	if err != nil {
		return err
	}
	defer first.stop()
	out, err := command(ctx, o, dbURL, "token", "create", "bench-load", "--user", "admin")
	if err != nil {
		return err
	}
	token := strings.TrimSpace(out)
	w, err := readWorkload(ctx, dbURL, o, token, first)
	if err != nil {
		return err
	}
	first.stop()
	log.Printf("workload: %d plots, %d code spellings, %d cached and %d uncached tiles", len(w.plots), len(w.codes), len(w.hot), len(w.cold))

	var results []*phaseResult
	for _, p := range []struct {
		name    string
		servers int
		restart bool
	}{{phaseOne, 1, false}, {phaseTwo, 2, false}, {phaseRestart, o.restartServers, true}} {
		if o.skip[p.name] {
			continue
		}
		r, err := runPhase(ctx, o, w, cluster, dbURL, p.name, p.servers, p.restart)
		if err != nil {
			return fmt.Errorf("phase %q: %w", p.name, err)
		}
		results = append(results, r)
	}
	var page *phaseResult
	pageSize := 0
	if !o.skip[phasePage] {
		if page, pageSize, err = runPagePhase(ctx, o, w, cluster, dbURL); err != nil {
			return fmt.Errorf("phase %q: %w", phasePage, err)
		}
	}
	report(os.Stdout, o, w, results, page, pageSize)
	if o.recordsFile != "" {
		return writeRecords(o.recordsFile, results)
	}
	return nil
}

// runPhase starts n fresh servers, warms their tile caches, sends the load for the phase's
// duration (stopping and starting the database in the middle when restart is set) and stops
// the servers again.
func runPhase(ctx context.Context, o options, w *workload, cluster *pgcluster.Cluster, dbURL, name string, n int, restart bool) (*phaseResult, error) {
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for i := range n {
		s, err := startServer(ctx, o, dbURL, fmt.Sprintf("%s-%d", name, i+1))
		if err != nil {
			return nil, err
		}
		servers = append(servers, s)
	}
	for _, s := range servers {
		if err := w.warm(ctx, s); err != nil {
			return nil, err
		}
	}
	d := o.duration
	var outage *outageTimes
	if restart {
		d = o.restartDuration
		outage = &outageTimes{}
	}
	// Alongside the measured load: a sample of every second, and the restart.
	var sampled samples
	during := func(ctx context.Context, start time.Time) error {
		done := make(chan samples)
		go func() { done <- sample(ctx, dbURL, cluster.DataDir(), servers, start, d) }()
		var err error
		if restart {
			err = restartDatabase(ctx, o, cluster, start, outage)
		}
		sampled = <-done
		return err
	}
	log.Printf("phase %q: %d server(s), %s of warm-up, %s measured", name, n, o.warmup, d)
	records, warm, err := generate(ctx, o, w.kinds(o), servers, d, during)
	if err != nil {
		return nil, err
	}
	for _, s := range servers {
		if s.exited() {
			return nil, fmt.Errorf("server %s exited during the phase: see %s", s.name, s.logPath)
		}
	}
	r := &phaseResult{name: name, servers: n, duration: d, kinds: w.kinds(o), records: records, warm: warm, samples: sampled, outage: outage}
	for _, s := range servers {
		r.logs = append(r.logs, s.logPath)
	}
	return r, nil
}

// outageTimes are the moments of the database restart, from the start of the measured load.
type outageTimes struct {
	stopCalled, stopped, startCalled, up time.Duration
}

// restartDatabase stops the cluster o.outageAt into the measured load, waits o.outage and
// starts it again, noting when each step began and ended.
func restartDatabase(ctx context.Context, o options, cluster *pgcluster.Cluster, start time.Time, t *outageTimes) error {
	select {
	case <-time.After(time.Until(start.Add(o.outageAt))):
	case <-ctx.Done():
		return ctx.Err()
	}
	t.stopCalled = time.Since(start)
	log.Printf("stopping the database (pg_ctl stop -m fast)")
	if err := cluster.Stop(ctx); err != nil {
		return err
	}
	t.stopped = time.Since(start)
	select {
	case <-time.After(o.outage):
	case <-ctx.Done():
		return ctx.Err()
	}
	t.startCalled = time.Since(start)
	log.Printf("starting the database again")
	if _, err := cluster.Start(ctx); err != nil {
		return err
	}
	t.up = time.Since(start)
	return nil
}

// freshDatabase drops and creates the named database.
func freshDatabase(ctx context.Context, c *pgcluster.Cluster, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// command runs one of the binary's commands on the database and returns what it printed on
// its standard output.
func command(ctx context.Context, o options, dbURL string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, o.binary, args...)
	cmd.Env = append(os.Environ(), "VUNGTRONG_DATABASE_URL="+dbURL, "VUNGTRONG_LOG_LEVEL=warn")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("vungtrong %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

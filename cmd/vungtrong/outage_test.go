package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vungtrong/vungtrong/pgcluster"
	"github.com/vungtrong/vungtrong/tiles"
)

// ownCluster starts a throwaway PostgreSQL cluster for one test, which the test may stop,
// freeze and restart without disturbing the others; it is removed when the test ends.
func ownCluster(t *testing.T) (*pgcluster.Cluster, string) {
	t.Helper()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "vungtrong-outage-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	c, err := pgcluster.New(pgcluster.Options{Dir: filepath.Join(dir, "pg"), Throwaway: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		signalCluster(c, syscall.SIGCONT)
		_ = c.Remove(context.Background())
		os.RemoveAll(dir)
	})
	if err := c.EnsureDatabase(ctx, "vungtrong"); err != nil {
		t.Fatal(err)
	}
	return c, c.URL("vungtrong")
}

// signalCluster sends sig to the cluster's server and every process it started: SIGSTOP makes
// a database that hangs (it accepts connections and never answers), SIGCONT wakes it.
func signalCluster(c *pgcluster.Cluster, sig syscall.Signal) {
	b, err := os.ReadFile(filepath.Join(c.DataDir(), "postmaster.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		return
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// The parent pid is the second field after the command's closing parenthesis.
		fields := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			if child, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
				syscall.Kill(child, sig)
			}
		}
	}
	syscall.Kill(pid, sig)
}

// When the database stops, the API and uncached tiles answer 503 with Retry-After within a
// second while cached tiles still answer; when it hangs, requests answer 503 at the request
// deadline; when it is back, the server serves again without a restart, and the outage is
// logged once, not once per request.
func TestDatabaseOutages(t *testing.T) {
	cluster, url := ownCluster(t)
	a := startApp(t, func(c *Config) {
		c.Database.URL = url
		c.HTTP.RequestTimeout = 2 * time.Second
		c.Database.MaxConns = 6 // 4 API requests at once
		c.HTTP.BusyWait = 100 * time.Millisecond
	})
	a.loadDemo()
	var lon, lat float64
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT ST_X(c), ST_Y(c) FROM plot, LATERAL ST_PointOnSurface(geom) c ORDER BY id LIMIT 1`).Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	at := func(z int) tiles.ID {
		n := math.Exp2(float64(z))
		y := (1 - math.Log(math.Tan(lat*math.Pi/180)+1/math.Cos(lat*math.Pi/180))/math.Pi) / 2
		return tiles.ID{Z: z, X: int((lon + 180) / 360 * n), Y: int(y * n)}
	}
	path := func(id tiles.ID) string { return fmt.Sprintf("/tiles/plots/%d/%d/%d.mvt", id.Z, id.X, id.Y) }
	cached := at(14)
	if _, res := a.tile("plots", cached); res.status != 200 {
		t.Fatalf("a demo tile before the outage: %d", res.status)
	}
	ok := func(what string) {
		t.Helper()
		if res := a.do("GET", "/api/v1/plots?limit=1", ""); res.status != 200 {
			t.Fatalf("%s: %d %s", what, res.status, res.body)
		}
	}
	ok("before the outage")
	timed := func(method, path string, headers ...string) (response, time.Duration) {
		start := time.Now()
		res := a.do(method, path, "", headers...)
		return res, time.Since(start)
	}
	check503 := func(what string, within time.Duration, uncached tiles.ID) {
		t.Helper()
		for _, path := range []string{"/api/v1/plots?limit=1", "/api/v1/codes/VN-DLOR-0321", path(uncached), "/readyz"} {
			res, took := timed("GET", path)
			if res.status != 503 || res.header.Get("Retry-After") == "" || took > within {
				t.Errorf("%s: %s answered %d (Retry-After %q) in %v, want 503 with Retry-After within %v", what, path, res.status, res.header.Get("Retry-After"), took, within)
			}
		}
		// A signed-in caller too: the session lookup needs the database.
		if res, took := timed("GET", "/api/v1/tokens", a.auth()...); res.status != 503 || took > within {
			t.Errorf("%s: a signed-in request answered %d in %v", what, res.status, took)
		}
		if res, took := timed("GET", path(cached)); res.status != 200 || took > within {
			t.Errorf("%s: a cached tile answered %d in %v, want 200", what, res.status, took)
		}
	}
	back := func(what string, uncached tiles.ID) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			res := a.do("GET", "/api/v1/plots?limit=1", "")
			if res.status == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: still %d 15 s after the database came back", what, res.status)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if _, res := a.tile("plots", uncached); res.status != 200 && res.status != 204 {
			t.Errorf("%s: an uncached tile answers %d", what, res.status)
		}
	}

	// Stopped.
	if err := cluster.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	check503("database stopped", time.Second, at(13))
	check503("database stopped, again", time.Second, at(13))
	if _, err := cluster.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	back("after the restart", at(13))

	// Hung: it takes connections and answers nothing.
	signalCluster(cluster, syscall.SIGSTOP)
	check503("database hung", 2*time.Second+500*time.Millisecond, at(12))
	// Meanwhile the requests past the 4 the database's connections can hold are not queued until
	// their deadline: they are told at once that the server is busy.
	type answer struct {
		status int
		took   time.Duration
	}
	answers := make(chan answer, 12)
	for i := range 12 {
		go func() {
			res, took := timed("GET", fmt.Sprintf("/api/v1/codes/VN-DLOR-%04d", i))
			answers <- answer{res.status, took}
		}()
	}
	quick := 0
	for range 12 {
		a := <-answers
		if a.status != 503 {
			t.Errorf("a request while the database hangs answered %d", a.status)
		}
		if a.took < 600*time.Millisecond {
			quick++
		}
	}
	if quick < 8 {
		t.Errorf("%d of 12 requests answered at once while 4 held the database's connections, want at least 8", quick)
	}
	signalCluster(cluster, syscall.SIGCONT)
	back("after the hang", at(12))

	// The end of an outage is logged once the database has answered for two seconds.
	for deadline := time.Now().Add(5 * time.Second); strings.Count(a.logs.String(), "database available again") < 2 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	logs := a.logs.String()
	if n := strings.Count(logs, "database unavailable"); n < 1 || n > 3 {
		t.Errorf("the outages were logged %d times, want once each (2)", n)
	}
	if strings.Count(logs, "database available again") < 1 {
		t.Error("the end of the outages was not logged")
	}
	if strings.Contains(logs, `msg="internal error"`) {
		t.Errorf("an outage was logged as an internal error:\n%s", logs)
	}
}

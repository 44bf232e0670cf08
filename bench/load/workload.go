package main

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/tiles"
)

// workload is what the requests ask for, read from the loaded demo data.
type workload struct {
	codes []string // every code of the registry, each in several spellings
	plots []int64  // every plot, in a shuffled order
	hot   []tiles.ID
	cold  []tiles.ID
	token string // the admin's API token, for the edits

	mu    sync.Mutex
	etags map[tiles.ID]string // of the hot tiles, learnt when warming a server

	coldWrapped atomic.Bool // the cold list ran out and started over (those tiles were cached)
}

// Zooms of the plots layer.
const minZoom, maxZoom = 12, 16

// readWorkload reads the codes, the plots and their tiles from the database, and checks every
// code spelling on the server s: spellings the server does not find are left out, and said.
func readWorkload(ctx context.Context, dbURL string, o options, token string, s *server) (*workload, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	w := &workload{token: token, etags: map[tiles.ID]string{}}

	rows, err := conn.Query(ctx, `SELECT code FROM market_code ORDER BY id`)
	if err != nil {
		return nil, err
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, c := range codes {
		for _, spelling := range spellings(c) {
			status, err := getStatus(ctx, s.base+"/api/v1/codes/"+url.PathEscape(spelling))
			if err != nil {
				return nil, err
			}
			if status != http.StatusOK {
				log.Printf("code %q spelled %q: the server answers %d; left out of the load", c, spelling, status)
				continue
			}
			w.codes = append(w.codes, spelling)
		}
	}
	if len(w.codes) == 0 {
		return nil, fmt.Errorf("no code of the demo data is found by the server")
	}

	rows, err = conn.Query(ctx, `
		SELECT id, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)
		FROM plot WHERE deleted_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, err
	}
	type plotBound struct {
		id    int64
		bound orb.Bound
	}
	plots, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (plotBound, error) {
		var p plotBound
		err := r.Scan(&p.id, &p.bound.Min[0], &p.bound.Min[1], &p.bound.Max[0], &p.bound.Max[1])
		return p, err
	})
	if err != nil {
		return nil, err
	}
	if len(plots) == 0 {
		return nil, fmt.Errorf("the database holds no plots: was the demo data loaded?")
	}
	rng := rand.New(rand.NewPCG(7, 7))
	extent := plots[0].bound
	for _, p := range plots {
		w.plots = append(w.plots, p.id)
		extent = extent.Union(p.bound)
	}
	rng.Shuffle(len(w.plots), func(i, j int) { w.plots[i], w.plots[j] = w.plots[j], w.plots[i] })

	// The tiles over the plots: all of them at z12-14, and every other one at z15-16, are the
	// cached tiles (warmed on every server before a phase); the rest at z15-16 are the first
	// uncached ones, followed by the empty tiles of z14-16 in the demo's extent. An uncached
	// tile is asked for once per server process, so it is rendered by the database each time.
	over := map[tiles.ID]bool{}
	for _, p := range plots {
		for z := minZoom; z <= maxZoom; z++ {
			eachTile(tiles.Covering(p.bound, z, 0), func(t tiles.ID) { over[t] = true })
		}
	}
	var busy []tiles.ID
	for t := range over {
		busy = append(busy, t)
	}
	slices.SortFunc(busy, func(a, b tiles.ID) int {
		return cmpInts(a.Z, b.Z, a.X, b.X, a.Y, b.Y)
	})
	var coldBusy []tiles.ID
	for i, t := range busy {
		if t.Z <= 14 || i%2 == 0 {
			w.hot = append(w.hot, t)
		} else {
			coldBusy = append(coldBusy, t)
		}
	}
	var empty []tiles.ID
	for z := 14; z <= maxZoom; z++ {
		eachTile(tiles.Covering(extent, z, 0), func(t tiles.ID) {
			if !over[t] {
				empty = append(empty, t)
			}
		})
	}
	rng.Shuffle(len(w.hot), func(i, j int) { w.hot[i], w.hot[j] = w.hot[j], w.hot[i] })
	rng.Shuffle(len(coldBusy), func(i, j int) { coldBusy[i], coldBusy[j] = coldBusy[j], coldBusy[i] })
	rng.Shuffle(len(empty), func(i, j int) { empty[i], empty[j] = empty[j], empty[i] })
	w.cold = append(coldBusy, empty...)
	return w, nil
}

// spellings are the ways people type a code: as issued, without separators in lower case,
// in lower case, and with spaces for the dashes.
func spellings(code string) []string {
	out := []string{code}
	for _, s := range []string{
		strings.ToLower(nonAlnum.ReplaceAllString(code, "")),
		strings.ToLower(code),
		strings.ReplaceAll(code, "-", " "),
	} {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

var nonAlnum = regexp.MustCompile(`[^A-Za-z0-9]`)

func eachTile(r tiles.Range, fn func(tiles.ID)) {
	for x := r.MinX; x <= r.MaxX; x++ {
		for y := r.MinY; y <= r.MaxY; y++ {
			fn(tiles.ID{Z: r.Z, X: x, Y: y})
		}
	}
}

// cmpInts compares pairs of numbers in turn: the first pair that differs decides.
func cmpInts(pairs ...int) int {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] != pairs[i+1] {
			return pairs[i] - pairs[i+1]
		}
	}
	return 0
}

func tilePath(t tiles.ID) string {
	return fmt.Sprintf("/tiles/plots/%d/%d/%d.mvt", t.Z, t.X, t.Y)
}

// warm asks server s for every cached tile once, four at a time, and keeps their ETags.
func (w *workload) warm(ctx context.Context, s *server) error {
	next := make(chan tiles.ID)
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range next {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+tilePath(t), nil)
				req.Header.Set("Accept-Encoding", "gzip")
				a, h := do(req)
				if !a.ok() {
					errs <- fmt.Errorf("warming tile %s on %s: %s", t, s.name, a)
					return
				}
				w.mu.Lock()
				w.etags[t] = h.Get("ETag")
				w.mu.Unlock()
			}
		}()
	}
	var err error
feed:
	for _, t := range w.hot {
		select {
		case next <- t:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

// kinds are the request kinds of the mix, at the rates of o.
func (w *workload) kinds(o options) []kind {
	return []kind{
		{name: kindCode, api: true, rate: o.codeRate, send: func(ctx context.Context, s *server, i int) answer {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/v1/codes/"+url.PathEscape(w.codes[i%len(w.codes)]), nil)
			a, _ := do(req)
			return a
		}},
		{name: kindPlot, api: true, rate: o.plotRate, send: func(ctx context.Context, s *server, i int) answer {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/v1/plots/"+strconv.FormatInt(w.plots[i%len(w.plots)], 10), nil)
			a, _ := do(req)
			return a
		}},
		{name: kindTileHot, rate: o.tileRate * (1 - o.coldShare), send: func(ctx context.Context, s *server, i int) answer {
			t := w.hot[i%len(w.hot)]
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+tilePath(t), nil)
			req.Header.Set("Accept-Encoding", "gzip")
			// Every other request revalidates, as a browser does with tiles.max_age 0.
			if i%2 == 1 {
				w.mu.Lock()
				if etag := w.etags[t]; etag != "" {
					req.Header.Set("If-None-Match", etag)
				}
				w.mu.Unlock()
			}
			a, _ := do(req)
			return a
		}},
		{name: kindTileCold, rate: o.tileRate * o.coldShare, send: func(ctx context.Context, s *server, i int) answer {
			if i >= len(w.cold) {
				w.coldWrapped.Store(true)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+tilePath(w.cold[i%len(w.cold)]), nil)
			req.Header.Set("Accept-Encoding", "gzip")
			a, _ := do(req)
			return a
		}},
		{name: kindEdit, api: true, rate: o.editRate, send: func(ctx context.Context, s *server, i int) answer {
			return w.edit(ctx, s, i)
		}},
	}
}

// varieties are what the edits set, in turn.
var varieties = []string{"TR4", "TR9", "TRS1", "Ri6", "Monthong", "Dona"}

// edit reads a plot's ETag and changes its variety with If-Match, as the admin. Its answer is
// that of the first step that fails, or of the PATCH.
func (w *workload) edit(ctx context.Context, s *server, i int) answer {
	path := s.base + "/api/v1/plots/" + strconv.FormatInt(w.plots[i%len(w.plots)], 10)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+w.token)
	a, h := do(req)
	if !a.ok() {
		return a
	}
	body := fmt.Sprintf(`{"type":"Feature","properties":{"variety":%q}}`, varieties[i%len(varieties)])
	req, _ = http.NewRequestWithContext(ctx, http.MethodPatch, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+w.token)
	req.Header.Set("Content-Type", "application/merge-patch+json")
	req.Header.Set("If-Match", h.Get("ETag"))
	a, _ = do(req)
	return a
}

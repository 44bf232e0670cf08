package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// The kinds of request in the mix.
const (
	kindCode     = "code lookup"
	kindPlot     = "plot page"
	kindTileHot  = "tile, cached"
	kindTileCold = "tile, uncached"
	kindEdit     = "plot edit"
)

// kind is one kind of request, sent at a constant rate across the servers.
type kind struct {
	name string
	api  bool    // an API request, which needs the database (tiles may come from the cache)
	rate float64 // requests a second
	// send sends the kind's i-th request to s.
	send func(ctx context.Context, s *server, i int) answer
}

// answer is how a request ended: a status, or a transport error (status 0).
type answer struct {
	status     int
	retryAfter bool // a Retry-After header came with it
	err        error
}

// ok reports whether the request succeeded: 2xx, or 304 for a revalidated tile.
func (a answer) ok() bool {
	return a.err == nil && (a.status/100 == 2 || a.status == http.StatusNotModified)
}

func (a answer) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("status %d", a.status)
}

// client sends every request. It keeps connections alive and open as many as the load needs
// (an open-loop load does not wait for a free connection), and leaves the bodies as the
// server sent them: tile requests ask for gzip themselves.
var client = &http.Client{Transport: &http.Transport{
	MaxIdleConns:        2048,
	MaxIdleConnsPerHost: 1024,
	IdleConnTimeout:     time.Minute,
	DisableCompression:  true,
}}

// do sends req and reads the whole answer.
func do(req *http.Request) (answer, http.Header) {
	res, err := client.Do(req)
	if err != nil {
		return answer{err: transportError(req.Context(), err)}, nil
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	a := answer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After") != ""}
	if err != nil {
		a = answer{err: transportError(req.Context(), err)}
	}
	return a, res.Header
}

// errHung is a request that had no answer within -client-timeout.
var errHung = errors.New("no answer within the client's timeout")

// transportError names what went wrong, without the method and address that *url.Error adds.
func transportError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errHung
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// getStatus returns the status of GET url.
func getStatus(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	a, _ := do(req)
	return a.status, a.err
}

// record is one request of a phase. Times are from the start of the measured load (those of
// the warm-up are negative).
type record struct {
	kind   int // index in the phase's kinds
	server int
	due    time.Duration // when the request was scheduled
	done   time.Duration // when its answer had been read (or it failed)
	answer
}

// latency is the request's latency from the time it was due.
func (r record) latency() time.Duration { return r.done - r.due }

// generate sends every kind's requests at its rate, open loop, to the servers in turn: for
// o.warmup, then for the measured d. Each request is sent on its own goroutine at its due
// time, whatever the requests before it are doing, and its latency runs from that due time,
// so that a stalled server shows as latency instead of a quieter client. during, when set,
// runs alongside the measured load from its start. generate returns when every request has
// ended, with the measured requests and those of the warm-up apart.
func generate(ctx context.Context, o options, kinds []kind, servers []*server, d time.Duration, during func(context.Context, time.Time) error) (records, warm []record, err error) {
	begin := time.Now()
	start := begin.Add(o.warmup)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for k, kd := range kinds {
		if kd.rate <= 0 {
			continue
		}
		interval := time.Duration(float64(time.Second) / kd.rate)
		wg.Add(1)
		go func() {
			defer wg.Done()
			timer := time.NewTimer(0)
			defer timer.Stop()
			<-timer.C
			for i := 0; ; i++ {
				due := begin.Add(time.Duration(i) * interval)
				if due.Sub(start) >= d {
					return
				}
				if wait := time.Until(due); wait > 0 {
					timer.Reset(wait)
					select {
					case <-timer.C:
					case <-ctx.Done():
						return
					}
				} else if ctx.Err() != nil {
					return
				}
				srv := i % len(servers)
				wg.Add(1)
				go func() {
					defer wg.Done()
					rctx, cancel := context.WithTimeout(ctx, o.clientTimeout-time.Since(due))
					a := kd.send(rctx, servers[srv], i)
					cancel()
					r := record{kind: k, server: srv, due: due.Sub(start), done: time.Since(start), answer: a}
					mu.Lock()
					if r.due >= 0 {
						records = append(records, r)
					} else {
						warm = append(warm, r)
					}
					mu.Unlock()
				}()
			}
		}()
	}
	var duringErr error
	if during != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-time.After(time.Until(start)):
				duringErr = during(ctx, start)
			case <-ctx.Done():
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	return records, warm, duringErr
}

package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/vungtrong/vungtrong/registry"
)

// gate bounds the API requests that work on the database at once, to about the connections the
// database pool has. Past that, a request waits a moment for a place and is otherwise answered
// 503 at once. Without it, a burst (or a database coming back from a restart with an empty
// pool) queues more requests than the pool can serve before their deadline: each that times
// out has done work for nothing and cost a connection (a cancelled query ends its connection),
// the next ones wait longer, and the server never catches up.
type gate struct {
	slots chan struct{}
	wait  time.Duration
}

func newGate(n int, wait time.Duration) *gate {
	if n <= 0 {
		return nil
	}
	return &gate{slots: make(chan struct{}, n), wait: wait}
}

// publicPath reports whether a path is the API's or a public page's (a code's, a lot's, a
// consignment's): what reads the database, and what the anonymous rate limit counts.
func publicPath(p string) bool {
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/v/") || strings.HasPrefix(p, "/t/")
}

// gated reports whether a request goes through the gate: the API and the public pages, but for uploads (one long
// transaction each, for as long as the file takes to arrive).
func gated(r *http.Request) bool {
	if !publicPath(r.URL.Path) {
		return false
	}
	return !(r.Method == http.MethodPost && r.URL.Path == "/api/v1/imports")
}

// admit lets a request through the gate, or answers 503 when no place frees up in time.
func (s *Server) admit(next http.Handler) http.Handler {
	g := s.gate
	if g == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !gated(r) {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case g.slots <- struct{}{}:
		default:
			t := time.NewTimer(g.wait)
			select {
			case g.slots <- struct{}{}:
				t.Stop()
			case <-t.C:
				s.busy.Add(1)
				s.writeError(w, r, &registry.Error{Code: registry.EUNAVAILABLE, RetryAfter: time.Second,
					Message: "the server is busy: try again in a second"})
				return
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		defer func() { <-g.slots }()
		next.ServeHTTP(w, r)
	})
}

package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/vungtrong/vungtrong/registry"
)

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID gives every request an id (the client's X-Request-Id when it is sane), in the
// response header, the context, the logs and the audit log.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDRE.MatchString(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(registry.NewContextWithRequestID(r.Context(), id)))
	})
}

// statusRecorder remembers the status and size of a response for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (sr *statusRecorder) WriteHeader(code int) {
	if sr.status == 0 {
		sr.status = code
	}
	sr.ResponseWriter.WriteHeader(code)
}

func (sr *statusRecorder) Write(b []byte) (int, error) {
	if sr.status == 0 {
		sr.status = http.StatusOK
	}
	n, err := sr.ResponseWriter.Write(b)
	sr.bytes += n
	return n, err
}

func (sr *statusRecorder) Unwrap() http.ResponseWriter { return sr.ResponseWriter }

// Flush sends what is buffered (a tile goes out before it is compressed for the cache).
func (sr *statusRecorder) Flush() {
	if f, ok := sr.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// logActorKey carries, down the middleware chain, where authenticate writes the actor for the
// access log line written on the way back up.
type logActorKey struct{}

// accessLog logs one line per request: method, path, status, size, duration, request id and
// actor. It never logs query strings, headers or bodies, which may carry tokens or personal data.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		actor := new(registry.Actor)
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), logActorKey{}, actor)))
		s.svc.Metrics.observe(r.Method, routeOf(r), cmp.Or(rec.status, http.StatusOK), time.Since(start))
		level := slog.LevelInfo
		if rec.status < 400 && strings.HasPrefix(r.URL.Path, "/tiles/") {
			level = slog.LevelDebug // a map asks for dozens of tiles a second
		}
		s.log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "bytes", rec.bytes,
			"ms", time.Since(start).Milliseconds(), "request_id", registry.RequestIDFromContext(r.Context()), "actor", actor.String())
	})
}

// checkInput refuses parameters that cannot be text (see checkParams) before anything reads them.
func (s *Server) checkInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkParams(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// deadline bounds each request by the configured request timeout, so that a database that hangs
// makes requests fail (503) instead of hanging with it. Uploads, whose body alone may take
// minutes on a slow line, are exempt: their database work has the statement timeout.
func (s *Server) deadline(next http.Handler) http.Handler {
	if s.cfg.RequestTimeout <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/imports" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeoutCause(r.Context(), s.cfg.RequestTimeout, errDeadline)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// recoverPanic turns a panic into a logged 500.
func (s *Server) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// Cookie names.
const (
	sessionCookie = "vt_session" // HttpOnly: the session secret
	csrfCookie    = "vt_csrf"    // readable by the page, which echoes it in X-CSRF-Token
)

// authenticate turns credentials into the request's actor: an `Authorization: Bearer <token>`
// header (a bad token is refused), or the session cookie (a stale one is ignored: the request
// goes on anonymously and the browser is told to forget it). A state-changing request made with
// the session cookie must carry the session's CSRF token in X-CSRF-Token.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/tiles/") {
			// Tiles are the same for everyone: no session lookup for each of a map's tiles.
			next.ServeHTTP(w, r)
			return
		}
		var a registry.Actor
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, secret, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
				s.writeError(w, r, registry.Errorf(registry.EUNAUTHORIZED, "the Authorization header must be `Bearer <token>`"))
				return
			}
			var err error
			if a, err = s.svc.Auth.TokenActor(r.Context(), strings.TrimSpace(secret)); err != nil {
				s.writeError(w, r, err)
				return
			}
		} else if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			actor, csrf, err := s.svc.Auth.SessionActor(r.Context(), c.Value)
			switch {
			case registry.ErrorCode(err) == registry.EUNAUTHORIZED:
				s.clearSessionCookies(w, r)
			case err != nil:
				s.writeError(w, r, err)
				return
			default:
				if stateChanging(r.Method) && !csrfExempt[r.URL.Path] &&
					subtle.ConstantTimeCompare([]byte(r.Header.Get("X-CSRF-Token")), []byte(csrf)) != 1 {
					s.writeError(w, r, registry.Errorf(registry.EFORBIDDEN, "missing or wrong CSRF token: send the session's token in the X-CSRF-Token header (reload the page if it is open in two tabs)"))
					return
				}
				a = actor
			}
		}
		if a.Anonymous() {
			next.ServeHTTP(w, r)
			return
		}
		if logged, ok := r.Context().Value(logActorKey{}).(*registry.Actor); ok {
			*logged = a
		}
		next.ServeHTTP(w, r.WithContext(registry.NewContextWithActor(r.Context(), a)))
	})
}

// csrfExempt are the state-changing endpoints that do not act with the session: signing in
// (which replaces it) cannot carry a token the browser does not have yet. They take JSON only,
// which a cross-site form cannot send.
var csrfExempt = map[string]bool{"/api/v1/auth/login": true, "/api/v1/auth/code": true, "/api/v1/auth/code/verify": true}

func stateChanging(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// limitPublic rate-limits anonymous callers of the API per address. Signed-in callers are
// limited by their accounts instead (and are few).
func (s *Server) limitPublic(next http.Handler) http.Handler {
	if s.limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, _ := registry.ActorFromContext(r.Context()); a.Anonymous() && publicPath(r.URL.Path) {
			if wait, ok := s.limiter.allow(s.clientAddr(r)); !ok {
				s.writeError(w, r, &registry.Error{Code: registry.ETOOMANY, RetryAfter: wait,
					Message: "too many requests from this address: slow down, or sign in"})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

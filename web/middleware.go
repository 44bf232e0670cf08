package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
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
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "bytes", rec.bytes,
			"ms", time.Since(start).Milliseconds(), "request_id", registry.RequestIDFromContext(r.Context()), "actor", actor.String())
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

// authenticate resolves an `Authorization: Bearer <token>` header to an actor. A request
// without the header goes on anonymously; one with a bad token is refused.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		scheme, secret, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
			s.writeError(w, r, registry.Errorf(registry.EUNAUTHORIZED, "the Authorization header must be `Bearer <token>`"))
			return
		}
		t, err := s.svc.Tokens.Authenticate(r.Context(), strings.TrimSpace(secret))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		a := registry.Actor{Kind: "token", Name: t.Name, ID: t.ID, Role: "admin"}
		if logged, ok := r.Context().Value(logActorKey{}).(*registry.Actor); ok {
			*logged = a
		}
		ctx := registry.NewContextWithActor(r.Context(), a)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requireActor refuses anonymous requests: every write needs a token.
func (s *Server) requireActor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := registry.ActorFromContext(r.Context()); !ok {
			s.writeError(w, r, registry.Errorf(registry.EUNAUTHORIZED, "this request changes the registry and needs `Authorization: Bearer <token>` (create one with `vungtrong token create NAME`)"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

package web

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/registry"
)

// statusOf maps registry error codes to HTTP statuses: the one place that does.
var statusOf = map[string]int{
	registry.EMALFORMED:    http.StatusBadRequest,
	registry.EINVALID:      http.StatusUnprocessableEntity,
	registry.ENOTFOUND:     http.StatusNotFound,
	registry.ECONFLICT:     http.StatusConflict,
	registry.EPRECONDITION: http.StatusPreconditionFailed,
	registry.EPRECONDREQ:   http.StatusPreconditionRequired,
	registry.EUNAUTHORIZED: http.StatusUnauthorized,
	registry.EFORBIDDEN:    http.StatusForbidden,
	registry.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	registry.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	registry.EUNAVAILABLE:  http.StatusServiceUnavailable,
	registry.ETOOMANY:      http.StatusTooManyRequests,
	registry.EPASSWORD:     http.StatusForbidden,
	registry.EINTERNAL:     http.StatusInternalServerError,
	errMethod:              http.StatusMethodNotAllowed,
}

// errMethod is the code of a request whose method the route does not serve.
const errMethod = "method_not_allowed"

// StatusOf returns the HTTP status for an error.
func StatusOf(err error) int {
	if st, ok := statusOf[registry.ErrorCode(err)]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error errorJSON `json:"error"`
}

// errorJSON is an error's code, message and details, and the members of its Extra beside them.
type errorJSON struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details []registry.Detail `json:"details,omitempty"`
	Extra   map[string]any    `json:"-"`
}

// MarshalJSON writes the error's own members, then its extra ones (which may not replace them),
// each rendered by extraJSON.
func (e errorJSON) MarshalJSON() ([]byte, error) {
	type plain errorJSON
	b, err := json.Marshal(plain(e))
	if err != nil || len(e.Extra) == 0 {
		return b, err
	}
	m := map[string]any{}
	for k, v := range e.Extra {
		m[k] = extraJSON(v)
	}
	m["code"], m["message"] = e.Code, e.Message
	if len(e.Details) > 0 {
		m["details"] = e.Details
	} else {
		delete(m, "details")
	}
	return json.Marshal(m)
}

// extraJSON renders a value of an error's Extra: the registry's geometries and overlaps as
// GeoJSON, anything else as encoding/json does.
func extraJSON(v any) any {
	switch v := v.(type) {
	case orb.MultiPolygon:
		if v == nil {
			return nil
		}
		return multiPolygonJSON{"MultiPolygon", v}
	case []registry.PlotOverlap:
		return toOverlapsJSON(v)
	}
	return v
}

// errDeadline is the cause of a request's context ending at the request timeout.
var errDeadline = errors.New("the request took longer than the server's request timeout")

// retryAfterUnavailable is what a 503 asks clients to wait.
const retryAfterUnavailable = 5 * time.Second

// unavailable turns an error that says the database cannot be reached (down, hung past the
// request's deadline, restarting) into EUNAVAILABLE, and notes the outage; other errors pass.
func (s *Server) unavailable(r *http.Request, err error) error {
	timedOut := r.Context().Err() != nil && context.Cause(r.Context()) == errDeadline
	if !timedOut && (registry.ErrorCode(err) != registry.EINTERNAL || s.svc.Unavailable == nil || !s.svc.Unavailable(err)) {
		return err
	}
	s.outage.down(err)
	msg := "the database does not answer: try again in a few seconds"
	if timedOut {
		msg = "the database did not answer in time: try again in a few seconds"
	}
	return &registry.Error{Code: registry.EUNAVAILABLE, Message: msg, RetryAfter: retryAfterUnavailable}
}

// writeError renders err as {"error": {...}}. Internal errors are logged with the request id
// and shown only as "internal error"; a client that went away is not logged as an error; a
// database that cannot be reached is a 503 with Retry-After, logged once per outage.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	err = s.unavailable(r, err)
	code := registry.ErrorCode(err)
	if code != registry.EUNAVAILABLE && errors.Is(err, r.Context().Err()) && r.Context().Err() != nil {
		return // the client is gone; nobody reads the answer
	}
	if code == registry.EINTERNAL {
		s.log.Error("internal error", "request_id", registry.RequestIDFromContext(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var body errorBody
	body.Error.Code = code
	body.Error.Message = registry.ErrorMessage(err)
	body.Error.Details = registry.ErrorDetails(err)
	body.Error.Extra = registry.ErrorExtra(err)
	switch code {
	case registry.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="vungtrong"`)
	case registry.ETOOMANY, registry.EUNAVAILABLE:
		secs := int(math.Ceil(registry.ErrorRetryAfter(err).Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	writeJSON(w, StatusOf(err), body)
}

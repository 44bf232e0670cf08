package web

import (
	"errors"
	"math"
	"net/http"
	"strconv"

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
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Details []registry.Detail `json:"details,omitempty"`
	} `json:"error"`
}

// writeError renders err as {"error": {...}}. Internal errors are logged with the request id
// and shown only as "internal error"; a client that went away is not logged as an error.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := registry.ErrorCode(err)
	if errors.Is(err, r.Context().Err()) && r.Context().Err() != nil {
		return // the client is gone; nobody reads the answer
	}
	if code == registry.EINTERNAL {
		s.log.Error("internal error", "request_id", registry.RequestIDFromContext(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var body errorBody
	body.Error.Code = code
	body.Error.Message = registry.ErrorMessage(err)
	body.Error.Details = registry.ErrorDetails(err)
	switch code {
	case registry.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="vungtrong"`)
	case registry.ETOOMANY:
		secs := int(math.Ceil(registry.ErrorRetryAfter(err).Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	writeJSON(w, StatusOf(err), body)
}

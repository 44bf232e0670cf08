// Package registry is the domain of Vùng Trồng: producers, plots, growing areas and their
// per-market codes, packing houses, livestock and feed facilities, with their rules. It defines
// the service interfaces that storage implements and the web layer calls, and one Error type
// whose codes the web layer maps to HTTP statuses. It imports no database, router or
// configuration package.
package registry

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Only the web layer turns them into HTTP statuses.
const (
	EMALFORMED    = "malformed"             // the request cannot be parsed (bad JSON, bad query parameter)
	EINVALID      = "invalid"               // parsed, but breaks a rule (bad geometry, unknown crop)
	ENOTFOUND     = "not_found"             // no such object (or not visible to the caller)
	ECONFLICT     = "conflict"              // clashes with the current state (duplicate code)
	EPRECONDITION = "precondition_failed"   // If-Match names a version that is no longer current
	EPRECONDREQ   = "precondition_required" // an update without If-Match
	EUNAUTHORIZED = "unauthorized"          // no or bad credentials
	EFORBIDDEN    = "forbidden"             // credentials fine, action not allowed
	ETOOLARGE     = "too_large"             // body or file over the limit
	EUNSUPPORTED  = "unsupported_media_type"
	EUNAVAILABLE  = "unavailable"              // a dependency (the database) is down
	ETOOMANY      = "too_many_requests"        // rate limited; see Error.RetryAfter
	EPASSWORD     = "password_change_required" // the user must choose a new password first
	EINTERNAL     = "internal"
)

// Error is the registry's error: a code, a message a person can act on, and optional details
// that locate each problem (a field, a coordinate, a feature number).
type Error struct {
	Code    string
	Message string
	Details []Detail
	// RetryAfter says when to try again, for ETOOMANY.
	RetryAfter time.Duration
	// Extra holds further members of the error beside its code, message and details, for a
	// client to act on: a refused plot's overlaps and the geometry that would pass, say. The
	// web layer renders each value (registry types and geometries as GeoJSON).
	Extra map[string]any
}

// Detail locates one problem inside a request or a file.
type Detail struct {
	// Field is a path into the input, e.g. "geometry.coordinates[0][3]" or "properties.crop".
	Field string `json:"field,omitempty"`
	// Feature is the 1-based number of the feature or row in a batch, when there is one.
	Feature int `json:"feature,omitempty"`
	// Message says what is wrong there.
	Message string `json:"message"`
	// Location is the [longitude, latitude] where a geometry problem is.
	Location []float64 `json:"location,omitempty"`
	// Code names the kind of problem and Args its values (as text), so that a user interface
	// can say Message in the user's language; both are empty where Message is all there is.
	Code string            `json:"code,omitempty"`
	Args map[string]string `json:"args,omitempty"`
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("registry: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID *Error listing every problem in details; its message is the first
// problem and a count of the others.
func Invalid(details []Detail) *Error {
	msg := details[0].Message
	if details[0].Field != "" {
		msg = details[0].Field + ": " + msg
	}
	if n := len(details) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more problems, see details)", n)
	}
	return &Error{Code: EINVALID, Message: msg, Details: details}
}

// ErrorCode returns the code of the *Error wrapped in err, EINTERNAL for any other error, and ""
// for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the message of the *Error wrapped in err, and "internal error" for any
// other error: internal details are logged, never shown.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}

// ErrorRetryAfter returns how long the caller should wait, for an ETOOMANY error.
func ErrorRetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// ErrorExtra returns the extra members of the *Error wrapped in err, if any.
func ErrorExtra(err error) map[string]any {
	var e *Error
	if errors.As(err, &e) {
		return e.Extra
	}
	return nil
}

// ErrorDetails returns the details of the *Error wrapped in err, if any.
func ErrorDetails(err error) []Detail {
	var e *Error
	if errors.As(err, &e) {
		return e.Details
	}
	return nil
}

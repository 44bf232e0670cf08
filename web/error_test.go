package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vungtrong/vungtrong/registry"
)

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{registry.Errorf(registry.EMALFORMED, "x"), 400},
		{registry.Errorf(registry.EINVALID, "x"), 422},
		{registry.Errorf(registry.EUNAUTHORIZED, "x"), 401},
		{registry.Errorf(registry.EFORBIDDEN, "x"), 403},
		{registry.Errorf(registry.ENOTFOUND, "x"), 404},
		{registry.Errorf(registry.ECONFLICT, "x"), 409},
		{registry.Errorf(registry.EPRECONDITION, "x"), 412},
		{registry.Errorf(registry.ETOOLARGE, "x"), 413},
		{registry.Errorf(registry.EUNSUPPORTED, "x"), 415},
		{registry.Errorf(registry.EPRECONDREQ, "x"), 428},
		{registry.Errorf(registry.EUNAVAILABLE, "x"), 503},
		{fmt.Errorf("wrapped: %w", registry.Errorf(registry.ENOTFOUND, "x")), 404},
		{errors.New("boom"), 500},
		{registry.Errorf("no-such-code", "x"), 500},
	}
	for _, tt := range tests {
		if got := StatusOf(tt.err); got != tt.want {
			t.Errorf("StatusOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestWriteErrorHidesInternalErrors(t *testing.T) {
	var logs strings.Builder
	s := NewServer(DefaultConfig(), Services{}, slog.New(slog.NewTextHandler(&logs, nil)))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/x", nil)
	s.writeError(w, r, errors.New("pq: password authentication failed for secret-host"))
	var body errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if w.Code != 500 || body.Error.Code != "internal" || body.Error.Message != "internal error" {
		t.Errorf("got %d %+v", w.Code, body)
	}
	if strings.Contains(w.Body.String(), "secret-host") || !strings.Contains(logs.String(), "secret-host") {
		t.Error("an internal error must be logged and not shown")
	}

	w = httptest.NewRecorder()
	s.writeError(w, r, &registry.Error{Code: registry.EINVALID, Message: "bad ring", Details: []registry.Detail{{Field: "geometry.coordinates[0]", Message: "not closed", Location: []float64{108, 12}}}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"details":[{"field":"geometry.coordinates[0]","message":"not closed","location":[108,12]}]`) {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
}

func TestSyntaxErrorsAreLocated(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"a": [1, NaN]}`, "line 1, column 11: NaN is not a number"},
		{"{\n \"a\": [1,\n -Infinity]}", "Infinity is not a number"},
		{`{"a": [1, 2`, "truncated"},
		{`{"a" 1}`, "line 1, column 6"},
	}
	for _, tt := range tests {
		err := syntaxCheck([]byte(tt.body))
		if registry.ErrorCode(err) != registry.EMALFORMED || !strings.Contains(registry.ErrorMessage(err), tt.want) {
			t.Errorf("syntaxCheck(%q) = %v, want %q", tt.body, err, tt.want)
		}
	}
}

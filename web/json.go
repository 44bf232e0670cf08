package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/vungtrong/vungtrong/registry"
)

const (
	contentTypeJSON    = "application/json"
	contentTypeGeoJSON = "application/geo+json"
)

// writeJSON encodes v into a buffer first, so that an encoding failure can still become a 500
// before any header is sent.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeEncoded(w, status, contentTypeJSON, v)
}

// writeGeoJSON is writeJSON with the GeoJSON media type (RFC 7946).
func writeGeoJSON(w http.ResponseWriter, status int, v any) {
	writeEncoded(w, status, contentTypeGeoJSON, v)
}

func writeEncoded(w http.ResponseWriter, status int, contentType string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"internal error"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// isJSONType reports whether a Content-Type header names JSON.
func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == contentTypeJSON || mt == contentTypeGeoJSON)
}

// readBody reads a JSON request body within the size limit. An oversized body is ETOOLARGE,
// a body that is not JSON is EMALFORMED with the line and column of the first error.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, allowed ...string) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		// JSON media types, and what curl -d and plain fetch() send by default: the body decides.
		mt, _, err := mime.ParseMediaType(ct)
		ok := err == nil && (mt == contentTypeJSON || mt == contentTypeGeoJSON || mt == "application/merge-patch+json" ||
			mt == "application/x-www-form-urlencoded" || mt == "text/plain")
		if !ok {
			return nil, registry.Errorf(registry.EUNSUPPORTED, "Content-Type %q is not accepted: send %s", ct, strings.Join(allowed, " or "))
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, registry.Errorf(registry.ETOOLARGE, "request body is larger than %d bytes: split the data, or use `vungtrong import` for large files", limit)
	}
	if err != nil {
		return nil, registry.Errorf(registry.EMALFORMED, "reading the request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, registry.Errorf(registry.EMALFORMED, "request body is empty: send a JSON document")
	}
	if err := syntaxCheck(body); err != nil {
		return nil, err
	}
	if err := textCheck(body); err != nil {
		return nil, err
	}
	return body, nil
}

// textCheck returns EMALFORMED, naming the member, when a JSON document holds text the registry
// cannot store: bytes that are not UTF-8 (encoding/json would quietly turn them into U+FFFD), or
// a NUL character (\u0000), which PostgreSQL's text refuses. body is valid JSON.
func textCheck(body []byte) error {
	bad := -1
	if !utf8.Valid(body) {
		for i := 0; i < len(body); {
			r, n := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && n <= 1 {
				bad = i
				break
			}
			i += n
		}
	} else if !bytes.Contains(body, []byte(`\u0000`)) {
		return nil // the common case: nothing to look for
	}
	type frame struct {
		obj     bool
		wantKey bool
		key     string
		idx     int
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.obj {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				fmt.Fprintf(&b, "[%d]", f.idx)
			}
		}
		return cmpOr(b.String(), "(the document)")
	}
	next := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].obj {
				stack[n-1].wantKey = true
			} else {
				stack[n-1].idx++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return registry.Errorf(registry.EMALFORMED, "request body is not valid JSON: %v", err)
		}
		key, isKey := tok.(string)
		isKey = isKey && len(stack) > 0 && stack[len(stack)-1].obj && stack[len(stack)-1].wantKey
		if isKey {
			stack[len(stack)-1].key, stack[len(stack)-1].wantKey = key, false
		}
		if bad >= 0 && dec.InputOffset() > int64(bad) {
			field := path()
			if isKey {
				field += " (its name)"
			}
			return &registry.Error{Code: registry.EMALFORMED, Message: field + ": the text is not valid UTF-8: send the body in UTF-8",
				Details: []registry.Detail{{Field: field, Message: "not valid UTF-8"}}}
		}
		if str, ok := tok.(string); ok && strings.IndexByte(str, 0) >= 0 {
			field := path()
			if isKey {
				field += " (its name)"
			}
			return &registry.Error{Code: registry.EMALFORMED, Message: field + ": the text contains a NUL character (\\u0000), which is not allowed",
				Details: []registry.Detail{{Field: field, Message: "contains a NUL character"}}}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{obj: true, wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			next()
		default:
			if !isKey {
				next()
			}
		}
	}
}

// syntaxCheck returns EMALFORMED locating the first JSON syntax error, and naming NaN and
// Infinity, which JSON does not have.
func syntaxCheck(body []byte) error {
	var v any
	err := json.Unmarshal(body, &v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(body, se.Offset)
		rest := string(body[max(se.Offset-1, 0):min(se.Offset+8, int64(len(body)))])
		for _, bad := range []string{"NaN", "Infinity", "-Infinity", "nan", "inf"} {
			if strings.HasPrefix(rest, bad) || strings.HasPrefix(strings.TrimLeft(rest, "-"), bad) {
				return registry.Errorf(registry.EMALFORMED, "request body is not valid JSON at line %d, column %d: %s is not a number in JSON; every coordinate must be a finite number", line, col, bad)
			}
		}
		if se.Offset >= int64(len(bytes.TrimRight(body, " \t\r\n"))) {
			return registry.Errorf(registry.EMALFORMED, "request body is not valid JSON: it ends at line %d, column %d before the document is complete (truncated?)", line, col)
		}
		return registry.Errorf(registry.EMALFORMED, "request body is not valid JSON at line %d, column %d: %v", line, col, se)
	}
	return registry.Errorf(registry.EMALFORMED, "request body is not valid JSON: %v", err)
}

func lineCol(b []byte, offset int64) (line, col int) {
	offset = min(offset, int64(len(b)))
	line = 1 + bytes.Count(b[:offset], []byte("\n"))
	col = int(offset) - bytes.LastIndexByte(b[:offset], '\n') - 1
	return line, max(col, 1)
}

// fieldSetter decodes one JSON member into a *T; null clears the field.
type fieldSetter[T any] func(dst *T, raw json.RawMessage) error

// applyFields decodes the members of a JSON object into dst with setters, skipping readOnly
// members, and returns every problem (unknown member, wrong type) at once. prefix is put
// before member names in the details ("properties.").
func applyFields[T any](dst *T, fields map[string]json.RawMessage, setters map[string]fieldSetter[T], readOnly map[string]bool, prefix, what string) []registry.Detail {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	var details []registry.Detail
	for _, k := range names {
		if readOnly[k] {
			continue
		}
		set, ok := setters[k]
		if !ok {
			known := make([]string, 0, len(setters))
			for f := range setters {
				known = append(known, f)
			}
			sort.Strings(known)
			details = append(details, registry.Detail{Field: prefix + k, Message: "unknown " + what + "; use " + strings.Join(known, ", ")})
			continue
		}
		if err := set(dst, fields[k]); err != nil {
			details = append(details, registry.Detail{Field: prefix + k, Message: err.Error()})
		}
	}
	return details
}

// stringField decodes a text member; numbers are accepted as text (số tờ 12 is "12").
func stringField[T any](field func(*T) *string) fieldSetter[T] {
	return func(v *T, raw json.RawMessage) error {
		dst := field(v)
		if isNull(raw) {
			*dst = ""
			return nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			*dst = s
			return nil
		}
		var n json.Number
		if err := json.Unmarshal(raw, &n); err == nil {
			*dst = n.String()
			return nil
		}
		return fmt.Errorf("must be text")
	}
}

// idField decodes a member holding a positive id, or null.
func idField[T any](field func(*T) **int64, what string) fieldSetter[T] {
	return func(v *T, raw json.RawMessage) error {
		dst := field(v)
		if isNull(raw) {
			*dst = nil
			return nil
		}
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return fmt.Errorf("must be %s's numeric id or null", what)
		}
		*dst = &n
		return nil
	}
}

func isNull(raw json.RawMessage) bool { return strings.TrimSpace(string(raw)) == "null" }

// fieldError is an EINVALID error about one field.
func fieldError(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &registry.Error{Code: registry.EINVALID, Message: field + ": " + msg, Details: []registry.Detail{{Field: field, Message: msg}}}
}

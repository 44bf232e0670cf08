package web

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vungtrong/vungtrong/registry"
)

func TestTextCheckNamesTheMember(t *testing.T) {
	for _, tt := range []struct {
		body, field string
	}{
		{`{"a":"ok","b":{"c":["x","y\u0000"]}}`, "b.c[1]"},
		{`{"a":{},"b":[{}, {"n\u0000":1}]}`, "b[1].n\x00 (its name)"},
		{"{\"a\":[1,2,{\"b\":\"\xff\"}]}", "a[2].b"},
		{`"\u0000"`, "(the document)"},
		{`{"a":"fine","b":[],"c":{"d":null}}`, ""},
		{`{"a":"\\u0000 is only text here"}`, ""},
	} {
		err := textCheck([]byte(tt.body))
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s: %v, want no problem", tt.body, err)
			}
			continue
		}
		d := registry.ErrorDetails(err)
		if registry.ErrorCode(err) != registry.EMALFORMED || len(d) != 1 || d[0].Field != tt.field {
			t.Errorf("%s: %v %+v, want EMALFORMED naming %q", tt.body, err, d, tt.field)
		}
	}
}

// FuzzTextCheck: on any valid JSON, textCheck refuses exactly the documents that hold invalid
// UTF-8 or a NUL in a string, and never panics.
func FuzzTextCheck(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `[1,"\u0000"]`, "{\"\xff\":1}", `{"a":{"b":[{},[],""]}}`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v any
		if json.Unmarshal(body, &v) != nil {
			return
		}
		bad := !utf8.Valid(body) || hasNUL(v)
		if err := textCheck(body); (err != nil) != bad {
			t.Errorf("%q: textCheck %v, want a refusal %v", body, err, bad)
		}
	})
}

func hasNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.IndexByte(v, 0) >= 0
	case []any:
		for _, e := range v {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range v {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(e) {
				return true
			}
		}
	}
	return false
}

// Package epcistest checks EPCIS documents in tests: against GS1's EPCIS 2.0 JSON schema, and
// against the EPCIS JSON-LD context (every member name a term of the context, or a compact IRI
// whose prefix a context defines). The schema and the context are GS1's own files, kept in
// ../testdata with their licence. Only tests import this package.
package epcistest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaID is the $id of GS1's inlined EPCIS 2.0 JSON schema.
const SchemaID = "https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json"

var (
	once     sync.Once
	schema   *jsonschema.Schema
	terms    map[string]bool
	prefixes map[string]bool
	loadErr  error
)

// testdata is the folder of GS1's files, beside this package.
func testdata() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

func load() {
	f, err := os.Open(filepath.Join(testdata(), "EPCIS-JSON-Schema.json"))
	if err != nil {
		loadErr = err
		return
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		loadErr = fmt.Errorf("epcistest: the schema: %w", err)
		return
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseRegexpEngine(regexpEngine)
	if err := c.AddResource(SchemaID, doc); err != nil {
		loadErr = err
		return
	}
	if schema, err = c.Compile(SchemaID); err != nil {
		loadErr = fmt.Errorf("epcistest: compiling the schema: %w", err)
		return
	}
	b, err := os.ReadFile(filepath.Join(testdata(), "epcis-context.jsonld"))
	if err != nil {
		loadErr = err
		return
	}
	var ctx struct {
		Context map[string]any `json:"@context"`
	}
	if err := json.Unmarshal(b, &ctx); err != nil {
		loadErr = fmt.Errorf("epcistest: the context: %w", err)
		return
	}
	terms, prefixes = map[string]bool{}, map[string]bool{}
	collectTerms(ctx.Context, terms, prefixes)
}

// collectTerms gathers the terms a context defines, its scoped contexts' included, and which
// of them are prefixes (their IRI ends in "/", "#" or ":").
func collectTerms(ctx map[string]any, terms, prefixes map[string]bool) {
	for k, v := range ctx {
		if strings.HasPrefix(k, "@") {
			continue
		}
		terms[k] = true
		switch v := v.(type) {
		case string:
			if strings.HasSuffix(v, "/") || strings.HasSuffix(v, "#") || strings.HasSuffix(v, ":") {
				prefixes[k] = true
			}
		case map[string]any:
			switch sc := v["@context"].(type) {
			case map[string]any:
				collectTerms(sc, terms, prefixes)
			case []any:
				for _, c := range sc {
					if m, ok := c.(map[string]any); ok {
						collectTerms(m, terms, prefixes)
					}
				}
			}
		}
	}
}

// lookahead is the one form of pattern beyond RE2 that GS1's schema uses: ^(?!(a|b)), "does not
// start with a or b".
var lookahead = regexp.MustCompile(`^\^\(\?!\((.*)\)\)$`)

// regexpEngine compiles the schema's patterns with Go's regexp, and reads ^(?!(…)) as "does not
// start with"; any other pattern Go cannot compile is an error, never a pattern that passes.
func regexpEngine(s string) (jsonschema.Regexp, error) {
	if re, err := regexp.Compile(s); err == nil {
		return re, nil
	}
	m := lookahead.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("epcistest: pattern %q needs a regexp engine with more than RE2 and ^(?!(…))", s)
	}
	re, err := regexp.Compile(`^(?:` + m[1] + `)`)
	if err != nil {
		return nil, fmt.Errorf("epcistest: pattern %q: %w", s, err)
	}
	return notPrefix{re: re, src: s}, nil
}

type notPrefix struct {
	re  *regexp.Regexp
	src string
}

func (n notPrefix) MatchString(s string) bool { return !n.re.MatchString(s) }
func (n notPrefix) String() string            { return n.src }

// Validate returns why doc (JSON) is not an EPCIS 2.0 document by GS1's schema, or nil.
func Validate(doc []byte) error {
	once.Do(load)
	if loadErr != nil {
		return loadErr
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("epcistest: not JSON: %w", err)
	}
	return schema.Validate(v)
}

// CheckTerms returns the member names of doc (and the values of its type, bizStep and
// disposition members) that are neither terms of GS1's context nor compact IRIs whose prefix
// GS1's context or the document's own @context defines, or absolute IRIs; nil when there are
// none. A JSON-LD processor would drop or misread such a name.
func CheckTerms(doc []byte) error {
	once.Do(load)
	if loadErr != nil {
		return loadErr
	}
	var v map[string]any
	if err := json.Unmarshal(doc, &v); err != nil {
		return fmt.Errorf("epcistest: not a JSON object: %w", err)
	}
	own := map[string]bool{}
	if list, ok := v["@context"].([]any); ok {
		for _, c := range list {
			if m, ok := c.(map[string]any); ok {
				for k := range m {
					own[k] = true
				}
			}
		}
	}
	known := func(s string, asTerm bool) bool {
		if strings.HasPrefix(s, "@") || (asTerm && terms[s]) {
			return true
		}
		prefix, rest, ok := strings.Cut(s, ":")
		if !ok {
			return false
		}
		return prefixes[prefix] || own[prefix] || strings.HasPrefix(rest, "//") || prefix == "urn"
	}
	var bad []string
	var walk func(path string, x any)
	walk = func(path string, x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, val := range x {
				if k == "@context" {
					continue
				}
				if !known(k, true) {
					bad = append(bad, path+"/"+k)
				}
				if s, ok := val.(string); ok && (k == "type" || k == "bizStep" || k == "disposition") && !terms[s] && !known(s, false) {
					bad = append(bad, path+"/"+k+"="+s)
				}
				walk(path+"/"+k, val)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s/%d", path, i), e)
			}
		}
	}
	walk("", v)
	if len(bad) > 0 {
		slices.Sort(bad)
		return fmt.Errorf("epcistest: names the JSON-LD context does not define: %s", strings.Join(bad, ", "))
	}
	return nil
}

// Check fails tb unless doc passes Validate and CheckTerms.
func Check(tb testing.TB, doc []byte) {
	tb.Helper()
	if err := Validate(doc); err != nil {
		tb.Fatalf("the document is not valid EPCIS 2.0 by GS1's schema: %v\n%s", err, doc)
	}
	if err := CheckTerms(doc); err != nil {
		tb.Fatal(err)
	}
}

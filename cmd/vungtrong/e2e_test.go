package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/registry/postgres/pgtest"
)

// testApp is a running server on a fresh database, with an admin token. Every secret the test
// handles (passwords, tokens, cookies, citizen IDs) is remembered, and when the test ends the
// server's log must hold none of them.
type testApp struct {
	t       *testing.T
	app     *App
	base    string
	token   string
	logs    *syncBuffer
	stdout  *bytes.Buffer
	secrets []string
	// stop stops the server (it stops by itself when the test ends).
	stop func()
}

// secret remembers values that must never appear in the server's log.
func (a *testApp) secret(values ...string) {
	for _, v := range values {
		if len(v) >= 6 {
			a.secrets = append(a.secrets, v)
		}
	}
}

// testAdminPassword is the first admin's password in tests (auth.admin_password).
const testAdminPassword = "admin-password-1"

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func defaultConfig(t *testing.T) Config {
	t.Helper()
	var cfg Config
	for _, k := range configKeys {
		if err := k.set(&cfg, k.def); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

func startApp(t *testing.T, edit func(*Config)) *testApp {
	t.Helper()
	cfg := defaultConfig(t)
	cfg.Database.URL = pgtest.NewURL(t)
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.HTTP.PublicRate = 0
	cfg.Auth.AdminPassword = testAdminPassword
	if edit != nil {
		edit(&cfg)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	app, err := OpenApp(ctx, cfg, log, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx) }()
	a := &testApp{t: t, app: app, base: "http://" + app.Addr(), logs: logs, stdout: &out}
	a.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		app.Close()
	})
	t.Cleanup(func() {
		a.stop()
		a.checkLogs()
	})
	sys := registry.NewContextWithActor(ctx, registry.SystemActor("test"))
	admin, err := postgres.NewUserService(app.DB()).FindUserByLogin(sys, "admin")
	if err != nil {
		t.Fatal(err)
	}
	// "e2e", or "e2e-2"… for a second server on the same database.
	for i := 1; ; i++ {
		name := "e2e"
		if i > 1 {
			name = fmt.Sprintf("e2e-%d", i)
		}
		a.token, _, err = postgres.NewTokenService(app.DB()).CreateToken(sys, admin.ID, name)
		if registry.ErrorCode(err) != registry.ECONFLICT || i == 10 {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	a.secret(a.token, testAdminPassword)
	return a
}

// checkLogs fails the test if the server logged a secret the test handled.
func (a *testApp) checkLogs() {
	logs := a.logs.String()
	if logs == "" {
		a.t.Error("the server logged nothing: the log check would prove nothing")
	}
	for _, s := range a.secrets {
		if strings.Contains(logs, s) {
			a.t.Errorf("the server log holds a secret (%.4s…): passwords, tokens, cookies and citizen IDs must never be logged", s)
		}
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, r.body)
	}
	return m
}

func (r response) errorMessage() string {
	var e errorBody
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code + ": " + e.Error.Message
}

type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Details []registry.Detail `json:"details"`
	} `json:"error"`
}

func (a *testApp) do(method, path string, body string, headers ...string) response {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (a *testApp) auth() []string { return []string{"Authorization", "Bearer " + a.token} }

func (a *testApp) plotCount() int {
	a.t.Helper()
	var n int
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT count(*) FROM plot`).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

const goodPlot = `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[108.05,12.68],[108.0511,12.6801],[108.0512,12.681],[108.0499,12.6809],[108.05,12.68]]]},"properties":{"crop":"cà phê"}}`

func feature(coords string) string {
	return `{"type":"Feature","geometry":{"type":"Polygon","coordinates":` + coords + `},"properties":{"crop":"cà phê"}}`
}

func TestBadPlotsAreRefusedAndStoreNothing(t *testing.T) {
	a := startApp(t, func(c *Config) { c.HTTP.MaxBodyBytes = 64 << 10 })
	huge := `{"type":"Feature","properties":{"crop":"coffee","variety":"` + strings.Repeat("x", 70<<10) + `"}}`
	tests := []struct {
		name       string
		body       string
		noToken    bool
		wantStatus int
		wantMsg    []string
	}{
		{"self-intersecting ring", feature(`[[[108.05,12.68],[108.051,12.681],[108.051,12.68],[108.05,12.681],[108.05,12.68]]]`), false, 422,
			[]string{"crosses itself at [108.0505, 12.6805]"}},
		{"unclosed ring", feature(`[[[108.05,12.68],[108.051,12.68],[108.051,12.681],[108.05,12.681]]]`), false, 422,
			[]string{"geometry.coordinates[0]", "ring is not closed"}},
		{"a Point", `{"type":"Feature","geometry":{"type":"Point","coordinates":[108.05,12.68]},"properties":{"crop":"cà phê"}}`, false, 422,
			[]string{"geometry.type", "Point is not accepted", "Polygon or MultiPolygon"}},
		{"latitude and longitude swapped", feature(`[[[12.68,108.05],[12.6801,108.0511],[12.681,108.0512],[12.6809,108.0499],[12.68,108.05]]]`), false, 422,
			[]string{"[latitude, longitude]", "swap them"}},
		{"NaN coordinate", feature(`[[[108.05,12.68],[108.051,NaN],[108.051,12.681],[108.05,12.68]]]`), false, 400,
			[]string{"NaN is not a number in JSON", "line 1, column"}},
		{"string coordinate", feature(`[[[108.05,12.68],["108.051",12.68],[108.051,12.681],[108.05,12.68]]]`), false, 422,
			[]string{"geometry.coordinates[0][1][0]", "is a string"}},
		{"ring of 3 positions", feature(`[[[108.05,12.68],[108.051,12.68],[108.05,12.68]]]`), false, 422,
			[]string{"ring has 3 positions", "at least 4"}},
		{"truncated JSON", goodPlot[:len(goodPlot)/2], false, 400,
			[]string{"not valid JSON", "truncated"}},
		{"no token", goodPlot, true, 401, []string{"Authorization: Bearer"}},
		{"unknown crop", strings.Replace(goodPlot, "cà phê", "cà chua", 1), false, 422, []string{"unknown crop"}},
		{"unknown property", strings.Replace(goodPlot, `"crop"`, `"cropp"`, 1), false, 422, []string{"properties.cropp", "unknown property"}},
		{"no geometry", `{"type":"Feature","properties":{"crop":"coffee"}}`, false, 422, []string{"geometry is missing"}},
		{"oversized body", huge, false, 413, []string{"larger than"}},
		{"empty body", "", false, 400, []string{"empty"}},
		{"a FeatureCollection", `{"type":"FeatureCollection","features":[]}`, false, 422, []string{"send one GeoJSON Feature"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if !tt.noToken {
				headers = a.auth()
			}
			res := a.do("POST", "/api/v1/plots", tt.body, headers...)
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.status, tt.wantStatus, res.body)
			}
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			msg := res.errorMessage()
			for _, w := range tt.wantMsg {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
		})
	}
	if n := a.plotCount(); n != 0 {
		t.Errorf("%d plots stored after refused requests, want 0", n)
	}
	if res := a.do("GET", "/api/v1/plots", ""); !strings.Contains(string(res.body), `"features":[]`) {
		t.Errorf("plot list after refused requests: %s", res.body)
	}
}

func TestBadTokenIsRefused(t *testing.T) {
	a := startApp(t, nil)
	for _, h := range []string{"Bearer vt_nope", "Basic dXNlcjpwYXNz", "Bearer "} {
		res := a.do("POST", "/api/v1/plots", goodPlot, "Authorization", h)
		if res.status != 401 || res.header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: status %d, WWW-Authenticate %q", h, res.status, res.header.Get("WWW-Authenticate"))
		}
	}
	if n := a.plotCount(); n != 0 {
		t.Errorf("%d plots stored", n)
	}
}

func TestPlotLifecycleOverHTTP(t *testing.T) {
	a := startApp(t, nil)
	res := a.do("POST", "/api/v1/plots", goodPlot, a.auth()...)
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/geo+json") {
		t.Errorf("Content-Type %q, want application/geo+json", ct)
	}
	loc, tag := res.header.Get("Location"), res.header.Get("ETag")
	if !strings.HasPrefix(loc, "/api/v1/plots/") || tag != `"v1"` {
		t.Fatalf("Location %q ETag %q", loc, tag)
	}
	created := res.json(t)
	props := created["properties"].(map[string]any)
	var want float64
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT ST_Area(geom::geography) / 10000 FROM plot`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if got := props["area_ha"].(float64); math.Abs(got-want)/want > 0.0001 {
		t.Errorf("area_ha %v, ST_Area(geography)/10000 = %v", got, want)
	}
	if props["crop"] != "coffee" {
		t.Errorf("crop %v", props["crop"])
	}

	// An update needs If-Match.
	if res := a.do("PATCH", loc, `{"properties":{"variety":"TR4"}}`, a.auth()...); res.status != 428 {
		t.Errorf("PATCH without If-Match: %d", res.status)
	}

	// Two clients update with the same ETag at once: one wins, the other gets 412.
	moved := `{"geometry":{"type":"Polygon","coordinates":[[[108.06,12.68],[108.0611,12.6801],[108.0612,12.681],[108.0599,12.6809],[108.06,12.68]]]},"properties":{"variety":"%s"}}`
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = a.do("PATCH", loc, fmt.Sprintf(moved, []string{"TR4", "TR9"}[i]), append(a.auth(), "If-Match", tag)...).status
		}()
	}
	wg.Wait()
	if !(statuses[0] == 200 && statuses[1] == 412 || statuses[0] == 412 && statuses[1] == 200) {
		t.Fatalf("statuses %v, want one 200 and one 412", statuses)
	}
	res = a.do("GET", loc, "")
	if res.header.Get("ETag") != `"v2"` {
		t.Errorf("ETag after one update %q", res.header.Get("ETag"))
	}
	hist := a.do("GET", loc+"/history", "").json(t)
	versions := hist["features"].([]any)
	if len(versions) != 2 {
		t.Fatalf("history has %d versions, want 2 (the current one, then the first)", len(versions))
	}
	first := versions[1].(map[string]any)["geometry"].(map[string]any)["coordinates"].([]any)[0].([]any)[0].([]any)[0].([]any)
	if first[0].(float64) != 108.05 {
		t.Errorf("history geometry starts at %v, want the original 108.05", first)
	}
	var ok, rejected int
	err := a.app.DB().Pool.QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE outcome = 'ok'), count(*) FILTER (WHERE outcome = 'rejected')
		FROM audit_log WHERE action = 'plot.update' AND actor = 'token:e2e'`).Scan(&ok, &rejected)
	if err != nil {
		t.Fatal(err)
	}
	if ok != 1 || rejected != 1 {
		t.Errorf("audit: %d ok and %d rejected updates, want 1 and 1", ok, rejected)
	}

	// Replace, then delete with the current ETag.
	res = a.do("PUT", loc, goodPlot, append(a.auth(), "If-Match", `"v2"`)...)
	if res.status != 200 || res.json(t)["properties"].(map[string]any)["variety"] != nil {
		t.Errorf("PUT: %d %s (variety must be cleared by a full replace)", res.status, res.body)
	}
	if res := a.do("DELETE", loc, "", append(a.auth(), "If-Match", `"v2"`)...); res.status != 412 {
		t.Errorf("stale DELETE: %d", res.status)
	}
	if res := a.do("DELETE", loc, "", append(a.auth(), "If-Match", `"v3"`)...); res.status != 204 {
		t.Errorf("DELETE: %d %s", res.status, res.body)
	}
	if res := a.do("GET", loc, ""); res.status != 404 {
		t.Errorf("GET after delete: %d", res.status)
	}
}

func TestPlotListFiltersAndPages(t *testing.T) {
	a := startApp(t, nil)
	for i := range 7 {
		body := strings.NewReplacer("108.05,", fmt.Sprintf("%.4f,", 108.05+0.01*float64(i)), "108.0511,", fmt.Sprintf("%.4f,", 108.0511+0.01*float64(i)),
			"108.0512,", fmt.Sprintf("%.4f,", 108.0512+0.01*float64(i)), "108.0499,", fmt.Sprintf("%.4f,", 108.0499+0.01*float64(i))).Replace(goodPlot)
		if i%2 == 1 {
			body = strings.Replace(body, "cà phê", "sầu riêng", 1)
		}
		if res := a.do("POST", "/api/v1/plots", body, a.auth()...); res.status != 201 {
			t.Fatalf("create %d: %d %s", i, res.status, res.body)
		}
	}
	seen := 0
	next := "/api/v1/plots?limit=3&bbox=108.0,12.6,108.2,12.8"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		res := a.do("GET", next, "")
		if res.status != 200 {
			t.Fatalf("%s: %d %s", next, res.status, res.body)
		}
		fc := res.json(t)
		if fc["type"] != "FeatureCollection" {
			t.Fatalf("not a FeatureCollection: %s", res.body)
		}
		seen += len(fc["features"].([]any))
		next = ""
		if links, ok := fc["links"].([]any); ok {
			next = links[0].(map[string]any)["href"].(string)
		}
	}
	if seen != 7 {
		t.Errorf("paged through %d plots, want 7", seen)
	}
	tests := []struct {
		query string
		want  int
	}{
		{"crop=durian", 3}, {"crop=S%E1%BA%A7u%20ri%C3%AAng", 3}, {"bbox=108.045,12.67,108.065,12.69", 2}, {"bbox=109,12,110,13", 0},
	}
	for _, tt := range tests {
		res := a.do("GET", "/api/v1/plots?"+tt.query, "")
		if got := len(res.json(t)["features"].([]any)); got != tt.want {
			t.Errorf("%s: %d plots, want %d", tt.query, got, tt.want)
		}
	}
	for _, bad := range []string{"bbox=1,2,3", "bbox=a,b,c,d", "limit=0", "limit=5000", "cursor=zzz", "commune=abc", "producer=-1"} {
		if res := a.do("GET", "/api/v1/plots?"+bad, ""); res.status != 400 {
			t.Errorf("%s: status %d, want 400", bad, res.status)
		}
	}
}

func TestProducersHidePersonalDataFromAnonymousReaders(t *testing.T) {
	a := startApp(t, nil)
	res := a.do("POST", "/api/v1/producers", `{"kind":"household","name":"Nguyễn Thị Hoa","citizen_id":"066190012345","phone":"0912 345 678","commune_code":"24280"}`, a.auth()...)
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	loc := res.header.Get("Location")
	full := a.do("GET", loc, "", a.auth()...).json(t)
	if full["citizen_id"] != "066190012345" || full["phone"] != "+84912345678" || full["province_code"] != "66" {
		t.Errorf("signed-in read: %v", full)
	}
	for _, path := range []string{loc, "/api/v1/producers"} {
		body := string(a.do("GET", path, "").body)
		for _, secret := range []string{"066190012345", "912345678", "Nguyễn Thị Hoa"} {
			if strings.Contains(body, secret) {
				t.Errorf("anonymous GET %s shows %q: %s", path, secret, body)
			}
		}
	}
	a.secret("066190012345", "+84912345678")
	bad := a.do("POST", "/api/v1/producers", `{"kind":"farmer","citizen_id":"123","phone":"abc"}`, a.auth()...)
	if bad.status != 422 {
		t.Fatalf("bad producer: %d", bad.status)
	}
	var e errorBody
	_ = json.Unmarshal(bad.body, &e)
	if len(e.Error.Details) < 4 {
		t.Errorf("want every problem at once (kind, name, citizen_id, phone), got %+v", e.Error.Details)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	a := startApp(t, nil)
	for _, p := range []string{"/healthz", "/readyz"} {
		if res := a.do("GET", p, ""); res.status != 200 {
			t.Errorf("%s: %d", p, res.status)
		}
	}
	if res := a.do("GET", "/api/v1/nothing", ""); res.status != 404 || !strings.Contains(res.errorMessage(), "no such endpoint") {
		t.Errorf("unknown route: %d %s", res.status, res.body)
	}
	if res := a.do("DELETE", "/api/v1/plots", ""); res.status != 405 {
		t.Errorf("wrong method: %d", res.status)
	}
	if res := a.do("GET", "/", ""); res.status != 200 || !strings.Contains(string(res.body), "Vùng Trồng") {
		t.Errorf("home page: %d", res.status)
	}
	_ = time.Now
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vungtrong/vungtrong/web"
)

// expectedAccess is who may call each route: written out here, apart from the server's own
// policy table, so that a change to either is caught. "anyone" includes the anonymous public;
// "signed-in" is every role. A route the server has and this table lacks fails the test.
var expectedAccess = map[string][]string{
	"GET /healthz":                     {"anyone"},
	"GET /readyz":                      {"anyone"},
	"GET /*":                           {"anyone"},
	"GET /api/v1/crops":                {"anyone"},
	"GET /api/v1/plots":                {"anyone"},
	"GET /api/v1/plots/{id}":           {"anyone"},
	"GET /api/v1/plots/{id}/history":   {"anyone"},
	"POST /api/v1/plots":               {"admin", "officer", "cooperative"},
	"PUT /api/v1/plots/{id}":           {"admin", "officer", "cooperative"},
	"PATCH /api/v1/plots/{id}":         {"admin", "officer", "cooperative", "farmer"},
	"DELETE /api/v1/plots/{id}":        {"admin", "officer", "cooperative"},
	"POST /api/v1/plots/check":         {"admin", "officer", "cooperative"},
	"POST /api/v1/plots/merge":         {"admin", "officer", "cooperative"},
	"POST /api/v1/plots/{id}/split":    {"admin", "officer", "cooperative"},
	"POST /api/v1/plots/{id}/restore":  {"admin", "officer", "cooperative"},
	"GET /api/v1/producers":            {"anyone"},
	"GET /api/v1/producers/{id}":       {"anyone"},
	"POST /api/v1/producers":           {"admin", "officer", "cooperative"},
	"PUT /api/v1/producers/{id}":       {"admin", "officer", "cooperative"},
	"PATCH /api/v1/producers/{id}":     {"admin", "officer", "cooperative"},
	"DELETE /api/v1/producers/{id}":    {"admin", "officer", "cooperative"},
	"POST /api/v1/auth/login":          {"anyone"},
	"POST /api/v1/auth/code":           {"anyone"},
	"POST /api/v1/auth/code/verify":    {"anyone"},
	"GET /api/v1/auth/session":         {"anyone"},
	"POST /api/v1/auth/logout":         {"signed-in"},
	"POST /api/v1/auth/password":       {"signed-in"},
	"GET /api/v1/users":                {"admin", "officer", "cooperative"},
	"POST /api/v1/users":               {"admin", "officer", "cooperative"},
	"GET /api/v1/users/{id}":           {"admin", "officer", "cooperative"},
	"POST /api/v1/users/{id}/password": {"admin", "officer", "cooperative"},
	"POST /api/v1/users/{id}/disable":  {"admin", "officer", "cooperative"},
	"GET /api/v1/tokens":               {"signed-in"},
	"POST /api/v1/tokens":              {"signed-in"},
	"DELETE /api/v1/tokens/{id}":       {"signed-in"},
	"GET /api/v1/audit":                {"admin", "officer"},
	"POST /api/v1/imports":             {"admin", "officer"},
	"GET /api/v1/imports/{id}":         {"admin", "officer"},
	// The route is open; the handler admits metrics.allow_from and administrators (TestMetrics).
	"GET /metrics":                                              {"anyone"},
	"POST /api/v1/imports/{id}/commit":                          {"admin", "officer"},
	"POST /api/v1/eudr/exports":                                 {"admin", "officer", "cooperative", "exporter"},
	"GET /api/v1/eudr/exports/{id}":                             {"admin", "officer", "cooperative", "exporter"},
	"GET /api/v1/eudr/exports/{id}/file":                        {"admin", "officer", "cooperative", "exporter"},
	"GET /api/v1/growing-areas/{id}":                            {"anyone"},
	"POST /api/v1/growing-areas":                                {"admin", "officer", "cooperative"},
	"POST /api/v1/codes/{code}/visits":                          {"admin", "officer"},
	"GET /api/v1/codes/{code}/visits":                           {"admin", "officer", "cooperative", "exporter"},
	"GET /api/v1/supervision/overdue":                           {"admin", "officer"},
	"POST /api/v1/applications":                                 {"admin", "officer", "cooperative", "exporter"},
	"GET /api/v1/applications":                                  {"admin", "officer", "cooperative", "exporter"},
	"GET /api/v1/applications/{id}":                             {"admin", "officer", "cooperative", "exporter"},
	"PATCH /api/v1/applications/{id}":                           {"admin", "officer", "cooperative", "exporter"},
	"POST /api/v1/applications/{id}/status":                     {"admin", "officer", "cooperative", "exporter"},
	"POST /api/v1/applications/{id}/attachments":                {"admin", "officer", "cooperative", "exporter"},
	"GET /api/v1/applications/{id}/attachments/{attachment}":    {"admin", "officer", "cooperative", "exporter"},
	"DELETE /api/v1/applications/{id}/attachments/{attachment}": {"admin", "officer", "cooperative", "exporter"},
	"POST /api/v1/applications/{id}/inspection":                 {"admin", "officer"},
	"GET /api/v1/inspections/{id}/photos/{photo}":               {"admin", "officer", "cooperative", "exporter"},
	"POST /api/v1/applications/{id}/decision":                   {"admin", "officer"},
	"GET /api/v1/inbox":                                         {"admin", "officer"},
	"GET /api/v1/organisation":                                  {"cooperative", "exporter"},
	"GET /api/v1/seasonal-reports/missing":                      {"admin", "officer", "cooperative", "exporter"},
	"GET /api/v1/growing-areas/{id}/plots":                      {"admin", "officer", "cooperative", "exporter"},
	"GET /api/v1/growing-areas/{id}/households.csv":             {"admin", "officer", "cooperative", "exporter"},
	"GET /api/v1/growing-areas/{id}/dossier.kml":                {"admin", "officer", "cooperative", "exporter"},
	"GET /print/growing-areas/{id}/households":                  {"admin", "officer", "cooperative", "exporter"},
	"GET /print/codes/{code}":                                   {"admin", "officer", "cooperative", "exporter"},
	"PUT /api/v1/growing-areas/{id}/plots":                      {"admin", "officer", "cooperative"},
	"POST /api/v1/growing-areas/{id}/seasonal-reports":          {"admin", "officer", "cooperative", "exporter"},
	"GET /api/v1/growing-areas/{id}/seasonal-reports":           {"admin", "officer", "cooperative", "exporter"},
	"PATCH /api/v1/seasonal-reports/{id}":                       {"admin", "officer", "cooperative", "exporter"},
	"POST /api/v1/codes/{code}/market-steps":                    {"admin", "officer"},
	"GET /api/v1/codes/{code}/market-steps":                     {"anyone"},
	"GET /api/v1/province-letters":                              {"signed-in"},
	"PUT /api/v1/province-letters/{province}":                   {"admin"},
	"POST /api/v1/packing-houses":                               {"admin", "officer", "cooperative", "exporter"},
	"PATCH /api/v1/packing-houses/{id}":                         {"admin", "officer", "cooperative", "exporter"},
	"PUT /api/v1/packing-houses/{id}/growing-areas/{area}":      {"admin", "officer"},
	"GET /api/v1/packing-houses/{id}":                           {"anyone"},
	"GET /api/v1/codes/{code}":                                  {"anyone"},
	"POST /api/v1/codes/{code}/status":                          {"admin", "officer"},
	"GET /api/v1/search":                                        {"anyone"},
	"POST /api/v1/codes/check":                                  {"anyone"},
	"POST /api/v1/lots":                                         {"admin", "officer", "cooperative", "exporter"},
	"GET /api/v1/lots":                                          {"admin", "officer", "cooperative", "exporter"},
	"GET /api/v1/lots/{ref}":                                    {"anyone"},
	"POST /api/v1/lots/{ref}/receive":                           {"admin", "officer", "cooperative", "exporter"},
	"POST /api/v1/consignments":                                 {"admin", "officer", "exporter"},
	"GET /api/v1/consignments":                                  {"admin", "officer", "exporter"},
	"GET /api/v1/consignments/{ref}":                            {"anyone"},
	"GET /api/v1/consignments/{ref}/check":                      {"admin", "officer", "exporter"},
	"GET /api/v1/consignments/{ref}/epcis":                      {"admin", "officer", "exporter"},
	"GET /v/{code}":                                             {"anyone"},
	"GET /v/{code}/qr.{ext}":                                    {"anyone"},
	"GET /t/{code}":                                             {"anyone"},
	"GET /t/{code}/qr.{ext}":                                    {"anyone"},
	"GET /api/v1/trace/report":                                  {"admin", "officer"},
	"GET /tiles/{layer}/{z}/{x}/{y}":                            {"anyone"},
	"GET /tiles/{layerjson}":                                    {"anyone"},
	"GET /style.json":                                           {"anyone"},
}

// routeDenial matches the answers of the route rule itself (not of a handler further in).
var routeDenial = regexp.MustCompile(`^(unauthorized: sign in, or send|forbidden: your role \(\w+\) may not use|forbidden: .* has no access rule)`)

func TestRoleByRouteMatrix(t *testing.T) {
	a := startApp(t, func(c *Config) { c.Auth.CodeSender = "log" })
	ps := a.people()
	srv := a.app.Handler().(*web.Server)

	// Every route the server has is in both tables, and the tables agree.
	routes := srv.Routes()
	policy := web.RoutePolicy()
	for _, r := range routes {
		want, ok := expectedAccess[r]
		if !ok {
			t.Errorf("route %s has no expected access in this test: add a rule for it here and in web/policy.go", r)
			continue
		}
		got := slices.Clone(policy[r])
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("route %s: policy allows %v, this test expects %v", r, got, want)
		}
	}
	if len(routes) < len(expectedAccess) {
		t.Errorf("the server has %d routes, this test expects %d", len(routes), len(expectedAccess))
	}

	// Every role, anonymous included, calls every route for real.
	callers := map[string]*client{"anonymous": a.anonymous()}
	roleOf := map[string]string{"anonymous": ""}
	for _, who := range []string{"admin", "officerA", "coop", "exporter", "farmer1"} {
		callers[who] = a.tokenClient(ps, who)
		roleOf[who] = map[string]string{"admin": "admin", "officerA": "officer", "coop": "cooperative", "exporter": "exporter", "farmer1": "farmer"}[who]
	}
	checked := 0
	for _, r := range routes {
		method, pattern, _ := strings.Cut(r, " ")
		path := strings.NewReplacer("{id}", "987654", "/*", "/", "{code}", "VN-XXOR-9999", "{layerjson}", "plots.json",
			"{layer}", "plots", "{z}", "14", "{x}", "13109", "{y}", "7610.mvt", "{ref}", "L-XXXXXXXX", "{ext}", "svg").Replace(pattern)
		body := ""
		if method != "GET" && method != "DELETE" {
			body = "{}"
		}
		for who, c := range callers {
			role := roleOf[who]
			want := expectedAccess[r]
			allowed := slices.Contains(want, "anyone") || (role != "" && (slices.Contains(want, "signed-in") || slices.Contains(want, role)))
			res := c.do(method, path, body)
			msg := res.errorMessage()
			denied := (res.status == 401 || res.status == 403) && routeDenial.MatchString(msg)
			switch {
			case res.status >= 500:
				t.Errorf("%s as %s: %d %s", r, who, res.status, res.body)
			case allowed && denied:
				t.Errorf("%s as %s: refused (%d %s), want allowed", r, who, res.status, msg)
			case !allowed && !denied:
				t.Errorf("%s as %s: %d %s, want refused by the route rule", r, who, res.status, msg)
			case !allowed && role == "" && res.status != 401:
				t.Errorf("%s anonymously: %d, want 401", r, res.status)
			case !allowed && role != "" && res.status != 403:
				t.Errorf("%s as %s: %d, want 403", r, who, res.status)
			}
			checked++
		}
	}
	if checked < 6*len(expectedAccess) {
		t.Errorf("checked %d calls, want %d", checked, 6*len(expectedAccess))
	}
}

func TestOfficerActsOnlyInTheirJurisdiction(t *testing.T) {
	a := startApp(t, nil)
	ps := a.people()
	officer := a.signIn(ps, "officerA")
	plotB := fmt.Sprintf("/api/v1/plots/%d", ps.pB)
	plot1 := fmt.Sprintf("/api/v1/plots/%d", ps.p1)

	if res := officer.do("PATCH", plotB, `{"properties":{"variety":"TR4"}}`, "If-Match", a.etagOf(plotB)); res.status != 403 || !strings.Contains(res.errorMessage(), "outside your jurisdiction") {
		t.Errorf("editing a plot in province B: %d %s", res.status, res.body)
	}
	if res := officer.do("DELETE", plotB, "", "If-Match", a.etagOf(plotB)); res.status != 403 {
		t.Errorf("deleting a plot in province B: %d %s", res.status, res.body)
	}
	move := plotIn(0.1, `{}`) // into commune B's boundary
	before := a.etagOf(plot1)
	if res := officer.do("PATCH", plot1, move, "If-Match", before); res.status != 403 || !strings.Contains(res.errorMessage(), "province 68") {
		t.Errorf("moving a plot into province B: %d %s", res.status, res.body)
	}
	if a.etagOf(plot1) != before {
		t.Error("a refused move changed the plot")
	}
	if res := officer.do("PATCH", plot1, `{"properties":{"variety":"TR9"}}`, "If-Match", before); res.status != 200 {
		t.Errorf("editing a plot in province A: %d %s", res.status, res.body)
	}
	// Personal fields: in full for producers in A, never for producers in B.
	inA := string(officer.do("GET", fmt.Sprintf("/api/v1/producers/%d", ps.hh1), "").body)
	if !strings.Contains(inA, ps.citizenIDs["Nguyễn Văn Một"]) {
		t.Errorf("officer A does not see the citizen ID of a producer in A: %s", inA)
	}
	for _, path := range []string{fmt.Sprintf("/api/v1/producers/%d", ps.hhB), "/api/v1/producers?limit=100", plotB} {
		body := string(officer.do("GET", path, "").body)
		for _, personal := range []string{ps.citizenIDs["Lê Văn Ba"], "Lê Văn Ba", "905000003", "CS-"} {
			if strings.Contains(body, personal) && !(path == "/api/v1/producers?limit=100" && personal == "CS-") {
				t.Errorf("officer A sees %q of province B at %s", personal, path)
			}
		}
	}
	// Officer B, the other way round.
	officerB := a.signIn(ps, "officerB")
	if res := officerB.do("PATCH", plot1, `{"properties":{"variety":"TR4"}}`, "If-Match", a.etagOf(plot1)); res.status != 403 {
		t.Errorf("officer B editing a plot in A: %d", res.status)
	}
	// The refusals are in the log, as denied.
	var denied int
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE outcome = 'denied' AND actor IN ('user:officer-a', 'user:officer-b')`).Scan(&denied); err != nil {
		t.Fatal(err)
	}
	if denied != 4 {
		t.Errorf("%d denied writes in the audit log, want 4", denied)
	}
}

func TestFarmerSeesOnlyTheirOwnPlots(t *testing.T) {
	a := startApp(t, nil)
	ps := a.people()
	farmer := a.signIn(ps, "farmer1")
	list := farmer.do("GET", "/api/v1/plots", "").json(t)["features"].([]any)
	if len(list) != 1 || int64(list[0].(map[string]any)["id"].(float64)) != ps.p1 {
		t.Fatalf("farmer 1 lists %d plots, want only their own", len(list))
	}
	own := farmer.do("GET", fmt.Sprintf("/api/v1/plots/%d", ps.p1), "")
	if own.status != 200 || !strings.Contains(string(own.body), `"land_cert_no":"CS-`) {
		t.Errorf("own plot: %d %s", own.status, own.body)
	}
	for _, id := range []int64{ps.p2, ps.pB} {
		path := fmt.Sprintf("/api/v1/plots/%d", id)
		if res := farmer.do("GET", path, ""); res.status != 404 {
			t.Errorf("another farmer's plot %d: %d, want 404", id, res.status)
		}
		if res := farmer.do("PATCH", path, `{"properties":{"variety":"x"}}`, "If-Match", a.etagOf(path)); res.status != 404 {
			t.Errorf("editing another farmer's plot %d: %d, want 404", id, res.status)
		}
		if res := farmer.do("GET", path+"/history", ""); res.status != 404 {
			t.Errorf("history of another farmer's plot %d: %d, want 404", id, res.status)
		}
	}
	p1 := fmt.Sprintf("/api/v1/plots/%d", ps.p1)
	if res := farmer.do("PATCH", p1, `{"properties":{"variety":"Xanh lùn","planting_year":2019}}`, "If-Match", a.etagOf(p1)); res.status != 200 {
		t.Errorf("a farmer updating their own plot's variety: %d %s", res.status, res.body)
	}
	if res := farmer.do("PATCH", p1, plotIn(0.001, `{}`), "If-Match", a.etagOf(p1)); res.status != 403 {
		t.Errorf("a farmer moving their plot's boundary: %d %s", res.status, res.body)
	}
	if res := farmer.do("DELETE", p1, "", "If-Match", a.etagOf(p1)); res.status != 403 {
		t.Errorf("a farmer deleting their plot: %d", res.status)
	}
	producers := farmer.do("GET", "/api/v1/producers", "").json(t)["producers"].([]any)
	if len(producers) != 1 {
		t.Errorf("farmer 1 lists %d producers, want only their own record", len(producers))
	}
	if res := farmer.do("GET", fmt.Sprintf("/api/v1/producers/%d", ps.hh2), ""); res.status != 404 {
		t.Errorf("another household's record: %d, want 404", res.status)
	}
	// The cooperative sees and edits its member's plot, not the non-member's.
	coop := a.signIn(ps, "coop")
	if res := coop.do("PATCH", p1, `{"properties":{"variety":"TR4"}}`, "If-Match", a.etagOf(p1)); res.status != 200 {
		t.Errorf("cooperative editing its member's plot: %d %s", res.status, res.body)
	}
	p2 := fmt.Sprintf("/api/v1/plots/%d", ps.p2)
	if res := coop.do("PATCH", p2, `{"properties":{"variety":"TR4"}}`, "If-Match", a.etagOf(p2)); res.status != 403 {
		t.Errorf("cooperative editing a non-member's plot: %d", res.status)
	}
	// The exporter reads codes and plots but no personal data.
	exporter := a.signIn(ps, "exporter")
	body := string(exporter.do("GET", "/api/v1/producers?limit=100", "").body)
	for _, id := range ps.citizenIDs {
		if strings.Contains(body, id) {
			t.Error("an exporter sees a citizen ID")
		}
	}
}

func TestLoginThrottle(t *testing.T) {
	a := startApp(t, func(c *Config) { c.Auth.LoginWindow = 2 * time.Second; c.Auth.LoginMaxFailures = 10 })
	ps := a.people()
	anon := a.anonymous()
	login := func(who, password string) response {
		return anon.do("POST", "/api/v1/auth/login", fmt.Sprintf(`{"login":%q,"password":%q}`, ps.login(who), password))
	}
	var statuses []int
	for i := range 20 {
		statuses = append(statuses, login("officerA", fmt.Sprintf("wrong-%02d-password", i)).status)
	}
	if statuses[0] != 401 || statuses[19] != 429 {
		t.Fatalf("statuses of 20 wrong passwords: %v, want 401 first and 429 last", statuses)
	}
	blocked := login("officerA", ps.passwords["officerA"])
	if blocked.status != 429 {
		t.Fatalf("the right password right after: %d, want 429 until the window ends", blocked.status)
	}
	if ra, _ := strconv.Atoi(blocked.header.Get("Retry-After")); ra < 1 {
		t.Errorf("Retry-After %q", blocked.header.Get("Retry-After"))
	}
	if res := login("coop", ps.passwords["coop"]); res.status != 429 {
		t.Errorf("another account from the same address: %d, want 429 (the address is blocked too)", res.status)
	}
	time.Sleep(2100 * time.Millisecond)
	if res := login("officerA", ps.passwords["officerA"]); res.status != 200 {
		t.Errorf("the right password after the window: %d %s", res.status, res.body)
	}
	// An unknown account and a wrong password get the same answer.
	unknown := anon.do("POST", "/api/v1/auth/login", `{"login":"nobody","password":"whatever-1"}`)
	wrong := login("coop", "whatever-1")
	if unknown.status != 401 || wrong.status != 401 || unknown.errorMessage() != wrong.errorMessage() {
		t.Errorf("unknown account %d %q, wrong password %d %q: want the same 401", unknown.status, unknown.errorMessage(), wrong.status, wrong.errorMessage())
	}
}

func TestPublicEndpointsAreRateLimited(t *testing.T) {
	a := startApp(t, func(c *Config) { c.HTTP.PublicRate = 1; c.HTTP.PublicBurst = 3 })
	var last response
	for range 5 {
		last = a.anonymous().do("GET", "/api/v1/crops", "")
	}
	if last.status != 429 || last.header.Get("Retry-After") == "" {
		t.Errorf("the 5th anonymous call in a burst of 3: %d, Retry-After %q", last.status, last.header.Get("Retry-After"))
	}
	if res := a.do("GET", "/api/v1/crops", "", a.auth()...); res.status != 200 {
		t.Errorf("a signed-in caller is limited with the public: %d", res.status)
	}
}

func TestCSRF(t *testing.T) {
	a := startApp(t, nil)
	ps := a.people()
	officer := a.signIn(ps, "officerA")
	token := officer.csrf
	body := plotIn(0.01, `{"crop":"coffee"}`)
	officer.csrf = ""
	if res := officer.do("POST", "/api/v1/plots", body); res.status != 403 || !strings.Contains(res.errorMessage(), "CSRF") {
		t.Errorf("a write with the session cookie and no CSRF token: %d %s", res.status, res.body)
	}
	officer.csrf = "forged-token-value"
	if res := officer.do("POST", "/api/v1/plots", body); res.status != 403 {
		t.Errorf("a write with a wrong CSRF token: %d", res.status)
	}
	if res := officer.do("POST", "/api/v1/auth/logout", ""); res.status != 403 {
		t.Errorf("signing out without the CSRF token: %d", res.status)
	}
	officer.csrf = token
	if res := officer.do("POST", "/api/v1/plots", body); res.status != 201 {
		t.Errorf("with the CSRF token: %d %s", res.status, res.body)
	}
	if n := a.plotCount(); n != 4 {
		t.Errorf("%d plots, want the 3 of the fixture and 1 created with the token", n)
	}
	// A cross-site form can post text/plain: sign-in takes JSON only.
	res := a.anonymous().do("POST", "/api/v1/auth/login", "", "Content-Type", "text/plain")
	if res.status != 415 {
		t.Errorf("sign-in as text/plain: %d, want 415", res.status)
	}
	// Signing out ends the session for good.
	if res := officer.do("POST", "/api/v1/auth/logout", ""); res.status != 204 {
		t.Fatalf("sign-out: %d", res.status)
	}
	if res := officer.do("GET", "/api/v1/auth/session", "").json(t); res["signed_in"] != false {
		t.Errorf("after sign-out: %v", res)
	}
}

func TestEveryWriteLeavesExactlyOneAuditRow(t *testing.T) {
	a := startApp(t, nil)
	ps := a.people()
	admin := a.signIn(ps, "admin")
	officer := a.signIn(ps, "officerA")
	n := 0
	write := func(c *client, method, path, body string, headers ...string) response {
		n++
		id := fmt.Sprintf("audit-test-%02d", n)
		res := c.do(method, path, body, append(headers, "X-Request-Id", id)...)
		var rows, before, after int
		err := a.app.DB().Pool.QueryRow(context.Background(),
			`SELECT count(*), count(before), count(after) FROM audit_log WHERE request_id = $1`, id).Scan(&rows, &before, &after)
		if err != nil {
			t.Fatal(err)
		}
		if rows != 1 {
			t.Errorf("%s %s (%d): %d audit rows, want exactly 1", method, path, res.status, rows)
		}
		creating := method == "POST" && res.status == 201
		changing := res.status == 200 || res.status == 204
		switch {
		case creating && after != 1:
			t.Errorf("%s %s: the audit row has no after", method, path)
		case changing && (before != 1 || after != 1):
			t.Errorf("%s %s: the audit row has before %d after %d, want both", method, path, before, after)
		}
		return res
	}
	created := write(admin, "POST", "/api/v1/producers", `{"kind":"household","name":"Phạm Văn Bốn","citizen_id":"066090000004","commune_code":"24280"}`)
	a.secret("066090000004")
	producer := created.header.Get("Location")
	write(admin, "PATCH", producer, `{"phone":"0905000004"}`, "If-Match", `"v1"`)
	plot := write(officer, "POST", "/api/v1/plots", plotIn(0.02, `{"crop":"durian"}`)).header.Get("Location")
	write(officer, "PATCH", plot, `{"properties":{"variety":"Ri6"}}`, "If-Match", `"v1"`)
	write(officer, "PATCH", plot, `{"properties":{"variety":"Musang King"}}`, "If-Match", `"v1"`)                         // stale: 412
	write(officer, "PATCH", fmt.Sprintf("/api/v1/plots/%d", ps.pB), `{"properties":{"variety":"x"}}`, "If-Match", `"v1"`) // denied: 403
	write(officer, "DELETE", plot, "", "If-Match", `"v2"`)
	user := write(officer, "POST", "/api/v1/users", fmt.Sprintf(`{"phone":"0905000004","display_name":"Phạm Văn Bốn","role":"farmer","producer_id":%s}`, strings.TrimPrefix(producer, "/api/v1/producers/")))
	var made struct {
		User     struct{ ID int64 } `json:"user"`
		Password string             `json:"password"`
	}
	_ = json.Unmarshal(user.body, &made)
	a.secret(made.Password)
	write(officer, "POST", fmt.Sprintf("/api/v1/users/%d/password", made.User.ID), `{"password":"new-farmer-password"}`)
	a.secret("new-farmer-password")
	tok := write(admin, "POST", "/api/v1/tokens", `{"name":"laptop"}`)
	var tj struct {
		Token  struct{ ID int64 } `json:"token"`
		Secret string             `json:"secret"`
	}
	_ = json.Unmarshal(tok.body, &tj)
	a.secret(tj.Secret)
	write(admin, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", tj.Token.ID), "")
	write(officer, "POST", fmt.Sprintf("/api/v1/users/%d/disable", made.User.ID), "")

	// The log has no route that changes or deletes it.
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		if res := admin.do(m, "/api/v1/audit", "{}"); res.status != 405 {
			t.Errorf("%s /api/v1/audit: %d, want 405", m, res.status)
		}
		if res := admin.do(m, "/api/v1/audit/1", "{}"); res.status != 404 && res.status != 405 {
			t.Errorf("%s /api/v1/audit/1: %d", m, res.status)
		}
	}
	// Officers read their jurisdiction's log; admins all of it; farmers none.
	entries := officer.do("GET", "/api/v1/audit?limit=1000", "").json(t)["entries"].([]any)
	for _, e := range entries {
		if p := e.(map[string]any)["province_code"]; p != provinceA {
			t.Errorf("officer A reads an audit entry of province %v", p)
		}
	}
	all := admin.do("GET", "/api/v1/audit?limit=1000", "").json(t)["entries"].([]any)
	if len(entries) == 0 || len(all) <= len(entries) {
		t.Errorf("officer reads %d entries, admin %d: want some, and more for the admin", len(entries), len(all))
	}
	if res := a.signIn(ps, "farmer1").do("GET", "/api/v1/audit", ""); res.status != 403 {
		t.Errorf("a farmer reading the audit log: %d", res.status)
	}
	filtered := admin.do("GET", "/api/v1/audit?request_id=audit-test-04", "").json(t)["entries"].([]any)
	if len(filtered) != 1 || filtered[0].(map[string]any)["action"] != "plot.update" {
		t.Errorf("filter by request id: %v", filtered)
	}
}

func TestSecretsAreStoredHashed(t *testing.T) {
	a := startApp(t, nil)
	ps := a.people()
	c := a.signIn(ps, "officerA")
	ctx := context.Background()
	var hash string
	if err := a.app.DB().Pool.QueryRow(ctx, `SELECT password_hash FROM app_user WHERE username = 'officer-a'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$") || strings.Contains(hash, ps.passwords["officerA"]) {
		t.Errorf("password stored as %q", hash)
	}
	// Nothing in the database holds a password, token, session cookie or CSRF-free secret in clear.
	dump := a.dumpDatabase()
	for _, s := range []string{ps.passwords["officerA"], testAdminPassword, a.token} {
		if strings.Contains(dump, s) {
			t.Errorf("the database holds a secret in clear (%.4s…)", s)
		}
	}
	sessionCookie := ""
	for _, s := range a.secrets {
		if len(s) == 43 && s != c.csrf { // base64 of 32 bytes: the session secret
			sessionCookie = s
		}
	}
	if sessionCookie == "" || strings.Contains(dump, sessionCookie) {
		t.Errorf("session secret found %v in the database (or not found in the test)", sessionCookie != "")
	}
}

// dumpDatabase returns every row of every table as text, for searching.
func (a *testApp) dumpDatabase() string {
	a.t.Helper()
	ctx := context.Background()
	rows, err := a.app.DB().Pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)
	if err != nil {
		a.t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		tables = append(tables, s)
	}
	rows.Close()
	var b strings.Builder
	for _, tbl := range tables {
		rows, err := a.app.DB().Pool.Query(ctx, `SELECT t::text FROM `+tbl+` t`)
		if err != nil {
			a.t.Fatal(err)
		}
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			b.WriteString(s)
			b.WriteByte('\n')
		}
		rows.Close()
	}
	return b.String()
}

func TestFirstAdminAndOneTimePasswords(t *testing.T) {
	a := startApp(t, func(c *Config) { c.Auth.AdminPassword = "" })
	m := regexp.MustCompile(`password:\s+(\S+)`).FindStringSubmatch(a.stdout.String())
	if m == nil {
		t.Fatalf("the first admin's password was not printed:\n%s", a.stdout.String())
	}
	a.secret(m[1])
	c := &client{a: a, http: a.anonymous().http}
	jarClient := a.signInAs("admin", m[1])
	if res := jarClient.do("POST", "/api/v1/producers", `{"kind":"household","name":"X"}`); res.status != 403 || !strings.Contains(res.errorMessage(), "choose a new password first") {
		t.Errorf("working before changing a one-time password: %d %s", res.status, res.body)
	}
	if res := jarClient.do("POST", "/api/v1/auth/password", `{"current_password":"`+m[1]+`","new_password":"short"}`); res.status != 422 {
		t.Errorf("a too short new password: %d", res.status)
	}
	if res := jarClient.do("POST", "/api/v1/auth/password", `{"current_password":"`+m[1]+`","new_password":"a-much-better-password"}`); res.status != 204 {
		t.Fatalf("changing the password: %d %s", res.status, res.body)
	}
	a.secret("a-much-better-password")
	if res := jarClient.do("POST", "/api/v1/producers", `{"kind":"household","name":"Nguyễn Văn Năm"}`); res.status != 201 {
		t.Errorf("working after the change: %d %s", res.status, res.body)
	}
	if res := c.do("POST", "/api/v1/auth/login", `{"login":"admin","password":"`+m[1]+`"}`); res.status != 401 {
		t.Errorf("the one-time password still works: %d", res.status)
	}
	if strings.Contains(a.logs.String(), m[1]) {
		t.Error("the made-up password reached the log")
	}
}

func TestFarmerSignsInWithACode(t *testing.T) {
	a := startApp(t, func(c *Config) { c.Auth.CodeSender = "log" })
	ps := a.people()
	anon := a.anonymous()
	if res := anon.do("POST", "/api/v1/auth/code", `{"phone":"0905000001"}`); res.status != 202 {
		t.Fatalf("asking for a code: %d %s", res.status, res.body)
	}
	if res := anon.do("POST", "/api/v1/auth/code", `{"phone":"0999999999"}`); res.status != 202 {
		t.Errorf("a phone without an account gets another answer: %d", res.status)
	}
	m := regexp.MustCompile(`phone=\+84\*+001 code=(\d{6})`).FindStringSubmatch(a.logs.String())
	if m == nil {
		t.Fatalf("no code for the masked phone in the log:\n%s", a.logs.String())
	}
	if strings.Contains(a.logs.String(), "905000001") {
		t.Error("the log shows the phone number unmasked")
	}
	wrong := "000000"
	if m[1] == wrong {
		wrong = "111111"
	}
	if res := anon.do("POST", "/api/v1/auth/code/verify", `{"phone":"0905000001","code":"`+wrong+`"}`); res.status != 401 {
		t.Errorf("a wrong code: %d", res.status)
	}
	res := anon.do("POST", "/api/v1/auth/code/verify", `{"phone":"0905000001","code":"`+m[1]+`"}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"role":"farmer"`) {
		t.Errorf("the right code: %d %s", res.status, res.body)
	}
	if res := anon.do("POST", "/api/v1/auth/code/verify", `{"phone":"0905000001","code":"`+m[1]+`"}`); res.status != 401 {
		t.Errorf("a code used twice: %d", res.status)
	}
	_ = ps
}

func TestCookiesAreSecureBehindTLS(t *testing.T) {
	a := startApp(t, func(c *Config) { c.HTTP.TrustProxy = true })
	body := `{"login":"admin","password":"` + testAdminPassword + `"}`
	plain := a.anonymous().do("POST", "/api/v1/auth/login", body)
	tls := a.anonymous().do("POST", "/api/v1/auth/login", body, "X-Forwarded-Proto", "https")
	for _, c := range []struct {
		res  response
		want bool
	}{{plain, false}, {tls, true}} {
		cookies := c.res.header.Values("Set-Cookie")
		if len(cookies) != 2 {
			t.Fatalf("%d cookies set: %v", len(cookies), cookies)
		}
		for _, ck := range cookies {
			if strings.Contains(ck, "; Secure") != c.want || !strings.Contains(ck, "SameSite=Lax") {
				t.Errorf("cookie %.40s…: Secure %v, want %v; SameSite=Lax always", ck, strings.Contains(ck, "; Secure"), c.want)
			}
			if strings.HasPrefix(ck, "vt_session=") && !strings.Contains(ck, "HttpOnly") {
				t.Error("the session cookie is not HttpOnly")
			}
			a.secret(strings.SplitN(strings.SplitN(ck, ";", 2)[0], "=", 2)[1])
		}
	}
}

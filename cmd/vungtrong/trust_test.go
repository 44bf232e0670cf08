package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// After 10 failed sign-ins, every spelling of the same phone number is locked, from any
// address: the lockout counts the account, not the login as typed.
func TestLockoutCountsEverySpellingOfAPhone(t *testing.T) {
	a := startApp(t, func(c *Config) { c.HTTP.TrustProxy = true })
	ps := a.people()
	anon := a.anonymous()
	spellings := []string{"0905 000 001", "0905000001", "+84905000001", "84 905 000 001", "0905.000.001", "(0905) 000-001"}
	for i := range 10 {
		res := anon.do("POST", "/api/v1/auth/login", fmt.Sprintf(`{"login":%q,"password":"wrong-password-%d"}`, spellings[i%len(spellings)], i),
			"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
		if res.status != 401 {
			t.Fatalf("failure %d: %d %s", i, res.status, res.body)
		}
	}
	for i, login := range append(spellings, "+84 905 000 001") {
		res := anon.do("POST", "/api/v1/auth/login", fmt.Sprintf(`{"login":%q,"password":%q}`, login, ps.passwords["farmer1"]),
			"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		if res.status != 429 {
			t.Errorf("%q from a fresh address after 10 failures: %d, want 429", login, res.status)
		}
	}
}

// Behind one trusted proxy, the client address is the entry the proxy appended (the last):
// what the client wrote before it changes nothing.
func TestForwardedForTrustsOnlyTheProxysEntry(t *testing.T) {
	a := startApp(t, func(c *Config) { c.HTTP.TrustProxy = true; c.HTTP.TrustedHops = 1 })
	anon := a.anonymous()
	for i := range 10 {
		res := anon.do("POST", "/api/v1/auth/login", fmt.Sprintf(`{"login":"nobody-%d","password":"wrong-password"}`, i),
			"X-Forwarded-For", fmt.Sprintf("10.9.%d.1, 192.0.2.7", i))
		if res.status != 401 {
			t.Fatalf("failure %d: %d", i, res.status)
		}
	}
	res := anon.do("POST", "/api/v1/auth/login", `{"login":"nobody-else","password":"wrong-password"}`, "X-Forwarded-For", "10.200.0.1, 192.0.2.7")
	if res.status != 429 {
		t.Errorf("a new first entry before the proxy's 192.0.2.7: %d, want 429 (the address counted is the proxy's entry)", res.status)
	}
	res = anon.do("POST", "/api/v1/auth/login", `{"login":"nobody-else","password":"wrong-password"}`, "X-Forwarded-For", "192.0.2.8")
	if res.status != 401 {
		t.Errorf("another client behind the proxy: %d, want 401", res.status)
	}
	// With two hops (a CDN and a load balancer), the client is the second entry from the right.
	b := startApp(t, func(c *Config) { c.HTTP.TrustProxy = true; c.HTTP.TrustedHops = 2 })
	for i := range 10 {
		b.anonymous().do("POST", "/api/v1/auth/login", fmt.Sprintf(`{"login":"nobody-%d","password":"wrong-password"}`, i),
			"X-Forwarded-For", fmt.Sprintf("10.9.%d.1, 192.0.2.7, 172.16.0.%d", i, i))
	}
	if res := b.anonymous().do("POST", "/api/v1/auth/login", `{"login":"x-y","password":"wrong-password"}`, "X-Forwarded-For", "1.1.1.1, 192.0.2.7, 172.16.0.99"); res.status != 429 {
		t.Errorf("two hops: %d, want 429 for client 192.0.2.7", res.status)
	}
}

// A password change ends the account's other sessions and revokes its API tokens; the session
// that made the change goes on. Wrong current passwords are throttled like sign-ins. A reset by
// an officer or admin ends every session and token.
func TestPasswordChangeEndsOtherSessionsAndTokens(t *testing.T) {
	a := startApp(t, nil)
	ps := a.people()
	here := a.signIn(ps, "officerA")
	there := a.signIn(ps, "officerA")
	token := a.tokenClient(ps, "officerA")
	for _, c := range []*client{here, there, token} {
		if res := c.do("GET", "/api/v1/tokens", ""); res.status != 200 {
			t.Fatalf("before the change: %d", res.status)
		}
	}
	newPassword := "a-new-password-2026"
	a.secret(newPassword)
	if res := here.do("POST", "/api/v1/auth/password", fmt.Sprintf(`{"current_password":%q,"new_password":%q}`, ps.passwords["officerA"], newPassword)); res.status != 204 {
		t.Fatalf("change: %d %s", res.status, res.body)
	}
	if res := here.do("GET", "/api/v1/tokens", ""); res.status != 200 {
		t.Errorf("the session that changed the password: %d, want 200", res.status)
	}
	if res := there.do("GET", "/api/v1/tokens", ""); res.status != 401 {
		t.Errorf("the account's other session after the change: %d, want 401", res.status)
	}
	if res := token.do("GET", "/api/v1/tokens", ""); res.status != 401 {
		t.Errorf("the account's API token after the change: %d, want 401", res.status)
	}
	// Wrong current passwords: 10 are refused, then the change endpoint is locked.
	var last int
	for i := range 11 {
		last = here.do("POST", "/api/v1/auth/password", fmt.Sprintf(`{"current_password":"wrong-%02d-password","new_password":"another-password-1"}`, i)).status
		if i < 10 && last != 401 {
			t.Fatalf("wrong current password %d: %d", i, last)
		}
	}
	if last != 429 {
		t.Errorf("the 11th wrong current password: %d, want 429", last)
	}
	// An admin's reset of the farmer's password ends the farmer's sessions and tokens.
	farmer := a.signIn(ps, "farmer1")
	farmerToken := a.tokenClient(ps, "farmer1")
	admin := a.signIn(ps, "admin")
	reset := "reset-password-2026"
	a.secret(reset)
	if res := admin.do("POST", fmt.Sprintf("/api/v1/users/%d/password", ps.ids["farmer1"]), fmt.Sprintf(`{"password":%q}`, reset)); res.status != 200 && res.status != 204 {
		t.Fatalf("reset: %d %s", res.status, res.body)
	}
	for name, c := range map[string]*client{"session": farmer, "token": farmerToken} {
		if res := c.do("GET", "/api/v1/tokens", ""); res.status != 401 {
			t.Errorf("the farmer's %s after a reset: %d, want 401", name, res.status)
		}
	}
}

// Every answer carries the security headers; HSTS only over TLS.
func TestSecurityHeaders(t *testing.T) {
	a := startApp(t, func(c *Config) { c.HTTP.TrustProxy = true })
	for _, path := range []string{"/", "/api/v1/crops", "/style.json", "/tiles/plots/14/13131/7548.mvt", "/no-such-page"} {
		res := a.do("GET", path, "")
		h := res.header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Referrer-Policy") == "" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: CSP %q, nosniff %q, Referrer-Policy %q, X-Frame-Options %q", path, csp, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"), h.Get("X-Frame-Options"))
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", path)
		}
	}
	if csp := a.do("GET", "/", "").header.Get("Content-Security-Policy"); !strings.Contains(csp, "worker-src 'self' blob:") || strings.Contains(csp, "unsafe") {
		t.Errorf("the map's CSP %q: MapLibre needs blob: workers, and nothing may be unsafe", csp)
	}
	if res := a.do("GET", "/api/v1/crops", "", "X-Forwarded-Proto", "https"); !strings.Contains(res.header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("behind a TLS proxy: HSTS %q", res.header.Get("Strict-Transport-Security"))
	}
}

// NUL characters and invalid UTF-8, in parameters or JSON strings, are 400 naming the field;
// '%' and '_' in a search are searched for, not wildcards.
func TestBadTextIsRefusedWithTheField(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	for _, tt := range []struct {
		name, method, path, body, field string
	}{
		{"NUL in a query parameter", "GET", "/api/v1/search?q=ab%00cd", "", "q"},
		{"invalid UTF-8 in a query parameter", "GET", "/api/v1/plots?crop=%ff%fe", "", "crop"},
		{"NUL in a path", "GET", "/api/v1/codes/VN%00DL", "", "path"},
		{"NUL in a JSON string", "POST", "/api/v1/plots", strings.Replace(goodPlot, `"crop":"cà phê"`, `"crop":"cà phê","variety":"Ri6\u0000x"`, 1), "properties.variety"},
		{"a raw NUL byte in a JSON string", "POST", "/api/v1/plots", strings.Replace(goodPlot, `"crop":"cà phê"`, "\"crop\":\"cà phê\",\"variety\":\"Ri6\x00x\"", 1), "line 1"},
		{"NUL in a JSON member name", "POST", "/api/v1/producers", `{"kind":"household","na\u0000me":"x"}`, "na"},
		{"invalid UTF-8 in a JSON string", "POST", "/api/v1/producers", "{\"kind\":\"household\",\"name\":\"Nguy\xe1\xbb\x85n \xff\"}", "name"},
		{"NUL in a login", "POST", "/api/v1/auth/login", `{"login":"ad\u0000min","password":"x-password"}`, "login"},
	} {
		res := a.do(tt.method, tt.path, tt.body, append(a.auth(), "Content-Type", "application/json")...)
		var e errorBody
		_ = json.Unmarshal(res.body, &e)
		fields := fmt.Sprint(e.Error.Details) + e.Error.Message
		if res.status != 400 || !strings.Contains(fields, tt.field) {
			t.Errorf("%s: %d %s, want 400 naming %q", tt.name, res.status, res.body, tt.field)
		}
	}
	if n := a.plotCount(); n == 0 {
		t.Fatal("the demo has no plots")
	}
	// A search for "%" or "_" finds no name that holds neither; one for "Krông_Pắc" is no wildcard.
	for _, q := range []string{"%%", "__", "%_", "Kr%ng", "Kr_ng", `\\`} {
		res := a.anonymous().do("GET", "/api/v1/search?q="+url.QueryEscape(q), "")
		var body struct {
			Results []any `json:"results"`
		}
		_ = json.Unmarshal(res.body, &body)
		if res.status != 200 || len(body.Results) != 0 {
			t.Errorf("search %q: %d with %d results, want 200 and none", q, res.status, len(body.Results))
		}
	}
	if res := a.anonymous().do("GET", "/api/v1/search?q="+url.QueryEscape("Krông Pắc"), ""); !strings.Contains(string(res.body), "Krông Pắc") {
		t.Errorf("a plain search finds nothing: %s", res.body)
	}
}

// TileJSON and the style never carry a Host header a client made up: they use http.public_url,
// or a Host that names this machine.
func TestForeignHostIsNotEchoed(t *testing.T) {
	a := startApp(t, nil)
	for _, path := range []string{"/tiles/plots.json", "/style.json"} {
		res := a.do("GET", path, "", "Host", "evil.example.com")
		if res.status != 200 || strings.Contains(string(res.body), "evil.example.com") {
			t.Errorf("%s with a foreign Host: %d, body mentions it: %v", path, res.status, strings.Contains(string(res.body), "evil.example.com"))
		}
		if !strings.Contains(string(res.body), a.app.Addr()) {
			t.Errorf("%s: the URLs do not use the server's own address %s", path, a.app.Addr())
		}
		if res := a.do("GET", path, "", "X-Forwarded-Host", "evil.example.com"); strings.Contains(string(res.body), "evil.example.com") {
			t.Errorf("%s: X-Forwarded-Host echoed without a trusted proxy", path)
		}
	}
	pub, _ := url.Parse("https://vungtrong.example.gov.vn/map")
	b := startApp(t, func(c *Config) { c.HTTP.PublicURL = pub })
	res := b.do("GET", "/tiles/plots.json", "", "Host", "evil.example.com")
	if !strings.Contains(string(res.body), "https://vungtrong.example.gov.vn/map/tiles/plots/") || strings.Contains(string(res.body), "evil") {
		t.Errorf("with http.public_url: %s", res.body)
	}
}

// A link outside /api that the map does not know gets a page in Vietnamese and English.
func TestUnknownPageIsBilingual(t *testing.T) {
	a := startApp(t, nil)
	res := a.do("GET", "/khong-co-trang-nay", "")
	body := string(res.body)
	if res.status != 404 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "Không tìm thấy trang") || !strings.Contains(body, "Page not found") || !strings.Contains(body, `href="/"`) {
		t.Errorf("unknown page: %d %s %.200s", res.status, res.header.Get("Content-Type"), body)
	}
	if res := a.do("GET", "/api/v1/nothing", ""); res.status != 404 || !strings.Contains(res.header.Get("Content-Type"), "json") {
		t.Errorf("an unknown API path stays JSON: %d %s", res.status, res.header.Get("Content-Type"))
	}
}

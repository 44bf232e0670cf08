package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
)

// Two provinces and a commune in each, with square boundaries side by side so that moving a
// plot east moves it from A to B: Cư M'gar (Đắk Lắk, 66) and Xuân Hương - Đà Lạt (Lâm Đồng, 68).
const (
	provinceA, communeA = "66", "24280"
	provinceB, communeB = "68", "24781"
)

// plotIn returns a ~1.2 ha plot in commune A (dx = 0) or B (dx = 0.1).
func plotIn(dx float64, props string) string {
	return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[%[1]v,12.68],[%[2]v,12.6801],[%[3]v,12.681],[%[4]v,12.6809],[%[1]v,12.68]]]},"properties":%[5]s}`,
		108.05+dx, 108.0511+dx, 108.0512+dx, 108.0499+dx, props)
}

// people is a registry with someone of every role.
type people struct {
	coopA, hh1, hh2, hhB, enterprise int64 // producers: hh1 is a member of coopA
	p1, p2, pB                       int64 // plots of hh1, hh2, hhB
	ids                              map[string]int64
	passwords                        map[string]string
	citizenIDs                       map[string]string
}

// roles are the test accounts' logins, one per role, plus a second officer and farmer.
var roles = []string{"admin", "officerA", "officerB", "coop", "exporter", "farmer1", "farmer2"}

func (a *testApp) people() *people {
	t := a.t
	t.Helper()
	ctx := registry.NewContextWithActor(context.Background(), registry.SystemActor("test"))
	db := a.app.DB()
	_, err := db.Pool.Exec(ctx, `
		UPDATE commune SET boundary = ST_Multi(ST_MakeEnvelope(108.0, 12.6, 108.1, 12.7, 4326)) WHERE scheme = 2025 AND code = '24280';
		UPDATE commune SET boundary = ST_Multi(ST_MakeEnvelope(108.1, 12.6, 108.2, 12.7, 4326)) WHERE scheme = 2025 AND code = '24781';`)
	if err != nil {
		t.Fatal(err)
	}
	ps := &people{ids: map[string]int64{}, passwords: map[string]string{"admin": testAdminPassword}, citizenIDs: map[string]string{}}
	producers := postgres.NewProducerService(db)
	mk := func(p *registry.Producer) int64 {
		if err := producers.CreateProducer(ctx, p); err != nil {
			t.Fatal(err)
		}
		if p.CitizenID != "" {
			ps.citizenIDs[p.Name] = p.CitizenID
			a.secret(p.CitizenID)
		}
		return p.ID
	}
	ps.coopA = mk(&registry.Producer{Kind: "cooperative", Name: "HTX Thử nghiệm", TaxCode: "6001234561", CommuneCode: communeA})
	ps.hh1 = mk(&registry.Producer{Kind: "household", Name: "Nguyễn Văn Một", CitizenID: "066080000001", Phone: "0905000001", CommuneCode: communeA, CooperativeID: &ps.coopA})
	ps.hh2 = mk(&registry.Producer{Kind: "household", Name: "Trần Thị Hai", CitizenID: "066180000002", Phone: "0905000002", CommuneCode: communeA})
	ps.hhB = mk(&registry.Producer{Kind: "household", Name: "Lê Văn Ba", CitizenID: "068080000003", Phone: "0905000003", CommuneCode: communeB})
	ps.enterprise = mk(&registry.Producer{Kind: "enterprise", Name: "Công ty Xuất khẩu Thử", TaxCode: "6009876543", CommuneCode: communeA})

	plots := postgres.NewPlotService(db)
	mkPlot := func(owner int64, dx float64) int64 {
		p := &registry.Plot{Crop: "coffee", ProducerID: &owner, LandCertNo: fmt.Sprintf("CS-%d", owner), CadastralSheet: "12", CadastralParcel: fmt.Sprint(owner), Geometry: field(dx)}
		if err := plots.CreatePlot(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	ps.p1, ps.p2, ps.pB = mkPlot(ps.hh1, 0), mkPlot(ps.hh2, 0.003), mkPlot(ps.hhB, 0.1)

	users := postgres.NewUserService(db)
	mkUser := func(login string, u *registry.User) {
		u.DisplayName = "Người thử " + login
		password := "pw-" + login + "-0123"
		if err := users.CreateUser(ctx, u, password); err != nil {
			t.Fatalf("user %s: %v", login, err)
		}
		ps.ids[login] = u.ID
		ps.passwords[login] = password
		a.secret(password)
	}
	mkUser("officerA", &registry.User{Username: "officer-a", Role: "officer", Jurisdictions: []registry.Jurisdiction{{ProvinceCode: provinceA}}})
	mkUser("officerB", &registry.User{Username: "officer-b", Role: "officer", Jurisdictions: []registry.Jurisdiction{{ProvinceCode: provinceB}}})
	mkUser("coop", &registry.User{Username: "htx", Role: "cooperative", ProducerID: &ps.coopA})
	mkUser("exporter", &registry.User{Username: "exporter", Role: "exporter", ProducerID: &ps.enterprise})
	mkUser("farmer1", &registry.User{Phone: "0905000001", Role: "farmer", ProducerID: &ps.hh1})
	mkUser("farmer2", &registry.User{Phone: "0905000002", Role: "farmer", ProducerID: &ps.hh2})
	admin, err := users.FindUserByLogin(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	ps.ids["admin"] = admin.ID
	return ps
}

// login returns the sign-in name of a test account.
func (ps *people) login(who string) string {
	switch who {
	case "admin":
		return "admin"
	case "officerA":
		return "officer-a"
	case "officerB":
		return "officer-b"
	case "coop":
		return "htx"
	case "farmer1":
		return "0905 000 001"
	case "farmer2":
		return "0905000002"
	}
	return who
}

// client is a browser: a cookie jar and the session's CSRF token.
type client struct {
	a    *testApp
	http *http.Client
	csrf string
	// bearer, when set, is sent instead of using cookies.
	bearer string
}

// signIn signs who in through the API, as a browser would.
func (a *testApp) signIn(ps *people, who string) *client {
	a.t.Helper()
	return a.signInAs(ps.login(who), ps.passwords[who])
}

// signInAs signs in with a login and password, as a browser would.
func (a *testApp) signInAs(login, password string) *client {
	a.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{a: a, http: &http.Client{Jar: jar}}
	res := c.do("POST", "/api/v1/auth/login", fmt.Sprintf(`{"login":%q,"password":%q}`, login, password))
	if res.status != 200 {
		a.t.Fatalf("sign-in of %s: %d %s", login, res.status, res.body)
	}
	var body struct {
		CSRF string `json:"csrf_token"`
	}
	_ = json.Unmarshal(res.body, &body)
	c.csrf = body.CSRF
	u, _ := url.Parse(a.base)
	for _, ck := range jar.Cookies(u) {
		a.secret(ck.Value)
	}
	a.secret(c.csrf)
	return c
}

// tokenClient is who, calling with an API token.
func (a *testApp) tokenClient(ps *people, who string) *client {
	a.t.Helper()
	ctx := registry.NewContextWithActor(context.Background(), registry.SystemActor("test"))
	secret, _, err := postgres.NewTokenService(a.app.DB()).CreateToken(ctx, ps.ids[who], "matrix-"+who)
	if err != nil {
		a.t.Fatal(err)
	}
	a.secret(secret)
	return &client{a: a, http: http.DefaultClient, bearer: secret}
}

func (a *testApp) anonymous() *client { return &client{a: a, http: http.DefaultClient} }

// do sends a request; state-changing ones carry the CSRF token and JSON bodies.
func (c *client) do(method, path, body string, headers ...string) response {
	c.a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.a.base+path, rd)
	if err != nil {
		c.a.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" && method != "GET" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// etagOf reads the current ETag of a resource as admin.
func (a *testApp) etagOf(path string) string {
	a.t.Helper()
	res := a.do("GET", path, "", a.auth()...)
	if res.status != 200 {
		a.t.Fatalf("GET %s: %d", path, res.status)
	}
	return res.header.Get("ETag")
}

// field is the geometry of plotIn.
func field(dx float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{
		{108.0500 + dx, 12.6800}, {108.0511 + dx, 12.6801}, {108.0512 + dx, 12.6810},
		{108.0499 + dx, 12.6809}, {108.0500 + dx, 12.6800},
	}}}
}

package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vungtrong/vungtrong/tiles"
)

// TestCodesExpireAndKeepTheirDecision: a suspension's document stays on its event, and
// reinstating keeps the code's validity and approving document; a code whose valid_to has
// passed reads expired at once (API, public page), and the expiry job writes it so, with its
// event, and turns its area expired on the map; a renewal needs a new valid_to, and dates that
// end before they begin are refused in words, changing nothing.
func TestCodesExpireAndKeepTheirDecision(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	ctx := context.Background()
	db := a.app.DB()
	officer := a.officerClient("lan", "66")
	const code, area = "VN-DLOR-0321", "Vùng trồng sầu riêng Krông Pắc 1"
	path := "/api/v1/codes/" + code + "/status"
	type row struct {
		status, document, from string
		version                int
	}
	read := func() row {
		t.Helper()
		var r row
		if err := db.Pool.QueryRow(ctx, `SELECT status, COALESCE(approving_document, ''), COALESCE(valid_from::text, ''), version FROM market_code WHERE code = $1`, code).
			Scan(&r.status, &r.document, &r.from, &r.version); err != nil {
			t.Fatal(err)
		}
		return r
	}
	areaStatus := func() (string, string) {
		d, _ := a.tile("growing_areas", tiles.At(krongPac, 12))
		for _, f := range d["growing_areas"].Features {
			if f.Properties["name"] == area {
				return fmt.Sprint(f.Properties["status"]), fmt.Sprint(f.Properties["expired"])
			}
		}
		return "", ""
	}
	issued := read()
	if issued.status != "active" || issued.document == "" || issued.from == "" {
		t.Fatalf("the demo code: %+v", issued)
	}

	// Suspended with a document, then reinstated: the decision that issued it stays.
	if res := officer.do("POST", path, `{"status":"suspended","reason":"residue_violation","document":"123/QĐ-BVTV"}`); res.status != 200 {
		t.Fatalf("suspension: %d %s", res.status, res.body)
	}
	var eventDoc string
	db.Pool.QueryRow(ctx, `SELECT COALESCE(e.document, '') FROM market_code_event e JOIN market_code m ON m.id = e.market_code_id
		WHERE m.code = $1 ORDER BY e.id DESC LIMIT 1`, code).Scan(&eventDoc)
	if r := read(); r.document != issued.document || eventDoc != "123/QĐ-BVTV" {
		t.Errorf("after the suspension the approving document is %q (was %q), its event's %q", r.document, issued.document, eventDoc)
	}
	before := read()
	if res := officer.do("POST", path, `{"status":"active","valid_from":"2026-11-01"}`); res.status != 422 || !strings.Contains(res.errorMessage(), "reinstating keeps the code's validity") {
		t.Errorf("a reinstatement that moves valid_from: %d %s", res.status, res.body)
	}
	if r := read(); r != before {
		t.Errorf("the refused reinstatement changed the code: %+v, then %+v", before, r)
	}
	if res := officer.do("POST", path, `{"status":"active","document":"7/QĐ-KP"}`); res.status != 200 {
		t.Fatalf("reinstatement: %d %s", res.status, res.body)
	}
	if r := read(); r.status != "active" || r.from != issued.from || r.document != issued.document {
		t.Errorf("after reinstating: %+v, want valid_from %s and document %q as issued", r, issued.from, issued.document)
	}

	// The calendar passes the codes' valid_to: every read says expired at once.
	if _, err := db.Pool.Exec(ctx, `UPDATE market_code SET valid_to = vn_today() - 1
		WHERE growing_area_id = (SELECT growing_area_id FROM market_code WHERE code = $1) AND status = 'active'`, code); err != nil {
		t.Fatal(err)
	}
	got := a.do("GET", "/api/v1/codes/"+code, "").json(t)
	if c := got["code"].(map[string]any); c["status"] != "expired" || got["valid_today"] != false {
		t.Errorf("a code past its valid_to reads %v, valid today %v", c["status"], got["valid_today"])
	}
	if page := a.do("GET", "/v/"+code+"?lang=en", ""); !strings.Contains(string(page.body), "Expired since") {
		t.Errorf("the public page does not say the code expired")
	}

	// The expiry job writes it, once, with its events, and the map follows.
	n, err := db.ExpireCodes(ctx)
	if err != nil || n < 1 {
		t.Fatalf("the expiry job expired %d codes: %v", n, err)
	}
	var events int
	db.Pool.QueryRow(ctx, `SELECT count(*) FROM market_code_event WHERE actor = 'system:expiry' AND to_status = 'expired'`).Scan(&events)
	if r := read(); r.status != "expired" || events != n {
		t.Errorf("after the job: %+v, %d expiry events for %d codes", r, events, n)
	}
	if again, err := db.ExpireCodes(ctx); err != nil || again != 0 {
		t.Errorf("the job run again expired %d more (%v)", again, err)
	}
	if status, markets := areaStatus(); status != "expired" || !strings.Contains(markets, "CN") {
		t.Errorf("the area's tile: status %q, expired markets %q; want expired, with CN", status, markets)
	}

	// A renewal: dates in words, then a new validity under a new decision.
	before = read()
	res := officer.do("POST", path, `{"status":"active","valid_from":"2027-06-01","valid_to":"2027-01-31"}`)
	if res.status != 422 || !strings.Contains(res.errorMessage(), "valid_to 2027-01-31 is before valid_from 2027-06-01") || strings.Contains(string(res.body), "market_code_") {
		t.Errorf("a validity that ends before it begins: %d %s", res.status, res.body)
	}
	if res := officer.do("POST", path, `{"status":"active"}`); res.status != 422 || !strings.Contains(res.errorMessage(), "needs its new valid_to") {
		t.Errorf("a renewal without valid_to: %d %s", res.status, res.body)
	}
	if r := read(); r != before {
		t.Errorf("refused renewals changed the code: %+v, then %+v", before, r)
	}
	next := time.Now().AddDate(1, 0, 0).Format(time.DateOnly)
	res = officer.do("POST", path, `{"status":"active","valid_to":"`+next+`","document":"45/QĐ-SNN"}`)
	if res.status != 200 || res.json(t)["valid_today"] != true {
		t.Fatalf("renewal: %d %s", res.status, res.body)
	}
	if r := read(); r.status != "active" || r.from != issued.from || r.document != "45/QĐ-SNN" {
		t.Errorf("after the renewal: %+v, want active from %s under 45/QĐ-SNN", r, issued.from)
	}
}

// TestExpiryRunsOnceAcrossServers: two servers start on one database holding codes past their
// valid_to; the expiry job (River, leader-elected) expires each code once, and both servers
// answer expired.
func TestExpiryRunsOnceAcrossServers(t *testing.T) {
	first := startApp(t, nil)
	first.loadDemo()
	ctx := context.Background()
	url := first.app.DB().URL()
	var due int
	if err := first.app.DB().Pool.QueryRow(ctx, `WITH u AS (UPDATE market_code SET valid_to = vn_today() - 1
		WHERE status = 'active' AND province_code = '66' RETURNING 1) SELECT count(*) FROM u`).Scan(&due); err != nil || due < 2 {
		t.Fatalf("%d codes made due (%v)", due, err)
	}
	first.stop()
	servers := make([]*testApp, 2)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i] = startApp(t, func(c *Config) { c.Database.URL = url })
		}()
	}
	wg.Wait()
	db := servers[0].app.DB()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left int
		db.Pool.QueryRow(ctx, `SELECT count(*) FROM market_code WHERE status = 'active' AND valid_to < vn_today()`).Scan(&left)
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d codes still active past their valid_to after 30 s: the expiry job did not run", left)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var events, codes int
	db.Pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT market_code_id) FROM market_code_event WHERE actor = 'system:expiry'`).Scan(&events, &codes)
	if events != due || codes != due {
		t.Errorf("%d expiry events for %d codes, want one for each of the %d due", events, codes, due)
	}
	for i, s := range servers {
		if got := s.do("GET", "/api/v1/codes/VN-DLOR-0321", "").json(t); got["code"].(map[string]any)["status"] != "expired" {
			t.Errorf("server %d answers %v", i+1, got["code"])
		}
	}
}

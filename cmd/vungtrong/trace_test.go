package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// demoIDs returns ids of the demo by name: growing areas, packing houses, and plots of an area.
func (a *testApp) demoID(sql string, args ...any) int64 {
	a.t.Helper()
	var id int64
	if err := a.app.DB().Pool.QueryRow(context.Background(), sql, args...).Scan(&id); err != nil {
		a.t.Fatalf("%s: %v", sql, err)
	}
	return id
}

func (a *testApp) areaPlots(area int64, n int) []int64 {
	a.t.Helper()
	rows, err := a.app.DB().Pool.Query(context.Background(), `SELECT plot_id FROM growing_area_plot WHERE growing_area_id = $1 AND removed_at IS NULL ORDER BY plot_id LIMIT $2`, area, n)
	if err != nil {
		a.t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}

type flagJSON struct {
	Rule    string            `json:"rule"`
	Message string            `json:"message"`
	Args    map[string]string `json:"args"`
	Lot     string            `json:"lot"`
}

func rules(fs []flagJSON) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	return out
}

func hasRule(fs []flagJSON, rule string) *flagJSON {
	for i := range fs {
		if fs[i].Rule == rule {
			return &fs[i]
		}
	}
	return nil
}

// The chain growing area → lot → packing house → consignment, and the code-borrowing checks:
// a lot over area × yield cap is flagged with both numbers; a consignment through a packing
// house not linked to the area is flagged; a lot harvested while the code was suspended is
// refused; all three appear in the officer's report and in the exporter's consignment check.
// Bad input is refused and changes nothing.
func TestTraceabilityChecks(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	coop := a.signInAs("htx.krongpac", "demo-htx-2026")
	exporter := a.signInAs("xuatkhau.taynguyen", "demo-xuatkhau-2026")
	officer := a.signInAs("canbo.daklak", "demo-canbo-2026")
	kp1 := a.demoID(`SELECT id FROM growing_area WHERE name = 'Vùng trồng sầu riêng Krông Pắc 1'`)
	kp2 := a.demoID(`SELECT id FROM growing_area WHERE name = 'Vùng trồng sầu riêng Krông Pắc 2'`)
	coffee := a.demoID(`SELECT id FROM growing_area WHERE name = 'Vùng trồng cà phê Cư M''gar'`)
	phuocAn := a.demoID(`SELECT id FROM packing_house WHERE name LIKE 'Cơ sở đóng gói sầu riêng Phước An%'`)
	plots1, plots2, plotsCoffee := a.areaPlots(kp1, 3), a.areaPlots(kp2, 2), a.areaPlots(coffee, 2)
	today := time.Now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
	yesterday := time.Now().In(time.FixedZone("ICT", 7*3600)).AddDate(0, 0, -1).Format(time.DateOnly)
	type lotJSON struct {
		PublicCode string     `json:"public_code"`
		Flags      []flagJSON `json:"flags"`
	}
	lot := func(c *client, body string, want int) (lotJSON, response) {
		t.Helper()
		res := c.do("POST", "/api/v1/lots", body, "Content-Type", "application/json")
		if res.status != want {
			t.Fatalf("lot %s: %d %s, want %d", body, res.status, res.body, want)
		}
		var l lotJSON
		_ = json.Unmarshal(res.body, &l)
		return l, res
	}
	ids := func(v []int64) string { b, _ := json.Marshal(v); return string(b) }
	before := a.dumpTrace()

	// Refused, changing nothing: a plot outside the area, a negative quantity, a lot harvested
	// while the code was suspended (Krông Pắc 2's code is suspended since the demo was loaded).
	_, res := lot(coop, fmt.Sprintf(`{"growing_area_id":%d,"code":"VN-DLOR-0321","crop":"sầu riêng","harvested_from":"2026-06-10","harvested_to":"2026-06-12","quantity_kg":1000,"plot_ids":%s}`,
		kp1, ids([]int64{plots1[0], plots2[0]})), 422)
	if !strings.Contains(res.errorMessage(), fmt.Sprintf("plots %d are not members of growing area Vùng trồng sầu riêng Krông Pắc 1", plots2[0])) {
		t.Errorf("a plot outside the area: %s", res.errorMessage())
	}
	_, res = lot(coop, fmt.Sprintf(`{"growing_area_id":%d,"code":"VN-DLOR-0321","crop":"durian","harvested_from":"2026-06-10","quantity_kg":-5,"plot_ids":%s}`, kp1, ids(plots1)), 422)
	if !strings.Contains(string(res.body), `"field":"quantity_kg"`) {
		t.Errorf("a negative quantity: %s", res.body)
	}
	_, res = lot(coop, fmt.Sprintf(`{"growing_area_id":%d,"code":"VN-DLOR-0458","crop":"durian","harvested_from":"%s","harvested_to":"%s","quantity_kg":2000,"plot_ids":%s}`,
		kp2, yesterday, today, ids(plots2)), 422)
	if !strings.Contains(res.errorMessage(), "code VN-DLOR-0458 (CN) was suspended during the harvest") {
		t.Errorf("a lot harvested while its code was suspended: %s", res.errorMessage())
	}
	if a.dumpTrace() != before {
		t.Fatal("a refused lot changed the registry")
	}

	// A good lot, received, shipped to China: everything holds.
	good, _ := lot(coop, fmt.Sprintf(`{"growing_area_id":%d,"code":"vn-dlor-0321","crop":"durian","harvested_from":"2026-06-10","harvested_to":"2026-06-12","quantity_kg":1500,"plot_ids":%s}`,
		kp1, ids(plots1)), 201)
	if len(good.Flags) != 0 {
		t.Errorf("a good lot is flagged: %+v", good.Flags)
	}
	if res := exporter.do("POST", "/api/v1/lots/"+good.PublicCode+"/receive", fmt.Sprintf(`{"packing_house_id":%d,"quantity_kg":1480}`, phuocAn), "Content-Type", "application/json"); res.status != 200 {
		t.Fatalf("receive: %d %s", res.status, res.body)
	}
	type consignmentJSON struct {
		PublicCode string     `json:"public_code"`
		Flags      []flagJSON `json:"flags"`
	}
	ship := func(body string, want int) (consignmentJSON, response) {
		t.Helper()
		res := exporter.do("POST", "/api/v1/consignments", body, "Content-Type", "application/json")
		if res.status != want {
			t.Fatalf("consignment %s: %d %s, want %d", body, res.status, res.body, want)
		}
		var c consignmentJSON
		_ = json.Unmarshal(res.body, &c)
		return c, res
	}
	clean, _ := ship(fmt.Sprintf(`{"market":"CN","packing_house_id":%d,"net_kg":1450,"container_no":"TGHU 123456-7","lots":[{"lot":"%s","quantity_kg":1480}]}`, phuocAn, good.PublicCode), 201)
	if len(clean.Flags) != 0 {
		t.Errorf("a clean consignment is flagged: %+v", clean.Flags)
	}
	// A consignment for a market the lot's code does not cover is refused.
	if _, res := ship(fmt.Sprintf(`{"market":"EU","packing_house_id":%d,"net_kg":100,"lots":[{"lot":"%s","quantity_kg":100}]}`, phuocAn, good.PublicCode), 422); !strings.Contains(res.errorMessage(), "does not cover EU") {
		t.Errorf("another market: %s", res.errorMessage())
	}

	// A lot that takes the season past the area's hectares × 25 t/ha for durian.
	var ha float64
	a.app.DB().Pool.QueryRow(context.Background(), `SELECT sum(p.area_ha) FROM growing_area_plot m JOIN plot p ON p.id = m.plot_id WHERE m.growing_area_id = $1 AND m.removed_at IS NULL AND p.crop = 'durian'`, kp1).Scan(&ha)
	limit := ha * 25 * 1000
	heavy, _ := lot(coop, fmt.Sprintf(`{"growing_area_id":%d,"code":"VN-DLOR-0321","crop":"durian","harvested_from":"2026-07-01","quantity_kg":%.0f,"plot_ids":%s}`,
		kp1, limit*1.5, ids(plots1[1:])), 201)
	yield := hasRule(heavy.Flags, "yield_cap")
	if yield == nil || yield.Args["limit_kg"] != groupInt(int(limit+0.5)) || yield.Args["total_kg"] != groupInt(int(limit*1.5+1500+0.5)) || !strings.Contains(yield.Message, "t/ha") {
		t.Errorf("the heavy lot's flags: %+v, want yield_cap with %s kg against the limit %s kg", heavy.Flags, groupInt(int(limit*1.5+1500+0.5)), groupInt(int(limit+0.5)))
	}
	heavyShip, _ := ship(fmt.Sprintf(`{"market":"CN","packing_house_id":%d,"net_kg":5000,"lots":[{"lot":"%s","quantity_kg":5000}]}`, phuocAn, heavy.PublicCode), 201)
	if hasRule(heavyShip.Flags, "yield_cap") == nil {
		t.Errorf("the heavy lot's consignment: %+v", heavyShip.Flags)
	}

	// Coffee of Cư M'gar (its season runs across December), packed by Phước An once the test
	// links them and gives the house a domestic code; and through Ea Kly, linked to neither.
	for _, sql := range []string{
		`INSERT INTO packing_house_growing_area (packing_house_id, growing_area_id, province_code) VALUES ($1, $2, '66')`,
		`INSERT INTO market_code (code, packing_house_id, market, status, province_code, created_by, updated_by) VALUES ('66-PH-TEST-1', $1, 'VN', 'active', '66', 'test', 'test')`,
	} {
		if _, err := a.app.DB().Pool.Exec(context.Background(), sql, append([]any{phuocAn}, []any{coffee}[:strings.Count(sql, "$2")]...)...); err != nil {
			t.Fatal(err)
		}
	}
	eaKly := a.demoID(`SELECT id FROM packing_house WHERE name LIKE 'Cơ sở đóng gói Ea Kly%'`)
	coffeeLot, _ := lot(officer, fmt.Sprintf(`{"growing_area_id":%d,"code":"66-24280-CP-001","crop":"cà phê","harvested_from":"%s","harvested_to":"%s","quantity_kg":900,"plot_ids":%s}`,
		coffee, yesterday, today, ids(plotsCoffee)), 201)
	if len(coffeeLot.Flags) != 0 {
		t.Errorf("the coffee lot is flagged: %+v", coffeeLot.Flags)
	}
	domestic, _ := ship(fmt.Sprintf(`{"market":"VN","packing_house_id":%d,"net_kg":400,"lots":[{"lot":"%s","quantity_kg":400}]}`, phuocAn, coffeeLot.PublicCode), 201)
	if len(domestic.Flags) != 0 {
		t.Errorf("the domestic consignment is flagged: %+v", domestic.Flags)
	}
	unlinked, _ := ship(fmt.Sprintf(`{"market":"VN","packing_house_id":%d,"net_kg":500,"lots":[{"lot":"%s","quantity_kg":500}]}`, eaKly, coffeeLot.PublicCode), 201)
	if f := hasRule(unlinked.Flags, "packing_house_not_linked"); f == nil || f.Lot != coffeeLot.PublicCode || !strings.Contains(f.Message, "is not linked to growing area Vùng trồng cà phê Cư M'gar") {
		t.Errorf("the unlinked consignment's flags: %+v", unlinked.Flags)
	}

	// The coffee area's code is suspended now, while its lot was being harvested: the domestic
	// consignment's check says so.
	if res := officer.do("POST", "/api/v1/codes/66-24280-CP-001/status", `{"status":"suspended","reason":"residue_violation"}`, "Content-Type", "application/json"); res.status != 200 {
		t.Fatalf("suspend: %d %s", res.status, res.body)
	}
	check := func(ref string) []flagJSON {
		t.Helper()
		res := exporter.do("GET", "/api/v1/consignments/"+ref+"/check", "")
		if res.status != 200 {
			t.Fatalf("check %s: %d %s", ref, res.status, res.body)
		}
		var out struct {
			Pass  bool       `json:"pass"`
			Flags []flagJSON `json:"flags"`
		}
		_ = json.Unmarshal(res.body, &out)
		if out.Pass != (len(out.Flags) == 0) {
			t.Errorf("check %s: pass %v with %d flags", ref, out.Pass, len(out.Flags))
		}
		return out.Flags
	}
	if f := hasRule(check(domestic.PublicCode), "code_not_active"); f == nil || f.Args["status"] != "suspended" || f.Lot != coffeeLot.PublicCode {
		t.Errorf("the domestic consignment after the suspension: %+v", check(domestic.PublicCode))
	}
	if hasRule(check(heavyShip.PublicCode), "yield_cap") == nil || hasRule(check(unlinked.PublicCode), "packing_house_not_linked") == nil {
		t.Error("the exporter's check lost a flag")
	}
	// The clean consignment shares the heavy lot's season: its check flags the yield now.
	if hasRule(check(clean.PublicCode), "yield_cap") == nil {
		t.Error("the clean consignment's lot is in a season over its yield, and its check does not say so")
	}

	// The officer's report holds all three: the heavy lot, the unlinked consignment, the refused lot.
	res = officer.do("GET", "/api/v1/trace/report?province=66", "")
	var report struct {
		Lots []struct {
			PublicCode string     `json:"public_code"`
			Flags      []flagJSON `json:"flags"`
		} `json:"lots"`
		Consignments []consignmentJSON `json:"consignments"`
		Refused      []struct {
			Action string          `json:"action"`
			Reason string          `json:"reason"`
			After  json.RawMessage `json:"after"`
		} `json:"refused"`
	}
	if err := json.Unmarshal(res.body, &report); err != nil || res.status != 200 {
		t.Fatalf("report: %d %s", res.status, res.body)
	}
	found := map[string]bool{}
	for _, l := range report.Lots {
		if l.PublicCode == heavy.PublicCode && hasRule(l.Flags, "yield_cap") != nil {
			found["yield"] = true
		}
	}
	for _, c := range report.Consignments {
		if c.PublicCode == unlinked.PublicCode && hasRule(c.Flags, "packing_house_not_linked") != nil {
			found["unlinked"] = true
		}
	}
	for _, r := range report.Refused {
		if r.Action == "lot.record" && strings.Contains(r.Reason, "VN-DLOR-0458 (CN) was suspended") && strings.Contains(string(r.After), `"code":"code_not_active"`) {
			found["suspended"] = true
		}
	}
	if len(found) != 3 {
		t.Errorf("the officer's report found %v of yield, unlinked and suspended", found)
	}
	// Others do not see the report, and an exporter lists only its own consignments.
	if res := coop.do("GET", "/api/v1/trace/report", ""); res.status != 403 {
		t.Errorf("the report for a cooperative: %d", res.status)
	}
	var mine struct {
		Consignments []consignmentJSON `json:"consignments"`
	}
	_ = json.Unmarshal(exporter.do("GET", "/api/v1/consignments", "").body, &mine)
	if len(mine.Consignments) != 4 {
		t.Errorf("the exporter lists %d consignments, want its 4", len(mine.Consignments))
	}

	// A pasted list of codes, line by line.
	res = a.anonymous().do("POST", "/api/v1/codes/check", `{"market":"CN","text":"VN-DLOR-0458\nvndlph0012\nVN-XXOR-0001\nVN-DLOR-0321"}`, "Content-Type", "application/json")
	var codes struct {
		Pass  bool `json:"pass"`
		Lines []struct {
			Line  int        `json:"line"`
			Pass  bool       `json:"pass"`
			Flags []flagJSON `json:"flags"`
		} `json:"lines"`
	}
	_ = json.Unmarshal(res.body, &codes)
	want := [][]string{{"code_not_active"}, nil, {"unknown_code"}, nil}
	if res.status != 200 || codes.Pass || len(codes.Lines) != 4 {
		t.Fatalf("codes check: %d %s", res.status, res.body)
	}
	for i, l := range codes.Lines {
		if fmt.Sprint(rules(l.Flags)) != fmt.Sprint(want[i]) || l.Pass != (want[i] == nil) || l.Line != i+1 {
			t.Errorf("line %d: %v (pass %v), want %v", i+1, rules(l.Flags), l.Pass, want[i])
		}
	}
	// Public views name no person.
	for _, path := range []string{"/api/v1/lots/" + good.PublicCode, "/api/v1/consignments/" + clean.PublicCode} {
		res := a.anonymous().do("GET", path, "")
		if res.status != 200 || strings.Contains(string(res.body), "Lê Minh Sơn") || strings.Contains(string(res.body), "+849") {
			t.Errorf("%s: %d %s", path, res.status, res.body)
		}
	}
}

// dumpTrace is the traceability tables' content, to tell that a refusal changed nothing.
func (a *testApp) dumpTrace() string {
	a.t.Helper()
	var s string
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT concat_ws('|', (SELECT count(*) FROM harvest_lot), (SELECT count(*) FROM harvest_lot_plot),
		(SELECT count(*) FROM consignment), (SELECT count(*) FROM consignment_lot), (SELECT md5(coalesce(string_agg(l::text, ',' ORDER BY id), '')) FROM harvest_lot l))`).Scan(&s); err != nil {
		a.t.Fatal(err)
	}
	return s
}

// A plot that screening finds at high risk (forest in 2020, tree cover lost in 2022) flags
// the lot harvested from it, with the plot named, and the officer's report lists the lot.
func TestHighRiskPlotsFlagTheirLots(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	officer := a.signInAs("canbo.daklak", "demo-canbo-2026")
	coffee := a.demoID(`SELECT id FROM growing_area WHERE name = 'Vùng trồng cà phê Cư M''gar'`)
	plots := a.areaPlots(coffee, 2)
	risky := plots[0]
	// Forest in 2020 and loss in 2022 over the first plot's box (and a margin), nothing elsewhere.
	var b [4]float64
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT ST_XMin(e) - 0.001, ST_YMin(e) - 0.001, ST_XMax(e) + 0.001, ST_YMax(e) + 0.001
		FROM (SELECT ST_Envelope(geom) AS e FROM plot WHERE id = $1) x`, risky).Scan(&b[0], &b[1], &b[2], &b[3]); err != nil {
		t.Fatal(err)
	}
	// Planted in 2022: no coffee stood there at the cut-off to explain the lost tree cover.
	if _, err := a.app.DB().Pool.Exec(context.Background(), `UPDATE plot SET planting_year = 2022, version = version + 1 WHERE id = $1`, risky); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ext := [4]float64{b[0] - 0.002, b[1] - 0.002, b[2] + 0.002, b[3] + 0.002}
	url := a.app.cfg.Database.URL
	runCLI(t, 0, "--database-url", url, "baseline", "load", "--kind", "forest2020", rasterize(t, dir, "forest", ext, false, burn{1, box(b)}))
	runCLI(t, 0, "--database-url", url, "baseline", "load", "--kind", "lossyear", rasterize(t, dir, "loss", ext, false, burn{22, box(b)}))
	if out := runCLI(t, 0, "--database-url", url, "screen", "--province", "66"); !strings.Contains(out, "screened") {
		t.Fatalf("screen: %s", out)
	}

	today := time.Now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
	res := officer.do("POST", "/api/v1/lots", fmt.Sprintf(`{"growing_area_id":%d,"code":"66-24280-CP-001","crop":"coffee","harvested_from":"%s","quantity_kg":300,"plot_ids":[%d,%d]}`,
		coffee, today, plots[0], plots[1]), "Content-Type", "application/json")
	if res.status != 201 {
		t.Fatalf("lot: %d %s", res.status, res.body)
	}
	var lot struct {
		PublicCode string     `json:"public_code"`
		Flags      []flagJSON `json:"flags"`
	}
	if err := json.Unmarshal(res.body, &lot); err != nil {
		t.Fatal(err)
	}
	f := hasRule(lot.Flags, "deforestation_risk")
	if f == nil || f.Args["plot"] != fmt.Sprint(risky) || !strings.Contains(f.Message, "lost after 2020") || len(lot.Flags) != 1 {
		t.Fatalf("the lot's flags: %+v, want one deforestation_risk flag on plot %d", lot.Flags, risky)
	}
	// The officer's report lists it under its rule.
	rep := officer.do("GET", "/api/v1/trace/report?rule=deforestation_risk", "")
	if rep.status != 200 || !strings.Contains(string(rep.body), lot.PublicCode) {
		t.Errorf("report: %d %s", rep.status, rep.body)
	}
}

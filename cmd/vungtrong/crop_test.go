package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// A crop's yield cap and harvest months are set with `vungtrong crop set`, bad rules change
// nothing, and the checks weigh lots against the new cap with trace.yield_tolerance.
func TestCropRulesAndYieldTolerance(t *testing.T) {
	a := startApp(t, func(c *Config) { c.Trace.YieldTolerance = 0.5 })
	a.loadDemo()
	url := a.app.cfg.Database.URL
	coop := a.signInAs("htx.krongpac", "demo-htx-2026")

	list := runCLI(t, 0, "--database-url", url, "crop", "list")
	if !strings.Contains(list, "durian") || !regexp.MustCompile(`coffee\s+Cà phê\s+3\s+10,11,12,1,2\s+1\s+0901\s+yes`).MatchString(list) {
		t.Fatalf("crop list:\n%s", list)
	}
	// Bad rules: every mistake named, nothing changed.
	out := runCLI(t, 1, "--database-url", url, "crop", "set", "sầu riêng", "--yield-cap", "-2", "--harvest-months", "4,13,4")
	for _, want := range []string{"nothing was changed", "-2 t/ha", "month 13", "month 4: give each month of the harvest once"} {
		if !strings.Contains(out, want) {
			t.Errorf("bad rules: %q missing from %s", want, out)
		}
	}
	if after := runCLI(t, 0, "--database-url", url, "crop", "list"); after != list {
		t.Errorf("bad rules changed the crops:\n%s", after)
	}
	out = runCLI(t, 0, "--database-url", url, "crop", "set", "Sau rieng", "--yield-cap", "1", "--harvest-months", "5,6,7,8")
	if strings.TrimSpace(out) != "Sầu riêng (durian): yield cap 1 t/ha, harvest months 5,6,7,8, smallest growing area 1 ha" {
		t.Errorf("set: %s", out)
	}
	var n int
	a.app.DB().Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'crop.update' AND after->>'yield_cap_t_ha' = '1'`).Scan(&n)
	if n != 1 {
		t.Errorf("audit entries of the change: %d", n)
	}
	// The smallest growing area, 1 ha for a perennial crop until set.
	out = runCLI(t, 0, "--database-url", url, "crop", "set", "durian", "--min-area", "0,5")
	if !strings.Contains(out, "smallest growing area 0.5 ha") {
		t.Errorf("set --min-area: %s", out)
	}
	if bad := runCLI(t, 1, "--database-url", url, "crop", "set", "durian", "--min-area", "-1"); !strings.Contains(bad, "from 0 to 10000") {
		t.Errorf("a negative smallest area: %s", bad)
	}

	// Krông Pắc 1's durian hectares × 1 t/ha, with 50% tolerance.
	kp1 := a.demoID(`SELECT id FROM growing_area WHERE name = 'Vùng trồng sầu riêng Krông Pắc 1'`)
	plots := a.areaPlots(kp1, 2)
	var ha float64
	a.app.DB().Pool.QueryRow(context.Background(), `SELECT sum(p.area_ha) FROM growing_area_plot m JOIN plot p ON p.id = m.plot_id WHERE m.growing_area_id = $1 AND m.removed_at IS NULL AND p.crop = 'durian'`, kp1).Scan(&ha)
	limit := ha * 1000
	lot := func(kg float64, day string) []flagJSON {
		t.Helper()
		res := coop.do("POST", "/api/v1/lots", fmt.Sprintf(`{"growing_area_id":%d,"code":"VN-DLOR-0321","crop":"durian","harvested_from":"%s","quantity_kg":%.0f,"plot_ids":[%d,%d]}`,
			kp1, day, kg, plots[0], plots[1]), "Content-Type", "application/json")
		if res.status != 201 {
			t.Fatalf("lot: %d %s", res.status, res.body)
		}
		var l struct {
			Flags []flagJSON `json:"flags"`
		}
		jsonInto(res.body, &l)
		return l.Flags
	}
	if f := lot(limit*1.4, "2026-06-01"); len(f) != 0 {
		t.Errorf("a lot within the tolerance is flagged: %+v", f)
	}
	f := lot(limit*0.2, "2026-06-02")
	if y := hasRule(f, "yield_cap"); y == nil || y.Args["cap_t_ha"] != "1" || y.Args["limit_kg"] != groupInt(int(limit+0.5)) || !strings.Contains(y.Message, "+50% tolerance") {
		t.Errorf("past the tolerance: %+v", f)
	}
	// Harvested in April, now out of the season.
	if f := lot(10, "2026-04-20"); hasRule(f, "harvest_out_of_season") == nil {
		t.Errorf("a lot out of the new season: %+v", f)
	}
}

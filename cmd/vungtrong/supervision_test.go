package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSupervisionVisitsAndOverdueCodes: an officer records a visit to an active code; once its
// interval has passed since the last visit (the calendar moved in the database) the code is
// listed overdue to the officers of its province and to no one else; bad visits change
// nothing and say what is wrong.
func TestSupervisionVisitsAndOverdueCodes(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	ctx := context.Background()
	db := a.app.DB().Pool
	officer := a.officerClient("lan", "66")
	other := a.officerClient("minh", "68")
	const code = "VN-DLOR-0321"
	overdue := func(c *client) map[string]map[string]any {
		t.Helper()
		res := c.do("GET", "/api/v1/supervision/overdue", "")
		if res.status != 200 {
			t.Fatalf("overdue: %d %s", res.status, res.body)
		}
		out := map[string]map[string]any{}
		for _, x := range res.json(t)["codes"].([]any) {
			m := x.(map[string]any)
			out[m["code"].(string)] = m
		}
		return out
	}
	visits := func() int {
		var n int
		db.QueryRow(ctx, `SELECT count(*) FROM inspection`).Scan(&n)
		return n
	}
	today := time.Now().In(time.FixedZone("ICT", 7*3600))
	before := visits()
	for _, tt := range []struct{ name, body, want string }{
		{"a visit dated tomorrow", fmt.Sprintf(`{"on":"%s","inspectors":["Lan"],"conclusion":"pass"}`, today.AddDate(0, 0, 1).Format(time.DateOnly)), "after today"},
		{"a conclusion the form does not have", fmt.Sprintf(`{"on":"%s","inspectors":["Lan"],"conclusion":"ok"}`, today.Format(time.DateOnly)), "the conclusion is pass, fail or conditional"},
		{"a checklist that is not an object", fmt.Sprintf(`{"on":"%s","inspectors":["Lan"],"conclusion":"pass","checklist":[1]}`, today.Format(time.DateOnly)), "the checklist is a JSON object"},
		{"nobody made it", fmt.Sprintf(`{"on":"%s","conclusion":"pass"}`, today.Format(time.DateOnly)), "name who made the visit"},
	} {
		if res := officer.do("POST", "/api/v1/codes/"+code+"/visits", tt.body); res.status != 422 || !strings.Contains(string(res.body), tt.want) {
			t.Errorf("%s: %d %s, want 422 saying %q", tt.name, res.status, res.body, tt.want)
		}
	}
	good := fmt.Sprintf(`{"on":"%s","inspectors":["Nguyễn Thị Lan","Trần Văn Hùng"],"conclusion":"pass",
		"checklist":{"farming_diary":true,"pesticides":[{"name":"Abamectin","allowed_here":true,"allowed_in_market":true}],"pests":[{"name":"rệp sáp","density":"thấp"}]}}`, today.Format(time.DateOnly))
	if res := other.do("POST", "/api/v1/codes/"+code+"/visits", good); res.status != 403 {
		t.Errorf("an officer of another province recording a visit: %d %s", res.status, res.body)
	}
	if n := visits(); n != before {
		t.Fatalf("refused visits wrote %d rows", n-before)
	}
	res := officer.do("POST", "/api/v1/codes/"+code+"/visits", good)
	if res.status != 201 {
		t.Fatalf("a visit: %d %s", res.status, res.body)
	}
	visit := int64(res.json(t)["id"].(float64))
	if _, listed := overdue(officer)[code]; listed {
		t.Errorf("%s is overdue right after its visit", code)
	}

	// Seven months later (the visit, and the code's issue, moved back in the database).
	if _, err := db.Exec(ctx, `UPDATE inspection SET inspected_on = vn_today() - 213 WHERE growing_area_id = (SELECT growing_area_id FROM market_code WHERE code = $1)`, code); err != nil {
		t.Fatal(err)
	}
	got := overdue(officer)[code]
	if got == nil {
		t.Fatalf("%s is not overdue 213 days after its last visit (interval 6 months): %v", code, overdue(officer))
	}
	last := today.AddDate(0, 0, -213)
	due := last.AddDate(0, 6, 0)
	if got["last_visit"] == nil || !strings.HasPrefix(got["last_visit"].(string), last.Format(time.DateOnly)) ||
		!strings.HasPrefix(got["due"].(string), due.Format(time.DateOnly)) || int(got["days_overdue"].(float64)) != int(today.Sub(due).Hours()/24+0.5) {
		t.Errorf("overdue entry %v, want last visit %s, due %s", got, last.Format(time.DateOnly), due.Format(time.DateOnly))
	}
	if _, listed := overdue(other)[code]; listed {
		t.Errorf("an officer of province 68 sees %s (province 66) overdue", code)
	}
	var audited int
	db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'inspection.create' AND object_id = $1 AND province_code = '66' AND reason LIKE 'supervision of code %'`, fmt.Sprint(visit)).Scan(&audited)
	if audited != 1 {
		t.Errorf("%d audit entries of the visit", audited)
	}
}

package main

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// TestCooperativeFormsAGrowingArea: a cooperative forms a growing area from its members' plots,
// its size, households and crops derived; each broken rule is refused with a message naming
// the plot and the rule, every problem at once, and changes nothing.
func TestCooperativeFormsAGrowingArea(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	ctx := context.Background()
	db := a.app.DB().Pool
	coop := a.signInAs(demoCoop, demoCoopPassword)
	var coopID int64
	var commune string
	if err := db.QueryRow(ctx, `
		SELECT p.id, (SELECT pl.commune_code FROM plot pl JOIN producer m ON m.id = pl.producer_id
		              WHERE m.cooperative_id = p.id AND pl.commune_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)
		FROM app_user u JOIN producer p ON p.id = u.producer_id WHERE u.username = $1`, demoCoop).Scan(&coopID, &commune); err != nil {
		t.Fatal(err)
	}
	// Three new members, each with a durian plot of about 0.42 ha, side by side.
	x, y := a.emptySpot(commune)
	square := func(dx float64) string {
		return polygonJSON(orb.Point{x + dx, y}, orb.Point{x + dx + 0.0006, y}, orb.Point{x + dx + 0.0006, y + 0.0006}, orb.Point{x + dx, y + 0.0006})
	}
	var plots []int64
	var households []int64
	for i := range 3 {
		res := coop.do("POST", "/api/v1/plots", plotBody(square(float64(i)*0.0006), fmt.Sprintf(`{"crop":"sầu riêng","producer":{"name":"Hộ thử %d"}}`, i+1)))
		if res.status != 201 {
			t.Fatalf("member plot %d: %d %s", i+1, res.status, res.body)
		}
		p := decode[plotAnswer](t, res)
		plots = append(plots, p.ID)
		households = append(households, *p.Properties.ProducerID)
	}
	// A plot of the first member overlapping its own first plot (an officer kept it, saying
	// why), one of theirs in another province, one already in the cooperative's area, and a
	// plot of another cooperative's member.
	res := a.do("POST", "/api/v1/plots", plotBody(square(0.0003), fmt.Sprintf(`{"crop":"durian","producer_id":%d}`, households[0]), `"overlap_reason":"đất xen canh"`), a.auth()...)
	if res.status != 201 {
		t.Fatalf("the overlapping plot: %d %s", res.status, res.body)
	}
	overlapping := decode[plotAnswer](t, res).ID
	res = a.do("POST", "/api/v1/plots", plotBody(polygonJSON(orb.Point{108.45, 11.95}, orb.Point{108.451, 11.95}, orb.Point{108.451, 11.951}, orb.Point{108.45, 11.951}),
		fmt.Sprintf(`{"crop":"durian","producer_id":%d,"province_code":"68"}`, households[1])), a.auth()...)
	if res.status != 201 {
		t.Fatalf("the plot in province 68: %d %s", res.status, res.body)
	}
	elsewhere := decode[plotAnswer](t, res).ID
	var taken, takenArea, stranger int64
	if err := db.QueryRow(ctx, `SELECT m.plot_id, m.growing_area_id FROM growing_area_plot m JOIN growing_area g ON g.id = m.growing_area_id
		WHERE g.registrant_id = $1 AND m.removed_at IS NULL ORDER BY m.plot_id LIMIT 1`, coopID).Scan(&taken, &takenArea); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `SELECT p.id FROM plot p JOIN producer o ON o.id = p.producer_id
		WHERE o.cooperative_id IS NOT NULL AND o.cooperative_id <> $1 AND p.deleted_at IS NULL ORDER BY p.id LIMIT 1`, coopID).Scan(&stranger); err != nil {
		t.Fatal(err)
	}

	counts := func() string {
		var areas, members int
		db.QueryRow(ctx, `SELECT (SELECT count(*) FROM growing_area), (SELECT count(*) FROM growing_area_plot)`).Scan(&areas, &members)
		return fmt.Sprintf("growing_area %d, growing_area_plot %d", areas, members)
	}
	form := func(c *client, body string) response {
		return c.do("POST", "/api/v1/growing-areas", body)
	}
	area := func(ids ...int64) string {
		return fmt.Sprintf(`{"name":"Vùng trồng sầu riêng thử","plots":[%s]}`, strings.Trim(strings.Join(strings.Fields(fmt.Sprint(ids)), ","), "[]"))
	}
	before := counts()
	for _, tt := range []struct {
		name string
		body string
		want []string
	}{
		{"below the minimum", area(plots[0], plots[1]), []string{"the plots total 0.8", "needs at least 1 ha"}},
		{"a plot already in an area", area(append(plots, taken)...), []string{fmt.Sprintf("plot %d is already in growing area %d", taken, takenArea)}},
		{"a plot of another cooperative's member", area(append(plots, stranger)...), []string{fmt.Sprintf("plot %d is not a plot of %s", stranger, demoKrongPacCoopName)}},
		{"plots in two provinces", area(append(plots, elsewhere)...), []string{"a growing area lies in one province", fmt.Sprintf("province 68: plots %d", elsewhere)}},
		{"two plots that overlap", area(append(plots, overlapping)...), []string{fmt.Sprintf("plots %d and %d overlap", plots[0], overlapping)}},
		{"a plot that does not exist", area(append(plots, 999999)...), []string{"plot 999999 does not exist"}},
		{"no name", `{"plots":[1]}`, []string{"name is required"}},
	} {
		res := form(coop, tt.body)
		body := string(res.body)
		if res.status != 422 {
			t.Errorf("%s: %d %s, want 422", tt.name, res.status, body)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the answer does not say %q: %s", tt.name, w, body)
			}
		}
	}
	// Several problems are reported at once.
	if res := form(coop, area(plots[0], stranger, elsewhere)); res.status != 422 || strings.Count(string(res.body), `"field":"plots"`) < 3 {
		t.Errorf("three problems at once: %d %s", res.status, res.body)
	}
	officerB := a.officerClient("minh", "68")
	if res := form(officerB, fmt.Sprintf(`{"name":"Vùng thử","registrant_id":%d,"plots":[%d,%d,%d]}`, coopID, plots[0], plots[1], plots[2])); res.status != 403 {
		t.Errorf("an officer of another province forming the area: %d %s", res.status, res.body)
	}
	if after := counts(); after != before {
		t.Fatalf("refused areas changed the database: %s, then %s", before, after)
	}

	// Formed: size, households and crops come from the plots.
	res = form(coop, area(plots...))
	if res.status != 201 {
		t.Fatalf("forming the area: %d %s", res.status, res.body)
	}
	g := res.json(t)
	var sum float64
	db.QueryRow(ctx, `SELECT sum(area_ha) FROM plot WHERE id = ANY ($1)`, plots).Scan(&sum)
	if math.Abs(g["area_ha"].(float64)-sum) > 1e-6 || g["plots"].(float64) != 3 || g["households"].(float64) != 3 ||
		fmt.Sprint(g["crops"]) != "[durian]" || g["province_name"] != "Tỉnh Đắk Lắk" || !strings.HasPrefix(fmt.Sprint(g["registrant"]), demoKrongPacCoopName) {
		t.Errorf("the new area: %v (plots total %.4f ha)", g, sum)
	}
	// A plot is in one area at a time.
	if res := form(coop, area(plots...)); res.status != 422 || !strings.Contains(res.errorMessage()+string(res.body), "already in growing area") {
		t.Errorf("the same plots again: %d %s", res.status, res.body)
	}
}

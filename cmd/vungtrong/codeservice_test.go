package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/textproto"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/tiles"
)

// form is a multipart/form-data body: fields, then files (name, filename, content).
func form(fields map[string]string, files ...[3]string) (string, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f[0], f[1]))
		h.Set("Content-Type", "application/octet-stream")
		part, _ := w.CreatePart(h)
		_, _ = part.Write([]byte(f[2]))
	}
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

// testPNG and testJPEG are small real images.
func testPNG() string {
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		img.Set(x, x%30, color.RGBA{200, 30, 30, 255})
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.String()
}

func testJPEG(shade uint8) string {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{shade, uint8(x * 3), uint8(y * 4), 255})
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, nil)
	return b.String()
}

const testPDF = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

// memberPlots registers, as the demo cooperative, n new member households each with a durian
// plot of about 0.3 ha side by side in an empty spot of its commune; it returns the plots and
// the cooperative's id.
func (a *testApp) memberPlots(coop *client, n int) ([]int64, int64) {
	a.t.Helper()
	var coopID int64
	var commune string
	if err := a.app.DB().Pool.QueryRow(context.Background(), `
		SELECT p.id, (SELECT pl.commune_code FROM plot pl JOIN producer m ON m.id = pl.producer_id
		              WHERE m.cooperative_id = p.id AND pl.commune_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)
		FROM app_user u JOIN producer p ON p.id = u.producer_id WHERE u.username = $1`, demoCoop).Scan(&coopID, &commune); err != nil {
		a.t.Fatal(err)
	}
	x, y := a.emptySpot(commune)
	var plots []int64
	for i := range n {
		dx, dy := float64(i%4)*0.0005, float64(i/4)*0.0005
		sq := polygonJSON(orb.Point{x + dx, y + dy}, orb.Point{x + dx + 0.0005, y + dy}, orb.Point{x + dx + 0.0005, y + dy + 0.0005}, orb.Point{x + dx, y + dy + 0.0005})
		res := coop.do("POST", "/api/v1/plots", plotBody(sq, fmt.Sprintf(`{"crop":"sầu riêng","variety":"Ri6","producer":{"name":"Hộ thành viên %d"}}`, i+1)))
		if res.status != 201 {
			a.t.Fatalf("member plot %d: %d %s", i+1, res.status, res.body)
		}
		plots = append(plots, decode[plotAnswer](a.t, res).ID)
	}
	return plots, coopID
}

// form01 is a complete Form 01 for a durian area and market.
func form01(area int64, market string) string {
	return fmt.Sprintf(`{"growing_area_id":%d,"market":%q,"representative":"Nguyễn Văn Đại diện","phone":"0905 123 456","email":"htx@example.vn",
		"address":"Thôn 3, xã Ea Kly","crop":"durian","varieties":["Ri6","Monthong"],"tree_age_years":6,"expected_harvest_from":5,"expected_harvest_to":8,
		"expected_output_t":42.5,"avg_yield_3y_t_ha":11.2,"harvests_per_year":1,
		"standards":[{"name":"VietGAP","certificate":"VG-66-0123","issued_on":"2025-03-01","valid_to":"2028-02-28"}],"commitment":true}`, area, market)
}

// ids lists the json numbers of res at key.
func idOf(t *testing.T, m map[string]any, path ...string) int64 {
	t.Helper()
	var v any = m
	for _, k := range path {
		v = v.(map[string]any)[k]
	}
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("%v is not a number at %v", v, path)
	}
	return int64(f)
}

// TestCodeServiceEndToEnd: a cooperative forms a growing area of 12 member plots, applies for
// market CN with two attachments; an officer reviews it, schedules and records the inspection
// with two photos, approves it; the code is active with its validity and valid today; after
// the supervision interval (the database's clock moved) it is overdue; a suspension shows on
// the map; reinstating keeps the decision; after valid_to it is expired in the API and the tiles.
func TestCodeServiceEndToEnd(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	ctx := context.Background()
	db := a.app.DB().Pool
	coop := a.signInAs(demoCoop, demoCoopPassword)
	officer := a.signInAs(demoOfficer, demoOfficerPassword)
	plots, _ := a.memberPlots(coop, 12)

	// The area, its size and households derived.
	res := coop.do("POST", "/api/v1/growing-areas", fmt.Sprintf(`{"name":"Vùng sầu riêng Ea Kly 12 hộ","plots":%s}`, jsonIDs(plots)))
	if res.status != 201 {
		t.Fatalf("forming the area: %d %s", res.status, res.body)
	}
	area := idOf(t, res.json(t), "id")
	var ha float64
	var households int
	db.QueryRow(ctx, `SELECT sum(p.area_ha), count(DISTINCT p.producer_id) FROM growing_area_plot m JOIN plot p ON p.id = m.plot_id WHERE m.growing_area_id = $1`, area).Scan(&ha, &households)
	if ha < 1 || households != 12 {
		t.Fatalf("the area holds %.4f ha of %d households, want >= 1 ha of 12", ha, households)
	}

	// Form 01, then two attachments.
	res = coop.do("POST", "/api/v1/applications", form01(area, "CN"))
	if res.status != 201 {
		t.Fatalf("applying: %d %s\n%s", res.status, res.body, a.logs.String())
	}
	app := idOf(t, res.json(t), "application", "id")
	got := res.json(t)["application"].(map[string]any)
	if got["status"] != "draft" || got["household_count"].(float64) != 12 || fmt.Sprintf("%.4f", got["area_ha"].(float64)) != fmt.Sprintf("%.4f", ha) {
		t.Errorf("the new application: status %v households %v area %v, want draft, 12, %.4f", got["status"], got["household_count"], got["area_ha"], ha)
	}
	appPath := fmt.Sprintf("/api/v1/applications/%d", app)
	for _, f := range []struct{ kind, name, data string }{{"diary", "nhat-ky.pdf", testPDF}, {"certificate", "vietgap.png", testPNG()}} {
		body, ct := form(map[string]string{"kind": f.kind}, [3]string{"file", f.name, f.data})
		if res := coop.do("POST", appPath+"/attachments", body, "Content-Type", ct); res.status != 201 {
			t.Fatalf("attaching %s: %d %s", f.name, res.status, res.body)
		}
	}
	if res := coop.do("POST", appPath+"/status", `{"status":"submitted"}`); res.status != 200 {
		t.Fatalf("submitting: %d %s", res.status, res.body)
	}

	// The officer's inbox has it; review, schedule, record with two photos.
	res = officer.do("GET", "/api/v1/inbox", "")
	if res.status != 200 || !strings.Contains(string(res.body), fmt.Sprintf(`"id":%d`, app)) {
		t.Fatalf("the inbox does not list application %d: %d %s", app, res.status, res.body)
	}
	res = officer.do("GET", appPath, "")
	var detail struct {
		Allowed     []string `json:"allowed"`
		Attachments []struct {
			ID          int64  `json:"id"`
			ContentType string `json:"content_type"`
		} `json:"attachments"`
	}
	_ = json.Unmarshal(res.body, &detail)
	if len(detail.Attachments) != 2 || detail.Attachments[0].ContentType != "application/pdf" || detail.Attachments[1].ContentType != "image/png" {
		t.Errorf("the officer sees attachments %+v, want the PDF and the PNG", detail.Attachments)
	}
	if fmt.Sprint(detail.Allowed) != "[under_review returned]" {
		t.Errorf("the officer may move the submitted application to %v, want [under_review returned]", detail.Allowed)
	}
	if r := officer.do("GET", fmt.Sprintf("%s/attachments/%d", appPath, detail.Attachments[0].ID), ""); r.status != 200 || string(r.body) != testPDF {
		t.Errorf("reading the PDF back: %d, %d bytes", r.status, len(r.body))
	}
	today := time.Now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
	for _, step := range []string{`{"status":"under_review"}`, fmt.Sprintf(`{"status":"inspection_scheduled","on":%q,"inspectors":["Nguyễn Thị Lan","Trần Văn Hùng"]}`, today)} {
		if res := officer.do("POST", appPath+"/status", step); res.status != 200 {
			t.Fatalf("%s: %d %s", step, res.status, res.body)
		}
	}
	// Approving before the inspection is refused, naming the state.
	if res := officer.do("POST", appPath+"/decision", `{"decision":"approve","document":"45/QĐ-TTBVTV"}`); res.status != 409 || !strings.Contains(res.errorMessage(), "once it has been inspected") {
		t.Errorf("approving an application never inspected: %d %s", res.status, res.body)
	}
	inspection, _ := json.Marshal(map[string]any{"on": today, "conclusion": "pass", "reasons": "Đạt yêu cầu của thị trường Trung Quốc",
		"checklist": map[string]any{"pesticides": []any{map[string]any{"name": "Abamectin", "allowed_vn": true, "allowed_market": true}},
			"farming_diary": "complete", "pests": []any{map[string]any{"name": "rệp sáp", "density": "thấp"}}, "management": "IPM",
			"samples": []any{map[string]any{"kind": "quả", "lab": "Trung tâm Kiểm định", "result": "đạt"}}, "gap": "VietGAP", "hygiene": "good", "packaging_collection": true}})
	taken := time.Now().Add(-10 * time.Minute).UTC().Format(time.RFC3339)
	photos := fmt.Sprintf(`[{"taken_at":%q,"lon":108.31,"lat":12.7,"accuracy_m":6},{"taken_at":%q,"lon":108.311,"lat":12.701,"accuracy_m":8}]`, taken, taken)
	body, ct := form(map[string]string{"inspection": string(inspection), "photos": photos}, [3]string{"photo", "a.jpg", testJPEG(10)}, [3]string{"photo", "b.jpg", testJPEG(200)})
	res = officer.do("POST", appPath+"/inspection", body, "Content-Type", ct)
	if res.status != 201 {
		t.Fatalf("recording the inspection: %d %s", res.status, res.body)
	}
	var nphotos int
	db.QueryRow(ctx, `SELECT count(*) FROM inspection_photo p JOIN inspection i ON i.id = p.inspection_id WHERE i.application_id = $1 AND p.position IS NOT NULL AND p.taken_at IS NOT NULL`, app).Scan(&nphotos)
	if nphotos != 2 {
		t.Errorf("%d photos with position and time stored, want 2", nphotos)
	}

	// Approved: the code in the market's format, active, with its validity.
	res = officer.do("POST", appPath+"/decision", `{"decision":"approve","document":"45/QĐ-TTBVTV","authority":"Chi cục Trồng trọt và BVTV Đắk Lắk"}`)
	if res.status != 201 {
		t.Fatalf("approving: %d %s", res.status, res.body)
	}
	dec := res.json(t)
	codeObj := dec["code"].(map[string]any)
	code := codeObj["code"].(string)
	if !regexp.MustCompile(`^VN-DLOR-\d{4}$`).MatchString(code) || codeObj["status"] != "active" || dec["valid_today"] != true {
		t.Fatalf("the decision issued %v (status %v, valid today %v), want VN-DLOR-NNNN active and valid", code, codeObj["status"], dec["valid_today"])
	}
	validFrom, validTo := codeObj["valid_from"].(string)[:10], codeObj["valid_to"].(string)[:10]
	wantTo := time.Now().In(time.FixedZone("ICT", 7*3600)).AddDate(0, 24, -1).Format(time.DateOnly)
	if validFrom != today || validTo != wantTo {
		t.Errorf("validity %s to %s, want %s to %s (24 months by default)", validFrom, validTo, today, wantTo)
	}
	var maxBefore int
	db.QueryRow(ctx, `SELECT max(code_sequence) FROM market_code WHERE code_province = 'DL' AND code_kind = 'OR' AND code <> $1`, code).Scan(&maxBefore)
	if want := fmt.Sprintf("VN-DLOR-%04d", maxBefore+1); code != want {
		t.Errorf("issued %s, want the next number after the demo's codes, %s", code, want)
	}
	pub := a.anonymous().do("GET", "/api/v1/codes/"+code, "")
	if pub.status != 200 || pub.json(t)["valid_today"] != true {
		t.Errorf("the public lookup of %s: %d %s", code, pub.status, pub.body)
	}

	// After the supervision interval (six months: the database's calendar moves on) it is overdue.
	moveClock := func(days int) {
		t.Helper()
		if _, err := db.Exec(ctx, fmt.Sprintf(`CREATE OR REPLACE FUNCTION vn_today() RETURNS date LANGUAGE sql STABLE
			RETURN (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + %d`, days)); err != nil {
			t.Fatal(err)
		}
	}
	isOverdue := func() bool {
		res := officer.do("GET", "/api/v1/supervision/overdue", "")
		return strings.Contains(string(res.body), `"code":"`+code+`"`)
	}
	if isOverdue() {
		t.Errorf("%s is overdue the day it is issued", code)
	}
	moveClock(190)
	if !isOverdue() {
		t.Errorf("%s is not overdue 190 days after its issue (interval 6 months)", code)
	}

	// A visit that suspends in one step; the map shows it.
	visit := fmt.Sprintf(`{"on":%q,"inspectors":["Nguyễn Thị Lan"],"conclusion":"fail","notes":"Phát hiện rệp sáp vượt ngưỡng",
		"suspend":{"reason":"quarantine_pest","note":"rệp sáp","document":"77/TB-TTBVTV"}}`, today)
	if res := officer.do("POST", "/api/v1/codes/"+code+"/visits", visit); res.status != 201 {
		t.Fatalf("a visit that suspends: %d %s", res.status, res.body)
	}
	var pt orb.Point
	db.QueryRow(ctx, `SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c FROM plot WHERE id = $1) s`, plots[0]).Scan(&pt[0], &pt[1])
	areaOnMap := func() map[string]any {
		d, _ := a.tile("growing_areas", tiles.At(pt, 14))
		for _, f := range d["growing_areas"].Features {
			if f.Properties["name"] == "Vùng sầu riêng Ea Kly 12 hộ" {
				return f.Properties
			}
		}
		return nil
	}
	waitFor := func(what string, ok func(map[string]any) bool) {
		t.Helper()
		var p map[string]any
		for range 50 {
			if p = areaOnMap(); p != nil && ok(p) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("the area on the map: %v, want %s", p, what)
	}
	waitFor("suspended for CN", func(p map[string]any) bool {
		return p["status"] == "suspended" && strings.Contains(fmt.Sprint(p["suspended"]), "CN")
	})

	// Reinstated: the original valid_from and approving document stay.
	if res := officer.do("POST", "/api/v1/codes/"+code+"/status", `{"status":"active","document":"80/QĐ-TTBVTV","note":"đã khắc phục"}`); res.status != 200 {
		t.Fatalf("reinstating: %d %s", res.status, res.body)
	}
	var from, doc string
	db.QueryRow(ctx, `SELECT valid_from::text, approving_document FROM market_code WHERE code = $1`, code).Scan(&from, &doc)
	if from != validFrom || doc != "45/QĐ-TTBVTV" {
		t.Errorf("after reinstating: valid_from %s, document %s; want %s and 45/QĐ-TTBVTV", from, doc, validFrom)
	}

	// After valid_to: expired in the API (at once), and on the map once the job has run.
	moveClock(800)
	res = a.anonymous().do("GET", "/api/v1/codes/"+code, "")
	if c := res.json(t)["code"].(map[string]any); c["status"] != "expired" || res.json(t)["valid_today"] != false {
		t.Errorf("after valid_to the API says %v, valid today %v; want expired", c["status"], res.json(t)["valid_today"])
	}
	if n, err := a.app.DB().ExpireCodes(ctx); err != nil || n < 1 {
		t.Errorf("the expiry job: %d, %v", n, err)
	}
	waitFor("expired for CN", func(p map[string]any) bool {
		return p["status"] == "expired" && strings.Contains(fmt.Sprint(p["expired"]), "CN")
	})
	var events int
	db.QueryRow(ctx, `SELECT count(*) FROM market_code_event e JOIN market_code m ON m.id = e.market_code_id WHERE m.code = $1`, code).Scan(&events)
	if events != 4 { // issued, suspended, reinstated, expired
		t.Errorf("%s has %d events, want 4 (issued, suspended, reinstated, expired)", code, events)
	}
}

func jsonIDs(ids []int64) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

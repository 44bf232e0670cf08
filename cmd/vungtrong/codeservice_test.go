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
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
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
	a.checkDossier(officer, coop, area, code, "Vùng sầu riêng Ea Kly 12 hộ", 12)
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
	// The reminder job records it once, however often it runs.
	first, err := a.app.DB().RemindSupervision(ctx)
	again, err2 := a.app.DB().RemindSupervision(ctx)
	var reminded int
	db.QueryRow(ctx, `SELECT count(*) FROM supervision_reminder r JOIN market_code m ON m.id = r.market_code_id WHERE m.code = $1`, code).Scan(&reminded)
	if err != nil || err2 != nil || first < 1 || again != 0 || reminded != 1 {
		t.Errorf("reminders: %d then %d (%v, %v), %d for %s; want some, then none, one for the code", first, again, err, err2, reminded, code)
	}
	if res := officer.do("GET", "/api/v1/supervision/overdue", ""); !regexp.MustCompile(`"code":"` + code + `"[^}]*"reminded_at":"20`).Match(res.body) {
		t.Errorf("the overdue list does not say when %s was reminded: %.400s", code, res.body)
	}

	// A visit that suspends in one step; the map shows it.
	visit := fmt.Sprintf(`{"on":%q,"inspectors":["Nguyễn Thị Lan"],"conclusion":"fail","notes":"Phát hiện rệp sáp vượt ngưỡng",
		"suspend":{"reason":"quarantine_pest","note":"rệp sáp","document":"77/TB-TTBVTV"}}`, today)
	// Recorded on a phone like the inspection: the visit and a photo in one form.
	vb, vct := form(map[string]string{"visit": visit, "photos": fmt.Sprintf(`[{"taken_at":%q,"lon":108.312,"lat":12.702,"accuracy_m":5}]`, taken)},
		[3]string{"photo", "rep-sap.jpg", testJPEG(120)})
	if res := officer.do("POST", "/api/v1/codes/"+code+"/visits", vb, "Content-Type", vct); res.status != 201 {
		t.Fatalf("a visit that suspends: %d %s", res.status, res.body)
	}
	res = coop.do("GET", "/api/v1/codes/"+code+"/visits", "")
	var visits struct {
		Visits []struct {
			ID         int64  `json:"id"`
			Conclusion string `json:"conclusion"`
			Photos     []struct {
				ID int64 `json:"id"`
			} `json:"photos"`
		} `json:"visits"`
	}
	_ = json.Unmarshal(res.body, &visits)
	if res.status != 200 || len(visits.Visits) != 1 || visits.Visits[0].Conclusion != "fail" || len(visits.Visits[0].Photos) != 1 {
		t.Fatalf("the code's visits, read by its cooperative: %d %s", res.status, res.body)
	}
	if p := coop.do("GET", fmt.Sprintf("/api/v1/inspections/%d/photos/%d", visits.Visits[0].ID, visits.Visits[0].Photos[0].ID), ""); p.status != 200 || p.header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("the visit's photo: %d %s", p.status, p.header.Get("Content-Type"))
	}
	if res := a.anonymous().do("GET", "/api/v1/codes/"+code+"/visits", ""); res.status != 401 {
		t.Errorf("the visits anonymously: %d, want 401", res.status)
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

// checkDossier checks what the dossier and the decision give: the KML and the CSV list the
// area's plots; the public may not read them; the decision's print page, printed to PDF by
// Chromium, keeps its Vietnamese text and its QR code opens the code's public lookup.
func (a *testApp) checkDossier(officer, coop *client, area int64, code, name string, plots int) {
	t := a.t
	t.Helper()
	base := fmt.Sprintf("/api/v1/growing-areas/%d", area)
	kml := coop.do("GET", base+"/dossier.kml", "")
	if kml.status != 200 || strings.Count(string(kml.body), "<Placemark>") != plots || !strings.Contains(string(kml.body), "<Polygon>") {
		t.Errorf("the area's KML: %d, %d placemarks, want %d with polygons", kml.status, strings.Count(string(kml.body), "<Placemark>"), plots)
	}
	csvRes := officer.do("GET", base+"/households.csv", "")
	if lines := strings.Count(strings.TrimSpace(string(csvRes.body)), "\n"); csvRes.status != 200 || lines != plots || !strings.Contains(string(csvRes.body), "Hộ thành viên 1") {
		t.Errorf("the household list: %d, %d rows, want %d naming the households", csvRes.status, lines, plots)
	}
	for _, p := range []string{base + "/dossier.kml", base + "/households.csv", "/print/codes/" + code} {
		if res := a.anonymous().do("GET", p, ""); res.status != 401 {
			t.Errorf("%s anonymously: %d, want 401 (it names households)", p, res.status)
		}
	}
	page := officer.do("GET", "/print/codes/"+code, "")
	if page.status != 200 || !strings.Contains(string(page.body), code) {
		t.Fatalf("the decision page: %d %s", page.status, page.body)
	}
	if os.Getenv("VUNGTRONG_SKIP_BROWSER") == "1" {
		return
	}
	dir := t.TempDir()
	html := filepath.Join(dir, "decision.html")
	pdf := filepath.Join(dir, "decision.pdf")
	if err := os.WriteFile(html, page.body, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--print-to-pdf="+pdf, "file://"+html).CombinedOutput()
	if err != nil {
		t.Fatalf("chromium printing the decision: %v\n%s", err, out)
	}
	raw, err := exec.Command("pdftotext", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := strings.Join(strings.Fields(string(raw)), " ") // lines wrap inside table cells
	for _, want := range []string{"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "mã số vùng trồng", code, name, "Trung Quốc", "Hộ thành viên 12"} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed decision lacks %q:\n%s", want, text)
		}
	}
	if out, err := exec.Command("pdftoppm", "-png", "-r", "200", pdf, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	if len(pngs) == 0 {
		t.Fatal("pdftoppm wrote no page")
	}
	if keep := os.Getenv("VUNGTRONG_KEEP_PRINT"); keep != "" {
		_ = exec.Command("cp", append(append([]string{}, pngs...), pdf, keep)...).Run()
	}
	// zbarimg exits 4 for the pages with no code on them: what it read is what counts.
	qr, _ := exec.Command("zbarimg", append([]string{"-q", "--raw"}, pngs...)...).Output()
	if want := a.base + "/v/" + code; strings.TrimSpace(string(qr)) != want {
		t.Errorf("the QR of the printed decision reads %q, want %q", strings.TrimSpace(string(qr)), want)
	}
}

// codeServiceCounts is the rows the code service writes: what a refused request must leave.
func (a *testApp) codeServiceCounts() string {
	a.t.Helper()
	var apps, events, atts, insp, photos, codes, codeEvents, areas int
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM application), (SELECT count(*) FROM application_event),
		(SELECT count(*) FROM application_attachment), (SELECT count(*) FROM inspection), (SELECT count(*) FROM inspection_photo),
		(SELECT count(*) FROM market_code), (SELECT count(*) FROM market_code_event), (SELECT count(*) FROM growing_area)`).
		Scan(&apps, &events, &atts, &insp, &photos, &codes, &codeEvents, &areas); err != nil {
		a.t.Fatal(err)
	}
	return fmt.Sprintf("application %d, application_event %d, application_attachment %d, inspection %d, inspection_photo %d, market_code %d, market_code_event %d, growing_area %d",
		apps, events, atts, insp, photos, codes, codeEvents, areas)
}

// inspected takes an application from submitted to inspected (pass) as officer.
func inspected(t *testing.T, officer *client, app int64) {
	t.Helper()
	today := time.Now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
	path := fmt.Sprintf("/api/v1/applications/%d", app)
	for _, step := range []struct{ path, body string }{
		{path + "/status", `{"status":"under_review"}`},
		{path + "/status", fmt.Sprintf(`{"status":"inspection_scheduled","on":%q,"inspectors":["Lan"]}`, today)},
		{path + "/inspection", fmt.Sprintf(`{"on":%q,"conclusion":"pass","checklist":{"farming_diary":"complete"}}`, today)},
	} {
		if res := officer.do("POST", step.path, step.body); res.status != 200 && res.status != 201 {
			t.Fatalf("application %d, %s %s: %d %s", app, step.path, step.body, res.status, res.body)
		}
	}
}

// TestCodeServiceRefusals: each bad request is refused with a message that names the problem,
// and changes nothing.
func TestCodeServiceRefusals(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	coop := a.signInAs(demoCoop, demoCoopPassword)
	officer := a.signInAs(demoOfficer, demoOfficerPassword)
	stranger := a.officerClient("minh", "68")
	plots, _ := a.memberPlots(coop, 4)
	res := coop.do("POST", "/api/v1/growing-areas", fmt.Sprintf(`{"name":"Vùng thử từ chối","plots":%s}`, jsonIDs(plots)))
	if res.status != 201 {
		t.Fatalf("the area: %d %s", res.status, res.body)
	}
	area := idOf(t, res.json(t), "id")
	res = coop.do("POST", "/api/v1/applications", form01(area, "CN"))
	if res.status != 201 {
		t.Fatalf("the application: %d %s", res.status, res.body)
	}
	app := idOf(t, res.json(t), "application", "id")
	path := fmt.Sprintf("/api/v1/applications/%d", app)
	big := "%PDF-1.7\n" + strings.Repeat("x", 10<<20)
	refuse := func(name string, c *client, method, p, body string, status int, want ...string) {
		t.Helper()
		before := a.codeServiceCounts()
		var res response
		if strings.HasPrefix(body, "--form:") {
			kind, file, _ := strings.Cut(strings.TrimPrefix(body, "--form:"), ":")
			b, ct := form(map[string]string{"kind": kind}, [3]string{"file", "tai-lieu.pdf", file})
			res = c.do(method, p, b, "Content-Type", ct)
		} else {
			res = c.do(method, p, body)
		}
		if res.status != status {
			t.Errorf("%s: %d %s, want %d", name, res.status, res.body, status)
		}
		msg := string(res.body)
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %s, want it to say %q", name, msg, w)
			}
		}
		if strings.Contains(msg, "_check") || strings.Contains(msg, "_key") || strings.Contains(msg, "_fkey") {
			t.Errorf("%s: the answer names a constraint: %s", name, msg)
		}
		if after := a.codeServiceCounts(); after != before {
			t.Errorf("%s changed the database: %s, then %s", name, before, after)
		}
	}
	missing := strings.Replace(strings.Replace(form01(area, "US"), `"representative":"Nguyễn Văn Đại diện",`, "", 1), `"expected_output_t":42.5,`, "", 1)
	refuse("an application missing required fields", coop, "POST", "/api/v1/applications", missing, 422, `"field":"representative"`, `"field":"expected_output_t"`, "is required")
	refuse("a second open application for the market", coop, "POST", "/api/v1/applications", form01(area, "CN"), 409, "already has an open application")
	refuse("an attachment over the limit", coop, "POST", path+"/attachments", "--form:diary:"+big, 413, "at most 10 MB")
	refuse("an attachment that is not a PDF, JPEG or PNG", coop, "POST", path+"/attachments", "--form:certificate:<html>not a pdf</html>", 422, "not a PDF, JPEG or PNG file (by its content")
	refuse("an attachment of no known kind", coop, "POST", path+"/attachments", "--form:selfie:"+testPDF, 422, "an attachment is diary")
	refuse("approving an application never inspected", officer, "POST", path+"/decision", `{"decision":"approve","document":"1/QĐ"}`, 409, "once it has been inspected", `"allowed"`)
	refuse("reviewing a draft", officer, "POST", path+"/status", `{"status":"under_review"}`, 409, "the application is draft and cannot become under_review", `"allowed":["submitted","withdrawn"]`)
	if res := coop.do("POST", path+"/status", `{"status":"submitted"}`); res.status != 200 {
		t.Fatalf("submitting: %d %s", res.status, res.body)
	}
	refuse("returning an application without saying why", officer, "POST", path+"/status", `{"status":"returned"}`, 422, "say what the registrant must change")
	refuse("an officer of another province reviewing", stranger, "POST", path+"/status", `{"status":"under_review"}`, 403, "outside your jurisdiction")
	refuse("an officer of another province reading", stranger, "GET", path, "", 403, "outside your jurisdiction")
	refuse("the cooperative reviewing its own application", coop, "POST", path+"/status", `{"status":"under_review"}`, 403, "only an officer of province 66")
	today := time.Now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
	for _, step := range []string{`{"status":"under_review"}`, fmt.Sprintf(`{"status":"inspection_scheduled","on":%q,"inspectors":["Lan"]}`, today)} {
		if res := officer.do("POST", path+"/status", step); res.status != 200 {
			t.Fatalf("%s: %d %s", step, res.status, res.body)
		}
	}
	b, ct := form(map[string]string{"inspection": fmt.Sprintf(`{"on":%q,"conclusion":"pass"}`, today), "photos": `[{"taken_at":"2026-01-02T03:04:05Z","lon":108.3,"lat":12.7}]`},
		[3]string{"photo", "anh.jpg", "<svg>not a photo</svg>"})
	before := a.codeServiceCounts()
	if res := officer.do("POST", path+"/inspection", b, "Content-Type", ct); res.status != 422 || !strings.Contains(res.errorMessage(), "photo 1 is not a JPEG or PNG image") {
		t.Errorf("a photo that is not an image: %d %s", res.status, res.body)
	}
	refuse("a conditional conclusion without its reasons", officer, "POST", path+"/inspection", fmt.Sprintf(`{"on":%q,"conclusion":"conditional"}`, today), 422, "says why")
	if after := a.codeServiceCounts(); after != before {
		t.Errorf("a refused inspection changed the database: %s, then %s", before, after)
	}
	if res := officer.do("POST", path+"/inspection", fmt.Sprintf(`{"on":%q,"conclusion":"pass"}`, today)); res.status != 201 {
		t.Fatalf("the inspection: %d %s", res.status, res.body)
	}
	refuse("an officer of another province approving", stranger, "POST", path+"/decision", `{"decision":"approve","document":"1/QĐ"}`, 403, "outside your jurisdiction")
	refuse("valid_to before valid_from", officer, "POST", path+"/decision", `{"decision":"approve","document":"1/QĐ","valid_from":"2027-03-01","valid_to":"2027-01-31"}`, 422,
		"valid to 2027-01-31, before it is valid from 2027-03-01")
	refuse("approving without the document", officer, "POST", path+"/decision", `{"decision":"approve"}`, 422, "approving document")
	refuse("rejecting without reasons", officer, "POST", path+"/decision", `{"decision":"reject"}`, 422, "gives its reasons")
	refuse("a second inspection of an inspected application", officer, "POST", path+"/inspection", fmt.Sprintf(`{"on":%q,"conclusion":"pass"}`, today), 409, "the application is inspected")

	// The growing-area rules have their own test (TestCooperativeFormsAGrowingArea); rejected
	// with its reasons, the application ends there.
	if res := officer.do("POST", path+"/decision", `{"decision":"reject","reasons":["Nhật ký canh tác không đầy đủ"]}`); res.status != 200 || !strings.Contains(string(res.body), "Nhật ký canh tác không đầy đủ") {
		t.Errorf("rejecting: %d %s", res.status, res.body)
	}
	refuse("approving a rejected application", officer, "POST", path+"/decision", `{"decision":"approve","document":"1/QĐ"}`, 409, "the application is rejected")
}

// TestConcurrentApprovals: 20 approvals at once in one province issue 20 distinct, consecutive
// numbers; two officers approving the same application at once issue one code.
func TestConcurrentApprovals(t *testing.T) {
	// Requests wait for a connection rather than hear "busy": the test is of the database.
	a := startApp(t, func(c *Config) { c.HTTP.BusyWait = 30 * time.Second })
	a.loadDemo()
	ctx := context.Background()
	coop := a.signInAs(demoCoop, demoCoopPassword)
	officers := []*client{a.signInAs(demoOfficer, demoOfficerPassword), a.officerClient("lan", "66")}
	// 21 cassava areas (an annual crop: 0.1 ha is enough), one plot each.
	var coopID int64
	var commune string
	a.app.DB().Pool.QueryRow(ctx, `SELECT p.id, (SELECT pl.commune_code FROM plot pl JOIN producer m ON m.id = pl.producer_id
		WHERE m.cooperative_id = p.id AND pl.commune_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)
		FROM app_user u JOIN producer p ON p.id = u.producer_id WHERE u.username = $1`, demoCoop).Scan(&coopID, &commune)
	x, y := a.emptySpot(commune)
	var apps []int64
	for i := range 21 {
		dx, dy := float64(i%5)*0.0004, float64(i/5)*0.0004
		sq := polygonJSON(orb.Point{x + dx, y + dy}, orb.Point{x + dx + 0.0004, y + dy}, orb.Point{x + dx + 0.0004, y + dy + 0.0004}, orb.Point{x + dx, y + dy + 0.0004})
		res := coop.do("POST", "/api/v1/plots", plotBody(sq, fmt.Sprintf(`{"crop":"cassava","producer":{"name":"Hộ trồng sắn %d"}}`, i+1)))
		if res.status != 201 {
			t.Fatalf("plot %d: %d %s", i, res.status, res.body)
		}
		res = coop.do("POST", "/api/v1/growing-areas", fmt.Sprintf(`{"name":"Vùng sắn %d","plots":[%d]}`, i+1, decode[plotAnswer](t, res).ID))
		if res.status != 201 {
			t.Fatalf("area %d: %d %s", i, res.status, res.body)
		}
		body := strings.NewReplacer(`"crop":"durian","varieties":["Ri6","Monthong"]`, `"crop":"cassava","varieties":["KM94"]`).Replace(form01(idOf(t, res.json(t), "id"), "CN"))
		res = coop.do("POST", "/api/v1/applications", body)
		if res.status != 201 {
			t.Fatalf("application %d: %d %s", i, res.status, res.body)
		}
		app := idOf(t, res.json(t), "application", "id")
		if res := coop.do("POST", fmt.Sprintf("/api/v1/applications/%d/status", app), `{"status":"submitted"}`); res.status != 200 {
			t.Fatalf("submitting %d: %d %s", app, res.status, res.body)
		}
		inspected(t, officers[0], app)
		apps = append(apps, app)
	}
	approve := func(c *client, app int64) response {
		return c.do("POST", fmt.Sprintf("/api/v1/applications/%d/decision", app), fmt.Sprintf(`{"decision":"approve","document":"%d/QĐ-TTBVTV"}`, app))
	}
	var wg sync.WaitGroup
	results := make([]response, 22)
	for i, app := range apps[:20] {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = approve(officers[i%2], app) }()
	}
	wg.Wait()
	// Then the 21st, approved by both officers at once.
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); results[20+i] = approve(officers[i], apps[20]) }()
	}
	wg.Wait()
	var seqs []int
	for i, res := range results[:20] {
		if res.status != 201 {
			t.Fatalf("approval %d: %d %s", i, res.status, res.body)
		}
	}
	rows, err := a.app.DB().Pool.Query(ctx, `SELECT code_sequence FROM market_code WHERE application_id = ANY ($1) ORDER BY code_sequence`, apps[:20])
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n int
		rows.Scan(&n)
		seqs = append(seqs, n)
	}
	rows.Close()
	if len(seqs) != 20 {
		t.Fatalf("%d codes for 20 approvals", len(seqs))
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Errorf("sequence numbers %v are not distinct and consecutive", seqs)
			break
		}
	}
	t.Logf("20 concurrent approvals issued VN-DLOR-%04d to VN-DLOR-%04d", seqs[0], seqs[19])
	statuses := []int{results[20].status, results[21].status}
	slices.Sort(statuses)
	var codes int
	a.app.DB().Pool.QueryRow(ctx, `SELECT count(*) FROM market_code WHERE application_id = $1`, apps[20]).Scan(&codes)
	if fmt.Sprint(statuses) != "[201 409]" || codes != 1 {
		t.Errorf("two officers approving one application: %v, %d codes; want one 201 and one 409, one code", statuses, codes)
	}
	for _, res := range results[20:] {
		if res.status == 409 && !strings.Contains(res.errorMessage(), "already approved: code VN-DLOR-") {
			t.Errorf("the second approval says %s, want that the code was already issued", res.errorMessage())
		}
	}
	// A number is never reused: a revoked code keeps its number, the next approval takes a new one.
	var last int
	a.app.DB().Pool.QueryRow(ctx, `SELECT max(code_sequence) FROM market_code WHERE code_province = 'DL' AND code_kind = 'OR'`).Scan(&last)
	var lastCode string
	a.app.DB().Pool.QueryRow(ctx, `SELECT code FROM market_code WHERE code_sequence = $1 AND code_province = 'DL'`, last).Scan(&lastCode)
	if res := officers[0].do("POST", "/api/v1/codes/"+lastCode+"/status", `{"status":"revoked","note":"thử"}`); res.status != 200 {
		t.Fatalf("revoking %s: %d %s", lastCode, res.status, res.body)
	}
	var next int
	a.app.DB().Pool.QueryRow(ctx, `SELECT last FROM code_sequence WHERE province_code = '66' AND kind = 'OR'`).Scan(&next)
	if next != last {
		t.Errorf("code_sequence says %d after issuing %d", next, last)
	}
}

// TestInboxCountsAreTheDatabase: the officer's inbox counts what the database holds for their
// jurisdiction, and nothing of another province.
func TestInboxCountsAreTheDatabase(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	ctx := context.Background()
	coop := a.signInAs(demoCoop, demoCoopPassword)
	officer := a.signInAs(demoOfficer, demoOfficerPassword)
	plots, _ := a.memberPlots(coop, 8)
	for i, part := range [][]int64{plots[:4], plots[4:]} {
		res := coop.do("POST", "/api/v1/growing-areas", fmt.Sprintf(`{"name":"Vùng hộp thư %d","plots":%s}`, i+1, jsonIDs(part)))
		if res.status != 201 {
			t.Fatalf("area: %d %s", res.status, res.body)
		}
		res = coop.do("POST", "/api/v1/applications", form01(idOf(t, res.json(t), "id"), "CN"))
		if res.status != 201 {
			t.Fatalf("application: %d %s", res.status, res.body)
		}
		app := idOf(t, res.json(t), "application", "id")
		coop.do("POST", fmt.Sprintf("/api/v1/applications/%d/status", app), `{"status":"submitted"}`)
		if i == 1 {
			today := time.Now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
			officer.do("POST", fmt.Sprintf("/api/v1/applications/%d/status", app), `{"status":"under_review"}`)
			officer.do("POST", fmt.Sprintf("/api/v1/applications/%d/status", app), fmt.Sprintf(`{"status":"inspection_scheduled","on":%q,"inspectors":["Lan"]}`, today))
		}
	}
	// A code of the demo expiring within 60 days, another overdue for supervision.
	db := a.app.DB().Pool
	db.Exec(ctx, `UPDATE market_code SET valid_to = vn_today() + 30 WHERE id = (SELECT id FROM market_code WHERE province_code = '66' AND status = 'active' ORDER BY id LIMIT 1)`)
	res := officer.do("GET", "/api/v1/inbox", "")
	if res.status != 200 {
		t.Fatalf("inbox: %d %s", res.status, res.body)
	}
	var inbox struct {
		Counts map[string]int `json:"counts"`
	}
	_ = json.Unmarshal(res.body, &inbox)
	want := map[string]int{}
	q := func(key, sql string) {
		var n int
		if err := db.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		want[key] = n
	}
	q("review", `SELECT count(*) FROM application WHERE province_code = '66' AND status IN ('submitted', 'under_review')`)
	q("inspections", `SELECT count(*) FROM application WHERE province_code = '66' AND status = 'inspection_scheduled'`)
	q("expiring", `SELECT count(*) FROM market_code WHERE province_code = '66' AND code_status(status, valid_to) = 'active' AND valid_to <= vn_today() + 60`)
	q("overdue", `SELECT count(*) FROM market_code m WHERE m.province_code = '66' AND code_status(m.status, m.valid_to) = 'active'
		AND (greatest((SELECT max(i.inspected_on) FROM inspection i WHERE i.market_code_id = m.id OR i.growing_area_id = m.growing_area_id OR i.packing_house_id = m.packing_house_id), m.valid_from)
		     + make_interval(months => m.supervision_months))::date < vn_today()`)
	q("reports_missing", `SELECT count(*) FROM market_code m JOIN growing_area g ON g.id = m.growing_area_id WHERE m.province_code = '66'
		AND code_status(m.status, m.valid_to) = 'active' AND m.market <> 'VN'
		AND NOT EXISTS (SELECT 1 FROM seasonal_report r WHERE r.growing_area_id = g.id AND r.season = to_char(vn_today(), 'YYYY') AND (r.market = m.market OR r.market IS NULL))`)
	if fmt.Sprint(inbox.Counts) != fmt.Sprint(want) {
		t.Errorf("inbox counts %v, the database holds %v", inbox.Counts, want)
	}
	// To review: the test's application and the demo's (Krông Pắc 2 for Australia).
	if want["review"] != 2 || want["inspections"] != 1 || want["expiring"] < 1 {
		t.Errorf("the test's own work is not all there: %v", want)
	}
	// An officer of another province sees none of it.
	res = a.officerClient("minh", "68").do("GET", "/api/v1/inbox", "")
	_ = json.Unmarshal(res.body, &inbox)
	if inbox.Counts["review"] != 0 || inbox.Counts["inspections"] != 0 {
		t.Errorf("an officer of province 68 sees %v", inbox.Counts)
	}
}

// TestCodeProcedure: province letters an admin changes, the export market's two steps, seasonal
// reports and the missing list, packing houses with dated links, and an area's plots changed;
// each refusal names its problem and changes nothing.
func TestCodeProcedure(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	ctx := context.Background()
	db := a.app.DB().Pool
	ps := a.people()
	admin := a.tokenClient(ps, "admin")
	coop := a.signInAs(demoCoop, demoCoopPassword)
	officer := a.signInAs(demoOfficer, demoOfficerPassword)
	const code = "VN-DLOR-0321"
	var area int64
	db.QueryRow(ctx, `SELECT growing_area_id FROM market_code WHERE code = $1`, code).Scan(&area)
	counts := func() string {
		var n [6]int
		db.QueryRow(ctx, `SELECT (SELECT count(*) FROM seasonal_report), (SELECT count(*) FROM packing_house), (SELECT count(*) FROM packing_house_growing_area),
			(SELECT count(*) FROM growing_area_plot), (SELECT count(*) FROM province_letters WHERE letters = 'DL'), (SELECT count(*) FROM market_code WHERE proposed_on IS NOT NULL)`).
			Scan(&n[0], &n[1], &n[2], &n[3], &n[4], &n[5])
		return fmt.Sprint(n)
	}
	refuse := func(name string, c *client, method, path, body string, status int, want string) {
		t.Helper()
		before := counts()
		res := c.do(method, path, body)
		if res.status != status || !strings.Contains(string(res.body), want) {
			t.Errorf("%s: %d %s, want %d saying %q", name, res.status, res.body, status, want)
		}
		if after := counts(); after != before {
			t.Errorf("%s changed the database: %s, then %s", name, before, after)
		}
	}

	// Province letters: data an admin changes, never two provinces with the same.
	res := officer.do("GET", "/api/v1/province-letters", "")
	if res.status != 200 || !strings.Contains(string(res.body), `"province_code":"66","name":"Tỉnh Đắk Lắk","letters":"DL"`) {
		t.Errorf("the province letters: %d %.300s", res.status, res.body)
	}
	refuse("an officer changing the letters", officer, "PUT", "/api/v1/province-letters/66", `{"letters":"DK"}`, 403, "")
	refuse("letters of another province", admin, "PUT", "/api/v1/province-letters/66", `{"letters":"LD"}`, 409, "belong to province 68")
	refuse("letters that are not two letters", admin, "PUT", "/api/v1/province-letters/66", `{"letters":"D1"}`, 422, "two capital letters")

	// The export market's two steps, in their order.
	today := time.Now().In(time.FixedZone("ICT", 7*3600))
	refuse("confirmed before proposed", officer, "POST", "/api/v1/codes/"+code+"/market-steps", fmt.Sprintf(`{"step":"confirmed","on":%q,"list_date":%q}`, today.Format(time.DateOnly), today.Format(time.DateOnly)), 409, "never proposed")
	refuse("a step in the future", officer, "POST", "/api/v1/codes/"+code+"/market-steps", fmt.Sprintf(`{"step":"proposed","on":%q,"document":"12/BVTV-KD"}`, today.AddDate(0, 0, 3).Format(time.DateOnly)), 422, "after today")
	if res := officer.do("POST", "/api/v1/codes/"+code+"/market-steps", fmt.Sprintf(`{"step":"proposed","on":%q,"document":"12/BVTV-KD"}`, today.AddDate(0, 0, -20).Format(time.DateOnly))); res.status != 200 {
		t.Fatalf("proposed: %d %s", res.status, res.body)
	}
	res = officer.do("POST", "/api/v1/codes/"+code+"/market-steps", fmt.Sprintf(`{"step":"confirmed","on":%q,"list_date":%q,"reference":"GACC list"}`, today.Format(time.DateOnly), today.AddDate(0, 0, -2).Format(time.DateOnly)))
	if res.status != 200 || !strings.Contains(string(res.body), `"confirmed_list_date":"`+today.AddDate(0, 0, -2).Format(time.DateOnly)) {
		t.Errorf("confirmed: %d %s", res.status, res.body)
	}
	if res := a.anonymous().do("GET", "/api/v1/codes/"+code+"/market-steps", ""); res.status != 200 || !strings.Contains(string(res.body), `"proposed_document":"12/BVTV-KD"`) {
		t.Errorf("the public read of the steps: %d %s", res.status, res.body)
	}

	// Seasonal reports: missing until filed.
	missing := func() bool {
		res := officer.do("GET", "/api/v1/seasonal-reports/missing", "")
		return strings.Contains(string(res.body), `"code":"`+code+`"`)
	}
	if !missing() {
		t.Errorf("%s has no report for %d and is not listed missing", code, today.Year())
	}
	season := fmt.Sprint(today.Year())
	reports := fmt.Sprintf("/api/v1/growing-areas/%d/seasonal-reports", area)
	refuse("a report of a crop the area does not grow", coop, "POST", reports, fmt.Sprintf(`{"season":%q,"crop":"rice","market":"CN"}`, season), 422, "is not grown in")
	refuse("a report larger than the area", coop, "POST", reports, fmt.Sprintf(`{"season":%q,"crop":"durian","market":"CN","area_ha":99999}`, season), 422, "at most the area's")
	refuse("a harvest ending before it starts", coop, "POST", reports, fmt.Sprintf(`{"season":%q,"crop":"durian","market":"CN","expected_harvest_from":"%s-06-01","expected_harvest_to":"%s-05-01"}`, season, season, season), 422, "before it starts")
	res = coop.do("POST", reports, fmt.Sprintf(`{"season":%q,"crop":"sầu riêng","variety":"Ri6","area_ha":1.5,"standard":"VietGAP","market":"CN","expected_output_t":30,"expected_harvest_from":"%s-05-15","expected_harvest_to":"%s-08-31"}`, season, season, season))
	if res.status != 201 {
		t.Fatalf("filing the report: %d %s", res.status, res.body)
	}
	report := idOf(t, res.json(t), "id")
	if missing() {
		t.Errorf("%s is still listed missing after its report", code)
	}
	if res := coop.do("PATCH", fmt.Sprintf("/api/v1/seasonal-reports/%d", report), `{"actual_output_t":28.4}`); res.status != 200 {
		t.Errorf("the actual output: %d %s", res.status, res.body)
	}

	// A packing house, linked to the area for some days.
	var lon, lat float64
	db.QueryRow(ctx, `SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Transform(footprint_3857, 4326)) c FROM growing_area WHERE id = $1) s`, area).Scan(&lon, &lat)
	res = officer.do("POST", "/api/v1/packing-houses", fmt.Sprintf(`{"name":"Cơ sở đóng gói Thử","address":"Km 5","location":[%f,%f],"capacity_tpd":40}`, lon, lat))
	if res.status != 201 {
		t.Fatalf("the packing house: %d %s", res.status, res.body)
	}
	house := idOf(t, res.json(t), "id")
	link := fmt.Sprintf("/api/v1/packing-houses/%d/growing-areas/%d", house, area)
	refuse("a link ending before it starts", officer, "PUT", link, `{"valid_from":"2026-06-01","valid_to":"2026-05-01"}`, 422, "before it starts")
	refuse("the cooperative linking a house", coop, "PUT", link, `{"valid_from":"2026-06-01"}`, 403, "")
	listed := func() bool {
		res := a.anonymous().do("GET", fmt.Sprintf("/api/v1/growing-areas/%d", area), "")
		return strings.Contains(string(res.body), "Cơ sở đóng gói Thử")
	}
	if res := officer.do("PUT", link, fmt.Sprintf(`{"valid_from":%q}`, today.AddDate(0, -1, 0).Format(time.DateOnly))); res.status != 200 {
		t.Fatalf("linking: %d %s", res.status, res.body)
	}
	if !listed() {
		t.Errorf("the area's public view does not list the linked packing house")
	}
	if res := a.anonymous().do("GET", fmt.Sprintf("/api/v1/packing-houses/%d", house), ""); !strings.Contains(string(res.body), `"valid_from":"`+today.AddDate(0, -1, 0).Format(time.DateOnly)) {
		t.Errorf("the packing house's view does not give its link's days: %s", res.body)
	}
	if res := officer.do("PUT", link, fmt.Sprintf(`{"valid_from":%q,"valid_to":%q}`, today.AddDate(0, -1, 0).Format(time.DateOnly), today.AddDate(0, 0, -1).Format(time.DateOnly))); res.status != 200 {
		t.Fatalf("ending the link: %d %s", res.status, res.body)
	}
	if listed() {
		t.Errorf("a link that ended yesterday still shows")
	}

	// The area's plots changed: one leaves, a new member's joins; a stranger's is refused.
	var current []int64
	rows, _ := db.Query(ctx, `SELECT plot_id FROM growing_area_plot WHERE growing_area_id = $1 AND removed_at IS NULL ORDER BY plot_id`, area)
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		current = append(current, id)
	}
	rows.Close()
	newPlots, _ := a.memberPlots(coop, 1)
	var stranger int64
	db.QueryRow(ctx, `SELECT p.id FROM plot p JOIN producer o ON o.id = p.producer_id JOIN app_user u ON u.username = $1
		WHERE o.cooperative_id IS NOT NULL AND o.cooperative_id <> u.producer_id AND p.deleted_at IS NULL ORDER BY p.id LIMIT 1`, demoCoop).Scan(&stranger)
	path := fmt.Sprintf("/api/v1/growing-areas/%d/plots", area)
	refuse("a stranger's plot", coop, "PUT", path, fmt.Sprintf(`{"plots":%s}`, jsonIDs(append(slices.Clone(current), stranger))), 422, fmt.Sprintf("plot %d is not a plot of", stranger))
	next := append(slices.Clone(current[1:]), newPlots[0])
	if res := coop.do("PUT", path, fmt.Sprintf(`{"plots":%s}`, jsonIDs(next))); res.status != 200 {
		t.Fatalf("changing the plots: %d %s", res.status, res.body)
	}
	var now []int64
	rows, _ = db.Query(ctx, `SELECT plot_id FROM growing_area_plot WHERE growing_area_id = $1 AND removed_at IS NULL ORDER BY plot_id`, area)
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		now = append(now, id)
	}
	rows.Close()
	slices.Sort(next)
	var left int
	db.QueryRow(ctx, `SELECT count(*) FROM growing_area_plot WHERE growing_area_id = $1 AND plot_id = $2 AND removed_at IS NOT NULL`, area, current[0]).Scan(&left)
	if fmt.Sprint(now) != fmt.Sprint(next) || left != 1 {
		t.Errorf("the area holds %v (plot %d's membership ended: %d), want %v", now, current[0], left, next)
	}

	// A packing house of the cooperative applies through the same procedure: a PH code.
	res = coop.do("POST", "/api/v1/packing-houses", fmt.Sprintf(`{"name":"Nhà đóng gói HTX","address":"Thôn 2","location":[%f,%f]}`, lon+0.001, lat))
	if res.status != 201 {
		t.Fatalf("the cooperative's packing house: %d %s", res.status, res.body)
	}
	ownHouse := idOf(t, res.json(t), "id")
	if res := coop.do("GET", "/api/v1/organisation", ""); !strings.Contains(string(res.body), fmt.Sprintf(`"packing_houses":[{"id":%d,"name":"Nhà đóng gói HTX"`, ownHouse)) {
		t.Errorf("the cooperative's page does not list its packing house: %.300s", res.body)
	}
	if res := a.anonymous().do("GET", fmt.Sprintf("/api/v1/packing-houses/%d", house), ""); !strings.Contains(string(res.body), `"address":"Km 5","capacity_tpd":40`) {
		t.Errorf("the packing house's view lacks its address or capacity: %s", res.body)
	}
	res = coop.do("POST", "/api/v1/applications", fmt.Sprintf(`{"packing_house_id":%d,"market":"CN","representative":"Lê Thị Đóng Gói","phone":"0912345678","commitment":true}`, ownHouse))
	if res.status != 201 {
		t.Fatalf("the packing house's application: %d %s", res.status, res.body)
	}
	phApp := idOf(t, res.json(t), "application", "id")
	if res := coop.do("POST", fmt.Sprintf("/api/v1/applications/%d/status", phApp), `{"status":"submitted"}`); res.status != 200 {
		t.Fatalf("submitting: %d %s", res.status, res.body)
	}
	inspected(t, officer, phApp)
	res = officer.do("POST", fmt.Sprintf("/api/v1/applications/%d/decision", phApp), `{"decision":"approve","document":"9/QĐ-TTBVTV"}`)
	if res.status != 201 || !regexp.MustCompile(`"code":"VN-DLPH-\d{4}"`).MatchString(string(res.body)) {
		t.Errorf("approving the packing house: %d %s, want a VN-DLPH code", res.status, res.body)
	}

	// The new letters name the next code; issued codes keep theirs.
	if res := admin.do("PUT", "/api/v1/province-letters/66", `{"letters":"DK"}`); res.status != 200 {
		t.Fatalf("changing the letters: %d %s", res.status, res.body)
	}
	if c := a.anonymous().do("GET", "/api/v1/codes/"+code, ""); c.status != 200 {
		t.Errorf("%s after the letters changed: %d", code, c.status)
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"mime/multipart"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const surveyGeoJSON = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"MA_THUA":"T1","TEN_CHU":"Nguyễn Văn Đức","CAY_TRONG":"Cà phê"},"geometry":{"type":"Polygon","coordinates":[[[108.05,12.68],[108.0511,12.6801],[108.0512,12.681],[108.0499,12.6809],[108.05,12.68]]]}},
{"type":"Feature","properties":{"MA_THUA":"T2","TEN_CHU":"Trần Thị Hồng","CAY_TRONG":"Sầu riêng"},"geometry":{"type":"Polygon","coordinates":[[[108.06,12.68],[108.0611,12.6801],[108.0612,12.681],[108.0599,12.6809],[108.06,12.68]]]}}]}`

// upload posts a file as a browser form does and waits for the import to end.
func (a *testApp) upload(name, content string, fields map[string]string) map[string]any {
	a.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write([]byte(content))
	mw.Close()
	res := a.do("POST", "/api/v1/imports", body.String(), append(a.auth(), "Content-Type", mw.FormDataContentType())...)
	if res.status != 202 {
		a.t.Fatalf("upload: %d %s", res.status, res.body)
	}
	loc := res.header.Get("Location")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		job := a.do("GET", loc, "", a.auth()...).json(a.t)
		if job["state"] != "running" && job["state"] != "queued" {
			return job
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.t.Fatal("the import did not end in 30 s")
	return nil
}

func TestImportUploadOverHTTP(t *testing.T) {
	a := startApp(t, nil)
	// A bad file first: every problem reported, nothing stored.
	bad := strings.Replace(surveyGeoJSON, "Sầu riêng", "lúa mì", 1)
	job := a.upload("khao-sat.geojson", bad, nil)
	if job["state"] != "failed" || !strings.Contains(job["error"].(map[string]any)["message"].(string), "unknown crop") {
		t.Fatalf("bad file: %v", job)
	}
	if n := a.plotCount(); n != 0 {
		t.Fatalf("%d plots stored from a refused file", n)
	}
	// A dry run, then the real thing, then the same file again.
	job = a.upload("khao-sat.geojson", surveyGeoJSON, map[string]string{"dry_run": "true"})
	if job["state"] != "done" || a.plotCount() != 0 {
		t.Fatalf("dry run: %v", job)
	}
	job = a.upload("khao-sat.geojson", surveyGeoJSON, nil)
	rep := job["report"].(map[string]any)
	if job["state"] != "done" || rep["added"].(float64) != 2 || a.plotCount() != 2 {
		t.Fatalf("import: %v", job)
	}
	if p := job["progress"].(map[string]any); p["features"].(float64) != 2 {
		t.Errorf("progress %v, want 2 features", p)
	}
	job = a.upload("khao-sat.geojson", surveyGeoJSON, nil)
	if rep := job["report"].(map[string]any); rep["unchanged"].(float64) != 2 || a.plotCount() != 2 {
		t.Errorf("again: %v", job)
	}
	// Anonymous callers may not upload; a job is not visible without its owner's credentials.
	if res := a.do("POST", "/api/v1/imports?filename=a.geojson", surveyGeoJSON); res.status != 401 {
		t.Errorf("anonymous upload: %d", res.status)
	}
	// No file name, no format: a 4xx that says so.
	if res := a.do("POST", "/api/v1/imports", surveyGeoJSON, a.auth()...); res.status != 422 || !strings.Contains(res.errorMessage(), "filename") {
		t.Errorf("upload without a name: %d %s", res.status, res.body)
	}
}

// TestImportBoundariesOverHTTP: layer=admin on an upload sets a commune's boundary,
// layer=facilities registers farms and packing houses from a spreadsheet, and an unknown layer
// is refused naming the ones there are.
func TestImportBoundariesOverHTTP(t *testing.T) {
	a := startApp(t, nil)
	var code string
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT min(code) FROM commune WHERE scheme = 2025 AND province_code = '66'`).Scan(&code); err != nil {
		t.Fatal(err)
	}
	file := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"MA_XA":"` + code + `"},
		"geometry":{"type":"Polygon","coordinates":[[[108.0,12.6],[108.05,12.6],[108.05,12.65],[108.0,12.65],[108.0,12.6]]]}}]}`
	job := a.upload("ranh-gioi.geojson", file, map[string]string{"layer": "admin"})
	if rep, _ := job["report"].(map[string]any); job["state"] != "done" || rep["updated"].(float64) != 1 {
		t.Fatalf("boundary upload: %v", job)
	}
	var set bool
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT boundary IS NOT NULL FROM commune WHERE scheme = 2025 AND code = $1`, code).Scan(&set); err != nil || !set {
		t.Errorf("commune %s has no boundary after the upload (%v)", code, err)
	}
	// Facilities from a spreadsheet with longitude and latitude columns.
	csv := "MA,LOAI_CO_SO,TEN_CO_SO,KINH_DO,VI_DO\nF1,chăn nuôi,Trại heo Ea Kao,108.06,12.65\nF2,đóng gói,Cơ sở đóng gói Krông Pắc,108.07,12.66\n"
	job = a.upload("co-so.csv", csv, map[string]string{"layer": "facilities", "province": "66"})
	if rep, _ := job["report"].(map[string]any); job["state"] != "done" || rep["added"].(float64) != 2 || rep["layer"] != "facilities" {
		t.Errorf("facilities upload: %v", job)
	}
	job = a.upload("co-so.geojson", surveyGeoJSON, map[string]string{"layer": "stables"})
	if e, _ := job["error"].(map[string]any); job["state"] != "failed" || !strings.Contains(e["message"].(string), "a file holds plots, facilities") {
		if e == nil && job["state"] == nil {
			return
		}
		t.Errorf("unknown layer: %v", job)
	}
}

// twin starts another server on a's database (several servers behind a load balancer), with
// a's admin token. It stops when the test ends.
func (a *testApp) twin(t *testing.T) *testApp {
	t.Helper()
	cfg := a.app.cfg
	cfg.HTTP.Addr = "127.0.0.1:0"
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	app, err := OpenApp(ctx, cfg, log, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx) }()
	b := &testApp{t: t, app: app, base: "http://" + app.Addr(), logs: logs, stdout: &out, token: a.token, secrets: a.secrets}
	b.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		app.Close()
	})
	t.Cleanup(func() {
		b.stop()
		b.checkLogs()
	})
	return b
}

// grid is a GeoJSON file of n small coffee plots side by side, big enough for an import to
// take a moment.
func grid(n int) string {
	var b strings.Builder
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		x, y := 108.0+float64(i%200)*0.0012, 12.6+float64(i/200)*0.0012
		fmt.Fprintf(&b, `{"type":"Feature","properties":{"MA_THUA":"G%d","CAY_TRONG":"cà phê"},"geometry":{"type":"Polygon","coordinates":[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f]]]}}`,
			i, x, y, x+0.001, y, x+0.001, y+0.001, x, y+0.001, x, y)
	}
	b.WriteString(`]}`)
	return b.String()
}

// Two servers on one database: an import started on one shows its progress and report on the
// other; after both restart, the report is still there.
func TestImportStateIsSharedByServers(t *testing.T) {
	a := startApp(t, nil)
	b := a.twin(t)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "luoi.geojson")
	fw.Write([]byte(grid(20000)))
	mw.WriteField("province", "66")
	mw.Close()
	res := a.do("POST", "/api/v1/imports", body.String(), append(a.auth(), "Content-Type", mw.FormDataContentType())...)
	if res.status != 202 {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	loc := res.header.Get("Location")
	sawProgress := false
	var job map[string]any
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		job = b.do("GET", loc, "", b.auth()...).json(t)
		if p, _ := job["progress"].(map[string]any); job["state"] == "running" && p["stage"] != "" && p["features"].(float64) > 0 {
			sawProgress = true
		}
		if job["state"] == "done" || job["state"] == "failed" {
			break
		}
	}
	if !sawProgress {
		t.Error("the other server never showed the import's progress")
	}
	if rep, _ := job["report"].(map[string]any); job["state"] != "done" || rep["added"].(float64) != 20000 {
		t.Fatalf("the other server's view of the import: %v", job["state"])
	}
	// Both servers stop; a new one on the same database still has the report.
	a.stop()
	b.stop()
	c := a.twin(t)
	if res := c.do("GET", loc, "", a.auth()...); res.status != 200 || !strings.Contains(string(res.body), `"added":20000`) {
		t.Errorf("after a restart: %d %.300s", res.status, res.body)
	}
}

// A dry run lists the registered plots a file would change; committing it imports the same
// upload for real, once.
func TestDryRunThenCommit(t *testing.T) {
	a := startApp(t, nil)
	if job := a.upload("khao-sat.geojson", surveyGeoJSON, nil); job["state"] != "done" {
		t.Fatalf("first import: %v", job)
	}
	// Another file with the same name stem and ids: T1 moved about 11 m east, T2 now coffee.
	moved := strings.Replace(strings.Replace(surveyGeoJSON, "108.05,", "108.0501,", -1), "108.0511,", "108.0512,", 1)
	moved = strings.Replace(moved, "Sầu riêng", "Cà phê", 1)
	dry := a.upload("khao-sat.geojson", moved, map[string]string{"dry_run": "true"})
	rep, _ := dry["report"].(map[string]any)
	changes, _ := rep["changes"].([]any)
	if dry["state"] != "done" || len(changes) != 2 {
		t.Fatalf("dry run: %v", dry)
	}
	t1, t2 := changes[0].(map[string]any), changes[1].(map[string]any)
	if t1["external_id"] != "T1" || t1["moved_m"].(float64) < 8 || t1["moved_m"].(float64) > 14 || t2["crop_before"] != "durian" || t2["crop_after"] != "coffee" {
		t.Errorf("changes: %v", changes)
	}
	var crop string
	a.app.DB().Pool.QueryRow(context.Background(), `SELECT crop FROM plot WHERE external_id = 'T2'`).Scan(&crop)
	if crop != "durian" {
		t.Fatalf("the dry run changed T2 to %s", crop)
	}
	res := a.do("POST", "/api/v1/imports/"+dry["id"].(string)+"/commit", "", a.auth()...)
	if res.status != 202 {
		t.Fatalf("commit: %d %s", res.status, res.body)
	}
	loc := res.header.Get("Location")
	var job map[string]any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if job = a.do("GET", loc, "", a.auth()...).json(t); job["state"] == "done" || job["state"] == "failed" {
			break
		}
	}
	if rep, _ := job["report"].(map[string]any); job["state"] != "done" || rep["updated"].(float64) != 2 || job["commit_of"] != dry["id"] {
		t.Fatalf("committed: %v", job)
	}
	a.app.DB().Pool.QueryRow(context.Background(), `SELECT crop FROM plot WHERE external_id = 'T2'`).Scan(&crop)
	if crop != "coffee" {
		t.Errorf("after the commit T2 is %s", crop)
	}
	if res := a.do("POST", "/api/v1/imports/"+dry["id"].(string)+"/commit", "", a.auth()...); res.status != 409 {
		t.Errorf("committing twice: %d %s", res.status, res.body)
	}
	var uploads int
	a.app.DB().Pool.QueryRow(context.Background(), `SELECT count(*) FROM upload`).Scan(&uploads)
	if uploads != 0 {
		t.Errorf("%d uploads kept after their imports ended", uploads)
	}
}

// A server that stops in the middle of an import: when a server of that host starts again, the
// import is failed (not left running for ever), its upload is forgotten and the file it was
// reading is removed.
func TestInterruptedImportIsCleanedAtStart(t *testing.T) {
	a := startApp(t, nil)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	pid := dead.Process.Pid
	host, _ := os.Hostname()
	db := a.app.DB()
	ctx := context.Background()
	var upload int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO upload (filename, created_by) VALUES ('x.geojson', 'token:e2e') RETURNING id`).Scan(&upload); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO import_job (id, owner, owner_kind, filename, request, state, upload_id, running_on)
		VALUES ('0123456789abcdef01', 'token:e2e', 'token', 'x.geojson', '{}', 'running', $1, $2)`, upload, fmt.Sprintf("%s:%d", host, pid)); err != nil {
		t.Fatal(err)
	}
	left := filepath.Join(os.TempDir(), "vungtrong-imports", strconv.Itoa(pid))
	if err := os.MkdirAll(left, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(left, "0123456789abcdef01.geojson"), []byte("{}"), 0o600)
	a.stop()
	b := a.twin(t)
	job := b.do("GET", "/api/v1/imports/0123456789abcdef01", "", b.auth()...).json(t)
	if e, _ := job["error"].(map[string]any); job["state"] != "failed" || !strings.Contains(fmt.Sprint(e["message"]), "interrupted") {
		t.Errorf("the interrupted import: %v", job)
	}
	var uploads int
	db = b.app.DB()
	db.Pool.QueryRow(ctx, `SELECT count(*) FROM upload WHERE id = $1`, upload).Scan(&uploads)
	if uploads != 0 {
		t.Error("the interrupted import's upload is still kept")
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("the interrupted import's folder %s is still there (%v)", left, err)
	}
}

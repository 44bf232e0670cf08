package main

import (
	"bytes"
	"context"
	"mime/multipart"
	"strings"
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
		if job["state"] != "running" {
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

package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vungtrong/vungtrong/compliance/eudr"
)

// demoCooperative is the demo's durian cooperative; its members are households of Krông Pắc.
const demoCooperative = "HTX Sầu riêng Krông Pắc (mẫu)"

// checkEUDRZip checks every EU rule on an export: the package's validator, PostGIS's validity of
// every polygon, and GDAL's ogrinfo reading each file. It returns the validator's report.
func checkEUDRZip(t *testing.T, a *testApp, z []byte, maxBytes int64) *eudr.Report {
	t.Helper()
	rep, err := eudr.Validate(bytes.NewReader(z), int64(len(z)), eudr.ValidateOptions{MaxFileBytes: maxBytes})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".geojson") {
			continue
		}
		rc, _ := zf.Open()
		var b bytes.Buffer
		_, _ = b.ReadFrom(rc)
		rc.Close()
		var fc struct {
			Features []struct {
				ID       int64           `json:"id"`
				Geometry json.RawMessage `json:"geometry"`
			} `json:"features"`
		}
		if err := json.Unmarshal(b.Bytes(), &fc); err != nil {
			t.Fatal(err)
		}
		for _, f := range fc.Features {
			var invalid, holes int
			if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE NOT ST_IsValid(d.geom)), coalesce(max(ST_NumInteriorRings(d.geom)), 0)
				FROM ST_Dump(ST_GeomFromGeoJSON($1)) d`, string(f.Geometry)).Scan(&invalid, &holes); err != nil {
				t.Fatal(err)
			}
			if invalid > 0 || holes > 0 {
				t.Errorf("%s, plot %d: %d polygons invalid for PostGIS, %d holes", zf.Name, f.ID, invalid, holes)
			}
		}
		path := filepath.Join(dir, zf.Name)
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("ogrinfo", "-ro", "-al", "-so", path).CombinedOutput()
		if err != nil {
			t.Fatalf("ogrinfo %s: %v\n%s", zf.Name, err, out)
		}
		if bytes.Contains(out, []byte("Warning")) || bytes.Contains(out, []byte("ERROR")) {
			t.Errorf("ogrinfo %s complains:\n%s", zf.Name, out)
		}
		m := regexp.MustCompile(`Feature Count: (\d+)`).FindSubmatch(out)
		if m == nil || string(m[1]) != strconv.Itoa(len(fc.Features)) {
			t.Errorf("ogrinfo %s reads %s features, the file holds %d:\n%s", zf.Name, m, len(fc.Features), out)
		}
		for _, want := range []string{"ProducerCountry: String", "ProductionPlace: String", `ID["EPSG",4326]`, "WGS 84"} {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("ogrinfo %s does not say %q:\n%s", zf.Name, want, out)
			}
		}
	}
	return rep
}

func (a *testApp) ids(t *testing.T, sql string, args ...any) []int64 {
	t.Helper()
	rows, err := a.app.DB().Pool.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func TestEUDRExportOfTheDemoCooperative(t *testing.T) {
	a := startApp(t, nil)
	if err := loadDemo(context.Background(), a.app.DB(), defaultConfig(t), demoDir, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	coop := a.ids(t, `SELECT id FROM producer WHERE name = $1`, demoCooperative)
	if len(coop) != 1 {
		t.Fatalf("the demo has %d producers named %q", len(coop), demoCooperative)
	}
	want := a.ids(t, `SELECT p.id FROM plot p JOIN producer o ON o.id = p.producer_id
		WHERE p.deleted_at IS NULL AND (o.id = $1 OR o.cooperative_id = $1)`, coop[0])
	if len(want) < 20 {
		t.Fatalf("the demo cooperative has %d plots", len(want))
	}
	dir := t.TempDir()
	for _, points := range []bool{false, true} {
		t.Run(fmt.Sprintf("points=%v", points), func(t *testing.T) {
			out := filepath.Join(dir, fmt.Sprintf("coop-%v.zip", points))
			args := []string{"--database-url", a.app.cfg.Database.URL, "eudr", "export", "--cooperative", strconv.FormatInt(coop[0], 10), "--out", out, "--quiet"}
			if points {
				args = append(args, "--points")
			}
			printed := runCLI(t, 0, args...)
			z, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			rep := checkEUDRZip(t, a, z, eudr.DefaultMaxFileBytes)
			got := make([]int64, 0, len(rep.Plots))
			for id := range rep.Plots {
				got = append(got, id)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("exported plots %v, want the cooperative's %v", got, want)
			}
			s := rep.Summary
			if s == nil || s.Plots != len(want) || s.Producers < 5 || s.WithheldNames != 0 || len(s.Files) != 1 || len(s.Statements) != 1 ||
				s.Screening.Outcome != eudr.NotScreened || !slices.Contains(s.HSHeadings, "0810") {
				t.Errorf("summary: %+v", s)
			}
			if points != (rep.Points > 0) {
				t.Errorf("%d points written with --points=%v", rep.Points, points)
			}
			if !strings.Contains(printed, "plots.geojson") || !strings.Contains(printed, "dds.json") {
				t.Errorf("the command printed:\n%s", printed)
			}
			// The check command agrees.
			if out := runCLI(t, 0, "eudr", "check", out); !strings.Contains(out, "every rule holds") {
				t.Errorf("eudr check: %s", out)
			}
			if !points {
				a.logAreaChange(t, z)
			}
		})
	}
	// A file that breaks a rule fails the check.
	bad := filepath.Join(dir, "bad.zip")
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("plots.geojson")
	w.Write([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"properties":{"producerName":"x","ProducerCountry":"VN","ProductionPlace":"x"},"geometry":{"type":"Point","coordinates":[108.1,12.1]}}]}`))
	zw.Close()
	if err := os.WriteFile(bad, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runCLI(t, 1, "eudr", "check", bad)
	for _, want := range []string{"fewer than 6 decimals", `"ProducerName"`} {
		if !strings.Contains(out, want) {
			t.Errorf("eudr check of a bad file does not say %q:\n%s", want, out)
		}
	}
}

// logAreaChange logs how far rounding to six decimals moved the demo plots' areas (their
// positions have seven).
func (a *testApp) logAreaChange(t *testing.T, z []byte) {
	t.Helper()
	zr, _ := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	rc, err := zr.Open("plots.geojson")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var fc struct {
		Features []struct {
			ID       int64           `json:"id"`
			Geometry json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.NewDecoder(rc).Decode(&fc); err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for _, f := range fc.Features {
		var d float64
		if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT abs(ST_Area(ST_GeomFromGeoJSON($1)::geography) / 1e4 - area_ha) / area_ha FROM plot WHERE id = $2`,
			string(f.Geometry), f.ID).Scan(&d); err != nil {
			t.Fatal(err)
		}
		worst = math.Max(worst, d)
	}
	t.Logf("rounding to six decimals changed a demo plot's area by at most %.4f%%", worst*100)
}

func TestEUDRExportJobsOverHTTP(t *testing.T) {
	a := startApp(t, nil)
	ps := a.people()
	coop, exporter := a.tokenClient(ps, "coop"), a.tokenClient(ps, "exporter")

	// run starts an export, follows it to its end, and returns the job and its zip.
	run := func(c *client, body string) (map[string]any, []byte) {
		t.Helper()
		res := c.do("POST", "/api/v1/eudr/exports", body)
		if res.status != 202 {
			t.Fatalf("POST %s: %d %s", body, res.status, res.body)
		}
		loc := res.header.Get("Location")
		var job map[string]any
		deadline := time.Now().Add(60 * time.Second)
		for {
			res = c.do("GET", loc, "")
			if res.status != 200 {
				t.Fatalf("GET %s: %d %s", loc, res.status, res.body)
			}
			job = res.json(t)
			if s := job["state"]; s == "done" || s == "failed" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("export still %v after a minute: %s", job["state"], res.body)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if job["state"] != "done" {
			t.Fatalf("export failed: %s", res.body)
		}
		file := c.do("GET", loc+"/file", "")
		if file.status != 200 || file.header.Get("Content-Type") != "application/zip" || !strings.Contains(file.header.Get("Content-Disposition"), ".zip") {
			t.Fatalf("GET file: %d %v", file.status, file.header)
		}
		if size := job["file"].(map[string]any)["size"].(float64); int(size) != len(file.body) {
			t.Errorf("file of %d bytes, the job says %v", len(file.body), size)
		}
		return job, file.body
	}

	// The cooperative exports its members' plots, names included.
	job, z := run(coop, fmt.Sprintf(`{"cooperative": %d, "max_mb": 1}`, ps.coopA))
	rep := checkEUDRZip(t, a, z, 1_000_000)
	if _, ok := rep.Plots[ps.p1]; !ok || len(rep.Plots) != 1 {
		t.Errorf("the cooperative's export holds %v, want its member's plot %d", rep.Plots, ps.p1)
	}
	if !bytes.Contains(unzipAll(t, z), []byte("Nguyễn Văn Một")) {
		t.Error("the cooperative does not see its member's name")
	}
	// Only who started it (and admins) sees it.
	loc := "/api/v1/eudr/exports/" + job["id"].(string)
	if res := exporter.do("GET", loc, ""); res.status != 404 {
		t.Errorf("another account reads the export: %d", res.status)
	}
	if res := exporter.do("GET", loc+"/file", ""); res.status != 404 {
		t.Errorf("another account downloads the export: %d", res.status)
	}
	if res := a.do("GET", loc, "", a.auth()...); res.status != 200 {
		t.Errorf("an admin cannot read the export: %d", res.status)
	}

	// An exporter exports a commune: households' names withheld, and the file says so.
	job, z = run(exporter, `{"commune": "24280", "points": true}`)
	checkEUDRZip(t, a, z, eudr.DefaultMaxFileBytes)
	all := unzipAll(t, z)
	for _, secret := range []string{"Nguyễn Văn Một", "Trần Thị Hai", ps.citizenIDs["Nguyễn Văn Một"]} {
		if bytes.Contains(all, []byte(secret)) {
			t.Errorf("an exporter's export holds %q", secret)
		}
	}
	if !bytes.Contains(all, []byte(`"ProducerNameWithheld":true`)) {
		t.Error("the export does not say which names were withheld")
	}
	if s := job["summary"].(map[string]any); s["withheld_names"].(float64) != 2 || s["plots"].(float64) != 2 {
		t.Errorf("summary: %v", s)
	}

	// Requests that cannot be exported.
	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"cooperative_id": 1}`, 422, "cooperative_id"},
		{`{"commune": "24280", "max_mb": 30}`, 422, "25 MB"},
		{`{"commune": "24280", "producer": 1}`, 422, "exactly one selection"},
	} {
		if res := coop.do("POST", "/api/v1/eudr/exports", tc.body); res.status != tc.status || !strings.Contains(res.errorMessage()+string(res.body), tc.want) {
			t.Errorf("POST %s: %d %s, want %d saying %q", tc.body, res.status, res.body, tc.status, tc.want)
		}
	}
	// A selection without plots fails as a job, and says why.
	res := coop.do("POST", "/api/v1/eudr/exports", `{"commune": "24490"}`)
	if res.status != 202 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		j := coop.do("GET", res.header.Get("Location"), "").json(t)
		if j["state"] == "failed" {
			if msg := j["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "no plots") {
				t.Errorf("failed with %q", msg)
			}
			if r := coop.do("GET", res.header.Get("Location")+"/file", ""); r.status != 409 {
				t.Errorf("the file of a failed export: %d", r.status)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("export of nothing still %v", j["state"])
		}
	}
}

// unzipAll returns every file of a zip, the statements' base64 geolocation decoded, one after
// the other.
func unzipAll(t *testing.T, z []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	for _, zf := range zr.File {
		rc, _ := zf.Open()
		var b bytes.Buffer
		_, _ = b.ReadFrom(rc)
		rc.Close()
		all.Write(b.Bytes())
		if strings.HasPrefix(zf.Name, "dds") {
			var st eudr.Statement
			if err := json.Unmarshal(b.Bytes(), &st); err != nil {
				t.Fatal(err)
			}
			for _, c := range st.Statement.Commodities {
				for _, p := range c.Producers {
					all.WriteString(p.Name)
					all.Write(p.GeometryGeojson.Bytes())
				}
			}
		}
	}
	return all.Bytes()
}

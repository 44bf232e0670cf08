package postgres_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/vungtrong/vungtrong/compliance/eudr"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/registry/postgres/pgtest"
)

// eudrFixture is a cooperative of Krông Pắc (66, 24490) with two member households, one
// household outside it, and their plots: a holed one, one of about 3 ha, one of about 5 ha.
type eudrFixture struct {
	db                        *postgres.DB
	coop, member1, member2    int64
	outsider                  int64
	holed, small, large, own  int64
	ctx                       context.Context
	memberName, outsiderName  string
	coopName                  string
	exporterEnterprise, other int64
}

func newEUDRFixture(t *testing.T) *eudrFixture {
	t.Helper()
	f := &eudrFixture{db: pgtest.New(t), ctx: registry.NewContextWithActor(context.Background(), registry.SystemActor("test")),
		memberName: "Nguyễn Văn Hội", outsiderName: "Trần Thị Ngoài", coopName: "HTX Thử EUDR"}
	q := func(sql string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := f.db.Pool.QueryRow(f.ctx, sql, args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return id
	}
	producer := `INSERT INTO producer (kind, name, cooperative_id, province_code, commune_code, created_by, updated_by)
		VALUES ($1, $2, $3, '66', '24490', 'test', 'test') RETURNING id`
	f.coop = q(producer, "cooperative", f.coopName, nil)
	f.member1 = q(producer, "household", f.memberName, f.coop)
	f.member2 = q(producer, "household", "Lê Thị Hai", f.coop)
	f.outsider = q(producer, "household", f.outsiderName, nil)
	f.exporterEnterprise = q(producer, "enterprise", "Công ty Xuất khẩu EUDR", nil)
	f.other = q(producer, "enterprise", "Công ty Khác", nil)
	plot := `INSERT INTO plot (producer_id, province_code, commune_code, crop, geom, created_by, updated_by)
		VALUES ($1, '66', '24490', $2, ST_Multi(ST_GeomFromText($3, 4326)), 'test', 'test') RETURNING id`
	// 4.7 ha with a pentagonal pond of about 0.3 ha; positions of six decimals, so that only the
	// cut's new positions are rounded.
	f.holed = q(plot, f.member1, "coffee", `POLYGON((108.200000 12.700000,108.202000 12.700000,108.202000 12.702000,108.200000 12.702000,108.200000 12.700000),
		(108.200700 12.700600,108.201300 12.700700,108.201400 12.701200,108.201000 12.701500,108.200600 12.701100,108.200700 12.700600))`)
	f.small = q(plot, f.member2, "coffee", `POLYGON((108.210000 12.700000,108.211600 12.700000,108.211600 12.701570,108.210000 12.701570,108.210000 12.700000))`)
	f.large = q(plot, f.outsider, "coffee", `POLYGON((108.220000 12.700000,108.222100 12.700000,108.222100 12.702100,108.220000 12.702100,108.220000 12.700000))`)
	f.own = q(plot, f.coop, "durian", `POLYGON((108.230000 12.700000,108.230500 12.700000,108.230500 12.700500,108.230000 12.700000))`)
	return f
}

// export runs an export as actor and returns the zip and its summary.
func (f *eudrFixture) export(t *testing.T, actor registry.Actor, req registry.EUDRExportRequest) ([]byte, *eudr.Summary) {
	t.Helper()
	var out bytes.Buffer
	sum, err := postgres.NewEUDRExporter(f.db).ExportEUDR(registry.NewContextWithActor(context.Background(), actor), req, &out, nil)
	if err != nil {
		t.Fatalf("export %+v as %s: %v", req, actor.Role, err)
	}
	return out.Bytes(), sum
}

// validate checks every rule on an export, with the package's validator and with PostGIS:
// each polygon valid, its rings without holes.
func validate(t *testing.T, db *postgres.DB, z []byte, maxBytes int64) (*eudr.Report, map[int64]exportedFeature) {
	t.Helper()
	rep, err := eudr.Validate(bytes.NewReader(z), int64(len(z)), eudr.ValidateOptions{MaxFileBytes: maxBytes})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	features := readFeatures(t, z)
	for id, f := range features {
		if f.Geometry.Type == "Point" {
			continue
		}
		var valid bool
		var holes int
		if err := db.Pool.QueryRow(context.Background(), `SELECT bool_and(ST_IsValid(d.geom)), max(ST_NumInteriorRings(d.geom))
			FROM ST_Dump(ST_GeomFromGeoJSON($1)) d`, string(f.RawGeometry)).Scan(&valid, &holes); err != nil {
			t.Fatal(err)
		}
		if !valid || holes != 0 {
			t.Errorf("plot %d: PostGIS finds its polygons valid=%v with %d holes", id, valid, holes)
		}
	}
	return rep, features
}

type exportedFeature struct {
	ID          int64                      `json:"id"`
	Properties  map[string]json.RawMessage `json:"properties"`
	RawGeometry json.RawMessage            `json:"geometry"`
	Geometry    struct {
		Type string `json:"type"`
	} `json:"-"`
	File string `json:"-"`
}

func readFeatures(t *testing.T, z []byte) map[int64]exportedFeature {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]exportedFeature{}
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".geojson") {
			continue
		}
		rc, _ := zf.Open()
		var fc struct {
			Features []exportedFeature `json:"features"`
		}
		err := json.NewDecoder(rc).Decode(&fc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fc.Features {
			_ = json.Unmarshal(f.RawGeometry, &f.Geometry)
			f.File = zf.Name
			out[f.ID] = f
		}
	}
	return out
}

func (f exportedFeature) prop(name string) string {
	var s string
	_ = json.Unmarshal(f.Properties[name], &s)
	return s
}

func TestEUDRExportCutsHolesAwayKeepingTheArea(t *testing.T) {
	f := newEUDRFixture(t)
	z, sum := f.export(t, registry.SystemActor("test"), registry.EUDRExportRequest{ProducerID: f.member1})
	_, features := validate(t, f.db, z, eudr.DefaultMaxFileBytes)
	holed, ok := features[f.holed]
	if !ok || len(features) != 1 {
		t.Fatalf("exported %d features, want the holed plot alone", len(features))
	}
	if holed.Geometry.Type != "MultiPolygon" || sum.Geometry.HolesRemoved != 1 {
		t.Errorf("holed plot written as %s (holes removed: %d), want a MultiPolygon of hole-free parts", holed.Geometry.Type, sum.Geometry.HolesRemoved)
	}
	var parts int
	var partsHa, plotHa, unionHa float64
	if err := f.db.Pool.QueryRow(context.Background(), `
		SELECT count(*), sum(ST_Area(d.geom::geography)) / 1e4,
		       (SELECT area_ha FROM plot WHERE id = $2), ST_Area(ST_Union(d.geom)::geography) / 1e4
		FROM ST_Dump(ST_GeomFromGeoJSON($1)) d`, string(holed.RawGeometry), f.holed).Scan(&parts, &partsHa, &plotHa, &unionHa); err != nil {
		t.Fatal(err)
	}
	if parts < 2 {
		t.Errorf("%d parts, want the plot cut in two or more", parts)
	}
	if d := math.Abs(partsHa-plotHa) / plotHa; d > 0.0001 {
		t.Errorf("the parts cover %.6f ha, the plot %.6f ha: %.4f%% apart, want at most 0.01%%", partsHa, plotHa, d*100)
	}
	if d := math.Abs(unionHa-partsHa) / partsHa; d > 1e-9 {
		t.Errorf("the parts overlap: %.6f ha together, %.6f ha apart", unionHa, partsHa)
	}
	t.Logf("holed plot of %.4f ha -> %d parts of %.4f ha", plotHa, parts, partsHa)
}

func TestEUDRExportWritesSmallPlotsAsPointsWhenAsked(t *testing.T) {
	f := newEUDRFixture(t)
	z, sum := f.export(t, registry.SystemActor("test"), registry.EUDRExportRequest{CommuneCode: "24490", Points: true})
	_, features := validate(t, f.db, z, eudr.DefaultMaxFileBytes)
	var smallHa float64
	if err := f.db.Pool.QueryRow(context.Background(), `SELECT area_ha FROM plot WHERE id = $1`, f.small).Scan(&smallHa); err != nil {
		t.Fatal(err)
	}
	if smallHa < 2.9 || smallHa > 3.1 {
		t.Fatalf("the small plot is %.3f ha, want about 3", smallHa)
	}
	small := features[f.small]
	var area float64
	_ = json.Unmarshal(small.Properties["Area"], &area)
	if small.Geometry.Type != "Point" || math.Abs(area-smallHa) > 0.0001 {
		t.Errorf("3 ha plot: %s with Area %v, want a Point with Area %.4f", small.Geometry.Type, area, smallHa)
	}
	// The point lies inside the plot.
	var inside bool
	if err := f.db.Pool.QueryRow(context.Background(), `SELECT ST_Intersects(ST_GeomFromGeoJSON($1), geom) FROM plot WHERE id = $2`,
		string(small.RawGeometry), f.small).Scan(&inside); err != nil || !inside {
		t.Errorf("the point is not on its plot (%v)", err)
	}
	if typ := features[f.large].Geometry.Type; typ != "Polygon" {
		t.Errorf("a plot over 4 ha written as %s, want Polygon", typ)
	}
	if typ := features[f.holed].Geometry.Type; typ != "MultiPolygon" {
		t.Errorf("the holed 4.7 ha plot written as %s, want its parts", typ)
	}
	if sum.Geometry.Points != 2 || sum.Geometry.Polygons != 2 {
		t.Errorf("summary counts %d points and %d polygons, want 2 and 2", sum.Geometry.Points, sum.Geometry.Polygons)
	}

	// Without points, every plot is polygons.
	z, sum = f.export(t, registry.SystemActor("test"), registry.EUDRExportRequest{CommuneCode: "24490"})
	validate(t, f.db, z, eudr.DefaultMaxFileBytes)
	if sum.Geometry.Points != 0 {
		t.Errorf("%d points written when none were asked for", sum.Geometry.Points)
	}
}

func TestEUDRExportShowsProducerNamesOnlyToWhoMaySeeThem(t *testing.T) {
	f := newEUDRFixture(t)
	coop := registry.Actor{Kind: "user", Name: "htx", Role: registry.RoleCooperative, UserID: 1, ProducerID: &f.coop}
	exporter := registry.Actor{Kind: "user", Name: "xk", Role: registry.RoleExporter, UserID: 2, ProducerID: &f.exporterEnterprise}
	officer := registry.Actor{Kind: "user", Name: "cb", Role: registry.RoleOfficer, UserID: 3, Jurisdictions: []registry.Jurisdiction{{ProvinceCode: "66"}}}
	tests := []struct {
		name     string
		actor    registry.Actor
		named    []int64 // plots whose producer's name is written
		withheld []int64
	}{
		{"cooperative: its members", coop, []int64{f.holed, f.small, f.own}, []int64{f.large}},
		{"exporter: no household", exporter, []int64{f.own}, []int64{f.holed, f.small, f.large}},
		{"officer of the province", officer, []int64{f.holed, f.small, f.large, f.own}, nil},
		{"the public", registry.Actor{}, []int64{f.own}, []int64{f.holed, f.small, f.large}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, sum := f.export(t, tt.actor, registry.EUDRExportRequest{CommuneCode: "24490"})
			_, features := validate(t, f.db, z, eudr.DefaultMaxFileBytes)
			for _, id := range tt.named {
				if ft := features[id]; ft.prop("ProducerName") == "" || ft.Properties["ProducerNameWithheld"] != nil {
					t.Errorf("plot %d: name %q withheld=%s, want the name", id, ft.prop("ProducerName"), ft.Properties["ProducerNameWithheld"])
				}
			}
			for _, id := range tt.withheld {
				if ft := features[id]; ft.prop("ProducerName") != "" || string(ft.Properties["ProducerNameWithheld"]) != "true" {
					t.Errorf("plot %d: name %q, want it withheld and said so", id, ft.prop("ProducerName"))
				}
			}
			if sum.WithheldPlots != len(tt.withheld) {
				t.Errorf("summary: %d plots withheld, want %d", sum.WithheldPlots, len(tt.withheld))
			}
			// No withheld name anywhere in the zip, the statements included.
			names := map[int64]string{f.holed: f.memberName, f.small: "Lê Thị Hai", f.large: f.outsiderName}
			for _, id := range tt.withheld {
				if zipContains(t, z, names[id]) {
					t.Errorf("the withheld name %q is in the export", names[id])
				}
			}
		})
	}
}

// zipContains reports whether any file of the zip holds s, its statements' base64 decoded.
func zipContains(t *testing.T, z []byte, s string) bool {
	t.Helper()
	zr, _ := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	for _, zf := range zr.File {
		rc, _ := zf.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, []byte(s)) {
			return true
		}
		if strings.HasPrefix(zf.Name, "dds") {
			var st eudr.Statement
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatal(err)
			}
			for _, c := range st.Statement.Commodities {
				for _, p := range c.Producers {
					if p.Name == s || bytes.Contains(p.GeometryGeojson.Bytes(), []byte(s)) {
						return true
					}
				}
			}
		}
	}
	return false
}

func TestEUDRExportSplitsFilesAtTheLimitWithEveryPlotOnce(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	// 4,000 round plots of about 0.3 ha, 21 positions each at full precision, of 1,000
	// households.
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO producer (kind, name, province_code, commune_code, created_by, updated_by)
		SELECT 'household', 'Nông hộ ' || i, '66', '24490', 'test', 'test' FROM generate_series(1, 1000) i;
		INSERT INTO plot (producer_id, province_code, commune_code, crop, geom, created_by, updated_by)
		SELECT (SELECT min(id) FROM producer) + i % 1000, '66', '24490', 'coffee',
		       ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(108.1 + (i % 80) * 0.001, 12.6 + (i / 80) * 0.001), 4326)::geography, 30, 'quad_segs=5')::geometry),
		       'test', 'test'
		FROM generate_series(0, 3999) i`); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var last registry.EUDRExportProgress
	calls := 0
	sum, err := postgres.NewEUDRExporter(db).ExportEUDR(registry.NewContextWithActor(ctx, registry.SystemActor("test")),
		registry.EUDRExportRequest{CommuneCode: "24490", MaxFileMB: 1}, &out, func(p registry.EUDRExportProgress) { last = p; calls++ })
	if err != nil {
		t.Fatal(err)
	}
	rep, features := validate(t, db, out.Bytes(), 1_000_000)
	if len(rep.Files) < 3 || len(sum.Files) != len(rep.Files) {
		t.Errorf("%d files (summary: %d), want several of at most 1 MB", len(rep.Files), len(sum.Files))
	}
	for _, f := range sum.Files {
		if f.Bytes > 1_000_000 {
			t.Errorf("%s: %d bytes", f.Name, f.Bytes)
		}
	}
	var want []int64
	rows, _ := db.Pool.Query(ctx, `SELECT id FROM plot`)
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		want = append(want, id)
	}
	rows.Close()
	if len(features) != len(want) || len(rep.Plots) != len(want) || rep.StatementPlots != len(want) || sum.Plots != len(want) {
		t.Errorf("%d plots in the files (%d in the statements, summary %d), want %d", len(features), rep.StatementPlots, sum.Plots, len(want))
	}
	for _, id := range want {
		if _, ok := rep.Plots[id]; !ok {
			t.Errorf("plot %d is missing", id)
		}
	}
	if last.Stage != "done" || last.Plots != len(want) || calls < 3 {
		t.Errorf("last progress %+v after %d calls", last, calls)
	}
	if sum.Producers != 1000 || sum.WithheldNames != 0 || len(sum.Statements) != len(sum.Files) {
		t.Errorf("summary: %d producers, %d withheld, %d statements", sum.Producers, sum.WithheldNames, len(sum.Statements))
	}
}

func TestEUDRExportMendsWhatRoundingBreaks(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	// A field with a slit 3 cm wide: valid as stored, but at six decimals both sides of the slit
	// fall on one line and the ring folds back on itself.
	var id int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO plot (province_code, commune_code, crop, geom, created_by, updated_by)
		VALUES ('66', '24490', 'coffee', ST_Multi(ST_GeomFromText('POLYGON((108.3000000 12.7000000,108.3010000 12.7000000,108.3010000 12.7010000,
			108.3005004 12.7010000,108.3005004 12.7002000,108.3005001 12.7002000,108.3005001 12.7010000,108.3000000 12.7010000,108.3000000 12.7000000))', 4326)),
		'test', 'test') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sum, err := postgres.NewEUDRExporter(db).ExportEUDR(registry.NewContextWithActor(ctx, registry.SystemActor("test")),
		registry.EUDRExportRequest{CommuneCode: "24490"}, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, db, out.Bytes(), eudr.DefaultMaxFileBytes)
	if sum.Geometry.Repaired != 1 || sum.Plots != 1 || len(sum.Problems) != 0 {
		t.Errorf("summary: %d repaired, %d plots, problems %v; want the plot mended and exported", sum.Geometry.Repaired, sum.Plots, sum.Problems)
	}
}

func TestEUDRExportRefusesWhatItCannotExport(t *testing.T) {
	f := newEUDRFixture(t)
	farmer := registry.Actor{Kind: "user", Name: "nh", Role: registry.RoleFarmer, UserID: 9, ProducerID: &f.member1}
	tests := []struct {
		name  string
		actor registry.Actor
		req   registry.EUDRExportRequest
		code  string
	}{
		{"two selections", registry.SystemActor("t"), registry.EUDRExportRequest{CommuneCode: "24490", ProducerID: f.member1}, registry.EINVALID},
		{"no selection", registry.SystemActor("t"), registry.EUDRExportRequest{}, registry.EINVALID},
		{"files over 25 MB", registry.SystemActor("t"), registry.EUDRExportRequest{CommuneCode: "24490", MaxFileMB: 30}, registry.EINVALID},
		{"unknown activity", registry.SystemActor("t"), registry.EUDRExportRequest{CommuneCode: "24490", Activity: "SELL"}, registry.EINVALID},
		{"no plots", registry.SystemActor("t"), registry.EUDRExportRequest{CommuneCode: "24280"}, registry.EINVALID},
		{"unknown crop", registry.SystemActor("t"), registry.EUDRExportRequest{CommuneCode: "24490", Crop: "cà chua"}, registry.EINVALID},
		{"no such cooperative", registry.SystemActor("t"), registry.EUDRExportRequest{CooperativeID: f.member1}, registry.ENOTFOUND},
		{"no such consignment", registry.SystemActor("t"), registry.EUDRExportRequest{Consignment: "C-00000000"}, registry.ENOTFOUND},
		{"a farmer, another's plots", farmer, registry.EUDRExportRequest{ProducerID: f.outsider}, registry.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := postgres.NewEUDRExporter(f.db).ExportEUDR(registry.NewContextWithActor(context.Background(), tt.actor), tt.req, &out, nil)
			if registry.ErrorCode(err) != tt.code {
				t.Errorf("err = %v, want %s", err, tt.code)
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written for a refused export", out.Len())
			}
		})
	}
	// A farmer's commune holds their own plot only.
	z, sum := f.export(t, farmer, registry.EUDRExportRequest{CommuneCode: "24490", Crop: "cà phê"})
	if _, features := validate(t, f.db, z, 0); len(features) != 1 || sum.Plots != 1 {
		t.Errorf("a farmer's export holds %d plots, want their own one", len(features))
	}
}

// consignment registers a harvest lot of plots and a consignment carrying it, for exporter.
func (f *eudrFixture) consignment(t *testing.T, exporter int64, plots ...int64) string {
	t.Helper()
	ctx := f.ctx
	var area, house, code, lot int64
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.db.Pool.QueryRow(ctx, `INSERT INTO growing_area (name, registrant_id, crops, province_code, commune_code, created_by, updated_by)
		VALUES ('Vùng cà phê EUDR', $1, '{coffee}', '66', '24490', 'test', 'test') RETURNING id`, f.coop).Scan(&area))
	must(f.db.Pool.QueryRow(ctx, `INSERT INTO market_code (code, growing_area_id, market, status, province_code, created_by, updated_by)
		VALUES ('VN-DLOR-0999', $1, 'EU', 'active', '66', 'test', 'test') RETURNING id`, area).Scan(&code))
	must(f.db.Pool.QueryRow(ctx, `INSERT INTO packing_house (name, province_code, location, created_by, updated_by)
		VALUES ('Kho EUDR', '66', ST_SetSRID(ST_MakePoint(108.2, 12.7), 4326), 'test', 'test') RETURNING id`).Scan(&house))
	must(f.db.Pool.QueryRow(ctx, `INSERT INTO harvest_lot (public_code, growing_area_id, market_code_id, market, crop, season, harvested_from, harvested_to,
		quantity_kg, registrant_id, province_code, created_by, updated_by)
		VALUES ('L-EUDR0001', $1, $2, 'EU', 'coffee', 2025, '2025-11-01', '2025-12-15', 9000, $3, '66', 'test', 'test') RETURNING id`, area, code, f.coop).Scan(&lot))
	for _, p := range plots {
		_, err := f.db.Pool.Exec(ctx, `INSERT INTO harvest_lot_plot (lot_id, plot_id, province_code) VALUES ($1, $2, '66')`, lot, p)
		must(err)
	}
	var cid int64
	must(f.db.Pool.QueryRow(ctx, `INSERT INTO consignment (public_code, exporter_id, market, packing_house_id, net_kg, destination, province_code, created_by, updated_by)
		VALUES ('C-EUDR0001', $1, 'EU', $2, 8500, 'DE', '66', 'test', 'test') RETURNING id`, exporter, house).Scan(&cid))
	_, err := f.db.Pool.Exec(ctx, `INSERT INTO consignment_lot (consignment_id, lot_id, quantity_kg, province_code) VALUES ($1, $2, 8500, '66')`, cid, lot)
	must(err)
	return "C-EUDR0001"
}

func TestEUDRExportOfAConsignment(t *testing.T) {
	f := newEUDRFixture(t)
	code := f.consignment(t, f.exporterEnterprise, f.holed, f.small)
	exporter := registry.Actor{Kind: "user", Name: "xk", Role: registry.RoleExporter, UserID: 2, ProducerID: &f.exporterEnterprise}
	z, sum := f.export(t, exporter, registry.EUDRExportRequest{Consignment: strings.ToLower(code)})
	rep, features := validate(t, f.db, z, 0)
	if len(features) != 2 || rep.Statements != 1 {
		t.Fatalf("%d plots, %d statements; want the lot's 2 plots in one statement", len(features), rep.Statements)
	}
	if sum.NetMassKg == nil || *sum.NetMassKg != 8500 || fmt.Sprint(sum.HSHeadings) != "[0901]" {
		t.Errorf("summary: net mass %v, HS %v; want 8500 kg of 0901", sum.NetMassKg, sum.HSHeadings)
	}
	if sum.Screening.Outcome != eudr.NotScreened || sum.WithheldNames != 2 {
		t.Errorf("summary: screening %q, %d names withheld; want not screened, the 2 households' withheld from an exporter", sum.Screening.Outcome, sum.WithheldNames)
	}
	zr, _ := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	for _, zf := range zr.File {
		if zf.Name != "dds.json" {
			continue
		}
		rc, _ := zf.Open()
		var st eudr.Statement
		if err := json.NewDecoder(rc).Decode(&st); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		d := st.Statement
		if d.ActivityType != "IMPORT" || d.InternalReferenceNumber != code || d.CountryOfActivity != "DE" || len(d.Commodities) != 1 ||
			d.Commodities[0].HSHeading != "0901" || d.Commodities[0].Descriptors.GoodsMeasure.NetWeight == nil ||
			*d.Commodities[0].Descriptors.GoodsMeasure.NetWeight != 8500 || len(d.Commodities[0].Producers) != 2 {
			t.Errorf("dds.json: %+v", d)
		}
	}
	// Another exporter does not see the consignment.
	other := registry.Actor{Kind: "user", Name: "xk2", Role: registry.RoleExporter, UserID: 3, ProducerID: &f.other}
	_, err := postgres.NewEUDRExporter(f.db).ExportEUDR(registry.NewContextWithActor(context.Background(), other), registry.EUDRExportRequest{Consignment: code}, io.Discard, nil)
	if registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Errorf("another exporter: %v, want ENOTFOUND", err)
	}
}

// screener is a screening hook that finds every plot low risk.
type screener struct{ got []int64 }

func (s *screener) ScreenEUDRPlots(ctx context.Context, ids []int64) (*eudr.Screening, error) {
	s.got = ids
	if len(ids) == 0 {
		return nil, errors.New("no plots")
	}
	return &eudr.Screening{Outcome: "low risk", Plots: map[string]int{"low risk": len(ids)}}, nil
}

func TestEUDRExportAsksTheScreeningHook(t *testing.T) {
	f := newEUDRFixture(t)
	x := postgres.NewEUDRExporter(f.db)
	s := &screener{}
	x.Screening = s
	var out bytes.Buffer
	sum, err := x.ExportEUDR(f.ctx, registry.EUDRExportRequest{CooperativeID: f.coop}, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Screening.Outcome != "low risk" || len(s.got) != 3 {
		t.Errorf("screening %+v over %d plots, want low risk over the cooperative's 3", sum.Screening, len(s.got))
	}
}

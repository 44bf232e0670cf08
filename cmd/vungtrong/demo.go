package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/spf13/cobra"
	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
)

func (c *cli) demoCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "demo", Short: "The demo dataset"}
	var dir string
	load := &cobra.Command{
		Use:   "load",
		Short: "Load the demo dataset (idempotent: loading twice changes nothing)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDB(cmd, true, func(db *postgres.DB) error {
				return loadDemo(cmd.Context(), db, c.cfg, dir, c.log)
			})
		},
	}
	load.Flags().StringVar(&dir, "dir", "data-samples/dak-lak", "folder of the demo dataset")
	cmd.AddCommand(load)
	return cmd
}

// loadDemo reads the demo dataset in dir and loads it in one transaction.
func loadDemo(ctx context.Context, db *postgres.DB, cfg Config, dir string, log *slog.Logger) error {
	start := time.Now()
	ds, err := readDataset(dir, cfg.Geometry)
	if err != nil {
		return err
	}
	plots := postgres.NewPlotService(db)
	plots.Limits = cfg.Geometry
	ctx = registry.NewContextWithActor(ctx, registry.SystemActor("demo"))
	stats, err := postgres.NewDatasetLoader(db, plots).LoadDataset(ctx, ds)
	if err != nil {
		return describeLoadError(err)
	}
	log.Info("demo dataset loaded", "dir", dir, "added", formatCounts(stats.Added), "already there", formatCounts(stats.Existing), "ms", time.Since(start).Milliseconds())
	return demoApplication(ctx, db, cfg)
}

// demoApplication puts an application in the demo officer's inbox, as the demo cooperative
// would have filed it: Krông Pắc 2 applies for Australia (once: a second load finds it).
func demoApplication(ctx context.Context, db *postgres.DB, cfg Config) error {
	var area int64
	err := db.Pool.QueryRow(ctx, `SELECT g.id FROM growing_area g WHERE g.name = 'Vùng trồng sầu riêng Krông Pắc 2' AND g.deleted_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM application a WHERE a.growing_area_id = g.id AND a.market = 'AU')`).Scan(&area)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	apps := postgres.NewApplicationService(db, cfg.Codes.ValidityMonths)
	str := func(v string) *string { return &v }
	num := func(v float64) *float64 { return &v }
	month := func(v int) *int { return &v }
	yes := true
	form := registry.ApplicationForm{Representative: str("Nguyễn Văn Hòa"), Phone: str("0262 3500 123"), Email: str("htx.krongpac@example.vn"),
		Address: str("Xã Krông Pắc, tỉnh Đắk Lắk"), Crop: str("durian"), Varieties: &[]string{"Ri6", "Dona"}, TreeAgeYears: num(7),
		ExpectedHarvestFrom: month(6), ExpectedHarvestTo: month(8), ExpectedOutputT: num(180), AvgYield3yTHa: num(14.5), HarvestsPerYear: month(1),
		Standards: &[]registry.Standard{{Name: "VietGAP", Certificate: "VietGAP-TT-12-34-0567", IssuedOn: "2025-03-01", ValidTo: "2028-02-28"}}, Commitment: &yes}
	id, err := apps.CreateApplication(ctx, registry.ApplicationRequest{GrowingAreaID: &area, Market: "AU", ApplicationForm: form})
	if err != nil {
		return fmt.Errorf("the demo application: %w", err)
	}
	if err := apps.MoveApplication(ctx, id, registry.AppMove{To: registry.AppSubmitted}); err != nil {
		return fmt.Errorf("submitting the demo application: %w", err)
	}
	return nil
}

// describeLoadError lists every problem of a refused dataset, one per line.
func describeLoadError(err error) error {
	details := registry.ErrorDetails(err)
	if len(details) == 0 {
		return err
	}
	var b strings.Builder
	b.WriteString(registry.ErrorMessage(err))
	for _, d := range details {
		fmt.Fprintf(&b, "\n  #%d %s: %s", d.Feature, d.Field, d.Message)
	}
	return errors.New(b.String())
}

func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

type demoFeature struct {
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

type demoCode struct {
	Code               string `json:"code"`
	Market             string `json:"market"`
	Status             string `json:"status"`
	StatusReason       string `json:"status_reason"`
	ValidFrom          string `json:"valid_from"`
	ValidTo            string `json:"valid_to"`
	ApprovingDocument  string `json:"approving_document"`
	ApprovingAuthority string `json:"approving_authority"`
}

// readDataset reads the demo files. Every problem of every file is reported at once, with the
// file and feature number.
func readDataset(dir string, lim geo.Limits) (*registry.Dataset, error) {
	if _, err := os.Stat(filepath.Join(dir, "plots.geojson")); err != nil {
		return nil, fmt.Errorf("demo dataset not found in %s (want plots.geojson there): run from the repository root, or pass --dir", dir)
	}
	ds := &registry.Dataset{Source: "demo:" + filepath.Base(filepath.Clean(dir))}
	var problems []string
	bad := func(file string, n int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s feature %d: %s", file, n, fmt.Sprintf(format, args...)))
	}
	features := func(name string) []demoFeature {
		var fc struct {
			Features []demoFeature `json:"features"`
		}
		if err := readJSON(filepath.Join(dir, name), &fc); err != nil {
			problems = append(problems, err.Error())
		}
		return fc.Features
	}
	point := func(file string, n int, raw json.RawMessage) orb.Point {
		var g struct {
			Type        string    `json:"type"`
			Coordinates []float64 `json:"coordinates"`
		}
		if err := json.Unmarshal(raw, &g); err != nil || g.Type != "Point" || len(g.Coordinates) != 2 || !geo.InVietnam(orb.Point{g.Coordinates[0], g.Coordinates[1]}) {
			bad(file, n, "geometry must be a Point [longitude, latitude] inside Vietnam")
			return orb.Point{}
		}
		return orb.Point{g.Coordinates[0], g.Coordinates[1]}
	}
	date := func(file, what, s string) *time.Time {
		if s == "" {
			return nil
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %s %q is not a date YYYY-MM-DD", file, what, s))
			return nil
		}
		return &t
	}
	codes := func(file string, in []demoCode) []registry.MarketCode {
		out := make([]registry.MarketCode, len(in))
		for i, c := range in {
			out[i] = registry.MarketCode{Code: c.Code, Market: c.Market, Status: c.Status, StatusReason: c.StatusReason,
				ValidFrom: date(file, c.Code+" valid_from", c.ValidFrom), ValidTo: date(file, c.Code+" valid_to", c.ValidTo),
				ApprovingDocument: c.ApprovingDocument, ApprovingAuthority: c.ApprovingAuthority}
		}
		return out
	}

	for i, f := range features("communes.geojson") {
		var props struct{ Code string }
		_ = json.Unmarshal(f.Properties, &props)
		mp, geomProblems := geo.ParsePolygonal(f.Geometry, geo.Limits{MaxVertices: 100000})
		for _, p := range geomProblems {
			bad("communes.geojson", i+1, "%s", p)
		}
		ds.Communes = append(ds.Communes, registry.CommuneBoundary{Code: props.Code, Boundary: mp})
	}

	var producers struct {
		Producers []struct {
			ExternalID  string `json:"external_id"`
			Kind        string `json:"kind"`
			Name        string `json:"name"`
			CitizenID   string `json:"citizen_id"`
			TaxCode     string `json:"tax_code"`
			Phone       string `json:"phone"`
			Address     string `json:"address"`
			CommuneCode string `json:"commune_code"`
			Cooperative string `json:"cooperative"`
		} `json:"producers"`
	}
	if err := readJSON(filepath.Join(dir, "producers.json"), &producers); err != nil {
		problems = append(problems, err.Error())
	}
	for _, p := range producers.Producers {
		ds.Producers = append(ds.Producers, registry.DatasetProducer{CooperativeRef: p.Cooperative, Producer: registry.Producer{
			ExternalID: p.ExternalID, Kind: p.Kind, Name: p.Name, CitizenID: p.CitizenID, TaxCode: p.TaxCode,
			Phone: p.Phone, Address: p.Address, CommuneCode: p.CommuneCode}})
	}

	for i, f := range features("plots.geojson") {
		var props struct {
			ExternalID      string `json:"external_id"`
			Producer        string `json:"producer"`
			Crop            string `json:"crop"`
			Variety         string `json:"variety"`
			PlantingYear    int    `json:"planting_year"`
			CommuneCode     string `json:"commune_code"`
			CadastralSheet  string `json:"cadastral_sheet"`
			CadastralParcel string `json:"cadastral_parcel"`
		}
		if err := json.Unmarshal(f.Properties, &props); err != nil {
			bad("plots.geojson", i+1, "properties: %v", err)
		}
		mp, geomProblems := geo.ParsePolygonal(f.Geometry, lim)
		for _, p := range geomProblems {
			bad("plots.geojson", i+1, "%s", p)
		}
		ds.Plots = append(ds.Plots, registry.DatasetPlot{ProducerRef: props.Producer, Plot: registry.Plot{
			ExternalID: props.ExternalID, Crop: props.Crop, Variety: props.Variety, PlantingYear: props.PlantingYear,
			CommuneCode: props.CommuneCode, CadastralSheet: props.CadastralSheet, CadastralParcel: props.CadastralParcel, Geometry: mp}})
	}

	var areas struct {
		GrowingAreas []struct {
			ExternalID  string     `json:"external_id"`
			Name        string     `json:"name"`
			Registrant  string     `json:"registrant"`
			Crops       []string   `json:"crops"`
			CommuneCode string     `json:"commune_code"`
			Plots       []string   `json:"plots"`
			Codes       []demoCode `json:"codes"`
		} `json:"growing_areas"`
	}
	if err := readJSON(filepath.Join(dir, "growing_areas.json"), &areas); err != nil {
		problems = append(problems, err.Error())
	}
	for _, a := range areas.GrowingAreas {
		ds.GrowingAreas = append(ds.GrowingAreas, registry.DatasetGrowingArea{RegistrantRef: a.Registrant, PlotRefs: a.Plots, Codes: codes("growing_areas.json", a.Codes),
			GrowingArea: registry.GrowingArea{ExternalID: a.ExternalID, Name: a.Name, Crops: a.Crops, CommuneCode: a.CommuneCode}})
	}

	for i, f := range features("packing_houses.geojson") {
		var props struct {
			ExternalID   string     `json:"external_id"`
			Name         string     `json:"name"`
			Operator     string     `json:"operator"`
			Address      string     `json:"address"`
			CommuneCode  string     `json:"commune_code"`
			CapacityTPD  float64    `json:"capacity_tpd"`
			GrowingAreas []string   `json:"growing_areas"`
			Codes        []demoCode `json:"codes"`
		}
		if err := json.Unmarshal(f.Properties, &props); err != nil {
			bad("packing_houses.geojson", i+1, "properties: %v", err)
		}
		ds.PackingHouses = append(ds.PackingHouses, registry.DatasetPackingHouse{OperatorRef: props.Operator, GrowingAreaRefs: props.GrowingAreas, Codes: codes("packing_houses.geojson", props.Codes),
			PackingHouse: registry.PackingHouse{ExternalID: props.ExternalID, Name: props.Name, Address: props.Address, CommuneCode: props.CommuneCode,
				CapacityTPD: props.CapacityTPD, Location: point("packing_houses.geojson", i+1, f.Geometry)}})
	}

	for i, f := range features("livestock_facilities.geojson") {
		var props struct {
			ExternalID   string         `json:"external_id"`
			FacilityCode string         `json:"facility_code"`
			Name         string         `json:"name"`
			Operator     string         `json:"operator"`
			CommuneCode  string         `json:"commune_code"`
			HeadCounts   map[string]int `json:"head_counts"`
			Biosecurity  string         `json:"biosecurity"`
		}
		if err := json.Unmarshal(f.Properties, &props); err != nil {
			bad("livestock_facilities.geojson", i+1, "properties: %v", err)
		}
		ds.Livestock = append(ds.Livestock, registry.DatasetLivestockFacility{OperatorRef: props.Operator, LivestockFacility: registry.LivestockFacility{
			ExternalID: props.ExternalID, FacilityCode: props.FacilityCode, Name: props.Name, CommuneCode: props.CommuneCode,
			HeadCounts: props.HeadCounts, Biosecurity: props.Biosecurity, Location: point("livestock_facilities.geojson", i+1, f.Geometry)}})
	}

	for i, f := range features("feed_mills.geojson") {
		var props struct {
			ExternalID          string   `json:"external_id"`
			Name                string   `json:"name"`
			Operator            string   `json:"operator"`
			Address             string   `json:"address"`
			CommuneCode         string   `json:"commune_code"`
			DesignCapacityTPY   float64  `json:"design_capacity_tpy"`
			Products            []string `json:"products"`
			CertificateNo       string   `json:"certificate_no"`
			CertificateIssuer   string   `json:"certificate_issuer"`
			CertificateIssuedOn string   `json:"certificate_issued_on"`
		}
		if err := json.Unmarshal(f.Properties, &props); err != nil {
			bad("feed_mills.geojson", i+1, "properties: %v", err)
		}
		ds.FeedMills = append(ds.FeedMills, registry.DatasetFeedFacility{OperatorRef: props.Operator, FeedFacility: registry.FeedFacility{
			ExternalID: props.ExternalID, Name: props.Name, Address: props.Address, CommuneCode: props.CommuneCode,
			DesignCapacityTPY: props.DesignCapacityTPY, Products: props.Products, CertificateNo: props.CertificateNo,
			CertificateIssuer: props.CertificateIssuer, CertificateIssuedOn: props.CertificateIssuedOn,
			Location: point("feed_mills.geojson", i+1, f.Geometry)}})
	}

	var users struct {
		Users []struct {
			Username      string                  `json:"username"`
			Phone         string                  `json:"phone"`
			DisplayName   string                  `json:"display_name"`
			Role          string                  `json:"role"`
			Password      string                  `json:"password"`
			Producer      string                  `json:"producer"`
			Jurisdictions []registry.Jurisdiction `json:"jurisdictions"`
		} `json:"users"`
	}
	if _, err := os.Stat(filepath.Join(dir, "users.json")); err == nil {
		if err := readJSON(filepath.Join(dir, "users.json"), &users); err != nil {
			problems = append(problems, err.Error())
		}
	}
	for _, u := range users.Users {
		ds.Users = append(ds.Users, registry.DatasetUser{Password: u.Password, ProducerRef: u.Producer, User: registry.User{
			Username: u.Username, Phone: u.Phone, DisplayName: u.DisplayName, Role: u.Role, Jurisdictions: u.Jurisdictions}})
	}

	if len(problems) > 0 {
		return nil, fmt.Errorf("demo dataset in %s has %d problems, nothing was loaded:\n  %s", dir, len(problems), strings.Join(problems, "\n  "))
	}
	return ds, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

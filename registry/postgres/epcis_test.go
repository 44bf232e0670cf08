package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/compliance/epcis"
	"github.com/vungtrong/vungtrong/compliance/epcis/epcistest"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/registry/postgres/pgtest"
)

// storyDataset is a small Krông Pắc: a cooperative and its member household, whose three
// durian plots make a growing area with a code for China; an enterprise operates a packing house
// with its own code for China, linked to the area.
func storyDataset(date time.Time) *registry.Dataset {
	const commune = "24490"
	square := func(x, y, d float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}}}
	}
	valid := date.AddDate(-2, 0, 0)
	ds := &registry.Dataset{
		Source:   "test:epcis",
		Communes: []registry.CommuneBoundary{{Code: commune, Boundary: square(108.3, 12.6, 0.1)}},
		Producers: []registry.DatasetProducer{
			{Producer: registry.Producer{Kind: "cooperative", Name: "HTX Sầu riêng Thử", TaxCode: "6001234585", CommuneCode: commune, ExternalID: "coop"}},
			{Producer: registry.Producer{Kind: "household", Name: "Phạm Thị Riêng", CitizenID: "066190012345", Phone: "+84905111222", CommuneCode: commune, ExternalID: "hh"}, CooperativeRef: "coop"},
			{Producer: registry.Producer{Kind: "enterprise", Name: "Công ty Xuất khẩu Sầu riêng Thử", TaxCode: "6009876543", CommuneCode: commune, ExternalID: "ent"}},
		},
		GrowingAreas: []registry.DatasetGrowingArea{{
			GrowingArea:   registry.GrowingArea{Name: "Vùng trồng sầu riêng Thử 1", Crops: []string{"durian"}, CommuneCode: commune, ExternalID: "ga"},
			RegistrantRef: "coop", PlotRefs: []string{"p1", "p2", "p3"},
			Codes: []registry.MarketCode{{Code: "VN-DLOR-0321", Market: "CN", Status: registry.CodeActive, ValidFrom: &valid}},
		}},
		PackingHouses: []registry.DatasetPackingHouse{{
			PackingHouse: registry.PackingHouse{Name: "Cơ sở đóng gói Thử", CommuneCode: commune, Location: orb.Point{108.35, 12.65}, ExternalID: "ph"},
			OperatorRef:  "ent", GrowingAreaRefs: []string{"ga"},
			Codes: []registry.MarketCode{{Code: "VN-DLPH-0012", Market: "CN", Status: registry.CodeActive, ValidFrom: &valid}},
		}},
	}
	for i := range 3 {
		ds.Plots = append(ds.Plots, registry.DatasetPlot{ProducerRef: "hh", Plot: registry.Plot{Crop: "durian", CommuneCode: commune,
			ExternalID: fmt.Sprintf("p%d", i+1), LandCertNo: "CS 0123456" + fmt.Sprint(i), Geometry: square(108.31+0.01*float64(i), 12.61, 0.005)}})
	}
	return ds
}

// A consignment recorded through the registry (a lot of a coded area, received by a linked,
// coded packing house, shipped to China) reads back as a story whose EPCIS export GS1's schema
// accepts, which names no person, and which only its exporter, the officers of its province and
// administrators may read.
func TestConsignmentStoryExport(t *testing.T) {
	db := pgtest.New(t)
	admin := registry.NewContextWithActor(context.Background(), registry.SystemActor("test"))
	harvest := time.Date(time.Now().Year()-1, 6, 10, 0, 0, 0, 0, time.UTC)
	if _, err := postgres.NewDatasetLoader(db, postgres.NewPlotService(db)).LoadDataset(admin, storyDataset(harvest)); err != nil {
		t.Fatal(err)
	}
	id := func(sql string) int64 {
		t.Helper()
		var id int64
		if err := db.Pool.QueryRow(admin, sql).Scan(&id); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return id
	}
	area, house, enterprise := id(`SELECT id FROM growing_area WHERE external_id = 'ga'`), id(`SELECT id FROM packing_house WHERE external_id = 'ph'`),
		id(`SELECT id FROM producer WHERE external_id = 'ent'`)
	var plots []int64
	for _, p := range []string{"p1", "p2", "p3"} {
		plots = append(plots, id(`SELECT id FROM plot WHERE external_id = '`+p+`'`))
	}

	trace := postgres.NewTraceService(db)
	lot := &registry.HarvestLot{GrowingAreaID: area, Code: "VN-DLOR-0321", Crop: "sầu riêng", HarvestedFrom: harvest, HarvestedTo: harvest.AddDate(0, 0, 2),
		QuantityKg: 1500, PlotIDs: plots}
	if err := trace.RecordLot(admin, lot); err != nil {
		t.Fatal(err)
	}
	if _, err := trace.ReceiveLot(admin, lot.ID, house, 1480); err != nil {
		t.Fatal(err)
	}
	shipped := harvest.AddDate(0, 0, 5)
	c := &registry.Consignment{ExporterID: &enterprise, Market: "CN", PackingHouseID: house, NetKg: 1450, ContainerNo: "TGHU 123456-7",
		DeclarationNo: "305123456789", Destination: "Cửa khẩu Hữu Nghị", ShippedOn: &shipped,
		Lots: []registry.ConsignmentLot{{PublicCode: lot.PublicCode, QuantityKg: 1480}}}
	if err := trace.RecordConsignment(admin, c); err != nil {
		t.Fatal(err)
	}

	stories := postgres.NewEPCISService(db)
	st, err := stories.ConsignmentStory(admin, c.PublicCode)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Lots) != 1 {
		t.Fatalf("%d lots, want 1", len(st.Lots))
	}
	l := st.Lots[0]
	if l.PublicCode != lot.PublicCode || l.Code != "VN-DLOR-0321" || l.Market != "CN" || l.Crop != "durian" || l.HSHeading != "0810" || l.Plots != 3 ||
		l.QuantityKg != 1500 || l.ShippedKg != 1480 || l.GrowingAreaName != "Vùng trồng sầu riêng Thử 1" || l.ProvinceCode != "66" ||
		l.Received == nil || l.Received.Kg != 1480 || l.Received.House.Code != "VN-DLPH-0012" || l.HarvestedTo.Format(time.DateOnly) != harvest.AddDate(0, 0, 2).Format(time.DateOnly) {
		t.Errorf("lot: %+v (received %+v)", l, l.Received)
	}
	sc := st.Consignment
	if sc.PublicCode != c.PublicCode || sc.PackingHouse.Code != "VN-DLPH-0012" || sc.PackingHouse.Name != "Cơ sở đóng gói Thử" || sc.Exporter == nil ||
		sc.Exporter.Name != "Công ty Xuất khẩu Sầu riêng Thử" || sc.ShippedOn == nil || sc.NetKg != 1450 || sc.ContainerNo != "TGHU 123456-7" {
		t.Errorf("consignment: %+v", sc)
	}
	// The same story by id.
	if byID, err := stories.ConsignmentStory(admin, fmt.Sprint(c.ID)); err != nil || byID.Consignment.PublicCode != c.PublicCode {
		t.Errorf("by id: %v %v", byID, err)
	}

	doc, err := epcis.Build(st, epcis.Options{Base: "https://vungtrong.example.vn"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	epcistest.Check(t, b)
	var steps []string
	for _, e := range doc.Body.EventList {
		steps = append(steps, e.BizStep)
	}
	if got := strings.Join(steps, ","); got != "commissioning,receiving,packing,shipping" {
		t.Errorf("steps: %s", got)
	}
	for _, personal := range []string{"Phạm Thị Riêng", "066190012345", "905111222", "CS 0123456"} {
		if strings.Contains(string(b), personal) {
			t.Errorf("the EPCIS document holds %q", personal)
		}
	}

	// Who may read it.
	other := enterprise + 1000
	for _, tc := range []struct {
		name  string
		actor registry.Actor
		want  string
	}{
		{"its exporter", registry.Actor{Kind: "user", Name: "x", Role: registry.RoleExporter, ProducerID: &enterprise}, ""},
		{"another exporter", registry.Actor{Kind: "user", Name: "y", Role: registry.RoleExporter, ProducerID: &other}, registry.EFORBIDDEN},
		{"an exporter for nobody", registry.Actor{Kind: "user", Name: "z", Role: registry.RoleExporter}, registry.EFORBIDDEN},
		{"an officer of Đắk Lắk", registry.Actor{Kind: "user", Name: "o", Role: registry.RoleOfficer, Jurisdictions: []registry.Jurisdiction{{ProvinceCode: "66"}}}, ""},
		{"an officer of Lâm Đồng", registry.Actor{Kind: "user", Name: "p", Role: registry.RoleOfficer, Jurisdictions: []registry.Jurisdiction{{ProvinceCode: "68"}}}, registry.EFORBIDDEN},
		{"the cooperative", registry.Actor{Kind: "user", Name: "c", Role: registry.RoleCooperative}, registry.EFORBIDDEN},
		{"the public", registry.Actor{}, registry.EFORBIDDEN},
	} {
		_, err := stories.ConsignmentStory(registry.NewContextWithActor(context.Background(), tc.actor), c.PublicCode)
		if registry.ErrorCode(err) != tc.want && !(tc.want == "" && err == nil) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := stories.ConsignmentStory(admin, "C-XXXXXXXX"); registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Errorf("an unknown consignment: %v", err)
	}
}

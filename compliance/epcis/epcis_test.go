package epcis_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vungtrong/vungtrong/compliance/epcis"
	"github.com/vungtrong/vungtrong/compliance/epcis/epcistest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var ict = time.FixedZone("ICT", 7*3600)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// knownStory is a durian consignment to China: two lots of Krông Pắc 1 (code VN-DLOR-0321),
// one received at Phước An (VN-DLPH-0012) and one not, packed and shipped there by an
// enterprise, in a container with a customs declaration.
func knownStory() *epcis.Story {
	shipped := day("2026-06-20")
	phuocAn := epcis.House{ID: 1, Name: "Cơ sở đóng gói sầu riêng Phước An (mẫu)", Code: "VN-DLPH-0012"}
	return &epcis.Story{
		Consignment: epcis.Consignment{
			PublicCode: "C-4HX8W2QP", Market: "CN", NetKg: 2350, ContainerNo: "TGHU 123456-7", DeclarationNo: "305123456789/B11",
			Destination: "Cửa khẩu Hữu Nghị, Lạng Sơn", ShippedOn: &shipped, CreatedAt: time.Date(2026, 6, 19, 8, 30, 0, 0, time.UTC),
			PackingHouse: phuocAn,
			Exporter:     &epcis.Party{ID: 4, Name: "Công ty TNHH Nông sản Xuất khẩu Tây Nguyên (mẫu)"},
		},
		Lots: []epcis.Lot{
			{
				PublicCode: "L-7KQ2M9XA", Crop: "durian", HSHeading: "0810", Season: 2026, HarvestedFrom: day("2026-06-10"), HarvestedTo: day("2026-06-12"),
				QuantityKg: 1500, ShippedKg: 1480, Code: "VN-DLOR-0321", Market: "CN", GrowingAreaID: 1, GrowingAreaName: "Vùng trồng sầu riêng Krông Pắc 1",
				ProvinceCode: "66", Plots: 3, CreatedAt: time.Date(2026, 6, 12, 10, 0, 0, 0, time.UTC),
				Received: &epcis.Receipt{At: time.Date(2026, 6, 13, 1, 15, 0, 0, time.UTC), Kg: 1480, House: phuocAn},
			},
			{
				PublicCode: "L-PQ3R4S5T", Crop: "durian", HSHeading: "0810", Season: 2026, HarvestedFrom: day("2026-06-15"), HarvestedTo: day("2026-06-15"),
				QuantityKg: 900, ShippedKg: 870.5, Code: "VN-DLOR-0321", Market: "CN", GrowingAreaID: 1, GrowingAreaName: "Vùng trồng sầu riêng Krông Pắc 1",
				ProvinceCode: "66", Plots: 2, CreatedAt: time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC),
			},
		},
	}
}

var knownOptions = epcis.Options{Base: "https://vungtrong.example.vn/", Created: time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC)}

func build(t *testing.T, s *epcis.Story) []byte {
	t.Helper()
	doc, err := epcis.Build(s, knownOptions)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The known story becomes the golden document, which GS1's schema accepts.
func TestBuildGolden(t *testing.T) {
	got := build(t, knownStory())
	epcistest.Check(t, got)
	golden := filepath.Join("testdata", "consignment.golden.jsonld")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if diff := cmp.Diff(string(bytes.TrimSpace(want)), string(got)); diff != "" {
		t.Errorf("document mismatch (-want +got):\n%s", diff)
	}
}

// The events tell the story in order, each with what an importer checks.
func TestBuildEvents(t *testing.T) {
	doc, err := epcis.Build(knownStory(), knownOptions)
	if err != nil {
		t.Fatal(err)
	}
	type step struct{ Type, BizStep, At, Where string }
	var got []step
	for _, e := range doc.Body.EventList {
		where := ""
		if e.ReadPoint != nil {
			where = e.ReadPoint.ID
		}
		got = append(got, step{e.Type, e.BizStep, e.EventTime.Format(time.RFC3339), where})
	}
	base := "https://vungtrong.example.vn"
	want := []step{
		{"ObjectEvent", "commissioning", "2026-06-12T00:00:00+07:00", base + "/v/VN-DLOR-0321"},
		{"ObjectEvent", "receiving", "2026-06-13T08:15:00+07:00", base + "/v/VN-DLPH-0012"},
		{"ObjectEvent", "commissioning", "2026-06-15T00:00:00+07:00", base + "/v/VN-DLOR-0321"},
		{"AggregationEvent", "packing", "2026-06-19T15:30:00+07:00", base + "/v/VN-DLPH-0012"},
		{"ObjectEvent", "shipping", "2026-06-20T00:00:00+07:00", base + "/v/VN-DLPH-0012"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("events mismatch (-want +got):\n%s", diff)
	}
	commissioning, packing, shipping := doc.Body.EventList[0], doc.Body.EventList[3], doc.Body.EventList[4]
	if commissioning.Action != "ADD" || commissioning.Disposition != "active" || commissioning.ILMD["vt:growingAreaCode"] != "VN-DLOR-0321" ||
		commissioning.ILMD["cbvmda:lotNumber"] != "L-7KQ2M9XA" || commissioning.ILMD["vt:plotCount"] != 3 ||
		commissioning.QuantityList[0] != (epcis.Quantity{EPCClass: base + "/t/L-7KQ2M9XA", Quantity: 1500, UOM: "KGM"}) {
		t.Errorf("commissioning: %+v", commissioning)
	}
	if packing.ParentID != base+"/t/C-4HX8W2QP" || len(packing.ChildQuantityList) != 2 || packing.ChildQuantityList[1].Quantity != 870.5 {
		t.Errorf("packing: %+v", packing)
	}
	wantPapers := []epcis.BizTransaction{
		{Type: "vt:container", BizTransaction: base + "/bt/container/TGHU1234567"},
		{Type: "vt:customsDeclaration", BizTransaction: base + "/bt/declaration/305123456789%2FB11"},
	}
	if diff := cmp.Diff(wantPapers, shipping.BizTransactionList); diff != "" {
		t.Errorf("shipping papers (-want +got):\n%s", diff)
	}
	if shipping.SourceList[0] != (epcis.Source{Type: "owning_party", Source: base + "/org/4"}) ||
		shipping.DestinationList[0] != (epcis.Destination{Type: "location", Destination: base + "/m/CN"}) {
		t.Errorf("shipping parties: %+v %+v", shipping.SourceList, shipping.DestinationList)
	}
	// Event ids are the same in every export: a lot's commissioning is one event.
	again, _ := epcis.Build(knownStory(), epcis.Options{Base: knownOptions.Base})
	if again.Body.EventList[0].EventID != commissioning.EventID || !strings.HasPrefix(commissioning.EventID, "urn:uuid:") {
		t.Errorf("event ids: %s, then %s", commissioning.EventID, again.Body.EventList[0].EventID)
	}
}

// Shipped on the day the last lot was received: shipping comes after that receipt, not at
// the start of the day; a consignment recorded without a shipping day ships when recorded;
// a packing house without a code for the market is named by its id.
func TestBuildTimesAndFallbacks(t *testing.T) {
	s := knownStory()
	received := time.Date(2026, 6, 20, 2, 0, 0, 0, time.UTC) // 09:00 in Vietnam, the shipping day
	s.Lots[1].Received = &epcis.Receipt{At: received, Kg: 870.5, House: epcis.House{ID: 7, Name: "Ea Kly"}}
	s.Consignment.CreatedAt = time.Date(2026, 6, 21, 1, 0, 0, 0, time.UTC)
	doc, err := epcis.Build(s, knownOptions)
	if err != nil {
		t.Fatal(err)
	}
	last := doc.Body.EventList[len(doc.Body.EventList)-1]
	packing := doc.Body.EventList[len(doc.Body.EventList)-2]
	if last.BizStep != "shipping" || !last.EventTime.Equal(received) || packing.BizStep != "packing" || !packing.EventTime.Equal(received) {
		t.Errorf("packing at %v, shipping at %v: want both at the last receipt %v", packing.EventTime, last.EventTime, received)
	}
	for _, e := range doc.Body.EventList {
		if e.BizStep == "receiving" && e.ReadPoint.ID == "https://vungtrong.example.vn/ph/7" {
			break
		} else if e.BizStep == "shipping" {
			t.Error("the receipt at a packing house without a code is not named by the house's id")
		}
	}
	// A receipt reported after the consignment was packed happened before: at the packing, at
	// the latest, and recorded when it was reported.
	late := s.Consignment.CreatedAt.AddDate(0, 0, 3)
	s.Lots[0].Received.At = late
	doc, err = epcis.Build(s, knownOptions)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range doc.Body.EventList {
		steps = append(steps, e.BizStep)
		if e.BizStep == "receiving" && e.QuantityList[0].EPCClass == "https://vungtrong.example.vn/t/L-7KQ2M9XA" &&
			(e.EventTime.After(packing.EventTime) || !e.RecordTime.Equal(late)) {
			t.Errorf("a late receipt at %v recorded %v, packing at %v", e.EventTime, e.RecordTime, packing.EventTime)
		}
	}
	if got := strings.Join(steps, ","); got != "commissioning,commissioning,receiving,receiving,packing,shipping" {
		t.Errorf("steps with a late receipt: %s", got)
	}
	if shipping := doc.Body.EventList[len(doc.Body.EventList)-1]; !shipping.EventTime.Equal(received) {
		t.Errorf("with a late receipt, shipping at %v, want after the receipt of the shipping day %v", shipping.EventTime, received)
	}

	s.Consignment.ShippedOn, s.Consignment.Exporter, s.Consignment.ContainerNo, s.Consignment.DeclarationNo = nil, nil, "", ""
	doc, err = epcis.Build(s, knownOptions)
	if err != nil {
		t.Fatal(err)
	}
	last = doc.Body.EventList[len(doc.Body.EventList)-1]
	if !last.EventTime.Equal(s.Consignment.CreatedAt) || len(last.BizTransactionList) != 0 || len(last.SourceList) != 1 {
		t.Errorf("a consignment without shipping day, exporter or papers: %+v", last)
	}
	b, _ := json.Marshal(doc)
	epcistest.Check(t, b)
}

// Build refuses what it cannot write.
func TestBuildRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*epcis.Story, *epcis.Options)
		want error
	}{
		{"relative base", func(_ *epcis.Story, o *epcis.Options) { o.Base = "vungtrong.example.vn" }, epcis.ErrBase},
		{"base with a query", func(_ *epcis.Story, o *epcis.Options) { o.Base = "https://x.vn/?a=1" }, epcis.ErrBase},
		{"no lots", func(s *epcis.Story, _ *epcis.Options) { s.Lots = nil }, epcis.ErrNoLots},
		{"lot without code", func(s *epcis.Story, _ *epcis.Options) { s.Lots[0].Code = "" }, epcis.ErrStory},
		{"consignment without market", func(s *epcis.Story, _ *epcis.Options) { s.Consignment.Market = "" }, epcis.ErrStory},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, o := knownStory(), knownOptions
			tc.edit(s, &o)
			if _, err := epcis.Build(s, o); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// The schema check can fail: documents GS1's schema refuses are refused, and so are names the
// JSON-LD context does not define.
func TestValidationRejects(t *testing.T) {
	good := build(t, knownStory())
	for _, tc := range []struct {
		name  string
		edit  func(doc map[string]any, events []any)
		terms bool // the context check refuses it, not the schema
	}{
		{"event without eventTime", func(_ map[string]any, ev []any) { delete(ev[0].(map[string]any), "eventTime") }, false},
		{"event without eventTimeZoneOffset", func(_ map[string]any, ev []any) { delete(ev[1].(map[string]any), "eventTimeZoneOffset") }, false},
		{"time zone offset in hours", func(_ map[string]any, ev []any) { ev[0].(map[string]any)["eventTimeZoneOffset"] = "+7" }, false},
		{"unknown action", func(_ map[string]any, ev []any) { ev[0].(map[string]any)["action"] = "HARVEST" }, false},
		{"ilmd on an observation", func(_ map[string]any, ev []any) { ev[0].(map[string]any)["action"] = "OBSERVE" }, false},
		{"epcClass that is not a URI", func(_ map[string]any, ev []any) {
			ev[0].(map[string]any)["quantityList"].([]any)[0].(map[string]any)["epcClass"] = "L-7KQ2M9XA"
		}, false},
		{"unit in words", func(_ map[string]any, ev []any) {
			ev[0].(map[string]any)["quantityList"].([]any)[0].(map[string]any)["uom"] = "kilogram"
		}, false},
		{"ilmd key that is not an IRI", func(_ map[string]any, ev []any) { ev[0].(map[string]any)["ilmd"].(map[string]any)["crop"] = "durian" }, false},
		{"extension that is not an IRI", func(_ map[string]any, ev []any) { ev[4].(map[string]any)["market"] = "CN" }, false},
		{"CBV bizStep written as a URI", func(_ map[string]any, ev []any) {
			ev[4].(map[string]any)["bizStep"] = "urn:epcglobal:cbv:bizstep:shipping"
		}, false},
		{"no creationDate", func(doc map[string]any, _ []any) { delete(doc, "creationDate") }, false},
		{"no @context", func(doc map[string]any, _ []any) { delete(doc, "@context") }, false},
		{"prefix nobody defines", func(_ map[string]any, ev []any) { ev[4].(map[string]any)["vtx:market"] = "CN" }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(good, &doc); err != nil {
				t.Fatal(err)
			}
			tc.edit(doc, doc["epcisBody"].(map[string]any)["eventList"].([]any))
			b, _ := json.Marshal(doc)
			schemaErr, termsErr := epcistest.Validate(b), epcistest.CheckTerms(b)
			switch {
			case tc.terms && (schemaErr != nil || termsErr == nil):
				t.Errorf("schema: %v; context: %v; want only the context check to refuse it", schemaErr, termsErr)
			case !tc.terms && schemaErr == nil:
				t.Error("GS1's schema accepts it")
			default:
				t.Logf("refused: %v", cmpOrErr(schemaErr, termsErr))
			}
		})
	}
	if err := epcistest.Validate(good); err != nil {
		t.Fatalf("the unedited document: %v", err)
	}
}

// cmpOrErr is the first of its errors that is not nil.
func cmpOrErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

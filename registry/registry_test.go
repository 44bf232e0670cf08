package registry

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizePhone(t *testing.T) {
	tests := map[string]string{
		"0912 345 678":    "+84912345678",
		"+84 912-345-678": "+84912345678",
		"84912345678":     "+84912345678",
		"(0262) 3812.345": "+842623812345",
		"call me":         "call me",
		"":                "",
	}
	for in, want := range tests {
		if got := NormalizePhone(in); got != want {
			t.Errorf("NormalizePhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProducerValidateReportsEveryProblem(t *testing.T) {
	p := &Producer{Kind: "farmer", CitizenID: "123", Phone: "abc", TaxCode: "12", ProvinceCode: "Đắk Lắk"}
	p.Normalize()
	err := p.Validate()
	if ErrorCode(err) != EINVALID {
		t.Fatalf("got %v", err)
	}
	var fields []string
	for _, d := range ErrorDetails(err) {
		fields = append(fields, d.Field)
	}
	want := []string{"kind", "name", "citizen_id", "tax_code", "phone", "citizen_id", "province_code"}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("fields mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(ErrorMessage(err), "and 6 more problems") {
		t.Errorf("message %q does not count the other problems", ErrorMessage(err))
	}
}

func TestProducerPublicDropsPersonalData(t *testing.T) {
	hh := &Producer{ID: 1, Kind: ProducerHousehold, Name: "Nguyễn Văn A", CitizenID: "066190012345", Phone: "+84912345678", Address: "Thôn 3", TaxCode: "1234567890", CommuneCode: "24280"}
	got := hh.Public()
	want := &Producer{ID: 1, Kind: ProducerHousehold, CommuneCode: "24280"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("household public view (-want +got):\n%s", diff)
	}
	coop := &Producer{ID: 2, Kind: ProducerCooperative, Name: "HTX Ea Tu", Phone: "+84262381234", Address: "Thôn 1", TaxCode: "6001234561"}
	got = coop.Public()
	want = &Producer{ID: 2, Kind: ProducerCooperative, Name: "HTX Ea Tu", Address: "Thôn 1", TaxCode: "6001234561"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cooperative public view (-want +got):\n%s", diff)
	}
	if hh.CitizenID == "" {
		t.Error("Public changed the original")
	}
	// Every field tagged personal must be one Public knows how to clear.
	typ := reflect.TypeFor[Producer]()
	for i := range typ.NumField() {
		if tag := typ.Field(i).Tag.Get("personal"); tag != "" && tag != "true" && tag != "household" {
			t.Errorf("field %s has unknown personal tag %q", typ.Field(i).Name, tag)
		}
	}
}

func TestPlotValidate(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		p     Plot
		field string
	}{
		{"no crop", Plot{}, "properties.crop"},
		{"future planting", Plot{Crop: "coffee", PlantingYear: 2031}, "properties.planting_year"},
		{"bad commune", Plot{Crop: "coffee", CommuneCode: "2428"}, "properties.commune_code"},
		{"bad province", Plot{Crop: "coffee", ProvinceCode: "DL"}, "properties.province_code"},
		{"long variety", Plot{Crop: "coffee", Variety: strings.Repeat("x", 101)}, "properties.variety"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate(now)
			d := ErrorDetails(err)
			if ErrorCode(err) != EINVALID || len(d) == 0 || d[0].Field != tt.field {
				t.Errorf("got %v %+v, want EINVALID on %s", err, d, tt.field)
			}
		})
	}
	if err := (&Plot{Crop: "coffee", PlantingYear: 2027}).Validate(now); err != nil {
		t.Errorf("next year's planting refused: %v", err)
	}
}

func TestParseExportCode(t *testing.T) {
	tests := []struct {
		in                  string
		country, prov, kind string
		seq                 int
		ok                  bool
	}{
		{"VN-DLOR-0017", "VN", "DL", "OR", 17, true},
		{"VNDTPH-0001", "VN", "DT", "PH", 1, true},
		{"vn-dlor-0321", "VN", "DL", "OR", 321, true},
		{"66-24280-CP-001", "", "", "", 0, false},
		{"VN-DLXX-0001", "", "", "", 0, false},
	}
	for _, tt := range tests {
		c, p, k, s, ok := ParseExportCode(tt.in)
		if c != tt.country || p != tt.prov || k != tt.kind || s != tt.seq || ok != tt.ok {
			t.Errorf("ParseExportCode(%q) = %q %q %q %d %v", tt.in, c, p, k, s, ok)
		}
	}
}

func TestCodeStatusMachine(t *testing.T) {
	allowed := [][2]string{{"draft", "submitted"}, {"submitted", "inspected"}, {"inspected", "active"}, {"active", "suspended"}, {"suspended", "active"}, {"active", "revoked"}}
	for _, tr := range allowed {
		if !CanTransition(tr[0], tr[1]) {
			t.Errorf("%s -> %s refused", tr[0], tr[1])
		}
	}
	refused := [][2]string{{"draft", "active"}, {"revoked", "active"}, {"suspended", "inspected"}, {"active", "draft"}}
	for _, tr := range refused {
		if CanTransition(tr[0], tr[1]) {
			t.Errorf("%s -> %s allowed", tr[0], tr[1])
		}
	}
}

func TestScaleClass(t *testing.T) {
	tests := map[float64]string{0: ScaleHousehold, 9.99: ScaleHousehold, 10: ScaleSmall, 29.9: ScaleSmall, 30: ScaleMedium, 299.99: ScaleMedium, 300: ScaleLarge}
	for au, want := range tests {
		if got := ScaleClass(au); got != want {
			t.Errorf("ScaleClass(%v) = %s, want %s", au, got, want)
		}
	}
}

func TestTokenSecretsAreRandomAndHashed(t *testing.T) {
	a, b := NewTokenSecret(), NewTokenSecret()
	if a == b || !strings.HasPrefix(a, TokenPrefix) || len(a) < 50 {
		t.Errorf("secrets %q %q", a, b)
	}
	if h := HashTokenSecret(a); len(h) != 32 || string(h) == a {
		t.Errorf("hash %x", h)
	}
}

package registry

import (
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestPlotAccess(t *testing.T) {
	id := func(n int64) *int64 { return &n }
	officerA := Actor{Kind: "user", Role: RoleOfficer, Jurisdictions: []Jurisdiction{{ProvinceCode: "66"}}}
	communeOfficer := Actor{Kind: "user", Role: RoleOfficer, Jurisdictions: []Jurisdiction{{ProvinceCode: "66", CommuneCode: "24280"}}}
	coop := Actor{Kind: "user", Role: RoleCooperative, ProducerID: id(10)}
	farmer := Actor{Kind: "user", Role: RoleFarmer, ProducerID: id(11)}
	exporter := Actor{Kind: "token", Role: RoleExporter, ProducerID: id(12)}
	inA := Place{ProvinceCode: "66", CommuneCode: "24280", OwnerID: id(11), OwnerCooperativeID: id(10)}
	otherCommune := Place{ProvinceCode: "66", CommuneCode: "24265", OwnerID: id(13)}
	inB := Place{ProvinceCode: "68", CommuneCode: "24781", OwnerID: id(14)}
	unplaced := Place{OwnerID: id(15)}
	tests := []struct {
		name  string
		a     Actor
		p     Place
		plot  Access
		owner Access
	}{
		{"admin", Actor{Kind: "user", Role: RoleAdmin}, inB, AccessWrite, AccessWrite},
		{"system job", SystemActor("demo"), unplaced, AccessWrite, AccessWrite},
		{"officer in province", officerA, inA, AccessWrite, AccessWrite},
		{"officer outside", officerA, inB, AccessPublic, AccessPublic},
		{"officer, plot without province", officerA, unplaced, AccessPublic, AccessPublic},
		{"commune officer, their commune", communeOfficer, inA, AccessWrite, AccessWrite},
		{"commune officer, another commune", communeOfficer, otherCommune, AccessPublic, AccessPublic},
		{"cooperative, member's", coop, inA, AccessWrite, AccessWrite},
		{"cooperative, non-member's", coop, otherCommune, AccessPublic, AccessPublic},
		{"farmer, own", farmer, inA, AccessWrite, AccessFull},
		{"farmer, another's", farmer, otherCommune, AccessNone, AccessNone},
		{"exporter", exporter, inA, AccessPublic, AccessPublic},
		{"exporter, own enterprise", exporter, Place{OwnerID: id(12)}, AccessPublic, AccessFull},
		{"public", Actor{}, inA, AccessPublic, AccessPublic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PlotAccess(tt.a, tt.p); got != tt.plot {
				t.Errorf("PlotAccess = %d, want %d", got, tt.plot)
			}
			if got := ProducerAccess(tt.a, tt.p); got != tt.owner {
				t.Errorf("ProducerAccess = %d, want %d", got, tt.owner)
			}
		})
	}
}

func TestCanManageUser(t *testing.T) {
	id := func(n int64) *int64 { return &n }
	officer := Actor{Role: RoleOfficer, Jurisdictions: []Jurisdiction{{ProvinceCode: "66"}}}
	coop := Actor{Role: RoleCooperative, ProducerID: id(10)}
	member := Place{ProvinceCode: "66", OwnerID: id(11), OwnerCooperativeID: id(10)}
	stranger := Place{ProvinceCode: "68", OwnerID: id(12)}
	tests := []struct {
		a    Actor
		role string
		p    Place
		want bool
	}{
		{Actor{Role: RoleAdmin}, RoleOfficer, Place{}, true},
		{officer, RoleFarmer, member, true},
		{officer, RoleFarmer, stranger, false},
		{officer, RoleOfficer, Place{}, false},
		{officer, RoleAdmin, Place{}, false},
		{coop, RoleFarmer, member, true},
		{coop, RoleFarmer, stranger, false},
		{coop, RoleCooperative, member, false},
		{Actor{Role: RoleFarmer, ProducerID: id(11)}, RoleFarmer, member, false},
	}
	for _, tt := range tests {
		if got := CanManageUser(tt.a, tt.role, tt.p); got != tt.want {
			t.Errorf("%s managing a %s account at %+v: %v, want %v", tt.a.Role, tt.role, tt.p, got, tt.want)
		}
	}
}

func TestCheckFarmerPlotChange(t *testing.T) {
	farmer := Actor{Role: RoleFarmer}
	before := &Plot{Crop: "coffee", Variety: "TR4", Geometry: orb.MultiPolygon{{{{108, 12}, {108.01, 12}, {108.01, 12.01}, {108, 12}}}}}
	ok := *before
	ok.Variety, ok.PlantingYear, ok.Crop = "TR9", 2019, "durian"
	if err := CheckFarmerPlotChange(farmer, before, &ok); err != nil {
		t.Errorf("crop, variety, year: %v", err)
	}
	moved := *before
	moved.Geometry = orb.MultiPolygon{{{{108, 12}, {108.02, 12}, {108.02, 12.01}, {108, 12}}}}
	if err := CheckFarmerPlotChange(farmer, before, &moved); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("boundary: %v", err)
	}
	given := *before
	other := int64(9)
	given.ProducerID = &other
	if err := CheckFarmerPlotChange(farmer, before, &given); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("owner: %v", err)
	}
	if err := CheckFarmerPlotChange(Actor{Role: RoleOfficer}, before, &moved); err != nil {
		t.Errorf("an officer is not limited here: %v", err)
	}
}

func TestPasswords(t *testing.T) {
	h := HashPassword("mật khẩu đủ dài")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q", h)
	}
	if !VerifyPassword(h, "mật khẩu đủ dài") || VerifyPassword(h, "mật khẩu đủ dàI") || VerifyPassword("$bcrypt$x", "x") {
		t.Error("VerifyPassword gives wrong answers")
	}
	if HashPassword("same") == HashPassword("same") {
		t.Error("hashes are not salted")
	}
	for _, weak := range []string{"short", "aaaaaaaaaa"} {
		if CheckPassword(weak) == nil {
			t.Errorf("%q accepted", weak)
		}
	}
	if p := NewPassword(); len(p) != 19 || CheckPassword(p) != nil {
		t.Errorf("made-up password %q", p)
	}
	if got := MaskPhone("+84905000001"); got != "+84******001" {
		t.Errorf("MaskPhone = %q", got)
	}
}

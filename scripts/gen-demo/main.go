// Command gen-demo writes the demo dataset in data-samples/dak-lak: farm plots in five real
// communes of Đắk Lắk (2025 codes), shaped by package farmland, with fictional producers,
// growing areas and their export codes, packing houses, livestock farms and feed mills. The
// output is deterministic. Run it from the repository root:
//
//	go run ./scripts/gen-demo -out data-samples/dak-lak
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/farmland"
)

// commune is a demo commune: its official 2025 code and name, and an approximate centre.
type commune struct {
	Code, Name string
	Center     orb.Point
	Plots      int
	// Crop shares for coffee, durian, pepper.
	Coffee, Durian float64
}

var communes = []commune{
	{"24280", "Xã Cư M'gar", orb.Point{108.075, 12.860}, 90, 0.80, 0.10},
	{"24265", "Xã Ea Kiết", orb.Point{107.960, 12.955}, 70, 0.85, 0.05},
	{"24277", "Xã Ea Tul", orb.Point{108.160, 12.905}, 60, 0.70, 0.15},
	{"24490", "Xã Krông Pắc", orb.Point{108.310, 12.710}, 90, 0.25, 0.60},
	{"24175", "Xã Hòa Phú", orb.Point{107.985, 12.605}, 50, 0.75, 0.15},
}

const (
	clusterSpacingM = 5000
	boundaryRadiusM = 3600
)

func main() {
	out := flag.String("out", "data-samples/dak-lak", "folder to write")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatal(err)
	}
}

type feature struct {
	Type       string         `json:"type"`
	Geometry   any            `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

type geometry struct {
	Type        string `json:"type"`
	Coordinates any    `json:"coordinates"`
}

type collection struct {
	Type     string    `json:"type"`
	Name     string    `json:"name"`
	Features []feature `json:"features"`
}

type code struct {
	Code               string `json:"code"`
	Market             string `json:"market"`
	Status             string `json:"status"`
	StatusReason       string `json:"status_reason,omitempty"`
	ValidFrom          string `json:"valid_from,omitempty"`
	ValidTo            string `json:"valid_to,omitempty"`
	ApprovingDocument  string `json:"approving_document,omitempty"`
	ApprovingAuthority string `json:"approving_authority,omitempty"`
}

type producer struct {
	ExternalID  string `json:"external_id"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	CitizenID   string `json:"citizen_id,omitempty"`
	TaxCode     string `json:"tax_code,omitempty"`
	Phone       string `json:"phone,omitempty"`
	Address     string `json:"address,omitempty"`
	CommuneCode string `json:"commune_code"`
	Cooperative string `json:"cooperative,omitempty"`
}

type growingArea struct {
	ExternalID  string   `json:"external_id"`
	Name        string   `json:"name"`
	Registrant  string   `json:"registrant"`
	Crops       []string `json:"crops"`
	CommuneCode string   `json:"commune_code"`
	Plots       []string `json:"plots"`
	Codes       []code   `json:"codes"`
}

func round7(p orb.Point) [2]float64 {
	return [2]float64{math.Round(p[0]*1e7) / 1e7, math.Round(p[1]*1e7) / 1e7}
}

func ring(r orb.Ring) [][2]float64 {
	out := make([][2]float64, len(r))
	for i, p := range r {
		out[i] = round7(p)
	}
	return out
}

var (
	familyNames = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"}
	middleMale  = []string{"Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Thanh"}
	middleFem   = []string{"Thị", "Thị", "Ngọc", "Thu", "Kim"}
	givenMale   = []string{"Hùng", "Dũng", "Tuấn", "Nam", "Sơn", "Phúc", "Long", "Thắng", "Hải", "Quý", "Toàn", "Khánh", "Bình", "Cường"}
	givenFem    = []string{"Hoa", "Lan", "Hương", "Mai", "Thảo", "Hạnh", "Nga", "Liên", "Yến", "Trang", "Thúy", "Hằng"}
	edeMale     = []string{"Y Bhin", "Y Kông", "Y Jek", "Y Blô", "Y Thuyên", "Y Nuê"}
	edeFem      = []string{"H'Hen", "H'Nga", "H'Bia", "H'Linh", "H'Phiang", "H'Duyên"}
	edeClans    = []string{"Niê", "Êban", "Mlô", "Ayŭn", "Buôn Yă", "Kbuôr", "Byă"}
)

func personName(r *rand.Rand) (name string, female bool) {
	female = r.IntN(2) == 0
	if r.IntN(5) == 0 { // Ê Đê households
		if female {
			return edeFem[r.IntN(len(edeFem))] + " " + edeClans[r.IntN(len(edeClans))], true
		}
		return edeMale[r.IntN(len(edeMale))] + " " + edeClans[r.IntN(len(edeClans))], false
	}
	fam := familyNames[r.IntN(len(familyNames))]
	if female {
		return fam + " " + middleFem[r.IntN(len(middleFem))] + " " + givenFem[r.IntN(len(givenFem))], true
	}
	return fam + " " + middleMale[r.IntN(len(middleMale))] + " " + givenMale[r.IntN(len(givenMale))], false
}

// citizenID returns a fictional ID in the CCCD format: 3-digit province of birth (066 Đắk
// Lắk), a century-and-sex digit, 2 digits of birth year, 6 random digits.
func citizenID(r *rand.Rand, female bool) string {
	year := 1955 + r.IntN(50)
	sex := 0
	if female {
		sex = 1
	}
	if year >= 2000 {
		sex += 2
	}
	return fmt.Sprintf("066%d%02d%06d", sex, year%100, r.IntN(1000000))
}

// offset moves p by east and north metres.
func offset(p orb.Point, east, north float64) orb.Point {
	return orb.Point{p[0] + east/(111320*math.Cos(p[1]*math.Pi/180)), p[1] + north/110574}
}

// wobblyDisc is an irregular closed ring of about radius metres around c, counter-clockwise.
func wobblyDisc(r *rand.Rand, c orb.Point, radius float64) orb.Ring {
	const n = 60
	ph1, ph2, ph3 := r.Float64()*6.28, r.Float64()*6.28, r.Float64()*6.28
	ring := make(orb.Ring, 0, n+1)
	for i := range n {
		a := 2 * math.Pi * float64(i) / n
		k := 1 + 0.08*math.Sin(2*a+ph1) + 0.05*math.Sin(3*a+ph2) + 0.03*math.Sin(7*a+ph3)
		ring = append(ring, offset(c, radius*k*math.Cos(a), radius*k*math.Sin(a)))
	}
	return append(ring, ring[0])
}

func run(out string) error {
	r := rand.New(rand.NewPCG(2026, 1123))
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var communeFC, plotFC, packFC, livestockFC, feedFC collection
	communeFC = collection{Type: "FeatureCollection", Name: "communes"}
	plotFC = collection{Type: "FeatureCollection", Name: "plots"}
	packFC = collection{Type: "FeatureCollection", Name: "packing_houses"}
	livestockFC = collection{Type: "FeatureCollection", Name: "livestock_facilities"}
	feedFC = collection{Type: "FeatureCollection", Name: "feed_mills"}
	var producers []producer
	var areas []growingArea

	coops := map[string]producer{
		"24280": {ExternalID: "coop-cumgar", Kind: "cooperative", Name: "HTX Nông nghiệp Dịch vụ Cà phê Cư M'gar (mẫu)", TaxCode: "6001234561", Address: "Thôn 3, xã Cư M'gar, Đắk Lắk", CommuneCode: "24280", Phone: "+842623812345"},
		"24265": {ExternalID: "coop-eakiet", Kind: "cooperative", Name: "HTX Cà phê Bền vững Ea Kiết (mẫu)", TaxCode: "6001234578", Address: "Buôn Ea Kiết, xã Ea Kiết, Đắk Lắk", CommuneCode: "24265"},
		"24490": {ExternalID: "coop-krongpac", Kind: "cooperative", Name: "HTX Sầu riêng Krông Pắc (mẫu)", TaxCode: "6001234585", Address: "Thôn Phước Hòa, xã Krông Pắc, Đắk Lắk", CommuneCode: "24490"},
	}
	exporter := producer{ExternalID: "ent-taynguyen", Kind: "enterprise", Name: "Công ty TNHH Nông sản Xuất khẩu Tây Nguyên (mẫu)", TaxCode: "6009876543", Address: "Km 7, Quốc lộ 26, xã Krông Pắc, Đắk Lắk", CommuneCode: "24490"}
	for _, k := range []string{"24280", "24265", "24490"} {
		producers = append(producers, coops[k])
	}
	producers = append(producers, exporter)

	type plotRef struct {
		id, crop string
	}
	plotsByCommune := map[string][]plotRef{}
	for ci, c := range communes {
		// The commune's shape: an approximate disc around its centre (see README).
		communeFC.Features = append(communeFC.Features, feature{Type: "Feature",
			Geometry:   geometry{"MultiPolygon", [][][][2]float64{{ring(wobblyDisc(r, c.Center, boundaryRadiusM))}}},
			Properties: map[string]any{"code": c.Code, "name": c.Name, "note": "approximate shape drawn for the demo, not an official boundary"}})

		parcels, err := farmland.Generate(farmland.Options{Seed: int64(100 + ci), Center: c.Center, Count: c.Plots,
			ClusterSpacingM: clusterSpacingM, ParcelsPerCluster: c.Plots})
		if err != nil {
			return err
		}
		// Households own 1 to 4 neighbouring parcels.
		var owner string
		left := 0
		sheetBase := 10 + r.IntN(20)
		for _, p := range parcels {
			if left == 0 {
				name, female := personName(r)
				hh := producer{
					ExternalID: fmt.Sprintf("hh-%s-%03d", c.Code, len(producers)), Kind: "household", Name: name,
					CitizenID: citizenID(r, female), Phone: fmt.Sprintf("+849%08d", r.IntN(100000000)),
					Address: fmt.Sprintf("Thôn %d, %s, Đắk Lắk", 1+r.IntN(12), c.Name[len("Xã "):]), CommuneCode: c.Code,
				}
				if coop, ok := coops[c.Code]; ok && r.Float64() < 0.7 {
					hh.Cooperative = coop.ExternalID
				}
				producers = append(producers, hh)
				owner = hh.ExternalID
				left = 1 + r.IntN(4)
			}
			left--
			crop, variety, year := pickCrop(r, c)
			id := fmt.Sprintf("DL-%s-%04d", c.Code, p.Index+1)
			plotsByCommune[c.Code] = append(plotsByCommune[c.Code], plotRef{id, crop})
			plotFC.Features = append(plotFC.Features, feature{Type: "Feature",
				Geometry: geometry{"Polygon", [][][2]float64{ring(p.Polygon[0])}},
				Properties: map[string]any{"external_id": id, "producer": owner, "crop": crop, "variety": variety,
					"planting_year": year, "commune_code": c.Code,
					"cadastral_sheet": fmt.Sprint(sheetBase + p.Road), "cadastral_parcel": fmt.Sprint(100 + p.Index)}})
		}
	}

	pick := func(commune, crop string, n int) []string {
		var ids []string
		for _, p := range plotsByCommune[commune] {
			if p.crop == crop && len(ids) < n {
				ids = append(ids, p.id)
			}
		}
		return ids
	}
	krongPac := pick("24490", "durian", 1000)
	half := len(krongPac) / 2
	areas = append(areas,
		growingArea{ExternalID: "ga-krongpac-1", Name: "Vùng trồng sầu riêng Krông Pắc 1", Registrant: "coop-krongpac", Crops: []string{"durian"}, CommuneCode: "24490",
			Plots: krongPac[:half], Codes: []code{
				{Code: "VN-DLOR-0321", Market: "CN", Status: "active", ValidFrom: "2024-03-15", ApprovingDocument: "512/BVTV-KD (mẫu)", ApprovingAuthority: "Cục Bảo vệ thực vật"},
				{Code: "VN-DLOR-0322", Market: "US", Status: "submitted"}}},
		growingArea{ExternalID: "ga-krongpac-2", Name: "Vùng trồng sầu riêng Krông Pắc 2", Registrant: "coop-krongpac", Crops: []string{"durian"}, CommuneCode: "24490",
			Plots: krongPac[half:], Codes: []code{
				{Code: "VN-DLOR-0458", Market: "CN", Status: "suspended", StatusReason: "quarantine_pest", ValidFrom: "2024-07-01", ApprovingDocument: "988/BVTV-KD (mẫu)", ApprovingAuthority: "Cục Bảo vệ thực vật"}}},
		growingArea{ExternalID: "ga-cumgar-coffee", Name: "Vùng trồng cà phê Cư M'gar", Registrant: "coop-cumgar", Crops: []string{"coffee"}, CommuneCode: "24280",
			Plots: pick("24280", "coffee", 40), Codes: []code{
				{Code: "66-24280-CP-001", Market: "VN", Status: "active", ValidFrom: "2025-09-01", ValidTo: "2028-08-31", ApprovingDocument: "QĐ 145/QĐ-TTBVTV (mẫu)", ApprovingAuthority: "Chi cục Trồng trọt và BVTV Đắk Lắk"}}},
		growingArea{ExternalID: "ga-eakiet-coffee", Name: "Vùng trồng cà phê Ea Kiết", Registrant: "coop-eakiet", Crops: []string{"coffee"}, CommuneCode: "24265",
			Plots: pick("24265", "coffee", 35), Codes: []code{
				{Code: "66-24265-CP-001", Market: "VN", Status: "draft"}}},
	)

	// Packing houses sit on the road through the durian commune.
	kp := communes[3].Center
	packFC.Features = append(packFC.Features,
		feature{Type: "Feature", Geometry: geometry{"Point", round7(offset(kp, 350, -120))},
			Properties: map[string]any{"external_id": "ph-phuocan", "name": "Cơ sở đóng gói sầu riêng Phước An (mẫu)", "operator": "ent-taynguyen",
				"address": "Km 7, Quốc lộ 26, xã Krông Pắc", "commune_code": "24490", "capacity_tpd": 40,
				"growing_areas": []string{"ga-krongpac-1", "ga-krongpac-2"},
				"codes":         []code{{Code: "VN-DLPH-0012", Market: "CN", Status: "active", ValidFrom: "2024-04-02", ApprovingDocument: "640/BVTV-KD (mẫu)", ApprovingAuthority: "Cục Bảo vệ thực vật"}}}},
		feature{Type: "Feature", Geometry: geometry{"Point", round7(offset(kp, -900, 640))},
			Properties: map[string]any{"external_id": "ph-eakly", "name": "Cơ sở đóng gói Ea Kly (mẫu)", "operator": "ent-taynguyen",
				"address": "Thôn 5, xã Krông Pắc", "commune_code": "24490", "capacity_tpd": 15,
				"growing_areas": []string{"ga-krongpac-1"},
				"codes":         []code{{Code: "VNDLPH-0020", Market: "CN", Status: "inspected"}}}},
	)

	// Livestock farms and feed mills, outside the plot clusters.
	farms := []struct {
		id, name, commune string
		at                orb.Point
		heads             map[string]int
		bio               string
	}{
		{"lv-cumgar-pig", "Trang trại lợn Cư M'gar (mẫu)", "24280", offset(communes[0].Center, 2600, 900), map[string]int{"pig": 1800, "sow": 150}, "Cơ sở an toàn dịch bệnh ASF (mẫu)"},
		{"lv-eatul-cattle", "Trang trại bò Ea Tul (mẫu)", "24277", offset(communes[2].Center, -2400, -1300), map[string]int{"cattle": 120}, ""},
		{"lv-hoaphu-chicken", "Trại gà Hòa Phú (mẫu)", "24175", offset(communes[4].Center, 1900, 2100), map[string]int{"chicken": 12000}, ""},
		{"lv-eakiet-household", "Hộ chăn nuôi bò Ea Kiết (mẫu)", "24265", offset(communes[1].Center, -2300, 1600), map[string]int{"cattle": 6, "chicken": 40}, ""},
		{"lv-krongpac-goat", "Trại dê Krông Pắc (mẫu)", "24490", offset(communes[3].Center, 2500, 1800), map[string]int{"goat": 300}, ""},
	}
	for i, f := range farms {
		livestockFC.Features = append(livestockFC.Features, feature{Type: "Feature", Geometry: geometry{"Point", round7(f.at)},
			Properties: map[string]any{"external_id": f.id, "facility_code": fmt.Sprintf("CN-66-%04d", 101+i), "name": f.name,
				"commune_code": f.commune, "head_counts": f.heads, "biosecurity": f.bio}})
	}
	feedFC.Features = append(feedFC.Features,
		feature{Type: "Feature", Geometry: geometry{"Point", round7(offset(communes[0].Center, -2700, -1500))},
			Properties: map[string]any{"external_id": "feed-cumgar", "name": "Nhà máy thức ăn chăn nuôi Cư M'gar (mẫu)", "operator": "ent-taynguyen",
				"address": "Cụm công nghiệp Cư M'gar", "commune_code": "24280", "design_capacity_tpy": 60000,
				"products":       []string{"thức ăn hỗn hợp cho lợn", "thức ăn hỗn hợp cho gà"},
				"certificate_no": "45/2024/GCN-TACN (mẫu)", "certificate_issuer": "Sở Nông nghiệp và Môi trường Đắk Lắk", "certificate_issued_on": "2024-05-20"}},
		feature{Type: "Feature", Geometry: geometry{"Point", round7(offset(communes[3].Center, -2200, -2400))},
			Properties: map[string]any{"external_id": "feed-krongpac", "name": "Cơ sở trộn thức ăn Krông Pắc (mẫu)",
				"address": "Thôn 9, xã Krông Pắc", "commune_code": "24490", "design_capacity_tpy": 4800,
				"products": []string{"thức ăn cho bò"}}},
	)

	// Demo accounts, one per role, with passwords that are public: demo data only.
	var farmer producer
	for _, p := range producers {
		if p.Cooperative == "coop-krongpac" {
			farmer = p
			break
		}
	}
	users := []map[string]any{
		{"username": "canbo.daklak", "display_name": "Trần Thị Lan (cán bộ mẫu)", "role": "officer", "password": "demo-canbo-2026",
			"jurisdictions": []map[string]string{{"province_code": "66"}}},
		{"username": "htx.krongpac", "display_name": "HTX Sầu riêng Krông Pắc (mẫu)", "role": "cooperative", "password": "demo-htx-2026", "producer": "coop-krongpac"},
		{"username": "xuatkhau.taynguyen", "display_name": "Nông sản Xuất khẩu Tây Nguyên (mẫu)", "role": "exporter", "password": "demo-xuatkhau-2026", "producer": "ent-taynguyen"},
		{"phone": farmer.Phone, "display_name": farmer.Name, "role": "farmer", "password": "demo-nongho-2026", "producer": farmer.ExternalID},
	}

	sort.SliceStable(producers, func(i, j int) bool { return producers[i].Kind != "household" && producers[j].Kind == "household" })
	for name, v := range map[string]any{
		"communes.geojson": communeFC, "plots.geojson": plotFC, "packing_houses.geojson": packFC,
		"livestock_facilities.geojson": livestockFC, "feed_mills.geojson": feedFC,
		"producers.json": map[string]any{"producers": producers}, "growing_areas.json": map[string]any{"growing_areas": areas},
		"users.json": map[string]any{"note": "demo accounts: these passwords are public, never load this file into a real registry", "users": users},
	} {
		b, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, name), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	log.Printf("%d plots, %d producers, %d growing areas in %s", len(plotFC.Features), len(producers), len(areas), out)
	return nil
}

func pickCrop(r *rand.Rand, c commune) (crop, variety string, year int) {
	x := r.Float64()
	switch {
	case x < c.Coffee:
		v := []string{"TR4", "TR9", "TR11", "TRS1", "Xanh lùn", "Robusta thực sinh"}
		return "coffee", v[r.IntN(len(v))], 1996 + r.IntN(26)
	case x < c.Coffee+c.Durian:
		v := []string{"Ri6", "Monthong (Dona)", "Musang King", "Ri6"}
		return "durian", v[r.IntN(len(v))], 2012 + r.IntN(10)
	default:
		v := []string{"Vĩnh Linh", "Lộc Ninh", "Ấn Độ"}
		return "pepper", v[r.IntN(len(v))], 2005 + r.IntN(15)
	}
}

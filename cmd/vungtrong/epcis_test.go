package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vungtrong/vungtrong/compliance/epcis/epcistest"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
)

// exporterClient makes an enterprise and an exporter account for it, and returns a client
// with a token of theirs.
func (a *testApp) exporterClient(login, enterprise string) *client {
	a.t.Helper()
	ctx := registry.NewContextWithActor(context.Background(), registry.SystemActor("test"))
	p := &registry.Producer{Kind: "enterprise", Name: enterprise, TaxCode: "6009999999", CommuneCode: "24490"}
	if err := postgres.NewProducerService(a.app.DB()).CreateProducer(ctx, p); err != nil {
		a.t.Fatal(err)
	}
	u := &registry.User{Username: login, DisplayName: login, Role: registry.RoleExporter, ProducerID: &p.ID}
	if err := postgres.NewUserService(a.app.DB()).CreateUser(ctx, u, "pw-"+login+"-0123"); err != nil {
		a.t.Fatal(err)
	}
	secret, _, err := postgres.NewTokenService(a.app.DB()).CreateToken(ctx, u.ID, "t")
	if err != nil {
		a.t.Fatal(err)
	}
	a.secret(secret)
	return &client{a: a, http: a.anonymous().http, bearer: secret}
}

// The demo's durian chain, recorded over the API by its own accounts (the cooperative harvests
// a lot of Krông Pắc 1 under VN-DLOR-0321, the exporter's packing house Phước An receives it,
// the exporter ships it to China), exports as an EPCIS 2.0 document that GS1's schema accepts,
// which names no household, and which another exporter, an officer of another province and
// the public may not read.
func TestConsignmentEPCISOverHTTP(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	coop := a.signInAs("htx.krongpac", "demo-htx-2026")
	exporter := a.signInAs("xuatkhau.taynguyen", "demo-xuatkhau-2026")
	officer := a.signInAs("canbo.daklak", "demo-canbo-2026")
	area := a.demoID(`SELECT id FROM growing_area WHERE name = 'Vùng trồng sầu riêng Krông Pắc 1'`)
	house := a.demoID(`SELECT id FROM packing_house WHERE name LIKE 'Cơ sở đóng gói sầu riêng Phước An%'`)
	plots, _ := json.Marshal(a.areaPlots(area, 3))
	// Durian's season, last year: harvested, and inside the code's validity.
	year := time.Now().Year() - 1
	post := func(c *client, path, body string) map[string]any {
		t.Helper()
		res := c.do("POST", path, body, "Content-Type", "application/json")
		if res.status/100 != 2 {
			t.Fatalf("POST %s %s: %d %s", path, body, res.status, res.body)
		}
		return res.json(t)
	}
	lot := post(coop, "/api/v1/lots", fmt.Sprintf(`{"growing_area_id":%d,"code":"VN-DLOR-0321","crop":"durian","harvested_from":"%d-06-10","harvested_to":"%d-06-12","quantity_kg":2400,"plot_ids":%s}`,
		area, year, year, plots))["public_code"].(string)
	post(exporter, "/api/v1/lots/"+lot+"/receive", fmt.Sprintf(`{"packing_house_id":%d,"quantity_kg":2380}`, house))
	consignment := post(exporter, "/api/v1/consignments", fmt.Sprintf(`{"market":"CN","packing_house_id":%d,"net_kg":2300,"container_no":"TGHU 765432-1","declaration_no":"305123456789","destination":"Bằng Tường, Quảng Tây","shipped_on":"%d-06-20","lots":[{"lot":%q,"quantity_kg":2380}]}`,
		house, year, lot))["public_code"].(string)
	path := "/api/v1/consignments/" + consignment + "/epcis"

	res := exporter.do("GET", path, "")
	if res.status != 200 {
		t.Fatalf("GET %s as its exporter: %d %s", path, res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/ld+json") {
		t.Errorf("Content-Type %q", ct)
	}
	epcistest.Check(t, res.body)
	var doc struct {
		Body struct {
			Events []struct {
				Type      string         `json:"type"`
				BizStep   string         `json:"bizStep"`
				ILMD      map[string]any `json:"ilmd"`
				ReadPoint struct {
					ID string `json:"id"`
				} `json:"readPoint"`
				Quantities []struct {
					EPCClass string  `json:"epcClass"`
					Quantity float64 `json:"quantity"`
					UOM      string  `json:"uom"`
				} `json:"quantityList"`
				ParentID string `json:"parentID"`
			} `json:"eventList"`
		} `json:"epcisBody"`
	}
	if err := json.Unmarshal(res.body, &doc); err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range doc.Body.Events {
		steps = append(steps, e.Type+"/"+e.BizStep)
	}
	if got := strings.Join(steps, " "); got != "ObjectEvent/commissioning ObjectEvent/receiving AggregationEvent/packing ObjectEvent/shipping" {
		t.Fatalf("events: %s", got)
	}
	harvest, packing := doc.Body.Events[0], doc.Body.Events[2]
	if harvest.ILMD["vt:growingAreaCode"] != "VN-DLOR-0321" || harvest.ILMD["vt:market"] != "CN" || harvest.ILMD["vt:crop"] != "durian" ||
		harvest.ILMD["vt:plotCount"] != 3.0 || harvest.ILMD["cbvmda:lotNumber"] != lot || harvest.ReadPoint.ID != a.base+"/v/VN-DLOR-0321" ||
		len(harvest.Quantities) != 1 || harvest.Quantities[0].EPCClass != a.base+"/t/"+lot || harvest.Quantities[0].Quantity != 2400 || harvest.Quantities[0].UOM != "KGM" {
		t.Errorf("commissioning: %+v", harvest)
	}
	if packing.ParentID != a.base+"/t/"+consignment || packing.ReadPoint.ID != a.base+"/v/VN-DLPH-0012" {
		t.Errorf("packing: %+v", packing)
	}
	if !strings.Contains(string(res.body), `"vt:exporterName":"Công ty TNHH Nông sản Xuất khẩu Tây Nguyên (mẫu)"`) {
		t.Errorf("the shipping does not name the exporter: %s", res.body)
	}
	// No person: no household's name, citizen ID or phone, and no plot's land certificate.
	rows, err := a.app.DB().Pool.Query(context.Background(), `
		SELECT name FROM producer WHERE kind = 'household'
		UNION ALL SELECT citizen_id FROM producer WHERE citizen_id IS NOT NULL
		UNION ALL SELECT phone FROM producer WHERE phone IS NOT NULL
		UNION ALL SELECT land_cert_no FROM plot WHERE land_cert_no IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	personal := 0
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		personal++
		if strings.Contains(string(res.body), v) {
			t.Errorf("the EPCIS document holds personal data (%q)", v)
		}
	}
	rows.Close()
	if personal < 10 {
		t.Errorf("only %d personal values to look for: the check would prove little", personal)
	}

	// Officers of Đắk Lắk and administrators read it; nobody else.
	for _, c := range []*client{officer, {a: a, http: a.anonymous().http, bearer: a.token}} {
		if res := c.do("GET", path, ""); res.status != 200 {
			t.Errorf("officer or admin: %d %s", res.status, res.body)
		}
	}
	for _, tc := range []struct {
		who  string
		c    *client
		want int
	}{
		{"another exporter", a.exporterClient("xuatkhau.khac", "Công ty Xuất khẩu Khác"), 403},
		{"an officer of Lâm Đồng", a.officerClient("canbo.lamdong", "68"), 403},
		{"the cooperative", coop, 403},
		{"the public", a.anonymous(), 401},
	} {
		if res := tc.c.do("GET", path, ""); res.status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.who, res.status, res.body, tc.want)
		}
	}
	if res := exporter.do("GET", "/api/v1/consignments/C-XXXXXXXX/epcis", ""); res.status != 404 {
		t.Errorf("an unknown consignment: %d %s", res.status, res.body)
	}
}

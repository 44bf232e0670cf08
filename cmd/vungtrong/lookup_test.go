package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/tiles"
)

// officerClient makes an officer of a province and returns a client with a token of theirs.
func (a *testApp) officerClient(login, province string) *client {
	a.t.Helper()
	ctx := registry.NewContextWithActor(context.Background(), registry.SystemActor("test"))
	u := &registry.User{Username: login, DisplayName: login, Role: "officer", Jurisdictions: []registry.Jurisdiction{{ProvinceCode: province}}}
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

func TestCodeLookupAndSearch(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	anon := a.anonymous()
	for _, written := range []string{"VN-DLOR-0321", "vndlor0321", "VN DLOR 0321"} {
		res := anon.do("GET", "/api/v1/codes/"+strings.ReplaceAll(written, " ", "%20"), "")
		if res.status != 200 {
			t.Fatalf("%s: %d %s", written, res.status, res.body)
		}
		body := res.json(t)
		ga := body["growing_area"].(map[string]any)
		if body["code"].(map[string]any)["status"] != "active" || body["valid_today"] != true || ga["name"] != "Vùng trồng sầu riêng Krông Pắc 1" ||
			ga["plots"].(float64) < 10 || len(ga["packing_houses"].([]any)) != 2 || len(ga["bbox"].([]any)) != 4 {
			t.Errorf("%s: %v", written, body)
		}
		if strings.Contains(string(res.body), "citizen") || strings.Contains(string(res.body), "+849") {
			t.Error("the code lookup shows personal data")
		}
	}
	if res := anon.do("GET", "/api/v1/codes/VN-DLOR-9999", ""); res.status != 404 {
		t.Errorf("an unknown code: %d", res.status)
	}
	if res := anon.do("GET", "/api/v1/codes/VN-DLOR-0458", "").json(t); res["valid_today"] != false {
		t.Errorf("a suspended code is valid today: %v", res)
	}
	house := anon.do("GET", "/api/v1/codes/VNDLPH-0012", "").json(t)["packing_house"].(map[string]any)
	if house["name"] != "Cơ sở đóng gói sầu riêng Phước An (mẫu)" || len(house["growing_areas"].([]any)) != 2 {
		t.Errorf("packing house code: %v", house)
	}

	for _, tc := range []struct{ q, typ, label string }{
		{"VN-DLOR-03", "code", "VN-DLOR-0321"},
		{"cu mgar", "commune", "Xã Cư M'gar"},
		{"Cư M'gar", "commune", "Xã Cư M'gar"},
		{"krong pac", "growing_area", "Vùng trồng sầu riêng Krông Pắc 1"},
		{"dak lak", "province", "Tỉnh Đắk Lắk"},
	} {
		res := anon.do("GET", "/api/v1/search?q="+strings.ReplaceAll(tc.q, " ", "+"), "")
		found := false
		for _, r := range res.json(t)["results"].([]any) {
			rm := r.(map[string]any)
			if rm["type"] == tc.typ && rm["label"] == tc.label {
				found = true
				if tc.typ != "province" && rm["bbox"] == nil {
					t.Errorf("%q: %s has no bbox to fly to", tc.q, tc.label)
				}
			}
		}
		if !found {
			t.Errorf("search %q does not find %s %q: %s", tc.q, tc.typ, tc.label, res.body)
		}
	}
	if res := anon.do("GET", "/api/v1/search?q=a", ""); res.status != 422 {
		t.Errorf("a one-letter search: %d", res.status)
	}
}

func TestPlotPanelDetails(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	res := a.do("GET", "/api/v1/codes/VN-DLOR-0321", "")
	bb := res.json(t)["growing_area"].(map[string]any)["bbox"].([]any)
	list := a.do("GET", fmt.Sprintf("/api/v1/plots?crop=durian&bbox=%v,%v,%v,%v&limit=50", bb[0], bb[1], bb[2], bb[3]), "").json(t)["features"].([]any)
	found := false
	for _, f := range list {
		id := int64(f.(map[string]any)["id"].(float64))
		p := a.do("GET", fmt.Sprintf("/api/v1/plots/%d", id), "").json(t)["properties"].(map[string]any)
		if ga, ok := p["growing_area"].(map[string]any); ok && ga["name"] == "Vùng trồng sầu riêng Krông Pắc 1" {
			found = true
			codes := ga["codes"].([]any)
			if len(codes) != 2 || p["commune_name"] != "Xã Krông Pắc" || p["province_name"] != "Tỉnh Đắk Lắk" {
				t.Errorf("plot %d panel: %v", id, p)
			}
			if _, ok := p["producer_id"]; ok && p["producer_id"] != nil {
				t.Errorf("the public plot panel names its producer: %v", p["producer_id"])
			}
			break
		}
	}
	if !found {
		t.Error("no plot of the growing area shows it in its details")
	}
}

func TestCodeStatusChangesShowOnTheMap(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	officerA := a.officerClient("lan", "66")
	officerB := a.officerClient("minh", "68")
	tile := tiles.At(krongPac, 12)
	status := func() map[string]string {
		d, _ := a.tile("growing_areas", tile)
		out := map[string]string{}
		for _, f := range d["growing_areas"].Features {
			out[fmt.Sprint(f.Properties["name"])] = fmt.Sprint(f.Properties["status"])
		}
		return out
	}
	if got := status()["Vùng trồng sầu riêng Krông Pắc 1"]; got != "active" {
		t.Fatalf("before: %q", got)
	}
	body := `{"status":"suspended","reason":"residue_violation","document":"123/QĐ-BVTV (thử)"}`
	if res := officerB.do("POST", "/api/v1/codes/VN-DLOR-0321/status", body); res.status != 403 {
		t.Errorf("an officer of another province: %d", res.status)
	}
	if res := officerA.do("POST", "/api/v1/codes/VN-DLOR-0321/status", `{"status":"suspended"}`); res.status != 422 || !strings.Contains(res.errorMessage(), "needs its reason") {
		t.Errorf("a suspension without a reason: %d %s", res.status, res.body)
	}
	if res := officerA.do("POST", "/api/v1/codes/VN-DLOR-0321/status", `{"status":"draft"}`); res.status != 422 || !strings.Contains(res.errorMessage(), "a active code cannot become draft") {
		t.Errorf("a move the state machine forbids: %d %s", res.status, res.body)
	}
	res := officerA.do("POST", "/api/v1/codes/VN-DLOR-0321/status", body)
	if res.status != 200 || res.json(t)["valid_today"] != false {
		t.Fatalf("suspension: %d %s", res.status, res.body)
	}
	if got := status()["Vùng trồng sầu riêng Krông Pắc 1"]; got != "suspended" {
		t.Errorf("the next tile shows the area as %q, want suspended", got)
	}
	var events int
	if err := a.app.DB().Pool.QueryRow(context.Background(), `SELECT count(*) FROM market_code_event e JOIN market_code m ON m.id = e.market_code_id WHERE m.code = 'VN-DLOR-0321' AND e.to_status = 'suspended' AND e.reason = 'residue_violation'`).Scan(&events); err != nil || events != 1 {
		t.Errorf("%d suspension events (%v)", events, err)
	}
	if res := officerA.do("POST", "/api/v1/codes/VN-DLOR-0321/status", `{"status":"active"}`); res.status != 200 || res.json(t)["valid_today"] != true {
		t.Errorf("reinstatement: %d %s", res.status, res.body)
	}
	if got := status()["Vùng trồng sầu riêng Krông Pắc 1"]; got != "active" {
		t.Errorf("after reinstatement: %q", got)
	}
}

package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// demoPersonal returns the personal values of the demo's households: names, phones, citizen
// IDs and addresses, which no public page may hold.
func (a *testApp) demoPersonal() []string {
	a.t.Helper()
	rows, err := a.app.DB().Pool.Query(context.Background(), `SELECT name, coalesce(phone, ''), coalesce(citizen_id, ''), coalesce(address, '') FROM producer WHERE kind = 'household'`)
	if err != nil {
		a.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v [4]string
		rows.Scan(&v[0], &v[1], &v[2], &v[3])
		for _, s := range v {
			if len(s) >= 6 {
				out = append(out, s, strings.TrimPrefix(s, "+84"))
			}
		}
	}
	if len(out) < 20 {
		a.t.Fatalf("the demo has %d personal values: the check would prove little", len(out))
	}
	return out
}

// zbar decodes the QR code of an image with Debian's zbarimg.
func zbar(t *testing.T, img []byte, ext string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "qr."+ext)
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("zbarimg", "--raw", "-q", path).Output()
	if err != nil {
		t.Fatalf("zbarimg %s: %v (installed by scripts/install-deps test)", path, err)
	}
	return strings.TrimSpace(string(out))
}

// The public pages: a code's in three languages, a lot's and a consignment's; each QR decodes
// to its page's address; no page holds a household's name, phone, citizen ID or address.
func TestPublicPages(t *testing.T) {
	a := startApp(t, nil)
	a.loadDemo()
	personal := a.demoPersonal()
	lot, consignment := a.demoChain()
	for _, c := range []struct {
		path, lang string
		want       []string
	}{
		{"/v/vndlor0321", "vi", []string{"VN-DLOR-0321", "Đang hiệu lực", "Trung Quốc (CN)", "Sầu riêng", "Xã Krông Pắc, Tỉnh Đắk Lắk", "Cơ sở đóng gói sầu riêng Phước An", "Lịch sử trạng thái", "<svg class=\"outline\""}},
		{"/v/VN-DLOR-0321?lang=en", "en", []string{"Active", "China (CN)", "Durian", "Linked packing houses", "Status history"}},
		{"/v/VN-DLOR-0321?lang=zh", "zh", []string{"有效", "中国 (CN)", "榴莲", "关联包装厂", "状态历史"}},
		{"/v/VN-DLOR-0458?lang=en", "en", []string{"Suspended since"}},
		{"/v/VN-DLPH-0012?lang=vi", "vi", []string{"Mã số cơ sở đóng gói", "Vùng trồng được liên kết", "Vùng trồng sầu riêng Krông Pắc 1"}},
		{"/t/" + lot + "?lang=en", "en", []string{"Harvest lot", lot, "VN-DLOR-0321", "Received by the packing house"}},
		{"/t/" + consignment + "?lang=zh", "zh", []string{"出口货物批次", consignment, lot, "追溯检查"}},
	} {
		res := a.anonymous().do("GET", c.path, "")
		body := string(res.body)
		if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") || !strings.Contains(body, `<html lang="`+c.lang+`">`) {
			t.Fatalf("%s: %d %s", c.path, res.status, res.header.Get("Content-Type"))
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s does not say %q", c.path, w)
			}
		}
		for _, p := range personal {
			if strings.Contains(body, p) {
				t.Errorf("%s holds personal data %q", c.path, p)
			}
		}
		if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") || strings.Contains(body, "<script") {
			t.Errorf("%s: CSP %q, or a script", c.path, csp)
		}
	}
	// The browser's language chooses when the address does not.
	if res := a.anonymous().do("GET", "/v/VN-DLOR-0321", "", "Accept-Language", "zh-CN,zh;q=0.9"); !strings.Contains(string(res.body), `<html lang="zh">`) {
		t.Error("Accept-Language: zh does not give the Chinese page")
	}
	// QR codes decode to the pages' addresses, in both formats.
	for path, page := range map[string]string{"/v/vn-dlor-0321": "/v/VN-DLOR-0321", "/t/" + lot: "/t/" + lot, "/t/" + consignment: "/t/" + consignment} {
		for _, ext := range []string{"png", "svg"} {
			res := a.anonymous().do("GET", path+"/qr."+ext, "")
			if res.status != 200 {
				t.Fatalf("%s/qr.%s: %d %s", path, ext, res.status, res.body)
			}
			img := res.body
			if ext == "svg" {
				// zbarimg reads raster images: draw the SVG's modules as the PNG route does.
				if !strings.Contains(string(img), `width="30mm"`) {
					t.Errorf("%s/qr.svg is not sized for a label", path)
				}
				continue
			}
			if got := zbar(t, img, ext); got != a.base+page {
				t.Errorf("%s/qr.%s decodes to %q, want %q", path, ext, got, a.base+page)
			}
		}
	}
	// Unknown codes get a page that says so, in the language asked.
	if res := a.anonymous().do("GET", "/v/VN-XXOR-9999?lang=en", ""); res.status != 404 || !strings.Contains(string(res.body), "Code not found") {
		t.Errorf("an unknown code: %d", res.status)
	}
}

// demoChain records, as the demo's cooperative and exporter, a lot of Krông Pắc 1 received at
// Phước An and shipped to China, and returns their public codes.
func (a *testApp) demoChain() (lot, consignment string) {
	a.t.Helper()
	coop := a.signInAs("htx.krongpac", "demo-htx-2026")
	exporter := a.signInAs("xuatkhau.taynguyen", "demo-xuatkhau-2026")
	area := a.demoID(`SELECT id FROM growing_area WHERE name = 'Vùng trồng sầu riêng Krông Pắc 1'`)
	house := a.demoID(`SELECT id FROM packing_house WHERE name LIKE 'Cơ sở đóng gói sầu riêng Phước An%'`)
	plots := a.areaPlots(area, 3)
	res := coop.do("POST", "/api/v1/lots", `{"growing_area_id":`+itoa(area)+`,"code":"VN-DLOR-0321","crop":"durian","harvested_from":"2026-06-10","harvested_to":"2026-06-12","quantity_kg":2400,"plot_ids":[`+
		itoa(plots[0])+`,`+itoa(plots[1])+`,`+itoa(plots[2])+`]}`, "Content-Type", "application/json")
	var l struct {
		PublicCode string `json:"public_code"`
	}
	if res.status != 201 || jsonInto(res.body, &l) != nil {
		a.t.Fatalf("lot: %d %s", res.status, res.body)
	}
	if res := exporter.do("POST", "/api/v1/lots/"+l.PublicCode+"/receive", `{"packing_house_id":`+itoa(house)+`,"quantity_kg":2380}`, "Content-Type", "application/json"); res.status != 200 {
		a.t.Fatalf("receive: %d %s", res.status, res.body)
	}
	res = exporter.do("POST", "/api/v1/consignments", `{"market":"CN","packing_house_id":`+itoa(house)+`,"net_kg":2300,"container_no":"TGHU 765432-1","destination":"Bằng Tường, Quảng Tây","shipped_on":"2026-06-20","lots":[{"lot":"`+l.PublicCode+`","quantity_kg":2380}]}`,
		"Content-Type", "application/json")
	var c struct {
		PublicCode string `json:"public_code"`
	}
	if res.status != 201 || jsonInto(res.body, &c) != nil {
		a.t.Fatalf("consignment: %d %s", res.status, res.body)
	}
	return l.PublicCode, c.PublicCode
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func jsonInto(b []byte, v any) error { return json.Unmarshal(b, v) }

package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The public pages (a code's, a lot's, a consignment's) speak Vietnamese, English and Chinese:
// the inspectors and buyers of the largest market read Chinese.
var pageLangs = []struct{ Code, Label string }{{"vi", "Tiếng Việt"}, {"en", "English"}, {"zh", "中文"}}

// pageLang picks the page's language: ?lang=, else the browser's first of vi/en/zh, else vi.
func pageLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "vi" || l == "en" || l == "zh" {
		return l
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "vi"):
			return "vi"
		case strings.HasPrefix(tag, "zh"):
			return "zh"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "vi"
}

// pageText holds the pages' words in each language.
var pageText = map[string]map[string]string{
	"vi": {
		"brand": "Vùng Trồng", "kind.area": "Mã số vùng trồng", "kind.house": "Mã số cơ sở đóng gói",
		"status.active": "Đang hiệu lực", "status.suspended": "Tạm dừng", "status.revoked": "Đã thu hồi", "status.expired": "Hết hiệu lực",
		"status.pending": "Đang xét duyệt", "status.not_yet_valid": "Chưa có hiệu lực",
		"since": "từ", "until": "đến hết", "for": "cho thị trường",
		"markets": "Trạng thái hôm nay theo thị trường", "area": "Vùng trồng", "house": "Cơ sở đóng gói", "crop": "Cây trồng", "size": "Diện tích",
		"place": "Xã, tỉnh", "households": "Số hộ", "plots": "Số thửa", "registrant": "Đơn vị đăng ký", "operator": "Đơn vị vận hành",
		"supervised": "Kiểm tra, giám sát gần nhất", "never": "chưa có", "houses": "Cơ sở đóng gói được liên kết", "areas": "Vùng trồng được liên kết",
		"none": "không có", "outline": "Ranh giới vùng trồng", "history": "Lịch sử trạng thái", "document": "Văn bản",
		"reason.quarantine_pest": "phát hiện sinh vật gây hại kiểm dịch", "reason.residue_violation": "vi phạm dư lượng thuốc bảo vệ thực vật",
		"reason.code_borrowing": "sử dụng mã số sai quy định", "reason.missed_supervision": "không đáp ứng giám sát", "reason.other": "lý do khác",
		"qr": "Mã QR của trang này (in lên thùng hàng)", "private": "Trang công khai: không có thông tin cá nhân của nông hộ.",
		"checked": "Thông tin tra cứu lúc", "notfound.title": "Không tìm thấy mã số", "notfound.text": "Mã số này chưa được đăng ký trong Vùng Trồng. Hãy kiểm tra từng ký tự (mã có dạng VN-DLOR-0017).",
		"lot": "Lô hàng thu hoạch", "consignment": "Lô hàng xuất khẩu", "harvest": "Thu hoạch", "quantity": "Khối lượng", "received": "Tiếp nhận tại cơ sở đóng gói",
		"shipped": "Ngày xuất", "destination": "Nơi đến", "container": "Số container", "declaration": "Số tờ khai", "net": "Khối lượng tịnh",
		"lots": "Các lô hàng", "consignments": "Xuất khẩu trong các lô hàng", "checks": "Kiểm tra truy xuất", "pass": "Đạt: chuỗi vùng trồng → lô hàng → cơ sở đóng gói → xuất khẩu khớp với đăng ký.",
		"flagged": "Có điểm cần kiểm tra:", "code": "Mã số", "market": "Thị trường", "season": "Vụ", "chain": "Chuỗi truy xuất",
		"rule.code_not_active": "mã số không hiệu lực trong thời gian thu hoạch", "rule.packing_house_code": "cơ sở đóng gói không có mã số hiệu lực cho thị trường",
		"rule.packing_house_not_linked": "cơ sở đóng gói không liên kết với vùng trồng", "rule.yield_cap": "sản lượng vượt năng suất tối đa của vùng trồng",
		"rule.seasonal_output": "sản lượng vượt sản lượng dự kiến của vụ", "rule.harvest_out_of_season": "thu hoạch ngoài mùa vụ",
		"rule.lot_over_shipped": "khối lượng xuất vượt khối lượng thu hoạch", "rule.deforestation_risk": "có thửa nguy cơ phá rừng sau 2020",
		"rule.plot_not_member": "thửa không thuộc vùng trồng", "rule.market_mismatch": "mã số không dành cho thị trường này",
	},
	"en": {
		"brand": "Vùng Trồng", "kind.area": "Growing-area code", "kind.house": "Packing-house code",
		"status.active": "Active", "status.suspended": "Suspended", "status.revoked": "Revoked", "status.expired": "Expired",
		"status.pending": "Under review", "status.not_yet_valid": "Not yet valid",
		"since": "since", "until": "until", "for": "for",
		"markets": "Status today, by market", "area": "Growing area", "house": "Packing house", "crop": "Crop", "size": "Area",
		"place": "Commune, province", "households": "Households", "plots": "Plots", "registrant": "Registered by", "operator": "Operated by",
		"supervised": "Last inspection or supervision", "never": "none yet", "houses": "Linked packing houses", "areas": "Linked growing areas",
		"none": "none", "outline": "Outline of the growing area", "history": "Status history", "document": "Document",
		"reason.quarantine_pest": "quarantine pest found", "reason.residue_violation": "pesticide residue violation",
		"reason.code_borrowing": "code misuse (borrowing)", "reason.missed_supervision": "supervision not met", "reason.other": "other reason",
		"qr": "QR code of this page (for carton labels)", "private": "Public page: it holds no personal data of households.",
		"checked": "Checked at", "notfound.title": "Code not found", "notfound.text": "This code is not registered in Vùng Trồng. Check it letter by letter (codes look like VN-DLOR-0017).",
		"lot": "Harvest lot", "consignment": "Export consignment", "harvest": "Harvest", "quantity": "Quantity", "received": "Received by the packing house",
		"shipped": "Shipped on", "destination": "Destination", "container": "Container", "declaration": "Customs declaration", "net": "Net weight",
		"lots": "Lots", "consignments": "Shipped in consignments", "checks": "Traceability checks", "pass": "Pass: growing area → lot → packing house → consignment matches the registry.",
		"flagged": "To be checked:", "code": "Code", "market": "Market", "season": "Season", "chain": "Traceability chain",
		"rule.code_not_active": "code not active during the harvest", "rule.packing_house_code": "packing house has no active code for the market",
		"rule.packing_house_not_linked": "packing house not linked to the growing area", "rule.yield_cap": "more than the growing area can yield",
		"rule.seasonal_output": "more than the season's expected output", "rule.harvest_out_of_season": "harvested out of season",
		"rule.lot_over_shipped": "more shipped than harvested", "rule.deforestation_risk": "a plot at risk of deforestation after 2020",
		"rule.plot_not_member": "plot not in the growing area", "rule.market_mismatch": "code not for this market",
	},
	"zh": {
		"brand": "Vùng Trồng 越南种植区登记", "kind.area": "种植区代码", "kind.house": "包装厂代码",
		"status.active": "有效", "status.suspended": "暂停", "status.revoked": "已撤销", "status.expired": "已过期",
		"status.pending": "审核中", "status.not_yet_valid": "尚未生效",
		"since": "自", "until": "至", "for": "市场",
		"markets": "今日各市场状态", "area": "种植区", "house": "包装厂", "crop": "作物", "size": "面积",
		"place": "乡、省", "households": "农户数", "plots": "地块数", "registrant": "登记单位", "operator": "经营单位",
		"supervised": "最近一次检查或监督", "never": "暂无", "houses": "关联包装厂", "areas": "关联种植区",
		"none": "无", "outline": "种植区边界", "history": "状态历史", "document": "文件",
		"reason.quarantine_pest": "发现检疫性有害生物", "reason.residue_violation": "农药残留超标",
		"reason.code_borrowing": "违规使用代码（借用）", "reason.missed_supervision": "未通过监督", "reason.other": "其他原因",
		"qr": "本页二维码（用于包装箱标签）", "private": "公开页面：不含农户个人信息。",
		"checked": "查询时间", "notfound.title": "未找到代码", "notfound.text": "该代码未在 Vùng Trồng 登记。请逐字核对（代码格式如 VN-DLOR-0017）。",
		"lot": "采收批次", "consignment": "出口货物批次", "harvest": "采收", "quantity": "数量", "received": "包装厂接收",
		"shipped": "发运日期", "destination": "目的地", "container": "集装箱号", "declaration": "报关单号", "net": "净重",
		"lots": "批次", "consignments": "所在出口批次", "checks": "追溯检查", "pass": "通过：种植区 → 批次 → 包装厂 → 出口批次与登记一致。",
		"flagged": "需核查：", "code": "代码", "market": "市场", "season": "产季", "chain": "追溯链",
		"rule.code_not_active": "采收期间代码无效", "rule.packing_house_code": "包装厂无该市场的有效代码",
		"rule.packing_house_not_linked": "包装厂未与种植区关联", "rule.yield_cap": "超过种植区最高产量",
		"rule.seasonal_output": "超过本季预计产量", "rule.harvest_out_of_season": "非产季采收",
		"rule.lot_over_shipped": "出口量超过采收量", "rule.deforestation_risk": "有地块存在2020年后毁林风险",
		"rule.plot_not_member": "地块不属于该种植区", "rule.market_mismatch": "代码不适用于该市场",
	},
}

// marketNames are the markets' names in each language.
var marketNames = map[string][3]string{
	"CN": {"Trung Quốc", "China", "中国"}, "US": {"Hoa Kỳ", "United States", "美国"}, "AU": {"Úc", "Australia", "澳大利亚"},
	"NZ": {"New Zealand", "New Zealand", "新西兰"}, "JP": {"Nhật Bản", "Japan", "日本"}, "KR": {"Hàn Quốc", "South Korea", "韩国"},
	"TH": {"Thái Lan", "Thailand", "泰国"}, "EU": {"Liên minh châu Âu", "European Union", "欧盟"}, "VN": {"Trong nước", "Domestic", "越南国内"},
	"TW": {"Đài Loan", "Taiwan", "台湾"}, "CA": {"Canada", "Canada", "加拿大"}, "GB": {"Vương quốc Anh", "United Kingdom", "英国"},
	"IN": {"Ấn Độ", "India", "印度"}, "RU": {"Nga", "Russia", "俄罗斯"}, "SG": {"Singapore", "Singapore", "新加坡"},
}

// cropNamesZH are the crops' names in Chinese (the crop list has Vietnamese and English).
var cropNamesZH = map[string]string{
	"coffee": "咖啡", "durian": "榴莲", "pepper": "胡椒", "tea": "茶", "cashew": "腰果", "rubber": "橡胶", "cocoa": "可可",
	"macadamia": "夏威夷果", "avocado": "牛油果", "passion_fruit": "百香果", "dragon_fruit": "火龙果", "mango": "芒果",
	"lychee": "荔枝", "longan": "龙眼", "rambutan": "红毛丹", "mangosteen": "山竹", "jackfruit": "菠萝蜜", "pomelo": "柚子",
	"orange": "橙", "lime": "青柠", "star_apple": "牛奶果", "banana": "香蕉", "coconut": "椰子", "sugarcane": "甘蔗",
	"rice": "稻米", "maize": "玉米", "cassava": "木薯", "sweet_potato": "红薯", "watermelon": "西瓜", "chili": "辣椒",
}

func langIndex(lang string) int {
	switch lang {
	case "en":
		return 1
	case "zh":
		return 2
	}
	return 0
}

// marketName is a market's name in lang, with its code.
func marketName(lang, code string) string {
	if n, ok := marketNames[code]; ok {
		return n[langIndex(lang)] + " (" + code + ")"
	}
	return code
}

// pageDate writes a day as each language does.
func pageDate(lang string, t time.Time) string {
	t = t.In(vietnam)
	switch lang {
	case "en":
		return t.Format("2 Jan 2006")
	case "zh":
		return t.Format("2006年1月2日")
	}
	return t.Format("02/01/2006")
}

// pageNumber writes a number as each language does: 1.234,5 in Vietnamese, 1,234.5 otherwise.
func pageNumber(lang string, v float64, digits int) string {
	s := strconv.FormatFloat(v, 'f', digits, 64)
	whole, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(whole, "-")
	whole = strings.TrimPrefix(whole, "-")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			if lang == "vi" {
				b.WriteByte('.')
			} else {
				b.WriteByte(',')
			}
		}
		b.WriteRune(r)
	}
	out := b.String()
	if frac != "" {
		if lang == "vi" {
			out += "," + frac
		} else {
			out += "." + frac
		}
	}
	if neg {
		out = "-" + out
	}
	return out
}

// hectares writes an area in each language's way: "32,29 ha", "32.29 ha", "32.29 公顷".
func hectares(lang string, ha float64) string {
	unit := " ha"
	if lang == "zh" {
		unit = " 公顷"
	}
	return pageNumber(lang, ha, 2) + unit
}

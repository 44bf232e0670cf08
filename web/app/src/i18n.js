// Text of the interface in Vietnamese (the default) and English, and formatting for Vietnam:
// numbers with "." for thousands and "," for decimals, hectares, dates in Asia/Ho_Chi_Minh.

const dict = {
  vi: {
    brand: 'Vùng Trồng',
    close: 'Đóng',
    'signIn.open': 'Đăng nhập',
    'signIn.title': 'Đăng nhập',
    'signIn.withPassword': 'Mật khẩu',
    'signIn.withCode': 'Mã một lần',
    'signIn.login': 'Tên đăng nhập hoặc số điện thoại',
    'signIn.password': 'Mật khẩu',
    'signIn.submit': 'Đăng nhập',
    'signIn.phone': 'Số điện thoại',
    'signIn.code': 'Mã gồm 6 chữ số',
    'signIn.sendCode': 'Gửi mã',
    'signIn.codeSent': 'Nếu số điện thoại này có tài khoản, mã đang được gửi tới.',
    'signIn.useCode': 'Đăng nhập bằng mã',
    'signOut': 'Đăng xuất',
    'password.title': 'Đổi mật khẩu',
    'password.why': 'Bạn đang dùng mật khẩu tạm thời. Hãy chọn mật khẩu mới để tiếp tục.',
    'password.current': 'Mật khẩu hiện tại',
    'password.new': 'Mật khẩu mới (ít nhất 8 ký tự)',
    'password.submit': 'Lưu mật khẩu',
    'role.admin': 'Quản trị',
    'role.officer': 'Cán bộ',
    'role.cooperative': 'Hợp tác xã',
    'role.exporter': 'Doanh nghiệp xuất khẩu',
    'role.farmer': 'Nông hộ',
    'jurisdiction.all': 'Toàn quốc',
    'error.unauthorized': 'Sai tên đăng nhập, số điện thoại hoặc mật khẩu.',
    'error.codeWrong': 'Mã không đúng hoặc đã hết hạn. Hãy yêu cầu mã mới.',
    'error.too_many_requests': 'Bạn đã thử quá nhiều lần. Hãy thử lại sau {minutes} phút.',
    'error.unavailable': 'Máy chủ chưa cấu hình gửi mã. Hãy đăng nhập bằng mật khẩu.',
    'error.network': 'Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.',
    'error.generic': 'Có lỗi xảy ra: {message}',
    'map.title': 'Bản đồ vùng trồng',
    'map.failed': 'Không tải được bản đồ: {message}',
    'map.noWebGL': 'Trình duyệt này không vẽ được bản đồ (cần WebGL).',
    'layers.toggle': 'Lớp bản đồ',
    'layers.title': 'Lớp bản đồ và chú giải',
    'layers.plots': 'Thửa đất',
    'layers.growingAreas': 'Vùng trồng',
    'layers.packingHouses': 'Cơ sở đóng gói',
    'layers.livestock': 'Cơ sở chăn nuôi',
    'layers.feedMills': 'Cơ sở thức ăn chăn nuôi',
    'layers.boundaries': 'Ranh giới hành chính',
    'legend.otherCrops': 'Cây khác',
    'legend.density': 'Mật độ thửa (khi thu nhỏ)',
    'legend.byStatus': 'Màu theo trạng thái mã số',
    'legend.area.active': 'Có mã đang hiệu lực',
    'legend.area.suspended': 'Mã bị tạm dừng',
    'legend.area.pending': 'Mã đang xét',
    'legend.area.none': 'Chưa có mã',
    'legend.province': 'Ranh giới tỉnh',
    'legend.commune': 'Ranh giới xã',
    'legend.bySize': 'Cỡ theo quy mô',
    'status.active': 'Đang hiệu lực',
    'status.suspended': 'Tạm dừng',
    'status.pending': 'Đang xét',
    'status.revoked': 'Đã thu hồi',
    'status.draft': 'Nháp',
    'market.CN': 'Trung Quốc',
    'market.US': 'Hoa Kỳ',
    'market.EU': 'Liên minh châu Âu',
    'market.VN': 'Trong nước',
    'market.JP': 'Nhật Bản',
    'market.KR': 'Hàn Quốc',
    'market.AU': 'Úc',
    'market.NZ': 'New Zealand',
    'market.TW': 'Đài Loan',
    'market.TH': 'Thái Lan',
    'scale.large': 'Trang trại quy mô lớn',
    'scale.medium': 'Trang trại quy mô vừa',
    'scale.small': 'Trang trại quy mô nhỏ',
    'scale.household': 'Chăn nuôi nông hộ',
    'species.pig': 'Lợn thịt',
    'species.sow': 'Lợn nái',
    'species.cattle': 'Bò thịt',
    'species.dairy_cattle': 'Bò sữa',
    'species.buffalo': 'Trâu',
    'species.goat': 'Dê',
    'species.sheep': 'Cừu',
    'species.horse': 'Ngựa',
    'species.chicken': 'Gà',
    'species.duck': 'Vịt',
    'species.quail': 'Chim cút',
    'species.rabbit': 'Thỏ',
    'details.loading': 'Đang tải…',
    'details.notFound': 'Không tìm thấy, hoặc bạn không có quyền xem.',
    'details.plot': 'Thửa đất số {id}',
    'details.growingArea': 'Vùng trồng',
    'details.packingHouse': 'Cơ sở đóng gói',
    'details.livestock': 'Cơ sở chăn nuôi',
    'details.feedMill': 'Cơ sở thức ăn chăn nuôi',
    'details.commune': 'Xã, phường',
    'details.crop': 'Cây trồng',
    'details.crops': 'Cây trồng',
    'details.variety': 'Giống',
    'details.area': 'Diện tích',
    'details.plantingYear': 'Năm trồng',
    'details.commune.name': 'Xã',
    'details.province': 'Tỉnh',
    'details.cadastral': 'Tờ bản đồ / thửa',
    'details.landCert': 'Giấy chứng nhận QSDĐ',
    'details.growingArea.name': 'Vùng trồng',
    'details.codes': 'Mã số',
    'details.noCodes': 'Chưa có mã số',
    'details.market': 'Thị trường: {market}',
    'details.validTo': 'đến {date}',
    'details.producer': 'Chủ thửa',
    'details.phone': 'Điện thoại',
    'details.plots': 'Số thửa',
    'details.households': 'Số hộ',
    'details.registrant': 'Đơn vị đăng ký',
    'details.lastInspected': 'Kiểm tra gần nhất',
    'details.packingHouses': 'Cơ sở đóng gói',
    'details.growingAreas': 'Vùng trồng cung cấp',
    'details.operator': 'Đơn vị vận hành',
    'details.scale': 'Quy mô',
    'details.species': 'Vật nuôi chính',
    'details.animalUnits': 'Số đơn vị vật nuôi',
    'details.animalUnitsValue': '{n} ĐVN',
    'details.capacity': 'Công suất',
    'details.capacityValue': '{n} tấn/năm',
    'details.code': 'Mã',
    'search.placeholder': 'Tìm mã số, vùng trồng, xã…',
    'search.label': 'Tìm kiếm',
    'search.none': 'Không tìm thấy kết quả.',
    'search.noBoundary': 'chưa có ranh giới',
    'search.type.code': 'Mã số',
    'search.type.growing_area': 'Vùng trồng',
    'search.type.commune': 'Xã',
    'search.type.province': 'Tỉnh',
    'myPlots.button': 'Thửa của tôi',
    'coords.label': 'Toạ độ con trỏ',
    'ctrl.zoomIn': 'Phóng to',
    'ctrl.zoomOut': 'Thu nhỏ',
    'ctrl.resetBearing': 'Xoay về hướng bắc',
    'ctrl.locate': 'Vị trí của tôi',
    'ctrl.noLocation': 'Không xác định được vị trí',
  },
  en: {
    brand: 'Vùng Trồng',
    close: 'Close',
    'signIn.open': 'Sign in',
    'signIn.title': 'Sign in',
    'signIn.withPassword': 'Password',
    'signIn.withCode': 'One-time code',
    'signIn.login': 'User name or phone number',
    'signIn.password': 'Password',
    'signIn.submit': 'Sign in',
    'signIn.phone': 'Phone number',
    'signIn.code': '6-digit code',
    'signIn.sendCode': 'Send code',
    'signIn.codeSent': 'If this phone number has an account, a code is on its way.',
    'signIn.useCode': 'Sign in with the code',
    'signOut': 'Sign out',
    'password.title': 'Change password',
    'password.why': 'You signed in with a one-time password. Choose a new one to go on.',
    'password.current': 'Current password',
    'password.new': 'New password (at least 8 characters)',
    'password.submit': 'Save password',
    'role.admin': 'Administrator',
    'role.officer': 'Officer',
    'role.cooperative': 'Cooperative',
    'role.exporter': 'Exporter',
    'role.farmer': 'Farmer',
    'jurisdiction.all': 'Nationwide',
    'error.unauthorized': 'Wrong user name, phone number or password.',
    'error.codeWrong': 'The code is wrong or has expired. Ask for a new one.',
    'error.too_many_requests': 'Too many attempts. Try again in {minutes} minutes.',
    'error.unavailable': 'This server does not send codes. Sign in with your password.',
    'error.network': 'Cannot reach the server. Check the connection and try again.',
    'error.generic': 'Something went wrong: {message}',
    'map.title': 'Map of growing areas',
    'map.failed': 'The map could not load: {message}',
    'map.noWebGL': 'This browser cannot draw the map (it needs WebGL).',
    'layers.toggle': 'Map layers',
    'layers.title': 'Map layers and legend',
    'layers.plots': 'Plots',
    'layers.growingAreas': 'Growing areas',
    'layers.packingHouses': 'Packing houses',
    'layers.livestock': 'Livestock farms',
    'layers.feedMills': 'Feed mills',
    'layers.boundaries': 'Boundaries',
    'legend.otherCrops': 'Other crops',
    'legend.density': 'Plot density (zoomed out)',
    'legend.byStatus': 'Colour by code status',
    'legend.area.active': 'Active code',
    'legend.area.suspended': 'Code suspended',
    'legend.area.pending': 'Code pending',
    'legend.area.none': 'No code',
    'legend.province': 'Province boundary',
    'legend.commune': 'Commune boundary',
    'legend.bySize': 'Size by scale',
    'status.active': 'Active',
    'status.suspended': 'Suspended',
    'status.pending': 'Pending',
    'status.revoked': 'Revoked',
    'status.draft': 'Draft',
    'market.CN': 'China',
    'market.US': 'United States',
    'market.EU': 'European Union',
    'market.VN': 'Domestic',
    'market.JP': 'Japan',
    'market.KR': 'South Korea',
    'market.AU': 'Australia',
    'market.NZ': 'New Zealand',
    'market.TW': 'Taiwan',
    'market.TH': 'Thailand',
    'scale.large': 'Large farm',
    'scale.medium': 'Medium farm',
    'scale.small': 'Small farm',
    'scale.household': 'Household',
    'species.pig': 'Pig (fattening)',
    'species.sow': 'Sow',
    'species.cattle': 'Beef cattle',
    'species.dairy_cattle': 'Dairy cattle',
    'species.buffalo': 'Buffalo',
    'species.goat': 'Goat',
    'species.sheep': 'Sheep',
    'species.horse': 'Horse',
    'species.chicken': 'Chicken',
    'species.duck': 'Duck',
    'species.quail': 'Quail',
    'species.rabbit': 'Rabbit',
    'details.loading': 'Loading…',
    'details.notFound': 'Not found, or you may not see it.',
    'details.plot': 'Plot {id}',
    'details.growingArea': 'Growing area',
    'details.packingHouse': 'Packing house',
    'details.livestock': 'Livestock farm',
    'details.feedMill': 'Feed mill',
    'details.commune': 'Commune',
    'details.crop': 'Crop',
    'details.crops': 'Crops',
    'details.variety': 'Variety',
    'details.area': 'Area',
    'details.plantingYear': 'Planted',
    'details.commune.name': 'Commune',
    'details.province': 'Province',
    'details.cadastral': 'Cadastral sheet / parcel',
    'details.landCert': 'Land-use certificate',
    'details.growingArea.name': 'Growing area',
    'details.codes': 'Codes',
    'details.noCodes': 'No code yet',
    'details.market': 'Market: {market}',
    'details.validTo': 'until {date}',
    'details.producer': 'Owner',
    'details.phone': 'Phone',
    'details.plots': 'Plots',
    'details.households': 'Households',
    'details.registrant': 'Registered by',
    'details.lastInspected': 'Last inspected',
    'details.packingHouses': 'Packing houses',
    'details.growingAreas': 'Supplying growing areas',
    'details.operator': 'Operator',
    'details.scale': 'Scale',
    'details.species': 'Main species',
    'details.animalUnits': 'Animal units',
    'details.animalUnitsValue': '{n} AU',
    'details.capacity': 'Capacity',
    'details.capacityValue': '{n} t/year',
    'details.code': 'Code',
    'search.placeholder': 'Search codes, growing areas, communes…',
    'search.label': 'Search',
    'search.none': 'Nothing found.',
    'search.noBoundary': 'no boundary loaded',
    'search.type.code': 'Code',
    'search.type.growing_area': 'Growing area',
    'search.type.commune': 'Commune',
    'search.type.province': 'Province',
    'myPlots.button': 'My plots',
    'coords.label': 'Cursor coordinates',
    'ctrl.zoomIn': 'Zoom in',
    'ctrl.zoomOut': 'Zoom out',
    'ctrl.resetBearing': 'Reset bearing to north',
    'ctrl.locate': 'Find my location',
    'ctrl.noLocation': 'Location not available',
  },
};

const listeners = new Set();
let lang = localStorage.getItem('vt.lang') === 'en' ? 'en' : 'vi';

/** The current language, "vi" or "en". */
export function currentLang() {
  return lang;
}

/** The text for key in the current language, with {placeholders} filled from vars. */
export function t(key, vars = {}) {
  const s = dict[lang][key] ?? dict.vi[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ''));
}

/** Switches the language, rewrites the page's marked text and tells every listener. */
export function setLang(next) {
  lang = next === 'en' ? 'en' : 'vi';
  localStorage.setItem('vt.lang', lang);
  applyTo(document);
  listeners.forEach((fn) => fn(lang));
}

/** Calls fn whenever the language changes. */
export function onLangChange(fn) {
  listeners.add(fn);
}

/** Fills elements marked data-i18n (text), data-i18n-label (aria-label) and data-i18n-placeholder. */
export function applyTo(root) {
  document.documentElement.lang = lang;
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-label]').forEach((el) => el.setAttribute('aria-label', t(el.dataset.i18nLabel)));
  root.querySelectorAll('[data-i18n-placeholder]').forEach((el) => el.setAttribute('placeholder', t(el.dataset.i18nPlaceholder)));
  root.querySelectorAll('[data-lang]').forEach((el) => el.setAttribute('aria-pressed', String(el.dataset.lang === lang)));
}

const locale = () => (lang === 'en' ? 'en-GB' : 'vi-VN');

/** A number as Vietnamese (1.234,5) or English (1,234.5) write it. */
export function formatNumber(n, digits = 0) {
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n);
}

/** An area in hectares: "1,23 ha"; small plots get more digits ("0,052 ha"). */
export function formatHectares(ha) {
  return `${formatNumber(ha, ha < 0.1 ? 3 : 2)} ha`;
}

/** A position as "12,71000° B, 108,31000° Đ" (Vietnamese) or "12.71000° N, 108.31000° E" (English). */
export function formatLatLon(lat, lon) {
  const [n, s, e, w] = lang === 'en' ? ['N', 'S', 'E', 'W'] : ['B', 'N', 'Đ', 'T'];
  return `${formatNumber(Math.abs(lat), 5)}° ${lat >= 0 ? n : s}, ${formatNumber(Math.abs(lon), 5)}° ${lon >= 0 ? e : w}`;
}

/** A date (and time) in Vietnam's time zone. */
export function formatDate(iso, withTime = false) {
  const opts = { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric' };
  if (withTime) Object.assign(opts, { hour: '2-digit', minute: '2-digit' });
  return new Intl.DateTimeFormat(locale(), opts).format(new Date(iso));
}

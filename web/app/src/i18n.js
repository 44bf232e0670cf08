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
    'welcome.title': 'Sổ đăng ký vùng trồng',
    'welcome.text': 'Thửa đất, vùng trồng, mã số vùng trồng và cơ sở đóng gói, chăn nuôi, thức ăn chăn nuôi.',
    'welcome.signedIn': 'Xin chào, {name}.',
    'stats.plots': 'thửa',
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
    'welcome.title': 'Growing-area registry',
    'welcome.text': 'Farm plots, growing areas and their codes, packing houses, livestock farms and feed mills.',
    'welcome.signedIn': 'Hello, {name}.',
    'stats.plots': 'plots',
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

/** Fills elements marked data-i18n (text) and data-i18n-label (aria-label). */
export function applyTo(root) {
  document.documentElement.lang = lang;
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-label]').forEach((el) => el.setAttribute('aria-label', t(el.dataset.i18nLabel)));
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

/** A date (and time) in Vietnam's time zone. */
export function formatDate(iso, withTime = false) {
  const opts = { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric' };
  if (withTime) Object.assign(opts, { hour: '2-digit', minute: '2-digit' });
  return new Intl.DateTimeFormat(locale(), opts).format(new Date(iso));
}

// Who is signed in: the header's user area, the sign-in dialog (password or one-time code),
// the forced password change and sign-out.
import { api, APIError, setCSRF } from './api.js';
import { t, onLangChange, applyTo } from './i18n.js';

const listeners = new Set();
let current = { signed_in: false };

/** The current session, as GET /api/v1/auth/session answers it. */
export function session() {
  return current;
}

/** Calls fn with the session whenever someone signs in or out. */
export function onSessionChange(fn) {
  listeners.add(fn);
}

function changed(next) {
  current = next;
  setCSRF(next.csrf_token);
  renderWho();
  listeners.forEach((fn) => fn(current));
  if (next.user?.must_change_password) openPasswordChange();
}

/** A line describing where the user acts: an officer's provinces or communes. */
export function jurisdictionText(user) {
  if (!user) return '';
  if (user.role === 'admin') return t('jurisdiction.all');
  const parts = (user.jurisdictions || []).map((j) => j.commune_name || j.province_name || j.commune_code || j.province_code);
  return parts.join(', ');
}

function renderWho() {
  const el = document.getElementById('who');
  el.replaceChildren();
  if (!current.signed_in) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'primary';
    b.id = 'open-signin';
    b.textContent = t('signIn.open');
    b.addEventListener('click', openSignIn);
    el.append(b);
    return;
  }
  const u = current.user;
  const chip = document.createElement('div');
  chip.className = 'user-chip';
  chip.id = 'user-chip';
  const name = document.createElement('strong');
  name.textContent = u.display_name;
  const role = document.createElement('span');
  role.className = 'role';
  role.textContent = t(`role.${u.role}`);
  chip.append(name, role);
  const where = jurisdictionText(u);
  if (where) {
    const j = document.createElement('span');
    j.className = 'jurisdiction';
    j.textContent = where;
    chip.append(j);
  }
  const out = document.createElement('button');
  out.type = 'button';
  out.id = 'sign-out';
  out.textContent = t('signOut');
  out.addEventListener('click', signOut);
  el.append(chip, out);
}

/** Reads the session from the server (the page may have been reloaded). */
export async function loadSession() {
  try {
    changed(await api('GET', '/api/v1/auth/session'));
  } catch {
    changed({ signed_in: false });
  }
}

async function signOut() {
  try {
    await api('POST', '/api/v1/auth/logout');
  } finally {
    changed({ signed_in: false });
  }
}

function showError(form, err) {
  const p = form.querySelector('.error');
  let text;
  if (!(err instanceof APIError)) text = t('error.network');
  else if (err.code === 'too_many_requests') text = t('error.too_many_requests', { minutes: Math.max(1, Math.ceil(err.retryAfter / 60)) });
  else if (err.code === 'unauthorized') text = form.id === 'code-form' ? t('error.codeWrong') : t('error.unauthorized');
  else if (err.code === 'unavailable') text = t('error.unavailable');
  else text = t('error.generic', { message: err.message });
  p.textContent = text;
  p.hidden = false;
}

function openSignIn() {
  const dlg = document.getElementById('signin');
  dlg.querySelectorAll('.error').forEach((p) => { p.hidden = true; });
  dlg.showModal();
  dlg.querySelector('input[name=login]').focus();
}

function openPasswordChange() {
  const dlg = document.getElementById('change-password');
  if (!dlg.open) dlg.showModal();
}

/** Wires the dialogs. Call once. */
export function initSession() {
  const dlg = document.getElementById('signin');
  const pwForm = document.getElementById('password-form');
  const codeForm = document.getElementById('code-form');
  dlg.querySelectorAll('[role=tab]').forEach((tab) => tab.addEventListener('click', () => {
    dlg.querySelectorAll('[role=tab]').forEach((x) => x.setAttribute('aria-selected', String(x === tab)));
    pwForm.hidden = tab.dataset.tab !== 'password';
    codeForm.hidden = tab.dataset.tab !== 'code';
  }));
  pwForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(pwForm);
    try {
      const s = await api('POST', '/api/v1/auth/login', { login: f.get('login'), password: f.get('password') });
      pwForm.reset();
      dlg.close();
      changed(s);
    } catch (err) {
      showError(pwForm, err);
    }
  });
  codeForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(codeForm);
    const codeField = codeForm.querySelector('.code-field');
    const button = codeForm.querySelector('button[type=submit]');
    try {
      if (codeField.hidden) {
        await api('POST', '/api/v1/auth/code', { phone: f.get('phone') });
        codeField.hidden = false;
        codeForm.querySelector('.hint').hidden = false;
        button.dataset.i18n = 'signIn.useCode';
        applyTo(codeForm);
        codeField.querySelector('input').focus();
        return;
      }
      const s = await api('POST', '/api/v1/auth/code/verify', { phone: f.get('phone'), code: f.get('code') });
      codeForm.reset();
      dlg.close();
      changed(s);
    } catch (err) {
      showError(codeForm, err);
    }
  });
  const pwChange = document.querySelector('#change-password form');
  pwChange.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(pwChange);
    try {
      await api('POST', '/api/v1/auth/password', { current_password: f.get('current'), new_password: f.get('next') });
      pwChange.reset();
      document.getElementById('change-password').close();
      await loadSession();
    } catch (err) {
      showError(pwChange, err);
    }
  });
  onLangChange(renderWho);
}

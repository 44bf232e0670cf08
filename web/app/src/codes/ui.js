// What the code-service screens share: building elements, showing an API error (and its
// per-field details beside the fields), status badges, dates and the screen itself: a page
// over the map with a back button, holding a stack of views (inbox -> application ->
// inspection), redrawn in place when the language changes.
import './text.js';
import { APIError } from '../api.js';
import { t, formatDate, formatNumber, onLangChange } from '../i18n.js';
import { statusColor, statusGroup, statusLabel } from '../lookups.js';

/** An element with properties (class, text, on<event>, attributes) and children. */
export const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return e;
};

/** A date "YYYY-MM-DD" (or a timestamp) as dd/mm/yyyy; with time when asked; '' for none. */
export const day = (v, withTime = false) => (v ? formatDate(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00+07:00` : v, withTime) : '');

/** Today in Vietnam as "YYYY-MM-DD". */
export function today() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());
}

/** A size in bytes, as people read it (KB, MB). */
export function fileSize(n) {
  if (n >= 1024 * 1024) return `${formatNumber(n / 1024 / 1024, 1)} MB`;
  if (n >= 1024) return `${formatNumber(n / 1024, 0)} KB`;
  return `${formatNumber(n)} B`;
}

/** The badge of an application's status. */
export function appBadge(status) {
  return el('span', { class: `badge app-status app-${status}`, 'data-status': status, text: t(`app.status.${status}`) });
}

/** The badge of a code's status (active, suspended, expired...), coloured as on the map. */
export function codeBadge(status) {
  const b = el('span', { class: `badge status-${statusGroup(status)}`, 'data-status': status, text: statusLabel(status) });
  b.style.backgroundColor = statusColor(status);
  return b;
}

/**
 * The message of an API error as a box; its details (field: message) listed. When form is
 * given, each detail whose field names one of its inputs is also shown beside that input.
 */
export function errorBox(err, form) {
  const box = el('div', { class: 'codes-error', role: 'alert' }, el('p', { class: 'error', text: err instanceof APIError || err?.message ? err.message : t('error.network') }));
  if (err instanceof APIError && err.details?.length) {
    const ul = el('ul', { class: 'error' });
    for (const d of err.details) {
      ul.append(el('li', { text: (d.field ? `${d.field}: ` : '') + d.message }));
      if (form) markField(form, d.field, d.message);
    }
    box.append(ul);
  }
  if (err instanceof APIError && err.body?.allowed?.length) {
    box.append(el('p', { class: 'muted', text: t('review.allowed', { list: err.body.allowed.map((s) => t(`app.status.${s}`)).join(', ') }) }));
  }
  return box;
}

/** Marks the field named name (or its first part, "standards[0].name" -> "standards") invalid. */
export function markField(form, name, message) {
  if (!name) return;
  const input = form.querySelector(`[name="${CSS.escape(name)}"]`) || form.querySelector(`[name="${CSS.escape(name.split(/[[.]/)[0])}"]`);
  const field = input?.closest('label, .field, fieldset');
  if (!field) return;
  field.classList.add('invalid');
  if (!field.querySelector('.field-error')) field.append(el('span', { class: 'field-error', text: message }));
}

/** Clears the marks markField left. */
export function clearMarks(form) {
  form.querySelectorAll('.invalid').forEach((f) => f.classList.remove('invalid'));
  form.querySelectorAll('.field-error').forEach((f) => f.remove());
}

/** A "label: value" row of a definition list; nothing when the value is empty. */
export function row(label, value, cls = '') {
  if (value === undefined || value === null || value === '' || (Array.isArray(value) && !value.length)) return null;
  return el('div', { class: `row ${cls}` }, el('span', { class: 'label', text: label }), el('span', { class: 'value' }, value));
}

/** A table with a header row (keys of text) and rows (arrays of cells). */
export function table(cls, heads, rows) {
  const tb = el('table', { class: `codes-table ${cls}` }, el('thead', {}, el('tr', {}, heads.map((h) => el('th', { text: h })))));
  const body = el('tbody');
  for (const r of rows) body.append(r instanceof HTMLElement ? r : el('tr', {}, r.map((c) => el('td', {}, c))));
  tb.append(body);
  return tb;
}

// --- The screen over the map ---

let screen = null;
let stack = [];
let onClose = null;
let drawSeq = 0;

function ensureScreen() {
  if (screen) return screen;
  screen = el('section', { id: 'codes-screen', class: 'codes-screen', hidden: true, 'aria-live': 'polite' },
    el('header', { class: 'codes-head' },
      el('button', { type: 'button', class: 'codes-back', onclick: () => back() }),
      el('h2', { class: 'codes-title' }),
      el('button', { type: 'button', class: 'icon codes-close', onclick: () => closeScreen() }, '×')),
    el('div', { class: 'codes-body' }));
  document.getElementById('main').append(screen);
  onLangChange(() => { if (!screen.hidden) redraw(); });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !screen.hidden && !document.querySelector('dialog[open]')) closeScreen();
  });
  return screen;
}

/**
 * Shows a view on the screen, above the ones shown before (replace: instead of the top one).
 * A view is { title(): string, render(): Promise<Node> }; it is rendered again on a language
 * switch and when the view above it closes.
 */
export function go(view, { replace = false } = {}) {
  ensureScreen();
  if (replace) stack.pop();
  stack.push(view);
  screen.hidden = false;
  document.body.classList.add('codes-open');
  return redraw();
}

/** Goes back to the view below (closing the screen after the first). */
export function back() {
  stack.pop();
  if (!stack.length) return closeScreen();
  return redraw();
}

/** Draws the top view again (after a change). */
export async function redraw() {
  const view = stack[stack.length - 1];
  if (!view) return;
  const mine = ++drawSeq;
  const body = screen.querySelector('.codes-body');
  const top = body.scrollTop;
  screen.querySelector('.codes-title').textContent = view.title();
  const b = screen.querySelector('.codes-back');
  b.textContent = `← ${t('codes.back')}`;
  b.hidden = stack.length < 2;
  screen.querySelector('.codes-close').setAttribute('aria-label', t('codes.close'));
  screen.dataset.view = view.name || '';
  if (!body.firstChild) body.append(el('p', { class: 'muted', text: t('codes.loading') }));
  let node;
  try {
    node = await view.render();
  } catch (err) {
    node = errorBox(err);
  }
  if (mine !== drawSeq) return;
  body.replaceChildren(node);
  body.scrollTop = view.keepScroll ? top : 0;
  view.keepScroll = false;
}

/** Closes the screen (the map again). */
export function closeScreen() {
  stack = [];
  if (!screen) return;
  screen.hidden = true;
  screen.querySelector('.codes-body').replaceChildren();
  document.body.classList.remove('codes-open');
  onClose?.();
}

/** Hides the screen without forgetting its views (to use the map), and shows it again. */
export function hideScreen(hidden) {
  if (!screen || !stack.length) return;
  screen.hidden = hidden;
  document.body.classList.toggle('codes-open', !hidden);
  if (!hidden) redraw();
}

/** Whether the screen is shown. */
export const screenOpen = () => !!screen && !screen.hidden;

/** Calls fn when the screen closes. */
export function onScreenClose(fn) {
  onClose = fn;
}

/** A labelled field: the label's text above its input. */
export function field(label, input, cls = '') {
  return el('label', { class: `field ${cls}` }, el('span', { text: label }), input);
}

/** A select of options [value, label], with an empty first choice unless blank is false. */
export function selectOf(name, options, value = '', blank = true) {
  const s = el('select', { name }, blank ? new Option('—', '') : null);
  for (const [v, label] of options) s.append(new Option(label, v));
  s.value = value;
  return s;
}

/** Whether the signed-in user is an officer or an administrator. */
export const officerRoles = ['officer', 'admin'];

// The search box (#search): codes, growing areas, communes and provinces by name, with or
// without diacritics. Results come from /api/v1/search as the user types (debounced, and an
// answer that arrives after a newer question is dropped); Enter picks the first result.
import { api } from './api.js';
import { t, onLangChange } from './i18n.js';
import { cropName, statusLabel } from './lookups.js';

const DELAY = 250;

let form;
let input;
let list;
let onPick;
let timer = 0;
let asked = 0; // number of the latest question
let shown = { q: '', results: null }; // what the list shows

// The server's detail line is a few codes joined by " · "; put crop and status codes into words.
function detailText(r) {
  if (!r.detail) return '';
  const statuses = ['active', 'suspended', 'submitted', 'inspected', 'revoked', 'draft'];
  return r.detail.split(' · ').map((part) => {
    if (statuses.includes(part)) return statusLabel(part);
    if (r.type === 'growing_area') return part.split(',').map((c) => cropName(c.trim())).join(', ');
    return part;
  }).join(' · ');
}

// Fills the list with the shown results; open says whether it shows (by default, as it was).
function render(open = !list.hidden) {
  const { results } = shown;
  list.replaceChildren();
  list.hidden = !open || results === null;
  if (results === null) return;
  if (!results.length) {
    list.append(Object.assign(document.createElement('li'), { className: 'none', textContent: t('search.none') }));
    return;
  }
  for (const r of results) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.type = r.type;
    b.disabled = !r.bbox;
    const type = Object.assign(document.createElement('span'), { className: 'type', textContent: t(`search.type.${r.type}`) });
    const label = Object.assign(document.createElement('span'), { className: 'label', textContent: r.label });
    const detail = Object.assign(document.createElement('span'), { className: 'detail', textContent: detailText(r) });
    b.append(type, label, detail);
    if (!r.bbox) b.append(Object.assign(document.createElement('span'), { className: 'hint', textContent: t('search.noBoundary') }));
    b.addEventListener('click', () => choose(r));
    li.append(b);
    list.append(li);
  }
}

async function ask(q) {
  const mine = ++asked;
  try {
    const answer = await api('GET', `/api/v1/search?q=${encodeURIComponent(q)}`);
    if (mine !== asked) return null;
    shown = { q, results: answer?.results || [] };
  } catch {
    if (mine !== asked) return null;
    shown = { q, results: [] };
  }
  render(true);
  return shown.results;
}

function choose(r) {
  if (!r?.bbox) return;
  list.hidden = true;
  input.blur(); // and a phone's keyboard goes away
  onPick(r);
}

/** Hides the result list (the query stays in the box). */
export function hideResults() {
  list.hidden = true;
}

/** Wires the search form; onPick(result) is called with the chosen result, which has a bbox. */
export function initSearch(el, pick) {
  form = el;
  onPick = pick;
  input = form.querySelector('input');
  list = form.querySelector('#search-results');
  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) {
      asked++;
      shown = { q: '', results: null };
      render();
      return;
    }
    timer = setTimeout(() => ask(q), DELAY);
  });
  input.addEventListener('focus', () => { if (shown.results && shown.q === input.value.trim()) list.hidden = false; });
  input.addEventListener('keydown', (e) => { if (e.key === 'Escape') hideResults(); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) return;
    const results = shown.q === q && shown.results ? shown.results : await ask(q);
    choose(results?.find((r) => r.bbox));
  });
  onLangChange(() => render());
}

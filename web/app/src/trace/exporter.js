// The traceability screens: an exporter checks many codes at once, builds a consignment from
// harvest lots, lists its consignments with their checks and downloads their EUDR package and
// EPCIS events; an officer reads the code-borrowing report of their province.
import './text.js';
import { api, APIError } from '../api.js';
import { t, applyTo, formatNumber, formatDate, onLangChange } from '../i18n.js';
import { cropName } from '../lookups.js';

const MARKETS = ['CN', 'US', 'EU', 'JP', 'KR', 'AU', 'NZ', 'TH', 'TW', 'VN'];
let dialog;
let role = '';
let jurisdiction = '';
let current = 'check';
let rerender = () => {};
// eudr prepares and downloads a consignment's EUDR package (setEUDR replaces it).
let eudr = eudrPackage;

const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
};

function marketSelect(name, value) {
  const s = el('select', { name });
  for (const m of MARKETS) s.append(new Option(t(`market.${m}`) === `market.${m}` ? m : `${t(`market.${m}`)} (${m})`, m));
  s.value = value || 'CN';
  return s;
}

function errorBox(err) {
  const p = el('p', { class: 'error', role: 'alert', text: err.message });
  if (err instanceof APIError && err.details?.length) {
    const ul = el('ul');
    for (const d of err.details) ul.append(el('li', { text: (d.field ? `${d.field}: ` : '') + d.message }));
    return el('div', {}, p, ul);
  }
  return p;
}

// kgOf reads a number the server wrote the Vietnamese way ("1.212.372") and writes it in the
// page's language.
const kgOf = (v) => (v ? formatNumber(Number(String(v).replaceAll('.', ''))) : '');
const dayOf = (v) => (v ? formatDate(v) : '');

/** The details of a flag in the page's language, from its numbers; the server's message otherwise. */
function flagDetail(f) {
  const a = f.args || {};
  const key = `flag.${f.rule}`;
  if (t(key) === key) return f.message;
  const status = a.status ? t(`trace.status.${a.status}`) : '';
  return t(key, {
    ...a, market: a.market, status: status.startsWith('trace.status.') ? a.status : status,
    since: a.since ? t('trace.since', { date: dayOf(a.since) }) : '', from: dayOf(a.from), to: dayOf(a.to),
    total: kgOf(a.total_kg), limit: kgOf(a.limit_kg), expected: kgOf(a.expected_kg),
    area_ha: a.area_ha ? formatNumber(Number(a.area_ha), 2) : '', cap: a.cap_t_ha ? formatNumber(Number(a.cap_t_ha), 1) : '',
  });
}

/** A flag in the page's language: the rule's name, and its numbers. */
function flagItem(f) {
  const name = t(`rule.${f.rule}`);
  return el('li', { class: 'flag' }, el('strong', { text: name === `rule.${f.rule}` ? f.rule : name }), ` — ${flagDetail(f)}`);
}

function flagList(flags) {
  const ul = el('ul', { class: 'flags' });
  flags.forEach((f) => ul.append(flagItem(f)));
  return ul;
}

// --- Check many codes at once ---

function checkTab() {
  const out = el('div', { class: 'trace-out' });
  const form = el('form', { class: 'stack trace-check' },
    el('label', {}, el('span', { text: t('trace.market') }), marketSelect('market', 'CN')),
    el('label', {}, el('span', { text: t('trace.codes') }), el('textarea', { name: 'codes', rows: 6, spellcheck: 'false', required: true, placeholder: 'VN-DLOR-0321\nVN-DLPH-0012' })),
    el('button', { class: 'primary', type: 'submit', text: t('trace.check') }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    out.replaceChildren();
    try {
      const r = await api('POST', '/api/v1/codes/check', { market: data.get('market'), text: data.get('codes') });
      const bad = r.lines.filter((l) => !l.pass).length;
      const market = `${t(`market.${r.market}`)} (${r.market})`;
      out.append(el('p', { class: `trace-summary ${bad ? 'bad' : 'ok'}`, role: 'status',
        text: bad ? t('trace.somefail', { bad: formatNumber(bad), n: formatNumber(r.lines.length), market }) : t('trace.allPass', { n: formatNumber(r.lines.length), market }) }));
      const table = el('table', { class: 'trace-table' }, el('tr', {}, el('th', { text: t('trace.line') }), el('th', { text: t('trace.code') }), el('th', { text: t('trace.result') })));
      for (const l of r.lines) {
        const result = l.pass ? el('span', { class: 'pass', text: `✓ ${t('trace.pass')}` }) : el('div', {}, el('span', { class: 'fail', text: `✗ ${t('trace.fail')}` }), flagList(l.flags));
        table.append(el('tr', { class: l.pass ? 'pass' : 'fail' }, el('td', { text: formatNumber(l.line) }), el('td', { text: l.code || l.input }), el('td', {}, result)));
      }
      out.append(table);
    } catch (err) {
      out.append(errorBox(err));
    }
  });
  return el('div', {}, form, out);
}

// --- The caller's consignments ---

async function listTab() {
  const box = el('div', { class: 'trace-list' });
  let r;
  try {
    r = await api('GET', '/api/v1/consignments');
  } catch (err) {
    box.append(errorBox(err));
    return box;
  }
  if (!r.consignments.length) {
    box.append(el('p', { class: 'muted', text: t('trace.none') }));
    return box;
  }
  const table = el('table', { class: 'trace-table' }, el('tr', {},
    ...['consignment', 'market', 'net', 'lots', 'checks', 'created'].map((k) => el('th', { text: t(`trace.col.${k}`) })), el('th')));
  for (const c of r.consignments) {
    const checks = c.flags.length
      ? el('details', {}, el('summary', { class: 'fail', text: t('trace.flags', { n: formatNumber(c.flags.length) }) }), flagList(c.flags))
      : el('span', { class: 'pass', text: `✓ ${t('trace.ok')}` });
    const actions = el('div', { class: 'trace-actions' },
      el('a', { href: `/t/${c.public_code}`, target: '_blank', rel: 'noopener', text: t('trace.open') }),
      el('a', { href: `/api/v1/consignments/${c.public_code}/epcis`, download: `${c.public_code}-epcis.jsonld`, text: t('trace.epcis') }));
    if (eudr) {
      const b = el('button', { type: 'button', class: 'link', text: t('trace.eudr') });
      b.addEventListener('click', () => eudr(c, b));
      actions.append(b);
    }
    table.append(el('tr', { 'data-code': c.public_code },
      el('td', {}, el('a', { href: `/t/${c.public_code}`, target: '_blank', rel: 'noopener', text: c.public_code })),
      el('td', { text: c.market }), el('td', { text: `${formatNumber(c.net_kg)} kg` }),
      el('td', { text: c.lots.map((l) => l.public_code).join(', ') }), el('td', {}, checks),
      el('td', { text: formatDate(c.created_at) }), el('td', {}, actions)));
  }
  box.append(table);
  return box;
}

// --- A new consignment, from harvest lots ---

function newTab() {
  const lotsOut = el('div', { class: 'trace-lots' });
  const out = el('div', { class: 'trace-out' });
  const house = el('select', { name: 'packing_house_id', required: true });
  const market = marketSelect('market', 'CN');
  let lots = [];
  const form = el('form', { class: 'stack trace-new' },
    el('label', {}, el('span', { text: t('trace.lots') }), el('textarea', { name: 'lots', rows: 4, spellcheck: 'false', required: true })),
    el('button', { type: 'button', class: 'load-lots', text: t('trace.loadLots'), onclick: () => readLots() }),
    lotsOut,
    el('label', {}, el('span', { text: t('trace.market') }), market),
    el('label', {}, el('span', { text: t('trace.house') }), house),
    el('label', {}, el('span', { text: t('trace.net') }), el('input', { name: 'net_kg', type: 'number', min: '1', step: 'any', required: true })),
    el('label', {}, el('span', { text: t('trace.container') }), el('input', { name: 'container_no', autocomplete: 'off' })),
    el('label', {}, el('span', { text: t('trace.declaration') }), el('input', { name: 'declaration_no', autocomplete: 'off' })),
    el('label', {}, el('span', { text: t('trace.destination') }), el('input', { name: 'destination' })),
    el('label', {}, el('span', { text: t('trace.shipped') }), el('input', { name: 'shipped_on', type: 'date' })),
    el('button', { class: 'primary', type: 'submit', text: t('trace.create') }));

  // Reads the pasted lots: each line a lot code and the kilograms it ships.
  async function readLots() {
    lotsOut.replaceChildren();
    lots = [];
    const lines = String(new FormData(form).get('lots') || '').split('\n').map((s) => s.trim()).filter(Boolean);
    const houses = new Map();
    const bad = [];
    for (const [i, line] of lines.entries()) {
      const [code, kg] = line.split(/[\s,;]+/);
      try {
        const lot = await api('GET', `/api/v1/lots/${encodeURIComponent(code)}`);
        const area = await api('GET', `/api/v1/growing-areas/${lot.growing_area_id}`);
        lots.push({ lot, kg: Number(kg) || lot.received_kg || lot.quantity_kg });
        for (const h of area.packing_houses || []) houses.set(h.id, h);
        lotsOut.append(el('p', { class: 'trace-lot', text: t('trace.lotLine', { code: lot.public_code, crop: cropName(lot.crop), area: area.name, areaCode: lot.code, market: lot.market,
          from: formatDate(lot.harvested_from), to: formatDate(lot.harvested_to), kg: formatNumber(Number(kg) || lot.quantity_kg) }) }));
      } catch (err) {
        bad.push(t('trace.lotBad', { line: i + 1, message: err.message }));
      }
    }
    bad.forEach((b) => lotsOut.append(el('p', { class: 'error', text: b })));
    if (lots.length) {
      market.value = lots[0].lot.market;
      form.elements.net_kg.value = String(lots.reduce((s, l) => s + l.kg, 0));
    }
    house.replaceChildren();
    for (const h of houses.values()) {
      const code = (h.codes || []).find((c) => c.market === market.value);
      house.append(new Option(code ? `${h.name} · ${code.code}` : h.name, h.id));
    }
    const received = lots.find((l) => l.lot.packing_house_id)?.lot.packing_house_id;
    if (received) house.value = String(received);
    if (!houses.size && lots.length) lotsOut.append(el('p', { class: 'error', text: t('trace.noHouse') }));
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    out.replaceChildren();
    if (!lots.length) await readLots();
    const data = new FormData(form);
    const body = {
      market: data.get('market'), packing_house_id: Number(data.get('packing_house_id')), net_kg: Number(data.get('net_kg')),
      container_no: data.get('container_no') || '', declaration_no: data.get('declaration_no') || '', destination: data.get('destination') || '',
      lots: lots.map((l) => ({ lot: l.lot.public_code, quantity_kg: l.kg })),
    };
    if (data.get('shipped_on')) body.shipped_on = data.get('shipped_on');
    try {
      const c = await api('POST', '/api/v1/consignments', body);
      out.append(el('p', { class: `trace-summary ${c.flags.length ? 'bad' : 'ok'}`, role: 'status' },
        t('trace.created', { code: c.public_code }), ' ', el('a', { href: `/t/${c.public_code}`, target: '_blank', rel: 'noopener', text: t('trace.open') })));
      if (c.flags.length) out.append(flagList(c.flags));
    } catch (err) {
      out.append(errorBox(err));
    }
  });
  return el('div', {}, form, out);
}

// --- The officer's report ---

function reportTab() {
  const out = el('div', { class: 'trace-out' });
  const rules = el('select', { name: 'rule' }, new Option(t('trace.report.allRules'), ''));
  for (const r of ['yield_cap', 'packing_house_not_linked', 'packing_house_code', 'code_not_active', 'seasonal_output', 'harvest_out_of_season', 'lot_over_shipped', 'deforestation_risk', 'plot_not_member', 'market_mismatch']) {
    rules.append(new Option(t(`rule.${r}`), r));
  }
  const form = el('form', { class: 'stack trace-report' },
    el('label', {}, el('span', { text: t('trace.report.rule') }), rules),
    el('button', { class: 'primary', type: 'submit', text: t('trace.report.show') }));
  const show = async () => {
    out.replaceChildren();
    const q = new URLSearchParams();
    if (jurisdiction) q.set('province', jurisdiction);
    if (rules.value) q.set('rule', rules.value);
    try {
      const r = await api('GET', `/api/v1/trace/report?${q}`);
      const section = (title, items, render) => {
        out.append(el('h3', { text: `${title} (${formatNumber(items.length)})` }));
        if (!items.length) out.append(el('p', { class: 'muted', text: t('trace.report.empty') }));
        items.forEach((it) => out.append(render(it)));
      };
      section(t('trace.report.lots'), r.lots, (l) => el('div', { class: 'trace-item' },
        el('a', { href: `/t/${l.public_code}`, target: '_blank', rel: 'noopener', text: l.public_code }), ` · ${l.code} · ${cropName(l.crop)} · ${formatNumber(l.quantity_kg)} kg`, flagList(l.flags)));
      section(t('trace.report.consignments'), r.consignments, (c) => el('div', { class: 'trace-item' },
        el('a', { href: `/t/${c.public_code}`, target: '_blank', rel: 'noopener', text: c.public_code }), ` · ${c.market} · ${formatNumber(c.net_kg)} kg`, flagList(c.flags)));
      section(t('trace.report.refused'), r.refused, (e) => el('div', { class: 'trace-item refused' },
        el('strong', { text: `${formatDate(e.at, true)} · ${e.actor}` }), el('p', { text: e.reason })));
    } catch (err) {
      out.append(errorBox(err));
    }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); show(); });
  show();
  return el('div', {}, form, out);
}

const TABS = {
  check: { roles: ['exporter', 'officer', 'admin'], render: checkTab },
  list: { roles: ['exporter', 'officer', 'admin'], render: listTab },
  new: { roles: ['exporter', 'admin'], render: newTab },
  report: { roles: ['officer', 'admin'], render: reportTab },
};

// render draws the panel on its tab. What the user typed in the tab's forms is kept across a
// redraw (the language switch), and a check already run is run again in the new language.
async function render() {
  const body = dialog.querySelector('.trace-body');
  const kept = new Map();
  const hadResult = Boolean(body.querySelector('.trace-check ~ .trace-out > *'));
  body.querySelectorAll('input[name], textarea[name], select[name]').forEach((f) => kept.set(f.name, f.value));
  const tabs = dialog.querySelector('.tabs');
  tabs.replaceChildren();
  for (const [name, tab] of Object.entries(TABS)) {
    if (!tab.roles.includes(role)) continue;
    tabs.append(el('button', { type: 'button', role: 'tab', 'data-tab': name, 'aria-selected': String(name === current), text: t(`trace.tab.${name}`),
      onclick: () => { current = name; render(); } }));
  }
  dialog.querySelector('h2').textContent = t('trace.title');
  body.replaceChildren(await TABS[current].render());
  body.querySelectorAll('input[name], textarea[name], select[name]').forEach((f) => {
    if (kept.has(f.name) && f.type !== 'file') f.value = kept.get(f.name);
  });
  if (hadResult) body.querySelector('.trace-check')?.requestSubmit();
}

/** Opens the traceability panel on a tab ("check", "list", "new", "report"). */
export function openTrace(tab) {
  if (tab && TABS[tab]?.roles.includes(role)) current = tab;
  if (!dialog.open) dialog.show();
  render();
}

/** Wires the panel and its button. Call once. */
export function initTrace(button) {
  dialog = el('dialog', { id: 'trace-dialog', class: 'card import trace' },
    el('form', { method: 'dialog', class: 'close-row' }, el('button', { class: 'icon', 'aria-label': 'close', 'data-i18n-label': 'close', text: '×' })),
    el('h2'), el('div', { class: 'tabs', role: 'tablist' }), el('div', { class: 'trace-body' }));
  document.body.append(dialog);
  button.addEventListener('click', () => openTrace());
  rerender = () => { if (dialog.open) render(); };
  onLangChange(() => {
    applyTo(dialog);
    button.querySelector('.tool-text').textContent = t(role === 'exporter' ? 'trace.button' : 'trace.reportButton');
    rerender();
  });
}

/** Shows the panel's button to exporters (their screens) and officers and admins (the report). */
export function updateTrace(button, s) {
  role = s?.signed_in ? s.user?.role || '' : '';
  jurisdiction = role === 'officer' && s.user?.jurisdictions?.length === 1 ? s.user.jurisdictions[0].province_code : '';
  const may = ['exporter', 'officer', 'admin'].includes(role);
  button.hidden = !may;
  if (!may) {
    if (dialog?.open) dialog.close();
    return;
  }
  current = role === 'exporter' ? 'check' : 'report';
  button.querySelector('.tool-text').textContent = t(role === 'exporter' ? 'trace.button' : 'trace.reportButton');
}

const SCREENING = { 'low risk': 'low', 'high risk': 'high', 'more information needed': 'more', 'not screened': 'none' };

/**
 * Prepares a consignment's EUDR package on the server (a job: any server may run it), shows its
 * progress on the button, then downloads the zip and says what it holds: plots, hectares,
 * withheld names and the deforestation screening outcome.
 */
async function eudrPackage(c, button) {
  const row = button.closest('td');
  row.querySelector('.eudr-result')?.remove();
  const out = el('div', { class: 'eudr-result', role: 'status' });
  row.append(out);
  button.disabled = true;
  const label = button.textContent;
  try {
    let job = await api('POST', '/api/v1/eudr/exports', { consignment: c.public_code });
    while (job.state === 'queued' || job.state === 'running') {
      const p = job.progress || {};
      const pct = p.total ? Math.floor((100 * p.plots) / p.total) : 0;
      button.textContent = t('trace.eudrPreparing', { pct: formatNumber(pct) });
      await new Promise((r) => setTimeout(r, 500));
      job = await api('GET', `/api/v1/eudr/exports/${job.id}`);
    }
    if (job.state !== 'done') throw new Error(job.error?.message || job.state);
    const s = job.summary;
    const risk = SCREENING[s.screening?.outcome] || 'none';
    out.append(
      el('p', { class: 'pass', text: t('trace.eudrReady') }),
      el('p', { text: t('trace.eudrSummary', { plots: formatNumber(s.plots), ha: formatNumber(s.hectares, 2), producers: formatNumber(s.producers) }) }),
      el('p', { class: `risk risk-${risk}`, text: t(`trace.screening.${risk}`) }));
    if (s.withheld_names) out.append(el('p', { class: 'muted', text: t('trace.eudrWithheld', { n: formatNumber(s.withheld_names) }) }));
    const a = el('a', { href: `/api/v1/eudr/exports/${job.id}/file`, download: job.file?.name || `${c.public_code}-eudr.zip`, text: job.file?.name || t('trace.eudr') });
    out.append(a);
    a.click();
  } catch (err) {
    out.append(errorBox(err));
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

/** Gives the consignments' list a way to prepare and download a consignment's EUDR package. */
export function setEUDR(fn) {
  eudr = fn;
  rerender();
}

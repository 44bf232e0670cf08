// The details panel (#details): what the registry says about the clicked plot, growing area,
// packing house, livestock farm, feed mill or commune. A side panel on wide screens and a bottom
// sheet on phones; it re-renders in place when the language changes.
import { api, APIError } from './api.js';
import { t, formatHectares, formatNumber, formatDate, onLangChange } from './i18n.js';
import { notMine } from './myplots.js';
import { loadCrops, cropName, statusGroup, statusLabel, statusColor, marketName, speciesName, screeningRiskColors } from './lookups.js';

const KIND_LABEL = {
  growing_area: 'details.growingArea', packing_house: 'details.packingHouse', livestock: 'details.livestock',
  feed_mill: 'details.feedMill', commune: 'details.commune',
};

let panel;
let handlers = {};
let current = null; // {kind, id, props, data, producer, error}
let seq = 0;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

// One "label: value" line; nothing when the value is empty.
function row(cls, labelKey, value) {
  if (value === undefined || value === null || value === '') return null;
  const r = el('div', `row ${cls}`);
  const v = el('span', 'value');
  v.append(value);
  r.append(el('span', 'label', t(labelKey)), v);
  return r;
}

function link(kind, id, text) {
  const b = el('button', 'link', text);
  b.type = 'button';
  b.addEventListener('click', () => handlers.onLink?.(kind, id));
  return b;
}

function badge(status) {
  const b = el('span', `badge status-${statusGroup(status)}`, statusLabel(status));
  b.style.backgroundColor = statusColor(status);
  return b;
}

function codeList(codes) {
  const section = el('section', 'codes');
  section.append(el('h3', null, t('details.codes')));
  if (!codes?.length) {
    section.append(el('p', 'muted no-codes', t('details.noCodes')));
    return section;
  }
  const ul = el('ul');
  for (const c of codes) {
    const li = el('li', 'code');
    li.dataset.code = c.code;
    const head = el('div', 'code-head');
    head.append(el('span', 'code-id', c.code), badge(c.status));
    li.append(head, el('div', 'market muted', t('details.market', { market: marketName(c.market) })));
    if (c.valid_to) li.append(el('div', 'valid muted', t('details.validTo', { date: formatDate(c.valid_to) })));
    const extra = handlers.codeExtras?.(c.code);
    if (extra) li.append(extra);
    ul.append(li);
  }
  section.append(ul);
  return section;
}

function listOf(titleKey, cls, items) {
  if (!items?.length) return null;
  const section = el('section', `${cls}-list`);
  section.append(el('h3', null, t(titleKey)));
  const ul = el('ul');
  for (const it of items) {
    const li = el('li', cls);
    li.append(it);
    ul.append(li);
  }
  section.append(ul);
  return section;
}

function plotBody(f, producer) {
  const p = f.properties;
  const cadastral = [p.cadastral_sheet, p.cadastral_parcel].filter((x) => x !== undefined && x !== null && x !== '').join(' / ');
  const area = p.growing_area;
  return {
    kicker: t('details.plot', { id: f.id ?? current.id }),
    title: cropName(p.crop),
    rows: [
      row('crop', 'details.crop', cropName(p.crop)),
      row('variety', 'details.variety', p.variety),
      row('area', 'details.area', p.area_ha != null ? formatHectares(p.area_ha) : null),
      row('planting-year', 'details.plantingYear', p.planting_year),
      row('commune', 'details.commune.name', p.commune_name),
      row('province', 'details.province', p.province_name),
      row('cadastral', 'details.cadastral', cadastral),
      row('land-cert', 'details.landCert', p.land_cert_no),
      row('producer', 'details.producer', producer?.name),
      row('phone', 'details.phone', producer?.phone),
      area ? row('growing-area', 'details.growingArea.name', link('growing_area', area.id, area.name)) : null,
      area ? codeList(area.codes) : null,
      screeningSection(p.screening),
      handlers.plotExtras?.(f, producer) || null,
    ],
  };
}

// "12,5 ha (40,0 %)", or "no map covers it".
function haPct(ha, pct) {
  if (ha === undefined || ha === null) return t('screening.noData');
  return `${formatHectares(ha)} (${formatNumber(pct ?? 0, 1)} %)`;
}

// The plot's deforestation screening (EUDR): its risk, why, the figures and the maps used.
function screeningSection(sc) {
  if (!sc) return null;
  const section = el('section', 'screening');
  section.dataset.risk = sc.risk;
  section.append(el('h3', null, t('screening.title')));
  const b = el('span', `badge risk-${sc.risk}`, t(`screening.risk.${sc.risk}`));
  b.style.backgroundColor = screeningRiskColors()[sc.risk] || '#607d8b';
  const head = el('div', 'code-head');
  head.append(b);
  section.append(head, el('p', 'muted reason', t(`screening.reason.${sc.reason}`)));
  const loss = haPct(sc.loss_after_2020_ha, sc.loss_after_2020_pct);
  const years = sc.loss_years?.length ? ` — ${sc.loss_years.join(', ')}` : '';
  section.append(...[
    row('forest-2020', 'screening.forest2020', haPct(sc.forest_2020_ha, sc.forest_2020_pct)),
    row('loss-after-2020', 'screening.lossAfter2020', loss + years),
    sc.commodity_2020 ? row('commodity-2020', 'screening.commodity2020', t('screening.yes')) : null,
    row('datasets', 'screening.datasets', (sc.datasets || []).map((d) => `${d.name} (${formatDate(d.date)})`).join('; ') || t('screening.noData')),
    row('screened-at', 'screening.screenedAt', formatDate(sc.screened_at, true) + (sc.current ? '' : ` — ${t('screening.stale')}`)),
  ].filter(Boolean));
  if (sc.risk !== 'low') section.append(el('p', 'muted note', t('screening.personDecides')));
  return section;
}

function growingAreaBody(g) {
  return {
    kicker: t('details.growingArea'),
    title: g.name,
    rows: [
      row('crops', 'details.crops', (g.crops || []).map(cropName).join(', ')),
      row('area', 'details.area', g.area_ha != null ? formatHectares(g.area_ha) : null),
      row('plots', 'details.plots', g.plots != null ? formatNumber(g.plots) : null),
      row('households', 'details.households', g.households != null ? formatNumber(g.households) : null),
      row('registrant', 'details.registrant', g.registrant),
      row('commune', 'details.commune.name', g.commune_name),
      row('province', 'details.province', g.province_name),
      row('last-inspected', 'details.lastInspected', g.last_inspected ? formatDate(g.last_inspected) : null),
      codeList(g.codes),
      listOf('details.packingHouses', 'packing-house', (g.packing_houses || []).map((ph) => {
        const box = el('div', 'item');
        box.append(link('packing_house', ph.id, ph.name));
        for (const c of ph.codes || []) {
          const line = el('div', 'code small');
          line.append(el('span', 'code-id', c.code), badge(c.status));
          box.append(line);
        }
        return box;
      })),
    ],
  };
}

function packingHouseBody(h) {
  return {
    kicker: t('details.packingHouse'),
    title: h.name,
    rows: [
      row('operator', 'details.operator', h.operator),
      row('commune', 'details.commune.name', h.commune_name),
      row('province', 'details.province', h.province_name),
      handlers.houseExtras?.(h.id) || null,
      codeList(h.codes),
      listOf('details.growingAreas', 'growing-area', (h.growing_areas || []).map((g) => link('growing_area', g.id, g.name))),
    ],
  };
}

function livestockBody(p) {
  return {
    kicker: t('details.livestock'),
    title: p.scale ? t(`scale.${p.scale}`) : t('details.livestock'),
    rows: [
      row('scale', 'details.scale', p.scale ? t(`scale.${p.scale}`) : null),
      row('species', 'details.species', p.species ? speciesName(p.species) : null),
      row('animal-units', 'details.animalUnits', p.animal_units != null ? t('details.animalUnitsValue', { n: formatNumber(p.animal_units) }) : null),
    ],
  };
}

function feedMillBody(p) {
  return {
    kicker: t('details.feedMill'),
    title: p.name || t('details.feedMill'),
    rows: [
      row('capacity', 'details.capacity', p.capacity_tpy != null ? t('details.capacityValue', { n: formatNumber(p.capacity_tpy) }) : null),
    ],
  };
}

function communeBody(p) {
  return { kicker: t('details.commune'), title: p.name, rows: [row('commune-code', 'details.code', p.code)] };
}

const BODIES = {
  plot: (c) => plotBody(c.data, c.producer),
  growing_area: (c) => growingAreaBody(c.data),
  packing_house: (c) => packingHouseBody(c.data),
  livestock: (c) => livestockBody(c.data),
  feed_mill: (c) => feedMillBody(c.data),
  commune: (c) => communeBody(c.data),
};

function render() {
  if (!current) return;
  const title = panel.querySelector('.title');
  const kicker = panel.querySelector('.kicker');
  const body = panel.querySelector('.details-body');
  panel.querySelector('.close').setAttribute('aria-label', t('close'));
  panel.dataset.kind = current.kind;
  if (current.error || !current.data) {
    kicker.textContent = current.kind === 'plot' ? t('details.plot', { id: current.id }) : t(KIND_LABEL[current.kind]);
    title.textContent = '';
    body.replaceChildren(el('p', current.error ? 'error' : 'muted', current.error ? errorText(current.error) : t('details.loading')));
    return;
  }
  const b = BODIES[current.kind](current);
  kicker.textContent = b.kicker;
  title.textContent = b.title || '';
  body.replaceChildren(...b.rows.filter(Boolean));
}

function errorText(err) {
  if (err instanceof APIError && (err.status === 404 || err.status === 403)) return t('details.notFound');
  if (err instanceof APIError) return t('error.generic', { message: err.message });
  return t('error.network');
}

async function fetchData(kind, id, props) {
  // A farmer reads only their own plots through the API: of another's, the map's tile says what
  // the public may know.
  if (kind === 'plot' && notMine(id)) return { type: 'Feature', id: Number(id), properties: { ...props } };
  if (kind === 'plot') return api('GET', `/api/v1/plots/${encodeURIComponent(id)}`);
  if (kind === 'growing_area') return api('GET', `/api/v1/growing-areas/${encodeURIComponent(id)}`);
  if (kind === 'packing_house') return api('GET', `/api/v1/packing-houses/${encodeURIComponent(id)}`);
  return props; // livestock, feed mills and communes: the tile says all there is
}

/**
 * Opens the panel on one thing: kind is plot, growing_area, packing_house, livestock, feed_mill
 * or commune; id its id; props the tile feature's properties; data, when the caller already has
 * the API's answer, saves a request. Resolves with the data shown (null when it failed or a
 * newer selection replaced it).
 */
export async function showDetails(kind, { id, props = {}, data } = {}) {
  const mine = ++seq;
  current = { kind, id, data: null };
  panel.hidden = false;
  panel.scrollTop = 0;
  render();
  try {
    const [answer] = await Promise.all([data ?? fetchData(kind, id, props), loadCrops()]);
    if (mine !== seq) return null;
    current = { kind, id, data: answer };
    render();
    const producerId = kind === 'plot' ? answer?.properties?.producer_id : null;
    if (producerId != null) {
      api('GET', `/api/v1/producers/${producerId}`).then((producer) => {
        if (mine !== seq) return;
        current.producer = producer;
        render();
      }).catch(() => {}); // the plot is shown either way; the owner is a bonus
    }
    return answer;
  } catch (err) {
    if (mine !== seq) return null;
    current = { kind, id, data: null, error: err };
    render();
    return null;
  }
}

/** Re-renders the open panel (after the session changed: what the user may do changed too). */
export function refreshDetails() {
  render();
}

/** Closes the panel and tells onClose. */
export function closeDetails() {
  if (panel.hidden) return;
  seq++;
  current = null;
  panel.hidden = true;
  handlers.onClose?.();
}

/**
 * Wires the panel element: onLink(kind, id) follows a link inside it, onClose hears it close,
 * plotExtras(feature, producer) adds a section to a plot's details (the editor's actions),
 * codeExtras(code) a line under a code (the officer's way to it), houseExtras(id) a line to a
 * packing house's page.
 */
export function initPanel(el, { onLink, onClose, plotExtras, codeExtras, houseExtras } = {}) {
  panel = el;
  handlers = { onLink, onClose, plotExtras, codeExtras, houseExtras };
  panel.querySelector('.close').addEventListener('click', closeDetails);
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !document.querySelector('dialog[open]')) closeDetails(); });
  onLangChange(render);
}

// Seasonal reports (Phụ lục 2) of a growing area: each season the registrant files the crop,
// variety, area, standard applied, market, expected output and harvest window; after the
// harvest, the actual output. The officer reads them (and the inbox lists the missing ones).
import './text.js';
import { api } from '../api.js';
import { t, formatHectares, formatNumber } from '../i18n.js';
import { cropName, marketName } from '../lookups.js';
import { el, errorBox, clearMarks, field, selectOf, table, day, today, redraw } from './ui.js';
import { parseNum, numText, MARKETS } from './application.js';

const STANDARDS = ['VietGAP', 'GlobalGAP', 'organic', ''];

const standardName = (s) => (s === 'organic' ? t('insp.gap.organic') : s || t('season.standard.none'));

/** The seasonal reports of growing area id; due ({code, market, season}) preselects the form. */
export function seasonalView(id, { due: wanted } = {}) {
  let message = null;
  let due = wanted;
  return {
    name: 'seasonal',
    title: () => t('season.title'),
    render: async () => {
      const [area, list] = await Promise.all([
        api('GET', `/api/v1/growing-areas/${id}`),
        api('GET', `/api/v1/growing-areas/${id}/seasonal-reports`),
      ]);
      const reports = (list.reports || []).slice().sort((a, b) => String(b.season).localeCompare(String(a.season)) || b.id - a.id);
      const page = el('div', { class: 'codes-page seasonal', 'data-area': String(id) });
      page.append(el('div', { class: 'app-head' },
        el('div', { class: 'app-head-line' }, el('strong', { class: 'app-area', text: area.name })),
        el('p', { class: 'muted', text: [(area.crops || []).map(cropName).join(', '), formatHectares(area.area_ha), t('codes.households', { n: formatNumber(area.households) })].join(' · ') })));
      if (message) {
        page.append(el('p', { class: 'ok', role: 'status', text: message }));
        message = null;
      }
      if (due) page.append(el('p', { class: 'notice due', text: t('season.due', { season: due.season, code: due.code, market: marketName(due.market) }) }));

      page.append(el('h3', { text: t('season.filed') }));
      if (!reports.length) page.append(el('p', { class: 'muted', text: t('season.none') }));
      else page.append(table('reports', [t('season.col.season'), t('season.col.crop'), t('season.col.area'), t('season.col.market'), t('season.col.expected'), t('season.col.harvest'), t('season.col.actual')], reports.map((r) => reportRow(r, (text) => { message = text; redraw(); }))));

      page.append(newReportForm(id, area, due, (text) => { message = text; due = null; redraw(); }));
      return page;
    },
  };
}

function reportRow(r, done) {
  const actual = el('td', { class: 'actual' });
  if (r.actual_output_t != null) actual.append(el('span', { class: 'value', text: t('codes.tonnes', { n: formatNumber(r.actual_output_t, 1) }) }));
  else {
    const out = el('div', { class: 'form-message' });
    const f = el('form', { class: 'actual-form', novalidate: true },
      el('label', { class: 'field' }, el('span', { class: 'sr-only', text: t('season.actual') }),
        el('input', { name: 'actual_output_t', inputmode: 'decimal', autocomplete: 'off', placeholder: t('season.actual') })),
      el('button', { type: 'submit', class: 'save-actual', text: t('season.saveActual') }), out);
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearMarks(f);
      out.replaceChildren();
      const n = parseNum(f.elements.actual_output_t.value);
      const button = f.querySelector('button');
      button.disabled = true;
      try {
        await api('PATCH', `/api/v1/seasonal-reports/${r.id}`, { actual_output_t: n === undefined || Number.isNaN(n) ? f.elements.actual_output_t.value : n });
        done(t('season.actualOk', { n: formatNumber(n, 1) }));
      } catch (err) {
        out.append(errorBox(err, f));
        button.disabled = false;
      }
    });
    actual.append(f);
  }
  const harvest = [day(r.expected_harvest_from), day(r.expected_harvest_to)].filter(Boolean).join(' – ');
  return el('tr', { class: 'report-row', 'data-id': String(r.id), 'data-season': r.season },
    el('td', { text: r.season }),
    el('td', { text: [cropName(r.crop), r.variety].filter(Boolean).join(' ') + (r.standard ? ` · ${standardName(r.standard)}` : '') }),
    el('td', { class: 'num', text: r.area_ha != null ? formatHectares(r.area_ha) : '' }),
    el('td', { text: r.market ? marketName(r.market) : '' }),
    el('td', { class: 'num', text: r.expected_output_t != null ? t('codes.tonnes', { n: formatNumber(r.expected_output_t, 1) }) : '' }),
    el('td', { text: harvest }),
    actual);
}

function newReportForm(id, area, due, done) {
  const crops = area.crops || [];
  const exportMarkets = [...new Set((area.codes || []).filter((c) => ['active', 'suspended'].includes(c.status)).map((c) => c.market))];
  const markets = [...new Set([...exportMarkets, ...MARKETS])];
  const out = el('div', { class: 'form-message' });
  const form = el('form', { class: 'stack report-form', novalidate: true },
    el('h3', { text: t('season.new') }),
    el('div', { class: 'pair' },
      field(t('season.season'), el('input', { name: 'season', inputmode: 'numeric', autocomplete: 'off', value: due?.season || today().slice(0, 4) })),
      field(t('season.market'), selectOf('market', markets.map((m) => [m, marketName(m)]), due?.market || exportMarkets[0] || 'VN', false))),
    el('div', { class: 'pair' },
      field(t('season.crop'), selectOf('crop', crops.map((c) => [c, cropName(c)]), crops[0] || '', crops.length !== 1)),
      field(t('season.variety'), el('input', { name: 'variety', autocomplete: 'off' }))),
    el('div', { class: 'pair' },
      field(t('season.area'), el('input', { name: 'area_ha', inputmode: 'decimal', autocomplete: 'off', value: numText(Math.round(area.area_ha * 100) / 100) })),
      field(t('season.standard'), selectOf('standard', STANDARDS.map((s) => [s, standardName(s)]), 'VietGAP', false))),
    field(t('season.expected'), el('input', { name: 'expected_output_t', inputmode: 'decimal', autocomplete: 'off' })),
    el('div', { class: 'pair' },
      field(t('season.harvestFrom'), el('input', { name: 'expected_harvest_from', type: 'date' })),
      field(t('season.harvestTo'), el('input', { name: 'expected_harvest_to', type: 'date' }))),
    out,
    el('div', { class: 'codes-actions' }, el('button', { type: 'submit', class: 'primary file-report', text: t('season.file') })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearMarks(form);
    out.replaceChildren();
    const f = form.elements;
    const body = { season: f.season.value.trim(), crop: f.crop.value, market: f.market.value, standard: f.standard.value };
    if (f.variety.value.trim()) body.variety = f.variety.value.trim();
    for (const k of ['area_ha', 'expected_output_t']) {
      const n = parseNum(f[k].value);
      if (n !== undefined) body[k] = Number.isNaN(n) ? f[k].value : n;
    }
    for (const k of ['expected_harvest_from', 'expected_harvest_to']) if (f[k].value) body[k] = f[k].value;
    const button = form.querySelector('.file-report');
    button.disabled = true;
    try {
      await api('POST', `/api/v1/growing-areas/${id}/seasonal-reports`, body);
      done(t('season.filedOk', { season: body.season }));
    } catch (err) {
      out.append(errorBox(err, form));
      button.disabled = false;
    }
  });
  return form;
}

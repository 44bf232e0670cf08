// One application, for whoever may see it: the registrant edits it while it is a draft or
// returned (application.js); the officer of its province reads Form 01, the attachments, the
// dossier generated from the registry (KML, household list, print page), the plots, the
// inspections with their photos and the history, and acts on it by its state: start the
// review, return it with a note, schedule the inspection, record it (inspection.js), approve
// with the decision's number or reject with reasons. An approved one shows its code, status,
// validity and the decision's print page.
import './text.js';
import { api } from '../api.js';
import { t, formatHectares, formatNumber, formatLatLon } from '../i18n.js';
import { cropName, marketName } from '../lookups.js';
import { session } from '../session.js';
import { el, errorBox, row, appBadge, codeBadge, day, today, go, redraw, closeScreen } from './ui.js';
import { editableApplication, attachmentsBox } from './application.js';
import { inspectionView } from './inspection.js';
import { codeView } from './codeview.js';
import { marketStepsBox } from './marketsteps.js';

let hooks = {};

/** Where a growing area is shown on the map: hooks.showArea(id). */
export function setReviewHooks(h) {
  hooks = h;
}

// The decision's answer, kept for the code's validity until the lookup has it.
const issued = new Map();

const officerRoles = ['officer', 'admin'];
const isOfficer = () => officerRoles.includes(session()?.user?.role);

/** The view of application id; message is said once at its top. */
export function applicationView(id, { message } = {}) {
  let said = false;
  return {
    name: 'application',
    title: () => t('app.title', { id }),
    render: async () => {
      const r = await api('GET', `/api/v1/applications/${id}`);
      const msg = said ? null : message;
      said = true;
      const a = r.application;
      const head = summaryHead(a);
      if (!isOfficer() && ['draft', 'returned'].includes(a.status) && (r.allowed || []).includes('submitted')) {
        return el('div', { class: 'codes-page' }, head, editableApplication(r, { message: msg }));
      }
      const page = el('div', { class: 'codes-page review', 'data-status': a.status });
      page.append(head);
      if (msg) page.append(el('p', { class: 'ok', role: 'status', text: msg }));
      if (a.code) page.append(await codeBox(a));
      const actions = actionsBox(r);
      if (actions) page.append(actions);
      page.append(...[formSection(a), attachmentsBox(a, r.attachments, false), dossierBox(a), await plotsBox(a), inspectionsBox(r.inspections || []), eventsBox(r.events || [])].filter(Boolean));
      return page;
    },
  };
}

function summaryHead(a) {
  const where = a.growing_area?.name || a.packing_house?.name || '';
  return el('div', { class: 'app-head' },
    el('div', { class: 'app-head-line' }, el('strong', { class: 'app-area', text: where }), appBadge(a.status)),
    el('p', { class: 'muted', text: [marketName(a.market), a.area_ha != null ? formatHectares(a.area_ha) : '', a.household_count != null ? t('codes.households', { n: formatNumber(a.household_count) }) : '', a.submitted_at ? `${t('org.col.submitted')} ${day(a.submitted_at)}` : ''].filter(Boolean).join(' · ') }),
    a.status === 'returned' && a.return_note ? el('p', { class: 'notice return-note', text: t('review.returnNoteShown', { note: a.return_note }) }) : null,
    a.status === 'rejected' && a.rejection_reasons?.length ? el('p', { class: 'notice rejection', text: t('review.rejectionShown', { reasons: a.rejection_reasons.join('; ') }) }) : null,
    a.status === 'inspection_scheduled' && a.inspection_on ? el('p', { class: 'notice scheduled', text: t('review.scheduled', { on: day(a.inspection_on), who: (a.inspectors || []).join(', ') }) }) : null);
}

// The code issued by the approval: its status, validity, decision, print page and map.
async function codeBox(a) {
  let c = issued.get(a.code) || { code: a.code };
  try {
    const r = await api('GET', `/api/v1/codes/${encodeURIComponent(a.code)}`);
    if (r.code?.status) c = r.code;
  } catch {
    // The decision's own answer (or the bare code) stands in.
  }
  const box = el('section', { class: 'issued-code', 'data-code': c.code, 'data-status': c.status || '' },
    el('h3', { text: t('review.codeIssued') }),
    el('div', { class: 'code-head' }, el('span', { class: 'code-id', text: c.code }), c.status ? codeBadge(c.status) : null),
    el('p', { class: 'market', text: marketName(c.market || a.market) }));
  if (c.valid_from || c.valid_to) box.append(el('p', { class: 'validity', text: t('review.validity', { from: day(c.valid_from), to: day(c.valid_to) }) }));
  const doc = c.approving_document || c.document;
  const auth = c.approving_authority || c.authority;
  if (doc) box.append(el('p', { class: 'muted decision', text: [doc, auth].filter(Boolean).join(' · ') }));
  const links = el('div', { class: 'code-links' },
    el('a', { class: 'print-link', href: `/print/codes/${encodeURIComponent(c.code)}`, target: '_blank', rel: 'noopener', text: t('review.print') }),
    el('a', { class: 'public-link', href: `/v/${encodeURIComponent(c.code)}`, target: '_blank', rel: 'noopener', text: t('review.publicLookup') }));
  if (a.growing_area?.id && hooks.showArea) {
    links.append(el('button', { type: 'button', class: 'link show-on-map', text: t('review.showOnMap'), onclick: () => { closeScreen(); hooks.showArea(a.growing_area.id); } }));
  }
  if (isOfficer() && ['active', 'suspended'].includes(c.status)) {
    links.append(el('button', { type: 'button', class: 'link open-code', text: t('code.open'), onclick: () => go(codeView(c.code)) }));
  }
  box.append(links);
  // An export market's two steps: proposed, then confirmed by the importing country.
  if ((c.market || a.market) !== 'VN') box.append(await marketStepsBox(c.code, { editable: isOfficer() && ['active', 'suspended'].includes(c.status) }));
  return box;
}

// The officer's (or registrant's) actions allowed now.
function actionsBox(r) {
  const a = r.application;
  const allowed = r.allowed || [];
  const box = el('section', { class: 'review-actions' }, el('h3', { text: t('review.actions') }));
  const out = el('div', { class: 'form-message' });
  const status = (body) => api('POST', `/api/v1/applications/${a.id}/status`, body);
  // Runs an action from a button; the view is drawn again when it succeeds.
  const run = (button, fn) => async (e) => {
    e?.preventDefault();
    out.replaceChildren();
    button.disabled = true;
    try {
      await fn();
      redraw();
    } catch (err) {
      out.append(errorBox(err));
      button.disabled = false;
    }
  };
  let any = false;
  if (allowed.includes('under_review')) {
    any = true;
    const b = el('button', { type: 'button', class: 'primary start-review', text: t('review.startReview') });
    b.addEventListener('click', run(b, () => status({ status: 'under_review' })));
    box.append(b);
  }
  if (a.status === 'inspection_scheduled' && isOfficer()) {
    any = true;
    box.append(el('button', { type: 'button', class: 'primary record-inspection', text: t('review.record'), onclick: () => go(inspectionView(a)) }));
  }
  if (allowed.includes('inspection_scheduled')) {
    any = true;
    // Scheduling again (a new date) is a second thought: folded away once a date is set.
    const again = a.status === 'inspection_scheduled';
    const me = (session()?.user?.display_name || '').replace(/\s*\(.*\)$/, '');
    const fields = [
      el('div', { class: 'pair' },
        el('label', { class: 'field' }, el('span', { text: t('review.scheduleOn') }), el('input', { name: 'on', type: 'date', required: true, value: a.inspection_on || today() })),
        el('label', { class: 'field' }, el('span', { text: t('review.inspectors') }), el('input', { name: 'inspectors', autocomplete: 'off', value: (a.inspectors || []).length ? a.inspectors.join(', ') : me }))),
      el('button', { type: 'submit', class: again ? 'schedule-inspection' : 'primary schedule-inspection', text: t(again ? 'review.reschedule' : 'review.schedule') }),
    ];
    const f = again
      ? el('form', { class: 'stack action schedule' }, el('details', {}, el('summary', { text: t('review.reschedule') }), ...fields))
      : el('form', { class: 'stack action schedule' }, el('h4', { text: t('review.schedule') }), ...fields);
    f.addEventListener('submit', run(f.querySelector('button[type=submit]'), () => status({ status: 'inspection_scheduled', on: f.elements.on.value, inspectors: split(f.elements.inspectors.value) })));
    box.append(f);
  }
  if (allowed.includes('approved')) {
    any = true;
    const f = el('form', { class: 'stack action approve' },
      el('h4', { text: t('review.approve') }),
      el('div', { class: 'pair' },
        el('label', { class: 'field' }, el('span', { text: t('review.document') }), el('input', { name: 'document', required: true, autocomplete: 'off', placeholder: '123/QĐ-CCTTBVTV' })),
        el('label', { class: 'field' }, el('span', { text: t('review.authority') }), el('input', { name: 'authority', autocomplete: 'off', value: t('review.authorityDefault') }))),
      el('div', { class: 'pair' },
        el('label', { class: 'field' }, el('span', { text: t('review.validFrom') }), el('input', { name: 'valid_from', type: 'date', value: today() })),
        el('label', { class: 'field' }, el('span', { text: t('review.validTo') }), el('input', { name: 'valid_to', type: 'date' }))),
      el('button', { type: 'submit', class: 'primary approve-code', text: t('review.approve') }));
    f.addEventListener('submit', run(f.querySelector('button'), async () => {
      const body = { decision: 'approve', document: f.elements.document.value.trim(), authority: f.elements.authority.value.trim() };
      if (f.elements.valid_from.value) body.valid_from = f.elements.valid_from.value;
      if (f.elements.valid_to.value) body.valid_to = f.elements.valid_to.value;
      const res = await api('POST', `/api/v1/applications/${a.id}/decision`, body);
      if (res?.code?.code) issued.set(res.code.code, res.code);
    }));
    box.append(f);
  }
  if (allowed.includes('rejected')) {
    any = true;
    const f = el('form', { class: 'stack action reject' },
      el('details', {}, el('summary', { text: t('review.reject') }),
        el('label', { class: 'field' }, el('span', { text: t('review.rejectReasons') }), el('textarea', { name: 'reasons', rows: 3 })),
        el('button', { type: 'submit', class: 'danger reject-application', text: t('review.reject') })));
    f.addEventListener('submit', run(f.querySelector('button'), async () => {
      const reasons = f.elements.reasons.value.split('\n').map((s) => s.trim()).filter(Boolean);
      if (!reasons.length) throw new Error(t('review.rejectReasonsNeeded'));
      await api('POST', `/api/v1/applications/${a.id}/decision`, { decision: 'reject', reasons });
    }));
    box.append(f);
  }
  if (allowed.includes('returned')) {
    any = true;
    const f = el('form', { class: 'stack action return' },
      el('details', {}, el('summary', { text: t('review.return') }),
        el('label', { class: 'field' }, el('span', { text: t('review.returnNote') }), el('textarea', { name: 'note', rows: 3 })),
        el('button', { type: 'submit', class: 'return-application', text: t('review.return') })));
    f.addEventListener('submit', run(f.querySelector('button'), async () => {
      const note = f.elements.note.value.trim();
      if (!note) throw new Error(t('review.returnNoteNeeded'));
      await status({ status: 'returned', note });
    }));
    box.append(f);
  }
  if (!isOfficer()) {
    if (allowed.includes('submitted')) {
      any = true;
      const b = el('button', { type: 'button', class: 'primary submit', text: t('app.submit') });
      b.addEventListener('click', run(b, () => status({ status: 'submitted' })));
      box.append(b);
    }
    if (allowed.includes('withdrawn')) {
      any = true;
      const b = el('button', { type: 'button', class: 'danger withdraw', text: t('app.withdraw') });
      b.addEventListener('click', run(b, () => status({ status: 'withdrawn' })));
      box.append(b);
    }
  }
  // Nothing to do here: no box, unless the registrant waits on the officer (then say so).
  if (!any) {
    if (isOfficer() || ['approved', 'rejected', 'withdrawn'].includes(a.status)) return null;
    box.append(el('p', { class: 'muted', text: t('review.nothingToDo') }));
  }
  box.append(out);
  return box;
}

const split = (s) => s.split(/[,;\n]/).map((x) => x.trim()).filter(Boolean);

function formSection(a) {
  const months = a.expected_harvest_from ? t('codes.months', { from: a.expected_harvest_from, to: a.expected_harvest_to || a.expected_harvest_from }) : '';
  const num = (v, key, digits = 1) => (v === null || v === undefined ? null : t(key, { n: formatNumber(v, Number.isInteger(v) ? 0 : digits) }));
  const standards = (a.standards || []).map((s) => [s.name === 'organic' ? t('insp.gap.organic') : s.name, s.certificate, s.issued_on ? day(s.issued_on) : '', s.valid_to ? `→ ${day(s.valid_to)}` : ''].filter(Boolean).join(' '));
  return el('section', { class: 'form01' }, el('h3', { text: t('review.form') }),
    row(t('app.market'), marketName(a.market)),
    row(t('org.col.registrant'), a.registrant?.name),
    row(t('app.representative'), a.representative),
    row(t('app.phone'), a.phone),
    row(t('app.email'), a.email),
    row(t('app.address'), a.address),
    row(t('app.area'), a.area_ha != null ? formatHectares(a.area_ha) : null),
    row(t('app.households'), a.household_count != null ? formatNumber(a.household_count) : null),
    row(t('app.crop'), a.crop ? cropName(a.crop) : null),
    row(t('app.varieties'), (a.varieties || []).join(', ')),
    row(t('app.treeAge'), num(a.tree_age_years, 'codes.years')),
    row(t('app.harvestFrom'), months),
    row(t('app.expectedOutput'), num(a.expected_output_t, 'codes.tonnes')),
    row(t('app.avgYield'), num(a.avg_yield_3y_t_ha, 'codes.tha')),
    row(t('app.harvestsPerYear'), a.harvests_per_year != null ? formatNumber(a.harvests_per_year) : null),
    row(t('app.section.standards'), standards.length ? standards.join('; ') : t('app.standard.none')),
    row(t('app.section.commitment'), a.commitment ? `✓ ${t('codes.yes')}` : t('codes.no')));
}

// What the official dossier asks for, generated from the registry.
function dossierBox(a) {
  const id = a.growing_area?.id;
  if (!id) return null;
  return el('section', { class: 'dossier' }, el('h3', { text: t('review.dossier') }),
    el('ul', { class: 'links' },
      el('li', {}, el('a', { class: 'kml', href: `/api/v1/growing-areas/${id}/dossier.kml`, download: `vung-trong-${id}.kml`, text: t('review.kml') })),
      el('li', {}, el('a', { class: 'csv', href: `/api/v1/growing-areas/${id}/households.csv`, download: `vung-trong-${id}-ho.csv`, text: t('review.csv') })),
      el('li', {}, el('a', { class: 'print-households', href: `/print/growing-areas/${id}/households`, target: '_blank', rel: 'noopener', text: t('review.printHouseholds') }))));
}

async function plotsBox(a) {
  const id = a.growing_area?.id;
  if (!id) return null;
  let plots;
  try {
    plots = (await api('GET', `/api/v1/growing-areas/${id}/plots`)).plots || [];
  } catch {
    return null;
  }
  const ul = el('ul', { class: 'plot-list' });
  for (const p of plots) {
    ul.append(el('li', { 'data-plot': String(p.id), text: t('review.plot', {
      id: p.id, crop: cropName(p.crop), variety: p.variety ? ` ${p.variety}` : '', ha: formatHectares(p.area_ha),
      household: p.household || '—', commune: p.commune || '' }).replace(/, $/, '') }));
  }
  return el('details', { class: 'plots' }, el('summary', { text: t('review.plots', { n: formatNumber(plots.length) }) }), ul);
}

function inspectionsBox(list) {
  if (!list.length) return null;
  const box = el('section', { class: 'inspections' }, el('h3', { text: t('review.inspections') }));
  for (const i of list) {
    const c = i.checklist || {};
    const item = el('div', { class: 'inspection', 'data-id': String(i.id) },
      el('p', {}, el('strong', { text: `${day(i.on)} · ${t(`insp.conclusion.${i.conclusion}`)}` }), ` · ${(i.inspectors || []).join(', ')}`),
      i.reasons ? el('p', { class: 'muted', text: i.reasons }) : null,
      el('p', { class: 'muted small', text: [
        c.farming_diary ? `${t('insp.diary')}: ${t(`insp.diary.${c.farming_diary}`)}` : '',
        c.hygiene ? `${t('insp.hygiene')}: ${t(`insp.hygiene.${c.hygiene}`)}` : '',
        c.gap ? `${t('insp.gap')}: ${c.gap === 'none' ? t('insp.gap.none') : c.gap === 'organic' ? t('insp.gap.organic') : c.gap}` : '',
        (c.pests || []).length ? `${t('insp.pests')}: ${c.pests.map((p) => `${p.name} (${p.density})`).join(', ')}` : '',
      ].filter(Boolean).join(' · ') }));
    const photos = el('div', { class: 'photos' });
    (i.photos || []).forEach((p, n) => {
      const where = p.lat != null ? formatLatLon(p.lat, p.lon) : '—';
      photos.append(el('figure', { class: 'photo' },
        el('a', { href: `/api/v1/inspections/${i.id}/photos/${p.id}`, target: '_blank', rel: 'noopener' },
          el('img', { src: `/api/v1/inspections/${i.id}/photos/${p.id}`, alt: t('review.photo', { n: n + 1, where, when: day(p.taken_at, true) }), loading: 'lazy' })),
        el('figcaption', { text: t('review.photo', { n: n + 1, where, when: day(p.taken_at, true) }) })));
    });
    if (i.photos?.length) item.append(photos);
    box.append(item);
  }
  return box;
}

function eventsBox(events) {
  if (!events.length) return null;
  const ol = el('ol', { class: 'events' });
  for (const e of events) {
    ol.append(el('li', {}, el('span', { text: t('review.event', { at: day(e.at, true), actor: e.actor || '—', from: e.from ? t(`app.status.${e.from}`) : '—', to: t(`app.status.${e.to}`) }) }),
      e.note ? el('span', { class: 'muted', text: ` — ${e.note}` }) : null));
  }
  return el('section', { class: 'events-box' }, el('h3', { text: t('review.events') }), ol);
}


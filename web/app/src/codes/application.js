// The application for a code (hồ sơ đăng ký, Form 01), as the registrant fills it: the
// registrant's contacts, the crop and its varieties, tree age, harvest window, expected
// output, the three-year average yield, harvests a year, the standards applied with their
// certificates, the commitment; the area and households come from the growing area, never
// typed. Attachments (farming diary, certificates, commitment letter) are uploaded to a saved
// draft. Submitting saves the form first; what is missing is marked beside its field.
import './text.js';
import { api, upload, APIError } from '../api.js';
import { t, currentLang, formatHectares, formatNumber } from '../i18n.js';
import { cropList, cropName } from '../lookups.js';
import { session } from '../session.js';
import { el, errorBox, clearMarks, fileSize, day, go, redraw } from './ui.js';
import { applicationView } from './review.js';

export const MARKETS = ['CN', 'US', 'EU', 'JP', 'KR', 'AU', 'NZ', 'TH', 'TW', 'VN'];
const STANDARDS = ['VietGAP', 'GlobalGAP', 'organic', 'other'];
const KINDS = ['diary', 'certificate', 'commitment', 'other'];

/** A market select, in the page's language. */
export function marketSelect(name, value) {
  const s = el('select', { name });
  for (const m of MARKETS) {
    const key = `market.${m}`;
    s.append(new Option(t(key) === key ? m : `${t(key)} (${m})`, m));
  }
  s.value = value || 'CN';
  return s;
}

// Numbers as the page's language writes them: "2,5" in Vietnamese, "2.5" in English.
export const numText = (v) => (v === null || v === undefined || v === '' ? '' : currentLang() === 'vi' ? String(v).replace('.', ',') : String(v));
export function parseNum(s) {
  const v = String(s || '').trim();
  if (!v) return undefined;
  const n = Number(v.includes(',') ? v.replace(/\./g, '').replace(',', '.') : v);
  return Number.isFinite(n) ? n : NaN;
}

function field(label, input, cls = '') {
  return el('label', { class: `field ${cls}` }, el('span', { text: label }), input);
}

function monthSelect(name, value) {
  const s = el('select', { name }, new Option('—', ''));
  for (let m = 1; m <= 12; m++) s.append(new Option(t('codes.month', { m }), String(m)));
  s.value = value ? String(value) : '';
  return s;
}

function standardRow(i, st = {}) {
  const name = el('select', { name: `standards[${i}].name` });
  for (const s of STANDARDS) name.append(new Option(s === 'organic' ? t('insp.gap.organic') : s === 'other' ? t('app.attachment.kind.other') : s, s));
  name.value = st.name || 'VietGAP';
  return el('fieldset', { class: 'standard', 'data-index': String(i) },
    field(t('app.standard.name'), name),
    field(t('app.standard.certificate'), el('input', { name: `standards[${i}].certificate`, autocomplete: 'off', value: st.certificate || '' })),
    field(t('app.standard.issued'), el('input', { name: `standards[${i}].issued_on`, type: 'date', value: st.issued_on || '' })),
    field(t('app.standard.validTo'), el('input', { name: `standards[${i}].valid_to`, type: 'date', value: st.valid_to || '' })),
    el('button', { type: 'button', class: 'link remove-standard', text: t('app.standard.remove'), onclick: (e) => e.target.closest('fieldset').remove() }));
}

/**
 * The form of an application: a saved one (app, from GET /api/v1/applications/{id}) or a new
 * one for a growing area (area: {id, name, area_ha, households, crops}).
 */
export function applicationForm({ app = null, area = null, house = null }) {
  const a = app || {};
  const ph = app?.packing_house?.id ? app.packing_house : house;
  if (ph) return houseApplicationForm(a, ph);
  const g = app?.growing_area || area || {};
  const user = session()?.user || {};
  const crop = el('select', { name: 'crop', required: true }, new Option(t('form.cropChoose'), ''));
  const crops = cropList();
  for (const c of crops) crop.append(new Option(c.name, c.code));
  const wanted = a.crop || area?.crops?.[0] || '';
  if (wanted && !crops.some((c) => c.code === wanted)) crop.append(new Option(cropName(wanted), wanted));
  crop.value = wanted;
  const standards = el('div', { class: 'standards' });
  (a.standards || []).forEach((st, i) => standards.append(standardRow(i, st)));
  let nextStandard = (a.standards || []).length;
  const form = el('form', { class: 'stack application-form', novalidate: true },
    el('h3', { text: t('app.section.area') }),
    el('div', { class: 'derived' },
      el('div', { class: 'row' }, el('span', { class: 'label', text: t('app.growingArea') }), el('span', { class: 'value area-name', text: g.name || '' })),
      el('div', { class: 'row' }, el('span', { class: 'label', text: t('app.area') }), el('span', { class: 'value area-ha', text: (a.area_ha ?? g.area_ha) != null ? formatHectares(a.area_ha ?? g.area_ha) : '' })),
      el('div', { class: 'row' }, el('span', { class: 'label', text: t('app.households') }), el('span', { class: 'value households', text: (a.household_count ?? g.households) != null ? formatNumber(a.household_count ?? g.households) : '' })),
      el('p', { class: 'muted small', text: t('app.derived') })),
    field(t('app.market'), marketSelect('market', a.market || 'CN')),
    el('h3', { text: t('app.section.registrant') }),
    field(t('app.representative'), el('input', { name: 'representative', autocomplete: 'name', value: a.representative || '' })),
    el('div', { class: 'pair' },
      field(t('app.phone'), el('input', { name: 'phone', type: 'tel', inputmode: 'tel', autocomplete: 'tel', value: a.phone || '' })),
      field(t('app.email'), el('input', { name: 'email', type: 'email', autocomplete: 'email', value: a.email || '' }))),
    field(t('app.address'), el('input', { name: 'address', autocomplete: 'street-address', value: a.address || '' })),
    el('h3', { text: t('app.section.crop') }),
    el('div', { class: 'pair' },
      field(t('app.crop'), crop),
      field(t('app.varieties'), el('input', { name: 'varieties', autocomplete: 'off', value: (a.varieties || []).join(', ') }))),
    el('div', { class: 'pair' },
      field(t('app.treeAge'), el('input', { name: 'tree_age_years', inputmode: 'decimal', autocomplete: 'off', value: numText(a.tree_age_years) })),
      field(t('app.harvestsPerYear'), el('input', { name: 'harvests_per_year', inputmode: 'numeric', autocomplete: 'off', value: numText(a.harvests_per_year) }))),
    el('div', { class: 'pair' },
      field(t('app.harvestFrom'), monthSelect('expected_harvest_from', a.expected_harvest_from)),
      field(t('app.harvestTo'), monthSelect('expected_harvest_to', a.expected_harvest_to))),
    el('div', { class: 'pair' },
      field(t('app.expectedOutput'), el('input', { name: 'expected_output_t', inputmode: 'decimal', autocomplete: 'off', value: numText(a.expected_output_t) })),
      field(t('app.avgYield'), el('input', { name: 'avg_yield_3y_t_ha', inputmode: 'decimal', autocomplete: 'off', value: numText(a.avg_yield_3y_t_ha) }))),
    el('h3', { text: t('app.section.standards') }),
    standards,
    el('button', { type: 'button', class: 'add-standard', text: `+ ${t('app.standard.add')}`, onclick: () => standards.append(standardRow(nextStandard++)) }),
    el('h3', { text: t('app.section.commitment') }),
    el('label', { class: 'check commitment' }, el('input', { type: 'checkbox', name: 'commitment', checked: a.commitment ? true : undefined }), el('span', { text: t('app.commitment') })));
  if (!app && !a.representative && user.display_name) form.elements.representative.value = user.display_name.replace(/\s*\(.*\)$/, '');
  form.dataset.areaId = String(g.id || '');
  return form;
}

// The form of a packing house's application: its registrant, contacts and commitment (a
// packing house has no crop, harvest or yield to declare).
function houseApplicationForm(a, ph) {
  const user = session()?.user || {};
  const form = el('form', { class: 'stack application-form house-application', novalidate: true },
    el('h3', { text: t('app.house') }),
    el('div', { class: 'derived' },
      el('div', { class: 'row' }, el('span', { class: 'label', text: t('app.house') }), el('span', { class: 'value house-name', text: ph.name || '' }))),
    field(t('app.market'), marketSelect('market', a.market || 'CN')),
    el('h3', { text: t('app.section.registrant') }),
    field(t('app.representative'), el('input', { name: 'representative', autocomplete: 'name', value: a.representative || '' })),
    el('div', { class: 'pair' },
      field(t('app.phone'), el('input', { name: 'phone', type: 'tel', inputmode: 'tel', autocomplete: 'tel', value: a.phone || '' })),
      field(t('app.email'), el('input', { name: 'email', type: 'email', autocomplete: 'email', value: a.email || '' }))),
    field(t('app.address'), el('input', { name: 'address', autocomplete: 'street-address', value: a.address || '' })),
    el('h3', { text: t('app.section.commitment') }),
    el('label', { class: 'check commitment' }, el('input', { type: 'checkbox', name: 'commitment', checked: a.commitment ? true : undefined }), el('span', { text: t('app.commitment') })));
  if (!a.id && !a.representative && user.display_name) form.elements.representative.value = user.display_name.replace(/\s*\(.*\)$/, '');
  form.dataset.houseId = String(ph.id || '');
  return form;
}

/** What the form holds, as the API takes it (empty fields left out; bad numbers kept, for the server to name). */
export function formBody(form) {
  const f = form.elements;
  const body = { market: f.market.value };
  for (const k of ['representative', 'phone', 'email', 'address', 'crop']) if (f[k]?.value.trim()) body[k] = f[k].value.trim();
  body.commitment = f.commitment.checked;
  if (form.dataset.houseId) return body;
  const varieties = f.varieties.value.split(/[,;]/).map((s) => s.trim()).filter(Boolean);
  if (varieties.length) body.varieties = varieties;
  for (const k of ['tree_age_years', 'expected_output_t', 'avg_yield_3y_t_ha', 'harvests_per_year']) {
    const n = parseNum(f[k].value);
    if (n !== undefined) body[k] = Number.isNaN(n) ? f[k].value : n;
  }
  for (const k of ['expected_harvest_from', 'expected_harvest_to']) if (f[k].value) body[k] = Number(f[k].value);
  body.standards = [...form.querySelectorAll('fieldset.standard')].map((fs) => {
    const get = (k) => fs.querySelector(`[name$=".${k}"]`).value.trim();
    const st = { name: get('name'), certificate: get('certificate') };
    if (get('issued_on')) st.issued_on = get('issued_on');
    if (get('valid_to')) st.valid_to = get('valid_to');
    return st;
  });
  return body;
}

/** The attachments of an application, with an upload field when still editable. */
export function attachmentsBox(app, attachments, editable) {
  const box = el('section', { class: 'attachments' }, el('h3', { text: t('app.section.attachments') }));
  const list = el('ul', { class: 'attachment-list' });
  for (const at of attachments || []) {
    const href = `/api/v1/applications/${app.id}/attachments/${at.id}`;
    const li = el('li', { class: 'attachment', 'data-kind': at.kind },
      el('span', { class: 'kind', text: t(`app.attachment.kind.${at.kind}`) }),
      el('a', { href, target: '_blank', rel: 'noopener', text: at.filename }),
      el('span', { class: 'muted', text: `${at.content_type} · ${fileSize(at.size)}` }));
    if (editable) {
      li.append(el('button', { type: 'button', class: 'link danger delete-attachment', text: t('app.attachment.delete'), onclick: async () => {
        try {
          await api('DELETE', href);
          redraw();
        } catch (err) {
          li.append(errorBox(err));
        }
      } }));
    }
    list.append(li);
  }
  if (!attachments?.length) list.append(el('li', { class: 'muted none', text: t('app.attachment.none') }));
  box.append(list);
  if (!editable) return box;
  const kind = el('select', { name: 'kind' });
  for (const k of KINDS) kind.append(new Option(t(`app.attachment.kind.${k}`), k));
  const status = el('p', { class: 'muted upload-status', role: 'status' });
  const file = el('input', { type: 'file', name: 'file', accept: 'application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png' });
  file.addEventListener('change', async () => {
    if (!file.files.length) return;
    const data = new FormData();
    data.append('kind', kind.value);
    data.append('file', file.files[0]);
    file.disabled = true;
    status.replaceChildren(t('app.attachment.uploading', { pct: 0 }));
    try {
      await upload(`/api/v1/applications/${app.id}/attachments`, data, (p) => { status.textContent = t('app.attachment.uploading', { pct: formatNumber(Math.round(p * 100)) }); });
      redraw();
    } catch (err) {
      status.replaceChildren(errorBox(err));
      file.disabled = false;
      file.value = '';
    }
  });
  box.append(el('div', { class: 'stack upload' },
    el('label', { class: 'field' }, el('span', { text: t('app.attachment.kind') }), kind),
    el('label', { class: 'field' }, el('span', { text: t('app.attachment.file') }), file), status));
  return box;
}

/** A new application for a growing area (area: its view) or a packing house ({house}), on the screen. */
export function newApplicationView(area) {
  const house = area?.house || null;
  return {
    name: 'application-new',
    title: () => t(house ? 'app.title.newHouse' : 'app.title.new'),
    render: async () => {
      const form = applicationForm(house ? { house } : { area });
      const out = el('div', { class: 'form-message' });
      const save = el('button', { type: 'button', class: 'primary save-draft', text: t('app.saveDraft') });
      save.addEventListener('click', async () => {
        clearMarks(form);
        out.replaceChildren();
        save.disabled = true;
        try {
          const r = await api('POST', '/api/v1/applications', { ...(house ? { packing_house_id: house.id } : { growing_area_id: area.id }), ...formBody(form) });
          const created = r.application || r;
          go(applicationView(created.id, { message: t('app.savedDraft', { id: created.id }) }), { replace: true });
        } catch (err) {
          out.replaceChildren(errorBox(err, form));
          save.disabled = false;
        }
      });
      return el('div', { class: 'codes-page application' },
        form,
        el('section', { class: 'attachments' }, el('h3', { text: t('app.section.attachments') }), el('p', { class: 'muted', text: t('app.attachments.first') })),
        out, el('div', { class: 'codes-actions' }, save));
    },
  };
}

/**
 * The registrant's own view of a draft or returned application: the form, the attachments and
 * the buttons to save, submit or withdraw. onDone redraws after a change.
 */
export function editableApplication(r, { message } = {}) {
  const a = r.application;
  const form = applicationForm({ app: a });
  const out = el('div', { class: 'form-message' });
  if (message) out.append(el('p', { class: 'ok', role: 'status', text: message }));
  const busy = (on) => actions.querySelectorAll('button').forEach((b) => { b.disabled = on; });
  const saveForm = () => api('PATCH', `/api/v1/applications/${a.id}`, formBody(form));
  const act = async (fn) => {
    clearMarks(form);
    out.replaceChildren();
    busy(true);
    try {
      const text = await fn();
      if (text) {
        go(applicationView(a.id, { message: text }), { replace: true });
      }
    } catch (err) {
      if (err instanceof APIError && err.status === 422 && err.details?.length) out.append(el('p', { class: 'error', text: t('app.invalid') }));
      out.append(errorBox(err, form));
      busy(false);
    }
  };
  const allowed = r.allowed || [];
  const actions = el('div', { class: 'codes-actions' },
    el('button', { type: 'button', class: 'save-draft', text: t('app.saveDraft'), onclick: () => act(async () => { await saveForm(); return t('app.savedDraft', { id: a.id }); }) }),
    allowed.includes('withdrawn') ? el('button', { type: 'button', class: 'danger withdraw', text: t('app.withdraw'), onclick: () => act(async () => {
      await api('POST', `/api/v1/applications/${a.id}/status`, { status: 'withdrawn' });
      return t('app.status.withdrawn');
    }) }) : null,
    el('button', { type: 'button', class: 'primary submit', text: t('app.submit'), onclick: () => act(async () => {
      await saveForm();
      await api('POST', `/api/v1/applications/${a.id}/status`, { status: 'submitted' });
      return t('app.submitted', { id: a.id });
    }) }));
  const parts = [];
  if (a.status === 'returned' && a.return_note) parts.push(el('p', { class: 'notice return-note', text: t('review.returnNoteShown', { note: a.return_note }) }));
  parts.push(form, attachmentsBox(a, r.attachments, true), out, actions);
  if (a.submitted_at) parts.unshift(el('p', { class: 'muted', text: `${t('org.col.submitted')}: ${day(a.submitted_at, true)}` }));
  return el('div', { class: 'application' }, ...parts);
}

// The inspection record (biên bản kiểm tra), filled on a phone in the field: the checklist
// (pesticides used and whether allowed in Vietnam and in the market, farming diary, pests and
// their density, pest management, samples and lab results, GAP, orchard hygiene, packaging
// collection; a packing house's own list), photos taken with the phone's camera, each with
// the position and time it was taken, and the conclusion with its reasons. Sent at once
// (multipart: the record, the photos, their positions), in one transaction on the server.
import './text.js';
import { upload } from '../api.js';
import { t, formatLatLon, formatNumber } from '../i18n.js';
import { session } from '../session.js';
import { el, errorBox, clearMarks, today, day, back, go } from './ui.js';
import { applicationView } from './review.js';

const HOUSE_ITEMS = ['cleanliness', 'water', 'pest_control', 'traceability_records', 'staff_training'];

// A camera, drawn (a phone may have no emoji font).
function cameraIcon() {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '24');
  svg.setAttribute('height', '24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('fill', 'currentColor');
  path.setAttribute('d', 'M9 3 7.2 5H4a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2h-3.2L15 3H9zm3 5a5 5 0 1 1 0 10 5 5 0 0 1 0-10zm0 2a3 3 0 1 0 0 6 3 3 0 0 0 0-6z');
  svg.append(path);
  return svg;
}

function field(label, input, cls = '') {
  return el('label', { class: `field ${cls}` }, el('span', { text: label }), input);
}

function select(name, options, value = '') {
  const s = el('select', { name }, new Option('—', ''));
  for (const [v, label] of options) s.append(new Option(label, v));
  s.value = value;
  return s;
}

// A list of rows of the same inputs (pesticides, pests, samples) with "add" and "remove".
function rowsBox(title, cls, make) {
  const list = el('div', { class: `rows ${cls}` });
  const add = () => {
    const r = el('div', { class: 'row-item' }, ...make(), el('button', { type: 'button', class: 'link remove', text: t('insp.remove'), onclick: () => r.remove() }));
    list.append(r);
    r.querySelector('input')?.focus();
  };
  return el('fieldset', { class: `group ${cls}` }, el('legend', { text: title }), list,
    el('button', { type: 'button', class: `add add-${cls}`, text: `+ ${t('insp.add')}`, onclick: add }));
}

// Where the phone is, once (high accuracy, a fresh fix: where this photo was taken).
function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve({ error: 'no geolocation' });
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lon: p.coords.longitude, lat: p.coords.latitude, accuracy_m: p.coords.accuracy }),
      (e) => resolve({ error: e.message || String(e.code) }),
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
  });
}

/**
 * Photos taken with the phone's camera, each with the time it was taken and a fresh position:
 * the fieldset to show, the photos, appendTo(formData) adding them and their descriptions
 * ("photo" files, "photos" JSON) to a form, and clear().
 */
export function photoPicker() {
  const photos = []; // {file, url, taken_at, lon, lat, accuracy_m, error}
  const thumbs = el('div', { class: 'photos' });
  const drawPhotos = () => {
    thumbs.replaceChildren(...photos.map((p, i) => el('figure', { class: 'photo', 'data-located': p.lat != null ? 'yes' : 'no' },
      el('img', { src: p.url, alt: `${i + 1}` }),
      el('figcaption', {},
        el('span', { text: `${formatNumber(i + 1)}. ${day(p.taken_at, true)}` }), el('br'),
        el('span', { class: 'where', text: p.locating ? t('insp.locating') : p.lat != null
          ? t('insp.position', { where: formatLatLon(p.lat, p.lon), acc: formatNumber(p.accuracy_m ?? 0, 0) })
          : t('insp.noPosition', { message: p.error || '' }) })),
      el('button', { type: 'button', class: 'link remove', text: t('insp.remove'), onclick: () => { URL.revokeObjectURL(p.url); photos.splice(photos.indexOf(p), 1); drawPhotos(); } }))));
  };
  drawPhotos();
  const camera = el('input', { type: 'file', name: 'photo', accept: 'image/*', capture: 'environment', multiple: true, class: 'camera' });
  camera.addEventListener('change', async () => {
    const files = [...camera.files];
    camera.value = '';
    const taken = new Date().toISOString();
    const added = files.map((file) => ({ file, url: URL.createObjectURL(file), taken_at: taken, locating: true }));
    photos.push(...added);
    drawPhotos();
    const where = await position();
    for (const p of added) Object.assign(p, where, { locating: false });
    drawPhotos();
  });
  return {
    photos,
    element: el('fieldset', { class: 'group photos-group' }, el('legend', { text: t('insp.photos') }),
      el('p', { class: 'muted small', text: t('insp.photoHint') }), thumbs,
      el('label', { class: 'camera-button' }, cameraIcon(), el('span', { text: t('insp.takePhoto') }), camera)),
    appendTo(data) {
      for (const p of photos) data.append('photo', p.file, p.file.name || 'photo.jpg');
      data.append('photos', JSON.stringify(photos.map((p) => ({
        taken_at: p.taken_at, lon: p.lon ?? null, lat: p.lat ?? null, accuracy_m: p.accuracy_m ?? null,
      }))));
    },
    clear() {
      photos.forEach((p) => URL.revokeObjectURL(p.url));
      photos.length = 0;
      drawPhotos();
    },
  };
}

/** The inspection form of an application (its summary from GET /api/v1/applications/{id}). */
export function inspectionView(app) {
  return {
    name: 'inspection',
    title: () => t(app.packing_house?.id ? 'insp.titleHouse' : 'insp.title'),
    render: async () => {
      const house = !!app.packing_house?.id;
      const me = (session()?.user?.display_name || '').replace(/\s*\(.*\)$/, '');
      const inspectors = (app.inspectors || []).length ? app.inspectors.join(', ') : me;
      const checklist = checklistFields(house);

      const picker = photoPicker();
      const photos = picker.photos;

      const conclusion = el('fieldset', { class: 'group conclusion' }, el('legend', { text: t('insp.conclusion') }),
        ['pass', 'conditional', 'fail'].map((k) => el('label', { class: `choice ${k}` }, el('input', { type: 'radio', name: 'conclusion', value: k }), el('span', { text: t(`insp.conclusion.${k}`) }))));
      const out = el('div', { class: 'form-message' });
      const form = el('form', { class: 'stack inspection-form', novalidate: true },
        el('div', { class: 'pair' },
          field(t('insp.on'), el('input', { name: 'on', type: 'date', value: app.inspection_on || today() })),
          field(t('insp.inspectors'), el('input', { name: 'inspectors', autocomplete: 'off', value: inspectors }))),
        checklist,
        picker.element,
        conclusion,
        field(t('insp.reasons'), el('textarea', { name: 'reasons', rows: 3 })),
        out,
        el('div', { class: 'codes-actions sticky' }, el('button', { type: 'submit', class: 'primary save-inspection', text: t('insp.save') })));

      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const record = readRecord(form, house, out);
        if (!record) return;
        record.reasons = form.elements.reasons.value.trim();
        const data = new FormData();
        data.append('inspection', JSON.stringify(record));
        picker.appendTo(data);
        const button = form.querySelector('.save-inspection');
        button.disabled = true;
        button.textContent = t('codes.saving');
        try {
          await upload(`/api/v1/applications/${app.id}/inspection`, data);
          picker.clear();
          // Back to the application, which shows the record, its new state and the message.
          back();
          go(applicationView(app.id, { message: t('insp.saved') }), { replace: true });
        } catch (err) {
          out.append(errorBox(err, form));
          button.disabled = false;
          button.textContent = t('insp.save');
        }
      });
      return el('div', { class: 'codes-page inspection' }, form);
    },
  };
}

/**
 * What an inspection and a supervision visit share, read from their form: the day, the
 * inspectors, the checklist and the conclusion. Without a conclusion it says so in out and
 * returns null.
 */
export function readRecord(form, house, out) {
  clearMarks(form);
  out.replaceChildren();
  const f = form.elements;
  const chosen = form.querySelector('input[name=conclusion]:checked')?.value;
  if (!chosen) {
    out.append(el('p', { class: 'error', role: 'alert', text: t('insp.needConclusion') }));
    return null;
  }
  return {
    on: f.on.value, inspectors: f.inspectors.value.split(/[,;]/).map((s) => s.trim()).filter(Boolean),
    checklist: readChecklist(form, house), conclusion: chosen,
  };
}

/**
 * The checklist's fields (biên bản kiểm tra): a growing area's (pesticides, farming diary,
 * pests, management, samples, GAP, hygiene, packaging collection) or, for a packing house, its
 * own. The supervision visit fills the same; readChecklist reads them back.
 */
export function checklistFields(house) {
  const yesNo = [['true', t('codes.yes')], ['false', t('codes.no')]];
  return house
    ? el('fieldset', { class: 'group house' }, el('legend', { text: t('insp.titleHouse') }),
      HOUSE_ITEMS.map((k) => field(t(`insp.house.${k}`), select(k, [['good', t('insp.hygiene.good')], ['fair', t('insp.hygiene.fair')], ['poor', t('insp.hygiene.poor')]]))))
    : el('div', { class: 'checklist' },
      rowsBox(t('insp.pesticides'), 'pesticides', () => [
        field(t('insp.pesticide.name'), el('input', { name: 'pesticide.name', autocomplete: 'off' })),
        el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'pesticide.allowed_vn', checked: true }), el('span', { text: t('insp.pesticide.allowedVN') })),
        el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'pesticide.allowed_market', checked: true }), el('span', { text: t('insp.pesticide.allowedMarket') }))]),
      field(t('insp.diary'), select('farming_diary', ['complete', 'incomplete', 'missing'].map((k) => [k, t(`insp.diary.${k}`)]))),
      rowsBox(t('insp.pests'), 'pests', () => [
        field(t('insp.pest.name'), el('input', { name: 'pest.name', autocomplete: 'off' })),
        field(t('insp.pest.density'), el('input', { name: 'pest.density', autocomplete: 'off' }))]),
      field(t('insp.management'), el('textarea', { name: 'management', rows: 2 })),
      rowsBox(t('insp.samples'), 'samples', () => [
        field(t('insp.sample.kind'), el('input', { name: 'sample.kind', autocomplete: 'off' })),
        field(t('insp.sample.lab'), el('input', { name: 'sample.lab', autocomplete: 'off' })),
        field(t('insp.sample.result'), el('input', { name: 'sample.result', autocomplete: 'off' }))]),
      field(t('insp.gap'), select('gap', [['VietGAP', 'VietGAP'], ['GlobalGAP', 'GlobalGAP'], ['organic', t('insp.gap.organic')], ['none', t('insp.gap.none')]])),
      field(t('insp.hygiene'), select('hygiene', ['good', 'fair', 'poor'].map((k) => [k, t(`insp.hygiene.${k}`)]))),
      field(t('insp.packaging'), select('packaging_collection', yesNo)));
}

/** What the checklist's fields hold, as the API takes it. */
export function readChecklist(form, house) {
  return house ? houseChecklist(form) : orchardChecklist(form);
}

function orchardChecklist(form) {
  const rows = (cls, fn) => [...form.querySelectorAll(`.rows.${cls} .row-item`)].map(fn).filter(Boolean);
  const val = (r, name) => r.querySelector(`[name="${name}"]`).value.trim();
  const c = {
    pesticides: rows('pesticides', (r) => (val(r, 'pesticide.name') ? { name: val(r, 'pesticide.name'), allowed_vn: r.querySelector('[name="pesticide.allowed_vn"]').checked, allowed_market: r.querySelector('[name="pesticide.allowed_market"]').checked } : null)),
    pests: rows('pests', (r) => (val(r, 'pest.name') ? { name: val(r, 'pest.name'), density: val(r, 'pest.density') } : null)),
    samples: rows('samples', (r) => (val(r, 'sample.kind') ? { kind: val(r, 'sample.kind'), lab: val(r, 'sample.lab'), result: val(r, 'sample.result') } : null)),
  };
  const f = form.elements;
  for (const k of ['farming_diary', 'gap', 'hygiene']) if (f[k].value) c[k] = f[k].value;
  if (f.management.value.trim()) c.management = f.management.value.trim();
  if (f.packaging_collection.value) c.packaging_collection = f.packaging_collection.value === 'true';
  return c;
}

function houseChecklist(form) {
  const c = {};
  for (const k of HOUSE_ITEMS) if (form.elements[k].value) c[k] = form.elements[k].value;
  return c;
}

// The plot's form: crop (the crop list, by name), variety, planting year, producer (search the
// households the writer may see, or add a new one with its personal fields), cadastral sheet
// and parcel, land-use certificate. Errors show next to their field.
import { api } from '../api.js';
import { t } from '../i18n.js';
import { cropList } from '../lookups.js';

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

const TEXT_FIELDS = ['variety', 'cadastral_sheet', 'cadastral_parcel', 'land_cert_no'];
const LABELS = {
  crop: 'form.crop', variety: 'form.variety', planting_year: 'form.plantingYear', producer_id: 'form.producer',
  cadastral_sheet: 'form.cadastralSheet', cadastral_parcel: 'form.cadastralParcel', land_cert_no: 'form.landCert',
};
// What a farmer may change on their own plot (the API refuses the rest).
const FARMER_FIELDS = ['crop', 'variety', 'planting_year'];

/**
 * Builds the form for a plot's properties (props: what it holds now, {} for a new plot).
 * farmer limits it to crop, variety and planting year; producerName names the current
 * producer. Returns {element, values(), changed(), showErrors(details), clearErrors()}.
 */
export function plotForm(props = {}, { farmer = false, producerName = '', onInput = () => {} } = {}) {
  const fields = farmer ? FARMER_FIELDS : Object.keys(LABELS);
  const form = el('form', { class: 'stack editor-form', novalidate: true, onsubmit: (e) => e.preventDefault(), oninput: () => onInput() });
  const inputs = {};
  const errors = {};
  const wrap = (name, control) => {
    errors[name] = el('span', { class: 'field-error', role: 'alert', hidden: true });
    // The producer's field holds several controls: a group, not a label.
    const label = el(name === 'producer_id' ? 'div' : 'label', { class: 'field', 'data-field': name }, el('span', { text: t(LABELS[name]) }), control, errors[name]);
    form.append(label);
  };
  for (const name of fields) {
    if (name === 'crop') {
      const s = el('select', { name: 'crop', required: true }, new Option(t('form.cropChoose'), ''));
      for (const c of cropList()) s.append(new Option(c.name, c.code));
      s.value = props.crop || '';
      inputs.crop = s;
      wrap('crop', s);
    } else if (name === 'planting_year') {
      inputs.planting_year = el('input', { name: 'planting_year', type: 'number', inputmode: 'numeric', min: '1900', max: String(new Date().getFullYear() + 1), value: props.planting_year ?? '' });
      wrap('planting_year', inputs.planting_year);
    } else if (name === 'producer_id') {
      wrap('producer_id', producerPicker(props.producer_id ?? null, producerName, inputs, onInput));
    } else if (TEXT_FIELDS.includes(name)) {
      inputs[name] = el('input', { name, value: props[name] ?? '', autocomplete: 'off', maxlength: name === 'variety' ? '100' : '40' });
      wrap(name, inputs[name]);
    }
  }
  const initial = read();

  function read() {
    const v = {};
    for (const name of fields) {
      if (name === 'producer_id') {
        v.producer_id = inputs.producer.id;
        if (inputs.producer.household) v.producer = inputs.producer.household();
      } else if (name === 'planting_year') v.planting_year = inputs.planting_year.value ? Number(inputs.planting_year.value) : null;
      else v[name] = inputs[name].value.trim() || null;
    }
    return v;
  }

  return {
    element: form,
    values: read,
    /** The properties that differ from what the plot held (what a PATCH sends). */
    changed() {
      const now = read();
      const out = {};
      for (const [k, v] of Object.entries(now)) if (JSON.stringify(v) !== JSON.stringify(initial[k])) out[k] = v;
      return out;
    },
    /** Shows each detail next to its field ("properties.crop"); returns the details it could not place. */
    showErrors(details = []) {
      const rest = [];
      for (const d of details) {
        const name = (d.field || '').replace(/^properties\./, '').replace(/^producer\..*/, 'producer_id');
        const box = errors[name];
        if (box) {
          box.textContent = d.message;
          box.hidden = false;
          box.closest('[data-field]').classList.add('invalid');
        } else rest.push(d);
      }
      return rest;
    },
    clearErrors() {
      for (const box of Object.values(errors)) {
        box.hidden = true;
        box.textContent = '';
        box.closest('[data-field]').classList.remove('invalid');
      }
    },
  };
}

// The producer field: a search over the producers the writer may see, the one chosen, and a
// new household's fields (created with the plot, in the same request).
function producerPicker(id, name, inputs, onInput) {
  const state = { id, household: null };
  inputs.producer = state;
  const chosen = el('div', { class: 'producer-chosen muted', text: id ? t('form.producerChosen', { name: name || `#${id}` }) : t('form.producerNone') });
  const search = el('input', { type: 'search', name: 'producer_q', placeholder: t('form.producerSearch'), autocomplete: 'off', spellcheck: 'false' });
  const results = el('ul', { class: 'producer-results', hidden: true });
  const fresh = el('fieldset', { class: 'household-new stack', hidden: true },
    ...['name', 'citizen_id', 'phone', 'address'].map((f) => el('label', { 'data-field': `producer.${f}` },
      el('span', { text: t(`form.household.${f === 'citizen_id' ? 'citizenId' : f}`) }),
      el('input', { name: `household_${f}`, autocomplete: 'off', inputmode: f === 'citizen_id' || f === 'phone' ? 'numeric' : undefined }))));
  const newButton = el('button', { type: 'button', class: 'link producer-new', text: t('form.producerNew') });
  newButton.addEventListener('click', () => {
    fresh.hidden = !fresh.hidden;
    state.household = fresh.hidden ? null : () => Object.fromEntries(['name', 'citizen_id', 'phone', 'address']
      .map((f) => [f, fresh.querySelector(`[name=household_${f}]`).value.trim()]).filter(([, v]) => v)
      .concat([['kind', 'household']]));
    if (!fresh.hidden) {
      state.id = null;
      chosen.textContent = t('form.producerNone');
      fresh.querySelector('input').focus();
    }
    onInput();
  });
  let timer = 0;
  let seq = 0;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    const q = search.value.trim();
    if (q.length < 2) {
      results.hidden = true;
      return;
    }
    timer = setTimeout(async () => {
      const mine = ++seq;
      let r;
      try {
        r = await api('GET', `/api/v1/producers?q=${encodeURIComponent(q)}&limit=8`);
      } catch {
        return;
      }
      if (mine !== seq) return;
      results.replaceChildren();
      for (const p of r.producers || []) {
        const b = el('button', { type: 'button', class: 'link', 'data-producer': p.id, text: [p.name, p.citizen_id, p.phone].filter(Boolean).join(' · ') });
        b.addEventListener('click', () => {
          state.id = p.id;
          state.household = null;
          fresh.hidden = true;
          chosen.textContent = t('form.producerChosen', { name: p.name });
          results.hidden = true;
          search.value = '';
          onInput();
        });
        results.append(el('li', {}, b));
      }
      if (!results.children.length) results.append(el('li', { class: 'muted', text: t('form.producerNoMatch') }));
      results.hidden = false;
    }, 250);
  });
  return el('div', { class: 'producer-picker' }, chosen, search, results, newButton, fresh);
}

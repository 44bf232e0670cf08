// A packing house's page (cơ sở đóng gói): where it is, who runs it, its codes per market, the
// growing areas whose produce it may pack. The officer links it to a growing area (found by
// name or code) with the days the link holds; the operator (a cooperative or exporter) applies
// for its code through Form 01 (application.js) and changes its details on the map.
import './text.js';
import { api } from '../api.js';
import { t, formatLatLon } from '../i18n.js';
import { marketName } from '../lookups.js';
import { session } from '../session.js';
import { el, errorBox, clearMarks, field, row, codeBadge, today, go, redraw, closeScreen, officerRoles } from './ui.js';
import { newApplicationView } from './application.js';
import { codeView } from './codeview.js';

let hooks = {};

/** hooks.editHouse(house) opens the map's panel on it; hooks.showArea(id) shows an area. */
export function setHouseHooks(h) {
  hooks = h;
}

/** The page of packing house id; message is said once. */
export function houseView(id, { message } = {}) {
  let said = false;
  let note = message;
  return {
    name: 'house',
    title: () => t('house.title'),
    render: async () => {
      const h = await api('GET', `/api/v1/packing-houses/${id}`);
      const msg = said ? note : message;
      said = true;
      note = null;
      const role = session()?.user?.role;
      const officer = officerRoles.includes(role);
      const page = el('div', { class: 'codes-page house', 'data-id': String(h.id) });
      page.append(el('div', { class: 'app-head' }, el('div', { class: 'app-head-line' }, el('strong', { class: 'house-name', text: h.name }))));
      if (msg) page.append(el('p', { class: 'ok', role: 'status', text: msg }));
      page.append(el('section', { class: 'house-facts' },
        row(t('house.operator'), h.operator),
        row(t('house.place'), [h.commune_name, h.province_name].filter(Boolean).join(', ')),
        row(t('house.location'), h.location ? formatLatLon(h.location[1], h.location[0]) : null)));
      const tools = el('div', { class: 'code-links' });
      if (hooks.editHouse) tools.append(el('button', { type: 'button', class: 'edit-house', text: t('house.editMap'), onclick: () => { closeScreen(); hooks.editHouse(h); } }));
      if (!officer) tools.append(el('button', { type: 'button', class: 'primary apply-house', text: t('house.apply'), onclick: () => go(newApplicationView({ house: h })) }));
      page.append(tools);

      page.append(el('h3', { text: t('house.codes') }));
      if (!h.codes?.length) page.append(el('p', { class: 'muted', text: t('org.noCodes') }));
      else {
        page.append(el('ul', { class: 'house-codes' }, h.codes.map((c) => el('li', { 'data-code': c.code },
          officer ? el('button', { type: 'button', class: 'link code-id', text: c.code, onclick: () => go(codeView(c.code)) }) : el('span', { class: 'code-id', text: c.code }),
          ' ', codeBadge(c.status), ' ', el('span', { class: 'muted', text: marketName(c.market) })))));
      }

      page.append(el('h3', { text: t('house.areas') }));
      if (!h.growing_areas?.length) page.append(el('p', { class: 'muted no-areas', text: t('house.noAreas') }));
      else {
        page.append(el('ul', { class: 'house-areas' }, h.growing_areas.map((g) => el('li', { 'data-area': String(g.id) },
          hooks.showArea ? el('button', { type: 'button', class: 'link', text: g.name, onclick: () => { closeScreen(); hooks.showArea(g.id); } }) : g.name))));
      }
      if (officer) page.append(linkForm(h, (text) => { note = text; redraw(); }));
      return page;
    },
  };
}

// The officer's link of the house to a growing area: the area found by its name or a code.
function linkForm(h, done) {
  let chosen = null; // {id, name}
  const results = el('div', { class: 'area-results', role: 'listbox' });
  const picked = el('p', { class: 'muted chosen-area', text: t('house.chooseArea') });
  const search = el('input', { type: 'search', name: 'area', autocomplete: 'off', placeholder: 'VN-DLOR-0321' });
  let seq = 0;
  const find = async () => {
    const q = search.value.trim();
    const mine = ++seq;
    if (q.length < 2) {
      results.replaceChildren();
      return;
    }
    try {
      const r = await api('GET', `/api/v1/search?q=${encodeURIComponent(q)}&limit=8`);
      if (mine !== seq) return;
      const hits = (r.results || []).filter((x) => x.type === 'growing_area' || x.type === 'code');
      results.replaceChildren(...hits.map((x) => el('button', { type: 'button', class: 'area-result', 'data-type': x.type, 'data-id': x.id, onclick: async () => {
        let area = { id: Number(x.id), name: x.label };
        if (x.type === 'code') {
          const c = await api('GET', `/api/v1/codes/${encodeURIComponent(x.id)}`);
          if (!c.growing_area) return;
          area = { id: c.growing_area.id, name: `${c.growing_area.name} (${x.id})` };
        }
        chosen = area;
        picked.textContent = t('house.chosen', { name: area.name });
        picked.classList.remove('muted');
        results.replaceChildren();
      } }, el('strong', { text: x.label }), x.detail ? el('span', { class: 'muted small', text: ` · ${x.detail}` }) : null)));
    } catch {
      // Nothing found is the same as an error here: the officer types again.
    }
  };
  search.addEventListener('input', find);
  const out = el('div', { class: 'form-message' });
  const form = el('form', { class: 'stack action link-area', novalidate: true },
    el('h4', { text: t('house.link') }),
    field(t('house.linkSearch'), search), results, picked,
    el('div', { class: 'pair' },
      field(t('house.linkFrom'), el('input', { name: 'valid_from', type: 'date', value: today() })),
      field(t('house.linkTo'), el('input', { name: 'valid_to', type: 'date' }))),
    out,
    el('button', { type: 'submit', class: 'primary save-link', text: t('house.linkSave') }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearMarks(form);
    out.replaceChildren();
    if (!chosen) {
      out.append(el('p', { class: 'error', role: 'alert', text: t('house.chooseArea') }));
      return;
    }
    const body = { valid_from: form.elements.valid_from.value };
    if (form.elements.valid_to.value) body.valid_to = form.elements.valid_to.value;
    const button = form.querySelector('.save-link');
    button.disabled = true;
    try {
      await api('PUT', `/api/v1/packing-houses/${h.id}/growing-areas/${chosen.id}`, body);
      done(t('house.linked', { name: chosen.name, from: body.valid_from.split('-').reverse().join('/') }));
    } catch (err) {
      out.append(errorBox(err, form));
      button.disabled = false;
    }
  });
  return el('section', { class: 'review-actions house-link' }, form);
}

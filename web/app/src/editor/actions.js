// What the plot panel offers whoever may change the plot: edit its shape or details, split,
// merge, delete (after a confirmation that names the plot), and its history: every version,
// when and by whom, what it changed, an earlier outline beside today's on the map, and
// restoring one (a new version equal to the old).
import './text.js';
import { api, APIError } from '../api.js';
import { t, formatDate, formatHectares } from '../i18n.js';
import { cropName } from '../lookups.js';
import { session } from '../session.js';
import { mayEdit } from './permissions.js';
import { startEdit, startAttributes, startSplit, startMerge } from './editor.js';
import { setMarks, clearMarks, bringIntoView } from './marks.js';
import { viewPadding } from '../map.js';

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

const etagOf = (f) => `"v${f.properties.version}"`;

/**
 * The panel's section for a plot (its Feature, and its producer when known): the edits the
 * signed-in user may make, and the history. onChanged(message, feature) hears a delete or a
 * restore. Null when the user may change nothing.
 */
export function plotActions(feature, producer, { onChanged } = {}) {
  const can = mayEdit(session(), feature.properties, producer);
  if (!can.details) return null;
  const producerName = producer?.name || '';
  const section = el('section', { class: 'plot-actions' }, el('h3', { text: t('edit.actions') }));
  const buttons = el('div', { class: 'action-buttons' });
  const out = el('div', { class: 'action-out' });
  if (can.shape) buttons.append(el('button', { type: 'button', class: 'edit-shape', text: t('edit.editGeometry'), onclick: () => startEdit(feature, etagOf(feature), { producerName }) }));
  buttons.append(el('button', { type: 'button', class: 'edit-details', text: t('edit.editAttributes'), onclick: () => startAttributes(feature, etagOf(feature), { farmer: can.farmer, producerName }) }));
  if (can.shape) {
    buttons.append(
      el('button', { type: 'button', class: 'split', text: t('edit.split'), onclick: () => startSplit(feature, etagOf(feature)) }),
      el('button', { type: 'button', class: 'merge', text: t('edit.merge'), onclick: () => startMerge(feature) }),
      el('button', { type: 'button', class: 'delete danger', text: t('edit.delete'), onclick: () => confirmDelete(feature, out, onChanged) }));
  }
  section.append(buttons, out, historySection(feature, can, onChanged));
  return section;
}

// Asks in the panel itself (a phone's confirm() hides the map), naming the plot.
function confirmDelete(feature, out, onChanged) {
  const p = feature.properties;
  const ask = el('div', { class: 'confirm', role: 'alertdialog' },
    el('p', { text: t('edit.confirmDelete', { id: feature.id, crop: cropName(p.crop), ha: formatHectares(p.area_ha) }) }));
  const msg = el('p', { class: 'error', role: 'alert', hidden: true });
  ask.append(
    el('button', { type: 'button', class: 'danger confirm-delete', text: t('edit.delete'), onclick: async () => {
      try {
        await api('DELETE', `/api/v1/plots/${feature.id}`, undefined, { 'If-Match': etagOf(feature) });
        onChanged?.(t('edit.deleted', { id: feature.id }), null);
      } catch (err) {
        msg.textContent = err instanceof APIError ? err.message : t('error.network');
        msg.hidden = false;
      }
    } }),
    el('button', { type: 'button', text: t('edit.cancel'), onclick: () => out.replaceChildren() }),
    msg);
  out.replaceChildren(ask);
}

function historySection(feature, can, onChanged) {
  const box = el('section', { class: 'history' }, el('h3', { text: t('history.title') }));
  const list = el('ol', { class: 'versions' });
  const load = el('button', { type: 'button', class: 'link show-history', text: t('history.show') });
  load.addEventListener('click', async () => {
    load.disabled = true;
    try {
      const fc = await api('GET', `/api/v1/plots/${feature.id}/history`);
      renderVersions(list, fc.features, feature, can, onChanged);
      load.remove();
    } catch (err) {
      list.replaceChildren(el('li', { class: 'error', text: err.message }));
      load.disabled = false;
    }
  });
  const parents = feature.properties.parent_ids;
  if (parents?.length) box.append(el('p', { class: 'muted parents', text: t('history.parents', { ids: parents.join(', ') }) }));
  box.append(load, list);
  return box;
}

function renderVersions(list, versions, feature, can, onChanged) {
  list.replaceChildren();
  let shown = null;
  for (const v of versions) {
    const p = v.properties;
    const current = p.version === feature.properties.version;
    const what = p.changes?.length
      ? t('history.changed', { what: p.changes.map((c) => t(`history.field.${c}`)).join(', ') })
      : t('history.created');
    const head = el('div', { class: 'version-head' },
      el('strong', { text: t('history.version', { version: p.version }) }),
      current ? el('span', { class: 'badge current', text: t('history.current') }) : null);
    const li = el('li', { 'data-version': p.version },
      head,
      el('div', { class: 'muted', text: [formatDate(p.valid_from, true), p.written_by ? t('history.by', { who: p.written_by }) : '', p.valid_to ? t('history.validTo', { at: formatDate(p.valid_to, true) }) : ''].filter(Boolean).join(' · ') }),
      el('div', { class: 'what', text: `${what} — ${cropName(p.crop)}, ${formatHectares(p.area_ha)}` }));
    if (!current) {
      const show = el('button', { type: 'button', class: 'link on-map', text: t('history.onMap') });
      show.addEventListener('click', () => {
        if (shown === p.version) {
          clearMarks('other');
          shown = null;
          show.textContent = t('history.onMap');
          return;
        }
        list.querySelectorAll('.on-map').forEach((b) => { b.textContent = t('history.onMap'); });
        setMarks('other', [v.geometry]);
        bringIntoView([v.geometry, feature.geometry].filter(Boolean), viewPadding(true));
        shown = p.version;
        show.textContent = t('history.hideMap');
      });
      li.append(show);
      if (can.shape) li.append(restoreButton(feature, p, li, onChanged));
    }
    list.append(li);
  }
}

function restoreButton(feature, p, li, onChanged) {
  const b = el('button', { type: 'button', class: 'link restore', text: t('history.restore') });
  b.addEventListener('click', () => {
    const msg = el('p', { class: 'error', role: 'alert', hidden: true });
    const ask = el('div', { class: 'confirm', role: 'alertdialog' },
      el('p', { text: t('edit.confirmRestore', { id: feature.id, version: p.version, at: formatDate(p.valid_from, true) }) }),
      el('button', { type: 'button', class: 'primary confirm-restore', text: t('history.restore'), onclick: async () => {
        try {
          const f = await api('POST', `/api/v1/plots/${feature.id}/restore`, { version: p.version }, { 'If-Match': etagOf(feature) });
          clearMarks('other');
          onChanged?.(t('edit.restored', { version: p.version, id: feature.id, now: f.properties.version }), f);
        } catch (err) {
          msg.textContent = err instanceof APIError ? err.message : t('error.network');
          msg.hidden = false;
        }
      } }),
      el('button', { type: 'button', text: t('edit.cancel'), onclick: () => ask.remove() }),
      msg);
    li.append(ask);
  });
  return b;
}

// The export market's two steps of a code (issue 14): proposed to the importing country by the
// national authority (the date and the document), then confirmed by it (the date recorded, the
// date of the importing country's list and its reference). The officer records each as it
// happens, in that order; the box shows what is recorded.
import './text.js';
import { api, APIError } from '../api.js';
import { t } from '../i18n.js';
import { el, errorBox, clearMarks, field, day, today } from './ui.js';

// The steps each POST answered, by code: shown again when the box is drawn anew (a language
// switch) on a server with no GET of them.
const answered = new Map();

/**
 * The steps of code (its market, which is not VN) as a box; editable adds the officer's form for
 * the next step. The steps are read from GET /api/v1/codes/{code}/market-steps when the server
 * has it; each POST answers them too.
 */
export async function marketStepsBox(code, { editable = false } = {}) {
  let steps = null;
  try {
    steps = await api('GET', `/api/v1/codes/${encodeURIComponent(code)}/market-steps`);
  } catch (err) {
    if (!(err instanceof APIError) || err.status !== 404) throw err;
    steps = answered.get(code) || null;
  }
  const box = el('section', { class: 'market-steps', 'data-code': code });
  const draw = (message) => {
    const s = steps || {};
    const proposed = !!s.proposed_on;
    const confirmed = !!s.confirmed_on;
    box.dataset.step = confirmed ? 'confirmed' : proposed ? 'proposed' : 'none';
    const list = el('ol', { class: 'steps' },
      el('li', { class: `step proposed${proposed ? ' done' : ''}` },
        el('strong', { text: t('steps.proposed') }), el('span', { class: 'muted small', text: ` — ${t('steps.proposedHint')}` }), el('br'),
        el('span', { class: 'value', text: proposed ? t('steps.proposedLine', { on: day(s.proposed_on), document: s.proposed_document || '—' }) : t('steps.notYet') })),
      el('li', { class: `step confirmed${confirmed ? ' done' : ''}` },
        el('strong', { text: t('steps.confirmed') }), el('span', { class: 'muted small', text: ` — ${t('steps.confirmedHint')}` }), el('br'),
        el('span', { class: 'value', text: confirmed ? t('steps.confirmedLine', { on: day(s.confirmed_on), list: day(s.confirmed_list_date) || '—', reference: s.confirmed_reference ? ` · ${s.confirmed_reference}` : '' }) : t('steps.notYet') })));
    box.replaceChildren(el('h3', { text: t('steps.title') }), list);
    if (message) box.append(el('p', { class: 'ok', role: 'status', text: message }));
    if (!editable || confirmed) return;
    const out = el('div', { class: 'form-message' });
    const next = proposed ? 'confirmed' : 'proposed';
    const form = el('form', { class: `stack action step-form ${next}`, novalidate: true },
      el('h4', { text: t(next === 'proposed' ? 'steps.recordProposed' : 'steps.recordConfirmed') }),
      next === 'proposed'
        ? el('div', { class: 'pair' },
          field(t('steps.on'), el('input', { name: 'on', type: 'date', value: today(), max: today() })),
          field(t('steps.document'), el('input', { name: 'document', autocomplete: 'off', placeholder: '12/BVTV-KD' })))
        : el('div', { class: 'pair' },
          field(t('steps.on'), el('input', { name: 'on', type: 'date', value: today(), max: today() })),
          field(t('steps.listDate'), el('input', { name: 'list_date', type: 'date', value: today(), max: today() }))),
      next === 'confirmed' ? field(t('steps.reference'), el('input', { name: 'reference', autocomplete: 'off', placeholder: 'GACC' })) : null,
      out,
      el('button', { type: 'submit', class: `primary record-${next}`, text: t(next === 'proposed' ? 'steps.recordProposed' : 'steps.recordConfirmed') }));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearMarks(form);
      out.replaceChildren();
      const f = form.elements;
      const body = { step: next, on: f.on.value };
      if (next === 'proposed') body.document = f.document.value.trim();
      else {
        body.list_date = f.list_date.value;
        body.reference = f.reference.value.trim();
      }
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        steps = await api('POST', `/api/v1/codes/${encodeURIComponent(code)}/market-steps`, body);
        answered.set(code, steps);
        draw(t('steps.saved'));
      } catch (err) {
        out.append(errorBox(err, form));
        button.disabled = false;
      }
    });
    box.append(form);
  };
  draw();
  return box;
}

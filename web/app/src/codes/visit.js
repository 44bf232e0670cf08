// A supervision visit (giám sát định kỳ) to a code's growing area or packing house, recorded on
// a phone in the field like the inspection: the same checklist, the conclusion and remarks,
// and, when what was found calls for it, the code's suspension in the same step (one of the
// reasons of the schema, a note and the document). Saved, it shows the code's new status.
import './text.js';
import { upload } from '../api.js';
import { t } from '../i18n.js';
import { session } from '../session.js';
import { el, errorBox, clearMarks, markField, field, selectOf, today, day, go } from './ui.js';
import { checklistFields, readRecord, photoPicker } from './inspection.js';
import { codeView, codeChanged } from './codeview.js';

export const REASONS = ['quarantine_pest', 'residue_violation', 'code_borrowing', 'missed_supervision', 'other'];

/** The visit form of code; house says it covers a packing house (its own checklist). */
export function visitView(code, { house = false } = {}) {
  return {
    name: 'visit',
    title: () => `${t('visit.title')} · ${code}`,
    render: async () => {
      const me = (session()?.user?.display_name || '').replace(/\s*\(.*\)$/, '');
      const picker = photoPicker();
      const conclusion = el('fieldset', { class: 'group conclusion' }, el('legend', { text: t('insp.conclusion') }),
        ['pass', 'conditional', 'fail'].map((k) => el('label', { class: `choice ${k}` }, el('input', { type: 'radio', name: 'conclusion', value: k }), el('span', { text: t(`insp.conclusion.${k}`) }))));
      const suspendBox = el('div', { class: 'suspend-fields', hidden: true },
        field(t('visit.reason'), selectOf('suspend.reason', REASONS.map((r) => [r, t(`reason.${r}`)]))),
        field(t('visit.suspendNote'), el('textarea', { name: 'suspend.note', rows: 2 })),
        field(t('visit.suspendDocument'), el('input', { name: 'suspend.document', autocomplete: 'off', placeholder: '77/TB-CCTTBVTV' })));
      const suspend = el('input', { type: 'checkbox', name: 'suspend' });
      const save = el('button', { type: 'submit', class: 'primary save-visit', text: t('visit.save') });
      suspend.addEventListener('change', () => {
        suspendBox.hidden = !suspend.checked;
        save.textContent = t(suspend.checked ? 'visit.saveSuspend' : 'visit.save');
        save.classList.toggle('danger', suspend.checked);
        if (suspend.checked) suspendBox.querySelector('select').focus();
      });
      const out = el('div', { class: 'form-message' });
      // A reason chosen answers the complaint about its absence.
      suspendBox.querySelector('select').addEventListener('change', () => { clearMarks(form); out.replaceChildren(); });
      const form = el('form', { class: 'stack inspection-form visit-form', novalidate: true },
        el('div', { class: 'pair' },
          field(t('visit.on'), el('input', { name: 'on', type: 'date', value: today(), max: today() })),
          field(t('insp.inspectors'), el('input', { name: 'inspectors', autocomplete: 'off', value: me }))),
        checklistFields(house),
        picker.element,
        conclusion,
        field(t('visit.notes'), el('textarea', { name: 'notes', rows: 3 })),
        el('fieldset', { class: 'group suspend' }, el('legend', { text: t('visit.suspend') }),
          el('label', { class: 'check suspend-toggle' }, suspend, el('span', { text: t('visit.suspendCheck') })),
          el('p', { class: 'muted small', text: t('visit.suspendHint') }),
          suspendBox),
        out,
        el('div', { class: 'codes-actions sticky' }, save));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const body = readRecord(form, house, out);
        if (!body) return;
        const f = form.elements;
        body.notes = f.notes.value.trim();
        if (suspend.checked) {
          const reason = f['suspend.reason'].value;
          if (!reason) {
            markField(form, 'suspend.reason', t('visit.needReason'));
            out.append(el('p', { class: 'error', role: 'alert', text: t('visit.needReason') }));
            form.elements['suspend.reason'].focus();
            return;
          }
          body.suspend = { reason, note: f['suspend.note'].value.trim(), document: f['suspend.document'].value.trim() };
        }
        save.disabled = true;
        const label = save.textContent;
        save.textContent = t('codes.saving');
        try {
          // Like the inspection: the record and its photos in one form, one transaction.
          const data = new FormData();
          data.append('visit', JSON.stringify(body));
          picker.appendTo(data);
          await upload(`/api/v1/codes/${encodeURIComponent(code)}/visits`, data);
          picker.clear();
          if (body.suspend) codeChanged();
          go(codeView(code, { message: t(body.suspend ? 'visit.savedSuspended' : 'visit.saved', { on: day(body.on) }) }), { replace: true });
        } catch (err) {
          out.append(errorBox(err, form));
          save.disabled = false;
          save.textContent = label;
        }
      });
      return el('div', { class: 'codes-page inspection visit' }, form);
    },
  };
}

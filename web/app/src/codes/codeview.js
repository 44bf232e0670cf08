// One code, for the officer of its province: its status (with the suspension's reason),
// validity and decision, what it covers; the supervision visit (visit.js); reinstating a
// suspended code (its original validity and approving document kept) and revoking; the export
// market's two steps (marketsteps.js); the decision's print page, the public lookup and the map.
import './text.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { marketName } from '../lookups.js';
import { session } from '../session.js';
import { el, errorBox, clearMarks, field, codeBadge, day, go, closeScreen, officerRoles } from './ui.js';
import { visitView } from './visit.js';
import { marketStepsBox } from './marketsteps.js';

let hooks = {};

/**
 * hooks.showArea(id) shows a growing area on the map; hooks.showHouse(id) a packing house;
 * hooks.changed() hears that a code's status changed (the map draws it again).
 */
export function setCodeViewHooks(h) {
  hooks = h;
}

/** The label of a suspension reason code. */
export const reasonLabel = (r) => (r ? (t(`reason.${r}`) === `reason.${r}` ? r : t(`reason.${r}`)) : '');

/** The view of one code; message is said once at its top; overdue (from the inbox) says since when. */
export function codeView(code, { message, overdue } = {}) {
  let said = false;
  return {
    name: 'code',
    title: () => t('code.title', { code }),
    render: async () => {
      const r = await api('GET', `/api/v1/codes/${encodeURIComponent(code)}`);
      const c = r.code;
      const msg = said ? null : message;
      said = true;
      const officer = officerRoles.includes(session()?.user?.role);
      const place = r.growing_area || r.packing_house;
      const page = el('div', { class: 'codes-page code-view', 'data-code': c.code, 'data-status': c.status });
      page.append(el('div', { class: 'app-head' },
        el('div', { class: 'app-head-line' }, el('strong', { class: 'code-id', text: c.code }), codeBadge(c.status)),
        el('p', { class: 'muted', text: [marketName(c.market), place?.name, r.valid_today ? t('code.validToday') : t('code.notValidToday')].filter(Boolean).join(' · ') })));
      if (msg) page.append(el('p', { class: 'ok', role: 'status', text: msg }));
      if (c.status === 'suspended' && c.status_reason) page.append(el('p', { class: 'notice suspension', text: t('code.reason', { reason: reasonLabel(c.status_reason) }) }));
      if (overdue && c.status === 'active') page.append(el('p', { class: 'notice overdue', text: t('visit.overdue', { n: overdue.days_overdue, due: day(overdue.due) }) }));
      const facts = el('section', { class: 'code-facts' },
        c.valid_to ? el('p', { class: 'validity', text: t('review.validity', { from: day(c.valid_from), to: day(c.valid_to) }) })
          : c.valid_from ? el('p', { class: 'validity', text: t('code.validFrom', { from: day(c.valid_from) }) }) : null,
        c.approving_document ? el('p', { class: 'muted decision', text: [c.approving_document, c.approving_authority].filter(Boolean).join(' · ') }) : null);
      const links = el('div', { class: 'code-links' },
        el('a', { class: 'public-link', href: `/v/${encodeURIComponent(c.code)}`, target: '_blank', rel: 'noopener', text: t('review.publicLookup') }),
        el('a', { class: 'print-link', href: `/print/codes/${encodeURIComponent(c.code)}`, target: '_blank', rel: 'noopener', text: t('code.print') }));
      if (r.growing_area && hooks.showArea) links.append(el('button', { type: 'button', class: 'link show-on-map', text: t('review.showOnMap'), onclick: () => { closeScreen(); hooks.showArea(r.growing_area.id); } }));
      if (r.packing_house && hooks.showHouse) links.append(el('button', { type: 'button', class: 'link open-house', text: t('house.open'), onclick: () => hooks.showHouse(r.packing_house.id) }));
      facts.append(links);
      page.append(facts);
      if (officer) {
        const actions = actionsBox(c, r);
        if (actions) page.append(actions);
      }
      if (c.market !== 'VN') page.append(await marketStepsBox(c.code, { editable: officer && ['active', 'suspended'].includes(c.status) }));
      return page;
    },
  };
}

// The officer's actions on a code in its status: a visit, reinstating, revoking.
function actionsBox(c, r) {
  if (!['active', 'suspended'].includes(c.status)) return null;
  const box = el('section', { class: 'code-actions' }, el('h3', { text: t('code.actions') }));
  box.append(el('button', { type: 'button', class: 'primary record-visit', text: t('code.visit'), onclick: () => go(visitView(c.code, { house: !!r.packing_house })) }));
  const change = (status, cls, titleKey, hintKey, doneKey, folded) => {
    const out = el('div', { class: 'form-message' });
    const inner = [
      el('p', { class: 'muted small', text: t(hintKey) }),
      el('div', { class: 'pair' },
        field(t('code.note'), el('input', { name: 'note', autocomplete: 'off' })),
        field(t('code.document'), el('input', { name: 'document', autocomplete: 'off', placeholder: '88/QĐ-CCTTBVTV' }))),
      out,
      el('button', { type: 'submit', class: cls, text: t(titleKey) }),
    ];
    const f = el('form', { class: `stack action ${status}`, novalidate: true },
      folded ? el('details', {}, el('summary', { text: t(titleKey) }), ...inner) : el('h4', { text: t(titleKey) }), ...(folded ? [] : inner));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearMarks(f);
      out.replaceChildren();
      const note = f.elements.note.value.trim();
      const button = f.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        await api('POST', `/api/v1/codes/${encodeURIComponent(c.code)}/status`, { status, note, document: f.elements.document.value.trim() });
        codeChanged();
        go(codeView(c.code, { message: t(doneKey, { code: c.code }) }), { replace: true });
      } catch (err) {
        out.append(errorBox(err, f));
        button.disabled = false;
      }
    });
    return f;
  };
  if (c.status === 'suspended') box.append(change('active', 'primary reinstate-code', 'code.reinstate', 'code.reinstateHint', 'code.reinstated', false));
  box.append(change('revoked', 'danger revoke-code', 'code.revoke', 'code.revokeHint', 'code.revoked', true));
  return box;
}

/** Says that a code's status changed: the map's tiles are read again. */
export const codeChanged = () => hooks.changed?.();

// The officer's inbox: applications to review (submitted and under review), inspections
// scheduled, codes overdue for supervision, codes expiring within 60 days and seasonal reports
// missing, each counted, within the officer's jurisdiction (the server filters).
import './text.js';
import { api } from '../api.js';
import { t, formatHectares, formatNumber } from '../i18n.js';
import { marketName } from '../lookups.js';
import { el, table, appBadge, codeBadge, day, go, closeScreen } from './ui.js';
import { applicationView } from './review.js';
import { codeView } from './codeview.js';
import { visitView } from './visit.js';
import { seasonalView } from './seasonal.js';

const QUEUES = ['review', 'inspections', 'overdue', 'expiring', 'reports_missing'];
let current = 'review';
let hooks = {};

/** Where a growing area is shown on the map: hooks.showArea(id); hooks.newHouse() places a packing house. */
export function setInboxHooks(h) {
  hooks = h;
}

/** The inbox's counts (for the button's badge), or null. */
export async function inboxCounts() {
  try {
    return (await api('GET', '/api/v1/inbox')).counts;
  } catch {
    return null;
  }
}

function applicationRows(list) {
  return list.map((a) => el('tr', { class: 'application-row', 'data-id': String(a.id), tabindex: '0', onclick: () => go(applicationView(a.id)),
    onkeydown: (e) => { if (e.key === 'Enter') go(applicationView(a.id)); } },
  el('td', {}, el('button', { type: 'button', class: 'link open-application', text: `#${a.id}` })),
  el('td', { text: a.growing_area?.name || a.packing_house?.name || '' }),
  el('td', { text: a.registrant?.name || '' }),
  el('td', { text: marketName(a.market) }),
  el('td', { class: 'num', text: a.area_ha != null ? formatHectares(a.area_ha) : '' }),
  el('td', { text: day(a.submitted_at) }),
  el('td', {}, appBadge(a.status), a.inspection_on ? el('div', { class: 'muted', text: day(a.inspection_on) }) : null)));
}

function codeRows(list, what) {
  return list.map((c) => {
    const name = c.place || c.name || '';
    let when = '';
    if (what === 'overdue') {
      when = `${c.last_visit ? t('inbox.lastVisit', { date: day(c.last_visit) }) : t('inbox.neverVisited')} · ${t('inbox.due', { date: day(c.due) })}`;
    } else if (what === 'expiring') when = `→ ${day(c.valid_to)}${c.days_left != null ? ` (${t('inbox.daysLeft', { n: formatNumber(c.days_left) })})` : ''}`;
    else if (c.season) when = t('inbox.season', { season: c.season });
    let action = null;
    if (what === 'overdue') action = el('button', { type: 'button', class: 'record-visit', text: t('inbox.recordVisit'), onclick: () => go(visitView(c.code, { house: !!c.packing_house_id })) });
    else if (what === 'reports_missing' && c.growing_area_id) action = el('button', { type: 'button', class: 'open-reports', text: t('inbox.openReports'), onclick: () => go(seasonalView(c.growing_area_id, { due: c })) });
    return el('tr', { class: 'code-row', 'data-code': c.code },
      el('td', {}, el('button', { type: 'button', class: 'link code-id open-code', text: c.code, onclick: () => go(codeView(c.code, { overdue: what === 'overdue' ? c : undefined })) })),
      el('td', {}, c.growing_area_id && hooks.showArea
        ? el('button', { type: 'button', class: 'link', text: name, onclick: () => { closeScreen(); hooks.showArea(c.growing_area_id); } })
        : name),
      el('td', { text: marketName(c.market) }),
      el('td', {}, c.status ? codeBadge(c.status) : null),
      el('td', {}, when, action ? el('div', {}, action) : null));
  });
}

/** The inbox view. */
export function inboxView() {
  return {
    name: 'inbox',
    title: () => t('inbox.title'),
    render: async () => {
      const r = await api('GET', '/api/v1/inbox');
      const counts = r.counts || {};
      const tabs = el('div', { class: 'tabs inbox-tabs', role: 'tablist' });
      const body = el('div', { class: 'inbox-list' });
      const show = (q) => {
        current = q;
        tabs.querySelectorAll('[role=tab]').forEach((b) => b.setAttribute('aria-selected', String(b.dataset.queue === q)));
        const list = r[q] || [];
        if (!list.length) {
          body.replaceChildren(el('p', { class: 'muted', text: t('inbox.empty') }));
          return;
        }
        if (q === 'review' || q === 'inspections') {
          body.replaceChildren(table(`applications ${q}`, ['', t('org.col.growingArea'), t('org.col.registrant'), t('org.col.market'), t('org.col.area'), t('org.col.submitted'), t('org.col.status')], applicationRows(list)));
        } else {
          body.replaceChildren(table(`codes ${q}`, [t('org.col.code'), t('org.col.growingArea'), t('org.col.market'), t('org.col.status'), ''], codeRows(list, q)));
        }
      };
      for (const q of QUEUES) {
        tabs.append(el('button', { type: 'button', role: 'tab', 'data-queue': q, onclick: () => show(q) },
          el('span', { class: 'tab-label', text: t(`inbox.${q}`) }), el('span', { class: `count${counts[q] ? ' some' : ''}`, text: formatNumber(counts[q] ?? (r[q] || []).length) })));
      }
      show(current);
      return el('div', { class: 'codes-page inbox' }, tabs, body,
        el('div', { class: 'codes-actions' }, el('button', { type: 'button', class: 'new-house', text: t('org.newHouse'), onclick: () => { closeScreen(); hooks.newHouse?.(); } })));
    },
  };
}

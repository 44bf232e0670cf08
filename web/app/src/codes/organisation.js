// The cooperative's (or enterprise's) page: its growing areas with their size and households,
// its applications and their state, its codes with their status per market and validity, the
// seasonal reports due, its packing houses, and how many member plots are in no area yet; from
// here it forms a new growing area on the map (or changes an area's plots), applies for a code,
// files the seasonal reports and registers a packing house.
import './text.js';
import { api } from '../api.js';
import { t, formatHectares, formatNumber } from '../i18n.js';
import { marketName } from '../lookups.js';
import { el, table, appBadge, codeBadge, day, go, closeScreen } from './ui.js';
import { newApplicationView } from './application.js';
import { applicationView } from './review.js';
import { seasonalView } from './seasonal.js';
import { houseView } from './house.js';

let hooks = {};

/**
 * hooks.formArea(area) starts forming an area on the map (changing area's plots, when given);
 * hooks.showArea(id) shows one; hooks.newHouse() places a new packing house on the map.
 */
export function setOrganisationHooks(h) {
  hooks = h;
}

/** The cooperative's page. */
export function organisationView() {
  return {
    name: 'organisation',
    title: () => t('org.title'),
    render: async () => {
      const r = await api('GET', '/api/v1/organisation');
      const page = el('div', { class: 'codes-page organisation' });
      page.append(el('div', { class: 'org-head' },
        el('strong', { class: 'org-name', text: r.producer?.name || '' }),
        el('span', { class: 'muted free-plots', text: t('org.freePlots', { n: formatNumber(r.members_plots_free ?? 0) }) }),
        el('button', { type: 'button', class: 'primary new-area', text: t('org.newArea'), onclick: () => { closeScreen(); hooks.formArea?.(); } })));

      page.append(el('h3', { text: t('org.areas') }));
      if (!r.areas?.length) page.append(el('p', { class: 'muted', text: t('org.noAreas') }));
      else {
        page.append(table('areas', [t('org.col.name'), t('org.col.area'), t('org.col.households'), t('org.col.plots'), ''], r.areas.map((a) => el('tr', { 'data-area': String(a.id) },
          el('td', {}, hooks.showArea ? el('button', { type: 'button', class: 'link', text: a.name, onclick: () => { closeScreen(); hooks.showArea(a.id); } }) : a.name),
          el('td', { class: 'num', text: formatHectares(a.area_ha) }),
          el('td', { class: 'num', text: formatNumber(a.households) }),
          el('td', { class: 'num', text: formatNumber(a.plot_count) }),
          el('td', { class: 'area-actions' },
            el('button', { type: 'button', class: 'apply', text: t('org.apply'), onclick: () => go(newApplicationView(a)) }),
            el('button', { type: 'button', class: 'edit-plots', text: t('org.editPlots'), onclick: () => { closeScreen(); hooks.formArea?.(a); } }),
            el('button', { type: 'button', class: 'open-reports', text: t('org.reports'), onclick: () => go(seasonalView(a.id)) }))))));
      }

      page.append(el('h3', { text: t('org.applications') }));
      if (!r.applications?.length) page.append(el('p', { class: 'muted', text: t('org.noApplications') }));
      else {
        page.append(table('applications', ['', t('org.col.growingArea'), t('org.col.market'), t('org.col.status'), t('org.col.submitted'), t('org.col.code')], r.applications.map((a) => el('tr', { class: 'application-row', 'data-id': String(a.id) },
          el('td', {}, el('button', { type: 'button', class: 'link open-application', text: `#${a.id}`, onclick: () => go(applicationView(a.id)) })),
          el('td', { text: a.growing_area?.name || a.packing_house?.name || '' }),
          el('td', { text: marketName(a.market) }),
          el('td', {}, appBadge(a.status)),
          el('td', { text: day(a.submitted_at) }),
          el('td', { class: 'code-id', text: a.code || '' })))));
      }

      page.append(el('h3', { text: t('org.codes') }));
      if (!r.codes?.length) page.append(el('p', { class: 'muted', text: t('org.noCodes') }));
      else {
        const areaName = new Map((r.areas || []).map((a) => [a.id, a.name]));
        page.append(table('codes', [t('org.col.code'), t('org.col.market'), t('org.col.status'), t('org.col.valid'), t('org.col.growingArea')], r.codes.map((c) => el('tr', { 'data-code': c.code },
          el('td', { class: 'code-id', text: c.code }),
          el('td', { text: marketName(c.market) }),
          el('td', {}, codeBadge(c.status)),
          el('td', { class: 'validity', text: c.valid_to ? t('org.validRange', { from: day(c.valid_from), to: day(c.valid_to) }) : c.valid_from ? t('org.validFrom', { from: day(c.valid_from) }) : '' }),
          el('td', { text: c.place || areaName.get(c.growing_area_id) || '' })))));
      }

      if (r.reports_due?.length) {
        page.append(el('h3', { text: t('org.reportsDue') }), el('ul', { class: 'reports-due' }, r.reports_due.map((d) => el('li', { 'data-code': d.code, 'data-area': String(d.growing_area_id) },
          el('span', { text: `${d.name ? `${d.name}: ` : ''}${t('org.reportLine', { code: d.code || '', market: d.market || '', season: d.season || '' })}` }), ' ',
          el('button', { type: 'button', class: 'file-report', text: t('org.fileReport'), onclick: () => go(seasonalView(d.growing_area_id, { due: d })) })))));
      }

      // The packing houses it runs.
      const houses = new Map((r.packing_houses || []).map((h) => [h.id, h.name]));
      page.append(el('h3', { text: t('org.houses') }));
      if (!houses.size) page.append(el('p', { class: 'muted', text: t('org.noHouses') }));
      else {
        page.append(el('ul', { class: 'houses' }, [...houses].map(([id, name]) => el('li', { 'data-house': String(id) },
          el('button', { type: 'button', class: 'link open-house', text: name || `#${id}`, onclick: () => go(houseView(id)) })))));
      }
      page.append(el('button', { type: 'button', class: 'new-house', text: t('org.newHouse'), onclick: () => { closeScreen(); hooks.newHouse?.(); } }));
      return page;
    },
  };
}

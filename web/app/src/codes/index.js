// The growing-area code service in the web app: one button on the map opens the cooperative's
// page or the officer's inbox; from them the screens of forming an area (or changing its
// plots), applying, reviewing, inspecting and deciding, supervising a code (visits, suspension,
// reinstating, revoking, the export market's steps), the seasonal reports and packing houses.
import './text.js';
import { t, formatNumber, onLangChange } from '../i18n.js';
import { reloadTiles } from '../map.js';
import { el, go, closeScreen, screenOpen, officerRoles } from './ui.js';
import { initAreaForm, startAreaForm, closeAreaForm, isFormingArea } from './areaform.js';
import { organisationView, setOrganisationHooks } from './organisation.js';
import { inboxView, inboxCounts, setInboxHooks } from './inbox.js';
import { newApplicationView } from './application.js';
import { setReviewHooks, applicationView } from './review.js';
import { codeView, setCodeViewHooks } from './codeview.js';
import { houseView, setHouseHooks } from './house.js';
import { initHouseForm, startHouseForm, closeHouseForm, isPlacingHouse } from './housemap.js';

let button = null;
let role = '';

// Cooperatives and enterprises (exporters run packing houses) have the organisation's page.
const COOP_ROLES = ['cooperative', 'exporter'];
const OFFICER_ROLES = ['officer', 'admin'];

export { isFormingArea, isPlacingHouse };

/**
 * Wires the screens: map is the MapLibre map, hooks.showArea(id) opens a growing area on it,
 * hooks.toast(text) says something briefly, hooks.beforeAreaForm() clears the map's panels for
 * forming an area.
 */
export function initCodes(map, b, hooks = {}) {
  button = b;
  initAreaForm(map, {
    onApply: (area) => go(newApplicationView(area)),
  });
  initHouseForm(map, {
    onOpen: (h) => go(houseView(h.id)),
  });
  const showArea = (id) => hooks.showArea?.(id);
  const formArea = (area) => {
    hooks.beforeAreaForm?.();
    closeHouseForm();
    startAreaForm(area?.id ? area : null);
  };
  const newHouse = () => {
    hooks.beforeAreaForm?.();
    closeAreaForm();
    startHouseForm();
  };
  const editHouse = (h) => {
    hooks.beforeAreaForm?.();
    closeAreaForm();
    startHouseForm(h);
  };
  const showHouse = (id) => go(houseView(id));
  setOrganisationHooks({ formArea, showArea, newHouse });
  setInboxHooks({ showArea, newHouse });
  setReviewHooks({ showArea });
  setCodeViewHooks({ showArea, showHouse, changed: () => reloadTiles(map) });
  setHouseHooks({ showArea, editHouse });
  button.addEventListener('click', () => openCodes());
  onLangChange(() => label());
  // For the browser tests and for links: open an application by its number.
  window.vtCodes = { open: (id) => go(applicationView(id)), home: () => openCodes(), formArea, code: (c) => go(codeView(c)), house: showHouse, newHouse };
}

/** Opens the signed-in user's starting screen: the cooperative's page or the officer's inbox. */
export function openCodes() {
  closeAreaForm();
  closeHouseForm();
  if (screenOpen()) closeScreen();
  if (COOP_ROLES.includes(role)) go(organisationView());
  else if (OFFICER_ROLES.includes(role)) go(inboxView());
}

function label() {
  if (!button) return;
  button.querySelector('.tool-text').textContent = t(COOP_ROLES.includes(role) ? 'codes.button.coop' : 'codes.button.officer');
}

/** Shows the button to cooperatives, officers and admins (with the officer's open work counted). */
export async function updateCodes(s) {
  role = s?.signed_in ? s.user?.role || '' : '';
  const may = COOP_ROLES.includes(role) || OFFICER_ROLES.includes(role);
  button.hidden = !may;
  if (!may) {
    closeAreaForm();
    closeHouseForm();
    closeScreen();
    return;
  }
  label();
  const badge = button.querySelector('.count');
  badge.hidden = true;
  if (OFFICER_ROLES.includes(role)) {
    const c = await inboxCounts();
    const n = c ? (c.review || 0) + (c.inspections || 0) : 0;
    badge.textContent = formatNumber(n);
    badge.hidden = !n;
  }
}

/**
 * What the map's panel adds under a code for an officer: the way to the code's page (visits,
 * suspension, reinstating, revoking, the export market's steps). Null for anyone else.
 */
export function codePanelAction(code) {
  if (!officerRoles.includes(role)) return null;
  return el('button', { type: 'button', class: 'link manage-code', text: t('code.open'), onclick: () => go(codeView(code)) });
}

/** What the map's panel adds to a packing house for its operator or an officer: its page. */
export function housePanelAction(id) {
  if (!role || !(officerRoles.includes(role) || COOP_ROLES.includes(role))) return null;
  return el('button', { type: 'button', class: 'link manage-house', text: t('house.open'), onclick: () => go(houseView(id)) });
}

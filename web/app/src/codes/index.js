// The growing-area code service in the web app: one button on the map opens the cooperative's
// page or the officer's inbox; from them the screens of forming an area, applying, reviewing,
// inspecting and deciding.
import './text.js';
import { t, formatNumber, onLangChange } from '../i18n.js';
import { go, closeScreen, screenOpen } from './ui.js';
import { initAreaForm, startAreaForm, closeAreaForm, isFormingArea } from './areaform.js';
import { organisationView, setOrganisationHooks } from './organisation.js';
import { inboxView, inboxCounts, setInboxHooks } from './inbox.js';
import { newApplicationView } from './application.js';
import { setReviewHooks, applicationView } from './review.js';

let button = null;
let role = '';

const COOP_ROLES = ['cooperative'];
const OFFICER_ROLES = ['officer', 'admin'];

export { isFormingArea };

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
  const showArea = (id) => hooks.showArea?.(id);
  const formArea = () => {
    hooks.beforeAreaForm?.();
    startAreaForm();
  };
  setOrganisationHooks({ formArea, showArea });
  setInboxHooks({ showArea });
  setReviewHooks({ showArea });
  button.addEventListener('click', () => openCodes());
  onLangChange(() => label());
  // For the browser tests and for links: open an application by its number.
  window.vtCodes = { open: (id) => go(applicationView(id)), home: () => openCodes(), formArea };
}

/** Opens the signed-in user's starting screen: the cooperative's page or the officer's inbox. */
export function openCodes() {
  closeAreaForm();
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

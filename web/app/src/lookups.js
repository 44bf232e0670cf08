// Names and colours of the registry's codes: crops (from /api/v1/crops), code statuses,
// markets, livestock scale classes and species, in the current language.
import { api } from './api.js';
import { currentLang, t } from './i18n.js';

let crops = new Map();
let cropColors = [];
let statusColors = { active: '#137a63', suspended: '#c62828', pending: '#d98e04', expired: '#8e24aa', none: '#607d8b' };
let riskColors = { low: '#2e7d32', high: '#c62828', more_info_needed: '#ef8f00' };

/** Loads the crop list once; later calls return the same promise. A failure leaves crop codes as names. */
export const loadCrops = (() => {
  let pending;
  return () => {
    pending ||= api('GET', '/api/v1/crops')
      .then((r) => { crops = new Map((r?.crops || []).map((c) => [c.code, c])); })
      .catch(() => {});
    return pending;
  };
})();

/** Remembers the crop and status colours the map style lists in its metadata. */
export function setStyleMetadata(metadata = {}) {
  cropColors = metadata['vungtrong:crops'] || [];
  statusColors = { ...statusColors, ...(metadata['vungtrong:status'] || {}) };
  riskColors = { ...riskColors, ...(metadata['vungtrong:risk'] || {}) };
}

/** The map's colours of deforestation risks: {low, high, more_info_needed}. */
export function screeningRiskColors() {
  return riskColors;
}

/** The crops the style colours, as [{crop, color}], in the style's order. */
export function styledCrops() {
  return cropColors;
}

/** The name of a crop code in the current language (the code itself when unknown). */
export function cropName(code) {
  const c = crops.get(code);
  if (!c) return code;
  return currentLang() === 'en' ? c.name_en : c.name_vi;
}

/** The crops of the list as [{code, name}] in the current language, sorted by name. */
export function cropList() {
  const list = [...crops.values()].map((c) => ({ code: c.code, name: currentLang() === 'en' ? c.name_en : c.name_vi }));
  return list.sort((a, b) => a.name.localeCompare(b.name, currentLang() === 'en' ? 'en' : 'vi'));
}

/** The status group of a code status: submitted and inspected codes count as pending. */
export function statusGroup(status) {
  if (status === 'submitted' || status === 'inspected') return 'pending';
  return ['active', 'suspended', 'pending', 'expired', 'revoked', 'draft'].includes(status) ? status : 'draft';
}

/** The localised name of a code status ("Đang hiệu lực", "Active", ...). */
export function statusLabel(status) {
  return t(`status.${statusGroup(status)}`);
}

/** The colour of a code status, as the map draws it (revoked and draft codes are grey). */
export function statusColor(status) {
  return statusColors[statusGroup(status)] || statusColors.none;
}

/** The map's colours of growing-area statuses: {active, suspended, pending, none}. */
export function areaStatusColors() {
  return statusColors;
}

/** The localised name of a market code ("CN" -> "Trung Quốc"), or the code when unknown. */
export function marketName(code) {
  const key = `market.${code}`;
  const name = t(key);
  return name === key ? code : `${name} (${code})`;
}

/** The localised name of a livestock species code. */
export function speciesName(code) {
  const key = `species.${code}`;
  const name = t(key);
  return name === key ? code : name;
}

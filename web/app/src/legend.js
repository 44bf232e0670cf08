// The layer switcher and legend (#layers): one checkbox per layer group, with the colours the
// style draws it in (crop colours and status colours from the style's metadata, point colours
// from the layers' paint). A button (#layers-toggle) opens and closes it.
import { t, onLangChange } from './i18n.js';
import { GROUPS, groupVisible, setGroupVisible, isPhone } from './map.js';
import { styledCrops, cropName, areaStatusColors, loadCrops, screeningRiskColors } from './lookups.js';

const OTHER_CROP = '#90a4ae';

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// A legend line: a swatch (kind fill, area, circle, line or dashed) and its text.
function item(kind, color, text, size) {
  const li = el('li');
  const s = el('span', `swatch ${kind}`);
  s.style.setProperty('--c', color);
  if (size) s.style.setProperty('--s', `${size}px`);
  li.append(s, el('span', null, text));
  return li;
}

function paint(map, layer, prop, fallback) {
  const v = map.getLayer(layer) ? map.getPaintProperty(layer, prop) : null;
  return typeof v === 'string' ? v : fallback;
}

function legendFor(map, key) {
  const ul = el('ul', 'legend');
  const status = areaStatusColors();
  const statuses = ['active', 'suspended', 'pending', 'expired', 'none'];
  switch (key) {
    case 'plots':
      ul.classList.add('crops');
      for (const c of styledCrops()) ul.append(item('fill', c.color, cropName(c.crop)));
      ul.append(item('fill', OTHER_CROP, t('legend.otherCrops')));
      ul.append(Object.assign(item('ramp', '', t('legend.density')), { className: 'wide' }));
      break;
    case 'growingAreas':
      for (const s of statuses) ul.append(item('area', status[s], t(`legend.area.${s}`)));
      break;
    case 'risk': {
      const li = el('li', 'wide');
      for (const [r, c] of Object.entries(screeningRiskColors())) {
        const sw = el('span', 'swatch area');
        sw.style.setProperty('--c', c);
        sw.title = t(`screening.risk.${r}`);
        li.append(sw);
      }
      li.append(el('span', null, t('legend.risk')));
      ul.append(li);
      break;
    }
    case 'packingHouses': {
      const li = el('li', 'wide');
      for (const s of statuses) {
        const dot = el('span', 'swatch circle');
        dot.style.setProperty('--c', status[s]);
        dot.title = t(`legend.area.${s}`);
        li.append(dot);
      }
      li.append(el('span', null, t('legend.byStatus')));
      ul.append(li);
      break;
    }
    case 'livestock': {
      const c = paint(map, 'livestock', 'circle-color', '#8d5a2b');
      const li = el('li', 'wide');
      for (const size of [18, 14, 10, 8]) {
        const dot = el('span', 'swatch circle');
        dot.style.setProperty('--c', c);
        dot.style.setProperty('--s', `${size}px`);
        li.append(dot);
      }
      li.append(el('span', null, t('legend.bySize')));
      ul.append(li);
      break;
    }
    case 'feedMills':
      ul.append(Object.assign(item('circle', paint(map, 'feed-mills', 'circle-color', '#6a3d9a'), t('layers.feedMills')), { className: 'wide' }));
      break;
    case 'boundaries':
      ul.append(item('line', paint(map, 'provinces-line', 'line-color', '#6a5a7e'), t('legend.province')));
      ul.append(item('line dashed', paint(map, 'communes-line', 'line-color', '#8d7da1'), t('legend.commune')));
      break;
    default:
  }
  return ul;
}

function render(map, panel) {
  const body = el('div', 'layers-body');
  for (const g of GROUPS) {
    if (!g.layers.some((id) => map.getLayer(id))) continue;
    const section = el('section', 'group');
    section.dataset.group = g.key;
    const label = el('label', 'toggle');
    const box = el('input');
    box.type = 'checkbox';
    box.name = g.key;
    box.dataset.group = g.key;
    box.checked = groupVisible(map, g.key);
    box.addEventListener('change', () => setGroupVisible(map, g.key, box.checked));
    label.append(box, el('span', null, t(g.label)));
    section.append(label, legendFor(map, g.key));
    body.append(section);
  }
  panel.replaceChildren(el('h2', null, t('layers.title')), body);
}

let setOpen = () => {};

/** Opens or closes the layer panel. */
export function setLegendOpen(open) {
  setOpen(open);
}

/**
 * Builds the layer switcher in panel for map and wires toggle to open and close it; onOpen is
 * told when the user opens it. It starts open on wide screens and closed on phones.
 */
export async function initLegend(map, panel, toggle, onOpen) {
  setOpen = (open) => {
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
  };
  toggle.addEventListener('click', () => {
    setOpen(panel.hidden);
    if (!panel.hidden) onOpen?.();
  });
  setOpen(!isPhone());
  render(map, panel);
  onLangChange(() => render(map, panel));
  await loadCrops();
  render(map, panel);
}

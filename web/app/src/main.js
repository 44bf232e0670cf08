// The page: header (language, who is signed in) and the map with its search box, layer
// switcher, details panel and the farmer's own plots.
import 'maplibre-gl/dist/maplibre-gl.css'; // first, so that style.css may override it
import './style.css';
import { api } from './api.js';
import { applyTo, setLang, t } from './i18n.js';
import { initSession, loadSession, onSessionChange, session } from './session.js';
import { loadCrops } from './lookups.js';
import { createMap, highlight, pick, viewPadding, isPhone, reloadTiles } from './map.js';
import { initPanel, showDetails, closeDetails, refreshDetails } from './panel.js';
import { initSearch, hideResults } from './search.js';
import { initLegend, setLegendOpen } from './legend.js';
import { initMyPlots, updateMyPlots } from './myplots.js';
import { initImport, updateImport } from './importer.js';
import { initTrace, updateTrace } from './trace/exporter.js';
import { initEditor, isEditing, startNew, closeEditor } from './editor/editor.js';
import { plotActions } from './editor/actions.js';
import { mayCreate } from './editor/permissions.js';
import { startWalk } from './editor/walk.js';
import { initCodes, updateCodes, isFormingArea, isPlacingHouse, codePanelAction, housePanelAction } from './codes/index.js';

const $ = (id) => document.getElementById(id);
const coarse = () => window.matchMedia('(pointer: coarse)').matches;

let toastTimer = 0;
/** Says something for a few seconds at the bottom of the map (a save, a delete). */
function toast(text) {
  const box = $('toast');
  box.textContent = text;
  box.hidden = !text;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 8000);
}

document.querySelectorAll('[data-lang]').forEach((b) => b.addEventListener('click', () => setLang(b.dataset.lang)));
applyTo(document);
initSession();
loadSession();
loadCrops();

function showFailure(err) {
  const card = document.createElement('section');
  card.className = 'card failure';
  card.setAttribute('role', 'alert');
  const noGL = /webgl/i.test(err?.message || '');
  card.textContent = noGL ? t('map.noWebGL') : t('map.failed', { message: err?.message || '' });
  $('main').append(card);
}

async function start() {
  let map;
  try {
    map = await createMap($('map'), $('coords'));
  } catch (err) {
    showFailure(err);
    return;
  }
  const fit = (bbox, withDetails) => map.fitBounds(bbox, { padding: viewPadding(withDetails), maxZoom: 16 });

  // Opens a thing's details, outlines it and, when asked, brings it into view.
  async function open(kind, { id, props, data, zoom = false } = {}) {
    highlight(map, kind, { id, properties: props || {} });
    const shown = await showDetails(kind, { id, props, data });
    if (zoom && shown?.bbox) fit(shown.bbox, true);
  }

  initPanel($('details'), {
    onLink: (kind, id) => open(kind, { id, zoom: true }),
    onClose: () => highlight(map, null),
    codeExtras: (code) => codePanelAction(code),
    houseExtras: (id) => housePanelAction(id),
    plotExtras: (f, producer) => plotActions(f, producer, {
      onChanged: (message, feature) => {
        reloadTiles(map);
        toast(message);
        if (feature) open('plot', { id: feature.id, data: feature });
        else closeDetails();
      },
    }),
  });

  // The editor: drawing, editing, splitting and merging plots; a saved plot opens in the panel.
  initEditor(map, {
    onSaved: (feature, message) => {
      toast(message);
      open('plot', { id: feature.id, data: feature });
    },
  });
  const updateEditTools = (s) => {
    $('draw-button').hidden = !mayCreate(s);
    $('walk-button').hidden = !mayCreate(s) || !(coarse() || isPhone());
    if (!s.signed_in) closeEditor();
    refreshDetails();
  };
  $('draw-button').addEventListener('click', () => {
    closeDetails();
    if (isPhone()) setLegendOpen(false);
    startNew();
  });
  $('walk-button').addEventListener('click', () => {
    closeDetails();
    setLegendOpen(false);
    startWalk(map);
  });
  onSessionChange(updateEditTools);
  updateEditTools(session());

  initSearch($('search'), async (r) => {
    const withDetails = r.type !== 'province';
    if (isPhone()) setLegendOpen(false);
    fit(r.bbox, withDetails);
    if (r.type === 'growing_area') open('growing_area', { id: r.id });
    else if (r.type === 'commune') open('commune', { props: { name: r.label, code: r.id } });
    else if (r.type === 'code') {
      try {
        const c = await api('GET', `/api/v1/codes/${encodeURIComponent(r.id)}`);
        if (c.growing_area) open('growing_area', { id: c.growing_area.id, data: c.growing_area });
        else if (c.packing_house) open('packing_house', { id: c.packing_house.id, data: c.packing_house });
      } catch {
        // The map has moved; without the code's details there is nothing more to show.
      }
    }
  });

  map.on('click', (e) => {
    hideResults();
    // The editor's clicks place vertices or pick plots to merge; forming a growing area, they
    // pick plots; placing a packing house, they put it there.
    if (isEditing() || isFormingArea() || isPlacingHouse()) return;
    const hit = pick(map, e.point, coarse());
    if (!hit) {
      closeDetails();
      return;
    }
    open(hit.kind, { id: hit.feature.id, props: hit.feature.properties });
    if (!isPhone()) return;
    // A phone has room for one panel; and the sheet covers the lower half, so bring what was tapped above it.
    setLegendOpen(false);
    const h = map.getContainer().clientHeight;
    if (e.point.y > h * 0.4) map.panBy([0, e.point.y - h * 0.22]);
  });

  initMyPlots(map, $('my-plots-button'));
  onSessionChange((s) => updateMyPlots(map, $('my-plots-button'), s));
  updateMyPlots(map, $('my-plots-button'), session());
  initImport(map, $('import-button'), (bbox) => fit(bbox, false));
  onSessionChange((s) => updateImport($('import-button'), s));
  updateImport($('import-button'), session());
  initTrace($('trace-button'));
  onSessionChange((s) => updateTrace($('trace-button'), s));
  updateTrace($('trace-button'), session());
  initCodes(map, $('codes-button'), {
    toast,
    showArea: (id) => open('growing_area', { id, zoom: true }),
    beforeAreaForm: () => { closeDetails(); closeEditor(); setLegendOpen(false); },
  });
  onSessionChange(updateCodes);
  updateCodes(session());
  await initLegend(map, $('layers'), $('layers-toggle'), () => { if (isPhone()) closeDetails(); });
}

start();

// Importing survey files from the browser, for officers and admins: the upload dialog, the
// job's progress (upload, reading, each check) and its report, with every problem by feature
// number and field. A report stays reachable at ?import={id} while the server keeps it (24 h);
// the address's hash belongs to the map's view.
import { api, upload, APIError } from './api.js';
import { t, hasText, applyTo, formatNumber, formatHectares, onLangChange } from './i18n.js';
import { loadCrops, cropList, cropName } from './lookups.js';
import { reloadTiles } from './map.js';

const STAGES = ['read', 'transform', 'validity', 'attributes', 'overlaps', 'placement', 'update', 'insert', 'indexes'];
const POLL_MS = 400;

let dialog;
let map;
let onFit;
let polling = 0; // the job being followed; a newer one stops the older poll
let lastJob = null;
// autoCommit is the dry run that the form runs before every import: when it ends without
// problems and changes no registered plot, it is committed at once; when it changes some, the
// officer reads each change and confirms (or not).
let autoCommit = null;

const $ = (sel) => dialog.querySelector(sel);

// Puts the report's job id in the address (?import=id), or takes it away (null).
function setAddress(id) {
  const u = new URL(location.href);
  if (id) u.searchParams.set('import', id);
  else if (u.searchParams.has('import')) u.searchParams.delete('import');
  else return;
  history.replaceState(history.state, '', u);
}

function show(part) {
  $('#import-form').hidden = part !== 'form';
  $('.import-status').hidden = part === 'form';
}

function setProgress(value, text) {
  const bar = $('progress');
  if (value == null) bar.removeAttribute('value');
  else bar.value = value;
  $('.import-stage').textContent = text;
}

// The share of the work done after a progress report of the server: reading the file is the
// first quarter (by bytes), the checks and writes the rest (by stage).
function progressOf(p, state) {
  if (state === 'queued') return [null, t('import.stage.queued')];
  if (!p || !p.stage) return [null, ''];
  if (p.stage === 'read') {
    const share = p.size > 0 ? Math.min(1, p.bytes / p.size) : 0;
    return [0.25 * share, t('import.stage.read', { n: formatNumber(p.features) })];
  }
  const i = Math.max(1, STAGES.indexOf(p.stage));
  return [0.25 + (0.75 * i) / (STAGES.length - 1), t('import.stage.done', { stage: t(`import.stage.${p.stage}`), n: formatNumber(p.features) })];
}

function cell(tag, text) {
  const el = document.createElement(tag);
  el.textContent = text;
  return el;
}

// Values of a problem that are quantities, written as numbers are in the page's language.
const quantities = new Set(['area', 'min', 'max', 'm2', 'pct', 'declared', 'before', 'after', 'n']);

// A problem in the page's language when the server named its kind (code and args), else the
// server's own message.
function detailText(d) {
  if (!d.code || !hasText(`import.problem.${d.code}`)) return d.message || '';
  const vars = { ...(d.args || {}) };
  for (const [k, v] of Object.entries(vars)) {
    if (quantities.has(k) && /^-?\d+(\.\d+)?$/.test(v)) vars[k] = formatNumber(Number(v), (v.split('.')[1] || '').length);
  }
  if (vars.reason) vars.reason = hasText(`import.reason.${vars.reason}`) ? t(`import.reason.${vars.reason}`) : vars.reason;
  if (d.code === 'invalid_geometry') vars.at = vars.lon && vars.lat ? t('import.at', vars) : '';
  return t(`import.problem.${d.code}`, vars);
}

// A table of details (problems or warnings): feature number, field, message.
function detailTable(caption, details, cls) {
  const wrap = document.createElement('section');
  wrap.className = `import-details ${cls}`;
  wrap.append(cell('h3', `${caption} (${formatNumber(details.length)})`));
  const table = document.createElement('table');
  const head = document.createElement('tr');
  head.append(cell('th', t('import.col.feature')), cell('th', t('import.col.field')), cell('th', t('import.col.message')));
  table.append(head);
  for (const d of details) {
    const tr = document.createElement('tr');
    const field = d.field ? t(`import.field.${d.field}`) : '';
    tr.append(cell('td', d.feature ? formatNumber(d.feature) : ''), cell('td', field.startsWith('import.field.') ? d.field : field), cell('td', detailText(d)));
    table.append(tr);
  }
  wrap.append(table);
  return wrap;
}

// What an import changes in one registered plot, in words.
function changeText(c) {
  const parts = [c.moved_m > 0 ? t('import.change.moved', { m: formatNumber(c.moved_m, 1) }) : t('import.change.same')];
  if (Math.abs(c.area_after_ha - c.area_before_ha) >= 0.0001) {
    parts.push(t('import.change.area', { before: formatHectares(c.area_before_ha), after: formatHectares(c.area_after_ha) }));
  }
  if (c.crop_before !== c.crop_after) parts.push(t('import.change.crop', { before: cropName(c.crop_before), after: cropName(c.crop_after) }));
  if (c.commune_before !== c.commune_after) parts.push(t('import.change.commune', { before: c.commune_before || '—', after: c.commune_after || '—' }));
  if (c.owner_changed) parts.push(t('import.change.owner'));
  if (c.other?.length) {
    parts.push(t('import.change.other', { fields: c.other.map((f) => (hasText(`import.field.${f}`) ? t(`import.field.${f}`) : f)).join(', ') }));
  }
  return parts.join('; ');
}

// A table of the registered plots an import changes, one row each.
function changesTable(changes) {
  const wrap = document.createElement('section');
  wrap.className = 'import-details changes';
  wrap.append(cell('h3', `${t('import.changes')} (${formatNumber(changes.length)})`));
  const table = document.createElement('table');
  const head = document.createElement('tr');
  head.append(cell('th', t('import.col.feature')), cell('th', t('import.col.plot')), cell('th', t('import.col.ref')), cell('th', t('import.col.change')));
  table.append(head);
  for (const c of changes) {
    const tr = document.createElement('tr');
    tr.append(cell('td', formatNumber(c.feature)), cell('td', String(c.plot)), cell('td', c.external_id), cell('td', changeText(c)));
    table.append(tr);
  }
  wrap.append(table);
  return wrap;
}

async function commit(id) {
  autoCommit = null;
  startStatus();
  setProgress(null, t('import.stage.queued'));
  try {
    const job = await api('POST', `/api/v1/imports/${encodeURIComponent(id)}/commit`);
    await follow(job.id);
  } catch (err) {
    renderReport({ filename: lastJob?.filename || '', state: 'failed', error: { code: err.code, message: err.message, details: err.details || [] } });
  }
}

function download(job) {
  const blob = new Blob([JSON.stringify({ filename: job.filename, state: job.state, error: job.error, report: job.report }, null, 2)],
    { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${job.filename.replace(/\.[^.]*$/, '')}-import-report.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}


function renderReport(job) {
  lastJob = job;
  const out = $('.import-report');
  out.replaceChildren();
  const rep = job.report;
  const file = job.filename;
  const summary = document.createElement('p');
  summary.className = 'import-summary';
  summary.setAttribute('role', 'status');
  const problems = rep?.problems?.length ? rep.problems : job.error?.details || [];
  if (job.state === 'done' && rep) {
    const vars = { file, added: formatNumber(rep.added), updated: formatNumber(rep.updated), unchanged: formatNumber(rep.unchanged), skipped: formatNumber(rep.skipped) };
    const layer = { admin: 'Admin', facilities: 'Facilities' }[rep.layer] || '';
    summary.textContent = t(rep.dry_run ? `import.dryDone${layer}` : `import.done${layer}`, vars);
    summary.classList.add('ok');
  } else if (job.error?.code === 'invalid' && problems.length) {
    summary.textContent = t('import.refused', { file, n: formatNumber(problems.length) });
    summary.classList.add('bad');
  } else {
    summary.textContent = t('import.failed', { file, message: job.error?.message || '' });
    summary.classList.add('bad');
  }
  out.append(summary);
  // A dry run run before the import, whose file changes registered plots: each change, and
  // the choice to import or not.
  const confirming = job.state === 'done' && rep?.dry_run && autoCommit === job.id && rep.changes?.length > 0;
  if (confirming) {
    summary.textContent = t('import.confirmWhy', { n: formatNumber(rep.changes.length) });
    summary.classList.remove('ok');
    summary.classList.add('ask');
  }
  if (rep?.repaired) out.append(cell('p', t('import.repaired', { n: formatNumber(rep.repaired) })));
  if (rep?.changes?.length) out.append(changesTable(rep.changes));
  if (problems.length) out.append(detailTable(t('import.problems'), problems, 'problems'));
  if (rep?.warnings?.length) out.append(detailTable(t('import.warnings'), rep.warnings, 'warnings'));
  if (rep?.elapsed_ms != null) {
    const took = cell('p', t('import.elapsed', { s: formatNumber(rep.elapsed_ms / 1000, 1) }));
    took.className = 'muted';
    out.append(took);
  }
  const actions = document.createElement('div');
  actions.className = 'import-actions';
  const again = cell('button', t('import.again'));
  again.type = 'button';
  again.addEventListener('click', reset);
  const dl = cell('button', t('import.download'));
  dl.type = 'button';
  dl.addEventListener('click', () => download(job));
  actions.append(again, dl);
  if (confirming) {
    const no = cell('button', t('import.cancel'));
    no.type = 'button';
    no.className = 'import-cancel';
    no.addEventListener('click', () => { autoCommit = null; renderReport({ ...job, cancelled: true }); });
    const yes = cell('button', t('import.confirm', { n: formatNumber(rep.changes.length) }));
    yes.type = 'button';
    yes.className = 'primary import-confirm';
    yes.addEventListener('click', () => commit(job.id));
    actions.replaceChildren(no, yes);
  }
  if (job.cancelled) {
    summary.textContent = t('import.cancelled');
    summary.classList.remove('ok');
  }
  if (job.state === 'done' && rep?.committed && rep.bbox && onFit) {
    const go = cell('button', t('import.show'));
    go.type = 'button';
    go.className = 'primary';
    go.addEventListener('click', () => { dialog.close(); onFit(rep.bbox); });
    actions.append(go);
  }
  out.append(actions);
  setProgress(1, '');
  $('progress').hidden = true;
}

async function follow(id) {
  const mine = ++polling;
  setAddress(id);
  for (;;) {
    let job;
    try {
      job = await api('GET', `/api/v1/imports/${encodeURIComponent(id)}`);
    } catch (err) {
      if (mine !== polling) return;
      const gone = err instanceof APIError && err.status === 404;
      renderReport({ filename: '', state: 'failed', error: { message: gone ? t('import.gone') : err.message } });
      return;
    }
    if (mine !== polling) return;
    if (job.state !== 'running' && job.state !== 'queued') {
      // The check before an import: commit at once when it changes no registered plot.
      if (autoCommit === job.id && job.state === 'done' && !(job.report?.changes?.length)) {
        await commit(job.id);
        return;
      }
      if (autoCommit === job.id && job.state !== 'done') autoCommit = null;
      renderReport(job);
      if (job.report?.committed) reloadTiles(map);
      return;
    }
    const [share, text] = progressOf(job.progress, job.state);
    setProgress(share, autoCommit === job.id && text ? `${t('import.checking')}: ${text}` : text);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function reset() {
  polling++;
  lastJob = null;
  autoCommit = null;
  $('#import-form').reset();
  $('.import-report').replaceChildren();
  setAddress(null);
  show('form');
}

function startStatus() {
  show('status');
  $('.import-report').replaceChildren();
  $('progress').hidden = false;
}

async function submit(e) {
  e.preventDefault();
  const form = $('#import-form');
  const data = new FormData(form);
  const file = data.get('file');
  if (!file || !file.name) return;
  // The file goes last: the server reads the fields before it streams the file in.
  const body = new FormData();
  for (const k of ['on_invalid', 'province', 'srs', 'layer', 'source', 'encoding']) {
    const v = String(data.get(k) || '').trim();
    if (v) body.append(k, v);
  }
  const plots = (data.get('layer') || 'plots') === 'plots';
  const crop = String(data.get('crop') || '').trim();
  if (plots && crop) body.append('set', `crop=${crop}`);
  const mapped = ['id', 'owner', 'owner_id', 'crop', 'commune']
    .map((f) => [f, String(data.get(`map.${f}`) || '').trim()])
    .filter(([, col]) => plots && col && !col.includes(',') && !col.includes('='));
  if (mapped.length) body.append('map', mapped.map(([f, col]) => `${f}=${col}`).join(','));
  // Every import is checked first (a dry run); it is committed once its report is read, at
  // once when it changes no registered plot.
  const onlyCheck = Boolean(data.get('dry_run'));
  body.append('dry_run', 'true');
  body.append('file', file, file.name);
  startStatus();
  setProgress(0, t('import.uploading', { pct: 0 }));
  try {
    const job = await upload('/api/v1/imports', body, (share) => setProgress(0.25 * share, t('import.uploading', { pct: Math.round(100 * share) })));
    autoCommit = onlyCheck ? null : job.id;
    await follow(job.id);
  } catch (err) {
    const details = err instanceof APIError ? err.details : [];
    renderReport({ filename: file.name, state: 'failed', error: { code: err.code, message: err.message, details } });
  }
}

/**
 * Opens the import panel: a fresh form, or the report of job id. It is not modal: an import of
 * a big file takes minutes, and the map and the header (the language) stay usable meanwhile.
 */
export function openImport(id) {
  if (!dialog.open) dialog.show();
  if (id) {
    startStatus();
    setProgress(null, '');
    follow(id);
  } else if (!lastJob && polling === 0) {
    show('form');
  }
}

/**
 * Wires the dialog and the button that opens it. fit(bbox) shows imported plots on the map.
 * Call once; the button is shown by updateImport for the roles that may import.
 */
export function initImport(theMap, button, fit) {
  dialog = document.getElementById('import-dialog');
  map = theMap;
  onFit = fit;
  button.addEventListener('click', () => openImport());
  $('#import-form').addEventListener('submit', submit);
  // The crops for "crop of the plots the file gives none" (a GPX walk has no attributes).
  const cropSelect = $('select[name=crop]');
  const fillCrops = () => {
    const chosen = cropSelect.value;
    cropSelect.replaceChildren(cropSelect.options[0]);
    for (const c of cropList()) cropSelect.append(new Option(c.name, c.code));
    cropSelect.value = chosen;
  };
  loadCrops().then(fillCrops);
  // Crop and columns are for plots; facilities and boundaries have their own columns.
  const layerSelect = $('.import-layer select');
  const plotsOnly = () => dialog.querySelectorAll('.import-plots-only').forEach((el) => { el.hidden = layerSelect.value !== 'plots'; });
  layerSelect.addEventListener('change', plotsOnly);
  plotsOnly();
  dialog.addEventListener('close', () => setAddress(null));
  onLangChange(() => {
    applyTo(dialog);
    fillCrops();
    if (lastJob) renderReport(lastJob);
  });
}

/** Shows the import button to officers and admins, and reopens a report named in the address. */
export function updateImport(button, s) {
  const may = s?.signed_in && (s.user?.role === 'officer' || s.user?.role === 'admin');
  button.hidden = !may;
  // Administrative boundaries decide every plot's place: administrators import them.
  const adminOption = dialog.querySelector('.import-layer option[value=admin]');
  adminOption.hidden = adminOption.disabled = s?.user?.role !== 'admin';
  const layer = dialog.querySelector('.import-layer select');
  if (adminOption.disabled && layer.value === 'admin') layer.value = 'plots';
  const id = new URLSearchParams(location.search).get('import');
  if (may && id && /^[0-9a-f]+$/.test(id) && !dialog.open) openImport(id);
}

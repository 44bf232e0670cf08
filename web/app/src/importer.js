// Importing survey files from the browser, for officers and admins: the upload dialog, the
// job's progress (upload, reading, each check) and its report, with every problem by feature
// number and field. A report stays reachable at ?import={id} while the server keeps it (24 h);
// the address's hash belongs to the map's view.
import { api, upload, APIError } from './api.js';
import { t, hasText, applyTo, formatNumber, onLangChange } from './i18n.js';

const STAGES = ['read', 'transform', 'validity', 'attributes', 'overlaps', 'placement', 'update', 'insert', 'indexes'];
const POLL_MS = 400;

let dialog;
let map;
let onFit;
let polling = 0; // the job being followed; a newer one stops the older poll
let lastJob = null;

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
function progressOf(p) {
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

function download(job) {
  const blob = new Blob([JSON.stringify({ filename: job.filename, state: job.state, error: job.error, report: job.report }, null, 2)],
    { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${job.filename.replace(/\.[^.]*$/, '')}-import-report.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// Fetches the plot layers again, so that the map shows what the import wrote.
function reloadTiles() {
  if (!map) return;
  for (const [id, s] of Object.entries(map.getStyle().sources)) {
    if (s.type !== 'vector') continue;
    const src = map.getSource(id);
    if (src?.tiles && src.setTiles) src.setTiles(src.tiles);
    else if (src?.url && src.setUrl) src.setUrl(src.url);
  }
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
  if (rep?.repaired) out.append(cell('p', t('import.repaired', { n: formatNumber(rep.repaired) })));
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
    if (job.state !== 'running') {
      renderReport(job);
      if (job.report?.committed) reloadTiles();
      return;
    }
    setProgress(...progressOf(job.progress));
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function reset() {
  polling++;
  lastJob = null;
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
  // The file goes last: the server reads the fields before it streams the file to disk.
  const body = new FormData();
  for (const k of ['on_invalid', 'province', 'srs', 'layer']) {
    const v = String(data.get(k) || '').trim();
    if (v) body.append(k, v);
  }
  body.append('dry_run', data.get('dry_run') ? 'true' : 'false');
  body.append('file', file, file.name);
  startStatus();
  setProgress(0, t('import.uploading', { pct: 0 }));
  try {
    const job = await upload('/api/v1/imports', body, (share) => setProgress(0.25 * share, t('import.uploading', { pct: Math.round(100 * share) })));
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
  dialog.addEventListener('close', () => setAddress(null));
  onLangChange(() => {
    applyTo(dialog);
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

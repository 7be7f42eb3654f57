// The results board: each result, its patient and where it went, newest first, updated live.
import { deliveryState, el, examOf, followChanges, formatTime, getJson, keepQueryInLinks, ready, serialised, showError, t } from './common.js';

const PAGE = 50;
const MAX_SHOWN = 500;
const form = document.getElementById('filters');
const body = document.querySelector('#results tbody');
const empty = document.getElementById('empty');
const more = document.getElementById('more');
const loadError = document.getElementById('load-error');
const devices = new Set();
let destinations = new Map();
let shown = PAGE;
let next;
let highlight = new Set();

function filters() {
  const query = new URLSearchParams();
  const patient = form.elements.patient.value.trim();
  const device = form.elements.device.value.trim();
  if (patient) query.set('patient', patient);
  if (device) query.set('device', device);
  return query;
}

function badge(state, label, title) {
  return el('span', { class: `state state-${state}`, 'data-state': state, title }, label);
}

function deliveryCell(row) {
  if (row.deliveries.length === 0) {
    return row.matched ? badge('received', t('state.received'), t('delivery.none')) : badge('unmatched', t('state.unmatched'));
  }
  // A result that went to several destinations (the record and the GP) names each badge's.
  const several = new Set(row.deliveries.map((delivery) => delivery.destination)).size > 1;
  return row.deliveries.map((delivery) => {
    const state = deliveryState(delivery);
    const name = destinations.get(delivery.destination) ?? delivery.destination;
    const title = [name, formatTime(delivery.updatedAt), t('delivery.attempts', { count: delivery.attempts }), delivery.lastError].filter(Boolean).join(' · ');
    const label = several ? `${name} : ${t(`state.${state}`)}` : t(`state.${state}`);
    return badge(state, label, title);
  });
}

function patientCell(row) {
  if (!row.patient) return el('span', { class: 'unknown' }, t('patient.unknown'));
  return [el('strong', {}, row.patient.name ?? ''), row.patient.id ? el('small', {}, row.patient.id) : undefined];
}

function deviceCell(row) {
  const source = row.result.source;
  return source.model ? [source.model, el('small', {}, source.deviceId)] : source.deviceId;
}

function rowOf(row, changed) {
  devices.add(row.deviceId);
  return el('tr', { 'data-result-id': row.id, class: changed.has(row.id) ? 'changed' : undefined },
    el('td', { class: 'time' }, formatTime(row.receivedAt)),
    el('td', { class: 'patient' }, patientCell(row)),
    el('td', { class: 'exam' }, examOf(row.result)),
    el('td', { class: 'device' }, deviceCell(row)),
    el('td', { class: 'delivery' }, deliveryCell(row)));
}

function showDevices() {
  document.getElementById('devices').replaceChildren(...[...devices].sort().map((id) => el('option', { value: id })));
}

/** Reads the first `shown` results again with the current filters: the store says what is true. */
const refresh = serialised(async () => {
  const query = filters();
  query.set('limit', String(shown));
  const changed = highlight;
  highlight = new Set();
  try {
    const page = await getJson(`results?${query}`);
    body.replaceChildren(...page.results.map((row) => rowOf(row, changed)));
    next = page.next;
    showError(loadError, '');
  } catch (err) {
    showError(loadError, t('error.load', { reason: err.message }));
  }
  empty.hidden = body.children.length > 0;
  more.hidden = !next || shown >= MAX_SHOWN;
  showDevices();
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  shown = PAGE;
  history.replaceState(null, '', `?${new URLSearchParams([...filters(), ['lang', document.documentElement.lang]])}`);
  keepQueryInLinks();
  void refresh();
});

document.getElementById('clear-filters').addEventListener('click', () => {
  form.reset();
  form.requestSubmit();
});

more.addEventListener('click', () => {
  shown = Math.min(shown + PAGE, MAX_SHOWN);
  void refresh();
});

async function start() {
  const query = new URLSearchParams(location.search);
  form.elements.patient.value = query.get('patient') ?? '';
  form.elements.device.value = query.get('device') ?? '';
  keepQueryInLinks();
  await ready();
  try {
    destinations = new Map((await getJson('destinations')).destinations.map((d) => [d.id, d.name]));
  } catch {
    // Without names, the destinations show by id.
  }
  await refresh();
  document.body.dataset.loaded = 'true';
  void followChanges((change) => {
    for (const id of change.results ?? []) highlight.add(id);
    void refresh();
  });
}

void start();

// Results held for want of a patient, and the action that assigns one (after a review step:
// a result in the wrong record is worse than a result in none).
import { api, el, examOf, followChanges, formatTime, getJson, keepQueryInLinks, lang, personName, ready, serialised, showError, t } from './common.js';

const PAGE = 50;
/** The INS (Identifiant National de Santé): its NIR and the OID of its authority. */
const INS = { digits: /^\d{15}$/, authority: '1.2.250.1.213.1.4.8', authorityName: 'ASIP-SANTE-INS-NIR' };
const list = document.getElementById('unmatched');
const template = document.getElementById('card');
const empty = document.getElementById('empty');
const more = document.getElementById('more');
const notice = document.getElementById('notice');
const loadError = document.getElementById('load-error');
/** Cards by result id: a refresh keeps a card (and what someone is typing in it) in place. */
const cards = new Map();
/** 13,2 in French: the decimal comma nurses read everywhere else. All the digits the device gave are kept. */
const decimal = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: 20, useGrouping: false });
let shown = PAGE;

function valueText(observation) {
  const value = observation.value;
  let text;
  if (value === undefined || value === null) text = '';
  else if (typeof value === 'number') text = decimal.format(value);
  else if (typeof value === 'object' && 'comparator' in value) text = `${value.comparator}${decimal.format(value.number)}`;
  else if (typeof value === 'object') text = value.display ?? value.code;
  else text = String(value);
  return [text, observation.unit?.code].filter(Boolean).join(' ');
}

function rangeText(range) {
  if (!range) return '';
  if (range.text) return range.text;
  return [range.low, range.high].map((v) => (v === undefined ? '' : decimal.format(v))).join(' – ');
}

function observationRow(observation) {
  const code = observation.code ?? observation.deviceCode;
  return el('tr', {},
    el('td', {}, code.display ?? code.code),
    el('td', { class: 'value' }, valueText(observation)),
    el('td', {}, rangeText(observation.referenceRange)),
    el('td', { class: 'flags' }, (observation.flags ?? []).join(' ')));
}

function devicePatient(patient) {
  if (!patient) return t('unmatched.none');
  const parts = [personName(patient.name), ...(patient.identifiers ?? []).map((i) => i.value), patient.birthDate];
  return parts.filter(Boolean).join(' · ') || t('unmatched.none');
}

/** The form's patient, or the message saying what to fix. */
function patientOf(form) {
  const value = (name) => form.elements[name].value.trim();
  const identifier = value('identifier');
  const type = value('type');
  if (!identifier) return { error: t('assign.required.identifier'), field: 'identifier' };
  if (type === 'INS' && !INS.digits.test(identifier.replace(/\s/g, ''))) return { error: t('assign.invalid.ins'), field: 'identifier' };
  if (!value('family')) return { error: t('assign.required.family'), field: 'family' };
  const birthDate = value('birthDate');
  if (birthDate && !(/^\d{4}-\d{2}-\d{2}$/.test(birthDate) && new Date(`${birthDate}T00:00:00Z`) <= new Date())) {
    return { error: t('assign.invalid.birthDate'), field: 'birthDate' };
  }
  const authority = value('authority');
  const id = type === 'INS'
    ? { value: identifier.replace(/\s/g, ''), type, authority: authority || INS.authority, ...(authority ? {} : { authorityName: INS.authorityName }) }
    : { value: identifier, type, ...(authority ? { authority } : {}) };
  const given = value('given');
  const patient = { identifiers: [id], name: { family: value('family'), ...(given ? { given: [given] } : {}) } };
  if (birthDate) patient.birthDate = birthDate;
  if (value('sex')) patient.sex = value('sex');
  return { patient };
}

function describe(patient) {
  const id = patient.identifiers[0];
  return `${personName(patient.name)} (${t(`assign.type.${id.type}`)} ${id.value})`;
}

async function assign(resultId, patient) {
  const answer = await api(`results/${encodeURIComponent(resultId)}/assign`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ patient }),
  });
  if (answer.status === 202) return undefined;
  const reason = (await answer.json().catch(() => ({}))).error ?? `HTTP ${answer.status}`;
  if (answer.status === 400) return t('assign.error.400', { reason });
  if (answer.status === 404 || answer.status === 409) return t(`assign.error.${answer.status}`);
  return t('assign.error.other', { reason });
}

function wireForm(card, resultId) {
  const form = card.querySelector('form.assign');
  const fields = form.querySelector('fieldset');
  const error = form.querySelector('.error');
  const review = form.querySelector('.review');
  const check = form.querySelector('.check');
  const confirm = review.querySelector('.confirm');
  let patient;
  const editing = (yes) => {
    fields.disabled = !yes;
    review.hidden = yes;
    check.hidden = !yes;
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const checked = patientOf(form);
    if (checked.error) {
      showError(error, checked.error);
      form.elements[checked.field].setAttribute('aria-invalid', 'true');
      form.elements[checked.field].focus();
      return;
    }
    for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
    showError(error, '');
    patient = checked.patient;
    review.querySelector('.summary').textContent = t('assign.summary', { patient: describe(patient) });
    confirm.textContent = t('assign.confirm');
    editing(false);
    confirm.focus();
  });
  review.querySelector('.cancel').addEventListener('click', () => editing(true));
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    try {
      const failure = await assign(resultId, patient);
      if (failure) {
        showError(error, failure);
        editing(true);
        return;
      }
      showError(notice, t('assign.done', { patient: describe(patient) }));
      await refresh();
    } catch (err) {
      showError(error, t('assign.error.other', { reason: err.message }));
      editing(true);
    } finally {
      confirm.disabled = false;
    }
  });
}

function cardOf(row) {
  const card = template.content.firstElementChild.cloneNode(true);
  card.dataset.resultId = row.id;
  card.querySelector('.exam').textContent = examOf(row.result);
  card.querySelector('.received').textContent = formatTime(row.receivedAt);
  card.querySelector('.device').textContent = row.result.source.model ?? row.deviceId;
  card.querySelector('.specimen').textContent = row.specimenId ?? '—';
  card.querySelector('.device-patient').textContent = devicePatient(row.result.patient);
  card.querySelector('.observations tbody').append(...row.result.observations.map(observationRow));
  wireForm(card, row.id);
  return card;
}

const refresh = serialised(async () => {
  let page;
  try {
    page = await getJson(`unmatched?limit=${shown}`);
    showError(loadError, '');
  } catch (err) {
    showError(loadError, t('error.load', { reason: err.message }));
    return;
  }
  const ids = new Set(page.results.map((row) => row.id));
  for (const [id, card] of cards) {
    if (!ids.has(id)) {
      card.remove();
      cards.delete(id);
    }
  }
  // Newest first; existing cards stay where they are (moving one would lose its focus).
  page.results.forEach((row, index) => {
    let card = cards.get(row.id);
    if (!card) cards.set(row.id, (card = cardOf(row)));
    if (list.children[index] !== card) list.insertBefore(card, list.children[index] ?? null);
  });
  empty.hidden = page.results.length > 0;
  more.hidden = !page.next;
});

more.addEventListener('click', () => {
  shown += PAGE;
  void refresh();
});

async function start() {
  keepQueryInLinks();
  await ready();
  await refresh();
  document.body.dataset.loaded = 'true';
  void followChanges(() => void refresh());
}

void start();

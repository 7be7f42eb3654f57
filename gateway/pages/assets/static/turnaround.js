// Turnaround for sites without Grafana: the key figures of the dashboards, from the hub itself.
import { el, followChanges, formatTime, getJson, keepQueryInLinks, lang, ready, serialised, showError, t } from './common.js';

/** A busy hour must not recompute a month of figures for every delivery. */
const REFRESH_AT_MOST_EVERY_MS = 5000;
const form = document.getElementById('period');
const loadError = document.getElementById('load-error');
const numberFormat = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB');
const percentFormat = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { style: 'percent', maximumFractionDigits: 1 });
const dayFormat = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { timeZone: 'UTC', weekday: 'short', day: '2-digit', month: '2-digit', year: 'numeric' });

/** Seconds as people say them: 45 s, 12 min 05 s, 2 h 07 min. */
function duration(seconds) {
  if (seconds === undefined || seconds === null) return '—';
  const total = Math.round(seconds);
  if (total < 60) return t('duration.seconds', { s: total });
  const pad = (n) => String(n).padStart(2, '0');
  if (total < 3600) return t(total % 60 === 0 ? 'duration.wholeMinutes' : 'duration.minutes', { m: Math.floor(total / 60), s: pad(total % 60) });
  return t('duration.hours', { h: Math.floor(total / 3600), m: pad(Math.floor((total % 3600) / 60)) });
}

/** 'YYYY-MM-DD' (a local day of the site) as a date. */
function day(text) {
  const [y, m, d] = text.split('-').map(Number);
  return dayFormat.format(new Date(Date.UTC(y, m - 1, d)));
}

/** 'YYYY-MM-DDTHH' (a local hour of the site). */
function hour(text) {
  return `${day(text.slice(0, 10))} ${text.slice(11, 13)}:00`;
}

function figure(label, value, detail) {
  return el('div', { class: 'figure' }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, value), detail ? el('small', {}, detail) : undefined);
}

function fill(id, rows) {
  document.querySelector(`#${id} tbody`).replaceChildren(...rows);
  document.getElementById(id).closest('section').hidden = rows.length === 0;
}

function num(value) {
  return el('td', { class: 'number' }, value);
}

function render(report) {
  const target = report.targets.biology?.default;
  const targetText = target ? `${t('turnaround.target').toLowerCase()} ${duration(target)}` : t('turnaround.noTarget');
  document.getElementById('figures').replaceChildren(
    figure(t('turnaround.delivered'), numberFormat.format(report.deliveries), report.dead > 0 ? t('turnaround.deadCount', { count: report.dead }) : undefined),
    figure(t('turnaround.shareWithin'), report.share === undefined ? '—' : percentFormat.format(report.share),
      t('turnaround.shareOf', { within: report.withinTarget, total: report.withTarget, target: targetText })),
    figure(t('turnaround.medianAll'), duration(report.median), t('turnaround.interval')),
    figure(t('turnaround.p90All'), duration(report.p90), t('turnaround.interval')),
    figure(t('turnaround.unmeasured'), numberFormat.format(report.unmeasured), t('turnaround.unmeasuredDetail', { skew: report.clockSkew })),
  );
  const { figures } = report;
  fill('days', figures.days.map((d) => el('tr', {}, el('td', {}, day(d.day)), num(d.results), num(d.withinTarget), num(d.share === undefined ? '—' : percentFormat.format(d.share)))));
  const exam = (code) => (code === undefined ? '—' : report.examNames[code] ? `${report.examNames[code]} (${code})` : code);
  const spread = (name) => (s) => el('tr', {}, el('td', {}, name(s.key)), num(s.count), num(duration(s.median)), num(duration(s.p90)));
  fill('exams', figures.exams.map(spread(exam)));
  fill('devices', figures.devices.map(spread((device) => device)));
  const busiest = Math.max(1, ...figures.hours.map((h) => h.results));
  fill('hours', figures.hours.map((h) => {
    const bar = el('span', { class: 'bar' });
    bar.style.width = `${(h.results / busiest) * 12}rem`;
    return el('tr', {}, el('td', {}, hour(h.hour)), num(h.results), el('td', {}, bar));
  }));
  fill('slowest', figures.slowest.map((s) => el('tr', { 'data-result-id': s.resultId },
    el('td', {}, formatTime(s.at)), el('td', {}, exam(s.exam)), el('td', {}, s.device), num(duration(s.seconds)),
    el('td', { class: s.met === false ? 'missed' : undefined }, s.targetSeconds ? `${duration(s.targetSeconds)} · ${t(s.met ? 'turnaround.met' : 'turnaround.missed')}` : '—'))));
  document.getElementById('truncated').hidden = !report.truncated;
  document.getElementById('empty').hidden = report.deliveries > 0;
}

async function load() {
  try {
    render(await getJson(`turnaround?days=${form.elements.days.value}`));
    showError(loadError, '');
  } catch (err) {
    showError(loadError, t('error.load', { reason: err.message }));
  }
}

/** On live changes: at most one load per REFRESH_AT_MOST_EVERY_MS. */
const refresh = serialised(async () => {
  await load();
  await new Promise((resolve) => setTimeout(resolve, REFRESH_AT_MOST_EVERY_MS));
});

form.elements.days.addEventListener('change', () => {
  const query = new URLSearchParams(location.search);
  query.set('days', form.elements.days.value);
  history.replaceState(null, '', `?${query}`);
  keepQueryInLinks();
  void load();
});

async function start() {
  const days = new URLSearchParams(location.search).get('days');
  if ([...form.elements.days.options].some((o) => o.value === days)) form.elements.days.value = days;
  keepQueryInLinks();
  await ready();
  await load();
  document.body.dataset.loaded = 'true';
  void followChanges(() => void refresh());
}

void start();

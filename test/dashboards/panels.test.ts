/**
 * Every panel of every dashboard in dashboards/json, run against a real InfluxDB (Debian's
 * influxd 1.6) holding a known site (known-site.ts): each panel's queries are interpolated as
 * Grafana would (grafana-panels.ts stands in for Grafana, which cannot run here) and the
 * figures the panel shows are checked against numbers worked out by hand. A panel without a
 * check fails, so a new panel cannot ship unchecked.
 */
import { expect } from 'chai';
import { startInfluxDb, type RunningInfluxDb } from '../support/influxdb';
import {
  loadDashboards, resolveVariables, runPanel, seriesPoints, statValues, tableRows,
  type Dashboard, type PanelResult, type VariableValues,
} from './grafana-panels';
import {
  AFINION, CRP, DATABASE, GP, KNOWN_SITE_LINES, MICROSEMI, MOBILETT, NFS, OTHER_SITE, RECORD, SITE, VIEW, YUMIZEN, paris,
} from './known-site';

type Check = (result: PanelResult, again: (picked: Record<string, string[]>) => Promise<PanelResult>) => void | Promise<void>;

/** The values at given times of a time series. */
function at(points: [number, number | null][], ...locals: string[]): (number | null)[] {
  return locals.map((local) => {
    const found = points.find(([t]) => t === paris(local));
    if (!found) throw new Error(`no point at ${local}`);
    return found[1];
  });
}

function total(points: [number, number | null][]): number {
  return points.reduce((sum, [, v]) => sum + (v ?? 0), 0);
}

/** What each panel must show for the known site (site centre-soins-nord, destination "ehr" where one is picked). */
const CHECKS: Record<string, Record<string, Check>> = {
  'passerelle-biologie-delais': {
    "Résultats dans l'objectif (période)": (r) => {
      // 9 of the 13 results with an interval met 20 min (the dead letter and the other site, GP, imaging, Wednesday left out).
      expect(statValues(r)).to.have.all.keys("Dans l'objectif");
      expect(statValues(r)["Dans l'objectif"]).to.be.closeTo((9 / 13) * 100, 1e-9);
    },
    'Intervalles manquants et horloges décalées': (r) => {
      // r-0010 without its order time (1) + r-0013 whose analyser clock was ahead (2, and one skew).
      expect(statValues(r)).to.deep.equal({ 'Intervalles manquants': 3, 'Horloges décalées': 1 });
    },
    "Part des résultats dans l'objectif, par jour": (r) => {
      const points = seriesPoints(r)["Dans l'objectif"];
      // Paris days: r-0001 at 00:30 Paris (23:30 UTC on the 18th) counts on Thursday.
      expect(points.map(([t]) => t)).to.deep.equal([paris('2026-11-19T00:00'), paris('2026-11-20T00:00')]);
      expect(points[0][1]).to.be.closeTo((5 / 7) * 100, 1e-9);
      expect(points[1][1]).to.be.closeTo((4 / 6) * 100, 1e-9);
    },
    'Délai par examen : médiane et 90e centile': (r) => {
      // NFS: 600 660 720 780 840 900 1080 1320 1800; CRP: 480 540 1260 1500. InfluxQL's
      // percentile is the nearest rank (floor(n × 0.9 + 0.5)th value), its median the middle mean.
      expect(tableRows(r)).to.deep.equal([
        { Examen: CRP, Médiane: 900, '90e centile': 1500, Résultats: 4 },
        { Examen: NFS, Médiane: 840, '90e centile': 1320, Résultats: 9 },
      ]);
    },
    'Délai par appareil : médiane et 90e centile': (r) => {
      // Yumizen: 600 660 720 780 840 900 1800; Microsemi: 540 1080 1260 1320 1500; Afinion: 480.
      expect(tableRows(r)).to.deep.equal([
        { Appareil: MICROSEMI, Médiane: 1260, '90e centile': 1500, Résultats: 5 },
        { Appareil: YUMIZEN, Médiane: 780, '90e centile': 900, Résultats: 7 },
        { Appareil: AFINION, Médiane: 480, '90e centile': 480, Résultats: 1 },
      ]);
    },
    'Médiane et 90e centile dans le temps': (r) => {
      // 41 h over 500 points is 5 min, below the panel's 1 h minimum: hourly buckets.
      expect(r.queries.A).to.contain('GROUP BY time(1h)');
      const { Médiane: median, '90e centile': p90 } = seriesPoints(r);
      const filled = (points: [number, number | null][]) => points.filter(([, v]) => v !== null).map(([t]) => t);
      const hours = ['2026-11-19T00:00', '2026-11-19T08:00', '2026-11-19T09:00', '2026-11-19T10:00', '2026-11-20T08:00', '2026-11-20T09:00', '2026-11-20T14:00', '2026-11-20T15:00'];
      expect(filled(median)).to.deep.equal(hours.map(paris));
      expect(filled(p90)).to.deep.equal(hours.map(paris));
      expect(at(median, ...hours)).to.deep.equal([840, 750, 990, 1020, 600, 1440, 780, 1260]);
      expect(at(p90, ...hours)).to.deep.equal([840, 900, 1500, 1320, 660, 1800, 780, 1260]);
    },
    'Résultats par heure, par examen': (r) => {
      const series = seriesPoints(r);
      expect(Object.keys(series).sort()).to.deep.equal([CRP, NFS]);
      // Every hour from Thursday 00:00 to Friday 17:00, empty ones at 0; the dead letter counts.
      expect(series[NFS]).to.have.length(42);
      expect(total(series[NFS])).to.equal(9);
      expect(total(series[CRP])).to.equal(5);
      expect(at(series[NFS], '2026-11-19T08:00', '2026-11-20T09:00', '2026-11-20T12:00')).to.deep.equal([2, 2, 0]);
      expect(at(series[CRP], '2026-11-19T09:00', '2026-11-19T11:00', '2026-11-20T15:00')).to.deep.equal([2, 1, 1]);
    },
    'Résultats les plus lents du jour': (r) => {
      // Friday only (the panel's "today"), slowest first.
      expect(tableRows(r)).to.deep.equal([
        { 'Accepté à': paris('2026-11-20T09:10'), Délai: 1800, Résultat: 'r-0011', Examen: NFS, Appareil: YUMIZEN },
        { 'Accepté à': paris('2026-11-20T15:30'), Délai: 1260, Résultat: 'r-0014', Examen: CRP, Appareil: MICROSEMI },
        { 'Accepté à': paris('2026-11-20T09:40'), Délai: 1080, Résultat: 'r-0012', Examen: NFS, Appareil: MICROSEMI },
        { 'Accepté à': paris('2026-11-20T14:20'), Délai: 780, Résultat: 'r-0013', Examen: NFS, Appareil: YUMIZEN },
        { 'Accepté à': paris('2026-11-20T08:05'), Délai: 660, Résultat: 'r-0009', Examen: NFS, Appareil: YUMIZEN },
        { 'Accepté à': paris('2026-11-20T08:50'), Délai: 540, Résultat: 'r-0010', Examen: CRP, Appareil: MICROSEMI },
      ]);
    },
  },
  'passerelle-livraisons': {
    Acceptées: (r) => { expect(statValues(r)).to.deep.equal({ Acceptées: 16 }); },
    Rejetées: (r) => { expect(statValues(r)).to.deep.equal({ Rejetées: 3 }); },
    'Lettres mortes': (r) => { expect(statValues(r)).to.deep.equal({ 'Lettres mortes': 3 }); },
    'En attente maintenant': (r) => {
      // Latest snapshots: record 2 + 1 + 1, GPs 1 + 2 + 0 (the other site's 50 left out).
      expect(statValues(r)).to.deep.equal({ 'En attente': 7 });
    },
    'Retenus sans patient': (r) => { expect(statValues(r)).to.deep.equal({ Retenus: 1 }); },
    'Événements de livraison par état': (r) => {
      expect(r.queries.A).to.contain('GROUP BY time(5m)');
      const totals = Object.fromEntries(Object.entries(seriesPoints(r)).map(([state, points]) => [state, total(points)]));
      expect(totals).to.deep.equal({ accepted: 16, dead: 3, held: 1, rejected: 3, retrying: 2, sent: 21, unreachable: 1 });
    },
    'Profondeur des files': (r) => {
      const series = seriesPoints(r);
      const record = series[`${RECORD} (${SITE})`];
      const gp = series[`${GP} (${SITE})`];
      expect(Object.keys(series)).to.have.members([`${RECORD} (${SITE})`, `${GP} (${SITE})`]);
      // Before the first snapshot nothing; then each bucket holds the last snapshot (fill previous).
      expect(at(record, '2026-11-19T07:55', '2026-11-19T12:00', '2026-11-20T16:30', '2026-11-20T16:55', '2026-11-20T17:00')).to.deep.equal([null, 0, 5, 4, 4]);
      expect(at(gp, '2026-11-19T12:00', '2026-11-20T16:50', '2026-11-20T17:00')).to.deep.equal([2, 3, 3]);
      expect(Math.max(...record.map(([, v]) => v ?? 0))).to.equal(5);
    },
    'Livraisons par destination et état': (r) => {
      const rows = tableRows(r);
      expect(rows.map((row) => row.Destination)).to.deep.equal([...Array(5).fill(RECORD), ...Array(5).fill(GP)]);
      expect(rows).to.have.deep.members([
        { Destination: RECORD, État: 'accepted', Événements: 11 },
        { Destination: RECORD, État: 'dead', Événements: 2 },
        { Destination: RECORD, État: 'rejected', Événements: 3 },
        { Destination: RECORD, État: 'retrying', Événements: 2 },
        { Destination: RECORD, État: 'sent', Événements: 14 },
        { Destination: GP, État: 'accepted', Événements: 5 },
        { Destination: GP, État: 'dead', Événements: 1 },
        { Destination: GP, État: 'held', Événements: 1 },
        { Destination: GP, État: 'sent', Événements: 7 },
        { Destination: GP, État: 'unreachable', Événements: 1 },
      ]);
    },
  },
  'passerelle-appareils': {
    'Appareils silencieux': async (r, again) => {
      // Nothing since 15:00 (2 h before 17:00): the Afinion (Thursday 11:30) and the Microsemi (14:30).
      expect(tableRows(r)).to.deep.equal([
        { 'Dernier message': paris('2026-11-19T11:30'), Appareil: AFINION, Type: 'biology', Site: SITE },
        { 'Dernier message': paris('2026-11-20T14:30'), Appareil: MICROSEMI, Type: 'biology', Site: SITE },
      ]);
      // Silent after 4 h: the Microsemi's 14:30 message is recent enough.
      const fourHours = await again({ silence: ['4h'] });
      expect(tableRows(fourHours).map((row) => row.Appareil)).to.deep.equal([AFINION]);
    },
    'Dernier message par appareil': (r) => {
      expect(tableRows(r)).to.deep.equal([
        { 'Dernier message': paris('2026-11-19T11:30'), Appareil: AFINION, Type: 'biology', Site: SITE },
        { 'Dernier message': paris('2026-11-20T14:30'), Appareil: MICROSEMI, Type: 'biology', Site: SITE },
        { 'Dernier message': paris('2026-11-20T16:20'), Appareil: YUMIZEN, Type: 'biology', Site: SITE },
        { 'Dernier message': paris('2026-11-20T16:45'), Appareil: MOBILETT, Type: 'imaging', Site: SITE },
      ]);
    },
    'Messages par appareil': (r) => {
      expect(tableRows(r)).to.have.deep.members([
        { Appareil: AFINION, 'Type de message': 'qc', Messages: 1, Observations: 1 },
        { Appareil: AFINION, 'Type de message': 'result', Messages: 2, Observations: 2 },
        { Appareil: MICROSEMI, 'Type de message': 'result', Messages: 5, Observations: 105 },
        { Appareil: MOBILETT, 'Type de message': 'result', Messages: 2, Observations: 2 },
        { Appareil: YUMIZEN, 'Type de message': 'qc', Messages: 1, Observations: 18 },
        { Appareil: YUMIZEN, 'Type de message': 'result', Messages: 6, Observations: 120 },
      ]);
      expect(tableRows(r).map((row) => row.Appareil)).to.deep.equal([AFINION, AFINION, MICROSEMI, MOBILETT, YUMIZEN, YUMIZEN]);
    },
    'Messages par heure, par appareil': (r) => {
      const series = seriesPoints(r);
      expect(Object.keys(series).sort()).to.deep.equal([AFINION, MICROSEMI, MOBILETT, YUMIZEN]);
      expect(Object.fromEntries(Object.entries(series).map(([device, points]) => [device, total(points)])))
        .to.deep.equal({ [AFINION]: 3, [MICROSEMI]: 5, [MOBILETT]: 2, [YUMIZEN]: 7 });
      expect(series[YUMIZEN]).to.have.length(42);
      expect(at(series[YUMIZEN], '2026-11-20T07:00', '2026-11-20T16:00')).to.deep.equal([1, 1]);
      expect(at(series[MICROSEMI], '2026-11-20T16:00')).to.deep.equal([0]);
    },
  },
};

/** What the variables must offer (the manager then picks site centre-soins-nord). */
const VARIABLE_OPTIONS: Record<string, Record<string, string[]>> = {
  'passerelle-biologie-delais': { site: [OTHER_SITE, SITE], destination: [RECORD, GP] },
  'passerelle-livraisons': { site: [OTHER_SITE, SITE], destination: [RECORD, GP] },
  'passerelle-appareils': { site: [OTHER_SITE, SITE], silence: ['30m', '1h', '2h', '4h', '8h', '24h'] },
};

/** What Grafana selects when the dashboard opens: the saved choice, "All", or the first option. */
const VARIABLE_DEFAULTS: Record<string, Record<string, string[]>> = {
  'passerelle-biologie-delais': { destination: [RECORD] },
  'passerelle-livraisons': { destination: [RECORD, GP] },
  'passerelle-appareils': { silence: ['2h'] },
};

async function writeLines(influx: RunningInfluxDb, lines: readonly string[]): Promise<void> {
  const response = await fetch(`${influx.url}/write?db=${DATABASE}&precision=ns`, { method: 'POST', body: lines.join('\n') });
  if (response.status !== 204) throw new Error(`InfluxDB refused the known site: ${response.status} ${await response.text()}`);
}

describe('Grafana dashboards: every panel on a real InfluxDB holding a known site', function () {
  let influx: RunningInfluxDb;

  before(async function () {
    influx = await startInfluxDb();
    await influx.query(`CREATE DATABASE ${DATABASE}`);
    await writeLines(influx, KNOWN_SITE_LINES);
  });

  after(async function () {
    await influx?.remove();
  });

  const dashboards = loadDashboards();

  it('the known site is in InfluxDB, every point once', async function () {
    const counted = await influx.query('SELECT count("result_id") FROM "turnaround"', DATABASE);
    expect(counted[0].values[0][1]).to.equal(18);
    const events = await influx.query('SELECT sum("count") FROM "delivery"', DATABASE);
    expect(events[0].values[0][1]).to.equal(54);
  });

  for (const { file, dashboard } of dashboards) {
    describe(`${file}: ${dashboard.title}`, function () {
      let variables: VariableValues;
      const picked = { site: [SITE] };

      before(async function () {
        variables = await resolveVariables(dashboard, influx, DATABASE, picked);
      });

      it('its variables offer what InfluxDB holds, and open on Grafana\'s default choices', function () {
        expect(variables.options).to.deep.equal(VARIABLE_OPTIONS[dashboard.uid]);
        for (const [name, selected] of Object.entries(VARIABLE_DEFAULTS[dashboard.uid])) expect(variables.selected[name], name).to.deep.equal(selected);
      });

      for (const panel of dashboard.panels) {
        it(`panel "${panel.title}" shows the known figures`, async function () {
          const check = CHECKS[dashboard.uid]?.[panel.title];
          if (!check) throw new Error(`panel "${panel.title}" of ${file} has no check: add the figures it must show to CHECKS`);
          const result = await runPanel(dashboard, panel, influx, DATABASE, VIEW, variables);
          for (const query of Object.values(result.queries)) expect(query, 'every macro and variable replaced').not.to.match(/\$\w|\$\{/);
          const again = async (more: Record<string, string[]>) =>
            runPanel(dashboard, panel, influx, DATABASE, VIEW, await resolveVariables(dashboard, influx, DATABASE, { ...picked, ...more }));
          await check(result, again);
        });
      }
    });
  }

  it('every check names a panel that exists', function () {
    const titles = (d: Dashboard) => d.panels.map((p) => p.title);
    const byUid = new Map(dashboards.map(({ dashboard }) => [dashboard.uid, titles(dashboard)]));
    for (const [uid, checks] of Object.entries(CHECKS)) {
      expect(byUid.get(uid), `dashboard ${uid}`).to.include.members(Object.keys(checks));
    }
    expect([...byUid.keys()].sort()).to.deep.equal(Object.keys(CHECKS).sort());
  });

  it('a site with no data shows 0 on the counters, not an error', async function () {
    const { dashboard } = dashboards.find((d) => d.dashboard.uid === 'passerelle-livraisons')!;
    const variables = await resolveVariables(dashboard, influx, DATABASE, { site: ['site-sans-donnees'] });
    const dead = dashboard.panels.find((p) => p.title === 'Lettres mortes')!;
    expect(statValues(await runPanel(dashboard, dead, influx, DATABASE, VIEW, variables))).to.deep.equal({ 'Lettres mortes': 0 });
  });
});

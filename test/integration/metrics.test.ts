import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BusClient } from '../../adapters/bus';
import type { Result } from '../../adapters/model';
import { SimulatedRecord } from '../../simulators/record';
import { tempDir } from '../support/net';
import { startHubProcess, waitUntil, type HubProcess } from '../support/hub-process';
import { startInfluxDb, type RunningInfluxDb } from '../support/influxdb';
import { loadDashboards, resolveVariables, runPanel, statValues, tableRows } from '../dashboards/grafana-panels';

/**
 * Issue 4's acceptance through the running hub (site flow, INFLUX_URL set) and a real InfluxDB:
 * results delivered to a simulated record become `turnaround` points with the intervals their
 * timestamps give; the biology dashboard's panels show those figures; InfluxDB killed for a
 * while, every point arrives once it is back, once.
 */
const SITE = 'centre-soins-nord';
const DB = 'passerelle';
const NFS = '58410-2';
const CRP = '1988-5';
const example = JSON.parse(readFileSync(resolve(__dirname, '..', '..', '..', 'docs', 'schema', 'result.example.json'), 'utf8')) as Result;

/** A result collected `minutes` ago, analysed 2 min later, received by the hub 10 s after that. */
function resultCollected(id: string, minutes: number, device: string, exam: string, now = Date.now()): Result {
  const collected = new Date(now - minutes * 60_000);
  const analysed = new Date(collected.getTime() + 120_000);
  const received = new Date(analysed.getTime() + 10_000);
  return {
    ...example,
    id,
    source: { ...example.source, site: SITE, deviceId: device },
    order: { ...example.order, placerNumber: `CMD-${id}`, code: { code: exam, system: 'LN' } },
    specimen: { ...example.specimen, id: `S-${id}`, collectedAt: collected.toISOString() },
    times: { collected: collected.toISOString(), analysed: analysed.toISOString(), received: received.toISOString() },
  };
}

describe('turnaround metrics through the running hub into a real InfluxDB', function () {
  this.timeout(180_000);
  let data: ReturnType<typeof tempDir>;
  let record: SimulatedRecord;
  let influx: RunningInfluxDb;
  let hub: HubProcess;
  let bus: BusClient;

  before(async () => {
    data = tempDir();
    influx = await startInfluxDb();
    record = await new SimulatedRecord().start();
    hub = await startHubProcess(join(data.dir, 'hub'), { SITE_ID: SITE, EHR_MLLP: `127.0.0.1:${record.port}`, INFLUX_URL: influx.url });
    await waitUntil(async () => (await fetch(`${hub.url}/passerelle/api/health`)).status === 200, 30_000, () => `healthy hub:\n${hub.output()}`);
    bus = await BusClient.connect({ url: hub.mqttUrl, clientId: 'metrics-test-publisher' });
  });

  after(async () => {
    await bus?.close();
    await hub?.stop();
    await record?.stop();
    await influx?.remove();
    data?.remove();
  });

  const publish = (result: Result) => bus.publish(`passerelle/v1/${SITE}/biology/${result.source.deviceId}/result`, JSON.stringify(result));
  /** Turnaround points so far (0 while the database does not exist yet). */
  const count = async () => {
    const series = await influx.query('SELECT count("result_id") FROM "turnaround"', DB).catch(() => []);
    return (series[0]?.values[0]?.[1] as number | undefined) ?? 0;
  };

  // Collected 5…30 minutes ago: four within the 20-minute biology target, two over it.
  const known = [
    { id: 'tat-1', minutes: 5, device: 'yumizen-h500-1', exam: NFS },
    { id: 'tat-2', minutes: 12, device: 'yumizen-h500-1', exam: NFS },
    { id: 'tat-3', minutes: 25, device: 'yumizen-h500-1', exam: NFS },
    { id: 'tat-4', minutes: 8, device: 'microsemi-crp-1', exam: CRP },
    { id: 'tat-5', minutes: 18, device: 'microsemi-crp-1', exam: CRP },
    { id: 'tat-6', minutes: 30, device: 'microsemi-crp-1', exam: CRP },
  ];

  it('a result delivered to the record becomes a turnaround point with the intervals its times give', async () => {
    const now = Date.now();
    for (const k of known) await publish(resultCollected(k.id, k.minutes, k.device, k.exam, now));
    await record.waitFor(known.length);
    await waitUntil(async () => (await count()) === known.length, 60_000, () => `${known.length} turnaround points`);

    const [series] = await influx.query('SELECT * FROM "turnaround" ORDER BY time', DB);
    const rows = series.values.map((v) => Object.fromEntries(series.columns.map((c, i) => [c, v[i]])));
    for (const k of known) {
      const row = rows.find((r) => r.result_id === k.id)!;
      expect(row, k.id).to.include({ site: SITE, kind: 'biology', device: k.device, exam: k.exam, destination: 'site-to-record', outcome: 'accepted' });
      expect(row.analysed_to_received_s, 'device → hub, exact').to.equal(10);
      expect(row.collected_to_analysed_s).to.equal(120);
      // Collection → the record's ACK: the minutes ago, plus the hub's seconds (never less).
      expect(row.collected_to_accepted_s as number).to.be.at.least(k.minutes * 60).and.below(k.minutes * 60 + 60);
      expect(row.target_s).to.equal(1200);
      expect(row.target_met, k.id).to.equal(k.minutes < 20);
      expect(row.clock_skew).to.equal(false);
      expect(row.missing, 'no order time: ordered → accepted left out, counted').to.equal(1);
    }
    expect(series.columns, 'an interval whose start is unknown is never written').not.to.include('ordered_to_accepted_s');
    const [accepted] = await influx.query(`SELECT sum("count") FROM "delivery" WHERE "state" = 'accepted'`, DB);
    expect(accepted.values[0][1]).to.equal(known.length);
  });

  it("the biology dashboard's panels show these figures", async () => {
    const { dashboard } = loadDashboards().find((d) => d.dashboard.uid === 'passerelle-biologie-delais')!;
    const variables = await resolveVariables(dashboard, influx, DB, { site: [SITE] });
    expect(variables.selected.destination).to.deep.equal(['site-to-record']);
    const view = { from: Date.now() - 3_600_000, to: Date.now() + 60_000, now: Date.now() + 60_000 };
    const panel = (title: string) => runPanel(dashboard, dashboard.panels.find((p) => p.title === title)!, influx, DB, view, variables);

    expect(statValues(await panel("Résultats dans l'objectif (période)"))["Dans l'objectif"]).to.be.closeTo((4 / 6) * 100, 1e-9);
    const byExam = tableRows(await panel('Délai par examen : médiane et 90e centile'));
    expect(byExam.map((r) => [r.Examen, r.Résultats])).to.deep.equal([[CRP, 3], [NFS, 3]]);
    // The medians: 18 and 12 minutes plus the hub's seconds.
    expect(byExam[0].Médiane as number).to.be.within(18 * 60, 18 * 60 + 60);
    expect(byExam[1].Médiane as number).to.be.within(12 * 60, 12 * 60 + 60);
  });

  it('every panel of every dashboard reads what the hub wrote (the contract of docs/metrics.md holds both ways)', async () => {
    const view = { from: Date.now() - 3_600_000, to: Date.now() + 60_000, now: Date.now() + 60_000 };
    const empty: string[] = [];
    for (const { dashboard } of loadDashboards()) {
      const variables = await resolveVariables(dashboard, influx, DB, { site: [SITE] });
      for (const panel of dashboard.panels) {
        const result = await runPanel(dashboard, panel, influx, DB, view, variables);
        const values = result.frames.flatMap((f) => f.fields.flatMap((field) => field.values)).filter((v) => v !== null);
        if (values.length === 0) empty.push(`${dashboard.uid}: ${panel.title}`);
      }
    }
    // Nothing was refused, dead-lettered or silent here: those panels alone have nothing to show.
    expect(empty).to.deep.equal(['passerelle-appareils: Appareils silencieux', 'passerelle-livraisons: Rejetées', 'passerelle-livraisons: Lettres mortes']);
  });

  it('InfluxDB killed for a while: the points wait in the journal, and every one arrives once it is back, once', async () => {
    await influx.stop(true);
    const later = Array.from({ length: 20 }, (_, i) => resultCollected(`tat-down-${i + 1}`, 3 + i, 'yumizen-h500-1', NFS));
    for (const r of later) await publish(r);
    await record.waitFor(known.length + later.length);
    await influx.restart();
    const total = known.length + later.length;
    await waitUntil(async () => (await count()) >= total, 90_000, () => `${total} turnaround points after the restart`);
    const [ids] = await influx.query('SELECT "result_id" FROM "turnaround"', DB);
    const seen = ids.values.map((v) => v[1] as string);
    expect(seen).to.have.length(total);
    expect(new Set(seen).size, 'each result once').to.equal(total);
    expect(seen).to.include.members(later.map((r) => r.id));
  });
});

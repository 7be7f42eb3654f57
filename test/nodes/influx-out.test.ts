import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BusClient } from '../../adapters/bus';
import { readiness } from '../../adapters/common/readiness';
import { Store } from '../../adapters/journal';
import type { Result } from '../../adapters/model';
import { SimulatedRecord } from '../../simulators/record';
import { waitUntil } from '../support/hub-process';
import { startInfluxDb, type InfluxSeries, type RunningInfluxDb } from '../support/influxdb';
import { busNode, helper, startHarness, statusesOf, toRecordNode, type Harness, type TestNode } from './harness';

const influxOutNode = require('../../nodes/influx-out/influx-out.js');
const example = (): Result => JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'docs', 'schema', 'result.example.json'), 'utf8')) as Result;
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

/** A result of this harness's site, collected `collectedMinutesAgo` ago, published by a device on the bus. */
function result(id: string, collectedMinutesAgo: number, device = 'dca-vantage-1'): Result {
  const r = example();
  r.id = id;
  r.source = { ...r.source, site: 'node-site', deviceId: device };
  r.times = { collected: minutesAgo(collectedMinutesAgo), analysed: minutesAgo(1), received: new Date().toISOString() };
  delete r.specimen!.collectedAt;
  return r;
}

/** The rows of a query as objects, column → value. */
function rows(series: InfluxSeries[]): Array<Record<string, unknown>> {
  return series.flatMap((s) => s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))));
}

describe('passerelle-influx-out node', function () {
  this.timeout(60_000);
  let harness: Harness;
  let influx: RunningInfluxDb;
  let record: SimulatedRecord;
  let publisher: BusClient;

  before(async () => {
    harness = await startHarness();
    influx = await startInfluxDb();
    publisher = await BusClient.connect({ url: harness.broker.url, clientId: 'influx-out-test-publisher' });
  });
  after(async () => {
    await publisher.close();
    await influx.remove();
    await harness.stop();
  });
  beforeEach(async () => {
    record = await new SimulatedRecord().start();
    await influx.query('DROP DATABASE passerelle');
  });
  afterEach(async () => {
    await helper.unload();
    await record.stop();
  });

  async function load(props: Record<string, unknown> = {}, recordProps: Record<string, unknown> = {}) {
    const flow = [
      { id: 'bus', type: 'passerelle-bus', mode: 'hub' },
      { id: 'ehr', type: 'passerelle-to-record', bus: 'bus', endpoint: `127.0.0.1:${record.port}`, charset: 'UNICODE UTF-8', ackTimeout: 2, maxAttempts: 2, retryMax: 1, window: 1, wires: [[]], ...recordProps },
      { id: 'metrics', type: 'passerelle-influx-out', bus: 'bus', url: influx.url, database: '', retention: '', credentialsFrom: 'node', targets: '{"biology": {"default": 1200}}', silentAfter: 60, skewHours: 24, wires: [['alerts']], ...props },
      { id: 'alerts', type: 'helper' },
    ];
    await helper.load([busNode, toRecordNode, influxOutNode], flow);
    const alerts: Array<Record<string, unknown>> = [];
    helper.getNode('alerts').on('input', (msg: { payload: Record<string, unknown> }) => alerts.push(msg.payload));
    await subscribed();
    return { alerts, node: helper.getNode('metrics') };
  }

  const subscribed = () => waitUntil(() => readiness().starting.length === 0, 10_000, () => 'the bus subscriptions');
  const publish = (r: Result, event = 'result') => publisher.publish(`passerelle/v1/node-site/biology/${r.source.deviceId}/${event}`, JSON.stringify(r));
  const turnarounds = async () => rows(await influx.query('SELECT * FROM turnaround', 'passerelle').catch(() => []));

  it('writes the turnaround of a result delivered to the record, its deliveries, its device and the queue, and alerts when it is over target', async () => {
    const { alerts } = await load();
    const onBus: string[] = [];
    const listener = await BusClient.connect({ url: harness.broker.url, clientId: 'influx-out-test-alerts' });
    await listener.subscribeDurable('passerelle/v1/node-site/+/+/alert', async (topic, payload) => { onBus.push(`${topic} ${payload}`); });
    try {
      await publish(result('late-1', 30));
      await waitUntil(async () => (await turnarounds()).length === 1, 20_000, () => 'the turnaround point');
      const [t] = await turnarounds();
      expect(t).to.include({ site: 'node-site', kind: 'biology', device: 'dca-vantage-1', exam: '58410-2', destination: 'ehr', outcome: 'accepted', result_id: 'late-1', target_s: 1200, target_met: false, clock_skew: false, missing: 1 });
      expect(t.collected_to_accepted_s as number).to.be.within(30 * 60, 31 * 60);
      expect(t.ordered_to_accepted_s ?? null).to.equal(null); // no order time: left out, counted in missing
      const deliveries = rows(await influx.query('SELECT * FROM delivery', 'passerelle'));
      expect(deliveries.map((d) => d.state).sort()).to.deep.equal(['accepted', 'sent']);
      expect(deliveries[0]).to.include({ site: 'node-site', device: 'dca-vantage-1', destination: 'ehr', count: 1 });
      const [device] = rows(await influx.query('SELECT * FROM device', 'passerelle'));
      expect(device).to.include({ device: 'dca-vantage-1', event: 'result', count: 1, observations: example().observations.length });
      const queue = rows(await influx.query('SELECT * FROM queue', 'passerelle'));
      expect(queue.length).to.be.greaterThan(0);
      expect(queue[queue.length - 1]).to.include({ destination: 'ehr', pending: 0, dead: 0 });

      await waitUntil(() => alerts.length === 1 && onBus.length === 1, 5000, () => 'the over-target alert');
      expect(alerts[0]).to.include({ id: 'over-target:late-1:ehr', type: 'over-target', resultId: 'late-1', targetSeconds: 1200, exam: '58410-2' });
      expect(alerts[0].text).to.equal('passerelle-influx-out.alerts.over-target'); // the test helper does not translate
      expect(JSON.stringify(alerts[0])).to.not.match(/NOËL|Hélène|284037512345678/);
      expect(onBus[0]).to.match(/^passerelle\/v1\/node-site\/biology\/dca-vantage-1\/alert /);
    } finally {
      await listener.close();
    }
  });

  it('counts missing timestamps and flags a device clock ahead of the hub, never writing a negative interval', async () => {
    await load();
    const skewed = result('skewed-1', 10);
    skewed.times.analysed = new Date(Date.now() + 3 * 3_600_000).toISOString(); // the device is 3 hours ahead
    const bare = result('bare-1', 10);
    bare.times = { received: new Date().toISOString() };
    await publish(skewed);
    await publish(bare);
    await waitUntil(async () => (await turnarounds()).length === 2, 20_000, () => 'two turnaround points');
    const byId: Record<string, Record<string, unknown>> = Object.fromEntries((await turnarounds()).map((t) => [t.result_id, t]));
    expect(byId['skewed-1']).to.include({ clock_skew: true, missing: 4, target_met: true });
    expect(byId['skewed-1'].collected_to_analysed_s ?? null).to.equal(null);
    expect(byId['bare-1']).to.include({ clock_skew: false, missing: 5, target_s: 1200 });
    expect(byId['bare-1'].target_met ?? null).to.equal(null);
    for (const t of Object.values(byId)) {
      for (const [field, value] of Object.entries(t)) if (field.endsWith('_s') && value !== null && value !== undefined) expect(value as number, field).to.be.at.least(0);
    }
  });

  it('keeps the points on disk while InfluxDB is down, and writes them once it is back', async () => {
    const { node } = await load();
    await influx.stop(true);
    try {
      await publish(result('while-down-1', 5));
      const store = Store.open({ dir: join(harness.dataDir, 'journal') });
      try {
        await waitUntil(() => store.pointCounts('metrics').waiting >= 4, 15_000, () => 'points waiting on disk');
      } finally {
        store.close();
      }
      await waitUntil(() => statusesOf(node).some((s) => s.fill === 'red'), 10_000, () => 'a red status');
      expect(statusesOf(node).pop()!.text).to.match(/unreachable/);
    } finally {
      await influx.restart();
    }
    await waitUntil(async () => (await turnarounds()).some((t) => t.result_id === 'while-down-1'), 30_000, () => 'the turnaround written after the restart');
    await waitUntil(() => statusesOf(node).pop()!.fill === 'green', 10_000, () => 'green again');
  });

  it('alerts on a rejection and on a dead letter, with the ACK code and no patient data', async () => {
    record.answer = 'AE';
    const { alerts } = await load();
    await publish(result('refused-1', 5));
    await waitUntil(() => alerts.some((a) => a.type === 'dead'), 20_000, () => 'the dead-letter alert');
    const types = alerts.map((a) => a.type);
    expect(types).to.include.members(['rejected', 'dead']);
    expect(alerts.find((a) => a.type === 'dead')).to.include({ severity: 'critical', destination: 'ehr', ackCode: 'AE', attempts: 2, device: 'dca-vantage-1' });
    await waitUntil(async () => (await turnarounds()).length === 1, 20_000, () => 'the dead letter turnaround');
    expect((await turnarounds())[0]).to.include({ outcome: 'dead', result_id: 'refused-1' });
  });

  it('says when a device has been silent longer than its gap, once', async () => {
    const { alerts } = await load({ silentAfter: 0.05 }); // 3 s
    const qc = result('qc-1', 1, 'afinion-2');
    await publish(qc, 'qc');
    await waitUntil(() => alerts.some((a) => a.type === 'device-silent' && a.device === 'afinion-2'), 15_000, () => 'the silence alert');
    const silent = alerts.filter((a) => a.type === 'device-silent' && a.device === 'afinion-2');
    expect(silent).to.have.length(1);
    expect(silent[0]).to.include({ kind: 'biology', site: 'node-site' });
    expect(silent[0].seconds as number).to.be.at.least(3);
  });

  it("writes with the node's credentials, or the hub's INFLUX_USERNAME / INFLUX_PASSWORD, to an InfluxDB that requires them", async () => {
    const secured = await startInfluxDb({ auth: true });
    const admin = (q: string) => fetch(`${secured.url}/query?${new URLSearchParams({ q, db: 'passerelle', u: 'admin', p: 'Mot-de-passe-été' })}`, { method: 'POST' }).then((r) => r.json());
    try {
      await fetch(`${secured.url}/query?${new URLSearchParams({ q: "CREATE USER admin WITH PASSWORD 'Mot-de-passe-été' WITH ALL PRIVILEGES" })}`, { method: 'POST' });
      const count = async () => {
        const body = (await admin('SELECT count("count") FROM device')) as { results: Array<{ series?: Array<{ values: unknown[][] }> }> };
        return Number(body.results[0].series?.[0].values[0][1] ?? 0);
      };
      const flow = (credentialsFrom: string) => [
        { id: 'bus', type: 'passerelle-bus', mode: 'hub' },
        { id: `metrics-${credentialsFrom}`, type: 'passerelle-influx-out', bus: 'bus', url: secured.url, credentialsFrom, wires: [[]] },
      ];
      await helper.load([busNode, influxOutNode], flow('node'), { 'metrics-node': { username: 'admin', password: 'Mot-de-passe-été' } });
      await subscribed();
      await publish(result('secured-1', 5));
      await waitUntil(async () => (await count()) === 1, 15_000, () => 'written with the node credentials');
      await helper.unload();

      process.env.INFLUX_USERNAME = 'admin';
      process.env.INFLUX_PASSWORD = 'Mot-de-passe-été';
      try {
        await helper.load([busNode, influxOutNode], flow('env'));
        await subscribed();
        await publish(result('secured-2', 5));
        await waitUntil(async () => (await count()) === 2, 15_000, () => "written with the hub's credentials");
      } finally {
        delete process.env.INFLUX_USERNAME;
        delete process.env.INFLUX_PASSWORD;
      }
    } finally {
      await secured.remove();
    }
  });

  it('the example flow (examples/05-turnaround-to-influxdb.json) runs: a QC result becomes a device point, with INFLUX_URL from the environment', async () => {
    const example05 = (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'examples', '05-turnaround-to-influxdb.json'), 'utf8')) as Array<Record<string, unknown>>)
      .filter((n) => String(n.type).startsWith('passerelle-'))
      .map(({ z: _tab, x: _x, y: _y, ...n }) => ({ ...n, ...(n.type === 'passerelle-influx-out' ? { wires: [[]] } : {}) }));
    process.env.INFLUX_URL = influx.url;
    try {
      await helper.load([busNode, influxOutNode], example05);
      await subscribed();
      await publish(result('qc-example-1', 1, 'afinion-2'), 'qc');
      await waitUntil(async () => rows(await influx.query('SELECT * FROM device', 'passerelle').catch(() => [])).some((d) => d.event === 'qc' && d.device === 'afinion-2'), 15_000, () => 'the QC device point');
    } finally {
      delete process.env.INFLUX_URL;
    }
  });

  it('stays idle, grey, when no InfluxDB URL is set (empty or an unset ${INFLUX_URL})', async () => {
    for (const url of ['', '${PASSERELLE_TEST_UNSET_INFLUX_URL}']) {
      await helper.load([busNode, influxOutNode], [{ id: 'bus', type: 'passerelle-bus', mode: 'hub' }, { id: 'metrics', type: 'passerelle-influx-out', bus: 'bus', url, wires: [[]] }]);
      expect(statusesOf(helper.getNode('metrics')).pop()).to.include({ fill: 'grey', shape: 'ring', text: 'passerelle-influx-out.status.not-configured' });
      await helper.unload();
    }
  });

  it('refuses targets it cannot read, saying so', async () => {
    await helper.load([busNode, influxOutNode], [{ id: 'bus', type: 'passerelle-bus', mode: 'hub' }, { id: 'metrics', type: 'passerelle-influx-out', bus: 'bus', url: influx.url, targets: '{"biologie": {}}', wires: [[]] }]);
    const node: TestNode = helper.getNode('metrics');
    expect(statusesOf(node).pop()).to.include({ fill: 'red' });
  });
});

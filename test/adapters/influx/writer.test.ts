import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { devicePoint, deliveryPoint, InfluxWriter, queuePoint, turnaroundPoint, type InfluxWriterOptions, type MetricPoint } from '../../../adapters/influx';
import { Store } from '../../../adapters/journal';
import type { Result } from '../../../adapters/model';
import { computeTurnaround } from '../../../adapters/turnaround';
import { waitUntil } from '../../support/hub-process';
import { startInfluxDb, type RunningInfluxDb } from '../../support/influxdb';
import { tempDir } from '../../support/net';

const example = (): Result => JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'schema', 'result.example.json'), 'utf8')) as Result;
const run = promisify(execFile);
const FAST = { backoff: { initialMs: 100, maxMs: 500, factor: 2 }, pollMs: 200, requestTimeoutMs: 2000 };

/** n device points, one per millisecond from a fixed minute, each its own result. */
function devicePoints(n: number, from = 0): MetricPoint[] {
  const start = Date.parse('2026-11-24T08:00:00Z');
  return Array.from({ length: n }, (_, i) => devicePoint({ site: 'cso-annecy', kind: 'biology', device: 'dca-vantage-1', event: 'result', observations: 1, at: start + Math.floor((from + i) / 3), resultId: `R-${from + i}` }));
}

async function count(influx: RunningInfluxDb, measurement: string, field: string, db = 'passerelle'): Promise<number> {
  const [series] = await influx.query(`SELECT count("${field}") FROM "${measurement}"`, db);
  return series ? Number(series.values[0][1]) : 0;
}

describe('InfluxDB writer, against a real influxd', function () {
  this.timeout(60_000);
  let influx: RunningInfluxDb;
  let data: { dir: string; remove: () => void };
  let store: Store;
  let writer: InfluxWriter | undefined;

  beforeEach(async () => {
    influx = await startInfluxDb();
    data = tempDir('passerelle-influx-writer-');
    store = Store.open({ dir: data.dir });
  });
  afterEach(async () => {
    await writer?.stop();
    writer = undefined;
    store.close();
    data.remove();
    await influx.remove();
  });

  function start(options: Partial<InfluxWriterOptions> = {}): InfluxWriter {
    writer = new InfluxWriter({ store, channel: 'influx-test', url: influx.url, ...FAST, ...options });
    writer.start();
    return writer;
  }

  it('creates the database and its retention policy, and writes the four measurements with their tags and typed fields', async () => {
    const w = start();
    const result = example();
    const turnaround = computeTurnaround(result, { destination: 'ehr', state: 'accepted', outboundId: 7, sentAt: Date.parse('2026-11-23T09:42:00+01:00'), updatedAt: Date.parse('2026-11-23T09:42:03+01:00') })!;
    const at = Date.parse('2026-11-23T08:42:03Z');
    w.queue([
      turnaroundPoint(turnaround),
      deliveryPoint({ site: 'cso-annecy', kind: 'biology', device: 'yumizen-h500-1', destination: 'ehr', state: 'accepted', attempts: 1, at, outboundId: 7 }),
      queuePoint({ site: 'cso-annecy', destination: 'ehr', pending: 2, waiting: 1, sent: 0, dead: 3, held: 1, at }),
      devicePoint({ site: 'cso-annecy', kind: 'biology', device: 'yumizen-h500-1', event: 'result', observations: 4, at, resultId: result.id }),
    ]);
    await waitUntil(() => w.status.waiting === 0, 10_000, () => 'the queue drained');

    const [policy] = (await influx.query('SHOW RETENTION POLICIES ON passerelle')).map((s) => s.values.find((v) => v[0] === 'passerelle'));
    expect(policy, 'retention policy passerelle').to.not.equal(undefined);
    expect(policy![1]).to.equal('9600h0m0s');
    const [row] = await influx.query('SELECT * FROM turnaround', 'passerelle');
    const value = (column: string) => row.values[0][row.columns.indexOf(column)];
    expect(value('time')).to.equal(Date.parse('2026-11-23T09:42:03+01:00'));
    expect(value('site')).to.equal('cso-annecy');
    expect(value('exam')).to.equal('58410-2');
    expect(value('outcome')).to.equal('accepted');
    expect(value('destination')).to.equal('ehr');
    expect(value('collected_to_accepted_s')).to.equal(10 * 60 + 3);
    expect(value('target_s')).to.equal(1200);
    expect(value('target_met')).to.equal(true);
    expect(value('clock_skew')).to.equal(false);
    expect(value('result_id')).to.equal(result.id);
    const types = Object.fromEntries((await influx.query('SHOW FIELD KEYS', 'passerelle')).flatMap((s) => s.values.map((v) => [`${s.name}.${v[0]}`, v[1]])));
    expect(types).to.include({
      'turnaround.collected_to_accepted_s': 'float', 'turnaround.missing': 'integer', 'turnaround.target_met': 'boolean', 'turnaround.result_id': 'string',
      'delivery.count': 'integer', 'queue.dead': 'integer', 'device.observations': 'integer',
    });
    const [queue] = await influx.query('SELECT pending, waiting, sent, dead, held FROM queue', 'passerelle');
    expect(queue.values[0].slice(1)).to.deep.equal([2, 1, 0, 3, 1]);
    const tagKeys = (await influx.query('SHOW TAG KEYS FROM delivery', 'passerelle'))[0].values.map((v) => v[0]);
    expect(tagKeys).to.deep.equal(['destination', 'device', 'kind', 'site', 'state']);
  });

  it('keeps every point on disk while influxd is killed, then writes each exactly once after it restarts', async () => {
    const w = start({ batchSize: 500 });
    w.queue(devicePoints(1000));
    await waitUntil(() => w.status.waiting === 0, 20_000, () => 'the first thousand written');
    await influx.stop(true);
    w.queue(devicePoints(2000, 1000));
    await waitUntil(() => !w.status.connected && w.status.lastError !== undefined, 10_000, () => 'the writer saw InfluxDB gone');
    expect(w.status.waiting).to.equal(2000);
    await influx.restart();
    await waitUntil(() => w.status.waiting === 0, 30_000, () => `the queue drained after the restart (${w.status.waiting} left)`);
    expect(w.status).to.include({ connected: true, setAside: 0 });
    expect(w.status.lastError).to.equal(undefined);
    expect(await count(influx, 'device', 'count')).to.equal(3000);
    // a batch written again (InfluxDB had it but the answer was lost): nothing counted twice
    w.queue(devicePoints(500, 250));
    await waitUntil(() => w.status.waiting === 0, 10_000, () => 'the repeats written');
    expect(await count(influx, 'device', 'count')).to.equal(3000);
  });

  it('treats an InfluxDB that does not answer (influxd paused with SIGSTOP) as unreachable: the points wait, then go once it answers', async () => {
    // The test support gives no pid: the process listening on the HTTP port is influxd.
    const { stdout } = await run('ss', ['-ltnpH', `sport = :${influx.port}`]);
    const pid = Number(/pid=(\d+)/.exec(stdout)?.[1]);
    expect(pid, `influxd's pid from ss: ${stdout}`).to.be.greaterThan(0);
    const w = start({ requestTimeoutMs: 500 });
    w.queue(devicePoints(10));
    await waitUntil(() => w.status.waiting === 0, 10_000, () => 'the first points');
    process.kill(pid, 'SIGSTOP');
    try {
      w.queue(devicePoints(20, 10));
      await waitUntil(() => w.status.lastError !== undefined, 10_000, () => 'the time-out');
      expect(w.status).to.include({ connected: false, waiting: 20 });
      expect(w.status.lastError).to.match(/timed out/i);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitUntil(() => w.status.waiting === 0, 20_000, () => 'written once influxd answers again');
    expect(await count(influx, 'device', 'count')).to.equal(30);
  });

  it('sets aside a point InfluxDB refuses (400), with its error, and writes the others', async () => {
    // Someone else wrote device.count as a float: our integer points conflict in that shard.
    await influx.query('CREATE DATABASE passerelle');
    await influx.query('CREATE RETENTION POLICY passerelle ON passerelle DURATION 400d REPLICATION 1 DEFAULT');
    const line = `device,site=cso-annecy,kind=biology,device=dca-vantage-1,event=result count=1,observations=1 ${Date.parse('2026-11-24T07:00:00Z')}000000`;
    const answer = await fetch(`${influx.url}/write?db=passerelle&rp=passerelle&precision=ns`, { method: 'POST', body: line });
    expect(answer.status).to.equal(204);
    const w = start({ batchSize: 64 });
    const at = Date.parse('2026-11-24T08:00:00Z');
    const good = Array.from({ length: 40 }, (_, i) => deliveryPoint({ site: 'cso-annecy', destination: 'ehr', state: 'sent', attempts: 1, at, outboundId: i }));
    const bad = devicePoints(3, 500);
    w.queue([...good.slice(0, 20), ...bad, ...good.slice(20)]);
    await waitUntil(() => w.status.waiting === 0, 20_000, () => 'the queue emptied');
    expect(w.status.setAside).to.equal(3);
    expect(await count(influx, 'delivery', 'count')).to.equal(40);
    const [aside] = store.listSetAsidePoints('influx-test', 10);
    expect(aside.error).to.match(/field type conflict/);
    expect(JSON.parse(aside.point)).to.include({ measurement: 'device' });
  });

  it('writes with credentials when InfluxDB requires them, and waits (saying why) without them', async () => {
    await influx.remove();
    influx = await startInfluxDb({ auth: true });
    // The first admin may be created without credentials; every other request needs them.
    await fetch(`${influx.url}/query?${new URLSearchParams({ q: "CREATE USER admin WITH PASSWORD 'Sécurité-42' WITH ALL PRIVILEGES" })}`, { method: 'POST' });

    const anonymous = start();
    anonymous.queue(devicePoints(5));
    await waitUntil(() => anonymous.status.lastError !== undefined, 10_000, () => 'the refusal');
    expect(anonymous.status.lastError).to.match(/401/);
    expect(anonymous.status.waiting).to.equal(5);
    await anonymous.stop();

    const admin = start({ username: 'admin', password: 'Sécurité-42' });
    await waitUntil(() => admin.status.waiting === 0, 10_000, () => 'written with credentials');
    const params = new URLSearchParams({ q: 'SELECT count("count") FROM device', db: 'passerelle', u: 'admin', p: 'Sécurité-42' });
    const body = (await (await fetch(`${influx.url}/query?${params}`)).json()) as { results: Array<{ series: Array<{ values: unknown[][] }> }> };
    expect(body.results[0].series[0].values[0][1]).to.equal(5);
  });

  it('carries on without the rights to create its retention policy, into the database default, and says so', async () => {
    await influx.remove();
    influx = await startInfluxDb({ auth: true });
    const admin = (q: string) => fetch(`${influx.url}/query?${new URLSearchParams({ q, u: 'admin', p: 'x' })}`, { method: 'POST' }).then((r) => r.json());
    await fetch(`${influx.url}/query?${new URLSearchParams({ q: "CREATE USER admin WITH PASSWORD 'x' WITH ALL PRIVILEGES" })}`, { method: 'POST' });
    await admin('CREATE DATABASE passerelle');
    await admin("CREATE USER hub WITH PASSWORD 'y'");
    await admin('GRANT WRITE ON passerelle TO hub');
    const w = start({ username: 'hub', password: 'y' });
    w.queue(devicePoints(3));
    await waitUntil(() => w.status.waiting === 0, 10_000, () => 'written by a writer without admin rights');
    expect(w.status.notice).to.match(/retention polic/);
    const body = (await admin('SHOW RETENTION POLICIES ON passerelle')) as { results: Array<{ series: Array<{ values: unknown[][] }> }> };
    expect(body.results[0].series[0].values.map((v) => v[0])).to.deep.equal(['autogen']);
    const counted = (await fetch(`${influx.url}/query?${new URLSearchParams({ q: 'SELECT count("count") FROM device', db: 'passerelle', u: 'admin', p: 'x' })}`).then((r) => r.json())) as { results: Array<{ series: Array<{ values: unknown[][] }> }> };
    expect(counted.results[0].series[0].values[0][1]).to.equal(3);
  });
});

import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getProfile, mapTransfer } from '../../adapters/astm';
import { BusClient } from '../../adapters/bus';
import type { Result } from '../../adapters/model';
import { captureMessages, runAstm } from '../../simulators/astm';
import { SimulatedRecord } from '../../simulators/record';
import { tempDir } from '../support/net';
import { startHubProcess, waitUntil, type HubProcess } from '../support/hub-process';
import { startPtyPair, type PtyPair } from '../support/pty';
import { parseWithPython, pyComponents } from '../support/python-hl7';
import { SHARED_DIR, sharedFixture } from '../support/shared';

/**
 * Issue 3's acceptance: every capture in ../shared/fixtures/astm, played by the simulator over TCP
 * and over a socat serial pair into the running hub (site flow, profile `auto`), reaches the
 * record as ORUs whose OBX count, values, units and ids match what the records say, or is listed
 * as unmatched when it carries no patient; quality controls go to .../qc only.
 */
const CAPTURES = (() => {
  sharedFixture('astm', 'roche-cobas-c311.txt'); // a clear error when ../shared is absent
  return readdirSync(join(SHARED_DIR, 'fixtures', 'astm')).sort();
})();

/** What the capture should give: the adapter's own reading of the records the simulator sends. */
function expectedFor(file: string, deviceId: string): { matched: Result[]; unmatched: Result[]; controls: Result[] } {
  const context = { site: 'test-site', deviceClass: 'analyser', deviceId, receivedAt: new Date() };
  const results: Result[] = [];
  const controls: Result[] = [];
  for (const text of captureMessages(readFileSync(sharedFixture('astm', file)))) {
    const mapped = mapTransfer(text, getProfile('astm-generic'), context, true);
    results.push(...mapped.results);
    controls.push(...mapped.controls);
  }
  return { matched: results.filter((r) => r.patient?.matched), unmatched: results.filter((r) => !r.patient?.matched), controls };
}

describe('every ASTM capture through the running hub, over TCP and over a serial line', function () {
  this.timeout(300_000);
  let data: ReturnType<typeof tempDir>;
  let record: SimulatedRecord;
  let hub: HubProcess;
  let line: PtyPair;
  let watcher: BusClient;
  const qc: string[] = [];
  const summary: string[] = [];
  /** Result ids already delivered: a capture repeating a result (same id) is not sent twice. */
  const delivered = new Set<string>();

  before(async () => {
    data = tempDir();
    line = await startPtyPair();
    record = await new SimulatedRecord().start();
    hub = await startHubProcess(join(data.dir, 'hub'), { EHR_MLLP: `127.0.0.1:${record.port}`, ASTM_PROFILE: 'auto', ASTM_SERIAL_PATH: line.a });
    await waitUntil(async () => (await fetch(`${hub.url}/passerelle/api/health`)).status === 200, 30_000, () => `healthy hub:\n${hub.output()}`);
    watcher = await BusClient.connect({ url: hub.mqttUrl, clientId: 'captures-qc-watcher' });
    await watcher.subscribeDurable('passerelle/v1/test-site/+/+/qc', async (topic) => { qc.push(topic); });
  });

  after(async () => {
    console.log(summary.map((line) => `      ${line}`).join('\n'));
    await watcher?.close();
    await hub?.stop();
    await record?.stop();
    await line?.stop();
    data?.remove();
  });

  const unmatchedCount = async () => (await (await fetch(`${hub.url}/passerelle/api/unmatched?limit=500`)).json()).results.length as number;

  for (const transport of ['tcp', 'serial'] as const) {
    for (const file of CAPTURES) {
      it(`${file} over ${transport}`, async () => {
        const deviceId = transport === 'tcp' ? 'astm-tcp' : 'astm-serial';
        const all = expectedFor(file, deviceId);
        const expected = { ...all, matched: all.matched.filter((r) => !delivered.has(r.id)) };
        const before = { oru: record.received.length, unmatched: await unmatchedCount(), qc: qc.length };
        const outcome = await runAstm({ ...(transport === 'tcp' ? { tcp: `127.0.0.1:${hub.env.ASTM_TCP_PORT}` } : { serial: line.b }), file: sharedFixture('astm', file), log: () => undefined });
        expect(outcome.failed).to.deep.equal([]);

        await waitUntil(async () => record.received.length >= before.oru + expected.matched.length
          && (await unmatchedCount()) >= before.unmatched + expected.unmatched.length
          && qc.length >= before.qc + expected.controls.length, 20_000, () => `${file}: ${expected.matched.length} ORU, ${expected.unmatched.length} unmatched, ${expected.controls.length} QC`);
        const orus = record.received.slice(before.oru).map((m) => parseWithPython(m.bytes));
        expect(orus).to.have.length(expected.matched.length);
        const got = orus.map((oru) => ({
          patient: pyComponents(oru, 'PID', 3)?.[0],
          values: oru.segments.filter((s) => s.name === 'OBX').map((_, k) => (pyComponents(oru, 'OBX', 5, k + 1) ?? []).join('^')),
          units: oru.segments.filter((s) => s.name === 'OBX').map((_, k) => pyComponents(oru, 'OBX', 6, k + 1)?.[0] ?? ''),
        }));
        const want = expected.matched.map((r) => ({
          patient: r.patient!.identifiers[0].value,
          count: r.observations.length,
          units: r.observations.map((o) => o.unit?.code ?? ''),
        }));
        expect(got.map((g) => g.patient).sort()).to.deep.equal(want.map((w) => w.patient).sort());
        expect(got.map((g) => g.values.length).sort()).to.deep.equal(want.map((w) => w.count).sort());
        expect(got.flatMap((g) => g.units).sort()).to.deep.equal(want.flatMap((w) => w.units).sort());
        expect(qc.length - before.qc).to.equal(expected.controls.length);
        for (const r of expected.matched) delivered.add(r.id);
        const repeats = all.matched.length - expected.matched.length;
        summary.push(`${transport.padEnd(6)} ${file}: ${orus.length} ORU (${got.reduce((n, g) => n + g.values.length, 0)} OBX), ${expected.unmatched.length} unmatched, ${expected.controls.length} QC${repeats ? `, ${repeats} already delivered (same result id, not sent again)` : ''}`);
      });
    }
  }
});

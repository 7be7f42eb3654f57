import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getProfile, mapTransfer } from '../../adapters/astm';
import { BusClient } from '../../adapters/bus';
import type { ObservationValue, Result } from '../../adapters/model';
import { captureMessages, runAstm } from '../../simulators/astm';
import { SimulatedRecord } from '../../simulators/record';
import { tempDir } from '../support/net';
import { startHubProcess, waitUntil, type HubProcess } from '../support/hub-process';
import { startPtyPair, type PtyPair } from '../support/pty';
import { parseWithPython, pyComponents, pyField, type PyMessage } from '../support/python-hl7';
import { SHARED_DIR, sharedFixture } from '../support/shared';

/**
 * Issue 3's acceptance: every capture in ../shared/fixtures/astm, played by the simulator over TCP
 * and over a socat serial pair into the running hub (site flow, profile `auto`), reaches the
 * record as ORUs whose every OBX (code, value, unit, flags), specimen and patient ids match what
 * the records say, or is listed as unmatched, with every observation, when it carries no
 * patient; quality controls go to .../qc only.
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

/** One ORU as compared: patient, specimen, and each OBX's code, value, unit and flags. */
interface ComparedOru {
  patient?: string;
  specimen?: string;
  obx: Array<{ code?: string; value: string; unit: string; flags: string }>;
}

const byJson = (a: ComparedOru, b: ComparedOru) => JSON.stringify(a).localeCompare(JSON.stringify(b));
/** Numbers compared as numbers: "6.10" and 6.1 are the same value. */
const numberText = (text: string) => (text === '' || Number.isNaN(Number(text)) ? text : String(Number(text)));

/** What python3-hl7 reads in an ORU the record received. */
function readOru(oru: PyMessage): ComparedOru {
  const count = oru.segments.filter((s) => s.name === 'OBX').length;
  return {
    patient: pyComponents(oru, 'PID', 3)?.[0] || undefined,
    specimen: pyComponents(oru, 'SPM', 2)?.[0] || undefined,
    obx: Array.from({ length: count }, (_, k) => {
      const valueType = pyComponents(oru, 'OBX', 2, k + 1)?.[0];
      const value = pyComponents(oru, 'OBX', 5, k + 1) ?? [];
      return {
        code: pyComponents(oru, 'OBX', 3, k + 1)?.[0] || undefined,
        value: valueType === 'NM' || valueType === 'SN' ? value.map(numberText).join('^').replace(/\^+$/, '') : valueType === 'CWE' ? value[0] : value.join('^'),
        unit: pyComponents(oru, 'OBX', 6, k + 1)?.[0] ?? '',
        flags: (pyField(oru, 'OBX', 8, k + 1) ?? []).map((r) => r[0][0]).join('~'),
      };
    }),
  };
}

/** The same, from the adapter's reading of the records the simulator sent. */
function expectedOru(result: Result): ComparedOru {
  const value = (v: ObservationValue | undefined): string => {
    if (v === undefined) return '';
    if (typeof v === 'number') return String(v);
    if (typeof v === 'string') return v;
    if ('comparator' in v) return `${v.comparator}^${v.number}`;
    return v.code;
  };
  return {
    patient: result.patient?.identifiers[0]?.value,
    specimen: result.specimen?.id,
    obx: result.observations.map((o) => ({
      code: (o.code ?? o.deviceCode).code,
      value: o.valueType === 'SN' && typeof o.value === 'number' ? `^${o.value}` : value(o.value),
      unit: o.unit?.code ?? '',
      flags: (o.flags ?? []).join('~'),
    })),
  };
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

  const listUnmatched = async () => (await (await fetch(`${hub.url}/passerelle/api/unmatched?limit=500`)).json()).results as Array<{ id: string; result: Result }>;
  const unmatchedCount = async () => (await listUnmatched()).length;

  for (const transport of ['tcp', 'serial'] as const) {
    for (const file of CAPTURES) {
      it(`${file} over ${transport}`, async () => {
        const deviceId = transport === 'tcp' ? 'astm-tcp' : 'astm-serial';
        const all = expectedFor(file, deviceId);
        const expected = { ...all, matched: all.matched.filter((r) => !delivered.has(r.id)) };
        const listedBefore = new Set((await listUnmatched()).map((row) => row.id));
        const before = { oru: record.received.length, unmatched: listedBefore.size, qc: qc.length };
        const outcome = await runAstm({ ...(transport === 'tcp' ? { tcp: `127.0.0.1:${hub.env.ASTM_TCP_PORT}` } : { serial: line.b }), file: sharedFixture('astm', file), log: () => undefined });
        expect(outcome.failed).to.deep.equal([]);

        await waitUntil(async () => record.received.length >= before.oru + expected.matched.length
          && (await unmatchedCount()) >= before.unmatched + expected.unmatched.length
          && qc.length >= before.qc + expected.controls.length, 20_000, () => `${file}: ${expected.matched.length} ORU, ${expected.unmatched.length} unmatched, ${expected.controls.length} QC`);
        const orus = record.received.slice(before.oru).map((m) => parseWithPython(m.bytes));
        expect(orus).to.have.length(expected.matched.length);
        const got = orus.map(readOru).sort(byJson);
        expect(got).to.deep.equal(expected.matched.map(expectedOru).sort(byJson));
        // Held results are listed by the hub API with every observation the records gave.
        const listed = (await listUnmatched()).filter((row) => !listedBefore.has(row.id)).map((row) => expectedOru(row.result));
        expect(listed.sort(byJson)).to.deep.equal(expected.unmatched.map(expectedOru).sort(byJson));
        expect(qc.length - before.qc).to.equal(expected.controls.length);
        for (const r of expected.matched) delivered.add(r.id);
        const repeats = all.matched.length - expected.matched.length;
        summary.push(`${transport.padEnd(6)} ${file}: ${orus.length} ORU (${got.reduce((n, g) => n + g.obx.length, 0)} OBX), ${expected.unmatched.length} unmatched (${listed.reduce((n, l) => n + l.obx.length, 0)} observations), ${expected.controls.length} QC${repeats ? `, ${repeats} already delivered (same result id, not sent again)` : ''}`);
      });
    }
  }
});

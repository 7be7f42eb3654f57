/**
 * The store's share of one result's cost: journalInbound + recordResult + enqueue + markSent +
 * markAccepted, as the hub does them for each result. Prints results/s in both durability modes,
 * two ways:
 * - one commit per call;
 * - grouped as the hub can: the three ingest writes in one store.transaction(), and a message's
 *   markAccepted with the next one's markSent in one (what DeliveryWorker does).
 * Figures only, no pass/fail: `npm run build && node dist/bench/store.js [results]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, type Durability } from '../adapters/journal';
import type { Result } from '../adapters/model/result';

const COUNT = Number(process.argv[2] ?? 20_000);

function sampleResult(n: number): Result {
  return {
    schema: 'passerelle.result/1',
    id: `bench-${n}`,
    kind: 'biology',
    status: 'final',
    source: { site: 'bench-site', deviceClass: 'haematology', deviceId: `analyser-${n % 4}`, protocol: 'astm' },
    patient: { identifiers: [{ value: `IPP${100000 + (n % 5000)}`, authority: 'BENCH' }], name: { family: 'TEST', given: ['Bench'] }, matched: true },
    specimen: { id: `S${n}` },
    observations: ['WBC', 'HGB', 'PLT', 'CRP'].map((code, i) => ({
      deviceCode: { code, system: '99BENCH' },
      valueType: 'NM' as const,
      value: 10 + i,
      unit: { code: 'g/L', system: 'UCUM' },
      status: 'F' as const,
    })),
    times: { received: new Date().toISOString() },
  };
}

const RAW = Buffer.from(`H|\\^&|||BENCH\r${'R|1|^^^WBC|12.4|G/L||H||F\r'.repeat(20)}L|1|N\r`);
const ORU = Buffer.alloc(1200, 'x');

function ingest(store: Store, n: number): number {
  const result = sampleResult(n);
  const inboundId = store.journalInbound({ channel: 'bench:astm', contentType: 'application/astm', raw: RAW, status: 'accepted', resultId: result.id });
  store.recordResult(result, inboundId);
  return store.enqueue({ destination: 'ehr', dedupeKey: result.id, resultId: result.id, inboundId, build: () => ORU }).id;
}

function oneCommitPerCall(store: Store, count: number): void {
  for (let n = 0; n < count; n++) {
    const id = ingest(store, n);
    const now = Date.now();
    store.markSent(id, now);
    store.markAccepted(id, { code: 'AA' }, now);
  }
}

function grouped(store: Store, count: number): void {
  let previous: number | undefined;
  for (let n = 0; n < count; n++) {
    const id = store.transaction(() => ingest(store, n));
    store.transaction(() => {
      const now = Date.now();
      if (previous !== undefined) store.markAccepted(previous, { code: 'AA' }, now);
      store.markSent(id, now);
    });
    previous = id;
  }
  if (previous !== undefined) store.markAccepted(previous, { code: 'AA' }, Date.now());
}

function run(durability: Durability, label: string, cycle: (store: Store, count: number) => void, count: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'passerelle-bench-'));
  const store = Store.open({ dir, durability });
  try {
    const started = process.hrtime.bigint();
    const cpuBefore = process.cpuUsage();
    cycle(store, count);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    const perSecond = count / seconds;
    // CPU time says what the work costs when other processes share the cores; wall time what it gave.
    console.log(`${durability.padEnd(13)} ${label.padEnd(20)} ${String(Math.round(perSecond)).padStart(6)} results/s  ${String(Math.round(perSecond * 5)).padStart(6)} store ops/s  ${(1e6 / perSecond).toFixed(0).padStart(5)} µs/result wall  ${((cpu.user + cpu.system) / count).toFixed(0).padStart(5)} µs/result CPU  (${count} results)`);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`store cycle per result: journalInbound + recordResult + enqueue + markSent + markAccepted; data in ${tmpdir()}`);
for (const durability of ['process-crash', 'power-loss'] as const) {
  // power-loss waits for the disk at every commit: fewer results keep the run short.
  const count = durability === 'power-loss' ? Math.ceil(COUNT / 5) : COUNT;
  run(durability, 'one commit per call', oneCommitPerCall, count);
  run(durability, 'grouped', grouped, count);
}

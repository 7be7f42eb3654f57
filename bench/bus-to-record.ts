/**
 * Canonical results published on the bus → the running hub (journal on) → ORU over MLLP →
 * ACK from a listener. Prints results/s and publish→ORU-at-the-record latency (p50/p99; the
 * listener answers at once, so that is the time to the ACK less one loopback hop), beside a
 * baseline measured in the same run: the same listener fed directly by an MLLP client.
 * Also the hub's peak memory (VmHWM). Figures only: nothing here asserts a duration.
 *
 *   npm run bench     # BENCH_COUNT=10000 BENCH_RATES=500,200 BENCH_SECONDS=10 to change
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BusClient } from '../adapters/bus';
import { buildOru, encodeMessage, MllpClient } from '../adapters/hl7';
import type { Result } from '../adapters/model';
import { SimulatedRecord } from '../simulators/record';
import { freePort, tempDir } from '../test/support/net';
import { startHubProcess, waitUntil } from '../test/support/hub-process';

const ROOT = resolve(__dirname, '..', '..');
const COUNT = Number(process.env.BENCH_COUNT ?? 10_000);
const RATES = (process.env.BENCH_RATES ?? '500,200').split(',').map(Number);
const PACED_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TOPIC = 'passerelle/v1/bench-site/biology/yumizen-h500-1/result';
const example = JSON.parse(readFileSync(join(ROOT, 'docs', 'schema', 'result.example.json'), 'utf8')) as Result;

const resultNumber = (text: string): number => Number(/\rOBR\|[^|]*\|P(\d+)\|/.exec(text)?.[1] ?? -1);
const resultFor = (i: number): Result => ({ ...example, id: `bench-${i}`, order: { ...example.order, placerNumber: `P${i}` } });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function describe(label: string, count: number, seconds: number, latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  return `${label.padEnd(34)} ${String(count).padStart(6)} results  ${(count / seconds).toFixed(0).padStart(6)} results/s   p50 ${ms(percentile(sorted, 50))}  p99 ${ms(percentile(sorted, 99))}`;
}

/** Sends `count` items, `rate` per second (Infinity: as fast as `inFlight` allows). */
async function drive(count: number, rate: number, inFlight: number, send: (i: number) => Promise<void>): Promise<number> {
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      if (Number.isFinite(rate)) {
        const due = start + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      await send(i);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return (performance.now() - start) / 1000;
}

async function baseline(record: SimulatedRecord, count: number, rate: number): Promise<string> {
  const client = new MllpClient({ host: '127.0.0.1', port: record.port });
  const options = { sendingApplication: 'BENCH', sendingFacility: 'BENCH', receivingApplication: '', receivingFacility: '', charset: 'UNICODE UTF-8' as const };
  const latencies: number[] = [];
  const seconds = await drive(count, rate, 1, async (i) => {
    const controlId = `B${rate}-${i}`;
    const bytes = encodeMessage(buildOru(resultFor(i), { ...options, controlId }), 'UNICODE UTF-8').bytes;
    const sent = performance.now();
    await client.send(bytes, controlId, 10_000);
    latencies.push(performance.now() - sent);
  });
  await client.close();
  return describe(`baseline, direct MLLP${Number.isFinite(rate) ? ` @${rate}/s` : ''}`, count, seconds, latencies);
}

async function main(): Promise<void> {
  const data = tempDir('passerelle-bench-');
  const arrivals = new Map<number, number>();
  const record = await new SimulatedRecord({ onMessage: (m) => arrivals.set(resultNumber(m.text), performance.now()) }).start();
  const lines: string[] = [];
  lines.push(await baseline(record, COUNT, Infinity));
  for (const rate of RATES) lines.push(await baseline(record, rate * PACED_SECONDS, rate));
  record.received.length = 0;
  arrivals.clear();

  const hub = await startHubProcess(join(data.dir, 'hub'), { SITE_ID: 'bench-site', EHR_MLLP: `127.0.0.1:${record.port}`, PASSERELLE_LOG_LEVEL: 'error', MQTT_PORT: String(await freePort()) });
  await waitUntil(async () => (await fetch(`${hub.url}/passerelle/api/health`)).status === 200, 30_000);
  const bus = await BusClient.connect({ url: hub.mqttUrl, clientId: 'bench-publisher' });
  const published = new Map<number, number>();
  const throughHub = async (label: string, first: number, count: number, rate: number, inFlight: number) => {
    const start = performance.now();
    await drive(count, rate, inFlight, async (k) => {
      const i = first + k;
      published.set(i, performance.now());
      await bus.publish(TOPIC, JSON.stringify(resultFor(i)));
    });
    await waitUntil(() => [...Array(count).keys()].every((k) => arrivals.has(first + k)), 600_000, () => `${count} ORUs at the record`);
    const seconds = (Math.max(...[...Array(count).keys()].map((k) => arrivals.get(first + k)!)) - start) / 1000;
    const latencies = [...Array(count).keys()].map((k) => arrivals.get(first + k)! - published.get(first + k)!);
    lines.push(describe(label, count, seconds, latencies));
  };
  await throughHub('hub: bus → ORU → ACK, flat out', 0, COUNT, Infinity, 64);
  let first = COUNT;
  for (const rate of RATES) {
    await throughHub(`hub: bus → ORU → ACK @${rate}/s`, first, rate * PACED_SECONDS, rate, 8);
    first += rate * PACED_SECONDS;
  }
  const status = readFileSync(`/proc/${hub.child.pid}/status`, 'utf8');
  const peak = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  await bus.close();
  await hub.stop();
  await record.stop();
  data.remove();

  console.log(`Passerelle bench, ${new Date().toISOString()}, Node ${process.version}`);
  for (const line of lines) console.log(line);
  console.log(`hub peak memory (VmHWM): ${peak ? (Number(peak) / 1024).toFixed(0) : '?'} MiB`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

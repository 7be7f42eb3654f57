/**
 * The running hub (site flow, journal on) delivering to a record listener that ACKs at once, in
 * one run:
 * - baseline: the same listener fed directly by an MLLP client;
 * - bus → ORU → ACK: canonical results published on the bus;
 * - ASTM → ORU → ACK: several simulated analysers at once, over TCP, into the hub's ASTM
 *   listener, latency from each message's last frame (ETX) to its ORU at the record.
 * Prints results/s and latency p50/p99 (arrival at the record, which answers at once: the time
 * to the ACK less one loopback hop), and the hub's peak memory (VmHWM). Figures only: nothing
 * here asserts a duration.
 *
 *   npm run bench     # BENCH_COUNT=10000 BENCH_RATES=500,200 BENCH_SECONDS=10
 *                     # BENCH_ANALYSERS=4 BENCH_ASTM_MESSAGES=500 (per analyser) to change
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BusClient } from '../adapters/bus';
import { buildOru, encodeMessage, MllpClient } from '../adapters/hl7';
import type { Result } from '../adapters/model';
import { SimulatedRecord } from '../simulators/record';
import { connectTcp, generateMessages, playMessages } from '../simulators/astm';
import { freePort, tempDir } from '../test/support/net';
import { startHubProcess, waitUntil } from '../test/support/hub-process';

const ROOT = resolve(__dirname, '..', '..');
const COUNT = Number(process.env.BENCH_COUNT ?? 10_000);
const RATES = (process.env.BENCH_RATES ?? '500,200').split(',').map(Number);
const PACED_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ANALYSERS = Number(process.env.BENCH_ANALYSERS ?? 4);
const ASTM_MESSAGES = Number(process.env.BENCH_ASTM_MESSAGES ?? 500);
const TOPIC = 'passerelle/v1/bench-site/biology/yumizen-h500-1/result';
const example = JSON.parse(readFileSync(join(ROOT, 'docs', 'schema', 'result.example.json'), 'utf8')) as Result;

const resultNumber = (text: string): number => Number(/\rOBR\|[^|]*\|P(\d+)\|/.exec(text)?.[1] ?? -1);
/** The generated ASTM messages' specimen ids are SIM + a number unique across analysers. */
const specimenNumber = (text: string): number => Number(/SIM(\d{6})/.exec(text)?.[1] ?? -1);
const resultFor = (i: number): Result => ({ ...example, id: `bench-${i}`, order: { ...example.order, placerNumber: `P${i}` } });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function describe(label: string, count: number, seconds: number, latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  return `${label.padEnd(46)} ${String(count).padStart(6)} results  ${(count / seconds).toFixed(0).padStart(6)} results/s   p50 ${ms(percentile(sorted, 50))}  p99 ${ms(percentile(sorted, 99))}`;
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

/**
 * `analysers` instruments, each on its own TCP connection, each sending `perAnalyser` messages
 * back to back, or one every `everyMs`; `first` is the first specimen number.
 */
async function astmAnalysers(port: number, arrivals: Map<number, number>, run: { analysers: number; perAnalyser: number; first: number; everyMs?: number }): Promise<string> {
  const { analysers, perAnalyser, everyMs } = run;
  const lastFrames = new Map<number, number>();
  const start = performance.now();
  const played = await Promise.all(Array.from({ length: analysers }, async (_, a) => {
    const first = run.first + a * perAnalyser;
    const socket = await connectTcp(`127.0.0.1:${port}`);
    try {
      const messages = generateMessages(perAnalyser, { start: first, sender: `BENCH-ANALYSER-${a + 1}^1.0` });
      return await playMessages(socket, messages, {
        everyMs,
        onEvent: (e) => { if (e.kind === 'last-frame') lastFrames.set(first + e.index, performance.now()); },
      });
    } finally {
      socket.destroy();
    }
  }));
  const failed = played.reduce((n, p) => n + p.failed.length, 0);
  if (failed > 0) throw new Error(`${failed} ASTM messages failed`);
  const numbers = [...lastFrames.keys()];
  await waitUntil(() => numbers.every((n) => arrivals.has(n)), 600_000, () => `${numbers.length} ASTM results at the record`);
  const seconds = (Math.max(...numbers.map((n) => arrivals.get(n)!)) - start) / 1000;
  const pace = everyMs ? ` @${Math.round((analysers * 1000) / everyMs)}/s` : ', flat out';
  return describe(`hub: ${analysers} ASTM analysers → ORU → ACK${pace}`, numbers.length, seconds, numbers.map((n) => arrivals.get(n)! - lastFrames.get(n)!));
}

async function main(): Promise<void> {
  const data = tempDir('passerelle-bench-');
  const arrivals = new Map<number, number>();
  const astmArrivals = new Map<number, number>();
  const record = await new SimulatedRecord({
    onMessage: (m) => {
      const specimen = specimenNumber(m.text);
      if (specimen >= 0) astmArrivals.set(specimen, performance.now());
      else arrivals.set(resultNumber(m.text), performance.now());
    },
  }).start();
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
  const astmPort = Number(hub.env.ASTM_TCP_PORT);
  lines.push(await astmAnalysers(astmPort, astmArrivals, { analysers: ANALYSERS, perAnalyser: ASTM_MESSAGES, first: 1 }));
  // Paced: the slowest bus rate above, shared by the analysers, for as many seconds.
  const paced = Math.min(...RATES);
  lines.push(await astmAnalysers(astmPort, astmArrivals, {
    analysers: ANALYSERS, perAnalyser: Math.ceil((paced * PACED_SECONDS) / ANALYSERS), first: ANALYSERS * ASTM_MESSAGES + 1, everyMs: (ANALYSERS * 1000) / paced,
  }));
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

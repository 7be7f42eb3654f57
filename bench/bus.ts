/**
 * Messages/s through the bus broker to one durable subscriber (QoS 1, handler resolves at once),
 * publisher pipelining a window of messages. Same run, same clients, three brokers:
 *   - startBroker(): aedes + LevelDB + the ingress journal + ordered publishing (what the hub runs)
 *   - bare aedes + LevelDB persistence (no journal, no ordering: loses acked messages on kill -9,
 *     and holds some back from online subscribers; shown for the cost of the fixes)
 *   - bare aedes with its default in-memory persistence
 * Figures only: `npm run build && node dist/bench/bus.js [count] [window]`.
 */
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { ClassicLevel } from 'classic-level';
import AsyncLevelPersistence = require('aedes-persistence-level/asyncPersistence.js');
import { BusClient, startBroker } from '../adapters/bus';
import { tempDir } from '../test/support/net';

const COUNT = Number(process.argv[2] ?? 10_000);
const WINDOW = Number(process.argv[3] ?? 100);
const TOPIC = 'passerelle/v1/bench-site/biology/analyser-1/result';
const PAYLOAD = JSON.stringify({ id: 'x'.repeat(36), observations: Array.from({ length: 8 }, (_, i) => ({ code: `C${i}`, value: i * 1.5, unit: 'mmol/L' })) });

interface Target { url: string; close(): Promise<void> }
interface Figures { perSecond: number; delivered: number; seconds: number }

async function bareAedes(persistence?: object): Promise<Target> {
  const broker = await Aedes.createBroker(persistence ? { persistence, maxClientsIdLength: 128 } : { maxClientsIdLength: 128 });
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await (persistence as { destroy?: () => Promise<void> } | undefined)?.destroy?.();
    },
  };
}

async function measure(label: string, target: Target): Promise<Figures> {
  const sub = await BusClient.connect({ url: target.url, clientId: `bench-${label}-sub` });
  let delivered = 0;
  let lastAt = 0;
  await sub.subscribeDurable('passerelle/v1/+/+/+/result', async () => { delivered++; lastAt = performance.now(); });
  const pub = await BusClient.connect({ url: target.url, clientId: `bench-${label}-pub` });
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: WINDOW }, async () => {
    while (next < COUNT) { next++; await pub.publish(TOPIC, PAYLOAD); }
  }));
  // every message is acknowledged; wait for the subscriber, or give up if it stops receiving
  let seen = -1;
  while (delivered < COUNT && delivered !== seen) {
    seen = delivered;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  const seconds = (lastAt - started) / 1000; // to the last delivery, not the idle wait after it
  await pub.close();
  await sub.close();
  await target.close();
  return { perSecond: delivered / seconds, delivered, seconds };
}

async function main(): Promise<void> {
  const dirs = [tempDir('passerelle-bench-bus-'), tempDir('passerelle-bench-bus-')];
  try {
    const ours = await measure('hub', await startBroker({ host: '127.0.0.1', port: 0, dataDir: dirs[0].dir, onError: () => undefined }));
    const db = new ClassicLevel<string, Buffer>(dirs[1].dir, { valueEncoding: 'buffer' });
    await db.open();
    const bareLevel = await measure('level', await bareAedes(new AsyncLevelPersistence(db)));
    const memory = await measure('memory', await bareAedes());
    const row = (name: string, f: Figures) => {
      const held = f.delivered < COUNT ? `  (only ${f.delivered} of ${COUNT} delivered: aedes held ${COUNT - f.delivered} back)` : '';
      console.log(`${name.padEnd(44)} ${Math.round(f.perSecond).toString().padStart(7)} msg/s  ${f.seconds.toFixed(2)} s${held}`);
    };
    console.log(`${COUNT} messages QoS 1, ${PAYLOAD.length}-byte payload, ${WINDOW} in flight, one durable subscriber (node ${process.version})`);
    row('startBroker (LevelDB + journal + ordering)', ours);
    row('bare aedes + LevelDB persistence', bareLevel);
    row('bare aedes, in-memory persistence', memory);
    console.log(`startBroker / in-memory: ${(ours.perSecond / memory.perSecond).toFixed(2)}   ` +
      `startBroker / bare LevelDB: ${(ours.perSecond / bareLevel.perSecond).toFixed(2)}`);
  } finally {
    for (const d of dirs) d.remove();
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});

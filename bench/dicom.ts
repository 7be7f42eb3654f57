/**
 * DICOM receive throughput, in one run: dcmtk's storescu sends the same set of files to the hub's
 * Storage SCP (a child process running the adapter as the dicom-in node does: stream to disk,
 * header read, file and event journaled before Success), once in each durability — the default
 * 'process-crash' (no fsync, as the journal) and 'power-loss' (each file fsynced) — and to dcmtk's
 * own storescp (no fsync) and storescp made to fsync. Prints objects/s and MB/s for each and
 * the ratios of like to like, then
 * the hub's peak memory (VmHWM) while it receives a multi-frame ultrasound loop of several
 * hundred megabytes. Figures only: nothing here asserts a duration.
 *
 *   node dist/bench/dicom.js     # BENCH_DICOM_OBJECTS=200 BENCH_DICOM_OBJECT_KB=1024 BENCH_DICOM_LOOP_MB=300 to change
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { journalRejected, journalStored, StorageScp } from '../adapters/dicom';
import { Store, type Durability } from '../adapters/journal';
import { startStorescp, storescu } from '../test/support/dcmtk';
import { freePort, tempDir } from '../test/support/net';
import { writeObject } from '../test/adapters/dicom/objects';
import { sharedFixture } from '../test/support/shared';

const OBJECTS = Number(process.env.BENCH_DICOM_OBJECTS ?? 200);
const OBJECT_KB = Number(process.env.BENCH_DICOM_OBJECT_KB ?? 1024);
const LOOP_MB = Number(process.env.BENCH_DICOM_LOOP_MB ?? 300);
const SC = '1.2.840.10008.5.1.4.1.1.7';
const US_MULTIFRAME = '1.2.840.10008.5.1.4.1.1.3.1';

/** This process's resident memory now and its peak so far, in kB (Linux). */
function memory(): { rssKb: number; peakKb: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), peakKb: kb('VmHWM') };
}

/** The hub's side, in its own process so that its memory is its own. */
async function runScp(port: number, dir: string, durability: Durability): Promise<void> {
  const store = Store.open({ dir: join(dir, 'journal'), durability });
  const scp = new StorageScp({
    aeTitle: 'PASSERELLE', host: '127.0.0.1', port, dir: join(dir, 'dicom'), durability,
    onStored: (object) => { journalStored(store, object, { channel: 'dicom:bench', site: 'bench-site', timeZone: 'Europe/Paris' }); },
    onRejected: (object) => { journalRejected(store, object, 'dicom:bench'); },
  });
  await scp.listen();
  process.send!({ listening: true });
  process.on('message', (message: { memory?: boolean; stop?: boolean }) => {
    if (message.memory) process.send!(memory());
    if (message.stop) {
      void scp.close().then(() => {
        store.close();
        process.exit(0);
      });
    }
  });
}

interface HubScp { port: number; memory(): Promise<{ rssKb: number; peakKb: number }>; stop(): Promise<void> }

async function startHubScp(dir: string, durability: Durability): Promise<HubScp> {
  const port = await freePort();
  const child: ChildProcess = fork(__filename, ['--scp', String(port), dir, durability], { stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the hub's SCP exited (${code})`)));
  });
  return {
    port,
    memory: () => new Promise((resolve) => {
      child.once('message', (message: { rssKb: number; peakKb: number }) => resolve(message));
      child.send({ memory: true });
    }),
    stop: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.send({ stop: true });
    }),
  };
}

interface Figures { seconds: number; objects: number; bytes: number }

async function timeSend(port: number, calledAe: string, files: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  const run = await storescu(port, files, { called: calledAe });
  if (run.code !== 0) throw new Error(`storescu to ${calledAe} failed: ${run.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function line(name: string, f: Figures): string {
  return `${name.padEnd(22)} ${String(f.objects).padStart(5)} objects in ${f.seconds.toFixed(2).padStart(6)} s   ${(f.objects / f.seconds).toFixed(1).padStart(7)} objects/s   ${(f.bytes / 1024 / 1024 / f.seconds).toFixed(1).padStart(7)} MB/s`;
}

async function main(): Promise<void> {
  const work = tempDir('passerelle-bench-dicom-');
  try {
    const source = join(work.dir, 'source');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(source);
    const side = Math.round(Math.sqrt(OBJECT_KB * 1024));
    const files: string[] = ['cr_agfa_cspine_16x16.dcm', 'ot_iso-ir-100_german-patient-name.dcm'].map((n) => sharedFixture('dicom', n));
    let bytes = files.reduce((n, f) => n + readFileSync(f).length, 0);
    for (let i = 0; i < OBJECTS; i++) {
      const object = await writeObject(join(source, `sc-${i}.dcm`), { sopClassUid: SC, patientName: 'NOËL^Hélène', characterSet: 'ISO_IR 100', pixels: { rows: side, columns: side } });
      files.push(object.path);
      bytes += object.size;
    }
    const loop = await writeObject(join(work.dir, 'loop.dcm'), { sopClassUid: US_MULTIFRAME, modality: 'US', pixels: { rows: 600, columns: 800, frames: Math.ceil((LOOP_MB * 1024 * 1024) / (600 * 800 * 3)), samplesPerPixel: 3 } });

    console.log(`DICOM receive: storescu → hub SCP and → dcmtk storescp, ${files.length} objects (${(bytes / 1024 / 1024).toFixed(1)} MB), then a ${(loop.size / 1024 / 1024).toFixed(0)} MB ultrasound loop`);
    const storescp = await startStorescp(join(work.dir, 'storescp'), { extra: ['-dhl'] });
    const reference: Figures = { seconds: await timeSend(storescp.port, storescp.aeTitle, files), objects: files.length, bytes };
    const referenceLoop: Figures = { seconds: await timeSend(storescp.port, storescp.aeTitle, [loop.path]), objects: 1, bytes: loop.size };
    await storescp.stop();
    rmSync(join(work.dir, 'storescp'), { recursive: true, force: true });
    // storescp does not fsync; the hub does before it answers. The same promise from storescp:
    // coreutils' sync on each file, run before storescp answers (--exec-sync).
    const synced = await startStorescp(join(work.dir, 'storescp-sync'), { extra: ['-dhl', '-xcr', 'sync #p/#f', '-xs'] });
    const referenceSynced: Figures = { seconds: await timeSend(synced.port, synced.aeTitle, files), objects: files.length, bytes };
    await synced.stop();
    rmSync(join(work.dir, 'storescp-sync'), { recursive: true, force: true });

    const durable = await startHubScp(join(work.dir, 'hub-power-loss'), 'power-loss');
    const hubSynced: Figures = { seconds: await timeSend(durable.port, 'PASSERELLE', files), objects: files.length, bytes };
    await durable.stop();
    rmSync(join(work.dir, 'hub-power-loss'), { recursive: true, force: true });

    const hub = await startHubScp(join(work.dir, 'hub'), 'process-crash');
    const hubFigures: Figures = { seconds: await timeSend(hub.port, 'PASSERELLE', files), objects: files.length, bytes };
    const beforeLoop = await hub.memory();
    const hubLoop: Figures = { seconds: await timeSend(hub.port, 'PASSERELLE', [loop.path]), objects: 1, bytes: loop.size };
    const afterLoop = await hub.memory();
    await hub.stop();
    const storedDays = readdirSync(join(work.dir, 'hub', 'dicom')).filter((d) => d !== 'rejected');
    const stored = storedDays.reduce((n, d) => n + readdirSync(join(work.dir, 'hub', 'dicom', d)).length, 0);

    console.log(line('dcmtk storescp', reference));
    console.log(line('storescp + fsync', referenceSynced));
    console.log(line('hub SCP', hubFigures));
    console.log(line('hub SCP, power-loss', hubSynced));
    console.log(`ratio hub / storescp    ${(reference.seconds / hubFigures.seconds).toFixed(2)} (objects/s and MB/s alike; neither fsyncs)`);
    console.log(`ratio hub power-loss / storescp + fsync   ${(referenceSynced.seconds / hubSynced.seconds).toFixed(2)} (both fsync each file)`);
    console.log(line('dcmtk storescp, loop', referenceLoop));
    console.log(line('hub SCP, loop', hubLoop));
    console.log(`ratio hub / storescp    ${(referenceLoop.seconds / hubLoop.seconds).toFixed(2)} on the loop`);
    const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
    console.log(`hub SCP memory: RSS ${mb(beforeLoop.rssKb)} before the loop (peak so far ${mb(beforeLoop.peakKb)}), peak ${mb(afterLoop.peakKb)} after it, RSS ${mb(afterLoop.rssKb)}`);
    console.log(`objects stored by the hub: ${stored} of ${files.length + 1}`);
  } finally {
    work.remove();
  }
}

if (process.argv[2] === '--scp') {
  runScp(Number(process.argv[3]), process.argv[4], process.argv[5] as Durability).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}

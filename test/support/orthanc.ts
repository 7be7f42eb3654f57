/**
 * A real Orthanc (Debian's orthanc package) as the PACS in tests: its own configuration, storage
 * and index in a temporary directory, DICOM and HTTP on free loopback ports, no plugins. Stopped
 * (and its directory removed) by stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir } from './net';
import { waitUntil } from './hub-process';

export interface RunningOrthanc {
  aeTitle: string;
  dicomPort: number;
  httpUrl: string;
  /** The stored instance with this SOP instance UID, as Orthanc gives it back (its Part 10 file). */
  fileOf(sopInstanceUid: string): Promise<Buffer | undefined>;
  /** How many instances it holds. */
  instanceCount(): Promise<number>;
  /** Deletes the instance with this SOP instance UID; false when it holds none. */
  deleteInstance(sopInstanceUid: string): Promise<boolean>;
  stop(): Promise<void>;
}

export interface OrthancOptions {
  aeTitle?: string;
  checkCalledAet?: boolean;
  /** Modalities it knows (DicomModalities): where it sends storage commitment reports. */
  modalities?: Record<string, { aeTitle: string; host: string; port: number }>;
}

export async function startOrthanc(options: OrthancOptions = {}): Promise<RunningOrthanc> {
  const work = tempDir('passerelle-orthanc-');
  const aeTitle = options.aeTitle ?? 'ORTHANC';
  const [dicomPort, httpPort] = [await freePort(), await freePort()];
  const config = {
    Name: 'passerelle-test',
    StorageDirectory: join(work.dir, 'storage'),
    IndexDirectory: join(work.dir, 'index'),
    StorageCompression: false,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomServerEnabled: true,
    DicomAet: aeTitle,
    DicomPort: dicomPort,
    DicomCheckCalledAet: options.checkCalledAet ?? true,
    DicomAlwaysAllowStore: true,
    DicomAlwaysAllowEcho: true,
    Plugins: [],
    HttpTimeout: 10,
    StableAge: 1,
    DicomModalities: Object.fromEntries(Object.entries(options.modalities ?? {}).map(([name, m]) => [name, { AET: m.aeTitle, Host: m.host, Port: m.port }])),
  };
  const configPath = join(work.dir, 'orthanc.json');
  writeFileSync(configPath, JSON.stringify(config));
  const child: ChildProcess = spawn('Orthanc', [configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  let exited = false;
  child.once('exit', () => { exited = true; });
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  await waitUntil(async () => {
    if (exited) throw new Error(`Orthanc exited at start: ${log}`);
    try {
      return (await fetch(`${httpUrl}/system`)).ok;
    } catch {
      return false;
    }
  }, 20_000, () => 'Orthanc answering on HTTP');
  const instanceId = async (sopInstanceUid: string): Promise<string | undefined> => {
    const found = await fetch(`${httpUrl}/tools/find`, { method: 'POST', body: JSON.stringify({ Level: 'Instance', Query: { SOPInstanceUID: sopInstanceUid } }) });
    return ((await found.json()) as string[])[0];
  };
  return {
    aeTitle,
    dicomPort,
    httpUrl,
    async fileOf(sopInstanceUid) {
      const id = await instanceId(sopInstanceUid);
      if (id === undefined) return undefined;
      const file = await fetch(`${httpUrl}/instances/${id}/file`);
      return Buffer.from(await file.arrayBuffer());
    },
    async deleteInstance(sopInstanceUid) {
      const id = await instanceId(sopInstanceUid);
      if (id === undefined) return false;
      return (await fetch(`${httpUrl}/instances/${id}`, { method: 'DELETE' })).ok;
    },
    async instanceCount() {
      const stats = (await (await fetch(`${httpUrl}/statistics`)).json()) as { CountInstances: number };
      return stats.CountInstances;
    },
    stop: () => new Promise<void>((resolve) => {
      const done = () => {
        work.remove();
        resolve();
      };
      if (exited) return done();
      child.once('exit', done);
      child.kill('SIGTERM');
    }),
  };
}

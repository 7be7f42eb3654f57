/**
 * A real InfluxDB 1.x (Debian's `influxd`) on loopback for a test: its own temporary directory,
 * free ports, HTTP auth optional. `stop()` kills it; `restart()` brings it back on the same port
 * and data (the "InfluxDB was down for a while" tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir } from './net';
import { waitUntil } from './hub-process';

export const INFLUXD = '/usr/bin/influxd';

export interface RunningInfluxDb {
  url: string;
  port: number;
  /** InfluxQL over HTTP; throws on an HTTP or query error. */
  query(q: string, db?: string): Promise<InfluxSeries[]>;
  /** Kills the server (SIGKILL when `hard`), keeping its data. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops it and removes its data. */
  remove(): Promise<void>;
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export function influxdAvailable(): boolean {
  return existsSync(INFLUXD);
}

function configFor(dir: string, httpPort: number, rpcPort: number, auth: boolean): string {
  return `reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = ${auth}
  log-enabled = false
[[udp]]
  enabled = false
`;
}

export async function startInfluxDb(options: { auth?: boolean } = {}): Promise<RunningInfluxDb> {
  if (!influxdAvailable()) throw new Error(`${INFLUXD} is missing: install Debian's influxdb (bash scripts/install-test-deps.sh)`);
  const temp = tempDir('passerelle-influx-');
  const [port, rpcPort] = [await freePort(), await freePort()];
  const configFile = join(temp.dir, 'influxdb.conf');
  writeFileSync(configFile, configFor(temp.dir, port, rpcPort, options.auth ?? false));
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let stderr = '';

  const start = async () => {
    stderr = '';
    child = spawn(INFLUXD, ['-config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
    const exited = new Promise<never>((_, reject) => child!.once('exit', (code) => reject(new Error(`influxd exited (${code}): ${stderr}`))));
    exited.catch(() => undefined);
    await Promise.race([
      waitUntil(async () => (await fetch(`${url}/ping`).then((r) => r.status, () => 0)) === 204, 20_000, () => 'influxd /ping'),
      exited,
    ]);
  };
  const stop = async (hard = false) => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };
  await start();

  return {
    url,
    port,
    async query(q, db) {
      const params = new URLSearchParams({ q, epoch: 'ms' });
      if (db) params.set('db', db);
      const response = await fetch(`${url}/query?${params}`, { method: 'POST' });
      const body = (await response.json()) as { error?: string; results?: { error?: string; series?: InfluxSeries[] }[] };
      const error = body.error ?? body.results?.find((r) => r.error)?.error;
      if (!response.ok || error) throw new Error(`InfluxQL ${q}: ${error ?? response.status}`);
      return body.results?.flatMap((r) => r.series ?? []) ?? [];
    },
    stop,
    restart: start,
    async remove() {
      await stop();
      temp.remove();
    },
  };
}

/**
 * The hub as the README starts it (`node dist/gateway/cli.js`), in a child process with its own
 * ports and data directory, so tests can kill -9 it and start it again on the same data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { resolve } from 'node:path';
import { freePort } from './net';

const CLI = resolve(__dirname, '..', '..', 'gateway', 'cli.js');

export interface HubProcess {
  child: ChildProcess;
  url: string;
  mqttUrl: string;
  mqttPort: number;
  env: Record<string, string>;
  output(): string;
  /** SIGKILL, no chance to flush anything. */
  kill9(): Promise<void>;
  stop(): Promise<number | null>;
}

export async function startHubProcess(dataDir: string, env: Record<string, string> = {}): Promise<HubProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const mqttPort = env.MQTT_PORT ? Number(env.MQTT_PORT) : await freePort();
  const mllpInPort = env.MLLP_IN_PORT ?? String(await freePort());
  const fullEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    MQTT_PORT: String(mqttPort),
    MLLP_IN_PORT: mllpInPort,
    ASTM_TCP_PORT: String(await freePort()),
    POCT1A_PORT: String(await freePort()),
    DICOM_PORT: String(await freePort()),
    PASSERELLE_DATA_DIR: dataDir,
    SITE_ID: 'test-site',
    PASSERELLE_LOG_LEVEL: 'warn',
    ...env,
  };
  const child = spawn(process.execPath, [CLI], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `${fullEnv.PASSERELLE_TLS_CERT ? 'https' : 'http'}://127.0.0.1:${port}`;
  const hub: HubProcess = {
    child,
    url,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    mqttPort,
    env: fullEnv,
    output: () => log,
    kill9: async () => { child.kill('SIGKILL'); await exited; },
    stop: async () => { child.kill('SIGTERM'); return exited; },
  };
  await waitUntil(async () => {
    if (child.exitCode !== null) throw new Error(`hub exited with ${child.exitCode}:\n${log}`);
    // Up means answering: 200, or 401 when a login is required, or 503 while flows start.
    const status = await httpStatus(`${url}/passerelle/api/health`, fullEnv.PASSERELLE_TLS_CERT).catch(() => undefined);
    return status !== undefined;
  }, 30_000, () => `hub did not become healthy:\n${log}`);
  return hub;
}

/** The HTTP(S) status of a GET; `caFile` trusts a test certificate. */
export function httpStatus(url: string, caFile?: string): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const request = get(url, caFile ? { ca: readFileSync(caFile) } : {}, (res) => {
      res.resume();
      resolveStatus(res.statusCode ?? 0);
    });
    request.on('error', reject);
  });
}

/** Polls a condition where no event exists to await (an HTTP endpoint, another process). */
export async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs: number, describe: () => string = () => 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

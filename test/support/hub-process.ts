/**
 * The hub as the README starts it (`node dist/gateway/cli.js`), in a child process with its own
 * ports and data directory, so tests can kill -9 it and start it again on the same data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
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
  const url = `http://127.0.0.1:${port}`;
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
    const headers: Record<string, string> = env.__TOKEN ? { authorization: `Bearer ${env.__TOKEN}` } : {};
    const res = await fetch(`${url}/passerelle/api/health`, { headers }).catch(() => undefined);
    return res !== undefined && (res.status === 200 || res.status === 401);
  }, 30_000, () => `hub did not become healthy:\n${log}`);
  return hub;
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

export function dataPath(dir: string, ...parts: string[]): string {
  return join(dir, ...parts);
}

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../support/net';

/** Children started by a test; afterEach calls killChildren(). */
const children = new Set<ChildProcess>();

export async function killChildren(): Promise<void> {
  await Promise.all([...children].map((child) => killHard(child)));
}

export function killHard(child: ChildProcess): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export interface BrokerProcess { child: ChildProcess; port: number; tlsPort?: number }

/** startBroker() in a forked process (see fixtures/broker-process.ts). */
export function spawnBroker(config: {
  port: number; dataDir: string; credentials?: { username: string; password: string };
  tls?: { port: number; keyFile: string; certFile: string };
}): Promise<BrokerProcess> {
  const child = fork(join(__dirname, 'fixtures', 'broker-process.js'), [JSON.stringify({ host: '127.0.0.1', ...config })], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => {
      const { port, tlsPort } = m as { port: number; tlsPort?: number };
      resolve({ child, port, tlsPort });
    });
    child.once('exit', (code, signal) => reject(new Error(`broker process exited (${code ?? signal}) before listening: ${stderr}`)));
  });
}

/** Polls `condition` (for states that have no event) until true or the deadline. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface RunResult { code: number | null; stdout: string; stderr: string }

export function run(command: string, args: string[], timeoutMs = 20_000): Promise<RunResult> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Debian's Mosquitto on loopback, with a password file and persistence, in `dir`. */
export async function startMosquitto(dir: string, user: { username: string; password: string }): Promise<{ port: number; child: ChildProcess }> {
  const passwordFile = join(dir, 'passwd');
  const made = await run('mosquitto_passwd', ['-b', '-c', passwordFile, user.username, user.password]);
  if (made.code !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr}`);
  const port = await freePort();
  const configFile = join(dir, 'mosquitto.conf');
  writeFileSync(configFile, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous false',
    `password_file ${passwordFile}`,
    'persistence true',
    `persistence_location ${dir}/`,
    // started as root, Mosquitto would become user "mosquitto", who cannot read our 0700 temp dir
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    '',
  ].join('\n'));
  const child = spawn('mosquitto', ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (/mosquitto version \S+ running/.test(log)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`mosquitto exited (${code}): ${log}`)));
    child.once('error', reject);
  });
  return { port, child };
}

/** The error `promise` rejects with; fails if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection, got a resolution');
}

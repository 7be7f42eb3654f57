/**
 * dcmtk's command-line tools (Debian's dcmtk package) as real peers: storescu and echoscu as
 * modalities no one here wrote, storescp as a reference receiver. Debian's build leaves
 * TCP_NODELAY off, so every tool runs with TCP_NODELAY=1 (else each C-STORE waits ~80 ms).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { freePort } from './net';
import { waitUntil } from './hub-process';

const ENV = { ...process.env, TCP_NODELAY: '1' };

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a dcmtk tool to its end (never throws on a non-zero exit: tests look at the code). */
export function runTool(tool: string, args: string[]): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env: ENV });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** storescu -aet <calling> -aec <called> host port files... */
export function storescu(port: number, files: string[], options: { calling?: string; called?: string; extra?: string[] } = {}): Promise<ToolRun> {
  return runTool('storescu', ['-aet', options.calling ?? 'MODALITY', '-aec', options.called ?? 'PASSERELLE', ...(options.extra ?? []), '127.0.0.1', String(port), ...files]);
}

export function echoscu(port: number, options: { calling?: string; called?: string } = {}): Promise<ToolRun> {
  return runTool('echoscu', ['-aet', options.calling ?? 'MODALITY', '-aec', options.called ?? 'PASSERELLE', '127.0.0.1', String(port)]);
}

/** dcmdump of one file, as text (for reading tags back). */
export function dcmdump(path: string, extra: string[] = []): string {
  const run = spawnSync('dcmdump', [...extra, path], { env: ENV, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`dcmdump ${path}: ${run.stderr}`);
  return run.stdout;
}

export interface RunningStorescp {
  aeTitle: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** dcmtk's storescp writing every object it receives into `dir` (files named by SOP instance UID). */
export async function startStorescp(dir: string, options: { aeTitle?: string; port?: number; extra?: string[] } = {}): Promise<RunningStorescp> {
  const aeTitle = options.aeTitle ?? 'STORESCP';
  const port = options.port ?? await freePort();
  mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn('storescp', ['-aet', aeTitle, '--promiscuous', '-uf', '-od', dir, ...(options.extra ?? []), String(port)], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  let exited = false;
  let log = '';
  child.stderr!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-2000); });
  child.once('exit', () => { exited = true; });
  // Listening is not announced: an echo that succeeds says it.
  await waitUntil(async () => exited || (await echoscu(port, { called: aeTitle })).code === 0, 10_000, () => 'storescp listening');
  if (exited) throw new Error(`storescp exited at start: ${log}`);
  return {
    aeTitle,
    port,
    dir,
    stop: () => new Promise<void>((resolve) => {
      if (exited) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

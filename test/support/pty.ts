/** A socat pseudo-terminal pair: a serial line with two ends, for serial tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './net';

export interface PtyPair {
  a: string;
  b: string;
  /** Stops socat; the paths' directory goes too unless `keepDirectory` (a line that comes back, see startPtyPairAt). */
  stop(keepDirectory?: boolean): Promise<void>;
  /** Removes the directory of the paths. */
  remove(): void;
}

export async function startPtyPair(): Promise<PtyPair> {
  const { dir, remove } = tempDir('passerelle-astm-pty-');
  return startPtyPairAt(join(dir, 'ttyA'), join(dir, 'ttyB'), remove);
}

/** A pair at given paths (a line that comes back where it was); `remove` runs at stop. */
export async function startPtyPairAt(a: string, b: string, remove: () => void = () => undefined): Promise<PtyPair> {
  const socat: ChildProcess = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      let log = '';
      socat.once('error', reject);
      socat.once('exit', (code) => reject(new Error(`socat exited (${code}): ${log}`)));
      socat.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        // socat says so once both ends exist.
        if (log.includes('starting data transfer loop')) resolve();
      });
    });
  } catch (err) {
    remove();
    throw err;
  }
  return {
    a,
    b,
    remove,
    stop: async (keepDirectory = false) => {
      if (socat.exitCode === null && socat.signalCode === null) {
        const exited = new Promise((resolve) => socat.once('exit', resolve));
        socat.kill('SIGTERM');
        await exited;
      }
      if (!keepDirectory) remove();
    },
  };
}

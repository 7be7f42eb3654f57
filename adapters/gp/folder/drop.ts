/**
 * A folder drop per GP, for sites whose messaging client picks files up (an MSSanté client
 * watching a folder, an Apicrypt client): each GP's files land in `<dir>/<RPPS or mailbox>/`.
 * Each file is written beside its final name, fsynced, then linked to its final name — link()
 * never replaces an existing file, so nothing is ever overwritten, and the client never sees a
 * half-written file. It is a Transport of the delivery worker, so the files are queued durably
 * and a drop that fails (the share not mounted, the disk full) is tried again.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { AckInfo, Transport } from '../../delivery/transport';
import type { Enqueued, Store } from '../../journal';
import { GpFormatError } from '../errors';
import type { GpReport } from '../report';
import type { GpFiles } from '../mail/files';

export const GP_DROP_SCHEMA = 'passerelle.gp-drop/1';
export const GP_DROP_CONTENT_TYPE = 'application/vnd.passerelle.gp-drop+json';

export interface GpDrop {
  schema: typeof GP_DROP_SCHEMA;
  /** The GP's folder name: the RPPS, else the mailbox. */
  folder: string;
  documentId: string;
  resultIds: string[];
  files: Array<{ fileName: string; base64: string }>;
}

/** The folder's name for a GP: the RPPS, else the mailbox, with nothing a path could misread. */
export function gpFolderName(gp: { id?: string; mailbox?: string }): string {
  const name = (gp.id || gp.mailbox || '').replace(/[^A-Za-z0-9@._+-]/g, '_').replace(/^\.+/, '_');
  if (!name) throw new GpFormatError('the GP has neither an RPPS number nor a mailbox: no folder to drop into');
  return name;
}

export function gpDrop(report: GpReport, files: GpFiles): GpDrop {
  if (!report.gp) throw new GpFormatError('the report has no GP');
  return {
    schema: GP_DROP_SCHEMA,
    folder: gpFolderName(report.gp),
    documentId: report.documentId,
    resultIds: [...new Set(report.items.map((i) => i.resultId))],
    files: files.files.map((f) => ({ fileName: basename(f.fileName), base64: f.bytes.toString('base64') })),
  };
}

export function enqueueGpDrop(store: Store, destination: string, drop: GpDrop, inboundId?: string): Enqueued {
  return store.enqueue({
    destination,
    dedupeKey: `${drop.documentId}>${drop.folder}`,
    resultId: drop.resultIds[0],
    ...(inboundId ? { inboundId } : {}),
    contentType: GP_DROP_CONTENT_TYPE,
    build: () => Buffer.from(JSON.stringify(drop), 'utf8'),
  });
}

/** The folder is missing, full or read-only: nothing was dropped, the queue waits. */
export class DropConnectionError extends Error {
  readonly sent = false;
  constructor(message: string) {
    super(message);
    // Counted by the worker as a connection that reached nobody.
    this.name = 'DropConnectionError';
  }
}

export class FolderDropTransport extends EventEmitter implements Transport {
  constructor(private readonly dir: string) {
    super();
  }

  async send(payload: Buffer, controlId: string): Promise<AckInfo> {
    const drop = JSON.parse(payload.toString('utf8')) as GpDrop;
    if (drop?.schema !== GP_DROP_SCHEMA) throw new GpFormatError(`not a ${GP_DROP_SCHEMA} message`);
    const folder = join(this.dir, gpFolderName({ id: drop.folder }));
    const written: string[] = [];
    try {
      await mkdir(folder, { recursive: true });
      for (const file of drop.files) written.push(await dropFile(folder, basename(file.fileName), Buffer.from(file.base64, 'base64'), controlId));
      await syncDirectory(folder);
    } catch (err) {
      throw new DropConnectionError(`${folder}: ${(err as Error).message}`);
    }
    const text = `dropped ${written.join(', ')}`;
    return { code: 'AA', controlId, text, raw: Buffer.from(text, 'utf8') };
  }

  async close(): Promise<void> {
    return undefined;
  }
}

/**
 * Writes one file under its name, or — when a different file already has it — under
 * `name_<controlId>.ext`. The same bytes already there (a drop retried after a crash) count as done.
 */
async function dropFile(folder: string, name: string, bytes: Buffer, controlId: string): Promise<string> {
  const temp = join(folder, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o640);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    const dot = name.lastIndexOf('.');
    const candidates = [name, dot > 0 ? `${name.slice(0, dot)}_${controlId}${name.slice(dot)}` : `${name}_${controlId}`];
    for (const candidate of candidates) {
      const target = join(folder, candidate);
      try {
        await link(temp, target);
        return candidate;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if ((await readFile(target)).equals(bytes)) return candidate;
      }
    }
    throw new Error(`${name}: both ${candidates.join(' and ')} exist with other contents`);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** The rename (link) survives a power loss only once the directory itself is synced. */
async function syncDirectory(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

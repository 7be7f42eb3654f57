/**
 * One received object on its way to disk: the Part 10 meta header, then the dataset bytes as they
 * arrive, hashed on the way, into a hidden temporary file beside its final place. Nothing is kept
 * in memory beyond the chunks not yet written; when they pile up (the disk is slower than the
 * network) the sender is paused. finish: the file is closed, fsynced first when asked (it then
 * survives a power cut; unsynced it survives the process, like the journal's default durability).
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { metaHeader, type MetaInformation } from './part10';

/** Chunks waiting for the disk beyond this pause the sender. */
const HIGH_WATER = 8 * 1024 * 1024;

export interface ObjectFileOptions {
  dir: string;
  meta: MetaInformation;
  /** Called with true when writes pile up, false once they are drained. */
  onPressure?: (paused: boolean) => void;
  /** fsync before close; true by default. */
  sync?: boolean;
}

export class ObjectFile extends Writable {
  /** The temporary file: hidden, removed or moved by whoever owns the object. */
  readonly tempPath: string;
  /** Bytes in the file, meta header included. */
  size = 0;
  private readonly hash = createHash('sha256');
  private handle: FileHandle | undefined;
  private paused = false;
  private digest: string | undefined;

  constructor(private readonly options: ObjectFileOptions) {
    super({ highWaterMark: HIGH_WATER, decodeStrings: false });
    this.tempPath = join(options.dir, `.${options.meta.sopInstanceUid}.${randomBytes(6).toString('hex')}.part`);
    this.on('drain', () => this.pressure(false));
  }

  /** SHA-256 of the whole file, once finished. */
  get sha256(): string {
    if (!this.digest) throw new Error('the object file is not finished');
    return this.digest;
  }

  override _construct(callback: (err?: Error | null) => void): void {
    (async () => {
      await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
      this.handle = await open(this.tempPath, 'wx', 0o600);
      await this.append([metaHeader(this.options.meta)]);
    })().then(() => callback(), callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void): void {
    if (this.writableLength >= HIGH_WATER) this.pressure(true);
    this.append(chunks.map((c) => c.chunk)).then(() => callback(), callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    (async () => {
      if (this.options.sync !== false) await this.handle!.sync();
      await this.handle!.close();
      this.handle = undefined;
      this.digest = this.hash.digest('hex');
    })().then(() => callback(), callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.pressure(false);
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return callback(err);
    handle.close().then(() => callback(err), () => callback(err));
  }

  private async append(buffers: Buffer[]): Promise<void> {
    let written = 0;
    const total = buffers.reduce((n, b) => n + b.length, 0);
    // writev may write less than asked (a full disk shows up as an error on the next call).
    while (written < total) {
      const rest = sliceFrom(buffers, written);
      const { bytesWritten } = await this.handle!.writev(rest);
      if (bytesWritten === 0) throw new Error('the disk accepted no bytes');
      written += bytesWritten;
    }
    for (const b of buffers) this.hash.update(b);
    this.size += total;
  }

  private pressure(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    this.options.onPressure?.(paused);
  }
}

function sliceFrom(buffers: Buffer[], offset: number): Buffer[] {
  if (offset === 0) return buffers;
  const out: Buffer[] = [];
  let skip = offset;
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

/**
 * Gives the finished temporary file its name, <base>.dcm, or <base>-2.dcm... when an object with
 * that UID was already received (link() never replaces a file), then makes the name durable
 * (the directory fsynced) unless `sync` is false.
 */
export async function placeWithoutOverwrite(tempPath: string, base: string, sync = true): Promise<string> {
  for (let n = 1; ; n++) {
    const path = `${base}${n === 1 ? '' : `-${n}`}.dcm`;
    try {
      await link(tempPath, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    await unlink(tempPath);
    if (!sync) return path;
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return path;
  }
}

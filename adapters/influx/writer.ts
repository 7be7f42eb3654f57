/**
 * The InfluxDB writer: points go first into a durable queue (the journal's metric_points, one
 * channel per writer), then to InfluxDB in batches, and leave the queue only once InfluxDB
 * answered 2xx. InfluxDB down, slow or failing: the points wait on disk and the writer tries
 * again with back-off. A point InfluxDB refuses (400) is found by splitting the batch, set aside
 * with the error, and never holds the others. Writing a batch twice changes nothing: each point
 * has its own fixed timestamp (points.ts).
 */
import { EventEmitter } from 'node:events';
import { InfluxDB, type IPoint } from 'influx';
import type { QueuedPoint, Store } from '../journal';
import { backoffDelay, checkBackoff, type Backoff } from '../delivery/backoff';
import { classifyWriteError, type WriteFailure } from './errors';
import { influxSchema, type MetricPoint } from './points';
import { durationHours, ensureDatabase, type Setup } from './setup';

export interface InfluxTarget {
  /** http(s)://host:port[/path] of the InfluxDB 1.x HTTP API (or 2.x/3.x's v1 compatibility). */
  url: string;
  /** 'passerelle'. */
  database?: string;
  username?: string;
  password?: string;
  /** The retention policy created and written into: 'passerelle'. */
  retentionPolicy?: string;
  /** Its duration: '400d'. */
  retention?: string;
}

export interface InfluxWriterOptions extends InfluxTarget {
  store: Store;
  /** The queue's channel: one per writer (a node id). */
  channel: string;
  /** Points per write: 5000. */
  batchSize?: number;
  /** An answer within this, or InfluxDB counts as unreachable: 10 s. */
  requestTimeoutMs?: number;
  /** 1 s, ×2, up to 1 min. */
  backoff?: Backoff;
  /** Looks at the queue this often when idle, in case a point was queued by another handle: 5 s. */
  pollMs?: number;
}

export interface WriterStatus {
  /** InfluxDB answered the last request (even with a refusal). */
  connected: boolean;
  /** Points on disk waiting to be written. */
  waiting: number;
  /** Points InfluxDB refused, kept aside. */
  setAside: number;
  lastError?: string;
  /** Epoch ms of the last successful write. */
  lastWriteAt?: number;
  /** What setup could not do (not an admin, say), if anything. */
  notice?: string;
}

export const DEFAULT_DATABASE = 'passerelle';
export const DEFAULT_RETENTION_POLICY = 'passerelle';
export const DEFAULT_RETENTION = '400d';
const DEFAULT_WRITER_BACKOFF: Backoff = { initialMs: 1000, maxMs: 60_000, factor: 2 };
const MAX_ERROR_TEXT = 300;

class WriteFailed extends Error {
  constructor(readonly failure: WriteFailure) {
    super(failure.message);
    this.name = 'WriteFailed';
  }
}

interface Parsed {
  id: number;
  point: IPoint;
}

/** InfluxDB's client keeps a host away for a while after a failure: the writer has its own back-off. */
const NO_HOST_BACKOFF = { getDelay: () => 0, next() { return this; }, reset() { return this; } };

function clientFor(target: InfluxTarget, database: string, requestTimeoutMs: number): InfluxDB {
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    throw new TypeError(`InfluxDB URL "${target.url}": expected http(s)://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`InfluxDB URL "${target.url}": expected http:// or https://`);
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return new InfluxDB({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : protocol === 'https' ? 443 : 80,
    path: url.pathname.replace(/\/+$/, ''),
    protocol,
    // The client sends root/root when none are given: send nothing instead.
    username: target.username || undefined,
    password: target.password || undefined,
    database,
    schema: influxSchema(database),
    pool: { maxRetries: 0, requestTimeout: requestTimeoutMs, backoff: NO_HOST_BACKOFF },
  });
}

function shortText(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_ERROR_TEXT ? `${line.slice(0, MAX_ERROR_TEXT - 1)}…` : line;
}

export class InfluxWriter extends EventEmitter {
  readonly channel: string;
  private readonly store: Store;
  private readonly influx: InfluxDB;
  private readonly database: string;
  private readonly policy: { name: string; duration: string };
  private readonly batchSize: number;
  private readonly backoff: Backoff;
  private readonly pollMs: number;
  private setup: Setup | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private kicked = false;
  /** New points do not cut a back-off short: InfluxDB is given its time. */
  private backingOff = false;
  private failures = 0;
  private connected = false;
  private lastError: string | undefined;
  private lastWriteAt: number | undefined;

  constructor(options: InfluxWriterOptions) {
    super();
    this.store = options.store;
    this.channel = options.channel;
    this.database = options.database || DEFAULT_DATABASE;
    this.policy = { name: options.retentionPolicy || DEFAULT_RETENTION_POLICY, duration: options.retention || DEFAULT_RETENTION };
    durationHours(this.policy.duration); // a bad duration is a configuration error: say it now
    this.batchSize = options.batchSize ?? 5000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${this.batchSize}`);
    this.backoff = checkBackoff(options.backoff ?? DEFAULT_WRITER_BACKOFF);
    this.pollMs = options.pollMs ?? 5000;
    this.influx = clientFor(options, this.database, options.requestTimeoutMs ?? 10_000);
  }

  /** Queues points on disk (durable when it returns) and wakes the writer. */
  queue(points: readonly MetricPoint[]): void {
    if (points.length === 0) return;
    this.store.queuePoints(this.channel, points.map((point) => JSON.stringify(point)));
    this.kick();
  }

  get status(): WriterStatus {
    const counts = this.store.pointCounts(this.channel);
    const status: WriterStatus = { connected: this.connected, waiting: counts.waiting, setAside: counts.setAside };
    if (this.lastError !== undefined) status.lastError = this.lastError;
    if (this.lastWriteAt !== undefined) status.lastWriteAt = this.lastWriteAt;
    if (this.setup?.notice !== undefined) status.notice = this.setup.notice;
    return status;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the request in flight (bounded by the request time-out); what is queued stays on disk. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  kick(): void {
    this.kicked = true;
    if (!this.backingOff) this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let waitMs = this.pollMs;
      this.backingOff = false;
      try {
        if (await this.step()) continue;
      } catch (err) {
        this.backingOff = true;
        const failure = err instanceof WriteFailed ? err.failure : classifyWriteError(err);
        this.failures++;
        this.connected = failure.kind !== 'unreachable';
        this.lastError = shortText(failure.message);
        waitMs = backoffDelay(this.backoff, this.failures);
        this.emit('failure', failure, waitMs);
      }
      await this.sleep(waitMs);
    }
  }

  /** One batch; false when the queue is empty. */
  private async step(): Promise<boolean> {
    if (!this.setup) {
      this.setup = await ensureDatabase(this.influx, this.database, this.policy);
      this.connected = true;
      if (this.setup.notice) this.emit('notice', this.setup.notice);
    }
    const rows = this.store.nextPoints(this.channel, this.batchSize);
    if (rows.length === 0) return false;
    const started = Date.now();
    const written = await this.write(this.parse(rows));
    this.failures = 0;
    this.connected = true;
    this.lastError = undefined;
    this.lastWriteAt = Date.now();
    this.emit('written', written, this.lastWriteAt - started);
    return true;
  }

  /** Points the client itself refuses (a field of the wrong type, say) are set aside at once. */
  private parse(rows: QueuedPoint[]): Parsed[] {
    const parsed: Parsed[] = [];
    for (const row of rows) {
      try {
        const point = JSON.parse(row.point) as MetricPoint;
        this.influx.parsePoint(point, { database: this.database, precision: 'n' });
        parsed.push({ id: row.id, point });
      } catch (err) {
        this.setAside([row.id], `refused before sending: ${(err as Error).message}`);
      }
    }
    return parsed;
  }

  /** Writes a batch; on a 400, halves it until the refused points stand alone. Returns the points written. */
  private async write(batch: Parsed[]): Promise<number> {
    if (batch.length === 0) return 0;
    try {
      await this.influx.writePoints(batch.map((p) => p.point), { database: this.database, retentionPolicy: this.setup?.retentionPolicy, precision: 'n' });
    } catch (err) {
      const failure = classifyWriteError(err);
      if (failure.kind === 'setup') this.setup = undefined;
      if (failure.kind !== 'bad-points') throw new WriteFailed(failure);
      if (batch.length === 1) {
        this.setAside([batch[0].id], shortText(failure.message));
        return 0;
      }
      // InfluxDB kept the good points of a partial write: writing them again changes nothing.
      const half = Math.ceil(batch.length / 2);
      return (await this.write(batch.slice(0, half))) + (await this.write(batch.slice(half)));
    }
    this.store.deletePoints(batch.map((p) => p.id));
    return batch.length;
  }

  private setAside(ids: number[], error: string): void {
    this.store.setPointsAside(ids, error);
    this.emit('set-aside', ids.length, error);
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (this.kicked && !this.backingOff) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      timer.unref();
      this.wake = () => {
        this.kicked = false;
        finish();
      };
    });
  }
}

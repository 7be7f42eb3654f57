/**
 * The durable store: one SQLite database per data directory, in WAL mode, shared by everything
 * in the process that opens the same directory (ref-counted), so there is one writer and one
 * set of prepared statements.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Result } from '../model/result';
import { ControlIdGenerator, controlIdTime, newStoreTag } from './ids';
import { InboundJournal } from './inbound';
import { OutboundQueue } from './outbound';
import { ResultsIndex } from './results';
import { OrdersIndex } from './orders';
import { CommitmentIndex } from './commitments';
import { ImagingIndex } from './imaging';
import { MetricPointQueue } from './metric-points';
import { Retention } from './retention';
import { migrate, SCHEMA_VERSION } from './schema';
import type {
  AssignedBy, AssignOutcome, DeliverySummary, DeviceLastResult, Durability, Enqueued, EnqueueInput, InboundEntry, InboundInput, InboundQuery,
  IndexedOrder, OrderInput, OutboundMessage, OutboundQuery, PointCounts, Pruned, QueueDepth, QueuedPoint, ResultPage, ResultQuery,
  RetentionPolicy, SetAsidePoint, StoreOptions, UnmatchedQuery,
} from './types';
import type { Patient } from '../model/result';

export const DATABASE_FILE = 'passerelle.sqlite';
const SYNCHRONOUS_NAMES = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

export interface StoreInfo {
  file: string;
  schemaVersion: number;
  durability: Durability;
  journalMode: string;
  synchronous: string;
  /** Pages in use, free pages excluded: what retention's maxBytes compares with. */
  usedBytes: number;
}

/** What one open database holds; shared by every Store handle on the same directory. */
class StoreCore {
  readonly db: Database.Database;
  readonly inbound: InboundJournal;
  readonly outbound: OutboundQueue;
  readonly results: ResultsIndex;
  readonly orders: OrdersIndex;
  readonly imaging: ImagingIndex;
  readonly commitments: CommitmentIndex;
  readonly metricPoints: MetricPointQueue;
  readonly retention: Retention;
  private readonly controlIds: ControlIdGenerator;
  private readonly metaGet: Database.Statement;
  private readonly metaSet: Database.Statement;
  durability: Durability;
  refs = 0;
  /** Runs a function in one transaction (a savepoint when nested). */
  readonly atomically: (fn: () => unknown) => unknown;

  constructor(readonly dir: string, durability: Durability) {
    // Patient data: only the hub's user may read it (a new directory, a new file; the WAL and
    // shared-memory files SQLite creates take the database file's mode).
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, DATABASE_FILE);
    const created = !existsSync(file);
    const db = new Database(file);
    this.db = db;
    try {
      if (created) chmodSync(file, 0o600);
      // Only takes effect on a new database (before the first table): lets retention give space back.
      db.pragma('auto_vacuum = INCREMENTAL');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`the journal database could not switch to WAL mode (got ${String(mode)}): is ${dir} on a network file system?`);
      this.durability = durability;
      this.applyDurability();
      db.pragma('busy_timeout = 5000');
      db.pragma('cache_size = -16000');
      migrate(db);
      this.metaGet = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
      this.metaSet = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
      this.controlIds = new ControlIdGenerator(this.storeTag());
      this.controlIds.advancePast(this.controlHighWater());
      this.inbound = new InboundJournal(db);
      this.outbound = new OutboundQueue(db, this.controlIds);
      this.results = new ResultsIndex(db);
      this.orders = new OrdersIndex(db);
      this.imaging = new ImagingIndex(db);
      this.commitments = new CommitmentIndex(db);
      this.metricPoints = new MetricPointQueue(db);
      this.retention = new Retention(db);
      this.atomically = db.transaction((fn: () => unknown) => fn()).immediate;
      // A new process has nothing in flight: whatever was 'sent' lost its ACK with the old one.
      this.outbound.recoverInterrupted(Date.now());
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Stronger wins when two parts of the process ask differently. */
  require(durability: Durability): void {
    if (durability === 'power-loss' && this.durability !== 'power-loss') {
      this.durability = durability;
      this.applyDurability();
    }
  }

  saveHighWater(): void {
    this.metaSet.run('control_high_water', String(this.controlIds.highWater));
  }

  close(): void {
    try {
      this.saveHighWater();
    } finally {
      this.db.close();
    }
  }

  private applyDurability(): void {
    // NORMAL in WAL: a commit is in the OS once written, so it survives the process (kill -9), not
    // the machine. FULL: the log is fsynced at every commit, so it survives a power cut too.
    this.db.pragma(`synchronous = ${this.durability === 'power-loss' ? 'FULL' : 'NORMAL'}`);
  }

  private storeTag(): string {
    const existing = this.metaGet.get('store_tag') as string | undefined;
    if (existing) return existing;
    const tag = newStoreTag();
    this.metaSet.run('store_tag', tag);
    return tag;
  }

  /** Control ids are never reused: start past the newest one issued, even if it was pruned. */
  private controlHighWater(): number {
    const saved = Number(this.metaGet.get('control_high_water') ?? 0);
    const newest = this.db.prepare('SELECT max(control_id) FROM outbound').pluck().get() as string | null;
    return Math.max(saved, (newest && controlIdTime(newest)) || 0);
  }
}

const openStores = new Map<string, StoreCore>();

export class Store {
  private core: StoreCore | undefined;

  private constructor(core: StoreCore) {
    this.core = core;
  }

  /**
   * Opens (creating if need be) the store in `dir`. Every open in the process on the same
   * directory shares one database; each returned handle is closed once.
   */
  static open(options: StoreOptions): Store {
    const dir = resolve(options.dir);
    const durability = options.durability ?? 'process-crash';
    if (durability !== 'process-crash' && durability !== 'power-loss') throw new TypeError(`durability must be process-crash or power-loss, got ${String(durability)}`);
    let core = openStores.get(dir);
    if (core) {
      core.require(durability);
    } else {
      core = new StoreCore(dir, durability);
      openStores.set(dir, core);
    }
    core.refs++;
    return new Store(core);
  }

  /** Releases this handle; the database closes with the last one. Closing twice is harmless. */
  close(): void {
    const core = this.core;
    if (!core) return;
    this.core = undefined;
    if (--core.refs > 0) return;
    openStores.delete(core.dir);
    core.close();
  }

  get dir(): string {
    return this.open().dir;
  }

  get durability(): Durability {
    return this.open().durability;
  }

  /**
   * Runs `fn` in one transaction: all its writes commit together, or none if it throws. One
   * commit instead of several is cheaper (one fsync in 'power-loss' mode), e.g. journalInbound +
   * recordResult + enqueue for one result. Inside it, "durable when it returns" means when the
   * transaction returns. Nested calls are savepoints. `fn` must be synchronous.
   */
  transaction<T>(fn: () => T): T {
    return this.open().atomically(fn) as T;
  }

  /** What the store runs with, for health pages and tests. */
  info(): StoreInfo {
    const core = this.open();
    const synchronous = core.db.pragma('synchronous', { simple: true }) as number;
    return {
      file: join(core.dir, DATABASE_FILE),
      schemaVersion: SCHEMA_VERSION,
      durability: core.durability,
      journalMode: String(core.db.pragma('journal_mode', { simple: true })),
      synchronous: SYNCHRONOUS_NAMES[synchronous] ?? String(synchronous),
      usedBytes: core.retention.usedBytes(),
    };
  }

  // Journal of inbound bytes

  /** Returns a time-ordered unique id; the entry is durable (per the durability mode) when it returns. */
  journalInbound(entry: InboundInput): string {
    return this.open().inbound.journal(entry);
  }

  getInbound(id: string): InboundEntry | undefined {
    return this.open().inbound.get(id);
  }

  /** Newest first. */
  listInbound(query: InboundQuery): InboundEntry[] {
    return this.open().inbound.list(query);
  }

  /** The outbox: entries still to publish on the bus, oldest first; of one channel if given. */
  unpublished(limit: number, channel?: string): InboundEntry[] {
    return this.open().inbound.unpublished(limit, channel);
  }

  /** The channels starting with `prefix` that have entries still to publish (an input with one channel per device replays them all after a crash). */
  channelsWithUnpublished(prefix: string): string[] {
    return this.open().inbound.channelsWithUnpublished(prefix);
  }

  markPublished(id: string): void {
    this.open().inbound.markPublished(id);
  }

  // Outbound queues

  enqueue(message: EnqueueInput): Enqueued {
    return this.open().outbound.enqueue(message);
  }

  nextDue(destination: string, now: number, skip = 0): OutboundMessage | undefined {
    return this.open().outbound.nextDue(destination, now, skip);
  }

  markSent(id: number, now: number): void {
    this.open().outbound.markSent(id, now);
  }

  markAccepted(id: number, ack: { code: string; raw?: Buffer }, now: number): void {
    this.open().outbound.markAccepted(id, ack, now);
  }

  /** countsAsAttempt=false gives back the attempt markSent took (nothing reached the peer). */
  markRetry(id: number, reason: string, nextAttemptAt: number, countsAsAttempt: boolean): void {
    this.open().outbound.markRetry(id, reason, nextAttemptAt, countsAsAttempt);
  }

  markDead(id: number, reason: string, now: number): void {
    this.open().outbound.markDead(id, reason, now);
  }

  /** A failure reported after acceptance (a mail bounce): dead letter, re-sendable. */
  markBounced(id: number, reason: string, now: number): void {
    this.open().outbound.markBounced(id, reason, now);
  }

  resend(id: number): void {
    this.open().outbound.resend(id);
  }

  getOutbound(id: number): OutboundMessage | undefined {
    return this.open().outbound.get(id);
  }

  findByControlId(controlId: string): OutboundMessage | undefined {
    return this.open().outbound.findByControlId(controlId);
  }

  /** Newest first. */
  listOutbound(query: OutboundQuery): OutboundMessage[] {
    return this.open().outbound.list(query);
  }

  depth(destination: string): QueueDepth {
    return this.open().outbound.depth(destination);
  }

  /** Destinations that have messages still to deliver, or dead letters. */
  destinationsWithQueue(): string[] {
    return this.open().outbound.destinationsWithQueue();
  }

  // Results index

  recordResult(result: Result, inboundId?: string): void {
    this.open().results.record(result, inboundId);
  }

  /** Newest recorded first. */
  listResults(query: ResultQuery): ResultPage {
    return this.open().results.list(query);
  }

  getResult(id: string): Result | undefined {
    return this.open().results.get(id);
  }

  /** A result's deliveries (one per destination), with their queue, first-send and final times. */
  deliveriesOf(resultId: string): DeliverySummary[] {
    return this.open().results.deliveriesOfResult(resultId);
  }

  /** How many results are held for want of a patient. */
  countUnmatched(): number {
    return this.open().results.countUnmatched();
  }

  /** Each device's newest recorded result. */
  lastResultPerDevice(): DeviceLastResult[] {
    return this.open().results.lastResultPerDevice();
  }

  /** Results held for want of a patient (not matched, queued to no destination), newest first. */
  listUnmatched(query: UnmatchedQuery): ResultPage {
    return this.open().results.listUnmatched(query);
  }

  /** Held results with this specimen id, oldest first (what a late order can now match). */
  unmatchedBySpecimen(specimenId: string): Result[] {
    return this.open().results.unmatchedBySpecimen(specimenId);
  }

  /**
   * Gives a held result its patient, matched by an order or by a person, and stores it.
   * 'not-found' for an unknown id, 'already-matched' (nothing changed) for a matched one.
   */
  assignPatient(resultId: string, patient: Omit<Patient, 'matched' | 'matchedBy'> & Partial<Pick<Patient, 'matched' | 'matchedBy'>>, by: AssignedBy): AssignOutcome {
    return this.open().results.assignPatient(resultId, patient, by);
  }

  // Orders index

  /** Upserts by specimen id (or by placer number when the order has no specimen id). */
  indexOrder(order: OrderInput): IndexedOrder {
    return this.open().orders.index(order, Date.now());
  }

  findOrderBySpecimen(specimenId: string): IndexedOrder | undefined {
    return this.open().orders.findBySpecimen(specimenId);
  }

  findOrderByPlacer(placerNumber: string): IndexedOrder | undefined {
    return this.open().orders.findByPlacer(placerNumber);
  }

  // Imaging: the worklist's steps, MPPS, studies on their way to the record (adapters/dicom gives them meaning)

  /** The imaging tables; call inside transaction() to write with other entries in one commit. */
  imaging(): ImagingIndex {
    return this.open().imaging;
  }

  /** Storage commitment of the objects the PACSs accepted (adapters/dicom/storage-commitment.ts). */
  commitments(): CommitmentIndex {
    return this.open().commitments;
  }

  // Metric points (for InfluxDB): durable until the database has them

  /** Queues points (opaque text) for a writer's channel; durable when it returns. */
  queuePoints(channel: string, points: readonly string[]): void {
    const core = this.open();
    core.atomically(() => core.metricPoints.queue(channel, points, Date.now()));
  }

  /** The oldest waiting points of a channel. */
  nextPoints(channel: string, limit: number): QueuedPoint[] {
    return this.open().metricPoints.next(channel, limit);
  }

  /** The database has them: they leave the queue. */
  deletePoints(ids: readonly number[]): void {
    const core = this.open();
    core.atomically(() => core.metricPoints.delete(ids));
  }

  /** The database refused them for good: kept aside with the reason, no longer sent. */
  setPointsAside(ids: readonly number[], error: string): void {
    const core = this.open();
    core.atomically(() => core.metricPoints.markSetAside(ids, error, Date.now()));
  }

  pointCounts(channel: string): PointCounts {
    return this.open().metricPoints.counts(channel);
  }

  /** Newest first. */
  listSetAsidePoints(channel: string, limit: number): SetAsidePoint[] {
    return this.open().metricPoints.listSetAside(channel, limit);
  }

  // Retention

  prune(policy: RetentionPolicy, now: number): Pruned {
    const core = this.open();
    core.saveHighWater();
    return core.retention.prune(policy, now);
  }

  private open(): StoreCore {
    if (!this.core) throw new Error('the store handle is closed');
    return this.core;
  }
}

/** The shapes the store takes and gives back. */
import type { Code, Patient, Result, ResultKind } from '../model/result';

export type Durability = 'process-crash' | 'power-loss';

export interface StoreOptions {
  dir: string;
  /** 'process-crash' (default): synchronous=NORMAL. 'power-loss': synchronous=FULL, one fsync per write. */
  durability?: Durability;
}

export type InboundStatus = 'accepted' | 'rejected';

export interface InboundInput {
  /** Where it came in, e.g. 'mllp:hl7-in' or 'mqtt:<topic>'. */
  channel: string;
  peer?: string;
  contentType: string;
  raw: Buffer;
  status: InboundStatus;
  error?: string;
  resultId?: string;
  /** Set when this entry must still be published on the bus (the outbox). */
  publishTopic?: string;
}

export interface InboundEntry {
  id: string;
  receivedAt: number;
  channel: string;
  peer?: string;
  contentType: string;
  status: InboundStatus;
  error?: string;
  resultId?: string;
  publishTopic?: string;
  publishedAt?: number;
  raw: Buffer;
}

export interface InboundQuery {
  status?: InboundStatus;
  channel?: string;
  limit: number;
  /** An inbound id: only entries older than it. */
  before?: string;
}

export type OutboundState = 'pending' | 'sent' | 'waiting' | 'accepted' | 'dead';
export const FINAL_STATES: readonly OutboundState[] = ['accepted', 'dead'];

export interface EnqueueInput {
  destination: string;
  /** Enqueueing the same key twice for a destination returns the first row, duplicate=true. */
  dedupeKey: string;
  /** Called once with the fresh control id (so MSH-10 can carry it); not called for a duplicate. */
  build: (controlId: string) => Buffer;
  resultId?: string;
  inboundId?: string;
  contentType?: string;
}

export interface Enqueued {
  id: number;
  controlId: string;
  duplicate: boolean;
}

export interface OutboundMessage {
  id: number;
  destination: string;
  dedupeKey: string;
  controlId: string;
  state: OutboundState;
  attempts: number;
  /** Epoch ms (the worker's clock); 0 for a message due at once. */
  nextAttemptAt: number;
  createdAt: number;
  updatedAt: number;
  sentAt?: number;
  resultId?: string;
  inboundId?: string;
  contentType: string;
  lastError?: string;
  ackCode?: string;
  ackRaw?: Buffer;
  payload: Buffer;
}

export interface OutboundQuery {
  destination?: string;
  state?: OutboundState;
  resultId?: string;
  limit: number;
  /** Only messages with a smaller id (newest first paging). */
  beforeId?: number;
}

export interface QueueDepth {
  pending: number;
  waiting: number;
  sent: number;
  dead: number;
}

export interface DeliverySummary {
  /** The outbound row's id. */
  outboundId: number;
  destination: string;
  state: OutboundState;
  controlId: string;
  attempts: number;
  lastError?: string;
  ackCode?: string;
  /** Epoch ms: queued for the destination. */
  queuedAt: number;
  /** Epoch ms: first sent (kept across retries and re-sends); absent until then. */
  sentAt?: number;
  /** Epoch ms of the last change: the final state's time once accepted or dead. */
  updatedAt: number;
}

export interface ResultRow {
  id: string;
  /** result.times.received, as the result carries it. */
  receivedAt: string;
  /** When the hub recorded it (epoch ms). */
  recordedAt: number;
  kind: ResultKind;
  site: string;
  deviceId: string;
  patient?: { name?: string; id?: string };
  specimenId?: string;
  observationCount: number;
  matched: boolean;
  inboundId?: string;
  result: Result;
  deliveries: DeliverySummary[];
}

export interface ResultQuery {
  limit: number;
  /** The `next` of the previous page. */
  before?: string;
  deviceId?: string;
  /** A piece of the patient's name or identifier; case and accents do not matter. */
  patient?: string;
}

export interface ResultPage {
  results: ResultRow[];
  next?: string;
}

export interface RetentionPolicy {
  maxAgeMs?: number;
  maxBytes?: number;
}

export interface Pruned {
  inbound: number;
  outbound: number;
  results: number;
  orders: number;
}

export class OutboundStateError extends Error {
  constructor(id: number, state: OutboundState | undefined, action: string) {
    super(state ? `outbound message ${id} is ${state}: cannot ${action}` : `no outbound message ${id}`);
    this.name = 'OutboundStateError';
  }
}

/** One order as the record sent it, indexed so a result with only a specimen id finds its patient. */
export interface OrderInput {
  /** The key: the specimen id the device will send back (SPM-2, or an order number). */
  specimenId?: string;
  placerNumber?: string;
  fillerNumber?: string;
  accessionNumber?: string;
  /** The order's patient, as a canonical Patient (matched: true, matchedBy: 'order'). */
  patient: Patient;
  /** RFC 3339. */
  orderedAt?: string;
  orderCode?: Code;
  /** The inbound journal entry of the order message. */
  sourceJournalId?: string;
}

export interface IndexedOrder extends OrderInput {
  /** When the hub indexed it (epoch ms). */
  indexedAt: number;
}

export interface UnmatchedQuery {
  limit: number;
  /** The `next` of the previous page. */
  before?: string;
}

export type AssignedBy = 'order' | 'manual';

export type AssignOutcome =
  | { status: 'assigned'; result: Result }
  | { status: 'not-found' }
  | { status: 'already-matched'; result: Result };

/** A point waiting in the metric points queue (opaque text: the writer's format). */
export interface QueuedPoint {
  id: number;
  point: string;
}

export interface SetAsidePoint extends QueuedPoint {
  setAsideAt: number;
  error: string;
}

export interface PointCounts {
  waiting: number;
  setAside: number;
}

/** The newest result recorded from a device. */
export interface DeviceLastResult {
  site: string;
  kind: ResultKind;
  deviceId: string;
  /** Epoch ms. */
  recordedAt: number;
}

/**
 * The outbound queues: one FIFO per destination, in one table. A row is 'live' (pending, sent,
 * waiting) until it is final (accepted, dead); only live rows are in the queue index.
 */
import type Database from 'better-sqlite3';
import type { ControlIdGenerator } from './ids';
import { LIVE_STATES_SQL } from './schema';
import { opt, pageSize } from './sql';
import { OutboundStateError, type Enqueued, type EnqueueInput, type OutboundMessage, type OutboundQuery, type OutboundState, type QueueDepth } from './types';

interface OutboundRecord {
  id: number;
  destination: string;
  dedupe_key: string;
  control_id: string;
  state: OutboundState;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
  result_id: string | null;
  inbound_id: string | null;
  content_type: string;
  last_error: string | null;
  ack_code: string | null;
  ack_raw: Buffer | null;
  payload: Buffer;
}

const COLUMNS = 'id, destination, dedupe_key, control_id, state, attempts, next_attempt_at, created_at, updated_at, sent_at, result_id, inbound_id, content_type, last_error, ack_code, ack_raw, payload';
const STATES: readonly OutboundState[] = ['pending', 'sent', 'waiting', 'accepted', 'dead'];
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
/** Reasons come from peers (MSA-3, ERR): keep what helps, not a novel. */
const MAX_REASON = 500;
export const INTERRUPTED_REASON = 'interrupted by a restart before its ACK: sent again with the same control id';

function toMessage(row: OutboundRecord): OutboundMessage {
  return {
    id: row.id,
    destination: row.destination,
    dedupeKey: row.dedupe_key,
    controlId: row.control_id,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    sentAt: opt(row.sent_at),
    resultId: opt(row.result_id),
    inboundId: opt(row.inbound_id),
    contentType: row.content_type,
    lastError: opt(row.last_error),
    ackCode: opt(row.ack_code),
    ackRaw: opt(row.ack_raw),
    payload: row.payload,
  };
}

function reasonText(reason: string): string {
  return reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason;
}

export class OutboundQueue {
  private readonly byDedupe: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly head: Database.Statement;
  private readonly sent: Database.Statement;
  private readonly accepted: Database.Statement;
  private readonly retry: Database.Statement;
  private readonly dead: Database.Statement;
  private readonly bounced: Database.Statement;
  private readonly again: Database.Statement;
  private readonly byId: Database.Statement;
  private readonly byControlId: Database.Statement;
  private readonly stateOf: Database.Statement;
  private readonly liveDepth: Database.Statement;
  private readonly deadDepth: Database.Statement;
  private readonly interrupted: Database.Statement;
  private readonly withRows: Database.Statement;
  private readonly lists = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database, private readonly controlIds: ControlIdGenerator) {
    this.byDedupe = db.prepare('SELECT id, control_id FROM outbound WHERE destination = ? AND dedupe_key = ?');
    this.insert = db.prepare(`INSERT INTO outbound (destination, dedupe_key, control_id, state, attempts, next_attempt_at, created_at, updated_at, result_id, inbound_id, content_type, payload)
      VALUES (@destination, @dedupe_key, @control_id, 'pending', 0, 0, @now, @now, @result_id, @inbound_id, @content_type, @payload)`);
    // The exact partial-index term, then the narrowing: SQLite only uses a partial index whose WHERE appears verbatim.
    this.head = db.prepare(`SELECT ${COLUMNS} FROM outbound WHERE destination = ? AND ${LIVE_STATES_SQL} AND state <> 'sent' ORDER BY id LIMIT ?`);
    this.sent = db.prepare("UPDATE outbound SET state = 'sent', attempts = attempts + 1, sent_at = @now, first_sent_at = coalesce(first_sent_at, @now), updated_at = @now WHERE id = @id AND (state = 'pending' OR state = 'waiting')");
    this.accepted = db.prepare(`UPDATE outbound SET state = 'accepted', ack_code = @code, ack_raw = @raw, last_error = NULL, updated_at = @now WHERE id = @id AND ${LIVE_STATES_SQL}`);
    // A send that did not count (nothing reached the peer) gives back the attempt markSent took.
    this.retry = db.prepare(`UPDATE outbound SET state = 'waiting', last_error = @reason, next_attempt_at = @next, updated_at = @now,
      attempts = attempts - (CASE WHEN @counts = 0 AND state = 'sent' AND attempts > 0 THEN 1 ELSE 0 END)
      WHERE id = @id AND ${LIVE_STATES_SQL}`);
    this.dead = db.prepare(`UPDATE outbound SET state = 'dead', last_error = @reason, updated_at = @now WHERE id = @id AND ${LIVE_STATES_SQL}`);
    // A bounce (a DSN received later) can fail a message the server had already taken.
    this.bounced = db.prepare(`UPDATE outbound SET state = 'dead', last_error = @reason, updated_at = @now WHERE id = @id AND (state = 'accepted' OR ${LIVE_STATES_SQL})`);
    this.again = db.prepare(`UPDATE outbound SET state = 'pending', attempts = 0, next_attempt_at = 0, sent_at = NULL, last_error = NULL, ack_code = NULL, ack_raw = NULL, updated_at = @now
      WHERE id = @id AND (state = 'accepted' OR state = 'dead')`);
    this.byId = db.prepare(`SELECT ${COLUMNS} FROM outbound WHERE id = ?`);
    this.byControlId = db.prepare(`SELECT ${COLUMNS} FROM outbound WHERE control_id = ?`);
    this.stateOf = db.prepare('SELECT state FROM outbound WHERE id = ?').pluck();
    // Sums rather than GROUP BY: no temporary table on a query run at every status update.
    this.liveDepth = db.prepare(`SELECT coalesce(sum(state = 'pending'), 0) AS pending, coalesce(sum(state = 'waiting'), 0) AS waiting, coalesce(sum(state = 'sent'), 0) AS sent
      FROM outbound WHERE destination = ? AND ${LIVE_STATES_SQL}`);
    this.deadDepth = db.prepare("SELECT count(*) FROM outbound INDEXED BY outbound_dead WHERE destination = ? AND state = 'dead'").pluck();
    this.interrupted = db.prepare(`UPDATE outbound INDEXED BY outbound_live SET state = 'waiting', next_attempt_at = 0, last_error = @reason, updated_at = @now
      WHERE ${LIVE_STATES_SQL} AND state = 'sent'`);
    this.withRows = db.prepare(`SELECT destination FROM outbound INDEXED BY outbound_live WHERE ${LIVE_STATES_SQL}
      UNION SELECT destination FROM outbound INDEXED BY outbound_dead WHERE state = 'dead'`).pluck();
  }

  enqueue(input: EnqueueInput): Enqueued {
    const existing = this.byDedupe.get(input.destination, input.dedupeKey) as { id: number; control_id: string } | undefined;
    if (existing) return { id: existing.id, controlId: existing.control_id, duplicate: true };
    const controlId = this.controlIds.next();
    const payload = input.build(controlId);
    if (!Buffer.isBuffer(payload)) throw new TypeError('enqueue: build() must return a Buffer');
    const info = this.insert.run({
      destination: input.destination,
      dedupe_key: input.dedupeKey,
      control_id: controlId,
      now: Date.now(),
      result_id: input.resultId ?? null,
      inbound_id: input.inboundId ?? null,
      content_type: input.contentType ?? DEFAULT_CONTENT_TYPE,
      payload,
    });
    return { id: Number(info.lastInsertRowid), controlId, duplicate: false };
  }

  /**
   * The message to send now: the (skip+1)th pending/waiting message, if it and every one before
   * it are due. A head waiting for its retry holds the whole queue (strict FIFO).
   */
  nextDue(destination: string, now: number, skip = 0): OutboundMessage | undefined {
    const rows = this.head.all(destination, Math.max(0, Math.floor(skip)) + 1) as OutboundRecord[];
    if (rows.length <= skip || rows.some((row) => row.next_attempt_at > now)) return undefined;
    return toMessage(rows[rows.length - 1]);
  }

  markSent(id: number, now: number): void {
    this.change(this.sent.run({ id, now }), id, 'mark it sent');
  }

  markAccepted(id: number, ack: { code: string; raw?: Buffer }, now: number): void {
    this.change(this.accepted.run({ id, now, code: ack.code, raw: ack.raw ?? null }), id, 'mark it accepted');
  }

  markRetry(id: number, reason: string, nextAttemptAt: number, countsAsAttempt: boolean): void {
    const info = this.retry.run({ id, reason: reasonText(reason), next: nextAttemptAt, now: Date.now(), counts: countsAsAttempt ? 1 : 0 });
    this.change(info, id, 'schedule a retry');
  }

  markDead(id: number, reason: string, now: number): void {
    this.change(this.dead.run({ id, reason: reasonText(reason), now }), id, 'dead-letter it');
  }

  /** A failure reported after acceptance (a mail bounce): the message becomes a dead letter, re-sendable. */
  markBounced(id: number, reason: string, now: number): void {
    this.change(this.bounced.run({ id, reason: reasonText(reason), now }), id, 'mark it bounced');
  }

  resend(id: number): void {
    this.change(this.again.run({ id, now: Date.now() }), id, 're-send it (only accepted or dead messages can be)');
  }

  get(id: number): OutboundMessage | undefined {
    const row = this.byId.get(id) as OutboundRecord | undefined;
    return row && toMessage(row);
  }

  findByControlId(controlId: string): OutboundMessage | undefined {
    const row = this.byControlId.get(controlId) as OutboundRecord | undefined;
    return row && toMessage(row);
  }

  list(query: OutboundQuery): OutboundMessage[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: pageSize(query.limit) };
    const state = query.state;
    if (state !== undefined && !STATES.includes(state)) throw new TypeError(`outbound state must be one of ${STATES.join(', ')}`);
    const live = state !== undefined && state !== 'accepted' && state !== 'dead';
    // Pick the index by hand: without statistics SQLite would read a whole destination through
    // the dedupe index and sort it. Live and dead rows are few: read them from their own index;
    // otherwise walk the ids newest first ('+destination' keeps SQLite off the dedupe index).
    const few = live || state === 'dead';
    let from = 'outbound';
    if (state === 'dead') from = 'outbound INDEXED BY outbound_dead';
    else if (live && query.destination === undefined) from = 'outbound INDEXED BY outbound_live';
    if (query.destination !== undefined) {
      where.push(few ? 'destination = @destination' : '+destination = @destination');
      params.destination = query.destination;
    }
    if (state !== undefined) {
      // Literals: partial indexes only serve a query that repeats their WHERE.
      if (live) where.push(LIVE_STATES_SQL);
      where.push(`state = '${state}'`);
    }
    if (query.resultId !== undefined) {
      where.push('result_id = @result_id');
      params.result_id = query.resultId;
    }
    if (query.beforeId !== undefined) {
      where.push('id < @before');
      params.before = query.beforeId;
    }
    const sql = `SELECT ${COLUMNS} FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    let statement = this.lists.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.lists.set(sql, statement);
    }
    return (statement.all(params) as OutboundRecord[]).map(toMessage);
  }

  depth(destination: string): QueueDepth {
    const live = this.liveDepth.get(destination) as Omit<QueueDepth, 'dead'>;
    return { pending: live.pending, waiting: live.waiting, sent: live.sent, dead: this.deadDepth.get(destination) as number };
  }

  /** Destinations with messages still to deliver or dead letters (read from the small indexes only). */
  destinationsWithQueue(): string[] {
    return this.withRows.all() as string[];
  }

  /** At open: nothing of this process is in flight yet, so a 'sent' row lost its ACK in a crash. */
  recoverInterrupted(now: number): number {
    return this.interrupted.run({ reason: INTERRUPTED_REASON, now }).changes;
  }

  private change(info: Database.RunResult, id: number, action: string): void {
    if (info.changes === 1) return;
    throw new OutboundStateError(id, this.stateOf.get(id) as OutboundState | undefined, action);
  }
}

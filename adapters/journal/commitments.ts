/**
 * Storage commitment towards a PACS (DICOM PS3.4 annex J): for each object the PACS accepted by
 * C-STORE, whether the PACS has also taken responsibility for keeping it. An object waits, is
 * requested in a transaction (N-ACTION), then is committed or failed when the PACS's report
 * (N-EVENT-REPORT) names it. Keyed by the outbound message that carried the object, so a failed
 * object is sent again through its own queue entry, same control id.
 */
import type Database from 'better-sqlite3';
import { opt } from './sql';

export type CommitmentState = 'waiting' | 'requested' | 'resent' | 'committed' | 'failed';

export interface CommitmentItem {
  outboundId: number;
  destination: string;
  sopClassUid: string;
  sopInstanceUid: string;
  state: CommitmentState;
  transactionUid?: string;
  /** Transactions that named it so far. */
  requests: number;
  updatedAt: number;
  /** The PACS's failure reason (PS3.3 C.14.1.1), or why the hub gave up. */
  reason?: string;
}

/** What a PACS's report said, applied: the items it settled. */
export interface CommitmentReportOutcome {
  /** False: no transaction of this hub has that UID (already answered, or never asked). */
  known: boolean;
  committed: CommitmentItem[];
  failed: CommitmentItem[];
}

interface ItemRow {
  outbound_id: number; destination: string; sop_class_uid: string; sop_instance_uid: string; state: CommitmentState;
  transaction_uid: string | null; requests: number; updated_at: number; reason: string | null;
}

function toItem(r: ItemRow): CommitmentItem {
  const item: CommitmentItem = { outboundId: r.outbound_id, destination: r.destination, sopClassUid: r.sop_class_uid, sopInstanceUid: r.sop_instance_uid, state: r.state, requests: r.requests, updatedAt: r.updated_at };
  const uid = opt(r.transaction_uid);
  const reason = opt(r.reason);
  if (uid !== undefined) item.transactionUid = uid;
  if (reason !== undefined) item.reason = reason;
  return item;
}

export class CommitmentIndex {
  private readonly upsert: Database.Statement;
  private readonly dueRows: Database.Statement;
  private readonly request: Database.Statement;
  private readonly inTransaction: Database.Statement;
  private readonly settle: Database.Statement;
  private readonly byOutbound: Database.Statement;
  private readonly counts: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.upsert = db.prepare(`INSERT INTO storage_commitments (outbound_id, destination, sop_class_uid, sop_instance_uid, state, updated_at)
      VALUES (@outbound, @destination, @sopClass, @sopInstance, 'waiting', @now)
      ON CONFLICT (outbound_id) DO UPDATE SET state = 'waiting', transaction_uid = NULL, reason = NULL, updated_at = excluded.updated_at`);
    // Waiting ones, and requested ones whose report is overdue (asked again in a new transaction).
    this.dueRows = db.prepare(`SELECT * FROM storage_commitments INDEXED BY storage_commitments_open
      WHERE destination = @destination AND (state = 'waiting' OR (state = 'requested' AND updated_at <= @overdue))
      ORDER BY outbound_id LIMIT @limit`);
    this.request = db.prepare(`UPDATE storage_commitments SET state = 'requested', transaction_uid = @uid, requests = requests + 1, updated_at = @now
      WHERE outbound_id = @outbound`);
    this.inTransaction = db.prepare(`SELECT * FROM storage_commitments WHERE transaction_uid = ? AND state = 'requested'`);
    this.settle = db.prepare('UPDATE storage_commitments SET state = @state, reason = @reason, updated_at = @now WHERE outbound_id = @outbound');
    this.byOutbound = db.prepare('SELECT * FROM storage_commitments WHERE outbound_id = ?');
    this.counts = db.prepare(`SELECT state, count(*) AS n FROM storage_commitments WHERE destination = ? GROUP BY state`);
  }

  /** The PACS accepted this object: it now waits for a commitment request (again, if it was sent again). */
  await(item: Pick<CommitmentItem, 'outboundId' | 'destination' | 'sopClassUid' | 'sopInstanceUid'>, now: number): void {
    this.upsert.run({ outbound: item.outboundId, destination: item.destination, sopClass: item.sopClassUid, sopInstance: item.sopInstanceUid, now });
  }

  /** Objects to name in the next request: waiting, or requested before `overdueBefore` without a report. */
  due(destination: string, overdueBefore: number, limit: number): CommitmentItem[] {
    return (this.dueRows.all({ destination, overdue: overdueBefore, limit }) as ItemRow[]).map(toItem);
  }

  /** These objects are named in transaction `uid` (one commit). */
  requested(outboundIds: readonly number[], uid: string, now: number): void {
    const run = this.db.transaction(() => { for (const outbound of outboundIds) this.request.run({ outbound, uid, now }); });
    run();
  }

  /** Back to waiting: the request did not reach the PACS (it is asked again at the next round). */
  unrequested(outboundIds: readonly number[], now: number): void {
    const run = this.db.transaction(() => { for (const outbound of outboundIds) this.settle.run({ outbound, state: 'waiting', reason: null, now }); });
    run();
  }

  /**
   * The PACS's report of transaction `uid`: the objects it committed, and those it could not
   * (with the reason). Objects of the transaction it does not name stay requested (asked again
   * when overdue). One commit; durable when it returns.
   */
  report(uid: string, committed: readonly string[], failed: ReadonlyArray<{ sopInstanceUid: string; reason: string }>, now: number): CommitmentReportOutcome {
    const run = this.db.transaction((): CommitmentReportOutcome => {
      const items = (this.inTransaction.all(uid) as ItemRow[]).map(toItem);
      const outcome: CommitmentReportOutcome = { known: items.length > 0, committed: [], failed: [] };
      const committedUids = new Set(committed);
      const failures = new Map(failed.map((f) => [f.sopInstanceUid, f.reason]));
      for (const item of items) {
        const reason = failures.get(item.sopInstanceUid);
        const state: CommitmentState | undefined = reason !== undefined ? 'failed' : committedUids.has(item.sopInstanceUid) ? 'committed' : undefined;
        if (!state) continue;
        this.settle.run({ outbound: item.outboundId, state, reason: reason ?? null, now });
        const settled = { ...item, state, updatedAt: now, ...(reason !== undefined ? { reason } : {}) };
        (state === 'committed' ? outcome.committed : outcome.failed).push(settled);
      }
      return outcome;
    });
    return run();
  }

  /** The hub gives up on this object's commitment (too many failed or unanswered requests). */
  giveUp(outboundId: number, reason: string, now: number): void {
    this.settle.run({ outbound: outboundId, state: 'failed', reason, now });
  }

  /** A failed object is being stored again; its commitment is owed anew once the PACS accepts it. */
  resent(outboundId: number, reason: string, now: number): void {
    this.settle.run({ outbound: outboundId, state: 'resent', reason, now });
  }

  get(outboundId: number): CommitmentItem | undefined {
    const row = this.byOutbound.get(outboundId) as ItemRow | undefined;
    return row && toItem(row);
  }

  /** How many objects of a destination are in each state. */
  depth(destination: string): Record<CommitmentState, number> {
    const depth: Record<CommitmentState, number> = { waiting: 0, requested: 0, resent: 0, committed: 0, failed: 0 };
    for (const row of this.counts.all(destination) as Array<{ state: CommitmentState; n: number }>) depth[row.state] = row.n;
    return depth;
  }
}

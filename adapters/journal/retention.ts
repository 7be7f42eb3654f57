/**
 * Retention: forget what is old, or the oldest until the database fits. Never forgets what is
 * still needed: a live outbound message, an inbound entry not yet published, nor the inbound
 * entry or result a live message came from (every outbound message traces back to its bytes).
 */
import type Database from 'better-sqlite3';
import { inboundIdFloor, inboundIdTime } from './ids';
import { LIVE_STATES_SQL } from './schema';
import type { Pruned, RetentionPolicy } from './types';

/** Rows per DELETE: keeps each transaction, and the event loop pause, short. */
const BATCH = 5000;
/** maxBytes: the age window shrinks in this many steps at most. */
const SIZE_STEPS = 32;

export class Retention {
  private readonly inbound: Database.Statement;
  private readonly outboundBoundary: Database.Statement;
  private readonly outbound: Database.Statement;
  private readonly resultsBoundary: Database.Statement;
  private readonly results: Database.Statement;
  private readonly oldestInbound: Database.Statement;
  private readonly oldestOutbound: Database.Statement;
  private readonly oldestResult: Database.Statement;
  private readonly orders: Database.Statement;
  private readonly oldestOrder: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.inbound = db.prepare(`DELETE FROM inbound WHERE id IN (
      SELECT id FROM inbound WHERE id < @floor
        AND NOT (publish_topic IS NOT NULL AND published_at IS NULL)
        AND id NOT IN (SELECT inbound_id FROM outbound INDEXED BY outbound_live WHERE ${LIVE_STATES_SQL} AND inbound_id IS NOT NULL)
      ORDER BY id LIMIT ${BATCH})`);
    // Ids grow with time: the first row created after the cutoff bounds the range to look at.
    this.outboundBoundary = db.prepare('SELECT id FROM outbound WHERE created_at >= ? ORDER BY id LIMIT 1').pluck();
    this.outbound = db.prepare(`DELETE FROM outbound WHERE id IN (
      SELECT id FROM outbound WHERE id < @boundary AND (state = 'accepted' OR state = 'dead') AND updated_at < @cutoff
      ORDER BY id LIMIT ${BATCH})`);
    this.resultsBoundary = db.prepare('SELECT seq FROM results WHERE recorded_at >= ? ORDER BY seq LIMIT 1').pluck();
    this.results = db.prepare(`DELETE FROM results WHERE seq IN (
      SELECT seq FROM results WHERE seq < @boundary AND recorded_at < @cutoff
        AND NOT EXISTS (SELECT 1 FROM outbound o WHERE o.result_id = results.id AND (o.state = 'pending' OR o.state = 'sent' OR o.state = 'waiting'))
      ORDER BY seq LIMIT ${BATCH})`);
    this.orders = db.prepare(`DELETE FROM orders WHERE seq IN (
      SELECT seq FROM orders INDEXED BY orders_indexed WHERE indexed_at < @cutoff ORDER BY indexed_at LIMIT ${BATCH})`);
    this.oldestOrder = db.prepare('SELECT min(indexed_at) FROM orders').pluck();
    this.oldestInbound = db.prepare('SELECT id FROM inbound ORDER BY id LIMIT 1').pluck();
    this.oldestOutbound = db.prepare('SELECT created_at FROM outbound ORDER BY id LIMIT 1').pluck();
    this.oldestResult = db.prepare('SELECT recorded_at FROM results ORDER BY seq LIMIT 1').pluck();
  }

  prune(policy: RetentionPolicy, now: number): Pruned {
    const pruned: Pruned = { inbound: 0, outbound: 0, results: 0, orders: 0 };
    if (policy.maxAgeMs !== undefined) this.olderThan(now - policy.maxAgeMs, pruned);
    if (policy.maxBytes !== undefined && this.usedBytes() > policy.maxBytes) {
      // Shorten the age window step by step until the data fits: the oldest goes first, whatever its table.
      const oldest = this.oldestTime(now);
      const step = Math.max(1, Math.ceil((now - oldest) / SIZE_STEPS));
      for (let cutoff = oldest; cutoff <= now && this.usedBytes() > policy.maxBytes;) {
        cutoff = Math.min(cutoff + step, now + 1);
        this.olderThan(cutoff, pruned);
      }
    }
    if (pruned.inbound + pruned.outbound + pruned.results + pruned.orders > 0) {
      // Give the freed pages back to the file system, and the write-ahead log its space.
      this.db.pragma('incremental_vacuum');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    }
    return pruned;
  }

  /** Pages in use (free pages excluded), in bytes. */
  usedBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  private olderThan(cutoff: number, pruned: Pruned): void {
    pruned.inbound += this.drain(this.inbound, { floor: inboundIdFloor(cutoff) });
    const outboundBoundary = (this.outboundBoundary.get(cutoff) as number | undefined) ?? Number.MAX_SAFE_INTEGER;
    pruned.outbound += this.drain(this.outbound, { boundary: outboundBoundary, cutoff });
    const resultsBoundary = (this.resultsBoundary.get(cutoff) as number | undefined) ?? Number.MAX_SAFE_INTEGER;
    pruned.results += this.drain(this.results, { boundary: resultsBoundary, cutoff });
    pruned.orders += this.drain(this.orders, { cutoff });
  }

  private drain(statement: Database.Statement, params: Record<string, unknown>): number {
    let total = 0;
    for (;;) {
      const { changes } = statement.run(params);
      total += changes;
      if (changes < BATCH) return total;
    }
  }

  private oldestTime(now: number): number {
    const inbound = this.oldestInbound.get() as string | undefined;
    const candidates = [
      inbound === undefined ? now : inboundIdTime(inbound),
      (this.oldestOutbound.get() as number | undefined) ?? now,
      (this.oldestResult.get() as number | undefined) ?? now,
      (this.oldestOrder.get() as number | null) ?? now,
    ];
    return Math.min(...candidates);
  }
}

/**
 * The durable queue of points for a time-series database (InfluxDB), one FIFO per channel (one
 * writer). Points are opaque text here: the writer renders and parses them. A point leaves the
 * queue when the database has it (delete) or when it refused it (set aside, with the error).
 */
import type Database from 'better-sqlite3';
import { pageSize } from './sql';
import type { PointCounts, QueuedPoint, SetAsidePoint } from './types';

/** Database errors can quote the whole line: keep what helps. */
const MAX_ERROR = 500;

export class MetricPointQueue {
  private readonly insert: Database.Statement;
  private readonly head: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly aside: Database.Statement;
  private readonly waiting: Database.Statement;
  private readonly setAside: Database.Statement;
  private readonly setAsideList: Database.Statement;

  constructor(db: Database.Database) {
    this.insert = db.prepare('INSERT INTO metric_points (channel, queued_at, point) VALUES (?, ?, ?)');
    this.head = db.prepare('SELECT id, point FROM metric_points WHERE channel = ? AND set_aside_at IS NULL ORDER BY id LIMIT ?');
    this.remove = db.prepare('DELETE FROM metric_points WHERE id = ? AND set_aside_at IS NULL');
    this.aside = db.prepare('UPDATE metric_points SET set_aside_at = ?, error = ? WHERE id = ? AND set_aside_at IS NULL');
    this.waiting = db.prepare('SELECT count(*) FROM metric_points WHERE channel = ? AND set_aside_at IS NULL').pluck();
    this.setAside = db.prepare('SELECT count(*) FROM metric_points WHERE channel = ? AND set_aside_at IS NOT NULL').pluck();
    this.setAsideList = db.prepare('SELECT id, point, set_aside_at, error FROM metric_points WHERE channel = ? AND set_aside_at IS NOT NULL ORDER BY id DESC LIMIT ?');
  }

  queue(channel: string, points: readonly string[], now: number): void {
    for (const point of points) this.insert.run(channel, now, point);
  }

  /** The oldest waiting points of a channel. */
  next(channel: string, limit: number): QueuedPoint[] {
    return this.head.all(channel, pageSize(limit)) as QueuedPoint[];
  }

  delete(ids: readonly number[]): void {
    for (const id of ids) this.remove.run(id);
  }

  markSetAside(ids: readonly number[], error: string, now: number): void {
    const text = error.length > MAX_ERROR ? `${error.slice(0, MAX_ERROR - 1)}…` : error;
    for (const id of ids) this.aside.run(now, text, id);
  }

  counts(channel: string): PointCounts {
    return { waiting: this.waiting.get(channel) as number, setAside: this.setAside.get(channel) as number };
  }

  /** Newest first. */
  listSetAside(channel: string, limit: number): SetAsidePoint[] {
    return (this.setAsideList.all(channel, pageSize(limit)) as Array<{ id: number; point: string; set_aside_at: number; error: string }>)
      .map((row) => ({ id: row.id, point: row.point, setAsideAt: row.set_aside_at, error: row.error }));
  }
}

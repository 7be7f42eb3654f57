/** The journal of inbound bytes: everything that came in, good or bad, kept raw. */
import type Database from 'better-sqlite3';
import { InboundIdGenerator } from './ids';
import { opt, pageSize } from './sql';
import type { InboundEntry, InboundInput, InboundQuery } from './types';

interface InboundRecord {
  id: string;
  received_at: number;
  channel: string;
  peer: string | null;
  content_type: string;
  status: InboundEntry['status'];
  error: string | null;
  result_id: string | null;
  publish_topic: string | null;
  published_at: number | null;
  raw: Buffer;
}

const COLUMNS = 'id, received_at, channel, peer, content_type, status, error, result_id, publish_topic, published_at, raw';

function toEntry(row: InboundRecord): InboundEntry {
  return {
    id: row.id,
    receivedAt: row.received_at,
    channel: row.channel,
    peer: opt(row.peer),
    contentType: row.content_type,
    status: row.status,
    error: opt(row.error),
    resultId: opt(row.result_id),
    publishTopic: opt(row.publish_topic),
    publishedAt: opt(row.published_at),
    raw: row.raw,
  };
}

export class InboundJournal {
  private readonly ids = new InboundIdGenerator();
  private readonly insert: Database.Statement;
  private readonly byId: Database.Statement;
  private readonly outbox: Database.Statement;
  private readonly channelOutbox: Database.Statement;
  private readonly published: Database.Statement;
  private readonly pendingChannels: Database.Statement;
  private readonly lists = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(`INSERT INTO inbound (${COLUMNS}) VALUES (@id, @received_at, @channel, @peer, @content_type, @status, @error, @result_id, @publish_topic, NULL, @raw)`);
    this.byId = db.prepare(`SELECT ${COLUMNS} FROM inbound WHERE id = ?`);
    this.outbox = db.prepare(`SELECT ${COLUMNS} FROM inbound WHERE publish_topic IS NOT NULL AND published_at IS NULL ORDER BY id LIMIT ?`);
    // The outbox index holds only unpublished entries: filtering them by channel is cheap.
    this.channelOutbox = db.prepare(`SELECT ${COLUMNS} FROM inbound INDEXED BY inbound_unpublished
      WHERE publish_topic IS NOT NULL AND published_at IS NULL AND channel = ? ORDER BY id LIMIT ?`);
    this.published = db.prepare('UPDATE inbound SET published_at = ? WHERE id = ? AND published_at IS NULL');
    this.pendingChannels = db.prepare(`SELECT DISTINCT channel FROM inbound INDEXED BY inbound_unpublished
      WHERE publish_topic IS NOT NULL AND published_at IS NULL AND substr(channel, 1, ?) = ?`);
  }

  journal(entry: InboundInput): string {
    if (entry.status !== 'accepted' && entry.status !== 'rejected') throw new TypeError(`inbound status must be accepted or rejected, got ${String(entry.status)}`);
    if (!Buffer.isBuffer(entry.raw)) throw new TypeError('inbound raw must be a Buffer');
    const now = Date.now();
    const id = this.ids.next(now);
    this.insert.run({
      id,
      received_at: now,
      channel: entry.channel,
      peer: entry.peer ?? null,
      content_type: entry.contentType,
      status: entry.status,
      error: entry.error ?? null,
      result_id: entry.resultId ?? null,
      publish_topic: entry.publishTopic ?? null,
      raw: entry.raw,
    });
    return id;
  }

  get(id: string): InboundEntry | undefined {
    const row = this.byId.get(id) as InboundRecord | undefined;
    return row && toEntry(row);
  }

  list(query: InboundQuery): InboundEntry[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: pageSize(query.limit) };
    if (query.status !== undefined) {
      if (query.status !== 'accepted' && query.status !== 'rejected') throw new TypeError(`inbound status must be accepted or rejected, got ${String(query.status)}`);
      // A literal, not a parameter: only then can SQLite use the partial index of rejected entries.
      where.push(`status = '${query.status}'`);
    }
    if (query.channel !== undefined) {
      where.push('channel = @channel');
      params.channel = query.channel;
    }
    if (query.before !== undefined) {
      where.push('id < @before');
      params.before = query.before;
    }
    const sql = `SELECT ${COLUMNS} FROM inbound${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    let statement = this.lists.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.lists.set(sql, statement);
    }
    return (statement.all(params) as InboundRecord[]).map(toEntry);
  }

  unpublished(limit: number, channel?: string): InboundEntry[] {
    const rows = channel === undefined ? this.outbox.all(pageSize(limit)) : this.channelOutbox.all(channel, pageSize(limit));
    return (rows as InboundRecord[]).map(toEntry);
  }

  channelsWithUnpublished(prefix: string): string[] {
    return (this.pendingChannels.all(prefix.length, prefix) as Array<{ channel: string }>).map((row) => row.channel);
  }

  markPublished(id: string): void {
    this.published.run(Date.now(), id);
  }
}

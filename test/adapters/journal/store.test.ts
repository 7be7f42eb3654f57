import { expect } from 'chai';
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONTROL_ID_MAX_LENGTH, DATABASE_FILE, INTERRUPTED_REASON, OutboundStateError, SCHEMA_VERSION, SchemaTooNewError, Store,
} from '../../../adapters/journal';
import { tempDir } from '../../support/net';
import { hl7Payload, openTempStore, type OpenedStore } from './helpers';

describe('journal store: opening', () => {
  let t: OpenedStore;
  afterEach(() => t.cleanup());

  it('creates the directory, the schema (with its migrations table) and runs in WAL mode, NORMAL by default', () => {
    t = openTempStore();
    const info = t.store.info();
    expect(info).to.include({ schemaVersion: SCHEMA_VERSION, durability: 'process-crash', journalMode: 'wal', synchronous: 'NORMAL' });
    expect(info.file).to.equal(join(t.dir, DATABASE_FILE));
    expect([t.store.dir, t.store.durability]).to.deep.equal([t.dir, 'process-crash']);
    t.store.journalInbound({ channel: 'c', contentType: 'x', raw: Buffer.from('patient data'), status: 'accepted' });
    for (const file of [DATABASE_FILE, `${DATABASE_FILE}-wal`]) {
      expect(statSync(join(t.dir, file)).mode & 0o777, `${file} is private to the hub's user`).to.equal(0o600);
    }
    t.store.close();
    const db = new Database(join(t.dir, DATABASE_FILE), { readonly: true });
    try {
      const migrations = db.prepare('SELECT version, name FROM schema_migrations').all() as Array<{ version: number; name: string }>;
      expect(migrations.map((m) => m.version)).to.deep.equal([1, 2, 3, 4, 5]);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      expect(tables).to.include.members(['inbound', 'outbound', 'results', 'orders', 'meta', 'schema_migrations', 'imaging_steps', 'performed_steps', 'imaging_studies', 'storage_commitments']);
    } finally {
      db.close();
    }
  });

  it("uses synchronous FULL for durability 'power-loss', and the stronger mode wins when a second opener asks for it", () => {
    t = openTempStore({ durability: 'power-loss' });
    expect(t.store.info()).to.include({ durability: 'power-loss', synchronous: 'FULL' });
    const { dir, remove } = tempDir();
    const weak = Store.open({ dir });
    expect(weak.info().synchronous).to.equal('NORMAL');
    const strong = Store.open({ dir, durability: 'power-loss' });
    expect(weak.info().synchronous).to.equal('FULL');
    strong.close();
    weak.close();
    remove();
  });

  it('applies each migration once: reopening keeps the data and one row per migration', () => {
    t = openTempStore();
    const id = t.store.journalInbound({ channel: 'test', contentType: 'text/plain', raw: Buffer.from('x'), status: 'accepted' });
    t.store.close();
    const again = t.reopen();
    expect(again.getInbound(id)?.raw.toString()).to.equal('x');
    again.close();
    const db = new Database(join(t.dir, DATABASE_FILE), { readonly: true });
    expect(db.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).to.equal(SCHEMA_VERSION);
    db.close();
  });

  it('refuses a database written by a newer schema instead of guessing', () => {
    t = openTempStore();
    t.store.close();
    const db = new Database(join(t.dir, DATABASE_FILE));
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(SCHEMA_VERSION + 1, 'from the future', Date.now());
    db.close();
    expect(() => t.reopen()).to.throw(SchemaTooNewError, new RegExp(`schema version ${SCHEMA_VERSION + 1}`));
  });

  it('shares one database per directory in the process; the last close closes it; a closed handle refuses work', () => {
    t = openTempStore();
    const second = t.reopen();
    const queued = t.store.enqueue({ destination: 'ehr', dedupeKey: 'r1', build: hl7Payload });
    expect(second.getOutbound(queued.id)?.controlId).to.equal(queued.controlId);
    t.store.close();
    t.store.close(); // twice is harmless, and does not release the other handle
    expect(second.getOutbound(queued.id)?.state).to.equal('pending');
    expect(() => t.store.getOutbound(queued.id)).to.throw(/closed/);
    second.close();
    const third = t.reopen();
    expect(third.getOutbound(queued.id)?.controlId).to.equal(queued.controlId);
  });
});

describe('journal store: inbound journal', () => {
  let t: OpenedStore;
  beforeEach(() => { t = openTempStore(); });
  afterEach(() => t.cleanup());

  it('keeps the raw bytes exactly, framing bytes and invalid UTF-8 included, with every field given', () => {
    const raw = Buffer.from([0x0b, 0x4d, 0x53, 0x48, 0xff, 0xfe, 0x00, 0xc3, 0x28, 0x1c, 0x0d]);
    const id = t.store.journalInbound({ channel: 'mllp:hl7-in', peer: '10.0.0.7:51234', contentType: 'application/hl7-v2', raw, status: 'rejected', error: 'MSH-9 missing', resultId: 'r-1', publishTopic: 'passerelle/v1/site/biology/dev/result' });
    const entry = t.store.getInbound(id)!;
    expect(entry.raw.equals(raw)).to.equal(true);
    expect(entry).to.include({ id, channel: 'mllp:hl7-in', peer: '10.0.0.7:51234', contentType: 'application/hl7-v2', status: 'rejected', error: 'MSH-9 missing', resultId: 'r-1', publishTopic: 'passerelle/v1/site/biology/dev/result' });
    expect(entry.publishedAt).to.equal(undefined);
    expect(entry.receivedAt).to.be.within(Date.now() - 5000, Date.now());
    expect(t.store.getInbound('no-such-id')).to.equal(undefined);
  });

  it('returns time-ordered unique ids', () => {
    const ids = Array.from({ length: 2000 }, (_, n) => t.store.journalInbound({ channel: 'c', contentType: 'text/plain', raw: Buffer.from(String(n)), status: 'accepted' }));
    expect(new Set(ids).size).to.equal(ids.length);
    expect([...ids].sort()).to.deep.equal(ids);
    expect(ids.every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).to.equal(true);
  });

  it('lists newest first, filters by status and channel, and pages with before', () => {
    const ids: string[] = [];
    for (let n = 0; n < 12; n++) {
      ids.push(t.store.journalInbound({ channel: n % 2 ? 'mllp:a' : 'mqtt:b', contentType: 'text/plain', raw: Buffer.from(String(n)), status: n % 3 === 0 ? 'rejected' : 'accepted' }));
    }
    const newest = [...ids].reverse();
    const page1 = t.store.listInbound({ limit: 5 });
    expect(page1.map((e) => e.id)).to.deep.equal(newest.slice(0, 5));
    const page2 = t.store.listInbound({ limit: 5, before: page1[4].id });
    expect(page2.map((e) => e.id)).to.deep.equal(newest.slice(5, 10));
    const page3 = t.store.listInbound({ limit: 5, before: page2[4].id });
    expect(page3.map((e) => e.id)).to.deep.equal(newest.slice(10));
    const rejected = t.store.listInbound({ status: 'rejected', limit: 50 });
    expect(rejected.map((e) => e.raw.toString())).to.deep.equal(['9', '6', '3', '0']);
    const rejectedB = t.store.listInbound({ status: 'rejected', channel: 'mqtt:b', limit: 50 });
    expect(rejectedB.map((e) => e.raw.toString())).to.deep.equal(['6', '0']);
    const accepted = t.store.listInbound({ status: 'accepted', channel: 'mllp:a', limit: 2 });
    expect(accepted.map((e) => e.raw.toString())).to.deep.equal(['11', '7']);
  });

  it('keeps an outbox: entries with a topic, oldest first, until marked published', () => {
    const a = t.store.journalInbound({ channel: 'c', contentType: 'x', raw: Buffer.from('a'), status: 'accepted', publishTopic: 't/a' });
    t.store.journalInbound({ channel: 'c', contentType: 'x', raw: Buffer.from('no topic'), status: 'accepted' });
    const b = t.store.journalInbound({ channel: 'c', contentType: 'x', raw: Buffer.from('b'), status: 'accepted', publishTopic: 't/b' });
    const c = t.store.journalInbound({ channel: 'c', contentType: 'x', raw: Buffer.from('c'), status: 'accepted', publishTopic: 't/c' });
    expect(t.store.unpublished(10).map((e) => e.id)).to.deep.equal([a, b, c]);
    expect(t.store.unpublished(2).map((e) => e.id)).to.deep.equal([a, b]);
    const other = t.store.journalInbound({ channel: 'other', contentType: 'x', raw: Buffer.from('o'), status: 'accepted', publishTopic: 't/o' });
    expect(t.store.unpublished(10, 'other').map((e) => e.id)).to.deep.equal([other]);
    t.store.markPublished(other);
    t.store.markPublished(b);
    t.store.markPublished(b);
    expect(t.store.unpublished(10).map((e) => e.id)).to.deep.equal([a, c]);
    expect(t.store.getInbound(b)?.publishedAt).to.be.a('number');
  });

  it('rejects a status it does not know', () => {
    expect(() => t.store.journalInbound({ channel: 'c', contentType: 'x', raw: Buffer.from('a'), status: 'maybe' as 'accepted' })).to.throw(TypeError);
  });
});

describe('journal store: outbound queues', () => {
  let t: OpenedStore;
  beforeEach(() => { t = openTempStore(); });
  afterEach(() => t.cleanup());

  const enqueue = (store: Store, destination: string, key: string, extra: { resultId?: string; inboundId?: string } = {}) =>
    store.enqueue({ destination, dedupeKey: key, build: (controlId) => hl7Payload(controlId, key), contentType: 'application/hl7-v2', ...extra });

  it('builds the payload once with the fresh control id, and stores it as given', () => {
    let calls = 0;
    const queued = t.store.enqueue({ destination: 'ehr', dedupeKey: 'r1', resultId: 'r1', inboundId: 'in-1', contentType: 'application/hl7-v2', build: (controlId) => { calls++; return hl7Payload(controlId); } });
    expect(calls).to.equal(1);
    expect(queued.duplicate).to.equal(false);
    const message = t.store.getOutbound(queued.id)!;
    expect(message).to.include({ destination: 'ehr', dedupeKey: 'r1', controlId: queued.controlId, state: 'pending', attempts: 0, nextAttemptAt: 0, resultId: 'r1', inboundId: 'in-1', contentType: 'application/hl7-v2' });
    expect(message.payload.toString()).to.contain(`|ORU^R01|${queued.controlId}|P|2.5`);
  });

  it('dedupes by key per destination: the first row comes back with duplicate=true and build is not called', () => {
    const first = enqueue(t.store, 'ehr', 'result-1');
    let built = false;
    const again = t.store.enqueue({ destination: 'ehr', dedupeKey: 'result-1', build: () => { built = true; return Buffer.from('other'); } });
    expect(again).to.deep.equal({ id: first.id, controlId: first.controlId, duplicate: true });
    expect(built).to.equal(false);
    const elsewhere = enqueue(t.store, 'gp', 'result-1');
    expect(elsewhere.duplicate).to.equal(false);
    expect(elsewhere.id).to.not.equal(first.id);
    expect(t.store.listOutbound({ limit: 10 })).to.have.length(2);
  });

  it('is strictly FIFO per destination: a head waiting for its retry holds everything behind it', () => {
    const a = enqueue(t.store, 'ehr', 'a');
    const b = enqueue(t.store, 'ehr', 'b');
    const other = enqueue(t.store, 'gp', 'x');
    expect(t.store.nextDue('ehr', 1000)?.id).to.equal(a.id);
    expect(t.store.nextDue('ehr', 1000, 1)?.id).to.equal(b.id);
    expect(t.store.nextDue('ehr', 1000, 2)).to.equal(undefined);
    t.store.markSent(a.id, 1000);
    t.store.markRetry(a.id, 'AE: try later', 5000, true);
    expect(t.store.nextDue('ehr', 4999)).to.equal(undefined);
    expect(t.store.nextDue('ehr', 4999, 1)).to.equal(undefined);
    expect(t.store.nextDue('gp', 4999)?.id).to.equal(other.id); // other queues do not wait
    expect(t.store.nextDue('ehr', 5000)?.id).to.equal(a.id);
    t.store.markSent(a.id, 5000);
    // A message in flight is not offered again; the next one is (a pipelining worker sends it).
    expect(t.store.nextDue('ehr', 5000)?.id).to.equal(b.id);
    t.store.markAccepted(a.id, { code: 'AA', raw: Buffer.from('MSA|AA') }, 5001);
    expect(t.store.nextDue('ehr', 5001)?.id).to.equal(b.id);
  });

  it('records each state change with its attempts, reason and ACK', () => {
    const a = enqueue(t.store, 'ehr', 'a');
    t.store.markSent(a.id, 100);
    expect(t.store.getOutbound(a.id)).to.include({ state: 'sent', attempts: 1, sentAt: 100, updatedAt: 100 });
    t.store.markRetry(a.id, 'no ACK within 30000 ms', 2000, true);
    expect(t.store.getOutbound(a.id)).to.include({ state: 'waiting', attempts: 1, nextAttemptAt: 2000, lastError: 'no ACK within 30000 ms' });
    t.store.markSent(a.id, 2000);
    t.store.markRetry(a.id, 'destination unreachable', 3000, false);
    expect(t.store.getOutbound(a.id)).to.include({ state: 'waiting', attempts: 1, nextAttemptAt: 3000 }, 'a send that reached nobody gives its attempt back');
    t.store.markSent(a.id, 3000);
    t.store.markAccepted(a.id, { code: 'AA', raw: Buffer.from('MSA|AA|x') }, 3100);
    const accepted = t.store.getOutbound(a.id)!;
    expect(accepted).to.include({ state: 'accepted', attempts: 2, ackCode: 'AA', updatedAt: 3100 });
    expect(accepted.lastError).to.equal(undefined);
    expect(accepted.ackRaw?.toString()).to.equal('MSA|AA|x');
    const b = enqueue(t.store, 'ehr', 'b');
    t.store.markSent(b.id, 4000);
    t.store.markDead(b.id, 'AR: unknown patient class', 4100);
    expect(t.store.getOutbound(b.id)).to.include({ state: 'dead', attempts: 1, lastError: 'AR: unknown patient class', updatedAt: 4100 });
  });

  it('refuses impossible transitions with a clear error', () => {
    const a = enqueue(t.store, 'ehr', 'a');
    expect(() => t.store.resend(a.id)).to.throw(OutboundStateError, 'outbound message 1 is pending: cannot re-send it');
    t.store.markSent(a.id, 1);
    expect(() => t.store.markSent(a.id, 2)).to.throw(OutboundStateError, /is sent: cannot mark it sent/);
    t.store.markAccepted(a.id, { code: 'AA' }, 3);
    expect(() => t.store.markRetry(a.id, 'x', 4, true)).to.throw(OutboundStateError, /is accepted/);
    expect(() => t.store.markDead(a.id, 'x', 4)).to.throw(OutboundStateError, /is accepted/);
    expect(() => t.store.markAccepted(999, { code: 'AA' }, 4)).to.throw(OutboundStateError, 'no outbound message 999');
  });

  it('re-sends a final message: same control id and payload, back to pending, attempts and ACK reset', () => {
    const a = enqueue(t.store, 'ehr', 'a');
    const before = t.store.getOutbound(a.id)!;
    t.store.markSent(a.id, 1);
    t.store.markAccepted(a.id, { code: 'AA', raw: Buffer.from('ack') }, 2);
    t.store.resend(a.id);
    const again = t.store.getOutbound(a.id)!;
    expect(again).to.include({ state: 'pending', attempts: 0, nextAttemptAt: 0, controlId: a.controlId });
    expect(again.ackCode).to.equal(undefined);
    expect(again.ackRaw).to.equal(undefined);
    expect(again.payload.equals(before.payload)).to.equal(true);
    expect(t.store.nextDue('ehr', 3)?.id).to.equal(a.id);
  });

  it('finds by control id, lists with filters newest first, pages by id, and counts the depth', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'].map((key, n) => enqueue(t.store, n < 4 ? 'ehr' : 'gp', key, { resultId: `r-${key}` }));
    t.store.markSent(ids[0].id, 1);
    t.store.markAccepted(ids[0].id, { code: 'AA' }, 2);
    t.store.markSent(ids[1].id, 3);
    t.store.markDead(ids[1].id, 'AE', 4);
    t.store.markSent(ids[2].id, 5);
    expect(t.store.findByControlId(ids[2].controlId)?.id).to.equal(ids[2].id);
    expect(t.store.findByControlId('P-unknown')).to.equal(undefined);
    expect(t.store.listOutbound({ limit: 10 }).map((m) => m.id)).to.deep.equal([5, 4, 3, 2, 1]);
    expect(t.store.listOutbound({ limit: 2, beforeId: 4 }).map((m) => m.id)).to.deep.equal([3, 2]);
    expect(t.store.listOutbound({ destination: 'ehr', limit: 10 }).map((m) => m.id)).to.deep.equal([4, 3, 2, 1]);
    expect(t.store.listOutbound({ state: 'dead', limit: 10 }).map((m) => m.id)).to.deep.equal([2]);
    expect(t.store.listOutbound({ state: 'dead', destination: 'gp', limit: 10 })).to.deep.equal([]);
    expect(t.store.listOutbound({ state: 'pending', limit: 10 }).map((m) => m.id)).to.deep.equal([5, 4]);
    expect(t.store.listOutbound({ state: 'pending', destination: 'ehr', limit: 10 }).map((m) => m.id)).to.deep.equal([4]);
    expect(t.store.listOutbound({ state: 'accepted', destination: 'ehr', limit: 10 }).map((m) => m.id)).to.deep.equal([1]);
    expect(t.store.listOutbound({ resultId: 'r-c', limit: 10 }).map((m) => m.controlId)).to.deep.equal([ids[2].controlId]);
    expect(t.store.depth('ehr')).to.deep.equal({ pending: 1, waiting: 0, sent: 1, dead: 1 });
    expect(t.store.depth('gp')).to.deep.equal({ pending: 1, waiting: 0, sent: 0, dead: 0 });
    expect(t.store.depth('nowhere')).to.deep.equal({ pending: 0, waiting: 0, sent: 0, dead: 0 });
    expect(() => t.store.listOutbound({ state: 'lost' as 'dead', limit: 1 })).to.throw(TypeError);
  });

  it("after a restart, a message left 'sent' is due again with the same control id, its attempt kept", () => {
    const a = enqueue(t.store, 'ehr', 'a');
    t.store.markSent(a.id, 10);
    t.store.close();
    const again = t.reopen();
    const message = again.getOutbound(a.id)!;
    expect(message).to.include({ state: 'waiting', attempts: 1, controlId: a.controlId, nextAttemptAt: 0, lastError: INTERRUPTED_REASON });
    expect(again.nextDue('ehr', 0)?.controlId).to.equal(a.controlId);
  });

  it('runs several writes as one transaction, all or nothing', () => {
    const ok = t.store.transaction(() => {
      const inboundId = t.store.journalInbound({ channel: 'c', contentType: 'x', raw: Buffer.from('r'), status: 'accepted' });
      return t.store.enqueue({ destination: 'ehr', dedupeKey: 'k1', inboundId, build: hl7Payload });
    });
    expect(t.store.getOutbound(ok.id)?.inboundId).to.be.a('string');
    expect(() => t.store.transaction(() => {
      t.store.journalInbound({ channel: 'c', contentType: 'x', raw: Buffer.from('lost'), status: 'accepted' });
      enqueue(t.store, 'ehr', 'k2');
      throw new Error('encoder failed');
    })).to.throw('encoder failed');
    expect(t.store.listInbound({ limit: 10 })).to.have.length(1);
    expect(t.store.listOutbound({ limit: 10 }).map((m) => m.dedupeKey)).to.deep.equal(['k1']);
  });
});

describe('journal store: control ids', () => {
  let t: OpenedStore;
  const realNow = Date.now;
  afterEach(() => {
    Date.now = realNow;
    t.cleanup();
  });

  it('are unique, ASCII, at most 20 characters (MSH-10), and never reused after a reopen, even with the clock set back', () => {
    t = openTempStore();
    const seen = new Set<string>();
    const mint = (store: Store, prefix: string, count: number) => {
      for (let n = 0; n < count; n++) {
        const { controlId } = store.enqueue({ destination: 'ehr', dedupeKey: `${prefix}-${n}`, build: hl7Payload });
        expect(controlId).to.match(/^[\x21-\x7e]+$/);
        expect(controlId.length).to.be.at.most(CONTROL_ID_MAX_LENGTH);
        expect(seen.has(controlId), `${controlId} reused`).to.equal(false);
        seen.add(controlId);
      }
    };
    mint(t.store, 'first', 3000);
    const lastBefore = t.store.listOutbound({ limit: 1 })[0].controlId;
    t.store.close();
    // The machine's clock went back an hour while the hub was down.
    Date.now = () => realNow() - 3_600_000;
    const again = t.reopen();
    mint(again, 'second', 3000);
    const firstAfter = again.listOutbound({ limit: 1, beforeId: 3002 })[0].controlId;
    expect(firstAfter > lastBefore, 'ids keep growing across the restart').to.equal(true);
    expect(seen.size).to.equal(6000);
  });

  it('differ between two stores minted in the same millisecond (a tag per store)', () => {
    t = openTempStore();
    const other = tempDir();
    const second = Store.open({ dir: other.dir });
    Date.now = () => 1_790_000_000_000;
    const a = t.store.enqueue({ destination: 'ehr', dedupeKey: 'k', build: hl7Payload }).controlId;
    const b = second.enqueue({ destination: 'ehr', dedupeKey: 'k', build: hl7Payload }).controlId;
    Date.now = realNow;
    second.close();
    other.remove();
    expect(a).to.not.equal(b);
    expect(a.slice(0, 9)).to.equal(b.slice(0, 9)); // same time part, told apart by the tag
  });
});

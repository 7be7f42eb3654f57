import { expect } from 'chai';
import { backoffDelay, DeliveryWorker, systemClock, type DeliveryEvent, type DeliveryWorkerOptions } from '../../../adapters/delivery';
import { INTERRUPTED_REASON, type Store } from '../../../adapters/journal';
import { hl7Payload, openTempStore, type OpenedStore } from '../journal/helpers';
import { ackInfo, FakeClock, FakeConnectionError, FakeTimeoutError, FakeTransport, settle } from './fakes';

interface Rig {
  t: OpenedStore;
  store: Store;
  clock: FakeClock;
  transport: FakeTransport;
  worker: DeliveryWorker;
  events: DeliveryEvent[];
  /** Enqueues for the rig's destination; the key is also the result id. */
  enqueue(key: string, destination?: string): { id: number; controlId: string };
  state(controlId: string): { state: string; attempts: number; lastError?: string; nextAttemptAt: number; ackCode?: string };
  /** "state controlId-key" of each event, for compact sequence checks. */
  trail(): string[];
}

const rigs: Rig[] = [];

function rig(options: Partial<DeliveryWorkerOptions> = {}, existing?: OpenedStore): Rig {
  const t = existing ?? openTempStore();
  const store = options.store ?? t.store;
  const clock = (options.clock as FakeClock | undefined) ?? new FakeClock();
  const transport = new FakeTransport(clock);
  const worker = new DeliveryWorker({ store, destination: 'ehr', transport, clock, ...options });
  const events: DeliveryEvent[] = [];
  worker.on('delivery', (event: DeliveryEvent) => events.push(event));
  const keys = new Map<string, string>();
  const r: Rig = {
    t, store, clock, transport, worker, events,
    enqueue: (key, destination = 'ehr') => {
      const queued = store.enqueue({ destination, dedupeKey: key, resultId: key, build: (controlId) => hl7Payload(controlId, key) });
      keys.set(queued.controlId, key);
      return queued;
    },
    state: (controlId) => {
      const m = store.findByControlId(controlId)!;
      return { state: m.state, attempts: m.attempts, lastError: m.lastError, nextAttemptAt: m.nextAttemptAt, ackCode: m.ackCode };
    },
    trail: () => events.map((e) => `${e.state} ${keys.get(e.controlId) ?? e.controlId}`),
  };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    r.worker.removeAllListeners('delivery');
    void r.worker.stop();
    r.t.cleanup();
  }
});

describe('delivery worker: acknowledgements', () => {
  it('AA: accepted; one message at a time, in order, each with its own control id and payload', async () => {
    const r = rig();
    const a = r.enqueue('a');
    const b = r.enqueue('b');
    const c = r.enqueue('c');
    r.worker.start();
    await settle();
    expect(r.transport.sentIds).to.deep.equal([a.controlId]);
    expect(r.transport.sends[0].payload.equals(r.store.getOutbound(a.id)!.payload)).to.equal(true);
    expect(r.transport.sends[0].timeoutMs).to.equal(30_000);
    expect(r.state(a.controlId)).to.include({ state: 'sent', attempts: 1 });
    expect(r.state(b.controlId)).to.include({ state: 'pending', attempts: 0 });

    r.transport.ack(a.controlId);
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'accepted', attempts: 1, ackCode: 'AA' });
    expect(r.store.getOutbound(a.id)!.ackRaw?.toString()).to.contain(`MSA|AA|${a.controlId}`);
    expect(r.transport.sentIds).to.deep.equal([a.controlId, b.controlId]);

    r.transport.ack(b.controlId);
    await settle();
    r.transport.ack(c.controlId);
    await settle();
    expect(r.trail()).to.deep.equal(['sent a', 'accepted a', 'sent b', 'accepted b', 'sent c', 'accepted c']);
    const accepted = r.events[5];
    expect(accepted).to.deep.equal({ destination: 'ehr', outboundId: c.id, controlId: c.controlId, resultId: 'c', state: 'accepted', ackCode: 'AA', attempts: 1, at: r.clock.now() });
    expect(r.worker.status).to.deep.equal({ connected: true, inFlight: 0, lastAckAt: r.clock.now() });
    expect(r.store.depth('ehr')).to.deep.equal({ pending: 0, waiting: 0, sent: 0, dead: 0 });
  });

  it('AE: retried after 1 s, 2 s, 4 s, 8 s, then dead-lettered with the MSA-3 text; the next message then goes', async () => {
    const r = rig();
    const a = r.enqueue('a');
    const b = r.enqueue('b');
    r.worker.start();
    await settle();
    const delays = [1000, 2000, 4000, 8000];
    for (let attempt = 1; attempt <= 4; attempt++) {
      r.transport.ack(a.controlId, 'AE', 'Unknown test code GLU^99X');
      await settle();
      const now = r.clock.now();
      expect(r.state(a.controlId)).to.deep.include({ state: 'waiting', attempts: attempt, lastError: 'AE: Unknown test code GLU^99X', nextAttemptAt: now + delays[attempt - 1] });
      expect(r.events.at(-1)).to.deep.include({ state: 'rejected', ackCode: 'AE', reason: 'AE: Unknown test code GLU^99X', attempts: attempt, nextAttemptAt: now + delays[attempt - 1] });
      await r.clock.advance(delays[attempt - 1] - 1);
      expect(r.transport.sends).to.have.length(attempt, 'nothing before the retry is due, and nothing behind the head');
      await r.clock.advance(1);
      expect(r.transport.sentIds).to.deep.equal(Array(attempt + 1).fill(a.controlId));
    }
    expect(r.transport.sends.every((s) => s.payload.equals(r.transport.sends[0].payload))).to.equal(true);
    r.transport.ack(a.controlId, 'AE', 'Unknown test code GLU^99X');
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'dead', attempts: 5, lastError: 'AE: Unknown test code GLU^99X' });
    expect(r.events.find((e) => e.state === 'dead')).to.deep.include({ controlId: a.controlId, ackCode: 'AE', reason: 'AE: Unknown test code GLU^99X', attempts: 5 });
    expect(r.transport.sentIds.at(-1)).to.equal(b.controlId);
    r.transport.ack(b.controlId);
    await settle();
    expect(r.state(b.controlId)).to.include({ state: 'accepted', attempts: 1 });
    expect(r.store.depth('ehr')).to.deep.equal({ pending: 0, waiting: 0, sent: 0, dead: 1 });
  });

  it('AR and CE are negative, the reason naming the code when the peer gave no text; CA accepts', async () => {
    const r = rig();
    const a = r.enqueue('a');
    r.worker.start();
    await settle();
    r.transport.ack(a.controlId, 'AR');
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'waiting', attempts: 1, lastError: 'AR (application reject)' });
    expect(r.events.at(-1)).to.deep.include({ state: 'rejected', ackCode: 'AR' });
    await r.clock.advance(1000);
    r.transport.ack(a.controlId, 'CE');
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'waiting', attempts: 2, lastError: 'CE (commit error)' });
    await r.clock.advance(2000);
    r.transport.ack(a.controlId, 'CA');
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'accepted', attempts: 3, ackCode: 'CA' });
    expect(r.state(a.controlId).lastError).to.equal(undefined);
  });

  it('follows the configured back-off, capped at maxMs', async () => {
    const r = rig({ maxAttempts: 7, backoff: { initialMs: 500, maxMs: 3000, factor: 3 } });
    const a = r.enqueue('a');
    r.worker.start();
    await settle();
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      r.transport.ack(a.controlId, 'AE');
      await settle();
      const wait = r.state(a.controlId).nextAttemptAt - r.clock.now();
      waits.push(wait);
      await r.clock.advance(wait);
    }
    expect(waits).to.deep.equal([500, 1500, 3000, 3000, 3000, 3000]);
    expect(backoffDelay({ initialMs: 1000, maxMs: 300_000, factor: 2 }, 2000)).to.equal(300_000);
  });
});

describe('delivery worker: timeouts and connections', () => {
  it('a timeout counts as an attempt: retried with the same control id, dead after maxAttempts', async () => {
    const r = rig({ maxAttempts: 3, ackTimeoutMs: 10_000 });
    const a = r.enqueue('a');
    r.worker.start();
    await settle();
    expect(r.transport.sends[0].timeoutMs).to.equal(10_000);
    r.transport.fail(a.controlId, new FakeTimeoutError());
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'waiting', attempts: 1, lastError: 'no ACK within 10000 ms' });
    expect(r.events.at(-1)).to.deep.include({ state: 'retrying', attempts: 1, reason: 'no ACK within 10000 ms', nextAttemptAt: r.clock.now() + 1000 });
    await r.clock.advance(1000);
    r.transport.fail(a.controlId, new FakeTimeoutError());
    await settle();
    await r.clock.advance(2000);
    r.transport.fail(a.controlId, new FakeTimeoutError());
    await settle();
    expect(r.transport.sentIds).to.deep.equal([a.controlId, a.controlId, a.controlId]);
    expect(r.state(a.controlId)).to.include({ state: 'dead', attempts: 3, lastError: 'no ACK within 10000 ms' });
  });

  it('gives up on a transport that never answers, a little after the ACK timeout, and credits its answer if it comes later', async () => {
    const r = rig({ ackTimeoutMs: 5000 });
    const a = r.enqueue('a');
    const b = r.enqueue('b');
    r.worker.start();
    await settle();
    await r.clock.advance(5999);
    expect(r.state(a.controlId).state).to.equal('sent');
    await r.clock.advance(1);
    expect(r.state(a.controlId)).to.include({ state: 'waiting', attempts: 1 });
    expect(r.events.at(-1)).to.deep.include({ state: 'retrying', controlId: a.controlId });
    r.transport.ack(a.controlId); // the transport finally answers
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'accepted', attempts: 1, ackCode: 'AA' });
    expect(r.transport.sentIds).to.deep.equal([a.controlId, b.controlId]);
  });

  it('a connection lost after the bytes left counts as an attempt', async () => {
    const r = rig();
    const a = r.enqueue('a');
    r.worker.start();
    await settle();
    r.transport.fail(a.controlId, new FakeConnectionError(true));
    await settle();
    expect(r.state(a.controlId).attempts).to.equal(1);
    expect(r.state(a.controlId).lastError).to.match(/^connection lost after sending/);
    expect(r.worker.status.connected).to.equal(false);
  });

  it('unreachable: no attempt counted however long it lasts, one event per outage, back-off capped, the queue waits', async () => {
    const r = rig({ maxAttempts: 2, backoff: { initialMs: 1000, maxMs: 8000, factor: 2 } });
    const a = r.enqueue('a');
    const b = r.enqueue('b');
    r.worker.start();
    await settle();
    const waits: number[] = [];
    for (let refused = 1; refused <= 8; refused++) {
      r.transport.fail(a.controlId, new FakeConnectionError(false));
      await settle();
      const s = r.state(a.controlId);
      expect(s).to.include({ state: 'waiting', attempts: 0 });
      waits.push(s.nextAttemptAt - r.clock.now());
      await r.clock.advance(s.nextAttemptAt - r.clock.now());
    }
    expect(waits).to.deep.equal([1000, 2000, 4000, 8000, 8000, 8000, 8000, 8000]);
    expect(r.transport.sentIds).to.deep.equal(Array(9).fill(a.controlId), 'b waits behind a');
    expect(r.trail()).to.deep.equal(['sent a', 'unreachable a']);
    expect(r.events[1]).to.deep.include({ attempts: 0, reason: 'destination unreachable (MllpConnectionError: connect ECONNREFUSED 127.0.0.1:2575)' });
    expect(r.worker.status).to.deep.include({ connected: false, inFlight: 1 });
    expect(r.worker.status.lastError).to.match(/^destination unreachable/);

    r.transport.ack(a.controlId);
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'accepted', attempts: 1 });
    expect(r.worker.status.connected).to.equal(true);
    expect(r.transport.sentIds.at(-1)).to.equal(b.controlId);
    // A new outage is news again, and its back-off starts over.
    r.transport.fail(b.controlId, new FakeConnectionError(false));
    await settle();
    expect(r.trail().slice(2)).to.deep.equal(['accepted a', 'sent b', 'unreachable b']);
    expect(r.state(b.controlId).nextAttemptAt - r.clock.now()).to.equal(1000);
  });

  it('an unknown transport error counts and is reported on error', async () => {
    const r = rig();
    const errors: Error[] = [];
    r.worker.on('error', (err: Error) => errors.push(err));
    const a = r.enqueue('a');
    r.worker.start();
    await settle();
    r.transport.fail(a.controlId, new TypeError('payload too large'));
    await settle();
    expect(errors.map((e) => e.message)).to.deep.equal(['payload too large']);
    expect(r.state(a.controlId)).to.include({ state: 'waiting', attempts: 1, lastError: 'transport error (TypeError: payload too large)' });
  });
});

describe('delivery worker: late ACKs', () => {
  it('credits the message the late ACK names, never the one in flight', async () => {
    const r = rig({ window: 2 });
    const a = r.enqueue('a');
    const b = r.enqueue('b');
    const c = r.enqueue('c');
    r.worker.start();
    await settle();
    expect(r.transport.inFlight).to.deep.equal([a.controlId, b.controlId]);
    r.transport.fail(a.controlId, new FakeTimeoutError());
    await settle();
    expect(r.transport.inFlight).to.deep.equal([b.controlId], 'c waits behind a, which waits for its retry');
    r.transport.lateAck(a.controlId, 'AA');
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'accepted', attempts: 1, ackCode: 'AA' });
    expect(r.events.find((e) => e.state === 'accepted')).to.deep.include({ controlId: a.controlId, reason: 'late ACK' });
    expect(r.state(b.controlId)).to.include({ state: 'sent', attempts: 1 }, 'b is not credited');
    expect(r.transport.inFlight).to.deep.equal([b.controlId, c.controlId], 'a no longer holds the queue');
    expect(r.transport.sentIds.filter((id) => id === a.controlId)).to.have.length(1, 'a is not sent again');
    r.transport.ack(b.controlId, 'AE', 'bad PID');
    await settle();
    expect(r.state(b.controlId)).to.include({ state: 'waiting', lastError: 'AE: bad PID' });
  });

  it('ignores a late ACK for a final message, an unknown one, another destination, or the one in flight', async () => {
    const r = rig();
    const a = r.enqueue('a');
    const b = r.enqueue('b');
    const elsewhere = r.enqueue('x', 'gp');
    r.worker.start();
    await settle();
    r.transport.fail(a.controlId, new FakeTimeoutError());
    await settle();
    await r.clock.advance(1000);
    r.transport.ack(a.controlId);
    await settle();
    expect(r.transport.inFlight).to.deep.equal([b.controlId]);
    const before = r.events.length;
    r.transport.lateAck(a.controlId, 'AE', 'answer to the first attempt'); // a is accepted: final
    r.transport.lateAck('P-NOT-OURS', 'AA');
    r.transport.lateAck(elsewhere.controlId, 'AA');
    r.transport.lateAck(b.controlId, 'AA'); // in flight: its own send settles it
    await settle();
    expect(r.events.length).to.equal(before);
    expect(r.state(a.controlId)).to.include({ state: 'accepted', ackCode: 'AA', attempts: 2 });
    expect(r.state(b.controlId)).to.include({ state: 'sent', attempts: 1 });
    expect(r.state(elsewhere.controlId).state).to.equal('pending');
    r.transport.ack(b.controlId, 'AR', 'duplicate');
    await settle();
    expect(r.state(b.controlId)).to.include({ state: 'waiting', lastError: 'AR: duplicate' });
  });

  it('a late negative ACK records the reason and keeps the planned retry, without counting twice', async () => {
    const r = rig();
    const a = r.enqueue('a');
    r.worker.start();
    await settle();
    r.transport.fail(a.controlId, new FakeTimeoutError());
    await settle();
    const planned = r.state(a.controlId).nextAttemptAt;
    r.transport.lateAck(a.controlId, 'AE', 'OBX-5 not numeric');
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'waiting', attempts: 1, lastError: 'AE: OBX-5 not numeric', nextAttemptAt: planned });
    expect(r.events.at(-1)).to.deep.include({ state: 'rejected', ackCode: 'AE', attempts: 1 });
    await r.clock.advance(planned - r.clock.now());
    expect(r.transport.sentIds).to.deep.equal([a.controlId, a.controlId]);
  });
});

describe('delivery worker: pipelining, re-sending, restart, stop', () => {
  it('window 3: sends consecutive messages without waiting and matches out-of-order ACKs by control id', async () => {
    const r = rig({ window: 3 });
    const m = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'].map((key) => r.enqueue(key));
    r.worker.start();
    await settle();
    expect(r.transport.inFlight).to.deep.equal([m[0], m[1], m[2]].map((x) => x.controlId));
    expect(r.worker.status.inFlight).to.equal(3);
    for (const [acked, thenInFlight] of [[2, [0, 1, 3]], [0, [1, 3, 4]], [1, [3, 4, 5]], [5, [3, 4]], [3, [4]], [4, []]] as const) {
      r.transport.ack(m[acked].controlId);
      await settle();
      expect(r.state(m[acked].controlId)).to.include({ state: 'accepted', attempts: 1 });
      expect(r.transport.inFlight).to.deep.equal(thenInFlight.map((i) => m[i].controlId));
    }
    expect(r.transport.sentIds).to.deep.equal(m.map((x) => x.controlId), 'sent in FIFO order, each once');
    expect(r.events.filter((e) => e.state === 'accepted').map((e) => e.resultId)).to.deep.equal(['m3', 'm1', 'm2', 'm6', 'm4', 'm5']);
  });

  it('re-sends an accepted message with the same control id and payload when asked', async () => {
    const r = rig();
    const a = r.enqueue('a');
    r.worker.start();
    await settle();
    r.transport.ack(a.controlId);
    await settle();
    r.store.resend(a.id);
    r.worker.kick();
    await settle();
    expect(r.transport.sentIds).to.deep.equal([a.controlId, a.controlId]);
    expect(r.transport.sends[1].payload.equals(r.transport.sends[0].payload)).to.equal(true);
    expect(r.state(a.controlId)).to.include({ state: 'sent', attempts: 1 });
    r.transport.ack(a.controlId);
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'accepted', attempts: 1 });
    expect(r.trail()).to.deep.equal(['sent a', 'accepted a', 'sent a', 'accepted a']);
  });

  it('a kicked worker sends what was enqueued after it went idle', async () => {
    const r = rig();
    r.worker.start();
    await settle();
    const a = r.enqueue('a');
    r.worker.kick();
    await settle();
    expect(r.transport.sentIds).to.deep.equal([a.controlId]);
    // Without a kick, the idle poll finds it.
    r.transport.ack(a.controlId);
    await settle();
    const b = r.enqueue('b');
    await r.clock.advance(5000);
    expect(r.transport.sentIds).to.deep.equal([a.controlId, b.controlId]);
  });

  it('restart: a message in flight at the crash goes again with its control id, then the rest', async () => {
    const first = rig();
    const a = first.enqueue('a');
    const b = first.enqueue('b');
    first.worker.start();
    await settle();
    expect(first.transport.inFlight).to.deep.equal([a.controlId]);
    // The process dies: no stop(), no ACK; the database is all that is left.
    first.store.close();

    const store = first.t.reopen();
    expect(store.getOutbound(a.id)).to.include({ state: 'waiting', attempts: 1, lastError: INTERRUPTED_REASON });
    const second = rig({ store }, first.t);
    second.worker.start();
    await settle();
    expect(second.transport.sentIds).to.deep.equal([a.controlId]);
    expect(second.transport.sends[0].payload.equals(first.transport.sends[0].payload)).to.equal(true);
    second.transport.ack(a.controlId);
    await settle();
    expect(store.getOutbound(a.id)).to.include({ state: 'accepted', attempts: 2 });
    expect(second.transport.sentIds).to.deep.equal([a.controlId, b.controlId]);
    second.transport.ack(b.controlId);
    await settle();
    expect(store.getOutbound(b.id)).to.include({ state: 'accepted', attempts: 1 });
  });

  it('stop() waits for the message in flight and takes no new one', async () => {
    const r = rig();
    const a = r.enqueue('a');
    r.enqueue('b');
    r.worker.start();
    await settle();
    let stopped = false;
    const stopping = r.worker.stop().then(() => { stopped = true; });
    await settle();
    expect(stopped).to.equal(false);
    r.transport.ack(a.controlId);
    await stopping;
    expect(r.state(a.controlId).state).to.equal('accepted');
    r.worker.kick();
    await r.clock.advance(60_000);
    expect(r.transport.sentIds).to.deep.equal([a.controlId]);
    expect(r.transport.listenerCount('lateAck')).to.equal(0);
    // Started again, it goes on where it stopped.
    r.worker.start();
    r.worker.start();
    await settle();
    expect(r.transport.listenerCount('lateAck')).to.equal(1);
    expect(r.transport.sentIds).to.deep.equal([a.controlId, r.store.listOutbound({ limit: 1 })[0].controlId]);
  });

  it('stop() is bounded by the ACK timeout when the transport never answers; the message goes again at the next start', async () => {
    const r = rig({ ackTimeoutMs: 2000 });
    const a = r.enqueue('a');
    r.worker.start();
    await settle();
    let stopped = false;
    void r.worker.stop().then(() => { stopped = true; });
    await r.clock.advance(2999);
    expect(stopped).to.equal(false);
    await r.clock.advance(1);
    expect(stopped).to.equal(true);
    expect(r.state(a.controlId)).to.include({ state: 'waiting', attempts: 1 });
  });
});

describe('delivery worker: robustness', () => {
  it('tells each event only once its state is in the store, and survives a listener that throws', async () => {
    const r = rig();
    const seen: string[] = [];
    const errors: Error[] = [];
    r.worker.on('error', (err: Error) => errors.push(err));
    r.worker.on('delivery', (event: DeliveryEvent) => {
      const stored = r.store.getOutbound(event.outboundId)!.state;
      seen.push(`${event.state}:${stored}`);
      if (event.state === 'sent') throw new Error('listener bug');
    });
    const a = r.enqueue('a');
    const b = r.enqueue('b');
    r.worker.start();
    await settle();
    r.transport.ack(a.controlId, 'AE');
    await settle();
    await r.clock.advance(1000);
    r.transport.ack(a.controlId);
    await settle();
    r.transport.ack(b.controlId);
    await settle();
    expect(seen).to.deep.equal(['sent:sent', 'rejected:waiting', 'sent:sent', 'accepted:accepted', 'sent:sent', 'accepted:accepted']);
    expect(r.state(b.controlId).state).to.equal('accepted');
    expect(errors.map((e) => e.message)).to.deep.equal(['listener bug', 'listener bug', 'listener bug']);
  });

  it('a transport that throws at send is an error that counts, not a crash', async () => {
    const r = rig();
    const errors: Error[] = [];
    r.worker.on('error', (err: Error) => errors.push(err));
    const a = r.enqueue('a');
    r.transport.throwOnSend = new RangeError('socket not writable');
    r.worker.start();
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'waiting', attempts: 1, lastError: 'transport error (RangeError: socket not writable)' });
    expect(errors.map((e) => e.message)).to.deep.equal(['socket not writable']);
    r.transport.throwOnSend = undefined;
    await r.clock.advance(1000);
    r.transport.ack(a.controlId);
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'accepted', attempts: 2 });
  });

  it('an ACK the transport paired with the wrong send is matched by its control id; that send is tried again', async () => {
    const r = rig({ window: 2 });
    const a = r.enqueue('a');
    const b = r.enqueue('b');
    r.worker.start();
    await settle();
    r.transport.answerWith(a.controlId, ackInfo(b.controlId, 'AA'));
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'waiting', attempts: 1, lastError: 'the ACK named another control id' });
    expect(r.state(b.controlId)).to.include({ state: 'sent' }, 'b is in flight: its own send settles it');
    r.transport.ack(b.controlId);
    await settle();
    expect(r.state(b.controlId)).to.include({ state: 'accepted', attempts: 1 });
    await r.clock.advance(1000);
    r.transport.ack(a.controlId);
    await settle();
    expect(r.state(a.controlId)).to.include({ state: 'accepted', attempts: 2 });
  });

  it('a store that fails under it is reported on error, tells no event, and throws nothing', async () => {
    const r = rig();
    const errors: Error[] = [];
    r.worker.on('error', (err: Error) => errors.push(err));
    const a = r.enqueue('a');
    r.worker.start();
    await settle();
    const before = r.events.length;
    r.store.close();
    r.transport.ack(a.controlId);
    await settle();
    r.worker.kick();
    await r.clock.advance(10_000);
    expect(r.events.length).to.equal(before);
    expect(errors.length).to.be.at.least(2);
    expect(errors.every((e) => e.message === 'the store handle is closed')).to.equal(true);
    expect(r.worker.status.inFlight).to.equal(0);
  });

  it('the system clock is Date.now, and its timers neither keep the process alive nor fire once cleared', () => {
    const before = Date.now();
    expect(systemClock.now()).to.be.within(before, Date.now());
    let fired = false;
    const handle = systemClock.setTimeout(() => { fired = true; }, 60_000) as NodeJS.Timeout;
    expect(handle.hasRef()).to.equal(false);
    systemClock.clearTimeout(handle);
    expect(fired).to.equal(false);
  });

  it('refuses options that cannot work', () => {
    const t = openTempStore();
    const clock = new FakeClock();
    try {
      const base = { store: t.store, destination: 'ehr', transport: new FakeTransport(clock), clock };
      expect(() => new DeliveryWorker({ ...base, window: 0 })).to.throw(RangeError, /window/);
      expect(() => new DeliveryWorker({ ...base, maxAttempts: 1.5 })).to.throw(RangeError, /maxAttempts/);
      expect(() => new DeliveryWorker({ ...base, backoff: { initialMs: 0, maxMs: 10, factor: 2 } })).to.throw(RangeError, /back-off/);
    } finally {
      t.cleanup();
    }
  });
});

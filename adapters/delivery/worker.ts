/**
 * The delivery worker: sends one destination's outbound queue, in order, over a Transport, and
 * records every outcome in the store before it looks at the next message.
 *
 * - AA/CA: accepted. AE/AR/CE/CR, a timeout, or a connection lost after the bytes left: the
 *   peer may have seen it, so it counts as an attempt; retried with back-off, dead-lettered after
 *   maxAttempts so that one poison message cannot hold the queue for ever.
 * - Nothing reached the peer (refused, not sent): does not count; the queue waits with back-off
 *   capped at maxMs, for as long as the outage lasts.
 * - ACKs are matched by control id, never by arrival order; a late ACK credits the message it names.
 */
import { EventEmitter } from 'node:events';
import type { OutboundMessage, Store } from '../journal';
import { backoffDelay, checkBackoff, DEFAULT_BACKOFF, type Backoff } from './backoff';
import { systemClock, type Clock } from '../common/clock';
import { classifyFailure, isPositive, type AckInfo, type Transport } from './transport';

export type DeliveryState = 'sent' | 'accepted' | 'rejected' | 'retrying' | 'dead' | 'unreachable';

export interface DeliveryEvent {
  destination: string;
  outboundId: number;
  controlId: string;
  resultId?: string;
  state: DeliveryState;
  ackCode?: string;
  reason?: string;
  /** Attempts that count (the peer got the message), after this change. */
  attempts: number;
  at: number;
  /** When the next attempt is due (rejected, retrying, unreachable). */
  nextAttemptAt?: number;
}

export interface DeliveryWorkerOptions {
  store: Store;
  destination: string;
  transport: Transport;
  /** 30 s. */
  ackTimeoutMs?: number;
  /** 5; counted only when the peer got the message (AE/AR, timeout). */
  maxAttempts?: number;
  /** 1 s, ×2, up to 5 min. */
  backoff?: Backoff;
  /** Messages in flight at once; 1 (strict FIFO) by default. */
  window?: number;
  clock?: Clock;
  /** Looks at the queue this often when idle, in case a kick() was missed; 5 s. */
  pollMs?: number;
  /**
   * Called in the transaction that marks a message accepted, so what it writes to the store
   * commits with the acceptance (e.g. the object's storage commitment is then owed). Synchronous.
   */
  onAccepted?(message: OutboundMessage, now: number): void;
}

export interface DeliveryStatus {
  connected: boolean;
  inFlight: number;
  lastError?: string;
  lastAckAt?: number;
}

/** A transport that never settles is given up on this long after its own timeout. */
const GUARD_MS = 1000;
const DEFAULT_POLL_MS = 5000;
const MAX_ERROR_TEXT = 200;

const NAK_MEANING: Record<string, string> = {
  AE: 'application error',
  AR: 'application reject',
  CE: 'commit error',
  CR: 'commit reject',
};

interface Flight {
  message: OutboundMessage;
  /** Counted attempts if this one counts. */
  attempts: number;
  /** Dispatch order, to tell one outage from the next. */
  seq: number;
  guard: unknown;
  settled: boolean;
  done: Promise<void>;
  finish: () => void;
}

function nakReason(ack: AckInfo): string {
  const text = ack.text?.trim();
  return text ? `${ack.code}: ${text}` : `${ack.code} (${NAK_MEANING[ack.code] ?? 'negative acknowledgement'})`;
}

function describe(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT - 1)}…` : text;
}

class GuardTimeoutError extends Error {
  constructor(ms: number) {
    super(`the transport gave no answer within ${ms} ms`);
    this.name = 'MllpTimeoutError';
  }
}

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer, got ${n}`);
  return n;
}

export class DeliveryWorker extends EventEmitter {
  readonly destination: string;
  private readonly store: Store;
  private readonly transport: Transport;
  private readonly ackTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoff: Backoff;
  private readonly window: number;
  private readonly clock: Clock;
  private readonly pollMs: number;
  private readonly onAccepted: DeliveryWorkerOptions['onAccepted'];

  private running = false;
  private stopping: Promise<void> | undefined;
  private readonly flights = new Map<string, Flight>();
  private wake: unknown;
  private pumping = false;
  private pumpAgain = false;
  private dispatched = 0;
  // One outage = consecutive sends that reached nobody; its back-off grows once per round.
  private unreachable = false;
  private outageFailures = 0;
  private outageSeq = 0;
  private connected = false;
  private lastError: string | undefined;
  private lastAckAt: number | undefined;
  /** Set while a batch runs: its events wait for the commit. */
  private batchEvents: DeliveryEvent[] | undefined;
  private readonly onLateAck = (ack: AckInfo) => this.batched(() => this.guarded(() => this.creditLateAck(ack)));

  constructor(options: DeliveryWorkerOptions) {
    super();
    this.store = options.store;
    this.destination = options.destination;
    this.transport = options.transport;
    this.ackTimeoutMs = positiveInteger(options.ackTimeoutMs, 30_000, 'ackTimeoutMs');
    this.maxAttempts = positiveInteger(options.maxAttempts, 5, 'maxAttempts');
    this.backoff = checkBackoff(options.backoff ?? DEFAULT_BACKOFF);
    this.window = positiveInteger(options.window, 1, 'window');
    this.clock = options.clock ?? systemClock;
    this.pollMs = positiveInteger(options.pollMs, DEFAULT_POLL_MS, 'pollMs');
    this.onAccepted = options.onAccepted;
  }

  get status(): DeliveryStatus {
    const status: DeliveryStatus = { connected: this.connected, inFlight: this.flights.size };
    if (this.lastError !== undefined) status.lastError = this.lastError;
    if (this.lastAckAt !== undefined) status.lastAckAt = this.lastAckAt;
    return status;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // Started again while a stop() still drains: the listener is still there.
    if (!this.transport.listeners('lateAck').includes(this.onLateAck)) this.transport.on('lateAck', this.onLateAck);
    this.batched(() => this.pump());
  }

  /** A message was enqueued (or re-sent): look at the queue now. */
  kick(): void {
    this.batched(() => this.pump());
  }

  /**
   * Takes no new message, then waits for those in flight (each bounded by its ACK timeout).
   * One that never answers stays 'sent' and goes again, same control id, at the next start.
   */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.running = false;
      this.clearWake();
      this.stopping = Promise.all([...this.flights.values()].map((flight) => flight.done)).then(() => {
        if (!this.running) this.transport.off('lateAck', this.onLateAck);
        this.stopping = undefined;
      });
    }
    return this.stopping;
  }

  private pump(): void {
    if (!this.running) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.fill();
      } while (this.pumpAgain && this.running);
    } catch (err) {
      // A store error must not stop delivery for good: say it, look again later.
      this.report(err);
      this.schedule(this.pollMs);
    } finally {
      this.pumping = false;
    }
  }

  private fill(): void {
    this.clearWake();
    while (this.running && this.flights.size < this.window) {
      const message = this.store.nextDue(this.destination, this.clock.now());
      if (!message || this.flights.has(message.controlId)) break;
      this.dispatch(message);
    }
    // Full window: the next settled send pumps again.
    if (!this.running || this.flights.size >= this.window) return;
    // Nothing due: wake when the head is (nextDue with an infinite "now" is the head itself).
    const head = this.store.nextDue(this.destination, Number.MAX_SAFE_INTEGER);
    const now = this.clock.now();
    this.schedule(head && head.nextAttemptAt > now ? head.nextAttemptAt - now : this.pollMs);
  }

  private dispatch(message: OutboundMessage): void {
    const now = this.clock.now();
    this.store.markSent(message.id, now);
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => { finish = resolve; });
    const flight: Flight = { message, attempts: message.attempts + 1, seq: ++this.dispatched, guard: undefined, settled: false, done, finish };
    this.flights.set(message.controlId, flight);
    let sending: Promise<AckInfo>;
    try {
      sending = this.transport.send(message.payload, message.controlId, this.ackTimeoutMs);
    } catch (err) {
      sending = Promise.reject(err);
    }
    sending.then((ack) => this.settle(flight, { ack }), (error: unknown) => this.settle(flight, { error }));
    flight.guard = this.clock.setTimeout(() => this.settle(flight, { error: new GuardTimeoutError(this.ackTimeoutMs + GUARD_MS) }), this.ackTimeoutMs + GUARD_MS);
    // Attempts during an outage are not news: 'unreachable' was said once.
    if (!this.unreachable) this.emitDelivery(message, 'sent', flight.attempts, now);
  }

  private settle(flight: Flight, outcome: { ack: AckInfo } | { error: unknown }): void {
    if (flight.settled) {
      // The guard gave up first: an ACK that still comes is a late one.
      if ('ack' in outcome) this.onLateAck(outcome.ack);
      return;
    }
    flight.settled = true;
    this.clock.clearTimeout(flight.guard);
    this.flights.delete(flight.message.controlId);
    // This outcome and the next send commit together: one write per message, not two.
    this.batched(() => {
      this.guarded(() => ('ack' in outcome ? this.onAck(flight, outcome.ack) : this.onFailure(flight, outcome.error)));
      this.pump();
    });
    flight.finish();
  }

  private onAck(flight: Flight, ack: AckInfo): void {
    const { message } = flight;
    const now = this.clock.now();
    this.peerAnswered(now);
    if (ack.controlId !== message.controlId) {
      // A transport that paired the wrong ACK: try this one again (first, so that it holds the
      // queue before anything moves), and credit the message the ACK names.
      this.failCounted(flight, 'the ACK named another control id', undefined, now);
      this.creditLateAck(ack);
      return;
    }
    if (isPositive(ack.code)) {
      this.accepted(message, ack, now);
      this.lastError = undefined;
      this.emitDelivery(message, 'accepted', flight.attempts, now, { ackCode: ack.code });
    } else {
      this.failCounted(flight, nakReason(ack), ack.code, now);
    }
  }

  private onFailure(flight: Flight, err: unknown): void {
    const now = this.clock.now();
    const failure = classifyFailure(err);
    if (failure.kind === 'timeout') {
      // Bytes left and nothing came back: the peer may have it. Counts.
      this.unreachable = false;
      this.outageFailures = 0;
      this.failCounted(flight, `no ACK within ${this.ackTimeoutMs} ms`, undefined, now);
    } else if (failure.kind === 'connection' && failure.sent) {
      this.connected = false;
      this.failCounted(flight, `connection lost after sending (${describe(err)})`, undefined, now);
    } else if (failure.kind === 'connection') {
      this.notReached(flight, `destination unreachable (${describe(err)})`, now);
    } else {
      // Unknown: count it, so a message that always breaks the transport ends as a dead letter.
      this.report(err);
      this.failCounted(flight, `transport error (${describe(err)})`, undefined, now);
    }
  }

  /** AE/AR/timeout: retry with back-off, or dead-letter at maxAttempts. */
  private failCounted(flight: Flight, reason: string, ackCode: string | undefined, now: number): void {
    const { message, attempts } = flight;
    this.lastError = reason;
    if (attempts >= this.maxAttempts) {
      this.store.markDead(message.id, reason, now);
      this.emitDelivery(message, 'dead', attempts, now, { ackCode, reason });
      return;
    }
    const nextAttemptAt = now + backoffDelay(this.backoff, attempts);
    this.store.markRetry(message.id, reason, nextAttemptAt, true);
    this.emitDelivery(message, ackCode ? 'rejected' : 'retrying', attempts, now, { ackCode, reason, nextAttemptAt });
  }

  /** Nothing reached the peer: no attempt counted; the whole queue waits out the outage. */
  private notReached(flight: Flight, reason: string, now: number): void {
    const { message } = flight;
    this.connected = false;
    this.lastError = reason;
    // Sends already out when the outage was seen do not make the wait grow again.
    if (flight.seq > this.outageSeq) {
      this.outageFailures++;
      this.outageSeq = this.dispatched;
    }
    const nextAttemptAt = now + backoffDelay(this.backoff, this.outageFailures);
    this.store.markRetry(message.id, reason, nextAttemptAt, false);
    if (!this.unreachable) {
      this.unreachable = true;
      this.emitDelivery(message, 'unreachable', flight.attempts - 1, now, { reason, nextAttemptAt });
    }
  }

  /** An ACK that no pending send claimed: credit the message whose control id it carries. */
  private creditLateAck(ack: AckInfo): void {
    if (this.flights.has(ack.controlId)) return; // its own send will settle it
    const message = this.store.findByControlId(ack.controlId);
    if (!message || message.destination !== this.destination) return;
    if (message.state === 'accepted' || message.state === 'dead') return;
    const now = this.clock.now();
    this.peerAnswered(now);
    if (isPositive(ack.code)) {
      this.accepted(message, ack, now);
      this.emitDelivery(message, 'accepted', message.attempts, now, { ackCode: ack.code, reason: 'late ACK' });
      this.pump(); // it may have been the head holding the queue
    } else {
      // Its attempt was already counted when it timed out; keep the retry already planned.
      const reason = nakReason(ack);
      this.store.markRetry(message.id, reason, message.nextAttemptAt, false);
      this.emitDelivery(message, 'rejected', message.attempts, now, { ackCode: ack.code, reason, nextAttemptAt: message.nextAttemptAt });
    }
  }

  private accepted(message: OutboundMessage, ack: AckInfo, now: number): void {
    this.store.markAccepted(message.id, { code: ack.code, raw: ack.raw }, now);
    this.onAccepted?.(message, now);
  }

  private peerAnswered(now: number): void {
    this.connected = true;
    this.lastAckAt = now;
    this.unreachable = false;
    this.outageFailures = 0;
  }

  private emitDelivery(message: OutboundMessage, state: DeliveryState, attempts: number, at: number,
    extra: { ackCode?: string; reason?: string; nextAttemptAt?: number } = {}): void {
    const event: DeliveryEvent = { destination: this.destination, outboundId: message.id, controlId: message.controlId, state, attempts, at };
    if (message.resultId !== undefined) event.resultId = message.resultId;
    if (extra.ackCode !== undefined) event.ackCode = extra.ackCode;
    if (extra.reason !== undefined) event.reason = extra.reason;
    if (extra.nextAttemptAt !== undefined) event.nextAttemptAt = extra.nextAttemptAt;
    if (this.batchEvents) this.batchEvents.push(event);
    else this.guarded(() => this.emit('delivery', event));
  }

  /**
   * Runs store work in one transaction and tells its events once committed, so that nobody
   * hears of a change the disk does not have. A failed commit leaves the rows as they were;
   * a message left 'sent' goes again at the next start.
   */
  private batched(fn: () => void): void {
    if (this.batchEvents) {
      fn();
      return;
    }
    const events: DeliveryEvent[] = [];
    this.batchEvents = events;
    try {
      this.store.transaction(fn);
    } catch (err) {
      events.length = 0;
      this.report(err);
    } finally {
      this.batchEvents = undefined;
    }
    // A listener that throws must not stop the others, nor the worker.
    for (const event of events) this.guarded(() => this.emit('delivery', event));
  }

  private schedule(ms: number): void {
    this.clearWake();
    if (!this.running) return;
    this.wake = this.clock.setTimeout(() => {
      this.wake = undefined;
      this.batched(() => this.pump());
    }, ms);
  }

  private clearWake(): void {
    if (this.wake === undefined) return;
    this.clock.clearTimeout(this.wake);
    this.wake = undefined;
  }

  private guarded(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.report(err);
    }
  }

  /** 'error' only to those listening: an unheard 'error' would take the whole hub down. */
  private report(err: unknown): void {
    if (this.listenerCount('error') === 0) return;
    try {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    } catch {
      // an error listener that throws has nobody left to tell
    }
  }
}

/** A fake clock and a fake transport: delivery tests run without real timers, sockets or sleeps. */
import { EventEmitter } from 'node:events';
import type { AckCode, AckInfo, Clock, Transport } from '../../../adapters/delivery';

/** Lets pending promise callbacks run (no time passes: this is not a sleep). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, Timer>();

  constructor(start = 1_800_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { id: ++this.seq, at: this.time + Math.max(0, ms), fn };
    this.timers.set(timer.id, timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward by `ms`, firing due timers in time order, letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const next = [...this.timers.values()].filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next) break;
      this.timers.delete(next.id);
      this.time = next.at;
      next.fn();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

export class FakeTimeoutError extends Error {
  constructor() {
    super('no ACK in time');
    this.name = 'MllpTimeoutError';
  }
}

export class FakeConnectionError extends Error {
  constructor(readonly sent: boolean) {
    super(sent ? 'connection reset after sending' : 'connect ECONNREFUSED 127.0.0.1:2575');
    this.name = 'MllpConnectionError';
  }
}

export interface FakeSend {
  payload: Buffer;
  controlId: string;
  timeoutMs: number;
  at: number;
  answered: boolean;
}

/** Records every send; the test answers each by control id, in any order. */
export class FakeTransport extends EventEmitter implements Transport {
  readonly sends: FakeSend[] = [];
  private readonly waiting = new Map<string, { resolve: (ack: AckInfo) => void; reject: (err: Error) => void; send: FakeSend }>();
  /** When set, send() throws it at once instead of returning a promise. */
  throwOnSend: Error | undefined;

  constructor(private readonly clock: FakeClock) {
    super();
  }

  send(payload: Buffer, controlId: string, timeoutMs: number): Promise<AckInfo> {
    if (this.throwOnSend) throw this.throwOnSend;
    const send: FakeSend = { payload, controlId, timeoutMs, at: this.clock.now(), answered: false };
    this.sends.push(send);
    return new Promise<AckInfo>((resolve, reject) => {
      if (this.waiting.has(controlId)) throw new Error(`fake transport: ${controlId} is already in flight`);
      this.waiting.set(controlId, { resolve, reject, send });
    });
  }

  /** Control ids sent and not answered yet, in send order. */
  get inFlight(): string[] {
    return [...this.waiting.keys()];
  }

  get sentIds(): string[] {
    return this.sends.map((s) => s.controlId);
  }

  ack(controlId: string, code: AckCode = 'AA', text?: string): void {
    this.take(controlId).resolve(ackInfo(controlId, code, text));
  }

  /** Settles the send of `controlId` with an ACK as given (a transport that paired it wrongly). */
  answerWith(controlId: string, ack: AckInfo): void {
    this.take(controlId).resolve(ack);
  }

  fail(controlId: string, error: Error): void {
    this.take(controlId).reject(error);
  }

  /** An ACK that came after its send was given up on. */
  lateAck(controlId: string, code: AckCode = 'AA', text?: string): void {
    this.emit('lateAck', ackInfo(controlId, code, text));
  }

  private take(controlId: string) {
    const pending = this.waiting.get(controlId);
    if (!pending) throw new Error(`fake transport: ${controlId} is not in flight (in flight: ${this.inFlight.join(', ') || 'none'})`);
    this.waiting.delete(controlId);
    pending.send.answered = true;
    return pending;
  }
}

export function ackInfo(controlId: string, code: AckCode, text?: string): AckInfo {
  const raw = Buffer.from(`MSH|^~\\&|EHR|HOSP|PASSERELLE|SITE|20261123||ACK|A${controlId}|P|2.5\rMSA|${code}|${controlId}${text ? `|${text}` : ''}\r`);
  return text === undefined ? { code, controlId, raw } : { code, controlId, text, raw };
}

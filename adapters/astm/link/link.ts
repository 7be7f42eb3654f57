/**
 * The E1381 (LIS01-A2) link layer of one connection, as a pure state machine: bytes in
 * (`receive`), bytes out (the `output` event), time from an injected clock. No socket, no serial
 * port: the same object runs over RS-232 or TCP, and tests drive it with a fake clock.
 *
 * Both roles live in one object because a line has both: the receiver (the instrument sends us
 * results) and the sender (the simulator, and later orders to the instrument). Contention — both
 * sides sending ENQ at once — is only decidable with both in view.
 *
 * States (E1381 §6): idle (neutral) → establishing (we sent ENQ) → sending (transfer, our frames)
 * → idle; idle → receiving (we answered ENQ with ACK) → idle on EOT or on the receive timer.
 */
import { EventEmitter } from 'node:events';
import { ByteBuilder } from './bytes';
import { checksumValue, parseChecksum } from './checksum';
import { type Clock, systemClock } from './clock';
import { ACK, CR, ENQ, EOT, ETB, ETX, isTextCharacterError, LF, NAK, STX } from './control';
import { buildFrames, type OutgoingFrame } from './frame';
import { type LinkSettings, type LinkSide, resolveLinkSettings } from './settings';

export type LinkState = 'idle' | 'establishing' | 'sending' | 'receiving';

/** A transfer received from ENQ to EOT. */
export interface ReceivedMessage {
  /** The frames' text joined (FN, terminators and checksums removed): records ending with CR. */
  text: Buffer;
  /** Every byte received from ENQ to EOT, as it came: for the journal. */
  raw: Buffer;
  frames: number;
  /** We answered a frame with EOT (receiver interrupt): the sender may stop early and send the message again later. */
  interrupted: boolean;
  startedAt: number;
  completedAt: number;
  /** With `beforeFinalAck` only: what came after the last confirmed segment (usually the trailer and EOT, no records). */
  unconfirmed?: TransferSegment;
}

/** Part of a transfer: the records' text and the raw bytes that carried them. */
export interface TransferSegment {
  text: Buffer;
  raw: Buffer;
}

export type IncompleteReason = 'timeout' | 'restarted' | 'too-large' | 'closed';

/** A transfer discarded before its EOT. Reported with its bytes so nothing is lost silently. */
export interface IncompleteMessage {
  reason: IncompleteReason;
  /** Text of the frames accepted so far. */
  text: Buffer;
  /** Every byte received since ENQ (up to maxMessageBytes). */
  raw: Buffer;
  frames: number;
  startedAt: number;
  /** With `beforeFinalAck` only: what came after the last confirmed segment (the part not yet kept by the hook). */
  unconfirmed?: TransferSegment;
}

export type FrameRejection = 'checksum' | 'frame-number' | 'character' | 'too-long' | 'format';

/** What the receiver made of one frame. */
export interface FrameEvent {
  /** 0…7, or null when the frame number itself was unreadable. */
  frameNumber: number | null;
  /** Ended with ETX (true) or ETB (false). */
  final: boolean;
  outcome: 'accepted' | 'duplicate' | 'rejected';
  reason?: FrameRejection;
  /** Lenient frame numbering only: accepted although the number was not the next one. */
  outOfSequence?: boolean;
  /** Duplicate only: the repeated frame's text differs from the one accepted (a confused sender). */
  differs?: boolean;
  textLength: number;
}

export type SendFailureReason = 'refused' | 'timeout' | 'no-answer' | 'busy' | 'closed';

export interface LinkEvents {
  /** Bytes to write to the line, in order. */
  output: [bytes: Buffer];
  message: [message: ReceivedMessage];
  incomplete: [message: IncompleteMessage];
  frame: [frame: FrameEvent];
  sent: [info: { id: string; frames: number }];
  'send-failed': [info: { id: string; reason: SendFailureReason; frames: number }];
  /** The receiver interrupted our transfer and we stopped: the message is sent again after interruptHoldMs. */
  interrupted: [info: { id: string }];
  contention: [info: { winner: LinkSide }];
  state: [state: LinkState];
}

export interface LinkOptions extends Partial<LinkSettings> {
  clock?: Clock;
  /**
   * Called when a frame ending a message's terminator record (L) has been accepted, before it is
   * acknowledged: the segment holds the records and raw bytes since the previous call (or ENQ).
   * The ACK goes when the promise resolves (keep the bytes durably here); if it rejects, the frame
   * is answered NAK and forgotten, so the instrument sends it again (also when it has not settled
   * within receiveTimeoutMs). Bytes arriving meanwhile wait.
   */
  beforeFinalAck?: (segment: TransferSegment) => Promise<void>;
}

interface Outgoing {
  id: string;
  frames: OutgoingFrame[];
  bids: number;
}

type FrameReaderState = 'await-stx' | 'frame' | 'checksum';

const ONE = (byte: number): Buffer => Buffer.from([byte]);

export class AstmLink extends EventEmitter<LinkEvents> {
  readonly settings: LinkSettings;
  private readonly clock: Clock;
  private readonly beforeFinalAck?: (segment: TransferSegment) => Promise<void>;
  private segmentText = 0;
  private segmentRaw = 0;
  private awaitingHook = false;
  private hookToken = 0;
  private readonly held: number[] = [];
  private current: LinkState = 'idle';
  private closed = false;
  private busy = false;

  // Every entry point runs as a task, one at a time: a listener that feeds bytes back in (two links
  // wired together, a loopback) never re-enters the machine half-way through a transition.
  private readonly tasks: Array<() => void> = [];
  private running = false;

  // Receiver.
  private reader: FrameReaderState = 'await-stx';
  private readonly frame = new ByteBuilder();
  private frameOverflow = false;
  private frameCharacterError = false;
  private terminator = ETX;
  private checksumFirst = -1;
  private lastAccepted: number | null = null;
  private lastAcceptedText: Buffer | null = null;
  private readonly text = new ByteBuilder();
  private readonly raw = new ByteBuilder();
  private framesAccepted = 0;
  private interruptRequested = false;
  private interruptSent = false;
  private transferStartedAt = 0;
  private receiveTimer: unknown = null;
  private lastActivity = 0;

  // Sender.
  private readonly queue: Outgoing[] = [];
  private frameIndex = 0;
  private refusals = 0;
  private replyTimer: unknown = null;
  private bidTimer: unknown = null;
  private bidNotBefore = 0;
  private nextId = 1;

  constructor(options: LinkOptions = {}) {
    super();
    const { clock, beforeFinalAck, ...settings } = options;
    this.settings = resolveLinkSettings(settings);
    this.beforeFinalAck = beforeFinalAck;
    this.clock = clock ?? systemClock;
  }

  get state(): LinkState {
    return this.current;
  }

  /** Messages waiting to be sent, the one in transfer first. */
  get pending(): number {
    return this.queue.length;
  }

  /** Bytes from the line. */
  receive(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const copy = Buffer.from(bytes);
    this.run(() => {
      for (let i = 0; i < copy.length && !this.closed; i += 1) this.onByte(copy[i]);
    });
  }

  /**
   * Queues message text (records each ending with CR) for sending; returns its id for the
   * `sent` / `send-failed` events. Text is written as Latin-1 (E1394's default) unless bytes are given.
   */
  send(message: string | Uint8Array, id?: string): string {
    if (this.closed) throw new Error('the ASTM link is closed');
    const bytes = typeof message === 'string' ? Buffer.from(message, 'latin1') : Buffer.from(message);
    const frames = buildFrames(bytes, this.settings.maxFrameText);
    if (frames.length === 0) throw new RangeError('an ASTM message needs at least one record');
    const messageId = id ?? `astm-out-${this.nextId++}`;
    this.run(() => {
      this.queue.push({ id: messageId, frames, bids: 0 });
      this.maybeBid();
    });
    return messageId;
  }

  /** Receiver busy: answer ENQ with NAK until cleared. */
  setBusy(busy: boolean): void {
    this.busy = busy;
  }

  /**
   * Receiver interrupt: answer the frames of the current transfer with EOT instead of ACK (they
   * are still accepted). The sender may stop; if it does it sends the message again later.
   */
  requestInterrupt(): void {
    this.run(() => {
      if (this.current === 'receiving') this.interruptRequested = true;
    });
  }

  /** Stops every timer. A transfer in progress is reported incomplete, queued messages as failed. */
  close(): void {
    this.run(() => {
      if (this.closed) return;
      // Closed first: reporting the transfer must not start a bid on a line that is going away.
      this.closed = true;
      if (this.current === 'receiving') this.discardTransfer('closed');
      this.clearReplyTimer();
      this.clearBidTimer();
      this.clearReceiveTimer();
      this.setState('idle');
      for (const outgoing of this.queue.splice(0)) this.emit('send-failed', { id: outgoing.id, reason: 'closed', frames: outgoing.frames.length });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Dispatch

  private run(task: () => void): void {
    this.tasks.push(task);
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.tasks.shift(); next; next = this.tasks.shift()) next();
    } finally {
      this.running = false;
      this.tasks.length = 0;
    }
  }

  private timer(ms: number, task: () => void): unknown {
    return this.clock.setTimeout(() => this.run(() => {
      if (!this.closed) task();
    }), ms);
  }

  private onByte(byte: number): void {
    if (this.awaitingHook) {
      // The sender waits for our reply to the terminator frame; what comes meanwhile (its trailer) waits too.
      if (this.held.length < this.settings.maxMessageBytes) this.held.push(byte);
      return;
    }
    switch (this.current) {
      case 'idle':
        // Neutral: only ENQ means anything; everything else is noise.
        if (byte === ENQ) this.answerEnq();
        return;
      case 'receiving':
        this.onReceivingByte(byte);
        return;
      case 'establishing':
        this.onEstablishingByte(byte);
        return;
      case 'sending':
        this.onSendingByte(byte);
        return;
    }
  }

  private setState(state: LinkState): void {
    if (this.current === state) return;
    this.current = state;
    this.emit('state', state);
  }

  private write(byte: number): void {
    this.emit('output', ONE(byte));
  }

  // ---------------------------------------------------------------------------------------------
  // Receiver

  private answerEnq(): void {
    if (this.busy) {
      this.write(NAK);
      return;
    }
    this.beginTransfer();
    this.write(ACK);
  }

  private beginTransfer(): void {
    this.setState('receiving');
    this.reader = 'await-stx';
    this.lastAccepted = null;
    this.lastAcceptedText = null;
    this.text.reset();
    this.raw.reset();
    this.raw.push(ENQ);
    this.framesAccepted = 0;
    this.interruptRequested = false;
    this.interruptSent = false;
    this.transferStartedAt = this.clock.now();
    this.restartReceiveTimer();
  }

  private onReceivingByte(byte: number): void {
    if (this.reader === 'await-stx' && byte === ENQ) {
      // The sender started over (it never saw our replies, or it gave up): what we have is stale.
      this.discardTransfer('restarted');
      this.answerEnq();
      return;
    }
    if (this.raw.length >= this.settings.maxMessageBytes) {
      this.discardTransfer('too-large');
      return;
    }
    this.raw.push(byte);
    // The timer measures silence, not the length of a frame: at 9,600 baud a 64,000-character
    // frame takes 67 s, longer than the 30 s a receiver waits.
    this.restartReceiveTimer();
    switch (this.reader) {
      case 'await-stx':
        if (byte === STX) this.startFrame();
        else if (byte === EOT) this.completeTransfer();
        // Anything else between frames (the CR LF trailer, a missing one, noise) is ignored.
        return;
      case 'frame':
        if (byte === ETX || byte === ETB) {
          this.terminator = byte;
          this.reader = 'checksum';
          this.checksumFirst = -1;
        } else if (byte === STX) {
          // A new frame began before this one ended: the partial one cannot be answered.
          this.emitFrame({ frameNumber: this.partialFrameNumber(), final: false, outcome: 'rejected', reason: 'format', textLength: Math.max(0, this.frame.length - 1) });
          this.startFrame();
        } else {
          if (this.frame.length > 0 && isTextCharacterError(byte)) this.frameCharacterError = true;
          if (this.frame.length <= this.settings.maxReceiveFrame) this.frame.push(byte);
          else this.frameOverflow = true;
        }
        return;
      case 'checksum':
        if (byte === STX) {
          this.refuseFrame('format');
          this.startFrame();
        } else if (this.checksumFirst < 0) {
          this.checksumFirst = byte;
        } else {
          this.evaluateFrame(byte);
        }
        return;
    }
  }

  private startFrame(): void {
    this.reader = 'frame';
    this.frame.reset();
    this.frameOverflow = false;
    this.frameCharacterError = false;
  }

  private partialFrameNumber(): number | null {
    if (this.frame.length === 0) return null;
    const fn = this.frame.at(0) - 0x30;
    return fn >= 0 && fn <= 7 ? fn : null;
  }

  private evaluateFrame(checksumSecond: number): void {
    this.reader = 'await-stx';
    const fn = this.partialFrameNumber();
    const final = this.terminator === ETX;
    const textLength = Math.max(0, this.frame.length - 1);
    if (fn === null) return this.refuseFrame('format');
    if (this.frameOverflow) return this.refuseFrame('too-long');
    if (this.frameCharacterError) return this.refuseFrame('character');
    const expected = checksumValue(this.frame.view(), this.terminator as typeof ETX | typeof ETB);
    if (parseChecksum(this.checksumFirst, checksumSecond) !== expected) return this.refuseFrame('checksum');

    const text = this.frame.view(1);
    const next = this.lastAccepted === null ? 1 : (this.lastAccepted + 1) % 8;
    const repeatsLast = this.lastAccepted !== null && fn === this.lastAccepted;
    const sameText = repeatsLast && this.lastAcceptedText !== null && this.lastAcceptedText.equals(text);
    if (this.settings.frameNumbers === 'strict') {
      if (repeatsLast) return this.acknowledgeDuplicate(fn, final, textLength, !sameText);
      if (fn !== next) return this.refuseFrame('frame-number');
    } else if (sameText) {
      return this.acknowledgeDuplicate(fn, final, textLength, false);
    }

    const before = { text: this.text.length, lastAccepted: this.lastAccepted, lastAcceptedText: this.lastAcceptedText };
    this.text.append(text);
    if (final) {
      // ETX ends a record. A device that leaves out the record's CR would otherwise glue this
      // record to the next one.
      const last = this.text.length > 0 ? this.text.at(this.text.length - 1) : CR;
      if (last !== CR && last !== LF) this.text.push(CR);
    }
    this.lastAccepted = fn;
    this.lastAcceptedText = Buffer.from(text);
    this.framesAccepted += 1;
    this.emitFrame({ frameNumber: fn, final, outcome: 'accepted', ...(fn !== next ? { outOfSequence: true } : {}), textLength });
    if (final && this.beforeFinalAck && this.endsWithTerminator()) return this.confirmSegment(before);
    this.reply();
  }

  /** The last record of the current segment is an L record (the message's terminator). */
  private endsWithTerminator(): boolean {
    const records = this.text.view(this.segmentText).toString('latin1').split(/[\r\n]+/).filter((r) => r.length > 0);
    const last = records[records.length - 1] ?? '';
    return /^L(?:[^A-Za-z0-9]|$)/.test(last);
  }

  /** Hands the segment to the hook and answers once it settles: ACK when kept, NAK (frame forgotten) when not. */
  private confirmSegment(before: { text: number; lastAccepted: number | null; lastAcceptedText: Buffer | null }): void {
    const segment: TransferSegment = { text: Buffer.from(this.text.view(this.segmentText)), raw: Buffer.from(this.raw.view(this.segmentRaw)) };
    this.awaitingHook = true;
    this.clearReceiveTimer();
    const token = ++this.hookToken;
    // A hook that never settles (a hung disk) must not hold the line for ever: after the receive
    // timeout the frame is refused as if the hook had failed.
    const guard = this.timer(this.settings.receiveTimeoutMs, () => apply(false));
    const apply = (kept: boolean) => {
      if (this.closed || token !== this.hookToken || !this.awaitingHook) return;
      this.clock.clearTimeout(guard);
      this.awaitingHook = false;
      if (kept) {
        this.segmentText = this.text.length;
        this.segmentRaw = this.raw.length;
        this.reply();
      } else {
        this.text.length = before.text;
        this.lastAccepted = before.lastAccepted;
        this.lastAcceptedText = before.lastAcceptedText;
        this.framesAccepted -= 1;
        this.write(NAK);
      }
      this.restartReceiveTimer();
      const held = this.held.splice(0);
      for (const byte of held) {
        if (this.closed) break;
        this.onByte(byte);
      }
    };
    const settle = (kept: boolean) => this.run(() => apply(kept));
    let pending: Promise<void>;
    try {
      pending = Promise.resolve(this.beforeFinalAck!(segment));
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(() => settle(true), () => settle(false));
  }

  private unconfirmed(): TransferSegment | undefined {
    if (!this.beforeFinalAck) return undefined;
    return { text: Buffer.from(this.text.view(this.segmentText)), raw: Buffer.from(this.raw.view(this.segmentRaw)) };
  }

  private acknowledgeDuplicate(fn: number, final: boolean, textLength: number, differs: boolean): void {
    // Our ACK was lost and the sender repeated the frame: acknowledge it again, keep it once.
    this.emitFrame({ frameNumber: fn, final, outcome: 'duplicate', ...(differs ? { differs } : {}), textLength });
    this.reply();
  }

  private refuseFrame(reason: FrameRejection): void {
    this.reader = 'await-stx';
    this.emitFrame({ frameNumber: this.partialFrameNumber(), final: this.terminator === ETX, outcome: 'rejected', reason, textLength: Math.max(0, this.frame.length - 1) });
    this.write(NAK);
  }

  private reply(): void {
    if (this.interruptRequested) {
      this.interruptSent = true;
      this.write(EOT);
    } else {
      this.write(ACK);
    }
  }

  private emitFrame(event: FrameEvent): void {
    this.emit('frame', event);
  }

  private completeTransfer(): void {
    this.clearReceiveTimer();
    const message: ReceivedMessage = {
      text: this.text.toBuffer(),
      raw: this.raw.toBuffer(),
      frames: this.framesAccepted,
      interrupted: this.interruptSent,
      startedAt: this.transferStartedAt,
      completedAt: this.clock.now(),
      ...(this.beforeFinalAck ? { unconfirmed: this.unconfirmed() } : {}),
    };
    this.endTransfer();
    // ENQ then EOT with nothing between is a sender giving up, not a message.
    if (message.frames > 0) this.emit('message', message);
    this.maybeBid();
  }

  private discardTransfer(reason: IncompleteReason): void {
    this.clearReceiveTimer();
    const incomplete: IncompleteMessage = {
      reason,
      text: this.text.toBuffer(),
      raw: this.raw.toBuffer(),
      frames: this.framesAccepted,
      startedAt: this.transferStartedAt,
      ...(this.beforeFinalAck ? { unconfirmed: this.unconfirmed() } : {}),
    };
    this.endTransfer();
    // A lone ENQ (the sender missed our ACK and bid again) lost nothing worth reporting.
    if (incomplete.raw.length > 1) this.emit('incomplete', incomplete);
    if (reason !== 'restarted') this.maybeBid();
  }

  private endTransfer(): void {
    this.reader = 'await-stx';
    this.segmentText = 0;
    this.segmentRaw = 0;
    this.awaitingHook = false;
    this.hookToken += 1;
    this.held.length = 0;
    this.text.reset();
    this.raw.reset();
    this.frame.reset();
    this.lastAcceptedText = null;
    this.setState('idle');
  }

  private restartReceiveTimer(): void {
    // One timer per transfer, re-armed for the remainder when it fires early: restarting a timer
    // for every byte of a 64,000-character frame would be wasteful.
    this.lastActivity = this.clock.now();
    if (this.receiveTimer === null) this.armReceiveTimer(this.settings.receiveTimeoutMs);
  }

  private armReceiveTimer(ms: number): void {
    this.receiveTimer = this.timer(ms, () => {
      this.receiveTimer = null;
      if (this.current !== 'receiving') return;
      const silent = this.clock.now() - this.lastActivity;
      if (silent >= this.settings.receiveTimeoutMs) this.discardTransfer('timeout');
      else this.armReceiveTimer(this.settings.receiveTimeoutMs - silent);
    });
  }

  private clearReceiveTimer(): void {
    if (this.receiveTimer !== null) this.clock.clearTimeout(this.receiveTimer);
    this.receiveTimer = null;
  }

  // ---------------------------------------------------------------------------------------------
  // Sender

  private maybeBid(): void {
    if (this.closed || this.current !== 'idle' || this.queue.length === 0 || this.bidTimer !== null) return;
    const wait = this.bidNotBefore - this.clock.now();
    if (wait > 0) {
      this.bidTimer = this.timer(wait, () => {
        this.bidTimer = null;
        this.maybeBid();
      });
      return;
    }
    this.queue[0].bids += 1;
    this.setState('establishing');
    this.write(ENQ);
    this.startReplyTimer(() => this.onEnqUnanswered());
  }

  /** No ENQ before `ms` from now (busy receiver, contention, receiver interrupt). */
  private holdBids(ms: number): void {
    this.bidNotBefore = Math.max(this.bidNotBefore, this.clock.now() + ms);
    this.clearBidTimer();
  }

  private onEstablishingByte(byte: number): void {
    if (byte === ACK) {
      this.clearReplyTimer();
      this.setState('sending');
      this.frameIndex = 0;
      this.refusals = 0;
      this.sendFrame();
    } else if (byte === NAK) {
      // Receiver busy: try again after busyRetryMs.
      this.clearReplyTimer();
      this.setState('idle');
      this.retryOrGiveUp('busy');
    } else if (byte === ENQ) {
      this.onContention();
    }
    // Anything else while we wait for the reply to ENQ is noise.
  }

  private onContention(): void {
    this.clearReplyTimer();
    if (this.settings.side === 'computer') {
      // The instrument has priority: stop, answer its next ENQ, bid again after contentionMs.
      this.queue[0].bids -= 1;
      this.setState('idle');
      this.emit('contention', { winner: 'instrument' });
      this.holdBids(this.settings.contentionMs);
      this.maybeBid();
    } else {
      // We are the instrument and keep priority: ENQ again after at least a second.
      this.emit('contention', { winner: 'instrument' });
      this.replyTimer = this.timer(this.settings.instrumentContentionMs, () => {
        this.replyTimer = null;
        if (this.current !== 'establishing') return;
        this.write(ENQ);
        this.startReplyTimer(() => this.onEnqUnanswered());
      });
    }
  }

  private onEnqUnanswered(): void {
    // Termination phase: EOT, neutral, and a new bid later.
    this.setState('idle');
    this.write(EOT);
    this.retryOrGiveUp('no-answer');
  }

  private retryOrGiveUp(reason: 'busy' | 'no-answer'): void {
    const head = this.queue[0];
    if (this.settings.maxBids > 0 && head.bids >= this.settings.maxBids) {
      this.queue.shift();
      this.emit('send-failed', { id: head.id, reason, frames: head.frames.length });
    }
    this.holdBids(this.settings.busyRetryMs);
    this.maybeBid();
  }

  private sendFrame(): void {
    const outgoing = this.queue[0];
    const frame = outgoing.frames[this.frameIndex];
    this.startReplyTimer(() => this.abortTransfer('timeout'));
    this.emit('output', frame.bytes);
  }

  private onSendingByte(byte: number): void {
    if (byte === ACK) {
      this.clearReplyTimer();
      this.frameAccepted();
    } else if (byte === NAK) {
      this.clearReplyTimer();
      this.refusals += 1;
      if (this.refusals >= this.settings.maxRefusals) this.abortTransfer('refused');
      else this.sendFrame();
    } else if (byte === EOT) {
      this.clearReplyTimer();
      // Receiver interrupt: the frame was accepted, and the receiver asks us to stop.
      if (!this.settings.honourInterrupt) return this.frameAccepted();
      const outgoing = this.queue[0];
      const finished = this.frameIndex + 1 >= outgoing.frames.length;
      this.holdBids(this.settings.interruptHoldMs);
      if (finished) return this.frameAccepted();
      this.setState('idle');
      this.write(EOT);
      outgoing.bids = 0;
      this.emit('interrupted', { id: outgoing.id });
      this.maybeBid();
    }
    // Other bytes (an ENQ from a confused peer, noise) do not answer a frame.
  }

  private frameAccepted(): void {
    const outgoing = this.queue[0];
    this.refusals = 0;
    this.frameIndex += 1;
    if (this.frameIndex < outgoing.frames.length) return this.sendFrame();
    this.queue.shift();
    this.setState('idle');
    this.write(EOT);
    this.emit('sent', { id: outgoing.id, frames: outgoing.frames.length });
    this.maybeBid();
  }

  private abortTransfer(reason: 'refused' | 'timeout'): void {
    const outgoing = this.queue.shift()!;
    this.setState('idle');
    this.write(EOT);
    this.emit('send-failed', { id: outgoing.id, reason, frames: outgoing.frames.length });
    this.maybeBid();
  }

  private startReplyTimer(onTimeout: () => void): void {
    this.clearReplyTimer();
    this.replyTimer = this.timer(this.settings.replyTimeoutMs, () => {
      this.replyTimer = null;
      onTimeout();
    });
  }

  private clearReplyTimer(): void {
    if (this.replyTimer !== null) this.clock.clearTimeout(this.replyTimer);
    this.replyTimer = null;
  }

  private clearBidTimer(): void {
    if (this.bidTimer !== null) this.clock.clearTimeout(this.bidTimer);
    this.bidTimer = null;
  }
}

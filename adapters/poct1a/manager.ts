/**
 * The data manager's side of one POCT1-A connection, as a state machine that knows nothing of
 * sockets: bytes (or documents) in, messages to send and events out, time from an injectable
 * clock.
 *
 *   device HEL ─► ACK                      device DST ─► ACK, then REQ ROBS when it has new observations
 *   device OBS ─► ACK AA (AE + note when it cannot be read or mapped), 'observations' event
 *   device EOT ─► ACK, then END (topic OBS; or stay connected)    device ACK of END ─► 'close'
 *
 * Every device message is acknowledged with its own control id (ACKs are not acknowledged). The
 * manager's control ids are unique on the connection. A connection silent for idleTimeoutMs is
 * closed. Nothing here throws at the device's bytes: what cannot be read is answered with AE when
 * its control id is known, and reported as an event.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { InvalidResultError } from '../model';
import { Poct1DocumentError, Poct1MessageError } from './errors';
import { controlIdOf } from './hdr';
import type { DeviceIdentity } from './hel';
import { readMessage, Poct1Writer, type OutboundMessage, type Poct1Message } from './message';
import { toResults, type MappedResult, type MappingContext } from './mapping';
import type { DeviceStatus } from './dst';
import type { EndOfTopic } from './eot';
import type { Acknowledgement } from './ack';
import type { ObservationMessageType, PoctService } from './obs';
import { Poct1Splitter, type Poct1Document, type SplitItem } from './splitter';
import type { XmlEncoding } from './xml';
import { systemClock, type Clock } from '../common/clock';

export { systemClock, type Clock };

export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

export interface ManagerOptions {
  clock?: Clock;
  /** Close a connection that sends nothing for this long (default 120 s; 0: never). */
  idleTimeoutMs?: number;
  /** After the device's EOT for topic OBS: send END (default) or stay connected. */
  afterEndOfTopic?: 'end' | 'stay';
  maxDocumentBytes?: number;
  isMessageRoot?: (name: string) => boolean;
  /** The manager's first control id on this connection (default 1). */
  firstControlId?: number;
  timeZone?: string;
  encoding?: XmlEncoding;
  /**
   * Map observations to canonical results: events then carry them, and a message that does not
   * map is answered AE. `received`, `device` and `raw.sha256` are filled in by the manager.
   */
  mapping?: Omit<MappingContext, 'received' | 'device'>;
  /**
   * Called with each device message (ACKs aside) before it is acknowledged: journal its raw bytes
   * here. The ACK waits for a returned promise; a throw or a rejection makes it an AE. Bytes that
   * are not a document come as 'documentError' events instead.
   */
  accept?: (inbound: InboundMessage) => void | Promise<void>;
}

export type ConversationState = 'awaiting-hello' | 'ready' | 'requested' | 'ending' | 'closed';

export type CloseReason = 'end-acknowledged' | 'device-end' | 'idle' | 'peer-closed' | 'closed';

export interface ObservationsEvent {
  messageType: ObservationMessageType;
  controlId: string;
  /** patient: every service is a patient result; qc: none is; mixed: look at each service / result. */
  category: 'patient' | 'qc' | 'mixed';
  services: PoctService[];
  /** The canonical results, one per service, when the manager was given a mapping. */
  results?: MappedResult[];
  device?: DeviceIdentity;
  receivedAt: string;
  raw: Buffer;
}

export interface InboundMessage {
  message: Poct1Message;
  raw: Buffer;
  offset: number;
  receivedAt: string;
  observations?: ObservationsEvent;
}

export interface RejectedEvent {
  /** The message's control id when it could be read (then an AE was sent). */
  controlId?: string;
  messageType?: string;
  /** Why, in words that carry no patient data. */
  reason: string;
  raw: Buffer;
  offset: number;
  error?: Error;
}

export interface DeviceAckEvent {
  ack: Acknowledgement;
  /** The type of our message it acknowledges (REQ.R01, END.R01…), undefined when it matches none. */
  acknowledges?: string;
}

/**
 * Events: 'send' (OutboundMessage: write its bytes), 'hello' (DeviceIdentity), 'status'
 * (DeviceStatus), 'observations' (ObservationsEvent), 'endOfTopic' (EndOfTopic), 'message'
 * (a Poct1Message of a type this adapter does not handle; it was acknowledged), 'deviceAck'
 * (DeviceAckEvent), 'rejected' (RejectedEvent), 'documentError' (Poct1DocumentError: bytes that
 * are not a document), 'close' (CloseReason: close the connection).
 */
export class Poct1Manager extends EventEmitter {
  private readonly clock: Clock;
  private readonly splitter: Poct1Splitter;
  private readonly writer: Poct1Writer;
  private readonly idleTimeoutMs: number;
  private idleTimer: unknown;
  private readonly queue: SplitItem[] = [];
  private busy = false;
  private peerGone = false;
  /** Our messages the device has not acknowledged yet, by control id. */
  private readonly outstanding = new Map<string, string>();
  private currentState: ConversationState = 'awaiting-hello';
  private identity: DeviceIdentity | undefined;

  constructor(private readonly options: ManagerOptions = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.splitter = new Poct1Splitter({ maxDocumentBytes: options.maxDocumentBytes, isMessageRoot: options.isMessageRoot });
    this.writer = new Poct1Writer({ firstControlId: options.firstControlId, now: () => this.clock.now(), timeZone: options.timeZone, encoding: options.encoding });
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.armIdleTimer();
  }

  get state(): ConversationState {
    return this.currentState;
  }

  /** What the device said in its HEL, once it has. */
  get device(): DeviceIdentity | undefined {
    return this.identity;
  }

  /** Bytes from the device. */
  receive(chunk: Buffer): void {
    if (this.currentState === 'closed') return;
    this.armIdleTimer();
    this.enqueue(this.splitter.push(chunk));
  }

  /** One document already split (tests, or a transport that frames documents itself). */
  receiveDocument(document: Poct1Document): void {
    if (this.currentState === 'closed') return;
    this.armIdleTimer();
    this.enqueue([document]);
  }

  /** The device closed the connection: reports what was left half-sent, then closes. */
  peerClosed(): void {
    if (this.currentState === 'closed') return;
    this.peerGone = true;
    this.enqueue(this.splitter.end());
    this.close('peer-closed');
  }

  /** Stops the conversation (timers included). Emits 'close' once. */
  close(reason: CloseReason = 'closed'): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    if (this.idleTimer !== undefined) this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.emit('close', reason);
  }

  private armIdleTimer(): void {
    if (this.idleTimer !== undefined) this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.idleTimeoutMs > 0) this.idleTimer = this.clock.setTimeout(() => this.close('idle'), this.idleTimeoutMs);
  }

  private enqueue(items: SplitItem[]): void {
    this.queue.push(...items);
    this.pump();
  }

  /** One item at a time: the next waits while an `accept` promise is pending. */
  private pump(): void {
    while (!this.busy && this.queue.length > 0) {
      const item = this.queue.shift()!;
      // After close, document errors are still reported (the journal wants the bytes); nothing is sent.
      if (this.currentState === 'closed' && !(item instanceof Poct1DocumentError)) continue;
      const pending = item instanceof Poct1DocumentError ? this.onDocumentError(item) : this.onDocument(item);
      if (pending) {
        this.busy = true;
        void pending.finally(() => {
          this.busy = false;
          this.pump();
        });
      }
    }
  }

  private onDocumentError(error: Poct1DocumentError): undefined {
    this.emit('documentError', error);
    const controlId = controlIdOf(error.partial);
    // Never answer an acknowledgement, even a broken one.
    const answerable = controlId !== undefined && error.partial?.name !== 'ACK.R01';
    const reason = error.reason === 'oversize' ? `message larger than ${this.splitter.maxDocumentBytes} bytes`
      : error.reason === 'unsupported-encoding' ? 'message encoding not supported (UTF-8 or ISO-8859-1)'
        : error.reason === 'truncated' ? 'message cut short' : 'message is not well-formed XML';
    if (answerable) this.sendAck(controlId, 'AE', reason);
    this.emit('rejected', { controlId: answerable ? controlId : undefined, messageType: error.partial?.name, reason, raw: error.raw, offset: error.offset, error } satisfies RejectedEvent);
    return undefined;
  }

  private onDocument(document: Poct1Document): Promise<void> | undefined {
    const receivedAt = new Date(this.clock.now()).toISOString();
    let inbound: InboundMessage;
    try {
      const message = readMessage(document.root);
      inbound = { message, raw: document.raw, offset: document.offset, receivedAt };
      if (message.type === 'ACK.R01') {
        this.onDeviceAck(message.ack);
        return undefined;
      }
      if (message.type === 'OBS.R01' || message.type === 'OBS.R02') inbound.observations = this.observationsEvent(message, document, receivedAt);
    } catch (err) {
      this.reject(document, err as Error);
      return undefined;
    }
    const accept = this.options.accept;
    if (!accept) {
      this.proceed(inbound);
      return undefined;
    }
    let pending: void | Promise<void>;
    try {
      pending = accept(inbound);
    } catch (err) {
      this.refuse(inbound, err as Error);
      return undefined;
    }
    if (typeof (pending as PromiseLike<void> | undefined)?.then !== 'function') {
      this.proceed(inbound);
      return undefined;
    }
    return Promise.resolve(pending).then(() => this.proceed(inbound), (err: Error) => this.refuse(inbound, err));
  }

  private observationsEvent(message: Extract<Poct1Message, { type: ObservationMessageType }>, document: Poct1Document, receivedAt: string): ObservationsEvent {
    const services = message.observations.services;
    const patients = services.filter((s) => s.category === 'patient').length;
    const mapping = this.options.mapping;
    const results = mapping
      ? toResults(message.observations, {
        ...mapping,
        received: receivedAt,
        device: this.device,
        raw: { ...mapping.raw, sha256: createHash('sha256').update(document.raw).digest('hex') },
      })
      : undefined;
    return {
      messageType: message.type,
      controlId: message.header.controlId,
      category: patients === services.length ? 'patient' : patients === 0 ? 'qc' : 'mixed',
      services,
      results,
      device: this.device,
      receivedAt,
      raw: document.raw,
    };
  }

  /**
   * The message is accepted: acknowledge it, tell the hub, and take the conversation's next step.
   * Also after close (an `accept` that finished after the device left): the message is stored, so
   * the hub hears of it; only the sending is skipped.
   */
  private proceed(inbound: InboundMessage): void {
    const { message } = inbound;
    this.sendAck(message.header.controlId, 'AA');
    switch (message.type) {
      case 'HEL.R01':
        this.identity = message.device;
        if (this.currentState === 'awaiting-hello') this.currentState = 'ready';
        this.emit('hello', message.device);
        break;
      case 'DST.R01':
        if (this.currentState === 'awaiting-hello') this.currentState = 'ready';
        this.emit('status', message.status satisfies DeviceStatus);
        if (message.status.newObservations > 0) {
          this.sendOwn(this.writer.req('ROBS'));
          if (this.currentState === 'ready') this.currentState = 'requested';
        }
        break;
      case 'OBS.R01':
      case 'OBS.R02':
        this.emit('observations', inbound.observations);
        break;
      case 'EOT.R01':
        this.emit('endOfTopic', message.eot satisfies EndOfTopic);
        if (message.eot.topic === 'OBS') {
          if (this.currentState === 'requested') this.currentState = 'ready';
          if ((this.options.afterEndOfTopic ?? 'end') === 'end' && this.currentState !== 'closed') {
            this.sendOwn(this.writer.end({ reason: 'NRM' }));
            this.currentState = 'ending';
          }
        }
        break;
      case 'END.R01':
        this.close('device-end');
        break;
      default:
        this.emit('message', message);
    }
  }

  /** `accept` failed: the message was not stored, so the device must keep it. */
  private refuse(inbound: InboundMessage, error: Error): void {
    const reason = 'the data manager could not store the message';
    this.sendAck(inbound.message.header.controlId, 'AE', reason);
    this.emit('rejected', { controlId: inbound.message.header.controlId, messageType: inbound.message.type, reason, raw: inbound.raw, offset: inbound.offset, error } satisfies RejectedEvent);
  }

  /** A well-formed document we cannot use: AE when its control id is known. */
  private reject(document: Poct1Document, error: Error): void {
    const controlId = error instanceof Poct1MessageError ? error.controlId : controlIdOf(document.root);
    const reason = error instanceof Poct1MessageError ? error.message
      : error instanceof InvalidResultError ? `observations do not make a valid result: ${error.problems[0] ?? 'schema'}`
        : 'the message could not be processed';
    const answerable = controlId !== undefined && document.root.name !== 'ACK.R01';
    if (answerable) this.sendAck(controlId, 'AE', reason);
    this.emit('rejected', { controlId: answerable ? controlId : undefined, messageType: document.root.name, reason, raw: document.raw, offset: document.offset, error } satisfies RejectedEvent);
  }

  private onDeviceAck(ack: Acknowledgement): void {
    const acknowledges = this.outstanding.get(ack.ackControlId);
    this.outstanding.delete(ack.ackControlId);
    this.emit('deviceAck', { ack, acknowledges } satisfies DeviceAckEvent);
    if (acknowledges === 'END.R01') this.close('end-acknowledged');
  }

  private sendAck(ackControlId: string, type: 'AA' | 'AE', note?: string): void {
    this.send(this.writer.ack({ type, ackControlId, note }));
  }

  /** A message of ours that the device must acknowledge. */
  private sendOwn(message: OutboundMessage): void {
    this.outstanding.set(message.controlId, message.type);
    this.send(message);
  }

  private send(message: OutboundMessage): void {
    if (this.currentState === 'closed' || this.peerGone) return;
    this.emit('send', message);
  }
}

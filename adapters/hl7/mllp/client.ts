/**
 * MLLP sender. Each send resolves with the ACK whose MSA-2 equals its control ID, whatever the
 * order ACKs come back in; several sends may be in flight on the one connection. An ACK for a
 * control ID not in flight (typically after its send timed out) is emitted as 'lateAck', never
 * credited to another message.
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { readAck, type AckInfo } from '../ack';
import { decodeMessage } from '../charset';
import { MllpConnectionError, MllpFrameError, MllpTimeoutError } from '../errors';
import { Hl7Message } from '../message';
import { DEFAULT_MAX_MESSAGE_BYTES, MllpDecoder } from './decoder';
import { frame } from './frame';

export interface MllpClientOptions {
  host: string;
  port: number;
  /** Turns TLS on: ca, cert/key for a client certificate, servername... */
  tls?: tls.ConnectionOptions;
  /** Default 10 s. */
  connectTimeoutMs?: number;
  /** Largest ACK accepted (default 10 MiB). */
  maxMessageBytes?: number;
}

interface InFlight {
  controlId: string;
  resolve: (ack: AckInfo) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  /** Bytes of the message were handed to the socket: the peer may have them. */
  sent: boolean;
  connection?: Connection;
}

interface Connection {
  socket: net.Socket;
  /** Resolves once connected (TLS: once the handshake is done). */
  ready: Promise<void>;
  /** Messages sent, or waiting to be, on this connection and not yet answered. */
  entries: Set<InFlight>;
  connected: boolean;
  closed: boolean;
  lastError?: Error;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Events: 'connect' and 'disconnect' ({ peer }); 'lateAck' (AckInfo); 'frameError'
 * ({ peer, reason, raw }) for bytes from the peer that are not an ACK in an MLLP block.
 */
export class MllpClient extends EventEmitter {
  private readonly inFlight = new Map<string, InFlight>();
  private current: Connection | undefined;
  private closed = false;
  private readonly peer: string;

  constructor(private readonly options: MllpClientOptions) {
    super();
    this.peer = `${options.host}:${options.port}`;
  }

  /**
   * Sends one message (bytes already encoded) and resolves with its ACK. Rejects with
   * MllpTimeoutError after timeoutMs, with MllpConnectionError when the connection cannot be made
   * or drops before the ACK (err.sent: the bytes may have reached the peer).
   */
  send(payload: Buffer, controlId: string, timeoutMs: number): Promise<AckInfo> {
    if (this.closed) return Promise.reject(new MllpConnectionError('MLLP client closed', false, controlId));
    if (this.inFlight.has(controlId)) return Promise.reject(new Error(`control ID ${controlId} is already in flight`));
    return new Promise<AckInfo>((resolve, reject) => {
      const entry: InFlight = {
        controlId, resolve, reject, sent: false,
        timer: setTimeout(() => {
          if (this.inFlight.get(controlId) !== entry) return;
          this.inFlight.delete(controlId);
          entry.connection?.entries.delete(entry);
          reject(new MllpTimeoutError(controlId, timeoutMs));
        }, timeoutMs),
      };
      this.inFlight.set(controlId, entry);
      const connection = this.connection();
      entry.connection = connection;
      connection.entries.add(entry);
      connection.ready.then(
        () => {
          if (this.inFlight.get(controlId) !== entry || connection.closed) return; // timed out while connecting
          entry.sent = true;
          connection.socket.write(frame(payload));
        },
        (err: Error) => this.fail(entry, err),
      );
    });
  }

  /** Rejects what is in flight, closes the connection, resolves once it is closed. */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of [...this.inFlight.values()]) this.fail(entry, new MllpConnectionError('MLLP client closed before the ACK', entry.sent, entry.controlId));
    const connection = this.current;
    if (!connection || connection.closed) return;
    await new Promise<void>((resolve) => {
      connection.socket.once('close', () => resolve());
      connection.socket.destroy();
    });
  }

  /** The open connection, or a new one (lazy connect, and reconnect after a drop). */
  private connection(): Connection {
    if (this.current && !this.current.closed) return this.current;
    const { host, port } = this.options;
    const socket = this.options.tls ? tls.connect({ host, port, ...this.options.tls }) : net.connect({ host, port });
    const decoder = new MllpDecoder(this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    const ready = new Promise<void>((resolve, reject) => {
      const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      const timer = setTimeout(() => socket.destroy(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
      socket.once(this.options.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(new MllpConnectionError(`cannot connect to ${this.peer}: ${connection.lastError?.message ?? 'closed'}`, false));
      });
    });
    const connection: Connection = { socket, ready, entries: new Set(), connected: false, closed: false };
    ready.then(
      () => {
        socket.setNoDelay(true);
        connection.connected = true;
        this.emit('connect', { peer: this.peer });
      },
      () => undefined, // each waiting send gets the rejection
    );
    socket.on('data', (chunk: Buffer) => this.receive(decoder.push(chunk)));
    socket.on('error', (err: Error) => {
      connection.lastError = err;
    });
    socket.on('close', () => {
      connection.closed = true;
      if (this.current === connection) this.current = undefined;
      this.receive(decoder.end());
      if (!connection.connected) return; // the sends waiting on `ready` are rejected by it
      const reason = connection.lastError ? `: ${connection.lastError.message}` : '';
      for (const entry of [...connection.entries]) {
        this.fail(entry, new MllpConnectionError(`connection to ${this.peer} dropped before the ACK for control ID ${entry.controlId}${reason}`, entry.sent, entry.controlId));
      }
      this.emit('disconnect', { peer: this.peer });
    });
    this.current = connection;
    return connection;
  }

  private receive(items: Array<Buffer | MllpFrameError>): void {
    for (const item of items) {
      if (item instanceof MllpFrameError) {
        this.emit('frameError', { peer: this.peer, reason: item.message, raw: item.raw, error: item });
        continue;
      }
      let ack: AckInfo;
      try {
        ack = readAck(Hl7Message.parse(decodeMessage(item).text), item);
      } catch (err) {
        this.emit('frameError', { peer: this.peer, reason: `not an ACK: ${(err as Error).message}`, raw: item });
        continue;
      }
      const entry = this.inFlight.get(ack.controlId);
      if (!entry) {
        this.emit('lateAck', ack);
        continue;
      }
      this.inFlight.delete(ack.controlId);
      entry.connection?.entries.delete(entry);
      clearTimeout(entry.timer);
      entry.resolve(ack);
    }
  }

  /** Settles an entry with an error if it is still in flight. */
  private fail(entry: InFlight, err: Error): void {
    if (this.inFlight.get(entry.controlId) !== entry) return;
    this.inFlight.delete(entry.controlId);
    entry.connection?.entries.delete(entry);
    clearTimeout(entry.timer);
    const error = err instanceof MllpConnectionError && err.controlId === undefined ? new MllpConnectionError(err.message, entry.sent, entry.controlId) : err;
    entry.reject(error);
  }
}

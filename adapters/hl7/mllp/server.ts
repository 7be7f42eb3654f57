/**
 * MLLP listener (TCP or TLS). Each message is passed to the handler, whose answer (an ACK, not
 * framed) is framed and written back. Messages of one connection are handled one after another,
 * in order, so a handler that journals before answering keeps the sender's order.
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { MllpFrameError } from '../errors';
import { DEFAULT_MAX_MESSAGE_BYTES, MllpDecoder } from './decoder';
import { frame } from './frame';

export interface MllpServerOptions {
  host: string;
  /** 0 lets the system pick a free port; listen() resolves it. */
  port: number;
  /** Turns TLS on: key, cert, ca, requestCert (client certificates), rejectUnauthorized... */
  tls?: tls.TlsOptions;
  /** Largest message accepted, in bytes (default 10 MiB): a longer block is reported and skipped. */
  maxMessageBytes?: number;
  /** Closes a connection silent for this long (none by default). */
  idleTimeoutMs?: number;
  /** Returns the ACK payload (unframed). If it throws, no ACK is sent: the sender will retry. */
  handler: (message: { bytes: Buffer; peer: string }) => Promise<Buffer>;
}

export interface MllpFrameErrorEvent {
  peer: string;
  reason: string;
  raw: Buffer;
  error: MllpFrameError;
}

// Stop reading a connection whose peer pipelines faster than the handler answers.
const PAUSE_AT = 32;

/**
 * Events: 'connection' and 'disconnect' ({ peer }); 'frameError' (MllpFrameErrorEvent) for
 * garbage, oversize or truncated blocks; 'handlerError' ({ peer, error }) when the handler throws;
 * 'tlsError' ({ peer, error }) for a failed TLS handshake; 'error' for the listening socket.
 */
export class MllpServer extends EventEmitter {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: MllpServerOptions) {
    super();
  }

  /** Open connections. */
  get connections(): number {
    return this.sockets.size;
  }

  /** Starts listening; resolves the bound port. */
  listen(): Promise<number> {
    if (this.server) return Promise.reject(new Error('MLLP server already listening'));
    const tlsOptions = this.options.tls;
    const secure = tlsOptions !== undefined;
    const server = tlsOptions ? tls.createServer(tlsOptions) : net.createServer();
    this.server = server;
    server.on(secure ? 'secureConnection' : 'connection', (socket: net.Socket) => this.accept(socket));
    if (secure) {
      server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => this.emit('tlsError', { peer: peerOf(socket), error }));
    }
    return new Promise((resolve, reject) => {
      const failed = (err: Error) => {
        this.server = undefined;
        reject(err);
      };
      server.once('error', failed);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', failed);
        server.on('error', (err: Error) => this.emit('error', err));
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : this.options.port);
      });
    });
  }

  /** Stops accepting, destroys open connections, resolves once all is closed. */
  close(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    this.server = undefined;
    return new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }

  private accept(socket: net.Socket): void {
    const peer = peerOf(socket);
    const decoder = new MllpDecoder(this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    const queue: Buffer[] = [];
    let busy = false;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    this.emit('connection', { peer });

    const frameError = (error: MllpFrameError) => this.emit('frameError', { peer, reason: error.message, raw: error.raw, error });
    const take = (items: ReturnType<MllpDecoder['push']>) => {
      for (const item of items) {
        if (item instanceof MllpFrameError) frameError(item);
        else queue.push(item);
      }
    };
    const pump = async () => {
      if (busy) return;
      busy = true;
      while (queue.length > 0 && !socket.destroyed) {
        const bytes = queue.shift()!;
        if (queue.length < PAUSE_AT && socket.isPaused()) socket.resume();
        let ack: Buffer;
        try {
          ack = await this.options.handler({ bytes, peer });
        } catch (error) {
          this.emit('handlerError', { peer, error });
          continue;
        }
        if (!socket.destroyed && socket.writable) socket.write(frame(ack));
      }
      busy = false;
    };

    socket.on('data', (chunk: Buffer) => {
      take(decoder.push(chunk));
      if (queue.length >= PAUSE_AT) socket.pause();
      void pump();
    });
    if (this.options.idleTimeoutMs) {
      socket.setTimeout(this.options.idleTimeoutMs, () => {
        if (!busy && queue.length === 0) socket.destroy();
      });
    }
    socket.on('error', () => {
      // ECONNRESET and the like: 'close' follows and reports what was left.
    });
    socket.on('close', () => {
      take(decoder.end()); // a block cut short by the peer is reported with its bytes
      queue.length = 0;
      this.sockets.delete(socket);
      this.emit('disconnect', { peer });
    });
  }
}

export function peerOf(socket: net.Socket): string {
  const address = socket.remoteAddress ?? 'unknown';
  return `${address.includes(':') ? `[${address}]` : address}:${socket.remotePort ?? 0}`;
}

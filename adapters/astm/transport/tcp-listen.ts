/**
 * ASTM over TCP as the standard has it: the hub listens, the instrument connects. One AstmLink per
 * connection, so two analysers (or one that reconnects before the old socket is noticed dead)
 * never share a state machine.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { attachLink } from '../link';
import type { AstmTransport, LinkFactory, TransportEvents } from './types';

export interface TcpListenOptions {
  host?: string;
  port: number;
  createLink: LinkFactory;
  /** TCP keep-alive probe delay, so a pulled cable is noticed (default 10 s; 0: off). */
  keepAliveMs?: number;
  /** Connections refused beyond this (default 16). */
  maxConnections?: number;
}

export class TcpListenTransport extends EventEmitter<TransportEvents> implements AstmTransport {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private closed = false;

  constructor(private readonly options: TcpListenOptions) {
    super();
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  start(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = this.options.maxConnections ?? 16;
    this.server = server;
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        this.server = undefined;
        reject(err);
      };
      server.once('error', onError);
      server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => {
        server.off('error', onError);
        server.on('error', (err) => this.emit('status', { state: 'error', error: err, connections: this.connections }));
        this.emit('status', { state: 'listening', connections: this.connections });
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    if (this.closed) return void socket.destroy();
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    const keepAlive = this.options.keepAliveMs ?? 10_000;
    if (keepAlive > 0) socket.setKeepAlive(true, keepAlive);
    this.sockets.add(socket);
    const link = this.options.createLink(peer);
    attachLink(link, socket);
    socket.on('error', (err) => this.emit('status', { state: 'error', peer, error: err, connections: this.connections }));
    socket.on('close', () => {
      this.sockets.delete(socket);
      link.close();
      if (!this.closed) this.emit('status', { state: 'disconnected', peer, connections: this.connections });
    });
    this.emit('link', link, peer);
    this.emit('status', { state: 'connected', peer, connections: this.connections });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

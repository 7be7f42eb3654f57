/**
 * ASTM over TCP with the hub connecting out (some sites' analysers listen). The connection is
 * kept: when it drops (device reboot, cable pulled) or cannot be made, the transport tries again
 * with back-off, reset after each successful connection. One AstmLink per connection.
 */
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { attachLink } from '../link';
import { type AstmTransport, type Backoff, backoffDelay, DEFAULT_BACKOFF, type LinkFactory, type TransportEvents } from './types';

export interface TcpConnectOptions {
  host: string;
  port: number;
  createLink: LinkFactory;
  backoff?: Partial<Backoff>;
  /** Time allowed for one connection attempt (default 10 s). */
  connectTimeoutMs?: number;
  keepAliveMs?: number;
}

export class TcpConnectTransport extends EventEmitter<TransportEvents> implements AstmTransport {
  private socket: Socket | undefined;
  private connected = false;
  private closed = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private readonly peer: string;

  constructor(private readonly options: TcpConnectOptions) {
    super();
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.peer = `${options.host}:${options.port}`;
  }

  get connections(): number {
    return this.connected ? 1 : 0;
  }

  async start(): Promise<void> {
    this.attempt();
  }

  private attempt(): void {
    if (this.closed) return;
    this.emit('status', { state: 'connecting', peer: this.peer, connections: 0 });
    const socket = new Socket();
    this.socket = socket;
    let errored: Error | undefined;
    socket.setTimeout(this.options.connectTimeoutMs ?? 10_000, () => {
      if (!this.connected) socket.destroy(new Error(`no connection to ${this.peer} within ${this.options.connectTimeoutMs ?? 10_000} ms`));
    });
    socket.on('error', (err) => {
      errored = err;
    });
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.setNoDelay(true);
      const keepAlive = this.options.keepAliveMs ?? 10_000;
      if (keepAlive > 0) socket.setKeepAlive(true, keepAlive);
      this.connected = true;
      this.failures = 0;
      const link = this.options.createLink(this.peer);
      attachLink(link, socket);
      socket.once('close', () => link.close());
      this.emit('link', link, this.peer);
      this.emit('status', { state: 'connected', peer: this.peer, connections: 1 });
    });
    socket.once('close', () => {
      const wasConnected = this.connected;
      this.connected = false;
      if (this.socket === socket) this.socket = undefined;
      if (this.closed) return;
      this.failures += 1;
      const retryInMs = backoffDelay(this.failures, this.backoff);
      if (errored && !wasConnected) this.emit('status', { state: 'error', peer: this.peer, error: errored, connections: 0, retryInMs });
      else this.emit('status', { state: 'disconnected', peer: this.peer, connections: 0, retryInMs, ...(errored ? { error: errored } : {}) });
      this.timer = setTimeout(() => this.attempt(), retryInMs);
    });
    socket.connect(this.options.port, this.options.host);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket && !socket.destroyed) {
      const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.destroy();
      await gone;
    }
  }
}

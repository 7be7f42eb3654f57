/**
 * What every ASTM transport shares: it owns the line (a listening socket, an outgoing socket, a
 * serial port), makes one AstmLink per connection with the caller's factory, wires it with
 * attachLink, and says how the line is doing. It never reads the link's messages itself.
 */
import { EventEmitter } from 'node:events';
import type { AstmLink } from '../link';

export type TransportState = 'listening' | 'connecting' | 'connected' | 'disconnected' | 'error';

export interface TransportStatus {
  state: TransportState;
  /** `host:port` of the peer, or the serial path. */
  peer?: string;
  /** Open connections (the listener has one per instrument; the others 0 or 1). */
  connections: number;
  error?: Error;
  /** Milliseconds before the next attempt (connecting out, reopening a port). */
  retryInMs?: number;
}

export interface TransportEvents {
  status: [status: TransportStatus];
  /** A new connection with its link, already wired. */
  link: [link: AstmLink, peer: string];
}

/** Makes the link of one connection (settings, hooks and listeners are the caller's). */
export type LinkFactory = (peer: string) => AstmLink;

export interface AstmTransport extends EventEmitter<TransportEvents> {
  /** Listening (tcp-listen) or first attempt made (tcp-connect, serial); rejects only when the line cannot be set up at all. */
  start(): Promise<void>;
  /** Closes the line and every link; no reconnection after. */
  close(): Promise<void>;
  readonly connections: number;
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 30_000, factor: 2 };

/** The wait before attempt n+1 after n consecutive failures (n ≥ 1). */
export function backoffDelay(failures: number, backoff: Backoff = DEFAULT_BACKOFF): number {
  return Math.min(backoff.maxMs, Math.round(backoff.initialMs * backoff.factor ** Math.max(0, failures - 1)));
}

/**
 * ASTM over RS-232 with the `serialport` package (a USB adapter, a real port, or a
 * pseudo-terminal). The port is kept open: when it errors or closes (adapter unplugged, device
 * rebooted with the port gone), it is reopened with back-off. One AstmLink per opening.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { attachLink } from '../link';
import { type AstmTransport, type Backoff, backoffDelay, DEFAULT_BACKOFF, type LinkFactory, type TransportEvents } from './types';

export type Parity = 'none' | 'even' | 'odd' | 'mark' | 'space';
export type FlowControl = 'none' | 'rtscts' | 'xon';

export interface SerialLineSettings {
  path: string;
  /** 1,200 to 115,200 (default 9,600). */
  baudRate?: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: Parity;
  stopBits?: 1 | 1.5 | 2;
  flowControl?: FlowControl;
}

export interface SerialOptions extends SerialLineSettings {
  createLink: LinkFactory;
  backoff?: Partial<Backoff>;
  /**
   * How often an open port's path is checked (default 2 s; 0: never). A USB adapter pulled out,
   * or a pseudo-terminal whose other end went, is not always reported by the driver: when the
   * path is gone the port is closed and reopened with back-off.
   */
  checkIntervalMs?: number;
}

export const SERIAL_BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;

/** Refuses settings a port would refuse later, with the reason. */
export function checkSerialSettings(settings: SerialLineSettings): void {
  if (!settings.path) throw new Error('serial: no port path');
  const baud = settings.baudRate ?? 9600;
  if (!Number.isInteger(baud) || baud < 1200 || baud > 115200) throw new Error(`serial: baud rate ${baud} outside 1200–115200`);
  if (![5, 6, 7, 8].includes(settings.dataBits ?? 8)) throw new Error(`serial: data bits ${settings.dataBits}`);
  if (!['none', 'even', 'odd', 'mark', 'space'].includes(settings.parity ?? 'none')) throw new Error(`serial: parity ${settings.parity}`);
  if (![1, 1.5, 2].includes(settings.stopBits ?? 1)) throw new Error(`serial: stop bits ${settings.stopBits}`);
  if (!['none', 'rtscts', 'xon'].includes(settings.flowControl ?? 'none')) throw new Error(`serial: flow control ${settings.flowControl}`);
}

/** Opens a port (no reconnection): for the simulator and tools. */
export async function openSerialPort(settings: SerialLineSettings): Promise<SerialPort> {
  checkSerialSettings(settings);
  const flow = settings.flowControl ?? 'none';
  const port = new SerialPort({
    path: settings.path,
    baudRate: settings.baudRate ?? 9600,
    dataBits: settings.dataBits ?? 8,
    parity: settings.parity ?? 'none',
    stopBits: settings.stopBits ?? 1,
    rtscts: flow === 'rtscts',
    xon: flow === 'xon',
    xoff: flow === 'xon',
    autoOpen: false,
  });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  return port;
}

export class SerialTransport extends EventEmitter<TransportEvents> implements AstmTransport {
  private port: SerialPort | undefined;
  private opened = false;
  private closed = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;

  constructor(private readonly options: SerialOptions) {
    super();
    checkSerialSettings(options);
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  }

  get connections(): number {
    return this.opened ? 1 : 0;
  }

  async start(): Promise<void> {
    void this.attempt();
  }

  private async attempt(): Promise<void> {
    if (this.closed) return;
    const path = this.options.path;
    this.emit('status', { state: 'connecting', peer: path, connections: 0 });
    let port: SerialPort;
    try {
      port = await openSerialPort(this.options);
    } catch (err) {
      return this.retry(err as Error, false);
    }
    if (this.closed) return void port.close(() => undefined);
    this.port = port;
    this.opened = true;
    this.failures = 0;
    const link = this.options.createLink(path);
    const detach = attachLink(link, port);
    let lastError: Error | undefined;
    let gone = false;
    const lost = () => {
      if (gone) return;
      gone = true;
      clearInterval(watchdog);
      detach();
      link.close();
      this.opened = false;
      if (this.port === port) this.port = undefined;
      if (!this.closed) this.retry(lastError ?? new Error(`${path} closed`), true);
    };
    const checkMs = this.options.checkIntervalMs ?? 2000;
    const watchdog = checkMs > 0
      ? setInterval(() => {
        if (existsSync(path)) return;
        lastError = new Error(`${path} is gone`);
        if (port.isOpen) port.close(() => lost());
        else lost();
      }, checkMs)
      : undefined;
    watchdog?.unref();
    port.on('error', (err) => {
      lastError = err;
      // An error on an open port may leave it open but useless: close it, then reopen.
      if (port.isOpen) port.close(() => lost());
      else lost();
    });
    port.once('close', lost);
    this.emit('link', link, path);
    this.emit('status', { state: 'connected', peer: path, connections: 1 });
  }

  private retry(error: Error, wasOpen: boolean): void {
    if (this.closed) return;
    this.failures += 1;
    const retryInMs = backoffDelay(this.failures, this.backoff);
    this.emit('status', { state: wasOpen ? 'disconnected' : 'error', peer: this.options.path, error, connections: 0, retryInMs });
    this.timer = setTimeout(() => void this.attempt(), retryInMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

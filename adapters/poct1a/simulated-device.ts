/**
 * A point-of-care device that speaks POCT1-A over TCP, for tests and `npm run simulate`: it
 * connects to a data manager and plays the basic conversation, waiting for each ACK before the
 * next message, and acknowledging every message the manager sends.
 *
 *   HEL ─► ACK   DST (n new) ─► ACK   ◄─ REQ ROBS (ACKed)   OBS × n, each ─► ACK   EOT ─► ACK   ◄─ END (ACKed), close
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import type { Acknowledgement } from './ack';
import type { DeviceIdentity } from './hel';
import { readMessage, Poct1Writer, type Poct1Message } from './message';
import type { ObservationMessageType, ServiceInput } from './obs';
import { Poct1Splitter } from './splitter';
import { formatTimestamp, DEFAULT_TIME_ZONE } from './time';
import type { XmlEncoding } from './xml';

export interface SimulatedObservations {
  messageType: ObservationMessageType;
  services: ServiceInput[];
}

/** A document sent exactly as given (a broken one, for tests); controlId is what its ACK should carry. */
export interface RawDeviceMessage {
  raw: Buffer;
  controlId: string;
}

export interface SimulatedDeviceOptions {
  host?: string;
  port: number;
  identity?: DeviceIdentity;
  /** The observation messages to send after REQ ROBS (default: sampleObservations()). */
  observations?: Array<SimulatedObservations | RawDeviceMessage>;
  firstControlId?: number;
  /** The device's clock, for HDR.creation_dttm (a test can set it years off). */
  now?: () => number;
  timeZone?: string;
  encoding?: XmlEncoding;
  indent?: string;
  /** Write each message in pieces of at most this many bytes, one socket write each. */
  writeChunkBytes?: number;
  /** How long to wait for each ACK, REQ or END (default 10 s). */
  replyTimeoutMs?: number;
  /** Wait for the manager's END after EOT (default true); otherwise close after EOT's ACK. */
  expectEnd?: boolean;
}

export interface SimulationReport {
  /** What the device sent, in order, with the ACK each one got. */
  exchanges: Array<{ type: string; controlId: string; ack: Acknowledgement }>;
  /** Every message received from the manager, ACKs included, in order. */
  received: Poct1Message[];
  ended: boolean;
}

export const DEFAULT_DEVICE_IDENTITY: DeviceIdentity = {
  deviceId: 'SIM-HBA1C-0001',
  vendorId: 'Passerelle',
  modelId: 'Simulated HbA1c analyser',
  serialId: '0001',
  softwareVersion: '1.0.0',
  capabilities: { connectionProfile: 'SA', topicsSupported: ['OBS'], directivesSupported: [], maxMessageSize: 65536, applicationTimeoutS: 30 },
};

/** Two HbA1c patient results and one liquid QC, observed a few minutes before `at`. */
export function sampleObservations(at = Date.now(), timeZone = DEFAULT_TIME_ZONE): SimulatedObservations[] {
  const t = (minutesAgo: number) => formatTimestamp(at - minutesAgo * 60_000, timeZone);
  const reagent = { lotNumber: '10293847', expirationDate: '2027-06-30' };
  const hba1c = (value: string, ifcc: string, flag: string) => [
    { id: { value: '4548-4', system: 'LN', display: 'HbA1c' }, value: { value, units: '%' }, method: 'M', interpretation: flag, normalRange: { value: '[4.0;6.0]', units: '%' } },
    { id: { value: 'HbA1c_IFCC', system: 'SIM' }, value: { value: ifcc, units: 'mmol/mol' }, method: 'C' },
  ];
  return [
    { messageType: 'OBS.R01', services: [{ role: 'OBS', observationTime: t(12), patient: { id: 'SIM-PAT-001' }, observations: hba1c('6.1', '43', 'H'), operatorId: 'IDE01', reagents: [reagent] }] },
    { messageType: 'OBS.R01', services: [{ role: 'OBS', observationTime: t(7), patient: { id: 'SIM-PAT-002' }, observations: hba1c('5.4', '36', 'N'), operatorId: 'IDE01', reagents: [reagent] }] },
    {
      messageType: 'OBS.R02',
      services: [{
        role: 'LQC', observationTime: t(3), control: { name: 'HbA1c Control C I', lotNumber: 'C1-5521', expirationDate: '2027-01-31', level: '1' },
        observations: [{ id: { value: '4548-4', system: 'LN', display: 'HbA1c' }, value: { value: '5.3', units: '%' } }], operatorId: 'IDE01', reagents: [reagent],
      }],
    },
  ];
}

interface Waiter {
  match: (m: Poct1Message) => boolean;
  resolve: (m: Poct1Message) => void;
  reject: (err: Error) => void;
}

export class SimulatedDevice extends EventEmitter {
  private readonly writer: Poct1Writer;
  private readonly splitter = new Poct1Splitter();
  private socket: net.Socket | undefined;
  private readonly received: Poct1Message[] = [];
  private readonly waiters = new Set<Waiter>();
  private failure: Error | undefined;
  /** Writes go out one message at a time, even when written in pieces. */
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly options: SimulatedDeviceOptions) {
    super();
    this.writer = new Poct1Writer({ firstControlId: options.firstControlId ?? 1001, now: options.now, timeZone: options.timeZone, encoding: options.encoding, indent: options.indent });
  }

  /** Plays the whole conversation; resolves once the connection is closed. */
  async run(): Promise<SimulationReport> {
    const exchanges: SimulationReport['exchanges'] = [];
    const now = () => this.options.now?.() ?? Date.now();
    const observations = this.options.observations ?? sampleObservations(now(), this.options.timeZone);
    const socket = await this.connect();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    let ended = false;
    const sendAndWait = async (type: string, controlId: string, bytes: Buffer) => {
      const reply = this.next((m) => m.type === 'ACK.R01' && m.ack.ackControlId === controlId, `ACK of ${type} ${controlId}`);
      void this.write(bytes);
      const ack = await reply;
      exchanges.push({ type, controlId, ack: (ack as Extract<Poct1Message, { type: 'ACK.R01' }>).ack });
    };
    try {
      const hel = this.writer.hel(this.options.identity ?? DEFAULT_DEVICE_IDENTITY);
      await sendAndWait(hel.type, hel.controlId, hel.bytes);
      // Listen before sending DST: the REQ may follow its ACK at once.
      const request = observations.length > 0 ? this.next((m) => m.type === 'REQ.R01' && m.request === 'ROBS', 'REQ ROBS') : undefined;
      const dst = this.writer.dst({ statusTime: formatTimestamp(now(), this.options.timeZone), newObservations: observations.length, newEvents: 0, condition: 'R' });
      await sendAndWait(dst.type, dst.controlId, dst.bytes);
      if (request) await request;
      for (const item of observations) {
        if ('raw' in item) await sendAndWait('raw', item.controlId, item.raw);
        else {
          const obs = this.writer.obs(item.messageType, item.services);
          await sendAndWait(obs.type, obs.controlId, obs.bytes);
        }
      }
      const end = (this.options.expectEnd ?? true) ? this.next((m) => m.type === 'END.R01', 'END') : undefined;
      const eot = this.writer.eot({ topic: 'OBS' });
      await sendAndWait(eot.type, eot.controlId, eot.bytes);
      if (end) {
        await end;
        ended = true;
      }
    } finally {
      await this.writing; // the ACK of END goes out before the FIN
      socket.end();
      setTimeout(() => socket.destroy(), 2_000).unref();
      await closed;
    }
    return { exchanges, received: [...this.received], ended };
  }

  private connect(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.options.host ?? '127.0.0.1', port: this.options.port });
      socket.setNoDelay(true);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.fail(err));
        socket.on('close', () => this.fail(new Error('connection closed')));
        resolve(socket);
      });
      socket.once('error', reject);
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      this.socket = socket;
    });
  }

  private onData(chunk: Buffer): void {
    for (const item of this.splitter.push(chunk)) {
      if (item instanceof Error) {
        this.emit('documentError', item);
        continue;
      }
      let message: Poct1Message;
      try {
        message = readMessage(item.root);
      } catch (err) {
        this.emit('unreadable', err);
        continue;
      }
      this.received.push(message);
      this.emit('message', message);
      // The device acknowledges everything but acknowledgements.
      if (message.type !== 'ACK.R01') void this.write(this.writer.ack({ type: 'AA', ackControlId: message.header.controlId }).bytes);
      for (const waiter of [...this.waiters]) {
        if (waiter.match(message)) {
          this.waiters.delete(waiter);
          waiter.resolve(message);
        }
      }
    }
  }

  /** Resolves with the first message (from now on) that matches; rejects on timeout or disconnection. */
  private next(match: (m: Poct1Message) => boolean, what: string): Promise<Poct1Message> {
    if (this.failure) return Promise.reject(this.failure);
    const timeoutMs = this.options.replyTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`simulated device: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.add(waiter);
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.waiters) waiter.reject(new Error(`simulated device: ${err.message} while waiting`));
    this.waiters.clear();
  }

  private write(bytes: Buffer): Promise<void> {
    this.writing = this.writing.then(async () => {
      const socket = this.socket;
      if (!socket || socket.destroyed) return;
      const size = this.options.writeChunkBytes;
      if (!size || size >= bytes.length) {
        socket.write(bytes);
        return;
      }
      for (let i = 0; i < bytes.length; i += size) {
        if (socket.destroyed) return;
        socket.write(bytes.subarray(i, i + size));
        // Let each piece leave as its own segment.
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    return this.writing;
  }
}

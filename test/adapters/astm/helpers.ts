/**
 * Test helpers for the ASTM link: a fake clock (no test sleeps), a link wired to recorders, and
 * frame builders that do not use the code under test, so a shared mistake cannot hide.
 */
import { readFileSync } from 'node:fs';
import { AstmLink, type Clock, type FrameEvent, type IncompleteMessage, type LinkOptions, type ReceivedMessage } from '../../../adapters/astm';
import { sharedFixture } from '../../support/shared';

interface Pending { at: number; seq: number; fn: () => void }

/** Time that moves only when told to; timers fire in order, including timers set while firing. */
export class FakeClock implements Clock {
  private time = 1_700_000_000_000;
  private seq = 0;
  private readonly timers = new Map<number, Pending>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward by ms, firing every timer due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: [number, Pending] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq))) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = end;
  }

  get pendingTimers(): number {
    return this.timers.size;
  }
}

export const BYTE = { STX: 0x02, ETX: 0x03, EOT: 0x04, ENQ: 0x05, ACK: 0x06, LF: 0x0a, CR: 0x0d, NAK: 0x15, ETB: 0x17 } as const;

/** Checksum computed here, independently of the adapter: sum of FN..terminator mod 256. */
export function referenceChecksum(fn: number, text: string, terminator: number): string {
  let sum = 0x30 + fn + terminator;
  for (const b of Buffer.from(text, 'latin1')) sum += b;
  return (sum % 256).toString(16).toUpperCase().padStart(2, '0');
}

/** A frame written out by hand: STX FN text ETB|ETX C1 C2 + trailer (CR LF unless said otherwise). */
export function frameBytes(fn: number, text: string, options: { final?: boolean; trailer?: string; checksum?: string } = {}): Buffer {
  const terminator = options.final === false ? BYTE.ETB : BYTE.ETX;
  const checksum = options.checksum ?? referenceChecksum(fn, text, terminator);
  return Buffer.concat([
    Buffer.from([BYTE.STX]), Buffer.from(`${fn}${text}`, 'latin1'), Buffer.from([terminator]), Buffer.from(checksum, 'latin1'),
    Buffer.from(options.trailer ?? '\r\n', 'latin1'),
  ]);
}

export interface Harness {
  link: AstmLink;
  clock: FakeClock;
  /** Every byte the link wrote, in order. */
  out: number[];
  messages: ReceivedMessage[];
  incomplete: IncompleteMessage[];
  frames: FrameEvent[];
  sent: string[];
  failed: Array<{ id: string; reason: string }>;
  interrupted: string[];
  /** Bytes written since the last call. */
  take(): number[];
  feed(bytes: Uint8Array | number[] | string): void;
}

export function harness(options: LinkOptions = {}, clock = new FakeClock()): Harness {
  const link = new AstmLink({ clock, ...options });
  const h: Harness = {
    link, clock, out: [], messages: [], incomplete: [], frames: [], sent: [], failed: [], interrupted: [],
    take() {
      const taken = h.out.slice(cursor);
      cursor = h.out.length;
      return taken;
    },
    feed(bytes) {
      link.receive(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes));
    },
  };
  let cursor = 0;
  link.on('output', (b) => h.out.push(...b));
  link.on('message', (m) => h.messages.push(m));
  link.on('incomplete', (m) => h.incomplete.push(m));
  link.on('frame', (f) => h.frames.push(f));
  link.on('sent', (s) => h.sent.push(s.id));
  link.on('send-failed', (f) => h.failed.push(f));
  link.on('interrupted', (i) => h.interrupted.push(i.id));
  return h;
}

/** Wires two links back to back (what one writes, the other reads), on one clock. */
export function wire(a: AstmLink, b: AstmLink): void {
  a.on('output', (bytes) => b.receive(bytes));
  b.on('output', (bytes) => a.receive(bytes));
}

export interface AstmFixture {
  file: string;
  bytes: Buffer;
  framed: boolean;
}

export const FRAMED_FIXTURES = [
  'abbott-afinion2.txt', 'cepheid-genexpert.txt', 'horiba-pentra-xlr.txt', 'horiba-yumizen-h500.txt', 'roche-cobas-c111.txt',
  'roche-cobas-c311.txt', 'siemens-dca-vantage.txt', 'sysmex-xn550.txt', 'sysmex-xp100.txt',
] as const;
export const RECORD_FIXTURES = [
  'go-astm_biorad-ihcom-v52_bloodtype-por.astm', 'go-astm_biorad-ihcom-v52_bloodtype.astm', 'go-astm_euroimmun-analyzer1_sampleigg.astm',
  'go-astm_horiba-yumizen-h550_result.astm', 'go-astm_immucor-galileo-echo_order.astm', 'go-astm_immucor-galileo-echo_result.astm',
] as const;

export function fixture(file: string): AstmFixture {
  return { file, bytes: readFileSync(sharedFixture('astm', file)), framed: file.endsWith('.txt') };
}

/**
 * The text a framed capture should yield, worked out without the adapter: each frame's text in
 * order, with a CR added after an ETX frame whose text does not end a record.
 */
export function expectedText(bytes: Buffer): string {
  let text = '';
  const all = bytes.toString('latin1');
  const re = /\x02[0-7]([\s\S]*?)([\x03\x17])[0-9A-F]{2}/g;
  for (let m = re.exec(all); m; m = re.exec(all)) {
    text += m[1];
    if (m[2] === '\x03' && !/[\r\n]$/.test(m[1])) text += '\r';
  }
  return text;
}

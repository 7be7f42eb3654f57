/**
 * A simulated ASTM instrument: plays a capture (or generated results) through an AstmLink on the
 * instrument side, over TCP or a serial line, and says what happens. Used by
 * `npm run simulate -- astm …` and by the tests as a library.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AstmLink, attachLink, type LinkOptions } from '../adapters/astm';
import { openSerialPort, type SerialLineSettings } from '../adapters/astm/transport';

const STX = 0x02;
const ETX = 0x03;
const EOT = 0x04;
const ETB = 0x17;

/**
 * The messages of a capture, as record text (records ending with CR). A framed capture (STX…)
 * is unframed: each transfer (up to EOT) gives its frames' text joined, a CR added after an ETX
 * frame whose text does not end a record. A record-only capture (CR, LF or CR LF between
 * records) is split into messages at each H record.
 */
export function captureMessages(bytes: Buffer): string[] {
  if (bytes.includes(STX)) return unframe(bytes);
  const records = bytes.toString('latin1').split(/\r\n|\r|\n/).filter((r) => r.trim().length > 0);
  const messages: string[] = [];
  for (const record of records) {
    if (record.startsWith('H') || messages.length === 0) messages.push('');
    messages[messages.length - 1] += `${record}\r`;
  }
  return messages;
}

function unframe(bytes: Buffer): string[] {
  const messages: string[] = [];
  let text = '';
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i];
    if (byte === EOT) {
      if (text) messages.push(text);
      text = '';
      i += 1;
      continue;
    }
    if (byte !== STX) {
      i += 1;
      continue;
    }
    let end = i + 1;
    while (end < bytes.length && bytes[end] !== ETX && bytes[end] !== ETB && bytes[end] !== STX) end += 1;
    if (end >= bytes.length || bytes[end] === STX) {
      i = end; // a broken frame: skip it
      continue;
    }
    const frameText = bytes.subarray(i + 2, end).toString('latin1'); // after STX and the frame number
    text += frameText;
    if (bytes[end] === ETX && !/[\r\n]$/.test(frameText)) text += '\r';
    i = end + 3; // terminator and two checksum characters
  }
  if (text) messages.push(text);
  return messages;
}

export interface GeneratedOptions {
  /** H.5 sender name (default `SIMULATOR^1.0`). */
  sender?: string;
  /** First specimen number (default 1). */
  start?: number;
  /** Fixed date (YYYYMMDDHHmmss) for repeatable output; default now, in local time. */
  date?: string;
}

const GENERATED_TESTS = [
  { code: 'GLU', unit: 'mmol/L', low: 3.9, high: 6.1 },
  { code: 'CRP', unit: 'mg/L', low: 0, high: 5 },
  { code: 'HGB', unit: 'g/dL', low: 12, high: 17 },
];

function astmDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** n messages of one patient result each (H, P, O, three R, L), readable with the astm-generic profile. */
export function generateMessages(n: number, options: GeneratedOptions = {}): string[] {
  const date = options.date ?? astmDate(new Date());
  const sender = options.sender ?? 'SIMULATOR^1.0';
  const messages: string[] = [];
  for (let k = 0; k < n; k += 1) {
    const number = (options.start ?? 1) + k;
    const specimen = `SIM${String(number).padStart(6, '0')}`;
    const records = [
      `H|\\^&|||${sender}|||||||P|1|${date}`,
      `P|1||PAT${String(number).padStart(5, '0')}||DOE^JANE||19800101|F`,
      `O|1|${specimen}||^^^PANEL|R|${date}|${date}||||N||||SERUM`,
      ...GENERATED_TESTS.map((t, i) => {
        const value = (t.low + ((number * 7 + i * 3) % 10) / 10 * (t.high - t.low)).toFixed(1);
        return `R|${i + 1}|^^^${t.code}|${value}|${t.unit}|${t.low} to ${t.high}|N||F||||${date}`;
      }),
      'L|1|N',
    ];
    messages.push(`${records.join('\r')}\r`);
  }
  return messages;
}

export interface PlayEvent {
  /** 'last-frame': the message's final (ETX) frame was just written; what latency is measured from. */
  kind: 'sending' | 'last-frame' | 'sent' | 'failed' | 'interrupted' | 'frame-refused';
  index: number;
  detail?: string;
}

/**
 * Sends the messages one after the other through an instrument-side link on `stream`; resolves
 * with how many were sent and which failed. The stream is left open.
 */
export async function playMessages(
  stream: Duplex,
  messages: string[],
  options: { link?: LinkOptions; onEvent?: (event: PlayEvent) => void; everyMs?: number } = {},
): Promise<{ sent: number; failed: Array<{ index: number; reason: string }> }> {
  const link = new AstmLink({ side: 'instrument', ...options.link });
  const detach = attachLink(link, stream);
  const failed: Array<{ index: number; reason: string }> = [];
  let sent = 0;
  let current = 0;
  link.on('output', (bytes: Buffer) => {
    if (bytes.length > 1 && bytes.includes(ETX)) options.onEvent?.({ kind: 'last-frame', index: current });
  });
  const start = Date.now();
  try {
    for (let index = 0; index < messages.length; index += 1) {
      current = index;
      // Paced like a real analyser: message k starts k × everyMs after the first (or at once when late).
      const wait = start + index * (options.everyMs ?? 0) - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      options.onEvent?.({ kind: 'sending', index, detail: `${messages[index].split('\r').filter(Boolean).length} records` });
      const id = `message-${index + 1}`;
      const outcome = await new Promise<{ ok: boolean; reason?: string; frames?: number }>((resolve) => {
        const onSent = (s: { id: string; frames: number }) => { if (s.id === id) finish({ ok: true, frames: s.frames }); };
        const onFailed = (f: { id: string; reason: string }) => { if (f.id === id) finish({ ok: false, reason: f.reason }); };
        const onInterrupted = (i: { id: string }) => { if (i.id === id) options.onEvent?.({ kind: 'interrupted', index }); };
        const finish = (value: { ok: boolean; reason?: string; frames?: number }) => {
          link.off('sent', onSent);
          link.off('send-failed', onFailed);
          link.off('interrupted', onInterrupted);
          resolve(value);
        };
        link.on('sent', onSent);
        link.on('send-failed', onFailed);
        link.on('interrupted', onInterrupted);
        link.send(messages[index], id);
      });
      if (outcome.ok) {
        sent += 1;
        options.onEvent?.({ kind: 'sent', index, detail: `${outcome.frames} frames` });
      } else {
        failed.push({ index, reason: outcome.reason ?? 'unknown' });
        options.onEvent?.({ kind: 'failed', index, detail: outcome.reason });
      }
    }
  } finally {
    detach();
    link.close();
  }
  return { sent, failed };
}

/** A TCP connection to an ASTM listener (the hub). */
export function connectTcp(target: string): Promise<Socket> {
  const at = target.lastIndexOf(':');
  const host = at > 0 ? target.slice(0, at) : '127.0.0.1';
  const port = Number(at >= 0 ? target.slice(at + 1) : target);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return Promise.reject(new Error(`--tcp wants host:port, not ${target}`));
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    socket.once('error', reject);
    socket.connect(port, host, () => {
      socket.off('error', reject);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

export interface AstmCommandOptions {
  tcp?: string;
  serial?: string;
  serialSettings?: Omit<SerialLineSettings, 'path'>;
  file?: string;
  generate?: number;
  /** Pace: one message every so many ms (default: back to back). */
  everyMs?: number;
  link?: LinkOptions;
  log?: (line: string) => void;
}

/** The `astm` subcommand as a function: returns what was sent. */
export async function runAstm(options: AstmCommandOptions): Promise<{ sent: number; failed: Array<{ index: number; reason: string }> }> {
  const log = options.log ?? ((line: string) => console.log(line));
  let messages: string[];
  if (options.file) {
    const { readFileSync } = await import('node:fs');
    messages = captureMessages(readFileSync(options.file));
    log(`capture ${options.file}: ${messages.length} message(s)`);
  } else if (options.generate && options.generate > 0) {
    messages = generateMessages(options.generate);
    log(`generated ${messages.length} message(s)`);
  } else {
    throw new Error('astm: give --file <capture> or --generate N');
  }
  if (messages.length === 0) throw new Error('astm: the capture holds no message');
  let stream: Duplex;
  let closeStream: () => Promise<void>;
  if (options.tcp) {
    const socket = await connectTcp(options.tcp);
    log(`connected to ${options.tcp}`);
    stream = socket;
    closeStream = async () => { socket.end(); socket.destroy(); };
  } else if (options.serial) {
    const port = await openSerialPort({ path: options.serial, ...options.serialSettings });
    log(`opened ${options.serial} at ${options.serialSettings?.baudRate ?? 9600} baud`);
    stream = port;
    closeStream = () => new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
  } else {
    throw new Error('astm: give --tcp host:port or --serial <path>');
  }
  try {
    const outcome = await playMessages(stream, messages, {
      link: options.link,
      everyMs: options.everyMs,
      onEvent: (e) => { if (e.kind !== 'last-frame') log(`message ${e.index + 1}: ${e.kind}${e.detail ? ` (${e.detail})` : ''}`); },
    });
    log(`done: ${outcome.sent} sent, ${outcome.failed.length} failed`);
    return outcome;
  } finally {
    await closeStream();
  }
}

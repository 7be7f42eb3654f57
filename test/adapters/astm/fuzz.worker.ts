/**
 * Property runs in a worker thread, so the test can stop them if they ever hang (a synchronous
 * infinite loop would otherwise freeze mocha itself).
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import {
  AstmLink, AstmParseError, getProfile, mapMessage, parseMessages, writeMessage, type Delimiters, type FieldInput,
} from '../../../adapters/astm';
import { BYTE, expectedText, FakeClock, referenceChecksum } from './helpers';

export type FuzzKind = 'receiver-random' | 'receiver-mutated' | 'lossy-line' | 'records-roundtrip' | 'parser-random';
export interface FuzzRequest { kind: FuzzKind; runs: number; fixtures?: Record<string, string> }
export interface FuzzReport { failed: boolean; numRuns: number; report: string; stats: Record<string, number> }

const stats: Record<string, number> = {};
const count = (key: string, n = 1) => {
  stats[key] = (stats[key] ?? 0) + n;
};

/** Bytes that matter to the link, weighted up. */
const linkByte = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(BYTE.STX, BYTE.ETX, BYTE.ETB, BYTE.EOT, BYTE.ENQ, BYTE.ACK, BYTE.NAK, BYTE.CR, BYTE.LF) },
  { weight: 3, arbitrary: fc.constantFrom(...Buffer.from('01234567ABCDEF|^\\&HPORL')) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }) },
);

/** Text an accepted frame may never carry: structure and character errors. */
const FORBIDDEN_IN_TEXT = new Set([0x01, BYTE.STX, BYTE.ETX, BYTE.EOT, BYTE.ENQ, BYTE.ACK, 0x10, BYTE.NAK, 0x16, BYTE.ETB, 0x11, 0x12, 0x13, 0x14]);

interface Step { bytes: number[]; advance: number; busy?: boolean; interrupt?: boolean }
/** A frame as a device would send it, often right, sometimes with a wrong number, checksum or trailer. */
const frame = (numbered?: number) => fc.record({
  fn: numbered === undefined ? fc.integer({ min: 0, max: 7 }) : fc.constant(numbered % 8),
  text: fc.array(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...Buffer.from('HPORLM|^\\&0123456789 \r')) }, { weight: 1, arbitrary: linkByte }), { maxLength: 60 }),
  final: fc.boolean(),
  goodChecksum: fc.nat(9),
  trailer: fc.constantFrom([BYTE.CR, BYTE.LF], [BYTE.CR], [BYTE.LF], []),
}).map(({ fn, text, final, goodChecksum, trailer }) => {
  const terminator = final ? BYTE.ETX : BYTE.ETB;
  const checksum = goodChecksum > 0 ? referenceChecksum(fn, Buffer.from(text).toString('latin1'), terminator) : '00';
  return [BYTE.STX, 0x30 + fn, ...text, terminator, ...Buffer.from(checksum), ...trailer];
});
const step = fc.record({
  bytes: fc.oneof(
    { weight: 2, arbitrary: fc.array(linkByte, { maxLength: 80 }) },
    { weight: 2, arbitrary: fc.array(frame(), { maxLength: 4 }).map((frames) => frames.flat()) },
    // A transfer as it should be: ENQ, frames numbered from 1, EOT; the checks above still apply.
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 10 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => frame(i + 1)))).map((frames) => [BYTE.ENQ, ...frames.flat(), BYTE.EOT]) },
    { weight: 1, arbitrary: fc.constantFrom([BYTE.ENQ], [BYTE.EOT]) },
  ),
  advance: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40_000 })),
  busy: fc.option(fc.boolean(), { nil: undefined, freq: 10 }),
  interrupt: fc.option(fc.boolean(), { nil: undefined, freq: 10 }),
}) as fc.Arbitrary<Step>;

/** Drives one receiver and checks what must always hold. */
function runReceiver(steps: Step[], options: { frameNumbers: 'strict' | 'lenient'; maxReceiveFrame?: number }): void {
  const clock = new FakeClock();
  const link = new AstmLink({ clock, ...options });
  const out: number[] = [];
  let received = 0;
  link.on('output', (b) => out.push(...b));
  link.on('message', (m) => {
    if (m.frames < 1) throw new Error('a message without frames');
    if (m.text.length > m.raw.length) throw new Error('more text than bytes received');
    for (const b of m.text) if (FORBIDDEN_IN_TEXT.has(b)) throw new Error(`accepted text holds byte ${b}`);
    count('messages');
  });
  link.on('incomplete', () => count('incomplete'));
  for (const s of steps) {
    if (s.busy !== undefined) link.setBusy(s.busy);
    if (s.interrupt) link.requestInterrupt();
    link.receive(Buffer.from(s.bytes));
    received += s.bytes.length;
    clock.advance(s.advance);
  }
  // A receiver never writes anything but its three replies, and never stays in a transfer.
  for (const b of out) if (b !== BYTE.ACK && b !== BYTE.NAK && b !== BYTE.EOT) throw new Error(`receiver wrote byte ${b}`);
  clock.advance(31_000);
  if (link.state !== 'idle') throw new Error(`still ${link.state} after 31 s of silence`);
  if (clock.pendingTimers !== 0) throw new Error('a timer left running');
  link.close();
  count('bytes', received);
}

function receiverRandom(): fc.IPropertyWithHooks<[Step[], boolean]> {
  return fc.property(fc.array(step, { maxLength: 12 }), fc.boolean(), (steps, lenient) => runReceiver(steps, { frameNumbers: lenient ? 'lenient' : 'strict', maxReceiveFrame: 200 }));
}

type Mutation = { at: number; kind: 'flip' | 'drop' | 'dup' | 'insert'; value: number; length: number };
const mutation = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('flip', 'drop', 'dup', 'insert') as fc.Arbitrary<Mutation['kind']>,
  value: linkByte,
  length: fc.integer({ min: 1, max: 40 }),
});

function mutate(bytes: Buffer, mutations: Mutation[]): Buffer {
  let b = Buffer.from(bytes);
  for (const m of mutations) {
    const at = m.at % Math.max(1, b.length);
    if (m.kind === 'flip') b[at] = m.value;
    else if (m.kind === 'drop') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
    else if (m.kind === 'dup') b = Buffer.concat([b.subarray(0, at + m.length), b.subarray(at, at + m.length), b.subarray(at + m.length)]);
    else b = Buffer.concat([b.subarray(0, at), Buffer.from([m.value]), b.subarray(at)]);
  }
  return b;
}

function receiverMutated(fixtures: Record<string, string>): fc.IPropertyWithHooks<[string, Mutation[], number[]]> {
  const names = Object.keys(fixtures);
  const bytes = new Map(names.map((n) => [n, Buffer.concat([Buffer.from([BYTE.ENQ]), readFileSync(fixtures[n]), Buffer.from([BYTE.EOT])])]));
  return fc.property(fc.constantFrom(...names), fc.array(mutation, { maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 8 }), (name, mutations, sizes) => {
    const original = bytes.get(name)!;
    const input = mutate(original, mutations);
    const clock = new FakeClock();
    const link = new AstmLink({ clock, frameNumbers: name.includes('h500') ? 'lenient' : 'strict' });
    const texts: string[] = [];
    link.on('message', (m) => {
      for (const b of m.text) if (FORBIDDEN_IN_TEXT.has(b)) throw new Error(`accepted text holds byte ${b}`);
      texts.push(m.text.toString('latin1'));
    });
    for (let i = 0, k = 0; i < input.length; k += 1) {
      const size = sizes[k % sizes.length];
      link.receive(input.subarray(i, i + size));
      i += size;
      clock.advance(k % 3 === 0 ? 1_000 : 0);
    }
    clock.advance(31_000);
    if (link.state !== 'idle') throw new Error(`still ${link.state}`);
    // Untouched bytes, however they are cut, give exactly the capture's text.
    if (mutations.length === 0 && (texts.length !== 1 || texts[0] !== expectedText(original))) throw new Error('unmutated capture not received exactly');
    count(mutations.length === 0 ? 'clean' : 'mutated');
    count('messages', texts.length);
    link.close();
  });
}

/** A sender and a receiver on a line that loses and corrupts bytes: what arrives is what was sent, or is reported. */
function lossyLine(): fc.IPropertyWithHooks<[string[], number, number[], number]> {
  const recordText = fc.string({ unit: fc.constantFrom(...'ABCXYZ0123456789|^\\& é'.split('')), maxLength: 300 });
  return fc.property(
    fc.array(recordText, { minLength: 1, maxLength: 6 }),
    fc.integer({ min: 1, max: 1_000_000 }),
    fc.array(fc.integer({ min: 0, max: 99 }), { minLength: 1, maxLength: 64 }),
    fc.integer({ min: 20, max: 240 }),
    (records, seed, dice, maxFrameText) => {
      const clock = new FakeClock();
      const sender = new AstmLink({ clock, side: 'instrument', maxFrameText });
      const receiver = new AstmLink({ clock });
      const text = ['H|\\^&', ...records.map((r, i) => `R|${i + 1}|${r}`), 'L|1|N'].map((r) => `${r}\r`).join('');
      let roll = seed;
      const die = () => dice[(roll++) % dice.length];
      // Forward: at most one byte changed (to another printable) or dropped per frame, or the whole write lost.
      sender.on('output', (bytes) => {
        const d = die();
        if (d < 5) return;
        const b = Buffer.from(bytes);
        if (d < 10 && b.length > 1) {
          const at = (roll * 7919) % b.length;
          if (b[at] >= 0x20 && b[at] < 0x7f) b[at] = b[at] === 0x41 ? 0x42 : 0x41;
          receiver.receive(b);
          return;
        }
        if (d < 14 && b.length > 1) {
          const at = (roll * 104729) % b.length;
          receiver.receive(Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]));
          return;
        }
        receiver.receive(b);
      });
      // Backward: replies may be lost, never changed.
      receiver.on('output', (bytes) => {
        if (die() >= 8) sender.receive(bytes);
      });
      const delivered: string[] = [];
      const reported: string[] = [];
      let sent = false;
      receiver.on('message', (m) => delivered.push(m.text.toString('latin1')));
      receiver.on('incomplete', (m) => reported.push(m.text.toString('latin1')));
      sender.on('sent', () => {
        sent = true;
      });
      sender.send(text);
      for (let t = 0; t < 200 && (sender.pending > 0 || receiver.state !== 'idle'); t += 1) clock.advance(5_000);
      clock.advance(60_000);
      if (sender.state !== 'idle' || receiver.state !== 'idle') throw new Error('a side did not return to neutral');
      for (const got of [...delivered, ...reported]) if (!text.startsWith(got)) throw new Error('received text is not what was sent');
      if (sent && !delivered.includes(text) && !reported.includes(text)) throw new Error('sender says sent, receiver neither delivered nor reported it');
      count(delivered.includes(text) ? 'delivered whole' : sent ? 'sent, EOT lost' : 'given up');
      sender.close();
      receiver.close();
    },
  );
}

const DELIMITER_SETS: Delimiters[] = [
  { field: '|', repeat: '\\', component: '^', escape: '&' },
  { field: '|', repeat: '@', component: '^', escape: '\\' },
  { field: '|', repeat: '`', component: '^', escape: '&' },
  { field: '!', repeat: '~', component: '#', escape: '$' },
];
// Any text, with the characters that matter weighted up.
const char = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('|', '\\', '^', '&', '@', '`', '!', '~', '#', '$', '\r', '\n', '\r\n', '\x02', '\x03', '\x04', '&X0D&', '&H&', 'é', 'Œ', '€') },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const text = fc.string({ unit: char, maxLength: 12 });
const field = fc.array(fc.array(text, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 });
const record = fc.tuple(fc.constantFrom('P', 'O', 'R', 'C', 'M', 'Q', 'Z'), fc.array(field, { maxLength: 8 }));

function recordsRoundtrip(): fc.IPropertyWithHooks<[number, Array<[string, string[][][]]>]> {
  return fc.property(fc.integer({ min: 0, max: DELIMITER_SETS.length - 1 }), fc.array(record, { maxLength: 6 }), (set, records) => {
    const d = DELIMITER_SETS[set];
    const input: FieldInput[][] = [['H', '', 'sender'], ...records.map(([type, fields]) => [type, ...fields] as FieldInput[]), ['L', '1', 'N']];
    const [message] = parseMessages(writeMessage(input, d));
    if (message.records.length !== input.length) throw new Error(`${message.records.length} records read, ${input.length} written`);
    records.forEach(([type, fields], i) => {
      const got = message.records[i + 1];
      const expected = [[[type]], ...fields];
      if (JSON.stringify(got.fields) !== JSON.stringify(expected)) throw new Error(`record ${i + 2} reads back differently`);
    });
    count('records', records.length);
  });
}

const fieldText = fc.string({ unit: fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('|', '^', '\\', '&', '@', '&X', '&F&', '20260115', '2026011509410', '>', '<', ',', '7,4', '-', ' ', 'CTRL', 'F', 'Q', '1', 'WBC', '6690-2') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
), maxLength: 40 });
const parserText = fc.tuple(
  fc.constantFrom('H|\\^&', 'H|@^\\|', 'H|\\\\^&', 'H|`^&|||x|||||||Q', 'H|\\^&|||x|||||||T', 'H|', 'P|1', ''),
  fc.array(fc.tuple(fc.constantFrom('P', 'O', 'R', 'R', 'R', 'C', 'M', 'Q', 'L', 'H', 'S', ''), fieldText).map(([type, rest]) => `${type}|${rest}`), { maxLength: 10 }),
  fc.constantFrom('\r', '\n', '\r\n'),
).map(([header, records, end]) => [header, ...records].join(end));

function parserRandom(): fc.IPropertyWithHooks<[string]> {
  const profiles = [getProfile('astm-generic'), getProfile('cepheid-genexpert'), getProfile('sysmex-xn'), getProfile('euroimmun-analyzer-i')];
  return fc.property(parserText, (t) => {
    let messages;
    try {
      messages = parseMessages(t);
    } catch (err) {
      if (err instanceof AstmParseError) {
        count('refused');
        return;
      }
      throw err;
    }
    count('parsed');
    for (const m of messages) {
      for (const profile of profiles) {
        const mapped = mapMessage(m, profile, { site: 's', deviceClass: 'x', deviceId: 'd', receivedAt: '2026-01-01T00:00:00Z' });
        count('results', mapped.results.length + mapped.controls.length);
      }
    }
  });
}

const request = workerData as FuzzRequest;
const properties: Record<FuzzKind, () => fc.IProperty<unknown[]>> = {
  'receiver-random': () => receiverRandom() as fc.IProperty<unknown[]>,
  'receiver-mutated': () => receiverMutated(request.fixtures ?? {}) as fc.IProperty<unknown[]>,
  'lossy-line': () => lossyLine() as fc.IProperty<unknown[]>,
  'records-roundtrip': () => recordsRoundtrip() as fc.IProperty<unknown[]>,
  'parser-random': () => parserRandom() as fc.IProperty<unknown[]>,
};
const details = fc.check(properties[request.kind](), { numRuns: request.runs });
const report: FuzzReport = { failed: details.failed, numRuns: details.numRuns, report: details.failed ? fc.defaultReportMessage(details) ?? 'failed' : '', stats };
parentPort!.postMessage(report);

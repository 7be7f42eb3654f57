/**
 * Fuzz properties run in a worker thread, so the test can terminate them if they ever hang
 * (a synchronous infinite loop would otherwise freeze mocha itself).
 */
import fc from 'fast-check';
import { parentPort, workerData } from 'node:worker_threads';
import { buildAck, decodeMessage, Hl7Message, Hl7ParseError, MllpDecoder, MllpFrameError, readAck } from '../../../adapters/hl7';

export interface FuzzRequest { kind: 'decoder' | 'parser'; runs: number }
export interface FuzzReport { failed: boolean; numRuns: number; report: string; /** parser: inputs that parsed (the rest were refused) */ parsed: number }

const REASONS = new Set(['garbage', 'oversize', 'unexpected-start', 'truncated']);

// Bytes biased toward those that matter: MLLP framing, segment ends, delimiters.
const byte = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0x0b, 0x1c, 0x0d, 0x0a, 0x7c, 0x5e, 0x7e, 0x5c, 0x26) },
  { weight: 7, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const bytes = (maxLength: number) => fc.array(byte, { maxLength }).map((a) => Buffer.from(a));

function decoderProperty(): fc.IPropertyWithHooks<[Buffer[], number]> {
  return fc.property(fc.array(bytes(120), { maxLength: 12 }), fc.integer({ min: 1, max: 64 }), (chunks, max) => {
    const decoder = new MllpDecoder(max);
    const items = [...chunks.flatMap((c) => decoder.push(c)), ...decoder.end()];
    const total = chunks.reduce((n, c) => n + c.length, 0);
    let payloadBytes = 0;
    for (const item of items) {
      if (item instanceof MllpFrameError) {
        if (!REASONS.has(item.reason)) throw new Error(`unknown reason ${item.reason}`);
        if (item.reason !== 'garbage' && item.raw.length > max + 1) throw new Error('block error keeps more than the limit');
      } else if (item instanceof Buffer) {
        if (item.length > max) throw new Error('payload over the limit');
        payloadBytes += item.length;
      } else {
        throw new Error('neither payload nor frame error');
      }
    }
    if (payloadBytes > total) throw new Error('more payload bytes than input');
    // Payloads do not depend on how the stream was cut into chunks.
    const whole = new MllpDecoder(max);
    const once = [...whole.push(Buffer.concat(chunks)), ...whole.end()].filter((i): i is Buffer => i instanceof Buffer);
    const chunked = items.filter((i): i is Buffer => i instanceof Buffer);
    if (once.length !== chunked.length || once.some((p, i) => !p.equals(chunked[i]))) throw new Error('payloads depend on chunking');
  });
}

const HEADER = Buffer.from('MSH|^~\\&|');
const tail = fc.array(fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...Buffer.from('|^~\\&\r\nMSHPIDOBXMSA0129AZ#')) }, { weight: 1, arbitrary: byte }), { maxLength: 300 });
// Mostly well-formed messages whose segments hold random bytes (no CR/LF inside), so the code
// after a successful parse is exercised as much as the refusals.
const fieldByte = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...Buffer.from('|^~\\&#MSA')) }, { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0x0d && b !== 0x0a) });
const segmentBytes = fc.tuple(fc.constantFrom('PID', 'OBX', 'MSA', 'ERR', 'NTE', 'ZZ1', 'MSH', 'pid', ''), fc.array(fieldByte, { maxLength: 60 }))
  .map(([name, body]) => Buffer.concat([Buffer.from(`${name}|`), Buffer.from(body)]));
const structured = fc.tuple(fc.constantFrom('8859/1', 'UNICODE UTF-8', '', ' ', 'ISO IR100'), fc.array(segmentBytes, { maxLength: 8 }), fc.constantFrom('\r', '\n', '\r\n'))
  .map(([charset, segments, end]) => Buffer.concat([Buffer.from(`MSH|^~\\&|A|B|C|D|||ACK^R01|1|P|2.5||||||${charset}`), ...segments.flatMap((s) => [Buffer.from(end), s])]));
const messageBytes = fc.oneof(
  { weight: 1, arbitrary: bytes(200) },
  { weight: 1, arbitrary: tail.map((t) => Buffer.concat([HEADER, Buffer.from(t)])) },
  { weight: 3, arbitrary: structured },
);

let parsed = 0;

function parserProperty(): fc.IPropertyWithHooks<[Buffer]> {
  return fc.property(messageBytes, (raw) => {
    const { text } = decodeMessage(raw);
    let message: Hl7Message;
    try {
      message = Hl7Message.parse(text);
    } catch (err) {
      if (err instanceof Hl7ParseError) return;
      throw err;
    }
    parsed += 1;
    void [message.controlId, message.messageType, message.version, message.declaredCharset];
    for (const path of ['MSH-1', 'MSH-2', 'MSH-9.2', 'MSH-18[2].1', 'PID-3[2].4.2', 'OBX[2]-5', 'MSA-2']) message.get(path);
    for (const s of message.segments()) for (let f = 1; f <= s.fieldCount; f += 1) s.field(f);
    // What we write back reads the same.
    const again = Hl7Message.parse(message.toString());
    if (again.toString() !== message.toString()) throw new Error('toString() does not parse back to itself');
    try {
      readAck(message, raw);
    } catch (err) {
      if (!(err instanceof Hl7ParseError)) throw err;
    }
    Hl7Message.parse(buildAck(message, 'AE', { sendingApplication: 'P', sendingFacility: 'F', controlId: 'X', text: message.controlId }));
  });
}

const request = workerData as FuzzRequest;
const property = request.kind === 'decoder' ? decoderProperty() : parserProperty();
const details = fc.check(property as fc.IProperty<unknown[]>, { numRuns: request.runs });
const report: FuzzReport = { failed: details.failed, numRuns: details.numRuns, report: details.failed ? fc.defaultReportMessage(details) ?? 'failed' : '', parsed };
parentPort!.postMessage(report);

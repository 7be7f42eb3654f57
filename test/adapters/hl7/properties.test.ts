import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { buildOru, decodeMessage, encodeMessage, escapeText, Hl7Message, STANDARD_DELIMITERS } from '../../../adapters/hl7';
import type { Result } from '../../../adapters/model';
import type { FuzzReport, FuzzRequest } from './fuzz.worker';

const ESCAPE_RUNS = 3000;
const ORU_RUNS = 400;
const FUZZ_RUNS = 5000;
const FUZZ_DEADLINE_MS = 40_000;

// Any code point, with the characters that matter weighted up: delimiters, CR/LF, MLLP bytes.
const char = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom('|', '^', '~', '\\', '&', '#', '\r', '\n', '\r\n', '\x0b', '\x1c', '\\F\\', 'Œ', '\u0301', '\uFEFF') },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const anyText = fc.string({ unit: char, maxLength: 40 });

const example = (): Result => JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'schema', 'result.example.json'), 'utf8')) as Result;
const oruOptions = { controlId: 'P-1', sendingApplication: 'A', sendingFacility: 'F', receivingApplication: 'R', receivingFacility: 'RF', now: new Date('2026-01-01T00:00:00Z') };

function fuzzInWorker(request: FuzzRequest): Promise<FuzzReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(__dirname, 'fuzz.worker.js'), { workerData: request });
    const deadline = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`${request.kind} fuzz still running after ${FUZZ_DEADLINE_MS} ms: it hangs`));
    }, FUZZ_DEADLINE_MS);
    worker.once('message', (report: FuzzReport) => {
      clearTimeout(deadline);
      resolve(report);
    });
    worker.once('error', (err) => {
      clearTimeout(deadline);
      reject(err);
    });
  });
}

describe('hl7 properties (fast-check)', function () {
  this.timeout(60_000);

  it(`${ESCAPE_RUNS} random strings (any Unicode, delimiters, CR/LF, MLLP bytes) survive escape → message → UTF-8 → decode → parse`, () => {
    fc.assert(
      fc.property(anyText, anyText, (a, b) => {
        const d = STANDARD_DELIMITERS;
        const text = `MSH|^~\\&|A|B|C|D|||ZZZ^Z01|1|P|2.5||||||UNICODE UTF-8\rZPV|${escapeText(a, d)}^${escapeText(b, d)}|END\r`;
        const { bytes, replaced } = encodeMessage(text, 'UNICODE UTF-8');
        expect(replaced).to.equal(0);
        const decoded = decodeMessage(bytes);
        expect(decoded.charset).to.equal('UNICODE UTF-8');
        const m = Hl7Message.parse(decoded.text);
        expect(m.get('ZPV-1.1.1')).to.equal(a);
        expect(m.get('ZPV-1.2.1')).to.equal(b);
        expect(m.get('ZPV-2')).to.equal('END');
      }),
      { numRuns: ESCAPE_RUNS },
    );
  });

  it(`${ORU_RUNS} random names, identifiers and values survive buildOru → UTF-8 → parse`, () => {
    fc.assert(
      fc.property(anyText, fc.array(anyText, { maxLength: 3 }), anyText, anyText, (family, given, id, value) => {
        const result = example();
        result.patient!.name = { family, given };
        result.patient!.identifiers = [{ value: id, authority: '1.2.250.1.213.1.4.8', authorityName: 'ASIP-SANTE-INS-NIR', type: 'INS-NIR' }];
        result.observations[4].value = value;
        const text = buildOru(result, { ...oruOptions, charset: 'UNICODE UTF-8' });
        const m = Hl7Message.parse(decodeMessage(encodeMessage(text, 'UNICODE UTF-8').bytes).text);
        expect(m.get('PID-3.1.1')).to.equal(id);
        expect(m.get('PID-5[2].1.1')).to.equal(family);
        expect(m.get('PID-5[2].2.1') ?? '').to.equal(given[0] ?? '');
        expect(m.get('OBX[5]-5.1.1')).to.equal(value);
        expect(m.segments()).to.have.length(10);
      }),
      { numRuns: ORU_RUNS },
    );
  });

  it(`${ORU_RUNS} random Latin-1 texts survive buildOru → 8859/1 → parse exactly, with nothing replaced`, () => {
    const latin1 = fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), fc.constantFrom('|', '^', '\r\n')), maxLength: 40 });
    fc.assert(
      fc.property(latin1, latin1, (family, value) => {
        const result = example();
        result.patient!.name = { family };
        result.order!.orderingProvider = undefined;
        result.observations[0].operator = undefined;
        result.observations[4].value = value;
        const { bytes, replaced } = encodeMessage(buildOru(result, { ...oruOptions, charset: '8859/1' }), '8859/1');
        expect(replaced).to.equal(0);
        const decoded = decodeMessage(bytes);
        const m = Hl7Message.parse(decoded.text);
        expect(m.get('PID-5[2].1.1')).to.equal(family);
        expect(m.get('OBX[5]-5.1.1')).to.equal(value);
      }),
      { numRuns: ORU_RUNS },
    );
  });

  it(`${FUZZ_RUNS} random byte streams, cut in random chunks, into MllpDecoder: only payloads and MllpFrameErrors, bounded, chunking-independent, no hang`, async () => {
    const report = await fuzzInWorker({ kind: 'decoder', runs: FUZZ_RUNS });
    expect(report.report).to.equal('');
    expect(report).to.deep.include({ failed: false, numRuns: FUZZ_RUNS });
  });

  it(`${FUZZ_RUNS} random byte strings into decodeMessage + Hl7Message.parse (+ get, readAck, buildAck): nothing thrown but Hl7ParseError, no hang`, async () => {
    const report = await fuzzInWorker({ kind: 'parser', runs: FUZZ_RUNS });
    expect(report.report).to.equal('');
    expect(report).to.deep.include({ failed: false, numRuns: FUZZ_RUNS });
    console.log(`      (${report.parsed} of ${FUZZ_RUNS} parsed, the rest refused with Hl7ParseError)`);
    expect(report.parsed, 'inputs that parsed, so the code after parsing is exercised too').to.be.greaterThan(FUZZ_RUNS / 10);
  });
});

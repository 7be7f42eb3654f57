/** The POCT1-A stream splitter: documents out of a framing-less TCP byte stream, whatever the chunking. */
import { expect } from 'chai';
import fc from 'fast-check';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  child, Poct1DocumentError, Poct1Splitter, Poct1Writer, valueOf, type Poct1Document, type SplitItem, type XmlEncoding,
} from '../../../adapters/poct1a';
import { DST, DST_LATIN1, EOT, HEL, OBS_PATIENT, OBS_QC, obsPatient } from './samples';
import type { FuzzReport, FuzzRequest } from './fuzz.worker';

const CHUNKING_RUNS = 400;
const ROUNDTRIP_RUNS = 300;
const BROKEN_RUNS = 400;
const FUZZ_RUNS = 10_000;
const FUZZ_DEADLINE_MS = 40_000;

// Trimmed: a document ends with its root's end tag; the newline after it is the stream's.
const SAMPLES: Buffer[] = [HEL, DST, OBS_PATIENT, OBS_QC, EOT].map((s) => Buffer.from(s.trim(), 'utf8')).concat([DST_LATIN1]);

/** Pushes `stream` cut at `cuts` (positions), then ends. */
function split(stream: Buffer, cuts: number[] = [], splitter = new Poct1Splitter()): SplitItem[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const out: SplitItem[] = [];
  let from = 0;
  for (const p of [...points, stream.length]) {
    out.push(...splitter.push(stream.subarray(from, p)));
    from = p;
  }
  out.push(...splitter.end());
  return out;
}

const docs = (items: SplitItem[]) => items.filter((i): i is Poct1Document => !(i instanceof Poct1DocumentError));
const errors = (items: SplitItem[]) => items.filter((i): i is Poct1DocumentError => i instanceof Poct1DocumentError);

const separator = fc.constantFrom('', '\n', '\r\n', ' \t\r\n  ', '\n\n');
const cuts = fc.array(fc.nat(), { maxLength: 40 });

// Characters XML 1.0 can carry, with the ones that need escaping weighted up.
const xmlChar = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('&', '<', '>', '"', "'", '\t', '\n', '\r', ']]>', 'é', 'ß', 'Œ', '€', '😀', '\u0085', '>') },
  { weight: 3, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0xa0, max: 0xd7ff }).map((c) => String.fromCodePoint(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
);
const xmlText = fc.string({ unit: xmlChar, maxLength: 30 });

describe('poct1a splitter', () => {
  it('splits a session sent as one chunk, keeps the exact bytes and offsets, reads ISO-8859-1 when declared', () => {
    const stream = Buffer.concat(SAMPLES.flatMap((s) => [s, Buffer.from('\r\n')]));
    const items = split(stream);
    expect(errors(items)).to.have.length(0);
    const out = docs(items);
    expect(out.map((d) => d.root.name)).to.deep.equal(['HEL.R01', 'DST.R01', 'OBS.R01', 'OBS.R02', 'EOT.R01', 'DST.R01']);
    let offset = 0;
    for (const [i, d] of out.entries()) {
      expect(d.raw.equals(SAMPLES[i])).to.equal(true);
      expect(d.offset).to.equal(offset);
      offset += SAMPLES[i].length + 2;
    }
    const latin1 = out[5];
    expect(latin1.encoding).to.equal('ISO-8859-1');
    expect(child(latin1.root, 'DST')!.children[1].attributes.V).to.equal('Réactifs à vérifier');
    expect(valueOf(child(out[0].root, 'DEV'), 'DEV.device_name')).to.equal('Salle de soins 2 — Afinion');
  });

  it('accepts documents without a declaration, with a UTF-8 BOM, and an empty root', () => {
    const stream = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(OBS_PATIENT), Buffer.from('<EOT.R01/>'), Buffer.from(obsPatient('5', '7.2', 'Zoë'))]);
    const out = split(stream);
    expect(errors(out)).to.have.length(0);
    expect(docs(out).map((d) => d.root.name)).to.deep.equal(['OBS.R01', 'EOT.R01', 'OBS.R01']);
    expect(docs(out)[0].raw.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).to.equal(true);
  });

  it(`${CHUNKING_RUNS} random chunkings of a stream of valid documents always yield the same documents`, () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...SAMPLES), separator), { minLength: 1, maxLength: 8 }), cuts, (parts, at) => {
        const stream = Buffer.concat(parts.flatMap(([d, sep]) => [Buffer.from(sep), d]));
        const whole = split(stream);
        const chunked = split(stream, at);
        expect(errors(chunked)).to.have.length(0);
        expect(docs(chunked).map((d) => d.raw.toString('hex'))).to.deep.equal(parts.map(([d]) => d.toString('hex')));
        expect(JSON.stringify(docs(chunked).map((d) => [d.root, d.offset, d.encoding]))).to.equal(JSON.stringify(docs(whole).map((d) => [d.root, d.offset, d.encoding])));
      }),
      { numRuns: CHUNKING_RUNS },
    );
  });

  it(`${ROUNDTRIP_RUNS} random values (any XML character, markup, CR/LF/tab) written in UTF-8 or ISO-8859-1 come back exactly through random chunks`, () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(xmlText, xmlText), { minLength: 1, maxLength: 4 }), fc.constantFrom<XmlEncoding>('UTF-8', 'ISO-8859-1'), fc.constantFrom('', '  '), cuts, (values, encoding, indent, at) => {
        const writer = new Poct1Writer({ encoding, indent, now: () => Date.UTC(2026, 10, 23, 9) });
        const sent = values.map(([note, text]) => writer.ack({ type: 'AE', ackControlId: text || 'x', note }));
        const out = split(Buffer.concat(sent.map((m) => m.bytes)), at);
        expect(errors(out)).to.have.length(0);
        expect(docs(out).map((d) => [valueOf(child(d.root, 'ACK'), 'ACK.note_txt'), valueOf(child(d.root, 'ACK'), 'ACK.ack_control_id'), d.encoding]))
          .to.deep.equal(values.map(([note, text]) => [note, text || 'x', encoding]));
      }),
      { numRuns: ROUNDTRIP_RUNS },
    );
  });

  const BREAKS: Record<string, (doc: string) => Buffer> = {
    'mismatched end tag': (d) => Buffer.from(d.replace('</OBS>', '</OBX>')),
    'bare & in an attribute': (d) => Buffer.from(d.replace('V="6.1"', 'V="6&1"')),
    'control character in content': (d) => Buffer.from(d.replace('<OBS.method_cd V="M"/>', '<OBS.method_cd V="M"/>\u0001')),
    'byte that is not UTF-8': (d) => Buffer.concat([Buffer.from(d.slice(0, d.indexOf('IPP-'))), Buffer.from([0xff]), Buffer.from(d.slice(d.indexOf('IPP-')))]),
    'unsupported encoding declared': (d) => Buffer.from(d.replace('encoding="UTF-8"', 'encoding="UTF-16"')),
    'two attributes with the same name': (d) => Buffer.from(d.replace('<OBS.value V="6.1" U="%"/>', '<OBS.value V="6.1" V="6.2"/>')),
  };

  it(`${BROKEN_RUNS} random chunkings: a broken document in the middle gives one error with exactly its raw bytes, the documents after it still come out`, () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(BREAKS)), separator, separator, fc.boolean(), cuts, (kind, sep1, sep2, declared, at) => {
        const after = declared ? EOT : EOT.slice(EOT.indexOf('?>') + 2).trimStart();
        const broken = BREAKS[kind](OBS_PATIENT.trim());
        const stream = Buffer.concat([Buffer.from(HEL), Buffer.from(sep1), broken, Buffer.from(sep2), Buffer.from(after), Buffer.from(DST)]);
        const out = split(stream, at);
        expect(out.map((i) => (i instanceof Poct1DocumentError ? `error:${i.reason}` : i.root.name))).to.deep.equal([
          'HEL.R01', kind === 'unsupported encoding declared' ? 'error:unsupported-encoding' : 'error:not-well-formed', 'EOT.R01', 'DST.R01',
        ]);
        const error = errors(out)[0];
        expect(error.raw.equals(broken)).to.equal(true);
        expect(error.offset).to.equal(Buffer.byteLength(HEL) + sep1.length);
        // The header was read before the break: enough to answer the device with an AE.
        if (kind !== 'unsupported encoding declared') expect(valueOf(child(error.partial, 'HDR'), 'HDR.control_id')).to.equal('20419');
        // No patient data in the message.
        expect(error.message).not.to.match(/IPP|6\.1|77310452/);
      }),
      { numRuns: BROKEN_RUNS },
    );
  });

  it(`${BROKEN_RUNS} random truncations: a document cut short is an error up to the next document, which still comes out`, () => {
    fc.assert(
      fc.property(fc.nat(), separator, fc.boolean(), cuts, (where, sep, declared, at) => {
        const doc = Buffer.from(OBS_PATIENT);
        const rootOpened = OBS_PATIENT.indexOf('<OBS.R01>') + '<OBS.R01>'.length;
        const cut = rootOpened + (where % (doc.length - rootOpened - 1));
        const after = declared ? EOT : EOT.slice(EOT.indexOf('?>') + 2).trimStart();
        const stream = Buffer.concat([doc.subarray(0, cut), Buffer.from(sep), Buffer.from(after)]);
        const out = split(stream, at);
        expect(out.map((i) => (i instanceof Poct1DocumentError ? 'error' : i.root.name))).to.deep.equal(['error', 'EOT.R01']);
        expect(errors(out)[0].raw.toString('latin1').trim()).to.equal(doc.subarray(0, cut).toString('latin1').trim());
        expect(docs(out)[0].raw.toString()).to.equal(after.trim());
      }),
      { numRuns: BROKEN_RUNS },
    );
  });

  it('bytes that are not XML before a document are one error, then the document', () => {
    const out = split(Buffer.concat([Buffer.from('\x00\x00garbage > here'), Buffer.from(OBS_QC)]));
    expect(out.map((i) => (i instanceof Poct1DocumentError ? `error:${i.raw.toString('latin1')}` : i.root.name))).to.deep.equal(['error:\x00\x00garbage > here', 'OBS.R02']);
    expect(errors(out)[0].partial).to.equal(undefined);
  });

  it('a document over the bound is an oversize error with its first bytes; the next one comes out', () => {
    const big = obsPatient('77', '6.1', 'X'.repeat(5000));
    const splitter = new Poct1Splitter({ maxDocumentBytes: 2048 });
    const out = split(Buffer.concat([Buffer.from(big), Buffer.from(EOT), Buffer.from(big.slice(0, 3000))]), [100, 2100, 4000], splitter);
    expect(out.map((i) => (i instanceof Poct1DocumentError ? `error:${i.reason}` : i.root.name))).to.deep.equal(['error:oversize', 'EOT.R01', 'error:oversize']);
    expect(errors(out)[0].raw.length).to.equal(2048);
    expect(errors(out)[0].message).to.contain('within 2048 bytes').and.not.contain('XXXX');
    expect(valueOf(child(errors(out)[0].partial, 'HDR'), 'HDR.control_id')).to.equal('77');
  });

  it('an endless document is reported soon after the bound, before its end, so the device can be answered at once', () => {
    const splitter = new Poct1Splitter({ maxDocumentBytes: 1024 });
    const head = Buffer.from(obsPatient('88').slice(0, 300));
    expect(splitter.push(head)).to.deep.equal([]);
    const out = splitter.push(Buffer.alloc(2000, 'A'));
    expect(out).to.have.length(1);
    expect((out[0] as Poct1DocumentError).reason).to.equal('oversize');
    expect((out[0] as Poct1DocumentError).raw.length).to.equal(1024);
    expect(splitter.push(Buffer.alloc(5000, 'A'))).to.deep.equal([]);
    expect(docs(splitter.push(Buffer.from(EOT)))).to.have.length(1);
  });

  it('a broken declaration: the root after it still belongs to the broken document, whatever the chunking', () => {
    const broken = Buffer.from(OBS_QC.trim().replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml encoding="UTF-8"?>'));
    const stream = Buffer.concat([broken, Buffer.from('\n'), Buffer.from(EOT)]);
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const out = split(stream, [cut]);
      expect(out.map((i) => (i instanceof Poct1DocumentError ? 'error' : i.root.name))).to.deep.equal(['error', 'EOT.R01']);
      expect(errors(out)[0].raw.equals(broken)).to.equal(true);
    }
  });

  it('a connection that ends inside a document gives a truncated error with its bytes', () => {
    const out = split(Buffer.from(OBS_PATIENT.slice(0, 400)));
    expect(out).to.have.length(1);
    expect((out[0] as Poct1DocumentError).reason).to.equal('truncated');
    expect((out[0] as Poct1DocumentError).raw.toString()).to.equal(OBS_PATIENT.slice(0, 400));
  });

  it('a bound that is not positive is refused', () => {
    expect(() => new Poct1Splitter({ maxDocumentBytes: 0 })).to.throw(RangeError);
  });

  it(`${FUZZ_RUNS} random byte streams (XML-ish tokens, broken documents, random bytes) in random chunks: no throw, no hang, every non-blank byte accounted for, chunking-independent`, async () => {
    const report = await new Promise<FuzzReport>((resolve, reject) => {
      const worker = new Worker(join(__dirname, 'fuzz.worker.js'), { workerData: { runs: FUZZ_RUNS } satisfies FuzzRequest });
      const deadline = setTimeout(() => {
        void worker.terminate();
        reject(new Error(`splitter fuzz still running after ${FUZZ_DEADLINE_MS} ms: it hangs`));
      }, FUZZ_DEADLINE_MS);
      worker.once('message', (r: FuzzReport) => {
        clearTimeout(deadline);
        resolve(r);
      });
      worker.once('error', (err) => {
        clearTimeout(deadline);
        reject(err);
      });
    });
    expect(report.failed, report.report).to.equal(false);
    expect(report.numRuns).to.equal(FUZZ_RUNS);
    // The generator makes documents often enough for the property to mean something.
    expect(report.documents).to.be.greaterThan(FUZZ_RUNS / 4);
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import {
  GpFormatError, GpReadError, planReports, readCdaCrBio, readHprimMedecin, readHprimSante, toLatin1, valueText,
  writeCdaCrBio, writeHprimMedecin, writeHprimSante, writePdf, checkCrBioRules, formatDecimal, type GpReport, type ReadResult,
} from '../../../adapters/gp';
import type { AbnormalFlag, Observation, Result } from '../../../adapters/model';
import { cdaOptions, exampleResult, hprimMedecinOptions, hprimSanteOptions, NOW } from './fixtures';
import { pdfText } from './support';

const HPRIM_RUNS = 400;
const CDA_RUNS = 300;
const PDF_RUNS = 15;
const MUTATION_RUNS = 1500;

// French letters (Œ/œ the trap), every delimiter of both HPRIM flavours, line breaks, control
// characters, characters outside Latin-1 with and without a transliteration, and any code unit.
const char = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...'aeiouyAEZàâçéèêëîïôùûüÿÀÉÈËÎÔÙÇ Œœ'.split('')) },
  { weight: 2, arbitrary: fc.constantFrom('|', '~', '^', '\\', '&', '\\F\\', '\r', '\n', '\r\n', '\t', '\x01', '\x85', '****FIN****', '≥', 'μ', '⁹', '｜', '€', '😀', '中', '\u0301', '\uFFFE', '\uD800') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const text = fc.string({ unit: char, minLength: 1, maxLength: 24 });
const FLAGS: AbnormalFlag[] = ['L', 'H', 'LL', 'HH', '<', '>', 'N', 'A', 'AA', 'U', 'D', 'B', 'W'];
const number = fc.double({ noNaN: true, noDefaultInfinity: true });
const unit = fc.constantFrom('mmol/L', 'g/dL', '10*9/L', 'µmol/L', '%', 'mg/L', 'U/L');

const observation: fc.Arbitrary<Observation> = fc.record({
  loinc: fc.stringMatching(/^[1-9]\d{0,4}-\d$/),
  label: text,
  kind: fc.constantFrom('NM', 'SN', 'ST'),
  number,
  comparator: fc.constantFrom('<', '>', '<=', '>=', '=' as const),
  string: text,
  unit,
  low: fc.option(number, { nil: undefined }),
  high: fc.option(number, { nil: undefined }),
  flags: fc.subarray(FLAGS, { maxLength: 3 }),
}).map((g) => {
  const o: Observation = {
    code: { code: g.loinc, system: 'LN', display: g.label },
    deviceCode: { code: 'DEV', system: '99DEV', display: g.label },
    valueType: g.kind as Observation['valueType'],
    value: g.kind === 'NM' ? g.number : g.kind === 'SN' ? { comparator: g.comparator as '<', number: g.number } : g.string,
    flags: g.flags,
    status: 'F',
    observedAt: '2026-03-29T00:59:59Z',
  };
  if (g.kind !== 'ST') o.unit = { code: g.unit, system: 'UCUM' };
  if (g.low !== undefined || g.high !== undefined) o.referenceRange = { ...(g.low !== undefined ? { low: g.low } : {}), ...(g.high !== undefined ? { high: g.high } : {}) };
  return o;
});

const reportArb: fc.Arbitrary<GpReport> = fc.record({ family: text, given: text, observations: fc.array(observation, { minLength: 1, maxLength: 6 }) }).map((g) => {
  const result: Result = exampleResult();
  result.patient!.name = { family: g.family, given: [g.given] };
  result.observations = g.observations;
  return planReports([result]).reports[0];
});

/** What a numeric field must read back as: the same number. */
function sameNumber(read: string | undefined, expected: number | undefined): void {
  if (expected === undefined) expect(read).to.equal(undefined);
  else expect(Number(read)).to.equal(expected);
}

function checkNumbers(read: ReadResult[], report: GpReport): void {
  expect(read).to.have.length(report.items.length);
  report.items.forEach(({ observation: o }, i) => {
    const r = read[i];
    expect(r.code).to.equal(o.code!.code);
    if (typeof o.value === 'number') sameNumber(r.value, o.value);
    sameNumber(r.low, o.referenceRange?.low);
    sameNumber(r.high, o.referenceRange?.high);
    expect(r.flags).to.deep.equal(o.flags);
    expect(r.status).to.be.oneOf(['F', 'completed']);
  });
}

const latin1 = (s: string) => toLatin1(s).text;
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;
const NOT_XML = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

describe('GP formats: properties (fast-check)', function () {
  this.timeout(120_000);

  it(`${HPRIM_RUNS} random reports round-trip through HPRIM Médecin (Latin-1, '|' as '¦', one line per field)`, () => {
    fc.assert(fc.property(reportArb, (report) => {
      const file = writeHprimMedecin(report, hprimMedecinOptions);
      expect(file.bytes.includes(0x0a) && file.bytes.toString('latin1').split('\r\n').every((l) => !/[\r\n]/.test(l))).to.equal(true);
      const read = readHprimMedecin(file.bytes);
      const field = (s: string) => latin1(s).replace(/\|/g, '¦').replace(CONTROLS, ' ');
      expect(read.patient.family).to.equal(latin1(report.patient.name!.family).replace(CONTROLS, ' '));
      checkNumbers(read.results, report);
      report.items.forEach(({ observation: o }, i) => {
        expect(read.results[i].label).to.equal(field(o.code!.display!));
        expect(read.results[i].value).to.equal(typeof o.value === 'number' ? formatDecimal(o.value) : field(valueText(o)));
      });
    }), { numRuns: HPRIM_RUNS });
  });

  it(`${HPRIM_RUNS} random reports round-trip through HPRIM Santé (escapes, A continuation, Latin-1)`, () => {
    fc.assert(fc.property(reportArb, (report) => {
      const file = writeHprimSante(report, hprimSanteOptions);
      const lines = file.bytes.toString('latin1').split('\r');
      expect(Math.max(...lines.map((l) => l.length))).to.be.at.most(220);
      const read = readHprimSante(file.bytes);
      const exact = (s: string) => latin1(s).replace(/\r\n|\r|\n/g, '\n').replace(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/g, ' ');
      expect(read.patient.family).to.equal(exact(report.patient.name!.family));
      expect(read.patient.given).to.equal(exact(report.patient.name!.given![0]));
      checkNumbers(read.results, report);
      report.items.forEach(({ observation: o }, i) => {
        expect(read.results[i].label).to.equal(exact(o.code!.display!));
        expect(read.results[i].value).to.equal(exact(valueText(o)));
        expect(read.results[i].unit).to.equal(o.unit?.code);
      });
    }), { numRuns: HPRIM_RUNS });
  });

  it(`${CDA_RUNS} random reports round-trip through the CDA with every character kept, and pass the rules`, () => {
    fc.assert(fc.property(reportArb, (report) => {
      const cda = writeCdaCrBio(report, cdaOptions);
      const read = readCdaCrBio(cda.bytes);
      expect(checkCrBioRules(read)).to.deep.equal([]);
      const exact = (s: string) => s.replace(NOT_XML, '\ufffd');
      expect(read.patient.family).to.equal(exact(report.patient.name!.family));
      checkNumbers(read.results, report);
      report.items.forEach(({ observation: o }, i) => {
        expect(read.results[i].label).to.equal(exact(o.code!.display!));
        expect(read.results[i].value).to.equal(exact(valueText(o)));
        expect(read.results[i].unit).to.equal(o.unit?.code);
      });
    }), { numRuns: CDA_RUNS });
  });

  it(`${PDF_RUNS} random reports with clinical values (2 decimals) are readable in the PDF (pdftotext)`, async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.record({ value: fc.integer({ min: -1e7, max: 1e7 }).map((n) => n / 100), unit }), { minLength: 1, maxLength: 8 }), async (values) => {
      const result = exampleResult();
      result.observations = values.map((v, i) => ({ code: { code: `${i + 1}-1`, system: 'LN', display: `Analyse ${i + 1}` }, deviceCode: { code: `D${i}` }, valueType: 'NM', value: v.value, unit: { code: v.unit, system: 'UCUM' }, status: 'F' }));
      const pdf = await writePdf(planReports([result]).reports[0], { now: NOW });
      const rows = pdfText(pdf.bytes).split('\n').map((l) => l.trim().split(/\s{2,}/));
      values.forEach((v, i) => expect(rows).to.deep.include([`Analyse ${i + 1}`, formatDecimal(v.value), v.unit]));
    }), { numRuns: PDF_RUNS });
  });

  it(`${MUTATION_RUNS} damaged files per format give a clear GpReadError or a reading, never a crash`, () => {
    const report = planReports([exampleResult()]).reports[0];
    const files = [
      { read: readHprimMedecin, bytes: writeHprimMedecin(report, hprimMedecinOptions).bytes },
      { read: readHprimSante, bytes: writeHprimSante(report, hprimSanteOptions).bytes },
      { read: readCdaCrBio, bytes: writeCdaCrBio(report, cdaOptions).bytes },
    ];
    for (const { read, bytes } of files) {
      fc.assert(fc.property(fc.nat(bytes.length), fc.nat(64), fc.uint8Array({ maxLength: 16 }), (at, cut, insert) => {
        const damaged = Buffer.concat([bytes.subarray(0, at), Buffer.from(insert), bytes.subarray(Math.min(bytes.length, at + cut))]);
        try {
          read(damaged);
        } catch (err) {
          expect(err, (err as Error).stack).to.be.instanceOf(GpReadError);
        }
      }), { numRuns: MUTATION_RUNS });
    }
  });

  it('refuses a value no format can write, naming it without its content', () => {
    const result = exampleResult();
    result.observations[0].value = Infinity;
    const report = planReports([result]).reports[0];
    expect(() => writeHprimMedecin(report, hprimMedecinOptions)).to.throw(GpFormatError, 'a numeric value is not a finite number');
    expect(() => writeHprimSante(report, hprimSanteOptions)).to.throw(GpFormatError, 'a numeric value is not a finite number');
    expect(() => writeCdaCrBio(report, cdaOptions)).to.throw(GpFormatError, 'a numeric value is not a finite number');
    const badDate = { ...planReports([exampleResult()]).reports[0], collectedAt: 'hier' };
    expect(() => writeHprimSante(badDate, hprimSanteOptions)).to.throw(GpFormatError, /not a valid RFC 3339 instant/);
  });

  it('transliterates to ISO 8859-1 as documented, counting what has no Latin-1 form', () => {
    expect(toLatin1('CŒURDEROY œuf')).to.deep.equal({ text: 'COEURDEROY oeuf', transliterated: 2, unrepresentable: 0 });
    expect(toLatin1('≥ 10⁹ μmol – ‘a’ …')).to.deep.equal({ text: ">= 109 µmol - 'a' ...", transliterated: 7, unrepresentable: 0 });
    expect(toLatin1('Ne\u0301lie 😀 中')).to.deep.equal({ text: 'Nélie ? ?', transliterated: 0, unrepresentable: 2 });
    expect(toLatin1('Łukasz Dvořák')).to.deep.equal({ text: 'Lukasz Dvorák', transliterated: 2, unrepresentable: 0 });
  });
});

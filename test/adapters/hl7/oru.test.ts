import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildOru, decodeMessage, encodeMessage, formatDateTime, Hl7BuildError, Hl7Message, type Hl7Charset, type OruOptions,
} from '../../../adapters/hl7';
import type { Result } from '../../../adapters/model';
import { parseWithPython, pyComponents, pyField, type PyMessage } from '../../support/python-hl7';

const examplePath = join(__dirname, '..', '..', '..', '..', 'docs', 'schema', 'result.example.json');
const example = (): Result => JSON.parse(readFileSync(examplePath, 'utf8')) as Result;

const options = (charset: Hl7Charset, extra: Partial<OruOptions> = {}): OruOptions => ({
  controlId: 'PSR-000042', sendingApplication: 'PASSERELLE', sendingFacility: 'CSO-ANNECY',
  receivingApplication: 'DPI', receivingFacility: 'CH-ANNECY', charset, now: new Date('2026-11-23T08:41:10Z'), ...extra,
});

/** Our own parser's view of a field, for comparison with python-hl7's. */
function ourTree(message: Hl7Message): Array<{ name: string; fields: Array<string[][][] | null> }> {
  return message.segments().map((s) => ({
    name: s.name,
    fields: [null, ...Array.from({ length: s.fieldCount }, (_, i) => s.field(i + 1) ?? null)],
  }));
}

describe('hl7 ORU^R01 from a canonical result', () => {
  for (const charset of ['UNICODE UTF-8', '8859/1'] as const) {
    describe(`the documented example, in ${charset}, read by python3-hl7`, () => {
      const result = example();
      const text = buildOru(result, options(charset));
      const encoded = encodeMessage(text, charset);
      let py: PyMessage;
      const latin1 = charset === '8859/1';
      const ŒUR = latin1 ? 'COEURDEROY' : 'CŒURDEROY';

      before(() => {
        py = parseWithPython(encoded.bytes);
      });

      it('is decoded by python with the charset its MSH-18 declares', () => {
        expect(py.declared).to.equal(charset);
        expect(py.encoding).to.equal(latin1 ? 'latin-1' : 'utf-8');
        expect(encoded.bytes.includes(Buffer.from('Hélène', latin1 ? 'latin1' : 'utf8'))).to.equal(true);
      });

      it('has the header a French record expects', () => {
        expect(py.segments.map((s) => s.name)).to.deep.equal(['MSH', 'PID', 'ORC', 'OBR', 'OBX', 'OBX', 'OBX', 'OBX', 'OBX', 'SPM']);
        const msh = (n: number) => pyComponents(py, 'MSH', n);
        expect(msh(3)).to.deep.equal(['PASSERELLE']);
        expect(msh(4)).to.deep.equal(['CSO-ANNECY']);
        expect(msh(5)).to.deep.equal(['DPI']);
        expect(msh(6)).to.deep.equal(['CH-ANNECY']);
        expect(msh(7)).to.deep.equal(['20261123094110+0100']); // Paris wall time with its offset
        expect(msh(9)).to.deep.equal(['ORU', 'R01', 'ORU_R01']);
        expect(msh(10)).to.deep.equal(['PSR-000042']);
        expect(msh(11)).to.deep.equal(['P']);
        expect(msh(12)).to.deep.equal(['2.5']);
        expect(msh(17)).to.deep.equal(['FRA']);
        expect(msh(18)).to.deep.equal([charset]);
      });

      it('identifies the patient: INS with its OID, IPP with its namespace, birth and used names, accents exact', () => {
        expect(pyField(py, 'PID', 3)).to.deep.equal([
          [['284037512345678'], [''], [''], ['ASIP-SANTE-INS-NIR', '1.2.250.1.213.1.4.8', 'ISO'], ['INS']],
          [['IPP00042187'], [''], [''], ['CSO-ANNECY'], ['PI']],
        ]);
        expect(pyComponents(py, 'PID', 5, 1, 1)).to.deep.equal(['LEFÈVRE', 'Hélène', 'Françoise', '', '', '', 'L']);
        expect(pyComponents(py, 'PID', 5, 1, 2)).to.deep.equal(['NOËL', 'Hélène', 'Françoise', '', '', '', 'D']);
        expect(pyComponents(py, 'PID', 7)).to.deep.equal(['19840312']);
        expect(pyComponents(py, 'PID', 8)).to.deep.equal(['F']);
      });

      it(`carries the order: numbers, code, times, the RPPS of the prescriber${latin1 ? ' (Œ written OE)' : ''}`, () => {
        const provider = ['10101234567', ŒUR, 'Anaïs', '', '', 'Dr', '', '', 'RPPS', '', '', '', 'RPPS'];
        expect(pyComponents(py, 'ORC', 1)).to.deep.equal(['RE']);
        expect(pyComponents(py, 'ORC', 2)).to.deep.equal(['CMD-2026-118734']);
        expect(pyComponents(py, 'ORC', 3)).to.deep.equal(['S26112300417']);
        expect(pyComponents(py, 'ORC', 5)).to.deep.equal(['CM']);
        expect(pyComponents(py, 'ORC', 12)).to.deep.equal(provider);
        expect(pyComponents(py, 'OBR', 1)).to.deep.equal(['1']);
        expect(pyComponents(py, 'OBR', 2)).to.deep.equal(['CMD-2026-118734']);
        expect(pyComponents(py, 'OBR', 3)).to.deep.equal(['S26112300417']);
        expect(pyComponents(py, 'OBR', 4)).to.deep.equal(['58410-2', 'Numération formule sanguine', 'LN']);
        expect(pyComponents(py, 'OBR', 7)).to.deep.equal(['20261123093200+0100']);
        expect(pyComponents(py, 'OBR', 16)).to.deep.equal(provider);
        expect(pyComponents(py, 'OBR', 22)).to.deep.equal(['20261123094107+0100']);
        expect(pyComponents(py, 'OBR', 25)).to.deep.equal(['F']);
      });

      it('writes every observation: code (LOINC + device code), value, unit, range, flags, status, time, operator, equipment', () => {
        const obx = (i: number, n: number) => pyComponents(py, 'OBX', n, i);
        result.observations.forEach((o, index) => {
          const i = index + 1;
          const where = `OBX ${i} (${o.deviceCode.code})`;
          expect(obx(i, 1), where).to.deep.equal([String(i)]);
          expect(obx(i, 2), where).to.deep.equal([o.valueType]);
          const device = [o.deviceCode.code, o.deviceCode.display!, o.deviceCode.system!];
          expect(obx(i, 3), where).to.deep.equal(o.code ? [o.code.code, o.code.display!, 'LN', ...device] : device);
          expect(obx(i, 6) ?? [''], where).to.deep.equal(o.unit ? [o.unit.code, o.unit.display!, 'UCUM'] : ['']);
          expect(obx(i, 7), where).to.deep.equal([o.referenceRange?.text ?? '']);
          expect((pyField(py, 'OBX', 8, i) ?? []).map((r) => r[0][0]).filter((f) => f !== ''), where).to.deep.equal(o.flags ?? []);
          expect(obx(i, 11), where).to.deep.equal([o.status]);
          expect(obx(i, 14), where).to.deep.equal(['20261123094107+0100']);
          expect(obx(i, 18), where).to.deep.equal(['YH5-104522']);
        });
        expect(result.observations.map((_, i) => obx(i + 1, 5))).to.deep.equal([
          ['12.4'], ['10.9'], ['254'], ['<', '5'], ['Présence de quelques myélocytes ; contrôle au frottis conseillé'],
        ]);
        expect(obx(1, 16)).to.deep.equal(['IDE-017', latin1 ? 'Chloé Boeuf' : 'Chloé Bœuf']);
      });

      it('describes the specimen in SPM', () => {
        expect(pyComponents(py, 'SPM', 2)).to.deep.equal(['S26112300417']);
        expect(pyComponents(py, 'SPM', 4)).to.deep.equal(['BLD', 'Sang total', 'HL70487']);
        expect(pyComponents(py, 'SPM', 17)).to.deep.equal(['20261123093200+0100']);
      });

      it(`reports ${latin1 ? 'the 3 characters Latin-1 cannot hold (Œ twice, œ)' : 'no replaced character'}`, () => {
        expect(encoded.replaced).to.equal(latin1 ? 3 : 0);
        expect(encoded.unmappable).to.equal(0);
      });

      it('round-trips through our own parser, which reads exactly what python-hl7 reads', () => {
        const decoded = decodeMessage(encoded.bytes);
        expect(decoded.charset).to.equal(charset);
        const ours = Hl7Message.parse(decoded.text);
        expect(ours.controlId).to.equal('PSR-000042');
        expect(ours.messageType).to.equal('ORU^R01^ORU_R01');
        expect(ours.version).to.equal('2.5');
        expect(ours.get('PID-5[2].1')).to.equal('NOËL');
        expect(ours.get('PID-5[2].3')).to.equal('Françoise');
        expect(ours.get('OBR-16.2')).to.equal(ŒUR);
        expect(ourTree(ours)).to.deep.equal(py.segments);
      });
    });
  }

  describe('writing values', () => {
    const base = (): Result => example();

    it('escapes delimiters in every kind of value', () => {
      const result = base();
      result.patient!.name = { family: 'DUPONT|MARTIN', given: ['Jean^Paul', 'A&B'], prefix: 'M~' };
      result.observations = [{ deviceCode: { code: 'X^1', system: '99HRB', display: 'a\\b' }, valueType: 'ST', value: 'a|b^c&d~e\\f', status: 'F', comment: 'ligne 1\nligne 2' }];
      const text = buildOru(result, options('UNICODE UTF-8'));
      const m = Hl7Message.parse(text);
      expect(m.get('PID-5[2].1')).to.equal('DUPONT|MARTIN');
      expect(m.get('PID-5[2].2')).to.equal('Jean^Paul');
      expect(m.get('PID-5[2].3')).to.equal('A&B');
      expect(m.get('PID-5[2].5')).to.equal('M~');
      expect(m.get('OBX-3.1')).to.equal('X^1');
      expect(m.get('OBX-3.2')).to.equal('a\\b');
      expect(m.get('OBX-5.1')).to.equal('a|b^c&d~e\\f');
      expect(m.segments('NTE')).to.have.length(1);
      expect(m.get('NTE-3')).to.equal('ligne 1\nligne 2');
      const py = parseWithPython(encodeMessage(text, 'UNICODE UTF-8').bytes);
      expect(pyComponents(py, 'OBX', 5)).to.deep.equal(['a|b^c&d~e\\f']);
      expect(pyComponents(py, 'PID', 5, 1, 2)?.slice(0, 3)).to.deep.equal(['DUPONT|MARTIN', 'Jean^Paul', 'A&B']);
    });

    it('writes numbers with a decimal point and never an exponent', () => {
      const result = base();
      const values = [1e-7, 1.5e-10, 1e21, 2.5e22, -3e-8, 0, 12.4, -0.5, 123456789.123];
      result.observations = values.map((value) => ({ deviceCode: { code: 'N' }, valueType: 'NM' as const, value, status: 'F' as const }));
      const m = Hl7Message.parse(buildOru(result, options('UNICODE UTF-8')));
      expect(m.segments('OBX').map((s) => s.get('5'))).to.deep.equal([
        '0.0000001', '0.00000000015', '1000000000000000000000', '25000000000000000000000', '-0.00000003', '0', '12.4', '-0.5', '123456789.123',
      ]);
      for (const s of m.segments('OBX')) expect(Number(s.get('5'))).to.equal(values[s.position - 5]);
    });

    it('writes a structured numeric, a coded value, a range from bounds, repeated flags', () => {
      const result = base();
      result.observations = [
        { deviceCode: { code: 'A' }, valueType: 'SN', value: { comparator: '>=', number: 1e-7 }, referenceRange: { low: 0.5, high: 1 }, flags: ['H', 'A'], status: 'C' },
        { deviceCode: { code: 'B' }, valueType: 'CWE', value: { code: '260373001', system: 'SCT', display: 'Détecté' }, referenceRange: { low: 3 }, status: 'F' },
        { deviceCode: { code: 'C' }, valueType: 'NM', value: 4, referenceRange: { high: 5 }, status: 'F' },
      ];
      const m = Hl7Message.parse(buildOru(result, options('UNICODE UTF-8')));
      expect(m.get('OBX[1]-5')).to.equal('>=^0.0000001');
      expect(m.get('OBX[1]-7')).to.equal('0.5-1');
      expect(m.get('OBX[1]-8[1]')).to.equal('H');
      expect(m.get('OBX[1]-8[2]')).to.equal('A');
      expect(m.get('OBX[1]-11')).to.equal('C');
      expect(m.get('OBX[2]-5')).to.equal('260373001^Détecté^SCT');
      expect(m.get('OBX[2]-7')).to.equal('>3');
      expect(m.get('OBX[3]-7')).to.equal('<5');
    });

    it("leaves missing optional data empty, never 'undefined'", () => {
      const result: Result = {
        schema: 'passerelle.result/1', id: 'r-min', kind: 'vitals', status: 'preliminary',
        source: { site: 's', deviceClass: 'monitor', deviceId: 'm1' },
        patient: { identifiers: [{ value: '123' }], matched: true },
        observations: [{ deviceCode: { code: '150456' }, valueType: 'NM', status: 'P' }],
        times: { received: '2026-07-01T10:00:00Z' },
      };
      const text = buildOru(result, options('UNICODE UTF-8'));
      expect(text).to.not.match(/undefined|null|NaN/);
      const m = Hl7Message.parse(text);
      expect(text.split('\r').filter(Boolean).map((s) => s.slice(0, 3))).to.deep.equal(['MSH', 'PID', 'ORC', 'OBR', 'OBX']);
      expect(m.get('PID-3')).to.equal('123');
      expect(m.get('PID-5')).to.equal(undefined); // no name known: the segment stops at PID-3
      expect(m.get('OBR-4')).to.equal('150456');
      expect(m.get('OBR-22')).to.equal('20260701120000+0200');
      expect(m.get('OBR-25')).to.equal('P');
      expect(m.get('OBX-5')).to.equal('');
      expect(text.endsWith('\r')).to.equal(true);
      expect(text).to.not.match(/\|\r/); // trailing empty fields are not written
    });

    it('refuses a result whose patient is not matched, or without a control ID', () => {
      const unmatched = base();
      unmatched.patient!.matched = false;
      expect(() => buildOru(unmatched, options('UNICODE UTF-8'))).to.throw(Hl7BuildError, /patient not matched/);
      const anonymous = base();
      delete anonymous.patient;
      expect(() => buildOru(anonymous, options('UNICODE UTF-8'))).to.throw(Hl7BuildError, /0b5c2a6e-7f1d-4c8e-9a53-3e2f0d9b6a41/);
      expect(() => buildOru(base(), options('UNICODE UTF-8', { controlId: '' }))).to.throw(Hl7BuildError, /control ID/);
      const notANumber = base();
      notANumber.observations[0].value = Number.NaN;
      expect(() => buildOru(notANumber, options('UNICODE UTF-8'))).to.throw(Hl7BuildError, /finite/);
    });

    it('writes the processing id and time zone it is given', () => {
      const m = Hl7Message.parse(buildOru(base(), options('UNICODE UTF-8', { processingId: 'T', timeZone: 'Indian/Reunion' })));
      expect(m.get('MSH-11')).to.equal('T');
      expect(m.get('MSH-7')).to.equal('20261123124110+0400');
      expect(m.get('OBX-14')).to.equal('20261123124107+0400');
    });
  });

  describe('site time', () => {
    it('writes instants in the site time zone with its offset, summer and winter, overseas too', () => {
      expect(formatDateTime('2026-11-23T09:41:07+01:00')).to.equal('20261123094107+0100');
      expect(formatDateTime('2026-07-01T10:00:00Z')).to.equal('20260701120000+0200');
      expect(formatDateTime('2026-03-29T00:59:59Z')).to.equal('20260329015959+0100'); // last second of winter time
      expect(formatDateTime('2026-03-29T01:00:00Z')).to.equal('20260329030000+0200');
      expect(formatDateTime('2026-10-25T00:30:00Z')).to.equal('20261025023000+0200'); // 02:30 happens twice
      expect(formatDateTime('2026-10-25T01:30:00Z')).to.equal('20261025023000+0100');
      expect(formatDateTime('2026-11-23T12:00:00.999Z', 'America/Cayenne')).to.equal('20261123090000-0300');
      expect(formatDateTime('2026-11-23T12:00:00Z', 'Pacific/Chatham')).to.equal('20261124014500+1345');
      expect(formatDateTime(new Date('1999-12-31T23:00:00Z'), 'UTC')).to.equal('19991231230000+0000');
    });

    it('refuses an invalid instant with a build error and an unknown time zone with a RangeError', () => {
      expect(() => formatDateTime('yesterday')).to.throw(Hl7BuildError);
      expect(() => formatDateTime('2026-11-23T09:41:07Z', 'Europe/Atlantis')).to.throw(RangeError);
    });
  });
});

/** LADS snapshots → canonical results: the mapping table, several samples, and arbitrary variable values (property tests). */
import { expect } from 'chai';
import fc from 'fast-check';
import { DataType, Variant } from 'node-opcua';
import { validateResult } from '../../../adapters/model';
import {
  getLadsProfile, LadsProfileError, mapLadsResult, plainVariant, SNAPSHOT_SCHEMA, typeObservationValue, validateLadsProfile,
  type LadsResultSnapshot, type LadsVariable, type PlainDataValue,
} from '../../../adapters/opcua';

const CONTEXT = { site: 's', deviceId: 'lads-1', deviceClass: 'analyser', timeZone: 'Europe/Paris', receivedAt: new Date('2026-12-01T09:00:00Z') };

function snapshot(variables: LadsVariable[], samples: LadsResultSnapshot['result']['samples'] = [{ sampleId: 'SPL1' }]): LadsResultSnapshot {
  return {
    schema: SNAPSHOT_SCHEMA, endpointUrl: 'opc.tcp://127.0.0.1:4840', readAt: '2026-12-01T09:00:00.000Z',
    device: { nodeId: 'ns=1;s=Analyser', name: 'Analyser' }, functionalUnit: { nodeId: 'ns=1;s=Unit', name: 'Unit' },
    result: { nodeId: 'ns=1;s=Result-1', name: 'Result-1', samples, started: '2026-12-01T08:58:00.000Z', stopped: '2026-12-01T08:59:30.000Z' },
    variables, files: [],
  };
}

const variable = (path: string[], data: Partial<PlainDataValue>, unit?: string): LadsVariable => ({
  path, nodeId: `ns=1;s=${path.join('.')}`, value: null, dataType: 'Double', status: 'Good', statusCode: 0, ...data, ...(unit ? { unit: { displayName: unit } } : {}),
});

describe('LADS mapping', () => {
  const profile = getLadsProfile('passerelle-simulator');

  it('maps a variable through the table only in the table\'s unit; other units and unknown variables stay unmapped, flagged', () => {
    const { results, warnings } = mapLadsResult(snapshot([
      variable(['Glucose'], { value: 110 }, 'mg/dL'),
      variable(['Hemoglobin'], { value: 13.1 }, 'g/dl'),
      variable(['Lactate'], { value: 1.2 }, 'mmol/L'),
    ]), profile, CONTEXT);
    const [r] = results;
    expect(r.observations.map((o) => [o.deviceCode.code, o.code?.code, o.unit?.code, o.unmapped])).to.deep.equal([
      ['Glucose', undefined, 'mg/dL', true], ['Hemoglobin', '718-7', 'g/dL', undefined], ['Lactate', undefined, 'mmol/L', true],
    ]);
    expect(warnings).to.deep.equal(['variable Glucose in mg/dL, not mmol/L: left unmapped']);
    expect(r.times).to.deep.equal({ analysed: '2026-12-01T09:59:30+01:00', received: '2026-12-01T10:00:00+01:00' });
  });

  it('several samples: one result each, with its own set of variables and the shared ones', () => {
    const { results, warnings } = mapLadsResult(snapshot([
      variable(['Temperature'], { value: 37 }, '°C'),
      variable(['SPL1', 'Glucose'], { value: 5.1 }, 'mmol/L'),
      variable(['SPL2', 'Glucose'], { value: 7.9 }, 'mmol/L'),
      variable(['Elsewhere', 'Glucose'], { value: 1 }, 'mmol/L'),
    ], [{ sampleId: 'SPL1' }, { sampleId: 'SPL2' }]), profile, CONTEXT);
    expect(results.map((r) => [r.specimen?.id, r.observations.map((o) => o.value)])).to.deep.equal([['SPL1', [37, 5.1]], ['SPL2', [37, 7.9]]]);
    expect(new Set(results.map((r) => r.id)).size).to.equal(2);
    expect(warnings).to.deep.equal(['result Result-1: 1 variable(s) in a set named after no sample (Elsewhere/Glucose): not attributed']);
  });

  it('the same result read twice has the same id (a reconnect or a restart does not make a new result)', () => {
    const one = mapLadsResult(snapshot([variable(['Glucose'], { value: 5 }, 'mmol/L')]), profile, CONTEXT).results[0];
    const two = mapLadsResult({ ...snapshot([variable(['Glucose'], { value: 5 }, 'mmol/L')]), readAt: '2026-12-02T00:00:00Z' }, profile, { ...CONTEXT, receivedAt: new Date() }).results[0];
    expect(one.id).to.equal(two.id).and.match(/^lads-[0-9a-f]{40}$/);
  });

  it('refuses a table with a wrong LOINC check digit or an unknown property, listing every problem', () => {
    expect(() => validateLadsProfile({ id: 'x', manufacturer: 'm', model: 'm', variabls: {}, variables: { Glucose: { loinc: '15074-9', unit: 'mmol/L' } } }, 'x.json'))
      .to.throw(LadsProfileError, 'LADS mapping table x.json: /variabls is not a known property; /variables/Glucose/loinc 15074-9 is not a LOINC code with a right check digit');
  });

  describe('arbitrary variable values (property tests)', () => {
    const status = fc.constantFrom('Good', 'GoodClamped', 'UncertainLastUsableValue', 'UncertainSensorNotAccurate', 'BadSensorFailure', 'BadNodeIdUnknown', 'BadOutOfService');
    const value = fc.oneof(fc.double(), fc.integer(), fc.string(), fc.constant(null), fc.boolean(), fc.array(fc.double(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }));

    it('any value and status: a valid canonical result, the value kept or its absence said, never an exception', () => {
      fc.assert(fc.property(value, status, fc.option(fc.constantFrom('mmol/L', 'mg/L', '%', 'weird unit'), { nil: undefined }), (v, s, unit) => {
        const data = { value: v as PlainDataValue['value'], status: s, statusCode: 0 };
        const { results } = mapLadsResult(snapshot([variable(['Glucose'], data, unit)]), profile, CONTEXT);
        const observation = validateResult(results[0]).observations[0];
        if (s.startsWith('Bad')) {
          expect(observation).to.deep.include({ status: 'X', comment: `OPC UA status ${s}: no value` });
          expect(observation).not.to.have.property('value');
        } else if (v === null) {
          expect(observation.status).to.equal('X');
        } else if (typeof v === 'number' && Number.isFinite(v)) {
          expect(observation).to.deep.include({ valueType: 'NM', value: v, status: s.startsWith('Uncertain') ? 'P' : 'F' });
        } else if (typeof v === 'string' && v.trim() === '') {
          expect(observation.status).to.equal('X');
        } else {
          expect(observation.value, 'the value is kept').not.to.equal(undefined);
        }
      }), { numRuns: 3000 });
    });

    it('variants of every scalar type become JSON, and typed values', () => {
      const variants = fc.oneof(
        fc.double().map((d) => new Variant({ dataType: DataType.Double, value: d })),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => new Variant({ dataType: DataType.Int32, value: n })),
        fc.string().map((t) => new Variant({ dataType: DataType.String, value: t })),
        fc.boolean().map((b) => new Variant({ dataType: DataType.Boolean, value: b })),
        fc.date({ noInvalidDate: true }).map((d) => new Variant({ dataType: DataType.DateTime, value: d })),
        fc.string().map((t) => new Variant({ dataType: DataType.LocalizedText, value: { text: t } })),
        fc.tuple(fc.nat(0xfffff), fc.nat()).map(([h, l]) => new Variant({ dataType: DataType.UInt64, arrayType: 0, value: [h, l] })),
        fc.array(fc.float({ noNaN: true }), { maxLength: 4 }).map((a) => new Variant({ dataType: DataType.Float, arrayType: 1, value: new Float32Array(a) })),
        fc.constant(new Variant({ dataType: DataType.Null })),
      );
      fc.assert(fc.property(variants, (v) => {
        const plain = plainVariant(v);
        expect(JSON.parse(JSON.stringify(plain.value))).to.deep.equal(plain.value);
        const typed = typeObservationValue({ ...plain, status: 'Good', statusCode: 0 });
        expect(['NM', 'SN', 'ST', 'TX']).to.include(typed.valueType);
      }), { numRuns: 3000 });
    });
  });
});

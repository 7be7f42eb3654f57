import { expect } from 'chai';
import { compound, profileTerm, quantity, quantityByMdc, quantityIds, temperatureSite, toObservation, ucumUnit } from '../../../adapters/vitals';

/** LOINC's check digit (mod 10, the Luhn scheme): catches a mistyped code in the table. */
function loincCheckDigitHolds(code: string): boolean {
  const [body, check] = code.split('-');
  let sum = 0;
  [...body].reverse().forEach((ch, i) => {
    const d = Number(ch) * (i % 2 === 0 ? 2 : 1);
    sum += d > 9 ? d - 9 : d;
  });
  return (10 - (sum % 10)) % 10 === Number(check);
}

const at = '2026-11-23T10:08:12+01:00';

describe('vitals coding table', () => {
  it('codes every quantity the issue names, in the right MDC partitions, with valid LOINC codes', () => {
    expect(quantityIds()).to.have.members([
      'spo2', 'pulse-rate-oximeter', 'pulse-rate-nibp', 'heart-rate', 'nibp-systolic', 'nibp-diastolic', 'nibp-mean',
      'body-temperature', 'respiratory-rate', 'body-weight', 'body-height', 'bmi', 'capillary-glucose',
    ]);
    for (const id of quantityIds()) {
      const q = quantity(id)!;
      // A 32-bit MDC code is partition × 65536 + term: 2 (SCADA) for measurements, 4 (DIM) for units.
      expect(Math.floor(Number(q.mdc.code) / 65536), `${id} MDC partition`).to.equal(2);
      expect(Math.floor(Number(q.mdcUnit.code) / 65536), `${id} unit partition`).to.equal(4);
      expect(loincCheckDigitHolds(q.loinc.code), `${id} LOINC ${q.loinc.code}`).to.equal(true);
      expect(q.bounds.low).to.be.lessThan(q.bounds.high);
    }
    expect(loincCheckDigitHolds(compound('nibp')!.loinc.code)).to.equal(true);
    expect(loincCheckDigitHolds('8480-7')).to.equal(false);
  });

  it('keeps the codes of the research table', () => {
    const rows = quantityIds().map((id) => [id, quantity(id)!.mdc.code, quantity(id)!.mdcUnit.code, quantity(id)!.loinc.code, quantity(id)!.unit]);
    expect(rows).to.deep.include.members([
      ['spo2', '150456', '262688', '2708-6', '%'],
      ['pulse-rate-oximeter', '149530', '264864', '8867-4', '/min'],
      ['pulse-rate-nibp', '149546', '264864', '8867-4', '/min'],
      ['heart-rate', '147842', '264864', '8867-4', '/min'],
      ['nibp-systolic', '150021', '266016', '8480-6', 'mm[Hg]'],
      ['nibp-diastolic', '150022', '266016', '8462-4', 'mm[Hg]'],
      ['nibp-mean', '150023', '266016', '8478-0', 'mm[Hg]'],
      ['body-temperature', '150364', '268192', '8310-5', 'Cel'],
      ['respiratory-rate', '151562', '264928', '9279-1', '/min'],
      ['body-weight', '188736', '263875', '29463-7', 'kg'],
      ['body-height', '188740', '263441', '8302-2', 'cm'],
      ['bmi', '188752', '264096', '39156-5', 'kg/m2'],
      ['capillary-glucose', '160184', '266866', '14743-9', 'mmol/L'],
    ]);
    expect(compound('nibp')!.mdc.code).to.equal('150020');
    expect(profileTerm('blood-pressure').code).to.equal('528391');
    expect(profileTerm('pulse-oximeter').code).to.equal('528388');
    // Device specialisations are partition 8 (INFRA): 524288 + term.
    for (const p of ['blood-pressure', 'pulse-oximeter', 'thermometer', 'scale', 'glucose-meter']) expect(Math.floor(Number(profileTerm(p).code) / 65536)).to.equal(8);
    expect(temperatureSite('tympanic')!.mdc!.code).to.equal('150392');
    expect(temperatureSite('axillary')!.mdc!.code).to.equal('188452');
    expect(quantityByMdc('188452')!.id).to.equal('body-temperature');
  });

  it('uses the UCUM units of the FHIR vital-signs value set, and reads usual spellings', () => {
    const vitalsCommon = ['%', 'cm', '[in_i]', 'kg', 'g', '[lb_av]', 'Cel', '[degF]', 'mm[Hg]', '/min', 'kg/m2', 'm2'];
    for (const id of quantityIds().filter((i) => i !== 'capillary-glucose')) expect(vitalsCommon, id).to.include(quantity(id)!.unit);
    expect(['mmHg', '°C', 'bpm', '°F', 'lb', 'g/l', 'kg/m²'].map(ucumUnit)).to.deep.equal(['mm[Hg]', 'Cel', '/min', '[degF]', '[lb_av]', 'g/L', 'kg/m2']);
  });
});

describe('measurements → observations', () => {
  const value = (quantityId: string, v: number, unit: string) => toObservation({ quantity: quantityId, value: v, unit, time: at });

  it('converts what French sites send, and says so', () => {
    const cases: Array<[string, number, string, number, string]> = [
      ['capillary-glucose', 1.05, 'g/L', 5.83, 'mmol/L'], // 1.05 g/L ÷ 180.156 g/mol = 5.828 mmol/L
      ['capillary-glucose', 95, 'mg/dL', 5.27, 'mmol/L'],
      ['body-temperature', 98.6, '°F', 37, 'Cel'], // (98.6 − 32) × 5/9
      ['nibp-systolic', 16, 'kPa', 120, 'mm[Hg]'], // 16 × 7.5006
      ['body-weight', 157.4, 'lb', 71.4, 'kg'], // 157.4 × 0.45359237 = 71.395
      ['body-height', 1.64, 'm', 164, 'cm'],
      ['body-height', 64.6, 'in', 164.1, 'cm'],
    ];
    for (const [q, v, unit, expected, ucum] of cases) {
      const o = value(q, v, unit);
      expect([o.value, o.unit?.code], `${v} ${unit}`).to.deep.equal([expected, ucum]);
      expect(o.warnings).to.deep.equal([`converted from ${v} ${unit}`]);
    }
    expect(value('spo2', 97, '%').warnings).to.equal(undefined);
  });

  it('flags a value outside physiological bounds and keeps it exactly', () => {
    const high = value('nibp-systolic', 312, 'mmHg');
    expect(high.value).to.equal(312);
    expect(high.warnings).to.deep.equal(['out of physiological bounds: 312 mm[Hg] is above 300']);
    expect(value('spo2', 101, '%').warnings).to.deep.equal(['out of physiological bounds: 101 % is above 100']);
    expect(value('body-temperature', 29.1, 'Cel').warnings).to.deep.equal(['out of physiological bounds: 29.1 Cel is below 30']);
  });

  it('keeps an unknown quantity with the sender\'s code, and an unknown unit as sent, both flagged', () => {
    const unknown = toObservation({ code: { code: 'ETCO2', system: '99CART' }, value: 38, unit: 'mmHg', time: at });
    expect(unknown).to.deep.include({ deviceCode: { code: 'ETCO2', system: '99CART' }, value: 38, unmapped: true, unit: { code: 'mm[Hg]', system: 'UCUM' } });
    expect(unknown.code).to.equal(undefined);
    expect(unknown.warnings).to.deep.equal(["unknown quantity ETCO2 (99CART): kept with the sender's code"]);
    const odd = value('body-weight', 71, 'stone');
    expect(odd).to.deep.include({ value: 71, unit: { code: 'stone' } });
    expect(odd.mdc).to.deep.equal({ code: { code: '188736', display: 'MDC_MASS_BODY_ACTUAL', system: 'MDC' } });
    expect(odd.warnings).to.deep.equal(['unit stone is not known for body-weight: kept as sent, not converted']);
  });

  it('finds the quantity by its MDC or LOINC code, and the temperature site by its MDC code', () => {
    expect(toObservation({ code: { code: '149546', system: 'MDC' }, value: 70, unit: '/min', time: at }).code?.code).to.equal('8867-4');
    const tympanic = toObservation({ code: { code: '150392', system: 'MDC' }, value: 37.2, unit: 'Cel', time: at });
    expect(tympanic.bodySite).to.deep.equal({ code: '42859004', display: 'Tympanic membrane structure', system: 'SCT' });
    expect(tympanic.mdc?.code.code).to.equal('150392');
    expect(toObservation({ code: { code: '8480-6', system: 'LN' }, value: 120, unit: 'mm[Hg]', time: at }).mdc?.code.code).to.equal('150021');
  });

  it('says when there is no value, with status X', () => {
    const o = toObservation({ quantity: 'spo2', unit: '%', time: at, warnings: ['the device sent the special value NaN'] });
    expect(o).to.deep.include({ status: 'X', warnings: ['the device sent the special value NaN'] });
    expect(o.value).to.equal(undefined);
  });
});

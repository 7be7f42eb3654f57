/**
 * Mapping rules, one by one, on small messages written for the purpose: values typed but never
 * changed, units, ranges, flags, times in the device's zone, patient only from the device's ids,
 * statuses, controls kept apart, stable ids.
 */
import { expect } from 'chai';
import {
  getProfile, mapMessage, mapTransfer, type MappingContext, parseAstmDate, parseMessage, readRange, typeValue, validateProfile, type DeviceProfile,
} from '../../../adapters/astm';
import { validateResult } from '../../../adapters/model';

const CONTEXT: MappingContext = { site: 'cso-annecy', deviceClass: 'haematology', deviceId: 'xn-1', receivedAt: '2026-01-15T09:00:00Z' };

const PROFILE = validateProfile({
  id: 'test', manufacturer: 'Test', model: 'T-1', codeSystem: '99TEST',
  tests: {
    WBC: { loinc: '6690-2', display: 'Leucocytes', unit: '10*3/uL' },
    HBA1C: { loinc: '4548-4', unit: '%' },
    CRP: { loinc: '1988-5' },
    PLT: { loinc: '777-3', unit: '10*3/uL', deviceUnits: ['G/L-site'] },
  },
});

function map(records: string, profile: DeviceProfile = PROFILE, context = CONTEXT) {
  return mapMessage(parseMessage(`H|\\^&|||T-1^2.0^SN9||||||||LIS2-A2|20260115095900\r${records}L|1|N\r`), profile, context);
}

function only(records: string, profile: DeviceProfile = PROFILE) {
  const mapped = map(records, profile);
  expect(mapped.results, JSON.stringify(mapped.skipped)).to.have.length(1);
  return mapped.results[0];
}

describe('astm mapping: values', () => {
  it('types values without changing them: NM, SN for <5 and >8, text otherwise', () => {
    expect(typeValue('8.13', false)).to.deep.equal({ valueType: 'NM', value: 8.13 });
    expect(typeValue('  5.5', false)).to.deep.equal({ valueType: 'NM', value: 5.5 });
    expect(typeValue('-2.0', false)).to.deep.equal({ valueType: 'NM', value: -2 });
    expect(typeValue('<5', false)).to.deep.equal({ valueType: 'SN', value: { comparator: '<', number: 5 } });
    expect(typeValue('>8', false)).to.deep.equal({ valueType: 'SN', value: { comparator: '>', number: 8 } });
    expect(typeValue('>= 15.0', false)).to.deep.equal({ valueType: 'SN', value: { comparator: '>=', number: 15 } });
    expect(typeValue('7,41', true)).to.deep.equal({ valueType: 'NM', value: 7.41 });
    expect(typeValue('7,41', false)).to.deep.equal({ valueType: 'ST', value: '7,41' });
    expect(typeValue('>8,5', true)).to.deep.equal({ valueType: 'SN', value: { comparator: '>', number: 8.5 } });
    expect(typeValue('1,234.5', true)).to.deep.equal({ valueType: 'ST', value: '1,234.5' });
    expect(typeValue('NOT DETECTED', false)).to.deep.equal({ valueType: 'ST', value: 'NOT DETECTED' });
    expect(typeValue('---', false)).to.deep.equal({ valueType: 'ST', value: '---' });
    expect(typeValue('   ', false)).to.deep.equal({ valueType: 'ST' });
    expect(typeValue('x'.repeat(200), false).valueType).to.equal('TX');
  });

  it('reads reference ranges as "low to high" and "low-high", keeping the text', () => {
    expect(readRange('3.5 to 4.5', false)).to.deep.equal({ text: '3.5 to 4.5', low: 3.5, high: 4.5 });
    expect(readRange('84.0 - 94.0', false)).to.deep.equal({ text: '84.0 - 94.0', low: 84, high: 94 });
    expect(readRange('0.94-1.64', false)).to.deep.equal({ text: '0.94-1.64', low: 0.94, high: 1.64 });
    expect(readRange('-5--1', false)).to.deep.equal({ text: '-5--1', low: -5, high: -1 });
    expect(readRange('to 4.5', false)).to.deep.equal({ text: 'to 4.5', high: 4.5 });
    expect(readRange('3.5 to', false)).to.deep.equal({ text: '3.5 to', low: 3.5 });
    expect(readRange('<5', false)).to.deep.equal({ text: '<5', high: 5 });
    expect(readRange('3,5 - 4,5', true)).to.deep.equal({ text: '3,5 - 4,5', low: 3.5, high: 4.5 });
    expect(readRange('négatif', false)).to.deep.equal({ text: 'négatif' });
    expect(readRange('', false)).to.equal(undefined);
  });

  it('maps an observation fully: code, device code, value, UCUM unit, range, flags, status, time, operator, instrument', () => {
    const result = only('P|1\rO|1|S-001\rR|1|^^^WBC|12.4|10E3/uL|4.0 - 10.0^REF|H||F||IDE-017^VER||20260115094107|YH5-104522\r');
    expect(result.observations[0]).to.deep.equal({
      code: { code: '6690-2', system: 'LN', display: 'Leucocytes' },
      deviceCode: { code: 'WBC', system: '99TEST' },
      valueType: 'NM',
      value: 12.4,
      unit: { code: '10*3/uL', system: 'UCUM', display: '10E3/uL' },
      referenceRange: { text: '4.0 - 10.0', low: 4, high: 10 },
      flags: ['H'],
      status: 'F',
      observedAt: '2026-01-15T09:41:07+01:00',
      operator: { id: 'IDE-017' },
      equipmentId: 'YH5-104522',
    });
  });

  it('passes unknown codes through with the device\'s code, flagged unmapped; keeps a non-UCUM unit as written', () => {
    const result = only('P|1\rO|1|S\rR|1|^^^SARSCOV2IGA|>8|Ratio\r');
    expect(result.observations[0]).to.deep.equal({
      deviceCode: { code: 'SARSCOV2IGA', system: '99TEST' }, valueType: 'SN', value: { comparator: '>', number: 8 }, unit: { code: 'Ratio' }, status: 'P', unmapped: true,
    });
  });

  it('leaves a mapped code unmapped when the value comes in another unit (HbA1c in mmol/mol is not 4548-4)', () => {
    const mapped = map('P|1\rO|1|S\rR|1|^^^HBA1C|42|mmol/mol||||F\rR|2|^^^HBA1C|6.0|%||||F\rR|3|^^^CRP|12|mg/L||||F\rR|4|^^^PLT|250|G/L-site||||F\r');
    const obs = mapped.results[0].observations;
    expect(obs[0]).to.include({ unmapped: true });
    expect(obs[0].code).to.equal(undefined);
    expect(obs[0].unit).to.deep.equal({ code: 'mmol/mol', system: 'UCUM', display: 'mmol/mol' });
    expect(obs[1].code?.code).to.equal('4548-4');
    expect(obs[2].code?.code).to.equal('1988-5'); // no unit in the mapping: no unit check
    expect(obs[3].code?.code).to.equal('777-3'); // the site's own spelling, declared in the profile
    expect(obs[3].unit).to.deep.equal({ code: '10*3/uL', system: 'UCUM', display: 'G/L-site' });
    expect(mapped.warnings).to.deep.equal(['record 4 (R): test HBA1C sent in a unit other than %; left unmapped']);
  });

  it('keeps flags outside E1394\'s list in the comment, with C comments of the result, order and patient', () => {
    const result = only('P|1\rC|1||POST HD\rO|1|S\rC|1|I|CONTROL^OK|I\rR|1|^^^WBC|5|10*3/uL||!\\H||F\rC|1|I|flag 1|I\rC|2|I||I\r');
    expect(result.observations[0].flags).to.deep.equal(['H']);
    expect(result.observations[0].comment).to.equal('device flags: !\nflag 1\nCONTROL^OK\nPOST HD');
  });

  it('reads the test code from the profile\'s component of R.3 (4th: ^^^CODE, 5th: ^^^^WBC^1), and the value from its component', () => {
    const xn = getProfile('sysmex-xn');
    expect(only('P|1\rO|1||^^      27^M\rR|1|^^^^WBC^1|  8.13|10*3/uL||N||F\r', xn).observations[0]).to.include({ value: 8.13, valueType: 'NM' });
    const gx = getProfile('cepheid-genexpert');
    const result = mapMessage(parseMessage('H|@^\\|1||x^GeneXpert^6.1\rP|1\rO|1|SP1\rR|1|^MTB-RIF^^Xpert^Xpert MTB-RIF Ultra^4^MTB^|NOT DETECTED^|||||F\rR|2|^MTB-RIF^^Xpert^^^rpoB1^Ct|^27.5\rL|1|N\r'), gx, CONTEXT).results[0];
    expect(result.observations.map((o) => [o.deviceCode.code, o.deviceCode.display, o.value])).to.deep.equal([
      ['MTB-RIF^Xpert^MTB', 'Xpert MTB-RIF Ultra', 'NOT DETECTED'], ['MTB-RIF^Xpert^rpoB1^Ct', undefined, 27.5],
    ]);
  });
});

describe('astm mapping: times', () => {
  it('reads YYYYMMDDHHMMSS in the device\'s zone, with the offset of that day (Paris: +01:00 in winter, +02:00 in summer)', () => {
    expect(parseAstmDate('20260115094107', 'Europe/Paris')).to.deep.include({ kind: 'instant', iso: '2026-01-15T09:41:07+01:00' });
    expect(parseAstmDate('20260715094107', 'Europe/Paris')).to.deep.include({ kind: 'instant', iso: '2026-07-15T09:41:07+02:00' });
    expect(parseAstmDate('202205270000', 'Europe/Paris')).to.deep.include({ iso: '2022-05-27T00:00:00+02:00' });
    expect(parseAstmDate('20260715094107', 'America/New_York')).to.deep.include({ iso: '2026-07-15T09:41:07-04:00' });
    // Around the spring change: 02:30 does not exist in Paris on 29 March 2026.
    expect(parseAstmDate('20260329013000', 'Europe/Paris')).to.deep.include({ iso: '2026-03-29T01:30:00+01:00' });
    expect(parseAstmDate('20260329033000', 'Europe/Paris')).to.deep.include({ iso: '2026-03-29T03:30:00+02:00' });
  });

  it('honours an explicit ±HHMM offset, and gives a date (not an instant) down to the day', () => {
    const withOffset = parseAstmDate('20260115094107+0530', 'Europe/Paris');
    expect(withOffset).to.deep.include({ iso: '2026-01-15T09:41:07+05:30' });
    expect(withOffset?.kind === 'instant' && withOffset.ms).to.equal(Date.parse('2026-01-15T04:11:07Z'));
    expect(parseAstmDate('20260115094107-0000', 'Europe/Paris')).to.deep.include({ iso: '2026-01-15T09:41:07+00:00' });
    expect(parseAstmDate('19870626', 'Europe/Paris')).to.deep.equal({ kind: 'date', date: '1987-06-26' });
    expect(parseAstmDate('1987', 'Europe/Paris')).to.deep.equal({ kind: 'date', date: '1987' });
    for (const bad of ['', '2026011', '20261315', '20260431', '20260115250000', '20260115096000', 'yesterday', '20260115094107+2500']) {
      expect(parseAstmDate(bad, 'Europe/Paris'), bad).to.equal(undefined);
    }
  });

  it('takes observedAt from R.13 (else R.12), times from O.7 and O.8, analysed = the latest observation, received from the caller', () => {
    const result = only('P|1\rO|1|S||^^^A|R|20260115080000|20260115081500\rR|1|^^^A|1|||||F|||20260115090000|20260115091000\rR|2|^^^B|2|||||F|||20260115092000\r');
    expect(result.observations.map((o) => o.observedAt)).to.deep.equal(['2026-01-15T09:10:00+01:00', '2026-01-15T09:20:00+01:00']);
    expect(result.times).to.deep.equal({
      ordered: '2026-01-15T08:00:00+01:00', collected: '2026-01-15T08:15:00+01:00', analysed: '2026-01-15T09:20:00+01:00', received: '2026-01-15T10:00:00+01:00',
    });
    expect(result.specimen?.collectedAt).to.equal('2026-01-15T08:15:00+01:00');
    const other = validateProfile({ id: 'ny', manufacturer: 'T', model: 'T', timeZone: 'America/New_York' });
    expect(only('P|1\rO|1|S\rR|1|^^^A|1|||||F||||20260115091000\r', other).observations[0].observedAt).to.equal('2026-01-15T09:10:00-05:00');
  });

  it('reads a device\'s own date layout when its profile gives one (dateFormat)', () => {
    const own = validateProfile({ id: 'own', manufacturer: 'T', model: 'T', dateFormat: 'DD/MM/YYYY HH:mm:ss' });
    const result = only('P|1|ID1|||X^Y||26/06/1987\rO|1|S\rR|1|^^^A|1|||||F||||15/01/2026 09:41:07\r', own);
    expect(result.observations[0].observedAt).to.equal('2026-01-15T09:41:07+01:00');
    expect(result.patient?.birthDate).to.equal('1987-06-26');
    expect(parseAstmDate('15/01/2026 09:41:07+0200', 'Europe/Paris', 'DD/MM/YYYY HH:mm:ss')).to.deep.include({ iso: '2026-01-15T09:41:07+02:00' });
    expect(parseAstmDate('2026-01-15T09:41', 'Europe/Paris', 'YYYY-MM-DDTHH:mm')).to.deep.include({ iso: '2026-01-15T09:41:00+01:00' });
    expect(parseAstmDate('20260115094107', 'Europe/Paris', 'DD/MM/YYYY HH:mm:ss')).to.equal(undefined);
    expect(() => validateProfile({ id: 'bad', manufacturer: 'T', model: 'T', dateFormat: 'HH:mm' })).to.throw(/dateFormat needs YYYY, MM and DD/);
    // A birth date sent with a time of day is still a birth date.
    expect(only('P|1|ID1|||X^Y||19870626000000\rO|1|S\rR|1|^^^A|1\r').patient?.birthDate).to.equal('1987-06-26');
  });

  it('warns (positions only) about a date it cannot read, and goes on', () => {
    const mapped = map('P|1\rO|1|S\rR|1|^^^A|1|||||F||||2026-01-15\r');
    expect(mapped.results[0].observations[0].observedAt).to.equal(undefined);
    expect(mapped.warnings).to.deep.equal(['record 4 (R): R.13 is not a date-time']);
  });
});

describe('astm mapping: patient, specimen, status', () => {
  it('patient only from the device\'s ids: matched by device; a name without id is kept unmatched; nothing gives no patient', () => {
    const withId = only('P|1|IPP42||INS7|DUPONT^Jean^Marie||19840312|F\rO|1|S\rR|1|^^^A|1\r');
    expect(withId.patient).to.deep.equal({
      identifiers: [{ value: 'IPP42' }, { value: 'INS7' }], matched: true, matchedBy: 'device',
      name: { family: 'DUPONT', given: ['Jean', 'Marie'] }, birthDate: '1984-03-12', sex: 'F',
    });
    const nameOnly = only('P|1||||Mohale^Rita||19771201|F\rO|1|S\rR|1|^^^A|1\r');
    expect(nameOnly.patient).to.deep.equal({ identifiers: [], matched: false, name: { family: 'Mohale', given: ['Rita'] }, birthDate: '1977-12-01', sex: 'F' });
    expect(only('P|1||||^^^^|||U\rO|1|S\rR|1|^^^A|1\r').patient).to.equal(undefined);
    expect(only('O|1|S\rR|1|^^^A|1\r').patient).to.equal(undefined);
  });

  it('specimen id from the profile\'s places, first non-empty, trimmed (O.3, else O.4; Sysmex O.4 component 3)', () => {
    expect(only('P|1\rO|1|  S-1  |I-2\rR|1|^^^A|1\r').specimen?.id).to.equal('S-1');
    expect(only('P|1\rO|1||T20 10134GA D28^^6\rR|1|^^^A|1\r').specimen?.id).to.equal('T20 10134GA D28');
    expect(only('P|1\rO|1||^^                    27^M\rR|1|^^^^WBC^1|1\r', getProfile('sysmex-xn')).specimen?.id).to.equal('27');
    expect(only('P|1\rO|1\rR|1|^^^A|1\r').specimen).to.equal(undefined);
  });

  it('status from R.9 through the profile, else the order\'s report type (O.26), else statusWhenAbsent', () => {
    const statuses = (records: string, profile = PROFILE) => map(records, profile).results.map((r) => [r.status, r.observations.map((o) => o.status).join('')]);
    expect(statuses('P|1\rO|1|S\rR|1|^^^A|1|||||F\rR|2|^^^B|1|||||V\r')).to.deep.equal([['final', 'FF']]);
    expect(statuses('P|1\rO|1|S\rR|1|^^^A|1|||||F\rR|2|^^^B|1|||||W\r')).to.deep.equal([['preliminary', 'FP']]);
    expect(statuses('P|1\rO|1|S\rR|1|^^^A|1|||||C\rR|2|^^^B|1|||||F\r')).to.deep.equal([['corrected', 'CF']]);
    expect(statuses('P|1\rO|1|S\rR|1|^^^A||||||X\r')).to.deep.equal([['cancelled', 'X']]);
    expect(statuses(`P|1\rO|1|S${'|'.repeat(23)}F\rR|1|^^^A|1\r`)).to.deep.equal([['final', 'F']]);
    expect(statuses('P|1\rO|1|S\rR|1|^^^A|1\r')).to.deep.equal([['preliminary', 'P']]);
    expect(statuses('P|1\rO|1|S\rR|1|^^^^A|1|||||I\r', getProfile('sysmex-xn'))).to.deep.equal([['preliminary', 'P']]);
    expect(statuses('P|1\rO|1|S\rR|1|^^^A|1|||||N\r', getProfile('horiba-pentra-xlr'))).to.deep.equal([['cancelled', 'X']]);
  });

  it('one result per order; an order without results gives none; several patients give several results', () => {
    const mapped = map('P|1|A\rO|1|S1\rR|1|^^^X|1\rO|2|S2\rR|1|^^^Y|2\rR|2|^^^Z|3\rO|3|S3\rP|2|B\rO|1|S4\rR|1|^^^X|4\r');
    expect(mapped.results.map((r) => [r.patient?.identifiers[0].value, r.specimen?.id, r.observations.length])).to.deep.equal([['A', 'S1', 1], ['A', 'S2', 2], ['B', 'S4', 1]]);
    expect(mapped.skipped).to.deep.equal([{ order: 'record 8 (O)', reason: 'no result records' }]);
  });

  it('keeps quality-control results apart (H.12 Q, O.12 Q, a control specimen type) and skips training messages', () => {
    const message = (h12: string, order: string) => parseMessage(`H|\\^&|||X|||||||${h12}\rP|1\r${order}\rR|1|^^^A|1\rL|1|N\r`);
    const yumizen = getProfile('horiba-yumizen-h5xx');
    expect(mapMessage(message('Q', 'O|1|C1'), PROFILE, CONTEXT).controls).to.have.length(1);
    expect(mapMessage(message('P', `O|1|C1${'|'.repeat(9)}Q`), PROFILE, CONTEXT).controls).to.have.length(1);
    const ctrl = mapMessage(message('P', `O|1|C1${'|'.repeat(13)}CTRL^^CTRL LOW`), yumizen, CONTEXT);
    expect([ctrl.results.length, ctrl.controls.length]).to.deep.equal([0, 1]);
    expect(mapMessage(message('P', `O|1|C1${'|'.repeat(13)}CTRL`), PROFILE, CONTEXT).results).to.have.length(1);
    const training = mapMessage(message('T', 'O|1|S'), PROFILE, CONTEXT);
    expect([training.results.length, training.controls.length, training.skipped[0].reason]).to.deep.equal([0, 0, 'processing id T (training or debugging)']);
  });

  it('fills the source from the caller and the header (serial, software version), protocol astm', () => {
    const result = only('P|1\rO|1|S\rR|1|^^^A|1\r');
    expect(result.source).to.deep.equal({
      site: 'cso-annecy', deviceClass: 'haematology', deviceId: 'xn-1', manufacturer: 'Test', model: 'T-1', protocol: 'astm', serial: 'SN9', softwareVersion: '2.0',
    });
    const withRaw = mapMessage(parseMessage('H|\\^&\rP|1\rO|1|S\rR|1|^^^A|1\rL|1|N\r'), PROFILE, { ...CONTEXT, journalId: 'j-7', rawSha256: 'a'.repeat(64) }).results[0];
    expect(withRaw.raw).to.deep.equal({ journalId: 'j-7', sha256: 'a'.repeat(64) });
    expect(validateResult(withRaw)).to.equal(withRaw);
  });

  it('an order the model refuses is skipped with the reason; the others still map', () => {
    const mapped = mapMessage(parseMessage('H|\\^&\rP|1\rO|1|S\rR|1|^^^A|1\rL|1|N\r'), PROFILE, { ...CONTEXT, deviceId: 'not a topic level!' });
    expect(mapped.results).to.have.length(0);
    expect(mapped.skipped[0].reason).to.match(/invalid canonical result: \/source\/deviceId/);
  });
});

describe('astm mapping: stable ids', () => {
  const records = 'P|1|IPP42\rO|1|S-1||^^^A\rR|1|^^^WBC|12.4|10*3/uL||H||F||||20260115094107\r';
  const id = (text: string, context = CONTEXT) => mapMessage(parseMessage(text), PROFILE, context).results[0].id;
  const message = (header: string, body = records) => `H|\\^&|||T-1||||||||LIS2-A2|${header}\r${body}L|1|N\r`;

  it('the same result replayed (later, with a new header date) gets the same id', () => {
    const first = id(message('20260115095900'));
    expect(first).to.match(/^astm-[0-9a-f]{40}$/);
    expect(id(message('20260116120000'), { ...CONTEXT, receivedAt: '2026-01-16T12:00:00Z' })).to.equal(first);
  });

  it('another device, specimen, patient, value, status or time gets another id', () => {
    const base = id(message('1'));
    const variants = [
      id(message('1'), { ...CONTEXT, deviceId: 'xn-2' }),
      id(message('1', records.replace('S-1', 'S-2'))),
      id(message('1', records.replace('IPP42', 'IPP43'))),
      id(message('1', records.replace('12.4', '12.5'))),
      id(message('1', records.replace('||F||', '||C||'))),
      id(message('1', records.replace('20260115094107', '20260115094108'))),
    ];
    expect(new Set([base, ...variants]).size).to.equal(7);
  });
});

describe('astm mapping: a whole transfer', () => {
  it('mapTransfer: bytes in the device\'s character set → every message in them → results', () => {
    const text = 'H|\\^&\rP|1|IPP1|||NOËL^Hélène\rO|1|S1\rR|1|^^^WBC|5|10*3/uL||||F\rL|1|N\rH|\\^&\rP|1|IPP2\rO|1|S2\rR|1|^^^WBC|6|10*3/uL||||F\rL|1|N\r';
    const latin1 = mapTransfer(Buffer.from(text, 'latin1'), PROFILE, CONTEXT);
    expect(latin1.messages).to.have.length(2);
    expect(latin1.results.map((r) => [r.specimen?.id, r.observations[0].value])).to.deep.equal([['S1', 5], ['S2', 6]]);
    expect(latin1.results[0].patient?.name).to.deep.equal({ family: 'NOËL', given: ['Hélène'] });
    const utf8 = mapTransfer(Buffer.from(text, 'utf8'), validateProfile({ id: 'u', manufacturer: 'T', model: 'T', charset: 'utf8' }), CONTEXT);
    expect(utf8.results[0].patient?.name).to.deep.equal({ family: 'NOËL', given: ['Hélène'] });
    expect(latin1.warnings).to.deep.equal([]);
  });
});

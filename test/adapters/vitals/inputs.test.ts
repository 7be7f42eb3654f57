import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOru, buildPcd01Oru, Hl7Message, isPcd01, readPcd01, type OruOptions } from '../../../adapters/hl7';
import { validateResult, type Result } from '../../../adapters/model';
import {
  bleToResult, cartToResult, fhirToResult, InvalidVitalsError, parseBleReading, parseCartVitals, pcd01Coding, pcd01ToResult,
} from '../../../adapters/vitals';
import { simulatedVitals, toFhirBundle } from '../../../simulators/cart';

const ROOT = join(__dirname, '..', '..', '..', '..');
const exampleText = () => readFileSync(join(ROOT, 'docs', 'schema', 'vitals.example.json'), 'utf8');
const example = () => JSON.parse(exampleText());
const context = (raw: string | Buffer = '') => ({ site: 'cso-annecy', deviceId: 'chariot-tlc-2', receivedAt: new Date('2026-11-23T09:15:00Z'), rawSha256: createHash('sha256').update(raw).digest('hex') });
const NOW = new Date('2026-11-23T09:20:00Z');
const oruOptions: OruOptions = { controlId: 'CTRL-1', sendingApplication: 'PASSERELLE', sendingFacility: 'cso-annecy', receivingApplication: 'DPI', receivingFacility: 'CHU', charset: 'UNICODE UTF-8', now: NOW };

function refused(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(InvalidVitalsError);
    return (err as InvalidVitalsError).problems;
  }
  return expect.fail('should have been refused');
}

describe('the cart contract (passerelle.vitals/1)', () => {
  it('turns the documented example into a valid canonical result: patient with INS, teleconsultation, coded observations', () => {
    const result = validateResult(cartToResult(parseCartVitals(exampleText(), { cartId: 'chariot-tlc-2', now: NOW }), context(exampleText())));
    expect(result).to.deep.include({ kind: 'vitals', id: '6f1c9e2a-4b7d-4e38-9c05-2d8a1b7f3e90', encounter: { id: 'TLC-2026-004217', location: 'Salle de téléconsultation 2' } });
    expect(result.source).to.deep.include({ site: 'cso-annecy', deviceClass: 'cart', deviceId: 'chariot-tlc-2', protocol: 'mqtt' });
    expect(result.patient).to.deep.include({ matched: true, birthName: 'LEFÈVRE', name: { family: 'NOËL', given: ['Hélène', 'Françoise'] } });
    expect(result.patient!.identifiers[0]).to.deep.equal({ value: '284037512345678', type: 'INS-NIR', authority: '1.2.250.1.213.1.4.8', authorityName: 'ASIP-SANTE-INS-NIR' });
    expect(result.observations.map((o) => [o.mdc?.code.code, o.value, o.unit?.code])).to.deep.equal([
      ['150021', 128, 'mm[Hg]'], ['150022', 82, 'mm[Hg]'], ['150023', 97, 'mm[Hg]'], ['149546', 74, '/min'], ['150456', 97, '%'], ['149530', 72, '/min'],
      ['150392', 37.8, 'Cel'], ['151562', 16, '/min'], ['188736', 71.4, 'kg'], ['188740', 164, 'cm'], ['188752', 26.5, 'kg/m2'], ['160184', 5.83, 'mmol/L'],
    ]);
    // The oximeter gave its Bluetooth address: its EUI-64 has FFFE after the OUI.
    expect(result.observations[4].device?.eui64).to.equal('001C05FFFEA1B2C3');
    expect(result.observations[0].device?.eui64).to.equal('00091FFFFE123456');
    expect(result.times.analysed).to.equal('2026-11-23T10:12:31+01:00');
  });

  it('refuses a time without zone, naming where', () => {
    const bad = example();
    bad.measurements[2].time = '2026-11-23T10:08:12';
    expect(refused(() => parseCartVitals(JSON.stringify(bad), { now: NOW })).join()).to.contain('/measurements/2/time must match pattern');
  });

  it('refuses a time in the future, a cart that is not the topic\'s, a patient without a name, bytes that are not JSON', () => {
    const future = example();
    future.measurements[0].time = '2026-11-23T11:30:00+01:00';
    expect(refused(() => parseCartVitals(JSON.stringify(future), { now: NOW }))).to.deep.equal(['/measurements/0/time 2026-11-23T11:30:00+01:00 is in the future (is the device\'s clock right?)']);
    expect(refused(() => parseCartVitals(exampleText(), { cartId: 'chariot-tlc-9', now: NOW }))).to.deep.equal(['/cart/id is chariot-tlc-2 but the topic names cart chariot-tlc-9']);
    const nameless = example();
    delete nameless.patient.family;
    expect(refused(() => parseCartVitals(JSON.stringify(nameless), { now: NOW })).join()).to.contain("/patient must have required property 'family'");
    expect(refused(() => parseCartVitals('{"schema":', { now: NOW }))[0]).to.match(/^not JSON/);
  });

  it('holds a patient without identifier: matched false', () => {
    const anonymous = example();
    delete anonymous.patient.ins;
    delete anonymous.patient.localId;
    const result = cartToResult(parseCartVitals(JSON.stringify(anonymous), { now: NOW }), context());
    expect(result.patient).to.deep.include({ identifiers: [], matched: false });
  });
});

describe('FHIR R4 vital signs', () => {
  it('reads a Bundle (Patient, Devices, Observations) like the cart contract', () => {
    const vitals = simulatedVitals(1, 'chariot-tlc-2', NOW);
    const text = JSON.stringify(toFhirBundle(vitals));
    const result = validateResult(fhirToResult(text, { ...context(text), now: NOW }));
    expect(result.id).to.equal(`fhir.${vitals.id}`);
    expect(result.source.protocol).to.equal('fhir');
    expect(result.patient?.identifiers.map((i) => [i.value, i.type])).to.deep.equal([['153117512345621', 'INS-NIR'], ['IPP00051932', 'PI']]);
    expect(result.patient?.name).to.deep.equal({ family: 'GÉRARD', given: ['Jérôme'] });
    expect(result.encounter).to.deep.equal({ id: 'TLC-SIM-00002' });
    const fromCart = cartToResult(vitals, context());
    expect(result.observations.map((o) => [o.mdc?.code.code, o.value, o.unit?.code, o.device?.eui64])).to.deep.equal(fromCart.observations.map((o) => [o.mdc?.code.code, o.value, o.unit?.code, o.device?.eui64]));
  });

  it('reads a blood-pressure panel Observation by its components', () => {
    const observation = {
      resourceType: 'Observation', id: 'bp-1', status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
      subject: { identifier: { system: 'urn:oid:1.2.250.1.213.1.4.8', value: '284037512345678' } },
      effectiveDateTime: '2026-11-23T10:08:12+01:00',
      component: [
        { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 131, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
        { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 84, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      ],
    };
    const result = validateResult(fhirToResult(JSON.stringify(observation), { ...context(), now: NOW }));
    expect(result.id).to.equal('fhir.bp-1');
    expect(result.observations.map((o) => [o.code?.code, o.mdc?.code.code, o.value])).to.deep.equal([['8480-6', '150021', 131], ['8462-4', '150022', 84]]);
    expect(result.patient).to.deep.include({ matched: true });
  });

  it('refuses a resource that does not validate, naming every problem with its path', () => {
    const bundle = toFhirBundle(simulatedVitals(0, 'c', NOW)) as { entry: Array<{ resource: Record<string, unknown> }> };
    const obs = bundle.entry.filter((e) => e.resource.resourceType === 'Observation');
    delete obs[0].resource.category;
    obs[1].resource.effectiveDateTime = '2026-11-23T10:08:12';
    delete obs[2].resource.subject;
    (obs[3].resource.valueQuantity as Record<string, unknown>).value = '68';
    obs[4].resource.status = 'entered-in-error';
    const problems = refused(() => fhirToResult(JSON.stringify(bundle), { ...context(), now: NOW }));
    // Entry 0 is the Patient, 1–5 the five devices, the Observations follow.
    expect(problems).to.deep.equal([
      'Bundle.entry[6].resource.category: vital-signs is required',
      'Bundle.entry[7].resource.effective[x] 2026-11-23T10:08:12 has no time zone',
      'Bundle.entry[8].resource.subject is required',
      'Bundle.entry[9].resource.valueQuantity.value must be a number',
      'Bundle.entry[10].resource.status entered-in-error: one of final, amended, corrected, preliminary expected',
    ]);
    expect(refused(() => fhirToResult('{"resourceType":"Patient"}', context()))).to.deep.equal(['resourceType Patient: an Observation or a Bundle is expected']);
  });
});

describe('IHE PCD-01 both ways', () => {
  const result = (): Result => cartToResult(parseCartVitals(exampleText(), { now: NOW }), context());

  it('writes the PCD-01 form: v2.6, MSH-21, OBR-4, MDC codes, containment, units, EUI-64, body site, NTE', () => {
    const m = Hl7Message.parse(buildPcd01Oru(result(), oruOptions, pcd01Coding));
    expect(m.version).to.equal('2.6');
    expect(m.get('MSH-21')).to.equal('IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO');
    expect(m.get('OBR-4')).to.equal('182777000^monitoring of patient^SCT');
    expect(m.get('PV1-19')).to.equal('TLC-2026-004217');
    const rows = m.segments('OBX').map((o) => [o.get('3.1'), o.get('4'), o.get('5'), o.get('6.1'), o.get('11'), o.get('18.1')]);
    expect(rows.slice(0, 6)).to.deep.equal([
      ['528391', '1', '', '', 'X', '00091FFFFE123456'],
      ['150020', '1.0.1', '', '', 'X', '00091FFFFE123456'],
      ['150021', '1.0.1.1', '128', '266016', 'F', '00091FFFFE123456'],
      ['150022', '1.0.1.2', '82', '266016', 'F', '00091FFFFE123456'],
      ['150023', '1.0.1.3', '97', '266016', 'F', '00091FFFFE123456'],
      ['149546', '1.0.0.1', '74', '264864', 'F', '00091FFFFE123456'],
    ]);
    expect(new Set(rows.map((r) => r[1])).size, 'sub-ids unique in the message').to.equal(rows.length);
    expect(m.get('OBX[3]-18')).to.equal('00091FFFFE123456^^00091FFFFE123456^EUI-64');
    expect(m.get('OBX[3]-20')).to.equal('368208006^Left upper arm structure^SCT');
    expect(m.segments('NTE').map((n) => n.get('3'))).to.deep.equal(['converted from 1.05 g/L']);
  });

  it('writes vitals in the v2.5 form with LOINC first and the MDC code kept', () => {
    const m = Hl7Message.parse(buildOru(result(), oruOptions));
    expect(m.version).to.equal('2.5');
    expect(m.get('OBX[1]-3')).to.equal('8480-6^Systolic blood pressure^LN^150021^MDC_PRESS_BLD_NONINV_SYS^MDC');
    expect(m.get('OBR-4')).to.equal('85353-1^Vital signs panel^LN');
    expect(m.get('PV1-3')).to.equal('Salle de téléconsultation 2');
  });

  it('reads back what it writes: same codes, values, units, devices and patient', () => {
    const original = result();
    const m = Hl7Message.parse(buildPcd01Oru(original, oruOptions, pcd01Coding));
    expect(isPcd01(m)).to.equal(true);
    const back = validateResult(pcd01ToResult(readPcd01(m), { ...context(), timeZone: 'Europe/Paris', now: NOW }));
    const view = (r: Result) => r.observations.map((o) => [o.mdc?.code.code, o.value, o.unit?.code, o.device?.eui64, o.observedAt]);
    expect(view(back)).to.deep.equal(view(original));
    expect(back.patient?.identifiers[0]).to.deep.include({ value: '284037512345678', type: 'INS-NIR' });
    expect(back.encounter).to.deep.equal(original.encounter);
    expect(back.id).to.equal('pcd01.PASSERELLE.CTRL-1');
  });

  it('reads a Continua-style gateway message: its profile id, times without offset read in the site zone, said', () => {
    const text = [
      'MSH|^~\\&|AHD_GATEWAY^0123456789ABCDEF^EUI-64||||20261123100900||ORU^R01^ORU_R01|MSG-42|P|2.6|||NE|AL||UNICODE UTF-8|||IHE PCD ORU-R012006^HL7^2.16.840.1.113883.9^HL7',
      'PID|||284037512345678^^^&1.2.250.1.213.1.4.8&ISO^INS||GÉRARD^Jérôme||19531102|M',
      'OBR|1|||182777000^monitoring of patient^SCT|||20261123100812',
      'OBX|1||528391^MDC_DEV_SPEC_PROFILE_BP^MDC|1|||||||X|||||||1122334455667788^EUI-64',
      'OBX|2||150020^MDC_PRESS_BLD_NONINV^MDC|1.0.1|||||||X',
      'OBX|3|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.0.1.1|142|266016^MDC_DIM_MMHG^MDC|||||R|||20261123100812',
      'OBX|4|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.0.1.2|91|266016^MDC_DIM_MMHG^MDC|||||R|||20261123100812',
      'OBX|5|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.0.1.3|108|266016^MDC_DIM_MMHG^MDC|||||R|||20261123100812',
      'OBX|6|NM|149546^MDC_PULS_RATE_NON_INV^MDC|1.0.0.1|81|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||20261123100812',
      'OBX|7|NM|99999^MDC_VENDOR_THING^MDC|1.0.0.2|3|262656^MDC_DIM_DIMLESS^MDC|||||R|||20261123100812',
      '',
    ].join('\r');
    const m = Hl7Message.parse(text);
    expect(isPcd01(m)).to.equal(true);
    const r = validateResult(pcd01ToResult(readPcd01(m), { ...context(), timeZone: 'Europe/Paris', now: NOW }));
    expect(r.observations.map((o) => [o.code?.code, o.value, o.unit?.code, o.observedAt])).to.deep.equal([
      ['8480-6', 142, 'mm[Hg]', '2026-11-23T10:08:12+01:00'], ['8462-4', 91, 'mm[Hg]', '2026-11-23T10:08:12+01:00'],
      ['8478-0', 108, 'mm[Hg]', '2026-11-23T10:08:12+01:00'], ['8867-4', 81, '/min', '2026-11-23T10:08:12+01:00'],
      [undefined, 3, 'MDC_DIM_DIMLESS', '2026-11-23T10:08:12+01:00'],
    ]);
    expect(r.observations[0].warnings).to.deep.equal(['time 20261123100812 has no offset: read in Europe/Paris']);
    expect(r.observations[4]).to.deep.include({ unmapped: true, deviceCode: { code: '99999', display: 'MDC_VENDOR_THING', system: 'MDC' } });
    expect(r.patient?.name).to.deep.equal({ family: 'GÉRARD', given: ['Jérôme'] });
  });

  it('refuses a gateway message whose values or times cannot be read', () => {
    const text = 'MSH|^~\\&|GW||||20261123100900||ORU^R01|M1|P|2.6\rPID|||123^^^CSO\rOBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.0.1|ninety|262688^MDC_DIM_PERCENT^MDC|||||F|||20291123100812+0100\rOBX|2|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.0.0.2|70|264864^^MDC|||||F|||20291123100812+0100\r';
    expect(refused(() => pcd01ToResult(readPcd01(Hl7Message.parse(text)), { ...context(), timeZone: 'Europe/Paris', now: NOW }))).to.deep.equal([
      'OBX 1 (150456): value ninety is not a number',
      "OBX 2 (149530): time 20291123100812+0100 is in the future (is the gateway's clock right?)",
    ]);
  });
});

describe('BLE gateway readings (passerelle.ble/1)', () => {
  const reading = (characteristic: string, value: string, extra: object = {}) => JSON.stringify({ schema: 'passerelle.ble/1', address: '00:09:1F:12:34:56', characteristic, value, receivedAt: '2026-11-23T10:14:00+01:00', ...extra });
  const decode = (text: string) => {
    const { reading: r, bytes } = parseBleReading(text);
    return bleToResult(r, bytes, { ...context(text), receivedAt: new Date('2026-11-23T09:14:00Z'), timeZone: 'Europe/Paris' });
  };

  it('a cuff in kPa with its status: converted to mmHg, the device\'s time read in the site zone, status said', () => {
    // flags 0x16: kPa… no: 0x17 = kPa (bit0) + time stamp (bit1) + pulse (bit2) + status (bit4); 16.0/10.7/12.4 kPa, pulse 72, status 0x0001 body movement
    const { result, qc } = decode(reading('2A35', '17 A0F0 6BF0 7CF0 EA070B170A080C 4800 0100'));
    expect(qc).to.equal(false);
    validateResult(result);
    expect(result.observations.map((o) => [o.mdc?.code.code, o.value, o.unit?.code, o.observedAt])).to.deep.equal([
      ['150021', 120, 'mm[Hg]', '2026-11-23T10:08:12+01:00'], ['150022', 80, 'mm[Hg]', '2026-11-23T10:08:12+01:00'],
      ['150023', 93, 'mm[Hg]', '2026-11-23T10:08:12+01:00'], ['149546', 72, '/min', '2026-11-23T10:08:12+01:00'],
    ]);
    expect(result.observations[0].warnings).to.deep.equal(['body movement during measurement', 'converted from 16 kPa']);
    expect(result.observations[0].device).to.deep.equal({ eui64: '00091FFFFE123456' });
    expect(result.patient).to.deep.equal({ identifiers: [], matched: false });
    expect(result.source).to.deep.include({ deviceClass: 'ble-gateway', protocol: 'ble' });
  });

  it('a glucose meter in kg/L → mmol/L; its control solution is QC', () => {
    const { result } = decode(reading('2A18', '03 0100 EA070B170A0000 0C00 5FB0 11'));
    expect(result.observations[0]).to.deep.include({ value: 5.27, unit: { code: 'mmol/L', system: 'UCUM' }, observedAt: '2026-11-23T10:12:00+01:00' });
    expect(decode(reading('2A18', '06 0200 EA070B170A0000 35C0 4A')).qc).to.equal(true);
  });

  it('a thermometer\'s NaN is no value (status X); a clock ahead is replaced by the gateway\'s time, and said', () => {
    const nan = decode(reading('2A1C', '04 FFFF7F00 09')).result.observations[0];
    expect(nan).to.deep.include({ status: 'X', bodySite: { code: '42859004', display: 'Tympanic membrane structure', system: 'SCT' } });
    expect(nan.warnings).to.deep.equal(['the device sent the special value NaN']);
    // 2027-01-01 00:00:00 (E3 07 01 01 00 00 00... year 2027 = 0x07EB → EB 07)
    const ahead = decode(reading('2A1C', '02 6E0100FF EB07 01 01 00 00 00')).result.observations[0];
    expect(ahead.observedAt).to.equal('2026-11-23T10:14:00+01:00');
    expect(ahead.warnings).to.deep.equal(["device clock ahead (it said 2027-01-01T00:00:00+01:00): the gateway's time is used"]);
  });

  it('a reading wrapped by the cart carries its patient and teleconsultation', () => {
    const patient = example().patient;
    const { result } = decode(reading('2A5E', '00 6100 4800', { patient, teleconsultation: { id: 'TLC-9', room: 'Salle 1' } }));
    expect(result.patient).to.deep.include({ matched: true });
    expect(result.encounter).to.deep.equal({ id: 'TLC-9', location: 'Salle 1' });
  });

  it('refuses a reading that breaks the contract or whose bytes do not fit', () => {
    expect(refused(() => parseBleReading('{"schema":"passerelle.ble/1","address":"nope","characteristic":"2A35","value":"0G"}'))).to.deep.equal([
      '/address must be a Bluetooth device address (AA:BB:CC:DD:EE:FF)', '/value is not hexadecimal bytes',
    ]);
    expect(refused(() => decode(reading('2A35', '00 7800')))).to.deep.equal(['blood pressure 0x2A35: diastolic needs 2 byte(s) at offset 3, the value has 3']);
    expect(refused(() => parseBleReading(reading('2A35', '00', { receivedAt: '2026-11-23T10:14:00' })))).to.deep.equal(['/receivedAt 2026-11-23T10:14:00 must be RFC 3339 with its offset']);
  });
});

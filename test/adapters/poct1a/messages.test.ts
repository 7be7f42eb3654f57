/** POCT1-A messages: reading HDR and the bodies, writing what each side sends, time stamps. */
import { expect } from 'chai';
import {
  buildObs, child, formatTimestamp, parseXml, Poct1MessageError, Poct1Writer, readMessage, readObs, serialize, toRfc3339, valueOf,
  type Poct1Message,
} from '../../../adapters/poct1a';
import { DST, DST_LATIN1, EOT, HEL, hdr, OBS_PATIENT, OBS_QC } from './samples';

const read = (text: string) => readMessage(parseXml(text));
type Of<T extends Poct1Message['type']> = Extract<Poct1Message, { type: T }>;

describe('poct1a messages', () => {
  it('reads HDR and HEL.R01: identity, capabilities, and keeps unknown elements', () => {
    const m = read(HEL) as Of<'HEL.R01'>;
    expect(m.type).to.equal('HEL.R01');
    expect(m.header).to.deep.equal({ messageType: 'HEL.R01', declaredMessageType: 'HEL.R01', controlId: '20417', versionId: 'POCT1', creationTime: '2019-03-02T08:11:40+01:00' });
    expect(m.device).to.deep.include({ deviceId: '00:1B:4F:22:9A:10', vendorId: 'Abbott', modelId: 'Afinion 2', serialId: 'AF2-004711', softwareVersion: '5.12' });
    expect(m.device.capabilities).to.deep.equal({ connectionProfile: 'SA', topicsSupported: ['OBS', 'OPL'], directivesSupported: ['START_CONTINUOUS'], maxMessageSize: 100000, applicationTimeoutS: 30 });
    expect(valueOf(child(m.root, 'DEV'), 'DEV.vendor_specific_flag')).to.equal('1');
  });

  it('reads DST.R01 (new observations), EOT.R01 (topic) and an ISO-8859-1 DST', () => {
    expect((read(DST) as Of<'DST.R01'>).status).to.deep.equal({ statusTime: '2019-03-02T08:11:41+01:00', newObservations: 3, newEvents: 0, condition: 'R' });
    expect((read(EOT) as Of<'EOT.R01'>).eot).to.deep.equal({ topic: 'OBS', updateTime: undefined });
    expect((read(DST_LATIN1.toString('latin1')) as Of<'DST.R01'>).status.newObservations).to.equal(0);
  });

  it('reads OBS.R01: service, patient, observations, operator, specimen, reagent', () => {
    const m = read(OBS_PATIENT) as Of<'OBS.R01'>;
    const [svc] = m.observations.services;
    expect(svc).to.deep.include({ role: 'OBS', category: 'patient', observationTime: '2026-11-23T09:41:07+01:00', statusCd: 'NRM', operatorId: 'IDE-0412' });
    expect(svc.patient).to.deep.equal({ id: 'IPP-77310452', location: undefined, birthDate: undefined, gender: 'F' });
    expect(svc.specimen).to.deep.equal({ id: undefined, type: { value: 'BLDC', system: 'HL70487', systemVersion: undefined, display: undefined }, collectionTime: undefined });
    expect(svc.reagents).to.deep.equal([{ name: 'HbA1c Test Cartridge', lotNumber: '10293847', expirationDate: '2027-06-30' }]);
    expect(svc.observations).to.have.length(2);
    const { element: _e, ...first } = svc.observations[0];
    expect(first).to.deep.equal({
      id: { value: '4548-4', system: 'LN', systemVersion: undefined, display: 'HbA1c' },
      value: { value: '6.1', units: '%', nullFlavor: undefined },
      qualitativeValue: undefined, method: 'M', status: 'A', interpretation: 'H',
      normalRange: { value: '[4.0;6.0]', units: '%', nullFlavor: undefined }, criticalRange: undefined, notes: undefined,
    });
  });

  it('OBS.R02 and a non-OBS role are QC; a missing role in OBS.R01 is a patient result', () => {
    expect((read(OBS_QC) as Of<'OBS.R02'>).observations.services[0]).to.deep.include({ role: 'LQC', category: 'qc' });
    expect((read(OBS_QC) as Of<'OBS.R02'>).observations.services[0].control).to.deep.equal({ name: 'HbA1c Control C I', lotNumber: 'C1-5521', expirationDate: '2027-01-31', level: '1' });
    const lqcInR01 = OBS_PATIENT.replace('<SVC.role_cd V="OBS"/>', '<SVC.role_cd V="LQC"/>');
    expect((read(lqcInR01) as Of<'OBS.R01'>).observations.services[0].category).to.equal('qc');
    const patientR02 = OBS_PATIENT.replace(/OBS\.R01/g, 'OBS.R02');
    expect((read(patientR02) as Of<'OBS.R02'>).observations.services[0].category).to.equal('qc');
    const noRole = OBS_PATIENT.replace('<SVC.role_cd V="OBS"/>', '');
    expect((read(noRole) as Of<'OBS.R01'>).observations.services[0].category).to.equal('patient');
  });

  it('a malformed OBS is a Poct1MessageError naming the element, with the control id, never a value', () => {
    const cases: Array<[string, string]> = [
      [OBS_PATIENT.replace('<OBS.observation_id V="4548-4" SN="LN" DN="HbA1c"/>', ''), 'SVC 1 OBS 1: OBS.observation_id is missing'],
      [OBS_PATIENT.replace('<SVC.observation_dttm V="2026-11-23T09:41:07+01:00"/>', ''), 'SVC 1: SVC.observation_dttm is missing'],
      [OBS_PATIENT.replace('2026-11-23T09:41:07+01:00', '23/11/2026 09:41'), 'SVC 1: SVC.observation_dttm is not an ISO 8601 date/time'],
      [`<OBS.R01>${hdr('OBS.R01', '9')}</OBS.R01>`, 'OBS.R01 has no SVC'],
    ];
    for (const [text, message] of cases) {
      let error: unknown;
      try {
        read(text);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(Poct1MessageError);
      expect((error as Poct1MessageError).message).to.equal(message);
      expect((error as Poct1MessageError).controlId).to.be.oneOf(['20419', '9']);
    }
    expect(() => read('<OBS.R01><SVC/></OBS.R01>')).to.throw(Poct1MessageError, '<OBS.R01> has no HDR');
    expect(() => read(`<DST.R01>${hdr('DST.R01', '1')}<DST><DST.new_observations_qty V="three"/></DST></DST.R01>`)).to.throw(Poct1MessageError, 'DST.new_observations_qty is not a count');
  });

  it('a message type it does not read is kept whole', () => {
    const m = read(`<EVS.R01>${hdr('EVS.R01', '12')}<EVT><EVT.description V="Door opened"/></EVT></EVS.R01>`);
    expect(m.type).to.equal('other');
    expect(m.header.controlId).to.equal('12');
    expect(valueOf(child(m.root, 'EVT'), 'EVT.description')).to.equal('Door opened');
  });

  it('writes ACK, REQ ROBS and END with unique control ids and the site time with its offset', () => {
    const writer = new Poct1Writer({ now: () => Date.UTC(2026, 10, 23, 8, 41, 7, 500) });
    const ack = writer.ack({ type: 'AE', ackControlId: '20419', note: 'SVC 1 OBS 1: OBS.observation_id is missing' });
    const req = writer.req();
    const end = writer.end();
    expect([ack.controlId, req.controlId, end.controlId]).to.deep.equal(['1', '2', '3']);
    expect(ack.bytes.toString()).to.equal('<?xml version="1.0" encoding="UTF-8"?><ACK.R01><HDR><HDR.message_type V="ACK.R01" SN="POCT1"/><HDR.control_id V="1"/>'
      + '<HDR.version_id V="POCT1"/><HDR.creation_dttm V="2026-11-23T09:41:07+01:00"/></HDR><ACK><ACK.type_cd V="AE"/><ACK.ack_control_id V="20419"/>'
      + '<ACK.note_txt V="SVC 1 OBS 1: OBS.observation_id is missing"/></ACK></ACK.R01>');
    expect((read(req.bytes.toString()) as Of<'REQ.R01'>).request).to.equal('ROBS');
    expect((read(end.bytes.toString()) as Of<'END.R01'>).end).to.deep.equal({ reason: 'NRM' });
    expect((read(ack.bytes.toString()) as Of<'ACK.R01'>).ack).to.deep.equal({ type: 'AE', ackControlId: '20419', note: 'SVC 1 OBS 1: OBS.observation_id is missing' });
  });

  it('writes what a device sends (HEL, DST, OBS.R01, OBS.R02, EOT) and reads it back', () => {
    const writer = new Poct1Writer({ firstControlId: 500, indent: '  ' });
    const hel = read(writer.hel({ deviceId: 'D1', modelId: 'M', capabilities: { topicsSupported: ['OBS'], directivesSupported: [], maxMessageSize: 1000 } }).bytes.toString()) as Of<'HEL.R01'>;
    expect(hel.header.controlId).to.equal('500');
    expect(hel.device).to.deep.include({ deviceId: 'D1', modelId: 'M' });
    expect(hel.device.capabilities.maxMessageSize).to.equal(1000);
    expect((read(writer.dst({ newObservations: 4 }).bytes.toString()) as Of<'DST.R01'>).status.newObservations).to.equal(4);
    const services = [{
      role: 'OBS', observationTime: '2026-11-23T09:41:07+01:00', patient: { id: 'P&1<2>' }, operatorId: 'op', reagents: [{ lotNumber: 'L1' }],
      observations: [{ id: { value: 'HbA1c', system: 'LN' }, value: { value: '6.1', units: '%' }, notes: ['ligne 1\nligne 2'] }],
    }];
    const obs = read(writer.obs('OBS.R01', services).bytes.toString()) as Of<'OBS.R01'>;
    expect(obs.observations.services[0].patient!.id).to.equal('P&1<2>');
    expect(obs.observations.services[0].observations[0].notes).to.deep.equal(['ligne 1\nligne 2']);
    const qc = read(writer.obs('OBS.R02', [{ role: 'LQC', observationTime: '2026-11-23T09:41:07+01:00', control: { level: '2' }, reagents: [], observations: [{ id: { value: 'HbA1c' } }] }]).bytes.toString()) as Of<'OBS.R02'>;
    expect(qc.observations.services[0]).to.deep.include({ category: 'qc', control: { name: undefined, lotNumber: undefined, expirationDate: undefined, level: '2' } });
    expect((read(writer.eot({ topic: 'OBS' }).bytes.toString()) as Of<'EOT.R01'>).eot.topic).to.equal('OBS');
    expect(readObs(buildObs('1', 't', 'OBS.R01', services.map((s) => ({ ...s, observationTime: '2026-11-23T09:41:07Z' })))).services).to.have.length(1);
  });

  it('ISO-8859-1 output writes characters beyond Latin-1 as references; characters XML cannot carry are refused', () => {
    const writer = new Poct1Writer({ encoding: 'ISO-8859-1' });
    const ack = writer.ack({ type: 'AE', ackControlId: '1', note: 'Hélène paie 5 € 😀' });
    expect(ack.bytes.toString('latin1')).to.contain('encoding="ISO-8859-1"').and.contain('H\u00e9l\u00e8ne paie 5 &#x20AC; &#x1F600;');
    expect((read(ack.bytes.toString('latin1')) as Of<'ACK.R01'>).ack.note).to.equal('Hélène paie 5 € 😀');
    expect(() => writer.ack({ type: 'AE', ackControlId: '1', note: 'bell \u0007' })).to.throw(RangeError, 'ACK.note_txt');
    expect(() => serialize({ name: 'bad name', attributes: {}, children: [], text: '' })).to.throw(RangeError);
  });

  it('time stamps: ISO 8601 variants to RFC 3339, the site time zone for stamps without an offset', () => {
    expect(toRfc3339('2026-11-23T09:41:07+01:00')).to.equal('2026-11-23T09:41:07+01:00');
    expect(toRfc3339('2007-04-12T18:53:04.00-05:00')).to.equal('2007-04-12T18:53:04.00-05:00');
    expect(toRfc3339('2026-11-23T09:41:07+0100')).to.equal('2026-11-23T09:41:07+01:00');
    expect(toRfc3339('2026-11-23T08:41:07Z')).to.equal('2026-11-23T08:41:07Z');
    expect(toRfc3339('2026-11-23T09:41')).to.equal('2026-11-23T09:41:00+01:00');
    expect(toRfc3339('2026-07-14T09:41:07')).to.equal('2026-07-14T09:41:07+02:00');
    expect(toRfc3339('2026-03-29T02:30:00')).to.match(/^2026-03-29T02:30:00\+0[12]:00$/); // in the spring gap: still a valid stamp
    expect(toRfc3339('2026-02-30T09:41:07+01:00')).to.equal(undefined);
    expect(toRfc3339('2026-11-23T25:00:00+01:00')).to.equal(undefined);
    expect(toRfc3339('23/11/2026')).to.equal(undefined);
    expect(formatTimestamp(Date.UTC(2026, 6, 14, 7, 41, 7))).to.equal('2026-07-14T09:41:07+02:00');
    expect(formatTimestamp(Date.UTC(2026, 10, 23, 8, 41, 7), 'UTC')).to.equal('2026-11-23T08:41:07+00:00');
  });
});

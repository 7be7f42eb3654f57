/** POCT1-A observations → canonical results. */
import { expect } from 'chai';
import { validateResult } from '../../../adapters/model';
import {
  parseXml, readHel, readObs, toResults, type DeviceIdentity, type MappingContext, type ObservationMessage,
} from '../../../adapters/poct1a';
import { HEL, OBS_PATIENT, OBS_QC, obsPatient } from './samples';

const device: DeviceIdentity = readHel(parseXml(HEL));
const context: MappingContext = {
  site: 'cso-annecy', deviceClass: 'poc-analyser', deviceId: 'afinion-salle-2', received: '2026-11-23T09:41:12+01:00', device,
  codes: { 'AFINION|HBA1C_IFCC': { code: '59261-8', display: 'Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol' } },
  raw: { journalId: 'j-42' },
};
const obs = (text: string): ObservationMessage => readObs(parseXml(text));

describe('poct1a mapping to canonical results', () => {
  it('maps a patient HbA1c: source from HEL, patient from PT, LOINC, UCUM units, range, flags, times from SVC.observation_dttm', () => {
    const [mapped] = toResults(obs(OBS_PATIENT), context);
    expect(mapped.category).to.equal('patient');
    expect(mapped.role).to.equal('OBS');
    const r = validateResult(mapped.result);
    expect(r.id).to.match(/^poct1a-[0-9a-f]{40}$/);
    expect(r).to.deep.include({ kind: 'biology', status: 'final' });
    expect(r.source).to.deep.equal({
      site: 'cso-annecy', deviceClass: 'poc-analyser', deviceId: 'afinion-salle-2', manufacturer: 'Abbott Diagnostics Technologies',
      model: 'Afinion 2', serial: 'AF2-004711', softwareVersion: '5.12', protocol: 'poct1a',
    });
    expect(r.patient).to.deep.equal({ identifiers: [{ value: 'IPP-77310452', type: 'PI' }], sex: 'F', matched: true, matchedBy: 'device' });
    expect(r.specimen).to.deep.equal({ type: { code: 'BLDC', system: 'HL70487' } });
    // The header said 2019: the result time is the service's.
    expect(r.times).to.deep.equal({ analysed: '2026-11-23T09:41:07+01:00', received: '2026-11-23T09:41:12+01:00' });
    expect(r.raw).to.deep.equal({ journalId: 'j-42' });
    expect(r.observations[0]).to.deep.equal({
      code: { code: '4548-4', system: 'LN', display: 'HbA1c' },
      deviceCode: { code: '4548-4', system: 'LN', display: 'HbA1c' },
      valueType: 'NM', value: 6.1, unit: { code: '%', system: 'UCUM' },
      referenceRange: { low: 4, high: 6 }, flags: ['H'], status: 'F', observedAt: '2026-11-23T09:41:07+01:00',
      method: { code: 'M', system: 'POCT1' }, operator: { id: 'IDE-0412' }, equipmentId: '00:1B:4F:22:9A:10',
      comment: 'reagent HbA1c Test Cartridge, lot 10293847, expires 2027-06-30',
    });
    expect(r.observations[1]).to.deep.include({
      code: { code: '59261-8', system: 'LN', display: 'Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol' },
      deviceCode: { code: 'HBA1C_IFCC', system: 'AFINION', display: 'HbA1c IFCC' },
      valueType: 'NM', value: 43, unit: { code: 'mmol/mol', system: 'UCUM' }, referenceRange: { low: 20, high: 42 },
    });
  });

  it('a device code with no mapping is passed through, flagged unmapped', () => {
    const [{ result }] = toResults(obs(OBS_PATIENT), { ...context, codes: undefined });
    expect(result.observations[1]).to.deep.include({ unmapped: true, deviceCode: { code: 'HBA1C_IFCC', system: 'AFINION', display: 'HbA1c IFCC' } });
    expect(result.observations[1].code).to.equal(undefined);
    // A code map keyed by the device code alone works too.
    const [{ result: again }] = toResults(obs(OBS_PATIENT), { ...context, codes: { HBA1C_IFCC: { code: '59261-8' } } });
    expect(again.observations[1].code).to.deep.equal({ code: '59261-8', system: 'LN' });
  });

  it('maps QC (OBS.R02) as category qc, with no patient, the control lot in a comment', () => {
    const [mapped] = toResults(obs(OBS_QC), context);
    expect(mapped.category).to.equal('qc');
    expect(mapped.role).to.equal('LQC');
    expect(mapped.result.patient).to.equal(undefined);
    expect(mapped.result.times.analysed).to.equal('2026-11-23T08:02:30+01:00');
    expect(mapped.result.observations[0]).to.deep.include({ value: 5.3, flags: ['N'], comment: 'control HbA1c Control C I, level 1, lot C1-5521, expires 2027-01-31' });
  });

  it('the id is stable over a replay (new control id, new header time) and changes with the observation time or device', () => {
    const id = (text: string, ctx = context) => toResults(obs(text), ctx)[0].result.id;
    const first = id(obsPatient('1'));
    const replay = obsPatient('999').replace('2019-03-02T08:12:00+01:00', '2026-12-01T00:00:00+01:00');
    expect(id(replay)).to.equal(first);
    expect(id(obsPatient('1', '6.1', 'IPP-77310452', '2026-11-23T08:41:07Z'))).to.equal(first); // the same instant written in UTC
    expect(id(obsPatient('1', '6.1', 'IPP-77310452', '2026-11-23T09:41:08+01:00'))).not.to.equal(first);
    expect(id(obsPatient('1'), { ...context, deviceId: 'afinion-salle-3' })).not.to.equal(first);
  });

  it('no patient id (or a placeholder) gives matched: false, never a guessed identity', () => {
    for (const text of [OBS_PATIENT.replace('<PT.patient_id V="IPP-77310452"/>', ''), obsPatient('1', '6.1', 'UNKNOWN')]) {
      expect(toResults(obs(text), context)[0].result.patient).to.deep.equal({ identifiers: [], matched: false });
    }
  });

  it('values: comparator, text, coded, no value, aborted, decimal comma; units not in UCUM kept as text', () => {
    const one = (inner: string) => {
      const text = `<OBS.R01><HDR><HDR.control_id V="1"/></HDR><SVC><SVC.observation_dttm V="2026-11-23T09:41:07+01:00"/><PT><PT.patient_id V="P1"/><OBS><OBS.observation_id V="X"/>${inner}</OBS></PT></SVC></OBS.R01>`;
      return validateResult(toResults(obs(text), context)[0].result).observations[0];
    };
    expect(one('<OBS.value V="&lt;0.5" U="mmol/L"/>')).to.deep.include({ valueType: 'SN', value: { comparator: '<', number: 0.5 }, unit: { code: 'mmol/L', system: 'UCUM' } });
    expect(one('<OBS.value V="&gt;=14" U="%"/>')).to.deep.include({ valueType: 'SN', value: { comparator: '>=', number: 14 } });
    expect(one('<OBS.value V="6,1" U="%"/>')).to.deep.include({ valueType: 'NM', value: 6.1 });
    expect(one('<OBS.value V="Invalid cartridge"/>')).to.deep.include({ valueType: 'ST', value: 'Invalid cartridge', status: 'F' });
    expect(one('<OBS.qualitative_value V="POS" SN="SIM" DN="Positive"/>')).to.deep.include({ valueType: 'CWE', value: { code: 'POS', system: 'SIM', display: 'Positive' } });
    expect(one('<OBS.qualitative_value V="trace"/>')).to.deep.include({ valueType: 'ST', value: 'trace' });
    const none = one('<OBS.value NULL="NI" U="%"/>');
    expect(none).to.deep.include({ valueType: 'NM', status: 'X' });
    expect(none.value).to.equal(undefined);
    expect(one('<OBS.value V="6.1" U="%"/><OBS.status_cd V="D"/>')).to.deep.include({ status: 'X' });
    expect(one('<OBS.value V="101" U="mmHg"/>').unit).to.deep.equal({ code: 'mmHg' });
    expect(one('<OBS.value V="1.2" U="INR"/>').unit).to.deep.equal({ code: 'INR' });
    expect(toResults(obs(`<OBS.R01><HDR><HDR.control_id V="1"/></HDR><SVC><SVC.observation_dttm V="2026-11-23T09:41:07+01:00"/><OBS><OBS.observation_id V="X"/><OBS.value V="1.2" U="INR"/></OBS></SVC></OBS.R01>`), { ...context, ucumUnits: ['INR'] })[0].result.observations[0].unit).to.deep.equal({ code: 'INR', system: 'UCUM' });
    expect(one('<OBS.value V="6.1"/><OBS.normal_lo-hi_limit V="&lt;6.5"/>').referenceRange).to.deep.equal({ high: 6.5 });
    expect(one('<OBS.value V="6.1"/><OBS.normal_lo-hi_limit V="see insert"/>').referenceRange).to.deep.equal({ text: 'see insert' });
    expect(one('<OBS.value V="6.1"/><OBS.interpretation_cd V="??"/>').flags).to.equal(undefined);
  });

  it('a device time without offset is read in the site time zone; a specimen time becomes collected', () => {
    const text = OBS_PATIENT.replace('2026-11-23T09:41:07+01:00', '2026-07-14T09:41:07').replace('<SPC.type_cd V="BLDC" SN="HL70487"/>', '<SPC.specimen_id V="S-1"/><SPC.specimen_dttm V="2026-07-14T09:35:00"/>');
    const r = toResults(obs(text), context)[0].result;
    expect(r.times).to.deep.include({ analysed: '2026-07-14T09:41:07+02:00', collected: '2026-07-14T09:35:00+02:00' });
    expect(r.specimen).to.deep.equal({ id: 'S-1', collectedAt: '2026-07-14T09:35:00+02:00' });
  });

  it('a service per result; results are still valid without a HEL', () => {
    const two = OBS_PATIENT.replace('</OBS.R01>', OBS_QC.slice(OBS_QC.indexOf('<SVC>'), OBS_QC.indexOf('</OBS.R02>')) + '</OBS.R01>');
    const mapped = toResults(obs(two), { ...context, device: undefined });
    expect(mapped.map((m) => m.category)).to.deep.equal(['patient', 'qc']);
    for (const m of mapped) validateResult(m.result);
    expect(mapped[0].result.source).to.deep.equal({ site: 'cso-annecy', deviceClass: 'poc-analyser', deviceId: 'afinion-salle-2', protocol: 'poct1a' });
  });
});

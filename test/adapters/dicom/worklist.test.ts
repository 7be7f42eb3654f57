import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { answerWorklistQuery, parseStationsByModality, type NaturalDataset } from '../../../adapters/dicom';
import { decodeMessage, encodeMessage, extractImagingOrders, Hl7Message, type ImagingOrder } from '../../../adapters/hl7';
import { sharedFixture } from '../../support/shared';

function fixtureOrder(name: string): ImagingOrder[] {
  return extractImagingOrders(Hl7Message.parse(decodeMessage(readFileSync(sharedFixture('hl7', name))).text));
}

function parse(text: string, charset: '8859/1' | 'UNICODE UTF-8' = 'UNICODE UTF-8'): Hl7Message {
  return Hl7Message.parse(decodeMessage(encodeMessage(text, charset).bytes).text);
}

const CT_ORDER = [
  'MSH|^~\\&|DPI|CLINIQUE|PASSERELLE|SITE|20261123080000||OMI^O23^OMI_O23|42|P|2.5.1|||||FRA|8859/1',
  'PID|||IPP-7^^^CLINIQUE^PI||LEFÈVRE^Noël||19610314|F',
  'ORC|NW|CMD-1^DPI|ACC-1^RIS||SC',
  'TQ1|||||||202611230830',
  'OBR||CMD-1^DPI|ACC-1^RIS|RXTHORAX^Radiographie du thorax^L',
  'IPC|ACC-1|RP-1||SPS-1|CT|RXTHORAX^Thorax face^L|Salle 1|Radiologie|CT01~CT02',
].join('\r');

describe('modality worklist: imaging orders → scheduled procedure steps → C-FIND answers', () => {
  it('reads the shared OMI^O23 and ORM^O01 fixtures as the steps a modality performs', () => {
    const [omi] = fixtureOrder('omi-o23_imaging-order_declared-8859-1_contains-utf8.hl7');
    expect(omi).to.deep.include({
      control: 'NW', cancelled: false, accessionNumber: 'AccessionNumber', placerNumber: 'PlacerOrderNumberImagingServiceRequest',
      fillerNumber: 'FillerOrderNumberImagingServiceRequest', studyInstanceUid: '1.2.392.200036.9125.0.198811291108.7',
    });
    expect(omi.requestedProcedure).to.deep.equal({ id: 'RequestedProcID', code: { code: '10637-7', display: 'Microscopic Observation', system: 'LN' } });
    expect(omi.step).to.deep.equal({
      id: 'ScheduledProcStepID', modality: 'CT', stationAeTitles: ['ScheduledStationAET1', 'ScheduledStationAET2'], stationName: 'ScheduledStationName',
      location: 'ScheduledProcStepLocation', start: { date: '20000816', time: '151000' }, protocol: { code: '10637-7', display: 'Microscopic Observation', system: 'LN' },
    });
    expect(omi.patient.name).to.deep.equal({ family: 'Smith', given: ['Lucy', 'Mark'] });
    expect(omi.referringPhysician).to.deep.equal({ family: 'RequestingPhysicianFN', given: ['RequestingPhysicianGN'] });

    const [orm] = fixtureOrder('orm-o01_radiology-order_mesa.hl7');
    expect(orm).to.deep.include({ accessionNumber: 'MOF5026', placerNumber: 'A103Z', fillerNumber: 'B103Z', studyInstanceUid: '1.113654.3.13.1026' });
    // ORM names no station; no start in its timing: ORC-15, the order's effective time.
    expect(orm.step).to.deep.include({ id: 'SPS2032', modality: 'MR', stationAeTitles: [], start: { date: '20000701', time: '090000' } });
    expect(orm.requestedProcedure).to.deep.equal({ id: 'RP1026', code: { code: 'P1', display: 'Procedure 1', system: 'ERL_MESA' } });
    expect(orm.patient.identifiers).to.deep.equal([{ value: '583295', authority: 'ADT1' }]);
  });

  it('keeps accents written in 8859/1, and reads a cancellation (ORC-1 CA) even without an OBR', () => {
    const [ct] = extractImagingOrders(parse(CT_ORDER, '8859/1'));
    expect(ct.patient.name).to.deep.equal({ family: 'LEFÈVRE', given: ['Noël'] });
    const cancel = extractImagingOrders(parse([CT_ORDER.split('\r')[0], 'PID|||IPP-7^^^CLINIQUE^PI||LEFÈVRE^Noël', 'ORC|CA|CMD-1^DPI|ACC-1^RIS||CA'].join('\r')));
    expect(cancel).to.have.length(1);
    expect(cancel[0]).to.deep.include({ control: 'CA', cancelled: true, accessionNumber: 'ACC-1', placerNumber: 'CMD-1' });
    // A lab ORM (no modality in OBR-24) is no imaging order.
    expect(extractImagingOrders(parse(CT_ORDER.replace('OMI^O23^OMI_O23', 'ORM^O01').replace(/\rTQ1[^\r]*/, '').replace(/\rIPC[^\r]*/, '')))).to.deep.equal([]);
  });

  describe('matching (PS3.4 C.2.2.2)', () => {
    const [ct] = extractImagingOrders(parse(CT_ORDER, '8859/1'));
    const [mr] = fixtureOrder('orm-o01_radiology-order_mesa.hl7');
    const steps = [{ ...ct, studyInstanceUid: '1.2.3.4' }, mr];
    const find = (top: NaturalDataset, step?: NaturalDataset, options = {}) =>
      answerWorklistQuery({ AccessionNumber: '', ...top, ...(step ? { ScheduledProcedureStepSequence: [step] } : {}) }, steps, options).map((a) => a.AccessionNumber);

    it('station AE title (any of the step\'s), modality, single dates and ranges, times', () => {
      expect(find({}, { ScheduledStationAETitle: 'CT02' })).to.deep.equal(['ACC-1']);
      expect(find({}, { ScheduledStationAETitle: 'CT03' })).to.deep.equal([]);
      expect(find({}, { ScheduledStationAETitle: 'CT*' })).to.deep.equal(['ACC-1']);
      expect(find({}, { ScheduledStationAETitle: 'CT0?' })).to.deep.equal(['ACC-1']);
      expect(find({}, { Modality: 'MR' })).to.deep.equal(['MOF5026']);
      expect(find({}, { ScheduledProcedureStepStartDate: '20261123' })).to.deep.equal(['ACC-1']);
      expect(find({}, { ScheduledProcedureStepStartDate: '20000701-20261122' })).to.deep.equal(['MOF5026']);
      expect(find({}, { ScheduledProcedureStepStartDate: '-20000701' })).to.deep.equal(['MOF5026']);
      expect(find({}, { ScheduledProcedureStepStartDate: '20261123-' })).to.deep.equal(['ACC-1']);
      expect(find({}, { ScheduledProcedureStepStartDate: '20000702-20261122' })).to.deep.equal([]);
      expect(find({}, { ScheduledProcedureStepStartTime: '0800-0830' })).to.deep.equal(['ACC-1']);
      expect(find({}, { ScheduledProcedureStepStartTime: '0831-' })).to.deep.equal(['MOF5026']);
      expect(find({}, { ScheduledStationAETitle: '', Modality: '', ScheduledProcedureStepStartDate: '' })).to.deep.equal(['ACC-1', 'MOF5026']);
    });

    it('an entity without a value does not match a key that has one, unless the site names its stations', () => {
      expect(find({}, { ScheduledStationAETitle: 'MR01' })).to.deep.equal([]);
      expect(find({}, { ScheduledStationAETitle: 'MR01' }, { stationsByModality: parseStationsByModality('MR=MR01 MR02; US=ECHO1') })).to.deep.equal(['MOF5026']);
      expect(() => parseStationsByModality('MR MR01')).to.throw(/MODALITY=AE title/);
      expect(() => parseStationsByModality('CT=A_TITLE_LONGER_THAN_16')).to.throw(/MODALITY=AE title/);
    });

    it('patients: names whatever their case and accents, IDs exactly; UIDs as lists', () => {
      expect(find({ PatientName: [{ Alphabetic: 'lefevre*' }] })).to.deep.equal(['ACC-1']);
      expect(find({ PatientName: [{ Alphabetic: 'LEFÈVRE^NOËL' }] })).to.deep.equal(['ACC-1']);
      expect(find({ PatientName: [{ Alphabetic: 'DOE*' }] })).to.deep.equal(['MOF5026']);
      expect(find({ PatientID: 'IPP-7' })).to.deep.equal(['ACC-1']);
      expect(find({ PatientID: 'ipp-7' })).to.deep.equal([]);
      expect(find({ StudyInstanceUID: ['9.9', '1.113654.3.13.1026'] })).to.deep.equal(['MOF5026']);
      expect(find({ AccessionNumber: 'ACC-1' })).to.deep.equal(['ACC-1']);
    });

    it('answers with the keys asked for (private ones left out), in UTF-8; an empty step item asks for all of its attributes', () => {
      const [answer] = answerWorklistQuery({ SpecificCharacterSet: 'ISO_IR 192', '00090010': 'SIEMENS CSA', '00091001': '', PatientName: [], PatientBirthDate: '', QueryRetrieveLevel: '', RequestedProcedureCodeSequence: [], ScheduledProcedureStepSequence: [{ ScheduledStationAETitle: 'CT01', Modality: '' }] }, steps);
      expect(answer).to.deep.equal({
        SpecificCharacterSet: 'ISO_IR 192', PatientName: [{ Alphabetic: 'LEFÈVRE^Noël' }], PatientBirthDate: '19610314', QueryRetrieveLevel: '',
        RequestedProcedureCodeSequence: [{ CodeValue: 'RXTHORAX', CodingSchemeDesignator: 'L', CodeMeaning: 'Radiographie du thorax' }],
        ScheduledProcedureStepSequence: [{ ScheduledStationAETitle: ['CT01', 'CT02'], Modality: 'CT' }],
      });
      const [all] = answerWorklistQuery({ ScheduledProcedureStepSequence: [] }, [ct]);
      expect(all.ScheduledProcedureStepSequence).to.deep.equal([{
        ScheduledStationAETitle: ['CT01', 'CT02'], ScheduledProcedureStepStartDate: '20261123', ScheduledProcedureStepStartTime: '083000', Modality: 'CT',
        ScheduledProcedureStepID: 'SPS-1', ScheduledProcedureStepDescription: 'Thorax face', ScheduledStationName: 'Salle 1', ScheduledProcedureStepLocation: 'Radiologie',
        ScheduledProcedureStepStatus: 'SCHEDULED', ScheduledPerformingPhysicianName: [],
        ScheduledProtocolCodeSequence: [{ CodeValue: 'RXTHORAX', CodingSchemeDesignator: 'L', CodeMeaning: 'Thorax face' }],
      }]);
    });
  });
});

import { expect } from 'chai';
import { journalStored, MppsStatus, notifyDueStudies, performedStepCreated, performedStepSet, viewerLink, type MppsContext, type NaturalDataset } from '../../../adapters/dicom';
import { decodeMessage, encodeMessage, Hl7Message } from '../../../adapters/hl7';
import { indexOrders } from '../../../adapters/matching';
import type { ObjectHeader } from '../../../adapters/dicom';
import { openTempStore, type OpenedStore } from '../journal/helpers';

const ORDER = [
  'MSH|^~\\&|DPI|CLINIQUE|PASSERELLE|SITE|20261123080000||OMI^O23^OMI_O23|42|P|2.5.1|||||FRA|UNICODE UTF-8',
  'PID|||IPP-7^^^CLINIQUE^PI||LEFÈVRE^Noël||19610314|F',
  'ORC|NW|CMD-1^DPI|ACC-1^RIS||SC',
  'TQ1|||||||202611230830',
  'OBR||CMD-1^DPI|ACC-1^RIS|RXTHORAX^Radiographie du thorax^L',
  'IPC|ACC-1|RP-1|1.2.826.0.1.7|SPS-1|CR|RXTHORAX^Thorax face^L|Salle 1||XRAY1',
].join('\r');

const STUDY = '1.2.826.0.1.7';

/** What the modality says at N-CREATE, in the names dcmjs gives (its query decoded per (0008,0005)). */
function created(overrides: NaturalDataset = {}): NaturalDataset {
  return {
    SpecificCharacterSet: 'ISO_IR 192', PatientName: [{ Alphabetic: 'LEFÈVRE^Noël' }], PatientID: 'IPP-7', PatientSex: 'F', PatientBirthDate: '19610314',
    ScheduledStepAttributesSequence: [{ AccessionNumber: 'ACC-1', StudyInstanceUID: STUDY, RequestedProcedureID: 'RP-1', ScheduledProcedureStepID: 'SPS-1' }],
    PerformedProcedureStepStatus: 'IN PROGRESS', PerformedProcedureStepStartDate: '20261123', PerformedProcedureStepStartTime: '084500',
    PerformedStationAETitle: 'XRAY1', Modality: 'CR', PerformedProcedureStepDescription: 'Thorax face', PerformedSeriesSequence: [],
    ...overrides,
  };
}

function ended(status: string): NaturalDataset {
  return {
    PerformedProcedureStepStatus: status, PerformedProcedureStepEndDate: '20261123', PerformedProcedureStepEndTime: '085210',
    PerformedSeriesSequence: [{ SeriesInstanceUID: '1.2.826.0.1.7.1', ReferencedImageSequence: [{ ReferencedSOPInstanceUID: '1.2.826.0.1.7.1.1' }, { ReferencedSOPInstanceUID: '1.2.826.0.1.7.1.2' }] }],
    ...(status === 'DISCONTINUED' ? { PerformedProcedureStepDiscontinuationReasonCodeSequence: [{ CodeValue: '110514', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Incorrect worklist entry selected' }] } : {}),
  };
}

/** A stored object's header as the SCP reads it (the parts journalStored uses). */
function header(study: string, accession?: string): ObjectHeader {
  return {
    values: {
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.1', SOPInstanceUID: `${study}.1.${Math.floor(Math.random() * 1e6)}`, StudyInstanceUID: study, SeriesInstanceUID: `${study}.1`,
      PatientName: 'LEFÈVRE^Noël', PatientID: 'IPP-MODALITE', Modality: 'CR', Manufacturer: 'Agfa', ...(accession ? { AccessionNumber: accession } : {}),
    },
    transferSyntaxUid: '1.2.840.10008.1.2.1', characterSet: 'ISO_IR 192', characterSetKnown: true,
  } as unknown as ObjectHeader;
}

describe('MPPS and the record\'s notification of a complete study', () => {
  let t: OpenedStore;
  let context: MppsContext;
  const options = () => ({ store: t.store, channel: 'dicom:test', site: 'test-site', timeZone: 'Europe/Paris', quietMs: 60_000, viewerUrl: 'https://pacs/viewer?study={study}&acc={accession}' });

  beforeEach(() => {
    t = openTempStore();
    context = { store: t.store, channel: 'dicom:test', site: 'test-site', timeZone: 'Europe/Paris', callingAeTitle: 'XRAY1', calledAeTitle: 'PASSERELLE', now: new Date('2026-11-23T07:45:01Z') };
    indexOrders(t.store, Hl7Message.parse(decodeMessage(encodeMessage(ORDER, 'UNICODE UTF-8').bytes).text), { channel: 'hl7:test', site: 'test-site' });
  });
  afterEach(() => t.cleanup());

  it('N-CREATE IN PROGRESS then N-SET COMPLETED: started and completed events, journaled with their topic, then the study told to the record', () => {
    const start = performedStepCreated('1.2.826.0.1.99', created(), context);
    expect(start.status).to.equal(MppsStatus.Success);
    if (!('event' in start)) throw new Error('no event');
    expect(start.topic).to.equal('passerelle/v1/test-site/imaging/XRAY1/procedure');
    expect(start.event).to.deep.include({ schema: 'passerelle.procedure/1', event: 'started', mppsInstanceUid: '1.2.826.0.1.99', accessionNumber: 'ACC-1', modality: 'CR' });
    expect(start.event.patient).to.deep.equal({ identifiers: [{ value: 'IPP-7' }], name: { family: 'LEFÈVRE', given: ['Noël'] }, birthDate: '1961-03-14', sex: 'F' });
    expect(start.event.times.started).to.equal('2026-11-23T08:45:00+01:00');
    expect(t.store.getInbound(start.journalId)).to.deep.include({ publishTopic: start.topic, contentType: 'application/vnd.passerelle.procedure+json' });
    // In progress: not told yet, however long it lasts.
    expect(notifyDueStudies(options(), new Date('2026-11-23T12:00:00Z')).notified).to.deep.equal([]);

    const onWorklist = () => t.store.imaging().worklist().map((step) => step.accessionNumber);
    expect(onWorklist()).to.deep.equal(['ACC-1']);
    const end = performedStepSet('1.2.826.0.1.99', ended('COMPLETED'), context);
    // Performed: off the worklist, and the order sent again does not put it back.
    expect(onWorklist()).to.deep.equal([]);
    indexOrders(t.store, Hl7Message.parse(decodeMessage(encodeMessage(ORDER, 'UNICODE UTF-8').bytes).text), { channel: 'hl7:test', site: 'test-site' });
    expect(onWorklist()).to.deep.equal([]);
    if (!('event' in end)) throw new Error('no event');
    expect(end.event).to.deep.include({ event: 'completed', accessionNumber: 'ACC-1', series: [{ instanceUid: '1.2.826.0.1.7.1', images: 2 }] });
    expect(end.event.times).to.deep.include({ started: '2026-11-23T08:45:00+01:00', ended: '2026-11-23T08:52:10+01:00' });

    const [told, ...more] = notifyDueStudies(options(), new Date('2026-11-23T07:53:00Z')).notified;
    expect(more).to.deep.equal([]);
    expect(told.topic).to.equal('passerelle/v1/test-site/imaging/XRAY1/result');
    expect(told.result).to.deep.include({ kind: 'imaging', status: 'final' });
    expect(told.result.patient).to.deep.include({ matched: true, matchedBy: 'order', name: { family: 'LEFÈVRE', given: ['Noël'] } });
    expect(told.result.order).to.deep.equal({ placerNumber: 'CMD-1', fillerNumber: 'ACC-1', accessionNumber: 'ACC-1', code: { code: 'RXTHORAX', display: 'Radiographie du thorax', system: 'L' } });
    expect(told.result.observations.map((o) => [o.deviceCode.code, o.value])).to.deep.equal([
      ['121022', 'ACC-1'], ['110180', STUDY], ['VIEWER-URL', `https://pacs/viewer?study=${STUDY}&acc=ACC-1`],
    ]);
    expect(told.result.times).to.deep.include({ collected: '2026-11-23T08:45:00+01:00', analysed: '2026-11-23T08:52:10+01:00' });
    expect(t.store.getInbound(told.journalId)).to.deep.include({ publishTopic: told.topic, resultId: told.result.id });
    // Once only.
    expect(notifyDueStudies(options(), new Date('2026-11-23T09:00:00Z'))).to.deep.equal({ notified: [], failed: [] });
  });

  it('refuses what the standard refuses: a create not IN PROGRESS, a duplicate, an unknown instance, a change after the end', () => {
    expect(performedStepCreated('1.2.826.0.1.98', created({ PerformedProcedureStepStatus: 'COMPLETED' }), context).status).to.equal(MppsStatus.InvalidAttributeValue);
    expect(performedStepCreated('not a uid', created(), context).status).to.equal(MppsStatus.InvalidAttributeValue);
    expect(performedStepCreated('1.2.826.0.1.98', created(), context).status).to.equal(MppsStatus.Success);
    expect(performedStepCreated('1.2.826.0.1.98', created(), context).status).to.equal(MppsStatus.DuplicateSopInstance);
    expect(performedStepSet('1.2.826.0.1.97', ended('COMPLETED'), context).status).to.equal(MppsStatus.NoSuchSopInstance);
    expect(performedStepSet('1.2.826.0.1.98', { PerformedProcedureStepStatus: 'PAUSED' }, context).status).to.equal(MppsStatus.InvalidAttributeValue);
    const update = performedStepSet('1.2.826.0.1.98', { PerformedProcedureStepDescription: 'Thorax face et profil' }, context);
    expect('event' in update && update.event).to.deep.include({ event: 'updated', procedure: { id: 'RP-1', stepId: 'SPS-1', description: 'Thorax face et profil' } });
    const stop = performedStepSet('1.2.826.0.1.98', ended('DISCONTINUED'), context);
    expect('event' in stop && stop.event).to.deep.include({ event: 'discontinued', reason: 'Incorrect worklist entry selected' });
    expect(performedStepSet('1.2.826.0.1.98', ended('COMPLETED'), context).status).to.equal(MppsStatus.MayNoLongerBeUpdated);
    // Discontinued: the step stays on the worklist, to be performed again.
    expect(t.store.imaging().worklist().map((step) => step.accessionNumber)).to.deep.equal(['ACC-1']);
    // Discontinued before any image: nothing for the record to view.
    expect(notifyDueStudies(options(), new Date('2026-11-23T09:00:00Z'))).to.deep.equal({ notified: [], failed: [] });
  });

  it('without MPPS: quiet for the quiet period after the last image; the order\'s patient, or the modality\'s held unmatched', () => {
    const store = (h: ObjectHeader, at: string) => journalStored(t.store, { path: '/x.dcm', size: 1, sha256: 'a'.repeat(64), header: h, receivedAt: new Date(at), callingAeTitle: 'XRAY1', calledAeTitle: 'PASSERELLE', peer: '127.0.0.1:1' }, { channel: 'dicom:test', site: 'test-site', timeZone: 'Europe/Paris' });
    store(header(STUDY, 'ACC-1'), '2026-11-23T07:50:00Z');
    store(header(STUDY, 'ACC-1'), '2026-11-23T07:51:00Z');
    store(header('1.2.826.0.1.8'), '2026-11-23T07:51:30Z');
    expect(notifyDueStudies(options(), new Date('2026-11-23T07:51:59Z')).notified).to.deep.equal([]);
    const first = notifyDueStudies(options(), new Date('2026-11-23T07:52:00Z')).notified;
    expect(first.map((n) => n.result.observations.find((o) => o.deviceCode.code === '110180')?.value)).to.deep.equal([STUDY]);
    expect(first[0].result.patient).to.deep.include({ matched: true, matchedBy: 'order' });
    expect(first[0].result.source).to.deep.include({ deviceId: 'XRAY1', deviceClass: 'modality', manufacturer: 'Agfa' });
    expect(first[0].result.times).to.deep.equal({ received: '2026-11-23T08:51:00.000+01:00' }); // the last image's arrival; no exam end without MPPS
    const second = notifyDueStudies(options(), new Date('2026-11-23T07:53:00Z')).notified;
    expect(second).to.have.length(1);
    expect(second[0].result.patient).to.deep.include({ matched: false, identifiers: [{ value: 'IPP-MODALITE' }] });
    expect(second[0].result.order).to.equal(undefined);
  });

  it('a study whose result cannot be made is set aside once and reported, the others told', () => {
    t.store.imaging().noteExam({ studyInstanceUid: '1.2.826.0.1.9', deviceId: 'XRAY1', status: 'COMPLETED', details: { received: 'not a time' } });
    t.store.imaging().noteExam({ studyInstanceUid: '1.2.826.0.1.10', deviceId: 'XRAY1', status: 'COMPLETED', details: { received: '2026-11-23T08:52:11+01:00' } });
    const due = notifyDueStudies(options(), new Date('2026-11-23T09:00:00Z'));
    expect(due.failed.map((f) => f.studyInstanceUid)).to.deep.equal(['1.2.826.0.1.9']);
    expect(due.failed[0].reason).to.match(/received/);
    expect(due.notified.map((n) => n.result.observations[0].value)).to.deep.equal(['1.2.826.0.1.10']);
    expect(notifyDueStudies(options(), new Date('2026-11-23T09:01:00Z'))).to.deep.equal({ notified: [], failed: [] });
  });

  it('fills the viewer link, encoded; none without a template', () => {
    expect(viewerLink('https://pacs/v?s={study}&p={patient}', { study: '1.2.3', patient: 'A B&C' })).to.equal('https://pacs/v?s=1.2.3&p=A%20B%26C');
    expect(viewerLink('', { study: '1.2.3' })).to.equal(undefined);
  });
});

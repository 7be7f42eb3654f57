/**
 * Modality Performed Procedure Step (PS3.4 annex F): the modality says the exam started
 * (N-CREATE, IN PROGRESS) and ended (N-SET, COMPLETED or DISCONTINUED). Each becomes a procedure
 * event (`passerelle.procedure/1`) on passerelle/v1/<site>/imaging/<device>/procedure, journaled
 * with the performed step and the study's state in one commit before the modality hears Success.
 */
import { randomUUID } from 'node:crypto';
import type { PerformedStatus, Store } from '../journal';
import { topicFor, topicLevel, type PatientIdentifier, type PersonName } from '../model';
import { instant, localTime, personName } from './imaging-event';
import { isUid } from './uids';
import type { NaturalDataset } from './worklist';

export const MODALITY_PERFORMED_PROCEDURE_STEP = '1.2.840.10008.3.1.2.3.3';
export const PROCEDURE_EVENT_SCHEMA = 'passerelle.procedure/1';
export const PROCEDURE_CONTENT_TYPE = 'application/vnd.passerelle.procedure+json';

/** N-CREATE / N-SET statuses (PS3.4 F.7.2.1.2, F.7.2.2.2; PS3.7 C). */
export const MppsStatus = {
  Success: 0x0000,
  InvalidAttributeValue: 0x0106,
  ProcessingFailure: 0x0110,
  DuplicateSopInstance: 0x0111,
  NoSuchSopInstance: 0x0112,
  MissingAttribute: 0x0120,
  /** The performed procedure step is no longer IN PROGRESS: it may not be changed. */
  MayNoLongerBeUpdated: 0xa710,
} as const;

/** 'updated': an N-SET that leaves the step IN PROGRESS (series added, a description). */
export type ProcedureEventType = 'started' | 'updated' | 'completed' | 'discontinued';

export interface ProcedureEvent {
  schema: typeof PROCEDURE_EVENT_SCHEMA;
  id: string;
  event: ProcedureEventType;
  mppsInstanceUid: string;
  source: { site: string; deviceId: string; callingAeTitle: string; calledAeTitle: string; stationAeTitle?: string; stationName?: string; protocol: 'dicom' };
  patient?: { identifiers: PatientIdentifier[]; name?: PersonName; birthDate?: string; sex?: 'F' | 'M' | 'O' };
  accessionNumber?: string;
  study?: { instanceUid: string };
  modality?: string;
  procedure?: { id?: string; stepId?: string; description?: string };
  /** Series and image counts the modality reports having made (N-SET, or N-CREATE). */
  series?: Array<{ instanceUid: string; images: number }>;
  /** Why a discontinued exam stopped (Code Meaning of the discontinuation reason). */
  reason?: string;
  times: { started?: string; ended?: string; received: string };
}

export interface MppsContext {
  store: Store;
  /** The inbound channel, e.g. dicom:<node id>. */
  channel: string;
  site: string;
  timeZone: string;
  callingAeTitle: string;
  calledAeTitle: string;
  /** The <device> of the topic; absent: the calling AE title. */
  deviceId?: string;
  now?: Date;
}

export type MppsOutcome =
  | { status: typeof MppsStatus.Success; topic: string; event: ProcedureEvent; journalId: string }
  | { status: number; comment: string };

const STATUSES: Record<string, PerformedStatus> = { 'IN PROGRESS': 'IN PROGRESS', COMPLETED: 'COMPLETED', DISCONTINUED: 'DISCONTINUED' };
const EVENTS: Record<PerformedStatus, ProcedureEventType> = { 'IN PROGRESS': 'started', COMPLETED: 'completed', DISCONTINUED: 'discontinued' };

/** N-CREATE: a new performed step, IN PROGRESS. */
export function performedStepCreated(mppsUid: string, dataset: NaturalDataset, context: MppsContext): MppsOutcome {
  if (!isUid(mppsUid)) return { status: MppsStatus.InvalidAttributeValue, comment: 'no valid MPPS SOP instance UID' };
  const status = STATUSES[text(dataset.PerformedProcedureStepStatus)?.toUpperCase() ?? ''];
  if (status !== 'IN PROGRESS') return { status: MppsStatus.InvalidAttributeValue, comment: 'an N-CREATE must be IN PROGRESS' };
  const imaging = context.store.imaging();
  if (imaging.performed(mppsUid)) return { status: MppsStatus.DuplicateSopInstance, comment: 'this MPPS instance exists already' };
  return record(mppsUid, status, dataset, context);
}

/** N-SET: the step changes, or ends COMPLETED / DISCONTINUED (then it is final). */
export function performedStepSet(mppsUid: string, changes: NaturalDataset, context: MppsContext): MppsOutcome {
  const known = context.store.imaging().performed(mppsUid);
  if (!known) return { status: MppsStatus.NoSuchSopInstance, comment: 'unknown MPPS instance' };
  if (known.status !== 'IN PROGRESS') return { status: MppsStatus.MayNoLongerBeUpdated, comment: `the step is ${known.status} already` };
  const given = text(changes.PerformedProcedureStepStatus)?.toUpperCase();
  const status = given === undefined ? known.status : STATUSES[given];
  if (!status) return { status: MppsStatus.InvalidAttributeValue, comment: `unknown status ${given ?? ''}` };
  // The step is what the N-CREATE said, with the N-SET's attributes over it.
  const merged = { ...(known.details as NaturalDataset), ...withoutEmpty(changes) };
  return record(mppsUid, status, merged, { ...context, deviceId: context.deviceId ?? known.deviceId }, status === 'IN PROGRESS' ? 'updated' : EVENTS[status]);
}

/** The step, the study's exam state and the event with its topic, in one commit. */
function record(mppsUid: string, status: PerformedStatus, dataset: NaturalDataset, context: MppsContext, type = EVENTS[status]): MppsOutcome {
  const event = { ...procedureEvent(mppsUid, status, dataset, context), event: type };
  const topic = topicFor({ site: context.site, kind: 'imaging', source: event.source.deviceId, event: 'procedure' });
  const now = (context.now ?? new Date()).getTime();
  const { store } = context;
  const journalId = store.transaction(() => {
    const imaging = store.imaging();
    imaging.recordPerformed({ mppsUid, status, deviceId: event.source.deviceId, accessionNumber: event.accessionNumber, studyInstanceUid: event.study?.instanceUid, details: dataset }, now);
    // A completed step leaves the worklist; a discontinued one stays, to be performed again.
    if (status === 'COMPLETED' && event.accessionNumber) imaging.stepPerformed(event.accessionNumber, event.procedure?.stepId, now);
    if (event.study) {
      imaging.noteExam({ studyInstanceUid: event.study.instanceUid, deviceId: event.source.deviceId, accessionNumber: event.accessionNumber, status, details: studyDetailsOf(event) });
    }
    return store.journalInbound({
      channel: context.channel, peer: context.callingAeTitle, contentType: PROCEDURE_CONTENT_TYPE, raw: Buffer.from(JSON.stringify(event)),
      status: 'accepted', publishTopic: topic, resultId: event.id,
    });
  });
  return { status: MppsStatus.Success, topic, event, journalId };
}

/** What a study's notification needs from its exam or images (see study-result.ts). */
export interface StudyDetails {
  patient?: ProcedureEvent['patient'];
  modality?: string;
  manufacturer?: string;
  model?: string;
  description?: string;
  started?: string;
  ended?: string;
  received: string;
  journalId?: string;
  /** The patient came from a device that knows them (a cart's INS or local id): the result is matched by it. */
  patientFromDevice?: boolean;
  /** The visit the study belongs to (a cart's teleconsultation): PV1 of the record's message. */
  encounter?: { id: string; location?: string };
}

function studyDetailsOf(event: ProcedureEvent): StudyDetails {
  const details: StudyDetails = { received: event.times.received };
  if (event.patient) details.patient = event.patient;
  if (event.modality) details.modality = event.modality;
  if (event.procedure?.description) details.description = event.procedure.description;
  if (event.times.started) details.started = event.times.started;
  if (event.times.ended) details.ended = event.times.ended;
  return details;
}

export function procedureEvent(mppsUid: string, status: PerformedStatus, d: NaturalDataset, context: MppsContext): ProcedureEvent {
  const tz = context.timeZone;
  const deviceId = context.deviceId || topicLevel(context.callingAeTitle);
  const event: ProcedureEvent = {
    schema: PROCEDURE_EVENT_SCHEMA,
    id: randomUUID(),
    event: EVENTS[status],
    mppsInstanceUid: mppsUid,
    source: { site: context.site, deviceId, callingAeTitle: context.callingAeTitle, calledAeTitle: context.calledAeTitle, protocol: 'dicom' },
    times: { received: localTime(context.now ?? new Date(), tz) },
  };
  const station = text(d.PerformedStationAETitle);
  if (station) event.source.stationAeTitle = station;
  const stationName = text(d.PerformedStationName);
  if (stationName) event.source.stationName = stationName;
  const patientId = text(d.PatientID);
  const name = personName(pn(d.PatientName));
  if (patientId || name) {
    event.patient = { identifiers: patientId ? [{ value: patientId, ...(text(d.IssuerOfPatientID) ? { authority: text(d.IssuerOfPatientID) } : {}) }] : [] };
    if (name) event.patient.name = name;
    const birth = /^(\d{4})(\d{2})(\d{2})$/.exec(text(d.PatientBirthDate) ?? '');
    if (birth) event.patient.birthDate = `${birth[1]}-${birth[2]}-${birth[3]}`;
    const sex = text(d.PatientSex)?.toUpperCase();
    if (sex === 'F' || sex === 'M' || sex === 'O') event.patient.sex = sex;
  }
  const scheduled = (Array.isArray(d.ScheduledStepAttributesSequence) ? d.ScheduledStepAttributesSequence[0] : undefined) as NaturalDataset | undefined;
  const accession = text(scheduled?.AccessionNumber) ?? text(d.AccessionNumber);
  if (accession) event.accessionNumber = accession;
  const study = text(scheduled?.StudyInstanceUID) ?? text(d.StudyInstanceUID);
  if (study && isUid(study)) event.study = { instanceUid: study };
  const modality = text(d.Modality);
  if (modality) event.modality = modality;
  const procedure: NonNullable<ProcedureEvent['procedure']> = {};
  const requested = text(scheduled?.RequestedProcedureID);
  if (requested) procedure.id = requested;
  const stepId = text(scheduled?.ScheduledProcedureStepID);
  if (stepId) procedure.stepId = stepId;
  const description = text(d.PerformedProcedureStepDescription) ?? text(scheduled?.RequestedProcedureDescription);
  if (description) procedure.description = description;
  if (Object.keys(procedure).length > 0) event.procedure = procedure;
  const series = (Array.isArray(d.PerformedSeriesSequence) ? d.PerformedSeriesSequence : []) as NaturalDataset[];
  const performed = series
    .filter((s) => isUid(text(s.SeriesInstanceUID) ?? ''))
    .map((s) => ({ instanceUid: text(s.SeriesInstanceUID)!, images: Array.isArray(s.ReferencedImageSequence) ? s.ReferencedImageSequence.length : 0 }));
  if (performed.length > 0) event.series = performed;
  const reason = (Array.isArray(d.PerformedProcedureStepDiscontinuationReasonCodeSequence) ? d.PerformedProcedureStepDiscontinuationReasonCodeSequence[0] : undefined) as NaturalDataset | undefined;
  if (status === 'DISCONTINUED' && reason) event.reason = text(reason.CodeMeaning) ?? text(reason.CodeValue);
  const started = instant(text(d.PerformedProcedureStepStartDate), text(d.PerformedProcedureStepStartTime), undefined, tz);
  if (started) event.times.started = started;
  const ended = instant(text(d.PerformedProcedureStepEndDate), text(d.PerformedProcedureStepEndTime), undefined, tz);
  if (ended && status !== 'IN PROGRESS') event.times.ended = ended;
  return event;
}

/** A dcmjs value as one trimmed string (first value), or undefined. */
function text(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined || first === null || typeof first === 'object') return undefined;
  const t = String(first).trim();
  return t === '' ? undefined : t;
}

function pn(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first === 'object' && first !== null) return (first as { Alphabetic?: string }).Alphabetic;
  return typeof first === 'string' ? first : undefined;
}

/** An N-SET's zero-length attributes do not erase what the N-CREATE gave. */
function withoutEmpty(changes: NaturalDataset): NaturalDataset {
  return Object.fromEntries(Object.entries(changes).filter(([k, v]) => k !== '_vrMap' && v !== '' && v !== null && !(Array.isArray(v) && v.length === 0)));
}

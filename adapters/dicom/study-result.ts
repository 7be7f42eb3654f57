/**
 * A finished study, told to the record: when MPPS says the exam is COMPLETED (or DISCONTINUED
 * with images), or when no image came for a quiet period (modalities without MPPS), the study
 * becomes a canonical result of kind `imaging` — the accession number, the Study Instance UID
 * and a link to view it as observations, the patient of its order — journaled with its topic
 * (passerelle/v1/<site>/imaging/<device>/result) in the outbox. The "to the record" node that
 * delivers every result builds the ORU and delivers it durably: there is no second HL7 sender.
 */
import { randomUUID } from 'node:crypto';
import type { ImagingOrder } from '../hl7/orders';
import type { ImagingStudy, Store } from '../journal';
import { topicFor, validateResult, type Observation, type Result } from '../model';
import { localTime } from './imaging-event';
import type { StudyDetails } from './mpps';

/** DICOM codes (PS3.16 DCM) for what the record is told. */
export const ACCESSION_NUMBER_CODE = { code: '121022', system: 'DCM', display: 'Accession Number' } as const;
export const STUDY_INSTANCE_UID_CODE = { code: '110180', system: 'DCM', display: 'Study Instance UID' } as const;
/** No standard code names "where to view it": the hub's own, as the model allows for device codes. */
export const VIEWER_LINK_CODE = { code: 'VIEWER-URL', system: '99PSL', display: 'Lien de visualisation' } as const;

export interface StudyNotifierOptions {
  store: Store;
  /** The outbox channel the results are journaled in (the node's). */
  channel: string;
  site: string;
  timeZone: string;
  /** A study with images and no exam in progress is complete after this long without a new image. */
  quietMs: number;
  /** The link to view a study: {study}, {accession} and {patient} are replaced, URL-encoded. */
  viewerUrl?: string;
}

export interface StudyNotification {
  topic: string;
  result: Result;
  journalId: string;
}

/** Fills a viewer URL template; undefined without a template. */
export function viewerLink(template: string | undefined, values: { study: string; accession?: string; patient?: string }): string | undefined {
  if (!template || template.trim() === '') return undefined;
  return template.replace(/\{(study|accession|patient)\}/g, (_m, key: 'study' | 'accession' | 'patient') => encodeURIComponent(values[key] ?? ''));
}

/** The record's notification of one study, a canonical result (validated). */
export function studyResult(study: ImagingStudy, order: ImagingOrder | undefined, options: Pick<StudyNotifierOptions, 'site' | 'timeZone' | 'viewerUrl'>, now: Date): Result {
  const details = study.details as StudyDetails;
  const accession = study.accessionNumber ?? order?.accessionNumber;
  const observations: Observation[] = [];
  const observedAt = details.ended ?? details.started;
  const observation = (deviceCode: Observation['deviceCode'], value: string): Observation => ({ deviceCode: { ...deviceCode }, valueType: 'ST', value, status: 'F', ...(observedAt ? { observedAt } : {}) });
  if (accession) observations.push(observation(ACCESSION_NUMBER_CODE, accession));
  observations.push(observation(STUDY_INSTANCE_UID_CODE, study.studyInstanceUid));
  const patientId = order?.patient.identifiers[0]?.value ?? details.patient?.identifiers[0]?.value;
  const link = viewerLink(options.viewerUrl, { study: study.studyInstanceUid, accession, patient: patientId });
  if (link) observations.push(observation(VIEWER_LINK_CODE, link));
  const result: Result = {
    schema: 'passerelle.result/1',
    id: randomUUID(),
    kind: 'imaging',
    status: 'final',
    source: { site: options.site, deviceClass: 'modality', deviceId: study.deviceId, protocol: 'dicom' },
    observations,
    // Received: when the hub had the exam's end (MPPS), else the study's last image.
    times: { received: details.ended || study.lastImageAt === undefined ? (details.received ?? localTime(now, options.timeZone)) : localTime(new Date(study.lastImageAt), options.timeZone) },
  };
  if (details.manufacturer) result.source.manufacturer = details.manufacturer;
  if (details.model) result.source.model = details.model;
  // The order's patient is the record's own; a cart's is identified (INS or local id) as for its vitals;
  // without either, the modality's is held until assigned.
  if (order) result.patient = { ...order.patient, matched: true, matchedBy: 'order' };
  else if (details.patient && details.patient.identifiers.length > 0) {
    result.patient = details.patientFromDevice ? { ...details.patient, matched: true, matchedBy: 'device' } : { ...details.patient, matched: false };
  }
  if (details.encounter) result.encounter = { ...details.encounter };
  const numbers: NonNullable<Result['order']> = {};
  if (order?.placerNumber) numbers.placerNumber = order.placerNumber;
  if (order?.fillerNumber) numbers.fillerNumber = order.fillerNumber;
  if (accession) numbers.accessionNumber = accession;
  if (order?.requestedProcedure.code) numbers.code = { ...order.requestedProcedure.code };
  if (Object.keys(numbers).length > 0) result.order = numbers;
  if (order?.orderedAt) result.times.ordered = order.orderedAt;
  // The exam's life in the result's moments (turnaround, docs/dicom.md): started → collected, ended → analysed.
  if (details.started) result.times.collected = details.started;
  if (details.ended) result.times.analysed = details.ended;
  if (details.journalId) result.raw = { journalId: details.journalId };
  return validateResult(result);
}

export interface DueStudies {
  notified: StudyNotification[];
  /** Studies whose result could not be made (marked, so they are not tried every sweep): to report. */
  failed: Array<{ studyInstanceUid: string; reason: string }>;
}

/**
 * Journals the results of the studies due now (completed by MPPS, or quiet for quietMs) and marks
 * them notified, each in one commit; returns what to publish. Safe to call often and from any
 * number of places: a study is notified once.
 */
export function notifyDueStudies(options: StudyNotifierOptions, now = new Date()): DueStudies {
  const { store } = options;
  const notified: StudyNotification[] = [];
  const failed: DueStudies['failed'] = [];
  for (const study of store.imaging().due(now.getTime() - options.quietMs)) {
    // A discontinued exam without images has nothing for the record to view.
    if (study.performedStatus === 'DISCONTINUED' && study.images === 0) {
      store.imaging().markNotified(study.studyInstanceUid, '', now.getTime());
      continue;
    }
    const order = study.accessionNumber ? (store.imaging().stepByAccession(study.accessionNumber)?.details as ImagingOrder | undefined) : undefined;
    let result: Result;
    try {
      result = studyResult(study, order, options, now);
    } catch (err) {
      store.imaging().markNotified(study.studyInstanceUid, '', now.getTime());
      failed.push({ studyInstanceUid: study.studyInstanceUid, reason: (err as Error).message });
      continue;
    }
    const topic = topicFor({ site: options.site, kind: 'imaging', source: study.deviceId, event: 'result' });
    const journalId = store.transaction(() => {
      if (!store.imaging().markNotified(study.studyInstanceUid, result.id, now.getTime())) return undefined;
      return store.journalInbound({
        channel: options.channel, peer: study.deviceId, contentType: 'application/json', raw: Buffer.from(JSON.stringify(result)),
        status: 'accepted', publishTopic: topic, resultId: result.id,
      });
    });
    if (journalId) notified.push({ topic, result, journalId });
  }
  return { notified, failed };
}

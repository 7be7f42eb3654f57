/**
 * How a stored object and a refused one enter the journal. The bytes stay in their file: the
 * journal holds a small JSON reference to it (path, size, SHA-256) under its own content type,
 * and, for a stored object, its imaging event to publish (the outbox), in the same commit.
 */
import type { Store } from '../journal';
import { topicFor, topicLevel, validateImagingEvent, type ImagingEvent, type Patient } from '../model';
import { buildImagingEvent } from './imaging-event';
import type { StudyDetails } from './mpps';
import type { RejectedObject, StoredObject } from './storage-scp';

export const DICOM_FILE_CONTENT_TYPE = 'application/vnd.passerelle.dicom-file+json';

export interface JournalContext {
  /** The inbound channel, e.g. dicom:<node id>. */
  channel: string;
  site: string;
  timeZone: string;
  /** The <device> of the topic; absent: the calling AE title. */
  deviceId?: string;
  /** For objects the hub made from a cart's input: its patient as the cart's vitals give it, its visit the teleconsultation. */
  cart?: { patient: Patient; encounter: { id: string; location?: string } };
}

export interface JournaledEvent {
  topic: string;
  event: ImagingEvent;
  /** The event's journal entry (the file's is event.raw.journalId). */
  journalId: string;
}

/** One commit: the file's reference, then its event with the topic it must be published on. */
export function journalStored(store: Store, object: StoredObject, context: JournalContext): JournaledEvent {
  const deviceId = context.deviceId || topicLevel(object.callingAeTitle);
  const topic = topicFor({ site: context.site, kind: 'imaging', source: deviceId, event: 'stored' });
  const file = { path: object.path, size: object.size, sha256: object.sha256, transferSyntaxUid: object.header.transferSyntaxUid };
  return store.transaction(() => {
    const fileId = store.journalInbound({
      channel: context.channel, peer: `${object.callingAeTitle}@${object.peer}`, contentType: DICOM_FILE_CONTENT_TYPE,
      raw: Buffer.from(JSON.stringify({ ...file, sopInstanceUid: object.header.values.SOPInstanceUID })), status: 'accepted',
    });
    const event = validateImagingEvent(buildImagingEvent(object.header, {
      site: context.site, deviceId, callingAeTitle: object.callingAeTitle, calledAeTitle: object.calledAeTitle, timeZone: context.timeZone,
      receivedAt: object.receivedAt, file, journalId: fileId,
    }));
    const journalId = store.journalInbound({
      channel: context.channel, peer: object.callingAeTitle, contentType: 'application/json', raw: Buffer.from(JSON.stringify(event)),
      status: 'accepted', publishTopic: topic, resultId: event.id,
    });
    // The study's progress towards the record's notification (study-result.ts).
    store.imaging().noteImage({ studyInstanceUid: event.study.instanceUid, deviceId, accessionNumber: event.accessionNumber, details: studyDetailsOf(event, journalId, context.cart) }, object.receivedAt.getTime());
    return { topic, event, journalId };
  });
}

/** The refusal, with where its bytes were kept aside (if any). */
export function journalRejected(store: Store, object: RejectedObject, channel: string): string {
  const raw = Buffer.from(JSON.stringify({ path: object.path, size: object.size, sopClassUid: object.sopClassUid, sopInstanceUid: object.sopInstanceUid }));
  return store.journalInbound({ channel, peer: `${object.callingAeTitle}@${object.peer}`, contentType: DICOM_FILE_CONTENT_TYPE, raw, status: 'rejected', error: object.reason });
}

function studyDetailsOf(event: ImagingEvent, journalId: string, cart: JournalContext['cart']): StudyDetails {
  const details: StudyDetails = { received: event.times.received, journalId };
  if (cart) {
    // The same identifiers (INS with its type and authority) as the teleconsultation's vitals.
    const { identifiers, name, birthDate, sex } = cart.patient;
    details.patient = { identifiers, ...(name ? { name } : {}), ...(birthDate ? { birthDate } : {}), ...(sex && sex !== 'U' ? { sex } : {}) };
    details.patientFromDevice = true;
    details.encounter = cart.encounter;
  }
  if (event.patient && !cart) details.patient = { ...event.patient, sex: event.patient.sex === 'U' ? undefined : event.patient.sex };
  if (event.modality) details.modality = event.modality;
  if (event.source.manufacturer) details.manufacturer = event.source.manufacturer;
  if (event.source.model) details.model = event.source.model;
  if (event.study.description) details.description = event.study.description;
  const started = event.times.study ?? event.times.series;
  if (started) details.started = started;
  return details;
}

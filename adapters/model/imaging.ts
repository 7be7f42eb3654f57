/**
 * The canonical imaging event, version 1: a DICOM object the hub has stored, as every Passerelle
 * node reads it. The JSON Schema in docs/schema/imaging-event.schema.json is the contract; these
 * types mirror it (test/adapters/dicom checks the example against both). See docs/dicom.md.
 */
import type { PatientIdentifier, PersonName } from './result';

export const IMAGING_EVENT_SCHEMA = 'passerelle.imaging/1';

/** What happened to the object; 'stored': received whole, on disk (fsynced) and journaled. */
export type ImagingEventType = 'stored';

export interface ImagingEvent {
  schema: typeof IMAGING_EVENT_SCHEMA;
  /** Unique per reception (a UUID): an object received twice gives two events. */
  id: string;
  event: ImagingEventType;
  source: {
    site: string;
    /** The site's name for the modality; also the <source> level of the topic. */
    deviceId: string;
    callingAeTitle: string;
    calledAeTitle: string;
    manufacturer?: string;
    model?: string;
    stationName?: string;
    protocol: 'dicom';
  };
  /** As the modality wrote it; never matched here (the worklist gave it, or the technician typed it). */
  patient?: {
    identifiers: PatientIdentifier[];
    name?: PersonName;
    birthDate?: string;
    sex?: 'F' | 'M' | 'O' | 'U';
  };
  accessionNumber?: string;
  study: { instanceUid: string; id?: string; description?: string };
  series: { instanceUid: string; number?: number; description?: string };
  instance: { sopClassUid: string; sopClassName?: string; sopInstanceUid: string; number?: number; frames?: number };
  modality?: string;
  bodyPart?: string;
  times: {
    study?: string;
    series?: string;
    acquired?: string;
    content?: string;
    /** When the hub had it stored. */
    received: string;
  };
  file: {
    /** Absolute path of the Part 10 file. */
    path: string;
    size: number;
    sha256: string;
    transferSyntaxUid: string;
  };
  /** (0008,0005) as the object declared it; names and text above are decoded with it. */
  characterSet?: string;
  raw?: { journalId?: string };
}
